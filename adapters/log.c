/*
 * ltrr - logfmt logging.
 */
#include "log.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static ltrr_log_level_t log_level = LTRR_LOG_INFO;
static int log_fd = 2;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void ltrr_log_set_level(ltrr_log_level_t level)
{
        log_level = level;
}

void ltrr_log_set_fd(int fd)
{
        log_fd = fd;
}

int ltrr_log_level_parse(const char *name)
{
        int i;

        for (i = 0; i < 4; i++)
                if (!strcasecmp(name, level_names[i]))
                        return i;
        return -1;
}

const char *ltrr_log_i64(char *buf, size_t size, long long v)
{
        snprintf(buf, size, "%lld", v);
        return buf;
}

/* A line under construction; overflow sets truncated and stops writing. */
struct line {
        char buf[LTRR_LOG_LINE_MAX];
        size_t len;
        int truncated;
};

static void line_putc(struct line *l, char c)
{
        /* Keep room for " truncated=true\n". */
        if (l->len + 17 >= sizeof(l->buf)) {
                l->truncated = 1;
                return;
        }
        l->buf[l->len++] = c;
}

static void line_puts(struct line *l, const char *s)
{
        while (*s && !l->truncated)
                line_putc(l, *s++);
}

static int needs_quotes(const char *s)
{
        if (!*s)
                return 1;
        for (; *s; s++)
                if (*s <= ' ' || *s == '"' || *s == '=' || *s == '\\')
                        return 1;
        return 0;
}

/* Writes a value, quoted and escaped when logfmt needs it. */
static void line_value(struct line *l, const char *v)
{
        if (!needs_quotes(v)) {
                line_puts(l, v);
                return;
        }
        line_putc(l, '"');
        for (; *v && !l->truncated; v++) {
                switch (*v) {
                case '"': line_puts(l, "\\\""); break;
                case '\\': line_puts(l, "\\\\"); break;
                case '\n': line_puts(l, "\\n"); break;
                case '\r': line_puts(l, "\\r"); break;
                case '\t': line_puts(l, "\\t"); break;
                default:
                        if ((unsigned char)*v < ' ')
                                line_putc(l, '?');
                        else
                                line_putc(l, *v);
                }
        }
        line_putc(l, '"');
}

static int is_secret_key(const char *k)
{
        static const char *const marks[] = {"password", "secret", "token",
                                            "api_key", "apikey", "sasl."};
        size_t i;

        for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
                if (strcasestr(k, marks[i]))
                        return 1;
        return 0;
}

static void line_timestamp(struct line *l)
{
        struct timeval tv;
        struct tm tm;
        char ts[64];

        gettimeofday(&tv, NULL);
        gmtime_r(&tv.tv_sec, &tm);
        snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000));
        line_puts(l, "ts=");
        line_puts(l, ts);
}

void ltrr_log_write(ltrr_log_level_t level, const char *component,
                    const char *msg, ...)
{
        struct line l;
        const char *k, *v;
        va_list ap;
        ssize_t r;

        if (level < log_level)
                return;
        l.len = 0;
        l.truncated = 0;
        line_timestamp(&l);
        line_puts(&l, " level=");
        line_puts(&l, level_names[level & 3]);
        line_puts(&l, " component=");
        line_value(&l, component ? component : "-");
        line_puts(&l, " msg=");
        line_value(&l, msg ? msg : "");

        va_start(ap, msg);
        while ((k = va_arg(ap, const char *)) != NULL) {
                v = va_arg(ap, const char *);
                line_putc(&l, ' ');
                line_puts(&l, k);
                line_putc(&l, '=');
                line_value(&l, !v ? "" : is_secret_key(k) ? "[redacted]" : v);
        }
        va_end(ap);

        if (l.truncated) {
                memcpy(l.buf + l.len, " truncated=true", 15);
                l.len += 15;
        }
        l.buf[l.len++] = '\n';
        r = write(log_fd, l.buf, l.len);
        (void)r; /* Nowhere left to report a failed log write. */
}
