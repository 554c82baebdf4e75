/* Unit tests: Avro single-object codecs, canonical form, resolution. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro_codec.h"

#define BUF_SIZE (256 * 1024)
#define N_ARMS 8
#define N_CANDS 13
#define N_RESULTS 10
/* Ranker inputs logged on the first results (optional fields). */
#define N_RANKED 4
#define LTRR_RANKER_TEST_NFEAT 32

static char v2_dir[4096];

/* ---- fixtures ---------------------------------------------------------- */

static const char *const arm_names[N_ARMS] = {
        "lexical", "popular", "structured", "fuzzy",
        "semantic", "memory", "personal", "fresh"};
static char cand_ids[N_ARMS][N_CANDS][24];
static ltrr_candidate_t cands[N_ARMS][N_CANDS];
static ltrr_arm_decision_t arms[N_ARMS];
static ltrr_result_t results[N_RESULTS];
static char result_ids[N_RESULTS][24];
static const float features[6] = {0.5f, -1.25f, 3.0f, 0.0f, 1e-3f, 42.0f};
static float rk_x[LTRR_RANKER_TEST_NFEAT];
static ltrr_ranker_input_t rk_in[N_RESULTS]; /* with optional fields */
static ltrr_rank_example_t rk_ex[2];
static ltrr_arm_reward_t arm_rewards[3] = {
        {"lexical", true, 20, 0.75, 1.0},
        {"popular", false, 0, 0.25, 0.0},
        {"memory", true, 10, 0.5, -0.5}};

static ltrr_context_t make_context(void)
{
        ltrr_context_t c = {3, features, 6, "artist", 21, 4, true, "heavy"};

        return c;
}

static ltrr_impression_t make_impression(bool optional)
{
        ltrr_impression_t imp = {0};
        int a, c;

        for (a = 0; a < N_ARMS; a++) {
                for (c = 0; c < N_CANDS; c++) {
                        snprintf(cand_ids[a][c], sizeof(cand_ids[a][c]),
                                 "track:%d%03d", a, c);
                        cands[a][c].entity_id = cand_ids[a][c];
                        cands[a][c].score = (float)(a * 100 + c) / 7.0f;
                }
                arms[a].arm = arm_names[a];
                arms[a].ran = a % 3 != 0;
                arms[a].budget = arms[a].ran ? 20 : 0;
                arms[a].propensity = 1.0 / (a + 2);
                arms[a].candidates = cands[a];
                arms[a].candidate_cnt = arms[a].ran ? N_CANDS : 0;
        }
        for (c = 0; c < N_RESULTS; c++) {
                snprintf(result_ids[c], sizeof(result_ids[c]), "artist:%d", c);
                results[c].entity_id = result_ids[c];
                results[c].position = c;
                results[c].score = 1.0f - (float)c / 20.0f;
                results[c].arm_mask = (1 << (c % N_ARMS)) | 1;
                rk_in[c].present = c < N_RANKED;
                rk_in[c].features = rk_x + c;
                rk_in[c].feature_cnt = LTRR_RANKER_TEST_NFEAT - c;
                rk_in[c].margin = 0.25f * (float)c;
        }
        for (c = 0; c < LTRR_RANKER_TEST_NFEAT; c++)
                rk_x[c] = (float)c / 8.0f - 1.0f;
        imp.schema_version = LTRR_RECORDS_SCHEMA_VERSION;
        imp.event_time_ms = 1764000000123LL;
        imp.node_id = "serve-1";
        for (c = 0; c < 16; c++)
                imp.impression_id.b[c] = (uint8_t)(0xa0 + c);
        imp.user_id = "user-42";
        imp.session_id = optional ? "sess-9" : NULL;
        imp.query_raw = "Tayler Löve";
        imp.query_norm = "tayler love";
        imp.lang = "en";
        imp.k = 10;
        imp.context = make_context();
        imp.policy = "linucb";
        imp.model_version = "v17";
        imp.exploration_seed = -1234567890123LL;
        imp.mc_samples = optional ? 256 : 0;
        imp.shadow = optional;
        imp.total_budget = 120;
        imp.arms = arms;
        imp.arm_cnt = N_ARMS;
        imp.results = results;
        imp.result_cnt = N_RESULTS;
        return imp;
}

static ltrr_action_t make_action(bool optional)
{
        ltrr_action_t act = {0};
        int i;

        act.schema_version = 1;
        act.event_time_ms = 1764000001000LL;
        act.node_id = "collect-2";
        for (i = 0; i < 16; i++) {
                act.action_id.b[i] = (uint8_t)i;
                act.impression_id.b[i] = (uint8_t)(0xa0 + i);
        }
        act.received_time_ms = 1764000001050LL;
        act.user_id = "user-42";
        act.entity_id = "artist:3";
        act.position = 3;
        act.type = LTRR_ACTION_ADD_TO_PLAYLIST;
        act.has_duration_ms = optional;
        act.duration_ms = optional ? 183000 : 0;
        act.idempotency_key = optional ? "idem-1" : NULL;
        act.app_id = optional ? "ios" : NULL;
        return act;
}

static ltrr_reward_t make_reward(bool optional)
{
        ltrr_reward_t rew = {0};
        int i;

        rew.schema_version = 1;
        rew.event_time_ms = 1764000001000LL;
        rew.node_id = "join-0";
        for (i = 0; i < 16; i++)
                rew.impression_id.b[i] = (uint8_t)(0xa0 + i);
        rew.impression_ref =
                (ltrr_kafka_ref_t){"ltrr.impressions", 4, 9876543210LL};
        rew.has_action_ref = optional;
        rew.action_ref = (ltrr_kafka_ref_t){"ltrr.actions", 4, 77};
        rew.has_action_id = optional;
        for (i = 0; i < 16; i++)
                rew.action_id.b[i] = (uint8_t)(optional ? i : 0);
        rew.user_id = "user-42";
        rew.query_norm = "tayler love";
        rew.outcome = optional ? LTRR_OUTCOME_MATCHED : LTRR_OUTCOME_NO_ACTION;
        rew.apply_bandit = true;
        rew.apply_engagement = optional;
        rew.has_action_type = optional;
        rew.action_type = optional ? LTRR_ACTION_SKIP : LTRR_ACTION_UNKNOWN;
        rew.engaged_entity = optional ? "artist:3" : NULL;
        rew.has_position = optional;
        rew.position = optional ? 3 : 0;
        rew.value = optional ? 0.8 : 0.0;
        rew.arm_rewards = arm_rewards;
        rew.arm_reward_cnt = 3;
        rew.context = make_context();
        rew.policy = "linucb";
        rew.model_version = "v17";
        rew.impression_time_ms = 1764000000123LL;
        rew.has_action_time_ms = optional;
        rew.action_time_ms = optional ? 1764000001000LL : 0;
        for (i = 0; i < LTRR_RANKER_TEST_NFEAT; i++)
                rk_x[i] = (float)i / 8.0f - 1.0f;
        rk_ex[0] = (ltrr_rank_example_t){0, 0.0f, rk_x, 32, -0.5f};
        rk_ex[1] = (ltrr_rank_example_t){3, 1.0f, rk_x + 1, 31, 1.75f};
        rew.ranker_examples = optional ? rk_ex : NULL;
        rew.ranker_example_cnt = optional ? 2 : 0;
        return rew;
}

/* ---- comparisons ------------------------------------------------------- */

static void assert_opt_str(const char *a, const char *b)
{
        if (!a || !b)
                assert_ptr_equal(a, b);
        else
                assert_string_equal(a, b);
}

static void assert_context(const ltrr_context_t *a, const ltrr_context_t *b)
{
        assert_int_equal(a->feature_version, b->feature_version);
        assert_int_equal(a->feature_cnt, b->feature_cnt);
        assert_memory_equal(a->features, b->features,
                            a->feature_cnt * sizeof(float));
        assert_string_equal(a->query_type, b->query_type);
        assert_int_equal(a->hour, b->hour);
        assert_int_equal(a->weekday, b->weekday);
        assert_int_equal(a->holiday, b->holiday);
        assert_string_equal(a->user_segment, b->user_segment);
}

static void assert_arm(const ltrr_arm_decision_t *a,
                       const ltrr_arm_decision_t *b)
{
        size_t i;

        assert_string_equal(a->arm, b->arm);
        assert_int_equal(a->ran, b->ran);
        assert_int_equal(a->budget, b->budget);
        assert_true(a->propensity == b->propensity);
        assert_int_equal(a->candidate_cnt, b->candidate_cnt);
        for (i = 0; i < a->candidate_cnt; i++) {
                assert_string_equal(a->candidates[i].entity_id,
                                    b->candidates[i].entity_id);
                assert_true(a->candidates[i].score == b->candidates[i].score);
        }
}

static void assert_floats(const float *a, size_t an, const float *b,
                          size_t bn)
{
        assert_int_equal(an, bn);
        if (an)
                assert_memory_equal(a, b, an * sizeof(*a));
}

static void assert_impression(const ltrr_impression_t *a,
                              const ltrr_impression_t *b)
{
        size_t i;

        assert_int_equal(a->schema_version, b->schema_version);
        assert_int_equal(a->event_time_ms, b->event_time_ms);
        assert_string_equal(a->node_id, b->node_id);
        assert_memory_equal(a->impression_id.b, b->impression_id.b, 16);
        assert_string_equal(a->user_id, b->user_id);
        assert_opt_str(a->session_id, b->session_id);
        assert_string_equal(a->query_raw, b->query_raw);
        assert_string_equal(a->query_norm, b->query_norm);
        assert_string_equal(a->lang, b->lang);
        assert_int_equal(a->k, b->k);
        assert_context(&a->context, &b->context);
        assert_string_equal(a->policy, b->policy);
        assert_string_equal(a->model_version, b->model_version);
        assert_int_equal(a->exploration_seed, b->exploration_seed);
        assert_int_equal(a->mc_samples, b->mc_samples);
        assert_int_equal(a->shadow, b->shadow);
        assert_int_equal(a->total_budget, b->total_budget);
        assert_int_equal(a->arm_cnt, b->arm_cnt);
        for (i = 0; i < a->arm_cnt; i++)
                assert_arm(&a->arms[i], &b->arms[i]);
        assert_int_equal(a->result_cnt, b->result_cnt);
        for (i = 0; i < a->result_cnt; i++) {
                assert_string_equal(a->results[i].entity_id,
                                    b->results[i].entity_id);
                assert_int_equal(a->results[i].position, b->results[i].position);
                assert_true(a->results[i].score == b->results[i].score);
                assert_int_equal(a->results[i].arm_mask, b->results[i].arm_mask);
        }
}

static void assert_action(const ltrr_action_t *a, const ltrr_action_t *b)
{
        assert_int_equal(a->schema_version, b->schema_version);
        assert_int_equal(a->event_time_ms, b->event_time_ms);
        assert_string_equal(a->node_id, b->node_id);
        assert_memory_equal(a->action_id.b, b->action_id.b, 16);
        assert_memory_equal(a->impression_id.b, b->impression_id.b, 16);
        assert_int_equal(a->received_time_ms, b->received_time_ms);
        assert_string_equal(a->user_id, b->user_id);
        assert_string_equal(a->entity_id, b->entity_id);
        assert_int_equal(a->position, b->position);
        assert_int_equal(a->type, b->type);
        assert_int_equal(a->has_duration_ms, b->has_duration_ms);
        assert_int_equal(a->duration_ms, b->duration_ms);
        assert_opt_str(a->idempotency_key, b->idempotency_key);
        assert_opt_str(a->app_id, b->app_id);
}

static void assert_ref(const ltrr_kafka_ref_t *a, const ltrr_kafka_ref_t *b)
{
        assert_string_equal(a->topic, b->topic);
        assert_int_equal(a->partition, b->partition);
        assert_int_equal(a->offset, b->offset);
}

static void assert_reward(const ltrr_reward_t *a, const ltrr_reward_t *b)
{
        size_t i;

        assert_int_equal(a->schema_version, b->schema_version);
        assert_int_equal(a->event_time_ms, b->event_time_ms);
        assert_string_equal(a->node_id, b->node_id);
        assert_memory_equal(a->impression_id.b, b->impression_id.b, 16);
        assert_ref(&a->impression_ref, &b->impression_ref);
        assert_int_equal(a->has_action_ref, b->has_action_ref);
        if (a->has_action_ref)
                assert_ref(&a->action_ref, &b->action_ref);
        assert_int_equal(a->has_action_id, b->has_action_id);
        if (a->has_action_id)
                assert_memory_equal(a->action_id.b, b->action_id.b, 16);
        assert_string_equal(a->user_id, b->user_id);
        assert_string_equal(a->query_norm, b->query_norm);
        assert_int_equal(a->outcome, b->outcome);
        assert_int_equal(a->apply_bandit, b->apply_bandit);
        assert_int_equal(a->apply_engagement, b->apply_engagement);
        assert_int_equal(a->has_action_type, b->has_action_type);
        assert_int_equal(a->action_type, b->action_type);
        assert_opt_str(a->engaged_entity, b->engaged_entity);
        assert_int_equal(a->has_position, b->has_position);
        assert_int_equal(a->position, b->position);
        assert_true(a->value == b->value);
        assert_int_equal(a->arm_reward_cnt, b->arm_reward_cnt);
        for (i = 0; i < a->arm_reward_cnt; i++) {
                assert_string_equal(a->arm_rewards[i].arm, b->arm_rewards[i].arm);
                assert_int_equal(a->arm_rewards[i].ran, b->arm_rewards[i].ran);
                assert_int_equal(a->arm_rewards[i].budget,
                                 b->arm_rewards[i].budget);
                assert_true(a->arm_rewards[i].propensity ==
                            b->arm_rewards[i].propensity);
                assert_true(a->arm_rewards[i].reward == b->arm_rewards[i].reward);
        }
        assert_context(&a->context, &b->context);
        assert_string_equal(a->policy, b->policy);
        assert_string_equal(a->model_version, b->model_version);
        assert_int_equal(a->impression_time_ms, b->impression_time_ms);
        assert_int_equal(a->has_action_time_ms, b->has_action_time_ms);
        assert_int_equal(a->action_time_ms, b->action_time_ms);
        assert_int_equal(a->ranker_example_cnt, b->ranker_example_cnt);
        for (i = 0; i < a->ranker_example_cnt; i++) {
                const ltrr_rank_example_t *x = &a->ranker_examples[i];
                const ltrr_rank_example_t *y = &b->ranker_examples[i];

                assert_int_equal(x->position, y->position);
                assert_true(x->label == y->label);
                assert_true(x->margin == y->margin);
                assert_floats(x->features, x->feature_cnt, y->features,
                              y->feature_cnt);
        }
}

/* ---- helpers ----------------------------------------------------------- */

static ltrr_avro_decoder_t *new_decoder(void)
{
        char errstr[256] = "";
        ltrr_avro_decoder_t *dec = ltrr_avro_decoder_new(NULL, errstr,
                                                         sizeof(errstr));

        if (!dec)
                fail_msg("decoder_new: %s", errstr);
        return dec;
}

/* Encodes record @which (0 imp, 1 act, 2 rew) into a fresh malloc'ed
 * buffer of exactly its size, so ASan sees any over-read. */
static uint8_t *encode_one(int which, bool optional, size_t *len)
{
        static uint8_t buf[BUF_SIZE];
        char errstr[256] = "";
        ltrr_impression_t imp = make_impression(optional);
        ltrr_action_t act = make_action(optional);
        ltrr_reward_t rew = make_reward(optional);
        ltrr_err_t err;
        uint8_t *copy;

        if (which == 0)
                err = ltrr_avro_encode_impression_ranked(
                    &imp, optional ? rk_in : NULL, buf, sizeof(buf), len,
                    errstr, sizeof(errstr));
        else if (which == 1)
                err = ltrr_avro_encode_action(&act, buf, sizeof(buf), len,
                                              errstr, sizeof(errstr));
        else
                err = ltrr_avro_encode_reward(&rew, buf, sizeof(buf), len,
                                              errstr, sizeof(errstr));
        if (err)
                fail_msg("encode: %s", errstr);
        copy = malloc(*len);
        assert_non_null(copy);
        memcpy(copy, buf, *len);
        return copy;
}

/* The results' ranker inputs: rk_in when @p optional, else none. */
static void assert_rankers(const ltrr_avro_record_t *rec, bool optional)
{
        size_t i;

        if (!optional) {
                assert_null(rec->rankers);
                return;
        }
        assert_non_null(rec->rankers);
        for (i = 0; i < rec->u.imp.result_cnt; i++) {
                const ltrr_ranker_input_t *a = &rec->rankers[i];

                assert_int_equal(a->present, rk_in[i].present);
                if (!a->present)
                        continue;
                assert_floats(a->features, a->feature_cnt, rk_in[i].features,
                              rk_in[i].feature_cnt);
                assert_true(a->margin == rk_in[i].margin);
        }
}

static void assert_decoded(int which, bool optional,
                           const ltrr_avro_record_t *rec)
{
        ltrr_impression_t imp = make_impression(optional);
        ltrr_action_t act = make_action(optional);
        ltrr_reward_t rew = make_reward(optional);

        assert_int_equal(rec->type, which);
        if (which == 0)
                assert_rankers(rec, optional);
        if (which == 0)
                assert_impression(&rec->u.imp, &imp);
        else if (which == 1)
                assert_action(&rec->u.act, &act);
        else
                assert_reward(&rec->u.rew, &rew);
}

static char *slurp(const char *path)
{
        FILE *fp = fopen(path, "rb");
        char *text = calloc(1, LTRR_AVRO_SCHEMA_MAX + 1);

        assert_non_null(fp);
        assert_non_null(text);
        assert_true(fread(text, 1, LTRR_AVRO_SCHEMA_MAX, fp) > 0);
        fclose(fp);
        return text;
}

/* ---- tests ------------------------------------------------------------- */

static void assert_fp(const char *schema, const char *canon, int64_t fp)
{
        char out[512], errstr[256] = "";
        size_t len = 0;
        uint64_t got = 0;

        assert_int_equal(ltrr_avro_canonical_form(schema, strlen(schema), out,
                                                  sizeof(out), &len, errstr,
                                                  sizeof(errstr)),
                         LTRR_OK);
        assert_string_equal(out, canon);
        assert_int_equal(len, strlen(canon));
        assert_int_equal(ltrr_avro_fingerprint(schema, strlen(schema), &got,
                                               errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal((int64_t)got, fp);
}

/* Values from the Avro specification's schema test file. */
static void test_spec_fingerprints(void **state)
{
        assert_int_equal(ltrr_avro_crc64("", 0), 0xc15d213aa4d7a795ULL);
        assert_fp("\"null\"", "\"null\"", 7195948357588979594LL);
        assert_fp("{\"type\":\"int\"}", "\"int\"", 8247732601305521295LL);
        assert_fp("[ \"int\" , {\"type\":\"boolean\"} ]", "[\"int\",\"boolean\"]",
                  5392556393470105090LL);
        assert_fp("{\"fields\":[], \"type\":\"record\", \"name\":\"a.b.foo\", "
                  "\"namespace\":\"x.y\"}",
                  "{\"name\":\"a.b.foo\",\"type\":\"record\",\"fields\":[]}",
                  -4616218487480524110LL);
        assert_fp("{ \"fields\":[{\"type\":\"boolean\", \"aliases\":[], "
                  "\"name\":\"f1\", \"default\":\"true\"},{\"order\":"
                  "\"descending\",\"name\":\"f2\",\"doc\":\"Hello\",\"type\":"
                  "\"int\"}], \"type\":\"record\", \"name\":\"foo\"}",
                  "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[{\"name\":"
                  "\"f1\",\"type\":\"boolean\"},{\"name\":\"f2\",\"type\":"
                  "\"int\"}]}",
                  -4860222112080293046LL);
        assert_fp("{\"namespace\":\"x.y.z\", \"type\":\"fixed\", \"name\":\"foo\","
                  " \"doc\":\"foo bar\", \"size\":32}",
                  "{\"name\":\"x.y.z.foo\",\"type\":\"fixed\",\"size\":32}",
                  -3064184465700546786LL);
        assert_fp("{\"namespace\":\"x.y.z\", \"type\":\"enum\", \"name\":\"foo\", "
                  "\"doc\":\"foo bar\", \"symbols\":[\"A1\", \"A2\"]}",
                  "{\"name\":\"x.y.z.foo\",\"type\":\"enum\",\"symbols\":"
                  "[\"A1\",\"A2\"]}",
                  -4448647247586288245LL);
        assert_fp("{ \"values\":\"string\", \"type\":\"map\"}",
                  "{\"type\":\"map\",\"values\":\"string\"}",
                  -8732877298790414990LL);
        assert_fp("{\"name\":\"PigValue\",\"type\":\"record\",\"fields\":[{\"name\":"
                  "\"value\", \"type\":[\"null\", \"int\", \"long\", "
                  "\"PigValue\"]}]}",
                  "{\"name\":\"PigValue\",\"type\":\"record\",\"fields\":[{\"name\":"
                  "\"value\",\"type\":[\"null\",\"int\",\"long\",\"PigValue\"]}]}",
                  -1759257747318642341LL);
        /* Logical types are stripped to their primitive. */
        assert_fp("{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}",
                  "\"long\"", -3434872931120570953LL);
}

static void test_canonical_errors(void **state)
{
        char out[16], errstr[256] = "";
        size_t len = 0;
        const char *rec = "{\"type\":\"record\",\"name\":\"r\",\"fields\":[]}";

        assert_int_equal(ltrr_avro_canonical_form("{nope", 5, out, sizeof(out),
                                                  &len, errstr, sizeof(errstr)),
                         LTRR_ERR_PARSE);
        assert_int_equal(ltrr_avro_canonical_form("\"Missing\"", 9, out,
                                                  sizeof(out), &len, errstr,
                                                  sizeof(errstr)),
                         LTRR_ERR_SCHEMA);
        assert_non_null(strstr(errstr, "Missing"));
        assert_int_equal(ltrr_avro_canonical_form("42", 2, out, sizeof(out),
                                                  &len, errstr, sizeof(errstr)),
                         LTRR_ERR_SCHEMA);
        assert_int_equal(ltrr_avro_canonical_form(rec, strlen(rec), out,
                                                  sizeof(out), &len, errstr,
                                                  sizeof(errstr)),
                         LTRR_ERR_NOSPACE);
        assert_int_equal(len, strlen("{\"name\":\"r\",\"type\":\"record\","
                                     "\"fields\":[]}"));
}

/* The compiled-in fingerprints are those of schemas/ and differ from v2. */
static void test_schema_files(void **state)
{
        const char *dirs[2] = {LTRR_SCHEMA_DIR, v2_dir};
        char path[4200], errstr[256] = "";
        int d, t;

        for (d = 0; d < 2; d++)
                for (t = 0; t < LTRR_AVRO__TYPE_CNT; t++) {
                        uint64_t fp = 0;
                        char *text;

                        snprintf(path, sizeof(path), "%s/%s.avsc", dirs[d],
                                 ltrr_avro_type_name((ltrr_avro_type_t)t));
                        text = slurp(path);
                        assert_int_equal(ltrr_avro_fingerprint(text,
                                                               strlen(text),
                                                               &fp, errstr,
                                                               sizeof(errstr)),
                                         LTRR_OK);
                        if (d == 0)
                                assert_true(fp == ltrr_avro_type_fingerprint(t));
                        else
                                assert_true(fp != ltrr_avro_type_fingerprint(t));
                        free(text);
                }
        assert_int_equal(ltrr_avro_type_parse("ltrr.Reward"), LTRR_AVRO_REWARD);
        assert_int_equal(ltrr_avro_type_parse("Nope"), -1);
        assert_null(ltrr_avro_type_name(LTRR_AVRO__TYPE_CNT));
        assert_true(ltrr_avro_type_fingerprint(LTRR_AVRO__TYPE_CNT) == 0);
}

static void test_round_trip(void **state)
{
        ltrr_avro_decoder_t *dec = new_decoder();
        ltrr_avro_record_t rec;
        char errstr[256] = "";
        int which, opt;

        for (which = 0; which < 3; which++)
                for (opt = 0; opt < 2; opt++) {
                        size_t len = 0;
                        uint8_t *buf = encode_one(which, opt, &len);

                        assert_int_equal(buf[0], 0xc3);
                        assert_int_equal(buf[1], 0x01);
                        assert_int_equal(ltrr_avro_decode(dec, buf, len, &rec,
                                                          errstr,
                                                          sizeof(errstr)),
                                         LTRR_OK);
                        assert_int_equal(rec.resolved, 0);
                        assert_true(rec.fingerprint ==
                                    ltrr_avro_type_fingerprint(which));
                        assert_decoded(which, opt, &rec);
                        free(buf);
                }
        ltrr_avro_decoder_destroy(dec);
}

static void test_encode_errors(void **state)
{
        ltrr_impression_t imp = make_impression(true);
        ltrr_action_t act = make_action(true);
        ltrr_reward_t rew = make_reward(true);
        uint8_t buf[BUF_SIZE];
        char errstr[256] = "";
        size_t len = 0, need = 0;

        assert_int_equal(ltrr_avro_encode_impression(&imp, NULL, 0, &need,
                                                     errstr, sizeof(errstr)),
                         LTRR_ERR_NOSPACE);
        assert_int_equal(ltrr_avro_encode_impression(&imp, buf, need - 1, &len,
                                                     errstr, sizeof(errstr)),
                         LTRR_ERR_NOSPACE);
        assert_int_equal(len, need);
        assert_int_equal(ltrr_avro_encode_impression(&imp, buf, need, &len,
                                                     errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(len, need);
        imp.arm_cnt = LTRR_AVRO_ARRAY_MAX + 1;
        assert_int_equal(ltrr_avro_encode_impression(&imp, buf, sizeof(buf),
                                                     &len, errstr,
                                                     sizeof(errstr)),
                         LTRR_ERR_RANGE);
        imp = make_impression(true);
        imp.query_norm = NULL;
        assert_int_equal(ltrr_avro_encode_impression(&imp, buf, sizeof(buf),
                                                     &len, errstr,
                                                     sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_non_null(strstr(errstr, "query_norm"));
        act.type = LTRR_ACTION__CNT;
        assert_int_equal(ltrr_avro_encode_action(&act, buf, sizeof(buf), &len,
                                                 errstr, sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        rew.outcome = (ltrr_outcome_t)-1;
        assert_int_equal(ltrr_avro_encode_reward(&rew, buf, sizeof(buf), &len,
                                                 errstr, sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_avro_encode_reward(NULL, buf, sizeof(buf), &len,
                                                 errstr, sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
}

static void test_truncation(void **state)
{
        ltrr_avro_decoder_t *dec = new_decoder();
        ltrr_avro_record_t rec;
        char errstr[256];
        int which;

        for (which = 0; which < 3; which++) {
                size_t len = 0, cut;
                uint8_t *buf = encode_one(which, true, &len);

                for (cut = 0; cut < len; cut++) {
                        uint8_t *part = malloc(cut ? cut : 1);
                        ltrr_err_t err;

                        memcpy(part, buf, cut);
                        err = ltrr_avro_decode(dec, part, cut, &rec, errstr,
                                               sizeof(errstr));
                        free(part);
                        if (err != LTRR_ERR_TRUNCATED)
                                fail_msg("type %d cut at %zu of %zu: %s", which,
                                         cut, len, ltrr_err2name(err));
                }
                free(buf);
        }
        ltrr_avro_decoder_destroy(dec);
}

static void test_random_flips(void **state)
{
        ltrr_avro_decoder_t *dec = new_decoder();
        ltrr_avro_record_t rec;
        char errstr[256];
        int iter, errors = 0;

        srand(12345);
        for (iter = 0; iter < 6000; iter++) {
                size_t len = 0;
                int which = iter % 3, flips = 1 + rand() % 3, f;
                uint8_t *buf = encode_one(which, iter % 2, &len);
                ltrr_err_t err;

                for (f = 0; f < flips; f++)
                        buf[LTRR_AVRO_HEADER_LEN +
                            (size_t)rand() % (len - LTRR_AVRO_HEADER_LEN)] ^=
                                (uint8_t)(1 + rand() % 255);
                err = ltrr_avro_decode(dec, buf, len, &rec, errstr,
                                       sizeof(errstr));
                assert_true(err == LTRR_OK ||
                            (err < 0 && err > LTRR_ERR__END));
                errors += err != LTRR_OK;
                free(buf);
        }
        /* Most flips hit strings' bytes and still decode; many do not. */
        assert_true(errors > 600);
        ltrr_avro_decoder_destroy(dec);
}

static ltrr_err_t decode_bytes(ltrr_avro_decoder_t *dec, const uint8_t *b,
                               size_t len, char *errstr, size_t size)
{
        ltrr_avro_record_t rec;
        uint8_t *copy = malloc(len);
        ltrr_err_t err;

        memcpy(copy, b, len);
        err = ltrr_avro_decode(dec, copy, len, &rec, errstr, size);
        free(copy);
        return err;
}

static void test_decode_errors(void **state)
{
        ltrr_avro_decoder_t *dec = new_decoder();
        char errstr[256] = "";
        size_t len = 0;
        uint8_t *act = encode_one(1, false, &len);
        uint8_t hostile[64];
        uint8_t *longer = malloc(len + 1);

        /* Bad magic, unknown fingerprint, trailing bytes. */
        hostile[0] = 0xc3;
        hostile[1] = 0x02;
        assert_int_equal(decode_bytes(dec, hostile, 2, errstr, sizeof(errstr)),
                         LTRR_ERR_PARSE);
        memcpy(hostile, act, LTRR_AVRO_HEADER_LEN);
        hostile[9] ^= 0x40;
        assert_int_equal(decode_bytes(dec, hostile, 12, errstr, sizeof(errstr)),
                         LTRR_ERR_SCHEMA);
        assert_non_null(strstr(errstr, "unknown schema fingerprint"));
        memcpy(longer, act, len);
        longer[len] = 0;
        assert_int_equal(decode_bytes(dec, longer, len + 1, errstr,
                                      sizeof(errstr)),
                         LTRR_ERR_CORRUPT);
        /* schema_version 0, event_time 0, node_id of length 2^62: RANGE,
         * without allocating anything near that. */
        memcpy(hostile, act, LTRR_AVRO_HEADER_LEN);
        memcpy(hostile + 10, "\x00\x00\xfe\xff\xff\xff\xff\xff\xff\xff\x7f", 11);
        assert_int_equal(decode_bytes(dec, hostile, 21, errstr, sizeof(errstr)),
                         LTRR_ERR_RANGE);
        /* Negative string length. */
        memcpy(hostile + 10, "\x00\x00\x01", 3);
        assert_int_equal(decode_bytes(dec, hostile, 13, errstr, sizeof(errstr)),
                         LTRR_ERR_CORRUPT);
        /* A varint of 11 bytes. */
        memcpy(hostile + 10, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11);
        assert_int_equal(decode_bytes(dec, hostile, 21, errstr, sizeof(errstr)),
                         LTRR_ERR_CORRUPT);
        /* schema_version beyond 32 bits. */
        memcpy(hostile + 10, "\x80\x80\x80\x80\x20", 5);
        assert_int_equal(decode_bytes(dec, hostile, 15, errstr, sizeof(errstr)),
                         LTRR_ERR_RANGE);
        /* A string with a NUL byte. */
        memcpy(hostile + 10, "\x00\x00\x04" "a\0", 5);
        assert_int_equal(decode_bytes(dec, hostile, 15, errstr, sizeof(errstr)),
                         LTRR_ERR_RANGE);
        assert_int_equal(ltrr_avro_decode(dec, NULL, 0, NULL, errstr,
                                          sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        free(longer);
        free(act);
        ltrr_avro_decoder_destroy(dec);
}

/* Enum index and array count out of bounds in an otherwise valid record. */
static void test_decode_bounds(void **state)
{
        ltrr_avro_decoder_t *dec = new_decoder();
        char errstr[256] = "";
        size_t len = 0;
        uint8_t *act = encode_one(1, false, &len);
        uint8_t *imp;

        /* Action without optionals ends: type, 0, 0, 0. */
        act[len - 4] = 2 * 7; /* enum index 7: one past skip */
        assert_int_equal(decode_bytes(dec, act, len, errstr, sizeof(errstr)),
                         LTRR_ERR_RANGE);
        act[len - 4] = 2 * 2;
        act[len - 3] = 4; /* union branch 2 */
        assert_int_equal(decode_bytes(dec, act, len, errstr, sizeof(errstr)),
                         LTRR_ERR_CORRUPT);
        free(act);
        /* Impression ends with the results array: a count over the max. */
        imp = encode_one(0, false, &len);
        imp = realloc(imp, len + 4);
        memcpy(imp + len - 1, "\xa2\x40\x00", 3); /* 4113 items */
        assert_int_equal(decode_bytes(dec, imp, len + 2, errstr,
                                      sizeof(errstr)),
                         LTRR_ERR_RANGE);
        free(imp);
        ltrr_avro_decoder_destroy(dec);
}

static void test_decoder_lifecycle(void **state)
{
        const char *other =
                "{\"type\":\"record\",\"name\":\"Other\",\"fields\":[]}";
        char errstr[256] = "";
        ltrr_avro_decoder_t *dec;

        ltrr_avro_decoder_destroy(NULL);
        assert_null(ltrr_avro_decoder_new("/nonexistent", errstr,
                                          sizeof(errstr)));
        assert_non_null(strstr(errstr, "/nonexistent/Impression.avsc"));
        /* schemas-v2 as the current schemas: the codec refuses them. */
        assert_null(ltrr_avro_decoder_new(v2_dir, errstr, sizeof(errstr)));
        assert_non_null(strstr(errstr, "schema and codec differ"));
        dec = new_decoder();
        assert_int_equal(ltrr_avro_decoder_add_writer(dec, "{", 1, errstr,
                                                      sizeof(errstr)),
                         LTRR_ERR_PARSE);
        assert_int_equal(ltrr_avro_decoder_add_writer(dec, other,
                                                      strlen(other), errstr,
                                                      sizeof(errstr)),
                         LTRR_ERR_SCHEMA);
        assert_int_equal(ltrr_avro_decoder_add_writer_file(dec, "/nonexistent",
                                                           errstr,
                                                           sizeof(errstr)),
                         LTRR_ERR_IO);
        ltrr_avro_decoder_destroy(dec);
}

/* v1 body + the added optional field set to "exp-7" / null. */
static uint8_t *make_v2_record(int which, const char *v2_path, bool set,
                               size_t *lenp)
{
        char errstr[256] = "";
        char *v2 = slurp(v2_path);
        uint64_t fp = 0;
        size_t len = 0;
        uint8_t *v1 = encode_one(which, true, &len);
        uint8_t *out = malloc(len + 16);
        int i;

        assert_int_equal(ltrr_avro_fingerprint(v2, strlen(v2), &fp, errstr,
                                               sizeof(errstr)),
                         LTRR_OK);
        memcpy(out, v1, len);
        for (i = 0; i < 8; i++)
                out[2 + i] = (uint8_t)(fp >> (8 * i));
        if (!set)
                out[len++] = 0;
        else if (which == 2) /* join_latency_ms: long 1000 */
                len += (size_t)(memcpy(out + len, "\x02\xd0\x0f", 3), 3);
        else /* experiment_id / client_version: "exp-7" */
                len += (size_t)(memcpy(out + len, "\x02\x0a" "exp-7", 7), 7);
        *lenp = len;
        free(v1);
        free(v2);
        return out;
}

/* A v1 reader (this codec) reads records of the v2 writer schemas. */
static void test_v1_reads_v2(void **state)
{
        ltrr_avro_decoder_t *dec = new_decoder();
        ltrr_avro_record_t rec;
        char errstr[256] = "", path[4200];
        int which, set;

        for (which = 0; which < 3; which++) {
                snprintf(path, sizeof(path), "%s/%s.avsc", v2_dir,
                         ltrr_avro_type_name((ltrr_avro_type_t)which));
                for (set = 0; set < 2; set++) {
                        size_t len = 0;
                        uint8_t *rec2 = make_v2_record(which, path, set, &len);

                        assert_int_equal(decode_bytes(dec, rec2, len, errstr,
                                                      sizeof(errstr)),
                                         LTRR_ERR_SCHEMA);
                        assert_int_equal(ltrr_avro_decoder_add_writer_file(
                                                 dec, path, errstr,
                                                 sizeof(errstr)),
                                         LTRR_OK);
                        if (ltrr_avro_decode(dec, rec2, len, &rec, errstr,
                                             sizeof(errstr)))
                                fail_msg("decode v2: %s", errstr);
                        assert_int_equal(rec.resolved, 1);
                        assert_decoded(which, true, &rec);
                        /* Decoding twice reuses the resolver and arena. */
                        assert_int_equal(ltrr_avro_decode(dec, rec2, len, &rec,
                                                          errstr,
                                                          sizeof(errstr)),
                                         LTRR_OK);
                        assert_decoded(which, true, &rec);
                        /* A corrupt foreign body is an error, not a crash:
                         * a trailing byte; a truncated long (not a string:
                         * Avro C 1.11.1 leaks a string cut short). */
                        rec2 = realloc(rec2, len + 1);
                        rec2[len] = 0;
                        assert_int_equal(decode_bytes(dec, rec2, len + 1,
                                                      errstr, sizeof(errstr)),
                                         LTRR_ERR_CORRUPT);
                        if (which == 2 && set)
                                assert_int_equal(decode_bytes(dec, rec2,
                                                              len - 1, errstr,
                                                              sizeof(errstr)),
                                                 LTRR_ERR_CORRUPT);
                        free(rec2);
                        ltrr_avro_decoder_destroy(dec);
                        dec = new_decoder();
                }
        }
        ltrr_avro_decoder_destroy(dec);
}

/* A v2 reader reads v1 bodies: the added field takes its default (null). */
static void test_v2_reads_v1(void **state)
{
        char errstr[256] = "", path[4200];
        uint8_t out[BUF_SIZE];
        int which;

        for (which = 0; which < 3; which++) {
                const char *name = ltrr_avro_type_name((ltrr_avro_type_t)which);
                size_t len = 0, out_len = 0;
                uint8_t *v1 = encode_one(which, which != 1, &len);
                char *v1s, *v2s;

                snprintf(path, sizeof(path), "%s/%s.avsc", v2_dir, name);
                v2s = slurp(path);
                snprintf(path, sizeof(path), "%s/%s.avsc", LTRR_SCHEMA_DIR, name);
                v1s = slurp(path);
                if (ltrr_avro_resolve_body(v2s, v1s, v1 + LTRR_AVRO_HEADER_LEN,
                                           len - LTRR_AVRO_HEADER_LEN, out,
                                           sizeof(out), &out_len, errstr,
                                           sizeof(errstr)))
                        fail_msg("%s v1 to v2: %s", name, errstr);
                assert_int_equal(out_len, len - LTRR_AVRO_HEADER_LEN + 1);
                assert_memory_equal(out, v1 + LTRR_AVRO_HEADER_LEN,
                                    len - LTRR_AVRO_HEADER_LEN);
                assert_int_equal(out[out_len - 1], 0); /* null branch */
                /* And back: v1 reader of the v2 body drops the field. */
                assert_int_equal(ltrr_avro_resolve_body(v1s, v2s, out, out_len,
                                                        out + out_len,
                                                        sizeof(out) - out_len,
                                                        &len, errstr,
                                                        sizeof(errstr)),
                                 LTRR_OK);
                assert_int_equal(len, out_len - 1);
                assert_int_equal(ltrr_avro_resolve_body(v2s, v1s, out, 3, out,
                                                        sizeof(out), &len,
                                                        errstr, sizeof(errstr)),
                                 LTRR_ERR_CORRUPT);
                free(v1);
                free(v1s);
                free(v2s);
        }
}

/* Framed streams: records in order, then every kind of broken frame. */
static void test_frames(void **state)
{
        static const uint8_t data[] = {0, 0, 0, 2, 'a', 'b', 0, 0, 0, 0,
                                       0, 0, 0, 1, 'c'};
        const uint8_t *rec;
        size_t off = 0, len;
        char err[128];

        assert_int_equal(ltrr_avro_frame_next(data, sizeof(data), &off, 16,
                                              &rec, &len, err, sizeof(err)),
                         LTRR_OK);
        assert_int_equal(len, 2);
        assert_memory_equal(rec, "ab", 2);
        assert_int_equal(off, 6);
        assert_int_equal(ltrr_avro_frame_next(data, sizeof(data), &off, 16,
                                              &rec, &len, err, sizeof(err)),
                         LTRR_OK);
        assert_int_equal(len, 0);
        assert_int_equal(ltrr_avro_frame_next(data, sizeof(data), &off, 16,
                                              &rec, &len, err, sizeof(err)),
                         LTRR_OK);
        assert_int_equal(len, 1);
        assert_int_equal(off, sizeof(data));
        /* a header cut short, a record cut short, a record too long */
        off = 0;
        assert_int_equal(ltrr_avro_frame_next(data, 3, &off, 16, &rec, &len,
                                              err, sizeof(err)),
                         LTRR_ERR_TRUNCATED);
        assert_non_null(strstr(err, "byte 0"));
        assert_int_equal(ltrr_avro_frame_next(data, 5, &off, 16, &rec, &len,
                                              err, sizeof(err)),
                         LTRR_ERR_TRUNCATED);
        assert_int_equal(ltrr_avro_frame_next(data, sizeof(data), &off, 1,
                                              &rec, &len, err, sizeof(err)),
                         LTRR_ERR_RANGE);
        assert_int_equal(off, 0);
}

/* Records of the schemas before the ranker fields (one less optional
 * field at the end of Reward and of Result) still decode, as null. */
static void test_reads_pre_ranker(void **state)
{
        static uint8_t buf[BUF_SIZE];
        char errstr[256] = "", path[4200];
        ltrr_avro_decoder_t *dec = new_decoder();
        ltrr_reward_t rew = make_reward(true), want;
        ltrr_impression_t imp = make_impression(false);
        ltrr_avro_record_t rec;
        char *old;
        uint64_t fp = 0;
        size_t len = 0;
        int i;

        (void)state;
        rew.ranker_example_cnt = 0; /* the new field is null: one 0 byte */
        want = rew;
        assert_int_equal(ltrr_avro_encode_reward(&rew, buf, sizeof(buf), &len,
                                                 NULL, 0),
                         LTRR_OK);
        assert_int_equal(buf[len - 1], 0);
        len--; /* the old body ends before it */
        snprintf(path, sizeof(path), "%s/../schemas-pre-ranker/Reward.avsc",
                 v2_dir);
        old = slurp(path);
        assert_int_equal(ltrr_avro_fingerprint(old, strlen(old), &fp, NULL, 0),
                         LTRR_OK);
        assert_true(fp != ltrr_avro_type_fingerprint(LTRR_AVRO_REWARD));
        for (i = 0; i < 8; i++)
                buf[2 + i] = (uint8_t)(fp >> (8 * i));
        assert_int_equal(decode_bytes(dec, buf, len, NULL, 0),
                         LTRR_ERR_SCHEMA);
        assert_int_equal(ltrr_avro_decoder_add_writer(dec, old, strlen(old),
                                                      errstr, sizeof(errstr)),
                         LTRR_OK);
        if (ltrr_avro_decode(dec, buf, len, &rec, errstr, sizeof(errstr)))
                fail_msg("decode pre-ranker reward: %s", errstr);
        assert_int_equal(rec.resolved, 1);
        assert_reward(&rec.u.rew, &want);
        assert_null(rec.u.rew.ranker_examples);
        free(old);
        /* An impression without results has the same body in both. */
        imp.result_cnt = 0;
        assert_int_equal(ltrr_avro_encode_impression(&imp, buf, sizeof(buf),
                                                     &len, NULL, 0),
                         LTRR_OK);
        snprintf(path, sizeof(path),
                 "%s/../schemas-pre-ranker/Impression.avsc", v2_dir);
        old = slurp(path);
        assert_int_equal(ltrr_avro_fingerprint(old, strlen(old), &fp, NULL, 0),
                         LTRR_OK);
        for (i = 0; i < 8; i++)
                buf[2 + i] = (uint8_t)(fp >> (8 * i));
        assert_int_equal(ltrr_avro_decoder_add_writer(dec, old, strlen(old),
                                                      errstr, sizeof(errstr)),
                         LTRR_OK);
        if (ltrr_avro_decode(dec, buf, len, &rec, errstr, sizeof(errstr)))
                fail_msg("decode pre-ranker impression: %s", errstr);
        assert_int_equal(rec.resolved, 1);
        assert_impression(&rec.u.imp, &imp);
        free(old);
        ltrr_avro_decoder_destroy(dec);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_spec_fingerprints),
                cmocka_unit_test(test_canonical_errors),
                cmocka_unit_test(test_schema_files),
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_encode_errors),
                cmocka_unit_test(test_truncation),
                cmocka_unit_test(test_random_flips),
                cmocka_unit_test(test_decode_errors),
                cmocka_unit_test(test_decode_bounds),
                cmocka_unit_test(test_decoder_lifecycle),
                cmocka_unit_test(test_v1_reads_v2),
                cmocka_unit_test(test_v2_reads_v1),
                cmocka_unit_test(test_frames),
                cmocka_unit_test(test_reads_pre_ranker),
        };
        const char *src = getenv("LTRR_SRC");

        snprintf(v2_dir, sizeof(v2_dir), "%s/tests/data/schemas-v2",
                 src ? src : LTRR_SCHEMA_DIR "/..");
        return cmocka_run_group_tests(tests, NULL, NULL);
}
