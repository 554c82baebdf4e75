/*
 * ltrr - per-group popularity bounds for the popularity tie-break of
 * the lexical pass (ltrr_arm_lex_filtered()).
 *
 * The pass ranks equal BM25F scores by popularity, read from the
 * FEATURES record of each tied entity: a random read per tie. Names of
 * the same frequent words give thousands of entities the same score, so
 * most candidates at the k-th place are ties that lose. The bounds hold
 * the largest popularity of each group of 2^shift consecutive entities
 * (at most LTRR_ARM_POPMAX_GROUPS groups, 256 KB): a tied candidate
 * whose group's bound does not pass the k-th entry's popularity cannot
 * enter, and is passed over without its FEATURES read.
 *
 * The bounds live in caller memory (a scratch slot), zeroed before first
 * use; they hold no pointer into themselves, so the memory may be moved
 * (copied) between calls. A fill costs one pass over FEATURES.
 */
#ifndef LTRR_ARM_POPMAX_H
#define LTRR_ARM_POPMAX_H

#include <stdint.h>

#include "index.h"

/** Groups of entities at most (the group grows with the index). */
#define LTRR_ARM_POPMAX_GROUPS 65536

/** Per-group popularity bounds of one index. */
typedef struct ltrr_arm_popmax_s {
        const void *feats;                  /**< FEATURES filled from,
                                             *   NULL: empty */
        uint32_t n;                         /**< entities of that index */
        uint32_t shift;                     /**< group = entity >> shift */
        float max[LTRR_ARM_POPMAX_GROUPS];  /**< largest popularity per
                                             *   group (-inf: none; NaN
                                             *   values are left out) */
} ltrr_arm_popmax_t;

/**
 * @brief Returns the bounds of @p ix in @p pm, filling them first when
 *        @p pm holds another index's (or nothing).
 * @return @p pm, or NULL on a NULL argument.
 */
const ltrr_arm_popmax_t *ltrr_arm_popmax_get(ltrr_arm_popmax_t *pm,
                                             const ltrr_index_t *ix);

/**
 * @brief 1 if every entity of @p ent's group has a popularity of at
 *        most @p pop (or NaN), so @p ent cannot be more popular than
 *        @p pop; 0 otherwise (also when @p pop is NaN).
 */
static inline int ltrr_arm_popmax_at_most(const ltrr_arm_popmax_t *pm,
                                          uint32_t ent, float pop)
{
        return pm->max[ent >> pm->shift] <= pop;
}

#endif /* LTRR_ARM_POPMAX_H */
