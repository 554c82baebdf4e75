/*
 * ltrr - a small per-thread cache of term membership bitmaps for the
 * lexical pass (ltrr_arm_lex_filtered()).
 *
 * MaxScore completes each candidate from the lists that cannot bring
 * candidates of their own by seeking them; on a frequent list ("the",
 * "episode") most of those seeks find nothing, yet they read the list
 * through. A bitmap of the entities a term's list holds answers "no
 * posting here" without the seek. Each bitmap has LTRR_ARM_TERMBITS_BITS
 * bits (128 KB): one per entity up to that many entities, one per group
 * of 2^shift consecutive entities beyond (set when any entity of the
 * group holds the term), so a clear bit always means "not in the list".
 *
 * With one bit per entity, a bitmap also has a rank table (set bits
 * before each 64-bit word), so the position of a member in the term's
 * posting list is one table read and one popcount away: a seek becomes
 * a direct read.
 *
 * The cache keeps LTRR_ARM_TERMBITS_SLOTS bitmaps, keyed by the index and
 * the term, and drops the least recently used one; a fill reads the
 * term's postings once. It lives in caller memory (a scratch slot),
 * zeroed before first use, and holds no pointer into itself, so the
 * memory may be moved (copied) between calls.
 */
#ifndef LTRR_ARM_TERMBITS_H
#define LTRR_ARM_TERMBITS_H

#include <stdint.h>

#include "index.h"

/** Bitmaps kept per cache. */
#define LTRR_ARM_TERMBITS_SLOTS 8
/** Bits of one bitmap (a power of two). */
#define LTRR_ARM_TERMBITS_BITS (1u << 20)

/** One cached bitmap's key. */
typedef struct ltrr_arm_termbits_key_s {
        const void *feats; /**< FEATURES of its index */
        uint32_t n;        /**< entities of its index */
        uint32_t term;     /**< TERMS position */
        uint32_t ranked;   /**< 1: rank table valid (one bit per entity,
                            *   postings ascending, none out of range) */
        uint64_t used;     /**< last use, 0: empty */
} ltrr_arm_termbits_key_t;

/** The cache (1.5 MB). */
typedef struct ltrr_arm_termbits_s {
        ltrr_arm_termbits_key_t key[LTRR_ARM_TERMBITS_SLOTS]; /**< keys */
        uint64_t tick;                                      /**< uses */
        uint64_t bits[LTRR_ARM_TERMBITS_SLOTS]
                     [LTRR_ARM_TERMBITS_BITS / 64];         /**< maps */
        uint32_t rank[LTRR_ARM_TERMBITS_SLOTS]
                     [LTRR_ARM_TERMBITS_BITS / 64];         /**< set bits
                                                             *   before
                                                             *   each word */
} ltrr_arm_termbits_t;

/**
 * @brief Entities per bit for an index of @p n entities, as a shift:
 *        bit (entity >> shift).
 */
uint32_t ltrr_arm_termbits_shift(uint32_t n);

/**
 * @brief The membership bitmap of term @p term (a TERMS position) of
 *        @p ix from cache @p tb, filled first (evicting the least
 *        recently used bitmap) when missing. The last
 *        LTRR_ARM_TERMBITS_SLOTS - 1 bitmaps returned stay valid (and in
 *        place) until @p tb moves.
 * @return The bitmap (bit e >> ltrr_arm_termbits_shift(n) is set for
 *         every entity e < n of the term's list), or NULL on a NULL
 *         argument or a term out of range.
 */
const uint64_t *ltrr_arm_termbits_get(ltrr_arm_termbits_t *tb,
                                      const ltrr_index_t *ix, uint32_t term);

/**
 * @brief The rank table of bitmap @p bits (returned by
 *        ltrr_arm_termbits_get() on @p tb), or NULL when it has none
 *        (entity groups, or a list with entities out of order or out of
 *        range) or @p bits is not one of @p tb's.
 */
const uint32_t *ltrr_arm_termbits_rank(const ltrr_arm_termbits_t *tb,
                                       const uint64_t *bits);

/**
 * @brief Position in the term's posting list of member @p ent (its bit
 *        set) of bitmap @p bits with rank table @p rank: the set bits
 *        before it.
 */
static inline uint32_t ltrr_arm_termbits_pos(const uint64_t *bits,
                                             const uint32_t *rank,
                                             uint32_t ent)
{
        uint64_t below = (1ull << (ent & 63)) - 1;
        return rank[ent >> 6] +
               (uint32_t)__builtin_popcountll(bits[ent >> 6] & below);
}

/**
 * @brief 1 if entity @p ent (its bit under @p shift) may be in the list
 *        of bitmap @p bits; 0 if it certainly is not.
 */
static inline int ltrr_arm_termbits_may(const uint64_t *bits,
                                        uint32_t shift, uint32_t ent)
{
        uint32_t b = ent >> shift;
        return (int)(bits[b >> 6] >> (b & 63) & 1);
}

#endif /* LTRR_ARM_TERMBITS_H */
