/*
 * ltrr - IVF-flat reader (ivf.h): the view and check of a blob, and the
 * search, which ranks the centroids by their integer inner product with
 * the quantized query, then scans the nprobe best lists exactly and
 * keeps the top k in a heap (similarity, then the lower id).
 * ivf_build.c writes the blob.
 */
#include <string.h>

#include "ivf_int.h"
#include "vec_dot.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define IVF_X86 1
#else
#define IVF_X86 0
#endif

/* Vectors per step of the scan (a stack buffer of their products). */
#define IVF_BLOCK 64

#if IVF_X86
/* The eight 32-bit lane vectors' sums, in order. */
__attribute__((target("avx2"))) static __m256i
hsum8(__m256i a0, __m256i a1, __m256i a2, __m256i a3, __m256i a4,
      __m256i a5, __m256i a6, __m256i a7)
{
        __m256i h0 = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1),
                                       _mm256_hadd_epi32(a2, a3));
        __m256i h1 = _mm256_hadd_epi32(_mm256_hadd_epi32(a4, a5),
                                       _mm256_hadd_epi32(a6, a7));
        return _mm256_add_epi32(_mm256_permute2x128_si256(h0, h1, 0x20),
                                _mm256_permute2x128_si256(h0, h1, 0x31));
}

/* One 32-code step of vector @p x against the query chunk: |q| times
 * x with q's sign (exact: codes stop at +-127, vec_dot.c). */
#define IVF_STEP(acc, x)                                                   \
        acc = _mm256_add_epi32(                                            \
            acc, _mm256_madd_epi16(                                        \
                     _mm256_maddubs_epi16(qa, _mm256_sign_epi8(            \
                                                  _mm256_loadu_si256(      \
                                                      (const void *)(x)),  \
                                                  qv)),                    \
                     ones))

/* Products of the first @p body codes (a multiple of 32) of @p q with
 * those of 8 vectors of @p dim codes at @p c. */
__attribute__((target("avx2"))) static void
dots8_avx2(const int8_t *q, const int8_t *c, uint32_t dim, uint32_t body,
           int32_t *out)
{
        const __m256i ones = _mm256_set1_epi16(1);
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0,
                a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (uint32_t i = 0; i < body; i += 32) {
                __m256i qv = _mm256_loadu_si256((const void *)(q + i));
                __m256i qa = _mm256_sign_epi8(qv, qv);
                IVF_STEP(a0, c + i);
                IVF_STEP(a1, c + dim + i);
                IVF_STEP(a2, c + 2 * (size_t)dim + i);
                IVF_STEP(a3, c + 3 * (size_t)dim + i);
                IVF_STEP(a4, c + 4 * (size_t)dim + i);
                IVF_STEP(a5, c + 5 * (size_t)dim + i);
                IVF_STEP(a6, c + 6 * (size_t)dim + i);
                IVF_STEP(a7, c + 7 * (size_t)dim + i);
        }
        _mm256_storeu_si256((void *)out,
                            hsum8(a0, a1, a2, a3, a4, a5, a6, a7));
}
#endif

void ltrr_ivf_dots(const int8_t *q, const int8_t *codes, uint32_t dim,
                   uint32_t cnt, int32_t *out)
{
        ltrr_vec_dot_fn dot = ltrr_vec_dot_i8_best();
        uint32_t j = 0;
#if IVF_X86
        uint32_t body = dim & ~31u; /* the rest is added one code a time */
        if (dot != ltrr_vec_dot_i8_scalar && body)
                for (; j + 8 <= cnt; j += 8) {
                        const int8_t *c = codes + (size_t)j * dim;
                        dots8_avx2(q, c, dim, body, out + j);
                        for (uint32_t t = 0; body < dim && t < 8; t++)
                                out[j + t] += ltrr_vec_dot_i8_scalar(
                                    q + body, c + (size_t)t * dim + body,
                                    dim - body);
                }
#endif
        for (; j < cnt; j++)
                out[j] = dot(q, codes + (size_t)j * dim, dim);
}

/* 1 if @p a ranks below @p b: less similar, or as similar with a higher
 * id. A total order, so results do not depend on the scan order. */
static int worse(const ltrr_ivf_hit_t *a, const ltrr_ivf_hit_t *b)
{
        return a->sim < b->sim || (a->sim == b->sim && a->id > b->id);
}

/* Restores the heap (worst at the root) below position @p i. */
static void sift_down(ltrr_ivf_hit_t *h, size_t n, size_t i)
{
        for (;;) {
                size_t c = 2 * i + 1;
                if (c >= n)
                        return;
                if (c + 1 < n && worse(&h[c + 1], &h[c]))
                        c++;
                if (!worse(&h[c], &h[i]))
                        return;
                ltrr_ivf_hit_t t = h[c];
                h[c] = h[i];
                h[i] = t;
                i = c;
        }
}

/* Offers @p x to the heap @p h of *hn entries, at most @p k. */
static void heap_offer(ltrr_ivf_hit_t *h, size_t *hn, size_t k,
                       ltrr_ivf_hit_t x)
{
        if (*hn < k) {
                size_t i = (*hn)++;
                h[i] = x;
                while (i && worse(&h[i], &h[(i - 1) / 2])) {
                        ltrr_ivf_hit_t t = h[i];
                        h[i] = h[(i - 1) / 2];
                        h[(i - 1) / 2] = t;
                        i = (i - 1) / 2;
                }
        } else if (k && worse(&h[0], &x)) {
                h[0] = x;
                sift_down(h, *hn, 0);
        }
}

/* Sorts the heap best first. */
static void heap_sort(ltrr_ivf_hit_t *h, size_t n)
{
        for (size_t i = n; i > 1; i--) {
                ltrr_ivf_hit_t t = h[0];
                h[0] = h[i - 1];
                h[i - 1] = t;
                sift_down(h, i - 1, 0);
        }
}

/* Offers the stored vectors lo..hi-1 to the top-k heap. */
static void scan(const ltrr_ivf_view_t *v, const int8_t *qc, float qs,
                 uint32_t lo, uint32_t hi, ltrr_ivf_hit_t *h, size_t *hn,
                 size_t k)
{
        int32_t d[IVF_BLOCK];
        for (uint32_t b = lo; b < hi; b += IVF_BLOCK) {
                uint32_t cnt = hi - b < IVF_BLOCK ? hi - b : IVF_BLOCK;
                ltrr_ivf_dots(qc, v->codes + (size_t)b * v->dim, v->dim,
                              cnt, d);
                for (uint32_t i = 0; i < cnt; i++) {
                        ltrr_ivf_hit_t x = {v->ids[b + i],
                                            (float)d[i] * v->scales[b + i] *
                                                qs};
                        if (*hn == k && !worse(&h[0], &x))
                                continue;
                        if (x.id < v->n)
                                heap_offer(h, hn, k, x);
                }
        }
}

static ltrr_err_t corrupt(char *errstr, size_t size, const char *why)
{
        return ltrr_errf(LTRR_ERR_CORRUPT, errstr, size,
                         "IVF index: %s", why);
}

/* Checks the header @p h against the blob's @p len. */
static ltrr_err_t hdr_check(const ivf_hdr_t *h, size_t len, char *errstr,
                            size_t size)
{
        ivf_layout_t l;
        if (memcmp(h->magic, IVF_MAGIC, 8))
                return corrupt(errstr, size, "bad magic");
        if (h->version != LTRR_IVF_VERSION)
                return ltrr_errf(LTRR_ERR_CORRUPT, errstr, size,
                                 "IVF index: layout version %u, this build "
                                 "reads %d: rebuild the index",
                                 h->version, LTRR_IVF_VERSION);
        if (!h->dim || h->dim > LTRR_IVF_DIM_MAX ||
            h->nlist > LTRR_IVF_NLIST_MAX || h->cnt > h->n ||
            h->nlist > h->cnt)
                return corrupt(errstr, size, "counts out of range");
        ivf_layout(h->n, h->dim, h->nlist, h->cnt, &l);
        if (h->len != l.len || len != l.len)
                return corrupt(errstr, size, "sizes do not match");
        return LTRR_OK;
}

ltrr_err_t ltrr_ivf_view(const void *blob, size_t len, ltrr_ivf_view_t *v,
                         char *errstr, size_t errstr_size)
{
        ivf_hdr_t h;
        ivf_layout_t l;
        if (!blob || !v)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "bad arguments to IVF view");
        if (len < sizeof(h) || ((uintptr_t)blob & 7))
                return corrupt(errstr, errstr_size,
                               len < sizeof(h) ? "too short" : "misaligned");
        memcpy(&h, blob, sizeof(h));
        ltrr_err_t err = hdr_check(&h, len, errstr, errstr_size);
        if (err)
                return err;
        const uint8_t *b = blob;
        ivf_layout(h.n, h.dim, h.nlist, h.cnt, &l);
        *v = (ltrr_ivf_view_t){
            .base = b, .len = len, .n = h.n, .dim = h.dim,
            .nlist = h.nlist, .cnt = h.cnt,
            .cent = (const int8_t *)(b + l.cent),
            .cent_scales = (const float *)(const void *)(b + l.cscale),
            .offs = (const uint32_t *)(const void *)(b + l.offs),
            .ids = (const uint32_t *)(const void *)(b + l.ids),
            .scales = (const float *)(const void *)(b + l.scales),
            .codes = (const int8_t *)(b + l.codes),
            .slot = (const uint32_t *)(const void *)(b + l.slot)};
        if (v->offs[0] || v->offs[h.nlist] != h.cnt)
                return corrupt(errstr, errstr_size, "bad list bounds");
        for (uint32_t c = 0; c < h.nlist; c++)
                if (v->offs[c] > v->offs[c + 1])
                        return corrupt(errstr, errstr_size,
                                       "list starts out of order");
        return LTRR_OK;
}

ltrr_err_t ltrr_ivf_check(const ltrr_ivf_view_t *v, char *errstr,
                          size_t errstr_size)
{
        uint32_t used = 0;
        for (uint32_t c = 0; c < v->nlist; c++)
                for (uint32_t j = v->offs[c]; j < v->offs[c + 1]; j++) {
                        uint32_t id = v->ids[j];
                        if (id >= v->n || v->slot[id] != j ||
                            (j > v->offs[c] && v->ids[j - 1] >= id))
                                return ltrr_errf(LTRR_ERR_CORRUPT, errstr,
                                                 errstr_size,
                                                 "IVF index: bad entry %u "
                                                 "of list %u", j, c);
                }
        for (uint32_t i = 0; i < v->n; i++)
                used += v->slot[i] != LTRR_IVF_NO_SLOT;
        if (used != v->cnt)
                return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                 "IVF index: %u slots for %u vectors", used,
                                 v->cnt);
        return LTRR_OK;
}

int ltrr_ivf_vector(const ltrr_ivf_view_t *v, uint32_t id, float *out)
{
        if (!v || id >= v->n)
                return -1;
        uint32_t s = v->slot[id];
        if (s >= v->cnt) { /* in no list: a zero vector */
                memset(out, 0, (size_t)v->dim * sizeof(float));
                return 0;
        }
        const int8_t *c = v->codes + (size_t)s * v->dim;
        for (uint32_t d = 0; d < v->dim; d++)
                out[d] = (float)c[d] * v->scales[s];
        return 0;
}

size_t ltrr_ivf_scratch_size(const ltrr_ivf_view_t *v, uint32_t k,
                             uint32_t nprobe)
{
        (void)k; /* the hits are kept in the caller's out array */
        if (!v)
                return 0;
        uint32_t np = nprobe < v->nlist ? nprobe : v->nlist;
        return ivf_pad8(v->dim) + (size_t)np * sizeof(ltrr_ivf_hit_t);
}

/* Top @p np centroids for the query codes into @p pr; returns them. */
static size_t probe(const ltrr_ivf_view_t *v, const int8_t *qc,
                    uint32_t np, ltrr_ivf_hit_t *pr)
{
        int32_t d[IVF_BLOCK];
        size_t pn = 0;
        for (uint32_t b = 0; b < v->nlist; b += IVF_BLOCK) {
                uint32_t cnt = v->nlist - b < IVF_BLOCK ? v->nlist - b
                                                        : IVF_BLOCK;
                ltrr_ivf_dots(qc, v->cent + (size_t)b * v->dim, v->dim, cnt,
                              d);
                for (uint32_t i = 0; i < cnt; i++) {
                        ltrr_ivf_hit_t x = {b + i, (float)d[i] *
                                                       v->cent_scales[b + i]};
                        heap_offer(pr, &pn, np, x);
                }
        }
        return pn;
}

ltrr_err_t ltrr_ivf_search(const ltrr_ivf_view_t *v, const float *q,
                           uint32_t k, uint32_t nprobe, void *scratch,
                           size_t scratch_size, ltrr_ivf_hit_t *out,
                           size_t *cntp)
{
        if (!v || !q || !out || !cntp || !scratch)
                return LTRR_ERR_INVALID_ARG;
        *cntp = 0;
        if (k > LTRR_IVF_K_MAX || !nprobe ||
            scratch_size < ltrr_ivf_scratch_size(v, k, nprobe))
                return LTRR_ERR_RANGE;
        if (!k || !v->cnt)
                return LTRR_OK;
        uint32_t np = nprobe < v->nlist ? nprobe : v->nlist;
        int8_t *qc = scratch;
        ltrr_ivf_hit_t *pr =
            (ltrr_ivf_hit_t *)(void *)((uint8_t *)scratch +
                                       ivf_pad8(v->dim));
        float qs = ltrr_vec_quantize_i8(q, v->dim, qc);
        if (qs == 0)
                return LTRR_OK;
        size_t pn = probe(v, qc, np, pr), hn = 0;
        for (size_t p = 0; p < pn; p++)
                scan(v, qc, qs, v->offs[pr[p].id], v->offs[pr[p].id + 1], out,
                     &hn, k);
        heap_sort(out, hn);
        *cntp = hn;
        return LTRR_OK;
}

ltrr_err_t ltrr_ivf_brute(const ltrr_ivf_view_t *v, const float *q,
                          uint32_t k, ltrr_ivf_hit_t *out, size_t *cntp)
{
        int8_t qc[LTRR_IVF_DIM_MAX];
        if (!v || !q || !out || !cntp)
                return LTRR_ERR_INVALID_ARG;
        *cntp = 0;
        if (k > LTRR_IVF_K_MAX)
                return LTRR_ERR_RANGE;
        float qs = ltrr_vec_quantize_i8(q, v->dim, qc);
        size_t hn = 0;
        if (qs != 0 && k)
                scan(v, qc, qs, 0, v->cnt, out, &hn, k);
        heap_sort(out, hn);
        *cntp = hn;
        return LTRR_OK;
}
