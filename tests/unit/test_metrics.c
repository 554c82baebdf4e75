/* Unit tests: metrics registry and the bounded string builder. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "strbuf.h"

static ltrr_metrics_family_t *reg_add(ltrr_metrics_t *reg,
                                      ltrr_metrics_spec_t spec)
{
        char errstr[256] = "";
        ltrr_metrics_family_t *fam;

        fam = ltrr_metrics_register(reg, &spec, errstr, sizeof(errstr));
        if (!fam)
                fail_msg("register %s: %s", spec.name, errstr);
        return fam;
}

static void test_strbuf(void **state)
{
        ltrr_strbuf_t sb;
        int i;

        ltrr_strbuf_init(&sb, 0);
        assert_string_equal(ltrr_strbuf_str(&sb), "");
        for (i = 0; i < 100; i++)
                assert_int_equal(ltrr_strbuf_printf(&sb, "%03d,", i), LTRR_OK);
        assert_int_equal(sb.len, 400);
        assert_memory_equal(sb.buf + 396, "099,", 5);
        ltrr_strbuf_reset(&sb);
        assert_int_equal(ltrr_strbuf_puts(&sb, "ab"), LTRR_OK);
        assert_int_equal(ltrr_strbuf_putc(&sb, 'c'), LTRR_OK);
        assert_string_equal(ltrr_strbuf_str(&sb), "abc");
        ltrr_strbuf_clear(&sb);
        ltrr_strbuf_clear(NULL);

        /* 8 bytes including the NUL: 7 characters fit, the 8th does not,
         * and the failure is sticky. */
        ltrr_strbuf_init(&sb, 8);
        assert_int_equal(ltrr_strbuf_puts(&sb, "1234567"), LTRR_OK);
        assert_int_equal(ltrr_strbuf_putc(&sb, '8'), LTRR_ERR_NOSPACE);
        assert_string_equal(ltrr_strbuf_str(&sb), "1234567");
        assert_int_equal(ltrr_strbuf_err(&sb), LTRR_ERR_NOSPACE);
        ltrr_strbuf_reset(&sb);
        assert_int_equal(ltrr_strbuf_printf(&sb, "%s", "123456789"),
                         LTRR_ERR_NOSPACE);
        assert_string_equal(ltrr_strbuf_str(&sb), "");
        assert_int_equal(ltrr_strbuf_puts(&sb, "x"), LTRR_ERR_NOSPACE);
        ltrr_strbuf_clear(&sb);
}

static void test_new_destroy(void **state)
{
        char errstr[64];
        ltrr_metrics_t *reg = ltrr_metrics_new(errstr, sizeof(errstr));
        ltrr_strbuf_t sb;

        assert_non_null(reg);
        ltrr_metrics_destroy(NULL);
        /* Nothing registered: the overflow family has no child yet. */
        ltrr_strbuf_init(&sb, 0);
        assert_int_equal(ltrr_metrics_render(reg, &sb), LTRR_OK);
        assert_string_equal(ltrr_strbuf_str(&sb), "");
        assert_int_equal(ltrr_metrics_render(NULL, &sb), LTRR_ERR_INVALID_ARG);
        assert_null(ltrr_metrics_child(NULL, NULL));
        ltrr_strbuf_clear(&sb);
        ltrr_metrics_destroy(reg);
}

static void test_counter(void **state)
{
        ltrr_metrics_t *reg = ltrr_metrics_new(NULL, 0);
        ltrr_metrics_family_t *fam =
            reg_add(reg, (ltrr_metrics_spec_t){LTRR_METRICS_COUNTER, "x_total",
                                               "X.", NULL, 0, 0, 0});
        ltrr_metrics_child_t *ch = ltrr_metrics_child(fam, NULL);

        assert_non_null(ch);
        assert_ptr_equal(ltrr_metrics_child(fam, NULL), ch);
        ltrr_metrics_counter_inc(ch);
        ltrr_metrics_counter_add(ch, 41);
        assert_int_equal(ltrr_metrics_counter_value(ch), 42);
        /* Updates of another type and NULL children are no-ops. */
        ltrr_metrics_gauge_set(ch, 5.0);
        ltrr_metrics_hist_observe(ch, 5.0);
        ltrr_metrics_counter_inc(NULL);
        assert_int_equal(ltrr_metrics_counter_value(ch), 42);
        assert_int_equal(ltrr_metrics_counter_value(NULL), 0);
        assert_true(isnan(ltrr_metrics_hist_quantile(ch, 0.5)));
        assert_int_equal(ltrr_metrics_hist_bounds(fam, NULL), 0);
        ltrr_metrics_destroy(reg);
}

static void test_gauge(void **state)
{
        static const char *const lbl[] = {"arm", NULL};
        ltrr_metrics_t *reg = ltrr_metrics_new(NULL, 0);
        ltrr_metrics_family_t *fam =
            reg_add(reg, (ltrr_metrics_spec_t){LTRR_METRICS_GAUGE, "w", "W.",
                                               lbl, 4, 0, 0});
        ltrr_metrics_child_t *a =
            ltrr_metrics_child(fam, (const char *[]){"a"});
        ltrr_metrics_child_t *b =
            ltrr_metrics_child(fam, (const char *[]){"b"});

        assert_non_null(a);
        assert_non_null(b);
        assert_ptr_not_equal(a, b);
        assert_ptr_equal(ltrr_metrics_child(fam, (const char *[]){"a"}), a);
        ltrr_metrics_gauge_set(a, 1.5);
        ltrr_metrics_gauge_add(a, -0.25);
        assert_true(ltrr_metrics_gauge_value(a) == 1.25);
        ltrr_metrics_gauge_set_i64(b, -7);
        ltrr_metrics_gauge_add_i64(b, 10);
        assert_true(ltrr_metrics_gauge_value(b) == 3.0);
        ltrr_metrics_counter_inc(a);
        assert_true(ltrr_metrics_gauge_value(a) == 1.25);
        /* Labelled families need values, and no NULL or overlong value. */
        assert_null(ltrr_metrics_child(fam, NULL));
        assert_null(ltrr_metrics_child(fam, (const char *[]){NULL}));
        {
                char big[LTRR_METRICS_VALUE_MAX + 2];
                const char *v[1] = {big};
                memset(big, 'v', sizeof(big) - 1);
                big[sizeof(big) - 1] = '\0';
                assert_null(ltrr_metrics_child(fam, v));
        }
        ltrr_metrics_destroy(reg);
}

/* Registers a spec expected to fail and returns the error text. */
static void expect_refused(ltrr_metrics_t *reg, ltrr_metrics_spec_t spec,
                           const char *want)
{
        char errstr[256] = "";

        if (ltrr_metrics_register(reg, &spec, errstr, sizeof(errstr)))
                fail_msg("%s was accepted, want \"%s\"",
                         spec.name ? spec.name : "(null)", want);
        if (!strstr(errstr, want))
                fail_msg("want \"%s\" in \"%s\"", want, errstr);
}

static void test_name_grammar(void **state)
{
        assert_true(ltrr_metrics_name_valid("a:b_c9"));
        assert_true(ltrr_metrics_name_valid("_x"));
        assert_false(ltrr_metrics_name_valid("9a"));
        assert_false(ltrr_metrics_name_valid(""));
        assert_false(ltrr_metrics_name_valid(NULL));
        assert_false(ltrr_metrics_name_valid("a b"));
        assert_false(ltrr_metrics_label_valid("a:b"));
        assert_false(ltrr_metrics_label_valid("__x"));
        assert_true(ltrr_metrics_label_valid("_x"));
        assert_null(ltrr_metrics_register(NULL, NULL, NULL, 0));
}

static void test_invalid_names(void **state)
{
        static const char *const bad_lbl[] = {"a-b", NULL};
        static const char *const rsv_lbl[] = {"__name", NULL};
        static const char *const le_lbl[] = {"le", NULL};
        static const char *const dup_lbl[] = {"a", "a", NULL};
        static const char *const many[] = {"a", "b", "c", "d", "e",
                                           "f", "g", "h", "i", NULL};
        ltrr_metrics_t *reg = ltrr_metrics_new(NULL, 0);
        const ltrr_metrics_type_t C = LTRR_METRICS_COUNTER,
                                  G = LTRR_METRICS_GAUGE,
                                  H = LTRR_METRICS_HISTOGRAM;

        expect_refused(reg, (ltrr_metrics_spec_t){C, "x", "X.", 0, 0, 0, 0},
                       "must end in _total");
        expect_refused(reg,
                       (ltrr_metrics_spec_t){C, "x_totals", "X.", 0, 0, 0, 0},
                       "must end in _total");
        expect_refused(reg, (ltrr_metrics_spec_t){G, "1x", "X.", 0, 0, 0, 0},
                       "invalid metric name");
        expect_refused(reg, (ltrr_metrics_spec_t){G, "x-y", "X.", 0, 0, 0, 0},
                       "invalid metric name");
        expect_refused(reg, (ltrr_metrics_spec_t){G, NULL, "X.", 0, 0, 0, 0},
                       "invalid metric name");
        expect_refused(reg, (ltrr_metrics_spec_t){G, "g", "", 0, 0, 0, 0},
                       "help text");
        expect_refused(reg,
                       (ltrr_metrics_spec_t){G, "g", "X.", bad_lbl, 0, 0, 0},
                       "invalid label");
        expect_refused(reg,
                       (ltrr_metrics_spec_t){G, "g", "X.", rsv_lbl, 0, 0, 0},
                       "invalid label");
        expect_refused(reg,
                       (ltrr_metrics_spec_t){H, "h", "X.", le_lbl, 0, -5, 6},
                       "invalid label");
        expect_refused(reg,
                       (ltrr_metrics_spec_t){G, "g", "X.", dup_lbl, 0, 0, 0},
                       "duplicate label");
        expect_refused(reg, (ltrr_metrics_spec_t){G, "g", "X.", many, 0, 0, 0},
                       "more than 8 labels");
        expect_refused(reg, (ltrr_metrics_spec_t){H, "h", "X.", 0, 0, 0, 0},
                       "decades");
        expect_refused(reg, (ltrr_metrics_spec_t){H, "h", "X.", 0, 0, 0, 13},
                       "decades");
        expect_refused(
            reg, (ltrr_metrics_spec_t){G, "g", "X.", bad_lbl + 1, 100000, 0, 0},
            "max_children");
        expect_refused(reg, (ltrr_metrics_spec_t){9, "g", "X.", 0, 0, 0, 0},
                       "unknown metric type");
        /* "le" is fine outside histograms; a name is registered once. */
        reg_add(reg, (ltrr_metrics_spec_t){G, "g", "X.", le_lbl, 0, 0, 0});
        expect_refused(reg, (ltrr_metrics_spec_t){G, "g", "X.", 0, 0, 0, 0},
                       "already registered");
        expect_refused(reg,
                       (ltrr_metrics_spec_t){H,
                                             "ltrr_metrics_label_"
                                             "overflow_total",
                                             "X.", 0, 0, -5, 6},
                       "already registered");
        ltrr_metrics_destroy(reg);
}

static void test_families_bounded(void **state)
{
        ltrr_metrics_t *reg = ltrr_metrics_new(NULL, 0);
        char name[32];
        int i;

        /* The built-in overflow family takes one of the slots. */
        for (i = 1; i < LTRR_METRICS_FAMILIES_MAX; i++) {
                snprintf(name, sizeof(name), "g%d", i);
                reg_add(reg, (ltrr_metrics_spec_t){LTRR_METRICS_GAUGE, name,
                                                   "G.", 0, 0, 0, 0});
        }
        expect_refused(
            reg,
            (ltrr_metrics_spec_t){LTRR_METRICS_GAUGE, "more", "G.", 0, 0, 0, 0},
            "more than 256");
        ltrr_metrics_destroy(reg);
}

static void test_label_overflow(void **state)
{
        static const char *const lbl[] = {"route", "code", NULL};
        ltrr_metrics_t *reg = ltrr_metrics_new(NULL, 0);
        ltrr_metrics_family_t *fam = reg_add(
            reg, (ltrr_metrics_spec_t){LTRR_METRICS_COUNTER, "req_total", "R.",
                                       lbl, 2, 0, 0});
        ltrr_metrics_child_t *a, *b, *o1, *o2;
        ltrr_strbuf_t sb;

        a = ltrr_metrics_child(fam, (const char *[]){"s", "200"});
        b = ltrr_metrics_child(fam, (const char *[]){"s", "500"});
        o1 = ltrr_metrics_child(fam, (const char *[]){"f", "200"});
        o2 = ltrr_metrics_child(fam, (const char *[]){"f", "500"});
        assert_non_null(a);
        assert_non_null(b);
        assert_non_null(o1);
        assert_ptr_equal(o1, o2);
        assert_ptr_not_equal(o1, a);
        assert_ptr_not_equal(o1, b);
        /* Existing children are still found after the family is full. */
        assert_ptr_equal(ltrr_metrics_child(fam, (const char *[]){"s", "500"}),
                         b);
        assert_int_equal(ltrr_metrics_family_overflows(fam), 2);
        assert_int_equal(ltrr_metrics_family_overflows(NULL), 0);
        ltrr_metrics_counter_add(o1, 3);
        ltrr_strbuf_init(&sb, 0);
        assert_int_equal(ltrr_metrics_render(reg, &sb), LTRR_OK);
        assert_non_null(strstr(ltrr_strbuf_str(&sb),
                               "ltrr_metrics_label_overflow_total"
                               "{family=\"req_total\"} 2\n"));
        assert_non_null(strstr(ltrr_strbuf_str(&sb),
                               "req_total{route=\"__overflow__\","
                               "code=\"__overflow__\"} 3\n"));
        ltrr_strbuf_clear(&sb);
        ltrr_metrics_destroy(reg);
}

static void test_hist_edges(void **state)
{
        ltrr_metrics_t *reg = ltrr_metrics_new(NULL, 0);
        ltrr_metrics_family_t *fam =
            reg_add(reg, (ltrr_metrics_spec_t){LTRR_METRICS_HISTOGRAM,
                                               "lat_seconds", "L.", NULL, 0,
                                               LTRR_METRICS_BUCKETS_SECONDS});
        ltrr_metrics_child_t *ch = ltrr_metrics_child(fam, NULL);
        const double *b;
        size_t n = ltrr_metrics_hist_bounds(fam, &b);

        /* 6 decades x 9 sub-buckets + the closing 10 s bound. */
        assert_int_equal(n, 55);
        assert_true(b[0] == 1e-5);
        assert_true(b[1] == 2e-5);
        assert_true(b[8] == 9e-5);
        assert_true(b[9] == 1e-4);
        assert_true(b[20] == 3e-3);
        assert_true(b[54] == 10.0);
        /* A value equal to a bound belongs to it (le is inclusive); the
         * next double up belongs to the next bucket. */
        assert_int_equal(ltrr_metrics_hist_bucket(fam, 1e-5), 0);
        assert_int_equal(ltrr_metrics_hist_bucket(fam, nextafter(1e-5, 1)), 1);
        assert_int_equal(ltrr_metrics_hist_bucket(fam, 3e-3), 20);
        assert_int_equal(ltrr_metrics_hist_bucket(fam, nextafter(3e-3, 0)), 20);
        assert_int_equal(ltrr_metrics_hist_bucket(fam, nextafter(3e-3, 1)), 21);
        assert_int_equal(ltrr_metrics_hist_bucket(fam, 0.0), 0);
        assert_int_equal(ltrr_metrics_hist_bucket(fam, -1.0), 0);
        assert_int_equal(ltrr_metrics_hist_bucket(fam, 10.0), 54);
        assert_int_equal(ltrr_metrics_hist_bucket(fam, nextafter(10.0, 11)),
                         55);
        assert_int_equal(ltrr_metrics_hist_bucket(fam, INFINITY), 55);
        ltrr_metrics_hist_observe(ch, 1e-5);
        ltrr_metrics_hist_observe(ch, 3e-3);
        ltrr_metrics_hist_observe(ch, 20.0);
        ltrr_metrics_hist_observe(ch, NAN); /* ignored */
        assert_int_equal(ltrr_metrics_hist_count(ch), 3);
        assert_true(ltrr_metrics_hist_sum(ch) == 1e-5 + 3e-3 + 20.0);
        /* Median is in the 3 ms bucket: interpolated inside (2 ms, 3 ms]. */
        assert_true(ltrr_metrics_hist_quantile(ch, 0.5) > 2e-3);
        assert_true(ltrr_metrics_hist_quantile(ch, 0.5) <= 3e-3);
        /* The top rank is in +Inf: the largest finite bound is returned. */
        assert_true(ltrr_metrics_hist_quantile(ch, 1.0) == 10.0);
        assert_true(isnan(ltrr_metrics_hist_quantile(ch, 1.5)));
        assert_true(isnan(ltrr_metrics_hist_quantile(ch, -0.1)));
        ltrr_metrics_destroy(reg);
}

static void test_hist_size_layout(void **state)
{
        ltrr_metrics_t *reg = ltrr_metrics_new(NULL, 0);
        ltrr_metrics_family_t *fam =
            reg_add(reg, (ltrr_metrics_spec_t){LTRR_METRICS_HISTOGRAM,
                                               "resp_bytes", "B.", NULL, 0,
                                               LTRR_METRICS_BUCKETS_SIZE});
        const double *b;

        assert_int_equal(ltrr_metrics_hist_bounds(fam, &b), 64);
        assert_true(b[0] == 1.0);
        assert_true(b[62] == 9e6);
        assert_true(b[63] == 1e7);
        assert_int_equal(ltrr_metrics_hist_bucket(fam, 1.5), 1);
        assert_int_equal(ltrr_metrics_hist_bucket(fam, 1000.0), 27);
        ltrr_metrics_destroy(reg);
}

struct hammer {
        ltrr_metrics_family_t *ctr, *hist, *gauge, *lbl; /* shared */
        int id;                                          /* thread number */
};

#define HAMMER_ITERS 200000

static void *hammer_run(void *arg)
{
        const struct hammer *h = arg;
        ltrr_metrics_child_t *c = ltrr_metrics_child(h->ctr, NULL);
        ltrr_metrics_child_t *hs = ltrr_metrics_child(h->hist, NULL);
        ltrr_metrics_child_t *g = ltrr_metrics_child(h->gauge, NULL);
        char v[16];
        const char *vals[1] = {v};
        int i;

        for (i = 0; i < HAMMER_ITERS; i++) {
                ltrr_metrics_counter_inc(c);
                ltrr_metrics_hist_observe(hs, 1e-3 * (double)(i % 4 + 1));
                ltrr_metrics_gauge_add(g, 0.5);
                /* Every thread creates the same 16 label sets at once. */
                snprintf(v, sizeof(v), "k%d", i % 16);
                ltrr_metrics_counter_inc(ltrr_metrics_child(h->lbl, vals));
        }
        return NULL;
}

static void test_concurrent(void **state)
{
        static const char *const lbl[] = {"k", NULL};
        ltrr_metrics_t *reg = ltrr_metrics_new(NULL, 0);
        struct hammer h[4];
        pthread_t th[4];
        char v[16];
        const char *vals[1] = {v};
        int i;

        h[0].ctr =
            reg_add(reg, (ltrr_metrics_spec_t){LTRR_METRICS_COUNTER, "c_total",
                                               "C.", 0, 0, 0, 0});
        h[0].hist = reg_add(reg, (ltrr_metrics_spec_t){
                                     LTRR_METRICS_HISTOGRAM, "h_seconds", "H.",
                                     0, 0, LTRR_METRICS_BUCKETS_SECONDS});
        h[0].gauge = reg_add(reg, (ltrr_metrics_spec_t){LTRR_METRICS_GAUGE, "g",
                                                        "G.", 0, 0, 0, 0});
        h[0].lbl =
            reg_add(reg, (ltrr_metrics_spec_t){LTRR_METRICS_COUNTER, "l_total",
                                               "L.", lbl, 16, 0, 0});
        for (i = 0; i < 4; i++) {
                h[i] = h[0];
                h[i].id = i;
                assert_int_equal(
                    pthread_create(&th[i], NULL, hammer_run, &h[i]), 0);
        }
        for (i = 0; i < 4; i++)
                pthread_join(th[i], NULL);
        assert_int_equal(
            ltrr_metrics_counter_value(ltrr_metrics_child(h[0].ctr, NULL)),
            4 * HAMMER_ITERS);
        assert_int_equal(
            ltrr_metrics_hist_count(ltrr_metrics_child(h[0].hist, NULL)),
            4 * HAMMER_ITERS);
        /* Sum of exact binary fractions is exact: 4 x 200000 x 0.5. */
        assert_true(ltrr_metrics_gauge_value(ltrr_metrics_child(
                        h[0].gauge, NULL)) == 4.0 * HAMMER_ITERS * 0.5);
        assert_int_equal(ltrr_metrics_family_overflows(h[0].lbl), 0);
        for (i = 0; i < 16; i++) {
                snprintf(v, sizeof(v), "k%d", i);
                assert_int_equal(ltrr_metrics_counter_value(
                                     ltrr_metrics_child(h[0].lbl, vals)),
                                 4 * HAMMER_ITERS / 16);
        }
        ltrr_metrics_destroy(reg);
}

static void test_render_exact(void **state)
{
        static const char *const lbl[] = {"path", NULL};
        static const char *const want =
            "# HELP app_hits_total Hits with a \\\\ and a\\nnewline, \"as "
            "is\".\n"
            "# TYPE app_hits_total counter\n"
            "app_hits_total{path=\"a\\\"b\\\\c\\nd\"} 7\n"
            "# HELP app_temp Temperature.\n"
            "# TYPE app_temp gauge\n"
            "app_temp -0.1\n"
            "# HELP app_size Sizes.\n"
            "# TYPE app_size histogram\n"
            "app_size_bucket{le=\"1\"} 1\n"
            "app_size_bucket{le=\"2\"} 1\n"
            "app_size_bucket{le=\"3\"} 3\n"
            "app_size_bucket{le=\"4\"} 3\n"
            "app_size_bucket{le=\"5\"} 3\n"
            "app_size_bucket{le=\"6\"} 3\n"
            "app_size_bucket{le=\"7\"} 3\n"
            "app_size_bucket{le=\"8\"} 3\n"
            "app_size_bucket{le=\"9\"} 3\n"
            "app_size_bucket{le=\"10\"} 4\n"
            "app_size_bucket{le=\"+Inf\"} 5\n"
            "app_size_sum 120.5\n"
            "app_size_count 5\n";
        ltrr_metrics_t *reg = ltrr_metrics_new(NULL, 0);
        ltrr_metrics_family_t *c, *g, *h, *empty;
        ltrr_metrics_child_t *hc;
        ltrr_strbuf_t sb;

        c = reg_add(reg, (ltrr_metrics_spec_t){
                             LTRR_METRICS_COUNTER, "app_hits_total",
                             "Hits with a \\ and a\nnewline, \"as is\".", lbl,
                             0, 0, 0});
        g = reg_add(reg, (ltrr_metrics_spec_t){LTRR_METRICS_GAUGE, "app_temp",
                                               "Temperature.", 0, 0, 0, 0});
        h = reg_add(reg,
                    (ltrr_metrics_spec_t){LTRR_METRICS_HISTOGRAM, "app_size",
                                          "Sizes.", 0, 0, 0, 1});
        /* A labelled family with no child yet is left out. */
        empty =
            reg_add(reg, (ltrr_metrics_spec_t){LTRR_METRICS_GAUGE, "app_unused",
                                               "U.", lbl, 0, 0, 0});
        assert_non_null(empty);
        ltrr_metrics_counter_add(
            ltrr_metrics_child(c, (const char *[]){"a\"b\\c\nd"}), 7);
        ltrr_metrics_gauge_set(ltrr_metrics_child(g, NULL), -0.1);
        hc = ltrr_metrics_child(h, NULL);
        ltrr_metrics_hist_observe(hc, 0.5);
        ltrr_metrics_hist_observe(hc, 2.5);
        ltrr_metrics_hist_observe(hc, 3.0);
        ltrr_metrics_hist_observe(hc, 9.5);
        ltrr_metrics_hist_observe(hc, 105.0);
        ltrr_strbuf_init(&sb, 0);
        assert_int_equal(ltrr_metrics_render(reg, &sb), LTRR_OK);
        assert_string_equal(ltrr_strbuf_str(&sb), want);
        ltrr_strbuf_clear(&sb);

        ltrr_metrics_destroy(reg);
}

static void test_render_nospace(void **state)
{
        ltrr_metrics_t *reg = ltrr_metrics_new(NULL, 0);
        ltrr_strbuf_t sb;

        reg_add(reg,
                (ltrr_metrics_spec_t){LTRR_METRICS_HISTOGRAM, "h_seconds", "H.",
                                      NULL, 0, LTRR_METRICS_BUCKETS_SECONDS});
        /* A buffer too small for the text reports NOSPACE. */
        ltrr_strbuf_init(&sb, 64);
        assert_int_equal(ltrr_metrics_render(reg, &sb), LTRR_ERR_NOSPACE);
        ltrr_strbuf_clear(&sb);
        ltrr_metrics_destroy(reg);
}

static void test_render_doubles(void **state)
{
        ltrr_metrics_t *reg = ltrr_metrics_new(NULL, 0);
        ltrr_metrics_family_t *g =
            reg_add(reg, (ltrr_metrics_spec_t){LTRR_METRICS_GAUGE, "v", "V.", 0,
                                               0, 0, 0});
        ltrr_metrics_child_t *ch = ltrr_metrics_child(g, NULL);
        static const struct {
                double v;
                const char *txt;
        } cases[] = {{0.1 + 0.2, "v 0.30000000000000004\n"},
                     {1e-300, "v 1e-300\n"},
                     {123456789.0, "v 123456789\n"}};
        ltrr_strbuf_t sb;
        size_t i;

        ltrr_strbuf_init(&sb, 0);
        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                ltrr_metrics_gauge_set(ch, cases[i].v);
                ltrr_strbuf_reset(&sb);
                ltrr_metrics_render(reg, &sb);
                assert_non_null(strstr(ltrr_strbuf_str(&sb), cases[i].txt));
        }
        ltrr_metrics_gauge_set(ch, INFINITY);
        ltrr_strbuf_reset(&sb);
        ltrr_metrics_render(reg, &sb);
        assert_non_null(strstr(ltrr_strbuf_str(&sb), "v +Inf\n"));
        ltrr_metrics_gauge_set(ch, -INFINITY);
        ltrr_strbuf_reset(&sb);
        ltrr_metrics_render(reg, &sb);
        assert_non_null(strstr(ltrr_strbuf_str(&sb), "v -Inf\n"));
        ltrr_metrics_gauge_set(ch, NAN);
        ltrr_strbuf_reset(&sb);
        ltrr_metrics_render(reg, &sb);
        assert_non_null(strstr(ltrr_strbuf_str(&sb), "v NaN\n"));
        ltrr_strbuf_clear(&sb);
        ltrr_metrics_destroy(reg);
}

/* Relative error of an estimate against the exact value. */
static double rel_err(double est, double exact)
{
        return fabs(est - exact) / exact;
}

static void test_quantile_accuracy(void **state)
{
        ltrr_metrics_t *reg = ltrr_metrics_new(NULL, 0);
        ltrr_metrics_family_t *fam =
            reg_add(reg, (ltrr_metrics_spec_t){LTRR_METRICS_HISTOGRAM,
                                               "q_seconds", "Q.", NULL, 0,
                                               LTRR_METRICS_BUCKETS_SECONDS});
        ltrr_metrics_child_t *ch = ltrr_metrics_child(fam, NULL);
        static const double qs[] = {0.5, 0.9, 0.99};
        int i, n = 100000;
        size_t k;

        assert_true(isnan(ltrr_metrics_hist_quantile(ch, 0.5)));
        /* Uniform on (0, 100 ms]: exact quantile q is q x 100 ms. Inside
         * each bucket the data is uniform, so interpolation is nearly
         * exact. */
        for (i = 1; i <= n; i++)
                ltrr_metrics_hist_observe(ch, 0.1 * (double)i / n);
        for (k = 0; k < 3; k++) {
                double est = ltrr_metrics_hist_quantile(ch, qs[k]);
                if (rel_err(est, 0.1 * qs[k]) > 0.001)
                        fail_msg("uniform q%.2f: %g vs %g", qs[k], est,
                                 0.1 * qs[k]);
        }
        ltrr_metrics_destroy(reg);

        /* Log-uniform from 10 us to 1 s (5 decades): exact quantile q is
         * 10^(-5 + 5q). Error must stay within one sub-bucket (< 50%,
         * and < 12% above the first sub-bucket of a decade). */
        reg = ltrr_metrics_new(NULL, 0);
        fam = reg_add(reg, (ltrr_metrics_spec_t){LTRR_METRICS_HISTOGRAM,
                                                 "q_seconds", "Q.", NULL, 0,
                                                 LTRR_METRICS_BUCKETS_SECONDS});
        ch = ltrr_metrics_child(fam, NULL);
        for (i = 0; i < n; i++)
                ltrr_metrics_hist_observe(
                    ch, pow(10.0, -5.0 + 5.0 * (i + 0.5) / n));
        for (k = 0; k < 3; k++) {
                double exact = pow(10.0, -5.0 + 5.0 * qs[k]);
                double est = ltrr_metrics_hist_quantile(ch, qs[k]);
                if (rel_err(est, exact) > 0.12)
                        fail_msg("log-uniform q%.2f: %g vs %g", qs[k], est,
                                 exact);
        }
        ltrr_metrics_destroy(reg);
}

static void test_quantile_raw(void **state)
{
        static const double bounds[] = {1.0, 2.0, 4.0};
        static const uint64_t counts[] = {0, 10, 10, 0};
        static const uint64_t inf_only[] = {0, 0, 0, 5};
        static const uint64_t none[] = {0, 0, 0, 0};

        /* Ranks 0..20 spread over (1, 2] then (2, 4]. */
        assert_true(ltrr_metrics_quantile(bounds, counts, 3, 0.25) == 1.5);
        assert_true(ltrr_metrics_quantile(bounds, counts, 3, 0.5) == 2.0);
        assert_true(ltrr_metrics_quantile(bounds, counts, 3, 0.75) == 3.0);
        assert_true(ltrr_metrics_quantile(bounds, counts, 3, 0.0) == 1.0);
        assert_true(ltrr_metrics_quantile(bounds, inf_only, 3, 0.5) == 4.0);
        assert_true(isnan(ltrr_metrics_quantile(bounds, none, 3, 0.5)));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_strbuf),
            cmocka_unit_test(test_new_destroy),
            cmocka_unit_test(test_counter),
            cmocka_unit_test(test_gauge),
            cmocka_unit_test(test_name_grammar),
            cmocka_unit_test(test_invalid_names),
            cmocka_unit_test(test_families_bounded),
            cmocka_unit_test(test_label_overflow),
            cmocka_unit_test(test_hist_edges),
            cmocka_unit_test(test_hist_size_layout),
            cmocka_unit_test(test_concurrent),
            cmocka_unit_test(test_render_exact),
            cmocka_unit_test(test_render_nospace),
            cmocka_unit_test(test_render_doubles),
            cmocka_unit_test(test_quantile_accuracy),
            cmocka_unit_test(test_quantile_raw),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
