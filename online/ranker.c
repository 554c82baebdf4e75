/*
 * ltrr - online learning-to-rank model (see ranker.h).
 *
 * State is FTRL-Proximal's per-coordinate z and n (doubles); the weights
 * used for scoring are a float copy derived from them after each change,
 * so scoring is one short dot product per candidate. The binary blob and
 * the text form of the model are in ranker_codec.c.
 */
#include "ranker_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Most epochs a batch fit accepts. */
#define RK_MAX_EPOCHS 10000

/* The feature layout: the single source for docs and debug output. Arm
 * slots follow the arm registry's order (online/arm.c), which serving and
 * the trainer use to fill them. */
const ltrr_ranker_fdesc_t ltrr_ranker_fdescs[LTRR_RANKER_NFEAT] = {
    {"bias", 0, "constant 1"},
    {"arm_score_lexical", 1, "lexical arm score / its max in the query"},
    {"arm_score_popular", 2, "popular arm score / its max in the query"},
    {"arm_score_structured", 3, "structured arm score / its max"},
    {"arm_score_fresh", 4, "fresh arm score / its max in the query"},
    {"arm_score_personal", 5, "personal arm score / its max in the query"},
    {"arm_score_memory", 6, "memory (Q2E) arm score / its max"},
    {"arm_score_fuzzy", 7, "fuzzy arm score / its max in the query"},
    {"arm_score_semantic", 8, "semantic arm score / its max in the query"},
    {"found_lexical", 9, "1 if the lexical arm returned it"},
    {"found_popular", 10, "1 if the popular arm returned it"},
    {"found_structured", 11, "1 if the structured arm returned it"},
    {"found_fresh", 12, "1 if the fresh arm returned it"},
    {"found_personal", 13, "1 if the personal arm returned it"},
    {"found_memory", 14, "1 if the memory (Q2E) arm returned it"},
    {"found_fuzzy", 15, "1 if the fuzzy arm returned it"},
    {"found_semantic", 16, "1 if the semantic arm returned it"},
    {"n_arms", 17, "arms that returned it / 8"},
    {"bm25", 18, "BM25F score s as s / (s + 5), in [0, 1)"},
    {"log_popularity", 19, "ln(1 + engagements) / 16, capped at 1"},
    {"age", 20, "ln(1 + age days) / ln(3651), capped at 1; unknown = 1"},
    {"q2e", 21, "observed Q2E score for this query, [0, 1]"},
    {"user_artist", 22, "user affinity to the entity's artist / the "
                        "profile's largest, [0, 1]; 0 without a user"},
    {"user_genre", 23, "user affinity to the entity's genre / the "
                       "profile's largest, [0, 1]; 0 without a user"},
    {"exact_name", 24, "1 if the normalized name equals the query"},
    {"prefix_name", 25, "1 if the normalized name starts with the query"},
    {"query_len", 26, "query tokens / 10, capped at 1"},
    {"type_match", 27, "1 if entity type equals the QU type"},
    {"is_new", 28, "1 if released within 30 days"},
    {"user_seen", 29, "1 if the user engaged with the entity before"},
    {"token_overlap", 30, "share of query tokens found in the name"},
    {"reserved", 31, "always 0; keeps the vector at 32 floats"},
};

const ltrr_ranker_fdesc_t *ltrr_ranker_layout(size_t *cnt)
{
        if (cnt)
                *cnt = LTRR_RANKER_NFEAT;
        return ltrr_ranker_fdescs;
}

/* Appends formatted text at *off; returns -1 once the buffer is full. */
int ltrr_ranker_append(char *buf, size_t size, size_t *off, const char *fmt,
                       ...)
{
        va_list ap;
        int r;

        if (*off >= size)
                return -1;
        va_start(ap, fmt);
        r = vsnprintf(buf + *off, size - *off, fmt, ap);
        va_end(ap);
        if (r < 0 || (size_t)r >= size - *off) {
                buf[size - 1] = '\0';
                *off = size;
                return -1;
        }
        *off += (size_t)r;
        return 0;
}

ltrr_err_t ltrr_ranker_layout_render(char *buf, size_t size)
{
        size_t off = 0;
        int i;

        if (!buf || size == 0)
                return LTRR_ERR_NOSPACE;
        buf[0] = '\0';
        if (ltrr_ranker_append(buf, size, &off,
                               "| index | name | value |\n"
                               "|---|---|---|\n") < 0)
                return LTRR_ERR_NOSPACE;
        for (i = 0; i < LTRR_RANKER_NFEAT; i++)
                if (ltrr_ranker_append(buf, size, &off,
                                       "| %d | `%s` | %s |\n",
                                       ltrr_ranker_fdescs[i].index,
                                       ltrr_ranker_fdescs[i].name,
                                       ltrr_ranker_fdescs[i].desc) < 0)
                        return LTRR_ERR_NOSPACE;
        return LTRR_OK;
}

/* Clamps @v to [lo, hi]; non-finite values become @lo. */
static float rk_clampf(double v, double lo, double hi)
{
        if (!isfinite(v) || v < lo)
                return (float)lo;
        return (float)(v > hi ? hi : v);
}

/* Fills one candidate's vector; @amax holds each arm's max score. */
static void rk_features_one(const ltrr_ranker_cand_t *c, const double *amax,
                            float *x)
{
        int a, found = 0;

        memset(x, 0, LTRR_RANKER_NFEAT * sizeof(*x));
        x[LTRR_RANKER_F_BIAS] = 1.0f;
        for (a = 0; a < LTRR_RANKER_NARMS; a++) {
                if (amax[a] > 0.0)
                        x[LTRR_RANKER_F_ARM_SCORE + a] =
                            rk_clampf(c->arm_score[a] / amax[a], 0.0, 1.0);
                if (c->found_mask & (1u << a)) {
                        x[LTRR_RANKER_F_FOUND_BY + a] = 1.0f;
                        found++;
                }
        }
        x[LTRR_RANKER_F_N_ARMS] = (float)found / LTRR_RANKER_NARMS;
        if (isfinite(c->bm25) && c->bm25 > 0)
                x[LTRR_RANKER_F_BM25] = c->bm25 / (c->bm25 + 5.0f);
        x[LTRR_RANKER_F_LOG_POP] =
            rk_clampf(log1p(c->popularity > 0 ? c->popularity : 0) / 16.0,
                      0.0, 1.0);
        x[LTRR_RANKER_F_AGE] =
            c->age_days < 0 ? 1.0f
                            : rk_clampf(log1p(c->age_days) / log(3651.0),
                                        0.0, 1.0);
        x[LTRR_RANKER_F_Q2E] = rk_clampf(c->q2e, 0.0, 1.0);
        x[LTRR_RANKER_F_USER_ARTIST] = rk_clampf(c->user_artist, 0.0, 1.0);
        x[LTRR_RANKER_F_USER_GENRE] = rk_clampf(c->user_genre, 0.0, 1.0);
        x[LTRR_RANKER_F_EXACT_NAME] = c->exact_name ? 1.0f : 0.0f;
        x[LTRR_RANKER_F_PREFIX_NAME] = c->prefix_name ? 1.0f : 0.0f;
        x[LTRR_RANKER_F_QUERY_LEN] = rk_clampf(c->query_tokens / 10.0, 0, 1);
        x[LTRR_RANKER_F_TYPE_MATCH] = c->type_match ? 1.0f : 0.0f;
        x[LTRR_RANKER_F_IS_NEW] =
            c->age_days >= 0 && c->age_days <= 30 ? 1.0f : 0.0f;
        x[LTRR_RANKER_F_USER_SEEN] = c->user_seen ? 1.0f : 0.0f;
        x[LTRR_RANKER_F_TOKEN_OVERLAP] = rk_clampf(c->token_overlap, 0, 1);
}

ltrr_err_t ltrr_ranker_features_build(const ltrr_ranker_cand_t *cands,
                                      size_t n, float *x)
{
        double amax[LTRR_RANKER_NARMS] = {0};
        size_t i;
        int a;

        if (n > LTRR_RANKER_MAX_CANDS)
                return LTRR_ERR_INVALID_ARG;
        for (i = 0; i < n; i++)
                for (a = 0; a < LTRR_RANKER_NARMS; a++)
                        if (isfinite(cands[i].arm_score[a]) &&
                            cands[i].arm_score[a] > amax[a])
                                amax[a] = cands[i].arm_score[a];
        for (i = 0; i < n; i++)
                rk_features_one(&cands[i], amax, x + i * LTRR_RANKER_NFEAT);
        return LTRR_OK;
}

void ltrr_ranker_params_default(ltrr_ranker_params_t *p)
{
        p->alpha = 0.1;
        p->beta = 1.0;
        p->l1 = 0.01;
        p->l2 = 0.1;
        p->ipw_clip = 10.0;
}

/* Checks the hyper-parameters' ranges; fails with LTRR_ERR_INVALID_ARG. */
ltrr_err_t ltrr_ranker_params_check(const ltrr_ranker_params_t *p,
                                    char *errstr, size_t errstr_size)
{
        if (!(isfinite(p->alpha) && p->alpha > 0) ||
            !(isfinite(p->beta) && p->beta > 0) ||
            !(isfinite(p->l1) && p->l1 >= 0) ||
            !(isfinite(p->l2) && p->l2 >= 0) ||
            !(isfinite(p->ipw_clip) && p->ipw_clip >= 1))
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "ranker params out of range (alpha > 0, "
                                 "beta > 0, l1 >= 0, l2 >= 0, "
                                 "ipw_clip >= 1)");
        return LTRR_OK;
}

/* FTRL-Proximal closed form for coordinate @i. */
static void rk_weight_update(ltrr_ranker_t *rk, int i)
{
        const ltrr_ranker_params_t *p = &rk->params;
        double z = rk->z[i], den;

        if (fabs(z) <= p->l1) {
                rk->w[i] = 0.0f;
                return;
        }
        den = (p->beta + sqrt(rk->n[i])) / p->alpha + p->l2;
        rk->w[i] = (float)(-(z - (z > 0 ? p->l1 : -p->l1)) / den);
}

/* Derives every weight from z and n. */
void ltrr_ranker_weights_refresh(ltrr_ranker_t *rk)
{
        int i;

        for (i = 0; i < LTRR_RANKER_NFEAT; i++)
                rk_weight_update(rk, i);
}

ltrr_ranker_t *ltrr_ranker_new(const ltrr_ranker_params_t *params,
                               char *errstr, size_t errstr_size)
{
        ltrr_ranker_params_t def;
        ltrr_ranker_t *rk;

        if (!params) {
                ltrr_ranker_params_default(&def);
                params = &def;
        }
        if (ltrr_ranker_params_check(params, errstr, errstr_size))
                return NULL;
        rk = calloc(1, sizeof(*rk));
        if (!rk) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                          "out of memory allocating ranker");
                return NULL;
        }
        rk->params = *params;
        return rk;
}

void ltrr_ranker_destroy(ltrr_ranker_t *rk)
{
        free(rk);
}

ltrr_ranker_t *ltrr_ranker_dup(const ltrr_ranker_t *rk)
{
        ltrr_ranker_t *cp = malloc(sizeof(*cp));

        if (cp)
                memcpy(cp, rk, sizeof(*cp));
        return cp;
}

ltrr_err_t ltrr_ranker_weights_set(ltrr_ranker_t *rk, const double *w,
                                   size_t n, char *errstr,
                                   size_t errstr_size)
{
        const ltrr_ranker_params_t *p = &rk->params;
        double den;
        size_t i;

        if (n != LTRR_RANKER_NFEAT)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "%zu weights given, layout has %d", n,
                                 LTRR_RANKER_NFEAT);
        for (i = 0; i < n; i++)
                if (!isfinite(w[i]))
                        return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr,
                                         errstr_size,
                                         "weight %zu is not finite", i);
        /* Invert the closed form, keeping each coordinate's n. */
        for (i = 0; i < n; i++) {
                den = (p->beta + sqrt(rk->n[i])) / p->alpha + p->l2;
                rk->z[i] = w[i] == 0.0 ? 0.0
                                       : -(w[i] * den +
                                           (w[i] > 0 ? p->l1 : -p->l1));
        }
        ltrr_ranker_weights_refresh(rk);
        rk->counter++;
        return LTRR_OK;
}

void ltrr_ranker_weights_get(const ltrr_ranker_t *rk, float *w)
{
        memcpy(w, rk->w, sizeof(rk->w));
}

void ltrr_ranker_params_get(const ltrr_ranker_t *rk,
                            ltrr_ranker_params_t *p)
{
        *p = rk->params;
}

/*
 * Dot product with eight independent partial sums, which the compiler
 * turns into vector instructions; the layout length is a multiple of 8.
 */
static inline float rk_dot(const float *w, const float *x)
{
        float acc[8] = {0};
        float s;
        int i, k;

        for (i = 0; i < LTRR_RANKER_NFEAT; i += 8)
                for (k = 0; k < 8; k++)
                        acc[k] += w[i + k] * x[i + k];
        s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) +
            ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        return s;
}

_Static_assert(LTRR_RANKER_NFEAT % 8 == 0, "layout length multiple of 8");
_Static_assert(LTRR_RANKER_NFEAT <= 64, "layout fits a 64-bit mask");

void ltrr_ranker_score(const ltrr_ranker_t *rk, const float *x, size_t n,
                       float *scores)
{
        size_t j;

        for (j = 0; j < n; j++)
                scores[j] = rk_dot(rk->w, x + j * LTRR_RANKER_NFEAT);
}

static double rk_sigmoid(double s)
{
        double e;

        if (s >= 0)
                return 1.0 / (1.0 + exp(-s));
        e = exp(s);
        return e / (1.0 + e);
}

/* Logistic loss with a soft label: softplus(s) - y * s. */
static double rk_loss(double s, double y)
{
        double sp = s > 0 ? s + log1p(exp(-s)) : log1p(exp(s));

        return sp - y * s;
}

double ltrr_ranker_predict(const ltrr_ranker_t *rk, const float *x)
{
        return rk_sigmoid(rk_dot(rk->w, x));
}

/* True if candidate @a ranks before @b: higher score, NaN last, then
 * lower index. */
static int rk_before(const float *s, uint32_t a, uint32_t b)
{
        int an = isnan(s[a]), bn = isnan(s[b]);

        if (an != bn)
                return bn;
        if (!an && s[a] != s[b])
                return s[a] > s[b];
        return a < b;
}

/* Restores the heap below @i; the root holds the worst kept entry. */
static void rk_sift_down(const float *s, uint32_t *h, size_t len, size_t i)
{
        size_t c, worst;
        uint32_t t;

        for (;;) {
                worst = i;
                c = 2 * i + 1;
                if (c < len && rk_before(s, h[worst], h[c]))
                        worst = c;
                if (c + 1 < len && rk_before(s, h[worst], h[c + 1]))
                        worst = c + 1;
                if (worst == i)
                        return;
                t = h[i];
                h[i] = h[worst];
                h[worst] = t;
                i = worst;
        }
}

size_t ltrr_ranker_topk(const float *scores, size_t n, size_t k,
                        uint32_t *idx)
{
        size_t len = 0, i, out;
        uint32_t t;

        if (n > UINT32_MAX)
                n = UINT32_MAX;
        if (k > n)
                k = n;
        if (k == 0)
                return 0;
        for (i = 0; i < n; i++) {
                if (len < k) {
                        idx[len++] = (uint32_t)i;
                        if (len == k) /* heapify once full */
                                for (t = (uint32_t)(k / 2); t-- > 0;)
                                        rk_sift_down(scores, idx, len, t);
                } else if (rk_before(scores, (uint32_t)i, idx[0])) {
                        idx[0] = (uint32_t)i;
                        rk_sift_down(scores, idx, len, 0);
                }
        }
        /* Pop the worst to the back until the array is sorted. */
        for (out = len; out > 1; out--) {
                t = idx[0];
                idx[0] = idx[out - 1];
                idx[out - 1] = t;
                rk_sift_down(scores, idx, out - 1, 0);
        }
        return k;
}

/*
 * One FTRL-Proximal step with gradient scale @g (the loss derivative
 * with respect to the score); coordinates with x == 0 are untouched.
 */
static void rk_ftrl_step(ltrr_ranker_t *rk, const float *x, double g)
{
        double gi, sigma;
        int i;

        if (g == 0.0)
                return;
        for (i = 0; i < LTRR_RANKER_NFEAT; i++) {
                if (x[i] == 0.0f)
                        continue;
                gi = g * x[i];
                sigma = (sqrt(rk->n[i] + gi * gi) - sqrt(rk->n[i])) /
                        rk->params.alpha;
                rk->z[i] += gi - sigma * rk->w[i];
                rk->n[i] += gi * gi;
                rk_weight_update(rk, i);
        }
}

/* Applies one example without validation; returns its loss before the
 * step. */
static double rk_step(ltrr_ranker_t *rk, const float *x, double label,
                      double weight)
{
        double s = rk_dot(rk->w, x);

        rk_ftrl_step(rk, x, weight * (rk_sigmoid(s) - label));
        rk->counter++;
        return weight * rk_loss(s, label);
}

static int rk_vec_finite(const float *x)
{
        int i;

        for (i = 0; i < LTRR_RANKER_NFEAT; i++)
                if (!isfinite(x[i]))
                        return 0;
        return 1;
}

ltrr_err_t ltrr_ranker_update(ltrr_ranker_t *rk, const float *x,
                              double label, double weight)
{
        if (!(label >= 0 && label <= rk->params.ipw_clip) ||
            !(isfinite(weight) && weight >= 0) || !rk_vec_finite(x))
                return LTRR_ERR_INVALID_ARG;
        rk_step(rk, x, label, weight);
        return LTRR_OK;
}

ltrr_err_t ltrr_ranker_update_click(ltrr_ranker_t *rk, const float *x,
                                    int clicked, int position,
                                    const ltrr_pbias_table_t *pb)
{
        double label;

        if (pb)
                label = ltrr_pbias_ipw_label(pb, position, clicked,
                                             rk->params.ipw_clip);
        else
                label = clicked ? 1.0 : 0.0;
        return ltrr_ranker_update(rk, x, label, 1.0);
}

/* splitmix64: the shuffle's generator (self-contained, reproducible). */
static uint64_t rk_rand(uint64_t *st)
{
        uint64_t z = (*st += 0x9e3779b97f4a7c15ULL);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

/* Fisher-Yates shuffle of @perm. */
static void rk_shuffle(size_t *perm, size_t n, uint64_t *st)
{
        size_t i, j, t;

        for (i = n; i > 1; i--) {
                j = (size_t)(rk_rand(st) % i);
                t = perm[i - 1];
                perm[i - 1] = perm[j];
                perm[j] = t;
        }
}

static ltrr_err_t rk_fit_check(const ltrr_ranker_example_t *ex, size_t n,
                               const ltrr_ranker_fit_opts_t *opts,
                               char *errstr, size_t errstr_size)
{
        size_t i;

        if (!opts || opts->epochs < 1 || opts->epochs > RK_MAX_EPOCHS)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "epochs must be 1..%d", RK_MAX_EPOCHS);
        if (n == 0)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "no examples");
        for (i = 0; i < n; i++)
                if (!(ex[i].label >= 0 && ex[i].label <= 1) ||
                    !(isfinite(ex[i].weight) && ex[i].weight >= 0) ||
                    ex[i].position < 1 || !rk_vec_finite(ex[i].x))
                        return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr,
                                         errstr_size,
                                         "example %zu: label outside "
                                         "[0, 1], bad weight, position 0 "
                                         "or non-finite feature", i);
        return LTRR_OK;
}

/* Training target of @e: the IPW label when a table is given. */
static double rk_target(const ltrr_ranker_t *rk, const ltrr_ranker_example_t *e,
                        const ltrr_pbias_table_t *pb)
{
        if (!pb)
                return e->label;
        return ltrr_pbias_ipw_label(pb, e->position, e->label >= 0.5f,
                                    rk->params.ipw_clip);
}

/* Loss and AUC of the final model over all examples. */
static ltrr_err_t rk_fit_eval(const ltrr_ranker_t *rk,
                              const ltrr_ranker_example_t *ex, size_t n,
                              const ltrr_ranker_fit_opts_t *opts,
                              ltrr_ranker_fit_stats_t *st)
{
        float *buf = malloc(2 * n * sizeof(float));
        double loss = 0, wsum = 0, s;
        size_t i;

        if (!buf)
                return LTRR_ERR_NOMEM;
        for (i = 0; i < n; i++) {
                s = rk_dot(rk->w, ex[i].x);
                loss += ex[i].weight * rk_loss(s, rk_target(rk, &ex[i],
                                                            opts->pbias));
                wsum += ex[i].weight;
                buf[i] = (float)s;
                buf[n + i] = ex[i].label >= 0.5f ? 1.0f : 0.0f;
        }
        st->logloss = wsum > 0 ? loss / wsum : 0.0;
        st->auc = ltrr_ranker_auc(buf, buf + n, n);
        free(buf);
        return st->auc < 0 ? LTRR_ERR_NOMEM : LTRR_OK;
}

ltrr_err_t ltrr_ranker_fit(ltrr_ranker_t *rk, const ltrr_ranker_example_t *ex,
                           size_t n, const ltrr_ranker_fit_opts_t *opts,
                           ltrr_ranker_fit_stats_t *st, char *errstr,
                           size_t errstr_size)
{
        ltrr_ranker_fit_stats_t local;
        uint64_t seed;
        double loss, wsum;
        size_t *perm, i;
        int e;

        if (rk_fit_check(ex, n, opts, errstr, errstr_size))
                return LTRR_ERR_INVALID_ARG;
        perm = malloc(n * sizeof(*perm));
        if (!perm)
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "shuffle order for %zu examples", n);
        if (!st)
                st = &local;
        memset(st, 0, sizeof(*st));
        for (i = 0; i < n; i++)
                perm[i] = i;
        seed = opts->seed;
        for (e = 0; e < opts->epochs; e++) {
                rk_shuffle(perm, n, &seed);
                loss = wsum = 0;
                for (i = 0; i < n; i++) {
                        const ltrr_ranker_example_t *x = &ex[perm[i]];

                        loss += rk_step(rk, x->x, rk_target(rk, x, opts->pbias),
                                        x->weight);
                        wsum += x->weight;
                }
                if (e == 0)
                        st->first_loss = wsum > 0 ? loss / wsum : 0;
                st->last_loss = wsum > 0 ? loss / wsum : 0;
        }
        free(perm);
        st->examples = n;
        st->epochs = opts->epochs;
        if (rk_fit_eval(rk, ex, n, opts, st))
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "evaluation buffers for %zu examples", n);
        return LTRR_OK;
}

typedef struct rk_sl_s {
        float s; /* score */
        float l; /* label, 0 or 1 */
} rk_sl_t;

static int rk_sl_cmp(const void *a, const void *b)
{
        float x = ((const rk_sl_t *)a)->s, y = ((const rk_sl_t *)b)->s;

        return (x > y) - (x < y);
}

double ltrr_ranker_auc(const float *scores, const float *labels, size_t n)
{
        double npos = 0, nneg = 0, rsum = 0, rank;
        size_t i, j, k;
        rk_sl_t *v;

        v = malloc((n ? n : 1) * sizeof(*v));
        if (!v)
                return -1.0;
        for (i = 0; i < n; i++) {
                v[i].s = scores[i];
                v[i].l = labels[i] >= 0.5f ? 1.0f : 0.0f;
        }
        qsort(v, n, sizeof(*v), rk_sl_cmp);
        for (i = 0; i < n; i = j) {
                for (j = i + 1; j < n && v[j].s == v[i].s; j++)
                        ;
                rank = (double)(i + 1 + j) / 2.0; /* mean 1-based rank */
                for (k = i; k < j; k++) {
                        if (v[k].l > 0) {
                                rsum += rank;
                                npos++;
                        } else {
                                nneg++;
                        }
                }
        }
        free(v);
        if (npos == 0 || nneg == 0)
                return 0.5;
        return (rsum - npos * (npos + 1) / 2.0) / (npos * nneg);
}

void ltrr_ranker_explain(const ltrr_ranker_t *rk, const float *x, char *buf,
                         size_t size)
{
        size_t off = 0;
        int i;

        if (!buf || size == 0)
                return;
        buf[0] = '\0';
        for (i = 0; i < LTRR_RANKER_NFEAT; i++)
                if (x[i] != 0.0f &&
                    ltrr_ranker_append(buf, size, &off, "%s%s=%.4g*%.4g",
                                       off ? " " : "",
                                       ltrr_ranker_fdescs[i].name,
                                       (double)x[i], (double)rk->w[i]) < 0)
                        return;
}
