/*
 * ltrr-learn internals shared by learn_main.c and learn_loop.c.
 */
#ifndef LTRR_LEARN_INT_H
#define LTRR_LEARN_INT_H

#include <signal.h>
#include <stdatomic.h>

#include "avro_codec.h"
#include "config.h"
#include "kafka.h"
#include "learn_plan.h"
#include "metrics.h"
#include "redis.h"

/** Longest wait for the coordinator or a seek on resume, in ms. */
#define LEARN_SEEK_TIMEOUT_MS 5000
/** Longest wait between Redis reconnection attempts, in ms. */
#define LEARN_BACKOFF_MAX_MS 2000
/** Most partitions whose offsets one batch stores. */
#define LEARN_PARTITIONS_MAX 1024
/** Most batches sent to Redis whose replies are not read yet. */
#define LEARN_INFLIGHT_MAX 2

/** The lua script, embedded at build time from consumers/lua/apply.lua. */
extern const char ltrr_learn_lua_apply[];

/** Metric children, looked up once. */
typedef struct learn_metrics_s {
        ltrr_metrics_child_t *rewards;    /* rewards applied */
        ltrr_metrics_child_t *calls;      /* script calls applied */
        ltrr_metrics_child_t *duplicates; /* calls skipped as duplicates */
        ltrr_metrics_child_t *malformed;  /* records that did not decode */
        ltrr_metrics_child_t *skipped;    /* parts that could not be keyed */
        ltrr_metrics_child_t *latency;    /* batch round trip, seconds */
        ltrr_metrics_child_t *batch;      /* rewards per batch */
        ltrr_metrics_child_t *age;        /* now - reward event time, s */
        ltrr_metrics_child_t *redis_up;   /* 1 while Redis answers */
        ltrr_metrics_child_t *rejoins;    /* partition revocations */
        ltrr_metrics_child_t *pauses;     /* Redis outages (paused) */
} learn_metrics_t;

/** A batch sent to Redis whose replies are pending. */
typedef struct learn_flight_s {
        ltrr_kafka_msg_t **recs; /* owned records, n of them */
        size_t n;                /* records */
        size_t calls;            /* replies to read */
        size_t rewards;          /* rewards planned */
        double t_sent;           /* monotonic time of the send */
} learn_flight_t;

/** Seconds spent per stage of the loop, since the first record. */
typedef struct learn_times_s {
        double poll;      /* in the Kafka poll call */
        double decode;    /* Avro decoding */
        double plan;      /* planning (add, offsets, seal) */
        double send;      /* formatting and writing the pipeline */
        double wait;      /* reading replies (Redis busy or in transit) */
        uint64_t batches; /* batches applied */
        double first;     /* monotonic time of the first record */
        double last;      /* monotonic time the last replies were read */
        int timing;       /* set by the first record: times run since */
} learn_times_t;

/** The learner. */
typedef struct learn_s {
        const ltrr_config_t *conf;        /* not owned */
        const ltrr_config_learn_t *cf;    /* the learn struct of conf */
        ltrr_kafka_consumer_t *kc;        /* owned; NULL before the join */
        ltrr_redis_t *rd;                 /* owned */
        ltrr_avro_decoder_t *dec;         /* owned */
        ltrr_learn_plan_t *pl;            /* owned */
        ltrr_kafka_msg_t **batch;         /* owned records, n of them */
        size_t n;                         /* records in batch */
        learn_flight_t fl[LEARN_INFLIGHT_MAX]; /* ring of sent batches */
        size_t fl_head;                   /* oldest sent batch */
        size_t fl_cnt;                    /* sent batches pending */
        size_t fl_max;                    /* 0 (serial)..LEARN_INFLIGHT_MAX */
        learn_times_t t;                  /* stage timings */
        int drop_batch;                   /* a revocation happened */
        int hook_failed;                  /* offsets could not be read */
        int reassigned;                   /* an assignment happened */
        atomic_int redis_up;              /* for /healthz */
        learn_metrics_t m;                /* metric children */
        uint64_t plan_skipped;            /* last plan skip count seen */
} learn_t;

/** Run flag: cleared by SIGTERM/SIGINT. */
extern volatile sig_atomic_t learn_run;

/** @brief Runs until the run flag clears; drains and commits. 0 = ok. */
int learn_loop_run(learn_t *ln);

#endif /* LTRR_LEARN_INT_H */
