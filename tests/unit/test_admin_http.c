/* Unit tests: admin HTTP endpoint, served and queried on one event base. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "admin_http.h"
#include "metrics.h"

struct fixture {
        struct event_base *base; /* owned */
        ltrr_metrics_t *reg;     /* owned */
        ltrr_admin_http_t *adm;  /* owned */
        const char *unhealthy;   /* reason, or NULL when healthy */
};

struct reply {
        int code;        /* HTTP status, 0 when the request failed */
        char ctype[64];  /* Content-Type */
        char allow[32];  /* Allow */
        char body[8192]; /* body, cut to fit */
};

static int health(void *opaque, char *reason, size_t size)
{
        const struct fixture *fx = opaque;

        if (!fx->unhealthy)
                return 0;
        snprintf(reason, size, "%s", fx->unhealthy);
        return 1;
}

static int setup(void **state)
{
        static const char *const lbl[] = {"route", NULL};
        const ltrr_metrics_spec_t spec = {LTRR_METRICS_COUNTER,
                                          "t_requests_total",
                                          "Requests.",
                                          lbl,
                                          0,
                                          0,
                                          0};
        struct fixture *fx = calloc(1, sizeof(*fx));
        char errstr[256];

        assert_non_null(fx);
        fx->base = event_base_new();
        fx->reg = ltrr_metrics_new(errstr, sizeof(errstr));
        assert_non_null(fx->base);
        assert_non_null(fx->reg);
        ltrr_metrics_counter_add(
            ltrr_metrics_child(
                ltrr_metrics_register(fx->reg, &spec, errstr, sizeof(errstr)),
                (const char *[]){"search"}),
            5);
        fx->adm = ltrr_admin_http_new(fx->base, "127.0.0.1", 0, fx->reg, health,
                                      fx, errstr, sizeof(errstr));
        if (!fx->adm)
                fail_msg("admin_http_new: %s", errstr);
        assert_true(ltrr_admin_http_port(fx->adm) > 0);
        *state = fx;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *fx = *state;

        ltrr_admin_http_destroy(fx->adm);
        ltrr_metrics_destroy(fx->reg);
        event_base_free(fx->base);
        free(fx);
        return 0;
}

static void copy_header(struct evhttp_request *req, const char *name, char *dst,
                        size_t size)
{
        const char *v =
            evhttp_find_header(evhttp_request_get_input_headers(req), name);

        snprintf(dst, size, "%s", v ? v : "");
}

static void on_reply(struct evhttp_request *req, void *arg)
{
        struct reply *r = arg;
        struct evbuffer *in;
        size_t n;

        if (req) {
                r->code = evhttp_request_get_response_code(req);
                copy_header(req, "Content-Type", r->ctype, sizeof(r->ctype));
                copy_header(req, "Allow", r->allow, sizeof(r->allow));
                in = evhttp_request_get_input_buffer(req);
                n = evbuffer_copyout(in, r->body, sizeof(r->body) - 1);
                r->body[n == (size_t)-1 ? 0 : n] = '\0';
        }
}

/* Sends one request to the server and runs the loop until the reply. */
static void request(struct fixture *fx, enum evhttp_cmd_type cmd,
                    const char *path, struct reply *r)
{
        struct evhttp_connection *conn = evhttp_connection_base_new(
            fx->base, NULL, "127.0.0.1", ltrr_admin_http_port(fx->adm));
        struct evhttp_request *req = evhttp_request_new(on_reply, r);

        memset(r, 0, sizeof(*r));
        assert_non_null(conn);
        assert_non_null(req);
        evhttp_connection_set_timeout(conn, 5);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Host",
                          "localhost");
        assert_int_equal(evhttp_make_request(conn, req, cmd, path), 0);
        while (r->code == 0 && event_base_loop(fx->base, EVLOOP_ONCE) == 0)
                ;
        evhttp_connection_free(conn);
}

static void test_metrics(void **state)
{
        struct fixture *fx = *state;
        struct reply r;

        request(fx, EVHTTP_REQ_GET, "/metrics", &r);
        assert_int_equal(r.code, 200);
        assert_string_equal(r.ctype, "text/plain; version=0.0.4");
        assert_string_equal(r.body, "# HELP t_requests_total Requests.\n"
                                    "# TYPE t_requests_total counter\n"
                                    "t_requests_total{route=\"search\"} 5\n");
        /* A query string does not change the route. */
        request(fx, EVHTTP_REQ_GET, "/metrics?x=1", &r);
        assert_int_equal(r.code, 200);
}

static void test_healthz(void **state)
{
        struct fixture *fx = *state;
        struct reply r;

        request(fx, EVHTTP_REQ_GET, "/healthz", &r);
        assert_int_equal(r.code, 200);
        assert_string_equal(r.ctype, "application/json");
        assert_string_equal(r.body, "{\"status\":\"ok\"}\n");
        fx->unhealthy = "redis \"down\"";
        request(fx, EVHTTP_REQ_GET, "/healthz", &r);
        assert_int_equal(r.code, 503);
        assert_string_equal(r.body, "{\"status\":\"unavailable\","
                                    "\"reason\":\"redis \\\"down\\\"\"}\n");
        fx->unhealthy = NULL;
}

static void test_not_found(void **state)
{
        struct fixture *fx = *state;
        struct reply r;

        request(fx, EVHTTP_REQ_GET, "/nope", &r);
        assert_int_equal(r.code, 404);
        assert_string_equal(r.ctype, "application/json");
        assert_string_equal(r.body,
                            "{\"error\":\"not found\",\"path\":\"/nope\"}\n");
}

static void test_method(void **state)
{
        struct fixture *fx = *state;
        struct reply r;

        request(fx, EVHTTP_REQ_POST, "/metrics", &r);
        assert_int_equal(r.code, 405);
        assert_string_equal(r.allow, "GET, HEAD");
        assert_string_equal(r.body, "{\"error\":\"method not allowed\"}\n");
        request(fx, EVHTTP_REQ_DELETE, "/healthz", &r);
        assert_int_equal(r.code, 405);
        request(fx, EVHTTP_REQ_HEAD, "/healthz", &r);
        assert_int_equal(r.code, 200);
        assert_string_equal(r.body, "");
}

static void test_new_errors(void **state)
{
        struct fixture *fx = *state;
        char errstr[256] = "";
        ltrr_admin_http_t *adm;

        ltrr_admin_http_destroy(NULL);
        assert_int_equal(ltrr_admin_http_port(NULL), 0);
        assert_null(ltrr_admin_http_new(NULL, "127.0.0.1", 0, NULL, NULL, NULL,
                                        errstr, sizeof(errstr)));
        assert_non_null(strstr(errstr, "required"));
        /* The port is taken by the fixture's server. */
        adm = ltrr_admin_http_new(fx->base, "127.0.0.1",
                                  ltrr_admin_http_port(fx->adm), NULL, NULL,
                                  NULL, errstr, sizeof(errstr));
        assert_null(adm);
        assert_non_null(strstr(errstr, "cannot listen"));
        assert_null(ltrr_admin_http_new(fx->base, "not-an-address", 0, NULL,
                                        NULL, NULL, errstr, sizeof(errstr)));
}

static void test_no_registry(void **state)
{
        struct fixture *fx = *state;
        char errstr[256];
        ltrr_admin_http_t *keep = fx->adm;
        struct reply r;

        /* No registry and no health callback: empty body, always ok. */
        fx->adm = ltrr_admin_http_new(fx->base, "127.0.0.1", 0, NULL, NULL,
                                      NULL, errstr, sizeof(errstr));
        assert_non_null(fx->adm);
        request(fx, EVHTTP_REQ_GET, "/metrics", &r);
        assert_int_equal(r.code, 200);
        assert_string_equal(r.body, "");
        request(fx, EVHTTP_REQ_GET, "/healthz", &r);
        assert_int_equal(r.code, 200);
        ltrr_admin_http_destroy(fx->adm);
        fx->adm = keep;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
            cmocka_unit_test_setup_teardown(test_healthz, setup, teardown),
            cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
            cmocka_unit_test_setup_teardown(test_method, setup, teardown),
            cmocka_unit_test_setup_teardown(test_new_errors, setup, teardown),
            cmocka_unit_test_setup_teardown(test_no_registry, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
