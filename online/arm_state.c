/*
 * ltrr - handed-in arm state, the arms' index sections and helpers
 * shared by the popular, structured, fresh, personal and memory arms.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arm_state.h"
#include "index_int.h"
#include "q2e_predict.h"
#include "qu.h"
#include "spell_words.h"

/* ---- Q2E state ---------------------------------------------------------- */

ltrr_q2e_state_t *ltrr_q2e_state_new(void)
{
        ltrr_q2e_state_t *st = calloc(1, sizeof(*st));
        if (st)
                st->alpha = LTRR_ARM_Q2E_ALPHA;
        return st;
}

void ltrr_q2e_state_destroy(ltrr_q2e_state_t *st)
{
        free(st);
}

void ltrr_q2e_state_reset(ltrr_q2e_state_t *st, double impressions,
                          double alpha)
{
        st->cnt = 0;
        st->impressions = isfinite(impressions) && impressions > 0
                              ? impressions : 0.0;
        st->alpha = isfinite(alpha) && alpha >= 0 ? alpha
                                                  : LTRR_ARM_Q2E_ALPHA;
}

ltrr_err_t ltrr_q2e_state_add(ltrr_q2e_state_t *st, uint32_t ent,
                              double observed)
{
        if (!st || !isfinite(observed))
                return LTRR_ERR_INVALID_ARG;
        for (uint32_t i = 0; i < st->cnt; i++)
                if (st->obs[i].ent == ent) {
                        st->obs[i].observed += (float)observed;
                        return LTRR_OK;
                }
        if (st->cnt == LTRR_ARM_Q2E_MAX)
                return LTRR_ERR_NOSPACE;
        st->obs[st->cnt++] = (ltrr_q2e_obs_t){ent, (float)observed};
        return LTRR_OK;
}

/* ---- user profile ------------------------------------------------------- */

ltrr_user_profile_t *ltrr_user_profile_new(void)
{
        return calloc(1, sizeof(ltrr_user_profile_t));
}

void ltrr_user_profile_destroy(ltrr_user_profile_t *p)
{
        free(p);
}

void ltrr_user_profile_reset(ltrr_user_profile_t *p)
{
        p->ents_cnt = p->artists_cnt = p->genres_cnt = 0;
}

/* Table @p what of @p p: its items, count and capacity. */
static ltrr_profile_item_t *profile_table(const ltrr_user_profile_t *p,
                                          int what, uint32_t **cntpp,
                                          uint32_t *capp)
{
        ltrr_user_profile_t *m = (ltrr_user_profile_t *)p;
        switch (what) {
        case 0:
                *cntpp = &m->ents_cnt;
                *capp = LTRR_ARM_PROFILE_ENTS_MAX;
                return m->ents;
        case 1:
                *cntpp = &m->artists_cnt;
                *capp = LTRR_ARM_PROFILE_ARTISTS_MAX;
                return m->artists;
        case 2:
                *cntpp = &m->genres_cnt;
                *capp = LTRR_ARM_PROFILE_GENRES_MAX;
                return m->genres;
        default:
                return NULL;
        }
}

ltrr_err_t ltrr_user_profile_add(ltrr_user_profile_t *p, int what,
                                 uint32_t key, float weight)
{
        uint32_t *cntp, cap;
        ltrr_profile_item_t *t = p ? profile_table(p, what, &cntp, &cap)
                                   : NULL;
        if (!t || !(weight > 0) || !isfinite(weight))
                return LTRR_ERR_INVALID_ARG;
        for (uint32_t i = 0; i < *cntp; i++)
                if (t[i].key == key) {
                        t[i].weight += weight;
                        return LTRR_OK;
                }
        if (*cntp == cap)
                return LTRR_ERR_NOSPACE;
        t[(*cntp)++] = (ltrr_profile_item_t){key, weight};
        return LTRR_OK;
}

float ltrr_user_profile_weight(const ltrr_user_profile_t *p, int what,
                               uint32_t key)
{
        uint32_t *cntp, cap;
        const ltrr_profile_item_t *t = p ? profile_table(p, what, &cntp,
                                                         &cap)
                                         : NULL;
        for (uint32_t i = 0; t && i < *cntp; i++)
                if (t[i].key == key)
                        return t[i].weight;
        return 0.0f;
}

uint32_t ltrr_arm_artist_hash(const char *name, size_t len)
{
        return ltrr_text_hash32(name, len);
}

int ltrr_arm_artist_next(const char **s, const char **name, size_t *len)
{
        if (!**s)
                return 0;
        const char *end = strstr(*s, ", ");
        *name = *s;
        *len = end ? (size_t)(end - *s) : strlen(*s);
        *s += *len + (end ? 2 : 0);
        return 1;
}

ltrr_err_t ltrr_user_profile_derive(ltrr_user_profile_t *p,
                                    const ltrr_index_t *ix)
{
        ltrr_err_t ret = LTRR_OK;
        if (!p || !ix)
                return LTRR_ERR_INVALID_ARG;
        const ltrr_arm_entattr_t *ea = ltrr_arm_entattr(ix);
        for (uint32_t i = 0; i < p->ents_cnt; i++) {
                ltrr_index_entity_t e;
                if (ltrr_index_entity(ix, p->ents[i].key, &e) != LTRR_OK)
                        continue;
                const char *s = e.artists, *a;
                size_t len;
                while (ltrr_arm_artist_next(&s, &a, &len))
                        if (len && ltrr_user_profile_add(
                                       p, 1, ltrr_arm_artist_hash(a, len),
                                       p->ents[i].weight) != LTRR_OK)
                                ret = LTRR_ERR_NOSPACE;
                if (ea)
                        for (int g = 0; g < LTRR_ARM_ENTATTR_SLOTS; g++)
                                if (ea[p->ents[i].key].genre[g] &&
                                    ltrr_user_profile_add(
                                        p, 2,
                                        ea[p->ents[i].key].genre[g] - 1,
                                        p->ents[i].weight) != LTRR_OK)
                                        ret = LTRR_ERR_NOSPACE;
        }
        return ret;
}

static int item_cmp(const void *a, const void *b)
{
        uint32_t x = ((const ltrr_profile_item_t *)a)->key,
                 y = ((const ltrr_profile_item_t *)b)->key;
        return (x > y) - (x < y);
}

/* Copies @p n items of @p t to @p out sorted by key, each weight divided
 * by the largest. */
static uint32_t view_table(ltrr_profile_item_t *out,
                           const ltrr_profile_item_t *t, uint32_t n)
{
        float max = 0.0f;
        for (uint32_t i = 0; i < n; i++)
                if (t[i].weight > max)
                        max = t[i].weight;
        for (uint32_t i = 0; i < n; i++)
                out[i] = (ltrr_profile_item_t){t[i].key, t[i].weight / max};
        qsort(out, n, sizeof(*out), item_cmp);
        return n;
}

void ltrr_profile_view_build(ltrr_profile_view_t *v,
                             const ltrr_user_profile_t *p)
{
        v->artists_cnt = p ? view_table(v->artists, p->artists,
                                        p->artists_cnt)
                           : 0;
        v->genres_cnt = p ? view_table(v->genres, p->genres, p->genres_cnt)
                          : 0;
}

/* Scaled weight of @p key in the sorted @p t, 0 if absent. */
static float view_get(const ltrr_profile_item_t *t, uint32_t n,
                      uint32_t key)
{
        ltrr_profile_item_t k = {key, 0.0f};
        const ltrr_profile_item_t *f =
            n ? bsearch(&k, t, n, sizeof(*t), item_cmp) : NULL;
        return f ? f->weight : 0.0f;
}

void ltrr_profile_view_affinity(const ltrr_profile_view_t *v,
                                const ltrr_index_t *ix, uint32_t ent,
                                float *artist, float *genre)
{
        const ltrr_arm_entattr_t *ea = ltrr_arm_entattr(ix);
        ltrr_index_entity_t e;
        float a = 0.0f, g = 0.0f, w;
        const char *s, *name;
        size_t len;

        if (ea && ent < ltrr_index_count(ix)) {
                for (int i = 0; i < LTRR_ARM_ENTATTR_SLOTS; i++) {
                        if (ea[ent].artist[i] &&
                            (w = view_get(v->artists, v->artists_cnt,
                                          ea[ent].artist[i])) > a)
                                a = w;
                        if (ea[ent].genre[i] &&
                            (w = view_get(v->genres, v->genres_cnt,
                                          ea[ent].genre[i] - 1)) > g)
                                g = w;
                }
        } else if (v->artists_cnt &&
                   ltrr_index_entity(ix, ent, &e) == LTRR_OK) {
                for (s = e.artists; ltrr_arm_artist_next(&s, &name, &len);) {
                        w = view_get(v->artists, v->artists_cnt,
                                     ltrr_arm_artist_hash(name, len));
                        if (w > a)
                                a = w;
                }
        }
        *artist = a;
        *genre = g;
}

/* ---- popularity overrides ----------------------------------------------- */

ltrr_pop_overrides_t *ltrr_pop_overrides_new(void)
{
        return calloc(1, sizeof(ltrr_pop_overrides_t));
}

void ltrr_pop_overrides_destroy(ltrr_pop_overrides_t *po)
{
        free(po);
}

void ltrr_pop_overrides_reset(ltrr_pop_overrides_t *po)
{
        po->cnt = 0;
        po->sorted = 0;
}

ltrr_err_t ltrr_pop_overrides_add(ltrr_pop_overrides_t *po, uint32_t ent,
                                  float pop)
{
        if (!po || !isfinite(pop))
                return LTRR_ERR_INVALID_ARG;
        if (po->sorted)
                return LTRR_ERR_STATE;
        if (po->cnt == LTRR_ARM_POP_MAX)
                return LTRR_ERR_NOSPACE;
        po->items[po->cnt] = (ltrr_pop_item_t){ent, pop, po->cnt};
        po->cnt++;
        return LTRR_OK;
}

/* Orders popularity items by entity, then order of addition. */
static int pop_cmp(const void *a, const void *b)
{
        const ltrr_pop_item_t *x = a, *y = b;
        if (x->ent != y->ent)
                return x->ent < y->ent ? -1 : 1;
        return (x->seq > y->seq) - (x->seq < y->seq);
}

void ltrr_pop_overrides_seal(ltrr_pop_overrides_t *po)
{
        if (!po || po->sorted)
                return;
        qsort(po->items, po->cnt, sizeof(po->items[0]), pop_cmp);
        uint32_t m = 0;
        for (uint32_t i = 0; i < po->cnt; i++) {
                if (m && po->items[m - 1].ent == po->items[i].ent)
                        m--;
                po->items[m++] = po->items[i];
        }
        po->cnt = m;
        po->sorted = 1;
}

float ltrr_arm_popularity(const ltrr_index_t *ix,
                          const ltrr_pop_overrides_t *po, uint32_t ent,
                          int *freshp)
{
        if (freshp)
                *freshp = 0;
        if (po && po->sorted) {
                uint32_t lo = 0, hi = po->cnt;
                while (lo < hi) {
                        uint32_t mid = lo + (hi - lo) / 2;
                        if (po->items[mid].ent < ent)
                                lo = mid + 1;
                        else
                                hi = mid;
                }
                if (lo < po->cnt && po->items[lo].ent == ent) {
                        if (freshp)
                                *freshp = 1;
                        return po->items[lo].pop;
                }
        }
        return ent < ix->n ? ix->feats[ent].popularity : -1.0f;
}

float ltrr_arm_pop_factor(float pop)
{
        return 1.0f + (pop > 0 ? log1pf(pop) : 0.0f);
}

uint64_t ltrr_arm_attr_key(int kind, uint32_t value)
{
        if (kind == LTRR_QU_YEAR) {
                kind = LTRR_QU_DECADE;
                value -= value % 10;
        }
        return ((uint64_t)(uint32_t)(kind + 1) << 32) | value;
}

/* ---- shared arm helpers ------------------------------------------------- */

ltrr_err_t ltrr_arm_lex_pool(const ltrr_index_t *ix,
                             const ltrr_arm_query_t *q,
                             const ltrr_arm_ctx_t *ctx,
                             ltrr_arm_scratch_t *scr, unsigned slot,
                             ltrr_arm_cand_t *pool, size_t cap,
                             size_t *cntp, char *errstr, size_t errstr_size)
{
        *cntp = 0;
        if (cap == 0 || q->cnt == 0)
                return LTRR_OK;
        return ltrr_arm_lexical.run(ix, q, ctx, scr, slot, cap, pool, cntp,
                                    errstr, errstr_size);
}

const ltrr_arm_entattr_t *ltrr_arm_entattr(const ltrr_index_t *ix)
{
        uint64_t len, cnt;
        const uint8_t *sec = ix ? ltrr_index_section(ix, LTRR_ARM_SEC_ENTATTR,
                                                     &len)
                                : NULL;
        if (!sec || len < 8)
                return NULL;
        memcpy(&cnt, sec, sizeof(cnt));
        if (cnt != ix->n || len != 8 + cnt * sizeof(ltrr_arm_entattr_t))
                return NULL;
        return (const ltrr_arm_entattr_t *)(sec + 8);
}

/* Orders candidates by score descending, then entity. */
static int cand_cmp(const void *a, const void *b)
{
        const ltrr_arm_cand_t *x = a, *y = b;
        if (x->score != y->score)
                return x->score > y->score ? -1 : 1;
        return (x->ent > y->ent) - (x->ent < y->ent);
}

void ltrr_arm_cand_sort(ltrr_arm_cand_t *c, size_t n)
{
        qsort(c, n, sizeof(*c), cand_cmp);
}

/* Orders entity numbers ascending. */
static int u32_cmp(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
        return (x > y) - (x < y);
}

size_t ltrr_arm_attr_mark(const ltrr_index_t *ix, uint64_t key,
                          const ltrr_arm_cand_t *c, size_t n, uint8_t *hit)
{
        uint32_t ents[LTRR_ARM_POOL_MAX];
        const ltrr_q2e_tab_ent_t *l;
        size_t lc, marked = 0;
        uint64_t len;
        const void *sec = ltrr_index_section(ix, LTRR_ARM_SEC_ATTRS, &len);
        if (n > LTRR_ARM_POOL_MAX)
                n = LTRR_ARM_POOL_MAX;
        if (!sec || ltrr_q2e_tab_lookup(sec, len, key, &l, &lc) != 1)
                return 0;
        for (size_t i = 0; i < n; i++)
                ents[i] = c[i].ent;
        qsort(ents, n, sizeof(ents[0]), u32_cmp);
        uint8_t in[LTRR_ARM_POOL_MAX] = {0};
        for (size_t j = 0; j < lc; j++) {
                uint32_t *f = bsearch(&l[j].ent, ents, n, sizeof(ents[0]),
                                      u32_cmp);
                if (f)
                        in[f - ents] = 1;
        }
        for (size_t i = 0; i < n; i++) {
                uint32_t *f = bsearch(&c[i].ent, ents, n, sizeof(ents[0]),
                                      u32_cmp);
                hit[i] = f && in[f - ents];
                marked += hit[i];
        }
        return marked;
}

/* ---- index-time sections ------------------------------------------------ */

struct ltrr_arm_sections_s {
        ltrr_qu_dict_t *qu;         /* QU dictionary */
        ltrr_q2e_tab_t *q2e;        /* predicted Q2E */
        ltrr_q2e_tab_t *prefix;     /* popular entities per prefix */
        ltrr_q2e_tab_t *attrs;      /* entities per attribute */
        uint8_t *entattr;           /* LTRR_ARM_SEC_ENTATTR bytes */
        size_t entattr_len;         /* their length */
        ltrr_spell_words_t *words;  /* the word section's builder */
        const void *words_sec;      /* the section (owned by words) */
        size_t words_len;           /* its bytes */
        ltrr_token_t toks[LTRR_TEXT_TOKENS_MAX]; /* analysis output */
        char arena[LTRR_TEXT_ARENA_SIZE];        /* token strings */
};

void ltrr_arm_sections_destroy(ltrr_arm_sections_t *s)
{
        if (!s)
                return;
        ltrr_qu_dict_destroy(s->qu);
        ltrr_q2e_tab_destroy(s->q2e);
        ltrr_q2e_tab_destroy(s->prefix);
        ltrr_q2e_tab_destroy(s->attrs);
        ltrr_spell_words_destroy(s->words);
        free(s->entattr);
        free(s);
}

/* Adds the 1..LTRR_ARM_PREFIX_CPS_MAX code point prefixes of the first
 * token of @p text for entity @p ent, and its words to the word
 * section; 0 or LTRR_ERR_NOMEM. */
static ltrr_err_t prefix_add(ltrr_arm_sections_t *s, ltrr_analyzer_t *an,
                             const char *text, uint32_t ent, float pop)
{
        ltrr_tokbuf_t tb;
        ltrr_tokbuf_init(&tb, s->toks, LTRR_TEXT_TOKENS_MAX, s->arena,
                         sizeof(s->arena));
        if (ltrr_analyzer_analyze(an, text, strlen(text), &tb, NULL, 0) !=
                LTRR_OK || tb.cnt == 0)
                return LTRR_OK;
        if (ltrr_spell_words_add(s->words, ent, s->toks, tb.cnt) != LTRR_OK)
                return LTRR_ERR_NOMEM;
        const char *t = s->toks[0].norm;
        size_t len = s->toks[0].norm_len, cps = 0;
        for (size_t i = 1; i <= len && cps < LTRR_ARM_PREFIX_CPS_MAX; i++) {
                if (i < len && ((uint8_t)t[i] & 0xc0) == 0x80)
                        continue;
                cps++;
                ltrr_q2e_tab_add(s->prefix, ltrr_q2e_predict_key(t, i), ent,
                                 pop);
        }
        return LTRR_OK;
}

/* Fills entity @p e's LTRR_ARM_SEC_ENTATTR record @p r. */
static void entattr_fill(const ltrr_catalog_t *cat, const ltrr_entity_t *e,
                         ltrr_arm_entattr_t *r)
{
        memset(r, 0, sizeof(*r));
        for (uint32_t i = 0; i < e->artists_cnt &&
                             i < LTRR_ARM_ENTATTR_SLOTS; i++) {
                const char *nm = ltrr_catalog_sym_name(
                    cat, LTRR_CATALOG_SYM_ARTIST, e->artists[i]);
                if (nm && *nm)
                        r->artist[i] = ltrr_arm_artist_hash(nm, strlen(nm));
        }
        for (uint32_t i = 0; i < e->genres_cnt &&
                             i < LTRR_ARM_ENTATTR_SLOTS; i++)
                r->genre[i] = e->genres[i] + 1;
}

/* Adds entity @p e's attributes, prefixes and words; 0 or
 * LTRR_ERR_NOMEM. */
static ltrr_err_t entity_sections(ltrr_arm_sections_t *s, const ltrr_catalog_t *cat,
                            ltrr_analyzer_t *an, const ltrr_entity_t *e)
{
        float pop = e->popularity > 0 ? e->popularity : 0.0f;
        ltrr_q2e_tab_t *a = s->attrs;
        for (uint32_t i = 0; i < e->genres_cnt; i++)
                ltrr_q2e_tab_add(a, ltrr_arm_attr_key(LTRR_QU_GENRE,
                                                      e->genres[i]), e->idx,
                                 pop);
        for (uint32_t i = 0; i < e->subgenres_cnt; i++)
                ltrr_q2e_tab_add(a, ltrr_arm_attr_key(LTRR_QU_SUBGENRE,
                                                      e->subgenres[i]),
                                 e->idx, pop);
        for (uint32_t i = 0; i < e->moods_cnt; i++)
                ltrr_q2e_tab_add(a, ltrr_arm_attr_key(LTRR_QU_MOOD,
                                                      e->moods[i]), e->idx,
                                 pop);
        ltrr_q2e_tab_add(a, ltrr_arm_attr_key(LTRR_QU_TYPE, e->type), e->idx,
                         pop);
        if (e->language[0])
                ltrr_q2e_tab_add(a, ltrr_arm_attr_key(
                                        LTRR_QU_LANGUAGE,
                                        (uint32_t)(uint8_t)e->language[0] |
                                            (uint32_t)(uint8_t)e->language[1]
                                                << 8),
                                 e->idx, pop);
        if (e->release_prec != LTRR_DATE_NONE) {
                int y, m, d;
                ltrr_date_to_ymd(e->release_days, &y, &m, &d);
                if (y > 0)
                        ltrr_q2e_tab_add(a, ltrr_arm_attr_key(LTRR_QU_YEAR,
                                                              (uint32_t)y),
                                         e->idx, pop);
        }
        ltrr_err_t err = prefix_add(s, an, e->name, e->idx, pop);
        for (uint32_t i = 0; !err && i < e->artists_cnt && i < 2; i++) {
                const char *nm = ltrr_catalog_sym_name(
                    cat, LTRR_CATALOG_SYM_ARTIST, e->artists[i]);
                if (nm)
                        err = prefix_add(s, an, nm, e->idx, pop);
        }
        return err;
}

/* Builds the prefix and attribute tables of @p cat into @p s. */
static ltrr_err_t build_tables(ltrr_arm_sections_t *s,
                               const ltrr_catalog_t *cat, ltrr_analyzer_t *an,
                               char *errstr, size_t errstr_size)
{
        size_t n = ltrr_catalog_count(cat), bound = (n + 1) * 16;
        s->prefix = ltrr_q2e_tab_new(LTRR_ARM_PREFIX_PER_KEY, bound);
        s->attrs = ltrr_q2e_tab_new(LTRR_ARM_ATTR_PER_KEY, bound);
        s->entattr_len = 8 + n * sizeof(ltrr_arm_entattr_t);
        s->entattr = calloc(1, s->entattr_len);
        s->words = ltrr_spell_words_new();
        if (!s->prefix || !s->attrs || !s->entattr || !s->words)
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "out of memory");
        uint64_t cnt = n;
        memcpy(s->entattr, &cnt, sizeof(cnt));
        ltrr_arm_entattr_t *rec = (ltrr_arm_entattr_t *)(s->entattr + 8);
        for (uint32_t i = 0; i < n; i++) {
                ltrr_entity_t e;
                if (ltrr_catalog_get(cat, i, &e) != LTRR_OK)
                        continue;
                if (entity_sections(s, cat, an, &e) != LTRR_OK)
                        return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                         "out of memory");
                entattr_fill(cat, &e, &rec[i]);
        }
        if (ltrr_spell_words_finish(s->words, &s->words_sec,
                                    &s->words_len) != LTRR_OK)
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "word section: out of memory");
        ltrr_err_t err = ltrr_q2e_tab_finish(s->prefix, errstr, errstr_size);
        if (err == LTRR_OK)
                err = ltrr_q2e_tab_finish(s->attrs, errstr, errstr_size);
        return err;
}

ltrr_arm_sections_t *ltrr_arm_sections_new(const ltrr_catalog_t *cat,
                                           const char *lang, char *errstr,
                                           size_t errstr_size)
{
        ltrr_arm_sections_t *s = NULL;
        ltrr_analyzer_t *an = NULL;
        if (!cat) {
                ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                          "no catalog");
                goto err;
        }
        if (!(s = calloc(1, sizeof(*s)))) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                          "out of memory");
                goto err;
        }
        if (!(an = ltrr_analyzer_new(lang ? lang : "en", errstr,
                                     errstr_size)))
                goto err;
        if (!(s->qu = ltrr_qu_dict_build(cat, an, errstr, errstr_size)))
                goto err;
        if (!(s->q2e = ltrr_q2e_predict_build(cat, an, 0, 0, errstr,
                                              errstr_size)))
                goto err;
        if (build_tables(s, cat, an, errstr, errstr_size) != LTRR_OK)
                goto err;
        ltrr_analyzer_destroy(an);
        return s;
err:
        ltrr_analyzer_destroy(an);
        ltrr_arm_sections_destroy(s);
        return NULL;
}

size_t ltrr_arm_sections_extra(const ltrr_arm_sections_t *s,
                               ltrr_index_extra_t *out, size_t cap)
{
        size_t n = 0;
        if (!s || cap < 5)
                return 0;
        ltrr_qu_dict_blob(s->qu, &out[n].data, &out[n].len);
        out[n++].kind = LTRR_INDEX_SEC_QU;
        ltrr_q2e_tab_blob(s->q2e, &out[n].data, &out[n].len);
        out[n++].kind = LTRR_INDEX_SEC_Q2E;
        ltrr_q2e_tab_blob(s->prefix, &out[n].data, &out[n].len);
        out[n++].kind = LTRR_ARM_SEC_PREFIX;
        ltrr_q2e_tab_blob(s->attrs, &out[n].data, &out[n].len);
        out[n++].kind = LTRR_ARM_SEC_ATTRS;
        out[n].data = s->words_sec;
        out[n].len = s->words_len;
        out[n++].kind = LTRR_SPELL_SEC_WORDS;
        return n;
}

size_t ltrr_arm_sections_extra_all(const ltrr_arm_sections_t *s,
                                   ltrr_index_extra_t *out, size_t cap)
{
        if (!s || cap < 6)
                return 0;
        size_t n = ltrr_arm_sections_extra(s, out, cap);
        out[n].data = s->entattr;
        out[n].len = s->entattr_len;
        out[n++].kind = LTRR_ARM_SEC_ENTATTR;
        return n;
}
