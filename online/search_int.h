/*
 * ltrr - the search pipeline's private state, shared by search.c (the
 * request, the decision, the arms) and search_rank.c (the merge, the
 * ranker and the Impression record).
 */
#ifndef LTRR_SEARCH_INT_H
#define LTRR_SEARCH_INT_H

#include <stdint.h>

#include "arm.h"
#include "arm_state.h"
#include "feature.h"
#include "profile.h"
#include "q2e.h"
#include "ranker.h"
#include "ranker_online.h"
#include "rng.h"
#include "search.h"
#include "text.h"

/* Token arena of one query: each token and its stem. */
#define SEARCH_ARENA_SIZE                                                      \
        (LTRR_SEARCH_TOKENS_MAX * 2 * (LTRR_TEXT_TOKEN_BYTES_MAX + 1))
/* QU spans kept per query. */
#define SEARCH_SPANS_MAX 16
/* Bytes of a normalized entity name compared with the query. */
#define SEARCH_NAME_MAX 256
/* Length of the model version string. */
#define SEARCH_VERSION_MAX 32
/* Analyzer language of queries (the index's terms are built with it). */
#define SEARCH_LANG_DEFAULT "en"
/* Default price of a candidate in the policy's score units: arms whose
 * expected reward per query is below budget x price stop running
 * (docs/BANDIT.md). */
#define SEARCH_BUDGET_COST 0.006
/* Reciprocal-rank fusion of the merge: an entity at 1-based rank r of an
 * arm scores 1 / (SEARCH_RRF_C + r) from that arm; the ranker's own order
 * counts as one more list with weight SEARCH_RRF_RANKER (docs/RANKER.md).
 * A small constant keeps each arm's first results ahead of entities that
 * several arms merely list far down. */
#define SEARCH_RRF_C 10.0
#define SEARCH_RRF_RANKER 0.5
/* Weight of the observed Q2E score (in [0, 1]) added to the fusion: what
 * users engaged with for this very query outranks retrieval order (one
 * Q2E point is worth a little over two arms' first places). */
#define SEARCH_RRF_Q2E 0.2

/* Where an entity sits in the union (for the merge's rank lookups). */
typedef struct search_pos_s {
        uint32_t ent; /* entity index */
        uint32_t hit; /* its index in se->hits */
} search_pos_t;

struct ltrr_search_s {
        ltrr_search_conf_t conf;          /* copy; strings below */
        char node_id[LTRR_SEARCH_NODE_MAX]; /* logged node id */
        ltrr_bandit_space_t space;        /* registered arms x budgets */
        int linear;                       /* 1: linear statistics key */
        int bm25_arm;                     /* arm whose feature 0 is BM25F */
        ltrr_policy_t *pol;               /* the learned policy */
        ltrr_policy_mc_cache_t *mcc;      /* its propensities per bucket,
                                             NULL without conf.mc_cache */
        ltrr_feature_t *fx;               /* context features */
        ltrr_analyzer_t *an;              /* query analyzer */
        ltrr_qu_scratch_t *qsc;           /* tagger scratch */
        ltrr_arm_scratch_t *asc;          /* arm scratch */
        ltrr_ranker_t *rk;                /* ranker model in use */
        ltrr_ranker_t *rk_base;           /* base of rk when online
                                             statistics apply, else NULL */
        ltrr_ranker_stats_t rk_stats;     /* online statistics applied */
        int rk_online;                    /* 1: rk_stats apply */
        char rk_version[SEARCH_VERSION_MAX * 2]; /* "" built in */
        ltrr_arm_cand_t *cands;           /* CANDS_MAX: arms' output */
        ltrr_arm_hit_t *hits;             /* CANDS_MAX: union */
        ltrr_ranker_cand_t *rc;           /* CANDS_MAX: ranker input */
        float *x;                         /* CANDS_MAX x NFEAT */
        float *scores;                    /* CANDS_MAX */
        uint32_t *idx;                    /* K_MAX: top-k */
        uint32_t *order;                  /* CANDS_MAX: ranker's order */
        float *fused;                     /* CANDS_MAX: merge scores */
        search_pos_t *pos;                /* CANDS_MAX: entity -> hit */
        const ltrr_search_ids_t *ids;     /* borrowed id map, or NULL */
        ltrr_q2e_state_t *aq2e;           /* arms' Q2E state, reused */
        ltrr_user_profile_t *aprof;       /* arms' user profile, reused */
        ltrr_profile_view_t *aview;       /* its affinities for the
                                             ranker, reused */
};

struct ltrr_search_query_s {
        char q[LTRR_SEARCH_Q_MAX + 1];          /* raw query */
        char user[LTRR_SEARCH_ID_MAX];          /* "" anonymous */
        char session[LTRR_SEARCH_ID_MAX];       /* session id */
        int has_session;                        /* session given */
        int cpu_times;                          /* req.cpu_times */
        char lang[LTRR_TEXT_LANG_MAX + 1];      /* language tag */
        unsigned k;                             /* results wanted */
        ltrr_search_mode_t mode;                /* arm choice */
        uint32_t arms;                          /* static arm set */
        int64_t now_ms;                         /* request time */
        ltrr_id128_t id;                        /* impression id */
        ltrr_token_t toks[LTRR_SEARCH_TOKENS_MAX]; /* analyzed query */
        char arena[SEARCH_ARENA_SIZE];          /* token strings */
        ltrr_tokbuf_t tb;                       /* over toks/arena */
        char norm[LTRR_SEARCH_NORM_MAX];        /* normalized query */
        char alt[LTRR_SEARCH_NORM_MAX];         /* its spelling
                                                 * correction, "" none */
        ltrr_qu_span_t spans[SEARCH_SPANS_MAX]; /* QU tags */
        size_t nspans;                          /* entries in spans */
        ltrr_feature_ctx_t fctx;                /* context features */
        ltrr_decision_t dec;                    /* the decision */
        ltrr_search_hit_t hits[LTRR_SEARCH_K_MAX]; /* ranked results */
        ltrr_result_t results[LTRR_SEARCH_K_MAX];  /* logged results */
        ltrr_ranker_input_t rkin[LTRR_SEARCH_K_MAX]; /* their ranker input */
        float rkx[LTRR_RANKER_ONLINE_EXAMPLES_MAX][LTRR_RANKER_NFEAT];
                                                /* logged vectors */
        ltrr_candidate_t lcands[LTRR_SEARCH_CANDS_MAX]; /* logged cands */
        ltrr_arm_decision_t ad[LTRR_BANDIT_MAX_ARMS]; /* logged arms */
        char model_version[SEARCH_VERSION_MAX]; /* decimal */
        ltrr_impression_t imp;                  /* the record */
        ltrr_search_out_t out;                  /* the output */
};

/* Ranks the @p n union hits of se->hits into sq->hits: the ranker scores
 * them and the merge fuses its order with the arms' (search_rank.c). */
ltrr_err_t search_rank(ltrr_search_t *se, const ltrr_index_t *ix,
                       ltrr_search_query_t *sq, const ltrr_search_state_t *st,
                       const ltrr_arm_list_t *lists, size_t nl, size_t n);

/* Fills sq->imp, the Impression record of the query (search_rank.c). */
void search_record_fill(ltrr_search_t *se, const ltrr_index_t *ix,
                        ltrr_search_query_t *sq, const ltrr_arm_list_t *lists,
                        size_t nl, int shadow);

#endif /* LTRR_SEARCH_INT_H */
