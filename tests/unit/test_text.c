/* Unit tests: text analysis, n-gram hashes and edit distance. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

#define BIG_TOKENS 4096

/* Token storage shared by the tests: the arena holds BIG_TOKENS tokens. */
static ltrr_token_t toks[BIG_TOKENS];
static char arena[BIG_TOKENS * 2 * (LTRR_TEXT_TOKEN_BYTES_MAX + 1)];

static ltrr_analyzer_t *new_an(const char *lang)
{
        char errstr[128];
        ltrr_analyzer_t *an = ltrr_analyzer_new(lang, errstr, sizeof(errstr));

        assert_non_null(an);
        return an;
}

/* Analyzes @text and returns its norms (or stems) joined by '|'. */
static const char *join(ltrr_analyzer_t *an, const char *text, size_t len,
                        int stems, ltrr_tokbuf_t *tb)
{
        static char out[65536];
        char errstr[128];
        size_t i, o = 0;

        ltrr_tokbuf_init(tb, toks, BIG_TOKENS, arena, sizeof(arena));
        assert_int_equal(
            ltrr_analyzer_analyze(an, text, len, tb, errstr, sizeof(errstr)),
            LTRR_OK);
        out[0] = '\0';
        for (i = 0; i < tb->cnt; i++) {
                const ltrr_token_t *t = &tb->toks[i];
                const char *s = stems ? t->stem : t->norm;
                size_t n = stems ? t->stem_len : t->norm_len;

                assert_int_equal(strlen(s), n);
                assert_int_equal(t->pos, i);
                assert_true(o + n + 2 < sizeof(out));
                if (i)
                        out[o++] = '|';
                memcpy(out + o, s, n);
                o += n;
                out[o] = '\0';
        }
        return out;
}

static const char *norms(ltrr_analyzer_t *an, const char *text)
{
        ltrr_tokbuf_t tb;

        return join(an, text, strlen(text), 0, &tb);
}

static const char *stems(ltrr_analyzer_t *an, const char *text)
{
        ltrr_tokbuf_t tb;

        return join(an, text, strlen(text), 1, &tb);
}

static void test_lifecycle(void **state)
{
        char errstr[128] = "";
        ltrr_analyzer_t *an;

        ltrr_analyzer_destroy(NULL);
        assert_int_equal(ltrr_analyzer_stems(NULL), 0);
        an = ltrr_analyzer_new("e n", errstr, sizeof(errstr));
        assert_null(an);
        assert_non_null(strstr(errstr, "malformed language"));
        assert_null(
            ltrr_analyzer_new("abcdefghijklmnop", errstr, sizeof(errstr)));
        assert_null(ltrr_analyzer_new("e1", NULL, 0));
        const char *stemming[] = {"en", "EN_us", "pt-BR", "french", "tr"};
        const char *folding[] = {"xx", "", "ja", "zh-Hans"};
        size_t i;

        for (i = 0; i < sizeof(stemming) / sizeof(*stemming); i++) {
                an = new_an(stemming[i]);
                assert_int_equal(ltrr_analyzer_stems(an), 1);
                ltrr_analyzer_destroy(an);
        }
        for (i = 0; i < sizeof(folding) / sizeof(*folding); i++) {
                an = new_an(folding[i]);
                assert_int_equal(ltrr_analyzer_stems(an), 0);
                ltrr_analyzer_destroy(an);
        }
        an = ltrr_analyzer_new(NULL, errstr, sizeof(errstr));
        assert_non_null(an);
        assert_int_equal(ltrr_analyzer_stems(an), 0);
        ltrr_analyzer_destroy(an);
}

static void test_bad_args(void **state)
{
        ltrr_analyzer_t *an = new_an("en");
        ltrr_tokbuf_t tb;
        char errstr[128] = "", out[16];

        ltrr_tokbuf_init(&tb, toks, BIG_TOKENS, arena, sizeof(arena));
        assert_int_equal(
            ltrr_analyzer_analyze(an, NULL, 3, &tb, errstr, sizeof(errstr)),
            LTRR_ERR_INVALID_ARG);
        assert_true(strlen(errstr) > 0);
        assert_int_equal(ltrr_analyzer_analyze(an, "x", 1, NULL, NULL, 0),
                         LTRR_ERR_INVALID_ARG);
        ltrr_tokbuf_init(&tb, NULL, 0, NULL, 0);
        assert_int_equal(ltrr_analyzer_analyze(an, "x", 1, &tb, NULL, 0),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(
            ltrr_analyzer_normalize(an, "x", 1, out, 0, NULL, NULL, 0),
            LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_analyzer_normalize(an, NULL, 1, out, sizeof(out),
                                                 NULL, NULL, 0),
                         LTRR_ERR_INVALID_ARG);
        /* NULL text of length 0 is an empty text. */
        ltrr_tokbuf_init(&tb, toks, BIG_TOKENS, arena, sizeof(arena));
        assert_int_equal(ltrr_analyzer_analyze(an, NULL, 0, &tb, NULL, 0),
                         LTRR_OK);
        assert_int_equal(tb.cnt, 0);
        ltrr_analyzer_destroy(an);
}

static void test_accents(void **state)
{
        ltrr_analyzer_t *an = new_an(NULL);

        assert_string_equal(norms(an, "Beyoncé"), "beyonce");
        assert_string_equal(norms(an, "Motörhead"), "motorhead");
        assert_string_equal(norms(an, "Die Straße"), "die|strasse");
        assert_string_equal(norms(an, "STRASSE ẞ"), "strasse|ss");
        assert_string_equal(norms(an, "Über Mädchen"), "uber|madchen");
        assert_string_equal(norms(an, "Ça déçoit, garçon à l'été"),
                            "ca|decoit|garcon|a|lete");
        assert_string_equal(norms(an, "Ñandú pingüino"), "nandu|pinguino");
        assert_string_equal(norms(an, "São João coração"), "sao|joao|coracao");
        assert_string_equal(norms(an, "Dvořák Sigur Rós"), "dvorak|sigur|ros");
        assert_string_equal(norms(an, "Mø Łódź Æther Œuvre Þór"),
                            "mo|lodz|aether|oeuvre|thor");
        /* Decomposed input folds like precomposed input. */
        assert_string_equal(norms(an, "Beyonce\xCC\x81"), "beyonce");
        /* Compatibility forms: fullwidth, ligature, roman numeral. */
        assert_string_equal(norms(an, "ＡＢＣ ﬁne Ⅻ ²"), "abc|fine|xii|2");
        /* Greek and Cyrillic fold case and tonos/breve too. */
        assert_string_equal(norms(an, "Ἀθῆναι ΣΟΦΊΑ"), "αθηναι|σοφια");
        assert_string_equal(norms(an, "Ёлка Чайковский"), "елка|чаиковскии");
        ltrr_analyzer_destroy(an);
}

static void test_turkish(void **state)
{
        ltrr_analyzer_t *an = new_an("tr");

        /* Language-independent folding: İ, I, ı and i all become i. */
        assert_string_equal(norms(an, "İstanbul ISTANBUL ıstanbul"),
                            "istanbul|istanbul|istanbul");
        assert_string_equal(norms(an, "Tarkan Şımarık"), "tarkan|simarik");
        ltrr_analyzer_destroy(an);
}

static void test_tokens(void **state)
{
        ltrr_analyzer_t *an = new_an(NULL);
        ltrr_tokbuf_t tb;

        assert_string_equal(norms(an, "don't stop"), "dont|stop");
        assert_string_equal(norms(an, "Don’t Stop Me Now"), "dont|stop|me|now");
        assert_string_equal(norms(an, "don´t"), "dont");
        assert_string_equal(norms(an, "rock 'n' roll"), "rock|n|roll");
        assert_string_equal(norms(an, "'quoted' words'"), "quoted|words");
        assert_string_equal(norms(an, "90s rock 2Pac"), "90s|rock|2pac");
        assert_string_equal(norms(an, "AC/DC Jay-Z R.E.M."),
                            "ac|dc|jay|z|r|e|m");
        assert_string_equal(norms(an, "The The"), "the|the"); /* no stops */
        assert_string_equal(norms(an, "bass\xC2\xADist"), "bassist");
        assert_string_equal(norms(an, ""), "");
        assert_string_equal(norms(an, "   "), "");
        assert_string_equal(norms(an, "...!!! ?¿ -- // ♥"), "");
        assert_string_equal(norms(an, "😀 love 🎸🔥 x"), "love|x");
        assert_string_equal(norms(an, "a👍🏽b"), "a|b");
        ltrr_analyzer_destroy(an);

        an = new_an("en");
        join(an, "Love 90s", 8, 0, &tb);
        assert_int_equal(tb.cnt, 2);
        assert_int_equal(tb.toks[0].flags, 0);
        assert_int_equal(tb.toks[1].flags, LTRR_TOKEN_NUMERIC);
        ltrr_analyzer_destroy(an);
}

static void test_scripts(void **state)
{
        ltrr_analyzer_t *an = new_an("ja");
        ltrr_tokbuf_t tb;

        /* Each ideograph and kana is a token; Latin runs stay words. */
        assert_string_equal(norms(an, "東京事変"), "東|京|事|変");
        assert_string_equal(norms(an, "ポケモンGO"), "ポ|ケ|モ|ン|go");
        /* Halfwidth katakana with a voicing mark becomes fullwidth. */
        assert_string_equal(norms(an, "ｶﾞｯﾂ"), "ガ|ッ|ツ");
        assert_string_equal(norms(an, "周杰伦 Jay Chou"), "周|杰|伦|jay|chou");
        join(an, "宇多田ヒカル", strlen("宇多田ヒカル"), 0, &tb);
        assert_int_equal(tb.cnt, 6);
        assert_int_equal(tb.toks[0].flags, LTRR_TOKEN_CJK);
        /* Hangul words are separated by spaces and stay whole. */
        assert_string_equal(norms(an, "방탄소년단 노래"), "방탄소년단|노래");
        /* Indic vowel signs are marks that stay inside the word. */
        assert_string_equal(norms(an, "हिन्दी गाने"), "हिन्दी|गाने");
        assert_string_equal(norms(an, "Beyoncéрок東京rock"),
                            "beyonceрок|東|京|rock");
        assert_string_equal(norms(an, "مرحبا بالعالم"), "مرحبا|بالعالم");
        ltrr_analyzer_destroy(an);
}

static void test_stemming(void **state)
{
        ltrr_analyzer_t *an = new_an("en");
        ltrr_tokbuf_t tb;

        assert_string_equal(stems(an, "Running Dogs"), "run|dog");
        assert_string_equal(norms(an, "Running Dogs"), "running|dogs");
        /* Tokens with digits are not stemmed. */
        assert_string_equal(stems(an, "90s 2000s"), "90s|2000s");
        /* An unchanged stem shares the norm's bytes. */
        join(an, "rock", 4, 1, &tb);
        assert_ptr_equal(tb.toks[0].stem, tb.toks[0].norm);
        ltrr_analyzer_destroy(an);

        an = new_an("fr");
        assert_string_equal(stems(an, "Les Chanteurs"), "le|chanteur");
        ltrr_analyzer_destroy(an);
        an = new_an("es");
        assert_string_equal(stems(an, "Canciones de amor"), "cancion|de|amor");
        ltrr_analyzer_destroy(an);
        an = new_an("de");
        assert_string_equal(stems(an, "Häuser Katzen"), "haus|katz");
        ltrr_analyzer_destroy(an);
        an = new_an("pt");
        assert_string_equal(stems(an, "Canções"), "canco");
        ltrr_analyzer_destroy(an);
        /* Unknown language: folding only. */
        an = new_an("xx");
        assert_string_equal(stems(an, "Running"), "running");
        ltrr_analyzer_destroy(an);
}

static void test_invalid_utf8(void **state)
{
        ltrr_analyzer_t *an = new_an(NULL);
        ltrr_tokbuf_t tb;

        /* A sequence cut at the end of the buffer. */
        assert_string_equal(join(an, "abc\xE2\x82", 5, 0, &tb), "abc");
        assert_int_equal(tb.invalid, 2);
        /* A stray continuation byte separates words. */
        assert_string_equal(join(an,
                                 "ab\x80"
                                 "cd",
                                 5, 0, &tb),
                            "ab|cd");
        assert_int_equal(tb.invalid, 1);
        /* Overlong NUL, encoded surrogate, byte 0xFF. */
        assert_string_equal(join(an, "x\xC0\x80y\xED\xA0\x80z\xFF", 9, 0, &tb),
                            "x|y|z");
        assert_int_equal(tb.invalid, 6);
        assert_int_equal(tb.truncated, 0);
        /* An embedded NUL byte is a separator. */
        assert_string_equal(join(an, "a\0b", 3, 0, &tb), "a|b");
        assert_int_equal(tb.invalid, 0);
        /* Only invalid bytes: no tokens, no error. */
        assert_string_equal(join(an, "\xFE\xFE\xFE", 3, 0, &tb), "");
        assert_int_equal(tb.invalid, 3);
        ltrr_analyzer_destroy(an);
}

/* Fills @buf with "w0 w1 w2 ..." up to @size - 1 bytes; returns the length
 * and sets *nwordsp to the words that were written whole. */
static size_t fill_words(char *buf, size_t size, size_t *nwordsp)
{
        size_t o = 0, n = 0;

        for (;;) {
                char w[32];
                int k = snprintf(w, sizeof(w), "w%zu ", n);

                if (o + (size_t)k > size - 1)
                        break;
                memcpy(buf + o, w, (size_t)k);
                o += (size_t)k;
                n++;
        }
        buf[o] = '\0';
        *nwordsp = n;
        return o;
}

static void test_large_input(void **state)
{
        ltrr_analyzer_t *an = new_an("en");
        static char big[40 * 1024];
        char expect[32];
        ltrr_tokbuf_t tb;
        size_t len, nwords, i;

        /* 10 KB: every word comes back. */
        len = fill_words(big, 10 * 1024, &nwords);
        join(an, big, len, 0, &tb);
        assert_int_equal(tb.cnt, nwords);
        assert_int_equal(tb.truncated, 0);
        /* 40 KB: cut at LTRR_TEXT_INPUT_MAX, the tokens left are whole. */
        len = fill_words(big, sizeof(big), &nwords);
        join(an, big, len, 0, &tb);
        assert_int_equal(tb.truncated, 1);
        assert_true(tb.cnt > 1000 && tb.cnt < nwords);
        for (i = 0; i < tb.cnt; i++) {
                snprintf(expect, sizeof(expect), "w%zu", i);
                assert_string_equal(tb.toks[i].norm, expect);
        }
        /* A cut in the middle of a word leaves that word out. */
        memset(big, 'a', LTRR_TEXT_INPUT_MAX - 3);
        memcpy(big + LTRR_TEXT_INPUT_MAX - 3, " bcdef", 7);
        join(an, big, strlen(big), 0, &tb);
        assert_int_equal(tb.cnt, 1);
        assert_int_equal(tb.truncated, 1);
        assert_int_equal(tb.toks[0].norm_len, LTRR_TEXT_TOKEN_BYTES_MAX);
        ltrr_analyzer_destroy(an);
}

static void test_cut_boundaries(void **state)
{
        static const char *const words[] = {"صلى", "الله", "عليه", "وسلم"};
        ltrr_analyzer_t *an = new_an(NULL);
        static char big[LTRR_TEXT_INPUT_MAX + 8];
        ltrr_tokbuf_t tb;
        size_t i;

        /* Cut right after a space: nothing partial, still reported. */
        memset(big, 'a', LTRR_TEXT_INPUT_MAX - 1);
        memcpy(big + LTRR_TEXT_INPUT_MAX - 1, " b", 3);
        join(an, big, strlen(big), 0, &tb);
        assert_int_equal(tb.cnt, 1);
        assert_int_equal(tb.truncated, 1);
        /* U+FDFA expands to 18 code points under NFKC: the folded text
         * outgrows the scratch, the input is cut, tokens stay whole. */
        for (i = 0; i + 4 <= 6000; i += 4)
                memcpy(big + i, "\xEF\xB7\xBA ", 4);
        join(an, big, i, 0, &tb);
        assert_int_equal(tb.truncated, 1);
        assert_true(tb.cnt > 100 && tb.cnt < 6000);
        for (i = 0; i < tb.cnt; i++)
                assert_string_equal(tb.toks[i].norm, words[i % 4]);
        ltrr_analyzer_destroy(an);
}

static void test_bounds(void **state)
{
        ltrr_analyzer_t *an = new_an("en");
        ltrr_token_t few[3];
        char small[12], word[256];
        ltrr_tokbuf_t tb;
        size_t i;

        ltrr_tokbuf_init(&tb, few, 3, arena, sizeof(arena));
        assert_int_equal(
            ltrr_analyzer_analyze(an, "a b c d e", 9, &tb, NULL, 0), LTRR_OK);
        assert_int_equal(tb.cnt, 3);
        assert_int_equal(tb.truncated, 1);
        /* "abc\0de\0" fits, "fgh\0" does not. */
        ltrr_tokbuf_init(&tb, few, 3, small, 7);
        assert_int_equal(
            ltrr_analyzer_analyze(an, "abc de fgh", 10, &tb, NULL, 0), LTRR_OK);
        assert_int_equal(tb.cnt, 2);
        assert_int_equal(tb.arena_used, 7);
        assert_int_equal(tb.truncated, 1);
        /* A word of exactly LTRR_TEXT_TOKEN_BYTES_MAX bytes is kept. */
        strcpy(word, "ab");
        for (i = 0; i < 31; i++)
                strcat(word, "ж");
        assert_int_equal(strlen(word), LTRR_TEXT_TOKEN_BYTES_MAX);
        assert_string_equal(norms(an, word), word);
        /* One byte more: cut to a whole-code-point prefix (63 bytes). */
        word[0] = 'c';
        memmove(word + 1, word, strlen(word) + 1);
        join(an, word, strlen(word), 0, &tb);
        assert_int_equal(tb.cnt, 1);
        assert_int_equal(tb.toks[0].norm_len, LTRR_TEXT_TOKEN_BYTES_MAX - 1);
        assert_memory_equal(tb.toks[0].norm, word,
                            LTRR_TEXT_TOKEN_BYTES_MAX - 1);
        assert_int_equal(tb.truncated, 0);
        ltrr_analyzer_destroy(an);
}

static void test_normalize(void **state)
{
        ltrr_analyzer_t *an = new_an("en");
        char out[256];
        int trunc = -1;

        assert_int_equal(ltrr_analyzer_normalize(an, "  Tayler   LÖVE!! ", 18,
                                                 out, sizeof(out), &trunc, NULL,
                                                 0),
                         LTRR_OK);
        assert_string_equal(out, "tayler love");
        assert_int_equal(trunc, 0);
        /* Unstemmed, unlike analyze(). */
        assert_int_equal(ltrr_analyzer_normalize(an, "Running Dogs", 12, out,
                                                 sizeof(out), NULL, NULL, 0),
                         LTRR_OK);
        assert_string_equal(out, "running dogs");
        /* An output too small keeps whole tokens only. */
        assert_int_equal(ltrr_analyzer_normalize(an, "alpha beta gamma", 16,
                                                 out, 11, &trunc, NULL, 0),
                         LTRR_OK);
        assert_string_equal(out, "alpha beta");
        assert_int_equal(trunc, 1);
        assert_int_equal(
            ltrr_analyzer_normalize(an, "alpha", 5, out, 3, &trunc, NULL, 0),
            LTRR_OK);
        assert_string_equal(out, "");
        assert_int_equal(trunc, 1);
        assert_int_equal(
            ltrr_analyzer_normalize(an, "!!", 2, out, 1, &trunc, NULL, 0),
            LTRR_OK);
        assert_string_equal(out, "");
        assert_int_equal(trunc, 0);
        ltrr_analyzer_destroy(an);
}

/* Pieces mixed into generated strings: accents, compatibility forms,
 * case pairs, CJK, marks, apostrophes, emoji, invalid bytes. */
static const char *const pieces[] = {
    "a",        "Z",        " ",
    "  ",       "é",        "E\xCC\x81",
    "ß",        "ẞ",        "İ",
    "ı",        "I",        "ǅ",
    "ﬁ",        "Ⅻ",        "①",
    "²",        "ｶﾞ",       "ガ",
    "東",       "京",       "한",
    "국",       "हि",       "न्",
    "'",        "’",        "´",
    "-",        "/",        ".",
    "😀",        "🏽",     "\xE2\x80\x8D",
    "\xC2\xAD", "ø",        "Æ",
    "œ",        "Σ",        "ς",
    "ΐ",        "ǰ",        "\xFF",
    "\xE2\x82", "\xCC\x81", "0",
    "9",        "s",        "Ω",
    "Å",        "K",        "ﷺ",
    "ŉ",        "ǈ",        "ﬀ",
    "Ⓐ",        "\xC0\x80",
};

static void test_idempotence(void **state)
{
        ltrr_analyzer_t *an = new_an("en");
        const size_t npieces = sizeof(pieces) / sizeof(*pieces);
        char in[512], once[512], twice[512];
        uint32_t seed = 12345;
        int i, j;

        for (i = 0; i < 500; i++) {
                size_t o = 0;
                int len = 1 + (int)(seed % 24);

                for (j = 0; j < len; j++) {
                        const char *p;

                        seed = seed * 1103515245u + 12345u;
                        p = pieces[(seed >> 8) % npieces];
                        memcpy(in + o, p, strlen(p));
                        o += strlen(p);
                }
                in[o] = '\0';
                assert_int_equal(ltrr_analyzer_normalize(an, in, o, once,
                                                         sizeof(once), NULL,
                                                         NULL, 0),
                                 LTRR_OK);
                assert_int_equal(ltrr_analyzer_normalize(an, once, strlen(once),
                                                         twice, sizeof(twice),
                                                         NULL, NULL, 0),
                                 LTRR_OK);
                if (strcmp(once, twice) != 0)
                        fail_msg("not idempotent: \"%s\" -> \"%s\" -> "
                                 "\"%s\"",
                                 in, once, twice);
        }
        ltrr_analyzer_destroy(an);
}

static void test_ngrams_stable(void **state)
{
        /* FNV-1a of " ta", "tay", "ayl", "ylo", "lor", "or ". */
        static const uint32_t taylor[] = {0xcd67b590u, 0xb3f758cdu,
                                          0x19593099u, 0x4ab07865u,
                                          0x52516f3au, 0x5d1d8d2cu};
        static const uint32_t cafe[] = {0xd592a32fu, 0xf87445fdu, 0x56866a6au,
                                        0x7f51cd3fu};
        static const uint32_t tupac4[] = {0x4736452cu, 0x6244e25bu,
                                          0xae53b3f1u};
        uint32_t h[16];
        size_t cnt, i;

        assert_int_equal(ltrr_text_hash32("", 0), 0x811c9dc5u);
        assert_int_equal(ltrr_text_hash32("a", 1), 0xe40c292cu);
        assert_int_equal(ltrr_text_hash32("foobar", 6), 0xbf9cf968u);
        assert_int_equal(ltrr_text_ngrams("taylor", 6, 3, h, 16, &cnt),
                         LTRR_OK);
        assert_int_equal(cnt, 6);
        for (i = 0; i < cnt; i++)
                assert_int_equal(h[i], taylor[i]);
        assert_int_equal(ltrr_text_ngrams("café", 5, 3, h, 16, &cnt), LTRR_OK);
        assert_int_equal(cnt, 4);
        for (i = 0; i < cnt; i++)
                assert_int_equal(h[i], cafe[i]);
        assert_int_equal(ltrr_text_ngrams("2pac", 4, 4, h, 16, &cnt), LTRR_OK);
        assert_int_equal(cnt, 3);
        for (i = 0; i < cnt; i++)
                assert_int_equal(h[i], tupac4[i]);
        /* Short tokens give their whole padded form. */
        assert_int_equal(ltrr_text_ngrams("a", 1, 3, h, 16, &cnt), LTRR_OK);
        assert_int_equal(cnt, 1);
        assert_int_equal(h[0], 0xa096cceeu);
        assert_int_equal(ltrr_text_ngrams("東", 3, 2, h, 16, &cnt), LTRR_OK);
        assert_int_equal(cnt, 2);
        assert_int_equal(h[0], 0xe61b4d39u);
        assert_int_equal(h[1], 0x3f3f68a5u);
        assert_int_equal(ltrr_text_ngrams("", 0, 3, h, 16, &cnt), LTRR_OK);
        assert_int_equal(cnt, 0);
}

static void test_ngrams_errors(void **state)
{
        uint32_t h[4];
        size_t cnt = 99;

        assert_int_equal(ltrr_text_ngrams("taylor", 6, 3, h, 4, &cnt),
                         LTRR_ERR_NOSPACE);
        assert_int_equal(cnt, 4);
        assert_int_equal(h[0], 0xcd67b590u);
        assert_int_equal(ltrr_text_ngrams("a", 1, 3, h, 0, &cnt),
                         LTRR_ERR_NOSPACE);
        assert_int_equal(ltrr_text_ngrams("ab", 2, 1, h, 4, &cnt),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_text_ngrams("ab", 2, 9, h, 4, &cnt),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_text_ngrams(NULL, 2, 3, h, 4, &cnt),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_text_ngrams("ab", 2, 3, h, 4, NULL),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_text_ngrams("a\xFF", 2, 3, h, 4, &cnt),
                         LTRR_ERR_PARSE);
}

static unsigned dist(const char *a, const char *b, unsigned max)
{
        unsigned d = 12345;

        assert_int_equal(
            ltrr_text_distance(a, strlen(a), b, strlen(b), max, &d), LTRR_OK);
        return d;
}

static void test_distance_examples(void **state)
{
        char longs[LTRR_TEXT_DIST_CPS_MAX + 2];
        unsigned d;

        assert_int_equal(dist("tayler", "taylor", 2), 1);
        assert_int_equal(dist("beyonse", "beyonce", 2), 1);
        assert_int_equal(dist("taylor", "taylor", 0), 0);
        assert_int_equal(dist("ab", "ba", 2), 1);  /* transposition */
        assert_int_equal(dist("ca", "abc", 5), 3); /* OSA, not full DL */
        assert_int_equal(dist("", "abc", 5), 3);
        assert_int_equal(dist("abc", "", 1), 2); /* max + 1 */
        assert_int_equal(dist("kitten", "sitting", 5), 3);
        assert_int_equal(dist("kitten", "sitting", 2), 3);
        assert_int_equal(dist("motorhead", "beyonce", 1), 2);
        /* Code points, not bytes. */
        assert_int_equal(dist("café", "cafe", 3), 1);
        assert_int_equal(dist("東京", "京東", 3), 1);
        /* Errors. */
        assert_int_equal(ltrr_text_distance("a\xFF", 2, "a", 1, 2, &d),
                         LTRR_ERR_PARSE);
        assert_int_equal(ltrr_text_distance("a", 1, "a", 1, 2, NULL),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_text_distance(NULL, 1, "a", 1, 2, &d),
                         LTRR_ERR_INVALID_ARG);
        memset(longs, 'x', sizeof(longs) - 1);
        longs[sizeof(longs) - 1] = '\0';
        assert_int_equal(
            ltrr_text_distance(longs, strlen(longs), "x", 1, 2, &d),
            LTRR_ERR_RANGE);
        assert_int_equal(
            ltrr_text_distance(longs, LTRR_TEXT_DIST_CPS_MAX, "x", 1, 500, &d),
            LTRR_OK);
        assert_int_equal(d, LTRR_TEXT_DIST_CPS_MAX - 1);
}

/* Unbounded optimal string alignment, the textbook full matrix, on
 * bytes (the random strings are ASCII). */
static unsigned ref_osa(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b), i, j;
        unsigned d[32][32];

        for (i = 0; i <= la; i++)
                d[i][0] = (unsigned)i;
        for (j = 0; j <= lb; j++)
                d[0][j] = (unsigned)j;
        for (i = 1; i <= la; i++) {
                for (j = 1; j <= lb; j++) {
                        unsigned c = a[i - 1] != b[j - 1];
                        unsigned v = d[i - 1][j] + 1;

                        if (d[i][j - 1] + 1 < v)
                                v = d[i][j - 1] + 1;
                        if (d[i - 1][j - 1] + c < v)
                                v = d[i - 1][j - 1] + c;
                        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                            a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
                                v = d[i - 2][j - 2] + 1;
                        d[i][j] = v;
                }
        }
        return d[la][lb];
}

static void test_distance_random(void **state)
{
        uint32_t seed = 777;
        char a[32], b[32];
        int i, k, checked_small = 0;

        for (i = 0; i < 5000; i++) {
                int la, lb;
                unsigned ref, max;

                seed = seed * 1664525u + 1013904223u;
                la = (int)((seed >> 10) % 12);
                seed = seed * 1664525u + 1013904223u;
                lb = (int)((seed >> 10) % 12);
                /* A 3-letter alphabet makes near-misses and swaps common. */
                for (k = 0; k < la; k++) {
                        seed = seed * 1664525u + 1013904223u;
                        a[k] = (char)('a' + (seed >> 16) % 3);
                }
                a[la] = '\0';
                for (k = 0; k < lb; k++) {
                        seed = seed * 1664525u + 1013904223u;
                        b[k] = (char)('a' + (seed >> 16) % 3);
                }
                b[lb] = '\0';
                ref = ref_osa(a, b);
                max = (unsigned)(i % 5);
                if (ref <= max)
                        checked_small++;
                assert_int_equal(dist(a, b, max), ref <= max ? ref : max + 1);
                assert_int_equal(dist(a, b, 100), ref);
        }
        assert_true(checked_small > 500); /* the bound was exercised */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_lifecycle),
            cmocka_unit_test(test_bad_args),
            cmocka_unit_test(test_accents),
            cmocka_unit_test(test_turkish),
            cmocka_unit_test(test_tokens),
            cmocka_unit_test(test_scripts),
            cmocka_unit_test(test_stemming),
            cmocka_unit_test(test_invalid_utf8),
            cmocka_unit_test(test_large_input),
            cmocka_unit_test(test_cut_boundaries),
            cmocka_unit_test(test_bounds),
            cmocka_unit_test(test_normalize),
            cmocka_unit_test(test_idempotence),
            cmocka_unit_test(test_ngrams_stable),
            cmocka_unit_test(test_ngrams_errors),
            cmocka_unit_test(test_distance_examples),
            cmocka_unit_test(test_distance_random),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
