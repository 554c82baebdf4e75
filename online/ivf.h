/*
 * ltrr - approximate nearest neighbours by inverted lists (IVF-flat):
 * k-means centroids trained on a sample of the vectors, every vector
 * stored in the list of its nearest centroid, and a search that scans
 * the lists of the query's nprobe nearest centroids exactly.
 *
 * Vectors and the query are int8 codes with a scale (vec_dot.h); the
 * similarity is the exact integer inner product of the codes times both
 * scales (the cosine, as for the HNSW graphs). The index is one flat
 * blob that an index section holds, searched in place from the
 * read-only mapping. Building is deterministic: the same vectors, conf
 * and seed give byte-identical blobs whatever the thread count and the
 * CPU (integer inner products, sums in a fixed order).
 * docs/decisions/0040-semantic-ivf.md gives the reasons and numbers.
 */
#ifndef LTRR_IVF_H
#define LTRR_IVF_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/** Blob layout version; other versions are refused. */
#define LTRR_IVF_VERSION 1
/** Largest vector dimension. */
#define LTRR_IVF_DIM_MAX 4096
/** Largest number of lists. */
#define LTRR_IVF_NLIST_MAX 65536
/** Largest k of a search. */
#define LTRR_IVF_K_MAX 4096
/** Default Lloyd iterations. */
#define LTRR_IVF_ITERS_DEFAULT 6
/** Default training vectors per list. */
#define LTRR_IVF_SAMPLE_PER_LIST 32
/** Largest ltrr_ivf_conf_t.head. */
#define LTRR_IVF_HEAD_MAX 4096
/** ltrr_ivf_view_t.slot of an entity stored in no list (zero vector). */
#define LTRR_IVF_NO_SLOT UINT32_MAX

/** @brief Build parameters; zero fields take the defaults. */
typedef struct ltrr_ivf_conf_s {
        uint32_t nlist;   /**< lists, at most LTRR_IVF_NLIST_MAX (0:
                           *   sqrt(non-zero vectors), rounded); never
                           *   more than the non-zero vectors */
        uint32_t iters;   /**< Lloyd iterations (0:
                           *   LTRR_IVF_ITERS_DEFAULT) */
        uint32_t sample;  /**< training vectors (0:
                           *   LTRR_IVF_SAMPLE_PER_LIST per list) */
        uint32_t threads; /**< build threads (0: online CPUs, at most
                           *   64); never changes the blob */
        uint64_t seed;    /**< training sample draw (any value) */
        /** Called now and then with the work done; NULL for none. */
        void (*progress)(void *opaque, const char *phase, uint64_t done,
                         uint64_t total);
        void *opaque;     /**< passed to progress */
        uint32_t head;    /**< zeroed bytes the returned buffer holds
                           *   before the index (a section header), a
                           *   multiple of 8 up to LTRR_IVF_HEAD_MAX */
} ltrr_ivf_conf_t;

/**
 * @brief Read-only view of a serialized index: pointers into the blob,
 *        filled by ltrr_ivf_view(). Valid while the blob is.
 */
typedef struct ltrr_ivf_view_s {
        const uint8_t *base;      /**< the blob */
        uint64_t len;             /**< its bytes */
        uint32_t n;               /**< entities (vector ids 0..n-1) */
        uint32_t dim;             /**< components per vector */
        uint32_t nlist;           /**< lists (0 only when cnt is 0) */
        uint32_t cnt;             /**< vectors in the lists (non-zero) */
        const int8_t *cent;       /**< nlist * dim centroid codes */
        const float *cent_scales; /**< nlist centroid scales */
        const uint32_t *offs;     /**< nlist + 1 list starts in 0..cnt */
        const uint32_t *ids;      /**< cnt entity ids, list by list,
                                   *   ascending within a list */
        const float *scales;      /**< cnt scales (codes * scale is the
                                   *   unit vector) */
        const int8_t *codes;      /**< cnt * dim codes */
        const uint32_t *slot;     /**< n positions in ids, or
                                   *   LTRR_IVF_NO_SLOT */
} ltrr_ivf_view_t;

/** @brief One search result. */
typedef struct ltrr_ivf_hit_s {
        uint32_t id;              /**< entity */
        float sim;                /**< inner product with the query */
} ltrr_ivf_hit_t;

/**
 * @brief Inner products of the codes @p q with @p cnt code vectors
 *        stored one after the other at @p codes (@p dim codes each,
 *        all in -127..127) into @p out: the same integers as
 *        ltrr_vec_dot_i8() on each, eight vectors at a time on AVX2.
 */
void ltrr_ivf_dots(const int8_t *q, const int8_t *codes, uint32_t dim,
                   uint32_t cnt, int32_t *out);

/**
 * @brief Fills @p out (dim floats, zeroed by the caller) with vector
 *        @p i.
 * @returns LTRR_OK, or an error that stops the build.
 */
typedef ltrr_err_t (*ltrr_ivf_fill_f)(void *opaque, uint32_t i, float *out);

/**
 * @brief Builds the index of @p n vectors of @p dim floats, asked from
 *        @p fill once each in order 0..n-1 and quantized to int8 at
 *        once. All-zero (or absent) vectors go in no list.
 *
 * @param conf  NULL for the defaults.
 * @param blobp set to a malloc'd buffer the caller frees with free():
 *        conf->head zero bytes, then the index.
 * @param lenp  set to its length in bytes (a multiple of 8).
 * @returns LTRR_OK, LTRR_ERR_INVALID_ARG, LTRR_ERR_RANGE (dim, nlist or
 *          head out of bounds), LTRR_ERR_NOMEM, or the error @p fill
 *          returned. On error *blobp is NULL.
 */
ltrr_err_t ltrr_ivf_build_fill(ltrr_ivf_fill_f fill, void *opaque,
                               uint32_t n, uint32_t dim,
                               const ltrr_ivf_conf_t *conf, void **blobp,
                               size_t *lenp, char *errstr,
                               size_t errstr_size);

/**
 * @brief Checks the header of @p blob, the sizes of its parts and the
 *        list bounds, and fills @p v (O(nlist)).
 * @returns LTRR_OK, LTRR_ERR_INVALID_ARG, or LTRR_ERR_CORRUPT with the
 *          reason; a blob of another LTRR_IVF_VERSION says "rebuild the
 *          index".
 */
ltrr_err_t ltrr_ivf_view(const void *blob, size_t len, ltrr_ivf_view_t *v,
                         char *errstr, size_t errstr_size);

/**
 * @brief Checks every list entry and slot (O(n)): ids in range and
 *        ascending within their list, slots pointing back at them.
 * @returns LTRR_OK or LTRR_ERR_CORRUPT naming the first bad entry.
 */
ltrr_err_t ltrr_ivf_check(const ltrr_ivf_view_t *v, char *errstr,
                          size_t errstr_size);

/**
 * @brief Decodes the vector of entity @p id (unit length, or zero when
 *        it is in no list) into @p out (dim floats).
 * @returns 0, or -1 when @p id is out of range (out untouched).
 */
int ltrr_ivf_vector(const ltrr_ivf_view_t *v, uint32_t id, float *out);

/** @brief Bytes of scratch ltrr_ivf_search() needs for @p k and
 *         @p nprobe. */
size_t ltrr_ivf_scratch_size(const ltrr_ivf_view_t *v, uint32_t k,
                             uint32_t nprobe);

/**
 * @brief The @p k vectors most similar to @p q among the lists of the
 *        @p nprobe centroids nearest to it (exact within those lists).
 *
 * @param q       dim floats; quantized like the stored vectors.
 * @param nprobe  lists to scan, 1.. (capped at nlist).
 * @param scratch ltrr_ivf_scratch_size() bytes, 8-aligned, any content.
 * @param out     @p k entries; best first (ties: lower id first).
 * @param cntp    set to the hits written (0 for a zero query).
 * @returns LTRR_OK, LTRR_ERR_INVALID_ARG, or LTRR_ERR_RANGE (k above
 *          LTRR_IVF_K_MAX, nprobe 0, scratch too small). Entries naming
 *          an entity outside 0..n-1 are skipped.
 * @locality one thread at a time per @p scratch; the view is shared.
 */
ltrr_err_t ltrr_ivf_search(const ltrr_ivf_view_t *v, const float *q,
                           uint32_t k, uint32_t nprobe, void *scratch,
                           size_t scratch_size, ltrr_ivf_hit_t *out,
                           size_t *cntp);

/**
 * @brief Exact top @p k over every stored vector (for tests and recall
 *        measurements); the same order as ltrr_ivf_search(). Allocates
 *        nothing.
 * @returns LTRR_OK, LTRR_ERR_INVALID_ARG or LTRR_ERR_RANGE (k).
 */
ltrr_err_t ltrr_ivf_brute(const ltrr_ivf_view_t *v, const float *q,
                          uint32_t k, ltrr_ivf_hit_t *out, size_t *cntp);

#endif /* LTRR_IVF_H */
