/*
 * Unit tests for predicted Q2E: the generated queries of an entity, the
 * keyed table (bounds, order, corrupt input, agreement with a plain
 * comparison sort for long and short key runs, in and out of entity
 * order, dense and sparse entity ids) and the round trip through an
 * index file.
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

/* A tuple of the reference model of a keyed table. */
typedef struct ref_s {
        uint64_t key;
        uint32_t ent;
        float score;
} ref_t;

/* The table's order: key, score descending, entity. */
static int ref_cmp(const void *a, const void *b)
{
        const ref_t *x = a, *y = b;
        if (x->key != y->key)
                return x->key < y->key ? -1 : 1;
        if (x->score != y->score)
                return x->score > y->score ? -1 : 1;
        return (x->ent > y->ent) - (x->ent < y->ent);
}

/* Deterministic pseudo-random numbers. */
static uint32_t lcg(uint64_t *st)
{
        *st = *st * 6364136223846793005ull + 1442695040888963407ull;
        return (uint32_t)(*st >> 33);
}

/* Adds @p r (n tuples) to a table keeping @p per_key, and checks that
 * every key lists what a comparison sort and a scan for repeats keep:
 * the first per_key distinct entities of the key, in order. */
static void check_ref(ref_t *r, size_t n, uint32_t per_key)
{
        char errstr[128];
        const void *data;
        size_t len, keys = 0, ents = 0;
        ltrr_q2e_tab_t *t = ltrr_q2e_tab_new(per_key, n);
        assert_non_null(t);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(ltrr_q2e_tab_add(t, r[i].key, r[i].ent,
                                                  r[i].score), LTRR_OK);
        assert_int_equal(ltrr_q2e_tab_finish(t, errstr, sizeof(errstr)),
                         LTRR_OK);
        ltrr_q2e_tab_blob(t, &data, &len);
        qsort(r, n, sizeof(*r), ref_cmp);
        for (size_t i = 0, j; i < n; i = j) {
                const ltrr_q2e_tab_ent_t *l;
                size_t lc, k = 0;
                for (j = i; j < n && r[j].key == r[i].key; j++)
                        ;
                assert_int_equal(ltrr_q2e_tab_lookup(data, len, r[i].key, &l,
                                                     &lc), 1);
                for (size_t a = i; a < j && k < per_key; a++) {
                        int seen = 0;
                        for (size_t b = i; b < a; b++)
                                seen |= r[b].ent == r[a].ent;
                        if (seen)
                                continue;
                        assert_true(k < lc);
                        assert_int_equal(l[k].ent, r[a].ent);
                        assert_true(l[k].score == r[a].score);
                        k++;
                }
                assert_int_equal(lc, k);
                keys++;
                ents += k;
        }
        assert_int_equal(len, 32 + keys * 16 + ents * 8);
        ltrr_q2e_tab_destroy(t);
}

/* Fills @p r with @p n tuples over @p nkeys keys (long runs when few),
 * entities ascending when @p sorted, else shuffled, scores with ties. */
static void fill_ref(ref_t *r, size_t n, uint32_t nkeys, int sorted,
                     uint32_t ent_or, uint64_t seed)
{
        uint64_t st = seed;
        for (size_t i = 0; i < n; i++) {
                uint32_t k = lcg(&st) % nkeys;
                r[i].key = nkeys > 64 ? ((uint64_t)lcg(&st) << 32 | k)
                                      : 0x100000000ull * (k + 1) + k;
                r[i].ent = (sorted ? (uint32_t)(i / 3)
                                   : lcg(&st) % (uint32_t)(n / 2)) |
                           ent_or;
                r[i].score = (float)(lcg(&st) % 50) / 8.0f - 1.0f;
        }
}

static void test_table_vs_sort(void **state)
{
        (void)state;
        size_t n = 6000;
        ref_t *r = malloc(n * sizeof(*r));
        assert_non_null(r);
        /* long runs (radix on the score), entities in order and not */
        for (int sorted = 0; sorted < 2; sorted++) {
                fill_ref(r, n, 5, sorted, 0, 11 + sorted);
                check_ref(r, n, 40);
                fill_ref(r, n, 5, sorted, 0, 21 + sorted);
                check_ref(r, n, 100000);
        }
        /* short runs (insertion), and ids too sparse for stamps */
        fill_ref(r, n, 4000, 0, 0, 31);
        check_ref(r, n, 2);
        fill_ref(r, n, 3, 0, 0xf0000000u, 41);
        check_ref(r, n, 700);
        fill_ref(r, n, 3000, 1, 0x80000000u, 51);
        check_ref(r, n, 3);
        free(r);
}

/* -0 and 0 are one score: a run of them is in entity order. */
static void test_table_zero_scores(void **state)
{
        (void)state;
        char errstr[128];
        const void *data;
        const ltrr_q2e_tab_ent_t *l;
        size_t len, lc;
        ltrr_q2e_tab_t *t = ltrr_q2e_tab_new(100, 1000);
        assert_non_null(t);
        for (uint32_t i = 0; i < 60; i++)
                assert_int_equal(ltrr_q2e_tab_add(t, 5, 100 - i,
                                                  i % 2 ? -0.0f : 0.0f),
                                 LTRR_OK);
        assert_int_equal(ltrr_q2e_tab_add(t, 5, 999, 0.5f), LTRR_OK);
        assert_int_equal(ltrr_q2e_tab_finish(t, errstr, sizeof(errstr)),
                         LTRR_OK);
        ltrr_q2e_tab_blob(t, &data, &len);
        assert_int_equal(ltrr_q2e_tab_lookup(data, len, 5, &l, &lc), 1);
        assert_int_equal(lc, 61);
        assert_int_equal(l[0].ent, 999);
        for (size_t i = 1; i < lc; i++)
                assert_int_equal(l[i].ent, 41 + i - 1);
        ltrr_q2e_tab_destroy(t);
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
            cmocka_unit_test(test_table_vs_sort),
            cmocka_unit_test(test_table_zero_scores),
            cmocka_unit_test(test_index_round_trip),
            cmocka_unit_test(test_total_bound),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
