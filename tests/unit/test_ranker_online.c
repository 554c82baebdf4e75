/* Unit tests: online ranker statistics (gradients, fixed point, closed
 * form, the statistics hash). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "ranker_online.h"

static ltrr_rank_example_t example(int pos, float label, const float *x,
                                   float margin)
{
        ltrr_rank_example_t e;

        memset(&e, 0, sizeof(e));
        e.position = pos;
        e.label = label;
        e.features = x;
        e.feature_cnt = LTRR_RANKER_NFEAT;
        e.margin = margin;
        return e;
}

/* Zero statistics leave the base weights; |z| <= l1 gives 0; a positive
 * z (the model over-predicts) lowers the weight, a negative one raises
 * it, by the documented closed form. */
static void test_closed_form(void **state)
{
        ltrr_ranker_stats_t st;
        ltrr_ranker_params_t p;
        double base[LTRR_RANKER_NFEAT], w[LTRR_RANKER_NFEAT], den;
        size_t i;

        (void)state;
        ltrr_ranker_params_default(&p);
        memset(&st, 0, sizeof(st));
        for (i = 0; i < LTRR_RANKER_NFEAT; i++)
                base[i] = 0.1 * (double)i - 1.0;
        ltrr_ranker_online_weights(&p, base, &st, w);
        for (i = 0; i < LTRR_RANKER_NFEAT; i++)
                assert_true(w[i] == base[i]);
        st.z[1] = p.l1 * 0.5;  /* inside the L1 ball: no change */
        st.z[2] = -p.l1;       /* on its edge: still none */
        st.z[3] = 2.0;         /* over-predicted */
        st.n[3] = 4.0;
        st.z[4] = -3.0;        /* under-predicted */
        st.n[4] = 9.0;
        ltrr_ranker_online_weights(&p, NULL, &st, w);
        assert_true(w[1] == 0.0);
        assert_true(w[2] == 0.0);
        den = (p.beta + 2.0) / p.alpha + p.l2;
        assert_true(fabs(w[3] - (-(2.0 - p.l1) / den)) < 1e-15);
        assert_true(w[3] < 0);
        den = (p.beta + 3.0) / p.alpha + p.l2;
        assert_true(fabs(w[4] - ((3.0 - p.l1) / den)) < 1e-15);
        assert_true(w[4] > 0);
        assert_true(w[0] == 0.0);
}

/* One positive at position 3 (0-based 2): label 1 / P(3) = 3 under
 * (1/p)^1; margin 0 gives sigmoid 0.5, so g = -2.5 x. */
static void test_delta_ipw(void **state)
{
        float x[LTRR_RANKER_NFEAT] = {0};
        ltrr_rank_example_t ex[2];
        ltrr_ranker_delta_t d;
        ltrr_pbias_table_t pb;

        (void)state;
        x[0] = 1.0f;
        x[5] = 0.5f;
        assert_int_equal(ltrr_ranker_online_pbias(&pb, 1.0, NULL, 0),
                         LTRR_OK);
        ex[0] = example(2, 1.0f, x, 0.0f);
        ltrr_ranker_online_delta(ex, 1, &pb, 10.0, &d);
        assert_int_equal(d.used, 1);
        assert_true(d.z[0] == (int64_t)(-2.5 * LTRR_RANKER_ONLINE_SCALE));
        assert_true(d.n[0] == (int64_t)(6.25 * LTRR_RANKER_ONLINE_SCALE));
        assert_true(d.z[5] == (int64_t)(-1.25 * LTRR_RANKER_ONLINE_SCALE));
        assert_true(d.z[1] == 0 && d.n[1] == 0);
        /* Deep positive: 1/P = 50, clipped at 10. */
        ex[0] = example(49, 1.0f, x, 0.0f);
        ltrr_ranker_online_delta(ex, 1, &pb, 10.0, &d);
        assert_true(d.z[0] == (int64_t)(-9.5 * LTRR_RANKER_ONLINE_SCALE));
        /* A negative is not reweighted: g = sigmoid(m) x. */
        ex[1] = example(7, 0.0f, x, 0.0f);
        ltrr_ranker_online_delta(&ex[1], 1, &pb, 10.0, &d);
        assert_true(d.z[0] == (int64_t)(0.5 * LTRR_RANKER_ONLINE_SCALE));
        /* Sums over examples: positive at 3 plus negative above. */
        ex[0] = example(2, 1.0f, x, 0.0f);
        ex[1] = example(0, 0.0f, x, 0.0f);
        ltrr_ranker_online_delta(ex, 2, &pb, 10.0, &d);
        assert_int_equal(d.used, 2);
        assert_true(d.z[0] == (int64_t)(-2.0 * LTRR_RANKER_ONLINE_SCALE));
        assert_true(d.n[0] == (int64_t)(6.5 * LTRR_RANKER_ONLINE_SCALE));
        /* Without a table the raw label is used. */
        ltrr_ranker_online_delta(ex, 1, NULL, 10.0, &d);
        assert_true(d.z[0] == (int64_t)(-0.5 * LTRR_RANKER_ONLINE_SCALE));
}

/* Examples that cannot be learned from are counted, not used. */
static void test_delta_refuses(void **state)
{
        float x[LTRR_RANKER_NFEAT] = {0}, bad[LTRR_RANKER_NFEAT] = {0};
        ltrr_rank_example_t ex[5];
        ltrr_ranker_delta_t d;
        size_t i;

        (void)state;
        x[0] = 1.0f;
        bad[3] = NAN;
        ex[0] = example(0, 1.0f, bad, 0.0f);
        ex[1] = example(-1, 1.0f, x, 0.0f);
        ex[2] = example(0, 2.0f, x, 0.0f);
        ex[3] = example(0, 1.0f, x, INFINITY);
        ex[4] = example(0, 1.0f, x, 0.0f);
        ex[4].feature_cnt = 31;
        ltrr_ranker_online_delta(ex, 5, NULL, 10.0, &d);
        assert_int_equal(d.used, 0);
        assert_int_equal(d.skipped, 5);
        for (i = 0; i < LTRR_RANKER_NFEAT; i++)
                assert_true(d.z[i] == 0 && d.n[i] == 0);
        /* A huge margin saturates the sigmoid; the delta stays bounded. */
        x[0] = 1000.0f;
        ex[0] = example(0, 0.0f, x, 80.0f);
        ltrr_ranker_online_delta(ex, 1, NULL, 10.0, &d);
        assert_true(d.n[0] == LTRR_RANKER_ONLINE_DELTA_MAX);
        assert_true(d.z[0] == (int64_t)(1000.0 * LTRR_RANKER_ONLINE_SCALE));
}

static void test_pbias(void **state)
{
        ltrr_pbias_table_t pb;
        char errstr[128] = "";

        (void)state;
        assert_int_equal(ltrr_ranker_online_pbias(&pb, 1.0, NULL, 0),
                         LTRR_OK);
        assert_true(fabs(ltrr_pbias_propensity(&pb, 1) - 1.0) < 1e-12);
        assert_true(fabs(ltrr_pbias_propensity(&pb, 4) - 0.25) < 1e-12);
        assert_true(fabs(ltrr_pbias_propensity(&pb, 90) -
                         LTRR_PBIAS_DEFAULT_FLOOR) < 1e-12);
        assert_int_equal(ltrr_ranker_online_pbias(&pb, 0.0, NULL, 0),
                         LTRR_OK);
        assert_true(fabs(ltrr_pbias_propensity(&pb, 7) - 1.0) < 1e-12);
        assert_int_equal(ltrr_ranker_online_pbias(&pb, -1.0, errstr,
                                                  sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_true(errstr[0] != '\0');
        assert_int_equal(ltrr_ranker_online_pbias(&pb, NAN, NULL, 0),
                         LTRR_ERR_INVALID_ARG);
}

/* The hash fields as Redis returns them. */
static void test_fields(void **state)
{
        ltrr_ranker_stats_t st;
        char errstr[128] = "";

        (void)state;
        memset(&st, 0, sizeof(st));
        assert_int_equal(ltrr_ranker_online_field(&st, "z:3", "-250000000",
                                                  NULL, 0),
                         LTRR_OK);
        assert_int_equal(ltrr_ranker_online_field(&st, "n:31", "100000000",
                                                  NULL, 0),
                         LTRR_OK);
        assert_int_equal(ltrr_ranker_online_field(&st, "count", "17", NULL,
                                                  0),
                         LTRR_OK);
        assert_int_equal(ltrr_ranker_online_field(&st, "other", "x", NULL, 0),
                         LTRR_OK);
        assert_true(st.z[3] == -2.5);
        assert_true(st.n[31] == 1.0);
        assert_true(st.count == 17);
        assert_int_equal(ltrr_ranker_online_field(&st, "z:32", "1", errstr,
                                                  sizeof(errstr)),
                         LTRR_ERR_PARSE);
        assert_non_null(strstr(errstr, "z:32"));
        assert_int_equal(ltrr_ranker_online_field(&st, "z:1", "1.5", NULL, 0),
                         LTRR_ERR_PARSE);
        assert_int_equal(ltrr_ranker_online_field(&st, "n:1", "-4", NULL, 0),
                         LTRR_ERR_PARSE);
        assert_int_equal(ltrr_ranker_online_field(&st, "z:", "4", NULL, 0),
                         LTRR_ERR_PARSE);
        assert_int_equal(ltrr_ranker_online_field(&st, "count", "", NULL, 0),
                         LTRR_ERR_PARSE);
}

/* Learning from clicks: results with exact_name are clicked at position
 * 2 while the result above without it is passed over; after the
 * statistics are applied the clicked kind outscores the skipped one,
 * which it did not under the base model. The statistics are sums, so
 * applying the rewards in reverse order gives the same integers. */
static void test_apply_learns(void **state)
{
        float xa[LTRR_RANKER_NFEAT] = {0}, xb[LTRR_RANKER_NFEAT] = {0};
        double w0[LTRR_RANKER_NFEAT] = {0};
        ltrr_ranker_t *base, *rk;
        ltrr_ranker_stats_t st, st2;
        ltrr_ranker_delta_t d;
        ltrr_pbias_table_t pb;
        ltrr_rank_example_t ex[2];
        uint64_t c0, h0, c1, h1;
        float sa, sb;
        size_t i, r;
        char errstr[128];

        (void)state;
        xa[0] = xb[0] = 1.0f;
        xa[18] = 0.8f;  /* the skipped one: strong BM25 */
        xb[24] = 1.0f;  /* the clicked one: exact name */
        w0[18] = 1.0;
        base = ltrr_ranker_new(NULL, errstr, sizeof(errstr));
        assert_non_null(base);
        assert_int_equal(ltrr_ranker_weights_set(base, w0, LTRR_RANKER_NFEAT,
                                                 NULL, 0),
                         LTRR_OK);
        ltrr_ranker_score(base, xa, 1, &sa);
        ltrr_ranker_score(base, xb, 1, &sb);
        assert_true(sa > sb);
        assert_int_equal(ltrr_ranker_online_pbias(&pb, 1.0, NULL, 0),
                         LTRR_OK);
        memset(&st, 0, sizeof(st));
        memset(&st2, 0, sizeof(st2));
        for (r = 0; r < 50; r++) {
                ex[0] = example(0, 0.0f, xa, sa);
                ex[1] = example(1, 1.0f, xb, sb);
                ltrr_ranker_online_delta(ex, 2, &pb, 10.0, &d);
                for (i = 0; i < LTRR_RANKER_NFEAT; i++) {
                        st.z[i] += (double)d.z[i];
                        st.n[i] += (double)d.n[i];
                }
                /* The same rewards, examples in reverse order. */
                ex[0] = example(1, 1.0f, xb, sb);
                ex[1] = example(0, 0.0f, xa, sa);
                ltrr_ranker_online_delta(ex, 2, &pb, 10.0, &d);
                for (i = 0; i < LTRR_RANKER_NFEAT; i++) {
                        st2.z[i] += (double)d.z[i];
                        st2.n[i] += (double)d.n[i];
                }
        }
        assert_memory_equal(st.z, st2.z, sizeof(st.z));
        for (i = 0; i < LTRR_RANKER_NFEAT; i++) {
                st.z[i] /= LTRR_RANKER_ONLINE_SCALE;
                st.n[i] /= LTRR_RANKER_ONLINE_SCALE;
        }
        st.count = 50;
        rk = ltrr_ranker_online_apply(base, &st, errstr, sizeof(errstr));
        assert_non_null(rk);
        ltrr_ranker_score(rk, xa, 1, &sa);
        ltrr_ranker_score(rk, xb, 1, &sb);
        assert_true(sb > sa);
        ltrr_ranker_version(base, &c0, &h0);
        ltrr_ranker_version(rk, &c1, &h1);
        assert_true(h0 != h1);
        ltrr_ranker_destroy(rk);
        /* Non-finite statistics are refused; the base is untouched. */
        st.z[3] = NAN;
        assert_null(ltrr_ranker_online_apply(base, &st, errstr,
                                             sizeof(errstr)));
        assert_true(errstr[0] != '\0');
        ltrr_ranker_destroy(base);
        ltrr_ranker_destroy(NULL);
}

/* Packing: z then n as little-endian int64s (negative values too), and
 * unpacking adds, so two packed deltas sum as the learner's call does. */
static void test_pack(void **state)
{
        ltrr_ranker_delta_t d, sum;
        uint8_t p[LTRR_RANKER_ONLINE_PACKED];
        size_t i;

        (void)state;
        memset(&d, 0, sizeof(d));
        for (i = 0; i < LTRR_RANKER_NFEAT; i++) {
                d.z[i] = (int64_t)i * 1000003 - 7000000000LL;
                d.n[i] = (int64_t)i * i + 1;
        }
        ltrr_ranker_online_pack(&d, p);
        assert_int_equal(p[0], (uint8_t)(d.z[0] & 0xff));
        assert_int_equal(p[7], 0xff); /* z[0] < 0: sign bytes */
        assert_int_equal(p[8 * LTRR_RANKER_NFEAT], 1); /* n[0] = 1 */
        memset(&sum, 0, sizeof(sum));
        ltrr_ranker_online_unpack_add(p, &sum);
        ltrr_ranker_online_unpack_add(p, &sum);
        for (i = 0; i < LTRR_RANKER_NFEAT; i++) {
                assert_true(sum.z[i] == 2 * d.z[i]);
                assert_true(sum.n[i] == 2 * d.n[i]);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_closed_form),
            cmocka_unit_test(test_delta_ipw),
            cmocka_unit_test(test_delta_refuses),
            cmocka_unit_test(test_pbias),
            cmocka_unit_test(test_fields),
            cmocka_unit_test(test_apply_learns),
            cmocka_unit_test(test_pack),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
