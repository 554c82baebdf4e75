/* Unit tests: config tables, layers, sources, rendering. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

/* A test-only program covering the types no real program uses yet. */
typedef struct {
        ltrr_config_common_t common;
        int64_t big;
        double ratio;
        int64_t wait_ms;
        int64_t buf;
        bool flag;
} test_conf_t;

static const ltrr_config_prop_t test_props[] = {
    {"big", LTRR_CONFIG_INT64, offsetof(test_conf_t, big), -1e12, 1e12,
     "5000000000", NULL, "A 64-bit integer."},
    {"ratio", LTRR_CONFIG_DOUBLE, offsetof(test_conf_t, ratio), 0, 1, "0.25",
     NULL, "A share."},
    {"wait", LTRR_CONFIG_DURATION, offsetof(test_conf_t, wait_ms), 0,
     2 * 3600000.0, "1s", NULL, "A duration."},
    {"buf", LTRR_CONFIG_SIZE, offsetof(test_conf_t, buf), 1, 2.0 * (1 << 30),
     "4k", NULL, "A size."},
    {"flag", LTRR_CONFIG_BOOL, offsetof(test_conf_t, flag), 0, 1, "false", NULL,
     "A switch."},
    {NULL, LTRR_CONFIG_INT, 0, 0, 0, NULL, NULL, NULL},
};

static const ltrr_config_program_t test_prog = {
    "serve", "Test program.", sizeof(test_conf_t), test_props, NULL};

static char ini_dir[64];
static char ini_path[128];

/* Writes @text to ini_path (dir/config.ini). */
static void write_ini(const char *text)
{
        FILE *fp = fopen(ini_path, "w");

        assert_non_null(fp);
        assert_int_equal(fputs(text, fp) >= 0, 1);
        assert_int_equal(fclose(fp), 0);
}

static int setup(void **state)
{
        snprintf(ini_dir, sizeof(ini_dir), "/tmp/ltrr-config-XXXXXX");
        if (!mkdtemp(ini_dir))
                return -1;
        snprintf(ini_path, sizeof(ini_path), "%s/config.ini", ini_dir);
        return 0;
}

static int teardown(void **state)
{
        unlink(ini_path);
        rmdir(ini_dir);
        return 0;
}

/* argv and envp arrays from literals (argv[0] is "ltrr-test"). */
#define ARGV(...)                                                              \
        ((char *const *)(const char *const[]){"ltrr-test", __VA_ARGS__, NULL})
#define ARGC(...)                                                              \
        ((int)(sizeof((const char *const[]){"ltrr-test", __VA_ARGS__}) /       \
               sizeof(const char *)))
#define ENV(...) ((char *const *)(const char *const[]){__VA_ARGS__, NULL})
static char *const no_env[] = {NULL};
static char *const no_args[] = {(char *)"ltrr-test", NULL};

/* Loads @prog with argv/envp; returns the code, errstr in @err. */
static ltrr_err_t load(const ltrr_config_program_t *prog, ltrr_config_t **out,
                       int argc, char *const *argv, char *const *envp,
                       char *err, size_t size)
{
        ltrr_config_t *conf = ltrr_config_new(prog, err, size);

        assert_non_null(conf);
        *out = conf;
        err[0] = '\0';
        return ltrr_config_load(conf, argc, argv, envp, err, size);
}

static void assert_value(const ltrr_config_t *conf, const char *key,
                         const char *want, const char *want_where)
{
        char buf[256];
        const char *where;

        assert_int_equal(ltrr_config_value_str(conf, key, buf, sizeof(buf)),
                         LTRR_OK);
        assert_string_equal(buf, want);
        ltrr_config_source(conf, key, &where);
        assert_string_equal(where, want_where);
}

/* Loads, expects @code, and checks every needle is in the errstr. */
static void expect_error(const ltrr_config_program_t *prog, int argc,
                         char *const *argv, char *const *envp, ltrr_err_t code,
                         const char *n1, const char *n2)
{
        ltrr_config_t *conf;
        char err[512];

        assert_int_equal(load(prog, &conf, argc, argv, envp, err, sizeof(err)),
                         code);
        if (!strstr(err, n1) || (n2 && !strstr(err, n2)))
                fail_msg("errstr '%s' lacks '%s' / '%s'", err, n1,
                         n2 ? n2 : "");
        ltrr_config_destroy(conf);
}

static void test_defaults_every_program(void **state)
{
        static const int ports[] = {8090, 8080, 8081, 8082, 8083};
        ltrr_config_t *conf;
        char err[256];
        size_t i;

        for (i = 0; ltrr_config_programs[i]; i++) {
                conf =
                    ltrr_config_new(ltrr_config_programs[i], err, sizeof(err));
                if (!conf)
                        fail_msg("%s: %s", ltrr_config_programs[i]->name, err);
                assert_int_equal(ltrr_config_common(conf)->http_port, ports[i]);
                assert_int_equal(ltrr_config_source(conf, "http.port", NULL),
                                 LTRR_CONFIG_SRC_DEFAULT);
                ltrr_config_destroy(conf);
        }
        assert_int_equal(i, 5);
        assert_non_null(ltrr_config_program_find("join"));
        assert_null(ltrr_config_program_find("nope"));
        conf = ltrr_config_new(ltrr_config_program_find("serve"), err,
                               sizeof(err));
        assert_non_null(conf);
        assert_string_equal(ltrr_config_common(conf)->redis_addr,
                            "127.0.0.1:6379");
        assert_int_equal(ltrr_config_common(conf)->redis_timeout_ms, 500);
        assert_int_equal(
            ((const ltrr_config_serve_t *)ltrr_config_struct(conf))->workers,
            2);
        assert_value(conf, "log.level", "info", "default");
        ltrr_config_destroy(conf);
}

static void test_destroy_null_and_bad_tables(void **state)
{
        static const ltrr_config_prop_t dup[] = {
            {"http.port", LTRR_CONFIG_INT, offsetof(test_conf_t, big), 0, 1,
             "0", NULL, "dup"},
            {NULL, LTRR_CONFIG_INT, 0, 0, 0, NULL, NULL, NULL}};
        static const ltrr_config_prop_t bad_def[] = {
            {"ratio", LTRR_CONFIG_DOUBLE, offsetof(test_conf_t, ratio), 0, 1,
             "2.5", NULL, "bad default"},
            {NULL, LTRR_CONFIG_INT, 0, 0, 0, NULL, NULL, NULL}};
        static const ltrr_config_default_t bad_over[] = {{"ratio", "0.5"},
                                                         {NULL, NULL}};
        ltrr_config_program_t prog = test_prog;
        char err[256];

        ltrr_config_destroy(NULL);
        assert_null(ltrr_config_new(NULL, err, sizeof(err)));
        prog.props = dup;
        assert_null(ltrr_config_new(&prog, err, sizeof(err)));
        assert_non_null(strstr(err, "'http.port' defined twice"));
        prog.props = bad_def;
        assert_null(ltrr_config_new(&prog, err, sizeof(err)));
        assert_string_equal(err, "ratio: out of range value '2.5' (default):"
                                 " expected a double in 0..1");
        prog.props = test_props;
        prog.defaults = bad_over; /* not a common key */
        assert_null(ltrr_config_new(&prog, err, sizeof(err)));
        assert_non_null(strstr(err, "unknown common key 'ratio'"));
}

static void test_layers_precedence(void **state)
{
        ltrr_config_t *conf;
        char err[256], where2[160], where3[160];

        snprintf(where2, sizeof(where2), "%s:2", ini_path);
        snprintf(where3, sizeof(where3), "%s:3", ini_path);
        write_ini("[ltrr]\nhttp.port = 9001\nlog.level = debug\n"
                  "redis.addr = file:1\n");
        /* file only */
        assert_int_equal(load(&test_prog, &conf, ARGC("--config", ini_path),
                              ARGV("--config", ini_path), no_env, err,
                              sizeof(err)),
                         LTRR_OK);
        assert_value(conf, "http.port", "9001", where2);
        assert_int_equal(ltrr_config_source(conf, "http.port", NULL),
                         LTRR_CONFIG_SRC_FILE);
        ltrr_config_destroy(conf);
        /* env over file; file named by LTRR_CONFIG */
        {
                char cfg[200];
                char *env[] = {cfg, (char *)"LTRR_HTTP_PORT=9002",
                               (char *)"LTRR_REDIS_ADDR=env:2", NULL};

                snprintf(cfg, sizeof(cfg), "LTRR_CONFIG=%s", ini_path);
                assert_int_equal(
                    load(&test_prog, &conf, 1, no_args, env, err, sizeof(err)),
                    LTRR_OK);
                assert_value(conf, "http.port", "9002", "env LTRR_HTTP_PORT");
                assert_value(conf, "log.level", "debug", where3);
                assert_value(conf, "redis.addr", "env:2",
                             "env LTRR_REDIS_ADDR");
                ltrr_config_destroy(conf);
                /* flag over env over file */
                assert_int_equal(
                    load(&test_prog, &conf,
                         ARGC("--http.port=9003", "--log.level", "warn"),
                         ARGV("--http.port=9003", "--log.level", "warn"), env,
                         err, sizeof(err)),
                    LTRR_OK);
                assert_value(conf, "http.port", "9003", "flag --http.port");
                assert_value(conf, "log.level", "warn", "flag --log.level");
                assert_value(conf, "redis.addr", "env:2",
                             "env LTRR_REDIS_ADDR");
                assert_int_equal(ltrr_config_source(conf, "log.level", NULL),
                                 LTRR_CONFIG_SRC_FLAG);
                assert_int_equal(ltrr_config_common(conf)->log_level, 2);
                ltrr_config_destroy(conf);
        }
}

static void test_ini_sections(void **state)
{
        ltrr_config_t *conf;
        char err[256], w2[160], w3[160], w6[160];

        write_ini("[serve]\nhttp.port = 7000\nworkers = 8\n"
                  "[ltrr]\nhttp.port = 7001\nnode.id = n1\n"
                  "[join]\nwindow = banana\nnot.a.key = 1\n"
                  "[kafka]\nlinger.ms = 5\n");
        snprintf(w2, sizeof(w2), "%s:2", ini_path);
        snprintf(w3, sizeof(w3), "%s:3", ini_path);
        snprintf(w6, sizeof(w6), "%s:6", ini_path);
        assert_int_equal(load(ltrr_config_program_find("serve"), &conf,
                              ARGC("--config", ini_path),
                              ARGV("--config", ini_path), no_env, err,
                              sizeof(err)),
                         LTRR_OK);
        /* [serve] beats [ltrr] though it comes first; [join] ignored. */
        assert_value(conf, "http.port", "7000", w2);
        assert_value(conf, "node.id", "n1", w6);
        assert_value(conf, "workers", "8", w3);
        ltrr_config_destroy(conf);
}

static void test_ini_errors(void **state)
{
        char w[160];

        write_ini("[ltrr]\nworkers = 4\n"); /* own key in [ltrr] */
        snprintf(w, sizeof(w), "%s:2", ini_path);
        expect_error(ltrr_config_program_find("serve"),
                     ARGC("--config", ini_path), ARGV("--config", ini_path),
                     no_env, LTRR_ERR_UNKNOWN_KEY,
                     "unknown key 'workers' in [ltrr]", w);
        write_ini("[serve]\n\nworkerz = 4\n");
        snprintf(w, sizeof(w), "%s:3", ini_path);
        expect_error(ltrr_config_program_find("serve"),
                     ARGC("--config", ini_path), ARGV("--config", ini_path),
                     no_env, LTRR_ERR_UNKNOWN_KEY,
                     "unknown key 'workerz' in [serve]", w);
        write_ini("[srve]\nworkers = 4\n");
        expect_error(&test_prog, ARGC("--config", ini_path),
                     ARGV("--config", ini_path), no_env, LTRR_ERR_UNKNOWN_KEY,
                     "unknown section [srve]", NULL);
        write_ini("http.port = 1\n");
        expect_error(&test_prog, ARGC("--config", ini_path),
                     ARGV("--config", ini_path), no_env, LTRR_ERR_UNKNOWN_KEY,
                     "key outside a section", NULL);
        /* syntax error on line 3, before a bad value on line 4 */
        write_ini("[ltrr]\nhttp.port = 1\nthis line is not ini\n"
                  "http.port = x\n");
        snprintf(w, sizeof(w), "%s:3: syntax error", ini_path);
        expect_error(&test_prog, ARGC("--config", ini_path),
                     ARGV("--config", ini_path), no_env, LTRR_ERR_PARSE, w,
                     NULL);
        /* bad value on line 2, syntax error later */
        write_ini("[ltrr]\nhttp.port = 70000\n[broken\n");
        snprintf(w, sizeof(w), "(%s:2)", ini_path);
        expect_error(&test_prog, ARGC("--config", ini_path),
                     ARGV("--config", ini_path), no_env, LTRR_ERR_RANGE,
                     "http.port: out of range value '70000'", w);
}

static void test_ini_long_line_and_missing_file(void **state)
{
        char text[400], w[160];

        snprintf(text, sizeof(text), "[ltrr]\nnode.id = %0300d\n", 7);
        write_ini(text);
        snprintf(w, sizeof(w), "%s:2: line longer than", ini_path);
        expect_error(&test_prog, ARGC("--config", ini_path),
                     ARGV("--config", ini_path), no_env, LTRR_ERR_PARSE, w,
                     NULL);
        expect_error(&test_prog, ARGC("--config=/nonexistent/x.ini"),
                     ARGV("--config=/nonexistent/x.ini"), no_env, LTRR_ERR_IO,
                     "'/nonexistent/x.ini' (flag --config)", "No such file");
        expect_error(&test_prog, 1, no_args,
                     ENV("LTRR_CONFIG=/nonexistent/y.ini"), LTRR_ERR_IO,
                     "'/nonexistent/y.ini' (env LTRR_CONFIG)", NULL);
        /* --config names the file even when LTRR_CONFIG is set */
        write_ini("[ltrr]\nhttp.port = 1234\n");
        {
                ltrr_config_t *conf;
                char err[256];

                assert_int_equal(
                    load(&test_prog, &conf, ARGC("--config", ini_path),
                         ARGV("--config", ini_path),
                         ENV("LTRR_CONFIG=/nonexistent"), err, sizeof(err)),
                    LTRR_OK);
                assert_int_equal(ltrr_config_common(conf)->http_port, 1234);
                ltrr_config_destroy(conf);
        }
}

static void test_type_errors(void **state)
{
        expect_error(&test_prog, ARGC("--http.port=abc"),
                     ARGV("--http.port=abc"), no_env, LTRR_ERR_PARSE,
                     "http.port: invalid value 'abc' (flag --http.port): "
                     "expected an int in 0..65535",
                     NULL);
        expect_error(&test_prog, 1, no_args, ENV("LTRR_HTTP_PORT=70000"),
                     LTRR_ERR_RANGE,
                     "http.port: out of range value '70000' "
                     "(env LTRR_HTTP_PORT)",
                     NULL);
        expect_error(&test_prog, ARGC("--http.port", " 80"),
                     ARGV("--http.port", " 80"), no_env, LTRR_ERR_PARSE,
                     "invalid value ' 80'", NULL);
        expect_error(&test_prog, ARGC("--big=99999999999999999999"),
                     ARGV("--big=99999999999999999999"), no_env, LTRR_ERR_PARSE,
                     "big: invalid value", NULL);
        expect_error(&test_prog, ARGC("--big=-1000000000001"),
                     ARGV("--big=-1000000000001"), no_env, LTRR_ERR_RANGE,
                     "big: out of range", NULL);
        expect_error(&test_prog, ARGC("--ratio=1.5"), ARGV("--ratio=1.5"),
                     no_env, LTRR_ERR_RANGE,
                     "ratio: out of range value '1.5' (flag --ratio)", NULL);
        expect_error(&test_prog, 1, no_args, ENV("LTRR_RATIO=nan"),
                     LTRR_ERR_PARSE, "(env LTRR_RATIO)", NULL);
        expect_error(&test_prog, ARGC("--flag=maybe"), ARGV("--flag=maybe"),
                     no_env, LTRR_ERR_PARSE, "flag: invalid value 'maybe'",
                     "one of: true, false");
        expect_error(&test_prog, ARGC("--log.level=loud"),
                     ARGV("--log.level=loud"), no_env, LTRR_ERR_PARSE,
                     "log.level: invalid value 'loud' (flag --log.level)",
                     "one of: debug, info, warn, error");
        expect_error(&test_prog, ARGC("--wait=10"), ARGV("--wait=10"), no_env,
                     LTRR_ERR_PARSE, "wait: invalid value '10'",
                     "unit ms, s, m or h");
        expect_error(&test_prog, ARGC("--wait=3h"), ARGV("--wait=3h"), no_env,
                     LTRR_ERR_RANGE, "in 0..2h", NULL);
        expect_error(&test_prog, ARGC("--buf=4x"), ARGV("--buf=4x"), no_env,
                     LTRR_ERR_PARSE, "buf: invalid value '4x'", NULL);
        expect_error(&test_prog, ARGC("--buf=99999999999G"),
                     ARGV("--buf=99999999999G"), no_env, LTRR_ERR_PARSE,
                     "buf: invalid value", NULL);
        expect_error(&test_prog, ARGC("--buf=3G"), ARGV("--buf=3G"), no_env,
                     LTRR_ERR_RANGE, "in 1..2G", NULL);
        expect_error(ltrr_config_program_find("broker"),
                     ARGC("--control=/tmp/"
                          "0123456789012345678901234567890123456789"
                          "0123456789012345678901234567890123456789"
                          "0123456789012345678901234567890123456789"),
                     ARGV("--control=/tmp/"
                          "0123456789012345678901234567890123456789"
                          "0123456789012345678901234567890123456789"
                          "0123456789012345678901234567890123456789"),
                     no_env, LTRR_ERR_RANGE, "control: out of range",
                     "length <= 107");
}

static void test_units(void **state)
{
        static const struct {
                const char *flag, *key, *shown;
                int64_t want;
                size_t off;
        } cases[] = {
            {"--wait=250ms", "wait", "250ms", 250,
             offsetof(test_conf_t, wait_ms)},
            {"--wait=3s", "wait", "3s", 3000, offsetof(test_conf_t, wait_ms)},
            {"--wait=2m", "wait", "2m", 120000, offsetof(test_conf_t, wait_ms)},
            {"--wait=1h", "wait", "1h", 3600000,
             offsetof(test_conf_t, wait_ms)},
            {"--wait=1500ms", "wait", "1500ms", 1500,
             offsetof(test_conf_t, wait_ms)},
            {"--wait=0", "wait", "0", 0, offsetof(test_conf_t, wait_ms)},
            {"--buf=512", "buf", "512", 512, offsetof(test_conf_t, buf)},
            {"--buf=4k", "buf", "4k", 4096, offsetof(test_conf_t, buf)},
            {"--buf=2K", "buf", "2k", 2048, offsetof(test_conf_t, buf)},
            {"--buf=3M", "buf", "3M", 3145728, offsetof(test_conf_t, buf)},
            {"--buf=1G", "buf", "1G", 1073741824, offsetof(test_conf_t, buf)},
            {"--big=-42", "big", "-42", -42, offsetof(test_conf_t, big)},
        };
        ltrr_config_t *conf;
        char err[256], where[64];
        size_t i;

        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *argv[] = {(char *)"t", (char *)cases[i].flag, NULL};

                assert_int_equal(
                    load(&test_prog, &conf, 2, argv, no_env, err, sizeof(err)),
                    LTRR_OK);
                assert_int_equal(
                    *(const int64_t *)(const void *)((const char *)
                                                         ltrr_config_struct(
                                                             conf) +
                                                     cases[i].off),
                    cases[i].want);
                snprintf(where, sizeof(where), "flag --%s", cases[i].key);
                assert_value(conf, cases[i].key, cases[i].shown, where);
                ltrr_config_destroy(conf);
        }
}

static void test_flag_forms(void **state)
{
        const ltrr_config_program_t *broker =
            ltrr_config_program_find("broker");
        const ltrr_config_broker_t *b;
        ltrr_config_t *conf;
        char err[256];

        assert_int_equal(load(broker, &conf,
                              ARGC("--bootstrap-file", "/tmp/bs", "--brokers",
                                   "5", "--partitions=12",
                                   "--metrics.enabled=off", "--control", ""),
                              ARGV("--bootstrap-file", "/tmp/bs", "--brokers",
                                   "5", "--partitions=12",
                                   "--metrics.enabled=off", "--control", ""),
                              no_env, err, sizeof(err)),
                         LTRR_OK);
        b = ltrr_config_struct(conf);
        assert_string_equal(b->bootstrap_file, "/tmp/bs");
        assert_int_equal(b->brokers, 5);
        assert_int_equal(b->partitions, 12);
        assert_false(b->common.metrics_enabled);
        assert_value(conf, "bootstrap.file", "/tmp/bs",
                     "flag --bootstrap-file");
        assert_int_equal(ltrr_config_mode(conf), LTRR_CONFIG_MODE_RUN);
        ltrr_config_destroy(conf);
        /* a bool alone means true and does not eat the next argument */
        assert_int_equal(
            load(&test_prog, &conf, ARGC("--flag", "--ratio", "0.5"),
                 ARGV("--flag", "--ratio", "0.5"), no_env, err, sizeof(err)),
            LTRR_OK);
        assert_true(((const test_conf_t *)ltrr_config_struct(conf))->flag);
        assert_true(((const test_conf_t *)ltrr_config_struct(conf))->ratio ==
                    0.5);
        ltrr_config_destroy(conf);
        expect_error(&test_prog, ARGC("--nope=1"), ARGV("--nope=1"), no_env,
                     LTRR_ERR_UNKNOWN_KEY, "unknown flag --nope", NULL);
        expect_error(&test_prog, ARGC("--http.port"), ARGV("--http.port"),
                     no_env, LTRR_ERR_PARSE, "flag --http.port needs a value",
                     NULL);
        expect_error(&test_prog, ARGC("stray"), ARGV("stray"), no_env,
                     LTRR_ERR_PARSE, "unexpected argument 'stray'", NULL);
        expect_error(&test_prog, ARGC("--flag", "false"),
                     ARGV("--flag", "false"), no_env, LTRR_ERR_PARSE,
                     "unexpected argument 'false'", NULL);
        /* a bad flag is reported before any file is read */
        expect_error(&test_prog, ARGC("--config", "/nonexistent", "--nope"),
                     ARGV("--config", "/nonexistent", "--nope"), no_env,
                     LTRR_ERR_UNKNOWN_KEY, "unknown flag --nope", NULL);
}

static void test_kafka_passthrough(void **state)
{
        ltrr_config_t *conf;
        const ltrr_kvlist_t *kl;
        char err[256], w[160];

        write_ini("[kafka]\nlinger.ms = 1\nacks = 1\nbatch.size = 10\n");
        assert_int_equal(
            load(&test_prog, &conf,
                 ARGC("--config", ini_path, "-X", "linger.ms=3", "-Xacks=all"),
                 ARGV("--config", ini_path, "-X", "linger.ms=3", "-Xacks=all"),
                 ENV("LTRR_KAFKA_X_LINGER_MS=2", "LTRR_KAFKA_X_CLIENT_ID=c-1",
                     "LTRR_KAFKA_X_BATCH_SIZE=20"),
                 err, sizeof(err)),
            LTRR_OK);
        kl = ltrr_config_kafka(conf);
        assert_int_equal(kl->cnt, 4);
        assert_string_equal(ltrr_kvlist_get(kl, "linger.ms"), "3");
        assert_string_equal(ltrr_kvlist_get(kl, "acks"), "all");
        assert_string_equal(ltrr_kvlist_get(kl, "batch.size"), "20");
        assert_string_equal(ltrr_kvlist_get(kl, "client.id"), "c-1");
        assert_string_equal(ltrr_config_kafka_where(conf, "linger.ms"),
                            "flag -X");
        assert_string_equal(ltrr_config_kafka_where(conf, "batch.size"),
                            "env LTRR_KAFKA_X_BATCH_SIZE");
        ltrr_config_destroy(conf);
        write_ini("[kafka]\nlinger.ms = 1\n");
        assert_int_equal(load(&test_prog, &conf, ARGC("--config", ini_path),
                              ARGV("--config", ini_path), no_env, err,
                              sizeof(err)),
                         LTRR_OK);
        snprintf(w, sizeof(w), "%s:2", ini_path);
        assert_string_equal(ltrr_config_kafka_where(conf, "linger.ms"), w);
        ltrr_config_destroy(conf);
        expect_error(&test_prog, ARGC("-X", "linger.ms"),
                     ARGV("-X", "linger.ms"), no_env, LTRR_ERR_PARSE,
                     "flag -X 'linger.ms': expected prop=value", NULL);
        expect_error(&test_prog, ARGC("-X"), ARGV("-X"), no_env, LTRR_ERR_PARSE,
                     "flag -X needs a value", NULL);
        expect_error(&test_prog, ARGC("-X=1"), ARGV("-X=1"), no_env,
                     LTRR_ERR_PARSE, "expected prop=value", NULL);
}

static void test_unknown_env_ignored(void **state)
{
        ltrr_config_t *conf;
        char err[256];

        /* LTRR_WORKERS is ltrr-serve's; ltrr-broker has no such key. */
        assert_int_equal(
            load(ltrr_config_program_find("broker"), &conf, 1, no_args,
                 ENV("LTRR_NOPE=1", "LTRR_WORKERS=abc", "LTRR_BIN=/x",
                     "LTRR_PARTITIONS=3", "HTTP_PORT=1"),
                 err, sizeof(err)),
            LTRR_OK);
        assert_value(conf, "partitions", "3", "env LTRR_PARTITIONS");
        assert_value(conf, "http.port", "8090", "default");
        ltrr_config_destroy(conf);
}

static void test_mode_and_state(void **state)
{
        ltrr_config_t *conf;
        char err[256];

        /* --help reads nothing else: a missing file is no error */
        assert_int_equal(load(&test_prog, &conf,
                              ARGC("--config", "/nonexistent", "-h"),
                              ARGV("--config", "/nonexistent", "-h"),
                              ENV("LTRR_HTTP_PORT=bad"), err, sizeof(err)),
                         LTRR_OK);
        assert_int_equal(ltrr_config_mode(conf), LTRR_CONFIG_MODE_HELP);
        assert_int_equal(
            ltrr_config_load(conf, 1, no_args, no_env, err, sizeof(err)),
            LTRR_ERR_STATE);
        ltrr_config_destroy(conf);
        assert_int_equal(load(&test_prog, &conf,
                              ARGC("--dump-config", "--http.port=1"),
                              ARGV("--dump-config", "--http.port=1"), no_env,
                              err, sizeof(err)),
                         LTRR_OK);
        assert_int_equal(ltrr_config_mode(conf), LTRR_CONFIG_MODE_DUMP);
        assert_int_equal(ltrr_config_common(conf)->http_port, 1);
        /* ltrr_config_set: errors leave the value unchanged */
        assert_int_equal(
            ltrr_config_set(conf, "http.port", "x", err, sizeof(err)),
            LTRR_ERR_PARSE);
        assert_int_equal(ltrr_config_common(conf)->http_port, 1);
        assert_int_equal(ltrr_config_set(conf, "nope", "1", err, sizeof(err)),
                         LTRR_ERR_UNKNOWN_KEY);
        assert_string_equal(err, "unknown key 'nope'");
        assert_int_equal(
            ltrr_config_set(conf, "node.id", "n9", err, sizeof(err)), LTRR_OK);
        assert_value(conf, "node.id", "n9", "api");
        assert_int_equal(ltrr_config_value_str(conf, "nope", err, sizeof(err)),
                         LTRR_ERR_UNKNOWN_KEY);
        ltrr_config_destroy(conf);
}

static void test_help_lists_every_key(void **state)
{
        char needle[256];
        size_t i, j;

        for (i = 0; ltrr_config_programs[i]; i++) {
                const ltrr_config_program_t *prog = ltrr_config_programs[i];
                char *help = ltrr_config_help(prog);

                assert_non_null(help);
                for (j = 0; j < ltrr_config_prop_cnt(prog); j++) {
                        const ltrr_config_prop_t *p =
                            ltrr_config_prop_at(prog, j);

                        snprintf(needle, sizeof(needle), "--%s=", p->name);
                        if (p->type == LTRR_CONFIG_BOOL)
                                snprintf(needle, sizeof(needle),
                                         "--%s[=", p->name);
                        assert_non_null(strstr(help, needle));
                        snprintf(needle, sizeof(needle), "default: \"%s\"",
                                 ltrr_config_prop_default(prog, p));
                        assert_non_null(strstr(help, needle));
                }
                assert_null(ltrr_config_prop_at(prog, j));
                free(help);
        }
}

static void test_dump_shows_sources(void **state)
{
        ltrr_config_t *conf;
        char err[256], line[256];
        char *dump;

        write_ini("[ltrr]\nlog.level = debug\n[kafka]\n"
                  "sasl.password = hunter2\n");
        assert_int_equal(load(&test_prog, &conf,
                              ARGC("--config", ini_path, "--http.port", "9003",
                                   "-X", "linger.ms=7"),
                              ARGV("--config", ini_path, "--http.port", "9003",
                                   "-X", "linger.ms=7"),
                              ENV("LTRR_WAIT=2m", "LTRR_REDIS_PASSWORD=swordfish"),
                              err, sizeof(err)),
                         LTRR_OK);
        dump = ltrr_config_dump(conf);
        assert_non_null(dump);
        assert_non_null(strstr(dump, "[ltrr]\n"));
        assert_non_null(
            strstr(dump, "\nhttp.port = 9003 ; flag --http.port\n"));
        snprintf(line, sizeof(line), "\nlog.level = debug ; %s:2\n", ini_path);
        assert_non_null(strstr(dump, line));
        assert_non_null(strstr(dump, "\nredis.timeout = 500ms ; default\n"));
        assert_non_null(strstr(dump, "[serve]\n"));
        assert_non_null(strstr(dump, "\nwait = 2m ; env LTRR_WAIT\n"));
        assert_non_null(strstr(dump, "\nlinger.ms = 7 ; flag -X\n"));
        assert_non_null(strstr(dump, "sasl.password = [redacted]"));
        assert_null(strstr(dump, "hunter2"));
        assert_non_null(strstr(dump, "\nredis.password = [redacted] ; env "
                                     "LTRR_REDIS_PASSWORD\n"));
        assert_null(strstr(dump, "swordfish"));
        assert_non_null(strstr(dump, "\nredis.user =  ; default\n"));
        free(dump);
        ltrr_config_destroy(conf);
}

static void test_doc_and_env_names(void **state)
{
        char *doc = ltrr_config_doc();
        char buf[128];
        size_t i, j;

        assert_non_null(doc);
        for (i = 0; ltrr_config_programs[i]; i++) {
                const ltrr_config_program_t *prog = ltrr_config_programs[i];

                snprintf(buf, sizeof(buf), "\n## ltrr-%s\n", prog->name);
                assert_non_null(strstr(doc, buf));
                for (j = 0; j < ltrr_config_prop_cnt(prog); j++) {
                        const ltrr_config_prop_t *p =
                            ltrr_config_prop_at(prog, j);

                        snprintf(buf, sizeof(buf), "| `%s` |", p->name);
                        assert_non_null(strstr(doc, buf));
                }
        }
        assert_non_null(strstr(doc, "| `http.port` | int | `8083` |"));
        free(doc);
        ltrr_config_env_name("kafka.bootstrap", buf, sizeof(buf));
        assert_string_equal(buf, "LTRR_KAFKA_BOOTSTRAP");
        ltrr_config_env_name("bootstrap-file", buf, 10);
        assert_string_equal(buf, "LTRR_BOOT");
        assert_string_equal(ltrr_config_type2str(LTRR_CONFIG_SIZE), "size");
        assert_string_equal(ltrr_config_type2str((ltrr_config_type_t)99),
                            "unknown");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_defaults_every_program),
            cmocka_unit_test(test_destroy_null_and_bad_tables),
            cmocka_unit_test(test_layers_precedence),
            cmocka_unit_test(test_ini_sections),
            cmocka_unit_test(test_ini_errors),
            cmocka_unit_test(test_ini_long_line_and_missing_file),
            cmocka_unit_test(test_type_errors),
            cmocka_unit_test(test_units),
            cmocka_unit_test(test_flag_forms),
            cmocka_unit_test(test_kafka_passthrough),
            cmocka_unit_test(test_unknown_env_ignored),
            cmocka_unit_test(test_mode_and_state),
            cmocka_unit_test(test_help_lists_every_key),
            cmocka_unit_test(test_dump_shows_sources),
            cmocka_unit_test(test_doc_and_env_names),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
