/*
 * ltrr - POST /v1/events bodies: JSON to validated Action records.
 * The records' strings point into the parsed JSON document, which the
 * batch keeps alive, so nothing is copied per event.
 */
#include "event_parse.h"

#include <jansson.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ltrr_event_batch_s {
        json_t *root;                 /* owns every string of acts */
        size_t total;                 /* events in the request */
        ltrr_action_t *acts;          /* act_cnt accepted records */
        size_t *act_index;            /* request index of each record */
        size_t act_cnt;               /* accepted */
        ltrr_event_reject_t *rejs;    /* rej_cnt rejections */
        size_t rej_cnt;               /* rejected */
        size_t unknown_fields;        /* fields ignored */
        size_t clamped;               /* event times clamped */
};

static const char *const rej_names[LTRR_EVENT_REJ__CNT] = {
    "not_object", "missing", "type", "range", "length", "format", "skew",
};

/* Wire names of ltrr_action_type_t, indexed by the enum (0 unused). */
static const char *const type_names[LTRR_ACTION__CNT] = {
    NULL, "click", "play", "like", "add_to_playlist", "share", "skip",
};

/* The fields this parser knows; anything else is counted as unknown. */
static const char *const known_fields[] = {
    "impression_id", "user_id",  "entity_id",       "position", "type",
    "event_time_ms", "duration_ms", "idempotency_key", NULL,
};

const char *ltrr_event_rej2str(ltrr_event_rej_t rej)
{
        if ((int)rej < 0 || rej >= LTRR_EVENT_REJ__CNT)
                return "unknown";
        return rej_names[rej];
}

int ltrr_event_skew_rule_parse(const char *name)
{
        if (name && !strcmp(name, "clamp"))
                return LTRR_EVENT_SKEW_CLAMP;
        if (name && !strcmp(name, "reject"))
                return LTRR_EVENT_SKEW_REJECT;
        return -1;
}

/* A validation failure for one event: the reason class and message. */
typedef struct item_err_s {
        ltrr_event_rej_t reason; /* class */
        const char *field;       /* static field name */
        char message[LTRR_EVENT_REASON_MAX]; /* text for the client */
} item_err_t;

/* Records a failure in @ie; returns -1 so callers can `return fail(...)`. */
static int fail(item_err_t *ie, ltrr_event_rej_t reason, const char *field,
                const char *what)
{
        ie->reason = reason;
        ie->field = field;
        snprintf(ie->message, sizeof(ie->message), "%s: %s", field, what);
        return -1;
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/*
 * Parses 32 hex digits, or a UUID (8-4-4-4-12 with hyphens), into @id.
 * Returns 0 or -1.
 */
static int parse_id128(const char *s, size_t len, ltrr_id128_t *id)
{
        size_t i, n = 0;
        int hi, lo;

        if (len != 32 && len != 36)
                return -1;
        for (i = 0; i < len && n < 16;) {
                if (len == 36 && (i == 8 || i == 13 || i == 18 || i == 23)) {
                        if (s[i++] != '-')
                                return -1;
                        continue;
                }
                if (i + 1 >= len || (hi = hexval(s[i])) < 0 ||
                    (lo = hexval(s[i + 1])) < 0)
                        return -1;
                id->b[n++] = (uint8_t)(hi << 4 | lo);
                i += 2;
        }
        return n == 16 && i == len ? 0 : -1;
}

/*
 * Reads string field @name of @obj into *@out. A string must be 1..@max
 * bytes without NUL. Absent: 0 with *out NULL when !@required.
 */
static int get_string(json_t *obj, const char *name, size_t max,
                      int required, const char **out, item_err_t *ie)
{
        json_t *v = json_object_get(obj, name);
        size_t len;

        *out = NULL;
        if (!v || json_is_null(v))
                return required ? fail(ie, LTRR_EVENT_REJ_MISSING, name,
                                       "is required")
                                : 0;
        if (!json_is_string(v))
                return fail(ie, LTRR_EVENT_REJ_TYPE, name, "must be a string");
        len = json_string_length(v);
        if (len == 0 || len > max)
                return fail(ie, LTRR_EVENT_REJ_LENGTH, name,
                            len ? "is too long" : "must not be empty");
        if (memchr(json_string_value(v), '\0', len))
                return fail(ie, LTRR_EVENT_REJ_FORMAT, name,
                            "must not contain NUL");
        *out = json_string_value(v);
        return 0;
}

/*
 * Reads integer field @name into *@out, bounded by [@lo, @hi]. Absent:
 * *present = 0 (or an error when @required).
 */
static int get_int(json_t *obj, const char *name, int64_t lo, int64_t hi,
                   int required, int64_t *out, int *present, item_err_t *ie)
{
        json_t *v = json_object_get(obj, name);
        char msg[64];

        *present = 0;
        if (!v || json_is_null(v))
                return required ? fail(ie, LTRR_EVENT_REJ_MISSING, name,
                                       "is required")
                                : 0;
        if (!json_is_integer(v))
                return fail(ie, LTRR_EVENT_REJ_TYPE, name,
                            "must be an integer");
        *out = (int64_t)json_integer_value(v);
        if (*out < lo || *out > hi) {
                snprintf(msg, sizeof(msg), "must be in %lld..%lld",
                         (long long)lo, (long long)hi);
                return fail(ie, LTRR_EVENT_REJ_RANGE, name, msg);
        }
        *present = 1;
        return 0;
}

/* Reads the type enum. */
static int get_type(json_t *obj, ltrr_action_type_t *type, item_err_t *ie)
{
        const char *s;
        int i;

        if (get_string(obj, "type", 32, 1, &s, ie))
                return -1;
        for (i = 1; i < LTRR_ACTION__CNT; i++)
                if (!strcmp(s, type_names[i])) {
                        *type = (ltrr_action_type_t)i;
                        return 0;
                }
        return fail(ie, LTRR_EVENT_REJ_FORMAT, "type",
                    "must be click, play, like, add_to_playlist, share "
                    "or skip");
}

/*
 * Applies the skew rule to act->event_time_ms. Returns 0 (possibly with
 * *clamped set) or -1 when the rule rejects.
 */
static int apply_skew(const ltrr_event_parse_opts_t *opts,
                      ltrr_action_t *act, int *clamped, item_err_t *ie)
{
        int64_t hi = opts->now_ms + opts->future_ms;
        int64_t lo = opts->now_ms - opts->past_ms;
        int64_t t = act->event_time_ms;

        *clamped = 0;
        if (t >= lo && t <= hi)
                return 0;
        if (opts->skew_rule == LTRR_EVENT_SKEW_REJECT)
                return fail(ie, LTRR_EVENT_REJ_SKEW, "event_time_ms",
                            t > hi ? "too far in the future"
                                   : "too far in the past");
        act->event_time_ms = t > hi ? hi : lo;
        *clamped = 1;
        return 0;
}

/* Validates the identity fields of one event into @act. */
static int parse_ids(json_t *obj, ltrr_action_t *act, item_err_t *ie)
{
        const char *imp;

        if (get_string(obj, "impression_id", 64, 1, &imp, ie))
                return -1;
        if (parse_id128(imp, strlen(imp), &act->impression_id))
                return fail(ie, LTRR_EVENT_REJ_FORMAT, "impression_id",
                            "must be 32 hex digits or a UUID");
        if (get_string(obj, "user_id", LTRR_EVENT_ID_MAX, 1, &act->user_id,
                       ie) ||
            get_string(obj, "entity_id", LTRR_EVENT_ID_MAX, 1,
                       &act->entity_id, ie) ||
            get_string(obj, "idempotency_key", LTRR_EVENT_IDEM_KEY_MAX, 0,
                       &act->idempotency_key, ie))
                return -1;
        return 0;
}

/*
 * Validates one event into @act. Returns 0, or -1 with @ie filled.
 * *clamped tells whether the event time was clamped.
 */
static int parse_item(json_t *obj, const ltrr_event_parse_opts_t *opts,
                      ltrr_action_t *act, int *clamped, item_err_t *ie)
{
        int64_t v = 0;
        int present;

        *clamped = 0;
        if (!json_is_object(obj))
                return fail(ie, LTRR_EVENT_REJ_NOT_OBJECT, "",
                            "an event must be a JSON object");
        memset(act, 0, sizeof(*act));
        act->schema_version = LTRR_RECORDS_SCHEMA_VERSION;
        act->node_id = opts->node_id;
        act->app_id = opts->app_id;
        act->received_time_ms = opts->now_ms;
        if (parse_ids(obj, act, ie) || get_type(obj, &act->type, ie))
                return -1;
        if (get_int(obj, "position", 0, LTRR_EVENT_POSITION_MAX, 1, &v,
                    &present, ie))
                return -1;
        act->position = (int32_t)v;
        if (get_int(obj, "duration_ms", 0, LTRR_EVENT_DURATION_MAX, 0, &v,
                    &present, ie))
                return -1;
        act->has_duration_ms = present;
        act->duration_ms = present ? v : 0;
        if (get_int(obj, "event_time_ms", 0, INT64_MAX / 4, 0, &v, &present,
                    ie))
                return -1;
        act->event_time_ms = present ? v : opts->now_ms;
        return apply_skew(opts, act, clamped, ie);
}

/* Counts the fields of @obj that this parser does not know. */
static size_t count_unknown(json_t *obj)
{
        const char *key;
        json_t *v;
        size_t n = 0, i;

        if (!json_is_object(obj))
                return 0;
        json_object_foreach(obj, key, v) {
                for (i = 0; known_fields[i]; i++)
                        if (!strcmp(key, known_fields[i]))
                                break;
                n += known_fields[i] == NULL;
        }
        return n;
}

/* Validates every item and sorts it into accepted or rejected. */
static void batch_fill(ltrr_event_batch_t *eb,
                       const ltrr_event_parse_opts_t *opts)
{
        size_t i;
        int clamped;
        item_err_t ie;

        for (i = 0; i < eb->total; i++) {
                json_t *obj = json_is_array(eb->root)
                                  ? json_array_get(eb->root, i)
                                  : eb->root;
                ltrr_action_t *act = &eb->acts[eb->act_cnt];
                ltrr_event_reject_t *rej;

                eb->unknown_fields += count_unknown(obj);
                if (parse_item(obj, opts, act, &clamped, &ie) == 0) {
                        eb->act_index[eb->act_cnt++] = i;
                        eb->clamped += (size_t)clamped;
                        continue;
                }
                rej = &eb->rejs[eb->rej_cnt++];
                rej->index = i;
                rej->reason = ie.reason;
                rej->field = ie.field;
                memcpy(rej->message, ie.message, sizeof(rej->message));
        }
}

static int opts_valid(const ltrr_event_parse_opts_t *opts)
{
        return opts && opts->batch_max >= 1 &&
               opts->batch_max <= LTRR_EVENT_BATCH_LIMIT &&
               opts->future_ms >= 0 && opts->past_ms >= 0 &&
               opts->node_id &&
               (opts->skew_rule == LTRR_EVENT_SKEW_CLAMP ||
                opts->skew_rule == LTRR_EVENT_SKEW_REJECT);
}

/* Decodes the JSON document; sets *total. */
static ltrr_err_t batch_load(ltrr_event_batch_t *eb, const char *body,
                             size_t len, size_t batch_max, char *errstr,
                             size_t errstr_size)
{
        json_error_t jerr;

        eb->root = json_loadb(body, len,
                              JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
        if (!eb->root)
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "malformed JSON at line %d column %d: %s",
                                 jerr.line, jerr.column, jerr.text);
        if (json_is_object(eb->root)) {
                eb->total = 1;
                return LTRR_OK;
        }
        eb->total = json_array_size(eb->root);
        if (eb->total == 0)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "the batch is empty");
        if (eb->total > batch_max)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "batch of %zu events exceeds the limit of "
                                 "%zu",
                                 eb->total, batch_max);
        return LTRR_OK;
}

ltrr_err_t ltrr_event_parse(const char *body, size_t len,
                            const ltrr_event_parse_opts_t *opts,
                            ltrr_event_batch_t **batchp, char *errstr,
                            size_t errstr_size)
{
        ltrr_event_batch_t *eb = NULL;
        ltrr_err_t err;

        *batchp = NULL;
        if (!body || !opts_valid(opts))
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "invalid parse options");
        if (!(eb = calloc(1, sizeof(*eb))))
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "no memory");
        err = batch_load(eb, body, len, opts->batch_max, errstr, errstr_size);
        if (err)
                goto err;
        eb->acts = calloc(eb->total, sizeof(*eb->acts));
        eb->act_index = calloc(eb->total, sizeof(*eb->act_index));
        eb->rejs = calloc(eb->total, sizeof(*eb->rejs));
        if (!eb->acts || !eb->act_index || !eb->rejs) {
                err = ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                "no memory");
                goto err;
        }
        batch_fill(eb, opts);
        *batchp = eb;
        return LTRR_OK;
err:
        ltrr_event_batch_destroy(eb);
        return err;
}

void ltrr_event_batch_destroy(ltrr_event_batch_t *eb)
{
        if (!eb)
                return;
        if (eb->root)
                json_decref(eb->root);
        free(eb->acts);
        free(eb->act_index);
        free(eb->rejs);
        free(eb);
}

size_t ltrr_event_batch_total(const ltrr_event_batch_t *eb)
{
        return eb->total;
}

size_t ltrr_event_batch_action_cnt(const ltrr_event_batch_t *eb)
{
        return eb->act_cnt;
}

ltrr_action_t *ltrr_event_batch_action(ltrr_event_batch_t *eb, size_t i)
{
        return i < eb->act_cnt ? &eb->acts[i] : NULL;
}

size_t ltrr_event_batch_action_index(const ltrr_event_batch_t *eb, size_t i)
{
        return i < eb->act_cnt ? eb->act_index[i] : 0;
}

size_t ltrr_event_batch_reject_cnt(const ltrr_event_batch_t *eb)
{
        return eb->rej_cnt;
}

const ltrr_event_reject_t *
ltrr_event_batch_reject(const ltrr_event_batch_t *eb, size_t i)
{
        return i < eb->rej_cnt ? &eb->rejs[i] : NULL;
}

size_t ltrr_event_batch_unknown_fields(const ltrr_event_batch_t *eb)
{
        return eb->unknown_fields;
}

size_t ltrr_event_batch_clamped(const ltrr_event_batch_t *eb)
{
        return eb->clamped;
}

void ltrr_event_action_id_derive(const char *app_id, const char *idem_key,
                                 ltrr_id128_t *id)
{
        static const char domain[] = "ltrr.action.v1";
        /* domain NUL app NUL key: both parts are bounded by the parser
         * and the key table; longer ones are cut, never overflowed. */
        char buf[sizeof(domain) + 2 * LTRR_EVENT_ID_MAX + 2];
        unsigned char md[SHA256_DIGEST_LENGTH];
        const char *app = app_id ? app_id : "";
        size_t alen = strnlen(app, LTRR_EVENT_ID_MAX);
        size_t klen = strnlen(idem_key, LTRR_EVENT_ID_MAX);
        size_t n = 0;

        memcpy(buf, domain, sizeof(domain));
        n += sizeof(domain);
        memcpy(buf + n, app, alen);
        n += alen;
        buf[n++] = '\0';
        memcpy(buf + n, idem_key, klen);
        n += klen;
        SHA256((const unsigned char *)buf, n, md);
        memcpy(id->b, md, 16);
        id->b[6] = (uint8_t)((id->b[6] & 0x0f) | 0x80);
        id->b[8] = (uint8_t)((id->b[8] & 0x3f) | 0x80);
}

void ltrr_event_id_hex(const ltrr_id128_t *id, char *buf, size_t size)
{
        static const char hex[] = "0123456789abcdef";
        size_t i;

        if (size < 33) {
                if (size)
                        buf[0] = '\0';
                return;
        }
        for (i = 0; i < 16; i++) {
                buf[2 * i] = hex[id->b[i] >> 4];
                buf[2 * i + 1] = hex[id->b[i] & 15];
        }
        buf[32] = '\0';
}
