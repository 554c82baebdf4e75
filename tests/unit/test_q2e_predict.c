/*
 * Unit tests for predicted Q2E: the generated queries of an entity, the
 * keyed table (bounds, order, corrupt input) and the round trip through
 * an index file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "catalog.h"
#include "index.h"
#include "q2e_predict.h"
#include "text.h"

/* Index of generated query @p s in @p q, or -1. */
static int find_q(const ltrr_q2e_pred_query_t *q, size_t n, const char *s)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(q[i].query, s) == 0)
                        return (int)i;
        return -1;
}

static void test_queries(void **state)
{
        (void)state;
        char errstr[128];
        ltrr_analyzer_t *an = ltrr_analyzer_new("en", errstr, sizeof(errstr));
        ltrr_q2e_pred_query_t q[LTRR_Q2E_PREDICT_PER_ENTITY];
        const char *artists[] = {"Taylor Swift"};
        assert_non_null(an);
        size_t n = ltrr_q2e_predict_queries(an, "Love Story", artists, 1,
                                            1.0f, q, 16);
        assert_true(n >= 6 && n <= 16);
        int i = find_q(q, n, "love story");
        assert_true(i == 0);
        assert_int_equal(q[i].kind, LTRR_Q2E_PRED_NAME);
        assert_true(q[i].score == 1.0f);
        i = find_q(q, n, "taylor swift love story");
        assert_true(i > 0);
        assert_int_equal(q[i].kind, LTRR_Q2E_PRED_ARTIST_TITLE);
        assert_true(find_q(q, n, "taylor swift") > 0);
        i = find_q(q, n, "lov");
        assert_true(i > 0);
        assert_int_equal(q[i].kind, LTRR_Q2E_PRED_PREFIX);
        assert_true(q[i].score < q[0].score);
        assert_true(find_q(q, n, "love st") > 0);
        assert_true(find_q(q, n, "love ") < 0); /* no trailing space */
        assert_true(find_q(q, n, "lo") < 0);    /* shorter than the min */
        i = find_q(q, n, "love sotry"); /* middle letters of "story" */
        assert_true(i > 0);
        assert_int_equal(q[i].kind, LTRR_Q2E_PRED_MISSPELLING);
        /* every query is distinct and the cap holds */
        for (size_t a = 0; a < n; a++)
                for (size_t b = a + 1; b < n; b++)
                        assert_string_not_equal(q[a].query, q[b].query);
        assert_int_equal(ltrr_q2e_predict_queries(an, "Love Story", artists,
                                                  1, 1.0f, q, 2), 2);
        assert_int_equal(ltrr_q2e_predict_queries(an, "!!!", NULL, 0, 1.0f,
                                                  q, 16), 0);
        assert_int_equal(ltrr_q2e_predict_queries(NULL, "x", NULL, 0, 1.0f,
                                                  q, 16), 0);
        ltrr_analyzer_destroy(an);
}

static void test_table(void **state)
{
        (void)state;
        char errstr[128];
        const ltrr_q2e_tab_ent_t *l;
        size_t lc;
        const void *data;
        size_t len;
        ltrr_q2e_tab_t *t = ltrr_q2e_tab_new(2, 5);
        assert_non_null(t);
        assert_null(ltrr_q2e_tab_new(0, 5));
        assert_int_equal(ltrr_q2e_tab_add(t, 7, 1, 0.1f), LTRR_OK);
        assert_int_equal(ltrr_q2e_tab_add(t, 7, 2, 0.9f), LTRR_OK);
        assert_int_equal(ltrr_q2e_tab_add(t, 7, 3, 0.5f), LTRR_OK);
        assert_int_equal(ltrr_q2e_tab_add(t, 3, 4, 0.2f), LTRR_OK);
        assert_int_equal(ltrr_q2e_tab_add(t, 3, 4, 0.1f), LTRR_OK);
        assert_int_equal(ltrr_q2e_tab_add(t, 9, 5, 1.0f), LTRR_ERR_NOSPACE);
        assert_int_equal(ltrr_q2e_tab_dropped(t), 1);
        assert_int_equal(ltrr_q2e_tab_finish(t, errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_q2e_tab_add(t, 1, 1, 1), LTRR_ERR_STATE);
        ltrr_q2e_tab_blob(t, &data, &len);
        assert_int_equal(ltrr_q2e_tab_check(data, len, errstr,
                                            sizeof(errstr)), LTRR_OK);
        /* best two of key 7, in order; one entry for the repeated pair */
        assert_int_equal(ltrr_q2e_tab_lookup(data, len, 7, &l, &lc), 1);
        assert_int_equal(lc, 2);
        assert_true(l[0].ent == 2 && l[1].ent == 3);
        assert_int_equal(ltrr_q2e_tab_lookup(data, len, 3, &l, &lc), 1);
        assert_true(lc == 1 && l[0].ent == 4 && l[0].score == 0.2f);
        assert_int_equal(ltrr_q2e_tab_lookup(data, len, 9, &l, &lc), 0);
        assert_null(l);
        /* truncated or damaged bytes are refused */
        assert_int_equal(ltrr_q2e_tab_lookup(data, len - 8, 7, &l, &lc), -1);
        uint8_t *copy = malloc(len);
        memcpy(copy, data, len);
        copy[0] ^= 1;
        assert_int_equal(ltrr_q2e_tab_check(copy, len, errstr,
                                            sizeof(errstr)), LTRR_ERR_CORRUPT);
        assert_int_equal(ltrr_q2e_tab_check(copy, 8, errstr, sizeof(errstr)),
                         LTRR_ERR_TRUNCATED);
        free(copy);
        ltrr_q2e_tab_destroy(t);
        ltrr_q2e_tab_destroy(NULL);
        assert_int_equal(ltrr_q2e_tab_add(NULL, 1, 1, 1), LTRR_ERR_STATE);
}

/* Adds one track to @p cat. */
static void add(ltrr_catalog_t *cat, const char *id, const char *name,
                const char *artist, float pop)
{
        char errstr[128];
        ltrr_entity_in_t in;
        ltrr_entity_in_init(&in);
        in.id = id;
        in.name = name;
        in.artists = &artist;
        in.artists_cnt = 1;
        in.popularity = pop;
        assert_int_equal(ltrr_catalog_add(cat, &in, errstr, sizeof(errstr)),
                         LTRR_OK);
}

static void test_index_round_trip(void **state)
{
        (void)state;
        char errstr[256], path[256];
        const char *dir = getenv("LTRR_TEST_OUT");
        snprintf(path, sizeof(path), "%s/test_q2e_predict.%d.idx",
                 dir && access(dir, W_OK) == 0 ? dir : "/tmp", (int)getpid());
        ltrr_catalog_t *cat = ltrr_catalog_new(0, errstr, sizeof(errstr));
        ltrr_analyzer_t *an = ltrr_analyzer_new("en", errstr, sizeof(errstr));
        add(cat, "a", "Love Story", "Taylor Swift", 90);
        add(cat, "b", "Love Song", "Adele", 50);
        add(cat, "c", "Lovely", "Billie Eilish", 70);
        ltrr_q2e_tab_t *t = ltrr_q2e_predict_build(cat, an, 0, 0, errstr,
                                                   sizeof(errstr));
        assert_non_null(t);
        assert_null(ltrr_q2e_predict_build(NULL, an, 0, 0, errstr,
                                           sizeof(errstr)));
        ltrr_index_extra_t ex = {.kind = LTRR_INDEX_SEC_Q2E};
        ltrr_q2e_tab_blob(t, &ex.data, &ex.len);
        ltrr_index_build_conf_t bc = {.extra = &ex, .extra_cnt = 1};
        assert_int_equal(ltrr_index_build(cat, &bc, path, errstr,
                                          sizeof(errstr)), LTRR_OK);
        ltrr_index_t *ix = ltrr_index_open(path, errstr, sizeof(errstr));
        assert_non_null(ix);
        unlink(path);
        uint64_t len;
        const void *sec = ltrr_index_section(ix, LTRR_INDEX_SEC_Q2E, &len);
        assert_non_null(sec);
        assert_int_equal(len, ex.len);
        const ltrr_q2e_tab_ent_t *l;
        size_t lc;
        /* "lov" is a prefix of all three: best score first ("Lovely" is
         * the closest completion) */
        assert_int_equal(ltrr_q2e_tab_lookup(sec, len,
                                             ltrr_q2e_predict_key("lov", 3),
                                             &l, &lc), 1);
        assert_int_equal(lc, 3);
        assert_true(l[0].ent == 2 && l[1].ent == 0 && l[2].ent == 1);
        assert_true(l[0].score >= l[1].score && l[1].score >= l[2].score);
        const char *k = "adele love song";
        assert_int_equal(ltrr_q2e_tab_lookup(sec, len,
                                             ltrr_q2e_predict_key(k,
                                                                  strlen(k)),
                                             &l, &lc), 1);
        assert_true(lc == 1 && l[0].ent == 1);
        k = "love sotry";
        assert_int_equal(ltrr_q2e_tab_lookup(sec, len,
                                             ltrr_q2e_predict_key(k,
                                                                  strlen(k)),
                                             &l, &lc), 1);
        assert_true(l[0].ent == 0);
        ltrr_index_destroy(ix);
        ltrr_q2e_tab_destroy(t);
        ltrr_analyzer_destroy(an);
        ltrr_catalog_destroy(cat);
}

static void test_total_bound(void **state)
{
        (void)state;
        char errstr[128];
        ltrr_catalog_t *cat = ltrr_catalog_new(0, errstr, sizeof(errstr));
        ltrr_analyzer_t *an = ltrr_analyzer_new("en", errstr, sizeof(errstr));
        add(cat, "a", "Love Story", "Taylor Swift", 90);
        add(cat, "b", "Love Song", "Adele", 50);
        ltrr_q2e_tab_t *t = ltrr_q2e_predict_build(cat, an, 1, 3, errstr,
                                                   sizeof(errstr));
        assert_non_null(t);
        assert_true(ltrr_q2e_tab_dropped(t) >= 1);
        const void *data;
        size_t len;
        ltrr_q2e_tab_blob(t, &data, &len);
        assert_int_equal(len, 32 + 3 * 16 + 3 * 8);
        ltrr_q2e_tab_destroy(t);
        ltrr_analyzer_destroy(an);
        ltrr_catalog_destroy(cat);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_queries),
            cmocka_unit_test(test_table),
            cmocka_unit_test(test_index_round_trip),
            cmocka_unit_test(test_total_bound),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
