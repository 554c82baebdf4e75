/*
 * ltrr - the API key table of ltrr-collect.
 *
 * Keys are held as SHA-256 hashes only. A presented key is hashed and
 * compared with every entry in constant time, so neither the comparison
 * nor the number of entries compared leaks where a guess went wrong.
 * Each entry belongs to one app and has its own token bucket; the clock
 * is passed in, so rate limits are tested without sleeping.
 *
 * Entry text (config `api.keys`, comma separated):
 *   app_id:sha256hex[:rate]
 * app_id is 1..64 characters of [A-Za-z0-9._-]; sha256hex is the 64 hex
 * digits of SHA-256 of the key; rate is requests per second allowed
 * (burst: one second's worth, at least 1); absent or 0 means unlimited.
 */
#ifndef LTRR_APIKEY_H
#define LTRR_APIKEY_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/** Most entries in a table. */
#define LTRR_APIKEY_MAX 1024
/** Longest app id, in bytes. */
#define LTRR_APIKEY_APP_MAX 64
/** Longest key accepted from a client, in bytes. */
#define LTRR_APIKEY_KEY_MAX 512
/** Hex digits of a SHA-256 hash. */
#define LTRR_APIKEY_HEX_LEN 64

typedef struct ltrr_apikey_s ltrr_apikey_t; /* ak */

/**
 * @brief Creates an empty table.
 * @returns the table, or NULL with the reason in @p errstr.
 */
ltrr_apikey_t *ltrr_apikey_new(char *errstr, size_t errstr_size);

/** @brief Frees @p ak (hashes are wiped first). NULL is a no-op. */
void ltrr_apikey_destroy(ltrr_apikey_t *ak);

/**
 * @brief Adds entries from @p list: "app:hex[:rate]" items separated by
 *        commas (spaces around items are ignored). An empty list adds
 *        nothing.
 * @returns LTRR_OK; LTRR_ERR_PARSE naming the bad item (the hash itself
 *          is never echoed); LTRR_ERR_NOSPACE past LTRR_APIKEY_MAX.
 *          On error the table is unchanged.
 */
ltrr_err_t ltrr_apikey_load(ltrr_apikey_t *ak, const char *list,
                            char *errstr, size_t errstr_size);

/**
 * @brief Adds a plain-text key for @p app_id (development: the key is
 *        hashed at once and the text is not kept).
 * @param rate requests per second, 0 for unlimited.
 * @returns LTRR_OK, LTRR_ERR_INVALID_ARG or LTRR_ERR_NOSPACE.
 */
ltrr_err_t ltrr_apikey_add_plain(ltrr_apikey_t *ak, const char *app_id,
                                 const char *key, double rate, char *errstr,
                                 size_t errstr_size);

/** @brief Entries in the table. */
size_t ltrr_apikey_cnt(const ltrr_apikey_t *ak);

/**
 * @brief Finds the entry of the presented key.
 * @param key @p len bytes (not necessarily NUL-terminated).
 * @returns the entry index (>= 0), or -1 when no entry matches or the
 *          key is empty or longer than LTRR_APIKEY_KEY_MAX.
 * @remark Every entry is compared, each in constant time.
 */
int ltrr_apikey_check(const ltrr_apikey_t *ak, const char *key, size_t len);

/** @brief App id of entry @p idx, or NULL when out of range. */
const char *ltrr_apikey_app(const ltrr_apikey_t *ak, int idx);

/**
 * @brief Takes one request token from entry @p idx's bucket.
 * @param now_ms a monotonic clock in milliseconds (caller's).
 * @returns LTRR_OK, LTRR_ERR_NOSPACE when the bucket is empty (rate
 *          limited), LTRR_ERR_INVALID_ARG for a bad index.
 */
ltrr_err_t ltrr_apikey_take(ltrr_apikey_t *ak, int idx, int64_t now_ms);

/**
 * @brief Writes the lower-case hex SHA-256 of @p len bytes at @p key into
 *        @p hex (at least LTRR_APIKEY_HEX_LEN + 1 bytes).
 */
void ltrr_apikey_hash_hex(const char *key, size_t len, char *hex,
                          size_t hex_size);

#endif /* LTRR_APIKEY_H */
