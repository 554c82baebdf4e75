/*
 * ltrr - the per-query union bitmap of MaxScore's non-essential lists
 * (arm_lexical.c): once the bounds of the essential lists that hold an
 * entity cannot reach theta together, the entity enters the heap only if
 * a non-essential list holds it too. Lists with a membership bitmap of
 * their own (arm_termbits.h) are asked directly; the others are gathered
 * here as they become non-essential, with a second bitmap of the
 * entities two or more of them hold: an entity in one of them gets the
 * largest of their bounds, not their sum.
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

/* Clears the first bits of @p bits that entities under n use. */
static void bits_clear(const lex_query_t *lq, uint64_t *bits)
{
        memset(bits, 0, ((((size_t)lq->ix->n - 1) >> lq->bshift) / 64 + 1) *
                            sizeof(uint64_t));
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
                int second = lq->uon; /* a list is in ubits already */
                if (!lq->uon) {
                        bits_clear(lq, lq->ubits);
                        lq->uon = 1;
                }
                if (second && !lq->u2on && lq->ubits2) {
                        bits_clear(lq, lq->ubits2);
                        lq->u2on = 1;
                }
                lq->uub += lt->ub;
                /* lists come by ascending bound; without the second
                 * bitmap, an entity of ubits may be in all of them */
                lq->utop = second && !lq->u2on ? lq->uub : lt->ub;
                for (uint32_t j = lt->pos; j < lt->df; j++) {
                        uint32_t b = lt->p[j].doc >> lq->bshift;
                        uint64_t m = 1ull << (b & 63);
                        if (lt->p[j].doc >= n)
                                continue;
                        if (lq->u2on)
                                lq->ubits2[b >> 6] |= lq->ubits[b >> 6] & m;
                        lq->ubits[b >> 6] |= m;
                }
        }
}
