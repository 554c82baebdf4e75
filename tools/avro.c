/*
 * ltrr-avro - fingerprints, encodes and decodes ltrr's Avro records.
 *
 *   ltrr-avro fingerprint SCHEMA.avsc     hex fingerprint, then canonical form
 *   ltrr-avro encode TYPE < json-lines    single-object records on stdout
 *   ltrr-avro decode [-s DIR] [-w WRITER.avsc]... < records   JSON lines
 *   ltrr-avro bench [N]                   encode/decode throughput
 *
 * Records on stdin/stdout are framed by a 4-byte big-endian length before
 * each single-object record. JSON uses the schema's field names; optional
 * fields are null or their value, ids are 32 hex digits, enums their
 * symbol (docs/SCHEMAS.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "avro_codec.h"
#include "cli.h"
#include "log.h"

/** Longest JSON input line. */
#define JSON_LINE_MAX (4 * 1024 * 1024)
/** Most writer schemas given with -w. */
#define WRITER_ARGS_MAX 16

static const char *const action_types[LTRR_ACTION__CNT] = {
        "unknown", "click", "play", "like", "add_to_playlist", "share", "skip"};
static const char *const outcomes[LTRR_OUTCOME__CNT] = {"matched",
                                                        "no_action", "late"};

/* ---- JSON to records: allocations of one record are kept in a pool ---- */

#define POOL_MAX 4200

typedef struct pool_s {
        void *ptrs[POOL_MAX];
        int cnt;
        char err[256];
} pool_t;

static void *pool_alloc(pool_t *pl, size_t n, size_t size)
{
        void *p;

        if (pl->cnt == POOL_MAX || !(p = calloc(n ? n : 1, size))) {
                snprintf(pl->err, sizeof(pl->err), "too many arrays");
                return NULL;
        }
        pl->ptrs[pl->cnt++] = p;
        return p;
}

static void pool_clear(pool_t *pl)
{
        while (pl->cnt > 0)
                free(pl->ptrs[--pl->cnt]);
}

static void j_fail(pool_t *pl, const char *key, const char *why)
{
        if (!pl->err[0])
                snprintf(pl->err, sizeof(pl->err), "%s: %s", key, why);
}

static const char *j_str(pool_t *pl, json_t *o, const char *key, int opt)
{
        json_t *v = json_object_get(o, key);

        if (opt && (!v || json_is_null(v)))
                return NULL;
        if (!json_is_string(v))
                j_fail(pl, key, "string expected");
        return json_string_value(v);
}

static int64_t j_int(pool_t *pl, json_t *o, const char *key)
{
        json_t *v = json_object_get(o, key);

        if (!json_is_integer(v))
                j_fail(pl, key, "integer expected");
        return json_integer_value(v);
}

static double j_num(pool_t *pl, json_t *o, const char *key)
{
        json_t *v = json_object_get(o, key);

        if (!json_is_number(v))
                j_fail(pl, key, "number expected");
        return json_number_value(v);
}

static bool j_bool(pool_t *pl, json_t *o, const char *key)
{
        json_t *v = json_object_get(o, key);

        if (!json_is_boolean(v))
                j_fail(pl, key, "boolean expected");
        return json_is_true(v);
}

/* Optional int/long: returns whether present. */
static bool j_opt_int(pool_t *pl, json_t *o, const char *key, int64_t *v)
{
        json_t *j = json_object_get(o, key);

        if (!j || json_is_null(j))
                return false;
        *v = j_int(pl, o, key);
        return true;
}

static void j_id(pool_t *pl, json_t *o, const char *key, ltrr_id128_t *id)
{
        const char *s = j_str(pl, o, key, 0);
        int i;

        if (!s || strlen(s) != 32) {
                j_fail(pl, key, "32 hex digits expected");
                return;
        }
        for (i = 0; i < 16; i++) {
                unsigned int b;

                if (sscanf(s + 2 * i, "%2x", &b) != 1) {
                        j_fail(pl, key, "32 hex digits expected");
                        return;
                }
                id->b[i] = (uint8_t)b;
        }
}

static int j_enum(pool_t *pl, json_t *o, const char *key,
                  const char *const *symbols, int cnt)
{
        const char *s = j_str(pl, o, key, 0);
        int i;

        for (i = 0; s && i < cnt; i++)
                if (!strcmp(s, symbols[i]))
                        return i;
        j_fail(pl, key, "unknown enum symbol");
        return 0;
}

/* An array member of @o: its size, or 0 with the error set. */
static size_t j_array(pool_t *pl, json_t *o, const char *key, json_t **arr)
{
        *arr = json_object_get(o, key);
        if (!json_is_array(*arr)) {
                j_fail(pl, key, "array expected");
                return 0;
        }
        return json_array_size(*arr);
}

/* An array of numbers member of @o as floats; its size in @cnt. */
static const float *j_floats(pool_t *pl, json_t *o, const char *key,
                             size_t *cnt)
{
        json_t *arr, *v;
        float *f;
        size_t i;

        *cnt = j_array(pl, o, key, &arr);
        f = pool_alloc(pl, *cnt, sizeof(float));
        json_array_foreach(arr, i, v) {
                if (!f)
                        break;
                if (!json_is_number(v))
                        j_fail(pl, key, "numbers expected");
                f[i] = (float)json_number_value(v);
        }
        return f;
}

static void j_context(pool_t *pl, json_t *o, ltrr_context_t *c)
{
        json_t *ctx = json_object_get(o, "context");

        if (!json_is_object(ctx)) {
                j_fail(pl, "context", "object expected");
                return;
        }
        c->feature_version = (int32_t)j_int(pl, ctx, "feature_version");
        c->features = j_floats(pl, ctx, "features", &c->feature_cnt);
        c->query_type = j_str(pl, ctx, "query_type", 0);
        c->hour = (int32_t)j_int(pl, ctx, "hour");
        c->weekday = (int32_t)j_int(pl, ctx, "weekday");
        c->holiday = j_bool(pl, ctx, "holiday");
        c->user_segment = j_str(pl, ctx, "user_segment", 0);
}

static void j_arm(pool_t *pl, json_t *o, ltrr_arm_decision_t *a)
{
        json_t *arr, *v;
        ltrr_candidate_t *c;
        size_t i;

        a->arm = j_str(pl, o, "arm", 0);
        a->ran = j_bool(pl, o, "ran");
        a->budget = (int32_t)j_int(pl, o, "budget");
        a->propensity = j_num(pl, o, "propensity");
        a->candidate_cnt = j_array(pl, o, "candidates", &arr);
        a->candidates = c = pool_alloc(pl, a->candidate_cnt, sizeof(*c));
        json_array_foreach(arr, i, v) {
                if (!c)
                        break;
                c[i].entity_id = j_str(pl, v, "entity_id", 0);
                c[i].score = (float)j_num(pl, v, "score");
        }
}

/* The optional member `ranker` of a result: a RankerInput or null. */
static bool j_ranker_input(pool_t *pl, json_t *r, ltrr_ranker_input_t *in)
{
        json_t *v = json_object_get(r, "ranker");

        if (!v || json_is_null(v))
                return false;
        if (!json_is_object(v)) {
                j_fail(pl, "ranker", "object or null expected");
                return false;
        }
        in->present = true;
        in->features = j_floats(pl, v, "features", &in->feature_cnt);
        in->margin = (float)j_num(pl, v, "margin");
        return true;
}

/* An Impression; @p rankers receives the results' `ranker` members, or
 * NULL when every one is null. */
static void j_impression(pool_t *pl, json_t *o, ltrr_impression_t *imp,
                         const ltrr_ranker_input_t **rankers)
{
        json_t *arr, *v;
        ltrr_arm_decision_t *arms;
        ltrr_result_t *res;
        ltrr_ranker_input_t *rk;
        size_t i, ranked = 0;

        imp->schema_version = (int32_t)j_int(pl, o, "schema_version");
        imp->event_time_ms = j_int(pl, o, "event_time_ms");
        imp->node_id = j_str(pl, o, "node_id", 0);
        j_id(pl, o, "impression_id", &imp->impression_id);
        imp->user_id = j_str(pl, o, "user_id", 0);
        imp->session_id = j_str(pl, o, "session_id", 1);
        imp->query_raw = j_str(pl, o, "query_raw", 0);
        imp->query_norm = j_str(pl, o, "query_norm", 0);
        imp->lang = j_str(pl, o, "lang", 0);
        imp->k = (int32_t)j_int(pl, o, "k");
        j_context(pl, o, &imp->context);
        imp->policy = j_str(pl, o, "policy", 0);
        imp->model_version = j_str(pl, o, "model_version", 0);
        imp->exploration_seed = j_int(pl, o, "exploration_seed");
        imp->mc_samples = (int32_t)j_int(pl, o, "mc_samples");
        imp->shadow = j_bool(pl, o, "shadow");
        imp->total_budget = (int32_t)j_int(pl, o, "total_budget");
        imp->arm_cnt = j_array(pl, o, "arms", &arr);
        imp->arms = arms = pool_alloc(pl, imp->arm_cnt, sizeof(*arms));
        json_array_foreach(arr, i, v) {
                if (arms)
                        j_arm(pl, v, &arms[i]);
        }
        imp->result_cnt = j_array(pl, o, "results", &arr);
        imp->results = res = pool_alloc(pl, imp->result_cnt, sizeof(*res));
        rk = pool_alloc(pl, imp->result_cnt, sizeof(*rk));
        json_array_foreach(arr, i, v) {
                if (!res || !rk)
                        break;
                res[i].entity_id = j_str(pl, v, "entity_id", 0);
                res[i].position = (int32_t)j_int(pl, v, "position");
                res[i].score = (float)j_num(pl, v, "score");
                res[i].arm_mask = (int32_t)j_int(pl, v, "arm_mask");
                ranked += j_ranker_input(pl, v, &rk[i]);
        }
        *rankers = ranked ? rk : NULL;
}

static void j_action(pool_t *pl, json_t *o, ltrr_action_t *act)
{
        act->schema_version = (int32_t)j_int(pl, o, "schema_version");
        act->event_time_ms = j_int(pl, o, "event_time_ms");
        act->node_id = j_str(pl, o, "node_id", 0);
        j_id(pl, o, "action_id", &act->action_id);
        j_id(pl, o, "impression_id", &act->impression_id);
        act->received_time_ms = j_int(pl, o, "received_time_ms");
        act->user_id = j_str(pl, o, "user_id", 0);
        act->entity_id = j_str(pl, o, "entity_id", 0);
        act->position = (int32_t)j_int(pl, o, "position");
        act->type = (ltrr_action_type_t)j_enum(pl, o, "type", action_types,
                                               LTRR_ACTION__CNT);
        act->has_duration_ms = j_opt_int(pl, o, "duration_ms",
                                         &act->duration_ms);
        act->idempotency_key = j_str(pl, o, "idempotency_key", 1);
        act->app_id = j_str(pl, o, "app_id", 1);
}

static bool j_ref(pool_t *pl, json_t *o, const char *key,
                  ltrr_kafka_ref_t *ref)
{
        json_t *r = json_object_get(o, key);

        if (!r || json_is_null(r))
                return false;
        ref->topic = j_str(pl, r, "topic", 0);
        ref->partition = (int32_t)j_int(pl, r, "partition");
        ref->offset = j_int(pl, r, "offset");
        return true;
}

static void j_reward_outcome(pool_t *pl, json_t *o, ltrr_reward_t *rew)
{
        json_t *at = json_object_get(o, "action_type");
        int64_t pos = 0;

        rew->outcome = (ltrr_outcome_t)j_enum(pl, o, "outcome", outcomes,
                                              LTRR_OUTCOME__CNT);
        rew->apply_bandit = j_bool(pl, o, "apply_bandit");
        rew->apply_engagement = j_bool(pl, o, "apply_engagement");
        rew->has_action_type = at && !json_is_null(at);
        if (rew->has_action_type)
                rew->action_type = (ltrr_action_type_t)j_enum(
                        pl, o, "action_type", action_types, LTRR_ACTION__CNT);
        rew->engaged_entity = j_str(pl, o, "engaged_entity", 1);
        rew->has_position = j_opt_int(pl, o, "position", &pos);
        rew->position = (int32_t)pos;
        rew->value = j_num(pl, o, "value");
}

/* The optional member `ranker_examples` of a Reward (null: none). */
static void j_rank_examples(pool_t *pl, json_t *o, ltrr_reward_t *rew)
{
        json_t *arr = json_object_get(o, "ranker_examples"), *v;
        ltrr_rank_example_t *ex;
        size_t i;

        if (!arr || json_is_null(arr))
                return;
        rew->ranker_example_cnt = j_array(pl, o, "ranker_examples", &arr);
        rew->ranker_examples = ex = pool_alloc(pl, rew->ranker_example_cnt,
                                               sizeof(*ex));
        json_array_foreach(arr, i, v) {
                if (!ex)
                        break;
                ex[i].position = (int32_t)j_int(pl, v, "position");
                ex[i].label = (float)j_num(pl, v, "label");
                ex[i].features = j_floats(pl, v, "features",
                                          &ex[i].feature_cnt);
                ex[i].margin = (float)j_num(pl, v, "margin");
        }
}

static void j_reward(pool_t *pl, json_t *o, ltrr_reward_t *rew)
{
        json_t *arr, *v, *aid = json_object_get(o, "action_id");
        ltrr_arm_reward_t *ar;
        size_t i;

        rew->schema_version = (int32_t)j_int(pl, o, "schema_version");
        rew->event_time_ms = j_int(pl, o, "event_time_ms");
        rew->node_id = j_str(pl, o, "node_id", 0);
        j_id(pl, o, "impression_id", &rew->impression_id);
        if (!j_ref(pl, o, "impression_ref", &rew->impression_ref))
                j_fail(pl, "impression_ref", "object expected");
        rew->has_action_ref = j_ref(pl, o, "action_ref", &rew->action_ref);
        rew->has_action_id = aid && !json_is_null(aid);
        if (rew->has_action_id)
                j_id(pl, o, "action_id", &rew->action_id);
        rew->user_id = j_str(pl, o, "user_id", 0);
        rew->query_norm = j_str(pl, o, "query_norm", 0);
        j_reward_outcome(pl, o, rew);
        rew->arm_reward_cnt = j_array(pl, o, "arm_rewards", &arr);
        rew->arm_rewards = ar = pool_alloc(pl, rew->arm_reward_cnt, sizeof(*ar));
        json_array_foreach(arr, i, v) {
                if (!ar)
                        break;
                ar[i].arm = j_str(pl, v, "arm", 0);
                ar[i].ran = j_bool(pl, v, "ran");
                ar[i].budget = (int32_t)j_int(pl, v, "budget");
                ar[i].propensity = j_num(pl, v, "propensity");
                ar[i].reward = j_num(pl, v, "reward");
        }
        j_context(pl, o, &rew->context);
        rew->policy = j_str(pl, o, "policy", 0);
        rew->model_version = j_str(pl, o, "model_version", 0);
        rew->impression_time_ms = j_int(pl, o, "impression_time_ms");
        rew->has_action_time_ms = j_opt_int(pl, o, "action_time_ms",
                                            &rew->action_time_ms);
        j_rank_examples(pl, o, rew);
}

/* ---- records to JSON ---------------------------------------------------- */

static json_t *o_id(const ltrr_id128_t *id)
{
        char hex[33];
        int i;

        for (i = 0; i < 16; i++)
                snprintf(hex + 2 * i, 3, "%02x", id->b[i]);
        return json_string(hex);
}

static json_t *o_opt_str(const char *s)
{
        return s ? json_string(s) : json_null();
}

static json_t *o_floats(const float *v, size_t n)
{
        json_t *f = json_array();
        size_t i;

        for (i = 0; i < n; i++)
                json_array_append_new(f, json_real(v[i]));
        return f;
}

static json_t *o_context(const ltrr_context_t *c)
{
        json_t *f = o_floats(c->features, c->feature_cnt);

        return json_pack("{s:i, s:o, s:s, s:i, s:i, s:b, s:s}",
                         "feature_version", (int)c->feature_version,
                         "features", f, "query_type", c->query_type, "hour",
                         (int)c->hour, "weekday", (int)c->weekday, "holiday",
                         (int)c->holiday, "user_segment", c->user_segment);
}

static json_t *o_arms(const ltrr_impression_t *imp)
{
        json_t *arms = json_array();
        size_t i, j;

        for (i = 0; i < imp->arm_cnt; i++) {
                const ltrr_arm_decision_t *a = &imp->arms[i];
                json_t *cands = json_array();

                for (j = 0; j < a->candidate_cnt; j++)
                        json_array_append_new(
                                cands, json_pack("{s:s, s:f}", "entity_id",
                                                 a->candidates[j].entity_id,
                                                 "score",
                                                 (double)a->candidates[j].score));
                json_array_append_new(
                        arms, json_pack("{s:s, s:b, s:i, s:f, s:o}", "arm",
                                        a->arm, "ran", (int)a->ran, "budget",
                                        (int)a->budget, "propensity",
                                        a->propensity, "candidates", cands));
        }
        return arms;
}

/* A result's `ranker` member: @p in NULL or not present is null. */
static json_t *o_ranker_input(const ltrr_ranker_input_t *in)
{
        if (!in || !in->present)
                return json_null();
        return json_pack("{s:o, s:f}", "features",
                         o_floats(in->features, in->feature_cnt), "margin",
                         (double)in->margin);
}

/* An Impression; @p rankers as in ltrr_avro_record_t (NULL: all null). */
static json_t *o_impression(const ltrr_impression_t *imp,
                            const ltrr_ranker_input_t *rankers)
{
        json_t *o = json_object(), *res = json_array();
        size_t i;

        json_object_set_new(o, "schema_version", json_integer(imp->schema_version));
        json_object_set_new(o, "event_time_ms", json_integer(imp->event_time_ms));
        json_object_set_new(o, "node_id", json_string(imp->node_id));
        json_object_set_new(o, "impression_id", o_id(&imp->impression_id));
        json_object_set_new(o, "user_id", json_string(imp->user_id));
        json_object_set_new(o, "session_id", o_opt_str(imp->session_id));
        json_object_set_new(o, "query_raw", json_string(imp->query_raw));
        json_object_set_new(o, "query_norm", json_string(imp->query_norm));
        json_object_set_new(o, "lang", json_string(imp->lang));
        json_object_set_new(o, "k", json_integer(imp->k));
        json_object_set_new(o, "context", o_context(&imp->context));
        json_object_set_new(o, "policy", json_string(imp->policy));
        json_object_set_new(o, "model_version", json_string(imp->model_version));
        json_object_set_new(o, "exploration_seed", json_integer(imp->exploration_seed));
        json_object_set_new(o, "mc_samples", json_integer(imp->mc_samples));
        json_object_set_new(o, "shadow", json_boolean(imp->shadow));
        json_object_set_new(o, "total_budget", json_integer(imp->total_budget));
        json_object_set_new(o, "arms", o_arms(imp));
        for (i = 0; i < imp->result_cnt; i++) {
                const ltrr_result_t *r = &imp->results[i];

                json_array_append_new(
                        res, json_pack("{s:s, s:i, s:f, s:i, s:o}", "entity_id",
                                       r->entity_id, "position", (int)r->position,
                                       "score", (double)r->score, "arm_mask",
                                       (int)r->arm_mask, "ranker",
                                       o_ranker_input(rankers ? &rankers[i]
                                                              : NULL)));
        }
        json_object_set_new(o, "results", res);
        return o;
}

static json_t *o_action(const ltrr_action_t *act)
{
        json_t *o = json_object();

        json_object_set_new(o, "schema_version", json_integer(act->schema_version));
        json_object_set_new(o, "event_time_ms", json_integer(act->event_time_ms));
        json_object_set_new(o, "node_id", json_string(act->node_id));
        json_object_set_new(o, "action_id", o_id(&act->action_id));
        json_object_set_new(o, "impression_id", o_id(&act->impression_id));
        json_object_set_new(o, "received_time_ms", json_integer(act->received_time_ms));
        json_object_set_new(o, "user_id", json_string(act->user_id));
        json_object_set_new(o, "entity_id", json_string(act->entity_id));
        json_object_set_new(o, "position", json_integer(act->position));
        json_object_set_new(o, "type", json_string(action_types[act->type]));
        json_object_set_new(o, "duration_ms", act->has_duration_ms ?
                            json_integer(act->duration_ms) : json_null());
        json_object_set_new(o, "idempotency_key", o_opt_str(act->idempotency_key));
        json_object_set_new(o, "app_id", o_opt_str(act->app_id));
        return o;
}

static json_t *o_ref(const ltrr_kafka_ref_t *ref)
{
        return json_pack("{s:s, s:i, s:I}", "topic", ref->topic, "partition",
                         (int)ref->partition, "offset", (json_int_t)ref->offset);
}

/* The fields of Reward from outcome to arm_rewards. */
static void o_reward_outcome(json_t *o, const ltrr_reward_t *rew)
{
        json_t *ars = json_array();
        size_t i;

        json_object_set_new(o, "outcome", json_string(outcomes[rew->outcome]));
        json_object_set_new(o, "apply_bandit", json_boolean(rew->apply_bandit));
        json_object_set_new(o, "apply_engagement", json_boolean(rew->apply_engagement));
        json_object_set_new(o, "action_type", rew->has_action_type ?
                            json_string(action_types[rew->action_type]) : json_null());
        json_object_set_new(o, "engaged_entity", o_opt_str(rew->engaged_entity));
        json_object_set_new(o, "position", rew->has_position ?
                            json_integer(rew->position) : json_null());
        json_object_set_new(o, "value", json_real(rew->value));
        for (i = 0; i < rew->arm_reward_cnt; i++) {
                const ltrr_arm_reward_t *a = &rew->arm_rewards[i];

                json_array_append_new(
                        ars, json_pack("{s:s, s:b, s:i, s:f, s:f}", "arm", a->arm,
                                       "ran", (int)a->ran, "budget", (int)a->budget,
                                       "propensity", a->propensity, "reward",
                                       a->reward));
        }
        json_object_set_new(o, "arm_rewards", ars);
}

/* A Reward's `ranker_examples`: null when it has none. */
static json_t *o_rank_examples(const ltrr_reward_t *rew)
{
        json_t *arr;
        size_t i;

        if (!rew->ranker_example_cnt)
                return json_null();
        arr = json_array();
        for (i = 0; i < rew->ranker_example_cnt; i++) {
                const ltrr_rank_example_t *e = &rew->ranker_examples[i];

                json_array_append_new(
                        arr, json_pack("{s:i, s:f, s:o, s:f}", "position",
                                       (int)e->position, "label",
                                       (double)e->label, "features",
                                       o_floats(e->features, e->feature_cnt),
                                       "margin", (double)e->margin));
        }
        return arr;
}

static json_t *o_reward(const ltrr_reward_t *rew)
{
        json_t *o = json_object();

        json_object_set_new(o, "schema_version", json_integer(rew->schema_version));
        json_object_set_new(o, "event_time_ms", json_integer(rew->event_time_ms));
        json_object_set_new(o, "node_id", json_string(rew->node_id));
        json_object_set_new(o, "impression_id", o_id(&rew->impression_id));
        json_object_set_new(o, "impression_ref", o_ref(&rew->impression_ref));
        json_object_set_new(o, "action_ref", rew->has_action_ref ?
                            o_ref(&rew->action_ref) : json_null());
        json_object_set_new(o, "action_id", rew->has_action_id ?
                            o_id(&rew->action_id) : json_null());
        json_object_set_new(o, "user_id", json_string(rew->user_id));
        json_object_set_new(o, "query_norm", json_string(rew->query_norm));
        o_reward_outcome(o, rew);
        json_object_set_new(o, "context", o_context(&rew->context));
        json_object_set_new(o, "policy", json_string(rew->policy));
        json_object_set_new(o, "model_version", json_string(rew->model_version));
        json_object_set_new(o, "impression_time_ms", json_integer(rew->impression_time_ms));
        json_object_set_new(o, "action_time_ms", rew->has_action_time_ms ?
                            json_integer(rew->action_time_ms) : json_null());
        json_object_set_new(o, "ranker_examples", o_rank_examples(rew));
        return o;
}

/* ---- commands ----------------------------------------------------------- */

static int usage_to(FILE *fp)
{
        fprintf(fp,
                "usage: ltrr-avro fingerprint SCHEMA.avsc\n"
                "       ltrr-avro encode Impression|Action|Reward < json-lines\n"
                "       ltrr-avro decode [-s SCHEMA_DIR] [-w WRITER.avsc]... < records\n"
                "       ltrr-avro bench [ITERATIONS]\n"
                "Records are framed by a 4-byte big-endian length.\n"
                "  -s SCHEMA_DIR   current schemas (default: the schemas/ "
                "directory of the source tree)\n"
                "  -w WRITER.avsc  also accept records of this writer "
                "schema (repeatable)\n"
                "  ITERATIONS      bench iterations (default 200000)\n");
        return 2;
}

static int usage(void)
{
        return usage_to(stderr);
}

static int cmd_fingerprint(const char *path)
{
        static char text[LTRR_AVRO_SCHEMA_MAX + 1], form[LTRR_AVRO_SCHEMA_MAX];
        char errstr[512];
        size_t len, form_len = 0;
        FILE *fp = fopen(path, "rb");

        if (!fp) {
                log_error("avro", "cannot open schema", "path", path,
                          "err", strerror(errno));
                return 1;
        }
        len = fread(text, 1, sizeof(text) - 1, fp);
        fclose(fp);
        if (ltrr_avro_canonical_form(text, len, form, sizeof(form), &form_len,
                                     errstr, sizeof(errstr))) {
                log_error("avro", "bad schema", "path", path, "err", errstr);
                return 1;
        }
        printf("%016" PRIx64 "\n%s\n", ltrr_avro_crc64(form, form_len), form);
        return 0;
}

static int write_framed(const uint8_t *buf, size_t len)
{
        uint8_t hdr[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16),
                          (uint8_t)(len >> 8), (uint8_t)len};

        return fwrite(hdr, 1, 4, stdout) != 4 ||
               fwrite(buf, 1, len, stdout) != len;
}

/* Encodes one JSON object of @type into @buf. */
static ltrr_err_t encode_json(int type, json_t *o, pool_t *pl, uint8_t *buf,
                              size_t size, size_t *len, char *errstr,
                              size_t errstr_size)
{
        ltrr_impression_t imp = {0};
        ltrr_action_t act = {0};
        ltrr_reward_t rew = {0};
        const ltrr_ranker_input_t *rankers = NULL;

        if (type == LTRR_AVRO_IMPRESSION)
                j_impression(pl, o, &imp, &rankers);
        else if (type == LTRR_AVRO_ACTION)
                j_action(pl, o, &act);
        else
                j_reward(pl, o, &rew);
        if (pl->err[0])
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size, "%s",
                                 pl->err);
        if (type == LTRR_AVRO_IMPRESSION)
                return ltrr_avro_encode_impression_ranked(
                        &imp, rankers, buf, size, len, errstr, errstr_size);
        if (type == LTRR_AVRO_ACTION)
                return ltrr_avro_encode_action(&act, buf, size, len, errstr,
                                               errstr_size);
        return ltrr_avro_encode_reward(&rew, buf, size, len, errstr,
                                       errstr_size);
}

static int cmd_encode(const char *type_name)
{
        static pool_t pool;
        int type = ltrr_avro_type_parse(type_name), rc = 0, lineno = 0;
        size_t size = LTRR_AVRO_RECORD_MAX, len = 0;
        uint8_t *buf = malloc(size);
        char *line = malloc(JSON_LINE_MAX), errstr[512], num[16];

        if (type < 0 || !buf || !line) {
                rc = type < 0 ? usage() : 1;
                goto done;
        }
        while (fgets(line, JSON_LINE_MAX, stdin)) {
                json_error_t jerr;
                json_t *o = json_loads(line, 0, &jerr);
                ltrr_err_t err;

                lineno++;
                snprintf(num, sizeof(num), "%d", lineno);
                pool.err[0] = '\0';
                err = o ? encode_json(type, o, &pool, buf, size, &len, errstr,
                                      sizeof(errstr)) :
                          ltrr_errf(LTRR_ERR_PARSE, errstr, sizeof(errstr),
                                    "%s", jerr.text);
                pool_clear(&pool);
                json_decref(o);
                if (err || write_framed(buf, len)) {
                        log_error("avro", "cannot encode line", "line", num,
                                  "err", err ? errstr : "write failed");
                        rc = 1;
                        break;
                }
        }
done:
        free(line);
        free(buf);
        return rc;
}

/* Reads one framed record; 0 at a clean end, -1 on a torn frame. */
static int read_framed(uint8_t *buf, size_t size, size_t *len)
{
        uint8_t hdr[4];
        size_t n = fread(hdr, 1, 4, stdin);

        if (n == 0)
                return 0;
        if (n != 4)
                return -1;
        *len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 |
               (size_t)hdr[2] << 8 | hdr[3];
        if (*len > size || fread(buf, 1, *len, stdin) != *len)
                return -1;
        return 1;
}

static json_t *record_json(const ltrr_avro_record_t *rec)
{
        if (rec->type == LTRR_AVRO_IMPRESSION)
                return o_impression(&rec->u.imp, rec->rankers);
        if (rec->type == LTRR_AVRO_ACTION)
                return o_action(&rec->u.act);
        return o_reward(&rec->u.rew);
}

static int decode_all(ltrr_avro_decoder_t *dec)
{
        size_t size = LTRR_AVRO_RECORD_MAX, len = 0;
        uint8_t *buf = malloc(size);
        ltrr_avro_record_t rec;
        char errstr[512];
        int got, rc = 0;

        while (buf && (got = read_framed(buf, size, &len)) != 0) {
                json_t *o;

                if (got < 0) {
                        log_error("avro", "torn record frame on stdin");
                        rc = 1;
                        break;
                }
                if (ltrr_avro_decode(dec, buf, len, &rec, errstr,
                                     sizeof(errstr))) {
                        log_error("avro", "cannot decode record", "err", errstr);
                        rc = 1;
                        break;
                }
                o = record_json(&rec);
                json_object_set_new(o, "_type",
                                    json_string(ltrr_avro_type_name(rec.type)));
                json_dumpf(o, stdout, JSON_COMPACT | JSON_REAL_PRECISION(17));
                putchar('\n');
                json_decref(o);
        }
        free(buf);
        return buf ? rc : 1;
}

static int cmd_decode(int argc, char **argv)
{
        const char *dir = NULL, *writers[WRITER_ARGS_MAX];
        int nwriters = 0, opt, i, rc = 1;
        ltrr_avro_decoder_t *dec;
        char errstr[512];

        while ((opt = getopt(argc, argv, "s:w:")) != -1) {
                if (opt == 's')
                        dir = optarg;
                else if (opt == 'w' && nwriters < WRITER_ARGS_MAX)
                        writers[nwriters++] = optarg;
                else
                        return usage();
        }
        if (!(dec = ltrr_avro_decoder_new(dir, errstr, sizeof(errstr)))) {
                log_error("avro", "cannot create decoder", "err", errstr);
                return 1;
        }
        for (i = 0; i < nwriters; i++)
                if (ltrr_avro_decoder_add_writer_file(dec, writers[i], errstr,
                                                      sizeof(errstr))) {
                        log_error("avro", "bad writer schema", "path",
                                  writers[i], "err", errstr);
                        goto done;
                }
        rc = decode_all(dec);
done:
        ltrr_avro_decoder_destroy(dec);
        return rc;
}

/* ---- bench -------------------------------------------------------------- */

#define BENCH_ARMS 8
#define BENCH_CANDS 100
#define BENCH_RESULTS 10

/* A realistic Impression: 8 arms sharing 100 candidates, 10 results. */
static void bench_impression(ltrr_impression_t *imp, ltrr_arm_decision_t *arms,
                             ltrr_candidate_t *cands, ltrr_result_t *res,
                             char (*ids)[24], float *feat)
{
        static const char *const names[BENCH_ARMS] = {
                "lexical", "popular", "structured", "fuzzy",
                "semantic", "memory", "personal", "fresh"};
        size_t i, per = BENCH_CANDS / BENCH_ARMS, off = 0;

        for (i = 0; i < BENCH_CANDS; i++) {
                snprintf(ids[i], 24, "track:%08zu", i * 7919);
                cands[i].entity_id = ids[i];
                cands[i].score = 10.0f / (float)(i + 1);
        }
        for (i = 0; i < BENCH_ARMS; i++) {
                size_t n = i < BENCH_CANDS % BENCH_ARMS ? per + 1 : per;

                arms[i] = (ltrr_arm_decision_t){names[i], true, 20, 0.35,
                                                cands + off, n};
                off += n;
        }
        for (i = 0; i < BENCH_RESULTS; i++)
                res[i] = (ltrr_result_t){ids[i * 9], (int32_t)i,
                                         1.0f / (float)(i + 1), 5};
        for (i = 0; i < 16; i++)
                feat[i] = (float)i / 16.0f;
        *imp = (ltrr_impression_t){
                1, 1764000000123LL, "serve-1", {{0}}, "user-1234567",
                "session-89abcdef", "Tayler Love", "tayler love", "en", 10,
                {2, feat, 16, "artist", 21, 4, false, "heavy"}, "linucb",
                "2026-11-25T10:00:00Z-17", 0x1234567890abcdefLL, 0, false,
                160, arms, BENCH_ARMS, res, BENCH_RESULTS};
}

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmd_bench(long iters)
{
        static ltrr_arm_decision_t arms[BENCH_ARMS];
        static ltrr_candidate_t cands[BENCH_CANDS];
        static ltrr_result_t res[BENCH_RESULTS];
        static char ids[BENCH_CANDS][24];
        static float feat[16];
        static uint8_t buf[64 * 1024];
        ltrr_impression_t imp;
        ltrr_avro_decoder_t *dec;
        ltrr_avro_record_t rec;
        char errstr[512];
        size_t len = 0;
        double t0, enc, decs;
        long i;

        bench_impression(&imp, arms, cands, res, ids, feat);
        if (!(dec = ltrr_avro_decoder_new(NULL, errstr, sizeof(errstr)))) {
                log_error("avro", "cannot create decoder", "err", errstr);
                return 1;
        }
        t0 = now_s();
        for (i = 0; i < iters; i++)
                ltrr_avro_encode_impression(&imp, buf, sizeof(buf), &len, NULL, 0);
        enc = now_s() - t0;
        t0 = now_s();
        for (i = 0; i < iters; i++)
                if (ltrr_avro_decode(dec, buf, len, &rec, errstr, sizeof(errstr)))
                        break;
        decs = now_s() - t0;
        ltrr_avro_decoder_destroy(dec);
        if (i < iters) {
                log_error("avro", "bench decode failed", "err", errstr);
                return 1;
        }
        printf("impression: %zu bytes, %d arms, %d candidates, %d results, "
               "%ld iterations\n", len, BENCH_ARMS, BENCH_CANDS, BENCH_RESULTS,
               iters);
        printf("encode: %.0f records/s, %.1f MB/s, %.2f us/record\n",
               iters / enc, iters * (double)len / enc / 1e6, enc / iters * 1e6);
        printf("decode: %.0f records/s, %.1f MB/s, %.2f us/record\n",
               iters / decs, iters * (double)len / decs / 1e6,
               decs / iters * 1e6);
        return 0;
}

int main(int argc, char **argv)
{
        if (ltrr_cli_wants_help(argc, argv)) {
                usage_to(stdout);
                return 0;
        }
        if (argc >= 3 && !strcmp(argv[1], "fingerprint"))
                return cmd_fingerprint(argv[2]);
        if (argc >= 3 && !strcmp(argv[1], "encode"))
                return cmd_encode(argv[2]);
        if (argc >= 2 && !strcmp(argv[1], "decode"))
                return cmd_decode(argc - 1, argv + 1);
        if (argc >= 2 && !strcmp(argv[1], "bench"))
                return cmd_bench(argc >= 3 ? atol(argv[2]) : 200000);
        return usage();
}
