/*
 * ltrr - a starting threshold for MaxScore on queries of two terms.
 *
 * MaxScore's threshold (theta, the k-th best score so far) rises only as
 * the walk in entity order fills its heap, so the first part of the walk
 * scores entities that a later theta would pass over ("The <word>": the
 * word's postings and a seek into the list of "the" for each). For a
 * query of two terms, the best entries of the stronger term's
 * impact-ordered head (index_impact.c), each completed with the other
 * term's posting read at its rank (arm_termbits.h), are real entities
 * with known scores: the k-th best of them is a lower bound of the final
 * k-th score, and MaxScore may prune against it from the first posting.
 *
 * The answer stays the same, to the bit: an entity pruned against the
 * bound scores under it, so it is not among the final k; every other
 * entity is scored as before, and a score of two terms is the same float
 * sum in either order (MaxScore adds the essential list first), so
 * pruning earlier changes no score.
 */
#include "arm_lex_int.h"


/** Head entries scored per place to fill. */
#define LEX_SEED_PER 4
/** Head entries scored at least. */
#define LEX_SEED_MIN 512
/** Places the seed fills at most (its heap is on the stack). */
#define LEX_SEED_K_MAX 1024

/* Offers @p s to the min-heap @p h of *np scores, capacity @p k. */
static void seed_offer(float *h, size_t *np, size_t k, float s)
{
        size_t n = *np, i;
        if (n < k) {
                for (i = n++; i && h[(i - 1) / 2] > s; i = (i - 1) / 2)
                        h[i] = h[(i - 1) / 2];
                h[i] = s;
                *np = n;
                return;
        }
        if (s <= h[0])
                return;
        for (i = 0;;) {
                size_t l = 2 * i + 1, m = l;
                if (l >= n)
                        break;
                if (l + 1 < n && h[l + 1] < h[l])
                        m = l + 1;
                if (h[m] >= s)
                        break;
                h[i] = h[m];
                i = m;
        }
        h[i] = s;
}

/* Score of entity @p doc in term @p lt, read at its rank (0 when the
 * bitmap rules it out or the posting there is not the entity's). */
static float seed_other(const lex_query_t *lq, const lex_term_t *lt,
                        uint32_t doc)
{
        if (!ltrr_arm_termbits_may(lt->bits, lq->bshift, doc))
                return 0.0f;
        uint32_t r = ltrr_arm_termbits_pos(lt->bits, lt->rank, doc);
        if (r >= lt->df || lt->p[r].doc != doc)
                return 0.0f;
        return contrib(lq, lt, &lt->p[r]);
}

float ltrr_arm_lex_seed(const lex_query_t *lq, size_t k)
{
        float h[LEX_SEED_K_MAX];
        size_t n = 0;
        if (lq->cnt != 2 || !lq->tight || lq->keep || k == 0 ||
            k > LEX_SEED_K_MAX)
                return 0.0f;
        const lex_term_t *hd = &lq->terms[1], *ot = &lq->terms[0];
        if (!hd->imp || !ot->rank) {
                hd = &lq->terms[0];
                ot = &lq->terms[1];
        }
        if (!hd->imp || !ot->bits || !ot->rank)
                return 0.0f;
        size_t want = k * LEX_SEED_PER > LEX_SEED_MIN ? k * LEX_SEED_PER
                                                       : LEX_SEED_MIN;
        for (uint32_t i = 0; i < hd->imp_cnt && i < want; i++) {
                const ltrr_index_impent_t *e = &hd->imp[i];
                if (e->doc >= lq->ix->n || e->name_len == lq->qn)
                        continue; /* corrupt, or maybe an exact match
                                   * (those fill the other heap) */
                float s = hd->weight * e->tfw / (lq->k1 + e->tfw);
                seed_offer(h, &n, k, s + seed_other(lq, ot, e->doc));
        }
        if (n < k)
                return 0.0f;
        return h[0] - LEX_SEED_MARGIN * h[0];
}
