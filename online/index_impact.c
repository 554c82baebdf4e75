/*
 * ltrr - the IMPACT section: for every term whose posting list is long,
 * its best postings ordered by impact (the term's BM25F contribution
 * under the index's bound parameters grows with tf~), ties by
 * popularity, then entity. A one-term query reads its answer from the
 * head of that list; a query of several terms takes a lower bound of
 * its k-th best score from the heads and prunes from the first posting
 * (docs/INDEX.md, docs/decisions/0027-impact-lists.md).
 *
 * The RECENT section has the same layout with each list ordered by
 * release day instead (most recent first, undated entities last, then
 * entity): an arm that keeps only recent entities reads them all from
 * the head of the list and stops at the first older one
 * (docs/decisions/0033-arm-tails.md).
 *
 * Layout: ltrr_index_imphdr_t, list_cnt ltrr_index_implist_t sorted by
 * term, then the entries (ltrr_index_impent_t) of every list.
 */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "index_int.h"

/* One posting being ranked. */
typedef struct imp_sort_s {
        float tfw;      /* impact key */
        float pop;      /* popularity (ties) */
        uint32_t doc;   /* entity (ties) */
        uint32_t i;     /* position in the term's list */
} imp_sort_t;

/* Best first: tf~ descending, popularity descending, entity ascending. */
static int imp_cmp(const void *a, const void *b)
{
        const imp_sort_t *x = a, *y = b;
        if (x->tfw != y->tfw)
                return x->tfw > y->tfw ? -1 : 1;
        if (x->pop != y->pop)
                return x->pop > y->pop ? -1 : 1;
        return (x->doc > y->doc) - (x->doc < y->doc);
}

/** A RECENT list holds at least this fraction (1/n) of its term's
 *  postings: a term of 300k postings keeps its 37.5k most recent, room
 *  for the ~3% of entities the fresh arm keeps, with margin for the day
 *  moving on after the build. */
#define IMP_RECENT_DIV 8

/* Entries of the list (IMPACT, or RECENT when @p recent) of a term with
 * @p df postings. */
static uint32_t list_len(uint32_t df, uint32_t len, int recent)
{
        if (recent && df / IMP_RECENT_DIV > len)
                len = df / IMP_RECENT_DIV;
        return df < len ? df : len;
}

/* Number of terms with a list and their entries in total. */
static uint32_t imp_count(const uint32_t *df, uint32_t term_cnt,
                          uint32_t min_df, uint32_t len, int recent,
                          uint64_t *entsp, uint32_t *dfmaxp)
{
        uint32_t lists = 0, dfmax = 0;
        uint64_t ents = 0;
        for (uint32_t t = 0; t < term_cnt; t++) {
                if (df[t] <= min_df)
                        continue;
                lists++;
                ents += list_len(df[t], len, recent);
                if (df[t] > dfmax)
                        dfmax = df[t];
        }
        *entsp = ents;
        *dfmaxp = dfmax;
        return lists;
}

/* Writes the best @p len of @p df postings at @p p into @p out, using
 * @p tmp (df entries): by impact, or when @p recent by release day
 * (undated last; ties by entity). Returns the entries written. */
static uint32_t imp_list(const ltrr_index_post_t *p, uint32_t df,
                         const ltrr_index_feat_t *feats, uint32_t len,
                         int recent, imp_sort_t *tmp,
                         ltrr_index_impent_t *out)
{
        for (uint32_t i = 0; i < df; i++) {
                const ltrr_index_feat_t *f = &feats[p[i].doc];
                if (recent) {
                        /* days fit a float exactly (< 2^24) */
                        tmp[i].tfw = f->release_prec == LTRR_DATE_NONE
                                         ? -FLT_MAX
                                         : (float)f->release_days;
                        tmp[i].pop = 0.0f;
                } else {
                        tmp[i].tfw = p[i].tfw;
                        tmp[i].pop = f->popularity;
                }
                tmp[i].doc = p[i].doc;
                tmp[i].i = i;
        }
        qsort(tmp, df, sizeof(*tmp), imp_cmp);
        uint32_t cnt = df < len ? df : len; /* callers pass len <= df */
        for (uint32_t j = 0; j < cnt; j++) {
                const ltrr_index_post_t *q = &p[tmp[j].i];
                ltrr_index_impent_t *e = &out[j];
                memset(e, 0, sizeof(*e));
                e->doc = q->doc;
                e->tfw = q->tfw;
                e->name_tf = q->tf[LTRR_INDEX_FIELD_NAME];
                e->name_len = q->len[LTRR_INDEX_FIELD_NAME];
        }
        return cnt;
}

/* Builds the IMPACT (or, when @p recent, the RECENT) section. */
static ltrr_err_t sec_build(const ltrr_index_impact_in_t *in, int recent,
                            void **outp, size_t *lenp)
{
        uint64_t ents;
        uint32_t dfmax;
        *outp = NULL;
        *lenp = 0;
        if (in->len == 0)
                return LTRR_OK;
        uint32_t lists = imp_count(in->df, in->term_cnt, in->min_df, in->len,
                                   recent, &ents, &dfmax);
        if (lists == 0)
                return LTRR_OK;
        size_t bytes = sizeof(ltrr_index_imphdr_t) +
                       (size_t)lists * sizeof(ltrr_index_implist_t) +
                       (size_t)ents * sizeof(ltrr_index_impent_t);
        uint8_t *buf = calloc(1, bytes);
        imp_sort_t *tmp = malloc((size_t)dfmax * sizeof(*tmp));
        if (!buf || !tmp) {
                free(buf);
                free(tmp);
                return LTRR_ERR_NOMEM;
        }
        ltrr_index_imphdr_t *h = (ltrr_index_imphdr_t *)buf;
        ltrr_index_implist_t *l = (ltrr_index_implist_t *)(h + 1);
        ltrr_index_impent_t *e = (ltrr_index_impent_t *)(l + lists);
        h->list_cnt = lists;
        h->len_max = list_len(dfmax, in->len, recent); /* the longest */
        h->min_df = in->min_df;
        uint64_t at = 0;
        for (uint32_t i = 0, j = 0; i < in->term_cnt; i++) {
                uint32_t t = in->order[i];
                if (in->df[t] <= in->min_df)
                        continue;
                l[j].term = i;
                l[j].first = at;
                l[j].cnt = imp_list(in->posts + in->first[t], in->df[t],
                                    in->feats,
                                    list_len(in->df[t], in->len, recent),
                                    recent, tmp,
                                    e + at);
                at += l[j++].cnt;
        }
        free(tmp);
        *outp = buf;
        *lenp = bytes;
        return LTRR_OK;
}

ltrr_err_t ltrr_index_impact_build(const ltrr_index_impact_in_t *in,
                                   void **outp, size_t *lenp)
{
        return sec_build(in, 0, outp, lenp);
}

ltrr_err_t ltrr_index_recent_build(const ltrr_index_impact_in_t *in,
                                   void **outp, size_t *lenp)
{
        return sec_build(in, 1, outp, lenp);
}

/* The list of @p term in section @p kind (IMPACT layout), or NULL. */
static const ltrr_index_impent_t *sec_list(const ltrr_index_t *ix,
                                           uint32_t kind, uint32_t term,
                                           uint32_t *cntp)
{
        uint64_t len;
        *cntp = 0;
        const uint8_t *sec = ltrr_index_section(ix, kind, &len);
        if (!sec || len < sizeof(ltrr_index_imphdr_t) || term >= ix->term_cnt)
                return NULL;
        const ltrr_index_imphdr_t *h = (const ltrr_index_imphdr_t *)sec;
        uint64_t lists_end = sizeof(*h) +
                             (uint64_t)h->list_cnt *
                                 sizeof(ltrr_index_implist_t);
        if (lists_end > len)
                return NULL;
        const ltrr_index_implist_t *l =
            (const ltrr_index_implist_t *)(h + 1);
        uint32_t lo = 0, hi = h->list_cnt;
        while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;
                if (l[mid].term < term)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (lo == h->list_cnt || l[lo].term != term)
                return NULL;
        uint64_t ents = (len - lists_end) / sizeof(ltrr_index_impent_t);
        if (l[lo].first > ents || l[lo].cnt > ents - l[lo].first ||
            l[lo].cnt > ix->terms[term].df)
                return NULL;
        *cntp = l[lo].cnt;
        return (const ltrr_index_impent_t *)(sec + lists_end) + l[lo].first;
}

const ltrr_index_impent_t *ltrr_index_impact(const ltrr_index_t *ix,
                                             uint32_t term, uint32_t *cntp)
{
        return sec_list(ix, LTRR_INDEX_SEC_IMPACT, term, cntp);
}

const ltrr_index_impent_t *ltrr_index_recent(const ltrr_index_t *ix,
                                             uint32_t term, uint32_t *cntp)
{
        return sec_list(ix, LTRR_INDEX_SEC_RECENT, term, cntp);
}
