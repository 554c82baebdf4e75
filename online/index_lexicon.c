/*
 * ltrr - dictionary membership questions about query words.
 *
 * Serving asks, before it chooses a query's Redis keys, whether the
 * index knows each query word: a word it does not know is most often a
 * typo, which only the fuzzy arm can answer (docs/FEATURES.md,
 * q_unknown_word).
 */
#include <string.h>

#include "index_int.h"

int ltrr_index_knows(const ltrr_index_t *ix, const char *term, size_t len,
                     int as_prefix)
{
        const ltrr_index_term_t *t;
        uint32_t i;

        if (!ix || !term || !len)
                return 0;
        i = ltrr_index_term_lower(ix, term, len);
        if (i >= ix->term_cnt)
                return 0;
        t = &ix->terms[i];
        if (t->str_len < len || (!as_prefix && t->str_len != len))
                return 0;
        return memcmp(ix->termstr + t->str_off, term, len) == 0;
}
