/*
 * ltrr - index file internals: on-disk records and the open handle.
 *
 * Shared by index_build.c (writer), index_file.c (reader) and the arms.
 * All integers are little-endian; records are naturally aligned and every
 * section starts on an 8-byte boundary, so the mapping is read in place.
 */
#ifndef LTRR_INDEX_INT_H
#define LTRR_INDEX_INT_H

#include <stdint.h>

#include "index.h"

/** Header size in bytes; the section table follows it. */
#define LTRR_INDEX_HDR_SIZE 64
/** Bytes of one section table entry. */
#define LTRR_INDEX_SEC_SIZE 32
/** META flag: English stop words were dropped. */
#define LTRR_INDEX_META_STOPWORDS 0x1
/** Largest per-field term frequency stored (higher values saturate). */
#define LTRR_INDEX_TF_MAX 255
/** Postings per block of the BLOCKS section. */
#define LTRR_INDEX_BLOCK 64
/** Required section kinds are 1..this. */
#define LTRR_INDEX_SEC_REQUIRED_MAX LTRR_INDEX_SEC_NAMES
/** Largest field length stored (longer fields saturate). */
#define LTRR_INDEX_FIELDLEN_MAX 65535

/** @brief File header (64 bytes). */
typedef struct ltrr_index_hdr_s {
        char magic[8];            /**< LTRR_INDEX_MAGIC */
        uint32_t format_version;  /**< LTRR_INDEX_FORMAT_VERSION */
        uint32_t analyzer_version; /**< LTRR_INDEX_ANALYZER_VERSION */
        uint32_t section_cnt;     /**< entries in the section table */
        uint32_t header_size;     /**< LTRR_INDEX_HDR_SIZE */
        uint64_t file_size;       /**< total bytes of the file */
        uint32_t entity_cnt;      /**< entities (repeated in META) */
        uint32_t flags;           /**< 0 */
        uint8_t reserved[20];     /**< zero */
        uint32_t header_crc;      /**< CRC-32C of bytes 0..59 + table */
} ltrr_index_hdr_t;

/** @brief One section table entry (32 bytes). */
typedef struct ltrr_index_sec_s {
        uint32_t kind;   /**< ltrr_index_sec_t */
        uint32_t flags;  /**< 0 */
        uint64_t offset; /**< from the start of the file, 8-aligned */
        uint64_t length; /**< bytes */
        uint32_t crc;    /**< CRC-32C of the bytes */
        uint32_t reserved; /**< zero */
} ltrr_index_sec_rec_t;

/** @brief META section (80 bytes). */
typedef struct ltrr_index_meta_s {
        uint32_t entity_cnt;   /**< entities */
        uint32_t term_cnt;     /**< terms in the dictionary */
        uint64_t posting_cnt;  /**< postings */
        uint64_t string_bytes; /**< bytes of the string pool */
        char lang[16];         /**< analyzer language, NUL-padded */
        uint32_t flags;        /**< LTRR_INDEX_META_* */
        uint32_t reserved;     /**< zero */
        double avglen[LTRR_INDEX_FIELDS]; /**< mean tokens per field */
} ltrr_index_meta_t;

/** @brief ENTITIES record: offsets into the string pool (24 bytes). */
typedef struct ltrr_index_ent_s {
        uint32_t id;          /**< id string */
        uint32_t name;        /**< name string */
        uint32_t artists;     /**< artists joined by ", " */
        uint32_t album;       /**< album or "" */
        uint32_t description; /**< description or "" */
        uint32_t reserved;    /**< zero */
} ltrr_index_ent_t;

/** @brief FEATURES record (16 bytes). */
typedef struct ltrr_index_feat_s {
        float popularity;     /**< negative if unknown */
        int32_t release_days; /**< days since 1970-01-01 */
        uint32_t duration_ms; /**< or LTRR_CATALOG_DURATION_UNKNOWN */
        uint8_t type;         /**< ltrr_entity_type_t */
        uint8_t release_prec; /**< ltrr_date_prec_t */
        char lang[2];         /**< ISO 639-1, NUL-padded */
} ltrr_index_feat_t;

/** @brief TERMS record, sorted by term bytes (32 bytes). */
typedef struct ltrr_index_term_s {
        uint32_t str_off;  /**< offset in TERMSTR */
        uint32_t str_len;  /**< bytes, no NUL */
        uint32_t df;       /**< entities holding the term in any field */
        uint8_t maxtf[LTRR_INDEX_FIELDS]; /**< largest tf per field, for
                                           *   score upper bounds */
        uint64_t post_off; /**< first posting, in postings */
        uint32_t block_off; /**< first block, in BLOCKS records */
        float max_tfw;     /**< largest tf~ of any posting under the
                            *   BLOCKS header's w and b */
} ltrr_index_term_t;

/** @brief BLOCKS section header: the parameters of max_tfw (32 bytes). */
typedef struct ltrr_index_blkhdr_s {
        float w[LTRR_INDEX_FIELDS]; /**< field weights */
        float b[LTRR_INDEX_FIELDS]; /**< length normalisation */
} ltrr_index_blkhdr_t;

/** @brief One block: LTRR_INDEX_BLOCK postings of a term (16 bytes). */
typedef struct ltrr_index_block_s {
        float max_tfw;                     /**< largest tf~ (header's w, b) */
        uint8_t maxtf[LTRR_INDEX_FIELDS];  /**< largest tf per field */
        uint16_t minlen[LTRR_INDEX_FIELDS]; /**< shortest field holding
                                             *   the term, per field */
} ltrr_index_block_t;

/** @brief POSTINGS record: one entity holding one term (20 bytes). The
 *  entity's field lengths are repeated here so that scoring reads the
 *  list sequentially instead of FIELDLEN at random, and tf~ under the
 *  BLOCKS header's parameters is precomputed. */
typedef struct ltrr_index_post_s {
        uint32_t doc;                    /**< entity index, ascending */
        uint8_t tf[LTRR_INDEX_FIELDS];   /**< occurrences per field */
        uint16_t len[LTRR_INDEX_FIELDS]; /**< the entity's field lengths */
        float tfw;                       /**< tf~ under the bound w, b */
} ltrr_index_post_t;

/** @brief FIELDLEN record: tokens per field of one entity (8 bytes). */
typedef struct ltrr_index_flen_s {
        uint16_t len[LTRR_INDEX_FIELDS]; /**< tokens per field */
} ltrr_index_flen_t;

/** @brief NAMES record: an entity under the hash of its name's token
 *  multiset, sorted by (hash, doc) (16 bytes). */
typedef struct ltrr_index_name_s {
        uint64_t hash;     /**< sum of ltrr_index_name_hash() of tokens */
        uint32_t doc;      /**< entity */
        uint32_t reserved; /**< zero */
} ltrr_index_name_t;

/** @brief An open index: the mapping and pointers into it. */
struct ltrr_index_s {
        const uint8_t *base;              /**< mapping */
        uint64_t size;                    /**< bytes mapped */
        const ltrr_index_hdr_t *hdr;      /**< header */
        const ltrr_index_sec_rec_t *secs; /**< section table */
        const ltrr_index_meta_t *meta;    /**< META */
        const ltrr_index_ent_t *ents;     /**< entity_cnt records */
        const ltrr_index_feat_t *feats;   /**< entity_cnt records */
        const ltrr_index_flen_t *flens;   /**< entity_cnt records */
        const char *strings;              /**< string pool */
        uint64_t strings_len;             /**< bytes of the pool */
        const ltrr_index_term_t *terms;   /**< term_cnt records */
        const char *termstr;              /**< term bytes */
        uint64_t termstr_len;             /**< bytes of termstr */
        const ltrr_index_post_t *posts;   /**< posting_cnt records */
        const ltrr_index_blkhdr_t *blkhdr; /**< BLOCKS header */
        const ltrr_index_block_t *blocks; /**< block_cnt records */
        uint64_t block_cnt;               /**< blocks */
        const ltrr_index_name_t *names;   /**< n records */
        uint32_t n;                       /**< entities */
        uint32_t term_cnt;                /**< terms */
        uint64_t post_cnt;                /**< postings */
        char lang[LTRR_INDEX_LANG_MAX + 1]; /**< analyzer language */
};

/** @brief IMPACT section header (16 bytes); list records and entries
 *  follow. */
typedef struct ltrr_index_imphdr_s {
        uint32_t list_cnt; /**< terms with a list */
        uint32_t len_max;  /**< largest entries per list */
        uint32_t min_df;   /**< terms with more postings have a list */
        uint32_t reserved; /**< zero */
} ltrr_index_imphdr_t;

/** @brief One IMPACT list record, sorted by term (16 bytes). */
typedef struct ltrr_index_implist_s {
        uint32_t term;   /**< position in TERMS */
        uint32_t cnt;    /**< entries (<= len_max, <= the term's df) */
        uint64_t first;  /**< first entry, counted in entries */
} ltrr_index_implist_t;

/** @brief One IMPACT entry: a posting of the term, the list ordered by
 *  tf~ (BLOCKS header's w, b) descending, then popularity descending,
 *  then entity ascending (12 bytes). */
typedef struct ltrr_index_impent_s {
        uint32_t doc;      /**< entity */
        float tfw;         /**< tf~, as in the posting */
        uint8_t name_tf;   /**< occurrences in the name */
        uint8_t reserved;  /**< zero */
        uint16_t name_len; /**< tokens in the entity's name */
} ltrr_index_impent_t;

/** Longest prefix (bytes) with a PFXIMPACT list. */
#define LTRR_INDEX_PFX_BYTES 3
/** Terms one prefix expands to (the lexical arm's expansion). */
#define LTRR_INDEX_PFX_TERMS 16
/** Dictionary terms one expansion looks at. */
#define LTRR_INDEX_PFX_SCAN 65536
/** Entries kept per PFXIMPACT list. */
#define LTRR_INDEX_PFX_LEN 1024
/** BM25F k1 the PFXIMPACT scores are computed with (the default). */
#define LTRR_INDEX_PFX_K1 1.2f

/** @brief PFXIMPACT section header (16 bytes). */
typedef struct ltrr_index_pfxhdr_s {
        uint32_t list_cnt; /**< prefixes with a list */
        uint32_t len_max;  /**< largest entries per list */
        uint32_t min_df;   /**< prefixes whose expansion has more postings
                            *   have a list */
        float k1;          /**< k1 of the scores */
} ltrr_index_pfxhdr_t;

/** @brief One PFXIMPACT list record, sorted by key (80 bytes). */
typedef struct ltrr_index_pfxlist_s {
        uint8_t key[4];    /**< prefix bytes, zero padded */
        uint32_t cnt;      /**< entries */
        uint64_t first;    /**< first entry, counted in entries */
        uint32_t terms[LTRR_INDEX_PFX_TERMS]; /**< the expansion: TERMS
                                * positions, most postings first,
                                * UINT32_MAX after the last */
} ltrr_index_pfxlist_t;

/** @brief One PFXIMPACT entry, the list ordered by score descending,
 *  then popularity descending, then entity ascending (12 bytes). */
typedef struct ltrr_index_pfxent_s {
        uint32_t doc;   /**< entity */
        float score;    /**< BM25F of the expansion (index's w, b; k1) */
        uint32_t flags; /**< LTRR_INDEX_PFX_F_* */
} ltrr_index_pfxent_t;

/** PFXIMPACT entry flag: the name is one token, an expansion term. */
#define LTRR_INDEX_PFX_F_EXACT 0x1
/** PFXIMPACT entry flag: an expansion term is in the name. */
#define LTRR_INDEX_PFX_F_NAME 0x2

/** @brief Inputs of the impact sections, from the index builder. */
typedef struct ltrr_index_impact_in_s {
        const ltrr_index_post_t *posts; /**< grouped by term id */
        const uint64_t *first;   /**< per term id: its first posting */
        const uint32_t *df;      /**< per term id: postings */
        const uint32_t *order;   /**< term ids in dictionary order */
        uint32_t term_cnt;       /**< terms */
        const char *termstr;     /**< term bytes by term id offsets */
        const uint32_t *term_off; /**< per term id */
        const uint32_t *term_len; /**< per term id */
        const ltrr_index_feat_t *feats; /**< per entity (popularity) */
        uint32_t n;              /**< entities */
        uint32_t min_df;         /**< lists for more postings than this */
        uint32_t len;            /**< entries per term list */
} ltrr_index_impact_in_t;

/**
 * @brief Builds the IMPACT section: for every term with more than
 *        min_df postings, its best len postings by impact.
 * @param outp set to a malloc()ed section (NULL when no term qualifies).
 * @returns LTRR_OK or LTRR_ERR_NOMEM.
 */
ltrr_err_t ltrr_index_impact_build(const ltrr_index_impact_in_t *in,
                                   void **outp, size_t *lenp);

/**
 * @brief Builds the PFXIMPACT section: for every 2..LTRR_INDEX_PFX_BYTES
 *        byte prefix of terms whose expansion (the LTRR_INDEX_PFX_TERMS
 *        terms with it that have the most postings) holds more than
 *        min_df postings, the best LTRR_INDEX_PFX_LEN entities by the
 *        expansion's BM25F score.
 * @returns LTRR_OK or LTRR_ERR_NOMEM; *outp NULL when none qualifies.
 */
ltrr_err_t ltrr_index_pfx_build(const ltrr_index_impact_in_t *in,
                                void **outp, size_t *lenp);

/**
 * @brief The PFXIMPACT list of prefix @p key (@p len bytes), or NULL.
 * @param hdrp set to the section header when found.
 */
const ltrr_index_pfxlist_t *ltrr_index_pfx(const ltrr_index_t *ix,
                                           const char *key, size_t len,
                                           const ltrr_index_pfxhdr_t **hdrp,
                                           const ltrr_index_pfxent_t **entsp);

/**
 * @brief The impact-ordered list of dictionary term @p term, or NULL
 *        when the index has none for it (or its record is out of
 *        bounds). Entity ids are not checked.
 */
const ltrr_index_impent_t *ltrr_index_impact(const ltrr_index_t *ix,
                                             uint32_t term, uint32_t *cntp);

/**
 * @brief Builds the RECENT section: for every term with more than min_df
 *        postings, its len most recent postings, ordered by release day
 *        descending (undated entities last), then entity ascending. The
 *        layout is the IMPACT section's (ltrr_index_imphdr_t, list
 *        records, ltrr_index_impent_t entries).
 * @returns LTRR_OK or LTRR_ERR_NOMEM; *outp NULL when no term qualifies.
 */
ltrr_err_t ltrr_index_recent_build(const ltrr_index_impact_in_t *in,
                                   void **outp, size_t *lenp);

/**
 * @brief The date-ordered list of dictionary term @p term (RECENT
 *        section), or NULL as for ltrr_index_impact().
 */
const ltrr_index_impent_t *ltrr_index_recent(const ltrr_index_t *ix,
                                             uint32_t term, uint32_t *cntp);

/**
 * @brief Binary search of @p len bytes at @p term in the dictionary.
 * @returns the term's record, or NULL.
 */
const ltrr_index_term_t *ltrr_index_term_find(const ltrr_index_t *ix,
                                              const char *term, size_t len);

/**
 * @brief Position of the first term >= @p term (== term_cnt if none), for
 *        prefix expansion.
 */
uint32_t ltrr_index_term_lower(const ltrr_index_t *ix, const char *term,
                               size_t len);

/**
 * @brief Hash of one name token (its stem), to be summed over a name's
 *        tokens: the sum does not depend on token order.
 */
uint64_t ltrr_index_name_hash(const char *stem, size_t len);

/**
 * @brief Position of the first NAMES record with @p hash (== count if
 *        none is >= hash).
 */
uint32_t ltrr_index_name_lower(const ltrr_index_t *ix, uint64_t hash);

#endif /* LTRR_INDEX_INT_H */
