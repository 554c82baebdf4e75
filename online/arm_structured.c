/*
 * ltrr - the structured arm: query understanding turns spans of the
 * query into attribute filters (genre, subgenre, mood, entity type,
 * year or decade, language); the remaining tokens (titles, artists) are
 * matched lexically; what passes every filter is sorted by popularity,
 * then recency. Unavailable when the index has no QU dictionary or the
 * query has no attribute span. docs/ARMS.md.
 *
 * The lexical match of the remaining tokens is filtered before scoring
 * (type, year or decade, language from FEATURES; genres from the entity
 * attribute section when the index has it), so it keeps the 4k best
 * entities that pass instead of filtering a large unfiltered pool.
 *
 * The dictionary is the index's QU section, read in place: the first
 * call of a thread on an index checks it fully (ltrr_qu_dict_load()),
 * then a view of it is kept in the arm's scratch slot, after the bytes
 * the lexical arm uses there.
 */
#include <string.h>

#include "arm.h"
#include "arm_state.h"
#include "index_int.h"
#include "q2e_predict.h"
#include "qu.h"
#include "qu_int.h"

/** Lexical candidates gathered per wanted candidate. */
#define STR_POOL_FACTOR 4
/** Spans looked at per query. */
#define STR_SPANS_MAX 16

/* The dictionary view kept in scratch memory. */
typedef struct str_cache_s {
        const void *blob;          /* section bytes the view is for */
        uint64_t len;              /* their length */
        int ok;                    /* 1: checked and attached */
        struct ltrr_qu_dict_s d;   /* the view (owns nothing) */
} str_cache_t;

/* The filters of one query. */
typedef struct str_filter_s {
        ltrr_qu_span_t sp[STR_SPANS_MAX]; /* attribute spans */
        size_t n;                         /* entries in sp */
        ltrr_token_t rest[LTRR_ARM_QUERY_TOKENS_MAX]; /* other tokens */
        size_t nrest;                     /* entries in rest */
} str_filter_t;

/* Returns 1 if the index holds a QU dictionary. */
static int str_available(const ltrr_index_t *ix)
{
        uint64_t len;
        return ix && ltrr_index_section(ix, LTRR_INDEX_SEC_QU, &len) != NULL;
}

/* Offset of the view in the slot: after the lexical arm's bytes. */
static size_t cache_off(void)
{
        return (ltrr_arm_lexical_scratch_bytes() + 15) & ~(size_t)15;
}

/* Returns the dictionary view of @p ix for this thread, or NULL with the
 * reason in errstr. */
static const ltrr_qu_dict_t *dict_get(const ltrr_index_t *ix,
                                      ltrr_arm_scratch_t *scr, unsigned slot,
                                      ltrr_err_t *errp, char *errstr,
                                      size_t errstr_size)
{
        uint64_t len;
        const void *sec = ltrr_index_section(ix, LTRR_INDEX_SEC_QU, &len);
        uint8_t *m = ltrr_arm_scratch_get(scr, slot,
                                          cache_off() + sizeof(str_cache_t));
        *errp = LTRR_ERR_NOMEM;
        if (!m) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "no scratch");
                return NULL;
        }
        str_cache_t *c = (str_cache_t *)(m + cache_off());
        if (c->ok && c->blob == sec && c->len == len)
                return &c->d;
        c->ok = 0;
        ltrr_qu_dict_t *full = ltrr_qu_dict_load(sec, len, errstr,
                                                 errstr_size);
        if (!full) {
                *errp = LTRR_ERR_CORRUPT;
                return NULL;
        }
        ltrr_qu_dict_destroy(full);
        memset(&c->d, 0, sizeof(c->d));
        memcpy(c->d.h, sec, QU_HDR_BYTES);
        c->d.blob = sec;
        c->d.len = len;
        ltrr_qu_attach(&c->d);
        c->blob = sec;
        c->len = len;
        c->ok = 1;
        return &c->d;
}

/* 1 if @p kind is an attribute filter. */
static int is_attr(ltrr_qu_kind_t kind)
{
        return kind != LTRR_QU_ARTIST && kind < LTRR_QU__CNT;
}

/* Tags the query and splits it into attribute spans and other tokens. */
static ltrr_err_t split(const ltrr_qu_dict_t *d, const ltrr_arm_query_t *q,
                        str_filter_t *f, char *errstr, size_t errstr_size)
{
        ltrr_qu_span_t sp[STR_SPANS_MAX];
        size_t ns = 0;
        uint8_t covered[LTRR_ARM_QUERY_TOKENS_MAX] = {0};
        size_t n = q->cnt < LTRR_ARM_QUERY_TOKENS_MAX ? q->cnt
                                                      : LTRR_ARM_QUERY_TOKENS_MAX;
        ltrr_qu_scratch_t *qs = ltrr_qu_scratch_new(errstr, errstr_size);
        if (!qs)
                return LTRR_ERR_NOMEM;
        ltrr_err_t err = ltrr_qu_tag(d, qs, q->toks, n, sp, STR_SPANS_MAX,
                                     &ns, NULL);
        ltrr_qu_scratch_destroy(qs);
        if (err != LTRR_OK && err != LTRR_ERR_NOSPACE)
                return ltrr_errf(err, errstr, errstr_size, "tagging failed");
        f->n = f->nrest = 0;
        for (size_t i = 0; i < ns; i++) {
                if (!is_attr(sp[i].kind))
                        continue;
                f->sp[f->n++] = sp[i];
                for (size_t t = sp[i].start;
                     t < (size_t)sp[i].start + sp[i].len && t < n; t++)
                        covered[t] = 1;
        }
        for (size_t t = 0; t < n; t++)
                if (!covered[t])
                        f->rest[f->nrest++] = q->toks[t];
        return LTRR_OK;
}

/* 1 if entity @p ent passes the filters read from FEATURES. */
static int feat_ok(const ltrr_index_t *ix, const str_filter_t *f,
                   uint32_t ent)
{
        const ltrr_index_feat_t *ft = &ix->feats[ent];
        int y = 0, mo, dd, have_y = 0;
        for (size_t i = 0; i < f->n; i++) {
                ltrr_qu_kind_t kind = f->sp[i].kind;
                if (!have_y && (kind == LTRR_QU_YEAR ||
                                kind == LTRR_QU_DECADE)) {
                        have_y = 1;
                        if (ft->release_prec != LTRR_DATE_NONE)
                                ltrr_date_to_ymd(ft->release_days, &y, &mo,
                                                 &dd);
                }
                uint32_t v = f->sp[i].value;
                uint32_t lang = (uint32_t)(uint8_t)ft->lang[0] |
                                (uint32_t)(uint8_t)ft->lang[1] << 8;
                switch (f->sp[i].kind) {
                case LTRR_QU_TYPE:
                        if (ft->type != v) return 0;
                        break;
                case LTRR_QU_LANGUAGE:
                        if (lang != v) return 0;
                        break;
                case LTRR_QU_YEAR:
                        if (y != (int)v) return 0;
                        break;
                case LTRR_QU_DECADE:
                        if (y < (int)v || y > (int)v + 9) return 0;
                        break;
                default:
                        break;
                }
        }
        return 1;
}

/* The span whose attribute list is shortest; its list in *lp, *lcp. */
static size_t driving_span(const ltrr_index_t *ix, const str_filter_t *f,
                           const ltrr_q2e_tab_ent_t **lp, size_t *lcp)
{
        uint64_t len;
        size_t best = 0;
        const void *sec = ltrr_index_section(ix, LTRR_ARM_SEC_ATTRS, &len);
        *lp = NULL;
        *lcp = 0;
        for (size_t i = 0; i < f->n; i++) {
                const ltrr_q2e_tab_ent_t *l = NULL;
                size_t lc = 0;
                if (sec)
                        ltrr_q2e_tab_lookup(sec, len,
                                            ltrr_arm_attr_key(f->sp[i].kind,
                                                              f->sp[i].value),
                                            &l, &lc);
                if (i == 0 || lc < *lcp) {
                        best = i;
                        *lp = l;
                        *lcp = lc;
                }
        }
        return best;
}

/* 1 if @p kind is a set attribute (checked through its list). */
static int is_set(ltrr_qu_kind_t kind)
{
        return kind == LTRR_QU_GENRE || kind == LTRR_QU_SUBGENRE ||
               kind == LTRR_QU_MOOD;
}

/* 1 if entity @p ent carries every genre of the filters, read from its
 * entity attribute record @p ea (its first LTRR_ARM_ENTATTR_SLOTS
 * genres). */
static int genre_ok(const ltrr_arm_entattr_t *ea, const str_filter_t *f,
                    uint32_t ent)
{
        for (size_t i = 0; i < f->n; i++) {
                if (f->sp[i].kind != LTRR_QU_GENRE)
                        continue;
                int hit = 0;
                for (int g = 0; g < LTRR_ARM_ENTATTR_SLOTS && !hit; g++)
                        hit = ea[ent].genre[g] == f->sp[i].value + 1;
                if (!hit)
                        return 0;
        }
        return 1;
}

/* Filters of the lexical pass. */
typedef struct str_keep_s {
        const str_filter_t *f;         /* the query's filters */
        const ltrr_arm_entattr_t *ea;  /* entity attributes, or NULL */
} str_keep_t;

/* Filter of the lexical pass: the feature filters and, with the entity
 * attribute section, the genres. */
static int keep_str(const void *opaque, const ltrr_index_t *ix, uint32_t ent)
{
        const str_keep_t *sk = opaque;
        return feat_ok(ix, sk->f, ent) &&
               (!sk->ea || genre_ok(sk->ea, sk->f, ent));
}

/* Keeps the candidates of @p c that carry every set attribute but span
 * @p skip (already satisfied) and pass the feature filters; genres are
 * not checked again when @p ea is set (the lexical pass did). */
static size_t set_filter(const ltrr_index_t *ix, const str_filter_t *f,
                         size_t skip, const ltrr_arm_entattr_t *ea,
                         ltrr_arm_cand_t *c, size_t n)
{
        uint8_t ok[LTRR_ARM_POOL_MAX], hit[LTRR_ARM_POOL_MAX];
        for (size_t i = 0; i < n; i++)
                ok[i] = c[i].ent < ix->n && feat_ok(ix, f, c[i].ent);
        for (size_t s = 0; s < f->n; s++) {
                if (s == skip || !is_set(f->sp[s].kind) ||
                    (ea && f->sp[s].kind == LTRR_QU_GENRE))
                        continue;
                if (!ltrr_arm_attr_mark(ix, ltrr_arm_attr_key(
                                                f->sp[s].kind,
                                                f->sp[s].value),
                                        c, n, hit))
                        memset(hit, 0, n);
                for (size_t i = 0; i < n; i++)
                        ok[i] &= hit[i];
        }
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
                if (ok[i])
                        c[m++] = c[i];
        return m;
}

/* Scores the kept candidates: popularity, then recency; feat[0] holds
 * the relative lexical score (1 without remaining tokens). */
static void str_score(const ltrr_index_t *ix, const ltrr_arm_ctx_t *ctx,
                      const str_filter_t *f, ltrr_arm_cand_t *c, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                float pop = ltrr_arm_popularity(
                    ix, ctx ? ctx->popularity : NULL, c[i].ent, NULL);
                const ltrr_index_feat_t *ft = &ix->feats[c[i].ent];
                float rec = 0.0f;
                if (ft->release_prec != LTRR_DATE_NONE && ctx &&
                    ctx->today_days > 0) {
                        float age = (float)(ctx->today_days -
                                            ft->release_days);
                        rec = age < 0 ? 1.0f : 365.0f / (365.0f + age);
                }
                c[i].feat[1] = pop > 0 ? pop : 0.0f;
                c[i].feat[2] = rec;
                c[i].feat[3] = (float)f->n;
                c[i].score = c[i].feat[0] * ltrr_arm_pop_factor(pop) +
                             0.1f * rec;
        }
        ltrr_arm_cand_sort(c, n);
}

/* Fills @p pool from the driving list or the lexical match of the other
 * tokens, filtered. Returns LTRR_OK with the count in *np. */
static ltrr_err_t gather(const ltrr_index_t *ix, const ltrr_arm_ctx_t *ctx,
                         const str_filter_t *f, ltrr_arm_scratch_t *scr,
                         unsigned slot, size_t k, ltrr_arm_cand_t *pool,
                         size_t *np,
                         char *errstr, size_t errstr_size)
{
        const ltrr_q2e_tab_ent_t *l;
        const ltrr_arm_entattr_t *ea = NULL;
        size_t lc, n = 0, skip = driving_span(ix, f, &l, &lc);
        *np = 0;
        if (f->nrest) {
                ltrr_arm_query_t sub = {f->rest, f->nrest, NULL};
                str_keep_t sk = {f, ltrr_arm_entattr(ix)};
                size_t want = k * STR_POOL_FACTOR;
                ea = sk.ea;
                ltrr_err_t err = ltrr_arm_lex_filtered(
                    ix, &sub, ctx, scr, slot, keep_str, &sk, 0,
                    want < LTRR_ARM_POOL_MAX ? want : LTRR_ARM_POOL_MAX, pool,
                    &n, errstr, errstr_size);
                if (err != LTRR_OK)
                        return err;
                float best = n ? pool[0].score : 0.0f;
                for (size_t i = 0; i < n; i++)
                        pool[i].feat[0] = best > 0 ? pool[i].score / best : 0;
                skip = f->n; /* every set attribute is checked */
        } else {
                for (size_t i = 0; i < lc && n < LTRR_ARM_POOL_MAX; i++) {
                        if (l[i].ent >= ix->n || !feat_ok(ix, f, l[i].ent))
                                continue;
                        memset(&pool[n], 0, sizeof(pool[n]));
                        pool[n].ent = l[i].ent;
                        pool[n++].feat[0] = 1.0f;
                }
        }
        *np = set_filter(ix, f, skip, ea, pool, n);
        return LTRR_OK;
}

/* The arm's run function (see ltrr_arm_run_fn). */
static ltrr_err_t str_run(const ltrr_index_t *ix, const ltrr_arm_query_t *q,
                          const ltrr_arm_ctx_t *ctx, ltrr_arm_scratch_t *scr,
                          unsigned slot, size_t k, ltrr_arm_cand_t *out,
                          size_t *cntp, char *errstr, size_t errstr_size)
{
        ltrr_arm_cand_t pool[LTRR_ARM_POOL_MAX];
        str_filter_t f;
        ltrr_err_t err;
        size_t n = 0;
        *cntp = 0;
        const ltrr_qu_dict_t *d = dict_get(ix, scr, slot, &err, errstr,
                                           errstr_size);
        if (!d)
                return err;
        if ((err = split(d, q, &f, errstr, errstr_size)) != LTRR_OK)
                return err;
        if (f.n == 0)
                return ltrr_errf(LTRR_ERR_STATE, errstr, errstr_size,
                                 "no attribute in the query");
        err = gather(ix, ctx, &f, scr, slot, k, pool, &n, errstr,
                     errstr_size);
        if (err != LTRR_OK)
                return err;
        str_score(ix, ctx, &f, pool, n);
        *cntp = n < k ? n : k;
        memcpy(out, pool, *cntp * sizeof(*out));
        return LTRR_OK;
}

const ltrr_arm_t ltrr_arm_structured = {
    .name = "structured",
    .desc = "QU attribute filters (genre, mood, type, year, language) "
            "plus lexical match of the rest, by popularity",
    .feat_names = {"lexical_rel", "popularity", "recency", "filters"},
    .available = str_available,
    .run = str_run,
};
