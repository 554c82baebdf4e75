/*
 * Unit tests for online/search_state.c: Redis replies of one query into
 * its fresh state. Good replies fill Q2E, recent entities and bandit
 * statistics; malformed ones (odd counts, bad numbers, NULL members,
 * oversized lists) leave that part empty and never crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "search.h"

typedef struct fx_s {
        ltrr_search_t *se;         /* owns the bandit space */
        ltrr_search_state_t *st;   /* state under test */
        char errstr[256];          /* last error */
} fx_t;

static int setup(void **state)
{
        ltrr_search_conf_t conf;
        fx_t *fx = calloc(1, sizeof(*fx));

        assert_non_null(fx);
        ltrr_search_conf_init(&conf);
        fx->se = ltrr_search_new(&conf, fx->errstr, sizeof(fx->errstr));
        assert_non_null(fx->se);
        fx->st = ltrr_search_state_new(ltrr_search_space(fx->se), 1.0,
                                       fx->errstr, sizeof(fx->errstr));
        assert_non_null(fx->st);
        *state = fx;
        return 0;
}

static int teardown(void **state)
{
        fx_t *fx = *state;

        ltrr_search_state_destroy(fx->st);
        ltrr_search_destroy(fx->se);
        free(fx);
        return 0;
}

static void test_new_bad_args(void **state)
{
        fx_t *fx = *state;

        assert_null(ltrr_search_state_new(NULL, 1.0, fx->errstr,
                                          sizeof(fx->errstr)));
        assert_true(fx->errstr[0] != '\0');
        assert_null(ltrr_search_state_new(ltrr_search_space(fx->se), -1.0,
                                          fx->errstr, sizeof(fx->errstr)));
        ltrr_search_state_destroy(NULL); /* no-op */
}

static void test_q2e_good(void **state)
{
        fx_t *fx = *state;
        const char *mv[] = {"e9", "3", "e1", "1", "e5", "0.5"};

        assert_int_equal(ltrr_search_state_q2e(fx->st, mv, 6, "1", fx->errstr,
                                               sizeof(fx->errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_search_state_q2e_count(fx->st), 3);
        /* (observed + 0) / (n + alpha) = 1 / 2, clamped to [0, 1]. */
        assert_float_equal(ltrr_search_state_q2e_score(fx->st, "e1"), 0.5,
                           1e-6);
        assert_float_equal(ltrr_search_state_q2e_score(fx->st, "e9"), 1.0,
                           1e-6);
        assert_float_equal(ltrr_search_state_q2e_score(fx->st, "e5"), 0.25,
                           1e-6);
        assert_float_equal(ltrr_search_state_q2e_score(fx->st, "nope"), 0.0,
                           0);
        assert_float_equal(ltrr_search_state_q2e_score(fx->st, NULL), 0.0, 0);
        assert_float_equal(ltrr_search_state_q2e_score(NULL, "e1"), 0.0, 0);
}

static void test_q2e_malformed(void **state)
{
        fx_t *fx = *state;
        const char *good[] = {"e1", "1"};
        const char *odd[] = {"e1", "1", "e2"};
        const char *nan[] = {"e1", "nan"};
        const char *word[] = {"e1", "abc"};
        const char *empty[] = {"e1", ""};
        const char *nulls[] = {NULL, "1"};
        const char *nullv[] = {"e1", NULL};
        const char *inf[] = {"e1", "1e999"};
        const char *const *bad[] = {nan, word, empty, nulls, nullv, inf};
        size_t i;

        assert_int_equal(ltrr_search_state_q2e(fx->st, odd, 3, NULL,
                                               fx->errstr,
                                               sizeof(fx->errstr)),
                         LTRR_ERR_PARSE);
        assert_int_equal(ltrr_search_state_q2e_count(fx->st), 0);
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_int_equal(ltrr_search_state_q2e(fx->st, good, 2, NULL,
                                                       fx->errstr,
                                                       sizeof(fx->errstr)),
                                 LTRR_OK);
                assert_int_equal(ltrr_search_state_q2e(fx->st, bad[i], 2,
                                                       NULL, fx->errstr,
                                                       sizeof(fx->errstr)),
                                 LTRR_ERR_PARSE);
                assert_int_equal(ltrr_search_state_q2e_count(fx->st), 0);
                assert_float_equal(
                    ltrr_search_state_q2e_score(fx->st, "e1"), 0.0, 0);
        }
        /* A bad impression count empties the part too. */
        assert_int_equal(ltrr_search_state_q2e(fx->st, good, 2, "-3",
                                               fx->errstr,
                                               sizeof(fx->errstr)),
                         LTRR_ERR_PARSE);
        assert_int_equal(ltrr_search_state_q2e_count(fx->st), 0);
        assert_int_equal(ltrr_search_state_q2e(fx->st, good, 2, "x",
                                               fx->errstr,
                                               sizeof(fx->errstr)),
                         LTRR_ERR_PARSE);
        /* An empty reply is an empty part, not an error. */
        assert_int_equal(ltrr_search_state_q2e(fx->st, NULL, 0, NULL,
                                               fx->errstr,
                                               sizeof(fx->errstr)),
                         LTRR_OK);
}

/* More entries than the list holds, and ids filling the arena: the
 * best (first) entries stay, nothing overflows. */
static void test_list_bounds(void **state)
{
        fx_t *fx = *state;
        size_t n = 2 * (LTRR_SEARCH_STATE_LIST_MAX + 50), i;
        const char **mv = calloc(n, sizeof(*mv));
        char(*ids)[200] = calloc(n / 2, sizeof(*ids));

        assert_non_null(mv);
        assert_non_null(ids);
        for (i = 0; i < n / 2; i++) {
                memset(ids[i], 'a' + (int)(i % 26), sizeof(ids[i]) - 1);
                snprintf(ids[i], 8, "id%05zu", i);
                ids[i][7] = 'x';
                mv[2 * i] = ids[i];
                mv[2 * i + 1] = "1";
        }
        assert_int_equal(ltrr_search_state_recent(fx->st, mv, n, fx->errstr,
                                                  sizeof(fx->errstr)),
                         LTRR_OK);
        assert_true(ltrr_search_state_seen(fx->st, ids[0]));
        assert_false(ltrr_search_state_seen(fx->st, ids[n / 2 - 1]));
        assert_int_equal(ltrr_search_state_q2e(fx->st, mv, n, NULL,
                                               fx->errstr,
                                               sizeof(fx->errstr)),
                         LTRR_OK);
        assert_true(ltrr_search_state_q2e_count(fx->st) > 0);
        assert_true(ltrr_search_state_q2e_count(fx->st) <=
                    LTRR_SEARCH_STATE_LIST_MAX);
        free(ids);
        free(mv);
}

static void test_recent(void **state)
{
        fx_t *fx = *state;
        const char *mv[] = {"b", "10", "a", "20"};
        const char *bad[] = {"a", "1", "b"};

        assert_int_equal(ltrr_search_state_recent(fx->st, mv, 4, fx->errstr,
                                                  sizeof(fx->errstr)),
                         LTRR_OK);
        assert_true(ltrr_search_state_seen(fx->st, "a"));
        assert_true(ltrr_search_state_seen(fx->st, "b"));
        assert_false(ltrr_search_state_seen(fx->st, "c"));
        assert_false(ltrr_search_state_seen(NULL, "a"));
        assert_int_equal(ltrr_search_state_recent(fx->st, bad, 3, fx->errstr,
                                                  sizeof(fx->errstr)),
                         LTRR_ERR_PARSE);
        assert_false(ltrr_search_state_seen(fx->st, "a"));
}

static void test_bandit(void **state)
{
        fx_t *fx = *state;
        const char *odd[] = {"v"};
        const char *junk[] = {"no-such-field!", "1"};
        const char *badnum[] = {"v", "zz"};

        assert_int_equal(ltrr_search_state_bandit(fx->st, NULL, 0, fx->errstr,
                                                  sizeof(fx->errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_search_state_bandit(fx->st, odd, 1, fx->errstr,
                                                  sizeof(fx->errstr)),
                         LTRR_ERR_PARSE);
        assert_int_equal(ltrr_search_state_bandit(fx->st, badnum, 2,
                                                  fx->errstr,
                                                  sizeof(fx->errstr)),
                         LTRR_ERR_PARSE);
        /* Whatever the verdict on an unknown field, the state stays
         * usable. */
        (void)ltrr_search_state_bandit(fx->st, junk, 2, fx->errstr,
                                       sizeof(fx->errstr));
        assert_non_null(ltrr_search_state_bstats(fx->st));
}

static void test_degraded_reset(void **state)
{
        fx_t *fx = *state;
        const char *mv[] = {"e1", "1"};

        assert_int_equal(ltrr_search_state_degraded(fx->st), 0);
        ltrr_search_state_set_degraded(fx->st, 7);
        assert_int_equal(ltrr_search_state_degraded(fx->st), 1);
        assert_int_equal(ltrr_search_state_degraded(NULL), 0);
        assert_int_equal(ltrr_search_state_q2e(fx->st, mv, 2, NULL,
                                               fx->errstr,
                                               sizeof(fx->errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_search_state_recent(fx->st, mv, 2, fx->errstr,
                                                  sizeof(fx->errstr)),
                         LTRR_OK);
        ltrr_search_state_reset(fx->st);
        assert_int_equal(ltrr_search_state_degraded(fx->st), 0);
        assert_int_equal(ltrr_search_state_q2e_count(fx->st), 0);
        assert_false(ltrr_search_state_seen(fx->st, "e1"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_new_bad_args, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_q2e_good, setup, teardown),
            cmocka_unit_test_setup_teardown(test_q2e_malformed, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_list_bounds, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_recent, setup, teardown),
            cmocka_unit_test_setup_teardown(test_bandit, setup, teardown),
            cmocka_unit_test_setup_teardown(test_degraded_reset, setup,
                                            teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
