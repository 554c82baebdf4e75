/*
 * ltrr-broker: the embedded development Kafka, on librdkafka's mock
 * cluster. Creates the ltrr topics, writes the bootstrap address to a file
 * once ready, and takes fault-injection commands on a unix socket.
 *
 *   ltrr-broker --bootstrap-file PATH [--brokers N] [--partitions N]
 *               [--control PATH]
 *   ltrr-broker --control PATH --send 'broker down 1'
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "cli.h"
#include "kafka.h"
#include "log.h"

/** Longest control line, newline included; longer: "error line too long". */
#define CTL_LINE_MAX 256
/** Control connections served at once; more are refused. */
#define CTL_CLIENTS_MAX 8
/** Most errors one `error` command pushes. */
#define CTL_ERRORS_MAX 10000
/** Highest Kafka API key `clear` resets. */
#define CTL_APIKEY_MAX 67
#define CTL_REPLY_MAX 512

static volatile sig_atomic_t run = 1;

struct broker_opts {
        const char *bootstrap_file; /* where the address is written */
        const char *control;        /* control socket path or NULL */
        const char *send;           /* client mode: command to send */
        int brokers;                /* mock brokers, ids 1..brokers */
        int partitions;             /* partitions per data topic */
};

struct ctl_client {
        int fd;                  /* -1 when the slot is free */
        char buf[CTL_LINE_MAX];  /* partial line */
        size_t len;              /* bytes in buf */
};

struct broker {
        const struct broker_opts *opts; /* not owned */
        rd_kafka_t *rk;                 /* hosts the cluster */
        rd_kafka_mock_cluster_t *mc;    /* the cluster */
        int lfd;                        /* control listener or -1 */
        struct ctl_client clients[CTL_CLIENTS_MAX];
};

static const struct {
        const char *name;
        int16_t key;
} api_names[] = {
        {"Produce", 0},         {"Fetch", 1},          {"ListOffsets", 2},
        {"Metadata", 3},        {"OffsetCommit", 8},   {"OffsetFetch", 9},
        {"FindCoordinator", 10}, {"JoinGroup", 11},    {"Heartbeat", 12},
        {"LeaveGroup", 13},     {"SyncGroup", 14},     {"DescribeGroups", 15},
        {"ListGroups", 16},     {"ApiVersions", 18},   {"CreateTopics", 19},
        {"InitProducerId", 22}, {"AddPartitionsToTxn", 24},
        {"EndTxn", 26},
};

static void on_signal(int sig)
{
        run = 0;
}

static const char usage[] =
    "Usage: ltrr-broker --bootstrap-file PATH [options]\n"
    "       ltrr-broker --control PATH --send COMMAND\n"
    "\n"
    "Embedded development Kafka (librdkafka mock cluster, in memory).\n"
    "With --send, sends one control command to a running broker's\n"
    "--control socket and prints the reply (exit 0 on `ok`).\n"
    "Control commands: ping, topics, broker down|up ID, broker rtt ID MS,\n"
    "  error API ERR [COUNT], clear. See docs/broker.md.\n\n";

/* Parses a decimal integer in [min, max]; 0 on success, -1 otherwise. */
static int parse_int(const char *s, long min, long max, int *out)
{
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < min || v > max)
                return -1;
        *out = (int)v;
        return 0;
}

/* Client mode is `--control PATH --send COMMAND` and nothing else.
 * Returns 1 and fills @o if argv asks for it, 0 if not, 2 on bad use. */
static int client_args(int argc, char **argv, struct broker_opts *o)
{
        int i, send = 0;

        for (i = 1; i < argc; i++)
                if (!strcmp(argv[i], "--send"))
                        send = 1;
        if (!send)
                return 0;
        for (i = 1; i + 1 < argc; i += 2) {
                if (!strcmp(argv[i], "--send"))
                        o->send = argv[i + 1];
                else if (!strcmp(argv[i], "--control"))
                        o->control = argv[i + 1];
                else
                        break;
        }
        if (i != argc || !o->send || !o->control) {
                fprintf(stderr, "ltrr-broker: usage: ltrr-broker --control "
                                "PATH --send COMMAND\n");
                return 2;
        }
        return 1;
}

/* Fills @o from the config; 2 (reason on stderr) if it is unusable. */
static int config_args(const ltrr_config_t *conf, struct broker_opts *o)
{
        const ltrr_config_broker_t *bc = ltrr_config_struct(conf);

        o->bootstrap_file = bc->bootstrap_file;
        o->control = *bc->control ? bc->control : NULL;
        o->brokers = bc->brokers;
        o->partitions = bc->partitions;
        if (!*o->bootstrap_file) {
                fprintf(stderr, "ltrr-broker: bootstrap.file is required "
                                "(--bootstrap-file PATH; try --help)\n");
                return 2;
        }
        return 0;
}

/* Fills a unix socket address; -1 if @path does not fit. */
static int ctl_addr(const char *path, struct sockaddr_un *sun)
{
        memset(sun, 0, sizeof(*sun));
        sun->sun_family = AF_UNIX;
        if (strlen(path) >= sizeof(sun->sun_path))
                return -1;
        memcpy(sun->sun_path, path, strlen(path) + 1);
        return 0;
}

/*
 * Client mode: sends @cmd to the control socket and prints the reply.
 * Returns the exit code: 0 for "ok ...", 1 for "error ..." or failure.
 */
static int ctl_send(const char *path, const char *cmd)
{
        struct sockaddr_un sun;
        char reply[CTL_REPLY_MAX];
        size_t len = 0;
        ssize_t n;
        int fd;

        if (ctl_addr(path, &sun)) {
                fprintf(stderr, "ltrr-broker: socket path too long\n");
                return 1;
        }
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) ||
            dprintf(fd, "%s\n", cmd) < 0) {
                fprintf(stderr, "ltrr-broker: %s: %s\n", path,
                        strerror(errno));
                if (fd >= 0)
                        close(fd);
                return 1;
        }
        shutdown(fd, SHUT_WR);
        while (len < sizeof(reply) - 1 &&
               (n = read(fd, reply + len, sizeof(reply) - 1 - len)) > 0)
                len += (size_t)n;
        close(fd);
        reply[len] = '\0';
        fputs(reply, stdout);
        return strncmp(reply, "ok", 2) ? 1 : 0;
}

/* Looks up an API by name or number; -1 if unknown. */
static int api_lookup(const char *s)
{
        size_t i;
        int key;

        if (!parse_int(s, 0, CTL_APIKEY_MAX, &key))
                return key;
        for (i = 0; i < sizeof(api_names) / sizeof(api_names[0]); i++)
                if (!strcasecmp(api_names[i].name, s))
                        return api_names[i].key;
        return -1;
}

/* Looks up a Kafka error by name (NOT_LEADER_FOR_PARTITION) or code. */
static int err_lookup(const char *s, rd_kafka_resp_err_t *errp)
{
        const struct rd_kafka_err_desc *descs;
        size_t cnt, i;
        int code, numeric;

        numeric = !parse_int(s, INT_MIN, INT_MAX, &code);
        if (!strncasecmp(s, "RD_KAFKA_RESP_ERR_", 18))
                s += 18;
        rd_kafka_get_err_descs(&descs, &cnt);
        for (i = 0; i < cnt; i++) {
                if (!descs[i].name)
                        continue;
                if (numeric ? (int)descs[i].code == code
                            : !strcasecmp(descs[i].name, s)) {
                        *errp = descs[i].code;
                        return 0;
                }
        }
        return -1;
}

/* `error API ERR [COUNT]`: the next COUNT requests of API fail. */
static void ctl_error(struct broker *b, char **argv, int argc, char *reply,
                      size_t size)
{
        rd_kafka_resp_err_t err, *errs;
        int api, cnt = 1, i;
        char cbuf[16];

        if (argc < 3 || argc > 4 || (api = api_lookup(argv[1])) < 0 ||
            err_lookup(argv[2], &err) ||
            (argc == 4 && parse_int(argv[3], 1, CTL_ERRORS_MAX, &cnt))) {
                snprintf(reply, size, "error usage: error <ApiName|ApiKey> "
                                      "<ErrName|code> [count 1..%d]",
                         CTL_ERRORS_MAX);
                return;
        }
        errs = malloc(sizeof(*errs) * (size_t)cnt);
        if (!errs) {
                snprintf(reply, size, "error out of memory");
                return;
        }
        for (i = 0; i < cnt; i++)
                errs[i] = err;
        rd_kafka_mock_push_request_errors_array(b->mc, (int16_t)api,
                                                (size_t)cnt, errs);
        free(errs);
        snprintf(reply, size, "ok error api=%d err=%s count=%d", api,
                 rd_kafka_err2name(err), cnt);
        log_info("broker", "errors injected", "api", argv[1], "err",
                 rd_kafka_err2name(err), "count",
                 ltrr_log_i64(cbuf, sizeof(cbuf), cnt));
}

/* `broker down|up ID`, `broker rtt ID MS`. */
static void ctl_broker(struct broker *b, char **argv, int argc, char *reply,
                       size_t size)
{
        rd_kafka_resp_err_t err;
        int id, ms = 0;

        if (argc < 3 || parse_int(argv[2], 1, b->opts->brokers, &id) ||
            (strcmp(argv[1], "rtt") ? argc != 3
                                    : argc != 4 ||
                                          parse_int(argv[3], 0, 600000, &ms))) {
                snprintf(reply, size, "error usage: broker down|up <1..%d> | "
                                      "broker rtt <id> <ms>",
                         b->opts->brokers);
                return;
        }
        if (!strcmp(argv[1], "down"))
                err = rd_kafka_mock_broker_set_down(b->mc, id);
        else if (!strcmp(argv[1], "up"))
                err = rd_kafka_mock_broker_set_up(b->mc, id);
        else if (!strcmp(argv[1], "rtt"))
                err = rd_kafka_mock_broker_set_rtt(b->mc, id, ms);
        else {
                snprintf(reply, size, "error unknown broker command %s",
                         argv[1]);
                return;
        }
        if (err) {
                snprintf(reply, size, "error %s", rd_kafka_err2str(err));
                return;
        }
        snprintf(reply, size, "ok broker %d %s%s%s", id, argv[1],
                 argc == 4 ? " " : "", argc == 4 ? argv[3] : "");
        log_info("broker", "broker changed", "id", argv[2], "change", argv[1]);
}

/* `clear`: no injected errors, every broker up with no added latency. */
static void ctl_clear(struct broker *b, char *reply, size_t size)
{
        int i;

        for (i = 0; i <= CTL_APIKEY_MAX; i++)
                rd_kafka_mock_clear_request_errors(b->mc, (int16_t)i);
        for (i = 1; i <= b->opts->brokers; i++) {
                rd_kafka_mock_broker_set_up(b->mc, i);
                rd_kafka_mock_broker_set_rtt(b->mc, i, 0);
        }
        snprintf(reply, size, "ok cleared");
        log_info("broker", "faults cleared");
}

/* Runs one control line and writes its one-line reply (no newline). */
static void ctl_exec(struct broker *b, char *line, char *reply, size_t size)
{
        char *argv[6], *save = NULL, *tok;
        int argc = 0;

        for (tok = strtok_r(line, " \t\r", &save); tok && argc < 6;
             tok = strtok_r(NULL, " \t\r", &save))
                argv[argc++] = tok;
        if (argc == 0)
                snprintf(reply, size, "error empty command");
        else if (tok)
                snprintf(reply, size, "error too many arguments");
        else if (!strcmp(argv[0], "ping") && argc == 1)
                snprintf(reply, size, "ok pong");
        else if (!strcmp(argv[0], "topics") && argc == 1)
                snprintf(reply, size, "ok %s:%d %s:%d %s:%d %s:1",
                         LTRR_KAFKA_TOPIC_IMPRESSIONS, b->opts->partitions,
                         LTRR_KAFKA_TOPIC_ACTIONS, b->opts->partitions,
                         LTRR_KAFKA_TOPIC_REWARDS, b->opts->partitions,
                         LTRR_KAFKA_TOPIC_DLQ);
        else if (!strcmp(argv[0], "broker"))
                ctl_broker(b, argv, argc, reply, size);
        else if (!strcmp(argv[0], "error"))
                ctl_error(b, argv, argc, reply, size);
        else if (!strcmp(argv[0], "clear") && argc == 1)
                ctl_clear(b, reply, size);
        else
                snprintf(reply, size, "error unknown command %s", argv[0]);
}

static void ctl_reply(int fd, const char *reply)
{
        char buf[CTL_REPLY_MAX + 1];
        int n = snprintf(buf, sizeof(buf), "%s\n", reply);

        if (n > 0 && write(fd, buf, (size_t)n) < 0)
                log_warn("broker", "control reply not sent", "err",
                         strerror(errno));
}

static void ctl_drop(struct ctl_client *cl)
{
        close(cl->fd);
        cl->fd = -1;
        cl->len = 0;
}

/*
 * Runs every complete line in the client's buffer. A buffer full without
 * a newline is refused with "error line too long" and the client dropped.
 */
static void ctl_lines(struct broker *b, struct ctl_client *cl, int at_eof)
{
        char reply[CTL_REPLY_MAX], *nl;
        size_t used;

        while ((nl = memchr(cl->buf, '\n', cl->len)) ||
               (at_eof && cl->len > 0)) {
                used = nl ? (size_t)(nl - cl->buf) + 1 : cl->len;
                if (nl)
                        *nl = '\0';
                else
                        cl->buf[cl->len] = '\0';
                ctl_exec(b, cl->buf, reply, sizeof(reply));
                ctl_reply(cl->fd, reply);
                memmove(cl->buf, cl->buf + used, cl->len - used);
                cl->len -= used;
        }
        if (cl->len >= sizeof(cl->buf) - 1) {
                ctl_reply(cl->fd, "error line too long");
                ctl_drop(cl);
        }
}

/* Reads what the client sent; drops it at end of stream. */
static void ctl_read(struct broker *b, struct ctl_client *cl)
{
        ssize_t n = read(cl->fd, cl->buf + cl->len,
                         sizeof(cl->buf) - 1 - cl->len);

        if (n < 0 && errno == EINTR)
                return;
        if (n > 0) {
                cl->len += (size_t)n;
                ctl_lines(b, cl, 0);
                return;
        }
        ctl_lines(b, cl, 1);
        if (cl->fd >= 0)
                ctl_drop(cl);
}

static void ctl_accept(struct broker *b)
{
        int fd = accept(b->lfd, NULL, NULL), i;

        if (fd < 0)
                return;
        for (i = 0; i < CTL_CLIENTS_MAX; i++) {
                if (b->clients[i].fd < 0) {
                        b->clients[i].fd = fd;
                        b->clients[i].len = 0;
                        return;
                }
        }
        ctl_reply(fd, "error too many control connections");
        close(fd);
}

/* Binds the control socket; -1 with the reason logged. */
static int ctl_listen(struct broker *b, const char *path)
{
        struct sockaddr_un sun;

        if (ctl_addr(path, &sun)) {
                log_error("broker", "control path too long", "path", path);
                return -1;
        }
        unlink(path); /* a stale socket from an earlier run */
        b->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (b->lfd < 0 ||
            bind(b->lfd, (struct sockaddr *)&sun, sizeof(sun)) ||
            listen(b->lfd, CTL_CLIENTS_MAX)) {
                log_error("broker", "control socket failed", "path", path,
                          "err", strerror(errno));
                return -1;
        }
        return 0;
}

/* Serves control connections until a signal clears the run flag. */
static void broker_loop(struct broker *b)
{
        struct pollfd pfds[CTL_CLIENTS_MAX + 1];
        int i, n;

        while (run) {
                n = 0;
                if (b->lfd >= 0)
                        pfds[n++] = (struct pollfd){b->lfd, POLLIN, 0};
                for (i = 0; i < CTL_CLIENTS_MAX; i++)
                        if (b->clients[i].fd >= 0)
                                pfds[n++] = (struct pollfd){
                                    b->clients[i].fd, POLLIN, 0};
                rd_kafka_poll(b->rk, 0);
                if (poll(pfds, (nfds_t)n, 100) <= 0)
                        continue;
                if (b->lfd >= 0 && (pfds[0].revents & POLLIN))
                        ctl_accept(b);
                for (i = 0; i < CTL_CLIENTS_MAX; i++) {
                        struct ctl_client *cl = &b->clients[i];
                        int j;

                        for (j = 0; cl->fd >= 0 && j < n; j++)
                                if (pfds[j].fd == cl->fd && pfds[j].revents)
                                        ctl_read(b, cl);
                }
        }
}

/* Writes the address to @path via a temporary file and rename(2). */
static int write_bootstrap(const char *path, const char *addr)
{
        char tmp[PATH_MAX];
        FILE *fp;

        if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >=
            (int)sizeof(tmp))
                return -1;
        fp = fopen(tmp, "w");
        if (!fp)
                return -1;
        if (fprintf(fp, "%s\n", addr) < 0 || fclose(fp)) {
                unlink(tmp);
                return -1;
        }
        if (rename(tmp, path)) {
                unlink(tmp);
                return -1;
        }
        return 0;
}

/* Creates the host handle, the cluster and the topics. */
static int broker_start(struct broker *b)
{
        static const char *const data_topics[] = {
            LTRR_KAFKA_TOPIC_IMPRESSIONS, LTRR_KAFKA_TOPIC_ACTIONS,
            LTRR_KAFKA_TOPIC_REWARDS};
        char errstr[512];
        rd_kafka_conf_t *conf;
        int rf = b->opts->brokers < 3 ? b->opts->brokers : 3;
        size_t i;

        conf = ltrr_kafka_conf_new(NULL, NULL, errstr, sizeof(errstr));
        if (!conf || ltrr_kafka_conf_set(conf, "client.id", "ltrr-broker",
                                         errstr, sizeof(errstr)))
                goto err;
        b->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!b->rk)
                goto err;
        conf = NULL;
        b->mc = rd_kafka_mock_cluster_new(b->rk, b->opts->brokers);
        if (!b->mc) {
                snprintf(errstr, sizeof(errstr), "mock cluster not created");
                goto err;
        }
        for (i = 0; i < 4; i++) {
                rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(
                    b->mc, i < 3 ? data_topics[i] : LTRR_KAFKA_TOPIC_DLQ,
                    i < 3 ? b->opts->partitions : 1, rf);
                if (err) {
                        snprintf(errstr, sizeof(errstr), "topic: %s",
                                 rd_kafka_err2str(err));
                        goto err;
                }
        }
        return 0;
err:
        if (conf)
                rd_kafka_conf_destroy(conf);
        log_error("broker", "start failed", "err", errstr);
        return -1;
}

static void broker_stop(struct broker *b)
{
        int i;

        for (i = 0; i < CTL_CLIENTS_MAX; i++)
                if (b->clients[i].fd >= 0)
                        ctl_drop(&b->clients[i]);
        if (b->lfd >= 0) {
                close(b->lfd);
                unlink(b->opts->control);
        }
        if (b->mc)
                rd_kafka_mock_cluster_destroy(b->mc);
        if (b->rk)
                rd_kafka_destroy(b->rk);
}

static void install_signals(void)
{
        struct sigaction sa;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal; /* no SA_RESTART: poll(2) returns */
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
        struct broker_opts opts = {0};
        struct broker b = {.lfd = -1};
        ltrr_config_t *conf = NULL;
        char nb[16], np[16];
        int rc = client_args(argc, argv, &opts), i;

        if (rc)
                return rc == 1 ? ctl_send(opts.control, opts.send) : rc;
        if (!(conf = ltrr_cli_config_load("broker", usage, argc, argv, &rc)))
                return rc;
        if ((rc = config_args(conf, &opts))) {
                ltrr_config_destroy(conf);
                return rc;
        }
        install_signals();
        b.opts = &opts;
        for (i = 0; i < CTL_CLIENTS_MAX; i++)
                b.clients[i].fd = -1;
        rc = 1;
        if (broker_start(&b) ||
            (opts.control && ctl_listen(&b, opts.control)))
                goto done;
        if (write_bootstrap(opts.bootstrap_file,
                            rd_kafka_mock_cluster_bootstraps(b.mc))) {
                log_error("broker", "bootstrap file not written", "path",
                          opts.bootstrap_file, "err", strerror(errno));
                goto done;
        }
        log_info("broker", "ready", "bootstrap",
                 rd_kafka_mock_cluster_bootstraps(b.mc), "brokers",
                 ltrr_log_i64(nb, sizeof(nb), opts.brokers), "partitions",
                 ltrr_log_i64(np, sizeof(np), opts.partitions), "control",
                 opts.control ? opts.control : "none");
        broker_loop(&b);
        unlink(opts.bootstrap_file);
        log_info("broker", "stopped");
        rc = 0;
done:
        broker_stop(&b);
        ltrr_config_destroy(conf);
        return rc;
}
