/*
 * ltrr - metrics registry: counters, gauges and histograms rendered in
 * the Prometheus text exposition format 0.0.4.
 *
 * A registry holds families; a family has a type, a name, help text and
 * an optional fixed set of label names. Each distinct set of label values
 * is a child, created on first use up to the family's maximum; past it
 * every new label set shares one overflow child (label values
 * LTRR_METRICS_OVERFLOW_VALUE) and the overflow is counted in
 * ltrr_metrics_label_overflow_total{family="..."}. Memory is therefore
 * bounded by the families registered at start.
 *
 * Typical use:
 *
 *   ltrr_metrics_spec_t spec = {
 *           .type = LTRR_METRICS_COUNTER,
 *           .name = "ltrr_requests_total",
 *           .help = "Requests served.",
 *           .labels = (const char *const[]){"route", NULL},
 *           .max_children = 16,
 *   };
 *   ltrr_metrics_family_t *fam = ltrr_metrics_register(reg, &spec,
 *                                                      errstr, sizeof(errstr));
 *   ltrr_metrics_child_t *ch = ltrr_metrics_child(fam,
 *                                   (const char *const[]){"search"});
 *   ltrr_metrics_counter_inc(ch);   // lock-free; cache ch on hot paths
 *
 * Histogram buckets are log-linear: from 10^lo_exp, each power of ten is
 * split into nine linear sub-buckets with upper bounds 1, 2, ... 9 times
 * 10^k, for `decades` powers of ten, then one last bound 10^(lo_exp +
 * decades) and +Inf. LTRR_METRICS_BUCKETS_SECONDS (10 us .. 10 s) suits
 * latencies; LTRR_METRICS_BUCKETS_SIZE (1 .. 10^7) suits sizes and counts.
 */
#ifndef LTRR_METRICS_H
#define LTRR_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "strbuf.h"

/** Most families in one registry (the built-in overflow family counts). */
#define LTRR_METRICS_FAMILIES_MAX 256
/** Most label names per family. */
#define LTRR_METRICS_LABELS_MAX 8
/** Children per labelled family when the spec gives 0. */
#define LTRR_METRICS_CHILDREN_DEFAULT 64
/** Hard ceiling on max_children. */
#define LTRR_METRICS_CHILDREN_MAX 4096
/** Longest metric or label name, and longest label value. */
#define LTRR_METRICS_NAME_MAX  128
#define LTRR_METRICS_VALUE_MAX 256
/** Linear sub-buckets per power of ten (bounds 1..9 x 10^k). */
#define LTRR_METRICS_HIST_SUBS 9
/** Most powers of ten a histogram may span. */
#define LTRR_METRICS_HIST_DECADES_MAX 12
/** Label value given to every label of a family's overflow child. */
#define LTRR_METRICS_OVERFLOW_VALUE "__overflow__"

/** Histogram layout for latencies in seconds: 10 us to 10 s. */
#define LTRR_METRICS_BUCKETS_SECONDS .lo_exp = -5, .decades = 6
/** Histogram layout for sizes and counts: 1 to 10^7. */
#define LTRR_METRICS_BUCKETS_SIZE .lo_exp = 0, .decades = 7

typedef enum {
        LTRR_METRICS_COUNTER = 1,  /**< monotonic integer, name ends _total */
        LTRR_METRICS_GAUGE = 2,    /**< double that goes up and down */
        LTRR_METRICS_HISTOGRAM = 3 /**< log-linear buckets, sum and count */
} ltrr_metrics_type_t;

/** Registration parameters; only read during ltrr_metrics_register(). */
typedef struct ltrr_metrics_spec_s {
        ltrr_metrics_type_t type;  /**< kind of family */
        const char *name;          /**< [a-zA-Z_:][a-zA-Z0-9_:]* */
        const char *help;          /**< non-empty help text */
        const char *const *labels; /**< NULL-terminated names, or NULL */
        size_t max_children;       /**< label sets kept; 0 = default */
        int lo_exp;                /**< histogram: first bound 10^lo_exp */
        int decades;               /**< histogram: powers of ten spanned */
} ltrr_metrics_spec_t;

typedef struct ltrr_metrics_s ltrr_metrics_t;               /* reg */
typedef struct ltrr_metrics_family_s ltrr_metrics_family_t; /* fam */
typedef struct ltrr_metrics_child_s ltrr_metrics_child_t;   /* ch */

/**
 * @brief Creates an empty registry.
 * @returns the registry, or NULL with the reason in @p errstr.
 */
ltrr_metrics_t *ltrr_metrics_new(char *errstr, size_t errstr_size);

/** @brief Frees the registry, its families and children. NULL-safe.
 *  @remark No other thread may use the registry or its handles then. */
void ltrr_metrics_destroy(ltrr_metrics_t *reg);

/**
 * @brief Registers a family.
 *
 * Names are checked against the Prometheus grammar; counters must end in
 * `_total`; label names must not start with `__`, and histograms may not
 * use `le`. A name already registered is refused.
 *
 * @returns the family, owned by @p reg and valid until it is destroyed,
 *          or NULL with the reason in @p errstr.
 * @remark Takes the registry lock; meant for start-up.
 * @locality any thread
 */
ltrr_metrics_family_t *ltrr_metrics_register(ltrr_metrics_t *reg,
                                             const ltrr_metrics_spec_t *spec,
                                             char *errstr, size_t errstr_size);

/**
 * @brief Returns the child for a set of label values.
 *
 * @param values  one string per label name (copied on first use); NULL
 *                for a family without labels.
 * @returns the child (owned by the family), the overflow child when the
 *          family is full, or NULL if @p values is NULL for a labelled
 *          family, a value is NULL or longer than LTRR_METRICS_VALUE_MAX,
 *          or memory runs out.
 * @remark Lock-free when the child exists (a scan of the family's
 *         children); takes the family lock to create one. Hot paths
 *         should look children up once and keep the pointer.
 * @locality any thread
 */
ltrr_metrics_child_t *ltrr_metrics_child(ltrr_metrics_family_t *fam,
                                         const char *const *values);

/** @brief Number of overflowed lookups of @p fam so far. */
uint64_t ltrr_metrics_family_overflows(const ltrr_metrics_family_t *fam);

/**
 * @name Updates
 * Lock-free and safe from any thread. A NULL child is ignored so that a
 * failed lookup never crashes a hot path. Calling an update of another
 * type than the child's family is a no-op.
 * @{
 */
void ltrr_metrics_counter_inc(ltrr_metrics_child_t *ch);
void ltrr_metrics_counter_add(ltrr_metrics_child_t *ch, uint64_t n);
void ltrr_metrics_gauge_set(ltrr_metrics_child_t *ch, double v);
void ltrr_metrics_gauge_add(ltrr_metrics_child_t *ch, double d);
/** Integer gauges are stored as doubles: exact up to 2^53. */
void ltrr_metrics_gauge_set_i64(ltrr_metrics_child_t *ch, int64_t v);
void ltrr_metrics_gauge_add_i64(ltrr_metrics_child_t *ch, int64_t d);
/** NaN is ignored; values below the first bound fall in the first bucket. */
void ltrr_metrics_hist_observe(ltrr_metrics_child_t *ch, double v);
/** @} */

/** @name Reads (any thread; a histogram read during updates may mix
 *  observations before and after it). @{ */
uint64_t ltrr_metrics_counter_value(const ltrr_metrics_child_t *ch);
double ltrr_metrics_gauge_value(const ltrr_metrics_child_t *ch);
uint64_t ltrr_metrics_hist_count(const ltrr_metrics_child_t *ch);
double ltrr_metrics_hist_sum(const ltrr_metrics_child_t *ch);
/** @} */

/**
 * @brief Number of finite upper bounds of a histogram family (the +Inf
 *        bucket comes after them), 0 for other types.
 */
size_t ltrr_metrics_hist_bounds(const ltrr_metrics_family_t *fam,
                                const double **bounds);

/**
 * @brief Index of the bucket @p v falls in: the first bound >= v, or the
 *        number of bounds for the +Inf bucket.
 */
size_t ltrr_metrics_hist_bucket(const ltrr_metrics_family_t *fam, double v);

/**
 * @brief Estimates the @p q quantile (0..1) from bucket counts.
 *
 * Linear interpolation inside the bucket that holds the rank, the first
 * bucket starting at 0, as Prometheus's histogram_quantile() does.
 * The error is at most one bucket width: 1/10 to 1/2 of the bucket's
 * upper bound for these log-linear buckets.
 *
 * @returns the estimate; NaN with no observations or q outside [0, 1];
 *          the largest finite bound when the rank is in the +Inf bucket.
 */
double ltrr_metrics_hist_quantile(const ltrr_metrics_child_t *ch, double q);

/**
 * @brief The same estimate from raw, non-cumulative counts: counts[i] for
 *        i < n_bounds holds values <= bounds[i], counts[n_bounds] the rest.
 */
double ltrr_metrics_quantile(const double *bounds, const uint64_t *counts,
                             size_t n_bounds, double q);

/**
 * @brief Appends the whole registry in text format 0.0.4 to @p sb.
 *
 * Families appear in registration order, children in creation order
 * (the overflow child last). Labelled families without children are
 * left out.
 *
 * @returns LTRR_OK or the error of @p sb (LTRR_ERR_NOSPACE, NOMEM).
 * @remark Takes the registry lock; updates go on meanwhile.
 */
ltrr_err_t ltrr_metrics_render(ltrr_metrics_t *reg, ltrr_strbuf_t *sb);

/** @brief Checks @p name against [a-zA-Z_:][a-zA-Z0-9_:]*. */
int ltrr_metrics_name_valid(const char *name);

/** @brief Checks @p name against [a-zA-Z_][a-zA-Z0-9_]*, no `__` prefix. */
int ltrr_metrics_label_valid(const char *name);

#endif /* LTRR_METRICS_H */
