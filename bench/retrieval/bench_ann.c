/*
 * ltrr-bench-ann - ANN build cost, recall and the fuzzy and semantic
 * arms' latency on a synthetic catalog.
 *
 *   ltrr-bench-ann [-n ENTITIES] [-q QUERIES] [-d DIM] [-s SEED]
 *                  [-o FILE] [-r 1] [-t THREADS] [-e EF_CONSTRUCTION]
 *                  [-f FUZZY_DIM] [-m M] [-l NLIST] [-z 1]
 *
 * -r 1 skips the build and measures the index already at FILE.
 *
 * Builds the fuzzy section (hashed 3-gram vectors, an HNSW graph;
 * -z 1 leaves it out) and the semantic section (the generator's
 * DIM-dim vectors, an IVF-flat index), reporting wall and process CPU
 * time, section size and peak RSS of each (-t build threads, 0 = the
 * online CPUs; -e efConstruction, 0 = the default; -f the fuzzy
 * section's hashed dimension, 0 = the default; -m links per node, 0 =
 * the default; -l the semantic lists, 0 = the default); writes the
 * index; then measures
 *   - recall@10 and recall@100 against brute force, for queries that
 *     are stored vectors plus Gaussian noise: of the fuzzy graph at the
 *     ef the arm uses (200) and larger ones, of the semantic lists at
 *     several nprobe; by id, and counting ties (a hit as similar as the
 *     k-th brute-force hit is right: synthetic names repeat);
 *   - p50/p99 latency at k=100 of the fuzzy arm on entity names with one
 *     typo and of the semantic arm on the same queries.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "arm.h"
#include "cli.h"
#include "hnsw.h"
#include "index.h"
#include "ivf.h"
#include "rng.h"
#include "synth.h"
#include "text.h"

#define K 100
#define RECALL_Q 200

/* Command line. */
typedef struct bopts_s {
        uint64_t n;        /* entities */
        uint64_t queries;  /* timed queries */
        uint64_t dim;      /* semantic dimension */
        uint64_t seed;     /* synthetic seed */
        const char *out;   /* index path */
        uint64_t reuse;    /* -r 1: measure the index at -o, no build */
        uint64_t threads;  /* -t: build threads (0: online CPUs) */
        uint64_t efc;      /* -e: efConstruction (0: default) */
        uint64_t fdim;     /* -f: fuzzy dimension (0: default) */
        uint64_t m;        /* -m: links per node (0: default) */
        uint64_t nlist;    /* -l: semantic lists (0: default) */
        uint64_t nofuzzy;  /* -z 1: no fuzzy section */
} bopts_t;

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of the calling thread. */
static double thread_cpu_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of the whole process (all threads). */
static double cpu_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_mib(void)
{
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        return ru.ru_maxrss / 1024;
}

static int cmp_dbl(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

static int parse_args(int argc, char **argv, bopts_t *o)
{
        o->n = 1000000;
        o->queries = 2000;
        o->dim = 64;
        o->seed = 1;
        o->reuse = 0;
        o->threads = 0;
        o->efc = 0;
        o->fdim = 0;
        o->m = 0;
        o->nlist = 0;
        o->nofuzzy = 0;
        o->out = "/tmp/ltrr-bench-ann.idx";
        for (int i = 1; i + 1 < argc; i += 2) {
                char *end;
                uint64_t v = strtoull(argv[i + 1], &end, 10);
                if (!strcmp(argv[i], "-o")) {
                        o->out = argv[i + 1];
                        continue;
                }
                if (*end)
                        return -1;
                if (!strcmp(argv[i], "-n"))
                        o->n = v;
                else if (!strcmp(argv[i], "-q"))
                        o->queries = v;
                else if (!strcmp(argv[i], "-d"))
                        o->dim = v;
                else if (!strcmp(argv[i], "-s"))
                        o->seed = v;
                else if (!strcmp(argv[i], "-r"))
                        o->reuse = v;
                else if (!strcmp(argv[i], "-t") && v <= 64)
                        o->threads = v;
                else if (!strcmp(argv[i], "-e") && v <= LTRR_HNSW_EF_MAX)
                        o->efc = v;
                else if (!strcmp(argv[i], "-f") && v <= 1024)
                        o->fdim = v;
                else if (!strcmp(argv[i], "-m") && v <= LTRR_HNSW_M_MAX)
                        o->m = v;
                else if (!strcmp(argv[i], "-l") && v <= LTRR_IVF_NLIST_MAX)
                        o->nlist = v;
                else if (!strcmp(argv[i], "-z"))
                        o->nofuzzy = v;
                else
                        return -1;
        }
        return argc % 2 == 1 && o->n && o->queries && o->dim &&
                       o->dim <= LTRR_CATALOG_DIM_MAX
                   ? 0
                   : -1;
}

/* Catalog vector @p i into @p out (zero without). */
static ltrr_err_t cat_fill(void *opaque, uint32_t i, float *out)
{
        const ltrr_catalog_t *cat = opaque;
        ltrr_entity_t e;
        if (ltrr_catalog_get(cat, i, &e) == LTRR_OK && e.vector)
                memcpy(out, e.vector, (size_t)ltrr_catalog_dim(cat) * 4);
        return LTRR_OK;
}

/* The semantic section; with -l, built here with that many lists
 * behind the arm's 32-byte header (docs/ANN.md). */
static ltrr_err_t sem_section(const bopts_t *o, const ltrr_catalog_t *cat,
                              const ltrr_ann_section_conf_t *ac, void **p,
                              size_t *len, char *errstr, size_t size)
{
        if (!o->nlist)
                return ltrr_semantic_section_build(cat, ac, p, len, errstr,
                                                   size);
        ltrr_ivf_conf_t ic = {.nlist = (uint32_t)o->nlist,
                              .threads = ac->hnsw.threads, .head = 32};
        uint32_t dim = ltrr_catalog_dim(cat), n = ltrr_catalog_count(cat);
        ltrr_err_t err = ltrr_ivf_build_fill(cat_fill, (void *)cat, n, dim,
                                             &ic, p, len, errstr, size);
        if (err)
                return err;
        uint64_t blen = *len - 32, zero = 0;
        memcpy(*p, "LTRRVEC3", 8);
        memcpy((uint8_t *)*p + 8, &dim, 4);
        memcpy((uint8_t *)*p + 12, &n, 4);
        memcpy((uint8_t *)*p + 16, &zero, 8);
        memcpy((uint8_t *)*p + 24, &blen, 8);
        return LTRR_OK;
}

/* Builds both sections and the index; prints their cost. */
static int build(const bopts_t *o, ltrr_catalog_t *cat)
{
        char errstr[512];
        void *fz = NULL, *sem = NULL;
        size_t fl = 0, sl = 0;
        int rc = -1;
        ltrr_ann_section_conf_t ac = {
            .dim = (uint32_t)o->fdim,
            .hnsw = {.threads = (uint32_t)o->threads,
                     .ef_construction = (uint32_t)o->efc,
                     .m = (uint32_t)o->m}};
        double t0 = now_s(), c0 = cpu_s();
        if (!o->nofuzzy && ltrr_fuzzy_section_build(cat, "en", &ac, &fz, &fl,
                                                    errstr, sizeof(errstr)))
                goto done;
        double t1 = now_s(), c1 = cpu_s();
        printf("fuzzy_build_s %.2f\nfuzzy_build_cpu_s %.2f\n"
               "fuzzy_section_mib %.1f\npeak_rss_after_fuzzy_mib %ld\n",
               t1 - t0, c1 - c0, (double)fl / (1 << 20), peak_rss_mib());
        if (sem_section(o, cat, &ac, &sem, &sl, errstr, sizeof(errstr)))
                goto done;
        double t2 = now_s();
        printf("semantic_build_s %.2f\nsemantic_build_cpu_s %.2f\n"
               "semantic_section_mib %.1f\npeak_rss_after_semantic_mib %ld\n",
               t2 - t1, cpu_s() - c1, (double)sl / (1 << 20),
               peak_rss_mib());
        ltrr_index_extra_t ex[2] = {{LTRR_INDEX_SEC_VECTORS, sem, sl},
                                    {LTRR_INDEX_SEC_NGRAMS, fz, fl}};
        ltrr_index_build_conf_t bc = {.extra = ex, .extra_cnt = fz ? 2 : 1};
        if (ltrr_index_build(cat, &bc, o->out, errstr, sizeof(errstr)))
                goto done;
        printf("index_build_s %.2f\npeak_rss_mib %ld\n", now_s() - t2,
               peak_rss_mib());
        rc = 0;
done:
        if (rc)
                fprintf(stderr, "ltrr-bench-ann: %s\n", errstr);
        free(fz);
        free(sem);
        return rc;
}

/* The graph inside a section (its header is 32 bytes, docs/ANN.md). */
static int graph_of(const ltrr_index_t *ix, uint32_t kind,
                    ltrr_hnsw_view_t *g)
{
        uint64_t len = 0;
        const uint8_t *p = ltrr_index_section(ix, kind, &len);
        uint64_t glen;
        if (!p || len < 32)
                return -1;
        memcpy(&glen, p + 24, 8);
        return glen > len - 32 ||
                       ltrr_hnsw_view(p + 32, (size_t)glen, g, NULL, 0)
                   ? -1
                   : 0;
}

/* Counts, for one query, the search hits among the brute-force top
 * @p k (by id) into *idp and those at least as similar as the k-th
 * brute-force hit (ties count: near-duplicate names tie) into *simp. */
static void overlap(const ltrr_hnsw_hit_t *a, size_t na,
                    const ltrr_hnsw_hit_t *b, size_t nb, size_t k,
                    uint64_t *idp, uint64_t *simp)
{
        size_t kb = nb < k ? nb : k;
        float kth = kb ? b[kb - 1].sim - 1e-6f : 0;
        for (size_t y = 0; y < na && y < k; y++) {
                *simp += a[y].sim >= kth;
                for (size_t x = 0; x < kb; x++)
                        *idp += a[y].id == b[x].id;
        }
}

/* Recall@10 and @100 of the graph against brute force, at each ef of
 * @p efs, for queries that are stored vectors plus Gaussian noise. */
static void recall(const char *name, const ltrr_hnsw_view_t *g,
                   const uint32_t *efs, size_t nef, uint64_t seed)
{
        ltrr_rng_t rng;
        size_t ss = ltrr_hnsw_scratch_size(g), na, nb;
        void *scr = calloc(1, ss);
        float *q = malloc((size_t)g->dim * 2 * sizeof(float));
        float *v = q ? q + g->dim : NULL;
        ltrr_hnsw_hit_t *a = malloc(K * sizeof(*a)), *b = malloc(K * sizeof(*b));
        uint64_t id10[4] = {0}, id100[4] = {0}, s10[4] = {0}, s100[4] = {0};
        double t[4] = {0};
        ltrr_rng_seed(&rng, seed);
        for (int i = 0; scr && q && a && b && i < RECALL_Q; i++) {
                ltrr_hnsw_vector(g, (uint32_t)ltrr_rng_below(&rng, g->n), v);
                for (uint32_t d = 0; d < g->dim; d++)
                        q[d] = v[d] + 0.3f * (float)ltrr_rng_gauss(&rng) /
                                          sqrtf((float)g->dim);
                ltrr_hnsw_brute(g, q, K, b, &nb);
                for (size_t e = 0; e < nef && e < 4; e++) {
                        double t0 = now_s();
                        ltrr_hnsw_search(g, q, K, efs[e], scr, ss, a, &na);
                        t[e] += now_s() - t0;
                        overlap(a, na, b, nb, 10, &id10[e], &s10[e]);
                        overlap(a, na, b, nb, K, &id100[e], &s100[e]);
                }
        }
        for (size_t e = 0; e < nef && e < 4; e++)
                printf("%s_ef%u recall10 %.4f recall100 %.4f "
                       "recall10_ties %.4f recall100_ties %.4f "
                       "graph_mean_us %.1f\n",
                       name, efs[e], id10[e] / (RECALL_Q * 10.0),
                       id100[e] / (RECALL_Q * 100.0),
                       s10[e] / (RECALL_Q * 10.0), s100[e] / (RECALL_Q * 100.0),
                       t[e] / RECALL_Q * 1e6);
        free(scr);
        free(q);
        free(a);
        free(b);
}

/* The IVF index inside the semantic section (header 32 bytes). */
static int ivf_of(const ltrr_index_t *ix, ltrr_ivf_view_t *g)
{
        uint64_t len = 0, glen;
        const uint8_t *p = ltrr_index_section(ix, LTRR_INDEX_SEC_VECTORS,
                                              &len);
        if (!p || len < 32)
                return -1;
        memcpy(&glen, p + 24, 8);
        return glen > len - 32 ||
                       ltrr_ivf_view(p + 32, (size_t)glen, g, NULL, 0)
                   ? -1
                   : 0;
}

#define NP_MAX 8

/* Recall@10 and @100 of the IVF search against brute force, at each
 * nprobe of @p nps, for queries as in recall(). */
static void recall_ivf(const ltrr_ivf_view_t *g, const uint32_t *nps,
                       size_t nnp, uint64_t seed)
{
        ltrr_rng_t rng;
        size_t ss = ltrr_ivf_scratch_size(g, K, LTRR_IVF_NLIST_MAX), na, nb;
        void *scr = calloc(1, ss);
        float *q = malloc((size_t)g->dim * 2 * sizeof(float));
        float *v = q ? q + g->dim : NULL;
        ltrr_ivf_hit_t *a = malloc(K * sizeof(*a)), *b = malloc(K * sizeof(*b));
        uint64_t id10[NP_MAX] = {0}, id100[NP_MAX] = {0}, s10[NP_MAX] = {0},
                 s100[NP_MAX] = {0};
        double t[NP_MAX] = {0};
        ltrr_rng_seed(&rng, seed);
        for (int i = 0; scr && q && a && b && i < RECALL_Q; i++) {
                ltrr_ivf_vector(g, (uint32_t)ltrr_rng_below(&rng, g->n), v);
                for (uint32_t d = 0; d < g->dim; d++)
                        q[d] = v[d] + 0.3f * (float)ltrr_rng_gauss(&rng) /
                                          sqrtf((float)g->dim);
                ltrr_ivf_brute(g, q, K, b, &nb);
                for (size_t e = 0; e < nnp && e < NP_MAX; e++) {
                        double t0 = thread_cpu_s();
                        ltrr_ivf_search(g, q, K, nps[e], scr, ss, a, &na);
                        t[e] += thread_cpu_s() - t0;
                        ltrr_hnsw_hit_t ha[K], hb[K];
                        for (size_t x = 0; x < na; x++)
                                ha[x] = (ltrr_hnsw_hit_t){a[x].id, a[x].sim};
                        for (size_t x = 0; x < nb; x++)
                                hb[x] = (ltrr_hnsw_hit_t){b[x].id, b[x].sim};
                        overlap(ha, na, hb, nb, 10, &id10[e], &s10[e]);
                        overlap(ha, na, hb, nb, K, &id100[e], &s100[e]);
                }
        }
        printf("semantic_nlist %u vectors %u\n", g->nlist, g->cnt);
        for (size_t e = 0; e < nnp && e < NP_MAX; e++)
                printf("semantic_nprobe%u recall10 %.4f recall100 %.4f "
                       "recall10_ties %.4f recall100_ties %.4f "
                       "search_mean_cpu_us %.1f\n",
                       nps[e], id10[e] / (RECALL_Q * 10.0),
                       id100[e] / (RECALL_Q * 100.0),
                       s10[e] / (RECALL_Q * 10.0), s100[e] / (RECALL_Q * 100.0),
                       t[e] / RECALL_Q * 1e6);
        free(scr);
        free(q);
        free(a);
        free(b);
}

/* A query: entity @p e's name and first artist, one letter replaced. */
static void make_query(const ltrr_index_t *ix, ltrr_rng_t *rng, char *q,
                       size_t size)
{
        ltrr_index_entity_t e;
        ltrr_index_entity(ix, (uint32_t)ltrr_rng_below(rng, ltrr_index_count(ix)),
                          &e);
        int n = snprintf(q, size, "%s %s", e.name, e.artists);
        size_t len = n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
        size_t p = len ? ltrr_rng_below(rng, len) : 0;
        if (len && q[p] >= 'a' && q[p] <= 'z')
                q[p] = (char)('a' + (q[p] - 'a' + 1) % 26);
}

/* p50/p99 of @p arm at k=100 over the queries. */
static void latency(const bopts_t *o, const ltrr_index_t *ix, const char *arm)
{
        char errstr[256], q[512];
        ltrr_rng_t rng;
        ltrr_analyzer_t *an = ltrr_analyzer_new("en", errstr, sizeof(errstr));
        ltrr_arm_scratch_t *scr = ltrr_arm_scratch_new();
        ltrr_token_t toks[64];
        char *arena = malloc(LTRR_TEXT_ARENA_SIZE);
        ltrr_arm_cand_t *out = malloc(K * sizeof(*out));
        double *ms = calloc(o->queries, sizeof(double));
        ltrr_arm_ctx_t ctx;
        int id = ltrr_arm_find(arm);
        uint64_t found = 0;
        memset(&ctx, 0, sizeof(ctx));
        ltrr_rng_seed(&rng, o->seed + 17);
        for (uint64_t i = 0; an && scr && arena && out && ms && id >= 0 &&
                             i < o->queries + 50;
             i++) {
                ltrr_tokbuf_t tb;
                size_t cnt = 0;
                make_query(ix, &rng, q, sizeof(q));
                ltrr_tokbuf_init(&tb, toks, 64, arena, LTRR_TEXT_ARENA_SIZE);
                ltrr_analyzer_analyze(an, q, strlen(q), &tb, errstr,
                                      sizeof(errstr));
                ltrr_arm_query_t aq = {toks, tb.cnt, NULL};
                double t0 = now_s();
                ltrr_arm_run((unsigned)id, ix, &aq, &ctx, scr, K, out, &cnt,
                             errstr, sizeof(errstr));
                if (i >= 50) /* the first 50 warm the scratch memory */
                        ms[i - 50] = (now_s() - t0) * 1e3;
                found += cnt > 0;
        }
        qsort(ms, o->queries, sizeof(double), cmp_dbl);
        printf("%s_k100_p50_ms %.3f\n%s_k100_p99_ms %.3f\n"
               "%s_nonempty %.3f\n",
               arm, ms[o->queries / 2], arm, ms[o->queries * 99 / 100], arm,
               (double)found / (double)(o->queries + 50));
        free(ms);
        free(out);
        free(arena);
        ltrr_arm_scratch_destroy(scr);
        ltrr_analyzer_destroy(an);
}

static int build_all(const bopts_t *o);
static int measure(const bopts_t *o);

int main(int argc, char **argv)
{
        bopts_t o;
        if (ltrr_cli_wants_help(argc, argv) || parse_args(argc, argv, &o)) {
                fprintf(argc > 1 && ltrr_cli_wants_help(argc, argv)
                            ? stdout : stderr,
                        "usage: ltrr-bench-ann [-n ENTITIES] [-q QUERIES] "
                        "[-d DIM] [-s SEED] [-o FILE] [-r 1] [-t THREADS] "
                        "[-e EF_CONSTRUCTION] [-f FUZZY_DIM] [-m M] "
                        "[-l NLIST] [-z 1]\n");
                return ltrr_cli_wants_help(argc, argv) ? 0 : 2;
        }
        if (!o.reuse && build_all(&o))
                return 1;
        return measure(&o);
}

/* Generates the catalog and builds the index. */
static int build_all(const bopts_t *o)
{
        char errstr[512];
        double t0 = now_s();
        ltrr_catalog_t *cat = ltrr_catalog_new((uint32_t)o->dim, errstr,
                                               sizeof(errstr));
        ltrr_synth_conf_t sc = {o->n, o->seed, ltrr_date_from_ymd(2026, 1, 1),
                                (uint32_t)o->dim};
        if (!cat || ltrr_synth_generate(&sc, ltrr_synth_to_catalog, cat,
                                        errstr, sizeof(errstr))) {
                fprintf(stderr, "ltrr-bench-ann: %s\n", errstr);
                ltrr_catalog_destroy(cat);
                return 1;
        }
        printf("entities %llu\ncatalog_s %.2f\npeak_rss_catalog_mib %ld\n",
               (unsigned long long)o->n, now_s() - t0, peak_rss_mib());
        int rc = build(o, cat);
        ltrr_catalog_destroy(cat);
        return rc;
}

/* Recall and latency on the index at o->out. */
static int measure(const bopts_t *o)
{
        char errstr[512];
        ltrr_index_t *ix = ltrr_index_open(o->out, errstr, sizeof(errstr));
        ltrr_hnsw_view_t gf;
        ltrr_ivf_view_t gs;
        if (!ix || ivf_of(ix, &gs)) {
                fprintf(stderr, "ltrr-bench-ann: cannot read %s\n", o->out);
                ltrr_index_destroy(ix);
                return 1;
        }
        static const uint32_t fz_ef[] = {200, 400, 800};
        static const uint32_t sem_np[] = {8, 16, 24, 32, 40, 48, 64, 128};
        int fuzzy = !graph_of(ix, LTRR_INDEX_SEC_NGRAMS, &gf);
        if (fuzzy)
                recall("fuzzy", &gf, fz_ef, 3, o->seed);
        recall_ivf(&gs, sem_np, NP_MAX, o->seed);
        if (fuzzy)
                latency(o, ix, "fuzzy");
        latency(o, ix, "semantic");
        ltrr_index_destroy(ix);
        return 0;
}
