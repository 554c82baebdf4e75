/*
 * ltrr - query understanding dictionaries: build from a catalog, lay out
 * as one flat blob, load a blob back (validated, zero-copy) and answer
 * the lookups the tagger needs.
 *
 * Blob layout (host byte order; the magic tells a foreign one apart),
 * every section 8-byte aligned, all offsets relative to the blob:
 *
 *   header    16 x u32: magic, version, total length, FNV-1a checksum of
 *             the bytes after the header, then the counts below
 *   tok_off   (ntok + 1) x u32  token i is pool[tok_off[i] .. tok_off[i+1])
 *   tok_info  ntok x u32        code points (bits 0-7), largest weight of
 *                               an entry holding it (bits 8-15, x 255)
 *   vbkt      (nvbkt + 1) x u32 token hash buckets (CSR offsets into vids)
 *   vids      ntok x u32        token ids grouped by bucket
 *   dbkt      (ndbkt + 1) x u32 deletion-key buckets (CSR into dpair)
 *   dpair     ndel x 2 u32      FNV-1a of one deletion variant, and the
 *                               token id it came from (one cache line)
 *   ents      nent x 8 u32      entries (struct qu_ent)
 *   enttok    nenttok x u32     token ids of every entry's phrase
 *   phr       nphr x 16 bytes   open-addressing table of phrase keys
 *   pool      npool bytes       token strings, then display names
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qu.h"

#define QU_MAGIC 0x4451544cu /* "LTQD" read as little-endian u32 */
#define QU_VERSION 1u
#define QU_HDR_WORDS 16
#define QU_HDR_BYTES (QU_HDR_WORDS * 4)
/* Deletion variants of one token: 1 + 64 + 64 * 63 / 2 at two edits. */
#define QU_DELS_PER_TOK 2100
/* Distinct candidate tokens remembered per fuzzy lookup. */
#define QU_FUZZY_SEEN_MAX 128
/* Tokens analyzed per entity name when counting title frequencies. */
#define QU_TITLE_TOKENS 64

enum { H_MAGIC, H_VERSION, H_LEN, H_SUM, H_NTOK, H_NPOOL, H_NVBKT, H_NDBKT,
       H_NDEL, H_NENT, H_NENTTOK, H_NPHR, H_SKIPPED };

enum { S_TOKOFF, S_TOKINFO, S_VBKT, S_VIDS, S_DBKT, S_DPAIR, S_ENTS,
       S_ENTTOK, S_PHR, S_POOL, S__CNT };

/* One dictionary entry as stored in the blob. */
struct qu_ent {
        uint32_t tok_off;    /* first token in enttok */
        uint32_t cnt_kind;   /* token count | kind << 16 */
        uint32_t value;      /* see ltrr_qu_kind_t */
        float weight;        /* 0..1 */
        uint32_t name_off;   /* display name in pool */
        uint32_t name_len;   /* bytes of the name */
        uint32_t freq;       /* entities carrying the symbol, 0 built-in */
        uint32_t title_df;   /* titles holding the phrase, see QU.md */
};

/* One slot of the phrase table; key 0 marks an empty slot. */
struct qu_phr {
        uint64_t key;        /* ltrr_qu_key_step() chain of token ids */
        uint32_t first;      /* first entry with this phrase */
        uint32_t cnt_flags;  /* entry count | LTRR_QU_PHRASE_* << 16 */
};

struct ltrr_qu_dict_s {
        void *owned;              /* blob allocated by build, else NULL */
        const uint8_t *blob;      /* the blob */
        size_t len;               /* bytes in blob */
        uint32_t h[QU_HDR_WORDS]; /* copy of the header */
        const uint32_t *tok_off;  /* see the layout above */
        const uint32_t *tok_info;
        const uint32_t *vbkt;
        const uint32_t *vids;
        const uint32_t *dbkt;
        const uint32_t *dpair;
        const struct qu_ent *ents;
        const uint32_t *enttok;
        const struct qu_phr *phr;
        const char *pool;
};

/* Byte offsets of each section, and the total, for the counts in @h. */
static void layout(const uint32_t *h, uint64_t *off, uint64_t *total)
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
static void attach(ltrr_qu_dict_t *d)
{
        uint64_t off[S__CNT], total;
        const uint8_t *b = d->blob;

        layout(d->h, off, &total);
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
static size_t cps_count(const char *s, size_t len)
{
        size_t i, n = 0;

        for (i = 0; i < len; i++)
                n += ((unsigned char)s[i] & 0xc0) != 0x80;
        return n;
}

/* Writes to @out the hashes of every variant of @s with 0..@k code points
 * deleted (k <= 2), repeats kept. Returns the count (at most @cap). */
static size_t deletes(const char *s, size_t len, unsigned k, uint32_t *out,
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
        cps = cps_count(s, len);
        nh = deletes(s, len, ltrr_qu_fuzzy_max(cps), hs, QU_DELS_PER_TOK);
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
static const struct qu_phr *phr_find(const struct qu_phr *phr, uint32_t nphr,
                                     uint64_t key)
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
            !(p = phr_find(d->phr, d->h[H_NPHR], key)))
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
        layout(h, off, &total);
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
        attach(d);
        if (sections_ok(d, errstr, errstr_size) != LTRR_OK)
                goto err;
        return d;
err:
        ltrr_qu_dict_destroy(d);
        return NULL;
}

/* ---------------------------------------------------------------------- */
/* Built-in tables. Kept small on purpose: words a listener types in the
 * catalog's main languages (en, es, pt, fr, de, sv), folded the way the
 * analyzer folds them, plurals spelled out (norms are not stemmed).    */

struct qu_word {
        const char *w;  /* the word as a user types it */
        uint32_t v;     /* ltrr_entity_type_t or first year of the decade */
};

static const struct qu_word type_words[] = {
        {"song", LTRR_ENTITY_TRACK},       {"songs", LTRR_ENTITY_TRACK},
        {"track", LTRR_ENTITY_TRACK},      {"tracks", LTRR_ENTITY_TRACK},
        {"single", LTRR_ENTITY_TRACK},     {"singles", LTRR_ENTITY_TRACK},
        {"canción", LTRR_ENTITY_TRACK},    {"canciones", LTRR_ENTITY_TRACK},
        {"canção", LTRR_ENTITY_TRACK},     {"canções", LTRR_ENTITY_TRACK},
        {"chanson", LTRR_ENTITY_TRACK},    {"chansons", LTRR_ENTITY_TRACK},
        {"lied", LTRR_ENTITY_TRACK},       {"lieder", LTRR_ENTITY_TRACK},
        {"låt", LTRR_ENTITY_TRACK},        {"låtar", LTRR_ENTITY_TRACK},
        {"artist", LTRR_ENTITY_ARTIST},    {"artists", LTRR_ENTITY_ARTIST},
        {"band", LTRR_ENTITY_ARTIST},      {"bands", LTRR_ENTITY_ARTIST},
        {"singer", LTRR_ENTITY_ARTIST},    {"singers", LTRR_ENTITY_ARTIST},
        {"artista", LTRR_ENTITY_ARTIST},   {"artistas", LTRR_ENTITY_ARTIST},
        {"artiste", LTRR_ENTITY_ARTIST},   {"artistes", LTRR_ENTITY_ARTIST},
        {"künstler", LTRR_ENTITY_ARTIST},  {"album", LTRR_ENTITY_ALBUM},
        {"albums", LTRR_ENTITY_ALBUM},     {"álbum", LTRR_ENTITY_ALBUM},
        {"álbumes", LTRR_ENTITY_ALBUM},    {"álbuns", LTRR_ENTITY_ALBUM},
        {"alben", LTRR_ENTITY_ALBUM},      {"lp", LTRR_ENTITY_ALBUM},
        {"podcast", LTRR_ENTITY_PODCAST},  {"podcasts", LTRR_ENTITY_PODCAST},
        {"episode", LTRR_ENTITY_EPISODE},  {"episodes", LTRR_ENTITY_EPISODE},
        {"episodio", LTRR_ENTITY_EPISODE}, {"episodios", LTRR_ENTITY_EPISODE},
        {"episódio", LTRR_ENTITY_EPISODE}, {"épisode", LTRR_ENTITY_EPISODE},
        {"folge", LTRR_ENTITY_EPISODE},    {"avsnitt", LTRR_ENTITY_EPISODE},
        {"playlist", LTRR_ENTITY_PLAYLIST}, {"playlists", LTRR_ENTITY_PLAYLIST},
        {"lista de reproducción", LTRR_ENTITY_PLAYLIST},
        {"spellista", LTRR_ENTITY_PLAYLIST}};

static const struct qu_word decade_words[] = {
        {"fifties", 1950},   {"sixties", 1960},   {"seventies", 1970},
        {"eighties", 1980},  {"nineties", 1990},  {"noughties", 2000},
        {"aughts", 2000},    {"años 80", 1980},   {"años 90", 1990},
        {"années 80", 1980}, {"années 90", 1990}};

struct qu_lang {
        const char *w;     /* language name */
        const char *code;  /* ISO 639-1 */
};

static const struct qu_lang lang_words[] = {
        {"english", "en"},    {"inglés", "en"},    {"anglais", "en"},
        {"englisch", "en"},   {"engelska", "en"},  {"spanish", "es"},
        {"español", "es"},    {"espagnol", "es"},  {"spanisch", "es"},
        {"spanska", "es"},    {"castellano", "es"}, {"portuguese", "pt"},
        {"português", "pt"},  {"portugués", "pt"}, {"portugais", "pt"},
        {"french", "fr"},     {"français", "fr"},  {"francés", "fr"},
        {"französisch", "fr"}, {"franska", "fr"},  {"german", "de"},
        {"deutsch", "de"},    {"alemán", "de"},    {"allemand", "de"},
        {"tyska", "de"},      {"swedish", "sv"},   {"svenska", "sv"},
        {"sueco", "sv"},      {"suédois", "sv"},   {"schwedisch", "sv"},
        {"japanese", "ja"},   {"japonés", "ja"},   {"japonais", "ja"},
        {"日本語", "ja"},     {"italian", "it"},   {"italiano", "it"},
        {"italien", "it"},    {"korean", "ko"},    {"coreano", "ko"},
        {"한국어", "ko"},     {"chinese", "zh"},   {"chino", "zh"},
        {"中文", "zh"}};

#define QU_NELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------------- */
/* Build                                                                  */

/* A build-time entry: its phrase key and its sort position. */
struct bent {
        uint64_t key;          /* phrase key */
        struct qu_ent e;       /* the stored entry (offsets into b->npool) */
        uint32_t idx;          /* insertion order, the last sort key */
};

struct builder {
        ltrr_analyzer_t *an;                    /* name tokenizer */
        ltrr_tokbuf_t tb;                       /* over toks/arena */
        ltrr_token_t toks[QU_TITLE_TOKENS];     /* analysis output */
        char arena[QU_TITLE_TOKENS * 2 * (LTRR_TEXT_TOKEN_BYTES_MAX + 1)];
        char *tpool;                            /* token strings */
        size_t ntpool, ctpool;                  /* used, allocated */
        uint32_t *toff;                         /* ntok + 1 offsets */
        uint32_t *tinfo;                        /* ntok infos */
        size_t ntok, ctok;                      /* used, allocated toff */
        size_t ctinfo;                          /* allocated tinfo */
        uint32_t *vh;                           /* token id + 1, 0 empty */
        size_t cvh;                             /* slots, power of two */
        char *npool;                            /* display names */
        size_t nnpool, cnpool;                  /* used, allocated */
        struct bent *ents;                      /* entries */
        size_t nent, cent;                      /* used, allocated */
        uint32_t *enttok;                       /* phrase token ids */
        size_t nenttok, centtok;                /* used, allocated */
        uint32_t skipped;                       /* names not usable */
        struct qu_phr *phr;                     /* phrase table */
        uint32_t nphr;                          /* slots, power of two */
};

/* Makes room for @need elements of @esz bytes; returns 0 or -1. */
static int grow(void *pp, size_t *cap, size_t need, size_t esz)
{
        void **p = pp, *q;
        size_t c = *cap ? *cap : 64;

        if (need <= *cap)
                return 0;
        while (c < need)
                c *= 2;
        if (c > SIZE_MAX / esz || !(q = realloc(*p, c * esz)))
                return -1;
        *p = q;
        *cap = c;
        return 0;
}

/* Doubles the token hash table; returns 0 or -1. */
static int vh_rehash(struct builder *b)
{
        size_t cap = b->cvh ? b->cvh * 2 : 1024, i;
        uint32_t *vh = calloc(cap, sizeof(*vh));

        if (!vh)
                return -1;
        for (i = 0; i < b->ntok; i++) {
                size_t o = b->toff[i], l = b->toff[i + 1] - o;
                size_t s = ltrr_text_hash32(b->tpool + o, l) & (cap - 1);

                while (vh[s])
                        s = (s + 1) & (cap - 1);
                vh[s] = (uint32_t)i + 1;
        }
        free(b->vh);
        b->vh = vh;
        b->cvh = cap;
        return 0;
}

/* Slot of token @s in the build hash table: its id + 1, or 0 (empty). */
static size_t vh_slot(const struct builder *b, const char *s, size_t len)
{
        size_t i = ltrr_text_hash32(s, len) & (b->cvh - 1);

        while (b->vh[i]) {
                size_t t = b->vh[i] - 1, o = b->toff[t];

                if (b->toff[t + 1] - o == len &&
                    memcmp(b->tpool + o, s, len) == 0)
                        break;
                i = (i + 1) & (b->cvh - 1);
        }
        return i;
}

/* Id of token @s, added if new; returns 0 or -1 (out of memory). */
static int tok_intern(struct builder *b, const char *s, size_t len,
                      uint32_t *idp)
{
        size_t i;

        if (2 * (b->ntok + 1) > b->cvh && vh_rehash(b) != 0)
                return -1;
        i = vh_slot(b, s, len);
        if (b->vh[i]) {
                *idp = b->vh[i] - 1;
                return 0;
        }
        if (grow(&b->tpool, &b->ctpool, b->ntpool + len, 1) != 0 ||
            grow(&b->toff, &b->ctok, b->ntok + 2, sizeof(*b->toff)) != 0 ||
            grow(&b->tinfo, &b->ctinfo, b->ntok + 1, sizeof(*b->tinfo)) != 0)
                return -1;
        memcpy(b->tpool + b->ntpool, s, len);
        b->toff[b->ntok] = (uint32_t)b->ntpool;
        b->ntpool += len;
        b->toff[b->ntok + 1] = (uint32_t)b->ntpool;
        b->tinfo[b->ntok] = (uint32_t)(cps_count(s, len) > 255
                                           ? 255 : cps_count(s, len));
        *idp = (uint32_t)b->ntok;
        b->vh[i] = (uint32_t)++b->ntok;
        return 0;
}

/* Analyzes @name into b->tb with room for @cap tokens. */
static ltrr_err_t analyze(struct builder *b, const char *name, size_t cap,
                          char *errstr, size_t errstr_size)
{
        ltrr_tokbuf_init(&b->tb, b->toks, cap, b->arena, sizeof(b->arena));
        return ltrr_analyzer_analyze(b->an, name, strlen(name), &b->tb, errstr,
                                     errstr_size);
}

/* Adds one entry for phrase @name; a name without tokens or with too
 * many is counted as skipped. */
static ltrr_err_t add_entry(struct builder *b, ltrr_qu_kind_t kind,
                            uint32_t value, float weight, uint32_t freq,
                            const char *name, const char *display,
                            char *errstr, size_t errstr_size)
{
        size_t i, dlen = strlen(display);
        struct bent *be;
        ltrr_err_t err;

        err = analyze(b, name, LTRR_QU_PHRASE_TOKENS_MAX + 1, errstr,
                      errstr_size);
        if (err != LTRR_OK)
                return err;
        if (b->tb.cnt == 0 || b->tb.cnt > LTRR_QU_PHRASE_TOKENS_MAX ||
            b->tb.truncated) {
                b->skipped++;
                return LTRR_OK;
        }
        if (grow(&b->ents, &b->cent, b->nent + 1, sizeof(*b->ents)) != 0 ||
            grow(&b->enttok, &b->centtok, b->nenttok + b->tb.cnt, 4) != 0 ||
            grow(&b->npool, &b->cnpool, b->nnpool + dlen, 1) != 0)
                goto nomem;
        be = &b->ents[b->nent];
        memset(be, 0, sizeof(*be));
        weight = weight < 0.0f ? 0.0f : weight > 1.0f ? 1.0f : weight;
        for (i = 0; i < b->tb.cnt; i++) {
                const ltrr_token_t *t = &b->tb.toks[i];
                uint32_t id;

                if (tok_intern(b, t->norm, t->norm_len, &id) != 0)
                        goto nomem;
                b->enttok[b->nenttok + i] = id;
                be->key = ltrr_qu_key_step(be->key, id);
                if ((uint32_t)(weight * 255.0f) > ((b->tinfo[id] >> 8) & 0xff))
                        b->tinfo[id] = (b->tinfo[id] & 0xffff00ffu) |
                                       (uint32_t)(weight * 255.0f) << 8;
        }
        be->e.tok_off = (uint32_t)b->nenttok;
        be->e.cnt_kind = (uint32_t)b->tb.cnt | (uint32_t)kind << 16;
        be->e.value = value;
        be->e.weight = weight;
        be->e.freq = freq;
        be->e.name_off = (uint32_t)b->nnpool;
        be->e.name_len = (uint32_t)dlen;
        be->idx = (uint32_t)b->nent++;
        b->nenttok += b->tb.cnt;
        memcpy(b->npool + b->nnpool, display, dlen);
        b->nnpool += dlen;
        return LTRR_OK;
nomem:
        return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "out of memory");
}

/* Adds the built-in type, decade and language tables. */
static ltrr_err_t add_builtin(struct builder *b, char *errstr,
                              size_t errstr_size)
{
        ltrr_err_t err = LTRR_OK;
        size_t i;

        for (i = 0; err == LTRR_OK && i < QU_NELEMS(type_words); i++)
                err = add_entry(b, LTRR_QU_TYPE, type_words[i].v, 1.0f, 0,
                                type_words[i].w,
                                ltrr_entity_type_name(type_words[i].v),
                                errstr, errstr_size);
        for (i = 0; err == LTRR_OK && i < QU_NELEMS(decade_words); i++)
                err = add_entry(b, LTRR_QU_DECADE, decade_words[i].v, 1.0f, 0,
                                decade_words[i].w, decade_words[i].w, errstr,
                                errstr_size);
        for (i = 0; err == LTRR_OK && i < QU_NELEMS(lang_words); i++) {
                const char *c = lang_words[i].code;

                err = add_entry(b, LTRR_QU_LANGUAGE,
                                (uint32_t)(unsigned char)c[0] |
                                    (uint32_t)(unsigned char)c[1] << 8,
                                1.0f, 0, lang_words[i].w, c, errstr,
                                errstr_size);
        }
        return err;
}

/* Per-symbol raw weights and counts: @w[t][2 s] is the best popularity of
 * artist s's entities, or the number of entities with genre, subgenre or
 * mood s; @w[t][2 s + 1] the number of entities carrying symbol s. */
static void sym_raw_weights(const ltrr_catalog_t *cat, float **w)
{
        uint32_t n = ltrr_catalog_count(cat), i, j;
        ltrr_entity_t e;

        for (i = 0; i < n; i++) {
                if (ltrr_catalog_get(cat, i, &e) != LTRR_OK)
                        continue;
                for (j = 0; j < e.artists_cnt; j++) {
                        float *a = &w[0][2 * (size_t)e.artists[j]];

                        a[0] = e.popularity > a[0] ? e.popularity : a[0];
                        a[1] += 1.0f;
                }
                for (j = 0; j < e.genres_cnt; j++)
                        w[1][2 * (size_t)e.genres[j] + 1] += 1.0f;
                for (j = 0; j < e.subgenres_cnt; j++)
                        w[2][2 * (size_t)e.subgenres[j] + 1] += 1.0f;
                for (j = 0; j < e.moods_cnt; j++)
                        w[3][2 * (size_t)e.moods[j] + 1] += 1.0f;
        }
        for (j = 1; j < LTRR_CATALOG_SYM__CNT; j++)
                for (i = 0; i < ltrr_catalog_sym_count(cat, j); i++)
                        w[j][2 * (size_t)i] = w[j][2 * (size_t)i + 1];
}

/* Adds one entry per symbol of every catalog table; weights are
 * log-scaled against the table's largest raw weight. */
static ltrr_err_t add_symbols(struct builder *b, const ltrr_catalog_t *cat,
                              float **w, char *errstr, size_t errstr_size)
{
        static const ltrr_qu_kind_t kinds[LTRR_CATALOG_SYM__CNT] = {
            LTRR_QU_ARTIST, LTRR_QU_GENRE, LTRR_QU_SUBGENRE, LTRR_QU_MOOD};
        ltrr_err_t err = LTRR_OK;
        uint32_t t, s;

        sym_raw_weights(cat, w);
        for (t = 0; err == LTRR_OK && t < LTRR_CATALOG_SYM__CNT; t++) {
                uint32_t n = ltrr_catalog_sym_count(cat, t);
                float max = 0.0f, lmax;

                for (s = 0; s < n; s++)
                        max = w[t][2 * s] > max ? w[t][2 * s] : max;
                lmax = max > 0.0f ? log1pf(max) : 1.0f;
                for (s = 0; err == LTRR_OK && s < n; s++) {
                        const char *name = ltrr_catalog_sym_name(cat, t, s);
                        float wt = max > 0.0f ? log1pf(w[t][2 * s]) / lmax
                                              : 0.5f;

                        err = add_entry(b, kinds[t], s, wt,
                                        (uint32_t)w[t][2 * s + 1], name, name,
                                        errstr, errstr_size);
                }
        }
        return err;
}

static uint32_t pow2_at_least(size_t n)
{
        uint32_t p = 1;

        while (p < n && p < 0x80000000u)
                p *= 2;
        return p;
}

static int bent_cmp(const void *pa, const void *pb)
{
        const struct bent *a = pa, *b = pb;
        uint32_t ka = a->e.cnt_kind >> 16, kb = b->e.cnt_kind >> 16;

        if (a->key != b->key)
                return a->key < b->key ? -1 : 1;
        if (ka != kb)
                return ka < kb ? -1 : 1;
        if (a->e.weight != b->e.weight)
                return a->e.weight > b->e.weight ? -1 : 1;
        return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int u32_cmp(const void *pa, const void *pb)
{
        uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;

        return a < b ? -1 : a > b;
}

/* Collects the distinct deletion keys of every token long enough for
 * typos into *hp / *tp (parallel arrays of *np pairs). */
static int gather_deletes(const struct builder *b, uint32_t **hp,
                          uint32_t **tp, size_t *np)
{
        uint32_t tmp[QU_DELS_PER_TOK];
        size_t t, n = 0, ch = 0, ct = 0;

        for (t = 0; t < b->ntok; t++) {
                size_t o = b->toff[t], l = b->toff[t + 1] - o, nh, i;
                unsigned k = ltrr_qu_fuzzy_max(b->tinfo[t] & 0xff);

                if (k == 0)
                        continue;
                nh = deletes(b->tpool + o, l, k, tmp, QU_DELS_PER_TOK);
                qsort(tmp, nh, sizeof(tmp[0]), u32_cmp);
                if (grow(hp, &ch, n + nh, 4) != 0 ||
                    grow(tp, &ct, n + nh, 4) != 0)
                        return -1;
                for (i = 0; i < nh; i++) {
                        if (i > 0 && tmp[i] == tmp[i - 1])
                                continue;
                        (*hp)[n] = tmp[i];
                        (*tp)[n++] = (uint32_t)t;
                }
        }
        *np = n;
        return 0;
}

/* Fills CSR bucket offsets @bkt (@nb + 1 entries, @nb a power of two)
 * for the @n keys in @keys and writes each item's slot to @pos. */
static void csr_build(const uint32_t *keys, size_t n, uint32_t nb,
                      uint32_t *bkt, uint32_t *pos)
{
        size_t i;

        memset(bkt, 0, ((size_t)nb + 1) * sizeof(*bkt));
        for (i = 0; i < n; i++)
                bkt[(keys[i] & (nb - 1)) + 1]++;
        for (i = 0; i < nb; i++)
                bkt[i + 1] += bkt[i];
        for (i = 0; i < n; i++)
                pos[i] = bkt[keys[i] & (nb - 1)]++;
        for (i = nb; i > 0; i--)
                bkt[i] = bkt[i - 1];
        bkt[0] = 0;
}

#define SEC(type, s) ((type *)(void *)(blob + off[s]))

/* Writes the token strings' offsets, infos and hash buckets. */
static int write_tokens(const struct builder *b, uint8_t *blob,
                        const uint64_t *off, const uint32_t *h)
{
        uint32_t *keys = calloc(b->ntok + 1, sizeof(*keys));
        uint32_t *pos = malloc((b->ntok + 1) * sizeof(*pos));
        size_t i;

        if (!keys || !pos) {
                free(keys);
                free(pos);
                return -1;
        }
        if (b->ntok)
                memcpy(SEC(uint32_t, S_TOKOFF), b->toff,
                       (b->ntok + 1) * sizeof(uint32_t));
        for (i = 0; i < b->ntok; i++) {
                SEC(uint32_t, S_TOKINFO)[i] = b->tinfo[i];
                keys[i] = ltrr_text_hash32(b->tpool + b->toff[i],
                                           b->toff[i + 1] - b->toff[i]);
        }
        csr_build(keys, b->ntok, h[H_NVBKT], SEC(uint32_t, S_VBKT), pos);
        for (i = 0; i < b->ntok; i++)
                SEC(uint32_t, S_VIDS)[pos[i]] = (uint32_t)i;
        memcpy(blob + off[S_POOL], b->tpool, b->ntpool);
        memcpy(blob + off[S_POOL] + b->ntpool, b->npool, b->nnpool);
        free(keys);
        free(pos);
        return 0;
}

/* Writes the deletion index from the pairs in @hs / @ts. */
static int write_deletes(uint8_t *blob, const uint64_t *off,
                         const uint32_t *h, const uint32_t *hs,
                         const uint32_t *ts)
{
        uint32_t *pos = malloc(((size_t)h[H_NDEL] + 1) * sizeof(*pos));
        size_t i;

        if (!pos)
                return -1;
        csr_build(hs, h[H_NDEL], h[H_NDBKT], SEC(uint32_t, S_DBKT), pos);
        for (i = 0; i < h[H_NDEL]; i++) {
                SEC(uint32_t, S_DPAIR)[2 * (size_t)pos[i]] = hs[i];
                SEC(uint32_t, S_DPAIR)[2 * (size_t)pos[i] + 1] = ts[i];
        }
        free(pos);
        return 0;
}

/* Sets @flags on phrase @key (and its entries when FULL). */
static void phr_insert(struct qu_phr *phr, uint32_t nphr, uint64_t key,
                       unsigned flags, uint32_t first, uint32_t cnt)
{
        uint32_t i = (uint32_t)key & (nphr - 1);

        while (phr[i].key != 0 && phr[i].key != key)
                i = (i + 1) & (nphr - 1);
        phr[i].key = key;
        if (flags & LTRR_QU_PHRASE_FULL) {
                phr[i].first = first;
                phr[i].cnt_flags = (phr[i].cnt_flags & 0xffff0000u) | cnt;
        }
        phr[i].cnt_flags |= (uint32_t)flags << 16;
}

/* Sorts the entries by phrase and builds the phrase table. */
static int index_phrases(struct builder *b)
{
        size_t i, g, l;

        if (b->nent)
                qsort(b->ents, b->nent, sizeof(*b->ents), bent_cmp);
        b->nphr = pow2_at_least(2 * b->nenttok + 2);
        if (!(b->phr = calloc(b->nphr, sizeof(*b->phr))))
                return -1;
        for (i = 0; i < b->nent; i = g) {
                for (g = i; g < b->nent && b->ents[g].key == b->ents[i].key;
                     g++)
                        ;
                phr_insert(b->phr, b->nphr, b->ents[i].key,
                           LTRR_QU_PHRASE_FULL, (uint32_t)i,
                           (uint32_t)(g - i > 0xffff ? 0xffff : g - i));
        }
        for (i = 0; i < b->nent; i++) {
                const struct qu_ent *e = &b->ents[i].e;
                uint64_t key = 0;

                for (l = 0; l + 1 < (e->cnt_kind & 0xffff); l++) {
                        key = ltrr_qu_key_step(key, b->enttok[e->tok_off + l]);
                        phr_insert(b->phr, b->nphr, key,
                                   LTRR_QU_PHRASE_PREFIX, 0, 0);
                }
        }
        return 0;
}

/* Whether a phrase found at token @at of a title is credited to another
 * artist ("Song (feat. Drake)", "... (with Justin Bieber)"). */
static int credit_before(const ltrr_tokbuf_t *tb, size_t at)
{
        static const char *const words[] = {"feat", "ft", "featuring",
                                            "with", "prod", "vs"};
        size_t i;

        if (at == 0)
                return 0;
        for (i = 0; i < QU_NELEMS(words); i++)
                if (strcmp(tb->toks[at - 1].norm, words[i]) == 0)
                        return 1;
        return 0;
}

/* Counts a title occurrence for every artist entry of the phrase at @p,
 * unless the entity @e is by that artist. */
static void title_hit(struct builder *b, const struct qu_phr *p,
                      const ltrr_entity_t *e)
{
        uint32_t i, a;

        for (i = p->first; i < p->first + (p->cnt_flags & 0xffff); i++) {
                struct qu_ent *q = &b->ents[i].e;

                if ((q->cnt_kind >> 16) != LTRR_QU_ARTIST)
                        continue;
                for (a = 0; a < e->artists_cnt && e->artists[a] != q->value;
                     a++)
                        ;
                if (a == e->artists_cnt && q->title_df < UINT32_MAX)
                        q->title_df++;
        }
}

/* Walks the artist phrases in the title analyzed into b->tb. */
static void title_phrases(struct builder *b, const ltrr_entity_t *e)
{
        size_t s, j;

        for (s = 0; s < b->tb.cnt; s++) {
                uint64_t key = 0;

                if (credit_before(&b->tb, s))
                        continue;
                for (j = s; j < b->tb.cnt && j - s < LTRR_QU_PHRASE_TOKENS_MAX;
                     j++) {
                        const ltrr_token_t *t = &b->tb.toks[j];
                        size_t slot = vh_slot(b, t->norm, t->norm_len);
                        const struct qu_phr *p;

                        if (!b->vh[slot])
                                break;
                        key = ltrr_qu_key_step(key, b->vh[slot] - 1);
                        if (!(p = phr_find(b->phr, b->nphr, key)))
                                break;
                        if ((p->cnt_flags >> 16) & LTRR_QU_PHRASE_FULL)
                                title_hit(b, p, e);
                        if (!((p->cnt_flags >> 16) & LTRR_QU_PHRASE_PREFIX))
                                break;
                }
        }
}

/* Counts, for every artist entry, the entity names (titles) that hold its
 * phrase, leaving out the artist's own entities and credits. */
static ltrr_err_t count_titles(struct builder *b, const ltrr_catalog_t *cat,
                               char *errstr, size_t errstr_size)
{
        uint32_t n = ltrr_catalog_count(cat), i;
        ltrr_entity_t e;

        for (i = 0; i < n; i++) {
                ltrr_err_t err;

                if (ltrr_catalog_get(cat, i, &e) != LTRR_OK)
                        continue;
                err = analyze(b, e.name, QU_TITLE_TOKENS, errstr, errstr_size);
                if (err != LTRR_OK)
                        return err;
                title_phrases(b, &e);
        }
        return LTRR_OK;
}

/* Writes the entries (sorted by phrase) and the phrase table. */
static void write_entries(const struct builder *b, uint8_t *blob,
                          const uint64_t *off)
{
        struct qu_ent *ents = SEC(struct qu_ent, S_ENTS);
        size_t i;

        if (b->nenttok)
                memcpy(SEC(uint32_t, S_ENTTOK), b->enttok,
                       b->nenttok * sizeof(uint32_t));
        for (i = 0; i < b->nent; i++) {
                ents[i] = b->ents[i].e;
                ents[i].name_off += (uint32_t)b->ntpool;
        }
        memcpy(SEC(struct qu_phr, S_PHR), b->phr, b->nphr * sizeof(*b->phr));
}

/* Fills the header counts of the dictionary being built. */
static void header_fill(const struct builder *b, size_t ndel, uint32_t *h)
{
        memset(h, 0, QU_HDR_BYTES);
        h[H_MAGIC] = QU_MAGIC;
        h[H_VERSION] = QU_VERSION;
        h[H_NTOK] = (uint32_t)b->ntok;
        h[H_NPOOL] = (uint32_t)(b->ntpool + b->nnpool);
        h[H_NVBKT] = pow2_at_least(b->ntok);
        h[H_NDEL] = (uint32_t)ndel;
        h[H_NDBKT] = pow2_at_least(ndel);
        h[H_NENT] = (uint32_t)b->nent;
        h[H_NENTTOK] = (uint32_t)b->nenttok;
        h[H_NPHR] = b->nphr;
        h[H_SKIPPED] = b->skipped;
}

/* Lays out the builder's content as a blob and opens it. */
static ltrr_qu_dict_t *finish(struct builder *b, char *errstr,
                              size_t errstr_size)
{
        uint32_t h[QU_HDR_WORDS], *hs = NULL, *ts = NULL;
        uint64_t off[S__CNT], total;
        ltrr_qu_dict_t *d = NULL;
        uint8_t *blob = NULL;
        size_t ndel = 0;

        if (gather_deletes(b, &hs, &ts, &ndel) != 0)
                goto nomem;
        header_fill(b, ndel, h);
        layout(h, off, &total);
        if (b->ntpool + b->nnpool > UINT32_MAX || b->nenttok > 0x3fffffff ||
            ndel > 0x7fffffff || total > UINT32_MAX) {
                ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                          "query dictionary past 4 GiB");
                goto err;
        }
        h[H_LEN] = (uint32_t)total;
        if (!(blob = calloc(1, total)) || !(d = calloc(1, sizeof(*d))))
                goto nomem;
        if (write_tokens(b, blob, off, h) != 0 ||
            write_deletes(blob, off, h, hs, ts) != 0)
                goto nomem;
        write_entries(b, blob, off);
        h[H_SUM] = ltrr_text_hash32(blob + QU_HDR_BYTES, total - QU_HDR_BYTES);
        memcpy(blob, h, QU_HDR_BYTES);
        memcpy(d->h, h, QU_HDR_BYTES);
        d->owned = blob;
        d->blob = blob;
        d->len = total;
        attach(d);
        free(hs);
        free(ts);
        return d;
nomem:
        ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "out of memory");
err:
        free(hs);
        free(ts);
        free(blob);
        free(d);
        return NULL;
}

static void builder_free(struct builder *b)
{
        if (!b)
                return;
        free(b->tpool);
        free(b->toff);
        free(b->tinfo);
        free(b->vh);
        free(b->npool);
        free(b->ents);
        free(b->enttok);
        free(b->phr);
        free(b);
}

ltrr_qu_dict_t *ltrr_qu_dict_build(const ltrr_catalog_t *cat,
                                   ltrr_analyzer_t *an, char *errstr,
                                   size_t errstr_size)
{
        struct builder *b = NULL;
        ltrr_qu_dict_t *d = NULL;
        float *w[LTRR_CATALOG_SYM__CNT] = {NULL};
        int t;

        if (!cat || !an) {
                ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                          "query dictionary: catalog and analyzer required");
                return NULL;
        }
        if (!(b = calloc(1, sizeof(*b))))
                goto nomem;
        b->an = an;
        for (t = 0; t < LTRR_CATALOG_SYM__CNT; t++)
                if (!(w[t] = calloc(2 * (size_t)ltrr_catalog_sym_count(cat, t) +
                                        2, sizeof(float))))
                        goto nomem;
        if (add_builtin(b, errstr, errstr_size) != LTRR_OK ||
            add_symbols(b, cat, w, errstr, errstr_size) != LTRR_OK)
                goto done;
        if (index_phrases(b) != 0)
                goto nomem;
        if (count_titles(b, cat, errstr, errstr_size) != LTRR_OK)
                goto done;
        d = finish(b, errstr, errstr_size);
        goto done;
nomem:
        ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "out of memory");
done:
        for (t = 0; t < LTRR_CATALOG_SYM__CNT; t++)
                free(w[t]);
        builder_free(b);
        return d;
}
