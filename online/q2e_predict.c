/*
 * ltrr - predicted Q2E and the keyed table that stores it (see
 * q2e_predict.h for the layout, docs/ARMS.md for the scores).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "q2e_predict.h"

#define TAB_MAGIC 0x544b544cu /* "LTKT" read as little-endian u32 */
#define TAB_VERSION 1u
#define TAB_HDR 32
/** Growth step of the tuple array, in entries. */
#define TAB_GROW_MIN 4096
/** Key runs up to this length are ordered by insertion; longer ones by
 *  radix passes. */
#define TAB_RUN_SHORT 32
/** The duplicate check uses one stamp per entity id while the largest id
 *  is at most the tuple count plus this; beyond, it scans the run. */
#define TAB_STAMP_SLACK (1u << 20)

/* A table key record (16 bytes). */
typedef struct tab_key_s {
        uint64_t hash;  /* key */
        uint32_t first; /* first entry */
        uint32_t cnt;   /* entries */
} tab_key_t;

/* A tuple before sorting (16 bytes). */
typedef struct tab_tuple_s {
        uint64_t key;  /* key */
        uint32_t ent;  /* entity */
        float score;   /* score */
} tab_tuple_t;

struct ltrr_q2e_tab_s {
        tab_tuple_t *t;     /* tuples */
        size_t cnt;         /* tuples held */
        size_t cap;         /* tuples allocated */
        size_t total_max;   /* bound on cnt */
        uint32_t per_key;   /* entries kept per key */
        uint32_t ent_max;   /* largest entity added */
        int ent_unsorted;   /* entities were added out of order */
        uint64_t dropped;   /* adds refused when full */
        uint8_t *blob;      /* serialized form after finish */
        size_t blob_len;    /* bytes of blob */
};

uint64_t ltrr_q2e_predict_key(const char *s, size_t len)
{
        uint64_t h = 0xcbf29ce484222325ull;
        for (size_t i = 0; i < len; i++) {
                h ^= (uint8_t)s[i];
                h *= 0x100000001b3ull;
        }
        return h;
}

ltrr_q2e_tab_t *ltrr_q2e_tab_new(uint32_t per_key, size_t total_max)
{
        if (per_key == 0 || total_max == 0)
                return NULL;
        ltrr_q2e_tab_t *tab = calloc(1, sizeof(*tab));
        if (!tab)
                return NULL;
        tab->per_key = per_key;
        tab->total_max = total_max;
        return tab;
}

void ltrr_q2e_tab_destroy(ltrr_q2e_tab_t *tab)
{
        if (!tab)
                return;
        free(tab->t);
        free(tab->blob);
        free(tab);
}

ltrr_err_t ltrr_q2e_tab_add(ltrr_q2e_tab_t *tab, uint64_t key, uint32_t ent,
                            float score)
{
        if (!tab || tab->blob)
                return LTRR_ERR_STATE;
        if (tab->cnt == tab->total_max) {
                tab->dropped++;
                return LTRR_ERR_NOSPACE;
        }
        if (tab->cnt == tab->cap) {
                size_t cap = tab->cap ? tab->cap * 2 : TAB_GROW_MIN;
                if (cap > tab->total_max)
                        cap = tab->total_max;
                tab_tuple_t *t = realloc(tab->t, cap * sizeof(*t));
                if (!t)
                        return LTRR_ERR_NOMEM;
                tab->t = t;
                tab->cap = cap;
        }
        if (tab->cnt && ent < tab->t[tab->cnt - 1].ent)
                tab->ent_unsorted = 1;
        if (ent > tab->ent_max)
                tab->ent_max = ent;
        tab->t[tab->cnt++] = (tab_tuple_t){key, ent, score};
        return LTRR_OK;
}

/* ---- sorting ------------------------------------------------------------
 * The order is tuple_cmp's. The table is radix-sorted on the key (stable),
 * then each key run on (score descending, entity): short runs by
 * insertion, long ones by stable radix passes on the score, preceded by
 * passes on the entity unless the tuples were added in entity order
 * (then the key sort left each run in entity order already). Every step
 * is stable and scores equal under tuple_cmp (0 and -0) get one radix
 * value, so the result is the one any stable sort by tuple_cmp gives. */

/* Unsigned value of @p s that orders scores descending. */
static uint32_t score_desc_bits(float s)
{
        uint32_t u;
        if (s == 0.0f)
                s = 0.0f; /* -0 sorts as 0, as tuple_cmp has it */
        memcpy(&u, &s, sizeof(u));
        u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
        return ~u;
}

/* Radix digit @p d of @p t, least significant first: 0..7 the key's
 * bytes, 8..11 the descending score's, 12..15 the entity's. */
static unsigned tuple_digit(const tab_tuple_t *t, unsigned d)
{
        if (d < 8)
                return (unsigned)(t->key >> (8 * d)) & 0xffu;
        if (d < 12)
                return (score_desc_bits(t->score) >> (8 * (d - 8))) & 0xffu;
        return (t->ent >> (8 * (d - 12))) & 0xffu;
}

/* Stable LSD radix sort of @p a (@p n tuples) on digits @p digs[0..nd)
 * (nd <= 8, least significant first), through @p tmp of n tuples; a
 * digit all tuples share costs no pass. The result is left in @p a. */
static void radix_sort(tab_tuple_t *a, tab_tuple_t *tmp, size_t n,
                       const unsigned *digs, size_t nd)
{
        size_t cnt[8][256];
        tab_tuple_t *src = a, *dst = tmp;
        memset(cnt, 0, sizeof(cnt));
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < nd; k++)
                        cnt[k][tuple_digit(&a[i], digs[k])]++;
        for (size_t k = 0; k < nd; k++) {
                size_t sum = 0, trivial = 0;
                for (unsigned b = 0; b < 256; b++) {
                        size_t c = cnt[k][b];
                        trivial |= (c == n);
                        cnt[k][b] = sum;
                        sum += c;
                }
                if (trivial)
                        continue;
                for (size_t i = 0; i < n; i++)
                        dst[cnt[k][tuple_digit(&src[i], digs[k])]++] = src[i];
                tab_tuple_t *t = src;
                src = dst;
                dst = t;
        }
        if (src != a)
                memcpy(a, src, n * sizeof(*a));
}

/* Orders tuples by key, then score descending, then entity. */
static int tuple_cmp(const void *a, const void *b)
{
        const tab_tuple_t *x = a, *y = b;
        if (x->key != y->key)
                return x->key < y->key ? -1 : 1;
        if (x->score != y->score)
                return x->score > y->score ? -1 : 1;
        return (x->ent > y->ent) - (x->ent < y->ent);
}

/* Orders one key run @p a of @p n tuples by tuple_cmp (stable). */
static void run_sort(tab_tuple_t *a, tab_tuple_t *tmp, size_t n,
                     int ent_unsorted)
{
        static const unsigned ent_digs[4] = {12, 13, 14, 15};
        static const unsigned score_digs[4] = {8, 9, 10, 11};
        if (n > TAB_RUN_SHORT) {
                if (ent_unsorted)
                        radix_sort(a, tmp, n, ent_digs, 4);
                radix_sort(a, tmp, n, score_digs, 4);
                return;
        }
        for (size_t i = 1; i < n; i++) {
                tab_tuple_t x = a[i];
                size_t j = i;
                for (; j > 0 && tuple_cmp(&a[j - 1], &x) > 0; j--)
                        a[j] = a[j - 1];
                a[j] = x;
        }
}

/* Sorts the tuples of @p tab by tuple_cmp. */
static void tab_sort(ltrr_q2e_tab_t *tab)
{
        static const unsigned key_digs[8] = {0, 1, 2, 3, 4, 5, 6, 7};
        if (tab->cnt < 2)
                return;
        tab_tuple_t *tmp = malloc(tab->cnt * sizeof(*tmp));
        if (!tmp) { /* no memory for the radix passes: the same order */
                qsort(tab->t, tab->cnt, sizeof(*tab->t), tuple_cmp);
                return;
        }
        radix_sort(tab->t, tmp, tab->cnt, key_digs, 8);
        for (size_t i = 0, j; i < tab->cnt; i = j) {
                for (j = i + 1; j < tab->cnt && tab->t[j].key == tab->t[i].key;
                     j++)
                        ;
                run_sort(tab->t + i, tmp, j - i, tab->ent_unsorted);
        }
        free(tmp);
}

/* Whether @p ent is among the @p n tuples of @p run. */
static int run_has(const tab_tuple_t *run, size_t n, uint32_t ent)
{
        for (size_t j = 0; j < n; j++)
                if (run[j].ent == ent)
                        return 1;
        return 0;
}

/* Keeps per_key tuples per key and drops repeated (key, entity) pairs;
 * returns the number of distinct keys. The repeat check is a stamp per
 * entity (the number of the last key run that kept it), or, when the
 * ids are sparse or memory is short, a scan of the run kept so far. */
static size_t tab_compact(ltrr_q2e_tab_t *tab)
{
        uint32_t *stamp = NULL;
        if (tab->cnt < UINT32_MAX &&
            tab->ent_max <= tab->cnt + TAB_STAMP_SLACK)
                stamp = calloc((size_t)tab->ent_max + 1, sizeof(*stamp));
        size_t m = 0, keys = 0, run = 0;
        for (size_t i = 0; i < tab->cnt; i++) {
                const tab_tuple_t c = tab->t[i];
                if (!m || tab->t[m - 1].key != c.key) {
                        run = 0;
                        keys++;
                } else if (run >= tab->per_key) {
                        continue;
                }
                if (stamp ? stamp[c.ent] == keys
                          : run_has(tab->t + m - run, run, c.ent))
                        continue;
                if (stamp)
                        stamp[c.ent] = (uint32_t)keys;
                tab->t[m++] = c;
                run++;
        }
        free(stamp);
        tab->cnt = m;
        return keys;
}

ltrr_err_t ltrr_q2e_tab_finish(ltrr_q2e_tab_t *tab, char *errstr,
                               size_t errstr_size)
{
        if (!tab || tab->blob)
                return ltrr_errf(LTRR_ERR_STATE, errstr, errstr_size,
                                 "table already finished");
        tab_sort(tab);
        size_t keys = tab_compact(tab);
        if (tab->cnt > UINT32_MAX)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "table of %zu entries", tab->cnt);
        size_t len = TAB_HDR + keys * sizeof(tab_key_t) +
                     tab->cnt * sizeof(ltrr_q2e_tab_ent_t);
        uint8_t *b = calloc(1, len);
        if (!b)
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "out of memory");
        uint32_t hdr[8] = {TAB_MAGIC, TAB_VERSION, (uint32_t)keys,
                           (uint32_t)tab->cnt, tab->per_key, 0, 0, 0};
        memcpy(b, hdr, sizeof(hdr));
        tab_key_t *k = (tab_key_t *)(b + TAB_HDR);
        ltrr_q2e_tab_ent_t *e = (ltrr_q2e_tab_ent_t *)(k + keys);
        size_t nk = 0;
        for (size_t i = 0; i < tab->cnt; i++) {
                if (!nk || k[nk - 1].hash != tab->t[i].key)
                        k[nk++] = (tab_key_t){tab->t[i].key, (uint32_t)i, 0};
                k[nk - 1].cnt++;
                e[i] = (ltrr_q2e_tab_ent_t){tab->t[i].ent, tab->t[i].score};
        }
        free(tab->t);
        tab->t = NULL;
        tab->cap = 0;
        tab->blob = b;
        tab->blob_len = len;
        return LTRR_OK;
}

void ltrr_q2e_tab_blob(const ltrr_q2e_tab_t *tab, const void **datap,
                       size_t *lenp)
{
        *datap = tab ? tab->blob : NULL;
        *lenp = tab ? tab->blob_len : 0;
}

uint64_t ltrr_q2e_tab_dropped(const ltrr_q2e_tab_t *tab)
{
        return tab ? tab->dropped : 0;
}

ltrr_err_t ltrr_q2e_tab_check(const void *data, uint64_t len, char *errstr,
                              size_t errstr_size)
{
        uint32_t h[8];
        if (!data || len < TAB_HDR)
                return ltrr_errf(LTRR_ERR_TRUNCATED, errstr, errstr_size,
                                 "keyed table: %llu bytes, less than a "
                                 "header", (unsigned long long)len);
        if ((uintptr_t)data % 8)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "keyed table not 8-byte aligned");
        memcpy(h, data, sizeof(h));
        if (h[0] != TAB_MAGIC || h[1] != TAB_VERSION)
                return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                 "keyed table: bad magic or version");
        uint64_t want = TAB_HDR + (uint64_t)h[2] * sizeof(tab_key_t) +
                        (uint64_t)h[3] * sizeof(ltrr_q2e_tab_ent_t);
        if (want != len)
                return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                 "keyed table: %llu bytes, counts say %llu",
                                 (unsigned long long)len,
                                 (unsigned long long)want);
        return LTRR_OK;
}

int ltrr_q2e_tab_lookup(const void *data, uint64_t len, uint64_t key,
                        const ltrr_q2e_tab_ent_t **entsp, size_t *cntp)
{
        *entsp = NULL;
        *cntp = 0;
        if (ltrr_q2e_tab_check(data, len, NULL, 0) != LTRR_OK)
                return -1;
        const uint32_t *h = data;
        const tab_key_t *k = (const tab_key_t *)((const uint8_t *)data +
                                                  TAB_HDR);
        size_t lo = 0, hi = h[2];
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (k[mid].hash < key)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (lo == h[2] || k[lo].hash != key)
                return 0;
        if ((uint64_t)k[lo].first + k[lo].cnt > h[3])
                return -1;
        *entsp = (const ltrr_q2e_tab_ent_t *)(k + h[2]) + k[lo].first;
        *cntp = k[lo].cnt;
        return 1;
}

/* ---- query generation --------------------------------------------------- */

/* Appends the normalization of @p text as a query of @p kind, unless it
 * is empty or already present. Returns the new count. */
static size_t gen_add(ltrr_analyzer_t *an, const char *text,
                      ltrr_q2e_pred_kind_t kind, float score,
                      ltrr_q2e_pred_query_t *out, size_t n, size_t cap)
{
        if (n >= cap)
                return n;
        ltrr_q2e_pred_query_t *q = &out[n];
        if (ltrr_analyzer_normalize(an, text, strlen(text), q->query,
                                    sizeof(q->query), NULL, NULL,
                                    0) != LTRR_OK || !q->query[0])
                return n;
        for (size_t i = 0; i < n; i++)
                if (strcmp(out[i].query, q->query) == 0)
                        return n;
        q->kind = kind;
        q->score = score;
        return n + 1;
}

/* Appends an already normalized query (a prefix or a misspelling). */
static size_t gen_raw(const char *s, size_t len, ltrr_q2e_pred_kind_t kind,
                      float score, ltrr_q2e_pred_query_t *out, size_t n,
                      size_t cap)
{
        if (n >= cap || len == 0 || len > LTRR_Q2E_PREDICT_QUERY_MAX)
                return n;
        for (size_t i = 0; i < n; i++)
                if (strlen(out[i].query) == len &&
                    memcmp(out[i].query, s, len) == 0)
                        return n;
        memcpy(out[n].query, s, len);
        out[n].query[len] = '\0';
        out[n].kind = kind;
        out[n].score = score;
        return n + 1;
}

/* Prefixes of normalized name @p nm of PREFIX_MIN..PREFIX_MAX code
 * points, shorter than the name, not ending in a space. */
static size_t gen_prefixes(const char *nm, float popw,
                           ltrr_q2e_pred_query_t *out, size_t n, size_t cap)
{
        size_t len = strlen(nm), cps = 0;
        for (size_t i = 1; i <= len; i++) {
                if (i < len && ((uint8_t)nm[i] & 0xc0) == 0x80)
                        continue; /* inside a code point */
                if (++cps > LTRR_Q2E_PREDICT_PREFIX_MAX || i == len)
                        break;
                if (cps < LTRR_Q2E_PREDICT_PREFIX_MIN || nm[i - 1] == ' ')
                        continue;
                float frac = (float)i / (float)len;
                n = gen_raw(nm, i, LTRR_Q2E_PRED_PREFIX,
                            popw * (0.3f + 0.4f * frac), out, n, cap);
        }
        return n;
}

/* One misspelling of normalized name @p nm: in its longest ASCII token
 * of 4 or more letters, the two letters at the middle swapped (or, when
 * they are equal, one of them dropped). */
static size_t gen_typo(const char *nm, float popw,
                       ltrr_q2e_pred_query_t *out, size_t n, size_t cap)
{
        size_t len = strlen(nm), best = 0, best_len = 0;
        for (size_t i = 0; i < len;) {
                size_t j = i, ascii = 1;
                while (j < len && nm[j] != ' ')
                        ascii &= ((uint8_t)nm[j++] < 0x80);
                if (ascii && j - i > best_len) {
                        best = i;
                        best_len = j - i;
                }
                i = j + 1;
        }
        if (best_len < 4 || len > LTRR_Q2E_PREDICT_QUERY_MAX)
                return n;
        char buf[LTRR_Q2E_PREDICT_QUERY_MAX + 1];
        size_t m = best + best_len / 2, blen = len;
        memcpy(buf, nm, len);
        if (buf[m - 1] != buf[m]) {
                buf[m - 1] = nm[m];
                buf[m] = nm[m - 1];
        } else {
                memmove(buf + m, buf + m + 1, len - m - 1);
                blen--;
        }
        return gen_raw(buf, blen, LTRR_Q2E_PRED_MISSPELLING, popw * 0.7f,
                       out, n, cap);
}

size_t ltrr_q2e_predict_queries(ltrr_analyzer_t *an, const char *name,
                                const char *const *artists,
                                size_t artists_cnt, float popw,
                                ltrr_q2e_pred_query_t *out, size_t cap)
{
        char buf[2 * LTRR_Q2E_PREDICT_QUERY_MAX + 2];
        size_t n;
        if (!an || !name || !out || (artists_cnt && !artists))
                return 0;
        n = gen_add(an, name, LTRR_Q2E_PRED_NAME, popw, out, 0, cap);
        if (n == 0)
                return 0;
        char nm[LTRR_Q2E_PREDICT_QUERY_MAX + 1];
        memcpy(nm, out[0].query, sizeof(nm));
        for (size_t a = 0; a < artists_cnt && a < 2; a++) {
                snprintf(buf, sizeof(buf), "%s %s", artists[a], name);
                n = gen_add(an, buf, LTRR_Q2E_PRED_ARTIST_TITLE, popw, out,
                            n, cap);
                n = gen_add(an, artists[a], LTRR_Q2E_PRED_ARTIST,
                            popw * 0.6f, out, n, cap);
        }
        n = gen_typo(nm, popw, out, n, cap);
        return gen_prefixes(nm, popw, out, n, cap);
}

/* Largest popularity of @p cat (0 if none is known). */
static float max_popularity(const ltrr_catalog_t *cat)
{
        float m = 0.0f;
        ltrr_entity_t e;
        for (uint32_t i = 0; i < ltrr_catalog_count(cat); i++)
                if (ltrr_catalog_get(cat, i, &e) == LTRR_OK &&
                    e.popularity > m)
                        m = e.popularity;
        return m;
}

/* Popularity weight 0.05..1 of @p pop on a log scale up to @p maxpop. */
static float pop_weight(float pop, float maxpop)
{
        if (!(pop > 0) || !(maxpop > 0))
                return 0.05f;
        return 0.05f + 0.95f * (float)(log1p(pop) / log1p(maxpop));
}

/* Adds the generated queries of entity @p e to @p tab. Returns LTRR_OK,
 * LTRR_ERR_NOSPACE once the table is full, or LTRR_ERR_NOMEM. */
static ltrr_err_t predict_entity(const ltrr_catalog_t *cat,
                                 ltrr_analyzer_t *an, const ltrr_entity_t *e,
                                 float maxpop, ltrr_q2e_tab_t *tab)
{
        ltrr_q2e_pred_query_t qs[LTRR_Q2E_PREDICT_PER_ENTITY];
        const char *arts[2];
        size_t na = 0;
        for (uint32_t a = 0; a < e->artists_cnt && na < 2; a++)
                if ((arts[na] = ltrr_catalog_sym_name(
                         cat, LTRR_CATALOG_SYM_ARTIST, e->artists[a])))
                        na++;
        size_t n = ltrr_q2e_predict_queries(an, e->name, arts, na,
                                            pop_weight(e->popularity, maxpop),
                                            qs, LTRR_Q2E_PREDICT_PER_ENTITY);
        for (size_t i = 0; i < n; i++) {
                ltrr_err_t err = ltrr_q2e_tab_add(
                    tab, ltrr_q2e_predict_key(qs[i].query,
                                              strlen(qs[i].query)),
                    e->idx, qs[i].score);
                if (err != LTRR_OK)
                        return err;
        }
        return LTRR_OK;
}

ltrr_q2e_tab_t *ltrr_q2e_predict_build(const ltrr_catalog_t *cat,
                                       ltrr_analyzer_t *an,
                                       uint32_t per_query, size_t total_max,
                                       char *errstr, size_t errstr_size)
{
        ltrr_q2e_tab_t *tab = NULL;
        if (!cat || !an) {
                ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                          "no catalog or analyzer");
                goto err;
        }
        tab = ltrr_q2e_tab_new(per_query ? per_query
                                         : LTRR_Q2E_PREDICT_PER_QUERY,
                               total_max ? total_max
                                         : LTRR_Q2E_PREDICT_TOTAL_MAX);
        if (!tab) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                          "out of memory");
                goto err;
        }
        float maxpop = max_popularity(cat);
        for (uint32_t i = 0; i < ltrr_catalog_count(cat); i++) {
                ltrr_entity_t e;
                if (ltrr_catalog_get(cat, i, &e) != LTRR_OK)
                        continue;
                ltrr_err_t err = predict_entity(cat, an, &e, maxpop, tab);
                if (err == LTRR_ERR_NOSPACE)
                        tab->dropped += ltrr_catalog_count(cat) - i - 1;
                if (err == LTRR_ERR_NOSPACE)
                        break; /* full: the rest is counted as dropped */
                if (err != LTRR_OK) {
                        ltrr_errf(err, errstr, errstr_size,
                                  "predicted Q2E: out of memory");
                        goto err;
                }
        }
        if (ltrr_q2e_tab_finish(tab, errstr, errstr_size) != LTRR_OK)
                goto err;
        return tab;
err:
        ltrr_q2e_tab_destroy(tab);
        return NULL;
}
