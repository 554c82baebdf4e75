/*
 * ltrr - a per-thread cache of term membership bitmaps (arm_termbits.h).
 */
#include <string.h>

#include "arm_termbits.h"
#include "index_int.h"

uint32_t ltrr_arm_termbits_shift(uint32_t n)
{
        uint32_t s = 0;
        while ((((uint64_t)n + (1ull << s) - 1) >> s) > LTRR_ARM_TERMBITS_BITS)
                s++;
        return s;
}

/* Slot holding @p term of @p ix, or the least recently used one (*hitp
 * says which). */
static unsigned slot_find(const ltrr_arm_termbits_t *tb,
                          const ltrr_index_t *ix, uint32_t term, int *hitp)
{
        unsigned old = 0;
        for (unsigned i = 0; i < LTRR_ARM_TERMBITS_SLOTS; i++) {
                const ltrr_arm_termbits_key_t *k = &tb->key[i];
                if (k->used && k->feats == (const void *)ix->feats &&
                    k->n == ix->n && k->term == term) {
                        *hitp = 1;
                        return i;
                }
                if (k->used < tb->key[old].used)
                        old = i;
        }
        *hitp = 0;
        return old;
}

/* Sets in @p bits the bit of every entity of @p term's postings.
 * Returns 1 if a bit's rank is the position of its posting (one bit per
 * entity, postings strictly ascending, none out of range). */
static int fill(uint64_t *bits, const ltrr_index_t *ix, uint32_t term)
{
        const ltrr_index_term_t *t = &ix->terms[term];
        const ltrr_index_post_t *p = ix->posts + t->post_off;
        uint32_t shift = ltrr_arm_termbits_shift(ix->n);
        int ranked = shift == 0;
        memset(bits, 0, LTRR_ARM_TERMBITS_BITS / 8);
        for (uint32_t i = 0; i < t->df; i++) {
                if (p[i].doc >= ix->n) {
                        ranked = 0;
                        continue; /* corrupt: never asked about */
                }
                if (i && p[i].doc <= p[i - 1].doc)
                        ranked = 0;
                uint32_t b = p[i].doc >> shift;
                bits[b >> 6] |= 1ull << (b & 63);
        }
        return ranked;
}

/* Fills @p rank: the set bits of @p bits before each word. */
static void rank_fill(uint32_t *rank, const uint64_t *bits)
{
        uint32_t c = 0;
        for (uint32_t w = 0; w < LTRR_ARM_TERMBITS_BITS / 64; w++) {
                rank[w] = c;
                c += (uint32_t)__builtin_popcountll(bits[w]);
        }
}

const uint64_t *ltrr_arm_termbits_get(ltrr_arm_termbits_t *tb,
                                      const ltrr_index_t *ix, uint32_t term)
{
        int hit;
        if (!tb || !ix || term >= ix->term_cnt)
                return NULL;
        unsigned i = slot_find(tb, ix, term, &hit);
        ltrr_arm_termbits_key_t *k = &tb->key[i];
        if (!hit) {
                k->used = 0;
                k->ranked = (uint32_t)fill(tb->bits[i], ix, term);
                if (k->ranked)
                        rank_fill(tb->rank[i], tb->bits[i]);
                k->feats = ix->feats;
                k->n = ix->n;
                k->term = term;
        }
        k->used = ++tb->tick;
        return tb->bits[i];
}

const uint32_t *ltrr_arm_termbits_rank(const ltrr_arm_termbits_t *tb,
                                       const uint64_t *bits)
{
        for (unsigned i = 0; tb && i < LTRR_ARM_TERMBITS_SLOTS; i++)
                if (bits == tb->bits[i])
                        return tb->key[i].used && tb->key[i].ranked
                                   ? tb->rank[i] : NULL;
        return NULL;
}
