/* Unit tests: bandit sufficient statistics and their Redis mapping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bstats.h"
#include "rng.h"

#define DIM 3
#define N_OBS 300

static void space_init(ltrr_bandit_space_t *sp, size_t dim)
{
        memset(sp, 0, sizeof(*sp));
        sp->n_arms = 2;
        strcpy(sp->arm_names[0], "lexical");
        strcpy(sp->arm_names[1], "fuzzy");
        sp->n_budgets = 2;
        sp->budgets[0] = 10;
        sp->budgets[1] = 25;
        sp->total_budget = 50;
        sp->dim = dim;
        sp->feature_version = 1;
}

/* Random observations at random times within [1000, 5000). */
static void make_obs(ltrr_bstats_obs_t *obs, float (*x)[DIM], size_t n)
{
        ltrr_rng_t rng;
        size_t k, i;

        ltrr_rng_seed(&rng, 11);
        for (k = 0; k < n; k++) {
                for (i = 0; i < DIM; i++)
                        x[k][i] = (float)(ltrr_rng_uniform(&rng) * 2 - 1);
                obs[k].arm = ltrr_rng_below(&rng, 2);
                obs[k].budget_idx = ltrr_rng_below(&rng, 2);
                obs[k].reward = ltrr_rng_uniform(&rng) < 0.3 ? 1.0 : 0.0;
                if (k % 17 == 0)
                        obs[k].reward = -0.5;
                obs[k].x = x[k];
                obs[k].t = 1000.0 + ltrr_rng_uniform(&rng) * 4000.0;
        }
}

/* Applies observation k through deltas, as a learner does. */
static void apply_obs(ltrr_bstats_t *st, const ltrr_bstats_obs_t *o)
{
        ltrr_bstats_delta_t d[5 + DIM + DIM * (DIM + 1) / 2];
        size_t n;

        assert_int_equal(ltrr_bstats_deltas(st, o, d, 16, &n, NULL, 0),
                         LTRR_OK);
        assert_int_equal(n, ltrr_bstats_delta_count(st));
        assert_int_equal(ltrr_bstats_apply(st, d, n, o->t, NULL, 0), LTRR_OK);
}

/* Asserts two states read the same at time now, within rel. tolerance. */
static void assert_same(const ltrr_bstats_t *x, const ltrr_bstats_t *y,
                        double now, double tol)
{
        double ax[DIM * DIM], bx[DIM], ay[DIM * DIM], by[DIM];
        ltrr_bstats_cell_t cx, cy;
        size_t a, j, i;

        assert_true(ltrr_bstats_version(x) == ltrr_bstats_version(y));
        for (a = 0; a < 2; a++)
                for (j = 0; j < 2; j++) {
                        ltrr_bstats_cell_get(x, a, j, now, &cx);
                        ltrr_bstats_cell_get(y, a, j, now, &cy);
                        assert_true(fabs(cx.n - cy.n) <= tol * fabs(cx.n));
                        assert_true(fabs(cx.s - cy.s) <=
                                    tol * (1 + fabs(cx.s)));
                        assert_true(fabs(cx.q - cy.q) <= tol * fabs(cx.q));
                        assert_true(cx.c == cy.c);
                        ltrr_bstats_linear_get(x, a, j, now, ax, bx);
                        ltrr_bstats_linear_get(y, a, j, now, ay, by);
                        for (i = 0; i < DIM * DIM; i++)
                                assert_true(fabs(ax[i] - ay[i]) <=
                                            tol * (1 + fabs(ax[i])));
                        for (i = 0; i < DIM; i++)
                                assert_true(fabs(bx[i] - by[i]) <=
                                            tol * (1 + fabs(bx[i])));
                }
}

static void test_new_destroy(void **state)
{
        ltrr_bandit_space_t sp;
        char errstr[128] = "";

        ltrr_bstats_destroy(NULL);
        space_init(&sp, DIM);
        assert_null(ltrr_bstats_new(&sp, -1.0, 0.0, errstr, sizeof(errstr)));
        assert_non_null(strstr(errstr, "half_life"));
        assert_null(ltrr_bstats_new(&sp, NAN, 0.0, NULL, 0));
        sp.n_arms = 0;
        assert_null(ltrr_bstats_new(&sp, 0.0, 0.0, errstr, sizeof(errstr)));
        space_init(&sp, LTRR_BANDIT_MAX_DIM + 1);
        assert_null(ltrr_bstats_new(&sp, 0.0, 0.0, errstr, sizeof(errstr)));
}

static void test_key(void **state)
{
        char key[LTRR_BSTATS_KEY_MAX], small[12], errstr[64];

        assert_int_equal(ltrr_bstats_key(key, sizeof(key), "b17", NULL, 0),
                         LTRR_OK);
        assert_string_equal(key, "ltrr:bandit:{b17}:v1");
        assert_int_equal(ltrr_bstats_key(key, sizeof(key), "lin:f3", NULL, 0),
                         LTRR_OK);
        assert_string_equal(key, "ltrr:bandit:{lin:f3}:v1");
        assert_int_equal(ltrr_bstats_key(key, sizeof(key), "a}{b", errstr,
                                         sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_bstats_key(key, sizeof(key), "", NULL, 0),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_bstats_key(small, sizeof(small), "b1", NULL, 0),
                         LTRR_ERR_NOSPACE);
}

static void test_delta_fields(void **state)
{
        ltrr_bandit_space_t sp;
        ltrr_bstats_t *st;
        ltrr_bstats_delta_t d[16];
        const float x[DIM] = {1.0f, 2.0f, -1.0f};
        ltrr_bstats_obs_t o = {1, 1, 1.0, x, 100.0};
        size_t n;

        space_init(&sp, DIM);
        st = ltrr_bstats_new(&sp, 0.0, 0.0, NULL, 0);
        assert_non_null(st);
        assert_int_equal(ltrr_bstats_delta_count(st), 5 + 3 + 6);
        assert_int_equal(ltrr_bstats_deltas(st, &o, d, 16, &n, NULL, 0),
                         LTRR_OK);
        assert_int_equal(n, 14);
        assert_string_equal(d[0].field, "n:fuzzy:25");
        assert_string_equal(d[1].field, "s:fuzzy:25");
        assert_string_equal(d[2].field, "q:fuzzy:25");
        assert_string_equal(d[3].field, "c:fuzzy:25");
        assert_int_equal(d[3].decays, 0);
        assert_string_equal(d[4].field, "b:fuzzy:25:0");
        assert_string_equal(d[6].field, "A:fuzzy:25:0:1");
        assert_true(d[6].value == 2.0);
        assert_string_equal(d[13].field, "v");
        assert_int_equal(d[13].decays, 0);
        ltrr_bstats_destroy(st);
}

static void test_delta_errors(void **state)
{
        ltrr_bandit_space_t sp;
        ltrr_bstats_t *st;
        ltrr_bstats_delta_t d[16];
        float x[DIM] = {0, 0, 0};
        ltrr_bstats_obs_t o = {0, 0, 1.0, x, 0.0};
        char errstr[128];
        size_t n;

        space_init(&sp, DIM);
        st = ltrr_bstats_new(&sp, 0.0, 0.0, NULL, 0);
        assert_int_equal(ltrr_bstats_deltas(st, &o, d, 13, &n, errstr,
                                            sizeof(errstr)),
                         LTRR_ERR_NOSPACE);
        o.arm = 2;
        assert_int_equal(ltrr_bstats_deltas(st, &o, d, 16, &n, NULL, 0),
                         LTRR_ERR_RANGE);
        o.arm = 0;
        o.reward = 1.5;
        assert_int_equal(ltrr_bstats_observe(st, &o, NULL, 0), LTRR_ERR_RANGE);
        o.reward = 1.0;
        x[1] = NAN;
        assert_int_equal(ltrr_bstats_deltas(st, &o, d, 16, &n, NULL, 0),
                         LTRR_ERR_RANGE);
        o.x = NULL;
        assert_int_equal(ltrr_bstats_observe(st, &o, NULL, 0), LTRR_ERR_RANGE);
        strcpy(d[0].field, "n:nosuch:10");
        d[0].value = 1;
        d[0].decays = 1;
        assert_int_equal(ltrr_bstats_apply(st, d, 1, 0.0, errstr,
                                           sizeof(errstr)),
                         LTRR_ERR_PARSE);
        assert_true(ltrr_bstats_version(st) == 0);
        ltrr_bstats_destroy(st);
}

/* Learners applying the same deltas in different orders reach the same
 * state; the direct path gives bit-identical values. */
static void test_order_independent(void **state)
{
        static ltrr_bstats_obs_t obs[N_OBS];
        static float x[N_OBS][DIM];
        ltrr_bandit_space_t sp;
        ltrr_bstats_t *fwd, *rev, *mix, *direct;
        ltrr_rng_t rng;
        size_t k, perm[N_OBS], t, j;

        space_init(&sp, DIM);
        make_obs(obs, x, N_OBS);
        fwd = ltrr_bstats_new(&sp, 600.0, 900.0, NULL, 0);
        rev = ltrr_bstats_new(&sp, 600.0, 900.0, NULL, 0);
        mix = ltrr_bstats_new(&sp, 600.0, 900.0, NULL, 0);
        direct = ltrr_bstats_new(&sp, 600.0, 900.0, NULL, 0);
        ltrr_rng_seed(&rng, 2);
        for (k = 0; k < N_OBS; k++)
                perm[k] = k;
        for (k = N_OBS - 1; k > 0; k--) {
                j = ltrr_rng_below(&rng, k + 1);
                t = perm[k];
                perm[k] = perm[j];
                perm[j] = t;
        }
        for (k = 0; k < N_OBS; k++) {
                apply_obs(fwd, &obs[k]);
                apply_obs(rev, &obs[N_OBS - 1 - k]);
                apply_obs(mix, &obs[perm[k]]);
                assert_int_equal(ltrr_bstats_observe(direct, &obs[k], NULL, 0),
                                 LTRR_OK);
        }
        assert_true(ltrr_bstats_version(fwd) == N_OBS);
        assert_same(fwd, rev, 5000.0, 1e-12);
        assert_same(fwd, mix, 5000.0, 1e-12);
        assert_same(fwd, direct, 5000.0, 0.0);
        ltrr_bstats_destroy(fwd);
        ltrr_bstats_destroy(rev);
        ltrr_bstats_destroy(mix);
        ltrr_bstats_destroy(direct);
}

/* Decay is lazy and exact: an observation one half-life after the epoch
 * is stored as 2, reads as 1 then and as 0.5 one half-life later;
 * rebasing leaves reads unchanged. */
static void test_decay_exact(void **state)
{
        ltrr_bandit_space_t sp;
        ltrr_bstats_t *st;
        ltrr_bstats_cell_t c;
        const float x[DIM] = {1.0f, 0.0f, 2.0f};
        ltrr_bstats_obs_t o = {0, 1, 1.0, x, 1100.0};
        double a[DIM * DIM], b[DIM];

        space_init(&sp, DIM);
        st = ltrr_bstats_new(&sp, 100.0, 1000.0, NULL, 0);
        assert_true(ltrr_bstats_scale(st, 1100.0) == 2.0);
        assert_true(ltrr_bstats_scale(st, 800.0) == 0.25);
        apply_obs(st, &o);
        ltrr_bstats_cell_get(st, 0, 1, 1100.0, &c);
        assert_true(c.n == 1.0 && c.s == 1.0 && c.q == 1.0 && c.c == 1.0);
        ltrr_bstats_cell_get(st, 0, 1, 1200.0, &c);
        assert_true(c.n == 0.5 && c.s == 0.5 && c.q == 0.5 && c.c == 1.0);
        o.t = 1200.0;
        o.reward = -1.0;
        apply_obs(st, &o);
        ltrr_bstats_cell_get(st, 0, 1, 1300.0, &c);
        assert_true(c.n == 0.75 && c.s == -0.25 && c.q == 0.75 && c.c == 2.0);
        ltrr_bstats_linear_get(st, 0, 1, 1300.0, a, b);
        assert_true(a[0 * DIM + 2] == 1.5 && a[2 * DIM + 0] == 1.5);
        assert_true(a[2 * DIM + 2] == 3.0 && b[2] == -0.5 && b[1] == 0.0);
        ltrr_bstats_rebase(st, 1700.0);
        assert_true(ltrr_bstats_epoch(st) == 1700.0);
        ltrr_bstats_cell_get(st, 0, 1, 1300.0, &c);
        assert_true(c.n == 0.75 && c.s == -0.25 && c.c == 2.0);
        /* no decay at all with half_life 0 */
        ltrr_bstats_destroy(st);
        st = ltrr_bstats_new(&sp, 0.0, 0.0, NULL, 0);
        apply_obs(st, &o);
        ltrr_bstats_cell_get(st, 0, 1, 1e9, &c);
        assert_true(c.n == 1.0 && c.s == -1.0);
        assert_int_equal(ltrr_bstats_cell_get(st, 2, 0, 0, &c), LTRR_ERR_RANGE);
        assert_int_equal(ltrr_bstats_linear_get(st, 0, 2, 0, a, b),
                         LTRR_ERR_RANGE);
        ltrr_bstats_destroy(st);
}

/* A stand-in for one Redis hash: HINCRBYFLOAT as the script does it. */
#define HASH_MAX 64
typedef struct fake_hash_s {
        size_t n;
        char field[HASH_MAX][LTRR_BSTATS_FIELD_MAX];
        double val[HASH_MAX];
} fake_hash_t;

static void hash_incr(fake_hash_t *h, const char *field, double v)
{
        size_t i;

        for (i = 0; i < h->n; i++)
                if (strcmp(h->field[i], field) == 0)
                        break;
        if (i == h->n) {
                assert_true(h->n < HASH_MAX);
                assert_true(strlen(field) < LTRR_BSTATS_FIELD_MAX);
                memcpy(h->field[h->n], field, strlen(field) + 1);
                h->val[h->n++] = 0.0;
        }
        h->val[i] += v;
}

/* Formats the hash as an HGETALL reply into strs (owned by the caller). */
static size_t hash_reply(const fake_hash_t *h, char (*buf)[40],
                         const char **strs)
{
        size_t i;

        for (i = 0; i < h->n; i++) {
                snprintf(buf[i], 40, "%.17g", h->val[i]);
                strs[2 * i] = h->field[i];
                strs[2 * i + 1] = buf[i];
        }
        return 2 * h->n;
}

static void test_parse_round_trip(void **state)
{
        static ltrr_bstats_obs_t obs[N_OBS];
        static float x[N_OBS][DIM];
        static fake_hash_t h;
        static char buf[HASH_MAX][40];
        const char *strs[2 * HASH_MAX + 4];
        ltrr_bandit_space_t sp;
        ltrr_bstats_t *st, *back;
        ltrr_bstats_delta_t d[16];
        size_t k, i, n, ns;
        double w;

        space_init(&sp, DIM);
        make_obs(obs, x, N_OBS);
        st = ltrr_bstats_new(&sp, 600.0, 900.0, NULL, 0);
        back = ltrr_bstats_new(&sp, 600.0, 0.0, NULL, 0);
        hash_incr(&h, "e", 900.0);
        for (k = 0; k < N_OBS; k++) {
                apply_obs(st, &obs[k]);
                ltrr_bstats_deltas(st, &obs[k], d, 16, &n, NULL, 0);
                w = ltrr_bstats_scale(st, obs[k].t);
                for (i = 0; i < n; i++)
                        hash_incr(&h, d[i].field,
                                  d[i].decays ? d[i].value * w : d[i].value);
        }
        ns = hash_reply(&h, buf, strs);
        /* fields of an arm and a budget the configuration no longer has */
        strs[ns++] = "n:semantic:10";
        strs[ns++] = "5";
        strs[ns++] = "A:lexical:100:0:0";
        strs[ns++] = "7";
        assert_int_equal(ltrr_bstats_parse(back, strs, ns, NULL, 0), LTRR_OK);
        assert_true(ltrr_bstats_epoch(back) == 900.0);
        assert_same(st, back, 5000.0, 0.0);
        ltrr_bstats_destroy(st);
        ltrr_bstats_destroy(back);
}

static void test_parse_malformed(void **state)
{
        static const char *const bad_fields[] = {
                "n:lexical",        "n:lexical:abc",   "x:lexical:10",
                "A:lexical:10:1:0", "A:lexical:10:0",  "b:lexical:10",
                "n::10",            "n:lexical:10:0",  "nn:lexical:10",
                "n:a:b:c:d:e",      "b:lexical:10:-1", "n:lexical:10 ",
                "",                 "A:lexical:10:0:1:2"};
        static const char *const bad_values[] = {"abc", "1e999", "nan", "",
                                                 "1.5x", "inf"};
        ltrr_bandit_space_t sp;
        ltrr_bstats_t *st;
        const char *fv[4] = {"v", "3", NULL, NULL};
        char errstr[128];
        size_t i;

        space_init(&sp, DIM);
        st = ltrr_bstats_new(&sp, 0.0, 0.0, NULL, 0);
        assert_int_equal(ltrr_bstats_parse(st, fv, 2, NULL, 0), LTRR_OK);
        assert_true(ltrr_bstats_version(st) == 3);
        assert_int_equal(ltrr_bstats_parse(st, fv, 1, errstr, sizeof(errstr)),
                         LTRR_ERR_PARSE);
        assert_true(ltrr_bstats_version(st) == 0); /* reset on error */
        for (i = 0; i < sizeof(bad_fields) / sizeof(bad_fields[0]); i++) {
                fv[2] = bad_fields[i];
                fv[3] = "1";
                assert_int_equal(ltrr_bstats_parse(st, fv, 4, errstr,
                                                   sizeof(errstr)),
                                 LTRR_ERR_PARSE);
                assert_true(ltrr_bstats_version(st) == 0);
        }
        for (i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
                fv[2] = "n:lexical:10";
                fv[3] = bad_values[i];
                assert_int_equal(ltrr_bstats_parse(st, fv, 4, NULL, 0),
                                 LTRR_ERR_PARSE);
        }
        fv[2] = NULL;
        assert_int_equal(ltrr_bstats_parse(st, fv, 4, NULL, 0), LTRR_ERR_PARSE);
        fv[2] = "n:lexical:10";
        fv[3] = NULL;
        assert_int_equal(ltrr_bstats_parse(st, fv, 4, NULL, 0), LTRR_ERR_PARSE);
        /* A component beyond dim is skipped, not an error */
        fv[2] = "A:lexical:10:0:9";
        fv[3] = "1";
        assert_int_equal(ltrr_bstats_parse(st, fv, 4, NULL, 0), LTRR_OK);
        ltrr_bstats_destroy(st);
}

/*
 * The writer's half-life ("h") rules the reading: a reader created
 * without decay (serving) reads decayed counts, not the epoch-scaled sums;
 * the next parse without "h" is back to the reader's own; a bad "h" is
 * refused.
 */
static void test_parse_half_life(void **state)
{
        const char *with_h[] = {"e", "1000", "h", "100", "n:lexical:10", "8",
                                "s:lexical:10", "4"};
        const char *without_h[] = {"e", "1000", "n:lexical:10", "8"};
        const char *bad_h[] = {"h", "-1"}, *nan_h[] = {"h", "nan"};
        ltrr_bandit_space_t sp;
        ltrr_bstats_cell_t c;
        ltrr_bstats_t *st;
        char errstr[128];

        (void)state;
        space_init(&sp, 0);
        st = ltrr_bstats_new(&sp, 0.0, 0.0, NULL, 0);
        assert_non_null(st);
        assert_int_equal(ltrr_bstats_parse(st, with_h, 8, NULL, 0), LTRR_OK);
        assert_int_equal(ltrr_bstats_cell_get(st, 0, 0, 1200.0, &c), LTRR_OK);
        assert_true(fabs(c.n - 2.0) < 1e-12); /* 8 / 2^((1200-1000)/100) */
        assert_true(fabs(c.s - 1.0) < 1e-12);
        assert_int_equal(ltrr_bstats_parse(st, without_h, 4, NULL, 0),
                         LTRR_OK);
        assert_int_equal(ltrr_bstats_cell_get(st, 0, 0, 1200.0, &c), LTRR_OK);
        assert_true(c.n == 8.0);
        assert_int_equal(ltrr_bstats_parse(st, bad_h, 2, errstr,
                                           sizeof(errstr)),
                         LTRR_ERR_PARSE);
        assert_non_null(strstr(errstr, "\"h\""));
        assert_int_equal(ltrr_bstats_parse(st, nan_h, 2, NULL, 0),
                         LTRR_ERR_PARSE);
        ltrr_bstats_destroy(st);
}

/* A batch summed in a scratch object and exported gives the same state
 * as applying every reward's own deltas, whatever the two epochs. */
static void test_export_batch(void **state)
{
        static ltrr_bstats_obs_t obs[N_OBS];
        static float x[N_OBS][DIM];
        static ltrr_bstats_delta_t d[4 * 14 + 1];
        ltrr_bandit_space_t sp;
        ltrr_bstats_t *each, *batched, *scratch;
        size_t k, n;

        space_init(&sp, DIM);
        make_obs(obs, x, N_OBS);
        each = ltrr_bstats_new(&sp, 600.0, 900.0, NULL, 0);
        batched = ltrr_bstats_new(&sp, 600.0, 900.0, NULL, 0);
        scratch = ltrr_bstats_new(&sp, 600.0, 4000.0, NULL, 0);
        for (k = 0; k < N_OBS; k++) {
                apply_obs(each, &obs[k]);
                ltrr_bstats_observe(scratch, &obs[k], NULL, 0);
                if (k % 50 != 49)
                        continue;
                assert_int_equal(ltrr_bstats_export(scratch, d, 3, &n, NULL,
                                                    0),
                                 LTRR_ERR_NOSPACE);
                /* zero values (say b of a cell without successes) are
                 * not sent */
                assert_true(n > 3 && n <= 4 * 14 + 1);
                assert_int_equal(ltrr_bstats_export(scratch, d, n, &n, NULL,
                                                    0),
                                 LTRR_OK);
                assert_int_equal(ltrr_bstats_apply(batched, d, n,
                                                   ltrr_bstats_epoch(scratch),
                                                   NULL, 0),
                                 LTRR_OK);
                ltrr_bstats_reset(scratch);
        }
        assert_same(each, batched, 5000.0, 1e-12);
        ltrr_bstats_reset(scratch);
        assert_int_equal(ltrr_bstats_export(scratch, d, 0, &n, NULL, 0),
                         LTRR_OK);
        assert_int_equal(n, 0);
        ltrr_bstats_destroy(each);
        ltrr_bstats_destroy(batched);
        ltrr_bstats_destroy(scratch);
}

/* Id of lexical at level @p l0 and fuzzy at level @p l1 (-1: off). */
static uint64_t sid(const ltrr_bandit_space_t *sp, int l0, int l1)
{
        int lvl[LTRR_BANDIT_MAX_ARMS] = {l0, l1};

        return ltrr_bstats_set_id(sp, lvl);
}

/*
 * Arm set ids name arms and budgets, not indices; deltas name
 * "n:@<hex>:0" / "s:@<hex>:0"; apply, parse, export and rebase keep them
 * like cells; malformed set fields are refused.
 */
static void test_sets(void **state)
{
        ltrr_bandit_space_t sp, rev;
        ltrr_bstats_t *st, *cp;
        ltrr_bstats_delta_t d[2], ex[8];
        ltrr_bstats_cell_t c;
        const char *fv[4];
        char field[40];
        uint64_t ab;
        size_t n, i;

        (void)state;
        space_init(&sp, 0);
        ab = sid(&sp, 1, 0); /* lexical:25 + fuzzy:10 */
        assert_true(ab != 0);
        assert_true(sid(&sp, -1, -1) == 0);
        assert_true(sid(&sp, 0, 1) != ab && sid(&sp, 1, -1) != ab);
        /* the same set in a space with the arms the other way round */
        rev = sp;
        strcpy(rev.arm_names[0], "fuzzy");
        strcpy(rev.arm_names[1], "lexical");
        assert_true(sid(&rev, 0, 1) == ab);
        st = ltrr_bstats_new(&sp, 100.0, 0.0, NULL, 0);
        cp = ltrr_bstats_new(&sp, 100.0, 0.0, NULL, 0);
        assert_int_equal(ltrr_bstats_set_deltas(st, ab, 0.5, d, NULL, 0),
                         LTRR_OK);
        snprintf(field, sizeof(field), "n:@%" PRIx64 ":0", ab);
        assert_string_equal(d[0].field, field);
        field[0] = 's';
        assert_string_equal(d[1].field, field);
        assert_true(d[0].value == 1.0 && d[1].value == 0.5);
        assert_true(d[0].decays && d[1].decays);
        assert_int_equal(ltrr_bstats_set_deltas(st, 0, 0.5, d, NULL, 0),
                         LTRR_ERR_RANGE);
        assert_int_equal(ltrr_bstats_set_deltas(st, ab, 1.5, d, NULL, 0),
                         LTRR_ERR_RANGE);
        /* applied at t = 100 (one half-life), read at 100 and 200 */
        assert_int_equal(ltrr_bstats_set_deltas(st, ab, 0.5, d, NULL, 0),
                         LTRR_OK);
        assert_int_equal(ltrr_bstats_apply(st, d, 2, 100.0, NULL, 0),
                         LTRR_OK);
        ltrr_bstats_set_get(st, ab, 100.0, &c);
        assert_true(fabs(c.n - 1.0) < 1e-12 && fabs(c.s - 0.5) < 1e-12);
        ltrr_bstats_set_get(st, ab, 200.0, &c);
        assert_true(fabs(c.n - 0.5) < 1e-12 && fabs(c.s - 0.25) < 1e-12);
        ltrr_bstats_set_get(st, sid(&sp, 0, -1), 100.0, &c);
        assert_true(c.n == 0.0 && c.s == 0.0);
        assert_int_equal(ltrr_bstats_set_count(st), 1);
        /* export -> apply into a copy: same reads; rebase keeps reads */
        assert_int_equal(ltrr_bstats_export(st, ex, 8, &n, NULL, 0), LTRR_OK);
        assert_int_equal(n, 2);
        assert_int_equal(ltrr_bstats_apply(cp, ex, n, 0.0, NULL, 0), LTRR_OK);
        ltrr_bstats_set_get(cp, ab, 200.0, &c);
        assert_true(fabs(c.n - 0.5) < 1e-12 && fabs(c.s - 0.25) < 1e-12);
        ltrr_bstats_rebase(cp, 300.0);
        ltrr_bstats_set_get(cp, ab, 200.0, &c);
        assert_true(fabs(c.n - 0.5) < 1e-12 && fabs(c.s - 0.25) < 1e-12);
        /* parse replaces the state */
        snprintf(field, sizeof(field), "s:@%" PRIx64 ":0", ab);
        fv[0] = field;
        fv[1] = "0.75";
        assert_int_equal(ltrr_bstats_parse(st, fv, 2, NULL, 0), LTRR_OK);
        ltrr_bstats_set_get(st, ab, 0.0, &c);
        assert_true(c.n == 0.0 && c.s == 0.75);
        {
                static const char *const bad[] = {
                    "n:@:0",  "n:@21:1",   "q:@21:0",
                    "n:@2g:0", "n:@21",    "n:@21:0:0",
                    "n:@0:0", "n:@12345678901234567:0"};
                for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                        fv[0] = bad[i];
                        fv[1] = "1";
                        if (ltrr_bstats_parse(st, fv, 2, NULL, 0) !=
                            LTRR_ERR_PARSE)
                                fail_msg("'%s' accepted", bad[i]);
                }
        }
        ltrr_bstats_destroy(st);
        ltrr_bstats_destroy(cp);
}

/* The table keeps LTRR_BSTATS_SETS_MAX sets; further ones are skipped
 * when read (parse) and refused when applied. */
static void test_sets_bounded(void **state)
{
        ltrr_bandit_space_t sp;
        ltrr_bstats_t *st;
        ltrr_bstats_delta_t d[2];
        char fields[LTRR_BSTATS_SETS_MAX + 10][32];
        const char *fv[2 * (LTRR_BSTATS_SETS_MAX + 10)];
        uint64_t id;
        size_t n = 0, k;

        (void)state;
        space_init(&sp, 0);
        st = ltrr_bstats_new(&sp, 0.0, 0.0, NULL, 0);
        assert_non_null(st);
        for (id = 1; id <= LTRR_BSTATS_SETS_MAX + 10; id++) {
                assert_int_equal(ltrr_bstats_set_deltas(st, id, 1.0, d, NULL,
                                                        0),
                                 LTRR_OK);
                if (ltrr_bstats_apply(st, d, 2, 0.0, NULL, 0) == LTRR_OK)
                        n++;
        }
        assert_int_equal(ltrr_bstats_set_count(st), LTRR_BSTATS_SETS_MAX);
        assert_int_equal(n, LTRR_BSTATS_SETS_MAX);
        for (k = 0; k < LTRR_BSTATS_SETS_MAX + 10; k++) {
                snprintf(fields[k], sizeof(fields[k]), "n:@%zx:0", k + 1);
                fv[2 * k] = fields[k];
                fv[2 * k + 1] = "1";
        }
        assert_int_equal(ltrr_bstats_parse(st, fv, 2 * k, NULL, 0), LTRR_OK);
        assert_int_equal(ltrr_bstats_set_count(st), LTRR_BSTATS_SETS_MAX);
        ltrr_bstats_destroy(st);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_new_destroy),
                cmocka_unit_test(test_key),
                cmocka_unit_test(test_delta_fields),
                cmocka_unit_test(test_delta_errors),
                cmocka_unit_test(test_order_independent),
                cmocka_unit_test(test_decay_exact),
                cmocka_unit_test(test_parse_round_trip),
                cmocka_unit_test(test_parse_malformed),
                cmocka_unit_test(test_parse_half_life),
                cmocka_unit_test(test_export_batch),
                cmocka_unit_test(test_sets),
                cmocka_unit_test(test_sets_bounded),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
