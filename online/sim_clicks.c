/*
 * ltrr - the click model of simulated users: a position-biased cascade on
 * ground-truth grades, then play / skip / like / add to playlist / share
 * with intent-dependent probabilities and listening times.
 */
#include <string.h>

#include "sim.h"

/* Listening shorter than this is a skip. */
#define SIM_SKIP_MS 30000
/* Length assumed when the catalog does not know an entity's duration. */
#define SIM_DEFAULT_MS 200000

static const char *const act_names[LTRR_SIM_ACT__CNT] = {
    "click", "play", "like", "add_to_playlist", "share", "skip"};

/* P(play | click) by intent kind: an artist page is browsed more than
 * played. */
static const double play_p[LTRR_SIM_KIND__CNT] = {0.90, 0.60, 0.80, 0.80, 0.70};

/* Beta parameters of the share of the item listened to, by grade. */
static const double listen_a[LTRR_SIM_GRADE_MAX + 1] = {1.0, 2.0, 5.0, 6.0};
static const double listen_b[LTRR_SIM_GRADE_MAX + 1] = {8.0, 3.0, 2.0, 1.5};

/* P(like), P(add to playlist), P(share) after a full play, by grade. */
static const double like_p[LTRR_SIM_GRADE_MAX + 1] = {0.01, 0.03, 0.10, 0.25};
static const double add_p[LTRR_SIM_GRADE_MAX + 1] = {0.0, 0.01, 0.08, 0.10};
static const double share_p[LTRR_SIM_GRADE_MAX + 1] = {0.0, 0.0, 0.01, 0.03};

const char *ltrr_sim_act_name(ltrr_sim_act_type_t type)
{
        return (unsigned)type < LTRR_SIM_ACT__CNT ? act_names[type] : NULL;
}

void ltrr_sim_clicks_defaults(ltrr_sim_clicks_conf_t *cc)
{
        static const double click[] = {0.04, 0.30, 0.60, 0.90};
        static const double stop[] = {0.10, 0.35, 0.70, 0.90};
        int i;

        for (i = 0; i < LTRR_SIM_K; i++)
                cc->cont[i] = 0.92 - 0.04 * i;
        memcpy(cc->click, click, sizeof(cc->click));
        memcpy(cc->stop, stop, sizeof(cc->stop));
}

/* Appends an action if there is room. */
static void push(ltrr_sim_action_t *out, size_t cap, size_t *n,
                 ltrr_sim_act_type_t type, uint32_t rank, uint32_t at,
                 uint32_t dur)
{
        if (*n >= cap)
                return;
        out[*n].type = type;
        out[*n].rank = rank;
        out[*n].offset_ms = at;
        out[*n].duration_ms = dur;
        (*n)++;
}

/* What follows a click on rank @r of grade @g: a play or a skip, then
 * maybe a like, an add to playlist and a share. Advances *@at. */
static void after_click(const ltrr_sim_intent_t *it, uint8_t g, uint32_t r,
                        uint32_t item_ms, ltrr_rng_t *rng,
                        ltrr_sim_action_t *out, size_t cap, size_t *n,
                        uint32_t *at)
{
        uint32_t len = item_ms == LTRR_CATALOG_DURATION_UNKNOWN ? SIM_DEFAULT_MS
                                                                : item_ms,
                 heard;

        if (ltrr_rng_uniform(rng) >= play_p[it->kind])
                return;
        heard = (uint32_t)(ltrr_rng_beta(rng, listen_a[g], listen_b[g]) * len);
        *at += 500;
        if (heard < SIM_SKIP_MS) {
                push(out, cap, n, LTRR_SIM_ACT_SKIP, r, *at, heard);
                *at += heard;
                return;
        }
        push(out, cap, n, LTRR_SIM_ACT_PLAY, r, *at, heard);
        *at += heard;
        if (ltrr_rng_uniform(rng) < like_p[g])
                push(out, cap, n, LTRR_SIM_ACT_LIKE, r, *at, 0);
        if (ltrr_rng_uniform(rng) < add_p[g])
                push(out, cap, n, LTRR_SIM_ACT_ADD_TO_PLAYLIST, r, *at, 0);
        if (ltrr_rng_uniform(rng) < share_p[g])
                push(out, cap, n, LTRR_SIM_ACT_SHARE, r, *at, 0);
}

size_t ltrr_sim_clicks_run(const ltrr_sim_clicks_conf_t *cc,
                           const ltrr_sim_intent_t *it, const uint8_t *grades,
                           const uint32_t *durations_ms, size_t n,
                           ltrr_rng_t *rng, ltrr_sim_action_t *out, size_t cap)
{
        size_t cnt = 0, r;
        uint32_t at = 1500, dur;
        uint8_t g;

        if ((unsigned)it->kind >= LTRR_SIM_KIND__CNT)
                return 0;
        for (r = 0; r < n && r < LTRR_SIM_K; r++) {
                g = grades[r] > LTRR_SIM_GRADE_MAX ? LTRR_SIM_GRADE_MAX
                                                   : grades[r];
                at += 800; /* reading one more result */
                if (ltrr_rng_uniform(rng) < cc->click[g]) {
                        push(out, cap, &cnt, LTRR_SIM_ACT_CLICK, (uint32_t)r,
                             at, 0);
                        dur = durations_ms ? durations_ms[r]
                                           : LTRR_CATALOG_DURATION_UNKNOWN;
                        after_click(it, g, (uint32_t)r, dur, rng, out, cap,
                                    &cnt, &at);
                        if (ltrr_rng_uniform(rng) < cc->stop[g])
                                break;
                }
                if (ltrr_rng_uniform(rng) >= cc->cont[r])
                        break;
        }
        return cnt;
}
