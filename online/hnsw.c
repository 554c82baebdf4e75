/*
 * ltrr - HNSW graph: build into a flat blob, search it in place.
 *
 * The blob (all little-endian, parts 8-byte aligned, docs/ANN.md):
 *   header (64 bytes) | codes n*dim i8 | scales n f32 | levels n u8 |
 *   upper_at n u32 | links0 n*(1+m0) u32 | upper upper_cnt*(1+m) u32
 * A vector is its int8 codes times its scale (vec_dot.h); similarities
 * are exact integer inner products times the two scales.
 * A link block starts with its count. A node of level L owns L upper
 * blocks, from upper_at[node] on (layer 1 first); level-0 nodes have
 * upper_at = UINT32_MAX.
 *
 * This file holds the layout, the view and check, and the search;
 * hnsw_build.c the builder. hnsw_int.h is shared between them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hnsw_int.h"

static size_t pad8(size_t x) { return (x + 7) & ~(size_t)7; }

/* Capacity of the candidate heap for ef: see heap compaction below. */
static size_t cand_cap(uint32_t m0)
{
        return 2 * (size_t)LTRR_HNSW_EF_MAX + 2 * (size_t)m0 + 2;
}

/* 1 if a belongs above b in heap @p h (ties broken by id for
 * determinism: the lower id is the better). */
static int heap_above(const heap_t *h, const ltrr_hnsw_hit_t *a,
                      const ltrr_hnsw_hit_t *b)
{
        if (a->sim != b->sim)
                return h->max ? a->sim > b->sim : a->sim < b->sim;
        return h->max ? a->id < b->id : a->id > b->id;
}

static void heap_up(heap_t *h, size_t i)
{
        ltrr_hnsw_hit_t x = h->a[i];
        while (i > 0) {
                size_t p = (i - 1) / 2;
                if (!heap_above(h, &x, &h->a[p]))
                        break;
                h->a[i] = h->a[p];
                i = p;
        }
        h->a[i] = x;
}

static void heap_down(heap_t *h, size_t i)
{
        ltrr_hnsw_hit_t x = h->a[i];
        for (;;) {
                size_t c = 2 * i + 1;
                if (c >= h->n)
                        break;
                if (c + 1 < h->n && heap_above(h, &h->a[c + 1], &h->a[c]))
                        c++;
                if (!heap_above(h, &h->a[c], &x))
                        break;
                h->a[i] = h->a[c];
                i = c;
        }
        h->a[i] = x;
}

/* Pushes (the caller made room). */
static void heap_push(heap_t *h, uint32_t id, float sim)
{
        h->a[h->n].id = id;
        h->a[h->n].sim = sim;
        heap_up(h, h->n++);
}

static ltrr_hnsw_hit_t heap_pop(heap_t *h)
{
        ltrr_hnsw_hit_t top = h->a[0];
        h->a[0] = h->a[--h->n];
        if (h->n)
                heap_down(h, 0);
        return top;
}

/* Drops candidates no better than @p floor and rebuilds the heap: they
 * can never be expanded, since search stops below the worst result. */
static void heap_compact(heap_t *h, float floor)
{
        size_t j = 0;
        for (size_t i = 0; i < h->n; i++)
                if (h->a[i].sim > floor)
                        h->a[j++] = h->a[i];
        h->n = j;
        for (size_t i = j / 2; i-- > 0;)
                heap_down(h, i);
}

/* ---- ltrr_hnsw_layout ------------------------------------------------------------ */

/* Offsets of the parts for the given sizes; returns the total length. */
uint64_t ltrr_hnsw_layout(uint64_t n, uint64_t dim, uint64_t m, uint64_t m0,
                       uint64_t upper_cnt, uint64_t off[6])
{
        uint64_t at = HNSW_HDR;
        off[0] = at;
        at += pad8(n * dim);
        off[5] = at;
        at += pad8(n * 4);
        off[1] = at;
        at += pad8(n);
        off[2] = at;
        at += pad8(n * 4);
        off[3] = at;
        at += pad8(n * (1 + m0) * 4);
        off[4] = at;
        at += pad8(upper_cnt * (1 + m) * 4);
        return at;
}

/* Fills the view's pointers from its sizes and base. */
void ltrr_hnsw_view_point(ltrr_hnsw_view_t *v)
{
        uint64_t off[6];
        v->len = ltrr_hnsw_layout(v->n, v->dim, v->m, v->m0, v->upper_cnt, off);
        v->codes = (const int8_t *)(v->base + off[0]);
        v->scales = (const float *)(v->base + off[5]);
        v->levels = v->base + off[1];
        v->upper_at = (const uint32_t *)(v->base + off[2]);
        v->links0 = (const uint32_t *)(v->base + off[3]);
        v->upper = (const uint32_t *)(v->base + off[4]);
}

/* Link block of @p id on layer @p l, or NULL if the node has none or the
 * stored position is out of range; *capp receives the block capacity. */
const uint32_t *ltrr_hnsw_links_of(const ltrr_hnsw_view_t *v, uint32_t id,
                                uint32_t l, uint32_t *capp)
{
        if (l == 0) {
                *capp = v->m0;
                return v->links0 + (size_t)id * (1 + v->m0);
        }
        uint32_t at = v->upper_at[id];
        if (l > v->levels[id] || at == HNSW_NONE ||
            (uint64_t)at + l - 1 >= v->upper_cnt)
                return NULL;
        *capp = v->m;
        return v->upper + ((size_t)at + l - 1) * (1 + v->m);
}

/* ---- search ------------------------------------------------------------ */

size_t ltrr_hnsw_scratch_size(const ltrr_hnsw_view_t *v)
{
        if (!v)
                return 0;
        return 8 + ((size_t)v->n + 63) / 64 * 8 + HNSW_TOUCH_MAX * 4 +
               pad8((size_t)v->dim) +
               (cand_cap(v->m0) + LTRR_HNSW_EF_MAX + 1) *
                   sizeof(ltrr_hnsw_hit_t);
}

/* Carves @p mem into search scratch (the visit marks persist). */
void ltrr_hnsw_scr_init(hscr_t *s, const ltrr_hnsw_view_t *v, void *mem)
{
        uint8_t *p = mem;
        s->mark = (uint32_t *)p;
        p += 8;
        s->bits = (uint64_t *)p;
        p += ((size_t)v->n + 63) / 64 * 8;
        s->touched = (uint32_t *)p;
        p += HNSW_TOUCH_MAX * 4;
        s->qbuf = (int8_t *)p;
        s->qc = s->qbuf;
        s->qs = 0;
        s->dot = ltrr_vec_dot_i8_best();
        p += pad8((size_t)v->dim);
        s->cand.a = (ltrr_hnsw_hit_t *)p;
        s->cand.cap = cand_cap(v->m0);
        s->cand.max = 1;
        s->res.a = s->cand.a + s->cand.cap;
        s->res.max = 0;
}

/* Forgets the previous search's visits: clears the bits of the nodes
 * it listed, or the whole bitmap when the list overflowed or the bits
 * were laid out for another graph size (scratch reused across
 * indexes). The bitmap (n / 8 bytes) stays in cache where an array of
 * n words would not. */
static void new_gen(hscr_t *s, uint32_t n)
{
        uint32_t *mk = s->mark;
        if (mk[1] != n || mk[0] > HNSW_TOUCH_MAX) {
                memset(s->bits, 0, ((size_t)n + 63) / 64 * 8);
                mk[1] = n;
        } else {
                for (uint32_t i = 0; i < mk[0]; i++)
                        if (s->touched[i] < n)
                                s->bits[s->touched[i] >> 6] = 0;
        }
        mk[0] = 0;
}

/* 1 the first time @p id is seen in this search. */
static int visit(hscr_t *s, uint32_t id)
{
        uint64_t bit = (uint64_t)1 << (id & 63), *w = &s->bits[id >> 6];
        if (*w & bit)
                return 0;
        *w |= bit;
        if (s->mark[0] < HNSW_TOUCH_MAX)
                s->touched[s->mark[0]++] = id;
        else
                s->mark[0] = HNSW_TOUCH_MAX + 1;
        return 1;
}

/* Greedy walk on layer @p l from *epp to a local best. */
void ltrr_hnsw_greedy(const ltrr_hnsw_view_t *v, const hscr_t *s, uint32_t l,
                   uint32_t *epp, float *simp)
{
        int moved = 1;
        while (moved) {
                uint32_t cap;
                const uint32_t *b = ltrr_hnsw_links_of(v, *epp, l, &cap);
                moved = 0;
                if (!b)
                        return;
                uint32_t cnt = b[0] < cap ? b[0] : cap;
                for (uint32_t i = 1; i <= cnt; i++) {
                        if (b[i] >= v->n)
                                continue;
                        float x = sim_q(v, s, b[i]);
                        if (x > *simp) {
                                *simp = x;
                                *epp = b[i];
                                moved = 1;
                        }
                }
        }
}

/* Considers neighbour @p nb of an expanded node for the ef best. */
static void offer(const ltrr_hnsw_view_t *v, hscr_t *s, uint32_t nb,
                  uint32_t l, uint32_t ef)
{
        if (nb >= v->n || !visit(s, nb))
                return;
        float sim = sim_q(v, s, nb);
        if (s->res.n >= ef && sim <= s->res.a[0].sim)
                return;
        if (s->cand.n == s->cand.cap)
                heap_compact(&s->cand, s->res.a[0].sim);
        heap_push(&s->cand, nb, sim);
        heap_push(&s->res, nb, sim);
        if (l == 0) { /* a candidate's links are likely read soon */
                const uint32_t *b = v->links0 + (size_t)nb * (1 + v->m0);
                for (uint32_t at = 0; at <= v->m0; at += 16)
                        __builtin_prefetch(b + at);
        }
        if (s->res.n > ef)
                heap_pop(&s->res);
}

/* Asks the cache for the codes and scale of node @p nb if it has not
 * been visited yet: the neighbours of an expanded node are scattered
 * over the vectors, and their loads overlap this way. */
static void prefetch(const ltrr_hnsw_view_t *v, const hscr_t *s, uint32_t nb)
{
        if (nb >= v->n || (s->bits[nb >> 6] >> (nb & 63) & 1))
                return;
        const int8_t *c = v->codes + (size_t)nb * v->dim;
        for (uint32_t at = 0; at < v->dim; at += 64)
                __builtin_prefetch(c + at);
        __builtin_prefetch(v->scales + nb);
}

/* Beam search of layer @p l from the entries already in s->res (and
 * s->cand); leaves the ef best in s->res (a min-heap). */
void ltrr_hnsw_search_layer(const ltrr_hnsw_view_t *v, hscr_t *s, uint32_t l,
                         uint32_t ef)
{
        while (s->cand.n) {
                ltrr_hnsw_hit_t c = heap_pop(&s->cand);
                if (s->res.n >= ef && c.sim < s->res.a[0].sim)
                        break;
                uint32_t cap;
                const uint32_t *b = ltrr_hnsw_links_of(v, c.id, l, &cap);
                if (!b)
                        continue;
                uint32_t cnt = b[0] < cap ? b[0] : cap;
                for (uint32_t i = 1; i <= cnt; i++)
                        prefetch(v, s, b[i]);
                for (uint32_t i = 1; i <= cnt; i++)
                        offer(v, s, b[i], l, ef);
        }
}

/* Starts a layer search at node @p ep, with no node visited. */
void ltrr_hnsw_seed_layer(const ltrr_hnsw_view_t *v, hscr_t *s, uint32_t ep)
{
        new_gen(s, v->n);
        s->cand.n = s->res.n = 0;
        visit(s, ep);
        float sim = sim_q(v, s, ep);
        heap_push(&s->cand, ep, sim);
        heap_push(&s->res, ep, sim);
}

/* Pops s->res into @p out best first; returns the count. */
static size_t drain(hscr_t *s, ltrr_hnsw_hit_t *out, size_t k)
{
        size_t n = s->res.n;
        while (s->res.n > k)
                heap_pop(&s->res);
        n = s->res.n;
        for (size_t i = n; i-- > 0;)
                out[i] = heap_pop(&s->res);
        return n;
}

ltrr_err_t ltrr_hnsw_search(const ltrr_hnsw_view_t *v, const float *q,
                            uint32_t k, uint32_t ef, void *scratch,
                            size_t scratch_size, ltrr_hnsw_hit_t *out,
                            size_t *cntp)
{
        hscr_t s;
        if (cntp)
                *cntp = 0;
        if (!v || !q || !scratch || !cntp || (k && !out) ||
            scratch_size < ltrr_hnsw_scratch_size(v))
                return LTRR_ERR_INVALID_ARG;
        if (ef < k)
                ef = k;
        if (ef > LTRR_HNSW_EF_MAX)
                return LTRR_ERR_RANGE;
        if (!k || !v->n)
                return LTRR_OK;
        ltrr_hnsw_scr_init(&s, v, scratch);
        s.qs = ltrr_vec_quantize_i8(q, v->dim, s.qbuf);
        uint32_t ep = v->entry;
        float sim = sim_q(v, &s, ep);
        for (uint32_t l = v->max_level; l >= 1; l--)
                ltrr_hnsw_greedy(v, &s, l, &ep, &sim);
        ltrr_hnsw_seed_layer(v, &s, ep);
        ltrr_hnsw_search_layer(v, &s, 0, ef);
        *cntp = drain(&s, out, k);
        return LTRR_OK;
}

ltrr_err_t ltrr_hnsw_brute(const ltrr_hnsw_view_t *v, const float *q,
                           uint32_t k, ltrr_hnsw_hit_t *out, size_t *cntp)
{
        if (cntp)
                *cntp = 0;
        if (!v || !q || !cntp || (k && !out))
                return LTRR_ERR_INVALID_ARG;
        heap_t h = {out, 0, k, 0};
        int8_t qc[LTRR_HNSW_DIM_MAX];
        hscr_t qs = {.qc = qc, .dot = ltrr_vec_dot_i8_best()};
        if (v->dim > LTRR_HNSW_DIM_MAX)
                return LTRR_ERR_INVALID_ARG;
        qs.qs = ltrr_vec_quantize_i8(q, v->dim, qc);
        for (uint32_t i = 0; k && i < v->n; i++) {
                float s = sim_q(v, &qs, i);
                ltrr_hnsw_hit_t x = {i, s};
                if (h.n < k)
                        heap_push(&h, i, s);
                else if (heap_above(&(heap_t){0, 0, 0, 1}, &x, &h.a[0])) {
                        h.a[0] = x;
                        heap_down(&h, 0);
                }
        }
        size_t n = h.n;
        ltrr_hnsw_hit_t tmp;
        for (size_t i = n; i-- > 1;) {
                tmp = h.a[0];
                h.a[0] = h.a[i];
                h.a[i] = tmp;
                h.n = i;
                heap_down(&h, 0);
        }
        *cntp = n;
        return LTRR_OK;
}

int ltrr_hnsw_vector(const ltrr_hnsw_view_t *v, uint32_t id, float *out)
{
        if (!v || !out || id >= v->n)
                return -1;
        const int8_t *c = v->codes + (size_t)id * v->dim;
        float sc = v->scales[id];
        for (uint32_t d = 0; d < v->dim; d++)
                out[d] = (float)c[d] * sc;
        return 0;
}

/* ---- view and check ---------------------------------------------------- */

ltrr_err_t ltrr_hnsw_view(const void *blob, size_t len, ltrr_hnsw_view_t *v,
                          char *errstr, size_t errstr_size)
{
        hnsw_hdr_t h;
        if (!blob || !v)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "no graph");
        memset(v, 0, sizeof(*v));
        if (len < HNSW_HDR || ((uintptr_t)blob & 7))
                return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                 "graph of %zu bytes is too short or "
                                 "misaligned", len);
        memcpy(&h, blob, sizeof(h));
        if (memcmp(h.magic, HNSW_MAGIC, 8))
                return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                 "not an HNSW graph (bad magic)");
        if (h.version != LTRR_HNSW_VERSION)
                return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                 "HNSW graph of version %u, this build "
                                 "reads %d: rebuild the index", h.version,
                                 LTRR_HNSW_VERSION);
        if (!h.dim || h.dim > LTRR_HNSW_DIM_MAX || h.m < 2 ||
            h.m > LTRR_HNSW_M_MAX || h.m0 != 2 * h.m ||
            h.max_level > LTRR_HNSW_LEVEL_MAX || (h.n && h.entry >= h.n) ||
            (!h.n && h.upper_cnt))
                return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                 "HNSW header out of range");
        v->base = blob;
        v->n = h.n;
        v->dim = h.dim;
        v->m = h.m;
        v->m0 = h.m0;
        v->max_level = h.max_level;
        v->entry = h.entry;
        v->upper_cnt = h.upper_cnt;
        ltrr_hnsw_view_point(v);
        if (v->len != len) {
                uint64_t want = v->len;
                memset(v, 0, sizeof(*v));
                return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                 "HNSW graph is %zu bytes, header says %llu",
                                 len, (unsigned long long)want);
        }
        return LTRR_OK;
}

/* Checks one node's levels and links; 0 if sound. */
static int check_node(const ltrr_hnsw_view_t *v, uint32_t id,
                      uint64_t *blocksp)
{
        uint32_t lv = v->levels[id], at = v->upper_at[id];
        if (lv > v->max_level || (lv == 0) != (at == HNSW_NONE))
                return -1;
        if (lv && ((uint64_t)at + lv > v->upper_cnt))
                return -1;
        *blocksp += lv;
        for (uint32_t l = 0; l <= lv; l++) {
                uint32_t cap;
                const uint32_t *b = ltrr_hnsw_links_of(v, id, l, &cap);
                if (!b || b[0] > cap)
                        return -1;
                for (uint32_t i = 1; i <= b[0]; i++)
                        if (b[i] >= v->n || b[i] == id)
                                return -1;
        }
        return 0;
}

ltrr_err_t ltrr_hnsw_check(const ltrr_hnsw_view_t *v, char *errstr,
                           size_t errstr_size)
{
        uint64_t blocks = 0;
        if (!v || !v->base)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "no graph");
        for (uint32_t i = 0; i < v->n; i++)
                if (check_node(v, i, &blocks))
                        return ltrr_errf(LTRR_ERR_CORRUPT, errstr,
                                         errstr_size,
                                         "HNSW node %u has bad links", i);
        if (v->n && v->levels[v->entry] != v->max_level)
                return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                 "HNSW entry node is not on the top layer");
        if (blocks != v->upper_cnt)
                return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                 "HNSW upper blocks do not add up");
        return LTRR_OK;
}

