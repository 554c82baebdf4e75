/*
 * ltrr - retrieval arms: one interface for every strategy that finds
 * candidates, a registry, per-thread scratch memory and the union of
 * several arms' candidates.
 *
 * An arm is a pure function of the index and handed-in state: given the
 * analyzed query, a context and a budget k, it writes at most k
 * candidates (entity, score, a few features) into a caller buffer.
 * Adding an arm means one new online/arm_<name>.c defining a const
 * ltrr_arm_t and one registration line in online/arm.c.
 * docs/decisions/0012-arm-interface.md gives the reasons.
 */
#ifndef LTRR_ARM_H
#define LTRR_ARM_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "index.h"
#include "text.h"

/** Most registered arms (an arm bitmask is 32 bits; 16 leaves room). */
#define LTRR_ARM_MAX 16
/** Per-arm features carried by each candidate. */
#define LTRR_ARM_FEAT_MAX 4
/** Query tokens an arm looks at; later tokens are ignored. */
#define LTRR_ARM_QUERY_TOKENS_MAX 32
/** Largest budget k of one arm call. */
#define LTRR_ARM_K_MAX 10000

/** @brief The analyzed query, shared by every arm of one request. */
typedef struct ltrr_arm_query_s {
        const ltrr_token_t *toks; /**< tokens from ltrr_analyzer_analyze() */
        size_t cnt;               /**< entries in toks */
        const char *norm;         /**< normalized query (Q2E key), or NULL */
} ltrr_arm_query_t;

/* Handed-in state: defined by the modules that fill it (Q2E, profiles,
 * popularity). Arms that do not use a pointer ignore it. */
struct ltrr_q2e_state_s;
struct ltrr_user_profile_s;
struct ltrr_pop_overrides_s;

/** @brief BM25F parameters of the lexical arm. */
typedef struct ltrr_bm25f_s {
        float k1;                        /**< tf saturation, > 0 */
        float b[LTRR_INDEX_FIELDS];      /**< length normalisation, 0..1 */
        float w[LTRR_INDEX_FIELDS];      /**< field weights, >= 0 */
        int prefix;                      /**< 1: expand the last token as
                                          *   a prefix when it is unknown */
} ltrr_bm25f_t;

/**
 * @brief Request context handed to every arm.
 *
 * @remark Every pointer is borrowed for the call and may be NULL: an arm
 *         that needs state it was not given returns no candidates (or
 *         reports itself unavailable).
 */
typedef struct ltrr_arm_ctx_s {
        char lang[LTRR_TEXT_LANG_MAX + 1]; /**< query language, "" unknown */
        const char *user_id;          /**< NULL for anonymous */
        int64_t now_ms;               /**< request time, ms since epoch */
        int32_t today_days;           /**< request day, days since epoch */
        const struct ltrr_q2e_state_s *q2e;         /**< Q2E scores */
        const struct ltrr_user_profile_s *profile;  /**< user profile */
        const struct ltrr_pop_overrides_s *popularity; /**< fresh popularity */
        const ltrr_bm25f_t *bm25f;    /**< lexical parameters, NULL default */
} ltrr_arm_ctx_t;

/** @brief One candidate written by an arm. */
typedef struct ltrr_arm_cand_s {
        uint32_t ent;                    /**< entity index in the index */
        float score;                     /**< arm score, higher is better */
        float feat[LTRR_ARM_FEAT_MAX];   /**< per-arm features (names in
                                          *   ltrr_arm_t.feat_names) */
} ltrr_arm_cand_t;

/** @brief Per-thread scratch memory reused across calls. */
typedef struct ltrr_arm_scratch_s ltrr_arm_scratch_t;

/**
 * @brief Runs an arm.
 *
 * @param slot the arm's registry id, to pass to ltrr_arm_scratch_get().
 * @param out  caller buffer of at least @p k entries.
 * @param cntp set to the candidates written (<= k), best first.
 * @returns LTRR_OK, LTRR_ERR_STATE if the arm is unavailable,
 *          LTRR_ERR_INVALID_ARG or LTRR_ERR_NOMEM (scratch growth).
 */
typedef ltrr_err_t(ltrr_arm_run_fn)(const ltrr_index_t *ix,
                                    const ltrr_arm_query_t *q,
                                    const ltrr_arm_ctx_t *ctx,
                                    ltrr_arm_scratch_t *scr, unsigned slot,
                                    size_t k, ltrr_arm_cand_t *out,
                                    size_t *cntp, char *errstr,
                                    size_t errstr_size);

/** @brief An arm: name, features and two functions. */
typedef struct ltrr_arm_s {
        const char *name;        /**< "lexical" */
        const char *desc;        /**< one line */
        const char *feat_names[LTRR_ARM_FEAT_MAX]; /**< NULL when unused */
        /** 1 if the arm can run on @p ix (e.g. semantic needs vectors). */
        int (*available)(const ltrr_index_t *ix);
        ltrr_arm_run_fn *run;    /**< finds candidates */
} ltrr_arm_t;

/** @brief The lexical arm (BM25F over name, artist, album, description). */
extern const ltrr_arm_t ltrr_arm_lexical;

/** @brief Number of registered arms. */
unsigned ltrr_arm_count(void);

/** @brief Registered arm @p id (0..count-1), or NULL. */
const ltrr_arm_t *ltrr_arm_get(unsigned id);

/** @brief Registry id of the arm called @p name, or -1. */
int ltrr_arm_find(const char *name);

/** @brief Default BM25F parameters (see docs/INDEX.md). */
void ltrr_bm25f_defaults(ltrr_bm25f_t *p);

/**
 * @brief Checks and runs arm @p id: an unavailable arm gives
 *        LTRR_ERR_STATE and no candidates; k above LTRR_ARM_K_MAX is
 *        LTRR_ERR_RANGE. See ltrr_arm_run_fn.
 * @locality one thread at a time per @p scr; the index is shared.
 */
ltrr_err_t ltrr_arm_run(unsigned id, const ltrr_index_t *ix,
                        const ltrr_arm_query_t *q, const ltrr_arm_ctx_t *ctx,
                        ltrr_arm_scratch_t *scr, size_t k,
                        ltrr_arm_cand_t *out, size_t *cntp, char *errstr,
                        size_t errstr_size);

/** @brief Creates empty scratch memory for one thread. NULL on OOM. */
ltrr_arm_scratch_t *ltrr_arm_scratch_new(void);

/** @brief Frees @p scr; NULL is a no-op. */
void ltrr_arm_scratch_destroy(ltrr_arm_scratch_t *scr);

/**
 * @brief Returns at least @p bytes of slot @p slot's memory (16-aligned),
 *        growing it when needed: once warmed up, no allocation happens.
 *        The contents persist between calls of the same slot; bytes
 *        added by growth are zero.
 * @returns the memory, or NULL if @p slot is out of range or memory runs
 *          out (the old block is kept).
 */
void *ltrr_arm_scratch_get(ltrr_arm_scratch_t *scr, unsigned slot,
                           size_t bytes);

/** @brief Bytes held by @p scr. */
size_t ltrr_arm_scratch_memory(const ltrr_arm_scratch_t *scr);

/** @brief One arm's candidate list, input of ltrr_arm_union(). */
typedef struct ltrr_arm_list_s {
        unsigned arm;                 /**< registry id */
        const ltrr_arm_cand_t *cands; /**< best first */
        size_t cnt;                   /**< entries in cands */
} ltrr_arm_list_t;

/** @brief One entity of a union with its provenance. */
typedef struct ltrr_arm_hit_s {
        uint32_t ent;                 /**< entity index */
        uint32_t arms;                /**< bit i: arm i found it */
        uint32_t best_rank;           /**< best 0-based rank in any arm */
        float scores[LTRR_ARM_MAX];   /**< score per arm (0 if absent) */
} ltrr_arm_hit_t;

/**
 * @brief Merges several arms' candidates into one list, one entry per
 *        entity, ordered by best rank, then by number of arms, then by
 *        entity. Allocates nothing.
 *
 * @param out  caller buffer of @p cap entries; cap >= the sum of the
 *             lists' counts always suffices.
 * @returns LTRR_OK, LTRR_ERR_INVALID_ARG (arm id out of range, NULL list)
 *          or LTRR_ERR_NOSPACE when @p cap is below the sum of counts
 *          (nothing is written).
 */
ltrr_err_t ltrr_arm_union(const ltrr_arm_list_t *lists, size_t nlists,
                          ltrr_arm_hit_t *out, size_t cap, size_t *cntp,
                          char *errstr, size_t errstr_size);

#endif /* LTRR_ARM_H */
