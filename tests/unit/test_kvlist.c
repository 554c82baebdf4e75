/* Unit tests: key/value list. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "kvlist.h"

static void test_set_get_replace(void **state)
{
        ltrr_kvlist_t kvl;

        ltrr_kvlist_init(&kvl);
        assert_null(ltrr_kvlist_get(&kvl, "acks"));
        assert_int_equal(ltrr_kvlist_set(&kvl, "acks", "1"), LTRR_OK);
        assert_int_equal(ltrr_kvlist_set(&kvl, "linger.ms", "5"), LTRR_OK);
        assert_int_equal(ltrr_kvlist_set(&kvl, "acks", "all"), LTRR_OK);
        assert_int_equal(kvl.cnt, 2);
        assert_string_equal(kvl.kvs[0].key, "acks"); /* first position kept */
        assert_string_equal(ltrr_kvlist_get(&kvl, "acks"), "all");
        ltrr_kvlist_clear(&kvl);
        assert_int_equal(kvl.cnt, 0);
        ltrr_kvlist_clear(NULL);
}

static void test_bounded(void **state)
{
        ltrr_kvlist_t kvl;
        char key[32];
        int i;

        ltrr_kvlist_init(&kvl);
        for (i = 0; i < LTRR_KVLIST_MAX; i++) {
                snprintf(key, sizeof(key), "k%d", i);
                assert_int_equal(ltrr_kvlist_set(&kvl, key, "v"), LTRR_OK);
        }
        assert_int_equal(ltrr_kvlist_set(&kvl, "one.more", "v"),
                         LTRR_ERR_NOSPACE);
        /* Replacing an existing key still works when full. */
        assert_int_equal(ltrr_kvlist_set(&kvl, "k0", "w"), LTRR_OK);
        assert_string_equal(ltrr_kvlist_get(&kvl, "k0"), "w");
        ltrr_kvlist_clear(&kvl);
}

static void test_copy(void **state)
{
        ltrr_kvlist_t a, b;

        ltrr_kvlist_init(&a);
        ltrr_kvlist_init(&b);
        ltrr_kvlist_set(&a, "x", "1");
        ltrr_kvlist_set(&b, "x", "2");
        ltrr_kvlist_set(&b, "y", "3");
        assert_int_equal(ltrr_kvlist_copy(&a, &b), LTRR_OK);
        assert_string_equal(ltrr_kvlist_get(&a, "x"), "2");
        assert_string_equal(ltrr_kvlist_get(&a, "y"), "3");
        ltrr_kvlist_clear(&a);
        ltrr_kvlist_clear(&b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_set_get_replace),
                cmocka_unit_test(test_bounded),
                cmocka_unit_test(test_copy),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
