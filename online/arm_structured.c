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
 * When the remaining tokens have long posting lists, the filter is a
 * bitmap of the entities that pass it (arm_bits.h), kept per thread for
 * the last LTRR_ARM_BITS_SLOTS filters: the pass then tests one bit per
 * posting before scoring instead of reading FEATURES and the entity
 * attributes at random.
 *
 * The dictionary is the index's QU section, read in place: the first
 * call of a thread on an index checks it fully (ltrr_qu_dict_load()),
 * then a view of it is kept in the arm's scratch slot, after the bytes
 * the lexical arm uses there, followed by the bitmap cache.
 */
#include <string.h>

#include "arm.h"
#include "arm_bits.h"
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
        int32_t lo[STR_SPANS_MAX];        /* year, decade: first day */
        int32_t hi[STR_SPANS_MAX];        /* and the day after (lo > hi:
                                           * no range, see year_ok()) */
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

/* Offset of the bitmap cache in the slot: after the view. */
static size_t bits_off(void)
{
        return cache_off() + ((sizeof(str_cache_t) + 15) & ~(size_t)15);
}

/* Bytes of the slot for index @p ix: the lexical arm's, the view, the
 * bitmap cache. */
static size_t slot_bytes(const ltrr_index_t *ix)
{
        return bits_off() + ltrr_arm_bits_bytes(ix->n);
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
        uint8_t *m = ltrr_arm_scratch_get(scr, slot, slot_bytes(ix));
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

/** Largest year whose filter is a range of days. */
#define STR_YEAR_MAX 100000

/* The days [*lop, *hip) of a year or decade span @p sp (a release date
 * in the span's years falls in them); *lop > *hip for other spans. */
static void span_range(const ltrr_qu_span_t *sp, int32_t *lop, int32_t *hip)
{
        int v = (int)sp->value;
        *lop = 1;
        *hip = 0;
        if (sp->value < 1 || sp->value > STR_YEAR_MAX)
                return;
        if (sp->kind == LTRR_QU_YEAR || sp->kind == LTRR_QU_DECADE) {
                *lop = ltrr_date_from_ymd(v, 1, 1);
                *hip = ltrr_date_from_ymd(
                    v + (sp->kind == LTRR_QU_YEAR ? 1 : 10), 1, 1);
        }
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
                span_range(&sp[i], &f->lo[f->n], &f->hi[f->n]);
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

/* 1 if release feature @p ft is in the year (or decade) of span @p i
 * without a range of days: its calendar year, 0 when undated. */
static int year_ok(const ltrr_index_feat_t *ft, const str_filter_t *f,
                   size_t i)
{
        int y = 0, mo, dd;
        uint32_t v = f->sp[i].value;
        if (ft->release_prec != LTRR_DATE_NONE)
                ltrr_date_to_ymd(ft->release_days, &y, &mo, &dd);
        if (f->sp[i].kind == LTRR_QU_YEAR)
                return y == (int)v;
        return y >= (int)v && y <= (int)v + 9;
}

/* 1 if entity @p ent passes the filters read from FEATURES. A year or
 * decade span compares the release day with its range of days. */
static int feat_ok(const ltrr_index_t *ix, const str_filter_t *f,
                   uint32_t ent)
{
        const ltrr_index_feat_t *ft = &ix->feats[ent];
        uint32_t lang = (uint32_t)(uint8_t)ft->lang[0] |
                        (uint32_t)(uint8_t)ft->lang[1] << 8;
        for (size_t i = 0; i < f->n; i++) {
                uint32_t v = f->sp[i].value;
                switch (f->sp[i].kind) {
                case LTRR_QU_TYPE:
                        if (ft->type != v) return 0;
                        break;
                case LTRR_QU_LANGUAGE:
                        if (lang != v) return 0;
                        break;
                case LTRR_QU_YEAR:
                case LTRR_QU_DECADE:
                        if (f->lo[i] > f->hi[i]) {
                                if (!year_ok(ft, f, i)) return 0;
                        } else if (ft->release_prec == LTRR_DATE_NONE ||
                                   ft->release_days < f->lo[i] ||
                                   ft->release_days >= f->hi[i]) {
                                return 0;
                        }
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

/* The key of the filter keep_str() applies (its feature spans, and its
 * genre spans when @p ea is set) in @p key. Returns its words, or
 * SIZE_MAX when too many spans. */
static size_t filter_key(const str_filter_t *f, const ltrr_arm_entattr_t *ea,
                         uint64_t *key)
{
        size_t m = 0;
        for (size_t i = 0; i < f->n; i++) {
                ltrr_qu_kind_t kind = f->sp[i].kind;
                if (kind != LTRR_QU_TYPE && kind != LTRR_QU_LANGUAGE &&
                    kind != LTRR_QU_YEAR && kind != LTRR_QU_DECADE &&
                    !(ea && kind == LTRR_QU_GENRE))
                        continue;
                if (m == LTRR_ARM_BITS_KEY_MAX)
                        return SIZE_MAX;
                key[m++] = (uint64_t)kind << 32 | f->sp[i].value;
        }
        return m;
}

/* Mask of the entities base..base+63 (< @p n) whose FEATURES pass span
 * @p i of @p f (type, language, year, decade; others pass). */
static uint64_t span_mask(const ltrr_index_t *ix, const str_filter_t *f,
                          size_t i, uint32_t base, uint32_t n)
{
        const ltrr_index_feat_t *ft = &ix->feats[base];
        uint32_t v = f->sp[i].value, end = n - base < 64 ? n - base : 64;
        int32_t lo = f->lo[i], hi = f->hi[i];
        uint64_t m = 0;
        for (uint32_t b = 0; b < end; b++) {
                const ltrr_index_feat_t *x = &ft[b];
                int ok;
                switch (f->sp[i].kind) {
                case LTRR_QU_TYPE:
                        ok = x->type == v;
                        break;
                case LTRR_QU_LANGUAGE:
                        ok = ((uint32_t)(uint8_t)x->lang[0] |
                              (uint32_t)(uint8_t)x->lang[1] << 8) == v;
                        break;
                case LTRR_QU_YEAR:
                case LTRR_QU_DECADE:
                        ok = lo > hi ? year_ok(x, f, i)
                                     : x->release_prec != LTRR_DATE_NONE &&
                                           x->release_days >= lo &&
                                           x->release_days < hi;
                        break;
                default:
                        ok = 1;
                        break;
                }
                m |= (uint64_t)ok << b;
        }
        return m;
}

/* Mask of the entities base..base+63 (< @p n) whose first genres (entity
 * attribute records @p ea) include genre span @p i's. */
static uint64_t genre_mask(const ltrr_arm_entattr_t *ea, const str_filter_t *f,
                           size_t i, uint32_t base, uint32_t n)
{
        uint32_t g = f->sp[i].value + 1, end = n - base < 64 ? n - base : 64;
        uint64_t m = 0;
        for (uint32_t b = 0; b < end; b++) {
                int hit = 0;
                for (int s = 0; s < LTRR_ARM_ENTATTR_SLOTS; s++)
                        hit |= ea[base + b].genre[s] == g;
                m |= (uint64_t)hit << b;
        }
        return m;
}

/* Fills the bitmap of keep_str() (see ltrr_arm_bits_fill_fn): span by
 * span over 64 entities at a time, each a tight pass over the records. */
static void fill_str(const void *opaque, const ltrr_index_t *ix,
                     uint64_t *bits)
{
        const str_keep_t *sk = opaque;
        const str_filter_t *f = sk->f;
        for (uint32_t base = 0; base < ix->n; base += 64) {
                uint64_t m = UINT64_MAX;
                for (size_t i = 0; i < f->n && m; i++) {
                        if (f->sp[i].kind != LTRR_QU_GENRE)
                                m &= span_mask(ix, f, i, base, ix->n);
                        else if (sk->ea) /* as genre_ok() */
                                m &= genre_mask(sk->ea, f, i, base, ix->n);
                }
                if (ix->n - base < 64)
                        m &= (1ull << (ix->n - base)) - 1;
                bits[base / 64] = m;
        }
}

/* The lexical pass over the remaining tokens, filtered: by a cached
 * bitmap of the filter when there is one or the lists are long, else by
 * keep_str() asked about entities that would enter the heap; unfiltered
 * when no span is checked per entity. */
static ltrr_err_t rest_pass(const ltrr_index_t *ix, const ltrr_arm_ctx_t *ctx,
                            const str_keep_t *sk, ltrr_arm_scratch_t *scr,
                            unsigned slot, size_t want, ltrr_arm_cand_t *pool,
                            size_t *np, char *errstr, size_t errstr_size)
{
        ltrr_arm_query_t sub = {sk->f->rest, sk->f->nrest, NULL};
        uint64_t key[LTRR_ARM_BITS_KEY_MAX];
        size_t kl = filter_key(sk->f, sk->ea, key);
        const uint64_t *bits = NULL;
        if (kl == 0)
                return ltrr_arm_lex_filtered(ix, &sub, ctx, scr, slot, NULL,
                                             NULL, 0, want, pool, np, errstr,
                                             errstr_size);
        uint8_t *m = ltrr_arm_scratch_get(scr, slot, slot_bytes(ix));
        if (m && kl != SIZE_MAX)
                bits = ltrr_arm_bits_get(m + bits_off(), ix, key, kl,
                                         ltrr_arm_bits_worth(ix, sk->f->rest, sk->f->nrest) ? fill_str
                                                               : NULL,
                                         sk);
        if (bits)
                return ltrr_arm_lex_filtered(ix, &sub, ctx, scr, slot,
                                             ltrr_arm_bits_keep, bits, 1,
                                             want, pool, np, errstr,
                                             errstr_size);
        return ltrr_arm_lex_filtered(ix, &sub, ctx, scr, slot, keep_str, sk,
                                     0, want, pool, np, errstr, errstr_size);
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
                str_keep_t sk = {f, ltrr_arm_entattr(ix)};
                size_t want = k * STR_POOL_FACTOR;
                ea = sk.ea;
                ltrr_err_t err = rest_pass(
                    ix, ctx, &sk, scr, slot,
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
