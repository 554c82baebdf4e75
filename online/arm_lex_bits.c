/*
 * ltrr - which lists of a lexical query get a membership bitmap (with
 * its rank table and quantized tf~ table, arm_termbits.h) for MaxScore
 * (arm_lexical.c).
 */
#include "arm_lex_int.h"

/** A list gets a membership bitmap from LTRR_INDEX_BLOCK postings and
 *  1 / LEX_BITS_SHARE of the entities: long enough that seeks into it
 *  read much of it. */
#define LEX_BITS_SHARE 16
/** Bitmaps per query (fewer than the cache's slots, so that none of
 *  them evicts another). */
#define LEX_BITS_QUERY 4

void ltrr_arm_lex_query_bits(lex_query_t *lq, ltrr_arm_termbits_t *tb)
{
        const ltrr_index_t *ix = lq->ix;
        size_t got = 0;
        lq->bshift = ltrr_arm_termbits_shift(ix->n);
        for (size_t i = 0; i < lq->cnt; i++) {
                lq->terms[i].bits = NULL;
                lq->terms[i].qtf = NULL;
        }
        for (size_t i = 0; lq->cnt > 1 && i < lq->cnt; i++) {
                lex_term_t *lt = &lq->terms[i];
                if (got == LEX_BITS_QUERY ||
                    lt->df < (uint32_t)LTRR_INDEX_BLOCK ||
                    lt->df < ix->n / LEX_BITS_SHARE)
                        continue;
                lt->bits = ltrr_arm_termbits_get(
                    tb, ix, (uint32_t)(lt->t - ix->terms));
                lt->rank = ltrr_arm_termbits_rank(tb, lt->bits);
                lt->qtf = lq->tight ? ltrr_arm_termbits_qtf(tb, lt->bits,
                                                            &lt->qlevel)
                                    : NULL;
                got += lt->bits != NULL;
        }
}
