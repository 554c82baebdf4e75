/*
 * ltrr - query understanding: the tagger.
 *
 * For each query token, the dictionary tokens it may stand for (itself,
 * then typos within the documented distance) are listed. From every start
 * token a depth-first walk extends phrase keys token by token, following
 * only keys that the dictionary knows as a phrase or a phrase prefix, and
 * records a candidate span for each full phrase. A dynamic program over
 * the token positions then picks the non-overlapping set of candidates
 * with the largest total gain, gain = len^2 * confidence, so one long
 * match beats the same tokens cut into shorter ones, and among spans of
 * one length the more confident wins. Nothing here allocates.
 */
#include <stdlib.h>
#include <string.h>

#include "qu.h"

/* Phrase-table probes per query; past it the walk stops (bounded work). */
#define QU_PROBES_MAX 4096
/* Entries of one phrase turned into candidates (first of each kind). */
#define QU_KINDS_PER_PHRASE LTRR_QU__CNT
/* Weight of an artist's own entity count against the title frequency of
 * its name; see commonness(). */
#define QU_COMMON_OWN 2.0f
/* Confidence prior of a weight-0 entry (weight 1 gives 1), and the factor
 * each edit multiplies it by: one typo costs more than any popularity
 * difference, so "montel joran" is Montel Jordan (one edit), not the more
 * popular Montell Jordan (two). */
#define QU_PRIOR_MIN 0.6f
#define QU_EDIT_FACTOR 0.55f
/* Confidence of years and decades read from digits. */
#define QU_YEAR_CONF 0.9f
#define QU_DECADE_CONF 1.0f
/* A one-token artist span below this confidence leaves the query
 * ambiguous rather than an artist query. */
#define QU_INTENT_ARTIST_MIN 0.5f

/* A candidate span. */
struct cand {
        uint16_t start, len;     /* tokens covered */
        ltrr_qu_kind_t kind;     /* what it names */
        uint32_t entry;          /* dictionary entry or LTRR_QU_NONE */
        uint32_t value;          /* entry value */
        float conf;              /* confidence */
        uint8_t dist;            /* summed edit distance */
};

struct ltrr_qu_scratch_s {
        ltrr_qu_alt_t alts[LTRR_QU_QUERY_TOKENS_MAX][LTRR_QU_ALTS_MAX];
        uint8_t nalts[LTRR_QU_QUERY_TOKENS_MAX];   /* entries in alts[i] */
        struct cand cands[LTRR_QU_CANDS_MAX];      /* candidate spans */
        size_t ncands;                             /* entries in cands */
        uint32_t cfirst[LTRR_QU_QUERY_TOKENS_MAX + 1]; /* cands by start */
        uint32_t path[LTRR_QU_PHRASE_TOKENS_MAX];  /* walk's token ids */
        float best[LTRR_QU_QUERY_TOKENS_MAX + 1];  /* DP value from i */
        int32_t choice[LTRR_QU_QUERY_TOKENS_MAX + 1]; /* cand or -1 */
        const ltrr_token_t *toks;                  /* the query */
        size_t n;                                  /* tokens looked at */
        unsigned probes;                           /* phrase probes */
};

static const char *const kind_names[LTRR_QU__CNT] = {
    "artist", "genre", "subgenre", "mood", "type", "decade", "year",
    "language"};

static const char *const intent_names[LTRR_QU_INTENT__CNT] = {
    "entity", "artist", "topical", "ambiguous"};

const char *ltrr_qu_kind_name(ltrr_qu_kind_t kind)
{
        return (unsigned)kind < LTRR_QU__CNT ? kind_names[kind] : "unknown";
}

const char *ltrr_qu_intent_name(ltrr_qu_intent_t intent)
{
        return (unsigned)intent < LTRR_QU_INTENT__CNT ? intent_names[intent]
                                                      : "unknown";
}

ltrr_qu_scratch_t *ltrr_qu_scratch_new(char *errstr, size_t errstr_size)
{
        ltrr_qu_scratch_t *sc = calloc(1, sizeof(*sc));

        if (!sc)
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                          "out of memory");
        return sc;
}

void ltrr_qu_scratch_destroy(ltrr_qu_scratch_t *sc)
{
        free(sc);
}

/* Reads a year ("1994": 1900..2099) or a decade ("1990s", "90s"; the
 * analyzer has already turned "'90s" and "1990's" into these) from the
 * digits of @t. Returns 1 and sets *kindp / *valuep on a match. */
static int numeric_tag(const ltrr_token_t *t, ltrr_qu_kind_t *kindp,
                       uint32_t *valuep)
{
        const char *s = t->norm;
        size_t l = t->norm_len, nd = 0;
        uint32_t v = 0;

        while (nd < l && s[nd] >= '0' && s[nd] <= '9')
                v = v * 10 + (uint32_t)(s[nd++] - '0');
        if (nd == 4 && l == 4 && v >= 1900 && v <= 2099) {
                *kindp = LTRR_QU_YEAR;
                *valuep = v;
                return 1;
        }
        if (l != nd + 1 || s[nd] != 's' || v % 10 != 0)
                return 0;
        if (nd == 4 && v >= 1900 && v <= 2090)
                *valuep = v;
        else if (nd == 2)
                *valuep = v <= 20 ? 2000 + v : 1900 + v;
        else
                return 0;
        *kindp = LTRR_QU_DECADE;
        return 1;
}

/* Appends a candidate; drops it (and remembers nothing) when full. */
static void cand_add(ltrr_qu_scratch_t *sc, const struct cand *c)
{
        if (c->conf < LTRR_QU_CONF_MIN || sc->ncands >= LTRR_QU_CANDS_MAX)
                return;
        sc->cands[sc->ncands++] = *c;
}

/* Lists the dictionary tokens query token @i may stand for. */
static void token_alts(const ltrr_qu_dict_t *d, ltrr_qu_scratch_t *sc,
                       size_t i)
{
        const ltrr_token_t *t = &sc->toks[i];
        ltrr_qu_alt_t *a = sc->alts[i];
        uint32_t tok = ltrr_qu_dict_token(d, t->norm, t->norm_len);
        size_t n = 0;

        if (tok != LTRR_QU_NONE) {
                a[0].tok = tok;
                a[0].dist = 0;
                n = 1;
        }
        if (!(t->flags & (LTRR_TOKEN_NUMERIC | LTRR_TOKEN_CJK)))
                n += ltrr_qu_dict_fuzzy(d, t->norm, t->norm_len, a + n,
                                        LTRR_QU_ALTS_MAX - n);
        sc->nalts[i] = (uint8_t)n;
}

/* How much more often an artist's name is a title word than the artist
 * itself: df / (df + QU_COMMON_OWN * freq), df the titles of other
 * artists holding the phrase, freq the artist's own entities. "love"
 * (hundreds of titles, one obscure artist) is near 1; "taylor swift"
 * is 0. */
static float commonness(const ltrr_qu_entry_t *e)
{
        if (e->title_df == 0)
                return 0.0f;
        return (float)e->title_df /
               ((float)e->title_df + QU_COMMON_OWN * (float)e->freq);
}

/* Confidence of entry @e matched with @dist edits in total: a prior from
 * the entry's weight, times QU_EDIT_FACTOR per edit, times, for artists,
 * one minus the name's commonness as a title word (docs/QU.md). */
static float confidence(const ltrr_qu_entry_t *e, unsigned dist)
{
        float conf = QU_PRIOR_MIN + (1.0f - QU_PRIOR_MIN) * e->weight;

        while (dist-- > 0)
                conf *= QU_EDIT_FACTOR;
        if (e->kind == LTRR_QU_ARTIST)
                conf *= 1.0f - commonness(e);
        return conf;
}

/* Records candidates for the phrase whose entries are [first, first +
 * cnt), matched on [start, start + len) with @dist edits: one per kind,
 * the heaviest (entries are sorted by kind, then weight). */
static void phrase_hit(const ltrr_qu_dict_t *d, ltrr_qu_scratch_t *sc,
                       uint32_t first, uint32_t cnt, size_t start,
                       size_t len, unsigned dist)
{
        ltrr_qu_entry_t e;
        int last_kind = -1;
        uint32_t i;

        for (i = first; i < first + cnt; i++) {
                struct cand c;

                if (ltrr_qu_dict_entry(d, i, &e) != LTRR_OK)
                        return;
                if ((int)e.kind == last_kind)
                        continue;
                last_kind = (int)e.kind;
                /* a 64-bit key collision would name another phrase */
                if (e.toks_cnt != len ||
                    memcmp(e.toks, sc->path, len * sizeof(uint32_t)) != 0)
                        continue;
                c.start = (uint16_t)start;
                c.len = (uint16_t)len;
                c.kind = e.kind;
                c.entry = i;
                c.value = e.value;
                c.dist = (uint8_t)dist;
                c.conf = confidence(&e, dist);
                cand_add(sc, &c);
        }
}

/* Extends the phrase that started at @start and covers the tokens before
 * @j (key @key, @dist edits) by each stand-in of token @j. */
static void walk(const ltrr_qu_dict_t *d, ltrr_qu_scratch_t *sc,
                 size_t start, size_t j, uint64_t key, unsigned dist)
{
        size_t a, depth = j - start;

        for (a = 0; a < sc->nalts[j]; a++) {
                const ltrr_qu_alt_t *alt = &sc->alts[j][a];
                uint64_t k2 = ltrr_qu_key_step(key, alt->tok);
                uint32_t first = 0, cnt = 0;
                unsigned flags;

                if (sc->probes++ >= QU_PROBES_MAX)
                        return;
                flags = ltrr_qu_dict_phrase(d, k2, &first, &cnt);
                if (!flags)
                        continue;
                sc->path[depth] = alt->tok;
                if (flags & LTRR_QU_PHRASE_FULL)
                        phrase_hit(d, sc, first, cnt, start, depth + 1,
                                   dist + alt->dist);
                if ((flags & LTRR_QU_PHRASE_PREFIX) && j + 1 < sc->n &&
                    depth + 1 < LTRR_QU_PHRASE_TOKENS_MAX)
                        walk(d, sc, start, j + 1, k2, dist + alt->dist);
        }
}

/* Collects every candidate span, grouped by start token. */
static void collect(const ltrr_qu_dict_t *d, ltrr_qu_scratch_t *sc)
{
        size_t i;

        sc->ncands = 0;
        sc->probes = 0;
        for (i = 0; i < sc->n; i++)
                token_alts(d, sc, i);
        for (i = 0; i < sc->n; i++) {
                struct cand c;

                sc->cfirst[i] = (uint32_t)sc->ncands;
                if (numeric_tag(&sc->toks[i], &c.kind, &c.value)) {
                        c.start = (uint16_t)i;
                        c.len = 1;
                        c.entry = LTRR_QU_NONE;
                        c.dist = 0;
                        c.conf = c.kind == LTRR_QU_YEAR ? QU_YEAR_CONF
                                                        : QU_DECADE_CONF;
                        cand_add(sc, &c);
                }
                walk(d, sc, i, i, 0, 0);
        }
        sc->cfirst[sc->n] = (uint32_t)sc->ncands;
}

/* Dynamic program: best[i] is the largest total gain over tokens i..n. */
static void choose(ltrr_qu_scratch_t *sc)
{
        size_t i, c;

        sc->best[sc->n] = 0.0f;
        for (i = sc->n; i-- > 0;) {
                sc->best[i] = sc->best[i + 1];
                sc->choice[i] = -1;
                for (c = sc->cfirst[i]; c < sc->cfirst[i + 1]; c++) {
                        const struct cand *k = &sc->cands[c];
                        float g = (float)(k->len * k->len) * k->conf +
                                  sc->best[i + k->len];

                        if (g > sc->best[i]) {
                                sc->best[i] = g;
                                sc->choice[i] = (int32_t)c;
                        }
                }
        }
}

/* Intent class from the chosen spans (docs/QU.md). */
static ltrr_qu_intent_t intent_of(const ltrr_qu_span_t *spans, size_t cnt,
                                  size_t n)
{
        size_t i, covered = 0, artist = 0;

        if (n == 0)
                return LTRR_QU_INTENT_AMBIGUOUS;
        for (i = 0; i < cnt; i++) {
                covered += spans[i].len;
                if (spans[i].kind == LTRR_QU_ARTIST)
                        artist += spans[i].len;
        }
        if (n == 1 && (covered == 0 ||
                       (artist == 1 &&
                        spans[0].confidence < QU_INTENT_ARTIST_MIN)))
                return LTRR_QU_INTENT_AMBIGUOUS;
        if (covered < n)
                return LTRR_QU_INTENT_ENTITY;
        return artist ? LTRR_QU_INTENT_ARTIST : LTRR_QU_INTENT_TOPICAL;
}

/* Writes the chosen spans in token order; returns how many were chosen
 * (which may exceed @cap). */
static size_t emit(const ltrr_qu_scratch_t *sc, ltrr_qu_span_t *spans,
                   size_t cap)
{
        size_t i = 0, cnt = 0;

        while (i < sc->n) {
                const struct cand *k;
                ltrr_qu_span_t *s;

                if (sc->choice[i] < 0) {
                        i++;
                        continue;
                }
                k = &sc->cands[sc->choice[i]];
                if (cnt < cap) {
                        s = &spans[cnt];
                        s->start = k->start;
                        s->len = k->len;
                        s->kind = k->kind;
                        s->entry = k->entry;
                        s->value = k->value;
                        s->confidence = k->conf;
                        s->fuzzy = k->dist > 0;
                        s->dist = k->dist;
                }
                cnt++;
                i += k->len;
        }
        return cnt;
}

ltrr_err_t ltrr_qu_tag(const ltrr_qu_dict_t *d, ltrr_qu_scratch_t *sc,
                       const ltrr_token_t *toks, size_t ntoks,
                       ltrr_qu_span_t *spans, size_t cap, size_t *cntp,
                       ltrr_qu_intent_t *intentp)
{
        size_t cnt;

        if (!d || !sc || (!toks && ntoks) || (!spans && cap) || !cntp)
                return LTRR_ERR_INVALID_ARG;
        sc->toks = toks;
        sc->n = ntoks < LTRR_QU_QUERY_TOKENS_MAX ? ntoks
                                                 : LTRR_QU_QUERY_TOKENS_MAX;
        collect(d, sc);
        choose(sc);
        cnt = emit(sc, spans, cap);
        *cntp = cnt < cap ? cnt : cap;
        if (intentp)
                *intentp = intent_of(spans, *cntp, sc->n);
        return cnt > cap ? LTRR_ERR_NOSPACE : LTRR_OK;
}
