/*
 * ltrr - per-group popularity bounds for the lexical pass's tie-break
 * (arm_popmax.h).
 */
#include <math.h>

#include "arm_popmax.h"
#include "index_int.h"

/* Smallest shift that maps entities 0..n-1 into the groups. */
static uint32_t shift_for(uint32_t n)
{
        uint32_t s = 0;
        while (((uint64_t)n + (1ull << s) - 1) >> s > LTRR_ARM_POPMAX_GROUPS)
                s++;
        return s;
}

const ltrr_arm_popmax_t *ltrr_arm_popmax_get(ltrr_arm_popmax_t *pm,
                                             const ltrr_index_t *ix)
{
        if (!pm || !ix)
                return NULL;
        if (pm->feats == (const void *)ix->feats && pm->n == ix->n)
                return pm;
        pm->feats = NULL;
        pm->n = ix->n;
        pm->shift = shift_for(ix->n);
        for (uint32_t g = 0; g < LTRR_ARM_POPMAX_GROUPS; g++)
                pm->max[g] = -INFINITY;
        for (uint32_t e = 0; e < ix->n; e++) {
                float p = ix->feats[e].popularity;
                float *m = &pm->max[e >> pm->shift];
                if (p > *m)
                        *m = p;
        }
        pm->feats = ix->feats;
        return pm;
}
