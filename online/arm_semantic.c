/*
 * ltrr - the semantic arm: nearest neighbours of dense vectors supplied
 * with the catalog (any embedding model), through an IVF-flat index
 * (ivf.h, docs/decisions/0040-semantic-ivf.md).
 *
 * The catalog has no text encoder, so a query has no vector of its own.
 * The arm uses pseudo-relevance feedback instead: it runs the lexical arm,
 * takes the mean of its top SEM_SEEDS hits' vectors as the query vector
 * and returns that vector's neighbours. It therefore finds entities
 * *similar to what the words match* (same style, same artist circle),
 * never entities the words miss entirely; with no lexical hit it returns
 * nothing. docs/ANN.md says more.
 *
 * Unavailable (LTRR_ERR_STATE) when the index holds no vector section.
 *
 * Section (kind LTRR_INDEX_SEC_VECTORS, magic LTRRVEC3): header 32
 * bytes | IVF blob (int8 vectors). A section of an older layout
 * (LTRRVEC1: float32 HNSW graph; LTRRVEC2: int8 HNSW graph, decision
 * 0035) makes the arm unavailable; its own run says "rebuild".
 */
#include <stdlib.h>
#include <string.h>

#include "hnsw.h"
#include "index_int.h"
#include "ivf.h"

#define SEM_MAGIC "LTRRVEC3"
/** The float32 HNSW layout before docs/decisions/0035: refused. */
#define SEM_MAGIC_V1 "LTRRVEC1"
/** The int8 HNSW layout of docs/decisions/0035: refused. */
#define SEM_MAGIC_V2 "LTRRVEC2"
#define SEM_HDR 32
/** Lexical hits averaged into the query vector. */
#define SEM_SEEDS 3
/** Lists scanned per query (docs/decisions/0040-semantic-ivf.md). */
#define SEM_NPROBE 40

/* Section header (32 bytes). */
typedef struct sem_hdr_s {
        char magic[8];        /* SEM_MAGIC */
        uint32_t dim;         /* floats per vector */
        uint32_t n;           /* entities */
        uint64_t reserved;    /* zero */
        uint64_t ivf_len;     /* bytes of the IVF blob */
} sem_hdr_t;

/* Fill callback: the catalog's vector of entity @p i (zero without). */
static ltrr_err_t sem_fill(void *opaque, uint32_t i, float *out)
{
        const ltrr_catalog_t *cat = opaque;
        ltrr_entity_t e;
        if (ltrr_catalog_get(cat, i, &e) == LTRR_OK && e.vector)
                memcpy(out, e.vector, (size_t)ltrr_catalog_dim(cat) * 4);
        return LTRR_OK;
}

ltrr_err_t ltrr_semantic_section_build(const ltrr_catalog_t *cat,
                                       const ltrr_ann_section_conf_t *conf,
                                       void **blobp, size_t *lenp,
                                       char *errstr, size_t errstr_size)
{
        ltrr_hnsw_conf_t hc = conf ? conf->hnsw : (ltrr_hnsw_conf_t){0};
        ltrr_ivf_conf_t ic = {.threads = hc.threads, .seed = hc.seed,
                              .progress = hc.progress, .opaque = hc.opaque,
                              .head = SEM_HDR};
        void *p = NULL;
        size_t len = 0;
        if (blobp)
                *blobp = NULL;
        if (!cat || !blobp || !lenp)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "bad arguments to semantic section build");
        uint32_t n = ltrr_catalog_count(cat), dim = ltrr_catalog_dim(cat);
        if (!dim)
                return ltrr_errf(LTRR_ERR_STATE, errstr, errstr_size,
                                 "the catalog has no vectors");
        /* The index is built straight behind the section header. */
        ltrr_err_t err = ltrr_ivf_build_fill(sem_fill, (void *)cat, n, dim,
                                             &ic, &p, &len, errstr,
                                             errstr_size);
        if (err)
                return err;
        sem_hdr_t h = {.dim = dim, .n = n, .ivf_len = len - SEM_HDR};
        memcpy(h.magic, SEM_MAGIC, 8);
        memcpy(p, &h, sizeof(h));
        *blobp = p;
        *lenp = len;
        return LTRR_OK;
}

/* Parses the section of @p ix into @p g (O(nlist)); 0 if sound, -2 for
 * an older layout. */
static int sem_view(const ltrr_index_t *ix, ltrr_ivf_view_t *g)
{
        uint64_t len = 0;
        const uint8_t *p =
            ltrr_index_section(ix, LTRR_INDEX_SEC_VECTORS, &len);
        sem_hdr_t h;
        if (!p || len < SEM_HDR)
                return -1;
        memcpy(&h, p, sizeof(h));
        if (!memcmp(h.magic, SEM_MAGIC_V1, 8) ||
            !memcmp(h.magic, SEM_MAGIC_V2, 8))
                return -2;
        if (memcmp(h.magic, SEM_MAGIC, 8) || h.n != ltrr_index_count(ix) ||
            h.ivf_len != len - SEM_HDR)
                return -1;
        if (ltrr_ivf_view(p + SEM_HDR, h.ivf_len, g, NULL, 0) ||
            g->n != h.n || g->dim != h.dim)
                return -1;
        return 0;
}

static int sem_available(const ltrr_index_t *ix)
{
        ltrr_ivf_view_t g;
        return sem_view(ix, &g) == 0;
}

/* Mean of the lexical top hits' vectors into @p qv (2 * dim floats: the
 * second half is decoding room); returns the seeds used (0: no lexical
 * hit). */
static size_t seed_vector(const ltrr_index_t *ix, const ltrr_ivf_view_t *g,
                          const ltrr_arm_query_t *q,
                          const ltrr_arm_ctx_t *ctx, ltrr_arm_scratch_t *scr,
                          float *qv, ltrr_err_t *errp, char *errstr,
                          size_t errstr_size)
{
        ltrr_arm_cand_t seeds[SEM_SEEDS];
        size_t cnt = 0;
        int lex = ltrr_arm_find("lexical");
        *errp = lex < 0 ? LTRR_ERR_STATE
                        : ltrr_arm_run((unsigned)lex, ix, q, ctx, scr,
                                       SEM_SEEDS, seeds, &cnt, errstr,
                                       errstr_size);
        if (*errp)
                return 0;
        float *v = qv + g->dim;
        memset(qv, 0, (size_t)g->dim * sizeof(float));
        for (size_t i = 0; i < cnt; i++) {
                if (ltrr_ivf_vector(g, seeds[i].ent, v))
                        continue;
                for (uint32_t d = 0; d < g->dim; d++)
                        qv[d] += v[d] / (float)cnt;
        }
        return cnt;
}

/* Copies the hits with a positive similarity to @p out. */
static size_t sem_emit(const ltrr_ivf_hit_t *hits, size_t nh, size_t seeds,
                       ltrr_arm_cand_t *out)
{
        size_t n = 0;
        for (size_t i = 0; i < nh; i++) {
                if (hits[i].sim <= 0) /* zero vectors: no information */
                        continue;
                out[n].ent = hits[i].id;
                out[n].score = hits[i].sim;
                out[n].feat[0] = hits[i].sim;
                out[n].feat[1] = (float)seeds;
                out[n].feat[2] = out[n].feat[3] = 0;
                n++;
        }
        return n;
}

static ltrr_err_t sem_run(const ltrr_index_t *ix, const ltrr_arm_query_t *q,
                          const ltrr_arm_ctx_t *ctx, ltrr_arm_scratch_t *scr,
                          unsigned slot, size_t k, ltrr_arm_cand_t *out,
                          size_t *cntp, char *errstr, size_t errstr_size)
{
        ltrr_ivf_view_t g;
        ltrr_err_t err;
        int bad = sem_view(ix, &g);
        if (bad == -2)
                return ltrr_errf(LTRR_ERR_SCHEMA, errstr, errstr_size,
                                 "the index's vector section has the HNSW "
                                 "layout of an older build: rebuild the "
                                 "index with --ann");
        if (bad)
                return ltrr_errf(LTRR_ERR_STATE, errstr, errstr_size,
                                 "index has no vector section");
        if (k > LTRR_IVF_K_MAX)
                k = LTRR_IVF_K_MAX;
        size_t hs = (ltrr_ivf_scratch_size(&g, (uint32_t)k, SEM_NPROBE) +
                     15) & ~(size_t)15;
        size_t qv = ((size_t)g.dim * 8 + 15) & ~(size_t)15;
        uint8_t *p = ltrr_arm_scratch_get(
            scr, slot, hs + qv + (k + 1) * sizeof(ltrr_ivf_hit_t));
        if (!p)
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "no scratch memory");
        float *qvec = (float *)(void *)(p + hs);
        ltrr_ivf_hit_t *hits = (ltrr_ivf_hit_t *)(void *)(p + hs + qv);
        size_t seeds = seed_vector(ix, &g, q, ctx, scr, qvec, &err, errstr,
                                   errstr_size);
        if (err || !seeds)
                return err;
        size_t nh = 0;
        if ((err = ltrr_ivf_search(&g, qvec, (uint32_t)k, SEM_NPROBE, p, hs,
                                   hits, &nh)))
                return ltrr_errf(err, errstr, errstr_size, "semantic search");
        *cntp = sem_emit(hits, nh, seeds, out);
        return LTRR_OK;
}

const ltrr_arm_t ltrr_arm_semantic = {
    .name = "semantic",
    .desc = "dense catalog vectors, IVF-flat; query = mean of lexical top 3",
    .feat_names = {"cosine", "seeds", NULL, NULL},
    .available = sem_available,
    .run = sem_run,
};
