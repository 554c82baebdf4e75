/*
 * ltrr - consumer wrapper: group subscription, one record per poll,
 * commit of processed records only, and pause / seek / resume of the
 * assigned partitions (a caller whose sink is down stays in its group).
 */
#include "kafka.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

struct ltrr_kafka_consumer_s {
        rd_kafka_t *rk;                              /* owned */
        ltrr_kafka_rebalance_hook_t *rebalance_hook; /* or NULL */
        void *opaque;                                /* for the hook */
        int closed;                                  /* close() done */
};

/* Applies an assignment change, eager or cooperative. */
static void consumer_apply(rd_kafka_t *rk, int assigned,
                           rd_kafka_topic_partition_list_t *parts)
{
        rd_kafka_error_t *error = NULL;
        rd_kafka_resp_err_t rerr = RD_KAFKA_RESP_ERR_NO_ERROR;

        if (!strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE"))
                error = assigned ? rd_kafka_incremental_assign(rk, parts)
                                 : rd_kafka_incremental_unassign(rk, parts);
        else
                rerr = rd_kafka_assign(rk, assigned ? parts : NULL);
        if (error) {
                log_error("kafka", "assignment failed", "err",
                          rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
        } else if (rerr) {
                log_error("kafka", "assignment failed", "err",
                          rd_kafka_err2str(rerr));
        }
}

/* Rebalance: tells the caller first, then changes the assignment. */
static void consumer_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                                  rd_kafka_topic_partition_list_t *parts,
                                  void *opaque)
{
        ltrr_kafka_consumer_t *kc = opaque;
        int assigned = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
        char nbuf[32];

        if (!assigned && err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
                log_error("kafka", "rebalance failed", "err",
                          rd_kafka_err2str(err));
                assigned = 0;
        }
        log_info("kafka", assigned ? "partitions assigned"
                                   : "partitions revoked",
                 "count", ltrr_log_i64(nbuf, sizeof(nbuf), parts->cnt));
        if (kc->rebalance_hook)
                kc->rebalance_hook(kc->opaque, assigned, parts);
        consumer_apply(rk, assigned, parts);
}

/* Sets the properties the wrapper guarantees, after the caller's. */
static ltrr_err_t consumer_conf_fixed(rd_kafka_conf_t *conf,
                                      const ltrr_kvlist_t *props,
                                      const ltrr_kafka_opts_t *opts,
                                      char *errstr, size_t errstr_size)
{
        char cbuf[32];
        int commit_ms = opts->commit_ms > 0 ? opts->commit_ms
                                            : LTRR_KAFKA_COMMIT_MS_DEFAULT;

        snprintf(cbuf, sizeof(cbuf), "%d", commit_ms);
        /* A new group starts at the beginning unless told otherwise. */
        if ((!props || !ltrr_kvlist_get(props, "auto.offset.reset")) &&
            ltrr_kafka_conf_set(conf, "auto.offset.reset", "earliest",
                                errstr, errstr_size))
                return LTRR_ERR_INVALID_ARG;
        if (ltrr_kafka_conf_set(conf, "group.id", opts->group_id, errstr,
                                errstr_size) ||
            ltrr_kafka_conf_set(conf, "enable.auto.offset.store", "false",
                                errstr, errstr_size) ||
            ltrr_kafka_conf_set(conf, "enable.auto.commit", "true", errstr,
                                errstr_size) ||
            ltrr_kafka_conf_set(conf, "auto.commit.interval.ms", cbuf,
                                errstr, errstr_size) ||
            ltrr_kafka_conf_set(conf, "enable.partition.eof",
                                opts->partition_eof ? "true" : "false",
                                errstr, errstr_size))
                return LTRR_ERR_INVALID_ARG;
        return LTRR_OK;
}

/* Subscribes to the topics; LTRR_OK or LTRR_ERR_TRANSPORT. */
static ltrr_err_t consumer_subscribe(ltrr_kafka_consumer_t *kc,
                                     const char *const *topics,
                                     size_t topic_cnt, char *errstr,
                                     size_t errstr_size)
{
        rd_kafka_topic_partition_list_t *list;
        rd_kafka_resp_err_t rerr;
        size_t i;

        list = rd_kafka_topic_partition_list_new((int)topic_cnt);
        for (i = 0; i < topic_cnt; i++)
                rd_kafka_topic_partition_list_add(list, topics[i],
                                                  RD_KAFKA_PARTITION_UA);
        rerr = rd_kafka_subscribe(kc->rk, list);
        rd_kafka_topic_partition_list_destroy(list);
        if (rerr)
                return ltrr_errf(LTRR_ERR_TRANSPORT, errstr, errstr_size,
                                 "subscribe: %s", rd_kafka_err2str(rerr));
        return LTRR_OK;
}

ltrr_kafka_consumer_t *ltrr_kafka_consumer_new(const ltrr_kvlist_t *props,
                                               const ltrr_kafka_opts_t *opts,
                                               const char *const *topics,
                                               size_t topic_cnt,
                                               char *errstr,
                                               size_t errstr_size)
{
        ltrr_kafka_consumer_t *kc = NULL;
        rd_kafka_conf_t *conf = NULL;
        char rderr[256];

        if (!opts || !opts->group_id || !topics || topic_cnt == 0 ||
            topic_cnt > LTRR_KAFKA_TOPICS_MAX) {
                ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                          "consumer needs a group and 1..%d topics",
                          LTRR_KAFKA_TOPICS_MAX);
                return NULL;
        }
        kc = calloc(1, sizeof(*kc));
        if (!kc) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "no memory");
                return NULL;
        }
        kc->rebalance_hook = opts->rebalance_hook;
        kc->opaque = opts->opaque;
        conf = ltrr_kafka_conf_new(props, opts, errstr, errstr_size);
        if (!conf ||
            consumer_conf_fixed(conf, props, opts, errstr, errstr_size))
                goto err;
        rd_kafka_conf_set_rebalance_cb(conf, consumer_rebalance_cb);
        rd_kafka_conf_set_opaque(conf, kc);
        kc->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, rderr, sizeof(rderr));
        if (!kc->rk) {
                ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                          "kafka consumer: %s", rderr);
                goto err;
        }
        conf = NULL; /* owned by rk now */
        rd_kafka_poll_set_consumer(kc->rk);
        if (consumer_subscribe(kc, topics, topic_cnt, errstr, errstr_size))
                goto err;
        return kc;
err:
        if (conf)
                rd_kafka_conf_destroy(conf);
        ltrr_kafka_consumer_destroy(kc);
        return NULL;
}

/* Wraps @rkm (ownership passes to the record). NULL if out of memory. */
static ltrr_kafka_msg_t *consumer_msg_new(rd_kafka_message_t *rkm, int eof)
{
        ltrr_kafka_msg_t *msg = calloc(1, sizeof(*msg));
        rd_kafka_timestamp_type_t tstype;

        if (!msg)
                return NULL;
        msg->rkm = rkm;
        msg->topic = rd_kafka_topic_name(rkm->rkt);
        msg->partition = rkm->partition;
        msg->offset = rkm->offset;
        msg->eof = eof;
        if (!eof) {
                msg->key = rkm->key;
                msg->key_len = rkm->key_len;
                msg->value = rkm->payload;
                msg->len = rkm->len;
        }
        msg->timestamp_ms = rd_kafka_message_timestamp(rkm, &tstype);
        return msg;
}

ltrr_err_t ltrr_kafka_consumer_poll(ltrr_kafka_consumer_t *kc,
                                    int timeout_ms, ltrr_kafka_msg_t **msgp)
{
        rd_kafka_message_t *rkm;
        int eof;

        *msgp = NULL;
        rkm = rd_kafka_consumer_poll(kc->rk, timeout_ms);
        if (!rkm)
                return LTRR_ERR_TIMEOUT;
        eof = rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF;
        if (rkm->err && !eof) {
                log_error("kafka", "consume failed", "err",
                          rd_kafka_message_errstr(rkm));
                rd_kafka_message_destroy(rkm);
                return LTRR_ERR_TRANSPORT;
        }
        *msgp = consumer_msg_new(rkm, eof);
        if (!*msgp) {
                rd_kafka_message_destroy(rkm);
                return LTRR_ERR_NOMEM;
        }
        return LTRR_OK;
}

ltrr_err_t ltrr_kafka_consumer_done(ltrr_kafka_consumer_t *kc,
                                    const ltrr_kafka_msg_t *msg)
{
        rd_kafka_topic_partition_list_t *list;
        rd_kafka_resp_err_t rerr;

        if (!msg || msg->eof)
                return LTRR_ERR_INVALID_ARG;
        list = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(list, msg->topic, msg->partition)
            ->offset = msg->offset + 1;
        rerr = rd_kafka_offsets_store(kc->rk, list);
        if (!rerr)
                rerr = list->elems[0].err;
        rd_kafka_topic_partition_list_destroy(list);
        if (rerr) {
                log_warn("kafka", "offset store failed", "topic", msg->topic,
                         "err", rd_kafka_err2str(rerr));
                return LTRR_ERR_TRANSPORT;
        }
        return LTRR_OK;
}

ltrr_err_t ltrr_kafka_consumer_commit(ltrr_kafka_consumer_t *kc)
{
        rd_kafka_resp_err_t rerr = rd_kafka_commit(kc->rk, NULL, 0);

        if (rerr && rerr != RD_KAFKA_RESP_ERR__NO_OFFSET) {
                log_error("kafka", "commit failed", "err",
                          rd_kafka_err2str(rerr));
                return LTRR_ERR_TRANSPORT;
        }
        return LTRR_OK;
}

ltrr_err_t ltrr_kafka_consumer_close(ltrr_kafka_consumer_t *kc)
{
        rd_kafka_resp_err_t rerr;

        if (kc->closed)
                return LTRR_OK;
        kc->closed = 1;
        rerr = rd_kafka_consumer_close(kc->rk);
        if (rerr) {
                log_error("kafka", "consumer close failed", "err",
                          rd_kafka_err2str(rerr));
                return LTRR_ERR_TRANSPORT;
        }
        return LTRR_OK;
}

void ltrr_kafka_consumer_destroy(ltrr_kafka_consumer_t *kc)
{
        if (!kc)
                return;
        if (kc->rk) {
                ltrr_kafka_consumer_close(kc);
                rd_kafka_destroy(kc->rk);
        }
        free(kc);
}

ltrr_err_t ltrr_kafka_consumer_assignment(
    ltrr_kafka_consumer_t *kc, rd_kafka_topic_partition_list_t **partsp,
    char *errstr, size_t errstr_size)
{
        rd_kafka_resp_err_t rerr;

        *partsp = NULL;
        rerr = rd_kafka_assignment(kc->rk, partsp);
        if (rerr) {
                if (*partsp)
                        rd_kafka_topic_partition_list_destroy(*partsp);
                *partsp = NULL;
                return ltrr_errf(LTRR_ERR_TRANSPORT, errstr, errstr_size,
                                 "assignment: %s", rd_kafka_err2str(rerr));
        }
        return LTRR_OK;
}

ltrr_err_t ltrr_kafka_consumer_lag(ltrr_kafka_consumer_t *kc, int64_t *lag,
                                   char *errstr, size_t errstr_size)
{
        rd_kafka_topic_partition_list_t *parts = NULL;
        rd_kafka_resp_err_t rerr;
        ltrr_err_t err;
        int i;

        *lag = 0;
        err = ltrr_kafka_consumer_assignment(kc, &parts, errstr, errstr_size);
        if (err)
                return err;
        rerr = rd_kafka_position(kc->rk, parts);
        for (i = 0; !rerr && i < parts->cnt; i++) {
                rd_kafka_topic_partition_t *p = &parts->elems[i];
                int64_t lo = -1, hi = -1, pos;

                if (rd_kafka_get_watermark_offsets(kc->rk, p->topic,
                                                   p->partition, &lo, &hi) ||
                    hi < 0)
                        continue;
                pos = p->offset >= 0 ? p->offset : lo;
                if (pos >= 0 && hi > pos)
                        *lag += hi - pos;
        }
        rd_kafka_topic_partition_list_destroy(parts);
        if (rerr)
                return ltrr_errf(LTRR_ERR_TRANSPORT, errstr, errstr_size,
                                 "position: %s", rd_kafka_err2str(rerr));
        return LTRR_OK;
}

/* First per-partition error of @p parts, or NO_ERROR. */
static rd_kafka_resp_err_t
consumer_parts_err(const rd_kafka_topic_partition_list_t *parts,
                   const char **topic, int32_t *partition)
{
        int i;

        for (i = 0; i < parts->cnt; i++)
                if (parts->elems[i].err) {
                        *topic = parts->elems[i].topic;
                        *partition = parts->elems[i].partition;
                        return parts->elems[i].err;
                }
        return RD_KAFKA_RESP_ERR_NO_ERROR;
}

/* Pauses (@p pause 1) or resumes every assigned partition. */
static ltrr_err_t consumer_pause_resume(ltrr_kafka_consumer_t *kc, int pause,
                                        char *errstr, size_t errstr_size)
{
        rd_kafka_topic_partition_list_t *parts = NULL;
        const char *verb = pause ? "pause" : "resume";
        const char *topic = "";
        int32_t partition = -1;
        rd_kafka_resp_err_t rerr;
        ltrr_err_t err;

        err = ltrr_kafka_consumer_assignment(kc, &parts, errstr, errstr_size);
        if (err)
                return err;
        rerr = pause ? rd_kafka_pause_partitions(kc->rk, parts)
                     : rd_kafka_resume_partitions(kc->rk, parts);
        if (!rerr)
                rerr = consumer_parts_err(parts, &topic, &partition);
        if (rerr)
                err = ltrr_errf(LTRR_ERR_TRANSPORT, errstr, errstr_size,
                                "%s %s [%d]: %s", verb, topic, (int)partition,
                                rd_kafka_err2str(rerr));
        rd_kafka_topic_partition_list_destroy(parts);
        return err;
}

ltrr_err_t ltrr_kafka_consumer_pause(ltrr_kafka_consumer_t *kc,
                                     char *errstr, size_t errstr_size)
{
        return consumer_pause_resume(kc, 1, errstr, errstr_size);
}

ltrr_err_t ltrr_kafka_consumer_resume(ltrr_kafka_consumer_t *kc,
                                      char *errstr, size_t errstr_size)
{
        return consumer_pause_resume(kc, 0, errstr, errstr_size);
}

ltrr_err_t ltrr_kafka_consumer_committed(
    ltrr_kafka_consumer_t *kc, rd_kafka_topic_partition_list_t *parts,
    int timeout_ms, char *errstr, size_t errstr_size)
{
        const char *topic = "";
        int32_t partition = -1;
        rd_kafka_resp_err_t rerr;

        rerr = rd_kafka_committed(kc->rk, parts, timeout_ms);
        if (!rerr)
                rerr = consumer_parts_err(parts, &topic, &partition);
        if (rerr)
                return ltrr_errf(LTRR_ERR_TRANSPORT, errstr, errstr_size,
                                 "committed %s [%d]: %s", topic,
                                 (int)partition, rd_kafka_err2str(rerr));
        return LTRR_OK;
}

ltrr_err_t ltrr_kafka_consumer_seek(ltrr_kafka_consumer_t *kc,
                                    const rd_kafka_topic_partition_list_t *parts,
                                    int timeout_ms, char *errstr,
                                    size_t errstr_size)
{
        rd_kafka_topic_partition_list_t *copy;
        rd_kafka_error_t *error;
        const char *topic = "";
        int32_t partition = -1;
        rd_kafka_resp_err_t rerr;
        ltrr_err_t err = LTRR_OK;

        /* The call writes per-partition errors: work on a copy. */
        copy = rd_kafka_topic_partition_list_copy(parts);
        error = rd_kafka_seek_partitions(kc->rk, copy, timeout_ms);
        if (error) {
                err = ltrr_errf(LTRR_ERR_TRANSPORT, errstr, errstr_size,
                                "seek: %s", rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
        } else if ((rerr = consumer_parts_err(copy, &topic, &partition))) {
                err = ltrr_errf(LTRR_ERR_TRANSPORT, errstr, errstr_size,
                                "seek %s [%d]: %s", topic, (int)partition,
                                rd_kafka_err2str(rerr));
        }
        rd_kafka_topic_partition_list_destroy(copy);
        return err;
}

ltrr_err_t ltrr_kafka_msg_header(const ltrr_kafka_msg_t *msg,
                                 const char *name, const void **valp,
                                 size_t *sizep)
{
        rd_kafka_headers_t *hdrs;

        if (!msg || msg->eof ||
            rd_kafka_message_headers(msg->rkm, &hdrs) ||
            rd_kafka_header_get_last(hdrs, name, valp, sizep))
                return LTRR_ERR_UNKNOWN_KEY;
        return LTRR_OK;
}

void ltrr_kafka_msg_destroy(ltrr_kafka_msg_t *msg)
{
        if (!msg)
                return;
        rd_kafka_message_destroy(msg->rkm);
        free(msg);
}
