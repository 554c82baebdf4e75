/*
 * ltrr - configuration: one table of keys per program.
 *
 * Every program (ltrr-serve, ltrr-broker, ...) describes its settings as a
 * table of rows, like librdkafka's rd_kafka_properties[]: name, type,
 * offset of the field in the program's config struct, bounds, default and
 * description. The table is the common rows (shared by every daemon) plus
 * the program's own rows. The same table validates values, renders
 * `--help`, dumps the effective config with each value's source, and
 * generates docs/CONFIG.md.
 *
 * Layers, later wins:
 *   defaults -> INI file (--config PATH or env LTRR_CONFIG)
 *            -> environment LTRR_<KEY> -> command-line flags.
 *
 * librdkafka properties pass through untouched into a key/value list:
 * INI section [kafka], env LTRR_KAFKA_X_<PROP> and flag -X prop=value.
 *
 * The module is pure: it reads the INI file and the environment given to
 * it, and renders text into allocated strings; it never prints or exits.
 */
#ifndef LTRR_CONFIG_H
#define LTRR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "kvlist.h"

/** Largest INI file read; a bigger file is refused (LTRR_ERR_RANGE). */
#define LTRR_CONFIG_FILE_MAX (1024 * 1024)
/** Longest source description ("path:line", "env NAME"); truncated. */
#define LTRR_CONFIG_WHERE_MAX 160
/** Largest text rendered by help, dump and doc; beyond: NULL. */
#define LTRR_CONFIG_RENDER_MAX (1024 * 1024)

/** @brief Type of a config key; decides the C type of its field. */
typedef enum {
        LTRR_CONFIG_INT = 0,  /**< int */
        LTRR_CONFIG_INT64,    /**< int64_t */
        LTRR_CONFIG_DOUBLE,   /**< double */
        LTRR_CONFIG_BOOL,     /**< bool: true/false, yes/no, on/off, 1/0 */
        LTRR_CONFIG_STRING,   /**< char *, owned by the config object */
        LTRR_CONFIG_ENUM,     /**< int: index into the row's names */
        LTRR_CONFIG_DURATION, /**< int64_t milliseconds; units ms, s, m, h */
        LTRR_CONFIG_SIZE      /**< int64_t bytes; units none, k, M, G (1024) */
} ltrr_config_type_t;

/** @brief Where the current value of a key came from. */
typedef enum {
        LTRR_CONFIG_SRC_DEFAULT = 0, /**< the table's default */
        LTRR_CONFIG_SRC_FILE,        /**< the INI file */
        LTRR_CONFIG_SRC_ENV,         /**< an LTRR_* environment variable */
        LTRR_CONFIG_SRC_FLAG,        /**< a command-line flag */
        LTRR_CONFIG_SRC_API          /**< ltrr_config_set() */
} ltrr_config_src_t;

/** @brief What the program should do after ltrr_config_load(). */
typedef enum {
        LTRR_CONFIG_MODE_RUN = 0, /**< run normally */
        LTRR_CONFIG_MODE_HELP,    /**< print ltrr_config_help() and exit 0 */
        LTRR_CONFIG_MODE_DUMP     /**< print ltrr_config_dump() and exit 0 */
} ltrr_config_mode_t;

/**
 * @brief One row of a config table.
 *
 * For numeric types (int, int64, double, duration, size) @p min and
 * @p max bound the value (duration in ms, size in bytes; exact up to
 * 2^53). For strings, @p max > 0 bounds the length in bytes. Ignored for
 * bool and enum.
 */
typedef struct ltrr_config_prop_s {
        const char *name;         /**< "http.port"; NULL ends a table */
        ltrr_config_type_t type;  /**< value type */
        size_t offset;            /**< field offset in the program struct */
        double min;               /**< lower bound (see above) */
        double max;               /**< upper bound (see above) */
        const char *defval;       /**< default, parsed like any value */
        const char *const *enums; /**< enum names, NULL-terminated */
        const char *desc;         /**< one sentence for help and docs */
} ltrr_config_prop_t;

/** @brief A program's replacement default for a common key. */
typedef struct ltrr_config_default_s {
        const char *name;  /**< common key; NULL ends the list */
        const char *value; /**< default for this program */
} ltrr_config_default_t;

/** @brief A program's table: the common rows plus these. */
typedef struct ltrr_config_program_s {
        const char *name; /**< "serve": binary ltrr-serve, INI [serve] */
        const char *desc; /**< one paragraph for help and docs */
        size_t size;      /**< sizeof the program struct */
        const ltrr_config_prop_t *props;       /**< own rows */
        const ltrr_config_default_t *defaults; /**< may be NULL */
} ltrr_config_program_t;

/**
 * @brief Settings every daemon has. Every program struct begins with a
 * member of this type, so the common rows' offsets hold for all.
 */
typedef struct ltrr_config_common_s {
        char *node_id;            /**< node.id */
        int log_level;            /**< log.level, an ltrr_log_level_t */
        char *http_addr;          /**< http.addr */
        int http_port;            /**< http.port */
        char *kafka_bootstrap;    /**< kafka.bootstrap */
        char *redis_addr;         /**< redis.addr */
        int64_t redis_timeout_ms; /**< redis.timeout */
        char *redis_user;         /**< redis.user */
        char *redis_password;     /**< redis.password */
        bool metrics_enabled;     /**< metrics.enabled */
} ltrr_config_common_t;

/** @brief ltrr-broker: the embedded development Kafka. */
typedef struct ltrr_config_broker_s {
        ltrr_config_common_t common; /**< must come first */
        char *bootstrap_file;        /**< bootstrap.file */
        int brokers;                 /**< brokers */
        int partitions;              /**< partitions */
        char *control;               /**< control */
} ltrr_config_broker_t;

/** @brief ltrr-serve: the search API. */
typedef struct ltrr_config_serve_s {
        ltrr_config_common_t common; /**< must come first */
        int workers;                 /**< workers */
        int k_max;                   /**< k.max */
        char *topic_impressions;     /**< topic.impressions */
        char *index;                 /**< index */
        int q_max;                   /**< q.max */
        int64_t body_max;            /**< body.max */
        int64_t state_timeout_ms;    /**< state.timeout */
        int inflight_max;            /**< inflight.max */
        int rate_max;                /**< rate.max */
        int policy;                  /**< policy, an ltrr_policy_kind_t */
        char *budgets;               /**< bandit.budgets */
        char *menu;                  /**< bandit.menu */
        int total_budget;            /**< bandit.total */
        double shadow_share;         /**< shadow.share */
        double budget_cost;          /**< policy.budget_cost */
        char *baseline;              /**< policy.baseline */
        bool q2e_spelling;           /**< q2e.spelling */
        int64_t drain_timeout_ms;    /**< drain.timeout */
        char *dash_collect_url;      /**< dashboard.collect_url */
        char *dash_join_url;         /**< dashboard.join_url */
        char *dash_learn_url;        /**< dashboard.learn_url */
        int64_t ranker_reload_ms;    /**< ranker.reload */
} ltrr_config_serve_t;

/** @brief ltrr-collect: event ingestion. */
typedef struct ltrr_config_collect_s {
        ltrr_config_common_t common; /**< must come first */
        int64_t body_max;            /**< body.max */
        char *topic_actions;         /**< topic.actions */
        int batch_max;               /**< batch.max */
        int inflight_max;            /**< inflight.max */
        char *api_keys;              /**< api.keys */
        char *api_key;               /**< api.key */
        int skew_rule;               /**< skew.rule */
        int64_t skew_future_ms;      /**< skew.future */
        int64_t skew_past_ms;        /**< skew.past */
        int64_t poll_interval_ms;    /**< poll.interval */
        int64_t drain_timeout_ms;    /**< drain.timeout */
        int64_t health_stall_ms;     /**< health.stall */
} ltrr_config_collect_t;

/** @brief ltrr-join: impressions x actions -> rewards. */
typedef struct ltrr_config_join_s {
        ltrr_config_common_t common; /**< must come first */
        int64_t window_ms;           /**< window */
        int64_t tolerance_ms;        /**< tolerance */
        int64_t idle_ms;             /**< idle */
        int64_t lateness_ms;         /**< lateness */
        int64_t late_horizon_ms;     /**< late.horizon */
        int pending_max;             /**< pending.max */
        int held_max;                /**< held.max */
        char *group;                 /**< group */
        double value_click;          /**< value.click */
        double value_play;           /**< value.play */
        double value_like;           /**< value.like */
        double value_add_to_playlist; /**< value.add_to_playlist */
        double value_share;          /**< value.share */
        double value_skip;           /**< value.skip */
        double value_unknown;        /**< value.unknown */
        char *schemas;               /**< schemas */
} ltrr_config_join_t;

/** @brief ltrr-learn: rewards -> Redis state. */
typedef struct ltrr_config_learn_s {
        ltrr_config_common_t common; /**< must come first */
        int batch_max;               /**< batch.max */
        char *group;                 /**< group */
        char *bandit_arms;           /**< bandit.arms */
        char *bandit_budgets;        /**< bandit.budgets */
        int64_t bandit_half_life_ms; /**< bandit.half_life */
        int64_t dedup_ttl_ms;        /**< dedup.ttl */
        int q2e_max;                 /**< q2e.max */
        int64_t q2e_ttl_ms;          /**< q2e.ttl */
        int profile_recent_max;      /**< profile.recent.max */
        int profile_affinity_max;    /**< profile.affinity.max */
        int64_t profile_ttl_ms;      /**< profile.ttl */
        int pop_max;                 /**< pop.max */
        int64_t pop_half_life_ms;    /**< pop.half_life */
        double ranker_ipw_eta;       /**< ranker.ipw_eta */
        double ranker_ipw_clip;      /**< ranker.ipw_clip */
        char *schemas;               /**< schemas */
} ltrr_config_learn_t;

/** @brief The common rows, ending with a row whose name is NULL. */
extern const ltrr_config_prop_t ltrr_config_common_props[];

/** @brief Every program table, NULL-terminated (one line per program). */
extern const ltrr_config_program_t *const ltrr_config_programs[];

/** @brief Returns the program table named @p name, or NULL. */
const ltrr_config_program_t *ltrr_config_program_find(const char *name);

/** @brief Number of rows of @p prog: common rows plus its own. */
size_t ltrr_config_prop_cnt(const ltrr_config_program_t *prog);

/** @brief Row @p i of @p prog (common rows first), or NULL past the end. */
const ltrr_config_prop_t *ltrr_config_prop_at(const ltrr_config_program_t *prog,
                                              size_t i);

/**
 * @brief The default of @p prop in @p prog (its override if any).
 * @returns a static string, never NULL.
 */
const char *ltrr_config_prop_default(const ltrr_config_program_t *prog,
                                     const ltrr_config_prop_t *prop);

/** @brief Returns true if @p prop is one of the common rows. */
bool ltrr_config_prop_is_common(const ltrr_config_prop_t *prop);

/** @brief Returns the type's name ("int", "duration", ...). */
const char *ltrr_config_type2str(ltrr_config_type_t type);

/**
 * @brief Writes the environment variable of key @p name into @p buf:
 * "LTRR_" + the key upper-cased, dots and hyphens as underscores.
 */
void ltrr_config_env_name(const char *name, char *buf, size_t size);

/**
 * @brief Writes the allowed range of @p prop ("1..65535", "debug, info",
 * "1s..1h", "any") into @p buf.
 */
void ltrr_config_prop_range(const ltrr_config_prop_t *prop, char *buf,
                            size_t size);

typedef struct ltrr_config_s ltrr_config_t;

/**
 * @brief Creates a config for @p prog with every key at its default.
 *
 * Checks the table too (duplicate names, defaults that fail their own
 * validation): a bad table is reported, not run.
 *
 * @returns the config, or NULL with the reason in @p errstr.
 * @remark @p prog must outlive the config (tables are static).
 */
ltrr_config_t *ltrr_config_new(const ltrr_config_program_t *prog, char *errstr,
                               size_t errstr_size);

/** @brief Frees @p conf and every string it owns. NULL is a no-op. */
void ltrr_config_destroy(ltrr_config_t *conf);

/**
 * @brief Applies the layers: INI file, environment, flags.
 *
 * @p argv[0] is the program name and is skipped. Flags: `--key=value`,
 * `--key value` (a hyphen in a key reads as a dot: --bootstrap-file),
 * a bool key alone (`--metrics.enabled`) means true; `-X prop=value`
 * or `-Xprop=value`; `--config PATH`; `--dump-config`; `--help`/`-h`.
 * With --help nothing else is read and the mode is HELP.
 *
 * @p envp is a NULL-terminated "NAME=value" array; NULL means the process
 * environment. Unknown LTRR_* variables are ignored.
 *
 * @returns LTRR_OK; LTRR_ERR_UNKNOWN_KEY, LTRR_ERR_PARSE, LTRR_ERR_RANGE,
 *          LTRR_ERR_IO (missing file), LTRR_ERR_NOMEM, LTRR_ERR_NOSPACE
 *          (too many -X), or LTRR_ERR_STATE if called twice. The errstr
 *          names the key, the value and the source ("config.ini:12",
 *          "env LTRR_HTTP_PORT", "flag --http.port"). On error @p conf
 *          is only fit for ltrr_config_destroy().
 */
ltrr_err_t ltrr_config_load(ltrr_config_t *conf, int argc, char *const *argv,
                            char *const *envp, char *errstr,
                            size_t errstr_size);

/**
 * @brief Sets key @p name from text @p value (source LTRR_CONFIG_SRC_API).
 * @returns LTRR_OK, LTRR_ERR_UNKNOWN_KEY, LTRR_ERR_PARSE, LTRR_ERR_RANGE
 *          or LTRR_ERR_NOMEM; on error the value is unchanged.
 */
ltrr_err_t ltrr_config_set(ltrr_config_t *conf, const char *name,
                           const char *value, char *errstr, size_t errstr_size);

/** @brief The mode requested on the command line. */
ltrr_config_mode_t ltrr_config_mode(const ltrr_config_t *conf);

/** @brief The program table of @p conf. */
const ltrr_config_program_t *ltrr_config_program(const ltrr_config_t *conf);

/**
 * @brief The program struct (ltrr_config_serve_t, ...), owned by @p conf.
 * @remark Read-only; valid until ltrr_config_destroy().
 */
const void *ltrr_config_struct(const ltrr_config_t *conf);

/** @brief The common part of the program struct, owned by @p conf. */
const ltrr_config_common_t *ltrr_config_common(const ltrr_config_t *conf);

/**
 * @brief librdkafka properties collected from [kafka], LTRR_KAFKA_X_* and
 * -X, in that order of precedence (later wins). Owned by @p conf.
 */
const ltrr_kvlist_t *ltrr_config_kafka(const ltrr_config_t *conf);

/** @brief Source of a pass-through property's value, or NULL. */
const char *ltrr_config_kafka_where(const ltrr_config_t *conf,
                                    const char *prop);

/**
 * @brief Writes the current value of key @p name as text, in the form it
 * would be written in a config file ("10s", "64k", "info").
 * @returns LTRR_OK or LTRR_ERR_UNKNOWN_KEY.
 */
ltrr_err_t ltrr_config_value_str(const ltrr_config_t *conf, const char *name,
                                 char *buf, size_t size);

/**
 * @brief Source kind of key @p name's value; if @p where is not NULL it
 * receives the description ("config.ini:12"; "default"), valid until the
 * key changes. Unknown keys yield LTRR_CONFIG_SRC_DEFAULT and "unknown".
 */
ltrr_config_src_t ltrr_config_source(const ltrr_config_t *conf,
                                     const char *name, const char **where);

/**
 * @brief Renders `--help` for @p prog.
 * @returns a NUL-terminated string the caller frees with free(), or NULL
 *          when out of memory.
 */
char *ltrr_config_help(const ltrr_config_program_t *prog);

/**
 * @brief Renders the effective config as INI text, each value followed
 * by its source. Pass-through values of keys that look secret (password,
 * secret, token) are written as [redacted].
 * @returns a string to free(), or NULL when out of memory.
 */
char *ltrr_config_dump(const ltrr_config_t *conf);

/**
 * @brief Renders docs/CONFIG.md: the layers, the INI layout and one table
 * per program (key, type, default, range, env, description).
 * @returns a string to free(), or NULL when out of memory.
 */
char *ltrr_config_doc(void);

#endif /* LTRR_CONFIG_H */
