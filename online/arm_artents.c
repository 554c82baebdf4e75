/*
 * ltrr - the artist and genre sections: entities per artist hash and
 * per genre (arm_artents.h).
 */
#include <stdlib.h>
#include <string.h>

#include "arm_artents.h"
#include "arm_state.h"
#include "index_int.h"

/* Sorts @p n pairs (hash << 32 | entity) by hash, stably (two 16-bit
 * counting passes over the hash) through @p tmp; the result is in @p a. */
static void sort_by_hash(uint64_t *a, uint64_t *tmp, size_t n, size_t *cnt)
{
        for (int pass = 0; pass < 2; pass++) {
                int shift = 32 + 16 * pass;
                memset(cnt, 0, 65537 * sizeof(*cnt));
                for (size_t i = 0; i < n; i++)
                        cnt[((a[i] >> shift) & 0xffff) + 1]++;
                for (size_t d = 0; d < 65536; d++)
                        cnt[d + 1] += cnt[d];
                for (size_t i = 0; i < n; i++)
                        tmp[cnt[(a[i] >> shift) & 0xffff]++] = a[i];
                memcpy(a, tmp, n * sizeof(*a));
        }
}

/* Writes the section of @p n sorted pairs for @p ents entities into a
 * new block. Returns NULL if out of memory. */
static void *emit(const uint64_t *pairs, size_t n, uint32_t ents,
                  size_t *lenp)
{
        uint32_t artists = 0;
        for (size_t i = 0; i < n; i++)
                artists += i == 0 || pairs[i] >> 32 != pairs[i - 1] >> 32;
        size_t len = sizeof(ltrr_arm_artents_hdr_t) +
                     (size_t)artists * sizeof(ltrr_arm_artents_rec_t) +
                     n * sizeof(uint32_t);
        uint8_t *out = calloc(1, len);
        if (!out)
                return NULL;
        ltrr_arm_artents_hdr_t h = {ents, artists, n};
        memcpy(out, &h, sizeof(h));
        ltrr_arm_artents_rec_t *rec =
            (ltrr_arm_artents_rec_t *)(out + sizeof(h));
        uint32_t *ent = (uint32_t *)(rec + artists);
        size_t r = 0;
        for (size_t i = 0; i < n; i++) {
                uint32_t hash = (uint32_t)(pairs[i] >> 32);
                if (i == 0 || hash != rec[r - 1].hash) {
                        rec[r].hash = hash;
                        rec[r++].first = i;
                }
                rec[r - 1].cnt++;
                ent[i] = (uint32_t)pairs[i];
        }
        *lenp = len;
        return out;
}

/* Pairs (key << 32 | entity) of the @p n records @p ea in entity order,
 * artists (@p genres 0) or genres, a key repeated within a record once.
 * Returns the count. */
static size_t collect(const ltrr_arm_entattr_t *ea, uint32_t n, int genres,
                      uint64_t *pairs)
{
        size_t m = 0;
        for (uint32_t e = 0; e < n; e++)
                for (int s = 0; s < LTRR_ARM_ENTATTR_SLOTS; s++) {
                        const uint32_t *k =
                            genres ? ea[e].genre : ea[e].artist;
                        uint32_t h = k[s];
                        int dup = 0;
                        for (int t = 0; t < s; t++)
                                dup |= k[t] == h;
                        if (h && !dup)
                                pairs[m++] = (uint64_t)h << 32 | e;
                }
        return m;
}

ltrr_err_t ltrr_arm_artents_build(const void *entattr, size_t len,
                                  uint32_t kind, void **outp, size_t *lenp)
{
        uint64_t cnt = 0;
        if (!outp || !lenp ||
            (kind != LTRR_ARM_SEC_ARTENTS && kind != LTRR_ARM_SEC_GENENTS))
                return LTRR_ERR_INVALID_ARG;
        *outp = NULL;
        *lenp = 0;
        if (!entattr || len < 8)
                return LTRR_OK;
        memcpy(&cnt, entattr, sizeof(cnt));
        if (cnt > UINT32_MAX || len != 8 + cnt * sizeof(ltrr_arm_entattr_t))
                return LTRR_OK;
        const ltrr_arm_entattr_t *ea =
            (const ltrr_arm_entattr_t *)((const uint8_t *)entattr + 8);
        size_t most = (size_t)cnt * LTRR_ARM_ENTATTR_SLOTS + 1;
        uint64_t *pairs = malloc(most * sizeof(*pairs));
        uint64_t *tmp = malloc(most * sizeof(*tmp));
        size_t *counts = malloc(65537 * sizeof(*counts));
        ltrr_err_t err = LTRR_ERR_NOMEM;
        if (pairs && tmp && counts) {
                size_t n = collect(ea, (uint32_t)cnt,
                                   kind == LTRR_ARM_SEC_GENENTS, pairs);
                sort_by_hash(pairs, tmp, n, counts);
                *outp = emit(pairs, n, (uint32_t)cnt, lenp);
                err = *outp ? LTRR_OK : LTRR_ERR_NOMEM;
        }
        free(pairs);
        free(tmp);
        free(counts);
        return err;
}

ltrr_err_t ltrr_arm_artents_derive(const ltrr_index_build_conf_t *conf,
                                   ltrr_arm_artents_set_t *set)
{
        const ltrr_index_extra_t *ea = NULL;
        const ltrr_index_extra_t *extra = conf ? conf->extra : NULL;
        size_t cnt = conf ? conf->extra_cnt : 0;
        int given[2] = {0, 0};
        if (!set)
                return LTRR_ERR_INVALID_ARG;
        memset(set, 0, sizeof(*set));
        set->kind[0] = LTRR_ARM_SEC_ARTENTS;
        set->kind[1] = LTRR_ARM_SEC_GENENTS;
        for (size_t i = 0; extra && i < cnt; i++) {
                for (int k = 0; k < 2; k++)
                        given[k] |= extra[i].kind == set->kind[k];
                if (extra[i].kind == LTRR_ARM_SEC_ENTATTR)
                        ea = &extra[i];
        }
        for (int k = 0; ea && k < 2; k++) {
                if (given[k])
                        continue;
                ltrr_err_t err = ltrr_arm_artents_build(
                    ea->data, ea->len, set->kind[k], &set->p[k],
                    &set->len[k]);
                if (err) {
                        ltrr_arm_artents_clear(set);
                        return err;
                }
        }
        return LTRR_OK;
}

void ltrr_arm_artents_clear(ltrr_arm_artents_set_t *set)
{
        for (int k = 0; set && k < 2; k++) {
                free(set->p[k]);
                set->p[k] = NULL;
                set->len[k] = 0;
        }
}

/* The header of @p ix's section @p kind when well-formed for its
 * entities. */
static const ltrr_arm_artents_hdr_t *section(const ltrr_index_t *ix,
                                             uint32_t kind)
{
        uint64_t len;
        const uint8_t *sec = ix && (kind == LTRR_ARM_SEC_ARTENTS ||
                                    kind == LTRR_ARM_SEC_GENENTS)
                                 ? ltrr_index_section(ix, kind, &len)
                                 : NULL;
        if (!sec || len < sizeof(ltrr_arm_artents_hdr_t))
                return NULL;
        const ltrr_arm_artents_hdr_t *h = (const void *)sec;
        uint64_t want = sizeof(*h) +
                        (uint64_t)h->artist_cnt *
                            sizeof(ltrr_arm_artents_rec_t) +
                        h->entry_cnt * sizeof(uint32_t);
        if (h->entity_cnt != ix->n ||
            h->entry_cnt > LTRR_ARM_ENTATTR_SLOTS * (uint64_t)ix->n ||
            want != len)
                return NULL;
        return h;
}

int ltrr_arm_artents_has(const ltrr_index_t *ix, uint32_t kind)
{
        return section(ix, kind) != NULL;
}

const uint32_t *ltrr_arm_artents_find(const ltrr_index_t *ix, uint32_t kind,
                                      uint32_t key, uint32_t *cntp)
{
        const ltrr_arm_artents_hdr_t *h = section(ix, kind);
        if (cntp)
                *cntp = 0;
        if (!h || !cntp)
                return NULL;
        const ltrr_arm_artents_rec_t *rec = (const void *)(h + 1);
        const uint32_t *ent = (const uint32_t *)(rec + h->artist_cnt);
        uint32_t lo = 0, hi = h->artist_cnt;
        while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;
                if (rec[mid].hash < key)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (lo == h->artist_cnt || rec[lo].hash != key ||
            rec[lo].first > h->entry_cnt ||
            rec[lo].cnt > h->entry_cnt - rec[lo].first)
                return NULL;
        *cntp = rec[lo].cnt;
        return ent + rec[lo].first;
}
