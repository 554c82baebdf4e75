/*
 * ltrr - catalog importers: JSONL and CSV with a column mapping.
 *
 * Both stream their input line by line with a bounded buffer, so memory
 * stays constant apart from the catalog itself. A bad row is skipped,
 * counted by reason, and reported through the error callback (the first
 * max_reported in detail); nothing is dropped silently. docs/CATALOG.md
 * documents the JSONL schema and the mapping file format.
 */
#ifndef LTRR_IMPORT_H
#define LTRR_IMPORT_H

#include <stdint.h>
#include <stdio.h>

#include "catalog.h"
#include "err.h"

/** Longest input line (JSONL) or record (CSV) in bytes. */
#define LTRR_IMPORT_LINE_MAX (1024 * 1024)
/** Most columns in a CSV record. */
#define LTRR_IMPORT_CSV_COLS_MAX 512

/** @brief Why a row was skipped. */
typedef enum {
        LTRR_IMPORT_SKIP_SYNTAX = 0,    /**< not valid JSON / CSV */
        LTRR_IMPORT_SKIP_TYPE = 1,      /**< a field has the wrong type */
        LTRR_IMPORT_SKIP_MISSING = 2,   /**< a required field is absent */
        LTRR_IMPORT_SKIP_VALUE = 3,     /**< a field's value is invalid */
        LTRR_IMPORT_SKIP_DUPLICATE = 4, /**< the id was seen before */
        LTRR_IMPORT_SKIP_TOO_LONG = 5,  /**< line past LTRR_IMPORT_LINE_MAX */
        LTRR_IMPORT_SKIP__CNT = 6
} ltrr_import_skip_t;

/** @brief Counts returned by an import. */
typedef struct ltrr_import_stats_s {
        uint64_t read;          /**< rows read (not the header or blank lines) */
        uint64_t imported;      /**< rows added to the catalog */
        uint64_t skipped;       /**< rows skipped, sum of by_reason */
        uint64_t by_reason[LTRR_IMPORT_SKIP__CNT]; /**< skipped, per reason */
        uint64_t blank;         /**< blank lines ignored */
        uint64_t unknown_fields; /**< JSONL: fields not in the schema */
        uint64_t reported;      /**< rows passed to the error callback */
} ltrr_import_stats_t;

/**
 * @brief Called for each of the first max_reported skipped rows.
 * @param line  1-based line where the row starts
 * @param msg   reason in words; valid until the callback returns
 */
typedef void(ltrr_import_error_cb)(void *opaque, uint64_t line,
                                   ltrr_import_skip_t reason,
                                   const char *msg);

/** @brief Import options; zero-initialised means no callback. */
typedef struct ltrr_import_opts_s {
        ltrr_import_error_cb *error_cb; /**< NULL: only count */
        void *opaque;                   /**< passed to error_cb */
        uint32_t max_reported;          /**< detailed reports, 0 = none */
} ltrr_import_opts_t;

/** @brief "syntax", "type", ... for a skip reason. */
const char *ltrr_import_skip_name(ltrr_import_skip_t reason);

/**
 * @brief Imports one JSON object per line from @p fp into @p cat.
 *
 * @param opts   may be NULL
 * @param stats  filled in (also on error)
 * @returns LTRR_OK when the stream was read to its end (bad rows do not
 *          fail the import), LTRR_ERR_IO on a read error, or the error of
 *          a catalog add that failed for lack of memory or space.
 */
ltrr_err_t ltrr_import_jsonl(ltrr_catalog_t *cat, FILE *fp,
                             const ltrr_import_opts_t *opts,
                             ltrr_import_stats_t *stats, char *errstr,
                             size_t errstr_size);

/**
 * @brief Counts a skipped row and reports it if still under max_reported.
 * Shared by the importers; @p fmt formats the message.
 */
void ltrr_import_skip(const ltrr_import_opts_t *opts,
                      ltrr_import_stats_t *stats, uint64_t line,
                      ltrr_import_skip_t reason, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/**
 * @brief Adds one parsed row to @p cat, counting it as imported or as
 *        skipped (duplicate id, invalid value).
 * @returns LTRR_OK unless the catalog ran out of memory or space, which
 *          ends the import.
 */
ltrr_err_t ltrr_import_add(ltrr_catalog_t *cat, const ltrr_entity_in_t *in,
                           uint64_t line, const ltrr_import_opts_t *opts,
                           ltrr_import_stats_t *stats, char *errstr,
                           size_t errstr_size);

typedef struct ltrr_csv_mapping_s ltrr_csv_mapping_t;

/** @brief Creates an empty mapping (comma-delimited, type track). */
ltrr_csv_mapping_t *ltrr_csv_mapping_new(void);

/** @brief Frees @p map; NULL is a no-op. */
void ltrr_csv_mapping_destroy(ltrr_csv_mapping_t *map);

/**
 * @brief Sets one mapping key, as one line of the mapping file would.
 *
 * Sections: "csv" (delimiter, null, type), "columns" (field = column
 * name), "separators" (list field = separator string).
 * @returns LTRR_OK, LTRR_ERR_UNKNOWN_KEY, LTRR_ERR_INVALID_ARG or
 *          LTRR_ERR_NOMEM.
 */
ltrr_err_t ltrr_csv_mapping_set(ltrr_csv_mapping_t *map, const char *section,
                                const char *key, const char *value,
                                char *errstr, size_t errstr_size);

/**
 * @brief Reads an INI mapping file (see docs/CATALOG.md) into @p map.
 * @returns LTRR_OK, LTRR_ERR_IO, LTRR_ERR_PARSE or an error of
 *          ltrr_csv_mapping_set(), with the line in @p errstr.
 */
ltrr_err_t ltrr_csv_mapping_load(ltrr_csv_mapping_t *map, const char *path,
                                 char *errstr, size_t errstr_size);

/**
 * @brief Imports RFC 4180 CSV with a header row from @p fp using @p map.
 *
 * A UTF-8 byte order mark is skipped; quoted fields may hold delimiters,
 * doubled quotes and newlines; CRLF and LF both end records.
 * @returns LTRR_OK when the stream was read to its end; LTRR_ERR_PARSE if
 *          there is no header; LTRR_ERR_UNKNOWN_KEY if a mapped column is
 *          not in the header; LTRR_ERR_INVALID_ARG if id or name is not
 *          mapped; LTRR_ERR_IO; or a catalog add's NOMEM/NOSPACE.
 */
ltrr_err_t ltrr_import_csv(ltrr_catalog_t *cat, FILE *fp,
                           const ltrr_csv_mapping_t *map,
                           const ltrr_import_opts_t *opts,
                           ltrr_import_stats_t *stats, char *errstr,
                           size_t errstr_size);

#endif /* LTRR_IMPORT_H */
