/*
 * Unit tests: online/apikey.c - hashed keys, lookup, token buckets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "apikey.h"

/* SHA-256("abc"), FIPS 180-2 test vector. */
#define ABC_HEX "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static void test_hash_vector(void **state)
{
        char hex[LTRR_APIKEY_HEX_LEN + 1];

        ltrr_apikey_hash_hex("abc", 3, hex, sizeof(hex));
        assert_string_equal(hex, ABC_HEX);
        ltrr_apikey_hash_hex("abc", 3, hex, 10);
        assert_string_equal(hex, "");
}

static void test_load_and_check(void **state)
{
        char errstr[256];
        ltrr_apikey_t *ak = ltrr_apikey_new(errstr, sizeof(errstr));

        assert_non_null(ak);
        assert_int_equal(ltrr_apikey_load(ak,
                                          " web:" ABC_HEX ":5 , "
                                          "ios:" ABC_HEX "0000:1,",
                                          errstr, sizeof(errstr)),
                         LTRR_ERR_PARSE);
        assert_int_equal(ltrr_apikey_cnt(ak), 0); /* unchanged on error */
        assert_non_null(strstr(errstr, "item 2"));
        assert_null(strstr(errstr, ABC_HEX)); /* never echoes a hash */
        assert_int_equal(ltrr_apikey_load(ak, " web:" ABC_HEX ":5 , ", errstr,
                                          sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_apikey_add_plain(ak, "dev", "s3cret", 0, errstr,
                                               sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_apikey_cnt(ak), 2);
        assert_int_equal(ltrr_apikey_check(ak, "abc", 3), 0);
        assert_string_equal(ltrr_apikey_app(ak, 0), "web");
        assert_int_equal(ltrr_apikey_check(ak, "s3cret", 6), 1);
        assert_string_equal(ltrr_apikey_app(ak, 1), "dev");
        assert_int_equal(ltrr_apikey_check(ak, "abd", 3), -1);
        assert_int_equal(ltrr_apikey_check(ak, "ab", 2), -1);
        assert_int_equal(ltrr_apikey_check(ak, "abcd", 3), 0); /* len wins */
        assert_int_equal(ltrr_apikey_check(ak, "", 0), -1);
        assert_int_equal(ltrr_apikey_check(ak, NULL, 3), -1);
        assert_null(ltrr_apikey_app(ak, 2));
        assert_null(ltrr_apikey_app(ak, -1));
        ltrr_apikey_destroy(ak);
}

static void test_bad_entries(void **state)
{
        static const char *const bad[] = {
            "nocolon",
            ":" ABC_HEX,                      /* empty app */
            "we b:" ABC_HEX,                  /* bad app character */
            "web:" ABC_HEX "x",               /* 65 digits */
            "web:zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f200"
            "15ad",                           /* not hex */
            "web:" ABC_HEX ":fast",           /* bad rate */
            "web:" ABC_HEX ":-1",             /* negative rate */
            "web:" ABC_HEX ":",               /* empty rate */
        };
        char errstr[256];
        ltrr_apikey_t *ak = ltrr_apikey_new(errstr, sizeof(errstr));
        size_t i;

        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (ltrr_apikey_load(ak, bad[i], errstr, sizeof(errstr)) !=
                    LTRR_ERR_PARSE)
                        fail_msg("accepted: %s", bad[i]);
        assert_int_equal(ltrr_apikey_load(ak, "", errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_apikey_load(ak, NULL, errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_apikey_cnt(ak), 0);
        assert_int_equal(ltrr_apikey_add_plain(ak, "dev", "", 0, errstr,
                                               sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_apikey_add_plain(ak, "d v", "k", 0, errstr,
                                               sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_apikey_add_plain(ak, "dev", "k", -1, errstr,
                                               sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        ltrr_apikey_destroy(ak);
}

static void test_table_full(void **state)
{
        char errstr[256];
        ltrr_apikey_t *ak = ltrr_apikey_new(errstr, sizeof(errstr));
        int i;

        for (i = 0; i < LTRR_APIKEY_MAX; i++)
                assert_int_equal(ltrr_apikey_add_plain(ak, "a", "k", 0, errstr,
                                                       sizeof(errstr)),
                                 LTRR_OK);
        assert_int_equal(ltrr_apikey_add_plain(ak, "a", "k", 0, errstr,
                                               sizeof(errstr)),
                         LTRR_ERR_NOSPACE);
        assert_int_equal(ltrr_apikey_load(ak, "b:" ABC_HEX, errstr,
                                          sizeof(errstr)),
                         LTRR_ERR_NOSPACE);
        ltrr_apikey_destroy(ak);
}

static void test_rate_limit_fake_clock(void **state)
{
        char errstr[256];
        ltrr_apikey_t *ak = ltrr_apikey_new(errstr, sizeof(errstr));
        int64_t t = 1000000;
        int i;

        assert_int_equal(ltrr_apikey_load(ak, "a:" ABC_HEX ":4,b:" ABC_HEX,
                                          errstr, sizeof(errstr)),
                         LTRR_OK);
        /* burst: one second's worth (4), then empty */
        for (i = 0; i < 4; i++)
                assert_int_equal(ltrr_apikey_take(ak, 0, t), LTRR_OK);
        assert_int_equal(ltrr_apikey_take(ak, 0, t), LTRR_ERR_NOSPACE);
        /* 249 ms: 0.996 tokens, still empty; 250 ms: one token */
        assert_int_equal(ltrr_apikey_take(ak, 0, t + 249), LTRR_ERR_NOSPACE);
        assert_int_equal(ltrr_apikey_take(ak, 0, t + 250), LTRR_OK);
        assert_int_equal(ltrr_apikey_take(ak, 0, t + 250), LTRR_ERR_NOSPACE);
        /* a long pause refills to the burst only */
        for (i = 0; i < 4; i++)
                assert_int_equal(ltrr_apikey_take(ak, 0, t + 60000), LTRR_OK);
        assert_int_equal(ltrr_apikey_take(ak, 0, t + 60000),
                         LTRR_ERR_NOSPACE);
        /* a clock going backwards adds nothing */
        assert_int_equal(ltrr_apikey_take(ak, 0, t), LTRR_ERR_NOSPACE);
        /* entry b is unlimited and independent */
        for (i = 0; i < 1000; i++)
                assert_int_equal(ltrr_apikey_take(ak, 1, t), LTRR_OK);
        assert_int_equal(ltrr_apikey_take(ak, 2, t), LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_apikey_take(ak, -1, t), LTRR_ERR_INVALID_ARG);
        ltrr_apikey_destroy(ak);
}

static void test_fractional_rate(void **state)
{
        char errstr[256];
        ltrr_apikey_t *ak = ltrr_apikey_new(errstr, sizeof(errstr));

        assert_int_equal(ltrr_apikey_load(ak, "a:" ABC_HEX ":0.5", errstr,
                                          sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_apikey_take(ak, 0, 0), LTRR_OK); /* burst 1 */
        assert_int_equal(ltrr_apikey_take(ak, 0, 1999), LTRR_ERR_NOSPACE);
        assert_int_equal(ltrr_apikey_take(ak, 0, 2000), LTRR_OK);
        ltrr_apikey_destroy(ak);
}

static void test_destroy_null(void **state)
{
        ltrr_apikey_destroy(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_hash_vector),
            cmocka_unit_test(test_load_and_check),
            cmocka_unit_test(test_bad_entries),
            cmocka_unit_test(test_table_full),
            cmocka_unit_test(test_rate_limit_fake_clock),
            cmocka_unit_test(test_fractional_rate),
            cmocka_unit_test(test_destroy_null),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
