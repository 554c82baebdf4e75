/*
 * ltrr - the simulated population: users with taste profiles (favourite
 * genres and artists, language), an activity level and a time-of-day
 * pattern, and the names of arms, kinds and forms.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_int.h"
#include "synth.h"

static const char *const arm_names[LTRR_SIM_ARM__CNT] = {
    "lexical",  "popular", "structured", "fuzzy",
    "semantic", "memory",  "personal",   "fresh"};

static const char *const kind_names[LTRR_SIM_KIND__CNT] = {
    "known_item", "artist", "topical", "ambiguous", "new_release"};

static const char *const form_names[LTRR_SIM_FORM__CNT] = {
    "exact", "typo", "partial", "artist_word", "decade", "mood", "podcast"};

/* Share of each intent kind in an average user's searches. */
static const double base_mix[LTRR_SIM_KIND__CNT] = {0.35, 0.20, 0.20, 0.15,
                                                    0.10};

const char *ltrr_sim_arm_name(ltrr_sim_arm_t arm)
{
        return (unsigned)arm < LTRR_SIM_ARM__CNT ? arm_names[arm] : NULL;
}

int ltrr_sim_arm_parse(const char *name)
{
        int i;

        for (i = 0; name && i < LTRR_SIM_ARM__CNT; i++)
                if (!strcmp(name, arm_names[i]))
                        return i;
        return -1;
}

void ltrr_sim_arms_format(uint32_t mask, char *buf, size_t size)
{
        size_t len = 0;
        int i, w;

        if (!size)
                return;
        buf[0] = '\0';
        for (i = 0; i < LTRR_SIM_ARM__CNT; i++) {
                if (!(mask & (1u << i)))
                        continue;
                w = snprintf(buf + len, size - len, "%s%s", len ? "," : "",
                             arm_names[i]);
                if (w < 0 || (size_t)w >= size - len) {
                        buf[len] = '\0';
                        return;
                }
                len += (size_t)w;
        }
}

const char *ltrr_sim_kind_name(ltrr_sim_kind_t kind)
{
        return (unsigned)kind < LTRR_SIM_KIND__CNT ? kind_names[kind] : NULL;
}

const char *ltrr_sim_form_name(ltrr_sim_form_t form)
{
        return (unsigned)form < LTRR_SIM_FORM__CNT ? form_names[form] : NULL;
}

uint32_t ltrr_sim_cdf_pick(const double *cdf, uint32_t n, ltrr_rng_t *rng)
{
        double u;
        uint32_t lo = 0, hi = n;

        if (!n)
                return 0;
        u = ltrr_rng_uniform(rng) * cdf[n - 1];
        while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;

                if (cdf[mid] > u)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return lo < n ? lo : n - 1;
}

/* A language drawn by the vocabulary's artist shares. */
static const char *pick_lang(ltrr_rng_t *rng)
{
        const ltrr_synth_vocab_t *v = ltrr_synth_vocab();
        uint64_t x = ltrr_rng_below(rng, 100), acc = 0;
        size_t i;

        for (i = 0; i < v->langs_cnt; i++) {
                acc += v->langs[i].weight;
                if (x < acc)
                        return v->langs[i].code;
        }
        return v->langs[0].code;
}

/* Adds 1..3 favourite music genres present in the catalog. */
static void pick_genres(const ltrr_sim_t *sim, ltrr_rng_t *rng,
                        ltrr_sim_user_t *u)
{
        const ltrr_synth_vocab_t *v = ltrr_synth_vocab();
        uint32_t want = 1 + (uint32_t)ltrr_rng_below(rng, 3), tries, j, sym;

        for (tries = 0; tries < 16 && u->genres_cnt < want; tries++) {
                sym = ltrr_catalog_sym_find(
                    sim->cat, LTRR_CATALOG_SYM_GENRE,
                    v->genres[ltrr_rng_below(rng, v->genres_cnt)].name);
                if (sym == LTRR_CATALOG_SYM_NONE)
                        continue;
                for (j = 0; j < u->genres_cnt && u->genres[j] != sym; j++)
                        ;
                if (j == u->genres_cnt)
                        u->genres[u->genres_cnt++] = sym;
        }
}

/* 1 if entity @idx has a genre among @u's favourites (and, if @lang, is
 * in @u's language). */
static int likes(const ltrr_sim_t *sim, const ltrr_sim_user_t *u, uint32_t idx,
                 int lang)
{
        ltrr_entity_t e;
        uint32_t i, j;

        if (ltrr_catalog_get(sim->cat, idx, &e) ||
            (lang && strcmp(e.language, u->lang)))
                return 0;
        for (i = 0; i < e.genres_cnt; i++)
                for (j = 0; j < u->genres_cnt; j++)
                        if (e.genres[i] == u->genres[j])
                                return 1;
        return 0;
}

/* Adds 2..4 favourite artists, popular ones more often, in the user's
 * genres and language when the catalog allows (then in the genres only,
 * then any). */
static void pick_artists(const ltrr_sim_t *sim, ltrr_rng_t *rng,
                         ltrr_sim_user_t *u)
{
        uint32_t want = 2 + (uint32_t)ltrr_rng_below(rng, 3), tries, j, idx;
        ltrr_entity_t e;

        if (!sim->artist_ents_cnt)
                return;
        for (tries = 0; tries < 256 && u->artists_cnt < want; tries++) {
                idx = sim->artist_ents[ltrr_sim_cdf_pick(
                    sim->artist_cdf, sim->artist_ents_cnt, rng)];
                if (tries < 192 && u->genres_cnt &&
                    !likes(sim, u, idx, tries < 128))
                        continue;
                if (ltrr_catalog_get(sim->cat, idx, &e) || !e.artists_cnt)
                        continue;
                for (j = 0; j < u->artists_cnt && u->artists[j] != e.artists[0];
                     j++)
                        ;
                if (j == u->artists_cnt)
                        u->artists[u->artists_cnt++] = e.artists[0];
        }
}

/* Peak hour: mostly evenings, some daytime, a few night owls. */
static uint32_t pick_peak(ltrr_rng_t *rng)
{
        uint64_t x = ltrr_rng_below(rng, 100);

        if (x < 60)
                return 18 + (uint32_t)ltrr_rng_below(rng, 6);
        if (x < 85)
                return 9 + (uint32_t)ltrr_rng_below(rng, 9);
        return (uint32_t)ltrr_rng_below(rng, 4);
}

/* Fills user @i from its own generator, so users do not depend on the
 * population size. */
static void user_make(const ltrr_sim_t *sim, uint32_t i, ltrr_sim_user_t *u)
{
        ltrr_rng_t rng;
        double sum = 0;
        int k;

        ltrr_rng_seed(&rng, sim->conf.seed ^ (0x9E3779B97F4A7C15ull * (i + 1)));
        memset(u, 0, sizeof(*u));
        snprintf(u->id, sizeof(u->id), "sim-u%05u", i);
        u->lang = pick_lang(&rng);
        pick_genres(sim, &rng, u);
        pick_artists(sim, &rng, u);
        u->activity = 0.05 + ltrr_rng_gamma(&rng, 0.7);
        u->peak_hour = pick_peak(&rng);
        for (k = 0; k < LTRR_SIM_KIND__CNT; k++) {
                u->mix[k] = base_mix[k] * ltrr_rng_gamma(&rng, 4.0) / 4.0;
                sum += u->mix[k];
        }
        for (k = 0; k < LTRR_SIM_KIND__CNT; k++)
                u->mix[k] = sum > 0 ? u->mix[k] / sum : base_mix[k];
}

/* Weight of a user with peak @peak at @hour: a circular Gaussian bump of
 * three hours over a floor, so everyone searches a little at any hour. */
static double hour_weight(uint32_t peak, uint32_t hour)
{
        int d = abs((int)peak - (int)hour);

        if (d > 12)
                d = 24 - d;
        return 0.15 + exp(-(double)(d * d) / 18.0);
}

/* Builds the users and their hourly cumulative weights. */
static ltrr_err_t users_build(ltrr_sim_t *sim, char *errstr, size_t size)
{
        uint32_t n = sim->conf.users, i, h;

        sim->users = calloc(n, sizeof(*sim->users));
        sim->hour_cdf = calloc((size_t)24 * n, sizeof(double));
        if (!sim->users || !sim->hour_cdf)
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, size,
                                 "sim: out of memory for %u users", n);
        for (i = 0; i < n; i++)
                user_make(sim, i, &sim->users[i]);
        for (h = 0; h < 24; h++) {
                double acc = 0, *cdf = sim->hour_cdf + (size_t)h * n;

                for (i = 0; i < n; i++) {
                        acc += sim->users[i].activity *
                               hour_weight(sim->users[i].peak_hour, h);
                        cdf[i] = acc;
                }
        }
        return LTRR_OK;
}

ltrr_sim_t *ltrr_sim_new(const ltrr_catalog_t *cat, const ltrr_sim_conf_t *conf,
                         char *errstr, size_t errstr_size)
{
        ltrr_sim_t *sim;

        if (!cat || !conf || !ltrr_catalog_count(cat) || !conf->users ||
            conf->users > LTRR_SIM_USERS_MAX) {
                ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                          "sim: need a non-empty catalog and 1..%d users",
                          LTRR_SIM_USERS_MAX);
                return NULL;
        }
        sim = calloc(1, sizeof(*sim));
        if (!sim) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                          "sim: out of memory");
                return NULL;
        }
        sim->cat = cat;
        sim->conf = *conf;
        if (ltrr_sim_lookups_build(sim, errstr, errstr_size) ||
            users_build(sim, errstr, errstr_size))
                goto err;
        return sim;
err:
        ltrr_sim_destroy(sim);
        return NULL;
}

void ltrr_sim_destroy(ltrr_sim_t *sim)
{
        if (!sim)
                return;
        ltrr_sim_lookups_free(sim);
        free(sim->users);
        free(sim->hour_cdf);
        free(sim);
}

uint32_t ltrr_sim_user_count(const ltrr_sim_t *sim)
{
        return sim->conf.users;
}

const ltrr_sim_user_t *ltrr_sim_user(const ltrr_sim_t *sim, uint32_t i)
{
        return i < sim->conf.users ? &sim->users[i] : NULL;
}

uint32_t ltrr_sim_user_pick(const ltrr_sim_t *sim, uint32_t hour,
                            ltrr_rng_t *rng)
{
        uint32_t n = sim->conf.users;

        return ltrr_sim_cdf_pick(sim->hour_cdf + (size_t)(hour % 24) * n, n,
                                 rng);
}
