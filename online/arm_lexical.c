/*
 * ltrr - the lexical arm: BM25F over name, artist, album and description.
 *
 * Scoring (Robertson & Zaragoza's simple BM25F): per query term t and
 * entity d,
 *   tf~ = sum_f w_f * tf_f / ((1 - b_f) + b_f * len_f / avglen_f)
 *   s   = idf(t) * tf~ / (k1 + tf~),  idf = ln(1 + (N - df + .5)/(df + .5))
 * summed over the query's distinct terms (times their count in the query).
 *
 * Evaluation is document-at-a-time with block-max MaxScore: terms are
 * ordered by score upper bound; the lists whose bounds together cannot
 * beat the k-th best score (theta) only complete candidates the others
 * bring, and an essential list skips whole 64-posting blocks whose
 * stored bound (plus every other term at its best) cannot pass theta;
 * once one essential list is left, its postings whose tf~ is too low to
 * pass theta with every other term at its best are passed over without
 * scoring; with several essential lists, an entity only one of them
 * holds is passed over when its tf~ there is under that list's floor
 * against the non-essential bounds. When the bounds of the essential
 * lists that hold an entity cannot reach theta together, the entity
 * must hold a non-essential term too: it is passed over unless a
 * non-essential list's bitmap (its own, or a per-query union of those
 * without one) holds it. A query of two terms starts with a threshold
 * from an impact head (arm_lex_seed.c).
 * A bounded min-heap in the thread's scratch memory keeps the k best;
 * equal scores rank by popularity, then entity index: a tied candidate
 * whose group of entities is no more popular than the k-th entry
 * (arm_popmax.h) is passed over without reading its popularity. The
 * longest lists of a query of several terms have membership bitmaps
 * (arm_termbits.h): an entity a bitmap rules out is not sought in that
 * list, and a member is read at its rank. The recent pass of
 * ltrr_arm_lex_recent() is in arm_lex_recent.c, the exact name matches
 * in arm_lex_exact.c, the shared types in arm_lex_int.h. An unknown
 * last token of two or more bytes is read as a prefix of the
 * LEX_PREFIX_MAX most frequent terms that start with it.
 *
 * An entity whose name consists of exactly the query's tokens (the last
 * one possibly as a prefix) is an exact match: exact matches rank above
 * all others, ordered by their BM25F score (then popularity) among
 * themselves.
 */
#include <math.h>
#include <string.h>

#include "arm_lex_int.h"


size_t ltrr_arm_lexical_scratch_bytes(void)
{
        return sizeof(lex_scr_t);
}

void ltrr_bm25f_defaults(ltrr_bm25f_t *p)
{
        static const float w[LTRR_INDEX_FIELDS] = {3.0f, 2.0f, 1.0f, 0.5f};
        static const float b[LTRR_INDEX_FIELDS] = {0.75f, 0.5f, 0.75f, 0.75f};
        p->k1 = 1.2f;
        memcpy(p->w, w, sizeof(w));
        memcpy(p->b, b, sizeof(b));
        p->prefix = 1;
}

/* Returns 1 if the index can serve the lexical arm: always. */
static int lex_available(const ltrr_index_t *ix)
{
        return ix != NULL;
}


/* Adds dictionary term @p t for query slot @p slot, merging repeats. */
static void query_add(lex_query_t *lq, const ltrr_index_term_t *t,
                      unsigned slot)
{
        for (size_t i = 0; i < lq->cnt; i++) {
                lex_term_t *lt = &lq->terms[i];
                if (lt->t != t)
                        continue;
                int c = __builtin_popcount(lt->slots);
                lt->weight *= (float)(c + 1) / (float)c;
                lt->slots |= 1u << slot;
                lt->nslots = (uint32_t)c + 1;
                return;
        }
        if (lq->cnt == LEX_TERMS_MAX)
                return;
        double n = lq->ix->n, df = t->df;
        lex_term_t *lt = &lq->terms[lq->cnt++];
        memset(lt, 0, sizeof(*lt));
        lt->t = t;
        lt->p = lq->ix->posts + t->post_off;
        lt->blk = lq->ix->blocks + t->block_off;
        lt->df = t->df;
        lt->weight = (float)log(1.0 + (n - df + 0.5) / (df + 0.5));
        lt->slots = 1u << slot;
        lt->nslots = 1;
}

/** Dictionary terms one prefix expansion looks at (a bound on the
 *  work of a one-letter prefix over a large vocabulary). */
#define LEX_PREFIX_SCAN_MAX 65536

/* Expands @p tok as a prefix into the LEX_PREFIX_MAX most frequent
 * terms that start with it (ties: the first alphabetically). */
static void query_prefix(lex_query_t *lq, const ltrr_token_t *tok,
                         unsigned slot)
{
        const ltrr_index_t *ix = lq->ix;
        const ltrr_index_term_t *best[LEX_PREFIX_MAX];
        size_t nb = 0;
        uint32_t i = ltrr_index_term_lower(ix, tok->norm, tok->norm_len);
        uint32_t end = i + LEX_PREFIX_SCAN_MAX < ix->term_cnt
                           ? i + LEX_PREFIX_SCAN_MAX : ix->term_cnt;
        for (; i < end; i++) {
                const ltrr_index_term_t *t = &ix->terms[i];
                if (t->str_len < tok->norm_len ||
                    memcmp(ix->termstr + t->str_off, tok->norm,
                           tok->norm_len) != 0)
                        break;
                if (nb == LEX_PREFIX_MAX && t->df <= best[nb - 1]->df)
                        continue;
                size_t j = nb < LEX_PREFIX_MAX ? nb++ : nb - 1;
                for (; j > 0 && best[j - 1]->df < t->df; j--)
                        best[j] = best[j - 1];
                best[j] = t;
        }
        for (size_t j = 0; j < nb; j++) {
                size_t before = lq->cnt;
                query_add(lq, best[j], slot);
                if (lq->cnt > before)
                        lq->terms[lq->cnt - 1].prefix = 1;
        }
}

/** Relative margin on stored bounds: the index computed them with the
 *  same float operations, but the order of sums may differ. */
#define LEX_BOUND_MARGIN 1.0001f

/* Loose tf~ bound from per-field largest tf and shortest length. */
static float loose_tfw(const lex_query_t *lq, const uint8_t *maxtf,
                       const uint16_t *minlen)
{
        float u = 0.0f;
        for (int f = 0; f < LTRR_INDEX_FIELDS; f++) {
                float m = maxtf[f];
                if (m > 0)
                        u += lq->w[f] * m /
                             (lq->one_b[f] + lq->inv[f] * (float)minlen[f]);
        }
        return u;
}

/* Upper bound of term @p lt's score. With the index's bound parameters
 * it is the stored largest tf~; otherwise each field's largest tf in a
 * field no shorter than that tf (a field holding tf copies has >= tf
 * tokens). */
static float term_ub(const lex_query_t *lq, const lex_term_t *lt)
{
        float u;
        if (lq->tight) {
                u = lt->t->max_tfw * LEX_BOUND_MARGIN;
        } else {
                uint16_t len[LTRR_INDEX_FIELDS];
                for (int f = 0; f < LTRR_INDEX_FIELDS; f++)
                        len[f] = lt->t->maxtf[f];
                u = loose_tfw(lq, lt->t->maxtf, len) * LEX_BOUND_MARGIN;
        }
        return lt->weight * u / (lq->k1 + u);
}

/* Upper bound of term @p lt's score over its block @p b. */
static float block_ub(const lex_query_t *lq, const lex_term_t *lt, uint32_t b)
{
        const ltrr_index_block_t *blk = &lt->blk[b];
        float u = lq->tight ? blk->max_tfw
                            : loose_tfw(lq, blk->maxtf, blk->minlen);
        u *= LEX_BOUND_MARGIN;
        return lt->weight * u / (lq->k1 + u);
}

/* Orders terms by upper bound, ascending (insertion sort, <= 48). */
static void query_order(lex_query_t *lq)
{
        for (size_t i = 0; i < lq->cnt; i++)
                lq->terms[i].ub = term_ub(lq, &lq->terms[i]);
        for (size_t i = 1; i < lq->cnt; i++) {
                lex_term_t t = lq->terms[i];
                size_t j = i;
                for (; j > 0 && lq->terms[j - 1].ub > t.ub; j--)
                        lq->terms[j] = lq->terms[j - 1];
                lq->terms[j] = t;
        }
        float c = 0.0f;
        for (size_t i = 0; i < lq->cnt; i++)
                lq->cum[i] = (c += lq->terms[i].ub);
        for (size_t i = 0; i < lq->cnt; i++)
                lq->terms[i].rest = c - lq->terms[i].ub;
}

/* Turns the analyzed query into distinct dictionary terms. */
static void query_prepare(lex_query_t *lq, const ltrr_index_t *ix,
                          const ltrr_arm_query_t *q, const ltrr_bm25f_t *p)
{
        size_t n = q->cnt < LTRR_ARM_QUERY_TOKENS_MAX ? q->cnt
                                                      : LTRR_ARM_QUERY_TOKENS_MAX;
        int stop = ltrr_index_stopwords(ix);
        lq->ix = ix;
        lq->cnt = 0;
        lq->qn = 0;
        lq->pfx = NULL;
        lq->pfx_len = 0;
        lq->ubits = NULL;
        lq->uess = 0;
        lq->uon = 0;
        lq->uub = 0.0f;
        lq->utop = 0.0f;
        lq->ubits2 = NULL;
        lq->u2on = 0;
        lq->k1 = p->k1;
        for (int f = 0; f < LTRR_INDEX_FIELDS; f++) {
                double avg = ix->meta->avglen[f];
                lq->w[f] = p->w[f];
                lq->one_b[f] = 1.0f - p->b[f];
                lq->inv[f] = avg > 0 ? (float)(p->b[f] / avg) : 0.0f;
        }
        lq->tight = memcmp(p->w, ix->blkhdr->w, sizeof(p->w)) == 0 &&
                    memcmp(p->b, ix->blkhdr->b, sizeof(p->b)) == 0;
        for (size_t i = 0; i < n; i++) {
                const ltrr_token_t *tok = &q->toks[i];
                if (stop && ltrr_index_is_stopword(tok->norm, tok->norm_len))
                        continue;
                unsigned slot = lq->qn++;
                const ltrr_index_term_t *t =
                    ltrr_index_term_find(ix, tok->stem, tok->stem_len);
                if (t)
                        query_add(lq, t, slot);
                else if (p->prefix && i + 1 == n && tok->norm_len >= 2) {
                        query_prefix(lq, tok, slot);
                        lq->pfx = tok->norm;
                        lq->pfx_len = tok->norm_len;
                }
        }
        lq->all = lq->qn >= 32 ? UINT32_MAX : (1u << lq->qn) - 1;
        query_order(lq);
        for (size_t i = 0; lq->tight && i < lq->cnt; i++) {
                lex_term_t *lt = &lq->terms[i];
                lt->imp = ltrr_index_impact(ix, (uint32_t)(lt->t - ix->terms),
                                            &lt->imp_cnt);
        }
}


/* Sorts heap @p h of @p n entries best first. */
static void heap_sort(const ltrr_index_t *ix, lex_top_t *h, size_t n)
{
        for (size_t m = n; m > 1; m--) {
                lex_top_t t = h[0];
                h[0] = h[m - 1];
                h[m - 1] = t;
                heap_down(ix, h, m - 1, 0);
        }
}

/* Moves @p lt's cursor past whole blocks whose bound, with every other
 * term at its best, cannot pass @p theta. Entities skipped this way may
 * still be scored from other lists, without this term: they could not
 * enter the heaps anyway. */
static void skip_blocks(lex_query_t *lq, lex_term_t *lt, float theta)
{
        while (lt->pos < lt->df) {
                uint32_t b = lt->pos / LTRR_INDEX_BLOCK;
                if (b + 1 == lt->ok_blk)
                        return;
                if (block_ub(lq, lt, b) + lt->rest > theta) {
                        lt->ok_blk = b + 1;
                        return;
                }
                uint32_t next = (b + 1) * LTRR_INDEX_BLOCK;
                lt->pos = next < lt->df ? next : lt->df;
        }
}

/* skip_blocks() when @p lt's cursor is not in the block last found
 * worth reading (the common case, checked inline). */
static inline void skip_blocks_at(lex_query_t *lq, lex_term_t *lt,
                                  float theta)
{
        if (lt->pos / LTRR_INDEX_BLOCK + 1 != lt->ok_blk)
                skip_blocks(lq, lt, theta);
}

/** Share of theta taken off the score a posting needs in tfw_floor():
 *  far above the rounding error of float sums, so that a posting passed
 *  over is one score_doc() would prune. */
#define LEX_FLOOR_MARGIN 1e-4f

/* With one essential list left (the last), the tf~ under which its
 * postings cannot bring an entity past @p theta even with every other
 * term at its bound: score_doc() would prune them. 0 when there is no
 * such floor (heap not full, other bound parameters, several essential
 * lists). */
static float tfw_floor(const lex_query_t *lq, size_t ess, float theta)
{
        if (!lq->tight || theta <= 0.0f || ess + 1 != lq->cnt)
                return 0.0f;
        const lex_term_t *lt = &lq->terms[ess];
        float x = theta - (ess ? lq->cum[ess - 1] : 0.0f) -
                  LEX_FLOOR_MARGIN * theta;
        if (x <= 0.0f)
                return 0.0f;
        if (x >= lt->weight)
                return INFINITY; /* contributions stay under weight */
        return lq->k1 * x / (lt->weight - x);
}

/* With two or more essential lists [ess, cnt) left, fills lq->floor:
 * per list, the tf~ under which an entity no other essential list holds
 * cannot pass @p theta with every non-essential term at its bound
 * (score_doc() would score it, and it could not enter the heap). Sets
 * and returns lq->multi (0: no floors). */
static int multi_floors(lex_query_t *lq, size_t ess, float theta)
{
        lq->multi = 0;
        if (!lq->tight || theta <= 0.0f || ess + 2 > lq->cnt)
                return 0;
        float x = theta - (ess ? lq->cum[ess - 1] : 0.0f) -
                  LEX_FLOOR_MARGIN * theta;
        if (x <= 0.0f)
                return 0;
        for (size_t i = ess; i < lq->cnt; i++) {
                const lex_term_t *lt = &lq->terms[i];
                lq->floor[i] = x >= lt->weight
                                   ? INFINITY
                                   : lq->k1 * x / (lt->weight - x);
        }
        return lq->multi = 1;
}

/* Moves @p lt's cursor past its postings under tf~ @p floor (and past
 * blocks that cannot pass @p theta). */
static void skip_floor(lex_query_t *lq, lex_term_t *lt, float theta,
                       float floor)
{
        while (lt->pos < lt->df && lt->p[lt->pos].tfw < floor) {
                lt->pos++;
                if (lt->pos % LTRR_INDEX_BLOCK == 0)
                        skip_blocks(lq, lt, theta);
        }
}

/* 1 if a non-essential list [0, ess) may hold @p doc (< n), by the
 * lists' bitmaps and lq->ubits (ltrr_arm_lex_union_grow() up to
 * @p ess). */
static inline int held_elsewhere(const lex_query_t *lq, size_t ess,
                                 uint32_t doc)
{
        if (lq->uon && ltrr_arm_termbits_may(lq->ubits, lq->bshift, doc))
                return 1;
        for (size_t i = 0; i < ess; i++)
                if (lq->terms[i].bits &&
                    ltrr_arm_termbits_may(lq->terms[i].bits, lq->bshift, doc))
                        return 1;
        return 0;
}

/* Sum of the bounds of the non-essential lists [0, ess) that may hold
 * @p doc (< n), by the lists' bitmaps and lq->ubits (an entity of one
 * of its lists: the largest of their bounds; of two or more, as
 * lq->ubits2 says: their sum). An entity whose essential lists' bounds
 * with this sum cannot pass theta cannot enter the heap. */
static inline float elsewhere_ub(const lex_query_t *lq, size_t ess,
                                 uint32_t doc)
{
        float u = 0.0f;
        if (lq->uon && ltrr_arm_termbits_may(lq->ubits, lq->bshift, doc))
                u = lq->u2on && ltrr_arm_termbits_may(lq->ubits2, lq->bshift,
                                                      doc)
                        ? lq->uub : lq->utop;
        for (size_t i = 0; i < ess; i++)
                if (lq->terms[i].bits &&
                    ltrr_arm_termbits_may(lq->terms[i].bits, lq->bshift, doc))
                        u += lq->terms[i].ub;
        return u;
}

/* With one essential list left (the last) and the non-essential lists'
 * entities known (held_elsewhere()), the tf~ under which a posting of
 * the essential list cannot reach @p theta on its own, less
 * LEX_FLOOR_MARGIN: its entity enters the heap only if it holds another
 * query term too. 0 when there is no such floor. */
static float alone_floor(const lex_query_t *lq, size_t ess, float theta)
{
        if (!lq->tight || !lq->ubits || theta <= 0.0f || !ess ||
            ess + 1 != lq->cnt)
                return 0.0f;
        const lex_term_t *lt = &lq->terms[ess];
        float x = theta - LEX_FLOOR_MARGIN * theta;
        if (x >= lt->weight)
                return INFINITY; /* contributions stay under weight */
        return lq->k1 * x / (lt->weight - x);
}

/* skip_floor() that also passes over postings under tf~ @p alone
 * (alone_floor()) whose entity no other list holds: such an entity
 * scores its posting's contribution alone, under theta. */
static void skip_alone(lex_query_t *lq, lex_term_t *lt, size_t ess,
                       float theta, float floor, float alone)
{
        const uint32_t n = lq->ix->n;
        while (lt->pos < lt->df) {
                const ltrr_index_post_t *p = &lt->p[lt->pos];
                if (p->tfw >= floor &&
                    (p->tfw >= alone || p->doc >= n ||
                     held_elsewhere(lq, ess, p->doc)))
                        return;
                lt->pos++;
                if (lt->pos % LTRR_INDEX_BLOCK == 0)
                        skip_blocks(lq, lt, theta);
        }
}

/* Moves @p lt's cursor past postings of entities the cheap filter
 * rejects (they cannot enter the heaps, whatever list brings them). */
static void skip_unkept(const lex_query_t *lq, lex_term_t *lt)
{
        const ltrr_index_t *ix = lq->ix;
        while (lt->pos < lt->df && lt->p[lt->pos].doc < ix->n &&
               !lq->keep(lq->keep_opaque, ix, lt->p[lt->pos].doc))
                lt->pos++;
}

/* Smallest current entity over the essential lists [ess, cnt), or
 * UINT32_MAX when they are exhausted. Postings of the one essential
 * list under @p floor (tfw_floor()), or under @p alone (alone_floor())
 * with no other query term, and of entities a cheap filter rejects, are
 * passed over. */
static uint32_t next_doc(lex_query_t *lq, size_t ess, float theta,
                         float floor, float alone)
{
        uint32_t doc = UINT32_MAX;
        for (size_t i = ess; i < lq->cnt; i++) {
                lex_term_t *lt = &lq->terms[i];
                if (theta > 0.0f)
                        skip_blocks_at(lq, lt, theta);
                if (alone > 0.0f)
                        skip_alone(lq, lt, ess, theta, floor, alone);
                else if (floor > 0.0f)
                        skip_floor(lq, lt, theta, floor);
                if (lq->keep_cheap)
                        skip_unkept(lq, lt);
                if (lt->pos < lt->df && lt->p[lt->pos].doc < doc)
                        doc = lt->p[lt->pos].doc;
        }
        return doc;
}

/* With list @p at alone on its current entity (every other essential
 * list is at @p second or beyond), moves it past that entity and its
 * next ones before @p second that cannot pass theta: a tf~ under the
 * list's floor, or (@p alone: its bound cannot reach theta on its own)
 * an entity no non-essential list holds. Returns 0 if the current
 * entity must be scored. */
static int pass_single(lex_query_t *lq, size_t ess, size_t at,
                       uint32_t second, int alone, float theta)
{
        const uint32_t n = lq->ix->n;
        lex_term_t *lt = &lq->terms[at];
        float fl = lq->floor[at];
        float need = theta - lt->ub;
        uint32_t j = lt->pos;
        for (; j < lt->df; j++) {
                const ltrr_index_post_t *p = &lt->p[j];
                if (j > lt->pos && p->doc >= second)
                        break;
                if (p->tfw >= fl &&
                    (!alone || p->doc >= n ||
                     elsewhere_ub(lq, ess, p->doc) > need)) {
                        if (j == lt->pos)
                                return 0;
                        break;
                }
        }
        lt->pos = j;
        return 1;
}

/* next_doc() with two or more essential lists and their floors
 * (multi_floors()): an entity that only one essential list holds, with
 * a tf~ there under that list's floor, is passed over (its cursor moves
 * on) without scoring. */
static uint32_t next_doc_multi(lex_query_t *lq, size_t ess, float theta)
{
        const uint32_t n = lq->ix->n;
        for (;;) {
                uint32_t doc = UINT32_MAX, second = UINT32_MAX;
                size_t at = ess;
                float sub = 0.0f; /* bounds of the lists on doc */
                for (size_t i = ess; i < lq->cnt; i++) {
                        lex_term_t *lt = &lq->terms[i];
                        skip_blocks_at(lq, lt, theta);
                        if (lq->keep_cheap)
                                skip_unkept(lq, lt);
                        uint32_t d = lt->pos < lt->df ? lt->p[lt->pos].doc
                                                      : UINT32_MAX;
                        if (d < doc) {
                                second = doc;
                                doc = d;
                                at = i;
                                sub = lt->ub;
                        } else if (d == doc) {
                                second = d;
                                sub += lt->ub;
                        } else if (d < second) {
                                second = d;
                        }
                }
                if (doc == UINT32_MAX)
                        return doc;
                int alone = lq->ubits && sub <= theta; /* needs another */
                if (doc == second) {
                        if (!alone || doc >= n ||
                            elsewhere_ub(lq, ess, doc) > theta - sub)
                                return doc;
                        for (size_t i = ess; i < lq->cnt; i++)
                                lq->terms[i].pos +=
                                    lq->terms[i].pos < lq->terms[i].df &&
                                    lq->terms[i].p[lq->terms[i].pos].doc ==
                                        doc;
                        continue;
                }
                if (!pass_single(lq, ess, at, second, alone, theta))
                        return doc;
        }
}

/* Scores @p doc: essential lists first (advancing them), then the others
 * from the largest bound down while the doc can still pass @p theta.
 * Returns 0 if pruned. */
static int score_doc(lex_query_t *lq, size_t ess, uint32_t doc, int full,
                     float theta, lex_top_t *c)
{
        uint32_t nametf = 0;
        memset(c, 0, sizeof(*c));
        c->ent = doc;
        for (size_t i = ess; i < lq->cnt; i++) {
                lex_term_t *lt = &lq->terms[i];
                if (lt->pos < lt->df && lt->p[lt->pos].doc == doc) {
                        add_term(lq, lt, doc, c, &nametf);
                        lt->pos++;
                }
        }
        for (size_t i = ess; i-- > 0;) {
                if (full && c->score + lq->cum[i] <= theta)
                        return 0;
                if (full && lq->terms[i].qtf &&
                    qtf_loses(lq, &lq->terms[i], doc, c->score,
                              i ? lq->cum[i - 1] : 0.0f, theta))
                        return 0; /* its posting cannot bring doc in */
                add_term(lq, &lq->terms[i], doc, c, &nametf);
        }
        c->exact = c->namemask == lq->all && nametf == lq->qn &&
                   c->namelen == lq->qn;
        return 1;
}

/* Moves the essential cursors standing on @p doc past it. */
static void skip_doc(lex_query_t *lq, size_t ess, uint32_t doc)
{
        for (size_t i = ess; i < lq->cnt; i++) {
                lex_term_t *lt = &lq->terms[i];
                if (lt->pos < lt->df && lt->p[lt->pos].doc == doc)
                        lt->pos++;
        }
}


/** Postings ahead in the one essential list whose seeks into the
 *  non-essential lists with rank tables are prefetched. */
#define LEX_AHEAD 10

/* With one essential list left (the last), prefetches the postings of
 * the non-essential lists with rank tables that the entity LEX_AHEAD
 * postings ahead will be read at, unless its tf~ is under @p floor or
 * (a quantized tf~ table) score_doc() will find, at @p theta, that the
 * posting cannot bring it in. */
static void prefetch_ahead(const lex_query_t *lq, size_t ess, float floor,
                           float theta)
{
        const lex_term_t *e = &lq->terms[ess];
        uint32_t at = e->pos + LEX_AHEAD;
        if (at >= e->df || e->p[at].tfw < floor || e->p[at].doc >= lq->ix->n)
                return;
        uint32_t d = e->p[at].doc;
        for (size_t i = 0; i < ess; i++) {
                const lex_term_t *lt = &lq->terms[i];
                if (!lt->rank || !ltrr_arm_termbits_may(lt->bits, lq->bshift,
                                                        d))
                        continue;
                if (lt->qtf && theta > 0.0f &&
                    qtf_loses(lq, lt, d,
                              contrib(lq, e, &e->p[at]) + lq->cum[ess - 1] -
                                  lq->cum[i],
                              i ? lq->cum[i - 1] : 0.0f, theta))
                        continue;
                uint32_t r = ltrr_arm_termbits_pos(lt->bits, lt->rank, d);
                if (r < lt->df)
                        __builtin_prefetch(&lt->p[r]);
        }
}

/* MaxScore's running state. */
typedef struct lex_ms_s {
        size_t ess;                /* first essential list */
        float theta;               /* k-th best score, 0: heap not full */
        float floor;               /* tfw_floor() */
        float alone;               /* alone_floor() */
        float theta0;              /* ltrr_arm_lex_seed(): a lower bound
                                    * of the final theta, or 0 */
} lex_ms_t;

/* Raises theta to @p theta (at least the seed's), then moves the
 * essential lists and the floors. */
static void ms_raise(lex_query_t *lq, lex_ms_t *ms, float theta)
{
        ms->theta = theta > ms->theta0 ? theta : ms->theta0;
        while (ms->ess < lq->cnt && lq->cum[ms->ess] <= ms->theta)
                ms->ess++;
        ltrr_arm_lex_union_grow(lq, ms->ess);
        ms->floor = tfw_floor(lq, ms->ess, ms->theta);
        ms->alone = alone_floor(lq, ms->ess, ms->theta);
        multi_floors(lq, ms->ess, ms->theta);
}

/* Offers candidate @p c (scored, not an exact match, in range) to heap
 * @p top, asking an expensive filter only about an entity that would
 * enter; then raises theta and moves the essential lists and floors. */
static void ms_offer(lex_query_t *lq, lex_ms_t *ms, lex_top_t *top,
                     size_t *ntp, size_t k, lex_top_t *c)
{
        int full = *ntp == k;
        int tie = full && c->score == top[0].score;
        int ask = lq->keep && !lq->keep_cheap;
        if (tie && tie_loses(lq, &top[0], c->ent))
                return; /* a tie that cannot win */
        if (tie && ask && !lq->keep(lq->keep_opaque, lq->ix, c->ent))
                return; /* a tie: the filter before the popularity read */
        if (full && !top_less(lq->ix, &top[0], c))
                return;
        if (ask && !tie && !lq->keep(lq->keep_opaque, lq->ix, c->ent))
                return; /* asked only about entities that would enter */
        heap_offer(lq->ix, top, ntp, k, c);
        ms_raise(lq, ms, *ntp == k ? top[0].score : 0.0f);
}

/* Document at a time with MaxScore: lists whose bounds add up to no more
 * than the k-th best score (theta) cannot bring a new entity on their
 * own, so only the others produce candidates, and a candidate stops
 * being scored once it cannot pass theta. Exact name matches are left
 * out: ltrr_arm_lex_exact_pass() found them. */
static void maxscore_pass(lex_query_t *lq, lex_top_t *top, size_t *ntp,
                          size_t k)
{
        lex_ms_t ms = {.ess = 0, .theta = 0.0f, .floor = 0.0f,
                       .alone = 0.0f, .theta0 = ltrr_arm_lex_seed(lq, k)};
        lq->multi = 0;
        if (ms.theta0 > 0.0f)
                ms_raise(lq, &ms, 0.0f);
        for (;;) {
                uint32_t doc = lq->multi
                                   ? next_doc_multi(lq, ms.ess, ms.theta)
                                   : next_doc(lq, ms.ess, ms.theta, ms.floor,
                                              ms.alone);
                if (doc == UINT32_MAX)
                        break;
                lex_top_t c;
                int full = *ntp == k, prune = full || ms.theta0 > 0.0f;
                if (lq->keep_cheap && doc < lq->ix->n &&
                    !lq->keep(lq->keep_opaque, lq->ix, doc)) {
                        skip_doc(lq, ms.ess, doc);
                        continue;
                }
                if (ms.ess && ms.ess + 1 == lq->cnt)
                        prefetch_ahead(lq, ms.ess, ms.floor, ms.theta);
                if (lq->where && doc < lq->ix->n) /* the filter's */
                        __builtin_prefetch(
                            lq->where(lq->keep_opaque, lq->ix, doc));
                if (!score_doc(lq, ms.ess, doc, prune, ms.theta, &c))
                        continue;
                if (c.exact || doc >= lq->ix->n)
                        continue; /* exact matches: the exact pass;
                                   * a doc past the end is corrupt */
                if ((full && c.score < top[0].score) ||
                    c.score < ms.theta0)
                        continue;
                ms_offer(lq, &ms, top, ntp, k, &c);
        }
}


/* 1 if the query's terms are exactly the expansion @p terms of a
 * PFXIMPACT list (TERMS positions, UINT32_MAX after the last). */
static int pfx_same_terms(const lex_query_t *lq, const uint32_t *terms)
{
        size_t m = 0;
        while (m < LTRR_INDEX_PFX_TERMS && terms[m] != UINT32_MAX)
                m++;
        if (m != lq->cnt)
                return 0;
        for (size_t i = 0; i < lq->cnt; i++) {
                uint32_t pos = (uint32_t)(lq->terms[i].t - lq->ix->terms);
                size_t j = 0;
                while (j < m && terms[j] != pos)
                        j++;
                if (j == m || !lq->terms[i].prefix)
                        return 0;
        }
        return 1;
}

/* A precomputed head of the query's answer: the impact-ordered list of
 * its one term, or the list of its one prefix token. */
typedef struct lex_head_s {
        const lex_term_t *lt;            /* the term (imp) */
        const ltrr_index_impent_t *imp;  /* term head, or NULL */
        const ltrr_index_pfxent_t *pfx;  /* prefix head, or NULL */
        uint32_t cnt;                    /* entries */
        int complete;                    /* 1: every matching entity */
} lex_head_t;

/* Finds the query's head, if it has one. Returns 1 if found. */
static int head_find(const lex_query_t *lq, lex_head_t *h)
{
        const ltrr_index_pfxhdr_t *ph;
        memset(h, 0, sizeof(*h));
        if (!lq->tight)
                return 0;
        if (lq->cnt == 1 && lq->terms[0].imp) {
                h->lt = &lq->terms[0];
                h->imp = h->lt->imp;
                h->cnt = h->lt->imp_cnt;
                h->complete = h->cnt == h->lt->df;
                return 1;
        }
        if (!lq->pfx || lq->qn != 1 || lq->cnt < 2)
                return 0;
        const ltrr_index_pfxlist_t *l =
            ltrr_index_pfx(lq->ix, lq->pfx, lq->pfx_len, &ph, &h->pfx);
        if (!l || ph->k1 != lq->k1 || !pfx_same_terms(lq, l->terms))
                return 0;
        h->cnt = l->cnt;
        h->complete = l->cnt < ph->len_max;
        return 1;
}

/* Entry @p i of head @p h as a candidate. */
static void head_entry(const lex_query_t *lq, const lex_head_t *h,
                       uint32_t i, lex_top_t *c)
{
        memset(c, 0, sizeof(*c));
        if (h->imp) {
                const ltrr_index_impent_t *e = &h->imp[i];
                const lex_term_t *lt = h->lt;
                c->ent = e->doc;
                c->score = lt->weight * e->tfw / (lq->k1 + e->tfw);
                c->anymask = lt->slots;
                c->namemask = e->name_tf ? lt->slots : 0;
                c->namelen = e->name_len;
                c->exact = lt->slots == lq->all && e->name_tf == lq->qn &&
                           e->name_len == lq->qn;
        } else {
                const ltrr_index_pfxent_t *e = &h->pfx[i];
                c->ent = e->doc;
                c->score = e->score;
                c->anymask = lq->all;
                c->namemask = e->flags & LTRR_INDEX_PFX_F_NAME ? lq->all : 0;
                c->exact = (e->flags & LTRR_INDEX_PFX_F_EXACT) != 0;
        }
}

/* Answers the query from its head, whose entries come in the heaps'
 * order (score, then popularity, then entity): the first k exact matches
 * and the first k others. Exact matches rank above everything, so the
 * answer stands only when k of them were seen, or all the NAMES section
 * can hold (@p bound), or the head is complete. Returns 1 with the heaps
 * filled, else 0 (the heaps are then garbage). */
static int head_pass(lex_query_t *lq, const lex_head_t *h, uint64_t bound,
                     size_t k, lex_top_t *ex, size_t *nep, lex_top_t *top,
                     size_t *ntp)
{
        const ltrr_index_t *ix = lq->ix;
        size_t ne = 0, nt = 0;
        for (uint32_t i = 0; i < h->cnt; i++) {
                if (ne == k || (ne == bound && nt + ne >= k))
                        break;
                if (lq->keep && !lq->keep_cheap && i == h->cnt / 4 &&
                    !h->complete && 4 * (nt + ne) < k)
                        return 0; /* an expensive filter keeps too few
                                   * to fill k from this head */
                lex_top_t c;
                head_entry(lq, h, i, &c);
                if (c.ent >= ix->n || (c.exact ? ne == k : nt == k))
                        continue; /* corrupt, or not needed */
                if (lq->keep && !lq->keep(lq->keep_opaque, ix, c.ent))
                        continue;
                if (c.exact)
                        heap_offer(ix, ex, &ne, k, &c);
                else
                        heap_offer(ix, top, &nt, k, &c);
        }
        if (!(ne == k || (ne == bound && nt + ne >= k) || h->complete))
                return 0;
        *nep = ne;
        *ntp = nt;
        return 1;
}


/* Writes one candidate. */
static void emit(const lex_query_t *lq, const lex_top_t *t,
                 ltrr_arm_cand_t *o)
{
        o->ent = t->ent;
        o->score = t->score;
        o->feat[0] = t->score;
        o->feat[1] = (float)t->exact;
        o->feat[2] = lq->qn ? (float)__builtin_popcount(t->anymask) /
                                  (float)lq->qn : 0.0f;
        o->feat[3] = lq->qn ? (float)__builtin_popcount(t->namemask) /
                                  (float)lq->qn : 0.0f;
}

/* A filter of the lexical pass (keep NULL: none). */
typedef struct lex_filter_s {
        ltrr_arm_lex_filter_fn *keep;  /* 1 keeps an entity */
        ltrr_arm_lex_where_fn *where;  /* its record to prefetch, or NULL */
        const void *opaque;            /* their argument */
        int cheap;                     /* 1: asked before scoring */
} lex_filter_t;

/* ltrr_arm_lex_filtered() with filter @p f, and when @p since is not
 * INT32_MIN the recent pass first (ltrr_arm_lex_recent()). */
static ltrr_err_t lex_pass(const ltrr_index_t *ix, const ltrr_arm_query_t *q,
                           const ltrr_arm_ctx_t *ctx, ltrr_arm_scratch_t *scr,
                           unsigned slot, const lex_filter_t *f,
                           int32_t since, size_t k, ltrr_arm_cand_t *out,
                           size_t *cntp, char *errstr, size_t errstr_size)
{
        ltrr_bm25f_t def;
        const ltrr_bm25f_t *p = ctx && ctx->bm25f ? ctx->bm25f : NULL;
        lex_query_t lq;
        *cntp = 0;
        if (!p) {
                ltrr_bm25f_defaults(&def);
                p = &def;
        }
        if (!(p->k1 > 0))
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "bm25f k1 must be > 0");
        if (k == 0 || k > LTRR_ARM_K_MAX)
                return k ? ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                     "k above %d", LTRR_ARM_K_MAX)
                         : LTRR_OK;
        query_prepare(&lq, ix, q, p);
        lq.keep = f->keep;
        lq.keep_opaque = f->opaque;
        lq.keep_cheap = f->keep && f->cheap;
        lq.where = f->keep && !f->cheap ? f->where : NULL;
        if (lq.cnt == 0)
                return LTRR_OK;
        lex_scr_t *s = ltrr_arm_scratch_get(scr, slot, sizeof(lex_scr_t));
        if (!s)
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "no scratch memory");
        lq.pm_mem = &s->pm;
        lq.pm = NULL;
        lq.ubits = s->ubits;
        lq.ubits2 = s->ubits2;
        size_t ne = 0, nt = 0;
        lex_head_t h;
        if (since != INT32_MIN &&
            ltrr_arm_lex_recent_pass(&lq, s, since, k, &ne, &nt)) {
                /* done: every recent match was scored */
        } else if (!head_find(&lq, &h) ||
            !head_pass(&lq, &h, ltrr_arm_lex_exact_bound(&lq), k, s->exact,
                       &ne, s->top, &nt)) {
                ne = nt = 0;
                /* heads and the recent pass seek little */
                ltrr_arm_lex_query_bits(&lq, &s->tb);
                ltrr_arm_lex_exact_pass(&lq, s->exact, &ne, k);
                if (ne < k) /* only the places exact matches left are open */
                        maxscore_pass(&lq, s->top, &nt, k - ne);
        }
        heap_sort(ix, s->exact, ne);
        heap_sort(ix, s->top, nt);
        size_t n = 0;
        for (size_t i = 0; i < ne && n < k; i++)
                emit(&lq, &s->exact[i], &out[n++]);
        for (size_t i = 0; i < nt && n < k; i++)
                emit(&lq, &s->top[i], &out[n++]);
        *cntp = n;
        return LTRR_OK;
}

ltrr_err_t ltrr_arm_lex_filtered(const ltrr_index_t *ix,
                                 const ltrr_arm_query_t *q,
                                 const ltrr_arm_ctx_t *ctx,
                                 ltrr_arm_scratch_t *scr, unsigned slot,
                                 ltrr_arm_lex_filter_fn *keep,
                                 const void *opaque, int cheap, size_t k,
                                 ltrr_arm_cand_t *out, size_t *cntp,
                                 char *errstr, size_t errstr_size)
{
        lex_filter_t f = {.keep = keep, .opaque = opaque, .cheap = cheap};
        return lex_pass(ix, q, ctx, scr, slot, &f, INT32_MIN, k, out, cntp,
                        errstr, errstr_size);
}

ltrr_err_t ltrr_arm_lex_filtered_late(const ltrr_index_t *ix,
                                      const ltrr_arm_query_t *q,
                                      const ltrr_arm_ctx_t *ctx,
                                      ltrr_arm_scratch_t *scr, unsigned slot,
                                      ltrr_arm_lex_filter_fn *keep,
                                      ltrr_arm_lex_where_fn *where,
                                      const void *opaque, size_t k,
                                      ltrr_arm_cand_t *out, size_t *cntp,
                                      char *errstr, size_t errstr_size)
{
        lex_filter_t f = {.keep = keep, .where = where, .opaque = opaque};
        *cntp = 0;
        if (!keep || !where)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "late filter needs keep and where");
        return lex_pass(ix, q, ctx, scr, slot, &f, INT32_MIN, k, out, cntp,
                        errstr, errstr_size);
}

ltrr_err_t ltrr_arm_lex_recent(const ltrr_index_t *ix,
                               const ltrr_arm_query_t *q,
                               const ltrr_arm_ctx_t *ctx,
                               ltrr_arm_scratch_t *scr, unsigned slot,
                               ltrr_arm_lex_filter_fn *keep,
                               const void *opaque, int32_t since, size_t k,
                               ltrr_arm_cand_t *out, size_t *cntp,
                               char *errstr, size_t errstr_size)
{
        lex_filter_t f = {.keep = keep, .opaque = opaque, .cheap = 1};
        return lex_pass(ix, q, ctx, scr, slot, &f,
                        since == INT32_MIN ? INT32_MIN + 1 : since, k, out,
                        cntp, errstr, errstr_size);
}

/* The arm's run function (see ltrr_arm_run_fn). */
static ltrr_err_t lex_run(const ltrr_index_t *ix, const ltrr_arm_query_t *q,
                          const ltrr_arm_ctx_t *ctx, ltrr_arm_scratch_t *scr,
                          unsigned slot, size_t k, ltrr_arm_cand_t *out,
                          size_t *cntp, char *errstr, size_t errstr_size)
{
        return ltrr_arm_lex_filtered(ix, q, ctx, scr, slot, NULL, NULL, 0,
                                     k, out, cntp, errstr, errstr_size);
}

const ltrr_arm_t ltrr_arm_lexical = {
    .name = "lexical",
    .desc = "BM25F over name, artist, album and description",
    .feat_names = {"bm25f", "exact_name", "query_coverage", "name_coverage"},
    .available = lex_available,
    .run = lex_run,
};
