/* Unit tests: holiday/weekend calendar and fixed-offset local time. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calendar.h"

#define DAY_MS 86400000LL

/* Days since 1970-01-01 of a few 2026 dates (checked against Python's
 * datetime, independently of the code under test). */
#define D_2026_01_01 20454 /* Thursday */
#define D_2026_07_04 20638 /* Saturday */
#define D_2026_10_03 20729 /* Saturday */
#define D_2026_11_25 20782 /* Wednesday */
#define D_2026_11_26 20783 /* Thursday */

static ltrr_calendar_t *load_sample(void)
{
        const char *src = getenv("LTRR_SRC");
        char path[1024], errstr[256] = "";
        ltrr_calendar_t *cal = ltrr_calendar_new();
        ltrr_err_t err;

        assert_non_null(cal);
        snprintf(path, sizeof(path), "%s/tests/data/holidays-sample.txt",
                 src ? src : ".");
        err = ltrr_calendar_load(cal, path, errstr, sizeof(errstr));
        if (err != LTRR_OK)
                fail_msg("load %s: %s (set LTRR_SRC)", path, errstr);
        return cal;
}

/* Parses @p text into a fresh calendar; returns the code, errstr filled. */
static ltrr_err_t parse_text(const char *text, char *errstr, size_t size)
{
        ltrr_calendar_t *cal = ltrr_calendar_new();
        ltrr_err_t err;

        assert_non_null(cal);
        err =
            ltrr_calendar_parse(cal, text, strlen(text), "t.txt", errstr, size);
        ltrr_calendar_destroy(cal);
        return err;
}

static void test_destroy_null(void **state)
{
        (void)state;
        ltrr_calendar_destroy(NULL);
        assert_int_equal(ltrr_calendar_count(NULL), 0);
        assert_int_equal(ltrr_calendar_is_holiday(NULL, D_2026_01_01, NULL), 0);
}

static void test_empty_calendar(void **state)
{
        ltrr_calendar_t *cal = ltrr_calendar_new();
        int d;

        (void)state;
        assert_non_null(cal);
        assert_int_equal(ltrr_calendar_count(cal), 0);
        for (d = 0; d < 7; d++)
                assert_int_equal(ltrr_calendar_is_weekend(cal, d), d >= 5);
        assert_int_equal(ltrr_calendar_is_weekend(cal, 7), 0);
        assert_int_equal(ltrr_calendar_is_weekend(cal, -1), 0);
        assert_int_equal(ltrr_calendar_is_holiday(cal, D_2026_01_01, "us"), 0);
        ltrr_calendar_destroy(cal);
}

static void test_sample_lookup(void **state)
{
        ltrr_calendar_t *cal = load_sample();

        (void)state;
        /* 9 dated lines, one duplicate. */
        assert_int_equal(ltrr_calendar_count(cal), 8);
        assert_int_equal(ltrr_calendar_is_holiday(cal, D_2026_01_01, NULL), 1);
        assert_int_equal(ltrr_calendar_is_holiday(cal, D_2026_01_01, "de"), 1);
        assert_int_equal(ltrr_calendar_is_holiday(cal, D_2026_01_01 - 1, NULL),
                         0);
        assert_int_equal(ltrr_calendar_is_holiday(cal, D_2026_01_01 + 1, NULL),
                         0);
        /* Regional dates: only for their region, case-insensitively. */
        assert_int_equal(ltrr_calendar_is_holiday(cal, D_2026_07_04, "us"), 1);
        assert_int_equal(ltrr_calendar_is_holiday(cal, D_2026_07_04, "US"), 1);
        assert_int_equal(ltrr_calendar_is_holiday(cal, D_2026_07_04, "de"), 0);
        assert_int_equal(ltrr_calendar_is_holiday(cal, D_2026_07_04, NULL), 0);
        assert_int_equal(ltrr_calendar_is_holiday(cal, D_2026_07_04, ""), 0);
        assert_int_equal(ltrr_calendar_is_holiday(cal, D_2026_07_04, "u"), 0);
        assert_int_equal(ltrr_calendar_is_holiday(cal, D_2026_07_04, "usa"), 0);
        assert_int_equal(ltrr_calendar_is_holiday(cal, D_2026_10_03, "de"), 1);
        assert_int_equal(ltrr_calendar_is_holiday(cal, D_2026_11_26, "us"), 1);
        assert_int_equal(ltrr_calendar_is_holiday(cal, D_2026_11_25, "us"), 0);
        /* Far outside the loaded range. */
        assert_int_equal(ltrr_calendar_is_holiday(cal, 0, "us"), 0);
        assert_int_equal(ltrr_calendar_is_holiday(cal, 100000, "us"), 0);
        ltrr_calendar_destroy(cal);
}

static void test_localtime_edges(void **state)
{
        ltrr_localtime_t lt;

        (void)state;
        assert_int_equal(ltrr_calendar_localtime(0, 0, &lt), LTRR_OK);
        assert_int_equal(lt.day, 0);
        assert_int_equal(lt.year, 1970);
        assert_int_equal(lt.month, 1);
        assert_int_equal(lt.mday, 1);
        assert_int_equal(lt.weekday, 3); /* Thursday */
        assert_int_equal(lt.hour, 0);
        /* One millisecond before the epoch: Wednesday 23:59. */
        assert_int_equal(ltrr_calendar_localtime(-1, 0, &lt), LTRR_OK);
        assert_int_equal(lt.day, -1);
        assert_int_equal(lt.year, 1969);
        assert_int_equal(lt.month, 12);
        assert_int_equal(lt.mday, 31);
        assert_int_equal(lt.hour, 23);
        assert_int_equal(lt.minute, 59);
        assert_int_equal(lt.weekday, 2);
        /* Exactly midnight starts the new day. */
        assert_int_equal(ltrr_calendar_localtime(D_2026_07_04 * DAY_MS, 0, &lt),
                         LTRR_OK);
        assert_int_equal(lt.day, D_2026_07_04);
        assert_int_equal(lt.hour, 0);
        assert_int_equal(lt.minute, 0);
        assert_int_equal(lt.weekday, 5);
        assert_int_equal(
            ltrr_calendar_localtime(D_2026_07_04 * DAY_MS - 1, 0, &lt),
            LTRR_OK);
        assert_int_equal(lt.day, D_2026_07_04 - 1);
        assert_int_equal(lt.hour, 23);
        assert_int_equal(lt.weekday, 4);
        /* 2026-07-04 23:30Z at UTC+1 is Sunday 2026-07-05 00:30. */
        assert_int_equal(ltrr_calendar_localtime(1783207800000LL, 60, &lt),
                         LTRR_OK);
        assert_int_equal(lt.mday, 5);
        assert_int_equal(lt.month, 7);
        assert_int_equal(lt.hour, 0);
        assert_int_equal(lt.minute, 30);
        assert_int_equal(lt.weekday, 6);
        /* Half-hour offsets (UTC+5:30). */
        assert_int_equal(ltrr_calendar_localtime(0, 330, &lt), LTRR_OK);
        assert_int_equal(lt.hour, 5);
        assert_int_equal(lt.minute, 30);
}

static void test_localtime_offset_bounds(void **state)
{
        ltrr_localtime_t lt;

        (void)state;
        assert_int_equal(ltrr_calendar_localtime(0, 840, &lt), LTRR_OK);
        assert_int_equal(lt.hour, 14);
        assert_int_equal(ltrr_calendar_localtime(0, -840, &lt), LTRR_OK);
        assert_int_equal(lt.hour, 10);
        assert_int_equal(lt.day, -1);
        assert_int_equal(ltrr_calendar_localtime(0, 841, &lt), LTRR_ERR_RANGE);
        assert_int_equal(ltrr_calendar_localtime(0, -841, &lt), LTRR_ERR_RANGE);
        assert_int_equal(ltrr_calendar_localtime(INT64_MAX, 0, &lt),
                         LTRR_ERR_RANGE);
}

/* Every day 1900..2199: civil date round-trips, weekdays advance by one. */
static void test_civil_roundtrip(void **state)
{
        int32_t first, last, d, back;
        int prev_wd = -1;
        ltrr_localtime_t lt;

        (void)state;
        assert_int_equal(ltrr_calendar_days(1900, 1, 1, &first), LTRR_OK);
        assert_int_equal(ltrr_calendar_days(2199, 12, 31, &last), LTRR_OK);
        assert_int_equal(first, -25567);
        /* 75 multiples of 4 in 1900..2196, minus 1900 and 2100. */
        assert_int_equal(last - first + 1, 300 * 365 + 73);
        for (d = first; d <= last; d++) {
                assert_int_equal(
                    ltrr_calendar_localtime(d * DAY_MS + 1, 0, &lt), LTRR_OK);
                assert_int_equal(lt.day, d);
                assert_int_equal(
                    ltrr_calendar_days(lt.year, lt.month, lt.mday, &back),
                    LTRR_OK);
                assert_int_equal(back, d);
                if (prev_wd >= 0)
                        assert_int_equal(lt.weekday, (prev_wd + 1) % 7);
                prev_wd = lt.weekday;
        }
}

static void test_days_invalid(void **state)
{
        int32_t d = 123;

        (void)state;
        assert_int_equal(ltrr_calendar_days(2024, 2, 29, &d), LTRR_OK);
        assert_int_equal(ltrr_calendar_days(2023, 2, 29, &d), LTRR_ERR_RANGE);
        assert_int_equal(ltrr_calendar_days(2100, 2, 29, &d), LTRR_ERR_RANGE);
        assert_int_equal(ltrr_calendar_days(2000, 2, 29, &d), LTRR_OK);
        assert_int_equal(ltrr_calendar_days(2026, 4, 31, &d), LTRR_ERR_RANGE);
        assert_int_equal(ltrr_calendar_days(2026, 0, 1, &d), LTRR_ERR_RANGE);
        assert_int_equal(ltrr_calendar_days(2026, 13, 1, &d), LTRR_ERR_RANGE);
        assert_int_equal(ltrr_calendar_days(2026, 1, 0, &d), LTRR_ERR_RANGE);
        assert_int_equal(ltrr_calendar_days(1899, 12, 31, &d), LTRR_ERR_RANGE);
        assert_int_equal(ltrr_calendar_days(2200, 1, 1, &d), LTRR_ERR_RANGE);
}

static void test_lookup_flags(void **state)
{
        ltrr_calendar_t *cal = load_sample();
        ltrr_calendar_day_t day;

        (void)state;
        /* 2026-07-05 02:00Z at UTC-5 is Saturday 2026-07-04 21:00. */
        assert_int_equal(
            ltrr_calendar_lookup(cal,
                                 D_2026_07_04 * DAY_MS + DAY_MS + 2 * 3600000LL,
                                 -300, "us", &day),
            LTRR_OK);
        assert_int_equal(day.lt.day, D_2026_07_04);
        assert_int_equal(day.lt.hour, 21);
        assert_int_equal(day.weekend, 1);
        assert_int_equal(day.holiday, 1);
        /* The same instant in UTC is Sunday, not a holiday. */
        assert_int_equal(
            ltrr_calendar_lookup(cal,
                                 D_2026_07_04 * DAY_MS + DAY_MS + 2 * 3600000LL,
                                 0, "us", &day),
            LTRR_OK);
        assert_int_equal(day.lt.weekday, 6);
        assert_int_equal(day.weekend, 1);
        assert_int_equal(day.holiday, 0);
        /* Wednesday noon: neither. */
        assert_int_equal(
            ltrr_calendar_lookup(cal, D_2026_11_25 * DAY_MS + 12 * 3600000LL, 0,
                                 "us", &day),
            LTRR_OK);
        assert_int_equal(day.weekend, 0);
        assert_int_equal(day.holiday, 0);
        /* No calendar: weekend only. */
        assert_int_equal(
            ltrr_calendar_lookup(NULL, D_2026_01_01 * DAY_MS, 0, NULL, &day),
            LTRR_OK);
        assert_int_equal(day.holiday, 0);
        assert_int_equal(day.weekend, 0);
        assert_int_equal(ltrr_calendar_lookup(cal, 0, 900, NULL, &day),
                         LTRR_ERR_RANGE);
        ltrr_calendar_destroy(cal);
}

static void test_weekend_line(void **state)
{
        const char *text = "weekend fri sat\r\n2026-01-02 ae\r\n";
        ltrr_calendar_t *cal = ltrr_calendar_new();
        char errstr[256] = "";

        (void)state;
        assert_non_null(cal);
        assert_int_equal(ltrr_calendar_parse(cal, text, strlen(text), "w",
                                             errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_calendar_is_weekend(cal, 4), 1);
        assert_int_equal(ltrr_calendar_is_weekend(cal, 5), 1);
        assert_int_equal(ltrr_calendar_is_weekend(cal, 6), 0);
        assert_int_equal(ltrr_calendar_is_holiday(cal, D_2026_01_01 + 1, "ae"),
                         1);
        /* A later parse replaces everything, weekend included. */
        assert_int_equal(
            ltrr_calendar_parse(cal, "", 0, "w", errstr, sizeof(errstr)),
            LTRR_OK);
        assert_int_equal(ltrr_calendar_count(cal), 0);
        assert_int_equal(ltrr_calendar_is_weekend(cal, 6), 1);
        ltrr_calendar_destroy(cal);
}

/* Each malformed input fails with the right code and its line number. */
static void test_parse_errors(void **state)
{
        static const struct {
                const char *text;
                ltrr_err_t err;
                const char *where;
        } cases[] = {
            {"2026-01-01\n\n2026-13-01\n", LTRR_ERR_PARSE, "t.txt:3:"},
            {"# c\n2026-02-29\n", LTRR_ERR_PARSE, "t.txt:2:"},
            {"2026-1-01\n", LTRR_ERR_PARSE, "t.txt:1:"},
            {"26-01-01\n", LTRR_ERR_PARSE, "t.txt:1:"},
            {"2026/01/01\n", LTRR_ERR_PARSE, "t.txt:1:"},
            {"2026-01-0x\n", LTRR_ERR_PARSE, "t.txt:1:"},
            {"1899-12-31\n", LTRR_ERR_PARSE, "t.txt:1:"},
            {"\n\n\n\n2026-01-01 u$\n", LTRR_ERR_PARSE, "t.txt:5:"},
            {"2026-01-01 abcdefghijklmnop\n", LTRR_ERR_PARSE, "t.txt:1:"},
            {"2026-01-01 us extra\n", LTRR_ERR_PARSE, "t.txt:1:"},
            {"weekend sat xyz\n", LTRR_ERR_PARSE, "t.txt:1:"},
            {"weekend\n", LTRR_ERR_PARSE, "t.txt:1:"},
            {"weekend sat\nweekend sun\n", LTRR_ERR_PARSE, "t.txt:2:"},
            {"holiday 2026-01-01\n", LTRR_ERR_PARSE, "t.txt:1:"},
        };
        char errstr[256];
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                errstr[0] = '\0';
                assert_int_equal(
                    parse_text(cases[i].text, errstr, sizeof(errstr)),
                    cases[i].err);
                if (!strstr(errstr, cases[i].where))
                        fail_msg("case %zu: '%s' lacks '%s'", i, errstr,
                                 cases[i].where);
        }
}

static void test_parse_limits(void **state)
{
        char line[LTRR_CALENDAR_LINE_MAX + 2], errstr[256] = "";
        char *big;
        size_t i, pos = 0;
        ltrr_calendar_t *cal = ltrr_calendar_new();

        (void)state;
        assert_non_null(cal);
        /* An over-long line. */
        memset(line, ' ', sizeof(line) - 1);
        memcpy(line, "2026-01-01", 10);
        line[sizeof(line) - 1] = '\0';
        assert_int_equal(parse_text(line, errstr, sizeof(errstr)),
                         LTRR_ERR_PARSE);
        assert_non_null(strstr(errstr, "t.txt:1:"));
        /* A NUL byte inside a line. */
        assert_int_equal(ltrr_calendar_parse(cal, "2026-01-01\0x\n", 13, "n",
                                             errstr, sizeof(errstr)),
                         LTRR_ERR_PARSE);
        /* More distinct dates than the cap: the first extra line fails. */
        big = malloc((LTRR_CALENDAR_MAX_DATES + 1) * 12);
        assert_non_null(big);
        for (i = 0; i <= LTRR_CALENDAR_MAX_DATES; i++) {
                ltrr_localtime_t lt;

                assert_int_equal(
                    ltrr_calendar_localtime((int64_t)i * DAY_MS, 0, &lt),
                    LTRR_OK);
                pos += (size_t)sprintf(big + pos, "%04d-%02d-%02d\n",
                                       (int)lt.year, lt.month, lt.mday);
        }
        assert_int_equal(
            ltrr_calendar_parse(cal, big, pos, "big", errstr, sizeof(errstr)),
            LTRR_ERR_NOSPACE);
        assert_non_null(strstr(errstr, "big:8193:"));
        /* Exactly the cap is fine. */
        assert_int_equal(ltrr_calendar_parse(cal, big, pos - 11, "big", errstr,
                                             sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_calendar_count(cal), LTRR_CALENDAR_MAX_DATES);
        /* Too many regions. */
        for (i = 0, pos = 0; i <= LTRR_CALENDAR_MAX_REGIONS; i++)
                pos += (size_t)sprintf(big + pos, "2026-01-01 r%zu\n", i);
        assert_int_equal(
            ltrr_calendar_parse(cal, big, pos, "reg", errstr, sizeof(errstr)),
            LTRR_ERR_NOSPACE);
        assert_non_null(strstr(errstr, "reg:65:"));
        /* A failed parse left the previous content in place. */
        assert_int_equal(ltrr_calendar_count(cal), LTRR_CALENDAR_MAX_DATES);
        free(big);
        ltrr_calendar_destroy(cal);
}

static void test_load_errors(void **state)
{
        const char *env = getenv("LTRR_TEST_OUT");
        const char *out = env && access(env, W_OK) == 0 ? env : "/tmp";
        char path[1024], errstr[256] = "";
        ltrr_calendar_t *cal = load_sample();
        FILE *fp;
        size_t i;

        (void)state;
        assert_int_equal(ltrr_calendar_load(cal, "/nonexistent/cal.txt", errstr,
                                            sizeof(errstr)),
                         LTRR_ERR_IO);
        assert_non_null(strstr(errstr, "/nonexistent/cal.txt"));
        assert_int_equal(ltrr_calendar_load(cal, NULL, errstr, sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_calendar_load(NULL, "x", errstr, sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        /* An oversized file. */
        snprintf(path, sizeof(path), "%s/calendar-big-%d.txt", out,
                 (int)getpid());
        fp = fopen(path, "w");
        assert_non_null(fp);
        for (i = 0; i <= LTRR_CALENDAR_FILE_MAX / 8; i++)
                fputs("#######\n", fp);
        fclose(fp);
        assert_int_equal(ltrr_calendar_load(cal, path, errstr, sizeof(errstr)),
                         LTRR_ERR_RANGE);
        remove(path);
        /* A content error names the file and line. */
        snprintf(path, sizeof(path), "%s/calendar-bad-%d.txt", out,
                 (int)getpid());
        fp = fopen(path, "w");
        assert_non_null(fp);
        fputs("2026-01-01\n2026-02-30 us\n", fp);
        fclose(fp);
        assert_int_equal(ltrr_calendar_load(cal, path, errstr, sizeof(errstr)),
                         LTRR_ERR_PARSE);
        assert_non_null(strstr(errstr, ":2:"));
        assert_non_null(strstr(errstr, path));
        remove(path);
        /* The sample is still loaded. */
        assert_int_equal(ltrr_calendar_count(cal), 8);
        ltrr_calendar_destroy(cal);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_destroy_null),
            cmocka_unit_test(test_empty_calendar),
            cmocka_unit_test(test_sample_lookup),
            cmocka_unit_test(test_localtime_edges),
            cmocka_unit_test(test_localtime_offset_bounds),
            cmocka_unit_test(test_civil_roundtrip),
            cmocka_unit_test(test_days_invalid),
            cmocka_unit_test(test_lookup_flags),
            cmocka_unit_test(test_weekend_line),
            cmocka_unit_test(test_parse_errors),
            cmocka_unit_test(test_parse_limits),
            cmocka_unit_test(test_load_errors),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
