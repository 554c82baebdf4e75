/*
 * Unit tests for round 7 of the lexical pass: the quantized tf~ table of
 * a ranked membership bitmap (arm_termbits.c: ltrr_arm_termbits_qtf())
 * and the pruning that rules out a non-essential posting by its level
 * before reading it (arm_lex_int.h: qtf_loses()). Answers against runs
 * that never prune.
 */
#include <math.h>
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
#include "arm_termbits.h"
#include "catalog.h"
#include "index.h"
#include "index_int.h"
#include "text.h"

/** Entities of the test index. */
#define NENTS 4000
/** Words of its names besides "the". */
#define NWORDS 48

typedef lextest_fx_t fx_t;

static char path[256];

/* Names of one to seven words of NWORDS, "the" first in three of five
 * (twice in one of those ten), so that "the" has a long list (a bitmap
 * with a rank table and a quantized tf~ table) whose tf~ spreads over
 * the name lengths; the artist "the" plus a word in one entity of six. */
static ltrr_index_t *build(void)
{
        static char names[NENTS][64], artists[NENTS][16];
        static const char *d[NENTS][2];
        uint64_t x = 11;
        for (size_t i = 0; i < NENTS; i++) {
                size_t nw = 1 + lextest_rnd(&x) % 7, at = 0;
                uint64_t the = lextest_rnd(&x) % 50;
                if (the < 30)
                        at = (size_t)snprintf(names[i], sizeof(names[i]),
                                              "%s", the < 3 ? "the the"
                                                            : "the");
                for (size_t w = 0; w < nw; w++) {
                        char b[4];
                        lextest_word(b, sizeof(b), 'q',
                                     (unsigned)(lextest_rnd(&x) % NWORDS));
                        at += (size_t)snprintf(names[i] + at,
                                               sizeof(names[i]) - at, "%s%s",
                                               at ? " " : "", b);
                }
                char b[4];
                lextest_word(b, sizeof(b), 'q',
                             (unsigned)(lextest_rnd(&x) % NWORDS));
                if (lextest_rnd(&x) % 6 == 0)
                        snprintf(artists[i], sizeof(artists[i]), "the %s", b);
                else
                        snprintf(artists[i], sizeof(artists[i]), "solo");
                d[i][0] = names[i];
                d[i][1] = artists[i];
        }
        return armtest_pairs_index((const char *const (*)[2])d, NENTS, NULL,
                                   path);
}

static int setup(void **state)
{
        armtest_path(path, sizeof(path), "test_arm_lex_qtf");
        return lextest_setup(state, build());
}

/* Every ranked bitmap's table: each posting's level is not under its
 * tf~ and the level below it is (the lowest such level, but for the
 * levels' 1e-5 margin), the levels ascend and the top one is the term's
 * largest tf~ (plus the margin); "the" has a table; bad arguments give
 * none. */
static void test_qtf_table(void **state)
{
        fx_t *fx = *state;
        const ltrr_index_t *ix = fx->ix;
        ltrr_arm_termbits_t *tb = calloc(1, sizeof(*tb));
        const float *lv = NULL;
        size_t tables = 0;
        int the_ok = 0;
        assert_non_null(tb);
        for (uint32_t t = 0; t < ix->term_cnt; t++) {
                const ltrr_index_term_t *term = &ix->terms[t];
                const ltrr_index_post_t *p = ix->posts + term->post_off;
                const uint64_t *b = ltrr_arm_termbits_get(tb, ix, t);
                assert_non_null(b);
                const uint8_t *q = ltrr_arm_termbits_qtf(tb, b, &lv);
                assert_true(q == NULL || ltrr_arm_termbits_rank(tb, b));
                if (!q)
                        continue;
                tables++;
                const int top = LTRR_ARM_TERMBITS_QTF_LEVELS - 1;
                float hi = 0.0f;
                assert_true(lv[0] > 0.0f);
                for (int l = 1; l <= top; l++)
                        assert_true(lv[l] > lv[l - 1]);
                for (uint32_t i = 0; i < term->df; i++) {
                        float v = ltrr_arm_termbits_qtf_at(q, lv, i);
                        unsigned lvl = (q[i >> 1] >> ((i & 1) * 4)) & 15;
                        assert_true(v >= p[i].tfw);
                        if (lvl) /* the lowest level, but for margins */
                                assert_true(lv[lvl - 1] <
                                            p[i].tfw * 1.0001f);
                        hi = p[i].tfw > hi ? p[i].tfw : hi;
                }
                assert_true(hi <= term->max_tfw);
                assert_true(lv[top] >= term->max_tfw);
                assert_true(lv[top] <= term->max_tfw * 1.0001f);
                if (term == ltrr_index_term_find(ix, "the", 3))
                        the_ok = term->df > NENTS / 2 && lv[0] < hi;
        }
        assert_true(tables > 0);
        assert_true(the_ok);
        const uint64_t *b = ltrr_arm_termbits_get(tb, ix, 0);
        assert_null(ltrr_arm_termbits_qtf(NULL, b, &lv));
        assert_null(ltrr_arm_termbits_qtf(tb, b, NULL));
        uint64_t other[4] = {0};
        assert_null(ltrr_arm_termbits_qtf(tb, other, &lv));
        free(tb);
}

/* The current query cut at @p k with filter @p keep (NULL: none) into
 * fx->out. */
static void run(fx_t *fx, size_t k, ltrr_arm_lex_filter_fn *keep, int cheap)
{
        char errstr[256];
        assert_int_equal(ltrr_arm_lex_filtered(fx->ix, &fx->q, NULL, fx->scr,
                                               0, keep, NULL, cheap, k,
                                               fx->out, &fx->cnt, errstr,
                                               sizeof(errstr)),
                         LTRR_OK);
}

/* Queries of "the" and one or two words ("the" the non-essential list
 * with a quantized table once theta passes its bound), k 1..400,
 * unfiltered, cheap- and expensive-filtered: with two terms byte for
 * byte the unpruned run's first k (kept ones), with three the same
 * scores rank by rank (the order of a sum of three terms may differ
 * between the runs). */
static void test_qtf_same_answer(void **state)
{
        fx_t *fx = *state;
        static const char *const queries[] = {
            "the qa", "the qb", "the qz", "the rk", "qc the",
            "the the qd", "the qa qb", "the qe qf", "the rv"};
        static ltrr_arm_cand_t ref[LTRR_ARM_K_MAX];
        for (size_t qi = 0; qi < sizeof(queries) / sizeof(queries[0]);
             qi++) {
                lextest_analyze(fx, queries[qi]);
                int two = fx->q.cnt == 2;
                for (int f = 0; f < 3; f++) {
                        ltrr_arm_lex_filter_fn *keep =
                            f ? lextest_keep_two_thirds : NULL;
                        run(fx, LTRR_ARM_K_MAX, keep, f == 1);
                        size_t nref = fx->cnt;
                        memcpy(ref, fx->out, nref * sizeof(ref[0]));
                        assert_true(nref > 400);
                        for (size_t k = 1; k <= 400; k += 1 + k / 6) {
                                run(fx, k, keep, f == 1);
                                assert_int_equal(fx->cnt, k);
                                for (size_t i = 0; i < k && two; i++)
                                        assert_memory_equal(
                                            &fx->out[i], &ref[i],
                                            sizeof(fx->out[0]));
                                for (size_t i = 0; i < k && !two; i++)
                                        assert_float_equal(
                                            fx->out[i].score, ref[i].score,
                                            1e-5f * ref[i].score);
                        }
                }
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_qtf_table, setup,
                                            lextest_teardown),
            cmocka_unit_test_setup_teardown(test_qtf_same_answer, setup,
                                            lextest_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
