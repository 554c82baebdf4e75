/*
 * ltrr - HNSW graph: the deterministic parallel builder (hnsw.h).
 *
 * The levels are drawn first (so the blob's size is known), the buffer
 * is allocated once (with the caller's head room in front), the vectors
 * are quantized into it as the fill callback hands them over, and the
 * nodes are inserted in batches on several threads, the links written in
 * place. Neighbours are chosen with the paper's heuristic (a candidate
 * is kept when it is closer to the new node than to any neighbour
 * already kept), and the pruned ones fill up the rest.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hnsw_int.h"
#include "rng.h"

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
#define HNSW_BATCH_MAX 256
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
        uint8_t *mem;             /* the caller's buffer: head + blob */
        uint8_t *blob;            /* the blob, writable */
        int8_t *codes;            /* writable codes */
        float *scales;            /* writable scales */
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
        const uint32_t *p = ltrr_hnsw_links_of(&b->v, id, l, capp);
        if (l == 0)
                return b->links0 + (p - b->v.links0);
        return b->upper + (p - b->v.upper);
}

/* 1 if @p x sorts before @p y: more similar, then the lower id. */
static int hit_before(const ltrr_hnsw_hit_t *x, const ltrr_hnsw_hit_t *y)
{
        return x->sim > y->sim || (x->sim == y->sim && x->id < y->id);
}

/* Sorts hits best first (a total order: the ids differ). Quicksort on
 * the middle element, insertion sort below 16; cheaper than qsort()'s
 * callback on the build's short lists. */
static void hits_sort(ltrr_hnsw_hit_t *a, size_t n)
{
        while (n > 16) {
                ltrr_hnsw_hit_t p = a[n / 2], t;
                size_t i = 0, j = n - 1;
                for (;;) {
                        while (hit_before(&a[i], &p))
                                i++;
                        while (hit_before(&p, &a[j]))
                                j--;
                        if (i >= j)
                                break;
                        t = a[i];
                        a[i++] = a[j];
                        a[j--] = t;
                }
                /* [0, j] and [j + 1, n): recurse on the smaller part */
                if (j + 1 < n - j - 1) {
                        hits_sort(a, j + 1);
                        a += j + 1;
                        n -= j + 1;
                } else {
                        hits_sort(a + j + 1, n - j - 1);
                        n = j + 1;
                }
        }
        for (size_t i = 1; i < n; i++) {
                ltrr_hnsw_hit_t x = a[i];
                size_t j = i;
                for (; j > 0 && hit_before(&x, &a[j - 1]); j--)
                        a[j] = a[j - 1];
                a[j] = x;
        }
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
        const ltrr_hnsw_view_t *v = &w->b->v;
        uint32_t n = 0, dups = 0;
        uint8_t skipped[LTRR_HNSW_EF_MAX + HNSW_BATCH_MAX +
                        2 * LTRR_HNSW_M_MAX + 2];
        for (size_t i = 0; i < cnt && n < m; i++) {
                int keep = !is_dup(&c[i]) || dups < HNSW_DUP_LINKS;
                skipped[i] = 0;
                for (uint32_t j = 0; j < n && keep; j++)
                        if (sim_nodes(v, w->s.dot, c[i].id,
                                      w->kept[j].id) > c[i].sim)
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
        size_t n = 0;
        for (uint32_t j = b->lo; j < id; j++) {
                if (b->v.levels[j] < l)
                        continue;
                float s = sim_nodes(&b->v, w->s.dot, id, j);
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
        hits_sort(w->sel, cnt);
        uint32_t next = w->sel[0].id;
        cnt += batch_peers(w, id, l, floor, w->sel + cnt);
        if (cnt > found)
                hits_sort(w->sel, cnt);
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
        w->s.qc = v->codes + (size_t)id * v->dim;
        w->s.qs = v->scales[id];
        float sim = sim_q(v, &w->s, ep);
        for (uint32_t l = b->top; l > lv; l--)
                ltrr_hnsw_greedy(v, &w->s, l, &ep, &sim);
        for (uint32_t l = lv < b->top ? lv : b->top;; l--) {
                ltrr_hnsw_seed_layer(v, &w->s, ep);
                ltrr_hnsw_search_layer(v, &w->s, l, b->efc);
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
        uint32_t cap;
        uint32_t *blk = wlinks(b, p->nb, p->l, &cap);
        if (blk[0] + cnt <= cap) {
                for (size_t i = 0; i < cnt; i++)
                        blk[++blk[0]] = p[i].id;
                return;
        }
        for (uint32_t i = 1; i <= blk[0]; i++, c++)
                w->sel[c] = (ltrr_hnsw_hit_t){
                    blk[i], sim_nodes(&b->v, w->s.dot, p->nb, blk[i])};
        for (size_t i = 0; i < cnt; i++, c++)
                w->sel[c] = (ltrr_hnsw_hit_t){
                    p[i].id, sim_nodes(&b->v, w->s.dot, p->nb, p[i].id)};
        hits_sort(w->sel, c);
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
/* Draws every node's level into @p lv; sets the view's top layer,
 * entry and upper block count. */
static ltrr_err_t hb_levels(hb_t *b, uint8_t *lv, uint32_t n,
                            const ltrr_hnsw_conf_t *c)
{
        ltrr_rng_t rng;
        double ml = 1.0 / log((double)c->m);
        uint64_t upper = 0;
        uint32_t top = 0, entry = 0;
        ltrr_rng_seed(&rng, c->seed);
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
        if (upper >= HNSW_NONE)
                return LTRR_ERR_RANGE;
        b->v.max_level = top;
        b->v.entry = entry;
        b->v.upper_cnt = (uint32_t)upper;
        return LTRR_OK;
}

/* Sizes and allocates the buffer (c->head bytes, then the blob); fills
 * the levels and upper_at. */
static ltrr_err_t hb_alloc(hb_t *b, uint32_t n, uint32_t dim,
                           const ltrr_hnsw_conf_t *c)
{
        uint8_t *lv = malloc(n ? n : 1);
        if (!lv)
                return LTRR_ERR_NOMEM;
        b->v.n = n;
        b->v.dim = dim;
        b->v.m = c->m;
        b->v.m0 = 2 * c->m;
        ltrr_err_t err = hb_levels(b, lv, n, c);
        uint64_t off[6];
        uint64_t len = ltrr_hnsw_layout(n, dim, b->v.m, b->v.m0, b->v.upper_cnt, off);
        if (!err && !(b->mem = calloc(1, c->head + len)))
                err = LTRR_ERR_NOMEM;
        if (err) {
                free(lv);
                return err;
        }
        b->blob = b->mem + c->head;
        b->v.base = b->blob;
        ltrr_hnsw_view_point(&b->v);
        b->codes = (int8_t *)(b->blob + off[0]);
        b->scales = (float *)(b->blob + off[5]);
        b->links0 = (uint32_t *)(b->blob + off[3]);
        b->upper = (uint32_t *)(b->blob + off[4]);
        memcpy(b->blob + off[1], lv, n);
        uint32_t *at = (uint32_t *)(b->blob + off[2]);
        for (uint32_t i = 0, u = 0; i < n; i++) {
                at[i] = lv[i] ? u : HNSW_NONE;
                u += lv[i];
        }
        free(lv);
        return LTRR_OK;
}

/* Asks @p fill for every vector in order and stores its codes. */
static ltrr_err_t hb_fill(hb_t *b, ltrr_hnsw_fill_f fill, void *opaque)
{
        uint32_t dim = b->v.dim;
        float *x = malloc((size_t)dim * sizeof(float));
        ltrr_err_t err = x ? LTRR_OK : LTRR_ERR_NOMEM;
        for (uint32_t i = 0; !err && i < b->v.n; i++) {
                memset(x, 0, (size_t)dim * sizeof(float));
                if ((err = fill(opaque, i, x)))
                        break;
                b->scales[i] = ltrr_vec_quantize_i8(
                    x, dim, b->codes + (size_t)i * dim);
        }
        free(x);
        return err;
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
                ltrr_hnsw_scr_init(&w->s, &b->v, w->smem);
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

/* Conf with the defaults applied, or LTRR_ERR_RANGE. */
static ltrr_err_t conf_check(ltrr_hnsw_conf_t *c, uint32_t dim)
{
        c->m = c->m ? c->m : LTRR_HNSW_M_DEFAULT;
        c->ef_construction =
            c->ef_construction ? c->ef_construction : LTRR_HNSW_EFC_DEFAULT;
        if (!dim || dim > LTRR_HNSW_DIM_MAX || c->m < 2 ||
            c->m > LTRR_HNSW_M_MAX || c->ef_construction > LTRR_HNSW_EF_MAX ||
            (c->head & 7) || c->head > LTRR_HNSW_HEAD_MAX)
                return LTRR_ERR_RANGE;
        return LTRR_OK;
}

ltrr_err_t ltrr_hnsw_build_fill(ltrr_hnsw_fill_f fill, void *opaque,
                                uint32_t n, uint32_t dim,
                                const ltrr_hnsw_conf_t *conf, void **blobp,
                                size_t *lenp, char *errstr,
                                size_t errstr_size)
{
        ltrr_hnsw_conf_t c = conf ? *conf : (ltrr_hnsw_conf_t){0};
        hb_t b;
        ltrr_err_t err;
        memset(&b, 0, sizeof(b));
        if (blobp)
                *blobp = NULL;
        if (!blobp || !lenp || !fill)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "bad arguments to hnsw build");
        if (conf_check(&c, dim))
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "hnsw dim %u, M %u, efConstruction %u or "
                                 "head %u out of range", dim, c.m,
                                 c.ef_construction, c.head);
        b.efc = c.ef_construction;
        if ((err = hb_alloc(&b, n, dim, &c)) ||
            (err = hb_fill(&b, fill, opaque)) ||
            (err = hb_workers(&b, thread_count(c.threads))) ||
            (err = hb_insert_all(&b, &c)))
                goto err;
        hb_header(&b, &c);
        *blobp = b.mem;
        *lenp = c.head + b.v.len;
        b.mem = NULL;
        err = LTRR_OK;
err:
        hb_free(&b);
        free(b.mem);
        if (err)
                ltrr_errf(err, errstr, errstr_size, "hnsw build: %s",
                          ltrr_err2str(err));
        return err;
}

/* Fill callback of ltrr_hnsw_build(): rows of a float array. */
typedef struct rows_s {
        const float *vecs; /* n * dim */
        uint32_t dim;      /* floats per row */
} rows_t;

static ltrr_err_t rows_fill(void *opaque, uint32_t i, float *out)
{
        const rows_t *r = opaque;
        memcpy(out, r->vecs + (size_t)i * r->dim, (size_t)r->dim * 4);
        return LTRR_OK;
}

ltrr_err_t ltrr_hnsw_build(const float *vecs, uint32_t n, uint32_t dim,
                           const ltrr_hnsw_conf_t *conf, void **blobp,
                           size_t *lenp, char *errstr, size_t errstr_size)
{
        rows_t r = {vecs, dim};
        if (blobp)
                *blobp = NULL;
        if (n && !vecs)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "bad arguments to hnsw build");
        return ltrr_hnsw_build_fill(rows_fill, &r, n, dim, conf, blobp, lenp,
                                    errstr, errstr_size);
}
