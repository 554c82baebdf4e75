/*
 * ltrr - bounded string builder.
 */
#include "strbuf.h"

#include <stdarg.h>
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
}

void ltrr_strbuf_clear(ltrr_strbuf_t *sb)
{
        if (!sb)
                return;
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
