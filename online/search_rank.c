/*
 * ltrr - the search pipeline's second half: ranker input for the union,
 * the merge of the ranker's order with the arms' (reciprocal-rank
 * fusion plus observed Q2E), the top k, and the Impression record.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search_int.h"

/* 1 if the @p len bytes at @p w are a whole space-separated word of the
 * normalized @p name. */
static int name_has_word(const char *name, const char *w, size_t len)
{
        const char *p = name;

        while (len && (p = memmem(p, strlen(p), w, len)) != NULL) {
                if ((p == name || p[-1] == ' ') &&
                    (p[len] == ' ' || !p[len]))
                        return 1;
                p++;
        }
        return 0;
}

/* Share of query tokens found as words of the normalized @p name. */
static float token_overlap(const ltrr_search_query_t *sq, const char *name)
{
        size_t i, hit = 0;

        for (i = 0; i < sq->tb.cnt; i++)
                hit += (size_t)name_has_word(name, sq->toks[i].norm,
                                             sq->toks[i].norm_len);
        return sq->tb.cnt ? (float)hit / (float)sq->tb.cnt : 0.0f;
}

/* Share of the space-separated words of @p q found as words of the
 * normalized @p name (the spelling correction's token_overlap). */
static float word_overlap(const char *q, const char *name)
{
        size_t words = 0, hit = 0;

        while (*q) {
                size_t len = strcspn(q, " ");

                words++;
                hit += (size_t)name_has_word(name, q, len);
                q += len;
                q += *q == ' ';
        }
        return words ? (float)hit / (float)words : 0.0f;
}

/* 1 if a QU span of @p sq names entity type @p type. */
static int type_match(const ltrr_search_query_t *sq, ltrr_entity_type_t type)
{
        size_t i;

        for (i = 0; i < sq->nspans; i++)
                if (sq->spans[i].kind == LTRR_QU_TYPE &&
                    sq->spans[i].value == (uint32_t)type)
                        return 1;
        return 0;
}

/* Fills the ranker input of union hit @p h. */
static void cand_fill(ltrr_search_t *se, const ltrr_index_t *ix,
                      const ltrr_search_query_t *sq,
                      const ltrr_search_state_t *st, const ltrr_arm_hit_t *h,
                      ltrr_ranker_cand_t *rc)
{
        ltrr_index_entity_t e;
        char name[SEARCH_NAME_MAX];
        /* A query with a spelling correction is matched against names
         * as corrected: the typo matches none. */
        const char *qn = sq->alt[0] ? sq->alt : sq->norm;
        size_t a, qlen = strlen(qn);
        int trunc = 0;

        memset(rc, 0, sizeof(*rc));
        if (ltrr_index_entity(ix, h->ent, &e))
                return;
        for (a = 0; a < LTRR_RANKER_NARMS && a < LTRR_ARM_MAX; a++)
                rc->arm_score[a] = h->scores[a] > 0 ? h->scores[a] : 0;
        rc->found_mask = (uint8_t)(h->arms & 0xff);
        if (se->bm25_arm >= 0 && se->bm25_arm < LTRR_RANKER_NARMS)
                rc->bm25 = rc->arm_score[se->bm25_arm];
        rc->popularity = e.popularity > 0 ? e.popularity : 0;
        rc->age_days = e.release_days > 0
                           ? (float)(sq->now_ms / 86400000 - e.release_days)
                           : -1.0f;
        rc->q2e = ltrr_search_state_q2e_score(st, e.id);
        ltrr_profile_view_affinity(se->aview, ix, h->ent, &rc->user_artist,
                                   &rc->user_genre);
        rc->user_seen = (uint8_t)ltrr_search_state_seen(st, e.id);
        rc->query_tokens = (uint16_t)sq->tb.cnt;
        rc->type_match = (uint8_t)type_match(sq, e.type);
        if (ltrr_analyzer_normalize(se->an, e.name, strlen(e.name), name,
                                    sizeof(name), &trunc, NULL, 0))
                return;
        rc->exact_name = !strcmp(name, qn);
        rc->prefix_name = !strncmp(name, qn, qlen);
        rc->token_overlap = sq->alt[0] ? word_overlap(sq->alt, name)
                                       : token_overlap(sq, name);
}

static int pos_cmp(const void *a, const void *b)
{
        uint32_t x = ((const search_pos_t *)a)->ent,
                 y = ((const search_pos_t *)b)->ent;

        return (x > y) - (x < y);
}

/* Index in se->hits of entity @p ent among the @p n sorted positions, or
 * -1. */
static long pos_find(const ltrr_search_t *se, size_t n, uint32_t ent)
{
        search_pos_t key = {ent, 0}, *p;

        p = bsearch(&key, se->pos, n, sizeof(*se->pos), pos_cmp);
        return p ? (long)p->hit : -1;
}

/* The merge: se->fused[i] is the reciprocal-rank fusion of union hit i
 * over the arms' lists (each arm's own order) and the ranker's order in
 * se->scores. */
static void fuse(ltrr_search_t *se, const ltrr_arm_list_t *lists, size_t nl,
                 size_t n)
{
        size_t i, l, j;
        long h;

        for (i = 0; i < n; i++) {
                se->pos[i].ent = se->hits[i].ent;
                se->pos[i].hit = (uint32_t)i;
                se->fused[i] = 0.0f;
        }
        qsort(se->pos, n, sizeof(*se->pos), pos_cmp);
        for (l = 0; l < nl; l++)
                for (j = 0; j < lists[l].cnt; j++)
                        if ((h = pos_find(se, n, lists[l].cands[j].ent)) >= 0)
                                se->fused[h] += (float)(
                                    1.0 / (SEARCH_RRF_C + (double)(j + 1)));
        ltrr_ranker_topk(se->scores, n, n, se->order);
        for (i = 0; i < n; i++)
                se->fused[se->order[i]] += (float)(
                    SEARCH_RRF_RANKER / (SEARCH_RRF_C + (double)(i + 1)));
        for (i = 0; i < n; i++)
                se->fused[i] += (float)SEARCH_RRF_Q2E * se->rc[i].q2e;
}

/* Logs what the ranker scored for result @p i (union hit @p h): its
 * vector and logit, for the first LTRR_RANKER_ONLINE_EXAMPLES_MAX
 * positions (online ranker updates, docs/RANKER.md). */
static void rank_log(const ltrr_search_t *se, ltrr_search_query_t *sq,
                     size_t i, uint32_t h)
{
        ltrr_ranker_input_t *in = &sq->rkin[i];

        memset(in, 0, sizeof(*in));
        if (i >= LTRR_RANKER_ONLINE_EXAMPLES_MAX)
                return;
        memcpy(sq->rkx[i], se->x + (size_t)h * LTRR_RANKER_NFEAT,
               sizeof(sq->rkx[i]));
        in->present = true;
        in->features = sq->rkx[i];
        in->feature_cnt = LTRR_RANKER_NFEAT;
        in->margin = se->scores[h];
}

/* Ranks the @p n union hits of se->hits into sq->hits: the ranker scores
 * them, fuse() merges its order with the arms'. */
ltrr_err_t search_rank(ltrr_search_t *se, const ltrr_index_t *ix,
                       ltrr_search_query_t *sq, const ltrr_search_state_t *st,
                       const ltrr_arm_list_t *lists, size_t nl, size_t n)
{
        size_t i, got;

        /* The profile run_arms() filled: only with the id map and a user
         * (else it is another query's). */
        ltrr_profile_view_build(se->aview,
                                se->ids && sq->user[0] ? se->aprof : NULL);
        for (i = 0; i < n; i++)
                cand_fill(se, ix, sq, st, &se->hits[i], &se->rc[i]);
        if (ltrr_ranker_features_build(se->rc, n, se->x))
                return LTRR_ERR_RANGE;
        ltrr_ranker_score(se->rk, se->x, n, se->scores);
        fuse(se, lists, nl, n);
        got = ltrr_ranker_topk(se->fused, n, sq->k, se->idx);
        for (i = 0; i < got; i++) {
                const ltrr_arm_hit_t *h = &se->hits[se->idx[i]];

                sq->hits[i].ent = h->ent;
                sq->hits[i].score = se->fused[se->idx[i]];
                sq->hits[i].arms = h->arms;
                sq->hits[i].q2e = se->rc[se->idx[i]].q2e;
                rank_log(se, sq, i, se->idx[i]);
        }
        sq->out.hit_cnt = got;
        return LTRR_OK;
}

/* Entity id of index entry @p ent ("" if out of range). */
static const char *ent_id(const ltrr_index_t *ix, uint32_t ent)
{
        ltrr_index_entity_t e;

        return ltrr_index_entity(ix, ent, &e) ? "" : e.id;
}

/* Logs each arm's decision and candidates. */
static void record_arms(ltrr_search_t *se, const ltrr_index_t *ix,
                        ltrr_search_query_t *sq, const ltrr_arm_list_t *lists,
                        size_t nl)
{
        size_t i, j, l = 0, off = 0;

        for (i = 0; i < sq->dec.n_arms; i++) {
                ltrr_arm_decision_t *ad = &sq->ad[i];
                const ltrr_decision_arm_t *da = &sq->dec.arms[i];

                ad->arm = se->space.arm_names[i];
                ad->ran = da->ran != 0;
                ad->budget = (int32_t)da->budget;
                ad->propensity = da->prob;
                ad->candidates = sq->lcands + off;
                ad->candidate_cnt = 0;
                if (l < nl && lists[l].arm == i) {
                        for (j = 0; j < lists[l].cnt &&
                                    off < LTRR_SEARCH_CANDS_MAX; j++, off++) {
                                sq->lcands[off].entity_id =
                                    ent_id(ix, lists[l].cands[j].ent);
                                sq->lcands[off].score =
                                    lists[l].cands[j].score;
                                ad->candidate_cnt++;
                        }
                        l++;
                }
        }
}

/* Fills the Impression record of @p sq. */
void search_record_fill(ltrr_search_t *se, const ltrr_index_t *ix,
                        ltrr_search_query_t *sq, const ltrr_arm_list_t *lists,
                        size_t nl, int shadow)
{
        ltrr_impression_t *imp = &sq->imp;
        size_t i;

        record_arms(se, ix, sq, lists, nl);
        sq->out.rankers = sq->out.hit_cnt ? sq->rkin : NULL;
        for (i = 0; i < sq->out.hit_cnt; i++) {
                sq->results[i].entity_id = ent_id(ix, sq->hits[i].ent);
                sq->results[i].position = (int32_t)i;
                sq->results[i].score = sq->hits[i].score;
                sq->results[i].arm_mask = (int32_t)sq->hits[i].arms;
        }
        snprintf(sq->model_version, sizeof(sq->model_version), "%" PRIu64,
                 sq->dec.model_version);
        memset(imp, 0, sizeof(*imp));
        imp->schema_version = LTRR_RECORDS_SCHEMA_VERSION;
        imp->event_time_ms = sq->now_ms;
        imp->node_id = se->node_id;
        imp->impression_id = sq->id;
        imp->user_id = sq->user;
        imp->session_id = sq->has_session ? sq->session : NULL;
        imp->query_raw = sq->q;
        imp->query_norm = sq->norm;
        imp->lang = sq->lang[0] ? sq->lang : ltrr_index_lang(ix);
        imp->k = (int32_t)sq->k;
        ltrr_feature_to_record(&sq->fctx, &imp->context);
        imp->policy = sq->dec.policy;
        imp->model_version = sq->model_version;
        imp->exploration_seed = (int64_t)sq->dec.seed;
        imp->mc_samples = (int32_t)sq->dec.mc_samples;
        imp->shadow = shadow != 0;
        for (i = 0; i < sq->dec.n_arms; i++)
                imp->total_budget += (int32_t)sq->dec.arms[i].budget;
        imp->arms = sq->ad;
        imp->arm_cnt = sq->dec.n_arms;
        imp->results = sq->results;
        imp->result_cnt = sq->out.hit_cnt;
}

