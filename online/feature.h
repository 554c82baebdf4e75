/*
 * ltrr - context and per-arm feature vectors.
 *
 * Turns what is known about a query (language, length, query-understanding
 * intent, local time, calendar, user history) into the dense context
 * vector and the discrete context bucket the bandit decides from, and an
 * arm's candidate list into the per-arm vector the ranker and the logs
 * use. Every position of both vectors is one row of one layout table,
 * ltrr_feature_layout(); docs/FEATURES.md and debug output are rendered
 * from it.
 *
 * Versioning: LTRR_FEATURE_LAYOUT_VERSION changes whenever the table or
 * the way a value is computed changes (the golden-vector unit test fails
 * until it is bumped). The version a handle reports,
 * ltrr_feature_version(), also folds in the configuration that gives the
 * positions their meaning (the language list and segment thresholds), so
 * statistics learned under another configuration are refused by the
 * bandit rather than misread. See docs/decisions/0017-features.md.
 *
 * Computing features is pure and allocation-free: the caller owns every
 * buffer, and a handle is read-only after ltrr_feature_new(), so any
 * number of threads may share one.
 */
#ifndef LTRR_FEATURE_H
#define LTRR_FEATURE_H

#include <stddef.h>
#include <stdint.h>

#include "bandit.h"
#include "calendar.h"
#include "err.h"
#include "records.h"

/** Version of the layout table; bump on any change (see the header). */
#define LTRR_FEATURE_LAYOUT_VERSION 3

/** Length of the context vector (<= LTRR_BANDIT_MAX_DIM). */
#define LTRR_FEATURE_CTX_DIM 29
/** Length of the per-arm vector. */
#define LTRR_FEATURE_ARM_DIM 8

/** Configured languages with a one-hot slot of their own. */
#define LTRR_FEATURE_LANG_SLOTS 4
/** Longest language code in the configured list, excluding the NUL. */
#define LTRR_FEATURE_LANG_MAX 8
/** Longest configured language list string ("en,es,fr,de"). */
#define LTRR_FEATURE_LANGS_MAX 64

/** Token count at which the normalized query length reaches 1. */
#define LTRR_FEATURE_TOKENS_CAP 8
/** Code point count at which the normalized query length reaches 1. */
#define LTRR_FEATURE_CHARS_CAP 64
/** History count at which log1p-scaled history features reach 1. */
#define LTRR_FEATURE_HIST_CAP 10000
/** Candidate count at which the arm's log1p result count reaches 1. */
#define LTRR_FEATURE_RESULTS_CAP 1000

/** Buckets of one query shape: intent x language group x day off. */
#define LTRR_FEATURE_BUCKETS_SHAPE 24
/** Number of distinct context buckets: shape x intent x language group x
 *  day off (ltrr_feature_bucket_parts(), ltrr_feature_bucket_shape()). */
#define LTRR_FEATURE_BUCKETS (LTRR_FEATURE_BUCKETS_SHAPE * 2)

/** Request value of utc_offset_min meaning "use the configured offset". */
#define LTRR_FEATURE_OFFSET_DEFAULT INT32_MIN

/** Per-candidate flags for ltrr_feature_arm(). */
#define LTRR_FEATURE_ENT_NEW      0x1 /**< a recent release */
#define LTRR_FEATURE_ENT_POPULAR  0x2 /**< in the popular head */
#define LTRR_FEATURE_ENT_PERSONAL 0x4 /**< in the user's history */

/**
 * @brief Query-understanding intent. The values are ltrr's own: serving
 * maps the QU module's class names one to one by name ("entity" ->
 * ENTITY, "artist" -> ARTIST, "topical" -> TOPICAL, anything else or no
 * analysis -> AMBIGUOUS).
 */
typedef enum {
        LTRR_FEATURE_INTENT_ENTITY = 0,    /**< a specific track/album */
        LTRR_FEATURE_INTENT_ARTIST = 1,    /**< an artist */
        LTRR_FEATURE_INTENT_TOPICAL = 2,   /**< a genre, mood, topic */
        LTRR_FEATURE_INTENT_AMBIGUOUS = 3, /**< none of the above */
        LTRR_FEATURE_INTENT__CNT = 4
} ltrr_feature_intent_t;

/** @brief User segment from history counts (thresholds in the conf). */
typedef enum {
        LTRR_FEATURE_SEG_NEW = 0,    /**< queries < seg_casual_min */
        LTRR_FEATURE_SEG_CASUAL = 1, /**< in between */
        LTRR_FEATURE_SEG_HEAVY = 2,  /**< queries >= seg_heavy_min */
        LTRR_FEATURE_SEG__CNT = 3
} ltrr_feature_segment_t;

/** @brief Which vector a layout row belongs to. */
typedef enum {
        LTRR_FEATURE_GROUP_CTX = 0, /**< the context vector */
        LTRR_FEATURE_GROUP_ARM = 1  /**< the per-arm vector */
} ltrr_feature_group_t;

/** @brief One row of the layout table. */
typedef struct ltrr_feature_fdesc_s {
        ltrr_feature_group_t group; /**< which vector */
        int index;                  /**< position in that vector */
        const char *name;           /**< stable identifier, [a-z0-9_] */
        const char *type;           /**< "const", "one-hot", "flag", ... */
        const char *range;          /**< value range, e.g. "[0, 1]" */
        const char *desc;           /**< how the value is computed */
} ltrr_feature_fdesc_t;

/** @brief Configuration; start from ltrr_feature_conf_init(). */
typedef struct ltrr_feature_conf_s {
        const char *langs;          /**< comma-separated language codes,
                                       at most LTRR_FEATURE_LANG_SLOTS, the
                                       first is the primary language; copied */
        uint32_t seg_casual_min;    /**< history queries to leave "new" */
        uint32_t seg_heavy_min;     /**< history queries to be "heavy" */
        int32_t utc_offset_min;     /**< offset when a request has none */
        const char *region;         /**< calendar region when a request has
                                       none; NULL: only all-region holidays;
                                       copied */
        const ltrr_calendar_t *cal; /**< borrowed, must outlive the handle;
                                       NULL: weekend Sat/Sun, no holidays */
} ltrr_feature_conf_t;

/** @brief What is known about one request. Pointers are borrowed. */
typedef struct ltrr_feature_in_s {
        const char *lang;             /**< language tag ("en", "pt-BR"); NULL
                                         or "" is unknown */
        size_t n_tokens;              /**< tokens of the analyzed query */
        size_t n_chars;               /**< code points of the normalized query
                                         (ltrr_feature_utf8_chars()) */
        ltrr_feature_intent_t intent; /**< QU intent */
        int64_t time_ms;              /**< request time, epoch ms UTC */
        int32_t utc_offset_min;       /**< local offset, minutes east of UTC,
                                         or LTRR_FEATURE_OFFSET_DEFAULT */
        const char *region;           /**< calendar region; NULL: the conf's */
        uint64_t hist_queries;        /**< the user's past queries */
        uint64_t hist_engaged;        /**< the user's past engagements */
        const char *text;             /**< the normalized query (tokens
                                         separated by spaces, lower case);
                                         NULL: unknown, no shape features */
        size_t n_unknown;             /**< query words the index does not
                                         know (ltrr_index_knows()); 0 when
                                         unknown */
} ltrr_feature_in_t;

/**
 * @brief Query shape: what the words of a query say about the arms it
 * needs, beyond its QU intent. One shape per query.
 */
typedef enum {
        LTRR_FEATURE_SHAPE_PLAIN = 0, /**< nothing particular */
        LTRR_FEATURE_SHAPE_FRESH = 1, /**< a recency word: "new", "latest" */
        LTRR_FEATURE_SHAPE__CNT = 2
} ltrr_feature_shape_t;

/** @brief The context features of one request; caller-owned. */
typedef struct ltrr_feature_ctx_s {
        float x[LTRR_FEATURE_CTX_DIM];  /**< the dense vector */
        uint32_t bucket;                /**< 0..LTRR_FEATURE_BUCKETS-1 */
        uint32_t version;               /**< ltrr_feature_version() */
        int lang_slot;                  /**< 0..3 configured slot, -1 other */
        ltrr_feature_intent_t intent;   /**< as given */
        ltrr_feature_shape_t shape;     /**< from the query text */
        ltrr_feature_segment_t segment; /**< derived from history */
        ltrr_calendar_day_t day;        /**< local time, weekend, holiday */
} ltrr_feature_ctx_t;

/** @brief One arm's candidate list and history. Pointers are borrowed. */
typedef struct ltrr_feature_arm_in_s {
        double success;       /**< historical query-arm success rate in
                                 [0, 1]; negative when unknown */
        unsigned budget;      /**< the arm's candidate budget, 0 if none */
        size_t n;             /**< candidates returned */
        const float *scores;  /**< n arm scores (>= 0 expected) */
        const uint8_t *flags; /**< n LTRR_FEATURE_ENT_* masks, or NULL */
} ltrr_feature_arm_in_t;

/** Opaque feature extractor handle (short name: fx). */
typedef struct ltrr_feature_s ltrr_feature_t;

/**
 * @brief Sets defaults: langs "en,es,fr,de", new below 5 queries, heavy
 * from 200, offset 0 (UTC), no region, no calendar.
 */
void ltrr_feature_conf_init(ltrr_feature_conf_t *conf);

/**
 * @brief Creates an extractor.
 * @param conf copied (strings too) except @p conf->cal, which is borrowed.
 * @returns the handle, or NULL with the reason in @p errstr (bad language
 *          list, thresholds not 0 < casual <= heavy, offset or region out
 *          of bounds, out of memory).
 */
ltrr_feature_t *ltrr_feature_new(const ltrr_feature_conf_t *conf, char *errstr,
                                 size_t errstr_size);

/** @brief Frees @p fx; NULL is a no-op. */
void ltrr_feature_destroy(ltrr_feature_t *fx);

/**
 * @brief The feature version logged and checked by the bandit:
 * LTRR_FEATURE_LAYOUT_VERSION << 16 | a 16-bit tag of the configured
 * language list and segment thresholds.
 */
uint32_t ltrr_feature_version(const ltrr_feature_t *fx);

/**
 * @brief Computes the context vector and bucket of one request.
 * @returns LTRR_OK; LTRR_ERR_INVALID_ARG for an unknown intent;
 *          LTRR_ERR_RANGE for an offset out of bounds. @p out is
 *          unspecified on error.
 * @remark Allocation-free; @locality any thread.
 */
ltrr_err_t ltrr_feature_context(const ltrr_feature_t *fx,
                                const ltrr_feature_in_t *in,
                                ltrr_feature_ctx_t *out, char *errstr,
                                size_t errstr_size);

/**
 * @brief Computes one arm's vector into @p x (LTRR_FEATURE_ARM_DIM).
 * @returns LTRR_OK; LTRR_ERR_INVALID_ARG when n > 0 and scores is NULL;
 *          LTRR_ERR_RANGE when success is above 1 or not a number.
 *          Non-finite scores are ignored for the top score.
 * @remark Allocation-free, needs no handle.
 */
ltrr_err_t ltrr_feature_arm(const ltrr_feature_arm_in_t *in, float *x,
                            char *errstr, size_t errstr_size);

/**
 * @brief Points a bandit context at @p ctx's vector and sets its dim,
 * feature_version and bucket; the other fields are left alone.
 * @remark @p bc->x borrows @p ctx->x: keep @p ctx alive while it is used.
 */
void ltrr_feature_to_bandit(const ltrr_feature_ctx_t *ctx,
                            ltrr_bandit_ctx_t *bc);

/**
 * @brief Fills the logged context record from @p ctx: feature version,
 * features (borrowing @p ctx->x), query type, hour, weekday, holiday
 * (weekend or public holiday) and user segment name.
 */
void ltrr_feature_to_record(const ltrr_feature_ctx_t *ctx, ltrr_context_t *rec);

/** @brief Number of code points in a UTF-8 string of @p len bytes. */
size_t ltrr_feature_utf8_chars(const char *s, size_t len);

/** @brief "entity", "artist", "topical", "ambiguous"; "unknown" else. */
const char *ltrr_feature_intent2str(ltrr_feature_intent_t intent);

/**
 * @brief Parses an intent name (as ltrr_feature_intent2str()).
 * @returns LTRR_OK or LTRR_ERR_UNKNOWN_KEY.
 */
ltrr_err_t ltrr_feature_intent_parse(const char *name,
                                     ltrr_feature_intent_t *intent);

/** @brief "new", "casual", "heavy"; "unknown" else. */
const char *ltrr_feature_segment2str(ltrr_feature_segment_t seg);

/**
 * @brief The bucket id of its parts: shape * 24 + (intent * 3 +
 * lang_group) * 2 + day_off; the inverse of ltrr_feature_bucket_parts()
 * and ltrr_feature_bucket_shape().
 * @param lang_group 0..2 (the subsets policy puts a length class there)
 * @param day_off    0 or 1 (the subsets policy puts q_unknown_word there)
 */
uint32_t ltrr_feature_bucket_id(ltrr_feature_shape_t shape,
                                ltrr_feature_intent_t intent, int lang_group,
                                int day_off);

/**
 * @brief Decomposes a bucket id into its parts (any may be NULL).
 * @returns LTRR_OK or LTRR_ERR_RANGE if @p bucket >= LTRR_FEATURE_BUCKETS.
 */
ltrr_err_t ltrr_feature_bucket_parts(uint32_t bucket,
                                     ltrr_feature_intent_t *intent,
                                     int *lang_group, int *day_off);

/**
 * @brief The query shape of a bucket id (LTRR_FEATURE_SHAPE__CNT if
 * @p bucket >= LTRR_FEATURE_BUCKETS).
 */
ltrr_feature_shape_t ltrr_feature_bucket_shape(uint32_t bucket);

/**
 * @brief The bucket of the subsets policy: @p bucket with its language
 * group slot holding the query's length class instead (0: one token or
 * none, 1: two or three, 2: four or more) and its day-off slot the
 * q_unknown_word flag, both read from the context vector. A whole arm
 * set needs more rewards per bucket than a per-arm score, so subsets
 * pools the language groups and days; the length class tells a short
 * ambiguous query ("love", resolved by taste) from a known-item query
 * the QU tagged the same, and a word the index does not know marks a
 * typo, which only the fuzzy arm finds (docs/BANDIT.md, decisions 0043
 * and 0045).
 * @param bucket an id from ltrr_feature_context(); one >=
 *               LTRR_FEATURE_BUCKETS is returned unchanged
 * @param x      the request's context vector (may be NULL: class 0,
 *               no unknown word)
 * @param dim    its length; another length than LTRR_FEATURE_CTX_DIM
 *               gives class 0 and no unknown word
 */
uint32_t ltrr_feature_bucket_subsets(uint32_t bucket, const float *x,
                                     size_t dim);

/**
 * @brief The query shape a logged context vector records, for code that
 * re-derives the bucket from an impression (the learner).
 * @param x    the logged vector (may be NULL)
 * @param dim  its length; a vector of another length gives PLAIN
 */
ltrr_feature_shape_t ltrr_feature_shape_of(const float *x, size_t dim);

/**
 * @brief The shape of a normalized query: FRESH if one of its words is a
 * recency word ("new", "newest", "latest", "recent"), else PLAIN.
 * @param text NUL-terminated, lower case, words separated by spaces;
 *             NULL gives PLAIN
 */
ltrr_feature_shape_t ltrr_feature_text_shape(const char *text);

/**
 * @brief 1 if the @p len bytes at @p word are a recency word ("new",
 * "newest", "latest", "recent": the words that make a query's shape
 * FRESH), else 0.
 */
int ltrr_feature_fresh_word(const char *word, size_t len);

/** @brief Returns the layout table; @p cnt receives its row count. */
const ltrr_feature_fdesc_t *ltrr_feature_layout(size_t *cnt);

/**
 * @brief FNV-1a 64 of the layout table (groups, indices, names, types,
 * ranges); pinned per version by the unit test.
 */
uint64_t ltrr_feature_layout_hash(void);

/**
 * @brief Renders the layout table as Markdown (docs/FEATURES.md).
 * @returns LTRR_OK or LTRR_ERR_NOSPACE if @p size is too small.
 */
ltrr_err_t ltrr_feature_layout_render(char *buf, size_t size);

/**
 * @brief Renders a vector as logfmt "name=value ..." for debug output.
 * @param x LTRR_FEATURE_CTX_DIM or LTRR_FEATURE_ARM_DIM floats by group.
 * @returns LTRR_OK or LTRR_ERR_NOSPACE (the text is cut, NUL-terminated).
 */
ltrr_err_t ltrr_feature_debug(ltrr_feature_group_t group, const float *x,
                              char *buf, size_t size);

#endif /* LTRR_FEATURE_H */
