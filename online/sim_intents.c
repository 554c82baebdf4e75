/*
 * ltrr - hidden intents of simulated users: what they look for, the query
 * they type for it, the ground-truth grade of every entity, the ideal
 * top-10 and the arms the simulator believes serve the intent best.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_int.h"
#include "synth.h"

#define NONE   LTRR_CATALOG_SYM_NONE
#define ARM(a) (1u << LTRR_SIM_ARM_##a)
/* New releases: dated within this many days before the catalog's today. */
#define SIM_NEW_DAYS 28

/* ---- catalog lookups --------------------------------------------------- */

typedef uint32_t(sim_keys_fn)(const ltrr_sim_t *sim, const ltrr_entity_t *e,
                              uint32_t *keys, uint32_t cap);

void ltrr_sim_csr_free(sim_csr_t *csr)
{
        free(csr->off);
        free(csr->ent);
        memset(csr, 0, sizeof(*csr));
}

/* 1 if byte @c belongs to a word: ASCII letters and digits, and every
 * byte of a multi-byte UTF-8 character. */
static int word_byte(char c)
{
        return isalnum((unsigned char)c) || (unsigned char)c >= 0x80;
}

int ltrr_sim_has_word(const char *name, const char *word)
{
        size_t wl = strlen(word);
        const char *p = name;

        while (wl && *p) {
                while (*p && !word_byte(*p))
                        p++;
                if (!strncasecmp(p, word, wl) && !word_byte(p[wl]))
                        return 1;
                while (*p && word_byte(*p))
                        p++;
        }
        return 0;
}

/* Key functions for csr_build(): the entity's artists, genres, or the
 * numbers of the title cores its name contains as words. */

static uint32_t keys_artist(const ltrr_sim_t *sim, const ltrr_entity_t *e,
                            uint32_t *keys, uint32_t cap)
{
        uint32_t i;

        for (i = 0; i < e->artists_cnt && i < cap; i++)
                keys[i] = e->artists[i];
        return i;
}

static uint32_t keys_genre(const ltrr_sim_t *sim, const ltrr_entity_t *e,
                           uint32_t *keys, uint32_t cap)
{
        uint32_t i;

        for (i = 0; i < e->genres_cnt && i < cap; i++)
                keys[i] = e->genres[i];
        return i;
}

static uint32_t keys_core(const ltrr_sim_t *sim, const ltrr_entity_t *e,
                          uint32_t *keys, uint32_t cap)
{
        const ltrr_synth_vocab_t *v = ltrr_synth_vocab();
        uint32_t c, n = 0;

        for (c = 0; c < sim->cores_cnt && n < cap; c++)
                if (ltrr_sim_has_word(e->name, v->cores[c]))
                        keys[n++] = c;
        return n;
}

/* Builds @csr over every entity with @fn giving each entity's keys (all
 * below @keys). Two passes: count, then fill. */
static ltrr_err_t csr_build(const ltrr_sim_t *sim, sim_csr_t *csr,
                            uint32_t keys, sim_keys_fn *fn)
{
        uint32_t n = ltrr_catalog_count(sim->cat), i, j, k, cnt;
        uint32_t kb[LTRR_CATALOG_LIST_MAX], *fill;
        ltrr_entity_t e;
        int pass;

        csr->keys = keys;
        if (!(csr->off = calloc((size_t)keys + 1, sizeof(uint32_t))))
                return LTRR_ERR_NOMEM;
        for (pass = 0; pass < 2; pass++) {
                for (i = 0; i < n; i++) {
                        ltrr_catalog_get(sim->cat, i, &e);
                        cnt = fn(sim, &e, kb, LTRR_CATALOG_LIST_MAX);
                        for (j = 0; j < cnt; j++) {
                                if ((k = kb[j]) >= keys)
                                        continue;
                                if (pass == 0)
                                        csr->off[k + 1]++;
                                else
                                        csr->ent[fill[k]++] = i;
                        }
                }
                if (pass == 1)
                        break;
                for (k = 0; k < keys; k++)
                        csr->off[k + 1] += csr->off[k];
                csr->ent =
                    malloc(((size_t)csr->off[keys] + 1) * sizeof(uint32_t));
                fill = malloc(((size_t)keys + 1) * sizeof(uint32_t));
                if (!csr->ent || !fill) {
                        free(fill);
                        return LTRR_ERR_NOMEM;
                }
                memcpy(fill, csr->off, (size_t)keys * sizeof(uint32_t));
        }
        free(fill);
        return LTRR_OK;
}

/* Appends entity @idx of popularity @pop to a list and its running sum. */
static void cdf_push(uint32_t *ents, double *cdf, uint32_t *cnt, uint32_t idx,
                     float pop)
{
        double prev = *cnt ? cdf[*cnt - 1] : 0;

        ents[*cnt] = idx;
        cdf[*cnt] = prev + (pop > 0 ? pop : 0) + 1e-6;
        (*cnt)++;
}

/* Known items (tracks, albums) and artists with popularity weights. */
static ltrr_err_t lists_build(ltrr_sim_t *sim)
{
        uint32_t n = ltrr_catalog_count(sim->cat), i;
        uint32_t syms =
            ltrr_catalog_sym_count(sim->cat, LTRR_CATALOG_SYM_ARTIST);
        ltrr_entity_t e;

        sim->items = malloc(n * sizeof(uint32_t));
        sim->items_cdf = malloc(n * sizeof(double));
        sim->artist_ents = malloc(n * sizeof(uint32_t));
        sim->artist_cdf = malloc(n * sizeof(double));
        sim->artist_ent_of = malloc(((size_t)syms + 1) * sizeof(uint32_t));
        if (!sim->items || !sim->items_cdf || !sim->artist_ents ||
            !sim->artist_cdf || !sim->artist_ent_of)
                return LTRR_ERR_NOMEM;
        memset(sim->artist_ent_of, 0xff, ((size_t)syms + 1) * sizeof(uint32_t));
        for (i = 0; i < n; i++) {
                ltrr_catalog_get(sim->cat, i, &e);
                if (e.type == LTRR_ENTITY_TRACK || e.type == LTRR_ENTITY_ALBUM)
                        cdf_push(sim->items, sim->items_cdf, &sim->items_cnt, i,
                                 e.popularity);
                if (e.type == LTRR_ENTITY_ARTIST && e.artists_cnt) {
                        cdf_push(sim->artist_ents, sim->artist_cdf,
                                 &sim->artist_ents_cnt, i, e.popularity);
                        sim->artist_ent_of[e.artists[0]] = i;
                }
        }
        return LTRR_OK;
}

ltrr_err_t ltrr_sim_lookups_build(ltrr_sim_t *sim, char *errstr,
                                  size_t errstr_size)
{
        const ltrr_synth_vocab_t *v = ltrr_synth_vocab();
        const ltrr_catalog_t *cat = sim->cat;
        uint32_t artists = ltrr_catalog_sym_count(cat, LTRR_CATALOG_SYM_ARTIST);
        uint32_t genres = ltrr_catalog_sym_count(cat, LTRR_CATALOG_SYM_GENRE);
        ltrr_err_t err;

        sim->cores_cnt = v->cores_cnt < LTRR_SIM_CORES_MAX
                             ? (uint32_t)v->cores_cnt
                             : LTRR_SIM_CORES_MAX;
        if ((err = lists_build(sim)) ||
            (err = csr_build(sim, &sim->by_artist, artists, keys_artist)) ||
            (err = csr_build(sim, &sim->by_genre, genres, keys_genre)) ||
            (err = csr_build(sim, &sim->by_core, sim->cores_cnt, keys_core)))
                return ltrr_errf(err, errstr, errstr_size,
                                 "sim: building catalog lookups: %s",
                                 ltrr_err2str(err));
        return LTRR_OK;
}

void ltrr_sim_lookups_free(ltrr_sim_t *sim)
{
        free(sim->items);
        free(sim->items_cdf);
        free(sim->artist_ents);
        free(sim->artist_cdf);
        free(sim->artist_ent_of);
        ltrr_sim_csr_free(&sim->by_artist);
        ltrr_sim_csr_free(&sim->by_genre);
        ltrr_sim_csr_free(&sim->by_core);
}

/* ---- typos and text ------------------------------------------------------ */

static int is_letter(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Byte offsets of the ASCII letters of @s; returns how many (<= cap). */
static size_t letters(const char *s, size_t *pos, size_t cap)
{
        size_t i, n = 0;

        for (i = 0; s[i] && n < cap; i++)
                if (is_letter(s[i]))
                        pos[n++] = i;
        return n;
}

/* A lowercase letter other than @c. */
static char other_letter(char c, ltrr_rng_t *rng)
{
        char x = (char)('a' + ltrr_rng_below(rng, 25));

        return x >= (char)tolower((unsigned char)c) ? (char)(x + 1) : x;
}

ltrr_err_t ltrr_sim_typo(const char *in, ltrr_rng_t *rng, char *out,
                         size_t out_size)
{
        size_t pos[LTRR_SIM_QUERY_MAX], len = strlen(in), n, p, i;
        uint64_t op = ltrr_rng_below(rng, 4);

        n = letters(in, pos, LTRR_SIM_QUERY_MAX);
        if (n < 2)
                return LTRR_ERR_INVALID_ARG;
        if (len + 2 > out_size)
                return LTRR_ERR_NOSPACE;
        memcpy(out, in, len + 1);
        p = pos[ltrr_rng_below(rng, n)];
        if (op == 3) { /* transpose two adjacent, different letters */
                size_t start = (size_t)ltrr_rng_below(rng, n - 1);

                for (i = 0; i + 1 < n; i++) {
                        size_t a = pos[(start + i) % (n - 1)];

                        if (is_letter(in[a + 1]) &&
                            tolower(in[a]) != tolower(in[a + 1])) {
                                out[a] = in[a + 1];
                                out[a + 1] = in[a];
                                return LTRR_OK;
                        }
                }
                op = 0; /* no such pair: substitute instead */
        }
        if (op == 0) {
                out[p] = other_letter(in[p], rng);
        } else if (op == 1) {
                memmove(out + p, in + p + 1, len - p);
        } else {
                out[p] = (char)('a' + ltrr_rng_below(rng, 26));
                memcpy(out + p + 1, in + p, len - p + 1);
        }
        return LTRR_OK;
}

/* Drops an incomplete UTF-8 sequence at the end of @s (left by cutting a
 * string at a byte count). */
static void utf8_trim(char *s)
{
        size_t len = strlen(s), i = len, need;
        unsigned char c;

        while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
                i--;
        if (i == 0 || (unsigned char)s[i - 1] < 0x80)
                return;
        c = (unsigned char)s[i - 1];
        need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (len - (i - 1) < need)
                s[i - 1] = '\0';
}

/* Copies @s into @out lowercasing ASCII letters; never ends inside a
 * UTF-8 sequence. */
static void lower_copy(const char *s, char *out, size_t size)
{
        size_t i;

        for (i = 0; s[i] && i + 1 < size; i++)
                out[i] = (char)tolower((unsigned char)s[i]);
        out[i] = '\0';
        utf8_trim(out);
}

/* The first word of @s (up to a space), lowercased, into @out. */
static void first_word(const char *s, char *out, size_t size)
{
        size_t i;

        for (i = 0; s[i] && s[i] != ' ' && i + 1 < size; i++)
                out[i] = (char)tolower((unsigned char)s[i]);
        out[i] = '\0';
        utf8_trim(out);
}

/* The longest space-separated word of @s, lowercased, into @out. */
static void longest_word(const char *s, char *out, size_t size)
{
        const char *best = s, *p = s;
        size_t best_len = 0, l;

        while (*p) {
                while (*p == ' ')
                        p++;
                for (l = 0; p[l] && p[l] != ' '; l++)
                        ;
                if (l > best_len && is_letter(p[0])) {
                        best = p;
                        best_len = l;
                }
                p += l;
        }
        if (best_len >= size)
                best_len = size - 1;
        for (l = 0; l < best_len; l++)
                out[l] = (char)tolower((unsigned char)best[l]);
        out[l] = '\0';
        utf8_trim(out);
}

/* ---- ground truth -------------------------------------------------------- */

/* 1 if @e credits artist symbol @a. */
static int credits(const ltrr_entity_t *e, uint32_t a)
{
        uint32_t i;

        for (i = 0; i < e->artists_cnt; i++)
                if (e->artists[i] == a)
                        return 1;
        return 0;
}

/* 1 if @e has genre symbol @g. */
static int has_genre(const ltrr_entity_t *e, uint32_t g)
{
        uint32_t i;

        for (i = 0; i < e->genres_cnt; i++)
                if (e->genres[i] == g)
                        return 1;
        return 0;
}

/* 1 if @e has mood symbol @m. */
static int has_mood(const ltrr_entity_t *e, uint32_t m)
{
        uint32_t i;

        for (i = 0; i < e->moods_cnt; i++)
                if (e->moods[i] == m)
                        return 1;
        return 0;
}

/* Grade of @e for a topical intent. */
static uint8_t grade_topical(const ltrr_sim_intent_t *it,
                             const ltrr_entity_t *e)
{
        int y, m, d,
            music =
                e->type == LTRR_ENTITY_TRACK || e->type == LTRR_ENTITY_ALBUM;
        char dec[16];

        if (!has_genre(e, it->genre))
                return 0;
        if (it->form == LTRR_SIM_FORM_PODCAST)
                return e->type == LTRR_ENTITY_PODCAST   ? 3
                       : e->type == LTRR_ENTITY_EPISODE ? 1
                                                        : 0;
        if (it->form == LTRR_SIM_FORM_MOOD) {
                if (!has_mood(e, it->mood))
                        return 0;
                return e->type == LTRR_ENTITY_PLAYLIST ? 3 : music ? 2 : 0;
        }
        if (e->type == LTRR_ENTITY_PLAYLIST) {
                snprintf(dec, sizeof(dec), "the %ds", (int)it->decade);
                return strstr(e->name, dec) ? 3 : 0;
        }
        if (!music || e->release_prec == LTRR_DATE_NONE)
                return 0;
        ltrr_date_to_ymd(e->release_days, &y, &m, &d);
        return y >= it->decade && y < it->decade + 10 ? 2 : 0;
}

/* Grade of @e for an ambiguous word, from the user's taste. */
static uint8_t grade_ambiguous(const ltrr_sim_t *sim,
                               const ltrr_sim_intent_t *it,
                               const ltrr_entity_t *e)
{
        const ltrr_sim_user_t *u = &sim->users[it->user];
        uint32_t i;

        if (!ltrr_sim_has_word(e->name, it->core))
                return 0;
        for (i = 0; i < u->artists_cnt; i++)
                if (credits(e, u->artists[i]))
                        return 3;
        for (i = 0; i < u->genres_cnt; i++)
                if (has_genre(e, u->genres[i]))
                        return 1;
        return 0;
}

/* Grade of @e for the new releases of an artist: released in the last
 * SIM_NEW_DAYS days before the catalog's today. */
static uint8_t grade_new(const ltrr_sim_t *sim, const ltrr_sim_intent_t *it,
                         const ltrr_entity_t *e)
{
        if (!credits(e, it->artist) || e->release_prec != LTRR_DATE_DAY ||
            e->release_days < sim->conf.ref_days - SIM_NEW_DAYS ||
            e->release_days > sim->conf.ref_days)
                return 0;
        if (e->type == LTRR_ENTITY_ALBUM || e->type == LTRR_ENTITY_EPISODE)
                return 3;
        return e->type == LTRR_ENTITY_TRACK ? 2 : 0;
}

uint8_t ltrr_sim_grade(const ltrr_sim_t *sim, const ltrr_sim_intent_t *it,
                       uint32_t idx)
{
        ltrr_entity_t e;

        if (ltrr_catalog_get(sim->cat, idx, &e))
                return 0;
        switch (it->kind) {
        case LTRR_SIM_KNOWN_ITEM:
                return idx == it->target ? 3 : 0;
        case LTRR_SIM_ARTIST:
                if (!credits(&e, it->artist))
                        return 0;
                return e.type == LTRR_ENTITY_ARTIST ? 3 : 1;
        case LTRR_SIM_TOPICAL:
                return grade_topical(it, &e);
        case LTRR_SIM_AMBIGUOUS:
                return grade_ambiguous(sim, it, &e);
        case LTRR_SIM_NEW_RELEASE:
                return grade_new(sim, it, &e);
        default:
                return 0;
        }
}

/* Keeps the LTRR_SIM_K best of the entities in @ents by (grade, then
 * popularity, then catalog order) as the intent's ideal list. */
static void ideal_fill(const ltrr_sim_t *sim, ltrr_sim_intent_t *it,
                       const uint32_t *ents, uint32_t n)
{
        float pop[LTRR_SIM_K];
        ltrr_entity_t e;
        uint32_t i, j;
        uint8_t g;

        it->ideal_cnt = 0;
        for (i = 0; i < n; i++) {
                if (!(g = ltrr_sim_grade(sim, it, ents[i])))
                        continue;
                ltrr_catalog_get(sim->cat, ents[i], &e);
                j = it->ideal_cnt;
                while (j > 0 && (it->ideal_grades[j - 1] < g ||
                                 (it->ideal_grades[j - 1] == g &&
                                  pop[j - 1] < e.popularity)))
                        j--;
                if (j >= LTRR_SIM_K)
                        continue;
                if (it->ideal_cnt < LTRR_SIM_K)
                        it->ideal_cnt++;
                memmove(&it->ideal[j + 1], &it->ideal[j],
                        (it->ideal_cnt - 1 - j) * sizeof(uint32_t));
                memmove(&it->ideal_grades[j + 1], &it->ideal_grades[j],
                        it->ideal_cnt - 1 - j);
                memmove(&pop[j + 1], &pop[j],
                        (it->ideal_cnt - 1 - j) * sizeof(float));
                it->ideal[j] = ents[i];
                it->ideal_grades[j] = g;
                pop[j] = e.popularity;
        }
}

/* Entities of key @k of @csr (none when out of range). */
static const uint32_t *csr_list(const sim_csr_t *csr, uint32_t k, uint32_t *n)
{
        if (k >= csr->keys) {
                *n = 0;
                return NULL;
        }
        *n = csr->off[k + 1] - csr->off[k];
        return csr->ent + csr->off[k];
}

/* ---- drawing intents ----------------------------------------------------- */

/* A random favourite artist of @u, or NONE. */
static uint32_t fav_artist(const ltrr_sim_user_t *u, ltrr_rng_t *rng)
{
        return u->artists_cnt ? u->artists[ltrr_rng_below(rng, u->artists_cnt)]
                              : NONE;
}

/* A random favourite genre of @u, or NONE. */
static uint32_t fav_genre(const ltrr_sim_user_t *u, ltrr_rng_t *rng)
{
        return u->genres_cnt ? u->genres[ltrr_rng_below(rng, u->genres_cnt)]
                             : NONE;
}

/* A known item: half the time a work of a favourite artist, else any
 * track or album by popularity. */
static uint32_t pick_item(const ltrr_sim_t *sim, const ltrr_sim_user_t *u,
                          ltrr_rng_t *rng)
{
        uint32_t n, tries, idx;
        const uint32_t *l;
        ltrr_entity_t e;

        if (ltrr_rng_below(rng, 2)) {
                l = csr_list(&sim->by_artist, fav_artist(u, rng), &n);
                for (tries = 0; n && tries < 8; tries++) {
                        idx = l[ltrr_rng_below(rng, n)];
                        ltrr_catalog_get(sim->cat, idx, &e);
                        if (e.type == LTRR_ENTITY_TRACK ||
                            e.type == LTRR_ENTITY_ALBUM)
                                return idx;
                }
        }
        if (!sim->items_cnt)
                return UINT32_MAX;
        return sim
            ->items[ltrr_sim_cdf_pick(sim->items_cdf, sim->items_cnt, rng)];
}

/* Writes a prefix of the title: first word plus part of the next, or
 * most of a single word. */
static void partial_title(const char *name, ltrr_rng_t *rng, char *out,
                          size_t size)
{
        const char *sp = strchr(name, ' ');
        size_t keep, len = strlen(name);

        if (sp && sp[1])
                keep = (size_t)(sp - name) + 2 +
                       (size_t)ltrr_rng_below(
                           rng, strlen(sp + 1) > 2 ? strlen(sp + 1) - 2 : 1);
        else
                keep = len > 3 ? 3 + (size_t)ltrr_rng_below(rng, len - 3) : len;
        if (keep > len)
                keep = len;
        if (keep >= size)
                keep = size - 1;
        lower_copy(name, out, keep + 1);
}

/* "tayler love": the artist's first word, often misspelt, and the title's
 * longest word. */
static void artist_word(const ltrr_sim_t *sim, const ltrr_entity_t *e,
                        ltrr_rng_t *rng, char *out, size_t size)
{
        char who[48], typo[48], word[48];
        const char *a =
            e->artists_cnt
                ? ltrr_catalog_sym_name(sim->cat, LTRR_CATALOG_SYM_ARTIST,
                                        e->artists[0])
                : "";

        first_word(a ? a : "", who, sizeof(who));
        if (!strcmp(who, "the") && a && strchr(a, ' '))
                first_word(strchr(a, ' ') + 1, who, sizeof(who));
        if (ltrr_rng_below(rng, 100) < 60 &&
            !ltrr_sim_typo(who, rng, typo, sizeof(typo)))
                memcpy(who, typo, sizeof(who));
        longest_word(e->name, word, sizeof(word));
        snprintf(out, size, "%s %s", who, word);
}

/* Known-item seeking, in one of four query forms. */
static ltrr_err_t draw_known(const ltrr_sim_t *sim, const ltrr_sim_user_t *u,
                             ltrr_rng_t *rng, ltrr_sim_intent_t *it)
{
        uint64_t x = ltrr_rng_below(rng, 100);
        char low[LTRR_SIM_QUERY_MAX];
        ltrr_entity_t e;

        if ((it->target = pick_item(sim, u, rng)) == UINT32_MAX)
                return LTRR_ERR_STATE;
        ltrr_catalog_get(sim->cat, it->target, &e);
        lower_copy(e.name, low, sizeof(low));
        it->form = LTRR_SIM_FORM_EXACT;
        it->best_arms = ARM(LEXICAL) | ARM(POPULAR);
        if (x < 40 ||
            (x < 65 && ltrr_sim_typo(low, rng, it->query, sizeof(it->query)))) {
                snprintf(it->query, sizeof(it->query), "%s", low);
        } else if (x < 65) {
                it->form = LTRR_SIM_FORM_TYPO;
                it->best_arms = ARM(FUZZY) | ARM(LEXICAL);
        } else if (x < 80) {
                it->form = LTRR_SIM_FORM_PARTIAL;
                it->best_arms = ARM(POPULAR) | ARM(LEXICAL);
                partial_title(e.name, rng, it->query, sizeof(it->query));
                if (!strcmp(it->query, low)) { /* too short to cut */
                        it->form = LTRR_SIM_FORM_EXACT;
                        it->best_arms = ARM(LEXICAL) | ARM(POPULAR);
                }
        } else {
                it->form = LTRR_SIM_FORM_ARTIST_WORD;
                it->best_arms = ARM(FUZZY) | ARM(LEXICAL) | ARM(PERSONAL);
                artist_word(sim, &e, rng, it->query, sizeof(it->query));
        }
        it->ideal[0] = it->target;
        it->ideal_grades[0] = 3;
        it->ideal_cnt = 1;
        return LTRR_OK;
}

/* Artist seeking: a favourite or a popular artist, sometimes misspelt. */
static ltrr_err_t draw_artist(const ltrr_sim_t *sim, const ltrr_sim_user_t *u,
                              ltrr_rng_t *rng, ltrr_sim_intent_t *it)
{
        char low[LTRR_SIM_QUERY_MAX];
        const uint32_t *l;
        ltrr_entity_t e;
        uint32_t n;

        it->artist = ltrr_rng_below(rng, 100) < 60 ? fav_artist(u, rng) : NONE;
        if (it->artist == NONE && sim->artist_ents_cnt) {
                ltrr_catalog_get(
                    sim->cat,
                    sim->artist_ents[ltrr_sim_cdf_pick(
                        sim->artist_cdf, sim->artist_ents_cnt, rng)],
                    &e);
                it->artist = e.artists[0];
        }
        if (it->artist == NONE)
                return LTRR_ERR_STATE;
        lower_copy(ltrr_catalog_sym_name(sim->cat, LTRR_CATALOG_SYM_ARTIST,
                                         it->artist),
                   low, sizeof(low));
        it->form = LTRR_SIM_FORM_EXACT;
        it->best_arms = ARM(LEXICAL) | ARM(POPULAR);
        if (ltrr_rng_below(rng, 100) < 20 &&
            !ltrr_sim_typo(low, rng, it->query, sizeof(it->query))) {
                it->form = LTRR_SIM_FORM_TYPO;
                it->best_arms = ARM(FUZZY) | ARM(POPULAR);
        } else {
                snprintf(it->query, sizeof(it->query), "%s", low);
        }
        l = csr_list(&sim->by_artist, it->artist, &n);
        ideal_fill(sim, it, l, n);
        return it->ideal_cnt ? LTRR_OK : LTRR_ERR_STATE;
}

/* "90s rock", "sad jazz" or "true crime podcast". */
static ltrr_err_t draw_topical(const ltrr_sim_t *sim, const ltrr_sim_user_t *u,
                               ltrr_rng_t *rng, ltrr_sim_intent_t *it)
{
        const ltrr_synth_vocab_t *v = ltrr_synth_vocab();
        uint64_t x = ltrr_rng_below(rng, 100);
        const char *topic, *mood;
        const uint32_t *l;
        uint32_t n;

        it->best_arms = ARM(STRUCTURED) | ARM(POPULAR);
        if (x < 25) {
                topic = v->topics[ltrr_rng_below(rng, v->topics_cnt)];
                it->form = LTRR_SIM_FORM_PODCAST;
                it->genre = ltrr_catalog_sym_find(
                    sim->cat, LTRR_CATALOG_SYM_GENRE, topic);
                it->best_arms = ARM(STRUCTURED) | ARM(LEXICAL);
                snprintf(it->query, sizeof(it->query), "%s podcast", topic);
        } else if ((it->genre = fav_genre(u, rng)) == NONE) {
                return LTRR_ERR_STATE;
        } else if (x < 60) {
                mood = v->moods[ltrr_rng_below(rng, v->moods_cnt)];
                it->form = LTRR_SIM_FORM_MOOD;
                it->mood = ltrr_catalog_sym_find(sim->cat,
                                                 LTRR_CATALOG_SYM_MOOD, mood);
                snprintf(it->query, sizeof(it->query), "%s %s", mood,
                         ltrr_catalog_sym_name(sim->cat, LTRR_CATALOG_SYM_GENRE,
                                               it->genre));
        } else {
                it->form = LTRR_SIM_FORM_DECADE;
                it->decade = 1960 + 10 * (int32_t)ltrr_rng_below(rng, 6);
                snprintf(it->query, sizeof(it->query), "%ds %s",
                         it->decade < 2000 ? (int)(it->decade % 100)
                                           : (int)it->decade,
                         ltrr_catalog_sym_name(sim->cat, LTRR_CATALOG_SYM_GENRE,
                                               it->genre));
        }
        if (it->genre == NONE ||
            (it->form == LTRR_SIM_FORM_MOOD && it->mood == NONE))
                return LTRR_ERR_STATE;
        l = csr_list(&sim->by_genre, it->genre, &n);
        ideal_fill(sim, it, l, n);
        return it->ideal_cnt ? LTRR_OK : LTRR_ERR_STATE;
}

/* "love": a title word that one of the user's favourite artists uses. */
static ltrr_err_t draw_ambiguous(const ltrr_sim_t *sim,
                                 const ltrr_sim_user_t *u, ltrr_rng_t *rng,
                                 ltrr_sim_intent_t *it)
{
        const ltrr_synth_vocab_t *v = ltrr_synth_vocab();
        uint32_t n, tries, c, start;
        const uint32_t *l;
        ltrr_entity_t e;

        l = csr_list(&sim->by_artist, fav_artist(u, rng), &n);
        for (tries = 0; n && tries < 16; tries++) {
                ltrr_catalog_get(sim->cat, l[ltrr_rng_below(rng, n)], &e);
                start = (uint32_t)ltrr_rng_below(rng, sim->cores_cnt);
                for (c = 0; c < sim->cores_cnt; c++)
                        if (ltrr_sim_has_word(
                                e.name, v->cores[(start + c) % sim->cores_cnt]))
                                goto found;
        }
        return LTRR_ERR_STATE;
found:
        c = (start + c) % sim->cores_cnt;
        it->form = LTRR_SIM_FORM_EXACT;
        snprintf(it->core, sizeof(it->core), "%s", v->cores[c]);
        lower_copy(v->cores[c], it->query, sizeof(it->query));
        it->best_arms = ARM(PERSONAL) | ARM(POPULAR) | ARM(LEXICAL);
        l = csr_list(&sim->by_core, c, &n);
        ideal_fill(sim, it, l, n);
        return it->ideal_cnt ? LTRR_OK : LTRR_ERR_STATE;
}

/* Fills @it's ideal list for the new releases of @artist; returns how
 * many there are. */
static uint32_t new_of_artist(const ltrr_sim_t *sim, ltrr_sim_intent_t *it,
                              uint32_t artist)
{
        const uint32_t *l;
        uint32_t n;

        it->artist = artist;
        l = csr_list(&sim->by_artist, artist, &n);
        ideal_fill(sim, it, l, n);
        return it->ideal_cnt;
}

/* "new taylor swift": what an artist released in the last weeks. Users
 * ask for a favourite artist that has something new, else for a popular
 * artist that has (they heard of it elsewhere). */
static ltrr_err_t draw_new(const ltrr_sim_t *sim, const ltrr_sim_user_t *u,
                           ltrr_rng_t *rng, ltrr_sim_intent_t *it)
{
        char low[LTRR_SIM_QUERY_MAX - 4];
        uint32_t i, start, tries, a = NONE;
        ltrr_entity_t e;

        start = u->artists_cnt ? (uint32_t)ltrr_rng_below(rng, u->artists_cnt)
                               : 0;
        for (i = 0; i < u->artists_cnt && a == NONE; i++)
                if (new_of_artist(sim, it,
                                  u->artists[(start + i) % u->artists_cnt]))
                        a = it->artist;
        for (tries = 0; a == NONE && sim->artist_ents_cnt && tries < 64;
             tries++) {
                ltrr_catalog_get(sim->cat,
                                 sim->artist_ents[ltrr_sim_cdf_pick(
                                     sim->artist_cdf, sim->artist_ents_cnt,
                                     rng)],
                                 &e);
                if (e.artists_cnt && new_of_artist(sim, it, e.artists[0]))
                        a = it->artist;
        }
        if (a == NONE)
                return LTRR_ERR_STATE;
        lower_copy(ltrr_catalog_sym_name(sim->cat, LTRR_CATALOG_SYM_ARTIST, a),
                   low, sizeof(low));
        it->form = LTRR_SIM_FORM_EXACT;
        snprintf(it->query, sizeof(it->query), "new %s", low);
        it->best_arms = ARM(FRESH) | ARM(LEXICAL);
        return LTRR_OK;
}

/* Clears @it for user @user and kind @kind. */
static void intent_reset(ltrr_sim_intent_t *it, uint32_t user,
                         ltrr_sim_kind_t kind)
{
        memset(it, 0, sizeof(*it));
        it->kind = kind;
        it->user = user;
        it->target = UINT32_MAX;
        it->artist = NONE;
        it->genre = NONE;
        it->mood = NONE;
}

ltrr_err_t ltrr_sim_intent_draw_kind(const ltrr_sim_t *sim, uint32_t user,
                                     ltrr_sim_kind_t kind, ltrr_rng_t *rng,
                                     ltrr_sim_intent_t *it)
{
        const ltrr_sim_user_t *u = ltrr_sim_user(sim, user);

        if (!u || (unsigned)kind >= LTRR_SIM_KIND__CNT)
                return LTRR_ERR_RANGE;
        intent_reset(it, user, kind);
        switch (kind) {
        case LTRR_SIM_KNOWN_ITEM:
                return draw_known(sim, u, rng, it);
        case LTRR_SIM_ARTIST:
                return draw_artist(sim, u, rng, it);
        case LTRR_SIM_TOPICAL:
                return draw_topical(sim, u, rng, it);
        case LTRR_SIM_AMBIGUOUS:
                return draw_ambiguous(sim, u, rng, it);
        default:
                return draw_new(sim, u, rng, it);
        }
}

ltrr_err_t ltrr_sim_intent_draw(const ltrr_sim_t *sim, uint32_t user,
                                ltrr_rng_t *rng, ltrr_sim_intent_t *it)
{
        const ltrr_sim_user_t *u = ltrr_sim_user(sim, user);
        double x, acc = 0;
        int k;

        if (!u)
                return LTRR_ERR_RANGE;
        x = ltrr_rng_uniform(rng);
        for (k = 0; k < LTRR_SIM_KIND__CNT - 1; k++) {
                acc += u->mix[k];
                if (x < acc)
                        break;
        }
        if (!ltrr_sim_intent_draw_kind(sim, user, (ltrr_sim_kind_t)k, rng, it))
                return LTRR_OK;
        /* Nothing of that kind for this user: look for a known item. */
        return ltrr_sim_intent_draw_kind(sim, user, LTRR_SIM_KNOWN_ITEM, rng,
                                         it);
}
