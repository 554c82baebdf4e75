/*
 * ltrr - metrics registry (see metrics.h and docs/decisions/0005-metrics.md).
 *
 * Updates touch only C11 atomics: counters use fetch_add on a uint64,
 * gauges and histogram sums keep a double's bits in a uint64 and update
 * it with a compare-and-swap loop, histogram buckets use fetch_add.
 * Children are published into a pre-sized slot array with a release
 * store of the child count, so a lookup that finds its child never locks.
 */
#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OVERFLOW_FAMILY "ltrr_metrics_label_overflow_total"
#define CACHE_LINE      64

struct ltrr_metrics_child_s {
        ltrr_metrics_family_t *fam; /**< owning family */
        char **values;              /**< label_cnt owned strings */
        _Atomic uint64_t val;       /**< counter, or gauge double bits */
        _Atomic uint64_t sum;       /**< histogram sum, double bits */
        _Atomic uint64_t buckets[]; /**< histogram: n_bounds + 1 counts */
};

struct ltrr_metrics_family_s {
        ltrr_metrics_t *reg;                    /**< owning registry */
        ltrr_metrics_type_t type;               /**< kind */
        char *name;                             /**< owned */
        char *help;                             /**< owned */
        char *labels[LTRR_METRICS_LABELS_MAX];  /**< owned label names */
        size_t label_cnt;                       /**< names in labels[] */
        double *bounds;                         /**< histogram upper bounds */
        size_t n_bounds;                        /**< finite bounds */
        ltrr_metrics_child_t **children;        /**< max_children slots */
        size_t max_children;                    /**< slots in children[] */
        _Atomic size_t child_cnt;               /**< slots published */
        ltrr_metrics_child_t *_Atomic overflow; /**< shared child when full */
        _Atomic uint64_t overflows;             /**< lookups sent to overflow */
        pthread_mutex_t lock; /**< serialises child creation */
};

struct ltrr_metrics_s {
        pthread_mutex_t lock; /**< families and rendering */
        ltrr_metrics_family_t *fams[LTRR_METRICS_FAMILIES_MAX]; /**< owned */
        size_t fam_cnt;                      /**< families in fams[] */
        ltrr_metrics_family_t *overflow_fam; /**< label overflow counter */
};

static uint64_t d2u(double d)
{
        uint64_t u;

        memcpy(&u, &d, sizeof(u));
        return u;
}

static double u2d(uint64_t u)
{
        double d;

        memcpy(&d, &u, sizeof(d));
        return d;
}

/* Adds @p d to the double whose bits live in @p p, retrying on conflict. */
static void atomic_add_double(_Atomic uint64_t *p, double d)
{
        uint64_t old = atomic_load_explicit(p, memory_order_relaxed);

        while (!atomic_compare_exchange_weak_explicit(
            p, &old, d2u(u2d(old) + d), memory_order_relaxed,
            memory_order_relaxed))
                ;
}

int ltrr_metrics_name_valid(const char *name)
{
        size_t i;

        if (!name || !name[0] || strlen(name) > LTRR_METRICS_NAME_MAX)
                return 0;
        for (i = 0; name[i]; i++) {
                char c = name[i];
                int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            c == '_' || c == ':';
                if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
                        return 0;
        }
        return 1;
}

int ltrr_metrics_label_valid(const char *name)
{
        if (!ltrr_metrics_name_valid(name) || strchr(name, ':'))
                return 0;
        return strncmp(name, "__", 2) != 0;
}

static void child_free(ltrr_metrics_child_t *ch)
{
        size_t i;

        if (!ch)
                return;
        if (ch->values)
                for (i = 0; i < ch->fam->label_cnt; i++)
                        free(ch->values[i]);
        free(ch->values);
        free(ch);
}

/* Allocates a zeroed child with copies of @p values (label_cnt strings),
 * or NULL when out of memory. */
static ltrr_metrics_child_t *child_new(ltrr_metrics_family_t *fam,
                                       const char *const *values)
{
        size_t nb = fam->type == LTRR_METRICS_HISTOGRAM ? fam->n_bounds + 1 : 0;
        size_t size =
            sizeof(ltrr_metrics_child_t) + nb * sizeof(_Atomic uint64_t);
        ltrr_metrics_child_t *ch;
        size_t i;

        /* Whole cache lines, so that two children never share one and
         * threads updating different children do not slow each other. */
        size = (size + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
        if (!(ch = aligned_alloc(CACHE_LINE, size)))
                return NULL;
        memset(ch, 0, size);
        ch->fam = fam;
        if (fam->label_cnt == 0)
                return ch;
        ch->values = calloc(fam->label_cnt, sizeof(*ch->values));
        if (!ch->values)
                goto err;
        for (i = 0; i < fam->label_cnt; i++)
                if (!(ch->values[i] = strdup(values[i])))
                        goto err;
        return ch;
err:
        child_free(ch);
        return NULL;
}

static void family_free(ltrr_metrics_family_t *fam)
{
        size_t i, n;

        if (!fam)
                return;
        n = atomic_load(&fam->child_cnt);
        for (i = 0; i < n; i++)
                child_free(fam->children[i]);
        child_free(atomic_load(&fam->overflow));
        free(fam->children);
        for (i = 0; i < fam->label_cnt; i++)
                free(fam->labels[i]);
        free(fam->bounds);
        free(fam->name);
        free(fam->help);
        pthread_mutex_destroy(&fam->lock);
        free(fam);
}

/* Fills fam->bounds with 1..9 x 10^k for the spec's decades, then
 * 10^(lo_exp + decades). Bounds are parsed from their decimal text so
 * that each is the double nearest to the printed `le` value. */
static ltrr_err_t family_bounds(ltrr_metrics_family_t *fam,
                                const ltrr_metrics_spec_t *spec, char *errstr,
                                size_t errstr_size)
{
        char txt[32];
        int d, m;
        size_t n = 0;

        if (spec->decades < 1 ||
            spec->decades > LTRR_METRICS_HIST_DECADES_MAX ||
            spec->lo_exp < -12 || spec->lo_exp > 12)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "%s: histogram needs 1..%d decades and "
                                 "lo_exp in -12..12",
                                 spec->name, LTRR_METRICS_HIST_DECADES_MAX);
        fam->n_bounds = (size_t)spec->decades * LTRR_METRICS_HIST_SUBS + 1;
        fam->bounds = calloc(fam->n_bounds, sizeof(*fam->bounds));
        if (!fam->bounds)
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "out of memory");
        for (d = 0; d < spec->decades; d++)
                for (m = 1; m <= LTRR_METRICS_HIST_SUBS; m++) {
                        snprintf(txt, sizeof(txt), "%de%d", m,
                                 spec->lo_exp + d);
                        fam->bounds[n++] = strtod(txt, NULL);
                }
        snprintf(txt, sizeof(txt), "1e%d", spec->lo_exp + spec->decades);
        fam->bounds[n] = strtod(txt, NULL);
        return LTRR_OK;
}

/* Checks the spec's names and labels against the grammar and the rules
 * of its type. */
static ltrr_err_t spec_check(const ltrr_metrics_spec_t *spec, char *errstr,
                             size_t errstr_size)
{
        size_t i, j, len;

        if (spec->type < LTRR_METRICS_COUNTER ||
            spec->type > LTRR_METRICS_HISTOGRAM)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "unknown metric type %d", (int)spec->type);
        if (!ltrr_metrics_name_valid(spec->name))
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "invalid metric name \"%s\"",
                                 spec->name ? spec->name : "(null)");
        len = strlen(spec->name);
        if (spec->type == LTRR_METRICS_COUNTER &&
            (len < 6 || strcmp(spec->name + len - 6, "_total")))
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "counter \"%s\" must end in _total",
                                 spec->name);
        if (!spec->help || !spec->help[0])
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "%s: help text is required", spec->name);
        for (i = 0; spec->labels && spec->labels[i]; i++) {
                if (i == LTRR_METRICS_LABELS_MAX)
                        return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                         "%s: more than %d labels", spec->name,
                                         LTRR_METRICS_LABELS_MAX);
                if (!ltrr_metrics_label_valid(spec->labels[i]) ||
                    (spec->type == LTRR_METRICS_HISTOGRAM &&
                     !strcmp(spec->labels[i], "le")))
                        return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr,
                                         errstr_size,
                                         "%s: invalid label name \"%s\"",
                                         spec->name, spec->labels[i]);
                for (j = 0; j < i; j++)
                        if (!strcmp(spec->labels[i], spec->labels[j]))
                                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr,
                                                 errstr_size,
                                                 "%s: duplicate label \"%s\"",
                                                 spec->name, spec->labels[i]);
        }
        if (spec->max_children > LTRR_METRICS_CHILDREN_MAX)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "%s: max_children above %d", spec->name,
                                 LTRR_METRICS_CHILDREN_MAX);
        return LTRR_OK;
}

/* Copies the names and allocates the child slots; an unlabelled family
 * gets its single child at once. */
static ltrr_err_t family_fill(ltrr_metrics_family_t *fam,
                              const ltrr_metrics_spec_t *spec)
{
        size_t i;

        if (!(fam->name = strdup(spec->name)) ||
            !(fam->help = strdup(spec->help)))
                return LTRR_ERR_NOMEM;
        for (i = 0; spec->labels && spec->labels[i]; i++) {
                if (!(fam->labels[i] = strdup(spec->labels[i])))
                        return LTRR_ERR_NOMEM;
                fam->label_cnt = i + 1;
        }
        if (fam->label_cnt == 0)
                fam->max_children = 1;
        else
                fam->max_children = spec->max_children
                                        ? spec->max_children
                                        : LTRR_METRICS_CHILDREN_DEFAULT;
        fam->children = calloc(fam->max_children, sizeof(*fam->children));
        if (!fam->children)
                return LTRR_ERR_NOMEM;
        if (fam->label_cnt == 0) {
                if (!(fam->children[0] = child_new(fam, NULL)))
                        return LTRR_ERR_NOMEM;
                atomic_store(&fam->child_cnt, 1);
        }
        return LTRR_OK;
}

static ltrr_metrics_family_t *family_new(ltrr_metrics_t *reg,
                                         const ltrr_metrics_spec_t *spec,
                                         char *errstr, size_t errstr_size)
{
        ltrr_metrics_family_t *fam;

        if (spec_check(spec, errstr, errstr_size))
                return NULL;
        if (!(fam = calloc(1, sizeof(*fam)))) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "out of memory");
                return NULL;
        }
        pthread_mutex_init(&fam->lock, NULL);
        fam->reg = reg;
        fam->type = spec->type;
        if (spec->type == LTRR_METRICS_HISTOGRAM &&
            family_bounds(fam, spec, errstr, errstr_size))
                goto err;
        if (family_fill(fam, spec)) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "out of memory");
                goto err;
        }
        return fam;
err:
        family_free(fam);
        return NULL;
}

ltrr_metrics_family_t *ltrr_metrics_register(ltrr_metrics_t *reg,
                                             const ltrr_metrics_spec_t *spec,
                                             char *errstr, size_t errstr_size)
{
        ltrr_metrics_family_t *fam = NULL;
        size_t i;

        if (!reg || !spec) {
                ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                          "registry and spec are required");
                return NULL;
        }
        pthread_mutex_lock(&reg->lock);
        for (i = 0; i < reg->fam_cnt; i++)
                if (spec->name && !strcmp(reg->fams[i]->name, spec->name)) {
                        ltrr_errf(LTRR_ERR_STATE, errstr, errstr_size,
                                  "metric \"%s\" already registered",
                                  spec->name);
                        goto done;
                }
        if (reg->fam_cnt == LTRR_METRICS_FAMILIES_MAX) {
                ltrr_errf(LTRR_ERR_NOSPACE, errstr, errstr_size,
                          "more than %d metric families",
                          LTRR_METRICS_FAMILIES_MAX);
                goto done;
        }
        if ((fam = family_new(reg, spec, errstr, errstr_size)))
                reg->fams[reg->fam_cnt++] = fam;
done:
        pthread_mutex_unlock(&reg->lock);
        return fam;
}

ltrr_metrics_t *ltrr_metrics_new(char *errstr, size_t errstr_size)
{
        static const char *const overflow_labels[] = {"family", NULL};
        const ltrr_metrics_spec_t spec = {
            .type = LTRR_METRICS_COUNTER,
            .name = OVERFLOW_FAMILY,
            .help = "Lookups of new label sets sent to a family's overflow "
                    "child because it was full.",
            .labels = overflow_labels,
            .max_children = LTRR_METRICS_FAMILIES_MAX,
        };
        ltrr_metrics_t *reg = calloc(1, sizeof(*reg));

        if (!reg) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "out of memory");
                return NULL;
        }
        pthread_mutex_init(&reg->lock, NULL);
        reg->overflow_fam =
            ltrr_metrics_register(reg, &spec, errstr, errstr_size);
        if (!reg->overflow_fam) {
                ltrr_metrics_destroy(reg);
                return NULL;
        }
        return reg;
}

void ltrr_metrics_destroy(ltrr_metrics_t *reg)
{
        size_t i;

        if (!reg)
                return;
        for (i = 0; i < reg->fam_cnt; i++)
                family_free(reg->fams[i]);
        pthread_mutex_destroy(&reg->lock);
        free(reg);
}

/* Returns the published child whose values equal @p values, scanning
 * from slot @p from, or NULL. */
static ltrr_metrics_child_t *child_find(ltrr_metrics_family_t *fam,
                                        const char *const *values, size_t from)
{
        size_t n = atomic_load_explicit(&fam->child_cnt, memory_order_acquire);
        size_t i, j;

        for (i = from; i < n; i++) {
                ltrr_metrics_child_t *ch = fam->children[i];
                for (j = 0; j < fam->label_cnt; j++)
                        if (strcmp(ch->values[j], values[j]))
                                break;
                if (j == fam->label_cnt)
                        return ch;
        }
        return NULL;
}

/* Returns the family's overflow child, creating it on first use.
 * Called with fam->lock held. */
static ltrr_metrics_child_t *child_overflow(ltrr_metrics_family_t *fam)
{
        const char *vals[LTRR_METRICS_LABELS_MAX];
        ltrr_metrics_child_t *ch = atomic_load(&fam->overflow);
        size_t i;

        if (ch)
                return ch;
        for (i = 0; i < fam->label_cnt; i++)
                vals[i] = LTRR_METRICS_OVERFLOW_VALUE;
        if ((ch = child_new(fam, vals)))
                atomic_store_explicit(&fam->overflow, ch, memory_order_release);
        return ch;
}

/* Slow path of ltrr_metrics_child(): under the family lock, finds the
 * child again (another thread may have made it), creates it if a slot is
 * free, or falls back to the overflow child. *overflowed is set then. */
static ltrr_metrics_child_t *child_create(ltrr_metrics_family_t *fam,
                                          const char *const *values,
                                          int *overflowed)
{
        ltrr_metrics_child_t *ch;
        size_t n;

        pthread_mutex_lock(&fam->lock);
        n = atomic_load_explicit(&fam->child_cnt, memory_order_relaxed);
        if ((ch = child_find(fam, values, 0)))
                goto done;
        if (n == fam->max_children) {
                *overflowed = 1;
                ch = child_overflow(fam);
                goto done;
        }
        if ((ch = child_new(fam, values))) {
                fam->children[n] = ch;
                atomic_store_explicit(&fam->child_cnt, n + 1,
                                      memory_order_release);
        }
done:
        pthread_mutex_unlock(&fam->lock);
        return ch;
}

ltrr_metrics_child_t *ltrr_metrics_child(ltrr_metrics_family_t *fam,
                                         const char *const *values)
{
        ltrr_metrics_child_t *ch;
        int overflowed = 0;
        size_t i;

        if (!fam)
                return NULL;
        if (fam->label_cnt == 0)
                return fam->children[0];
        if (!values)
                return NULL;
        for (i = 0; i < fam->label_cnt; i++)
                if (!values[i] || strlen(values[i]) > LTRR_METRICS_VALUE_MAX)
                        return NULL;
        if ((ch = child_find(fam, values, 0)))
                return ch;
        ch = child_create(fam, values, &overflowed);
        if (overflowed) {
                const char *name[1] = {fam->name};
                atomic_fetch_add_explicit(&fam->overflows, 1,
                                          memory_order_relaxed);
                ltrr_metrics_counter_inc(
                    ltrr_metrics_child(fam->reg->overflow_fam, name));
        }
        return ch;
}

uint64_t ltrr_metrics_family_overflows(const ltrr_metrics_family_t *fam)
{
        return fam ? atomic_load(&fam->overflows) : 0;
}

void ltrr_metrics_counter_inc(ltrr_metrics_child_t *ch)
{
        ltrr_metrics_counter_add(ch, 1);
}

void ltrr_metrics_counter_add(ltrr_metrics_child_t *ch, uint64_t n)
{
        if (ch && ch->fam->type == LTRR_METRICS_COUNTER)
                atomic_fetch_add_explicit(&ch->val, n, memory_order_relaxed);
}

void ltrr_metrics_gauge_set(ltrr_metrics_child_t *ch, double v)
{
        if (ch && ch->fam->type == LTRR_METRICS_GAUGE)
                atomic_store_explicit(&ch->val, d2u(v), memory_order_relaxed);
}

void ltrr_metrics_gauge_add(ltrr_metrics_child_t *ch, double d)
{
        if (ch && ch->fam->type == LTRR_METRICS_GAUGE)
                atomic_add_double(&ch->val, d);
}

void ltrr_metrics_gauge_set_i64(ltrr_metrics_child_t *ch, int64_t v)
{
        ltrr_metrics_gauge_set(ch, (double)v);
}

void ltrr_metrics_gauge_add_i64(ltrr_metrics_child_t *ch, int64_t d)
{
        ltrr_metrics_gauge_add(ch, (double)d);
}

size_t ltrr_metrics_hist_bucket(const ltrr_metrics_family_t *fam, double v)
{
        size_t lo = 0, hi = fam->n_bounds;

        /* Lower bound: first i with bounds[i] >= v. */
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (fam->bounds[mid] < v)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

void ltrr_metrics_hist_observe(ltrr_metrics_child_t *ch, double v)
{
        if (!ch || ch->fam->type != LTRR_METRICS_HISTOGRAM || isnan(v))
                return;
        atomic_fetch_add_explicit(
            &ch->buckets[ltrr_metrics_hist_bucket(ch->fam, v)], 1,
            memory_order_relaxed);
        atomic_add_double(&ch->sum, v);
}

uint64_t ltrr_metrics_counter_value(const ltrr_metrics_child_t *ch)
{
        if (!ch || ch->fam->type != LTRR_METRICS_COUNTER)
                return 0;
        return atomic_load_explicit(&ch->val, memory_order_relaxed);
}

double ltrr_metrics_gauge_value(const ltrr_metrics_child_t *ch)
{
        if (!ch || ch->fam->type != LTRR_METRICS_GAUGE)
                return 0.0;
        return u2d(atomic_load_explicit(&ch->val, memory_order_relaxed));
}

uint64_t ltrr_metrics_hist_count(const ltrr_metrics_child_t *ch)
{
        uint64_t n = 0;
        size_t i;

        if (!ch || ch->fam->type != LTRR_METRICS_HISTOGRAM)
                return 0;
        for (i = 0; i <= ch->fam->n_bounds; i++)
                n +=
                    atomic_load_explicit(&ch->buckets[i], memory_order_relaxed);
        return n;
}

double ltrr_metrics_hist_sum(const ltrr_metrics_child_t *ch)
{
        if (!ch || ch->fam->type != LTRR_METRICS_HISTOGRAM)
                return 0.0;
        return u2d(atomic_load_explicit(&ch->sum, memory_order_relaxed));
}

size_t ltrr_metrics_hist_bounds(const ltrr_metrics_family_t *fam,
                                const double **bounds)
{
        if (!fam || fam->type != LTRR_METRICS_HISTOGRAM)
                return 0;
        if (bounds)
                *bounds = fam->bounds;
        return fam->n_bounds;
}

double ltrr_metrics_quantile(const double *bounds, const uint64_t *counts,
                             size_t n_bounds, double q)
{
        uint64_t total = 0, cum = 0;
        double rank, lower;
        size_t i;

        for (i = 0; i <= n_bounds; i++)
                total += counts[i];
        if (total == 0 || !(q >= 0.0 && q <= 1.0))
                return NAN;
        rank = q * (double)total;
        for (i = 0; i <= n_bounds; i++) {
                if (counts[i] == 0 || (double)(cum + counts[i]) < rank) {
                        cum += counts[i];
                        continue;
                }
                if (i == n_bounds)
                        return n_bounds ? bounds[n_bounds - 1] : NAN;
                lower =
                    i == 0 ? (bounds[0] > 0 ? 0.0 : bounds[0]) : bounds[i - 1];
                return lower + (bounds[i] - lower) *
                                   ((rank - (double)cum) / (double)counts[i]);
        }
        return n_bounds ? bounds[n_bounds - 1] : NAN;
}

double ltrr_metrics_hist_quantile(const ltrr_metrics_child_t *ch, double q)
{
        uint64_t
            counts[LTRR_METRICS_HIST_DECADES_MAX * LTRR_METRICS_HIST_SUBS + 2];
        size_t i;

        if (!ch || ch->fam->type != LTRR_METRICS_HISTOGRAM)
                return NAN;
        for (i = 0; i <= ch->fam->n_bounds; i++)
                counts[i] =
                    atomic_load_explicit(&ch->buckets[i], memory_order_relaxed);
        return ltrr_metrics_quantile(ch->fam->bounds, counts, ch->fam->n_bounds,
                                     q);
}

/* Appends @p v as Prometheus expects: +Inf, -Inf, NaN, or the shortest
 * of %.15g / %.17g that reads back as the same double. */
static void render_double(ltrr_strbuf_t *sb, double v)
{
        char txt[40];

        if (isnan(v)) {
                ltrr_strbuf_puts(sb, "NaN");
                return;
        }
        if (isinf(v)) {
                ltrr_strbuf_puts(sb, v > 0 ? "+Inf" : "-Inf");
                return;
        }
        snprintf(txt, sizeof(txt), "%.15g", v);
        if (strtod(txt, NULL) != v)
                snprintf(txt, sizeof(txt), "%.17g", v);
        ltrr_strbuf_puts(sb, txt);
}

/* Appends @p s with backslash and newline escaped, and the double quote
 * too when @p quote (label values; help text leaves quotes alone). */
static void render_escaped(ltrr_strbuf_t *sb, const char *s, int quote)
{
        for (; *s; s++) {
                if (*s == '\\')
                        ltrr_strbuf_puts(sb, "\\\\");
                else if (*s == '\n')
                        ltrr_strbuf_puts(sb, "\\n");
                else if (*s == '"' && quote)
                        ltrr_strbuf_puts(sb, "\\\"");
                else
                        ltrr_strbuf_putc(sb, *s);
        }
}

/* Appends `name{labels[,le="bound"]} ` for one sample of @p ch; @p le is
 * NULL except for histogram buckets (NaN-free, +Inf allowed). */
static void render_series(ltrr_strbuf_t *sb, const ltrr_metrics_child_t *ch,
                          const char *suffix, const double *le)
{
        const ltrr_metrics_family_t *fam = ch->fam;
        size_t i;

        ltrr_strbuf_puts(sb, fam->name);
        ltrr_strbuf_puts(sb, suffix);
        if (fam->label_cnt || le)
                ltrr_strbuf_putc(sb, '{');
        for (i = 0; i < fam->label_cnt; i++) {
                ltrr_strbuf_printf(sb, "%s%s=\"", i ? "," : "", fam->labels[i]);
                render_escaped(sb, ch->values[i], 1);
                ltrr_strbuf_putc(sb, '"');
        }
        if (le) {
                ltrr_strbuf_puts(sb, fam->label_cnt ? ",le=\"" : "le=\"");
                render_double(sb, *le);
                ltrr_strbuf_putc(sb, '"');
        }
        if (fam->label_cnt || le)
                ltrr_strbuf_putc(sb, '}');
        ltrr_strbuf_putc(sb, ' ');
}

/* Appends the _bucket series (cumulative), _sum and _count of @p ch. */
static void render_hist(ltrr_strbuf_t *sb, const ltrr_metrics_child_t *ch)
{
        const ltrr_metrics_family_t *fam = ch->fam;
        const double inf = INFINITY;
        uint64_t cum = 0;
        size_t i;

        for (i = 0; i <= fam->n_bounds; i++) {
                cum +=
                    atomic_load_explicit(&ch->buckets[i], memory_order_relaxed);
                render_series(sb, ch, "_bucket",
                              i < fam->n_bounds ? &fam->bounds[i] : &inf);
                ltrr_strbuf_printf(sb, "%llu\n", (unsigned long long)cum);
        }
        render_series(sb, ch, "_sum", NULL);
        render_double(sb, ltrr_metrics_hist_sum(ch));
        ltrr_strbuf_putc(sb, '\n');
        render_series(sb, ch, "_count", NULL);
        ltrr_strbuf_printf(sb, "%llu\n", (unsigned long long)cum);
}

static void render_child(ltrr_strbuf_t *sb, const ltrr_metrics_child_t *ch)
{
        switch (ch->fam->type) {
        case LTRR_METRICS_COUNTER:
                render_series(sb, ch, "", NULL);
                ltrr_strbuf_printf(
                    sb, "%llu\n",
                    (unsigned long long)ltrr_metrics_counter_value(ch));
                break;
        case LTRR_METRICS_GAUGE:
                render_series(sb, ch, "", NULL);
                render_double(sb, ltrr_metrics_gauge_value(ch));
                ltrr_strbuf_putc(sb, '\n');
                break;
        case LTRR_METRICS_HISTOGRAM:
                render_hist(sb, ch);
                break;
        }
}

static void render_family(ltrr_strbuf_t *sb, const ltrr_metrics_family_t *fam)
{
        static const char *const type_names[] = {"", "counter", "gauge",
                                                 "histogram"};
        size_t n = atomic_load_explicit(&fam->child_cnt, memory_order_acquire);
        ltrr_metrics_child_t *ovf =
            atomic_load_explicit(&fam->overflow, memory_order_acquire);
        size_t i;

        if (n == 0 && !ovf)
                return;
        ltrr_strbuf_printf(sb, "# HELP %s ", fam->name);
        render_escaped(sb, fam->help, 0);
        ltrr_strbuf_printf(sb, "\n# TYPE %s %s\n", fam->name,
                           type_names[fam->type]);
        for (i = 0; i < n; i++)
                render_child(sb, fam->children[i]);
        if (ovf)
                render_child(sb, ovf);
}

ltrr_err_t ltrr_metrics_render(ltrr_metrics_t *reg, ltrr_strbuf_t *sb)
{
        size_t i;

        if (!reg || !sb)
                return LTRR_ERR_INVALID_ARG;
        pthread_mutex_lock(&reg->lock);
        for (i = 0; i < reg->fam_cnt; i++)
                render_family(sb, reg->fams[i]);
        pthread_mutex_unlock(&reg->lock);
        return ltrr_strbuf_err(sb);
}
