/*
 * ltrr - query understanding: tags query tokens as artist, genre,
 * subgenre, mood, entity type, decade, year or language, and derives the
 * query's intent class for the bandit context.
 *
 * Two halves:
 *   - a dictionary (ltrr_qu_dict_t), built once from a catalog and held
 *     as one flat, position-independent byte blob that is written into the
 *     index file and loaded back without copying (qu_build.c builds, qu_dict.c loads);
 *   - a tagger (ltrr_qu_tag()) that matches the analyzed query's tokens
 *     against it, exactly and with bounded typos, and picks the best
 *     non-overlapping set of spans (qu.c). It allocates nothing: the
 *     caller hands in the output array and a per-thread scratch object.
 *
 * docs/QU.md describes the tables, the fuzzy rule, the scores and the
 * intent rule; docs/decisions/0013-query-understanding.md the reasons.
 */
#ifndef LTRR_QU_H
#define LTRR_QU_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "err.h"
#include "text.h"

/** Most tokens in one dictionary phrase; longer names are skipped. */
#define LTRR_QU_PHRASE_TOKENS_MAX 8
/** Query tokens looked at by ltrr_qu_tag(); later tokens are ignored. */
#define LTRR_QU_QUERY_TOKENS_MAX 32
/** Dictionary tokens a query token may stand for (itself plus typos). */
#define LTRR_QU_ALTS_MAX 12
/** Candidate spans considered per query; past it, later ones are dropped
 *  and the result is flagged truncated. */
#define LTRR_QU_CANDS_MAX 512
/** Query tokens shorter than this many code points never match fuzzily. */
#define LTRR_QU_FUZZY_MIN_CPS 4
/** Tokens of at least this many code points allow two edits. */
#define LTRR_QU_FUZZY_TWO_CPS 8
/** Spans whose confidence is below this are not reported. */
#define LTRR_QU_CONF_MIN 0.2f
/** Value meaning "no token / no entry". */
#define LTRR_QU_NONE UINT32_MAX

/** @brief What a span names. */
typedef enum {
        LTRR_QU_ARTIST = 0,   /**< value: LTRR_CATALOG_SYM_ARTIST symbol */
        LTRR_QU_GENRE = 1,    /**< value: LTRR_CATALOG_SYM_GENRE symbol */
        LTRR_QU_SUBGENRE = 2, /**< value: LTRR_CATALOG_SYM_SUBGENRE symbol */
        LTRR_QU_MOOD = 3,     /**< value: LTRR_CATALOG_SYM_MOOD symbol */
        LTRR_QU_TYPE = 4,     /**< value: ltrr_entity_type_t */
        LTRR_QU_DECADE = 5,   /**< value: first year (1990) */
        LTRR_QU_YEAR = 6,     /**< value: the year */
        LTRR_QU_LANGUAGE = 7, /**< value: ISO 639-1, c0 | c1 << 8 */
        LTRR_QU__CNT = 8
} ltrr_qu_kind_t;

/** @brief Query intent class, a bandit context feature. */
typedef enum {
        LTRR_QU_INTENT_ENTITY = 0,    /**< words beyond tags: a title */
        LTRR_QU_INTENT_ARTIST = 1,    /**< only artist names (and tags) */
        LTRR_QU_INTENT_TOPICAL = 2,   /**< only genre/mood/type/... tags */
        LTRR_QU_INTENT_AMBIGUOUS = 3, /**< one common or unknown word */
        LTRR_QU_INTENT__CNT = 4
} ltrr_qu_intent_t;

/** @brief One tagged span of query tokens. */
typedef struct ltrr_qu_span_s {
        uint16_t start;          /**< first token (index into the query) */
        uint16_t len;            /**< tokens covered, >= 1 */
        ltrr_qu_kind_t kind;     /**< what the span names */
        uint32_t entry;          /**< dictionary entry, or LTRR_QU_NONE for
                                  *   a year/decade read from digits */
        uint32_t value;          /**< see ltrr_qu_kind_t */
        float confidence;        /**< 0..1, see docs/QU.md */
        uint8_t fuzzy;           /**< 1 if any token matched with typos */
        uint8_t dist;            /**< total edit distance over the span */
} ltrr_qu_span_t;

/** @brief Read-only view of one dictionary entry. */
typedef struct ltrr_qu_entry_s {
        ltrr_qu_kind_t kind;     /**< what it names */
        uint32_t value;          /**< see ltrr_qu_kind_t */
        float weight;            /**< 0..1: popularity or frequency */
        const char *name;        /**< display name (not NUL-terminated) */
        uint32_t name_len;       /**< bytes of name */
        const uint32_t *toks;    /**< dictionary token ids of the phrase */
        uint32_t toks_cnt;       /**< entries in toks */
        uint32_t freq;           /**< catalog entities carrying the
                                  *   symbol; 0 for built-in words */
        uint32_t title_df;       /**< artists: names of other artists'
                                  *   entities holding the phrase (not as
                                  *   a "feat."/"with" credit); else 0 */
} ltrr_qu_entry_t;

/** @brief Sizes of a dictionary. */
typedef struct ltrr_qu_stats_s {
        uint32_t tokens;         /**< distinct dictionary tokens */
        uint32_t entries;        /**< dictionary entries */
        uint32_t deletes;        /**< deletion-neighbourhood keys */
        uint32_t skipped;        /**< names skipped at build (no token or
                                  *   more than LTRR_QU_PHRASE_TOKENS_MAX) */
        size_t bytes;            /**< size of the blob */
} ltrr_qu_stats_t;

/** @brief A fuzzy or exact stand-in for one query token. */
typedef struct ltrr_qu_alt_s {
        uint32_t tok;            /**< dictionary token id */
        uint32_t dist;           /**< edit distance to the query token */
} ltrr_qu_alt_t;

typedef struct ltrr_qu_dict_s ltrr_qu_dict_t;
typedef struct ltrr_qu_scratch_s ltrr_qu_scratch_t;

/**
 * @brief Builds the dictionaries of @p cat: every artist name (weight
 *        from its best popularity), genre, subgenre and mood (weight from
 *        frequency), plus the built-in tables of entity type words,
 *        language names and decade words.
 *
 * Names are tokenized with @p an; its norms (folded, unstemmed) are
 * matched, so the analyzer's language does not matter.
 * @returns the dictionary, or NULL with the reason in @p errstr
 *          (LTRR_ERR_NOMEM, or LTRR_ERR_RANGE past 4 GiB).
 * @locality uses @p an: one thread at a time.
 */
ltrr_qu_dict_t *ltrr_qu_dict_build(const ltrr_catalog_t *cat,
                                   ltrr_analyzer_t *an, char *errstr,
                                   size_t errstr_size);

/**
 * @brief Opens a dictionary from a blob written by a built dictionary.
 *
 * Nothing is copied: @p data is borrowed and must stay unchanged and
 * valid until ltrr_qu_dict_destroy(); it must be 8-byte aligned (mmap and
 * malloc memory are). Magic, version, size, checksum and every offset
 * and id are checked, so a corrupt blob is refused, never trusted.
 * @returns the dictionary, or NULL with the reason in @p errstr.
 */
ltrr_qu_dict_t *ltrr_qu_dict_load(const void *data, size_t len,
                                  char *errstr, size_t errstr_size);

/** @brief Frees @p d (and, if built, its blob); NULL is a no-op. */
void ltrr_qu_dict_destroy(ltrr_qu_dict_t *d);

/**
 * @brief The serialized form of @p d, for the index file.
 * @remark The bytes are owned by @p d and valid until it is destroyed.
 */
void ltrr_qu_dict_blob(const ltrr_qu_dict_t *d, const void **datap,
                       size_t *lenp);

/** @brief Fills @p st with the sizes of @p d. */
void ltrr_qu_dict_stats(const ltrr_qu_dict_t *d, ltrr_qu_stats_t *st);

/**
 * @brief Fills @p out with entry @p id.
 * @returns LTRR_OK or LTRR_ERR_RANGE.
 */
ltrr_err_t ltrr_qu_dict_entry(const ltrr_qu_dict_t *d, uint32_t id,
                              ltrr_qu_entry_t *out);

/* Lookups the tagger is made of; also usable by arms. All are
 * thread-safe on a shared dictionary and allocate nothing. */

/** @brief Id of dictionary token @p s, or LTRR_QU_NONE. */
uint32_t ltrr_qu_dict_token(const ltrr_qu_dict_t *d, const char *s,
                            size_t len);

/**
 * @brief Edits allowed between a query token and a dictionary token,
 *        from the shorter one's length in code points: 0 below
 *        LTRR_QU_FUZZY_MIN_CPS, 1 up to LTRR_QU_FUZZY_TWO_CPS - 1, else 2.
 */
unsigned ltrr_qu_fuzzy_max(size_t cps);

/**
 * @brief Dictionary tokens at the smallest edit distance (within the
 *        allowed one) from @p s, other than @p s itself; ties ordered by
 *        the largest weight of an entry holding the token, then id.
 *
 * Candidates come from the deletion neighbourhood index and are checked
 * with ltrr_text_distance().
 * @returns the number written to @p out (at most @p cap).
 */
size_t ltrr_qu_dict_fuzzy(const ltrr_qu_dict_t *d, const char *s,
                          size_t len, ltrr_qu_alt_t *out, size_t cap);

/** @brief Extends a phrase key by token @p tok (start from key 0). */
uint64_t ltrr_qu_key_step(uint64_t key, uint32_t tok);

/** Phrase flag: some entry's phrase is exactly this key. */
#define LTRR_QU_PHRASE_FULL 0x1
/** Phrase flag: some entry's phrase is longer and starts with it. */
#define LTRR_QU_PHRASE_PREFIX 0x2

/**
 * @brief Looks up phrase @p key.
 * @param firstp, cntp set to the entries whose phrase it is (sorted by
 *        kind, then weight descending) when the FULL flag is returned.
 * @returns LTRR_QU_PHRASE_* flags, 0 if the key is unknown.
 */
unsigned ltrr_qu_dict_phrase(const ltrr_qu_dict_t *d, uint64_t key,
                             uint32_t *firstp, uint32_t *cntp);

/** @brief Creates the tagger's scratch space (one per thread).
 *  @returns it, or NULL with the reason in @p errstr. */
ltrr_qu_scratch_t *ltrr_qu_scratch_new(char *errstr, size_t errstr_size);

/** @brief Frees @p sc; NULL is a no-op. */
void ltrr_qu_scratch_destroy(ltrr_qu_scratch_t *sc);

/**
 * @brief Tags the analyzed query @p toks (norms are matched).
 *
 * Chooses the non-overlapping set of spans with the best total score
 * (longer spans first, then confidence; docs/QU.md) by dynamic
 * programming over the tokens, and classifies the query's intent.
 *
 * @param spans  caller-owned output, sorted by start token
 * @param cntp   set to the number of spans written
 * @param intentp if not NULL, set to the intent class
 * @returns LTRR_OK; LTRR_ERR_INVALID_ARG for NULL pointers;
 *          LTRR_ERR_NOSPACE when more spans were chosen than @p cap (the
 *          first @p cap are written and *cntp is @p cap).
 * @locality @p sc is used by one thread at a time; @p d may be shared.
 */
ltrr_err_t ltrr_qu_tag(const ltrr_qu_dict_t *d, ltrr_qu_scratch_t *sc,
                       const ltrr_token_t *toks, size_t ntoks,
                       ltrr_qu_span_t *spans, size_t cap, size_t *cntp,
                       ltrr_qu_intent_t *intentp);

/** @brief "artist", "genre", ...; "unknown" for an invalid kind. */
const char *ltrr_qu_kind_name(ltrr_qu_kind_t kind);

/** @brief "entity", "artist", "topical", "ambiguous"; "unknown" else. */
const char *ltrr_qu_intent_name(ltrr_qu_intent_t intent);

#endif /* LTRR_QU_H */
