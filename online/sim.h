/*
 * ltrr - simulated users: a population with taste profiles, hidden search
 * intents drawn from the catalog, a position-biased cascade click model
 * and the evaluation of what a ranking gave them.
 *
 * Everything here is pure and deterministic: a population is a function of
 * (catalog, seed), an intent of (population, user, rng state), clicks of
 * (intent, shown grades, rng state). The ltrr-sim tool drives the search
 * and event APIs with them; see docs/SIM.md.
 */
#ifndef LTRR_SIM_H
#define LTRR_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "err.h"
#include "rng.h"

/** Longest query text in bytes, NUL included. */
#define LTRR_SIM_QUERY_MAX 128
/** Results judged per query (the k of success@k and nDCG@k). */
#define LTRR_SIM_K 10
/** Grades: 0 irrelevant .. 3 the item sought. */
#define LTRR_SIM_GRADE_MAX 3
/** Lowest grade that counts as a success. */
#define LTRR_SIM_GRADE_GOOD 2
/** Most favourite artists and genres per user. */
#define LTRR_SIM_FAV_MAX 4
/** Most actions one query can produce. */
#define LTRR_SIM_ACTIONS_MAX (4 * LTRR_SIM_K)
/** Most time-series buckets kept; when full, neighbours are merged. */
#define LTRR_SIM_BUCKETS_MAX 256

/** @brief Retrieval arms, as bits of an arm mask (the server's names). */
typedef enum {
        LTRR_SIM_ARM_LEXICAL = 0,
        LTRR_SIM_ARM_POPULAR = 1,
        LTRR_SIM_ARM_STRUCTURED = 2,
        LTRR_SIM_ARM_FUZZY = 3,
        LTRR_SIM_ARM_SEMANTIC = 4,
        LTRR_SIM_ARM_MEMORY = 5,
        LTRR_SIM_ARM_PERSONAL = 6,
        LTRR_SIM_ARM_FRESH = 7,
        LTRR_SIM_ARM__CNT = 8
} ltrr_sim_arm_t;

/** @brief Kind of hidden intent. */
typedef enum {
        LTRR_SIM_KNOWN_ITEM = 0,  /**< one track or album */
        LTRR_SIM_ARTIST = 1,      /**< an artist and their work */
        LTRR_SIM_TOPICAL = 2,     /**< "90s rock", "sad jazz",
                                       "true crime podcast" */
        LTRR_SIM_AMBIGUOUS = 3,   /**< "love", resolved by personal taste */
        LTRR_SIM_NEW_RELEASE = 4, /**< "new rock": recent releases */
        LTRR_SIM_KIND__CNT = 5
} ltrr_sim_kind_t;

/** @brief How the query text was written. */
typedef enum {
        LTRR_SIM_FORM_EXACT = 0,       /**< the name as is */
        LTRR_SIM_FORM_TYPO = 1,        /**< one edit away from the name */
        LTRR_SIM_FORM_PARTIAL = 2,     /**< a prefix of the title */
        LTRR_SIM_FORM_ARTIST_WORD = 3, /**< "tayler love" */
        LTRR_SIM_FORM_DECADE = 4,      /**< "90s rock" */
        LTRR_SIM_FORM_MOOD = 5,        /**< "sad jazz" */
        LTRR_SIM_FORM_PODCAST = 6,     /**< "true crime podcast" */
        LTRR_SIM_FORM__CNT = 7
} ltrr_sim_form_t;

/** @brief One simulated user (plain data, owned by the population). */
typedef struct ltrr_sim_user_s {
        char id[24];                        /**< "sim-u00042" */
        const char *lang;                   /**< ISO 639-1, static */
        uint32_t genres[LTRR_SIM_FAV_MAX];  /**< favourite genre symbols */
        uint32_t genres_cnt;                /**< entries in genres */
        uint32_t artists[LTRR_SIM_FAV_MAX]; /**< favourite artist symbols */
        uint32_t artists_cnt;               /**< entries in artists */
        double activity;                    /**< relative query rate, > 0 */
        uint32_t peak_hour;                 /**< hour of day most active */
        double mix[LTRR_SIM_KIND__CNT];     /**< intent kind probabilities */
} ltrr_sim_user_t;

/** @brief Population parameters. */
typedef struct ltrr_sim_conf_s {
        uint32_t users;   /**< population size, 1..100000 */
        uint64_t seed;    /**< population seed */
        int32_t ref_days; /**< "today" of the catalog (new releases) */
} ltrr_sim_conf_t;

/** @brief A hidden intent and the query written for it. */
typedef struct ltrr_sim_intent_s {
        ltrr_sim_kind_t kind;           /**< kind of intent */
        ltrr_sim_form_t form;           /**< how the query was written */
        uint32_t user;                  /**< index of the user */
        char query[LTRR_SIM_QUERY_MAX]; /**< the text sent */
        uint32_t target;                /**< entity sought (known item), or
                                             UINT32_MAX */
        uint32_t artist;                /**< artist symbol, or SYM_NONE */
        uint32_t genre;             /**< genre or topic symbol, or SYM_NONE */
        uint32_t mood;              /**< mood symbol, or SYM_NONE */
        int32_t decade;             /**< first year of the decade, or 0 */
        char core[16];              /**< ambiguous word ("Love"), or "" */
        uint32_t best_arms;         /**< oracle arm mask for this intent */
        uint32_t ideal[LTRR_SIM_K]; /**< best entities, best first */
        uint8_t ideal_grades[LTRR_SIM_K]; /**< their grades */
        uint32_t ideal_cnt;               /**< entries in ideal */
} ltrr_sim_intent_t;

/** @brief The population and the catalog lookups intents need. */
typedef struct ltrr_sim_s ltrr_sim_t;

/**
 * @brief Builds a population of conf->users users over @p cat.
 * @remark @p cat is borrowed: it must outlive the population.
 * @returns the population, or NULL with the reason in @p errstr
 *          (empty catalog, bad conf, out of memory).
 */
ltrr_sim_t *ltrr_sim_new(const ltrr_catalog_t *cat, const ltrr_sim_conf_t *conf,
                         char *errstr, size_t errstr_size);

/** @brief Frees @p sim; NULL is a no-op. */
void ltrr_sim_destroy(ltrr_sim_t *sim);

/** @brief Number of users. */
uint32_t ltrr_sim_user_count(const ltrr_sim_t *sim);

/** @brief User @p i, or NULL when out of range. */
const ltrr_sim_user_t *ltrr_sim_user(const ltrr_sim_t *sim, uint32_t i);

/**
 * @brief Draws the user who searches at hour @p hour (0..23): weighted by
 *        activity and by closeness of the user's peak hour.
 */
uint32_t ltrr_sim_user_pick(const ltrr_sim_t *sim, uint32_t hour,
                            ltrr_rng_t *rng);

/**
 * @brief Draws a hidden intent of user @p user and writes its query.
 * @returns LTRR_OK, or LTRR_ERR_RANGE for an unknown user.
 */
ltrr_err_t ltrr_sim_intent_draw(const ltrr_sim_t *sim, uint32_t user,
                                ltrr_rng_t *rng, ltrr_sim_intent_t *it);

/**
 * @brief Same, but of a given @p kind (tests, per-kind benchmarks).
 * @returns LTRR_OK; LTRR_ERR_STATE when the catalog or the user's taste
 *          has nothing for that kind; LTRR_ERR_RANGE for a bad argument.
 */
ltrr_err_t ltrr_sim_intent_draw_kind(const ltrr_sim_t *sim, uint32_t user,
                                     ltrr_sim_kind_t kind, ltrr_rng_t *rng,
                                     ltrr_sim_intent_t *it);

/** @brief Ground-truth grade (0..3) of catalog entity @p idx for @p it. */
uint8_t ltrr_sim_grade(const ltrr_sim_t *sim, const ltrr_sim_intent_t *it,
                       uint32_t idx);

/**
 * @brief Writes @p in with exactly one edit (substitution, deletion,
 *        insertion or transposition of ASCII letters) into @p out.
 * @returns LTRR_OK; LTRR_ERR_INVALID_ARG when @p in has fewer than two
 *          ASCII letters; LTRR_ERR_NOSPACE when @p out is too small.
 */
ltrr_err_t ltrr_sim_typo(const char *in, ltrr_rng_t *rng, char *out,
                         size_t out_size);

/** @brief "lexical", ... or NULL. */
const char *ltrr_sim_arm_name(ltrr_sim_arm_t arm);

/** @brief Arm of @p name, or -1. */
int ltrr_sim_arm_parse(const char *name);

/** @brief Writes @p mask as "lexical,fuzzy" into @p buf (always NUL-ended). */
void ltrr_sim_arms_format(uint32_t mask, char *buf, size_t size);

/** @brief "known_item", ... or NULL. */
const char *ltrr_sim_kind_name(ltrr_sim_kind_t kind);

/** @brief "exact", "typo", ... or NULL. */
const char *ltrr_sim_form_name(ltrr_sim_form_t form);

/* ---- click model (sim_clicks.c) ---------------------------------------- */

/** @brief Kind of action, the event API's "type". */
typedef enum {
        LTRR_SIM_ACT_CLICK = 0,
        LTRR_SIM_ACT_PLAY = 1,
        LTRR_SIM_ACT_LIKE = 2,
        LTRR_SIM_ACT_ADD_TO_PLAYLIST = 3,
        LTRR_SIM_ACT_SHARE = 4,
        LTRR_SIM_ACT_SKIP = 5,
        LTRR_SIM_ACT__CNT = 6
} ltrr_sim_act_type_t;

/** @brief One action on a shown result. */
typedef struct ltrr_sim_action_s {
        ltrr_sim_act_type_t type; /**< what the user did */
        uint32_t rank;            /**< 0-based index in the shown list */
        uint32_t offset_ms;       /**< time after the results were shown */
        uint32_t duration_ms;     /**< listening time (play, skip), else 0 */
} ltrr_sim_action_t;

/** @brief Click model parameters; ltrr_sim_clicks_defaults() fills them. */
typedef struct ltrr_sim_clicks_conf_s {
        double cont[LTRR_SIM_K]; /**< P(examine rank i+1 | examined i) */
        double click[LTRR_SIM_GRADE_MAX + 1]; /**< P(click | grade) */
        double stop[LTRR_SIM_GRADE_MAX + 1];  /**< P(satisfied | click,
                                                   grade) */
} ltrr_sim_clicks_conf_t;

/** @brief Default parameters (documented in docs/SIM.md). */
void ltrr_sim_clicks_defaults(ltrr_sim_clicks_conf_t *cc);

/**
 * @brief Simulates the user of @p it on a shown list of @p n results with
 *        grades @p grades and entity durations @p durations_ms
 *        (LTRR_CATALOG_DURATION_UNKNOWN allowed).
 *
 * Cascade: ranks are examined top-down, a result is clicked with
 * P(click | grade), a click satisfies with P(stop | grade), else the user
 * goes on with P(cont[rank]). A click may be followed by a play (or a
 * skip when listening stops within 30 s), a like, an add to playlist or
 * a share, with intent-dependent probabilities.
 * @returns the number of actions written to @p out (at most @p cap).
 */
size_t ltrr_sim_clicks_run(const ltrr_sim_clicks_conf_t *cc,
                           const ltrr_sim_intent_t *it, const uint8_t *grades,
                           const uint32_t *durations_ms, size_t n,
                           ltrr_rng_t *rng, ltrr_sim_action_t *out, size_t cap);

/** @brief "click", "play", ... or NULL. */
const char *ltrr_sim_act_name(ltrr_sim_act_type_t type);

/* ---- evaluation (sim_eval.c) ------------------------------------------- */

/**
 * @brief nDCG@k with gains 2^g - 1 and log2(rank + 1) discounts; the ideal
 *        list is @p ideal (best first). 0 when the ideal DCG is 0.
 */
double ltrr_sim_ndcg(const uint8_t *grades, size_t n, const uint8_t *ideal,
                     size_t ideal_n, size_t k);

/** @brief 1 if one of the first @p k grades is >= LTRR_SIM_GRADE_GOOD. */
int ltrr_sim_success(const uint8_t *grades, size_t n, size_t k);

/** @brief What one query gave, for the evaluator. */
typedef struct ltrr_sim_obs_s {
        uint64_t seq;          /**< query number, from 0 */
        ltrr_sim_kind_t kind;  /**< kind of intent */
        const uint8_t *grades; /**< grades of the shown results */
        size_t n;              /**< entries in grades */
        const uint8_t *ideal;  /**< ideal grades, best first */
        size_t ideal_n;        /**< entries in ideal */
        uint32_t arms;         /**< mask of arms that ran */
        double candidates;     /**< candidates retrieved, < 0 if unknown */
        uint32_t actions;      /**< actions sent */
} ltrr_sim_obs_t;

/** @brief Aggregates over queries (or over one bucket of them). */
typedef struct ltrr_sim_stats_s {
        uint64_t queries;      /**< queries observed */
        uint64_t first_seq;    /**< smallest seq */
        uint64_t success1;     /**< queries with success@1 */
        uint64_t success10;    /**< queries with success@10 */
        double ndcg_sum;       /**< sum of nDCG@10 */
        uint64_t cand_queries; /**< queries with a known candidate count */
        double cand_sum;       /**< sum of candidates */
        uint64_t actions;      /**< actions sent */
        uint64_t arm_queries[LTRR_SIM_ARM__CNT]; /**< queries where each ran */
} ltrr_sim_stats_t;

typedef struct ltrr_sim_eval_s ltrr_sim_eval_t;

/**
 * @brief Creates an evaluator whose time series starts with buckets of
 *        @p bucket_queries queries (> 0); after LTRR_SIM_BUCKETS_MAX
 *        buckets, neighbours merge and the width doubles.
 */
ltrr_sim_eval_t *ltrr_sim_eval_new(uint64_t bucket_queries, char *errstr,
                                   size_t errstr_size);

/** @brief Frees @p ev; NULL is a no-op. */
void ltrr_sim_eval_destroy(ltrr_sim_eval_t *ev);

/** @brief Adds one query; observations may arrive in any seq order. */
void ltrr_sim_eval_add(ltrr_sim_eval_t *ev, const ltrr_sim_obs_t *obs);

/** @brief Totals over every query (@p kind < 0) or over one kind. */
void ltrr_sim_eval_total(const ltrr_sim_eval_t *ev, int kind,
                         ltrr_sim_stats_t *out);

/** @brief Number of time-series buckets in use. */
size_t ltrr_sim_eval_buckets(const ltrr_sim_eval_t *ev);

/** @brief Current bucket width in queries. */
uint64_t ltrr_sim_eval_bucket_width(const ltrr_sim_eval_t *ev);

/** @brief Bucket @p i (queries [i * width, (i + 1) * width)); zeros if out
 *  of range. */
void ltrr_sim_eval_bucket(const ltrr_sim_eval_t *ev, size_t i,
                          ltrr_sim_stats_t *out);

#endif /* LTRR_SIM_H */
