/*
 * Unit tests for the pruning of round 6 of the lexical pass: the bound of
 * the non-essential lists an entity may be in, from the union bitmap and
 * its second bitmap (arm_lex_union.c, arm_lexical.c: elsewhere_ub()),
 * and the tie bound of the exact-name pass (arm_lex_exact.c). Answers
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

/** Entities of the test indexes. */
#define NENTS 4000
/** Words of the union index's names: each list under n / 16 postings,
 *  so no list of a query has a membership bitmap of its own. */
#define NWORDS 64

typedef lextest_fx_t fx_t;

static char path[256];

/* Names of two to five words of NWORDS, a word possibly twice; the
 * artist one of the first eight words in one entity of five. */
static ltrr_index_t *build_union(void)
{
        static char names[NENTS][64], artists[NENTS][8];
        static const char *d[NENTS][2];
        uint64_t x = 5;
        for (size_t i = 0; i < NENTS; i++) {
                size_t nw = 2 + lextest_rnd(&x) % 4, at = 0;
                for (size_t w = 0; w < nw; w++) {
                        char b[4];
                        lextest_word(b, sizeof(b), 'w',
                                     (unsigned)(lextest_rnd(&x) % NWORDS));
                        at += (size_t)snprintf(names[i] + at,
                                               sizeof(names[i]) - at, "%s%s",
                                               at ? " " : "", b);
                }
                if (lextest_rnd(&x) % 5 == 0)
                        lextest_word(artists[i], sizeof(artists[i]), 'w',
                                     (unsigned)(lextest_rnd(&x) % 8));
                else
                        snprintf(artists[i], sizeof(artists[i]), "solo");
                d[i][0] = names[i];
                d[i][1] = artists[i];
        }
        return armtest_pairs_index((const char *const (*)[2])d, NENTS, NULL,
                                   path);
}

/* Half the entities named "Blue Moon" (exact matches of the query "blue
 * moon"), the others near it; popularity in six values or unknown, so
 * that many exact matches tie. */
static ltrr_index_t *build_exact(void)
{
        static const char *const near[] = {"Blue Moon Live", "Moon River",
                                           "Blue Night"};
        char errstr[256], id[16];
        ltrr_catalog_t *cat = ltrr_catalog_new(0, errstr, sizeof(errstr));
        assert_non_null(cat);
        for (uint32_t i = 0; i < NENTS; i++) {
                ltrr_entity_in_t in;
                const char *artist = i % 13 ? "Solo" : "Blue Band";
                ltrr_entity_in_init(&in);
                snprintf(id, sizeof(id), "e%u", i);
                in.id = id;
                in.name = i % 2 ? near[(i / 2) % 3] : "Blue Moon";
                in.artists = &artist;
                in.artists_cnt = 1;
                in.popularity = i % 11 == 0 ? -1.0f
                                            : (float)((i * 7919u) % 6) / 5;
                assert_int_equal(ltrr_catalog_add(cat, &in, errstr,
                                                  sizeof(errstr)),
                                 LTRR_OK);
        }
        ltrr_index_t *ix = armtest_index(cat, NULL, path);
        ltrr_catalog_destroy(cat);
        return ix;
}

/* Fixture around index builder @p build. */
static int setup_with(void **state, ltrr_index_t *(*build)(void))
{
        armtest_path(path, sizeof(path), "test_arm_lex_tails");
        return lextest_setup(state, build());
}

static int setup_union(void **state)
{
        return setup_with(state, build_union);
}

static int setup_exact(void **state)
{
        return setup_with(state, build_exact);
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

/* The unpruned answer of the current query into fx->ref. */
static void reference(fx_t *fx)
{
        run(fx, LTRR_ARM_K_MAX, NULL, 0);
        memcpy(fx->ref, fx->out, fx->cnt * sizeof(fx->out[0]));
        fx->nref = fx->cnt;
        assert_true(fx->nref > 300 && fx->nref < LTRR_ARM_K_MAX);
}

/* Queries of four to ten words, none with a bitmap of its own: once two
 * or more lists are non-essential they are gathered in the union bitmap,
 * and an entity one of them holds counts with the largest bound only,
 * one that two or more hold with them all.
 * The scores of the unpruned run rank by rank, k 1..300 (entities may
 * differ only between ties: the order of a sum of several terms changes
 * its rounding). */
static void test_union_counts(void **state)
{
        fx_t *fx = *state;
        static const char *const queries[] = {
            "wa wb wc wd", "wa wb wc wd we wf", "wa wb xa xb wz",
            "wc wc wd we wk", "wh wi wj wk wl wm wn wo",
            "wa wb wc wd we wf wg wh wi wj"};
        for (size_t qi = 0; qi < sizeof(queries) / sizeof(queries[0]);
             qi++) {
                lextest_analyze(fx, queries[qi]);
                reference(fx);
                for (size_t k = 1; k <= 300; k += 1 + k / 5) {
                        run(fx, k, NULL, 0);
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

/* 1 if @p a ranks before @p b in the exact matches' order: higher score,
 * then higher popularity, then lower entity. */
static int ranks_before(const ltrr_index_t *ix, const ltrr_arm_cand_t *a,
                        const ltrr_arm_cand_t *b)
{
        ltrr_index_entity_t ea, eb;
        if (a->score != b->score)
                return a->score > b->score;
        assert_int_equal(ltrr_index_entity(ix, a->ent, &ea), LTRR_OK);
        assert_int_equal(ltrr_index_entity(ix, b->ent, &eb), LTRR_OK);
        if (ea.popularity != eb.popularity)
                return ea.popularity > eb.popularity;
        return a->ent < b->ent;
}

/* 2,000 exact matches, most of them tied: the reference (whose exact
 * heap never fills) in (score, popularity, entity) order, exact matches
 * first; then k 1..700 unfiltered, cheap- and expensive-filtered, byte
 * for byte the (filtered) reference's first k. */
static void test_exact_ties(void **state)
{
        fx_t *fx = *state;
        lextest_analyze(fx, "blue moon");
        reference(fx);
        assert_true(fx->nref > NENTS / 2);
        for (size_t i = 0; i < NENTS / 2; i++) {
                assert_float_equal(fx->ref[i].feat[1], 1.0f, 0);
                if (i)
                        assert_true(ranks_before(fx->ix, &fx->ref[i - 1],
                                                 &fx->ref[i]));
        }
        assert_float_equal(fx->ref[NENTS / 2].feat[1], 0.0f, 0);
        for (int f = 0; f < 3; f++) {
                ltrr_arm_lex_filter_fn *keep =
                    f ? lextest_keep_two_thirds : NULL;
                for (size_t k = 1; k <= 700; k += 1 + k / 4) {
                        run(fx, k, keep, f == 1);
                        size_t m = 0;
                        for (size_t i = 0; i < fx->nref && m < k; i++) {
                                if (keep && !keep(NULL, NULL, fx->ref[i].ent))
                                        continue;
                                assert_true(m < fx->cnt);
                                assert_memory_equal(&fx->out[m], &fx->ref[i],
                                                    sizeof(fx->out[0]));
                                m++;
                        }
                        assert_int_equal(fx->cnt, m);
                }
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_union_counts, setup_union,
                                            lextest_teardown),
            cmocka_unit_test_setup_teardown(test_exact_ties, setup_exact,
                                            lextest_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
