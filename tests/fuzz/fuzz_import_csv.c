/*
 * Fuzz target: the CSV catalog importer and its column mapping
 * (online/import_csv.c).
 *
 * Input layout: when the input holds a NUL byte, the part before it is
 * mapping lines `section.key=value` applied over a default mapping, and
 * the part after it is the CSV; otherwise the whole input is the CSV
 * with the default mapping (the columns of tests/data/catalog-small.csv).
 * The import must end without crashing; on LTRR_OK its counts must add up
 * and every imported entity must read back.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "import.h"

/** Largest input looked at; longer inputs are ignored. */
#define FUZZ_INPUT_MAX (64 * 1024)
/** Longest mapping line used. */
#define FUZZ_MAP_LINE_MAX 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The default mapping, as section, key, value. */
static const char *const fuzz_map_default[][3] = {
    {"columns", "id", "id"},
    {"columns", "name", "name"},
    {"columns", "artists", "artists"},
    {"columns", "genres", "genres"},
    {"columns", "release_date", "release_date"},
    {"columns", "duration_ms", "duration_ms"},
    {"columns", "popularity", "popularity"},
    {"separators", "artists", ";"},
    {"separators", "genres", "|"},
};

/* Applies one `section.key=value` line; bad lines are ignored after
 * checking that the reason is a terminated string. */
static void fuzz_map_line(ltrr_csv_mapping_t *map, const char *p, size_t n)
{
        char line[FUZZ_MAP_LINE_MAX], errstr[256], *dot, *eq;

        if (n >= sizeof(line))
                return;
        memcpy(line, p, n);
        line[n] = '\0';
        if (!(dot = strchr(line, '.')) || !(eq = strchr(dot, '=')))
                return;
        *dot = *eq = '\0';
        if (ltrr_csv_mapping_set(map, line, dot + 1, eq + 1, errstr,
                                 sizeof(errstr)) != LTRR_OK &&
            !memchr(errstr, '\0', sizeof(errstr)))
                __builtin_trap();
}

/* Builds the mapping from the default and the lines of @p. */
static ltrr_csv_mapping_t *fuzz_mapping(const uint8_t *p, size_t n)
{
        ltrr_csv_mapping_t *map = ltrr_csv_mapping_new();
        const uint8_t *nl, *end = p + n;
        char errstr[256];
        size_t i;

        if (!map)
                return NULL;
        for (i = 0; i < sizeof(fuzz_map_default) / sizeof(*fuzz_map_default);
             i++)
                if (ltrr_csv_mapping_set(map, fuzz_map_default[i][0],
                                         fuzz_map_default[i][1],
                                         fuzz_map_default[i][2], errstr,
                                         sizeof(errstr)) != LTRR_OK)
                        __builtin_trap();
        while (p && p < end) {
                nl = memchr(p, '\n', (size_t)(end - p));
                fuzz_map_line(map, (const char *)p,
                              (size_t)((nl ? nl : end) - p));
                p = nl ? nl + 1 : NULL;
        }
        return map;
}

/* Checks the counts and reads back every entity of @cat. */
static void fuzz_check(const ltrr_catalog_t *cat, const ltrr_import_stats_t *st)
{
        ltrr_entity_t e;
        uint64_t sum = 0;
        uint32_t i;
        int r;

        for (r = 0; r < LTRR_IMPORT_SKIP__CNT; r++)
                sum += st->by_reason[r];
        if (sum != st->skipped || st->imported + st->skipped != st->read ||
            st->imported != ltrr_catalog_count(cat))
                __builtin_trap();
        for (i = 0; i < ltrr_catalog_count(cat); i++)
                if (ltrr_catalog_get(cat, i, &e) != LTRR_OK ||
                    ltrr_catalog_find(cat, e.id) != (int64_t)i || !e.name ||
                    !*e.name)
                        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const uint8_t *nul = memchr(data, '\0', size), *csv = data;
        ltrr_csv_mapping_t *map = NULL;
        ltrr_catalog_t *cat = NULL;
        ltrr_import_stats_t st;
        char errstr[256];
        size_t csv_len = size;
        FILE *fp = NULL;
        ltrr_err_t err;

        if (size > FUZZ_INPUT_MAX)
                return 0;
        if (nul) {
                csv = nul + 1;
                csv_len = (size_t)(data + size - csv);
        }
        if (!(map = fuzz_mapping(data, nul ? (size_t)(nul - data) : 0)) ||
            !(cat = ltrr_catalog_new(0, errstr, sizeof(errstr))))
                goto done;
        /* fmemopen refuses a zero size: an empty input is an empty file. */
        fp = csv_len ? fmemopen((void *)csv, csv_len, "rb")
                     : fopen("/dev/null", "rb");
        if (!fp)
                goto done;
        err = ltrr_import_csv(cat, fp, map, NULL, &st, errstr, sizeof(errstr));
        if (err == LTRR_OK)
                fuzz_check(cat, &st);
        else if (!memchr(errstr, '\0', sizeof(errstr)))
                __builtin_trap();
done:
        if (fp)
                fclose(fp);
        ltrr_catalog_destroy(cat);
        ltrr_csv_mapping_destroy(map);
        return 0;
}
