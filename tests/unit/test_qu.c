/* Unit tests: query understanding dictionaries and tagger. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "import.h"
#include "spotify_testlib.h"
#include "qu.h"
#include "synth.h"
#include "text.h"

#define MAX_SPANS 16

/* The hand-built catalog, its dictionary and the shared tagging state. */
static ltrr_catalog_t *cat;
static ltrr_qu_dict_t *dict;
static ltrr_analyzer_t *an;
static ltrr_qu_scratch_t *sc;
static ltrr_token_t toks[LTRR_TEXT_TOKENS_MAX];
static char arena[LTRR_TEXT_ARENA_SIZE];

/* One tagging result. */
struct tagged {
        ltrr_qu_span_t spans[MAX_SPANS];
        size_t cnt;
        ltrr_qu_intent_t intent;
};

static void add(const char *id, const char *name, const char *artist,
                float pop, const char *genre, const char *sub,
                const char *mood, const char *lang, int year)
{
        ltrr_entity_in_t in;
        char errstr[256];

        ltrr_entity_in_init(&in);
        in.id = id;
        in.name = name;
        in.artists = &artist;
        in.artists_cnt = artist ? 1 : 0;
        in.genres = &genre;
        in.genres_cnt = genre ? 1 : 0;
        in.subgenres = &sub;
        in.subgenres_cnt = sub ? 1 : 0;
        in.moods = &mood;
        in.moods_cnt = mood ? 1 : 0;
        in.language = lang;
        in.popularity = pop;
        if (year) {
                in.release_days = ltrr_date_from_ymd(year, 1, 1);
                in.release_prec = LTRR_DATE_YEAR;
        }
        assert_int_equal(ltrr_catalog_add(cat, &in, errstr, sizeof(errstr)),
                         LTRR_OK);
}

static int setup(void **state)
{
        char errstr[256];

        (void)state;
        cat = ltrr_catalog_new(0, errstr, sizeof(errstr));
        an = ltrr_analyzer_new("en", errstr, sizeof(errstr));
        sc = ltrr_qu_scratch_new(errstr, sizeof(errstr));
        if (!cat || !an || !sc)
                return -1;
        add("t1", "Love Story", "Taylor Swift", 90, "pop", "dance pop",
            "romantic", "en", 2008);
        add("t2", "Shake It Off", "Taylor Swift", 88, "pop", NULL, "happy",
            "en", 2014);
        add("t3", "Halo", "Beyoncé", 85, "r&b", "neo soul", "romantic", "en",
            2008);
        add("t4", "Crazy in Love", "Beyoncé", 84, "r&b", NULL, "energetic",
            "en", 2003);
        add("t5", "Enter Sandman", "Metallica", 80, "rock", "hard rock",
            "angry", "en", 1991);
        add("t6", "Love", "Love", 5, "rock", NULL, NULL, "en", 1966);
        add("t7", "Love Me", "Lena Park", 20, "pop", NULL, "sad", "ko", 2001);
        add("t8", "Love Again", "Dua Lipa", 70, "pop", NULL, "happy", "en",
            2020);
        add("t9", "Love Song", "Sara Bareilles", 60, "pop", NULL, NULL, "en",
            2007);
        add("t10", "Love Tonight", "Shouse", 50, "edm", "house", "happy",
            "en", 2017);
        add("t11", "Despacito", "Luis Fonsi", 89, "latin", "reggaeton",
            "happy", "es", 2017);
        add("t12", "Chandelier", "Sia", 82, "pop", NULL, "sad", "en", 2014);
        add("t13", "Smells Like Teen Spirit", "Nirvana", 83, "rock", "punk",
            "angry", "en", 1991);
        add("t14", "My Love", "Rock Star Boys", 3, "rock", NULL, NULL, "en",
            1999);
        dict = ltrr_qu_dict_build(cat, an, errstr, sizeof(errstr));
        return dict ? 0 : -1;
}

static int teardown(void **state)
{
        (void)state;
        ltrr_qu_dict_destroy(dict);
        ltrr_qu_scratch_destroy(sc);
        ltrr_analyzer_destroy(an);
        ltrr_catalog_destroy(cat);
        return 0;
}

/* Analyzes @q and tags it with @d into @out. */
static void tag_with(const ltrr_qu_dict_t *d, const char *q,
                     struct tagged *out)
{
        ltrr_tokbuf_t tb;
        char errstr[128];

        ltrr_tokbuf_init(&tb, toks, LTRR_TEXT_TOKENS_MAX, arena,
                         sizeof(arena));
        assert_int_equal(ltrr_analyzer_analyze(an, q, strlen(q), &tb, errstr,
                                               sizeof(errstr)), LTRR_OK);
        assert_int_equal(ltrr_qu_tag(d, sc, tb.toks, tb.cnt, out->spans,
                                     MAX_SPANS, &out->cnt, &out->intent),
                         LTRR_OK);
}

static void tag(const char *q, struct tagged *out)
{
        tag_with(dict, q, out);
}

/* Display name of span @i's entry, NUL-terminated in a static buffer. */
static const char *span_name(const struct tagged *t, size_t i)
{
        static char buf[256];
        ltrr_qu_entry_t e;

        assert_int_equal(ltrr_qu_dict_entry(dict, t->spans[i].entry, &e),
                         LTRR_OK);
        assert_true(e.name_len < sizeof(buf));
        memcpy(buf, e.name, e.name_len);
        buf[e.name_len] = '\0';
        return buf;
}

/* Asserts span @i covers [start, start + len) as @kind. */
static void expect_span(const struct tagged *t, size_t i, unsigned start,
                        unsigned len, ltrr_qu_kind_t kind)
{
        assert_true(i < t->cnt);
        assert_int_equal(t->spans[i].start, start);
        assert_int_equal(t->spans[i].len, len);
        assert_string_equal(ltrr_qu_kind_name(t->spans[i].kind),
                            ltrr_qu_kind_name(kind));
}

static void test_lifecycle(void **state)
{
        char errstr[128] = "";

        (void)state;
        ltrr_qu_dict_destroy(NULL);
        ltrr_qu_scratch_destroy(NULL);
        assert_null(ltrr_qu_dict_build(NULL, an, errstr, sizeof(errstr)));
        assert_non_null(strstr(errstr, "required"));
        assert_null(ltrr_qu_dict_build(cat, NULL, NULL, 0));
        assert_string_equal(ltrr_qu_kind_name(LTRR_QU_LANGUAGE), "language");
        assert_string_equal(ltrr_qu_kind_name(LTRR_QU__CNT), "unknown");
        assert_string_equal(ltrr_qu_intent_name(LTRR_QU_INTENT_TOPICAL),
                            "topical");
        assert_string_equal(ltrr_qu_intent_name(LTRR_QU_INTENT__CNT),
                            "unknown");
        assert_int_equal(ltrr_qu_fuzzy_max(3), 0);
        assert_int_equal(ltrr_qu_fuzzy_max(4), 1);
        assert_int_equal(ltrr_qu_fuzzy_max(7), 1);
        assert_int_equal(ltrr_qu_fuzzy_max(8), 2);
        assert_int_equal(ltrr_qu_dict_token(dict, "nosuchword", 10),
                         LTRR_QU_NONE);
}

static void test_artist_exact(void **state)
{
        struct tagged t;
        ltrr_qu_entry_t e;

        (void)state;
        tag("Taylor Swift", &t);
        assert_int_equal(t.cnt, 1);
        expect_span(&t, 0, 0, 2, LTRR_QU_ARTIST);
        assert_string_equal(span_name(&t, 0), "Taylor Swift");
        assert_int_equal(t.spans[0].value,
                         ltrr_catalog_sym_find(cat, LTRR_CATALOG_SYM_ARTIST,
                                               "Taylor Swift"));
        assert_int_equal(t.spans[0].fuzzy, 0);
        assert_int_equal(t.spans[0].dist, 0);
        assert_true(t.spans[0].confidence > 0.8f);
        assert_int_equal(t.intent, LTRR_QU_INTENT_ARTIST);
        assert_int_equal(ltrr_qu_dict_entry(dict, t.spans[0].entry, &e),
                         LTRR_OK);
        assert_int_equal(e.toks_cnt, 2);
        assert_true(e.weight > 0.9f);
        assert_int_equal(e.freq, 2);     /* two tracks */
        assert_int_equal(e.title_df, 0); /* in no other artist's title */
        assert_int_equal(ltrr_qu_dict_entry(dict, UINT32_MAX, &e),
                         LTRR_ERR_RANGE);
}

/* "love" is a title word and (an obscure) artist: the longer, popular
 * artist wins and "love story" stays free text. */
static void test_overlap(void **state)
{
        struct tagged t;

        (void)state;
        tag("love story taylor swift", &t);
        assert_int_equal(t.cnt, 1);
        expect_span(&t, 0, 2, 2, LTRR_QU_ARTIST);
        assert_string_equal(span_name(&t, 0), "Taylor Swift");
        assert_int_equal(t.intent, LTRR_QU_INTENT_ENTITY);

        /* "rock star boys" (an artist) beats "rock" (a genre) */
        tag("rock star boys", &t);
        assert_int_equal(t.cnt, 1);
        expect_span(&t, 0, 0, 3, LTRR_QU_ARTIST);
        /* "dance pop" is one subgenre span, not "pop" alone */
        tag("dance pop", &t);
        assert_int_equal(t.cnt, 1);
        expect_span(&t, 0, 0, 2, LTRR_QU_SUBGENRE);
        assert_string_equal(span_name(&t, 0), "dance pop");
}

static void expect_fuzzy(const char *q, const char *name, unsigned dist)
{
        struct tagged t;

        tag(q, &t);
        assert_int_equal(t.cnt, 1);
        assert_int_equal(t.spans[0].kind, LTRR_QU_ARTIST);
        assert_string_equal(span_name(&t, 0), name);
        assert_int_equal(t.spans[0].fuzzy, dist > 0);
        assert_int_equal(t.spans[0].dist, dist);
}

static void test_fuzzy(void **state)
{
        struct tagged t;
        ltrr_qu_alt_t alts[4];

        (void)state;
        expect_fuzzy("tayler swift", "Taylor Swift", 1);
        expect_fuzzy("taylor swfit", "Taylor Swift", 1);
        expect_fuzzy("beyonse", "Beyoncé", 1);
        expect_fuzzy("Beyoncé", "Beyoncé", 0);
        expect_fuzzy("metalica", "Metallica", 1);
        expect_fuzzy("metallicaa", "Metallica", 1);
        expect_fuzzy("metalicca", "Metallica", 2); /* 9 letters: 2 edits */
        expect_fuzzy("sia", "Sia", 0);
        /* 7 letters allow one edit only: "metlica" is two from metallica */
        tag("metlica", &t);
        assert_int_equal(t.cnt, 0);
        /* 3-letter tokens never match fuzzily */
        tag("sio", &t);
        assert_int_equal(t.cnt, 0);
        assert_int_equal(ltrr_qu_dict_fuzzy(dict, "sio", 3, alts, 4), 0);
        assert_int_equal(ltrr_qu_dict_fuzzy(dict, "nirvanna", 8, alts, 4), 1);
        assert_int_equal(alts[0].tok, ltrr_qu_dict_token(dict, "nirvana", 7));
        assert_int_equal(alts[0].dist, 1);
        /* the token itself is not its own typo */
        assert_int_equal(ltrr_qu_dict_fuzzy(dict, "nirvana", 7, alts, 4), 0);
}

static void expect_one(const char *q, ltrr_qu_kind_t kind, uint32_t value)
{
        struct tagged t;

        tag(q, &t);
        assert_int_equal(t.cnt, 1);
        assert_int_equal(t.spans[0].kind, kind);
        assert_int_equal(t.spans[0].value, value);
}

#define LANG(a, b) ((uint32_t)(a) | (uint32_t)(b) << 8)

static void test_tables(void **state)
{
        (void)state;
        expect_one("90s", LTRR_QU_DECADE, 1990);
        expect_one("'80s", LTRR_QU_DECADE, 1980);
        expect_one("1990s", LTRR_QU_DECADE, 1990);
        expect_one("1970's", LTRR_QU_DECADE, 1970);
        expect_one("00s", LTRR_QU_DECADE, 2000);
        expect_one("nineties", LTRR_QU_DECADE, 1990);
        expect_one("años 80", LTRR_QU_DECADE, 1980);
        expect_one("1994", LTRR_QU_YEAR, 1994);
        expect_one("Spanish", LTRR_QU_LANGUAGE, LANG('e', 's'));
        expect_one("español", LTRR_QU_LANGUAGE, LANG('e', 's'));
        expect_one("français", LTRR_QU_LANGUAGE, LANG('f', 'r'));
        expect_one("日本語", LTRR_QU_LANGUAGE, LANG('j', 'a'));
        expect_one("podcasts", LTRR_QU_TYPE, LTRR_ENTITY_PODCAST);
        expect_one("Songs", LTRR_QU_TYPE, LTRR_ENTITY_TRACK);
        expect_one("canción", LTRR_QU_TYPE, LTRR_ENTITY_TRACK);
        expect_one("episodes", LTRR_QU_TYPE, LTRR_ENTITY_EPISODE);
        expect_one("album", LTRR_QU_TYPE, LTRR_ENTITY_ALBUM);
        expect_one("playlist", LTRR_QU_TYPE, LTRR_ENTITY_PLAYLIST);
        expect_one("happy", LTRR_QU_MOOD,
                   ltrr_catalog_sym_find(cat, LTRR_CATALOG_SYM_MOOD, "happy"));
        expect_one("reggaeton", LTRR_QU_SUBGENRE,
                   ltrr_catalog_sym_find(cat, LTRR_CATALOG_SYM_SUBGENRE,
                                         "reggaeton"));
        expect_one("R&B", LTRR_QU_GENRE,
                   ltrr_catalog_sym_find(cat, LTRR_CATALOG_SYM_GENRE, "r&b"));
        /* not years: too old, or not 4 digits */
        expect_one("1994 love", LTRR_QU_YEAR, 1994);
        {
                struct tagged t;

                tag("1812 12345 95s", &t);
                assert_int_equal(t.cnt, 0);
        }
}

static void test_topical_query(void **state)
{
        struct tagged t;

        (void)state;
        tag("90s rock podcast", &t);
        assert_int_equal(t.cnt, 3);
        expect_span(&t, 0, 0, 1, LTRR_QU_DECADE);
        assert_int_equal(t.spans[0].entry, LTRR_QU_NONE);
        expect_span(&t, 1, 1, 1, LTRR_QU_GENRE);
        expect_span(&t, 2, 2, 1, LTRR_QU_TYPE);
        assert_int_equal(t.intent, LTRR_QU_INTENT_TOPICAL);
        tag("happy spanish songs from the nineties", &t);
        assert_int_equal(t.cnt, 4);
        expect_span(&t, 0, 0, 1, LTRR_QU_MOOD);
        expect_span(&t, 1, 1, 1, LTRR_QU_LANGUAGE);
        expect_span(&t, 2, 2, 1, LTRR_QU_TYPE);
        expect_span(&t, 3, 5, 1, LTRR_QU_DECADE);
        assert_int_equal(t.intent, LTRR_QU_INTENT_ENTITY); /* "from the" */
}

static void test_intent(void **state)
{
        struct tagged t;

        (void)state;
        tag("love", &t);
        assert_int_equal(t.cnt, 0); /* artist "Love" is not confident */
        assert_int_equal(t.intent, LTRR_QU_INTENT_AMBIGUOUS);
        tag("xylophone", &t);
        assert_int_equal(t.intent, LTRR_QU_INTENT_AMBIGUOUS);
        tag("", &t);
        assert_int_equal(t.cnt, 0);
        assert_int_equal(t.intent, LTRR_QU_INTENT_AMBIGUOUS);
        tag("beyonce", &t);
        assert_int_equal(t.intent, LTRR_QU_INTENT_ARTIST);
        tag("metallica songs", &t);
        assert_int_equal(t.intent, LTRR_QU_INTENT_ARTIST);
        tag("halo beyonce", &t);
        assert_int_equal(t.intent, LTRR_QU_INTENT_ENTITY);
        tag("rock", &t);
        assert_int_equal(t.intent, LTRR_QU_INTENT_TOPICAL);
}

static void test_tag_errors(void **state)
{
        ltrr_qu_span_t spans[1];
        ltrr_tokbuf_t tb;
        ltrr_qu_intent_t intent;
        size_t cnt = 99;
        const char *q = "taylor swift rock 1994";

        (void)state;
        ltrr_tokbuf_init(&tb, toks, LTRR_TEXT_TOKENS_MAX, arena,
                         sizeof(arena));
        assert_int_equal(ltrr_analyzer_analyze(an, q, strlen(q), &tb, NULL,
                                               0), LTRR_OK);
        assert_int_equal(ltrr_qu_tag(NULL, sc, tb.toks, tb.cnt, spans, 1,
                                     &cnt, NULL), LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_qu_tag(dict, NULL, tb.toks, tb.cnt, spans, 1,
                                     &cnt, NULL), LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_qu_tag(dict, sc, NULL, 2, spans, 1, &cnt, NULL),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_qu_tag(dict, sc, tb.toks, tb.cnt, spans, 1,
                                     NULL, NULL), LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_qu_tag(dict, sc, tb.toks, tb.cnt, spans, 1,
                                     &cnt, &intent), LTRR_ERR_NOSPACE);
        assert_int_equal(cnt, 1);
        assert_int_equal(spans[0].kind, LTRR_QU_ARTIST);
        assert_int_equal(ltrr_qu_tag(dict, sc, tb.toks, 0, spans, 1, &cnt,
                                     &intent), LTRR_OK);
        assert_int_equal(cnt, 0);
}

/* Copies the blob of @d into 8-byte aligned memory the caller frees. */
static uint64_t *blob_copy(const ltrr_qu_dict_t *d, size_t *lenp)
{
        const void *data;
        uint64_t *copy;

        ltrr_qu_dict_blob(d, &data, lenp);
        assert_non_null(data);
        copy = malloc(*lenp + 8);
        assert_non_null(copy);
        memcpy(copy, data, *lenp);
        return copy;
}

static void test_roundtrip(void **state)
{
        static const char *const queries[] = {
            "love story taylor swift", "tayler swift", "90s rock podcast",
            "beyonse halo", "metalica enter sandman", "dance pop happy",
            "español canciones 1994", "love", "nirvanna smells like"};
        ltrr_qu_stats_t a, b;
        char errstr[256];
        size_t len, i;
        uint64_t *copy = blob_copy(dict, &len);
        ltrr_qu_dict_t *d2 = ltrr_qu_dict_load(copy, len, errstr,
                                               sizeof(errstr));

        (void)state;
        assert_non_null(d2);
        ltrr_qu_dict_stats(dict, &a);
        ltrr_qu_dict_stats(d2, &b);
        assert_memory_equal(&a, &b, sizeof(a));
        assert_int_equal(a.bytes, len);
        assert_true(a.entries > 100 && a.tokens > 50 && a.deletes > 100);
        for (i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
                struct tagged t1, t2;

                memset(&t1, 0, sizeof(t1));
                memset(&t2, 0, sizeof(t2));
                tag_with(dict, queries[i], &t1);
                tag_with(d2, queries[i], &t2);
                assert_int_equal(t1.cnt, t2.cnt);
                assert_int_equal(t1.intent, t2.intent);
                assert_memory_equal(t1.spans, t2.spans,
                                    t1.cnt * sizeof(t1.spans[0]));
        }
        ltrr_qu_dict_destroy(d2);
        free(copy);
}

/* Loading @copy (@len bytes) fails with a message holding @what. */
static void expect_refused(const void *copy, size_t len, const char *what)
{
        char errstr[256] = "";

        assert_null(ltrr_qu_dict_load(copy, len, errstr, sizeof(errstr)));
        if (!strstr(errstr, what))
                fail_msg("expected '%s' in '%s'", what, errstr);
}

/* Rewrites the checksum word so a structural corruption reaches the
 * section checks. */
static void reseal(uint64_t *copy, size_t len)
{
        uint32_t *h = (uint32_t *)copy;

        h[3] = ltrr_text_hash32((const char *)copy + 64, len - 64);
}

static void test_corrupt(void **state)
{
        size_t len;
        uint64_t *copy = blob_copy(dict, &len);
        uint32_t *h = (uint32_t *)copy;
        unsigned char *bytes = (unsigned char *)copy;

        (void)state;
        expect_refused(NULL, 0, "less than a header");
        expect_refused(copy, 10, "less than a header");
        expect_refused(copy, len - 8, "header says");
        expect_refused(bytes + 4, len - 4, "aligned");
        bytes[len / 2] ^= 0x40;
        expect_refused(copy, len, "checksum");
        bytes[len / 2] ^= 0x40;
        h[0] ^= 1;
        expect_refused(copy, len, "magic");
        h[0] ^= 1;
        h[1] = 99;
        expect_refused(copy, len, "version");
        h[1] = 1;
        h[4]++; /* token count: sizes no longer add up */
        expect_refused(copy, len, "counts say");
        h[4]--;
        h[17] = 0xfffffff0u; /* tok_off[1] past the string pool */
        reseal(copy, len);
        expect_refused(copy, len, "token offsets");
        free(copy);
}

/* Random byte flips with a valid checksum: each blob is refused or, if it
 * passes validation, tags without reading out of bounds (run under
 * ASan in the sanitizer build). */
static void test_corrupt_random(void **state)
{
        size_t len, i, refused = 0;
        uint64_t *orig = blob_copy(dict, &len);
        uint64_t *copy = malloc(len + 8);
        uint64_t rng = 3;

        (void)state;
        assert_non_null(copy);
        for (i = 0; i < 300; i++) {
                ltrr_qu_dict_t *d2;
                size_t at;

                memcpy(copy, orig, len);
                rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                at = 64 + (size_t)(rng >> 33) % (len - 64);
                ((unsigned char *)copy)[at] ^= (unsigned char)(1 + (rng >> 8) %
                                                                   255);
                reseal(copy, len);
                d2 = ltrr_qu_dict_load(copy, len, NULL, 0);
                if (!d2) {
                        refused++;
                        continue;
                }
                {
                        struct tagged t;

                        tag_with(d2, "love story tayler swift 90s", &t);
                        tag_with(d2, "metalica beyonse podcast", &t);
                }
                ltrr_qu_dict_destroy(d2);
        }
        print_message("qu corrupt: %zu of 300 one-byte corruptions refused "
                      "by validation\n", refused);
        assert_true(refused > 0);
        free(copy);
        free(orig);
}

/* Applies one random edit to a token of 4+ letters of @s (folded) in
 * place; returns 0 if no token is long enough. */
static int one_edit(char *s, size_t cap, uint64_t *rng)
{
        size_t len = strlen(s), starts[64], n = 0, i, tl, p;
        size_t start;
        unsigned op;
        char c;

        for (i = 0; i < len; i++) {
                size_t j = i;

                while (j < len && s[j] >= 'a' && s[j] <= 'z')
                        j++;
                if (j - i >= 4 && (i == 0 || s[i - 1] == ' ') &&
                    (j == len || s[j] == ' ') && n < 64)
                        starts[n++] = i;
                i = j;
        }
        if (n == 0 || len + 2 > cap)
                return 0;
        *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
        start = starts[(*rng >> 33) % n];
        for (tl = 0; s[start + tl] >= 'a' && s[start + tl] <= 'z'; tl++)
                ;
        op = (unsigned)(*rng >> 20) % 4;
        p = start + (size_t)(*rng >> 40) % (tl - 1);
        c = (char)('a' + (*rng >> 50) % 26);
        if (op == 0) { /* delete */
                memmove(s + p, s + p + 1, len - p);
        } else if (op == 1) { /* insert */
                memmove(s + p + 1, s + p, len - p + 1);
                s[p] = c;
        } else if (op == 2) { /* substitute with another letter */
                s[p] = s[p] == c ? (char)('a' + (c - 'a' + 1) % 26) : c;
        } else { /* transpose (may be a no-op on doubled letters) */
                c = s[p];
                s[p] = s[p + 1];
                s[p + 1] = c;
        }
        return 1;
}

/* Normalized (folded, spaced) form of @name into @out. */
static void normalized(const char *name, char *out, size_t cap)
{
        assert_int_equal(ltrr_analyzer_normalize(an, name, strlen(name), out,
                                                 cap, NULL, NULL, 0),
                         LTRR_OK);
}

/* Share of @n random artists of @c recovered after one typo. */
static double typo_recovery(const ltrr_catalog_t *c, const ltrr_qu_dict_t *d,
                            unsigned n, uint64_t seed)
{
        uint32_t nart = ltrr_catalog_sym_count(c, LTRR_CATALOG_SYM_ARTIST);
        unsigned tried = 0, ok = 0, guard = 0;

        while (tried < n && guard++ < 100 * n) {
                char want[512], q[512], got[512];
                uint32_t sym;
                struct tagged t;
                size_t i;

                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                sym = (uint32_t)((seed >> 33) % nart);
                normalized(ltrr_catalog_sym_name(c, LTRR_CATALOG_SYM_ARTIST,
                                                 sym), want, sizeof(want));
                memcpy(q, want, sizeof(q));
                if (!one_edit(q, sizeof(q), &seed))
                        continue;
                tried++;
                tag_with(d, q, &t);
                for (i = 0; i < t.cnt; i++) {
                        if (t.spans[i].kind != LTRR_QU_ARTIST)
                                continue;
                        normalized(ltrr_catalog_sym_name(
                                       c, LTRR_CATALOG_SYM_ARTIST,
                                       t.spans[i].value), got, sizeof(got));
                        if (strcmp(got, want) == 0) {
                                ok++;
                                break;
                        }
                }
        }
        assert_int_equal(tried, n);
        return (double)ok / n;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

/* Tags @n typo'd artist queries of @c and reports p50/p99 in µs. */
static void latency(const ltrr_catalog_t *c, const ltrr_qu_dict_t *d,
                    unsigned n, double *p50, double *p99)
{
        uint32_t nart = ltrr_catalog_sym_count(c, LTRR_CATALOG_SYM_ARTIST);
        static const char *const tails[] = {"", " love", " 90s rock",
                                            " live", " podcast"};
        double *us = calloc(n, sizeof(*us));
        uint64_t seed = 7;
        unsigned i;

        assert_non_null(us);
        for (i = 0; i < n; i++) {
                char q[512];
                ltrr_qu_span_t spans[MAX_SPANS];
                ltrr_tokbuf_t tb;
                struct timespec a, b;
                size_t cnt;

                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                normalized(ltrr_catalog_sym_name(c, LTRR_CATALOG_SYM_ARTIST,
                                                 (uint32_t)((seed >> 33) %
                                                            nart)),
                           q, 400);
                one_edit(q, 400, &seed);
                strcat(q, tails[i % 5]);
                ltrr_tokbuf_init(&tb, toks, LTRR_TEXT_TOKENS_MAX, arena,
                                 sizeof(arena));
                assert_int_equal(ltrr_analyzer_analyze(an, q, strlen(q), &tb,
                                                       NULL, 0), LTRR_OK);
                clock_gettime(CLOCK_MONOTONIC, &a);
                ltrr_qu_tag(d, sc, tb.toks, tb.cnt, spans, MAX_SPANS, &cnt,
                            NULL);
                clock_gettime(CLOCK_MONOTONIC, &b);
                us[i] = (double)(b.tv_sec - a.tv_sec) * 1e6 +
                        (double)(b.tv_nsec - a.tv_nsec) / 1e3;
        }
        qsort(us, n, sizeof(*us), cmp_double);
        *p50 = us[n / 2];
        *p99 = us[n * 99 / 100];
        free(us);
}

/* Synthetic catalog (LTRR_QU_SYNTH_N entities, default 50000): build
 * time, sizes, typo recovery and tagging latency. */
static void test_synthetic(void **state)
{
        const char *env = getenv("LTRR_QU_SYNTH_N");
        ltrr_synth_conf_t conf = {env ? strtoull(env, NULL, 10) : 50000, 42,
                                  20000, 0};
        ltrr_catalog_t *c = ltrr_catalog_new(0, NULL, 0);
        ltrr_qu_dict_t *d;
        ltrr_qu_stats_t st;
        struct timespec a, b;
        double rate, p50, p99;
        char errstr[256];

        (void)state;
        assert_int_equal(ltrr_synth_generate(&conf, ltrr_synth_to_catalog, c,
                                             errstr, sizeof(errstr)),
                         LTRR_OK);
        clock_gettime(CLOCK_MONOTONIC, &a);
        d = ltrr_qu_dict_build(c, an, errstr, sizeof(errstr));
        clock_gettime(CLOCK_MONOTONIC, &b);
        assert_non_null(d);
        ltrr_qu_dict_stats(d, &st);
        rate = typo_recovery(c, d, 500, 99);
        latency(c, d, 20000, &p50, &p99);
        print_message("qu synthetic n=%llu: build %.2f s, %u artists, %u "
                      "entries, %u tokens, %u deletes, %.1f MB; typo "
                      "recovery %.1f%%; tag p50 %.2f us p99 %.2f us\n",
                      (unsigned long long)conf.n,
                      (double)(b.tv_sec - a.tv_sec) +
                          (double)(b.tv_nsec - a.tv_nsec) / 1e9,
                      ltrr_catalog_sym_count(c, LTRR_CATALOG_SYM_ARTIST),
                      st.entries, st.tokens, st.deletes,
                      (double)st.bytes / 1e6, rate * 100, p50, p99);
        assert_true(rate >= 0.80);
        assert_true(p50 < 1000.0); /* loose: sanitizer builds run here too */
        ltrr_qu_dict_destroy(d);
        ltrr_catalog_destroy(c);
}

/* Appends an invented word of 2..4 syllables to @out. */
static void invent_word(char *out, size_t cap, uint64_t *rng)
{
        static const char *const syl[] = {
            "ka", "lo", "mi", "ra", "ten", "vos", "bri", "dal", "ne", "sho",
            "tu", "gar", "fe", "lin", "mor", "qua", "zi", "pe", "ron", "sa",
            "vi", "del", "ju", "wen", "ha", "tor", "ny", "ble", "cor", "ix"};
        unsigned n, i;

        *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
        n = 2 + (unsigned)(*rng >> 60) % 3;
        for (i = 0; i < n; i++)
                strncat(out, syl[(*rng >> (8 + 5 * i)) % 30],
                        cap - strlen(out) - 1);
}

/* A catalog of @n artists with invented two-word names (distinct tokens
 * by the tens of thousands), one track each: the typo index at scale. */
static void test_many_artists(void **state)
{
        const char *env = getenv("LTRR_QU_ARTISTS_N");
        unsigned n = env ? (unsigned)strtoul(env, NULL, 10) : 20000, i;
        ltrr_catalog_t *c = ltrr_catalog_new(0, NULL, 0);
        uint64_t rng = 1;
        ltrr_qu_dict_t *d;
        ltrr_qu_stats_t st;
        double rate, p50, p99;
        char errstr[256];

        (void)state;
        for (i = 0; i < n; i++) {
                char name[128] = "", id[32];
                const char *artist = name;
                ltrr_entity_in_t in;

                invent_word(name, sizeof(name), &rng);
                strcat(name, " ");
                invent_word(name, sizeof(name), &rng);
                snprintf(id, sizeof(id), "a%u", i);
                ltrr_entity_in_init(&in);
                in.id = id;
                in.name = "Untitled";
                in.artists = &artist;
                in.artists_cnt = 1;
                in.popularity = (float)(rng >> 40 & 1023) / 10.0f;
                assert_int_equal(ltrr_catalog_add(c, &in, errstr,
                                                  sizeof(errstr)), LTRR_OK);
        }
        d = ltrr_qu_dict_build(c, an, errstr, sizeof(errstr));
        assert_non_null(d);
        ltrr_qu_dict_stats(d, &st);
        rate = typo_recovery(c, d, 500, 5);
        latency(c, d, 20000, &p50, &p99);
        print_message("qu invented artists: %u names, %u tokens, %u deletes, "
                      "%.1f MB; typo recovery %.1f%%; tag p50 %.2f us p99 "
                      "%.2f us\n",
                      ltrr_catalog_sym_count(c, LTRR_CATALOG_SYM_ARTIST),
                      st.tokens, st.deletes, (double)st.bytes / 1e6,
                      rate * 100, p50, p99);
        assert_true(st.tokens > n / 4);
        assert_true(rate >= 0.80);
        ltrr_qu_dict_destroy(d);
        ltrr_catalog_destroy(c);
}

/* The real catalog: 500 artist names with one random edit each. */
static void test_spotify_typos(void **state)
{
        char errstr[256];
        ltrr_catalog_t *c = ltrr_catalog_new(0, NULL, 0);
        ltrr_import_stats_t st;
        ltrr_qu_dict_t *d;
        double rate;

        (void)state;
        if (!spotify_import(c, &st)) {
                ltrr_catalog_destroy(c);
                skip();
        }
        d = ltrr_qu_dict_build(c, an, errstr, sizeof(errstr));
        assert_non_null(d);
        rate = typo_recovery(c, d, 500, 2026);
        print_message("qu spotify: %u artists, 500 names with one edit, "
                      "%.1f%% recovered as the intended artist\n",
                      ltrr_catalog_sym_count(c, LTRR_CATALOG_SYM_ARTIST),
                      rate * 100);
        assert_true(rate >= 0.90);
        ltrr_qu_dict_destroy(d);
        ltrr_catalog_destroy(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_lifecycle),
                cmocka_unit_test(test_artist_exact),
                cmocka_unit_test(test_overlap),
                cmocka_unit_test(test_fuzzy),
                cmocka_unit_test(test_tables),
                cmocka_unit_test(test_topical_query),
                cmocka_unit_test(test_intent),
                cmocka_unit_test(test_tag_errors),
                cmocka_unit_test(test_roundtrip),
                cmocka_unit_test(test_corrupt),
                cmocka_unit_test(test_corrupt_random),
                cmocka_unit_test(test_synthetic),
                cmocka_unit_test(test_many_artists),
                cmocka_unit_test(test_spotify_typos),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
