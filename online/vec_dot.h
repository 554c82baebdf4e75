/*
 * ltrr - int8 vectors for the HNSW graphs: quantization and the inner
 * product of two code vectors.
 *
 * A vector is stored as dim signed 8-bit codes in -127..127 and one
 * float scale, the inverse of the codes' Euclidean norm, so that
 * scale * codes is the unit vector. Integer inputs within -127..127
 * (hashed n-gram counts) are stored exactly; other vectors are scaled so
 * that their largest component becomes 127.
 *
 * The inner product of two code vectors is an exact integer sum. On
 * x86-64 an AVX2 version is picked at the first call when the CPU has
 * it (__builtin_cpu_supports); both versions return the same integer,
 * so graphs built and searched with either are identical.
 * docs/decisions/0035-ann-build-budget.md gives the reasons.
 */
#ifndef LTRR_VEC_DOT_H
#define LTRR_VEC_DOT_H

#include <stdint.h>

/** Largest dimension whose integer inner product cannot overflow. */
#define LTRR_VEC_DIM_MAX 65536

/**
 * @brief Quantizes @p x (dim floats, any length) into @p codes.
 *
 * Non-finite components count as 0. All-zero input gives zero codes.
 * @returns the scale: 1 / ||codes||, or 0 for a zero vector.
 */
float ltrr_vec_quantize_i8(const float *x, uint32_t dim, int8_t *codes);

/**
 * @brief Exact inner product of two code vectors of @p dim codes
 *        (each in -127..127), with the fastest version this CPU runs.
 */
int32_t ltrr_vec_dot_i8(const int8_t *a, const int8_t *b, uint32_t dim);

/** @brief The portable version of ltrr_vec_dot_i8() (same results). */
int32_t ltrr_vec_dot_i8_scalar(const int8_t *a, const int8_t *b,
                               uint32_t dim);

/** @brief An inner product of code vectors. */
typedef int32_t (*ltrr_vec_dot_fn)(const int8_t *a, const int8_t *b,
                                   uint32_t dim);

/** @brief The version ltrr_vec_dot_i8() runs, to call it directly in
 *         hot loops. */
ltrr_vec_dot_fn ltrr_vec_dot_i8_best(void);

/** @brief Name of the version ltrr_vec_dot_i8() runs: "avx2" or
 *         "scalar". */
const char *ltrr_vec_dot_impl(void);

#endif /* LTRR_VEC_DOT_H */
