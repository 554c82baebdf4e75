/*
 * ltrr - the index file: one versioned, checksummed file built from a
 * catalog by ltrr-index and memory-mapped read-only by serving.
 *
 * docs/INDEX.md documents the byte layout; docs/decisions/0011-index-file.md
 * the reasons. In short: a 64-byte header (magic, format and analyzer
 * versions, section count, file size, header CRC-32C), a section table
 * (kind, offset, length, CRC-32C per section), then 8-byte aligned
 * sections. Unknown section kinds are skipped; a missing required one is
 * an error.
 */
#ifndef LTRR_INDEX_H
#define LTRR_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "err.h"

/** First 8 bytes of every index file. */
#define LTRR_INDEX_MAGIC "LTRRIDX\0"
/** Layout version written by this build; others are refused. */
#define LTRR_INDEX_FORMAT_VERSION 2
/** Version of the text analysis the terms were made with (text.h). A
 *  change in tokens, folding or stemming must bump it. */
#define LTRR_INDEX_ANALYZER_VERSION 1
/** Most sections in one file. */
#define LTRR_INDEX_SECTIONS_MAX 64
/** Searchable fields. */
#define LTRR_INDEX_FIELDS 4
/** Longest analyzer language code stored in the file, excluding NUL. */
#define LTRR_INDEX_LANG_MAX 15

/** @brief Searchable fields, in the order of per-field arrays. */
typedef enum {
        LTRR_INDEX_FIELD_NAME = 0,
        LTRR_INDEX_FIELD_ARTIST = 1,
        LTRR_INDEX_FIELD_ALBUM = 2,
        LTRR_INDEX_FIELD_DESCRIPTION = 3
} ltrr_index_field_t;

/** @brief Section kinds. Kinds 1..10 are required. */
typedef enum {
        LTRR_INDEX_SEC_META = 1,     /**< counts, language, field stats */
        LTRR_INDEX_SEC_ENTITIES = 2, /**< fixed records: string offsets */
        LTRR_INDEX_SEC_STRINGS = 3,  /**< NUL-terminated string pool */
        LTRR_INDEX_SEC_TERMS = 4,    /**< sorted term dictionary */
        LTRR_INDEX_SEC_TERMSTR = 5,  /**< term bytes */
        LTRR_INDEX_SEC_POSTINGS = 6, /**< doc id + per-field tf */
        LTRR_INDEX_SEC_FIELDLEN = 7, /**< tokens per field per entity */
        LTRR_INDEX_SEC_FEATURES = 8, /**< numeric features per entity */
        LTRR_INDEX_SEC_BLOCKS = 9,   /**< score bounds per posting block */
        LTRR_INDEX_SEC_NAMES = 10,   /**< entities by name token multiset */
        LTRR_INDEX_SEC_NGRAMS = 16,  /**< reserved: fuzzy arm */
        LTRR_INDEX_SEC_VECTORS = 17, /**< reserved: semantic arm */
        LTRR_INDEX_SEC_QU = 18,      /**< reserved: QU dictionaries */
        LTRR_INDEX_SEC_Q2E = 19,     /**< reserved: predicted Q2E */
        LTRR_INDEX_SEC_PREFIX = 20,  /**< popular entities per prefix */
        LTRR_INDEX_SEC_ATTRS = 21,   /**< entities per attribute value */
        LTRR_INDEX_SEC_ENTATTR = 22, /**< artists and genres per entity */
        LTRR_INDEX_SEC_IMPACT = 23,  /**< best postings of long lists by
                                      *   impact (written by the build) */
        LTRR_INDEX_SEC_PFXIMPACT = 24, /**< best entities of frequent
                                        *   prefixes (written by the build) */
        LTRR_INDEX_SEC_RECENT = 25   /**< most recent postings of long
                                      *   lists (written by the build) */
} ltrr_index_sec_t;

/** @brief A section supplied by the caller (a later arm's data). */
typedef struct ltrr_index_extra_s {
        uint32_t kind;    /**< a kind not in 1..8 */
        const void *data; /**< borrowed for the call */
        size_t len;       /**< bytes */
} ltrr_index_extra_t;

/** Most extra sections one build accepts. */
#define LTRR_INDEX_EXTRA_MAX 16

/** @brief Build options; zero-initialised gives the defaults. */
typedef struct ltrr_index_build_conf_s {
        const char *lang;  /**< analyzer language, NULL = "en" */
        /** BM25F field weights and b the block bounds are computed for
         *  (queries with other values use looser bounds); all zero: the
         *  lexical arm's defaults. */
        float bound_w[LTRR_INDEX_FIELDS];
        float bound_b[LTRR_INDEX_FIELDS]; /**< see bound_w */
        int stopwords;     /**< 1: drop English stop words (index and
                            *   query); 0: keep every token */
        /** Called now and then with entities done; NULL for none. */
        void (*progress)(void *opaque, const char *phase, uint64_t done,
                         uint64_t total);
        void *opaque;      /**< passed to progress */
        const ltrr_index_extra_t *extra; /**< sections written after the
                                          *   required ones, or NULL */
        size_t extra_cnt;  /**< entries in extra, <= LTRR_INDEX_EXTRA_MAX */
        /** Terms with more postings than this get an impact-ordered
         *  list in LTRR_INDEX_SEC_IMPACT and a date-ordered one in
         *  LTRR_INDEX_SEC_RECENT; 0: LTRR_INDEX_IMPACT_MIN_DF,
         *  UINT32_MAX: no such section. */
        uint32_t impact_min_df;
        /** Postings kept per impact-ordered list; 0:
         *  LTRR_INDEX_IMPACT_LEN. */
        uint32_t impact_len;
} ltrr_index_build_conf_t;

/** Default ltrr_index_build_conf_t.impact_min_df. */
#define LTRR_INDEX_IMPACT_MIN_DF 4096
/** Default ltrr_index_build_conf_t.impact_len. */
#define LTRR_INDEX_IMPACT_LEN 4096

/** @brief One entry of the section table, as ltrr_index_section_info()
 *         reports it. */
typedef struct ltrr_index_section_info_s {
        uint32_t kind;    /**< ltrr_index_sec_t or an unknown kind */
        uint64_t offset;  /**< bytes from the start of the file */
        uint64_t length;  /**< bytes */
        uint32_t crc;     /**< CRC-32C of the section's bytes */
        int known;        /**< 1 if this build understands the kind */
} ltrr_index_section_info_t;

/** @brief Read-only view of one indexed entity. Strings point into the
 *         mapping and stay valid until ltrr_index_destroy(). */
typedef struct ltrr_index_entity_s {
        const char *id;          /**< unique id */
        const char *name;        /**< display name */
        const char *artists;     /**< artist names joined by ", ", or "" */
        const char *album;       /**< album, or "" */
        const char *description; /**< description, or "" */
        ltrr_entity_type_t type; /**< kind of entity */
        char language[3];        /**< ISO 639-1, "" if unknown */
        int32_t release_days;    /**< days since 1970-01-01 */
        ltrr_date_prec_t release_prec; /**< how much of the date is known */
        uint32_t duration_ms;    /**< or LTRR_CATALOG_DURATION_UNKNOWN */
        float popularity;        /**< negative if unknown */
} ltrr_index_entity_t;

typedef struct ltrr_index_s ltrr_index_t;

/**
 * @brief Builds the index of @p cat and writes it to @p path.
 *
 * The file is written to "<path>.tmp" and renamed over @p path when
 * complete, so a reader never maps a half-written file.
 * @param conf may be NULL for the defaults.
 * @returns LTRR_OK, LTRR_ERR_INVALID_ARG, LTRR_ERR_NOMEM, LTRR_ERR_IO or
 *          LTRR_ERR_RANGE (more than 2^32 postings or string bytes).
 */
ltrr_err_t ltrr_index_build(const ltrr_catalog_t *cat,
                            const ltrr_index_build_conf_t *conf,
                            const char *path, char *errstr,
                            size_t errstr_size);

/**
 * @brief Maps @p path read-only and checks it (fast mode).
 *
 * Checks the magic, both versions, the header and section-table CRC, that
 * every section lies inside the file, that every required section is
 * present with a consistent size, and the offsets held in the entity and
 * term tables: O(entities + terms), about 10 ms per million entities.
 * Section CRCs are not computed; ltrr_index_verify() does that.
 * @returns the index, or NULL with the reason in @p errstr.
 */
ltrr_index_t *ltrr_index_open(const char *path, char *errstr,
                              size_t errstr_size);

/**
 * @brief Computes every section's CRC-32C and compares it with the table
 *        (full verify: reads the whole file, about 0.1 s per GB).
 * @returns LTRR_OK or LTRR_ERR_CORRUPT naming the section.
 */
ltrr_err_t ltrr_index_verify(const ltrr_index_t *ix, char *errstr,
                             size_t errstr_size);

/** @brief Unmaps and frees @p ix; NULL is a no-op. */
void ltrr_index_destroy(ltrr_index_t *ix);

/** @brief Number of entities. */
uint32_t ltrr_index_count(const ltrr_index_t *ix);

/** @brief Number of distinct terms. */
uint32_t ltrr_index_terms(const ltrr_index_t *ix);

/** @brief Number of postings (entity, term) pairs. */
uint64_t ltrr_index_postings(const ltrr_index_t *ix);

/** @brief Size of the mapped file in bytes. */
uint64_t ltrr_index_size(const ltrr_index_t *ix);

/** @brief Analyzer language the terms were built with ("en"). */
const char *ltrr_index_lang(const ltrr_index_t *ix);

/** @brief 1 if stop words were dropped at build time. */
int ltrr_index_stopwords(const ltrr_index_t *ix);

/** @brief Mean token count of field @p f (0 if no entity has it). */
double ltrr_index_field_avglen(const ltrr_index_t *ix, ltrr_index_field_t f);

/**
 * @brief Fills @p out with entity @p idx.
 * @returns LTRR_OK or LTRR_ERR_RANGE.
 */
ltrr_err_t ltrr_index_entity(const ltrr_index_t *ix, uint32_t idx,
                             ltrr_index_entity_t *out);

/** @brief Index of the entity whose id is @p id, or -1 (linear scan:
 *         for tools and tests, not for serving). */
int64_t ltrr_index_find(const ltrr_index_t *ix, const char *id);

/** @brief Number of entries in the section table. */
uint32_t ltrr_index_section_count(const ltrr_index_t *ix);

/**
 * @brief Describes section table entry @p i.
 * @returns LTRR_OK or LTRR_ERR_RANGE.
 */
ltrr_err_t ltrr_index_section_info(const ltrr_index_t *ix, uint32_t i,
                                   ltrr_index_section_info_t *out);

/**
 * @brief Bytes of the first section of @p kind, for arms that keep their
 *        own sections (n-grams, vectors).
 * @returns a pointer into the mapping (8-byte aligned) and its length in
 *          @p lenp, or NULL if the file has no such section.
 */
const void *ltrr_index_section(const ltrr_index_t *ix, uint32_t kind,
                               uint64_t *lenp);

/** @brief Name of a section kind ("terms"), or "unknown". */
const char *ltrr_index_sec_name(uint32_t kind);

/** @brief Name of a field ("name", "artist", ...). */
const char *ltrr_index_field_name(ltrr_index_field_t f);

/**
 * @brief CRC-32C (Castagnoli) of @p len bytes, continuing from @p crc
 *        (0 to start). Thread-safe.
 */
uint32_t ltrr_index_crc32c(uint32_t crc, const void *data, size_t len);

/**
 * @brief 1 if the dictionary holds the term of @p len bytes at @p term
 *        (with @p as_prefix: a term that starts with it), else 0. NULL
 *        @p ix or an empty term give 0. A binary search; thread-safe.
 */
int ltrr_index_knows(const ltrr_index_t *ix, const char *term, size_t len,
                     int as_prefix);

/** @brief 1 if @p norm (folded, unstemmed) is an English stop word. */
int ltrr_index_is_stopword(const char *norm, size_t len);

#endif /* LTRR_INDEX_H */
