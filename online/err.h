/*
 * ltrr - error codes shared by every module.
 */
#ifndef LTRR_ERR_H
#define LTRR_ERR_H

#include <stddef.h>

/**
 * @brief Result of a call that can fail: LTRR_OK or a negative code.
 *
 * The human-readable reason for a particular failure goes into the
 * caller's errstr buffer; the code only classifies it.
 */
typedef enum {
        LTRR_OK = 0,
        LTRR_ERR_INVALID_ARG = -1,  /**< a caller-supplied value is wrong */
        LTRR_ERR_NOMEM = -2,        /**< an allocation failed */
        LTRR_ERR_IO = -3,           /**< a file or stream could not be used */
        LTRR_ERR_PARSE = -4,        /**< input is syntactically malformed */
        LTRR_ERR_RANGE = -5,        /**< a value is outside its bounds */
        LTRR_ERR_UNKNOWN_KEY = -6,  /**< a name is not known */
        LTRR_ERR_NOSPACE = -7,      /**< a bounded buffer or queue is full */
        LTRR_ERR_TRUNCATED = -8,    /**< input ended before it was complete */
        LTRR_ERR_CORRUPT = -9,      /**< input fails an integrity check */
        LTRR_ERR_SCHEMA = -10,      /**< unknown or incompatible schema */
        LTRR_ERR_TRANSPORT = -11,   /**< Kafka, Redis or HTTP failed */
        LTRR_ERR_TIMEOUT = -12,     /**< an operation did not finish in time */
        LTRR_ERR_STATE = -13,       /**< a call is not valid in this state */
        LTRR_ERR__END = -14         /**< one past the last code */
} ltrr_err_t;

/**
 * @brief Returns a static, human-readable description of @p err.
 *
 * Unknown codes yield "unknown error"; the result is never NULL.
 */
const char *ltrr_err2str(ltrr_err_t err);

/**
 * @brief Returns the symbolic name of @p err ("LTRR_ERR_PARSE").
 */
const char *ltrr_err2name(ltrr_err_t err);

/**
 * @brief Formats into a caller-owned error buffer; safe with a NULL or
 * zero-sized buffer. Returns @p err so a caller can write
 * `return ltrr_errf(LTRR_ERR_PARSE, errstr, size, "...", ...);`.
 */
ltrr_err_t ltrr_errf(ltrr_err_t err, char *errstr, size_t errstr_size,
                     const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif /* LTRR_ERR_H */
