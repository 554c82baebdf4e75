/*
 * ltrr - spelling correction of query words against the index
 * dictionary.
 *
 * A query word the dictionary does not know is most often a typo of one
 * it knows ("rdeam", "ngihts"). Serving corrects such words to build the
 * query users type when they spell it right, and reads that query's Q2E
 * memory beside the typed one's (docs/decisions/0047-q2e-spelling.md):
 * what users chose for "dream" is the best guess for "rdeam".
 *
 * The rule is Norvig's: every string one edit away (a deletion, a
 * transposition of neighbours, a substitution or an insertion of a code
 * point) is looked up among the catalog's name words (the index's word
 * section, spell_words.h), and the word in the most entities' names
 * wins. Substituted and inserted code points are a-z, 0-9 and the word's
 * own code points (folded text is mostly ASCII). An index without the
 * word section corrects nothing. Nothing is allocated; every function is
 * thread-safe on a shared index.
 */
#ifndef LTRR_SPELL_H
#define LTRR_SPELL_H

#include <stddef.h>
#include <stdint.h>

#include "index.h"
#include "text.h"

/** Shortest word, in code points, that is corrected. */
#define LTRR_SPELL_CPS_MIN 3
/** Longest word, in code points, that is corrected. */
#define LTRR_SPELL_CPS_MAX 24
/** Most unknown words one query may have and still be corrected. */
#define LTRR_SPELL_WORDS_MAX 4

/**
 * @brief The name word one edit away from @p word that the most
 *        entities' names hold (ties: the byte-wise smaller word).
 *
 * @param word a folded word as the analyzer makes it (a token's norm);
 *        words of fewer than LTRR_SPELL_CPS_MIN or more than
 *        LTRR_SPELL_CPS_MAX code points, or holding an ideograph, are
 *        not corrected.
 * @param out receives the word, NUL-terminated.
 * @returns its length in bytes; 0 when there is none, the input is not
 *          corrected, or @p out (of @p cap bytes) is too small.
 */
size_t ltrr_spell_word(const ltrr_index_t *ix, const char *word, size_t len,
                       char *out, size_t cap);

/**
 * @brief Writes the corrected form of an analyzed query: its tokens'
 *        folded forms joined by single spaces (the form
 *        ltrr_analyzer_normalize() gives, the Q2E key), with every token
 *        whose bit is set in @p unknown replaced by ltrr_spell_word().
 *
 * @param unknown bit i set: token i is not in the dictionary; at most
 *        LTRR_SPELL_WORDS_MAX bits, tokens past 32 are never corrected.
 * @returns 1 when every marked token was corrected and the result fits
 *          in @p cap bytes; else 0 with @p out set to "".
 */
int ltrr_spell_query(const ltrr_index_t *ix, const ltrr_token_t *toks,
                     size_t n, uint32_t unknown, char *out, size_t cap);

#endif /* LTRR_SPELL_H */
