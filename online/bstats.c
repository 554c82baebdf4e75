/*
 * ltrr - bandit sufficient statistics: layout, deltas, Redis fields.
 */
#include "bstats.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Slots of a cell, in order: n, s, q, c, b[dim], A[dim(dim+1)/2]. */
enum { SLOT_N = 0, SLOT_S = 1, SLOT_Q = 2, SLOT_C = 3, SLOT_B = 4 };

struct ltrr_bstats_s {
        ltrr_bandit_space_t space; /* layout */
        double half_life;          /* seconds, 0 = no decay */
        double half_life0;         /* the one given to _new() */
        double epoch;              /* e: values are scaled to it */
        double version;            /* v: observations applied */
        size_t tri;                /* dim (dim + 1) / 2 */
        size_t stride;             /* doubles per cell */
        double *vals;              /* n_arms * n_budgets * stride */
        size_t n_sets;             /* arm sets with data */
        uint64_t set_mask[LTRR_BSTATS_SETS_MAX]; /* their masks */
        double set_vals[LTRR_BSTATS_SETS_MAX][2]; /* their n, s */
};

/* Offset of A[i][j] (i <= j) inside the packed upper triangle. */
static size_t tri_index(size_t dim, size_t i, size_t j)
{
        return i * dim - i * (i - 1) / 2 + (j - i);
}

static double *cell_ptr(const ltrr_bstats_t *st, size_t arm, size_t bi)
{
        return st->vals + (arm * st->space.n_budgets + bi) * st->stride;
}

ltrr_bstats_t *ltrr_bstats_new(const ltrr_bandit_space_t *sp,
                               double half_life, double epoch, char *errstr,
                               size_t errstr_size)
{
        ltrr_bstats_t *st;
        size_t cells;

        if (ltrr_bandit_space_check(sp, errstr, errstr_size) != LTRR_OK)
                return NULL;
        if (!(half_life >= 0.0) || !isfinite(half_life) || !isfinite(epoch)) {
                ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                          "half_life must be finite and >= 0, epoch finite");
                return NULL;
        }
        st = calloc(1, sizeof(*st));
        if (!st)
                goto nomem;
        st->space = *sp;
        st->half_life = st->half_life0 = half_life;
        st->epoch = epoch;
        st->tri = sp->dim * (sp->dim + 1) / 2;
        st->stride = SLOT_B + sp->dim + st->tri;
        cells = sp->n_arms * sp->n_budgets;
        st->vals = calloc(cells * st->stride, sizeof(double));
        if (!st->vals)
                goto nomem;
        return st;
nomem:
        ltrr_bstats_destroy(st);
        ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "bstats: out of memory");
        return NULL;
}

void ltrr_bstats_destroy(ltrr_bstats_t *st)
{
        if (!st)
                return;
        free(st->vals);
        free(st);
}

void ltrr_bstats_reset(ltrr_bstats_t *st)
{
        size_t cells = st->space.n_arms * st->space.n_budgets;

        memset(st->vals, 0, cells * st->stride * sizeof(double));
        st->version = 0.0;
        st->n_sets = 0;
        st->half_life = st->half_life0;
}

const ltrr_bandit_space_t *ltrr_bstats_space(const ltrr_bstats_t *st)
{
        return &st->space;
}

double ltrr_bstats_epoch(const ltrr_bstats_t *st)
{
        return st->epoch;
}

uint64_t ltrr_bstats_version(const ltrr_bstats_t *st)
{
        return st->version > 0.0 ? (uint64_t)st->version : 0;
}

double ltrr_bstats_scale(const ltrr_bstats_t *st, double t)
{
        if (st->half_life <= 0.0)
                return 1.0;
        return exp2((t - st->epoch) / st->half_life);
}

/* Namespaces are restricted so a key never needs quoting and the hash
 * tag braces cannot be forged. */
static int ns_valid(const char *ns)
{
        const char *p;

        if (!ns || !*ns)
                return 0;
        for (p = ns; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || strchr("_.:-", *p)))
                        return 0;
        return 1;
}

ltrr_err_t ltrr_bstats_key(char *buf, size_t size, const char *ns,
                           char *errstr, size_t errstr_size)
{
        int len;

        if (!ns_valid(ns))
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "bad bandit key namespace");
        len = snprintf(buf, size, "ltrr:bandit:{%s}:v1", ns);
        if (len < 0 || (size_t)len >= size)
                return ltrr_errf(LTRR_ERR_NOSPACE, errstr, errstr_size,
                                 "bandit key longer than %zu bytes", size);
        return LTRR_OK;
}

size_t ltrr_bstats_delta_count(const ltrr_bstats_t *st)
{
        return 5 + st->space.dim + st->tri;
}

/* Checks an observation against the layout. */
static ltrr_err_t obs_check(const ltrr_bstats_t *st,
                            const ltrr_bstats_obs_t *obs, char *errstr,
                            size_t errstr_size)
{
        size_t i;

        if (obs->arm >= st->space.n_arms ||
            obs->budget_idx >= st->space.n_budgets)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "arm %zu / budget level %zu out of range",
                                 obs->arm, obs->budget_idx);
        if (!(obs->reward >= -1.0 && obs->reward <= 1.0) || !isfinite(obs->t))
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "reward must be in [-1, 1], time finite");
        if (st->space.dim > 0 && !obs->x)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "context vector missing");
        for (i = 0; i < st->space.dim; i++)
                if (!isfinite(obs->x[i]))
                        return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                         "context component %zu not finite",
                                         i);
        return LTRR_OK;
}

/* Appends one delta; the caller has checked the capacity. */
static void delta_put(ltrr_bstats_delta_t *d, int decays, double value,
                      const char *fmt, const char *arm, unsigned budget,
                      size_t i, size_t j)
{
        snprintf(d->field, sizeof(d->field), fmt, arm, budget, i, j);
        d->value = value;
        d->decays = decays;
}

ltrr_err_t ltrr_bstats_deltas(const ltrr_bstats_t *st,
                              const ltrr_bstats_obs_t *obs,
                              ltrr_bstats_delta_t *out, size_t cap,
                              size_t *n_out, char *errstr, size_t errstr_size)
{
        const char *arm;
        unsigned bud;
        double r = obs->reward, xi;
        size_t i, j, k = 0, dim = st->space.dim;
        ltrr_err_t err = obs_check(st, obs, errstr, errstr_size);

        if (err != LTRR_OK)
                return err;
        if (cap < ltrr_bstats_delta_count(st))
                return ltrr_errf(LTRR_ERR_NOSPACE, errstr, errstr_size,
                                 "need %zu deltas, room for %zu",
                                 ltrr_bstats_delta_count(st), cap);
        arm = st->space.arm_names[obs->arm];
        bud = st->space.budgets[obs->budget_idx];
        delta_put(&out[k++], 1, 1.0, "n:%s:%u", arm, bud, 0, 0);
        delta_put(&out[k++], 1, r, "s:%s:%u", arm, bud, 0, 0);
        delta_put(&out[k++], 1, r * r, "q:%s:%u", arm, bud, 0, 0);
        delta_put(&out[k++], 0, 1.0, "c:%s:%u", arm, bud, 0, 0);
        for (i = 0; i < dim; i++) {
                xi = obs->x[i];
                delta_put(&out[k++], 1, r * xi, "b:%s:%u:%zu", arm, bud, i, 0);
                for (j = i; j < dim; j++)
                        delta_put(&out[k++], 1, xi * (double)obs->x[j],
                                  "A:%s:%u:%zu:%zu", arm, bud, i, j);
        }
        snprintf(out[k].field, sizeof(out[k].field), "v");
        out[k].value = 1.0;
        out[k++].decays = 0;
        *n_out = k;
        return LTRR_OK;
}

/* Parses a decimal unsigned number that fills [s, end) exactly. */
static int parse_uint(const char *s, size_t len, unsigned long *out)
{
        unsigned long v = 0;
        size_t i;

        if (len == 0 || len > 9)
                return -1;
        for (i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                v = v * 10 + (unsigned long)(s[i] - '0');
        }
        *out = v;
        return 0;
}

#define FIELD_MAX_PARTS 5

/* Splits a field at ':' into at most FIELD_MAX_PARTS parts. Returns the
 * part count, or -1 when there are more parts or an empty part. */
static int field_split(const char *f, const char *part[], size_t len[])
{
        int n = 0;
        const char *p = f, *c;

        for (;;) {
                if (n == FIELD_MAX_PARTS)
                        return -1;
                c = strchr(p, ':');
                part[n] = p;
                len[n] = c ? (size_t)(c - p) : strlen(p);
                if (len[n] == 0)
                        return -1;
                n++;
                if (!c)
                        return n;
                p = c + 1;
        }
}

/* Finds the cell named by an arm part and a budget part. Returns the
 * cell, NULL with *skip = 1 for a well-formed name outside the space,
 * NULL with *skip = 0 for a malformed one. */
static double *field_cell(const ltrr_bstats_t *st, const char *arm,
                          size_t arm_len, const char *bud, size_t bud_len,
                          int *skip)
{
        char name[LTRR_BANDIT_ARM_NAME_MAX];
        unsigned long b;
        int ai, bi;

        *skip = 0;
        if (parse_uint(bud, bud_len, &b) != 0)
                return NULL;
        *skip = 1;
        if (arm_len >= sizeof(name))
                return NULL;
        memcpy(name, arm, arm_len);
        name[arm_len] = '\0';
        ai = ltrr_bandit_space_arm(&st->space, name);
        bi = ltrr_bandit_space_budget(&st->space, (unsigned)b);
        if (ai < 0 || bi < 0)
                return NULL;
        *skip = 0;
        return cell_ptr(st, (size_t)ai, (size_t)bi);
}

uint64_t ltrr_bstats_set_id(const ltrr_bandit_space_t *sp, const int *lvl)
{
        size_t ord[LTRR_BANDIT_MAX_ARMS], n = 0, i, j, t;
        uint64_t h = UINT64_C(14695981039346656037);
        char pair[LTRR_BANDIT_ARM_NAME_MAX + 16];
        const char *c;

        for (i = 0; i < sp->n_arms; i++) {
                if (lvl[i] < 0 || (size_t)lvl[i] >= sp->n_budgets)
                        continue;
                for (j = n++; j > 0 && strcmp(sp->arm_names[ord[j - 1]],
                                              sp->arm_names[i]) > 0;
                     j--)
                        ord[j] = ord[j - 1];
                ord[j] = i;
        }
        if (!n)
                return 0;
        for (i = 0; i < n; i++) {
                t = ord[i];
                snprintf(pair, sizeof(pair), "%s:%u;", sp->arm_names[t],
                         sp->budgets[lvl[t]]);
                for (c = pair; *c; c++) {
                        h ^= (unsigned char)*c;
                        h *= UINT64_C(1099511628211);
                }
        }
        return h ? h : 1;
}

/* Index of @p set in the table, -1 when absent. */
static int set_find(const ltrr_bstats_t *st, uint64_t set)
{
        size_t i;

        for (i = 0; i < st->n_sets; i++)
                if (st->set_mask[i] == set)
                        return (int)i;
        return -1;
}

/* Resolves a set field ("n:@<hex>:0", "s:@<hex>:0"), adding the set to
 * the table when there is room. Same returns as field_slot(). */
static ltrr_err_t set_slot(ltrr_bstats_t *st, char kind, const char *hex,
                           size_t hex_len, const char *zero, size_t zero_len,
                           double **slot)
{
        uint64_t set = 0;
        size_t i;
        int k;

        if ((kind != 'n' && kind != 's') || hex_len == 0 || hex_len > 16 ||
            zero_len != 1 || zero[0] != '0')
                return LTRR_ERR_PARSE;
        for (i = 0; i < hex_len; i++) {
                char c = hex[i];
                int v = c >= '0' && c <= '9'   ? c - '0'
                        : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                               : -1;
                if (v < 0)
                        return LTRR_ERR_PARSE;
                set = set << 4 | (uint64_t)v;
        }
        if (!set)
                return LTRR_ERR_PARSE;
        if ((k = set_find(st, set)) < 0) {
                if (st->n_sets == LTRR_BSTATS_SETS_MAX)
                        return LTRR_ERR_UNKNOWN_KEY;
                k = (int)st->n_sets++;
                st->set_mask[k] = set;
                st->set_vals[k][0] = st->set_vals[k][1] = 0.0;
        }
        *slot = &st->set_vals[k][kind == 's'];
        return LTRR_OK;
}

/* Resolves a cell field ("n:..", "A:..", ...) to its slot. Returns
 * LTRR_OK, LTRR_ERR_UNKNOWN_KEY for a field outside the space, or
 * LTRR_ERR_PARSE. */
static ltrr_err_t field_slot(ltrr_bstats_t *st, const char *field,
                             double **slot)
{
        const char *part[FIELD_MAX_PARTS];
        size_t len[FIELD_MAX_PARTS], dim = st->space.dim;
        unsigned long i = 0, j = 0;
        int n = field_split(field, part, len), skip;
        double *cell;
        char kind;

        if (n < 3 || len[0] != 1)
                return LTRR_ERR_PARSE;
        kind = part[0][0];
        if (part[1][0] == '@')
                return n == 3 ? set_slot(st, kind, part[1] + 1, len[1] - 1,
                                         part[2], len[2], slot)
                              : LTRR_ERR_PARSE;
        if ((strchr("nsqc", kind) && n != 3) || (kind == 'b' && n != 4) ||
            (kind == 'A' && n != 5) || !strchr("nsqcbA", kind))
                return LTRR_ERR_PARSE;
        if ((n >= 4 && parse_uint(part[3], len[3], &i) != 0) ||
            (n == 5 && (parse_uint(part[4], len[4], &j) != 0 || j < i)))
                return LTRR_ERR_PARSE;
        cell = field_cell(st, part[1], len[1], part[2], len[2], &skip);
        if (!cell)
                return skip ? LTRR_ERR_UNKNOWN_KEY : LTRR_ERR_PARSE;
        if (i >= (dim ? dim : 1) || j >= (dim ? dim : 1) ||
            (n >= 4 && dim == 0))
                return LTRR_ERR_UNKNOWN_KEY;
        if (kind == 'b')
                *slot = cell + SLOT_B + i;
        else if (kind == 'A')
                *slot = cell + SLOT_B + dim + tri_index(dim, i, j);
        else
                *slot = cell + (kind == 'n'   ? SLOT_N
                                : kind == 's' ? SLOT_S
                                : kind == 'q' ? SLOT_Q
                                              : SLOT_C);
        return LTRR_OK;
}

ltrr_err_t ltrr_bstats_apply(ltrr_bstats_t *st, const ltrr_bstats_delta_t *d,
                             size_t n, double t, char *errstr,
                             size_t errstr_size)
{
        double scale = ltrr_bstats_scale(st, t), *slot;
        size_t k;

        for (k = 0; k < n; k++) {
                if (strcmp(d[k].field, "v") == 0) {
                        st->version += d[k].value;
                        continue;
                }
                if (field_slot(st, d[k].field, &slot) != LTRR_OK)
                        return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                         "bad delta field \"%.*s\"",
                                         LTRR_BSTATS_FIELD_MAX, d[k].field);
                *slot += d[k].decays ? d[k].value * scale : d[k].value;
        }
        return LTRR_OK;
}

ltrr_err_t ltrr_bstats_observe(ltrr_bstats_t *st, const ltrr_bstats_obs_t *obs,
                               char *errstr, size_t errstr_size)
{
        size_t i, j, dim = st->space.dim;
        double w, r = obs->reward, wxi, *cell, *b, *a;
        ltrr_err_t err = obs_check(st, obs, errstr, errstr_size);

        if (err != LTRR_OK)
                return err;
        w = ltrr_bstats_scale(st, obs->t);
        cell = cell_ptr(st, obs->arm, obs->budget_idx);
        cell[SLOT_N] += w;
        cell[SLOT_S] += r * w;
        cell[SLOT_Q] += (r * r) * w;
        cell[SLOT_C] += 1.0;
        b = cell + SLOT_B;
        a = b + dim;
        for (i = 0; i < dim; i++) {
                wxi = obs->x[i];
                b[i] += (r * wxi) * w;
                for (j = i; j < dim; j++)
                        *a++ += (wxi * (double)obs->x[j]) * w;
        }
        st->version += 1.0;
        return LTRR_OK;
}

/* Names the field of one slot of cell (arm, lvl). */
static void slot_field(const ltrr_bstats_t *st, size_t arm, size_t lvl,
                       size_t slot, char *buf, size_t size)
{
        const char *an = st->space.arm_names[arm];
        unsigned bud = st->space.budgets[lvl];
        size_t dim = st->space.dim, i = 0, t;

        if (slot < SLOT_B) {
                snprintf(buf, size, "%c:%s:%u", "nsqc"[slot], an, bud);
                return;
        }
        if (slot < SLOT_B + dim) {
                snprintf(buf, size, "b:%s:%u:%zu", an, bud, slot - SLOT_B);
                return;
        }
        t = slot - SLOT_B - dim; /* packed upper-triangle offset */
        while (t >= dim - i) {
                t -= dim - i;
                i++;
        }
        snprintf(buf, size, "A:%s:%u:%zu:%zu", an, bud, i, i + t);
}

/* Names field @p kind ('n' or 's') of arm set @p set. */
static void set_field(char *buf, size_t size, char kind, uint64_t set)
{
        snprintf(buf, size, "%c:@%" PRIx64 ":0", kind, set);
}

ltrr_err_t ltrr_bstats_export(const ltrr_bstats_t *st,
                              ltrr_bstats_delta_t *out, size_t cap,
                              size_t *n_out, char *errstr,
                              size_t errstr_size)
{
        size_t a, j, i, k = 0;
        const double *cell;

        for (a = 0; a < st->space.n_arms; a++)
                for (j = 0; j < st->space.n_budgets; j++) {
                        cell = cell_ptr(st, a, j);
                        for (i = 0; i < st->stride; i++) {
                                if (cell[i] == 0.0)
                                        continue;
                                if (k < cap) {
                                        slot_field(st, a, j, i, out[k].field,
                                                   sizeof(out[k].field));
                                        out[k].value = cell[i];
                                        out[k].decays = i != SLOT_C;
                                }
                                k++;
                        }
                }
        for (j = 0; j < st->n_sets; j++)
                for (i = 0; i < 2; i++) {
                        if (st->set_vals[j][i] == 0.0)
                                continue;
                        if (k < cap) {
                                set_field(out[k].field, sizeof(out[k].field),
                                          "ns"[i], st->set_mask[j]);
                                out[k].value = st->set_vals[j][i];
                                out[k].decays = 1;
                        }
                        k++;
                }
        if (st->version != 0.0 && k < cap) {
                snprintf(out[k].field, sizeof(out[k].field), "v");
                out[k].value = st->version;
                out[k].decays = 0;
        }
        k += st->version != 0.0;
        *n_out = k;
        if (k > cap)
                return ltrr_errf(LTRR_ERR_NOSPACE, errstr, errstr_size,
                                 "export needs %zu deltas, room for %zu", k,
                                 cap);
        return LTRR_OK;
}

/* Parses a whole string as a finite double. */
static int parse_double(const char *s, double *out)
{
        char *end;
        double v;

        if (!s || !*s)
                return -1;
        errno = 0;
        v = strtod(s, &end);
        if (*end != '\0' || errno == ERANGE || !isfinite(v))
                return -1;
        *out = v;
        return 0;
}

/* Stores one field/value pair of an HGETALL reply. */
static ltrr_err_t parse_pair(ltrr_bstats_t *st, const char *field,
                             const char *value, char *errstr,
                             size_t errstr_size)
{
        double v, *slot;
        ltrr_err_t err;

        if (!field || parse_double(value, &v) != 0)
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "field \"%.48s\": bad value",
                                 field ? field : "(null)");
        if (strcmp(field, "e") == 0) {
                st->epoch = v;
                return LTRR_OK;
        }
        if (strcmp(field, "v") == 0) {
                st->version = v;
                return LTRR_OK;
        }
        if (strcmp(field, "h") == 0) { /* the writer's half-life */
                if (!(v >= 0.0) || !isfinite(v))
                        return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                         "field \"h\": bad half-life");
                st->half_life = v;
                return LTRR_OK;
        }
        err = field_slot(st, field, &slot);
        if (err == LTRR_ERR_UNKNOWN_KEY)
                return LTRR_OK;
        if (err != LTRR_OK)
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "malformed field \"%.48s\"", field);
        *slot = v;
        return LTRR_OK;
}

ltrr_err_t ltrr_bstats_parse(ltrr_bstats_t *st, const char *const *fv,
                             size_t n_strings, char *errstr,
                             size_t errstr_size)
{
        ltrr_err_t err = LTRR_OK;
        size_t k;

        ltrr_bstats_reset(st);
        if (n_strings % 2 != 0) {
                err = ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                "odd number of strings (%zu)", n_strings);
                goto done;
        }
        for (k = 0; k < n_strings; k += 2) {
                err = parse_pair(st, fv[k], fv[k + 1], errstr, errstr_size);
                if (err != LTRR_OK)
                        goto done;
        }
done:
        if (err != LTRR_OK)
                ltrr_bstats_reset(st);
        return err;
}

void ltrr_bstats_rebase(ltrr_bstats_t *st, double epoch)
{
        size_t cells = st->space.n_arms * st->space.n_budgets, k, i;
        double f, *cell;

        if (st->half_life > 0.0) {
                f = exp2((st->epoch - epoch) / st->half_life);
                for (k = 0; k < cells; k++) {
                        cell = st->vals + k * st->stride;
                        for (i = 0; i < st->stride; i++)
                                if (i != SLOT_C)
                                        cell[i] *= f;
                }
                for (k = 0; k < st->n_sets; k++)
                        for (i = 0; i < 2; i++)
                                st->set_vals[k][i] *= f;
        }
        st->epoch = epoch;
}

ltrr_err_t ltrr_bstats_cell_get(const ltrr_bstats_t *st, size_t arm,
                                size_t budget_idx, double now,
                                ltrr_bstats_cell_t *cell)
{
        const double *c;
        double f;

        if (arm >= st->space.n_arms || budget_idx >= st->space.n_budgets)
                return LTRR_ERR_RANGE;
        c = cell_ptr(st, arm, budget_idx);
        f = 1.0 / ltrr_bstats_scale(st, now);
        cell->n = c[SLOT_N] * f;
        cell->s = c[SLOT_S] * f;
        cell->q = c[SLOT_Q] * f;
        cell->c = c[SLOT_C];
        return LTRR_OK;
}

ltrr_err_t ltrr_bstats_linear_get(const ltrr_bstats_t *st, size_t arm,
                                  size_t budget_idx, double now, double *a,
                                  double *b)
{
        size_t dim = st->space.dim, i, j;
        const double *c, *pa;
        double f;

        if (arm >= st->space.n_arms || budget_idx >= st->space.n_budgets)
                return LTRR_ERR_RANGE;
        c = cell_ptr(st, arm, budget_idx);
        f = 1.0 / ltrr_bstats_scale(st, now);
        for (i = 0; b && i < dim; i++)
                b[i] = c[SLOT_B + i] * f;
        pa = c + SLOT_B + dim;
        for (i = 0; a && i < dim; i++)
                for (j = i; j < dim; j++, pa++)
                        a[i * dim + j] = a[j * dim + i] = *pa * f;
        return LTRR_OK;
}

ltrr_err_t ltrr_bstats_set_deltas(const ltrr_bstats_t *st, uint64_t set,
                                  double reward, ltrr_bstats_delta_t out[2],
                                  char *errstr, size_t errstr_size)
{
        (void)st;
        if (!set)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "empty arm set");
        if (!(reward >= -1.0 && reward <= 1.0))
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "reward must be in [-1, 1]");
        set_field(out[0].field, sizeof(out[0].field), 'n', set);
        out[0].value = 1.0;
        out[0].decays = 1;
        set_field(out[1].field, sizeof(out[1].field), 's', set);
        out[1].value = reward;
        out[1].decays = 1;
        return LTRR_OK;
}

void ltrr_bstats_set_get(const ltrr_bstats_t *st, uint64_t set, double now,
                         ltrr_bstats_cell_t *cell)
{
        int k = set_find(st, set);
        double f = 1.0 / ltrr_bstats_scale(st, now);

        memset(cell, 0, sizeof(*cell));
        if (k < 0)
                return;
        cell->n = st->set_vals[k][0] * f;
        cell->s = st->set_vals[k][1] * f;
}

size_t ltrr_bstats_set_count(const ltrr_bstats_t *st)
{
        return st->n_sets;
}
