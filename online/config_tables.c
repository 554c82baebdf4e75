/*
 * ltrr - the config tables of every program.
 *
 * To add a program: define its struct in config.h (beginning with
 * ltrr_config_common_t), its rows here, and one line in
 * ltrr_config_programs[].
 */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>

/*
 * A row's field offset, checked at compile time against the C type the
 * row's type needs: a size mismatch makes a negative array size.
 */
#define FIELD(st, field, ctype)                                                \
        (offsetof(st, field) +                                                 \
         0 * sizeof(char[sizeof(((st *)0)->field) == sizeof(ctype) ? 1 : -1]))

/* clang-format off */
#define ROW(name, type, st, field, ctype, min, max, def, enums, desc)         \
        {name, type, FIELD(st, field, ctype), min, max, def, enums, desc}
#define ROW_INT(name, st, field, min, max, def, desc)                         \
        ROW(name, LTRR_CONFIG_INT, st, field, int, min, max, def, NULL, desc)
#define ROW_STR(name, st, field, maxlen, def, desc)                           \
        ROW(name, LTRR_CONFIG_STRING, st, field, char *, 0, maxlen, def,     \
            NULL, desc)
#define ROW_BOOL(name, st, field, def, desc)                                  \
        ROW(name, LTRR_CONFIG_BOOL, st, field, bool, 0, 1, def, NULL, desc)
#define ROW_ENUM(name, st, field, names, def, desc)                           \
        ROW(name, LTRR_CONFIG_ENUM, st, field, int, 0, 0, def, names, desc)
#define ROW_DURATION(name, st, field, min, max, def, desc)                    \
        ROW(name, LTRR_CONFIG_DURATION, st, field, int64_t, min, max, def,   \
            NULL, desc)
#define ROW_SIZE(name, st, field, min, max, def, desc)                        \
        ROW(name, LTRR_CONFIG_SIZE, st, field, int64_t, min, max, def, NULL, \
            desc)
#define ROW_END {NULL, LTRR_CONFIG_INT, 0, 0, 0, NULL, NULL, NULL}
/* clang-format on */

#define MS_M 60000.0
#define MS_H 3600000.0
#define KIB  1024.0
#define MIB  (1024.0 * 1024.0)

/* Same order as ltrr_log_level_t. */
static const char *const log_levels[] = {"debug", "info", "warn", "error",
                                         NULL};

#define C ltrr_config_common_t
const ltrr_config_prop_t ltrr_config_common_props[] = {
    ROW_STR("node.id", C, node_id, 64, "",
            "Name of this process in records and logs; empty: the host "
            "name."),
    ROW_ENUM("log.level", C, log_level, log_levels, "info",
             "Lowest level of log lines written to stderr."),
    ROW_STR("http.addr", C, http_addr, 255, "127.0.0.1",
            "Address the HTTP listener binds (API, /metrics, /healthz)."),
    ROW_INT("http.port", C, http_port, 0, 65535, "8080",
            "TCP port of the HTTP listener; 0 picks a free port."),
    ROW_STR("kafka.bootstrap", C, kafka_bootstrap, 1024, "127.0.0.1:9092",
            "Kafka bootstrap servers, host:port[,host:port...]."),
    ROW_STR("redis.addr", C, redis_addr, 255, "127.0.0.1:6379",
            "Redis server, host:port."),
    ROW_DURATION("redis.timeout", C, redis_timeout_ms, 1, 10 * MS_M, "500ms",
                 "Connect and command timeout for Redis."),
    ROW_STR("redis.user", C, redis_user, 64, "",
            "Redis ACL user sent with AUTH on connect; empty: the default "
            "user."),
    ROW_STR("redis.password", C, redis_password, 255, "",
            "Redis password sent with AUTH on connect; empty: no AUTH. "
            "Prefer the environment (LTRR_REDIS_PASSWORD) to a file."),
    ROW_BOOL("metrics.enabled", C, metrics_enabled, "true",
             "Serve Prometheus metrics at /metrics on the HTTP port."),
    ROW_END,
};
#undef C

#define B ltrr_config_broker_t
static const ltrr_config_prop_t broker_props[] = {
    ROW_STR("bootstrap.file", B, bootstrap_file, 4096, "",
            "File the broker writes its bootstrap address to once it "
            "is ready; empty: none."),
    ROW_INT("brokers", B, brokers, 1, 16, "3", "Brokers in the cluster."),
    ROW_INT("partitions", B, partitions, 1, 1024, "6",
            "Partitions of each topic it creates."),
    ROW_STR("control", B, control, 107, "",
            "Unix socket path of the control channel (fault "
            "injection); empty: none."),
    ROW_END,
};
#undef B

/* ltrr-serve, -collect, -join and -learn: their own issues extend them. */
#define S ltrr_config_serve_t
/* Same order as ltrr_policy_kind_t. */
static const char *const serve_policies[] = {"egreedy", "thompson", "linucb",
                                             "lints", "subsets", NULL};
static const ltrr_config_prop_t serve_props[] = {
    ROW_INT("workers", S, workers, 1, 64, "2",
            "Worker threads, each with its own event base."),
    ROW_INT("k.max", S, k_max, 1, 1000, "100",
            "Largest number of results a query may ask for."),
    ROW_STR("topic.impressions", S, topic_impressions, 249, "ltrr.impressions",
            "Topic impressions are published to."),
    ROW_STR("index", S, index, 4096, "",
            "Index file built by ltrr-index; reloaded on SIGHUP."),
    ROW_INT("q.max", S, q_max, 1, 1024, "256",
            "Longest query accepted, in bytes; longer gets 400."),
    ROW_SIZE("body.max", S, body_max, 1 * KIB, 1 * MIB, "16k",
             "Largest POST body accepted; larger gets 413."),
    ROW_DURATION("state.timeout", S, state_timeout_ms, 1, 10000, "5ms",
                 "Wait for a query's Redis state; after it the query is "
                 "answered from cached state, degraded."),
    ROW_INT("inflight.max", S, inflight_max, 1, 100000, "1024",
            "Queries waiting for state per worker; beyond it 429."),
    ROW_INT("rate.max", S, rate_max, 0, 10000000, "0",
            "Queries per second per worker; beyond it 429; 0: no limit."),
    ROW_ENUM("policy", S, policy, serve_policies, "subsets",
             "Bandit policy of queries without a policy parameter "
             "(subsets: Thompson sampling over a menu of arm subsets)."),
    ROW_STR("bandit.budgets", S, budgets, 255, "10,25,50,100",
            "Budget levels of the bandit space, ascending, comma "
            "separated."),
    ROW_STR("bandit.menu", S, menu, 1023, "",
            "Menu of the subsets policy: entries separated by ';', each "
            "arm:budget pairs joined by '+' (\"*:10\" is every arm at 10); "
            "entries may share a pair but not run the same set; budgets "
            "must be levels of bandit.budgets. Empty: the built-in menu "
            "(docs/BANDIT.md)."),
    ROW_INT("bandit.total", S, total_budget, 1, 4096, "100",
            "Total candidate budget of a query over all arms."),
    ROW("shadow.share", LTRR_CONFIG_DOUBLE, S, shadow_share, double, 0, 1,
        "0.01", NULL,
        "Share of queries on which every arm runs and is logged."),
    ROW("policy.budget_cost", LTRR_CONFIG_DOUBLE, S, budget_cost, double, 0,
        1, "0.006", NULL,
        "Price of one candidate in the bandit's score units: an arm runs "
        "at a budget only when its expected reward exceeds budget times "
        "this, so arms that do not earn their candidates stop."),
    ROW_STR("policy.baseline", S, baseline, 31, "none",
            "Arm that runs on every query at least at the smallest "
            "budget, or none: every arm is the policy's choice (it still "
            "never decides zero arms)."),
    ROW_BOOL("q2e.spelling", S, q2e_spelling, "true",
             "A query with words the index does not know also reads the "
             "Q2E memory of its spelling correction (each word one edit "
             "from the most common dictionary term), pooled with its own."),
    ROW_DURATION("drain.timeout", S, drain_timeout_ms, 0, 10 * MS_M, "10s",
                 "Longest wait for queries in flight on SIGTERM."),
    ROW_STR("dashboard.collect_url", S, dash_collect_url, 255, "",
            "Base URL of ltrr-collect whose /metrics the dashboard "
            "scrapes; empty: not shown."),
    ROW_STR("dashboard.join_url", S, dash_join_url, 255, "",
            "Base URL of ltrr-join whose /metrics the dashboard scrapes; "
            "empty: not shown."),
    ROW_STR("dashboard.learn_url", S, dash_learn_url, 255, "",
            "Base URL of ltrr-learn whose /metrics the dashboard scrapes; "
            "empty: not shown."),
    ROW_DURATION("ranker.reload", S, ranker_reload_ms, 0, MS_M, "200ms",
                 "Shortest time between two fetches of the online ranker "
                 "statistics per worker (fetched when their count moved)."),
    ROW_END,
};
#undef S

#define CO ltrr_config_collect_t
/* Same order as ltrr_event_skew_rule_t. */
static const char *const skew_rules[] = {"clamp", "reject", NULL};
static const ltrr_config_prop_t collect_props[] = {
    ROW_SIZE("body.max", CO, body_max, 1 * KIB, 16 * MIB, "64k",
             "Largest request body accepted; larger gets 413."),
    ROW_STR("topic.actions", CO, topic_actions, 249, "ltrr.actions",
            "Topic actions are published to."),
    ROW_INT("batch.max", CO, batch_max, 1, 10000, "1000",
            "Most events in one request; more gets 413."),
    ROW_INT("inflight.max", CO, inflight_max, 1, 100000, "2048",
            "Most requests waiting for Kafka acknowledgements; beyond it "
            "503 with Retry-After."),
    ROW_STR("api.keys", CO, api_keys, 262144, "",
            "API keys, comma separated app_id:sha256hex[:rate], rate in "
            "requests/s (0 or absent: unlimited)."),
    ROW_STR("api.key", CO, api_key, 512, "",
            "Development only: one plain-text key for app \"dev\", "
            "hashed at load (the dev stack sets LTRR_API_KEY)."),
    ROW_ENUM("skew.rule", CO, skew_rule, skew_rules, "clamp",
             "Event times beyond skew.future/skew.past are clamped to the "
             "bound or rejected."),
    ROW_DURATION("skew.future", CO, skew_future_ms, 0, 24 * MS_H, "5m",
                 "How far ahead of the receive time an event time may be."),
    ROW_DURATION("skew.past", CO, skew_past_ms, 0, 30 * 24 * MS_H, "24h",
                 "How far behind the receive time an event time may be."),
    ROW_DURATION("poll.interval", CO, poll_interval_ms, 1, 100, "1ms",
                 "Delivery reports are served this often while records are "
                 "in flight."),
    ROW_DURATION("drain.timeout", CO, drain_timeout_ms, 0, 10 * MS_M, "10s",
                 "On SIGTERM, how long to wait for requests in flight."),
    ROW_DURATION("health.stall", CO, health_stall_ms, 100, 10 * MS_M, "10s",
                 "/healthz turns 503 when records are in flight and none "
                 "was acknowledged for this long."),
    ROW_END,
};
#undef CO

#define J ltrr_config_join_t
#define JOIN_VALUE(type, field, def, what)                                    \
        ROW("value." type, LTRR_CONFIG_DOUBLE, J, field, double, -100.0,     \
            100.0, def, NULL, "Reward value of " what ".")
static const ltrr_config_prop_t join_props[] = {
    ROW_DURATION("window", J, window_ms, 1, 24 * MS_H, "10m",
                 "Attribution window after an impression."),
    ROW_DURATION("tolerance", J, tolerance_ms, 0, MS_H, "2m",
                 "How long before its impression an action may arrive."),
    ROW_DURATION("idle", J, idle_ms, 1, MS_H, "30s",
                 "Quiet time after which a partition's watermark "
                 "advances by wall clock."),
    ROW_DURATION("lateness", J, lateness_ms, 0, MS_H, "5s",
                 "Allowed lateness: each watermark is the partition's "
                 "largest event time minus this."),
    ROW_DURATION("late.horizon", J, late_horizon_ms, 0, 24 * MS_H, "10m",
                 "How long after its window an impression still takes "
                 "actions as late (engagement only); later: dangling."),
    ROW_INT("pending.max", J, pending_max, 1, 16 * 1024 * 1024, "100000",
            "Pending impressions per partition; when full the oldest is "
            "decided as no_action at once and counted as evicted."),
    ROW_INT("held.max", J, held_max, 1, 16 * 1024 * 1024, "10000",
            "Actions per partition held for an impression not yet read; "
            "when full the oldest becomes dangling."),
    ROW_STR("group", J, group, 255, "ltrr-join", "Kafka consumer group."),
    JOIN_VALUE("click", value_click, "1", "a click"),
    JOIN_VALUE("play", value_play, "3", "a play"),
    JOIN_VALUE("like", value_like, "2", "a like"),
    JOIN_VALUE("add_to_playlist", value_add_to_playlist, "2.5",
               "an add to playlist"),
    JOIN_VALUE("share", value_share, "2.5", "a share"),
    JOIN_VALUE("skip", value_skip, "-1", "a skip (negative)"),
    JOIN_VALUE("unknown", value_unknown, "0",
               "an action type this build does not know"),
    ROW_STR("schemas", J, schemas, 1023, "",
            "Directory of the Avro schemas (*.avsc) records are checked "
            "against; empty: the schemas/ directory of the source tree "
            "the program was built from."),
    ROW_END,
};
#undef JOIN_VALUE
#undef J

#define L ltrr_config_learn_t
static const ltrr_config_prop_t learn_props[] = {
    ROW_INT("batch.max", L, batch_max, 1, 100000, "2048",
            "Rewards applied per pipelined Redis batch."),
    ROW_STR("group", L, group, 255, "ltrr-learn", "Kafka consumer group."),
    ROW_STR("bandit.arms", L, bandit_arms, 255,
            "lexical,popular,structured,fuzzy,semantic,memory,personal,fresh",
            "Arm names of the bandit space, comma separated (as serve)."),
    ROW_STR("bandit.budgets", L, bandit_budgets, 255, "10,25,50,100",
            "Budget levels of the bandit space, ascending, comma "
            "separated."),
    ROW_DURATION("bandit.half_life", L, bandit_half_life_ms, 0,
                 365 * 24 * MS_H, "168h",
                 "Half-life of bandit statistics; 0: no decay."),
    ROW_DURATION("dedup.ttl", L, dedup_ttl_ms, 1000, 30 * 24 * MS_H, "24h",
                 "Life of a deduplication bitmap segment after its last "
                 "update; replays older than this apply twice."),
    ROW_INT("q2e.max", L, q2e_max, 1, 100000, "200",
            "Entities kept per query in Q2E memory (lowest trimmed)."),
    ROW_DURATION("q2e.ttl", L, q2e_ttl_ms, 1000, 365 * 24 * MS_H, "720h",
                 "A query's Q2E memory expires after this without traffic."),
    ROW_INT("profile.recent.max", L, profile_recent_max, 1, 10000, "50",
            "Recent entities kept per user."),
    ROW_INT("profile.affinity.max", L, profile_affinity_max, 1, 10000,
            "200", "Entity affinities kept per user."),
    ROW_DURATION("profile.ttl", L, profile_ttl_ms, 1000, 365 * 24 * MS_H,
                 "2160h", "A user profile expires after this without updates."),
    ROW_INT("pop.max", L, pop_max, 1, 10000000, "100000",
            "Entities kept in the popularity set."),
    ROW_DURATION("pop.half_life", L, pop_half_life_ms, 0, 365 * 24 * MS_H,
                 "24h", "Half-life of popularity counts; 0: no decay."),
    ROW("ranker.ipw_eta", LTRR_CONFIG_DOUBLE, L, ranker_ipw_eta, double,
        0.1, 4, "1", NULL,
        "Online ranker: the examination model P(position p) = (1/p)^eta "
        "of the position-bias correction (1-based p)."),
    ROW("ranker.ipw_clip", LTRR_CONFIG_DOUBLE, L, ranker_ipw_clip, double,
        1, 1000, "10", NULL,
        "Online ranker: largest inverse propensity of a click label."),
    ROW_STR("schemas", L, schemas, 1023, "",
            "Directory of the Avro schemas (*.avsc) records are checked "
            "against; empty: the schemas/ directory of the source tree "
            "the program was built from."),
    ROW_END,
};
#undef L

static const ltrr_config_default_t broker_defaults[] = {{"http.port", "8090"},
                                                        {NULL, NULL}};
static const ltrr_config_default_t collect_defaults[] = {{"http.port", "8081"},
                                                         {NULL, NULL}};
static const ltrr_config_default_t join_defaults[] = {{"http.port", "8082"},
                                                      {NULL, NULL}};
static const ltrr_config_default_t learn_defaults[] = {{"http.port", "8083"},
                                                       {NULL, NULL}};

_Static_assert(offsetof(ltrr_config_broker_t, common) == 0, "common first");
_Static_assert(offsetof(ltrr_config_serve_t, common) == 0, "common first");
_Static_assert(offsetof(ltrr_config_collect_t, common) == 0, "common first");
_Static_assert(offsetof(ltrr_config_join_t, common) == 0, "common first");
_Static_assert(offsetof(ltrr_config_learn_t, common) == 0, "common first");

static const ltrr_config_program_t prog_broker = {
    "broker",
    "The embedded development Kafka (librdkafka's mock cluster), for "
    "the demo and tests.",
    sizeof(ltrr_config_broker_t), broker_props, broker_defaults};
static const ltrr_config_program_t prog_serve = {
    "serve",
    "HTTP search API: runs the bandit, the arms and the ranker; "
    "publishes impressions.",
    sizeof(ltrr_config_serve_t), serve_props, NULL};
static const ltrr_config_program_t prog_collect = {
    "collect",
    "HTTP event ingestion for apps: validates and publishes actions.",
    sizeof(ltrr_config_collect_t), collect_props, collect_defaults};
static const ltrr_config_program_t prog_join = {
    "join", "Joins impressions with actions into rewards.",
    sizeof(ltrr_config_join_t), join_props, join_defaults};
static const ltrr_config_program_t prog_learn = {
    "learn", "Applies rewards to Redis state, exactly once in effect.",
    sizeof(ltrr_config_learn_t), learn_props, learn_defaults};

const ltrr_config_program_t *const ltrr_config_programs[] = {
    &prog_broker, &prog_serve, &prog_collect, &prog_join, &prog_learn, NULL,
};

const ltrr_config_program_t *ltrr_config_program_find(const char *name)
{
        size_t i;

        for (i = 0; ltrr_config_programs[i]; i++)
                if (!strcmp(ltrr_config_programs[i]->name, name))
                        return ltrr_config_programs[i];
        return NULL;
}

/*
 * Table helpers: rows of a program are the common rows, then its own.
 */

static const char *const type_names[] = {"int",    "int64", "double",   "bool",
                                         "string", "enum",  "duration", "size"};

static size_t props_len(const ltrr_config_prop_t *props)
{
        size_t n = 0;

        while (props && props[n].name)
                n++;
        return n;
}

size_t ltrr_config_prop_cnt(const ltrr_config_program_t *prog)
{
        return props_len(ltrr_config_common_props) + props_len(prog->props);
}

const ltrr_config_prop_t *ltrr_config_prop_at(const ltrr_config_program_t *prog,
                                              size_t i)
{
        size_t ncommon = props_len(ltrr_config_common_props);

        if (i < ncommon)
                return &ltrr_config_common_props[i];
        if (i - ncommon < props_len(prog->props))
                return &prog->props[i - ncommon];
        return NULL;
}

bool ltrr_config_prop_is_common(const ltrr_config_prop_t *prop)
{
        size_t n = props_len(ltrr_config_common_props);

        return prop >= ltrr_config_common_props &&
               prop < ltrr_config_common_props + n;
}

const char *ltrr_config_prop_default(const ltrr_config_program_t *prog,
                                     const ltrr_config_prop_t *prop)
{
        const ltrr_config_default_t *d;

        for (d = prog->defaults; d && d->name; d++)
                if (ltrr_config_prop_is_common(prop) &&
                    !strcmp(d->name, prop->name))
                        return d->value;
        return prop->defval ? prop->defval : "";
}

const char *ltrr_config_type2str(ltrr_config_type_t type)
{
        if ((unsigned)type >= sizeof(type_names) / sizeof(type_names[0]))
                return "unknown";
        return type_names[type];
}

void ltrr_config_env_name(const char *name, char *buf, size_t size)
{
        size_t i, o = 0;

        if (size == 0)
                return;
        for (i = 0; o + 1 < size && "LTRR_"[i]; i++)
                buf[o++] = "LTRR_"[i];
        for (i = 0; name[i] && o + 1 < size; i++) {
                char c = name[i];
                buf[o++] = (c == '.' || c == '-')
                               ? '_'
                               : (char)toupper((unsigned char)c);
        }
        buf[o] = '\0';
}
