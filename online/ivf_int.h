/*
 * ltrr - IVF-flat internals shared by the builder (ivf_build.c) and the
 * reader (ivf.c): the blob header and the offsets of its parts.
 *
 * Blob: header (40 bytes) | centroid codes (nlist * dim) | centroid
 * scales (nlist f32) | list starts (nlist + 1 u32) | ids (cnt u32) |
 * scales (cnt f32) | codes (cnt * dim) | slots (n u32); each part
 * starts on a multiple of 8, padding zero. Little-endian host order.
 */
#ifndef LTRR_IVF_INT_H
#define LTRR_IVF_INT_H

#include <stdint.h>

#include "ivf.h"

#define IVF_MAGIC "LTRRIVF1"

/* Blob header (40 bytes). */
typedef struct ivf_hdr_s {
        char magic[8];     /* IVF_MAGIC */
        uint32_t version;  /* LTRR_IVF_VERSION */
        uint32_t dim;      /* components per vector */
        uint32_t n;        /* entities */
        uint32_t nlist;    /* lists */
        uint32_t cnt;      /* vectors in the lists */
        uint32_t reserved; /* zero */
        uint64_t len;      /* bytes of the blob */
} ivf_hdr_t;

/* Byte offsets of the parts, and the blob's length. */
typedef struct ivf_layout_s {
        uint64_t cent, cscale, offs, ids, scales, codes, slot, len;
} ivf_layout_t;

static inline uint64_t ivf_pad8(uint64_t x) { return (x + 7) & ~(uint64_t)7; }

/* The layout of a blob of these counts (64-bit sums: no overflow for
 * counts up to 2^32 and dim up to LTRR_IVF_DIM_MAX). */
static inline void ivf_layout(uint32_t n, uint32_t dim, uint32_t nlist,
                              uint32_t cnt, ivf_layout_t *l)
{
        l->cent = sizeof(ivf_hdr_t);
        l->cscale = l->cent + ivf_pad8((uint64_t)nlist * dim);
        l->offs = l->cscale + ivf_pad8((uint64_t)nlist * 4);
        l->ids = l->offs + ivf_pad8(((uint64_t)nlist + 1) * 4);
        l->scales = l->ids + ivf_pad8((uint64_t)cnt * 4);
        l->codes = l->scales + ivf_pad8((uint64_t)cnt * 4);
        l->slot = l->codes + ivf_pad8((uint64_t)cnt * dim);
        l->len = l->slot + ivf_pad8((uint64_t)n * 4);
}

#endif /* LTRR_IVF_INT_H */
