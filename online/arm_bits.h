/*
 * ltrr - a small per-thread cache of entity filter bitmaps for the
 * filtered lexical pass (ltrr_arm_lex_filtered()).
 *
 * An arm whose filter costs a random read per entity (FEATURES, the
 * entity attribute section) can instead test one bit of a bitmap that
 * holds the filter's answer for every entity of the index. Filling it
 * costs one pass over the index's entities, so it pays only when the
 * same filter comes back: the cache keeps LTRR_ARM_BITS_SLOTS bitmaps
 * per thread, keyed by the index and a short key of the filter (e.g.
 * its attribute spans), and drops the least recently used one.
 *
 * The cache lives in caller memory (an arm's scratch slot) of
 * ltrr_arm_bits_bytes() bytes, zeroed before first use; it holds no
 * pointer into itself, so the memory may be moved (copied) between
 * calls.
 */
#ifndef LTRR_ARM_BITS_H
#define LTRR_ARM_BITS_H

#include <stddef.h>
#include <stdint.h>

#include "arm_state.h"
#include "index.h"

/**
 * @brief Sets bit e of @p bits (ltrr_index_count(@p ix) bits, all
 *        zero on entry) for every entity e that passes the filter, and
 *        no bit past the last entity.
 */
typedef void(ltrr_arm_bits_fill_fn)(const void *opaque,
                                    const ltrr_index_t *ix, uint64_t *bits);

/** Bitmaps kept per cache. */
#define LTRR_ARM_BITS_SLOTS 8
/** 64-bit words of a filter key. */
#define LTRR_ARM_BITS_KEY_MAX 8

/**
 * @brief Bytes of a cache for bitmaps over @p n entities (16-byte
 *        multiple).
 */
size_t ltrr_arm_bits_bytes(uint32_t n);

/**
 * @brief The bitmap of filter @p key (@p key_len words, at most
 *        LTRR_ARM_BITS_KEY_MAX) over the entities of @p ix from the cache
 *        at @p mem (ltrr_arm_bits_bytes(ltrr_index_count(ix)) bytes).
 *
 * When the cache does not hold it and @p fill is set, evicts the least
 * recently used bitmap and has @p fill fill it (one pass over the
 * index's entities: a few ms per million).
 *
 * @return The bitmap (ltrr_index_count(ix) bits, valid until the next
 *         call on @p mem), or NULL when not cached and @p fill is NULL,
 *         or on a NULL argument or a key too long.
 */
const uint64_t *ltrr_arm_bits_get(void *mem, const ltrr_index_t *ix,
                                  const uint64_t *key, size_t key_len,
                                  ltrr_arm_bits_fill_fn *fill,
                                  const void *opaque);

/** A filter bitmap pays for its fill when the query's posting lists
 *  hold at least the index's entities / LTRR_ARM_BITS_SHARE postings. */
#define LTRR_ARM_BITS_SHARE 32

/**
 * @brief 1 if the posting lists of @p toks[0..n) hold enough postings
 *        for a filter bitmap to pay (LTRR_ARM_BITS_SHARE); a token the
 *        dictionary lacks, of two or more bytes, may expand to a
 *        prefix's lists and counts as the whole index.
 */
int ltrr_arm_bits_worth(const ltrr_index_t *ix, const ltrr_token_t *toks,
                        size_t n);

/**
 * @brief Filter for ltrr_arm_lex_filtered() (a cheap one): 1 if the bit
 *        of @p ent is set in bitmap @p opaque (from ltrr_arm_bits_get()).
 */
int ltrr_arm_bits_keep(const void *opaque, const ltrr_index_t *ix,
                       uint32_t ent);

#endif /* LTRR_ARM_BITS_H */
