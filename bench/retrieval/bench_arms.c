/*
 * ltrr-bench-arms - latency of the lexical, popular, structured, fresh,
 * personal and memory arms (and fuzzy and semantic when the index has
 * their sections: ltrr-bench-ann builds one) at k = 100 on a synthetic
 * index built with the arms' sections.
 *
 *   ltrr-bench-arms [--n N] [--seed S] [--queries Q] [--index PATH]
 *                   [--arm NAME] [--check Q] [--slow US] [--dump FILE]
 *                   [--query TEXT]
 *
 * --check Q first compares, on Q queries, the lexical pass filtered to
 * entities of the last year with the unfiltered pass filtered
 * afterwards (same entities, same scores), and with the recent pass of
 * ltrr_arm_lex_recent(), and exits 2 on a mismatch.
 *
 * Builds PATH (default /tmp/ltrr-bench-arms.idx) unless it exists, then
 * runs every arm on Q queries drawn from the catalog (whole names, an
 * artist word plus a title word, single name words, 1..3 character
 * prefixes; "<attribute> [<name word>]" for structured) and prints, per
 * arm, p50 and p99 of the thread CPU time and of the wall time in
 * microseconds, overall and per query class. --slow US prints every
 * timed query that took more CPU time; --dump FILE writes every timed
 * query's answer (arm, query, then entity:score per rank) so that two
 * binaries can be compared on the same index; --query TEXT times that
 * one query in place of every drawn one (for perf). The machine may be
 * shared: CPU time leaves out the time
 * the thread waited for a core, and the reference loop timed before and
 * after the arms gives a machine-speed yardstick (p99_cpu_ref is the
 * arm's p99 CPU time in reference loops).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "arm.h"
#include "arm_state.h"
#include "cli.h"
#include "index.h"
#include "synth.h"
#include "text.h"

#define K 100

/* Options. */
typedef struct bopts_s {
        uint64_t n;          /* entities */
        uint64_t seed;       /* generator seed */
        uint32_t nq;         /* queries */
        const char *path;    /* index file */
        const char *arm;     /* only this arm, or NULL for all */
        uint32_t check;      /* queries of the filtered-lexical check */
        uint64_t slow_us;    /* print queries slower than this, 0 none */
        const char *dump;    /* answers file, or NULL */
        const char *query;   /* time only this query, or NULL */
} bopts_t;

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return (x > y) - (x < y);
}

/* Builds the synthetic index with the arms' sections. */
static int build(const bopts_t *o)
{
        char errstr[512];
        ltrr_index_extra_t extra[LTRR_INDEX_EXTRA_MAX];
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
        ltrr_arm_sections_t *as = ltrr_arm_sections_new(cat, "en", errstr,
                                                        sizeof(errstr));
        uint64_t t2 = now_ns();
        ltrr_index_build_conf_t bc = {.lang = "en"};
        bc.extra = extra;
        bc.extra_cnt = ltrr_arm_sections_extra_all(as, extra,
                                               LTRR_INDEX_EXTRA_MAX);
        ltrr_err_t err = as ? ltrr_index_build(cat, &bc, o->path, errstr,
                                               sizeof(errstr))
                            : LTRR_ERR_NOMEM;
        uint64_t t3 = now_ns();
        ltrr_arm_sections_destroy(as);
        ltrr_catalog_destroy(cat);
        if (err) {
                fprintf(stderr, "build: %s\n", errstr);
                return -1;
        }
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("entities %llu\ngenerate_s %.2f\narm_sections_s %.2f\n"
               "index_build_s %.2f\npeak_rss_mib %ld\n",
               (unsigned long long)o->n, (double)(t1 - t0) / 1e9,
               (double)(t2 - t1) / 1e9, (double)(t3 - t2) / 1e9,
               ru.ru_maxrss / 1024);
        return 0;
}

/* Next value of the query generator @p x. */
static uint64_t lcg(uint64_t *x)
{
        *x = *x * 6364136223846793005ull + 1442695040888963407ull;
        return *x >> 11;
}

/* Copies word @p w (0-based, space separated) of @p s into @p buf, or
 * the first word when @p s has fewer words. */
static void word_of(const char *s, unsigned w, char *buf, size_t size)
{
        const char *p = s, *best = s;
        for (unsigned i = 0; *p; i++) {
                const char *sp = strchr(p, ' ');
                size_t len = sp ? (size_t)(sp - p) : strlen(p);
                if (i == w || i == 0)
                        best = p;
                if (i == w)
                        break;
                p += len + (sp ? 1 : 0);
        }
        const char *e = strchr(best, ' ');
        snprintf(buf, size, "%.*s", (int)(e ? e - best : (long)strlen(best)),
                 best);
}

/* Query text for arm @p arm into @p buf, drawn from the catalog: a
 * name, an artist word + a title word, one name word (frequent words
 * come up often), or a 1..3 character prefix of a name; structured
 * queries put an attribute word in front. Returns the query class
 * (0..3). */
static int make_query(const ltrr_index_t *ix, const char *arm, uint64_t *x,
                      char *buf, size_t size)
{
        static const char *const attrs[] = {"rock", "jazz", "90s", "podcast",
                                            "chill", "2019", "pop"};
        ltrr_index_entity_t e;
        char w1[128], w2[128];
        ltrr_index_entity(ix, (uint32_t)(lcg(x) % ltrr_index_count(ix)), &e);
        int cls = (int)(lcg(x) % 4);
        word_of(e.name, (unsigned)(lcg(x) % 4), w1, sizeof(w1));
        if (strcmp(arm, "structured") == 0) {
                snprintf(buf, size, "%s%s%s", attrs[lcg(x) % 7],
                         cls % 2 ? " " : "", cls % 2 ? w1 : "");
                return cls;
        }
        switch (cls) {
        case 0:
                snprintf(buf, size, "%s", e.name);
                break;
        case 1:
                word_of(e.artists, 0, w2, sizeof(w2));
                snprintf(buf, size, "%s %s", w2, w1);
                break;
        case 2:
                snprintf(buf, size, "%s", w1);
                break;
        default:
                snprintf(buf, size, "%.*s", 1 + (int)(lcg(x) % 3), e.name);
                break;
        }
        return cls;
}

/* Names of make_query()'s query classes (structured: odd classes add a
 * name word to the attribute). */
static const char *const class_names[4] = {"name", "artist+word", "word",
                                           "prefix"};

/* Thread CPU nanoseconds. */
static uint64_t cpu_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Per-run state. */
typedef struct run_s {
        ltrr_analyzer_t *an;
        ltrr_arm_scratch_t *scr;
        ltrr_token_t toks[LTRR_TEXT_TOKENS_MAX];
        char arena[LTRR_TEXT_ARENA_SIZE];
        char norm[512];
        ltrr_arm_cand_t out[K];
        ltrr_arm_ctx_t ctx;
        uint64_t *wall;   /* per-query wall ns */
        uint64_t *cpu;    /* per-query thread CPU ns */
        uint64_t *ccpu[4]; /* per-query thread CPU ns by query class */
        uint32_t cm[4];    /* entries in ccpu[c] */
        uint64_t slow_ns;  /* print queries above this CPU time, 0 none */
        const char *query; /* the one query timed, or NULL */
        FILE *dump;        /* answers of timed queries, or NULL */
        uint32_t ref_buf[4096]; /* data of the reference loop */
        uint64_t ref_cpu; /* median CPU ns of the reference loop */
        uint64_t ref_wall; /* median wall ns of the reference loop */
} run_t;

/* The reference loop: a fixed amount of dependent integer work over a
 * cache-resident array (about 100 us); its cost tracks how fast this
 * machine runs right now. Returns a value the compiler must keep. */
static uint32_t ref_loop(run_t *r)
{
        uint32_t h = 2166136261u, i = 0;
        for (int rep = 0; rep < 40; rep++)
                for (size_t j = 0; j < 4096; j++) {
                        i = (i + r->ref_buf[j] + h) & 4095;
                        h = (h ^ r->ref_buf[i]) * 16777619u;
                }
        return h;
}

/* Times the reference loop 201 times; keeps the medians in @p r. */
static void time_ref(run_t *r)
{
        uint64_t w[201], c[201];
        volatile uint32_t sink = 0;
        for (size_t j = 0; j < 4096; j++)
                r->ref_buf[j] = (uint32_t)(j * 2654435761u);
        for (int i = 0; i < 201; i++) {
                uint64_t t0 = now_ns(), c0 = cpu_ns();
                sink ^= ref_loop(r);
                c[i] = cpu_ns() - c0;
                w[i] = now_ns() - t0;
        }
        (void)sink;
        qsort(w, 201, sizeof(w[0]), cmp_u64);
        qsort(c, 201, sizeof(c[0]), cmp_u64);
        r->ref_wall = w[100];
        r->ref_cpu = c[100];
        printf("reference cpu_us %.1f wall_us %.1f\n", r->ref_cpu / 1e3,
               r->ref_wall / 1e3);
}

/* Value at quantile @p q of sorted @p v (m entries), in microseconds. */
static double q_us(const uint64_t *v, uint32_t m, double q)
{
        return v[(size_t)(q * (m - 1))] / 1e3;
}

/* Runs one query of arm @p id; adds its times at *m when @p keep. */
static void one_query(const ltrr_index_t *ix, run_t *r, int id,
                      const char *q, int cls, int keep, uint32_t *m,
                      uint64_t *cands, uint32_t *unavail)
{
        char errstr[256];
        ltrr_tokbuf_t tb;
        size_t cnt = 0;
        ltrr_tokbuf_init(&tb, r->toks, LTRR_TEXT_TOKENS_MAX, r->arena,
                         sizeof(r->arena));
        ltrr_analyzer_analyze(r->an, q, strlen(q), &tb, NULL, 0);
        ltrr_analyzer_normalize(r->an, q, strlen(q), r->norm, sizeof(r->norm),
                                NULL, NULL, 0);
        ltrr_arm_query_t aq = {tb.toks, tb.cnt, r->norm};
        uint64_t t0 = now_ns(), c0 = cpu_ns();
        ltrr_err_t err = ltrr_arm_run((unsigned)id, ix, &aq, &r->ctx, r->scr,
                                      K, r->out, &cnt, errstr,
                                      sizeof(errstr));
        uint64_t dc = cpu_ns() - c0, dt = now_ns() - t0;
        if (!keep)
                return;
        r->wall[*m] = dt;
        r->cpu[(*m)++] = dc;
        r->ccpu[cls & 3][r->cm[cls & 3]++] = dc;
        if (r->slow_ns && dc > r->slow_ns)
                fprintf(stderr, "slow %s class %d cpu_us %.0f \"%s\"\n",
                        ltrr_arm_get((unsigned)id)->name, cls, dc / 1e3, q);
        *unavail += err == LTRR_ERR_STATE;
        *cands += cnt;
        if (!r->dump)
                return;
        fprintf(r->dump, "%s\t%s\t%d", ltrr_arm_get((unsigned)id)->name, q,
                (int)err);
        for (size_t j = 0; j < cnt; j++)
                fprintf(r->dump, " %u:%.9g", r->out[j].ent,
                        (double)r->out[j].score);
        fputc('\n', r->dump);
}

/* Times arm @p name over @p nq queries (after a warm-up pass over the
 * same queries); prints CPU and wall p50/p99 and the p50 CPU time in
 * reference loops. */
static void time_arm(const ltrr_index_t *ix, run_t *r, const char *name,
                     uint32_t nq)
{
        char q[512];
        int id = ltrr_arm_find(name);
        uint64_t cands = 0;
        uint32_t unavail = 0, m = 0;
        if (id < 0)
                return;
        memset(r->cm, 0, sizeof(r->cm));
        for (int pass = 0; pass < 2; pass++) {
                uint64_t x = 42;
                for (uint32_t i = 0; i < nq; i++) {
                        int cls = make_query(ix, name, &x, q, sizeof(q));
                        if (r->query)
                                snprintf(q, sizeof(q), "%s", r->query);
                        one_query(ix, r, id, q, cls, pass, &m, &cands,
                                  &unavail);
                }
        }
        qsort(r->wall, m, sizeof(r->wall[0]), cmp_u64);
        qsort(r->cpu, m, sizeof(r->cpu[0]), cmp_u64);
        printf("arm %-10s cpu_p50_us %7.1f cpu_p99_us %7.1f "
               "wall_p50_us %7.1f wall_p99_us %7.1f max_wall_us %7.1f "
               "p99_cpu_ref %.4f mean_cands %5.1f unavailable %u/%u\n",
               name, q_us(r->cpu, m, 0.5), q_us(r->cpu, m, 0.99),
               q_us(r->wall, m, 0.5), q_us(r->wall, m, 0.99),
               q_us(r->wall, m, 1.0),
               (double)r->cpu[(size_t)(0.99 * (m - 1))] / (double)r->ref_cpu,
               (double)cands / m, unavail, m);
        for (int c = 0; c < 4; c++) {
                if (!r->cm[c])
                        continue;
                qsort(r->ccpu[c], r->cm[c], sizeof(uint64_t), cmp_u64);
                printf("  class %d (%s) queries %4u cpu_p50_us %7.1f "
                       "cpu_p99_us %7.1f\n", c, class_names[c], r->cm[c],
                       q_us(r->ccpu[c], r->cm[c], 0.5),
                       q_us(r->ccpu[c], r->cm[c], 0.99));
        }
}

/* Filter of check_filtered(): entity released on or after *opaque. */
static int keep_recent(const void *opaque, const ltrr_index_t *ix,
                       uint32_t ent)
{
        ltrr_index_entity_t e;
        return ltrr_index_entity(ix, ent, &e) == LTRR_OK &&
               e.release_prec != LTRR_DATE_NONE &&
               e.release_days >= *(const int32_t *)opaque;
}

/* Compares the recent pass (ltrr_arm_lex_recent()) with the filtered
 * pass's @p nf results in r->out: the same entities and scores, rank by
 * rank. Returns 1 on a mismatch. */
static int check_recent(const ltrr_index_t *ix, run_t *r,
                        const ltrr_arm_query_t *aq, int32_t since, size_t nf)
{
        static ltrr_arm_cand_t rec[K];
        char errstr[256];
        size_t nr = 0, j = 0;
        if (ltrr_arm_lex_recent(ix, aq, NULL, r->scr, 0, keep_recent,
                                &since, since, K, rec, &nr, errstr,
                                sizeof(errstr)) != LTRR_OK)
                return 1;
        for (; j < nr && j < nf; j++)
                if (rec[j].ent != r->out[j].ent &&
                    fabsf(rec[j].score - r->out[j].score) >
                        1e-5f * r->out[j].score)
                        break;
        if (j != nr || nr != nf)
                fprintf(stderr, "check: recent pass differs at rank %zu of "
                        "%zu/%zu: %u %g vs %u %g\n", j, nr, nf,
                        j < nr ? rec[j].ent : 0, j < nr ? rec[j].score : 0.0,
                        j < nf ? r->out[j].ent : 0,
                        j < nf ? r->out[j].score : 0.0);
        return j != nr || nr != nf;
}

/* Checks on @p nq queries that the filtered lexical pass returns the
 * same scores, rank by rank, as the unfiltered arm with k = 10000
 * filtered afterwards (when that list is not cut off). Returns the
 * number of mismatching queries. */
static uint32_t check_filtered(const ltrr_index_t *ix, run_t *r,
                               uint32_t nq)
{
        static ltrr_arm_cand_t all[LTRR_ARM_K_MAX];
        char q[512], errstr[256];
        uint64_t x = 7;
        uint32_t bad = 0, checked = 0;
        int32_t since = r->ctx.today_days - 365;
        for (uint32_t i = 0; i < nq; i++) {
                ltrr_tokbuf_t tb;
                size_t na = 0, nf = 0, m = 0;
                make_query(ix, "lexical", &x, q, sizeof(q));
                ltrr_tokbuf_init(&tb, r->toks, LTRR_TEXT_TOKENS_MAX,
                                 r->arena, sizeof(r->arena));
                ltrr_analyzer_analyze(r->an, q, strlen(q), &tb, NULL, 0);
                ltrr_arm_query_t aq = {tb.toks, tb.cnt, NULL};
                if (ltrr_arm_lex_filtered(ix, &aq, NULL, r->scr, 0, NULL,
                                          NULL, 0, LTRR_ARM_K_MAX, all, &na,
                                          errstr, sizeof(errstr)) ||
                    na == LTRR_ARM_K_MAX ||
                    ltrr_arm_lex_filtered(ix, &aq, NULL, r->scr, 0,
                                          keep_recent, &since, (int)(i % 2),
                                          K, r->out, &nf, errstr,
                                          sizeof(errstr))) {
                        continue;
                }
                checked++;
                for (size_t j = 0; j < na && m < K; j++) {
                        if (!keep_recent(&since, ix, all[j].ent))
                                continue;
                        /* equal scores may rank either way: the order
                         * of float sums differs between the passes */
                        if (m >= nf || fabsf(r->out[m].score - all[j].score) >
                                           1e-5f * all[j].score)
                                break;
                        m++;
                }
                if (m != nf)
                        fprintf(stderr, "check: \"%s\" differs at rank %zu "
                                "of %zu\n", q, m, nf);
                bad += m != nf;
        }
        printf("check filtered_lexical queries %u mismatches %u\n", checked,
               bad);
        x = 7;
        since = r->ctx.today_days - LTRR_ARM_FRESH_DAYS;
        uint32_t rbad = 0;
        for (uint32_t i = 0; i < nq; i++) {
                ltrr_tokbuf_t tb;
                size_t nf = 0;
                make_query(ix, "lexical", &x, q, sizeof(q));
                ltrr_tokbuf_init(&tb, r->toks, LTRR_TEXT_TOKENS_MAX,
                                 r->arena, sizeof(r->arena));
                ltrr_analyzer_analyze(r->an, q, strlen(q), &tb, NULL, 0);
                ltrr_arm_query_t aq = {tb.toks, tb.cnt, NULL};
                if (ltrr_arm_lex_filtered(ix, &aq, NULL, r->scr, 0,
                                          keep_recent, &since, 1, K, r->out,
                                          &nf, errstr, sizeof(errstr)) ||
                    check_recent(ix, r, &aq, since, nf)) {
                        fprintf(stderr, "check: recent \"%s\"\n", q);
                        rbad++;
                }
        }
        printf("check recent_lexical queries %u mismatches %u\n", nq, rbad);
        return bad + rbad;
}

int main(int argc, char **argv)
{
        bopts_t o = {1000000, 1, 2000, "/tmp/ltrr-bench-arms.idx", NULL,
                     0, 0, NULL, NULL};
        char errstr[512];
        int i;

        if (ltrr_cli_wants_help(argc, argv) || argc % 2 == 0) {
                int help = ltrr_cli_wants_help(argc, argv);

                fprintf(help ? stdout : stderr,
                        "usage: ltrr-bench-arms [--n ENTITIES] [--seed S] "
                        "[--queries Q] [--index FILE] [--arm NAME] "
                        "[--check Q] [--slow US] [--dump FILE] "
                        "[--query TEXT]\n"
                        "  --n        synthetic entities (default 1000000)\n"
                        "  --seed     catalog seed (default 1)\n"
                        "  --queries  queries timed per arm (default 2000)\n"
                        "  --index    index file, built if missing "
                        "(default /tmp/ltrr-bench-arms.idx)\n"
                        "  --arm      time one arm only (default: all)\n"
                        "  --check    compare filtered and unfiltered lexical "
                        "passes on Q queries\n"
                        "  --slow     print (stderr) every timed query above "
                        "US microseconds of CPU\n"
                        "  --dump     write every timed query's answer to "
                        "FILE\n"
                        "  --query    time only TEXT, Q times (its class "
                        "is that of the query it replaces)\n");
                return help ? 0 : 2;
        }
        for (i = 1; i + 1 < argc; i += 2) {
                if (strcmp(argv[i], "--n") == 0)
                        o.n = strtoull(argv[i + 1], NULL, 10);
                else if (strcmp(argv[i], "--seed") == 0)
                        o.seed = strtoull(argv[i + 1], NULL, 10);
                else if (strcmp(argv[i], "--queries") == 0)
                        o.nq = (uint32_t)strtoul(argv[i + 1], NULL, 10);
                else if (strcmp(argv[i], "--index") == 0)
                        o.path = argv[i + 1];
                else if (strcmp(argv[i], "--arm") == 0)
                        o.arm = argv[i + 1];
                else if (strcmp(argv[i], "--check") == 0)
                        o.check = (uint32_t)strtoul(argv[i + 1], NULL, 10);
                else if (strcmp(argv[i], "--slow") == 0)
                        o.slow_us = strtoull(argv[i + 1], NULL, 10);
                else if (strcmp(argv[i], "--dump") == 0)
                        o.dump = argv[i + 1];
                else if (strcmp(argv[i], "--query") == 0)
                        o.query = argv[i + 1];
                else {
                        fprintf(stderr, "ltrr-bench-arms: unknown option "
                                        "%s (try --help)\n", argv[i]);
                        return 2;
                }
        }
        if (o.nq == 0 || (access(o.path, R_OK) != 0 && build(&o) != 0))
                return 1;
        ltrr_index_t *ix = ltrr_index_open(o.path, errstr, sizeof(errstr));
        run_t *r = calloc(1, sizeof(*r));

        ltrr_user_profile_t *p = ltrr_user_profile_new();
        if (r) {
                r->wall = calloc(o.nq, sizeof(*r->wall));
                r->cpu = calloc(o.nq, sizeof(*r->cpu));
                for (int c = 0; c < 4; c++)
                        r->ccpu[c] = calloc(o.nq, sizeof(uint64_t));
        }
        if (!ix || !r || !r->wall || !r->cpu || !r->ccpu[0] ||
            !r->ccpu[1] || !r->ccpu[2] || !r->ccpu[3] || !p) {
                fprintf(stderr, "open: %s\n", ix ? "out of memory" : errstr);
                return 1;
        }
        r->an = ltrr_analyzer_new("en", errstr, sizeof(errstr));
        r->scr = ltrr_arm_scratch_new();
        r->slow_ns = o.slow_us * 1000;
        r->query = o.query;
        if (o.dump && !(r->dump = fopen(o.dump, "w"))) {
                fprintf(stderr, "dump: cannot write %s\n", o.dump);
                return 1;
        }
        for (uint32_t i = 0; i < 50; i++)
                ltrr_user_profile_add(p, 0, (i * 7919u) % ltrr_index_count(ix),
                                      1.0f + (float)i);
        for (uint32_t g = 0; g < 3; g++)
                ltrr_user_profile_add(p, 2, g, 1.0f);
        ltrr_user_profile_derive(p, ix);
        r->ctx.today_days = ltrr_date_from_ymd(2026, 1, 1);
        r->ctx.profile = p;
        const char *arms[] = {"lexical", "popular", "structured", "fresh",
                              "personal", "memory", "fuzzy", "semantic"};
        if (o.check && check_filtered(ix, r, o.check) != 0)
                return 2;
        time_ref(r);
        for (size_t a = 0; a < sizeof(arms) / sizeof(arms[0]); a++)
                if (!o.arm || strcmp(o.arm, arms[a]) == 0)
                        time_arm(ix, r, arms[a], o.nq);
        time_ref(r);
        if (r->dump)
                fclose(r->dump);
        ltrr_user_profile_destroy(p);
        ltrr_analyzer_destroy(r->an);
        ltrr_arm_scratch_destroy(r->scr);
        free(r->wall);
        free(r->cpu);
        for (int c = 0; c < 4; c++)
                free(r->ccpu[c]);
        free(r);
        ltrr_index_destroy(ix);
        return 0;
}
