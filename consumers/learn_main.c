/*
 * ltrr-learn: applies rewards from ltrr.rewards to Redis, exactly once
 * in effect (docs/LEARN.md). main() wires config, Redis, Kafka, metrics
 * and the admin endpoint; the loop is in learn_loop.c.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "admin_http.h"
#include "cli.h"
#include "learn_int.h"
#include "log.h"

static void on_signal(int sig)
{
        (void)sig;
        learn_run = 0;
}

/* /healthz: 503 until Redis accepted a write (consumption is paused). */
static int learn_health(void *opaque, char *reason, size_t reason_size)
{
        learn_t *ln = opaque;

        if (atomic_load(&ln->redis_up))
                return 0;
        snprintf(reason, reason_size, "redis unavailable");
        return 1;
}

/* Parses "a,b,c" arm names and "10,25" budgets into the space. */
static int space_parse(const ltrr_config_learn_t *cf, ltrr_bandit_space_t *sp)
{
        char buf[256], *save = NULL, *tok;
        unsigned total = 0;
        char errstr[256];

        memset(sp, 0, sizeof(*sp));
        snprintf(buf, sizeof(buf), "%s", cf->bandit_arms);
        for (tok = strtok_r(buf, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save)) {
                if (sp->n_arms == LTRR_BANDIT_MAX_ARMS)
                        return -1;
                snprintf(sp->arm_names[sp->n_arms++], LTRR_BANDIT_ARM_NAME_MAX,
                         "%s", tok);
        }
        snprintf(buf, sizeof(buf), "%s", cf->bandit_budgets);
        for (tok = strtok_r(buf, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save)) {
                if (sp->n_budgets == LTRR_BANDIT_MAX_BUDGETS)
                        return -1;
                sp->budgets[sp->n_budgets] = (unsigned)atoi(tok);
                total += sp->budgets[sp->n_budgets++];
        }
        sp->total_budget = total;
        if (ltrr_bandit_space_check(sp, errstr, sizeof(errstr))) {
                log_error("learn", "bad bandit space", "err", errstr);
                return -1;
        }
        return 0;
}

/* Fills the plan settings from the config. */
static int learn_conf(const ltrr_config_learn_t *cf, ltrr_learn_conf_t *lc)
{
        memset(lc, 0, sizeof(*lc));
        if (space_parse(cf, &lc->space))
                return -1;
        lc->bandit_half_life = (double)cf->bandit_half_life_ms / 1000.0;
        lc->dedup_ttl_s = cf->dedup_ttl_ms / 1000;
        lc->q2e.max = cf->q2e_max;
        lc->q2e.ttl_s = cf->q2e_ttl_ms / 1000;
        lc->profile.recent_max = cf->profile_recent_max;
        lc->profile.affinity_max = cf->profile_affinity_max;
        lc->profile.ttl_s = cf->profile_ttl_ms / 1000;
        lc->profile.pop_max = cf->pop_max;
        lc->profile.pop_half_life = (double)cf->pop_half_life_ms / 1000.0;
        lc->ranker_ipw_eta = cf->ranker_ipw_eta;
        lc->ranker_ipw_clip = cf->ranker_ipw_clip;
        return 0;
}

/* Registers one family and returns its only child (NULL on error). */
static ltrr_metrics_child_t *family(ltrr_metrics_t *reg,
                                    ltrr_metrics_type_t type,
                                    const char *name, const char *help,
                                    int size_buckets)
{
        ltrr_metrics_spec_t spec = {type, name, help, NULL, 0, -5, 6};
        ltrr_metrics_family_t *fam;
        char errstr[256];

        if (size_buckets) {
                spec.lo_exp = 0;
                spec.decades = 7;
        }
        fam = ltrr_metrics_register(reg, &spec, errstr, sizeof(errstr));
        if (!fam) {
                log_error("learn", "metrics", "err", errstr);
                return NULL;
        }
        return ltrr_metrics_child(fam, NULL);
}

#define FAM(field, type, name, help, sz)                                       \
        do {                                                                   \
                if (!(m->field = family(reg, type, name, help, sz)))           \
                        return -1;                                             \
        } while (0)

static int metrics_init(ltrr_metrics_t *reg, learn_metrics_t *m)
{
        FAM(rewards, LTRR_METRICS_COUNTER, "ltrr_learn_rewards_total",
            "Rewards applied to Redis.", 0);
        FAM(calls, LTRR_METRICS_COUNTER, "ltrr_learn_updates_total",
            "Script calls whose effect was applied.", 0);
        FAM(duplicates, LTRR_METRICS_COUNTER, "ltrr_learn_duplicates_total",
            "Script calls skipped: source reference already applied.", 0);
        FAM(malformed, LTRR_METRICS_COUNTER, "ltrr_learn_malformed_total",
            "Records that are not decodable Rewards (skipped).", 0);
        FAM(skipped, LTRR_METRICS_COUNTER, "ltrr_learn_parts_skipped_total",
            "Reward parts not applied: unknown arm, bad query/user.", 0);
        FAM(rk_examples, LTRR_METRICS_COUNTER,
            "ltrr_learn_ranker_examples_total",
            "Ranker examples of the rewards sent (online ranker "
            "statistics; replays included).", 0);
        FAM(latency, LTRR_METRICS_HISTOGRAM, "ltrr_learn_redis_seconds",
            "Round trip of one pipelined batch to Redis.", 0);
        FAM(batch, LTRR_METRICS_HISTOGRAM, "ltrr_learn_batch_rewards",
            "Rewards per batch.", 1);
        FAM(age, LTRR_METRICS_GAUGE, "ltrr_learn_lag_seconds",
            "Now minus the event time of the last reward applied.", 0);
        FAM(redis_up, LTRR_METRICS_GAUGE, "ltrr_learn_redis_up",
            "1 while Redis accepts the learner's writes; 0 while "
            "consumption is paused.", 0);
        FAM(rejoins, LTRR_METRICS_COUNTER, "ltrr_learn_rejoins_total",
            "Partition revocations seen (group rebalances, and the one "
            "at close).", 0);
        FAM(pauses, LTRR_METRICS_COUNTER, "ltrr_learn_pauses_total",
            "Redis outages: partitions paused until Redis accepted a "
            "write again.", 0);
        return 0;
}

static void *admin_thread(void *arg)
{
        event_base_dispatch(arg);
        return NULL;
}

static void admin_stop_cb(evutil_socket_t fd, short what, void *arg)
{
        (void)fd;
        (void)what;
        event_base_loopbreak(arg);
}

/* Stops the admin thread's loop. A loopbreak from this thread is lost
 * when the admin thread has not entered event_base_dispatch() yet (the
 * loop clears the flag as it starts: a SIGTERM right after start hung
 * the learner in pthread_join()); an event due now is not. */
static void admin_stop(struct event_base *base, pthread_t thr)
{
        static const struct timeval now = {0, 0};

        if (event_base_once(base, -1, EV_TIMEOUT, admin_stop_cb, base,
                            &now) != 0)
                event_base_loopbreak(base);
        pthread_join(thr, NULL);
}

/* Batches sent and unread while the next is prepared:
 * LEARN_INFLIGHT_MAX, unless the environment sets LTRR_LEARN_INFLIGHT to
 * 0 (serial: send, then wait) or 1 (a benchmark knob). */
static size_t learn_inflight(void)
{
        const char *v = getenv("LTRR_LEARN_INFLIGHT");

        if (v && (!strcmp(v, "0") || !strcmp(v, "1")))
                return (size_t)(*v - '0');
        return LEARN_INFLIGHT_MAX;
}

/* The batch being filled and one array per flight slot; 0 or -1. */
static int learn_alloc(learn_t *ln)
{
        size_t i, cap = (size_t)ln->cf->batch_max;

        ln->batch = calloc(cap, sizeof(*ln->batch));
        if (!ln->batch)
                return -1;
        for (i = 0; i < LEARN_INFLIGHT_MAX; i++) {
                ln->fl[i].recs = calloc(cap, sizeof(*ln->fl[i].recs));
                if (!ln->fl[i].recs)
                        return -1;
        }
        return 0;
}

/* Opens everything the loop needs; 0 or -1 (logged). */
static int learn_open(learn_t *ln, ltrr_metrics_t *reg)
{
        ltrr_learn_conf_t lc;
        char errstr[512];

        if (metrics_init(reg, &ln->m) || learn_conf(ln->cf, &lc))
                return -1;
        ln->pl = ltrr_learn_plan_new(&lc, errstr, sizeof(errstr));
        if (!ln->pl)
                goto err;
        ln->dec = ltrr_avro_decoder_new(
            ln->cf->schemas[0] ? ln->cf->schemas : NULL, errstr,
            sizeof(errstr));
        if (!ln->dec)
                goto err;
        ln->rd = ltrr_redis_new(ln->cf->common.redis_addr,
                                (int)ln->cf->common.redis_timeout_ms,
                                ltrr_learn_lua_apply, errstr, sizeof(errstr));
        if (!ln->rd ||
            ltrr_redis_set_auth(ln->rd, ln->cf->common.redis_user,
                                ln->cf->common.redis_password, errstr,
                                sizeof(errstr)))
                goto err;
        ln->probe = learn_probe_new(ln->cf, errstr, sizeof(errstr));
        if (!ln->probe)
                goto err;
        if (learn_alloc(ln)) {
                snprintf(errstr, sizeof(errstr), "out of memory");
                goto err;
        }
        ln->fl_max = learn_inflight();
        return 0;
err:
        log_error("learn", "start failed", "err", errstr);
        return -1;
}

static void learn_close(learn_t *ln)
{
        size_t i;

        for (i = 0; i < LEARN_INFLIGHT_MAX; i++)
                free(ln->fl[i].recs);
        free(ln->batch);
        ltrr_redis_destroy(ln->rd);
        learn_probe_forget(ln->probe); /* the heartbeat key goes too */
        learn_probe_destroy(ln->probe);
        ltrr_avro_decoder_destroy(ln->dec);
        ltrr_learn_plan_destroy(ln->pl);
}

int main(int argc, char **argv)
{
        ltrr_admin_http_t *adm = NULL;
        struct event_base *base = NULL;
        ltrr_metrics_t *reg = NULL;
        ltrr_config_t *conf;
        pthread_t thr;
        int code = 1, started = 0;
        char errstr[512];
        learn_t ln;

        conf = ltrr_cli_config_load("learn", "Usage: ltrr-learn [options]",
                                    argc, argv, &code);
        if (!conf)
                return code;
        code = 1;
        memset(&ln, 0, sizeof(ln));
        ln.conf = conf;
        ln.cf = ltrr_config_struct(conf);
        signal(SIGTERM, on_signal);
        signal(SIGINT, on_signal);
        signal(SIGPIPE, SIG_IGN);
        evthread_use_pthreads();
        if (!(reg = ltrr_metrics_new(errstr, sizeof(errstr))) ||
            !(base = event_base_new()))
                goto done;
        if (learn_open(&ln, reg))
                goto done;
        adm = ltrr_admin_http_new(base, ln.cf->common.http_addr,
                                  (uint16_t)ln.cf->common.http_port, reg,
                                  learn_health, &ln, errstr, sizeof(errstr));
        if (!adm) {
                log_error("learn", "admin http failed", "err", errstr);
                goto done;
        }
        if (pthread_create(&thr, NULL, admin_thread, base) == 0)
                started = 1;
        log_info("learn", "started", "redis", ln.cf->common.redis_addr,
                 "group", ln.cf->group);
        code = learn_loop_run(&ln);
        log_info("learn", "stopped");
done:
        if (started)
                admin_stop(base, thr);
        ltrr_admin_http_destroy(adm);
        learn_close(&ln);
        if (base)
                event_base_free(base);
        ltrr_metrics_destroy(reg);
        ltrr_config_destroy(conf);
        return code;
}
