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
 * scoring.
 * A bounded min-heap in the thread's scratch memory keeps the k best;
 * equal scores rank by popularity, then entity index. An unknown last
 * token of two or more bytes is read as a prefix of the
 * LEX_PREFIX_MAX most frequent terms that start with it.
 *
 * An entity whose name consists of exactly the query's tokens (the last
 * one possibly as a prefix) is an exact match: exact matches rank above
 * all others, ordered by their BM25F score (then popularity) among
 * themselves.
 */
#include <math.h>
#include <string.h>

#include "arm.h"
#include "arm_state.h"
#include "index_int.h"

/** Terms one unknown last token may expand to as a prefix. */
#define LEX_PREFIX_MAX 16
/** Query terms after prefix expansion. */
#define LEX_TERMS_MAX (LTRR_ARM_QUERY_TOKENS_MAX + LEX_PREFIX_MAX)

/* A scored entity. */
typedef struct lex_top_s {
        float score;       /* BM25F */
        uint32_t ent;      /* entity */
        uint32_t anymask;  /* query slots matched in any field */
        uint32_t namemask; /* query slots matched in the name */
        uint32_t exact;    /* 1 if an exact name match */
        uint32_t namelen;  /* tokens in the name (from a posting) */
        uint32_t popok;    /* 1 once pop is read */
        float pop;         /* popularity, read at the first tie */
} lex_top_t;

/* A query term with its posting cursor. */
typedef struct lex_term_s {
        const ltrr_index_term_t *t;   /* dictionary record */
        const ltrr_index_post_t *p;   /* its postings */
        uint32_t df;                  /* entries in p */
        uint32_t pos;                 /* cursor */
        float weight;                 /* idf * count in query */
        float ub;                     /* score upper bound */
        uint32_t slots;               /* query slots it stands for */
        int prefix;                   /* 1: from a prefix expansion */
        const ltrr_index_block_t *blk; /* its blocks */
        float rest;                   /* sum of the other terms' ub */
        uint32_t ok_blk;              /* block + 1 last found worth
                                       * reading, 0 none */
        const ltrr_index_impent_t *imp; /* impact-ordered head, or NULL */
        uint32_t imp_cnt;             /* entries in imp */
} lex_term_t;

/* The prepared query. */
typedef struct lex_query_s {
        lex_term_t terms[LEX_TERMS_MAX]; /* distinct terms, by ub */
        float cum[LEX_TERMS_MAX];        /* prefix sums of ub */
        size_t cnt;                      /* entries in terms */
        uint32_t qn;                     /* query slots (tokens kept) */
        uint32_t all;                    /* mask of every slot */
        float k1;                        /* saturation */
        float inv[LTRR_INDEX_FIELDS];    /* b_f / avglen_f */
        float one_b[LTRR_INDEX_FIELDS];  /* 1 - b_f */
        float w[LTRR_INDEX_FIELDS];      /* field weights */
        int tight;                       /* w and b are those of the
                                          * index's block bounds */
        const ltrr_index_t *ix;          /* the index */
        ltrr_arm_lex_filter_fn *keep;    /* entity filter, or NULL */
        int keep_cheap;                  /* 1: ask before scoring */
        const void *keep_opaque;         /* its argument */
        const char *pfx;                 /* the token expanded as a
                                          * prefix, or NULL */
        size_t pfx_len;                  /* its bytes */
} lex_query_t;

/** Postings the recent pass gathers at most (more: the full pass). */
#define LEX_RECENT_MAX 32768
/** Longest list the recent pass scans whole (longer ones need a RECENT
 *  list). */
#define LEX_RECENT_SCAN LTRR_INDEX_IMPACT_MIN_DF

/* A posting of a recent entity gathered by the recent pass (12 bytes). */
typedef struct lex_rpost_s {
        uint32_t doc;      /* entity */
        float tfw;         /* tf~ */
        uint16_t name_len; /* tokens in the name */
        uint8_t name_tf;   /* occurrences in the name */
        uint8_t term;      /* position in lex_query_t.terms */
} lex_rpost_t;

/* Two heaps of k entries and the recent pass's postings in the arm's
 * scratch slot. */
typedef struct lex_scr_s {
        lex_top_t exact[LTRR_ARM_K_MAX]; /* exact name matches */
        lex_top_t top[LTRR_ARM_K_MAX];   /* best by score */
        lex_rpost_t rp[LEX_RECENT_MAX];  /* recent pass: postings */
        uint32_t ord[2][LEX_RECENT_MAX]; /* recent pass: radix sort */
} lex_scr_t;

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

/* Score of posting @p p of term @p lt (0 for an out-of-range entity). */
static float contrib(const lex_query_t *lq, const lex_term_t *lt,
                     const ltrr_index_post_t *p)
{
        if (lq->tight)
                return lt->weight * p->tfw / (lq->k1 + p->tfw);
        const uint16_t *len = p->len;
        float tfw = 0.0f;
        for (int f = 0; f < LTRR_INDEX_FIELDS; f++)
                if (p->tf[f])
                        tfw += lq->w[f] * p->tf[f] /
                               (lq->one_b[f] + lq->inv[f] * len[f]);
        return lt->weight * tfw / (lq->k1 + tfw);
}

/** Postings a seek steps over one by one before it gallops: a
 *  non-essential list is mostly sought a few postings ahead. */
#define LEX_SEEK_LINEAR 16

/* Moves @p lt's cursor to the first posting >= @p doc (a few steps,
 * then galloping). Returns the posting there, or NULL at the end of the
 * list. */
static const ltrr_index_post_t *seek(lex_term_t *lt, uint32_t doc)
{
        uint32_t lo = lt->pos, step = 1, hi;
        uint32_t lin = lt->df - lo > LEX_SEEK_LINEAR ? lo + LEX_SEEK_LINEAR
                                                     : lt->df;
        while (lo < lin && lt->p[lo].doc < doc)
                lo++;
        if (lo < lin || lo == lt->df) {
                lt->pos = lo;
                return lo < lt->df ? &lt->p[lo] : NULL;
        }
        hi = lo;
        while (hi < lt->df && lt->p[hi].doc < doc) {
                lo = hi + 1;
                hi += step;
                step *= 2;
        }
        if (hi > lt->df)
                hi = lt->df;
        while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;
                if (lt->p[mid].doc < doc)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        lt->pos = lo;
        return lo < lt->df ? &lt->p[lo] : NULL;
}

/** Added to the name token count of a candidate when a term occurs in
 *  its name a number of times other than in the query: the name is not
 *  the query's token multiset, so not an exact match (as the NAMES
 *  lookup of exact_pass() decides). */
#define LEX_NAME_MISMATCH 0x10000u

/* What term @p lt occurring @p tf times in a name adds to the name token
 * count that decides exact matches. */
static uint32_t name_tf(const lex_term_t *lt, uint32_t tf)
{
        return tf == (uint32_t)__builtin_popcount(lt->slots)
                   ? tf : LEX_NAME_MISMATCH;
}

/* Adds term @p lt's posting for @p doc, if any, to @p c. */
static void add_term(const lex_query_t *lq, lex_term_t *lt, uint32_t doc,
                     lex_top_t *c, uint32_t *nametf)
{
        const ltrr_index_post_t *p = seek(lt, doc);
        if (!p || p->doc != doc)
                return;
        c->score += contrib(lq, lt, p);
        c->anymask |= lt->slots;
        c->namelen = p->len[LTRR_INDEX_FIELD_NAME];
        if (p->tf[LTRR_INDEX_FIELD_NAME]) {
                c->namemask |= lt->slots;
                *nametf += name_tf(lt, p->tf[LTRR_INDEX_FIELD_NAME]);
        }
}

/* Popularity of @p t, read from FEATURES of @p ix once. */
static float top_pop(const ltrr_index_t *ix, lex_top_t *t)
{
        if (!t->popok) {
                t->pop = ix->feats[t->ent].popularity;
                t->popok = 1;
        }
        return t->pop;
}

/* 1 if @p a ranks below @p b: lower score, then lower popularity (read
 * only for a tie), then higher entity. */
static int top_less(const ltrr_index_t *ix, lex_top_t *a, lex_top_t *b)
{
        if (a->score != b->score)
                return a->score < b->score;
        float pa = top_pop(ix, a), pb = top_pop(ix, b);
        if (pa != pb)
                return pa < pb;
        return a->ent > b->ent;
}

/* Restores the min-heap property below position @p i. */
static void heap_down(const ltrr_index_t *ix, lex_top_t *h, size_t n,
                      size_t i)
{
        for (;;) {
                size_t l = 2 * i + 1, m = i;
                if (l < n && top_less(ix, &h[l], &h[m]))
                        m = l;
                if (l + 1 < n && top_less(ix, &h[l + 1], &h[m]))
                        m = l + 1;
                if (m == i)
                        return;
                lex_top_t t = h[i];
                h[i] = h[m];
                h[m] = t;
                i = m;
        }
}

/* Offers @p c to the bounded heap @p h of *np entries, capacity k. */
static void heap_offer(const ltrr_index_t *ix, lex_top_t *h, size_t *np,
                       size_t k, lex_top_t *c)
{
        size_t n = *np;
        if (n < k) {
                size_t i = n++;
                h[i] = *c;
                while (i && top_less(ix, &h[i], &h[(i - 1) / 2])) {
                        lex_top_t t = h[i];
                        h[i] = h[(i - 1) / 2];
                        h[(i - 1) / 2] = t;
                        i = (i - 1) / 2;
                }
                *np = n;
        } else if (top_less(ix, &h[0], c)) {
                h[0] = *c;
                heap_down(ix, h, n, 0);
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
 * list under @p floor (tfw_floor()), and of entities a cheap filter
 * rejects, are passed over. */
static uint32_t next_doc(lex_query_t *lq, size_t ess, float theta,
                         float floor)
{
        uint32_t doc = UINT32_MAX;
        for (size_t i = ess; i < lq->cnt; i++) {
                lex_term_t *lt = &lq->terms[i];
                if (theta > 0.0f)
                        skip_blocks(lq, lt, theta);
                if (floor > 0.0f)
                        skip_floor(lq, lt, theta, floor);
                if (lq->keep_cheap)
                        skip_unkept(lq, lt);
                if (lt->pos < lt->df && lt->p[lt->pos].doc < doc)
                        doc = lt->p[lt->pos].doc;
        }
        return doc;
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

/* Rewinds every cursor. */
static void rewind_all(lex_query_t *lq)
{
        for (size_t i = 0; i < lq->cnt; i++)
                lq->terms[i].pos = 0;
}

/* Scores entity @p doc against every term; sets c->exact. Cursors only
 * move forward: call with ascending entities after rewind_all(). */
static void eval_full(lex_query_t *lq, uint32_t doc, lex_top_t *c)
{
        uint32_t nametf = 0;
        memset(c, 0, sizeof(*c));
        c->ent = doc;
        for (size_t i = 0; i < lq->cnt; i++)
                add_term(lq, &lq->terms[i], doc, c, &nametf);
        c->exact = c->namemask == lq->all && nametf == lq->qn &&
                   c->namelen == lq->qn;
}

/* Offers every entity filed under name hash @p h that really is an
 * exact match (hashes may collide) to the heap @p ex. */
static void exact_lookup(lex_query_t *lq, uint64_t h, lex_top_t *ex,
                         size_t *nep, size_t k)
{
        const ltrr_index_t *ix = lq->ix;
        rewind_all(lq);
        for (uint32_t i = ltrr_index_name_lower(ix, h);
             i < ix->n && ix->names[i].hash == h; i++) {
                lex_top_t c;
                uint32_t doc = ix->names[i].doc;
                if (doc >= ix->n)
                        continue; /* corrupt record */
                if (lq->keep && !lq->keep(lq->keep_opaque, ix, doc))
                        continue; /* asked first: cheaper than scoring */
                eval_full(lq, doc, &c);
                if (!c.exact)
                        continue;
                heap_offer(ix, ex, nep, k, &c);
        }
}

/* Records of the NAMES section under hash @p h. */
static uint64_t names_count(const ltrr_index_t *ix, uint64_t h)
{
        uint32_t a = ltrr_index_name_lower(ix, h);
        uint32_t b = h == UINT64_MAX ? ix->n : ltrr_index_name_lower(ix, h + 1);
        return b > a ? b - a : 0;
}

/* The query's name hash without its prefix terms (*basep) and the query
 * slots no exact term covers (*missingp). */
static void exact_base(const lex_query_t *lq, uint64_t *basep,
                       uint32_t *missingp)
{
        uint64_t base = 0;
        uint32_t covered = 0;
        for (size_t i = 0; i < lq->cnt; i++) {
                const lex_term_t *lt = &lq->terms[i];
                if (lt->prefix)
                        continue;
                uint64_t th = ltrr_index_name_hash(
                    lq->ix->termstr + lt->t->str_off, lt->t->str_len);
                base += th * (uint64_t)__builtin_popcount(lt->slots);
                covered |= lt->slots;
        }
        *basep = base;
        *missingp = lq->all & ~covered;
}

/* How many exact name matches exact_pass() could find at most: the NAMES
 * records under the hashes it looks up. */
static uint64_t exact_bound(const lex_query_t *lq)
{
        uint64_t base, cnt = 0;
        uint32_t missing;
        exact_base(lq, &base, &missing);
        if (lq->qn == 0 || lq->qn > 32)
                return 0;
        if (!missing)
                return names_count(lq->ix, base);
        if (__builtin_popcount(missing) != 1)
                return 0;
        for (size_t i = 0; i < lq->cnt; i++) {
                const lex_term_t *lt = &lq->terms[i];
                if (lt->prefix && (lt->slots & missing))
                        cnt += names_count(lq->ix, base + ltrr_index_name_hash(
                                lq->ix->termstr + lt->t->str_off,
                                lt->t->str_len));
        }
        return cnt;
}

/* Finds the entities whose name is exactly the query's tokens through
 * the NAMES section: the query's token hash sum, with each expansion of
 * a prefix token in turn. */
static void exact_pass(lex_query_t *lq, lex_top_t *ex, size_t *nep, size_t k)
{
        uint64_t base;
        uint32_t missing;
        exact_base(lq, &base, &missing);
        if (lq->qn == 0 || lq->qn > 32)
                return;
        if (!missing) {
                exact_lookup(lq, base, ex, nep, k);
        } else if (__builtin_popcount(missing) == 1) {
                for (size_t i = 0; i < lq->cnt; i++) {
                        const lex_term_t *lt = &lq->terms[i];
                        if (lt->prefix && (lt->slots & missing))
                                exact_lookup(lq, base + ltrr_index_name_hash(
                                        lq->ix->termstr + lt->t->str_off,
                                        lt->t->str_len), ex, nep, k);
                }
        }
        rewind_all(lq);
}

/* Document at a time with MaxScore: lists whose bounds add up to no more
 * than the k-th best score (theta) cannot bring a new entity on their
 * own, so only the others produce candidates, and a candidate stops
 * being scored once it cannot pass theta. Exact name matches are left
 * out: exact_pass() found them. */
static void maxscore_pass(lex_query_t *lq, lex_top_t *top, size_t *ntp,
                          size_t k)
{
        size_t ess = 0;
        float theta = 0.0f, floor = 0.0f;
        for (;;) {
                uint32_t doc = next_doc(lq, ess, theta, floor);
                if (doc == UINT32_MAX)
                        break;
                lex_top_t c;
                int full = *ntp == k;
                if (lq->keep_cheap && doc < lq->ix->n &&
                    !lq->keep(lq->keep_opaque, lq->ix, doc)) {
                        skip_doc(lq, ess, doc);
                        continue;
                }
                if (!score_doc(lq, ess, doc, full, theta, &c))
                        continue;
                if (c.exact || doc >= lq->ix->n)
                        continue; /* exact matches come from exact_pass;
                                   * a doc past the end is corrupt */
                int ask = lq->keep && !lq->keep_cheap;
                if (full && ask && c.score == top[0].score &&
                    !lq->keep(lq->keep_opaque, lq->ix, doc))
                        continue; /* a tie: the filter before the
                                   * popularity read */
                if (full && !top_less(lq->ix, &top[0], &c))
                        continue;
                if (ask && !(full && c.score == top[0].score) &&
                    !lq->keep(lq->keep_opaque, lq->ix, doc))
                        continue; /* asked only about entities that
                                   * would enter the heap */
                heap_offer(lq->ix, top, ntp, k, &c);
                theta = *ntp == k ? top[0].score : 0.0f;
                while (ess < lq->cnt && lq->cum[ess] <= theta)
                        ess++;
                floor = tfw_floor(lq, ess, theta);
        }
}

/* Orders positions 0..m-1 of @p rp by entity (< @p n), stably, with an
 * LSD radix sort through @p a and @p b. Returns the array holding the
 * order. */
static uint32_t *recent_sort(const lex_rpost_t *rp, size_t m, uint32_t n,
                             uint32_t *a, uint32_t *b)
{
        for (size_t i = 0; i < m; i++)
                a[i] = (uint32_t)i;
        for (unsigned sh = 0; sh < 32 && (sh == 0 || ((n - 1) >> sh));
             sh += 11) {
                uint32_t pos[2048] = {0};
                for (size_t i = 0; i < m; i++)
                        pos[(rp[a[i]].doc >> sh) & 2047]++;
                for (uint32_t d = 0, at = 0; d < 2048; d++) {
                        uint32_t c = pos[d];
                        pos[d] = at;
                        at += c;
                }
                for (size_t i = 0; i < m; i++)
                        b[pos[(rp[a[i]].doc >> sh) & 2047]++] = a[i];
                uint32_t *t = a;
                a = b;
                b = t;
        }
        return a;
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

/* Appends to @p rp (*np entries) the postings of term @p ti of the
 * entities @p keep accepts, all released on or after @p since: from the
 * term's RECENT list down to the first older entity, or from the whole
 * posting list when it is short. Returns -1 when the list cannot prove
 * it gave every such entity or @p rp is full. */
static int recent_term(const lex_query_t *lq, size_t ti, int32_t since,
                       lex_rpost_t *rp, size_t *np)
{
        const ltrr_index_t *ix = lq->ix;
        const lex_term_t *lt = &lq->terms[ti];
        uint32_t cnt, i = 0;
        const ltrr_index_impent_t *e = ltrr_index_recent(
            ix, (uint32_t)(lt->t - ix->terms), &cnt);
        if (!e && lt->df > LEX_RECENT_SCAN)
                return -1;
        for (uint32_t n = e ? cnt : lt->df; i < n; i++) {
                lex_rpost_t r;
                if (e) {
                        r.doc = e[i].doc;
                        if (r.doc >= ix->n)
                                continue; /* corrupt */
                        const ltrr_index_feat_t *f = &ix->feats[r.doc];
                        if (f->release_prec == LTRR_DATE_NONE ||
                            f->release_days < since)
                                return 0; /* older from here on */
                        r.tfw = e[i].tfw;
                        r.name_tf = e[i].name_tf;
                        r.name_len = e[i].name_len;
                } else {
                        const ltrr_index_post_t *p = &lt->p[i];
                        r.doc = p->doc;
                        if (r.doc >= ix->n)
                                continue;
                        r.tfw = p->tfw;
                        r.name_tf = p->tf[LTRR_INDEX_FIELD_NAME];
                        r.name_len = p->len[LTRR_INDEX_FIELD_NAME];
                }
                if (!lq->keep(lq->keep_opaque, ix, r.doc))
                        continue;
                if (*np == LEX_RECENT_MAX)
                        return -1;
                r.term = (uint8_t)ti;
                rp[(*np)++] = r;
        }
        return e && cnt < lt->df ? -1 : 0;
}

/* Scores the gathered postings entity by entity into the heaps (k
 * each), adding the terms in query order as eval_full() does: gathered
 * postings, and for the terms in @p late (a mask of positions in
 * lq->terms) a seek in their posting lists (the entities come in
 * ascending order, cursors rewound). */
static void recent_score(lex_query_t *lq, lex_scr_t *s, size_t m,
                         const uint32_t *ord, uint64_t late, size_t k,
                         size_t *nep, size_t *ntp)
{
        rewind_all(lq);
        for (size_t i = 0; i < m;) {
                lex_top_t c;
                uint32_t nametf = 0;
                memset(&c, 0, sizeof(c));
                c.ent = s->rp[ord[i]].doc;
                for (size_t ti = 0; ti < lq->cnt; ti++) {
                        lex_term_t *lt = &lq->terms[ti];
                        if (late >> ti & 1) {
                                add_term(lq, lt, c.ent, &c, &nametf);
                                continue;
                        }
                        if (i == m || s->rp[ord[i]].doc != c.ent ||
                            s->rp[ord[i]].term != ti)
                                continue;
                        const lex_rpost_t *r = &s->rp[ord[i++]];
                        c.score += lt->weight * r->tfw / (lq->k1 + r->tfw);
                        c.anymask |= lt->slots;
                        c.namelen = r->name_len;
                        if (r->name_tf) {
                                c.namemask |= lt->slots;
                                nametf += name_tf(lt, r->name_tf);
                        }
                }
                c.exact = c.namemask == lq->all && nametf == lq->qn &&
                          c.namelen == lq->qn;
                if (c.exact)
                        heap_offer(lq->ix, s->exact, nep, k, &c);
                else
                        heap_offer(lq->ix, s->top, ntp, k, &c);
        }
        rewind_all(lq);
}

/* The filtered pass when the filter keeps only entities released on or
 * after @p since: every such entity holding a query term comes from the
 * terms' RECENT lists (or short posting lists), so the pass scores
 * those few instead of walking long lists. A term whose list runs out
 * before @p since is "late": it only completes the others' entities
 * (by seeks), which is exact when the answer's last non-exact entry
 * scores above every late term at its bound together (an entity only
 * late terms hold cannot reach it). Returns 1 with the heaps filled, 0
 * when that does not hold or no term can list its recent entities. */
static int recent_pass(lex_query_t *lq, lex_scr_t *s, int32_t since,
                       size_t k, size_t *nep, size_t *ntp)
{
        size_t m = 0;
        uint64_t late = 0;
        float late_ub = 0.0f;
        if (!lq->tight || !lq->keep || lq->qn == 0 || lq->qn > 32 ||
            lq->cnt > 64)
                return 0;
        for (size_t i = 0; i < lq->cnt; i++) {
                size_t before = m;
                if (recent_term(lq, i, since, s->rp, &m) == 0)
                        continue;
                m = before;
                late |= 1ull << i;
                late_ub += lq->terms[i].ub;
        }
        if (late == (lq->cnt == 64 ? UINT64_MAX : (1ull << lq->cnt) - 1))
                return 0;
        const uint32_t *ord = recent_sort(s->rp, m, lq->ix->n, s->ord[0],
                                          s->ord[1]);
        *nep = *ntp = 0;
        recent_score(lq, s, m, ord, late, k, nep, ntp);
        if (!late || *nep >= k)
                return 1;
        size_t above = 0;
        for (size_t i = 0; i < *ntp; i++)
                above += s->top[i].score > late_ub;
        return above >= k - *nep;
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

/* ltrr_arm_lex_filtered(), and when @p since is not INT32_MIN the
 * recent pass first (ltrr_arm_lex_recent()). */
static ltrr_err_t lex_pass(const ltrr_index_t *ix, const ltrr_arm_query_t *q,
                           const ltrr_arm_ctx_t *ctx, ltrr_arm_scratch_t *scr,
                           unsigned slot, ltrr_arm_lex_filter_fn *keep,
                           const void *opaque, int cheap, int32_t since,
                           size_t k, ltrr_arm_cand_t *out, size_t *cntp,
                           char *errstr, size_t errstr_size)
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
        lq.keep = keep;
        lq.keep_opaque = opaque;
        lq.keep_cheap = keep && cheap;
        if (lq.cnt == 0)
                return LTRR_OK;
        lex_scr_t *s = ltrr_arm_scratch_get(scr, slot, sizeof(lex_scr_t));
        if (!s)
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "no scratch memory");
        size_t ne = 0, nt = 0;
        lex_head_t h;
        if (since != INT32_MIN && recent_pass(&lq, s, since, k, &ne, &nt)) {
                /* done: every recent match was scored */
        } else if (!head_find(&lq, &h) ||
            !head_pass(&lq, &h, exact_bound(&lq), k, s->exact, &ne, s->top,
                       &nt)) {
                ne = nt = 0;
                exact_pass(&lq, s->exact, &ne, k);
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
        return lex_pass(ix, q, ctx, scr, slot, keep, opaque, cheap,
                        INT32_MIN, k, out, cntp, errstr, errstr_size);
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
        return lex_pass(ix, q, ctx, scr, slot, keep, opaque, 1,
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
