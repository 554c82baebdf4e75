/*
 * ltrr - arm registry, per-thread scratch memory and candidate union.
 */
#include <stdlib.h>
#include <string.h>

#include "arm.h"
#include "arm_state.h"
#include "hnsw.h" /* ltrr_arm_fuzzy, ltrr_arm_semantic */

/* The registry: one line per arm. The position is the arm's id, its bit
 * in provenance masks and the value logged in impressions, so append new
 * arms at the end. */
static const ltrr_arm_t *const arm_registry[] = {
    &ltrr_arm_lexical,
    &ltrr_arm_popular, &ltrr_arm_structured, &ltrr_arm_fresh,
    &ltrr_arm_personal, &ltrr_arm_memory,
    &ltrr_arm_fuzzy,
    &ltrr_arm_semantic,
};

#define ARM_CNT (sizeof(arm_registry) / sizeof(arm_registry[0]))
_Static_assert(ARM_CNT <= LTRR_ARM_MAX, "too many arms");

/* One slot of scratch memory. */
typedef struct scratch_slot_s {
        void *p;     /* block, 16-aligned */
        size_t size; /* bytes */
} scratch_slot_t;

struct ltrr_arm_scratch_s {
        scratch_slot_t slots[LTRR_ARM_MAX]; /* one per arm id */
};

unsigned ltrr_arm_count(void) { return (unsigned)ARM_CNT; }

const ltrr_arm_t *ltrr_arm_get(unsigned id)
{
        return id < ARM_CNT ? arm_registry[id] : NULL;
}

int ltrr_arm_find(const char *name)
{
        for (unsigned i = 0; name && i < ARM_CNT; i++)
                if (strcmp(arm_registry[i]->name, name) == 0)
                        return (int)i;
        return -1;
}

ltrr_err_t ltrr_arm_run(unsigned id, const ltrr_index_t *ix,
                        const ltrr_arm_query_t *q, const ltrr_arm_ctx_t *ctx,
                        ltrr_arm_scratch_t *scr, size_t k,
                        ltrr_arm_cand_t *out, size_t *cntp, char *errstr,
                        size_t errstr_size)
{
        const ltrr_arm_t *arm = ltrr_arm_get(id);
        if (cntp)
                *cntp = 0;
        if (!arm || !ix || !q || !scr || !cntp || (k && !out))
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "bad arguments to arm %u", id);
        if (k > LTRR_ARM_K_MAX)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "k %zu above %d", k, LTRR_ARM_K_MAX);
        if (!arm->available(ix))
                return ltrr_errf(LTRR_ERR_STATE, errstr, errstr_size,
                                 "arm '%s' is unavailable on this index",
                                 arm->name);
        if (k == 0)
                return LTRR_OK;
        return arm->run(ix, q, ctx, scr, id, k, out, cntp, errstr,
                        errstr_size);
}

ltrr_arm_scratch_t *ltrr_arm_scratch_new(void)
{
        return calloc(1, sizeof(ltrr_arm_scratch_t));
}

void ltrr_arm_scratch_destroy(ltrr_arm_scratch_t *scr)
{
        if (!scr)
                return;
        for (unsigned i = 0; i < LTRR_ARM_MAX; i++)
                free(scr->slots[i].p);
        free(scr);
}

void *ltrr_arm_scratch_get(ltrr_arm_scratch_t *scr, unsigned slot,
                           size_t bytes)
{
        if (!scr || slot >= LTRR_ARM_MAX)
                return NULL;
        scratch_slot_t *s = &scr->slots[slot];
        if (bytes <= s->size)
                return s->p;
        size_t size = (bytes + 15) & ~(size_t)15;
        void *p = aligned_alloc(16, size);
        if (!p)
                return NULL;
        if (s->p)
                memcpy(p, s->p, s->size);
        memset((char *)p + s->size, 0, size - s->size);
        free(s->p);
        s->p = p;
        s->size = size;
        return p;
}

size_t ltrr_arm_scratch_memory(const ltrr_arm_scratch_t *scr)
{
        size_t n = 0;
        for (unsigned i = 0; scr && i < LTRR_ARM_MAX; i++)
                n += scr->slots[i].size;
        return n;
}

/* ---- union -------------------------------------------------------------- */

/* Orders hits by entity (for merging). */
static int hit_ent_cmp(const void *a, const void *b)
{
        const ltrr_arm_hit_t *x = a, *y = b;
        return (x->ent > y->ent) - (x->ent < y->ent);
}

/* Orders merged hits: best rank, then more arms, then entity. */
static int hit_rank_cmp(const void *a, const void *b)
{
        const ltrr_arm_hit_t *x = a, *y = b;
        if (x->best_rank != y->best_rank)
                return x->best_rank < y->best_rank ? -1 : 1;
        int nx = __builtin_popcount(x->arms), ny = __builtin_popcount(y->arms);
        if (nx != ny)
                return nx > ny ? -1 : 1;
        return (x->ent > y->ent) - (x->ent < y->ent);
}

/* Folds hit @p src into @p dst (same entity). */
static void hit_merge(ltrr_arm_hit_t *dst, const ltrr_arm_hit_t *src)
{
        dst->arms |= src->arms;
        if (src->best_rank < dst->best_rank)
                dst->best_rank = src->best_rank;
        for (unsigned a = 0; a < LTRR_ARM_MAX; a++)
                if (src->arms & (1u << a))
                        dst->scores[a] = src->scores[a];
}

ltrr_err_t ltrr_arm_union(const ltrr_arm_list_t *lists, size_t nlists,
                          ltrr_arm_hit_t *out, size_t cap, size_t *cntp,
                          char *errstr, size_t errstr_size)
{
        size_t total = 0, n = 0;
        if (!cntp || (nlists && !lists))
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "bad arguments to union");
        *cntp = 0;
        for (size_t i = 0; i < nlists; i++) {
                if (lists[i].arm >= LTRR_ARM_MAX ||
                    (lists[i].cnt && !lists[i].cands))
                        return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr,
                                         errstr_size, "bad list %zu", i);
                total += lists[i].cnt;
        }
        if (total > cap || (total && !out))
                return ltrr_errf(LTRR_ERR_NOSPACE, errstr, errstr_size,
                                 "union needs %zu entries, buffer has %zu",
                                 total, cap);
        for (size_t i = 0; i < nlists; i++)
                for (size_t r = 0; r < lists[i].cnt; r++) {
                        ltrr_arm_hit_t *h = &out[n++];
                        memset(h, 0, sizeof(*h));
                        h->ent = lists[i].cands[r].ent;
                        h->arms = 1u << lists[i].arm;
                        h->best_rank = (uint32_t)r;
                        h->scores[lists[i].arm] = lists[i].cands[r].score;
                }
        qsort(out, n, sizeof(*out), hit_ent_cmp);
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
                if (m && out[m - 1].ent == out[i].ent)
                        hit_merge(&out[m - 1], &out[i]);
                else if (m++ != i)
                        out[m - 1] = out[i];
        }
        qsort(out, m, sizeof(*out), hit_rank_cmp);
        *cntp = m;
        return LTRR_OK;
}
