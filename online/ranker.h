/*
 * ltrr - online learning-to-rank model.
 *
 * A logistic scorer over one fixed feature vector per (query, entity,
 * user, arm) candidate. Weights are learned online from clicks with
 * FTRL-Proximal (per-coordinate learning rates, L1 and L2), with clicks
 * corrected for position bias by inverse propensity weighting (see
 * position_bias.h). The same model is fitted in batch by the offline
 * trainer. Weights carry a version (update counter + content hash) and
 * serialize to a compact checksummed blob (a Redis value) and to text.
 *
 * The feature layout lives in one table, ltrr_ranker_layout(); docs and
 * debug output are rendered from it. See docs/RANKER.md and
 * docs/decisions/0010-ranker.md.
 */
#ifndef LTRR_RANKER_H
#define LTRR_RANKER_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "position_bias.h"

/** Version of the feature layout; bump on any change to the table. */
#define LTRR_RANKER_LAYOUT_VERSION 1

/** Number of features in the layout (dot product length). */
#define LTRR_RANKER_NFEAT 32

/** Retrieval arms known to the layout, in ARCHITECTURE.md §5 order. */
#define LTRR_RANKER_NARMS 8

/** Largest number of candidates ltrr_ranker_features_build() accepts. */
#define LTRR_RANKER_MAX_CANDS 4096

/** Size of a serialized model blob (fixed for a given layout). */
#define LTRR_RANKER_BLOB_SIZE (72 + 16 * LTRR_RANKER_NFEAT + 8)

/** Upper bound on the text form, in bytes (including the NUL). */
#define LTRR_RANKER_TEXT_MAX 8192

/** @brief Indices of the features; the layout table documents each. */
typedef enum {
        LTRR_RANKER_F_BIAS = 0,
        LTRR_RANKER_F_ARM_SCORE = 1, /**< 8 slots, one per arm */
        LTRR_RANKER_F_FOUND_BY = 9,  /**< 8 slots, one per arm */
        LTRR_RANKER_F_N_ARMS = 17,
        LTRR_RANKER_F_BM25 = 18,
        LTRR_RANKER_F_LOG_POP = 19,
        LTRR_RANKER_F_AGE = 20,
        LTRR_RANKER_F_Q2E = 21,
        LTRR_RANKER_F_USER_ARTIST = 22,
        LTRR_RANKER_F_USER_GENRE = 23,
        LTRR_RANKER_F_EXACT_NAME = 24,
        LTRR_RANKER_F_PREFIX_NAME = 25,
        LTRR_RANKER_F_QUERY_LEN = 26,
        LTRR_RANKER_F_TYPE_MATCH = 27,
        LTRR_RANKER_F_IS_NEW = 28,
        LTRR_RANKER_F_USER_SEEN = 29,
        LTRR_RANKER_F_TOKEN_OVERLAP = 30,
        LTRR_RANKER_F_RESERVED = 31
} ltrr_ranker_feature_t;

/** @brief One row of the feature layout table. */
typedef struct ltrr_ranker_fdesc_s {
        const char *name; /**< stable identifier, [a-z0-9_] */
        int index;        /**< position in the vector */
        const char *desc; /**< how the value is computed, its range */
} ltrr_ranker_fdesc_t;

/**
 * @brief Raw signals of one candidate, before normalization.
 *
 * Filled by serving (or the trainer) from the arms, the index, Q2E and
 * the user profile; ltrr_ranker_features_build() turns a query's
 * candidates into feature vectors.
 */
typedef struct ltrr_ranker_cand_s {
        float arm_score[LTRR_RANKER_NARMS]; /**< raw score per arm, >= 0 */
        uint8_t found_mask;     /**< bit a set: arm a returned it */
        float bm25;             /**< BM25F score, >= 0 */
        double popularity;      /**< engagement count, >= 0 */
        float age_days;         /**< days since release, < 0 unknown */
        float q2e;              /**< observed Q2E score in [0, 1] */
        float user_artist;      /**< user affinity to the artist [0, 1] */
        float user_genre;       /**< user affinity to the genre [0, 1] */
        uint8_t exact_name;     /**< 1 if normalized name == query */
        uint8_t prefix_name;    /**< 1 if name starts with the query */
        uint8_t type_match;     /**< 1 if entity type == QU type */
        uint8_t user_seen;      /**< 1 if the user engaged with it before */
        uint16_t query_tokens;  /**< tokens in the analyzed query */
        float token_overlap;    /**< share of query tokens in the name */
} ltrr_ranker_cand_t;

/** @brief FTRL-Proximal hyper-parameters. */
typedef struct ltrr_ranker_params_s {
        double alpha;    /**< learning-rate scale, > 0 (default 0.1) */
        double beta;     /**< learning-rate smoothing, >= 0 (default 1) */
        double l1;       /**< L1 strength, >= 0 (default 0.01) */
        double l2;       /**< L2 strength, >= 0 (default 0.1) */
        double ipw_clip; /**< max 1/propensity, >= 1 (default 10) */
} ltrr_ranker_params_t;

/** @brief One training example for batch fitting. */
typedef struct ltrr_ranker_example_s {
        float x[LTRR_RANKER_NFEAT]; /**< feature vector */
        float label;                /**< 1 clicked, 0 not clicked */
        uint16_t position;          /**< 1-based shown position */
        float weight;               /**< sample weight, >= 0 */
} ltrr_ranker_example_t;

/** @brief Batch fit options. */
typedef struct ltrr_ranker_fit_opts_s {
        int epochs;                      /**< passes over the data, >= 1 */
        uint64_t seed;                   /**< shuffle seed */
        const ltrr_pbias_table_t *pbias; /**< NULL: no position correction */
} ltrr_ranker_fit_opts_t;

/** @brief Training metrics of the fitted model over the examples. */
typedef struct ltrr_ranker_fit_stats_s {
        size_t examples;    /**< examples used */
        int epochs;         /**< epochs run */
        double logloss;     /**< weighted mean loss of the final model;
                                 with a propensity table this is the IPW
                                 estimate (unbiased, may be negative) */
        double first_loss;  /**< progressive loss of the first epoch */
        double last_loss;   /**< progressive loss of the last epoch */
        double auc;         /**< AUC of final scores vs clicks (0.5 if
                                 one class is absent) */
} ltrr_ranker_fit_stats_t;

typedef struct ltrr_ranker_s ltrr_ranker_t;

/** @brief Returns the layout table; @p cnt receives its row count. */
const ltrr_ranker_fdesc_t *ltrr_ranker_layout(size_t *cnt);

/**
 * @brief Renders the layout table as Markdown into @p buf.
 * @returns LTRR_OK or LTRR_ERR_NOSPACE if @p size is too small.
 */
ltrr_err_t ltrr_ranker_layout_render(char *buf, size_t size);

/**
 * @brief Builds the feature vectors of one query's candidates.
 *
 * Per-arm scores are divided by that arm's largest score over the @p n
 * candidates, so the vector does not depend on each arm's score scale.
 * @param x  output, n * LTRR_RANKER_NFEAT floats, row-major.
 * @returns LTRR_OK; LTRR_ERR_INVALID_ARG if n > LTRR_RANKER_MAX_CANDS.
 */
ltrr_err_t ltrr_ranker_features_build(const ltrr_ranker_cand_t *cands,
                                      size_t n, float *x);

/** @brief Fills @p p with the documented defaults. */
void ltrr_ranker_params_default(ltrr_ranker_params_t *p);

/**
 * @brief Creates a model with all weights zero, version 0.
 * @param params  copied; NULL for defaults.
 * @returns the model, or NULL with the reason in @p errstr (bad params,
 *          out of memory).
 */
ltrr_ranker_t *ltrr_ranker_new(const ltrr_ranker_params_t *params,
                               char *errstr, size_t errstr_size);

/** @brief Frees the model; NULL is a no-op. */
void ltrr_ranker_destroy(ltrr_ranker_t *rk);

/** @brief Returns a deep copy, or NULL when out of memory. */
ltrr_ranker_t *ltrr_ranker_dup(const ltrr_ranker_t *rk);

/**
 * @brief Sets the weights directly (tests, imported models).
 *
 * Learning state is reset so the FTRL closed form yields exactly @p w
 * (as float). Bumps the version.
 * @returns LTRR_OK; LTRR_ERR_INVALID_ARG if a weight is not finite.
 */
ltrr_err_t ltrr_ranker_weights_set(ltrr_ranker_t *rk, const double *w,
                                   size_t n, char *errstr,
                                   size_t errstr_size);

/** @brief Copies the current weights (float) into @p w (NFEAT values). */
void ltrr_ranker_weights_get(const ltrr_ranker_t *rk, float *w);

/**
 * @brief Version of the weights.
 * @param counter  receives the number of changes since creation (every
 *                 update, fit or set increments it).
 * @param hash     receives FNV-1a 64 of layout version and weights.
 */
void ltrr_ranker_version(const ltrr_ranker_t *rk, uint64_t *counter,
                         uint64_t *hash);

/** @brief Copies the hyper-parameters into @p p. */
void ltrr_ranker_params_get(const ltrr_ranker_t *rk,
                            ltrr_ranker_params_t *p);

/**
 * @brief Scores @p n candidates: logit w.x for each row of @p x.
 * @remark Read-only; several threads may score with one model at once.
 */
void ltrr_ranker_score(const ltrr_ranker_t *rk, const float *x, size_t n,
                       float *scores);

/** @brief Click probability of one vector: sigmoid(w.x). */
double ltrr_ranker_predict(const ltrr_ranker_t *rk, const float *x);

/**
 * @brief Indices of the @p k highest scores, best first.
 *
 * Ties go to the lower index, so the order is deterministic. NaN scores
 * rank last.
 * @param idx  output, min(n, k) entries.
 * @returns the number of entries written, min(n, k).
 */
size_t ltrr_ranker_topk(const float *scores, size_t n, size_t k,
                        uint32_t *idx);

/**
 * @brief One FTRL-Proximal step on the logistic loss.
 *
 * The gradient is weight * (sigmoid(w.x) - label) * x. For a click
 * corrected for position bias, pass label = ltrr_pbias_ipw_label(): the
 * loss is then unbiased for relevance (docs/decisions/0010-ranker.md).
 * @param label   target in [0, ipw_clip].
 * @param weight  sample weight, >= 0.
 * @returns LTRR_OK; LTRR_ERR_INVALID_ARG on a non-finite or out-of-range
 *          label, weight or feature (the model is left unchanged).
 * @remark Not thread-safe: one writer per model
 *         (docs/decisions/0010-ranker.md); readers score a copy.
 */
ltrr_err_t ltrr_ranker_update(ltrr_ranker_t *rk, const float *x,
                              double label, double weight);

/**
 * @brief Online update from one click/no-click at a shown position.
 *
 * Label = clicked / P(examined | position), clipped at ipw_clip; with
 * @p pb NULL the raw click is used.
 */
ltrr_err_t ltrr_ranker_update_click(ltrr_ranker_t *rk, const float *x,
                                    int clicked, int position,
                                    const ltrr_pbias_table_t *pb);

/**
 * @brief Batch fit: @p opts->epochs passes over @p ex in a seeded
 * shuffled order, continuing from the current weights.
 * @param st  receives metrics; may be NULL.
 * @returns LTRR_OK; LTRR_ERR_INVALID_ARG on bad options or an invalid
 *          example (the index is in @p errstr); LTRR_ERR_NOMEM.
 */
ltrr_err_t ltrr_ranker_fit(ltrr_ranker_t *rk, const ltrr_ranker_example_t *ex,
                           size_t n, const ltrr_ranker_fit_opts_t *opts,
                           ltrr_ranker_fit_stats_t *st, char *errstr,
                           size_t errstr_size);

/**
 * @brief Area under the ROC curve of @p scores against binary @p labels
 * (ties count one half). Returns 0.5 when a class is absent, a negative
 * value when out of memory.
 */
double ltrr_ranker_auc(const float *scores, const float *labels, size_t n);

/**
 * @brief Serializes the model (parameters, FTRL state, version) into
 * @p buf, little-endian, with a trailing FNV-1a 64 checksum.
 * @param len  receives LTRR_RANKER_BLOB_SIZE.
 * @returns LTRR_OK or LTRR_ERR_NOSPACE if @p size is too small.
 */
ltrr_err_t ltrr_ranker_serialize(const ltrr_ranker_t *rk, uint8_t *buf,
                                 size_t size, size_t *len);

/**
 * @brief Rebuilds a model from a blob written by ltrr_ranker_serialize().
 * @returns a new model (caller owns it), or NULL with @p err set to
 *          LTRR_ERR_TRUNCATED (short blob), LTRR_ERR_PARSE (bad magic or
 *          length), LTRR_ERR_SCHEMA (other format or layout version),
 *          LTRR_ERR_CORRUPT (checksum, non-finite state) or
 *          LTRR_ERR_NOMEM, and the reason in @p errstr.
 */
ltrr_ranker_t *ltrr_ranker_deserialize(const uint8_t *buf, size_t len,
                                       ltrr_err_t *err, char *errstr,
                                       size_t errstr_size);

/**
 * @brief Writes the human-readable text form (one `key value` per line,
 * one `feature <name> <w> <z> <n>` line per feature).
 * @returns LTRR_OK or LTRR_ERR_NOSPACE.
 */
ltrr_err_t ltrr_ranker_to_text(const ltrr_ranker_t *rk, char *buf,
                               size_t size);

/**
 * @brief Parses the text form, with its lines in the order
 * ltrr_ranker_to_text() writes them (blank lines and `#` comments may
 * appear anywhere). z and n are authoritative; the w column is for
 * readers. The `hash` line may be removed (after a hand edit); if
 * present it must match the weights.
 * @returns a new model, or NULL with @p err: LTRR_ERR_PARSE (malformed,
 *          missing or extra line), LTRR_ERR_SCHEMA (other format or
 *          layout version, or a feature not where the layout has it),
 *          LTRR_ERR_CORRUPT (hash mismatch, bad parameters or state) or
 *          LTRR_ERR_NOMEM; the reason is in @p errstr.
 */
ltrr_ranker_t *ltrr_ranker_from_text(const char *text, ltrr_err_t *err,
                                     char *errstr, size_t errstr_size);

/**
 * @brief Writes `name=value*weight` for each non-zero feature of @p x,
 * for debug output. Truncates silently; always NUL-terminates.
 */
void ltrr_ranker_explain(const ltrr_ranker_t *rk, const float *x, char *buf,
                         size_t size);

#endif /* LTRR_RANKER_H */
