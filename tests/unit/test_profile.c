/* Unit tests: user profile and popularity layout. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "learn_plan.h"
#include "profile.h"

static void test_keys(void **state)
{
        char buf[512], errstr[128];

        assert_int_equal(ltrr_profile_key(buf, sizeof(buf), "u42",
                                          LTRR_PROFILE_RECENT, errstr,
                                          sizeof(errstr)),
                         LTRR_OK);
        assert_string_equal(buf, "ltrr:user:{u:u42}:recent");
        assert_int_equal(ltrr_profile_key(buf, sizeof(buf), "a b",
                                          LTRR_PROFILE_AFFINITY, errstr,
                                          sizeof(errstr)),
                         LTRR_OK);
        assert_string_equal(buf, "ltrr:user:{u:a%20b}:aff");
}

static void test_key_bounds(void **state)
{
        char buf[1024], small[16], errstr[128];
        char user[LTRR_PROFILE_USER_MAX + 2];

        memset(user, 'u', sizeof(user) - 1);
        user[sizeof(user) - 1] = '\0';
        assert_int_equal(ltrr_profile_key(buf, sizeof(buf), user,
                                          LTRR_PROFILE_RECENT, errstr,
                                          sizeof(errstr)),
                         LTRR_ERR_RANGE);
        user[LTRR_PROFILE_USER_MAX] = '\0'; /* exactly the maximum */
        assert_int_equal(ltrr_profile_key(buf, sizeof(buf), user,
                                          LTRR_PROFILE_RECENT, errstr,
                                          sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_profile_key(buf, sizeof(buf), "",
                                          LTRR_PROFILE_RECENT, errstr,
                                          sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_profile_key(buf, sizeof(buf), "u",
                                          (ltrr_profile_kind_t)7, errstr,
                                          sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_profile_key(small, sizeof(small), "u42",
                                          LTRR_PROFILE_RECENT, errstr,
                                          sizeof(errstr)),
                         LTRR_ERR_NOSPACE);
}

static void test_same_slot(void **state)
{
        char r[512], a[512];

        assert_int_equal(ltrr_profile_key(r, sizeof(r), "user:7}",
                                          LTRR_PROFILE_RECENT, NULL, 0),
                         LTRR_OK);
        assert_int_equal(ltrr_profile_key(a, sizeof(a), "user:7}",
                                          LTRR_PROFILE_AFFINITY, NULL, 0),
                         LTRR_OK);
        assert_int_equal(ltrr_learn_key_slot(r, strlen(r)),
                         ltrr_learn_key_slot(a, strlen(a)));
        assert_int_equal(
            ltrr_learn_key_slot(LTRR_PROFILE_POP_KEY,
                                strlen(LTRR_PROFILE_POP_KEY)),
            ltrr_learn_key_slot(LTRR_PROFILE_POP_EPOCH_KEY,
                                strlen(LTRR_PROFILE_POP_EPOCH_KEY)));
}

static void test_pop_decay(void **state)
{
        /* One half-life later: half. */
        assert_true(fabs(ltrr_profile_pop_decay(8, 100, 110, 10) - 4) < 1e-12);
        /* Stored scaled to the epoch: value * 2^((t-e)/h) read at t. */
        assert_true(fabs(ltrr_profile_pop_decay(3 * exp2(2.5), 0, 25, 10) -
                         3) < 1e-12);
        assert_true(ltrr_profile_pop_decay(5, 0, 1e9, 0) == 5);
}

static void test_epoch_align(void **state)
{
        assert_true(ltrr_profile_epoch_align(12345, 0) == 0);
        assert_true(ltrr_profile_epoch_align(1000, 10) == 960);
        assert_true(ltrr_profile_epoch_align(959, 10) == 640);
        assert_true(ltrr_profile_epoch_align(NAN, 10) == 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_keys),
            cmocka_unit_test(test_key_bounds),
            cmocka_unit_test(test_same_slot),
            cmocka_unit_test(test_pop_decay),
            cmocka_unit_test(test_epoch_align),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
