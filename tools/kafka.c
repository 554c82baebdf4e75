/*
 * ltrr-kafka: a small kcat-like client on the ltrr Kafka wrappers.
 *
 *   ltrr-kafka -b BOOTSTRAP -P -t TOPIC [-k KEY | -K DELIM] [-X key=value]...
 *       produces each stdin line as one record
 *   ltrr-kafka -b BOOTSTRAP -C -t TOPIC -G GROUP [-c COUNT] [-e]
 *       consumes and prints values, one per line, committing each
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "kafka.h"
#include "kvlist.h"
#include "log.h"

/** Longest stdin line produced, newline included. */
#define CLI_LINE_MAX 65536
/** Partitions tracked for -e. */
#define CLI_PARTITIONS_MAX 1024
/** Polls of 100 ms on a full queue before giving up on a line. */
#define CLI_FULL_RETRIES 100
#define CLI_FLUSH_MS 30000

static volatile sig_atomic_t run = 1;

struct cli {
        const char *bootstrap; /* -b */
        const char *topic;     /* -t */
        const char *key;       /* -k or NULL */
        int key_delim;         /* -K: split "key<delim>value", or -1 */
        const char *group;     /* -G */
        char mode;             /* 'P' or 'C' */
        long count;            /* -c, 0 = unbounded */
        int exit_eof;          /* -e */
        ltrr_kvlist_t props;   /* -X */
};

/* Consume state for -e: which partitions are at their end. */
struct cli_eof {
        int assigned;                       /* partitions assigned */
        int at_end;                         /* of which at the end */
        unsigned char end[CLI_PARTITIONS_MAX]; /* 1: partition at end */
};

static void on_signal(int sig)
{
        run = 0;
}

static void usage(FILE *fp)
{
        fprintf(fp,
                "Usage: ltrr-kafka -b BOOTSTRAP -P -t TOPIC [-k KEY | -K DELIM]\n"
                "       ltrr-kafka -b BOOTSTRAP -C -t TOPIC -G GROUP "
                "[-c COUNT] [-e]\n"
                "  -X key=value  librdkafka property (repeatable)\n"
                "  -k KEY        key of every record produced\n"
                "  -K DELIM      each line is KEY DELIM VALUE (one character)\n"
                "  -b BOOTSTRAP  Kafka bootstrap servers (required)\n"
                "  -t TOPIC      topic (required)\n"
                "  -G GROUP      consumer group (required with -C)\n"
                "  -c COUNT      stop after COUNT records (default: none)\n"
                "  -e            stop at the end of every partition\n");
}

/* Parses argv into @c; prints the reason and returns 2 on bad input. */
static int cli_parse(int argc, char **argv, struct cli *c)
{
        char *eq, *end;
        int o;

        c->key_delim = -1;
        if (ltrr_cli_wants_help(argc, argv)) {
                usage(stdout);
                exit(0);
        }
        while ((o = getopt(argc, argv, "b:PCt:k:K:G:c:eX:h")) != -1) {
                switch (o) {
                case 'b': c->bootstrap = optarg; break;
                case 'P': case 'C': c->mode = (char)o; break;
                case 't': c->topic = optarg; break;
                case 'k': c->key = optarg; break;
                case 'K':
                        if (strlen(optarg) != 1)
                                goto bad;
                        c->key_delim = (unsigned char)optarg[0];
                        break;
                case 'G': c->group = optarg; break;
                case 'e': c->exit_eof = 1; break;
                case 'h': usage(stdout); exit(0);
                case 'c':
                        c->count = strtol(optarg, &end, 10);
                        if (*end || end == optarg || c->count < 0)
                                goto bad;
                        break;
                case 'X':
                        eq = strchr(optarg, '=');
                        if (!eq || eq == optarg)
                                goto bad;
                        *eq = '\0';
                        if (ltrr_kvlist_set(&c->props, optarg, eq + 1))
                                goto bad;
                        break;
                default: usage(stderr); return 2;
                }
        }
        if (!c->bootstrap || !c->topic || !c->mode ||
            (c->mode == 'C' && !c->group)) {
                fprintf(stderr, "ltrr-kafka: -b, -t, -P|-C (and -G with -C) "
                                "are required\n");
                return 2;
        }
        return 0;
bad:
        fprintf(stderr, "ltrr-kafka: bad value for -%c: %s\n", o, optarg);
        return 2;
}

/* Sends one line, waiting (bounded) while the queue is full. With -K the
 * line's first part is the key. */
static int cli_send(ltrr_kafka_producer_t *kp, const struct cli *c,
                    const char *line, size_t len)
{
        const char *key = c->key, *sep;
        size_t klen = key ? strlen(key) : 0;
        char errstr[256];
        ltrr_err_t err;
        int tries = 0;

        if (c->key_delim >= 0 && (sep = memchr(line, c->key_delim, len))) {
                key = line;
                klen = (size_t)(sep - line);
                len -= klen + 1;
                line = sep + 1;
        }
        do {
                err = ltrr_kafka_producer_send(
                    kp, c->topic, -1, key, klen,
                    line, len, NULL, 0, NULL, errstr, sizeof(errstr));
                if (err != LTRR_ERR_NOSPACE)
                        break;
                ltrr_kafka_producer_poll(kp, 100);
        } while (++tries < CLI_FULL_RETRIES && run);
        if (err)
                fprintf(stderr, "ltrr-kafka: %s\n", errstr);
        return err ? -1 : 0;
}

static int cli_produce_lines(ltrr_kafka_producer_t *kp, const struct cli *c)
{
        static char line[CLI_LINE_MAX];
        size_t len;

        while (run && fgets(line, sizeof(line), stdin)) {
                len = strlen(line);
                if (len > 0 && line[len - 1] == '\n')
                        line[--len] = '\0';
                else if (len == sizeof(line) - 1) {
                        fprintf(stderr, "ltrr-kafka: line longer than %d\n",
                                CLI_LINE_MAX - 1);
                        return -1;
                }
                if (cli_send(kp, c, line, len))
                        return -1;
        }
        return 0;
}

/* -P: exit code 0 only if every line was delivered. */
static int cli_produce(const struct cli *c)
{
        ltrr_kafka_opts_t opts = {.bootstrap = c->bootstrap,
                                  .client_id = "ltrr-kafka",
                                  .flush_ms = CLI_FLUSH_MS};
        ltrr_kafka_producer_stats_t st;
        ltrr_kafka_producer_t *kp;
        char errstr[512];
        int rc;

        kp = ltrr_kafka_producer_new(&c->props, &opts, errstr, sizeof(errstr));
        if (!kp) {
                fprintf(stderr, "ltrr-kafka: %s\n", errstr);
                return 1;
        }
        rc = cli_produce_lines(kp, c) ? 1 : 0;
        if (ltrr_kafka_producer_flush(kp, CLI_FLUSH_MS))
                fprintf(stderr, "ltrr-kafka: flush timed out\n");
        ltrr_kafka_producer_stats(kp, &st);
        if (st.delivered != st.queued)
                rc = 1;
        fprintf(stderr, "ltrr-kafka: produced=%llu delivered=%llu "
                        "failed=%llu\n",
                (unsigned long long)st.queued,
                (unsigned long long)st.delivered,
                (unsigned long long)st.failed);
        ltrr_kafka_producer_destroy(kp);
        return rc;
}

/* Rebalance hook: the -e bookkeeping restarts on every change. */
static void cli_rebalance(void *opaque, int assigned,
                          const rd_kafka_topic_partition_list_t *parts)
{
        struct cli_eof *ce = opaque;

        memset(ce->end, 0, sizeof(ce->end));
        ce->at_end = 0;
        ce->assigned = assigned ? parts->cnt : 0;
}

/* Records an end-of-partition marker or a record for -e. */
static void cli_track(struct cli_eof *ce, const ltrr_kafka_msg_t *msg)
{
        int32_t p = msg->partition;

        if (p < 0 || p >= CLI_PARTITIONS_MAX || ce->end[p] == msg->eof)
                return;
        ce->end[p] = (unsigned char)msg->eof;
        ce->at_end += msg->eof ? 1 : -1;
}

static int cli_consume_loop(ltrr_kafka_consumer_t *kc, const struct cli *c,
                            struct cli_eof *ce)
{
        ltrr_kafka_msg_t *msg;
        long got = 0;

        while (run && (!c->count || got < c->count)) {
                if (ltrr_kafka_consumer_poll(kc, 100, &msg) != LTRR_OK)
                        continue;
                cli_track(ce, msg);
                if (!msg->eof) {
                        fwrite(msg->value, 1, msg->len, stdout);
                        fputc('\n', stdout);
                        fflush(stdout);
                        ltrr_kafka_consumer_done(kc, msg);
                        got++;
                }
                ltrr_kafka_msg_destroy(msg);
                if (c->exit_eof && ce->assigned > 0 &&
                    ce->at_end == ce->assigned)
                        break;
        }
        return 0;
}

/* -C: prints values until -c, -e or a signal; commits on the way out. */
static int cli_consume(const struct cli *c)
{
        static struct cli_eof ce;
        ltrr_kafka_opts_t opts = {.bootstrap = c->bootstrap,
                                  .client_id = "ltrr-kafka",
                                  .group_id = c->group,
                                  .partition_eof = c->exit_eof,
                                  .rebalance_hook = cli_rebalance,
                                  .opaque = &ce};
        ltrr_kafka_consumer_t *kc;
        char errstr[512];
        int rc;

        kc = ltrr_kafka_consumer_new(&c->props, &opts, &c->topic, 1, errstr,
                                     sizeof(errstr));
        if (!kc) {
                fprintf(stderr, "ltrr-kafka: %s\n", errstr);
                return 1;
        }
        rc = cli_consume_loop(kc, c, &ce);
        if (ltrr_kafka_consumer_close(kc))
                rc = 1;
        ltrr_kafka_consumer_destroy(kc);
        return rc;
}

int main(int argc, char **argv)
{
        struct cli c = {0};
        int rc;

        ltrr_kvlist_init(&c.props);
        rc = cli_parse(argc, argv, &c);
        if (!rc) {
                signal(SIGINT, on_signal);
                signal(SIGTERM, on_signal);
                rc = c.mode == 'P' ? cli_produce(&c) : cli_consume(&c);
        }
        ltrr_kvlist_clear(&c.props);
        return rc;
}
