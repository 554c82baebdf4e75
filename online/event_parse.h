/*
 * ltrr - the body of POST /v1/events: JSON in, validated Action records
 * and per-item rejections out.
 *
 * A body is either one event (a JSON object) or a batch (a JSON array of
 * objects). Each event is checked field by field; the valid ones become
 * ltrr_action_t records, the others are listed with their index in the
 * request and a reason, so a partly invalid batch is accepted in part.
 * Unknown fields are ignored and counted. Event times outside the skew
 * bounds are clamped or rejected by the configured rule.
 *
 * The module is pure: it reads bytes and a clock value given to it, and
 * never assigns action ids (see ltrr_event_action_id_derive()).
 */
#ifndef LTRR_EVENT_PARSE_H
#define LTRR_EVENT_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "records.h"

/** Largest batch any configuration may allow. */
#define LTRR_EVENT_BATCH_LIMIT 10000
/** Longest user_id, entity_id or app id, in bytes. */
#define LTRR_EVENT_ID_MAX 256
/** Longest idempotency_key, in bytes. */
#define LTRR_EVENT_IDEM_KEY_MAX 128
/** Largest position accepted (0-based). */
#define LTRR_EVENT_POSITION_MAX 100000
/** Largest duration_ms accepted: one day. */
#define LTRR_EVENT_DURATION_MAX (24LL * 3600 * 1000)
/** Longest rejection message, NUL included. */
#define LTRR_EVENT_REASON_MAX 96

/** @brief What to do with an event time beyond the skew bounds. */
typedef enum {
        LTRR_EVENT_SKEW_CLAMP = 0,  /**< move it to the nearest bound */
        LTRR_EVENT_SKEW_REJECT = 1  /**< reject the event */
} ltrr_event_skew_rule_t;

/** @brief Why an event was rejected; also the metrics label. */
typedef enum {
        LTRR_EVENT_REJ_NOT_OBJECT = 0, /**< the item is not a JSON object */
        LTRR_EVENT_REJ_MISSING,        /**< a required field is absent */
        LTRR_EVENT_REJ_TYPE,           /**< a field has the wrong JSON type */
        LTRR_EVENT_REJ_RANGE,          /**< a number is out of range */
        LTRR_EVENT_REJ_LENGTH,         /**< a string is empty or too long */
        LTRR_EVENT_REJ_FORMAT,         /**< an id or enum value is malformed */
        LTRR_EVENT_REJ_SKEW,           /**< event time beyond the bounds */
        LTRR_EVENT_REJ__CNT            /**< number of reasons */
} ltrr_event_rej_t;

/** @brief Parse options; only read during ltrr_event_parse(). */
typedef struct ltrr_event_parse_opts_s {
        size_t batch_max;    /**< most events per request, 1..LIMIT */
        int64_t now_ms;      /**< receive time, epoch ms */
        int64_t future_ms;   /**< event time may be at most now + this */
        int64_t past_ms;     /**< event time may be at least now - this */
        ltrr_event_skew_rule_t skew_rule; /**< beyond the bounds */
        const char *node_id; /**< copied into every record; not owned */
        const char *app_id;  /**< copied into every record, or NULL */
} ltrr_event_parse_opts_t;

/** @brief One rejected event. */
typedef struct ltrr_event_reject_s {
        size_t index;                       /**< position in the request */
        ltrr_event_rej_t reason;            /**< class of the error */
        const char *field;                  /**< field name, or "" */
        char message[LTRR_EVENT_REASON_MAX]; /**< "position: must be >= 0" */
} ltrr_event_reject_t;

typedef struct ltrr_event_batch_s ltrr_event_batch_t; /* eb */

/**
 * @brief Parses and validates a request body.
 *
 * Fields: impression_id (32 hex digits, or a UUID with hyphens), user_id,
 * entity_id (non-empty strings), position (integer >= 0), type (click,
 * play, like, add_to_playlist, share, skip), event_time_ms (integer epoch
 * ms; absent means the receive time), duration_ms (optional integer >= 0),
 * idempotency_key (optional string). Any other field is ignored and
 * counted.
 *
 * @param body  @p len bytes of JSON; need not be NUL-terminated.
 * @param batchp receives the batch (free with ltrr_event_batch_destroy())
 *        on LTRR_OK, even when every event was rejected.
 * @returns LTRR_OK; LTRR_ERR_PARSE for malformed JSON; LTRR_ERR_INVALID_ARG
 *          when the body is neither an object nor a non-empty array, or
 *          @p opts is invalid; LTRR_ERR_RANGE when the batch holds more
 *          than opts->batch_max events; LTRR_ERR_NOMEM.
 * @remark Thread-safe: no shared state.
 */
ltrr_err_t ltrr_event_parse(const char *body, size_t len,
                            const ltrr_event_parse_opts_t *opts,
                            ltrr_event_batch_t **batchp, char *errstr,
                            size_t errstr_size);

/** @brief Frees @p eb and every record in it. NULL is a no-op. */
void ltrr_event_batch_destroy(ltrr_event_batch_t *eb);

/** @brief Events in the request (accepted + rejected). */
size_t ltrr_event_batch_total(const ltrr_event_batch_t *eb);

/** @brief Accepted events. */
size_t ltrr_event_batch_action_cnt(const ltrr_event_batch_t *eb);

/**
 * @brief Accepted event @p i (0..action_cnt-1), in request order.
 * @returns the record, owned by @p eb and valid until it is destroyed;
 *          its strings too. The caller may set action_id. NULL past the
 *          end.
 */
ltrr_action_t *ltrr_event_batch_action(ltrr_event_batch_t *eb, size_t i);

/** @brief Index in the request of accepted event @p i. */
size_t ltrr_event_batch_action_index(const ltrr_event_batch_t *eb, size_t i);

/** @brief Rejected events. */
size_t ltrr_event_batch_reject_cnt(const ltrr_event_batch_t *eb);

/** @brief Rejection @p i, owned by @p eb, or NULL past the end. */
const ltrr_event_reject_t *
ltrr_event_batch_reject(const ltrr_event_batch_t *eb, size_t i);

/** @brief Unknown fields seen across all events. */
size_t ltrr_event_batch_unknown_fields(const ltrr_event_batch_t *eb);

/** @brief Event times moved to a skew bound (rule clamp). */
size_t ltrr_event_batch_clamped(const ltrr_event_batch_t *eb);

/** @brief Metrics label of @p rej ("missing", "skew"), never NULL. */
const char *ltrr_event_rej2str(ltrr_event_rej_t rej);

/** @brief Parses "clamp" or "reject"; -1 if unknown. */
int ltrr_event_skew_rule_parse(const char *name);

/**
 * @brief Derives the action id of a retried event: the first 16 bytes of
 *        SHA-256("ltrr.action.v1" NUL app_id NUL idempotency_key), with
 *        the version nibble set to 8 (RFC 9562 custom) and the variant
 *        bits to 10. The same (app, key) always gives the same id.
 * @param app_id may be NULL (treated as "").
 */
void ltrr_event_action_id_derive(const char *app_id, const char *idem_key,
                                 ltrr_id128_t *id);

/**
 * @brief Formats @p id as 32 lower-case hex digits into @p buf (at least
 *        33 bytes).
 */
void ltrr_event_id_hex(const ltrr_id128_t *id, char *buf, size_t size);

#endif /* LTRR_EVENT_PARSE_H */
