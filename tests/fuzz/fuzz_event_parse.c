/*
 * Fuzz target: online/event_parse.c. Any byte string must parse to a
 * batch or a request error, never crash, hang or leak. Built as a
 * libFuzzer target with -DLTRR_FUZZ=ON (clang); without libFuzzer the
 * same entry point is driven by replay_main.c over the corpus.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "event_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        ltrr_event_parse_opts_t opts = {
            .batch_max = 100,
            .now_ms = 1700000000000LL,
            .future_ms = 300000,
            .past_ms = 86400000,
            .skew_rule = size & 1 ? LTRR_EVENT_SKEW_REJECT
                                  : LTRR_EVENT_SKEW_CLAMP,
            .node_id = "fuzz",
            .app_id = "fuzz",
        };
        ltrr_event_batch_t *eb = NULL;
        char errstr[256];
        size_t i;

        if (ltrr_event_parse((const char *)data, size, &opts, &eb, errstr,
                             sizeof(errstr)) != LTRR_OK)
                return 0;
        /* Touch every output so the sanitizers see any bad pointer. */
        for (i = 0; i < ltrr_event_batch_action_cnt(eb); i++) {
                ltrr_action_t *a = ltrr_event_batch_action(eb, i);

                if (a->idempotency_key)
                        ltrr_event_action_id_derive(a->app_id,
                                                    a->idempotency_key,
                                                    &a->action_id);
                if (strlen(a->user_id) + strlen(a->entity_id) == 0)
                        __builtin_trap(); /* validated non-empty */
        }
        for (i = 0; i < ltrr_event_batch_reject_cnt(eb); i++)
                if (!memchr(ltrr_event_batch_reject(eb, i)->message, '\0',
                            LTRR_EVENT_REASON_MAX))
                        __builtin_trap(); /* message not terminated */
        ltrr_event_batch_destroy(eb);
        return 0;
}
