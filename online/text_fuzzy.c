/*
 * ltrr - text analysis, the fuzzy side: character n-gram hashes and the
 * bounded optimal-string-alignment distance. Both work on code points and
 * keep all state on the stack, so they are thread-safe.
 */
#include "text.h"

#include <string.h>
#include <utf8proc.h>

#define FNV32_OFFSET 2166136261u
#define FNV32_PRIME  16777619u

/* Longest token, in code points, that ltrr_text_ngrams() pads; a folded
 * token never has more code points than bytes. */
#define NGRAM_CPS_MAX (LTRR_TEXT_TOKEN_BYTES_MAX * 4 + 2)

uint32_t ltrr_text_hash32(const void *data, size_t len)
{
        const unsigned char *p = data;
        uint32_t h = FNV32_OFFSET;
        size_t i;

        for (i = 0; i < len; i++) {
                h ^= p[i];
                h *= FNV32_PRIME;
        }
        return h;
}

/* Decodes @len bytes of UTF-8 into @cps (capacity @cap). Returns the code
 * point count, -1 on invalid UTF-8, -2 when @cap is too small. */
static int text_decode(const char *s, size_t len, int32_t *cps, size_t cap)
{
        const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
        size_t off = 0, n = 0;

        while (off < len) {
                utf8proc_int32_t cp;
                utf8proc_ssize_t r = utf8proc_iterate(
                    p + off, (utf8proc_ssize_t)(len - off), &cp);

                if (r <= 0)
                        return -1;
                if (n == cap)
                        return -2;
                cps[n++] = cp;
                off += (size_t)r;
        }
        return (int)n;
}

/* Hashes the UTF-8 encoding of @n code points at @cps. */
static uint32_t text_hash_cps(const int32_t *cps, unsigned n)
{
        unsigned char buf[8 * 4];
        size_t blen = 0;
        unsigned i;

        for (i = 0; i < n; i++)
                blen += (size_t)utf8proc_encode_char(cps[i], buf + blen);
        return ltrr_text_hash32(buf, blen);
}

ltrr_err_t ltrr_text_ngrams(const char *tok, size_t len, unsigned n,
                            uint32_t *out, size_t cap, size_t *cntp)
{
        int32_t cps[NGRAM_CPS_MAX];
        size_t i, total, cnt = 0;
        int nc;

        if (cntp)
                *cntp = 0;
        if (!tok || !out || !cntp || n < 2 || n > 8)
                return LTRR_ERR_INVALID_ARG;
        if (len == 0)
                return LTRR_OK;
        cps[0] = ' ';
        nc = text_decode(tok, len, cps + 1, NGRAM_CPS_MAX - 2);
        if (nc == -1)
                return LTRR_ERR_PARSE;
        if (nc < 0)
                return LTRR_ERR_RANGE;
        cps[nc + 1] = ' ';
        total = (size_t)nc + 2;
        if (total < n) {
                if (cap == 0)
                        return LTRR_ERR_NOSPACE;
                out[0] = text_hash_cps(cps, (unsigned)total);
                *cntp = 1;
                return LTRR_OK;
        }
        for (i = 0; i + n <= total; i++) {
                if (cnt == cap) {
                        *cntp = cnt;
                        return LTRR_ERR_NOSPACE;
                }
                out[cnt++] = text_hash_cps(cps + i, n);
        }
        *cntp = cnt;
        return LTRR_OK;
}

static unsigned min3(unsigned a, unsigned b, unsigned c)
{
        unsigned m = a < b ? a : b;

        return m < c ? m : c;
}

/* Optimal string alignment on code point arrays, three rolling rows.
 * Stops when a whole row exceeds @max: a transposition reaches row i from
 * row i-2, but any cell it could use implies a cell <= max in row i-1, so
 * a row above max bounds every later row. */
static unsigned text_osa(const int32_t *a, unsigned la, const int32_t *b,
                         unsigned lb, unsigned max)
{
        unsigned rows[3][LTRR_TEXT_DIST_CPS_MAX + 1];
        unsigned *pp = rows[0], *p = rows[1], *c = rows[2], *t;
        unsigned i, j;

        for (j = 0; j <= lb; j++)
                p[j] = j;
        for (i = 1; i <= la; i++) {
                unsigned rowmin;

                c[0] = i;
                rowmin = c[0];
                for (j = 1; j <= lb; j++) {
                        unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
                        unsigned v =
                            min3(p[j] + 1, c[j - 1] + 1, p[j - 1] + cost);

                        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                            a[i - 2] == b[j - 1] && pp[j - 2] + 1 < v)
                                v = pp[j - 2] + 1;
                        c[j] = v;
                        if (v < rowmin)
                                rowmin = v;
                }
                if (rowmin > max)
                        return max + 1;
                t = pp;
                pp = p;
                p = c;
                c = t;
        }
        return p[lb] > max ? max + 1 : p[lb];
}

ltrr_err_t ltrr_text_distance(const char *a, size_t alen, const char *b,
                              size_t blen, unsigned max, unsigned *distp)
{
        int32_t ca[LTRR_TEXT_DIST_CPS_MAX], cb[LTRR_TEXT_DIST_CPS_MAX];
        int na, nb;
        unsigned diff;

        if (!distp || (!a && alen) || (!b && blen))
                return LTRR_ERR_INVALID_ARG;
        na = text_decode(a, alen, ca, LTRR_TEXT_DIST_CPS_MAX);
        nb = text_decode(b, blen, cb, LTRR_TEXT_DIST_CPS_MAX);
        if (na == -1 || nb == -1)
                return LTRR_ERR_PARSE;
        if (na < 0 || nb < 0)
                return LTRR_ERR_RANGE;
        if (max > LTRR_TEXT_DIST_CPS_MAX)
                max = LTRR_TEXT_DIST_CPS_MAX;
        diff = na > nb ? (unsigned)(na - nb) : (unsigned)(nb - na);
        if (diff > max) {
                *distp = max + 1;
                return LTRR_OK;
        }
        *distp = text_osa(ca, (unsigned)na, cb, (unsigned)nb, max);
        return LTRR_OK;
}
