/*
 * ltrr - the records that travel on Kafka, as plain C structs.
 *
 * One struct per Avro record of schemas/ (Impression, Action, Reward), with
 * the same fields in the same order. Strings are NUL-terminated; an
 * optional string is NULL when absent. Arrays are a pointer and a count.
 *
 * Ownership: when encoding, every pointer belongs to the caller and is only
 * read. When decoding, every pointer points into the decoder's arena and is
 * valid until the next decode on that decoder (see avro_codec.h).
 */
#ifndef LTRR_RECORDS_H
#define LTRR_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Schema version written into schema_version by this code. */
#define LTRR_RECORDS_SCHEMA_VERSION 1

/** A 128-bit id (Avro fixed Id128), big-endian bytes. */
typedef struct ltrr_id128_s {
        uint8_t b[16]; /**< id bytes */
} ltrr_id128_t;

/** Context features the policy saw (Avro record Context). */
typedef struct ltrr_context_s {
        int32_t feature_version;  /**< feature vector layout version */
        const float *features;    /**< feature_cnt values */
        size_t feature_cnt;       /**< entries in features */
        const char *query_type;   /**< entity, artist, topical, ambiguous */
        int32_t hour;             /**< 0-23 */
        int32_t weekday;          /**< 0 = Monday .. 6 = Sunday */
        bool holiday;             /**< weekend or public holiday */
        const char *user_segment; /**< user segment name */
} ltrr_context_t;

/** One candidate of one arm (Avro record Candidate). */
typedef struct ltrr_candidate_s {
        const char *entity_id; /**< catalog id */
        float score;           /**< arm score */
} ltrr_candidate_t;

/** The policy's decision for one arm (Avro record ArmDecision). */
typedef struct ltrr_arm_decision_s {
        const char *arm;                    /**< arm name */
        bool ran;                           /**< selected and ran */
        int32_t budget;                     /**< candidate budget */
        double propensity;                  /**< selection probability */
        const ltrr_candidate_t *candidates; /**< candidate_cnt entries */
        size_t candidate_cnt;               /**< entries in candidates */
} ltrr_arm_decision_t;

/** What the ranker scored for a shown result (Avro record RankerInput,
 * the optional field `ranker` of Result). */
typedef struct ltrr_ranker_input_s {
        bool present;          /**< false: the field is null */
        const float *features; /**< feature_cnt values (ranker layout) */
        size_t feature_cnt;    /**< entries in features */
        float margin;          /**< the serving model's logit w.x */
} ltrr_ranker_input_t;

/** One entry of the ranked list (Avro record Result). Its optional
 * field `ranker` travels beside the list, as an array parallel to the
 * results (ltrr_avro_encode_impression_ranked(), ltrr_avro_record_t),
 * so that code initializing this struct by position keeps compiling. */
typedef struct ltrr_result_s {
        const char *entity_id; /**< catalog id */
        int32_t position;      /**< 0-based */
        float score;           /**< fused rank score (docs/RANKER.md) */
        int32_t arm_mask;      /**< bit i: arm i contributed */
} ltrr_result_t;

/** One online ranker example (Avro record RankerExample). */
typedef struct ltrr_rank_example_s {
        int32_t position;      /**< shown position, 0-based */
        float label;           /**< 1 engaged, 0 examined and passed over */
        const float *features; /**< feature_cnt values (ranker layout) */
        size_t feature_cnt;    /**< entries in features */
        float margin;          /**< the serving model's logit w.x */
} ltrr_rank_example_t;

/** An answered search (Avro record ltrr.Impression). */
typedef struct ltrr_impression_s {
        int32_t schema_version;          /**< LTRR_RECORDS_SCHEMA_VERSION */
        int64_t event_time_ms;           /**< request time, epoch ms */
        const char *node_id;             /**< producing node */
        ltrr_id128_t impression_id;      /**< globally unique id */
        const char *user_id;             /**< user */
        const char *session_id;          /**< optional: NULL when absent */
        const char *query_raw;           /**< query as typed */
        const char *query_norm;          /**< normalized query */
        const char *lang;                /**< language tag */
        int32_t k;                       /**< results asked for */
        ltrr_context_t context;          /**< context features */
        const char *policy;              /**< policy name */
        const char *model_version;       /**< policy parameters version */
        int64_t exploration_seed;        /**< sampling seed */
        int32_t mc_samples;              /**< 0 when propensities exact */
        bool shadow;                     /**< shadow sampling: all arms ran */
        int32_t total_budget;            /**< total candidate budget */
        const ltrr_arm_decision_t *arms; /**< arm_cnt entries */
        size_t arm_cnt;                  /**< entries in arms */
        const ltrr_result_t *results;    /**< result_cnt entries */
        size_t result_cnt;               /**< entries in results */
} ltrr_impression_t;

/** Avro enum ActionType; symbol order is the schema's. */
typedef enum {
        LTRR_ACTION_UNKNOWN = 0,         /**< a type this reader lacks */
        LTRR_ACTION_CLICK = 1,           /**< click */
        LTRR_ACTION_PLAY = 2,            /**< play */
        LTRR_ACTION_LIKE = 3,            /**< like */
        LTRR_ACTION_ADD_TO_PLAYLIST = 4, /**< add to playlist */
        LTRR_ACTION_SHARE = 5,           /**< share */
        LTRR_ACTION_SKIP = 6,            /**< skip */
        LTRR_ACTION__CNT = 7             /**< number of symbols */
} ltrr_action_type_t;

/** A user action on a result (Avro record ltrr.Action). */
typedef struct ltrr_action_s {
        int32_t schema_version;      /**< LTRR_RECORDS_SCHEMA_VERSION */
        int64_t event_time_ms;       /**< action time (app clock), epoch ms */
        const char *node_id;         /**< producing node */
        ltrr_id128_t action_id;      /**< globally unique id */
        ltrr_id128_t impression_id;  /**< impression acted on */
        int64_t received_time_ms;    /**< collector receive time, epoch ms */
        const char *user_id;         /**< user */
        const char *entity_id;       /**< entity acted on */
        int32_t position;            /**< 0-based position */
        ltrr_action_type_t type;     /**< kind of action */
        bool has_duration_ms;        /**< duration_ms is set */
        int64_t duration_ms;         /**< dwell/play time, if has_ */
        const char *idempotency_key; /**< optional: NULL when absent */
        const char *app_id;          /**< optional: NULL when absent */
} ltrr_action_t;

/** Avro enum RewardOutcome. */
typedef enum {
        LTRR_OUTCOME_MATCHED = 0,   /**< an action arrived in the window */
        LTRR_OUTCOME_NO_ACTION = 1, /**< the window closed without action */
        LTRR_OUTCOME_LATE = 2,      /**< the action came after the window */
        LTRR_OUTCOME__CNT = 3       /**< number of symbols */
} ltrr_outcome_t;

/** Position of a record in Kafka (Avro record KafkaRef). */
typedef struct ltrr_kafka_ref_s {
        const char *topic; /**< topic name */
        int32_t partition; /**< partition */
        int64_t offset;    /**< offset */
} ltrr_kafka_ref_t;

/** The reward of one arm (Avro record ArmReward). */
typedef struct ltrr_arm_reward_s {
        const char *arm;   /**< arm name */
        bool ran;          /**< ran for the impression */
        int32_t budget;    /**< candidate budget */
        double propensity; /**< logged selection probability */
        double reward;     /**< arm reward */
} ltrr_arm_reward_t;

/** The outcome of one impression (Avro record ltrr.Reward). */
typedef struct ltrr_reward_s {
        int32_t schema_version;              /**< LTRR_RECORDS_SCHEMA_VERSION */
        int64_t event_time_ms;               /**< reward event time, epoch ms */
        const char *node_id;                 /**< producing node */
        ltrr_id128_t impression_id;          /**< impression rewarded */
        ltrr_kafka_ref_t impression_ref;     /**< where it was read */
        bool has_action_ref;                 /**< action_ref is set */
        ltrr_kafka_ref_t action_ref;         /**< where the action was read */
        bool has_action_id;                  /**< action_id is set */
        ltrr_id128_t action_id;              /**< action id, if has_ */
        const char *user_id;                 /**< user */
        const char *query_norm;              /**< normalized query */
        ltrr_outcome_t outcome;              /**< join outcome */
        bool apply_bandit;                   /**< apply to the bandit */
        bool apply_engagement;               /**< apply engagement updates */
        bool has_action_type;                /**< action_type is set */
        ltrr_action_type_t action_type;      /**< kind of action, if has_ */
        const char *engaged_entity;          /**< optional: NULL if absent */
        bool has_position;                   /**< position is set */
        int32_t position;                    /**< engaged position, if has_ */
        double value;                        /**< engagement strength */
        const ltrr_arm_reward_t *arm_rewards; /**< arm_reward_cnt entries */
        size_t arm_reward_cnt;               /**< entries in arm_rewards */
        ltrr_context_t context;              /**< context features */
        const char *policy;                  /**< policy name */
        const char *model_version;           /**< model version */
        int64_t impression_time_ms;          /**< impression event time */
        bool has_action_time_ms;             /**< action_time_ms is set */
        int64_t action_time_ms;              /**< action event time, if has_ */
        const ltrr_rank_example_t *ranker_examples; /**< ranker_example_cnt
                                                  entries; 0 is Avro null */
        size_t ranker_example_cnt;           /**< entries in ranker_examples */
} ltrr_reward_t;

#endif /* LTRR_RECORDS_H */
