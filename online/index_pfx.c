/*
 * ltrr - the PFXIMPACT section: for every 2..3 byte prefix of terms
 * whose expansion is frequent, the best entities of the lexical arm's
 * prefix query, precomputed. A one-token query that is not a term is
 * read by the lexical arm as a prefix and expanded to the
 * LTRR_INDEX_PFX_TERMS terms with it that have the most postings; the
 * head of this list is then its answer, without reading the sixteen
 * posting lists (docs/INDEX.md, docs/decisions/0027-impact-lists.md).
 *
 * Layout: ltrr_index_pfxhdr_t, list_cnt ltrr_index_pfxlist_t sorted by
 * key, then the entries (ltrr_index_pfxent_t) of every list.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "index_int.h"

/* One entity being ranked. */
typedef struct pfx_sort_s {
        float score;   /* BM25F of the expansion */
        float pop;     /* popularity (ties) */
        uint32_t doc;  /* entity (ties) */
        uint32_t flags; /* LTRR_INDEX_PFX_F_* */
} pfx_sort_t;

/* Per-entity accumulators, reset after each prefix. */
typedef struct pfx_acc_s {
        float *score;       /* per entity */
        uint16_t *nametf;   /* occurrences of expansion terms in the name */
        uint16_t *namelen;  /* tokens in the name */
        uint8_t *seen;      /* 1: in touched */
        uint32_t *touched;  /* entities with a score */
        uint32_t touched_cnt;
        pfx_sort_t *sort;   /* ranking buffer, n entries */
} pfx_acc_t;

/* Growing output. */
typedef struct pfx_out_s {
        ltrr_index_pfxlist_t *lists;
        size_t list_cnt, list_cap;
        ltrr_index_pfxent_t *ents;
        size_t ent_cnt, ent_cap;
} pfx_out_t;

/* Best first: score descending, popularity descending, entity ascending. */
static int pfx_cmp(const void *a, const void *b)
{
        const pfx_sort_t *x = a, *y = b;
        if (x->score != y->score)
                return x->score > y->score ? -1 : 1;
        if (x->pop != y->pop)
                return x->pop > y->pop ? -1 : 1;
        return (x->doc > y->doc) - (x->doc < y->doc);
}

/* Key order of list records. */
static int pfx_list_cmp(const void *a, const void *b)
{
        return memcmp(((const ltrr_index_pfxlist_t *)a)->key,
                      ((const ltrr_index_pfxlist_t *)b)->key, 4);
}

/* Bytes of the term at dictionary position @p i. */
static const char *term_bytes(const ltrr_index_impact_in_t *in, uint32_t i,
                              uint32_t *lenp)
{
        uint32_t t = in->order[i];
        *lenp = in->term_len[t];
        return in->termstr + in->term_off[t];
}

/* The expansion of the prefix whose terms start at position @p at and
 * end before @p end: the terms with the most postings (equal: the first),
 * as the lexical arm picks them. Returns the count put in @p best. */
static uint32_t pfx_pick(const ltrr_index_impact_in_t *in, uint32_t at,
                         uint32_t end, uint32_t *best)
{
        uint32_t nb = 0;
        if (end - at > LTRR_INDEX_PFX_SCAN)
                end = at + LTRR_INDEX_PFX_SCAN;
        for (uint32_t i = at; i < end; i++) {
                uint32_t df = in->df[in->order[i]];
                if (nb == LTRR_INDEX_PFX_TERMS &&
                    df <= in->df[in->order[best[nb - 1]]])
                        continue;
                uint32_t j = nb < LTRR_INDEX_PFX_TERMS ? nb++ : nb - 1;
                for (; j > 0 && in->df[in->order[best[j - 1]]] < df; j--)
                        best[j] = best[j - 1];
                best[j] = i;
        }
        return nb;
}

/* Adds the postings of dictionary term @p i to the accumulators. */
static void pfx_add_term(const ltrr_index_impact_in_t *in, pfx_acc_t *a,
                         uint32_t i)
{
        uint32_t t = in->order[i];
        double n = in->n, df = in->df[t];
        float w = (float)log(1.0 + (n - df + 0.5) / (df + 0.5));
        const ltrr_index_post_t *p = in->posts + in->first[t];
        for (uint32_t j = 0; j < in->df[t]; j++) {
                uint32_t d = p[j].doc;
                if (d >= in->n)
                        continue;
                if (!a->seen[d]) {
                        a->touched[a->touched_cnt++] = d;
                        a->seen[d] = 1;
                }
                a->score[d] += w * p[j].tfw / (LTRR_INDEX_PFX_K1 + p[j].tfw);
                a->nametf[d] = (uint16_t)(a->nametf[d] +
                                          p[j].tf[LTRR_INDEX_FIELD_NAME]);
                a->namelen[d] = p[j].len[LTRR_INDEX_FIELD_NAME];
        }
}

/* Ranks the touched entities, appends the best to @p o and resets the
 * accumulators. Returns -1 if out of memory. */
static int pfx_emit(const ltrr_index_impact_in_t *in, pfx_acc_t *a,
                    pfx_out_t *o, ltrr_index_pfxlist_t *rec)
{
        for (uint32_t j = 0; j < a->touched_cnt; j++) {
                uint32_t d = a->touched[j];
                pfx_sort_t *s = &a->sort[j];
                s->score = a->score[d];
                s->pop = in->feats[d].popularity;
                s->doc = d;
                s->flags = a->nametf[d] ? LTRR_INDEX_PFX_F_NAME : 0;
                if (a->nametf[d] == 1 && a->namelen[d] == 1)
                        s->flags |= LTRR_INDEX_PFX_F_EXACT;
                a->score[d] = 0.0f;
                a->nametf[d] = a->namelen[d] = 0;
                a->seen[d] = 0;
        }
        qsort(a->sort, a->touched_cnt, sizeof(*a->sort), pfx_cmp);
        uint32_t cnt = a->touched_cnt < LTRR_INDEX_PFX_LEN
                           ? a->touched_cnt : LTRR_INDEX_PFX_LEN;
        a->touched_cnt = 0;
        if (o->ent_cnt + cnt > o->ent_cap) {
                size_t cap = (o->ent_cap + cnt) * 2;
                void *p = realloc(o->ents, cap * sizeof(*o->ents));
                if (!p)
                        return -1;
                o->ents = p;
                o->ent_cap = cap;
        }
        rec->first = o->ent_cnt;
        rec->cnt = cnt;
        for (uint32_t j = 0; j < cnt; j++) {
                ltrr_index_pfxent_t *e = &o->ents[o->ent_cnt++];
                e->doc = a->sort[j].doc;
                e->score = a->sort[j].score;
                e->flags = a->sort[j].flags;
        }
        return 0;
}

/* Builds the list of the prefix of the terms at [at, end) when its
 * expansion is frequent. Returns -1 if out of memory. */
static int pfx_group(const ltrr_index_impact_in_t *in, pfx_acc_t *a,
                     pfx_out_t *o, uint32_t at, uint32_t end, size_t plen)
{
        uint32_t best[LTRR_INDEX_PFX_TERMS], len;
        uint32_t nb = pfx_pick(in, at, end, best);
        uint64_t total = 0;
        for (uint32_t j = 0; j < nb; j++)
                total += in->df[in->order[best[j]]];
        if (total <= in->min_df)
                return 0;
        if (o->list_cnt == o->list_cap) {
                size_t cap = o->list_cap ? o->list_cap * 2 : 256;
                void *p = realloc(o->lists, cap * sizeof(*o->lists));
                if (!p)
                        return -1;
                o->lists = p;
                o->list_cap = cap;
        }
        ltrr_index_pfxlist_t *rec = &o->lists[o->list_cnt];
        memset(rec, 0, sizeof(*rec));
        memcpy(rec->key, term_bytes(in, at, &len), plen);
        for (uint32_t j = 0; j < LTRR_INDEX_PFX_TERMS; j++)
                rec->terms[j] = j < nb ? best[j] : UINT32_MAX;
        for (uint32_t j = 0; j < nb; j++)
                pfx_add_term(in, a, best[j]);
        if (pfx_emit(in, a, o, rec))
                return -1;
        o->list_cnt++;
        return 0;
}

/* Walks the dictionary for the prefixes of @p plen bytes. */
static int pfx_walk(const ltrr_index_impact_in_t *in, pfx_acc_t *a,
                    pfx_out_t *o, size_t plen)
{
        uint32_t i = 0;
        while (i < in->term_cnt) {
                uint32_t len, l2;
                const char *s = term_bytes(in, i, &len);
                if (len < plen) {
                        i++;
                        continue;
                }
                uint32_t j = i + 1;
                while (j < in->term_cnt) {
                        const char *s2 = term_bytes(in, j, &l2);
                        if (l2 < plen || memcmp(s, s2, plen) != 0)
                                break;
                        j++;
                }
                /* a prefix that is itself a term is not expanded */
                if (len > plen && pfx_group(in, a, o, i, j, plen))
                        return -1;
                i = j;
        }
        return 0;
}

/* Lays out the section from @p o. */
static void *pfx_layout(const ltrr_index_impact_in_t *in, pfx_out_t *o,
                        size_t *lenp)
{
        size_t bytes = sizeof(ltrr_index_pfxhdr_t) +
                       o->list_cnt * sizeof(ltrr_index_pfxlist_t) +
                       o->ent_cnt * sizeof(ltrr_index_pfxent_t);
        uint8_t *buf = calloc(1, bytes);
        if (!buf)
                return NULL;
        ltrr_index_pfxhdr_t *h = (ltrr_index_pfxhdr_t *)buf;
        h->list_cnt = (uint32_t)o->list_cnt;
        h->len_max = LTRR_INDEX_PFX_LEN;
        h->min_df = in->min_df;
        h->k1 = LTRR_INDEX_PFX_K1;
        qsort(o->lists, o->list_cnt, sizeof(*o->lists), pfx_list_cmp);
        memcpy(h + 1, o->lists, o->list_cnt * sizeof(*o->lists));
        memcpy(buf + sizeof(*h) + o->list_cnt * sizeof(*o->lists), o->ents,
               o->ent_cnt * sizeof(*o->ents));
        *lenp = bytes;
        return buf;
}

ltrr_err_t ltrr_index_pfx_build(const ltrr_index_impact_in_t *in,
                                void **outp, size_t *lenp)
{
        pfx_acc_t a;
        pfx_out_t o;
        ltrr_err_t err = LTRR_OK;
        *outp = NULL;
        *lenp = 0;
        memset(&o, 0, sizeof(o));
        memset(&a, 0, sizeof(a));
        size_t n = (size_t)in->n + 1;
        a.score = calloc(n, sizeof(*a.score));
        a.nametf = calloc(n, sizeof(*a.nametf));
        a.namelen = calloc(n, sizeof(*a.namelen));
        a.seen = calloc(n, sizeof(*a.seen));
        a.touched = malloc(n * sizeof(*a.touched));
        a.sort = malloc(n * sizeof(*a.sort));
        if (!a.score || !a.nametf || !a.namelen || !a.seen || !a.touched || !a.sort) {
                err = LTRR_ERR_NOMEM;
                goto done;
        }
        for (size_t plen = 2; plen <= LTRR_INDEX_PFX_BYTES; plen++)
                if (pfx_walk(in, &a, &o, plen)) {
                        err = LTRR_ERR_NOMEM;
                        goto done;
                }
        if (o.list_cnt && !(*outp = pfx_layout(in, &o, lenp)))
                err = LTRR_ERR_NOMEM;
done:
        free(a.score);
        free(a.nametf);
        free(a.namelen);
        free(a.seen);
        free(a.touched);
        free(a.sort);
        free(o.lists);
        free(o.ents);
        return err;
}

const ltrr_index_pfxlist_t *ltrr_index_pfx(const ltrr_index_t *ix,
                                           const char *key, size_t len,
                                           const ltrr_index_pfxhdr_t **hdrp,
                                           const ltrr_index_pfxent_t **entsp)
{
        uint64_t slen;
        uint8_t k[4] = {0};
        const uint8_t *sec = ltrr_index_section(ix, LTRR_INDEX_SEC_PFXIMPACT,
                                                &slen);
        if (!sec || len < 2 || len > LTRR_INDEX_PFX_BYTES ||
            slen < sizeof(ltrr_index_pfxhdr_t))
                return NULL;
        memcpy(k, key, len);
        const ltrr_index_pfxhdr_t *h = (const ltrr_index_pfxhdr_t *)sec;
        uint64_t lists_end = sizeof(*h) + (uint64_t)h->list_cnt *
                                              sizeof(ltrr_index_pfxlist_t);
        if (lists_end > slen)
                return NULL;
        const ltrr_index_pfxlist_t *l = (const ltrr_index_pfxlist_t *)(h + 1);
        uint32_t lo = 0, hi = h->list_cnt;
        while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;
                if (memcmp(l[mid].key, k, 4) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (lo == h->list_cnt || memcmp(l[lo].key, k, 4) != 0)
                return NULL;
        uint64_t ents = (slen - lists_end) / sizeof(ltrr_index_pfxent_t);
        if (l[lo].first > ents || l[lo].cnt > ents - l[lo].first)
                return NULL;
        *hdrp = h;
        *entsp = (const ltrr_index_pfxent_t *)(sec + lists_end) + l[lo].first;
        return &l[lo];
}
