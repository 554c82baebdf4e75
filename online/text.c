/*
 * ltrr - text analysis: UTF-8 check, NFKC + case folding, accent folding,
 * tokenization and Snowball stemming. The n-gram and distance functions
 * are in text_fuzzy.c.
 */
#include "text.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <libstemmer.h>
#include <utf8proc.h>

/* Bytes of UTF-8 for U+FFFD, written in place of each invalid byte. */
static const char text_replacement[] = "\xEF\xBF\xBD";

struct ltrr_analyzer_s {
        struct sb_stemmer *stemmer;                /* NULL: no stemming */
        char lang[LTRR_TEXT_LANG_MAX + 1];         /* normalized code */
        char in[LTRR_TEXT_INPUT_MAX];              /* checked input bytes */
        utf8proc_int32_t cps[LTRR_TEXT_INPUT_MAX]; /* folded code points */
        ltrr_token_t toks[LTRR_TEXT_TOKENS_MAX];   /* normalize() scratch */
        char arena[LTRR_TEXT_ARENA_SIZE];          /* normalize() scratch */
};

/* Word being built by the tokenizer. */
struct text_word {
        char buf[LTRR_TEXT_TOKEN_BYTES_MAX + 1]; /* folded bytes + NUL */
        size_t len;                              /* bytes in buf */
        int clipped;                             /* stopped appending */
        int active;                              /* inside a word */
        uint16_t flags;                          /* LTRR_TOKEN_* */
};

/* Tokenizer state for one analysis. */
struct text_run {
        ltrr_analyzer_t *an;
        ltrr_tokbuf_t *tb;
        int stem; /* fill stems (analyze) or not (normalize) */
        int full; /* token array or arena ran out */
        ltrr_err_t err;
};

void ltrr_tokbuf_init(ltrr_tokbuf_t *tb, ltrr_token_t *toks, size_t cap,
                      char *arena, size_t arena_size)
{
        memset(tb, 0, sizeof(*tb));
        tb->toks = toks;
        tb->cap = cap;
        tb->arena = arena;
        tb->arena_size = arena_size;
}

/* Copies the primary subtag of @lang, lowercased, into @out. Returns 0,
 * or -1 if it is too long or holds anything but ASCII letters. */
static int text_lang_parse(const char *lang, char *out)
{
        size_t i;

        for (i = 0; lang[i] && lang[i] != '-' && lang[i] != '_'; i++) {
                if (i == LTRR_TEXT_LANG_MAX || !isalpha((unsigned char)lang[i]))
                        return -1;
                out[i] = (char)tolower((unsigned char)lang[i]);
        }
        out[i] = '\0';
        return 0;
}

ltrr_analyzer_t *ltrr_analyzer_new(const char *lang, char *errstr,
                                   size_t errstr_size)
{
        ltrr_analyzer_t *an = calloc(1, sizeof(*an));

        if (!an) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                          "analyzer: out of memory");
                return NULL;
        }
        if (lang && text_lang_parse(lang, an->lang) == -1) {
                ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                          "analyzer: malformed language code \"%.32s\"", lang);
                goto err;
        }
        /* sb_stemmer_new() returns NULL for a language it does not know:
         * such an analyzer folds but does not stem. */
        if (an->lang[0])
                an->stemmer = sb_stemmer_new(an->lang, "UTF_8");
        return an;
err:
        ltrr_analyzer_destroy(an);
        return NULL;
}

void ltrr_analyzer_destroy(ltrr_analyzer_t *an)
{
        if (!an)
                return;
        if (an->stemmer)
                sb_stemmer_delete(an->stemmer);
        free(an);
}

int ltrr_analyzer_stems(const ltrr_analyzer_t *an)
{
        return an && an->stemmer ? 1 : 0;
}

/* Copies up to LTRR_TEXT_INPUT_MAX bytes of @text into an->in, each
 * invalid byte replaced by U+FFFD. Sets *invalidp to the number replaced
 * and *cutp when input was left over. Returns the bytes written. */
static size_t text_check(ltrr_analyzer_t *an, const char *text, size_t len,
                         size_t *invalidp, int *cutp)
{
        const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)text;
        size_t off = 0, n = 0;

        while (off < len) {
                utf8proc_int32_t cp;
                utf8proc_ssize_t r;
                const char *src;
                size_t k;

                if (p[off] < 0x80) {
                        r = 1;
                } else {
                        r = utf8proc_iterate(
                            p + off, (utf8proc_ssize_t)(len - off), &cp);
                }
                src = r > 0 ? text + off : text_replacement;
                k = r > 0 ? (size_t)r : sizeof(text_replacement) - 1;
                if (n + k > sizeof(an->in)) {
                        *cutp = 1;
                        break;
                }
                memcpy(an->in + n, src, k);
                n += k;
                if (r <= 0)
                        (*invalidp)++;
                off += r > 0 ? (size_t)r : 1;
        }
        return n;
}

/* Maps the acute accent used as an apostrophe ("don´t") to U+2019 before
 * NFKC would turn it into a space and a mark. */
static utf8proc_int32_t text_custom(utf8proc_int32_t cp, void *data)
{
        return cp == 0x00B4 ? 0x2019 : cp;
}

/* Generic combining diacritical marks: removed by accent folding. Marks
 * of other blocks (Indic vowel signs, kana voicing) carry meaning and
 * stay. */
static int text_is_diacritic(utf8proc_int32_t cp)
{
        return (cp >= 0x0300 && cp <= 0x036F) ||
               (cp >= 0x1AB0 && cp <= 0x1AFF) ||
               (cp >= 0x1DC0 && cp <= 0x1DFF) ||
               (cp >= 0x20D0 && cp <= 0x20FF) || (cp >= 0xFE20 && cp <= 0xFE2F);
}

/* Decomposes (NFKD + case fold) the @n checked bytes of an->in into
 * an->cps, drops diacritics and composes again (NFKC). If the result does
 * not fit, the input is halved at a code point boundary and *cutp set.
 * Returns the number of code points. */
static size_t text_fold(ltrr_analyzer_t *an, size_t n, int *cutp)
{
        const utf8proc_option_t opt = UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT |
                                      UTF8PROC_CASEFOLD | UTF8PROC_IGNORE;
        utf8proc_ssize_t r;
        size_t i, k = 0;

        for (;;) {
                r = utf8proc_decompose_custom(
                    (const utf8proc_uint8_t *)an->in, (utf8proc_ssize_t)n,
                    an->cps, LTRR_TEXT_INPUT_MAX, opt, text_custom, NULL);
                if (r >= 0 && r <= LTRR_TEXT_INPUT_MAX)
                        break;
                if (r < 0 || n == 0)
                        return 0; /* not reached: input was checked */
                n /= 2;
                while (n > 0 && ((unsigned char)an->in[n] & 0xC0) == 0x80)
                        n--;
                *cutp = 1;
        }
        for (i = 0; i < (size_t)r; i++)
                if (!text_is_diacritic(an->cps[i]))
                        an->cps[k++] = an->cps[i];
        r = utf8proc_normalize_utf32(an->cps, (utf8proc_ssize_t)k,
                                     UTF8PROC_COMPOSE);
        return r > 0 ? (size_t)r : 0;
}

/* Letters that have no canonical decomposition but are folded like
 * accented ones; NULL when @cp is not one of them. */
static const char *text_letter_fold(utf8proc_int32_t cp)
{
        switch (cp) {
        case 0x00E6:
                return "ae"; /* æ */
        case 0x00F0:
                return "d"; /* ð */
        case 0x00F8:
                return "o"; /* ø */
        case 0x00FE:
                return "th"; /* þ */
        case 0x0111:
                return "d"; /* đ */
        case 0x0127:
                return "h"; /* ħ */
        case 0x0131:
                return "i"; /* dotless ı */
        case 0x0142:
                return "l"; /* ł */
        case 0x0153:
                return "oe"; /* œ */
        case 0x0167:
                return "t"; /* ŧ */
        default:
                return NULL;
        }
}

static int text_is_apostrophe(utf8proc_int32_t cp)
{
        return cp == 0x0027 || cp == 0x0060 || cp == 0x02BC || cp == 0x2018 ||
               cp == 0x2019;
}

/* Han ideographs and kana: no spaces between words, one token each. */
static int text_is_cjk(utf8proc_int32_t cp)
{
        return (cp >= 0x3005 && cp <= 0x3007) ||
               (cp >= 0x3040 && cp <= 0x30FF) ||
               (cp >= 0x31F0 && cp <= 0x31FF) ||
               (cp >= 0x3400 && cp <= 0x4DBF) ||
               (cp >= 0x4E00 && cp <= 0x9FFF) ||
               (cp >= 0xF900 && cp <= 0xFAFF) ||
               (cp >= 0x20000 && cp <= 0x3134F);
}

enum text_class { TC_SEP, TC_WORD, TC_MARK, TC_DIGIT, TC_CJK, TC_APOS };

static enum text_class text_classify(utf8proc_int32_t cp)
{
        utf8proc_category_t cat;

        if (text_is_apostrophe(cp))
                return TC_APOS;
        cat = utf8proc_category(cp);
        switch (cat) {
        case UTF8PROC_CATEGORY_LU:
        case UTF8PROC_CATEGORY_LL:
        case UTF8PROC_CATEGORY_LT:
        case UTF8PROC_CATEGORY_LM:
        case UTF8PROC_CATEGORY_LO:
        case UTF8PROC_CATEGORY_NL:
                return text_is_cjk(cp) ? TC_CJK : TC_WORD;
        case UTF8PROC_CATEGORY_ND:
        case UTF8PROC_CATEGORY_NO:
                return TC_DIGIT;
        case UTF8PROC_CATEGORY_MN:
        case UTF8PROC_CATEGORY_MC:
        case UTF8PROC_CATEGORY_ME:
                return TC_MARK;
        default:
                return TC_SEP;
        }
}

/* An apostrophe is dropped when a letter or digit follows it. */
static int text_joins(enum text_class c)
{
        return c == TC_WORD || c == TC_DIGIT;
}

/* Appends the folded UTF-8 of @cp to @w; once a code point does not fit
 * in LTRR_TEXT_TOKEN_BYTES_MAX, the rest of the word is dropped so the
 * token is a prefix of the word. */
static void text_word_add(struct text_word *w, utf8proc_int32_t cp)
{
        utf8proc_uint8_t tmp[4];
        const char *s = text_letter_fold(cp);
        size_t k;

        w->active = 1;
        if (w->clipped)
                return;
        if (s) {
                k = strlen(s);
                memcpy(tmp, s, k);
        } else {
                k = (size_t)utf8proc_encode_char(cp, tmp);
        }
        if (w->len + k > LTRR_TEXT_TOKEN_BYTES_MAX) {
                w->clipped = 1;
                return;
        }
        memcpy(w->buf + w->len, tmp, k);
        w->len += k;
}

/* Copies @len bytes into the arena with a NUL; NULL when it is full. */
static const char *text_arena_put(ltrr_tokbuf_t *tb, const void *s, size_t len)
{
        char *dst;

        if (tb->arena_size - tb->arena_used < len + 1)
                return NULL;
        dst = tb->arena + tb->arena_used;
        memcpy(dst, s, len);
        dst[len] = '\0';
        tb->arena_used += len + 1;
        return dst;
}

/* Stems the token @t in place of its stem fields. Tokens with digits or
 * ideographs are left alone. Returns 0, 1 when the arena is full, or -1
 * when the stemmer runs out of memory. */
static int text_stem(struct text_run *run, ltrr_token_t *t)
{
        const sb_symbol *s;
        int slen;

        if (!run->stem || !run->an->stemmer ||
            (t->flags & (LTRR_TOKEN_NUMERIC | LTRR_TOKEN_CJK)))
                return 0;
        s = sb_stemmer_stem(run->an->stemmer, (const sb_symbol *)t->norm,
                            t->norm_len);
        if (!s)
                return -1;
        slen = sb_stemmer_length(run->an->stemmer);
        if (slen <= 0 || slen > UINT16_MAX ||
            ((size_t)slen == t->norm_len && !memcmp(s, t->norm, t->norm_len)))
                return 0;
        t->stem = text_arena_put(run->tb, s, (size_t)slen);
        if (!t->stem)
                return 1;
        t->stem_len = (uint16_t)slen;
        return 0;
}

/* Emits the word in @w as a token and resets @w. Sets run->full when the
 * token array or arena is exhausted (the token is not emitted). */
static void text_word_end(struct text_run *run, struct text_word *w)
{
        ltrr_tokbuf_t *tb = run->tb;
        size_t mark = tb->arena_used;
        ltrr_token_t *t;
        int r;

        if (!w->active || w->len == 0 || run->full || run->err)
                goto done;
        if (tb->cnt == tb->cap) {
                run->full = 1;
                goto done;
        }
        t = &tb->toks[tb->cnt];
        t->norm = text_arena_put(tb, w->buf, w->len);
        if (!t->norm) {
                run->full = 1;
                goto done;
        }
        t->norm_len = (uint16_t)w->len;
        t->stem = t->norm;
        t->stem_len = t->norm_len;
        t->pos = (uint16_t)tb->cnt;
        t->flags = w->flags;
        r = text_stem(run, t);
        if (r != 0) {
                tb->arena_used = mark;
                if (r < 0)
                        run->err = LTRR_ERR_NOMEM;
                else
                        run->full = 1;
                goto done;
        }
        tb->cnt++;
done:
        memset(w, 0, sizeof(*w));
}

/* Splits the @n folded code points in an->cps into tokens. When @cut is
 * set a word reaching the end may be partial and is not emitted. */
static void text_tokenize(struct text_run *run, size_t n, int cut)
{
        const utf8proc_int32_t *cps = run->an->cps;
        struct text_word w;
        size_t i;

        memset(&w, 0, sizeof(w));
        for (i = 0; i < n && !run->full && !run->err; i++) {
                switch (text_classify(cps[i])) {
                case TC_DIGIT:
                        w.flags |= LTRR_TOKEN_NUMERIC;
                        /* fall through */
                case TC_WORD:
                        text_word_add(&w, cps[i]);
                        break;
                case TC_MARK:
                        if (w.active)
                                text_word_add(&w, cps[i]);
                        break;
                case TC_CJK:
                        text_word_end(run, &w);
                        w.flags = LTRR_TOKEN_CJK;
                        text_word_add(&w, cps[i]);
                        text_word_end(run, &w);
                        break;
                case TC_APOS:
                        if (w.active && i + 1 < n &&
                            text_joins(text_classify(cps[i + 1])))
                                break; /* "don't" -> "dont" */
                        /* fall through */
                case TC_SEP:
                        text_word_end(run, &w);
                        break;
                }
        }
        if (w.active && cut && i == n)
                run->full = 1; /* partial last word: leave it out */
        else
                text_word_end(run, &w);
}

/* The one analysis path behind analyze() and normalize(). */
static ltrr_err_t text_run(ltrr_analyzer_t *an, const char *text, size_t len,
                           ltrr_tokbuf_t *tb, int stem, char *errstr,
                           size_t errstr_size)
{
        struct text_run run = {an, tb, stem, 0, LTRR_OK};
        int cut = 0;
        size_t n;

        tb->cnt = 0;
        tb->arena_used = 0;
        tb->truncated = 0;
        tb->invalid = 0;
        n = text_check(an, text, len, &tb->invalid, &cut);
        n = text_fold(an, n, &cut);
        text_tokenize(&run, n, cut);
        if (run.err)
                return ltrr_errf(run.err, errstr, errstr_size,
                                 "analyzer: stemmer out of memory");
        tb->truncated = cut || run.full;
        return LTRR_OK;
}

ltrr_err_t ltrr_analyzer_analyze(ltrr_analyzer_t *an, const char *text,
                                 size_t len, ltrr_tokbuf_t *tb, char *errstr,
                                 size_t errstr_size)
{
        if (!an || !tb || (!text && len) || !tb->toks || !tb->arena)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "analyzer: NULL argument or empty tokbuf");
        return text_run(an, text, len, tb, 1, errstr, errstr_size);
}

ltrr_err_t ltrr_analyzer_normalize(ltrr_analyzer_t *an, const char *text,
                                   size_t len, char *out, size_t out_size,
                                   int *truncatedp, char *errstr,
                                   size_t errstr_size)
{
        ltrr_tokbuf_t tb;
        ltrr_err_t err;
        size_t i, o = 0;

        if (truncatedp)
                *truncatedp = 0;
        if (!an || !out || out_size == 0 || (!text && len))
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "analyzer: NULL argument or empty output");
        out[0] = '\0';
        ltrr_tokbuf_init(&tb, an->toks, LTRR_TEXT_TOKENS_MAX, an->arena,
                         sizeof(an->arena));
        err = text_run(an, text, len, &tb, 0, errstr, errstr_size);
        if (err)
                return err;
        for (i = 0; i < tb.cnt; i++) {
                size_t need = tb.toks[i].norm_len + (i > 0 ? 1 : 0);

                if (o + need + 1 > out_size) {
                        tb.truncated = 1;
                        break;
                }
                if (i > 0)
                        out[o++] = ' ';
                memcpy(out + o, tb.toks[i].norm, tb.toks[i].norm_len);
                o += tb.toks[i].norm_len;
        }
        out[o] = '\0';
        if (truncatedp)
                *truncatedp = tb.truncated;
        return LTRR_OK;
}
