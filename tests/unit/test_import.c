/* Unit tests: JSONL and CSV importers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "spotify_testlib.h"

#define MAX_SEEN 32

/* What the error callback saw. */
struct seen {
        uint64_t line[MAX_SEEN];
        ltrr_import_skip_t reason[MAX_SEEN];
        int cnt;
};

static void on_error(void *opaque, uint64_t line, ltrr_import_skip_t reason,
                     const char *msg)
{
        struct seen *s = opaque;

        assert_non_null(msg);
        assert_true(strlen(msg) > 0);
        if (s->cnt < MAX_SEEN) {
                s->line[s->cnt] = line;
                s->reason[s->cnt] = reason;
        }
        s->cnt++;
}

static FILE *open_data(const char *name)
{
        const char *src = getenv("LTRR_SRC");
        char path[1024];
        FILE *fp;

        snprintf(path, sizeof(path), "%s/tests/data/%s", src ? src : ".",
                 name);
        fp = fopen(path, "rb");
        assert_non_null(fp);
        return fp;
}

static void test_jsonl_file(void **state)
{
        ltrr_catalog_t *cat = ltrr_catalog_new(0, NULL, 0);
        ltrr_import_opts_t opts = {on_error, NULL, 100};
        ltrr_import_stats_t st;
        struct seen s = {{0}, {0}, 0};
        FILE *fp = open_data("catalog-small.jsonl");
        ltrr_entity_t e;
        char errstr[256];

        opts.opaque = &s;
        assert_int_equal(ltrr_import_jsonl(cat, fp, &opts, &st, errstr,
                                           sizeof(errstr)), LTRR_OK);
        fclose(fp);
        assert_int_equal(st.read, 9);
        assert_int_equal(st.blank, 1);
        assert_int_equal(st.imported, 4);
        assert_int_equal(st.skipped, 5);
        assert_int_equal(st.by_reason[LTRR_IMPORT_SKIP_SYNTAX], 1);
        assert_int_equal(st.by_reason[LTRR_IMPORT_SKIP_TYPE], 1);
        assert_int_equal(st.by_reason[LTRR_IMPORT_SKIP_MISSING], 1);
        assert_int_equal(st.by_reason[LTRR_IMPORT_SKIP_DUPLICATE], 1);
        assert_int_equal(st.by_reason[LTRR_IMPORT_SKIP_VALUE], 1);
        assert_int_equal(st.unknown_fields, 1);
        assert_int_equal(s.cnt, 5);
        assert_int_equal(s.line[0], 4);
        assert_int_equal(s.reason[0], LTRR_IMPORT_SKIP_SYNTAX);
        assert_int_equal(s.line[1], 5);
        assert_int_equal(s.reason[1], LTRR_IMPORT_SKIP_TYPE);
        assert_int_equal(s.line[2], 6);
        assert_int_equal(s.reason[2], LTRR_IMPORT_SKIP_MISSING);
        assert_int_equal(s.line[3], 7);
        assert_int_equal(s.reason[3], LTRR_IMPORT_SKIP_DUPLICATE);
        assert_int_equal(s.line[4], 9);
        assert_int_equal(s.reason[4], LTRR_IMPORT_SKIP_VALUE);

        assert_int_equal(ltrr_catalog_get(cat, 0, &e), LTRR_OK);
        assert_string_equal(e.name, "Love Story");
        assert_string_equal(ltrr_catalog_artist_id(cat, e.artists[0]), "ar1");
        assert_int_equal(ltrr_catalog_get(cat, 2, &e), LTRR_OK);
        assert_string_equal(e.name, "Corazón");
        assert_int_equal(e.release_prec, LTRR_DATE_YEAR);
        assert_null(e.description);
        assert_int_equal(ltrr_catalog_get(cat, 3, &e), LTRR_OK);
        assert_int_equal(e.type, LTRR_ENTITY_PODCAST);
        assert_int_equal(e.release_days, 19000);
        assert_string_equal(e.description, "A weekly show about science.");
        ltrr_catalog_destroy(cat);
}

/* Only the first max_reported rows reach the callback; all are counted. */
static void test_jsonl_bounded_reports(void **state)
{
        static const char input[] = "x\ny\nz\n{\"id\":\"a\"}\n";
        ltrr_catalog_t *cat = ltrr_catalog_new(0, NULL, 0);
        struct seen s = {{0}, {0}, 0};
        ltrr_import_opts_t opts = {on_error, &s, 2};
        ltrr_import_stats_t st;
        FILE *fp = fmemopen((void *)input, sizeof(input) - 1, "r");

        assert_int_equal(ltrr_import_jsonl(cat, fp, &opts, &st, NULL, 0),
                         LTRR_OK);
        fclose(fp);
        assert_int_equal(s.cnt, 2);
        assert_int_equal(st.reported, 2);
        assert_int_equal(st.skipped, 4);
        assert_int_equal(st.by_reason[LTRR_IMPORT_SKIP_MISSING], 1);
        assert_int_equal(st.imported, 0);
        ltrr_catalog_destroy(cat);
}

static void test_jsonl_vectors_and_long_line(void **state)
{
        ltrr_catalog_t *cat = ltrr_catalog_new(2, NULL, 0);
        size_t n = LTRR_IMPORT_LINE_MAX + 100, i;
        char *input = malloc(n + 200);
        ltrr_import_stats_t st;
        ltrr_entity_t e;
        FILE *fp;
        int len;

        assert_non_null(input);
        len = sprintf(input, "{\"id\":\"v\",\"type\":\"track\",\"name\":\"V\","
                             "\"vector\":[0.5,-2]}\n"
                             "{\"id\":\"w\",\"type\":\"track\",\"name\":\"W\","
                             "\"vector\":[1,2,3]}\n");
        for (i = 0; i < n; i++)
                input[len + i] = 'a';
        input[len + n] = '\n';
        strcpy(input + len + n + 1,
               "{\"id\":\"z\",\"type\":\"album\",\"name\":\"Z\"}");
        fp = fmemopen(input, strlen(input), "r");
        assert_int_equal(ltrr_import_jsonl(cat, fp, NULL, &st, NULL, 0),
                         LTRR_OK);
        fclose(fp);
        free(input);
        assert_int_equal(st.read, 4);
        assert_int_equal(st.imported, 2);
        assert_int_equal(st.by_reason[LTRR_IMPORT_SKIP_VALUE], 1);
        assert_int_equal(st.by_reason[LTRR_IMPORT_SKIP_TOO_LONG], 1);
        assert_int_equal(ltrr_catalog_get(cat, 0, &e), LTRR_OK);
        assert_non_null(e.vector);
        assert_true(e.vector[0] == 0.5f && e.vector[1] == -2.0f);
        assert_int_equal(ltrr_catalog_find(cat, "z"), 1);
        ltrr_catalog_destroy(cat);
}

static ltrr_csv_mapping_t *small_mapping(void)
{
        ltrr_csv_mapping_t *map = ltrr_csv_mapping_new();
        char errstr[128];

        assert_non_null(map);
        assert_int_equal(ltrr_csv_mapping_set(map, "columns", "id", "id",
                                              errstr, sizeof(errstr)), 0);
        assert_int_equal(ltrr_csv_mapping_set(map, "columns", "name", "name",
                                              errstr, sizeof(errstr)), 0);
        assert_int_equal(ltrr_csv_mapping_set(map, "columns", "artists",
                                              "artists", errstr,
                                              sizeof(errstr)), 0);
        assert_int_equal(ltrr_csv_mapping_set(map, "separators", "artists",
                                              ";", errstr, sizeof(errstr)), 0);
        assert_int_equal(ltrr_csv_mapping_set(map, "columns", "genres",
                                              "genres", errstr,
                                              sizeof(errstr)), 0);
        assert_int_equal(ltrr_csv_mapping_set(map, "separators", "genres",
                                              "|", errstr, sizeof(errstr)), 0);
        assert_int_equal(ltrr_csv_mapping_set(map, "columns", "release_date",
                                              "release_date", errstr,
                                              sizeof(errstr)), 0);
        assert_int_equal(ltrr_csv_mapping_set(map, "columns", "duration_ms",
                                              "duration_ms", errstr,
                                              sizeof(errstr)), 0);
        assert_int_equal(ltrr_csv_mapping_set(map, "columns", "popularity",
                                              "popularity", errstr,
                                              sizeof(errstr)), 0);
        assert_int_equal(ltrr_csv_mapping_set(map, "csv", "null", "NA",
                                              errstr, sizeof(errstr)), 0);
        return map;
}

static void test_csv_file(void **state)
{
        ltrr_catalog_t *cat = ltrr_catalog_new(0, NULL, 0);
        ltrr_csv_mapping_t *map = small_mapping();
        struct seen s = {{0}, {0}, 0};
        ltrr_import_opts_t opts = {on_error, &s, 100};
        ltrr_import_stats_t st;
        FILE *fp = open_data("catalog-small.csv");
        ltrr_entity_t e;
        char errstr[256];

        assert_int_equal(ltrr_import_csv(cat, fp, map, &opts, &st, errstr,
                                         sizeof(errstr)), LTRR_OK);
        fclose(fp);
        assert_int_equal(st.read, 8);
        assert_int_equal(st.imported, 3);
        assert_int_equal(st.skipped, 5);
        assert_int_equal(st.by_reason[LTRR_IMPORT_SKIP_MISSING], 2);
        assert_int_equal(st.by_reason[LTRR_IMPORT_SKIP_VALUE], 1);
        assert_int_equal(st.by_reason[LTRR_IMPORT_SKIP_DUPLICATE], 1);
        assert_int_equal(st.by_reason[LTRR_IMPORT_SKIP_SYNTAX], 1);
        assert_int_equal(s.cnt, 5);
        assert_int_equal(s.line[0], 6);  /* c4: after a two-line record */
        assert_int_equal(s.line[1], 7);
        assert_int_equal(s.line[2], 8);
        assert_int_equal(s.line[3], 9);
        assert_int_equal(s.line[4], 10);
        assert_int_equal(s.reason[4], LTRR_IMPORT_SKIP_SYNTAX);

        assert_int_equal(ltrr_catalog_find(cat, "c1"), 0); /* BOM skipped */
        assert_int_equal(ltrr_catalog_get(cat, 0, &e), LTRR_OK);
        assert_string_equal(e.name, "Love, Actually");
        assert_int_equal(e.artists_cnt, 2);
        assert_string_equal(ltrr_catalog_sym_name(cat, LTRR_CATALOG_SYM_ARTIST,
                                                  e.artists[1]),
                            "Taylor Swift");
        assert_int_equal(e.duration_ms, 194754);
        assert_true(e.popularity == 66.0f);
        assert_int_equal(ltrr_catalog_get(cat, 1, &e), LTRR_OK);
        assert_string_equal(e.name, "He said \"hi\"");
        assert_int_equal(e.genres_cnt, 2);
        assert_int_equal(e.release_prec, LTRR_DATE_YEAR);
        assert_int_equal(ltrr_catalog_get(cat, 2, &e), LTRR_OK);
        assert_string_equal(e.name, "Two\nLines");
        assert_int_equal(e.duration_ms, LTRR_CATALOG_DURATION_UNKNOWN);
        assert_true(e.popularity < 0);
        ltrr_csv_mapping_destroy(map);
        ltrr_catalog_destroy(cat);
}

static void test_csv_crlf_and_header_errors(void **state)
{
        static const char ok[] = "name;id;kind\r\n\"A;1\";x1;album\r\n"
                                 "\r\nB;x2;podcast\r\nC;x3;song";
        static const char nohdr[] = "";
        static const char nocol[] = "id,title\n1,a\n";
        ltrr_catalog_t *cat = ltrr_catalog_new(0, NULL, 0);
        ltrr_csv_mapping_t *map = ltrr_csv_mapping_new();
        ltrr_import_stats_t st;
        ltrr_entity_t e;
        char errstr[256];
        FILE *fp;

        assert_int_equal(ltrr_csv_mapping_set(map, "csv", "delimiter", ";",
                                              NULL, 0), 0);
        assert_int_equal(ltrr_csv_mapping_set(map, "columns", "id", "id",
                                              NULL, 0), 0);
        assert_int_equal(ltrr_csv_mapping_set(map, "columns", "type", "kind",
                                              NULL, 0), 0);
        fp = fmemopen((void *)ok, sizeof(ok) - 1, "r");
        assert_int_equal(ltrr_import_csv(cat, fp, map, NULL, &st, errstr,
                                         sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG); /* name not mapped */
        rewind(fp);
        assert_int_equal(ltrr_csv_mapping_set(map, "columns", "name", "name",
                                              NULL, 0), 0);
        assert_int_equal(ltrr_import_csv(cat, fp, map, NULL, &st, errstr,
                                         sizeof(errstr)), LTRR_OK);
        fclose(fp);
        assert_int_equal(st.read, 3);
        assert_int_equal(st.blank, 1);
        assert_int_equal(st.imported, 2);
        assert_int_equal(st.by_reason[LTRR_IMPORT_SKIP_VALUE], 1);
        assert_int_equal(ltrr_catalog_get(cat, 0, &e), LTRR_OK);
        assert_string_equal(e.name, "A;1");
        assert_int_equal(e.type, LTRR_ENTITY_ALBUM);

        fp = fmemopen((void *)nocol, sizeof(nocol) - 1, "r");
        assert_int_equal(ltrr_import_csv(cat, fp, map, NULL, &st, errstr,
                                         sizeof(errstr)),
                         LTRR_ERR_UNKNOWN_KEY);
        assert_non_null(strstr(errstr, "not in header"));
        fclose(fp);
        fp = fmemopen((void *)"x", 0, "r");
        (void)nohdr;
        if (fp) {
                assert_int_equal(ltrr_import_csv(cat, fp, map, NULL, &st,
                                                 errstr, sizeof(errstr)),
                                 LTRR_ERR_PARSE);
                fclose(fp);
        }
        ltrr_csv_mapping_destroy(map);
        ltrr_catalog_destroy(cat);
}

static void test_mapping_errors(void **state)
{
        ltrr_csv_mapping_t *map = ltrr_csv_mapping_new();
        char errstr[256], path[1024];
        const char *src = getenv("LTRR_SRC");

        assert_int_equal(ltrr_csv_mapping_set(map, "columns", "colour", "x",
                                              errstr, sizeof(errstr)),
                         LTRR_ERR_UNKNOWN_KEY);
        assert_int_equal(ltrr_csv_mapping_set(map, "separators", "name", ",",
                                              errstr, sizeof(errstr)),
                         LTRR_ERR_UNKNOWN_KEY);
        assert_int_equal(ltrr_csv_mapping_set(map, "csv", "delimiter", ",,",
                                              errstr, sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_csv_mapping_set(map, "csv", "type", "song",
                                              errstr, sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_csv_mapping_load(map, "/nonexistent.ini",
                                               errstr, sizeof(errstr)),
                         LTRR_ERR_IO);
        snprintf(path, sizeof(path), "%s/tools/mappings/spotify.ini",
                 src ? src : ".");
        assert_int_equal(ltrr_csv_mapping_load(map, path, errstr,
                                               sizeof(errstr)), LTRR_OK);
        ltrr_csv_mapping_destroy(map);
        ltrr_csv_mapping_destroy(NULL);
        assert_string_equal(ltrr_import_skip_name(LTRR_IMPORT_SKIP_TOO_LONG),
                            "too_long");
        assert_string_equal(ltrr_import_skip_name(LTRR_IMPORT_SKIP__CNT),
                            "unknown");
}

/* The ready mapping imports the real catalog from shared/data. */
static void test_spotify(void **state)
{
        ltrr_catalog_t *cat = ltrr_catalog_new(0, NULL, 0);
        ltrr_import_stats_t st;
        ltrr_entity_t e;

        if (!spotify_import(cat, &st)) {
                ltrr_catalog_destroy(cat);
                skip();
        }
        print_message("spotify: read %llu imported %llu duplicate %llu "
                      "missing %llu other %llu\n",
                      (unsigned long long)st.read,
                      (unsigned long long)st.imported,
                      (unsigned long long)st.by_reason[LTRR_IMPORT_SKIP_DUPLICATE],
                      (unsigned long long)st.by_reason[LTRR_IMPORT_SKIP_MISSING],
                      (unsigned long long)(st.skipped -
                          st.by_reason[LTRR_IMPORT_SKIP_DUPLICATE] -
                          st.by_reason[LTRR_IMPORT_SKIP_MISSING]));
        assert_int_equal(st.read, 32833);
        assert_int_equal(st.imported + st.skipped, st.read);
        assert_true(st.imported > 28000 && st.imported <= 28356);
        assert_int_equal(ltrr_catalog_sym_count(cat, LTRR_CATALOG_SYM_GENRE),
                         6);
        assert_int_equal(ltrr_catalog_get(cat, 0, &e), LTRR_OK);
        assert_string_equal(e.id, "6f807x0ima9a1j3VPbc7VN");
        assert_string_equal(ltrr_catalog_sym_name(cat, LTRR_CATALOG_SYM_ARTIST,
                                                  e.artists[0]), "Ed Sheeran");
        assert_int_equal(e.duration_ms, 194754);
        assert_int_equal(e.release_days, ltrr_date_from_ymd(2019, 6, 14));
        ltrr_catalog_destroy(cat);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_jsonl_file),
                cmocka_unit_test(test_jsonl_bounded_reports),
                cmocka_unit_test(test_jsonl_vectors_and_long_line),
                cmocka_unit_test(test_csv_file),
                cmocka_unit_test(test_csv_crlf_and_header_errors),
                cmocka_unit_test(test_mapping_errors),
                cmocka_unit_test(test_spotify),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
