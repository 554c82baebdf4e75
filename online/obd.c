/*
 * ltrr - Open Bandit Dataset reader, Bernoulli-TS prior and target
 * policies, and the per-(item, position) reward model.
 */
#include "obd.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define AFFINITY_PREFIX "user-item_affinity_"

/* Log columns located in the header. */
enum { COL_ITEM, COL_POS, COL_CLICK, COL_PROP, COL__CNT };

static const char *const col_names[COL__CNT] = {
        "item_id", "position", "click", "propensity_score"};

struct ltrr_obd_log_s {
        ltrr_obd_row_t *rows; /* cnt rows in use */
        size_t cnt;           /* rows kept */
        size_t size;          /* rows allocated */
        size_t n_items;       /* declared by the header, else max id + 1 */
        size_t n_positions;   /* largest position seen */
        uint64_t clicks;      /* clicked rows */
};

struct ltrr_obd_prior_s {
        size_t n_items; /* items 0..n_items-1 */
        double *alpha;  /* n_items Beta alphas */
        double *beta;   /* n_items Beta betas */
};

struct ltrr_obd_dist_s {
        size_t n_items;     /* actions */
        size_t n_positions; /* slots */
        double *p;          /* p[pos * n_items + item] */
};

/* Header layout while reading. */
struct obd_header {
        int col[COL__CNT]; /* field index of each needed column */
        int last;          /* largest of col[] */
        size_t declared;   /* affinity columns, 0 if none */
};

/* --- log ---------------------------------------------------------------- */

ltrr_obd_log_t *ltrr_obd_log_new(char *errstr, size_t errstr_size)
{
        ltrr_obd_log_t *log = calloc(1, sizeof(*log));

        if (!log)
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                          "cannot allocate log");
        return log;
}

void ltrr_obd_log_destroy(ltrr_obd_log_t *log)
{
        if (!log)
                return;
        free(log->rows);
        free(log);
}

/* Cuts @line at commas in place; stores up to @max field starts. Returns
 * the number of fields. */
static int split_fields(char *line, char **fields, int max)
{
        int n = 0;
        char *p = line;

        for (;;) {
                if (n < max)
                        fields[n] = p;
                n++;
                if (!(p = strchr(p, ',')))
                        return n;
                *p++ = '\0';
        }
}

/* Finds the needed columns in the header line. */
static ltrr_err_t parse_header(char *line, struct obd_header *h,
                               char *errstr, size_t errstr_size)
{
        char *fields[LTRR_OBD_ITEMS_MAX + 64];
        int n, i, c, max = (int)(sizeof(fields) / sizeof(fields[0]));

        memset(h, 0, sizeof(*h));
        for (c = 0; c < COL__CNT; c++)
                h->col[c] = -1;
        n = split_fields(line, fields, max);
        for (i = 0; i < n && i < max; i++) {
                for (c = 0; c < COL__CNT; c++)
                        if (!strcmp(fields[i], col_names[c]))
                                h->col[c] = i;
                if (!strncmp(fields[i], AFFINITY_PREFIX,
                             strlen(AFFINITY_PREFIX)))
                        h->declared++;
        }
        for (c = 0; c < COL__CNT; c++) {
                if (h->col[c] < 0)
                        return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                         "line 1: header has no column %s",
                                         col_names[c]);
                if (h->col[c] > h->last)
                        h->last = h->col[c];
        }
        if (h->declared > LTRR_OBD_ITEMS_MAX)
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "line 1: %zu items above %d", h->declared,
                                 LTRR_OBD_ITEMS_MAX);
        return LTRR_OK;
}

/* Parses a whole field as an unsigned integer no larger than @max. */
static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
        char *end;

        if (*s < '0' || *s > '9')
                return -1;
        errno = 0;
        *out = strtoul(s, &end, 10);
        return (errno || *end || *out > max) ? -1 : 0;
}

/* Parses one data line into @row; on failure writes the reason. */
static int parse_row(char *line, const struct obd_header *h,
                     ltrr_obd_row_t *row, char *why, size_t why_size)
{
        char *fields[LTRR_OBD_ITEMS_MAX + 64], *end;
        unsigned long item, pos, click;
        size_t item_max = h->declared ? h->declared : LTRR_OBD_ITEMS_MAX;
        int n = split_fields(line, fields, h->last + 1);

        if (n <= h->last)
                return ltrr_errf(-1, why, why_size, "%d fields, need %d", n,
                                 h->last + 1);
        if (parse_uint(fields[h->col[COL_ITEM]], item_max - 1, &item))
                return ltrr_errf(-1, why, why_size, "item_id '%s' invalid",
                                 fields[h->col[COL_ITEM]]);
        if (parse_uint(fields[h->col[COL_POS]], LTRR_OBD_POSITIONS_MAX, &pos) ||
            pos < 1)
                return ltrr_errf(-1, why, why_size, "position '%s' invalid",
                                 fields[h->col[COL_POS]]);
        if (parse_uint(fields[h->col[COL_CLICK]], 1, &click))
                return ltrr_errf(-1, why, why_size, "click '%s' not 0 or 1",
                                 fields[h->col[COL_CLICK]]);
        errno = 0;
        row->propensity = strtod(fields[h->col[COL_PROP]], &end);
        if (errno || *end || end == fields[h->col[COL_PROP]] ||
            !(row->propensity > 0.0 && row->propensity <= 1.0))
                return ltrr_errf(-1, why, why_size,
                                 "propensity_score '%s' not in (0, 1]",
                                 fields[h->col[COL_PROP]]);
        row->item = (uint32_t)item;
        row->position = (uint16_t)(pos - 1);
        row->click = (uint8_t)click;
        return 0;
}

/* Appends @row, growing the array geometrically up to the bound. */
static ltrr_err_t log_push(ltrr_obd_log_t *log, const ltrr_obd_row_t *row,
                           char *errstr, size_t errstr_size)
{
        if (log->cnt == log->size) {
                size_t nsize = log->size ? log->size * 2 : 1024;
                ltrr_obd_row_t *nrows;

                if (log->cnt >= LTRR_OBD_ROWS_MAX)
                        return ltrr_errf(LTRR_ERR_NOSPACE, errstr,
                                         errstr_size, "more than %zu rows",
                                         LTRR_OBD_ROWS_MAX);
                if (nsize > LTRR_OBD_ROWS_MAX)
                        nsize = LTRR_OBD_ROWS_MAX;
                if (!(nrows = realloc(log->rows, nsize * sizeof(*nrows))))
                        return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                         "cannot grow log to %zu rows", nsize);
                log->rows = nrows;
                log->size = nsize;
        }
        log->rows[log->cnt++] = *row;
        if ((size_t)row->item + 1 > log->n_items)
                log->n_items = (size_t)row->item + 1;
        if ((size_t)row->position + 1 > log->n_positions)
                log->n_positions = (size_t)row->position + 1;
        log->clicks += row->click;
        return LTRR_OK;
}

/* Reads one line into @buf. Returns its length without the line end, -1 at
 * end of input, or -2 for a line longer than the buffer (the rest of the
 * line is consumed). */
static long read_line(FILE *fp, char *buf, size_t size)
{
        size_t len;
        int c;

        if (!fgets(buf, (int)size, fp))
                return -1;
        len = strlen(buf);
        if (len > 0 && buf[len - 1] == '\n') {
                buf[--len] = '\0';
        } else if (len + 1 == size) {
                while ((c = fgetc(fp)) != EOF && c != '\n')
                        ;
                return -2;
        }
        if (len > 0 && buf[len - 1] == '\r')
                buf[--len] = '\0';
        return (long)len;
}

/* Counts a bad row; records the first. Fails once more than @max_bad. */
static ltrr_err_t note_bad(ltrr_obd_stats_t *st, uint64_t max_bad,
                           const char *why, char *errstr, size_t errstr_size)
{
        st->bad++;
        if (!st->first_bad_line) {
                st->first_bad_line = st->lines;
                snprintf(st->first_bad, sizeof(st->first_bad), "%s", why);
        }
        if (st->bad <= max_bad)
                return LTRR_OK;
        return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                         "line %llu: %s (%llu bad rows, %llu allowed)",
                         (unsigned long long)st->lines, why,
                         (unsigned long long)st->bad,
                         (unsigned long long)max_bad);
}

/* Reads every data line after the header. */
static ltrr_err_t read_rows(ltrr_obd_log_t *log, FILE *fp, char *buf,
                            const struct obd_header *h, uint64_t max_bad,
                            ltrr_obd_stats_t *st, char *errstr,
                            size_t errstr_size)
{
        char why[LTRR_OBD_REASON_MAX];
        ltrr_obd_row_t row;
        ltrr_err_t err;
        long len;

        while ((len = read_line(fp, buf, LTRR_OBD_LINE_MAX)) != -1) {
                st->lines++;
                if (len == 0)
                        continue;
                if (len == -2)
                        snprintf(why, sizeof(why), "line longer than %d bytes",
                                 LTRR_OBD_LINE_MAX - 1);
                if (len == -2 || parse_row(buf, h, &row, why, sizeof(why))) {
                        if ((err = note_bad(st, max_bad, why, errstr,
                                            errstr_size)))
                                return err;
                        continue;
                }
                if ((err = log_push(log, &row, errstr, errstr_size)))
                        return err;
                st->rows++;
        }
        if (ferror(fp))
                return ltrr_errf(LTRR_ERR_IO, errstr, errstr_size,
                                 "read error after line %llu",
                                 (unsigned long long)st->lines);
        return LTRR_OK;
}

ltrr_err_t ltrr_obd_log_read(ltrr_obd_log_t *log, FILE *fp, uint64_t max_bad,
                             ltrr_obd_stats_t *st, char *errstr,
                             size_t errstr_size)
{
        struct obd_header h;
        char *buf = NULL;
        ltrr_err_t err;

        memset(st, 0, sizeof(*st));
        if (log->cnt)
                return ltrr_errf(LTRR_ERR_STATE, errstr, errstr_size,
                                 "log already holds rows");
        if (!(buf = malloc(LTRR_OBD_LINE_MAX)))
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "cannot allocate line buffer");
        if (read_line(fp, buf, LTRR_OBD_LINE_MAX) < 0) {
                err = ltrr_errf(ferror(fp) ? LTRR_ERR_IO : LTRR_ERR_PARSE,
                                errstr, errstr_size,
                                "line 1: missing or overlong header");
                goto done;
        }
        st->lines = 1;
        if ((err = parse_header(buf, &h, errstr, errstr_size)))
                goto done;
        if ((err = read_rows(log, fp, buf, &h, max_bad, st, errstr,
                             errstr_size)))
                goto done;
        if (log->cnt == 0) {
                err = ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                "no valid rows in %llu lines",
                                (unsigned long long)st->lines);
                goto done;
        }
        if (h.declared)
                log->n_items = h.declared;
done:
        free(buf);
        return err;
}

size_t ltrr_obd_log_count(const ltrr_obd_log_t *log)
{
        return log->cnt;
}

const ltrr_obd_row_t *ltrr_obd_log_row(const ltrr_obd_log_t *log, size_t i)
{
        return i < log->cnt ? &log->rows[i] : NULL;
}

size_t ltrr_obd_log_items(const ltrr_obd_log_t *log)
{
        return log->n_items;
}

size_t ltrr_obd_log_positions(const ltrr_obd_log_t *log)
{
        return log->n_positions;
}

double ltrr_obd_log_ctr(const ltrr_obd_log_t *log)
{
        return log->cnt ? (double)log->clicks / (double)log->cnt : 0.0;
}

/* --- prior -------------------------------------------------------------- */

/* Parses "item<TAB>alpha<TAB>beta" into the prior, checking each value. */
static int prior_line(ltrr_obd_prior_t *prior, char *line, char *why,
                      size_t why_size)
{
        unsigned long item;
        double a, b;
        char *tab1 = strchr(line, '\t'), *tab2, *end1, *end2;

        if (!tab1 || !(tab2 = strchr(tab1 + 1, '\t')))
                return ltrr_errf(-1, why, why_size, "need 3 tab fields");
        *tab1 = *tab2 = '\0';
        if (parse_uint(line, LTRR_OBD_ITEMS_MAX - 1, &item))
                return ltrr_errf(-1, why, why_size, "item_id '%s' invalid",
                                 line);
        a = strtod(tab1 + 1, &end1);
        b = strtod(tab2 + 1, &end2);
        if (*end1 || *end2 || end1 == tab1 + 1 || end2 == tab2 + 1 ||
            !(a > 0.0 && isfinite(a)) || !(b > 0.0 && isfinite(b)))
                return ltrr_errf(-1, why, why_size,
                                 "alpha and beta must be finite and > 0");
        if (prior->alpha[item] > 0.0)
                return ltrr_errf(-1, why, why_size, "item %lu repeated",
                                 item);
        prior->alpha[item] = a;
        prior->beta[item] = b;
        if (item + 1 > prior->n_items)
                prior->n_items = item + 1;
        return 0;
}

/* Reads the rows after the header; checks that no id is missing. */
static ltrr_err_t prior_read(ltrr_obd_prior_t *prior, FILE *fp, char *buf,
                             char *errstr, size_t errstr_size)
{
        char why[LTRR_OBD_REASON_MAX];
        unsigned long long line = 1;
        size_t i;
        long len;

        if (read_line(fp, buf, LTRR_OBD_LINE_MAX) < 0)
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "line 1: missing header");
        while ((len = read_line(fp, buf, LTRR_OBD_LINE_MAX)) != -1) {
                line++;
                if (len == 0)
                        continue;
                if (len == -2 || prior_line(prior, buf, why, sizeof(why)))
                        return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                         "line %llu: %s", line,
                                         len == -2 ? "line too long" : why);
        }
        if (prior->n_items == 0)
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "prior has no items");
        for (i = 0; i < prior->n_items; i++)
                if (prior->alpha[i] == 0.0)
                        return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                         "item %zu missing from prior", i);
        return LTRR_OK;
}

ltrr_obd_prior_t *ltrr_obd_prior_new(FILE *fp, char *errstr,
                                     size_t errstr_size)
{
        ltrr_obd_prior_t *prior = calloc(1, sizeof(*prior));
        char *buf = NULL;

        if (!prior || !(buf = malloc(LTRR_OBD_LINE_MAX)) ||
            !(prior->alpha = calloc(LTRR_OBD_ITEMS_MAX, sizeof(double))) ||
            !(prior->beta = calloc(LTRR_OBD_ITEMS_MAX, sizeof(double)))) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                          "cannot allocate prior");
                goto err;
        }
        if (prior_read(prior, fp, buf, errstr, errstr_size))
                goto err;
        free(buf);
        return prior;
err:
        free(buf);
        ltrr_obd_prior_destroy(prior);
        return NULL;
}

void ltrr_obd_prior_destroy(ltrr_obd_prior_t *prior)
{
        if (!prior)
                return;
        free(prior->alpha);
        free(prior->beta);
        free(prior);
}

size_t ltrr_obd_prior_items(const ltrr_obd_prior_t *prior)
{
        return prior->n_items;
}

/* --- target policies ---------------------------------------------------- */

ltrr_obd_dist_t *ltrr_obd_dist_new(size_t n_items, size_t n_positions,
                                   char *errstr, size_t errstr_size)
{
        ltrr_obd_dist_t *d;

        if (n_items == 0 || n_items > LTRR_OBD_ITEMS_MAX || n_positions == 0 ||
            n_positions > LTRR_OBD_POSITIONS_MAX || n_positions > n_items) {
                ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                          "%zu items, %zu positions: out of bounds", n_items,
                          n_positions);
                return NULL;
        }
        if (!(d = calloc(1, sizeof(*d))) ||
            !(d->p = malloc(n_items * n_positions * sizeof(double)))) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                          "cannot allocate distribution");
                ltrr_obd_dist_destroy(d);
                return NULL;
        }
        d->n_items = n_items;
        d->n_positions = n_positions;
        ltrr_obd_dist_uniform(d);
        return d;
}

void ltrr_obd_dist_destroy(ltrr_obd_dist_t *d)
{
        if (!d)
                return;
        free(d->p);
        free(d);
}

void ltrr_obd_dist_uniform(ltrr_obd_dist_t *d)
{
        size_t i;

        for (i = 0; i < d->n_items * d->n_positions; i++)
                d->p[i] = 1.0 / (double)d->n_items;
}

double ltrr_obd_dist_get(const ltrr_obd_dist_t *d, size_t item, size_t pos)
{
        if (item >= d->n_items || pos >= d->n_positions)
                return 0.0;
        return d->p[pos * d->n_items + item];
}

/* One Thompson draw: the ids of the top @k samples, best first. */
static void bts_draw(const ltrr_obd_prior_t *prior, ltrr_rng_t *rng,
                     double *theta, size_t k, size_t *top)
{
        size_t i, j, n = prior->n_items;

        for (i = 0; i < n; i++) {
                double x = ltrr_rng_gamma(rng, prior->alpha[i]);
                double y = ltrr_rng_gamma(rng, prior->beta[i]);

                theta[i] = x / (x + y);
        }
        for (j = 0; j < k; j++) {
                size_t best = n;

                for (i = 0; i < n; i++)
                        if (theta[i] >= 0.0 &&
                            (best == n || theta[i] > theta[best]))
                                best = i;
                top[j] = best;
                theta[best] = -1.0; /* taken */
        }
}

ltrr_err_t ltrr_obd_dist_bts(ltrr_obd_dist_t *d,
                             const ltrr_obd_prior_t *prior, uint32_t n_sim,
                             uint64_t seed, char *errstr, size_t errstr_size)
{
        size_t top[LTRR_OBD_POSITIONS_MAX], i, pos;
        ltrr_rng_t rng;
        double *theta;
        uint32_t s;

        if (prior->n_items != d->n_items || n_sim == 0)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "prior has %zu items, log %zu; %u draws",
                                 prior->n_items, d->n_items, n_sim);
        if (!(theta = malloc(d->n_items * sizeof(*theta))))
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "cannot allocate draws");
        memset(d->p, 0, d->n_items * d->n_positions * sizeof(double));
        ltrr_rng_seed(&rng, seed);
        for (s = 0; s < n_sim; s++) {
                bts_draw(prior, &rng, theta, d->n_positions, top);
                for (pos = 0; pos < d->n_positions; pos++)
                        d->p[pos * d->n_items + top[pos]] += 1.0;
        }
        for (i = 0; i < d->n_items * d->n_positions; i++)
                d->p[i] /= (double)n_sim;
        free(theta);
        return LTRR_OK;
}

/* --- reward model and OPE rows ------------------------------------------ */

void ltrr_obd_model_conf_init(ltrr_obd_model_conf_t *mc)
{
        mc->folds = LTRR_OBD_FOLDS_DEFAULT;
        mc->smoothing = LTRR_OBD_SMOOTHING_DEFAULT;
}

/* Sum of @counts[fold][idx] over every fold but @k (over all folds when
 * there is only one); @cell is the stride between folds. */
static double fold_sum(const double *counts, size_t folds, size_t k,
                       size_t cell, size_t idx)
{
        double sum = 0;
        size_t f;

        for (f = 0; f < folds; f++)
                if (folds == 1 || f != k)
                        sum += counts[f * cell + idx];
        return sum;
}

/* Fills q[pos * n_items + item] with the model that leaves out fold @k,
 * from the per-fold counts shows[] and clicks[] laid out
 * [fold][pos][item]: each cell's click rate shrunk by @s pseudo-shows
 * towards its position's mean. */
static void model_fit(const double *shows, const double *clicks,
                      size_t folds, size_t k, size_t n_pos, size_t n_items,
                      double s, double *q)
{
        size_t cell = n_pos * n_items, pos, i, at;

        for (pos = 0; pos < n_pos; pos++) {
                double sn = 0, sc = 0, mean;

                for (i = 0, at = pos * n_items; i < n_items; i++, at++) {
                        sn += fold_sum(shows, folds, k, cell, at);
                        sc += fold_sum(clicks, folds, k, cell, at);
                }
                mean = sn > 0 ? sc / sn : 0.0;
                for (i = 0, at = pos * n_items; i < n_items; i++, at++) {
                        double n = fold_sum(shows, folds, k, cell, at);
                        double c = fold_sum(clicks, folds, k, cell, at);

                        q[at] = (n + s) > 0 ? (c + s * mean) / (n + s) : mean;
                }
        }
}

static ltrr_err_t fill_check(const ltrr_obd_log_t *log,
                             const ltrr_obd_dist_t *d,
                             const ltrr_obd_model_conf_t *mc, char *errstr,
                             size_t errstr_size)
{
        if (d->n_items != log->n_items || log->n_positions > d->n_positions)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "target covers %zu items x %zu positions, "
                                 "log has %zu x %zu", d->n_items,
                                 d->n_positions, log->n_items,
                                 log->n_positions);
        if (mc->folds < 1 || mc->folds > LTRR_OBD_FOLDS_MAX ||
            !(mc->smoothing >= 0.0 && isfinite(mc->smoothing)))
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "folds %u not in [1, %d] or smoothing %g "
                                 "negative", mc->folds, LTRR_OBD_FOLDS_MAX,
                                 mc->smoothing);
        return LTRR_OK;
}

/* Adds the rows of fold @k given that fold's model @q. */
static ltrr_err_t fill_fold(const ltrr_obd_log_t *log,
                            const ltrr_obd_dist_t *d, size_t folds, size_t k,
                            const double *q, ltrr_ope_t *ope, char *errstr,
                            size_t errstr_size)
{
        size_t i, I = d->n_items;
        ltrr_ope_row_t row;
        ltrr_err_t err;

        for (i = k; i < log->cnt; i += folds) {
                const ltrr_obd_row_t *r = &log->rows[i];
                size_t off = (size_t)r->position * I;

                row.reward = r->click;
                row.propensity = r->propensity;
                if ((err = ltrr_ope_row_model(&row, d->p + off, q + off, I,
                                              r->item, errstr, errstr_size)) ||
                    (err = ltrr_ope_add(ope, &row, errstr, errstr_size)))
                        return err;
        }
        return LTRR_OK;
}

ltrr_err_t ltrr_obd_fill(const ltrr_obd_log_t *log, const ltrr_obd_dist_t *d,
                         const ltrr_obd_model_conf_t *mc, ltrr_ope_t *ope,
                         char *errstr, size_t errstr_size)
{
        ltrr_obd_model_conf_t defaults;
        double *shows = NULL, *clicks = NULL, *q = NULL;
        size_t cell = d->n_positions * d->n_items, k, i;
        ltrr_err_t err;

        if (!mc) {
                ltrr_obd_model_conf_init(&defaults);
                mc = &defaults;
        }
        if ((err = fill_check(log, d, mc, errstr, errstr_size)))
                return err;
        if (!(shows = calloc(mc->folds * cell, sizeof(double))) ||
            !(clicks = calloc(mc->folds * cell, sizeof(double))) ||
            !(q = malloc(cell * sizeof(double)))) {
                err = ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                "cannot allocate reward model");
                goto done;
        }
        for (i = 0; i < log->cnt; i++) {
                const ltrr_obd_row_t *r = &log->rows[i];
                size_t at = (i % mc->folds) * cell +
                            (size_t)r->position * d->n_items + r->item;

                shows[at] += 1.0;
                clicks[at] += r->click;
        }
        for (k = 0; k < mc->folds; k++) {
                model_fit(shows, clicks, mc->folds, k, d->n_positions,
                          d->n_items, mc->smoothing, q);
                if ((err = fill_fold(log, d, mc->folds, k, q, ope, errstr,
                                     errstr_size)))
                        goto done;
        }
done:
        free(q);
        free(shows);
        free(clicks);
        return err;
}
