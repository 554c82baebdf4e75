/*
 * ltrr - Cholesky factorisation and triangular solves.
 */
#include "linalg.h"

#include <math.h>

/* A pivot must exceed this fraction of the largest diagonal entry of A,
 * otherwise the matrix is treated as not positive definite. */
#define LINALG_REL_EPS 1e-12

/* Largest diagonal entry of a, used to scale the pivot test. */
static double diag_max(const double *a, size_t n)
{
        double m = 0.0;
        size_t i;

        for (i = 0; i < n; i++)
                if (a[i * n + i] > m)
                        m = a[i * n + i];
        return m;
}

/* Cholesky-Banachiewicz, row by row. On a non-positive pivot, stops and
 * reports the row. */
ltrr_err_t ltrr_linalg_cholesky(const double *a, double *l, size_t n,
                                char *errstr, size_t errstr_size)
{
        double tol, sum;
        size_t i, j, k;

        if (n == 0 || n > LTRR_LINALG_MAX_DIM)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "matrix order %zu outside 1..%d", n,
                                 LTRR_LINALG_MAX_DIM);
        tol = diag_max(a, n) * LINALG_REL_EPS;
        for (i = 0; i < n; i++) {
                for (j = 0; j <= i; j++) {
                        sum = a[i * n + j];
                        for (k = 0; k < j; k++)
                                sum -= l[i * n + k] * l[j * n + k];
                        if (i != j) {
                                l[i * n + j] = sum / l[j * n + j];
                                continue;
                        }
                        if (!(sum > tol))
                                return ltrr_errf(LTRR_ERR_RANGE, errstr,
                                                 errstr_size,
                                                 "matrix not positive "
                                                 "definite at row %zu", i);
                        l[i * n + i] = sqrt(sum);
                }
                for (j = i + 1; j < n; j++)
                        l[i * n + j] = 0.0;
        }
        return LTRR_OK;
}

void ltrr_linalg_solve_lower(const double *l, const double *b, double *y,
                             size_t n)
{
        double sum;
        size_t i, k;

        for (i = 0; i < n; i++) {
                sum = b[i];
                for (k = 0; k < i; k++)
                        sum -= l[i * n + k] * y[k];
                y[i] = sum / l[i * n + i];
        }
}

void ltrr_linalg_solve_upper_t(const double *l, const double *y, double *x,
                               size_t n)
{
        double sum;
        size_t i, k;

        for (i = n; i-- > 0;) {
                sum = y[i];
                for (k = i + 1; k < n; k++)
                        sum -= l[k * n + i] * x[k];
                x[i] = sum / l[i * n + i];
        }
}

void ltrr_linalg_chol_solve(const double *l, const double *b, double *x,
                            size_t n)
{
        ltrr_linalg_solve_lower(l, b, x, n);
        ltrr_linalg_solve_upper_t(l, x, x, n);
}

double ltrr_linalg_dot(const double *a, const double *b, size_t n)
{
        double sum = 0.0;
        size_t i;

        for (i = 0; i < n; i++)
                sum += a[i] * b[i];
        return sum;
}
