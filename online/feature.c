/*
 * ltrr - context and per-arm feature vectors.
 *
 * The layout table below is the single description of both vectors; the
 * code that fills them indexes by the enum next to it, and the unit test
 * pins a golden vector and the table's hash per layout version.
 */
#include "feature.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Context vector positions; each is one row of fx_layout[]. */
enum {
        FX_BIAS = 0,
        FX_LANG = 1, /* LTRR_FEATURE_LANG_SLOTS slots */
        FX_LANG_OTHER = 5,
        FX_QLEN_TOKENS = 6,
        FX_QLEN_CHARS = 7,
        FX_QLEN_SHORT = 8, /* 3 one-hot slots: 0-1, 2-3, 4+ tokens */
        FX_INTENT = 11,    /* LTRR_FEATURE_INTENT__CNT slots */
        FX_HOUR_SIN = 15,
        FX_HOUR_COS = 16,
        FX_WDAY_SIN = 17,
        FX_WDAY_COS = 18,
        FX_WEEKEND = 19,
        FX_HOLIDAY = 20,
        FX_SEGMENT = 21, /* LTRR_FEATURE_SEG__CNT slots */
        FX_HIST_QUERIES = 24,
        FX_HIST_ENGAGED = 25,
        FX_HIST_RATE = 26,
        FX_FRESH_CUE = 27,
        FX_UNKNOWN_WORD = 28
};

/* Per-arm vector positions. */
enum {
        FA_SUCCESS = 0,
        FA_SUCCESS_KNOWN = 1,
        FA_RESULTS = 2,
        FA_FILL = 3,
        FA_TOP_SCORE = 4,
        FA_SHARE_NEW = 5,
        FA_SHARE_POPULAR = 6,
        FA_SHARE_PERSONAL = 7
};

#define C LTRR_FEATURE_GROUP_CTX
#define A LTRR_FEATURE_GROUP_ARM

static const ltrr_feature_fdesc_t fx_layout[] = {
    {C, FX_BIAS, "bias", "const", "1", "always 1"},
    {C, FX_LANG + 0, "lang_0", "one-hot", "{0, 1}",
     "1 if the request language is the 1st configured one (primary)"},
    {C, FX_LANG + 1, "lang_1", "one-hot", "{0, 1}",
     "1 if it is the 2nd configured language"},
    {C, FX_LANG + 2, "lang_2", "one-hot", "{0, 1}",
     "1 if it is the 3rd configured language"},
    {C, FX_LANG + 3, "lang_3", "one-hot", "{0, 1}",
     "1 if it is the 4th configured language"},
    {C, FX_LANG_OTHER, "lang_other", "one-hot", "{0, 1}",
     "1 if the language is missing or not configured"},
    {C, FX_QLEN_TOKENS, "qlen_tokens", "scaled", "[0, 1]",
     "min(tokens, 8) / 8"},
    {C, FX_QLEN_CHARS, "qlen_chars", "log-scaled", "[0, 1]",
     "log1p(min(code points, 64)) / log1p(64)"},
    {C, FX_QLEN_SHORT + 0, "qlen_1", "one-hot", "{0, 1}",
     "1 if the query has 0 or 1 token"},
    {C, FX_QLEN_SHORT + 1, "qlen_2_3", "one-hot", "{0, 1}",
     "1 if it has 2 or 3 tokens"},
    {C, FX_QLEN_SHORT + 2, "qlen_4plus", "one-hot", "{0, 1}",
     "1 if it has 4 tokens or more"},
    {C, FX_INTENT + 0, "intent_entity", "one-hot", "{0, 1}",
     "1 if the QU intent is entity"},
    {C, FX_INTENT + 1, "intent_artist", "one-hot", "{0, 1}",
     "1 if the QU intent is artist"},
    {C, FX_INTENT + 2, "intent_topical", "one-hot", "{0, 1}",
     "1 if the QU intent is topical"},
    {C, FX_INTENT + 3, "intent_ambiguous", "one-hot", "{0, 1}",
     "1 if the QU intent is ambiguous (or unknown)"},
    {C, FX_HOUR_SIN, "hour_sin", "cyclic", "[-1, 1]",
     "sin(2 pi (hour + minute / 60) / 24), local time"},
    {C, FX_HOUR_COS, "hour_cos", "cyclic", "[-1, 1]",
     "cos(2 pi (hour + minute / 60) / 24), local time"},
    {C, FX_WDAY_SIN, "weekday_sin", "cyclic", "[-1, 1]",
     "sin(2 pi weekday / 7), Monday = 0, local date"},
    {C, FX_WDAY_COS, "weekday_cos", "cyclic", "[-1, 1]",
     "cos(2 pi weekday / 7), Monday = 0, local date"},
    {C, FX_WEEKEND, "weekend", "flag", "{0, 1}",
     "1 if the local weekday is a weekend day of the calendar"},
    {C, FX_HOLIDAY, "holiday", "flag", "{0, 1}",
     "1 if the local date is a holiday for the region"},
    {C, FX_SEGMENT + 0, "seg_new", "one-hot", "{0, 1}",
     "1 if history queries < seg_casual_min (default 5)"},
    {C, FX_SEGMENT + 1, "seg_casual", "one-hot", "{0, 1}",
     "1 if neither new nor heavy"},
    {C, FX_SEGMENT + 2, "seg_heavy", "one-hot", "{0, 1}",
     "1 if history queries >= seg_heavy_min (default 200)"},
    {C, FX_HIST_QUERIES, "hist_queries", "log-scaled", "[0, 1]",
     "log1p(min(queries, 10000)) / log1p(10000)"},
    {C, FX_HIST_ENGAGED, "hist_engaged", "log-scaled", "[0, 1]",
     "log1p(min(engagements, 10000)) / log1p(10000)"},
    {C, FX_HIST_RATE, "hist_engage_rate", "ratio", "[0, 1]",
     "min(engagements / queries, 1); 0 without queries"},
    {C, FX_FRESH_CUE, "q_fresh_cue", "flag", "{0, 1}",
     "1 if a word of the query asks for recency (new, newest, latest, "
     "recent)"},
    {C, FX_UNKNOWN_WORD, "q_unknown_word", "flag", "{0, 1}",
     "1 if a query word is not in the index's dictionary (the last word: "
     "nor the start of a term); stop words and recency words do not "
     "count; 0 without an index"},
    {A, FA_SUCCESS, "arm_success", "rate", "[0, 1]",
     "historical query-arm success rate as handed in; 0 if unknown"},
    {A, FA_SUCCESS_KNOWN, "arm_success_known", "flag", "{0, 1}",
     "1 if a success rate was handed in"},
    {A, FA_RESULTS, "arm_results", "log-scaled", "[0, 1]",
     "log1p(min(candidates, 1000)) / log1p(1000)"},
    {A, FA_FILL, "arm_fill", "ratio", "[0, 1]",
     "min(candidates / budget, 1); 0 with budget 0"},
    {A, FA_TOP_SCORE, "arm_top_score", "squashed", "[0, 1)",
     "t / (1 + t), t = max(0, largest finite score); 0 if none"},
    {A, FA_SHARE_NEW, "arm_share_new", "share", "[0, 1]",
     "share of candidates flagged new; 0 if none"},
    {A, FA_SHARE_POPULAR, "arm_share_popular", "share", "[0, 1]",
     "share of candidates flagged popular; 0 if none"},
    {A, FA_SHARE_PERSONAL, "arm_share_personal", "share", "[0, 1]",
     "share of candidates flagged personal; 0 if none"},
};

#undef C
#undef A

#define FX_LAYOUT_CNT (sizeof(fx_layout) / sizeof(fx_layout[0]))

_Static_assert(FX_LAYOUT_CNT == LTRR_FEATURE_CTX_DIM + LTRR_FEATURE_ARM_DIM,
               "one layout row per vector position");
_Static_assert(LTRR_FEATURE_CTX_DIM <= LTRR_BANDIT_MAX_DIM,
               "the context vector must fit the bandit");
_Static_assert(FX_UNKNOWN_WORD + 1 == LTRR_FEATURE_CTX_DIM,
               "context positions end at the dimension");

struct ltrr_feature_s {
        char langs[LTRR_FEATURE_LANG_SLOTS]
                  [LTRR_FEATURE_LANG_MAX + 1]; /* lower case */
        int n_langs;                           /* 1..LTRR_FEATURE_LANG_SLOTS */
        uint32_t seg_casual_min;               /* see the conf */
        uint32_t seg_heavy_min;                /* see the conf */
        int32_t utc_offset_min;                /* default offset */
        char region[LTRR_CALENDAR_REGION_MAX + 1]; /* default region */
        const ltrr_calendar_t *cal;                /* borrowed */
        uint32_t version;                          /* layout << 16 | conf tag */
};

static const char *const fx_intent_names[LTRR_FEATURE_INTENT__CNT] = {
    "entity", "artist", "topical", "ambiguous"};
static const char *const fx_segment_names[LTRR_FEATURE_SEG__CNT] = {
    "new", "casual", "heavy"};

void ltrr_feature_conf_init(ltrr_feature_conf_t *conf)
{
        memset(conf, 0, sizeof(*conf));
        conf->langs = "en,es,fr,de";
        conf->seg_casual_min = 5;
        conf->seg_heavy_min = 200;
}

static int fx_is_langch(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static char fx_lower(char c)
{
        return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Parses the comma-separated language list into fx->langs, lower-cased;
 * spaces are allowed around a code, not inside it. */
static ltrr_err_t fx_parse_langs(ltrr_feature_t *fx, const char *s,
                                 char *errstr, size_t errstr_size)
{
        size_t len = 0;
        int i, ended = 0;

        if (!s || !*s)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "features: empty language list");
        for (;; s++) {
                char c = fx_lower(*s);

                if (c == ' ') {
                        ended = len > 0;
                        continue;
                }
                if (c == ',' || c == '\0') {
                        if (len == 0)
                                goto bad;
                        fx->langs[fx->n_langs][len] = '\0';
                        for (i = 0; i < fx->n_langs; i++)
                                if (!strcmp(fx->langs[i],
                                            fx->langs[fx->n_langs]))
                                        goto bad;
                        fx->n_langs++;
                        len = 0;
                        ended = 0;
                        if (c == '\0')
                                return LTRR_OK;
                        continue;
                }
                if (ended || !fx_is_langch(c) || len == LTRR_FEATURE_LANG_MAX ||
                    fx->n_langs == LTRR_FEATURE_LANG_SLOTS)
                        goto bad;
                fx->langs[fx->n_langs][len++] = c;
        }
bad:
        return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                         "features: bad language list (1-%d distinct codes "
                         "of 1-%d [a-z0-9], comma-separated)",
                         LTRR_FEATURE_LANG_SLOTS, LTRR_FEATURE_LANG_MAX);
}

static uint32_t fx_fnv32(uint32_t h, const void *p, size_t n)
{
        const unsigned char *b = p;
        size_t i;

        for (i = 0; i < n; i++) {
                h ^= b[i];
                h *= 16777619u;
        }
        return h;
}

/* The configuration tag: what gives the positions their meaning. */
static uint32_t fx_conf_tag(const ltrr_feature_t *fx)
{
        uint32_t h = 2166136261u;
        unsigned char num[8];
        int i;

        for (i = 0; i < fx->n_langs; i++)
                h = fx_fnv32(h, fx->langs[i], strlen(fx->langs[i]) + 1);
        for (i = 0; i < 4; i++) { /* little-endian on every machine */
                num[i] = (unsigned char)(fx->seg_casual_min >> (8 * i));
                num[4 + i] = (unsigned char)(fx->seg_heavy_min >> (8 * i));
        }
        h = fx_fnv32(h, num, sizeof(num));
        return (h ^ (h >> 16)) & 0xffffu;
}

/* Checks the scalar settings of @p conf. */
static ltrr_err_t fx_check_conf(const ltrr_feature_conf_t *conf, char *errstr,
                                size_t errstr_size)
{
        if (conf->seg_casual_min == 0 ||
            conf->seg_casual_min > conf->seg_heavy_min)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "features: need 0 < seg_casual_min (%u) <= "
                                 "seg_heavy_min (%u)",
                                 conf->seg_casual_min, conf->seg_heavy_min);
        if (conf->utc_offset_min < -LTRR_CALENDAR_OFFSET_MAX ||
            conf->utc_offset_min > LTRR_CALENDAR_OFFSET_MAX)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "features: utc offset %d min outside "
                                 "+-%d",
                                 (int)conf->utc_offset_min,
                                 LTRR_CALENDAR_OFFSET_MAX);
        if (conf->region && strlen(conf->region) > LTRR_CALENDAR_REGION_MAX)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "features: region longer than %d bytes",
                                 LTRR_CALENDAR_REGION_MAX);
        return LTRR_OK;
}

ltrr_feature_t *ltrr_feature_new(const ltrr_feature_conf_t *conf, char *errstr,
                                 size_t errstr_size)
{
        ltrr_feature_t *fx = NULL;

        if (!conf) {
                ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                          "features: no configuration");
                goto err;
        }
        if (fx_check_conf(conf, errstr, errstr_size) != LTRR_OK)
                goto err;
        fx = calloc(1, sizeof(*fx));
        if (!fx) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                          "features: out of memory");
                goto err;
        }
        if (fx_parse_langs(fx, conf->langs, errstr, errstr_size) != LTRR_OK)
                goto err;
        fx->seg_casual_min = conf->seg_casual_min;
        fx->seg_heavy_min = conf->seg_heavy_min;
        fx->utc_offset_min = conf->utc_offset_min;
        if (conf->region)
                strcpy(fx->region, conf->region); /* length checked */
        fx->cal = conf->cal;
        fx->version =
            ((uint32_t)LTRR_FEATURE_LAYOUT_VERSION << 16) | fx_conf_tag(fx);
        return fx;
err:
        ltrr_feature_destroy(fx);
        return NULL;
}

void ltrr_feature_destroy(ltrr_feature_t *fx)
{
        free(fx);
}

uint32_t ltrr_feature_version(const ltrr_feature_t *fx)
{
        return fx->version;
}

/* Slot of the request language (primary subtag, case-insensitive), or -1. */
static int fx_lang_slot(const ltrr_feature_t *fx, const char *tag)
{
        int i;

        if (!tag)
                return -1;
        for (i = 0; i < fx->n_langs; i++) {
                const char *l = fx->langs[i];
                size_t k = 0;

                while (l[k] && fx_lower(tag[k]) == l[k])
                        k++;
                if (!l[k] && (tag[k] == '\0' || tag[k] == '-' || tag[k] == '_'))
                        return i;
        }
        return -1;
}

/* log1p(min(v, cap)) / log1p(cap). */
static float fx_logscale(double v, double cap)
{
        if (v > cap)
                v = cap;
        return (float)(log1p(v) / log1p(cap));
}

static ltrr_feature_segment_t fx_segment(const ltrr_feature_t *fx,
                                         uint64_t queries)
{
        if (queries < fx->seg_casual_min)
                return LTRR_FEATURE_SEG_NEW;
        if (queries >= fx->seg_heavy_min)
                return LTRR_FEATURE_SEG_HEAVY;
        return LTRR_FEATURE_SEG_CASUAL;
}

/* Query length and language positions. */
static void fx_fill_query(const ltrr_feature_t *fx, const ltrr_feature_in_t *in,
                          ltrr_feature_ctx_t *out)
{
        float *x = out->x;
        size_t t = in->n_tokens;

        out->lang_slot = fx_lang_slot(fx, in->lang);
        x[out->lang_slot >= 0 ? FX_LANG + out->lang_slot : FX_LANG_OTHER] =
            1.0f;
        x[FX_QLEN_TOKENS] = (float)(t >= LTRR_FEATURE_TOKENS_CAP
                                        ? 1.0
                                        : (double)t / LTRR_FEATURE_TOKENS_CAP);
        x[FX_QLEN_CHARS] =
            fx_logscale((double)in->n_chars, LTRR_FEATURE_CHARS_CAP);
        x[FX_QLEN_SHORT + (t <= 1 ? 0 : t <= 3 ? 1 : 2)] = 1.0f;
        x[FX_INTENT + in->intent] = 1.0f;
        x[FX_UNKNOWN_WORD] = in->n_unknown > 0;
}

/* Time, calendar and user positions. */
static void fx_fill_time_user(const ltrr_feature_t *fx,
                              const ltrr_feature_in_t *in,
                              ltrr_feature_ctx_t *out)
{
        const double two_pi = 6.283185307179586;
        const ltrr_localtime_t *lt = &out->day.lt;
        float *x = out->x;
        double h = (lt->hour + lt->minute / 60.0) / 24.0;
        double q = (double)in->hist_queries, e = (double)in->hist_engaged;

        x[FX_HOUR_SIN] = (float)sin(two_pi * h);
        x[FX_HOUR_COS] = (float)cos(two_pi * h);
        x[FX_WDAY_SIN] = (float)sin(two_pi * lt->weekday / 7.0);
        x[FX_WDAY_COS] = (float)cos(two_pi * lt->weekday / 7.0);
        x[FX_WEEKEND] = (float)out->day.weekend;
        x[FX_HOLIDAY] = (float)out->day.holiday;
        out->segment = fx_segment(fx, in->hist_queries);
        x[FX_SEGMENT + out->segment] = 1.0f;
        x[FX_HIST_QUERIES] = fx_logscale(q, LTRR_FEATURE_HIST_CAP);
        x[FX_HIST_ENGAGED] = fx_logscale(e, LTRR_FEATURE_HIST_CAP);
        x[FX_HIST_RATE] = in->hist_queries == 0 ? 0.0f
                          : e >= q              ? 1.0f
                                                : (float)(e / q);
}

/* Words that ask for what is new. */
static const char *const fx_fresh_words[] = {"new", "newest", "latest",
                                             "recent"};

int ltrr_feature_fresh_word(const char *word, size_t len)
{
        size_t i;

        for (i = 0; word && i < sizeof(fx_fresh_words) /
                                    sizeof(fx_fresh_words[0]);
             i++)
                if (strlen(fx_fresh_words[i]) == len &&
                    !memcmp(word, fx_fresh_words[i], len))
                        return 1;
        return 0;
}

ltrr_feature_shape_t ltrr_feature_text_shape(const char *text)
{
        const char *p = text;
        size_t n;

        while (p && *p) {
                while (*p == ' ')
                        p++;
                for (n = 0; p[n] && p[n] != ' '; n++)
                        ;
                if (n && ltrr_feature_fresh_word(p, n))
                        return LTRR_FEATURE_SHAPE_FRESH;
                p += n;
        }
        return LTRR_FEATURE_SHAPE_PLAIN;
}

ltrr_feature_shape_t ltrr_feature_shape_of(const float *x, size_t dim)
{
        if (!x || dim != LTRR_FEATURE_CTX_DIM)
                return LTRR_FEATURE_SHAPE_PLAIN;
        return x[FX_FRESH_CUE] > 0.5f ? LTRR_FEATURE_SHAPE_FRESH
                                      : LTRR_FEATURE_SHAPE_PLAIN;
}

uint32_t ltrr_feature_bucket_id(ltrr_feature_shape_t shape,
                                ltrr_feature_intent_t intent, int lang_group,
                                int day_off)
{
        return (uint32_t)shape * LTRR_FEATURE_BUCKETS_SHAPE +
               ((uint32_t)intent * 3 + (uint32_t)lang_group) * 2 +
               (uint32_t)day_off;
}

/* Bucket id of a context: the language group is 0 for the primary
 * language, 1 for another configured one and 2 for any other; day off is
 * weekend or holiday. */
static uint32_t fx_bucket(const ltrr_feature_ctx_t *out)
{
        int lg = out->lang_slot == 0 ? 0 : out->lang_slot > 0 ? 1 : 2;

        return ltrr_feature_bucket_id(out->shape, out->intent, lg,
                                      out->day.weekend || out->day.holiday);
}

ltrr_err_t ltrr_feature_context(const ltrr_feature_t *fx,
                                const ltrr_feature_in_t *in,
                                ltrr_feature_ctx_t *out, char *errstr,
                                size_t errstr_size)
{
        int32_t off;
        const char *region;

        if ((unsigned)in->intent >= LTRR_FEATURE_INTENT__CNT)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "features: unknown intent %d",
                                 (int)in->intent);
        off = in->utc_offset_min == LTRR_FEATURE_OFFSET_DEFAULT
                  ? fx->utc_offset_min
                  : in->utc_offset_min;
        region = in->region ? in->region : fx->region;
        if (ltrr_calendar_lookup(fx->cal, in->time_ms, off, region,
                                 &out->day) != LTRR_OK)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "features: utc offset %d min outside +-%d",
                                 (int)off, LTRR_CALENDAR_OFFSET_MAX);
        memset(out->x, 0, sizeof(out->x));
        out->x[FX_BIAS] = 1.0f;
        out->intent = in->intent;
        fx_fill_query(fx, in, out);
        fx_fill_time_user(fx, in, out);
        out->shape = ltrr_feature_text_shape(in->text);
        out->x[FX_FRESH_CUE] = out->shape == LTRR_FEATURE_SHAPE_FRESH;
        out->bucket = fx_bucket(out);
        out->version = fx->version;
        return LTRR_OK;
}

/* Largest finite score and the flag counts of an arm's candidates. */
static void fx_arm_scan(const ltrr_feature_arm_in_t *in, double *top,
                        size_t cnt[3])
{
        size_t i;

        *top = 0.0;
        for (i = 0; i < in->n; i++) {
                double s = in->scores[i];

                if (isfinite(s) && s > *top)
                        *top = s;
                if (!in->flags)
                        continue;
                cnt[0] += (in->flags[i] & LTRR_FEATURE_ENT_NEW) != 0;
                cnt[1] += (in->flags[i] & LTRR_FEATURE_ENT_POPULAR) != 0;
                cnt[2] += (in->flags[i] & LTRR_FEATURE_ENT_PERSONAL) != 0;
        }
}

ltrr_err_t ltrr_feature_arm(const ltrr_feature_arm_in_t *in, float *x,
                            char *errstr, size_t errstr_size)
{
        size_t cnt[3] = {0, 0, 0};
        double top, n = (double)in->n;
        int k;

        if (in->n > 0 && !in->scores)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "features: %zu candidates without scores",
                                 in->n);
        if (isnan(in->success) || in->success > 1.0)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "features: success rate %g not in [0, 1]",
                                 in->success);
        memset(x, 0, LTRR_FEATURE_ARM_DIM * sizeof(*x));
        if (in->success >= 0.0) {
                x[FA_SUCCESS] = (float)in->success;
                x[FA_SUCCESS_KNOWN] = 1.0f;
        }
        x[FA_RESULTS] = fx_logscale(n, LTRR_FEATURE_RESULTS_CAP);
        if (in->budget > 0)
                x[FA_FILL] = n >= in->budget ? 1.0f : (float)(n / in->budget);
        fx_arm_scan(in, &top, cnt);
        x[FA_TOP_SCORE] = (float)(top / (1.0 + top));
        for (k = 0; k < 3 && in->n > 0; k++)
                x[FA_SHARE_NEW + k] = (float)((double)cnt[k] / n);
        return LTRR_OK;
}

void ltrr_feature_to_bandit(const ltrr_feature_ctx_t *ctx,
                            ltrr_bandit_ctx_t *bc)
{
        bc->x = ctx->x;
        bc->dim = LTRR_FEATURE_CTX_DIM;
        bc->feature_version = ctx->version;
        bc->bucket = ctx->bucket;
}

void ltrr_feature_to_record(const ltrr_feature_ctx_t *ctx, ltrr_context_t *rec)
{
        rec->feature_version = (int32_t)ctx->version;
        rec->features = ctx->x;
        rec->feature_cnt = LTRR_FEATURE_CTX_DIM;
        rec->query_type = ltrr_feature_intent2str(ctx->intent);
        rec->hour = ctx->day.lt.hour;
        rec->weekday = ctx->day.lt.weekday;
        rec->holiday = ctx->day.weekend || ctx->day.holiday;
        rec->user_segment = ltrr_feature_segment2str(ctx->segment);
}

size_t ltrr_feature_utf8_chars(const char *s, size_t len)
{
        size_t i, n = 0;

        for (i = 0; i < len; i++)
                n += ((unsigned char)s[i] & 0xc0) != 0x80;
        return n;
}

const char *ltrr_feature_intent2str(ltrr_feature_intent_t intent)
{
        if ((unsigned)intent >= LTRR_FEATURE_INTENT__CNT)
                return "unknown";
        return fx_intent_names[intent];
}

ltrr_err_t ltrr_feature_intent_parse(const char *name,
                                     ltrr_feature_intent_t *intent)
{
        int i;

        for (i = 0; name && i < LTRR_FEATURE_INTENT__CNT; i++)
                if (!strcmp(name, fx_intent_names[i])) {
                        *intent = (ltrr_feature_intent_t)i;
                        return LTRR_OK;
                }
        return LTRR_ERR_UNKNOWN_KEY;
}

const char *ltrr_feature_segment2str(ltrr_feature_segment_t seg)
{
        if ((unsigned)seg >= LTRR_FEATURE_SEG__CNT)
                return "unknown";
        return fx_segment_names[seg];
}

ltrr_err_t ltrr_feature_bucket_parts(uint32_t bucket,
                                     ltrr_feature_intent_t *intent,
                                     int *lang_group, int *day_off)
{
        if (bucket >= LTRR_FEATURE_BUCKETS)
                return LTRR_ERR_RANGE;
        bucket %= LTRR_FEATURE_BUCKETS_SHAPE;
        if (day_off)
                *day_off = (int)(bucket % 2);
        if (lang_group)
                *lang_group = (int)(bucket / 2 % 3);
        if (intent)
                *intent = (ltrr_feature_intent_t)(bucket / 6);
        return LTRR_OK;
}

ltrr_feature_shape_t ltrr_feature_bucket_shape(uint32_t bucket)
{
        if (bucket >= LTRR_FEATURE_BUCKETS)
                return LTRR_FEATURE_SHAPE__CNT;
        return (ltrr_feature_shape_t)(bucket / LTRR_FEATURE_BUCKETS_SHAPE);
}

uint32_t ltrr_feature_bucket_subsets(uint32_t bucket, const float *x,
                                     size_t dim)
{
        ltrr_feature_intent_t intent;
        int cls = 0, unknown = 0;

        if (ltrr_feature_bucket_parts(bucket, &intent, NULL, NULL) != LTRR_OK)
                return bucket;
        if (x && dim == LTRR_FEATURE_CTX_DIM) {
                cls = x[FX_QLEN_SHORT + 2] > 0.5f   ? 2
                      : x[FX_QLEN_SHORT + 1] > 0.5f ? 1
                                                    : 0;
                unknown = x[FX_UNKNOWN_WORD] > 0.5f;
        }
        return ltrr_feature_bucket_id(ltrr_feature_bucket_shape(bucket),
                                      intent, cls, unknown);
}

const ltrr_feature_fdesc_t *ltrr_feature_layout(size_t *cnt)
{
        *cnt = FX_LAYOUT_CNT;
        return fx_layout;
}

uint64_t ltrr_feature_layout_hash(void)
{
        uint64_t h = 14695981039346656037ULL;
        size_t i;

        for (i = 0; i < FX_LAYOUT_CNT; i++) {
                const ltrr_feature_fdesc_t *f = &fx_layout[i];
                const char *parts[3] = {f->name, f->type, f->range};
                unsigned char head[2] = {(unsigned char)f->group,
                                         (unsigned char)f->index};
                size_t k, j;

                for (k = 0; k < 2; k++) {
                        h ^= head[k];
                        h *= 1099511628211ULL;
                }
                for (k = 0; k < 3; k++)
                        for (j = 0; j <= strlen(parts[k]); j++) {
                                h ^= (unsigned char)parts[k][j];
                                h *= 1099511628211ULL;
                        }
        }
        return h;
}

/* Appends formatted text at *pos; returns -1 once the buffer is full. */
static int fx_append(char *buf, size_t size, size_t *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fx_append(char *buf, size_t size, size_t *pos, const char *fmt, ...)
{
        va_list ap;
        int n;

        if (*pos >= size)
                return -1;
        va_start(ap, fmt);
        n = vsnprintf(buf + *pos, size - *pos, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= size - *pos) {
                *pos = size;
                return -1;
        }
        *pos += (size_t)n;
        return 0;
}

/* Renders the rows of one group as a Markdown table. */
static int fx_render_group(ltrr_feature_group_t g, char *buf, size_t size,
                           size_t *pos)
{
        size_t i;
        int rc = fx_append(buf, size, pos,
                           "| index | name | type | range | how computed |\n"
                           "|---|---|---|---|---|\n");

        for (i = 0; rc == 0 && i < FX_LAYOUT_CNT; i++)
                if (fx_layout[i].group == g)
                        rc = fx_append(buf, size, pos,
                                       "| %d | `%s` | %s | %s | %s |\n",
                                       fx_layout[i].index, fx_layout[i].name,
                                       fx_layout[i].type, fx_layout[i].range,
                                       fx_layout[i].desc);
        return rc;
}

ltrr_err_t ltrr_feature_layout_render(char *buf, size_t size)
{
        size_t pos = 0;
        int rc;

        if (!buf || size == 0)
                return LTRR_ERR_NOSPACE;
        buf[0] = '\0';
        rc = fx_append(buf, size, &pos,
                       "Layout version %d: context vector (%d floats), "
                       "per-arm vector (%d floats).\n\n"
                       "### Context vector\n\n",
                       LTRR_FEATURE_LAYOUT_VERSION, LTRR_FEATURE_CTX_DIM,
                       LTRR_FEATURE_ARM_DIM);
        if (rc == 0)
                rc = fx_render_group(LTRR_FEATURE_GROUP_CTX, buf, size, &pos);
        if (rc == 0)
                rc = fx_append(buf, size, &pos, "\n### Per-arm vector\n\n");
        if (rc == 0)
                rc = fx_render_group(LTRR_FEATURE_GROUP_ARM, buf, size, &pos);
        return rc == 0 ? LTRR_OK : LTRR_ERR_NOSPACE;
}

ltrr_err_t ltrr_feature_debug(ltrr_feature_group_t group, const float *x,
                              char *buf, size_t size)
{
        size_t i, pos = 0;
        int rc = 0;

        if (!buf || size == 0)
                return LTRR_ERR_NOSPACE;
        buf[0] = '\0';
        for (i = 0; rc == 0 && i < FX_LAYOUT_CNT; i++)
                if (fx_layout[i].group == group)
                        rc = fx_append(buf, size, &pos, "%s%s=%.6g",
                                       pos ? " " : "", fx_layout[i].name,
                                       (double)x[fx_layout[i].index]);
        return rc == 0 ? LTRR_OK : LTRR_ERR_NOSPACE;
}
