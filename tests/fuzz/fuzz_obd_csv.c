/*
 * Fuzz target: the Open Bandit Dataset log reader (online/obd.c,
 * ltrr_obd_log_read()) and, on the first input byte, the Beta prior
 * reader (ltrr_obd_prior_new()).
 *
 * sel % 2 == 0: the rest is a log CSV, read with a tolerance of 0..7 bad
 * rows (sel / 2 % 8); every kept row must be within the documented
 * bounds and the counts must add up. sel % 2 == 1: the rest is a prior.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "obd.h"

/** Largest input looked at; longer inputs are ignored. */
#define FUZZ_INPUT_MAX (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every row within bounds, counts consistent. */
static void fuzz_check_log(const ltrr_obd_log_t *log,
                           const ltrr_obd_stats_t *st, uint64_t max_bad)
{
        size_t i, n = ltrr_obd_log_count(log);
        double ctr;

        if (n == 0 || st->rows != n || st->bad > max_bad ||
            ltrr_obd_log_items(log) > LTRR_OBD_ITEMS_MAX ||
            ltrr_obd_log_positions(log) > LTRR_OBD_POSITIONS_MAX)
                __builtin_trap();
        for (i = 0; i < n; i++) {
                const ltrr_obd_row_t *r = ltrr_obd_log_row(log, i);

                if (r->item >= ltrr_obd_log_items(log) ||
                    r->position >= ltrr_obd_log_positions(log) ||
                    r->click > 1 || !(r->propensity > 0) || r->propensity > 1)
                        __builtin_trap();
        }
        ctr = ltrr_obd_log_ctr(log);
        if (!(ctr >= 0 && ctr <= 1))
                __builtin_trap();
}

static void fuzz_log(FILE *fp, uint64_t max_bad)
{
        ltrr_obd_log_t *log = NULL;
        ltrr_obd_stats_t st;
        char errstr[256];

        if (!(log = ltrr_obd_log_new(errstr, sizeof(errstr))))
                return;
        if (ltrr_obd_log_read(log, fp, max_bad, &st, errstr, sizeof(errstr)) ==
            LTRR_OK)
                fuzz_check_log(log, &st, max_bad);
        else if (!memchr(errstr, '\0', sizeof(errstr)) ||
                 !memchr(st.first_bad, '\0', sizeof(st.first_bad)))
                __builtin_trap();
        ltrr_obd_log_destroy(log);
}

static void fuzz_prior(FILE *fp)
{
        ltrr_obd_prior_t *prior;
        char errstr[256];

        prior = ltrr_obd_prior_new(fp, errstr, sizeof(errstr));
        if (prior && (ltrr_obd_prior_items(prior) == 0 ||
                      ltrr_obd_prior_items(prior) > LTRR_OBD_ITEMS_MAX))
                __builtin_trap();
        if (!prior && !memchr(errstr, '\0', sizeof(errstr)))
                __builtin_trap();
        ltrr_obd_prior_destroy(prior);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        unsigned sel;
        FILE *fp;

        if (size < 1 || size > FUZZ_INPUT_MAX)
                return 0;
        sel = data[0];
        /* fmemopen refuses a zero size: an empty rest is an empty file. */
        fp = size > 1 ? fmemopen((void *)(data + 1), size - 1, "rb")
                      : fopen("/dev/null", "rb");
        if (!fp)
                return 0;
        if (sel % 2 == 0)
                fuzz_log(fp, sel / 2 % 8);
        else
                fuzz_prior(fp);
        fclose(fp);
        return 0;
}
