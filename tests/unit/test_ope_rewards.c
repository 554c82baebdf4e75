/* Unit tests: off-policy evaluation of arm selection from Reward records. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "avro_codec.h"
#include "ope_rewards.h"
#include "rng.h"

static const char *const names[] = {"lexical", "popular", "fuzzy"};
#define N_ARM 3
#define N_CTX 3
/* Logging policy: P(arm runs | context), and the reward probability of a
 * running arm, by context. Arms run independently. */
static const double env_p[N_CTX][N_ARM] = {
        {0.8, 0.3, 0.5}, {0.4, 0.7, 0.2}, {0.6, 0.5, 0.9}};
static const double env_mu[N_CTX][N_ARM] = {
        {0.7, 0.2, 0.4}, {0.1, 0.6, 0.3}, {0.5, 0.5, 0.2}};

/* A reward record with every required field set. */
static ltrr_reward_t reward_make(ltrr_arm_reward_t *arms, size_t n)
{
        ltrr_reward_t rew;

        memset(&rew, 0, sizeof(rew));
        rew.schema_version = 1;
        rew.node_id = "join-0";
        rew.impression_ref = (ltrr_kafka_ref_t){"ltrr.impressions", 0, 1};
        rew.user_id = "u1";
        rew.query_norm = "q";
        rew.outcome = LTRR_OUTCOME_NO_ACTION;
        rew.apply_bandit = true;
        rew.arm_rewards = arms;
        rew.arm_reward_cnt = n;
        rew.context.query_type = "entity";
        rew.context.user_segment = "new";
        rew.policy = "thompson";
        rew.model_version = "v1";
        return rew;
}

/* Draws one logged impression of the synthetic environment and adds to
 * *truth the target's expected reward sum_a pi_a mu_a for it. */
static void env_draw(ltrr_rng_t *rng, ltrr_arm_reward_t *arms,
                     const ltrr_ope_target_t *t, double *truth)
{
        int c = (int)ltrr_rng_below(rng, N_CTX), a;
        double sum = 0.0, pi;

        for (a = 0; a < N_ARM; a++)
                sum += env_p[c][a];
        for (a = 0; a < N_ARM; a++) {
                arms[a].arm = names[a];
                arms[a].propensity = env_p[c][a];
                arms[a].ran = ltrr_rng_uniform(rng) < env_p[c][a];
                arms[a].budget = arms[a].ran ? 25 : 0;
                arms[a].reward = arms[a].ran &&
                                 ltrr_rng_uniform(rng) < env_mu[c][a];
                if (t->kind == LTRR_OPE_TARGET_LOGGED)
                        pi = env_p[c][a];
                else if (t->kind == LTRR_OPE_TARGET_UNIFORM)
                        pi = sum / N_ARM;
                else
                        pi = strcmp(t->arm, names[a]) == 0;
                *truth += pi * env_mu[c][a];
        }
}

static void test_target_parse(void **state)
{
        ltrr_ope_target_t t;
        char errstr[128];

        assert_int_equal(ltrr_ope_target_parse("logged", &t, NULL, 0), 0);
        assert_int_equal(t.kind, LTRR_OPE_TARGET_LOGGED);
        assert_int_equal(ltrr_ope_target_parse("uniform", &t, NULL, 0), 0);
        assert_int_equal(t.kind, LTRR_OPE_TARGET_UNIFORM);
        assert_int_equal(ltrr_ope_target_parse("arm:fuzzy", &t, NULL, 0), 0);
        assert_int_equal(t.kind, LTRR_OPE_TARGET_ARM);
        assert_string_equal(t.arm, "fuzzy");
        assert_int_equal(ltrr_ope_target_parse("bts", &t, errstr,
                                               sizeof(errstr)),
                         LTRR_ERR_UNKNOWN_KEY);
        assert_non_null(strstr(errstr, "arm:NAME"));
        assert_int_equal(ltrr_ope_target_parse(NULL, &t, NULL, 0),
                         LTRR_ERR_UNKNOWN_KEY);
        assert_int_equal(ltrr_ope_target_parse("arm:", &t, NULL, 0),
                         LTRR_ERR_RANGE);
        assert_int_equal(ltrr_ope_target_parse(
                                 "arm:abcdefghijklmnopqrstuvwxyz0123456789",
                                 &t, NULL, 0),
                         LTRR_ERR_RANGE);
}

static void test_add_errors(void **state)
{
        ltrr_arm_reward_t arms[LTRR_OPE_REWARDS_ARMS_MAX + 1];
        char many[LTRR_OPE_REWARDS_ARMS_MAX + 1][8];
        ltrr_ope_rewards_report_t rep;
        ltrr_ope_target_t t;
        ltrr_ope_rewards_t *rw;
        ltrr_reward_t rew;
        char errstr[128];
        int used, i;

        ltrr_ope_rewards_destroy(NULL);
        assert_null(ltrr_ope_rewards_new(0, errstr, sizeof(errstr)));
        assert_null(ltrr_ope_rewards_new(LTRR_OPE_ROWS_MAX + 1, NULL, 0));
        rw = ltrr_ope_rewards_new(2, NULL, 0);
        assert_non_null(rw);
        ltrr_ope_target_parse("logged", &t, NULL, 0);
        assert_int_equal(ltrr_ope_rewards_evaluate(rw, &t, NULL, &rep, NULL,
                                                   0),
                         LTRR_ERR_STATE);
        arms[0] = (ltrr_arm_reward_t){"lexical", true, 10, 0.0, 1.0};
        rew = reward_make(arms, 1);
        assert_int_equal(ltrr_ope_rewards_add(rw, &rew, &used, errstr,
                                              sizeof(errstr)),
                         LTRR_ERR_RANGE); /* ran with propensity 0 */
        arms[0] = (ltrr_arm_reward_t){"lexical", false, 0, 1.0, 0.0};
        assert_int_equal(ltrr_ope_rewards_add(rw, &rew, NULL, NULL, 0),
                         LTRR_ERR_RANGE); /* off with propensity 1 */
        arms[0] = (ltrr_arm_reward_t){"lexical", true, 10, 1.5, 0.0};
        assert_int_equal(ltrr_ope_rewards_add(rw, &rew, NULL, NULL, 0),
                         LTRR_ERR_RANGE);
        arms[0] = (ltrr_arm_reward_t){"lexical", true, 10, 0.5, NAN};
        assert_int_equal(ltrr_ope_rewards_add(rw, &rew, NULL, NULL, 0),
                         LTRR_ERR_RANGE);
        arms[0] = (ltrr_arm_reward_t){"lexical", true, 10, 0.5, 1.0};
        arms[1] = arms[0];
        rew = reward_make(arms, 2);
        assert_int_equal(ltrr_ope_rewards_add(rw, &rew, NULL, NULL, 0),
                         LTRR_ERR_INVALID_ARG); /* listed twice */
        assert_int_equal(ltrr_ope_rewards_count(rw), 0);
        assert_int_equal(ltrr_ope_rewards_arms(rw), 0); /* nothing kept */
        for (i = 0; i <= LTRR_OPE_REWARDS_ARMS_MAX; i++) {
                snprintf(many[i], sizeof(many[i]), "a%d", i);
                arms[i] = (ltrr_arm_reward_t){many[i], true, 10, 0.5, 1.0};
        }
        rew = reward_make(arms, LTRR_OPE_REWARDS_ARMS_MAX + 1);
        assert_int_equal(ltrr_ope_rewards_add(rw, &rew, NULL, NULL, 0),
                         LTRR_ERR_NOSPACE);
        rew = reward_make(arms, 1);
        rew.apply_bandit = false;
        assert_int_equal(ltrr_ope_rewards_add(rw, &rew, &used, NULL, 0), 0);
        assert_int_equal(used, 0);
        rew.apply_bandit = true;
        assert_int_equal(ltrr_ope_rewards_add(rw, &rew, &used, NULL, 0), 0);
        assert_int_equal(used, 1);
        assert_int_equal(ltrr_ope_rewards_add(rw, &rew, NULL, NULL, 0), 0);
        assert_int_equal(ltrr_ope_rewards_add(rw, &rew, NULL, errstr,
                                              sizeof(errstr)),
                         LTRR_ERR_NOSPACE); /* capacity 2 */
        assert_int_equal(ltrr_ope_rewards_count(rw), 2);
        assert_string_equal(ltrr_ope_rewards_arm_name(rw, 0), "a0");
        assert_null(ltrr_ope_rewards_arm_name(rw, 1));
        ltrr_ope_target_parse("arm:nosuch", &t, NULL, 0);
        assert_int_equal(ltrr_ope_rewards_evaluate(rw, &t, NULL, &rep, NULL,
                                                   0),
                         LTRR_ERR_UNKNOWN_KEY);
        ltrr_ope_rewards_destroy(rw);
}

/* Fills a log of n impressions for target t; returns the truth. */
static double env_log(ltrr_ope_rewards_t *rw, const ltrr_ope_target_t *t,
                      size_t n, uint64_t seed)
{
        ltrr_arm_reward_t arms[N_ARM];
        ltrr_reward_t rew;
        ltrr_rng_t rng;
        double truth = 0.0;
        size_t i;

        ltrr_rng_seed(&rng, seed);
        for (i = 0; i < n; i++) {
                env_draw(&rng, arms, t, &truth);
                rew = reward_make(arms, N_ARM);
                assert_int_equal(ltrr_ope_rewards_add(rw, &rew, NULL, NULL, 0),
                                 LTRR_OK);
        }
        return truth / (double)n;
}

/* Every target on the synthetic log: the total's IPS and DR, and the sum
 * of per-arm SNIPS, land within 0.03 of the truth (about 4 standard
 * errors at n = 20000), and the DR error is within twice the half-width
 * of its 95% interval (about 4 standard errors: a check of the interval's
 * scale that does not fail one seed in twenty). */
static void check_target(const char *name)
{
        ltrr_ope_rewards_report_t rep;
        ltrr_ope_target_t t;
        ltrr_ope_conf_t conf;
        ltrr_ope_rewards_t *rw;
        double truth, snips = 0.0;
        const ltrr_ope_estimate_t *e;
        size_t a;

        assert_int_equal(ltrr_ope_target_parse(name, &t, NULL, 0), LTRR_OK);
        rw = ltrr_ope_rewards_new(20000, NULL, 0);
        truth = env_log(rw, &t, 20000, 77);
        ltrr_ope_conf_init(&conf);
        conf.bootstrap = 200;
        assert_int_equal(ltrr_ope_rewards_evaluate(rw, &t, &conf, &rep, NULL,
                                                   0),
                         LTRR_OK);
        assert_int_equal(rep.n, 20000);
        assert_int_equal(rep.n_arms, N_ARM);
        assert_int_equal(rep.gaps, 0);
        for (a = 0; a < N_ARM; a++)
                snips += rep.arm[a].est[LTRR_OPE_SNIPS].value;
        e = rep.total.est;
        print_message("%-9s truth %.4f ips %.4f snips %.4f dm %.4f dr %.4f "
                      "[%.4f, %.4f]\n", name, truth, e[LTRR_OPE_IPS].value,
                      snips, e[LTRR_OPE_DM].value, e[LTRR_OPE_DR].value,
                      e[LTRR_OPE_DR].ci_low, e[LTRR_OPE_DR].ci_high);
        assert_true(fabs(e[LTRR_OPE_IPS].value - truth) < 0.03);
        assert_true(fabs(e[LTRR_OPE_DR].value - truth) < 0.03);
        assert_true(fabs(snips - truth) < 0.03);
        assert_true(e[LTRR_OPE_DR].ci_low < e[LTRR_OPE_DR].ci_high);
        assert_true(fabs(e[LTRR_OPE_DR].value - truth) <
                    e[LTRR_OPE_DR].ci_high - e[LTRR_OPE_DR].ci_low);
        ltrr_ope_rewards_destroy(rw);
}

/* The logged target has every weight 1: IPS is the on-policy mean. */
static void test_logged_exact(void **state)
{
        ltrr_ope_rewards_report_t rep;
        ltrr_ope_target_t t;
        ltrr_ope_rewards_t *rw;
        double sum = 0.0;
        size_t a;

        ltrr_ope_target_parse("logged", &t, NULL, 0);
        rw = ltrr_ope_rewards_new(5000, NULL, 0);
        env_log(rw, &t, 5000, 5);
        assert_int_equal(ltrr_ope_rewards_evaluate(rw, &t, NULL, &rep, NULL,
                                                   0),
                         LTRR_OK);
        for (a = 0; a < N_ARM; a++) {
                assert_true(fabs(rep.arm[a].est[LTRR_OPE_IPS].value -
                                 rep.on_policy_arm[a]) < 1e-12);
                assert_true(fabs(rep.arm[a].max_weight - 1.0) < 1e-12);
                sum += rep.on_policy_arm[a];
        }
        assert_true(fabs(rep.on_policy - sum) < 1e-12);
        assert_true(fabs(rep.total.est[LTRR_OPE_IPS].value - rep.on_policy) <
                    1e-12);
        assert_true(rep.on_policy > 0.3 && rep.on_policy < 1.2);
        ltrr_ope_rewards_destroy(rw);
}

static void test_uniform_truth(void **state)
{
        check_target("uniform");
}

static void test_arm_truth(void **state)
{
        check_target("arm:popular");
        check_target("logged");
}

/* An always-on arm (p = 1) under a target that may drop it is a support
 * gap; a target that never runs an always-on arm values it at 0. */
static void test_gaps(void **state)
{
        ltrr_arm_reward_t arms[2] = {{"lexical", true, 10, 1.0, 0.5},
                                     {"fuzzy", true, 10, 0.5, 1.0}};
        ltrr_ope_rewards_report_t rep;
        ltrr_ope_target_t t;
        ltrr_ope_rewards_t *rw = ltrr_ope_rewards_new(10, NULL, 0);
        ltrr_reward_t rew = reward_make(arms, 2);
        int i;

        for (i = 0; i < 4; i++)
                assert_int_equal(ltrr_ope_rewards_add(rw, &rew, NULL, NULL, 0),
                                 LTRR_OK);
        ltrr_ope_target_parse("uniform", &t, NULL, 0);
        assert_int_equal(ltrr_ope_rewards_evaluate(rw, &t, NULL, &rep, NULL,
                                                   0),
                         LTRR_OK);
        assert_int_equal(rep.gaps, 4); /* lexical: p 1, pi 0.75 */
        ltrr_ope_target_parse("arm:fuzzy", &t, NULL, 0);
        assert_int_equal(ltrr_ope_rewards_evaluate(rw, &t, NULL, &rep, NULL,
                                                   0),
                         LTRR_OK);
        assert_true(rep.arm[0].est[LTRR_OPE_IPS].value == 0.0);
        assert_true(fabs(rep.arm[1].est[LTRR_OPE_IPS].value - 2.0) < 1e-12);
        ltrr_ope_rewards_destroy(rw);
}

/* Appends one framed record (4-byte big-endian length + record). */
static size_t frame_put(uint8_t *buf, size_t off, const ltrr_reward_t *rew)
{
        size_t len = 0;

        assert_int_equal(ltrr_avro_encode_reward(rew, buf + off + 4, 4096,
                                                 &len, NULL, 0),
                         LTRR_OK);
        buf[off] = (uint8_t)(len >> 24);
        buf[off + 1] = (uint8_t)(len >> 16);
        buf[off + 2] = (uint8_t)(len >> 8);
        buf[off + 3] = (uint8_t)len;
        return off + 4 + len;
}

static void test_read_frames(void **state)
{
        ltrr_arm_reward_t arms[2] = {{"lexical", true, 10, 0.9, 1.0},
                                     {"fresh", false, 0, 0.2, 0.0}};
        static uint8_t buf[5 * 4200];
        ltrr_ope_rewards_stats_t st;
        ltrr_avro_decoder_t *dec;
        ltrr_ope_rewards_t *rw;
        ltrr_reward_t rew = reward_make(arms, 2);
        char errstr[256];
        size_t off = 0, bad_at;

        dec = ltrr_avro_decoder_new(NULL, errstr, sizeof(errstr));
        if (!dec)
                fail_msg("decoder: %s", errstr);
        rw = ltrr_ope_rewards_new(100, NULL, 0);
        off = frame_put(buf, off, &rew);
        rew.apply_bandit = false;
        off = frame_put(buf, off, &rew);
        rew.apply_bandit = true;
        bad_at = off;
        off = frame_put(buf, off, &rew);
        buf[bad_at + 4] = 0x00; /* breaks the magic of record 3 */
        off = frame_put(buf, off, &rew);
        assert_int_equal(ltrr_ope_rewards_read(rw, dec, buf, off, 0, &st,
                                               errstr, sizeof(errstr)),
                         LTRR_ERR_PARSE);
        assert_int_equal(st.bad, 1);
        ltrr_ope_rewards_destroy(rw);
        rw = ltrr_ope_rewards_new(100, NULL, 0);
        assert_int_equal(ltrr_ope_rewards_read(rw, dec, buf, off, 1, &st,
                                               NULL, 0),
                         LTRR_OK);
        assert_int_equal(st.records, 4);
        assert_int_equal(st.used, 2);
        assert_int_equal(st.skipped, 1);
        assert_int_equal(st.bad, 1);
        assert_int_equal(ltrr_ope_rewards_count(rw), 2);
        assert_string_equal(ltrr_ope_rewards_arm_name(rw, 1), "fresh");
        assert_int_equal(ltrr_ope_rewards_read(rw, dec, buf, off - 3, 1, NULL,
                                               errstr, sizeof(errstr)),
                         LTRR_ERR_TRUNCATED);
        assert_int_equal(ltrr_ope_rewards_read(rw, dec, buf, 2, 1, NULL, NULL,
                                               0),
                         LTRR_ERR_TRUNCATED);
        buf[0] = 0xff; /* a frame of 4 GB */
        assert_int_equal(ltrr_ope_rewards_read(rw, dec, buf, off, 1, NULL,
                                               NULL, 0),
                         LTRR_ERR_RANGE);
        ltrr_ope_rewards_destroy(rw);
        ltrr_avro_decoder_destroy(dec);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_target_parse),
                cmocka_unit_test(test_add_errors),
                cmocka_unit_test(test_logged_exact),
                cmocka_unit_test(test_uniform_truth),
                cmocka_unit_test(test_arm_truth),
                cmocka_unit_test(test_gaps),
                cmocka_unit_test(test_read_frames),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
