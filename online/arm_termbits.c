/*
 * ltrr - a per-thread cache of term membership bitmaps (arm_termbits.h).
 */
#include <math.h>
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

/** Relative margin of a level above its bucket's upper end: far above
 *  the rounding of tf~ x (levels / largest tf~). */
#define QTF_MARGIN 1e-5f

/* The levels of @p term's quantized tf~ table into @p level: tf~ in
 * [0, max_tfw] falls in one of LTRR_ARM_TERMBITS_QTF_LEVELS equal
 * buckets (the top one closed), and a bucket's level is its upper end
 * plus QTF_MARGIN. Returns 0 (no table) for a list too long or a largest
 * tf~ that is not a positive finite number. */
static int qtf_levels(float *level, const ltrr_index_t *ix, uint32_t term)
{
        const ltrr_index_term_t *t = &ix->terms[term];
        const int nl = LTRR_ARM_TERMBITS_QTF_LEVELS;
        float hi = t->max_tfw;
        if (t->df == 0 || t->df > LTRR_ARM_TERMBITS_QTF_MAX ||
            !(hi > 0.0f) || !isfinite(hi))
                return 0;
        for (int q = 0; q < nl; q++)
                level[q] = hi * (float)(q + 1) / (float)nl *
                           (1.0f + QTF_MARGIN);
        return 1;
}

/* Sets in @p bits the bit of every entity of @p term's postings and,
 * when *@p qtfp, each posting's bucket (qtf_levels()) in @p qtf, two a
 * byte (*qtfp cleared when a tf~ is negative, not a number or above
 * @p hi). Returns 1 if a bit's rank is the position of its posting (one
 * bit per entity, postings strictly ascending, none out of range). */
static int fill(uint64_t *bits, uint8_t *qtf, float hi, int *qtfp,
                const ltrr_index_t *ix, uint32_t term)
{
        const ltrr_index_term_t *t = &ix->terms[term];
        const ltrr_index_post_t *p = ix->posts + t->post_off;
        const uint32_t n = ix->n, df = t->df;
        const int top = LTRR_ARM_TERMBITS_QTF_LEVELS - 1;
        uint32_t shift = ltrr_arm_termbits_shift(n);
        int ranked = shift == 0, ok = *qtfp, bad = 0;
        float inv = ok ? (float)(top + 1) / hi : 0.0f;
        memset(bits, 0, LTRR_ARM_TERMBITS_BITS / 8);
        /* a pass of its own: faster than within the one below */
        for (uint32_t i = 0; ok && i < df; i++) {
                float v = p[i].tfw;
                bad |= !(v >= 0.0f && v <= hi); /* NaN too */
                int q = bad ? 0 : (int)(v * inv);
                q = q > top ? top : q;
                if (i & 1)
                        qtf[i >> 1] |= (uint8_t)(q << 4);
                else
                        qtf[i >> 1] = (uint8_t)q;
        }
        for (uint32_t i = 0; i < df; i++) {
                uint32_t d = p[i].doc;
                if (d >= n) {
                        ranked = 0;
                        continue; /* corrupt: never asked about */
                }
                if (i && d <= p[i - 1].doc)
                        ranked = 0;
                uint32_t b = d >> shift;
                bits[b >> 6] |= 1ull << (b & 63);
        }
        *qtfp = ok && !bad;
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
                int q = ltrr_arm_termbits_shift(ix->n) == 0 &&
                        qtf_levels(tb->qlevel[i], ix, term);
                k->used = 0;
                k->ranked = (uint32_t)fill(tb->bits[i], tb->qtf[i],
                                           ix->terms[term].max_tfw, &q, ix,
                                           term);
                if (k->ranked)
                        rank_fill(tb->rank[i], tb->bits[i]);
                k->qtf = k->ranked && q;
                k->feats = ix->feats;
                k->n = ix->n;
                k->term = term;
        }
        k->used = ++tb->tick;
        return tb->bits[i];
}

/* The slot holding bitmap @p bits, or -1 (not one of @p tb's, or
 * empty). */
static int slot_of(const ltrr_arm_termbits_t *tb, const uint64_t *bits)
{
        for (unsigned i = 0; tb && i < LTRR_ARM_TERMBITS_SLOTS; i++)
                if (bits == tb->bits[i])
                        return tb->key[i].used ? (int)i : -1;
        return -1;
}

const uint32_t *ltrr_arm_termbits_rank(const ltrr_arm_termbits_t *tb,
                                       const uint64_t *bits)
{
        int i = slot_of(tb, bits);

        return i >= 0 && tb->key[i].ranked ? tb->rank[i] : NULL;
}

const uint8_t *ltrr_arm_termbits_qtf(const ltrr_arm_termbits_t *tb,
                                     const uint64_t *bits,
                                     const float **levelp)
{
        int i = levelp ? slot_of(tb, bits) : -1;

        if (i < 0 || !tb->key[i].qtf)
                return NULL;
        *levelp = tb->qlevel[i];
        return tb->qtf[i];
}
