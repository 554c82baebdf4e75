/*
 * ltrr - text analysis: one code path turns catalog text and queries into
 * tokens, so that what is indexed and what is searched agree.
 *
 * Pipeline (docs/decisions/0006-text-analysis.md gives the reasons):
 *   1. UTF-8 check: each invalid byte becomes U+FFFD (a separator) and is
 *      counted; invalid input is never an error.
 *   2. NFKC + full case folding (utf8proc): "ＡＢＣ" → "abc", "ß" → "ss".
 *   3. Accent folding: combining diacritical marks are removed
 *      ("Beyoncé" → "beyonce") and a few letters without a decomposition
 *      are mapped ("ø" → "o", "ł" → "l", "ı" → "i", "æ" → "ae").
 *   4. Tokens: maximal runs of letters, digits and marks; an apostrophe
 *      between two such characters is dropped ("don't" → "dont"); every
 *      Han ideograph and kana is a token of its own. No stop words.
 *   5. Snowball stemming for the analyzer's language (libstemmer); tokens
 *      holding a digit or an ideograph are not stemmed.
 */
#ifndef LTRR_TEXT_H
#define LTRR_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/** Bytes of input analyzed per call; the rest is cut at a token boundary
 *  and reported through ltrr_tokbuf_t.truncated. */
#define LTRR_TEXT_INPUT_MAX 16384

/** Tokens per text that ltrr_analyzer_normalize() handles. A caller of
 *  ltrr_analyzer_analyze() chooses its own bound (its array size). */
#define LTRR_TEXT_TOKENS_MAX 256

/** Bytes of one folded token, excluding the NUL; longer words are cut at
 *  a code point boundary (the same prefix at index and query time). */
#define LTRR_TEXT_TOKEN_BYTES_MAX 64

/** Arena size that holds LTRR_TEXT_TOKENS_MAX tokens with their stems. */
#define LTRR_TEXT_ARENA_SIZE                                                   \
        (LTRR_TEXT_TOKENS_MAX * 2 * (LTRR_TEXT_TOKEN_BYTES_MAX + 1))

/** Longest string, in code points, that ltrr_text_distance() compares. */
#define LTRR_TEXT_DIST_CPS_MAX 128

/** Language codes longer than this are refused by ltrr_analyzer_new(). */
#define LTRR_TEXT_LANG_MAX 15

/** Token flag: the token holds at least one decimal digit. */
#define LTRR_TOKEN_NUMERIC 0x1
/** Token flag: the token is one Han ideograph or kana. */
#define LTRR_TOKEN_CJK 0x2

/** @brief One token; its strings live in the caller's arena. */
typedef struct ltrr_token_s {
        const char *norm;  /**< folded, unstemmed, NUL-terminated */
        const char *stem;  /**< stemmed form; == norm when unchanged */
        uint16_t norm_len; /**< bytes of norm, excluding the NUL */
        uint16_t stem_len; /**< bytes of stem, excluding the NUL */
        uint16_t pos;      /**< ordinal of the token in the text */
        uint16_t flags;    /**< LTRR_TOKEN_* bits */
} ltrr_token_t;

/**
 * @brief Caller-owned output of ltrr_analyzer_analyze().
 *
 * The caller points toks/arena at storage it owns (stack or reused heap)
 * with ltrr_tokbuf_init(); the analyzer fills cnt, arena_used, truncated
 * and invalid. Token strings stay valid until the next analysis into the
 * same buffer.
 */
typedef struct ltrr_tokbuf_s {
        ltrr_token_t *toks; /**< caller-owned array of cap entries */
        size_t cap;         /**< entries in toks */
        size_t cnt;         /**< tokens written by the last analysis */
        char *arena;        /**< caller-owned bytes for token strings */
        size_t arena_size;  /**< bytes in arena */
        size_t arena_used;  /**< bytes used by the last analysis */
        int truncated;      /**< 1: input, tokens or arena ran out; the
                             *   tokens present are whole */
        size_t invalid;     /**< invalid UTF-8 bytes replaced */
} ltrr_tokbuf_t;

/** @brief An analyzer: the stemmer and scratch buffers of one thread. */
typedef struct ltrr_analyzer_s ltrr_analyzer_t;

/**
 * @brief Points @p tb at caller storage: @p toks of @p cap entries and
 *        @p arena of @p arena_size bytes. Nothing is allocated.
 */
void ltrr_tokbuf_init(ltrr_tokbuf_t *tb, ltrr_token_t *toks, size_t cap,
                      char *arena, size_t arena_size);

/**
 * @brief Creates an analyzer for language @p lang.
 *
 * @param lang ISO 639-1/-3 code or Snowball name ("en", "fr", "german"),
 *        case-insensitive; a region suffix ("pt-BR", "en_US") is ignored.
 *        NULL, "" or a language without a Snowball stemmer gives an
 *        analyzer that does not stem (see ltrr_analyzer_stems()).
 * @returns the analyzer, or NULL with the reason in @p errstr when
 *          @p lang is malformed (longer than LTRR_TEXT_LANG_MAX, or not
 *          letters) or memory runs out.
 * @locality Snowball stemmers keep state between calls: an analyzer is
 *           used by one thread at a time. Create one per worker thread.
 */
ltrr_analyzer_t *ltrr_analyzer_new(const char *lang, char *errstr,
                                   size_t errstr_size);

/** @brief Frees @p an; NULL is a no-op. */
void ltrr_analyzer_destroy(ltrr_analyzer_t *an);

/** @brief Returns 1 if @p an stems, 0 if it only folds. */
int ltrr_analyzer_stems(const ltrr_analyzer_t *an);

/**
 * @brief Analyzes @p len bytes of UTF-8 at @p text into @p tb.
 *
 * The same call serves indexing and queries. At most LTRR_TEXT_INPUT_MAX
 * bytes are read; when the input, tb->cap or the arena runs out, analysis
 * stops at a token boundary and tb->truncated is set: that is not an
 * error. No memory is allocated once the stemmer has warmed up.
 *
 * @returns LTRR_OK, or LTRR_ERR_INVALID_ARG (NULL @p text with a non-zero
 *          @p len, or a tokbuf without storage), or LTRR_ERR_NOMEM if the
 *          stemmer cannot grow its buffer.
 * @locality one thread at a time per analyzer.
 */
ltrr_err_t ltrr_analyzer_analyze(ltrr_analyzer_t *an, const char *text,
                                 size_t len, ltrr_tokbuf_t *tb, char *errstr,
                                 size_t errstr_size);

/**
 * @brief Writes the canonical form of a query: its unstemmed tokens joined
 *        by single spaces, NUL-terminated (the Q2E key).
 *
 * Idempotent: normalizing the result again gives the same string. Tokens
 * that do not fit in @p out_size are left out whole.
 *
 * @param truncatedp if not NULL, set to 1 when input, tokens or @p out
 *        ran out, else 0.
 * @returns LTRR_OK, or LTRR_ERR_INVALID_ARG (NULL @p out, @p out_size 0,
 *          NULL @p text with a non-zero @p len).
 * @locality one thread at a time per analyzer.
 */
ltrr_err_t ltrr_analyzer_normalize(ltrr_analyzer_t *an, const char *text,
                                   size_t len, char *out, size_t out_size,
                                   int *truncatedp, char *errstr,
                                   size_t errstr_size);

/**
 * @brief Hashes the character @p n-grams of one token.
 *
 * The token is padded with one space on each side ("^taylor$" with
 * n = 3 gives " ta", "tay", ..., "or "), grams are taken over code points
 * and each gram's UTF-8 bytes are hashed with 32-bit FNV-1a. A token
 * shorter than n - 2 code points yields its whole padded form as one
 * gram. The values are fixed by tests: an index built today is read the
 * same way tomorrow.
 *
 * @param n gram length in code points, 2..8.
 * @param out receives up to @p cap hashes, in token order, repeats kept.
 * @param cntp set to the number of hashes written.
 * @returns LTRR_OK, LTRR_ERR_INVALID_ARG (bad @p n, NULL pointers),
 *          LTRR_ERR_PARSE (invalid UTF-8), or LTRR_ERR_NOSPACE when more
 *          than @p cap grams exist (the first @p cap are written).
 * @locality thread-safe.
 */
ltrr_err_t ltrr_text_ngrams(const char *tok, size_t len, unsigned n,
                            uint32_t *out, size_t cap, size_t *cntp);

/** @brief 32-bit FNV-1a of @p len bytes (the n-gram hash). Thread-safe. */
uint32_t ltrr_text_hash32(const void *data, size_t len);

/**
 * @brief Bounded Damerau–Levenshtein distance (optimal string alignment)
 *        between two UTF-8 strings, counted in code points.
 *
 * Insertions, deletions, substitutions and transpositions of adjacent
 * code points cost 1. Work stops as soon as the distance is known to
 * exceed @p max.
 *
 * @param distp set to the distance when it is <= @p max, else max + 1.
 * @returns LTRR_OK, LTRR_ERR_INVALID_ARG (NULL pointers), LTRR_ERR_PARSE
 *          (invalid UTF-8) or LTRR_ERR_RANGE (a string longer than
 *          LTRR_TEXT_DIST_CPS_MAX code points).
 * @locality thread-safe.
 */
ltrr_err_t ltrr_text_distance(const char *a, size_t alen, const char *b,
                              size_t blen, unsigned max, unsigned *distp);

#endif /* LTRR_TEXT_H */
