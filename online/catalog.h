/*
 * ltrr - the catalog: every searchable entity, held compactly in memory.
 *
 * A catalog is built append-only with ltrr_catalog_add() and then read by
 * index: ltrr_catalog_get() fills a small view whose strings point into
 * the catalog's string arena. All strings live in one arena, lists are
 * offset/count slices of one shared array of symbols, and artist names,
 * genres, subgenres and moods are interned, so 5M entities take well
 * under 2 GB (see docs/CATALOG.md for the numbers).
 */
#ifndef LTRR_CATALOG_H
#define LTRR_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/** Longest string (id, name, album, description, symbol) in bytes. */
#define LTRR_CATALOG_STR_MAX 65535
/** Longest id in bytes. */
#define LTRR_CATALOG_ID_MAX 255
/** Most entries in one list (artists, genres, subgenres, moods). */
#define LTRR_CATALOG_LIST_MAX 255
/** Largest dense vector dimension. */
#define LTRR_CATALOG_DIM_MAX 4096
/** Value of ltrr_entity_t.duration_ms when unknown. */
#define LTRR_CATALOG_DURATION_UNKNOWN UINT32_MAX
/** Symbol value meaning "none". */
#define LTRR_CATALOG_SYM_NONE UINT32_MAX

/** @brief Kind of entity. */
typedef enum {
        LTRR_ENTITY_TRACK = 0,
        LTRR_ENTITY_ARTIST = 1,
        LTRR_ENTITY_ALBUM = 2,
        LTRR_ENTITY_PODCAST = 3,
        LTRR_ENTITY_EPISODE = 4,
        LTRR_ENTITY_PLAYLIST = 5,
        LTRR_ENTITY__CNT = 6
} ltrr_entity_type_t;

/** @brief How much of a release date is known. */
typedef enum {
        LTRR_DATE_NONE = 0,  /**< unknown; days is 0 */
        LTRR_DATE_YEAR = 1,  /**< days is January 1st of the year */
        LTRR_DATE_MONTH = 2, /**< days is the 1st of the month */
        LTRR_DATE_DAY = 3    /**< exact day */
} ltrr_date_prec_t;

/** @brief Interned string tables of a catalog. */
typedef enum {
        LTRR_CATALOG_SYM_ARTIST = 0,   /**< artist names */
        LTRR_CATALOG_SYM_GENRE = 1,    /**< genres */
        LTRR_CATALOG_SYM_SUBGENRE = 2, /**< subgenres */
        LTRR_CATALOG_SYM_MOOD = 3,     /**< moods */
        LTRR_CATALOG_SYM__CNT = 4
} ltrr_catalog_sym_t;

/**
 * @brief One entity to add: every pointer is borrowed for the call only.
 *
 * Set unused fields to zero/NULL (ltrr_entity_in_init() does that).
 */
typedef struct ltrr_entity_in_s {
        ltrr_entity_type_t type;     /**< kind of entity */
        const char *id;              /**< unique, 1..LTRR_CATALOG_ID_MAX bytes */
        const char *name;            /**< required, non-empty */
        const char *album;           /**< NULL or "" if none */
        const char *description;     /**< NULL or "" if none */
        const char *const *artists;  /**< artists_cnt artist names */
        const char *const *artist_ids; /**< NULL, or artists_cnt ids (entries may be NULL) */
        size_t artists_cnt;          /**< entries in artists */
        const char *const *genres;   /**< genres_cnt genre names */
        size_t genres_cnt;           /**< entries in genres */
        const char *const *subgenres; /**< subgenres_cnt names */
        size_t subgenres_cnt;        /**< entries in subgenres */
        const char *const *moods;    /**< moods_cnt names */
        size_t moods_cnt;            /**< entries in moods */
        const char *language;        /**< ISO 639-1 ("en"), NULL or "" if unknown */
        int32_t release_days;        /**< days since 1970-01-01 */
        ltrr_date_prec_t release_prec; /**< LTRR_DATE_NONE if unknown */
        uint32_t duration_ms;        /**< LTRR_CATALOG_DURATION_UNKNOWN if unknown */
        float popularity;            /**< >= 0, or negative if unknown */
        const float *vector;         /**< NULL, or the catalog's dim floats */
} ltrr_entity_in_t;

/**
 * @brief Read-only view of one stored entity.
 *
 * @remark Pointers are owned by the catalog and stay valid until the next
 *         ltrr_catalog_add() or ltrr_catalog_destroy().
 */
typedef struct ltrr_entity_s {
        uint32_t idx;               /**< position in the catalog */
        ltrr_entity_type_t type;    /**< kind of entity */
        const char *id;             /**< unique id */
        const char *name;           /**< display name */
        const char *album;          /**< album name, or NULL */
        const char *description;    /**< description, or NULL */
        const uint32_t *artists;    /**< LTRR_CATALOG_SYM_ARTIST symbols */
        uint32_t artists_cnt;       /**< entries in artists */
        const uint32_t *genres;     /**< LTRR_CATALOG_SYM_GENRE symbols */
        uint32_t genres_cnt;        /**< entries in genres */
        const uint32_t *subgenres;  /**< LTRR_CATALOG_SYM_SUBGENRE symbols */
        uint32_t subgenres_cnt;     /**< entries in subgenres */
        const uint32_t *moods;      /**< LTRR_CATALOG_SYM_MOOD symbols */
        uint32_t moods_cnt;         /**< entries in moods */
        char language[3];           /**< ISO 639-1 code, "" if unknown */
        int32_t release_days;       /**< days since 1970-01-01 */
        ltrr_date_prec_t release_prec; /**< how much of the date is known */
        uint32_t duration_ms;       /**< or LTRR_CATALOG_DURATION_UNKNOWN */
        float popularity;           /**< negative if unknown */
        const float *vector;        /**< dim floats, or NULL */
} ltrr_entity_t;

typedef struct ltrr_catalog_s ltrr_catalog_t;

/** @brief Clears @p in: no lists, unknown date, duration and popularity. */
void ltrr_entity_in_init(ltrr_entity_in_t *in);

/**
 * @brief Creates an empty catalog whose vectors have @p dim floats
 *        (0: the catalog holds no vectors).
 * @returns the catalog, or NULL with the reason in @p errstr.
 */
ltrr_catalog_t *ltrr_catalog_new(uint32_t dim, char *errstr,
                                 size_t errstr_size);

/** @brief Frees @p cat and everything it owns; NULL is a no-op. */
void ltrr_catalog_destroy(ltrr_catalog_t *cat);

/**
 * @brief Appends a copy of @p in.
 *
 * @returns LTRR_OK; LTRR_ERR_INVALID_ARG for a missing or malformed field
 *          or a duplicate id (check ltrr_catalog_find() first to tell
 *          them apart; duplicates are also counted, see
 *          ltrr_catalog_duplicates()); LTRR_ERR_RANGE for a value or list
 *          past its bound; LTRR_ERR_NOMEM or LTRR_ERR_NOSPACE (arena past
 *          4 GiB). On error the catalog is unchanged, except that new
 *          interned symbols may remain.
 */
ltrr_err_t ltrr_catalog_add(ltrr_catalog_t *cat, const ltrr_entity_in_t *in,
                            char *errstr, size_t errstr_size);

/** @brief Number of entities. */
uint32_t ltrr_catalog_count(const ltrr_catalog_t *cat);

/** @brief Vector dimension given to ltrr_catalog_new(). */
uint32_t ltrr_catalog_dim(const ltrr_catalog_t *cat);

/** @brief Number of ltrr_catalog_add() calls refused for a duplicate id. */
uint64_t ltrr_catalog_duplicates(const ltrr_catalog_t *cat);

/**
 * @brief Fills @p out with entity @p idx.
 * @returns LTRR_OK, or LTRR_ERR_RANGE if @p idx >= count.
 */
ltrr_err_t ltrr_catalog_get(const ltrr_catalog_t *cat, uint32_t idx,
                            ltrr_entity_t *out);

/** @brief Index of the entity with @p id, or -1. */
int64_t ltrr_catalog_find(const ltrr_catalog_t *cat, const char *id);

/** @brief Number of symbols in @p table. */
uint32_t ltrr_catalog_sym_count(const ltrr_catalog_t *cat,
                                ltrr_catalog_sym_t table);

/** @brief Name of symbol @p sym of @p table, or NULL if out of range. */
const char *ltrr_catalog_sym_name(const ltrr_catalog_t *cat,
                                  ltrr_catalog_sym_t table, uint32_t sym);

/** @brief Symbol of @p name in @p table, or LTRR_CATALOG_SYM_NONE. */
uint32_t ltrr_catalog_sym_find(const ltrr_catalog_t *cat,
                               ltrr_catalog_sym_t table, const char *name);

/** @brief Artist id first given for artist symbol @p sym, or NULL. */
const char *ltrr_catalog_artist_id(const ltrr_catalog_t *cat, uint32_t sym);

/** @brief Bytes allocated by the catalog (arena, arrays, hash tables). */
size_t ltrr_catalog_memory(const ltrr_catalog_t *cat);

/** @brief "track", "artist", ... or NULL for an invalid type. */
const char *ltrr_entity_type_name(ltrr_entity_type_t type);

/** @brief Parses a type name; -1 if unknown. */
int ltrr_entity_type_parse(const char *name);

/**
 * @brief Days since 1970-01-01 of a proleptic Gregorian date
 *        (month 1..12, day 1..31; not range-checked against the month).
 */
int32_t ltrr_date_from_ymd(int year, int month, int day);

/** @brief Inverse of ltrr_date_from_ymd(). */
void ltrr_date_to_ymd(int32_t days, int *year, int *month, int *day);

/**
 * @brief Parses "YYYY", "YYYY-MM" or "YYYY-MM-DD" (years 1..9999).
 * @returns LTRR_OK or LTRR_ERR_PARSE.
 */
ltrr_err_t ltrr_date_parse(const char *s, int32_t *days,
                           ltrr_date_prec_t *prec);

#endif /* LTRR_CATALOG_H */
