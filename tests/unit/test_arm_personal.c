/*
 * Unit tests of the artist and genre sections (online/arm_artents.h)
 * and of the personal arm's request bitmap: the sections' lists against
 * the catalog, the builder on hand-made records and bad input, and the
 * personal arm's answers with the sections the same as without them
 * (the per-candidate filter) and with the artist section alone (genre
 * bitmaps filled from the entity records), entity by entity and score
 * by score.
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
#include "arm_artents.h"
#include "arm_state.h"
#include "catalog.h"
#include "index.h"
#include "text.h"

/* Entities of the test catalog. */
#define NENT 3000
/* Artists and genres to draw from. */
#define NART 60
#define NGEN 8

static const char *const words[] = {"love", "night", "fire", "the",
                                    "summer", "song", "blue", "heart",
                                    "rain", "dance", "star", "road"};
#define NWORDS (sizeof(words) / sizeof(words[0]))

/* The catalog as generated: names, artists and genres per entity. */
typedef struct gen_s {
        char name[NENT][48];
        char artist_pool[NART][16];
        char genre_pool[NGEN][16];
        int art[NENT][3]; /* artist numbers, -1 after the last */
        int nart[NENT];
        int gen[NENT][2];
        int ngen[NENT];
} gen_t;

/* Per-test state. */
typedef struct fx_s {
        gen_t g;
        ltrr_index_t *with;    /* index with both sections */
        ltrr_index_t *without; /* same catalog, sections that do not
                                * match (ignored by the reader) */
        ltrr_index_t *artonly; /* the artist section, a bad genre one */
        ltrr_index_t *noattr;  /* no section the reader takes: no entity
                                * attributes either */
        ltrr_analyzer_t *an;
        ltrr_arm_scratch_t *scr;
        ltrr_token_t toks[64];
        char arena[LTRR_TEXT_ARENA_SIZE];
        ltrr_arm_query_t q;
        ltrr_arm_ctx_t ctx;
} fx_t;

static char path[256];

/* Deterministic draws. */
static uint32_t draw(uint64_t *s, uint32_t below)
{
        *s = *s * 6364136223846793005ull + 1442695040888963407ull;
        return (uint32_t)(*s >> 33) % below;
}

/* Fills @p g: names of 1..4 words, 0..3 distinct artists (some
 * entities none), 0..2 genres. */
static void generate(gen_t *g)
{
        uint64_t s = 7;
        for (int a = 0; a < NART; a++)
                snprintf(g->artist_pool[a], sizeof(g->artist_pool[a]),
                         "Artist %d", a);
        for (int i = 0; i < NGEN; i++)
                snprintf(g->genre_pool[i], sizeof(g->genre_pool[i]),
                         "genre%d", i);
        for (int e = 0; e < NENT; e++) {
                int nw = 1 + (int)draw(&s, 4);
                g->name[e][0] = 0;
                for (int w = 0; w < nw; w++) {
                        strcat(g->name[e], w ? " " : "");
                        strcat(g->name[e], words[draw(&s, NWORDS)]);
                }
                /* a few artists credited often (featured guests) */
                g->nart[e] = (int)draw(&s, 4);
                for (int a = 0; a < g->nart[e]; a++) {
                        int x;
                        do
                                x = draw(&s, 3) == 0 ? (int)draw(&s, 4)
                                                     : (int)draw(&s, NART);
                        while ((a > 0 && x == g->art[e][0]) ||
                               (a > 1 && x == g->art[e][1]));
                        g->art[e][a] = x;
                }
                g->ngen[e] = (int)draw(&s, 3);
                for (int i = 0; i < g->ngen[e]; i++)
                        g->gen[e][i] = (int)draw(&s, NGEN);
                if (g->ngen[e] == 2 && g->gen[e][1] == g->gen[e][0])
                        g->ngen[e] = 1;
        }
}

/* The catalog of @p g. */
static ltrr_catalog_t *make_catalog(const gen_t *g)
{
        char errstr[256], id[16];
        ltrr_catalog_t *cat = ltrr_catalog_new(0, errstr, sizeof(errstr));
        assert_non_null(cat);
        for (int e = 0; e < NENT; e++) {
                const char *arts[3], *gens[2];
                ltrr_entity_in_t in;
                ltrr_entity_in_init(&in);
                snprintf(id, sizeof(id), "e%d", e);
                for (int a = 0; a < g->nart[e]; a++)
                        arts[a] = g->artist_pool[g->art[e][a]];
                for (int i = 0; i < g->ngen[e]; i++)
                        gens[i] = g->genre_pool[g->gen[e][i]];
                in.id = id;
                in.name = g->name[e];
                in.artists = arts;
                in.artists_cnt = (size_t)g->nart[e];
                in.genres = gens;
                in.genres_cnt = (size_t)g->ngen[e];
                in.popularity = (float)(e % 97);
                assert_int_equal(ltrr_catalog_add(cat, &in, errstr,
                                                  sizeof(errstr)),
                                 LTRR_OK);
        }
        return cat;
}

/* Builds and opens an index of @p cat with the arms' sections; for
 * each bit of @p spoil (1 artists, 2 genres, 4 entity attributes) a
 * section for another entity count is handed in, so the build writes
 * that one and the reader ignores it. */
static ltrr_index_t *build(const ltrr_catalog_t *cat, int spoil)
{
        char errstr[256];
        ltrr_index_extra_t extra[LTRR_INDEX_EXTRA_MAX];
        ltrr_index_build_conf_t bc = {.lang = "en"};
        ltrr_arm_artents_hdr_t bad = {NENT + 1, 0, 0};
        static const uint64_t bad_attr = NENT + 1;
        ltrr_arm_sections_t *as =
            ltrr_arm_sections_new(cat, "en", errstr, sizeof(errstr));
        assert_non_null(as);
        bc.extra_cnt = ltrr_arm_sections_extra_all(as, extra,
                                                   LTRR_INDEX_EXTRA_MAX);
        assert_int_equal(bc.extra_cnt, 6);
        for (int k = 0; k < 2; k++) {
                if (!(spoil & (1 << k)))
                        continue;
                extra[bc.extra_cnt].kind = k ? LTRR_ARM_SEC_GENENTS
                                             : LTRR_ARM_SEC_ARTENTS;
                extra[bc.extra_cnt].data = &bad;
                extra[bc.extra_cnt++].len = sizeof(bad);
        }
        for (size_t i = 0; (spoil & 4) && i < bc.extra_cnt; i++)
                if (extra[i].kind == LTRR_ARM_SEC_ENTATTR) {
                        extra[i].data = &bad_attr;
                        extra[i].len = sizeof(bad_attr);
                }
        bc.extra = extra;
        ltrr_index_t *ix = armtest_index(cat, &bc, path);
        ltrr_arm_sections_destroy(as);
        return ix;
}

static int setup(void **state)
{
        char errstr[256];
        fx_t *fx = calloc(1, sizeof(*fx));
        assert_non_null(fx);
        armtest_path(path, sizeof(path), "test_arm_personal");
        generate(&fx->g);
        ltrr_catalog_t *cat = make_catalog(&fx->g);
        fx->with = build(cat, 0);
        fx->without = build(cat, 3);
        fx->artonly = build(cat, 2);
        fx->noattr = build(cat, 7);
        ltrr_catalog_destroy(cat);
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
        ltrr_index_destroy(fx->with);
        ltrr_index_destroy(fx->without);
        ltrr_index_destroy(fx->artonly);
        ltrr_index_destroy(fx->noattr);
        ltrr_analyzer_destroy(fx->an);
        ltrr_arm_scratch_destroy(fx->scr);
        free(fx);
        return 0;
}

/* Hash of artist number @p a of @p g. */
static uint32_t art_hash(const gen_t *g, int a)
{
        return ltrr_arm_artist_hash(g->artist_pool[a],
                                    strlen(g->artist_pool[a]));
}

/* 1 if entity @p e credits artist @p a among its first two. */
static int credits(const gen_t *g, int e, int a)
{
        for (int i = 0; i < g->nart[e] && i < LTRR_ARM_ENTATTR_SLOTS; i++)
                if (g->art[e][i] == a)
                        return 1;
        return 0;
}

/* 1 if entity @p e carries genre @p x among its first two. */
static int has_genre(const gen_t *g, int e, int x)
{
        for (int i = 0; i < g->ngen[e] && i < LTRR_ARM_ENTATTR_SLOTS; i++)
                if (g->gen[e][i] == x)
                        return 1;
        return 0;
}

/* The list of @p key in section @p kind of @p ix is exactly, in order,
 * the entities @p is() says carry value @p x. Returns its length. */
static uint32_t check_list(const fx_t *fx, uint32_t kind, uint32_t key,
                           int (*is)(const gen_t *, int, int), int x)
{
        uint32_t cnt = 0, j = 0;
        const uint32_t *l = ltrr_arm_artents_find(fx->with, kind, key, &cnt);
        for (int e = 0; e < NENT; e++) {
                if (!is(&fx->g, e, x))
                        continue;
                assert_true(j < cnt);
                assert_int_equal(l[j++], e);
        }
        assert_int_equal(j, cnt);
        assert_null(ltrr_arm_artents_find(fx->without, kind, key, &cnt));
        assert_int_equal(cnt, 0);
        return j;
}

/* Every artist's (genre's) list is exactly, in order, the entities
 * crediting it among their first two artists (genres); the third
 * artist is not counted. */
static void test_lists_match_catalog(void **state)
{
        fx_t *fx = *state;
        const gen_t *g = &fx->g;
        uint64_t total = 0, want_total = 0, gtotal = 0, want_gtotal = 0;
        assert_true(ltrr_arm_artents_has(fx->with, LTRR_ARM_SEC_ARTENTS));
        assert_true(ltrr_arm_artents_has(fx->with, LTRR_ARM_SEC_GENENTS));
        assert_false(ltrr_arm_artents_has(fx->without,
                                          LTRR_ARM_SEC_ARTENTS));
        assert_false(ltrr_arm_artents_has(fx->without,
                                          LTRR_ARM_SEC_GENENTS));
        assert_true(ltrr_arm_artents_has(fx->artonly, LTRR_ARM_SEC_ARTENTS));
        assert_false(ltrr_arm_artents_has(fx->artonly,
                                          LTRR_ARM_SEC_GENENTS));
        assert_false(ltrr_arm_artents_has(fx->with, LTRR_ARM_SEC_ENTATTR));
        for (int a = 0; a < NART; a++)
                total += check_list(fx, LTRR_ARM_SEC_ARTENTS, art_hash(g, a),
                                    credits, a);
        /* the catalog numbers genres in order of first use */
        int sym[NGEN], nsym = 0;
        for (int e = 0; e < NENT; e++)
                for (int i = 0; i < g->ngen[e]; i++) {
                        int seen = 0;
                        for (int j = 0; j < nsym; j++)
                                seen |= sym[j] == g->gen[e][i];
                        if (!seen)
                                sym[nsym++] = g->gen[e][i];
                }
        for (int j = 0; j < nsym; j++)
                gtotal += check_list(fx, LTRR_ARM_SEC_GENENTS,
                                     (uint32_t)j + 1, has_genre, sym[j]);
        for (int e = 0; e < NENT; e++) {
                want_total += (uint64_t)(g->nart[e] < 2 ? g->nart[e] : 2);
                want_gtotal += (uint64_t)g->ngen[e];
        }
        assert_int_equal(total, want_total);
        assert_int_equal(gtotal, want_gtotal);
        uint32_t cnt = 5;
        assert_null(ltrr_arm_artents_find(fx->with, LTRR_ARM_SEC_ARTENTS,
                                          ltrr_arm_artist_hash("nobody", 6),
                                          &cnt));
        assert_int_equal(cnt, 0);
        assert_null(ltrr_arm_artents_find(fx->with, LTRR_ARM_SEC_GENENTS,
                                          NGEN + 1, &cnt));
        assert_null(ltrr_arm_artents_find(fx->with, LTRR_ARM_SEC_ENTATTR,
                                          1, &cnt));
        assert_null(ltrr_arm_artents_find(NULL, LTRR_ARM_SEC_ARTENTS, 1,
                                          &cnt));
        assert_null(ltrr_arm_artents_find(fx->with, LTRR_ARM_SEC_ARTENTS,
                                          art_hash(g, 0), NULL));
        assert_false(ltrr_arm_artents_has(NULL, LTRR_ARM_SEC_ARTENTS));
}

/* The builder on hand-made records: an artist twice in one record
 * counts once, none (0) is left out, lists ascending; bad input. */
static void test_build_records(void **state)
{
        (void)state;
        struct {
                uint64_t cnt;
                ltrr_arm_entattr_t r[4];
        } ea = {4,
                {{{7, 7}, {0, 0}},
                 {{9, 0}, {1, 0}},
                 {{0, 0}, {0, 0}},
                 {{9, 7}, {2, 3}}}};
        void *out = NULL;
        size_t len = 0;
        assert_int_equal(ltrr_arm_artents_build(&ea, sizeof(ea),
                                                LTRR_ARM_SEC_ARTENTS, &out,
                                                &len),
                         LTRR_OK);
        assert_non_null(out);
        ltrr_arm_artents_hdr_t h;
        memcpy(&h, out, sizeof(h));
        assert_int_equal(h.entity_cnt, 4);
        assert_int_equal(h.artist_cnt, 2);
        assert_int_equal(h.entry_cnt, 4);
        assert_int_equal(len, sizeof(h) + 2 * sizeof(ltrr_arm_artents_rec_t) +
                                  4 * sizeof(uint32_t));
        const ltrr_arm_artents_rec_t *rec =
            (const void *)((const uint8_t *)out + sizeof(h));
        const uint32_t *ent = (const uint32_t *)(rec + 2);
        assert_int_equal(rec[0].hash, 7);
        assert_int_equal(rec[0].cnt, 2);
        assert_int_equal(ent[rec[0].first], 0);
        assert_int_equal(ent[rec[0].first + 1], 3);
        assert_int_equal(rec[1].hash, 9);
        assert_int_equal(rec[1].cnt, 2);
        assert_int_equal(ent[rec[1].first], 1);
        assert_int_equal(ent[rec[1].first + 1], 3);
        free(out);
        /* genres: 1 -> {1}, 2 -> {3}, 3 -> {3} */
        assert_int_equal(ltrr_arm_artents_build(&ea, sizeof(ea),
                                                LTRR_ARM_SEC_GENENTS, &out,
                                                &len),
                         LTRR_OK);
        assert_non_null(out);
        memcpy(&h, out, sizeof(h));
        assert_int_equal(h.artist_cnt, 3);
        assert_int_equal(h.entry_cnt, 3);
        rec = (const void *)((const uint8_t *)out + sizeof(h));
        ent = (const uint32_t *)(rec + 3);
        assert_int_equal(rec[0].hash, 1);
        assert_int_equal(ent[rec[0].first], 1);
        assert_int_equal(rec[2].hash, 3);
        assert_int_equal(rec[2].cnt, 1);
        assert_int_equal(ent[rec[2].first], 3);
        free(out);
}

/* Bad input: no section for bytes that are not an entity attribute
 * section, errors for another kind or NULL outputs; no entity gives a
 * header only. */
static void test_build_bad_input(void **state)
{
        (void)state;
        struct {
                uint64_t cnt;
                ltrr_arm_entattr_t r[1];
        } ea = {1, {{{5, 0}, {2, 0}}}};
        void *out = NULL;
        size_t len = 0;
        ltrr_arm_artents_hdr_t h;
        /* not an entity attribute section: no section */
        assert_int_equal(ltrr_arm_artents_build(&ea, sizeof(ea) - 1,
                                                LTRR_ARM_SEC_ARTENTS, &out,
                                                &len),
                         LTRR_OK);
        assert_null(out);
        assert_int_equal(len, 0);
        assert_int_equal(ltrr_arm_artents_build(NULL, 0, LTRR_ARM_SEC_ARTENTS,
                                                &out, &len),
                         LTRR_OK);
        assert_null(out);
        assert_int_equal(ltrr_arm_artents_build(&ea, sizeof(ea),
                                                LTRR_ARM_SEC_ARTENTS, NULL,
                                                &len),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_arm_artents_build(&ea, sizeof(ea),
                                                LTRR_ARM_SEC_ARTENTS, &out,
                                                NULL),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_arm_artents_build(&ea, sizeof(ea),
                                                LTRR_ARM_SEC_ENTATTR, &out,
                                                &len),
                         LTRR_ERR_INVALID_ARG);
        /* no entity: a header only */
        uint64_t zero = 0;
        assert_int_equal(ltrr_arm_artents_build(&zero, 8,
                                                LTRR_ARM_SEC_GENENTS, &out,
                                                &len),
                         LTRR_OK);
        assert_non_null(out);
        assert_int_equal(len, sizeof(h));
        free(out);
}

/* The derivation from build options (what ltrr_index_build() writes)
 * and its clear. */
static void test_derive(void **state)
{
        (void)state;
        struct {
                uint64_t cnt;
                ltrr_arm_entattr_t r[1];
        } ea = {1, {{{5, 0}, {2, 0}}}};
        ltrr_index_extra_t ex[2] = {{LTRR_ARM_SEC_ENTATTR, &ea, sizeof(ea)},
                                    {LTRR_ARM_SEC_ARTENTS, "x", 1}};
        ltrr_index_build_conf_t bc = {.extra = ex, .extra_cnt = 1};
        ltrr_arm_artents_set_t set;
        assert_int_equal(ltrr_arm_artents_derive(&bc, &set), LTRR_OK);
        assert_non_null(set.p[0]);
        assert_non_null(set.p[1]);
        assert_int_equal(set.kind[0], LTRR_ARM_SEC_ARTENTS);
        assert_int_equal(set.kind[1], LTRR_ARM_SEC_GENENTS);
        assert_int_equal(set.len[0], sizeof(ltrr_arm_artents_hdr_t) +
                                         sizeof(ltrr_arm_artents_rec_t) +
                                         sizeof(uint32_t));
        ltrr_arm_artents_clear(&set);
        assert_null(set.p[0]);
        assert_null(set.p[1]);
        /* a section of its own is kept: only the genre one derived */
        bc.extra_cnt = 2;
        assert_int_equal(ltrr_arm_artents_derive(&bc, &set), LTRR_OK);
        assert_null(set.p[0]);
        assert_non_null(set.p[1]);
        ltrr_arm_artents_clear(&set);
        assert_int_equal(ltrr_arm_artents_derive(NULL, &set), LTRR_OK);
        assert_null(set.p[0]);
        assert_null(set.p[1]);
        bc.extra = &ex[1];
        bc.extra_cnt = 1;
        assert_int_equal(ltrr_arm_artents_derive(&bc, &set), LTRR_OK);
        assert_null(set.p[0]);
        assert_null(set.p[1]);
        assert_int_equal(ltrr_arm_artents_derive(&bc, NULL),
                         LTRR_ERR_INVALID_ARG);
        ltrr_arm_artents_clear(NULL);
}

/* Runs the personal arm for @p text at @p k on @p ix into @p out. */
static ltrr_err_t run(fx_t *fx, const ltrr_index_t *ix, const char *text,
                      size_t k, ltrr_arm_cand_t *out, size_t *cnt)
{
        char errstr[256], norm[256];
        ltrr_tokbuf_t tb;
        ltrr_tokbuf_init(&tb, fx->toks, 64, fx->arena, sizeof(fx->arena));
        assert_int_equal(ltrr_analyzer_analyze(fx->an, text, strlen(text),
                                               &tb, NULL, 0),
                         LTRR_OK);
        assert_int_equal(ltrr_analyzer_normalize(fx->an, text, strlen(text),
                                                 norm, sizeof(norm), NULL,
                                                 NULL, 0),
                         LTRR_OK);
        fx->q = (ltrr_arm_query_t){fx->toks, tb.cnt, norm};
        int id = ltrr_arm_find("personal");
        assert_true(id >= 0);
        return ltrr_arm_run((unsigned)id, ix, &fx->q, &fx->ctx, fx->scr, k,
                            out, cnt, errstr, sizeof(errstr));
}

/* The personal arm's answers for profile @p p: on the index with both
 * sections the same, byte for byte, as without them and as with the
 * artist section alone. Returns the candidates seen. */
static size_t same_answers(fx_t *fx, ltrr_user_profile_t *p)
{
        static const char *const queries[] = {
            "love", "the", "love night", "the fire", "summer love song",
            "blue heart rain", "l", "lo", "da", "zzz", "star road dance"};
        static const size_t ks[] = {1, 3, 10, 37, 100};
        ltrr_arm_cand_t a[100], b[100];
        size_t seen = 0;
        fx->ctx.profile = p;
        for (size_t qi = 0; qi < sizeof(queries) / sizeof(queries[0]); qi++)
                for (size_t ki = 0; ki < sizeof(ks) / sizeof(ks[0]); ki++) {
                        size_t na = 0, nb = 0;
                        assert_int_equal(run(fx, fx->with, queries[qi],
                                             ks[ki], a, &na),
                                         LTRR_OK);
                        assert_int_equal(run(fx, fx->without, queries[qi],
                                             ks[ki], b, &nb),
                                         LTRR_OK);
                        assert_int_equal(na, nb);
                        assert_memory_equal(a, b, na * sizeof(a[0]));
                        assert_int_equal(run(fx, fx->artonly, queries[qi],
                                             ks[ki], b, &nb),
                                         LTRR_OK);
                        assert_int_equal(na, nb);
                        assert_memory_equal(a, b, na * sizeof(a[0]));
                        seen += na;
                }
        fx->ctx.profile = NULL;
        return seen;
}

/* Fills @p p with 20 entities of rising weight spread over the catalog,
 * artists and genres derived on the index with both sections. */
static void profile_of_entities(const fx_t *fx, ltrr_user_profile_t *p)
{
        for (uint32_t i = 0; i < 20; i++)
                assert_int_equal(ltrr_user_profile_add(p, 0,
                                                       (i * 149u) % NENT,
                                                       1.0f + (float)i),
                                 LTRR_OK);
        assert_int_equal(ltrr_user_profile_derive(p, fx->with), LTRR_OK);
}

/* Profiles of entities (artists and genres derived), of artists only
 * (one unknown, a guest credited often), of genres only, and with an
 * entity past the index: the same answers with and without the
 * section. */
static void test_same_answers(void **state)
{
        fx_t *fx = *state;
        ltrr_user_profile_t *p = ltrr_user_profile_new();
        assert_non_null(p);
        profile_of_entities(fx, p);
        assert_true(p->artists_cnt > 3);
        assert_true(p->genres_cnt > 1);
        assert_true(same_answers(fx, p) > 500);

        ltrr_user_profile_reset(p);
        assert_int_equal(ltrr_user_profile_add(p, 1, art_hash(&fx->g, 1),
                                               2.0f),
                         LTRR_OK);
        assert_int_equal(ltrr_user_profile_add(p, 1, art_hash(&fx->g, 33),
                                               1.0f),
                         LTRR_OK);
        assert_int_equal(ltrr_user_profile_add(
                             p, 1, ltrr_arm_artist_hash("nobody", 6), 5.0f),
                         LTRR_OK);
        assert_true(same_answers(fx, p) > 100);

        ltrr_user_profile_reset(p);
        assert_int_equal(ltrr_user_profile_add(p, 2, 3, 1.0f), LTRR_OK);
        assert_int_equal(ltrr_user_profile_add(p, 0, NENT + 5, 1.0f),
                         LTRR_OK);
        assert_int_equal(ltrr_user_profile_add(p, 0, 17, 0.5f), LTRR_OK);
        assert_true(same_answers(fx, p) > 100);
        ltrr_user_profile_destroy(p);
}

/* Largest artist weight of @p p, divided by @p max, among the first
 * @p n artists of entity @p e, by the profile's linear lookup. */
static float artist_expect(const fx_t *fx, const ltrr_user_profile_t *p,
                           int e, int n, float max)
{
        float best = 0.0f;
        for (int i = 0; i < n && i < fx->g.nart[e]; i++) {
                float w = ltrr_user_profile_weight(
                              p, 1, art_hash(&fx->g, fx->g.art[e][i])) /
                          max;
                if (w > best)
                        best = w;
        }
        return best;
}

/* Largest weight in table @p what (1 artists, 2 genres) of @p p. */
static float table_max(const ltrr_user_profile_t *p, int what)
{
        const ltrr_profile_item_t *t = what == 1 ? p->artists : p->genres;
        uint32_t n = what == 1 ? p->artists_cnt : p->genres_cnt;
        float m = 0.0f;
        for (uint32_t i = 0; i < n; i++)
                if (t[i].weight > m)
                        m = t[i].weight;
        return m;
}

/* The ranker's affinities (ltrr_profile_view_affinity()): for every
 * entity, the largest scaled weight of its first two artists and of its
 * genres, as the profile's own lookup gives them; without the sections,
 * every artist of the record and no genre; an empty view gives 0. */
static void test_profile_view(void **state)
{
        fx_t *fx = *state;
        ltrr_user_profile_t *p = ltrr_user_profile_new();
        ltrr_profile_view_t v;
        size_t with_a = 0, with_g = 0, top = 0;
        float a, g;
        assert_non_null(p);
        profile_of_entities(fx, p);
        float amax = table_max(p, 1), gmax = table_max(p, 2);
        assert_true(amax > 0 && gmax > 0);
        ltrr_profile_view_build(&v, p);
        const ltrr_arm_entattr_t *ea = ltrr_arm_entattr(fx->with);
        assert_non_null(ea);
        assert_null(ltrr_arm_entattr(fx->noattr));
        for (int e = 0; e < NENT; e++) {
                float ge = 0.0f;
                for (int i = 0; i < LTRR_ARM_ENTATTR_SLOTS; i++)
                        if (ea[e].genre[i]) {
                                float w = ltrr_user_profile_weight(
                                              p, 2, ea[e].genre[i] - 1) /
                                          gmax;
                                if (w > ge)
                                        ge = w;
                        }
                ltrr_profile_view_affinity(&v, fx->with, (uint32_t)e, &a, &g);
                assert_float_equal(a, artist_expect(fx, p, e, 2, amax), 1e-6);
                assert_float_equal(g, ge, 1e-6);
                with_a += a > 0;
                with_g += g > 0;
                top += a == 1.0f;
                ltrr_profile_view_affinity(&v, fx->noattr, (uint32_t)e, &a,
                                           &g);
                assert_float_equal(a, artist_expect(fx, p, e, 3, amax), 1e-6);
                assert_true(g == 0.0f);
        }
        assert_true(with_a > 100 && with_a < NENT);
        assert_true(with_g > 100);
        assert_true(top > 0);
        ltrr_profile_view_build(&v, NULL);
        ltrr_profile_view_affinity(&v, fx->with, 0, &a, &g);
        assert_true(a == 0.0f && g == 0.0f);
        ltrr_user_profile_destroy(p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_lists_match_catalog),
            cmocka_unit_test(test_build_records),
            cmocka_unit_test(test_build_bad_input),
            cmocka_unit_test(test_derive),
            cmocka_unit_test(test_same_answers),
            cmocka_unit_test(test_profile_view),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
