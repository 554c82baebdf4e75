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
/** Lifetime of the heartbeat key the write probe sets, in ms. */
#define LEARN_PROBE_TTL_MS 10000

/** The lua script, embedded at build time from consumers/lua/apply.lua. */
extern const char ltrr_learn_lua_apply[];

/** Write probe: a connection of its own that sets a heartbeat key. */
typedef struct learn_probe_s learn_probe_t;

/**
 * @brief Creates the probe for the learner's Redis address, credentials
 * and group (not connected yet; @p cf must outlive it).
 * @returns the probe or NULL with the reason in @p errstr.
 */
learn_probe_t *learn_probe_new(const ltrr_config_learn_t *cf, char *errstr,
                               size_t errstr_size);

/** @brief Closes and frees @p pb; NULL is a no-op. */
void learn_probe_destroy(learn_probe_t *pb);

/**
 * @brief Sets the heartbeat key (SET ... PX LEARN_PROBE_TTL_MS),
 * connecting and authenticating first when needed.
 * @returns LTRR_OK once Redis accepted the write; LTRR_ERR_TRANSPORT
 *          when it is unreachable or refuses writes (MISCONF, READONLY,
 *          OOM: Redis's reply is in @p errstr).
 */
ltrr_err_t learn_probe_write(learn_probe_t *pb, char *errstr,
                             size_t errstr_size);

/** @brief Deletes the heartbeat key (at exit); NULL or failure: no-op. */
void learn_probe_forget(learn_probe_t *pb);

/** Metric children, looked up once. */
typedef struct learn_metrics_s {
        ltrr_metrics_child_t *rewards;    /* rewards applied */
        ltrr_metrics_child_t *calls;      /* script calls applied */
        ltrr_metrics_child_t *duplicates; /* calls skipped as duplicates */
        ltrr_metrics_child_t *malformed;  /* records that did not decode */
        ltrr_metrics_child_t *skipped;    /* parts that could not be keyed */
        ltrr_metrics_child_t *rk_examples; /* ranker examples planned */
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
        learn_probe_t *probe;             /* owned: the write probe */
        char refused[256];                /* last refusal logged, or "" */
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
        atomic_int redis_up;              /* for /healthz: writes work */
        learn_metrics_t m;                /* metric children */
        uint64_t plan_skipped;            /* last plan skip count seen */
        uint64_t plan_rk_examples;        /* last ranker example count */
} learn_t;

/** Run flag: cleared by SIGTERM/SIGINT. */
extern volatile sig_atomic_t learn_run;

/** @brief Runs until the run flag clears; drains and commits. 0 = ok. */
int learn_loop_run(learn_t *ln);

#endif /* LTRR_LEARN_INT_H */
