/*
 * Unit tests for the lexical pass with two or more essential lists: an
 * entity only one of them holds, with a tf~ under that list's floor, is
 * passed over without scoring (arm_lexical.c, multi_floors()); and the
 * expensive filter whose record is prefetched
 * (ltrr_arm_lex_filtered_late()). Both against runs that never cut.
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
#include "arm_lex_late.h"
#include "arm_state.h"
#include "catalog.h"
#include "index.h"
#include "text.h"

/** Entities of the test index. */
#define NENTS 3000

typedef lextest_fx_t fx_t;

static char path[256];

static const char *const words[] = {"ocean", "fire",  "night",
                                    "star",  "dream", "rain"};
static const char *const fillers[] = {"alpha", "bravo", "delta",
                                      "gamma", "kilo",  "lima"};

/* Names of one to three query words (a word may repeat) and zero to
 * four fillers, so that tf~ spreads over many values; an artist that
 * holds a query word in one entity of five. */
static ltrr_index_t *build_index(void)
{
        static char names[NENTS][96];
        static const char *d[NENTS][2];
        uint64_t x = 5;
        for (size_t i = 0; i < NENTS; i++) {
                size_t nw = 1 + lextest_rnd(&x) % 3, nf = lextest_rnd(&x) % 5,
                       at = 0;
                for (size_t w = 0; w < nw; w++)
                        at += (size_t)snprintf(names[i] + at,
                                               sizeof(names[i]) - at, "%s%s",
                                               at ? " " : "",
                                               words[lextest_rnd(&x) % 6]);
                for (size_t f = 0; f < nf; f++)
                        at += (size_t)snprintf(names[i] + at,
                                               sizeof(names[i]) - at, " %s",
                                               fillers[lextest_rnd(&x) % 6]);
                d[i][0] = names[i];
                d[i][1] = lextest_rnd(&x) % 5 == 0 ? words[lextest_rnd(&x) % 6]
                                                   : "Solo";
        }
        return armtest_pairs_index((const char *const (*)[2])d, NENTS, NULL,
                                   path);
}

static int setup(void **state)
{
        armtest_path(path, sizeof(path), "test_arm_lex_floors");
        return lextest_setup(state, build_index());
}

/* Record of lextest_keep_two_thirds() for the late pass: an element of the
 * counter array @p opaque points to; counts its calls. */
static const void *where_count(const void *opaque, const ltrr_index_t *ix,
                               uint32_t ent)
{
        size_t *calls = (size_t *)opaque;
        (void)ix;
        (void)ent;
        return &calls[++calls[0] % 2 + 1];
}

/* fx->out against the entries of fx->ref @p keep keeps (all when NULL),
 * up to @p k: the same count, scores rank by rank and exact flags
 * (entities may differ only between ties: the order of a sum changes
 * its rounding). */
static void same_top(const fx_t *fx, size_t k, ltrr_arm_lex_filter_fn *keep)
{
        size_t m = 0;
        for (size_t i = 0; i < fx->nref && m < k; i++) {
                if (keep && !keep(NULL, NULL, fx->ref[i].ent))
                        continue;
                assert_true(m < fx->cnt);
                assert_float_equal(fx->out[m].score, fx->ref[i].score,
                                   1e-5f * fx->ref[i].score);
                assert_float_equal(fx->out[m].feat[1], fx->ref[i].feat[1], 0);
                m++;
        }
        assert_int_equal(fx->cnt, m);
}

/* Queries of two and three query words (two or more essential lists
 * while theta stays under the other lists' bounds): the k best, k
 * 1..200, unfiltered, cheap- and expensive-filtered and through the
 * late filter, equal the first k of a run that never prunes. */
static void test_multi_floors(void **state)
{
        fx_t *fx = *state;
        static const char *const queries[] = {
            "ocean fire", "night star dream", "rain ocean", "fire star rain",
            "dream night", "ocean fire night"};
        char errstr[256];
        size_t calls[3] = {0, 0, 0};
        for (size_t qi = 0; qi < sizeof(queries) / sizeof(queries[0]);
             qi++) {
                lextest_analyze(fx, queries[qi]);
                assert_int_equal(ltrr_arm_lex_filtered(
                                     fx->ix, &fx->q, NULL, fx->scr, 0, NULL,
                                     NULL, 0, LTRR_ARM_K_MAX, fx->ref,
                                     &fx->nref, errstr, sizeof(errstr)),
                                 LTRR_OK);
                assert_true(fx->nref > 400 && fx->nref < LTRR_ARM_K_MAX);
                for (size_t k = 1; k <= 200; k += 1 + k / 3) {
                        for (int f = 0; f < 4; f++) {
                                ltrr_arm_lex_filter_fn *keep =
                                    f ? lextest_keep_two_thirds : NULL;
                                ltrr_err_t err =
                                    f == 3 ? ltrr_arm_lex_filtered_late(
                                                 fx->ix, &fx->q, NULL,
                                                 fx->scr, 0, keep,
                                                 where_count, calls, k,
                                                 fx->out, &fx->cnt, errstr,
                                                 sizeof(errstr))
                                           : ltrr_arm_lex_filtered(
                                                 fx->ix, &fx->q, NULL,
                                                 fx->scr, 0, keep, NULL,
                                                 f == 1, k, fx->out,
                                                 &fx->cnt, errstr,
                                                 sizeof(errstr));
                                assert_int_equal(err, LTRR_OK);
                                same_top(fx, k, keep);
                        }
                }
        }
        assert_true(calls[0] > 0); /* the late pass prefetched */
}

/* The late filter gives the expensive filter's answer byte for byte, and
 * refuses a missing filter or record function. */
static void test_late_same_answer(void **state)
{
        fx_t *fx = *state;
        char errstr[256];
        size_t calls[3] = {0, 0, 0};
        static ltrr_arm_cand_t late[LTRR_ARM_K_MAX];
        size_t nlate = 0;
        lextest_analyze(fx, "night star dream");
        for (size_t k = 1; k <= 300; k += 37) {
                assert_int_equal(ltrr_arm_lex_filtered(
                                     fx->ix, &fx->q, NULL, fx->scr, 0,
                                     lextest_keep_two_thirds, NULL, 0, k,
                                     fx->out, &fx->cnt, errstr,
                                     sizeof(errstr)),
                                 LTRR_OK);
                assert_int_equal(ltrr_arm_lex_filtered_late(
                                     fx->ix, &fx->q, NULL, fx->scr, 0,
                                     lextest_keep_two_thirds, where_count,
                                     calls, k, late, &nlate, errstr,
                                     sizeof(errstr)),
                                 LTRR_OK);
                assert_int_equal(nlate, fx->cnt);
                assert_true(nlate > 0);
                assert_memory_equal(late, fx->out, nlate * sizeof(late[0]));
        }
        nlate = 7;
        assert_int_equal(ltrr_arm_lex_filtered_late(
                             fx->ix, &fx->q, NULL, fx->scr, 0, NULL,
                             where_count, calls, 10, late, &nlate, errstr,
                             sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(nlate, 0);
        assert_non_null(strstr(errstr, "where"));
        assert_int_equal(ltrr_arm_lex_filtered_late(
                             fx->ix, &fx->q, NULL, fx->scr, 0,
                             lextest_keep_two_thirds, NULL, calls, 10, late,
                             &nlate, errstr, sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_arm_lex_filtered_late(
                             fx->ix, &fx->q, NULL, fx->scr, 0,
                             lextest_keep_two_thirds, where_count, calls,
                             LTRR_ARM_K_MAX + 1, late, &nlate, errstr,
                             sizeof(errstr)),
                         LTRR_ERR_RANGE);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_multi_floors, setup,
                                            lextest_teardown),
            cmocka_unit_test_setup_teardown(test_late_same_answer, setup,
                                            lextest_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
