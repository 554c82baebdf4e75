/*
 * ltrr - HNSW internals shared by the search side (hnsw.c) and the
 * builder (hnsw_build.c): the blob header, the search scratch, the
 * similarities and the layer searches. Not a public interface.
 */
#ifndef LTRR_HNSW_INT_H
#define LTRR_HNSW_INT_H

#include <stddef.h>
#include <stdint.h>

#include "hnsw.h"
#include "vec_dot.h"

#define HNSW_MAGIC "LTRRHNSW"
#define HNSW_HDR 64
#define HNSW_NONE UINT32_MAX
/* Visited nodes listed for clearing; beyond, the bitmap is wiped. */
#define HNSW_TOUCH_MAX 8192

/* On-disk header (64 bytes). */
typedef struct hnsw_hdr_s {
        char magic[8];            /* HNSW_MAGIC */
        uint32_t version;         /* LTRR_HNSW_VERSION */
        uint32_t dim;             /* floats per vector */
        uint32_t n;               /* nodes */
        uint32_t m;               /* upper-layer links */
        uint32_t m0;              /* layer-0 links */
        uint32_t max_level;       /* top layer */
        uint32_t entry;           /* entry node */
        uint32_t upper_cnt;       /* upper blocks */
        uint64_t seed;            /* level seed */
        uint32_t ef_construction; /* build parameter */
        uint32_t reserved[3];     /* zero */
} hnsw_hdr_t;

_Static_assert(sizeof(hnsw_hdr_t) == HNSW_HDR, "hnsw header size");

/* A bounded binary heap of hits; max = 1 keeps the best at the root. */
typedef struct heap_s {
        ltrr_hnsw_hit_t *a; /* entries */
        size_t n;           /* used */
        size_t cap;         /* capacity */
        int max;            /* 1: max-heap on sim, 0: min-heap */
} heap_t;

/* Search scratch carved out of one caller block. */
typedef struct hscr_s {
        uint32_t *mark;     /* [0]: nodes in touched (above
                             * HNSW_TOUCH_MAX: overflowed), [1]: n the
                             * bits were laid out for */
        uint64_t *bits;     /* visited nodes, one bit each */
        uint32_t *touched;  /* the nodes whose bits are set */
        int8_t *qbuf;       /* the query's codes (search) */
        const int8_t *qc;   /* codes compared: qbuf or a node's */
        float qs;           /* their scale */
        ltrr_vec_dot_fn dot; /* inner product of codes */
        heap_t cand;        /* candidates, best first */
        heap_t res;         /* results, worst first */
} hscr_t;

/* Similarity of the codes in @p s to node @p id: the exact integer
 * inner product times both scales, always in this order. */
static inline float sim_q(const ltrr_hnsw_view_t *v, const hscr_t *s,
                          uint32_t id)
{
        const int8_t *c = v->codes + (size_t)id * v->dim;
        return (float)s->dot(s->qc, c, v->dim) * s->qs * v->scales[id];
}

/* Similarity of nodes @p a and @p b (as sim_q() with a's codes). */
static inline float sim_nodes(const ltrr_hnsw_view_t *v,
                              ltrr_vec_dot_fn dot, uint32_t a, uint32_t b)
{
        return (float)dot(v->codes + (size_t)a * v->dim,
                          v->codes + (size_t)b * v->dim, v->dim) *
               v->scales[a] * v->scales[b];
}

/* Offsets of the blob's parts (codes, levels, upper_at, links0, upper,
 * scales) for the given sizes; returns the total length. */
uint64_t ltrr_hnsw_layout(uint64_t n, uint64_t dim, uint64_t m, uint64_t m0,
                          uint64_t upper_cnt, uint64_t off[6]);

/* Fills the view's pointers and length from its sizes and base. */
void ltrr_hnsw_view_point(ltrr_hnsw_view_t *v);

/* Link block of @p id on layer @p l, or NULL if the node has none or the
 * stored position is out of range; *capp receives the block capacity. */
const uint32_t *ltrr_hnsw_links_of(const ltrr_hnsw_view_t *v, uint32_t id,
                                   uint32_t l, uint32_t *capp);

/* Carves @p mem (ltrr_hnsw_scratch_size() bytes) into search scratch. */
void ltrr_hnsw_scr_init(hscr_t *s, const ltrr_hnsw_view_t *v, void *mem);

/* Greedy walk on layer @p l from *epp to a local best. */
void ltrr_hnsw_greedy(const ltrr_hnsw_view_t *v, const hscr_t *s, uint32_t l,
                      uint32_t *epp, float *simp);

/* Starts a layer search at node @p ep, with no node visited. */
void ltrr_hnsw_seed_layer(const ltrr_hnsw_view_t *v, hscr_t *s, uint32_t ep);

/* Beam search of layer @p l from the entries already in s->res (and
 * s->cand); leaves the ef best in s->res (a min-heap). */
void ltrr_hnsw_search_layer(const ltrr_hnsw_view_t *v, hscr_t *s, uint32_t l,
                            uint32_t ef);

#endif /* LTRR_HNSW_INT_H */
