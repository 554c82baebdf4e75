/*
 * ltrr - the personal arm: entities of the user's profile (recent and
 * liked entities, their artists and genres, handed in from Redis)
 * matched to the query. Unavailable without a profile. docs/ARMS.md.
 *
 * With the index's entity attribute section (LTRR_ARM_SEC_ENTATTR) the
 * lexical pass is filtered to entities with some affinity (a profile
 * entity, one of its artists or top genres), read per entity from that
 * section and small hash tables of the profile, so it keeps the 4k best
 * personal matches; the pass prefetches each candidate's record before
 * scoring it (ltrr_arm_lex_filtered_late()). Without the section, the
 * lexical pool is filtered afterwards through the attribute lists.
 */
#include <string.h>

#include "arm.h"
#include "arm_lex_late.h"
#include "arm_state.h"
#include "index_int.h"
#include "qu.h"

/** Genres of the profile used (the heaviest). */
#define PERS_GENRES 3

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
        const char *s = ix->strings + ix->ents[ent].artists;
        while (*s) {
                const char *end = strstr(s, ", ");
                size_t len = end ? (size_t)(end - s) : strlen(s);
                float a = ltrr_user_profile_weight(
                    v->p, 1, ltrr_arm_artist_hash(s, len));
                if (a / v->max[1] > w)
                        w = a / v->max[1];
                s += len + (end ? 2 : 0);
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
            v.ea ? (k && q->cnt ? ltrr_arm_lex_filtered_late(
                                      ix, q, ctx, scr, slot, keep_personal,
                                      where_personal, &v, want, pool, &np,
                                      errstr, errstr_size)
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
