/*
 * Unit tests for the arm interface and the lexical (BM25F) arm: scores
 * against hand-computed values, exact names first, prefixes, k bounds,
 * empty and unknown queries, the registry, scratch memory and the union;
 * pruning, ties broken by popularity and membership bitmaps against runs
 * that never cut.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "arm_testlib.h"

#include "arm.h"
#include "arm_state.h"
#include "catalog.h"
#include "index.h"
#include "synth.h"
#include "text.h"

/* name, artist: five entities (album and description empty). */
static const char *const docs[][2] = {
    {"Red Apple", "Ann"},      {"Green Apple Pie", "Bob"},
    {"Blue Sky", "Ann"},       {"Apple", "Cat"},
    {"Red Red Wine", "Ann"},
};
#define NDOCS (sizeof(docs) / sizeof(docs[0]))

/* Per-test state. */
typedef struct fx_s {
        ltrr_index_t *ix;          /* the small index */
        ltrr_analyzer_t *an;       /* English analyzer */
        ltrr_arm_scratch_t *scr;   /* scratch */
        ltrr_token_t toks[64];     /* query tokens */
        char arena[LTRR_TEXT_ARENA_SIZE]; /* token strings */
        ltrr_arm_cand_t out[LTRR_ARM_K_MAX]; /* candidates */
        size_t cnt;                /* candidates written */
        ltrr_bm25f_t p;            /* parameters */
        ltrr_arm_ctx_t ctx;        /* context */
} fx_t;

static char path[256];

/* Builds an index of @p n entities given as name/artist pairs. */
static ltrr_index_t *build(const char *const (*d)[2], size_t n)
{
        return armtest_pairs_index(d, n, NULL, path);
}

static int setup(void **state)
{
        char errstr[256];
        fx_t *fx = calloc(1, sizeof(*fx));
        armtest_path(path, sizeof(path), "test_arm_lexical");
        fx->ix = build(docs, NDOCS);
        fx->an = ltrr_analyzer_new("en", errstr, sizeof(errstr));
        fx->scr = ltrr_arm_scratch_new();
        /* hand-checkable parameters: every b 0.75, name weight 1,
         * artist weight 2, k1 1.2 */
        ltrr_bm25f_defaults(&fx->p);
        for (int f = 0; f < LTRR_INDEX_FIELDS; f++)
                fx->p.b[f] = 0.75f;
        fx->p.w[LTRR_INDEX_FIELD_NAME] = 1.0f;
        fx->p.w[LTRR_INDEX_FIELD_ARTIST] = 2.0f;
        fx->p.k1 = 1.2f;
        fx->ctx.bm25f = &fx->p;
        *state = fx;
        return fx->an && fx->scr ? 0 : -1;
}

static int teardown(void **state)
{
        fx_t *fx = *state;
        ltrr_index_destroy(fx->ix);
        ltrr_analyzer_destroy(fx->an);
        ltrr_arm_scratch_destroy(fx->scr);
        free(fx);
        return 0;
}

/* Runs the lexical arm on @p text with budget @p k. */
static ltrr_err_t search(fx_t *fx, const ltrr_index_t *ix, const char *text,
                         size_t k)
{
        char errstr[256];
        ltrr_tokbuf_t tb;
        ltrr_tokbuf_init(&tb, fx->toks, 64, fx->arena, sizeof(fx->arena));
        assert_int_equal(ltrr_analyzer_analyze(fx->an, text, strlen(text),
                                               &tb, errstr, sizeof(errstr)),
                         LTRR_OK);
        ltrr_arm_query_t q = {tb.toks, tb.cnt, NULL};
        return ltrr_arm_run(0, ix, &q, &fx->ctx, fx->scr, k, fx->out,
                            &fx->cnt, errstr, sizeof(errstr));
}

/* Score of entity @p ent in the last result, or -1. */
static double score_of(const fx_t *fx, uint32_t ent)
{
        for (size_t i = 0; i < fx->cnt; i++)
                if (fx->out[i].ent == ent)
                        return fx->out[i].score;
        return -1.0;
}

/*
 * N = 5, avg name length 11/5 = 2.2, idf = ln(1 + (N - df + .5)/(df + .5)).
 * "apple": df 3, idf = ln(1 + 2.5/3.5) = 0.538997.
 *   e3 "Apple" (len 1): tf~ = 1/(.25 + .75*1/2.2) = 1.692308,
 *      score = idf * tf~/(1.2 + tf~) = 0.315370
 *   e0 (len 2): tf~ = 1.073171, score 0.254462
 *   e1 (len 3): tf~ = 0.785714, score 0.213272
 */
static void test_bm25f_hand_computed(void **state)
{
        fx_t *fx = *state;
        assert_int_equal(search(fx, fx->ix, "apple", 10), LTRR_OK);
        assert_int_equal(fx->cnt, 3);
        assert_int_equal(fx->out[0].ent, 3);
        assert_int_equal(fx->out[1].ent, 0);
        assert_int_equal(fx->out[2].ent, 1);
        assert_float_equal(score_of(fx, 3), 0.315370, 1e-5);
        assert_float_equal(score_of(fx, 0), 0.254462, 1e-5);
        assert_float_equal(score_of(fx, 1), 0.213272, 1e-5);
        /* "red": df 2, idf ln(2.4); e4 has tf 2 in a 3-token name */
        assert_int_equal(search(fx, fx->ix, "red", 10), LTRR_OK);
        assert_int_equal(fx->cnt, 2);
        assert_float_equal(score_of(fx, 4), 0.496400, 1e-5);
        assert_float_equal(score_of(fx, 0), 0.413311, 1e-5);
        /* artist field, weight 2, every artist 1 token: tf~ = 2 */
        assert_int_equal(search(fx, fx->ix, "ann", 10), LTRR_OK);
        assert_int_equal(fx->cnt, 3);
        assert_float_equal(score_of(fx, 2), 0.336873, 1e-5);
        /* two terms add up */
        assert_int_equal(search(fx, fx->ix, "red apple", 10), LTRR_OK);
        assert_float_equal(score_of(fx, 0), 0.667773, 1e-5);
        assert_int_equal(fx->out[0].ent, 0);
        assert_float_equal(fx->out[0].feat[1], 1.0, 0); /* exact name */
        assert_float_equal(fx->out[0].feat[2], 1.0, 0); /* coverage */
}

static void test_exact_name_first(void **state)
{
        fx_t *fx = *state;
        static const char *const d[][2] = {
            {"Love Story Love Story Remix", "Love Story"},
            {"Love Story", "Nobody"},
            {"Story of Love", "Love"},
            {"Love", "Story"},
        };
        ltrr_index_t *ix = build(d, 4);
        assert_int_equal(search(fx, ix, "Love Story", 10), LTRR_OK);
        assert_int_equal(fx->cnt, 4);
        assert_int_equal(fx->out[0].ent, 1);
        assert_float_equal(fx->out[0].feat[1], 1.0, 0);
        /* entity 0 has the higher BM25F score but is not an exact name */
        assert_true(score_of(fx, 0) > score_of(fx, 1));
        assert_float_equal(fx->out[1].feat[1], 0.0, 0);
        /* the last token as a prefix still finds the exact name */
        assert_int_equal(search(fx, ix, "love stor", 10), LTRR_OK);
        assert_true(fx->cnt >= 1);
        assert_int_equal(fx->out[0].ent, 1);
        ltrr_index_destroy(ix);
}

/* With the default parameters the arm uses the tf~ precomputed at build
 * time; with any other it computes tf~ from tf and lengths. Both agree. */
static void test_precomputed_tfw(void **state)
{
        fx_t *fx = *state;
        ltrr_arm_cand_t a[16];
        static const char *const qs[] = {"apple", "red apple ann", "sky",
                                         "red wine"};
        for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
                ltrr_bm25f_defaults(&fx->p); /* precomputed path */
                assert_int_equal(search(fx, fx->ix, qs[i], 16), LTRR_OK);
                size_t n = fx->cnt;
                assert_true(n > 0);
                memcpy(a, fx->out, n * sizeof(a[0]));
                fx->p.w[LTRR_INDEX_FIELD_DESCRIPTION] *= 1.0000001f;
                fx->p.w[LTRR_INDEX_FIELD_DESCRIPTION] += 1e-7f; /* other */
                assert_int_equal(search(fx, fx->ix, qs[i], 16), LTRR_OK);
                assert_int_equal(fx->cnt, n);
                for (size_t j = 0; j < n; j++) {
                        assert_int_equal(fx->out[j].ent, a[j].ent);
                        assert_float_equal(fx->out[j].score, a[j].score,
                                           1e-5f);
                }
        }
}

static void test_prefix(void **state)
{
        fx_t *fx = *state;
        assert_int_equal(search(fx, fx->ix, "gre", 10), LTRR_OK);
        assert_int_equal(fx->cnt, 1);
        assert_int_equal(fx->out[0].ent, 1);
        fx->p.prefix = 0;
        assert_int_equal(search(fx, fx->ix, "gre", 10), LTRR_OK);
        assert_int_equal(fx->cnt, 0);
}

static void test_k_bounds(void **state)
{
        fx_t *fx = *state;
        assert_int_equal(search(fx, fx->ix, "apple ann", 2), LTRR_OK);
        assert_int_equal(fx->cnt, 2);
        assert_int_equal(search(fx, fx->ix, "apple", 0), LTRR_OK);
        assert_int_equal(fx->cnt, 0);
        assert_int_equal(search(fx, fx->ix, "apple", LTRR_ARM_K_MAX + 1),
                         LTRR_ERR_RANGE);
        /* k larger than the matches: only the matches */
        assert_int_equal(search(fx, fx->ix, "apple ann", 16), LTRR_OK);
        assert_int_equal(fx->cnt, 5); /* 0,1,3 by apple; 2,4 by ann */
        for (size_t i = 1; i < fx->cnt; i++)
                assert_true(fx->out[i - 1].feat[1] > fx->out[i].feat[1] ||
                            fx->out[i - 1].score >= fx->out[i].score);
}

static void test_empty_and_unknown(void **state)
{
        fx_t *fx = *state;
        assert_int_equal(search(fx, fx->ix, "", 10), LTRR_OK);
        assert_int_equal(fx->cnt, 0);
        assert_int_equal(search(fx, fx->ix, "   !!! ", 10), LTRR_OK);
        assert_int_equal(fx->cnt, 0);
        assert_int_equal(search(fx, fx->ix, "zebra", 10), LTRR_OK);
        assert_int_equal(fx->cnt, 0);
        /* an unknown term next to a known one changes nothing */
        assert_int_equal(search(fx, fx->ix, "zebra apple", 10), LTRR_OK);
        assert_int_equal(fx->cnt, 3);
        assert_float_equal(score_of(fx, 3), 0.315370, 1e-5);
        assert_float_equal(fx->out[0].feat[2], 0.5, 0); /* half covered */
}

static void test_params_refused(void **state)
{
        fx_t *fx = *state;
        fx->p.k1 = 0.0f;
        assert_int_equal(search(fx, fx->ix, "apple", 10),
                         LTRR_ERR_INVALID_ARG);
}

static void test_registry_and_scratch(void **state)
{
        fx_t *fx = *state;
        char errstr[128];
        assert_true(ltrr_arm_count() >= 1);
        assert_int_equal(ltrr_arm_find("lexical"), 0);
        assert_int_equal(ltrr_arm_find("nope"), -1);
        assert_int_equal(ltrr_arm_find(NULL), -1);
        assert_ptr_equal(ltrr_arm_get(0), &ltrr_arm_lexical);
        assert_null(ltrr_arm_get(LTRR_ARM_MAX));
        assert_string_equal(ltrr_arm_lexical.feat_names[1], "exact_name");
        ltrr_arm_scratch_destroy(NULL);
        assert_null(ltrr_arm_scratch_get(fx->scr, LTRR_ARM_MAX, 8));
        assert_null(ltrr_arm_scratch_get(NULL, 0, 8));
        /* no growth once warmed up */
        assert_int_equal(search(fx, fx->ix, "apple", 10), LTRR_OK);
        size_t mem = ltrr_arm_scratch_memory(fx->scr);
        assert_true(mem > 0);
        assert_int_equal(search(fx, fx->ix, "red ann sky", 10), LTRR_OK);
        assert_int_equal(ltrr_arm_scratch_memory(fx->scr), mem);
        /* bad arguments */
        ltrr_arm_query_t q = {NULL, 0, NULL};
        size_t cnt = 7;
        assert_int_equal(ltrr_arm_run(LTRR_ARM_MAX, fx->ix, &q, NULL, fx->scr,
                                      1, fx->out, &cnt, errstr,
                                      sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(cnt, 0);
        assert_int_equal(ltrr_arm_run(0, NULL, &q, NULL, fx->scr, 1, fx->out,
                                      &cnt, errstr, sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
}

static void test_union(void **state)
{
        (void)state;
        char errstr[128];
        ltrr_arm_cand_t a[3] = {{5, 3.0f, {0}}, {7, 2.0f, {0}},
                                {9, 1.0f, {0}}};
        ltrr_arm_cand_t b[2] = {{9, 0.9f, {0}}, {4, 0.5f, {0}}};
        ltrr_arm_list_t lists[2] = {{0, a, 3}, {3, b, 2}};
        ltrr_arm_hit_t out[5];
        size_t cnt = 0;
        assert_int_equal(ltrr_arm_union(lists, 2, out, 5, &cnt, errstr,
                                        sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(cnt, 4);
        /* rank 0 in some arm: 9 (arm 3) and 5 (arm 0); 9 has two arms */
        assert_int_equal(out[0].ent, 9);
        assert_int_equal(out[0].arms, (1u << 0) | (1u << 3));
        assert_float_equal(out[0].scores[0], 1.0, 0);
        assert_float_equal(out[0].scores[3], 0.9, 1e-6);
        assert_int_equal(out[1].ent, 5);
        assert_int_equal(out[1].arms, 1u);
        assert_int_equal(out[2].ent, 4); /* rank 1, ent 4 < 7 */
        assert_int_equal(out[3].ent, 7);
        assert_int_equal(ltrr_arm_union(lists, 2, out, 4, &cnt, errstr,
                                        sizeof(errstr)),
                         LTRR_ERR_NOSPACE);
        lists[1].arm = LTRR_ARM_MAX;
        assert_int_equal(ltrr_arm_union(lists, 2, out, 5, &cnt, errstr,
                                        sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_arm_union(NULL, 0, out, 5, &cnt, errstr,
                                        sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(cnt, 0);
}

/* MaxScore pruning must not change the result: the top 10 equals the
 * first 10 of an unpruned run (k large enough that the heap never fills)
 * on queries drawn from a synthetic catalog's names. */
static void test_pruning_is_exact(void **state)
{
        fx_t *fx = *state;
        char errstr[256];
        ltrr_catalog_t *cat = ltrr_catalog_new(0, errstr, sizeof(errstr));
        ltrr_synth_conf_t sc = {3000, 5, 20000, 0};
        assert_int_equal(ltrr_synth_generate(&sc, ltrr_synth_to_catalog, cat,
                                             errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_index_build(cat, NULL, path, errstr,
                                          sizeof(errstr)),
                         LTRR_OK);
        ltrr_catalog_destroy(cat);
        ltrr_index_t *ix = ltrr_index_open(path, errstr, sizeof(errstr));
        assert_non_null(ix);
        unlink(path);
        ltrr_arm_cand_t ref[10];
        ltrr_bm25f_defaults(&fx->p);
        int exact_seen = 0, same = 0, total = 0;
        for (uint32_t e = 0; e < 3000; e += 37) {
                ltrr_index_entity_t ent;
                ltrr_index_entity(ix, e, &ent);
                char q[512];
                snprintf(q, sizeof(q), "%s %s", ent.name,
                         e % 2 ? ent.artists : "");
                assert_int_equal(search(fx, ix, q, LTRR_ARM_K_MAX), LTRR_OK);
                size_t n_all = fx->cnt, n_ref = n_all < 10 ? n_all : 10;
                assert_true(n_all < LTRR_ARM_K_MAX); /* never pruned */
                memcpy(ref, fx->out, n_ref * sizeof(ref[0]));
                assert_int_equal(search(fx, ix, q, 10), LTRR_OK);
                assert_int_equal(fx->cnt, n_ref);
                /* same scores rank by rank; entities may differ only
                 * between ties (summation order changes the rounding) */
                for (size_t i = 0; i < n_ref; i++) {
                        assert_float_equal(fx->out[i].score, ref[i].score,
                                           1e-5f * ref[i].score);
                        assert_float_equal(fx->out[i].feat[1], ref[i].feat[1],
                                           0);
                        same += fx->out[i].ent == ref[i].ent;
                        total++;
                }
                exact_seen += n_ref && fx->out[0].feat[1] == 1.0f;
        }
        assert_true(exact_seen > 0);
        assert_true(same * 10 >= total * 9); /* ties are the exception */
        ltrr_index_destroy(ix);
}

/* An exact match is the query's token multiset: "Rain Night Night"
 * matches the query "rain night night" exactly, "Rain Rain Night" (the
 * same tokens in other counts, as many in all) is an ordinary match and
 * is still returned. */
static void test_exact_is_multiset(void **state)
{
        fx_t *fx = *state;
        static const char *const d[][2] = {{"Rain Rain Night", "Ann"},
                                           {"Rain Night Night", "Bob"},
                                           {"Night", "Cy"},
                                           {"Sun", "Dee"}};
        ltrr_index_t *ix = build(d, 4);
        fx->ctx.bm25f = NULL; /* the index's own weights */
        assert_int_equal(search(fx, ix, "rain night night", 10), LTRR_OK);
        assert_int_equal(fx->cnt, 3);
        assert_int_equal(fx->out[0].ent, 1);
        assert_float_equal(fx->out[0].feat[1], 1.0f, 0);
        assert_true(score_of(fx, 0) > 0);
        assert_true(score_of(fx, 2) > 0);
        for (size_t i = 1; i < fx->cnt; i++)
                assert_float_equal(fx->out[i].feat[1], 0.0f, 0);
        ltrr_index_destroy(ix);
}

/* Filter of test_frequent_pairs(): entities not divisible by 3. */
static int keep_two_thirds(const void *opaque, const ltrr_index_t *ix,
                           uint32_t ent)
{
        (void)opaque;
        (void)ix;
        return ent % 3 != 0;
}

/* Compares @p got (@p ng) with the entries of @p ref (@p nr, never cut
 * off) that @p keep keeps (all when NULL), up to @p k: the same count,
 * scores rank by rank and exact flags. */
static void same_top(const ltrr_arm_cand_t *got, size_t ng,
                     const ltrr_arm_cand_t *ref, size_t nr, size_t k,
                     ltrr_arm_lex_filter_fn *keep)
{
        size_t m = 0;
        for (size_t i = 0; i < nr && m < k; i++) {
                if (keep && !keep(NULL, NULL, ref[i].ent))
                        continue;
                assert_true(m < ng);
                assert_float_equal(got[m].score, ref[i].score,
                                   1e-5f * ref[i].score);
                assert_float_equal(got[m].feat[1], ref[i].feat[1], 0);
                m++;
        }
        assert_int_equal(ng, m);
}

/* Names of three words from a small vocabulary, "the" in most: queries
 * of "the" and another word leave one essential list whose weak
 * postings are passed over by tf~, and seek "the" a few postings ahead.
 * The k best (k 1..60, unfiltered, cheap- and expensive-filtered) equal
 * the first k of a run that never prunes. */
static void test_frequent_pairs(void **state)
{
        fx_t *fx = *state;
        static const char *const vocab[] = {"night", "star", "rain", "love",
                                            "blue", "fire", "home", "dream"};
        static char names[2400][40];
        static const char *d[2400][2];
        static ltrr_arm_cand_t ref[LTRR_ARM_K_MAX];
        uint64_t x = 11;
        for (size_t i = 0; i < 2400; i++) {
                size_t a = (x = x * 6364136223846793005ull + 1) >> 61;
                size_t b = (x = x * 6364136223846793005ull + 1) >> 61;
                int the = ((x = x * 6364136223846793005ull + 1) >> 62) != 0;
                snprintf(names[i], sizeof(names[i]), "%s%s %s",
                         the ? "The " : "", vocab[a], vocab[b]);
                d[i][0] = names[i];
                d[i][1] = i % 2 ? "The Band" : "Solo";
        }
        ltrr_index_t *ix = build((const char *const (*)[2])d, 2400);
        fx->ctx.bm25f = NULL; /* the index's own weights: tf~ bounds */
        char errstr[256], q[64];
        for (size_t v = 0; v < 8; v++) {
                snprintf(q, sizeof(q), "the %s", vocab[v]);
                ltrr_tokbuf_t tb;
                ltrr_tokbuf_init(&tb, fx->toks, 64, fx->arena,
                                 sizeof(fx->arena));
                ltrr_analyzer_analyze(fx->an, q, strlen(q), &tb, NULL, 0);
                ltrr_arm_query_t aq = {tb.toks, tb.cnt, NULL};
                size_t nr = 0;
                assert_int_equal(ltrr_arm_lex_filtered(
                                     ix, &aq, NULL, fx->scr, 0, NULL, NULL, 0,
                                     LTRR_ARM_K_MAX, ref, &nr, errstr,
                                     sizeof(errstr)),
                                 LTRR_OK);
                assert_true(nr > 100 && nr < LTRR_ARM_K_MAX);
                for (size_t k = 1; k <= 60; k += 1 + k / 2) {
                        for (int f = 0; f < 3; f++) {
                                ltrr_arm_lex_filter_fn *keep =
                                    f ? keep_two_thirds : NULL;
                                assert_int_equal(
                                    ltrr_arm_lex_filtered(
                                        ix, &aq, NULL, fx->scr, 0, keep,
                                        NULL, f == 1, k, fx->out, &fx->cnt,
                                        errstr, sizeof(errstr)),
                                    LTRR_OK);
                                same_top(fx->out, fx->cnt, ref, nr, k, keep);
                        }
                }
        }
        ltrr_index_destroy(ix);
}

/* Adds to @p sum[e] the score of every entity e the one-word query
 * @p word finds on @p ix (a one-list query: no membership bitmap). */
static void add_word_scores(fx_t *fx, const ltrr_index_t *ix,
                            const char *word, float *sum)
{
        char errstr[256];
        static ltrr_arm_cand_t all[LTRR_ARM_K_MAX];
        size_t n = 0;
        ltrr_tokbuf_t tb;
        ltrr_tokbuf_init(&tb, fx->toks, 64, fx->arena, sizeof(fx->arena));
        ltrr_analyzer_analyze(fx->an, word, strlen(word), &tb, NULL, 0);
        ltrr_arm_query_t aq = {tb.toks, tb.cnt, NULL};
        assert_int_equal(aq.cnt, 1);
        assert_int_equal(ltrr_arm_lex_filtered(ix, &aq, NULL, fx->scr, 0,
                                               NULL, NULL, 0, LTRR_ARM_K_MAX,
                                               all, &n, errstr,
                                               sizeof(errstr)),
                         LTRR_OK);
        for (size_t i = 0; i < n; i++)
                sum[all[i].ent] += all[i].score;
}

/* Popularity of entity @p e of @p ix. */
static float pop_of(const ltrr_index_t *ix, uint32_t e)
{
        ltrr_index_entity_t en;
        assert_int_equal(ltrr_index_entity(ix, e, &en), LTRR_OK);
        return en.popularity;
}

/* 1 if @p a ranks before @p b: higher score, then higher popularity,
 * then lower entity. */
static int ranks_before(const ltrr_index_t *ix, const ltrr_arm_cand_t *a,
                        const ltrr_arm_cand_t *b)
{
        if (a->score != b->score)
                return a->score > b->score;
        float pa = pop_of(ix, a->ent), pb = pop_of(ix, b->ent);
        if (pa != pb)
                return pa > pb;
        return a->ent < b->ent;
}

/* Thousands of equal names: the k-th place is a tie broken by
 * popularity (a few values, some unknown) and then entity, and "the"
 * and "night" are long enough for membership bitmaps. The k best (k
 * 1..300, unfiltered, cheap- and expensive-filtered) are, entity by
 * entity, the first k of a run that never cuts, which itself is in
 * (score, popularity, entity) order, holds every entity with a query
 * word and scores each as the two one-word queries together. */
static void test_ties_by_popularity(void **state)
{
        fx_t *fx = *state;
        enum { N = 3000 };
        static const char *const names[] = {"The Night Star", "Night Star",
                                            "The Night", "Blue Moon",
                                            "The Night Star Live"};
        static ltrr_arm_cand_t ref[LTRR_ARM_K_MAX];
        static float sum[N];
        char errstr[256], id[16];
        ltrr_catalog_t *cat = ltrr_catalog_new(0, errstr, sizeof(errstr));
        assert_non_null(cat);
        uint32_t holders = 0;
        for (uint32_t i = 0; i < N; i++) {
                ltrr_entity_in_t in;
                const char *artist = i % 7 ? "Solo" : "The Band";
                ltrr_entity_in_init(&in);
                snprintf(id, sizeof(id), "e%u", i);
                in.id = id;
                in.name = names[i % 3 ? 0 : (i / 3) % 5];
                in.artists = &artist;
                in.artists_cnt = 1;
                in.popularity = i % 11 == 0 ? -1.0f
                                            : (float)((i * 7919u) % 5) / 4;
                holders += strcmp(in.name, "Blue Moon") != 0 || i % 7 == 0;
                assert_int_equal(ltrr_catalog_add(cat, &in, errstr,
                                                  sizeof(errstr)),
                                 LTRR_OK);
        }
        ltrr_index_t *ix = armtest_index(cat, NULL, path);
        ltrr_catalog_destroy(cat);
        fx->ctx.bm25f = NULL;
        memset(sum, 0, sizeof(sum));
        add_word_scores(fx, ix, "the", sum);
        add_word_scores(fx, ix, "night", sum);
        const char *q = "the night";
        ltrr_tokbuf_t tb;
        ltrr_tokbuf_init(&tb, fx->toks, 64, fx->arena, sizeof(fx->arena));
        ltrr_analyzer_analyze(fx->an, q, strlen(q), &tb, NULL, 0);
        ltrr_arm_query_t aq = {tb.toks, tb.cnt, NULL};
        size_t nr = 0;
        assert_int_equal(ltrr_arm_lex_filtered(ix, &aq, NULL, fx->scr, 0,
                                               NULL, NULL, 0, LTRR_ARM_K_MAX,
                                               ref, &nr, errstr,
                                               sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(nr, holders);
        /* each entity's score is its two words' (seeks the bitmaps
         * spared found nothing) */
        for (size_t i = 0; i < nr; i++)
                assert_float_equal(ref[i].score, sum[ref[i].ent],
                                   1e-5f * sum[ref[i].ent]);
        for (size_t i = 1; i < nr; i++)
                if (ref[i - 1].feat[1] == ref[i].feat[1])
                        assert_true(ranks_before(ix, &ref[i - 1], &ref[i]));
        for (size_t k = 1; k <= 300; k += 1 + k / 3) {
                for (int f = 0; f < 3; f++) {
                        ltrr_arm_lex_filter_fn *keep =
                            f ? keep_two_thirds : NULL;
                        assert_int_equal(
                            ltrr_arm_lex_filtered(ix, &aq, NULL, fx->scr, 0,
                                                  keep, NULL, f == 1, k,
                                                  fx->out, &fx->cnt, errstr,
                                                  sizeof(errstr)),
                            LTRR_OK);
                        size_t m = 0;
                        for (size_t i = 0; i < nr && m < k; i++) {
                                if (keep && !keep(NULL, NULL, ref[i].ent))
                                        continue;
                                assert_true(m < fx->cnt);
                                assert_int_equal(fx->out[m].ent, ref[i].ent);
                                assert_true(fx->out[m].score == ref[i].score);
                                m++;
                        }
                        assert_int_equal(fx->cnt, m);
                }
        }
        ltrr_index_destroy(ix);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_bm25f_hand_computed, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_exact_name_first, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_prefix, setup, teardown),
            cmocka_unit_test_setup_teardown(test_precomputed_tfw, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_k_bounds, setup, teardown),
            cmocka_unit_test_setup_teardown(test_empty_and_unknown, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_params_refused, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_registry_and_scratch, setup,
                                            teardown),
            cmocka_unit_test(test_union),
            cmocka_unit_test_setup_teardown(test_exact_is_multiset, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_pruning_is_exact, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_ties_by_popularity, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_frequent_pairs, setup,
                                            teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
