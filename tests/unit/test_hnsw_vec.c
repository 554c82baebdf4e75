/*
 * Unit tests for the int8 vectors of the HNSW graphs (vec_dot.h): the
 * dispatched inner product equals the portable one for every length and
 * for extreme codes (so graphs do not depend on the CPU), integer inputs
 * are stored exactly, other inputs keep their direction, and zero or
 * non-finite components are handled.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rng.h"
#include "vec_dot.h"

/* Inner product in 64-bit integers. */
static int64_t dot64(const int8_t *a, const int8_t *b, uint32_t dim)
{
        int64_t s = 0;
        for (uint32_t i = 0; i < dim; i++)
                s += (int64_t)a[i] * b[i];
        return s;
}

/* Every length 0..300 (the SIMD steps and all their tails), random and
 * extreme codes, unaligned starts. */
static void test_dot_same_everywhere(void **state)
{
        (void)state;
        enum { MAXD = 300 };
        static int8_t a[MAXD + 1], b[MAXD + 1];
        ltrr_rng_t rng;
        ltrr_rng_seed(&rng, 12);
        print_message("dot version: %s\n", ltrr_vec_dot_impl());
        assert_true(!strcmp(ltrr_vec_dot_impl(), "avx2") ||
                    !strcmp(ltrr_vec_dot_impl(), "scalar"));
        for (uint32_t dim = 0; dim <= MAXD; dim++) {
                for (int kind = 0; kind < 3; kind++) {
                        for (uint32_t i = 0; i <= MAXD; i++) {
                                int x = (int)ltrr_rng_below(&rng, 255) - 127;
                                int y = (int)ltrr_rng_below(&rng, 255) - 127;
                                /* 1: all +127 against -127; 2: all 127 */
                                a[i] = (int8_t)(kind == 0 ? x : 127);
                                b[i] = (int8_t)(kind == 0 ? y
                                                : kind == 1 ? -127 : 127);
                        }
                        uint32_t off = dim < MAXD ? dim & 1 : 0;
                        int64_t want = dot64(a + off, b + off, dim);
                        assert_int_equal(
                            ltrr_vec_dot_i8(a + off, b + off, dim), want);
                        assert_int_equal(
                            ltrr_vec_dot_i8_scalar(a + off, b + off, dim),
                            want);
                        assert_int_equal(
                            ltrr_vec_dot_i8_best()(a + off, b + off, dim),
                            want);
                }
        }
}

/* Small integer vectors (hashed n-gram counts) are stored as they are. */
static void test_quantize_integers_exact(void **state)
{
        (void)state;
        float x[40];
        int8_t c[40];
        double ss = 0;
        for (int i = 0; i < 40; i++) {
                x[i] = (float)((i * 7) % 11 - 5);
                ss += (double)x[i] * x[i];
        }
        float s = ltrr_vec_quantize_i8(x, 40, c);
        for (int i = 0; i < 40; i++)
                assert_int_equal(c[i], (int)x[i]);
        assert_float_equal(s, 1.0 / sqrt(ss), 1e-7);
        /* integers beyond 127 are scaled: the largest becomes 127 */
        x[3] = 300;
        ltrr_vec_quantize_i8(x, 40, c);
        assert_int_equal(c[3], 127);
}

/* Floats: the largest magnitude maps to +-127, the scale makes a unit
 * vector, the direction survives (cosine > 0.999 in 64 dims). */
static void test_quantize_floats(void **state)
{
        (void)state;
        enum { D = 64 };
        ltrr_rng_t rng;
        float x[D];
        int8_t c[D];
        ltrr_rng_seed(&rng, 5);
        for (int t = 0; t < 50; t++) {
                int maxi = 0;
                for (int i = 0; i < D; i++) {
                        x[i] = (float)ltrr_rng_gauss(&rng) * 0.01f;
                        if (fabsf(x[i]) > fabsf(x[maxi]))
                                maxi = i;
                }
                float s = ltrr_vec_quantize_i8(x, D, c);
                assert_int_equal(abs(c[maxi]), 127);
                double dp = 0, xx = 0, cc = 0;
                for (int i = 0; i < D; i++) {
                        assert_true(c[i] >= -127 && c[i] <= 127);
                        dp += (double)x[i] * c[i];
                        xx += (double)x[i] * x[i];
                        cc += (double)c[i] * c[i];
                }
                assert_float_equal(s * s * cc, 1.0, 1e-5);
                assert_true(dp / sqrt(xx * cc) > 0.999);
        }
}

/* Zero vectors have scale 0; NaN and infinities count as 0; extreme
 * magnitudes do not overflow. */
static void test_quantize_degenerate(void **state)
{
        (void)state;
        float z[8] = {0}, bad[4] = {NAN, INFINITY, -INFINITY, 2.0f};
        int8_t c[8];
        memset(c, 9, sizeof(c));
        assert_true(ltrr_vec_quantize_i8(z, 8, c) == 0.0f);
        for (int i = 0; i < 8; i++)
                assert_int_equal(c[i], 0);
        float s = ltrr_vec_quantize_i8(bad, 4, c);
        assert_int_equal(c[0], 0);
        assert_int_equal(c[1], 0);
        assert_int_equal(c[2], 0);
        assert_int_equal(c[3], 2);
        assert_float_equal(s, 0.5, 1e-7);
        memset(z, 0, sizeof(z));
        z[0] = NAN;
        assert_true(ltrr_vec_quantize_i8(z, 8, c) == 0.0f);
        assert_true(ltrr_vec_quantize_i8(z, 0, c) == 0.0f);
        /* subnormal and huge components still map to +-127 */
        float tiny[2] = {1e-45f, -1e-45f}, huge[2] = {3e38f, -1e38f};
        assert_true(ltrr_vec_quantize_i8(tiny, 2, c) > 0);
        assert_int_equal(c[0], 127);
        assert_int_equal(c[1], -127);
        assert_true(ltrr_vec_quantize_i8(huge, 2, c) > 0);
        assert_int_equal(c[0], 127);
        assert_int_equal(c[1], -42);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_dot_same_everywhere),
            cmocka_unit_test(test_quantize_integers_exact),
            cmocka_unit_test(test_quantize_floats),
            cmocka_unit_test(test_quantize_degenerate),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
