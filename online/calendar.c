/*
 * ltrr - holiday and weekend calendar, and local time from a fixed offset.
 *
 * Entries are kept sorted by (day, region index) in one array, so a lookup
 * is a binary search for the day followed by a scan of that day's few
 * entries. Region index 0 means "every region".
 */
#include "calendar.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cal_entry_s {
        int32_t day;     /* days since 1970-01-01 */
        uint16_t region; /* 0: every region, else regions[region - 1] */
} cal_entry_t;

struct ltrr_calendar_s {
        cal_entry_t *entries; /* cnt sorted, unique entries */
        size_t cnt;           /* entries in use */
        size_t n_regions;     /* names in regions[] */
        char regions[LTRR_CALENDAR_MAX_REGIONS]
                    [LTRR_CALENDAR_REGION_MAX + 1]; /* lower case */
        uint8_t weekend; /* bit d set: weekday d is a weekend day */
};

/* Saturday (5) and Sunday (6). */
#define CAL_DEFAULT_WEEKEND ((1u << 5) | (1u << 6))

static const char *const cal_daynames[7] = {"mon", "tue", "wed", "thu",
                                            "fri", "sat", "sun"};

ltrr_calendar_t *ltrr_calendar_new(void)
{
        ltrr_calendar_t *cal = calloc(1, sizeof(*cal));

        if (cal)
                cal->weekend = CAL_DEFAULT_WEEKEND;
        return cal;
}

void ltrr_calendar_destroy(ltrr_calendar_t *cal)
{
        if (!cal)
                return;
        free(cal->entries);
        free(cal);
}

size_t ltrr_calendar_count(const ltrr_calendar_t *cal)
{
        return cal ? cal->cnt : 0;
}

static int cal_is_leap(int32_t y)
{
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int cal_month_days(int32_t y, int m)
{
        static const int mdays[12] = {31, 28, 31, 30, 31, 30,
                                      31, 31, 30, 31, 30, 31};

        return m == 2 && cal_is_leap(y) ? 29 : mdays[m - 1];
}

/* Days since 1970-01-01, counting years from March so that the leap day
 * is the last day of the shifted year. */
static int32_t cal_days_from_civil(int32_t y, int m, int d)
{
        int32_t era, yoe, doy, doe;

        y -= m <= 2;
        era = (y >= 0 ? y : y - 399) / 400;
        yoe = y - era * 400;
        doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

/* Inverse of cal_days_from_civil(). */
static void cal_civil_from_days(int32_t z, int32_t *y, int *m, int *d)
{
        int32_t era, doe, yoe, doy, mp;

        z += 719468;
        era = (z >= 0 ? z : z - 146096) / 146097;
        doe = z - era * 146097;
        yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        mp = (5 * doy + 2) / 153;
        *d = (int)(doy - (153 * mp + 2) / 5 + 1);
        *m = (int)(mp < 10 ? mp + 3 : mp - 9);
        *y = yoe + era * 400 + (*m <= 2);
}

ltrr_err_t ltrr_calendar_days(int32_t year, int month, int mday, int32_t *day)
{
        if (year < LTRR_CALENDAR_YEAR_MIN || year > LTRR_CALENDAR_YEAR_MAX ||
            month < 1 || month > 12 || mday < 1 ||
            mday > cal_month_days(year, month))
                return LTRR_ERR_RANGE;
        *day = cal_days_from_civil(year, month, mday);
        return LTRR_OK;
}

/* Floor division for a positive divisor. */
static int64_t cal_floordiv(int64_t a, int64_t b)
{
        int64_t q = a / b;

        return (a % b != 0 && a < 0) ? q - 1 : q;
}

ltrr_err_t ltrr_calendar_localtime(int64_t epoch_ms, int32_t offset_min,
                                   ltrr_localtime_t *lt)
{
        int64_t secs, days, rem;

        if (offset_min < -LTRR_CALENDAR_OFFSET_MAX ||
            offset_min > LTRR_CALENDAR_OFFSET_MAX)
                return LTRR_ERR_RANGE;
        /* Whole seconds; +-2^53 ms covers every useful time. */
        secs = cal_floordiv(epoch_ms, 1000) + (int64_t)offset_min * 60;
        days = cal_floordiv(secs, 86400);
        if (days < INT32_MIN / 2 || days > INT32_MAX / 2)
                return LTRR_ERR_RANGE;
        rem = secs - days * 86400;
        lt->day = (int32_t)days;
        lt->hour = (int)(rem / 3600);
        lt->minute = (int)(rem % 3600 / 60);
        /* 1970-01-01 was a Thursday (3 with Monday = 0). */
        lt->weekday = (int)((days % 7 + 7 + 3) % 7);
        cal_civil_from_days(lt->day, &lt->year, &lt->month, &lt->mday);
        return LTRR_OK;
}

int ltrr_calendar_is_weekend(const ltrr_calendar_t *cal, int weekday)
{
        unsigned mask = cal ? cal->weekend : CAL_DEFAULT_WEEKEND;

        if (weekday < 0 || weekday > 6)
                return 0;
        return (mask >> weekday) & 1u;
}

/* ASCII lower-case comparison of a region name against a stored one. */
static int cal_region_eq(const char *stored, const char *s)
{
        size_t i;

        for (i = 0; stored[i] && s[i]; i++) {
                char c = s[i];

                if (c >= 'A' && c <= 'Z')
                        c = (char)(c - 'A' + 'a');
                if (c != stored[i])
                        return 0;
        }
        return stored[i] == s[i];
}

int ltrr_calendar_is_holiday(const ltrr_calendar_t *cal, int32_t day,
                             const char *region)
{
        size_t lo = 0, hi, i;

        if (!cal || cal->cnt == 0)
                return 0;
        hi = cal->cnt;
        while (lo < hi) { /* first entry with entries[i].day >= day */
                size_t mid = lo + (hi - lo) / 2;

                if (cal->entries[mid].day < day)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        for (i = lo; i < cal->cnt && cal->entries[i].day == day; i++) {
                uint16_t r = cal->entries[i].region;

                if (r == 0)
                        return 1;
                if (region && *region &&
                    cal_region_eq(cal->regions[r - 1], region))
                        return 1;
        }
        return 0;
}

ltrr_err_t ltrr_calendar_lookup(const ltrr_calendar_t *cal, int64_t epoch_ms,
                                int32_t offset_min, const char *region,
                                ltrr_calendar_day_t *out)
{
        ltrr_err_t err =
            ltrr_calendar_localtime(epoch_ms, offset_min, &out->lt);

        if (err != LTRR_OK)
                return err;
        out->weekend = ltrr_calendar_is_weekend(cal, out->lt.weekday);
        out->holiday = ltrr_calendar_is_holiday(cal, out->lt.day, region);
        return LTRR_OK;
}

/*
 * Parsing. A parse fills a scratch calendar; only a complete success is
 * moved into the caller's handle.
 */

typedef struct cal_parse_s {
        ltrr_calendar_t tmp; /* what is being built */
        size_t cap;          /* entries allocated in tmp.entries */
        const char *name;    /* source name for messages */
        size_t line;         /* 1-based current line */
        int weekend_seen;    /* a weekend line was read */
        char *errstr;        /* caller's buffer */
        size_t errstr_size;  /* its size */
} cal_parse_t;

static int cal_is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\r';
}

/* Splits the line @p s (NUL-terminated, comment removed) into at most
 * @p max words in place; returns the word count, or max + 1 when more. */
static size_t cal_split(char *s, char **words, size_t max)
{
        size_t n = 0;

        for (;;) {
                while (cal_is_space(*s))
                        s++;
                if (!*s)
                        return n;
                if (n == max)
                        return max + 1;
                words[n++] = s;
                while (*s && !cal_is_space(*s))
                        s++;
                if (*s)
                        *s++ = '\0';
        }
}

/* Parses exactly "YYYY-MM-DD" into a day number. */
static ltrr_err_t cal_parse_date(const char *s, int32_t *day)
{
        int32_t y = 0;
        int m, d, i;

        if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
                return LTRR_ERR_PARSE;
        for (i = 0; i < 10; i++)
                if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
                        return LTRR_ERR_PARSE;
        for (i = 0; i < 4; i++)
                y = y * 10 + (s[i] - '0');
        m = (s[5] - '0') * 10 + (s[6] - '0');
        d = (s[8] - '0') * 10 + (s[9] - '0');
        return ltrr_calendar_days(y, m, d, day);
}

/* Sets *idx to the 1-based index of region @p s, adding it if new.
 * Fails when the name is malformed or the region table is full. */
static ltrr_err_t cal_region_index(cal_parse_t *ps, const char *s,
                                   uint16_t *idx)
{
        ltrr_calendar_t *t = &ps->tmp;
        size_t i, len = strlen(s);

        if (len > LTRR_CALENDAR_REGION_MAX)
                goto bad;
        for (i = 0; i < len; i++) {
                char c = s[i];

                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '-' || c == '_'))
                        goto bad;
        }
        for (i = 0; i < t->n_regions; i++)
                if (cal_region_eq(t->regions[i], s))
                        break;
        if (i == t->n_regions) {
                if (i == LTRR_CALENDAR_MAX_REGIONS)
                        return ltrr_errf(
                            LTRR_ERR_NOSPACE, ps->errstr, ps->errstr_size,
                            "%s:%zu: more than %d regions", ps->name, ps->line,
                            LTRR_CALENDAR_MAX_REGIONS);
                for (len = 0; s[len]; len++)
                        t->regions[i][len] =
                            (char)((s[len] >= 'A' && s[len] <= 'Z')
                                       ? s[len] - 'A' + 'a'
                                       : s[len]);
                t->regions[i][len] = '\0';
                t->n_regions++;
        }
        *idx = (uint16_t)(i + 1);
        return LTRR_OK;
bad:
        return ltrr_errf(LTRR_ERR_PARSE, ps->errstr, ps->errstr_size,
                         "%s:%zu: bad region '%.32s' (1-%d of [A-Za-z0-9_-])",
                         ps->name, ps->line, s, LTRR_CALENDAR_REGION_MAX);
}

/* Handles "weekend DAY...": the listed days replace the default. */
static ltrr_err_t cal_parse_weekend(cal_parse_t *ps, char **words, size_t n)
{
        uint8_t mask = 0;
        size_t i;
        int d;

        for (i = 1; i < n; i++) {
                for (d = 0; d < 7; d++)
                        if (strcmp(words[i], cal_daynames[d]) == 0)
                                break;
                if (d == 7)
                        return ltrr_errf(LTRR_ERR_PARSE, ps->errstr,
                                         ps->errstr_size,
                                         "%s:%zu: unknown weekday '%.16s' "
                                         "(mon..sun)",
                                         ps->name, ps->line, words[i]);
                mask |= (uint8_t)(1u << d);
        }
        if (n < 2)
                return ltrr_errf(LTRR_ERR_PARSE, ps->errstr, ps->errstr_size,
                                 "%s:%zu: weekend needs at least one day",
                                 ps->name, ps->line);
        if (ps->weekend_seen)
                return ltrr_errf(LTRR_ERR_PARSE, ps->errstr, ps->errstr_size,
                                 "%s:%zu: second weekend line", ps->name,
                                 ps->line);
        ps->weekend_seen = 1;
        ps->tmp.weekend = mask;
        return LTRR_OK;
}

/* Appends one entry, growing the array geometrically up to the cap. */
static ltrr_err_t cal_push(cal_parse_t *ps, int32_t day, uint16_t region)
{
        ltrr_calendar_t *t = &ps->tmp;

        if (t->cnt == LTRR_CALENDAR_MAX_DATES)
                return ltrr_errf(LTRR_ERR_NOSPACE, ps->errstr, ps->errstr_size,
                                 "%s:%zu: more than %d holiday entries",
                                 ps->name, ps->line, LTRR_CALENDAR_MAX_DATES);
        if (t->cnt == ps->cap) {
                size_t ncap = ps->cap ? ps->cap * 2 : 64;
                cal_entry_t *ne;

                if (ncap > LTRR_CALENDAR_MAX_DATES)
                        ncap = LTRR_CALENDAR_MAX_DATES;
                ne = realloc(t->entries, ncap * sizeof(*ne));
                if (!ne)
                        return ltrr_errf(LTRR_ERR_NOMEM, ps->errstr,
                                         ps->errstr_size,
                                         "out of memory for the calendar");
                t->entries = ne;
                ps->cap = ncap;
        }
        t->entries[t->cnt].day = day;
        t->entries[t->cnt].region = region;
        t->cnt++;
        return LTRR_OK;
}

/* Parses one line (NUL-terminated, no newline), modifying it in place. */
static ltrr_err_t cal_parse_line(cal_parse_t *ps, char *s)
{
        char *words[8], *hash = strchr(s, '#');
        size_t n;
        int32_t day;
        uint16_t region = 0;
        ltrr_err_t err;

        if (hash)
                *hash = '\0';
        n = cal_split(s, words, 8);
        if (n == 0)
                return LTRR_OK;
        if (n <= 8 && strcmp(words[0], "weekend") == 0)
                return cal_parse_weekend(ps, words, n);
        if (n > 2)
                return ltrr_errf(LTRR_ERR_PARSE, ps->errstr, ps->errstr_size,
                                 "%s:%zu: expected 'YYYY-MM-DD [region]' or "
                                 "'weekend DAY...'",
                                 ps->name, ps->line);
        if (cal_parse_date(words[0], &day) != LTRR_OK)
                return ltrr_errf(LTRR_ERR_PARSE, ps->errstr, ps->errstr_size,
                                 "%s:%zu: bad date '%.32s' (YYYY-MM-DD, "
                                 "years %d-%d)",
                                 ps->name, ps->line, words[0],
                                 LTRR_CALENDAR_YEAR_MIN,
                                 LTRR_CALENDAR_YEAR_MAX);
        if (n == 2 &&
            (err = cal_region_index(ps, words[1], &region)) != LTRR_OK)
                return err;
        return cal_push(ps, day, region);
}

static int cal_entry_cmp(const void *a, const void *b)
{
        const cal_entry_t *x = a, *y = b;

        if (x->day != y->day)
                return x->day < y->day ? -1 : 1;
        return (int)x->region - (int)y->region;
}

/* Sorts the scratch entries and drops duplicates. */
static void cal_sort_unique(ltrr_calendar_t *t)
{
        size_t i, out = 0;

        if (t->cnt == 0)
                return;
        qsort(t->entries, t->cnt, sizeof(*t->entries), cal_entry_cmp);
        for (i = 1; i < t->cnt; i++)
                if (cal_entry_cmp(&t->entries[i], &t->entries[out]) != 0)
                        t->entries[++out] = t->entries[i];
        t->cnt = out + 1;
}

/* Feeds the text line by line to cal_parse_line(). */
static ltrr_err_t cal_parse_text(cal_parse_t *ps, const char *buf, size_t len)
{
        char line[LTRR_CALENDAR_LINE_MAX + 1];
        size_t pos = 0;
        ltrr_err_t err;

        while (pos < len) {
                const char *nl = memchr(buf + pos, '\n', len - pos);
                size_t ll = nl ? (size_t)(nl - (buf + pos)) : len - pos;

                ps->line++;
                if (ll > LTRR_CALENDAR_LINE_MAX)
                        return ltrr_errf(
                            LTRR_ERR_PARSE, ps->errstr, ps->errstr_size,
                            "%s:%zu: line longer than %d bytes", ps->name,
                            ps->line, LTRR_CALENDAR_LINE_MAX);
                if (memchr(buf + pos, '\0', ll))
                        return ltrr_errf(
                            LTRR_ERR_PARSE, ps->errstr, ps->errstr_size,
                            "%s:%zu: NUL byte in line", ps->name, ps->line);
                memcpy(line, buf + pos, ll);
                line[ll] = '\0';
                if ((err = cal_parse_line(ps, line)) != LTRR_OK)
                        return err;
                pos += ll + 1;
        }
        return LTRR_OK;
}

ltrr_err_t ltrr_calendar_parse(ltrr_calendar_t *cal, const char *buf,
                               size_t len, const char *name, char *errstr,
                               size_t errstr_size)
{
        cal_parse_t ps;
        ltrr_err_t err;

        if (!cal || (!buf && len))
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "calendar or text missing");
        memset(&ps, 0, sizeof(ps));
        ps.tmp.weekend = CAL_DEFAULT_WEEKEND;
        ps.name = name ? name : "calendar";
        ps.errstr = errstr;
        ps.errstr_size = errstr_size;
        if ((err = cal_parse_text(&ps, buf, len)) != LTRR_OK)
                goto err;
        cal_sort_unique(&ps.tmp);
        free(cal->entries);
        *cal = ps.tmp;
        return LTRR_OK;
err:
        free(ps.tmp.entries);
        return err;
}

/* Reads the whole file at @p path into a new buffer (caller frees). */
static ltrr_err_t cal_read_file(const char *path, char **bufp, size_t *lenp,
                                char *errstr, size_t errstr_size)
{
        FILE *fp = fopen(path, "rb");
        char *buf = NULL;
        size_t len;
        ltrr_err_t err = LTRR_OK;

        if (!fp)
                return ltrr_errf(LTRR_ERR_IO, errstr, errstr_size, "%s: %s",
                                 path, strerror(errno));
        buf = malloc(LTRR_CALENDAR_FILE_MAX + 1);
        if (!buf) {
                err = ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                "%s: out of memory", path);
                goto done;
        }
        len = fread(buf, 1, LTRR_CALENDAR_FILE_MAX + 1, fp);
        if (ferror(fp)) {
                err = ltrr_errf(LTRR_ERR_IO, errstr, errstr_size,
                                "%s: read error", path);
                goto done;
        }
        if (len > LTRR_CALENDAR_FILE_MAX) {
                err = ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                "%s: larger than %d bytes", path,
                                LTRR_CALENDAR_FILE_MAX);
                goto done;
        }
        *bufp = buf;
        *lenp = len;
        buf = NULL;
done:
        free(buf);
        fclose(fp);
        return err;
}

ltrr_err_t ltrr_calendar_load(ltrr_calendar_t *cal, const char *path,
                              char *errstr, size_t errstr_size)
{
        char *buf = NULL;
        size_t len = 0;
        ltrr_err_t err;

        if (!cal || !path)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "calendar or path missing");
        err = cal_read_file(path, &buf, &len, errstr, errstr_size);
        if (err != LTRR_OK)
                return err;
        err = ltrr_calendar_parse(cal, buf, len, path, errstr, errstr_size);
        free(buf);
        return err;
}
