/*
 * Unit tests for the HNSW graph: recall@10 against brute force on random
 * and clustered vectors and on runs of repeated vectors, deterministic
 * builds whatever the thread count, the inner product's tail and the
 * int8 codes, refusal of corrupt blobs and of the older float32 layout,
 * out-of-range links skipped while searching, the reserved head, fill
 * callbacks, bounds and bad arguments.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hnsw.h"
#include "rng.h"
#include "vec_dot.h"

#define DIM 32
#define N 4000
#define NQ 200

/* n random vectors; clustered: around 40 centres with small noise. */
static float *make_vecs(uint32_t n, uint64_t seed, int clustered)
{
        ltrr_rng_t rng;
        float *v = malloc((size_t)n * DIM * sizeof(float));
        float centres[40][DIM];
        assert_non_null(v);
        ltrr_rng_seed(&rng, seed);
        for (int c = 0; c < 40; c++)
                for (int d = 0; d < DIM; d++)
                        centres[c][d] = (float)ltrr_rng_gauss(&rng);
        for (uint32_t i = 0; i < n; i++) {
                int c = (int)ltrr_rng_below(&rng, 40);
                for (int d = 0; d < DIM; d++) {
                        double g = ltrr_rng_gauss(&rng);
                        v[(size_t)i * DIM + d] =
                            clustered ? centres[c][d] + (float)(0.15 * g)
                                      : (float)g;
                }
        }
        return v;
}

/* Mean recall@10 of NQ queries against brute force, with ef 64. */
static double recall10(int clustered)
{
        /* the queries are drawn like the data (same centres), after it */
        float *v = make_vecs(N + NQ, 7, clustered);
        const float *q = v + (size_t)N * DIM;
        void *blob = NULL;
        size_t len = 0;
        char errstr[256];
        ltrr_hnsw_conf_t c = {.m = 12, .ef_construction = 80, .seed = 3};
        assert_int_equal(ltrr_hnsw_build(v, N, DIM, &c, &blob, &len, errstr,
                                         sizeof(errstr)),
                         LTRR_OK);
        ltrr_hnsw_view_t view;
        assert_int_equal(ltrr_hnsw_view(blob, len, &view, errstr,
                                        sizeof(errstr)),
                         LTRR_OK);
        if (ltrr_hnsw_check(&view, errstr, sizeof(errstr)) != LTRR_OK)
                fail_msg("check: %s", errstr);
        size_t ss = ltrr_hnsw_scratch_size(&view);
        void *scr = calloc(1, ss);
        ltrr_hnsw_hit_t a[10], b[10];
        size_t na, nb, found = 0;
        for (int i = 0; i < NQ; i++) {
                const float *qi = q + (size_t)i * DIM;
                assert_int_equal(ltrr_hnsw_search(&view, qi, 10, 64, scr, ss,
                                                  a, &na),
                                 LTRR_OK);
                assert_int_equal(ltrr_hnsw_brute(&view, qi, 10, b, &nb),
                                 LTRR_OK);
                assert_int_equal(na, 10);
                assert_int_equal(nb, 10);
                for (size_t x = 1; x < na; x++)
                        assert_true(a[x - 1].sim >= a[x].sim);
                for (size_t x = 0; x < nb; x++)
                        for (size_t y = 0; y < na; y++)
                                found += a[y].id == b[x].id;
        }
        free(scr);
        free(blob);
        free(v);
        return (double)found / (NQ * 10.0);
}

static void test_recall_random(void **state)
{
        (void)state;
        double r = recall10(0);
        print_message("recall@10 random: %.4f\n", r);
        assert_true(r >= 0.95);
}

static void test_recall_clustered(void **state)
{
        (void)state;
        double r = recall10(1);
        print_message("recall@10 clustered: %.4f\n", r);
        assert_true(r >= 0.95);
}

/* Builds a small graph with @p seed. */
static void *small(uint64_t seed, size_t *lenp)
{
        float *v = make_vecs(500, 1, 0);
        void *blob = NULL;
        char errstr[256];
        ltrr_hnsw_conf_t c = {.m = 8, .ef_construction = 40, .seed = seed};
        assert_int_equal(ltrr_hnsw_build(v, 500, DIM, &c, &blob, lenp,
                                         errstr, sizeof(errstr)),
                         LTRR_OK);
        free(v);
        return blob;
}

static void test_deterministic(void **state)
{
        (void)state;
        size_t l1, l2, l3;
        void *a = small(5, &l1), *b = small(5, &l2), *c = small(6, &l3);
        assert_int_equal(l1, l2);
        assert_memory_equal(a, b, l1);
        assert_true(l1 != l3 || memcmp(a, c, l1) != 0);
        free(a);
        free(b);
        free(c);
}

/* Builds @p n vectors of make_vecs(seed 11) on @p threads threads, each
 * distinct vector repeated @p rep times in a row (repeated names). */
static void *build_rep(uint32_t n, uint32_t rep, uint32_t threads,
                       size_t *lenp)
{
        float *v = make_vecs(n, 11, 1);
        for (uint32_t i = 0; i < n; i++)
                memcpy(v + (size_t)i * DIM, v + (size_t)(i - i % rep) * DIM,
                       DIM * sizeof(float));
        void *blob = NULL;
        char errstr[256];
        ltrr_hnsw_conf_t c = {.m = 8, .ef_construction = 40, .seed = 9,
                              .threads = threads};
        assert_int_equal(ltrr_hnsw_build(v, n, DIM, &c, &blob, lenp, errstr,
                                         sizeof(errstr)),
                         LTRR_OK);
        free(v);
        return blob;
}

/* The batches run in parallel yet the bytes do not depend on the thread
 * count (6000 nodes: batches of up to 93 nodes, on 1, 2 and 5 threads). */
static void test_threads_same_bytes(void **state)
{
        (void)state;
        size_t l1, l2, l5;
        void *a = build_rep(6000, 1, 1, &l1), *b = build_rep(6000, 1, 2, &l2);
        void *c = build_rep(6000, 1, 5, &l5);
        assert_int_equal(l1, l2);
        assert_int_equal(l1, l5);
        assert_memory_equal(a, b, l1);
        assert_memory_equal(a, c, l1);
        free(a);
        free(b);
        free(c);
}

/* Runs of 4 identical vectors land in the same batch: the graph must
 * still find them (recall@10 counting ties, queries near stored ones). */
static void test_repeated_runs(void **state)
{
        (void)state;
        size_t len, ss, na, nb, found = 0;
        char errstr[256];
        void *blob = build_rep(N, 4, 0, &len);
        ltrr_hnsw_view_t v;
        assert_int_equal(ltrr_hnsw_view(blob, len, &v, errstr,
                                        sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_hnsw_check(&v, errstr, sizeof(errstr)),
                         LTRR_OK);
        ss = ltrr_hnsw_scratch_size(&v);
        void *scr = calloc(1, ss);
        ltrr_hnsw_hit_t a[10], b[10];
        for (uint32_t i = 0; i < NQ; i++) {
                float q[DIM];
                assert_int_equal(ltrr_hnsw_vector(&v, (i * 7919u) % N, q), 0);
                assert_int_equal(ltrr_hnsw_search(&v, q, 10, 64, scr, ss, a,
                                                  &na),
                                 LTRR_OK);
                assert_int_equal(ltrr_hnsw_brute(&v, q, 10, b, &nb),
                                 LTRR_OK);
                assert_int_equal(na, 10);
                for (size_t y = 0; y < na; y++)
                        found += a[y].sim >= b[9].sim - 1e-6f;
        }
        double r = (double)found / (NQ * 10.0);
        print_message("recall@10 repeated runs: %.4f\n", r);
        assert_true(r >= 0.95);
        free(scr);
        free(blob);
}

/* Cosine of @p a and @p b in doubles. */
static double cosine(const float *a, const float *b, int dim)
{
        double dp = 0, aa = 0, bb = 0;
        for (int d = 0; d < dim; d++) {
                dp += (double)a[d] * b[d];
                aa += (double)a[d] * a[d];
                bb += (double)b[d] * b[d];
        }
        return aa > 0 && bb > 0 ? dp / sqrt(aa * bb) : 0;
}

/* The inner product's tail (dim not a multiple of 16) against doubles:
 * exact on the stored codes, and within quantization error of the
 * float vectors. */
static void test_odd_dim(void **state)
{
        (void)state;
        enum { D = 21, NV = 300 };
        ltrr_rng_t rng;
        float *v = malloc((size_t)NV * D * sizeof(float)), q[D], dq[D], dv[D];
        int8_t qc[D];
        assert_non_null(v);
        ltrr_rng_seed(&rng, 4);
        for (size_t i = 0; i < (size_t)NV * D; i++)
                v[i] = (float)ltrr_rng_gauss(&rng);
        for (int d = 0; d < D; d++)
                q[d] = (float)ltrr_rng_gauss(&rng);
        void *blob = NULL;
        size_t len, cnt;
        char errstr[256];
        assert_int_equal(ltrr_hnsw_build(v, NV, D, NULL, &blob, &len, errstr,
                                         sizeof(errstr)),
                         LTRR_OK);
        ltrr_hnsw_view_t view;
        assert_int_equal(ltrr_hnsw_view(blob, len, &view, errstr,
                                        sizeof(errstr)),
                         LTRR_OK);
        ltrr_hnsw_hit_t out[1];
        assert_int_equal(ltrr_hnsw_brute(&view, q, 1, out, &cnt), LTRR_OK);
        assert_int_equal(cnt, 1);
        /* the query as the graph sees it: its codes times its scale */
        float qs = ltrr_vec_quantize_i8(q, D, qc);
        for (int d = 0; d < D; d++)
                dq[d] = (float)qc[d] * qs;
        double best = -2, best_f = -2;
        for (int i = 0; i < NV; i++) {
                assert_int_equal(ltrr_hnsw_vector(&view, (uint32_t)i, dv), 0);
                double c = cosine(dq, dv, D);
                if (c > best)
                        best = c;
                c = cosine(q, v + (size_t)i * D, D);
                if (c > best_f)
                        best_f = c;
                /* a decoded vector is the input's direction, int8-close */
                assert_true(cosine(dv, v + (size_t)i * D, D) > 0.999);
        }
        assert_float_equal(out[0].sim, best, 1e-5);
        assert_float_equal(out[0].sim, best_f, 0.01);
        free(blob);
        free(v);
}

static void test_corrupt_refused(void **state)
{
        (void)state;
        size_t len;
        char errstr[256];
        ltrr_hnsw_view_t v;
        uint8_t *blob = small(5, &len);
        uint8_t *copy = malloc(len);
        /* bad magic */
        memcpy(copy, blob, len);
        copy[0] ^= 0xff;
        assert_int_equal(ltrr_hnsw_view(copy, len, &v, errstr,
                                        sizeof(errstr)),
                         LTRR_ERR_CORRUPT);
        /* truncated */
        assert_int_equal(ltrr_hnsw_view(blob, len - 8, &v, errstr,
                                        sizeof(errstr)),
                         LTRR_ERR_CORRUPT);
        assert_int_equal(ltrr_hnsw_view(blob, 10, &v, errstr,
                                        sizeof(errstr)),
                         LTRR_ERR_CORRUPT);
        /* dim in the header (bytes 12..15) out of range */
        memcpy(copy, blob, len);
        memset(copy + 12, 0xff, 4);
        assert_int_equal(ltrr_hnsw_view(copy, len, &v, errstr,
                                        sizeof(errstr)),
                         LTRR_ERR_CORRUPT);
        /* a link pointing outside the graph: view passes (O(1)), check
         * refuses, and search skips the link */
        memcpy(copy, blob, len);
        assert_int_equal(ltrr_hnsw_view(copy, len, &v, errstr,
                                        sizeof(errstr)),
                         LTRR_OK);
        uint32_t *l0 = (uint32_t *)(copy + ((const uint8_t *)v.links0 -
                                            (const uint8_t *)v.base));
        for (uint32_t i = 0; i < v.n; i++)
                l0[(size_t)i * (1 + v.m0) + 1] = 0x7fffffff;
        assert_int_equal(ltrr_hnsw_check(&v, errstr, sizeof(errstr)),
                         LTRR_ERR_CORRUPT);
        assert_non_null(strstr(errstr, "bad links"));
        size_t ss = ltrr_hnsw_scratch_size(&v), cnt;
        void *scr = calloc(1, ss);
        ltrr_hnsw_hit_t out[10];
        float q3[DIM];
        assert_int_equal(ltrr_hnsw_vector(&v, 3, q3), 0);
        assert_int_equal(ltrr_hnsw_search(&v, q3, 10, 32, scr, ss, out,
                                          &cnt),
                         LTRR_OK);
        assert_true(cnt > 0);
        for (size_t i = 0; i < cnt; i++)
                assert_true(out[i].id < v.n);
        free(scr);
        free(copy);
        free(blob);
}

/* A graph of the float32 layout (version 1) is refused with a request
 * to rebuild; decoding checks its node id. */
static void test_old_version(void **state)
{
        (void)state;
        size_t len;
        char errstr[256];
        ltrr_hnsw_view_t v;
        float dec[DIM];
        uint8_t *blob = small(5, &len);
        uint32_t one = 1;
        assert_int_equal(ltrr_hnsw_view(blob, len, &v, errstr,
                                        sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_hnsw_vector(&v, v.n - 1, dec), 0);
        assert_int_equal(ltrr_hnsw_vector(&v, v.n, dec), -1);
        assert_int_equal(ltrr_hnsw_vector(NULL, 0, dec), -1);
        assert_int_equal(ltrr_hnsw_vector(&v, 0, NULL), -1);
        memcpy(blob + 8, &one, 4);
        assert_int_equal(ltrr_hnsw_view(blob, len, &v, errstr,
                                        sizeof(errstr)),
                         LTRR_ERR_CORRUPT);
        assert_non_null(strstr(errstr, "rebuild"));
        free(blob);
}

static void test_bad_args(void **state)
{
        (void)state;
        char errstr[256];
        void *blob = (void *)1;
        size_t len, cnt;
        float v[DIM] = {1};
        assert_int_equal(ltrr_hnsw_build(v, 1, 0, NULL, &blob, &len, errstr,
                                         sizeof(errstr)),
                         LTRR_ERR_RANGE);
        assert_null(blob);
        ltrr_hnsw_conf_t c = {.m = LTRR_HNSW_M_MAX + 1};
        assert_int_equal(ltrr_hnsw_build(v, 1, DIM, &c, &blob, &len, errstr,
                                         sizeof(errstr)),
                         LTRR_ERR_RANGE);
        assert_int_equal(ltrr_hnsw_build(NULL, 1, DIM, NULL, &blob, &len,
                                         errstr, sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_hnsw_view(NULL, 0, NULL, errstr,
                                        sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        /* empty and one-node graphs */
        ltrr_hnsw_view_t view;
        assert_int_equal(ltrr_hnsw_build(v, 0, DIM, NULL, &blob, &len,
                                         errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_hnsw_view(blob, len, &view, errstr,
                                        sizeof(errstr)),
                         LTRR_OK);
        size_t ss = ltrr_hnsw_scratch_size(&view);
        void *scr = calloc(1, ss);
        ltrr_hnsw_hit_t out[4];
        assert_int_equal(ltrr_hnsw_search(&view, v, 4, 8, scr, ss, out,
                                          &cnt),
                         LTRR_OK);
        assert_int_equal(cnt, 0);
        assert_int_equal(ltrr_hnsw_search(&view, v, 4, LTRR_HNSW_EF_MAX + 1,
                                          scr, ss, out, &cnt),
                         LTRR_ERR_RANGE);
        assert_int_equal(ltrr_hnsw_search(&view, v, 4, 8, scr, ss - 1, out,
                                          &cnt),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_hnsw_vector(&view, 0, (float[DIM]){0}), -1);
        free(scr);
        free(blob);
        assert_int_equal(ltrr_hnsw_build(v, 1, DIM, NULL, &blob, &len,
                                         errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_hnsw_view(blob, len, &view, errstr,
                                        sizeof(errstr)),
                         LTRR_OK);
        ss = ltrr_hnsw_scratch_size(&view);
        scr = calloc(1, ss);
        assert_int_equal(ltrr_hnsw_search(&view, v, 4, 8, scr, ss, out,
                                          &cnt),
                         LTRR_OK);
        assert_int_equal(cnt, 1);
        assert_int_equal(out[0].id, 0);
        assert_float_equal(out[0].sim, 1.0, 1e-6);
        free(scr);
        free(blob);
}

/* Fill callback: rows of make_vecs(); fails at row *fail_at. */
typedef struct fillx_s {
        const float *v;   /* rows */
        uint32_t fail_at; /* row that fails (UINT32_MAX: none) */
        uint32_t calls;   /* rows asked for, in order */
} fillx_t;

static ltrr_err_t fill_rows(void *opaque, uint32_t i, float *out)
{
        fillx_t *f = opaque;
        assert_int_equal(i, f->calls); /* in order, once each */
        f->calls++;
        for (int d = 0; d < DIM; d++)
                assert_true(out[d] == 0); /* zeroed for the callback */
        if (i == f->fail_at)
                return LTRR_ERR_CORRUPT;
        memcpy(out, f->v + (size_t)i * DIM, DIM * sizeof(float));
        return LTRR_OK;
}

/* The fill callback gives the same bytes as the array; conf->head
 * reserves zeroed bytes before the graph; a failing callback stops the
 * build with its error. */
static void test_fill_and_head(void **state)
{
        (void)state;
        char errstr[256];
        size_t la, lb;
        void *a = NULL, *b = NULL;
        float *v = make_vecs(700, 2, 1);
        ltrr_hnsw_conf_t c = {.m = 8, .ef_construction = 40, .seed = 1};
        assert_int_equal(ltrr_hnsw_build(v, 700, DIM, &c, &a, &la, errstr,
                                         sizeof(errstr)),
                         LTRR_OK);
        fillx_t f = {v, UINT32_MAX, 0};
        c.head = 40;
        assert_int_equal(ltrr_hnsw_build_fill(fill_rows, &f, 700, DIM, &c,
                                              &b, &lb, errstr,
                                              sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(f.calls, 700);
        assert_int_equal(lb, la + 40);
        static const uint8_t zero[40];
        assert_memory_equal(b, zero, 40);
        assert_memory_equal((uint8_t *)b + 40, a, la);
        free(b);
        b = (void *)1;
        f = (fillx_t){v, 300, 0};
        assert_int_equal(ltrr_hnsw_build_fill(fill_rows, &f, 700, DIM, &c,
                                              &b, &lb, errstr,
                                              sizeof(errstr)),
                         LTRR_ERR_CORRUPT);
        assert_null(b);
        assert_int_equal(f.calls, 301);
        c.head = 12; /* not a multiple of 8 */
        assert_int_equal(ltrr_hnsw_build_fill(fill_rows, &f, 700, DIM, &c,
                                              &b, &lb, errstr,
                                              sizeof(errstr)),
                         LTRR_ERR_RANGE);
        assert_non_null(strstr(errstr, "head"));
        assert_int_equal(ltrr_hnsw_build_fill(NULL, NULL, 700, DIM, NULL, &b,
                                              &lb, errstr, sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        free(a);
        free(v);
}

/* Searches @p v for @p q with a fresh scratch and with @p scr (already
 * used, maybe by another graph) and asserts the same hits. */
static void same_as_fresh(const ltrr_hnsw_view_t *v, const float *q,
                          uint32_t ef, void *scr, size_t ss)
{
        size_t fs = ltrr_hnsw_scratch_size(v), na, nb;
        void *fresh = calloc(1, fs);
        ltrr_hnsw_hit_t a[10], b[10];
        assert_non_null(fresh);
        assert_true(ss >= fs);
        assert_int_equal(ltrr_hnsw_search(v, q, 10, ef, fresh, fs, a, &na),
                         LTRR_OK);
        assert_int_equal(ltrr_hnsw_search(v, q, 10, ef, scr, ss, b, &nb),
                         LTRR_OK);
        assert_int_equal(na, nb);
        for (size_t i = 0; i < na; i++) {
                assert_int_equal(a[i].id, b[i].id);
                assert_true(a[i].sim == b[i].sim);
        }
        free(fresh);
}

/* One scratch across searches: a wide search that visits more nodes than
 * the visit list holds (the bitmap is wiped), then narrow ones, then a
 * smaller graph and back: every answer equals a fresh scratch's. */
static void test_scratch_reuse(void **state)
{
        (void)state;
        enum { NB = 12000 };
        char errstr[256];
        size_t la, lb;
        void *ba = NULL, *bb = small(5, &lb);
        float *v = make_vecs(NB, 21, 0);
        ltrr_hnsw_conf_t c = {.m = 8, .ef_construction = 32, .seed = 2};
        assert_int_equal(ltrr_hnsw_build(v, NB, DIM, &c, &ba, &la, errstr,
                                         sizeof(errstr)),
                         LTRR_OK);
        ltrr_hnsw_view_t ga, gb;
        assert_int_equal(ltrr_hnsw_view(ba, la, &ga, errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_hnsw_view(bb, lb, &gb, errstr, sizeof(errstr)),
                         LTRR_OK);
        size_t ss = ltrr_hnsw_scratch_size(&ga);
        void *scr = calloc(1, ss);
        assert_non_null(scr);
        same_as_fresh(&ga, v + 5 * DIM, LTRR_HNSW_EF_MAX, scr, ss);
        for (int i = 0; i < 20; i++)
                same_as_fresh(&ga, v + (size_t)(i * 97) * DIM, 40, scr, ss);
        same_as_fresh(&gb, v + 7 * DIM, 40, scr, ss);
        same_as_fresh(&ga, v + 9 * DIM, 40, scr, ss);
        same_as_fresh(&ga, v + 11 * DIM, LTRR_HNSW_EF_MAX, scr, ss);
        same_as_fresh(&gb, v + 13 * DIM, 40, scr, ss);
        free(scr);
        free(ba);
        free(bb);
        free(v);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_recall_random),
            cmocka_unit_test(test_recall_clustered),
            cmocka_unit_test(test_deterministic),
            cmocka_unit_test(test_threads_same_bytes),
            cmocka_unit_test(test_repeated_runs),
            cmocka_unit_test(test_odd_dim),
            cmocka_unit_test(test_corrupt_refused),
            cmocka_unit_test(test_old_version),
            cmocka_unit_test(test_bad_args),
            cmocka_unit_test(test_fill_and_head),
            cmocka_unit_test(test_scratch_reuse),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
