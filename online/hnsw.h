/*
 * ltrr - approximate nearest neighbours: an HNSW graph (Malkov & Yashunin)
 * built in memory, serialized as one flat blob that an index section
 * holds, and searched in place from the read-only mapping.
 *
 * Similarity is the cosine: vectors (and the query) are stored as int8
 * codes with a scale (vec_dot.h), the similarity being the exact integer
 * inner product of the codes times both scales. Building runs on several
 * threads in batches and stays deterministic: the same vectors, M,
 * efConstruction and seed give byte-identical blobs whatever the thread
 * count and whatever the CPU (docs/decisions/0032-hnsw-build.md,
 * 0035-ann-build-budget.md).
 *
 * The same header declares the two ANN arms and the builders of their
 * index sections, so that ltrr-index can add the sections through the
 * build conf's `extra` hook: the fuzzy arm searches such a graph, the
 * semantic arm an IVF-flat index since decision 0040 (ivf.h).
 * docs/ANN.md gives the layout; docs/decisions/0021-ann.md the reasons.
 */
#ifndef LTRR_HNSW_H
#define LTRR_HNSW_H

#include <stddef.h>
#include <stdint.h>

#include "arm.h"
#include "catalog.h"
#include "err.h"

/** Largest M (neighbours per node on upper layers; layer 0 has 2M). */
#define LTRR_HNSW_M_MAX 64
/** Largest efConstruction and search ef. */
#define LTRR_HNSW_EF_MAX 4096
/** Highest layer a node may reach. */
#define LTRR_HNSW_LEVEL_MAX 15
/** Largest vector dimension. */
#define LTRR_HNSW_DIM_MAX 4096
/** Default M. */
#define LTRR_HNSW_M_DEFAULT 16
/** Default efConstruction (docs/decisions/0032-hnsw-build.md). */
#define LTRR_HNSW_EFC_DEFAULT 64
/** Blob layout version; other versions are refused (1: float32
 *  vectors; 2: int8 codes and a scale per vector). */
#define LTRR_HNSW_VERSION 2
/** Largest ltrr_hnsw_conf_t.head. */
#define LTRR_HNSW_HEAD_MAX 4096

/** @brief Build parameters; zero fields take the defaults. */
typedef struct ltrr_hnsw_conf_s {
        uint32_t m;               /**< links per node, 2..LTRR_HNSW_M_MAX
                                   *   (default LTRR_HNSW_M_DEFAULT) */
        uint32_t ef_construction; /**< candidate list while inserting
                                   *   (default LTRR_HNSW_EFC_DEFAULT) */
        uint32_t threads;         /**< build threads (0: online CPUs,
                                   *   at most 64); never changes the
                                   *   blob */
        uint64_t seed;            /**< level draws (any value) */
        /** Called now and then with nodes inserted; NULL for none. */
        void (*progress)(void *opaque, const char *phase, uint64_t done,
                         uint64_t total);
        void *opaque;             /**< passed to progress */
        uint32_t head;            /**< zeroed bytes the returned buffer
                                   *   holds before the graph (a
                                   *   section header), a multiple of 8
                                   *   up to LTRR_HNSW_HEAD_MAX */
} ltrr_hnsw_conf_t;

/**
 * @brief Read-only view of a serialized graph: pointers into the blob,
 *        filled by ltrr_hnsw_view(). Valid while the blob is.
 */
typedef struct ltrr_hnsw_view_s {
        const uint8_t *base;      /**< the blob */
        uint64_t len;             /**< its bytes */
        uint32_t n;               /**< nodes */
        uint32_t dim;             /**< components per vector */
        uint32_t m;               /**< links per node on upper layers */
        uint32_t m0;              /**< links per node on layer 0 */
        uint32_t max_level;       /**< top layer */
        uint32_t entry;           /**< entry node (top layer) */
        uint32_t upper_cnt;       /**< upper-layer link blocks */
        const int8_t *codes;      /**< n * dim int8 codes */
        const float *scales;      /**< n scales: codes * scale is the
                                   *   unit vector (0: zero vector) */
        const uint8_t *levels;    /**< top layer of each node */
        const uint32_t *upper_at; /**< first upper block of each node */
        const uint32_t *links0;   /**< n blocks of 1 + m0: count, ids */
        const uint32_t *upper;    /**< upper_cnt blocks of 1 + m */
} ltrr_hnsw_view_t;

/** @brief One search result. */
typedef struct ltrr_hnsw_hit_s {
        uint32_t id;              /**< node (the vector's position) */
        float sim;                /**< inner product with the query */
} ltrr_hnsw_hit_t;

/**
 * @brief Builds the graph of @p n vectors of @p dim floats and serializes
 *        it with the vectors, quantized to int8 (vec_dot.h).
 *
 * @param vecs n * dim floats, row-major; borrowed for the call.
 * @param conf NULL for the defaults.
 * @param blobp set to a malloc'd buffer the caller frees with free():
 *        conf->head zero bytes, then the graph.
 * @param lenp  set to its length in bytes (a multiple of 8).
 * @returns LTRR_OK, LTRR_ERR_INVALID_ARG, LTRR_ERR_RANGE (dim, M or ef
 *          out of bounds) or LTRR_ERR_NOMEM. On error *blobp is NULL.
 */
ltrr_err_t ltrr_hnsw_build(const float *vecs, uint32_t n, uint32_t dim,
                           const ltrr_hnsw_conf_t *conf, void **blobp,
                           size_t *lenp, char *errstr, size_t errstr_size);

/**
 * @brief Fills @p out (dim floats, zeroed by the caller) with vector
 *        @p i; may also do the caller's own work for entity @p i.
 * @returns LTRR_OK, or an error that stops the build.
 */
typedef ltrr_err_t (*ltrr_hnsw_fill_f)(void *opaque, uint32_t i, float *out);

/**
 * @brief As ltrr_hnsw_build(), the vectors coming from @p fill, called
 *        once per vector in order 0..n-1 on the calling thread before
 *        any insertion, so no float copy of all the vectors is needed.
 * @returns as ltrr_hnsw_build(), or the error @p fill returned
 *          (LTRR_ERR_INVALID_ARG for a NULL @p fill, LTRR_ERR_RANGE
 *          for a head that is not a multiple of 8 up to
 *          LTRR_HNSW_HEAD_MAX). On error *blobp is NULL.
 */
ltrr_err_t ltrr_hnsw_build_fill(ltrr_hnsw_fill_f fill, void *opaque,
                                uint32_t n, uint32_t dim,
                                const ltrr_hnsw_conf_t *conf, void **blobp,
                                size_t *lenp, char *errstr,
                                size_t errstr_size);

/**
 * @brief Checks the header of @p blob and the sizes of its parts, and
 *        fills @p v (O(1): the links are checked while searching).
 * @returns LTRR_OK, LTRR_ERR_INVALID_ARG, or LTRR_ERR_CORRUPT with the
 *          reason (bad magic, version, sizes, alignment); a graph of
 *          another LTRR_HNSW_VERSION says "rebuild the index".
 */
ltrr_err_t ltrr_hnsw_view(const void *blob, size_t len, ltrr_hnsw_view_t *v,
                          char *errstr, size_t errstr_size);

/**
 * @brief Checks every node's level and links (O(n * M)).
 * @returns LTRR_OK or LTRR_ERR_CORRUPT naming the first bad node.
 */
ltrr_err_t ltrr_hnsw_check(const ltrr_hnsw_view_t *v, char *errstr,
                           size_t errstr_size);

/**
 * @brief Decodes the vector of node @p id (unit length or zero) into
 *        @p out (dim floats).
 * @returns 0, or -1 when @p id is out of range (out untouched).
 */
int ltrr_hnsw_vector(const ltrr_hnsw_view_t *v, uint32_t id, float *out);

/** @brief Bytes of scratch ltrr_hnsw_search() needs for @p v. */
size_t ltrr_hnsw_scratch_size(const ltrr_hnsw_view_t *v);

/**
 * @brief Finds about the @p k nodes most similar to @p q.
 *
 * @param q    dim floats; quantized like the stored vectors (any
 *             length; not modified).
 * @param ef   candidate list size (raised to k), <= LTRR_HNSW_EF_MAX.
 * @param scratch ltrr_hnsw_scratch_size() bytes, 8-aligned, zero the
 *             first time; reuse it across calls (a visited bitmap of
 *             n bits and the list of the nodes the last search set,
 *             so only those are cleared per query).
 * @param out  @p k entries; best first.
 * @param cntp set to the hits written.
 * @returns LTRR_OK, LTRR_ERR_INVALID_ARG or LTRR_ERR_RANGE (ef, k).
 *          Links pointing outside the graph are skipped, never followed.
 * @locality one thread at a time per @p scratch; the view is shared.
 */
ltrr_err_t ltrr_hnsw_search(const ltrr_hnsw_view_t *v, const float *q,
                            uint32_t k, uint32_t ef, void *scratch,
                            size_t scratch_size, ltrr_hnsw_hit_t *out,
                            size_t *cntp);

/**
 * @brief Exact top @p k by scanning every vector (for tests, recall
 *        measurements and tiny graphs). Allocates nothing.
 * @returns LTRR_OK or LTRR_ERR_INVALID_ARG.
 */
ltrr_err_t ltrr_hnsw_brute(const ltrr_hnsw_view_t *v, const float *q,
                           uint32_t k, ltrr_hnsw_hit_t *out, size_t *cntp);

/* ---- the arms on HNSW and their sections ------------------------------ */

/** Default dimension of the fuzzy arm's hashed n-gram vectors. */
#define LTRR_FUZZY_DIM_DEFAULT 64
/** efConstruction of the fuzzy graph when the conf leaves it 0
 *  (docs/decisions/0035-ann-build-budget.md). */
#define LTRR_FUZZY_EFC_DEFAULT 40

/** @brief Options of ltrr_fuzzy_section_build(); zero gives defaults. */
typedef struct ltrr_ann_section_conf_s {
        uint32_t dim;          /**< fuzzy: hashed dimension, 16..1024
                                *   (default LTRR_FUZZY_DIM_DEFAULT);
                                *   semantic: ignored (the catalog's) */
        ltrr_hnsw_conf_t hnsw; /**< graph parameters */
} ltrr_ann_section_conf_t;

/**
 * @brief Builds the fuzzy arm's section (kind LTRR_INDEX_SEC_NGRAMS):
 *        hashed character 3-gram vectors of each entity's name and
 *        artists, their HNSW graph and the folded tokens used to
 *        re-rank by edit distance. conf->hnsw.ef_construction 0 means
 *        LTRR_FUZZY_EFC_DEFAULT here; conf->hnsw.head is ignored.
 * @param lang analyzer language (NULL: "en"); as the index's.
 * @param blobp set to a malloc'd section the caller frees with free().
 * @returns LTRR_OK, LTRR_ERR_INVALID_ARG, LTRR_ERR_RANGE or
 *          LTRR_ERR_NOMEM.
 */
ltrr_err_t ltrr_fuzzy_section_build(const ltrr_catalog_t *cat,
                                    const char *lang,
                                    const ltrr_ann_section_conf_t *conf,
                                    void **blobp, size_t *lenp, char *errstr,
                                    size_t errstr_size);

/**
 * @brief Builds the semantic arm's section (kind LTRR_INDEX_SEC_VECTORS)
 *        from the catalog's dense vectors.
 * @returns LTRR_OK, LTRR_ERR_STATE when the catalog has no vectors
 *          (dim 0), or the errors of ltrr_ivf_build_fill() (an IVF-flat
 *          index, decision 0040). An entity without a vector gets a
 *          zero vector (never found). conf->hnsw is ignored but for its
 *          seed and thread count.
 */
ltrr_err_t ltrr_semantic_section_build(const ltrr_catalog_t *cat,
                                       const ltrr_ann_section_conf_t *conf,
                                       void **blobp, size_t *lenp,
                                       char *errstr, size_t errstr_size);

/** @brief The fuzzy arm: typo-tolerant n-gram ANN + edit distance. */
extern const ltrr_arm_t ltrr_arm_fuzzy;
/** @brief The semantic arm: dense vectors, pseudo-relevance query. */
extern const ltrr_arm_t ltrr_arm_semantic;

#endif /* LTRR_HNSW_H */
