/*
 * ltrr - logged Reward records into the off-policy evaluator: the
 * semi-bandit reduction of ope_rewards.h.
 */
#include "ope_rewards.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One arm of one impression. */
typedef struct entry_s {
        double p;      /* logged P(arm runs) */
        double r;      /* arm reward (0 when it did not run) */
        uint8_t arm;   /* index into names */
        uint8_t ran;   /* 1 if it ran */
} entry_t;

struct ltrr_ope_rewards_s {
        size_t capacity;   /* most impressions */
        size_t n;          /* impressions kept */
        size_t *start;     /* n + 1 offsets into ent */
        size_t start_cap;  /* allocated offsets */
        entry_t *ent;      /* entries of every impression */
        size_t n_ent;      /* entries used */
        size_t ent_cap;    /* entries allocated */
        size_t n_arms;     /* names used */
        char names[LTRR_OPE_REWARDS_ARMS_MAX][LTRR_OPE_REWARDS_NAME_MAX];
};

ltrr_err_t ltrr_ope_target_parse(const char *s, ltrr_ope_target_t *t,
                                 char *errstr, size_t errstr_size)
{
        size_t len;

        memset(t, 0, sizeof(*t));
        if (s && strcmp(s, "logged") == 0) {
                t->kind = LTRR_OPE_TARGET_LOGGED;
                return LTRR_OK;
        }
        if (s && strcmp(s, "uniform") == 0) {
                t->kind = LTRR_OPE_TARGET_UNIFORM;
                return LTRR_OK;
        }
        if (!s || strncmp(s, "arm:", 4) != 0)
                return ltrr_errf(LTRR_ERR_UNKNOWN_KEY, errstr, errstr_size,
                                 "target must be logged, uniform or "
                                 "arm:NAME");
        len = strlen(s + 4);
        if (len == 0 || len >= LTRR_OPE_REWARDS_NAME_MAX)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "arm name must be 1..%d bytes",
                                 LTRR_OPE_REWARDS_NAME_MAX - 1);
        t->kind = LTRR_OPE_TARGET_ARM;
        memcpy(t->arm, s + 4, len + 1);
        return LTRR_OK;
}

ltrr_ope_rewards_t *ltrr_ope_rewards_new(size_t capacity, char *errstr,
                                         size_t errstr_size)
{
        ltrr_ope_rewards_t *rw;

        if (capacity == 0 || capacity > LTRR_OPE_ROWS_MAX) {
                ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                          "capacity must be 1..%zu", LTRR_OPE_ROWS_MAX);
                return NULL;
        }
        rw = calloc(1, sizeof(*rw));
        if (rw)
                rw->start = calloc(1, sizeof(size_t));
        if (!rw || !rw->start) {
                ltrr_ope_rewards_destroy(rw);
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                          "ope rewards: out of memory");
                return NULL;
        }
        rw->start_cap = 1;
        rw->capacity = capacity;
        return rw;
}

void ltrr_ope_rewards_destroy(ltrr_ope_rewards_t *rw)
{
        if (!rw)
                return;
        free(rw->start);
        free(rw->ent);
        free(rw);
}

size_t ltrr_ope_rewards_count(const ltrr_ope_rewards_t *rw)
{
        return rw->n;
}

size_t ltrr_ope_rewards_arms(const ltrr_ope_rewards_t *rw)
{
        return rw->n_arms;
}

const char *ltrr_ope_rewards_arm_name(const ltrr_ope_rewards_t *rw, size_t i)
{
        return i < rw->n_arms ? rw->names[i] : NULL;
}

/* Index of arm @name, or -1. */
static int arm_find(const ltrr_ope_rewards_t *rw, const char *name)
{
        size_t i;

        for (i = 0; i < rw->n_arms; i++)
                if (strcmp(rw->names[i], name) == 0)
                        return (int)i;
        return -1;
}

/* Grows both arrays so one more impression of @k entries fits. */
static ltrr_err_t reserve(ltrr_ope_rewards_t *rw, size_t k, char *errstr,
                          size_t errstr_size)
{
        size_t cap;
        void *p;

        if (rw->n + 2 > rw->start_cap) {
                cap = rw->start_cap * 2 + 16;
                if (!(p = realloc(rw->start, cap * sizeof(size_t))))
                        goto nomem;
                rw->start = p;
                rw->start_cap = cap;
        }
        if (rw->n_ent + k > rw->ent_cap) {
                cap = rw->ent_cap * 2 + k + 64;
                if (!(p = realloc(rw->ent, cap * sizeof(entry_t))))
                        goto nomem;
                rw->ent = p;
                rw->ent_cap = cap;
        }
        return LTRR_OK;
nomem:
        return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                         "ope rewards: out of memory");
}

/* Checks one arm reward; returns LTRR_OK or the reason. */
static ltrr_err_t arm_check(const ltrr_arm_reward_t *ar, char *errstr,
                            size_t errstr_size)
{
        size_t len = ar->arm ? strlen(ar->arm) : 0;

        if (len == 0 || len >= LTRR_OPE_REWARDS_NAME_MAX)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "arm name empty or longer than %d bytes",
                                 LTRR_OPE_REWARDS_NAME_MAX - 1);
        if (!(ar->propensity >= 0.0 && ar->propensity <= 1.0) ||
            !isfinite(ar->reward))
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "arm %s: propensity %g or reward %g out of "
                                 "range", ar->arm, ar->propensity,
                                 ar->reward);
        if ((ar->ran && ar->propensity == 0.0) ||
            (!ar->ran && ar->propensity == 1.0))
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "arm %s %s with propensity %g", ar->arm,
                                 ar->ran ? "ran" : "did not run",
                                 ar->propensity);
        return LTRR_OK;
}

/* Maps the reward's arms to indices, registering new names, after
 * checking every arm; on error no name is registered. */
static ltrr_err_t arms_map(ltrr_ope_rewards_t *rw, const ltrr_reward_t *rew,
                           uint8_t *idx, char *errstr, size_t errstr_size)
{
        size_t i, j, fresh = 0;
        ltrr_err_t err;
        int k;

        if (rew->arm_reward_cnt > LTRR_OPE_REWARDS_ARMS_MAX)
                return ltrr_errf(LTRR_ERR_NOSPACE, errstr, errstr_size,
                                 "%zu arms, at most %d", rew->arm_reward_cnt,
                                 LTRR_OPE_REWARDS_ARMS_MAX);
        for (i = 0; i < rew->arm_reward_cnt; i++) {
                if ((err = arm_check(&rew->arm_rewards[i], errstr,
                                     errstr_size)) != LTRR_OK)
                        return err;
                for (j = 0; j < i; j++)
                        if (strcmp(rew->arm_rewards[i].arm,
                                   rew->arm_rewards[j].arm) == 0)
                                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr,
                                                 errstr_size,
                                                 "arm %s listed twice",
                                                 rew->arm_rewards[i].arm);
                fresh += arm_find(rw, rew->arm_rewards[i].arm) < 0;
        }
        if (rw->n_arms + fresh > LTRR_OPE_REWARDS_ARMS_MAX)
                return ltrr_errf(LTRR_ERR_NOSPACE, errstr, errstr_size,
                                 "more than %d distinct arms",
                                 LTRR_OPE_REWARDS_ARMS_MAX);
        for (i = 0; i < rew->arm_reward_cnt; i++) {
                if ((k = arm_find(rw, rew->arm_rewards[i].arm)) < 0) {
                        k = (int)rw->n_arms++;
                        strcpy(rw->names[k], rew->arm_rewards[i].arm);
                }
                idx[i] = (uint8_t)k;
        }
        return LTRR_OK;
}

ltrr_err_t ltrr_ope_rewards_add(ltrr_ope_rewards_t *rw,
                                const ltrr_reward_t *rew, int *used,
                                char *errstr, size_t errstr_size)
{
        uint8_t idx[LTRR_OPE_REWARDS_ARMS_MAX];
        const ltrr_arm_reward_t *ar;
        entry_t *e;
        ltrr_err_t err;
        size_t i, k = rew->arm_reward_cnt;

        if (used)
                *used = 0;
        if (!rew->apply_bandit)
                return LTRR_OK;
        if (rw->n >= rw->capacity)
                return ltrr_errf(LTRR_ERR_NOSPACE, errstr, errstr_size,
                                 "more than %zu impressions", rw->capacity);
        if ((err = reserve(rw, k, errstr, errstr_size)) != LTRR_OK ||
            (err = arms_map(rw, rew, idx, errstr, errstr_size)) != LTRR_OK)
                return err;
        for (i = 0; i < k; i++) {
                ar = &rew->arm_rewards[i];
                e = &rw->ent[rw->n_ent++];
                e->arm = idx[i];
                e->ran = ar->ran ? 1 : 0;
                e->p = ar->propensity;
                e->r = ar->ran ? ar->reward : 0.0;
        }
        rw->start[++rw->n] = rw->n_ent;
        if (used)
                *used = 1;
        return LTRR_OK;
}

/* Decodes and adds one record; returns its error. */
static ltrr_err_t read_one(ltrr_ope_rewards_t *rw, ltrr_avro_decoder_t *dec,
                           const uint8_t *buf, size_t len,
                           ltrr_ope_rewards_stats_t *st, char *errstr,
                           size_t errstr_size)
{
        ltrr_avro_record_t rec;
        ltrr_err_t err;
        int used = 0;

        err = ltrr_avro_decode(dec, buf, len, &rec, errstr, errstr_size);
        if (err != LTRR_OK)
                return err;
        if (rec.type != LTRR_AVRO_REWARD)
                return ltrr_errf(LTRR_ERR_SCHEMA, errstr, errstr_size,
                                 "record is a %s, not a Reward",
                                 ltrr_avro_type_name(rec.type));
        err = ltrr_ope_rewards_add(rw, &rec.u.rew, &used, errstr, errstr_size);
        if (err == LTRR_OK) {
                st->used += (size_t)used;
                st->skipped += (size_t)!used;
        }
        return err;
}

ltrr_err_t ltrr_ope_rewards_read(ltrr_ope_rewards_t *rw,
                                 ltrr_avro_decoder_t *dec, const uint8_t *data,
                                 size_t len, size_t max_bad,
                                 ltrr_ope_rewards_stats_t *st, char *errstr,
                                 size_t errstr_size)
{
        ltrr_ope_rewards_stats_t tmp;
        const uint8_t *rec;
        size_t off = 0, rec_len;
        ltrr_err_t err;

        if (!st)
                st = &tmp;
        memset(st, 0, sizeof(*st));
        while (off < len) {
                if ((err = ltrr_avro_frame_next(data, len, &off,
                                                LTRR_OPE_REWARDS_FRAME_MAX,
                                                &rec, &rec_len, errstr,
                                                errstr_size)))
                        return err;
                st->records++;
                err = read_one(rw, dec, rec, rec_len, st, errstr,
                               errstr_size);
                if (err == LTRR_ERR_NOMEM || err == LTRR_ERR_NOSPACE ||
                    (err != LTRR_OK && ++st->bad > max_bad))
                        return err;
        }
        return LTRR_OK;
}

/* Target probability of each arm of impression i into pi[]. */
static void target_probs(const ltrr_ope_rewards_t *rw, size_t i,
                         const ltrr_ope_target_t *t, int arm_x, double *pi)
{
        size_t k, lo = rw->start[i], hi = rw->start[i + 1];
        double sum = 0.0;

        for (k = lo; k < hi; k++)
                sum += rw->ent[k].p;
        for (k = lo; k < hi; k++) {
                if (t->kind == LTRR_OPE_TARGET_LOGGED)
                        pi[k - lo] = rw->ent[k].p;
                else if (t->kind == LTRR_OPE_TARGET_UNIFORM)
                        pi[k - lo] = sum / (double)(hi - lo);
                else
                        pi[k - lo] = rw->ent[k].arm == arm_x ? 1.0 : 0.0;
        }
}

/* The per-arm reward model q_a(run): mean reward where arm a ran, and
 * the logging policy's mean reward of each arm. */
static void reward_model(const ltrr_ope_rewards_t *rw, double *q,
                         double *on_policy)
{
        double cnt[LTRR_OPE_REWARDS_ARMS_MAX] = {0};
        size_t k, a;

        for (a = 0; a < LTRR_OPE_REWARDS_ARMS_MAX; a++)
                q[a] = on_policy[a] = 0.0;
        for (k = 0; k < rw->n_ent; k++) {
                if (!rw->ent[k].ran)
                        continue;
                q[rw->ent[k].arm] += rw->ent[k].r;
                cnt[rw->ent[k].arm] += 1.0;
        }
        for (a = 0; a < rw->n_arms; a++) {
                on_policy[a] = q[a] / (double)rw->n;
                q[a] = cnt[a] > 0.0 ? q[a] / cnt[a] : 0.0;
        }
}

/* The row of one (impression, arm) pair; an arm absent from the
 * impression cannot run under either policy: a certain "off". */
static void arm_row(const entry_t *e, double pi, double q, ltrr_ope_row_t *row)
{
        row->reward = e->ran ? e->r : 0.0;
        row->propensity = e->ran ? e->p : 1.0 - e->p;
        row->target_prob = e->ran ? pi : 1.0 - pi;
        row->q_logged = e->ran ? q : 0.0;
        row->q_target = pi * q;
}

/* Builds the rows of arm @a and of the total (in @tot, arm 0 only). */
static ltrr_err_t fill_rows(const ltrr_ope_rewards_t *rw,
                            const ltrr_ope_target_t *t, int arm_x,
                            const double *q, size_t a, ltrr_ope_t *ope,
                            ltrr_ope_t *tot, size_t *gaps, char *errstr,
                            size_t errstr_size)
{
        static const entry_t absent = {0.0, 0.0, 0, 0};
        double pi[LTRR_OPE_REWARDS_ARMS_MAX];
        ltrr_ope_row_t row, sum;
        const entry_t *e;
        ltrr_err_t err;
        size_t i, k;

        for (i = 0; i < rw->n; i++) {
                target_probs(rw, i, t, arm_x, pi);
                memset(&sum, 0, sizeof(sum));
                sum.propensity = sum.target_prob = 1.0;
                e = NULL;
                for (k = rw->start[i]; k < rw->start[i + 1]; k++) {
                        double w, pk = pi[k - rw->start[i]];
                        const entry_t *ek = &rw->ent[k];

                        arm_row(ek, pk, q[ek->arm], &row);
                        w = row.target_prob / row.propensity;
                        sum.reward += w * row.reward;
                        sum.q_logged += w * row.q_logged;
                        sum.q_target += row.q_target;
                        if (ek->arm == a) {
                                e = ek;
                                *gaps += (ek->p == 1.0 && pk < 1.0) ||
                                         (ek->p == 0.0 && pk > 0.0);
                        }
                }
                if (e)
                        arm_row(e, pi[e - &rw->ent[rw->start[i]]], q[a], &row);
                else
                        arm_row(&absent, 0.0, q[a], &row);
                if ((err = ltrr_ope_add(ope, &row, errstr, errstr_size)) ||
                    (tot && (err = ltrr_ope_add(tot, &sum, errstr,
                                                errstr_size))))
                        return err;
        }
        return LTRR_OK;
}

/* Runs the evaluator; when the target never takes a logged option (every
 * weight 0) the arm is never run by the target, so its value is 0. */
static ltrr_err_t run_eval(const ltrr_ope_t *ope, const ltrr_ope_conf_t *conf,
                           ltrr_ope_report_t *out, char *errstr,
                           size_t errstr_size)
{
        ltrr_err_t err = ltrr_ope_evaluate(ope, conf, out, errstr,
                                           errstr_size);

        if (err == LTRR_ERR_RANGE) {
                memset(out, 0, sizeof(*out));
                out->n = ltrr_ope_count(ope);
                return LTRR_OK;
        }
        return err;
}

ltrr_err_t ltrr_ope_rewards_evaluate(const ltrr_ope_rewards_t *rw,
                                     const ltrr_ope_target_t *t,
                                     const ltrr_ope_conf_t *conf,
                                     ltrr_ope_rewards_report_t *rep,
                                     char *errstr, size_t errstr_size)
{
        double q[LTRR_OPE_REWARDS_ARMS_MAX];
        ltrr_ope_t *ope = NULL, *tot = NULL;
        ltrr_err_t err = LTRR_OK;
        int arm_x = -1;
        size_t a;

        memset(rep, 0, sizeof(*rep));
        if (rw->n == 0 || rw->n_arms == 0)
                return ltrr_errf(LTRR_ERR_STATE, errstr, errstr_size,
                                 "no rewards to evaluate");
        if (t->kind == LTRR_OPE_TARGET_ARM &&
            (arm_x = arm_find(rw, t->arm)) < 0)
                return ltrr_errf(LTRR_ERR_UNKNOWN_KEY, errstr, errstr_size,
                                 "arm %s not in the log", t->arm);
        reward_model(rw, q, rep->on_policy_arm);
        rep->n = rw->n;
        rep->n_arms = rw->n_arms;
        for (a = 0; a < rw->n_arms; a++) {
                rep->on_policy += rep->on_policy_arm[a];
                ltrr_ope_destroy(ope);
                if (!(ope = ltrr_ope_new(rw->n, errstr, errstr_size)) ||
                    (a == 0 && !(tot = ltrr_ope_new(rw->n, errstr,
                                                   errstr_size)))) {
                        err = LTRR_ERR_NOMEM;
                        goto done;
                }
                if ((err = fill_rows(rw, t, arm_x, q, a, ope,
                                     a == 0 ? tot : NULL, &rep->gaps, errstr,
                                     errstr_size)) ||
                    (err = run_eval(ope, conf, &rep->arm[a], errstr,
                                    errstr_size)))
                        goto done;
        }
        err = run_eval(tot, conf, &rep->total, errstr, errstr_size);
done:
        ltrr_ope_destroy(ope);
        ltrr_ope_destroy(tot);
        return err;
}
