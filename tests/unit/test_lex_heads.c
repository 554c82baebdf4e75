/*
 * Unit tests for the impact-ordered heads of long lists (IMPACT and
 * PFXIMPACT sections) and the lexical arm's use of them: the same
 * synthetic catalog indexed with and without the heads must give the
 * same answers (scores rank by rank, exact flags, features) for one-word,
 * prefix and several-word queries, unfiltered and through a filter; the
 * sections must be where they belong and their lists ordered. The same
 * holds for the date-ordered RECENT lists and the recent pass of
 * ltrr_arm_lex_recent().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "arm.h"
#include "arm_state.h"
#include "catalog.h"
#include "index.h"
#include "index_int.h"
#include "synth.h"
#include "text.h"

#define N_ENT 4000
#define K 20

/* Shared state: the catalog indexed twice. */
typedef struct fx_s {
        ltrr_index_t *plain;       /* no heads */
        ltrr_index_t *heads;       /* heads for lists longer than 24 */
        ltrr_analyzer_t *an;
        ltrr_arm_scratch_t *scr;
        ltrr_token_t toks[64];
        char arena[LTRR_TEXT_ARENA_SIZE];
        ltrr_arm_cand_t a[LTRR_ARM_K_MAX], b[LTRR_ARM_K_MAX];
} fx_t;

static fx_t fx;

static char path[256];

/* Builds @p cat with heads for lists above @p min_df (UINT32_MAX: none)
 * of @p len entries, and opens it; the file stays at path when
 * @p keep. */
static ltrr_index_t *build_file(const ltrr_catalog_t *cat, uint32_t min_df,
                                uint32_t len, int keep)
{
        char errstr[256];
        const char *dir = getenv("LTRR_TEST_OUT");
        snprintf(path, sizeof(path), "%s/test_lex_heads.%d.idx",
                 dir && access(dir, W_OK) == 0 ? dir : "/tmp", (int)getpid());
        ltrr_index_build_conf_t bc;
        memset(&bc, 0, sizeof(bc));
        bc.impact_min_df = min_df;
        bc.impact_len = len;
        if (ltrr_index_build(cat, &bc, path, errstr, sizeof(errstr)) !=
            LTRR_OK)
                return NULL;
        ltrr_index_t *ix = ltrr_index_open(path, errstr, sizeof(errstr));
        if (!keep)
                unlink(path);
        return ix;
}

static ltrr_catalog_t *synth_cat(void)
{
        char errstr[256];
        ltrr_catalog_t *cat = ltrr_catalog_new(0, errstr, sizeof(errstr));
        ltrr_synth_conf_t sc = {N_ENT, 3, 20000, 0};
        if (cat && ltrr_synth_generate(&sc, ltrr_synth_to_catalog, cat,
                                       errstr, sizeof(errstr))) {
                ltrr_catalog_destroy(cat);
                return NULL;
        }
        return cat;
}

static int setup(void **state)
{
        char errstr[256];
        (void)state;
        ltrr_catalog_t *cat = synth_cat();
        if (!cat)
                return -1;
        fx.plain = build_file(cat, UINT32_MAX, 0, 0);
        /* short heads: many queries need the fallback */
        fx.heads = build_file(cat, 24, 48, 0);
        ltrr_catalog_destroy(cat);
        fx.an = ltrr_analyzer_new("en", errstr, sizeof(errstr));
        fx.scr = ltrr_arm_scratch_new();
        return fx.plain && fx.heads && fx.an && fx.scr ? 0 : -1;
}

static int teardown(void **state)
{
        (void)state;
        ltrr_index_destroy(fx.plain);
        ltrr_index_destroy(fx.heads);
        ltrr_analyzer_destroy(fx.an);
        ltrr_arm_scratch_destroy(fx.scr);
        return 0;
}

/* Filter: even entities (a cheap one and an expensive one). */
static int keep_even(const void *opaque, const ltrr_index_t *ix,
                     uint32_t ent)
{
        (void)opaque;
        (void)ix;
        return ent % 2 == 0;
}

/* Runs @p text on both indexes with @p k and filter mode @p filt (0 none,
 * 1 cheap, 2 expensive) and checks the answers match. Returns the count
 * of candidates. */
static size_t same_answer(const char *text, size_t k, int filt)
{
        char errstr[256];
        ltrr_tokbuf_t tb;
        size_t na = 0, nb = 0;
        ltrr_tokbuf_init(&tb, fx.toks, 64, fx.arena, sizeof(fx.arena));
        assert_int_equal(ltrr_analyzer_analyze(fx.an, text, strlen(text),
                                               &tb, errstr, sizeof(errstr)),
                         LTRR_OK);
        ltrr_arm_query_t q = {tb.toks, tb.cnt, NULL};
        ltrr_arm_lex_filter_fn *f = filt ? keep_even : NULL;
        assert_int_equal(ltrr_arm_lex_filtered(fx.plain, &q, NULL, fx.scr, 0,
                                               f, NULL, filt == 1, k, fx.a,
                                               &na, errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_arm_lex_filtered(fx.heads, &q, NULL, fx.scr, 0,
                                               f, NULL, filt == 1, k, fx.b,
                                               &nb, errstr, sizeof(errstr)),
                         LTRR_OK);
        if (na != nb)
                fail_msg("\"%s\" k %zu filter %d: %zu vs %zu candidates",
                         text, k, filt, na, nb);
        for (size_t i = 0; i < na; i++) {
                /* equal scores may differ in order of summation */
                if (fx.a[i].score - fx.b[i].score >
                        1e-5f * fx.a[i].score ||
                    fx.b[i].score - fx.a[i].score > 1e-5f * fx.a[i].score)
                        fail_msg("\"%s\" k %zu filter %d rank %zu: %f vs %f",
                                 text, k, filt, i, fx.a[i].score,
                                 fx.b[i].score);
                assert_float_equal(fx.a[i].feat[1], fx.b[i].feat[1], 0);
                assert_float_equal(fx.a[i].feat[2], fx.b[i].feat[2], 1e-6);
                if (filt)
                        assert_int_equal(fx.b[i].ent % 2, 0);
        }
        return na;
}

/* Query @p i of a deterministic mix drawn from entity @p e: a name word,
 * a 2..3 character prefix, a name, an artist word plus a name word. */
static void make_query(uint32_t i, char *buf, size_t size)
{
        ltrr_index_entity_t e;
        ltrr_index_entity(fx.plain, (i * 7919u) % N_ENT, &e);
        char w[128];
        const char *sp = strchr(e.name, ' ');
        size_t wl = sp ? (size_t)(sp - e.name) : strlen(e.name);
        snprintf(w, sizeof(w), "%.*s", (int)wl, e.name);
        switch (i % 4) {
        case 0:
                snprintf(buf, size, "%s", w);
                break;
        case 1:
                snprintf(buf, size, "%.*s", 2 + (int)(i / 4 % 2), e.name);
                break;
        case 2:
                snprintf(buf, size, "%s", e.name);
                break;
        default:
                snprintf(buf, size, "%.*s %s",
                         (int)strcspn(e.artists, " ,"), e.artists, w);
                break;
        }
}

/* The heads change no answer: k 1, 20 and 100, unfiltered and filtered. */
static void test_same_answers(void **state)
{
        (void)state;
        char q[512];
        size_t nonempty = 0;
        for (uint32_t i = 0; i < 400; i++) {
                make_query(i, q, sizeof(q));
                static const size_t ks[] = {1, K, 100};
                for (int filt = 0; filt < 3; filt++)
                        nonempty += same_answer(q, ks[i % 3], filt) > 0;
        }
        assert_true(nonempty > 900);
}

/* Frequent single words and prefixes, where the heads answer alone. */
static void test_frequent_words_and_prefixes(void **state)
{
        (void)state;
        static const char *const qs[] = {"love", "lo", "su", "the", "ma",
                                         "da", "st", "li", "mi", "no"};
        for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
                for (size_t k = 1; k <= 200; k *= 3)
                        for (int filt = 0; filt < 3; filt++)
                                same_answer(qs[i], k, filt);
}

/* The sections exist only when asked for, and every list is ordered
 * best first with entities in range. */
static void test_sections(void **state)
{
        (void)state;
        uint64_t len;
        assert_null(ltrr_index_section(fx.plain, LTRR_INDEX_SEC_IMPACT,
                                       &len));
        assert_null(ltrr_index_section(fx.plain, LTRR_INDEX_SEC_PFXIMPACT,
                                       &len));
        assert_non_null(ltrr_index_section(fx.heads, LTRR_INDEX_SEC_IMPACT,
                                           &len));
        size_t lists = 0;
        for (uint32_t t = 0; t < fx.heads->term_cnt; t++) {
                uint32_t cnt;
                const ltrr_index_impent_t *e = ltrr_index_impact(fx.heads, t,
                                                                 &cnt);
                if (!e) {
                        assert_true(fx.heads->terms[t].df <= 24);
                        continue;
                }
                lists++;
                assert_true(fx.heads->terms[t].df > 24);
                assert_int_equal(cnt, fx.heads->terms[t].df < 48
                                          ? fx.heads->terms[t].df : 48);
                for (uint32_t i = 0; i < cnt; i++) {
                        assert_true(e[i].doc < N_ENT);
                        if (i)
                                assert_true(e[i].tfw <= e[i - 1].tfw);
                }
        }
        assert_true(lists > 10);
        uint32_t none;
        assert_null(ltrr_index_impact(fx.heads, fx.heads->term_cnt, &none));
        assert_int_equal(none, 0);
        const ltrr_index_pfxhdr_t *h;
        const ltrr_index_pfxent_t *pe;
        const ltrr_index_pfxlist_t *l =
            ltrr_index_pfx(fx.heads, "lo", 2, &h, &pe);
        assert_non_null(l);
        assert_true(l->cnt > 0 && l->cnt <= h->len_max);
        for (uint32_t i = 1; i < l->cnt; i++)
                assert_true(pe[i].score <= pe[i - 1].score);
        assert_null(ltrr_index_pfx(fx.heads, "l", 1, &h, &pe));
        assert_null(ltrr_index_pfx(fx.heads, "lovely", 6, &h, &pe));
        assert_null(ltrr_index_pfx(fx.plain, "lo", 2, &h, &pe));
}

/* Filter: dated entities released on or after day *opaque. */
static int keep_since(const void *opaque, const ltrr_index_t *ix,
                      uint32_t ent)
{
        ltrr_index_entity_t e;
        return ltrr_index_entity(ix, ent, &e) == LTRR_OK &&
               e.release_prec != LTRR_DATE_NONE &&
               e.release_days >= *(const int32_t *)opaque;
}

/* Filter breaking ltrr_arm_lex_recent()'s contract: every dated entity,
 * old ones too; only the recent pass leaves the old ones out. */
static int keep_dated(const void *opaque, const ltrr_index_t *ix,
                      uint32_t ent)
{
        ltrr_index_entity_t e;
        (void)opaque;
        return ltrr_index_entity(ix, ent, &e) == LTRR_OK &&
               e.release_prec != LTRR_DATE_NONE;
}

/* Analyzes @p text into @p tb and returns the query. */
static ltrr_arm_query_t analyze(const char *text, ltrr_tokbuf_t *tb)
{
        char errstr[256];
        ltrr_tokbuf_init(tb, fx.toks, 64, fx.arena, sizeof(fx.arena));
        assert_int_equal(ltrr_analyzer_analyze(fx.an, text, strlen(text), tb,
                                               errstr, sizeof(errstr)),
                         LTRR_OK);
        ltrr_arm_query_t q = {tb->toks, tb->cnt, NULL};
        return q;
}

/* The recent pass on the index with RECENT lists gives the filtered
 * pass's answer on the plain index for @p text, @p k and @p since.
 * Adds 1 to *ranp when a contract-breaking filter shows the recent pass
 * answered (only entities from @p since where the full pass had older
 * ones). Returns the candidates. */
static size_t same_recent(const char *text, size_t k, int32_t since,
                          int *ranp)
{
        char errstr[256];
        ltrr_tokbuf_t tb;
        size_t na = 0, nb = 0;
        ltrr_arm_query_t q = analyze(text, &tb);
        assert_int_equal(ltrr_arm_lex_filtered(fx.plain, &q, NULL, fx.scr, 0,
                                               keep_since, &since, 1, k, fx.a,
                                               &na, errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_arm_lex_recent(fx.heads, &q, NULL, fx.scr, 0,
                                             keep_since, &since, since, k,
                                             fx.b, &nb, errstr,
                                             sizeof(errstr)),
                         LTRR_OK);
        if (na != nb)
                fail_msg("\"%s\" k %zu since %d: %zu vs %zu candidates", text,
                         k, since, na, nb);
        for (size_t i = 0; i < na; i++) {
                if (fx.a[i].score - fx.b[i].score > 1e-5f * fx.a[i].score ||
                    fx.b[i].score - fx.a[i].score > 1e-5f * fx.a[i].score)
                        fail_msg("\"%s\" k %zu since %d rank %zu: %f vs %f",
                                 text, k, since, i, fx.a[i].score,
                                 fx.b[i].score);
                assert_float_equal(fx.a[i].feat[1], fx.b[i].feat[1], 0);
                assert_float_equal(fx.a[i].feat[2], fx.b[i].feat[2], 1e-6);
                assert_true(keep_since(&since, fx.heads, fx.b[i].ent));
        }
        size_t nd = 0, nr = 0, old = 0, rold = 0;
        assert_int_equal(ltrr_arm_lex_filtered(fx.plain, &q, NULL, fx.scr, 0,
                                               keep_dated, NULL, 1, k, fx.a,
                                               &nd, errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_arm_lex_recent(fx.heads, &q, NULL, fx.scr, 0,
                                             keep_dated, NULL, since, k, fx.b,
                                             &nr, errstr, sizeof(errstr)),
                         LTRR_OK);
        for (size_t i = 0; i < nd; i++)
                old += !keep_since(&since, fx.plain, fx.a[i].ent);
        for (size_t i = 0; i < nr; i++)
                rold += !keep_since(&since, fx.heads, fx.b[i].ent);
        *ranp += old > 0 && rold == 0;
        return na;
}

/* The recent pass changes no answer (query mix, k 1/20/100, windows of
 * 30, 90 and 365 days before the catalog's day), and it does answer
 * most of them (short lists, RECENT lists reaching the window, or long
 * terms completing the others' entities); some need the full pass. */
static void test_recent_same_answers(void **state)
{
        (void)state;
        char q[512];
        size_t nonempty = 0;
        int ran = 0;
        static const int32_t back[] = {30, 90, 365};
        static const size_t ks[] = {1, K, 100};
        for (uint32_t i = 0; i < 400; i++) {
                make_query(i, q, sizeof(q));
                nonempty += same_recent(q, ks[i % 3], 20000 - back[i / 3 % 3],
                                        &ran) > 0;
        }
        static const char *const qs[] = {"love", "the", "lo", "su",
                                         "the love", "my love song"};
        for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
                for (int b = 0; b < 3; b++)
                        same_recent(qs[i], 100, 20000 - back[b], &ran);
        assert_true(nonempty > 100);
        assert_true(ran > 20);
}

/* ltrr_arm_lex_recent()'s edge cases: k 0, k above the maximum, no
 * filter (the plain pass), an index without RECENT lists. */
static void test_recent_edges(void **state)
{
        (void)state;
        char errstr[256];
        ltrr_tokbuf_t tb;
        size_t na = 7, nb = 0;
        int32_t since = 20000 - 90;
        ltrr_arm_query_t q = analyze("love", &tb);
        assert_int_equal(ltrr_arm_lex_recent(fx.heads, &q, NULL, fx.scr, 0,
                                             keep_since, &since, since, 0,
                                             fx.a, &na, errstr,
                                             sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(na, 0);
        assert_int_equal(ltrr_arm_lex_recent(fx.heads, &q, NULL, fx.scr, 0,
                                             keep_since, &since, since,
                                             LTRR_ARM_K_MAX + 1, fx.a, &na,
                                             errstr, sizeof(errstr)),
                         LTRR_ERR_RANGE);
        assert_int_equal(ltrr_arm_lex_recent(fx.heads, &q, NULL, fx.scr, 0,
                                             NULL, NULL, since, K, fx.a, &na,
                                             errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_arm_lex_filtered(fx.plain, &q, NULL, fx.scr, 0,
                                               NULL, NULL, 0, K, fx.b, &nb,
                                               errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(na, K);
        assert_int_equal(na, nb);
        for (size_t i = 0; i < na; i++)
                assert_float_equal(fx.a[i].score, fx.b[i].score,
                                   1e-5f * fx.b[i].score);
        assert_int_equal(ltrr_arm_lex_recent(fx.plain, &q, NULL, fx.scr, 0,
                                             keep_since, &since, since, K,
                                             fx.a, &na, errstr,
                                             sizeof(errstr)),
                         LTRR_OK);
        for (size_t i = 0; i < na; i++)
                assert_true(keep_since(&since, fx.plain, fx.a[i].ent));
}

/* The RECENT section: present only with the heads, every list of a long
 * term ordered by release day (undated last) and as long as
 * max(48, df / 8) or the whole list. */
static void test_recent_section(void **state)
{
        (void)state;
        uint64_t len;
        uint32_t cnt;
        size_t lists = 0;
        assert_null(ltrr_index_section(fx.plain, LTRR_INDEX_SEC_RECENT, &len));
        assert_non_null(ltrr_index_section(fx.heads, LTRR_INDEX_SEC_RECENT,
                                           &len));
        for (uint32_t t = 0; t < fx.heads->term_cnt; t++) {
                uint32_t df = fx.heads->terms[t].df;
                const ltrr_index_impent_t *e =
                    ltrr_index_recent(fx.heads, t, &cnt);
                if (!e) {
                        assert_true(df <= 24);
                        continue;
                }
                lists++;
                uint32_t want = df / 8 > 48 ? df / 8 : 48;
                assert_int_equal(cnt, df < want ? df : want);
                for (uint32_t i = 1; i < cnt; i++) {
                        const ltrr_index_feat_t *a =
                            &fx.heads->feats[e[i - 1].doc];
                        const ltrr_index_feat_t *b = &fx.heads->feats[e[i].doc];
                        int32_t da = a->release_prec == LTRR_DATE_NONE
                                         ? INT32_MIN : a->release_days;
                        int32_t db = b->release_prec == LTRR_DATE_NONE
                                         ? INT32_MIN : b->release_days;
                        assert_true(da > db ||
                                    (da == db && e[i - 1].doc < e[i].doc));
                }
        }
        assert_true(lists > 10);
        assert_null(ltrr_index_recent(fx.heads, fx.heads->term_cnt, &cnt));
        assert_null(ltrr_index_recent(fx.plain, 0, &cnt));
}

/* The heads only hold for the index's own weights: other BM25F
 * parameters still get the plain answer (compared with the plain index
 * under the same parameters). */
static void test_other_parameters(void **state)
{
        (void)state;
        char errstr[256];
        ltrr_bm25f_t p;
        ltrr_bm25f_defaults(&p);
        p.w[LTRR_INDEX_FIELD_NAME] = 5.0f;
        ltrr_arm_ctx_t ctx;
        memset(&ctx, 0, sizeof(ctx));
        ctx.bm25f = &p;
        ltrr_tokbuf_t tb;
        ltrr_tokbuf_init(&tb, fx.toks, 64, fx.arena, sizeof(fx.arena));
        ltrr_analyzer_analyze(fx.an, "lo", 2, &tb, errstr, sizeof(errstr));
        ltrr_arm_query_t q = {tb.toks, tb.cnt, NULL};
        size_t na = 0, nb = 0;
        assert_int_equal(ltrr_arm_lex_filtered(fx.plain, &q, &ctx, fx.scr, 0,
                                               NULL, NULL, 0, K, fx.a, &na,
                                               errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_arm_lex_filtered(fx.heads, &q, &ctx, fx.scr, 0,
                                               NULL, NULL, 0, K, fx.b, &nb,
                                               errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(na, nb);
        assert_true(na > 0);
        for (size_t i = 0; i < na; i++)
                assert_float_equal(fx.a[i].score, fx.b[i].score,
                                   1e-5f * fx.a[i].score);
}

/* Random bytes of the heads sections changed (the fast open does not
 * check section CRCs): queries still succeed and stay in range. */
static void test_corrupt_heads(void **state)
{
        (void)state;
        char q[512], errstr[256];
        ltrr_catalog_t *cat = synth_cat();
        assert_non_null(cat);
        ltrr_index_t *ix = build_file(cat, 24, 48, 1);
        ltrr_catalog_destroy(cat);
        assert_non_null(ix);
        uint64_t off[2], len[2];
        for (int i = 0; i < 2; i++) {
                const uint8_t *p = ltrr_index_section(
                    ix, i ? LTRR_INDEX_SEC_PFXIMPACT : LTRR_INDEX_SEC_IMPACT,
                    &len[i]);
                assert_non_null(p);
                off[i] = (uint64_t)(p - ix->base);
        }
        ltrr_index_destroy(ix);
        uint64_t x = 99;
        for (int round = 0; round < 20; round++) {
                FILE *fp = fopen(path, "r+b");
                assert_non_null(fp);
                for (int j = 0; j < 40; j++) {
                        x = x * 6364136223846793005ull + 1442695040888963407ull;
                        int sec = (int)(x >> 63);
                        uint64_t at = off[sec] + (x >> 20) % (j < 8 ? 80 :
                                                              len[sec]);
                        assert_int_equal(fseek(fp, (long)at, SEEK_SET), 0);
                        fputc((int)(x >> 8) & 0xff, fp);
                }
                fclose(fp);
                ix = ltrr_index_open(path, errstr, sizeof(errstr));
                assert_non_null(ix);
                for (uint32_t i = 0; i < 40; i++) {
                        ltrr_tokbuf_t tb;
                        size_t n = 0;
                        make_query(i + (uint32_t)round, q, sizeof(q));
                        ltrr_tokbuf_init(&tb, fx.toks, 64, fx.arena,
                                         sizeof(fx.arena));
                        ltrr_analyzer_analyze(fx.an, q, strlen(q), &tb, NULL,
                                              0);
                        ltrr_arm_query_t aq = {tb.toks, tb.cnt, NULL};
                        assert_int_equal(ltrr_arm_lex_filtered(
                                             ix, &aq, NULL, fx.scr, 0, NULL,
                                             NULL, 0, 100, fx.b, &n, errstr,
                                             sizeof(errstr)),
                                         LTRR_OK);
                        for (size_t j = 0; j < n; j++)
                                assert_true(fx.b[j].ent < N_ENT);
                }
                assert_int_equal(ltrr_index_verify(ix, errstr,
                                                   sizeof(errstr)),
                                 LTRR_ERR_CORRUPT);
                ltrr_index_destroy(ix);
        }
        unlink(path);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_same_answers),
            cmocka_unit_test(test_frequent_words_and_prefixes),
            cmocka_unit_test(test_sections),
            cmocka_unit_test(test_other_parameters),
            cmocka_unit_test(test_corrupt_heads),
            cmocka_unit_test(test_recent_same_answers),
            cmocka_unit_test(test_recent_edges),
            cmocka_unit_test(test_recent_section),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
