/*
 * Unit tests for the HNSW graph: recall@10 against brute force on random
 * and clustered vectors, deterministic builds, refusal of corrupt blobs,
 * out-of-range links skipped while searching, bounds and bad arguments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hnsw.h"
#include "rng.h"

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
        assert_int_equal(ltrr_hnsw_search(&v, ltrr_hnsw_vector(&v, 3), 10,
                                          32, scr, ss, out, &cnt),
                         LTRR_OK);
        assert_true(cnt > 0);
        for (size_t i = 0; i < cnt; i++)
                assert_true(out[i].id < v.n);
        free(scr);
        free(copy);
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
        assert_null(ltrr_hnsw_vector(&view, 0));
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

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_recall_random),
            cmocka_unit_test(test_recall_clustered),
            cmocka_unit_test(test_deterministic),
            cmocka_unit_test(test_corrupt_refused),
            cmocka_unit_test(test_bad_args),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
