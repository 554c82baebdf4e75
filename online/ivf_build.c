/*
 * ltrr - IVF-flat builder (ivf.h).
 *
 * 1. Every vector is quantized to int8 codes once (vec_dot.h).
 * 2. A training sample is drawn from the non-zero vectors with a seeded
 *    partial shuffle; its first nlist vectors are the first centroids.
 * 3. Lloyd iterations: each sample vector goes to the centroid with the
 *    largest integer inner product times the centroid's scale (ties: the
 *    lower list), on several threads over fixed ranges; each centroid
 *    becomes the sum of its members' unit vectors, summed in doubles in
 *    sample order on one thread, quantized again. A centroid that lost
 *    all its members keeps its place.
 * 4. Every non-zero vector is assigned the same way (the costly step,
 *    on all threads), then the lists are laid out by a counting sort,
 *    ids ascending within a list.
 * Only integer inner products and fixed-order sums decide anything, so
 * the blob is the same for any thread count and any CPU.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ivf_int.h"
#include "rng.h"
#include "vec_dot.h"

#define IVF_THREADS_MAX 64
/* Fewer assignments than this run on the calling thread alone. */
#define IVF_PAR_MIN 4096

/* Build state. */
typedef struct ib_s {
        uint32_t n, dim;     /* vectors, components */
        uint32_t m;          /* non-zero vectors */
        uint32_t nlist;      /* lists */
        uint32_t ns;         /* training vectors (perm[0..ns)) */
        uint32_t threads;    /* workers */
        int8_t *codes;       /* n * dim codes */
        float *scales;       /* n scales (0: zero vector) */
        uint32_t *perm;      /* the m non-zero vectors, sample first */
        uint32_t *lab;       /* n: list of each vector */
        int8_t *cent;        /* nlist * dim centroid codes */
        float *cscale;       /* nlist centroid scales */
} ib_t;

/* One thread's share of an assignment pass. */
typedef struct ib_job_s {
        const ib_t *b;        /* build state */
        const uint32_t *idx;  /* vectors to assign */
        size_t lo, hi;        /* this share: idx[lo..hi) */
        pthread_t tid;        /* thread, when started */
        ltrr_err_t err;       /* LTRR_ERR_NOMEM: no scratch */
} ib_job_t;

/* The list whose centroid is most similar to the codes @p x (@p d:
 * nlist products of room). */
static uint32_t nearest(const ib_t *b, const int8_t *x, int32_t *d)
{
        uint32_t best = 0;
        float bs = -INFINITY;
        ltrr_ivf_dots(x, b->cent, b->dim, b->nlist, d);
        for (uint32_t l = 0; l < b->nlist; l++) {
                float s = (float)d[l] * b->cscale[l];
                if (s > bs) {
                        bs = s;
                        best = l;
                }
        }
        return best;
}

static void *job_run(void *arg)
{
        ib_job_t *j = arg;
        const ib_t *b = j->b;
        int32_t *d = malloc((size_t)b->nlist * sizeof(*d));
        if (!d) {
                j->err = LTRR_ERR_NOMEM;
                return NULL;
        }
        for (size_t i = j->lo; i < j->hi; i++) {
                uint32_t e = j->idx[i];
                b->lab[e] = nearest(b, b->codes + (size_t)e * b->dim, d);
        }
        free(d);
        return NULL;
}

/* Sets lab[] of the @p cnt vectors @p idx, on up to b->threads threads
 * (a share whose thread cannot start runs here). */
static ltrr_err_t assign(ib_t *b, const uint32_t *idx, size_t cnt)
{
        ltrr_err_t err = LTRR_OK;
        ib_job_t jobs[IVF_THREADS_MAX];
        int started[IVF_THREADS_MAX] = {0};
        uint32_t t, nt = cnt < IVF_PAR_MIN ? 1 : b->threads;
        for (t = 0; t < nt; t++)
                jobs[t] = (ib_job_t){b, idx, cnt * t / nt,
                                     cnt * (t + 1) / nt, 0, LTRR_OK};
        for (t = 1; t < nt; t++)
                started[t] = !pthread_create(&jobs[t].tid, NULL, job_run,
                                             &jobs[t]);
        job_run(&jobs[0]);
        for (t = 1; t < nt; t++) {
                if (started[t])
                        pthread_join(jobs[t].tid, NULL);
                else
                        job_run(&jobs[t]);
        }
        for (t = 0; t < nt; t++)
                err = err ? err : jobs[t].err;
        return err;
}

/* Moves each centroid to its sample members' summed unit vectors. */
static ltrr_err_t update(ib_t *b)
{
        size_t cd = (size_t)b->nlist * b->dim;
        double *sum = calloc(cd, sizeof(*sum));
        uint32_t *cnt = calloc(b->nlist, sizeof(*cnt));
        float *f = malloc((size_t)b->dim * sizeof(*f));
        int8_t *q = malloc(b->dim);
        ltrr_err_t err = sum && cnt && f && q ? LTRR_OK : LTRR_ERR_NOMEM;
        for (uint32_t s = 0; !err && s < b->ns; s++) {
                uint32_t e = b->perm[s], l = b->lab[e];
                const int8_t *x = b->codes + (size_t)e * b->dim;
                double *y = sum + (size_t)l * b->dim, sc = b->scales[e];
                for (uint32_t d = 0; d < b->dim; d++)
                        y[d] += (double)x[d] * sc;
                cnt[l]++;
        }
        for (uint32_t l = 0; !err && l < b->nlist; l++) {
                if (!cnt[l])
                        continue;
                for (uint32_t d = 0; d < b->dim; d++)
                        f[d] = (float)sum[(size_t)l * b->dim + d];
                float sc = ltrr_vec_quantize_i8(f, b->dim, q);
                if (sc == 0) /* members cancel out: keep the centroid */
                        continue;
                memcpy(b->cent + (size_t)l * b->dim, q, b->dim);
                b->cscale[l] = sc;
        }
        free(sum);
        free(cnt);
        free(f);
        free(q);
        return err;
}

/* Quantizes every vector from @p fill; lists the non-zero ones. */
static ltrr_err_t ib_fill(ib_t *b, ltrr_ivf_fill_f fill, void *opaque)
{
        float *x = malloc((size_t)b->dim * sizeof(*x));
        ltrr_err_t err = x ? LTRR_OK : LTRR_ERR_NOMEM;
        for (uint32_t i = 0; !err && i < b->n; i++) {
                memset(x, 0, (size_t)b->dim * sizeof(*x));
                if ((err = fill(opaque, i, x)))
                        break;
                b->scales[i] = ltrr_vec_quantize_i8(
                    x, b->dim, b->codes + (size_t)i * b->dim);
                if (b->scales[i] != 0)
                        b->perm[b->m++] = i;
        }
        free(x);
        return err;
}

/* Lists and sample size from the conf and the non-zero count; draws the
 * sample (a partial shuffle of perm) and seeds the centroids. */
static ltrr_err_t ib_seed(ib_t *b, const ltrr_ivf_conf_t *c)
{
        ltrr_rng_t rng;
        uint32_t nl = c->nlist ? c->nlist
                               : (uint32_t)lrint(sqrt((double)b->m));
        nl = nl < 1 ? 1 : nl > LTRR_IVF_NLIST_MAX ? LTRR_IVF_NLIST_MAX : nl;
        b->nlist = b->m < nl ? b->m : nl;
        uint64_t ns = c->sample ? c->sample
                                : (uint64_t)b->nlist * LTRR_IVF_SAMPLE_PER_LIST;
        ns = ns < b->nlist ? b->nlist : ns > b->m ? b->m : ns;
        b->ns = (uint32_t)ns;
        b->cent = malloc((size_t)b->nlist * b->dim + 1);
        b->cscale = malloc(((size_t)b->nlist + 1) * sizeof(float));
        if (!b->cent || !b->cscale)
                return LTRR_ERR_NOMEM;
        ltrr_rng_seed(&rng, c->seed);
        for (uint32_t s = 0; s < b->ns; s++) {
                uint32_t r = s + (uint32_t)ltrr_rng_below(&rng, b->m - s);
                uint32_t t = b->perm[s];
                b->perm[s] = b->perm[r];
                b->perm[r] = t;
        }
        for (uint32_t l = 0; l < b->nlist; l++) {
                memcpy(b->cent + (size_t)l * b->dim,
                       b->codes + (size_t)b->perm[l] * b->dim, b->dim);
                b->cscale[l] = b->scales[b->perm[l]];
        }
        return LTRR_OK;
}

/* Trains the centroids and assigns every non-zero vector. */
static ltrr_err_t ib_train(ib_t *b, const ltrr_ivf_conf_t *c)
{
        uint32_t iters = c->iters ? c->iters : LTRR_IVF_ITERS_DEFAULT;
        ltrr_err_t err = LTRR_OK;
        for (uint32_t it = 0; b->nlist && it < iters; it++) {
                if ((err = assign(b, b->perm, b->ns)) || (err = update(b)))
                        return err;
                if (c->progress)
                        c->progress(c->opaque, "ivf", it + 1, iters + 1);
        }
        if (b->nlist && (err = assign(b, b->perm, b->m)))
                return err;
        if (c->progress)
                c->progress(c->opaque, "ivf", iters + 1, iters + 1);
        return LTRR_OK;
}

/* Writes the blob behind @p head zero bytes of @p out. */
static void ib_write(const ib_t *b, uint8_t *out, const ivf_layout_t *lo)
{
        ivf_hdr_t h = {.version = LTRR_IVF_VERSION, .dim = b->dim,
                       .n = b->n, .nlist = b->nlist, .cnt = b->m,
                       .len = lo->len};
        memcpy(h.magic, IVF_MAGIC, 8);
        memcpy(out, &h, sizeof(h));
        memcpy(out + lo->cent, b->cent, (size_t)b->nlist * b->dim);
        memcpy(out + lo->cscale, b->cscale, (size_t)b->nlist * 4);
        uint32_t *offs = (uint32_t *)(void *)(out + lo->offs);
        uint32_t *ids = (uint32_t *)(void *)(out + lo->ids);
        float *scales = (float *)(void *)(out + lo->scales);
        int8_t *codes = (int8_t *)(out + lo->codes);
        uint32_t *slot = (uint32_t *)(void *)(out + lo->slot);
        for (uint32_t i = 0; i < b->n; i++)
                if (b->scales[i] != 0)
                        offs[b->lab[i] + 1]++;
        for (uint32_t l = 0; l < b->nlist; l++)
                offs[l + 1] += offs[l];
        /* offs[l] is list l's next free position while entities are
         * placed in ascending order */
        for (uint32_t i = 0; i < b->n; i++) {
                slot[i] = LTRR_IVF_NO_SLOT;
                if (b->scales[i] == 0)
                        continue;
                uint32_t j = offs[b->lab[i]]++;
                ids[j] = i;
                scales[j] = b->scales[i];
                memcpy(codes + (size_t)j * b->dim,
                       b->codes + (size_t)i * b->dim, b->dim);
                slot[i] = j;
        }
        /* offs[l] now holds the end of list l: shift back to starts */
        memmove(offs + 1, offs, (size_t)b->nlist * 4);
        offs[0] = 0;
}

static uint32_t thread_count(uint32_t want)
{
        if (!want) {
                long cpus = sysconf(_SC_NPROCESSORS_ONLN);
                want = cpus > 0 ? (uint32_t)cpus : 1;
        }
        return want > IVF_THREADS_MAX ? IVF_THREADS_MAX : want;
}

static void ib_free(ib_t *b)
{
        free(b->codes);
        free(b->scales);
        free(b->perm);
        free(b->lab);
        free(b->cent);
        free(b->cscale);
}

ltrr_err_t ltrr_ivf_build_fill(ltrr_ivf_fill_f fill, void *opaque,
                               uint32_t n, uint32_t dim,
                               const ltrr_ivf_conf_t *conf, void **blobp,
                               size_t *lenp, char *errstr,
                               size_t errstr_size)
{
        ltrr_ivf_conf_t c = conf ? *conf : (ltrr_ivf_conf_t){0};
        ib_t b = {.n = n, .dim = dim, .threads = thread_count(c.threads)};
        ivf_layout_t lo;
        uint8_t *out = NULL;
        ltrr_err_t err;
        if (blobp)
                *blobp = NULL;
        if (!fill || !blobp || !lenp)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "bad arguments to IVF build");
        if (!dim || dim > LTRR_IVF_DIM_MAX || c.nlist > LTRR_IVF_NLIST_MAX ||
            c.head % 8 || c.head > LTRR_IVF_HEAD_MAX)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "IVF build: dim %u, nlist %u or head %u "
                                 "out of range", dim, c.nlist, c.head);
        b.codes = malloc((size_t)n * dim + 1);
        b.scales = malloc(((size_t)n + 1) * sizeof(float));
        b.perm = malloc(((size_t)n + 1) * sizeof(uint32_t));
        b.lab = calloc((size_t)n + 1, sizeof(uint32_t));
        err = b.codes && b.scales && b.perm && b.lab ? LTRR_OK
                                                     : LTRR_ERR_NOMEM;
        if (err || (err = ib_fill(&b, fill, opaque)) ||
            (err = ib_seed(&b, &c)) || (err = ib_train(&b, &c)))
                goto done;
        ivf_layout(n, dim, b.nlist, b.m, &lo);
        if (!(out = calloc(1, c.head + lo.len))) {
                err = LTRR_ERR_NOMEM;
                goto done;
        }
        ib_write(&b, out + c.head, &lo);
        *blobp = out;
        *lenp = c.head + lo.len;
done:
        ib_free(&b);
        if (!err)
                return LTRR_OK;
        return ltrr_errf(err, errstr, errstr_size, "IVF build: %s",
                         err == LTRR_ERR_NOMEM ? "out of memory"
                                               : "the vector source failed");
}
