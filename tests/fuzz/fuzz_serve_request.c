/*
 * Fuzz target: online/search_request.c, the ltrr-serve request parser.
 * The first byte picks the form (even: URL query string, odd: JSON
 * body); the rest is the input. Any bytes must parse to parameters or
 * a client error, never crash, hang or leak; parsed parameters must
 * keep their bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "search.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        ltrr_search_params_t p;
        char errstr[256], *s;
        ltrr_err_t err;

        if (size < 1)
                return 0;
        if (!(s = malloc(size)))
                return 0;
        /* The query string arrives NUL-terminated, the body by length. */
        memcpy(s, data + 1, size - 1);
        s[size - 1] = '\0';
        if (data[0] & 1)
                err = ltrr_search_params_json(s, size - 1, &p, 10, errstr,
                                              sizeof(errstr));
        else
                err = ltrr_search_params_query(s, &p, 10, errstr,
                                               sizeof(errstr));
        if (err == LTRR_OK) {
                /* Bounds the pipeline relies on. */
                if (strlen(p.user) >= sizeof(p.user) ||
                    strlen(p.session) >= sizeof(p.session) ||
                    strlen(p.lang) >= sizeof(p.lang) ||
                    (p.has_q && p.q_len <= LTRR_SEARCH_Q_MAX &&
                     p.q[p.q_len] != '\0') ||
                    p.k > LTRR_SEARCH_K_PARSE_MAX ||
                    (unsigned)p.mode >= LTRR_SEARCH_MODE__CNT)
                        abort();
        } else if (!errstr[0]) {
                abort(); /* every refusal has a reason */
        }
        free(s);
        return 0;
}
