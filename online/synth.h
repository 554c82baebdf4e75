/*
 * ltrr - deterministic synthetic catalog generator.
 *
 * The same (n, seed, ref_days, dim) gives byte-identical entities on any
 * machine: the generator has its own PRNG (xoshiro256**, seeded by
 * splitmix64), uses integer arithmetic for every distribution, and only
 * converts to float by one division at the end. The vocabulary tables it
 * draws from are exposed so a user simulator can reuse them.
 */
#ifndef LTRR_SYNTH_H
#define LTRR_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "err.h"

/** @brief What to generate. */
typedef struct ltrr_synth_conf_s {
        uint64_t n;        /**< entities to generate, > 0 */
        uint64_t seed;     /**< any value */
        int32_t ref_days;  /**< "today", days since 1970-01-01: new
                                releases are dated just before it */
        uint32_t dim;      /**< dense vector size, 0 for none */
} ltrr_synth_conf_t;

/**
 * @brief Receives each generated entity in order.
 * @remark @p in and everything it points to is valid until the callback
 *         returns. A non-OK return stops generation with that error.
 */
typedef ltrr_err_t(ltrr_synth_cb)(void *opaque, const ltrr_entity_in_t *in);

/** @brief One language of the vocabulary: code, weight and word lists. */
typedef struct ltrr_synth_lang_s {
        const char *code;               /**< ISO 639-1 */
        uint32_t weight;                /**< share of artists, in percent */
        int spaced;                     /**< words are separated by spaces */
        const char *const *words;       /**< title words */
        size_t words_cnt;               /**< entries in words */
        const char *const *first;       /**< given names */
        size_t first_cnt;               /**< entries in first */
        const char *const *last;        /**< family names */
        size_t last_cnt;                /**< entries in last */
} ltrr_synth_lang_t;

/** @brief A genre and its subgenres. */
typedef struct ltrr_synth_genre_s {
        const char *name;               /**< genre */
        const char *const *subgenres;   /**< its subgenres */
        size_t subgenres_cnt;           /**< entries in subgenres */
} ltrr_synth_genre_t;

/** @brief Every table the generator draws from. */
typedef struct ltrr_synth_vocab_s {
        const ltrr_synth_lang_t *langs; /**< languages, weights sum to 100 */
        size_t langs_cnt;               /**< entries in langs */
        const ltrr_synth_genre_t *genres; /**< music genres */
        size_t genres_cnt;              /**< entries in genres */
        const char *const *moods;       /**< moods */
        size_t moods_cnt;               /**< entries in moods */
        const char *const *cores;       /**< near-duplicate title cores */
        const char *const *core_plurals; /**< plural of each core */
        size_t cores_cnt;               /**< entries in cores */
        const char *const *patterns;    /**< title patterns around a core */
        size_t patterns_cnt;            /**< entries in patterns */
        const char *const *topics;      /**< podcast topics (also genres) */
        size_t topics_cnt;              /**< entries in topics */
} ltrr_synth_vocab_t;

/** @brief The generator's vocabulary (static, never NULL). */
const ltrr_synth_vocab_t *ltrr_synth_vocab(void);

/**
 * @brief Generates conf->n entities, calling @p cb for each in order.
 *
 * Mix: about 73% tracks, 10% albums, 5% artists, 8% episodes with their
 * podcasts, 3% playlists. Popularity follows a Zipf law over artists;
 * about 5% of albums and 10% of episodes are dated within a few weeks
 * before conf->ref_days.
 * @returns LTRR_OK, LTRR_ERR_INVALID_ARG for a bad conf, LTRR_ERR_NOMEM,
 *          or the first error returned by @p cb.
 */
ltrr_err_t ltrr_synth_generate(const ltrr_synth_conf_t *conf,
                               ltrr_synth_cb *cb, void *opaque, char *errstr,
                               size_t errstr_size);

/**
 * @brief A ready callback that adds each entity to the ltrr_catalog_t
 *        given as @p opaque.
 */
ltrr_err_t ltrr_synth_to_catalog(void *opaque, const ltrr_entity_in_t *in);

#endif /* LTRR_SYNTH_H */
