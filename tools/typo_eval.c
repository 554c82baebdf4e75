/*
 * ltrr-typo-eval - known-item search with a typo in the artist name.
 *
 *   ltrr-typo-eval INDEX [-n N] [--seed S] [--budget B]
 *                  [--fusion union|rrf] [--trace] [--json]
 *
 * From the tracks of INDEX (built with `ltrr-index build --ann`), draws N
 * queries deterministically (seed S): the track's first artist with one
 * edit (substitution, insertion, deletion or transposition of adjacent
 * letters) in its longest word of at least 4 ASCII letters, followed by
 * one word of the title (at least 2 characters, not a stop word). Every
 * registered, available arm runs with budget B; their lists are fused in
 * ltrr_arm_union()'s order (best rank in any arm, then the number of
 * arms agreeing), or with --fusion rrf by reciprocal rank fusion (sum
 * over arms of 1 / (60 + rank), rank from 1), and the query counts as
 * found when the intended track is in the fused top 10. A track with the same name and artists as the
 * intended one is indistinguishable to the user and counts too
 * ("found_strict" counts only the intended id).
 *
 * Exit status: 0 ok, 1 failure (logged), 2 usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "arm.h"
#include "cli.h"
#include "index.h"
#include "log.h"
#include "rng.h"
#include "text.h"

#define EVAL_TOP 10
#define EVAL_BUDGET_MAX 1000
#define EVAL_RRF_K 60.0
#define EVAL_QUERY_MAX 512
#define EVAL_TRIES 100 /* draws per query before giving up */

/* Command line. */
typedef struct opts_s {
        const char *index; /* INDEX */
        uint64_t n;        /* -n */
        uint64_t seed;     /* --seed */
        uint64_t budget;   /* --budget */
        int json;          /* --json */
        int rrf;           /* --fusion rrf (default: union order) */
        int trace;         /* --trace: each query and its outcome */
} opts_t;

/* Counters of one run. */
typedef struct tally_s {
        uint64_t queries;              /* generated */
        uint64_t found;                /* in the fused top 10 */
        uint64_t strict;               /* the intended id itself */
        uint64_t arm10[LTRR_ARM_MAX];  /* in the arm's top 10 */
        uint64_t armb[LTRR_ARM_MAX];   /* in the arm's whole list */
        int avail[LTRR_ARM_MAX];       /* 1 if the arm ran */
        double ms;                     /* time in the arms and fusion */
} tally_t;

/* Everything one query needs, reused. */
typedef struct eval_s {
        const ltrr_index_t *ix;
        ltrr_analyzer_t *an;
        ltrr_arm_scratch_t *scr;
        ltrr_token_t toks[LTRR_TEXT_TOKENS_MAX];
        char arena[LTRR_TEXT_ARENA_SIZE];
        ltrr_arm_cand_t cands[LTRR_ARM_MAX][EVAL_BUDGET_MAX];
        size_t cnt[LTRR_ARM_MAX];
        uint32_t fused[LTRR_ARM_MAX * EVAL_BUDGET_MAX]; /* entities */
        double fscore[LTRR_ARM_MAX * EVAL_BUDGET_MAX];  /* RRF scores */
        size_t nfused;
        size_t budget;
        int rrf;                          /* fuse by RRF, not union order */
        ltrr_arm_list_t lists[LTRR_ARM_MAX]; /* lists that ran */
        size_t nlists;
        ltrr_arm_hit_t hits[LTRR_ARM_MAX * EVAL_BUDGET_MAX]; /* union */
} eval_t;

static void usage_to(FILE *fp)
{
        fprintf(fp,
                "usage: ltrr-typo-eval INDEX [-n N] [--seed S] "
                "[--budget B] [--fusion union|rrf]\n"
                "                      [--trace] [--json]\n"
                "  INDEX       built with ltrr-index build --ann\n"
                "  -n N        queries (default 500)\n"
                "  --seed S    query generation seed (default 1)\n"
                "  --budget B  candidates per arm (default 50, max %d)\n"
                "  --fusion F  union: ltrr_arm_union() order (best rank in\n"
                "              any arm, then arms agreeing; default);\n"
                "              rrf: sum of 1/(60 + rank)\n"
                "  --trace     print each query and found/MISS to stderr\n"
                "  --json      machine-readable output\n",
                EVAL_BUDGET_MAX);
}

static int parse_u64(const char *s, uint64_t *out)
{
        char *end;
        if (!s || !*s || *s == '-')
                return -1;
        *out = strtoull(s, &end, 10);
        return *end ? -1 : 0;
}

static int parse_args(int argc, char **argv, opts_t *o)
{
        memset(o, 0, sizeof(*o));
        o->n = 500;
        o->seed = 1;
        o->budget = 50;
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
                uint64_t *dst = !strcmp(a, "-n")         ? &o->n
                                : !strcmp(a, "--seed")   ? &o->seed
                                : !strcmp(a, "--budget") ? &o->budget
                                                         : NULL;
                if (!strcmp(a, "--json"))
                        o->json = 1;
                else if (!strcmp(a, "--trace"))
                        o->trace = 1;
                else if (!strcmp(a, "--fusion") && v &&
                         (!strcmp(v, "rrf") || !strcmp(v, "union"))) {
                        o->rrf = !strcmp(v, "rrf");
                        i++;
                }
                else if (dst) {
                        if (parse_u64(v, dst))
                                return -1;
                        i++;
                } else if (a[0] != '-' && !o->index)
                        o->index = a;
                else
                        return -1;
        }
        if (!o->index || !o->n || !o->budget || o->budget > EVAL_BUDGET_MAX)
                return -1;
        return 0;
}

/* ---- query generation --------------------------------------------------- */

/* Longest run of >= 4 ASCII letters in @p s[0..len): start and length. */
static int longest_word(const char *s, size_t len, size_t *at, size_t *wl)
{
        size_t best = 0, bat = 0, i = 0;
        while (i < len) {
                size_t j = i;
                while (j < len && ((s[j] | 0x20) >= 'a' && (s[j] | 0x20) <= 'z'))
                        j++;
                if (j - i > best && (j == len || s[j] == ' ') &&
                    (i == 0 || s[i - 1] == ' ')) {
                        best = j - i;
                        bat = i;
                }
                i = j + 1;
        }
        *at = bat;
        *wl = best;
        return best >= 4 ? 0 : -1;
}

/* Writes @p artist (alen bytes) with one random edit in the word at
 * [at, at + wl) into @p out; -1 if it does not fit. */
static int typo(ltrr_rng_t *rng, const char *artist, size_t alen, size_t at,
                 size_t wl, char *out, size_t size)
{
        char w[EVAL_QUERY_MAX];
        size_t n = 0, p = 1 + ltrr_rng_below(rng, wl - 1); /* keep 1st */
        char c = (char)('a' + ltrr_rng_below(rng, 26));
        const char *src = artist + at;
        switch (ltrr_rng_below(rng, 4)) {
        case 0: /* substitution (never by the same letter) */
                memcpy(w, src, wl);
                w[p] = ((src[p] | 0x20) == c) ? (char)('a' + (c - 'a' + 1) % 26)
                                              : c;
                n = wl;
                break;
        case 1: /* insertion before p */
                memcpy(w, src, p);
                w[p] = c;
                memcpy(w + p + 1, src + p, wl - p);
                n = wl + 1;
                break;
        case 2: /* deletion of p */
                memcpy(w, src, p);
                memcpy(w + p, src + p + 1, wl - p - 1);
                n = wl - 1;
                break;
        default: /* transposition of p - 1 and p (may equal: re-swap) */
                memcpy(w, src, wl);
                w[p - 1] = src[p];
                w[p] = src[p - 1];
                if ((w[p] | 0x20) == (w[p - 1] | 0x20))
                        w[p] = c;
                n = wl;
        }
        int len = snprintf(out, size, "%.*s%.*s%.*s", (int)at, artist,
                           (int)n, w, (int)(alen - at - wl),
                           artist + at + wl);
        return len < 0 || (size_t)len >= size ? -1 : 0;
}

/* 1 if the @p len bytes at @p w, lower-cased, are a stop word. */
static int stopword(const char *w, size_t len)
{
        char low[LTRR_TEXT_TOKEN_BYTES_MAX];
        if (len > sizeof(low))
                return 0;
        for (size_t i = 0; i < len; i++)
                low[i] = (w[i] >= 'A' && w[i] <= 'Z') ? (char)(w[i] | 0x20)
                                                      : w[i];
        return ltrr_index_is_stopword(low, len);
}

/* Picks a random title word of >= 2 characters that is not a stop
 * word; 0 and the word in [*at, *at + *wl) on success. */
static int title_word(ltrr_rng_t *rng, const char *name, size_t *at,
                      size_t *wl)
{
        size_t starts[64], lens[64], n = 0, i = 0, len = strlen(name);
        while (i < len && n < 64) {
                while (i < len && name[i] == ' ')
                        i++;
                size_t j = i;
                while (j < len && name[j] != ' ')
                        j++;
                size_t a = i, b = j; /* trim punctuation around the word */
                while (a < b && strchr("()[]-,.:;!?\"'&/", name[a]))
                        a++;
                while (b > a && strchr("()[]-,.:;!?\"'&/", name[b - 1]))
                        b--;
                if (b - a >= 2 && !stopword(name + a, b - a)) {
                        starts[n] = a;
                        lens[n++] = b - a;
                }
                i = j;
        }
        if (!n)
                return -1;
        size_t k = ltrr_rng_below(rng, n);
        *at = starts[k];
        *wl = lens[k];
        return 0;
}

/* Draws one query: its track in *entp and text in @p q; -1 if the drawn
 * entity does not qualify. */
static int draw_query(const ltrr_index_t *ix, ltrr_rng_t *rng, uint32_t *entp,
                      char *q, size_t size)
{
        ltrr_index_entity_t e;
        uint32_t ent = (uint32_t)ltrr_rng_below(rng, ltrr_index_count(ix));
        if (ltrr_index_entity(ix, ent, &e) || e.type != LTRR_ENTITY_TRACK ||
            !*e.artists)
                return -1;
        const char *comma = strstr(e.artists, ", ");
        size_t alen = comma ? (size_t)(comma - e.artists) : strlen(e.artists);
        size_t at, wl, tat, twl;
        char art[EVAL_QUERY_MAX];
        if (alen >= sizeof(art) / 2 || longest_word(e.artists, alen, &at, &wl) ||
            title_word(rng, e.name, &tat, &twl))
                return -1;
        if (typo(rng, e.artists, alen, at, wl, art, sizeof(art)))
                return -1;
        int w = snprintf(q, size, "%s %.*s", art, (int)twl, e.name + tat);
        if (w < 0 || (size_t)w >= size)
                return -1; /* too long for a query: draw another */
        *entp = ent;
        return 0;
}

/* ---- running the arms ------------------------------------------------- */

static int fused_cmp_ix(const eval_t *ev, size_t a, size_t b)
{
        if (ev->fscore[a] != ev->fscore[b])
                return ev->fscore[a] > ev->fscore[b];
        return ev->fused[a] < ev->fused[b];
}

/* Adds @p w to entity @p ent's fused score (linear probe: lists are
 * short). */
static void fuse_add(eval_t *ev, uint32_t ent, double w)
{
        for (size_t i = 0; i < ev->nfused; i++)
                if (ev->fused[i] == ent) {
                        ev->fscore[i] += w;
                        return;
                }
        ev->fused[ev->nfused] = ent;
        ev->fscore[ev->nfused++] = w;
}

/* Moves the EVAL_TOP best fused entries to the front, best first. */
static void fuse_top(eval_t *ev)
{
        for (size_t i = 0; i < EVAL_TOP && i < ev->nfused; i++) {
                size_t best = i;
                for (size_t j = i + 1; j < ev->nfused; j++)
                        if (fused_cmp_ix(ev, j, best))
                                best = j;
                uint32_t te = ev->fused[i];
                double ts = ev->fscore[i];
                ev->fused[i] = ev->fused[best];
                ev->fscore[i] = ev->fscore[best];
                ev->fused[best] = te;
                ev->fscore[best] = ts;
        }
}

/* Fuses the lists that ran with ltrr_arm_union(): best rank in any arm,
 * then the number of arms agreeing. */
static int fuse_union(eval_t *ev)
{
        char errstr[256];
        size_t n = 0;
        if (ltrr_arm_union(ev->lists, ev->nlists, ev->hits,
                           sizeof(ev->hits) / sizeof(ev->hits[0]), &n, errstr,
                           sizeof(errstr))) {
                log_error("typo-eval", "union failed", "err", errstr);
                return -1;
        }
        for (size_t i = 0; i < n; i++)
                ev->fused[i] = ev->hits[i].ent;
        ev->nfused = n;
        return 0;
}

/* Runs every available arm on @p text and fuses their lists. */
static int run_query(eval_t *ev, const char *text, tally_t *t)
{
        char errstr[256];
        ltrr_tokbuf_t tb;
        ltrr_arm_ctx_t ctx;
        memset(&ctx, 0, sizeof(ctx));
        snprintf(ctx.lang, sizeof(ctx.lang), "%s", ltrr_index_lang(ev->ix));
        ltrr_tokbuf_init(&tb, ev->toks, LTRR_TEXT_TOKENS_MAX, ev->arena,
                         sizeof(ev->arena));
        if (ltrr_analyzer_analyze(ev->an, text, strlen(text), &tb, errstr,
                                  sizeof(errstr)))
                return -1;
        ltrr_arm_query_t q = {ev->toks, tb.cnt, NULL};
        ev->nfused = ev->nlists = 0;
        for (unsigned a = 0; a < ltrr_arm_count(); a++) {
                ltrr_err_t err = ltrr_arm_run(a, ev->ix, &q, &ctx, ev->scr,
                                              ev->budget, ev->cands[a],
                                              &ev->cnt[a], errstr,
                                              sizeof(errstr));
                if (err == LTRR_ERR_STATE) {
                        ev->cnt[a] = 0;
                        continue;
                }
                if (err) {
                        log_error("typo-eval", "arm failed", "arm",
                                  ltrr_arm_get(a)->name, "err", errstr);
                        return -1;
                }
                t->avail[a] = 1;
                ev->lists[ev->nlists++] =
                    (ltrr_arm_list_t){a, ev->cands[a], ev->cnt[a]};
                for (size_t r = 0; ev->rrf && r < ev->cnt[a]; r++)
                        fuse_add(ev, ev->cands[a][r].ent,
                                 1.0 / (EVAL_RRF_K + (double)(r + 1)));
        }
        if (!ev->rrf)
                return fuse_union(ev);
        fuse_top(ev);
        return 0;
}

/* 1 if @p got is @p want or has the same name and artists. */
static int same_item(const ltrr_index_t *ix, uint32_t got, uint32_t want)
{
        ltrr_index_entity_t a, b;
        if (got == want)
                return 1;
        if (ltrr_index_entity(ix, got, &a) || ltrr_index_entity(ix, want, &b))
                return 0;
        return a.type == b.type && !strcasecmp(a.name, b.name) &&
               !strcasecmp(a.artists, b.artists);
}

/* Scores one query's lists against its intended track. */
static void tally(const eval_t *ev, uint32_t want, tally_t *t)
{
        int found = 0, strict = 0;
        for (size_t i = 0; i < EVAL_TOP && i < ev->nfused; i++) {
                found |= same_item(ev->ix, ev->fused[i], want);
                strict |= ev->fused[i] == want;
        }
        t->found += found;
        t->strict += strict;
        for (unsigned a = 0; a < ltrr_arm_count(); a++) {
                int in10 = 0, inb = 0;
                for (size_t r = 0; r < ev->cnt[a]; r++)
                        if (same_item(ev->ix, ev->cands[a][r].ent, want)) {
                                inb = 1;
                                in10 |= r < EVAL_TOP;
                        }
                t->arm10[a] += in10;
                t->armb[a] += inb;
        }
        t->queries++;
}

/* ---- output ------------------------------------------------------------ */

static double rate(uint64_t x, uint64_t n) { return n ? (double)x / n : 0; }

static void print_report(const opts_t *o, const tally_t *t)
{
        if (o->json) {
                printf("{\"queries\":%llu,\"budget\":%llu,\"seed\":%llu,"
                       "\"fusion\":\"%s\",\"union_top10\":%.4f,"
                       "\"union_top10_strict\":%.4f,\"mean_ms\":%.3f,"
                       "\"arms\":{",
                       (unsigned long long)t->queries,
                       (unsigned long long)o->budget,
                       (unsigned long long)o->seed, o->rrf ? "rrf" : "union",
                       rate(t->found, t->queries),
                       rate(t->strict, t->queries),
                       t->queries ? t->ms / (double)t->queries : 0);
                for (unsigned a = 0, first = 1; a < ltrr_arm_count(); a++) {
                        printf("%s\"%s\":{\"available\":%s,\"top10\":%.4f,"
                               "\"budget\":%.4f}",
                               first ? "" : ",", ltrr_arm_get(a)->name,
                               t->avail[a] ? "true" : "false",
                               rate(t->arm10[a], t->queries),
                               rate(t->armb[a], t->queries));
                        first = 0;
                }
                printf("}}\n");
                return;
        }
        printf("queries %llu, budget %llu per arm, fusion: %s\n",
               (unsigned long long)t->queries, (unsigned long long)o->budget,
               o->rrf ? "reciprocal rank (k=60)"
                      : "union order (best rank, then arms agreeing)");
        printf("union top-10: %.1f%% (intended id only: %.1f%%), "
               "%.3f ms/query\n",
               100 * rate(t->found, t->queries),
               100 * rate(t->strict, t->queries),
               t->queries ? t->ms / (double)t->queries : 0);
        printf("%-12s %8s %8s\n", "arm", "top-10", "budget");
        for (unsigned a = 0; a < ltrr_arm_count(); a++) {
                if (!t->avail[a]) {
                        printf("%-12s unavailable\n", ltrr_arm_get(a)->name);
                        continue;
                }
                printf("%-12s %7.1f%% %7.1f%%\n", ltrr_arm_get(a)->name,
                       100 * rate(t->arm10[a], t->queries),
                       100 * rate(t->armb[a], t->queries));
        }
}

static double now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Generates and runs every query. */
static int evaluate(const opts_t *o, eval_t *ev, tally_t *t)
{
        ltrr_rng_t rng;
        char q[EVAL_QUERY_MAX];
        int trace = o->trace;
        ltrr_rng_seed(&rng, o->seed);
        for (uint64_t i = 0; i < o->n; i++) {
                uint32_t ent = 0;
                int ok = -1;
                for (int tries = 0; ok && tries < EVAL_TRIES; tries++)
                        ok = draw_query(ev->ix, &rng, &ent, q, sizeof(q));
                if (ok) {
                        log_error("typo-eval", "too few qualifying tracks");
                        return -1;
                }
                double t0 = now_ms();
                if (run_query(ev, q, t))
                        return -1;
                t->ms += now_ms() - t0;
                uint64_t before = t->found;
                tally(ev, ent, t);
                if (trace) /* one line per query, for looking at misses */
                        fprintf(stderr, "%s\t%s\n", q,
                                t->found > before ? "found" : "MISS");
        }
        return 0;
}

int main(int argc, char **argv)
{
        opts_t o;
        char errstr[512];
        int rc = 1;
        if (ltrr_cli_wants_help(argc, argv)) {
                usage_to(stdout);
                return 0;
        }
        if (parse_args(argc, argv, &o)) {
                usage_to(stderr);
                return 2;
        }
        tally_t *t = calloc(1, sizeof(*t));
        eval_t *ev = calloc(1, sizeof(*ev));
        if (!t || !ev)
                goto done;
        ev->budget = (size_t)o.budget;
        ev->rrf = o.rrf;
        ev->ix = ltrr_index_open(o.index, errstr, sizeof(errstr));
        if (!ev->ix) {
                log_error("typo-eval", "open failed", "path", o.index, "err",
                          errstr);
                goto done;
        }
        ev->an = ltrr_analyzer_new(ltrr_index_lang(ev->ix), errstr,
                                   sizeof(errstr));
        ev->scr = ltrr_arm_scratch_new();
        if (!ev->an || !ev->scr)
                goto done;
        if (evaluate(&o, ev, t) == 0) {
                print_report(&o, t);
                rc = 0;
        }
done:
        if (ev) {
                ltrr_arm_scratch_destroy(ev->scr);
                ltrr_analyzer_destroy(ev->an);
                ltrr_index_destroy((ltrr_index_t *)ev->ix);
        }
        free(ev);
        free(t);
        return rc;
}
