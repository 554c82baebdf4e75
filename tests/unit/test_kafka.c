/* Unit tests: Kafka producer and consumer wrappers on an in-process
 * mock cluster. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kafka.h"

#include <librdkafka/rdkafka_mock.h>

#define TEST_TOPIC "ltrr.actions"
/** One partition, so offsets and values line up (pause/seek tests). */
#define PAUSE_TOPIC "ltrr.test.pause"
#define TEST_PARTITIONS 3
#define TEST_MSGS 60
/** Longest a consumer waits for its records. */
#define TEST_WAIT_S 60

struct fixture {
        rd_kafka_t *rk;              /* hosts the cluster */
        rd_kafka_mock_cluster_t *mc; /* 3 brokers */
        const char *bootstrap;       /* valid while mc lives */
        ltrr_kvlist_t props;         /* group timeouts the mock needs */
};

static struct fixture fx;

static int fixture_up(void **state)
{
        char errstr[256];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();

        rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
        fx.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!fx.rk)
                return -1;
        fx.mc = rd_kafka_mock_cluster_new(fx.rk, 3);
        if (!fx.mc ||
            rd_kafka_mock_topic_create(fx.mc, TEST_TOPIC, TEST_PARTITIONS,
                                       3) ||
            rd_kafka_mock_topic_create(fx.mc, LTRR_KAFKA_TOPIC_DLQ, 1, 3) ||
            rd_kafka_mock_topic_create(fx.mc, PAUSE_TOPIC, 1, 3))
                return -1;
        fx.bootstrap = rd_kafka_mock_cluster_bootstraps(fx.mc);
        ltrr_kvlist_init(&fx.props);
        ltrr_kvlist_set(&fx.props, "session.timeout.ms", "6000");
        ltrr_kvlist_set(&fx.props, "heartbeat.interval.ms", "1000");
        ltrr_kvlist_set(&fx.props, "max.poll.interval.ms", "8000");
        return 0;
}

static int fixture_down(void **state)
{
        ltrr_kvlist_clear(&fx.props);
        if (fx.mc)
                rd_kafka_mock_cluster_destroy(fx.mc);
        if (fx.rk)
                rd_kafka_destroy(fx.rk);
        return 0;
}

static ltrr_kafka_consumer_t *consumer(const char *group, const char *topic)
{
        ltrr_kafka_opts_t opts = {.bootstrap = fx.bootstrap,
                                  .group_id = group,
                                  .partition_eof = 1};
        char errstr[256];
        ltrr_kafka_consumer_t *kc =
            ltrr_kafka_consumer_new(&fx.props, &opts, &topic, 1, errstr,
                                    sizeof(errstr));

        if (!kc)
                fail_msg("consumer: %s", errstr);
        return kc;
}

/*
 * Reads until every partition of @topic is at its end (or the deadline)
 * and returns the records in seen[] (value -> count). Records of
 * partition p are marked done only while their offset < mark_below[p];
 * marked[value] is set for those.
 */
static int consume_all(ltrr_kafka_consumer_t *kc, int nparts, int *seen,
                       const int *mark_below, int *marked)
{
        time_t deadline = time(NULL) + TEST_WAIT_S;
        int at_end = 0, got = 0, v;
        int end[TEST_PARTITIONS] = {0};
        ltrr_kafka_msg_t *msg;
        char buf[16];

        while (at_end < nparts && time(NULL) < deadline) {
                if (ltrr_kafka_consumer_poll(kc, 100, &msg) != LTRR_OK)
                        continue;
                if (msg->eof) {
                        at_end += !end[msg->partition];
                        end[msg->partition] = 1;
                } else {
                        assert_true(msg->len < sizeof(buf));
                        memcpy(buf, msg->value, msg->len);
                        buf[msg->len] = '\0';
                        v = atoi(buf);
                        seen[v]++;
                        got++;
                        if (!mark_below ||
                            msg->offset >= mark_below[msg->partition]) {
                                ltrr_kafka_msg_destroy(msg);
                                continue;
                        }
                        assert_int_equal(ltrr_kafka_consumer_done(kc, msg),
                                         LTRR_OK);
                        marked[v] = 1;
                }
                ltrr_kafka_msg_destroy(msg);
        }
        assert_int_equal(at_end, nparts);
        return got;
}

static int dr_count[2]; /* [0] delivered, [1] failed */

static void count_dr(void *opaque, void *msg_opaque, ltrr_err_t err,
                     const char *reason)
{
        assert_ptr_equal(opaque, dr_count);
        dr_count[err == LTRR_OK ? 0 : 1]++;
}

/* Produces TEST_MSGS keyed records whose value is their index. */
static void produce_all(void)
{
        ltrr_kafka_opts_t opts = {.bootstrap = fx.bootstrap,
                                  .dr_hook = count_dr,
                                  .opaque = dr_count};
        ltrr_kafka_producer_stats_t st;
        ltrr_kafka_producer_t *kp;
        char errstr[256], key[16], val[16];
        int i;

        memset(dr_count, 0, sizeof(dr_count));
        kp = ltrr_kafka_producer_new(&fx.props, &opts, errstr, sizeof(errstr));
        assert_non_null(kp);
        for (i = 0; i < TEST_MSGS; i++) {
                snprintf(key, sizeof(key), "user%d", i % 7);
                snprintf(val, sizeof(val), "%d", i);
                assert_int_equal(ltrr_kafka_producer_send(
                                     kp, TEST_TOPIC, -1, key, strlen(key),
                                     val, strlen(val), NULL, 0, NULL, errstr,
                                     sizeof(errstr)),
                                 LTRR_OK);
        }
        assert_int_equal(ltrr_kafka_producer_flush(kp, 20000), LTRR_OK);
        ltrr_kafka_producer_stats(kp, &st);
        assert_int_equal(st.queued, TEST_MSGS);
        assert_int_equal(st.delivered, TEST_MSGS);
        assert_int_equal(st.failed + st.dropped, 0);
        assert_int_equal(dr_count[0], TEST_MSGS);
        ltrr_kafka_producer_destroy(kp);
}

/*
 * A consumer marks the first half of each partition processed and
 * closes; the next member of the group gets exactly the rest.
 */
static void test_commit_after_processing(void **state)
{
        int seen[TEST_MSGS] = {0}, again[TEST_MSGS] = {0};
        int marked[TEST_MSGS] = {0}, mark_below[TEST_PARTITIONS];
        ltrr_kafka_consumer_t *kc;
        int i, nmarked = 0, got;

        produce_all();
        /* Offsets per partition start at 0; mark offsets below 3. */
        for (i = 0; i < TEST_PARTITIONS; i++)
                mark_below[i] = 3;
        kc = consumer("g-resume", TEST_TOPIC);
        assert_int_equal(consume_all(kc, TEST_PARTITIONS, seen, mark_below,
                                     marked),
                         TEST_MSGS);
        for (i = 0; i < TEST_MSGS; i++)
                assert_int_equal(seen[i], 1);
        assert_int_equal(ltrr_kafka_consumer_close(kc), LTRR_OK);
        ltrr_kafka_consumer_destroy(kc);

        kc = consumer("g-resume", TEST_TOPIC);
        got = consume_all(kc, TEST_PARTITIONS, again, NULL, NULL);
        ltrr_kafka_consumer_destroy(kc); /* closes implicitly */
        /* Every record not marked comes again exactly once, and only
         * those: the group resumed right after the last marked offset. */
        for (i = 0; i < TEST_MSGS; i++) {
                assert_int_equal(again[i], !marked[i]);
                nmarked += marked[i];
        }
        assert_int_equal(nmarked, 3 * TEST_PARTITIONS);
        assert_int_equal(got, TEST_MSGS - nmarked);
}

/* A full queue refuses without blocking and counts the drop. */
static void test_queue_full(void **state)
{
        ltrr_kafka_opts_t opts = {.bootstrap = "127.0.0.1:1",
                                  .queue_max = 5,
                                  .flush_ms = 100,
                                  .dr_hook = count_dr,
                                  .opaque = dr_count};
        ltrr_kafka_producer_stats_t st;
        ltrr_kafka_producer_t *kp;
        char errstr[256];
        int i;

        memset(dr_count, 0, sizeof(dr_count));
        kp = ltrr_kafka_producer_new(NULL, &opts, errstr, sizeof(errstr));
        assert_non_null(kp);
        for (i = 0; i < 5; i++)
                assert_int_equal(ltrr_kafka_producer_send(
                                     kp, TEST_TOPIC, 0, NULL, 0, "x", 1, NULL,
                                     0, NULL, errstr, sizeof(errstr)),
                                 LTRR_OK);
        assert_int_equal(ltrr_kafka_producer_send(kp, TEST_TOPIC, 0, NULL, 0,
                                                  "x", 1, NULL, 0, NULL,
                                                  errstr, sizeof(errstr)),
                         LTRR_ERR_NOSPACE);
        ltrr_kafka_producer_stats(kp, &st);
        assert_int_equal(st.queued, 5);
        assert_int_equal(st.dropped, 1);
        assert_int_equal(ltrr_kafka_producer_outq(kp), 5);
        assert_int_equal(ltrr_kafka_producer_flush(kp, 50), LTRR_ERR_TIMEOUT);
        /* Destroy gives up after flush_ms; the rest is reported failed. */
        ltrr_kafka_producer_destroy(kp);
        assert_int_equal(dr_count[0], 0);
        assert_int_equal(dr_count[1], 5);
}

static void assert_header(const ltrr_kafka_msg_t *msg, const char *name,
                          const char *want)
{
        const void *val;
        size_t size;

        assert_int_equal(ltrr_kafka_msg_header(msg, name, &val, &size),
                         LTRR_OK);
        assert_int_equal(size, strlen(want));
        assert_memory_equal(val, want, size);
}

/* DLQ records carry the raw bytes and the error/source headers. */
static void test_dlq_headers(void **state)
{
        ltrr_kafka_opts_t opts = {.bootstrap = fx.bootstrap};
        ltrr_kafka_producer_t *kp;
        ltrr_kafka_consumer_t *kc;
        ltrr_kafka_msg_t *msg = NULL;
        char errstr[256];
        const void *val;
        size_t size;
        time_t deadline = time(NULL) + TEST_WAIT_S;

        kp = ltrr_kafka_producer_new(NULL, &opts, errstr, sizeof(errstr));
        assert_non_null(kp);
        assert_int_equal(ltrr_kafka_producer_dlq(kp, "bad magic", TEST_TOPIC,
                                                 2, 12345, "\xc3\x02z", 3,
                                                 errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_kafka_producer_dlq(kp, NULL, TEST_TOPIC, 0, 0,
                                                 "", 0, errstr,
                                                 sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        ltrr_kafka_producer_destroy(kp);

        kc = consumer("g-dlq", LTRR_KAFKA_TOPIC_DLQ);
        while (time(NULL) < deadline) {
                if (ltrr_kafka_consumer_poll(kc, 100, &msg) == LTRR_OK &&
                    !msg->eof)
                        break;
                ltrr_kafka_msg_destroy(msg);
                msg = NULL;
        }
        assert_non_null(msg);
        assert_int_equal(msg->len, 3);
        assert_memory_equal(msg->value, "\xc3\x02z", 3);
        assert_header(msg, LTRR_KAFKA_HDR_ERROR, "bad magic");
        assert_header(msg, LTRR_KAFKA_HDR_SRC_TOPIC, TEST_TOPIC);
        assert_header(msg, LTRR_KAFKA_HDR_SRC_PARTITION, "2");
        assert_header(msg, LTRR_KAFKA_HDR_SRC_OFFSET, "12345");
        assert_int_equal(ltrr_kafka_msg_header(msg, "nope", &val, &size),
                         LTRR_ERR_UNKNOWN_KEY);
        ltrr_kafka_msg_destroy(msg);
        ltrr_kafka_consumer_destroy(kc);
}

/* Bad configuration and arguments fail cleanly with a reason. */
static void test_failures(void **state)
{
        ltrr_kafka_opts_t opts = {.bootstrap = "127.0.0.1:1"};
        ltrr_kvlist_t bad;
        char errstr[256] = "";
        const char *topic = TEST_TOPIC;
        ltrr_kafka_header_t hdrs[17] = {{0}};
        ltrr_kafka_producer_t *kp;

        ltrr_kvlist_init(&bad);
        ltrr_kvlist_set(&bad, "no.such.property", "1");
        assert_null(ltrr_kafka_producer_new(&bad, &opts, errstr,
                                            sizeof(errstr)));
        assert_non_null(strstr(errstr, "no.such.property"));
        errstr[0] = '\0';
        assert_null(ltrr_kafka_consumer_new(&bad, &opts, &topic, 1, errstr,
                                            sizeof(errstr)));
        assert_non_null(strstr(errstr, "group"));
        opts.group_id = "g";
        assert_null(ltrr_kafka_consumer_new(&bad, &opts, &topic, 1, errstr,
                                            sizeof(errstr)));
        assert_non_null(strstr(errstr, "no.such.property"));
        assert_null(ltrr_kafka_consumer_new(NULL, &opts, &topic, 0, errstr,
                                            sizeof(errstr)));
        ltrr_kvlist_clear(&bad);

        kp = ltrr_kafka_producer_new(NULL, &opts, errstr, sizeof(errstr));
        assert_non_null(kp);
        assert_int_equal(ltrr_kafka_producer_send(kp, NULL, 0, NULL, 0, "x",
                                                  1, NULL, 0, NULL, errstr,
                                                  sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_kafka_producer_send(kp, TEST_TOPIC, 0, NULL, 0,
                                                  "x", 1, hdrs, 17, NULL,
                                                  errstr, sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        ltrr_kafka_producer_destroy(kp);
}

/* Produces the values from..to-1 to partition 0 of PAUSE_TOPIC. */
static void produce_range(int from, int to)
{
        ltrr_kafka_opts_t opts = {.bootstrap = fx.bootstrap};
        ltrr_kafka_producer_t *kp;
        char errstr[256], val[16];
        int i;

        kp = ltrr_kafka_producer_new(&fx.props, &opts, errstr, sizeof(errstr));
        assert_non_null(kp);
        for (i = from; i < to; i++) {
                snprintf(val, sizeof(val), "%d", i);
                assert_int_equal(ltrr_kafka_producer_send(
                                     kp, PAUSE_TOPIC, 0, NULL, 0, val,
                                     strlen(val), NULL, 0, NULL, errstr,
                                     sizeof(errstr)),
                                 LTRR_OK);
        }
        assert_int_equal(ltrr_kafka_producer_flush(kp, 20000), LTRR_OK);
        ltrr_kafka_producer_destroy(kp);
}

/* A record's value as an integer. */
static int msg_value(const ltrr_kafka_msg_t *msg)
{
        char buf[16];

        assert_true(msg->len < sizeof(buf));
        memcpy(buf, msg->value, msg->len);
        buf[msg->len] = '\0';
        return atoi(buf);
}

/*
 * Polls for @p ms (or until the end of the partition once @p until_eof
 * records came) and stores the values read in vals[] (at most cap);
 * records with value < mark are marked done. Returns how many came.
 */
static int poll_values(ltrr_kafka_consumer_t *kc, int ms, int until_eof,
                       int *vals, int cap, int mark)
{
        struct timespec t0, t;
        ltrr_kafka_msg_t *msg;
        int n = 0;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
                clock_gettime(CLOCK_MONOTONIC, &t);
                if ((t.tv_sec - t0.tv_sec) * 1000 +
                        (t.tv_nsec - t0.tv_nsec) / 1000000 >=
                    ms)
                        break;
                if (ltrr_kafka_consumer_poll(kc, 50, &msg) != LTRR_OK)
                        continue;
                if (msg->eof) {
                        ltrr_kafka_msg_destroy(msg);
                        if (until_eof && n >= until_eof)
                                break;
                        continue;
                }
                assert_true(n < cap);
                vals[n] = msg_value(msg);
                assert_int_equal(msg->offset, vals[n]);
                if (vals[n] < mark)
                        assert_int_equal(ltrr_kafka_consumer_done(kc, msg),
                                         LTRR_OK);
                n++;
                ltrr_kafka_msg_destroy(msg);
        }
        return n;
}

/* A one-entry list: PAUSE_TOPIC (or @p topic) [@p partition] @ offset. */
static rd_kafka_topic_partition_list_t *one_part(const char *topic,
                                                 int32_t partition,
                                                 int64_t offset)
{
        rd_kafka_topic_partition_list_t *l =
            rd_kafka_topic_partition_list_new(1);

        rd_kafka_topic_partition_list_add(l, topic, partition)->offset =
            offset;
        return l;
}

/* The group's committed offset of PAUSE_TOPIC [0]. */
static int64_t committed0(ltrr_kafka_consumer_t *kc)
{
        rd_kafka_topic_partition_list_t *l = one_part(PAUSE_TOPIC, 0, -1);
        char errstr[256];
        int64_t off;

        assert_int_equal(ltrr_kafka_consumer_committed(kc, l, 10000, errstr,
                                                       sizeof(errstr)),
                         LTRR_OK);
        off = l->elems[0].offset;
        rd_kafka_topic_partition_list_destroy(l);
        return off;
}

/*
 * Pause, seek while paused, resume; assignment and committed offsets.
 * 20 records are read (the first 5 marked and committed); the partition
 * is paused; 10 more are produced and none comes out of the poll; a seek
 * to offset 7 while paused brings nothing either; after the resume the
 * records 7..29 come, in order, exactly once.
 */
static void test_pause_seek_resume(void **state)
{
        rd_kafka_topic_partition_list_t *parts = NULL, *to;
        ltrr_kafka_consumer_t *kc;
        int vals[64], n, i;
        char errstr[256];

        produce_range(0, 20);
        kc = consumer("g-pause", PAUSE_TOPIC);
        n = poll_values(kc, TEST_WAIT_S * 1000, 20, vals, 64, 5);
        assert_int_equal(n, 20);
        for (i = 0; i < n; i++)
                assert_int_equal(vals[i], i);
        assert_int_equal(committed0(kc), RD_KAFKA_OFFSET_INVALID);
        assert_int_equal(ltrr_kafka_consumer_commit(kc), LTRR_OK);
        assert_int_equal(committed0(kc), 5);

        assert_int_equal(ltrr_kafka_consumer_assignment(kc, &parts, errstr,
                                                        sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(parts->cnt, 1);
        assert_string_equal(parts->elems[0].topic, PAUSE_TOPIC);
        assert_int_equal(parts->elems[0].partition, 0);
        rd_kafka_topic_partition_list_destroy(parts);

        assert_int_equal(ltrr_kafka_consumer_pause(kc, errstr,
                                                   sizeof(errstr)),
                         LTRR_OK);
        produce_range(20, 30);
        assert_int_equal(poll_values(kc, 2000, 0, vals, 64, 0), 0);
        to = one_part(PAUSE_TOPIC, 0, 7);
        assert_int_equal(ltrr_kafka_consumer_seek(kc, to, 10000, errstr,
                                                  sizeof(errstr)),
                         LTRR_OK);
        rd_kafka_topic_partition_list_destroy(to);
        assert_int_equal(poll_values(kc, 1000, 0, vals, 64, 0), 0);
        assert_int_equal(ltrr_kafka_consumer_resume(kc, errstr,
                                                    sizeof(errstr)),
                         LTRR_OK);
        n = poll_values(kc, TEST_WAIT_S * 1000, 23, vals, 64, 0);
        assert_int_equal(n, 23);
        for (i = 0; i < n; i++)
                assert_int_equal(vals[i], 7 + i);
        /* Nothing marked since: the commit stays where it was. */
        assert_int_equal(ltrr_kafka_consumer_commit(kc), LTRR_OK);
        assert_int_equal(committed0(kc), 5);

        /* A partition that is not assigned cannot be sought. */
        errstr[0] = '\0';
        to = one_part(TEST_TOPIC, 1, 0);
        assert_int_equal(ltrr_kafka_consumer_seek(kc, to, 2000, errstr,
                                                  sizeof(errstr)),
                         LTRR_ERR_TRANSPORT);
        rd_kafka_topic_partition_list_destroy(to);
        assert_non_null(strstr(errstr, "seek"));
        assert_int_equal(ltrr_kafka_consumer_close(kc), LTRR_OK);
        ltrr_kafka_consumer_destroy(kc);
}

static void test_destroy_null(void **state)
{
        ltrr_kafka_producer_destroy(NULL);
        ltrr_kafka_consumer_destroy(NULL);
        ltrr_kafka_msg_destroy(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_destroy_null),
            cmocka_unit_test(test_failures),
            cmocka_unit_test(test_queue_full),
            cmocka_unit_test(test_dlq_headers),
            cmocka_unit_test(test_commit_after_processing),
            cmocka_unit_test(test_pause_seek_resume),
        };

        return cmocka_run_group_tests(tests, fixture_up, fixture_down);
}
