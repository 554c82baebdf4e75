/*
 * ltrr - spelling correction of query words (spell.h).
 */
#include "spell.h"

#include <string.h>

#include <utf8proc.h>

#include "spell_words.h"

/* Code points substituted and inserted: a-z, 0-9 and the word's own. */
#define SPELL_ALPHA_MAX (36 + LTRR_SPELL_CPS_MAX)
/* Bytes of one candidate: every code point at its widest, one more. */
#define SPELL_BUF_MAX (4 * (LTRR_SPELL_CPS_MAX + 1) + 1)

/* The best term found so far. */
typedef struct spell_best_s {
        const ltrr_spell_words_hdr_t *words; /* the index's word section */
        char term[SPELL_BUF_MAX];
        size_t len;
        uint32_t df;
} spell_best_t;

/* Decodes @p s into @p cp; the code point count, 0 when the word is out
 * of range (length, invalid UTF-8, ideographs and other wide scripts). */
static size_t decode(const char *s, size_t len, int32_t *cp)
{
        size_t n = 0, off = 0;

        while (off < len) {
                utf8proc_int32_t c;
                utf8proc_ssize_t k = utf8proc_iterate(
                    (const utf8proc_uint8_t *)s + off,
                    (utf8proc_ssize_t)(len - off), &c);

                if (k <= 0 || c >= 0x2E80 || n == LTRR_SPELL_CPS_MAX)
                        return 0;
                cp[n++] = c;
                off += (size_t)k;
        }
        return n >= LTRR_SPELL_CPS_MIN ? n : 0;
}

/* Looks up the @p n code points of @p cp; keeps them when better. */
static void consider(const int32_t *cp, size_t n, spell_best_t *b)
{
        utf8proc_uint8_t buf[SPELL_BUF_MAX];
        size_t i, len = 0;
        uint32_t df;
        int cmp;

        for (i = 0; i < n; i++)
                len += (size_t)utf8proc_encode_char(cp[i], buf + len);
        if (!(df = ltrr_spell_words_find(b->words, (const char *)buf, len)) ||
            df < b->df)
                return;
        if (df == b->df) {
                cmp = memcmp(buf, b->term, len < b->len ? len : b->len);
                if (cmp > 0 || (cmp == 0 && len >= b->len))
                        return;
        }
        memcpy(b->term, buf, len);
        b->term[len] = '\0';
        b->len = len;
        b->df = df;
}

/* The alphabet of @p cp: a-z, 0-9, then its own code points not among
 * them, each once. */
static size_t alphabet(const int32_t *cp, size_t n, int32_t *al)
{
        size_t m = 0, i, j;

        for (i = 0; i < 26; i++)
                al[m++] = 'a' + (int32_t)i;
        for (i = 0; i < 10; i++)
                al[m++] = '0' + (int32_t)i;
        for (i = 0; i < n; i++) {
                for (j = 0; j < m && al[j] != cp[i]; j++)
                        ;
                if (j == m)
                        al[m++] = cp[i];
        }
        return m;
}

/* Deletions and transpositions of @p cp. */
static void edits_move(const int32_t *cp, size_t n, spell_best_t *b)
{
        int32_t w[LTRR_SPELL_CPS_MAX + 1];
        size_t i;

        for (i = 0; i < n; i++) {
                memcpy(w, cp, i * sizeof(*w));
                memcpy(w + i, cp + i + 1, (n - i - 1) * sizeof(*w));
                consider(w, n - 1, b);
        }
        memcpy(w, cp, n * sizeof(*w));
        for (i = 0; i + 1 < n; i++) {
                if (cp[i] == cp[i + 1])
                        continue;
                w[i] = cp[i + 1];
                w[i + 1] = cp[i];
                consider(w, n, b);
                w[i] = cp[i];
                w[i + 1] = cp[i + 1];
        }
}

/* Substitutions and insertions of the alphabet's code points. */
static void edits_letters(const int32_t *cp, size_t n, spell_best_t *b)
{
        int32_t w[LTRR_SPELL_CPS_MAX + 1], al[SPELL_ALPHA_MAX];
        size_t m = alphabet(cp, n, al), i, j;

        memcpy(w, cp, n * sizeof(*w));
        for (i = 0; i < n; i++) {
                for (j = 0; j < m; j++)
                        if (al[j] != cp[i]) {
                                w[i] = al[j];
                                consider(w, n, b);
                        }
                w[i] = cp[i];
        }
        for (i = 0; i <= n; i++) {
                memcpy(w, cp, i * sizeof(*w));
                memcpy(w + i + 1, cp + i, (n - i) * sizeof(*w));
                for (j = 0; j < m; j++) {
                        w[i] = al[j];
                        consider(w, n + 1, b);
                }
        }
}

size_t ltrr_spell_word(const ltrr_index_t *ix, const char *word, size_t len,
                       char *out, size_t cap)
{
        int32_t cp[LTRR_SPELL_CPS_MAX];
        spell_best_t b;
        size_t n;

        if (!word || !out || !cap || !(n = decode(word, len, cp)) ||
            !(b.words = ltrr_spell_words_get(ix)))
                return 0;
        b.len = 0;
        b.df = 0;
        edits_move(cp, n, &b);
        edits_letters(cp, n, &b);
        if (!b.df || b.len + 1 > cap)
                return 0;
        memcpy(out, b.term, b.len + 1);
        return b.len;
}

/* Appends @p len bytes of @p s to @p out at *@p offp; 0 when full. */
static int put(char *out, size_t cap, size_t *offp, const char *s,
               size_t len)
{
        if (*offp + len + 1 > cap)
                return 0;
        memcpy(out + *offp, s, len);
        *offp += len;
        out[*offp] = '\0';
        return 1;
}

/* Appends the correction of token @p t; 0 when it has none. */
static int put_corrected(const ltrr_index_t *ix, const ltrr_token_t *t,
                         char *out, size_t cap, size_t *offp)
{
        char term[SPELL_BUF_MAX];
        size_t len;

        if (!(len = ltrr_spell_word(ix, t->norm, t->norm_len, term,
                                    sizeof(term))))
                return 0;
        return put(out, cap, offp, term, len);
}

int ltrr_spell_query(const ltrr_index_t *ix, const ltrr_token_t *toks,
                     size_t n, uint32_t unknown, char *out, size_t cap)
{
        size_t i, off = 0;
        int ok = 1;

        if (!out || !cap)
                return 0;
        out[0] = '\0';
        if (!ix || !toks || !unknown ||
            __builtin_popcount(unknown) > LTRR_SPELL_WORDS_MAX)
                return 0;
        for (i = 0; ok && i < n; i++) {
                const ltrr_token_t *t = &toks[i];

                ok = !i || put(out, cap, &off, " ", 1);
                if (ok && i < 32 && ((unknown >> i) & 1))
                        ok = put_corrected(ix, t, out, cap, &off);
                else if (ok)
                        ok = put(out, cap, &off, t->norm, t->norm_len);
        }
        if (!ok)
                out[0] = '\0';
        return ok;
}
