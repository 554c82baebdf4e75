/*
 * ltrr - the per-query union bitmap of MaxScore's non-essential lists
 * (arm_lexical.c): once the bounds of the essential lists that hold an
 * entity cannot reach theta together, the entity enters the heap only if
 * a non-essential list holds it too. Lists with a membership bitmap of
 * their own (arm_termbits.h) are asked directly; the others are gathered
 * here as they become non-essential.
 */
#include "arm_lex_int.h"


/* Postings left in the essential lists [ess, cnt). */
static uint64_t ess_left(const lex_query_t *lq, size_t ess)
{
        uint64_t left = 0;
        for (size_t i = ess; i < lq->cnt; i++)
                left += lq->terms[i].df - lq->terms[i].pos;
        return left;
}

void ltrr_arm_lex_union_grow(lex_query_t *lq, size_t ess)
{
        const uint32_t n = lq->ix->n;
        for (; lq->ubits && lq->uess < ess; lq->uess++) {
                const lex_term_t *lt = &lq->terms[lq->uess];
                if (lt->bits)
                        continue;
                if (lt->df - lt->pos > ess_left(lq, ess)) {
                        lq->ubits = NULL; /* dearer than the walk left */
                        lq->uon = 0;
                        return;
                }
                if (!lq->uon) {
                        memset(lq->ubits, 0,
                               ((((size_t)n - 1) >> lq->bshift) / 64 + 1) *
                                   sizeof(uint64_t));
                        lq->uon = 1;
                }
                for (uint32_t j = lt->pos; j < lt->df; j++) {
                        uint32_t b = lt->p[j].doc >> lq->bshift;
                        if (lt->p[j].doc < n)
                                lq->ubits[b >> 6] |= 1ull << (b & 63);
                }
        }
}
