/*
 * ltrr - Q2E memory: key layout and the blend (see q2e.h).
 */
#include "q2e.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "learn_plan.h"

double ltrr_q2e_blend(double observed, double predicted, double impressions,
                      double alpha)
{
        double den = impressions + alpha;

        if (!isfinite(observed) || !isfinite(predicted) ||
            !isfinite(impressions) || !isfinite(alpha) || alpha < 0 ||
            den <= 0)
                return 0.0;
        return (observed + alpha * predicted) / den;
}

/* Escapes @p query into @p esc after checking its length. */
static ltrr_err_t q2e_escape(char *esc, size_t size, const char *query,
                             char *errstr, size_t errstr_size)
{
        size_t len;

        if (!query || !*query)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "empty query");
        len = strlen(query);
        if (len > LTRR_Q2E_QUERY_MAX)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "query of %zu bytes exceeds %d", len,
                                 LTRR_Q2E_QUERY_MAX);
        return ltrr_learn_key_escape(esc, size, query, errstr, errstr_size);
}

ltrr_err_t ltrr_q2e_tag(char *buf, size_t size, const char *query,
                        char *errstr, size_t errstr_size)
{
        char esc[3 * LTRR_Q2E_QUERY_MAX + 1];
        ltrr_err_t err;
        int n;

        err = q2e_escape(esc, sizeof(esc), query, errstr, errstr_size);
        if (err)
                return err;
        n = snprintf(buf, size, "{q:%s}", esc);
        if (n < 0 || (size_t)n >= size)
                return ltrr_errf(LTRR_ERR_NOSPACE, errstr, errstr_size,
                                 "q2e tag needs %d bytes", n + 1);
        return LTRR_OK;
}

ltrr_err_t ltrr_q2e_key(char *buf, size_t size, const char *query, int meta,
                        char *errstr, size_t errstr_size)
{
        char esc[3 * LTRR_Q2E_QUERY_MAX + 1];
        ltrr_err_t err;
        int n;

        err = q2e_escape(esc, sizeof(esc), query, errstr, errstr_size);
        if (err)
                return err;
        n = snprintf(buf, size, "ltrr:q2e:{q:%s}%s", esc, meta ? ":meta" : "");
        if (n < 0 || (size_t)n >= size)
                return ltrr_errf(LTRR_ERR_NOSPACE, errstr, errstr_size,
                                 "q2e key needs %d bytes", n + 1);
        return LTRR_OK;
}
