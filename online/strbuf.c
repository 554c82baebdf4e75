/*
 * ltrr - bounded string builder.
 */
#include "strbuf.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ltrr_strbuf_init(ltrr_strbuf_t *sb, size_t max)
{
        sb->buf = NULL;
        sb->len = 0;
        sb->cap = 0;
        sb->max = max ? max : LTRR_STRBUF_MAX_DEFAULT;
        sb->err = LTRR_OK;
        sb->fixed = 0;
}

void ltrr_strbuf_init_fixed(ltrr_strbuf_t *sb, char *buf, size_t size)
{
        memset(sb, 0, sizeof(*sb));
        sb->buf = buf;
        sb->cap = sb->max = size;
        sb->fixed = 1;
        buf[0] = '\0';
}

void ltrr_strbuf_clear(ltrr_strbuf_t *sb)
{
        if (!sb)
                return;
        if (sb->fixed) {
                ltrr_strbuf_reset(sb);
                return;
        }
        free(sb->buf);
        ltrr_strbuf_init(sb, sb->max);
}

void ltrr_strbuf_reset(ltrr_strbuf_t *sb)
{
        sb->len = 0;
        sb->err = LTRR_OK;
        if (sb->buf)
                sb->buf[0] = '\0';
}

/* Makes room for @p extra more bytes plus the NUL, doubling the buffer.
 * On failure records the sticky error and leaves the text unchanged. */
static ltrr_err_t strbuf_reserve(ltrr_strbuf_t *sb, size_t extra)
{
        size_t need, cap;
        char *p;

        if (sb->err)
                return sb->err;
        if (extra >= sb->max || sb->len + 1 > sb->max - extra)
                return sb->err = LTRR_ERR_NOSPACE;
        need = sb->len + extra + 1;
        if (need <= sb->cap)
                return LTRR_OK;
        if (sb->fixed)
                return sb->err = LTRR_ERR_NOSPACE;
        cap = sb->cap ? sb->cap : 256;
        while (cap < need)
                cap *= 2;
        if (cap > sb->max)
                cap = sb->max;
        p = realloc(sb->buf, cap);
        if (!p)
                return sb->err = LTRR_ERR_NOMEM;
        sb->buf = p;
        sb->cap = cap;
        return LTRR_OK;
}

ltrr_err_t ltrr_strbuf_append(ltrr_strbuf_t *sb, const char *s, size_t n)
{
        ltrr_err_t err = strbuf_reserve(sb, n);

        if (err)
                return err;
        memcpy(sb->buf + sb->len, s, n);
        sb->len += n;
        sb->buf[sb->len] = '\0';
        return LTRR_OK;
}

ltrr_err_t ltrr_strbuf_puts(ltrr_strbuf_t *sb, const char *s)
{
        return ltrr_strbuf_append(sb, s, strlen(s));
}

ltrr_err_t ltrr_strbuf_putc(ltrr_strbuf_t *sb, char c)
{
        return ltrr_strbuf_append(sb, &c, 1);
}

/* Formats straight into the buffer: one vsnprintf to measure, a second
 * one into reserved space when the first did not fit. */
ltrr_err_t ltrr_strbuf_printf(ltrr_strbuf_t *sb, const char *fmt, ...)
{
        va_list ap;
        ltrr_err_t err;
        int n;

        if (sb->err)
                return sb->err;
        va_start(ap, fmt);
        n = vsnprintf(sb->buf ? sb->buf + sb->len : NULL,
                      sb->buf ? sb->cap - sb->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
                return sb->err = LTRR_ERR_INVALID_ARG;
        if (sb->buf && (size_t)n < sb->cap - sb->len) {
                sb->len += (size_t)n;
                return LTRR_OK;
        }
        if ((err = strbuf_reserve(sb, (size_t)n))) {
                if (sb->buf)
                        sb->buf[sb->len] = '\0';
                return err;
        }
        va_start(ap, fmt);
        vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
        va_end(ap);
        sb->len += (size_t)n;
        return LTRR_OK;
}

const char *ltrr_strbuf_str(const ltrr_strbuf_t *sb)
{
        return sb->buf ? sb->buf : "";
}

ltrr_err_t ltrr_strbuf_err(const ltrr_strbuf_t *sb)
{
        return sb->err;
}

/* Length of the valid UTF-8 sequence at @p s (1..4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s)
{
        size_t n, i;
        uint32_t c;

        if (s[0] < 0xc2 || s[0] > 0xf4)
                return 0;
        n = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
        c = s[0] & (0x7fu >> n);
        for (i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                c = (c << 6) | (s[i] & 0x3fu);
        }
        /* overlong, surrogate or past U+10FFFF */
        if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
            (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
                return 0;
        return n;
}

ltrr_err_t ltrr_strbuf_json_str(ltrr_strbuf_t *sb, const char *s)
{
        const unsigned char *p = (const unsigned char *)s, *run;
        char esc[8];
        size_t n;

        if (!s)
                return ltrr_strbuf_append(sb, "null", 4);
        ltrr_strbuf_putc(sb, '"');
        while (*p) {
                for (run = p;
                     *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\'; p++)
                        ;
                ltrr_strbuf_append(sb, (const char *)run, (size_t)(p - run));
                if (!*p)
                        break;
                if (*p >= 0x80) {
                        if ((n = utf8_seq(p)) == 0) {
                                ltrr_strbuf_append(sb, "\\ufffd", 6);
                                n = 1;
                        } else {
                                ltrr_strbuf_append(sb, (const char *)p, n);
                        }
                        p += n;
                        continue;
                }
                if (*p == '"' || *p == '\\') {
                        esc[0] = '\\';
                        esc[1] = (char)*p;
                        ltrr_strbuf_append(sb, esc, 2);
                } else if (*p == '\n') {
                        ltrr_strbuf_append(sb, "\\n", 2);
                } else if (*p == '\t') {
                        ltrr_strbuf_append(sb, "\\t", 2);
                } else {
                        snprintf(esc, sizeof(esc), "\\u%04x", *p);
                        ltrr_strbuf_append(sb, esc, 6);
                }
                p++;
        }
        return ltrr_strbuf_putc(sb, '"');
}

ltrr_err_t ltrr_strbuf_json_num(ltrr_strbuf_t *sb, double v)
{
        char num[40];
        int n;

        if (!isfinite(v))
                return ltrr_strbuf_append(sb, "null", 4);
        n = snprintf(num, sizeof(num), "%.17g", v);
        if (n < 0 || (size_t)n >= sizeof(num) - 2)
                return ltrr_strbuf_append(sb, "null", 4);
        if (!strpbrk(num, ".eE")) {
                num[n++] = '.';
                num[n++] = '0';
        }
        return ltrr_strbuf_append(sb, num, (size_t)n);
}
