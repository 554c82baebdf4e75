/*
 * ltrr - the artist and genre sections of the index: for every artist
 * (genre) of the entity attribute records (LTRR_ARM_SEC_ENTATTR), the
 * entities that carry it among their first LTRR_ARM_ENTATTR_SLOTS
 * artists (genres), so that the personal arm can build a bitmap of the
 * entities of a profile's artists and genres instead of reading every
 * candidate's attribute record.
 *
 * Layout of both (little-endian, 8-byte aligned start; docs/INDEX.md):
 *   ltrr_arm_artents_hdr_t                       16 bytes
 *   ltrr_arm_artents_rec_t[artist_cnt]           16 bytes each, by key
 *   uint32_t entities[entry_cnt]                 per key ascending
 *
 * Optional: an index without them (or with one that does not match its
 * entities) keeps the personal arm's per-candidate filter (no artist
 * section) or fills genre bitmaps from the entity attribute records (no
 * genre section).
 */
#ifndef LTRR_ARM_ARTENTS_H
#define LTRR_ARM_ARTENTS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "index.h"

/** Section kind: entities per artist hash (this header's layout). */
#define LTRR_ARM_SEC_ARTENTS 26
/** Section kind: entities per genre (symbol + 1, as in the entity
 *  attribute records; this header's layout). */
#define LTRR_ARM_SEC_GENENTS 27

/** @brief Section header (16 bytes). */
typedef struct ltrr_arm_artents_hdr_s {
        uint32_t entity_cnt; /**< entities of the index it was built for */
        uint32_t artist_cnt; /**< records (artists or genres) */
        uint64_t entry_cnt;  /**< entity ids after the records */
} ltrr_arm_artents_hdr_t;

/** @brief One artist's (genre's) record, sorted by key (16 bytes). */
typedef struct ltrr_arm_artents_rec_s {
        uint32_t hash;  /**< ltrr_arm_artist_hash() (genre symbol + 1),
                         *   never 0 */
        uint32_t cnt;   /**< its entities */
        uint64_t first; /**< its first entity, counted in entries */
} ltrr_arm_artents_rec_t;

/**
 * @brief Builds section @p kind (LTRR_ARM_SEC_ARTENTS or _GENENTS) from
 *        the bytes of an entity attribute section (8-byte count, then
 *        ltrr_arm_entattr_t records).
 * @param outp set to a malloc()ed section, or NULL when @p entattr is
 *        not a well-formed entity attribute section.
 * @returns LTRR_OK, LTRR_ERR_INVALID_ARG (another kind, NULL @p outp or
 *          @p lenp), LTRR_ERR_NOMEM.
 */
ltrr_err_t ltrr_arm_artents_build(const void *entattr, size_t len,
                                  uint32_t kind, void **outp, size_t *lenp);

/** @brief The sections a build derives (ltrr_arm_artents_derive()). */
typedef struct ltrr_arm_artents_set_s {
        uint32_t kind[2]; /**< LTRR_ARM_SEC_ARTENTS, _GENENTS */
        void *p[2];       /**< malloc()ed section, NULL: not derived */
        size_t len[2];    /**< bytes of p[i] */
} ltrr_arm_artents_set_t;

/**
 * @brief Derives the artist and genre sections from the entity
 *        attribute section (LTRR_ARM_SEC_ENTATTR) among the extra
 *        sections of build options @p conf, each unless they hold a
 *        section of that kind (ltrr_index_build() calls it).
 * @param conf NULL: no extra section, nothing derived.
 * @param set filled; free with ltrr_arm_artents_clear().
 * @returns LTRR_OK (no section derived without an entity attribute
 *          one), LTRR_ERR_INVALID_ARG (NULL @p set), LTRR_ERR_NOMEM
 *          (nothing kept).
 */
ltrr_err_t ltrr_arm_artents_derive(const ltrr_index_build_conf_t *conf,
                                   ltrr_arm_artents_set_t *set);

/** @brief Frees the sections of @p set and empties it; NULL is a
 *         no-op. */
void ltrr_arm_artents_clear(ltrr_arm_artents_set_t *set);

/**
 * @brief 1 if @p ix has a well-formed section @p kind for its entities
 *        (counts and lengths checked, not every record).
 */
int ltrr_arm_artents_has(const ltrr_index_t *ix, uint32_t kind);

/**
 * @brief The entities (ascending; the caller checks each against the
 *        index's count) whose first artists (genres) include @p key,
 *        from section @p kind.
 * @param cntp set to their number (0 when none or no section).
 * @returns the entities, or NULL when none, no usable section, or a
 *          record out of bounds.
 */
const uint32_t *ltrr_arm_artents_find(const ltrr_index_t *ix, uint32_t kind,
                                      uint32_t key, uint32_t *cntp);

#endif /* LTRR_ARM_ARTENTS_H */
