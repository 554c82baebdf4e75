/*
 * Unit tests: online/event_parse.c - POST /v1/events bodies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "event_parse.h"

#define NOW 1700000000000LL
#define IMP "0123456789abcdef0123456789ABCDEF"

static ltrr_event_parse_opts_t opts_default(void)
{
        ltrr_event_parse_opts_t o = {
            .batch_max = 10,
            .now_ms = NOW,
            .future_ms = 60000,
            .past_ms = 3600000,
            .skew_rule = LTRR_EVENT_SKEW_CLAMP,
            .node_id = "n1",
            .app_id = "app",
        };
        return o;
}

/* Parses @body with @o; asserts LTRR_OK. */
static ltrr_event_batch_t *parse_ok(const char *body,
                                    const ltrr_event_parse_opts_t *o)
{
        ltrr_event_batch_t *eb = NULL;
        char errstr[256];

        assert_int_equal(ltrr_event_parse(body, strlen(body), o, &eb, errstr,
                                          sizeof(errstr)),
                         LTRR_OK);
        assert_non_null(eb);
        return eb;
}

static void test_single_event_all_fields(void **state)
{
        ltrr_event_parse_opts_t o = opts_default();
        ltrr_event_batch_t *eb = parse_ok(
            "{\"impression_id\":\"" IMP "\",\"user_id\":\"u1\","
            "\"entity_id\":\"e9\",\"position\":4,\"type\":\"add_to_playlist\","
            "\"event_time_ms\":1699999999000,\"duration_ms\":1500,"
            "\"idempotency_key\":\"k-1\"}",
            &o);
        ltrr_action_t *a;

        assert_int_equal(ltrr_event_batch_total(eb), 1);
        assert_int_equal(ltrr_event_batch_action_cnt(eb), 1);
        assert_int_equal(ltrr_event_batch_reject_cnt(eb), 0);
        a = ltrr_event_batch_action(eb, 0);
        assert_int_equal(a->impression_id.b[0], 0x01);
        assert_int_equal(a->impression_id.b[15], 0xef);
        assert_string_equal(a->user_id, "u1");
        assert_string_equal(a->entity_id, "e9");
        assert_int_equal(a->position, 4);
        assert_int_equal(a->type, LTRR_ACTION_ADD_TO_PLAYLIST);
        assert_int_equal(a->event_time_ms, 1699999999000LL);
        assert_int_equal(a->received_time_ms, NOW);
        assert_true(a->has_duration_ms);
        assert_int_equal(a->duration_ms, 1500);
        assert_string_equal(a->idempotency_key, "k-1");
        assert_string_equal(a->app_id, "app");
        assert_string_equal(a->node_id, "n1");
        assert_int_equal(a->schema_version, 1);
        assert_null(ltrr_event_batch_action(eb, 1));
        ltrr_event_batch_destroy(eb);
}

static void test_defaults_and_uuid(void **state)
{
        ltrr_event_parse_opts_t o = opts_default();
        ltrr_event_batch_t *eb = parse_ok(
            "[{\"impression_id\":\"01234567-89ab-cdef-0123-456789abcdef\","
            "\"user_id\":\"u\",\"entity_id\":\"e\",\"position\":0,"
            "\"type\":\"skip\",\"duration_ms\":null}]",
            &o);
        ltrr_action_t *a = ltrr_event_batch_action(eb, 0);

        assert_non_null(a);
        assert_int_equal(a->impression_id.b[4], 0x89);
        assert_int_equal(a->event_time_ms, NOW); /* absent: receive time */
        assert_false(a->has_duration_ms);
        assert_null(a->idempotency_key);
        ltrr_event_batch_destroy(eb);
}

/* One bad event per case: the reason class and field must be right. */
static void test_every_field_error(void **state)
{
        static const struct {
                const char *ev;
                ltrr_event_rej_t reason;
                const char *field;
        } cases[] = {
            {"1", LTRR_EVENT_REJ_NOT_OBJECT, ""},
            {"{\"user_id\":\"u\",\"entity_id\":\"e\",\"position\":1,"
             "\"type\":\"click\"}",
             LTRR_EVENT_REJ_MISSING, "impression_id"},
            {"{\"impression_id\":\"xyz\",\"user_id\":\"u\",\"entity_id\":"
             "\"e\",\"position\":1,\"type\":\"click\"}",
             LTRR_EVENT_REJ_FORMAT, "impression_id"},
            {"{\"impression_id\":\"" IMP "\",\"entity_id\":\"e\","
             "\"position\":1,\"type\":\"click\"}",
             LTRR_EVENT_REJ_MISSING, "user_id"},
            {"{\"impression_id\":\"" IMP "\",\"user_id\":7,\"entity_id\":"
             "\"e\",\"position\":1,\"type\":\"click\"}",
             LTRR_EVENT_REJ_TYPE, "user_id"},
            {"{\"impression_id\":\"" IMP "\",\"user_id\":\"\",\"entity_id\":"
             "\"e\",\"position\":1,\"type\":\"click\"}",
             LTRR_EVENT_REJ_LENGTH, "user_id"},
            {"{\"impression_id\":\"" IMP "\",\"user_id\":\"a\\u0000b\","
             "\"entity_id\":\"e\",\"position\":1,\"type\":\"click\"}",
             LTRR_EVENT_REJ_FORMAT, "user_id"},
            {"{\"impression_id\":\"" IMP "\",\"user_id\":\"u\","
             "\"position\":1,\"type\":\"click\"}",
             LTRR_EVENT_REJ_MISSING, "entity_id"},
            {"{\"impression_id\":\"" IMP "\",\"user_id\":\"u\",\"entity_id\":"
             "\"e\",\"type\":\"click\"}",
             LTRR_EVENT_REJ_MISSING, "position"},
            {"{\"impression_id\":\"" IMP "\",\"user_id\":\"u\",\"entity_id\":"
             "\"e\",\"position\":-1,\"type\":\"click\"}",
             LTRR_EVENT_REJ_RANGE, "position"},
            {"{\"impression_id\":\"" IMP "\",\"user_id\":\"u\",\"entity_id\":"
             "\"e\",\"position\":1.5,\"type\":\"click\"}",
             LTRR_EVENT_REJ_TYPE, "position"},
            {"{\"impression_id\":\"" IMP "\",\"user_id\":\"u\",\"entity_id\":"
             "\"e\",\"position\":1}",
             LTRR_EVENT_REJ_MISSING, "type"},
            {"{\"impression_id\":\"" IMP "\",\"user_id\":\"u\",\"entity_id\":"
             "\"e\",\"position\":1,\"type\":\"unknown\"}",
             LTRR_EVENT_REJ_FORMAT, "type"},
            {"{\"impression_id\":\"" IMP "\",\"user_id\":\"u\",\"entity_id\":"
             "\"e\",\"position\":1,\"type\":\"play\",\"duration_ms\":-5}",
             LTRR_EVENT_REJ_RANGE, "duration_ms"},
            {"{\"impression_id\":\"" IMP "\",\"user_id\":\"u\",\"entity_id\":"
             "\"e\",\"position\":1,\"type\":\"play\",\"duration_ms\":\"5\"}",
             LTRR_EVENT_REJ_TYPE, "duration_ms"},
            {"{\"impression_id\":\"" IMP "\",\"user_id\":\"u\",\"entity_id\":"
             "\"e\",\"position\":1,\"type\":\"play\",\"event_time_ms\":\"x\"}",
             LTRR_EVENT_REJ_TYPE, "event_time_ms"},
            {"{\"impression_id\":\"" IMP "\",\"user_id\":\"u\",\"entity_id\":"
             "\"e\",\"position\":1,\"type\":\"play\",\"idempotency_key\":1}",
             LTRR_EVENT_REJ_TYPE, "idempotency_key"},
        };
        ltrr_event_parse_opts_t o = opts_default();
        size_t i;

        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char body[1024];
                ltrr_event_batch_t *eb;
                const ltrr_event_reject_t *r;

                snprintf(body, sizeof(body), "[%s]", cases[i].ev);
                eb = parse_ok(body, &o);
                assert_int_equal(ltrr_event_batch_action_cnt(eb), 0);
                assert_int_equal(ltrr_event_batch_reject_cnt(eb), 1);
                r = ltrr_event_batch_reject(eb, 0);
                assert_int_equal(r->index, 0);
                if (r->reason != cases[i].reason ||
                    strcmp(r->field, cases[i].field))
                        fail_msg("case %zu: got %s/%s (%s)", i,
                                 ltrr_event_rej2str(r->reason), r->field,
                                 r->message);
                assert_non_null(strstr(r->message, cases[i].field));
                ltrr_event_batch_destroy(eb);
        }
}

static void test_long_strings(void **state)
{
        ltrr_event_parse_opts_t o = opts_default();
        char body[2048], id[LTRR_EVENT_ID_MAX + 2];
        ltrr_event_batch_t *eb;

        memset(id, 'x', sizeof(id) - 1);
        id[sizeof(id) - 1] = '\0';
        snprintf(body, sizeof(body),
                 "{\"impression_id\":\"" IMP "\",\"user_id\":\"u\","
                 "\"entity_id\":\"%s\",\"position\":1,\"type\":\"like\"}",
                 id);
        eb = parse_ok(body, &o);
        assert_int_equal(ltrr_event_batch_reject(eb, 0)->reason,
                         LTRR_EVENT_REJ_LENGTH);
        ltrr_event_batch_destroy(eb);
        id[LTRR_EVENT_ID_MAX] = '\0'; /* exactly the maximum is fine */
        snprintf(body, sizeof(body),
                 "{\"impression_id\":\"" IMP "\",\"user_id\":\"u\","
                 "\"entity_id\":\"%s\",\"position\":1,\"type\":\"like\"}",
                 id);
        eb = parse_ok(body, &o);
        assert_int_equal(ltrr_event_batch_action_cnt(eb), 1);
        ltrr_event_batch_destroy(eb);
}

static void test_partial_batch_and_unknown(void **state)
{
        ltrr_event_parse_opts_t o = opts_default();
        ltrr_event_batch_t *eb = parse_ok(
            "[{\"impression_id\":\"" IMP "\",\"user_id\":\"u\",\"entity_id\":"
            "\"a\",\"position\":0,\"type\":\"click\",\"x\":1,\"y\":[]},"
            "{\"user_id\":\"u\"},"
            "{\"impression_id\":\"" IMP "\",\"user_id\":\"u\",\"entity_id\":"
            "\"b\",\"position\":1,\"type\":\"share\",\"z\":null},"
            "\"not an object\"]",
            &o);

        assert_int_equal(ltrr_event_batch_total(eb), 4);
        assert_int_equal(ltrr_event_batch_action_cnt(eb), 2);
        assert_int_equal(ltrr_event_batch_action_index(eb, 0), 0);
        assert_int_equal(ltrr_event_batch_action_index(eb, 1), 2);
        assert_string_equal(ltrr_event_batch_action(eb, 1)->entity_id, "b");
        assert_int_equal(ltrr_event_batch_reject_cnt(eb), 2);
        assert_int_equal(ltrr_event_batch_reject(eb, 0)->index, 1);
        assert_int_equal(ltrr_event_batch_reject(eb, 1)->index, 3);
        assert_int_equal(ltrr_event_batch_reject(eb, 1)->reason,
                         LTRR_EVENT_REJ_NOT_OBJECT);
        assert_null(ltrr_event_batch_reject(eb, 2));
        assert_int_equal(ltrr_event_batch_unknown_fields(eb), 3);
        ltrr_event_batch_destroy(eb);
}

static void test_request_errors(void **state)
{
        ltrr_event_parse_opts_t o = opts_default();
        ltrr_event_batch_t *eb = (ltrr_event_batch_t *)&o;
        char errstr[256], big[4096];
        size_t i, n = 0;

        assert_int_equal(ltrr_event_parse("[{", 2, &o, &eb, errstr,
                                          sizeof(errstr)),
                         LTRR_ERR_PARSE);
        assert_null(eb);
        assert_non_null(strstr(errstr, "malformed JSON"));
        assert_int_equal(ltrr_event_parse("\"x\"", 3, &o, &eb, errstr,
                                          sizeof(errstr)),
                         LTRR_ERR_PARSE);
        assert_int_equal(ltrr_event_parse("[]", 2, &o, &eb, errstr,
                                          sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_event_parse("{\"a\":1,\"a\":2}", 13, &o, &eb,
                                          errstr, sizeof(errstr)),
                         LTRR_ERR_PARSE);
        /* batch_max + 1 events: 413 territory */
        n += (size_t)snprintf(big + n, sizeof(big) - n, "[");
        for (i = 0; i <= o.batch_max; i++)
                n += (size_t)snprintf(big + n, sizeof(big) - n, "%s{}",
                                      i ? "," : "");
        snprintf(big + n, sizeof(big) - n, "]");
        assert_int_equal(ltrr_event_parse(big, strlen(big), &o, &eb, errstr,
                                          sizeof(errstr)),
                         LTRR_ERR_RANGE);
        assert_null(eb);
        o.batch_max = 0;
        assert_int_equal(ltrr_event_parse("{}", 2, &o, &eb, errstr,
                                          sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        o = opts_default();
        o.node_id = NULL;
        assert_int_equal(ltrr_event_parse("{}", 2, &o, &eb, errstr,
                                          sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
}

static void test_batch_at_limit(void **state)
{
        ltrr_event_parse_opts_t o = opts_default();
        char big[4096];
        size_t i, n = 0;
        ltrr_event_batch_t *eb;

        n += (size_t)snprintf(big + n, sizeof(big) - n, "[");
        for (i = 0; i < o.batch_max; i++)
                n += (size_t)snprintf(
                    big + n, sizeof(big) - n,
                    "%s{\"impression_id\":\"" IMP "\",\"user_id\":\"u%zu\","
                    "\"entity_id\":\"e\",\"position\":%zu,\"type\":\"play\"}",
                    i ? "," : "", i, i);
        snprintf(big + n, sizeof(big) - n, "]");
        eb = parse_ok(big, &o);
        assert_int_equal(ltrr_event_batch_action_cnt(eb), o.batch_max);
        assert_int_equal(ltrr_event_batch_action(eb, 9)->position, 9);
        ltrr_event_batch_destroy(eb);
}

/* Parses one event with event_time_ms @t under rule @rule. */
static ltrr_event_batch_t *parse_time(int64_t t, ltrr_event_skew_rule_t rule)
{
        ltrr_event_parse_opts_t o = opts_default();
        char body[512];

        o.skew_rule = rule;
        snprintf(body, sizeof(body),
                 "{\"impression_id\":\"" IMP "\",\"user_id\":\"u\","
                 "\"entity_id\":\"e\",\"position\":1,\"type\":\"click\","
                 "\"event_time_ms\":%lld}",
                 (long long)t);
        return parse_ok(body, &o);
}

static void test_skew_rule(void **state)
{
        ltrr_event_batch_t *eb;

        /* inside the bounds: unchanged */
        eb = parse_time(NOW + 60000, LTRR_EVENT_SKEW_CLAMP);
        assert_int_equal(ltrr_event_batch_action(eb, 0)->event_time_ms,
                         NOW + 60000);
        assert_int_equal(ltrr_event_batch_clamped(eb), 0);
        ltrr_event_batch_destroy(eb);
        /* clamp: future and past */
        eb = parse_time(NOW + 60001, LTRR_EVENT_SKEW_CLAMP);
        assert_int_equal(ltrr_event_batch_action(eb, 0)->event_time_ms,
                         NOW + 60000);
        assert_int_equal(ltrr_event_batch_clamped(eb), 1);
        ltrr_event_batch_destroy(eb);
        eb = parse_time(NOW - 3600001, LTRR_EVENT_SKEW_CLAMP);
        assert_int_equal(ltrr_event_batch_action(eb, 0)->event_time_ms,
                         NOW - 3600000);
        assert_int_equal(ltrr_event_batch_clamped(eb), 1);
        ltrr_event_batch_destroy(eb);
        /* reject */
        eb = parse_time(NOW + 60001, LTRR_EVENT_SKEW_REJECT);
        assert_int_equal(ltrr_event_batch_action_cnt(eb), 0);
        assert_int_equal(ltrr_event_batch_reject(eb, 0)->reason,
                         LTRR_EVENT_REJ_SKEW);
        assert_non_null(strstr(ltrr_event_batch_reject(eb, 0)->message,
                               "future"));
        assert_int_equal(ltrr_event_batch_clamped(eb), 0);
        ltrr_event_batch_destroy(eb);
        eb = parse_time(0, LTRR_EVENT_SKEW_REJECT);
        assert_non_null(strstr(ltrr_event_batch_reject(eb, 0)->message,
                               "past"));
        ltrr_event_batch_destroy(eb);
}

static void test_action_id_derive(void **state)
{
        ltrr_id128_t a, b, c, d;
        char hex[33];

        ltrr_event_action_id_derive("app", "key-1", &a);
        ltrr_event_action_id_derive("app", "key-1", &b);
        ltrr_event_action_id_derive("app", "key-2", &c);
        ltrr_event_action_id_derive("app2", "key-1", &d);
        assert_memory_equal(a.b, b.b, 16);
        assert_memory_not_equal(a.b, c.b, 16);
        assert_memory_not_equal(a.b, d.b, 16);
        assert_int_equal(a.b[6] >> 4, 8);
        assert_int_equal(a.b[8] >> 6, 2);
        /* "ap"+"pkey" must not collide with "app"+"key" */
        ltrr_event_action_id_derive("ap", "pkey-1", &c);
        assert_memory_not_equal(a.b, c.b, 16);
        ltrr_event_id_hex(&a, hex, sizeof(hex));
        assert_int_equal(strlen(hex), 32);
        ltrr_event_id_hex(&a, hex, 10); /* too small: empty, no overflow */
        assert_string_equal(hex, "");
}

static void test_names_and_destroy_null(void **state)
{
        assert_string_equal(ltrr_event_rej2str(LTRR_EVENT_REJ_MISSING),
                            "missing");
        assert_string_equal(ltrr_event_rej2str(LTRR_EVENT_REJ_SKEW), "skew");
        assert_string_equal(ltrr_event_rej2str(LTRR_EVENT_REJ__CNT),
                            "unknown");
        assert_int_equal(ltrr_event_skew_rule_parse("clamp"),
                         LTRR_EVENT_SKEW_CLAMP);
        assert_int_equal(ltrr_event_skew_rule_parse("reject"),
                         LTRR_EVENT_SKEW_REJECT);
        assert_int_equal(ltrr_event_skew_rule_parse("drop"), -1);
        assert_int_equal(ltrr_event_skew_rule_parse(NULL), -1);
        ltrr_event_batch_destroy(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_single_event_all_fields),
            cmocka_unit_test(test_defaults_and_uuid),
            cmocka_unit_test(test_every_field_error),
            cmocka_unit_test(test_long_strings),
            cmocka_unit_test(test_partial_batch_and_unknown),
            cmocka_unit_test(test_request_errors),
            cmocka_unit_test(test_batch_at_limit),
            cmocka_unit_test(test_skew_rule),
            cmocka_unit_test(test_action_id_derive),
            cmocka_unit_test(test_names_and_destroy_null),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
