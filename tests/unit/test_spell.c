/*
 * Unit tests for online/spell.c and its use by the search pipeline:
 * each kind of edit is corrected, the most common term wins, endings cut
 * by the stemmer come back, words that are too short, too long or
 * ideographic are left alone, and a query with a typo reads the Q2E
 * memory of its correction, pooled with its own.
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

#include "arm_testlib.h"

#include "arm.h"
#include "arm_state.h"
#include "catalog.h"
#include "index.h"
#include "ranker.h"
#include "search.h"
#include "spell.h"
#include "spell_words.h"
#include "text.h"

/* "dream" is in 3 names, "drum" in 1: "dreum" is one edit from both
 * and goes to the more common. "heart" (2) beats "head" (1). Every
 * entity is by "Ann". */
static const char *const docs[][2] = {
    {"Dream", "Ann"},        {"Dream On", "Ann"},   {"Dream Nights", "Ann"},
    {"Drum", "Ann"},         {"Heart", "Ann"},      {"Heart Beat", "Ann"},
    {"Head", "Ann"},         {"Rain Story", "Ann"}, {"Golden Hour", "Ann"},
    {"東京 Nights", "Ann"},
};
#define NNAMES (sizeof(docs) / sizeof(docs[0]))

typedef struct fx_s {
        ltrr_index_t *ix;
        ltrr_analyzer_t *an;
        char errstr[256];
} fx_t;

/* Builds the index of the names, with the arms' sections (and so the
 * word section) when @p sections. */
static ltrr_index_t *build(int sections)
{
        char errstr[256], path[256];
        ltrr_index_extra_t extra[LTRR_INDEX_EXTRA_MAX];
        ltrr_index_build_conf_t bc = {.lang = "en"};
        ltrr_arm_sections_t *as = NULL;
        ltrr_catalog_t *cat = armtest_catalog(docs, NNAMES);
        ltrr_index_t *ix;

        armtest_path(path, sizeof(path), "test_spell");
        if (sections) {
                as = ltrr_arm_sections_new(cat, "en", errstr, sizeof(errstr));
                assert_non_null(as);
                bc.extra_cnt = ltrr_arm_sections_extra(as, extra,
                                                       LTRR_INDEX_EXTRA_MAX);
                bc.extra = extra;
        }
        ix = armtest_index(cat, &bc, path);
        ltrr_arm_sections_destroy(as);
        ltrr_catalog_destroy(cat);
        return ix;
}

static int setup(void **state)
{
        fx_t *fx = calloc(1, sizeof(*fx));

        assert_non_null(fx);
        fx->ix = build(1);
        fx->an = ltrr_analyzer_new("en", fx->errstr, sizeof(fx->errstr));
        assert_non_null(fx->an);
        *state = fx;
        return 0;
}

static int teardown(void **state)
{
        fx_t *fx = *state;

        ltrr_analyzer_destroy(fx->an);
        ltrr_index_destroy(fx->ix);
        free(fx);
        return 0;
}

/* The correction of one stem, "" when there is none. */
static const char *term(fx_t *fx, const char *s)
{
        static char out[64];

        if (!ltrr_spell_word(fx->ix, s, strlen(s), out, sizeof(out)))
                out[0] = '\0';
        return out;
}

static void test_edits(void **state)
{
        fx_t *fx = *state;

        assert_string_equal(term(fx, "dram"), "dream");    /* deletion */
        assert_string_equal(term(fx, "dreaxm"), "dream");  /* insertion */
        assert_string_equal(term(fx, "rdeam"), "dream");   /* transposed */
        assert_string_equal(term(fx, "drexm"), "dream");   /* substituted */
        assert_string_equal(term(fx, "goldne"), "golden");
        assert_string_equal(term(fx, "hearts"), "heart");
        /* Words as typed, not stems: "story" (stem "stori"). */
        assert_string_equal(term(fx, "stroy"), "story");
        assert_string_equal(term(fx, "ngihts"), "nights");
}

/* The word section counts entities, once each, over names and their
 * first artists. */
static void test_counts(void **state)
{
        fx_t *fx = *state;
        const ltrr_spell_words_hdr_t *h = ltrr_spell_words_get(fx->ix);
        ltrr_index_t *bare = build(0);

        assert_non_null(h);
        assert_int_equal(ltrr_spell_words_find(h, "dream", 5), 3);
        assert_int_equal(ltrr_spell_words_find(h, "drum", 4), 1);
        assert_int_equal(ltrr_spell_words_find(h, "ann", 3), NNAMES);
        assert_int_equal(ltrr_spell_words_find(h, "nights", 6), 2);
        assert_int_equal(ltrr_spell_words_find(h, "night", 5), 0);
        assert_int_equal(ltrr_spell_words_find(h, "drea", 4), 0);
        assert_int_equal(ltrr_spell_words_find(h, "東", 3), 0); /* CJK */
        assert_int_equal(ltrr_spell_words_find(NULL, "dream", 5), 0);
        /* An index without the section corrects nothing. */
        assert_null(ltrr_spell_words_get(bare));
        assert_null(ltrr_spell_words_get(NULL));
        {
                char out[16];

                assert_int_equal(ltrr_spell_word(bare, "rdeam", 5, out,
                                                 sizeof(out)),
                                 0);
        }
        ltrr_index_destroy(bare);
}

static void test_most_common_wins(void **state)
{
        fx_t *fx = *state;

        assert_string_equal(term(fx, "dreum"), "dream"); /* not "drum" */
        assert_string_equal(term(fx, "hea"), "head");    /* one edit only */
        assert_string_equal(term(fx, "heat"), "heart");  /* 2 beat 1 */
}

static void test_left_alone(void **state)
{
        fx_t *fx = *state;
        char out[64], small[4];

        assert_string_equal(term(fx, "dr"), "");        /* too short */
        assert_string_equal(term(fx, "xyzzyq"), "");    /* nothing near */
        assert_string_equal(term(fx, "東京x"), "");     /* ideographs */
        assert_string_equal(term(fx, "dreamdreamdreamdreamdreamd"), "");
        assert_int_equal(ltrr_spell_word(fx->ix, "rdeam", 5, small,
                                         sizeof(small)),
                         0); /* "dream" does not fit */
        assert_int_equal(ltrr_spell_word(NULL, "rdeam", 5, out, 64), 0);
        assert_int_equal(ltrr_spell_word(fx->ix, NULL, 5, out, 64), 0);
        assert_int_equal(ltrr_spell_word(fx->ix, "\xff\xfe\xfd", 3, out,
                                         64),
                         0); /* invalid UTF-8 */
}

/* Analyzes @p q and corrects the tokens of @p mask into @p out. */
static int query(fx_t *fx, const char *q, uint32_t mask, char *out,
                 size_t cap)
{
        static ltrr_token_t toks[16];
        static char arena[2048];
        ltrr_tokbuf_t tb;

        ltrr_tokbuf_init(&tb, toks, 16, arena, sizeof(arena));
        assert_int_equal(ltrr_analyzer_analyze(fx->an, q, strlen(q), &tb,
                                               fx->errstr,
                                               sizeof(fx->errstr)),
                         LTRR_OK);
        return ltrr_spell_query(fx->ix, toks, tb.cnt, mask, out, cap);
}

static void test_query(void **state)
{
        fx_t *fx = *state;
        char out[128];

        /* "ngihts" stems to "ngiht"; "night" comes back as "nights". */
        assert_int_equal(query(fx, "Ngihts of rain", 0x1, out, sizeof(out)),
                         1);
        assert_string_equal(out, "nights of rain");
        assert_int_equal(query(fx, "rain stroy", 0x2, out, sizeof(out)), 1);
        assert_string_equal(out, "rain story");
        /* Every marked word must be corrected. */
        assert_int_equal(query(fx, "rdeam xyzzyq", 0x3, out, sizeof(out)),
                         0);
        assert_string_equal(out, "");
        /* More than LTRR_SPELL_WORDS_MAX unknown words: left alone. */
        assert_int_equal(query(fx, "rdeam rdeam rdeam rdeam rdeam", 0x1f,
                               out, sizeof(out)),
                         0);
        assert_int_equal(query(fx, "rdeam on", 0x1, out, 6), 0); /* full */
        assert_string_equal(out, "");
        assert_int_equal(query(fx, "rdeam", 0, out, sizeof(out)), 0);
        assert_int_equal(ltrr_spell_query(fx->ix, NULL, 1, 1, out, 8), 0);
        assert_int_equal(ltrr_spell_query(fx->ix, NULL, 1, 1, NULL, 0), 0);
}

/* A prepared query of a search handle, and its keys; @p arms not 0: a
 * static choice of those arms. */
static void prepare_arms(fx_t *fx, ltrr_search_t *se, ltrr_search_query_t *sq,
                         const char *q, uint32_t arms, ltrr_search_keys_t *k)
{
        ltrr_search_req_t r;

        memset(&r, 0, sizeof(r));
        r.q = q;
        r.q_len = strlen(q);
        r.k = 5;
        r.user_id = "u1";
        r.lang = "en";
        r.now_ms = 1700000000000LL;
        if (arms) {
                r.mode = LTRR_SEARCH_MODE_STATIC;
                r.arms = arms;
        }
        memset(r.impression_id.b, 0x5a, sizeof(r.impression_id.b));
        assert_int_equal(ltrr_search_prepare(se, fx->ix, NULL, &r, sq,
                                             fx->errstr,
                                             sizeof(fx->errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_search_keys(se, sq, k, fx->errstr,
                                          sizeof(fx->errstr)),
                         LTRR_OK);
}

static void prepare(fx_t *fx, ltrr_search_t *se, ltrr_search_query_t *sq,
                    const char *q, ltrr_search_keys_t *k)
{
        prepare_arms(fx, se, sq, q, 0, k);
}

static ltrr_search_t *search_new(fx_t *fx, int spelling)
{
        ltrr_search_conf_t conf;
        ltrr_search_t *se;

        ltrr_search_conf_init(&conf);
        conf.shadow_share = 0;
        conf.q2e_spelling = spelling;
        se = ltrr_search_new(&conf, fx->errstr, sizeof(fx->errstr));
        assert_non_null(se);
        return se;
}

static void test_keys(void **state)
{
        fx_t *fx = *state;
        ltrr_search_t *se = search_new(fx, 1), *off = search_new(fx, 0);
        ltrr_search_query_t *sq = ltrr_search_query_new(se, fx->errstr,
                                                        sizeof(fx->errstr));
        ltrr_search_keys_t k;

        assert_non_null(sq);
        prepare(fx, se, sq, "Rdeam ON", &k);
        assert_string_equal(ltrr_search_query_alt(sq), "dream on");
        assert_string_equal(k.q2e, "ltrr:q2e:{q:rdeam%20on}");
        assert_string_equal(k.q2e_alt, "ltrr:q2e:{q:dream%20on}");
        assert_non_null(strstr(k.q2e_alt_meta, "{q:dream%20on}"));
        assert_true(strcmp(k.q2e_alt_meta, k.q2e_alt) != 0);
        prepare(fx, se, sq, "dream on", &k); /* known: nothing to read */
        assert_string_equal(ltrr_search_query_alt(sq), "");
        assert_string_equal(k.q2e_alt, "");
        assert_string_equal(k.q2e_alt_meta, "");
        prepare(fx, se, sq, "dre", &k); /* the start of a term */
        assert_string_equal(k.q2e_alt, "");
        ltrr_search_query_destroy(sq);
        sq = ltrr_search_query_new(off, fx->errstr, sizeof(fx->errstr));
        assert_non_null(sq);
        prepare(fx, off, sq, "rdeam on", &k); /* q2e.spelling off */
        assert_string_equal(ltrr_search_query_alt(sq), "");
        assert_string_equal(k.q2e_alt, "");
        ltrr_search_query_destroy(sq);
        ltrr_search_destroy(off);
        ltrr_search_destroy(se);
}

/* What users chose for "dream" leads the answer to "rdeam": the memory
 * arm and the ranker read the pooled Q2E. */
static void test_pooled_memory(void **state)
{
        fx_t *fx = *state;
        ltrr_search_t *se = search_new(fx, 1);
        ltrr_search_query_t *sq = ltrr_search_query_new(se, fx->errstr,
                                                        sizeof(fx->errstr));
        ltrr_search_state_t *st = ltrr_search_state_new(
            ltrr_search_space(se), 1.0, fx->errstr, sizeof(fx->errstr));
        ltrr_search_ids_t *ids = ltrr_search_ids_new(fx->ix, fx->errstr,
                                                     sizeof(fx->errstr));
        const char *alt[] = {"e2", "6"};
        const ltrr_search_out_t *out;
        ltrr_index_entity_t e;
        ltrr_search_keys_t k;
        int mem = ltrr_arm_find("memory");

        assert_non_null(sq);
        assert_non_null(st);
        assert_non_null(ids);
        assert_true(mem >= 0);
        ltrr_search_set_ids(se, ids);
        prepare_arms(fx, se, sq, "rdeam", 1u << mem, &k);
        assert_int_equal(ltrr_search_state_q2e(st, NULL, 0, NULL, fx->errstr,
                                               sizeof(fx->errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_search_state_q2e_alt(st, alt, 2, "5",
                                                   fx->errstr,
                                                   sizeof(fx->errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_search_run(se, fx->ix, sq, st, fx->errstr,
                                         sizeof(fx->errstr)),
                         LTRR_OK);
        out = ltrr_search_out(sq);
        assert_true(out->hit_cnt > 0);
        assert_int_equal(ltrr_index_entity(fx->ix, out->hits[0].ent, &e), 0);
        assert_string_equal(e.id, "e2"); /* "Dream Nights" */
        assert_int_equal(out->hits[0].arms, 1u << mem);
        assert_float_equal(out->hits[0].q2e, 1.0, 1e-6); /* 6 / (5 + 1) */
        /* Names are matched against "dream", not the typo. */
        assert_non_null(out->rankers);
        assert_float_equal(out->rankers[0].features[LTRR_RANKER_F_EXACT_NAME],
                           0.0, 1e-6);
        assert_float_equal(
            out->rankers[0].features[LTRR_RANKER_F_PREFIX_NAME], 1.0, 1e-6);
        assert_float_equal(
            out->rankers[0].features[LTRR_RANKER_F_TOKEN_OVERLAP], 1.0, 1e-6);
        /* Without the correction's memory the arm has nothing. */
        ltrr_search_state_reset(st);
        prepare_arms(fx, se, sq, "rdeam", 1u << mem, &k);
        assert_int_equal(ltrr_search_run(se, fx->ix, sq, st, fx->errstr,
                                         sizeof(fx->errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_search_out(sq)->hit_cnt, 0);
        ltrr_search_state_destroy(st);
        ltrr_search_query_destroy(sq);
        ltrr_search_destroy(se);
        ltrr_search_ids_destroy(ids);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_edits, setup, teardown),
            cmocka_unit_test_setup_teardown(test_counts, setup, teardown),
            cmocka_unit_test_setup_teardown(test_most_common_wins, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_left_alone, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_query, setup, teardown),
            cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
            cmocka_unit_test_setup_teardown(test_pooled_memory, setup,
                                            teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
