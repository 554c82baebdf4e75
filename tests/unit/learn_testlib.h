/*
 * Shared by the learner plan's unit tests: a plan configuration over the
 * named arms with budget levels 10 and 20.
 */
#ifndef LTRR_LEARN_TESTLIB_H
#define LTRR_LEARN_TESTLIB_H

#include <string.h>

#include "learn_plan.h"

/* A configuration with @p n arms named @p arms, budgets {10, 20}, total
 * @p total, a one-hour bandit half-life and small Q2E and profile
 * bounds. */
static inline ltrr_learn_conf_t learn_test_conf(const char *const *arms,
                                                size_t n, unsigned total)
{
        ltrr_learn_conf_t c;
        size_t a;

        memset(&c, 0, sizeof(c));
        c.space.n_arms = n;
        for (a = 0; a < n; a++)
                strcpy(c.space.arm_names[a], arms[a]);
        c.space.n_budgets = 2;
        c.space.budgets[0] = 10;
        c.space.budgets[1] = 20;
        c.space.total_budget = total;
        c.bandit_half_life = 3600;
        c.dedup_ttl_s = 86400;
        c.q2e.max = 10;
        c.q2e.ttl_s = 600;
        c.profile.recent_max = 5;
        c.profile.affinity_max = 7;
        c.profile.ttl_s = 900;
        c.profile.pop_max = 100;
        c.profile.pop_half_life = 86400;
        return c;
}

#endif /* LTRR_LEARN_TESTLIB_H */
