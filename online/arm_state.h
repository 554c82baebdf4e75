/*
 * ltrr - the state handed in to arms (Q2E scores, user profile, fresh
 * popularity), the index sections the popular, structured and memory
 * arms read, and helpers shared by those arms.
 *
 * Serving parses its Redis replies into these structs with the builder
 * functions below, then points ltrr_arm_ctx_t at them. Every struct has
 * a fixed size: adds past a bound fail with LTRR_ERR_NOSPACE and change
 * nothing. Entities are index positions (serving maps Redis ids to
 * positions before adding).
 */
#ifndef LTRR_ARM_STATE_H
#define LTRR_ARM_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "arm.h"
#include "catalog.h"
#include "err.h"
#include "index.h"

/** Entities of one query's observed Q2E kept. */
#define LTRR_ARM_Q2E_MAX 256
/** Default prior strength of the Q2E blend. */
#define LTRR_ARM_Q2E_ALPHA 5.0
/** Entities of one user profile kept. */
#define LTRR_ARM_PROFILE_ENTS_MAX 128
/** Artists of one user profile kept. */
#define LTRR_ARM_PROFILE_ARTISTS_MAX 64
/** Genres of one user profile kept. */
#define LTRR_ARM_PROFILE_GENRES_MAX 32
/** Fresh popularity values handed in per request. */
#define LTRR_ARM_POP_MAX 4096

/** Days a release counts as fresh (fresh arm). */
#define LTRR_ARM_FRESH_DAYS 90

/** @brief The popular arm. */
extern const ltrr_arm_t ltrr_arm_popular;
/** @brief The structured arm (QU attribute filters). */
extern const ltrr_arm_t ltrr_arm_structured;
/** @brief The fresh arm (recent releases). */
extern const ltrr_arm_t ltrr_arm_fresh;
/** @brief The personal arm (user profile). */
extern const ltrr_arm_t ltrr_arm_personal;
/** @brief The memory arm (observed and predicted Q2E). */
extern const ltrr_arm_t ltrr_arm_memory;

/** Section kind: popular entities per 1-3 code point prefix. */
#define LTRR_ARM_SEC_PREFIX 20
/** Section kind: entities per attribute (genre, mood, type, ...). */
#define LTRR_ARM_SEC_ATTRS 21
/** Section kind: artists and genres of every entity, in entity order
 *  (ltrr_arm_entattr_t records after an 8-byte count header). */
#define LTRR_ARM_SEC_ENTATTR LTRR_INDEX_SEC_ENTATTR
/** Artists and genres kept per entity in LTRR_ARM_SEC_ENTATTR. */
#define LTRR_ARM_ENTATTR_SLOTS 2

/** @brief One entity's record of LTRR_ARM_SEC_ENTATTR (16 bytes). */
typedef struct ltrr_arm_entattr_s {
        /** ltrr_arm_artist_hash() of its first artists, 0 = none */
        uint32_t artist[LTRR_ARM_ENTATTR_SLOTS];
        /** its first genre symbols plus one, 0 = none */
        uint32_t genre[LTRR_ARM_ENTATTR_SLOTS];
} ltrr_arm_entattr_t;

/** Entities kept per prefix. */
#define LTRR_ARM_PREFIX_PER_KEY 64
/** Longest prefix stored, in code points. */
#define LTRR_ARM_PREFIX_CPS_MAX 3
/** Entities kept per attribute value (the most popular). */
#define LTRR_ARM_ATTR_PER_KEY 20000
/** Lexical candidates re-scored by the popular, fresh, personal and
 *  structured arms. */
#define LTRR_ARM_POOL_MAX 1024

/** @brief Observed Q2E of one normalized query. */
typedef struct ltrr_q2e_state_s ltrr_q2e_state_t;
/** @brief A user's recent entities and artist and genre affinities. */
typedef struct ltrr_user_profile_s ltrr_user_profile_t;
/** @brief Fresh popularity of some entities. */
typedef struct ltrr_pop_overrides_s ltrr_pop_overrides_t;

/** @brief One observed entity of a Q2E state. */
typedef struct ltrr_q2e_obs_s {
        uint32_t ent;     /**< entity index */
        float observed;   /**< sum of engagement values */
} ltrr_q2e_obs_t;

struct ltrr_q2e_state_s {
        double impressions;  /**< impressions of the query */
        double alpha;        /**< blend prior strength, >= 0 */
        uint32_t cnt;        /**< entries in obs */
        ltrr_q2e_obs_t obs[LTRR_ARM_Q2E_MAX]; /**< observed entities */
};

/** @brief One weighted profile item (entity, artist hash or genre). */
typedef struct ltrr_profile_item_s {
        uint32_t key;     /**< entity index, artist hash or genre symbol */
        float weight;     /**< > 0 */
} ltrr_profile_item_t;

struct ltrr_user_profile_s {
        uint32_t ents_cnt;    /**< entries in ents */
        uint32_t artists_cnt; /**< entries in artists */
        uint32_t genres_cnt;  /**< entries in genres */
        ltrr_profile_item_t ents[LTRR_ARM_PROFILE_ENTS_MAX]; /**< recent and
                                                              *   liked */
        ltrr_profile_item_t artists[LTRR_ARM_PROFILE_ARTISTS_MAX]; /**<
                                          ltrr_arm_artist_hash() keys */
        ltrr_profile_item_t genres[LTRR_ARM_PROFILE_GENRES_MAX]; /**< genre
                                          *   symbols of the catalog */
};

/** @brief One fresh popularity value. */
typedef struct ltrr_pop_item_s {
        uint32_t ent;     /**< entity index */
        float pop;        /**< in the index's popularity scale */
        uint32_t seq;     /**< order of addition (the last one wins) */
} ltrr_pop_item_t;

struct ltrr_pop_overrides_s {
        uint32_t cnt;     /**< entries in items */
        int sorted;       /**< 1 once ltrr_pop_overrides_seal() ran */
        ltrr_pop_item_t items[LTRR_ARM_POP_MAX]; /**< by entity when sorted */
};

/** @brief Creates an empty Q2E state (impressions 0, default alpha). */
ltrr_q2e_state_t *ltrr_q2e_state_new(void);
/** @brief Frees @p st; NULL is a no-op. */
void ltrr_q2e_state_destroy(ltrr_q2e_state_t *st);
/** @brief Empties @p st and sets the query's impressions and alpha. */
void ltrr_q2e_state_reset(ltrr_q2e_state_t *st, double impressions,
                          double alpha);
/**
 * @brief Adds an observed entity (a repeat adds to its sum).
 * @returns LTRR_OK, LTRR_ERR_INVALID_ARG (not finite), LTRR_ERR_NOSPACE.
 */
ltrr_err_t ltrr_q2e_state_add(ltrr_q2e_state_t *st, uint32_t ent,
                              double observed);

/** @brief Creates an empty profile. */
ltrr_user_profile_t *ltrr_user_profile_new(void);
/** @brief Frees @p p; NULL is a no-op. */
void ltrr_user_profile_destroy(ltrr_user_profile_t *p);
/** @brief Empties @p p. */
void ltrr_user_profile_reset(ltrr_user_profile_t *p);
/**
 * @brief Adds weight to an entity, artist (hash) or genre (symbol).
 * @param what 0 entity, 1 artist, 2 genre.
 * @returns LTRR_OK, LTRR_ERR_INVALID_ARG, LTRR_ERR_NOSPACE.
 */
ltrr_err_t ltrr_user_profile_add(ltrr_user_profile_t *p, int what,
                                 uint32_t key, float weight);
/**
 * @brief Derives artist and genre affinities from the profile's
 *        entities: each artist and genre of an entity gets its weight
 *        (genres need the index's LTRR_ARM_SEC_ENTATTR section).
 * @returns LTRR_OK, or LTRR_ERR_NOSPACE when a table filled up (the
 *          rest is left out).
 */
ltrr_err_t ltrr_user_profile_derive(ltrr_user_profile_t *p,
                                    const ltrr_index_t *ix);
/** @brief Weight of @p key in profile table @p what (0 if absent). */
float ltrr_user_profile_weight(const ltrr_user_profile_t *p, int what,
                               uint32_t key);

/**
 * @brief A profile's artist and genre affinities, sorted by key for
 *        lookups per candidate, each scaled by the largest of its table.
 */
typedef struct ltrr_profile_view_s {
        uint32_t artists_cnt;  /**< entries in artists */
        uint32_t genres_cnt;   /**< entries in genres */
        ltrr_profile_item_t artists[LTRR_ARM_PROFILE_ARTISTS_MAX]; /**< by
                                                                 key, scaled */
        ltrr_profile_item_t genres[LTRR_ARM_PROFILE_GENRES_MAX]; /**< by key,
                                                                   scaled */
} ltrr_profile_view_t;

/** @brief Builds @p v from the derived artists and genres of @p p (NULL:
 *         an empty view). */
void ltrr_profile_view_build(ltrr_profile_view_t *v,
                             const ltrr_user_profile_t *p);
/**
 * @brief The user's affinity to entity @p ent of @p ix: the largest
 *        scaled weight among its artists (*@p artist) and its genres
 *        (*@p genre), in [0, 1]. Reads the LTRR_ARM_SEC_ENTATTR section
 *        (without it, artists from the entity's record and no genres).
 */
void ltrr_profile_view_affinity(const ltrr_profile_view_t *v,
                                const ltrr_index_t *ix, uint32_t ent,
                                float *artist, float *genre);

/** @brief Creates empty popularity overrides. */
ltrr_pop_overrides_t *ltrr_pop_overrides_new(void);
/** @brief Frees @p po; NULL is a no-op. */
void ltrr_pop_overrides_destroy(ltrr_pop_overrides_t *po);
/** @brief Empties @p po. */
void ltrr_pop_overrides_reset(ltrr_pop_overrides_t *po);
/** @brief Adds one value (unsorted until sealed).
 *  @returns LTRR_OK, LTRR_ERR_INVALID_ARG, LTRR_ERR_NOSPACE or
 *           LTRR_ERR_STATE when already sealed. */
ltrr_err_t ltrr_pop_overrides_add(ltrr_pop_overrides_t *po, uint32_t ent,
                                  float pop);
/** @brief Sorts by entity (last value of a repeat wins); call once after
 *         the adds, before handing @p po to arms. */
void ltrr_pop_overrides_seal(ltrr_pop_overrides_t *po);

/**
 * @brief Popularity of @p ent: the override when @p po (sealed) has one,
 *        else the index's; negative if unknown.
 */
float ltrr_arm_popularity(const ltrr_index_t *ix,
                          const ltrr_pop_overrides_t *po, uint32_t ent,
                          int *freshp);

/** @brief Key of one artist name for profile tables (32-bit FNV-1a of
 *         its bytes as the index stores them). */
uint32_t ltrr_arm_artist_hash(const char *name, size_t len);
/**
 * @brief Steps through an entity's artists string ("A, B, C"): sets
 *        *@p name and *@p len to the artist at *@p s and moves *@p s
 *        past it and its ", ".
 * @returns 1 when an artist was read (maybe empty: "A, , B"), 0 once
 *          *@p s is at the end.
 */
int ltrr_arm_artist_next(const char **s, const char **name, size_t *len);

/**
 * @brief Attribute-section key of a QU kind and value.
 * @param kind ltrr_qu_kind_t; a year maps to its decade.
 */
uint64_t ltrr_arm_attr_key(int kind, uint32_t value);

/* ---- index-time data ---------------------------------------------------- */

/** @brief The sections the popular, structured and memory arms read. */
typedef struct ltrr_arm_sections_s ltrr_arm_sections_t;

/**
 * @brief Builds the QU dictionary (kind 18), predicted Q2E (19), prefix
 *        (LTRR_ARM_SEC_PREFIX), attribute (LTRR_ARM_SEC_ATTRS), word
 *        (LTRR_SPELL_SEC_WORDS, spell_words.h) and entity attribute
 *        (LTRR_ARM_SEC_ENTATTR) sections of @p cat, whose entity order
 *        the index keeps.
 * @param lang analyzer language, NULL = "en".
 * @returns the sections, or NULL with the reason in @p errstr.
 */
ltrr_arm_sections_t *ltrr_arm_sections_new(const ltrr_catalog_t *cat,
                                           const char *lang, char *errstr,
                                           size_t errstr_size);
/** @brief Frees @p s; NULL is a no-op. */
void ltrr_arm_sections_destroy(ltrr_arm_sections_t *s);
/**
 * @brief The QU, predicted Q2E, prefix, attribute and word sections as
 *        build extras (not the entity attribute one: see
 *        ltrr_arm_sections_extra_all()); valid until @p s is destroyed.
 * @returns the number of entries written to @p out (0 if @p cap < 5).
 */
size_t ltrr_arm_sections_extra(const ltrr_arm_sections_t *s,
                               ltrr_index_extra_t *out, size_t cap);

/**
 * @brief The sections of ltrr_arm_sections_extra() plus the entity
 *        attribute section (LTRR_ARM_SEC_ENTATTR) the personal arm reads
 *        per candidate; valid until @p s is destroyed.
 * @returns the number of entries written to @p out (0 if @p cap < 6).
 */
size_t ltrr_arm_sections_extra_all(const ltrr_arm_sections_t *s,
                                   ltrr_index_extra_t *out, size_t cap);

/* ---- helpers shared by the arms (internal) ------------------------------ */

/** @brief Bytes of scratch the lexical arm uses in its slot (defined in
 *         arm_lexical.c). Arms that call the lexical arm in their own
 *         slot keep their data after this many bytes. */
size_t ltrr_arm_lexical_scratch_bytes(void);

/**
 * @brief Runs the lexical arm into @p pool (up to @p cap) in @p slot.
 * @returns as ltrr_arm_run_fn.
 */
ltrr_err_t ltrr_arm_lex_pool(const ltrr_index_t *ix,
                             const ltrr_arm_query_t *q,
                             const ltrr_arm_ctx_t *ctx,
                             ltrr_arm_scratch_t *scr, unsigned slot,
                             ltrr_arm_cand_t *pool, size_t cap,
                             size_t *cntp, char *errstr, size_t errstr_size);

/** @brief An entity filter for ltrr_arm_lex_filtered(): 1 keeps
 *         entity @p ent (< ltrr_index_count(@p ix)). */
typedef int(ltrr_arm_lex_filter_fn)(const void *opaque,
                                    const ltrr_index_t *ix, uint32_t ent);

/**
 * @brief The lexical arm restricted to the entities @p keep accepts: the
 *        k best of those by BM25F (exact names first), as if the others
 *        were not in the index, except that idf and bounds stay those of
 *        the whole index. The heap holds kept entities only and prunes
 *        against them.
 * @param keep NULL keeps every entity (the plain lexical arm).
 * @param cheap 1: @p keep costs about a bit test and is asked before an
 *        entity is scored; 0: it is asked only about entities whose
 *        score would enter the heap (a filter reading per-entity
 *        records at random).
 * @returns as ltrr_arm_run_fn; k above LTRR_ARM_K_MAX is LTRR_ERR_RANGE.
 */
ltrr_err_t ltrr_arm_lex_filtered(const ltrr_index_t *ix,
                                 const ltrr_arm_query_t *q,
                                 const ltrr_arm_ctx_t *ctx,
                                 ltrr_arm_scratch_t *scr, unsigned slot,
                                 ltrr_arm_lex_filter_fn *keep,
                                 const void *opaque, int cheap, size_t k,
                                 ltrr_arm_cand_t *out, size_t *cntp,
                                 char *errstr, size_t errstr_size);

/**
 * @brief ltrr_arm_lex_filtered() with a cheap filter that keeps only
 *        entities released on or after day @p since (it may keep fewer,
 *        e.g. none released after some day). The same result, but when
 *        every query term has a RECENT list in the index (or a short
 *        posting list) the pass scores only the recent entities those
 *        lists hold instead of walking the long lists.
 * @param keep required: 1 for an entity to keep; it must keep no
 *        undated entity and none released before @p since.
 * @returns as ltrr_arm_lex_filtered().
 */
ltrr_err_t ltrr_arm_lex_recent(const ltrr_index_t *ix,
                               const ltrr_arm_query_t *q,
                               const ltrr_arm_ctx_t *ctx,
                               ltrr_arm_scratch_t *scr, unsigned slot,
                               ltrr_arm_lex_filter_fn *keep,
                               const void *opaque, int32_t since, size_t k,
                               ltrr_arm_cand_t *out, size_t *cntp,
                               char *errstr, size_t errstr_size);

/**
 * @brief The LTRR_ARM_SEC_ENTATTR records of @p ix, one per entity.
 * @returns the records, or NULL when the index has none or their count
 *          does not match the entities.
 */
const ltrr_arm_entattr_t *ltrr_arm_entattr(const ltrr_index_t *ix);

/** @brief Sorts candidates by score descending, then entity. */
void ltrr_arm_cand_sort(ltrr_arm_cand_t *c, size_t n);

/**
 * @brief Marks which of the first min(n, LTRR_ARM_POOL_MAX) candidates
 *        carry attribute @p key (ltrr_arm_attr_key()): hit[i] = 1 or 0.
 * @returns the number marked (0 when the index has no such list).
 */
size_t ltrr_arm_attr_mark(const ltrr_index_t *ix, uint64_t key,
                          const ltrr_arm_cand_t *c, size_t n, uint8_t *hit);

/** @brief 1 + ln(1 + max(pop, 0)): the popularity factor of scores. */
float ltrr_arm_pop_factor(float pop);

#endif /* LTRR_ARM_STATE_H */
