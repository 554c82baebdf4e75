/*
 * ltrr - the search pipeline: request -> analysis, QU and features ->
 * policy decision -> arms -> union -> ranker -> results and the
 * Impression record. No I/O: the fresh state comes in parsed
 * (search_state.c) and the record goes out as a struct.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "search_int.h"
#include "spell.h"

_Static_assert(LTRR_SEARCH_CANDS_MAX <= LTRR_RANKER_MAX_CANDS, "ranker cap");
_Static_assert((int)LTRR_QU_INTENT_ARTIST == (int)LTRR_FEATURE_INTENT_ARTIST &&
                   (int)LTRR_QU_INTENT_AMBIGUOUS ==
                       (int)LTRR_FEATURE_INTENT_AMBIGUOUS,
               "QU and feature intents share one order");

static const char *const mode_names[LTRR_SEARCH_MODE__CNT] = {
    "learned", "static", "uniform"};
static const char *const stage_names[LTRR_SEARCH_STAGE__CNT] = {
    "analyze", "decide", "arms", "rank"};

const char *ltrr_search_mode2str(ltrr_search_mode_t mode)
{
        return (unsigned)mode < LTRR_SEARCH_MODE__CNT ? mode_names[mode]
                                                      : "unknown";
}

const char *ltrr_search_stage2str(ltrr_search_stage_t stage)
{
        return (unsigned)stage < LTRR_SEARCH_STAGE__CNT ? stage_names[stage]
                                                        : "unknown";
}

/* A point in time: the monotonic clock and the thread's CPU clock. */
typedef struct tick_s {
        double wall; /* us */
        double cpu;  /* us */
} tick_t;

static double clock_us(clockid_t id)
{
        struct timespec ts;

        clock_gettime(id, &ts);
        return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Now; the CPU clock only when @p cpu (it is a system call). */
static tick_t tick(int cpu)
{
        tick_t t = {clock_us(CLOCK_MONOTONIC),
                    cpu ? clock_us(CLOCK_THREAD_CPUTIME_ID) : 0.0};

        return t;
}

/* Records stage @p s as the time from @p t0 to now; returns now. */
static tick_t stage_end(ltrr_search_query_t *sq, ltrr_search_stage_t s,
                        tick_t t0)
{
        ltrr_search_out_t *out = &sq->out;
        tick_t t = tick(sq->cpu_times);

        out->stage_us[s] = t.wall - t0.wall;
        out->stage_cpu_us[s] = t.cpu - t0.cpu;
        return t;
}

void ltrr_search_conf_init(ltrr_search_conf_t *conf)
{
        static const unsigned budgets[] = {10, 25, 50, 100};

        memset(conf, 0, sizeof(*conf));
        conf->policy = LTRR_POLICY_THOMPSON;
        memcpy(conf->budgets, budgets, sizeof(budgets));
        conf->n_budgets = sizeof(budgets) / sizeof(budgets[0]);
        conf->total_budget = 100;
        conf->mc_samples = 128;
        conf->mc_cache = 1;
        conf->shadow_share = 0.01;
        conf->q2e_alpha = 1.0;
        conf->q2e_spelling = 1;
        conf->budget_cost = SEARCH_BUDGET_COST;
}

/* The built-in ranker used until a model is loaded: arm evidence, Q2E
 * memory, exact matches and the user's taste, with small popularity and
 * history terms. */
static ltrr_ranker_t *ranker_default(char *errstr, size_t errstr_size)
{
        double w[LTRR_RANKER_NFEAT] = {0};
        ltrr_ranker_t *rk = ltrr_ranker_new(NULL, errstr, errstr_size);
        int a;

        if (!rk)
                return NULL;
        for (a = 0; a < LTRR_RANKER_NARMS; a++) {
                w[LTRR_RANKER_F_ARM_SCORE + a] = 1.0;
                w[LTRR_RANKER_F_FOUND_BY + a] = 0.2;
        }
        w[LTRR_RANKER_F_N_ARMS] = 0.3;
        w[LTRR_RANKER_F_BM25] = 1.0;
        w[LTRR_RANKER_F_LOG_POP] = 0.3;
        w[LTRR_RANKER_F_Q2E] = 4.0;
        w[LTRR_RANKER_F_EXACT_NAME] = 1.0;
        w[LTRR_RANKER_F_PREFIX_NAME] = 0.3;
        w[LTRR_RANKER_F_TYPE_MATCH] = 0.3;
        w[LTRR_RANKER_F_USER_ARTIST] = 1.0;
        w[LTRR_RANKER_F_USER_GENRE] = 0.3;
        w[LTRR_RANKER_F_USER_SEEN] = 0.3;
        w[LTRR_RANKER_F_TOKEN_OVERLAP] = 0.5;
        if (ltrr_ranker_weights_set(rk, w, LTRR_RANKER_NFEAT, errstr,
                                    errstr_size)) {
                ltrr_ranker_destroy(rk);
                return NULL;
        }
        return rk;
}

/* Makes conf.baseline (an arm name, or NULL / "none") always run at the
 * smallest budget or more. */
static ltrr_err_t baseline_set(ltrr_search_t *se, char *errstr,
                               size_t errstr_size)
{
        ltrr_bandit_space_t *sp = &se->space;
        const char *name = se->conf.baseline;
        size_t i;

        if (!name || !*name || !strcmp(name, "none"))
                return LTRR_OK;
        for (i = 0; i < sp->n_arms; i++)
                if (!strcmp(sp->arm_names[i], name)) {
                        sp->min_budget[i] = se->conf.budgets[0];
                        return LTRR_OK;
                }
        return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                         "search: baseline arm \"%s\" is not registered",
                         name);
}

/* Fills the bandit space from the registry and the budgets. */
static ltrr_err_t space_init(ltrr_search_t *se, char *errstr,
                             size_t errstr_size)
{
        ltrr_bandit_space_t *sp = &se->space;
        unsigned i, n = ltrr_arm_count();
        ltrr_err_t err;

        if (n > LTRR_BANDIT_MAX_ARMS)
                n = LTRR_BANDIT_MAX_ARMS; /* later arms are not bandit arms */
        memset(sp, 0, sizeof(*sp));
        sp->n_arms = n;
        se->bm25_arm = -1;
        for (i = 0; i < n; i++) {
                const ltrr_arm_t *arm = ltrr_arm_get(i);

                snprintf(sp->arm_names[i], sizeof(sp->arm_names[i]), "%s",
                         arm->name);
                if (se->bm25_arm < 0 && arm->feat_names[0] &&
                    !strcmp(arm->feat_names[0], "bm25f"))
                        se->bm25_arm = (int)i;
        }
        if ((err = baseline_set(se, errstr, errstr_size)))
                return err;
        sp->n_budgets = se->conf.n_budgets;
        memcpy(sp->budgets, se->conf.budgets, sizeof(sp->budgets));
        sp->total_budget = se->conf.total_budget;
        se->linear = se->conf.policy == LTRR_POLICY_LINUCB ||
                     se->conf.policy == LTRR_POLICY_LINTS;
        sp->dim = se->linear ? LTRR_FEATURE_CTX_DIM : 0;
        sp->feature_version = ltrr_feature_version(se->fx);
        return ltrr_bandit_space_check(sp, errstr, errstr_size);
}

static ltrr_err_t conf_check(const ltrr_search_conf_t *conf, char *errstr,
                             size_t errstr_size)
{
        if (!conf || !conf->n_budgets ||
            conf->n_budgets > LTRR_BANDIT_MAX_BUDGETS)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "search: bad budget list");
        if (!conf->total_budget || conf->total_budget > LTRR_ARM_K_MAX ||
            conf->total_budget > LTRR_SEARCH_CANDS_MAX)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "search: total budget %u out of 1..%d",
                                 conf->total_budget, LTRR_SEARCH_CANDS_MAX);
        if (!(conf->shadow_share >= 0 && conf->shadow_share <= 1))
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "search: shadow share not in [0, 1]");
        if (!(conf->budget_cost >= 0 && conf->budget_cost <= 1))
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "search: budget cost not in [0, 1]");
        return LTRR_OK;
}

/* Allocates the per-thread parts of @se. */
static ltrr_err_t search_alloc(ltrr_search_t *se, char *errstr,
                               size_t errstr_size)
{
        ltrr_feature_conf_t fc;
        ltrr_policy_conf_t pc;
        ltrr_err_t err;

        ltrr_feature_conf_init(&fc);
        if (se->conf.langs)
                fc.langs = se->conf.langs;
        if (!(se->fx = ltrr_feature_new(&fc, errstr, errstr_size)))
                return LTRR_ERR_INVALID_ARG;
        if ((err = space_init(se, errstr, errstr_size)))
                return err;
        ltrr_policy_conf_init(&pc, se->conf.policy);
        pc.space = se->space;
        pc.budget_cost = se->conf.budget_cost;
        if (se->conf.menu && *se->conf.menu)
                pc.subsets = se->conf.menu;
        if (se->conf.mc_samples)
                pc.mc_samples = se->conf.mc_samples;
        if (se->conf.mc_cache &&
            !(se->mcc = ltrr_policy_mc_cache_new(errstr, errstr_size)))
                return LTRR_ERR_NOMEM;
        if (!(se->pol = ltrr_policy_new(&pc, errstr, errstr_size)) ||
            !(se->an = ltrr_analyzer_new(SEARCH_LANG_DEFAULT, errstr,
                                         errstr_size)) ||
            !(se->qsc = ltrr_qu_scratch_new(errstr, errstr_size)) ||
            !(se->rk = ranker_default(errstr, errstr_size)))
                return LTRR_ERR_INVALID_ARG;
        se->asc = ltrr_arm_scratch_new();
        se->cands = calloc(LTRR_SEARCH_CANDS_MAX, sizeof(*se->cands));
        se->hits = calloc(LTRR_SEARCH_CANDS_MAX, sizeof(*se->hits));
        se->rc = calloc(LTRR_SEARCH_CANDS_MAX, sizeof(*se->rc));
        se->x = calloc((size_t)LTRR_SEARCH_CANDS_MAX * LTRR_RANKER_NFEAT,
                       sizeof(*se->x));
        se->scores = calloc(LTRR_SEARCH_CANDS_MAX, sizeof(*se->scores));
        se->idx = calloc(LTRR_SEARCH_K_MAX, sizeof(*se->idx));
        se->order = calloc(LTRR_SEARCH_CANDS_MAX, sizeof(*se->order));
        se->fused = calloc(LTRR_SEARCH_CANDS_MAX, sizeof(*se->fused));
        se->pos = calloc(LTRR_SEARCH_CANDS_MAX, sizeof(*se->pos));
        se->aq2e = ltrr_q2e_state_new();
        se->aprof = ltrr_user_profile_new();
        se->aview = malloc(sizeof(*se->aview));
        if (!se->asc || !se->cands || !se->hits || !se->rc || !se->x ||
            !se->scores || !se->idx || !se->order || !se->fused ||
            !se->pos || !se->aq2e || !se->aprof || !se->aview)
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "no memory");
        return LTRR_OK;
}

ltrr_search_t *ltrr_search_new(const ltrr_search_conf_t *conf, char *errstr,
                               size_t errstr_size)
{
        ltrr_search_t *se;

        if (conf_check(conf, errstr, errstr_size))
                return NULL;
        if (!(se = calloc(1, sizeof(*se)))) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "no memory");
                return NULL;
        }
        se->conf = *conf;
        snprintf(se->node_id, sizeof(se->node_id), "%s",
                 conf->node_id && *conf->node_id ? conf->node_id : "serve");
        se->conf.node_id = se->node_id;
        /* langs, menu and baseline are read by search_alloc only (the
         * feature extractor copies langs, the policy parses the menu, the
         * space keeps the baseline). */
        if (search_alloc(se, errstr, errstr_size)) {
                ltrr_search_destroy(se);
                return NULL;
        }
        se->conf.langs = NULL;
        se->conf.menu = NULL;
        se->conf.baseline = NULL;
        return se;
}

void ltrr_search_destroy(ltrr_search_t *se)
{
        if (!se)
                return;
        ltrr_policy_destroy(se->pol);
        ltrr_policy_mc_cache_destroy(se->mcc);
        ltrr_feature_destroy(se->fx);
        ltrr_analyzer_destroy(se->an);
        ltrr_qu_scratch_destroy(se->qsc);
        ltrr_arm_scratch_destroy(se->asc);
        ltrr_ranker_destroy(se->rk);
        ltrr_ranker_destroy(se->rk_base);
        free(se->cands);
        free(se->hits);
        free(se->rc);
        free(se->x);
        free(se->scores);
        free(se->idx);
        free(se->order);
        free(se->fused);
        free(se->pos);
        ltrr_q2e_state_destroy(se->aq2e);
        ltrr_user_profile_destroy(se->aprof);
        free(se->aview);
        free(se);
}

void ltrr_search_set_ids(ltrr_search_t *se, const ltrr_search_ids_t *ids)
{
        se->ids = ids;
}

const ltrr_bandit_space_t *ltrr_search_space(const ltrr_search_t *se)
{
        return &se->space;
}

/* Makes @p base (taken, also on error) the base model and base plus the
 * online statistics @p st (NULL: none) the model in use. On error the
 * model in use stays. */
static ltrr_err_t ranker_swap(ltrr_search_t *se, ltrr_ranker_t *base,
                              const ltrr_ranker_stats_t *st, char *errstr,
                              size_t errstr_size)
{
        ltrr_ranker_t *eff = base;

        if (st && !(eff = ltrr_ranker_online_apply(base, st, errstr,
                                                   errstr_size))) {
                ltrr_ranker_destroy(base);
                return LTRR_ERR_INVALID_ARG;
        }
        ltrr_ranker_destroy(se->rk);
        ltrr_ranker_destroy(se->rk_base);
        se->rk = eff;
        se->rk_base = st ? base : NULL;
        if (st)
                se->rk_stats = *st;
        se->rk_online = st != NULL;
        return LTRR_OK;
}

ltrr_err_t ltrr_search_ranker_load(ltrr_search_t *se, const void *blob,
                                   size_t len, const char *version,
                                   char *errstr, size_t errstr_size)
{
        ltrr_err_t err = LTRR_OK;
        ltrr_ranker_t *rk = ltrr_ranker_deserialize(blob, len, &err, errstr,
                                                    errstr_size);

        if (!rk)
                return err ? err : LTRR_ERR_PARSE;
        err = ranker_swap(se, rk, se->rk_online ? &se->rk_stats : NULL,
                          errstr, errstr_size);
        if (err)
                return err;
        snprintf(se->rk_version, sizeof(se->rk_version), "%s",
                 version ? version : "");
        return LTRR_OK;
}

ltrr_err_t ltrr_search_ranker_online(ltrr_search_t *se,
                                     const ltrr_ranker_stats_t *st,
                                     char *errstr, size_t errstr_size)
{
        ltrr_ranker_t *base = ltrr_ranker_dup(se->rk_base ? se->rk_base
                                                          : se->rk);

        if (!base)
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "out of memory");
        return ranker_swap(se, base, st, errstr, errstr_size);
}

int64_t ltrr_search_ranker_online_count(const ltrr_search_t *se)
{
        return se->rk_online ? se->rk_stats.count : -1;
}

const char *ltrr_search_ranker_version(const ltrr_search_t *se)
{
        return se->rk_version;
}

ltrr_search_query_t *ltrr_search_query_new(const ltrr_search_t *se,
                                           char *errstr, size_t errstr_size)
{
        ltrr_search_query_t *sq = calloc(1, sizeof(*sq));

        (void)se;
        if (!sq)
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "no memory");
        return sq;
}

void ltrr_search_query_destroy(ltrr_search_query_t *sq)
{
        free(sq);
}

/* 1 if @p s[0..len) is well-formed UTF-8 without NUL bytes. */
static int utf8_valid(const unsigned char *s, size_t len)
{
        size_t i = 0;

        while (i < len) {
                unsigned c = s[i], n, cp, k;

                if (c == 0)
                        return 0;
                if (c < 0x80) {
                        i++;
                        continue;
                }
                if (c >= 0xc2 && c <= 0xdf)
                        n = 1, cp = c & 0x1f;
                else if (c >= 0xe0 && c <= 0xef)
                        n = 2, cp = c & 0x0f;
                else if (c >= 0xf0 && c <= 0xf4)
                        n = 3, cp = c & 0x07;
                else
                        return 0;
                if (len - i <= n)
                        return 0;
                for (k = 1; k <= n; k++) {
                        if ((s[i + k] & 0xc0) != 0x80)
                                return 0;
                        cp = (cp << 6) | (s[i + k] & 0x3f);
                }
                if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
                    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
                        return 0;
                i += n + 1;
        }
        return 1;
}

/* Copies an optional id into @dst; -1 when it is too long. */
static int copy_id(char *dst, size_t size, const char *src)
{
        size_t len = src ? strlen(src) : 0;

        if (len >= size)
                return -1;
        memcpy(dst, src ? src : "", len);
        dst[len] = '\0';
        return 0;
}

/* Checks the request's fields and copies them into @p sq. */
static ltrr_err_t req_copy(const ltrr_search_req_t *req,
                           ltrr_search_query_t *sq, char *errstr,
                           size_t errstr_size)
{
        size_t q_max = req->q_max && req->q_max < LTRR_SEARCH_Q_MAX
                           ? req->q_max
                           : LTRR_SEARCH_Q_MAX;
        unsigned k_max = req->k_max && req->k_max < LTRR_SEARCH_K_MAX
                             ? req->k_max
                             : LTRR_SEARCH_K_MAX;

        if (!req->q || !req->q_len)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "missing or empty q");
        if (req->q_len > q_max)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "q longer than %zu bytes", q_max);
        if (!utf8_valid((const unsigned char *)req->q, req->q_len))
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "q is not valid UTF-8");
        if (req->k < 1 || req->k > k_max)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "k must be in 1..%u", k_max);
        if ((unsigned)req->mode >= LTRR_SEARCH_MODE__CNT ||
            (req->mode == LTRR_SEARCH_MODE_STATIC &&
             (!req->arms || req->arms >> ltrr_arm_count())))
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "bad policy or arm set");
        if (copy_id(sq->user, sizeof(sq->user), req->user_id) ||
            copy_id(sq->session, sizeof(sq->session), req->session_id) ||
            copy_id(sq->lang, sizeof(sq->lang), req->lang))
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "user, session or lang too long");
        if ((req->user_id && !utf8_valid((const unsigned char *)req->user_id,
                                         strlen(req->user_id))) ||
            (req->session_id &&
             !utf8_valid((const unsigned char *)req->session_id,
                         strlen(req->session_id))))
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "user or session is not valid UTF-8");
        memcpy(sq->q, req->q, req->q_len);
        sq->q[req->q_len] = '\0';
        sq->has_session = req->session_id != NULL;
        sq->k = req->k;
        sq->mode = req->mode;
        sq->arms = req->arms;
        sq->now_ms = req->now_ms;
        sq->id = req->impression_id;
        return LTRR_OK;
}

/* Query words @p ix does not know: neither a term of its dictionary nor,
 * for the last word (of two bytes or more, as the lexical arm expands
 * it), the start of one. Stop words do not count when the index drops
 * them, nor do recency words, which the query's shape reads. Bit i of
 * *@p maskp is set for an unknown word i < 32. */
static size_t unknown_words(const ltrr_index_t *ix, const ltrr_token_t *toks,
                            size_t n, uint32_t *maskp)
{
        int stop = ix && ltrr_index_stopwords(ix);
        size_t i, cnt = 0;

        for (i = 0; ix && i < n; i++) {
                const ltrr_token_t *t = &toks[i];

                if ((stop && ltrr_index_is_stopword(t->norm, t->norm_len)) ||
                    ltrr_feature_fresh_word(t->norm, t->norm_len))
                        continue;
                if (ltrr_index_knows(ix, t->stem, t->stem_len, 0) ||
                    (i + 1 == n && t->norm_len >= 2 &&
                     ltrr_index_knows(ix, t->norm, t->norm_len, 1)))
                        continue;
                if (i < 32)
                        *maskp |= (uint32_t)1 << i;
                cnt++;
        }
        return cnt;
}

/* Analysis, normalization, QU and context features of @p sq. */
static ltrr_err_t analyze(ltrr_search_t *se, const ltrr_index_t *ix,
                          const ltrr_qu_dict_t *qu, ltrr_search_query_t *sq,
                          size_t q_len, char *errstr, size_t errstr_size)
{
        ltrr_qu_intent_t intent = LTRR_QU_INTENT_AMBIGUOUS;
        ltrr_feature_in_t in = {0};
        uint32_t unknown = 0;
        ltrr_err_t err;
        int trunc = 0;

        sq->alt[0] = '\0';
        ltrr_tokbuf_init(&sq->tb, sq->toks, LTRR_SEARCH_TOKENS_MAX, sq->arena,
                         sizeof(sq->arena));
        if ((err = ltrr_analyzer_analyze(se->an, sq->q, q_len, &sq->tb,
                                         errstr, errstr_size)) ||
            (err = ltrr_analyzer_normalize(se->an, sq->q, q_len, sq->norm,
                                           sizeof(sq->norm), &trunc, errstr,
                                           errstr_size)))
                return err;
        if (!sq->tb.cnt || !sq->norm[0])
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "q has no searchable word");
        sq->nspans = 0;
        if (qu && ltrr_qu_tag(qu, se->qsc, sq->toks, sq->tb.cnt, sq->spans,
                              SEARCH_SPANS_MAX, &sq->nspans, &intent) &&
            sq->nspans < SEARCH_SPANS_MAX)
                sq->nspans = 0; /* tagging failed: go on untagged */
        in.lang = sq->lang;
        in.text = sq->norm;
        in.n_tokens = sq->tb.cnt;
        in.n_unknown = unknown_words(ix, sq->toks, sq->tb.cnt, &unknown);
        if (!in.n_unknown || !se->conf.q2e_spelling ||
            !ltrr_spell_query(ix, sq->toks, sq->tb.cnt, unknown, sq->alt,
                              sizeof(sq->alt)))
                sq->alt[0] = '\0';
        in.n_chars = ltrr_feature_utf8_chars(sq->norm, strlen(sq->norm));
        in.intent = (ltrr_feature_intent_t)intent;
        in.time_ms = sq->now_ms;
        in.utc_offset_min = LTRR_FEATURE_OFFSET_DEFAULT;
        if ((err = ltrr_feature_context(se->fx, &in, &sq->fctx, errstr,
                                        errstr_size)))
                return err;
        /* subsets learns whole arm sets: it pools the language groups
         * and days and splits by query length and unknown words (the
         * learner does the same for its rewards) */
        if (se->conf.policy == LTRR_POLICY_SUBSETS)
                sq->fctx.bucket = ltrr_feature_bucket_subsets(
                    sq->fctx.bucket, sq->fctx.x, LTRR_FEATURE_CTX_DIM);
        return LTRR_OK;
}

ltrr_err_t ltrr_search_prepare(ltrr_search_t *se, const ltrr_index_t *ix,
                               const ltrr_qu_dict_t *qu,
                               const ltrr_search_req_t *req,
                               ltrr_search_query_t *sq, char *errstr,
                               size_t errstr_size)
{
        tick_t t0 = tick(req && req->cpu_times);
        ltrr_err_t err;

        if (!se || !req || !sq)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "bad arguments");
        memset(&sq->out, 0, sizeof(sq->out));
        sq->cpu_times = req->cpu_times != 0;
        if ((err = req_copy(req, sq, errstr, errstr_size)) ||
            (err = analyze(se, ix, qu, sq, req->q_len, errstr,
                           errstr_size)))
                return err;
        stage_end(sq, LTRR_SEARCH_STAGE_ANALYZE, t0);
        return LTRR_OK;
}

const char *ltrr_search_query_norm(const ltrr_search_query_t *sq)
{
        return sq->norm;
}

const char *ltrr_search_query_alt(const ltrr_search_query_t *sq)
{
        return sq->alt;
}

uint32_t ltrr_search_query_bucket(const ltrr_search_query_t *sq)
{
        return sq->fctx.bucket;
}

ltrr_err_t ltrr_search_keys(const ltrr_search_t *se,
                            const ltrr_search_query_t *sq,
                            ltrr_search_keys_t *keys, char *errstr,
                            size_t errstr_size)
{
        char ns[32];
        ltrr_err_t err, first = LTRR_OK;

        memset(keys, 0, sizeof(*keys));
        if (se->linear)
                snprintf(ns, sizeof(ns), "lin:f%" PRIu32,
                         se->space.feature_version);
        else
                snprintf(ns, sizeof(ns), "b%" PRIu32, sq->fctx.bucket);
        if ((err = ltrr_bstats_key(keys->bandit, sizeof(keys->bandit), ns,
                                   errstr, errstr_size)))
                first = err;
        if ((err = ltrr_q2e_key(keys->q2e, sizeof(keys->q2e), sq->norm, 0,
                                errstr, errstr_size)) ||
            (err = ltrr_q2e_key(keys->q2e_meta, sizeof(keys->q2e_meta),
                                sq->norm, 1, errstr, errstr_size))) {
                keys->q2e[0] = keys->q2e_meta[0] = '\0';
                first = first ? first : err;
        }
        if (sq->alt[0] &&
            ((err = ltrr_q2e_key(keys->q2e_alt, sizeof(keys->q2e_alt),
                                 sq->alt, 0, errstr, errstr_size)) ||
             (err = ltrr_q2e_key(keys->q2e_alt_meta,
                                 sizeof(keys->q2e_alt_meta), sq->alt, 1,
                                 errstr, errstr_size)))) {
                keys->q2e_alt[0] = keys->q2e_alt_meta[0] = '\0';
                first = first ? first : err;
        }
        if (sq->user[0] &&
            ((err = ltrr_profile_key(keys->recent, sizeof(keys->recent),
                                     sq->user, LTRR_PROFILE_RECENT, errstr,
                                     errstr_size)) ||
             (err = ltrr_profile_key(keys->affinity, sizeof(keys->affinity),
                                     sq->user, LTRR_PROFILE_AFFINITY, errstr,
                                     errstr_size)))) {
                keys->recent[0] = keys->affinity[0] = '\0';
                first = first ? first : err;
        }
        return first;
}


/* Splits the total budget evenly over the arms in @p mask; the arms in
 * @p pmask run with probability @p prob, the others never. */
static void decide_fixed(const ltrr_search_t *se, ltrr_search_query_t *sq,
                         uint32_t mask, uint32_t pmask, double prob,
                         const char *name)
{
        ltrr_decision_t *dec = &sq->dec;
        unsigned i, n = (unsigned)__builtin_popcount(mask);
        unsigned each = n ? se->space.total_budget / n : 0;

        dec->policy = name;
        dec->model_version = 0;
        dec->mc_samples = 0;
        dec->total = 0;
        for (i = 0; i < dec->n_arms; i++) {
                ltrr_decision_arm_t *a = &dec->arms[i];
                int on = (mask >> i) & 1;

                a->ran = on;
                a->budget = on ? each : 0;
                a->prob = ((pmask >> i) & 1) ? prob : 0.0;
                a->prob_budget = on ? a->prob : 1.0 - a->prob;
                dec->total += a->budget;
        }
}

/* A uniform random non-empty subset of the available arms. */
static void decide_uniform(const ltrr_search_t *se, ltrr_search_query_t *sq,
                           uint32_t avail)
{
        unsigned bits[LTRR_BANDIT_MAX_ARMS], m = 0, i;
        uint32_t mask = 0;
        uint64_t r;
        ltrr_rng_t rng;

        for (i = 0; i < sq->dec.n_arms; i++)
                if ((avail >> i) & 1)
                        bits[m++] = i;
        if (!m) {
                decide_fixed(se, sq, 0, 0, 0.0, "uniform");
                return;
        }
        ltrr_rng_seed(&rng, sq->dec.seed);
        r = 1 + ltrr_rng_below(&rng, ((uint64_t)1 << m) - 1);
        for (i = 0; i < m; i++)
                if ((r >> i) & 1)
                        mask |= 1u << bits[i];
        /* Each arm is in 2^(m-1) of the 2^m - 1 non-empty subsets. */
        decide_fixed(se, sq, mask, avail,
                     (double)((uint64_t)1 << (m - 1)) /
                         (double)(((uint64_t)1 << m) - 1),
                     "uniform");
}

/* Makes the decision of @p sq; returns 1 for a shadow query. */
static int decide(ltrr_search_t *se, ltrr_search_query_t *sq,
                  const ltrr_search_state_t *st, uint32_t avail,
                  ltrr_err_t *errp, char *errstr, size_t errstr_size)
{
        ltrr_bandit_ctx_t bc = {0};
        uint64_t seed = ltrr_rng_seed_from_id(sq->id.b);

        memset(&sq->dec, 0, sizeof(sq->dec));
        sq->dec.n_arms = se->space.n_arms;
        sq->dec.seed = seed;
        sq->dec.feature_version = se->space.feature_version;
        sq->dec.bucket = sq->fctx.bucket;
        *errp = LTRR_OK;
        if (sq->mode == LTRR_SEARCH_MODE_STATIC) {
                decide_fixed(se, sq, sq->arms & avail, sq->arms & avail, 1.0,
                             "static");
                return 0;
        }
        if (sq->mode == LTRR_SEARCH_MODE_UNIFORM) {
                decide_uniform(se, sq, avail);
                return 0;
        }
        ltrr_feature_to_bandit(&sq->fctx, &bc);
        if (!se->linear) {
                bc.x = NULL;
                bc.dim = 0;
        }
        bc.available = avail;
        bc.now = (double)sq->now_ms / 1000.0;
        bc.seed = seed;
        *errp = ltrr_policy_decide_cached(se->pol, se->mcc, &bc,
                                          ltrr_search_state_bstats(st),
                                          &sq->dec, errstr, errstr_size);
        /* The top 53 bits of the seed as a uniform draw in [0, 1). */
        return (double)(seed >> 11) * 0x1.0p-53 < se->conf.shadow_share;
}

/* Runs the arms the decision picked (all available ones when @p shadow)
 * into se->cands; fills @p lists. */
static ltrr_err_t run_arms(ltrr_search_t *se, const ltrr_index_t *ix,
                           ltrr_search_query_t *sq,
                           const ltrr_search_state_t *st, uint32_t avail,
                           int shadow, ltrr_arm_list_t *lists, size_t *nlp,
                           char *errstr, size_t errstr_size)
{
        ltrr_arm_query_t aq = {sq->toks, sq->tb.cnt, sq->norm};
        ltrr_arm_ctx_t ac = {.user_id = sq->user[0] ? sq->user : NULL,
                             .now_ms = sq->now_ms,
                             .today_days = (int32_t)(sq->now_ms / 86400000)};
        unsigned n_avail = (unsigned)__builtin_popcount(avail), i;
        size_t off = 0, nl = 0;

        if (se->ids) { /* without the map the arms see no fresh state */
                ltrr_search_state_arm_fill(st, ix, se->ids, se->aq2e,
                                           sq->user[0] ? se->aprof : NULL);
                ac.q2e = se->aq2e;
                ac.profile = sq->user[0] ? se->aprof : NULL;
        }

        snprintf(ac.lang, sizeof(ac.lang), "%s", sq->lang);
        for (i = 0; i < sq->dec.n_arms; i++) {
                ltrr_decision_arm_t *a = &sq->dec.arms[i];
                size_t k = a->ran ? a->budget : 0, cnt = 0;
                ltrr_err_t err;

                if (shadow && ((avail >> i) & 1)) {
                        k = se->space.total_budget / n_avail;
                        a->ran = 1;
                        a->budget = (unsigned)k;
                }
                if (!k || off + k > LTRR_SEARCH_CANDS_MAX)
                        continue;
                err = ltrr_arm_run(i, ix, &aq, &ac, se->asc, k,
                                   se->cands + off, &cnt, errstr,
                                   errstr_size);
                if (err && err != LTRR_ERR_STATE)
                        return err;
                lists[nl].arm = i;
                lists[nl].cands = se->cands + off;
                lists[nl].cnt = cnt;
                nl++;
                off += cnt;
        }
        *nlp = nl;
        return LTRR_OK;
}

static uint32_t arms_available(const ltrr_search_t *se, const ltrr_index_t *ix)
{
        uint32_t avail = 0;
        unsigned i;

        for (i = 0; i < se->space.n_arms; i++)
                if (ltrr_arm_get(i)->available(ix))
                        avail |= 1u << i;
        return avail;
}

ltrr_err_t ltrr_search_run(ltrr_search_t *se, const ltrr_index_t *ix,
                           ltrr_search_query_t *sq,
                           const ltrr_search_state_t *st, char *errstr,
                           size_t errstr_size)
{
        ltrr_arm_list_t lists[LTRR_BANDIT_MAX_ARMS];
        size_t nl = 0, nh = 0;
        uint32_t avail;
        tick_t t;
        ltrr_err_t err;
        int shadow;

        if (!se || !ix || !sq || !st)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "bad arguments");
        t = tick(sq->cpu_times);
        avail = arms_available(se, ix);
        shadow = decide(se, sq, st, avail, &err, errstr, errstr_size);
        if (err)
                return err;
        t = stage_end(sq, LTRR_SEARCH_STAGE_DECIDE, t);
        if ((err = run_arms(se, ix, sq, st, avail, shadow, lists, &nl,
                            errstr, errstr_size)) ||
            (err = ltrr_arm_union(lists, nl, se->hits, LTRR_SEARCH_CANDS_MAX,
                                  &nh, errstr, errstr_size)))
                return err;
        t = stage_end(sq, LTRR_SEARCH_STAGE_ARMS, t);
        if ((err = search_rank(se, ix, sq, st, lists, nl, nh)))
                return ltrr_errf(err, errstr, errstr_size, "ranker input");
        search_record_fill(se, ix, sq, lists, nl, shadow);
        stage_end(sq, LTRR_SEARCH_STAGE_RANK, t);
        sq->out.hits = sq->hits;
        sq->out.dec = &sq->dec;
        sq->out.imp = &sq->imp;
        sq->out.shadow = shadow;
        sq->out.degraded = ltrr_search_state_degraded(st);
        sq->out.cands = nh;
        return LTRR_OK;
}

const ltrr_search_out_t *ltrr_search_out(const ltrr_search_query_t *sq)
{
        return &sq->out;
}
