/* Unit tests: the bounded string builder and its JSON writers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "strbuf.h"

static void test_append_and_limit(void **state)
{
        ltrr_strbuf_t sb;

        (void)state;
        ltrr_strbuf_init(&sb, 8);
        assert_string_equal(ltrr_strbuf_str(&sb), "");
        assert_int_equal(ltrr_strbuf_puts(&sb, "abc"), LTRR_OK);
        assert_int_equal(ltrr_strbuf_printf(&sb, "%d", 12), LTRR_OK);
        assert_string_equal(ltrr_strbuf_str(&sb), "abc12");
        /* 5 + 3 + NUL > 8: refused, sticky, text unchanged */
        assert_int_equal(ltrr_strbuf_puts(&sb, "xyz"), LTRR_ERR_NOSPACE);
        assert_int_equal(ltrr_strbuf_putc(&sb, 'q'), LTRR_ERR_NOSPACE);
        assert_int_equal(ltrr_strbuf_err(&sb), LTRR_ERR_NOSPACE);
        assert_string_equal(ltrr_strbuf_str(&sb), "abc12");
        ltrr_strbuf_reset(&sb);
        assert_int_equal(ltrr_strbuf_err(&sb), LTRR_OK);
        assert_int_equal(ltrr_strbuf_puts(&sb, "1234567"), LTRR_OK);
        ltrr_strbuf_clear(&sb);
        ltrr_strbuf_clear(NULL);
}

static void test_fixed(void **state)
{
        char buf[8];
        ltrr_strbuf_t sb;

        (void)state;
        memset(buf, 'x', sizeof(buf));
        ltrr_strbuf_init_fixed(&sb, buf, sizeof(buf));
        assert_string_equal(buf, "");
        assert_int_equal(ltrr_strbuf_puts(&sb, "abcdefg"), LTRR_OK);
        assert_ptr_equal(ltrr_strbuf_str(&sb), buf);
        assert_int_equal(ltrr_strbuf_putc(&sb, 'h'), LTRR_ERR_NOSPACE);
        assert_int_equal(ltrr_strbuf_printf(&sb, "%s", "long text"),
                         LTRR_ERR_NOSPACE);
        assert_string_equal(buf, "abcdefg");
        /* clearing a fixed builder empties it and frees nothing */
        ltrr_strbuf_clear(&sb);
        assert_string_equal(buf, "");
        assert_int_equal(ltrr_strbuf_puts(&sb, "ok"), LTRR_OK);
        assert_string_equal(buf, "ok");
}

static void check_str(const char *in, const char *want)
{
        ltrr_strbuf_t sb;

        ltrr_strbuf_init(&sb, 0);
        assert_int_equal(ltrr_strbuf_json_str(&sb, in), LTRR_OK);
        assert_string_equal(ltrr_strbuf_str(&sb), want);
        ltrr_strbuf_clear(&sb);
}

static void test_json_str(void **state)
{
        (void)state;
        check_str("", "\"\"");
        check_str(NULL, "null");
        check_str("plain text", "\"plain text\"");
        check_str("a\"b\\c", "\"a\\\"b\\\\c\"");
        check_str("tab\tnl\ncr\r\x01", "\"tab\\tnl\\ncr\\u000d\\u0001\"");
        check_str("/ stays", "\"/ stays\"");
        /* valid UTF-8 (2, 3 and 4 bytes) is copied */
        check_str("Été 東京 \xf0\x9f\x8e\xb5", "\"Été 東京 \xf0\x9f\x8e\xb5\"");
        /* invalid: stray continuation, truncated sequence, overlong,
         * surrogate, beyond U+10FFFF */
        check_str("a\x80z", "\"a\\ufffdz\"");
        check_str("\xc3", "\"\\ufffd\"");
        check_str("\xe6\x9d", "\"\\ufffd\\ufffd\"");
        check_str("\xc0\xaf", "\"\\ufffd\\ufffd\"");
        check_str("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
        check_str("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
}

static void check_num(double v, const char *want)
{
        ltrr_strbuf_t sb;

        ltrr_strbuf_init(&sb, 0);
        assert_int_equal(ltrr_strbuf_json_num(&sb, v), LTRR_OK);
        assert_string_equal(ltrr_strbuf_str(&sb), want);
        ltrr_strbuf_clear(&sb);
}

static void test_json_num(void **state)
{
        (void)state;
        check_num(0.0, "0.0");
        check_num(3.0, "3.0");
        check_num(-2.5, "-2.5");
        check_num(0.1, "0.10000000000000001");
        check_num(1e21, "1e+21");
        check_num(NAN, "null");
        check_num(INFINITY, "null");
        check_num(-INFINITY, "null");
}

/* The writers honour the sticky error like every append. */
static void test_json_limit(void **state)
{
        ltrr_strbuf_t sb;

        (void)state;
        ltrr_strbuf_init(&sb, 6);
        assert_int_equal(ltrr_strbuf_json_str(&sb, "abcdef"), LTRR_ERR_NOSPACE);
        assert_int_equal(ltrr_strbuf_json_num(&sb, 1.0), LTRR_ERR_NOSPACE);
        ltrr_strbuf_clear(&sb);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_append_and_limit),
                cmocka_unit_test(test_fixed),
                cmocka_unit_test(test_json_str),
                cmocka_unit_test(test_json_num),
                cmocka_unit_test(test_json_limit),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
