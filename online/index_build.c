/*
 * ltrr - index builder: analyzes a catalog and writes the index file.
 *
 * One pass over the catalog analyzes the four fields of each entity,
 * interns each stem in a hash table and appends one (term, entity,
 * per-field tf) record per distinct term of the entity. A counting sort
 * by term then groups the postings (entity order is kept, so each list is
 * ascending), and the dictionary is written in byte order for binary
 * search. Memory is about 20 bytes per posting plus the string pool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arm.h"
#include "arm_artents.h"
#include "index_int.h"
#include "text.h"

/** Tokens analyzed per field; longer fields are cut. */
#define BUILD_TOKENS_MAX 4096
/** Entities between two progress calls. */
#define BUILD_PROGRESS_EVERY 65536

/* A posting before grouping: term id, entity and per-field tf. */
typedef struct raw_post_s {
        uint32_t tid;                  /* term id (first-seen order) */
        uint32_t doc;                  /* entity index */
        uint8_t tf[LTRR_INDEX_FIELDS]; /* occurrences per field */
} raw_post_t;

/* Growable byte buffer. */
typedef struct bbuf_s {
        char *p;    /* bytes */
        size_t len; /* used */
        size_t cap; /* allocated */
} bbuf_t;

/* Builder state. */
typedef struct builder_s {
        const ltrr_catalog_t *cat;   /* input */
        ltrr_analyzer_t *an;         /* analyzer */
        ltrr_tokbuf_t tb;            /* token output */
        ltrr_token_t *toks;          /* tb storage */
        char *arena;                 /* tb storage */
        int stopwords;               /* drop stop words */
        const ltrr_index_build_conf_t *conf; /* options, or NULL */
        char lang[LTRR_INDEX_LANG_MAX + 1]; /* analyzer language */
        bbuf_t termstr;              /* term bytes, first-seen order */
        uint32_t *term_off;          /* per term: offset in termstr */
        uint32_t *term_len;          /* per term: bytes */
        uint32_t *term_df;           /* per term: postings */
        uint32_t *term_last;         /* per term: last entity + 1 */
        uint32_t *term_slot;         /* per term: raw_post of last entity */
        uint32_t term_cnt;           /* terms */
        uint32_t term_cap;           /* allocated per-term entries */
        uint32_t *hash;              /* open addressing: tid + 1, 0 empty */
        uint32_t hash_cap;           /* power of two */
        raw_post_t *raw;             /* postings in entity order */
        size_t raw_cnt;              /* used */
        size_t raw_cap;              /* allocated */
        bbuf_t strings;              /* string pool */
        bbuf_t scratch;              /* artist names joined */
        ltrr_index_ent_t *ents;      /* per entity */
        ltrr_index_feat_t *feats;    /* per entity */
        ltrr_index_flen_t *flens;    /* per entity */
        uint64_t *namehash;          /* per entity: name token hash sum */
        double lensum[LTRR_INDEX_FIELDS]; /* sum of field lengths */
        ltrr_index_blkhdr_t bound;   /* w and b of the score bounds */
        float inv[LTRR_INDEX_FIELDS];   /* b / avglen per field */
        float one_b[LTRR_INDEX_FIELDS]; /* 1 - b per field */
} builder_t;

/* Lucene's English stop set, which Elasticsearch's "english" analyzer
 * uses; sorted for bsearch. */
static const char *const stop_words[] = {
    "a",    "an",    "and",  "are",  "as",    "at",    "be",   "but",
    "by",   "for",   "if",   "in",   "into",  "is",    "it",   "no",
    "not",  "of",    "on",   "or",   "such",  "that",  "the",  "their",
    "then", "there", "these", "they", "this", "to",    "was",  "will",
    "with"};

int ltrr_index_is_stopword(const char *norm, size_t len)
{
        size_t lo = 0, hi = sizeof(stop_words) / sizeof(stop_words[0]);
        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                const char *w = stop_words[mid];
                size_t wl = strlen(w), m = wl < len ? wl : len;
                int c = memcmp(w, norm, m);
                if (!c)
                        c = wl < len ? -1 : wl > len;
                if (!c)
                        return 1;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return 0;
}

/* Grows *pp (of *capp elements of @p size) to hold @p need. 0 or -1. */
static int grow(void **pp, size_t *capp, size_t need, size_t size)
{
        if (need <= *capp)
                return 0;
        size_t cap = *capp ? *capp : 1024;
        while (cap < need)
                cap *= 2;
        void *p = realloc(*pp, cap * size);
        if (!p)
                return -1;
        *pp = p;
        *capp = cap;
        return 0;
}

/* Appends @p len bytes and a NUL to @p b; returns the offset or -1. */
static int64_t bbuf_add(bbuf_t *b, const char *s, size_t len)
{
        void *p = b->p;
        if (grow(&p, &b->cap, b->len + len + 1, 1))
                return -1;
        b->p = p;
        int64_t off = (int64_t)b->len;
        memcpy(b->p + b->len, s, len);
        b->p[b->len + len] = '\0';
        b->len += len + 1;
        return off;
}

/* Grows every per-term array to @p need entries. 0 or -1. */
static int terms_grow(builder_t *b, uint32_t need)
{
        if (need <= b->term_cap)
                return 0;
        size_t cap = b->term_cap ? (size_t)b->term_cap * 2 : 4096;
        uint32_t **arrs[] = {&b->term_off, &b->term_len, &b->term_df,
                             &b->term_last, &b->term_slot};
        for (size_t i = 0; i < sizeof(arrs) / sizeof(arrs[0]); i++) {
                uint32_t *p = realloc(*arrs[i], cap * sizeof(uint32_t));
                if (!p)
                        return -1;
                *arrs[i] = p;
        }
        b->term_cap = (uint32_t)cap;
        return 0;
}

/* Doubles the hash table and reinserts every term. 0 or -1. */
static int hash_grow(builder_t *b)
{
        uint32_t cap = b->hash_cap ? b->hash_cap * 2 : 1u << 16;
        uint32_t *h = calloc(cap, sizeof(*h));
        if (!h)
                return -1;
        for (uint32_t t = 0; t < b->term_cnt; t++) {
                uint32_t i = ltrr_text_hash32(b->termstr.p + b->term_off[t],
                                              b->term_len[t]) & (cap - 1);
                while (h[i])
                        i = (i + 1) & (cap - 1);
                h[i] = t + 1;
        }
        free(b->hash);
        b->hash = h;
        b->hash_cap = cap;
        return 0;
}

/* Returns the id of term @p s, adding it if new; -1 on out of memory. */
static int64_t term_intern(builder_t *b, const char *s, size_t len)
{
        if ((uint64_t)b->term_cnt * 2 >= b->hash_cap && hash_grow(b))
                return -1;
        uint32_t mask = b->hash_cap - 1;
        uint32_t i = ltrr_text_hash32(s, len) & mask;
        for (; b->hash[i]; i = (i + 1) & mask) {
                uint32_t t = b->hash[i] - 1;
                if (b->term_len[t] == len &&
                    memcmp(b->termstr.p + b->term_off[t], s, len) == 0)
                        return t;
        }
        if (terms_grow(b, b->term_cnt + 1))
                return -1;
        int64_t off = bbuf_add(&b->termstr, s, len);
        if (off < 0 || off > UINT32_MAX)
                return -1;
        uint32_t t = b->term_cnt++;
        b->term_off[t] = (uint32_t)off;
        b->term_len[t] = (uint32_t)len;
        b->term_df[t] = 0;
        b->term_last[t] = 0;
        b->hash[i] = t + 1;
        return t;
}

/* Counts one occurrence of term @p t in field @p f of entity @p doc. */
static int post_add(builder_t *b, uint32_t t, uint32_t doc, int f)
{
        if (b->term_last[t] != doc + 1) {
                void *p = b->raw;
                if (grow(&p, &b->raw_cap, b->raw_cnt + 1, sizeof(raw_post_t)))
                        return -1;
                b->raw = p;
                raw_post_t *r = &b->raw[b->raw_cnt];
                memset(r, 0, sizeof(*r));
                r->tid = t;
                r->doc = doc;
                b->term_last[t] = doc + 1;
                b->term_slot[t] = (uint32_t)b->raw_cnt++;
                b->term_df[t]++;
        }
        uint8_t *tf = &b->raw[b->term_slot[t]].tf[f];
        if (*tf < LTRR_INDEX_TF_MAX)
                (*tf)++;
        return 0;
}

/* Analyzes @p text into field @p f of entity @p doc. */
static ltrr_err_t index_field(builder_t *b, uint32_t doc, int f,
                              const char *text, char *errstr,
                              size_t errstr_size)
{
        size_t len = text ? strlen(text) : 0, n = 0;
        if (len == 0)
                return LTRR_OK;
        ltrr_err_t err = ltrr_analyzer_analyze(b->an, text, len, &b->tb,
                                               errstr, errstr_size);
        if (err)
                return err;
        for (size_t i = 0; i < b->tb.cnt; i++) {
                const ltrr_token_t *tk = &b->tb.toks[i];
                if (b->stopwords &&
                    ltrr_index_is_stopword(tk->norm, tk->norm_len))
                        continue;
                if (f == LTRR_INDEX_FIELD_NAME)
                        b->namehash[doc] +=
                            ltrr_index_name_hash(tk->stem, tk->stem_len);
                int64_t t = term_intern(b, tk->stem, tk->stem_len);
                if (t < 0 || post_add(b, (uint32_t)t, doc, f))
                        return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                         "out of memory indexing entity %u",
                                         doc);
                n++;
        }
        if (n > LTRR_INDEX_FIELDLEN_MAX)
                n = LTRR_INDEX_FIELDLEN_MAX;
        b->flens[doc].len[f] = (uint16_t)n;
        b->lensum[f] += (double)n;
        return LTRR_OK;
}

/* Joins the artist names of @p e with ", " into b->scratch. */
static int join_artists(builder_t *b, const ltrr_entity_t *e)
{
        b->scratch.len = 0;
        if (bbuf_add(&b->scratch, "", 0) < 0)
                return -1;
        b->scratch.len = 0;
        for (uint32_t i = 0; i < e->artists_cnt; i++) {
                const char *a = ltrr_catalog_sym_name(
                    b->cat, LTRR_CATALOG_SYM_ARTIST, e->artists[i]);
                if (!a)
                        continue;
                if (b->scratch.len && bbuf_add(&b->scratch, ", ", 2) < 0)
                        return -1;
                if (b->scratch.len)
                        b->scratch.len--; /* drop the NUL between parts */
                if (bbuf_add(&b->scratch, a, strlen(a)) < 0)
                        return -1;
                b->scratch.len--;
        }
        b->scratch.p[b->scratch.len] = '\0';
        return 0;
}

/* Stores @p s (NULL = "") in the pool and returns its offset, or -1. */
static int64_t pool_add(builder_t *b, const char *s)
{
        if (!s || !*s)
                return 0; /* the pool starts with "" */
        int64_t off = bbuf_add(&b->strings, s, strlen(s));
        return off > (int64_t)UINT32_MAX ? -1 : off;
}

/* Copies entity @p doc's strings and numbers into the tables. */
static ltrr_err_t store_entity(builder_t *b, uint32_t doc,
                               const ltrr_entity_t *e, char *errstr,
                               size_t errstr_size)
{
        int64_t o[5] = {pool_add(b, e->id), pool_add(b, e->name),
                        pool_add(b, b->scratch.p), pool_add(b, e->album),
                        pool_add(b, e->description)};
        for (int i = 0; i < 5; i++)
                if (o[i] < 0)
                        return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                         "string pool past 4 GiB or out of "
                                         "memory at entity %u", doc);
        ltrr_index_ent_t *r = &b->ents[doc];
        r->id = (uint32_t)o[0];
        r->name = (uint32_t)o[1];
        r->artists = (uint32_t)o[2];
        r->album = (uint32_t)o[3];
        r->description = (uint32_t)o[4];
        r->reserved = 0;
        ltrr_index_feat_t *f = &b->feats[doc];
        memset(f, 0, sizeof(*f));
        f->popularity = e->popularity;
        f->release_days = e->release_days;
        f->duration_ms = e->duration_ms;
        f->type = (uint8_t)e->type;
        f->release_prec = (uint8_t)e->release_prec;
        memcpy(f->lang, e->language, 2);
        return LTRR_OK;
}

/* Indexes entity @p doc of the catalog. */
static ltrr_err_t index_entity(builder_t *b, uint32_t doc, char *errstr,
                               size_t errstr_size)
{
        ltrr_entity_t e;
        ltrr_err_t err = ltrr_catalog_get(b->cat, doc, &e);
        if (err)
                return ltrr_errf(err, errstr, errstr_size,
                                 "catalog entity %u unreadable", doc);
        if (join_artists(b, &e))
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "out of memory");
        memset(&b->flens[doc], 0, sizeof(b->flens[doc]));
        b->namehash[doc] = 0;
        if ((err = index_field(b, doc, LTRR_INDEX_FIELD_NAME, e.name, errstr,
                               errstr_size)) ||
            (err = index_field(b, doc, LTRR_INDEX_FIELD_ARTIST, b->scratch.p,
                               errstr, errstr_size)) ||
            (err = index_field(b, doc, LTRR_INDEX_FIELD_ALBUM, e.album, errstr,
                               errstr_size)) ||
            (err = index_field(b, doc, LTRR_INDEX_FIELD_DESCRIPTION,
                               e.description, errstr, errstr_size)))
                return err;
        return store_entity(b, doc, &e, errstr, errstr_size);
}

/* Frees everything the builder owns; safe on a partly set up builder. */
static void builder_clear(builder_t *b)
{
        ltrr_analyzer_destroy(b->an);
        free(b->toks);
        free(b->arena);
        free(b->termstr.p);
        free(b->term_off);
        free(b->term_len);
        free(b->term_df);
        free(b->term_last);
        free(b->term_slot);
        free(b->hash);
        free(b->raw);
        free(b->strings.p);
        free(b->scratch.p);
        free(b->ents);
        free(b->feats);
        free(b->flens);
        free(b->namehash);
}

/* Sets the bound parameters from @p conf (all zero: arm defaults). */
static void bound_init(builder_t *b, const ltrr_index_build_conf_t *conf)
{
        ltrr_bm25f_t d;
        int given = 0;
        ltrr_bm25f_defaults(&d);
        for (int f = 0; conf && f < LTRR_INDEX_FIELDS; f++)
                given |= conf->bound_w[f] != 0 || conf->bound_b[f] != 0;
        memcpy(b->bound.w, given ? conf->bound_w : d.w, sizeof(b->bound.w));
        memcpy(b->bound.b, given ? conf->bound_b : d.b, sizeof(b->bound.b));
}

/* Allocates the analyzer and per-entity tables of builder @p b. */
static ltrr_err_t builder_init(builder_t *b, const ltrr_catalog_t *cat,
                               const ltrr_index_build_conf_t *conf,
                               char *errstr, size_t errstr_size)
{
        uint32_t n = ltrr_catalog_count(cat);
        const char *lang = conf && conf->lang ? conf->lang : "en";
        memset(b, 0, sizeof(*b));
        b->cat = cat;
        b->stopwords = conf ? conf->stopwords : 0;
        b->conf = conf;
        bound_init(b, conf);
        if (conf && (conf->extra_cnt > LTRR_INDEX_EXTRA_MAX ||
                     (conf->extra_cnt && !conf->extra)))
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "bad extra sections");
        for (size_t i = 0; conf && i < conf->extra_cnt; i++)
                if (conf->extra[i].kind >= LTRR_INDEX_SEC_META &&
                    conf->extra[i].kind <= LTRR_INDEX_SEC_REQUIRED_MAX)
                        return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr,
                                         errstr_size, "extra section kind "
                                         "%u is a required kind",
                                         conf->extra[i].kind);
        if (strlen(lang) > LTRR_INDEX_LANG_MAX)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "language '%s' too long", lang);
        snprintf(b->lang, sizeof(b->lang), "%s", lang);
        if (!(b->an = ltrr_analyzer_new(lang, errstr, errstr_size)))
                return LTRR_ERR_INVALID_ARG;
        size_t arena = (size_t)BUILD_TOKENS_MAX * 2 *
                       (LTRR_TEXT_TOKEN_BYTES_MAX + 1);
        b->toks = malloc(BUILD_TOKENS_MAX * sizeof(*b->toks));
        b->arena = malloc(arena);
        b->ents = malloc(((size_t)n + 1) * sizeof(*b->ents));
        b->feats = malloc(((size_t)n + 1) * sizeof(*b->feats));
        b->flens = malloc(((size_t)n + 1) * sizeof(*b->flens));
        b->namehash = malloc(((size_t)n + 1) * sizeof(*b->namehash));
        if (!b->toks || !b->arena || !b->ents || !b->feats || !b->flens ||
            !b->namehash ||
            bbuf_add(&b->strings, "", 0) < 0 || hash_grow(b))
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "out of memory");
        ltrr_tokbuf_init(&b->tb, b->toks, BUILD_TOKENS_MAX, b->arena, arena);
        return LTRR_OK;
}

/* ---- writing ----------------------------------------------------------- */

/* Output file with the section table being filled. */
typedef struct writer_s {
        FILE *fp;                 /* output */
        uint64_t pos;             /* bytes written */
        ltrr_index_sec_rec_t secs[LTRR_INDEX_SECTIONS_MAX]; /* table */
        uint32_t sec_cnt;         /* entries in secs */
        int failed;               /* a write failed */
} writer_t;

/* Writes @p len bytes, tracking position and failure. */
static void w_bytes(writer_t *w, const void *p, size_t len)
{
        if (len && fwrite(p, 1, len, w->fp) != len)
                w->failed = 1;
        w->pos += len;
}

/* Starts section @p kind at the next 8-byte boundary. */
static void w_begin(writer_t *w, uint32_t kind)
{
        static const uint8_t zeros[8];
        w_bytes(w, zeros, (8 - w->pos % 8) % 8);
        ltrr_index_sec_rec_t *s = &w->secs[w->sec_cnt];
        memset(s, 0, sizeof(*s));
        s->kind = kind;
        s->offset = w->pos;
}

/* Appends @p len bytes to the open section, updating its CRC. */
static void w_data(writer_t *w, const void *p, size_t len)
{
        ltrr_index_sec_rec_t *s = &w->secs[w->sec_cnt];
        s->crc = ltrr_index_crc32c(s->crc, p, len);
        s->length += len;
        w_bytes(w, p, len);
}

/* Ends the open section. */
static void w_end(writer_t *w) { w->sec_cnt++; }

/* Writes one whole section. */
static void w_section(writer_t *w, uint32_t kind, const void *p, size_t len)
{
        w_begin(w, kind);
        w_data(w, p, len);
        w_end(w);
}

/* qsort_r comparator of term ids by their bytes in builder @p arg. */
static int term_order_cmp(const void *a, const void *b, void *arg)
{
        const builder_t *sort_b = arg;
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
        uint32_t lx = sort_b->term_len[x], ly = sort_b->term_len[y];
        int c = memcmp(sort_b->termstr.p + sort_b->term_off[x],
                       sort_b->termstr.p + sort_b->term_off[y],
                       lx < ly ? lx : ly);
        return c ? c : (lx > ly) - (lx < ly);
}

/* Groups the raw postings by term (a stable counting sort, so entities
 * stay ascending); fills @p first with each term's first posting. */
static ltrr_index_post_t *group_postings(builder_t *b, uint64_t *first)
{
        ltrr_index_post_t *out = malloc((b->raw_cnt + 1) * sizeof(*out));
        if (!out)
                return NULL;
        uint64_t pos = 0;
        for (uint32_t t = 0; t < b->term_cnt; t++) {
                first[t] = pos;
                pos += b->term_df[t];
        }
        /* term_last and term_slot are free now: reuse them as the fill
         * cursor and the per-field largest tf (one byte per field) */
        for (uint32_t t = 0; t < b->term_cnt; t++)
                b->term_last[t] = b->term_slot[t] = 0;
        for (size_t i = 0; i < b->raw_cnt; i++) {
                const raw_post_t *r = &b->raw[i];
                ltrr_index_post_t *p = &out[first[r->tid] +
                                            b->term_last[r->tid]++];
                p->doc = r->doc;
                memcpy(p->tf, r->tf, sizeof(p->tf));
                memcpy(p->len, b->flens[r->doc].len, sizeof(p->len));
                uint8_t mx[LTRR_INDEX_FIELDS];
                memcpy(mx, &b->term_slot[r->tid], sizeof(mx));
                for (int f = 0; f < LTRR_INDEX_FIELDS; f++)
                        if (r->tf[f] > mx[f])
                                mx[f] = r->tf[f];
                memcpy(&b->term_slot[r->tid], mx, sizeof(mx));
        }
        return out;
}

/* tf~ of posting @p p under the bound parameters, computed the way the
 * lexical arm does. */
static float post_tfw(const builder_t *b, const ltrr_index_post_t *p)
{
        const uint16_t *len = p->len;
        float tfw = 0.0f;
        for (int f = 0; f < LTRR_INDEX_FIELDS; f++)
                if (p->tf[f])
                        tfw += b->bound.w[f] * p->tf[f] /
                               (b->one_b[f] + b->inv[f] * len[f]);
        return tfw;
}

/* Summarises @p cnt postings at @p p into one block record. */
static void block_fill(const ltrr_index_post_t *p,
                       uint32_t cnt, ltrr_index_block_t *blk)
{
        memset(blk, 0, sizeof(*blk));
        for (int f = 0; f < LTRR_INDEX_FIELDS; f++)
                blk->minlen[f] = UINT16_MAX;
        for (uint32_t i = 0; i < cnt; i++) {
                float t = p[i].tfw;
                if (t > blk->max_tfw)
                        blk->max_tfw = t;
                for (int f = 0; f < LTRR_INDEX_FIELDS; f++) {
                        uint16_t l = p[i].len[f];
                        if (!p[i].tf[f])
                                continue;
                        if (p[i].tf[f] > blk->maxtf[f])
                                blk->maxtf[f] = p[i].tf[f];
                        if (l < blk->minlen[f])
                                blk->minlen[f] = l;
                }
        }
}

/* Writes the BLOCKS section: header, then each term's blocks in
 * dictionary order. */
static void write_blocks(writer_t *w, const builder_t *b,
                         const uint32_t *order, const uint64_t *first,
                         const ltrr_index_post_t *posts)
{
        w_begin(w, LTRR_INDEX_SEC_BLOCKS);
        w_data(w, &b->bound, sizeof(b->bound));
        for (uint32_t i = 0; i < b->term_cnt; i++) {
                const ltrr_index_post_t *p = &posts[first[order[i]]];
                uint32_t df = b->term_df[order[i]];
                for (uint32_t j = 0; j < df; j += LTRR_INDEX_BLOCK) {
                        ltrr_index_block_t blk;
                        uint32_t cnt = df - j < LTRR_INDEX_BLOCK
                                           ? df - j
                                           : LTRR_INDEX_BLOCK;
                        block_fill(p + j, cnt, &blk);
                        w_data(w, &blk, sizeof(blk));
                }
        }
        w_end(w);
}

/* Fills the dictionary record of term @p t. */
static void term_rec(const builder_t *b, uint32_t t, uint64_t str_off,
                     uint64_t pos, uint64_t blk, const ltrr_index_post_t *p,
                     ltrr_index_term_t *r)
{
        memset(r, 0, sizeof(*r));
        r->str_off = (uint32_t)str_off;
        r->str_len = b->term_len[t];
        r->df = b->term_df[t];
        memcpy(r->maxtf, &b->term_slot[t], sizeof(r->maxtf));
        r->post_off = pos;
        r->block_off = (uint32_t)blk;
        for (uint32_t i = 0; i < r->df; i++) {
                float x = p[i].tfw;
                if (x > r->max_tfw)
                        r->max_tfw = x;
        }
}

/* Writes the dictionary, its bytes, the postings and the blocks in byte
 * order. */
static void write_terms(writer_t *w, const builder_t *b,
                        const uint32_t *order, const uint64_t *first,
                        const ltrr_index_post_t *posts)
{
        uint64_t off = 0, pos = 0, blk = 0;
        w_begin(w, LTRR_INDEX_SEC_TERMSTR);
        for (uint32_t i = 0; i < b->term_cnt; i++)
                w_data(w, b->termstr.p + b->term_off[order[i]],
                       b->term_len[order[i]]);
        w_end(w);
        w_begin(w, LTRR_INDEX_SEC_TERMS);
        for (uint32_t i = 0; i < b->term_cnt; i++) {
                uint32_t t = order[i];
                ltrr_index_term_t r;
                term_rec(b, t, off, pos, blk, &posts[first[t]], &r);
                w_data(w, &r, sizeof(r));
                off += b->term_len[t];
                pos += b->term_df[t];
                blk += (b->term_df[t] + LTRR_INDEX_BLOCK - 1) /
                       LTRR_INDEX_BLOCK;
        }
        w_end(w);
        w_begin(w, LTRR_INDEX_SEC_POSTINGS);
        for (uint32_t i = 0; i < b->term_cnt; i++)
                w_data(w, &posts[first[order[i]]],
                       (size_t)b->term_df[order[i]] * sizeof(*posts));
        w_end(w);
        write_blocks(w, b, order, first, posts);
}

/* Orders name records by hash, then entity. */
static int name_cmp(const void *a, const void *b)
{
        const ltrr_index_name_t *x = a, *y = b;
        if (x->hash != y->hash)
                return x->hash < y->hash ? -1 : 1;
        return (x->doc > y->doc) - (x->doc < y->doc);
}

/* Writes the NAMES section. Returns -1 if out of memory. */
static int write_names(writer_t *w, const builder_t *b, uint32_t n)
{
        ltrr_index_name_t *r = calloc((size_t)n + 1, sizeof(*r));
        if (!r)
                return -1;
        for (uint32_t i = 0; i < n; i++) {
                r[i].hash = b->namehash[i];
                r[i].doc = i;
        }
        qsort(r, n, sizeof(*r), name_cmp);
        w_section(w, LTRR_INDEX_SEC_NAMES, r, (size_t)n * sizeof(*r));
        free(r);
        return 0;
}

/* Writes the per-entity sections and META. */
static void write_entities(writer_t *w, const builder_t *b, uint32_t n)
{
        ltrr_index_meta_t m;
        memset(&m, 0, sizeof(m));
        m.entity_cnt = n;
        m.term_cnt = b->term_cnt;
        m.posting_cnt = b->raw_cnt;
        m.string_bytes = b->strings.len;
        memcpy(m.lang, b->lang, sizeof(b->lang));
        m.flags = b->stopwords ? LTRR_INDEX_META_STOPWORDS : 0;
        for (int f = 0; f < LTRR_INDEX_FIELDS; f++)
                m.avglen[f] = n ? b->lensum[f] / n : 0.0;
        w_section(w, LTRR_INDEX_SEC_META, &m, sizeof(m));
        w_section(w, LTRR_INDEX_SEC_ENTITIES, b->ents,
                  (size_t)n * sizeof(*b->ents));
        w_section(w, LTRR_INDEX_SEC_FEATURES, b->feats,
                  (size_t)n * sizeof(*b->feats));
        w_section(w, LTRR_INDEX_SEC_FIELDLEN, b->flens,
                  (size_t)n * sizeof(*b->flens));
        w_section(w, LTRR_INDEX_SEC_STRINGS, b->strings.p, b->strings.len);
}

/* Writes the header and section table at the start of the file. */
static void write_header(writer_t *w, uint32_t n)
{
        ltrr_index_hdr_t h;
        memset(&h, 0, sizeof(h));
        memcpy(h.magic, LTRR_INDEX_MAGIC, 8);
        h.format_version = LTRR_INDEX_FORMAT_VERSION;
        h.analyzer_version = LTRR_INDEX_ANALYZER_VERSION;
        h.section_cnt = w->sec_cnt;
        h.header_size = LTRR_INDEX_HDR_SIZE;
        h.file_size = w->pos;
        h.entity_cnt = n;
        size_t tab = (size_t)w->sec_cnt * sizeof(w->secs[0]);
        uint32_t c = ltrr_index_crc32c(0, &h, 60);
        h.header_crc = ltrr_index_crc32c(c, w->secs, tab);
        if (fseek(w->fp, 0, SEEK_SET) != 0)
                w->failed = 1;
        if (fwrite(&h, sizeof(h), 1, w->fp) != 1 ||
            fwrite(w->secs, 1, tab, w->fp) != tab)
                w->failed = 1;
}

/* Impact list parameters of @p b's options: *lenp entries per list of
 * terms with more than the returned postings (UINT32_MAX: none). */
static uint32_t impact_params(const builder_t *b, uint32_t *lenp)
{
        uint32_t min_df = b->conf && b->conf->impact_min_df
                              ? b->conf->impact_min_df
                              : LTRR_INDEX_IMPACT_MIN_DF;
        *lenp = b->conf && b->conf->impact_len ? b->conf->impact_len
                                               : LTRR_INDEX_IMPACT_LEN;
        for (uint32_t t = 0; min_df != UINT32_MAX && t < b->term_cnt; t++)
                if (b->term_df[t] > min_df)
                        return min_df;
        return UINT32_MAX;
}

/* Writes the IMPACT, PFXIMPACT and RECENT sections when some term qualifies
 * (impact_params() said so). Returns -1 if out of memory. */
static int write_impact(writer_t *w, const builder_t *b, uint32_t min_df,
                        uint32_t len, const uint32_t *order,
                        const uint64_t *first, const ltrr_index_post_t *posts)
{
        static const uint8_t none[8];
        void *sec = NULL, *pfx = NULL, *rec = NULL;
        size_t bytes = 0, pbytes = 0, rbytes = 0;
        if (min_df == UINT32_MAX)
                return 0;
        ltrr_index_impact_in_t in = {
            .posts = posts, .first = first, .df = b->term_df,
            .order = order, .term_cnt = b->term_cnt,
            .termstr = b->termstr.p, .term_off = b->term_off,
            .term_len = b->term_len, .feats = b->feats,
            .n = ltrr_catalog_count(b->cat), .min_df = min_df, .len = len};
        int rc = ltrr_index_impact_build(&in, &sec, &bytes) != LTRR_OK ||
                 ltrr_index_pfx_build(&in, &pfx, &pbytes) != LTRR_OK ||
                 ltrr_index_recent_build(&in, &rec, &rbytes) != LTRR_OK;
        if (!rc) {
                /* all or none: impact_params() reserved three entries */
                w_section(w, LTRR_INDEX_SEC_IMPACT, sec ? sec : none, bytes);
                w_section(w, LTRR_INDEX_SEC_PFXIMPACT, pfx ? pfx : none,
                          pbytes);
                w_section(w, LTRR_INDEX_SEC_RECENT, rec ? rec : none,
                          rbytes);
        }
        free(sec);
        free(pfx);
        free(rec);
        return rc ? -1 : 0;
}

/* Writes the artist and genre sections of @p a that were derived. */
static void w_artents(writer_t *w, const ltrr_arm_artents_set_t *a)
{
        for (int k = 0; k < 2; k++)
                if (a->p[k])
                        w_section(w, a->kind[k], a->p[k], a->len[k]);
}

/* Writes the whole file from a filled builder to @p fp. */
static ltrr_err_t write_file(builder_t *b, FILE *fp, char *errstr,
                             size_t errstr_size)
{
        uint32_t n = ltrr_catalog_count(b->cat);
        writer_t w;
        ltrr_err_t err = LTRR_OK;
        memset(&w, 0, sizeof(w));
        w.fp = fp;
        size_t extra = b->conf ? b->conf->extra_cnt : 0;
        uint32_t imp_len, imp_min = impact_params(b, &imp_len);
        uint8_t zeros[LTRR_INDEX_HDR_SIZE] = {0};
        ltrr_arm_artents_set_t art;
        if (ltrr_arm_artents_derive(b->conf, &art))
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "out of memory building the artist section");
        w_bytes(&w, zeros, LTRR_INDEX_HDR_SIZE);
        for (size_t i = 0; i < LTRR_INDEX_SEC_REQUIRED_MAX + extra +
                                   (imp_min != UINT32_MAX ? 3 : 0) +
                                   !!art.p[0] + !!art.p[1]; i++)
                /* the table, filled last */
                w_bytes(&w, zeros, LTRR_INDEX_SEC_SIZE);
        uint64_t *first = malloc(((size_t)b->term_cnt + 1) * sizeof(*first));
        uint32_t *order = malloc(((size_t)b->term_cnt + 1) * sizeof(*order));
        ltrr_index_post_t *posts = first ? group_postings(b, first) : NULL;
        if (!first || !order || !posts) {
                err = ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                "out of memory grouping postings");
                goto done;
        }
        free(b->raw);
        b->raw = NULL;
        for (uint32_t t = 0; t < b->term_cnt; t++)
                order[t] = t;
        qsort_r(order, b->term_cnt, sizeof(*order), term_order_cmp, b);
        for (int f = 0; f < LTRR_INDEX_FIELDS; f++) {
                double avg = n ? b->lensum[f] / n : 0.0;
                b->one_b[f] = 1.0f - b->bound.b[f];
                b->inv[f] = avg > 0 ? (float)(b->bound.b[f] / avg) : 0.0f;
        }
        for (size_t i = 0; i < b->raw_cnt; i++)
                posts[i].tfw = post_tfw(b, &posts[i]);
        write_entities(&w, b, n);
        write_terms(&w, b, order, first, posts);
        if (write_names(&w, b, n) ||
            write_impact(&w, b, imp_min, imp_len, order, first, posts))
                w.failed = 1;
        for (size_t i = 0; i < extra; i++)
                w_section(&w, b->conf->extra[i].kind, b->conf->extra[i].data,
                          b->conf->extra[i].len);
        w_artents(&w, &art);
        write_header(&w, n);
        if (w.failed || fflush(fp) != 0)
                err = ltrr_errf(LTRR_ERR_IO, errstr, errstr_size,
                                "writing the index failed");
done:
        ltrr_arm_artents_clear(&art);
        free(posts);
        free(order);
        free(first);
        return err;
}

/* Analyzes every entity of the catalog into builder @p b. */
static ltrr_err_t build_all(builder_t *b, const ltrr_index_build_conf_t *conf,
                            char *errstr, size_t errstr_size)
{
        uint32_t n = ltrr_catalog_count(b->cat);
        for (uint32_t doc = 0; doc < n; doc++) {
                ltrr_err_t err = index_entity(b, doc, errstr, errstr_size);
                if (err)
                        return err;
                if (b->raw_cnt > UINT32_MAX)
                        return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                         "more than 2^32 postings");
                if (conf && conf->progress &&
                    (doc % BUILD_PROGRESS_EVERY == 0 || doc + 1 == n))
                        conf->progress(conf->opaque, "analyze", doc + 1, n);
        }
        return LTRR_OK;
}

ltrr_err_t ltrr_index_build(const ltrr_catalog_t *cat,
                            const ltrr_index_build_conf_t *conf,
                            const char *path, char *errstr,
                            size_t errstr_size)
{
        builder_t b;
        char tmp[4096];
        FILE *fp = NULL;
        ltrr_err_t err;
        if (!cat || !path)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "no catalog or output path");
        if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "output path too long");
        if ((err = builder_init(&b, cat, conf, errstr, errstr_size)) ||
            (err = build_all(&b, conf, errstr, errstr_size)))
                goto done;
        if (!(fp = fopen(tmp, "wb"))) {
                err = ltrr_errf(LTRR_ERR_IO, errstr, errstr_size,
                                "cannot create %s", tmp);
                goto done;
        }
        if ((err = write_file(&b, fp, errstr, errstr_size)))
                goto done;
        int rc = fclose(fp);
        fp = NULL;
        if (rc != 0 || rename(tmp, path) != 0)
                err = ltrr_errf(LTRR_ERR_IO, errstr, errstr_size,
                                "cannot complete %s", path);
done:
        if (fp)
                fclose(fp);
        if (err)
                remove(tmp);
        builder_clear(&b);
        return err;
}
