/*
 * ltrr - Thompson sampling over a menu of arm subsets (super-arms).
 *
 * The menu is a short list of entries, each a set of (arm, budget) pairs
 * that runs as one action ("memory:50+fuzzy:50"). Per context bucket the
 * policy keeps a Beta posterior of each entry's reward and runs the entry
 * with the largest draw. This learns which *combination* serves a bucket,
 * which per-arm scores cannot: an arm that finds clicked items may still
 * lower the ranking of the union it joins.
 *
 * The learner files, beside the per-(arm, budget) cells, the whole
 * reward of every impression of this policy under the exact set of cells
 * that ran (bstats.h, arm sets): the join splits the impression's value
 * among the arms that found the engaged entity, and the set's s is their
 * sum. An entry's posterior is Beta(prior_alpha + k, prior_beta + n - k)
 * with n and k = s, clamped to [0, n], of the set the entry runs for the
 * query's available arms. Entries may share cells ("memory:50+fuzzy:50"
 * and "personal:50+fuzzy:50"); two entries may not run the same set.
 *
 * Probabilities are Monte-Carlo as for Thompson sampling: M draws of every
 * entry from the seeded stream, draw 0 is the decision, and an arm's
 * P(run) is the share of draws whose entry contains it. P(arm runs with
 * this budget) is the share of draws that agree with the decision on that
 * arm, i.e. of the one entry holding that (arm, budget) cell.
 *
 * An entry "*:budget" holds every arm of the space at that budget and
 * runs the ones available for the query. While no entry of the bucket has
 * a reward yet (a cold bucket) the menu's first runnable entry runs, with
 * probabilities 1 and 0; the default menu starts with "*:10", so a cold
 * bucket runs every arm at a small budget, as the knapsack policies do
 * with empty statistics.
 */
#include <stdlib.h>
#include <string.h>

#include "bandit.h"
#include "bstats.h"

/* One menu entry: a budget level index per arm, -1 when off. */
typedef struct entry_s {
        int level[LTRR_BANDIT_MAX_ARMS];
        uint32_t arms;  /* bit a: arm a runs */
        unsigned total; /* sum of its budgets */
        int every;      /* "*:budget": the available ones of its arms run */
} entry_t;

typedef struct subsets_s {
        size_t n;                               /* entries */
        entry_t e[LTRR_POLICY_SUBSETS_MAX];     /* the menu */
        double a[LTRR_POLICY_SUBSETS_MAX];      /* posterior alpha */
        double b[LTRR_POLICY_SUBSETS_MAX];      /* posterior beta */
        int cold;                               /* no entry has data */
} subsets_t;

/* May entry @p e run with the arms in @p avail? */
static int runnable(const entry_t *e, uint32_t avail)
{
        return e->every ? (e->arms & avail) != 0 : (e->arms & ~avail) == 0;
}

/* Level arm @p a runs at when entry @p e runs, -1 if it does not. */
static int level_of(const entry_t *e, size_t a, uint32_t avail)
{
        return ((avail >> a) & 1) ? e->level[a] : -1;
}

/* "*:budget": every arm of the space at level @p lvl. */
static ltrr_err_t every_add(const ltrr_bandit_space_t *sp, int lvl,
                            entry_t *e, char *errstr, size_t errstr_size)
{
        size_t a;

        if (e->arms)
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "subsets: '*' must be alone in its entry");
        for (a = 0; a < sp->n_arms; a++) {
                e->level[a] = lvl;
                e->arms |= 1u << a;
                e->total += sp->budgets[lvl];
        }
        e->every = 1;
        return LTRR_OK;
}

/* Parses one "arm:budget" pair of [p, end) into @p e ("*" is every arm);
 * *skip is set when the arm is not in the space. */
static ltrr_err_t pair_parse(const ltrr_bandit_space_t *sp, const char *p,
                             const char *end, entry_t *e, int *skip,
                             char *errstr, size_t errstr_size)
{
        char name[LTRR_BANDIT_ARM_NAME_MAX], *bend;
        const char *colon = memchr(p, ':', (size_t)(end - p));
        unsigned long budget;
        int arm, lvl;

        if (!colon || colon == p ||
            (size_t)(colon - p) >= sizeof(name) || colon + 1 >= end)
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "subsets: bad pair '%.*s'", (int)(end - p),
                                 p);
        memcpy(name, p, (size_t)(colon - p));
        name[colon - p] = '\0';
        budget = strtoul(colon + 1, &bend, 10);
        if (bend != end || budget == 0 ||
            (lvl = ltrr_bandit_space_budget(sp, (unsigned)budget)) < 0)
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "subsets: '%.*s': budget is not a level",
                                 (int)(end - p), p);
        if (!strcmp(name, "*"))
                return every_add(sp, lvl, e, errstr, errstr_size);
        if (e->every)
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "subsets: '*' must be alone in its entry");
        if ((arm = ltrr_bandit_space_arm(sp, name)) < 0) {
                *skip = 1;
                return LTRR_OK;
        }
        if (e->level[arm] >= 0)
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "subsets: arm %s twice in one entry", name);
        e->level[arm] = lvl;
        e->arms |= 1u << arm;
        e->total += (unsigned)budget;
        return LTRR_OK;
}

/* Parses one entry [p, end); *skip when it names an unknown arm or, unless
 * @p strict, when its budgets exceed the total. */
static ltrr_err_t entry_parse(const ltrr_bandit_space_t *sp, const char *p,
                              const char *end, int strict, entry_t *e,
                              int *skip, char *errstr, size_t errstr_size)
{
        const char *q;
        ltrr_err_t err;
        size_t a;

        for (a = 0; a < LTRR_BANDIT_MAX_ARMS; a++)
                e->level[a] = -1;
        e->arms = 0;
        e->total = 0;
        e->every = 0;
        *skip = 0;
        while (p < end) {
                q = memchr(p, '+', (size_t)(end - p));
                q = q ? q : end;
                if ((err = pair_parse(sp, p, q, e, skip, errstr,
                                      errstr_size)))
                        return err;
                p = q + (q < end);
        }
        if (!e->arms && !*skip)
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "subsets: empty entry");
        if (e->total > sp->total_budget && !strict)
                *skip = 1;
        else if (e->total > sp->total_budget)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "subsets: an entry's budgets sum to %u, "
                                 "over the total %u", e->total,
                                 sp->total_budget);
        return LTRR_OK;
}

/* The arm set id (bstats.h) entry @p e runs with the arms in @p avail. */
static uint64_t entry_set(const entry_t *e, const ltrr_bandit_space_t *sp,
                          uint32_t avail)
{
        int lvl[LTRR_BANDIT_MAX_ARMS];
        size_t a;

        for (a = 0; a < sp->n_arms; a++)
                lvl[a] = level_of(e, a, avail);
        return ltrr_bstats_set_id(sp, lvl);
}

/* Adds entry @p e to the menu: refuses one that runs the same set as an
 * earlier entry, whose statistics could not be told apart. */
static ltrr_err_t entry_add(subsets_t *ss, const ltrr_bandit_space_t *sp,
                            const entry_t *e, char *errstr,
                            size_t errstr_size)
{
        uint64_t set = entry_set(e, sp, UINT32_MAX);
        size_t i;

        if (ss->n == LTRR_POLICY_SUBSETS_MAX)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "subsets: more than %d entries",
                                 LTRR_POLICY_SUBSETS_MAX);
        for (i = 0; i < ss->n; i++)
                if (entry_set(&ss->e[i], sp, UINT32_MAX) == set)
                        return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr,
                                         errstr_size,
                                         "subsets: entries %zu and %zu run "
                                         "the same arms and budgets",
                                         i + 1, ss->n + 1);
        ss->e[ss->n++] = *e;
        return LTRR_OK;
}

/* Parses @p menu ("a:10+b:25;c:100") into @p ss; see entry_parse() for
 * @p strict. */
static ltrr_err_t menu_parse(subsets_t *ss, const ltrr_bandit_space_t *sp,
                             const char *menu, int strict, char *errstr,
                             size_t errstr_size)
{
        const char *p = menu, *end;
        entry_t e;
        ltrr_err_t err;
        int skip;

        while (*p) {
                end = strchr(p, ';');
                end = end ? end : p + strlen(p);
                if (end > p) {
                        if ((err = entry_parse(sp, p, end, strict, &e,
                                               &skip, errstr, errstr_size)))
                                return err;
                        if (!skip &&
                            (err = entry_add(ss, sp, &e, errstr,
                                             errstr_size)))
                                return err;
                }
                p = *end ? end + 1 : end;
        }
        if (!ss->n)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "subsets: no entry uses the space's arms");
        return LTRR_OK;
}

static ltrr_err_t subsets_init(void **impl, const ltrr_policy_conf_t *conf,
                               char *errstr, size_t errstr_size)
{
        subsets_t *ss;
        ltrr_err_t err;
        size_t a;

        for (a = 0; a < conf->space.n_arms; a++)
                if (conf->space.min_budget[a])
                        return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr,
                                         errstr_size,
                                         "subsets: always-on arm %s not "
                                         "supported",
                                         conf->space.arm_names[a]);
        if (!(ss = calloc(1, sizeof(*ss))))
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "subsets: out of memory");
        /* The built-in menu adapts to a small total budget; a configured
         * one must fit. */
        err = menu_parse(ss, &conf->space,
                         conf->subsets ? conf->subsets
                                       : LTRR_POLICY_SUBSETS_DEFAULT,
                         conf->subsets != NULL, errstr, errstr_size);
        if (err) {
                free(ss);
                return err;
        }
        *impl = ss;
        return LTRR_OK;
}

static void subsets_destroy(void *impl)
{
        free(impl);
}

static ltrr_err_t subsets_prepare(void *impl, const ltrr_policy_conf_t *conf,
                                  const ltrr_bandit_ctx_t *ctx,
                                  const ltrr_bstats_t *st, char *errstr,
                                  size_t errstr_size)
{
        subsets_t *ss = impl;
        ltrr_bstats_cell_t c;
        double n, k;
        size_t i;

        ss->cold = 1;
        for (i = 0; i < ss->n; i++) {
                ltrr_bstats_set_get(st,
                                    entry_set(&ss->e[i], &conf->space,
                                              ctx->available),
                                    ctx->now, &c);
                n = c.n;
                k = c.s < 0.0 ? 0.0 : c.s > n ? n : c.s;
                ss->cold = ss->cold && !(n > 0.0);
                ss->a[i] = conf->prior_alpha + k;
                ss->b[i] = conf->prior_beta + (n - k);
        }
        return LTRR_OK;
}

/* Not used: allocations come from subsets_draw() and subsets_fixed(). */
static void subsets_score(void *impl, const ltrr_policy_conf_t *conf,
                          ltrr_rng_t *rng, ltrr_bandit_scores_t scores)
{
        (void)impl;
        (void)rng;
        memset(scores, 0, sizeof(double) * LTRR_BANDIT_MAX_ARMS *
                              LTRR_BANDIT_MAX_BUDGETS);
        (void)conf;
}

/* One draw: the available entry with the largest sample (the first on a
 * tie), or -1 when none is available. Every entry is drawn, so the stream
 * does not depend on availability. */
static int draw(const subsets_t *ss, uint32_t avail, ltrr_rng_t *rng)
{
        double x, best = -1.0;
        int pick = -1;
        size_t i;

        for (i = 0; i < ss->n; i++) {
                x = ltrr_rng_beta(rng, ss->a[i], ss->b[i]);
                if (runnable(&ss->e[i], avail) && x > best) {
                        best = x;
                        pick = (int)i;
                }
        }
        return pick;
}

/* The first runnable entry, or -1. */
static int first_runnable(const subsets_t *ss, uint32_t avail)
{
        size_t i;

        for (i = 0; i < ss->n; i++)
                if (runnable(&ss->e[i], avail))
                        return (int)i;
        return -1;
}

/* Entry @p i as an allocation (level per arm, -1 off). */
static void entry_pick(const subsets_t *ss, const ltrr_policy_conf_t *conf,
                       int i, uint32_t avail, int *pick)
{
        size_t a;

        for (a = 0; a < conf->space.n_arms; a++)
                pick[a] = level_of(&ss->e[i], a, avail);
}

static void subsets_draw(void *impl, const ltrr_policy_conf_t *conf,
                         uint32_t avail, ltrr_rng_t *rng, int *pick)
{
        const subsets_t *ss = impl;

        entry_pick(ss, conf, draw(ss, avail, rng), avail, pick);
}

/* Fixed decisions: no entry runnable (every available arm at the
 * smallest level while the total allows), or a cold bucket (the first
 * runnable entry, the cold-start default). */
static int subsets_fixed(void *impl, const ltrr_policy_conf_t *conf,
                         uint32_t avail, int *pick)
{
        const subsets_t *ss = impl;
        int first = first_runnable(ss, avail);
        unsigned total = 0, b0 = conf->space.budgets[0];
        size_t a;

        if (first >= 0 && !ss->cold)
                return 0;
        if (first >= 0) {
                entry_pick(ss, conf, first, avail, pick);
                return 1;
        }
        for (a = 0; a < conf->space.n_arms; a++) {
                pick[a] = ((avail >> a) & 1) &&
                                  total + b0 <= conf->space.total_budget
                              ? 0
                              : -1;
                total += pick[a] == 0 ? b0 : 0;
        }
        return 1;
}

const ltrr_policy_ops_t ltrr_policy_subsets_ops = {
        .name = "subsets",
        .mode = LTRR_POLICY_MODE_SAMPLED,
        .init = subsets_init,
        .destroy = subsets_destroy,
        .prepare = subsets_prepare,
        .score = subsets_score,
        .draw = subsets_draw,
        .fixed = subsets_fixed,
};
