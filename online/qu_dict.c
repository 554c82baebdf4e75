/*
 * ltrr - query understanding dictionaries: load a blob (validated,
 * zero-copy) and answer the lookups the tagger needs. The blob layout is
 * described in qu_int.h; building one from a catalog is in qu_build.c.
 */
#include <stdlib.h>
#include <string.h>

#include "qu_int.h"

/* Distinct candidate tokens remembered per fuzzy lookup. */
#define QU_FUZZY_SEEN_MAX 128


/* Byte offsets of each section, and the total, for the counts in @h. */
void ltrr_qu_layout(const uint32_t *h, uint64_t *off, uint64_t *total)
{
        uint64_t sz[S__CNT], o = QU_HDR_BYTES;
        int i;

        sz[S_TOKOFF] = ((uint64_t)h[H_NTOK] + 1) * 4;
        sz[S_TOKINFO] = (uint64_t)h[H_NTOK] * 4;
        sz[S_VBKT] = ((uint64_t)h[H_NVBKT] + 1) * 4;
        sz[S_VIDS] = (uint64_t)h[H_NTOK] * 4;
        sz[S_DBKT] = ((uint64_t)h[H_NDBKT] + 1) * 4;
        sz[S_DPAIR] = (uint64_t)h[H_NDEL] * 8;
        sz[S_ENTS] = (uint64_t)h[H_NENT] * sizeof(struct qu_ent);
        sz[S_ENTTOK] = (uint64_t)h[H_NENTTOK] * 4;
        sz[S_PHR] = (uint64_t)h[H_NPHR] * sizeof(struct qu_phr);
        sz[S_POOL] = h[H_NPOOL];
        for (i = 0; i < S__CNT; i++) {
                off[i] = o;
                o = (o + sz[i] + 7) & ~(uint64_t)7;
        }
        *total = o;
}

/* Points the section pointers of @d at its blob (sizes already checked). */
void ltrr_qu_attach(ltrr_qu_dict_t *d)
{
        uint64_t off[S__CNT], total;
        const uint8_t *b = d->blob;

        ltrr_qu_layout(d->h, off, &total);
        d->tok_off = (const uint32_t *)(const void *)(b + off[S_TOKOFF]);
        d->tok_info = (const uint32_t *)(const void *)(b + off[S_TOKINFO]);
        d->vbkt = (const uint32_t *)(const void *)(b + off[S_VBKT]);
        d->vids = (const uint32_t *)(const void *)(b + off[S_VIDS]);
        d->dbkt = (const uint32_t *)(const void *)(b + off[S_DBKT]);
        d->dpair = (const uint32_t *)(const void *)(b + off[S_DPAIR]);
        d->ents = (const struct qu_ent *)(const void *)(b + off[S_ENTS]);
        d->enttok = (const uint32_t *)(const void *)(b + off[S_ENTTOK]);
        d->phr = (const struct qu_phr *)(const void *)(b + off[S_PHR]);
        d->pool = (const char *)(b + off[S_POOL]);
}

/* ---------------------------------------------------------------------- */
/* Shared helpers                                                         */

unsigned ltrr_qu_fuzzy_max(size_t cps)
{
        if (cps < LTRR_QU_FUZZY_MIN_CPS)
                return 0;
        return cps < LTRR_QU_FUZZY_TWO_CPS ? 1 : 2;
}

uint64_t ltrr_qu_key_step(uint64_t key, uint32_t tok)
{
        /* splitmix64 finalizer over the running key and the token; 0 is
         * reserved for empty slots. */
        uint64_t z = key + 0x9e3779b97f4a7c15ull * ((uint64_t)tok + 1);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        return z ? z : 1;
}

/* Number of code points in @s (bytes that are not continuation bytes). */
size_t ltrr_qu_cps_count(const char *s, size_t len)
{
        size_t i, n = 0;

        for (i = 0; i < len; i++)
                n += ((unsigned char)s[i] & 0xc0) != 0x80;
        return n;
}

/* Writes to @out the hashes of every variant of @s with 0..@k code points
 * deleted (k <= 2), repeats kept. Returns the count (at most @cap). */
size_t ltrr_qu_deletes(const char *s, size_t len, unsigned k, uint32_t *out,
                       size_t cap)
{
        size_t b[LTRR_TEXT_TOKEN_BYTES_MAX + 2], n = 0, cnt = 0, i, j;
        char buf[LTRR_TEXT_TOKEN_BYTES_MAX + 1];

        if (len > LTRR_TEXT_TOKEN_BYTES_MAX || cap == 0)
                return 0;
        for (i = 0; i < len; i++)
                if (((unsigned char)s[i] & 0xc0) != 0x80)
                        b[n++] = i;
        b[n] = len;
        out[cnt++] = ltrr_text_hash32(s, len);
        for (i = 0; k >= 1 && i < n && cnt < cap; i++) {
                size_t l1 = b[i], r1 = b[i + 1];

                memcpy(buf, s, l1);
                memcpy(buf + l1, s + r1, len - r1);
                out[cnt++] = ltrr_text_hash32(buf, len - (r1 - l1));
                for (j = i + 1; k >= 2 && j < n && cnt < cap; j++) {
                        size_t l2 = b[j], r2 = b[j + 1], o = l1;

                        memcpy(buf + o, s + r1, l2 - r1);
                        o += l2 - r1;
                        memcpy(buf + o, s + r2, len - r2);
                        o += len - r2;
                        out[cnt++] = ltrr_text_hash32(buf, o);
                }
        }
        return cnt;
}

/* ---------------------------------------------------------------------- */
/* Lookups                                                                */

uint32_t ltrr_qu_dict_token(const ltrr_qu_dict_t *d, const char *s,
                            size_t len)
{
        uint32_t bk, i;

        if (!d || !s || d->h[H_NTOK] == 0)
                return LTRR_QU_NONE;
        bk = ltrr_text_hash32(s, len) & (d->h[H_NVBKT] - 1);
        for (i = d->vbkt[bk]; i < d->vbkt[bk + 1]; i++) {
                uint32_t t = d->vids[i];
                uint32_t o = d->tok_off[t], l = d->tok_off[t + 1] - o;

                if (l == len && memcmp(d->pool + o, s, len) == 0)
                        return t;
        }
        return LTRR_QU_NONE;
}

/* Inserts @tok at distance @dist into @out, sorted by distance, then by
 * the token's largest entry weight (descending), then id; keeps at most
 * @cap; returns the new count. */
static size_t alt_insert(const ltrr_qu_dict_t *d, ltrr_qu_alt_t *out,
                         size_t n, size_t cap, uint32_t tok, uint32_t dist)
{
        uint32_t rank = dist << 8 | (255 - ((d->tok_info[tok] >> 8) & 0xff));
        size_t i = n;

        while (i > 0) {
                const ltrr_qu_alt_t *o = &out[i - 1];
                uint32_t r = o->dist << 8 |
                             (255 - ((d->tok_info[o->tok] >> 8) & 0xff));

                if (r < rank || (r == rank && o->tok < tok))
                        break;
                i--;
        }
        if (i >= cap)
                return n;
        if (n == cap)
                n--;
        memmove(out + i + 1, out + i, (n - i) * sizeof(*out));
        out[i].tok = tok;
        out[i].dist = dist;
        return n + 1;
}

/* Checks candidate @t against query token @s of @cps code points; on a
 * match within the allowed distance, returns 1 and sets *distp. */
static int fuzzy_check(const ltrr_qu_dict_t *d, uint32_t t, const char *s,
                       size_t len, size_t cps, unsigned *distp)
{
        uint32_t o = d->tok_off[t], l = d->tok_off[t + 1] - o;
        size_t tcps = d->tok_info[t] & 0xff;
        unsigned k = ltrr_qu_fuzzy_max(tcps < cps ? tcps : cps);
        size_t gap = tcps > cps ? tcps - cps : cps - tcps;

        if (k == 0 || gap > k)
                return 0;
        if (l == len && memcmp(d->pool + o, s, len) == 0)
                return 0; /* the token itself is not a typo of itself */
        if (ltrr_text_distance(s, len, d->pool + o, l, k, distp) != LTRR_OK)
                return 0;
        return *distp <= k;
}

/* Adds the tokens of deletion bucket entries [from, to) whose hash is
 * @hash and that are within the allowed distance of @s to @out. */
static size_t fuzzy_bucket(const ltrr_qu_dict_t *d, uint32_t from,
                           uint32_t to, uint32_t hash, const char *s,
                           size_t len, size_t cps, ltrr_qu_alt_t *out,
                           size_t n, size_t cap, uint32_t *seen,
                           size_t *nseenp)
{
        uint32_t j;

        for (j = from; j < to; j++) {
                uint32_t t = d->dpair[2 * (size_t)j + 1];
                unsigned dist;
                size_t q;

                if (d->dpair[2 * (size_t)j] != hash)
                        continue;
                for (q = 0; q < *nseenp && seen[q] != t; q++)
                        ;
                if (q < *nseenp)
                        continue;
                if (*nseenp < QU_FUZZY_SEEN_MAX)
                        seen[(*nseenp)++] = t;
                if (fuzzy_check(d, t, s, len, cps, &dist))
                        n = alt_insert(d, out, n, cap, t, dist);
        }
        return n;
}

size_t ltrr_qu_dict_fuzzy(const ltrr_qu_dict_t *d, const char *s,
                          size_t len, ltrr_qu_alt_t *out, size_t cap)
{
        uint32_t hs[QU_DELS_PER_TOK], bk[QU_DELS_PER_TOK];
        uint32_t seen[QU_FUZZY_SEEN_MAX], mask;
        size_t cps, nh, i, n = 0, nseen = 0;

        if (!d || !s || !out || cap == 0 || d->h[H_NDEL] == 0)
                return 0;
        mask = d->h[H_NDBKT] - 1;
        cps = ltrr_qu_cps_count(s, len);
        nh = ltrr_qu_deletes(s, len, ltrr_qu_fuzzy_max(cps), hs,
                             QU_DELS_PER_TOK);
        /* The variants' buckets are independent cache misses: issue them
         * all before reading any. */
        for (i = 0; i < nh; i++) {
                bk[i] = hs[i] & mask;
                __builtin_prefetch(&d->dbkt[bk[i]]);
        }
        for (i = 0; i < nh; i++) {
                bk[i] = d->dbkt[bk[i]];
                __builtin_prefetch(&d->dpair[2 * (size_t)bk[i]]);
        }
        for (i = 0; i < nh; i++)
                n = fuzzy_bucket(d, bk[i], d->dbkt[(hs[i] & mask) + 1], hs[i],
                                 s, len, cps, out, n, cap, seen, &nseen);
        for (i = 1; i < n && out[i].dist == out[0].dist; i++)
                ;
        return i < n ? i : n; /* only the closest distance */
}

/* Slot of @key in the phrase table @phr of @nphr slots, or NULL. */
const struct qu_phr *ltrr_qu_phr_find(const struct qu_phr *phr,
                                      uint32_t nphr, uint64_t key)
{
        uint32_t mask = nphr - 1, i, n;

        for (i = (uint32_t)key & mask, n = 0; n <= mask;
             i = (i + 1) & mask, n++) {
                if (phr[i].key == 0)
                        return NULL;
                if (phr[i].key == key)
                        return &phr[i];
        }
        return NULL;
}

unsigned ltrr_qu_dict_phrase(const ltrr_qu_dict_t *d, uint64_t key,
                             uint32_t *firstp, uint32_t *cntp)
{
        const struct qu_phr *p;

        if (!d || d->h[H_NPHR] == 0 || key == 0 ||
            !(p = ltrr_qu_phr_find(d->phr, d->h[H_NPHR], key)))
                return 0;
        if (firstp)
                *firstp = p->first;
        if (cntp)
                *cntp = p->cnt_flags & 0xffff;
        return p->cnt_flags >> 16;
}

ltrr_err_t ltrr_qu_dict_entry(const ltrr_qu_dict_t *d, uint32_t id,
                              ltrr_qu_entry_t *out)
{
        const struct qu_ent *e;

        if (!d || !out || id >= d->h[H_NENT])
                return LTRR_ERR_RANGE;
        e = &d->ents[id];
        out->kind = (ltrr_qu_kind_t)(e->cnt_kind >> 16);
        out->value = e->value;
        out->weight = e->weight;
        out->name = d->pool + e->name_off;
        out->name_len = e->name_len;
        out->toks = d->enttok + e->tok_off;
        out->toks_cnt = e->cnt_kind & 0xffff;
        out->freq = e->freq;
        out->title_df = e->title_df;
        return LTRR_OK;
}

void ltrr_qu_dict_blob(const ltrr_qu_dict_t *d, const void **datap,
                       size_t *lenp)
{
        if (datap)
                *datap = d ? d->blob : NULL;
        if (lenp)
                *lenp = d ? d->len : 0;
}

void ltrr_qu_dict_stats(const ltrr_qu_dict_t *d, ltrr_qu_stats_t *st)
{
        memset(st, 0, sizeof(*st));
        if (!d)
                return;
        st->tokens = d->h[H_NTOK];
        st->entries = d->h[H_NENT];
        st->deletes = d->h[H_NDEL];
        st->skipped = d->h[H_SKIPPED];
        st->bytes = d->len;
}

void ltrr_qu_dict_destroy(ltrr_qu_dict_t *d)
{
        if (!d)
                return;
        free(d->owned);
        free(d);
}

/* ---------------------------------------------------------------------- */
/* Load and validation                                                    */

/* Checks that @a[0..n] is non-decreasing and ends at most at @max. */
static int csr_ok(const uint32_t *a, uint32_t n, uint32_t max)
{
        uint32_t i;

        for (i = 0; i < n; i++)
                if (a[i] > a[i + 1])
                        return 0;
        return a[n] <= max;
}

/* Checks every id in @a[0..n) is below @max. */
static int ids_ok(const uint32_t *a, uint32_t n, uint32_t max)
{
        uint32_t i;

        for (i = 0; i < n; i++)
                if (a[i] >= max)
                        return 0;
        return 1;
}

/* Checks the token id (second word) of each of the @n pairs in @a. */
static int pair_ids_ok(const uint32_t *a, uint32_t n, uint32_t max)
{
        uint32_t i;

        for (i = 0; i < n; i++)
                if (a[2 * (size_t)i + 1] >= max)
                        return 0;
        return 1;
}

static int pow2(uint32_t n)
{
        return n != 0 && (n & (n - 1)) == 0;
}

/* Validates the entries and the phrase table of @d. */
static int ents_ok(const ltrr_qu_dict_t *d)
{
        const uint32_t *h = d->h;
        uint32_t i;

        for (i = 0; i < h[H_NENT]; i++) {
                const struct qu_ent *e = &d->ents[i];
                uint32_t cnt = e->cnt_kind & 0xffff;

                if ((e->cnt_kind >> 16) >= LTRR_QU__CNT || cnt == 0 ||
                    cnt > LTRR_QU_PHRASE_TOKENS_MAX ||
                    cnt > h[H_NENTTOK] || e->tok_off > h[H_NENTTOK] - cnt ||
                    e->name_off > h[H_NPOOL] ||
                    e->name_len > h[H_NPOOL] - e->name_off ||
                    !(e->weight >= 0.0f && e->weight <= 1.0f))
                        return 0;
        }
        for (i = 0; i < h[H_NPHR]; i++) {
                const struct qu_phr *p = &d->phr[i];
                uint32_t cnt = p->cnt_flags & 0xffff;

                if (p->key == 0)
                        continue;
                if ((p->cnt_flags >> 16) & ~3u ||
                    ((p->cnt_flags >> 16) & LTRR_QU_PHRASE_FULL &&
                     (cnt == 0 || p->first > h[H_NENT] ||
                      cnt > h[H_NENT] - p->first)))
                        return 0;
        }
        return 1;
}

/* Validates the sections of @d, whose header has been checked. */
static ltrr_err_t sections_ok(const ltrr_qu_dict_t *d, char *errstr,
                              size_t errstr_size)
{
        const uint32_t *h = d->h;

        if (h[H_NTOK] > 0 && (d->tok_off[0] != 0 ||
                              !csr_ok(d->tok_off, h[H_NTOK], h[H_NPOOL])))
                return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                 "query dictionary: bad token offsets");
        if (!csr_ok(d->vbkt, h[H_NVBKT], h[H_NTOK]) ||
            d->vbkt[h[H_NVBKT]] != h[H_NTOK] ||
            !ids_ok(d->vids, h[H_NTOK], h[H_NTOK]))
                return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                 "query dictionary: bad token table");
        if (!csr_ok(d->dbkt, h[H_NDBKT], h[H_NDEL]) ||
            d->dbkt[h[H_NDBKT]] != h[H_NDEL] ||
            !pair_ids_ok(d->dpair, h[H_NDEL], h[H_NTOK]))
                return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                 "query dictionary: bad typo index");
        if (!ids_ok(d->enttok, h[H_NENTTOK], h[H_NTOK]) || !ents_ok(d))
                return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                 "query dictionary: bad entries");
        return LTRR_OK;
}

/* Checks the header copied into @d against the blob length @len. */
static ltrr_err_t header_ok(const ltrr_qu_dict_t *d, size_t len,
                            char *errstr, size_t errstr_size)
{
        const uint32_t *h = d->h;
        uint64_t off[S__CNT], total;

        if (h[H_MAGIC] != QU_MAGIC)
                return ltrr_errf(LTRR_ERR_SCHEMA, errstr, errstr_size,
                                 "query dictionary: bad magic 0x%08x",
                                 (unsigned)h[H_MAGIC]);
        if (h[H_VERSION] != QU_VERSION)
                return ltrr_errf(LTRR_ERR_SCHEMA, errstr, errstr_size,
                                 "query dictionary: version %u, expected %u",
                                 (unsigned)h[H_VERSION], QU_VERSION);
        ltrr_qu_layout(h, off, &total);
        if (h[H_LEN] != len || total != len)
                return ltrr_errf(LTRR_ERR_TRUNCATED, errstr, errstr_size,
                                 "query dictionary: %zu bytes, header says "
                                 "%u, counts say %llu", len,
                                 (unsigned)h[H_LEN],
                                 (unsigned long long)total);
        if (!pow2(h[H_NVBKT]) || !pow2(h[H_NDBKT]) || !pow2(h[H_NPHR]))
                return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                 "query dictionary: table size not a power "
                                 "of two");
        return LTRR_OK;
}

ltrr_qu_dict_t *ltrr_qu_dict_load(const void *data, size_t len,
                                  char *errstr, size_t errstr_size)
{
        ltrr_qu_dict_t *d = NULL;
        uint32_t sum;

        if (!data || len < QU_HDR_BYTES) {
                ltrr_errf(LTRR_ERR_TRUNCATED, errstr, errstr_size,
                          "query dictionary: %zu bytes, less than a header",
                          data ? len : 0);
                goto err;
        }
        if ((uintptr_t)data % 8 != 0) {
                ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                          "query dictionary: blob not 8-byte aligned");
                goto err;
        }
        if (!(d = calloc(1, sizeof(*d)))) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "out of memory");
                goto err;
        }
        memcpy(d->h, data, QU_HDR_BYTES);
        d->blob = data;
        d->len = len;
        if (header_ok(d, len, errstr, errstr_size) != LTRR_OK)
                goto err;
        sum = ltrr_text_hash32(d->blob + QU_HDR_BYTES, len - QU_HDR_BYTES);
        if (sum != d->h[H_SUM]) {
                ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                          "query dictionary: checksum 0x%08x, expected "
                          "0x%08x", (unsigned)sum, (unsigned)d->h[H_SUM]);
                goto err;
        }
        ltrr_qu_attach(d);
        if (sections_ok(d, errstr, errstr_size) != LTRR_OK)
                goto err;
        return d;
err:
        ltrr_qu_dict_destroy(d);
        return NULL;
}
