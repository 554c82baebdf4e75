/*
 * Fuzz target: the JSONL catalog importer (online/import_jsonl.c) and the
 * catalog it fills. Any byte string is read through a memory stream; the
 * import must reach the end of the stream, its counts must add up, and
 * every imported entity must read back.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "import.h"

/** Largest input looked at; longer inputs are ignored. */
#define FUZZ_INPUT_MAX (64 * 1024)
/** Vector size of the catalog, so "vector" fields are read too. */
#define FUZZ_DIM 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Counts the reports; each message must be a terminated string. */
static void fuzz_on_error(void *opaque, uint64_t line,
                          ltrr_import_skip_t reason, const char *msg)
{
        if (!line || (unsigned)reason >= LTRR_IMPORT_SKIP__CNT ||
            !ltrr_import_skip_name(reason))
                __builtin_trap();
        *(size_t *)opaque += strlen(msg);
}

/* Reads back every entity of @cat. */
static void fuzz_read_back(const ltrr_catalog_t *cat)
{
        ltrr_entity_t e;
        uint32_t i, j;

        for (i = 0; i < ltrr_catalog_count(cat); i++) {
                if (ltrr_catalog_get(cat, i, &e) != LTRR_OK ||
                    ltrr_catalog_find(cat, e.id) != (int64_t)i || !e.name)
                        __builtin_trap();
                for (j = 0; j < e.artists_cnt; j++)
                        if (!ltrr_catalog_sym_name(cat, LTRR_CATALOG_SYM_ARTIST,
                                                   e.artists[j]))
                                __builtin_trap();
                for (j = 0; j < e.genres_cnt; j++)
                        if (!ltrr_catalog_sym_name(cat, LTRR_CATALOG_SYM_GENRE,
                                                   e.genres[j]))
                                __builtin_trap();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        ltrr_import_stats_t st;
        ltrr_import_opts_t opts;
        ltrr_catalog_t *cat = NULL;
        char errstr[256];
        size_t msgs = 0;
        uint64_t sum = 0;
        FILE *fp = NULL;
        int r;

        if (size > FUZZ_INPUT_MAX)
                return 0;
        if (!(cat = ltrr_catalog_new(FUZZ_DIM, errstr, sizeof(errstr))))
                return 0;
        /* fmemopen refuses a zero size: an empty input is an empty file. */
        fp = size ? fmemopen((void *)data, size, "rb")
                  : fopen("/dev/null", "rb");
        if (!fp)
                goto done;
        memset(&opts, 0, sizeof(opts));
        opts.error_cb = fuzz_on_error;
        opts.opaque = &msgs;
        opts.max_reported = 8;
        if (ltrr_import_jsonl(cat, fp, &opts, &st, errstr, sizeof(errstr)) !=
            LTRR_OK)
                __builtin_trap(); /* bad rows must not fail the import */
        for (r = 0; r < LTRR_IMPORT_SKIP__CNT; r++)
                sum += st.by_reason[r];
        if (sum != st.skipped || st.imported + st.skipped != st.read ||
            st.imported != ltrr_catalog_count(cat) || st.reported > 8)
                __builtin_trap();
        fuzz_read_back(cat);
done:
        if (fp)
                fclose(fp);
        ltrr_catalog_destroy(cat);
        return 0;
}
