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
#include "ranker_online.h"

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
/** Integers 0 .. PLAN_SMALL_INTS - 1 are formatted once per batch. */
#define PLAN_SMALL_INTS LTRR_LEARN_DEDUP_SEG_BITS
/** Recent non-integral numbers remembered with their string. */
#define PLAN_DBL_CACHE 8
/** Memo kinds: derived keys remembered per input (see plan_memo). */
#define PLAN_MEMO_Q2E 1
#define PLAN_MEMO_USER 2
#define PLAN_MEMO_BANDIT 3

/* A string in the arena: offset and length (the arena may move). */
typedef struct plan_str_s {
        size_t off; /* into arena */
        size_t len; /* bytes, without the NUL */
        int slot;   /* hash slot once computed, else -1 */
} plan_str_t;

/*
 * One part of one reward, waiting to be grouped: its strings are
 * refs[r0 ..] (indices into the string table, shared between parts
 * when interned), laid out as targets, fixed arguments (the same for
 * every part of its group), bitmap key, bit, then the record's values.
 */
typedef struct plan_part_s {
        const char *kind; /* LTRR_LEARN_KIND_*, static */
        size_t seq;       /* order of addition */
        size_t r0;        /* first reference */
        size_t s0;        /* strings in the table when the part began */
        unsigned ntarget; /* target keys */
        unsigned nfixed;  /* fixed arguments */
        unsigned nval;    /* record values */
} plan_part_t;

/* An interned string of the batch (valid while gen is the plan's). */
typedef struct plan_intern_s {
        uint64_t hash; /* FNV-1a of the bytes (and memo kind) */
        size_t str;    /* string index */
        uint32_t gen;  /* the plan's generation when set; 0: empty */
        int memo;      /* 0, or the PLAN_MEMO_* kind of a memo key */
} plan_intern_t;

struct ltrr_learn_plan_s {
        ltrr_learn_conf_t conf;       /* copied settings */
        ltrr_bstats_t *layout;        /* field layout of the space */
        ltrr_pbias_table_t pbias;     /* examination model of ranker
                                         examples */
        double ipw_clip;              /* largest inverse propensity */
        ltrr_bstats_delta_t *deltas;  /* scratch: one arm's deltas */
        size_t delta_cap;             /* entries in deltas */
        char *arena;                  /* every string, NUL-terminated */
        size_t arena_len, arena_cap;  /* used, allocated */
        plan_str_t *strs;             /* string table */
        size_t nstr, str_cap;         /* used, allocated */
        size_t *refs;                 /* string indices of the parts */
        size_t nrefs, ref_cap;        /* used, allocated */
        plan_intern_t *itab;          /* interned strings, open addressing */
        size_t icap, icnt;            /* slots (power of 2), live entries */
        uint32_t gen;                 /* batch generation of the caches */
        size_t ints[PLAN_SMALL_INTS]; /* string of each small integer */
        uint32_t ints_gen[PLAN_SMALL_INTS]; /* valid when == gen */
        double dbl_v[PLAN_DBL_CACHE]; /* recent non-integral numbers */
        size_t dbl_idx[PLAN_DBL_CACHE]; /* their strings */
        uint32_t dbl_gen[PLAN_DBL_CACHE]; /* valid when == gen */
        unsigned dbl_next;            /* ring position */
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

/* CRC16-CCITT (XMODEM: polynomial 0x1021, initial 0) of each byte
 * value, for the byte-at-a-time loop below. */
static const uint16_t crc16_tab[256] = {
        0x0000, 0x1021, 0x2042, 0x3063, 0x4084, 0x50a5, 0x60c6, 0x70e7,
        0x8108, 0x9129, 0xa14a, 0xb16b, 0xc18c, 0xd1ad, 0xe1ce, 0xf1ef,
        0x1231, 0x0210, 0x3273, 0x2252, 0x52b5, 0x4294, 0x72f7, 0x62d6,
        0x9339, 0x8318, 0xb37b, 0xa35a, 0xd3bd, 0xc39c, 0xf3ff, 0xe3de,
        0x2462, 0x3443, 0x0420, 0x1401, 0x64e6, 0x74c7, 0x44a4, 0x5485,
        0xa56a, 0xb54b, 0x8528, 0x9509, 0xe5ee, 0xf5cf, 0xc5ac, 0xd58d,
        0x3653, 0x2672, 0x1611, 0x0630, 0x76d7, 0x66f6, 0x5695, 0x46b4,
        0xb75b, 0xa77a, 0x9719, 0x8738, 0xf7df, 0xe7fe, 0xd79d, 0xc7bc,
        0x48c4, 0x58e5, 0x6886, 0x78a7, 0x0840, 0x1861, 0x2802, 0x3823,
        0xc9cc, 0xd9ed, 0xe98e, 0xf9af, 0x8948, 0x9969, 0xa90a, 0xb92b,
        0x5af5, 0x4ad4, 0x7ab7, 0x6a96, 0x1a71, 0x0a50, 0x3a33, 0x2a12,
        0xdbfd, 0xcbdc, 0xfbbf, 0xeb9e, 0x9b79, 0x8b58, 0xbb3b, 0xab1a,
        0x6ca6, 0x7c87, 0x4ce4, 0x5cc5, 0x2c22, 0x3c03, 0x0c60, 0x1c41,
        0xedae, 0xfd8f, 0xcdec, 0xddcd, 0xad2a, 0xbd0b, 0x8d68, 0x9d49,
        0x7e97, 0x6eb6, 0x5ed5, 0x4ef4, 0x3e13, 0x2e32, 0x1e51, 0x0e70,
        0xff9f, 0xefbe, 0xdfdd, 0xcffc, 0xbf1b, 0xaf3a, 0x9f59, 0x8f78,
        0x9188, 0x81a9, 0xb1ca, 0xa1eb, 0xd10c, 0xc12d, 0xf14e, 0xe16f,
        0x1080, 0x00a1, 0x30c2, 0x20e3, 0x5004, 0x4025, 0x7046, 0x6067,
        0x83b9, 0x9398, 0xa3fb, 0xb3da, 0xc33d, 0xd31c, 0xe37f, 0xf35e,
        0x02b1, 0x1290, 0x22f3, 0x32d2, 0x4235, 0x5214, 0x6277, 0x7256,
        0xb5ea, 0xa5cb, 0x95a8, 0x8589, 0xf56e, 0xe54f, 0xd52c, 0xc50d,
        0x34e2, 0x24c3, 0x14a0, 0x0481, 0x7466, 0x6447, 0x5424, 0x4405,
        0xa7db, 0xb7fa, 0x8799, 0x97b8, 0xe75f, 0xf77e, 0xc71d, 0xd73c,
        0x26d3, 0x36f2, 0x0691, 0x16b0, 0x6657, 0x7676, 0x4615, 0x5634,
        0xd94c, 0xc96d, 0xf90e, 0xe92f, 0x99c8, 0x89e9, 0xb98a, 0xa9ab,
        0x5844, 0x4865, 0x7806, 0x6827, 0x18c0, 0x08e1, 0x3882, 0x28a3,
        0xcb7d, 0xdb5c, 0xeb3f, 0xfb1e, 0x8bf9, 0x9bd8, 0xabbb, 0xbb9a,
        0x4a75, 0x5a54, 0x6a37, 0x7a16, 0x0af1, 0x1ad0, 0x2ab3, 0x3a92,
        0xfd2e, 0xed0f, 0xdd6c, 0xcd4d, 0xbdaa, 0xad8b, 0x9de8, 0x8dc9,
        0x7c26, 0x6c07, 0x5c64, 0x4c45, 0x3ca2, 0x2c83, 0x1ce0, 0x0cc1,
        0xef1f, 0xff3e, 0xcf5d, 0xdf7c, 0xaf9b, 0xbfba, 0x8fd9, 0x9ff8,
        0x6e17, 0x7e36, 0x4e55, 0x5e74, 0x2e93, 0x3eb2, 0x0ed1, 0x1ef0,
};

/* CRC16-CCITT (XMODEM), a byte at a time. */
static uint16_t crc16_xmodem(const unsigned char *p, size_t len)
{
        uint16_t crc = 0;
        size_t i;

        for (i = 0; i < len; i++)
                crc = (uint16_t)((crc << 8) ^
                                 crc16_tab[((crc >> 8) ^ p[i]) & 0xff]);
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

/* The ranker examples' examination model and clip (0: defaults). */
static ltrr_err_t plan_ranker_conf(ltrr_learn_plan_t *pl, char *errstr,
                                   size_t errstr_size)
{
        const ltrr_learn_conf_t *c = &pl->conf;
        ltrr_ranker_params_t rp;

        ltrr_ranker_params_default(&rp);
        pl->ipw_clip = c->ranker_ipw_clip > 0 ? c->ranker_ipw_clip
                                              : rp.ipw_clip;
        if (!(pl->ipw_clip >= 1.0 && pl->ipw_clip <= 1e6))
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "ranker ipw clip must be in [1, 1e6]");
        return ltrr_ranker_online_pbias(&pl->pbias,
                                        c->ranker_ipw_eta > 0
                                            ? c->ranker_ipw_eta
                                            : LTRR_RANKER_ONLINE_IPW_ETA,
                                        errstr, errstr_size);
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
        pl->gen = 1;
        if (plan_ranker_conf(pl, errstr, errstr_size))
                goto err;
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

/* Forgets every interned string and cached number (they may point at
 * strings about to be dropped). */
static void plan_forget(ltrr_learn_plan_t *pl)
{
        pl->icnt = 0;
        if (++pl->gen == 0) { /* wrapped: stale entries would look live */
                if (pl->itab)
                        memset(pl->itab, 0, pl->icap * sizeof(*pl->itab));
                memset(pl->ints_gen, 0, sizeof(pl->ints_gen));
                memset(pl->dbl_gen, 0, sizeof(pl->dbl_gen));
                pl->gen = 1;
        }
}

void ltrr_learn_plan_clear(ltrr_learn_plan_t *pl)
{
        if (!pl)
                return;
        pl->arena_len = 0;
        pl->nstr = 0;
        pl->nrefs = 0;
        pl->nparts = 0;
        pl->cnt = 0;
        pl->ncargs = 0;
        plan_forget(pl);
}

void ltrr_learn_plan_destroy(ltrr_learn_plan_t *pl)
{
        if (!pl)
                return;
        free(pl->arena);
        free(pl->strs);
        free(pl->refs);
        free(pl->itab);
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

/* Appends @p len bytes of @p s to the arena and the string table. The
 * arena is reused across batches: no allocation once it is large. */
static ltrr_err_t plan_push(ltrr_learn_plan_t *pl, const char *s, size_t len)
{
        plan_str_t *st;

        if (pl->nstr >= PLAN_STRS_MAX)
                return LTRR_ERR_NOSPACE;
        if (grow((void **)&pl->strs, &pl->str_cap, pl->nstr + 1,
                 sizeof(*pl->strs)) ||
            grow((void **)&pl->arena, &pl->arena_cap, pl->arena_len + len + 1,
                 1))
                return LTRR_ERR_NOMEM;
        memcpy(pl->arena + pl->arena_len, s, len);
        pl->arena[pl->arena_len + len] = '\0';
        st = &pl->strs[pl->nstr++];
        st->off = pl->arena_len;
        st->len = len;
        st->slot = -1;
        pl->arena_len += len + 1;
        return LTRR_OK;
}

/* The text of string @p i (valid until the next push). */
static const char *plan_str(const ltrr_learn_plan_t *pl, size_t i)
{
        return pl->arena + pl->strs[i].off;
}

/* The hash slot of string @p i, computed once. */
static int plan_slot(ltrr_learn_plan_t *pl, size_t i)
{
        if (pl->strs[i].slot < 0)
                pl->strs[i].slot =
                    ltrr_learn_key_slot(plan_str(pl, i), pl->strs[i].len);
        return pl->strs[i].slot;
}

/* FNV-1a of @p len bytes, seeded with @p memo. */
static uint64_t plan_hash(const char *s, size_t len, int memo)
{
        uint64_t h = 14695981039346656037ULL ^ (uint64_t)memo;
        size_t i;

        for (i = 0; i < len; i++)
                h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
        return h;
}

/* Doubles the intern table (at least 1,024 slots), keeping live entries. */
static ltrr_err_t intern_grow(ltrr_learn_plan_t *pl)
{
        size_t ncap = pl->icap ? pl->icap * 2 : 1024, i, j;
        plan_intern_t *t = calloc(ncap, sizeof(*t));

        if (!t)
                return LTRR_ERR_NOMEM;
        for (i = 0; i < pl->icap; i++) {
                if (pl->itab[i].gen != pl->gen)
                        continue;
                for (j = pl->itab[i].hash & (ncap - 1); t[j].gen;
                     j = (j + 1) & (ncap - 1))
                        ;
                t[j] = pl->itab[i];
        }
        free(pl->itab);
        pl->itab = t;
        pl->icap = ncap;
        return LTRR_OK;
}

/* The slot of (@p s, @p memo) in the intern table: its entry, or the
 * empty slot where it belongs. The table has room (see plan_intern). */
static plan_intern_t *intern_slot(const ltrr_learn_plan_t *pl, const char *s,
                                  size_t len, int memo, uint64_t h)
{
        size_t i, mask = pl->icap - 1;
        plan_intern_t *e;

        for (i = h & mask;; i = (i + 1) & mask) {
                e = &pl->itab[i];
                if (e->gen != pl->gen)
                        return e;
                if (e->hash == h && e->memo == memo &&
                    pl->strs[e->str].len == len &&
                    !memcmp(plan_str(pl, e->str), s, len))
                        return e;
        }
}

/*
 * Finds (@p s, @p memo) among the batch's interned strings; when absent
 * and @p add is set, pushes it and interns it. *idx: its string index,
 * or SIZE_MAX when absent and not added.
 */
static ltrr_err_t plan_intern(ltrr_learn_plan_t *pl, const char *s,
                              size_t len, int memo, int add, size_t *idx)
{
        uint64_t h = plan_hash(s, len, memo);
        plan_intern_t *e;
        ltrr_err_t err;

        if ((pl->icnt + 1) * 2 > pl->icap && (err = intern_grow(pl)))
                return err;
        e = intern_slot(pl, s, len, memo, h);
        if (e->gen == pl->gen) {
                *idx = e->str;
                return LTRR_OK;
        }
        *idx = SIZE_MAX;
        if (!add)
                return LTRR_OK;
        if ((err = plan_push(pl, s, len)))
                return err;
        e->hash = h;
        e->str = pl->nstr - 1;
        e->gen = pl->gen;
        e->memo = memo;
        pl->icnt++;
        *idx = e->str;
        return LTRR_OK;
}

/* Formats @p v in decimal into @p buf (room for 21 bytes); its length. */
static size_t fmt_int(char *buf, long long v)
{
        unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v
                                     : (unsigned long long)v;
        char tmp[24];
        size_t n = 0, k = 0;

        do {
                tmp[n++] = (char)('0' + (int)(u % 10));
                u /= 10;
        } while (u);
        if (v < 0)
                buf[k++] = '-';
        while (n)
                buf[k++] = tmp[--n];
        return k;
}

/* The string of integer @p v; 0 .. PLAN_SMALL_INTS - 1 once per batch. */
static ltrr_err_t plan_int(ltrr_learn_plan_t *pl, long long v, size_t *idx)
{
        int small = v >= 0 && v < PLAN_SMALL_INTS;
        char buf[24];
        ltrr_err_t err;

        if (small && pl->ints_gen[v] == pl->gen) {
                *idx = pl->ints[v];
                return LTRR_OK;
        }
        if ((err = plan_push(pl, buf, fmt_int(buf, v))))
                return err;
        *idx = pl->nstr - 1;
        if (small) {
                pl->ints[v] = *idx;
                pl->ints_gen[v] = pl->gen;
        }
        return LTRR_OK;
}

/*
 * The string of @p v as "%.17g" writes it (exact): an integral value
 * below 1e17 has the same digits as the integer; other values are
 * formatted once while they stay among the PLAN_DBL_CACHE most recent.
 */
static ltrr_err_t plan_dbl(ltrr_learn_plan_t *pl, double v, size_t *idx)
{
        char buf[40];
        ltrr_err_t err;
        unsigned k;
        int n;

        if (fabs(v) < 1e17 && v == (double)(long long)v &&
            !(v == 0 && signbit(v)))
                return plan_int(pl, (long long)v, idx);
        for (k = 0; k < PLAN_DBL_CACHE; k++)
                if (pl->dbl_gen[k] == pl->gen &&
                    !memcmp(&pl->dbl_v[k], &v, sizeof(v))) {
                        *idx = pl->dbl_idx[k];
                        return LTRR_OK;
                }
        n = snprintf(buf, sizeof(buf), "%.17g", v);
        if (n < 0 || (size_t)n >= sizeof(buf))
                return LTRR_ERR_INVALID_ARG;
        if ((err = plan_push(pl, buf, (size_t)n)))
                return err;
        *idx = pl->nstr - 1;
        k = pl->dbl_next++ % PLAN_DBL_CACHE;
        pl->dbl_v[k] = v;
        pl->dbl_idx[k] = *idx;
        pl->dbl_gen[k] = pl->gen;
        return LTRR_OK;
}

/* Appends string @p s to the open part. */
static ltrr_err_t part_ref(ltrr_learn_plan_t *pl, size_t s)
{
        if (grow((void **)&pl->refs, &pl->ref_cap, pl->nrefs + 1,
                 sizeof(*pl->refs)))
                return LTRR_ERR_NOMEM;
        pl->refs[pl->nrefs++] = s;
        return LTRR_OK;
}

/* Appends an interned copy of the C string @p s to the open part. */
static ltrr_err_t part_str(ltrr_learn_plan_t *pl, const char *s)
{
        ltrr_err_t err;
        size_t idx;

        err = plan_intern(pl, s, strlen(s), 0, 1, &idx);
        return err ? err : part_ref(pl, idx);
}

/* Appends integer @p v to the open part. */
static ltrr_err_t part_int(ltrr_learn_plan_t *pl, long long v)
{
        ltrr_err_t err;
        size_t idx;

        err = plan_int(pl, v, &idx);
        return err ? err : part_ref(pl, idx);
}

/* Appends number @p v ("%.17g") to the open part. */
static ltrr_err_t part_dbl(ltrr_learn_plan_t *pl, double v)
{
        ltrr_err_t err;
        size_t idx;

        err = plan_dbl(pl, v, &idx);
        return err ? err : part_ref(pl, idx);
}

/* The string of the open part's @p k-th reference. */
static size_t part_at(const ltrr_learn_plan_t *pl, const plan_part_t *pt,
                      size_t k)
{
        return pl->refs[pt->r0 + k];
}

/* Starts a part: its strings are referenced next. */
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
        pt->r0 = pl->nrefs;
        pt->s0 = pl->nstr;
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
        size_t head = pt->ntarget + pt->nfixed + 2, i;
        int slot;

        pt->nval = (unsigned)(pl->nrefs - pt->r0 - head);
        slot = plan_slot(pl, part_at(pl, pt, pt->ntarget + pt->nfixed));
        for (i = 0; i < pt->ntarget; i++)
                if (plan_slot(pl, part_at(pl, pt, i)) != slot)
                        return LTRR_ERR_STATE; /* a key layout bug */
        return LTRR_OK;
}

/* Drops the parts from index @p keep on, and every string pushed since
 * (interned strings among them: the caches are forgotten). */
static void plan_truncate(ltrr_learn_plan_t *pl, size_t keep)
{
        if (keep >= pl->nparts)
                return;
        pl->nstr = pl->parts[keep].s0;
        pl->arena_len = pl->nstr ? pl->strs[pl->nstr - 1].off +
                                       pl->strs[pl->nstr - 1].len + 1
                                 : 0;
        pl->nrefs = pl->parts[keep].r0;
        pl->nparts = keep;
        plan_forget(pl);
}

#define TRY(expr)                                                              \
        do {                                                                   \
                if ((err = (expr)) != LTRR_OK)                                 \
                        goto done;                                             \
        } while (0)

/* Appends the bitmap key of @p tag for source @p src ('i' or 'a') and
 * the bit of @p ref to the open part. */
static ltrr_err_t push_dedup(ltrr_learn_plan_t *pl, const char *tag,
                             char src, const ltrr_kafka_ref_t *ref)
{
        static const char pre[] = "ltrr:dedup:";
        size_t tlen = strlen(tag), n = 0, idx;
        char key[PLAN_KEY_MAX + 64];
        ltrr_err_t err;

        if (tlen > PLAN_KEY_MAX)
                return LTRR_ERR_NOSPACE;
        memcpy(key, pre, sizeof(pre) - 1);
        n = sizeof(pre) - 1;
        memcpy(key + n, tag, tlen);
        n += tlen;
        key[n++] = ':';
        key[n++] = src;
        key[n++] = ':';
        n += fmt_int(key + n, (long long)ref->partition);
        key[n++] = ':';
        n += fmt_int(key + n,
                     (long long)(ref->offset / LTRR_LEARN_DEDUP_SEG_BITS));
        TRY(plan_intern(pl, key, n, 0, 1, &idx));
        TRY(part_ref(pl, idx));
        TRY(part_int(pl, (long long)(ref->offset % LTRR_LEARN_DEDUP_SEG_BITS)));
done:
        return err;
}

/* Was @p rew's impression decided by serving's subsets policy? Its
 * rewards go to the subsets bucket (ltrr_feature_bucket_subsets()) and
 * file their arm set. */
static int subsets_reward(const ltrr_reward_t *rew)
{
        return rew->policy && !strcmp(rew->policy, "subsets");
}

/* Appends the two deltas of arm set @p set's whole reward @p r. Only
 * the subsets policy chooses whole sets, from a bounded menu; the sets
 * other policies run are not filed (their number is not bounded). */
static ltrr_err_t push_set_deltas(ltrr_learn_plan_t *pl,
                                  const ltrr_reward_t *rew, uint64_t set,
                                  double r)
{
        ltrr_bstats_delta_t d[2];
        ltrr_err_t err = LTRR_OK;
        size_t j;

        if (!set || !subsets_reward(rew))
                return LTRR_OK;
        r = r > 1.0 ? 1.0 : r < -1.0 ? -1.0 : r;
        if (ltrr_bstats_set_deltas(pl->layout, set, r, d, NULL, 0))
                return LTRR_OK;
        for (j = 0; j < 2; j++) {
                TRY(part_str(pl, d[j].field));
                TRY(part_dbl(pl, d[j].value));
        }
done:
        return err;
}

/* Appends (field, delta) pairs of every arm that ran, then those of the
 * set they form; *arms counts the arms. */
static ltrr_err_t push_arm_deltas(ltrr_learn_plan_t *pl,
                                  const ltrr_reward_t *rew, double t,
                                  size_t *arms)
{
        const ltrr_bandit_space_t *sp = &pl->conf.space;
        ltrr_bstats_obs_t obs;
        ltrr_err_t err = LTRR_OK;
        size_t i, j, nd;
        int arm, bidx, lvl[LTRR_BANDIT_MAX_ARMS];
        double total = 0.0;

        for (i = 0; i < LTRR_BANDIT_MAX_ARMS; i++)
                lvl[i] = -1;

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
                /* The statistics take [-1, 1]: a play or like worth
                 * more than a click counts as a full success, not as an
                 * out-of-range record to skip. */
                obs.reward = ar->reward > 1.0    ? 1.0
                             : ar->reward < -1.0 ? -1.0
                                                 : ar->reward;
                obs.x = sp->dim ? rew->context.features : NULL;
                obs.t = t;
                if (arm < 0 || bidx < 0 ||
                    ltrr_bstats_deltas(pl->layout, &obs, pl->deltas,
                                       pl->delta_cap, &nd, NULL, 0)) {
                        pl->stats.arms_skipped++;
                        continue;
                }
                for (j = 0; j < nd; j++) {
                        TRY(part_str(pl, pl->deltas[j].field));
                        TRY(part_dbl(pl, pl->deltas[j].value));
                }
                (*arms)++;
                lvl[arm] = bidx;
                total += obs.reward;
        }
        TRY(push_set_deltas(pl, rew, ltrr_bstats_set_id(sp, lvl), total));
done:
        return err;
}

/*
 * Memoized keys: the @p n strings derived from input @p in (memo kind
 * @p memo) were pushed right after the memo key *idx. Looks up: *idx is
 * SIZE_MAX when the input was not seen in this batch.
 */
static ltrr_err_t memo_find(ltrr_learn_plan_t *pl, int memo, const char *in,
                            size_t *idx)
{
        return plan_intern(pl, in, strlen(in), memo, 0, idx);
}

/* Records the memo key of @p in, then pushes the @p n derived strings
 * (NUL-terminated) after it; *idx: the memo key's index. */
static ltrr_err_t memo_add(ltrr_learn_plan_t *pl, int memo, const char *in,
                           const char *const *derived, size_t n, size_t *idx)
{
        ltrr_err_t err;
        size_t i;

        if ((err = plan_intern(pl, in, strlen(in), memo, 1, idx)))
                return err;
        for (i = 0; i < n; i++)
                if ((err = plan_push(pl, derived[i], strlen(derived[i]))))
                        return err;
        return LTRR_OK;
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
        *bucket = ltrr_feature_bucket_id(ltrr_feature_shape_of(x, dim),
                                         intent, lg, off);
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
        /* serving's subsets policy pools the language groups and splits
         * by query length */
        if (subsets_reward(rew))
                b = ltrr_feature_bucket_subsets(b, rew->context.features,
                                                rew->context.feature_cnt);
        snprintf(ns, size, "b%u", (unsigned)b);
}

/* The stats key and tag of namespace @p ns: *k is the key's string,
 * *k + 1 the tag's. */
static ltrr_err_t bandit_keys(ltrr_learn_plan_t *pl, const char *ns,
                              size_t *k)
{
        char key[LTRR_BSTATS_KEY_MAX], tag[48];
        const char *d[2] = {key, tag};
        ltrr_err_t err;

        if ((err = memo_find(pl, PLAN_MEMO_BANDIT, ns, k)) ||
            *k != SIZE_MAX)
                goto done;
        TRY(ltrr_bstats_key(key, sizeof(key), ns, NULL, 0));
        snprintf(tag, sizeof(tag), "{%s}", ns);
        TRY(memo_add(pl, PLAN_MEMO_BANDIT, ns, d, 2, k));
done:
        if (!err)
                (*k)++;
        return err;
}

/* Bandit part: one record on the statistics key of the context. */
static ltrr_err_t plan_bandit(ltrr_learn_plan_t *pl, const ltrr_reward_t *rew)
{
        const ltrr_bandit_space_t *sp = &pl->conf.space;
        double h = pl->conf.bandit_half_life;
        double t = (double)rew->impression_time_ms / 1000.0;
        size_t arms = 0, k;
        ltrr_err_t err;
        char ns[32];

        if (sp->dim && rew->context.feature_cnt != sp->dim) {
                pl->stats.parts_skipped++;
                return LTRR_OK;
        }
        bandit_ns(pl, rew, ns, sizeof(ns));
        TRY(bandit_keys(pl, ns, &k));
        TRY(part_begin(pl, LTRR_LEARN_KIND_BANDIT, 1, 1));
        TRY(part_ref(pl, k));
        TRY(part_dbl(pl, h));
        TRY(push_dedup(pl, plan_str(pl, k + 1), 'i', &rew->impression_ref));
        TRY(part_dbl(pl, t));
        TRY(part_dbl(pl, ltrr_profile_epoch_align(t, h)));
        TRY(push_arm_deltas(pl, rew, t, &arms));
        TRY(part_end(pl));
        if (!arms) /* nothing ran that this space knows */
                plan_truncate(pl, pl->nparts - 1);
done:
        return err;
}

/* The Q2E tag, zset key and meta key of @p query: *k is the tag's
 * string, *k + 1 and *k + 2 the keys'. *k is SIZE_MAX when the query
 * cannot be keyed. */
static ltrr_err_t q2e_keys(ltrr_learn_plan_t *pl, const char *query,
                           size_t *k)
{
        char tag[PLAN_KEY_MAX], zkey[PLAN_KEY_MAX], mkey[PLAN_KEY_MAX];
        const char *d[3] = {tag, zkey, mkey};
        ltrr_err_t err;

        if ((err = memo_find(pl, PLAN_MEMO_Q2E, query, k)) || *k != SIZE_MAX)
                goto done;
        if (ltrr_q2e_tag(tag, sizeof(tag), query, NULL, 0) ||
            ltrr_q2e_key(zkey, sizeof(zkey), query, 0, NULL, 0) ||
            ltrr_q2e_key(mkey, sizeof(mkey), query, 1, NULL, 0))
                return LTRR_OK; /* *k stays SIZE_MAX */
        err = memo_add(pl, PLAN_MEMO_Q2E, query, d, 3, k);
done:
        if (!err)
                (*k)++;
        return err;
}

/* Q2E parts: the impression count (@p engage 0) or the engaged
 * entity's observed sum (@p engage 1). */
static ltrr_err_t plan_q2e(ltrr_learn_plan_t *pl, const ltrr_reward_t *rew,
                           int engage)
{
        ltrr_err_t err;
        size_t k;

        TRY(q2e_keys(pl, rew->query_norm ? rew->query_norm : "", &k));
        if (k == SIZE_MAX) {
                pl->stats.parts_skipped++;
                return LTRR_OK;
        }
        if (!engage) {
                TRY(part_begin(pl, LTRR_LEARN_KIND_Q2E_COUNT, 2, 1));
                TRY(part_ref(pl, k + 2));
                TRY(part_ref(pl, k + 1));
                TRY(part_int(pl, (long long)pl->conf.q2e.ttl_s));
                TRY(push_dedup(pl, plan_str(pl, k), 'i',
                               &rew->impression_ref));
                return part_end(pl);
        }
        TRY(part_begin(pl, LTRR_LEARN_KIND_Q2E, 2, 2));
        TRY(part_ref(pl, k + 1));
        TRY(part_ref(pl, k + 2));
        TRY(part_int(pl, (long long)pl->conf.q2e.ttl_s));
        TRY(part_int(pl, (long long)pl->conf.q2e.max));
        TRY(push_dedup(pl, plan_str(pl, k), 'a', &rew->action_ref));
        TRY(part_str(pl, rew->engaged_entity));
        TRY(part_dbl(pl, rew->value));
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
        TRY(part_str(pl, LTRR_PROFILE_POP_KEY));
        TRY(part_str(pl, LTRR_PROFILE_POP_EPOCH_KEY));
        TRY(part_dbl(pl, h));
        TRY(part_int(pl, (long long)pl->conf.profile.pop_max));
        TRY(push_dedup(pl, "{pop}", 'a', &rew->action_ref));
        TRY(part_dbl(pl, t));
        TRY(part_dbl(pl, ltrr_profile_epoch_align(t, h)));
        TRY(part_str(pl, rew->engaged_entity));
        TRY(part_dbl(pl, rew->value));
        TRY(part_end(pl));
done:
        return err;
}

/* The profile tag, recent key and affinity key of @p user: *k is the
 * tag's string, *k + 1 and *k + 2 the keys'. SIZE_MAX when the user
 * cannot be keyed. */
static ltrr_err_t user_keys(ltrr_learn_plan_t *pl, const char *user,
                            size_t *k)
{
        char rkey[PLAN_KEY_MAX], akey[PLAN_KEY_MAX], tag[PLAN_KEY_MAX];
        const char *d[3] = {tag, rkey, akey};
        const char *open, *close;
        ltrr_err_t err;

        if ((err = memo_find(pl, PLAN_MEMO_USER, user, k)) || *k != SIZE_MAX)
                goto done;
        if (ltrr_profile_key(rkey, sizeof(rkey), user, LTRR_PROFILE_RECENT,
                             NULL, 0) ||
            ltrr_profile_key(akey, sizeof(akey), user, LTRR_PROFILE_AFFINITY,
                             NULL, 0))
                return LTRR_OK; /* *k stays SIZE_MAX */
        open = strchr(rkey, '{');
        close = strchr(open, '}');
        snprintf(tag, sizeof(tag), "%.*s", (int)(close - open + 1), open);
        err = memo_add(pl, PLAN_MEMO_USER, user, d, 3, k);
done:
        if (!err)
                (*k)++;
        return err;
}

/* Profile: recent entity (latest time) and affinity (sum of values). */
static ltrr_err_t plan_profile(ltrr_learn_plan_t *pl,
                              const ltrr_reward_t *rew, int64_t t_ms)
{
        const ltrr_profile_conf_t *pc = &pl->conf.profile;
        ltrr_err_t err;
        size_t k;

        TRY(user_keys(pl, rew->user_id ? rew->user_id : "", &k));
        if (k == SIZE_MAX) {
                pl->stats.parts_skipped++;
                return LTRR_OK;
        }
        TRY(part_begin(pl, LTRR_LEARN_KIND_PROFILE, 2, 3));
        TRY(part_ref(pl, k + 1));
        TRY(part_ref(pl, k + 2));
        TRY(part_int(pl, (long long)pc->ttl_s));
        TRY(part_int(pl, (long long)pc->recent_max));
        TRY(part_int(pl, (long long)pc->affinity_max));
        TRY(push_dedup(pl, plan_str(pl, k), 'a', &rew->action_ref));
        TRY(part_str(pl, rew->engaged_entity));
        TRY(part_int(pl, (long long)t_ms));
        TRY(part_dbl(pl, rew->value));
        TRY(part_end(pl));
done:
        return err;
}

/* Ranker: the fixed-point statistics of the reward's examples as one
 * value (ltrr_ranker_online_pack()): the
 * script reads a record with one struct.unpack instead of converting
 * 2 * NFEAT strings (docs/decisions/0034-online-ranker.md). */
static ltrr_err_t plan_ranker(ltrr_learn_plan_t *pl, const ltrr_reward_t *rew)
{
        uint8_t packed[LTRR_RANKER_ONLINE_PACKED];
        ltrr_ranker_delta_t d;
        ltrr_err_t err = LTRR_OK;

        if (!rew->ranker_example_cnt)
                return LTRR_OK;
        ltrr_ranker_online_delta(rew->ranker_examples,
                                 rew->ranker_example_cnt, &pl->pbias,
                                 pl->ipw_clip, &d);
        pl->stats.ranker_skipped += d.skipped;
        if (!d.used)
                return LTRR_OK;
        TRY(part_begin(pl, LTRR_LEARN_KIND_RANKER, 2, 0));
        TRY(part_str(pl, LTRR_RANKER_ONLINE_KEY));
        TRY(part_str(pl, LTRR_RANKER_ONLINE_COUNT_KEY));
        TRY(push_dedup(pl, "{ranker}", 'a', &rew->action_ref));
        ltrr_ranker_online_pack(&d, packed);
        TRY(plan_push(pl, (const char *)packed, sizeof(packed)));
        TRY(part_ref(pl, pl->nstr - 1));
        TRY(part_end(pl));
        pl->stats.ranker_examples += d.used;
done:
        return err;
}

/* The engagement parts: Q2E, popularity, profile, ranker. */
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
        TRY(plan_ranker(pl, rew));
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
        size_t gidx;       /* its string index */
        size_t seq;        /* addition order */
        size_t idx;        /* index in parts */
} plan_ord_t;

static int ord_cmp(const void *a, const void *b)
{
        const plan_ord_t *x = a, *y = b;
        int c = x->kind == y->kind ? 0 : strcmp(x->kind, y->kind);

        if (!c && x->gidx != y->gidx) /* interned: same index, same key */
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
        ltrr_err_t err;
        size_t idx;

        err = plan_int(pl, v, &idx);
        return err ? err : call_arg(pl, idx);
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
                if (bm[k] == s)
                        return k + 1;
        for (k = 0; k < m; k++)
                if (pl->strs[bm[k]].len == pl->strs[s].len &&
                    !memcmp(plan_str(pl, bm[k]), plan_str(pl, s),
                            pl->strs[s].len))
                        return k + 1;
        return 0;
}

/* 1 for a ranker call: its one fixed argument is the sum of its records
 * (emit_chunk()), so the script reads only duplicates' records. */
static size_t call_extra(const plan_part_t *pt)
{
        return !strcmp(pt->kind, LTRR_LEARN_KIND_RANKER);
}

/* Sizes the chunk of the run ord[i..j) that starts at i: how many parts
 * (*end) and which distinct bitmaps (bm, *m) one call carries. */
static void chunk_size(const ltrr_learn_plan_t *pl, const plan_ord_t *ord,
                       size_t i, size_t j, size_t *bm, size_t *m,
                       size_t *end)
{
        const plan_part_t *pt = &pl->parts[ord[i].idx];
        size_t args = PLAN_ARGS_HEAD + pt->ntarget + pt->nfixed +
                      call_extra(pt),
               k, s;
        int fresh;

        *m = 0;
        for (k = i; k < j && k - i < PLAN_CALL_RECORDS_MAX; k++) {
                pt = &pl->parts[ord[k].idx];
                s = part_at(pl, pt, pt->ntarget + pt->nfixed);
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

/* Appends the sum of the packed ranker values of parts ord[i..end) to
 * the open call. A call carries at most PLAN_CALL_RECORDS_MAX records of
 * at most 1e12 per value (ranker_online.h), so the sums fit. */
static ltrr_err_t call_arg_rk_sum(ltrr_learn_plan_t *pl, const plan_ord_t *ord,
                                  size_t i, size_t end)
{
        uint8_t packed[LTRR_RANKER_ONLINE_PACKED];
        ltrr_ranker_delta_t sum;
        const plan_part_t *pt;
        ltrr_err_t err;
        size_t k, s;

        memset(&sum, 0, sizeof(sum));
        for (k = i; k < end; k++) {
                pt = &pl->parts[ord[k].idx];
                s = part_at(pl, pt, pt->ntarget + pt->nfixed + 2);
                if (pt->nval != 1 || pl->strs[s].len != sizeof(packed))
                        return LTRR_ERR_STATE; /* a plan_ranker() bug */
                ltrr_ranker_online_unpack_add(
                    (const uint8_t *)plan_str(pl, s), &sum);
        }
        ltrr_ranker_online_pack(&sum, packed);
        if ((err = plan_push(pl, (const char *)packed, sizeof(packed))))
                return err;
        return call_arg(pl, pl->nstr - 1);
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
                TRY(call_arg(pl, part_at(pl, p0, k)));
        TRY(plan_intern(pl, p0->kind, strlen(p0->kind), 0, 1, &s));
        TRY(call_arg(pl, s));
        TRY(call_arg_num(pl, (long long)m));
        TRY(call_arg_num(pl, (long long)pl->conf.dedup_ttl_s));
        TRY(call_arg_num(pl, (long long)(p0->nfixed + call_extra(p0))));
        for (k = 0; k < p0->nfixed; k++)
                TRY(call_arg(pl, part_at(pl, p0, p0->ntarget + k)));
        if (call_extra(p0))
                TRY(call_arg_rk_sum(pl, ord, i, end));
        for (k = i; k < end; k++) {
                pt = &pl->parts[ord[k].idx];
                s = pt->ntarget + pt->nfixed; /* the bitmap's reference */
                TRY(call_arg_num(pl, (long long)bitmap_find(
                                         pl, bm, m, part_at(pl, pt, s))));
                TRY(call_arg(pl, part_at(pl, pt, s + 1)));
                TRY(call_arg_num(pl, (long long)pt->nval));
                for (v = 0; v < pt->nval; v++)
                        TRY(call_arg(pl, part_at(pl, pt, s + 2 + v)));
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
        size_t gx = part_at(pl, x, 0), gy = part_at(pl, y, 0);

        if (strcmp(x->kind, y->kind))
                return 0;
        return gx == gy || (pl->strs[gx].len == pl->strs[gy].len &&
                            !strcmp(plan_str(pl, gx), plan_str(pl, gy)));
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
                ord[i].gidx = part_at(pl, &pl->parts[i], 0);
                ord[i].group = plan_str(pl, ord[i].gidx);
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
        char key[PLAN_KEY_MAX], field[PLAN_KEY_MAX];
        ltrr_learn_call_t *c;
        ltrr_err_t err;
        size_t i;
        int len;

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
        TRY(plan_push(pl, key, strlen(key)));
        TRY(call_arg(pl, pl->nstr - 1));
        TRY(plan_push(pl, LTRR_LEARN_KIND_OFFSETS,
                      strlen(LTRR_LEARN_KIND_OFFSETS)));
        TRY(call_arg(pl, pl->nstr - 1));
        for (i = 0; i < n; i++) {
                len = snprintf(field, sizeof(field), "%s:%d", refs[i].topic,
                               (int)refs[i].partition);
                if (len < 0 || (size_t)len >= sizeof(field))
                        TRY(LTRR_ERR_INVALID_ARG);
                TRY(plan_push(pl, field, (size_t)len));
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
