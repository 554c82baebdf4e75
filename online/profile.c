/*
 * ltrr - user profile and popularity key layout (see profile.h).
 */
#include "profile.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "learn_plan.h"

ltrr_err_t ltrr_profile_key(char *buf, size_t size, const char *user,
                            ltrr_profile_kind_t kind, char *errstr,
                            size_t errstr_size)
{
        char esc[3 * LTRR_PROFILE_USER_MAX + 1];
        ltrr_err_t err;
        size_t len;
        int n;

        if (!user || !*user)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "empty user id");
        if (kind != LTRR_PROFILE_RECENT && kind != LTRR_PROFILE_AFFINITY)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "unknown profile key kind %d", (int)kind);
        len = strlen(user);
        if (len > LTRR_PROFILE_USER_MAX)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "user id of %zu bytes exceeds %d", len,
                                 LTRR_PROFILE_USER_MAX);
        err = ltrr_learn_key_escape(esc, sizeof(esc), user, errstr,
                                    errstr_size);
        if (err)
                return err;
        n = snprintf(buf, size, "ltrr:user:{u:%s}:%s", esc,
                     kind == LTRR_PROFILE_RECENT ? "recent" : "aff");
        if (n < 0 || (size_t)n >= size)
                return ltrr_errf(LTRR_ERR_NOSPACE, errstr, errstr_size,
                                 "profile key needs %d bytes", n + 1);
        return LTRR_OK;
}

double ltrr_profile_pop_decay(double score, double epoch, double now,
                              double half_life)
{
        if (!(half_life > 0))
                return score;
        return score * exp2(-(now - epoch) / half_life);
}

double ltrr_profile_epoch_align(double t, double half_life)
{
        double span = 32.0 * half_life;

        if (!(half_life > 0) || !isfinite(t))
                return 0.0;
        return floor(t / span) * span;
}
