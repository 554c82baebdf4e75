/*
 * ltrr - the fuzzy arm: typo-tolerant matching of names and artists.
 *
 * Index time: each entity's name and artists are analyzed (folded, not
 * stemmed forms are used); every token contributes its character 3-grams
 * (ltrr_text_ngrams, padded with a space each side) and its whole-token
 * hash, feature-hashed into `dim` signed buckets. The vectors go into an
 * HNSW graph. The folded tokens are kept too, space-separated, to
 * re-rank by edit distance.
 *
 * Query time: the query's tokens are hashed the same way, the graph gives
 * the FUZZY_POOL most similar entities (cosine), and each is re-scored:
 *   score = mean over query tokens of the best token match
 *           (1 exact, 0.75 at one edit, 0.5 at two, 0 beyond the token's
 *           allowance: 0 edits up to 3 code points, 1 up to 6, else 2)
 *           + 0.1 * cosine
 * so an entity holding every query token, each within its allowance,
 * ranks above one that misses a token, whatever their cosines.
 *
 * Section (kind LTRR_INDEX_SEC_NGRAMS, docs/ANN.md; magic LTRRFZY2, the
 * graph's vectors int8 since docs/decisions/0035-ann-build-budget.md):
 *   header 32 bytes | HNSW blob | tok_off (n + 1) u32 | folded tokens
 * The hashed counts are small integers, so their int8 codes are exact.
 * A section of the float32 layout (LTRRFZY1) makes the arm unavailable.
 */
#include <stdlib.h>
#include <string.h>

#include "hnsw.h"
#include "index_int.h"
#include "strbuf.h"
#include "text.h"

#define FZ_MAGIC "LTRRFZY2"
/** The float32 layout before docs/decisions/0035: refused. */
#define FZ_MAGIC_V1 "LTRRFZY1"
#define FZ_HDR 32
/** Gram length. */
#define FZ_GRAM 3
/** Entities taken from the graph before re-ranking (at least k). */
#define FZ_POOL 200
/** Tokens of one entity kept for re-ranking. */
#define FZ_ENT_TOKENS 32
/** Grams hashed per token (a 64-byte token has at most 66). */
#define FZ_GRAMS_MAX 80

/* Section header (32 bytes). */
typedef struct fz_hdr_s {
        char magic[8];     /* FZ_MAGIC */
        uint32_t dim;      /* hashed dimension */
        uint32_t n;        /* entities */
        uint32_t gram;     /* FZ_GRAM */
        uint32_t reserved; /* zero */
        uint64_t hnsw_len; /* bytes of the HNSW blob */
} fz_hdr_t;

/* Parsed section. */
typedef struct fz_view_s {
        ltrr_hnsw_view_t g;      /* the graph */
        const uint32_t *tok_off; /* n + 1 offsets into toks */
        const char *toks;        /* folded tokens */
        uint64_t toks_len;       /* bytes of toks */
} fz_view_t;

/* A re-ranked candidate. */
typedef struct fz_cand_s {
        float score;  /* final score */
        float cosine; /* graph similarity */
        float cover;  /* mean token match */
        float edits;  /* edits summed over matched query tokens */
        uint32_t ent; /* entity */
} fz_cand_t;

/* Adds the hashed grams of one folded token to @p v. */
static void hash_token(const char *tok, size_t len, float *v, uint32_t dim)
{
        uint32_t g[FZ_GRAMS_MAX];
        size_t cnt = 0;
        ltrr_err_t err =
            ltrr_text_ngrams(tok, len, FZ_GRAM, g, FZ_GRAMS_MAX, &cnt);
        if (err && err != LTRR_ERR_NOSPACE)
                cnt = 0;
        g[cnt < FZ_GRAMS_MAX ? cnt++ : FZ_GRAMS_MAX - 1] =
            ltrr_text_hash32(tok, len) ^ 0x9e3779b9u;
        for (size_t i = 0; i < cnt; i++) {
                uint32_t h = g[i];
                v[h % dim] += (h >> 31) ? -1.0f : 1.0f;
        }
}

/* ---- section build ------------------------------------------------------ */

/* Builder state. */
typedef struct fzb_s {
        ltrr_analyzer_t *an;     /* analyzer */
        ltrr_token_t *toks;      /* token array */
        char *arena;             /* token strings */
        ltrr_tokbuf_t tb;        /* output of analysis */
        const ltrr_catalog_t *cat; /* the catalog */
        uint32_t dim;            /* hashed dimension */
        const ltrr_hnsw_conf_t *hc; /* progress callback */
        uint32_t *tok_off;       /* n + 1 */
        ltrr_strbuf_t pool;      /* folded tokens */
        size_t start;            /* pool offset of the current entity */
} fzb_t;

/* Analyzes @p text and hashes/stores its tokens for entity vector @p v;
 * *leftp counts the tokens still allowed in the pool. */
static ltrr_err_t fzb_text(fzb_t *b, const char *text, float *v,
                           uint32_t dim, unsigned *leftp)
{
        char e[64];
        if (!text || !*text)
                return LTRR_OK;
        ltrr_err_t err = ltrr_analyzer_analyze(b->an, text, strlen(text),
                                               &b->tb, e, sizeof(e));
        if (err)
                return err;
        for (size_t i = 0; i < b->tb.cnt; i++) {
                const ltrr_token_t *t = &b->tb.toks[i];
                hash_token(t->norm, t->norm_len, v, dim);
                if (!*leftp)
                        continue;
                (*leftp)--;
                if (b->pool.len > b->start)
                        ltrr_strbuf_putc(&b->pool, ' ');
                ltrr_strbuf_append(&b->pool, t->norm, t->norm_len);
        }
        return b->pool.err;
}

/* Fill callback of the graph build: hashes entity @p i into @p v (dim
 * floats, zeroed) and stores its tokens. */
static ltrr_err_t fzb_entity(void *opaque, uint32_t i, float *v)
{
        fzb_t *b = opaque;
        const ltrr_catalog_t *cat = b->cat;
        uint32_t dim = b->dim;
        ltrr_entity_t ent;
        unsigned left = FZ_ENT_TOKENS;
        const ltrr_hnsw_conf_t *hc = b->hc;
        if (hc->progress && (i & 0xffff) == 0)
                hc->progress(hc->opaque, "fuzzy", i, ltrr_catalog_count(cat));
        ltrr_err_t err = ltrr_catalog_get(cat, i, &ent);
        if (err)
                return err;
        b->start = b->pool.len;
        if ((err = fzb_text(b, ent.name, v, dim, &left)))
                return err;
        for (uint32_t a = 0; a < ent.artists_cnt; a++) {
                const char *an = ltrr_catalog_sym_name(
                    cat, LTRR_CATALOG_SYM_ARTIST, ent.artists[a]);
                if ((err = fzb_text(b, an, v, dim, &left)))
                        return err;
        }
        b->tok_off[i + 1] = (uint32_t)b->pool.len;
        return LTRR_OK;
}

/* Completes the section in @p sec (header room, then the graph of
 * @p glen bytes): the header, then the offsets and tokens appended. */
static ltrr_err_t fzb_write(fzb_t *b, uint32_t n, uint32_t dim, void **secp,
                            size_t glen, size_t *lenp)
{
        size_t offs = ((size_t)n + 1) * 4, offs8 = (offs + 7) & ~(size_t)7;
        size_t tl = b->pool.len, len = FZ_HDR + glen + offs8 +
                                       ((tl + 7) & ~(size_t)7);
        uint8_t *p = realloc(*secp, len); /* large: remapped, not copied */
        if (!p)
                return LTRR_ERR_NOMEM;
        *secp = p;
        memset(p + FZ_HDR + glen, 0, len - FZ_HDR - glen);
        fz_hdr_t h = {.dim = dim, .n = n, .gram = FZ_GRAM,
                      .hnsw_len = glen};
        memcpy(h.magic, FZ_MAGIC, 8);
        memcpy(p, &h, sizeof(h));
        memcpy(p + FZ_HDR + glen, b->tok_off, offs);
        if (tl)
                memcpy(p + FZ_HDR + glen + offs8, b->pool.buf, tl);
        *lenp = len;
        return LTRR_OK;
}

/* Allocates the builder's buffers. */
static ltrr_err_t fzb_init(fzb_t *b, const ltrr_catalog_t *cat, uint32_t n,
                           const ltrr_ann_section_conf_t *c)
{
        b->cat = cat;
        b->dim = c->dim;
        b->hc = &c->hnsw;
        b->toks = malloc(LTRR_TEXT_TOKENS_MAX * sizeof(*b->toks));
        b->arena = malloc(LTRR_TEXT_ARENA_SIZE);
        b->tok_off = calloc((size_t)n + 1, sizeof(uint32_t));
        if (!b->toks || !b->arena || !b->tok_off)
                return LTRR_ERR_NOMEM;
        ltrr_tokbuf_init(&b->tb, b->toks, LTRR_TEXT_TOKENS_MAX, b->arena,
                         LTRR_TEXT_ARENA_SIZE);
        return LTRR_OK;
}

ltrr_err_t ltrr_fuzzy_section_build(const ltrr_catalog_t *cat,
                                    const char *lang,
                                    const ltrr_ann_section_conf_t *conf,
                                    void **blobp, size_t *lenp, char *errstr,
                                    size_t errstr_size)
{
        ltrr_ann_section_conf_t c = conf ? *conf : (ltrr_ann_section_conf_t){0};
        fzb_t b;
        void *sec = NULL;
        size_t len = 0;
        ltrr_err_t err = LTRR_OK;
        memset(&b, 0, sizeof(b));
        ltrr_strbuf_init(&b.pool, UINT32_MAX);
        if (blobp)
                *blobp = NULL;
        if (!cat || !blobp || !lenp)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "bad arguments to fuzzy section build");
        c.dim = c.dim ? c.dim : LTRR_FUZZY_DIM_DEFAULT;
        if (!c.hnsw.ef_construction)
                c.hnsw.ef_construction = LTRR_FUZZY_EFC_DEFAULT;
        if (c.dim < 16 || c.dim > 1024)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "fuzzy dim %u not in 16..1024", c.dim);
        uint32_t n = ltrr_catalog_count(cat);
        b.an = ltrr_analyzer_new(lang ? lang : "en", errstr, errstr_size);
        if (!b.an)
                return LTRR_ERR_INVALID_ARG;
        if ((err = fzb_init(&b, cat, n, &c)))
                goto done;
        /* The vectors are hashed while the graph asks for them (no float
         * copy of them all), straight behind the section header. */
        c.hnsw.head = FZ_HDR;
        if ((err = ltrr_hnsw_build_fill(fzb_entity, &b, n, c.dim, &c.hnsw,
                                        &sec, &len, errstr, errstr_size)))
                goto done_quiet;
        if ((err = fzb_write(&b, n, c.dim, &sec, len - FZ_HDR, lenp)))
                goto done;
        *blobp = sec;
        sec = NULL;
done:
        if (err)
                ltrr_errf(err, errstr, errstr_size, "fuzzy section: %s",
                          ltrr_err2str(err));
done_quiet:
        free(sec);
        ltrr_strbuf_clear(&b.pool);
        free(b.tok_off);
        free(b.arena);
        free(b.toks);
        ltrr_analyzer_destroy(b.an);
        return err;
}

/* ---- query -------------------------------------------------------------- */

/* Parses the section of @p ix (O(1)); 0 if sound, -2 if it has the
 * older float32 layout. */
static int fz_view(const ltrr_index_t *ix, fz_view_t *fv)
{
        uint64_t len = 0;
        const uint8_t *p = ltrr_index_section(ix, LTRR_INDEX_SEC_NGRAMS, &len);
        fz_hdr_t h;
        if (!p || len < FZ_HDR)
                return -1;
        memcpy(&h, p, sizeof(h));
        if (!memcmp(h.magic, FZ_MAGIC_V1, 8))
                return -2;
        if (memcmp(h.magic, FZ_MAGIC, 8) || h.gram != FZ_GRAM ||
            h.n != ltrr_index_count(ix) || h.hnsw_len > len - FZ_HDR ||
            (h.hnsw_len & 7))
                return -1;
        uint64_t offs8 = (((uint64_t)h.n + 1) * 4 + 7) & ~(uint64_t)7;
        uint64_t rest = len - FZ_HDR - h.hnsw_len;
        if (rest < offs8 ||
            ltrr_hnsw_view(p + FZ_HDR, h.hnsw_len, &fv->g, NULL, 0) ||
            fv->g.n != h.n || fv->g.dim != h.dim)
                return -1;
        fv->tok_off = (const uint32_t *)(p + FZ_HDR + h.hnsw_len);
        fv->toks = (const char *)(p + FZ_HDR + h.hnsw_len + offs8);
        fv->toks_len = rest - offs8;
        return fv->tok_off[h.n] <= fv->toks_len ? 0 : -1;
}

static int fz_available(const ltrr_index_t *ix)
{
        fz_view_t fv;
        return fz_view(ix, &fv) == 0;
}

/* Edits a query token of @p cps code points may differ by. */
static unsigned allowance(size_t cps)
{
        return cps <= 3 ? 0 : cps <= 6 ? 1 : 2;
}

/* Code points of @p len bytes of UTF-8. */
static size_t cps_of(const char *s, size_t len)
{
        size_t n = 0;
        for (size_t i = 0; i < len; i++)
                n += ((unsigned char)s[i] & 0xc0) != 0x80;
        return n;
}

/* Best match of query token @p t among the space-separated tokens in
 * @p e (elen bytes); returns the match value and the edits in *editsp. */
static float best_match(const ltrr_token_t *t, const char *e, size_t elen,
                        unsigned *editsp)
{
        unsigned max = allowance(cps_of(t->norm, t->norm_len)), best = max + 1;
        size_t i = 0;
        while (i < elen && best) {
                size_t j = i;
                while (j < elen && e[j] != ' ')
                        j++;
                size_t tl = j - i, ql = t->norm_len;
                unsigned d;
                if ((tl > ql ? tl - ql : ql - tl) <= 2 * (size_t)max + 2 &&
                    ltrr_text_distance(t->norm, ql, e + i, tl, max, &d) ==
                        LTRR_OK &&
                    d < best)
                        best = d;
                i = j + 1;
        }
        *editsp = best;
        return best > max ? 0.0f : 1.0f - 0.25f * (float)best;
}

/* Re-scores one graph hit against the query tokens. */
static void rescore(const fz_view_t *fv, const ltrr_arm_query_t *q,
                    size_t qn, const ltrr_hnsw_hit_t *h, fz_cand_t *c)
{
        uint32_t a = fv->tok_off[h->id], b = fv->tok_off[h->id + 1];
        float cover = 0, edits = 0;
        if (a > b || b > fv->toks_len)
                a = b = 0;
        for (size_t i = 0; i < qn; i++) {
                unsigned d;
                float m = best_match(&q->toks[i], fv->toks + a, b - a, &d);
                cover += m;
                if (m > 0)
                        edits += (float)d;
        }
        c->ent = h->id;
        c->cosine = h->sim;
        c->cover = cover / (float)qn;
        c->edits = edits;
        c->score = c->cover + 0.1f * h->sim;
}

/* Orders re-ranked candidates: score, then entity. */
static int cand_cmp(const void *x, const void *y)
{
        const fz_cand_t *a = x, *b = y;
        if (a->score != b->score)
                return a->score > b->score ? -1 : 1;
        return (a->ent > b->ent) - (a->ent < b->ent);
}

/* Scratch layout of one call. */
typedef struct fz_mem_s {
        void *hs;               /* HNSW scratch */
        size_t hs_size;         /* its bytes */
        float *qv;              /* query vector */
        ltrr_hnsw_hit_t *hits;  /* graph hits */
        fz_cand_t *cands;       /* re-ranked */
} fz_mem_t;

/* Carves the arm's scratch slot for @p pool hits. */
static int fz_mem(ltrr_arm_scratch_t *scr, unsigned slot,
                  const fz_view_t *fv, size_t pool, fz_mem_t *m)
{
        size_t hs = (ltrr_hnsw_scratch_size(&fv->g) + 15) & ~(size_t)15;
        size_t qv = ((size_t)fv->g.dim * 4 + 15) & ~(size_t)15;
        size_t hits = (pool * sizeof(ltrr_hnsw_hit_t) + 15) & ~(size_t)15;
        uint8_t *p = ltrr_arm_scratch_get(scr, slot,
                                          hs + qv + hits +
                                              pool * sizeof(fz_cand_t));
        if (!p)
                return -1;
        m->hs = p;
        m->hs_size = hs;
        m->qv = (float *)(p + hs);
        m->hits = (ltrr_hnsw_hit_t *)(p + hs + qv);
        m->cands = (fz_cand_t *)(p + hs + qv + hits);
        return 0;
}

static ltrr_err_t fz_run(const ltrr_index_t *ix, const ltrr_arm_query_t *q,
                         const ltrr_arm_ctx_t *ctx, ltrr_arm_scratch_t *scr,
                         unsigned slot, size_t k, ltrr_arm_cand_t *out,
                         size_t *cntp, char *errstr, size_t errstr_size)
{
        fz_view_t fv;
        fz_mem_t m;
        size_t qn = q->cnt < LTRR_ARM_QUERY_TOKENS_MAX
                        ? q->cnt : LTRR_ARM_QUERY_TOKENS_MAX;
        size_t pool = k > FZ_POOL ? k : FZ_POOL, nh = 0;
        if (pool > LTRR_HNSW_EF_MAX) /* the graph's bound caps the list */
                pool = LTRR_HNSW_EF_MAX;
        (void)ctx;
        int bad = fz_view(ix, &fv);
        if (bad == -2)
                return ltrr_errf(LTRR_ERR_SCHEMA, errstr, errstr_size,
                                 "the index's fuzzy section has the float32 "
                                 "layout of an older build: rebuild the "
                                 "index with --ann");
        if (bad)
                return ltrr_errf(LTRR_ERR_STATE, errstr, errstr_size,
                                 "index has no fuzzy section");
        if (!qn)
                return LTRR_OK;
        if (fz_mem(scr, slot, &fv, pool, &m))
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "no scratch memory");
        memset(m.qv, 0, (size_t)fv.g.dim * 4);
        for (size_t i = 0; i < qn; i++)
                hash_token(q->toks[i].norm, q->toks[i].norm_len, m.qv,
                           fv.g.dim);
        ltrr_err_t err = ltrr_hnsw_search(&fv.g, m.qv, (uint32_t)pool,
                                          (uint32_t)pool, m.hs, m.hs_size,
                                          m.hits, &nh);
        if (err)
                return ltrr_errf(err, errstr, errstr_size, "fuzzy search");
        for (size_t i = 0; i < nh; i++)
                rescore(&fv, q, qn, &m.hits[i], &m.cands[i]);
        qsort(m.cands, nh, sizeof(*m.cands), cand_cmp);
        size_t n = 0;
        for (size_t i = 0; i < nh && n < k; i++) {
                if (m.cands[i].cover <= 0)
                        continue;
                out[n].ent = m.cands[i].ent;
                out[n].score = m.cands[i].score;
                out[n].feat[0] = m.cands[i].cover;
                out[n].feat[1] = m.cands[i].cosine;
                out[n].feat[2] = m.cands[i].edits;
                out[n].feat[3] = 0;
                n++;
        }
        *cntp = n;
        return LTRR_OK;
}

const ltrr_arm_t ltrr_arm_fuzzy = {
    .name = "fuzzy",
    .desc = "typo-tolerant: character 3-gram vectors, HNSW, edit distance",
    .feat_names = {"token_match", "ngram_cosine", "edits", NULL},
    .available = fz_available,
    .run = fz_run,
};
