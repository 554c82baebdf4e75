/*
 * ltrr - ranker internals shared by ranker.c (features, scoring and
 * learning), ranker_codec.c (the binary blob and the text form) and
 * ranker_online.c (the online statistics).
 */
#ifndef LTRR_RANKER_INT_H
#define LTRR_RANKER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "ranker.h"

/** @brief The model behind the opaque ltrr_ranker_t handle. */
struct ltrr_ranker_s {
        ltrr_ranker_params_t params;  /* hyper-parameters */
        double z[LTRR_RANKER_NFEAT];  /* FTRL accumulated adjusted gradients */
        double n[LTRR_RANKER_NFEAT];  /* FTRL accumulated squared gradients */
        float w[LTRR_RANKER_NFEAT];   /* weights derived from z and n */
        uint64_t counter;             /* changes since creation */
};

/** @brief Stores the low @p nb bytes of @p v at @p p, little-endian. */
static inline void ltrr_ranker_le_put(uint8_t *p, uint64_t v, int nb)
{
        int i;

        for (i = 0; i < nb; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

/** @brief Loads @p nb little-endian bytes from @p p. */
static inline uint64_t ltrr_ranker_le_get(const uint8_t *p, int nb)
{
        uint64_t v = 0;

        while (nb-- > 0)
                v = (v << 8) | p[nb];
        return v;
}

/** @brief The feature layout table (defined in ranker.c). */
extern const ltrr_ranker_fdesc_t ltrr_ranker_fdescs[LTRR_RANKER_NFEAT];

/**
 * @brief Appends formatted text at *off of @p buf (@p size bytes).
 * @returns 0, or -1 once the buffer is full (it is then NUL-terminated
 *          and *off is set to @p size).
 */
int ltrr_ranker_append(char *buf, size_t size, size_t *off, const char *fmt,
                       ...) __attribute__((format(printf, 4, 5)));

/**
 * @brief Checks the hyper-parameters' ranges.
 * @returns LTRR_OK, or LTRR_ERR_INVALID_ARG with the reason in @p errstr.
 */
ltrr_err_t ltrr_ranker_params_check(const ltrr_ranker_params_t *p,
                                    char *errstr, size_t errstr_size);

/** @brief Derives every weight of @p rk from its z and n. */
void ltrr_ranker_weights_refresh(ltrr_ranker_t *rk);

#endif /* LTRR_RANKER_INT_H */
