/*
 * ltrr - online ranker statistics: gradients of examples, fixed-point
 * deltas, the closed form serving applies (see ranker_online.h).
 */
#include "ranker_online.h"
#include "ranker_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/** Largest |feature| accepted in an example (the layout is in [0, 1]). */
#define ONLINE_FEATURE_MAX 1e3

ltrr_err_t ltrr_ranker_online_pbias(ltrr_pbias_table_t *tab, double eta,
                                    char *errstr, size_t errstr_size)
{
        ltrr_err_t err;
        double v;
        int p;

        if (!isfinite(eta) || eta < 0)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "examination exponent must be >= 0");
        err = ltrr_pbias_table_init(tab, LTRR_PBIAS_MAX_POS,
                                    LTRR_PBIAS_DEFAULT_FLOOR, errstr,
                                    errstr_size);
        if (err)
                return err;
        for (p = 1; p <= LTRR_PBIAS_MAX_POS; p++) {
                v = pow(1.0 / p, eta);
                tab->prop[p - 1] = v < tab->floor ? tab->floor : v;
        }
        return LTRR_OK;
}

/* 1 when example @p e can be learned from. */
static int example_ok(const ltrr_rank_example_t *e)
{
        size_t i;

        if (e->feature_cnt != LTRR_RANKER_NFEAT || !e->features ||
            e->position < 0 || !(e->label >= 0.0f && e->label <= 1.0f) ||
            !isfinite(e->margin))
                return 0;
        for (i = 0; i < LTRR_RANKER_NFEAT; i++)
                if (!(fabsf(e->features[i]) <= ONLINE_FEATURE_MAX))
                        return 0;
        return 1;
}

/* @p v in fixed point, clamped to the per-reward bound. */
static int64_t fixed(double v)
{
        double u = v * LTRR_RANKER_ONLINE_SCALE;

        if (u > (double)LTRR_RANKER_ONLINE_DELTA_MAX)
                return LTRR_RANKER_ONLINE_DELTA_MAX;
        if (u < -(double)LTRR_RANKER_ONLINE_DELTA_MAX)
                return -LTRR_RANKER_ONLINE_DELTA_MAX;
        return (int64_t)llround(u);
}

void ltrr_ranker_online_delta(const ltrr_rank_example_t *ex, size_t n,
                              const ltrr_pbias_table_t *pb, double clip,
                              ltrr_ranker_delta_t *d)
{
        double z[LTRR_RANKER_NFEAT] = {0}, q[LTRR_RANKER_NFEAT] = {0};
        double label, r, g;
        size_t k, i;

        memset(d, 0, sizeof(*d));
        for (k = 0; k < n; k++) {
                const ltrr_rank_example_t *e = &ex[k];

                if (!example_ok(e)) {
                        d->skipped++;
                        continue;
                }
                /* Soft IPW label (decisions/0010): label / P(position),
                 * the inverse clipped at @p clip. */
                label = (double)e->label;
                if (pb)
                        label *= ltrr_pbias_ipw_label(pb, e->position + 1, 1,
                                                      clip);
                r = 1.0 / (1.0 + exp(-(double)e->margin)) - label;
                for (i = 0; i < LTRR_RANKER_NFEAT; i++) {
                        g = r * (double)e->features[i];
                        z[i] += g;
                        q[i] += g * g;
                }
                d->used++;
        }
        for (i = 0; i < LTRR_RANKER_NFEAT; i++) {
                d->z[i] = fixed(z[i]);
                d->n[i] = fixed(q[i]);
        }
}

void ltrr_ranker_online_weights(const ltrr_ranker_params_t *p,
                                const double *base,
                                const ltrr_ranker_stats_t *st, double *w)
{
        double z, den, r;
        size_t i;

        for (i = 0; i < LTRR_RANKER_NFEAT; i++) {
                z = st->z[i];
                r = 0.0;
                if (fabs(z) > p->l1) {
                        den = (p->beta + sqrt(st->n[i] > 0 ? st->n[i] : 0)) /
                                  p->alpha +
                              p->l2;
                        r = -(z - (z > 0 ? p->l1 : -p->l1)) / den;
                }
                w[i] = (base ? base[i] : 0.0) + r;
        }
}

ltrr_ranker_t *ltrr_ranker_online_apply(const ltrr_ranker_t *base,
                                        const ltrr_ranker_stats_t *st,
                                        char *errstr, size_t errstr_size)
{
        double b[LTRR_RANKER_NFEAT], w[LTRR_RANKER_NFEAT];
        float bf[LTRR_RANKER_NFEAT];
        ltrr_ranker_params_t p;
        ltrr_ranker_t *rk;
        size_t i;

        for (i = 0; i < LTRR_RANKER_NFEAT; i++)
                if (!isfinite(st->z[i]) || !(st->n[i] >= 0) ||
                    !isfinite(st->n[i])) {
                        ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                  "ranker statistics %zu not finite", i);
                        return NULL;
                }
        if (!(rk = ltrr_ranker_dup(base))) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                          "out of memory");
                return NULL;
        }
        ltrr_ranker_params_get(base, &p);
        ltrr_ranker_weights_get(base, bf);
        for (i = 0; i < LTRR_RANKER_NFEAT; i++)
                b[i] = bf[i];
        ltrr_ranker_online_weights(&p, b, st, w);
        if (ltrr_ranker_weights_set(rk, w, LTRR_RANKER_NFEAT, errstr,
                                    errstr_size)) {
                ltrr_ranker_destroy(rk);
                return NULL;
        }
        return rk;
}

/* Parses a whole decimal integer. */
static int parse_i64(const char *s, int64_t *v)
{
        char *end;
        long long x;

        errno = 0;
        x = strtoll(s, &end, 10);
        if (errno || end == s || *end)
                return -1;
        *v = (int64_t)x;
        return 0;
}

ltrr_err_t ltrr_ranker_online_field(ltrr_ranker_stats_t *st,
                                    const char *field, const char *value,
                                    char *errstr, size_t errstr_size)
{
        int64_t v, idx;

        if (!strcmp(field, "count")) {
                if (parse_i64(value, &v) || v < 0)
                        goto bad;
                st->count = v;
                return LTRR_OK;
        }
        if ((field[0] != 'z' && field[0] != 'n') || field[1] != ':')
                return LTRR_OK;
        if (parse_i64(field + 2, &idx) || idx < 0 ||
            idx >= LTRR_RANKER_NFEAT || parse_i64(value, &v))
                goto bad;
        if (field[0] == 'z')
                st->z[idx] = (double)v / LTRR_RANKER_ONLINE_SCALE;
        else if (v < 0)
                goto bad;
        else
                st->n[idx] = (double)v / LTRR_RANKER_ONLINE_SCALE;
        return LTRR_OK;
bad:
        return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                         "ranker statistics: bad field %.32s = %.32s", field,
                         value);
}

void ltrr_ranker_online_pack(const ltrr_ranker_delta_t *d, uint8_t *out)
{
        size_t i;

        for (i = 0; i < LTRR_RANKER_NFEAT; i++) {
                ltrr_ranker_le_put(out + 8 * i, (uint64_t)d->z[i], 8);
                ltrr_ranker_le_put(out + 8 * (LTRR_RANKER_NFEAT + i),
                                   (uint64_t)d->n[i], 8);
        }
}

void ltrr_ranker_online_unpack_add(const uint8_t *p, ltrr_ranker_delta_t *d)
{
        size_t i;

        for (i = 0; i < LTRR_RANKER_NFEAT; i++) {
                d->z[i] += (int64_t)ltrr_ranker_le_get(p + 8 * i, 8);
                d->n[i] += (int64_t)ltrr_ranker_le_get(
                    p + 8 * (LTRR_RANKER_NFEAT + i), 8);
        }
}
