/*
 * ltrr - small dense linear algebra for the linear bandit policies.
 *
 * Row-major square matrices of order n <= LTRR_LINALG_MAX_DIM: Cholesky
 * factorisation of a symmetric positive definite matrix and the
 * triangular solves built on it. No allocation; callers pass buffers.
 * See docs/decisions/0007-bandit-statistics.md for why this is not
 * LAPACKE.
 */
#ifndef LTRR_LINALG_H
#define LTRR_LINALG_H

#include <stddef.h>

#include "err.h"

/** Largest matrix order accepted. */
#define LTRR_LINALG_MAX_DIM 64

/**
 * @brief Cholesky factorisation A = L L^T.
 * @param a   n x n symmetric matrix (only the lower triangle is read).
 * @param l   n x n output; the lower triangle holds L, the strict upper
 *            triangle is set to zero. May not alias @p a.
 * @returns LTRR_OK; LTRR_ERR_INVALID_ARG for n == 0 or n too large;
 *          LTRR_ERR_RANGE if A is not (numerically) positive definite,
 *          in which case @p l is unspecified.
 */
ltrr_err_t ltrr_linalg_cholesky(const double *a, double *l, size_t n,
                                char *errstr, size_t errstr_size);

/** @brief Solves L y = b (forward substitution); @p y may alias @p b. */
void ltrr_linalg_solve_lower(const double *l, const double *b, double *y,
                             size_t n);

/** @brief Solves L^T x = y (back substitution); @p x may alias @p y. */
void ltrr_linalg_solve_upper_t(const double *l, const double *y, double *x,
                               size_t n);

/** @brief Solves (L L^T) x = b; @p x may alias @p b. */
void ltrr_linalg_chol_solve(const double *l, const double *b, double *x,
                            size_t n);

/** @brief Dot product of two n-vectors. */
double ltrr_linalg_dot(const double *a, const double *b, size_t n);

#endif /* LTRR_LINALG_H */
