/* Unit tests: simulated users, intents, click model and evaluation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "synth.h"
#include "text.h"

#define CAT_N 4000
#define USERS 300

struct fx {
        ltrr_catalog_t *cat;
        ltrr_sim_t *sim;
};

static int setup(void **state)
{
        ltrr_synth_conf_t sc = {CAT_N, 5, 0, 0};
        ltrr_sim_conf_t pc = {USERS, 42, 0};
        struct fx *f = calloc(1, sizeof(*f));
        char errstr[256];

        sc.ref_days = ltrr_date_from_ymd(2026, 1, 1);
        pc.ref_days = sc.ref_days;
        if (!f || !(f->cat = ltrr_catalog_new(0, errstr, sizeof(errstr))) ||
            ltrr_synth_generate(&sc, ltrr_synth_to_catalog, f->cat, errstr,
                                sizeof(errstr)) ||
            !(f->sim = ltrr_sim_new(f->cat, &pc, errstr, sizeof(errstr))))
                return -1;
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;

        ltrr_sim_destroy(f->sim);
        ltrr_catalog_destroy(f->cat);
        free(f);
        return 0;
}

static void lower(const char *s, char *out, size_t size)
{
        size_t i;

        for (i = 0; s[i] && i + 1 < size; i++)
                out[i] = (char)tolower((unsigned char)s[i]);
        out[i] = '\0';
}

static unsigned distance(const char *a, const char *b)
{
        unsigned d = 99;

        assert_int_equal(ltrr_text_distance(a, strlen(a), b, strlen(b), 5, &d),
                         LTRR_OK);
        return d;
}

/* ---- lifecycle and failure paths ----------------------------------------- */

static void test_destroy_null_and_bad_args(void **state)
{
        ltrr_sim_conf_t pc = {10, 1, 0};
        char errstr[128] = "";
        ltrr_catalog_t *empty = ltrr_catalog_new(0, NULL, 0);
        struct fx *f = *state;

        ltrr_sim_destroy(NULL);
        ltrr_sim_eval_destroy(NULL);
        assert_null(ltrr_sim_new(NULL, &pc, errstr, sizeof(errstr)));
        assert_non_null(strstr(errstr, "non-empty catalog"));
        assert_null(ltrr_sim_new(empty, &pc, errstr, sizeof(errstr)));
        pc.users = 0;
        assert_null(ltrr_sim_new(f->cat, &pc, errstr, sizeof(errstr)));
        pc.users = 100001;
        assert_null(ltrr_sim_new(f->cat, &pc, NULL, 0));
        errstr[0] = '\0';
        assert_null(ltrr_sim_eval_new(0, errstr, sizeof(errstr)));
        assert_non_null(strstr(errstr, "bucket width"));
        assert_null(ltrr_sim_user(f->sim, USERS));
        ltrr_catalog_destroy(empty);
}

static void test_names(void **state)
{
        char buf[64];

        assert_string_equal(ltrr_sim_arm_name(LTRR_SIM_ARM_FUZZY), "fuzzy");
        assert_null(ltrr_sim_arm_name(LTRR_SIM_ARM__CNT));
        assert_int_equal(ltrr_sim_arm_parse("fresh"), LTRR_SIM_ARM_FRESH);
        assert_int_equal(ltrr_sim_arm_parse("nope"), -1);
        assert_int_equal(ltrr_sim_arm_parse(NULL), -1);
        ltrr_sim_arms_format((1u << LTRR_SIM_ARM_LEXICAL) |
                                 (1u << LTRR_SIM_ARM_PERSONAL),
                             buf, sizeof(buf));
        assert_string_equal(buf, "lexical,personal");
        ltrr_sim_arms_format(0xff, buf, 12); /* truncated at an arm */
        assert_string_equal(buf, "lexical");
        assert_string_equal(ltrr_sim_kind_name(LTRR_SIM_AMBIGUOUS),
                            "ambiguous");
        assert_null(ltrr_sim_kind_name(LTRR_SIM_KIND__CNT));
        assert_string_equal(ltrr_sim_form_name(LTRR_SIM_FORM_ARTIST_WORD),
                            "artist_word");
        assert_null(ltrr_sim_form_name(LTRR_SIM_FORM__CNT));
        assert_string_equal(ltrr_sim_act_name(LTRR_SIM_ACT_ADD_TO_PLAYLIST),
                            "add_to_playlist");
        assert_null(ltrr_sim_act_name(LTRR_SIM_ACT__CNT));
}

/* ---- typos --------------------------------------------------------------- */

static void test_typo_one_edit(void **state)
{
        static const char *const words[] = {"love story",  "taylor",
                                            "ab",          "aaaa",
                                            "müller band", "the midnights"};
        char out[64];
        ltrr_rng_t rng;
        size_t i;
        int k;

        ltrr_rng_seed(&rng, 9);
        for (k = 0; k < 3000; k++) {
                i = (size_t)k % (sizeof(words) / sizeof(words[0]));
                assert_int_equal(
                    ltrr_sim_typo(words[i], &rng, out, sizeof(out)), LTRR_OK);
                assert_int_equal(distance(words[i], out), 1);
        }
        assert_int_equal(ltrr_sim_typo("a", &rng, out, sizeof(out)),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_sim_typo("日本", &rng, out, sizeof(out)),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_sim_typo("abcdef", &rng, out, 7),
                         LTRR_ERR_NOSPACE);
}

/* ---- intents ------------------------------------------------------------- */

/* The ideal list is sorted, graded as ltrr_sim_grade() says, non-empty. */
static void check_ideal(const ltrr_sim_t *sim, const ltrr_sim_intent_t *it)
{
        uint32_t i;

        assert_true(it->ideal_cnt >= 1 && it->ideal_cnt <= LTRR_SIM_K);
        assert_true(it->best_arms != 0);
        for (i = 0; i < it->ideal_cnt; i++) {
                assert_int_equal(ltrr_sim_grade(sim, it, it->ideal[i]),
                                 it->ideal_grades[i]);
                assert_true(it->ideal_grades[i] > 0);
                if (i)
                        assert_true(it->ideal_grades[i - 1] >=
                                    it->ideal_grades[i]);
        }
}

/* Checks a known-item query against its target's name. */
static void check_known(const ltrr_sim_t *sim, const ltrr_catalog_t *cat,
                        const ltrr_sim_intent_t *it, int *seen)
{
        char name[LTRR_SIM_QUERY_MAX], *sp;
        ltrr_entity_t e;

        assert_int_equal(ltrr_catalog_get(cat, it->target, &e), LTRR_OK);
        assert_true(e.type == LTRR_ENTITY_TRACK || e.type == LTRR_ENTITY_ALBUM);
        assert_int_equal(ltrr_sim_grade(sim, it, it->target), 3);
        assert_int_equal(ltrr_sim_grade(sim, it, it->target ? 0 : 1), 0);
        lower(e.name, name, sizeof(name));
        seen[it->form]++;
        switch (it->form) {
        case LTRR_SIM_FORM_EXACT:
                assert_string_equal(it->query, name);
                break;
        case LTRR_SIM_FORM_TYPO:
                assert_int_equal(distance(it->query, name), 1);
                break;
        case LTRR_SIM_FORM_PARTIAL:
                assert_true(strlen(it->query) < strlen(name));
                assert_memory_equal(it->query, name, strlen(it->query));
                break;
        case LTRR_SIM_FORM_ARTIST_WORD:
                sp = strrchr(it->query, ' ');
                assert_non_null(sp);
                assert_non_null(strstr(name, sp + 1));
                break;
        default:
                fail_msg("unexpected form %d", it->form);
        }
}

static void test_intent_known_item(void **state)
{
        struct fx *f = *state;
        ltrr_sim_intent_t it;
        int seen[LTRR_SIM_FORM__CNT] = {0}, k;
        ltrr_rng_t rng;

        ltrr_rng_seed(&rng, 3);
        for (k = 0; k < 400; k++) {
                assert_int_equal(
                    ltrr_sim_intent_draw_kind(f->sim, (uint32_t)k % USERS,
                                              LTRR_SIM_KNOWN_ITEM, &rng, &it),
                    LTRR_OK);
                check_ideal(f->sim, &it);
                check_known(f->sim, f->cat, &it, seen);
        }
        assert_true(seen[LTRR_SIM_FORM_EXACT] > 100);
        assert_true(seen[LTRR_SIM_FORM_TYPO] > 50);
        assert_true(seen[LTRR_SIM_FORM_PARTIAL] > 30);
        assert_true(seen[LTRR_SIM_FORM_ARTIST_WORD] > 40);
}

/* Checks the text of a non-known-item query. */
static void check_query(const ltrr_sim_t *sim, const ltrr_catalog_t *cat,
                        const ltrr_sim_intent_t *it)
{
        char want[LTRR_SIM_QUERY_MAX], name[LTRR_SIM_QUERY_MAX];
        const char *g =
            ltrr_catalog_sym_name(cat, LTRR_CATALOG_SYM_GENRE, it->genre);

        if (it->kind == LTRR_SIM_ARTIST) {
                lower(ltrr_catalog_sym_name(cat, LTRR_CATALOG_SYM_ARTIST,
                                            it->artist),
                      name, sizeof(name));
                if (it->form == LTRR_SIM_FORM_EXACT)
                        assert_string_equal(it->query, name);
                else
                        assert_int_equal(distance(it->query, name), 1);
                assert_int_equal(it->ideal_grades[0], 3);
        } else if (it->kind == LTRR_SIM_AMBIGUOUS) {
                lower(it->core, want, sizeof(want));
                assert_string_equal(it->query, want);
                assert_int_equal(it->ideal_grades[0], 3); /* a favourite */
        } else if (it->kind == LTRR_SIM_NEW_RELEASE) {
                /* "new <artist>", and the artist has something new */
                lower(ltrr_catalog_sym_name(cat, LTRR_CATALOG_SYM_ARTIST,
                                            it->artist),
                      name, sizeof(name));
                assert_memory_equal(it->query, "new ", 4);
                assert_string_equal(it->query + 4, name);
                assert_true(it->ideal_cnt >= 1);
                assert_true(it->ideal_grades[0] >= 2);
        } else if (it->form == LTRR_SIM_FORM_PODCAST) {
                snprintf(want, sizeof(want), "%s podcast", g);
                assert_string_equal(it->query, want);
        } else if (it->form == LTRR_SIM_FORM_MOOD) {
                snprintf(
                    want, sizeof(want), "%s %s",
                    ltrr_catalog_sym_name(cat, LTRR_CATALOG_SYM_MOOD, it->mood),
                    g);
                assert_string_equal(it->query, want);
        } else {
                assert_int_equal(it->form, LTRR_SIM_FORM_DECADE);
                snprintf(want, sizeof(want), "%ds %s",
                         it->decade < 2000 ? it->decade % 100 : it->decade, g);
                assert_string_equal(it->query, want);
        }
        (void)sim;
}

static void test_intent_kinds(void **state)
{
        struct fx *f = *state;
        int ok[LTRR_SIM_KIND__CNT] = {0}, forms[LTRR_SIM_FORM__CNT] = {0};
        ltrr_sim_intent_t it;
        ltrr_rng_t rng;
        int k, kind;

        ltrr_rng_seed(&rng, 4);
        for (kind = LTRR_SIM_ARTIST; kind < LTRR_SIM_KIND__CNT; kind++) {
                for (k = 0; k < 200; k++) {
                        if (ltrr_sim_intent_draw_kind(
                                f->sim, (uint32_t)k % USERS,
                                (ltrr_sim_kind_t)kind, &rng, &it))
                                continue;
                        assert_int_equal(it.kind, kind);
                        check_ideal(f->sim, &it);
                        check_query(f->sim, f->cat, &it);
                        ok[kind]++;
                        forms[it.form]++;
                }
                assert_true(ok[kind] >= 60);
        }
        assert_true(forms[LTRR_SIM_FORM_DECADE] > 0);
        assert_true(forms[LTRR_SIM_FORM_MOOD] > 0);
        assert_true(forms[LTRR_SIM_FORM_PODCAST] > 0);
        assert_int_equal(ltrr_sim_intent_draw_kind(f->sim, USERS,
                                                   LTRR_SIM_ARTIST, &rng, &it),
                         LTRR_ERR_RANGE);
        assert_int_equal(
            ltrr_sim_intent_draw_kind(f->sim, 0, LTRR_SIM_KIND__CNT, &rng, &it),
            LTRR_ERR_RANGE);
        assert_int_equal(ltrr_sim_intent_draw(f->sim, USERS, &rng, &it),
                         LTRR_ERR_RANGE);
}

/* The ambiguous word is resolved by taste: two users with different
 * favourite artists get different ideal lists for the same word. */
static void test_ambiguous_personal(void **state)
{
        struct fx *f = *state;
        ltrr_sim_intent_t a, b;
        ltrr_rng_t rng;
        uint32_t u, v;
        int k, differ = 0;

        ltrr_rng_seed(&rng, 5);
        for (k = 0; k < 300 && !differ; k++) {
                u = (uint32_t)ltrr_rng_below(&rng, USERS);
                if (ltrr_sim_intent_draw_kind(f->sim, u, LTRR_SIM_AMBIGUOUS,
                                              &rng, &a))
                        continue;
                for (v = 0; v < USERS; v++) {
                        b = a;
                        b.user = v;
                        if (ltrr_sim_grade(f->sim, &b, a.ideal[0]) == 0) {
                                differ = 1;
                                break;
                        }
                }
        }
        assert_true(differ);
}

/* Pinned examples: catalog (4000, 5), population seed 42, users 0..15,
 * intent generator seeded with 2026. A change here changes every
 * simulation; update the table only on purpose. */
static void test_golden_examples(void **state)
{
        static const struct {
                ltrr_sim_kind_t kind;
                ltrr_sim_form_t form;
                const char *query;
        } want[] = {
            {LTRR_SIM_TOPICAL, LTRR_SIM_FORM_MOOD, "dark pop"},
            {LTRR_SIM_AMBIGUOUS, LTRR_SIM_FORM_EXACT, "dream"},
            {LTRR_SIM_AMBIGUOUS, LTRR_SIM_FORM_EXACT, "home"},
            {LTRR_SIM_KNOWN_ITEM, LTRR_SIM_FORM_EXACT, "amour château Été"},
            {LTRR_SIM_KNOWN_ITEM, LTRR_SIM_FORM_PARTIAL, "moon r"},
            {LTRR_SIM_NEW_RELEASE, LTRR_SIM_FORM_EXACT, "new lana morèreler"},
            {LTRR_SIM_AMBIGUOUS, LTRR_SIM_FORM_EXACT, "dream"},
            {LTRR_SIM_KNOWN_ITEM, LTRR_SIM_FORM_EXACT, "Über"},
            {LTRR_SIM_ARTIST, LTRR_SIM_FORM_EXACT, "the sueños"},
            {LTRR_SIM_TOPICAL, LTRR_SIM_FORM_DECADE, "80s folk"},
            {LTRR_SIM_KNOWN_ITEM, LTRR_SIM_FORM_ARTIST_WORD, "kendrick angel"},
            {LTRR_SIM_TOPICAL, LTRR_SIM_FORM_DECADE, "70s rock"},
            {LTRR_SIM_KNOWN_ITEM, LTRR_SIM_FORM_ARTIST_WORD, "taalor again"},
            {LTRR_SIM_AMBIGUOUS, LTRR_SIM_FORM_EXACT, "love"},
            {LTRR_SIM_ARTIST, LTRR_SIM_FORM_EXACT, "jérôme fontaine"},
            {LTRR_SIM_AMBIGUOUS, LTRR_SIM_FORM_EXACT, "home"},
        };
        struct fx *f = *state;
        ltrr_sim_intent_t it;
        ltrr_rng_t rng;
        uint32_t k;

        ltrr_rng_seed(&rng, 2026);
        for (k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
                assert_int_equal(ltrr_sim_intent_draw(f->sim, k, &rng, &it),
                                 LTRR_OK);
                assert_int_equal(it.kind, want[k].kind);
                assert_int_equal(it.form, want[k].form);
                assert_string_equal(it.query, want[k].query);
        }
}

/* ---- population ---------------------------------------------------------- */

static void test_population(void **state)
{
        struct fx *f = *state;
        ltrr_sim_conf_t pc = {USERS, 42, ltrr_date_from_ymd(2026, 1, 1)};
        ltrr_sim_t *same, *other;
        const ltrr_sim_user_t *u;
        double sum;
        int k, i, differ = 0;

        same = ltrr_sim_new(f->cat, &pc, NULL, 0);
        pc.seed = 43;
        other = ltrr_sim_new(f->cat, &pc, NULL, 0);
        assert_non_null(same);
        assert_non_null(other);
        assert_int_equal(ltrr_sim_user_count(same), USERS);
        for (i = 0; i < USERS; i++) {
                u = ltrr_sim_user(f->sim, (uint32_t)i);
                assert_memory_equal(u, ltrr_sim_user(same, (uint32_t)i),
                                    sizeof(*u));
                differ += memcmp(u->artists,
                                 ltrr_sim_user(other, (uint32_t)i)->artists,
                                 sizeof(u->artists)) != 0;
                assert_true(u->genres_cnt >= 1 && u->artists_cnt >= 2);
                assert_true(u->activity > 0 && u->peak_hour < 24);
                for (sum = 0, k = 0; k < LTRR_SIM_KIND__CNT; k++)
                        sum += u->mix[k];
                assert_true(fabs(sum - 1.0) < 1e-9);
        }
        assert_true(differ > USERS / 2);
        ltrr_sim_destroy(same);
        ltrr_sim_destroy(other);
}

/* Circular distance in hours. */
static int hour_dist(int a, int b)
{
        int d = abs(a - b);

        return d > 12 ? 24 - d : d;
}

/* Users are picked more often near their peak hour. */
static void test_time_of_day(void **state)
{
        struct fx *f = *state;
        double near[2] = {0, 0};
        ltrr_rng_t rng;
        int h, k;

        ltrr_rng_seed(&rng, 6);
        for (h = 0; h < 2; h++)
                for (k = 0; k < 4000; k++) {
                        uint32_t u =
                            ltrr_sim_user_pick(f->sim, h ? 20 : 8, &rng);
                        near[h] +=
                            hour_dist((int)ltrr_sim_user(f->sim, u)->peak_hour,
                                      20) <= 2;
                }
        /* Evening people are much likelier to search at 20:00 than 08:00. */
        assert_true(near[1] > 1.5 * near[0]);
}

/* The same seed gives the same users and intents; the seed matters. */
static void test_determinism(void **state)
{
        struct fx *f = *state;
        ltrr_sim_intent_t a, b;
        ltrr_rng_t r1, r2, r3;
        int k, differ = 0;

        ltrr_rng_seed(&r1, 77);
        ltrr_rng_seed(&r2, 77);
        ltrr_rng_seed(&r3, 78);
        for (k = 0; k < 300; k++) {
                uint32_t u1 = ltrr_sim_user_pick(f->sim, (uint32_t)k % 24, &r1);
                uint32_t u2 = ltrr_sim_user_pick(f->sim, (uint32_t)k % 24, &r2);

                assert_int_equal(u1, u2);
                assert_int_equal(ltrr_sim_intent_draw(f->sim, u1, &r1, &a),
                                 LTRR_OK);
                assert_int_equal(ltrr_sim_intent_draw(f->sim, u2, &r2, &b),
                                 LTRR_OK);
                assert_memory_equal(&a, &b, sizeof(a));
                ltrr_sim_user_pick(f->sim, (uint32_t)k % 24, &r3);
                assert_int_equal(ltrr_sim_intent_draw(f->sim, u1, &r3, &b),
                                 LTRR_OK);
                differ += strcmp(a.query, b.query) != 0;
        }
        assert_true(differ > 150);
}

/* ---- click model --------------------------------------------------------- */

/* Runs the model @runs times on @grades; counts clicks per rank. */
static void clicks_count(const uint8_t *grades, int runs, double *ctr,
                         double *plays, double *skips)
{
        ltrr_sim_clicks_conf_t cc;
        ltrr_sim_action_t acts[LTRR_SIM_ACTIONS_MAX];
        uint32_t durs[LTRR_SIM_K];
        ltrr_sim_intent_t it;
        ltrr_rng_t rng;
        size_t n, i;
        int r;

        memset(&it, 0, sizeof(it));
        it.kind = LTRR_SIM_KNOWN_ITEM;
        ltrr_sim_clicks_defaults(&cc);
        ltrr_rng_seed(&rng, 11);
        for (i = 0; i < LTRR_SIM_K; i++) {
                durs[i] = 200000;
                ctr[i] = 0;
        }
        *plays = *skips = 0;
        for (r = 0; r < runs; r++) {
                n = ltrr_sim_clicks_run(&cc, &it, grades, durs, LTRR_SIM_K,
                                        &rng, acts, LTRR_SIM_ACTIONS_MAX);
                for (i = 0; i < n; i++) {
                        assert_true(acts[i].rank < LTRR_SIM_K);
                        if (i)
                                assert_true(acts[i].offset_ms >=
                                            acts[i - 1].offset_ms);
                        if (acts[i].type == LTRR_SIM_ACT_CLICK)
                                ctr[acts[i].rank] += 1.0 / runs;
                        if (acts[i].type == LTRR_SIM_ACT_PLAY) {
                                assert_true(acts[i].duration_ms >= 30000);
                                *plays += 1.0 / runs;
                        }
                        if (acts[i].type == LTRR_SIM_ACT_SKIP) {
                                assert_true(acts[i].duration_ms < 30000);
                                *skips += 1.0 / runs;
                        }
                }
        }
}

static void test_clicks_position_bias(void **state)
{
        uint8_t rel[LTRR_SIM_K], none[LTRR_SIM_K];
        double ctr[LTRR_SIM_K], ctr0[LTRR_SIM_K], plays, skips, plays0, skips0;
        int i;

        memset(rel, 2, sizeof(rel));
        memset(none, 0, sizeof(none));
        clicks_count(rel, 20000, ctr, &plays, &skips);
        /* Equal relevance everywhere: the click rate falls with the rank. */
        for (i = 1; i < LTRR_SIM_K; i++)
                assert_true(ctr[i] < ctr[i - 1]);
        assert_true(ctr[0] > 0.55 && ctr[0] < 0.65); /* P(click | 2) = 0.6 */
        assert_true(ctr[9] < 0.05);
        /* Irrelevant results: few clicks, and skips rather than plays. */
        clicks_count(none, 20000, ctr0, &plays0, &skips0);
        assert_true(ctr0[0] < 0.06);
        assert_true(skips0 > plays0);
        assert_true(plays > 5 * skips);
}

static void test_clicks_relevance(void **state)
{
        uint8_t g[LTRR_SIM_K] = {0, 0, 0, 3, 0, 0, 0, 0, 0, 0};
        double ctr[LTRR_SIM_K], plays, skips;
        ltrr_sim_clicks_conf_t cc;
        ltrr_sim_action_t acts[4];
        ltrr_sim_intent_t it;
        ltrr_rng_t rng;
        int i;

        clicks_count(g, 20000, ctr, &plays, &skips);
        for (i = 0; i < LTRR_SIM_K; i++)
                if (i != 3)
                        assert_true(ctr[3] > 5 * ctr[i]);
        /* Examination of rank 4 is 0.92 * 0.88 * 0.84 of rank 1 at most,
         * times P(click | 3) = 0.9. */
        assert_true(ctr[3] > 0.45 && ctr[3] < 0.62);
        /* Bounded output and an unknown kind. */
        memset(&it, 0, sizeof(it));
        memset(g, 3, sizeof(g));
        ltrr_sim_clicks_defaults(&cc);
        ltrr_rng_seed(&rng, 1);
        for (i = 0; i < 100; i++)
                assert_true(ltrr_sim_clicks_run(&cc, &it, g, NULL, LTRR_SIM_K,
                                                &rng, acts, 4) <= 4);
        it.kind = LTRR_SIM_KIND__CNT;
        assert_int_equal(
            ltrr_sim_clicks_run(&cc, &it, g, NULL, LTRR_SIM_K, &rng, acts, 4),
            0);
}

/* ---- metrics ------------------------------------------------------------- */

static void test_metrics_math(void **state)
{
        const uint8_t ideal[] = {3, 2, 1};
        const uint8_t top[] = {3, 0};
        const uint8_t second[] = {0, 3};
        const uint8_t mixed[] = {2, 3, 0, 1};
        const uint8_t zeros[] = {0, 0, 0};
        double idcg = 7.0 + 3.0 / log2(3.0) + 1.0 / 2.0;

        assert_float_equal(ltrr_sim_ndcg(top, 2, ideal, 1, 10), 1.0, 1e-12);
        assert_float_equal(ltrr_sim_ndcg(second, 2, ideal, 1, 10),
                           1.0 / log2(3.0), 1e-12);
        assert_float_equal(ltrr_sim_ndcg(mixed, 4, ideal, 3, 10),
                           (3.0 + 7.0 / log2(3.0) + 1.0 / log2(5.0)) / idcg,
                           1e-12);
        /* k cuts both lists. */
        assert_float_equal(ltrr_sim_ndcg(second, 2, ideal, 3, 1), 0.0, 1e-12);
        assert_float_equal(ltrr_sim_ndcg(zeros, 3, ideal, 3, 10), 0.0, 1e-12);
        assert_float_equal(ltrr_sim_ndcg(top, 2, zeros, 3, 10), 0.0, 1e-12);
        assert_float_equal(ltrr_sim_ndcg(NULL, 0, ideal, 3, 10), 0.0, 1e-12);
        assert_int_equal(ltrr_sim_success(second, 2, 1), 0);
        assert_int_equal(ltrr_sim_success(second, 2, 2), 1);
        assert_int_equal(ltrr_sim_success(mixed, 4, 1), 1);
        assert_int_equal(ltrr_sim_success(zeros, 3, 10), 0);
}

static void test_eval_series(void **state)
{
        const uint8_t hit[] = {3}, miss[] = {0, 3}, ideal[] = {3};
        ltrr_sim_eval_t *ev = ltrr_sim_eval_new(2, NULL, 0);
        ltrr_sim_obs_t o;
        ltrr_sim_stats_t st;
        uint64_t s;

        assert_non_null(ev);
        memset(&o, 0, sizeof(o));
        o.ideal = ideal;
        o.ideal_n = 1;
        for (s = 0; s < 5; s++) { /* seq 0..4, out of order is fine */
                o.seq = 4 - s;
                o.kind = (ltrr_sim_kind_t)(o.seq % 2);
                o.grades = o.seq % 2 ? miss : hit;
                o.n = o.seq % 2 ? 2 : 1;
                o.arms = o.seq % 2 ? 0x9u : 0x1u;
                o.candidates = o.seq < 4 ? 10.0 * (double)o.seq : -1;
                o.actions = 2;
                ltrr_sim_eval_add(ev, &o);
        }
        ltrr_sim_eval_total(ev, -1, &st);
        assert_int_equal(st.queries, 5);
        assert_int_equal(st.success1, 3);
        assert_int_equal(st.success10, 5);
        assert_float_equal(st.ndcg_sum, 3.0 + 2.0 / log2(3.0), 1e-12);
        assert_int_equal(st.cand_queries, 4);
        assert_float_equal(st.cand_sum, 60.0, 1e-12);
        assert_int_equal(st.arm_queries[0], 5);
        assert_int_equal(st.arm_queries[3], 2);
        assert_int_equal(st.actions, 10);
        ltrr_sim_eval_total(ev, 1, &st);
        assert_int_equal(st.queries, 2);
        assert_int_equal(st.success1, 0);
        ltrr_sim_eval_total(ev, 99, &st);
        assert_int_equal(st.queries, 0);
        assert_int_equal(ltrr_sim_eval_buckets(ev), 3);
        ltrr_sim_eval_bucket(ev, 2, &st);
        assert_int_equal(st.queries, 1);
        assert_int_equal(st.first_seq, 4);
        ltrr_sim_eval_bucket(ev, 3, &st);
        assert_int_equal(st.queries, 0);
        /* Past LTRR_SIM_BUCKETS_MAX buckets the width doubles, totals stay. */
        o.seq = 2 * LTRR_SIM_BUCKETS_MAX * 2 + 1;
        ltrr_sim_eval_add(ev, &o);
        assert_int_equal(ltrr_sim_eval_bucket_width(ev), 8);
        ltrr_sim_eval_bucket(ev, 0, &st);
        assert_int_equal(st.queries, 5);
        assert_int_equal(st.success1, 3);
        assert_true(ltrr_sim_eval_buckets(ev) <= LTRR_SIM_BUCKETS_MAX);
        ltrr_sim_eval_total(ev, -1, &st);
        assert_int_equal(st.queries, 6);
        ltrr_sim_eval_destroy(ev);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_destroy_null_and_bad_args),
            cmocka_unit_test(test_names),
            cmocka_unit_test(test_typo_one_edit),
            cmocka_unit_test(test_intent_known_item),
            cmocka_unit_test(test_intent_kinds),
            cmocka_unit_test(test_ambiguous_personal),
            cmocka_unit_test(test_golden_examples),
            cmocka_unit_test(test_population),
            cmocka_unit_test(test_time_of_day),
            cmocka_unit_test(test_determinism),
            cmocka_unit_test(test_clicks_position_bias),
            cmocka_unit_test(test_clicks_relevance),
            cmocka_unit_test(test_metrics_math),
            cmocka_unit_test(test_eval_series),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
