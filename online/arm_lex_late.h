/*
 * ltrr - the lexical pass with an expensive filter whose per-entity
 * record can be prefetched (the personal arm's).
 *
 * ltrr_arm_lex_filtered() with cheap = 0 asks its filter about each
 * entity whose score would enter the heap, right after scoring it: one
 * random read per question. ltrr_arm_lex_filtered_late() lets the
 * caller name the memory the filter will read for an entity; the pass
 * prefetches it for every candidate before scoring it, so that the read
 * overlaps the scoring. The answer is ltrr_arm_lex_filtered()'s, byte
 * for byte (asking later, after more candidates, would change the order
 * in which some scores are summed).
 */
#ifndef LTRR_ARM_LEX_LATE_H
#define LTRR_ARM_LEX_LATE_H

#include "arm_state.h"

/** @brief The address @p keep (an ltrr_arm_lex_filter_fn) reads first
 *         for entity @p ent (< ltrr_index_count(@p ix)); only prefetched,
 *         never read through. */
typedef const void *(ltrr_arm_lex_where_fn)(const void *opaque,
                                            const ltrr_index_t *ix,
                                            uint32_t ent);

/**
 * @brief ltrr_arm_lex_filtered() with the expensive filter @p keep
 *        (asked only about entities whose score would enter the heap)
 *        whose record @p where names: the same answer, the filter's
 *        reads prefetched.
 * @param keep required filter; @p where required (NULL: LTRR_ERR_INVALID_ARG).
 * @param opaque handed to both.
 * @return LTRR_OK, LTRR_ERR_INVALID_ARG, LTRR_ERR_RANGE (k above
 *         LTRR_ARM_K_MAX) or LTRR_ERR_NOMEM (scratch), as
 *         ltrr_arm_lex_filtered().
 */
ltrr_err_t ltrr_arm_lex_filtered_late(const ltrr_index_t *ix,
                                      const ltrr_arm_query_t *q,
                                      const ltrr_arm_ctx_t *ctx,
                                      ltrr_arm_scratch_t *scr, unsigned slot,
                                      ltrr_arm_lex_filter_fn *keep,
                                      ltrr_arm_lex_where_fn *where,
                                      const void *opaque, size_t k,
                                      ltrr_arm_cand_t *out, size_t *cntp,
                                      char *errstr, size_t errstr_size);

#endif /* LTRR_ARM_LEX_LATE_H */
