/* Unit tests: error table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "err.h"

static void test_every_code_has_text(void **state)
{
        int e;

        for (e = LTRR_OK; e > LTRR_ERR__END; e--) {
                assert_string_not_equal(ltrr_err2str((ltrr_err_t)e),
                                        "unknown error");
                assert_memory_equal(ltrr_err2name((ltrr_err_t)e), "LTRR_", 5);
        }
        assert_string_equal(ltrr_err2str(LTRR_ERR_PARSE), "malformed input");
        assert_string_equal(ltrr_err2name(LTRR_ERR_NOMEM), "LTRR_ERR_NOMEM");
}

static void test_unknown_code(void **state)
{
        assert_string_equal(ltrr_err2str((ltrr_err_t)-999), "unknown error");
        assert_string_equal(ltrr_err2name((ltrr_err_t)7), "LTRR_ERR_UNKNOWN");
}

static void test_errf(void **state)
{
        char buf[16];

        assert_int_equal(ltrr_errf(LTRR_ERR_RANGE, buf, sizeof(buf),
                                   "k=%d too big for this", 42),
                         LTRR_ERR_RANGE);
        assert_string_equal(buf, "k=42 too big fo"); /* truncated, NUL-ended */
        assert_int_equal(ltrr_errf(LTRR_ERR_IO, NULL, 0, "x"), LTRR_ERR_IO);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_code_has_text),
                cmocka_unit_test(test_unknown_code),
                cmocka_unit_test(test_errf),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
