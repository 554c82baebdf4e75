/* Unit tests: Cholesky factorisation and solves. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "linalg.h"
#include "rng.h"

/* The textbook example: A = L L^T with small integer L. */
static void test_known_3x3(void **state)
{
        const double a[9] = {4, 12, -16, 12, 37, -43, -16, -43, 98};
        const double want[9] = {2, 0, 0, 6, 1, 0, -8, 5, 3};
        const double x_true[3] = {1, -2, 0.5};
        double l[9], b[3], x[3];
        size_t i;

        memset(l, 0x7f, sizeof(l)); /* upper triangle must be zeroed */
        assert_int_equal(ltrr_linalg_cholesky(a, l, 3, NULL, 0), LTRR_OK);
        for (i = 0; i < 9; i++)
                assert_true(fabs(l[i] - want[i]) < 1e-12);
        for (i = 0; i < 3; i++)
                b[i] = ltrr_linalg_dot(&a[i * 3], x_true, 3);
        ltrr_linalg_chol_solve(l, b, x, 3);
        for (i = 0; i < 3; i++)
                assert_true(fabs(x[i] - x_true[i]) < 1e-12);
        /* in place */
        ltrr_linalg_chol_solve(l, b, b, 3);
        for (i = 0; i < 3; i++)
                assert_true(fabs(b[i] - x_true[i]) < 1e-12);
}

static void test_triangular_solves(void **state)
{
        const double l[4] = {2, 0, 3, 4};
        double y[2], x[2];
        const double b[2] = {4, 18};

        ltrr_linalg_solve_lower(l, b, y, 2); /* 2y0 = 4, 3y0 + 4y1 = 18 */
        assert_true(fabs(y[0] - 2.0) < 1e-15 && fabs(y[1] - 3.0) < 1e-15);
        ltrr_linalg_solve_upper_t(l, b, x, 2); /* 4x1 = 18; 2x0 + 3x1 = 4 */
        assert_true(fabs(x[1] - 4.5) < 1e-15);
        assert_true(fabs(x[0] - (4.0 - 13.5) / 2.0) < 1e-15);
}

/* Random SPD matrices M M^T + I of order 1..64: L L^T reproduces A and
 * solves leave a small residual. */
static void test_random_spd(void **state)
{
        static double m[64 * 64], a[64 * 64], l[64 * 64];
        double b[64], x[64], r, s;
        ltrr_rng_t rng;
        size_t n, i, j, k;
        static const size_t sizes[] = {1, 2, 5, 16, 32, 64};

        ltrr_rng_seed(&rng, 5);
        for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
                n = sizes[k];
                for (i = 0; i < n * n; i++)
                        m[i] = ltrr_rng_gauss(&rng);
                for (i = 0; i < n; i++)
                        for (j = 0; j < n; j++)
                                a[i * n + j] = ltrr_linalg_dot(&m[i * n],
                                                               &m[j * n], n) +
                                               (i == j);
                assert_int_equal(ltrr_linalg_cholesky(a, l, n, NULL, 0),
                                 LTRR_OK);
                for (i = 0; i < n; i++)
                        for (j = 0; j < n; j++) {
                                s = ltrr_linalg_dot(&l[i * n], &l[j * n], n);
                                assert_true(fabs(s - a[i * n + j]) <
                                            1e-9 * (1 + fabs(a[i * n + j])));
                        }
                for (i = 0; i < n; i++)
                        b[i] = ltrr_rng_gauss(&rng);
                ltrr_linalg_chol_solve(l, b, x, n);
                for (i = 0; i < n; i++) {
                        r = ltrr_linalg_dot(&a[i * n], x, n) - b[i];
                        assert_true(fabs(r) < 1e-8);
                }
        }
}

static void test_not_positive_definite(void **state)
{
        const double indefinite[4] = {1, 2, 2, 1};
        const double zero[4] = {0, 0, 0, 0};
        const double singular[4] = {1, 1, 1, 1};
        const double negative[1] = {-3};
        double l[4];
        char errstr[128] = "";

        assert_int_equal(ltrr_linalg_cholesky(indefinite, l, 2, errstr,
                                              sizeof(errstr)),
                         LTRR_ERR_RANGE);
        assert_non_null(strstr(errstr, "positive definite"));
        assert_int_equal(ltrr_linalg_cholesky(zero, l, 2, NULL, 0),
                         LTRR_ERR_RANGE);
        assert_int_equal(ltrr_linalg_cholesky(singular, l, 2, NULL, 0),
                         LTRR_ERR_RANGE);
        assert_int_equal(ltrr_linalg_cholesky(negative, l, 1, NULL, 0),
                         LTRR_ERR_RANGE);
}

static void test_bad_order(void **state)
{
        double a[1] = {1}, l[1];
        char errstr[64];

        assert_int_equal(ltrr_linalg_cholesky(a, l, 0, errstr, sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_linalg_cholesky(a, l, LTRR_LINALG_MAX_DIM + 1,
                                              errstr, sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_true(ltrr_linalg_dot(a, a, 0) == 0.0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_known_3x3),
                cmocka_unit_test(test_triangular_solves),
                cmocka_unit_test(test_random_spd),
                cmocka_unit_test(test_not_positive_definite),
                cmocka_unit_test(test_bad_order),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
