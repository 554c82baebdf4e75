/* Unit tests: catalog model and builder. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "catalog.h"

static ltrr_catalog_t *cat_new(uint32_t dim)
{
        char errstr[128];
        ltrr_catalog_t *cat = ltrr_catalog_new(dim, errstr, sizeof(errstr));

        assert_non_null(cat);
        return cat;
}

static void test_round_trip(void **state)
{
        static const char *const artists[] = {"Taylor Swift", "Ed Sheeran"};
        static const char *const aids[] = {"ar1", NULL};
        static const char *const genres[] = {"pop", "country"};
        static const char *const moods[] = {"romantic"};
        const float vec[3] = {0.5f, -1.0f, 2.25f};
        ltrr_catalog_t *cat = cat_new(3);
        ltrr_entity_in_t in;
        ltrr_entity_t e;
        char errstr[128];

        ltrr_entity_in_init(&in);
        in.type = LTRR_ENTITY_TRACK;
        in.id = "t1";
        in.name = "Love Story";
        in.album = "Fearless";
        in.artists = artists;
        in.artist_ids = aids;
        in.artists_cnt = 2;
        in.genres = genres;
        in.genres_cnt = 2;
        in.moods = moods;
        in.moods_cnt = 1;
        in.language = "EN";
        assert_int_equal(ltrr_date_parse("2008-09-12", &in.release_days,
                                         &in.release_prec), LTRR_OK);
        in.duration_ms = 235000;
        in.popularity = 81.5f;
        in.vector = vec;
        assert_int_equal(ltrr_catalog_add(cat, &in, errstr, sizeof(errstr)),
                         LTRR_OK);

        ltrr_entity_in_init(&in);
        in.type = LTRR_ENTITY_ARTIST;
        in.id = "ar1";
        in.name = "Taylor Swift";
        in.genres = genres;
        in.genres_cnt = 1;
        assert_int_equal(ltrr_catalog_add(cat, &in, errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_catalog_count(cat), 2);

        assert_int_equal(ltrr_catalog_get(cat, 0, &e), LTRR_OK);
        assert_string_equal(e.id, "t1");
        assert_string_equal(e.name, "Love Story");
        assert_string_equal(e.album, "Fearless");
        assert_null(e.description);
        assert_int_equal(e.type, LTRR_ENTITY_TRACK);
        assert_int_equal(e.artists_cnt, 2);
        assert_string_equal(ltrr_catalog_sym_name(cat, LTRR_CATALOG_SYM_ARTIST,
                                                  e.artists[1]), "Ed Sheeran");
        assert_string_equal(ltrr_catalog_artist_id(cat, e.artists[0]), "ar1");
        assert_null(ltrr_catalog_artist_id(cat, e.artists[1]));
        assert_int_equal(e.genres_cnt, 2);
        assert_string_equal(ltrr_catalog_sym_name(cat, LTRR_CATALOG_SYM_GENRE,
                                                  e.genres[1]), "country");
        assert_int_equal(e.subgenres_cnt, 0);
        assert_int_equal(e.moods_cnt, 1);
        assert_string_equal(ltrr_catalog_sym_name(cat, LTRR_CATALOG_SYM_MOOD,
                                                  e.moods[0]), "romantic");
        assert_string_equal(e.language, "en");
        assert_int_equal(e.release_prec, LTRR_DATE_DAY);
        assert_int_equal(e.release_days, 14134);
        assert_int_equal(e.duration_ms, 235000);
        assert_true(e.popularity == 81.5f);
        assert_non_null(e.vector);
        assert_memory_equal(e.vector, vec, sizeof(vec));

        /* The second entity shares the interned genre "pop". */
        assert_int_equal(ltrr_catalog_get(cat, 1, &e), LTRR_OK);
        assert_null(e.vector);
        assert_null(e.album);
        assert_string_equal(e.language, "");
        assert_int_equal(e.duration_ms, LTRR_CATALOG_DURATION_UNKNOWN);
        assert_true(e.popularity < 0);
        assert_int_equal(ltrr_catalog_sym_count(cat, LTRR_CATALOG_SYM_GENRE),
                         2);
        assert_int_equal(ltrr_catalog_sym_find(cat, LTRR_CATALOG_SYM_GENRE,
                                               "pop"), e.genres[0]);
        assert_int_equal(ltrr_catalog_sym_find(cat, LTRR_CATALOG_SYM_GENRE,
                                               "jazz"), LTRR_CATALOG_SYM_NONE);
        assert_int_equal(ltrr_catalog_find(cat, "ar1"), 1);
        assert_int_equal(ltrr_catalog_find(cat, "nope"), -1);
        assert_int_equal(ltrr_catalog_get(cat, 2, &e), LTRR_ERR_RANGE);
        assert_null(ltrr_catalog_sym_name(cat, LTRR_CATALOG_SYM_GENRE, 2));
        assert_true(ltrr_catalog_memory(cat) > 0);
        ltrr_catalog_destroy(cat);
}

static void test_duplicate_id(void **state)
{
        ltrr_catalog_t *cat = cat_new(0);
        ltrr_entity_in_t in;
        ltrr_entity_t e;
        char errstr[128];

        ltrr_entity_in_init(&in);
        in.id = "x";
        in.name = "First";
        assert_int_equal(ltrr_catalog_add(cat, &in, errstr, sizeof(errstr)),
                         LTRR_OK);
        in.name = "Second";
        assert_int_equal(ltrr_catalog_add(cat, &in, errstr, sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_non_null(strstr(errstr, "duplicate"));
        assert_int_equal(ltrr_catalog_duplicates(cat), 1);
        assert_int_equal(ltrr_catalog_count(cat), 1);
        assert_int_equal(ltrr_catalog_get(cat, 0, &e), LTRR_OK);
        assert_string_equal(e.name, "First"); /* the later row is skipped */
        ltrr_catalog_destroy(cat);
}

static void test_invalid(void **state)
{
        static const char *const bad_list[] = {"pop", ""};
        const float v[2] = {1, 2};
        ltrr_catalog_t *cat = cat_new(0);
        ltrr_entity_in_t in;
        char errstr[128];
        char longid[LTRR_CATALOG_ID_MAX + 2];

        ltrr_entity_in_init(&in);
        in.name = "No id";
        assert_int_equal(ltrr_catalog_add(cat, &in, errstr, sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_non_null(strstr(errstr, "id"));
        in.id = "a";
        in.name = "";
        assert_int_equal(ltrr_catalog_add(cat, &in, errstr, sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        in.name = "ok";
        in.language = "eng";
        assert_int_equal(ltrr_catalog_add(cat, &in, errstr, sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        in.language = NULL;
        in.genres = bad_list;
        in.genres_cnt = 2;
        assert_int_equal(ltrr_catalog_add(cat, &in, errstr, sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        in.genres_cnt = LTRR_CATALOG_LIST_MAX + 1;
        assert_int_equal(ltrr_catalog_add(cat, &in, errstr, sizeof(errstr)),
                         LTRR_ERR_RANGE);
        in.genres_cnt = 0;
        in.type = LTRR_ENTITY__CNT;
        assert_int_equal(ltrr_catalog_add(cat, &in, errstr, sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        in.type = LTRR_ENTITY_TRACK;
        in.vector = v; /* dim 0 catalog */
        assert_int_equal(ltrr_catalog_add(cat, &in, errstr, sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        in.vector = NULL;
        memset(longid, 'x', sizeof(longid) - 1);
        longid[sizeof(longid) - 1] = '\0';
        in.id = longid;
        assert_int_equal(ltrr_catalog_add(cat, &in, errstr, sizeof(errstr)),
                         LTRR_ERR_RANGE);
        assert_int_equal(ltrr_catalog_count(cat), 0);
        assert_int_equal(ltrr_catalog_duplicates(cat), 0);
        assert_null(ltrr_catalog_new(LTRR_CATALOG_DIM_MAX + 1, errstr,
                                     sizeof(errstr)));
        assert_non_null(strstr(errstr, "dimension"));
        ltrr_catalog_destroy(cat);
        ltrr_catalog_destroy(NULL);
}

/* Many entities force every hash table and array to grow. */
static void test_growth(void **state)
{
        ltrr_catalog_t *cat = cat_new(0);
        const char *artist[1];
        char id[32], name[32], an[32];
        ltrr_entity_in_t in;
        ltrr_entity_t e;
        uint32_t i;

        artist[0] = an;
        for (i = 0; i < 20000; i++) {
                ltrr_entity_in_init(&in);
                snprintf(id, sizeof(id), "id%u", i);
                snprintf(name, sizeof(name), "Name %u", i);
                snprintf(an, sizeof(an), "Artist %u", i % 500);
                in.id = id;
                in.name = name;
                in.artists = artist;
                in.artists_cnt = 1;
                assert_int_equal(ltrr_catalog_add(cat, &in, NULL, 0), LTRR_OK);
        }
        assert_int_equal(ltrr_catalog_sym_count(cat, LTRR_CATALOG_SYM_ARTIST),
                         500);
        for (i = 0; i < 20000; i += 997) {
                snprintf(id, sizeof(id), "id%u", i);
                assert_int_equal(ltrr_catalog_find(cat, id), i);
                assert_int_equal(ltrr_catalog_get(cat, i, &e), LTRR_OK);
                snprintf(name, sizeof(name), "Name %u", i);
                assert_string_equal(e.name, name);
                snprintf(an, sizeof(an), "Artist %u", i % 500);
                assert_string_equal(ltrr_catalog_sym_name(
                                        cat, LTRR_CATALOG_SYM_ARTIST,
                                        e.artists[0]), an);
        }
        ltrr_catalog_destroy(cat);
}

static void test_dates(void **state)
{
        int32_t d;
        ltrr_date_prec_t p;
        int y, m, dd;

        assert_int_equal(ltrr_date_from_ymd(1970, 1, 1), 0);
        assert_int_equal(ltrr_date_from_ymd(2000, 3, 1), 11017);
        assert_int_equal(ltrr_date_from_ymd(1969, 12, 31), -1);
        ltrr_date_to_ymd(11017, &y, &m, &dd);
        assert_int_equal(y * 10000 + m * 100 + dd, 20000301);
        ltrr_date_to_ymd(-1, &y, &m, &dd);
        assert_int_equal(y * 10000 + m * 100 + dd, 19691231);
        assert_int_equal(ltrr_date_parse("2019", &d, &p), LTRR_OK);
        assert_int_equal(p, LTRR_DATE_YEAR);
        assert_int_equal(d, ltrr_date_from_ymd(2019, 1, 1));
        assert_int_equal(ltrr_date_parse("2019-06", &d, &p), LTRR_OK);
        assert_int_equal(p, LTRR_DATE_MONTH);
        assert_int_equal(d, ltrr_date_from_ymd(2019, 6, 1));
        assert_int_equal(ltrr_date_parse("2019-13-01", &d, &p),
                         LTRR_ERR_PARSE);
        assert_int_equal(ltrr_date_parse("2019-02-30", &d, &p),
                         LTRR_ERR_PARSE);
        assert_int_equal(ltrr_date_parse("19", &d, &p), LTRR_ERR_PARSE);
        assert_int_equal(ltrr_date_parse("2019-06-01x", &d, &p),
                         LTRR_ERR_PARSE);
        assert_int_equal(ltrr_date_parse(NULL, &d, &p), LTRR_ERR_PARSE);
}

static void test_type_names(void **state)
{
        int t;

        for (t = 0; t < LTRR_ENTITY__CNT; t++)
                assert_int_equal(ltrr_entity_type_parse(
                                     ltrr_entity_type_name(t)), t);
        assert_string_equal(ltrr_entity_type_name(LTRR_ENTITY_EPISODE),
                            "episode");
        assert_null(ltrr_entity_type_name(LTRR_ENTITY__CNT));
        assert_int_equal(ltrr_entity_type_parse("song"), -1);
        assert_int_equal(ltrr_entity_type_parse(NULL), -1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_duplicate_id),
                cmocka_unit_test(test_invalid),
                cmocka_unit_test(test_growth),
                cmocka_unit_test(test_dates),
                cmocka_unit_test(test_type_names),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
