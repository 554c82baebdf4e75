/*
 * Unit tests for the IVF-flat index (ivf.h): the batched inner product
 * equals the portable one; scanning every list is exact (same hits as
 * brute force, which equals a plain scan); training finds well
 * separated clusters; the blob is the same for any thread count;
 * empty, single-vector, all-zero and repeated inputs; bad arguments;
 * corrupt or older blobs are refused.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ivf.h"
#include "rng.h"
#include "vec_dot.h"

/* Rows for fill_rows(): n * dim floats. */
typedef struct rows_s {
        const float *v;
        uint32_t dim;
        int fail_at; /* >= 0: return LTRR_ERR_IO for this row */
} rows_t;

static ltrr_err_t fill_rows(void *opaque, uint32_t i, float *out)
{
        const rows_t *r = opaque;
        if (r->fail_at >= 0 && (uint32_t)r->fail_at == i)
                return LTRR_ERR_IO;
        memcpy(out, r->v + (size_t)i * r->dim, r->dim * sizeof(float));
        return LTRR_OK;
}

/* @p n vectors around @p nc random centres (noise @p noise per
 * component); every 17th is all-zero. */
static float *make_vecs(uint32_t n, uint32_t dim, uint32_t nc, float noise,
                        uint64_t seed)
{
        ltrr_rng_t rng;
        float *c = malloc((size_t)nc * dim * sizeof(float));
        float *v = malloc(((size_t)n * dim + 1) * sizeof(float));
        assert_non_null(c);
        assert_non_null(v);
        ltrr_rng_seed(&rng, seed);
        for (size_t i = 0; i < (size_t)nc * dim; i++)
                c[i] = (float)ltrr_rng_gauss(&rng);
        for (uint32_t i = 0; i < n; i++) {
                uint32_t k = (uint32_t)ltrr_rng_below(&rng, nc);
                for (uint32_t d = 0; d < dim; d++)
                        v[(size_t)i * dim + d] =
                            i % 17 == 5
                                ? 0.0f
                                : c[(size_t)k * dim + d] +
                                      noise * (float)ltrr_rng_gauss(&rng);
        }
        free(c);
        return v;
}

/* Builds and views; returns the blob (caller frees). */
static void *build(const float *v, uint32_t n, uint32_t dim,
                   const ltrr_ivf_conf_t *c, ltrr_ivf_view_t *g,
                   size_t *lenp)
{
        char errstr[256];
        rows_t r = {v, dim, -1};
        void *blob = NULL;
        size_t len = 0;
        assert_int_equal(ltrr_ivf_build_fill(fill_rows, &r, n, dim, c, &blob,
                                             &len, errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_non_null(blob);
        assert_int_equal(len % 8, 0);
        uint32_t head = c ? c->head : 0;
        assert_int_equal(ltrr_ivf_view((uint8_t *)blob + head, len - head, g,
                                       errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_ivf_check(g, errstr, sizeof(errstr)), LTRR_OK);
        if (lenp)
                *lenp = len;
        return blob;
}

static void test_dots_kernel(void **state)
{
        (void)state;
        enum { MAXD = 130, MAXC = 19 };
        static int8_t q[MAXD], codes[MAXD * MAXC];
        int32_t out[MAXC];
        ltrr_rng_t rng;
        ltrr_rng_seed(&rng, 3);
        for (uint32_t dim = 1; dim <= MAXD; dim++)
                for (int kind = 0; kind < 2; kind++) {
                        for (uint32_t i = 0; i < dim; i++)
                                q[i] = (int8_t)(kind ? -127
                                                     : (int)ltrr_rng_below(
                                                           &rng, 255) - 127);
                        for (uint32_t i = 0; i < dim * MAXC; i++)
                                codes[i] = (int8_t)(kind ? 127
                                                         : (int)ltrr_rng_below(
                                                               &rng, 255) -
                                                               127);
                        for (uint32_t cnt = 0; cnt <= MAXC; cnt += 1 + cnt / 4) {
                                memset(out, 0x55, sizeof(out));
                                ltrr_ivf_dots(q, codes, dim, cnt, out);
                                for (uint32_t j = 0; j < cnt; j++)
                                        assert_int_equal(
                                            out[j], ltrr_vec_dot_i8_scalar(
                                                        q, codes + j * dim,
                                                        dim));
                                if (cnt < MAXC) /* nothing past cnt */
                                        assert_int_equal(out[cnt],
                                                         0x55555555);
                        }
                }
}

/* Plain exact scan: the best @p k by (sim, lower id), via the scalar
 * product; checks that brute force returns exactly that. */
static void check_brute(const ltrr_ivf_view_t *g, const float *q,
                        const ltrr_ivf_hit_t *b, size_t nb, uint32_t k)
{
        int8_t qc[LTRR_IVF_DIM_MAX];
        float qs = ltrr_vec_quantize_i8(q, g->dim, qc);
        size_t want = g->cnt < k ? g->cnt : k;
        assert_int_equal(nb, qs == 0 ? 0 : want);
        for (size_t r = 0; r < nb; r++) {
                uint32_t s = g->slot[b[r].id];
                assert_true(s < g->cnt);
                float sim = (float)ltrr_vec_dot_i8_scalar(
                                qc, g->codes + (size_t)s * g->dim, g->dim) *
                            g->scales[s] * qs;
                assert_true(sim == b[r].sim);
                size_t better = 0; /* stored vectors ranking above it */
                for (uint32_t j = 0; j < g->cnt; j++) {
                        float x = (float)ltrr_vec_dot_i8_scalar(
                                      qc, g->codes + (size_t)j * g->dim,
                                      g->dim) *
                                  g->scales[j] * qs;
                        better += x > sim || (x == sim && g->ids[j] < b[r].id);
                }
                assert_int_equal(better, r);
        }
}

/* All lists scanned: search equals brute force; both exact. Dims 24
 * (no SIMD step) and 64 (two steps) and 70 (steps and a tail). */
static void test_all_lists_exact(void **state)
{
        (void)state;
        static const uint32_t dims[] = {24, 64, 70};
        ltrr_ivf_hit_t a[50], b[50];
        for (size_t t = 0; t < 3; t++) {
                uint32_t dim = dims[t], n = 1500;
                float *v = make_vecs(n, dim, 12, 0.4f, 10 + t);
                ltrr_ivf_conf_t c = {.nlist = 24, .threads = 2, .seed = 5};
                ltrr_ivf_view_t g;
                void *blob = build(v, n, dim, &c, &g, NULL);
                assert_int_equal(g.nlist, 24);
                assert_int_equal(g.cnt, n - (n + 11) / 17);
                size_t ss = ltrr_ivf_scratch_size(&g, 50, g.nlist);
                void *scr = malloc(ss);
                for (uint32_t i = 0; i < 20; i++) {
                        size_t na = 0, nb = 0;
                        const float *q = v + (size_t)(i * 71 % n) * dim;
                        assert_int_equal(ltrr_ivf_search(&g, q, 50, g.nlist,
                                                         scr, ss, a, &na),
                                         LTRR_OK);
                        assert_int_equal(ltrr_ivf_brute(&g, q, 50, b, &nb),
                                         LTRR_OK);
                        assert_int_equal(na, nb);
                        for (size_t r = 0; r < na; r++) {
                                assert_int_equal(a[r].id, b[r].id);
                                assert_true(a[r].sim == b[r].sim);
                        }
                        check_brute(&g, q, b, nb, 50);
                }
                free(scr);
                free(blob);
                free(v);
        }
}

/* 16 tight clusters, 16 lists: training puts each cluster in about one
 * list, so two probes find the exact top 10 of a member's query. */
static void test_clusters_found(void **state)
{
        (void)state;
        uint32_t n = 4000, dim = 32, found = 0, want = 0;
        float *v = make_vecs(n, dim, 16, 0.05f, 77);
        ltrr_ivf_conf_t c = {.nlist = 16, .seed = 1};
        ltrr_ivf_view_t g;
        ltrr_ivf_hit_t a[10], b[10];
        void *blob = build(v, n, dim, &c, &g, NULL);
        size_t ss = ltrr_ivf_scratch_size(&g, 10, 2), na, nb;
        void *scr = malloc(ss);
        for (uint32_t i = 0; i < 100; i++) {
                const float *q = v + (size_t)(i * 37 + 1) * dim;
                assert_int_equal(ltrr_ivf_search(&g, q, 10, 2, scr, ss, a,
                                                 &na),
                                 LTRR_OK);
                ltrr_ivf_brute(&g, q, 10, b, &nb);
                want += (uint32_t)nb; /* 0 for the all-zero rows */
                for (size_t x = 0; x < na; x++)
                        for (size_t y = 0; y < nb; y++)
                                found += a[x].id == b[y].id;
        }
        assert_true(want >= 900);
        assert_true(found >= want * 95 / 100); /* recall@10 >= 0.95 */
        free(scr);
        free(blob);
        free(v);
}

/* 1, 2, 3 and 8 threads: the same bytes; another seed still sound. */
static void test_threads_same_bytes(void **state)
{
        (void)state;
        static const uint32_t threads[] = {1, 2, 3, 8};
        uint32_t n = 20000, dim = 40; /* past the parallel threshold */
        float *v = make_vecs(n, dim, 30, 0.5f, 9);
        void *first = NULL;
        size_t flen = 0;
        for (size_t t = 0; t < 4; t++) {
                ltrr_ivf_conf_t c = {.threads = threads[t], .seed = 4};
                ltrr_ivf_view_t g;
                size_t len;
                void *blob = build(v, n, dim, &c, &g, &len);
                /* default lists: sqrt(non-zero vectors) */
                assert_int_equal(g.nlist,
                                 (uint32_t)lrint(sqrt((double)g.cnt)));
                if (!first) {
                        first = blob;
                        flen = len;
                        continue;
                }
                assert_int_equal(len, flen);
                assert_memory_equal(blob, first, len);
                free(blob);
        }
        ltrr_ivf_conf_t c = {.threads = 2, .seed = 5, .iters = 2};
        ltrr_ivf_view_t g;
        free(build(v, n, dim, &c, &g, NULL));
        free(first);
        free(v);
}

/* No vectors, one, all zero; head bytes; nlist capped. */
static void test_degenerate(void **state)
{
        (void)state;
        float one[8] = {0, 3, 0, 0, -1, 0, 0, 0.5f}, zeros[8 * 5] = {0};
        float out[8];
        ltrr_ivf_hit_t h[40];
        size_t nh;
        char scr[256];
        ltrr_ivf_view_t g;
        ltrr_ivf_conf_t c = {.nlist = 10, .head = 32};
        /* no entities */
        void *blob = build(one, 0, 8, &c, &g, NULL);
        assert_int_equal(g.n, 0);
        assert_int_equal(g.nlist, 0);
        assert_int_equal(ltrr_ivf_search(&g, one, 10, 4, scr, sizeof(scr), h,
                                         &nh),
                         LTRR_OK);
        assert_int_equal(nh, 0);
        assert_int_equal(ltrr_ivf_vector(&g, 0, out), -1);
        for (int i = 0; i < 32; i++) /* the head is zero */
                assert_int_equal(((uint8_t *)blob)[i], 0);
        free(blob);
        /* one vector: found, unit length, nlist capped at 1 */
        blob = build(one, 1, 8, &c, &g, NULL);
        assert_int_equal(g.nlist, 1);
        assert_int_equal(ltrr_ivf_search(&g, one, 10, 4, scr, sizeof(scr), h,
                                         &nh),
                         LTRR_OK);
        assert_int_equal(nh, 1);
        assert_int_equal(h[0].id, 0);
        assert_true(fabsf(h[0].sim - 1.0f) < 0.01f);
        assert_int_equal(ltrr_ivf_vector(&g, 0, out), 0);
        assert_true(fabsf(out[1] * 3.2016f / 3.0f - 1.0f) < 0.02f);
        free(blob);
        /* all zero: no list, zero vectors, nothing found */
        blob = build(zeros, 5, 8, &c, &g, NULL);
        assert_int_equal(g.cnt, 0);
        assert_int_equal(g.nlist, 0);
        assert_int_equal(g.slot[3], LTRR_IVF_NO_SLOT);
        out[2] = 9;
        assert_int_equal(ltrr_ivf_vector(&g, 3, out), 0);
        assert_true(out[2] == 0);
        assert_int_equal(ltrr_ivf_brute(&g, one, 10, h, &nh), LTRR_OK);
        assert_int_equal(nh, 0);
        free(blob);
}

/* 40 equal vectors, 10 lists: one probe finds them all, ids ascending
 * (equal similarity); a zero query or k 0 finds nothing. */
static void test_repeated(void **state)
{
        (void)state;
        float one[8] = {0, 3, 0, 0, -1, 0, 0, 0.5f}, zeros[8] = {0};
        float same[8 * 40];
        ltrr_ivf_hit_t h[40];
        size_t nh;
        char scr[256];
        ltrr_ivf_view_t g;
        ltrr_ivf_conf_t c = {.nlist = 10};
        void *blob;
        for (int i = 0; i < 40; i++)
                memcpy(same + i * 8, one, sizeof(one));
        blob = build(same, 40, 8, &c, &g, NULL);
        assert_int_equal(g.nlist, 10);
        assert_int_equal(ltrr_ivf_search(&g, one, 40, 1, scr, sizeof(scr), h,
                                         &nh),
                         LTRR_OK);
        assert_int_equal(nh, 40);
        for (uint32_t i = 0; i < 40; i++)
                assert_int_equal(h[i].id, i);
        assert_int_equal(ltrr_ivf_search(&g, zeros, 10, 1, scr, sizeof(scr),
                                         h, &nh),
                         LTRR_OK);
        assert_int_equal(nh, 0);
        assert_int_equal(ltrr_ivf_search(&g, one, 0, 1, scr, sizeof(scr), h,
                                         &nh),
                         LTRR_OK);
        assert_int_equal(nh, 0);
        free(blob);
}

static void test_bad_args(void **state)
{
        (void)state;
        char errstr[256], scr[256];
        float v[16] = {1, 2, 3, 4, 5, 6, 7, 8, 8, 7, 6, 5, 4, 3, 2, 1};
        rows_t r = {v, 8, 1};
        void *blob = (void *)1;
        size_t len = 0, nh;
        ltrr_ivf_conf_t c = {0};
        ltrr_ivf_view_t g;
        ltrr_ivf_hit_t h[4];
        assert_int_equal(ltrr_ivf_build_fill(NULL, &r, 2, 8, NULL, &blob,
                                             &len, errstr, sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_null(blob);
        assert_int_equal(ltrr_ivf_build_fill(fill_rows, &r, 2, 0, NULL, &blob,
                                             &len, errstr, sizeof(errstr)),
                         LTRR_ERR_RANGE);
        assert_int_equal(ltrr_ivf_build_fill(fill_rows, &r, 2,
                                             LTRR_IVF_DIM_MAX + 1, NULL, &blob,
                                             &len, errstr, sizeof(errstr)),
                         LTRR_ERR_RANGE);
        c.head = 12;
        assert_int_equal(ltrr_ivf_build_fill(fill_rows, &r, 2, 8, &c, &blob,
                                             &len, errstr, sizeof(errstr)),
                         LTRR_ERR_RANGE);
        c = (ltrr_ivf_conf_t){.nlist = LTRR_IVF_NLIST_MAX + 1};
        assert_int_equal(ltrr_ivf_build_fill(fill_rows, &r, 2, 8, &c, &blob,
                                             &len, errstr, sizeof(errstr)),
                         LTRR_ERR_RANGE);
        /* the source's error stops the build */
        assert_int_equal(ltrr_ivf_build_fill(fill_rows, &r, 2, 8, NULL, &blob,
                                             &len, errstr, sizeof(errstr)),
                         LTRR_ERR_IO);
        assert_null(blob);
        assert_non_null(strstr(errstr, "source"));
        blob = build(v, 2, 8, NULL, &g, &len);
        assert_int_equal(ltrr_ivf_view(NULL, len, &g, NULL, 0),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_ivf_search(&g, v, LTRR_IVF_K_MAX + 1, 1, scr,
                                         sizeof(scr), h, &nh),
                         LTRR_ERR_RANGE);
        assert_int_equal(ltrr_ivf_search(&g, v, 4, 0, scr, sizeof(scr), h,
                                         &nh),
                         LTRR_ERR_RANGE);
        assert_int_equal(ltrr_ivf_search(&g, v, 4, 2, scr, 4, h, &nh),
                         LTRR_ERR_RANGE);
        assert_int_equal(ltrr_ivf_search(&g, NULL, 4, 2, scr, sizeof(scr), h,
                                         &nh),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_ivf_brute(&g, v, LTRR_IVF_K_MAX + 1, h, &nh),
                         LTRR_ERR_RANGE);
        assert_int_equal(ltrr_ivf_brute(NULL, v, 4, h, &nh),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_ivf_vector(&g, 2, v), -1);
        assert_int_equal(ltrr_ivf_vector(NULL, 0, v), -1);
        assert_int_equal(ltrr_ivf_scratch_size(NULL, 4, 2), 0);
        free(blob);
}

/* A copy of @p blob (8-aligned) with the u32 at @p off set to @p x,
 * viewed: the error. */
static ltrr_err_t view_patched(const void *blob, size_t len, size_t off,
                               uint32_t x, char *errstr, size_t size)
{
        uint64_t *cp = malloc(len + 8);
        ltrr_ivf_view_t g;
        memcpy(cp, blob, len);
        memcpy((uint8_t *)cp + off, &x, 4);
        ltrr_err_t err = ltrr_ivf_view(cp, len, &g, errstr, size);
        free(cp);
        return err;
}

static void test_corrupt_refused(void **state)
{
        (void)state;
        char errstr[256];
        uint32_t n = 300, dim = 16;
        float *v = make_vecs(n, dim, 4, 0.3f, 21);
        ltrr_ivf_conf_t c = {.nlist = 6};
        ltrr_ivf_view_t g;
        size_t len;
        uint8_t *blob = build(v, n, dim, &c, &g, &len);
        uint8_t *cp = malloc(len + 8);
        /* magic, version, counts, length, misaligned, truncated */
        assert_int_equal(view_patched(blob, len, 0, 0x58585858, errstr,
                                      sizeof(errstr)),
                         LTRR_ERR_CORRUPT);
        assert_int_equal(view_patched(blob, len, 8, 2, errstr,
                                      sizeof(errstr)),
                         LTRR_ERR_CORRUPT);
        assert_non_null(strstr(errstr, "rebuild the index"));
        assert_int_equal(view_patched(blob, len, 12, 0, errstr,
                                      sizeof(errstr)),
                         LTRR_ERR_CORRUPT);
        assert_int_equal(view_patched(blob, len, 20, 7, errstr,
                                      sizeof(errstr)),
                         LTRR_ERR_CORRUPT);
        assert_int_equal(view_patched(blob, len, 32, 8, errstr,
                                      sizeof(errstr)),
                         LTRR_ERR_CORRUPT);
        memcpy(cp + 1, blob, len);
        assert_int_equal(ltrr_ivf_view(cp + 1, len, &g, errstr,
                                       sizeof(errstr)),
                         LTRR_ERR_CORRUPT);
        assert_int_equal(ltrr_ivf_view(blob, len - 8, &g, errstr,
                                       sizeof(errstr)),
                         LTRR_ERR_CORRUPT);
        assert_int_equal(ltrr_ivf_view(blob, 20, &g, errstr, sizeof(errstr)),
                         LTRR_ERR_CORRUPT);
        /* list starts out of order */
        assert_int_equal(ltrr_ivf_view(blob, len, &g, errstr, sizeof(errstr)),
                         LTRR_OK);
        size_t offs = (size_t)((const uint8_t *)g.offs - blob);
        assert_int_equal(view_patched(blob, len, offs + 8, g.cnt + 1, errstr,
                                      sizeof(errstr)),
                         LTRR_ERR_CORRUPT);
        assert_int_equal(view_patched(blob, len, offs + 4 * 6, g.cnt - 1,
                                      errstr, sizeof(errstr)),
                         LTRR_ERR_CORRUPT);
        free(cp);
        free(blob);
        free(v);
}

/* Entries the O(nlist) view cannot see: the full check refuses them and
 * the search skips an id out of range. */
static void test_bad_entries(void **state)
{
        (void)state;
        char errstr[256];
        uint32_t n = 300, dim = 16;
        float *v = make_vecs(n, dim, 4, 0.3f, 21);
        ltrr_ivf_conf_t c = {.nlist = 6};
        ltrr_ivf_view_t g;
        size_t len;
        uint8_t *blob = build(v, n, dim, &c, &g, &len);
        uint8_t *cp = malloc(len + 8);
        memcpy(cp, blob, len);
        size_t ids = (size_t)((const uint8_t *)g.ids - blob);
        uint32_t bad = n + 5;
        memcpy(cp + ids + 4 * 3, &bad, 4);
        assert_int_equal(ltrr_ivf_view(cp, len, &g, errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_ivf_check(&g, errstr, sizeof(errstr)),
                         LTRR_ERR_CORRUPT);
        assert_non_null(strstr(errstr, "entry 3"));
        ltrr_ivf_hit_t h[300];
        size_t nh;
        assert_int_equal(ltrr_ivf_brute(&g, v, 300, h, &nh), LTRR_OK);
        assert_int_equal(nh, g.cnt - 1);
        for (size_t i = 0; i < nh; i++)
                assert_true(h[i].id < n);
        /* a slot pointing elsewhere */
        memcpy(cp, blob, len);
        size_t slot = (size_t)((const uint8_t *)g.slot - cp);
        uint32_t s2;
        memcpy(&s2, cp + slot + 4 * 2, 4);
        s2 ^= 1;
        memcpy(cp + slot + 4 * 2, &s2, 4);
        assert_int_equal(ltrr_ivf_view(cp, len, &g, errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_ivf_check(&g, errstr, sizeof(errstr)),
                         LTRR_ERR_CORRUPT);
        free(cp);
        free(blob);
        free(v);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_dots_kernel),
            cmocka_unit_test(test_all_lists_exact),
            cmocka_unit_test(test_clusters_found),
            cmocka_unit_test(test_threads_same_bytes),
            cmocka_unit_test(test_degenerate),
            cmocka_unit_test(test_repeated),
            cmocka_unit_test(test_bad_args),
            cmocka_unit_test(test_corrupt_refused),
            cmocka_unit_test(test_bad_entries),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
