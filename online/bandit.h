/*
 * ltrr - the bandit: which arms run for a query, and with what budget.
 *
 * A combinatorial semi-bandit. Per query a policy picks a subset of the
 * configured arms (lexical, popular, ...) and, for each picked arm, a
 * candidate budget from a configured set, so that the budgets sum to at
 * most the total budget; each picked arm later earns its own reward in
 * [-1, 1]. Every decision logs, per arm, whether it ran, its budget and
 * P(arm runs) under the policy, so rewards can be re-weighted offline.
 *
 * Decisions are pure functions of (configuration, context, statistics,
 * seed): the same inputs give the same decision, bit for bit. See
 * docs/BANDIT.md for the policies and the allocation rule.
 */
#ifndef LTRR_BANDIT_H
#define LTRR_BANDIT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "rng.h"

/** Most arms in a space. */
#define LTRR_BANDIT_MAX_ARMS 8
/** Most budget levels in a space. */
#define LTRR_BANDIT_MAX_BUDGETS 5
/** Longest context vector (LinUCB state grows as dim^2). */
#define LTRR_BANDIT_MAX_DIM 32
/** Arm name buffer size, NUL included. */
#define LTRR_BANDIT_ARM_NAME_MAX 16
/** Most allocation units: total_budget / gcd(budgets, total_budget). */
#define LTRR_BANDIT_MAX_UNITS 1024
/** Most Monte-Carlo draws per decision. */
#define LTRR_BANDIT_MAX_MC 65536

/* Statistics the policies read; see bstats.h. */
typedef struct ltrr_bstats_s ltrr_bstats_t;

/**
 * @brief The action space: arms, budget levels, total budget and the
 * context vector layout. Plain data, copied by whoever keeps it.
 */
typedef struct ltrr_bandit_space_s {
        size_t n_arms;                       /**< 1..LTRR_BANDIT_MAX_ARMS */
        char arm_names[LTRR_BANDIT_MAX_ARMS]
                      [LTRR_BANDIT_ARM_NAME_MAX]; /**< [a-z0-9_], unique */
        unsigned min_budget[LTRR_BANDIT_MAX_ARMS]; /**< 0: optional arm;
                                               >0: always runs (when
                                               available) with at least
                                               this budget */
        size_t n_budgets;                    /**< 1..LTRR_BANDIT_MAX_BUDGETS */
        unsigned budgets[LTRR_BANDIT_MAX_BUDGETS]; /**< strictly ascending */
        unsigned total_budget;               /**< sum of budgets cap */
        size_t dim;                          /**< context vector length,
                                               0..LTRR_BANDIT_MAX_DIM */
        uint32_t feature_version;            /**< layout of the vector */
} ltrr_bandit_space_t;

/**
 * @brief Validates a space: counts in range, names well formed and
 * unique, budgets ascending and positive, the always-on arms fit in the
 * total budget, total / gcd within LTRR_BANDIT_MAX_UNITS.
 * @returns LTRR_OK or LTRR_ERR_INVALID_ARG / LTRR_ERR_RANGE with a reason.
 */
ltrr_err_t ltrr_bandit_space_check(const ltrr_bandit_space_t *sp,
                                   char *errstr, size_t errstr_size);

/** @brief Index of the arm called @p name, or -1. */
int ltrr_bandit_space_arm(const ltrr_bandit_space_t *sp, const char *name);

/** @brief Index of budget level @p budget, or -1. */
int ltrr_bandit_space_budget(const ltrr_bandit_space_t *sp, unsigned budget);

/** @brief Policy families. */
typedef enum {
        LTRR_POLICY_EGREEDY = 0,  /**< epsilon-greedy on cell means */
        LTRR_POLICY_THOMPSON = 1, /**< Beta-Bernoulli Thompson sampling */
        LTRR_POLICY_LINUCB = 2,   /**< disjoint LinUCB */
        LTRR_POLICY_LINTS = 3,    /**< linear Thompson sampling */
        LTRR_POLICY_SUBSETS = 4,  /**< Thompson sampling over a menu of
                                     arm subsets (super-arms) */
        LTRR_POLICY__CNT = 5
} ltrr_policy_kind_t;

/** @brief "egreedy", "thompson", "linucb", "lints", "subsets"; "unknown"
 *  otherwise. */
const char *ltrr_policy_kind2str(ltrr_policy_kind_t kind);

/** @brief Parses a policy name. @returns LTRR_OK or LTRR_ERR_UNKNOWN_KEY. */
ltrr_err_t ltrr_policy_kind_parse(const char *name, ltrr_policy_kind_t *kind);

/** @brief Policy configuration; start from ltrr_policy_conf_init(). */
typedef struct ltrr_policy_conf_s {
        ltrr_policy_kind_t kind;    /**< which policy */
        ltrr_bandit_space_t space;  /**< arms, budgets, features */
        double epsilon;             /**< egreedy: exploration rate [0, 1] */
        double prior_alpha;         /**< Beta prior successes (> 0) */
        double prior_beta;          /**< Beta prior failures (> 0) */
        double alpha;               /**< LinUCB confidence width (>= 0) */
        double v;                   /**< LinTS posterior scale (>= 0) */
        double lambda;              /**< ridge term: A + lambda I (> 0) */
        double budget_cost;         /**< score cost per unit of budget */
        unsigned mc_samples;        /**< draws M for Monte-Carlo
                                       propensities, 1..LTRR_BANDIT_MAX_MC */
        const char *subsets;        /**< subsets: the menu of arm subsets
                                       ("arm:budget+arm:budget;..."), read
                                       by ltrr_policy_new() only (the copy
                                       in the handle is NULL); NULL:
                                       LTRR_POLICY_SUBSETS_DEFAULT */
} ltrr_policy_conf_t;

/** Most entries of a subsets menu. */
#define LTRR_POLICY_SUBSETS_MAX 32

/**
 * The default menu of the subsets policy: each entry is a set of
 * (arm, budget) pairs that runs as one action, learned on its own whole
 * reward (the learner files each set's reward, bstats.h). "*:10" is every
 * available arm at 10; the first entry is what a bucket without rewards
 * runs. The rest: each arm that serves an intent alone at full budget,
 * and the pairs and the one triple that serve the intents a search back
 * end for music sees (docs/BANDIT.md). Entries naming an arm the space
 * does not have, and (in this built-in menu only) entries over the total
 * budget, are left out.
 */
#define LTRR_POLICY_SUBSETS_DEFAULT                                          \
        "*:10;fuzzy:100;structured:100;lexical:100;popular:100;"             \
        "memory:50+fuzzy:50;fresh:50+fuzzy:50;lexical:50+fresh:50;"          \
        "personal:50+memory:50;personal:50+fuzzy:50;"                        \
        "personal:25+memory:25+fuzzy:50;lexical:50+popular:50"

/**
 * @brief Sets @p conf to the defaults of @p kind (epsilon 0.1, prior
 * Beta(1, 1), alpha 1, v 0.5, lambda 1, budget_cost 0, M 128) with an
 * empty space that the caller fills in.
 */
void ltrr_policy_conf_init(ltrr_policy_conf_t *conf, ltrr_policy_kind_t kind);

/** @brief What a decision is made from. Pointers are borrowed. */
typedef struct ltrr_bandit_ctx_s {
        const float *x;           /**< context vector, dim floats */
        size_t dim;               /**< must equal the space's dim */
        uint32_t feature_version; /**< must equal the space's version */
        uint32_t bucket;          /**< discrete context bucket id (logged) */
        uint32_t available;       /**< bit a set: arm a may run */
        double now;               /**< seconds; statistics decay to it */
        uint64_t seed;            /**< from ltrr_rng_seed_from_id() */
} ltrr_bandit_ctx_t;

/** @brief One arm's part of a decision. */
typedef struct ltrr_decision_arm_s {
        int ran;            /**< 1 if the arm runs */
        unsigned budget;    /**< its budget, 0 if it does not run */
        double prob;        /**< P(arm runs) under the policy */
        double prob_budget; /**< P(arm runs with this budget); for an arm
                               that does not run, equals 1 - prob */
} ltrr_decision_arm_t;

/** @brief A decision, as logged in the impression. */
typedef struct ltrr_decision_s {
        const char *policy;        /**< static policy name */
        uint64_t model_version;    /**< statistics version (updates seen) */
        uint64_t seed;             /**< exploration seed used */
        unsigned mc_samples;       /**< M, or 0 when probabilities are exact */
        uint32_t feature_version;  /**< context layout used */
        uint32_t bucket;           /**< context bucket used */
        unsigned total;            /**< sum of the chosen budgets */
        size_t n_arms;             /**< entries in arms[] */
        ltrr_decision_arm_t arms[LTRR_BANDIT_MAX_ARMS]; /**< by arm index */
} ltrr_decision_t;

/** Opaque policy handle (short name: pol). */
typedef struct ltrr_policy_s ltrr_policy_t;

/**
 * @brief Creates a policy.
 * @param conf copied; the caller keeps ownership.
 * @returns the handle, or NULL with the reason in @p errstr.
 */
ltrr_policy_t *ltrr_policy_new(const ltrr_policy_conf_t *conf, char *errstr,
                               size_t errstr_size);

/** @brief Frees @p pol; NULL is a no-op. */
void ltrr_policy_destroy(ltrr_policy_t *pol);

/** @brief The policy's static name. */
const char *ltrr_policy_name(const ltrr_policy_t *pol);

/** @brief The configuration in use (valid while @p pol lives). */
const ltrr_policy_conf_t *ltrr_policy_conf(const ltrr_policy_t *pol);

/**
 * @brief Chooses arms and budgets for one query.
 * @param st statistics for the query's context (for Thompson and
 *           egreedy: the bucket's statistics); their space must match.
 * @param dec filled in on success; unspecified on error.
 * @returns LTRR_OK; LTRR_ERR_SCHEMA when the context's dim or
 *          feature_version differ from the space; LTRR_ERR_INVALID_ARG
 *          when the statistics do not match; LTRR_ERR_RANGE when a
 *          matrix is not positive definite.
 * @remark @locality one thread at a time per handle (it owns scratch
 *          buffers); use one handle per worker thread.
 */
ltrr_err_t ltrr_policy_decide(ltrr_policy_t *pol, const ltrr_bandit_ctx_t *ctx,
                              const ltrr_bstats_t *st, ltrr_decision_t *dec,
                              char *errstr, size_t errstr_size);

/** Context buckets a propensity cache holds at once (bucket modulo). */
#define LTRR_POLICY_MC_CACHE_SLOTS 64
/** Largest decay of the statistics, as a relative change of every count
 * (2^(dt / half_life) - 1), under which a cache entry is still used. */
#define LTRR_POLICY_MC_CACHE_DRIFT 1e-3

/**
 * A cache of Monte-Carlo propensities per context bucket, for one thread
 * (no locking). Thompson sampling's probabilities depend only on the
 * statistics and the available arms, not on the query's seed; when a
 * bucket's statistics are those of its last full Monte-Carlo decision
 * (same version, identical cells, decay within
 * LTRR_POLICY_MC_CACHE_DRIFT), ltrr_policy_decide_cached() draws only
 * the decision (draw 0 of the query's own stream: the same choice as
 * ltrr_policy_decide()) and takes the probabilities from the M counted
 * draws plus that one (mc_samples M + 1). See docs/BANDIT.md.
 */
typedef struct ltrr_policy_mc_cache_s ltrr_policy_mc_cache_t;

/** @brief A new, empty cache; NULL on failure (errstr says why). */
ltrr_policy_mc_cache_t *ltrr_policy_mc_cache_new(char *errstr,
                                                 size_t errstr_size);

/** @brief Frees the cache. NULL-safe. */
void ltrr_policy_mc_cache_destroy(ltrr_policy_mc_cache_t *c);

/** @brief Decisions served from the cache and full Monte-Carlo runs. */
void ltrr_policy_mc_cache_stats(const ltrr_policy_mc_cache_t *c,
                                uint64_t *hits, uint64_t *misses);

/**
 * @brief ltrr_policy_decide() with propensities reused from @p c (may be
 * NULL) when the bucket's statistics did not change; a miss runs the full
 * Monte-Carlo estimate (exactly ltrr_policy_decide()'s result) and
 * stores its counts. Policies other than the two Thompson samplers
 * (thompson, subsets) decide without the cache (LinTS's draws depend on
 * the context vector); a fixed decision (subsets' cold start) skips it.
 */
ltrr_err_t ltrr_policy_decide_cached(ltrr_policy_t *pol,
                                     ltrr_policy_mc_cache_t *c,
                                     const ltrr_bandit_ctx_t *ctx,
                                     const ltrr_bstats_t *st,
                                     ltrr_decision_t *dec, char *errstr,
                                     size_t errstr_size);

/*
 * Policy implementation interface, used by online/policy_*.c only.
 */

/** Scores per (arm, budget level): expected reward of running it. */
typedef double ltrr_bandit_scores_t[LTRR_BANDIT_MAX_ARMS]
                                   [LTRR_BANDIT_MAX_BUDGETS];

/** How a policy's decisions get their probabilities. */
typedef enum {
        LTRR_POLICY_MODE_DETERMINISTIC = 0, /**< argmax; prob 1 or 0 */
        LTRR_POLICY_MODE_EPSILON = 1,       /**< argmax or uniform; exact */
        LTRR_POLICY_MODE_SAMPLED = 2        /**< sampled scores; MC */
} ltrr_policy_mode_t;

/** A policy family's hooks. */
typedef struct ltrr_policy_ops_s {
        const char *name;        /**< static name */
        ltrr_policy_mode_t mode; /**< probability computation */
        /** Allocates per-handle scratch into *impl (may set NULL). */
        ltrr_err_t (*init)(void **impl, const ltrr_policy_conf_t *conf,
                           char *errstr, size_t errstr_size);
        /** Frees what init allocated; NULL-safe. */
        void (*destroy)(void *impl);
        /** Reads the statistics once per decision (factorisations). */
        ltrr_err_t (*prepare)(void *impl, const ltrr_policy_conf_t *conf,
                              const ltrr_bandit_ctx_t *ctx,
                              const ltrr_bstats_t *st, char *errstr,
                              size_t errstr_size);
        /** Writes scores; rng is NULL in deterministic modes. */
        void (*score)(void *impl, const ltrr_policy_conf_t *conf,
                      ltrr_rng_t *rng, ltrr_bandit_scores_t scores);
        /** NULL, or one sampled allocation chosen by the policy itself
         *  (instead of scores and the knapsack): per arm a budget level
         *  index, or -1 for off, in @p pick; arms not in @p available
         *  must be off. Sampled mode only. */
        void (*draw)(void *impl, const ltrr_policy_conf_t *conf,
                     uint32_t available, ltrr_rng_t *rng, int *pick);
        /** NULL, or: returns 1 when this query's decision is fixed (no
         *  sampling; probabilities 1 and 0) and writes it to @p pick as
         *  draw() does; 0 otherwise. Called after prepare(). */
        int (*fixed)(void *impl, const ltrr_policy_conf_t *conf,
                     uint32_t available, int *pick);
} ltrr_policy_ops_t;

extern const ltrr_policy_ops_t ltrr_policy_egreedy_ops;
extern const ltrr_policy_ops_t ltrr_policy_thompson_ops;
extern const ltrr_policy_ops_t ltrr_policy_linucb_ops;
extern const ltrr_policy_ops_t ltrr_policy_lints_ops;
extern const ltrr_policy_ops_t ltrr_policy_subsets_ops;

/**
 * @brief Posterior moments of a disjoint ridge regression per cell: with
 * A' = A + lambda I, mu = b^T A'^-1 x and sigma = sqrt(x^T A'^-1 x), both
 * through one Cholesky factorisation of A' (online/policy_linucb.c).
 * @returns LTRR_OK or LTRR_ERR_RANGE if some A' is not positive definite.
 */
ltrr_err_t ltrr_bandit_linear_moments(const ltrr_policy_conf_t *conf,
                                      const ltrr_bandit_ctx_t *ctx,
                                      const ltrr_bstats_t *st,
                                      ltrr_bandit_scores_t mu,
                                      ltrr_bandit_scores_t sigma,
                                      char *errstr, size_t errstr_size);

/** @brief Fills @p x (dim doubles) from the context's floats. */
void ltrr_bandit_ctx_vector(const ltrr_bandit_ctx_t *ctx, double *x);

#endif /* LTRR_BANDIT_H */
