/*
 * Unit tests for the popular, structured, fresh, personal and memory
 * arms on a small hand-built catalog: each arm's expected entity first
 * for a query made for it, nothing wrong without its state, k bounds,
 * determinism, and the handed-in state builders; the per-thread caches
 * of the lexical pass (filter bitmaps, term membership bitmaps,
 * popularity bounds).
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
#include "arm_bits.h"
#include "arm_popmax.h"
#include "arm_state.h"
#include "arm_termbits.h"
#include "catalog.h"
#include "index.h"
#include "index_int.h"
#include "text.h"

/* One catalog row. */
typedef struct row_s {
        const char *name, *artist, *genre, *mood, *lang;
        int y, m, d;
        float pop;
} row_t;

static const row_t rows[] = {
    {"Love Story", "Taylor Swift", "pop", NULL, "en", 2008, 9, 12, 90},
    {"Love", "Kendrick Lamar", "hip hop", NULL, "en", 2017, 4, 14, 80},
    {"Love Me Tender", "Elvis Presley", "rock", NULL, "en", 1956, 10, 1, 60},
    {"Blue in Green", "Miles Davis", "jazz", "calm", "en", 1959, 8, 17, 50},
    {"Love Again", "New Band", "pop", NULL, "en", 2024, 5, 20, 10},
    {"Thunderstruck", "AC DC", "rock", NULL, "en", 1990, 9, 10, 70},
    {"So What", "Miles Davis", "jazz", "calm", "en", 1959, 8, 17, 65},
    {"Love for Sale", "Miles Davis", "jazz", NULL, "en", 1959, 3, 2, 40},
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

/* Per-test state. */
typedef struct fx_s {
        ltrr_index_t *ix;          /* index with the arms' sections */
        ltrr_index_t *plain;       /* index without them */
        ltrr_analyzer_t *an;       /* English analyzer */
        ltrr_arm_scratch_t *scr;   /* scratch */
        ltrr_token_t toks[64];     /* query tokens */
        char arena[LTRR_TEXT_ARENA_SIZE]; /* token strings */
        char norm[256];            /* normalized query */
        ltrr_arm_query_t q;        /* the analyzed query */
        ltrr_arm_cand_t out[128];  /* candidates */
        size_t cnt;                /* candidates written */
        ltrr_arm_ctx_t ctx;        /* context */
} fx_t;

static char path[256];

/* The catalog of rows[]. */
static ltrr_catalog_t *make_catalog(void)
{
        char errstr[256], id[16];
        ltrr_catalog_t *cat = ltrr_catalog_new(0, errstr, sizeof(errstr));
        assert_non_null(cat);
        for (size_t i = 0; i < NROWS; i++) {
                ltrr_entity_in_t in;
                ltrr_entity_in_init(&in);
                snprintf(id, sizeof(id), "e%zu", i);
                in.id = id;
                in.name = rows[i].name;
                in.artists = &rows[i].artist;
                in.artists_cnt = 1;
                in.genres = &rows[i].genre;
                in.genres_cnt = 1;
                in.moods = &rows[i].mood;
                in.moods_cnt = rows[i].mood ? 1 : 0;
                in.language = rows[i].lang;
                in.release_days = ltrr_date_from_ymd(rows[i].y, rows[i].m,
                                                     rows[i].d);
                in.release_prec = LTRR_DATE_DAY;
                in.popularity = rows[i].pop;
                assert_int_equal(ltrr_catalog_add(cat, &in, errstr,
                                                  sizeof(errstr)),
                                 LTRR_OK);
        }
        return cat;
}

/* Builds and opens an index of @p cat, with the arms' sections if
 * @p sections. */
static ltrr_index_t *build(const ltrr_catalog_t *cat, int sections)
{
        char errstr[256];
        ltrr_index_extra_t extra[LTRR_INDEX_EXTRA_MAX];
        ltrr_index_build_conf_t bc = {.lang = "en"};
        ltrr_arm_sections_t *as = NULL;
        if (sections) {
                as = ltrr_arm_sections_new(cat, "en", errstr, sizeof(errstr));
                assert_non_null(as);
                bc.extra_cnt = ltrr_arm_sections_extra(as, extra,
                                                       LTRR_INDEX_EXTRA_MAX);
                assert_int_equal(bc.extra_cnt, 5);
                bc.extra = extra;
        }
        ltrr_index_t *ix = armtest_index(cat, &bc, path);
        ltrr_arm_sections_destroy(as);
        return ix;
}

static int setup(void **state)
{
        char errstr[256];
        fx_t *fx = calloc(1, sizeof(*fx));
        armtest_path(path, sizeof(path), "test_arms_basic");
        ltrr_catalog_t *cat = make_catalog();
        fx->ix = build(cat, 1);
        fx->plain = build(cat, 0);
        ltrr_catalog_destroy(cat);
        fx->an = ltrr_analyzer_new("en", errstr, sizeof(errstr));
        fx->scr = ltrr_arm_scratch_new();
        assert_non_null(fx->an);
        assert_non_null(fx->scr);
        fx->ctx.today_days = ltrr_date_from_ymd(2024, 6, 1);
        *state = fx;
        return 0;
}

static int teardown(void **state)
{
        fx_t *fx = *state;
        ltrr_index_destroy(fx->ix);
        ltrr_index_destroy(fx->plain);
        ltrr_analyzer_destroy(fx->an);
        ltrr_arm_scratch_destroy(fx->scr);
        free(fx);
        return 0;
}

/* Analyzes @p text into fx->q. */
static void query(fx_t *fx, const char *text)
{
        ltrr_tokbuf_t tb;
        ltrr_tokbuf_init(&tb, fx->toks, 64, fx->arena, sizeof(fx->arena));
        assert_int_equal(ltrr_analyzer_analyze(fx->an, text, strlen(text),
                                               &tb, NULL, 0),
                         LTRR_OK);
        assert_int_equal(ltrr_analyzer_normalize(fx->an, text, strlen(text),
                                                 fx->norm, sizeof(fx->norm),
                                                 NULL, NULL, 0),
                         LTRR_OK);
        fx->q = (ltrr_arm_query_t){fx->toks, tb.cnt, fx->norm};
}

/* Runs arm @p name for @p text; returns its result code. */
static ltrr_err_t run(fx_t *fx, const ltrr_index_t *ix, const char *name,
                      const char *text, size_t k)
{
        char errstr[256];
        int id = ltrr_arm_find(name);
        assert_true(id >= 0);
        query(fx, text);
        return ltrr_arm_run((unsigned)id, ix, &fx->q, &fx->ctx, fx->scr, k,
                            fx->out, &fx->cnt, errstr, sizeof(errstr));
}

/* Entity index of row @p name. */
static uint32_t ent(const char *name)
{
        for (size_t i = 0; i < NROWS; i++)
                if (strcmp(rows[i].name, name) == 0)
                        return (uint32_t)i;
        fail_msg("no row %s", name);
        return 0;
}

/* 1 if entity @p e is among the candidates. */
static int has(const fx_t *fx, uint32_t e)
{
        for (size_t i = 0; i < fx->cnt; i++)
                if (fx->out[i].ent == e)
                        return 1;
        return 0;
}

static void test_registry(void **state)
{
        (void)state;
        const char *names[] = {"popular", "structured", "fresh", "personal",
                               "memory"};
        for (size_t i = 0; i < 5; i++) {
                int id = ltrr_arm_find(names[i]);
                assert_true(id > 0);
                assert_string_equal(ltrr_arm_get((unsigned)id)->name,
                                    names[i]);
        }
}

static void test_popular(void **state)
{
        fx_t *fx = *state;
        ltrr_pop_overrides_t *po = ltrr_pop_overrides_new();
        assert_int_equal(run(fx, fx->ix, "popular", "love", 10), LTRR_OK);
        assert_int_equal(fx->cnt, 5);
        assert_int_equal(fx->out[0].ent, ent("Love"));
        assert_false(has(fx, ent("So What")));
        /* fresh popularity from Redis lifts the unknown band */
        assert_int_equal(ltrr_pop_overrides_add(po, ent("Love Again"), 1e5f),
                         LTRR_OK);
        ltrr_pop_overrides_seal(po);
        assert_int_equal(ltrr_pop_overrides_add(po, 1, 1.0f), LTRR_ERR_STATE);
        fx->ctx.popularity = po;
        assert_int_equal(run(fx, fx->ix, "popular", "love", 10), LTRR_OK);
        assert_int_equal(fx->out[0].ent, ent("Love Again"));
        assert_true(fx->out[0].feat[3] == 1.0f);
        fx->ctx.popularity = NULL;
        ltrr_pop_overrides_destroy(po);
        ltrr_pop_overrides_destroy(NULL);
        /* k bound */
        assert_int_equal(run(fx, fx->ix, "popular", "love", 2), LTRR_OK);
        assert_int_equal(fx->cnt, 2);
        assert_true(fx->out[0].score >= fx->out[1].score);
}

static void test_popular_prefix(void **state)
{
        fx_t *fx = *state;
        assert_int_equal(run(fx, fx->ix, "popular", "ta", 10), LTRR_OK);
        assert_int_equal(fx->cnt, 1);
        assert_int_equal(fx->out[0].ent, ent("Love Story"));
        assert_true(fx->out[0].feat[2] == 1.0f);
        /* "m" starts Miles Davis (three entities) and "Me": by popularity */
        assert_int_equal(run(fx, fx->ix, "popular", "mi", 10), LTRR_OK);
        assert_int_equal(fx->cnt, 3);
        assert_int_equal(fx->out[0].ent, ent("So What"));
        /* without the prefix section: lexical prefix expansion only */
        assert_int_equal(run(fx, fx->plain, "popular", "zz", 10), LTRR_OK);
        assert_int_equal(fx->cnt, 0);
}

static void test_structured(void **state)
{
        fx_t *fx = *state;
        assert_int_equal(run(fx, fx->ix, "structured", "jazz", 10), LTRR_OK);
        assert_int_equal(fx->cnt, 3);
        assert_int_equal(fx->out[0].ent, ent("So What"));
        assert_int_equal(fx->out[1].ent, ent("Blue in Green"));
        assert_int_equal(run(fx, fx->ix, "structured", "jazz love", 10),
                         LTRR_OK);
        assert_int_equal(fx->cnt, 1);
        assert_int_equal(fx->out[0].ent, ent("Love for Sale"));
        assert_int_equal(run(fx, fx->ix, "structured", "rock 1990", 10),
                         LTRR_OK);
        assert_int_equal(fx->cnt, 1);
        assert_int_equal(fx->out[0].ent, ent("Thunderstruck"));
        /* no attribute: unavailable, nothing written */
        assert_int_equal(run(fx, fx->ix, "structured", "love", 10),
                         LTRR_ERR_STATE);
        assert_int_equal(fx->cnt, 0);
        /* no QU section */
        assert_int_equal(run(fx, fx->plain, "structured", "jazz", 10),
                         LTRR_ERR_STATE);
        assert_int_equal(fx->cnt, 0);
}

/* A year or decade filter beside other words: the lexical pass is
 * filtered by a bitmap of the filter (filled on the first call, cached
 * after), with the same answer each time. */
static void test_structured_dates(void **state)
{
        fx_t *fx = *state;
        for (int rep = 0; rep < 2; rep++) {
                assert_int_equal(run(fx, fx->ix, "structured", "1959 love",
                                     10), LTRR_OK);
                assert_int_equal(fx->cnt, 1);
                assert_int_equal(fx->out[0].ent, ent("Love for Sale"));
                assert_int_equal(run(fx, fx->ix, "structured", "1950s love",
                                     10), LTRR_OK);
                assert_int_equal(fx->cnt, 2);
                assert_true(has(fx, ent("Love for Sale")));
                assert_true(has(fx, ent("Love Me Tender")));
                assert_int_equal(run(fx, fx->ix, "structured", "1960 love",
                                     10), LTRR_OK);
                assert_int_equal(fx->cnt, 0);
                assert_int_equal(run(fx, fx->ix, "structured", "2010s love",
                                     10), LTRR_OK);
                assert_int_equal(fx->cnt, 1); /* 2017; 2024 is not in */
                assert_int_equal(fx->out[0].ent, ent("Love"));
        }
}

/* Year and decade filters at the edges of a year: 1959-12-31 is in
 * 1959 and the 1950s, 1960-01-01 in 1960 and the 1960s. */
static void test_structured_year_edges(void **state)
{
        fx_t *fx = *state;
        char errstr[256];
        static const char *const names[] = {"Edge Night", "Edge Day"};
        static const int ymd[][3] = {{1959, 12, 31}, {1960, 1, 1}};
        const char *artist = "Nobody", *genre = "jazz";
        ltrr_catalog_t *cat = ltrr_catalog_new(0, errstr, sizeof(errstr));
        assert_non_null(cat);
        for (int i = 0; i < 2; i++) {
                ltrr_entity_in_t in;
                ltrr_entity_in_init(&in);
                in.id = names[i];
                in.name = names[i];
                in.artists = &artist;
                in.artists_cnt = 1;
                in.genres = &genre;
                in.genres_cnt = 1;
                in.release_days = ltrr_date_from_ymd(ymd[i][0], ymd[i][1],
                                                     ymd[i][2]);
                in.release_prec = LTRR_DATE_DAY;
                assert_int_equal(ltrr_catalog_add(cat, &in, errstr,
                                                  sizeof(errstr)),
                                 LTRR_OK);
        }
        ltrr_index_t *ix = build(cat, 1);
        ltrr_catalog_destroy(cat);
        static const char *const q[] = {"1959 edge", "1950s edge",
                                        "1960 edge", "1960s edge"};
        for (int i = 0; i < 4; i++) {
                char err[256];
                int id = ltrr_arm_find("structured");
                query(fx, q[i]);
                assert_int_equal(ltrr_arm_run((unsigned)id, ix, &fx->q,
                                              &fx->ctx, fx->scr, 10, fx->out,
                                              &fx->cnt, err, sizeof(err)),
                                 LTRR_OK);
                assert_int_equal(fx->cnt, 1);
                assert_int_equal(fx->out[0].ent, i < 2 ? 0u : 1u);
        }
        ltrr_index_destroy(ix);
}

/* Counts the calls of fill_odd(). */
static int fill_calls;

/* Bitmap fill of test_filter_bits(): odd entities. */
static void fill_odd(const void *opaque, const ltrr_index_t *ix,
                     uint64_t *bits)
{
        (void)opaque;
        fill_calls++;
        for (uint32_t e = 1; e < ltrr_index_count(ix); e += 2)
                bits[e / 64] |= 1ull << (e % 64);
}

/* The bitmap cache: filled once per key from the filter, found again
 * (also after the memory moved), per index, least recently used out. */
static void test_filter_bits(void **state)
{
        fx_t *fx = *state;
        uint32_t n = ltrr_index_count(fx->ix);
        size_t bytes = ltrr_arm_bits_bytes(n);
        uint8_t *mem = calloc(1, bytes), *moved = malloc(bytes);
        uint64_t key[LTRR_ARM_BITS_KEY_MAX + 1] = {7, 1};
        assert_true(mem && moved && bytes % 16 == 0);
        fill_calls = 0;
        const uint64_t *b = ltrr_arm_bits_get(mem, fx->ix, key, 2, fill_odd,
                                              NULL);
        assert_non_null(b);
        assert_int_equal(fill_calls, 1);
        for (uint32_t e = 0; e < n; e++)
                assert_int_equal(ltrr_arm_bits_keep(b, fx->ix, e), (int)e % 2);
        assert_ptr_equal(ltrr_arm_bits_get(mem, fx->ix, key, 2, fill_odd,
                                           NULL), b);
        assert_int_equal(fill_calls, 1); /* cached */
        memcpy(moved, mem, bytes);
        const uint64_t *mb = ltrr_arm_bits_get(moved, fx->ix, key, 2, NULL,
                                               NULL);
        assert_non_null(mb);
        assert_memory_equal(mb, b, (n + 7) / 8);
        /* not another key (nor a prefix of this one), nor another index */
        assert_null(ltrr_arm_bits_get(mem, fx->ix, key, 1, NULL, NULL));
        assert_null(ltrr_arm_bits_get(mem, fx->plain, key, 2, NULL, NULL));
        /* eight more keys: the least recently used goes first */
        for (uint64_t k = 100; k < 100 + LTRR_ARM_BITS_SLOTS; k++) {
                if (k == 100 + LTRR_ARM_BITS_SLOTS - 1)
                        assert_non_null(ltrr_arm_bits_get(
                            mem, fx->ix, key, 2, NULL, NULL));
                assert_non_null(ltrr_arm_bits_get(mem, fx->ix, &k, 1,
                                                  fill_odd, NULL));
        }
        assert_int_equal(fill_calls, 1 + LTRR_ARM_BITS_SLOTS);
        uint64_t first = 100;
        assert_null(ltrr_arm_bits_get(mem, fx->ix, &first, 1, NULL, NULL));
        assert_non_null(ltrr_arm_bits_get(mem, fx->ix, key, 2, NULL, NULL));
        /* the empty key is a key (found again); bad arguments */
        const uint64_t *eb = ltrr_arm_bits_get(mem, fx->ix, NULL, 0,
                                               fill_odd, NULL);
        assert_non_null(eb);
        assert_ptr_equal(ltrr_arm_bits_get(mem, fx->ix, NULL, 0, NULL,
                                           NULL), eb);
        assert_null(ltrr_arm_bits_get(mem, fx->ix, key,
                                      LTRR_ARM_BITS_KEY_MAX + 1, fill_odd,
                                      NULL));
        assert_null(ltrr_arm_bits_get(NULL, fx->ix, key, 2, fill_odd, NULL));
        assert_null(ltrr_arm_bits_get(mem, NULL, key, 2, fill_odd, NULL));
        free(mem);
        free(moved);
}

/* 1 if term @p t of @p ix has a posting for entity @p e. */
static int term_holds(const ltrr_index_t *ix, uint32_t t, uint32_t e)
{
        const ltrr_index_term_t *r = &ix->terms[t];
        for (uint32_t i = 0; i < r->df; i++)
                if (ix->posts[r->post_off + i].doc == e)
                        return 1;
        return 0;
}

/* Term membership bitmaps: bit e set exactly for the entities of the
 * term's list, a member's rank its posting's position; found again (also after the memory moved), per index,
 * least recently used out; the group size of large indexes; bad
 * arguments. */
static void test_term_bits(void **state)
{
        fx_t *fx = *state;
        const ltrr_index_t *ix = fx->ix;
        uint32_t n = ltrr_index_count(ix), tc = ix->term_cnt;
        ltrr_arm_termbits_t *tb = calloc(1, sizeof(*tb));
        ltrr_arm_termbits_t *moved = malloc(sizeof(*tb));
        assert_true(tb && moved && tc > LTRR_ARM_TERMBITS_SLOTS);
        assert_int_equal(ltrr_arm_termbits_shift(n), 0);
        assert_int_equal(ltrr_arm_termbits_shift(LTRR_ARM_TERMBITS_BITS), 0);
        assert_int_equal(ltrr_arm_termbits_shift(LTRR_ARM_TERMBITS_BITS + 1),
                         1);
        assert_int_equal(ltrr_arm_termbits_shift(UINT32_MAX), 12);
        int some = 0;
        for (uint32_t t = 0; t < tc; t++) {
                const uint64_t *b = ltrr_arm_termbits_get(tb, ix, t);
                const uint32_t *rk = ltrr_arm_termbits_rank(tb, b);
                const ltrr_index_term_t *r = &ix->terms[t];
                assert_non_null(b);
                assert_non_null(rk); /* one bit per entity */
                for (uint32_t e = 0; e < n; e++) {
                        int h = term_holds(ix, t, e);
                        assert_int_equal(ltrr_arm_termbits_may(b, 0, e), h);
                        some += h;
                }
                /* a member's rank is its posting's position */
                for (uint32_t i = 0; i < r->df; i++)
                        assert_int_equal(ltrr_arm_termbits_pos(
                                             b, rk,
                                             ix->posts[r->post_off + i].doc),
                                         i);
        }
        assert_true(some > 0);
        /* the last SLOTS terms are cached: same memory, no refill */
        uint32_t last = tc - 1;
        const uint64_t *b = ltrr_arm_termbits_get(tb, ix, last);
        assert_ptr_equal(ltrr_arm_termbits_get(tb, ix, last), b);
        memcpy(moved, tb, sizeof(*tb));
        const uint64_t *mb = ltrr_arm_termbits_get(moved, ix, last);
        assert_memory_equal(mb, b, LTRR_ARM_TERMBITS_BITS / 8);
        assert_int_equal(moved->tick, tb->tick + 1); /* a hit: no slot
                                                      * changed */
        int held = 0;
        for (unsigned i = 0; i < LTRR_ARM_TERMBITS_SLOTS; i++)
                held += tb->key[i].used && tb->key[i].term == 0;
        assert_int_equal(held, 0); /* term 0 went first */
        /* the least recently used goes: term tc - SLOTS, not the one
         * just used */
        ltrr_arm_termbits_get(tb, ix, tc - LTRR_ARM_TERMBITS_SLOTS + 1);
        ltrr_arm_termbits_get(tb, ix, 0);
        for (unsigned i = 0; i < LTRR_ARM_TERMBITS_SLOTS; i++)
                assert_true(tb->key[i].term != tc - LTRR_ARM_TERMBITS_SLOTS);
        /* another index: its own bitmap under the same term number */
        const uint64_t *pb = ltrr_arm_termbits_get(tb, fx->plain, 0);
        assert_non_null(pb);
        for (uint32_t e = 0; e < ltrr_index_count(fx->plain); e++)
                assert_int_equal(ltrr_arm_termbits_may(pb, 0, e),
                                 term_holds(fx->plain, 0, e));
        /* a clear bit under a group shift rules out the whole group */
        uint64_t g[1] = {0x2};
        assert_int_equal(ltrr_arm_termbits_may(g, 3, 7), 0);
        assert_int_equal(ltrr_arm_termbits_may(g, 3, 8), 1);
        assert_int_equal(ltrr_arm_termbits_may(g, 3, 15), 1);
        assert_int_equal(ltrr_arm_termbits_may(g, 3, 16), 0);
        assert_null(ltrr_arm_termbits_rank(tb, g)); /* not a cached map */
        assert_null(ltrr_arm_termbits_rank(NULL, pb));
        assert_null(ltrr_arm_termbits_get(NULL, ix, 0));
        assert_null(ltrr_arm_termbits_get(tb, NULL, 0));
        assert_null(ltrr_arm_termbits_get(tb, ix, tc));
        free(tb);
        free(moved);
}

/* Popularity bounds: per entity on a small index (every group one
 * entity), refilled for another index; bad arguments. */
static void test_pop_bounds(void **state)
{
        fx_t *fx = *state;
        ltrr_arm_popmax_t *pm = calloc(1, sizeof(*pm));
        assert_non_null(pm);
        const ltrr_index_t *ixs[2] = {fx->ix, fx->plain};
        for (int r = 0; r < 4; r++) {
                const ltrr_index_t *ix = ixs[r / 2];
                assert_ptr_equal(ltrr_arm_popmax_get(pm, ix), pm);
                assert_int_equal(pm->shift, 0);
                int known = 0;
                for (uint32_t e = 0; e < ltrr_index_count(ix); e++) {
                        ltrr_index_entity_t en;
                        assert_int_equal(ltrr_index_entity(ix, e, &en),
                                         LTRR_OK);
                        float p = en.popularity;
                        assert_true(pm->max[e] == p);
                        assert_true(ltrr_arm_popmax_at_most(pm, e, p));
                        assert_false(ltrr_arm_popmax_at_most(pm, e,
                                                             p - 0.5f));
                        known += p >= 0;
                }
                assert_true(known > 0);
        }
        /* a group's bound is its largest value; NaN is left out */
        assert_false(ltrr_arm_popmax_at_most(pm, 0, __builtin_nanf("")));
        assert_null(ltrr_arm_popmax_get(NULL, fx->ix));
        assert_null(ltrr_arm_popmax_get(pm, NULL));
        free(pm);
}

static void test_fresh(void **state)
{
        fx_t *fx = *state;
        assert_int_equal(run(fx, fx->ix, "fresh", "love", 10), LTRR_OK);
        assert_int_equal(fx->cnt, 1);
        assert_int_equal(fx->out[0].ent, ent("Love Again"));
        assert_true(fx->out[0].feat[3] == 12.0f); /* age in days */
        assert_int_equal(run(fx, fx->ix, "fresh", "jazz", 10), LTRR_OK);
        assert_int_equal(fx->cnt, 0);
        /* recency words ask for the arm, they are not matched: "new jazz"
         * is jazz (there is no fresh jazz), not the fresh "New Band" */
        assert_int_equal(run(fx, fx->ix, "fresh", "new jazz", 10), LTRR_OK);
        assert_int_equal(fx->cnt, 0);
        assert_int_equal(run(fx, fx->ix, "fresh", "latest love", 10),
                         LTRR_OK);
        assert_int_equal(fx->cnt, 1);
        assert_int_equal(fx->out[0].ent, ent("Love Again"));
        /* a query of recency words alone is matched as typed */
        assert_int_equal(run(fx, fx->ix, "fresh", "new", 10), LTRR_OK);
        assert_int_equal(fx->cnt, 1);
        assert_int_equal(fx->out[0].ent, ent("Love Again"));
        int32_t today = fx->ctx.today_days;
        fx->ctx.today_days = 0;
        assert_int_equal(run(fx, fx->ix, "fresh", "love", 10),
                         LTRR_ERR_STATE);
        assert_int_equal(fx->cnt, 0);
        fx->ctx.today_days = today;
}

static void test_personal(void **state)
{
        fx_t *fx = *state;
        ltrr_user_profile_t *p = ltrr_user_profile_new();
        assert_int_equal(run(fx, fx->ix, "personal", "love", 10),
                         LTRR_ERR_STATE);
        assert_int_equal(fx->cnt, 0);
        fx->ctx.profile = p;
        assert_int_equal(run(fx, fx->ix, "personal", "love", 10),
                         LTRR_ERR_STATE);
        /* listened to Miles Davis: his "Love for Sale" comes first */
        assert_int_equal(ltrr_user_profile_add(p, 0, ent("So What"), 3.0f),
                         LTRR_OK);
        assert_int_equal(ltrr_user_profile_derive(p, fx->ix), LTRR_OK);
        assert_int_equal(p->artists_cnt, 1);
        assert_int_equal(run(fx, fx->ix, "personal", "love", 10), LTRR_OK);
        assert_int_equal(fx->cnt, 1);
        assert_int_equal(fx->out[0].ent, ent("Love for Sale"));
        assert_true(fx->out[0].feat[1] == 1.0f);
        /* the profile's own entity, matched by the query */
        assert_int_equal(run(fx, fx->ix, "personal", "what", 10), LTRR_OK);
        assert_int_equal(fx->out[0].ent, ent("So What"));
        assert_true(fx->out[0].feat[0] == 1.0f);
        assert_int_equal(ltrr_user_profile_add(p, 7, 1, 1.0f),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_user_profile_add(p, 0, 1, 0.0f),
                         LTRR_ERR_INVALID_ARG);
        fx->ctx.profile = NULL;
        ltrr_user_profile_destroy(p);
        ltrr_user_profile_destroy(NULL);
}

static void test_memory(void **state)
{
        fx_t *fx = *state;
        ltrr_q2e_state_t *st = ltrr_q2e_state_new();
        /* cold start: predicted Q2E only */
        assert_int_equal(run(fx, fx->ix, "memory", "Love Story", 10),
                         LTRR_OK);
        assert_true(fx->cnt >= 1);
        assert_int_equal(fx->out[0].ent, ent("Love Story"));
        assert_true(fx->out[0].feat[0] == 0.0f && fx->out[0].feat[1] > 0);
        assert_int_equal(run(fx, fx->ix, "memory", "taylor swift love story",
                             10), LTRR_OK);
        assert_int_equal(fx->out[0].ent, ent("Love Story"));
        /* nothing known */
        assert_int_equal(run(fx, fx->ix, "memory", "zzz qqq", 10),
                         LTRR_ERR_STATE);
        assert_int_equal(fx->cnt, 0);
        assert_int_equal(run(fx, fx->plain, "memory", "love story", 10),
                         LTRR_ERR_STATE);
        /* observed engagement outweighs the prediction */
        ltrr_q2e_state_reset(st, 10, 5);
        assert_int_equal(ltrr_q2e_state_add(st, ent("Love Me Tender"), 6),
                         LTRR_OK);
        assert_int_equal(ltrr_q2e_state_add(st, ent("Love Me Tender"), 4),
                         LTRR_OK);
        fx->ctx.q2e = st;
        assert_int_equal(run(fx, fx->ix, "memory", "love", 10), LTRR_OK);
        assert_int_equal(fx->out[0].ent, ent("Love Me Tender"));
        /* "love" is also a predicted prefix of "Love Me Tender" */
        assert_true(fx->out[0].feat[1] > 0);
        assert_float_equal(fx->out[0].score,
                           (10.0 + 5.0 * fx->out[0].feat[1]) / 15.0, 1e-5);
        assert_int_equal(run(fx, fx->plain, "memory", "zzz", 10), LTRR_OK);
        assert_int_equal(fx->cnt, 1);
        fx->ctx.q2e = NULL;
        ltrr_q2e_state_destroy(st);
        ltrr_q2e_state_destroy(NULL);
}

static void test_k_bounds_and_determinism(void **state)
{
        fx_t *fx = *state;
        const char *arms[] = {"popular", "fresh", "structured", "memory"};
        const char *qs[] = {"love", "love", "jazz", "love"};
        ltrr_arm_cand_t first[128];
        for (size_t a = 0; a < 4; a++) {
                assert_int_equal(run(fx, fx->ix, arms[a], qs[a], 1), LTRR_OK);
                assert_true(fx->cnt <= 1);
                assert_int_equal(run(fx, fx->ix, arms[a], qs[a], 0), LTRR_OK);
                assert_int_equal(fx->cnt, 0);
                assert_int_equal(run(fx, fx->ix, arms[a], qs[a],
                                     LTRR_ARM_K_MAX + 1), LTRR_ERR_RANGE);
                assert_int_equal(run(fx, fx->ix, arms[a], qs[a], 100),
                                 LTRR_OK);
                size_t n = fx->cnt;
                assert_true(n > 0);
                memcpy(first, fx->out, n * sizeof(first[0]));
                assert_int_equal(run(fx, fx->ix, arms[a], qs[a], 100),
                                 LTRR_OK);
                assert_int_equal(fx->cnt, n);
                assert_memory_equal(first, fx->out, n * sizeof(first[0]));
        }
}

static void test_state_bounds(void **state)
{
        (void)state;
        ltrr_q2e_state_t *st = ltrr_q2e_state_new();
        ltrr_pop_overrides_t *po = ltrr_pop_overrides_new();
        ltrr_user_profile_t *p = ltrr_user_profile_new();
        for (uint32_t i = 0; i < LTRR_ARM_Q2E_MAX; i++)
                assert_int_equal(ltrr_q2e_state_add(st, i, 1), LTRR_OK);
        assert_int_equal(ltrr_q2e_state_add(st, 99999, 1), LTRR_ERR_NOSPACE);
        assert_int_equal(ltrr_q2e_state_add(st, 0, 1.0 / 0.0),
                         LTRR_ERR_INVALID_ARG);
        for (uint32_t i = 0; i < LTRR_ARM_POP_MAX; i++)
                assert_int_equal(ltrr_pop_overrides_add(po, i % 7, (float)i),
                                 LTRR_OK);
        assert_int_equal(ltrr_pop_overrides_add(po, 1, 1), LTRR_ERR_NOSPACE);
        ltrr_pop_overrides_seal(po);
        assert_int_equal(po->cnt, 7);
        /* the last value added for entity 3 wins */
        uint32_t last = LTRR_ARM_POP_MAX - 1;
        while (last % 7 != 3)
                last--;
        assert_true(po->items[3].ent == 3 && po->items[3].pop == (float)last);
        for (uint32_t i = 0; i < LTRR_ARM_PROFILE_GENRES_MAX; i++)
                assert_int_equal(ltrr_user_profile_add(p, 2, i, 1), LTRR_OK);
        assert_int_equal(ltrr_user_profile_add(p, 2, 999, 1),
                         LTRR_ERR_NOSPACE);
        assert_true(ltrr_user_profile_weight(p, 2, 5) == 1.0f);
        ltrr_q2e_state_destroy(st);
        ltrr_pop_overrides_destroy(po);
        ltrr_user_profile_destroy(p);
        ltrr_arm_sections_destroy(NULL);
        char errstr[64];
        assert_null(ltrr_arm_sections_new(NULL, "en", errstr,
                                          sizeof(errstr)));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_registry),
            cmocka_unit_test(test_popular),
            cmocka_unit_test(test_popular_prefix),
            cmocka_unit_test(test_structured),
            cmocka_unit_test(test_structured_dates),
            cmocka_unit_test(test_structured_year_edges),
            cmocka_unit_test(test_filter_bits),
            cmocka_unit_test(test_term_bits),
            cmocka_unit_test(test_pop_bounds),
            cmocka_unit_test(test_fresh),
            cmocka_unit_test(test_personal),
            cmocka_unit_test(test_memory),
            cmocka_unit_test(test_k_bounds_and_determinism),
            cmocka_unit_test(test_state_bounds),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
