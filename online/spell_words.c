/*
 * ltrr - the word section of the index (spell_words.h).
 *
 * The builder counts words in an open-addressing hash table whose
 * entries point into one growing byte arena; finishing sorts the entries
 * by their bytes and writes the section once.
 */
#include "spell_words.h"

#include <stdlib.h>
#include <string.h>

/* One counted word of the builder. */
typedef struct words_slot_s {
        uint64_t off;  /* in the arena; UINT64_MAX: empty */
        uint32_t len;  /* bytes */
        uint32_t cnt;  /* entities */
        uint64_t seen; /* 1 + the last entity that counted it */
        uint32_t hash; /* FNV-1a of the bytes */
} words_slot_t;

struct ltrr_spell_words_s {
        words_slot_t *slots; /* cap entries, a power of two */
        size_t cap;          /* slots */
        size_t used;         /* words */
        char *arena;         /* word bytes */
        size_t arena_len;    /* used */
        size_t arena_cap;    /* allocated */
        uint8_t *sec;        /* the finished section */
        size_t sec_len;      /* its bytes */
};

static uint32_t fnv1a(const char *s, size_t len)
{
        uint32_t h = 2166136261u;

        while (len--)
                h = (h ^ (uint8_t)*s++) * 16777619u;
        return h;
}

static int slots_alloc(ltrr_spell_words_t *w, size_t cap)
{
        size_t i;

        if (!(w->slots = malloc(cap * sizeof(*w->slots))))
                return -1;
        for (i = 0; i < cap; i++)
                w->slots[i].off = UINT64_MAX;
        w->cap = cap;
        return 0;
}

ltrr_spell_words_t *ltrr_spell_words_new(void)
{
        ltrr_spell_words_t *w = calloc(1, sizeof(*w));

        if (!w)
                return NULL;
        if (slots_alloc(w, 1024)) {
                free(w);
                return NULL;
        }
        return w;
}

void ltrr_spell_words_destroy(ltrr_spell_words_t *w)
{
        if (!w)
                return;
        free(w->slots);
        free(w->arena);
        free(w->sec);
        free(w);
}

/* The slot of @p s (its own, or the empty one it would take). */
static words_slot_t *slot_find(const ltrr_spell_words_t *w, const char *s,
                               size_t len, uint32_t h)
{
        size_t i = h & (w->cap - 1);

        for (;; i = (i + 1) & (w->cap - 1)) {
                words_slot_t *sl = &w->slots[i];

                if (sl->off == UINT64_MAX ||
                    (sl->hash == h && sl->len == len &&
                     !memcmp(w->arena + sl->off, s, len)))
                        return sl;
        }
}

/* Doubles the table when it is half full; -1 without memory. */
static int grow(ltrr_spell_words_t *w)
{
        words_slot_t *old = w->slots;
        size_t cap = w->cap, i;

        if (w->used * 2 < w->cap)
                return 0;
        if (slots_alloc(w, cap * 2)) {
                w->slots = old;
                return -1;
        }
        for (i = 0; i < cap; i++)
                if (old[i].off != UINT64_MAX)
                        *slot_find(w, w->arena + old[i].off, old[i].len,
                                   old[i].hash) = old[i];
        free(old);
        return 0;
}

/* Copies @p len bytes to the arena; their offset, or UINT64_MAX. */
static uint64_t arena_put(ltrr_spell_words_t *w, const char *s, size_t len)
{
        uint64_t off = w->arena_len;

        if (w->arena_len + len > w->arena_cap) {
                size_t cap = w->arena_cap ? w->arena_cap * 2 : 65536;
                char *p;

                while (cap < w->arena_len + len)
                        cap *= 2;
                if (!(p = realloc(w->arena, cap)))
                        return UINT64_MAX;
                w->arena = p;
                w->arena_cap = cap;
        }
        memcpy(w->arena + off, s, len);
        w->arena_len += len;
        return off;
}

/* 1 if token @p t is a word the section keeps. */
static int keeps(const ltrr_token_t *t)
{
        return t->norm_len > 0 &&
               !(t->flags & (LTRR_TOKEN_NUMERIC | LTRR_TOKEN_CJK));
}

ltrr_err_t ltrr_spell_words_add(ltrr_spell_words_t *w, uint32_t ent,
                                const ltrr_token_t *toks, size_t n)
{
        size_t i;

        if (!w || w->sec || (n && !toks))
                return LTRR_ERR_INVALID_ARG;
        for (i = 0; i < n; i++) {
                const ltrr_token_t *t = &toks[i];
                uint32_t h;
                words_slot_t *sl;

                if (!keeps(t))
                        continue;
                if (grow(w))
                        return LTRR_ERR_NOMEM;
                h = fnv1a(t->norm, t->norm_len);
                sl = slot_find(w, t->norm, t->norm_len, h);
                if (sl->off == UINT64_MAX) {
                        if ((sl->off = arena_put(w, t->norm, t->norm_len)) ==
                            UINT64_MAX)
                                return LTRR_ERR_NOMEM;
                        sl->len = t->norm_len;
                        sl->hash = h;
                        sl->cnt = 0;
                        sl->seen = 0;
                        w->used++;
                }
                if (sl->seen != (uint64_t)ent + 1 && sl->cnt < UINT32_MAX) {
                        sl->cnt++;
                        sl->seen = (uint64_t)ent + 1;
                }
        }
        return LTRR_OK;
}

/* qsort_r comparator of slots by their bytes in arena @p arg. */
static int slot_cmp(const void *a, const void *b, void *arg)
{
        const words_slot_t *x = a, *y = b;
        const char *arena = arg;
        size_t n = x->len < y->len ? x->len : y->len;
        int c = memcmp(arena + x->off, arena + y->off, n);

        if (c)
                return c;
        return x->len < y->len ? -1 : x->len > y->len;
}

ltrr_err_t ltrr_spell_words_finish(ltrr_spell_words_t *w,
                                   const void **datap, size_t *lenp)
{
        ltrr_spell_words_hdr_t h = {0};
        ltrr_spell_word_t *rec;
        size_t i, m = 0, off = 0;
        char *bytes;

        if (!w || !datap || !lenp)
                return LTRR_ERR_INVALID_ARG;
        if (!w->sec) {
                if (w->arena_len > UINT32_MAX)
                        return LTRR_ERR_RANGE;
                for (i = 0; i < w->cap; i++) /* pack the used slots */
                        if (w->slots[i].off != UINT64_MAX)
                                w->slots[m++] = w->slots[i];
                qsort_r(w->slots, m, sizeof(w->slots[0]), slot_cmp,
                        w->arena);
                w->sec_len = sizeof(h) + m * sizeof(*rec) + w->arena_len;
                if (!(w->sec = calloc(1, w->sec_len ? w->sec_len : 1)))
                        return LTRR_ERR_NOMEM;
                h.word_cnt = (uint32_t)m;
                h.byte_cnt = w->arena_len;
                memcpy(w->sec, &h, sizeof(h));
                rec = (ltrr_spell_word_t *)(w->sec + sizeof(h));
                bytes = (char *)(rec + m);
                for (i = 0; i < m; i++) {
                        memcpy(bytes + off, w->arena + w->slots[i].off,
                               w->slots[i].len);
                        rec[i].off = (uint32_t)off;
                        rec[i].len = w->slots[i].len;
                        rec[i].cnt = w->slots[i].cnt;
                        off += w->slots[i].len;
                }
        }
        *datap = w->sec;
        *lenp = w->sec_len;
        return LTRR_OK;
}

const ltrr_spell_words_hdr_t *ltrr_spell_words_get(const ltrr_index_t *ix)
{
        uint64_t len;
        const ltrr_spell_words_hdr_t *h =
            ix ? ltrr_index_section(ix, LTRR_SPELL_SEC_WORDS, &len) : NULL;

        if (!h || len < sizeof(*h) ||
            len != sizeof(*h) +
                       (uint64_t)h->word_cnt * sizeof(ltrr_spell_word_t) +
                       h->byte_cnt)
                return NULL;
        return h;
}

uint32_t ltrr_spell_words_find(const ltrr_spell_words_hdr_t *h,
                               const char *word, size_t len)
{
        const ltrr_spell_word_t *rec;
        const char *bytes;
        size_t lo = 0, hi;

        if (!h || !word || !len)
                return 0;
        rec = (const ltrr_spell_word_t *)(h + 1);
        bytes = (const char *)(rec + h->word_cnt);
        hi = h->word_cnt;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2, n;
                const ltrr_spell_word_t *r = &rec[mid];
                int c;

                if ((uint64_t)r->off + r->len > h->byte_cnt)
                        return 0; /* a corrupt record: no answer */
                n = r->len < len ? r->len : len;
                c = memcmp(bytes + r->off, word, n);
                if (!c)
                        c = r->len < len ? -1 : r->len > len;
                if (!c)
                        return r->cnt;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return 0;
}
