/* Unit tests: Open Bandit Dataset reader, prior, target policies, model. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "obd.h"
#include "ope.h"

#define HEADER ",timestamp,item_id,position,click,propensity_score," \
               "user-item_affinity_0,user-item_affinity_1\n"
#define TS "2019-11-24 00:00:01+00:00"

static void check_close(double got, double want, double eps, int line)
{
        if (!(fabs(got - want) <= eps))
                fail_msg("line %d: got %.17g, want %.17g (eps %g)", line, got,
                         want, eps);
}
#define assert_close(got, want, eps) \
        check_close((got), (want), (eps), __LINE__)

/* Reads @text as a log; returns the read's result, the log in *out. */
static ltrr_err_t read_text(const char *text, uint64_t max_bad,
                            ltrr_obd_stats_t *st, ltrr_obd_log_t **out,
                            char *errstr, size_t errstr_size)
{
        FILE *fp = fmemopen((void *)text, strlen(text), "r");
        ltrr_err_t err;

        assert_non_null(fp);
        assert_non_null(*out = ltrr_obd_log_new(errstr, errstr_size));
        err = ltrr_obd_log_read(*out, fp, max_bad, st, errstr, errstr_size);
        fclose(fp);
        return err;
}

static ltrr_obd_log_t *read_small(void)
{
        const char *src = getenv("LTRR_SRC");
        char path[1024], errstr[256];
        ltrr_obd_stats_t st;
        ltrr_obd_log_t *log;
        FILE *fp;

        snprintf(path, sizeof(path), "%s/tests/data/obd-small.csv",
                 src ? src : ".");
        if (!(fp = fopen(path, "r")))
                fail_msg("cannot open %s (set LTRR_SRC)", path);
        assert_non_null(log = ltrr_obd_log_new(errstr, sizeof(errstr)));
        assert_int_equal(ltrr_obd_log_read(log, fp, 0, &st, errstr,
                                           sizeof(errstr)), LTRR_OK);
        fclose(fp);
        assert_int_equal(st.rows, 6);
        assert_int_equal(st.bad, 0);
        assert_int_equal(st.lines, 7);
        return log;
}

static void test_read_small(void **state)
{
        ltrr_obd_log_t *log = read_small();
        const ltrr_obd_row_t *r;
        ltrr_obd_stats_t st;
        char errstr[256];

        assert_int_equal(ltrr_obd_log_count(log), 6);
        assert_int_equal(ltrr_obd_log_items(log), 2);
        assert_int_equal(ltrr_obd_log_positions(log), 2);
        assert_close(ltrr_obd_log_ctr(log), 0.5, 1e-15);
        assert_non_null(r = ltrr_obd_log_row(log, 3));
        assert_int_equal(r->item, 1);
        assert_int_equal(r->position, 1); /* file position 2 */
        assert_int_equal(r->click, 1);
        assert_close(r->propensity, 0.5, 0);
        assert_null(ltrr_obd_log_row(log, 6));
        /* a log is read once */
        assert_int_equal(ltrr_obd_log_read(log, stdin, 0, &st, errstr,
                                           sizeof(errstr)), LTRR_ERR_STATE);
        ltrr_obd_log_destroy(log);
        ltrr_obd_log_destroy(NULL);
}

static void test_bad_rows(void **state)
{
        const char *text = HEADER
                "0," TS ",0,1,0,0.5,0,0\n"
                "1," TS ",1,1,0,0,0,0\n"      /* line 3: zero propensity */
                "2," TS ",1,1,2,0.5,0,0\n"    /* line 4: click 2 */
                "3," TS ",1,0,0,0.5,0,0\n"    /* line 5: position 0 */
                "4," TS ",2,1,0,0.5,0,0\n"    /* line 6: item 2 of 2 */
                "5," TS ",1,x,0,0.5,0,0\n"    /* line 7: position x */
                "6," TS ",1\n"                /* line 8: short */
                "\n"                          /* blank: ignored */
                "7," TS ",1,3,1,0.25,0,0\r\n" /* CRLF is fine */
                "8," TS ",0,2,0,1.5,0,0\n";   /* line 11: propensity */
        ltrr_obd_stats_t st;
        ltrr_obd_log_t *log;
        char errstr[256];

        assert_int_equal(read_text(text, 0, &st, &log, errstr, sizeof(errstr)),
                         LTRR_ERR_PARSE);
        assert_non_null(strstr(errstr, "line 3:"));
        assert_non_null(strstr(errstr, "propensity"));
        assert_int_equal(st.bad, 1);
        ltrr_obd_log_destroy(log);

        assert_int_equal(read_text(text, 7, &st, &log, errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(st.bad, 7);
        assert_int_equal(st.rows, 2);
        assert_int_equal(st.lines, 11);
        assert_int_equal(st.first_bad_line, 3);
        assert_non_null(strstr(st.first_bad, "propensity_score '0'"));
        assert_int_equal(ltrr_obd_log_positions(log), 3);
        assert_close(ltrr_obd_log_ctr(log), 0.5, 0);
        ltrr_obd_log_destroy(log);

        assert_int_equal(read_text(text, 6, &st, &log, errstr, sizeof(errstr)),
                         LTRR_ERR_PARSE);
        assert_non_null(strstr(errstr, "line 11:"));
        assert_non_null(strstr(errstr, "7 bad rows, 6 allowed"));
        ltrr_obd_log_destroy(log);
}

static void test_bad_files(void **state)
{
        ltrr_obd_stats_t st;
        ltrr_obd_log_t *log;
        char errstr[256], *big;
        size_t len = LTRR_OBD_LINE_MAX + 100;

        assert_int_equal(read_text(",item_id,position,click\n0,1,1,0\n", 0,
                                   &st, &log, errstr, sizeof(errstr)),
                         LTRR_ERR_PARSE);
        assert_non_null(strstr(errstr, "propensity_score"));
        ltrr_obd_log_destroy(log);
        assert_int_equal(read_text("", 0, &st, &log, errstr, sizeof(errstr)),
                         LTRR_ERR_PARSE);
        ltrr_obd_log_destroy(log);
        assert_int_equal(read_text(HEADER, 0, &st, &log, errstr,
                                   sizeof(errstr)), LTRR_ERR_PARSE);
        assert_non_null(strstr(errstr, "no valid rows"));
        ltrr_obd_log_destroy(log);
        /* an overlong line is one bad row, and reading goes on after it */
        assert_non_null(big = malloc(len + 200));
        strcpy(big, HEADER);
        memset(big + strlen(HEADER), '9', LTRR_OBD_LINE_MAX + 10);
        strcpy(big + strlen(HEADER) + LTRR_OBD_LINE_MAX + 10,
               "\n0," TS ",1,1,1,0.5,0,0\n");
        assert_int_equal(read_text(big, 1, &st, &log, errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(st.bad, 1);
        assert_int_equal(st.rows, 1);
        assert_non_null(strstr(st.first_bad, "longer than"));
        ltrr_obd_log_destroy(log);
        free(big);
}

static ltrr_obd_prior_t *prior_text(const char *text, char *errstr,
                                    size_t errstr_size)
{
        FILE *fp = fmemopen((void *)text, strlen(text), "r");
        ltrr_obd_prior_t *prior;

        assert_non_null(fp);
        prior = ltrr_obd_prior_new(fp, errstr, errstr_size);
        fclose(fp);
        return prior;
}

static void test_prior(void **state)
{
        ltrr_obd_prior_t *prior;
        char errstr[256];

        prior = prior_text("item_id\talpha\tbeta\n1\t2\t30\n0\t1\t10\n",
                           errstr, sizeof(errstr));
        assert_non_null(prior);
        assert_int_equal(ltrr_obd_prior_items(prior), 2);
        ltrr_obd_prior_destroy(prior);
        ltrr_obd_prior_destroy(NULL);
        assert_null(prior_text("item_id\talpha\tbeta\n0\t1\t10\n1\t0\t5\n",
                               errstr, sizeof(errstr)));
        assert_non_null(strstr(errstr, "line 3:"));
        assert_null(prior_text("item_id\talpha\tbeta\n0\t1\t10\n0\t1\t5\n",
                               errstr, sizeof(errstr)));
        assert_non_null(strstr(errstr, "repeated"));
        assert_null(prior_text("item_id\talpha\tbeta\n0\t1\t10\n2\t1\t5\n",
                               errstr, sizeof(errstr)));
        assert_non_null(strstr(errstr, "item 1 missing"));
        assert_null(prior_text("item_id\talpha\tbeta\n0 1 10\n", errstr,
                               sizeof(errstr)));
        assert_null(prior_text("", errstr, sizeof(errstr)));
}

static void test_dist_uniform_and_bounds(void **state)
{
        ltrr_obd_dist_t *d;
        char errstr[256];

        assert_null(ltrr_obd_dist_new(0, 1, errstr, sizeof(errstr)));
        assert_null(ltrr_obd_dist_new(2, 3, errstr, sizeof(errstr)));
        assert_null(ltrr_obd_dist_new(LTRR_OBD_ITEMS_MAX + 1, 3, errstr,
                                      sizeof(errstr)));
        ltrr_obd_dist_destroy(NULL);
        assert_non_null(d = ltrr_obd_dist_new(34, 3, errstr, sizeof(errstr)));
        ltrr_obd_dist_uniform(d);
        assert_close(ltrr_obd_dist_get(d, 0, 0), 1.0 / 34, 1e-18);
        assert_close(ltrr_obd_dist_get(d, 33, 2), 1.0 / 34, 1e-18);
        assert_close(ltrr_obd_dist_get(d, 34, 0), 0.0, 0);
        assert_close(ltrr_obd_dist_get(d, 0, 3), 0.0, 0);
        ltrr_obd_dist_destroy(d);
}

static void test_dist_bts(void **state)
{
        /* P(Beta(2,1) > Beta(1,2)) = 5/6; Beta(0.5,0.5) pairs are even */
        ltrr_obd_prior_t *p2 = prior_text("item_id\talpha\tbeta\n0\t2\t1\n"
                                          "1\t1\t2\n", NULL, 0);
        ltrr_obd_prior_t *p3 = prior_text("item_id\talpha\tbeta\n0\t0.5\t0.5\n"
                                          "1\t0.5\t0.5\n2\t0.5\t0.5\n",
                                          NULL, 0);
        ltrr_obd_dist_t *d = ltrr_obd_dist_new(2, 2, NULL, 0);
        ltrr_obd_dist_t *e = ltrr_obd_dist_new(2, 2, NULL, 0);
        ltrr_obd_dist_t *f = ltrr_obd_dist_new(3, 3, NULL, 0);
        char errstr[256];
        size_t i, k;

        assert_non_null(p2);
        assert_non_null(p3);
        assert_int_equal(ltrr_obd_dist_bts(d, p2, 200000, 1, errstr,
                                           sizeof(errstr)), LTRR_OK);
        assert_close(ltrr_obd_dist_get(d, 0, 0), 5.0 / 6.0, 0.004);
        assert_close(ltrr_obd_dist_get(d, 1, 1), 5.0 / 6.0, 0.004);
        assert_close(ltrr_obd_dist_get(d, 0, 0) + ltrr_obd_dist_get(d, 1, 0),
                     1.0, 1e-12);
        /* the same seed gives the same distribution; another seed not */
        assert_int_equal(ltrr_obd_dist_bts(e, p2, 200000, 1, errstr,
                                           sizeof(errstr)), LTRR_OK);
        assert_true(ltrr_obd_dist_get(d, 0, 0) == ltrr_obd_dist_get(e, 0, 0));
        assert_int_equal(ltrr_obd_dist_bts(e, p2, 200000, 2, errstr,
                                           sizeof(errstr)), LTRR_OK);
        assert_true(ltrr_obd_dist_get(d, 0, 0) != ltrr_obd_dist_get(e, 0, 0));
        assert_int_equal(ltrr_obd_dist_bts(f, p3, 60000, 3, errstr,
                                           sizeof(errstr)), LTRR_OK);
        for (i = 0; i < 3; i++)
                for (k = 0; k < 3; k++)
                        assert_close(ltrr_obd_dist_get(f, i, k), 1.0 / 3,
                                     0.01);
        /* item counts must agree */
        assert_int_equal(ltrr_obd_dist_bts(f, p2, 10, 1, errstr,
                                           sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_obd_dist_bts(d, p2, 0, 1, errstr,
                                           sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        ltrr_obd_dist_destroy(d);
        ltrr_obd_dist_destroy(e);
        ltrr_obd_dist_destroy(f);
        ltrr_obd_prior_destroy(p2);
        ltrr_obd_prior_destroy(p3);
}

/* Evaluates the uniform policy on obd-small.csv with the given model. */
static void eval_small(uint32_t folds, double smoothing,
                       ltrr_ope_report_t *rep)
{
        ltrr_obd_log_t *log = read_small();
        ltrr_obd_dist_t *d = ltrr_obd_dist_new(2, 2, NULL, 0);
        ltrr_ope_t *ope = ltrr_ope_new(6, NULL, 0);
        ltrr_obd_model_conf_t mc = {folds, smoothing};
        ltrr_ope_conf_t conf;
        char errstr[256];

        ltrr_ope_conf_init(&conf);
        conf.bootstrap = 0;
        assert_int_equal(ltrr_obd_fill(log, d, &mc, ope, errstr,
                                       sizeof(errstr)), LTRR_OK);
        assert_int_equal(ltrr_ope_count(ope), 6);
        assert_int_equal(ltrr_ope_evaluate(ope, &conf, rep, errstr,
                                           sizeof(errstr)), LTRR_OK);
        ltrr_ope_destroy(ope);
        ltrr_obd_dist_destroy(d);
        ltrr_obd_log_destroy(log);
}

static void test_fill_model(void **state)
{
        ltrr_ope_report_t rep;

        /* cell means: (0,p1) 1/2, (1,p1) 0, (0,p2) 0, (1,p2) 1; uniform
         * target: q_target 1/4 at p1 and 1/2 at p2, 3 rows each */
        eval_small(1, 0.0, &rep);
        assert_close(rep.est[LTRR_OPE_IPS].value, 0.5, 1e-15);
        assert_close(rep.est[LTRR_OPE_SNIPS].value, 0.5, 1e-15);
        assert_close(rep.est[LTRR_OPE_DM].value, 0.375, 1e-15);
        assert_close(rep.est[LTRR_OPE_DR].value, 0.375, 1e-15);
        /* smoothing 2 towards the position means 1/3 and 2/3:
         * q = 5/12, 2/9 at p1 and 4/9, 5/6 at p2, DM = 69/144 */
        eval_small(1, 2.0, &rep);
        assert_close(rep.est[LTRR_OPE_DM].value, 69.0 / 144.0, 1e-15);
        assert_close(rep.est[LTRR_OPE_IPS].value, 0.5, 1e-15);
        /* two folds: rows 0,2,4 and 1,3,5 each see only the other half */
        eval_small(2, 0.0, &rep);
        assert_close(rep.est[LTRR_OPE_IPS].value, 0.5, 1e-15);
        assert_true(fabs(rep.est[LTRR_OPE_DM].value - 0.375) > 1e-3);
}

static void test_fill_errors(void **state)
{
        ltrr_obd_log_t *log = read_small();
        ltrr_obd_dist_t *wide = ltrr_obd_dist_new(3, 2, NULL, 0);
        ltrr_obd_dist_t *d = ltrr_obd_dist_new(2, 2, NULL, 0);
        ltrr_obd_model_conf_t mc = {0, 1.0};
        ltrr_ope_t *ope = ltrr_ope_new(6, NULL, 0), *small;
        char errstr[256];

        assert_int_equal(ltrr_obd_fill(log, wide, NULL, ope, errstr,
                                       sizeof(errstr)), LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_obd_fill(log, d, &mc, ope, errstr,
                                       sizeof(errstr)), LTRR_ERR_INVALID_ARG);
        mc.folds = 1;
        mc.smoothing = -1.0;
        assert_int_equal(ltrr_obd_fill(log, d, &mc, ope, errstr,
                                       sizeof(errstr)), LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_ope_count(ope), 0);
        small = ltrr_ope_new(5, NULL, 0);
        assert_int_equal(ltrr_obd_fill(log, d, NULL, small, errstr,
                                       sizeof(errstr)), LTRR_ERR_NOSPACE);
        ltrr_ope_destroy(small);
        ltrr_ope_destroy(ope);
        ltrr_obd_dist_destroy(d);
        ltrr_obd_dist_destroy(wide);
        ltrr_obd_log_destroy(log);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_read_small),
                cmocka_unit_test(test_bad_rows),
                cmocka_unit_test(test_bad_files),
                cmocka_unit_test(test_prior),
                cmocka_unit_test(test_dist_uniform_and_bounds),
                cmocka_unit_test(test_dist_bts),
                cmocka_unit_test(test_fill_model),
                cmocka_unit_test(test_fill_errors),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
