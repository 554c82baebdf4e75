/*
 * ltrr - the popular arm: lexical matches reweighted by popularity, and
 * for a short query (one token of 1..3 code points, as typed so far) the
 * most popular entities whose name or artist starts with it.
 *
 * Popularity is the index's, replaced by the fresh value handed in from
 * Redis (ctx->popularity) when there is one. docs/ARMS.md.
 */
#include <string.h>

#include "arm.h"
#include "arm_state.h"
#include "index_int.h"
#include "q2e_predict.h"

/** Lexical candidates looked at per wanted candidate. */
#define POP_POOL_FACTOR 4

/* Returns 1 (the index always serves this arm). */
static int pop_available(const ltrr_index_t *ix)
{
        return ix != NULL;
}

/* Code points of @p len bytes of UTF-8 at @p s. */
static size_t cps_count(const char *s, size_t len)
{
        size_t n = 0;
        for (size_t i = 0; i < len; i++)
                n += ((uint8_t)s[i] & 0xc0) != 0x80;
        return n;
}

/* Writes the prefix list of a short query. Returns the count written,
 * 0 when the query is not short or the index has no such prefix. */
static size_t prefix_run(const ltrr_index_t *ix, const ltrr_arm_query_t *q,
                         const ltrr_arm_ctx_t *ctx, size_t k,
                         ltrr_arm_cand_t *out)
{
        const ltrr_q2e_tab_ent_t *l;
        size_t lc, n = 0;
        uint64_t len;
        if (q->cnt != 1 || cps_count(q->toks[0].norm, q->toks[0].norm_len) >
                               LTRR_ARM_PREFIX_CPS_MAX)
                return 0;
        const void *sec = ltrr_index_section(ix, LTRR_ARM_SEC_PREFIX, &len);
        if (!sec || ltrr_q2e_tab_lookup(sec, len,
                                        ltrr_q2e_predict_key(
                                            q->toks[0].norm,
                                            q->toks[0].norm_len),
                                        &l, &lc) != 1)
                return 0;
        for (size_t i = 0; i < lc; i++) {
                if (l[i].ent >= ix->n)
                        continue;
                int fresh;
                float pop = ltrr_arm_popularity(
                    ix, ctx ? ctx->popularity : NULL, l[i].ent, &fresh);
                ltrr_arm_cand_t *o = &out[n++];
                memset(o, 0, sizeof(*o));
                o->ent = l[i].ent;
                o->score = ltrr_arm_pop_factor(pop);
                o->feat[1] = pop > 0 ? pop : 0.0f;
                o->feat[2] = 1.0f;
                o->feat[3] = (float)fresh;
        }
        ltrr_arm_cand_sort(out, n);
        return n < k ? n : k;
}

/* Re-scores lexical candidates @p c: relative BM25F times the popularity
 * factor. */
static void reweight(const ltrr_index_t *ix, const ltrr_arm_ctx_t *ctx,
                     ltrr_arm_cand_t *c, size_t n)
{
        float best = n ? c[0].score : 0.0f;
        for (size_t i = 0; i < n; i++) {
                int fresh;
                float pop = ltrr_arm_popularity(
                    ix, ctx ? ctx->popularity : NULL, c[i].ent, &fresh);
                float lex = best > 0 ? c[i].score / best : 0.0f;
                c[i].score = lex * ltrr_arm_pop_factor(pop);
                c[i].feat[0] = lex;
                c[i].feat[1] = pop > 0 ? pop : 0.0f;
                c[i].feat[2] = 0.0f;
                c[i].feat[3] = (float)fresh;
        }
        ltrr_arm_cand_sort(c, n);
}

/* The arm's run function (see ltrr_arm_run_fn). */
static ltrr_err_t pop_run(const ltrr_index_t *ix, const ltrr_arm_query_t *q,
                          const ltrr_arm_ctx_t *ctx, ltrr_arm_scratch_t *scr,
                          unsigned slot, size_t k, ltrr_arm_cand_t *out,
                          size_t *cntp, char *errstr, size_t errstr_size)
{
        ltrr_arm_cand_t pool[LTRR_ARM_POOL_MAX];
        ltrr_arm_cand_t pre[LTRR_ARM_PREFIX_PER_KEY];
        size_t np = 0;
        *cntp = 0;
        size_t npre = prefix_run(ix, q, ctx, k, pre);
        if (npre) {
                memcpy(out, pre, npre * sizeof(*out));
                *cntp = npre;
                return LTRR_OK;
        }
        size_t want = k * POP_POOL_FACTOR;
        if (want > LTRR_ARM_POOL_MAX)
                want = LTRR_ARM_POOL_MAX;
        ltrr_err_t err = ltrr_arm_lex_pool(ix, q, ctx, scr, slot, pool, want,
                                           &np, errstr, errstr_size);
        if (err != LTRR_OK)
                return err;
        reweight(ix, ctx, pool, np);
        *cntp = np < k ? np : k;
        memcpy(out, pool, *cntp * sizeof(*out));
        return LTRR_OK;
}

const ltrr_arm_t ltrr_arm_popular = {
    .name = "popular",
    .desc = "lexical matches reweighted by popularity; prefixes of short "
            "queries",
    .feat_names = {"lexical_rel", "popularity", "prefix", "fresh_pop"},
    .available = pop_available,
    .run = pop_run,
};
