/*
 * ltrr - thin producer and consumer wrappers on librdkafka.
 *
 * Configuration is a list of librdkafka properties (`-X key=value`, INI
 * [kafka]) plus a small options struct. The wrappers fix the few
 * properties the feedback loop relies on:
 *
 *   producer: acks=all, idempotence on, partitioner murmur2_random,
 *             a bounded queue; a full queue is an error (drop and count),
 *             never a block.
 *   consumer: auto offset store off. Only offsets the caller marks done
 *             are committed (periodically and on close), so a record that
 *             was not processed is read again by the next member.
 */
#ifndef LTRR_KAFKA_H
#define LTRR_KAFKA_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "err.h"
#include "kvlist.h"

#define LTRR_KAFKA_TOPIC_IMPRESSIONS "ltrr.impressions"
#define LTRR_KAFKA_TOPIC_ACTIONS "ltrr.actions"
#define LTRR_KAFKA_TOPIC_REWARDS "ltrr.rewards"
#define LTRR_KAFKA_TOPIC_DLQ "ltrr.dlq"

/** DLQ record headers. */
#define LTRR_KAFKA_HDR_ERROR "ltrr.error"
#define LTRR_KAFKA_HDR_SRC_TOPIC "ltrr.source.topic"
#define LTRR_KAFKA_HDR_SRC_PARTITION "ltrr.source.partition"
#define LTRR_KAFKA_HDR_SRC_OFFSET "ltrr.source.offset"

/** Default bound of the producer queue, in messages. */
#define LTRR_KAFKA_QUEUE_MAX_DEFAULT 100000
/** Default time destroy waits for outstanding messages, in ms. */
#define LTRR_KAFKA_FLUSH_MS_DEFAULT 5000
/** Default interval between offset commits, in ms. */
#define LTRR_KAFKA_COMMIT_MS_DEFAULT 1000
/** Most topics one consumer subscribes to. */
#define LTRR_KAFKA_TOPICS_MAX 16

typedef struct ltrr_kafka_producer_s ltrr_kafka_producer_t;
typedef struct ltrr_kafka_consumer_s ltrr_kafka_consumer_t;

/**
 * @brief Called once per produced message when its fate is known.
 *
 * @param opaque     ltrr_kafka_opts_t.opaque.
 * @param msg_opaque the value given to ltrr_kafka_producer_send().
 * @param err        LTRR_OK if delivered, else LTRR_ERR_TRANSPORT.
 * @param reason     librdkafka's reason; valid until the hook returns.
 * @locality the thread that calls ltrr_kafka_producer_poll()/send().
 */
typedef void(ltrr_kafka_dr_hook_t)(void *opaque, void *msg_opaque,
                                   ltrr_err_t err, const char *reason);

/**
 * @brief Called on each rebalance before the assignment changes.
 *
 * @param assigned 1 for an assignment, 0 for a revocation.
 * @param parts    the partitions; valid until the hook returns.
 * @locality the thread that calls ltrr_kafka_consumer_poll().
 */
typedef void(ltrr_kafka_rebalance_hook_t)(
    void *opaque, int assigned, const rd_kafka_topic_partition_list_t *parts);

/** Options of a producer or a consumer; zero means the default. */
typedef struct ltrr_kafka_opts_s {
        const char *bootstrap;  /**< bootstrap.servers, NULL = from props */
        const char *client_id;  /**< client.id, NULL = from props/"ltrr" */
        const char *group_id;   /**< consumer group (consumer only) */
        int queue_max;          /**< producer queue bound, in messages */
        int flush_ms;           /**< producer flush bound on destroy */
        int commit_ms;          /**< consumer commit interval */
        int partition_eof;      /**< consumer: report end of partition */
        ltrr_kafka_dr_hook_t *dr_hook;               /**< or NULL */
        ltrr_kafka_rebalance_hook_t *rebalance_hook; /**< or NULL */
        void *opaque;           /**< passed to the hooks */
} ltrr_kafka_opts_t;

/** Producer counters; each is monotonic over the producer's life. */
typedef struct ltrr_kafka_producer_stats_s {
        uint64_t queued;    /**< accepted by send() */
        uint64_t delivered; /**< acknowledged by the cluster */
        uint64_t failed;    /**< delivery failed (after retries) */
        uint64_t dropped;   /**< refused by send() because the queue was full */
} ltrr_kafka_producer_stats_t;

/** One record header for ltrr_kafka_producer_send(). */
typedef struct ltrr_kafka_header_s {
        const char *name;  /**< header name */
        const void *value; /**< header value, copied */
        size_t size;       /**< bytes in value */
} ltrr_kafka_header_t;

/**
 * @brief A consumed record. Read-only; release with
 * ltrr_kafka_msg_destroy() after ltrr_kafka_consumer_done().
 */
typedef struct ltrr_kafka_msg_s {
        const char *topic;      /**< topic name */
        int32_t partition;      /**< partition */
        int64_t offset;         /**< offset of this record */
        const void *key;        /**< key or NULL */
        size_t key_len;         /**< bytes in key */
        const void *value;      /**< value or NULL */
        size_t len;             /**< bytes in value */
        int64_t timestamp_ms;   /**< record timestamp, -1 if none */
        int eof;                /**< 1: end of partition marker, no record */
        rd_kafka_message_t *rkm; /**< owned; underlying message */
} ltrr_kafka_msg_t;

/**
 * @brief Creates a producer.
 *
 * @param props librdkafka properties applied first (may be NULL); the
 *              options then override bootstrap and client id, and the
 *              wrapper sets acks, idempotence, partitioner and the queue
 *              bound last.
 * @returns the producer, or NULL with the reason in @p errstr.
 */
ltrr_kafka_producer_t *ltrr_kafka_producer_new(const ltrr_kvlist_t *props,
                                               const ltrr_kafka_opts_t *opts,
                                               char *errstr,
                                               size_t errstr_size);

/**
 * @brief Queues one record without blocking.
 *
 * @param partition  a partition, or -1 for the partitioner (by key).
 * @param hdrs       @p hdr_cnt headers, copied; may be NULL.
 * @param msg_opaque handed to the delivery hook.
 * @returns LTRR_OK; LTRR_ERR_NOSPACE if the queue is full (the record is
 *          counted as dropped); LTRR_ERR_TRANSPORT otherwise.
 * @remark Key and value are copied. Also serves pending delivery reports.
 * @locality any thread.
 */
ltrr_err_t ltrr_kafka_producer_send(ltrr_kafka_producer_t *kp,
                                    const char *topic, int32_t partition,
                                    const void *key, size_t key_len,
                                    const void *value, size_t len,
                                    const ltrr_kafka_header_t *hdrs,
                                    size_t hdr_cnt, void *msg_opaque,
                                    char *errstr, size_t errstr_size);

/**
 * @brief Sends raw bytes that could not be processed to ltrr.dlq with
 *        the ltrr.error and ltrr.source.* headers.
 * @returns as ltrr_kafka_producer_send().
 */
ltrr_err_t ltrr_kafka_producer_dlq(ltrr_kafka_producer_t *kp,
                                   const char *error, const char *src_topic,
                                   int32_t src_partition, int64_t src_offset,
                                   const void *value, size_t len,
                                   char *errstr, size_t errstr_size);

/**
 * @brief Serves delivery reports for up to @p timeout_ms.
 * @returns the number of reports served.
 */
int ltrr_kafka_producer_poll(ltrr_kafka_producer_t *kp, int timeout_ms);

/** @brief Messages queued or in flight. */
int ltrr_kafka_producer_outq(ltrr_kafka_producer_t *kp);

/**
 * @brief Waits up to @p timeout_ms for every queued message.
 * @returns LTRR_OK or LTRR_ERR_TIMEOUT.
 */
ltrr_err_t ltrr_kafka_producer_flush(ltrr_kafka_producer_t *kp,
                                     int timeout_ms);

/** @brief Copies the counters into @p st. @locality any thread. */
void ltrr_kafka_producer_stats(const ltrr_kafka_producer_t *kp,
                               ltrr_kafka_producer_stats_t *st);

/**
 * @brief Flushes for at most opts.flush_ms, logs what is left (those
 *        messages count as failed), then frees. NULL is a no-op.
 */
void ltrr_kafka_producer_destroy(ltrr_kafka_producer_t *kp);

/**
 * @brief Creates a consumer in group opts->group_id subscribed to
 *        @p topics (@p topic_cnt of them, at most LTRR_KAFKA_TOPICS_MAX).
 * @returns the consumer, or NULL with the reason in @p errstr.
 */
ltrr_kafka_consumer_t *ltrr_kafka_consumer_new(const ltrr_kvlist_t *props,
                                               const ltrr_kafka_opts_t *opts,
                                               const char *const *topics,
                                               size_t topic_cnt,
                                               char *errstr,
                                               size_t errstr_size);

/**
 * @brief Waits up to @p timeout_ms for one record.
 *
 * @param msgp set to the record (caller owns it) or NULL.
 * @returns LTRR_OK with a record (or an end-of-partition marker when
 *          opts.partition_eof is set); LTRR_ERR_TIMEOUT when none came;
 *          LTRR_ERR_TRANSPORT on a consumer error (logged, *msgp NULL).
 */
ltrr_err_t ltrr_kafka_consumer_poll(ltrr_kafka_consumer_t *kc,
                                    int timeout_ms, ltrr_kafka_msg_t **msgp);

/**
 * @brief Marks @p msg processed: its offset + 1 becomes the partition's
 *        next commit. Marking is cumulative per partition, as in Kafka:
 *        mark records of one partition in order.
 * @returns LTRR_OK or LTRR_ERR_TRANSPORT.
 */
ltrr_err_t ltrr_kafka_consumer_done(ltrr_kafka_consumer_t *kc,
                                    const ltrr_kafka_msg_t *msg);

/**
 * @brief Commits the marked offsets now and waits for the result.
 * @returns LTRR_OK (also when nothing was marked) or LTRR_ERR_TRANSPORT.
 */
ltrr_err_t ltrr_kafka_consumer_commit(ltrr_kafka_consumer_t *kc);

/**
 * @brief Commits the marked offsets and leaves the group. Call once
 *        before destroy; destroy closes if it was not done.
 */
ltrr_err_t ltrr_kafka_consumer_close(ltrr_kafka_consumer_t *kc);

/**
 * @brief Copies the partitions currently assigned to the consumer.
 *
 * @param partsp set to a new list (possibly empty) the caller frees with
 *               rd_kafka_topic_partition_list_destroy(); NULL on error.
 * @returns LTRR_OK or LTRR_ERR_TRANSPORT.
 */
ltrr_err_t ltrr_kafka_consumer_assignment(
    ltrr_kafka_consumer_t *kc, rd_kafka_topic_partition_list_t **partsp,
    char *errstr, size_t errstr_size);

/**
 * @brief Records between the consumer's position and the high watermark,
 *        summed over its assigned partitions.
 *
 * Reads only what the client already knows (the watermarks last seen in
 * fetch responses): it never waits on the broker, so it may lag the
 * truth by one fetch. A partition whose position or watermark is not
 * known yet counts from its low watermark, or not at all.
 *
 * @param lag set to the sum (0 with no assignment).
 * @returns LTRR_OK or LTRR_ERR_TRANSPORT.
 */
ltrr_err_t ltrr_kafka_consumer_lag(ltrr_kafka_consumer_t *kc, int64_t *lag,
                                   char *errstr, size_t errstr_size);

/**
 * @brief Stops fetching for every partition currently assigned, while
 *        the consumer stays in its group: keep calling
 *        ltrr_kafka_consumer_poll() (it then returns no new records, and
 *        counts as a poll for max.poll.interval.ms). Records fetched
 *        before the pause may still come out of poll; a caller that will
 *        seek on resume drops them. Partitions assigned later by a
 *        rebalance are not paused: call again after an assignment.
 * @returns LTRR_OK or LTRR_ERR_TRANSPORT.
 */
ltrr_err_t ltrr_kafka_consumer_pause(ltrr_kafka_consumer_t *kc,
                                     char *errstr, size_t errstr_size);

/**
 * @brief Resumes fetching for every partition currently assigned.
 * @returns LTRR_OK or LTRR_ERR_TRANSPORT.
 */
ltrr_err_t ltrr_kafka_consumer_resume(ltrr_kafka_consumer_t *kc,
                                      char *errstr, size_t errstr_size);

/**
 * @brief Reads the group's committed offsets of @p parts into their
 *        .offset fields (RD_KAFKA_OFFSET_INVALID where none), waiting up
 *        to @p timeout_ms for the coordinator.
 * @returns LTRR_OK or LTRR_ERR_TRANSPORT.
 */
ltrr_err_t ltrr_kafka_consumer_committed(
    ltrr_kafka_consumer_t *kc, rd_kafka_topic_partition_list_t *parts,
    int timeout_ms, char *errstr, size_t errstr_size);

/**
 * @brief Moves the fetch position of each assigned partition of
 *        @p parts to its .offset (absolute or logical), waiting up to
 *        @p timeout_ms so that no record fetched from the old position
 *        is returned afterwards. Seek paused partitions, then resume
 *        them: a seek made before a pause may be lost.
 * @returns LTRR_OK; LTRR_ERR_TRANSPORT if any partition failed (the
 *          first failure is in @p errstr).
 */
ltrr_err_t ltrr_kafka_consumer_seek(ltrr_kafka_consumer_t *kc,
                                    const rd_kafka_topic_partition_list_t *parts,
                                    int timeout_ms, char *errstr,
                                    size_t errstr_size);

/** @brief Frees the consumer (closing it first if needed). NULL: no-op. */
void ltrr_kafka_consumer_destroy(ltrr_kafka_consumer_t *kc);

/**
 * @brief Finds header @p name of @p msg.
 * @param valp  set to the value (valid while @p msg lives).
 * @returns LTRR_OK or LTRR_ERR_UNKNOWN_KEY.
 */
ltrr_err_t ltrr_kafka_msg_header(const ltrr_kafka_msg_t *msg,
                                 const char *name, const void **valp,
                                 size_t *sizep);

/** @brief Frees a record from ltrr_kafka_consumer_poll(). NULL: no-op. */
void ltrr_kafka_msg_destroy(ltrr_kafka_msg_t *msg);

/**
 * @brief Builds a librdkafka configuration from @p props and the common
 *        options (bootstrap, client id). Internal to the wrappers.
 */
rd_kafka_conf_t *ltrr_kafka_conf_new(const ltrr_kvlist_t *props,
                                     const ltrr_kafka_opts_t *opts,
                                     char *errstr, size_t errstr_size);

/** @brief Sets one property; LTRR_OK or LTRR_ERR_INVALID_ARG. */
ltrr_err_t ltrr_kafka_conf_set(rd_kafka_conf_t *conf, const char *key,
                               const char *value, char *errstr,
                               size_t errstr_size);

#endif /* LTRR_KAFKA_H */
