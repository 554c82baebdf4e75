/*
 * ltrr-bench-retrieval - index build and arm latency on a synthetic
 * catalog.
 *
 *   ltrr-bench-retrieval [-n ENTITIES] [-q QUERIES] [-s SEED]
 *                        [-o FILE | -i FILE] [-a ARM]
 *
 * Reports the build time and peak RSS (unless -i names an existing
 * index, which is opened as it is and kept), then for each registered
 * arm (or only ARM) the
 * p50/p99 latency at k = 100 over queries drawn from the catalog's
 * names. The reference measured in the same run is a plain scan of the
 * same posting lists (reading every doc id and tf the arm reads, no
 * scoring): the ratio arm/scan says what the scoring and selection cost
 * on top of touching the data. It also reports what delta + varint
 * coding would save on the postings.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "arm.h"
#include "cli.h"
#include "index_int.h"
#include "synth.h"
#include "text.h"

#define K 100

/* Command line. */
typedef struct bopts_s {
        uint64_t n;        /* entities */
        uint32_t queries;  /* timed queries */
        uint64_t seed;     /* synthetic seed */
        const char *out;   /* index path */
        int reuse;         /* -i: open @c out as it is, keep it */
        const char *arm;   /* -a: only this arm, or NULL */
} bopts_t;

/* Monotonic nanoseconds. */
static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return (x > y) - (x < y);
}

static int cmp_dbl(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

/* Percentile @p p (0..100) of @p n sorted values. */
static uint64_t pct(const uint64_t *v, size_t n, double p)
{
        size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
        return v[i < n ? i : n - 1];
}

/* Builds the synthetic index; prints time and peak RSS. */
static int build(const bopts_t *o)
{
        char errstr[512];
        uint64_t t0 = now_ns();
        ltrr_catalog_t *cat = ltrr_catalog_new(0, errstr, sizeof(errstr));
        ltrr_synth_conf_t sc = {o->n, o->seed, ltrr_date_from_ymd(2026, 1, 1),
                                0};
        if (!cat || ltrr_synth_generate(&sc, ltrr_synth_to_catalog, cat,
                                        errstr, sizeof(errstr))) {
                fprintf(stderr, "catalog: %s\n", errstr);
                ltrr_catalog_destroy(cat);
                return -1;
        }
        uint64_t t1 = now_ns();
        ltrr_err_t err = ltrr_index_build(cat, NULL, o->out, errstr,
                                          sizeof(errstr));
        uint64_t t2 = now_ns();
        ltrr_catalog_destroy(cat);
        if (err) {
                fprintf(stderr, "build: %s\n", errstr);
                return -1;
        }
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("entities %llu\ngenerate_s %.2f\nindex_build_s %.2f\n"
               "total_build_s %.2f\npeak_rss_mib %ld\n",
               (unsigned long long)o->n, (double)(t1 - t0) / 1e9,
               (double)(t2 - t1) / 1e9, (double)(t2 - t0) / 1e9,
               ru.ru_maxrss / 1024);
        return 0;
}

/* Size of @p v as a LEB128 varint. */
static size_t varint_len(uint32_t v)
{
        size_t n = 1;
        while (v >= 0x80) {
                v >>= 7;
                n++;
        }
        return n;
}

/* Prints what delta + varint coding of doc ids and tfs would take. */
static void postings_sizes(const ltrr_index_t *ix)
{
        uint64_t plain = ix->post_cnt * sizeof(ltrr_index_post_t), vb = 0;
        for (uint32_t t = 0; t < ix->term_cnt; t++) {
                const ltrr_index_post_t *p = ix->posts + ix->terms[t].post_off;
                uint32_t prev = 0;
                for (uint32_t i = 0; i < ix->terms[t].df; i++) {
                        vb += varint_len(p[i].doc - prev);
                        prev = p[i].doc;
                        for (int f = 0; f < LTRR_INDEX_FIELDS; f++)
                                vb += varint_len(p[i].tf[f]);
                }
        }
        printf("postings %llu\npostings_plain_mib %.1f\n"
               "postings_varint_mib %.1f\nfile_mib %.1f\n",
               (unsigned long long)ix->post_cnt, (double)plain / 1048576.0,
               (double)vb / 1048576.0, (double)ix->size / 1048576.0);
}

/* Reference: reads every posting of the query's terms (no scoring). */
static uint64_t scan_ref(const ltrr_index_t *ix, const ltrr_tokbuf_t *tb,
                         uint64_t *sink)
{
        uint64_t t0 = now_ns(), s = 0;
        for (size_t i = 0; i < tb->cnt; i++) {
                const ltrr_index_term_t *t = ltrr_index_term_find(
                    ix, tb->toks[i].stem, tb->toks[i].stem_len);
                if (!t)
                        continue;
                const ltrr_index_post_t *p = ix->posts + t->post_off;
                for (uint32_t j = 0; j < t->df; j++)
                        s += p[j].doc + p[j].tf[0] + p[j].tf[1] + p[j].tf[2] +
                             p[j].tf[3];
        }
        *sink += s;
        return now_ns() - t0;
}

/* Written by the reference scan so the compiler cannot drop it. */
static volatile uint64_t bench_sink;

/* Timings of one arm over the query set. */
typedef struct timing_s {
        uint64_t *arm;     /* ns per query */
        uint64_t *ref;     /* ns of the reference scan */
        double *ratio;     /* arm / ref per query */
        uint64_t cands;    /* candidates returned, summed */
        uint64_t worst_ns; /* slowest query's time */
        const char *worst; /* slowest query */
} timing_t;

/* Draws query texts: names of entities picked by a fixed LCG. */
static void pick_queries(const ltrr_index_t *ix, const char **qs, uint32_t nq,
                         uint64_t seed)
{
        uint64_t x = seed * 6364136223846793005ull + 1442695040888963407ull;
        for (uint32_t i = 0; i < nq; i++) {
                ltrr_index_entity_t e;
                x = x * 6364136223846793005ull + 1442695040888963407ull;
                ltrr_index_entity(ix, (uint32_t)((x >> 33) % ix->n), &e);
                qs[i] = e.name;
        }
}

/* Times arm @p a on every query (after a warm-up pass). */
static int time_arm(const ltrr_index_t *ix, unsigned a, const char **qs,
                    uint32_t nq, timing_t *tm)
{
        static ltrr_token_t toks[LTRR_TEXT_TOKENS_MAX];
        static char arena[LTRR_TEXT_ARENA_SIZE];
        static ltrr_arm_cand_t out[K];
        static char norm[1024];
        char errstr[512];
        uint64_t sink = 0;
        ltrr_analyzer_t *an = ltrr_analyzer_new(ltrr_index_lang(ix), errstr,
                                                sizeof(errstr));
        ltrr_arm_scratch_t *scr = ltrr_arm_scratch_new();
        int rc = an && scr ? 0 : -1;
        for (int pass = 0; pass < 2 && !rc; pass++) {
                for (uint32_t i = 0; i < nq && !rc; i++) {
                        ltrr_tokbuf_t tb;
                        size_t cnt = 0;
                        ltrr_tokbuf_init(&tb, toks, LTRR_TEXT_TOKENS_MAX,
                                         arena, sizeof(arena));
                        ltrr_analyzer_analyze(an, qs[i], strlen(qs[i]), &tb,
                                              errstr, sizeof(errstr));
                        /* As serving calls it: with the normalized query
                         * (the exact-name pass needs it). */
                        if (ltrr_analyzer_normalize(an, qs[i], strlen(qs[i]),
                                                    norm, sizeof(norm), NULL,
                                                    errstr, sizeof(errstr)))
                                norm[0] = '\0';
                        ltrr_arm_query_t q = {tb.toks, tb.cnt,
                                              norm[0] ? norm : NULL};
                        uint64_t t0 = now_ns();
                        ltrr_err_t err = ltrr_arm_run(a, ix, &q, NULL, scr, K,
                                                      out, &cnt, errstr,
                                                      sizeof(errstr));
                        uint64_t dt = now_ns() - t0;
                        if (err == LTRR_ERR_STATE)
                                rc = 1; /* unavailable */
                        else if (err)
                                rc = -1;
                        if (pass == 0)
                                continue; /* warm-up */
                        tm->arm[i] = dt;
                        if (dt > tm->worst_ns) {
                                tm->worst_ns = dt;
                                tm->worst = qs[i];
                        }
                        tm->ref[i] = scan_ref(ix, &tb, &sink);
                        tm->ratio[i] = tm->ref[i] ? (double)dt /
                                                        (double)tm->ref[i]
                                                  : 0.0;
                        tm->cands += cnt;
                }
        }
        if (rc < 0)
                fprintf(stderr, "arm %s: %s\n", ltrr_arm_get(a)->name, errstr);
        ltrr_analyzer_destroy(an);
        ltrr_arm_scratch_destroy(scr);
        bench_sink += sink; /* keeps the scan from being optimised out */
        return rc;
}

/* Prints the percentiles of one arm. */
static void report_arm(const char *name, timing_t *tm, uint32_t nq)
{
        qsort(tm->arm, nq, sizeof(uint64_t), cmp_u64);
        qsort(tm->ref, nq, sizeof(uint64_t), cmp_u64);
        qsort(tm->ratio, nq, sizeof(double), cmp_dbl);
        printf("arm %s k %d queries %u p50_us %.1f p99_us %.1f max_us %.1f "
               "mean_cands %.1f\n",
               name, K, nq, pct(tm->arm, nq, 50) / 1e3,
               pct(tm->arm, nq, 99) / 1e3, tm->arm[nq - 1] / 1e3,
               (double)tm->cands / nq);
        printf("slowest %s %.1f_us \"%s\"\n", name, tm->worst_ns / 1e3,
               tm->worst);
        printf("ref %s posting_scan p50_us %.1f p99_us %.1f "
               "ratio_p50 %.1f ratio_p99_over_scan_p99 %.1f\n",
               name, pct(tm->ref, nq, 50) / 1e3, pct(tm->ref, nq, 99) / 1e3,
               tm->ratio[nq / 2],
               (double)pct(tm->arm, nq, 99) /
                   (double)(pct(tm->ref, nq, 99) ? pct(tm->ref, nq, 99) : 1));
}

/* Parses the command line into @p o. */
static int parse(int argc, char **argv, bopts_t *o)
{
        int c;
        o->n = 1000000;
        o->queries = 5000;
        o->seed = 1;
        o->out = "/tmp/ltrr-bench-retrieval.idx";
        o->reuse = 0;
        o->arm = NULL;
        while ((c = getopt(argc, argv, "n:q:s:o:i:a:")) != -1) {
                if (c == 'n')
                        o->n = strtoull(optarg, NULL, 10);
                else if (c == 'q')
                        o->queries = (uint32_t)strtoul(optarg, NULL, 10);
                else if (c == 's')
                        o->seed = strtoull(optarg, NULL, 10);
                else if (c == 'o' || c == 'i') {
                        o->out = optarg;
                        o->reuse = c == 'i';
                } else if (c == 'a')
                        o->arm = optarg;
                else
                        return -1;
        }
        return o->n && o->queries ? 0 : -1;
}

int main(int argc, char **argv)
{
        bopts_t o;
        char errstr[512];
        if (ltrr_cli_wants_help(argc, argv) || parse(argc, argv, &o)) {
                int help = ltrr_cli_wants_help(argc, argv);

                fprintf(help ? stdout : stderr,
                        "usage: ltrr-bench-retrieval [-n ENTITIES] "
                        "[-q QUERIES] [-s SEED] [-o FILE | -i FILE] "
                        "[-a ARM]\n"
                        "  -n  synthetic entities (default 1000000)\n"
                        "  -q  queries timed (default 5000)\n"
                        "  -s  catalog seed (default 1)\n"
                        "  -o  index file written, removed at the end "
                        "(default /tmp/ltrr-bench-retrieval.idx)\n"
                        "  -i  existing index file used as it is "
                        "(not built, kept)\n"
                        "  -a  time this arm only (default: every arm)\n");
                return help ? 0 : 2;
        }
        if (!o.reuse && build(&o))
                return 1;
        uint64_t t0 = now_ns();
        ltrr_index_t *ix = ltrr_index_open(o.out, errstr, sizeof(errstr));
        uint64_t t1 = now_ns();
        if (!ix || ltrr_index_verify(ix, errstr, sizeof(errstr))) {
                fprintf(stderr, "open: %s\n", errstr);
                ltrr_index_destroy(ix);
                return 1;
        }
        printf("open_fast_ms %.2f\nverify_full_ms %.2f\n", (t1 - t0) / 1e6,
               (now_ns() - t1) / 1e6);
        postings_sizes(ix);
        const char **qs = calloc(o.queries, sizeof(*qs));
        timing_t tm = {calloc(o.queries, 8), calloc(o.queries, 8),
                       calloc(o.queries, sizeof(double)), 0, 0, NULL};
        int rc = !qs || !tm.arm || !tm.ref || !tm.ratio;
        if (!rc)
                pick_queries(ix, qs, o.queries, o.seed);
        for (unsigned a = 0; !rc && a < ltrr_arm_count(); a++) {
                if (o.arm && strcmp(o.arm, ltrr_arm_get(a)->name) != 0)
                        continue;
                tm.cands = 0;
                tm.worst_ns = 0;
                int r = time_arm(ix, a, qs, o.queries, &tm);
                if (r == 0)
                        report_arm(ltrr_arm_get(a)->name, &tm, o.queries);
                else if (r > 0)
                        printf("arm %s unavailable\n", ltrr_arm_get(a)->name);
                else
                        rc = 1;
        }
        free(tm.arm);
        free(tm.ref);
        free(tm.ratio);
        free(qs);
        ltrr_index_destroy(ix);
        if (!o.reuse)
                unlink(o.out);
        return rc;
}
