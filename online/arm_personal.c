/*
 * ltrr - the personal arm: entities of the user's profile (recent and
 * liked entities, their artists and genres, handed in from Redis)
 * matched to the query. Unavailable without a profile. docs/ARMS.md.
 *
 * With the index's entity attribute section (LTRR_ARM_SEC_ENTATTR) the
 * lexical pass is filtered to entities with some affinity (a profile
 * entity, one of its artists or top genres), so it keeps the 4k best
 * personal matches. When the query's posting lists are long and the
 * index has the artist section (LTRR_ARM_SEC_ARTENTS), the filter is a
 * bitmap built for the request (the top genres' cached bitmaps, the
 * entities of the profile's artists and the profile's entities) asked
 * before scoring; otherwise it is read per candidate from the entity
 * attribute section and small hash tables of the profile, the record
 * prefetched before scoring (ltrr_arm_lex_filtered_late()). Both keep
 * the same entities. Without the entity attribute section, the lexical
 * pool is filtered afterwards through the attribute lists.
 */
#include <string.h>

#include "arm.h"
#include "arm_artents.h"
#include "arm_bits.h"
#include "arm_lex_late.h"
#include "arm_state.h"
#include "index_int.h"
#include "qu.h"

/** Genres of the profile used (the heaviest). */
#define PERS_GENRES 3
_Static_assert(PERS_GENRES < LTRR_ARM_BITS_SLOTS,
               "pers_bits() keeps every genre bitmap of a request cached");

/** Slots of the profile hash tables (a power of two, more than twice
 *  the larger profile table). */
#define PERS_HT 512
/** Lexical candidates gathered per wanted candidate (filtered pass). */
#define PERS_POOL_FACTOR 4

/* One slot of a profile hash table: key and scaled weight (0: empty). */
typedef struct pers_slot_s {
        uint32_t key;
        float w;
} pers_slot_t;

/* Per-request view of the profile: weights scaled to 0..1. */
typedef struct pers_s {
        const ltrr_user_profile_t *p; /* the profile */
        float max[3];                 /* largest weight per table */
        uint64_t gkeys[PERS_GENRES];  /* attribute keys of top genres */
        uint32_t gsym[PERS_GENRES];   /* their genre symbols */
        float gw[PERS_GENRES];        /* their scaled weights */
        size_t ng;                    /* entries in gkeys */
        const ltrr_arm_entattr_t *ea; /* entity attributes, or NULL */
        pers_slot_t ht[2][PERS_HT];   /* entities, artists by key */
} pers_t;

/* Slot of @p key in table @p t (its own or the empty one it would take). */
static pers_slot_t *ht_slot(pers_slot_t *t, uint32_t key)
{
        uint32_t h = (key * 2654435761u) >> 23; /* 9 bits: PERS_HT */
        while (t[h].w > 0 && t[h].key != key)
                h = (h + 1) & (PERS_HT - 1);
        return &t[h];
}

/* Scaled weight of @p key in table @p t, 0 if absent. */
static float ht_get(const pers_slot_t *t, uint32_t key)
{
        return ht_slot((pers_slot_t *)t, key)->w;
}

/* Fills hash table @p t from profile table @p items (weights / @p max;
 * a repeated key keeps the larger weight). */
static void ht_fill(pers_slot_t *t, const ltrr_profile_item_t *items,
                    uint32_t n, float max)
{
        for (uint32_t i = 0; i < n; i++) {
                float w = items[i].weight / max;
                pers_slot_t *sl = ht_slot(t, items[i].key);
                if (w > 0 && w > sl->w) {
                        sl->key = items[i].key;
                        sl->w = w;
                }
        }
}

/* Returns 1 (needs only the index and a handed-in profile). */
static int pers_available(const ltrr_index_t *ix)
{
        return ix != NULL;
}

/* Largest weight of table @p t of @p n items (1 when empty). */
static float max_weight(const ltrr_profile_item_t *t, uint32_t n)
{
        float m = 0.0f;
        for (uint32_t i = 0; i < n; i++)
                if (t[i].weight > m)
                        m = t[i].weight;
        return m > 0 ? m : 1.0f;
}

/* Fills @p v from profile @p p, picking the heaviest genres. */
static void pers_init(pers_t *v, const ltrr_user_profile_t *p,
                      const ltrr_index_t *ix)
{
        memset(v, 0, sizeof(*v));
        v->p = p;
        v->ea = ltrr_arm_entattr(ix);
        v->max[0] = max_weight(p->ents, p->ents_cnt);
        v->max[1] = max_weight(p->artists, p->artists_cnt);
        v->max[2] = max_weight(p->genres, p->genres_cnt);
        uint8_t used[LTRR_ARM_PROFILE_GENRES_MAX] = {0};
        while (v->ng < PERS_GENRES) {
                int best = -1;
                for (uint32_t i = 0; i < p->genres_cnt; i++)
                        if (!used[i] && (best < 0 ||
                                         p->genres[i].weight >
                                             p->genres[best].weight))
                                best = (int)i;
                if (best < 0)
                        break;
                used[best] = 1;
                v->gsym[v->ng] = p->genres[best].key;
                v->gkeys[v->ng] = ltrr_arm_attr_key(LTRR_QU_GENRE,
                                                    p->genres[best].key);
                        v->gw[v->ng++] = p->genres[best].weight / v->max[2];
        }
        ht_fill(v->ht[0], p->ents, p->ents_cnt, v->max[0]);
        ht_fill(v->ht[1], p->artists, p->artists_cnt, v->max[1]);
}

/* Largest scaled affinity among the artists of entity @p ent. */
static float artist_weight(const pers_t *v, const ltrr_index_t *ix,
                           uint32_t ent)
{
        float w = 0.0f;
        if (!v->p->artists_cnt)
                return 0.0f;
        if (v->ea) {
                for (int i = 0; i < LTRR_ARM_ENTATTR_SLOTS; i++) {
                        uint32_t h = v->ea[ent].artist[i];
                        float a = h ? ht_get(v->ht[1], h) : 0.0f;
                        if (a > w)
                                w = a;
                }
                return w;
        }
        const char *s = ix->strings + ix->ents[ent].artists, *name;
        size_t len;
        while (ltrr_arm_artist_next(&s, &name, &len)) {
                float a = ltrr_user_profile_weight(
                    v->p, 1, ltrr_arm_artist_hash(name, len));
                if (a / v->max[1] > w)
                        w = a / v->max[1];
        }
        return w;
}

/* Largest scaled weight of the top genres entity @p ent carries, read
 * from the entity attribute section. */
static float genre_weight(const pers_t *v, uint32_t ent)
{
        float w = 0.0f;
        for (int i = 0; i < LTRR_ARM_ENTATTR_SLOTS; i++) {
                uint32_t g = v->ea[ent].genre[i];
                for (size_t j = 0; g && j < v->ng; j++)
                        if (v->gsym[j] == g - 1 && v->gw[j] > w)
                                w = v->gw[j];
        }
        return w;
}

/* Filter of the lexical pass: 1 if entity @p ent has some affinity
 * (cheapest test first: the genres keep most entities, the artists cost
 * two hash lookups). */
static int keep_personal(const void *opaque, const ltrr_index_t *ix,
                         uint32_t ent)
{
        const pers_t *v = opaque;
        (void)ix;
        return ht_get(v->ht[0], ent) > 0 || genre_weight(v, ent) > 0 ||
               artist_weight(v, ix, ent) > 0;
}

/* The entity attribute record keep_personal() reads for @p ent. */
static const void *where_personal(const void *opaque, const ltrr_index_t *ix,
                                  uint32_t ent)
{
        const pers_t *v = opaque;
        (void)ix;
        return &v->ea[ent];
}

/* Offset of the genre bitmap cache in the slot: after the lexical
 * arm's bytes. */
static size_t bits_off(void)
{
        return (ltrr_arm_lexical_scratch_bytes() + 15) & ~(size_t)15;
}

/* 64-bit words of a bitmap over @p n entities. */
static size_t words_of(uint32_t n)
{
        return ((size_t)n + 63) / 64;
}

/* Offset of the request bitmap in the slot: after the cache. */
static size_t req_off(uint32_t n)
{
        return bits_off() + ltrr_arm_bits_bytes(n);
}

/* Sets in @p bits the entities @p e[0..cnt) below @p n. */
static void set_list(uint64_t *bits, const uint32_t *e, uint32_t cnt,
                     uint32_t n)
{
        for (uint32_t j = 0; j < cnt; j++)
                if (e[j] < n)
                        bits[e[j] / 64] |= 1ull << (e[j] % 64);
}

/* What fill_genre() fills a bitmap with. */
typedef struct genre_fill_s {
        const ltrr_arm_entattr_t *ea; /* the records */
        uint32_t sym;                 /* the genre symbol */
} genre_fill_t;

/* Sets the bits of the entities genre_weight() would find the genre
 * of @p opaque (a genre_fill_t) in (ltrr_arm_bits_fill_fn): from the
 * genre section's list, else from every entity's record. */
static void fill_genre(const void *opaque, const ltrr_index_t *ix,
                       uint64_t *bits)
{
        const genre_fill_t *gf = opaque;
        uint32_t cnt;
        if (ltrr_arm_artents_has(ix, LTRR_ARM_SEC_GENENTS)) {
                const uint32_t *e =
                    gf->sym + 1 ? ltrr_arm_artents_find(
                                      ix, LTRR_ARM_SEC_GENENTS, gf->sym + 1,
                                      &cnt)
                                : NULL;
                if (e)
                        set_list(bits, e, cnt, ix->n);
                return;
        }
        for (uint32_t e = 0; e < ix->n; e++)
                for (int i = 0; i < LTRR_ARM_ENTATTR_SLOTS; i++) {
                        uint32_t g = gf->ea[e].genre[i];
                        if (g && g - 1 == gf->sym)
                                bits[e / 64] |= 1ull << (e % 64);
                }
}

/* Sets in @p bits the entities of every artist of the profile (the
 * artist section's lists of the keys artist_weight() finds) and the
 * profile's entities. */
static void set_artists_ents(const pers_t *v, const ltrr_index_t *ix,
                             uint64_t *bits)
{
        for (size_t i = 0; i < PERS_HT; i++) {
                const pers_slot_t *sl = &v->ht[1][i];
                uint32_t cnt;
                const uint32_t *e =
                    sl->w > 0 && sl->key
                        ? ltrr_arm_artents_find(ix, LTRR_ARM_SEC_ARTENTS,
                                                sl->key, &cnt)
                        : NULL;
                if (e)
                        set_list(bits, e, cnt, ix->n);
        }
        for (size_t i = 0; i < PERS_HT; i++) {
                const pers_slot_t *sl = &v->ht[0][i];
                if (sl->w > 0 && sl->key < ix->n)
                        bits[sl->key / 64] |= 1ull << (sl->key % 64);
        }
}

/* Builds in slot memory @p m the bitmap of the entities keep_personal()
 * keeps: the union of the top genres' cached bitmaps, the profile
 * artists' entities and the profile's entities. */
static const uint64_t *pers_bits(const pers_t *v, const ltrr_index_t *ix,
                                 uint8_t *m)
{
        size_t words = words_of(ix->n), ng = 0;
        uint64_t *req = (uint64_t *)(m + req_off(ix->n));
        const uint64_t *g[PERS_GENRES];
        for (size_t j = 0; j < v->ng; j++) {
                if (!(v->gw[j] > 0))
                        continue;
                genre_fill_t gf = {v->ea, v->gsym[j]};
                uint64_t key = v->gsym[j];
                /* a miss evicts the least recently used bitmap, never
                 * one of those just returned: PERS_GENRES < SLOTS */
                g[ng] = ltrr_arm_bits_get(m + bits_off(), ix, &key, 1,
                                          fill_genre, &gf);
                if (!g[ng++])
                        return NULL;
        }
        if (ng == 0)
                memset(req, 0, words * sizeof(*req));
        else if (ng == 1)
                memcpy(req, g[0], words * sizeof(*req));
        else if (ng == 2)
                for (size_t w = 0; w < words; w++)
                        req[w] = g[0][w] | g[1][w];
        else
                for (size_t w = 0; w < words; w++)
                        req[w] = g[0][w] | g[1][w] | g[2][w];
        set_artists_ents(v, ix, req);
        return req;
}

/* The filtered lexical pass (entity attribute section present): by the
 * request bitmap when it pays and can be built, else by
 * keep_personal() asked about candidates, the same entities kept. */
static ltrr_err_t pers_pass(const ltrr_index_t *ix, const ltrr_arm_query_t *q,
                            const ltrr_arm_ctx_t *ctx,
                            ltrr_arm_scratch_t *scr, unsigned slot,
                            const pers_t *v, size_t want,
                            ltrr_arm_cand_t *pool, size_t *np, char *errstr,
                            size_t errstr_size)
{
        const uint64_t *bits = NULL;
        if ((!v->p->artists_cnt ||
             ltrr_arm_artents_has(ix, LTRR_ARM_SEC_ARTENTS)) &&
            ltrr_arm_bits_worth(ix, q->toks, q->cnt)) {
                uint8_t *m = ltrr_arm_scratch_get(
                    scr, slot, req_off(ix->n) + words_of(ix->n) * 8);
                bits = m ? pers_bits(v, ix, m) : NULL;
        }
        if (bits)
                return ltrr_arm_lex_filtered(ix, q, ctx, scr, slot,
                                             ltrr_arm_bits_keep, bits, 1,
                                             want, pool, np, errstr,
                                             errstr_size);
        return ltrr_arm_lex_filtered_late(ix, q, ctx, scr, slot,
                                          keep_personal, where_personal, v,
                                          want, pool, np, errstr,
                                          errstr_size);
}

/* Scores candidate @p c (feat[3] holds its lexical match 0..1) from its
 * affinities and the genre hits; 0 when nothing personal. */
static float pers_score(const pers_t *v, const ltrr_index_t *ix,
                        ltrr_arm_cand_t *c, float genre)
{
        c->feat[0] = ht_get(v->ht[0], c->ent);
        c->feat[1] = artist_weight(v, ix, c->ent);
        c->feat[2] = genre;
        float aff = 2.0f * c->feat[0] + c->feat[1] + 0.5f * genre;
        return aff > 0 ? c->feat[3] * (1.0f + aff) : 0.0f;
}

/* The query's tokens as dictionary terms (NULL: not in the index). */
typedef struct pers_terms_s {
        const ltrr_index_term_t *t[LTRR_ARM_QUERY_TOKENS_MAX];
        size_t n;                      /* tokens looked at */
} pers_terms_t;

/* Looks the query's tokens up once. */
static void terms_find(const ltrr_index_t *ix, const ltrr_arm_query_t *q,
                       pers_terms_t *pt)
{
        pt->n = q->cnt < LTRR_ARM_QUERY_TOKENS_MAX ? q->cnt
                                                   : LTRR_ARM_QUERY_TOKENS_MAX;
        for (size_t i = 0; i < pt->n; i++)
                pt->t[i] = ltrr_index_term_find(ix, q->toks[i].stem,
                                                q->toks[i].stem_len);
}

/* Share of the query's tokens found in entity @p ent (any field). */
static float coverage(const ltrr_index_t *ix, const pers_terms_t *pt,
                      uint32_t ent)
{
        size_t hit = 0;
        for (size_t i = 0; i < pt->n; i++) {
                const ltrr_index_term_t *t = pt->t[i];
                if (!t)
                        continue;
                const ltrr_index_post_t *p = ix->posts + t->post_off;
                uint32_t lo = 0, hi = t->df;
                while (lo < hi) {
                        uint32_t mid = lo + (hi - lo) / 2;
                        if (p[mid].doc < ent)
                                lo = mid + 1;
                        else
                                hi = mid;
                }
                hit += lo < t->df && p[lo].doc == ent;
        }
        return pt->n ? (float)hit / (float)pt->n : 0.0f;
}

/* Scores the lexical pool in place; returns the personal ones kept. */
static size_t score_pool(const pers_t *v, const ltrr_index_t *ix,
                         ltrr_arm_cand_t *c, size_t n)
{
        uint8_t hit[PERS_GENRES][LTRR_ARM_POOL_MAX];
        float best = n ? c[0].score : 0.0f;
        for (size_t g = 0; g < v->ng && !v->ea; g++)
                if (!ltrr_arm_attr_mark(ix, v->gkeys[g], c, n, hit[g]))
                        memset(hit[g], 0, n);
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
                float genre = 0.0f;
                for (size_t g = 0; g < v->ng && !v->ea; g++)
                        if (hit[g][i] && v->gw[g] > genre)
                                genre = v->gw[g];
                if (v->ea)
                        genre = genre_weight(v, c[i].ent);
                ltrr_arm_cand_t cand = {.ent = c[i].ent};
                cand.feat[3] = best > 0 ? c[i].score / best : 0.0f;
                cand.score = pers_score(v, ix, &cand, genre);
                if (cand.score > 0)
                        c[m++] = cand;
        }
        return m;
}

/* Adds profile entities that match the query but missed the pool. */
static size_t add_profile(const pers_t *v, const ltrr_index_t *ix,
                          const ltrr_arm_query_t *q, ltrr_arm_cand_t *c,
                          size_t n, size_t cap)
{
        size_t base = n;
        pers_terms_t pt;
        terms_find(ix, q, &pt);
        for (uint32_t i = 0; i < v->p->ents_cnt && n < cap; i++) {
                uint32_t ent = v->p->ents[i].key;
                int seen = 0;
                for (size_t j = 0; j < base && !seen; j++)
                        seen = c[j].ent == ent;
                float cov = ent < ix->n && !seen ? coverage(ix, &pt, ent) : 0;
                if (cov <= 0)
                        continue;
                ltrr_arm_cand_t cand = {.ent = ent};
                cand.feat[3] = cov;
                cand.score = pers_score(v, ix, &cand, 0.0f);
                if (cand.score > 0)
                        c[n++] = cand;
        }
        return n;
}

/* The arm's run function (see ltrr_arm_run_fn). */
static ltrr_err_t pers_run(const ltrr_index_t *ix, const ltrr_arm_query_t *q,
                           const ltrr_arm_ctx_t *ctx, ltrr_arm_scratch_t *scr,
                           unsigned slot, size_t k, ltrr_arm_cand_t *out,
                           size_t *cntp, char *errstr, size_t errstr_size)
{
        ltrr_arm_cand_t pool[LTRR_ARM_POOL_MAX + LTRR_ARM_PROFILE_ENTS_MAX];
        size_t np = 0;
        pers_t v;
        *cntp = 0;
        const ltrr_user_profile_t *p = ctx ? ctx->profile : NULL;
        if (!p || (!p->ents_cnt && !p->artists_cnt && !p->genres_cnt))
                return ltrr_errf(LTRR_ERR_STATE, errstr, errstr_size,
                                 "personal arm needs a user profile");
        pers_init(&v, p, ix);
        size_t want = k * PERS_POOL_FACTOR;
        if (want > LTRR_ARM_POOL_MAX)
                want = LTRR_ARM_POOL_MAX;
        ltrr_err_t err =
            v.ea ? (k && q->cnt ? pers_pass(ix, q, ctx, scr, slot, &v, want,
                                            pool, &np, errstr, errstr_size)
                                : LTRR_OK)
                 : ltrr_arm_lex_pool(ix, q, ctx, scr, slot, pool,
                                     LTRR_ARM_POOL_MAX, &np, errstr,
                                     errstr_size);
        if (err != LTRR_OK)
                return err;
        np = score_pool(&v, ix, pool, np);
        np = add_profile(&v, ix, q, pool, np,
                         LTRR_ARM_POOL_MAX + LTRR_ARM_PROFILE_ENTS_MAX);
        ltrr_arm_cand_sort(pool, np);
        *cntp = np < k ? np : k;
        memcpy(out, pool, *cntp * sizeof(*out));
        return LTRR_OK;
}

const ltrr_arm_t ltrr_arm_personal = {
    .name = "personal",
    .desc = "the user's entities, artists and genres matched to the query",
    .feat_names = {"entity_affinity", "artist_affinity", "genre_affinity",
                   "query_match"},
    .available = pers_available,
    .run = pers_run,
};
