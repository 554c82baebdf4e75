/*
 * Unit tests for the pruning of round 5 of the lexical pass: the starting
 * threshold of a two-term query from an impact head (arm_lex_seed.c),
 * and entities passed over because no non-essential list holds them
 * (arm_lexical.c: alone_floor(), the lists' union bitmap). Answers
 * against runs that never prune.
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
#include "lex_testlib.h"

#include "arm.h"
#include "arm_state.h"
#include "catalog.h"
#include "index.h"
#include "text.h"

/** Entities of the test index. */
#define NENTS 4000

typedef lextest_fx_t fx_t;

static char path[256];

static const char *const words[] = {"fire", "ocean", "night", "star",
                                    "rain"};
static const char *const fillers[] = {"alpha", "bravo", "delta",
                                      "gamma", "kilo",  "lima"};

/* Names: "the" in front of two in five, then one or two query words (a
 * word may repeat) and zero to three fillers; the artist "The Band" in
 * one entity of seven, a query word in one of nine. */
static ltrr_index_t *build_index(uint32_t head_len)
{
        static char names[NENTS][96];
        static const char *d[NENTS][2];
        uint64_t x = 11;
        for (size_t i = 0; i < NENTS; i++) {
                size_t nw = 1 + lextest_rnd(&x) % 2, nf = lextest_rnd(&x) % 4,
                       at = 0;
                if (lextest_rnd(&x) % 5 < 2)
                        at += (size_t)snprintf(names[i], sizeof(names[i]),
                                               "The");
                for (size_t w = 0; w < nw; w++)
                        at += (size_t)snprintf(names[i] + at,
                                               sizeof(names[i]) - at, "%s%s",
                                               at ? " " : "",
                                               words[lextest_rnd(&x) % 5]);
                for (size_t f = 0; f < nf; f++)
                        at += (size_t)snprintf(names[i] + at,
                                               sizeof(names[i]) - at, " %s",
                                               fillers[lextest_rnd(&x) % 6]);
                d[i][0] = names[i];
                uint64_t a = lextest_rnd(&x) % 63;
                d[i][1] = a % 7 == 0 ? "The Band"
                          : a % 9 == 0 ? words[lextest_rnd(&x) % 5] : "Solo";
        }
        ltrr_index_build_conf_t bc;
        memset(&bc, 0, sizeof(bc));
        bc.impact_min_df = 64; /* heads for every query word */
        bc.impact_len = head_len;
        return armtest_pairs_index((const char *const (*)[2])d, NENTS, &bc,
                                   path);
}

/* Fixture with heads of @p head_len entries (0: whole lists). */
static int setup_len(void **state, uint32_t head_len)
{
        armtest_path(path, sizeof(path), "test_arm_lex_seed");
        return lextest_setup(state, build_index(head_len));
}

static int setup_whole(void **state)
{
        return setup_len(state, 0);
}

static int setup_short(void **state)
{
        return setup_len(state, 96);
}

/* The unpruned answer of the current query into fx->ref. */
static void reference(fx_t *fx)
{
        char errstr[256];
        assert_int_equal(ltrr_arm_lex_filtered(fx->ix, &fx->q, NULL, fx->scr,
                                               0, NULL, NULL, 0,
                                               LTRR_ARM_K_MAX, fx->ref,
                                               &fx->nref, errstr,
                                               sizeof(errstr)),
                         LTRR_OK);
        assert_true(fx->nref > 300 && fx->nref < LTRR_ARM_K_MAX);
}

/* Two-term queries, the weak frequent "the" beside a word, and two
 * words: the first k of the unpruned run byte for byte, k 1..400 (the
 * seed's heap holds 1024; a score of two terms is the same sum whatever
 * MaxScore's split, so even ties keep their entities). */
static void test_seed_same_answer(void **state)
{
        fx_t *fx = *state;
        static const char *const queries[] = {"the fire", "The Ocean",
                                              "the night", "fire ocean",
                                              "star the", "rain star"};
        char errstr[256];
        for (size_t qi = 0; qi < sizeof(queries) / sizeof(queries[0]);
             qi++) {
                lextest_analyze(fx, queries[qi]);
                reference(fx);
                for (size_t k = 1; k <= 400; k += 1 + k / 4) {
                        assert_int_equal(ltrr_arm_lex_filtered(
                                             fx->ix, &fx->q, NULL, fx->scr,
                                             0, NULL, NULL, 0, k, fx->out,
                                             &fx->cnt, errstr,
                                             sizeof(errstr)),
                                         LTRR_OK);
                        assert_int_equal(fx->cnt, k);
                        assert_memory_equal(fx->out, fx->ref,
                                            k * sizeof(fx->out[0]));
                }
        }
}

/* The same two-term queries under a cheap and an expensive filter (no
 * seed: the head's entities may not pass) and k above the seed's heap:
 * the filtered unpruned answer, byte for byte. */
static void test_seed_filtered(void **state)
{
        fx_t *fx = *state;
        char errstr[256];
        lextest_analyze(fx, "the fire");
        reference(fx);
        for (int cheap = 0; cheap < 2; cheap++) {
                for (size_t k = 1; k <= 300; k += 13) {
                        assert_int_equal(ltrr_arm_lex_filtered(
                                             fx->ix, &fx->q, NULL, fx->scr,
                                             0, lextest_keep_two_thirds,
                                             NULL, cheap, k, fx->out,
                                             &fx->cnt, errstr,
                                             sizeof(errstr)),
                                         LTRR_OK);
                        size_t m = 0;
                        for (size_t i = 0; i < fx->nref && m < k; i++) {
                                if (!lextest_keep_two_thirds(NULL, NULL,
                                                     fx->ref[i].ent))
                                        continue;
                                assert_true(m < fx->cnt);
                                assert_memory_equal(&fx->out[m], &fx->ref[i],
                                                    sizeof(fx->out[0]));
                                m++;
                        }
                        assert_int_equal(fx->cnt, m);
                }
        }
        assert_int_equal(ltrr_arm_lex_filtered(fx->ix, &fx->q, NULL, fx->scr,
                                               0, NULL, NULL, 0, 1500,
                                               fx->out, &fx->cnt, errstr,
                                               sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(fx->cnt, fx->nref < 1500 ? fx->nref : 1500);
        assert_memory_equal(fx->out, fx->ref, fx->cnt * sizeof(fx->out[0]));
}

/* Three and four terms (several essential lists, non-essential ones with
 * and without bitmaps, entities passed over when no non-essential list
 * holds them): the scores of the unpruned run rank by rank, k 1..300
 * (entities may differ only between ties: the order of a sum of three
 * terms changes its rounding). */
static void test_union_same_scores(void **state)
{
        fx_t *fx = *state;
        static const char *const queries[] = {
            "the fire ocean", "night star rain", "the night star rain",
            "fire alpha kilo", "the band fire"};
        char errstr[256];
        for (size_t qi = 0; qi < sizeof(queries) / sizeof(queries[0]);
             qi++) {
                lextest_analyze(fx, queries[qi]);
                reference(fx);
                for (size_t k = 1; k <= 300; k += 1 + k / 3) {
                        assert_int_equal(ltrr_arm_lex_filtered(
                                             fx->ix, &fx->q, NULL, fx->scr,
                                             0, NULL, NULL, 0, k, fx->out,
                                             &fx->cnt, errstr,
                                             sizeof(errstr)),
                                         LTRR_OK);
                        assert_int_equal(fx->cnt, k);
                        for (size_t i = 0; i < k; i++) {
                                assert_float_equal(fx->out[i].score,
                                                   fx->ref[i].score,
                                                   1e-5f * fx->ref[i].score);
                                assert_float_equal(fx->out[i].feat[1],
                                                   fx->ref[i].feat[1], 0);
                        }
                }
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_seed_same_answer,
                                            setup_whole, lextest_teardown),
            cmocka_unit_test_setup_teardown(test_seed_same_answer,
                                            setup_short, lextest_teardown),
            cmocka_unit_test_setup_teardown(test_seed_filtered, setup_whole,
                                            lextest_teardown),
            cmocka_unit_test_setup_teardown(test_union_same_scores,
                                            setup_whole, lextest_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
