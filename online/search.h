/*
 * ltrr - the search pipeline of one query, without I/O.
 *
 * A query goes through two calls with a state fetch between them:
 *
 *   ltrr_search_prepare()  validates the request, analyzes and tags the
 *                          query and computes its context features; the
 *                          Redis keys of its fresh state follow from it
 *                          (ltrr_search_keys()).
 *   ltrr_search_state_*()  (search_state.c) turn the Redis replies into
 *                          the state the pipeline reads.
 *   ltrr_search_run()      decides arms and budgets, runs the arms,
 *                          unions and ranks the candidates, and fills the
 *                          results and the Impression record.
 *
 * A search handle (short name: se) holds one thread's analyzer, tagger
 * scratch, arm scratch, policies and ranker. A query object (sq) holds
 * everything of one request, so a thread may have many queries waiting
 * for their state at once. docs/SERVE.md describes the API built on it.
 */
#ifndef LTRR_SEARCH_H
#define LTRR_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "bandit.h"
#include "bstats.h"
#include "err.h"
#include "index.h"
#include "qu.h"
#include "ranker_online.h"
#include "records.h"
#include "text.h"

/** Longest raw query accepted, in bytes (a request may set less). */
#define LTRR_SEARCH_Q_MAX 1024
/** Largest k (results) of one query. */
#define LTRR_SEARCH_K_MAX 1000
/** Query tokens analyzed; later tokens are ignored. */
#define LTRR_SEARCH_TOKENS_MAX 32
/** Bytes of the normalized query, NUL included. */
#define LTRR_SEARCH_NORM_MAX 512
/** Most candidates of one query over all arms. */
#define LTRR_SEARCH_CANDS_MAX 4096
/** Entity affinities read per query: the largest, as many as the
 *  personal arm's profile takes (LTRR_ARM_PROFILE_ENTS_MAX). */
#define LTRR_SEARCH_PROFILE_READ 128
/** Q2E entries, seen entities and popularity entries kept per query. */
#define LTRR_SEARCH_STATE_LIST_MAX 256
/** Longest user, session or language string kept, NUL included. */
#define LTRR_SEARCH_ID_MAX 129
/** Longest Redis key built, NUL included. */
#define LTRR_SEARCH_KEY_MAX 640
/** Longest node id kept, NUL included. */
#define LTRR_SEARCH_NODE_MAX 65
/** The ranker model blob key and its version key (one slot). */
#define LTRR_SEARCH_RANKER_KEY "ltrr:ranker:{ranker}"
#define LTRR_SEARCH_RANKER_VERSION_KEY "ltrr:ranker:{ranker}:version"

/** @brief How the arms of a query are chosen. */
typedef enum {
        LTRR_SEARCH_MODE_LEARNED = 0, /**< the configured policy */
        LTRR_SEARCH_MODE_STATIC = 1,  /**< a fixed arm set, budget split */
        LTRR_SEARCH_MODE_UNIFORM = 2, /**< a uniform random non-empty set */
        LTRR_SEARCH_MODE__CNT = 3
} ltrr_search_mode_t;

/** @brief Stages timed per query (ltrr_search_out_t.stage_us). */
typedef enum {
        LTRR_SEARCH_STAGE_ANALYZE = 0, /**< analysis, QU, features */
        LTRR_SEARCH_STAGE_DECIDE = 1,  /**< the policy */
        LTRR_SEARCH_STAGE_ARMS = 2,    /**< arms and union */
        LTRR_SEARCH_STAGE_RANK = 3,    /**< ranker features, scores, top-k */
        LTRR_SEARCH_STAGE__CNT = 4
} ltrr_search_stage_t;

/** @brief Configuration; start from ltrr_search_conf_init(). */
typedef struct ltrr_search_conf_s {
        ltrr_policy_kind_t policy;  /**< the learned policy */
        unsigned budgets[LTRR_BANDIT_MAX_BUDGETS]; /**< ascending levels */
        size_t n_budgets;           /**< entries in budgets */
        unsigned total_budget;      /**< candidates over all arms */
        unsigned mc_samples;        /**< Monte-Carlo draws of the policy */
        int mc_cache;               /**< 1 (default): reuse a bucket's
                                       propensities while its statistics
                                       do not change (bandit.h,
                                       ltrr_policy_decide_cached) */
        double shadow_share;        /**< [0, 1]: queries run on all arms */
        double q2e_alpha;           /**< Q2E prior strength (q2e.h) */
        int q2e_spelling;           /**< 1 (default): a query with words
                                       the index does not know also reads
                                       the Q2E memory of its spelling
                                       correction (spell.h) */
        const char *node_id;        /**< logged node id; copied */
        const char *langs;          /**< feature languages ("en,es");
                                       copied; NULL: the feature default */
        double budget_cost;         /**< policy score cost per candidate
                                       of budget, >= 0 (default 0.006;
                                       ltrr_policy_conf_t.budget_cost) */
        const char *menu;           /**< menu of the subsets policy
                                       (ltrr_policy_conf_t.subsets); NULL
                                       or "": the built-in menu */
        const char *baseline;       /**< arm that always runs (at least
                                       the smallest budget): a registered
                                       arm name, or NULL / "none" (the
                                       default): every arm is optional */
} ltrr_search_conf_t;

/** @brief One request, as parsed from HTTP. Strings are copied. */
typedef struct ltrr_search_req_s {
        const char *q;              /**< raw query, not NUL-terminated */
        size_t q_len;               /**< bytes of q */
        size_t q_max;               /**< longest q accepted, <= Q_MAX */
        const char *user_id;        /**< NULL or "": anonymous */
        const char *session_id;     /**< NULL when absent */
        const char *lang;           /**< NULL: the index's language */
        unsigned k;                 /**< results wanted, 1..k_max */
        unsigned k_max;             /**< largest k accepted */
        ltrr_search_mode_t mode;    /**< how arms are chosen */
        uint32_t arms;              /**< static mode: registry id bits */
        int64_t now_ms;             /**< request time, epoch ms */
        ltrr_id128_t impression_id; /**< fresh random id */
        int cpu_times;              /**< 1: also fill stage_cpu_us (the
                                       thread CPU clock is a system call,
                                       ~1 µs per stage: for debug) */
} ltrr_search_req_t;

/** @brief The Redis keys of one query's fresh state ("" when unused). */
typedef struct ltrr_search_keys_s {
        char bandit[LTRR_SEARCH_KEY_MAX];   /**< HGETALL: statistics */
        char q2e[LTRR_SEARCH_KEY_MAX];      /**< ZREVRANGE: Q2E scores */
        char q2e_meta[LTRR_SEARCH_KEY_MAX]; /**< HGET n: impressions */
        char q2e_alt[LTRR_SEARCH_KEY_MAX];  /**< ZREVRANGE: Q2E scores of
                                               the spelling correction */
        char q2e_alt_meta[LTRR_SEARCH_KEY_MAX]; /**< HGET n: its
                                                   impressions */
        char recent[LTRR_SEARCH_KEY_MAX];   /**< ZREVRANGE: seen entities */
        char affinity[LTRR_SEARCH_KEY_MAX]; /**< ZREVRANGE 0 ..PROFILE_READ-1
                                               WITHSCORES: the profile */
} ltrr_search_keys_t;

/** @brief One ranked result. */
typedef struct ltrr_search_hit_s {
        uint32_t ent;  /**< entity index in the index */
        float score;   /**< ranker score */
        uint32_t arms; /**< bit i: registry arm i found it */
        float q2e;     /**< Q2E score used for it */
} ltrr_search_hit_t;

/** @brief What ltrr_search_run() produced; valid until the next run on
 *  the same query object, and only while the index lives. */
typedef struct ltrr_search_out_s {
        const ltrr_search_hit_t *hits;  /**< ranked, best first */
        size_t hit_cnt;                 /**< entries in hits, <= k */
        const ltrr_decision_t *dec;     /**< policy decision (arm index =
                                           registry id) */
        const ltrr_impression_t *imp;   /**< the record to publish */
        const ltrr_ranker_input_t *rankers; /**< imp->result_cnt entries:
                                           what the ranker scored for each
                                           result (the first positions;
                                           present false after), or NULL */
        int shadow;                     /**< 1: all arms ran */
        int degraded;                   /**< 1: the state was stale */
        size_t cands;                   /**< union size before ranking */
        double stage_us[LTRR_SEARCH_STAGE__CNT]; /**< per-stage time */
        double stage_cpu_us[LTRR_SEARCH_STAGE__CNT]; /**< per-stage CPU
                                           time of the calling thread, 0
                                           unless req.cpu_times */
} ltrr_search_out_t;

/** Opaque per-thread search handle (short name: se). */
typedef struct ltrr_search_s ltrr_search_t;
/** Opaque per-request query object (short name: sq). */
typedef struct ltrr_search_query_s ltrr_search_query_t;

/** @brief Sets the defaults: Thompson, budgets 10,25,50,100, total 100,
 *  128 draws, shadow share 0.01, Q2E alpha 1, popularity half-life 1 day. */
void ltrr_search_conf_init(ltrr_search_conf_t *conf);

/**
 * @brief Creates a search handle: the bandit space is the registered
 *        arms (the first LTRR_BANDIT_MAX_ARMS) with the budgets.
 * @returns the handle, or NULL with the reason in @p errstr.
 * @remark @locality one thread at a time.
 */
ltrr_search_t *ltrr_search_new(const ltrr_search_conf_t *conf, char *errstr,
                               size_t errstr_size);

/** @brief Frees @p se; NULL is a no-op. */
void ltrr_search_destroy(ltrr_search_t *se);

/** @brief The bandit space of @p se (arm index = registry id). */
const ltrr_bandit_space_t *ltrr_search_space(const ltrr_search_t *se);

/**
 * @brief Replaces the base ranker model with @p blob
 *        (ltrr_ranker_serialize() form) and records @p version; online
 *        statistics applied before stay applied on top of it. On error
 *        the old model stays.
 * @returns LTRR_OK or the deserializer's error.
 */
ltrr_err_t ltrr_search_ranker_load(ltrr_search_t *se, const void *blob,
                                   size_t len, const char *version,
                                   char *errstr, size_t errstr_size);

/** @brief The version of the ranker in use ("" for the built-in one). */
const char *ltrr_search_ranker_version(const ltrr_search_t *se);

/**
 * @brief Applies online ranker statistics (docs/RANKER.md, "Online
 *        updates"): the model in use becomes the base model (the loaded
 *        blob or the built-in weights) plus the closed-form weights of
 *        @p st; a later ltrr_search_ranker_load() keeps them applied.
 * @returns LTRR_OK; LTRR_ERR_INVALID_ARG (statistics not finite) or
 *          LTRR_ERR_NOMEM, and the model in use stays.
 */
ltrr_err_t ltrr_search_ranker_online(ltrr_search_t *se,
                                     const ltrr_ranker_stats_t *st,
                                     char *errstr, size_t errstr_size);

/** @brief The rewards count of the online statistics in use, or -1. */
int64_t ltrr_search_ranker_online_count(const ltrr_search_t *se);

/** @brief Creates a query object for @p se. NULL on OOM. */
ltrr_search_query_t *ltrr_search_query_new(const ltrr_search_t *se,
                                           char *errstr, size_t errstr_size);

/** @brief Frees @p sq; NULL is a no-op. */
void ltrr_search_query_destroy(ltrr_search_query_t *sq);

/**
 * @brief Validates and analyzes a request into @p sq.
 * @param ix the index the query will run on, asked which query words it
 *           knows (the q_unknown_word feature); NULL: every word known.
 * @param qu the index's QU dictionary, or NULL (intent "ambiguous").
 * @returns LTRR_OK; LTRR_ERR_INVALID_ARG (missing or empty q, a query
 *          without any token, bad static arm set), LTRR_ERR_RANGE (q
 *          too long, k out of range, an id too long) or LTRR_ERR_PARSE
 *          (q is not valid UTF-8); the reason, fit for a client, is in
 *          @p errstr.
 */
ltrr_err_t ltrr_search_prepare(ltrr_search_t *se, const ltrr_index_t *ix,
                               const ltrr_qu_dict_t *qu,
                               const ltrr_search_req_t *req,
                               ltrr_search_query_t *sq, char *errstr,
                               size_t errstr_size);

/** @brief The normalized query of a prepared @p sq. */
const char *ltrr_search_query_norm(const ltrr_search_query_t *sq);

/** @brief The spelling correction of a prepared @p sq's normalized
 *         query (spell.h), "" when it has none. */
const char *ltrr_search_query_alt(const ltrr_search_query_t *sq);

/** @brief The context bucket of a prepared @p sq. */
uint32_t ltrr_search_query_bucket(const ltrr_search_query_t *sq);

/**
 * @brief Formats the Redis keys of a prepared query's state.
 * @returns LTRR_OK or LTRR_ERR_NOSPACE / LTRR_ERR_RANGE from the key
 *          formatters (such a part is left "" and not fetched).
 */
ltrr_err_t ltrr_search_keys(const ltrr_search_t *se,
                            const ltrr_search_query_t *sq,
                            ltrr_search_keys_t *keys, char *errstr,
                            size_t errstr_size);

/*
 * Fresh state (online/search_state.c): what one query read from Redis.
 * Each call parses one reply; a part never given stays empty. Replies
 * are flat string arrays as Redis sends them.
 */

/** Opaque fresh state of one query (short name: st). */
typedef struct ltrr_search_state_s ltrr_search_state_t;

/**
 * @brief Creates empty state for the statistics of space @p sp.
 * @param q2e_alpha Q2E prior strength (ltrr_q2e_blend()).
 * @returns the state, or NULL with the reason in @p errstr.
 */
ltrr_search_state_t *ltrr_search_state_new(const ltrr_bandit_space_t *sp,
                                           double q2e_alpha, char *errstr,
                                           size_t errstr_size);

/** @brief Frees @p st; NULL is a no-op. */
void ltrr_search_state_destroy(ltrr_search_state_t *st);

/** @brief Empties every part and clears the degraded mark. */
void ltrr_search_state_reset(ltrr_search_state_t *st);

/**
 * @brief Bandit statistics from an HGETALL reply (field, value, ...).
 * @returns LTRR_OK or LTRR_ERR_PARSE (the statistics are then empty).
 */
ltrr_err_t ltrr_search_state_bandit(ltrr_search_state_t *st,
                                    const char *const *fv, size_t n,
                                    char *errstr, size_t errstr_size);

/**
 * @brief Q2E scores from ZREVRANGE .. WITHSCORES (entity, score, ...)
 *        and the meta hash's n (NULL when absent). Entries past
 *        LTRR_SEARCH_STATE_LIST_MAX are ignored.
 * @returns LTRR_OK or LTRR_ERR_PARSE (odd count, a bad number); the
 *          Q2E part is then empty.
 */
ltrr_err_t ltrr_search_state_q2e(ltrr_search_state_t *st,
                                 const char *const *mv, size_t n,
                                 const char *impressions, char *errstr,
                                 size_t errstr_size);

/**
 * @brief Q2E scores and impressions of the query's spelling correction
 *        (ltrr_search_keys_t.q2e_alt), as ltrr_search_state_q2e(). They
 *        are pooled with the query's own: an entity's sums add up, and
 *        so do the impressions.
 * @returns as ltrr_search_state_q2e().
 */
ltrr_err_t ltrr_search_state_q2e_alt(ltrr_search_state_t *st,
                                     const char *const *mv, size_t n,
                                     const char *impressions, char *errstr,
                                     size_t errstr_size);

/**
 * @brief The user's recent entities from ZREVRANGE .. WITHSCORES: the
 *        ranker's `user_seen`, and the profile when no affinity was read.
 * @returns LTRR_OK or LTRR_ERR_PARSE (the part is then empty).
 */
ltrr_err_t ltrr_search_state_recent(ltrr_search_state_t *st,
                                    const char *const *mv, size_t n,
                                    char *errstr, size_t errstr_size);

/**
 * @brief The user's largest entity affinities from ZREVRANGE ..
 *        WITHSCORES (the sums of engagement values the learner keeps):
 *        the personal arm's profile, weighted by them.
 * @returns LTRR_OK or LTRR_ERR_PARSE (the part is then empty).
 */
ltrr_err_t ltrr_search_state_affinity(ltrr_search_state_t *st,
                                      const char *const *mv, size_t n,
                                      char *errstr, size_t errstr_size);

/** @brief Marks the state as stale (cached or missing): `degraded`. */
void ltrr_search_state_set_degraded(ltrr_search_state_t *st, int degraded);

/** @brief 1 if the state was marked degraded. */
int ltrr_search_state_degraded(const ltrr_search_state_t *st);

/** @brief The bandit statistics (empty unless parsed). */
const ltrr_bstats_t *ltrr_search_state_bstats(const ltrr_search_state_t *st);

/** @brief Q2E score of entity @p id for the query (blended), or 0. */
float ltrr_search_state_q2e_score(const ltrr_search_state_t *st,
                                  const char *id);

/** @brief Number of Q2E entries held. */
size_t ltrr_search_state_q2e_count(const ltrr_search_state_t *st);

/** @brief 1 if the user engaged with entity @p id recently. */
int ltrr_search_state_seen(const ltrr_search_state_t *st, const char *id);

/*
 * Entity id lookup: Redis state names entities by id, the arms by their
 * position in the index. One map per loaded index, shared read-only.
 */

/** Opaque id -> entity index map of one index (short name: ids). */
typedef struct ltrr_search_ids_s ltrr_search_ids_t;

/**
 * @brief Builds the id map of every entity of @p ix (open addressing,
 *        about 16 bytes per entity).
 * @returns the map, or NULL with the reason in @p errstr.
 * @remark The map borrows @p ix: destroy it first. Read-only once
 *         built: any number of threads may look up at once.
 */
ltrr_search_ids_t *ltrr_search_ids_new(const ltrr_index_t *ix, char *errstr,
                                       size_t errstr_size);

/** @brief Frees @p ids; NULL is a no-op. */
void ltrr_search_ids_destroy(ltrr_search_ids_t *ids);

/** @brief The index position of entity @p id, or -1 if absent. */
int64_t ltrr_search_ids_find(const ltrr_search_ids_t *ids, const char *id);

struct ltrr_q2e_state_s;
struct ltrr_user_profile_s;

/**
 * @brief Turns the parsed Q2E and recent-entity parts of @p st into the
 *        arms' state: @p q2e gets the observed entities with the
 *        query's impressions and prior; @p prof gets each recent entity
 *        (weight 1) and the artists and genres derived from them.
 *        Entities unknown to the index are skipped.
 * @param q2e,prof reset first; each may be NULL (not filled).
 * @returns the number of entities resolved (Q2E plus profile).
 */
size_t ltrr_search_state_arm_fill(const ltrr_search_state_t *st,
                                  const ltrr_index_t *ix,
                                  const ltrr_search_ids_t *ids,
                                  struct ltrr_q2e_state_s *q2e,
                                  struct ltrr_user_profile_s *prof);

/**
 * @brief Sets the id map the next runs of @p se resolve state with
 *        (borrowed; NULL: the arms get no Q2E or profile state). Call it
 *        with the map of the index given to ltrr_search_run().
 */
void ltrr_search_set_ids(ltrr_search_t *se, const ltrr_search_ids_t *ids);

/**
 * @brief Runs the pipeline on a prepared query with state @p st (an
 *        empty state when nothing was read).
 * @returns LTRR_OK; LTRR_ERR_SCHEMA / LTRR_ERR_RANGE from the policy;
 *          LTRR_ERR_NOMEM from arm scratch growth.
 * @remark The output borrows strings of @p ix: use it before the index
 *         is released.
 */
ltrr_err_t ltrr_search_run(ltrr_search_t *se, const ltrr_index_t *ix,
                           ltrr_search_query_t *sq,
                           const ltrr_search_state_t *st, char *errstr,
                           size_t errstr_size);

/** @brief The output of the last ltrr_search_run() on @p sq. */
const ltrr_search_out_t *ltrr_search_out(const ltrr_search_query_t *sq);

/*
 * Request parsing (online/search_request.c): the HTTP layer hands in the
 * raw query string or JSON body; nothing here does I/O.
 */

/** Longest arm list parameter ("lexical,memory"), NUL included. */
#define LTRR_SEARCH_ARMS_MAX 256
/** Largest k kept by the parser (the pipeline checks the real bound). */
#define LTRR_SEARCH_K_PARSE_MAX 100000

/** @brief A parsed search request, before the pipeline validates it. */
typedef struct ltrr_search_params_s {
        char q[LTRR_SEARCH_Q_MAX + 2];     /**< raw query; one extra byte
                                              marks "too long" */
        size_t q_len;                      /**< real bytes of q */
        int has_q;                         /**< q was given */
        char user[LTRR_SEARCH_ID_MAX];     /**< user id, "" if absent */
        char session[LTRR_SEARCH_ID_MAX];  /**< session id */
        int has_session;                   /**< session was given */
        char lang[LTRR_TEXT_LANG_MAX + 1]; /**< language tag */
        long k;                            /**< results wanted */
        ltrr_search_mode_t mode;           /**< from policy and arms */
        uint32_t arms;                     /**< registry id bits */
        int debug;                         /**< debug=1 / true */
} ltrr_search_params_t;

/**
 * @brief Parses a URL query string ("q=a+b&k=5&user=u", percent-encoded,
 *        '+' is a space; the first of repeated names counts) into @p p.
 * @param query the string after '?', NULL or "" for none.
 * @param k_default k when the request has none.
 * @returns LTRR_OK, or LTRR_ERR_PARSE / LTRR_ERR_RANGE /
 *          LTRR_ERR_UNKNOWN_KEY with a reason fit for a client in
 *          @p errstr. A missing q is not an error here (the pipeline
 *          refuses it).
 */
ltrr_err_t ltrr_search_params_query(const char *query,
                                    ltrr_search_params_t *p, long k_default,
                                    char *errstr, size_t errstr_size);

/**
 * @brief Parses a JSON object body ({"q": "...", "k": 5, ...}) of
 *        @p len bytes into @p p; the members are those of the query
 *        string, "debug" may be true or 1.
 * @returns as ltrr_search_params_query().
 */
ltrr_err_t ltrr_search_params_json(const char *body, size_t len,
                                   ltrr_search_params_t *p, long k_default,
                                   char *errstr, size_t errstr_size);

/** @brief "learned", "static", "uniform"; "unknown" otherwise. */
const char *ltrr_search_mode2str(ltrr_search_mode_t mode);

/** @brief Stage name ("analyze", "decide", "arms", "rank"). */
const char *ltrr_search_stage2str(ltrr_search_stage_t stage);

#endif /* LTRR_SEARCH_H */
