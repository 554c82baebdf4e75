/* Unit tests: Q2E memory key layout and blend. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "learn_plan.h"
#include "q2e.h"

static void test_blend(void **state)
{
        /* No evidence: the prediction. */
        assert_true(fabs(ltrr_q2e_blend(0, 0.8, 0, 5) - 0.8) < 1e-12);
        /* (3 + 5 * 0.2) / (10 + 5) */
        assert_true(fabs(ltrr_q2e_blend(3, 0.2, 10, 5) - 4.0 / 15.0) < 1e-12);
        /* Without a prior: the observed rate. */
        assert_true(fabs(ltrr_q2e_blend(2, 0.9, 8, 0) - 0.25) < 1e-12);
        /* The prediction fades as impressions grow. */
        assert_true(fabs(ltrr_q2e_blend(0, 1.0, 1e6, 1) - 1.0 / 1000001.0) <
                    1e-15);
}

static void test_blend_degenerate(void **state)
{
        assert_true(ltrr_q2e_blend(1, 1, 0, 0) == 0.0);
        assert_true(ltrr_q2e_blend(1, 1, -3, 1) == 0.0);
        assert_true(ltrr_q2e_blend(NAN, 1, 3, 1) == 0.0);
        assert_true(ltrr_q2e_blend(1, INFINITY, 3, 1) == 0.0);
        assert_true(ltrr_q2e_blend(1, 1, 3, -1) == 0.0);
}

static void test_keys(void **state)
{
        char buf[1024], errstr[128];

        assert_int_equal(ltrr_q2e_key(buf, sizeof(buf), "daft punk", 0,
                                      errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_string_equal(buf, "ltrr:q2e:{q:daft%20punk}");
        assert_int_equal(ltrr_q2e_key(buf, sizeof(buf), "daft punk", 1,
                                      errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_string_equal(buf, "ltrr:q2e:{q:daft%20punk}:meta");
        assert_int_equal(ltrr_q2e_tag(buf, sizeof(buf), "a}b{c", errstr,
                                      sizeof(errstr)),
                         LTRR_OK);
        assert_string_equal(buf, "{q:a%7Db%7Bc}");
}

static void test_key_errors(void **state)
{
        char buf[1024], small[8], errstr[128];
        char longq[LTRR_Q2E_QUERY_MAX + 2];

        memset(longq, 'x', sizeof(longq) - 1);
        longq[sizeof(longq) - 1] = '\0';
        assert_int_equal(ltrr_q2e_key(buf, sizeof(buf), "", 0, errstr,
                                      sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_q2e_key(buf, sizeof(buf), NULL, 0, errstr,
                                      sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_q2e_key(buf, sizeof(buf), longq, 0, errstr,
                                      sizeof(errstr)),
                         LTRR_ERR_RANGE);
        assert_non_null(strstr(errstr, "exceeds"));
        assert_int_equal(ltrr_q2e_key(small, sizeof(small), "abc", 0, errstr,
                                      sizeof(errstr)),
                         LTRR_ERR_NOSPACE);
        assert_int_equal(ltrr_q2e_tag(small, 4, "abc", errstr,
                                      sizeof(errstr)),
                         LTRR_ERR_NOSPACE);
}

/* The sorted set and the meta hash of a query share one slot. */
static void test_same_slot(void **state)
{
        static const char *queries[] = {"a", "daft punk", "x:y}z", "日本",
                                        "%7D"};
        char z[1024], m[1024];
        size_t i;

        for (i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
                assert_int_equal(ltrr_q2e_key(z, sizeof(z), queries[i], 0,
                                              NULL, 0),
                                 LTRR_OK);
                assert_int_equal(ltrr_q2e_key(m, sizeof(m), queries[i], 1,
                                              NULL, 0),
                                 LTRR_OK);
                assert_int_equal(ltrr_learn_key_slot(z, strlen(z)),
                                 ltrr_learn_key_slot(m, strlen(m)));
        }
        /* Escaping keeps "}" and "%7D" apart. */
        assert_int_equal(ltrr_q2e_key(z, sizeof(z), "}", 0, NULL, 0), LTRR_OK);
        assert_int_equal(ltrr_q2e_key(m, sizeof(m), "%7D", 0, NULL, 0),
                         LTRR_OK);
        assert_string_not_equal(z, m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_blend),
            cmocka_unit_test(test_blend_degenerate),
            cmocka_unit_test(test_keys),
            cmocka_unit_test(test_key_errors),
            cmocka_unit_test(test_same_slot),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
