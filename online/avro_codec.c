/*
 * ltrr - hand-written Avro encoder for the current record schemas.
 *
 * Each encode function writes the fields in schema order through a bounded
 * writer that keeps counting past the end of the caller's buffer, so one
 * pass both encodes and, when the buffer is short, tells the size needed.
 * The first error is latched in the writer; later writes are ignored.
 */
#include "avro_codec.h"

#include <string.h>

/* Fingerprints of the Parsing Canonical Forms of schemas/ as the codec
 * below encodes them. tests/unit/test_avro_codec.c and
 * ltrr_avro_decoder_new() check them against the files. */
static const uint64_t type_fps[LTRR_AVRO__TYPE_CNT] = {
        [LTRR_AVRO_IMPRESSION] = 0x74edc0f7f9a9fb88ULL,
        [LTRR_AVRO_ACTION] = 0xb5972d14467e17d9ULL,
        [LTRR_AVRO_REWARD] = 0xa26b7dbf117e0b07ULL,
};

static const char *const type_names[LTRR_AVRO__TYPE_CNT] = {
        [LTRR_AVRO_IMPRESSION] = "Impression",
        [LTRR_AVRO_ACTION] = "Action",
        [LTRR_AVRO_REWARD] = "Reward",
};

const char *ltrr_avro_type_name(ltrr_avro_type_t type)
{
        if ((int)type < 0 || type >= LTRR_AVRO__TYPE_CNT)
                return NULL;
        return type_names[type];
}

int ltrr_avro_type_parse(const char *name)
{
        int i;

        if (name && !strncmp(name, "ltrr.", 5))
                name += 5;
        for (i = 0; name && i < LTRR_AVRO__TYPE_CNT; i++)
                if (!strcmp(name, type_names[i]))
                        return i;
        return -1;
}

uint64_t ltrr_avro_type_fingerprint(ltrr_avro_type_t type)
{
        if ((int)type < 0 || type >= LTRR_AVRO__TYPE_CNT)
                return 0;
        return type_fps[type];
}

typedef struct wbuf_s {
        uint8_t *buf;       /* caller's buffer, NULL when only sizing */
        size_t size;        /* its size */
        size_t pos;         /* bytes written or that would be */
        ltrr_err_t err;     /* first error, latched */
        char *errstr;       /* caller's error buffer */
        size_t errstr_size; /* its size */
} wbuf_t;

static void w_fail(wbuf_t *w, ltrr_err_t err, const char *what,
                   const char *why)
{
        if (w->err)
                return;
        w->err = ltrr_errf(err, w->errstr, w->errstr_size, "%s: %s", what,
                           why);
}

static void w_raw(wbuf_t *w, const void *p, size_t n)
{
        if (w->err)
                return;
        if (w->pos + n <= w->size)
                memcpy(w->buf + w->pos, p, n);
        w->pos += n;
}

/* Zig-zag varint, as Avro int and long. */
static void w_long(wbuf_t *w, int64_t v)
{
        uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
        uint8_t tmp[10];
        size_t n = 0;

        while (u > 0x7f) {
                tmp[n++] = (uint8_t)((u & 0x7f) | 0x80);
                u >>= 7;
        }
        tmp[n++] = (uint8_t)u;
        w_raw(w, tmp, n);
}

static void w_bool(wbuf_t *w, bool v)
{
        uint8_t b = v ? 1 : 0;

        w_raw(w, &b, 1);
}

static void w_float(wbuf_t *w, float v)
{
        uint32_t u;
        uint8_t b[4];
        int i;

        memcpy(&u, &v, sizeof(u));
        for (i = 0; i < 4; i++)
                b[i] = (uint8_t)(u >> (8 * i));
        w_raw(w, b, 4);
}

static void w_double(wbuf_t *w, double v)
{
        uint64_t u;
        uint8_t b[8];
        int i;

        memcpy(&u, &v, sizeof(u));
        for (i = 0; i < 8; i++)
                b[i] = (uint8_t)(u >> (8 * i));
        w_raw(w, b, 8);
}

static void w_str(wbuf_t *w, const char *s, const char *what)
{
        size_t len;

        if (!s) {
                w_fail(w, LTRR_ERR_INVALID_ARG, what, "required string is NULL");
                return;
        }
        len = strnlen(s, LTRR_AVRO_STRING_MAX + 1);
        if (len > LTRR_AVRO_STRING_MAX) {
                w_fail(w, LTRR_ERR_RANGE, what, "string over LTRR_AVRO_STRING_MAX");
                return;
        }
        w_long(w, (int64_t)len);
        w_raw(w, s, len);
}

/* ["null","string"]: NULL is the null branch. */
static void w_opt_str(wbuf_t *w, const char *s, const char *what)
{
        w_long(w, s ? 1 : 0);
        if (s)
                w_str(w, s, what);
}

/* Starts an array of @cnt items: one block, closed by w_end(). */
static void w_count(wbuf_t *w, size_t cnt, const void *items,
                    const char *what)
{
        if (cnt > LTRR_AVRO_ARRAY_MAX)
                w_fail(w, LTRR_ERR_RANGE, what, "more than LTRR_AVRO_ARRAY_MAX items");
        else if (cnt && !items)
                w_fail(w, LTRR_ERR_INVALID_ARG, what, "items pointer is NULL");
        else if (cnt)
                w_long(w, (int64_t)cnt);
}

static void w_end(wbuf_t *w)
{
        w_long(w, 0);
}

static void w_enum(wbuf_t *w, int v, int cnt, const char *what)
{
        if (v < 0 || v >= cnt)
                w_fail(w, LTRR_ERR_INVALID_ARG, what, "enum value out of range");
        else
                w_long(w, v);
}

/* An array<float> of @p cnt values. */
static void w_floats(wbuf_t *w, const float *v, size_t cnt, const char *what)
{
        size_t i;

        w_count(w, cnt, v, what);
        for (i = 0; !w->err && i < cnt; i++)
                w_float(w, v[i]);
        w_end(w);
}

static void w_context(wbuf_t *w, const ltrr_context_t *c)
{
        w_long(w, c->feature_version);
        w_floats(w, c->features, c->feature_cnt, "context.features");
        w_str(w, c->query_type, "context.query_type");
        w_long(w, c->hour);
        w_long(w, c->weekday);
        w_bool(w, c->holiday);
        w_str(w, c->user_segment, "context.user_segment");
}

static void w_arm(wbuf_t *w, const ltrr_arm_decision_t *a)
{
        size_t i;

        w_str(w, a->arm, "arms.arm");
        w_bool(w, a->ran);
        w_long(w, a->budget);
        w_double(w, a->propensity);
        w_count(w, a->candidate_cnt, a->candidates, "arms.candidates");
        for (i = 0; !w->err && i < a->candidate_cnt; i++) {
                w_str(w, a->candidates[i].entity_id, "candidates.entity_id");
                w_float(w, a->candidates[i].score);
        }
        w_end(w);
}

/* Writes the header, then checks the latched error and the size. */
static void w_header(wbuf_t *w, ltrr_avro_type_t type)
{
        uint64_t fp = type_fps[type];
        uint8_t h[LTRR_AVRO_HEADER_LEN] = {0xc3, 0x01};
        int i;

        for (i = 0; i < 8; i++)
                h[2 + i] = (uint8_t)(fp >> (8 * i));
        w_raw(w, h, sizeof(h));
}

static ltrr_err_t w_finish(wbuf_t *w, size_t *len)
{
        if (w->err)
                return w->err;
        if (len)
                *len = w->pos;
        if (w->pos > w->size)
                return ltrr_errf(LTRR_ERR_NOSPACE, w->errstr, w->errstr_size,
                                 "record needs %zu bytes, buffer has %zu",
                                 w->pos, w->size);
        return LTRR_OK;
}

#define W_INIT(buf, size, errstr, errstr_size)                                \
        {(buf), (buf) ? (size) : 0, 0, LTRR_OK, (errstr), (errstr_size)}

ltrr_err_t ltrr_avro_encode_impression(const ltrr_impression_t *imp,
                                       uint8_t *buf, size_t size,
                                       size_t *len, char *errstr,
                                       size_t errstr_size)
{
        return ltrr_avro_encode_impression_ranked(imp, NULL, buf, size, len,
                                                  errstr, errstr_size);
}

/* Result.ranker: null, or the features and margin. */
static void w_ranker_input(wbuf_t *w, const ltrr_ranker_input_t *rk)
{
        w_long(w, rk && rk->present ? 1 : 0);
        if (!rk || !rk->present)
                return;
        w_floats(w, rk->features, rk->feature_cnt, "results.ranker.features");
        w_float(w, rk->margin);
}

ltrr_err_t ltrr_avro_encode_impression_ranked(
    const ltrr_impression_t *imp, const ltrr_ranker_input_t *rankers,
    uint8_t *buf, size_t size, size_t *len, char *errstr, size_t errstr_size)
{
        wbuf_t w = W_INIT(buf, size, errstr, errstr_size);
        size_t i;

        if (!imp)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "impression is NULL");
        w_header(&w, LTRR_AVRO_IMPRESSION);
        w_long(&w, imp->schema_version);
        w_long(&w, imp->event_time_ms);
        w_str(&w, imp->node_id, "node_id");
        w_raw(&w, imp->impression_id.b, 16);
        w_str(&w, imp->user_id, "user_id");
        w_opt_str(&w, imp->session_id, "session_id");
        w_str(&w, imp->query_raw, "query_raw");
        w_str(&w, imp->query_norm, "query_norm");
        w_str(&w, imp->lang, "lang");
        w_long(&w, imp->k);
        w_context(&w, &imp->context);
        w_str(&w, imp->policy, "policy");
        w_str(&w, imp->model_version, "model_version");
        w_long(&w, imp->exploration_seed);
        w_long(&w, imp->mc_samples);
        w_bool(&w, imp->shadow);
        w_long(&w, imp->total_budget);
        w_count(&w, imp->arm_cnt, imp->arms, "arms");
        for (i = 0; !w.err && i < imp->arm_cnt; i++)
                w_arm(&w, &imp->arms[i]);
        w_end(&w);
        w_count(&w, imp->result_cnt, imp->results, "results");
        for (i = 0; !w.err && i < imp->result_cnt; i++) {
                const ltrr_result_t *r = &imp->results[i];

                w_str(&w, r->entity_id, "results.entity_id");
                w_long(&w, r->position);
                w_float(&w, r->score);
                w_long(&w, r->arm_mask);
                w_ranker_input(&w, rankers ? &rankers[i] : NULL);
        }
        w_end(&w);
        return w_finish(&w, len);
}

ltrr_err_t ltrr_avro_encode_action(const ltrr_action_t *act, uint8_t *buf,
                                   size_t size, size_t *len, char *errstr,
                                   size_t errstr_size)
{
        wbuf_t w = W_INIT(buf, size, errstr, errstr_size);

        if (!act)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "action is NULL");
        w_header(&w, LTRR_AVRO_ACTION);
        w_long(&w, act->schema_version);
        w_long(&w, act->event_time_ms);
        w_str(&w, act->node_id, "node_id");
        w_raw(&w, act->action_id.b, 16);
        w_raw(&w, act->impression_id.b, 16);
        w_long(&w, act->received_time_ms);
        w_str(&w, act->user_id, "user_id");
        w_str(&w, act->entity_id, "entity_id");
        w_long(&w, act->position);
        w_enum(&w, (int)act->type, LTRR_ACTION__CNT, "type");
        w_long(&w, act->has_duration_ms ? 1 : 0);
        if (act->has_duration_ms)
                w_long(&w, act->duration_ms);
        w_opt_str(&w, act->idempotency_key, "idempotency_key");
        w_opt_str(&w, act->app_id, "app_id");
        return w_finish(&w, len);
}

static void w_kafka_ref(wbuf_t *w, const ltrr_kafka_ref_t *ref)
{
        w_str(w, ref->topic, "kafka_ref.topic");
        w_long(w, ref->partition);
        w_long(w, ref->offset);
}

/* The fields of Reward after user_id up to arm_rewards. */
static void w_reward_outcome(wbuf_t *w, const ltrr_reward_t *rew)
{
        w_str(w, rew->query_norm, "query_norm");
        w_enum(w, (int)rew->outcome, LTRR_OUTCOME__CNT, "outcome");
        w_bool(w, rew->apply_bandit);
        w_bool(w, rew->apply_engagement);
        w_long(w, rew->has_action_type ? 1 : 0);
        if (rew->has_action_type)
                w_enum(w, (int)rew->action_type, LTRR_ACTION__CNT,
                       "action_type");
        w_opt_str(w, rew->engaged_entity, "engaged_entity");
        w_long(w, rew->has_position ? 1 : 0);
        if (rew->has_position)
                w_long(w, rew->position);
        w_double(w, rew->value);
}

/* ranker_examples: null when there are none. */
static void w_rank_examples(wbuf_t *w, const ltrr_reward_t *rew)
{
        size_t i;

        w_long(w, rew->ranker_example_cnt ? 1 : 0);
        if (!rew->ranker_example_cnt)
                return;
        w_count(w, rew->ranker_example_cnt, rew->ranker_examples,
                "ranker_examples");
        for (i = 0; !w->err && i < rew->ranker_example_cnt; i++) {
                const ltrr_rank_example_t *e = &rew->ranker_examples[i];

                w_long(w, e->position);
                w_float(w, e->label);
                w_floats(w, e->features, e->feature_cnt,
                         "ranker_examples.features");
                w_float(w, e->margin);
        }
        w_end(w);
}

ltrr_err_t ltrr_avro_encode_reward(const ltrr_reward_t *rew, uint8_t *buf,
                                   size_t size, size_t *len, char *errstr,
                                   size_t errstr_size)
{
        wbuf_t w = W_INIT(buf, size, errstr, errstr_size);
        size_t i;

        if (!rew)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "reward is NULL");
        w_header(&w, LTRR_AVRO_REWARD);
        w_long(&w, rew->schema_version);
        w_long(&w, rew->event_time_ms);
        w_str(&w, rew->node_id, "node_id");
        w_raw(&w, rew->impression_id.b, 16);
        w_kafka_ref(&w, &rew->impression_ref);
        w_long(&w, rew->has_action_ref ? 1 : 0);
        if (rew->has_action_ref)
                w_kafka_ref(&w, &rew->action_ref);
        w_long(&w, rew->has_action_id ? 1 : 0);
        if (rew->has_action_id)
                w_raw(&w, rew->action_id.b, 16);
        w_str(&w, rew->user_id, "user_id");
        w_reward_outcome(&w, rew);
        w_count(&w, rew->arm_reward_cnt, rew->arm_rewards, "arm_rewards");
        for (i = 0; !w.err && i < rew->arm_reward_cnt; i++) {
                const ltrr_arm_reward_t *a = &rew->arm_rewards[i];

                w_str(&w, a->arm, "arm_rewards.arm");
                w_bool(&w, a->ran);
                w_long(&w, a->budget);
                w_double(&w, a->propensity);
                w_double(&w, a->reward);
        }
        w_end(&w);
        w_context(&w, &rew->context);
        w_str(&w, rew->policy, "policy");
        w_str(&w, rew->model_version, "model_version");
        w_long(&w, rew->impression_time_ms);
        w_long(&w, rew->has_action_time_ms ? 1 : 0);
        if (rew->has_action_time_ms)
                w_long(&w, rew->action_time_ms);
        w_rank_examples(&w, rew);
        return w_finish(&w, len);
}

ltrr_err_t ltrr_avro_frame_next(const uint8_t *data, size_t len, size_t *off,
                                size_t max, const uint8_t **rec,
                                size_t *rec_len, char *errstr,
                                size_t errstr_size)
{
        size_t at = *off, flen;

        if (at > len || len - at < 4)
                return ltrr_errf(LTRR_ERR_TRUNCATED, errstr, errstr_size,
                                 "partial frame header at byte %zu", at);
        flen = (size_t)data[at] << 24 | (size_t)data[at + 1] << 16 |
               (size_t)data[at + 2] << 8 | data[at + 3];
        if (flen > max)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "frame of %zu bytes at byte %zu (max %zu)",
                                 flen, at, max);
        if (flen > len - at - 4)
                return ltrr_errf(LTRR_ERR_TRUNCATED, errstr, errstr_size,
                                 "frame at byte %zu ends early", at);
        *rec = data + at + 4;
        *rec_len = flen;
        *off = at + 4 + flen;
        return LTRR_OK;
}
