/*
 * ltrr - HNSW graph: build into a flat blob, search it in place.
 *
 * The blob (all little-endian, parts 8-byte aligned, docs/ANN.md):
 *   header (64 bytes) | vectors n*dim f32 | levels n u8 |
 *   upper_at n u32 | links0 n*(1+m0) u32 | upper upper_cnt*(1+m) u32
 * A link block starts with its count. A node of level L owns L upper
 * blocks, from upper_at[node] on (layer 1 first); level-0 nodes have
 * upper_at = UINT32_MAX.
 *
 * The builder draws every node's level first (so the blob's size is
 * known), allocates the blob once and inserts the nodes in batches on
 * several threads (see "build" below), writing the links in place.
 * Neighbours are chosen with the paper's heuristic (a candidate is kept
 * when it is closer to the new node than to any neighbour already kept),
 * and the pruned ones fill up the rest.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hnsw.h"
#include "rng.h"

#define HNSW_MAGIC "LTRRHNSW"
#define HNSW_HDR 64
#define HNSW_NONE UINT32_MAX

/* On-disk header (64 bytes). */
typedef struct hnsw_hdr_s {
        char magic[8];            /* HNSW_MAGIC */
        uint32_t version;         /* LTRR_HNSW_VERSION */
        uint32_t dim;             /* floats per vector */
        uint32_t n;               /* nodes */
        uint32_t m;               /* upper-layer links */
        uint32_t m0;              /* layer-0 links */
        uint32_t max_level;       /* top layer */
        uint32_t entry;           /* entry node */
        uint32_t upper_cnt;       /* upper blocks */
        uint64_t seed;            /* level seed */
        uint32_t ef_construction; /* build parameter */
        uint32_t reserved[3];     /* zero */
} hnsw_hdr_t;

_Static_assert(sizeof(hnsw_hdr_t) == HNSW_HDR, "hnsw header size");

/* A bounded binary heap of hits; max = 1 keeps the best at the root. */
typedef struct heap_s {
        ltrr_hnsw_hit_t *a; /* entries */
        size_t n;           /* used */
        size_t cap;         /* capacity */
        int max;            /* 1: max-heap on sim, 0: min-heap */
} heap_t;

/* Search scratch carved out of one caller block. */
typedef struct hscr_s {
        uint32_t *gen;      /* visit generation (first word) */
        uint32_t *visited;  /* n generations */
        float *q;           /* normalized query */
        heap_t cand;        /* candidates, best first */
        heap_t res;         /* results, worst first */
} hscr_t;

static size_t pad8(size_t x) { return (x + 7) & ~(size_t)7; }

/* Capacity of the candidate heap for ef: see heap compaction below. */
static size_t cand_cap(uint32_t m0)
{
        return 2 * (size_t)LTRR_HNSW_EF_MAX + 2 * (size_t)m0 + 2;
}

/* Eight floats for the compiler's SIMD: a GNU C vector extension (also
 * clang's). Plain SSE2 (or NEON) runs it as two halves; on x86-64 the
 * inner product has an AVX2 clone picked at load time. Neither contracts
 * a multiply and an add into one FMA, so both give the same bits. */
typedef float v8f __attribute__((vector_size(32)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HNSW_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define HNSW_CLONES
#endif

/* Inner product, sixteen lanes at a time. The summation order is fixed,
 * so results do not depend on the machine beyond the IEEE operations. */
HNSW_CLONES static float dot(const float *a, const float *b, uint32_t dim)
{
        v8f s0 = {0}, s1 = {0}, x0, y0, x1, y1;
        uint32_t i = 0;
        for (; i + 16 <= dim; i += 16) {
                memcpy(&x0, a + i, sizeof(x0));
                memcpy(&y0, b + i, sizeof(y0));
                memcpy(&x1, a + i + 8, sizeof(x1));
                memcpy(&y1, b + i + 8, sizeof(y1));
                s0 += x0 * y0;
                s1 += x1 * y1;
        }
        s0 += s1;
        float s = ((s0[0] + s0[4]) + (s0[1] + s0[5])) +
                  ((s0[2] + s0[6]) + (s0[3] + s0[7]));
        for (; i < dim; i++)
                s += a[i] * b[i];
        return s;
}

/* Scales @p v to unit length in place (zero vectors stay zero). */
static void normalize(float *v, uint32_t dim)
{
        double s = 0;
        for (uint32_t i = 0; i < dim; i++)
                s += (double)v[i] * v[i];
        if (s <= 0)
                return;
        float inv = (float)(1.0 / sqrt(s));
        for (uint32_t i = 0; i < dim; i++)
                v[i] *= inv;
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

/* ---- layout ------------------------------------------------------------ */

/* Offsets of the parts for the given sizes; returns the total length. */
static uint64_t layout(uint64_t n, uint64_t dim, uint64_t m, uint64_t m0,
                       uint64_t upper_cnt, uint64_t off[5])
{
        uint64_t at = HNSW_HDR;
        off[0] = at;
        at += pad8(n * dim * 4);
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
static void view_point(ltrr_hnsw_view_t *v)
{
        uint64_t off[5];
        v->len = layout(v->n, v->dim, v->m, v->m0, v->upper_cnt, off);
        v->vecs = (const float *)(v->base + off[0]);
        v->levels = v->base + off[1];
        v->upper_at = (const uint32_t *)(v->base + off[2]);
        v->links0 = (const uint32_t *)(v->base + off[3]);
        v->upper = (const uint32_t *)(v->base + off[4]);
}

/* Link block of @p id on layer @p l, or NULL if the node has none or the
 * stored position is out of range; *capp receives the block capacity. */
static const uint32_t *links_of(const ltrr_hnsw_view_t *v, uint32_t id,
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
        return 8 + pad8((size_t)v->n * 4) + pad8((size_t)v->dim * 4) +
               (cand_cap(v->m0) + LTRR_HNSW_EF_MAX + 1) *
                   sizeof(ltrr_hnsw_hit_t);
}

/* Carves @p mem into search scratch and starts a new visit generation. */
static void hscr_init(hscr_t *s, const ltrr_hnsw_view_t *v, void *mem)
{
        uint8_t *p = mem;
        s->gen = (uint32_t *)p;
        p += 8;
        s->visited = (uint32_t *)p;
        p += pad8((size_t)v->n * 4);
        s->q = (float *)p;
        p += pad8((size_t)v->dim * 4);
        s->cand.a = (ltrr_hnsw_hit_t *)p;
        s->cand.cap = cand_cap(v->m0);
        s->cand.max = 1;
        s->res.a = s->cand.a + s->cand.cap;
        s->res.max = 0;
}

/* Starts a new visit generation (clearing the marks when it wraps). */
static void new_gen(hscr_t *s, uint32_t n)
{
        if (++*s->gen == 0) {
                memset(s->visited, 0, (size_t)n * 4);
                *s->gen = 1;
        }
}

/* 1 the first time @p id is seen in this generation. */
static int visit(hscr_t *s, uint32_t id)
{
        if (s->visited[id] == *s->gen)
                return 0;
        s->visited[id] = *s->gen;
        return 1;
}

/* Greedy walk on layer @p l from *epp to a local best. */
static void greedy(const ltrr_hnsw_view_t *v, const float *q, uint32_t l,
                   uint32_t *epp, float *simp)
{
        int moved = 1;
        while (moved) {
                uint32_t cap;
                const uint32_t *b = links_of(v, *epp, l, &cap);
                moved = 0;
                if (!b)
                        return;
                uint32_t cnt = b[0] < cap ? b[0] : cap;
                for (uint32_t i = 1; i <= cnt; i++) {
                        if (b[i] >= v->n)
                                continue;
                        float s = dot(q, v->vecs + (size_t)b[i] * v->dim,
                                      v->dim);
                        if (s > *simp) {
                                *simp = s;
                                *epp = b[i];
                                moved = 1;
                        }
                }
        }
}

/* Considers neighbour @p nb of an expanded node for the ef best. */
static void offer(const ltrr_hnsw_view_t *v, hscr_t *s, uint32_t nb,
                  uint32_t ef)
{
        if (nb >= v->n || !visit(s, nb))
                return;
        float sim = dot(s->q, v->vecs + (size_t)nb * v->dim, v->dim);
        if (s->res.n >= ef && sim <= s->res.a[0].sim)
                return;
        if (s->cand.n == s->cand.cap)
                heap_compact(&s->cand, s->res.a[0].sim);
        heap_push(&s->cand, nb, sim);
        heap_push(&s->res, nb, sim);
        if (s->res.n > ef)
                heap_pop(&s->res);
}

/* Beam search of layer @p l from the entries already in s->res (and
 * s->cand); leaves the ef best in s->res (a min-heap). */
static void search_layer(const ltrr_hnsw_view_t *v, hscr_t *s, uint32_t l,
                         uint32_t ef)
{
        while (s->cand.n) {
                ltrr_hnsw_hit_t c = heap_pop(&s->cand);
                if (s->res.n >= ef && c.sim < s->res.a[0].sim)
                        break;
                uint32_t cap;
                const uint32_t *b = links_of(v, c.id, l, &cap);
                if (!b)
                        continue;
                uint32_t cnt = b[0] < cap ? b[0] : cap;
                for (uint32_t i = 1; i <= cnt; i++)
                        offer(v, s, b[i], ef);
        }
}

/* Starts a layer search at node @p ep, in a new visit generation. */
static void seed_layer(const ltrr_hnsw_view_t *v, hscr_t *s, uint32_t ep)
{
        new_gen(s, v->n);
        s->cand.n = s->res.n = 0;
        visit(s, ep);
        float sim = dot(s->q, v->vecs + (size_t)ep * v->dim, v->dim);
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
        hscr_init(&s, v, scratch);
        memcpy(s.q, q, (size_t)v->dim * 4);
        normalize(s.q, v->dim);
        uint32_t ep = v->entry;
        float sim = dot(s.q, v->vecs + (size_t)ep * v->dim, v->dim);
        for (uint32_t l = v->max_level; l >= 1; l--)
                greedy(v, s.q, l, &ep, &sim);
        seed_layer(v, &s, ep);
        search_layer(v, &s, 0, ef);
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
        double qq = 0;
        for (uint32_t d = 0; d < v->dim; d++)
                qq += (double)q[d] * q[d];
        float inv = qq > 0 ? (float)(1.0 / sqrt(qq)) : 0;
        for (uint32_t i = 0; k && i < v->n; i++) {
                float s = inv * dot(q, v->vecs + (size_t)i * v->dim, v->dim);
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

const float *ltrr_hnsw_vector(const ltrr_hnsw_view_t *v, uint32_t id)
{
        return v && id < v->n ? v->vecs + (size_t)id * v->dim : NULL;
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
        if (memcmp(h.magic, HNSW_MAGIC, 8) || h.version != LTRR_HNSW_VERSION)
                return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                 "not an HNSW graph of version %d",
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
        view_point(v);
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
                const uint32_t *b = links_of(v, id, l, &cap);
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

/* ---- build ------------------------------------------------------------- */

/*
 * The nodes are inserted in batches, each in two parallel phases:
 *   A. every node of the batch searches the graph as it stood before the
 *      batch (nothing read in this phase is written in it) and chooses
 *      its own neighbours, writing only its own blocks and its slots of
 *      the batch's back links;
 *   B. the back links, sorted by (layer, receiving node, new node), are
 *      appended group by group, a full block pruned once per group.
 * Which thread runs which node or group changes nothing, so the blob is
 * the same for any thread count. A batch is 1/HNSW_BATCH_DIV of the nodes
 * already in the graph (at least 1, at most HNSW_BATCH_MAX); a node's
 * search does not reach the earlier nodes of its batch, so it compares
 * itself with them directly (batch_peers()).
 */
#define HNSW_BATCH_DIV 64
#define HNSW_BATCH_MAX 1024
#define HNSW_THREADS_MAX 64
/* Work items below which a phase runs on the calling thread alone. */
#define HNSW_PAR_MIN 8

_Static_assert(HNSW_BATCH_MAX <= LTRR_HNSW_EF_MAX, "batch fits sel");

/* A back link: node id goes into the block of nb on layer l. */
typedef struct hpair_s {
        uint32_t l;  /* layer (UINT32_MAX: unused slot) */
        uint32_t nb; /* receiving node */
        uint32_t id; /* new node */
} hpair_t;

typedef struct hb_s hb_t;

/* One thread's builder scratch. */
typedef struct hw_s {
        hb_t *b;                  /* the shared builder */
        hscr_t s;                 /* search scratch */
        void *smem;               /* its memory */
        ltrr_hnsw_hit_t *sel;     /* candidates (ef + batch + m0 + 2) */
        ltrr_hnsw_hit_t *kept;    /* heuristic output (m0 + 1) */
        pthread_t tid;            /* thread, when started */
} hw_t;

/* Builder state: the blob being filled and its writable parts. */
struct hb_s {
        ltrr_hnsw_view_t v;       /* view of the blob (sizes, pointers) */
        uint8_t *blob;            /* the blob, writable */
        float *vecs;              /* writable vectors */
        uint32_t *links0;         /* writable layer-0 blocks */
        uint32_t *upper;          /* writable upper blocks */
        uint32_t efc;             /* efConstruction */
        uint32_t top;             /* top layer of the graph so far */
        uint32_t lo, hi;          /* the batch: nodes [lo, hi) */
        hpair_t *pairs;           /* the batch's back links */
        size_t pairs_cap;         /* their capacity */
        size_t *slot;             /* first pair of each batch node (+1) */
        size_t *groups;           /* first pair of each group (+1) */
        size_t ngroups;           /* groups of this batch */
        int phase;                /* 0: search (A), 1: link (B) */
        atomic_size_t next;       /* next work item of the phase */
        uint32_t nthreads;        /* workers */
        hw_t *w;                  /* nthreads workers */
};

/* Writable link block of @p id on layer @p l. */
static uint32_t *wlinks(hb_t *b, uint32_t id, uint32_t l, uint32_t *capp)
{
        const uint32_t *p = links_of(&b->v, id, l, capp);
        if (l == 0)
                return b->links0 + (p - b->v.links0);
        return b->upper + (p - b->v.upper);
}

static int hit_desc(const void *a, const void *b)
{
        const ltrr_hnsw_hit_t *x = a, *y = b;
        if (x->sim != y->sim)
                return x->sim > y->sim ? -1 : 1;
        return (x->id > y->id) - (x->id < y->id);
}

static int pair_cmp(const void *a, const void *b)
{
        const hpair_t *x = a, *y = b;
        if (x->l != y->l)
                return x->l < y->l ? -1 : 1;
        if (x->nb != y->nb)
                return x->nb < y->nb ? -1 : 1;
        return (x->id > y->id) - (x->id < y->id);
}

/* Links a node keeps to exact duplicates of its own vector. Groups of
 * identical vectors (repeated names) would otherwise link only among
 * themselves and trap searches. */
#define HNSW_DUP_LINKS 2

/* 1 if candidate @p h duplicates the base node's vector. */
static int is_dup(const ltrr_hnsw_hit_t *h) { return h->sim >= 0.99999f; }

/* The neighbour heuristic: from @p c (cnt candidates sorted best first
 * by similarity to the base node) keeps up to @p m in w->kept: a
 * candidate closer to a kept one than to the base is skipped, and the
 * skipped ones fill the remaining places in order; at most
 * HNSW_DUP_LINKS duplicates of the base are kept. Returns the count. */
static uint32_t select_heuristic(hw_t *w, const ltrr_hnsw_hit_t *c,
                                 size_t cnt, uint32_t m)
{
        const float *vecs = w->b->vecs;
        uint32_t n = 0, dups = 0, dim = w->b->v.dim;
        uint8_t skipped[LTRR_HNSW_EF_MAX + HNSW_BATCH_MAX +
                        2 * LTRR_HNSW_M_MAX + 2];
        for (size_t i = 0; i < cnt && n < m; i++) {
                const float *ci = vecs + (size_t)c[i].id * dim;
                int keep = !is_dup(&c[i]) || dups < HNSW_DUP_LINKS;
                skipped[i] = 0;
                for (uint32_t j = 0; j < n && keep; j++)
                        if (dot(ci, vecs + (size_t)w->kept[j].id * dim,
                                dim) > c[i].sim)
                                keep = 0;
                if (keep) {
                        dups += is_dup(&c[i]);
                        w->kept[n++] = c[i];
                } else
                        skipped[i] = !is_dup(&c[i]);
        }
        for (size_t i = 0; i < cnt && n < m; i++)
                if (skipped[i])
                        w->kept[n++] = c[i];
        return n;
}

/* The nodes of the batch before @p id that reach layer @p l and are more
 * similar to it than @p floor, into @p out; returns their count. Serial
 * insertion would have found them: this keeps a batch's own neighbours
 * (near-duplicate names often come in a row) linked. */
static size_t batch_peers(hw_t *w, uint32_t id, uint32_t l, float floor,
                          ltrr_hnsw_hit_t *out)
{
        const hb_t *b = w->b;
        const float *q = b->vecs + (size_t)id * b->v.dim;
        size_t n = 0;
        for (uint32_t j = b->lo; j < id; j++) {
                if (b->v.levels[j] < l)
                        continue;
                float s = dot(q, b->vecs + (size_t)j * b->v.dim, b->v.dim);
                if (s > floor)
                        out[n++] = (ltrr_hnsw_hit_t){j, s};
        }
        return n;
}

/* Phase A, layer @p l of node @p id: picks its neighbours among the
 * layer search left in w->s.res, writes its block and its back links
 * into @p pp (M slots, the unused ones marked); returns the best hit as
 * the next layer's entry. */
static uint32_t choose(hw_t *w, uint32_t id, uint32_t l, hpair_t *pp)
{
        hb_t *b = w->b;
        size_t cnt = w->s.res.n, found = cnt;
        float floor = cnt >= b->efc ? w->s.res.a[0].sim : -2.0f;
        for (size_t i = 0; i < cnt; i++)
                w->sel[i] = w->s.res.a[i];
        qsort(w->sel, cnt, sizeof(*w->sel), hit_desc);
        uint32_t next = w->sel[0].id;
        cnt += batch_peers(w, id, l, floor, w->sel + cnt);
        if (cnt > found)
                qsort(w->sel, cnt, sizeof(*w->sel), hit_desc);
        uint32_t cap, n = select_heuristic(w, w->sel, cnt, b->v.m);
        uint32_t *blk = wlinks(b, id, l, &cap);
        blk[0] = n;
        for (uint32_t i = 0; i < b->v.m; i++) {
                if (i < n)
                        blk[1 + i] = w->kept[i].id;
                pp[i] = i < n ? (hpair_t){l, w->kept[i].id, id}
                              : (hpair_t){HNSW_NONE, HNSW_NONE, id};
        }
        return next;
}

/* Phase A for node @p id: searches the frozen graph from its entry. */
static void node_search(hw_t *w, uint32_t id)
{
        hb_t *b = w->b;
        const ltrr_hnsw_view_t *v = &b->v;
        uint32_t lv = v->levels[id], ep = v->entry;
        hpair_t *pp = b->pairs + b->slot[id - b->lo];
        w->s.q = b->vecs + (size_t)id * v->dim;
        float sim = dot(w->s.q, v->vecs + (size_t)ep * v->dim, v->dim);
        for (uint32_t l = b->top; l > lv; l--)
                greedy(v, w->s.q, l, &ep, &sim);
        for (uint32_t l = lv < b->top ? lv : b->top;; l--) {
                seed_layer(v, &w->s, ep);
                search_layer(v, &w->s, l, b->efc);
                ep = choose(w, id, l, pp);
                pp += v->m;
                if (l == 0)
                        break;
        }
}

/* Phase B for group @p g: adds its new nodes to one block, pruning with
 * the heuristic when they do not fit. */
static void group_link(hw_t *w, size_t g)
{
        hb_t *b = w->b;
        const hpair_t *p = b->pairs + b->groups[g];
        size_t cnt = b->groups[g + 1] - b->groups[g], c = 0;
        uint32_t cap, dim = b->v.dim;
        uint32_t *blk = wlinks(b, p->nb, p->l, &cap);
        if (blk[0] + cnt <= cap) {
                for (size_t i = 0; i < cnt; i++)
                        blk[++blk[0]] = p[i].id;
                return;
        }
        const float *vn = b->vecs + (size_t)p->nb * dim;
        for (uint32_t i = 1; i <= blk[0]; i++, c++)
                w->sel[c] = (ltrr_hnsw_hit_t){
                    blk[i], dot(vn, b->vecs + (size_t)blk[i] * dim, dim)};
        for (size_t i = 0; i < cnt; i++, c++)
                w->sel[c] = (ltrr_hnsw_hit_t){
                    p[i].id, dot(vn, b->vecs + (size_t)p[i].id * dim, dim)};
        qsort(w->sel, c, sizeof(*w->sel), hit_desc);
        uint32_t n = select_heuristic(w, w->sel, c, cap);
        blk[0] = n;
        for (uint32_t i = 0; i < n; i++)
                blk[1 + i] = w->kept[i].id;
}

/* A worker: takes the phase's items until none is left. */
static void *hw_run(void *arg)
{
        hw_t *w = arg;
        hb_t *b = w->b;
        size_t items = b->phase ? b->ngroups : b->hi - b->lo, i;
        while ((i = atomic_fetch_add(&b->next, 1)) < items) {
                if (b->phase)
                        group_link(w, i);
                else
                        node_search(w, b->lo + (uint32_t)i);
        }
        return NULL;
}

/* Runs phase @p phase over @p items on every worker. A thread that cannot
 * be started leaves its share to the others. */
static void run_phase(hb_t *b, int phase, size_t items)
{
        uint32_t t, started[HNSW_THREADS_MAX] = {0};
        b->phase = phase;
        atomic_store(&b->next, 0);
        if (items >= HNSW_PAR_MIN)
                for (t = 1; t < b->nthreads; t++)
                        started[t] = !pthread_create(&b->w[t].tid, NULL,
                                                     hw_run, &b->w[t]);
        hw_run(&b->w[0]);
        for (t = 1; t < b->nthreads; t++)
                if (started[t])
                        pthread_join(b->w[t].tid, NULL);
}

/* Sizes the back-link slots of batch [lo, hi). */
static ltrr_err_t batch_slots(hb_t *b)
{
        size_t at = 0;
        for (uint32_t i = b->lo; i < b->hi; i++) {
                uint32_t lv = b->v.levels[i];
                b->slot[i - b->lo] = at;
                at += (size_t)((lv < b->top ? lv : b->top) + 1) * b->v.m;
        }
        b->slot[b->hi - b->lo] = at;
        if (at > b->pairs_cap) {
                hpair_t *p = realloc(b->pairs, at * sizeof(*p));
                if (p)
                        b->pairs = p;
                size_t *g = realloc(b->groups, (at + 1) * sizeof(*g));
                if (g)
                        b->groups = g;
                if (!p || !g)
                        return LTRR_ERR_NOMEM;
                b->pairs_cap = at;
        }
        return LTRR_OK;
}

/* Sorts the batch's back links and cuts them into groups by block. */
static void batch_groups(hb_t *b)
{
        size_t n = b->slot[b->hi - b->lo], g = 0;
        qsort(b->pairs, n, sizeof(*b->pairs), pair_cmp);
        while (n && b->pairs[n - 1].l == HNSW_NONE)
                n--;
        for (size_t i = 0; i < n; i++)
                if (i == 0 || b->pairs[i].l != b->pairs[i - 1].l ||
                    b->pairs[i].nb != b->pairs[i - 1].nb)
                        b->groups[g++] = i;
        b->groups[g] = n;
        b->ngroups = g;
}

/* Inserts batch [lo, hi), then raises the entry as serial insertion
 * would (the first node above the top layer becomes the entry). */
static ltrr_err_t insert_batch(hb_t *b)
{
        ltrr_err_t err = batch_slots(b);
        if (err)
                return err;
        run_phase(b, 0, b->hi - b->lo);
        batch_groups(b);
        run_phase(b, 1, b->ngroups);
        for (uint32_t i = b->lo; i < b->hi; i++)
                if (b->v.levels[i] > b->top) {
                        b->top = b->v.levels[i];
                        b->v.entry = i;
                }
        return LTRR_OK;
}
/* Draws levels, sizes and allocates the blob; fills header, vectors,
 * levels and upper_at. */
static ltrr_err_t hb_alloc(hb_t *b, const float *vecs, uint32_t n,
                           uint32_t dim, const ltrr_hnsw_conf_t *c)
{
        ltrr_rng_t rng;
        double ml = 1.0 / log((double)c->m);
        uint8_t *lv = malloc(n ? n : 1);
        if (!lv)
                return LTRR_ERR_NOMEM;
        ltrr_rng_seed(&rng, c->seed);
        uint64_t upper = 0;
        uint32_t top = 0, entry = 0;
        for (uint32_t i = 0; i < n; i++) {
                double u = 1.0 - ltrr_rng_uniform(&rng); /* (0, 1] */
                double l = floor(-log(u) * ml);
                lv[i] = (uint8_t)(l > LTRR_HNSW_LEVEL_MAX ? LTRR_HNSW_LEVEL_MAX
                                                          : l);
                upper += lv[i];
                if (i == 0 || lv[i] > top) {
                        top = lv[i];
                        entry = i;
                }
        }
        if (upper >= HNSW_NONE) {
                free(lv);
                return LTRR_ERR_RANGE;
        }
        b->v.n = n;
        b->v.dim = dim;
        b->v.m = c->m;
        b->v.m0 = 2 * c->m;
        b->v.max_level = top;
        b->v.entry = entry;
        b->v.upper_cnt = (uint32_t)upper;
        uint64_t off[5];
        uint64_t len = layout(n, dim, b->v.m, b->v.m0, upper, off);
        b->blob = calloc(1, len);
        if (!b->blob) {
                free(lv);
                return LTRR_ERR_NOMEM;
        }
        b->v.base = b->blob;
        view_point(&b->v);
        b->vecs = (float *)(b->blob + off[0]);
        b->links0 = (uint32_t *)(b->blob + off[3]);
        b->upper = (uint32_t *)(b->blob + off[4]);
        memcpy(b->blob + off[1], lv, n);
        uint32_t *at = (uint32_t *)(b->blob + off[2]);
        for (uint32_t i = 0, u = 0; i < n; i++) {
                at[i] = lv[i] ? u : HNSW_NONE;
                u += lv[i];
        }
        free(lv);
        for (uint32_t i = 0; i < n; i++) {
                memcpy(b->vecs + (size_t)i * dim, vecs + (size_t)i * dim,
                       (size_t)dim * 4);
                normalize(b->vecs + (size_t)i * dim, dim);
        }
        return LTRR_OK;
}

/* Writes the header into the blob. */
static void hb_header(hb_t *b, const ltrr_hnsw_conf_t *c)
{
        hnsw_hdr_t h;
        memset(&h, 0, sizeof(h));
        memcpy(h.magic, HNSW_MAGIC, 8);
        h.version = LTRR_HNSW_VERSION;
        h.dim = b->v.dim;
        h.n = b->v.n;
        h.m = b->v.m;
        h.m0 = b->v.m0;
        h.max_level = b->v.max_level;
        h.entry = b->v.entry;
        h.upper_cnt = b->v.upper_cnt;
        h.seed = c->seed;
        h.ef_construction = c->ef_construction;
        memcpy(b->blob, &h, sizeof(h));
}

/* Threads to use: the conf's, or the online CPUs. */
static uint32_t thread_count(uint32_t want)
{
        if (!want) {
                long cpus = sysconf(_SC_NPROCESSORS_ONLN);
                want = cpus > 0 ? (uint32_t)cpus : 1;
        }
        return want > HNSW_THREADS_MAX ? HNSW_THREADS_MAX : want;
}

/* Allocates the workers' scratch. */
static ltrr_err_t hb_workers(hb_t *b, uint32_t threads)
{
        size_t selcap = (size_t)LTRR_HNSW_EF_MAX + HNSW_BATCH_MAX +
                        b->v.m0 + 2;
        b->nthreads = threads;
        b->w = calloc(threads, sizeof(*b->w));
        b->slot = calloc(HNSW_BATCH_MAX + 1, sizeof(*b->slot));
        if (!b->w || !b->slot)
                return LTRR_ERR_NOMEM;
        for (uint32_t t = 0; t < threads; t++) {
                hw_t *w = &b->w[t];
                w->b = b;
                w->smem = calloc(1, ltrr_hnsw_scratch_size(&b->v));
                w->sel = calloc(selcap, sizeof(*w->sel));
                w->kept = calloc(b->v.m0 + 1, sizeof(*w->kept));
                if (!w->smem || !w->sel || !w->kept)
                        return LTRR_ERR_NOMEM;
                hscr_init(&w->s, &b->v, w->smem);
        }
        return LTRR_OK;
}

/* Frees everything but the blob. */
static void hb_free(hb_t *b)
{
        for (uint32_t t = 0; b->w && t < b->nthreads; t++) {
                free(b->w[t].smem);
                free(b->w[t].sel);
                free(b->w[t].kept);
        }
        free(b->w);
        free(b->slot);
        free(b->pairs);
        free(b->groups);
}

/* Inserts nodes 1..n-1 batch by batch (node 0 starts the graph). */
static ltrr_err_t hb_insert_all(hb_t *b, const ltrr_hnsw_conf_t *c)
{
        uint32_t n = b->v.n;
        b->top = n ? b->v.levels[0] : 0;
        b->v.entry = 0;
        for (uint32_t lo = 1; lo < n;) {
                uint32_t bs = lo / HNSW_BATCH_DIV;
                bs = bs < 1 ? 1 : bs > HNSW_BATCH_MAX ? HNSW_BATCH_MAX : bs;
                b->lo = lo;
                b->hi = n - lo < bs ? n : lo + bs;
                ltrr_err_t err = insert_batch(b);
                if (err)
                        return err;
                if (c->progress && (lo >> 16) != (b->hi >> 16))
                        c->progress(c->opaque, "hnsw", b->hi, n);
                lo = b->hi;
        }
        b->v.max_level = b->top;
        return LTRR_OK;
}

ltrr_err_t ltrr_hnsw_build(const float *vecs, uint32_t n, uint32_t dim,
                           const ltrr_hnsw_conf_t *conf, void **blobp,
                           size_t *lenp, char *errstr, size_t errstr_size)
{
        ltrr_hnsw_conf_t c = conf ? *conf : (ltrr_hnsw_conf_t){0};
        hb_t b;
        ltrr_err_t err;
        memset(&b, 0, sizeof(b));
        if (blobp)
                *blobp = NULL;
        if (!blobp || !lenp || (n && !vecs))
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "bad arguments to hnsw build");
        c.m = c.m ? c.m : LTRR_HNSW_M_DEFAULT;
        c.ef_construction =
            c.ef_construction ? c.ef_construction : LTRR_HNSW_EFC_DEFAULT;
        if (!dim || dim > LTRR_HNSW_DIM_MAX || c.m < 2 ||
            c.m > LTRR_HNSW_M_MAX || c.ef_construction > LTRR_HNSW_EF_MAX)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "hnsw dim %u, M %u or efConstruction %u "
                                 "out of range", dim, c.m,
                                 c.ef_construction);
        b.efc = c.ef_construction;
        if ((err = hb_alloc(&b, vecs, n, dim, &c)) ||
            (err = hb_workers(&b, thread_count(c.threads))) ||
            (err = hb_insert_all(&b, &c)))
                goto err;
        hb_header(&b, &c);
        *blobp = b.blob;
        *lenp = b.v.len;
        b.blob = NULL;
        err = LTRR_OK;
err:
        hb_free(&b);
        free(b.blob);
        if (err)
                ltrr_errf(err, errstr, errstr_size, "hnsw build: %s",
                          ltrr_err2str(err));
        return err;
}
