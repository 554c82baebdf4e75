/*
 * ltrr - producer wrapper: bounded, never-blocking produce with delivery
 * counters, rate-limited error logs and a dead-letter helper.
 */
#include "kafka.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

/* Most headers one send() takes, DLQ headers included. */
#define PRODUCER_HDRS_MAX 16

struct ltrr_kafka_producer_s {
        rd_kafka_t *rk;                       /* owned */
        ltrr_kafka_dr_hook_t *dr_hook;        /* or NULL */
        void *opaque;                         /* for dr_hook */
        int flush_ms;                         /* destroy flush bound */
        atomic_uint_fast64_t queued;          /* accepted by send() */
        atomic_uint_fast64_t delivered;       /* acknowledged */
        atomic_uint_fast64_t failed;          /* failed delivery */
        atomic_uint_fast64_t dropped;         /* refused: queue full */
        atomic_int_fast64_t last_log_s;       /* last delivery error log */
        atomic_uint_fast64_t suppressed;      /* errors not logged since */
};

static int64_t now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec;
}

/*
 * Logs a delivery failure at most once a second per producer; the
 * failures in between are counted and reported with the next line.
 */
static void producer_log_failure(ltrr_kafka_producer_t *kp,
                                 const rd_kafka_message_t *rkm)
{
        int_fast64_t last = atomic_load(&kp->last_log_s);
        int64_t now = now_s();
        char nbuf[32], pbuf[32];

        if (now <= last ||
            !atomic_compare_exchange_strong(&kp->last_log_s, &last, now)) {
                atomic_fetch_add(&kp->suppressed, 1);
                return;
        }
        log_error("kafka", "delivery failed", "topic",
                  rd_kafka_topic_name(rkm->rkt), "partition",
                  ltrr_log_i64(pbuf, sizeof(pbuf), rkm->partition), "err",
                  rd_kafka_err2str(rkm->err), "suppressed",
                  ltrr_log_i64(nbuf, sizeof(nbuf),
                               (long long)atomic_exchange(&kp->suppressed,
                                                          0)));
}

/* Delivery report: counts, logs failures, calls the caller's hook. */
static void producer_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                           void *opaque)
{
        ltrr_kafka_producer_t *kp = opaque;

        if (rkm->err) {
                atomic_fetch_add(&kp->failed, 1);
                producer_log_failure(kp, rkm);
        } else {
                atomic_fetch_add(&kp->delivered, 1);
        }
        if (kp->dr_hook)
                kp->dr_hook(kp->opaque, rkm->_private,
                            rkm->err ? LTRR_ERR_TRANSPORT : LTRR_OK,
                            rd_kafka_err2str(rkm->err));
}

/* Sets the properties the wrapper guarantees, after the caller's. */
static ltrr_err_t producer_conf_fixed(rd_kafka_conf_t *conf, int queue_max,
                                      char *errstr, size_t errstr_size)
{
        char qbuf[32];

        snprintf(qbuf, sizeof(qbuf), "%d", queue_max);
        if (ltrr_kafka_conf_set(conf, "acks", "all", errstr, errstr_size) ||
            ltrr_kafka_conf_set(conf, "enable.idempotence", "true", errstr,
                                errstr_size) ||
            ltrr_kafka_conf_set(conf, "partitioner", "murmur2_random",
                                errstr, errstr_size) ||
            ltrr_kafka_conf_set(conf, "queue.buffering.max.messages", qbuf,
                                errstr, errstr_size))
                return LTRR_ERR_INVALID_ARG;
        return LTRR_OK;
}

ltrr_kafka_producer_t *ltrr_kafka_producer_new(const ltrr_kvlist_t *props,
                                               const ltrr_kafka_opts_t *opts,
                                               char *errstr,
                                               size_t errstr_size)
{
        ltrr_kafka_producer_t *kp;
        rd_kafka_conf_t *conf = NULL;
        char rderr[256];
        int queue_max = opts && opts->queue_max > 0
                            ? opts->queue_max
                            : LTRR_KAFKA_QUEUE_MAX_DEFAULT;

        kp = calloc(1, sizeof(*kp));
        if (!kp) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "no memory");
                return NULL;
        }
        kp->flush_ms = opts && opts->flush_ms > 0 ? opts->flush_ms
                                                  : LTRR_KAFKA_FLUSH_MS_DEFAULT;
        kp->dr_hook = opts ? opts->dr_hook : NULL;
        kp->opaque = opts ? opts->opaque : NULL;
        conf = ltrr_kafka_conf_new(props, opts, errstr, errstr_size);
        if (!conf)
                goto err;
        if (producer_conf_fixed(conf, queue_max, errstr, errstr_size))
                goto err;
        rd_kafka_conf_set_dr_msg_cb(conf, producer_dr_cb);
        rd_kafka_conf_set_opaque(conf, kp);
        kp->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, rderr, sizeof(rderr));
        if (!kp->rk) {
                ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                          "kafka producer: %s", rderr);
                goto err;
        }
        conf = NULL; /* owned by rk now */
        return kp;
err:
        if (conf)
                rd_kafka_conf_destroy(conf);
        free(kp);
        return NULL;
}

/* Builds librdkafka headers from @hdrs; NULL when there are none. */
static rd_kafka_headers_t *producer_headers(const ltrr_kafka_header_t *hdrs,
                                            size_t hdr_cnt)
{
        rd_kafka_headers_t *h;
        size_t i;

        if (!hdrs || hdr_cnt == 0)
                return NULL;
        h = rd_kafka_headers_new(hdr_cnt);
        for (i = 0; i < hdr_cnt; i++)
                rd_kafka_header_add(h, hdrs[i].name, -1, hdrs[i].value,
                                    (ssize_t)hdrs[i].size);
        return h;
}

ltrr_err_t ltrr_kafka_producer_send(ltrr_kafka_producer_t *kp,
                                    const char *topic, int32_t partition,
                                    const void *key, size_t key_len,
                                    const void *value, size_t len,
                                    const ltrr_kafka_header_t *hdrs,
                                    size_t hdr_cnt, void *msg_opaque,
                                    char *errstr, size_t errstr_size)
{
        rd_kafka_headers_t *h;
        rd_kafka_resp_err_t rerr;

        if (!kp || !topic || hdr_cnt > PRODUCER_HDRS_MAX)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "bad producer, topic or header count");
        h = producer_headers(hdrs, hdr_cnt);
        /* Serve delivery reports so the queue drains and counters move. */
        rd_kafka_poll(kp->rk, 0);
        rerr = rd_kafka_producev(
            kp->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY((void *)key, key_len),
            RD_KAFKA_V_VALUE((void *)value, len), RD_KAFKA_V_HEADERS(h),
            RD_KAFKA_V_OPAQUE(msg_opaque), RD_KAFKA_V_END);
        if (!rerr) {
                atomic_fetch_add(&kp->queued, 1);
                return LTRR_OK; /* headers now owned by the message */
        }
        if (h)
                rd_kafka_headers_destroy(h);
        if (rerr == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                atomic_fetch_add(&kp->dropped, 1);
                return ltrr_errf(LTRR_ERR_NOSPACE, errstr, errstr_size,
                                 "producer queue full");
        }
        return ltrr_errf(LTRR_ERR_TRANSPORT, errstr, errstr_size,
                         "produce to %s: %s", topic, rd_kafka_err2str(rerr));
}

ltrr_err_t ltrr_kafka_producer_dlq(ltrr_kafka_producer_t *kp,
                                   const char *error, const char *src_topic,
                                   int32_t src_partition, int64_t src_offset,
                                   const void *value, size_t len,
                                   char *errstr, size_t errstr_size)
{
        char pbuf[16], obuf[32];
        ltrr_kafka_header_t hdrs[4];

        if (!error || !src_topic)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "dlq needs an error and a source topic");
        snprintf(pbuf, sizeof(pbuf), "%" PRId32, src_partition);
        snprintf(obuf, sizeof(obuf), "%" PRId64, src_offset);
        hdrs[0] = (ltrr_kafka_header_t){LTRR_KAFKA_HDR_ERROR, error,
                                        strlen(error)};
        hdrs[1] = (ltrr_kafka_header_t){LTRR_KAFKA_HDR_SRC_TOPIC, src_topic,
                                        strlen(src_topic)};
        hdrs[2] = (ltrr_kafka_header_t){LTRR_KAFKA_HDR_SRC_PARTITION, pbuf,
                                        strlen(pbuf)};
        hdrs[3] = (ltrr_kafka_header_t){LTRR_KAFKA_HDR_SRC_OFFSET, obuf,
                                        strlen(obuf)};
        return ltrr_kafka_producer_send(kp, LTRR_KAFKA_TOPIC_DLQ, 0, NULL, 0,
                                        value, len, hdrs, 4, NULL, errstr,
                                        errstr_size);
}

int ltrr_kafka_producer_poll(ltrr_kafka_producer_t *kp, int timeout_ms)
{
        return rd_kafka_poll(kp->rk, timeout_ms);
}

int ltrr_kafka_producer_outq(ltrr_kafka_producer_t *kp)
{
        return rd_kafka_outq_len(kp->rk);
}

ltrr_err_t ltrr_kafka_producer_flush(ltrr_kafka_producer_t *kp,
                                     int timeout_ms)
{
        return rd_kafka_flush(kp->rk, timeout_ms) ? LTRR_ERR_TIMEOUT
                                                  : LTRR_OK;
}

void ltrr_kafka_producer_stats(const ltrr_kafka_producer_t *kp,
                               ltrr_kafka_producer_stats_t *st)
{
        ltrr_kafka_producer_t *k = (ltrr_kafka_producer_t *)kp;

        st->queued = atomic_load(&k->queued);
        st->delivered = atomic_load(&k->delivered);
        st->failed = atomic_load(&k->failed);
        st->dropped = atomic_load(&k->dropped);
}

/*
 * Flushes within the bound; what is still queued afterwards is purged
 * (its delivery reports count it as failed) and logged.
 */
void ltrr_kafka_producer_destroy(ltrr_kafka_producer_t *kp)
{
        char nbuf[32], fbuf[32];
        int left;

        if (!kp)
                return;
        rd_kafka_flush(kp->rk, kp->flush_ms);
        left = rd_kafka_outq_len(kp->rk);
        if (left > 0) {
                rd_kafka_purge(kp->rk, RD_KAFKA_PURGE_F_QUEUE |
                                           RD_KAFKA_PURGE_F_INFLIGHT);
                rd_kafka_flush(kp->rk, 100);
                log_warn("kafka", "producer closed with undelivered messages",
                         "left", ltrr_log_i64(nbuf, sizeof(nbuf), left),
                         "flush_ms",
                         ltrr_log_i64(fbuf, sizeof(fbuf), kp->flush_ms));
        }
        if (atomic_load(&kp->suppressed) > 0)
                log_error("kafka", "delivery failures not logged",
                          "suppressed",
                          ltrr_log_i64(nbuf, sizeof(nbuf),
                                       (long long)atomic_load(
                                           &kp->suppressed)));
        rd_kafka_destroy(kp->rk);
        free(kp);
}
