/*
 * ltrr - the catalog: an append-only, arena-backed entity store.
 *
 * Layout: every string is NUL-terminated in one arena (offset 0 holds the
 * empty string, meaning "none"); each entity is a fixed 48-byte record;
 * its artists, genres, subgenres and moods are consecutive slices of one
 * shared array of 32-bit symbols; ids and symbol tables are found through
 * open-addressing hash tables of 32-bit slots.
 */
#include "catalog.h"

#include <stdlib.h>
#include <string.h>

#define CAT_LISTS 4               /* artists, genres, subgenres, moods */
#define CAT_ARENA_MAX UINT32_MAX  /* offsets are 32-bit */
#define CAT_COUNT_MAX (UINT32_MAX - 1)

/* One stored entity; strings are arena offsets, 0 meaning none. */
struct cat_ent {
        uint32_t id;              /* arena offset of the id */
        uint32_t name;            /* arena offset of the name */
        uint32_t album;           /* arena offset, 0 if none */
        uint32_t desc;            /* arena offset, 0 if none */
        uint32_t refs;            /* first symbol in cat->refs */
        uint32_t vec;             /* vector slot, UINT32_MAX if none */
        int32_t release_days;     /* days since epoch */
        uint32_t duration_ms;     /* or LTRR_CATALOG_DURATION_UNKNOWN */
        float popularity;         /* negative if unknown */
        uint16_t lang;            /* two ASCII letters, 0 if unknown */
        uint8_t type;             /* ltrr_entity_type_t */
        uint8_t prec;             /* ltrr_date_prec_t */
        uint8_t cnt[CAT_LISTS];   /* list lengths, in list order */
};

/* Open-addressing hash table whose slots hold item + 1 (0 = empty). */
struct htab {
        uint32_t *slots;          /* mask + 1 slots */
        uint32_t mask;            /* slot count - 1, a power of two minus 1 */
        uint32_t used;            /* occupied slots */
};

/* An interned string table. */
struct symtab {
        uint32_t *str;            /* arena offset of each symbol */
        uint32_t *aid;            /* artist table only: id offset or 0 */
        uint32_t cnt;             /* symbols */
        uint32_t cap;             /* allocated entries of str/aid */
        struct htab ht;           /* name -> symbol */
};

struct ltrr_catalog_s {
        char *arena;              /* all strings */
        size_t arena_len;         /* bytes used */
        size_t arena_cap;         /* bytes allocated */
        struct cat_ent *ents;     /* cnt entities */
        uint32_t cnt;             /* entities */
        uint32_t cap;             /* allocated entities */
        uint32_t *refs;           /* list symbols of all entities */
        size_t refs_len;          /* entries used */
        size_t refs_cap;          /* entries allocated */
        float *vecs;              /* vec_cnt * dim floats */
        uint32_t vec_cnt;         /* vectors stored */
        uint32_t vec_cap;         /* vectors allocated */
        uint32_t dim;             /* floats per vector, 0 = none */
        uint64_t dups;            /* adds refused for a duplicate id */
        struct htab ids;          /* id -> entity */
        struct symtab syms[LTRR_CATALOG_SYM__CNT];
};

static const char *const type_names[LTRR_ENTITY__CNT] = {
        "track", "artist", "album", "podcast", "episode", "playlist"};

/* FNV-1a, 32-bit. */
static uint32_t str_hash(const char *s)
{
        uint32_t h = 2166136261u;

        for (; *s; s++)
                h = (h ^ (uint8_t)*s) * 16777619u;
        return h;
}

/* Grows *p (n entries of size sz, capacity *cap) to hold need entries by
 * doubling. Returns 0, or -1 if memory ran out (nothing changed). */
static int grow(void **p, size_t *cap, size_t need, size_t sz)
{
        size_t ncap = *cap ? *cap : 16;
        void *np;

        if (need <= *cap)
                return 0;
        while (ncap < need)
                ncap *= 2;
        np = realloc(*p, ncap * sz);
        if (!np)
                return -1;
        *p = np;
        *cap = ncap;
        return 0;
}

/* Returns the key string of hash item @item for table @ht. */
typedef const char *(htab_key_fn)(const ltrr_catalog_t *cat,
                                  const void *owner, uint32_t item);

static const char *ent_key(const ltrr_catalog_t *cat, const void *owner,
                           uint32_t item)
{
        return cat->arena + cat->ents[item].id;
}

static const char *sym_key(const ltrr_catalog_t *cat, const void *owner,
                           uint32_t item)
{
        const struct symtab *st = owner;

        return cat->arena + st->str[item];
}

/* Returns the slot where @key is or would go. */
static uint32_t htab_slot(const ltrr_catalog_t *cat, const struct htab *ht,
                          htab_key_fn *key, const void *owner, const char *s,
                          uint32_t h)
{
        uint32_t i = h & ht->mask;

        while (ht->slots[i] &&
               strcmp(key(cat, owner, ht->slots[i] - 1), s) != 0)
                i = (i + 1) & ht->mask;
        return i;
}

/* Finds @s; returns its item or UINT32_MAX. */
static uint32_t htab_find(const ltrr_catalog_t *cat, const struct htab *ht,
                          htab_key_fn *key, const void *owner, const char *s)
{
        uint32_t i;

        if (!ht->slots)
                return UINT32_MAX;
        i = htab_slot(cat, ht, key, owner, s, str_hash(s));
        return ht->slots[i] ? ht->slots[i] - 1 : UINT32_MAX;
}

/* Makes room for one more item, keeping the load at most 3/4, rehashing
 * the @n existing items. Returns LTRR_OK or LTRR_ERR_NOMEM. */
static ltrr_err_t htab_reserve(const ltrr_catalog_t *cat, struct htab *ht,
                               htab_key_fn *key, const void *owner,
                               uint32_t n)
{
        struct htab nt;
        uint64_t size;
        uint32_t it, i;

        if (ht->slots && (uint64_t)(ht->used + 1) * 4 <= (uint64_t)ht->mask * 3)
                return LTRR_OK;
        size = ht->slots ? ((uint64_t)ht->mask + 1) * 2 : 64;
        if (size > ((uint64_t)1 << 31))
                return LTRR_ERR_NOMEM;
        nt.slots = calloc(size, sizeof(*nt.slots));
        if (!nt.slots)
                return LTRR_ERR_NOMEM;
        nt.mask = (uint32_t)(size - 1);
        nt.used = n;
        for (it = 0; it < n; it++) {
                const char *s = key(cat, owner, it);

                i = str_hash(s) & nt.mask;
                while (nt.slots[i])
                        i = (i + 1) & nt.mask;
                nt.slots[i] = it + 1;
        }
        free(ht->slots);
        *ht = nt;
        return LTRR_OK;
}

/* Copies @s (len bytes) into the arena; returns its offset in *off. */
static ltrr_err_t arena_put(ltrr_catalog_t *cat, const char *s, size_t len,
                            uint32_t *off)
{
        if (cat->arena_len + len + 1 > CAT_ARENA_MAX)
                return LTRR_ERR_NOSPACE;
        if (grow((void **)&cat->arena, &cat->arena_cap,
                 cat->arena_len + len + 1, 1))
                return LTRR_ERR_NOMEM;
        memcpy(cat->arena + cat->arena_len, s, len);
        cat->arena[cat->arena_len + len] = '\0';
        *off = (uint32_t)cat->arena_len;
        cat->arena_len += len + 1;
        return LTRR_OK;
}

/* Stores an optional string: NULL or "" give offset 0. */
static ltrr_err_t arena_put_opt(ltrr_catalog_t *cat, const char *s,
                                uint32_t *off)
{
        *off = 0;
        if (!s || !*s)
                return LTRR_OK;
        return arena_put(cat, s, strlen(s), off);
}

/* Interns @name in table @t; sets the artist id if @aid is given and the
 * symbol has none yet. Returns LTRR_OK with the symbol in *sym. */
static ltrr_err_t sym_intern(ltrr_catalog_t *cat, ltrr_catalog_sym_t t,
                             const char *name, const char *aid, uint32_t *sym)
{
        struct symtab *st = &cat->syms[t];
        size_t cap = st->cap;
        uint32_t i, off, aoff = 0;
        ltrr_err_t err;

        *sym = htab_find(cat, &st->ht, sym_key, st, name);
        if (*sym != UINT32_MAX) {
                if (aid && *aid && st->aid && st->aid[*sym] == 0 &&
                    arena_put(cat, aid, strlen(aid), &aoff) == LTRR_OK)
                        st->aid[*sym] = aoff;
                return LTRR_OK;
        }
        if (st->cnt >= CAT_COUNT_MAX)
                return LTRR_ERR_NOSPACE;
        if ((err = htab_reserve(cat, &st->ht, sym_key, st, st->cnt)))
                return err;
        if (grow((void **)&st->str, &cap, st->cnt + 1, sizeof(*st->str)))
                return LTRR_ERR_NOMEM;
        if (t == LTRR_CATALOG_SYM_ARTIST) {
                cap = st->cap;
                if (grow((void **)&st->aid, &cap, st->cnt + 1,
                         sizeof(*st->aid)))
                        return LTRR_ERR_NOMEM;
        }
        st->cap = (uint32_t)cap;
        if ((err = arena_put(cat, name, strlen(name), &off)))
                return err;
        if (aid && *aid && (err = arena_put(cat, aid, strlen(aid), &aoff)))
                return err;
        st->str[st->cnt] = off;
        if (st->aid)
                st->aid[st->cnt] = aoff;
        i = htab_slot(cat, &st->ht, sym_key, st, name, str_hash(name));
        st->ht.slots[i] = st->cnt + 1;
        st->ht.used++;
        *sym = st->cnt++;
        return LTRR_OK;
}

void ltrr_entity_in_init(ltrr_entity_in_t *in)
{
        memset(in, 0, sizeof(*in));
        in->release_prec = LTRR_DATE_NONE;
        in->duration_ms = LTRR_CATALOG_DURATION_UNKNOWN;
        in->popularity = -1.0f;
}

ltrr_catalog_t *ltrr_catalog_new(uint32_t dim, char *errstr,
                                 size_t errstr_size)
{
        ltrr_catalog_t *cat;
        uint32_t off;

        if (dim > LTRR_CATALOG_DIM_MAX) {
                ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                          "vector dimension %u exceeds %d", dim,
                          LTRR_CATALOG_DIM_MAX);
                return NULL;
        }
        cat = calloc(1, sizeof(*cat));
        if (!cat || arena_put(cat, "", 0, &off) != LTRR_OK) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                          "out of memory creating catalog");
                ltrr_catalog_destroy(cat);
                return NULL;
        }
        cat->dim = dim;
        return cat;
}

void ltrr_catalog_destroy(ltrr_catalog_t *cat)
{
        int t;

        if (!cat)
                return;
        for (t = 0; t < LTRR_CATALOG_SYM__CNT; t++) {
                free(cat->syms[t].str);
                free(cat->syms[t].aid);
                free(cat->syms[t].ht.slots);
        }
        free(cat->ids.slots);
        free(cat->vecs);
        free(cat->refs);
        free(cat->ents);
        free(cat->arena);
        free(cat);
}

/* Checks a required (@req) or optional string's length. */
static ltrr_err_t check_str(const char *what, const char *s, size_t max,
                            int req, char *errstr, size_t errstr_size)
{
        size_t len = s ? strlen(s) : 0;

        if (req && len == 0)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "%s is missing or empty", what);
        if (len > max)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "%s is %zu bytes, more than %zu", what, len,
                                 max);
        return LTRR_OK;
}

/* Checks one list: bounded count, no NULL or empty entries. */
static ltrr_err_t check_list(const char *what, const char *const *v,
                             size_t n, char *errstr, size_t errstr_size)
{
        size_t i;
        ltrr_err_t err;

        if (n > LTRR_CATALOG_LIST_MAX)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "%zu %s, more than %d", n, what,
                                 LTRR_CATALOG_LIST_MAX);
        if (n && !v)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "%s list is NULL", what);
        for (i = 0; i < n; i++)
                if ((err = check_str(what, v[i], LTRR_CATALOG_STR_MAX, 1,
                                     errstr, errstr_size)))
                        return err;
        return LTRR_OK;
}

/* Parses an optional two-letter language code into *lang. */
static ltrr_err_t parse_lang(const char *s, uint16_t *lang, char *errstr,
                             size_t errstr_size)
{
        char a, b;

        *lang = 0;
        if (!s || !*s)
                return LTRR_OK;
        a = (char)(s[0] | 0x20);
        b = s[1] ? (char)(s[1] | 0x20) : 0;
        if (a < 'a' || a > 'z' || b < 'a' || b > 'z' || s[2])
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "language \"%.16s\" is not an ISO 639-1 "
                                 "code", s);
        *lang = (uint16_t)((uint8_t)a << 8 | (uint8_t)b);
        return LTRR_OK;
}

/* Validates every field of @in that can be checked without storing. */
static ltrr_err_t entity_check(const ltrr_catalog_t *cat,
                               const ltrr_entity_in_t *in, uint16_t *lang,
                               char *errstr, size_t errstr_size)
{
        ltrr_err_t err;

        if ((unsigned)in->type >= LTRR_ENTITY__CNT)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "invalid entity type %d", (int)in->type);
        if ((err = check_str("id", in->id, LTRR_CATALOG_ID_MAX, 1, errstr,
                             errstr_size)) ||
            (err = check_str("name", in->name, LTRR_CATALOG_STR_MAX, 1,
                             errstr, errstr_size)) ||
            (err = check_str("album", in->album, LTRR_CATALOG_STR_MAX, 0,
                             errstr, errstr_size)) ||
            (err = check_str("description", in->description,
                             LTRR_CATALOG_STR_MAX, 0, errstr, errstr_size)) ||
            (err = check_list("artists", in->artists, in->artists_cnt,
                              errstr, errstr_size)) ||
            (err = check_list("genres", in->genres, in->genres_cnt, errstr,
                              errstr_size)) ||
            (err = check_list("subgenres", in->subgenres, in->subgenres_cnt,
                              errstr, errstr_size)) ||
            (err = check_list("moods", in->moods, in->moods_cnt, errstr,
                              errstr_size)) ||
            (err = parse_lang(in->language, lang, errstr, errstr_size)))
                return err;
        if ((unsigned)in->release_prec > LTRR_DATE_DAY)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "invalid date precision");
        if (in->popularity != in->popularity)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "popularity is NaN");
        if (in->vector && cat->dim == 0)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "catalog holds no vectors (dim 0)");
        return LTRR_OK;
}

/* Interns the four lists of @in into @syms (in list order). */
static ltrr_err_t entity_intern(ltrr_catalog_t *cat,
                                const ltrr_entity_in_t *in, uint32_t *syms,
                                uint8_t *cnt)
{
        const char *const *lists[CAT_LISTS] = {in->artists, in->genres,
                                               in->subgenres, in->moods};
        size_t ns[CAT_LISTS] = {in->artists_cnt, in->genres_cnt,
                                in->subgenres_cnt, in->moods_cnt};
        size_t l, i, k = 0;
        ltrr_err_t err;

        for (l = 0; l < CAT_LISTS; l++) {
                for (i = 0; i < ns[l]; i++) {
                        const char *aid = (l == 0 && in->artist_ids)
                                              ? in->artist_ids[i]
                                              : NULL;

                        if ((err = sym_intern(cat, (ltrr_catalog_sym_t)l,
                                              lists[l][i], aid, &syms[k++])))
                                return err;
                }
                cnt[l] = (uint8_t)ns[l];
        }
        return LTRR_OK;
}

/* Stores strings, symbols and vector of @in into @e; on error the caller
 * rolls the arena, refs and vectors back. */
static ltrr_err_t entity_store(ltrr_catalog_t *cat,
                               const ltrr_entity_in_t *in,
                               const uint32_t *syms, struct cat_ent *e)
{
        size_t n = (size_t)e->cnt[0] + e->cnt[1] + e->cnt[2] + e->cnt[3];
        size_t vcap = cat->vec_cap;
        ltrr_err_t err;

        if ((err = arena_put(cat, in->id, strlen(in->id), &e->id)) ||
            (err = arena_put(cat, in->name, strlen(in->name), &e->name)) ||
            (err = arena_put_opt(cat, in->album, &e->album)) ||
            (err = arena_put_opt(cat, in->description, &e->desc)))
                return err;
        if (cat->refs_len + n > UINT32_MAX)
                return LTRR_ERR_NOSPACE;
        if (grow((void **)&cat->refs, &cat->refs_cap, cat->refs_len + n,
                 sizeof(*cat->refs)))
                return LTRR_ERR_NOMEM;
        if (n)
                memcpy(cat->refs + cat->refs_len, syms, n * sizeof(*syms));
        e->refs = (uint32_t)cat->refs_len;
        cat->refs_len += n;
        e->vec = UINT32_MAX;
        if (!in->vector)
                return LTRR_OK;
        if (grow((void **)&cat->vecs, &vcap, (size_t)cat->vec_cnt + 1,
                 cat->dim * sizeof(float)))
                return LTRR_ERR_NOMEM;
        cat->vec_cap = (uint32_t)vcap;
        memcpy(cat->vecs + (size_t)cat->vec_cnt * cat->dim, in->vector,
               cat->dim * sizeof(float));
        e->vec = cat->vec_cnt++;
        return LTRR_OK;
}

ltrr_err_t ltrr_catalog_add(ltrr_catalog_t *cat, const ltrr_entity_in_t *in,
                            char *errstr, size_t errstr_size)
{
        uint32_t syms[CAT_LISTS * LTRR_CATALOG_LIST_MAX];
        size_t arena_mark, refs_mark, cap = cat->cap;
        uint32_t vec_mark = cat->vec_cnt, slot;
        struct cat_ent e;
        ltrr_err_t err;

        memset(&e, 0, sizeof(e));
        if ((err = entity_check(cat, in, &e.lang, errstr, errstr_size)))
                return err;
        if (htab_find(cat, &cat->ids, ent_key, NULL, in->id) != UINT32_MAX) {
                cat->dups++;
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "duplicate id \"%.64s\"", in->id);
        }
        if (cat->cnt >= CAT_COUNT_MAX)
                return ltrr_errf(LTRR_ERR_NOSPACE, errstr, errstr_size,
                                 "catalog full");
        if ((err = entity_intern(cat, in, syms, e.cnt)))
                goto err;
        arena_mark = cat->arena_len;
        refs_mark = cat->refs_len;
        if ((err = entity_store(cat, in, syms, &e)) ||
            (err = htab_reserve(cat, &cat->ids, ent_key, NULL, cat->cnt)))
                goto rollback;
        if (grow((void **)&cat->ents, &cap, (size_t)cat->cnt + 1,
                 sizeof(*cat->ents))) {
                err = LTRR_ERR_NOMEM;
                goto rollback;
        }
        cat->cap = (uint32_t)cap;
        e.type = (uint8_t)in->type;
        e.prec = (uint8_t)in->release_prec;
        e.release_days = in->release_prec ? in->release_days : 0;
        e.duration_ms = in->duration_ms;
        e.popularity = in->popularity < 0 ? -1.0f : in->popularity;
        cat->ents[cat->cnt] = e;
        slot = htab_slot(cat, &cat->ids, ent_key, NULL, in->id,
                         str_hash(in->id));
        cat->ids.slots[slot] = cat->cnt + 1;
        cat->ids.used++;
        cat->cnt++;
        return LTRR_OK;

rollback:
        cat->arena_len = arena_mark;
        cat->refs_len = refs_mark;
        cat->vec_cnt = vec_mark;
err:
        return ltrr_errf(err, errstr, errstr_size, "storing entity: %s",
                         ltrr_err2str(err));
}

uint32_t ltrr_catalog_count(const ltrr_catalog_t *cat)
{
        return cat->cnt;
}

uint32_t ltrr_catalog_dim(const ltrr_catalog_t *cat)
{
        return cat->dim;
}

uint64_t ltrr_catalog_duplicates(const ltrr_catalog_t *cat)
{
        return cat->dups;
}

/* The lists of every entity while no entity has one. */
static const uint32_t cat_no_refs[1];

ltrr_err_t ltrr_catalog_get(const ltrr_catalog_t *cat, uint32_t idx,
                            ltrr_entity_t *out)
{
        const struct cat_ent *e;
        const uint32_t *r;

        if (idx >= cat->cnt)
                return LTRR_ERR_RANGE;
        e = &cat->ents[idx];
        /* Until some entity has a list, refs is NULL and NULL + 0 is
         * undefined: point the empty lists at a static empty array. */
        r = cat->refs ? cat->refs + e->refs : cat_no_refs;
        out->idx = idx;
        out->type = (ltrr_entity_type_t)e->type;
        out->id = cat->arena + e->id;
        out->name = cat->arena + e->name;
        out->album = e->album ? cat->arena + e->album : NULL;
        out->description = e->desc ? cat->arena + e->desc : NULL;
        out->artists = r;
        out->artists_cnt = e->cnt[0];
        out->genres = r + e->cnt[0];
        out->genres_cnt = e->cnt[1];
        out->subgenres = out->genres + e->cnt[1];
        out->subgenres_cnt = e->cnt[2];
        out->moods = out->subgenres + e->cnt[2];
        out->moods_cnt = e->cnt[3];
        out->language[0] = (char)(e->lang >> 8);
        out->language[1] = (char)(e->lang & 0xff);
        out->language[2] = '\0';
        out->release_days = e->release_days;
        out->release_prec = (ltrr_date_prec_t)e->prec;
        out->duration_ms = e->duration_ms;
        out->popularity = e->popularity;
        out->vector = e->vec == UINT32_MAX
                          ? NULL
                          : cat->vecs + (size_t)e->vec * cat->dim;
        return LTRR_OK;
}

int64_t ltrr_catalog_find(const ltrr_catalog_t *cat, const char *id)
{
        uint32_t it = htab_find(cat, &cat->ids, ent_key, NULL, id);

        return it == UINT32_MAX ? -1 : (int64_t)it;
}

uint32_t ltrr_catalog_sym_count(const ltrr_catalog_t *cat,
                                ltrr_catalog_sym_t table)
{
        if ((unsigned)table >= LTRR_CATALOG_SYM__CNT)
                return 0;
        return cat->syms[table].cnt;
}

const char *ltrr_catalog_sym_name(const ltrr_catalog_t *cat,
                                  ltrr_catalog_sym_t table, uint32_t sym)
{
        if ((unsigned)table >= LTRR_CATALOG_SYM__CNT ||
            sym >= cat->syms[table].cnt)
                return NULL;
        return cat->arena + cat->syms[table].str[sym];
}

uint32_t ltrr_catalog_sym_find(const ltrr_catalog_t *cat,
                               ltrr_catalog_sym_t table, const char *name)
{
        const struct symtab *st;

        if ((unsigned)table >= LTRR_CATALOG_SYM__CNT)
                return LTRR_CATALOG_SYM_NONE;
        st = &cat->syms[table];
        return htab_find(cat, &st->ht, sym_key, st, name);
}

const char *ltrr_catalog_artist_id(const ltrr_catalog_t *cat, uint32_t sym)
{
        const struct symtab *st = &cat->syms[LTRR_CATALOG_SYM_ARTIST];

        if (sym >= st->cnt || !st->aid[sym])
                return NULL;
        return cat->arena + st->aid[sym];
}

size_t ltrr_catalog_memory(const ltrr_catalog_t *cat)
{
        size_t n = sizeof(*cat) + cat->arena_cap +
                   (size_t)cat->cap * sizeof(*cat->ents) +
                   cat->refs_cap * sizeof(*cat->refs) +
                   (size_t)cat->vec_cap * cat->dim * sizeof(float);
        int t;

        if (cat->ids.slots)
                n += ((size_t)cat->ids.mask + 1) * sizeof(uint32_t);
        for (t = 0; t < LTRR_CATALOG_SYM__CNT; t++) {
                const struct symtab *st = &cat->syms[t];

                n += (size_t)st->cap * sizeof(uint32_t) * (st->aid ? 2 : 1);
                if (st->ht.slots)
                        n += ((size_t)st->ht.mask + 1) * sizeof(uint32_t);
        }
        return n;
}

const char *ltrr_entity_type_name(ltrr_entity_type_t type)
{
        if ((unsigned)type >= LTRR_ENTITY__CNT)
                return NULL;
        return type_names[type];
}

int ltrr_entity_type_parse(const char *name)
{
        int t;

        for (t = 0; name && t < LTRR_ENTITY__CNT; t++)
                if (strcmp(name, type_names[t]) == 0)
                        return t;
        return -1;
}

/* Civil-date arithmetic after H. Hinnant's days_from_civil, in integers
 * so results never depend on the platform's floating point. */
int32_t ltrr_date_from_ymd(int year, int month, int day)
{
        int y = year - (month <= 2);
        int era = (y >= 0 ? y : y - 399) / 400;
        int yoe = y - era * 400;
        int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
        int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

        return (int32_t)(era * 146097 + doe - 719468);
}

void ltrr_date_to_ymd(int32_t days, int *year, int *month, int *day)
{
        int z = days + 719468;
        int era = (z >= 0 ? z : z - 146096) / 146097;
        int doe = z - era * 146097;
        int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        int mp = (5 * doy + 2) / 153;

        *day = doy - (153 * mp + 2) / 5 + 1;
        *month = mp < 10 ? mp + 3 : mp - 9;
        *year = yoe + era * 400 + (*month <= 2);
}

/* Reads exactly @n digits from *s into *v; advances *s. */
static int read_digits(const char **s, int n, int *v)
{
        int i;

        *v = 0;
        for (i = 0; i < n; i++) {
                if ((*s)[i] < '0' || (*s)[i] > '9')
                        return -1;
                *v = *v * 10 + ((*s)[i] - '0');
        }
        *s += n;
        return 0;
}

ltrr_err_t ltrr_date_parse(const char *s, int32_t *days,
                           ltrr_date_prec_t *prec)
{
        static const int mdays[12] = {31, 29, 31, 30, 31, 30,
                                      31, 31, 30, 31, 30, 31};
        int y, m = 1, d = 1;
        ltrr_date_prec_t p = LTRR_DATE_YEAR;

        if (!s || read_digits(&s, 4, &y) || y < 1)
                return LTRR_ERR_PARSE;
        if (*s == '-') {
                s++;
                if (read_digits(&s, 2, &m) || m < 1 || m > 12)
                        return LTRR_ERR_PARSE;
                p = LTRR_DATE_MONTH;
                if (*s == '-') {
                        s++;
                        if (read_digits(&s, 2, &d) || d < 1 ||
                            d > mdays[m - 1])
                                return LTRR_ERR_PARSE;
                        p = LTRR_DATE_DAY;
                }
        }
        if (*s)
                return LTRR_ERR_PARSE;
        *days = ltrr_date_from_ymd(y, m, d);
        *prec = p;
        return LTRR_OK;
}
