/*
 * ltrr - a per-thread cache of entity filter bitmaps (arm_bits.h).
 *
 * Layout of the caller's memory: the header (slot records and a use
 * counter), then LTRR_ARM_BITS_SLOTS bitmaps of n bits each.
 */
#include <string.h>

#include "arm_bits.h"
#include "index_int.h"

/* One cached bitmap. */
typedef struct bits_slot_s {
        const void *feats;                   /* FEATURES of its index */
        uint32_t n;                          /* entities of its index */
        uint32_t key_len;                    /* words in key */
        uint64_t key[LTRR_ARM_BITS_KEY_MAX]; /* the filter's key */
        uint64_t used;                       /* last use, 0: empty */
} bits_slot_t;

/* The cache header. */
typedef struct bits_hdr_s {
        bits_slot_t slot[LTRR_ARM_BITS_SLOTS];
        uint64_t tick;                       /* use counter */
} bits_hdr_t;

/* Bytes of the header, rounded to 16. */
static size_t hdr_bytes(void)
{
        return (sizeof(bits_hdr_t) + 15) & ~(size_t)15;
}

/* 64-bit words of a bitmap over @p n entities. */
static size_t words_of(uint32_t n)
{
        return ((size_t)n + 63) / 64;
}

size_t ltrr_arm_bits_bytes(uint32_t n)
{
        return hdr_bytes() +
               LTRR_ARM_BITS_SLOTS * words_of(n) * sizeof(uint64_t);
}

/* 1 if slot @p s holds @p key for the index @p ix. */
static int slot_is(const bits_slot_t *s, const ltrr_index_t *ix,
                   const uint64_t *key, size_t key_len)
{
        return s->used && s->feats == (const void *)ix->feats &&
               s->n == ix->n && s->key_len == key_len &&
               (key_len == 0 ||
                memcmp(s->key, key, key_len * sizeof(uint64_t)) == 0);
}

const uint64_t *ltrr_arm_bits_get(void *mem, const ltrr_index_t *ix,
                                  const uint64_t *key, size_t key_len,
                                  ltrr_arm_bits_fill_fn *fill,
                                  const void *opaque)
{
        if (!mem || !ix || (!key && key_len) ||
            key_len > LTRR_ARM_BITS_KEY_MAX)
                return NULL;
        bits_hdr_t *h = mem;
        uint64_t *bits0 = (uint64_t *)((uint8_t *)mem + hdr_bytes());
        size_t words = words_of(ix->n), victim = 0;
        for (size_t i = 0; i < LTRR_ARM_BITS_SLOTS; i++) {
                bits_slot_t *s = &h->slot[i];
                if (slot_is(s, ix, key, key_len)) {
                        s->used = ++h->tick;
                        return bits0 + i * words;
                }
                if (s->used < h->slot[victim].used)
                        victim = i;
        }
        if (!fill)
                return NULL;
        bits_slot_t *s = &h->slot[victim];
        uint64_t *bits = bits0 + victim * words;
        memset(bits, 0, words * sizeof(uint64_t));
        fill(opaque, ix, bits);
        memset(s, 0, sizeof(*s));
        s->feats = ix->feats;
        s->n = ix->n;
        s->key_len = (uint32_t)key_len;
        if (key_len)
                memcpy(s->key, key, key_len * sizeof(uint64_t));
        s->used = ++h->tick;
        return bits;
}

int ltrr_arm_bits_keep(const void *opaque, const ltrr_index_t *ix,
                       uint32_t ent)
{
        const uint64_t *bits = opaque;
        (void)ix;
        return (int)(bits[ent / 64] >> (ent % 64)) & 1;
}

int ltrr_arm_bits_worth(const ltrr_index_t *ix, const ltrr_token_t *toks,
                        size_t n)
{
        uint64_t post = 0;

        for (size_t i = 0; i < n; i++) {
                const ltrr_token_t *t = &toks[i];
                const ltrr_index_term_t *it =
                    ltrr_index_term_find(ix, t->stem, t->stem_len);
                post += it ? it->df : t->norm_len >= 2 ? ix->n : 0;
        }
        return post * LTRR_ARM_BITS_SHARE >= ix->n;
}
