/* Unit tests: context and per-arm feature vectors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "feature.h"

#define DAY_MS       86400000LL
#define HOUR_MS      3600000LL
#define D_2026_07_04 20638 /* Saturday, "us" holiday in the sample */
#define D_2026_11_25 20782 /* Wednesday */
#define D_2026_11_29 20786 /* Sunday */

/* Positions used by the assertions (the layout table is the reference;
 * test_layout_table checks these names sit where the tests expect). */
enum {
        I_BIAS = 0,
        I_LANG0 = 1,
        I_LANG1 = 2,
        I_LANG3 = 4,
        I_LANG_OTHER = 5,
        I_QTOK = 6,
        I_QCHR = 7,
        I_Q1 = 8,
        I_Q23 = 9,
        I_Q4 = 10,
        I_INTENT = 11,
        I_HSIN = 15,
        I_HCOS = 16,
        I_WSIN = 17,
        I_WCOS = 18,
        I_WEEKEND = 19,
        I_HOLIDAY = 20,
        I_SEG = 21,
        I_HQ = 24,
        I_HE = 25,
        I_HR = 26
};

/*
 * The golden input and vector of layout version 1. When the layout or a
 * computation changes, this test fails: bump LTRR_FEATURE_LAYOUT_VERSION,
 * then replace GOLDEN_VERSION, golden_x and GOLDEN_HASH with the new
 * values (docs/FEATURES.md, "Changing the layout").
 */
#define GOLDEN_VERSION 3
#define GOLDEN_HASH    0x978608c9796029c9ULL
static const float golden_x[LTRR_FEATURE_CTX_DIM] = {
    1.0f,          1.0f,          0.0f,         0.0f,          0.0f,
    0.0f,          0.25f,         0.595274568f, 0.0f,          1.0f,
    0.0f,          0.0f,          1.0f,         0.0f,          0.0f,
    -0.659345806f, -0.751839817f, 0.974927902f, -0.222520933f, 0.0f,
    0.0f,          0.0f,          1.0f,         0.0f,          0.408362687f,
    0.313814729f,  0.40476191f,   0.0f,         1.0f};
/* Layout 3, tag of the default conf ("en,es,fr,de", 5, 200). */
#define GOLDEN_FULL_VERSION 0x37bdbu
/* artist (1) x primary language (0) x working day (0). */
#define GOLDEN_BUCKET 6u

static ltrr_feature_t *new_fx(const ltrr_calendar_t *cal)
{
        ltrr_feature_conf_t conf;
        char errstr[256] = "";
        ltrr_feature_t *fx;

        ltrr_feature_conf_init(&conf);
        conf.cal = cal;
        conf.region = "us";
        fx = ltrr_feature_new(&conf, errstr, sizeof(errstr));
        if (!fx)
                fail_msg("new: %s", errstr);
        return fx;
}

static ltrr_calendar_t *load_sample(void)
{
        const char *src = getenv("LTRR_SRC");
        char path[1024], errstr[256] = "";
        ltrr_calendar_t *cal = ltrr_calendar_new();

        assert_non_null(cal);
        snprintf(path, sizeof(path), "%s/tests/data/holidays-sample.txt",
                 src ? src : ".");
        if (ltrr_calendar_load(cal, path, errstr, sizeof(errstr)) != LTRR_OK)
                fail_msg("load %s: %s (set LTRR_SRC)", path, errstr);
        return cal;
}

/* Wednesday 2026-11-25 14:45 UTC, English, 2 tokens, an artist query, a
 * casual user. */
static void golden_in(ltrr_feature_in_t *in)
{
        memset(in, 0, sizeof(*in));
        in->lang = "en-GB";
        in->n_tokens = 2;
        in->n_chars = 11;
        in->intent = LTRR_FEATURE_INTENT_ARTIST;
        in->time_ms = D_2026_11_25 * DAY_MS + 14 * HOUR_MS + 45 * 60000LL;
        in->utc_offset_min = LTRR_FEATURE_OFFSET_DEFAULT;
        in->hist_queries = 42;
        in->hist_engaged = 17;
        in->n_unknown = 1;
}

static void compute(const ltrr_feature_t *fx, const ltrr_feature_in_t *in,
                    ltrr_feature_ctx_t *out)
{
        char errstr[256] = "";

        if (ltrr_feature_context(fx, in, out, errstr, sizeof(errstr)) !=
            LTRR_OK)
                fail_msg("context: %s", errstr);
}

static void test_destroy_null(void **state)
{
        (void)state;
        ltrr_feature_destroy(NULL);
}

static void test_golden_vector(void **state)
{
        ltrr_feature_t *fx = new_fx(NULL);
        ltrr_feature_in_t in;
        ltrr_feature_ctx_t out;
        int i, bad = 0;

        (void)state;
        golden_in(&in);
        compute(fx, &in, &out);
        for (i = 0; i < LTRR_FEATURE_CTX_DIM; i++)
                if (fabsf(out.x[i] - golden_x[i]) > 1e-6f) {
                        print_error("x[%d] = %.9g, golden %.9g\n", i,
                                    (double)out.x[i], (double)golden_x[i]);
                        bad = 1;
                }
        if (bad || ltrr_feature_layout_hash() != GOLDEN_HASH ||
            out.version != GOLDEN_FULL_VERSION || out.bucket != GOLDEN_BUCKET) {
                print_error("got: hash 0x%016llxULL version 0x%xu bucket %u\n",
                            (unsigned long long)ltrr_feature_layout_hash(),
                            out.version, out.bucket);
                for (i = 0; i < LTRR_FEATURE_CTX_DIM; i++)
                        print_error("%.9gf,%s", (double)out.x[i],
                                    i % 6 == 5 ? "\n" : " ");
                print_error("\n");
                fail_msg("the layout changed: bump the version, update "
                         "the golden values");
        }
        assert_int_equal(LTRR_FEATURE_LAYOUT_VERSION, GOLDEN_VERSION);
        assert_int_equal(out.version >> 16, LTRR_FEATURE_LAYOUT_VERSION);
        ltrr_feature_destroy(fx);
}

static void test_conf_errors(void **state)
{
        static const char *const bad_langs[] = {
            "",      "en,", ",en",       "en,,es", "en,es,fr,de,pt",
            "en,EN", "e$",  "abcdefghi", "e n",    NULL};
        ltrr_feature_conf_t conf;
        char errstr[256];
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(bad_langs) / sizeof(bad_langs[0]); i++) {
                ltrr_feature_conf_init(&conf);
                conf.langs = bad_langs[i];
                errstr[0] = '\0';
                assert_null(ltrr_feature_new(&conf, errstr, sizeof(errstr)));
                if (!strstr(errstr, "language list"))
                        fail_msg("langs '%s': '%s'",
                                 bad_langs[i] ? bad_langs[i] : "(null)",
                                 errstr);
        }
        ltrr_feature_conf_init(&conf);
        conf.seg_casual_min = 0;
        assert_null(ltrr_feature_new(&conf, errstr, sizeof(errstr)));
        ltrr_feature_conf_init(&conf);
        conf.seg_casual_min = 300;
        assert_null(ltrr_feature_new(&conf, errstr, sizeof(errstr)));
        assert_non_null(strstr(errstr, "seg_casual_min"));
        ltrr_feature_conf_init(&conf);
        conf.utc_offset_min = 900;
        assert_null(ltrr_feature_new(&conf, errstr, sizeof(errstr)));
        ltrr_feature_conf_init(&conf);
        conf.region = "a-region-name-too-long";
        assert_null(ltrr_feature_new(&conf, errstr, sizeof(errstr)));
        assert_null(ltrr_feature_new(NULL, errstr, sizeof(errstr)));
        /* A small buffer still gets a terminated message. */
        assert_null(ltrr_feature_new(NULL, errstr, 4));
        assert_int_equal(strlen(errstr), 3);
}

static void test_version_tag(void **state)
{
        ltrr_feature_conf_t conf;
        ltrr_feature_t *a, *b, *c, *d;
        char errstr[256] = "";

        (void)state;
        ltrr_feature_conf_init(&conf);
        a = ltrr_feature_new(&conf, errstr, sizeof(errstr));
        conf.langs = " EN, es ,fr,de"; /* same list, other spelling */
        b = ltrr_feature_new(&conf, errstr, sizeof(errstr));
        conf.langs = "es,en,fr,de"; /* another order: other slots */
        c = ltrr_feature_new(&conf, errstr, sizeof(errstr));
        ltrr_feature_conf_init(&conf);
        conf.seg_heavy_min = 201;
        d = ltrr_feature_new(&conf, errstr, sizeof(errstr));
        assert_non_null(a);
        assert_non_null(b);
        assert_non_null(c);
        assert_non_null(d);
        assert_int_equal(ltrr_feature_version(a), GOLDEN_FULL_VERSION);
        assert_int_equal(ltrr_feature_version(a), ltrr_feature_version(b));
        assert_int_not_equal(ltrr_feature_version(a), ltrr_feature_version(c));
        assert_int_not_equal(ltrr_feature_version(a), ltrr_feature_version(d));
        assert_int_equal(ltrr_feature_version(c) >> 16,
                         LTRR_FEATURE_LAYOUT_VERSION);
        ltrr_feature_destroy(a);
        ltrr_feature_destroy(b);
        ltrr_feature_destroy(c);
        ltrr_feature_destroy(d);
}

/* Sums the one-hot groups: each must have exactly one 1. */
static void assert_one_hot(const ltrr_feature_ctx_t *out)
{
        const int groups[4][2] = {
            {I_LANG0, 5}, {I_Q1, 3}, {I_INTENT, 4}, {I_SEG, 3}};
        int g, i;

        for (g = 0; g < 4; g++) {
                float sum = 0;

                for (i = 0; i < groups[g][1]; i++) {
                        float v = out->x[groups[g][0] + i];

                        assert_true(v == 0.0f || v == 1.0f);
                        sum += v;
                }
                assert_true(sum == 1.0f);
        }
        assert_true(out->x[I_BIAS] == 1.0f);
        assert_true(out->bucket < LTRR_FEATURE_BUCKETS);
}

static void test_language(void **state)
{
        static const struct {
                const char *lang;
                int slot;
        } cases[] = {{"en", 0}, {"EN", 0}, {"en-US", 0},  {"en_gb", 0},
                     {"es", 1}, {"de", 3}, {"pt-BR", -1}, {"eng", -1},
                     {"e", -1}, {"", -1},  {NULL, -1},    {"xx", -1}};
        ltrr_feature_t *fx = new_fx(NULL);
        ltrr_feature_in_t in;
        ltrr_feature_ctx_t out;
        size_t i;
        int group;

        (void)state;
        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                golden_in(&in);
                in.lang = cases[i].lang;
                compute(fx, &in, &out);
                assert_one_hot(&out);
                assert_int_equal(out.lang_slot, cases[i].slot);
                if (cases[i].slot < 0)
                        assert_true(out.x[I_LANG_OTHER] == 1.0f);
                else
                        assert_true(out.x[I_LANG0 + cases[i].slot] == 1.0f);
                assert_int_equal(
                    ltrr_feature_bucket_parts(out.bucket, NULL, &group, NULL),
                    LTRR_OK);
                assert_int_equal(group, cases[i].slot < 0    ? 2
                                        : cases[i].slot == 0 ? 0
                                                             : 1);
        }
        ltrr_feature_destroy(fx);
}

static void test_query_length(void **state)
{
        static const struct {
                size_t tokens, chars;
                int bucket;
                float qtok, qchr;
        } cases[] = {{0, 0, 0, 0.0f, 0.0f},       {1, 3, 0, 0.125f, -1},
                     {2, 10, 1, 0.25f, -1},       {3, 12, 1, 0.375f, -1},
                     {4, 20, 2, 0.5f, -1},        {8, 64, 2, 1.0f, 1.0f},
                     {500, 100000, 2, 1.0f, 1.0f}};
        ltrr_feature_t *fx = new_fx(NULL);
        ltrr_feature_in_t in;
        ltrr_feature_ctx_t out;
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                golden_in(&in);
                in.n_tokens = cases[i].tokens;
                in.n_chars = cases[i].chars;
                compute(fx, &in, &out);
                assert_one_hot(&out);
                assert_true(out.x[I_Q1 + cases[i].bucket] == 1.0f);
                assert_float_equal(out.x[I_QTOK], cases[i].qtok, 1e-7);
                if (cases[i].qchr >= 0)
                        assert_float_equal(out.x[I_QCHR], cases[i].qchr, 1e-7);
                else
                        assert_float_equal(
                            out.x[I_QCHR],
                            log1p((double)cases[i].chars) / log1p(64.0), 1e-6);
        }
        assert_int_equal(ltrr_feature_utf8_chars("h\xc3\xa9llo", 6), 5);
        assert_int_equal(ltrr_feature_utf8_chars("\xe6\x97\xa5\xe6\x9c\xac", 6),
                         2);
        assert_int_equal(ltrr_feature_utf8_chars("", 0), 0);
        ltrr_feature_destroy(fx);
}

static void test_intent(void **state)
{
        ltrr_feature_t *fx = new_fx(NULL);
        ltrr_feature_in_t in;
        ltrr_feature_ctx_t out;
        ltrr_feature_intent_t it, parsed;
        char errstr[128] = "";

        (void)state;
        for (it = 0; it < LTRR_FEATURE_INTENT__CNT; it++) {
                golden_in(&in);
                in.intent = it;
                compute(fx, &in, &out);
                assert_one_hot(&out);
                assert_true(out.x[I_INTENT + (int)it] == 1.0f);
                assert_int_equal(ltrr_feature_intent_parse(
                                     ltrr_feature_intent2str(it), &parsed),
                                 LTRR_OK);
                assert_int_equal(parsed, it);
        }
        assert_string_equal(
            ltrr_feature_intent2str(LTRR_FEATURE_INTENT_TOPICAL), "topical");
        assert_string_equal(ltrr_feature_intent2str(LTRR_FEATURE_INTENT__CNT),
                            "unknown");
        assert_int_equal(ltrr_feature_intent_parse("track", &parsed),
                         LTRR_ERR_UNKNOWN_KEY);
        assert_int_equal(ltrr_feature_intent_parse(NULL, &parsed),
                         LTRR_ERR_UNKNOWN_KEY);
        in.intent = LTRR_FEATURE_INTENT__CNT;
        assert_int_equal(
            ltrr_feature_context(fx, &in, &out, errstr, sizeof(errstr)),
            LTRR_ERR_INVALID_ARG);
        assert_non_null(strstr(errstr, "intent"));
        in.intent = (ltrr_feature_intent_t)-1;
        assert_int_equal(
            ltrr_feature_context(fx, &in, &out, errstr, sizeof(errstr)),
            LTRR_ERR_INVALID_ARG);
        ltrr_feature_destroy(fx);
}

static void test_time_edges(void **state)
{
        const double two_pi = 6.283185307179586;
        ltrr_calendar_t *cal = load_sample();
        ltrr_feature_t *fx = new_fx(cal);
        ltrr_feature_in_t in;
        ltrr_feature_ctx_t out;
        ltrr_context_t rec;
        char errstr[128] = "";
        int off;

        (void)state;
        /* Midnight, Wednesday: hour angle 0. */
        golden_in(&in);
        in.time_ms = D_2026_11_25 * DAY_MS;
        compute(fx, &in, &out);
        assert_float_equal(out.x[I_HSIN], 0.0, 1e-7);
        assert_float_equal(out.x[I_HCOS], 1.0, 1e-7);
        assert_true(out.x[I_WEEKEND] == 0.0f && out.x[I_HOLIDAY] == 0.0f);
        /* One minute before midnight: just below angle 2 pi, Tuesday. */
        in.time_ms = D_2026_11_25 * DAY_MS - 60000;
        compute(fx, &in, &out);
        assert_float_equal(out.x[I_HSIN], sin(two_pi * (23 + 59 / 60.0) / 24),
                           1e-6);
        assert_true(out.x[I_HSIN] < 0.0f && out.x[I_HCOS] > 0.999f);
        assert_int_equal(out.day.lt.weekday, 1);
        /* Sunday noon: weekend, day off in the bucket. */
        in.time_ms = D_2026_11_29 * DAY_MS + 12 * HOUR_MS;
        compute(fx, &in, &out);
        assert_int_equal(out.day.lt.weekday, 6);
        assert_float_equal(out.x[I_WSIN], sin(two_pi * 6 / 7), 1e-6);
        assert_float_equal(out.x[I_WCOS], cos(two_pi * 6 / 7), 1e-6);
        assert_float_equal(out.x[I_HCOS], -1.0, 1e-6);
        assert_true(out.x[I_WEEKEND] == 1.0f && out.x[I_HOLIDAY] == 0.0f);
        assert_int_equal(out.bucket % 2, 1);
        ltrr_feature_to_record(&out, &rec);
        assert_true(rec.holiday);
        assert_int_equal(rec.weekday, 6);
        assert_int_equal(rec.hour, 12);
        /* Holiday in the conf's region "us" (2026-07-04, local time). */
        in.time_ms = D_2026_07_04 * DAY_MS + 10 * HOUR_MS;
        compute(fx, &in, &out);
        assert_true(out.x[I_HOLIDAY] == 1.0f && out.x[I_WEEKEND] == 1.0f);
        /* A request region overrides the conf's. */
        in.region = "de";
        compute(fx, &in, &out);
        assert_true(out.x[I_HOLIDAY] == 0.0f);
        /* The request offset moves the local day: 2026-07-05 03:00Z at
         * UTC-5 is still the 4th; at the conf's UTC it is the 5th. */
        in.region = NULL;
        in.time_ms = D_2026_07_04 * DAY_MS + DAY_MS + 3 * HOUR_MS;
        in.utc_offset_min = -300;
        compute(fx, &in, &out);
        assert_true(out.x[I_HOLIDAY] == 1.0f);
        assert_int_equal(out.day.lt.hour, 22);
        in.utc_offset_min = LTRR_FEATURE_OFFSET_DEFAULT;
        compute(fx, &in, &out);
        assert_true(out.x[I_HOLIDAY] == 0.0f);
        for (off = -841; off <= 841; off += 1682) {
                in.utc_offset_min = off;
                assert_int_equal(
                    ltrr_feature_context(fx, &in, &out, errstr, sizeof(errstr)),
                    LTRR_ERR_RANGE);
        }
        ltrr_feature_destroy(fx);
        ltrr_calendar_destroy(cal);
}

static void test_history(void **state)
{
        static const struct {
                uint64_t q, e;
                ltrr_feature_segment_t seg;
                float rate;
        } cases[] = {
            {0, 0, LTRR_FEATURE_SEG_NEW, 0.0f},
            {0, 50, LTRR_FEATURE_SEG_NEW, 0.0f},
            {4, 1, LTRR_FEATURE_SEG_NEW, 0.25f},
            {5, 0, LTRR_FEATURE_SEG_CASUAL, 0.0f},
            {199, 199, LTRR_FEATURE_SEG_CASUAL, 1.0f},
            {200, 500, LTRR_FEATURE_SEG_HEAVY, 1.0f},
            {UINT64_MAX, UINT64_MAX / 2, LTRR_FEATURE_SEG_HEAVY, 0.5f}};
        ltrr_feature_t *fx = new_fx(NULL);
        ltrr_feature_in_t in;
        ltrr_feature_ctx_t out;
        ltrr_context_t rec;
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                golden_in(&in);
                in.hist_queries = cases[i].q;
                in.hist_engaged = cases[i].e;
                compute(fx, &in, &out);
                assert_one_hot(&out);
                assert_int_equal(out.segment, cases[i].seg);
                assert_true(out.x[I_SEG + (int)cases[i].seg] == 1.0f);
                assert_float_equal(out.x[I_HR], cases[i].rate, 1e-6);
                assert_true(out.x[I_HQ] >= 0.0f && out.x[I_HQ] <= 1.0f);
                assert_true(out.x[I_HE] >= 0.0f && out.x[I_HE] <= 1.0f);
                ltrr_feature_to_record(&out, &rec);
                assert_string_equal(rec.user_segment,
                                    ltrr_feature_segment2str(cases[i].seg));
        }
        /* Zero history is all zeros; huge history saturates at 1. */
        golden_in(&in);
        in.hist_queries = 0;
        in.hist_engaged = 0;
        compute(fx, &in, &out);
        assert_true(out.x[I_HQ] == 0.0f && out.x[I_HE] == 0.0f);
        in.hist_queries = UINT64_MAX;
        in.hist_engaged = LTRR_FEATURE_HIST_CAP;
        compute(fx, &in, &out);
        assert_true(out.x[I_HQ] == 1.0f && out.x[I_HE] == 1.0f);
        assert_string_equal(ltrr_feature_segment2str(LTRR_FEATURE_SEG__CNT),
                            "unknown");
        ltrr_feature_destroy(fx);
}

/* The bucket of one (shape, intent, language group, day off): the
 * documented formula, inverted by bucket_parts() and bucket_shape(), and
 * the shape read back from the vector as the learner does. */
/* The subsets bucket of @p in at several query lengths keeps shape,
 * intent and day off, holds the length class in the language slot, and
 * is a fixed point. */
static void check_subsets(const ltrr_feature_t *fx, ltrr_feature_in_t *in,
                          int sh, int it)
{
        static const size_t toks[] = {0, 1, 2, 3, 4, 9};
        static const int cls[] = {0, 0, 1, 1, 2, 2};
        size_t n_tokens = in->n_tokens, n_unknown = in->n_unknown, i;

        for (i = 0; i < 2 * sizeof(toks) / sizeof(toks[0]); i++) {
                ltrr_feature_ctx_t out;
                ltrr_feature_intent_t pi;
                uint32_t p;
                int pl, pd, dof = (int)(i & 1);

                in->n_tokens = toks[i / 2];
                in->n_unknown = dof ? 1 + i % 3 : 0;
                compute(fx, in, &out);
                p = ltrr_feature_bucket_subsets(out.bucket, out.x,
                                                LTRR_FEATURE_CTX_DIM);
                assert_true(p < LTRR_FEATURE_BUCKETS);
                ltrr_feature_bucket_parts(p, &pi, &pl, &pd);
                assert_int_equal(pi, it);
                assert_int_equal(pl, cls[i / 2]);
                assert_int_equal(pd, dof); /* the unknown-word slot */
                assert_int_equal(ltrr_feature_bucket_shape(p), sh);
                assert_int_equal(ltrr_feature_bucket_subsets(
                                     p, out.x, LTRR_FEATURE_CTX_DIM),
                                 p);
                /* no vector, or one of another length: class 0, known */
                ltrr_feature_bucket_parts(
                    ltrr_feature_bucket_subsets(out.bucket, NULL, 0), NULL,
                    &pl, &pd);
                assert_int_equal(pl, 0);
                assert_int_equal(pd, 0);
                ltrr_feature_bucket_parts(
                    ltrr_feature_bucket_subsets(out.bucket, out.x,
                                                LTRR_FEATURE_CTX_DIM - 1),
                    NULL, &pl, &pd);
                assert_int_equal(pl, 0);
                assert_int_equal(pd, 0);
        }
        in->n_tokens = n_tokens;
        in->n_unknown = n_unknown;
}

static uint32_t check_bucket(const ltrr_feature_t *fx, int sh, int it, int lg,
                             int dof)
{
        static const char *const langs[3] = {"en", "fr", "zz"};
        static const int64_t days[2] = {D_2026_11_25, D_2026_11_29};
        static const char *const texts[LTRR_FEATURE_SHAPE__CNT] = {
            "love story", "new taylor swift"};
        ltrr_feature_in_t in;
        ltrr_feature_ctx_t out;
        ltrr_feature_intent_t pi;
        int pl, pd;

        golden_in(&in);
        in.text = texts[sh];
        in.intent = (ltrr_feature_intent_t)it;
        in.lang = langs[lg];
        in.time_ms = days[dof] * DAY_MS;
        compute(fx, &in, &out);
        assert_true(out.bucket < LTRR_FEATURE_BUCKETS);
        assert_int_equal(out.bucket, sh * 24 + (it * 3 + lg) * 2 + dof);
        assert_int_equal(ltrr_feature_bucket_parts(out.bucket, &pi, &pl, &pd),
                         LTRR_OK);
        assert_int_equal(pi, it);
        assert_int_equal(pl, lg);
        assert_int_equal(pd, dof);
        assert_int_equal(ltrr_feature_bucket_shape(out.bucket), sh);
        assert_int_equal(ltrr_feature_shape_of(out.x, LTRR_FEATURE_CTX_DIM),
                         sh);
        check_subsets(fx, &in, sh, it);
        return out.bucket;
}

/* Every (shape, intent, language group, day off) gives its own bucket,
 * always the same id. */
static void test_buckets(void **state)
{
        ltrr_feature_t *fx = new_fx(NULL);
        int seen[LTRR_FEATURE_BUCKETS] = {0};
        int it, lg, dof, sh;

        (void)state;
        for (sh = 0; sh < LTRR_FEATURE_SHAPE__CNT; sh++)
                for (it = 0; it < LTRR_FEATURE_INTENT__CNT; it++)
                        for (lg = 0; lg < 3; lg++)
                                for (dof = 0; dof < 2; dof++)
                                        seen[check_bucket(fx, sh, it, lg,
                                                          dof)]++;
        for (it = 0; it < LTRR_FEATURE_BUCKETS; it++)
                assert_int_equal(seen[it], 1);
        assert_int_equal(
            ltrr_feature_bucket_parts(LTRR_FEATURE_BUCKETS, NULL, NULL, NULL),
            LTRR_ERR_RANGE);
        assert_int_equal(ltrr_feature_bucket_shape(LTRR_FEATURE_BUCKETS),
                         LTRR_FEATURE_SHAPE__CNT);
        assert_int_equal(ltrr_feature_bucket_subsets(LTRR_FEATURE_BUCKETS,
                                                     NULL, 0),
                         LTRR_FEATURE_BUCKETS);
        ltrr_feature_destroy(fx);
}

/* Recency words are whole words; other words, NULL and a vector of the
 * wrong length are plain. */
static void test_text_shape(void **state)
{
        static const struct {
                const char *text;
                ltrr_feature_shape_t want;
        } cases[] = {
            {"new", LTRR_FEATURE_SHAPE_FRESH},
            {"new taylor swift", LTRR_FEATURE_SHAPE_FRESH},
            {"taylor swift latest", LTRR_FEATURE_SHAPE_FRESH},
            {"  newest  rock ", LTRR_FEATURE_SHAPE_FRESH},
            {"recent", LTRR_FEATURE_SHAPE_FRESH},
            {"new york new york", LTRR_FEATURE_SHAPE_FRESH},
            {"newton", LTRR_FEATURE_SHAPE_PLAIN},
            {"renew", LTRR_FEATURE_SHAPE_PLAIN},
            {"ne w", LTRR_FEATURE_SHAPE_PLAIN},
            {"love story", LTRR_FEATURE_SHAPE_PLAIN},
            {"", LTRR_FEATURE_SHAPE_PLAIN},
            {"   ", LTRR_FEATURE_SHAPE_PLAIN},
            {NULL, LTRR_FEATURE_SHAPE_PLAIN},
        };
        float x[LTRR_FEATURE_CTX_DIM] = {0};
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                assert_int_equal(ltrr_feature_text_shape(cases[i].text),
                                 cases[i].want);
        assert_int_equal(ltrr_feature_fresh_word("latest", 6), 1);
        assert_int_equal(ltrr_feature_fresh_word("newer", 3), 1);
        assert_int_equal(ltrr_feature_fresh_word("newer", 5), 0);
        assert_int_equal(ltrr_feature_fresh_word(NULL, 0), 0);
        x[LTRR_FEATURE_CTX_DIM - 2] = 1.0f; /* q_fresh_cue */
        assert_int_equal(ltrr_feature_shape_of(x, LTRR_FEATURE_CTX_DIM),
                         LTRR_FEATURE_SHAPE_FRESH);
        assert_int_equal(ltrr_feature_shape_of(x, LTRR_FEATURE_CTX_DIM - 1),
                         LTRR_FEATURE_SHAPE_PLAIN);
        assert_int_equal(ltrr_feature_shape_of(NULL, LTRR_FEATURE_CTX_DIM),
                         LTRR_FEATURE_SHAPE_PLAIN);
}

static void test_random_inputs_in_range(void **state)
{
        ltrr_feature_t *fx = new_fx(NULL);
        ltrr_feature_in_t in;
        ltrr_feature_ctx_t out;
        uint64_t s = 12345;
        int n, i;

        (void)state;
        for (n = 0; n < 20000; n++) {
                s = s * 6364136223846793005ULL + 1442695040888963407ULL;
                golden_in(&in);
                in.n_tokens = (size_t)(s >> 58);
                in.n_chars = (size_t)(s >> 50);
                in.intent = (ltrr_feature_intent_t)((s >> 20) % 4);
                in.time_ms = (int64_t)(s >> 24);
                in.utc_offset_min = (int32_t)((s >> 8) % 1681) - 840;
                in.hist_queries = s >> (s % 64);
                in.hist_engaged = s >> ((s >> 6) % 64);
                compute(fx, &in, &out);
                assert_one_hot(&out);
                for (i = 0; i < LTRR_FEATURE_CTX_DIM; i++)
                        assert_true(isfinite(out.x[i]) && out.x[i] >= -1.0f &&
                                    out.x[i] <= 1.0f);
        }
        ltrr_feature_destroy(fx);
}

static void test_arm_features(void **state)
{
        const float scores[5] = {1.0f, 3.0f, NAN, 0.5f, INFINITY};
        const uint8_t flags[5] = {
            LTRR_FEATURE_ENT_NEW,
            LTRR_FEATURE_ENT_NEW | LTRR_FEATURE_ENT_POPULAR, 0,
            LTRR_FEATURE_ENT_PERSONAL, LTRR_FEATURE_ENT_POPULAR};
        ltrr_feature_arm_in_t a;
        float x[LTRR_FEATURE_ARM_DIM];
        char errstr[128] = "";

        (void)state;
        memset(&a, 0, sizeof(a));
        a.success = 0.3;
        a.budget = 10;
        a.n = 5;
        a.scores = scores;
        a.flags = flags;
        assert_int_equal(ltrr_feature_arm(&a, x, errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_float_equal(x[0], 0.3, 1e-7);
        assert_true(x[1] == 1.0f);
        assert_float_equal(x[2], log1p(5.0) / log1p(1000.0), 1e-6);
        assert_float_equal(x[3], 0.5, 1e-7);
        assert_float_equal(x[4], 0.75, 1e-7); /* top 3 (NaN, inf skipped) */
        assert_float_equal(x[5], 0.4, 1e-7);
        assert_float_equal(x[6], 0.4, 1e-7);
        assert_float_equal(x[7], 0.2, 1e-7);
        /* Unknown success, no flags, more candidates than the budget. */
        a.success = -1;
        a.flags = NULL;
        a.budget = 2;
        assert_int_equal(ltrr_feature_arm(&a, x, errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_true(x[0] == 0.0f && x[1] == 0.0f && x[3] == 1.0f);
        assert_true(x[5] == 0.0f && x[6] == 0.0f && x[7] == 0.0f);
        /* Nothing returned, no budget. */
        a.n = 0;
        a.scores = NULL;
        a.budget = 0;
        assert_int_equal(ltrr_feature_arm(&a, x, errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_true(x[2] == 0.0f && x[3] == 0.0f && x[4] == 0.0f);
        /* Huge lists saturate. */
        a.n = 5000000;
        a.scores = calloc(a.n, sizeof(float));
        assert_non_null(a.scores);
        a.budget = 100;
        assert_int_equal(ltrr_feature_arm(&a, x, errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_true(x[2] == 1.0f && x[3] == 1.0f && x[4] == 0.0f);
        free((void *)a.scores);
        /* Failures. */
        a.n = 3;
        a.scores = NULL;
        assert_int_equal(ltrr_feature_arm(&a, x, errstr, sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        a.scores = scores;
        a.success = 1.5;
        assert_int_equal(ltrr_feature_arm(&a, x, errstr, sizeof(errstr)),
                         LTRR_ERR_RANGE);
        assert_non_null(strstr(errstr, "success"));
        a.success = NAN;
        assert_int_equal(ltrr_feature_arm(&a, x, errstr, sizeof(errstr)),
                         LTRR_ERR_RANGE);
}

static void test_bandit_and_record(void **state)
{
        ltrr_feature_t *fx = new_fx(NULL);
        ltrr_feature_in_t in;
        ltrr_feature_ctx_t out;
        ltrr_bandit_ctx_t bc;
        ltrr_context_t rec;

        (void)state;
        golden_in(&in);
        compute(fx, &in, &out);
        memset(&bc, 0, sizeof(bc));
        bc.seed = 99;
        ltrr_feature_to_bandit(&out, &bc);
        assert_ptr_equal(bc.x, out.x);
        assert_int_equal(bc.dim, LTRR_FEATURE_CTX_DIM);
        assert_true(bc.dim <= LTRR_BANDIT_MAX_DIM);
        assert_int_equal(bc.feature_version, GOLDEN_FULL_VERSION);
        assert_int_equal(bc.bucket, GOLDEN_BUCKET);
        assert_int_equal(bc.seed, 99); /* left alone */
        ltrr_feature_to_record(&out, &rec);
        assert_int_equal(rec.feature_version, (int32_t)GOLDEN_FULL_VERSION);
        assert_ptr_equal(rec.features, out.x);
        assert_int_equal(rec.feature_cnt, LTRR_FEATURE_CTX_DIM);
        assert_string_equal(rec.query_type, "artist");
        assert_int_equal(rec.hour, 14);
        assert_int_equal(rec.weekday, 2);
        assert_false(rec.holiday);
        assert_string_equal(rec.user_segment, "casual");
        ltrr_feature_destroy(fx);
}

static int name_ok(const char *s)
{
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
                      *s == '_'))
                        return 0;
        return 1;
}

static void test_layout_table(void **state)
{
        static const struct {
                int index;
                const char *name;
        } pins[] = {{I_BIAS, "bias"},        {I_LANG1, "lang_1"},
                    {I_LANG3, "lang_3"},     {I_LANG_OTHER, "lang_other"},
                    {I_QTOK, "qlen_tokens"}, {I_QCHR, "qlen_chars"},
                    {I_Q23, "qlen_2_3"},     {I_Q4, "qlen_4plus"},
                    {I_HSIN, "hour_sin"},    {I_WCOS, "weekday_cos"},
                    {I_WEEKEND, "weekend"},  {I_HOLIDAY, "holiday"},
                    {I_SEG, "seg_new"},      {I_HR, "hist_engage_rate"}};
        size_t cnt, i, j;
        const ltrr_feature_fdesc_t *t = ltrr_feature_layout(&cnt);
        int ctx_seen[LTRR_FEATURE_CTX_DIM] = {0};
        int arm_seen[LTRR_FEATURE_ARM_DIM] = {0};

        (void)state;
        assert_int_equal(cnt, LTRR_FEATURE_CTX_DIM + LTRR_FEATURE_ARM_DIM);
        for (i = 0; i < cnt; i++) {
                assert_true(name_ok(t[i].name));
                assert_true(*t[i].desc && *t[i].type && *t[i].range);
                for (j = 0; j < i; j++)
                        assert_string_not_equal(t[i].name, t[j].name);
                if (t[i].group == LTRR_FEATURE_GROUP_CTX) {
                        assert_in_range(t[i].index, 0,
                                        LTRR_FEATURE_CTX_DIM - 1);
                        ctx_seen[t[i].index]++;
                } else {
                        assert_in_range(t[i].index, 0,
                                        LTRR_FEATURE_ARM_DIM - 1);
                        arm_seen[t[i].index]++;
                }
        }
        for (i = 0; i < LTRR_FEATURE_CTX_DIM; i++)
                assert_int_equal(ctx_seen[i], 1);
        for (i = 0; i < LTRR_FEATURE_ARM_DIM; i++)
                assert_int_equal(arm_seen[i], 1);
        for (i = 0; i < sizeof(pins) / sizeof(pins[0]); i++)
                for (j = 0; j < cnt; j++)
                        if (t[j].group == LTRR_FEATURE_GROUP_CTX &&
                            t[j].index == pins[i].index)
                                assert_string_equal(t[j].name, pins[i].name);
}

/* docs/FEATURES.md holds the rendered table, byte for byte. */
static void test_render_and_docs(void **state)
{
        const char *src = getenv("LTRR_SRC");
        char *buf = malloc(16384), *doc = malloc(65536), path[1024];
        size_t cnt, i, n;
        const ltrr_feature_fdesc_t *t = ltrr_feature_layout(&cnt);
        FILE *fp;

        (void)state;
        assert_non_null(buf);
        assert_non_null(doc);
        assert_int_equal(ltrr_feature_layout_render(buf, 16384), LTRR_OK);
        for (i = 0; i < cnt; i++)
                assert_non_null(strstr(buf, t[i].name));
        assert_int_equal(ltrr_feature_layout_render(buf, 100),
                         LTRR_ERR_NOSPACE);
        assert_true(strlen(buf) < 100);
        assert_int_equal(ltrr_feature_layout_render(buf, 0), LTRR_ERR_NOSPACE);
        assert_int_equal(ltrr_feature_layout_render(buf, 16384), LTRR_OK);
        snprintf(path, sizeof(path), "%s/docs/FEATURES.md", src ? src : ".");
        fp = fopen(path, "rb");
        if (!fp)
                fail_msg("cannot open %s (set LTRR_SRC)", path);
        n = fread(doc, 1, 65535, fp);
        fclose(fp);
        doc[n] = '\0';
        if (!strstr(doc, buf))
                fail_msg("docs/FEATURES.md is out of date; paste the output "
                         "of ltrr_feature_layout_render():\n%s",
                         buf);
        free(buf);
        free(doc);
}

static void test_debug_output(void **state)
{
        ltrr_feature_t *fx = new_fx(NULL);
        ltrr_feature_in_t in;
        ltrr_feature_ctx_t out;
        float ax[LTRR_FEATURE_ARM_DIM] = {0.5f, 1, 0, 0, 0, 0, 0, 0.25f};
        char buf[2048];

        (void)state;
        golden_in(&in);
        compute(fx, &in, &out);
        assert_int_equal(
            ltrr_feature_debug(LTRR_FEATURE_GROUP_CTX, out.x, buf, sizeof(buf)),
            LTRR_OK);
        assert_non_null(strstr(buf, "bias=1 lang_0=1 lang_1=0"));
        assert_non_null(strstr(buf, " qlen_tokens=0.25 "));
        assert_non_null(strstr(buf, " intent_artist=1 "));
        assert_non_null(strstr(buf, " hist_engage_rate=0.404762"));
        assert_int_equal(
            ltrr_feature_debug(LTRR_FEATURE_GROUP_ARM, ax, buf, sizeof(buf)),
            LTRR_OK);
        assert_string_equal(buf, "arm_success=0.5 arm_success_known=1 "
                                 "arm_results=0 arm_fill=0 arm_top_score=0 "
                                 "arm_share_new=0 arm_share_popular=0 "
                                 "arm_share_personal=0.25");
        assert_int_equal(
            ltrr_feature_debug(LTRR_FEATURE_GROUP_CTX, out.x, buf, 20),
            LTRR_ERR_NOSPACE);
        assert_true(strlen(buf) < 20);
        ltrr_feature_destroy(fx);
}

/* Context features must cost well under 1 us per query. */
static void test_speed(void **state)
{
        ltrr_calendar_t *cal = load_sample();
        ltrr_feature_t *fx = new_fx(cal);
        ltrr_feature_in_t in;
        ltrr_feature_ctx_t out;
        struct timespec t0, t1;
        const int n = 1000000;
        double ns, sink = 0;
        int i;

        (void)state;
        golden_in(&in);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (i = 0; i < n; i++) {
                in.time_ms += 61000;
                in.hist_queries = (uint64_t)i;
                if (ltrr_feature_context(fx, &in, &out, NULL, 0) != LTRR_OK)
                        fail();
                sink += out.x[I_HSIN];
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
              (double)(t1.tv_nsec - t0.tv_nsec)) /
             n;
        print_message("context features: %.1f ns/query (%d queries, "
                      "calendar of %zu dates; sink %g)\n",
                      ns, n, ltrr_calendar_count(cal), sink);
#if defined(__SANITIZE_ADDRESS__)
        assert_true(ns < 20000.0); /* instrumented: only a sanity bound */
#else
        assert_true(ns < 1000.0);
#endif
        ltrr_feature_destroy(fx);
        ltrr_calendar_destroy(cal);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_destroy_null),
            cmocka_unit_test(test_golden_vector),
            cmocka_unit_test(test_conf_errors),
            cmocka_unit_test(test_version_tag),
            cmocka_unit_test(test_language),
            cmocka_unit_test(test_query_length),
            cmocka_unit_test(test_intent),
            cmocka_unit_test(test_time_edges),
            cmocka_unit_test(test_history),
            cmocka_unit_test(test_buckets),
        cmocka_unit_test(test_text_shape),
            cmocka_unit_test(test_random_inputs_in_range),
            cmocka_unit_test(test_arm_features),
            cmocka_unit_test(test_bandit_and_record),
            cmocka_unit_test(test_layout_table),
            cmocka_unit_test(test_render_and_docs),
            cmocka_unit_test(test_debug_output),
            cmocka_unit_test(test_speed),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
