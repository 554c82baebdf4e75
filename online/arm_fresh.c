/*
 * ltrr - the fresh arm (exploration): entities released in the last
 * LTRR_ARM_FRESH_DAYS days before the request day (ctx->today_days) that
 * match the query lexically (name, artist, album or description), ranked
 * by the square of the match times recency times popularity; the query's
 * recency words ("new") are not matched. The lexical pass is filtered to
 * fresh entities before scoring (ltrr_arm_lex_filtered()): it keeps the
 * 4k best fresh matches instead of filtering a large unfiltered pool;
 * with the index's RECENT lists it scores only the fresh entities of
 * each query term (ltrr_arm_lex_recent()).
 * The filter reads one bit per entity from a bitmap of the fresh
 * entities kept in the thread's scratch slot and rebuilt (one pass over
 * FEATURES, a few ms per million entities) when the index or the day
 * changes. docs/ARMS.md.
 */
#include <string.h>

#include "arm.h"
#include "arm_state.h"
#include "feature.h"
#include "index_int.h"

/* Returns 1 (the index always serves this arm). */
static int fresh_available(const ltrr_index_t *ix)
{
        return ix != NULL;
}

/* Recency 0..1 of entity @p ent on day @p today (1 = released today),
 * or a negative value when it is not fresh. */
static float recency(const ltrr_index_t *ix, uint32_t ent, int32_t today)
{
        const ltrr_index_feat_t *f = &ix->feats[ent];
        if (f->release_prec == LTRR_DATE_NONE)
                return -1.0f;
        int32_t age = today - f->release_days;
        if (age < 0 || age > LTRR_ARM_FRESH_DAYS)
                return -1.0f;
        return 1.0f - (float)age / (float)(LTRR_ARM_FRESH_DAYS + 1);
}

/** Lexical candidates gathered per wanted candidate. */
#define FRESH_POOL_FACTOR 4

/* The fresh entities of one index and day, one bit per entity, kept in
 * the arm's scratch slot after the lexical arm's bytes. */
typedef struct fresh_cache_s {
        const void *feats;  /* FEATURES of the index the bits are for */
        uint32_t n;         /* its entities */
        int32_t today;      /* the day they are for */
        int ok;             /* 1 once filled */
        uint64_t bits[];    /* bit e set: entity e is fresh */
} fresh_cache_t;

/* Offset of the cache in the slot: after the lexical arm's bytes. */
static size_t cache_off(void)
{
        return (ltrr_arm_lexical_scratch_bytes() + 15) & ~(size_t)15;
}

/* Returns the fresh bits of @p ix on day @p today, filling them on the
 * first call of the thread for that index and day (one pass over
 * FEATURES), or NULL when scratch memory runs out. */
static const fresh_cache_t *cache_get(const ltrr_index_t *ix, int32_t today,
                                      ltrr_arm_scratch_t *scr, unsigned slot)
{
        size_t words = ((size_t)ix->n + 63) / 64;
        uint8_t *m = ltrr_arm_scratch_get(scr, slot,
                                          cache_off() + sizeof(fresh_cache_t) +
                                              words * sizeof(uint64_t));
        if (!m)
                return NULL;
        fresh_cache_t *c = (fresh_cache_t *)(m + cache_off());
        if (c->ok && c->feats == ix->feats && c->n == ix->n &&
            c->today == today)
                return c;
        memset(c->bits, 0, words * sizeof(uint64_t));
        for (uint32_t e = 0; e < ix->n; e++)
                if (recency(ix, e, today) >= 0.0f)
                        c->bits[e / 64] |= 1ull << (e % 64);
        c->feats = ix->feats;
        c->n = ix->n;
        c->today = today;
        c->ok = 1;
        return c;
}

/* Filter of the lexical pass: 1 if entity @p ent is fresh (its bit in
 * the cache @p opaque). */
static int keep_fresh(const void *opaque, const ltrr_index_t *ix,
                      uint32_t ent)
{
        const fresh_cache_t *c = opaque;
        (void)ix;
        return (int)(c->bits[ent / 64] >> (ent % 64)) & 1;
}

/* Re-scores the fresh lexical candidates @p c: the square of lexical_rel
 * (relative to the best fresh match) puts the best matches first, then
 * recency and popularity order equal ones. */
static void rescore(const ltrr_index_t *ix, const ltrr_arm_ctx_t *ctx,
                    ltrr_arm_cand_t *c, size_t n)
{
        float best = n ? c[0].score : 0.0f;
        for (size_t i = 0; i < n; i++) {
                float rec = recency(ix, c[i].ent, ctx->today_days);
                float pop = ltrr_arm_popularity(ix, ctx->popularity,
                                                c[i].ent, NULL);
                float lex = best > 0 ? c[i].score / best : 0.0f;
                ltrr_arm_cand_t *o = &c[i];
                o->score = lex * lex * (0.25f + rec) *
                           ltrr_arm_pop_factor(pop);
                o->feat[0] = lex;
                o->feat[1] = rec;
                o->feat[2] = pop > 0 ? pop : 0.0f;
                o->feat[3] = (float)(ctx->today_days -
                                     ix->feats[o->ent].release_days);
        }
        ltrr_arm_cand_sort(c, n);
}

/** Longest query whose recency words the arm leaves out. */
#define FRESH_TOKENS_MAX 32

/* Copies the tokens of @p q to @p out without its recency words ("new",
 * "latest": they ask for this arm, they are not what the user looks
 * for); returns their count, or 0 when the query is all recency words
 * or too long (then the arm matches the query as typed). */
static size_t content_tokens(const ltrr_arm_query_t *q, ltrr_token_t *out)
{
        size_t n = 0;
        if (q->cnt > FRESH_TOKENS_MAX)
                return 0;
        for (size_t i = 0; i < q->cnt; i++)
                if (!ltrr_feature_fresh_word(q->toks[i].norm,
                                             q->toks[i].norm_len))
                        out[n++] = q->toks[i];
        return n;
}

/* The arm's run function (see ltrr_arm_run_fn). The lexical pass only
 * looks at fresh entities, so its k best are the best fresh matches. */
static ltrr_err_t fresh_run(const ltrr_index_t *ix, const ltrr_arm_query_t *q,
                            const ltrr_arm_ctx_t *ctx,
                            ltrr_arm_scratch_t *scr, unsigned slot, size_t k,
                            ltrr_arm_cand_t *out, size_t *cntp, char *errstr,
                            size_t errstr_size)
{
        ltrr_arm_cand_t pool[LTRR_ARM_POOL_MAX];
        size_t np = 0;
        *cntp = 0;
        if (!ctx || ctx->today_days <= 0)
                return ltrr_errf(LTRR_ERR_STATE, errstr, errstr_size,
                                 "fresh arm needs the request day");
        if (k == 0 || q->cnt == 0)
                return LTRR_OK;
        size_t want = k * FRESH_POOL_FACTOR;
        if (want > LTRR_ARM_POOL_MAX)
                want = LTRR_ARM_POOL_MAX;
        const fresh_cache_t *c = cache_get(ix, ctx->today_days, scr, slot);
        if (!c)
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "no scratch memory");
        ltrr_token_t toks[FRESH_TOKENS_MAX];
        ltrr_arm_query_t cq = {toks, content_tokens(q, toks), q->norm};
        ltrr_err_t err = ltrr_arm_lex_recent(
            ix, cq.cnt ? &cq : q, ctx, scr, slot, keep_fresh, c,
            ctx->today_days - LTRR_ARM_FRESH_DAYS, want, pool, &np, errstr,
            errstr_size);
        if (err != LTRR_OK)
                return err;
        rescore(ix, ctx, pool, np);
        *cntp = np < k ? np : k;
        memcpy(out, pool, *cntp * sizeof(*out));
        return LTRR_OK;
}

const ltrr_arm_t ltrr_arm_fresh = {
    .name = "fresh",
    .desc = "recent releases matching the query, by match squared x "
            "recency x popularity",
    .feat_names = {"lexical_rel", "recency", "popularity", "age_days"},
    .available = fresh_available,
    .run = fresh_run,
};
