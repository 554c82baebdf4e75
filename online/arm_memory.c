/*
 * ltrr - the memory arm (Q2E): entities engaged with for this exact
 * normalized query. Observed engagement handed in from Redis
 * (ctx->q2e, read for q->norm) is blended with the predicted Q2E section
 * of the index (cold start) by ltrr_q2e_blend():
 *   score = (observed + alpha * predicted) / (impressions + alpha).
 * Unavailable when neither exists for the query. docs/ARMS.md.
 */
#include <string.h>

#include "arm.h"
#include "arm_state.h"
#include "index_int.h"
#include "q2e.h"
#include "q2e_predict.h"

/* Returns 1 (observed state alone is enough to run). */
static int mem_available(const ltrr_index_t *ix)
{
        return ix != NULL;
}

/* The predicted entries of @p norm, or NULL (count in *cntp). */
static const ltrr_q2e_tab_ent_t *predicted(const ltrr_index_t *ix,
                                           const char *norm, size_t *cntp)
{
        const ltrr_q2e_tab_ent_t *l = NULL;
        uint64_t len;
        *cntp = 0;
        if (!norm || !*norm)
                return NULL;
        const void *sec = ltrr_index_section(ix, LTRR_INDEX_SEC_Q2E, &len);
        if (!sec || ltrr_q2e_tab_lookup(sec, len,
                                        ltrr_q2e_predict_key(norm,
                                                             strlen(norm)),
                                        &l, cntp) != 1)
                return NULL;
        return l;
}

/* Writes candidate @p ent with its two sources into @p o. */
static void mem_cand(ltrr_arm_cand_t *o, uint32_t ent, float obs, float pred,
                     double imp, double alpha)
{
        memset(o, 0, sizeof(*o));
        o->ent = ent;
        o->score = (float)ltrr_q2e_blend(obs, pred, imp, alpha);
        o->feat[0] = obs;
        o->feat[1] = pred;
        o->feat[2] = (float)imp;
        o->feat[3] = o->score;
}

/* The arm's run function (see ltrr_arm_run_fn). */
static ltrr_err_t mem_run(const ltrr_index_t *ix, const ltrr_arm_query_t *q,
                          const ltrr_arm_ctx_t *ctx, ltrr_arm_scratch_t *scr,
                          unsigned slot, size_t k, ltrr_arm_cand_t *out,
                          size_t *cntp, char *errstr, size_t errstr_size)
{
        ltrr_arm_cand_t c[LTRR_ARM_Q2E_MAX + LTRR_Q2E_PREDICT_PER_QUERY * 8];
        const ltrr_q2e_state_t *st = ctx ? ctx->q2e : NULL;
        size_t npred, n = 0;
        (void)scr;
        (void)slot;
        *cntp = 0;
        const ltrr_q2e_tab_ent_t *pred = predicted(ix, q->norm, &npred);
        if ((!st || !st->cnt) && !npred)
                return ltrr_errf(LTRR_ERR_STATE, errstr, errstr_size,
                                 "no Q2E for this query");
        double imp = st ? st->impressions : 0.0;
        double alpha = st ? st->alpha : LTRR_ARM_Q2E_ALPHA;
        const size_t cap = sizeof(c) / sizeof(c[0]);
        for (uint32_t i = 0; st && i < st->cnt && n < cap; i++) {
                float p = 0.0f;
                for (size_t j = 0; j < npred; j++)
                        if (pred[j].ent == st->obs[i].ent)
                                p = pred[j].score;
                if (st->obs[i].ent < ix->n)
                        mem_cand(&c[n++], st->obs[i].ent,
                                 st->obs[i].observed, p, imp, alpha);
        }
        for (size_t j = 0; j < npred && n < cap; j++) {
                int seen = 0;
                for (uint32_t i = 0; st && i < st->cnt && !seen; i++)
                        seen = st->obs[i].ent == pred[j].ent;
                if (!seen && pred[j].ent < ix->n)
                        mem_cand(&c[n++], pred[j].ent, 0.0f, pred[j].score,
                                 imp, alpha);
        }
        ltrr_arm_cand_sort(c, n);
        *cntp = n < k ? n : k;
        memcpy(out, c, *cntp * sizeof(*out));
        return LTRR_OK;
}

const ltrr_arm_t ltrr_arm_memory = {
    .name = "memory",
    .desc = "Q2E: observed engagement for this exact query, blended with "
            "the predicted Q2E",
    .feat_names = {"q2e_observed", "q2e_predicted", "q2e_impressions",
                   "q2e_blend"},
    .available = mem_available,
    .run = mem_run,
};
