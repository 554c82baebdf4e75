/*
 * Fuzz target: the holiday calendar parser and local time
 * (online/calendar.c).
 *
 * The whole input is a calendar file. A failed parse must leave the
 * calendar as it was; a successful one must answer lookups. The last 12
 * bytes also give an epoch time (8 bytes) and a UTC offset (4 bytes) for
 * ltrr_calendar_lookup(), whose result must be a valid date that
 * ltrr_calendar_days() maps back to the same day.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "calendar.h"

/** Largest input looked at; longer inputs are ignored. */
#define FUZZ_INPUT_MAX (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A calendar loaded before the input, to see that errors keep it. */
static const char fuzz_base[] = "weekend fri sat\n2026-12-25\n2026-07-04 us\n";

/* Checks one local time against the calendar arithmetic. */
static void fuzz_check_lt(const ltrr_localtime_t *lt)
{
        int32_t day;

        if (lt->month < 1 || lt->month > 12 || lt->mday < 1 || lt->mday > 31 ||
            lt->hour < 0 || lt->hour > 23 || lt->minute < 0 ||
            lt->minute > 59 || lt->weekday < 0 || lt->weekday > 6)
                __builtin_trap();
        if (lt->year < LTRR_CALENDAR_YEAR_MIN ||
            lt->year > LTRR_CALENDAR_YEAR_MAX)
                return;
        if (ltrr_calendar_days(lt->year, lt->month, lt->mday, &day) !=
                LTRR_OK ||
            day != lt->day)
                __builtin_trap();
        /* 1970-01-01 was a Thursday (3). */
        if (((day % 7 + 7 + 3) % 7) != lt->weekday)
                __builtin_trap();
}

/* Looks up the time and offset in the last 12 bytes of the input. */
static void fuzz_lookup(const ltrr_calendar_t *cal, const uint8_t *p,
                        const char *region)
{
        ltrr_calendar_day_t out;
        int64_t ms;
        int32_t off;
        uint64_t u = 0;
        int i;

        for (i = 0; i < 8; i++)
                u |= (uint64_t)p[i] << (8 * i);
        memcpy(&ms, &u, sizeof(ms));
        off = (int32_t)((uint32_t)p[8] | (uint32_t)p[9] << 8 |
                        (uint32_t)p[10] << 16 | (uint32_t)p[11] << 24);
        /* Keep the time within the years the calendar handles. */
        ms %= (int64_t)200 * 365 * 86400 * 1000;
        off %= 2 * LTRR_CALENDAR_OFFSET_MAX + 2;
        if (ltrr_calendar_lookup(cal, ms, off, region, &out) != LTRR_OK) {
                if (off >= -LTRR_CALENDAR_OFFSET_MAX &&
                    off <= LTRR_CALENDAR_OFFSET_MAX)
                        __builtin_trap();
                return;
        }
        fuzz_check_lt(&out.lt);
        if (out.weekend != ltrr_calendar_is_weekend(cal, out.lt.weekday) ||
            out.holiday != ltrr_calendar_is_holiday(cal, out.lt.day, region))
                __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        ltrr_calendar_t *cal = NULL;
        char errstr[256];
        size_t before;
        int32_t d;

        if (size > FUZZ_INPUT_MAX || !(cal = ltrr_calendar_new()))
                return 0;
        if (ltrr_calendar_parse(cal, fuzz_base, sizeof(fuzz_base) - 1, "base",
                                errstr, sizeof(errstr)) != LTRR_OK)
                __builtin_trap();
        before = ltrr_calendar_count(cal);
        if (ltrr_calendar_parse(cal, (const char *)data, size, "fuzz", errstr,
                                sizeof(errstr)) != LTRR_OK) {
                /* Unchanged: still Friday/Saturday weekends, 2 entries. */
                if (!memchr(errstr, '\0', sizeof(errstr)) ||
                    ltrr_calendar_count(cal) != before ||
                    !ltrr_calendar_is_weekend(cal, 4) ||
                    ltrr_calendar_is_weekend(cal, 6) ||
                    ltrr_calendar_days(2026, 12, 25, &d) != LTRR_OK ||
                    !ltrr_calendar_is_holiday(cal, d, NULL))
                        __builtin_trap();
        } else if (ltrr_calendar_count(cal) > LTRR_CALENDAR_MAX_DATES) {
                __builtin_trap();
        }
        if (size >= 12) {
                fuzz_lookup(cal, data + size - 12, NULL);
                fuzz_lookup(cal, data + size - 12, "us");
        }
        ltrr_calendar_destroy(cal);
        return 0;
}
