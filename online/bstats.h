/*
 * ltrr - bandit sufficient statistics as additive deltas.
 *
 * One statistics object holds, for every (arm, budget level) cell of a
 * bandit space, exponentially decayed sums:
 *
 *   n  = sum w            (decayed count)
 *   s  = sum w r          (decayed reward sum)
 *   q  = sum w r^2        (decayed sum of squares)
 *   A  = sum w x x^T      (dim x dim, upper triangle stored)
 *   b  = sum w r x        (dim)
 *
 * with weight w = 2^-((now - t) / half_life) for an observation made at
 * time t, plus an undecayed count c per cell and a version v (the number
 * of observations applied). Values are stored scaled to the object's
 * epoch e: an observation at time t adds its raw value times
 * 2^((t - e) / half_life), and reading at time now multiplies by
 * 2^-((now - e) / half_life). Additions then commute, so any number of
 * learners can add deltas in any order (Redis HINCRBYFLOAT) and readers
 * need no timestamps per observation. The writer stores e and its
 * half-life h in the object (fields "e" and "h"), and parsing takes both,
 * so a reader decays with the writer's half-life whatever it was created
 * with: without h the stored sums are counts inflated by
 * 2^((now - e) / h), and e lies up to 32 half-lives back
 * (ltrr_profile_epoch_align()). The Redis mapping and the math are in
 * docs/BANDIT.md.
 *
 * Beside the cells, an object keeps the decayed n and s of up to
 * LTRR_BSTATS_SETS_MAX arm *sets*: the whole reward of the impressions on
 * which exactly that set of (arm, budget) cells ran, so a policy that
 * chooses whole sets (subsets) reads each set's own reward even when two
 * of its sets share a cell. A set is named by ltrr_bstats_set_id(), a
 * hash of its arm names and budgets, so serving and the learner agree
 * whatever order or budget levels each configures; its fields are
 * "n:@<hex id>:0" and "s:@<hex id>:0", names an older reader skips as an
 * arm it does not know.
 */
#ifndef LTRR_BSTATS_H
#define LTRR_BSTATS_H

#include <stddef.h>
#include <stdint.h>

#include "bandit.h"
#include "err.h"

/** Field name buffer size, NUL included ("A:<arm>:<budget>:<i>:<j>"). */
#define LTRR_BSTATS_FIELD_MAX 48
/** Key buffer size, NUL included. */
#define LTRR_BSTATS_KEY_MAX 128
/** Most arm sets one object keeps; further sets are skipped. */
#define LTRR_BSTATS_SETS_MAX 64
/** Rebase when (t - epoch) / half_life exceeds this (2^64 headroom). */
#define LTRR_BSTATS_REBASE_HALF_LIVES 64.0

typedef struct ltrr_bstats_s ltrr_bstats_t;

/** @brief One reward for one arm of one decision. */
typedef struct ltrr_bstats_obs_s {
        size_t arm;        /**< arm index in the space */
        size_t budget_idx; /**< budget level index in the space */
        double reward;     /**< in [-1, 1] */
        const float *x;    /**< context vector (dim floats); NULL iff dim 0 */
        double t;          /**< event time, seconds */
} ltrr_bstats_obs_t;

/** @brief One (field, delta) pair for HINCRBYFLOAT on the object's key. */
typedef struct ltrr_bstats_delta_s {
        char field[LTRR_BSTATS_FIELD_MAX]; /**< hash field name */
        double value;  /**< raw delta at the observation time */
        int decays;    /**< 1: scale by 2^((t - e) / half_life) first */
} ltrr_bstats_delta_t;

/** @brief A cell's decayed scalar statistics. */
typedef struct ltrr_bstats_cell_s {
        double n; /**< decayed count */
        double s; /**< decayed reward sum */
        double q; /**< decayed sum of squared rewards */
        double c; /**< undecayed count */
} ltrr_bstats_cell_t;

/**
 * @brief Creates empty statistics for @p sp.
 * @param half_life seconds; 0 disables decay.
 * @param epoch initial epoch e in seconds (replaced by the stored `e`
 *        field on parse).
 * @returns the object or NULL with the reason in @p errstr.
 */
ltrr_bstats_t *ltrr_bstats_new(const ltrr_bandit_space_t *sp,
                               double half_life, double epoch, char *errstr,
                               size_t errstr_size);

/** @brief Frees @p st; NULL is a no-op. */
void ltrr_bstats_destroy(ltrr_bstats_t *st);

/** @brief Zeroes every value and the version, and restores the
 *  half-life given to ltrr_bstats_new(); keeps the epoch. */
void ltrr_bstats_reset(ltrr_bstats_t *st);

/** @brief The space the statistics were made for. */
const ltrr_bandit_space_t *ltrr_bstats_space(const ltrr_bstats_t *st);

/** @brief The epoch e, in seconds. */
double ltrr_bstats_epoch(const ltrr_bstats_t *st);

/** @brief Observations applied so far (the `v` field). */
uint64_t ltrr_bstats_version(const ltrr_bstats_t *st);

/** @brief 2^((t - e) / half_life), or 1 without decay. */
double ltrr_bstats_scale(const ltrr_bstats_t *st, double t);

/**
 * @brief Formats the Redis key `ltrr:bandit:{<ns>}:v1`.
 * @param ns namespace, [A-Za-z0-9_.:-] only (e.g. "b17" for bucket 17,
 *        "lin:f3" for linear statistics of feature version 3).
 * @returns LTRR_OK, LTRR_ERR_INVALID_ARG for a bad @p ns, or
 *          LTRR_ERR_NOSPACE if @p buf is too small.
 */
ltrr_err_t ltrr_bstats_key(char *buf, size_t size, const char *ns,
                           char *errstr, size_t errstr_size);

/** @brief Number of deltas one observation yields: 5 + dim + dim(dim+1)/2. */
size_t ltrr_bstats_delta_count(const ltrr_bstats_t *st);

/**
 * @brief Turns one observation into (field, delta) pairs.
 * @param out room for @p cap deltas; *n_out receives the count.
 * @returns LTRR_OK; LTRR_ERR_RANGE for an arm, budget or reward out of
 *          range or a non-finite x; LTRR_ERR_NOSPACE if @p cap is small.
 * @remark pure: @p st only supplies the layout.
 */
ltrr_err_t ltrr_bstats_deltas(const ltrr_bstats_t *st,
                              const ltrr_bstats_obs_t *obs,
                              ltrr_bstats_delta_t *out, size_t cap,
                              size_t *n_out, char *errstr, size_t errstr_size);

/**
 * @brief Applies deltas made at time @p t exactly as the Redis script
 * does: decaying deltas are multiplied by ltrr_bstats_scale(st, t).
 * @returns LTRR_OK or LTRR_ERR_PARSE for an unknown field; deltas before
 *          the bad one stay applied.
 */
ltrr_err_t ltrr_bstats_apply(ltrr_bstats_t *st, const ltrr_bstats_delta_t *d,
                             size_t n, double t, char *errstr,
                             size_t errstr_size);

/**
 * @brief Adds one observation directly (same result as deltas + apply,
 * without field names; the learner's and the benchmark's fast path).
 * @returns LTRR_OK or LTRR_ERR_RANGE as ltrr_bstats_deltas().
 */
ltrr_err_t ltrr_bstats_observe(ltrr_bstats_t *st, const ltrr_bstats_obs_t *obs,
                               char *errstr, size_t errstr_size);

/**
 * @brief Emits every non-zero value as a delta, to batch updates: a
 * learner observes a batch of rewards into a scratch object, then sends
 * this export as deltas made at t = ltrr_bstats_epoch(scratch). The
 * script's scaling 2^((t - e) / half_life) moves them to the stored
 * key's epoch e, so the result equals sending each reward's deltas.
 * @returns LTRR_OK, or LTRR_ERR_NOSPACE with *n_out set to the count
 *          needed.
 */
ltrr_err_t ltrr_bstats_export(const ltrr_bstats_t *st,
                              ltrr_bstats_delta_t *out, size_t cap,
                              size_t *n_out, char *errstr,
                              size_t errstr_size);

/**
 * @brief Replaces the state with an HGETALL reply.
 * @param fv @p n_strings strings: field, value, field, value, ...
 * @returns LTRR_OK; LTRR_ERR_PARSE for an odd count, a malformed field or
 *          a value that is not a finite number. Fields naming an arm or a
 *          budget not in the space, or a component beyond dim, are
 *          skipped (the configuration may have dropped them). On error
 *          the state is reset.
 */
ltrr_err_t ltrr_bstats_parse(ltrr_bstats_t *st, const char *const *fv,
                             size_t n_strings, char *errstr,
                             size_t errstr_size);

/**
 * @brief Moves the epoch to @p epoch, rescaling every decaying value so
 * decayed reads are unchanged. Learners rebase when (t - e) / half_life
 * passes LTRR_BSTATS_REBASE_HALF_LIVES.
 */
void ltrr_bstats_rebase(ltrr_bstats_t *st, double epoch);

/**
 * @brief Reads a cell's scalars decayed to @p now.
 * @returns LTRR_OK or LTRR_ERR_RANGE for a bad index.
 */
ltrr_err_t ltrr_bstats_cell_get(const ltrr_bstats_t *st, size_t arm,
                                size_t budget_idx, double now,
                                ltrr_bstats_cell_t *cell);

/**
 * @brief Reads a cell's A (full symmetric dim x dim, row-major) and b,
 * decayed to @p now. Either output may be NULL.
 * @returns LTRR_OK or LTRR_ERR_RANGE for a bad index.
 */
ltrr_err_t ltrr_bstats_linear_get(const ltrr_bstats_t *st, size_t arm,
                                  size_t budget_idx, double now, double *a,
                                  double *b);

/**
 * @brief Id of the arm set that runs arm a of @p sp at budget
 * sp->budgets[lvl[a]] for every a with lvl[a] >= 0: 64-bit FNV-1a of the
 * "name:budget;" pairs in name order (never 0; 0 for an empty set).
 */
uint64_t ltrr_bstats_set_id(const ltrr_bandit_space_t *sp, const int *lvl);

/**
 * @brief The two deltas (n, s) of one impression's whole reward @p reward
 * for arm set @p set, made at the observation time (both decay).
 * @returns LTRR_OK; LTRR_ERR_RANGE for set 0 or a reward not in [-1, 1].
 */
ltrr_err_t ltrr_bstats_set_deltas(const ltrr_bstats_t *st, uint64_t set,
                                  double reward, ltrr_bstats_delta_t out[2],
                                  char *errstr, size_t errstr_size);

/**
 * @brief Reads set @p set decayed to @p now into @p cell (n and s; q and
 * c are 0); all zero when the object has no data for it.
 */
void ltrr_bstats_set_get(const ltrr_bstats_t *st, uint64_t set, double now,
                         ltrr_bstats_cell_t *cell);

/** @brief Arm sets with data in @p st (at most LTRR_BSTATS_SETS_MAX). */
size_t ltrr_bstats_set_count(const ltrr_bstats_t *st);

#endif /* LTRR_BSTATS_H */
