/*
 * Unit tests for the semantic arm: the query vector is the mean of the
 * lexical top hits' vectors, so a query finds entities whose vectors
 * are close to what its words match even when the words are absent;
 * no vectors means unavailable; no lexical hit means no candidate;
 * entities without a vector are never returned; a section of an older
 * layout (float32 or int8 HNSW graph) is refused with a "rebuild"
 * error; the section is an IVF index whose lists hold every vector.
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
#include "catalog.h"
#include "hnsw.h"
#include "index.h"
#include "ivf.h"
#include "text.h"

#define DIM 4

/* name, vector (all-zero: no vector) */
static const struct {
        const char *name;
        float v[DIM];
} docs[] = {
    {"Thunder Road", {1, 0.1f, 0, 0}},   /* rock */
    {"Highway Song", {0.9f, 0.2f, 0, 0}},
    {"Engine Roar", {1, 0, 0.1f, 0}},
    {"Blue Note Walk", {0, 0, 1, 0.1f}}, /* jazz */
    {"Late Night Trio", {0, 0.1f, 1, 0}},
    {"Quiet Thunder", {0, 0, 0.2f, 1}},  /* ambient */
    {"Silent Road", {0, 0, 0, 0}},       /* no vector */
};
#define NDOCS (sizeof(docs) / sizeof(docs[0]))

static char path[256];

/* Per-test state. */
typedef struct fx_s {
        ltrr_analyzer_t *an;              /* analyzer */
        ltrr_arm_scratch_t *scr;          /* scratch */
        ltrr_token_t toks[64];            /* query tokens */
        char arena[LTRR_TEXT_ARENA_SIZE]; /* token strings */
        ltrr_arm_cand_t out[64];          /* candidates */
        size_t cnt;                       /* candidates written */
} fx_t;

/* The catalog of docs, with vectors when @p dim is DIM. */
static ltrr_catalog_t *catalog(uint32_t dim)
{
        char errstr[256], id[16];
        ltrr_catalog_t *cat = ltrr_catalog_new(dim, errstr, sizeof(errstr));
        static const char *const artist = "Band";
        assert_non_null(cat);
        for (size_t i = 0; i < NDOCS; i++) {
                ltrr_entity_in_t in;
                ltrr_entity_in_init(&in);
                snprintf(id, sizeof(id), "e%zu", i);
                in.id = id;
                in.name = docs[i].name;
                in.artists = &artist;
                in.artists_cnt = 1;
                int zero = !docs[i].v[0] && !docs[i].v[1] && !docs[i].v[2] &&
                           !docs[i].v[3];
                in.vector = dim && !zero ? docs[i].v : NULL;
                assert_int_equal(ltrr_catalog_add(cat, &in, errstr,
                                                  sizeof(errstr)),
                                 LTRR_OK);
        }
        return cat;
}

/* Index with the vector section when @p vectors (2, 3: relabelled with
 * the magic of the older float32 / int8 HNSW layouts). */
static ltrr_index_t *build(int vectors)
{
        char errstr[256];
        ltrr_catalog_t *cat = catalog(vectors ? DIM : 0);
        void *sec = NULL;
        size_t len = 0;
        ltrr_index_extra_t ex;
        ltrr_index_build_conf_t bc = {0};
        if (vectors) {
                assert_int_equal(ltrr_semantic_section_build(cat, NULL, &sec,
                                                             &len, errstr,
                                                             sizeof(errstr)),
                                 LTRR_OK);
                if (vectors >= 2)
                        memcpy(sec, vectors == 2 ? "LTRRVEC1" : "LTRRVEC2",
                               8);
                ex = (ltrr_index_extra_t){LTRR_INDEX_SEC_VECTORS, sec, len};
                bc.extra = &ex;
                bc.extra_cnt = 1;
        }
        ltrr_index_t *ix = armtest_index(cat, &bc, path);
        free(sec);
        ltrr_catalog_destroy(cat);
        return ix;
}

static int setup(void **state)
{
        char errstr[256];
        fx_t *fx = calloc(1, sizeof(*fx));
        armtest_path(path, sizeof(path), "test_arm_semantic");
        fx->an = ltrr_analyzer_new("en", errstr, sizeof(errstr));
        fx->scr = ltrr_arm_scratch_new();
        assert_non_null(fx->an);
        assert_non_null(fx->scr);
        *state = fx;
        return 0;
}

static int teardown(void **state)
{
        fx_t *fx = *state;
        ltrr_analyzer_destroy(fx->an);
        ltrr_arm_scratch_destroy(fx->scr);
        free(fx);
        return 0;
}

static char run_err[256]; /* the last run's error */
static int run_direct;    /* 1: the arm's own run(), past the
                           * availability check of ltrr_arm_run() */

static ltrr_err_t run(fx_t *fx, const ltrr_index_t *ix, const char *text,
                      size_t k)
{
        char *errstr = run_err;
        ltrr_tokbuf_t tb;
        ltrr_arm_ctx_t ctx;
        memset(&ctx, 0, sizeof(ctx));
        ltrr_tokbuf_init(&tb, fx->toks, 64, fx->arena, sizeof(fx->arena));
        assert_int_equal(ltrr_analyzer_analyze(fx->an, text, strlen(text),
                                               &tb, errstr, sizeof(run_err)),
                         LTRR_OK);
        ltrr_arm_query_t q = {fx->toks, tb.cnt, NULL};
        int id = ltrr_arm_find("semantic");
        assert_true(id >= 0);
        fx->cnt = 0;
        if (run_direct)
                return ltrr_arm_semantic.run(ix, &q, &ctx, fx->scr,
                                             (unsigned)id, k, fx->out,
                                             &fx->cnt, errstr,
                                             sizeof(run_err));
        return ltrr_arm_run((unsigned)id, ix, &q, &ctx, fx->scr, k, fx->out,
                            &fx->cnt, errstr, sizeof(run_err));
}

/* 1 if entity @p ent is among the candidates. */
static int has(const fx_t *fx, uint32_t ent)
{
        for (size_t i = 0; i < fx->cnt; i++)
                if (fx->out[i].ent == ent)
                        return 1;
        return 0;
}

static void test_neighbours(void **state)
{
        fx_t *fx = *state;
        ltrr_index_t *ix = build(1);
        assert_true(ltrr_arm_semantic.available(ix));
        /* "engine" matches only e2 lexically: the rock vectors follow */
        assert_int_equal(run(fx, ix, "engine", 3), LTRR_OK);
        assert_int_equal(fx->cnt, 3);
        assert_int_equal(fx->out[0].ent, 2);
        assert_true(has(fx, 0) && has(fx, 1));
        assert_float_equal(fx->out[0].feat[1], 1.0, 0); /* one seed */
        for (size_t i = 1; i < fx->cnt; i++)
                assert_true(fx->out[i - 1].score >= fx->out[i].score);
        /* "trio": the jazz pair, not the rock ones */
        assert_int_equal(run(fx, ix, "trio", 2), LTRR_OK);
        assert_int_equal(fx->cnt, 2);
        assert_true(has(fx, 3) && has(fx, 4));
        /* "road" seeds e0 and e6 (no vector): e6 is never returned */
        assert_int_equal(run(fx, ix, "road", 10), LTRR_OK);
        assert_false(has(fx, 6));
        assert_true(has(fx, 0));
        ltrr_index_destroy(ix);
}

static void test_no_lexical_hit(void **state)
{
        fx_t *fx = *state;
        ltrr_index_t *ix = build(1);
        assert_int_equal(run(fx, ix, "zzzz", 10), LTRR_OK);
        assert_int_equal(fx->cnt, 0);
        assert_int_equal(run(fx, ix, "", 10), LTRR_OK);
        assert_int_equal(fx->cnt, 0);
        ltrr_index_destroy(ix);
}

static void test_unavailable(void **state)
{
        fx_t *fx = *state;
        ltrr_index_t *ix = build(0);
        assert_false(ltrr_arm_semantic.available(ix));
        assert_int_equal(run(fx, ix, "engine", 10), LTRR_ERR_STATE);
        assert_int_equal(fx->cnt, 0);
        ltrr_index_destroy(ix);
}

static void test_old_layout(void **state)
{
        fx_t *fx = *state;
        for (int old = 2; old <= 3; old++) {
                ltrr_index_t *ix = build(old);
                assert_false(ltrr_arm_semantic.available(ix));
                assert_int_equal(run(fx, ix, "engine", 10), LTRR_ERR_STATE);
                run_direct = 1;
                ltrr_err_t err = run(fx, ix, "engine", 10);
                run_direct = 0;
                assert_int_equal(err, LTRR_ERR_SCHEMA);
                assert_non_null(strstr(run_err, "rebuild the index"));
                assert_int_equal(fx->cnt, 0);
                ltrr_index_destroy(ix);
        }
}

/* The section: magic LTRRVEC3, then an IVF index holding the six
 * non-zero vectors, sound under the full check. */
static void test_section_layout(void **state)
{
        (void)state;
        char errstr[256];
        void *sec = NULL;
        size_t len = 0;
        ltrr_ivf_view_t g;
        ltrr_catalog_t *cat = catalog(DIM);
        assert_int_equal(ltrr_semantic_section_build(cat, NULL, &sec, &len,
                                                     errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_memory_equal(sec, "LTRRVEC3", 8);
        assert_int_equal(ltrr_ivf_view((uint8_t *)sec + 32, len - 32, &g,
                                       errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_ivf_check(&g, errstr, sizeof(errstr)), LTRR_OK);
        assert_int_equal(g.n, NDOCS);
        assert_int_equal(g.cnt, NDOCS - 1);
        assert_int_equal(g.slot[6], LTRR_IVF_NO_SLOT);
        free(sec);
        ltrr_catalog_destroy(cat);
}

static void test_section_errors(void **state)
{
        (void)state;
        char errstr[256];
        void *sec = (void *)1;
        size_t len;
        ltrr_catalog_t *cat = catalog(0);
        assert_int_equal(ltrr_semantic_section_build(cat, NULL, &sec, &len,
                                                     errstr, sizeof(errstr)),
                         LTRR_ERR_STATE);
        assert_null(sec);
        assert_non_null(strstr(errstr, "no vectors"));
        assert_int_equal(ltrr_semantic_section_build(NULL, NULL, &sec, &len,
                                                     errstr, sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        ltrr_catalog_destroy(cat);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_neighbours, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_no_lexical_hit, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_unavailable, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_old_layout, setup,
                                            teardown),
            cmocka_unit_test(test_section_errors),
            cmocka_unit_test(test_section_layout),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
