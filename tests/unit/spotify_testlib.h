/*
 * ltrr unit tests: the real music catalog of ../shared/data.
 *
 * Header-only (each test program includes it once). spotify_import()
 * imports shared/data/spotify/spotify_songs.csv with the ready mapping
 * tools/mappings/spotify.ini; LTRR_DATA and LTRR_SRC locate them. A test
 * calls it first and skips when it returns 0 (the data is absent).
 */
#ifndef LTRR_SPOTIFY_TESTLIB_H
#define LTRR_SPOTIFY_TESTLIB_H

#include <stdio.h>
#include <stdlib.h>

#include "catalog.h"
#include "import.h"

/* Imports the real catalog into @p cat; 0 when the file is not there. */
static int spotify_import(ltrr_catalog_t *cat, ltrr_import_stats_t *st)
{
        const char *src = getenv("LTRR_SRC"), *data = getenv("LTRR_DATA");
        char path[1024], errstr[256];
        ltrr_csv_mapping_t *map;
        FILE *fp;

        snprintf(path, sizeof(path), "%s/spotify/spotify_songs.csv",
                 data ? data : "../shared/data");
        fp = fopen(path, "rb");
        if (!fp) {
                print_message("skipping: %s not present\n", path);
                return 0;
        }
        map = ltrr_csv_mapping_new();
        assert_non_null(map);
        snprintf(path, sizeof(path), "%s/tools/mappings/spotify.ini",
                 src ? src : ".");
        assert_int_equal(ltrr_csv_mapping_load(map, path, errstr,
                                               sizeof(errstr)), LTRR_OK);
        assert_int_equal(ltrr_import_csv(cat, fp, map, NULL, st, errstr,
                                         sizeof(errstr)), LTRR_OK);
        fclose(fp);
        ltrr_csv_mapping_destroy(map);
        return 1;
}

#endif
