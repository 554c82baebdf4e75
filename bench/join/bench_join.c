/*
 * ltrr-bench-join: feeds the pure join N events (impressions, and one
 * action for 70% of them, a few ms later) and reports events per second,
 * beside a reference loop over the same events in the same run: one
 * allocation and copy of the record plus one hash-table probe per event,
 * the least any join keeping per-impression state must do.
 *
 *   ltrr-bench-join [EVENTS]     (default 2000000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "join.h"

#define T0 1700000000000LL
#define PER_MS 20        /* impressions per ms of event time */
#define REF_SLOTS 65536  /* reference hash table */

static const ltrr_candidate_t cands[] = {{"track:1", 1.0f},
                                         {"track:2", 0.5f}};
static const ltrr_arm_decision_t arms[] = {
    {"lexical", true, 10, 0.6, cands, 2},
    {"popular", false, 10, 0.4, cands, 1}};
static const float feats[] = {0.1f, 0.2f, 0.3f, 0.4f};

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void make_id(ltrr_id128_t *id, int tag, uint64_t n)
{
        memset(id, 0, sizeof(*id));
        id->b[0] = (uint8_t)tag;
        memcpy(id->b + 8, &n, sizeof(n));
}

static void make_imp(ltrr_impression_t *imp, uint64_t i)
{
        memset(imp, 0, sizeof(*imp));
        imp->schema_version = 1;
        imp->event_time_ms = T0 + (int64_t)(i / PER_MS);
        imp->node_id = "serve-1";
        make_id(&imp->impression_id, 1, i);
        imp->user_id = "user-1";
        imp->query_raw = "q";
        imp->query_norm = "q";
        imp->lang = "en";
        imp->context.features = feats;
        imp->context.feature_cnt = 4;
        imp->context.query_type = "entity";
        imp->context.user_segment = "casual";
        imp->policy = "linucb";
        imp->model_version = "v1";
        imp->arms = arms;
        imp->arm_cnt = 2;
}

static void make_act(ltrr_action_t *act, uint64_t i)
{
        memset(act, 0, sizeof(*act));
        act->schema_version = 1;
        act->event_time_ms = T0 + (int64_t)(i / PER_MS) + 3;
        act->node_id = "collect-1";
        make_id(&act->action_id, 2, i);
        make_id(&act->impression_id, 1, i);
        act->user_id = "user-1";
        act->entity_id = "track:1";
        act->type = LTRR_ACTION_PLAY;
}

static void on_reward(void *opaque, int32_t p, const ltrr_reward_t *rew)
{
        (*(uint64_t *)opaque)++;
}

/* Runs the join over @n events; returns the seconds taken. */
static double run_join(uint64_t n, uint64_t *rewards)
{
        ltrr_join_conf_t jc;
        ltrr_impression_t imp;
        ltrr_action_t act;
        uint64_t i, ev = 0, ia = 0;
        char err[256];
        ltrr_join_t *j;
        double t;

        ltrr_join_conf_defaults(&jc);
        jc.window_ms = 1000;
        jc.late_horizon_ms = 1000;
        jc.lateness_ms = 100;
        jc.pending_max = 1000000;
        if (!(j = ltrr_join_new(&jc, on_reward, rewards, err, sizeof(err)))) {
                fprintf(stderr, "ltrr-bench-join: %s\n", err);
                exit(1);
        }
        t = now_s();
        for (i = 0; ev < n; i++) {
                make_imp(&imp, i);
                ltrr_join_impression(j, 0, (int64_t)i, &imp, 0, err,
                                     sizeof(err));
                ev++;
                /* the action of impression i - 40 (2 ms earlier) */
                if (i >= 40 && (i - 40) % 10 < 7 && ev < n) {
                        make_act(&act, i - 40);
                        ltrr_join_action(j, 0, (int64_t)ia++, &act, 0, err,
                                         sizeof(err));
                        ev++;
                }
        }
        t = now_s() - t;
        ltrr_join_destroy(j);
        return t;
}

/* The reference: copy each record once and probe a table. */
static double run_ref(uint64_t n, uint64_t *sink)
{
        static uint64_t tab[REF_SLOTS];
        ltrr_impression_t imp;
        ltrr_action_t act;
        uint64_t i, ev = 0, h;
        double t = now_s();

        for (i = 0; ev < n; i++) {
                void *copy;

                make_imp(&imp, i);
                copy = malloc(sizeof(imp) + 256);
                memcpy(copy, &imp, sizeof(imp));
                memcpy(&h, imp.impression_id.b + 8, sizeof(h));
                tab[(h * 0x9e3779b97f4a7c15ULL) >> 48] ^= h;
                *sink += ((unsigned char *)copy)[8];
                free(copy);
                ev++;
                if (i >= 40 && (i - 40) % 10 < 7 && ev < n) {
                        make_act(&act, i - 40);
                        memcpy(&h, act.impression_id.b + 8, sizeof(h));
                        *sink += tab[(h * 0x9e3779b97f4a7c15ULL) >> 48];
                        ev++;
                }
        }
        return now_s() - t;
}

int main(int argc, char **argv)
{
        uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000000;
        uint64_t rewards = 0, sink = 0;
        double tj, tr;

        if (ltrr_cli_wants_help(argc, argv) || n < 1000) {
                int help = ltrr_cli_wants_help(argc, argv);

                fprintf(help ? stdout : stderr,
                        "usage: ltrr-bench-join [EVENTS >= 1000]\n"
                        "  EVENTS  impressions and actions fed to the join "
                        "(default 2000000)\n");
                return help ? 0 : 2;
        }
        tr = run_ref(n, &sink);
        tj = run_join(n, &rewards);
        printf("events=%llu rewards=%llu\n", (unsigned long long)n,
               (unsigned long long)rewards);
        printf("join       %.0f events/s (%.1f ns/event)\n", n / tj,
               tj * 1e9 / n);
        printf("reference  %.0f events/s (%.1f ns/event) [sink %llu]\n",
               n / tr, tr * 1e9 / n, (unsigned long long)(sink & 1));
        printf("join/reference %.2f; target >= 200000 events/s: %s\n",
               tr / tj, n / tj >= 200000 ? "met" : "NOT met");
        return 0;
}
