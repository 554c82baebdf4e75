/*
 * ltrr - holiday and weekend calendar, and local time from a fixed offset.
 *
 * A calendar is a sorted list of public-holiday dates, each for every
 * region or for one region, plus the set of weekend days. It is loaded
 * from a small text file (see docs/FEATURES.md, "Calendar file"):
 *
 *   # comment lines and blank lines are ignored
 *   weekend sat sun          optional; default Saturday and Sunday
 *   2026-12-25               a holiday in every region
 *   2026-07-04 us            a holiday in region "us" only
 *   2026-10-03 de  # text    a trailing comment is allowed
 *
 * Local time comes from a fixed UTC offset in minutes (per request or per
 * config), never from the system time zone database: the result depends
 * on the inputs only, so a decision replays identically on any machine.
 * Daylight saving time is the caller's business (it sends the offset in
 * force). See docs/decisions/0017-features.md.
 */
#ifndef LTRR_CALENDAR_H
#define LTRR_CALENDAR_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/** Most holiday entries in one calendar; a longer file is refused. */
#define LTRR_CALENDAR_MAX_DATES 8192
/** Most distinct region names in one calendar. */
#define LTRR_CALENDAR_MAX_REGIONS 64
/** Longest region name in bytes, excluding the NUL. */
#define LTRR_CALENDAR_REGION_MAX 15
/** Longest line in a calendar file, in bytes, excluding the newline. */
#define LTRR_CALENDAR_LINE_MAX 255
/** Largest calendar file read, in bytes. */
#define LTRR_CALENDAR_FILE_MAX (1024 * 1024)
/** Largest accepted UTC offset magnitude in minutes (UTC-14 .. UTC+14). */
#define LTRR_CALENDAR_OFFSET_MAX (14 * 60)
/** First and last year a date may have. */
#define LTRR_CALENDAR_YEAR_MIN 1900
#define LTRR_CALENDAR_YEAR_MAX 2199

/** Opaque calendar handle (short name: cal). */
typedef struct ltrr_calendar_s ltrr_calendar_t;

/** @brief A local date and time, as computed by ltrr_calendar_localtime(). */
typedef struct ltrr_localtime_s {
        int32_t day;  /**< days since 1970-01-01 in local time */
        int32_t year; /**< e.g. 2026 */
        int month;    /**< 1..12 */
        int mday;     /**< 1..31 */
        int hour;     /**< 0..23 */
        int minute;   /**< 0..59 */
        int weekday;  /**< 0 = Monday .. 6 = Sunday */
} ltrr_localtime_t;

/** @brief What the calendar says about one local day. */
typedef struct ltrr_calendar_day_s {
        ltrr_localtime_t lt; /**< the local date and time */
        int weekend;         /**< 1 if lt.weekday is a weekend day */
        int holiday;         /**< 1 if the date is a holiday for the region */
} ltrr_calendar_day_t;

/**
 * @brief Creates an empty calendar: no holidays, weekend Saturday and
 * Sunday.
 * @returns the handle, or NULL if memory ran out.
 */
ltrr_calendar_t *ltrr_calendar_new(void);

/** @brief Frees @p cal; NULL is a no-op. */
void ltrr_calendar_destroy(ltrr_calendar_t *cal);

/**
 * @brief Replaces the calendar's content with the file at @p path.
 * @returns LTRR_OK; LTRR_ERR_IO if the file cannot be read; LTRR_ERR_RANGE
 *          if it exceeds LTRR_CALENDAR_FILE_MAX; otherwise as
 *          ltrr_calendar_parse(). The reason, with "path:line:" for
 *          content errors, goes to @p errstr.
 * @remark On error @p cal is left unchanged.
 */
ltrr_err_t ltrr_calendar_load(ltrr_calendar_t *cal, const char *path,
                              char *errstr, size_t errstr_size);

/**
 * @brief Replaces the calendar's content with the text @p buf.
 * @param name used as the source name in error messages ("name:line: ...").
 * @returns LTRR_OK; LTRR_ERR_PARSE for a malformed line (bad or impossible
 *          date, bad region, unknown weekday, over-long line);
 *          LTRR_ERR_NOSPACE past LTRR_CALENDAR_MAX_DATES entries or
 *          LTRR_CALENDAR_MAX_REGIONS regions; LTRR_ERR_NOMEM.
 * @remark On error @p cal is left unchanged. Duplicate entries are kept
 *         once. Region names are compared case-insensitively.
 */
ltrr_err_t ltrr_calendar_parse(ltrr_calendar_t *cal, const char *buf,
                               size_t len, const char *name, char *errstr,
                               size_t errstr_size);

/** @brief Number of distinct holiday entries loaded. */
size_t ltrr_calendar_count(const ltrr_calendar_t *cal);

/**
 * @brief 1 if local day @p day (days since 1970-01-01) is a holiday for
 * @p region: an entry without region, or one whose region equals
 * @p region. With @p region NULL or "", only entries without region
 * count. Allocation-free; O(log n).
 */
int ltrr_calendar_is_holiday(const ltrr_calendar_t *cal, int32_t day,
                             const char *region);

/** @brief 1 if @p weekday (0 = Monday .. 6 = Sunday) is a weekend day. */
int ltrr_calendar_is_weekend(const ltrr_calendar_t *cal, int weekday);

/**
 * @brief Converts epoch milliseconds (UTC) to local time at a fixed offset.
 * @param offset_min minutes east of UTC, within +-LTRR_CALENDAR_OFFSET_MAX.
 * @returns LTRR_OK or LTRR_ERR_RANGE for an offset out of bounds.
 */
ltrr_err_t ltrr_calendar_localtime(int64_t epoch_ms, int32_t offset_min,
                                   ltrr_localtime_t *lt);

/**
 * @brief ltrr_calendar_localtime() plus the weekend and holiday flags.
 * @param cal may be NULL: weekend Saturday and Sunday, no holidays.
 * @returns LTRR_OK or LTRR_ERR_RANGE for an offset out of bounds.
 */
ltrr_err_t ltrr_calendar_lookup(const ltrr_calendar_t *cal, int64_t epoch_ms,
                                int32_t offset_min, const char *region,
                                ltrr_calendar_day_t *out);

/**
 * @brief Days since 1970-01-01 of a proleptic Gregorian date.
 * @returns LTRR_OK or LTRR_ERR_RANGE when the date does not exist or the
 *          year is outside LTRR_CALENDAR_YEAR_MIN..MAX.
 */
ltrr_err_t ltrr_calendar_days(int32_t year, int month, int mday, int32_t *day);

#endif /* LTRR_CALENDAR_H */
