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
 * A ranked bitmap of a list of at most LTRR_ARM_TERMBITS_QTF_MAX postings
 * also has a quantized tf~ table: per posting (by rank) 4 bits naming
 * which of 16 equal buckets of [0, largest tf~ of the term (TERMS
 * max_tfw)] its tf~ falls in; a bucket's level, its upper end plus a
 * 1e-5 margin, is never under the tf~ of a posting in it. The table (half a byte per posting)
 * stays in cache where the postings (20 bytes each, read at random)
 * do not, so the lexical pass can rule out a posting it would read only
 * to find its contribution too small.
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

/** Postings of the longest list with a quantized tf~ table. */
#define LTRR_ARM_TERMBITS_QTF_MAX (1u << 19)
/** Levels of the quantized tf~ table. */
#define LTRR_ARM_TERMBITS_QTF_LEVELS 16

/** One cached bitmap's key. */
typedef struct ltrr_arm_termbits_key_s {
        const void *feats; /**< FEATURES of its index */
        uint32_t n;        /**< entities of its index */
        uint32_t term;     /**< TERMS position */
        uint32_t ranked;   /**< 1: rank table valid (one bit per entity,
                            *   postings ascending, none out of range) */
        uint32_t qtf;      /**< 1: quantized tf~ table valid (ranked,
                            *   at most LTRR_ARM_TERMBITS_QTF_MAX
                            *   postings, every tf~ in [0, max_tfw]) */
        uint64_t used;     /**< last use, 0: empty */
} ltrr_arm_termbits_key_t;

/** The cache (3.5 MB). */
typedef struct ltrr_arm_termbits_s {
        ltrr_arm_termbits_key_t key[LTRR_ARM_TERMBITS_SLOTS]; /**< keys */
        uint64_t tick;                                      /**< uses */
        uint64_t bits[LTRR_ARM_TERMBITS_SLOTS]
                     [LTRR_ARM_TERMBITS_BITS / 64];         /**< maps */
        uint32_t rank[LTRR_ARM_TERMBITS_SLOTS]
                     [LTRR_ARM_TERMBITS_BITS / 64];         /**< set bits
                                                             *   before
                                                             *   each word */
        float qlevel[LTRR_ARM_TERMBITS_SLOTS]
                    [LTRR_ARM_TERMBITS_QTF_LEVELS];          /**< tf~ of
                                                             *   each level,
                                                             *   ascending */
        uint8_t qtf[LTRR_ARM_TERMBITS_SLOTS]
                   [LTRR_ARM_TERMBITS_QTF_MAX / 2];          /**< level per
                                                             *   posting,
                                                             *   two a byte
                                                             *   (even rank
                                                             *   low) */
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
 * @brief The quantized tf~ table of bitmap @p bits (returned by
 *        ltrr_arm_termbits_get() on @p tb), with its levels in
 *        *@p levelp, or NULL when it has none (no rank table, a list of
 *        more than LTRR_ARM_TERMBITS_QTF_MAX postings, a tf~ that is
 *        negative, not a number or above the term's max_tfw) or
 *        @p bits is not one of @p tb's.
 */
const uint8_t *ltrr_arm_termbits_qtf(const ltrr_arm_termbits_t *tb,
                                     const uint64_t *bits,
                                     const float **levelp);

/**
 * @brief An upper bound of the tf~ of the posting at position @p pos of
 *        a list with quantized tf~ table @p qtf and levels @p level
 *        (ltrr_arm_termbits_qtf()): never under the posting's tf~.
 */
static inline float ltrr_arm_termbits_qtf_at(const uint8_t *qtf,
                                             const float *level,
                                             uint32_t pos)
{
        return level[(qtf[pos >> 1] >> ((pos & 1) * 4)) & 15];
}

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
