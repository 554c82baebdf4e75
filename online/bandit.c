/*
 * ltrr - bandit shared code: the action space, the allocation of budgets
 * under the total (an exact multiple-choice knapsack), uniform sampling
 * over feasible allocations, and the per-arm probabilities of a decision.
 */
#include "bandit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bstats.h"

/* Options of one arm: OPT_OFF or a budget level index. */
#define OPT_OFF (-1)
#define MAX_OPTS (LTRR_BANDIT_MAX_BUDGETS + 1)

/* An arm's allowed options for one query, with their sizes in units. */
typedef struct arm_opts_s {
        int n;                 /* options in use */
        int level[MAX_OPTS];   /* OPT_OFF or budget level */
        unsigned units[MAX_OPTS]; /* budget / unit */
} arm_opts_t;

struct ltrr_policy_s {
        ltrr_policy_conf_t conf;       /* copy of the configuration */
        const ltrr_policy_ops_t *ops;  /* family hooks */
        void *impl;                    /* family scratch */
        unsigned unit;                 /* gcd of budgets and total */
        unsigned cap;                  /* total_budget / unit */
        size_t rows;                   /* cap + 1 */
        double *best;                  /* (n_arms + 1) x rows: knapsack */
        signed char *choice;           /* n_arms x rows: option taken */
        double *cnt_suffix;            /* (n_arms + 1) x rows: G table */
        double *cnt_prefix;            /* (n_arms + 1) x rows: F table */
        arm_opts_t opts[LTRR_BANDIT_MAX_ARMS]; /* for the current query */
        uint32_t avail;                /* available arms of the query */
};

static const char *const kind_names[LTRR_POLICY__CNT] = {
        "egreedy", "thompson", "linucb", "lints", "subsets"};

const char *ltrr_policy_kind2str(ltrr_policy_kind_t kind)
{
        if ((int)kind < 0 || kind >= LTRR_POLICY__CNT)
                return "unknown";
        return kind_names[kind];
}

ltrr_err_t ltrr_policy_kind_parse(const char *name, ltrr_policy_kind_t *kind)
{
        int i;

        for (i = 0; name && i < LTRR_POLICY__CNT; i++)
                if (strcmp(name, kind_names[i]) == 0) {
                        *kind = (ltrr_policy_kind_t)i;
                        return LTRR_OK;
                }
        return LTRR_ERR_UNKNOWN_KEY;
}

void ltrr_policy_conf_init(ltrr_policy_conf_t *conf, ltrr_policy_kind_t kind)
{
        memset(conf, 0, sizeof(*conf));
        conf->kind = kind;
        conf->epsilon = 0.1;
        conf->prior_alpha = 1.0;
        conf->prior_beta = 1.0;
        conf->alpha = 1.0;
        conf->v = 0.5;
        conf->lambda = 1.0;
        conf->budget_cost = 0.0;
        conf->mc_samples = 128;
}

static unsigned gcd_u(unsigned a, unsigned b)
{
        while (b) {
                unsigned t = a % b;
                a = b;
                b = t;
        }
        return a;
}

/* The allocation unit: the gcd of every budget level and the total. */
static unsigned space_unit(const ltrr_bandit_space_t *sp)
{
        unsigned g = sp->total_budget;
        size_t j;

        for (j = 0; j < sp->n_budgets; j++)
                g = gcd_u(g, sp->budgets[j]);
        return g ? g : 1;
}

static int name_valid(const char *s)
{
        size_t n = strnlen(s, LTRR_BANDIT_ARM_NAME_MAX);

        if (n == 0 || n == LTRR_BANDIT_ARM_NAME_MAX)
                return 0;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
                      *s == '_'))
                        return 0;
        return 1;
}

/* Smallest allowed budget of an always-on arm, 0 if none fits. */
static unsigned min_allowed(const ltrr_bandit_space_t *sp, size_t a)
{
        size_t j;

        for (j = 0; j < sp->n_budgets; j++)
                if (sp->budgets[j] >= sp->min_budget[a])
                        return sp->budgets[j];
        return 0;
}

static ltrr_err_t check_arms(const ltrr_bandit_space_t *sp, char *errstr,
                             size_t errstr_size)
{
        unsigned long need = 0;
        size_t a, b;

        for (a = 0; a < sp->n_arms; a++) {
                if (!name_valid(sp->arm_names[a]))
                        return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr,
                                         errstr_size, "arm %zu: bad name", a);
                for (b = 0; b < a; b++)
                        if (strcmp(sp->arm_names[a], sp->arm_names[b]) == 0)
                                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr,
                                                 errstr_size,
                                                 "arm \"%s\" listed twice",
                                                 sp->arm_names[a]);
                if (sp->min_budget[a] == 0)
                        continue;
                if (min_allowed(sp, a) == 0)
                        return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                         "arm \"%s\": no budget >= %u",
                                         sp->arm_names[a], sp->min_budget[a]);
                need += min_allowed(sp, a);
        }
        if (need > sp->total_budget)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "always-on arms need %lu > total budget %u",
                                 need, sp->total_budget);
        return LTRR_OK;
}

ltrr_err_t ltrr_bandit_space_check(const ltrr_bandit_space_t *sp,
                                   char *errstr, size_t errstr_size)
{
        size_t j;

        if (!sp || sp->n_arms == 0 || sp->n_arms > LTRR_BANDIT_MAX_ARMS ||
            sp->n_budgets == 0 || sp->n_budgets > LTRR_BANDIT_MAX_BUDGETS ||
            sp->dim > LTRR_BANDIT_MAX_DIM)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "space needs 1..%d arms, 1..%d budgets, "
                                 "dim <= %d", LTRR_BANDIT_MAX_ARMS,
                                 LTRR_BANDIT_MAX_BUDGETS, LTRR_BANDIT_MAX_DIM);
        for (j = 0; j < sp->n_budgets; j++)
                if (sp->budgets[j] == 0 ||
                    (j > 0 && sp->budgets[j] <= sp->budgets[j - 1]))
                        return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr,
                                         errstr_size,
                                         "budgets must be positive and "
                                         "strictly ascending");
        if (sp->total_budget == 0 ||
            sp->total_budget / space_unit(sp) > LTRR_BANDIT_MAX_UNITS)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "total budget %u is 0 or more than %d units",
                                 sp->total_budget, LTRR_BANDIT_MAX_UNITS);
        return check_arms(sp, errstr, errstr_size);
}

int ltrr_bandit_space_arm(const ltrr_bandit_space_t *sp, const char *name)
{
        size_t a;

        for (a = 0; a < sp->n_arms; a++)
                if (strcmp(sp->arm_names[a], name) == 0)
                        return (int)a;
        return -1;
}

int ltrr_bandit_space_budget(const ltrr_bandit_space_t *sp, unsigned budget)
{
        size_t j;

        for (j = 0; j < sp->n_budgets; j++)
                if (sp->budgets[j] == budget)
                        return (int)j;
        return -1;
}

void ltrr_bandit_ctx_vector(const ltrr_bandit_ctx_t *ctx, double *x)
{
        size_t i;

        for (i = 0; i < ctx->dim; i++)
                x[i] = ctx->x[i];
}

static const ltrr_policy_ops_t *policy_ops(ltrr_policy_kind_t kind)
{
        switch (kind) {
        case LTRR_POLICY_EGREEDY:
                return &ltrr_policy_egreedy_ops;
        case LTRR_POLICY_THOMPSON:
                return &ltrr_policy_thompson_ops;
        case LTRR_POLICY_LINUCB:
                return &ltrr_policy_linucb_ops;
        case LTRR_POLICY_LINTS:
                return &ltrr_policy_lints_ops;
        case LTRR_POLICY_SUBSETS:
                return &ltrr_policy_subsets_ops;
        default:
                return NULL;
        }
}

static ltrr_err_t conf_check(const ltrr_policy_conf_t *conf, char *errstr,
                             size_t errstr_size)
{
        if (!policy_ops(conf->kind))
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "unknown policy kind %d", (int)conf->kind);
        if (!(conf->epsilon >= 0.0 && conf->epsilon <= 1.0) ||
            !(conf->prior_alpha > 0.0) || !(conf->prior_beta > 0.0) ||
            !(conf->alpha >= 0.0) || !(conf->v >= 0.0) ||
            !(conf->lambda > 0.0) || !isfinite(conf->budget_cost) ||
            !isfinite(conf->alpha) || !isfinite(conf->v) ||
            !isfinite(conf->lambda) || !isfinite(conf->prior_alpha) ||
            !isfinite(conf->prior_beta))
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "policy parameter out of range");
        if (conf->mc_samples == 0 || conf->mc_samples > LTRR_BANDIT_MAX_MC)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "mc_samples must be 1..%d",
                                 LTRR_BANDIT_MAX_MC);
        if ((conf->kind == LTRR_POLICY_LINUCB ||
             conf->kind == LTRR_POLICY_LINTS) && conf->space.dim == 0)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "linear policies need dim > 0");
        return ltrr_bandit_space_check(&conf->space, errstr, errstr_size);
}

ltrr_policy_t *ltrr_policy_new(const ltrr_policy_conf_t *conf, char *errstr,
                               size_t errstr_size)
{
        ltrr_policy_t *pol = NULL;
        size_t n = conf ? conf->space.n_arms : 0;

        if (!conf || conf_check(conf, errstr, errstr_size) != LTRR_OK) {
                if (!conf)
                        ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                  "no configuration");
                return NULL;
        }
        pol = calloc(1, sizeof(*pol));
        if (!pol)
                goto nomem;
        pol->conf = *conf;
        pol->ops = policy_ops(conf->kind);
        pol->unit = space_unit(&conf->space);
        pol->cap = conf->space.total_budget / pol->unit;
        pol->rows = pol->cap + 1;
        pol->best = calloc((n + 1) * pol->rows, sizeof(double));
        pol->choice = calloc(n * pol->rows, 1);
        if (!pol->best || !pol->choice)
                goto nomem;
        if (pol->ops->mode == LTRR_POLICY_MODE_EPSILON) {
                pol->cnt_suffix = calloc((n + 1) * pol->rows, sizeof(double));
                pol->cnt_prefix = calloc((n + 1) * pol->rows, sizeof(double));
                if (!pol->cnt_suffix || !pol->cnt_prefix)
                        goto nomem;
        }
        if (pol->ops->init(&pol->impl, conf, errstr, errstr_size) != LTRR_OK)
                goto err;
        pol->conf.subsets = NULL; /* parsed by init; not kept */
        return pol;
nomem:
        ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "policy: out of memory");
err:
        ltrr_policy_destroy(pol);
        return NULL;
}

void ltrr_policy_destroy(ltrr_policy_t *pol)
{
        if (!pol)
                return;
        if (pol->ops)
                pol->ops->destroy(pol->impl);
        free(pol->cnt_prefix);
        free(pol->cnt_suffix);
        free(pol->choice);
        free(pol->best);
        free(pol);
}

const char *ltrr_policy_name(const ltrr_policy_t *pol)
{
        return pol->ops->name;
}

const ltrr_policy_conf_t *ltrr_policy_conf(const ltrr_policy_t *pol)
{
        return &pol->conf;
}

/* Lists each arm's options for this query: nothing but OFF when the arm
 * is unavailable; its levels >= min_budget when always on; otherwise OFF
 * and every level. Levels above the total are left out. */
static void opts_build(ltrr_policy_t *pol, const ltrr_bandit_ctx_t *ctx)
{
        const ltrr_bandit_space_t *sp = &pol->conf.space;
        arm_opts_t *o;
        size_t a, j;

        pol->avail = ctx->available;
        for (a = 0; a < sp->n_arms; a++) {
                o = &pol->opts[a];
                o->n = 0;
                if (sp->min_budget[a] == 0 || !(ctx->available >> a & 1)) {
                        o->level[o->n] = OPT_OFF;
                        o->units[o->n++] = 0;
                }
                if (!(ctx->available >> a & 1))
                        continue;
                for (j = 0; j < sp->n_budgets; j++) {
                        if (sp->budgets[j] < sp->min_budget[a] ||
                            sp->budgets[j] > sp->total_budget)
                                continue;
                        o->level[o->n] = (int)j;
                        o->units[o->n++] = sp->budgets[j] / pol->unit;
                }
        }
}

/* Value of every option of every arm: its score less the budget's cost
 * (OFF is worth 0). */
static void opt_values(const ltrr_policy_t *pol, ltrr_bandit_scores_t sc,
                       double val[][MAX_OPTS])
{
        size_t a;
        int o, j;

        for (a = 0; a < pol->conf.space.n_arms; a++)
                for (o = 0; o < pol->opts[a].n; o++) {
                        j = pol->opts[a].level[o];
                        val[a][o] = j == OPT_OFF
                                            ? 0.0
                                            : sc[a][j] - pol->conf.budget_cost *
                                                           pol->conf.space
                                                                   .budgets[j];
                }
}

/* A query is never answered by zero arms: when every arm's best is OFF
 * (all values below their price), the single best (arm, budget) option
 * runs instead. Deterministic in the values, like the knapsack. */
static void pick_nonempty(const ltrr_policy_t *pol,
                          double val[][MAX_OPTS], int *pick)
{
        size_t n = pol->conf.space.n_arms, a, best_a = 0;
        int o, best_o = -1;

        for (a = 0; a < n; a++)
                if (pick[a] != OPT_OFF)
                        return;
        for (a = 0; a < n; a++)
                for (o = 0; o < pol->opts[a].n; o++)
                        if (pol->opts[a].level[o] != OPT_OFF &&
                            pol->opts[a].units[o] <= pol->cap &&
                            (best_o < 0 || val[a][o] > val[best_a][best_o])) {
                                best_a = a;
                                best_o = o;
                        }
        if (best_o >= 0)
                pick[best_a] = pol->opts[best_a].level[best_o];
}

/* Exact multiple-choice knapsack: one option per arm, total units <= cap,
 * maximum summed value. best[k][c] is the best value of arms 0..k-1 in c
 * units. Ties keep the earlier option (OFF, then smaller budgets), so the
 * result is a deterministic function of the scores. Writes each arm's
 * chosen level (or OPT_OFF) into pick. */
static void knapsack(ltrr_policy_t *pol, ltrr_bandit_scores_t sc, int *pick)
{
        size_t n = pol->conf.space.n_arms, rows = pol->rows, k, c;
        double val[LTRR_BANDIT_MAX_ARMS][MAX_OPTS], *cur, v;
        const double *prev;
        signed char *ch;
        unsigned u;
        int o;

        opt_values(pol, sc, val);
        for (c = 0; c < rows; c++)
                pol->best[c] = 0.0;
        for (k = 0; k < n; k++) {
                prev = pol->best + k * rows;
                cur = pol->best + (k + 1) * rows;
                ch = pol->choice + k * rows;
                for (c = 0; c < rows; c++) {
                        cur[c] = -INFINITY;
                        ch[c] = 0;
                        for (o = 0; o < pol->opts[k].n; o++) {
                                u = pol->opts[k].units[o];
                                if (u > c)
                                        break; /* units ascend with o */
                                v = prev[c - u] + val[k][o];
                                if (v > cur[c]) {
                                        cur[c] = v;
                                        ch[c] = (signed char)o;
                                }
                        }
                }
        }
        c = pol->cap;
        for (k = n; k-- > 0;) {
                o = pol->choice[k * rows + c];
                pick[k] = pol->opts[k].level[o];
                c -= pol->opts[k].units[o];
        }
        pick_nonempty(pol, val, pick);
}

/* Counts feasible allocations. Suffix table G[k][r]: allocations of arms
 * k..n-1 using at most r units. Prefix table F[k][s]: allocations of arms
 * 0..k-1 using exactly s units. Counts stay below 6^8, exact in double. */
static void count_tables(ltrr_policy_t *pol)
{
        size_t n = pol->conf.space.n_arms, rows = pol->rows, k, r;
        double *g = pol->cnt_suffix, *f = pol->cnt_prefix;
        unsigned u;
        int o;

        for (r = 0; r < rows; r++) {
                g[n * rows + r] = 1.0;
                f[r] = r == 0 ? 1.0 : 0.0;
        }
        for (k = n; k-- > 0;)
                for (r = 0; r < rows; r++) {
                        g[k * rows + r] = 0.0;
                        for (o = 0; o < pol->opts[k].n; o++)
                                if ((u = pol->opts[k].units[o]) <= r)
                                        g[k * rows + r] +=
                                                g[(k + 1) * rows + r - u];
                }
        for (k = 0; k < n; k++)
                for (r = 0; r < rows; r++) {
                        f[(k + 1) * rows + r] = 0.0;
                        for (o = 0; o < pol->opts[k].n; o++)
                                if ((u = pol->opts[k].units[o]) <= r)
                                        f[(k + 1) * rows + r] +=
                                                f[k * rows + r - u];
                }
}

/* Draws one allocation uniformly among all feasible ones, arm by arm,
 * each option weighted by the completions it leaves. */
static void uniform_pick_any(ltrr_policy_t *pol, ltrr_rng_t *rng, int *pick)
{
        size_t n = pol->conf.space.n_arms, rows = pol->rows, k, r = pol->cap;
        const double *g = pol->cnt_suffix;
        double x, w;
        unsigned u;
        int o, last;

        for (k = 0; k < n; k++) {
                x = ltrr_rng_uniform(rng) * g[k * rows + r];
                last = -1;
                for (o = 0; o < pol->opts[k].n; o++) {
                        if ((u = pol->opts[k].units[o]) > r)
                                continue;
                        w = g[(k + 1) * rows + r - u];
                        if (w > 0.0)
                                last = o;
                        if (x < w)
                                break;
                        x -= w;
                }
                if (o == pol->opts[k].n)
                        o = last;
                pick[k] = pol->opts[k].level[o];
                r -= pol->opts[k].units[o];
        }
}

/* 1 if the empty allocation (every arm OFF) is one of the feasible ones
 * and not the only one: uniform draws then leave it out. */
static int empty_excluded(const ltrr_policy_t *pol)
{
        size_t a;

        for (a = 0; a < pol->conf.space.n_arms; a++)
                if (pol->opts[a].level[0] != OPT_OFF)
                        return 0;
        return pol->cnt_suffix[pol->cap] > 1.0;
}

/* 1 if every arm of @p pick is OFF. */
static int pick_empty(const ltrr_policy_t *pol, const int *pick)
{
        size_t a;

        for (a = 0; a < pol->conf.space.n_arms; a++)
                if (pick[a] != OPT_OFF)
                        return 0;
        return 1;
}

/* Draws one allocation uniformly among the feasible non-empty ones (the
 * empty one is rejected and redrawn). */
static void uniform_pick(ltrr_policy_t *pol, ltrr_rng_t *rng, int *pick)
{
        int skip_empty = empty_excluded(pol);

        do
                uniform_pick_any(pol, rng, pick);
        while (skip_empty && pick_empty(pol, pick));
}

/* Probability that a uniform draw of uniform_pick() gives arm k option
 * o. */
static double uniform_marginal(const ltrr_policy_t *pol, size_t k, int o)
{
        size_t rows = pol->rows, s;
        unsigned u = pol->opts[k].units[o];
        double sum = 0.0, all = pol->cnt_suffix[pol->cap];

        for (s = 0; s + u <= pol->cap; s++)
                sum += pol->cnt_prefix[k * rows + s] *
                       pol->cnt_suffix[(k + 1) * rows + pol->cap - s - u];
        if (!empty_excluded(pol))
                return sum / all;
        /* The empty allocation holds every arm's OFF option. */
        return (pol->opts[k].level[o] == OPT_OFF ? sum - 1.0 : sum) /
               (all - 1.0);
}

/* Fills the parts of a decision that do not depend on the draws. */
static void dec_init(const ltrr_policy_t *pol, const ltrr_bandit_ctx_t *ctx,
                     const ltrr_bstats_t *st, unsigned mc,
                     ltrr_decision_t *dec)
{
        memset(dec, 0, sizeof(*dec));
        dec->policy = pol->ops->name;
        dec->model_version = ltrr_bstats_version(st);
        dec->seed = ctx->seed;
        dec->mc_samples = mc;
        dec->feature_version = ctx->feature_version;
        dec->bucket = ctx->bucket;
        dec->n_arms = pol->conf.space.n_arms;
}

/* Records the chosen allocation in the decision. */
static void dec_pick(const ltrr_policy_t *pol, const int *pick,
                     ltrr_decision_t *dec)
{
        size_t a;

        for (a = 0; a < dec->n_arms; a++) {
                dec->arms[a].ran = pick[a] != OPT_OFF;
                dec->arms[a].budget =
                        pick[a] == OPT_OFF ? 0
                                           : pol->conf.space.budgets[pick[a]];
                dec->total += dec->arms[a].budget;
        }
}

/* Deterministic policies: the argmax runs with probability 1. */
static void decide_exact(ltrr_policy_t *pol, ltrr_decision_t *dec)
{
        ltrr_bandit_scores_t sc;
        int pick[LTRR_BANDIT_MAX_ARMS];
        size_t a;

        pol->ops->score(pol->impl, &pol->conf, NULL, sc);
        knapsack(pol, sc, pick);
        dec_pick(pol, pick, dec);
        for (a = 0; a < dec->n_arms; a++) {
                dec->arms[a].prob = dec->arms[a].ran ? 1.0 : 0.0;
                dec->arms[a].prob_budget = 1.0;
        }
}

/* Epsilon-greedy: the greedy allocation with probability 1 - eps, a
 * uniformly drawn feasible allocation otherwise. Both parts have closed
 * forms, so the probabilities are exact. */
static void decide_epsilon(ltrr_policy_t *pol, ltrr_rng_t *rng,
                           ltrr_decision_t *dec)
{
        ltrr_bandit_scores_t sc;
        int greedy[LTRR_BANDIT_MAX_ARMS], pick[LTRR_BANDIT_MAX_ARMS], o;
        double eps = pol->conf.epsilon, p, pb;
        size_t a;

        pol->ops->score(pol->impl, &pol->conf, NULL, sc);
        knapsack(pol, sc, greedy);
        memcpy(pick, greedy, sizeof(pick));
        if (eps > 0.0) {
                count_tables(pol);
                if (ltrr_rng_uniform(rng) < eps)
                        uniform_pick(pol, rng, pick);
        }
        dec_pick(pol, pick, dec);
        for (a = 0; a < dec->n_arms; a++) {
                dec->arms[a].prob = 0.0;
                pb = 0.0;
                for (o = 0; o < pol->opts[a].n; o++) {
                        p = (1.0 - eps) * (greedy[a] == pol->opts[a].level[o]);
                        if (eps > 0.0)
                                p += eps * uniform_marginal(pol, a, o);
                        if (pol->opts[a].level[o] != OPT_OFF)
                                dec->arms[a].prob += p;
                        if (pol->opts[a].level[o] == pick[a])
                                pb = p;
                }
                dec->arms[a].prob_budget =
                        dec->arms[a].ran ? pb : 1.0 - dec->arms[a].prob;
        }
}

/* One sampled allocation: the policy's own draw, or sampled scores through
 * the knapsack. */
static void draw_pick(ltrr_policy_t *pol, ltrr_rng_t *rng, int *pick)
{
        ltrr_bandit_scores_t sc;

        if (pol->ops->draw) {
                pol->ops->draw(pol->impl, &pol->conf, pol->avail, rng, pick);
                return;
        }
        pol->ops->score(pol->impl, &pol->conf, rng, sc);
        knapsack(pol, sc, pick);
}

/* A fixed decision (ops->fixed): probabilities 1 and 0, no samples.
 * Returns 0 when the policy samples this query. */
static int decide_fixed(ltrr_policy_t *pol, ltrr_decision_t *dec)
{
        int pick[LTRR_BANDIT_MAX_ARMS];
        size_t a;

        if (!pol->ops->fixed ||
            !pol->ops->fixed(pol->impl, &pol->conf, pol->avail, pick))
                return 0;
        dec->mc_samples = 0;
        dec_pick(pol, pick, dec);
        for (a = 0; a < dec->n_arms; a++) {
                dec->arms[a].prob = dec->arms[a].ran ? 1.0 : 0.0;
                dec->arms[a].prob_budget = 1.0;
        }
        return 1;
}

/* Sampled policies: M draws of the scores from one seeded stream; draw 0
 * is the decision, and each probability is the share of draws that agree.
 * Since the decision is one of the draws, P(run) of an arm that ran and
 * P(not run) of one that did not are both at least 1 / M. With @p cnt,
 * also counts each arm's options over the draws (index level + 1). */
static void decide_mc(ltrr_policy_t *pol, ltrr_rng_t *rng,
                      ltrr_decision_t *dec, unsigned (*cnt)[MAX_OPTS])
{
        int pick[LTRR_BANDIT_MAX_ARMS], first[LTRR_BANDIT_MAX_ARMS];
        unsigned run[LTRR_BANDIT_MAX_ARMS] = {0};
        unsigned same[LTRR_BANDIT_MAX_ARMS] = {0};
        unsigned m, mc = pol->conf.mc_samples;
        size_t a;

        for (m = 0; m < mc; m++) {
                draw_pick(pol, rng, pick);
                if (m == 0)
                        memcpy(first, pick, sizeof(first));
                for (a = 0; a < dec->n_arms; a++) {
                        run[a] += pick[a] != OPT_OFF;
                        same[a] += pick[a] == first[a];
                        if (cnt)
                                cnt[a][pick[a] + 1]++;
                }
        }
        dec_pick(pol, first, dec);
        for (a = 0; a < dec->n_arms; a++) {
                dec->arms[a].prob = (double)run[a] / mc;
                dec->arms[a].prob_budget = (double)same[a] / mc;
        }
}

/* True when two spaces list the same arms and budget levels. */
static int same_arms(const ltrr_bandit_space_t *x, const ltrr_bandit_space_t *y)
{
        size_t i;

        if (x->n_arms != y->n_arms || x->n_budgets != y->n_budgets)
                return 0;
        for (i = 0; i < x->n_arms; i++)
                if (strcmp(x->arm_names[i], y->arm_names[i]) != 0)
                        return 0;
        for (i = 0; i < x->n_budgets; i++)
                if (x->budgets[i] != y->budgets[i])
                        return 0;
        return 1;
}

/* Checks that context and statistics fit the policy's space. */
static ltrr_err_t decide_check(const ltrr_policy_t *pol,
                               const ltrr_bandit_ctx_t *ctx,
                               const ltrr_bstats_t *st, char *errstr,
                               size_t errstr_size)
{
        const ltrr_bandit_space_t *sp = &pol->conf.space, *ss;
        int linear = pol->conf.kind == LTRR_POLICY_LINUCB ||
                     pol->conf.kind == LTRR_POLICY_LINTS;

        if (ctx->dim != sp->dim ||
            ctx->feature_version != sp->feature_version ||
            (sp->dim > 0 && !ctx->x))
                return ltrr_errf(LTRR_ERR_SCHEMA, errstr, errstr_size,
                                 "context dim %zu version %u, policy wants "
                                 "dim %zu version %u", ctx->dim,
                                 (unsigned)ctx->feature_version, sp->dim,
                                 (unsigned)sp->feature_version);
        if (!st)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "no statistics");
        ss = ltrr_bstats_space(st);
        if (!same_arms(ss, sp) || (linear && ss->dim != sp->dim))
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "statistics do not match the policy space");
        return LTRR_OK;
}

ltrr_err_t ltrr_policy_decide(ltrr_policy_t *pol, const ltrr_bandit_ctx_t *ctx,
                              const ltrr_bstats_t *st, ltrr_decision_t *dec,
                              char *errstr, size_t errstr_size)
{
        ltrr_rng_t rng;
        ltrr_err_t err;
        int sampled = pol->ops->mode == LTRR_POLICY_MODE_SAMPLED;

        err = decide_check(pol, ctx, st, errstr, errstr_size);
        if (err != LTRR_OK)
                return err;
        opts_build(pol, ctx);
        err = pol->ops->prepare(pol->impl, &pol->conf, ctx, st, errstr,
                                errstr_size);
        if (err != LTRR_OK)
                return err;
        dec_init(pol, ctx, st, sampled ? pol->conf.mc_samples : 0, dec);
        ltrr_rng_seed(&rng, ctx->seed);
        if (decide_fixed(pol, dec))
                return LTRR_OK;
        if (pol->ops->mode == LTRR_POLICY_MODE_DETERMINISTIC)
                decide_exact(pol, dec);
        else if (pol->ops->mode == LTRR_POLICY_MODE_EPSILON)
                decide_epsilon(pol, &rng, dec);
        else
                decide_mc(pol, &rng, dec, NULL);
        return LTRR_OK;
}

/* One context bucket's propensities: the option counts of M draws and
 * the statistics they were drawn from. */
typedef struct mc_entry_s {
        int valid;                /* filled */
        uint32_t bucket;          /* context bucket */
        uint32_t available;       /* arms that could run */
        uint64_t version;         /* statistics version */
        double now;               /* decision time of the draws */
        double ns[LTRR_BANDIT_MAX_ARMS][LTRR_BANDIT_MAX_BUDGETS][2]; /* n, s
                                     of every cell, decayed to now */
        unsigned m;               /* draws counted */
        unsigned cnt[LTRR_BANDIT_MAX_ARMS][MAX_OPTS]; /* by level + 1 */
} mc_entry_t;

struct ltrr_policy_mc_cache_s {
        mc_entry_t e[LTRR_POLICY_MC_CACHE_SLOTS]; /* by bucket modulo */
        uint64_t hits;                            /* decisions from counts */
        uint64_t misses;                          /* full Monte-Carlo runs */
};

ltrr_policy_mc_cache_t *ltrr_policy_mc_cache_new(char *errstr,
                                                 size_t errstr_size)
{
        ltrr_policy_mc_cache_t *c = calloc(1, sizeof(*c));

        if (!c)
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                          "policy cache: out of memory");
        return c;
}

void ltrr_policy_mc_cache_destroy(ltrr_policy_mc_cache_t *c)
{
        free(c);
}

void ltrr_policy_mc_cache_stats(const ltrr_policy_mc_cache_t *c,
                                uint64_t *hits, uint64_t *misses)
{
        *hits = c ? c->hits : 0;
        *misses = c ? c->misses : 0;
}

/* Every cell's decayed n and s at time @p t (unused cells 0). */
static void mc_cells(const ltrr_policy_t *pol, const ltrr_bstats_t *st,
                     double t, double ns[][LTRR_BANDIT_MAX_BUDGETS][2])
{
        ltrr_bstats_cell_t c;
        size_t a, j;

        memset(ns, 0, sizeof(double) * LTRR_BANDIT_MAX_ARMS *
                          LTRR_BANDIT_MAX_BUDGETS * 2);
        for (a = 0; a < pol->conf.space.n_arms; a++)
                for (j = 0; j < pol->conf.space.n_budgets; j++) {
                        ltrr_bstats_cell_get(st, a, j, t, &c);
                        ns[a][j][0] = c.n;
                        ns[a][j][1] = c.s;
                }
}

/* True when entry @p e was drawn from these statistics: same bucket,
 * arms and version, identical cells at the entry's time, and decay since
 * then within LTRR_POLICY_MC_CACHE_DRIFT. */
static int mc_hit(const ltrr_policy_t *pol, const mc_entry_t *e,
                  const ltrr_bandit_ctx_t *ctx, const ltrr_bstats_t *st)
{
        double ns[LTRR_BANDIT_MAX_ARMS][LTRR_BANDIT_MAX_BUDGETS][2];
        double r;

        if (!e->valid || e->bucket != ctx->bucket ||
            e->available != ctx->available ||
            e->version != ltrr_bstats_version(st))
                return 0;
        r = ltrr_bstats_scale(st, ctx->now) / ltrr_bstats_scale(st, e->now);
        if (!(fabs(r - 1.0) <= LTRR_POLICY_MC_CACHE_DRIFT))
                return 0;
        mc_cells(pol, st, e->now, ns);
        return memcmp(ns, e->ns, sizeof(ns)) == 0;
}

/* A decision from this query's draw 0 and the entry's M counted draws:
 * each probability is the share of the M + 1 draws that agree, so it is
 * at least 1 / (M + 1) for what was chosen. */
static void decide_counts(ltrr_policy_t *pol, ltrr_rng_t *rng,
                          const mc_entry_t *e, ltrr_decision_t *dec)
{
        int pick[LTRR_BANDIT_MAX_ARMS];
        unsigned run, o;
        size_t a;

        draw_pick(pol, rng, pick);
        dec_pick(pol, pick, dec);
        for (a = 0; a < dec->n_arms; a++) {
                for (run = 0, o = 1; o < MAX_OPTS; o++)
                        run += e->cnt[a][o];
                dec->arms[a].prob =
                    (double)(run + (pick[a] != OPT_OFF)) / (e->m + 1);
                dec->arms[a].prob_budget =
                    (double)(e->cnt[a][pick[a] + 1] + 1) / (e->m + 1);
        }
}

ltrr_err_t ltrr_policy_decide_cached(ltrr_policy_t *pol,
                                     ltrr_policy_mc_cache_t *c,
                                     const ltrr_bandit_ctx_t *ctx,
                                     const ltrr_bstats_t *st,
                                     ltrr_decision_t *dec, char *errstr,
                                     size_t errstr_size)
{
        mc_entry_t *e;
        ltrr_rng_t rng;
        ltrr_err_t err;

        if (!c || (pol->conf.kind != LTRR_POLICY_THOMPSON &&
                   pol->conf.kind != LTRR_POLICY_SUBSETS))
                return ltrr_policy_decide(pol, ctx, st, dec, errstr,
                                          errstr_size);
        if ((err = decide_check(pol, ctx, st, errstr, errstr_size)))
                return err;
        opts_build(pol, ctx);
        if ((err = pol->ops->prepare(pol->impl, &pol->conf, ctx, st, errstr,
                                     errstr_size)))
                return err;
        ltrr_rng_seed(&rng, ctx->seed);
        dec_init(pol, ctx, st, 0, dec);
        if (decide_fixed(pol, dec))
                return LTRR_OK;
        e = &c->e[ctx->bucket % LTRR_POLICY_MC_CACHE_SLOTS];
        if (mc_hit(pol, e, ctx, st)) {
                dec_init(pol, ctx, st, e->m + 1, dec);
                decide_counts(pol, &rng, e, dec);
                c->hits++;
                return LTRR_OK;
        }
        dec_init(pol, ctx, st, pol->conf.mc_samples, dec);
        memset(e->cnt, 0, sizeof(e->cnt));
        decide_mc(pol, &rng, dec, e->cnt);
        e->valid = 1;
        e->bucket = ctx->bucket;
        e->available = ctx->available;
        e->version = ltrr_bstats_version(st);
        e->now = ctx->now;
        e->m = pol->conf.mc_samples;
        mc_cells(pol, st, ctx->now, e->ns);
        c->misses++;
        return LTRR_OK;
}
