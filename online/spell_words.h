/*
 * ltrr - the word section of the index: every folded word of the
 * catalog's entity and artist names, with the number of entities whose
 * names hold it. Spelling correction (spell.h) looks its candidates up
 * here: the words users type, not the stems the dictionary holds, so a
 * corrected query is the one users type when they spell it right
 * ("stroy" → "story", whose stem "stori" no one types).
 *
 * Layout (little-endian, 8-byte aligned start; docs/INDEX.md):
 *   ltrr_spell_words_hdr_t                  16 bytes
 *   ltrr_spell_word_t[word_cnt]             12 bytes each, by word bytes
 *   word bytes                              byte_cnt bytes, no NULs
 *
 * Words holding a digit or an ideograph are left out (they are not
 * corrected). Optional: an index without the section corrects nothing.
 */
#ifndef LTRR_SPELL_WORDS_H
#define LTRR_SPELL_WORDS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "index.h"
#include "text.h"

/** Section kind of the word section. */
#define LTRR_SPELL_SEC_WORDS 28

/** @brief Section header (16 bytes). */
typedef struct ltrr_spell_words_hdr_s {
        uint32_t word_cnt; /**< records */
        uint32_t reserved; /**< 0 */
        uint64_t byte_cnt; /**< word bytes after the records */
} ltrr_spell_words_hdr_t;

/** @brief One word (12 bytes). */
typedef struct ltrr_spell_word_s {
        uint32_t off; /**< first byte, counted from the word bytes */
        uint32_t len; /**< bytes */
        uint32_t cnt; /**< entities whose names hold it, >= 1 */
} ltrr_spell_word_t;

/** @brief A word section under construction. */
typedef struct ltrr_spell_words_s ltrr_spell_words_t;

/** @brief An empty builder, or NULL without memory. */
ltrr_spell_words_t *ltrr_spell_words_new(void);

/** @brief Frees @p w and its section; NULL is a no-op. */
void ltrr_spell_words_destroy(ltrr_spell_words_t *w);

/**
 * @brief Counts the words of entity @p ent's analyzed names @p toks: a
 *        word counts once per entity, however often it occurs, when the
 *        calls of one entity come one after another.
 * @returns LTRR_OK, LTRR_ERR_NOMEM (the builder is then unusable), or
 *          LTRR_ERR_INVALID_ARG after ltrr_spell_words_finish().
 */
ltrr_err_t ltrr_spell_words_add(ltrr_spell_words_t *w, uint32_t ent,
                                const ltrr_token_t *toks, size_t n);

/**
 * @brief Writes the section; @p datap then points at it until @p w is
 *        destroyed. Adding afterwards is refused.
 * @returns LTRR_OK, LTRR_ERR_NOMEM, LTRR_ERR_RANGE (past 4 GiB of word
 *          bytes).
 */
ltrr_err_t ltrr_spell_words_finish(ltrr_spell_words_t *w,
                                   const void **datap, size_t *lenp);

/**
 * @brief The word section of @p ix, NULL when it has none or one whose
 *        lengths do not agree.
 */
const ltrr_spell_words_hdr_t *ltrr_spell_words_get(const ltrr_index_t *ix);

/**
 * @brief Entities whose names hold the folded word @p word of @p len
 *        bytes, per section @p h; 0 when none (or a NULL @p h). A binary
 *        search; thread-safe.
 */
uint32_t ltrr_spell_words_find(const ltrr_spell_words_hdr_t *h,
                               const char *word, size_t len);

#endif /* LTRR_SPELL_WORDS_H */
