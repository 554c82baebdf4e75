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

/** Longest wait between Redis reconnection attempts, in ms. */
#define LEARN_BACKOFF_MAX_MS 2000
/** Most partitions whose offsets one batch stores. */
#define LEARN_PARTITIONS_MAX 1024

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
        ltrr_metrics_child_t *rejoins;    /* consumer restarts */
} learn_metrics_t;

/** The learner. */
typedef struct learn_s {
        const ltrr_config_t *conf;        /* not owned */
        const ltrr_config_learn_t *cf;    /* the learn struct of conf */
        ltrr_kafka_consumer_t *kc;        /* owned; NULL while paused */
        ltrr_redis_t *rd;                 /* owned */
        ltrr_avro_decoder_t *dec;         /* owned */
        ltrr_learn_plan_t *pl;            /* owned */
        ltrr_kafka_msg_t **batch;         /* owned records, n of them */
        size_t n;                         /* records in batch */
        int drop_batch;                   /* a revocation happened */
        int hook_failed;                  /* offsets could not be read */
        atomic_int redis_up;              /* for /healthz */
        learn_metrics_t m;                /* metric children */
        uint64_t plan_skipped;            /* last plan skip count seen */
} learn_t;

/** Run flag: cleared by SIGTERM/SIGINT. */
extern volatile sig_atomic_t learn_run;

/** @brief Runs until the run flag clears; drains and commits. 0 = ok. */
int learn_loop_run(learn_t *ln);

#endif /* LTRR_LEARN_INT_H */
