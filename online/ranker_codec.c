/*
 * ltrr - ranker model codecs (see ranker.h): the binary blob and the
 * editable text form, their checksums (FNV-1a over the blob, a hash of
 * the weights in both forms) and the validation of a model read back.
 */
#include "ranker_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Magic and format version of the binary blob. */
#define RK_MAGIC "LTRK"
#define RK_FORMAT 1
#define RK_HEADER_SIZE 72

/* Longest line of the text form. */
#define RK_LINE_MAX 256

/* FNV-1a 64 over @len bytes, continuing from @h. */
static uint64_t rk_fnv1a(uint64_t h, const uint8_t *p, size_t len)
{
        size_t i;

        for (i = 0; i < len; i++) {
                h ^= p[i];
                h *= 0x100000001b3ULL;
        }
        return h;
}

#define RK_FNV_INIT 0xcbf29ce484222325ULL

static void rk_put_f64(uint8_t *p, double d)
{
        uint64_t v;

        memcpy(&v, &d, sizeof(v));
        ltrr_ranker_le_put(p, v, 8);
}

static double rk_get_f64(const uint8_t *p)
{
        uint64_t v = ltrr_ranker_le_get(p, 8);
        double d;

        memcpy(&d, &v, sizeof(d));
        return d;
}

/* The hyper-parameters, in blob and text order. */
static const struct {
        const char *name; /* text key */
        size_t off;       /* offset in ltrr_ranker_params_t */
} rk_pfields[] = {
    {"alpha", offsetof(ltrr_ranker_params_t, alpha)},
    {"beta", offsetof(ltrr_ranker_params_t, beta)},
    {"l1", offsetof(ltrr_ranker_params_t, l1)},
    {"l2", offsetof(ltrr_ranker_params_t, l2)},
    {"ipw_clip", offsetof(ltrr_ranker_params_t, ipw_clip)},
};

#define RK_NPARAMS (sizeof(rk_pfields) / sizeof(rk_pfields[0]))

static double *rk_param(ltrr_ranker_params_t *p, size_t i)
{
        return (double *)((char *)p + rk_pfields[i].off);
}

static uint64_t rk_hash(const ltrr_ranker_t *rk)
{
        uint8_t b[4];
        uint32_t bits;
        uint64_t h;
        int i;

        ltrr_ranker_le_put(b, LTRR_RANKER_LAYOUT_VERSION, 4);
        h = rk_fnv1a(RK_FNV_INIT, b, 4);
        for (i = 0; i < LTRR_RANKER_NFEAT; i++) {
                memcpy(&bits, &rk->w[i], sizeof(bits));
                ltrr_ranker_le_put(b, bits, 4);
                h = rk_fnv1a(h, b, 4);
        }
        return h;
}

void ltrr_ranker_version(const ltrr_ranker_t *rk, uint64_t *counter,
                         uint64_t *hash)
{
        if (counter)
                *counter = rk->counter;
        if (hash)
                *hash = rk_hash(rk);
}

ltrr_err_t ltrr_ranker_serialize(const ltrr_ranker_t *rk, uint8_t *buf,
                                 size_t size, size_t *len)
{
        ltrr_ranker_params_t prm = rk->params;
        uint8_t *p = buf;
        size_t i;

        if (size < LTRR_RANKER_BLOB_SIZE)
                return LTRR_ERR_NOSPACE;
        memset(buf, 0, RK_HEADER_SIZE);
        memcpy(p, RK_MAGIC, 4);
        ltrr_ranker_le_put(p + 4, RK_FORMAT, 2);
        ltrr_ranker_le_put(p + 6, LTRR_RANKER_LAYOUT_VERSION, 2);
        ltrr_ranker_le_put(p + 8, LTRR_RANKER_NFEAT, 2);
        ltrr_ranker_le_put(p + 16, rk->counter, 8);
        ltrr_ranker_le_put(p + 24, rk_hash(rk), 8);
        for (i = 0; i < RK_NPARAMS; i++)
                rk_put_f64(p + 32 + 8 * i, *rk_param(&prm, i));
        p += RK_HEADER_SIZE;
        for (i = 0; i < LTRR_RANKER_NFEAT; i++, p += 16) {
                rk_put_f64(p, rk->z[i]);
                rk_put_f64(p + 8, rk->n[i]);
        }
        ltrr_ranker_le_put(p, rk_fnv1a(RK_FNV_INIT, buf, (size_t)(p - buf)), 8);
        if (len)
                *len = LTRR_RANKER_BLOB_SIZE;
        return LTRR_OK;
}

/* Checks magic, versions, length and checksum of a blob. */
static ltrr_err_t rk_blob_check(const uint8_t *buf, size_t len, char *errstr,
                                size_t errstr_size)
{
        size_t body = LTRR_RANKER_BLOB_SIZE - 8;

        if (len < 10)
                return ltrr_errf(LTRR_ERR_TRUNCATED, errstr, errstr_size,
                                 "ranker blob of %zu bytes", len);
        if (memcmp(buf, RK_MAGIC, 4) != 0)
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "not a ranker blob (bad magic)");
        if ((unsigned)ltrr_ranker_le_get(buf + 4, 2) != RK_FORMAT)
                return ltrr_errf(LTRR_ERR_SCHEMA, errstr, errstr_size,
                                 "ranker blob format %u, expected %d",
                                 (unsigned)ltrr_ranker_le_get(buf + 4, 2), RK_FORMAT);
        if ((unsigned)ltrr_ranker_le_get(buf + 6, 2) != LTRR_RANKER_LAYOUT_VERSION ||
            (unsigned)ltrr_ranker_le_get(buf + 8, 2) != LTRR_RANKER_NFEAT)
                return ltrr_errf(LTRR_ERR_SCHEMA, errstr, errstr_size,
                                 "feature layout %u/%u features, expected "
                                 "%d/%d", (unsigned)ltrr_ranker_le_get(buf + 6, 2),
                                 (unsigned)ltrr_ranker_le_get(buf + 8, 2),
                                 LTRR_RANKER_LAYOUT_VERSION,
                                 LTRR_RANKER_NFEAT);
        if (len < LTRR_RANKER_BLOB_SIZE)
                return ltrr_errf(LTRR_ERR_TRUNCATED, errstr, errstr_size,
                                 "ranker blob of %zu bytes, expected %d",
                                 len, LTRR_RANKER_BLOB_SIZE);
        if (len > LTRR_RANKER_BLOB_SIZE)
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "%zu trailing bytes after ranker blob",
                                 len - LTRR_RANKER_BLOB_SIZE);
        if (rk_fnv1a(RK_FNV_INIT, buf, body) != ltrr_ranker_le_get(buf + body, 8))
                return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                 "ranker blob checksum mismatch");
        return LTRR_OK;
}

/* Checks learning state loaded from outside and derives the weights. */
static ltrr_err_t rk_state_check(ltrr_ranker_t *rk, char *errstr,
                                 size_t errstr_size)
{
        int i;

        if (ltrr_ranker_params_check(&rk->params, errstr, errstr_size))
                return LTRR_ERR_CORRUPT;
        for (i = 0; i < LTRR_RANKER_NFEAT; i++)
                if (!isfinite(rk->z[i]) || !isfinite(rk->n[i]) ||
                    rk->n[i] < 0)
                        return ltrr_errf(LTRR_ERR_CORRUPT, errstr,
                                         errstr_size,
                                         "feature %s: bad z or n",
                                         ltrr_ranker_fdescs[i].name);
        ltrr_ranker_weights_refresh(rk);
        return LTRR_OK;
}

ltrr_ranker_t *ltrr_ranker_deserialize(const uint8_t *buf, size_t len,
                                       ltrr_err_t *err, char *errstr,
                                       size_t errstr_size)
{
        const uint8_t *p = buf + RK_HEADER_SIZE;
        ltrr_ranker_t *rk = NULL;
        ltrr_err_t e;
        size_t i;

        e = rk_blob_check(buf, len, errstr, errstr_size);
        if (e)
                goto err;
        rk = calloc(1, sizeof(*rk));
        if (!rk) {
                e = ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                              "out of memory allocating ranker");
                goto err;
        }
        rk->counter = ltrr_ranker_le_get(buf + 16, 8);
        for (i = 0; i < RK_NPARAMS; i++)
                *rk_param(&rk->params, i) = rk_get_f64(buf + 32 + 8 * i);
        for (i = 0; i < LTRR_RANKER_NFEAT; i++, p += 16) {
                rk->z[i] = rk_get_f64(p);
                rk->n[i] = rk_get_f64(p + 8);
        }
        e = rk_state_check(rk, errstr, errstr_size);
        if (e)
                goto err;
        if (rk_hash(rk) != ltrr_ranker_le_get(buf + 24, 8)) {
                e = ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                              "weights do not match their hash");
                goto err;
        }
        if (err)
                *err = LTRR_OK;
        return rk;
err:
        ltrr_ranker_destroy(rk);
        if (err)
                *err = e;
        return NULL;
}

ltrr_err_t ltrr_ranker_to_text(const ltrr_ranker_t *rk, char *buf,
                               size_t size)
{
        ltrr_ranker_params_t prm = rk->params;
        size_t off = 0, i;

        if (!buf || size == 0)
                return LTRR_ERR_NOSPACE;
        if (ltrr_ranker_append(buf, size, &off,
                               "ltrr-ranker %d\nlayout %d\nnfeat %d\n"
                               "version %llu\nhash %016llx\n",
                               RK_FORMAT, LTRR_RANKER_LAYOUT_VERSION,
                               LTRR_RANKER_NFEAT,
                               (unsigned long long)rk->counter,
                               (unsigned long long)rk_hash(rk)) < 0)
                return LTRR_ERR_NOSPACE;
        for (i = 0; i < RK_NPARAMS; i++)
                if (ltrr_ranker_append(buf, size, &off, "%s %.17g\n",
                                       rk_pfields[i].name,
                                       *rk_param(&prm, i)) < 0)
                        return LTRR_ERR_NOSPACE;
        for (i = 0; i < LTRR_RANKER_NFEAT; i++)
                if (ltrr_ranker_append(buf, size, &off,
                                       "feature %s %.9g %.17g %.17g\n",
                                       ltrr_ranker_fdescs[i].name,
                                       (double)rk->w[i], rk->z[i],
                                       rk->n[i]) < 0)
                        return LTRR_ERR_NOSPACE;
        return LTRR_OK;
}

/* Reader of the text form: one line at a time, blank lines and
 * comments skipped. */
typedef struct rk_cursor_s {
        const char *p;          /* rest of the text */
        int lineno;             /* number of the current line */
        int keep;               /* 1: the next read returns this line again */
        char line[RK_LINE_MAX]; /* current line, NUL-terminated */
        char key[32];           /* its first word */
        const char *val;        /* the rest of the line after the key */
} rk_cursor_t;

/* Moves to the next line; returns 1, 0 at the end, -1 if too long. */
static int rk_next(rk_cursor_t *c)
{
        const char *nl;
        size_t len;
        int off;

        if (c->keep) {
                c->keep = 0;
                return 1;
        }
        for (; *c->p; c->p = *nl ? nl + 1 : nl) {
                nl = strchr(c->p, '\n');
                nl = nl ? nl : c->p + strlen(c->p);
                len = (size_t)(nl - c->p);
                c->lineno++;
                if (len >= sizeof(c->line))
                        return -1;
                memcpy(c->line, c->p, len);
                c->line[len] = '\0';
                off = 0;
                if (len == 0 || c->line[0] == '#' ||
                    sscanf(c->line, "%31s %n", c->key, &off) != 1)
                        continue;
                c->val = c->line + off;
                c->p = *nl ? nl + 1 : nl;
                return 1;
        }
        return 0;
}

/* Reads the next line, which must start with @key and hold one value
 * matching @fmt (stored in @dst). */
static ltrr_err_t rk_expect(rk_cursor_t *c, const char *key, const char *fmt,
                            void *dst, char *errstr, size_t errstr_size)
{
        int r = rk_next(c);

        if (r < 0)
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "line %d longer than %d", c->lineno,
                                 RK_LINE_MAX - 1);
        if (r == 0 || strcmp(c->key, key) != 0 || sscanf(c->val, fmt, dst) != 1)
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "line %d: expected '%s' and a value",
                                 c->lineno, key);
        return LTRR_OK;
}

/* Parses the header: format, layout, version, optional hash, params. */
static ltrr_err_t rk_text_header(rk_cursor_t *c, ltrr_ranker_t *rk,
                                 int *have_hash, unsigned long long *hash,
                                 char *errstr, size_t errstr_size)
{
        unsigned fmt, layout, nfeat;
        unsigned long long ver;
        size_t i;
        int r;

        if (rk_expect(c, "ltrr-ranker", "%u", &fmt, errstr, errstr_size) ||
            rk_expect(c, "layout", "%u", &layout, errstr, errstr_size) ||
            rk_expect(c, "nfeat", "%u", &nfeat, errstr, errstr_size) ||
            rk_expect(c, "version", "%llu", &ver, errstr, errstr_size))
                return LTRR_ERR_PARSE;
        if (fmt != RK_FORMAT || layout != LTRR_RANKER_LAYOUT_VERSION ||
            nfeat != LTRR_RANKER_NFEAT)
                return ltrr_errf(LTRR_ERR_SCHEMA, errstr, errstr_size,
                                 "text format %u, layout %u, %u features; "
                                 "expected %d, %d, %d", fmt, layout, nfeat,
                                 RK_FORMAT, LTRR_RANKER_LAYOUT_VERSION,
                                 LTRR_RANKER_NFEAT);
        rk->counter = ver;
        r = rk_next(c); /* an optional hash line */
        *have_hash = r > 0 && strcmp(c->key, "hash") == 0;
        c->keep = r > 0 && !*have_hash;
        if (r < 0 || (*have_hash && sscanf(c->val, "%llx", hash) != 1))
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "line %d: bad or over-long line", c->lineno);
        for (i = 0; i < RK_NPARAMS; i++)
                if (rk_expect(c, rk_pfields[i].name, "%lf",
                              rk_param(&rk->params, i), errstr, errstr_size))
                        return LTRR_ERR_PARSE;
        return LTRR_OK;
}

/* Parses the feature lines, which follow the layout table's order. */
static ltrr_err_t rk_text_features(rk_cursor_t *c, ltrr_ranker_t *rk,
                                   char *errstr, size_t errstr_size)
{
        char name[64];
        double w;
        int i;

        for (i = 0; i < LTRR_RANKER_NFEAT; i++) {
                if (rk_next(c) <= 0 || strcmp(c->key, "feature") != 0 ||
                    sscanf(c->val, "%63s %lf %lf %lf", name, &w, &rk->z[i],
                           &rk->n[i]) != 4)
                        return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                         "line %d: expected 'feature %s W "
                                         "Z N'", c->lineno,
                                         ltrr_ranker_fdescs[i].name);
                if (strcmp(name, ltrr_ranker_fdescs[i].name) != 0)
                        return ltrr_errf(LTRR_ERR_SCHEMA, errstr, errstr_size,
                                         "line %d: feature '%s' where layout "
                                         "%d has '%s'", c->lineno, name,
                                         LTRR_RANKER_LAYOUT_VERSION,
                                         ltrr_ranker_fdescs[i].name);
        }
        if (rk_next(c) != 0)
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "line %d: text after the last feature",
                                 c->lineno);
        return LTRR_OK;
}

ltrr_ranker_t *ltrr_ranker_from_text(const char *text, ltrr_err_t *err,
                                     char *errstr, size_t errstr_size)
{
        unsigned long long hash = 0;
        rk_cursor_t c = {.p = text};
        ltrr_ranker_t *rk;
        int have_hash = 0;
        ltrr_err_t e;

        rk = calloc(1, sizeof(*rk));
        if (!rk) {
                e = ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                              "out of memory allocating ranker");
                goto err;
        }
        e = rk_text_header(&c, rk, &have_hash, &hash, errstr, errstr_size);
        if (!e)
                e = rk_text_features(&c, rk, errstr, errstr_size);
        if (!e)
                e = rk_state_check(rk, errstr, errstr_size);
        if (!e && have_hash && hash != rk_hash(rk))
                e = ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                              "weights do not match hash %016llx", hash);
        if (e)
                goto err;
        if (err)
                *err = LTRR_OK;
        return rk;
err:
        ltrr_ranker_destroy(rk);
        if (err)
                *err = e;
        return NULL;
}
