/*
 * Unit tests for the fuzzy arm: typo'd artist and title tokens find the
 * intended entity, the section round-trips through the index file, an
 * index without the section makes the arm unavailable, a corrupt section
 * is refused, a section of the older float32 layout is refused with a
 * "rebuild" error, and k and empty queries are bounded.
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
#include "text.h"

/* name, artist */
static const char *const docs[][2] = {
    {"Love Story", "Taylor Swift"},   {"Shake It Off", "Taylor Swift"},
    {"Lover", "Taylor Swift"},        {"Love On Top", "Beyoncé"},
    {"Halo", "Beyoncé"},              {"Crazy in Love", "Beyoncé"},
    {"One Dance", "Drake"},           {"Hotline Bling", "Drake"},
    {"Love Me Do", "The Beatles"},    {"Yesterday", "The Beatles"},
    {"Swift Love", "Sailor Moon"},    {"Bad Romance", "Lady Gaga"},
    {"Love Song", "Sara Bareilles"},  {"Someone Like You", "Adele"},
};
#define NDOCS (sizeof(docs) / sizeof(docs[0]))

static char path[256];

/* Per-test state. */
typedef struct fx_s {
        ltrr_analyzer_t *an;                 /* analyzer */
        ltrr_arm_scratch_t *scr;             /* scratch */
        ltrr_token_t toks[64];               /* query tokens */
        char arena[LTRR_TEXT_ARENA_SIZE];    /* token strings */
        ltrr_arm_cand_t out[LTRR_ARM_K_MAX]; /* candidates */
        size_t cnt;                          /* candidates written */
        char err[256];                       /* the last run's error */
        int direct;                          /* run the arm's own run() */
} fx_t;

/* The catalog of docs. */
static ltrr_catalog_t *catalog(void)
{
        return armtest_catalog(docs, NDOCS);
}

/* Builds the index, with the fuzzy section unless @p plain; @p mangle
 * may alter the section before it is written. */
static ltrr_index_t *build(int plain, void (*mangle)(uint8_t *, size_t))
{
        char errstr[256];
        ltrr_catalog_t *cat = catalog();
        void *sec = NULL;
        size_t len = 0;
        ltrr_index_extra_t ex;
        ltrr_index_build_conf_t bc = {0};
        if (!plain) {
                assert_int_equal(ltrr_fuzzy_section_build(cat, "en", NULL,
                                                          &sec, &len, errstr,
                                                          sizeof(errstr)),
                                 LTRR_OK);
                if (mangle)
                        mangle(sec, len);
                ex = (ltrr_index_extra_t){LTRR_INDEX_SEC_NGRAMS, sec, len};
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
        armtest_path(path, sizeof(path), "test_arm_fuzzy");
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

/* Runs the fuzzy arm for @p text with budget @p k. */
static ltrr_err_t run(fx_t *fx, const ltrr_index_t *ix, const char *text,
                      size_t k)
{
        ltrr_tokbuf_t tb;
        ltrr_tokbuf_init(&tb, fx->toks, 64, fx->arena, sizeof(fx->arena));
        assert_int_equal(ltrr_analyzer_analyze(fx->an, text, strlen(text),
                                               &tb, fx->err, sizeof(fx->err)),
                         LTRR_OK);
        ltrr_arm_query_t q = {fx->toks, tb.cnt, NULL};
        int id = ltrr_arm_find("fuzzy");
        assert_true(id >= 0);
        fx->err[0] = 0;
        fx->cnt = 0;
        if (fx->direct) /* past ltrr_arm_run()'s availability check */
                return ltrr_arm_fuzzy.run(ix, &q, NULL, fx->scr, (unsigned)id,
                                          k, fx->out, &fx->cnt, fx->err,
                                          sizeof(fx->err));
        return ltrr_arm_run((unsigned)id, ix, &q, NULL, fx->scr, k, fx->out,
                            &fx->cnt, fx->err, sizeof(fx->err));
}

/* Entity index of the first candidate. */
static uint32_t first(fx_t *fx)
{
        assert_true(fx->cnt > 0);
        return fx->out[0].ent;
}

static void test_typos_found(void **state)
{
        fx_t *fx = *state;
        ltrr_index_t *ix = build(0, NULL);
        assert_int_equal(run(fx, ix, "tayler swift love", 10), LTRR_OK);
        assert_int_equal(first(fx), 0); /* Love Story, Taylor Swift */
        /* "Lover" (one edit on "love") comes next; "Swift Love" by
         * Sailor Moon, three edits away from "tayler", comes after */
        assert_true(fx->cnt >= 3);
        assert_int_equal(fx->out[1].ent, 2);
        assert_int_equal(fx->out[2].ent, 10);
        assert_float_equal(fx->out[0].feat[0], 2.75 / 3, 1e-5);
        assert_float_equal(fx->out[2].feat[0], 2.0 / 3, 1e-5);
        assert_int_equal(run(fx, ix, "beyonse halo", 10), LTRR_OK);
        assert_int_equal(first(fx), 4);
        assert_float_equal(fx->out[0].feat[2], 1.0, 1e-6); /* one edit */
        assert_int_equal(run(fx, ix, "drkae dance", 10), LTRR_OK);
        assert_int_equal(first(fx), 6); /* transposition */
        assert_int_equal(run(fx, ix, "beatles yesterdya", 10), LTRR_OK);
        assert_int_equal(first(fx), 9);
        /* scores are sorted */
        for (size_t i = 1; i < fx->cnt; i++)
                assert_true(fx->out[i - 1].score >= fx->out[i].score);
        ltrr_index_destroy(ix);
}

static void test_bounds(void **state)
{
        fx_t *fx = *state;
        ltrr_index_t *ix = build(0, NULL);
        assert_int_equal(run(fx, ix, "love", 2), LTRR_OK);
        assert_int_equal(fx->cnt, 2);
        assert_int_equal(run(fx, ix, "", 10), LTRR_OK);
        assert_int_equal(fx->cnt, 0);
        /* nothing within the edit allowance: no candidate */
        assert_int_equal(run(fx, ix, "zzzzqqqq", 10), LTRR_OK);
        assert_int_equal(fx->cnt, 0);
        /* the largest budget is capped by the graph's ef bound */
        assert_int_equal(run(fx, ix, "love", LTRR_ARM_K_MAX), LTRR_OK);
        assert_true(fx->cnt > 0 && fx->cnt <= NDOCS);
        assert_int_equal(run(fx, ix, "love", LTRR_ARM_K_MAX + 1),
                         LTRR_ERR_RANGE);
        ltrr_index_destroy(ix);
}

static void test_unavailable(void **state)
{
        fx_t *fx = *state;
        ltrr_index_t *ix = build(1, NULL);
        assert_false(ltrr_arm_fuzzy.available(ix));
        assert_int_equal(run(fx, ix, "love", 10), LTRR_ERR_STATE);
        assert_int_equal(fx->cnt, 0);
        ltrr_index_destroy(ix);
}

/* Breaks the section's magic. */
static void bad_magic(uint8_t *p, size_t len)
{
        (void)len;
        p[3] ^= 0x55;
}

/* Breaks the embedded graph's header. */
static void bad_graph(uint8_t *p, size_t len)
{
        (void)len;
        p[32] ^= 0x55; /* the HNSW magic follows the 32-byte header */
}

static void test_corrupt(void **state)
{
        fx_t *fx = *state;
        ltrr_index_t *ix = build(0, bad_magic);
        assert_int_equal(run(fx, ix, "love", 10), LTRR_ERR_STATE);
        ltrr_index_destroy(ix);
        ix = build(0, bad_graph);
        assert_false(ltrr_arm_fuzzy.available(ix));
        ltrr_index_destroy(ix);
}

/* Gives the section the magic of the float32 layout (before 0035). */
static void old_magic(uint8_t *p, size_t len)
{
        (void)len;
        memcpy(p, "LTRRFZY1", 8);
}

/* An index of the older layout: unavailable (the arm sits out), and
 * the arm itself says to rebuild instead of reading floats as int8. */
static void test_old_layout(void **state)
{
        fx_t *fx = *state;
        ltrr_index_t *ix = build(0, old_magic);
        assert_false(ltrr_arm_fuzzy.available(ix));
        assert_int_equal(run(fx, ix, "love", 10), LTRR_ERR_STATE);
        fx->direct = 1;
        assert_int_equal(run(fx, ix, "love", 10), LTRR_ERR_SCHEMA);
        assert_non_null(strstr(fx->err, "rebuild"));
        assert_int_equal(fx->cnt, 0);
        ltrr_index_destroy(ix);
}

/* The section starts with its header, the int8 graph right behind it:
 * the graph's own header (version 2) sits at byte 32. */
static void test_section_layout(void **state)
{
        (void)state;
        char errstr[256];
        void *sec = NULL;
        size_t len = 0;
        uint32_t version = 0;
        uint64_t glen = 0;
        ltrr_catalog_t *cat = catalog();
        assert_int_equal(ltrr_fuzzy_section_build(cat, "en", NULL, &sec, &len,
                                                  errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_memory_equal(sec, "LTRRFZY2", 8);
        memcpy(&glen, (uint8_t *)sec + 24, 8);
        assert_true(glen > 0 && glen < len - 32);
        assert_memory_equal((uint8_t *)sec + 32, "LTRRHNSW", 8);
        memcpy(&version, (uint8_t *)sec + 40, 4);
        assert_int_equal(version, LTRR_HNSW_VERSION);
        ltrr_hnsw_view_t g;
        assert_int_equal(ltrr_hnsw_view((uint8_t *)sec + 32, glen, &g, errstr,
                                        sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(g.n, NDOCS);
        assert_int_equal(g.dim, LTRR_FUZZY_DIM_DEFAULT);
        assert_int_equal(ltrr_hnsw_check(&g, errstr, sizeof(errstr)),
                         LTRR_OK);
        free(sec);
        ltrr_catalog_destroy(cat);
}

static void test_bad_args(void **state)
{
        (void)state;
        char errstr[256];
        void *sec = (void *)1;
        size_t len;
        assert_int_equal(ltrr_fuzzy_section_build(NULL, "en", NULL, &sec,
                                                  &len, errstr,
                                                  sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_null(sec);
        ltrr_catalog_t *cat = catalog();
        ltrr_ann_section_conf_t c = {.dim = 8};
        assert_int_equal(ltrr_fuzzy_section_build(cat, "en", &c, &sec, &len,
                                                  errstr, sizeof(errstr)),
                         LTRR_ERR_RANGE);
        assert_non_null(strstr(errstr, "dim"));
        /* deterministic */
        void *a = NULL, *b = NULL;
        size_t la, lb;
        assert_int_equal(ltrr_fuzzy_section_build(cat, "en", NULL, &a, &la,
                                                  errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_fuzzy_section_build(cat, "en", NULL, &b, &lb,
                                                  errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(la, lb);
        assert_memory_equal(a, b, la);
        free(a);
        free(b);
        ltrr_catalog_destroy(cat);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_typos_found, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
            cmocka_unit_test_setup_teardown(test_unavailable, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
            cmocka_unit_test_setup_teardown(test_old_layout, setup,
                                            teardown),
            cmocka_unit_test(test_section_layout),
            cmocka_unit_test(test_bad_args),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
