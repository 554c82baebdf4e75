/*
 * ltrr - the lexical pass's internals shared by its files
 * (arm_lexical.c, arm_lex_recent.c): the prepared query with its posting
 * cursors, the candidate heaps and the helpers both files score with.
 * Not a public header.
 */
#ifndef LTRR_ARM_LEX_INT_H
#define LTRR_ARM_LEX_INT_H

#include <stdint.h>
#include <string.h>

#include "arm.h"
#include "arm_lex_late.h"
#include "arm_popmax.h"
#include "arm_state.h"
#include "arm_termbits.h"
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
        uint32_t nslots;              /* slots in slots (popcount) */
        int prefix;                   /* 1: from a prefix expansion */
        const ltrr_index_block_t *blk; /* its blocks */
        float rest;                   /* sum of the other terms' ub */
        uint32_t ok_blk;              /* block + 1 last found worth
                                       * reading, 0 none */
        const ltrr_index_impent_t *imp; /* impact-ordered head, or NULL */
        uint32_t imp_cnt;             /* entries in imp */
        const uint64_t *bits;         /* membership bitmap, or NULL */
        const uint32_t *rank;         /* its rank table, or NULL */
        const uint8_t *qtf;           /* its quantized tf~ table, or
                                       * NULL */
        const float *qlevel;          /* the table's levels */
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
        ltrr_arm_lex_where_fn *where;    /* expensive filter's record to
                                          * prefetch, or NULL */
        const char *pfx;                 /* the token expanded as a
                                          * prefix, or NULL */
        size_t pfx_len;                  /* its bytes */
        uint32_t bshift;                 /* entity >> bshift: bit */
        ltrr_arm_popmax_t *pm_mem;       /* tie bounds' memory */
        const ltrr_arm_popmax_t *pm;     /* filled bounds, or NULL */
        int multi;                       /* 1: floor[] holds the tf~
                                          * floors of two or more
                                          * essential lists */
        float floor[LEX_TERMS_MAX];      /* per essential list: tf~
                                          * under which an entity that
                                          * list alone brings cannot
                                          * pass theta */
        uint64_t *ubits;                 /* entities (bit per
                                          * entity >> bshift) of the
                                          * non-essential lists without
                                          * a bitmap of their own, or
                                          * NULL */
        size_t uess;                     /* lists [0, uess) are in
                                          * ubits (or have bitmaps) */
        int uon;                         /* 1: ubits cleared, in use */
        float uub;                       /* sum of the bounds of the
                                          * lists in ubits */
        float utop;                      /* the largest of them */
        uint64_t *ubits2;                /* entities (bits as ubits) two
                                          * or more of those lists hold,
                                          * or NULL */
        int u2on;                        /* 1: ubits2 cleared, in use */
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
        ltrr_arm_popmax_t pm;            /* popularity bounds (ties) */
        ltrr_arm_termbits_t tb;          /* membership bitmaps */
        uint64_t ubits[LTRR_ARM_TERMBITS_BITS / 64]; /* lex_query_t's */
        uint64_t ubits2[LTRR_ARM_TERMBITS_BITS / 64]; /* lex_query_t's */
} lex_scr_t;

/* Score of posting @p p of term @p lt (0 for an out-of-range entity). */
static inline float contrib(const lex_query_t *lq, const lex_term_t *lt,
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
static inline const ltrr_index_post_t *seek(lex_term_t *lt,
                                            uint32_t doc)
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
static inline uint32_t name_tf(const lex_term_t *lt, uint32_t tf)
{
        return tf == lt->nslots ? tf : LEX_NAME_MISMATCH;
}

/* seek() for a member @p doc of @p lt's bitmap: with a rank table, a
 * direct read of the posting the rank names when the cursor is behind
 * it (checked: else the seek). */
static inline const ltrr_index_post_t *seek_member(lex_term_t *lt,
                                                   uint32_t doc)
{
        if (lt->rank && lt->pos < lt->df && lt->p[lt->pos].doc < doc) {
                uint32_t at = ltrr_arm_termbits_pos(lt->bits, lt->rank, doc);
                if (at > lt->pos && at < lt->df && lt->p[at].doc == doc) {
                        lt->pos = at;
                        return &lt->p[at];
                }
        }
        return seek(lt, doc);
}

/* Adds term @p lt's posting for @p doc, if any, to @p c. A term with a
 * membership bitmap is not sought for an entity the bitmap rules out,
 * and is read directly for a member when the bitmap has a rank table.
 * Always inline: it runs per term and candidate, and as a call its frame
 * cost a quarter of its time. */
static inline __attribute__((always_inline)) void
add_term(const lex_query_t *lq, lex_term_t *lt, uint32_t doc, lex_top_t *c,
         uint32_t *nametf)
{
        const ltrr_index_post_t *p;
        if (lt->bits && doc < lq->ix->n) {
                if (!ltrr_arm_termbits_may(lt->bits, lq->bshift, doc))
                        return;
                p = seek_member(lt, doc);
        } else {
                p = seek(lt, doc);
        }
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

/** Share of theta taken off the score a non-essential posting must bring
 *  in qtf_loses() (far above float rounding). */
#define LEX_Q_MARGIN 1e-4f

/* 1 if non-essential list @p lt, with a quantized tf~ table, cannot
 * bring @p doc past @p theta: its posting for @p doc (a member) has a
 * tf~ bound under the one it would need, with the entity's score so far
 * @p score and every list still to add after this one at its bound
 * (@p rest), less LEX_Q_MARGIN x theta. Saves the random read of a
 * posting whose contribution is too small. */
static inline int qtf_loses(const lex_query_t *lq, const lex_term_t *lt,
                            uint32_t doc, float score, float rest,
                            float theta)
{
        if (doc >= lq->ix->n ||
            !ltrr_arm_termbits_may(lt->bits, lq->bshift, doc))
                return 0; /* no posting: add_term() adds nothing */
        float x = theta - score - rest - LEX_Q_MARGIN * theta;
        if (x <= 0.0f)
                return 0;
        if (x >= lt->weight)
                return 1; /* contributions stay under weight */
        uint32_t at = ltrr_arm_termbits_pos(lt->bits, lt->rank, doc);
        return at < lt->df &&
               ltrr_arm_termbits_qtf_at(lt->qtf, lt->qlevel, at) <
                   lq->k1 * x / (lt->weight - x);
}

/* Popularity of @p t, read from FEATURES of @p ix once. */
static inline float top_pop(const ltrr_index_t *ix, lex_top_t *t)
{
        if (!t->popok) {
                t->pop = ix->feats[t->ent].popularity;
                t->popok = 1;
        }
        return t->pop;
}

/* 1 if @p a ranks below @p b: lower score, then lower popularity (read
 * only for a tie), then higher entity. */
static inline int top_less(const ltrr_index_t *ix, lex_top_t *a,
                           lex_top_t *b)
{
        if (a->score != b->score)
                return a->score < b->score;
        float pa = top_pop(ix, a), pb = top_pop(ix, b);
        if (pa != pb)
                return pa < pb;
        return a->ent > b->ent;
}

/* Restores the min-heap property below position @p i. */
static inline void heap_down(const ltrr_index_t *ix, lex_top_t *h,
                             size_t n, size_t i)
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
static inline void heap_offer(const ltrr_index_t *ix, lex_top_t *h,
                              size_t *np, size_t k, lex_top_t *c)
{
        size_t n = *np;
        if (!c->popok) /* read later if it ties inside the heap */
                __builtin_prefetch(&ix->feats[c->ent]);
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

/* 1 if candidate @p doc, tied on score with the heap's last entry @p t
 * and after it in entity order, cannot rank above it: the popularity
 * bound of @p doc's group (filled at the query's first tie) does not
 * pass t's popularity. Saves the candidate's FEATURES read. */
static inline int tie_loses(lex_query_t *lq, lex_top_t *t, uint32_t doc)
{
        if (t->ent >= doc || !lq->pm_mem)
                return 0;
        if (!lq->pm)
                lq->pm = ltrr_arm_popmax_get(lq->pm_mem, lq->ix);
        return ltrr_arm_popmax_at_most(lq->pm, doc, top_pop(lq->ix, t));
}

/* Rewinds every cursor. */
static inline void rewind_all(lex_query_t *lq)
{
        for (size_t i = 0; i < lq->cnt; i++)
                lq->terms[i].pos = 0;
}

/**
 * Adds the lists that became non-essential, [lq->uess, @p ess), without
 * a membership bitmap of their own to lq->ubits, from their cursor on:
 * MaxScore meets no entity before it again (arm_lex_union.c). A list
 * with more postings left than the essential lists together is not read:
 * lq->ubits becomes NULL (no such pruning for the rest of the query).
 */
void ltrr_arm_lex_union_grow(lex_query_t *lq, size_t ess);

/**
 * Gives the longest lists of a query of several terms their membership
 * bitmaps from cache @p tb, with their rank tables and (under the
 * index's bound parameters) their quantized tf~ tables (arm_lex_bits.c).
 * Sets lq->bshift.
 */
void ltrr_arm_lex_query_bits(lex_query_t *lq, ltrr_arm_termbits_t *tb);

/** Share of the seed's k-th score taken off the threshold it returns
 *  (far above float rounding). */
#define LEX_SEED_MARGIN 1e-4f

/**
 * A lower bound of the k-th best score of a query of two terms without
 * a filter, under the index's bound parameters (arm_lex_seed.c): the
 * k-th best full score among the first entries of one term's impact
 * head, the other term read at its rank. Call after the terms have their
 * bitmaps. Returns 0 when there is none (other queries, no head or rank
 * table, fewer than k usable entries, k above 1024).
 */
float ltrr_arm_lex_seed(const lex_query_t *lq, size_t k);

/**
 * Offers every entity whose name is exactly the query's tokens (the last
 * one as any of its prefix expansions) to the exact-match heap @p ex of
 * *nep entries, k at most (arm_lex_exact.c). Rewinds every cursor.
 */
void ltrr_arm_lex_exact_pass(lex_query_t *lq, lex_top_t *ex, size_t *nep,
                             size_t k);

/**
 * How many exact name matches ltrr_arm_lex_exact_pass() could find at
 * most: the NAMES records under the hashes it looks up.
 */
uint64_t ltrr_arm_lex_exact_bound(const lex_query_t *lq);

/**
 * The filtered pass when the filter keeps only entities released on or
 * after @p since (arm_lex_recent.c): every such entity holding a query
 * term comes from the terms' RECENT lists (or short posting lists).
 * Returns 1 with the heaps of @p s filled (*nep exact matches, *ntp
 * others, k each at most), 0 when it cannot prove its answer complete.
 */
int ltrr_arm_lex_recent_pass(lex_query_t *lq, lex_scr_t *s, int32_t since,
                             size_t k, size_t *nep, size_t *ntp);

#endif /* LTRR_ARM_LEX_INT_H */
