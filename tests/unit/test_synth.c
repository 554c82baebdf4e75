/* Unit tests: synthetic catalog generator. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synth.h"

/* Hash of every field of (n = 10000, seed = 1, ref 2026-01-01, dim 4). */
#define SYNTH_HASH_10000_1 0xda86979e9779108dull

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
        const unsigned char *b = p;

        while (n--)
                h = (h ^ *b++) * 0x100000001b3ull;
        return h;
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
        return fnv(h, s ? s : "\1", s ? strlen(s) + 1 : 1);
}

static uint64_t fnv_list(uint64_t h, const char *const *v, size_t n)
{
        size_t i;

        h = fnv(h, &n, sizeof(n));
        for (i = 0; i < n; i++)
                h = fnv_str(h, v[i]);
        return h;
}

static ltrr_err_t hash_cb(void *opaque, const ltrr_entity_in_t *in)
{
        uint64_t *h = opaque;
        uint32_t i, t = in->type;
        int32_t d = in->release_days;

        *h = fnv(*h, &t, sizeof(t));
        *h = fnv_str(*h, in->id);
        *h = fnv_str(*h, in->name);
        *h = fnv_str(*h, in->album);
        *h = fnv_str(*h, in->description);
        *h = fnv_list(*h, in->artists, in->artists_cnt);
        *h = fnv_list(*h, in->artist_ids, in->artist_ids ? in->artists_cnt : 0);
        *h = fnv_list(*h, in->genres, in->genres_cnt);
        *h = fnv_list(*h, in->subgenres, in->subgenres_cnt);
        *h = fnv_list(*h, in->moods, in->moods_cnt);
        *h = fnv_str(*h, in->language);
        *h = fnv(*h, &d, sizeof(d));
        t = in->release_prec;
        *h = fnv(*h, &t, sizeof(t));
        *h = fnv(*h, &in->duration_ms, sizeof(in->duration_ms));
        *h = fnv(*h, &in->popularity, sizeof(in->popularity));
        for (i = 0; in->vector && i < 4; i++)
                *h = fnv(*h, &in->vector[i], sizeof(float));
        return LTRR_OK;
}

static ltrr_synth_conf_t conf_of(uint64_t n, uint64_t seed)
{
        ltrr_synth_conf_t c = {n, seed, ltrr_date_from_ymd(2026, 1, 1), 4};

        return c;
}

static void test_determinism(void **state)
{
        ltrr_synth_conf_t c = conf_of(10000, 1);
        uint64_t h1 = 0xcbf29ce484222325ull, h2 = h1, h3 = h1;
        char errstr[128];

        assert_int_equal(ltrr_synth_generate(&c, hash_cb, &h1, errstr,
                                             sizeof(errstr)), LTRR_OK);
        assert_int_equal(ltrr_synth_generate(&c, hash_cb, &h2, errstr,
                                             sizeof(errstr)), LTRR_OK);
        assert_true(h1 == h2);
        print_message("synth hash (10000, 1): 0x%016llxull\n",
                      (unsigned long long)h1);
        assert_true(h1 == SYNTH_HASH_10000_1);
        c.seed = 2;
        assert_int_equal(ltrr_synth_generate(&c, hash_cb, &h3, errstr,
                                             sizeof(errstr)), LTRR_OK);
        assert_true(h3 != h1);
}

/* Statistics gathered from a catalog built by the generator. */
static int cmp_desc(const void *a, const void *b)
{
        float x = *(const float *)a, y = *(const float *)b;

        return (x < y) - (x > y);
}

static void test_distribution(void **state)
{
        ltrr_synth_conf_t c = conf_of(100000, 7);
        ltrr_catalog_t *cat = ltrr_catalog_new(4, NULL, 0);
        uint64_t types[LTRR_ENTITY__CNT] = {0}, fresh = 0, accented = 0;
        const char *want_langs[] = {"en", "es", "fr", "de", "pt", "sv", "ja"};
        int lang_seen[7] = {0}, love = 0, love_story = 0, love_me = 0,
            lovers = 0, with_desc = 0;
        float *apop = malloc(sizeof(float) * 100000);
        uint32_t i, na = 0, j;
        ltrr_entity_t e;
        char errstr[128];

        assert_non_null(apop);
        assert_int_equal(ltrr_synth_generate(&c, ltrr_synth_to_catalog, cat,
                                             errstr, sizeof(errstr)), LTRR_OK);
        assert_int_equal(ltrr_catalog_count(cat), 100000);
        for (i = 0; i < 100000; i++) {
                assert_int_equal(ltrr_catalog_get(cat, i, &e), LTRR_OK);
                types[e.type]++;
                if (e.type == LTRR_ENTITY_ARTIST)
                        apop[na++] = e.popularity;
                for (j = 0; j < 7; j++)
                        lang_seen[j] |= !strcmp(e.language, want_langs[j]);
                love += !strcmp(e.name, "Love");
                love_story += !strcmp(e.name, "Love Story");
                love_me += !strcmp(e.name, "Love Me");
                lovers += !strcmp(e.name, "Lovers");
                fresh += e.release_prec &&
                         e.release_days > c.ref_days - 28 &&
                         e.release_days <= c.ref_days;
                accented += strpbrk(e.name, "\xc3") != NULL;
                if (e.type == LTRR_ENTITY_PODCAST ||
                    e.type == LTRR_ENTITY_PLAYLIST)
                        with_desc += e.description != NULL;
                assert_true(e.popularity >= 0 && e.popularity <= 100);
                if (e.type == LTRR_ENTITY_TRACK)
                        assert_non_null(e.vector);
        }
        /* Type mix: mostly tracks, every type present. */
        assert_true(types[LTRR_ENTITY_TRACK] > 65000 &&
                    types[LTRR_ENTITY_TRACK] < 80000);
        for (i = 0; i < LTRR_ENTITY__CNT; i++)
                assert_true(types[i] > 100);
        assert_int_equal(with_desc, types[LTRR_ENTITY_PODCAST] +
                                        types[LTRR_ENTITY_PLAYLIST]);
        for (j = 0; j < 7; j++)
                assert_true(lang_seen[j]);
        assert_true(love > 10 && love_story > 10 && love_me > 10 &&
                    lovers > 10);
        assert_true(fresh > 1000);
        assert_true(accented > 1000);
        /* Zipf: the 10th most popular artist has ~1/ (rank ratio) of the
         * first's popularity, and the top 1% of artists dominate. */
        qsort(apop, na, sizeof(float), cmp_desc);
        assert_true(apop[0] / apop[9] > 1.5f && apop[0] / apop[99] > 8.0f);
        assert_true(apop[na / 2] < apop[0] / 100.0f);
        free(apop);
        ltrr_catalog_destroy(cat);
}

static ltrr_err_t stop_cb(void *opaque, const ltrr_entity_in_t *in)
{
        int *n = opaque;

        return ++*n == 5 ? LTRR_ERR_NOSPACE : LTRR_OK;
}

static void test_errors(void **state)
{
        ltrr_synth_conf_t c = conf_of(0, 1);
        char errstr[128];
        int n = 0;

        assert_int_equal(ltrr_synth_generate(&c, stop_cb, &n, errstr,
                                             sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_synth_generate(NULL, stop_cb, &n, NULL, 0),
                         LTRR_ERR_INVALID_ARG);
        c.n = 100;
        assert_int_equal(ltrr_synth_generate(&c, NULL, &n, NULL, 0),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_synth_generate(&c, stop_cb, &n, errstr,
                                             sizeof(errstr)),
                         LTRR_ERR_NOSPACE);
        assert_int_equal(n, 5);
        assert_non_null(strstr(errstr, "entity 5"));
        assert_true(ltrr_synth_vocab()->langs_cnt >= 7);
        assert_true(ltrr_synth_vocab()->genres_cnt > 5);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_determinism),
                cmocka_unit_test(test_distribution),
                cmocka_unit_test(test_errors),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
