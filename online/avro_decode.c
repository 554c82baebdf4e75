/*
 * ltrr - hand-written Avro decoder for the current record schemas.
 *
 * The reader never reads past its end: every length is checked against the
 * bytes left before it is used, and against the named maxima of
 * avro_codec.h before anything is allocated. Strings are copied into the
 * arena with a terminating NUL; arrays are allocated there. The first
 * error is latched; later reads return zeros and loops stop.
 */
#include "avro_int.h"

#include <stdlib.h>
#include <string.h>

#define ARENA_BLK_MIN (64 * 1024)

typedef struct rbuf_s {
        const uint8_t *p;       /* next byte */
        const uint8_t *end;     /* one past the last byte */
        ltrr_avro_arena_t *ar;  /* where strings and arrays go */
        ltrr_err_t err;         /* first error, latched */
        char *errstr;           /* caller's error buffer */
        size_t errstr_size;     /* its size */
} rbuf_t;

void ltrr_avro_arena_rewind(ltrr_avro_arena_t *ar)
{
        ar->cur = 0;
        ar->used = 0;
        ar->charged = 0;
}

void ltrr_avro_arena_free(ltrr_avro_arena_t *ar)
{
        int i;

        for (i = 0; i < ar->cnt; i++)
                free(ar->blks[i].mem);
        memset(ar, 0, sizeof(*ar));
}

static void r_fail(rbuf_t *r, ltrr_err_t err, const char *what,
                   const char *why)
{
        if (r->err)
                return;
        r->err = ltrr_errf(err, r->errstr, r->errstr_size, "%s: %s", what,
                           why);
}

/* Moves to the next block that holds @n bytes, allocating or growing it. */
static int arena_next(ltrr_avro_arena_t *ar, size_t n)
{
        int next = ar->cnt ? ar->cur + 1 : 0;
        size_t want = ar->cnt ? ar->blks[ar->cur].size * 2 : ARENA_BLK_MIN;
        uint8_t *mem;

        if (next >= LTRR_AVRO_ARENA_BLKS)
                return -1;
        if (next < ar->cnt && ar->blks[next].size >= n)
                goto done;
        if (want < n)
                want = n;
        if (!(mem = malloc(want)))
                return -1;
        if (next < ar->cnt)
                free(ar->blks[next].mem);
        else
                ar->cnt++;
        ar->blks[next].mem = mem;
        ar->blks[next].size = want;
done:
        ar->cur = next;
        ar->used = 0;
        return 0;
}

/* Returns @n bytes, 8-aligned, or NULL with the error latched. */
static void *r_alloc(rbuf_t *r, size_t n, const char *what)
{
        ltrr_avro_arena_t *ar = r->ar;
        void *p;

        n = (n + 7) & ~(size_t)7;
        if (ar->charged + n > LTRR_AVRO_ARENA_MAX) {
                r_fail(r, LTRR_ERR_RANGE, what,
                       "record needs more than LTRR_AVRO_ARENA_MAX");
                return NULL;
        }
        if ((!ar->cnt || ar->used + n > ar->blks[ar->cur].size) &&
            arena_next(ar, n)) {
                r_fail(r, LTRR_ERR_NOMEM, what, "arena allocation failed");
                return NULL;
        }
        p = ar->blks[ar->cur].mem + ar->used;
        ar->used += n;
        ar->charged += n;
        return p;
}

static int64_t r_long(rbuf_t *r, const char *what)
{
        uint64_t u = 0;
        int shift;

        for (shift = 0; !r->err && shift < 70; shift += 7) {
                uint8_t b;

                if (r->p >= r->end) {
                        r_fail(r, LTRR_ERR_TRUNCATED, what, "input ends in a number");
                        break;
                }
                b = *r->p++;
                if (shift == 63 && (b & 0x7e)) {
                        r_fail(r, LTRR_ERR_CORRUPT, what, "varint overflows 64 bits");
                        break;
                }
                u |= (uint64_t)(b & 0x7f) << shift;
                if (!(b & 0x80))
                        return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
        }
        r_fail(r, LTRR_ERR_CORRUPT, what, "varint longer than 10 bytes");
        return 0;
}

static int32_t r_int(rbuf_t *r, const char *what)
{
        int64_t v = r_long(r, what);

        if (v < INT32_MIN || v > INT32_MAX) {
                r_fail(r, LTRR_ERR_RANGE, what, "int out of 32-bit range");
                return 0;
        }
        return (int32_t)v;
}

static const uint8_t *r_take(rbuf_t *r, size_t n, const char *what)
{
        const uint8_t *p = r->p;

        if (r->err)
                return NULL;
        if ((size_t)(r->end - r->p) < n) {
                r_fail(r, LTRR_ERR_TRUNCATED, what, "input ends inside a value");
                return NULL;
        }
        r->p += n;
        return p;
}

static bool r_bool(rbuf_t *r, const char *what)
{
        const uint8_t *p = r_take(r, 1, what);

        if (p && *p > 1)
                r_fail(r, LTRR_ERR_CORRUPT, what, "boolean byte is not 0 or 1");
        return p && *p == 1;
}

static float r_float(rbuf_t *r, const char *what)
{
        const uint8_t *p = r_take(r, 4, what);
        uint32_t u = 0;
        float v = 0;
        int i;

        for (i = 0; p && i < 4; i++)
                u |= (uint32_t)p[i] << (8 * i);
        memcpy(&v, &u, sizeof(v));
        return v;
}

static double r_double(rbuf_t *r, const char *what)
{
        const uint8_t *p = r_take(r, 8, what);
        uint64_t u = 0;
        double v = 0;
        int i;

        for (i = 0; p && i < 8; i++)
                u |= (uint64_t)p[i] << (8 * i);
        memcpy(&v, &u, sizeof(v));
        return v;
}

static void r_fixed16(rbuf_t *r, ltrr_id128_t *id, const char *what)
{
        const uint8_t *p = r_take(r, 16, what);

        if (p)
                memcpy(id->b, p, 16);
}

static const char *r_str(rbuf_t *r, const char *what)
{
        int64_t len = r_long(r, what);
        const uint8_t *src;
        char *s;

        if (len < 0)
                r_fail(r, LTRR_ERR_CORRUPT, what, "negative string length");
        else if (len > LTRR_AVRO_STRING_MAX)
                r_fail(r, LTRR_ERR_RANGE, what, "string over LTRR_AVRO_STRING_MAX");
        if (!(src = r_take(r, (size_t)(len > 0 ? len : 0), what)))
                return NULL;
        if (memchr(src, 0, (size_t)len)) {
                r_fail(r, LTRR_ERR_RANGE, what, "string contains a NUL byte");
                return NULL;
        }
        if (!(s = r_alloc(r, (size_t)len + 1, what)))
                return NULL;
        memcpy(s, src, (size_t)len);
        s[len] = '\0';
        return s;
}

/* Reads a union index of a ["null", X] union: 0 or 1. */
static bool r_present(rbuf_t *r, const char *what)
{
        int64_t branch = r_long(r, what);

        if (branch != 0 && branch != 1)
                r_fail(r, LTRR_ERR_CORRUPT, what, "union branch out of range");
        return branch == 1 && !r->err;
}

static const char *r_opt_str(rbuf_t *r, const char *what)
{
        return r_present(r, what) ? r_str(r, what) : NULL;
}

static int r_enum(rbuf_t *r, int cnt, const char *what)
{
        int64_t v = r_long(r, what);

        if (v < 0 || v >= cnt) {
                r_fail(r, LTRR_ERR_RANGE, what, "enum index out of range");
                return 0;
        }
        return (int)v;
}

typedef void (*r_item_fn)(rbuf_t *r, void *item);

/* Reads an array of items of @size bytes (at least one input byte each)
 * with @fn. Blocks after the first are appended by copying. */
static void *r_array(rbuf_t *r, size_t size, r_item_fn fn, size_t *cntp,
                     const char *what)
{
        uint8_t *items = NULL, *grown;
        size_t cnt = 0, i;
        int64_t n;

        while (!r->err && (n = r_long(r, what)) != 0) {
                if (n < 0) {
                        n = -n; /* a block with its byte size; skip it */
                        if (r_long(r, what) < 0)
                                r_fail(r, LTRR_ERR_CORRUPT, what, "negative block size");
                }
                if (n < 0 || (uint64_t)n > LTRR_AVRO_ARRAY_MAX - cnt) {
                        r_fail(r, LTRR_ERR_RANGE, what, "more than LTRR_AVRO_ARRAY_MAX items");
                        break;
                }
                if ((uint64_t)n > (uint64_t)(r->end - r->p)) {
                        r_fail(r, LTRR_ERR_TRUNCATED, what, "more items than bytes left");
                        break;
                }
                if (!(grown = r_alloc(r, (cnt + (size_t)n) * size, what)))
                        break;
                if (cnt)
                        memcpy(grown, items, cnt * size);
                items = grown;
                for (i = 0; !r->err && i < (size_t)n; i++)
                        fn(r, items + (cnt + i) * size);
                cnt += (size_t)n;
        }
        *cntp = r->err ? 0 : cnt;
        return r->err ? NULL : items;
}

static void r_feature(rbuf_t *r, void *item)
{
        *(float *)item = r_float(r, "context.features");
}

static void r_context(rbuf_t *r, ltrr_context_t *c)
{
        c->feature_version = r_int(r, "context.feature_version");
        c->features = r_array(r, sizeof(float), r_feature, &c->feature_cnt,
                              "context.features");
        c->query_type = r_str(r, "context.query_type");
        c->hour = r_int(r, "context.hour");
        c->weekday = r_int(r, "context.weekday");
        c->holiday = r_bool(r, "context.holiday");
        c->user_segment = r_str(r, "context.user_segment");
}

static void r_candidate(rbuf_t *r, void *item)
{
        ltrr_candidate_t *c = item;

        c->entity_id = r_str(r, "candidates.entity_id");
        c->score = r_float(r, "candidates.score");
}

static void r_arm(rbuf_t *r, void *item)
{
        ltrr_arm_decision_t *a = item;

        a->arm = r_str(r, "arms.arm");
        a->ran = r_bool(r, "arms.ran");
        a->budget = r_int(r, "arms.budget");
        a->propensity = r_double(r, "arms.propensity");
        a->candidates = r_array(r, sizeof(ltrr_candidate_t), r_candidate,
                                &a->candidate_cnt, "arms.candidates");
}

/* A Result with its optional ranker input, as read; split in two by
 * r_results(). */
typedef struct result_full_s {
        ltrr_result_t res;       /* the fields of ltrr_result_t */
        ltrr_ranker_input_t rk;  /* Result.ranker */
} result_full_t;

static void r_result(rbuf_t *r, void *item)
{
        result_full_t *f = item;

        f->res.entity_id = r_str(r, "results.entity_id");
        f->res.position = r_int(r, "results.position");
        f->res.score = r_float(r, "results.score");
        f->res.arm_mask = r_int(r, "results.arm_mask");
        f->rk.present = r_present(r, "results.ranker");
        if (f->rk.present) {
                f->rk.features = r_array(r, sizeof(float), r_feature,
                                         &f->rk.feature_cnt,
                                         "results.ranker.features");
                f->rk.margin = r_float(r, "results.ranker.margin");
        }
}

/* Reads the results into imp->results and, when any logged a ranker
 * input, *rankers (parallel to the results). */
static void r_results(rbuf_t *r, ltrr_impression_t *imp,
                      const ltrr_ranker_input_t **rankers)
{
        result_full_t *f;
        ltrr_result_t *res;
        ltrr_ranker_input_t *rk;
        size_t n = 0, i, any = 0;

        f = r_array(r, sizeof(*f), r_result, &n, "results");
        for (i = 0; i < n; i++)
                any += f[i].rk.present;
        res = n ? r_alloc(r, n * sizeof(*res), "results") : NULL;
        rk = any ? r_alloc(r, n * sizeof(*rk), "results.ranker") : NULL;
        if (r->err)
                return;
        for (i = 0; i < n; i++) {
                res[i] = f[i].res;
                if (rk)
                        rk[i] = f[i].rk;
        }
        imp->results = res;
        imp->result_cnt = n;
        *rankers = rk;
}

static void r_impression(rbuf_t *r, ltrr_impression_t *imp,
                         const ltrr_ranker_input_t **rankers)
{
        imp->schema_version = r_int(r, "schema_version");
        imp->event_time_ms = r_long(r, "event_time_ms");
        imp->node_id = r_str(r, "node_id");
        r_fixed16(r, &imp->impression_id, "impression_id");
        imp->user_id = r_str(r, "user_id");
        imp->session_id = r_opt_str(r, "session_id");
        imp->query_raw = r_str(r, "query_raw");
        imp->query_norm = r_str(r, "query_norm");
        imp->lang = r_str(r, "lang");
        imp->k = r_int(r, "k");
        r_context(r, &imp->context);
        imp->policy = r_str(r, "policy");
        imp->model_version = r_str(r, "model_version");
        imp->exploration_seed = r_long(r, "exploration_seed");
        imp->mc_samples = r_int(r, "mc_samples");
        imp->shadow = r_bool(r, "shadow");
        imp->total_budget = r_int(r, "total_budget");
        imp->arms = r_array(r, sizeof(ltrr_arm_decision_t), r_arm,
                            &imp->arm_cnt, "arms");
        r_results(r, imp, rankers);
}

static void r_action(rbuf_t *r, ltrr_action_t *act)
{
        act->schema_version = r_int(r, "schema_version");
        act->event_time_ms = r_long(r, "event_time_ms");
        act->node_id = r_str(r, "node_id");
        r_fixed16(r, &act->action_id, "action_id");
        r_fixed16(r, &act->impression_id, "impression_id");
        act->received_time_ms = r_long(r, "received_time_ms");
        act->user_id = r_str(r, "user_id");
        act->entity_id = r_str(r, "entity_id");
        act->position = r_int(r, "position");
        act->type = (ltrr_action_type_t)r_enum(r, LTRR_ACTION__CNT, "type");
        act->has_duration_ms = r_present(r, "duration_ms");
        act->duration_ms = act->has_duration_ms ? r_long(r, "duration_ms") : 0;
        act->idempotency_key = r_opt_str(r, "idempotency_key");
        act->app_id = r_opt_str(r, "app_id");
}

static void r_kafka_ref(rbuf_t *r, ltrr_kafka_ref_t *ref)
{
        ref->topic = r_str(r, "kafka_ref.topic");
        ref->partition = r_int(r, "kafka_ref.partition");
        ref->offset = r_long(r, "kafka_ref.offset");
}

static void r_arm_reward(rbuf_t *r, void *item)
{
        ltrr_arm_reward_t *a = item;

        a->arm = r_str(r, "arm_rewards.arm");
        a->ran = r_bool(r, "arm_rewards.ran");
        a->budget = r_int(r, "arm_rewards.budget");
        a->propensity = r_double(r, "arm_rewards.propensity");
        a->reward = r_double(r, "arm_rewards.reward");
}

/* The fields of Reward after user_id up to value. */
static void r_reward_outcome(rbuf_t *r, ltrr_reward_t *rew)
{
        rew->query_norm = r_str(r, "query_norm");
        rew->outcome = (ltrr_outcome_t)r_enum(r, LTRR_OUTCOME__CNT, "outcome");
        rew->apply_bandit = r_bool(r, "apply_bandit");
        rew->apply_engagement = r_bool(r, "apply_engagement");
        rew->has_action_type = r_present(r, "action_type");
        rew->action_type = rew->has_action_type ?
                (ltrr_action_type_t)r_enum(r, LTRR_ACTION__CNT, "action_type") :
                LTRR_ACTION_UNKNOWN;
        rew->engaged_entity = r_opt_str(r, "engaged_entity");
        rew->has_position = r_present(r, "position");
        rew->position = rew->has_position ? r_int(r, "position") : 0;
        rew->value = r_double(r, "value");
}

static void r_rank_example(rbuf_t *r, void *item)
{
        ltrr_rank_example_t *e = item;

        e->position = r_int(r, "ranker_examples.position");
        e->label = r_float(r, "ranker_examples.label");
        e->features = r_array(r, sizeof(float), r_feature, &e->feature_cnt,
                              "ranker_examples.features");
        e->margin = r_float(r, "ranker_examples.margin");
}

static void r_reward(rbuf_t *r, ltrr_reward_t *rew)
{
        rew->schema_version = r_int(r, "schema_version");
        rew->event_time_ms = r_long(r, "event_time_ms");
        rew->node_id = r_str(r, "node_id");
        r_fixed16(r, &rew->impression_id, "impression_id");
        r_kafka_ref(r, &rew->impression_ref);
        rew->has_action_ref = r_present(r, "action_ref");
        if (rew->has_action_ref)
                r_kafka_ref(r, &rew->action_ref);
        rew->has_action_id = r_present(r, "action_id");
        if (rew->has_action_id)
                r_fixed16(r, &rew->action_id, "action_id");
        rew->user_id = r_str(r, "user_id");
        r_reward_outcome(r, rew);
        rew->arm_rewards = r_array(r, sizeof(ltrr_arm_reward_t), r_arm_reward,
                                   &rew->arm_reward_cnt, "arm_rewards");
        r_context(r, &rew->context);
        rew->policy = r_str(r, "policy");
        rew->model_version = r_str(r, "model_version");
        rew->impression_time_ms = r_long(r, "impression_time_ms");
        rew->has_action_time_ms = r_present(r, "action_time_ms");
        rew->action_time_ms =
                rew->has_action_time_ms ? r_long(r, "action_time_ms") : 0;
        if (r_present(r, "ranker_examples"))
                rew->ranker_examples =
                        r_array(r, sizeof(ltrr_rank_example_t),
                                r_rank_example, &rew->ranker_example_cnt,
                                "ranker_examples");
}

ltrr_err_t ltrr_avro_body_decode(ltrr_avro_arena_t *ar, ltrr_avro_type_t type,
                                 const uint8_t *body, size_t len,
                                 ltrr_avro_record_t *rec, char *errstr,
                                 size_t errstr_size)
{
        rbuf_t r = {body, body + len, ar, LTRR_OK, errstr, errstr_size};

        ltrr_avro_arena_rewind(ar);
        memset(&rec->u, 0, sizeof(rec->u));
        rec->type = type;
        rec->rankers = NULL;
        if (type == LTRR_AVRO_IMPRESSION)
                r_impression(&r, &rec->u.imp, &rec->rankers);
        else if (type == LTRR_AVRO_ACTION)
                r_action(&r, &rec->u.act);
        else
                r_reward(&r, &rec->u.rew);
        if (!r.err && r.p != r.end)
                r_fail(&r, LTRR_ERR_CORRUPT, ltrr_avro_type_name(type),
                       "trailing bytes after the record");
        return r.err;
}
