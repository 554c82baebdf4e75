/*
 * ltrr - an ordered list of string key/value pairs.
 *
 * Carries pass-through properties (librdkafka's `-X key=value`, INI
 * [kafka] sections) from the config system to the adapters that apply
 * them. Later values for the same key replace earlier ones in place, so
 * the list keeps the first position and the last value of each key.
 */
#ifndef LTRR_KVLIST_H
#define LTRR_KVLIST_H

#include <stddef.h>

#include "err.h"

/** Upper bound on entries: a config with more is refused, not truncated. */
#define LTRR_KVLIST_MAX 256

typedef struct ltrr_kv_s {
        char *key;   /**< owned by the list */
        char *value; /**< owned by the list */
} ltrr_kv_t;

typedef struct ltrr_kvlist_s {
        ltrr_kv_t *kvs; /**< cnt entries */
        size_t cnt;     /**< entries in use */
        size_t size;    /**< entries allocated */
} ltrr_kvlist_t;

/** @brief Initialises an empty list (no allocation). */
void ltrr_kvlist_init(ltrr_kvlist_t *kvl);

/** @brief Frees every entry; the list is empty and reusable afterwards. */
void ltrr_kvlist_clear(ltrr_kvlist_t *kvl);

/**
 * @brief Sets @p key to @p value (both copied).
 * @returns LTRR_OK, LTRR_ERR_NOMEM, or LTRR_ERR_NOSPACE past
 *          LTRR_KVLIST_MAX distinct keys.
 */
ltrr_err_t ltrr_kvlist_set(ltrr_kvlist_t *kvl, const char *key,
                           const char *value);

/** @brief Returns the value of @p key, or NULL. Valid until the next set. */
const char *ltrr_kvlist_get(const ltrr_kvlist_t *kvl, const char *key);

/** @brief Copies every entry of @p src into @p dst (later wins). */
ltrr_err_t ltrr_kvlist_copy(ltrr_kvlist_t *dst, const ltrr_kvlist_t *src);

#endif /* LTRR_KVLIST_H */
