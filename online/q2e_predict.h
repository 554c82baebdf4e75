/*
 * ltrr - predicted Q2E: at index time, the queries users are likely to
 * type for each entity (its name, "artist title", the artist alone,
 * prefixes of the name, one common misspelling), each with a predicted
 * score, stored as an index section for cold start of the memory arm.
 *
 * The section is a keyed table: sorted 64-bit query hashes, each with a
 * short list of (entity, score) best first. The same table format holds
 * the popular arm's prefix lists and the structured arm's attribute
 * lists (arm_state.h). docs/decisions/0020-predicted-q2e.md gives the
 * reasons; docs/ARMS.md the scores.
 *
 * Table layout (little-endian, 8-byte aligned):
 *   header  32 bytes: magic "LTKT", version, key count, entry count,
 *           per-key maximum, 3 reserved words
 *   keys    key count x {u64 hash, u32 first entry, u32 entries},
 *           sorted by hash
 *   entries entry count x {u32 entity, f32 score}
 */
#ifndef LTRR_Q2E_PREDICT_H
#define LTRR_Q2E_PREDICT_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "err.h"
#include "text.h"

/** Longest generated query in bytes, excluding the NUL. */
#define LTRR_Q2E_PREDICT_QUERY_MAX 128
/** Most queries generated for one entity. */
#define LTRR_Q2E_PREDICT_PER_ENTITY 16
/** Default entities kept per predicted query. */
#define LTRR_Q2E_PREDICT_PER_QUERY 8
/** Default entries kept overall (beyond it, entities are skipped and
 *  counted). */
#define LTRR_Q2E_PREDICT_TOTAL_MAX (32u << 20)
/** Shortest and longest name prefix generated, in code points. */
#define LTRR_Q2E_PREDICT_PREFIX_MIN 3
#define LTRR_Q2E_PREDICT_PREFIX_MAX 10

/** @brief Why a query was generated. */
typedef enum {
        LTRR_Q2E_PRED_NAME = 0,         /**< the name */
        LTRR_Q2E_PRED_ARTIST_TITLE = 1, /**< "artist name" */
        LTRR_Q2E_PRED_ARTIST = 2,       /**< the artist alone */
        LTRR_Q2E_PRED_PREFIX = 3,       /**< a prefix of the name */
        LTRR_Q2E_PRED_MISSPELLING = 4   /**< the name with one typo */
} ltrr_q2e_pred_kind_t;

/** @brief One generated query. */
typedef struct ltrr_q2e_pred_query_s {
        char query[LTRR_Q2E_PREDICT_QUERY_MAX + 1]; /**< normalized */
        ltrr_q2e_pred_kind_t kind;  /**< why */
        float score;                /**< predicted score, 0..1 */
} ltrr_q2e_pred_query_t;

/** @brief One (entity, score) entry of a keyed table. */
typedef struct ltrr_q2e_tab_ent_s {
        uint32_t ent;  /**< entity index */
        float score;   /**< higher is better */
} ltrr_q2e_tab_ent_t;

/** @brief A keyed table being built. */
typedef struct ltrr_q2e_tab_s ltrr_q2e_tab_t;

/** @brief Hash of a normalized query (64-bit FNV-1a). Thread-safe. */
uint64_t ltrr_q2e_predict_key(const char *s, size_t len);

/**
 * @brief Generates the queries of one entity.
 *
 * @param an       analyzer (its normalization makes the keys).
 * @param name     entity name.
 * @param artists  artist names, or NULL when @p artists_cnt is 0.
 * @param popw     popularity weight 0..1 (scales every score).
 * @param out      caller array of @p cap entries.
 * @returns the number written (<= cap; a query that normalizes to
 *          nothing or repeats an earlier one is left out).
 * @locality uses @p an: one thread at a time.
 */
size_t ltrr_q2e_predict_queries(ltrr_analyzer_t *an, const char *name,
                                const char *const *artists,
                                size_t artists_cnt, float popw,
                                ltrr_q2e_pred_query_t *out, size_t cap);

/**
 * @brief Builds the predicted-Q2E table of @p cat.
 * @param per_query  entities kept per query (0: the default).
 * @param total_max  entries kept before sorting (0: the default).
 * @returns the table (ltrr_q2e_tab_blob() gives its bytes), or NULL with
 *          the reason in @p errstr.
 */
ltrr_q2e_tab_t *ltrr_q2e_predict_build(const ltrr_catalog_t *cat,
                                       ltrr_analyzer_t *an,
                                       uint32_t per_query, size_t total_max,
                                       char *errstr, size_t errstr_size);

/**
 * @brief Creates an empty table keeping at most @p per_key entries per
 *        key (the best scores) and @p total_max entries in all.
 * @returns the table, or NULL on bad arguments or out of memory.
 */
ltrr_q2e_tab_t *ltrr_q2e_tab_new(uint32_t per_key, size_t total_max);

/** @brief Frees @p tab; NULL is a no-op. */
void ltrr_q2e_tab_destroy(ltrr_q2e_tab_t *tab);

/**
 * @brief Adds (key, entity, score).
 * @returns LTRR_OK, LTRR_ERR_NOSPACE when the table holds total_max
 *          entries (the entry is dropped and counted), LTRR_ERR_NOMEM,
 *          or LTRR_ERR_STATE after ltrr_q2e_tab_finish().
 */
ltrr_err_t ltrr_q2e_tab_add(ltrr_q2e_tab_t *tab, uint64_t key, uint32_t ent,
                            float score);

/**
 * @brief Sorts, keeps the best per key and serializes. Later adds fail.
 *
 * Runs in about linear time (radix passes; a stamp per entity id finds
 * repeated pairs) with scratch memory of one more tuple array (16 bytes
 * per entry added) and 4 bytes per entity id up to the largest added.
 * @returns LTRR_OK or LTRR_ERR_NOMEM / LTRR_ERR_RANGE (past 2^32).
 */
ltrr_err_t ltrr_q2e_tab_finish(ltrr_q2e_tab_t *tab, char *errstr,
                               size_t errstr_size);

/** @brief The serialized table (after finish; else NULL/0). Owned by
 *         @p tab. */
void ltrr_q2e_tab_blob(const ltrr_q2e_tab_t *tab, const void **datap,
                       size_t *lenp);

/** @brief Entries dropped because the table was full. */
uint64_t ltrr_q2e_tab_dropped(const ltrr_q2e_tab_t *tab);

/**
 * @brief Checks a serialized table's header against its length.
 * @returns LTRR_OK, LTRR_ERR_CORRUPT or LTRR_ERR_TRUNCATED.
 */
ltrr_err_t ltrr_q2e_tab_check(const void *data, uint64_t len, char *errstr,
                              size_t errstr_size);

/**
 * @brief Looks @p key up in a serialized table (zero-copy, thread-safe).
 * @param entsp, cntp set to the key's entries (best first) and count;
 *        NULL and 0 when the key is absent or the table is invalid.
 * @returns 1 if found, 0 if not, -1 if the table is invalid.
 */
int ltrr_q2e_tab_lookup(const void *data, uint64_t len, uint64_t key,
                        const ltrr_q2e_tab_ent_t **entsp, size_t *cntp);

#endif /* LTRR_Q2E_PREDICT_H */
