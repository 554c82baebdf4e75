/*
 * ltrr - query understanding dictionaries: build one from a catalog and
 * the built-in word tables (entity types, decades, languages), and lay it
 * out as the flat blob described in qu_int.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qu_int.h"

/* Tokens analyzed per entity name when counting title frequencies. */
#define QU_TITLE_TOKENS 64

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
        b->tinfo[b->ntok] = (uint32_t)(ltrr_qu_cps_count(s, len) > 255
                                           ? 255 : ltrr_qu_cps_count(s, len));
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
                nh = ltrr_qu_deletes(b->tpool + o, l, k, tmp, QU_DELS_PER_TOK);
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
                        if (!(p = ltrr_qu_phr_find(b->phr, b->nphr, key)))
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
        ltrr_qu_layout(h, off, &total);
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
        ltrr_qu_attach(d);
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
