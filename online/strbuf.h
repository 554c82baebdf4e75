/*
 * ltrr - a bounded, growing string builder.
 *
 * The caller owns the struct (usually on the stack or inside a context)
 * and gives it a maximum size at init. Appends grow the buffer up to that
 * maximum; the first failure (out of memory or past the maximum) is
 * sticky: later appends do nothing and ltrr_strbuf_err() reports it, so
 * a renderer can append freely and check once at the end.
 */
#ifndef LTRR_STRBUF_H
#define LTRR_STRBUF_H

#include <stddef.h>

#include "err.h"

/** Default maximum when 0 is given to ltrr_strbuf_init(): 16 MiB. */
#define LTRR_STRBUF_MAX_DEFAULT ((size_t)16 << 20)

typedef struct ltrr_strbuf_s {
        char *buf;      /**< NUL-terminated text, NULL until first append */
        size_t len;     /**< bytes in use, excluding the NUL */
        size_t cap;     /**< bytes allocated */
        size_t max;     /**< most bytes ever allocated, NUL included */
        ltrr_err_t err; /**< first failure, LTRR_OK if none */
        int fixed;      /**< buf is the caller's: never grown or freed */
} ltrr_strbuf_t;

/**
 * @brief Initialises an empty builder (no allocation).
 * @param max  largest buffer allowed, NUL included; 0 selects
 *             LTRR_STRBUF_MAX_DEFAULT.
 */
void ltrr_strbuf_init(ltrr_strbuf_t *sb, size_t max);

/**
 * @brief Initialises an empty builder over the caller's @p buf of
 * @p size bytes (> 0): it never allocates, and an append that does not
 * fit fails with LTRR_ERR_NOSPACE.
 */
void ltrr_strbuf_init_fixed(ltrr_strbuf_t *sb, char *buf, size_t size);

/**
 * @brief Frees the buffer (a fixed one is only emptied); the builder is
 * empty and reusable. NULL-safe.
 */
void ltrr_strbuf_clear(ltrr_strbuf_t *sb);

/** @brief Empties the text and the sticky error but keeps the memory. */
void ltrr_strbuf_reset(ltrr_strbuf_t *sb);

/**
 * @brief Appends @p n bytes of @p s.
 * @returns LTRR_OK, LTRR_ERR_NOMEM, or LTRR_ERR_NOSPACE when the result
 *          would exceed the maximum (nothing is appended then). Once an
 *          append failed, every later one returns the same error.
 */
ltrr_err_t ltrr_strbuf_append(ltrr_strbuf_t *sb, const char *s, size_t n);

/** @brief Appends the NUL-terminated string @p s. */
ltrr_err_t ltrr_strbuf_puts(ltrr_strbuf_t *sb, const char *s);

/** @brief Appends one character. */
ltrr_err_t ltrr_strbuf_putc(ltrr_strbuf_t *sb, char c);

/** @brief Appends printf-formatted text. */
ltrr_err_t ltrr_strbuf_printf(ltrr_strbuf_t *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/**
 * @brief Appends @p s (NUL-terminated) as a quoted JSON string: `"` and
 * `\` and control characters are escaped, valid UTF-8 is copied as is,
 * and each byte of an invalid UTF-8 sequence becomes U+FFFD, so the
 * output is always valid JSON. NULL appends `null`.
 */
ltrr_err_t ltrr_strbuf_json_str(ltrr_strbuf_t *sb, const char *s);

/**
 * @brief Appends @p v as a JSON number the way jansson prints a real
 * (`%.17g`, with `.0` added to an integral value); a NaN or an infinity,
 * which JSON cannot carry, appends `null`.
 */
ltrr_err_t ltrr_strbuf_json_num(ltrr_strbuf_t *sb, double v);

/** @brief Returns the text ("" when empty); valid until the next call. */
const char *ltrr_strbuf_str(const ltrr_strbuf_t *sb);

/** @brief Returns the sticky error (LTRR_OK if every append succeeded). */
ltrr_err_t ltrr_strbuf_err(const ltrr_strbuf_t *sb);

#endif /* LTRR_STRBUF_H */
