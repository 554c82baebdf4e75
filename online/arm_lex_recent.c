/*
 * ltrr - the recent pass of the lexical arm (ltrr_arm_lex_recent()):
 * under a filter that keeps only entities released since a day, the
 * postings of those entities come from the terms' RECENT lists (or
 * short posting lists), are ordered by entity with a radix sort and
 * scored entity by entity. docs/INDEX.md.
 */
#include <stdint.h>
#include <string.h>

#include "arm_lex_int.h"


/* Orders positions 0..m-1 of @p rp by entity (< @p n), stably, with an
 * LSD radix sort through @p a and @p b. Returns the array holding the
 * order. */
static uint32_t *recent_sort(const lex_rpost_t *rp, size_t m, uint32_t n,
                             uint32_t *a, uint32_t *b)
{
        for (size_t i = 0; i < m; i++)
                a[i] = (uint32_t)i;
        for (unsigned sh = 0; sh < 32 && (sh == 0 || ((n - 1) >> sh));
             sh += 11) {
                uint32_t pos[2048] = {0};
                for (size_t i = 0; i < m; i++)
                        pos[(rp[a[i]].doc >> sh) & 2047]++;
                for (uint32_t d = 0, at = 0; d < 2048; d++) {
                        uint32_t c = pos[d];
                        pos[d] = at;
                        at += c;
                }
                for (size_t i = 0; i < m; i++)
                        b[pos[(rp[a[i]].doc >> sh) & 2047]++] = a[i];
                uint32_t *t = a;
                a = b;
                b = t;
        }
        return a;
}

/* Appends to @p rp (*np entries) the postings of term @p ti of the
 * entities @p keep accepts, all released on or after @p since: from the
 * term's RECENT list down to the first older entity, or from the whole
 * posting list when it is short. Returns -1 when the list cannot prove
 * it gave every such entity or @p rp is full. */
static int recent_term(const lex_query_t *lq, size_t ti, int32_t since,
                       lex_rpost_t *rp, size_t *np)
{
        const ltrr_index_t *ix = lq->ix;
        const lex_term_t *lt = &lq->terms[ti];
        uint32_t cnt, i = 0;
        const ltrr_index_impent_t *e = ltrr_index_recent(
            ix, (uint32_t)(lt->t - ix->terms), &cnt);
        if (!e && lt->df > LEX_RECENT_SCAN)
                return -1;
        for (uint32_t n = e ? cnt : lt->df; i < n; i++) {
                lex_rpost_t r;
                if (e) {
                        r.doc = e[i].doc;
                        if (r.doc >= ix->n)
                                continue; /* corrupt */
                        const ltrr_index_feat_t *f = &ix->feats[r.doc];
                        if (f->release_prec == LTRR_DATE_NONE ||
                            f->release_days < since)
                                return 0; /* older from here on */
                        r.tfw = e[i].tfw;
                        r.name_tf = e[i].name_tf;
                        r.name_len = e[i].name_len;
                } else {
                        const ltrr_index_post_t *p = &lt->p[i];
                        r.doc = p->doc;
                        if (r.doc >= ix->n)
                                continue;
                        r.tfw = p->tfw;
                        r.name_tf = p->tf[LTRR_INDEX_FIELD_NAME];
                        r.name_len = p->len[LTRR_INDEX_FIELD_NAME];
                }
                if (!lq->keep(lq->keep_opaque, ix, r.doc))
                        continue;
                if (*np == LEX_RECENT_MAX)
                        return -1;
                r.term = (uint8_t)ti;
                rp[(*np)++] = r;
        }
        return e && cnt < lt->df ? -1 : 0;
}

/* Scores the gathered postings entity by entity into the heaps (k
 * each), adding the terms in query order as eval_full() does: gathered
 * postings, and for the terms in @p late (a mask of positions in
 * lq->terms) a seek in their posting lists (the entities come in
 * ascending order, cursors rewound). */
static void recent_score(lex_query_t *lq, lex_scr_t *s, size_t m,
                         const uint32_t *ord, uint64_t late, size_t k,
                         size_t *nep, size_t *ntp)
{
        rewind_all(lq);
        for (size_t i = 0; i < m;) {
                lex_top_t c;
                uint32_t nametf = 0;
                memset(&c, 0, sizeof(c));
                c.ent = s->rp[ord[i]].doc;
                for (size_t ti = 0; ti < lq->cnt; ti++) {
                        lex_term_t *lt = &lq->terms[ti];
                        if (late >> ti & 1) {
                                add_term(lq, lt, c.ent, &c, &nametf);
                                continue;
                        }
                        if (i == m || s->rp[ord[i]].doc != c.ent ||
                            s->rp[ord[i]].term != ti)
                                continue;
                        const lex_rpost_t *r = &s->rp[ord[i++]];
                        c.score += lt->weight * r->tfw / (lq->k1 + r->tfw);
                        c.anymask |= lt->slots;
                        c.namelen = r->name_len;
                        if (r->name_tf) {
                                c.namemask |= lt->slots;
                                nametf += name_tf(lt, r->name_tf);
                        }
                }
                c.exact = c.namemask == lq->all && nametf == lq->qn &&
                          c.namelen == lq->qn;
                if (c.exact)
                        heap_offer(lq->ix, s->exact, nep, k, &c);
                else
                        heap_offer(lq->ix, s->top, ntp, k, &c);
        }
        rewind_all(lq);
}

/* The filtered pass when the filter keeps only entities released on or
 * after @p since: every such entity holding a query term comes from the
 * terms' RECENT lists (or short posting lists), so the pass scores
 * those few instead of walking long lists. A term whose list runs out
 * before @p since is "late": it only completes the others' entities
 * (by seeks), which is exact when the answer's last non-exact entry
 * scores above every late term at its bound together (an entity only
 * late terms hold cannot reach it). Returns 1 with the heaps filled, 0
 * when that does not hold or no term can list its recent entities. */
int ltrr_arm_lex_recent_pass(lex_query_t *lq, lex_scr_t *s, int32_t since,
                             size_t k, size_t *nep, size_t *ntp)
{
        size_t m = 0;
        uint64_t late = 0;
        float late_ub = 0.0f;
        if (!lq->tight || !lq->keep || lq->qn == 0 || lq->qn > 32 ||
            lq->cnt > 64)
                return 0;
        for (size_t i = 0; i < lq->cnt; i++) {
                size_t before = m;
                if (recent_term(lq, i, since, s->rp, &m) == 0)
                        continue;
                m = before;
                late |= 1ull << i;
                late_ub += lq->terms[i].ub;
        }
        if (late == (lq->cnt == 64 ? UINT64_MAX : (1ull << lq->cnt) - 1))
                return 0;
        const uint32_t *ord = recent_sort(s->rp, m, lq->ix->n, s->ord[0],
                                          s->ord[1]);
        *nep = *ntp = 0;
        recent_score(lq, s, m, ord, late, k, nep, ntp);
        if (!late || *nep >= k)
                return 1;
        size_t above = 0;
        for (size_t i = 0; i < *ntp; i++)
                above += s->top[i].score > late_ub;
        return above >= k - *nep;
}
