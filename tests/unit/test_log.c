/* Unit tests: logfmt logging. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* Logs through a pipe and returns what was written. */
static char *capture(char *out, size_t size, void (*fn)(void))
{
        int fds[2];
        ssize_t n;

        assert_int_equal(pipe(fds), 0);
        ltrr_log_set_fd(fds[1]);
        fn();
        ltrr_log_set_fd(2);
        close(fds[1]);
        n = read(fds[0], out, size - 1);
        close(fds[0]);
        out[n > 0 ? n : 0] = '\0';
        return out;
}

static void log_plain(void)
{
        log_info("serve", "listening", "port", "8080", "addr", "a b\"c");
}

static void log_secret(void)
{
        log_warn("collect", "auth", "sasl.password", "hunter2", "api_key",
                 "k1", "user", "u1");
}

static void log_filtered(void)
{
        ltrr_log_set_level(LTRR_LOG_WARN);
        log_info("x", "hidden");
        log_error("x", "shown");
        ltrr_log_set_level(LTRR_LOG_INFO);
}

static void log_long(void)
{
        static char big[LTRR_LOG_LINE_MAX * 2];

        memset(big, 'a', sizeof(big) - 1);
        log_info("x", "long", "v", big);
}

static void test_format(void **state)
{
        char out[8192];

        capture(out, sizeof(out), log_plain);
        assert_non_null(strstr(out, " level=info component=serve "
                                    "msg=listening port=8080 "
                                    "addr=\"a b\\\"c\"\n"));
        assert_memory_equal(out, "ts=", 3);
}

static void test_redaction(void **state)
{
        char out[8192];

        capture(out, sizeof(out), log_secret);
        assert_null(strstr(out, "hunter2"));
        assert_null(strstr(out, "k1"));
        assert_non_null(strstr(out, "sasl.password=[redacted]"));
        assert_non_null(strstr(out, "user=u1"));
}

static void test_level_filter(void **state)
{
        char out[8192];

        capture(out, sizeof(out), log_filtered);
        assert_null(strstr(out, "hidden"));
        assert_non_null(strstr(out, "msg=shown"));
        assert_int_equal(ltrr_log_level_parse("WARN"), LTRR_LOG_WARN);
        assert_int_equal(ltrr_log_level_parse("loud"), -1);
}

static void test_truncation(void **state)
{
        char out[LTRR_LOG_LINE_MAX * 2];
        size_t len;

        capture(out, sizeof(out), log_long);
        len = strlen(out);
        assert_true(len <= LTRR_LOG_LINE_MAX);
        assert_string_equal(out + len - 15, "truncated=true\n");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_format),
                cmocka_unit_test(test_redaction),
                cmocka_unit_test(test_level_filter),
                cmocka_unit_test(test_truncation),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
