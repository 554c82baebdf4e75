/*
 * ltrr - the learner's plan: Reward -> script invocations (see
 * learn_plan.h).
 */
#include "learn_plan.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bstats.h"

/** Longest entity id planned; longer ones are skipped. */
#define PLAN_ENTITY_MAX 256
/** Key buffer: escaped query or user plus prefixes. */
#define PLAN_KEY_MAX 1024
/** Arguments an invocation may carry besides the bandit triples. */
#define PLAN_ARGS_FIXED 16

struct ltrr_learn_plan_s {
        ltrr_learn_conf_t conf;       /* copied settings */
        ltrr_bstats_t *layout;        /* field layout of the space */
        ltrr_bstats_delta_t *deltas;  /* scratch: one arm's deltas */
        size_t delta_cap;             /* entries in deltas */
        ltrr_learn_call_t *calls;     /* cnt used, size allocated */
        size_t cnt;                   /* calls in use */
        size_t size;                  /* calls allocated */
        size_t seq;                   /* next sequence number */
        ltrr_learn_call_t *cur;       /* call being built, or NULL */
        size_t cur_cap;               /* argv entries allocated in cur */
        ltrr_learn_plan_stats_t stats; /* counters */
};

/* CRC16-CCITT (XMODEM: polynomial 0x1021, initial 0), bit by bit. */
static uint16_t crc16_xmodem(const unsigned char *p, size_t len)
{
        uint16_t crc = 0;
        size_t i;
        int b;

        for (i = 0; i < len; i++) {
                crc ^= (uint16_t)(p[i] << 8);
                for (b = 0; b < 8; b++)
                        crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021)
                                             : (uint16_t)(crc << 1);
        }
        return crc;
}

int ltrr_learn_key_slot(const char *key, size_t len)
{
        const char *open = memchr(key, '{', len);
        const char *close;

        if (open) {
                close = memchr(open + 1, '}', len - (size_t)(open + 1 - key));
                if (close && close > open + 1)
                        return crc16_xmodem((const unsigned char *)open + 1,
                                            (size_t)(close - open - 1)) %
                               LTRR_LEARN_SLOTS;
        }
        return crc16_xmodem((const unsigned char *)key, len) %
               LTRR_LEARN_SLOTS;
}

ltrr_err_t ltrr_learn_key_escape(char *buf, size_t size, const char *in,
                                 char *errstr, size_t errstr_size)
{
        static const char hex[] = "0123456789ABCDEF";
        size_t o = 0;
        unsigned char c;

        for (; *in; in++) {
                c = (unsigned char)*in;
                if (c < 0x21 || c == 0x7f || c == '%' || c == '{' ||
                    c == '}' || c == ':') {
                        if (o + 3 >= size)
                                goto nospace;
                        buf[o++] = '%';
                        buf[o++] = hex[c >> 4];
                        buf[o++] = hex[c & 15];
                } else {
                        if (o + 1 >= size)
                                goto nospace;
                        buf[o++] = (char)c;
                }
        }
        if (size == 0)
                goto nospace;
        buf[o] = '\0';
        return LTRR_OK;
nospace:
        return ltrr_errf(LTRR_ERR_NOSPACE, errstr, errstr_size,
                         "escaped key part exceeds %zu bytes", size);
}

ltrr_err_t ltrr_learn_offsets_key(char *buf, size_t size, const char *group,
                                  char *errstr, size_t errstr_size)
{
        char esc[3 * 255 + 1];
        ltrr_err_t err;
        int n;

        if (!group || !*group || strlen(group) > 255)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "group must have 1..255 bytes");
        err = ltrr_learn_key_escape(esc, sizeof(esc), group, errstr,
                                    errstr_size);
        if (err)
                return err;
        n = snprintf(buf, size, "ltrr:learn:{off}:%s", esc);
        if (n < 0 || (size_t)n >= size)
                return ltrr_errf(LTRR_ERR_NOSPACE, errstr, errstr_size,
                                 "offsets key needs %d bytes", n + 1);
        return LTRR_OK;
}

ltrr_learn_plan_t *ltrr_learn_plan_new(const ltrr_learn_conf_t *conf,
                                       char *errstr, size_t errstr_size)
{
        ltrr_learn_plan_t *pl;

        if (!conf || conf->q2e.max < 1 || conf->q2e.ttl_s < 1 ||
            conf->profile.recent_max < 1 || conf->profile.affinity_max < 1 ||
            conf->profile.ttl_s < 1 || conf->profile.pop_max < 1 ||
            conf->dedup_ttl_s < 1 || !(conf->bandit_half_life >= 0) ||
            !(conf->profile.pop_half_life >= 0)) {
                ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                          "learn bounds must be positive");
                return NULL;
        }
        pl = calloc(1, sizeof(*pl));
        if (!pl) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "out of memory");
                return NULL;
        }
        pl->conf = *conf;
        pl->layout = ltrr_bstats_new(&conf->space, conf->bandit_half_life,
                                     0.0, errstr, errstr_size);
        if (!pl->layout)
                goto err;
        pl->delta_cap = ltrr_bstats_delta_count(pl->layout);
        pl->deltas = calloc(pl->delta_cap, sizeof(*pl->deltas));
        if (!pl->deltas) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "out of memory");
                goto err;
        }
        return pl;
err:
        ltrr_learn_plan_destroy(pl);
        return NULL;
}

/* Frees the strings of @p c. */
static void call_free(ltrr_learn_call_t *c)
{
        size_t i;

        for (i = 0; i < c->argc; i++)
                free(c->argv[i]);
        free(c->argv);
        free(c->argvlen);
        memset(c, 0, sizeof(*c));
}

/* Drops calls from index @p keep on. */
static void plan_truncate(ltrr_learn_plan_t *pl, size_t keep)
{
        while (pl->cnt > keep)
                call_free(&pl->calls[--pl->cnt]);
        pl->cur = NULL;
}

void ltrr_learn_plan_clear(ltrr_learn_plan_t *pl)
{
        if (pl)
                plan_truncate(pl, 0);
}

void ltrr_learn_plan_destroy(ltrr_learn_plan_t *pl)
{
        if (!pl)
                return;
        plan_truncate(pl, 0);
        free(pl->calls);
        free(pl->deltas);
        ltrr_bstats_destroy(pl->layout);
        free(pl);
}

/* Starts a call of @p kind with room for @p argc_hint strings. */
static ltrr_err_t call_begin(ltrr_learn_plan_t *pl, const char *kind,
                             size_t argc_hint)
{
        ltrr_learn_call_t *c;
        size_t nsize;

        if (pl->cnt >= LTRR_LEARN_PLAN_MAX)
                return LTRR_ERR_NOSPACE;
        if (pl->cnt == pl->size) {
                nsize = pl->size ? pl->size * 2 : 64;
                c = realloc(pl->calls, nsize * sizeof(*c));
                if (!c)
                        return LTRR_ERR_NOMEM;
                pl->calls = c;
                pl->size = nsize;
        }
        c = &pl->calls[pl->cnt++];
        memset(c, 0, sizeof(*c));
        c->kind = kind;
        c->seq = pl->seq++;
        c->argv = calloc(argc_hint, sizeof(*c->argv));
        c->argvlen = calloc(argc_hint, sizeof(*c->argvlen));
        pl->cur = c;
        pl->cur_cap = argc_hint;
        if (!c->argv || !c->argvlen)
                return LTRR_ERR_NOMEM;
        return LTRR_OK;
}

/* Appends a formatted string to the call being built. */
static ltrr_err_t call_pushf(ltrr_learn_plan_t *pl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static ltrr_err_t call_pushf(ltrr_learn_plan_t *pl, const char *fmt, ...)
{
        ltrr_learn_call_t *c = pl->cur;
        va_list ap;
        char *s = NULL;
        int n;

        if (c->argc >= pl->cur_cap)
                return LTRR_ERR_NOSPACE;
        va_start(ap, fmt);
        n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0)
                return LTRR_ERR_NOMEM;
        c->argv[c->argc] = s;
        c->argvlen[c->argc++] = (size_t)n;
        return LTRR_OK;
}

/* Ends the call: the first @p key_cnt strings are keys of one slot. */
static ltrr_err_t call_end(ltrr_learn_plan_t *pl, size_t key_cnt)
{
        ltrr_learn_call_t *c = pl->cur;
        size_t i;

        c->key_cnt = key_cnt;
        c->slot = ltrr_learn_key_slot(c->argv[0], c->argvlen[0]);
        for (i = 1; i < key_cnt; i++)
                if (ltrr_learn_key_slot(c->argv[i], c->argvlen[i]) != c->slot)
                        return LTRR_ERR_STATE; /* a key layout bug */
        pl->cur = NULL;
        return LTRR_OK;
}

#define TRY(expr)                                                              \
        do {                                                                   \
                if ((err = (expr)) != LTRR_OK)                                 \
                        goto done;                                             \
        } while (0)

/* Pushes the bitmap key of @p tag for source @p src ('i' or 'a') and the
 * kind, bit and TTL arguments are pushed by call_head() later. */
static ltrr_err_t push_dedup_key(ltrr_learn_plan_t *pl, const char *tag,
                                 char src, const ltrr_kafka_ref_t *ref)
{
        return call_pushf(pl, "ltrr:dedup:%s:%c:%d:%lld", tag, src,
                          (int)ref->partition,
                          (long long)(ref->offset /
                                      LTRR_LEARN_DEDUP_SEG_BITS));
}

/* Pushes ARGV[1..3]: kind, bit of @p ref, bitmap TTL. */
static ltrr_err_t push_head(ltrr_learn_plan_t *pl, const char *kind,
                            const ltrr_kafka_ref_t *ref)
{
        ltrr_err_t err;

        TRY(call_pushf(pl, "%s", kind));
        TRY(call_pushf(pl, "%lld", (long long)(ref->offset %
                                              LTRR_LEARN_DEDUP_SEG_BITS)));
        TRY(call_pushf(pl, "%lld", (long long)pl->conf.dedup_ttl_s));
done:
        return err;
}

/* Collects the deltas of every arm that ran into the open call. */
static ltrr_err_t push_arm_deltas(ltrr_learn_plan_t *pl,
                                  const ltrr_reward_t *rew, double t,
                                  size_t *pushed)
{
        const ltrr_bandit_space_t *sp = &pl->conf.space;
        ltrr_bstats_obs_t obs;
        ltrr_err_t err = LTRR_OK;
        size_t i, j, nd;
        int arm, bidx;

        for (i = 0; i < rew->arm_reward_cnt; i++) {
                const ltrr_arm_reward_t *ar = &rew->arm_rewards[i];

                if (!ar->ran)
                        continue;
                arm = ltrr_bandit_space_arm(sp, ar->arm);
                bidx = ar->budget > 0 ? ltrr_bandit_space_budget(
                                            sp, (unsigned)ar->budget)
                                      : -1;
                obs.arm = (size_t)arm;
                obs.budget_idx = (size_t)bidx;
                obs.reward = ar->reward;
                obs.x = sp->dim ? rew->context.features : NULL;
                obs.t = t;
                if (arm < 0 || bidx < 0 ||
                    ltrr_bstats_deltas(pl->layout, &obs, pl->deltas,
                                       pl->delta_cap, &nd, NULL, 0)) {
                        pl->stats.arms_skipped++;
                        continue;
                }
                for (j = 0; j < nd; j++) {
                        TRY(call_pushf(pl, "%s", pl->deltas[j].field));
                        TRY(call_pushf(pl, "%.17g", pl->deltas[j].value));
                        TRY(call_pushf(pl, "%d", pl->deltas[j].decays));
                }
                (*pushed)++;
        }
done:
        return err;
}

/* Bandit part: one invocation on the statistics key of the context. */
static ltrr_err_t plan_bandit(ltrr_learn_plan_t *pl, const ltrr_reward_t *rew)
{
        const ltrr_bandit_space_t *sp = &pl->conf.space;
        double h = pl->conf.bandit_half_life;
        double t = (double)rew->impression_time_ms / 1000.0;
        char ns[32], key[LTRR_BSTATS_KEY_MAX], tag[48];
        size_t arms = 0;
        ltrr_err_t err;

        if (sp->dim && rew->context.feature_cnt != sp->dim) {
                pl->stats.parts_skipped++;
                return LTRR_OK;
        }
        if (sp->dim)
                snprintf(ns, sizeof(ns), "lin:f%u",
                         (unsigned)sp->feature_version);
        else
                snprintf(ns, sizeof(ns), "b0");
        TRY(ltrr_bstats_key(key, sizeof(key), ns, NULL, 0));
        snprintf(tag, sizeof(tag), "{%s}", ns);
        TRY(call_begin(pl, LTRR_LEARN_KIND_BANDIT,
                       PLAN_ARGS_FIXED + 3 * pl->delta_cap *
                                             rew->arm_reward_cnt));
        TRY(push_dedup_key(pl, tag, 'i', &rew->impression_ref));
        TRY(call_pushf(pl, "%s", key));
        TRY(push_head(pl, LTRR_LEARN_KIND_BANDIT, &rew->impression_ref));
        TRY(call_pushf(pl, "%.17g", h));
        TRY(call_pushf(pl, "%.17g", t));
        TRY(call_pushf(pl, "%.17g", ltrr_profile_epoch_align(t, h)));
        TRY(push_arm_deltas(pl, rew, t, &arms));
        TRY(call_end(pl, 2));
        if (!arms) /* nothing ran that this space knows */
                plan_truncate(pl, pl->cnt - 1);
done:
        return err;
}

/* Q2E impression count: n += 1 for the reward's query. */
static ltrr_err_t plan_q2e_count(ltrr_learn_plan_t *pl,
                                 const ltrr_reward_t *rew)
{
        char tag[PLAN_KEY_MAX], zkey[PLAN_KEY_MAX], mkey[PLAN_KEY_MAX];
        ltrr_err_t err;

        if (ltrr_q2e_tag(tag, sizeof(tag), rew->query_norm, NULL, 0) ||
            ltrr_q2e_key(zkey, sizeof(zkey), rew->query_norm, 0, NULL, 0) ||
            ltrr_q2e_key(mkey, sizeof(mkey), rew->query_norm, 1, NULL, 0)) {
                pl->stats.parts_skipped++;
                return LTRR_OK;
        }
        TRY(call_begin(pl, LTRR_LEARN_KIND_Q2E_COUNT, PLAN_ARGS_FIXED));
        TRY(push_dedup_key(pl, tag, 'i', &rew->impression_ref));
        TRY(call_pushf(pl, "%s", mkey));
        TRY(call_pushf(pl, "%s", zkey));
        TRY(push_head(pl, LTRR_LEARN_KIND_Q2E_COUNT, &rew->impression_ref));
        TRY(call_pushf(pl, "%lld", (long long)pl->conf.q2e.ttl_s));
        TRY(call_end(pl, 3));
done:
        return err;
}

/* Q2E engagement: the engaged entity's observed sum += value. */
static ltrr_err_t plan_q2e(ltrr_learn_plan_t *pl, const ltrr_reward_t *rew)
{
        char tag[PLAN_KEY_MAX], zkey[PLAN_KEY_MAX], mkey[PLAN_KEY_MAX];
        ltrr_err_t err;

        if (ltrr_q2e_tag(tag, sizeof(tag), rew->query_norm, NULL, 0) ||
            ltrr_q2e_key(zkey, sizeof(zkey), rew->query_norm, 0, NULL, 0) ||
            ltrr_q2e_key(mkey, sizeof(mkey), rew->query_norm, 1, NULL, 0)) {
                pl->stats.parts_skipped++;
                return LTRR_OK;
        }
        TRY(call_begin(pl, LTRR_LEARN_KIND_Q2E, PLAN_ARGS_FIXED));
        TRY(push_dedup_key(pl, tag, 'a', &rew->action_ref));
        TRY(call_pushf(pl, "%s", zkey));
        TRY(call_pushf(pl, "%s", mkey));
        TRY(push_head(pl, LTRR_LEARN_KIND_Q2E, &rew->action_ref));
        TRY(call_pushf(pl, "%lld", (long long)pl->conf.q2e.ttl_s));
        TRY(call_pushf(pl, "%d", pl->conf.q2e.max));
        TRY(call_pushf(pl, "%s", rew->engaged_entity));
        TRY(call_pushf(pl, "%.17g", rew->value));
        TRY(call_end(pl, 3));
done:
        return err;
}

/* Popularity: the engaged entity's decayed count += value. */
static ltrr_err_t plan_pop(ltrr_learn_plan_t *pl, const ltrr_reward_t *rew,
                          double t)
{
        double h = pl->conf.profile.pop_half_life;
        ltrr_err_t err;

        TRY(call_begin(pl, LTRR_LEARN_KIND_POP, PLAN_ARGS_FIXED));
        TRY(push_dedup_key(pl, "{pop}", 'a', &rew->action_ref));
        TRY(call_pushf(pl, "%s", LTRR_PROFILE_POP_KEY));
        TRY(call_pushf(pl, "%s", LTRR_PROFILE_POP_EPOCH_KEY));
        TRY(push_head(pl, LTRR_LEARN_KIND_POP, &rew->action_ref));
        TRY(call_pushf(pl, "%.17g", h));
        TRY(call_pushf(pl, "%.17g", t));
        TRY(call_pushf(pl, "%.17g", ltrr_profile_epoch_align(t, h)));
        TRY(call_pushf(pl, "%d", pl->conf.profile.pop_max));
        TRY(call_pushf(pl, "%s", rew->engaged_entity));
        TRY(call_pushf(pl, "%.17g", rew->value));
        TRY(call_end(pl, 3));
done:
        return err;
}

/* Profile: recent entity (latest time) and affinity (sum of values). */
static ltrr_err_t plan_profile(ltrr_learn_plan_t *pl,
                              const ltrr_reward_t *rew, int64_t t_ms)
{
        char rkey[PLAN_KEY_MAX], akey[PLAN_KEY_MAX], tag[PLAN_KEY_MAX];
        const ltrr_profile_conf_t *pc = &pl->conf.profile;
        const char *open, *close;
        ltrr_err_t err;

        if (ltrr_profile_key(rkey, sizeof(rkey), rew->user_id,
                             LTRR_PROFILE_RECENT, NULL, 0) ||
            ltrr_profile_key(akey, sizeof(akey), rew->user_id,
                             LTRR_PROFILE_AFFINITY, NULL, 0)) {
                pl->stats.parts_skipped++;
                return LTRR_OK;
        }
        open = strchr(rkey, '{');
        close = strchr(open, '}');
        snprintf(tag, sizeof(tag), "%.*s", (int)(close - open + 1), open);
        TRY(call_begin(pl, LTRR_LEARN_KIND_PROFILE, PLAN_ARGS_FIXED));
        TRY(push_dedup_key(pl, tag, 'a', &rew->action_ref));
        TRY(call_pushf(pl, "%s", rkey));
        TRY(call_pushf(pl, "%s", akey));
        TRY(push_head(pl, LTRR_LEARN_KIND_PROFILE, &rew->action_ref));
        TRY(call_pushf(pl, "%lld", (long long)pc->ttl_s));
        TRY(call_pushf(pl, "%d", pc->recent_max));
        TRY(call_pushf(pl, "%d", pc->affinity_max));
        TRY(call_pushf(pl, "%s", rew->engaged_entity));
        TRY(call_pushf(pl, "%lld", (long long)t_ms));
        TRY(call_pushf(pl, "%.17g", rew->value));
        TRY(call_end(pl, 3));
done:
        return err;
}

/* The engagement parts: Q2E, popularity, profile. */
static ltrr_err_t plan_engagement(ltrr_learn_plan_t *pl,
                                  const ltrr_reward_t *rew)
{
        int64_t t_ms = rew->has_action_time_ms ? rew->action_time_ms
                                               : rew->event_time_ms;
        ltrr_err_t err;
        size_t len;

        len = rew->engaged_entity ? strlen(rew->engaged_entity) : 0;
        if (!rew->has_action_ref || rew->action_ref.offset < 0 || len == 0 ||
            len > PLAN_ENTITY_MAX || !isfinite(rew->value)) {
                pl->stats.parts_skipped++;
                return LTRR_OK;
        }
        TRY(plan_q2e(pl, rew));
        TRY(plan_pop(pl, rew, (double)t_ms / 1000.0));
        TRY(plan_profile(pl, rew, t_ms));
done:
        return err;
}

ltrr_err_t ltrr_learn_plan_add(ltrr_learn_plan_t *pl,
                               const ltrr_reward_t *rew, char *errstr,
                               size_t errstr_size)
{
        size_t keep = pl->cnt;
        ltrr_err_t err = LTRR_OK;

        if (rew->apply_bandit && rew->impression_ref.offset >= 0) {
                TRY(plan_bandit(pl, rew));
                TRY(plan_q2e_count(pl, rew));
        }
        if (rew->apply_engagement)
                TRY(plan_engagement(pl, rew));
        pl->stats.rewards++;
done:
        if (err) {
                plan_truncate(pl, keep);
                ltrr_errf(err, errstr, errstr_size, "planning a reward: %s",
                          ltrr_err2str(err));
        }
        return err;
}

ltrr_err_t ltrr_learn_plan_add_offsets(ltrr_learn_plan_t *pl,
                                       const char *group,
                                       const ltrr_kafka_ref_t *refs,
                                       size_t n, char *errstr,
                                       size_t errstr_size)
{
        char key[PLAN_KEY_MAX];
        size_t keep = pl->cnt, i;
        ltrr_err_t err;

        err = ltrr_learn_offsets_key(key, sizeof(key), group, errstr,
                                     errstr_size);
        if (err)
                return err;
        if (n == 0 || n > 100000)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "offsets for 1..100000 partitions");
        TRY(call_begin(pl, LTRR_LEARN_KIND_OFFSETS, 2 + 2 * n));
        TRY(call_pushf(pl, "%s", key));
        TRY(call_pushf(pl, "%s", LTRR_LEARN_KIND_OFFSETS));
        for (i = 0; i < n; i++) {
                TRY(call_pushf(pl, "%s:%d", refs[i].topic,
                               (int)refs[i].partition));
                TRY(call_pushf(pl, "%lld", (long long)refs[i].offset));
        }
        TRY(call_end(pl, 1));
done:
        if (err) {
                plan_truncate(pl, keep);
                ltrr_errf(err, errstr, errstr_size, "planning offsets: %s",
                          ltrr_err2str(err));
        }
        return err;
}

/* Slot order, then order of addition. */
static int call_cmp(const void *a, const void *b)
{
        const ltrr_learn_call_t *x = a, *y = b;

        if (x->slot != y->slot)
                return x->slot < y->slot ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void ltrr_learn_plan_group(ltrr_learn_plan_t *pl)
{
        if (pl->cnt > 1)
                qsort(pl->calls, pl->cnt, sizeof(*pl->calls), call_cmp);
}

size_t ltrr_learn_plan_count(const ltrr_learn_plan_t *pl)
{
        return pl->cnt;
}

const ltrr_learn_call_t *ltrr_learn_plan_call(const ltrr_learn_plan_t *pl,
                                              size_t i)
{
        return i < pl->cnt ? &pl->calls[i] : NULL;
}

void ltrr_learn_plan_stats(const ltrr_learn_plan_t *pl,
                           ltrr_learn_plan_stats_t *st)
{
        *st = pl->stats;
}
