/* Unit tests: online learning-to-rank model. */
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

#include "position_bias.h"
#include "arm.h"
#include "ranker.h"

#define NF LTRR_RANKER_NFEAT

#if defined(__SANITIZE_ADDRESS__)
#define SCORE_800_MAX_US 1000.0 /* instrumented build: sanity bound only */
#else
#define SCORE_800_MAX_US 50.0
#endif

/* splitmix64, local to the test so it depends on nothing else. */
static uint64_t t_rand(uint64_t *st)
{
        uint64_t z = (*st += 0x9e3779b97f4a7c15ULL);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

static double t_unif(uint64_t *st)
{
        return (double)(t_rand(st) >> 11) / 9007199254740992.0;
}

static double t_now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static ltrr_ranker_t *new_ranker(void)
{
        char errstr[128];
        ltrr_ranker_t *rk = ltrr_ranker_new(NULL, errstr, sizeof(errstr));

        assert_non_null(rk);
        return rk;
}

static void test_layout_table(void **state)
{
        const ltrr_ranker_fdesc_t *l;
        size_t cnt, i, j;

        l = ltrr_ranker_layout(&cnt);
        assert_int_equal(cnt, NF);
        for (i = 0; i < cnt; i++) {
                assert_int_equal(l[i].index, (int)i);
                assert_true(strlen(l[i].desc) > 0);
                assert_int_equal(strspn(l[i].name,
                                        "abcdefghijklmnopqrstuvwxyz0123456789_"),
                                 strlen(l[i].name));
                for (j = 0; j < i; j++)
                        assert_string_not_equal(l[i].name, l[j].name);
        }
        assert_string_equal(l[LTRR_RANKER_F_BIAS].name, "bias");
        assert_string_equal(l[LTRR_RANKER_F_Q2E].name, "q2e");
        /* arm slots follow the arm registry: fresh is arm 3, semantic 7 */
        assert_string_equal(l[LTRR_RANKER_F_FOUND_BY + 3].name, "found_fresh");
        assert_string_equal(l[LTRR_RANKER_F_FOUND_BY + 7].name,
                            "found_semantic");
        /* ... and must keep following it when arms are added */
        for (i = 0; i < ltrr_arm_count() && i < LTRR_RANKER_NARMS; i++) {
                char want[64];

                snprintf(want, sizeof(want), "found_%s", ltrr_arm_get(i)->name);
                assert_string_equal(l[LTRR_RANKER_F_FOUND_BY + i].name, want);
                snprintf(want, sizeof(want), "arm_score_%s",
                         ltrr_arm_get(i)->name);
                assert_string_equal(l[LTRR_RANKER_F_ARM_SCORE + i].name, want);
        }
}

/* docs/RANKER.md must carry the table exactly as the code renders it. */
static void test_layout_docs_in_sync(void **state)
{
        static char table[8192], doc[32768];
        char path[1024];
        FILE *f;
        size_t len;

        assert_int_equal(ltrr_ranker_layout_render(table, 16),
                         LTRR_ERR_NOSPACE);
        assert_int_equal(ltrr_ranker_layout_render(table, sizeof(table)),
                         LTRR_OK);
        assert_non_null(strstr(table, "| 21 | `q2e` |"));
        snprintf(path, sizeof(path), "%s/../docs/RANKER.md", LTRR_SCHEMA_DIR);
        f = fopen(path, "r");
        assert_non_null(f);
        len = fread(doc, 1, sizeof(doc) - 1, f);
        fclose(f);
        doc[len] = '\0';
        assert_non_null(strstr(doc, table));
}

static void test_features_build(void **state)
{
        ltrr_ranker_cand_t c[2];
        float x[2 * NF];

        memset(c, 0, sizeof(c));
        c[0].arm_score[0] = 4.0f; /* lexical */
        c[0].arm_score[5] = 0.5f; /* memory */
        c[0].found_mask = 0x21;
        c[0].bm25 = 5.0f;
        c[0].popularity = exp(8.0) - 1.0;
        c[0].age_days = 10;
        c[0].q2e = 1.7f; /* clamped */
        c[0].exact_name = 1;
        c[0].query_tokens = 25;
        c[1].arm_score[0] = 8.0f;
        c[1].found_mask = 0x01;
        c[1].age_days = -1;
        c[1].token_overlap = NAN;
        assert_int_equal(ltrr_ranker_features_build(c, 2, x), LTRR_OK);
        assert_float_equal(x[LTRR_RANKER_F_BIAS], 1.0, 1e-6);
        assert_float_equal(x[LTRR_RANKER_F_ARM_SCORE + 0], 0.5, 1e-6);
        assert_float_equal(x[LTRR_RANKER_F_ARM_SCORE + 5], 1.0, 1e-6);
        assert_float_equal(x[LTRR_RANKER_F_FOUND_BY + 0], 1.0, 1e-6);
        assert_float_equal(x[LTRR_RANKER_F_FOUND_BY + 5], 1.0, 1e-6);
        assert_float_equal(x[LTRR_RANKER_F_FOUND_BY + 1], 0.0, 1e-6);
        assert_float_equal(x[LTRR_RANKER_F_N_ARMS], 0.25, 1e-6);
        assert_float_equal(x[LTRR_RANKER_F_BM25], 0.5, 1e-6);
        assert_float_equal(x[LTRR_RANKER_F_LOG_POP], 0.5, 1e-5);
        assert_float_equal(x[LTRR_RANKER_F_AGE], log(11.0) / log(3651.0),
                           1e-5);
        assert_float_equal(x[LTRR_RANKER_F_IS_NEW], 1.0, 1e-6);
        assert_float_equal(x[LTRR_RANKER_F_Q2E], 1.0, 1e-6);
        assert_float_equal(x[LTRR_RANKER_F_EXACT_NAME], 1.0, 1e-6);
        assert_float_equal(x[LTRR_RANKER_F_QUERY_LEN], 1.0, 1e-6);
        assert_float_equal(x[NF + LTRR_RANKER_F_ARM_SCORE], 1.0, 1e-6);
        assert_float_equal(x[NF + LTRR_RANKER_F_AGE], 1.0, 1e-6);
        assert_float_equal(x[NF + LTRR_RANKER_F_IS_NEW], 0.0, 1e-6);
        assert_float_equal(x[NF + LTRR_RANKER_F_TOKEN_OVERLAP], 0.0, 1e-6);
        assert_int_equal(ltrr_ranker_features_build(
                             c, LTRR_RANKER_MAX_CANDS + 1, x),
                         LTRR_ERR_INVALID_ARG);
}

static void test_score_hand_computed(void **state)
{
        double w[NF] = {0};
        float x[2 * NF] = {0}, s[2], wf[NF];
        ltrr_ranker_t *rk = new_ranker();
        char errstr[128];
        uint64_t c0, c1, h0, h1;

        w[LTRR_RANKER_F_BIAS] = -1.0;
        w[LTRR_RANKER_F_BM25] = 2.0;
        w[LTRR_RANKER_F_Q2E] = 0.5;
        w[LTRR_RANKER_F_USER_SEEN] = -0.25;
        x[LTRR_RANKER_F_BIAS] = 1.0f;
        x[LTRR_RANKER_F_BM25] = 0.75f;
        x[LTRR_RANKER_F_Q2E] = 0.4f;
        x[NF + LTRR_RANKER_F_BIAS] = 1.0f;
        x[NF + LTRR_RANKER_F_USER_SEEN] = 1.0f;
        ltrr_ranker_version(rk, &c0, &h0);
        assert_int_equal(ltrr_ranker_weights_set(rk, w, NF, errstr,
                                                 sizeof(errstr)),
                         LTRR_OK);
        ltrr_ranker_version(rk, &c1, &h1);
        assert_int_equal(c1, c0 + 1);
        assert_true(h1 != h0);
        ltrr_ranker_weights_get(rk, wf);
        assert_float_equal(wf[LTRR_RANKER_F_BM25], 2.0, 1e-6);
        assert_float_equal(wf[LTRR_RANKER_F_USER_SEEN], -0.25, 1e-6);
        ltrr_ranker_score(rk, x, 2, s);
        assert_float_equal(s[0], -1.0 + 1.5 + 0.2, 1e-5); /* 0.7 */
        assert_float_equal(s[1], -1.25, 1e-5);
        assert_float_equal(ltrr_ranker_predict(rk, x),
                           1.0 / (1.0 + exp(-0.7)), 1e-5);
        w[3] = NAN;
        assert_int_equal(ltrr_ranker_weights_set(rk, w, NF, errstr,
                                                 sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_ranker_weights_set(rk, w, 3, NULL, 0),
                         LTRR_ERR_INVALID_ARG);
        ltrr_ranker_destroy(rk);
}

static void test_topk(void **state)
{
        const float s[] = {0.5f, 2.0f, NAN, 2.0f, -1.0f, 3.0f, 0.5f};
        uint32_t idx[8];

        assert_int_equal(ltrr_ranker_topk(s, 7, 3, idx), 3);
        assert_int_equal(idx[0], 5);
        assert_int_equal(idx[1], 1); /* tie: lower index first */
        assert_int_equal(idx[2], 3);
        assert_int_equal(ltrr_ranker_topk(s, 7, 8, idx), 7);
        assert_int_equal(idx[3], 0);
        assert_int_equal(idx[4], 6);
        assert_int_equal(idx[5], 4);
        assert_int_equal(idx[6], 2); /* NaN last */
        assert_int_equal(ltrr_ranker_topk(s, 7, 0, idx), 0);
        assert_int_equal(ltrr_ranker_topk(s, 0, 3, idx), 0);
        assert_int_equal(ltrr_ranker_topk(s, 1, 1, idx), 1);
        assert_int_equal(idx[0], 0);
}

/* topk agrees with a full sort on random data. */
static void test_topk_random(void **state)
{
        float s[500];
        uint32_t idx[50];
        uint64_t st = 3;
        int i, j, better;

        for (i = 0; i < 500; i++)
                s[i] = (float)(t_rand(&st) % 200); /* many ties */
        assert_int_equal(ltrr_ranker_topk(s, 500, 50, idx), 50);
        for (i = 0; i < 50; i++) {
                better = 0; /* entries that must precede idx[i] */
                for (j = 0; j < 500; j++)
                        if (s[j] > s[idx[i]] ||
                            (s[j] == s[idx[i]] && (uint32_t)j < idx[i]))
                                better++;
                assert_int_equal(better, i);
        }
}

static void test_update_direction(void **state)
{
        ltrr_ranker_t *rk = new_ranker();
        float x[NF] = {0}, w0[NF], w1[NF];
        double p0, p1;
        int i;

        x[LTRR_RANKER_F_BIAS] = 1.0f;
        x[LTRR_RANKER_F_Q2E] = 0.8f;
        p0 = ltrr_ranker_predict(rk, x);
        assert_float_equal(p0, 0.5, 1e-9);
        ltrr_ranker_weights_get(rk, w0);
        for (i = 0; i < 5; i++)
                assert_int_equal(ltrr_ranker_update(rk, x, 1.0, 1.0), LTRR_OK);
        ltrr_ranker_weights_get(rk, w1);
        p1 = ltrr_ranker_predict(rk, x);
        assert_true(w1[LTRR_RANKER_F_Q2E] > w0[LTRR_RANKER_F_Q2E]);
        assert_true(w1[LTRR_RANKER_F_BIAS] > 0);
        assert_true(p1 > p0);
        assert_float_equal(w1[LTRR_RANKER_F_BM25], 0.0, 0.0); /* x == 0 */
        for (i = 0; i < 20; i++)
                assert_int_equal(ltrr_ranker_update(rk, x, 0.0, 1.0), LTRR_OK);
        ltrr_ranker_weights_get(rk, w0);
        assert_true(w0[LTRR_RANKER_F_Q2E] < w1[LTRR_RANKER_F_Q2E]);
        assert_true(ltrr_ranker_predict(rk, x) < p1);
        ltrr_ranker_destroy(rk);
}

/* An IPW label (click at a low position) pushes harder than a raw one. */
static void test_update_click_ipw(void **state)
{
        ltrr_ranker_t *a = new_ranker(), *b = new_ranker();
        ltrr_pbias_table_t tab;
        float x[NF] = {0}, wa[NF], wb[NF];

        assert_int_equal(ltrr_pbias_table_init(&tab, 5, 0.05, NULL, 0),
                         LTRR_OK);
        tab.prop[4] = 0.2;
        x[LTRR_RANKER_F_BIAS] = 1.0f;
        x[LTRR_RANKER_F_BM25] = 1.0f;
        assert_int_equal(ltrr_ranker_update_click(a, x, 1, 5, NULL), LTRR_OK);
        assert_int_equal(ltrr_ranker_update_click(b, x, 1, 5, &tab), LTRR_OK);
        ltrr_ranker_weights_get(a, wa);
        ltrr_ranker_weights_get(b, wb);
        assert_true(wa[LTRR_RANKER_F_BM25] > 0);
        assert_true(wb[LTRR_RANKER_F_BM25] > 2 * wa[LTRR_RANKER_F_BM25]);
        ltrr_ranker_destroy(a);
        ltrr_ranker_destroy(b);
}

static void test_update_rejects_bad_input(void **state)
{
        ltrr_ranker_t *rk = new_ranker();
        float x[NF] = {0};
        uint64_t c0, c1, h0, h1;

        x[0] = 1.0f;
        ltrr_ranker_version(rk, &c0, &h0);
        assert_int_equal(ltrr_ranker_update(rk, x, -0.5, 1.0),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_ranker_update(rk, x, 11.0, 1.0),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_ranker_update(rk, x, NAN, 1.0),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_ranker_update(rk, x, 1.0, -1.0),
                         LTRR_ERR_INVALID_ARG);
        x[7] = INFINITY;
        assert_int_equal(ltrr_ranker_update(rk, x, 1.0, 1.0),
                         LTRR_ERR_INVALID_ARG);
        ltrr_ranker_version(rk, &c1, &h1);
        assert_int_equal(c0, c1);
        assert_true(h0 == h1);
        ltrr_ranker_destroy(rk);
}

static void test_lifecycle_and_params(void **state)
{
        ltrr_ranker_params_t p, q;
        ltrr_ranker_t *rk, *cp;
        char errstr[128] = "";

        ltrr_ranker_destroy(NULL);
        ltrr_ranker_params_default(&p);
        p.alpha = 0;
        assert_null(ltrr_ranker_new(&p, errstr, sizeof(errstr)));
        assert_non_null(strstr(errstr, "alpha"));
        ltrr_ranker_params_default(&p);
        p.ipw_clip = 0.5;
        assert_null(ltrr_ranker_new(&p, NULL, 0));
        p.ipw_clip = 20;
        rk = ltrr_ranker_new(&p, errstr, sizeof(errstr));
        assert_non_null(rk);
        ltrr_ranker_params_get(rk, &q);
        assert_float_equal(q.ipw_clip, 20, 0);
        cp = ltrr_ranker_dup(rk);
        assert_non_null(cp);
        ltrr_ranker_params_get(cp, &q);
        assert_float_equal(q.ipw_clip, 20, 0);
        ltrr_ranker_destroy(cp);
        ltrr_ranker_destroy(rk);
}

/* A model with some learned state, for the serialization tests. */
static ltrr_ranker_t *trained_ranker(void)
{
        ltrr_ranker_t *rk = new_ranker();
        float x[NF];
        uint64_t st = 11;
        int i, j;

        for (i = 0; i < 500; i++) {
                for (j = 0; j < NF; j++)
                        x[j] = t_unif(&st) < 0.3 ? (float)t_unif(&st) : 0.0f;
                x[0] = 1.0f;
                assert_int_equal(ltrr_ranker_update(rk, x, x[5] > 0.3f ? 1 : 0,
                                                    1.0),
                                 LTRR_OK);
        }
        return rk;
}

static void test_blob_round_trip(void **state)
{
        uint8_t blob[LTRR_RANKER_BLOB_SIZE], blob2[LTRR_RANKER_BLOB_SIZE];
        ltrr_ranker_t *rk = trained_ranker(), *rk2;
        float wa[NF], wb[NF];
        uint64_t c0, c1, h0, h1;
        char errstr[128];
        ltrr_err_t err;
        size_t len = 0;

        assert_int_equal(ltrr_ranker_serialize(rk, blob, 10, &len),
                         LTRR_ERR_NOSPACE);
        assert_int_equal(ltrr_ranker_serialize(rk, blob, sizeof(blob), &len),
                         LTRR_OK);
        assert_int_equal(len, LTRR_RANKER_BLOB_SIZE);
        rk2 = ltrr_ranker_deserialize(blob, len, &err, errstr, sizeof(errstr));
        assert_non_null(rk2);
        assert_int_equal(err, LTRR_OK);
        ltrr_ranker_version(rk, &c0, &h0);
        ltrr_ranker_version(rk2, &c1, &h1);
        assert_int_equal(c0, 500);
        assert_int_equal(c0, c1);
        assert_true(h0 == h1);
        ltrr_ranker_weights_get(rk, wa);
        ltrr_ranker_weights_get(rk2, wb);
        assert_memory_equal(wa, wb, sizeof(wa));
        assert_int_equal(ltrr_ranker_serialize(rk2, blob2, sizeof(blob2), NULL),
                         LTRR_OK);
        assert_memory_equal(blob, blob2, sizeof(blob));
        ltrr_ranker_destroy(rk2);
        ltrr_ranker_destroy(rk);
}

/* Deserializes @blob expecting failure with @want. */
static void expect_blob_error(const uint8_t *blob, size_t len, ltrr_err_t want)
{
        char errstr[128] = "";
        ltrr_err_t err = LTRR_OK;

        assert_null(ltrr_ranker_deserialize(blob, len, &err, errstr,
                                            sizeof(errstr)));
        assert_int_equal(err, want);
        assert_true(strlen(errstr) > 0);
}

static void test_blob_rejects_bad_input(void **state)
{
        uint8_t blob[LTRR_RANKER_BLOB_SIZE + 1], bad[LTRR_RANKER_BLOB_SIZE + 1];
        ltrr_ranker_t *rk = trained_ranker();
        size_t i;

        assert_int_equal(ltrr_ranker_serialize(rk, blob, sizeof(blob), NULL),
                         LTRR_OK);
        expect_blob_error(blob, 3, LTRR_ERR_TRUNCATED);
        expect_blob_error(blob, LTRR_RANKER_BLOB_SIZE - 1, LTRR_ERR_TRUNCATED);
        blob[LTRR_RANKER_BLOB_SIZE] = 0;
        expect_blob_error(blob, LTRR_RANKER_BLOB_SIZE + 1, LTRR_ERR_PARSE);
        memcpy(bad, blob, sizeof(bad));
        bad[0] = 'X';
        expect_blob_error(bad, LTRR_RANKER_BLOB_SIZE, LTRR_ERR_PARSE);
        memcpy(bad, blob, sizeof(bad));
        bad[6] = LTRR_RANKER_LAYOUT_VERSION + 1; /* other layout */
        expect_blob_error(bad, LTRR_RANKER_BLOB_SIZE, LTRR_ERR_SCHEMA);
        memcpy(bad, blob, sizeof(bad));
        bad[4] = 9; /* other format */
        expect_blob_error(bad, LTRR_RANKER_BLOB_SIZE, LTRR_ERR_SCHEMA);
        /* Any single flipped bit in the body or checksum is caught. */
        for (i = 10; i < LTRR_RANKER_BLOB_SIZE; i += 7) {
                memcpy(bad, blob, sizeof(bad));
                bad[i] ^= 0x10;
                expect_blob_error(bad, LTRR_RANKER_BLOB_SIZE,
                                  LTRR_ERR_CORRUPT);
        }
        ltrr_ranker_destroy(rk);
}

static void test_text_round_trip(void **state)
{
        static char text[LTRR_RANKER_TEXT_MAX], text2[LTRR_RANKER_TEXT_MAX];
        ltrr_ranker_t *rk = trained_ranker(), *rk2;
        uint64_t h0, h1, c1;
        char errstr[128];
        ltrr_err_t err;

        assert_int_equal(ltrr_ranker_to_text(rk, text, 100), LTRR_ERR_NOSPACE);
        assert_int_equal(ltrr_ranker_to_text(rk, text, sizeof(text)), LTRR_OK);
        assert_non_null(strstr(text, "layout 1\n"));
        assert_non_null(strstr(text, "\nfeature q2e "));
        rk2 = ltrr_ranker_from_text(text, &err, errstr, sizeof(errstr));
        assert_non_null(rk2);
        ltrr_ranker_version(rk, NULL, &h0);
        ltrr_ranker_version(rk2, &c1, &h1);
        assert_true(h0 == h1);
        assert_int_equal(c1, 500);
        assert_int_equal(ltrr_ranker_to_text(rk2, text2, sizeof(text2)),
                         LTRR_OK);
        assert_string_equal(text, text2);
        ltrr_ranker_destroy(rk2);
        ltrr_ranker_destroy(rk);
}

/* Writes @text with its first @from replaced by @to into @out. */
static void text_replace(char *out, size_t size, const char *text,
                         const char *from, const char *to)
{
        const char *at = strstr(text, from);

        assert_non_null(at);
        snprintf(out, size, "%.*s%s%s", (int)(at - text), text, to,
                 at + strlen(from));
}

/* Replaces the first @from in @text with @to and parses the result. */
static void expect_text_error(const char *text, const char *from,
                              const char *to, ltrr_err_t want)
{
        static char out[LTRR_RANKER_TEXT_MAX + 512];
        char errstr[128] = "";
        ltrr_err_t err = LTRR_OK;

        text_replace(out, sizeof(out), text, from, to);
        assert_null(ltrr_ranker_from_text(out, &err, errstr, sizeof(errstr)));
        assert_int_equal(err, want);
        assert_true(strlen(errstr) > 0);
}

static void test_text_rejects_bad_input(void **state)
{
        static char text[LTRR_RANKER_TEXT_MAX];
        ltrr_ranker_t *rk = trained_ranker();
        const char *q2e;
        char line[256];
        size_t n;

        assert_int_equal(ltrr_ranker_to_text(rk, text, sizeof(text)), LTRR_OK);
        expect_text_error(text, "layout 1", "layout 2", LTRR_ERR_SCHEMA);
        expect_text_error(text, "nfeat 32", "nfeat 31", LTRR_ERR_SCHEMA);
        expect_text_error(text, "ltrr-ranker 1", "ltrr-ranker 2",
                          LTRR_ERR_SCHEMA);
        expect_text_error(text, "ltrr-ranker 1", "garbage", LTRR_ERR_PARSE);
        expect_text_error(text, "feature q2e", "feature q3e", LTRR_ERR_SCHEMA);
        expect_text_error(text, "alpha ", "alpha x", LTRR_ERR_PARSE);
        expect_text_error(text, "l2 ", "l2 -", LTRR_ERR_CORRUPT);
        /* Drop the q2e line: the next feature is not the one expected. */
        q2e = strstr(text, "feature q2e ");
        assert_non_null(q2e);
        n = (size_t)(strchr(q2e, '\n') - q2e + 1);
        memcpy(line, q2e, n);
        line[n] = '\0';
        expect_text_error(text, line, "", LTRR_ERR_SCHEMA); /* out of order */
        /* Edit a state value: the hash line no longer matches. */
        expect_text_error(text, line, "feature q2e 0 -5 1\n",
                          LTRR_ERR_CORRUPT);
        ltrr_ranker_destroy(rk);
}

/* Hand edits: without a hash line, values may change; comments and
 * blank lines are skipped; anything after the last feature is refused. */
static void test_text_hand_edit(void **state)
{
        static char text[LTRR_RANKER_TEXT_MAX], edited[LTRR_RANKER_TEXT_MAX];
        static char tmp[LTRR_RANKER_TEXT_MAX];
        ltrr_ranker_t *rk = new_ranker(), *rk2;
        char errstr[128], *h, *eol, longline[400];
        float w[NF];
        ltrr_err_t err;

        assert_int_equal(ltrr_ranker_to_text(rk, text, sizeof(text)), LTRR_OK);
        h = strstr(text, "hash ");
        eol = strchr(h, '\n');
        snprintf(tmp, sizeof(tmp), "# hand edited\n\n%.*s%s",
                 (int)(h - text), text, eol + 1);
        text_replace(edited, sizeof(edited), tmp, "feature bm25 0 0 0",
                     "feature bm25 0 -5 0");
        rk2 = ltrr_ranker_from_text(edited, &err, errstr, sizeof(errstr));
        assert_non_null(rk2);
        ltrr_ranker_weights_get(rk2, w);
        /* z = -5, n = 0: w = (5 - l1) / (beta / alpha + l2) */
        assert_float_equal(w[LTRR_RANKER_F_BM25], 4.99 / 10.1, 1e-6);
        ltrr_ranker_destroy(rk2);
        expect_text_error(edited, "feature reserved 0 0 0\n",
                          "feature reserved 0 0 0\nextra 1\n",
                          LTRR_ERR_PARSE);
        expect_text_error(edited, "feature reserved 0 0 0\n", "",
                          LTRR_ERR_PARSE); /* ends early */
        memset(longline, 'x', sizeof(longline) - 1);
        longline[sizeof(longline) - 1] = '\0';
        expect_text_error(edited, "# hand edited", longline, LTRR_ERR_PARSE);
        ltrr_ranker_destroy(rk);
}

static void test_fit(void **state)
{
        ltrr_ranker_example_t *ex = calloc(4000, sizeof(*ex));
        ltrr_ranker_t *a = new_ranker(), *b = new_ranker();
        ltrr_ranker_fit_opts_t opts = {3, 99, NULL};
        ltrr_ranker_fit_stats_t st;
        uint8_t ba[LTRR_RANKER_BLOB_SIZE], bb[LTRR_RANKER_BLOB_SIZE];
        char errstr[128] = "";
        uint64_t rs = 5;
        size_t i;

        assert_non_null(ex);
        for (i = 0; i < 4000; i++) {
                ex[i].x[0] = 1.0f;
                ex[i].x[LTRR_RANKER_F_Q2E] = (float)t_unif(&rs);
                ex[i].x[LTRR_RANKER_F_BM25] = (float)t_unif(&rs);
                ex[i].label = t_unif(&rs) < 0.1 + 0.8 *
                                                ex[i].x[LTRR_RANKER_F_Q2E];
                ex[i].position = 1;
                ex[i].weight = 1.0f;
        }
        assert_int_equal(ltrr_ranker_fit(a, ex, 4000, &opts, &st, errstr,
                                         sizeof(errstr)),
                         LTRR_OK);
        print_message("fit: auc %.3f logloss %.4f first %.4f last %.4f\n",
                      st.auc, st.logloss, st.first_loss, st.last_loss);
        assert_int_equal(st.examples, 4000);
        assert_int_equal(st.epochs, 3);
        assert_true(st.auc > 0.7);
        assert_true(st.last_loss < st.first_loss);
        assert_true(st.logloss < log(2.0));
        /* Same seed, same data: bit-identical model. */
        assert_int_equal(ltrr_ranker_fit(b, ex, 4000, &opts, NULL, NULL, 0),
                         LTRR_OK);
        ltrr_ranker_serialize(a, ba, sizeof(ba), NULL);
        ltrr_ranker_serialize(b, bb, sizeof(bb), NULL);
        assert_memory_equal(ba, bb, sizeof(ba));
        /* Failure paths. */
        opts.epochs = 0;
        assert_int_equal(ltrr_ranker_fit(a, ex, 4000, &opts, &st, errstr,
                                         sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        opts.epochs = 1;
        assert_int_equal(ltrr_ranker_fit(a, ex, 0, &opts, &st, NULL, 0),
                         LTRR_ERR_INVALID_ARG);
        ex[17].label = 2.0f;
        assert_int_equal(ltrr_ranker_fit(a, ex, 4000, &opts, &st, errstr,
                                         sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_non_null(strstr(errstr, "example 17"));
        ex[17].label = 1.0f;
        ex[18].position = 0;
        assert_int_equal(ltrr_ranker_fit(a, ex, 4000, &opts, &st, NULL, 0),
                         LTRR_ERR_INVALID_ARG);
        free(ex);
        ltrr_ranker_destroy(a);
        ltrr_ranker_destroy(b);
}

static void test_auc(void **state)
{
        const float s[] = {0.1f, 0.4f, 0.35f, 0.8f};
        const float l[] = {0, 0, 1, 1};
        const float tie_s[] = {1, 1, 1, 1};

        assert_float_equal(ltrr_ranker_auc(s, l, 4), 0.75, 1e-12);
        assert_float_equal(ltrr_ranker_auc(tie_s, l, 4), 0.5, 1e-12);
        assert_float_equal(ltrr_ranker_auc(s, l, 2), 0.5, 1e-12);
        assert_float_equal(ltrr_ranker_auc(s, l, 0), 0.5, 1e-12);
}

/*
 * Click simulation. True relevance depends on bm25, q2e, user_artist and
 * exact_name; popularity is irrelevant but the logging ranker sorts by
 * it, and users examine position p with probability 1/p. Clicks thus
 * correlate with popularity through position only.
 */
#define SIM_CANDS 20
#define SIM_SHOWN 10

static double sim_relevance(const float *x)
{
        double s = -3.0 + 2.5 * x[LTRR_RANKER_F_BM25] +
                   2.0 * x[LTRR_RANKER_F_Q2E] +
                   1.5 * x[LTRR_RANKER_F_USER_ARTIST] +
                   1.0 * x[LTRR_RANKER_F_EXACT_NAME];

        return 1.0 / (1.0 + exp(-s));
}

static void sim_candidates(float *x, uint64_t *st)
{
        int i;

        memset(x, 0, SIM_CANDS * NF * sizeof(float));
        for (i = 0; i < SIM_CANDS; i++, x += NF) {
                x[LTRR_RANKER_F_BIAS] = 1.0f;
                x[LTRR_RANKER_F_BM25] = (float)t_unif(st);
                x[LTRR_RANKER_F_Q2E] = (float)t_unif(st);
                x[LTRR_RANKER_F_USER_ARTIST] = (float)t_unif(st);
                x[LTRR_RANKER_F_EXACT_NAME] = t_unif(st) < 0.2 ? 1.0f : 0.0f;
                x[LTRR_RANKER_F_LOG_POP] = (float)t_unif(st);
        }
}

/* Logs @queries impressions; 10% of them shuffle the shown results. */
static size_t sim_log(ltrr_ranker_example_t *ex, ltrr_pbias_obs_t *obs,
                      size_t queries, uint64_t *st)
{
        float x[SIM_CANDS * NF], key[SIM_CANDS];
        uint32_t order[SIM_CANDS], t;
        size_t q, m = 0;
        int p, rnd, j;

        for (q = 0; q < queries; q++) {
                sim_candidates(x, st);
                rnd = t_unif(st) < 0.1;
                for (j = 0; j < SIM_CANDS; j++)
                        key[j] = x[j * NF + LTRR_RANKER_F_LOG_POP] +
                                 0.1f * (float)t_unif(st);
                ltrr_ranker_topk(key, SIM_CANDS, SIM_CANDS, order);
                for (j = SIM_SHOWN - 1; rnd && j > 0; j--) {
                        p = (int)(t_rand(st) % (uint64_t)(j + 1));
                        t = order[j];
                        order[j] = order[p];
                        order[p] = t;
                }
                for (p = 1; p <= SIM_SHOWN; p++, m++) {
                        memcpy(ex[m].x, x + order[p - 1] * NF, sizeof(ex[m].x));
                        ex[m].position = (uint16_t)p;
                        ex[m].weight = 1.0f;
                        ex[m].label = t_unif(st) < sim_relevance(ex[m].x) / p;
                        obs[m].position = (uint16_t)p;
                        obs[m].clicked = ex[m].label > 0.5f;
                        obs[m].randomized = (uint8_t)rnd;
                }
        }
        return m;
}

/* Mean NDCG@10 against true relevance on fresh candidate sets. */
static double sim_ndcg(const ltrr_ranker_t *rk, size_t queries, uint64_t seed)
{
        float x[SIM_CANDS * NF], s[SIM_CANDS], rel[SIM_CANDS];
        uint32_t got[SIM_SHOWN], best[SIM_SHOWN];
        double sum = 0, dcg, idcg;
        uint64_t st = seed;
        size_t q;
        int j;

        for (q = 0; q < queries; q++) {
                sim_candidates(x, &st);
                for (j = 0; j < SIM_CANDS; j++)
                        rel[j] = (float)sim_relevance(x + j * NF);
                ltrr_ranker_score(rk, x, SIM_CANDS, s);
                ltrr_ranker_topk(s, SIM_CANDS, SIM_SHOWN, got);
                ltrr_ranker_topk(rel, SIM_CANDS, SIM_SHOWN, best);
                dcg = idcg = 0;
                for (j = 0; j < SIM_SHOWN; j++) {
                        dcg += rel[got[j]] / log2(j + 2.0);
                        idcg += rel[best[j]] / log2(j + 2.0);
                }
                sum += dcg / idcg;
        }
        return sum / (double)queries;
}

/*
 * Fits @naive without and @ipw with position correction on the logged
 * clicks in @ex, then @ref on labels redrawn from true relevance.
 */
static void sim_fit(ltrr_ranker_example_t *ex, size_t n,
                    const ltrr_pbias_table_t *tab, ltrr_ranker_t *naive,
                    ltrr_ranker_t *ipw, ltrr_ranker_t *ref, uint64_t *rs)
{
        ltrr_ranker_fit_opts_t opts = {5, 1, NULL};
        size_t i;

        assert_int_equal(ltrr_ranker_fit(naive, ex, n, &opts, NULL, NULL, 0),
                         LTRR_OK);
        opts.pbias = tab;
        assert_int_equal(ltrr_ranker_fit(ipw, ex, n, &opts, NULL, NULL, 0),
                         LTRR_OK);
        for (i = 0; i < n; i++)
                ex[i].label = t_unif(rs) < sim_relevance(ex[i].x);
        opts.pbias = NULL;
        assert_int_equal(ltrr_ranker_fit(ref, ex, n, &opts, NULL, NULL, 0),
                         LTRR_OK);
}

/*
 * Fits the uncorrected and the IPW-corrected models on the same logged
 * clicks, and a reference model on full-information labels (relevance
 * drawn for every shown result, no position effect). The IPW model must
 * rank like the reference and clearly better than the uncorrected one.
 */
static void test_ipw_beats_naive(void **state)
{
        const size_t queries = 20000;
        ltrr_ranker_example_t *ex = calloc(queries * SIM_SHOWN, sizeof(*ex));
        ltrr_pbias_obs_t *obs = calloc(queries * SIM_SHOWN, sizeof(*obs));
        ltrr_ranker_t *naive = new_ranker(), *ipw = new_ranker();
        ltrr_ranker_t *ref = new_ranker(), *zero = new_ranker();
        double nd_naive, nd_ipw, nd_ref, nd_zero;
        float wn[NF], wi[NF], wr[NF];
        ltrr_pbias_table_t tab;
        char errstr[128];
        uint64_t rs = 2024;
        size_t n;

        assert_non_null(ex);
        assert_non_null(obs);
        n = sim_log(ex, obs, queries, &rs);
        assert_int_equal(ltrr_pbias_estimate_randomized(obs, n, SIM_SHOWN,
                                                        0.05, &tab, errstr,
                                                        sizeof(errstr)),
                         LTRR_OK);
        assert_true(fabs(tab.prop[4] - 0.2) < 0.05);
        sim_fit(ex, n, &tab, naive, ipw, ref, &rs);
        nd_naive = sim_ndcg(naive, 2000, 77);
        nd_ipw = sim_ndcg(ipw, 2000, 77);
        nd_ref = sim_ndcg(ref, 2000, 77);
        nd_zero = sim_ndcg(zero, 2000, 77); /* ties: arbitrary order */
        ltrr_ranker_weights_get(naive, wn);
        ltrr_ranker_weights_get(ipw, wi);
        ltrr_ranker_weights_get(ref, wr);
        print_message("P(examined|5) est %.3f (true 0.200); NDCG@10 vs "
                      "truth: ipw %.4f naive %.4f full-info %.4f unranked "
                      "%.4f; popularity weight ipw %.3f naive %.3f "
                      "full-info %.3f\n",
                      tab.prop[4], nd_ipw, nd_naive, nd_ref, nd_zero,
                      wi[LTRR_RANKER_F_LOG_POP], wn[LTRR_RANKER_F_LOG_POP],
                      wr[LTRR_RANKER_F_LOG_POP]);
        assert_true(nd_ipw > nd_naive + 0.05);
        assert_true(nd_ipw > nd_ref - 0.02);
        assert_true(nd_naive > nd_zero); /* the naive model learned some */
        /* The naive model credits popularity for position; IPW does not. */
        assert_true(wn[LTRR_RANKER_F_LOG_POP] - wr[LTRR_RANKER_F_LOG_POP] >
                    1.5);
        assert_true(fabs(wi[LTRR_RANKER_F_LOG_POP] -
                         wr[LTRR_RANKER_F_LOG_POP]) < 0.6);
        free(ex);
        free(obs);
        ltrr_ranker_destroy(naive);
        ltrr_ranker_destroy(ipw);
        ltrr_ranker_destroy(ref);
        ltrr_ranker_destroy(zero);
}

/* Scoring 800 candidates and top-10; update throughput. */
static void test_speed(void **state)
{
        const size_t ncand = 800;
        float *x = malloc(ncand * NF * sizeof(float)), s[800];
        ltrr_ranker_t *rk = trained_ranker();
        double t0, best = 1e30, best_k = 1e30, dt, sink = 0;
        uint64_t st = 9;
        uint32_t top[10];
        size_t i;
        int r;

        assert_non_null(x);
        for (i = 0; i < ncand * NF; i++)
                x[i] = (float)t_unif(&st);
        for (r = 0; r < 2000; r++) {
                t0 = t_now_us();
                ltrr_ranker_score(rk, x, ncand, s);
                dt = t_now_us() - t0;
                best = dt < best ? dt : best;
                t0 = t_now_us();
                ltrr_ranker_topk(s, ncand, 10, top);
                dt = t_now_us() - t0;
                best_k = dt < best_k ? dt : best_k;
                sink += s[r % ncand];
        }
        t0 = t_now_us();
        for (i = 0; i < 400000; i++)
                ltrr_ranker_update(rk, x + (i % ncand) * NF, (i & 7) == 0, 1);
        dt = t_now_us() - t0;
        print_message("score 800: %.2f us (best of 2000); top-10 of 800: "
                      "%.2f us; updates: %.2fM examples/s (sink %g)\n",
                      best, best_k, 400000 / dt, sink);
        assert_true(best < SCORE_800_MAX_US);
        free(x);
        ltrr_ranker_destroy(rk);
}

static void test_explain(void **state)
{
        ltrr_ranker_t *rk = new_ranker();
        float x[NF] = {0};
        double w[NF] = {0};
        char buf[256], tiny[8];

        w[LTRR_RANKER_F_Q2E] = 1.5;
        assert_int_equal(ltrr_ranker_weights_set(rk, w, NF, NULL, 0), LTRR_OK);
        x[0] = 1.0f;
        x[LTRR_RANKER_F_Q2E] = 0.5f;
        ltrr_ranker_explain(rk, x, buf, sizeof(buf));
        assert_string_equal(buf, "bias=1*0 q2e=0.5*1.5");
        ltrr_ranker_explain(rk, x, tiny, sizeof(tiny));
        assert_int_equal(strlen(tiny), 7);
        ltrr_ranker_destroy(rk);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_layout_table),
            cmocka_unit_test(test_layout_docs_in_sync),
            cmocka_unit_test(test_features_build),
            cmocka_unit_test(test_score_hand_computed),
            cmocka_unit_test(test_topk),
            cmocka_unit_test(test_topk_random),
            cmocka_unit_test(test_update_direction),
            cmocka_unit_test(test_update_click_ipw),
            cmocka_unit_test(test_update_rejects_bad_input),
            cmocka_unit_test(test_lifecycle_and_params),
            cmocka_unit_test(test_blob_round_trip),
            cmocka_unit_test(test_blob_rejects_bad_input),
            cmocka_unit_test(test_text_round_trip),
            cmocka_unit_test(test_text_rejects_bad_input),
            cmocka_unit_test(test_text_hand_edit),
            cmocka_unit_test(test_fit),
            cmocka_unit_test(test_auc),
            cmocka_unit_test(test_ipw_beats_naive),
            cmocka_unit_test(test_speed),
            cmocka_unit_test(test_explain),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
