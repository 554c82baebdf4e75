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
#include "feature.h"

/** Longest entity id planned; longer ones are skipped. */
#define PLAN_ENTITY_MAX 256
/** Key buffer: escaped query or user plus prefixes. */
#define PLAN_KEY_MAX 1024
/** Most records one invocation carries; a group past it is split. */
#define PLAN_CALL_RECORDS_MAX 1024
/** Most distinct bitmap segments one invocation carries. */
#define PLAN_CALL_BITMAPS_MAX 64
/** Most strings one invocation carries (hiredis argv, Lua ARGV). */
#define PLAN_CALL_ARGS_MAX 32768
/** Strings at the head of an invocation's ARGV: kind, bitmaps, TTL,
 * fixed count. */
#define PLAN_ARGS_HEAD 4
/** Most strings the plan holds (bounds a batch's memory). */
#define PLAN_STRS_MAX (64u * 1024 * 1024)

/* A string in the arena: offset and length (the arena may move). */
typedef struct plan_str_s {
        size_t off; /* into arena */
        size_t len; /* bytes, without the NUL */
} plan_str_t;

/*
 * One part of one reward, waiting to be grouped: its strings are
 * strs[a0 ..], laid out as targets, fixed arguments (the same for every
 * part of its group), bitmap key, bit, then the record's values.
 */
typedef struct plan_part_s {
        const char *kind; /* LTRR_LEARN_KIND_*, static */
        size_t seq;       /* order of addition */
        size_t a0;        /* first string */
        unsigned ntarget; /* target keys */
        unsigned nfixed;  /* fixed arguments */
        unsigned nval;    /* record values */
} plan_part_t;

struct ltrr_learn_plan_s {
        ltrr_learn_conf_t conf;       /* copied settings */
        ltrr_bstats_t *layout;        /* field layout of the space */
        ltrr_bstats_delta_t *deltas;  /* scratch: one arm's deltas */
        size_t delta_cap;             /* entries in deltas */
        char *arena;                  /* every string, NUL-terminated */
        size_t arena_len, arena_cap;  /* used, allocated */
        plan_str_t *strs;             /* string table */
        size_t nstr, str_cap;         /* used, allocated */
        plan_part_t *parts;           /* parts not yet in a call */
        size_t nparts, part_cap;      /* used, allocated */
        size_t seq;                   /* next sequence number */
        ltrr_learn_call_t *calls;     /* cnt used, size allocated */
        size_t cnt;                   /* calls in use */
        size_t size;                  /* calls allocated */
        size_t *cargs;                /* string index of each call arg */
        size_t ncargs, cargs_cap;     /* used, allocated */
        struct plan_ord_s *ord;       /* scratch: parts in group order */
        size_t ord_cap;               /* entries allocated in ord */
        char **ptrs;                  /* argv of every call, fixed up */
        size_t *lens;                 /* argvlen of every call */
        size_t ptr_cap;               /* entries allocated in both */
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

void ltrr_learn_plan_clear(ltrr_learn_plan_t *pl)
{
        if (!pl)
                return;
        pl->arena_len = 0;
        pl->nstr = 0;
        pl->nparts = 0;
        pl->cnt = 0;
        pl->ncargs = 0;
}

void ltrr_learn_plan_destroy(ltrr_learn_plan_t *pl)
{
        if (!pl)
                return;
        free(pl->arena);
        free(pl->strs);
        free(pl->parts);
        free(pl->calls);
        free(pl->cargs);
        free(pl->ord);
        free(pl->ptrs);
        free(pl->lens);
        free(pl->deltas);
        ltrr_bstats_destroy(pl->layout);
        free(pl);
}

/* Grows *@p buf (of @p elem-sized entries) to hold @p need; keeps it on
 * failure. */
static ltrr_err_t grow(void **buf, size_t *cap, size_t need, size_t elem)
{
        size_t ncap = *cap ? *cap : 256;
        void *p;

        if (need <= *cap)
                return LTRR_OK;
        while (ncap < need)
                ncap *= 2;
        p = realloc(*buf, ncap * elem);
        if (!p)
                return LTRR_ERR_NOMEM;
        *buf = p;
        *cap = ncap;
        return LTRR_OK;
}

/* Appends a formatted string to the arena and the string table. The
 * arena is reused across batches: no allocation once it is large. */
static ltrr_err_t plan_pushf(ltrr_learn_plan_t *pl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static ltrr_err_t plan_pushf(ltrr_learn_plan_t *pl, const char *fmt, ...)
{
        va_list ap;
        size_t room;
        int n;

        if (pl->nstr >= PLAN_STRS_MAX)
                return LTRR_ERR_NOSPACE;
        if (grow((void **)&pl->strs, &pl->str_cap, pl->nstr + 1,
                 sizeof(*pl->strs)) ||
            grow((void **)&pl->arena, &pl->arena_cap, pl->arena_len + 64, 1))
                return LTRR_ERR_NOMEM;
        for (;;) {
                room = pl->arena_cap - pl->arena_len;
                va_start(ap, fmt);
                n = vsnprintf(pl->arena + pl->arena_len, room, fmt, ap);
                va_end(ap);
                if (n < 0)
                        return LTRR_ERR_INVALID_ARG;
                if ((size_t)n < room)
                        break;
                if (grow((void **)&pl->arena, &pl->arena_cap,
                         pl->arena_len + (size_t)n + 1, 1))
                        return LTRR_ERR_NOMEM;
        }
        pl->strs[pl->nstr].off = pl->arena_len;
        pl->strs[pl->nstr++].len = (size_t)n;
        pl->arena_len += (size_t)n + 1;
        return LTRR_OK;
}

/* The text of string @p i (valid until the next push). */
static const char *plan_str(const ltrr_learn_plan_t *pl, size_t i)
{
        return pl->arena + pl->strs[i].off;
}

/* Starts a part: its strings are pushed next. */
static ltrr_err_t part_begin(ltrr_learn_plan_t *pl, const char *kind,
                             unsigned ntarget, unsigned nfixed)
{
        plan_part_t *pt;

        if (grow((void **)&pl->parts, &pl->part_cap, pl->nparts + 1,
                 sizeof(*pl->parts)))
                return LTRR_ERR_NOMEM;
        pt = &pl->parts[pl->nparts++];
        pt->kind = kind;
        pt->seq = pl->seq++;
        pt->a0 = pl->nstr;
        pt->ntarget = ntarget;
        pt->nfixed = nfixed;
        pt->nval = 0;
        return LTRR_OK;
}

/* Ends the open part: every string after the head is a record value.
 * Checks that the targets and the bitmap share one slot. */
static ltrr_err_t part_end(ltrr_learn_plan_t *pl)
{
        plan_part_t *pt = &pl->parts[pl->nparts - 1];
        size_t head = pt->ntarget + pt->nfixed + 2, i, bm;
        int slot;

        pt->nval = (unsigned)(pl->nstr - pt->a0 - head);
        bm = pt->a0 + pt->ntarget + pt->nfixed;
        slot = ltrr_learn_key_slot(plan_str(pl, bm), pl->strs[bm].len);
        for (i = 0; i < pt->ntarget; i++)
                if (ltrr_learn_key_slot(plan_str(pl, pt->a0 + i),
                                        pl->strs[pt->a0 + i].len) != slot)
                        return LTRR_ERR_STATE; /* a key layout bug */
        return LTRR_OK;
}

/* Drops the parts from index @p keep on (and their strings). */
static void plan_truncate(ltrr_learn_plan_t *pl, size_t keep)
{
        if (keep >= pl->nparts)
                return;
        pl->nstr = pl->parts[keep].a0;
        pl->arena_len = pl->nstr ? pl->strs[pl->nstr - 1].off +
                                       pl->strs[pl->nstr - 1].len + 1
                                 : 0;
        pl->nparts = keep;
}

#define TRY(expr)                                                              \
        do {                                                                   \
                if ((err = (expr)) != LTRR_OK)                                 \
                        goto done;                                             \
        } while (0)

/* Pushes the bitmap key of @p tag for source @p src ('i' or 'a') and the
 * bit of @p ref. */
static ltrr_err_t push_dedup(ltrr_learn_plan_t *pl, const char *tag,
                             char src, const ltrr_kafka_ref_t *ref)
{
        ltrr_err_t err;

        TRY(plan_pushf(pl, "ltrr:dedup:%s:%c:%d:%lld", tag, src,
                       (int)ref->partition,
                       (long long)(ref->offset / LTRR_LEARN_DEDUP_SEG_BITS)));
        TRY(plan_pushf(pl, "%lld", (long long)(ref->offset %
                                               LTRR_LEARN_DEDUP_SEG_BITS)));
done:
        return err;
}

/* Pushes (field, delta) pairs of every arm that ran; *pairs counts them. */
static ltrr_err_t push_arm_deltas(ltrr_learn_plan_t *pl,
                                  const ltrr_reward_t *rew, double t,
                                  size_t *arms)
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
                        TRY(plan_pushf(pl, "%s", pl->deltas[j].field));
                        TRY(plan_pushf(pl, "%.17g", pl->deltas[j].value));
                }
                (*arms)++;
        }
done:
        return err;
}

/* Index of context feature @p name in the layout, or -1. */
static int ctx_index(const char *name)
{
        const ltrr_feature_fdesc_t *rows;
        size_t n, i;

        rows = ltrr_feature_layout(&n);
        for (i = 0; i < n; i++)
                if (rows[i].group == LTRR_FEATURE_GROUP_CTX &&
                    !strcmp(rows[i].name, name))
                        return rows[i].index;
        return -1;
}

/* 1 when context feature @p name is set in @p x (dim entries). */
static int ctx_flag(const float *x, size_t dim, const char *name)
{
        int i = ctx_index(name);

        return i >= 0 && (size_t)i < dim && x[i] > 0.5f;
}

ltrr_err_t ltrr_learn_reward_bucket(const ltrr_context_t *ctx,
                                    uint32_t *bucket)
{
        static const char *const lang1[] = {"lang_1", "lang_2", "lang_3"};
        ltrr_feature_intent_t intent = LTRR_FEATURE_INTENT_AMBIGUOUS;
        const float *x = ctx->features;
        size_t dim = ctx->feature_cnt, i;
        int lg = -1, off;

        if (dim != LTRR_FEATURE_CTX_DIM || !x)
                return LTRR_ERR_UNKNOWN_KEY; /* no logged language */
        if (ctx_flag(x, dim, "lang_0"))
                lg = 0;
        for (i = 0; i < 3 && lg < 0; i++)
                if (ctx_flag(x, dim, lang1[i]))
                        lg = 1;
        if (lg < 0 && ctx_flag(x, dim, "lang_other"))
                lg = 2;
        if (lg < 0)
                return LTRR_ERR_UNKNOWN_KEY;
        /* Serving maps any intent name it does not know to ambiguous. */
        if (ctx->query_type &&
            ltrr_feature_intent_parse(ctx->query_type, &intent))
                intent = LTRR_FEATURE_INTENT_AMBIGUOUS;
        off = ctx->holiday || ctx_flag(x, dim, "weekend") ||
              ctx_flag(x, dim, "holiday");
        *bucket = ((uint32_t)intent * 3 + (uint32_t)lg) * 2 + (uint32_t)off;
        return LTRR_OK;
}

/* The bandit namespace of @p rew: "lin:f<v>", "b<bucket>", or "b0" when
 * the logged context does not tell the bucket (counted). */
static void bandit_ns(ltrr_learn_plan_t *pl, const ltrr_reward_t *rew,
                      char *ns, size_t size)
{
        const ltrr_bandit_space_t *sp = &pl->conf.space;
        uint32_t b = 0;

        if (sp->dim) {
                snprintf(ns, size, "lin:f%u", (unsigned)sp->feature_version);
                return;
        }
        if (ltrr_learn_reward_bucket(&rew->context, &b))
                pl->stats.bucket_unknown++;
        snprintf(ns, size, "b%u", (unsigned)b);
}

/* Bandit part: one record on the statistics key of the context. */
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
        bandit_ns(pl, rew, ns, sizeof(ns));
        TRY(ltrr_bstats_key(key, sizeof(key), ns, NULL, 0));
        snprintf(tag, sizeof(tag), "{%s}", ns);
        TRY(part_begin(pl, LTRR_LEARN_KIND_BANDIT, 1, 1));
        TRY(plan_pushf(pl, "%s", key));
        TRY(plan_pushf(pl, "%.17g", h));
        TRY(push_dedup(pl, tag, 'i', &rew->impression_ref));
        TRY(plan_pushf(pl, "%.17g", t));
        TRY(plan_pushf(pl, "%.17g", ltrr_profile_epoch_align(t, h)));
        TRY(push_arm_deltas(pl, rew, t, &arms));
        TRY(part_end(pl));
        if (!arms) /* nothing ran that this space knows */
                plan_truncate(pl, pl->nparts - 1);
done:
        return err;
}

/* Q2E parts: the impression count (@p engage 0) or the engaged
 * entity's observed sum (@p engage 1). */
static ltrr_err_t plan_q2e(ltrr_learn_plan_t *pl, const ltrr_reward_t *rew,
                           int engage)
{
        char tag[PLAN_KEY_MAX], zkey[PLAN_KEY_MAX], mkey[PLAN_KEY_MAX];
        ltrr_err_t err;

        if (ltrr_q2e_tag(tag, sizeof(tag), rew->query_norm, NULL, 0) ||
            ltrr_q2e_key(zkey, sizeof(zkey), rew->query_norm, 0, NULL, 0) ||
            ltrr_q2e_key(mkey, sizeof(mkey), rew->query_norm, 1, NULL, 0)) {
                pl->stats.parts_skipped++;
                return LTRR_OK;
        }
        if (!engage) {
                TRY(part_begin(pl, LTRR_LEARN_KIND_Q2E_COUNT, 2, 1));
                TRY(plan_pushf(pl, "%s", mkey));
                TRY(plan_pushf(pl, "%s", zkey));
                TRY(plan_pushf(pl, "%lld", (long long)pl->conf.q2e.ttl_s));
                TRY(push_dedup(pl, tag, 'i', &rew->impression_ref));
                return part_end(pl);
        }
        TRY(part_begin(pl, LTRR_LEARN_KIND_Q2E, 2, 2));
        TRY(plan_pushf(pl, "%s", zkey));
        TRY(plan_pushf(pl, "%s", mkey));
        TRY(plan_pushf(pl, "%lld", (long long)pl->conf.q2e.ttl_s));
        TRY(plan_pushf(pl, "%d", pl->conf.q2e.max));
        TRY(push_dedup(pl, tag, 'a', &rew->action_ref));
        TRY(plan_pushf(pl, "%s", rew->engaged_entity));
        TRY(plan_pushf(pl, "%.17g", rew->value));
        TRY(part_end(pl));
done:
        return err;
}

/* Popularity: the engaged entity's decayed count += value. */
static ltrr_err_t plan_pop(ltrr_learn_plan_t *pl, const ltrr_reward_t *rew,
                          double t)
{
        double h = pl->conf.profile.pop_half_life;
        ltrr_err_t err;

        TRY(part_begin(pl, LTRR_LEARN_KIND_POP, 2, 2));
        TRY(plan_pushf(pl, "%s", LTRR_PROFILE_POP_KEY));
        TRY(plan_pushf(pl, "%s", LTRR_PROFILE_POP_EPOCH_KEY));
        TRY(plan_pushf(pl, "%.17g", h));
        TRY(plan_pushf(pl, "%d", pl->conf.profile.pop_max));
        TRY(push_dedup(pl, "{pop}", 'a', &rew->action_ref));
        TRY(plan_pushf(pl, "%.17g", t));
        TRY(plan_pushf(pl, "%.17g", ltrr_profile_epoch_align(t, h)));
        TRY(plan_pushf(pl, "%s", rew->engaged_entity));
        TRY(plan_pushf(pl, "%.17g", rew->value));
        TRY(part_end(pl));
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
        TRY(part_begin(pl, LTRR_LEARN_KIND_PROFILE, 2, 3));
        TRY(plan_pushf(pl, "%s", rkey));
        TRY(plan_pushf(pl, "%s", akey));
        TRY(plan_pushf(pl, "%lld", (long long)pc->ttl_s));
        TRY(plan_pushf(pl, "%d", pc->recent_max));
        TRY(plan_pushf(pl, "%d", pc->affinity_max));
        TRY(push_dedup(pl, tag, 'a', &rew->action_ref));
        TRY(plan_pushf(pl, "%s", rew->engaged_entity));
        TRY(plan_pushf(pl, "%lld", (long long)t_ms));
        TRY(plan_pushf(pl, "%.17g", rew->value));
        TRY(part_end(pl));
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
        TRY(plan_q2e(pl, rew, 1));
        TRY(plan_pop(pl, rew, (double)t_ms / 1000.0));
        TRY(plan_profile(pl, rew, t_ms));
done:
        return err;
}

ltrr_err_t ltrr_learn_plan_add(ltrr_learn_plan_t *pl,
                               const ltrr_reward_t *rew, char *errstr,
                               size_t errstr_size)
{
        size_t keep = pl->nparts;
        ltrr_err_t err = LTRR_OK;

        if (pl->cnt) /* sealed: calls exist, parts were consumed */
                return ltrr_errf(LTRR_ERR_STATE, errstr, errstr_size,
                                 "plan is sealed; clear it first");
        if (rew->apply_bandit && rew->impression_ref.offset >= 0) {
                TRY(plan_bandit(pl, rew));
                TRY(plan_q2e(pl, rew, 0));
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

/* A part in grouping order: kind, group (its first target), addition. */
typedef struct plan_ord_s {
        const char *kind;  /* static kind string */
        const char *group; /* first target key, in the arena */
        size_t seq;        /* addition order */
        size_t idx;        /* index in parts */
} plan_ord_t;

static int ord_cmp(const void *a, const void *b)
{
        const plan_ord_t *x = a, *y = b;
        int c = strcmp(x->kind, y->kind);

        if (!c)
                c = strcmp(x->group, y->group);
        if (c)
                return c;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Appends string index @p s to the open call's arguments. */
static ltrr_err_t call_arg(ltrr_learn_plan_t *pl, size_t s)
{
        if (grow((void **)&pl->cargs, &pl->cargs_cap, pl->ncargs + 1,
                 sizeof(*pl->cargs)))
                return LTRR_ERR_NOMEM;
        pl->cargs[pl->ncargs++] = s;
        return LTRR_OK;
}

/* Pushes a formatted number and appends it to the open call. */
static ltrr_err_t call_arg_num(ltrr_learn_plan_t *pl, long long v)
{
        ltrr_err_t err = plan_pushf(pl, "%lld", v);

        return err ? err : call_arg(pl, pl->nstr - 1);
}

/* Opens a call of @p kind whose arguments start at the current end. */
static ltrr_err_t call_open(ltrr_learn_plan_t *pl, const char *kind,
                            size_t seq)
{
        ltrr_learn_call_t *c;

        if (pl->cnt >= LTRR_LEARN_PLAN_MAX)
                return LTRR_ERR_NOSPACE;
        if (grow((void **)&pl->calls, &pl->size, pl->cnt + 1,
                 sizeof(*pl->calls)))
                return LTRR_ERR_NOMEM;
        c = &pl->calls[pl->cnt++];
        memset(c, 0, sizeof(*c));
        c->kind = kind;
        c->seq = seq;
        c->arg0 = pl->ncargs;
        return LTRR_OK;
}

/* Index (1-based) of the bitmap string @p s among the chunk's @p m
 * bitmaps bm[], or 0. */
static size_t bitmap_find(const ltrr_learn_plan_t *pl, const size_t *bm,
                          size_t m, size_t s)
{
        size_t k;

        for (k = 0; k < m; k++)
                if (pl->strs[bm[k]].len == pl->strs[s].len &&
                    !memcmp(plan_str(pl, bm[k]), plan_str(pl, s),
                            pl->strs[s].len))
                        return k + 1;
        return 0;
}

/* Sizes the chunk of the run ord[i..j) that starts at i: how many parts
 * (*end) and which distinct bitmaps (bm, *m) one call carries. */
static void chunk_size(const ltrr_learn_plan_t *pl, const plan_ord_t *ord,
                       size_t i, size_t j, size_t *bm, size_t *m,
                       size_t *end)
{
        const plan_part_t *pt = &pl->parts[ord[i].idx];
        size_t args = PLAN_ARGS_HEAD + pt->ntarget + pt->nfixed, k, s;
        int fresh;

        *m = 0;
        for (k = i; k < j && k - i < PLAN_CALL_RECORDS_MAX; k++) {
                pt = &pl->parts[ord[k].idx];
                s = pt->a0 + pt->ntarget + pt->nfixed;
                fresh = !bitmap_find(pl, bm, *m, s);
                if (k > i && args + fresh + 3 + pt->nval > PLAN_CALL_ARGS_MAX)
                        break;
                if (fresh) {
                        if (*m == PLAN_CALL_BITMAPS_MAX)
                                break;
                        bm[(*m)++] = s;
                }
                args += fresh + 3 + pt->nval;
        }
        *end = k;
}

/* Emits one call for the parts ord[i..end) (one group) with the @p m
 * bitmaps bm[]: keys, then kind, m, TTL, fixed arguments and records. */
static ltrr_err_t emit_chunk(ltrr_learn_plan_t *pl, const plan_ord_t *ord,
                             size_t i, size_t end, const size_t *bm,
                             size_t m)
{
        const plan_part_t *p0 = &pl->parts[ord[i].idx], *pt;
        ltrr_learn_call_t *c;
        ltrr_err_t err;
        size_t k, v, s;

        TRY(call_open(pl, p0->kind, p0->seq));
        for (k = 0; k < m; k++)
                TRY(call_arg(pl, bm[k]));
        for (k = 0; k < p0->ntarget; k++)
                TRY(call_arg(pl, p0->a0 + k));
        TRY(plan_pushf(pl, "%s", p0->kind));
        TRY(call_arg(pl, pl->nstr - 1));
        TRY(call_arg_num(pl, (long long)m));
        TRY(call_arg_num(pl, (long long)pl->conf.dedup_ttl_s));
        TRY(call_arg_num(pl, (long long)p0->nfixed));
        for (k = 0; k < p0->nfixed; k++)
                TRY(call_arg(pl, p0->a0 + p0->ntarget + k));
        for (k = i; k < end; k++) {
                pt = &pl->parts[ord[k].idx];
                s = pt->a0 + pt->ntarget + pt->nfixed;
                TRY(call_arg_num(pl, (long long)bitmap_find(pl, bm, m, s)));
                TRY(call_arg(pl, s + 1));
                TRY(call_arg_num(pl, (long long)pt->nval));
                for (v = 0; v < pt->nval; v++)
                        TRY(call_arg(pl, s + 2 + v));
        }
        c = &pl->calls[pl->cnt - 1];
        c->key_cnt = m + p0->ntarget;
        c->argc = pl->ncargs - c->arg0;
        c->records = end - i;
        c->slot = ltrr_learn_key_slot(plan_str(pl, bm[0]), pl->strs[bm[0]].len);
done:
        return err;
}

/* 1 when parts @p a and @p b belong to one group (kind, first target). */
static int same_group(const ltrr_learn_plan_t *pl, size_t a, size_t b)
{
        const plan_part_t *x = &pl->parts[a], *y = &pl->parts[b];

        return !strcmp(x->kind, y->kind) && pl->strs[x->a0].len ==
                                         pl->strs[y->a0].len &&
               !strcmp(plan_str(pl, x->a0), plan_str(pl, y->a0));
}

/* Points every call's argv and argvlen into the arena. */
static ltrr_err_t plan_fixup(ltrr_learn_plan_t *pl)
{
        size_t cap = pl->ptr_cap, x;

        if (grow((void **)&pl->ptrs, &cap, pl->ncargs, sizeof(*pl->ptrs)))
                return LTRR_ERR_NOMEM;
        cap = pl->ptr_cap;
        if (grow((void **)&pl->lens, &cap, pl->ncargs, sizeof(*pl->lens)))
                return LTRR_ERR_NOMEM;
        pl->ptr_cap = cap;
        for (x = 0; x < pl->ncargs; x++) {
                pl->ptrs[x] = pl->arena + pl->strs[pl->cargs[x]].off;
                pl->lens[x] = pl->strs[pl->cargs[x]].len;
        }
        for (x = 0; x < pl->cnt; x++) {
                pl->calls[x].argv = pl->ptrs + pl->calls[x].arg0;
                pl->calls[x].argvlen = pl->lens + pl->calls[x].arg0;
        }
        return LTRR_OK;
}

/* Emits the calls of every pending part, group by group. */
static ltrr_err_t plan_emit(ltrr_learn_plan_t *pl)
{
        size_t bm[PLAN_CALL_BITMAPS_MAX], i, j, end, m, n = pl->nparts;
        size_t cap = pl->ord_cap;
        ltrr_err_t err = LTRR_OK;
        plan_ord_t *ord;

        if (grow((void **)&pl->ord, &cap, n, sizeof(*pl->ord)))
                return LTRR_ERR_NOMEM;
        pl->ord_cap = cap;
        ord = pl->ord;
        for (i = 0; i < n; i++) {
                ord[i].kind = pl->parts[i].kind;
                ord[i].group = plan_str(pl, pl->parts[i].a0);
                ord[i].seq = pl->parts[i].seq;
                ord[i].idx = i;
        }
        qsort(ord, n, sizeof(*ord), ord_cmp);
        for (i = 0; i < n; i = j) { /* ord[].group is stale from here */
                for (j = i + 1; j < n && same_group(pl, ord[i].idx,
                                                    ord[j].idx);
                     j++)
                        ;
                for (; i < j; i = end) {
                        chunk_size(pl, ord, i, j, bm, &m, &end);
                        TRY(emit_chunk(pl, ord, i, end, bm, m));
                }
        }
        pl->nparts = 0;
done:
        return err;
}

ltrr_err_t ltrr_learn_plan_seal(ltrr_learn_plan_t *pl, char *errstr,
                                size_t errstr_size)
{
        ltrr_err_t err = LTRR_OK;

        if (pl->nparts)
                err = plan_emit(pl);
        if (!err)
                err = plan_fixup(pl);
        if (err) {
                ltrr_learn_plan_clear(pl);
                ltrr_errf(err, errstr, errstr_size, "sealing the plan: %s",
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
        ltrr_learn_call_t *c;
        ltrr_err_t err;
        size_t i;

        err = ltrr_learn_offsets_key(key, sizeof(key), group, errstr,
                                     errstr_size);
        if (err)
                return err;
        if (n == 0 || n > 100000)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "offsets for 1..100000 partitions");
        if (ltrr_learn_plan_seal(pl, errstr, errstr_size))
                return LTRR_ERR_NOMEM;
        TRY(call_open(pl, LTRR_LEARN_KIND_OFFSETS, pl->seq++));
        TRY(plan_pushf(pl, "%s", key));
        TRY(call_arg(pl, pl->nstr - 1));
        TRY(plan_pushf(pl, "%s", LTRR_LEARN_KIND_OFFSETS));
        TRY(call_arg(pl, pl->nstr - 1));
        for (i = 0; i < n; i++) {
                TRY(plan_pushf(pl, "%s:%d", refs[i].topic,
                               (int)refs[i].partition));
                TRY(call_arg(pl, pl->nstr - 1));
                TRY(call_arg_num(pl, (long long)refs[i].offset));
        }
        c = &pl->calls[pl->cnt - 1];
        c->key_cnt = 1;
        c->argc = pl->ncargs - c->arg0;
        c->slot = ltrr_learn_key_slot(key, strlen(key));
        TRY(plan_fixup(pl));
done:
        if (err) {
                ltrr_learn_plan_clear(pl);
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
        size_t n = pl->cnt;

        /* A trailing offsets call stays last: it must follow the effects
         * (docs/LEARN.md, "Offsets and seeking"). */
        if (n && !strcmp(pl->calls[n - 1].kind, LTRR_LEARN_KIND_OFFSETS))
                n--;
        if (n > 1)
                qsort(pl->calls, n, sizeof(*pl->calls), call_cmp);
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
