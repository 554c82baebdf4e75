/*
 * Unit tests for the index file: round trip, corrupt, truncated and
 * foreign files, unknown and missing sections.
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
#include "catalog.h"
#include "index.h"
#include "index_int.h"

/* A small catalog: name, artist, album, description. */
static const char *const docs[][4] = {
    {"Red Apple", "Ann", "Fruit", ""},
    {"Green Apple Pie", "Bob", "", "a recipe"},
    {"Blue Sky", "Ann", "Weather", ""},
    {"Apple", "Cat", "", ""},
    {"Red Red Wine", "Ann", "", "an old song"},
};
#define NDOCS (sizeof(docs) / sizeof(docs[0]))

static char path[256];

/* Builds the small catalog. */
static ltrr_catalog_t *small_catalog(void)
{
        char errstr[256], id[16];
        ltrr_catalog_t *cat = ltrr_catalog_new(0, errstr, sizeof(errstr));
        assert_non_null(cat);
        for (size_t i = 0; i < NDOCS; i++) {
                ltrr_entity_in_t in;
                ltrr_entity_in_init(&in);
                snprintf(id, sizeof(id), "e%zu", i);
                in.id = id;
                in.name = docs[i][0];
                in.artists = &docs[i][1];
                in.artists_cnt = 1;
                in.album = docs[i][2];
                in.description = docs[i][3];
                in.popularity = (float)i;
                in.language = "en";
                in.duration_ms = 1000 * (uint32_t)i;
                assert_int_equal(ltrr_catalog_add(cat, &in, errstr,
                                                  sizeof(errstr)),
                                 LTRR_OK);
        }
        return cat;
}

/* Writes the small index to path with @p conf. */
static void build_small(const ltrr_index_build_conf_t *conf)
{
        char errstr[256];
        ltrr_catalog_t *cat = small_catalog();
        assert_int_equal(ltrr_index_build(cat, conf, path, errstr,
                                          sizeof(errstr)),
                         LTRR_OK);
        ltrr_catalog_destroy(cat);
}

/* Reads the whole file at path. */
static uint8_t *slurp(size_t *lenp)
{
        FILE *fp = fopen(path, "rb");
        assert_non_null(fp);
        fseek(fp, 0, SEEK_END);
        long len = ftell(fp);
        fseek(fp, 0, SEEK_SET);
        uint8_t *buf = malloc((size_t)len);
        assert_non_null(buf);
        assert_int_equal(fread(buf, 1, (size_t)len, fp), (size_t)len);
        fclose(fp);
        *lenp = (size_t)len;
        return buf;
}

/* Writes @p len bytes to @p p. */
static void spit(const char *p, const uint8_t *buf, size_t len)
{
        FILE *fp = fopen(p, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(buf, 1, len, fp), len);
        fclose(fp);
}

static int setup(void **state)
{
        (void)state;
        const char *dir = getenv("LTRR_TEST_OUT");
        snprintf(path, sizeof(path), "%s/test_index.%d.idx",
                 dir && access(dir, W_OK) == 0 ? dir : "/tmp", (int)getpid());
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        unlink(path);
        return 0;
}

static void test_crc32c(void **state)
{
        (void)state;
        /* the standard check value of CRC-32C */
        assert_int_equal(ltrr_index_crc32c(0, "123456789", 9), 0xE3069283u);
        /* continuing a CRC equals one pass */
        uint32_t c = ltrr_index_crc32c(0, "1234", 4);
        assert_int_equal(ltrr_index_crc32c(c, "56789", 5), 0xE3069283u);
        assert_int_equal(ltrr_index_crc32c(0, "", 0), 0);
}

static void test_round_trip(void **state)
{
        (void)state;
        char errstr[256];
        build_small(NULL);
        ltrr_index_t *ix = ltrr_index_open(path, errstr, sizeof(errstr));
        assert_non_null(ix);
        assert_int_equal(ltrr_index_verify(ix, errstr, sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(ltrr_index_count(ix), NDOCS);
        assert_string_equal(ltrr_index_lang(ix), "en");
        assert_int_equal(ltrr_index_section_count(ix), 10);
        ltrr_index_entity_t e;
        assert_int_equal(ltrr_index_entity(ix, 1, &e), LTRR_OK);
        assert_string_equal(e.id, "e1");
        assert_string_equal(e.name, "Green Apple Pie");
        assert_string_equal(e.artists, "Bob");
        assert_string_equal(e.album, "");
        assert_string_equal(e.description, "a recipe");
        assert_string_equal(e.language, "en");
        assert_int_equal(e.duration_ms, 1000);
        assert_true(e.popularity == 1.0f);
        assert_int_equal(ltrr_index_entity(ix, NDOCS, &e), LTRR_ERR_RANGE);
        assert_int_equal(ltrr_index_find(ix, "e4"), 4);
        assert_int_equal(ltrr_index_find(ix, "zz"), -1);
        /* name lengths: 2+3+2+1+3 tokens */
        assert_true(ltrr_index_field_avglen(ix, LTRR_INDEX_FIELD_NAME) ==
                    11.0 / 5.0);
        /* "apple" is in entities 0, 1, 3, in the name field */
        const ltrr_index_term_t *t = ltrr_index_term_find(ix, "appl", 4);
        assert_non_null(t);
        assert_int_equal(t->df, 3);
        const ltrr_index_post_t *p = ix->posts + t->post_off;
        assert_int_equal(p[0].doc, 0);
        assert_int_equal(p[1].doc, 1);
        assert_int_equal(p[2].doc, 3);
        assert_int_equal(p[0].tf[LTRR_INDEX_FIELD_NAME], 1);
        /* "red" twice in entity 4's name */
        t = ltrr_index_term_find(ix, "red", 3);
        assert_non_null(t);
        assert_int_equal(ix->posts[t->post_off + 1].tf[0], 2);
        assert_null(ltrr_index_term_find(ix, "nosuchterm", 10));
        ltrr_index_destroy(ix);
}

static void test_destroy_null_and_args(void **state)
{
        (void)state;
        char errstr[256] = "";
        ltrr_index_destroy(NULL);
        assert_null(ltrr_index_open(NULL, errstr, sizeof(errstr)));
        assert_int_equal(ltrr_index_build(NULL, NULL, path, errstr,
                                          sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_int_equal(ltrr_index_verify(NULL, errstr, sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        assert_null(ltrr_index_open("/nonexistent/x.idx", errstr,
                                    sizeof(errstr)));
        assert_non_null(strstr(errstr, "No such file"));
        assert_string_equal(ltrr_index_sec_name(LTRR_INDEX_SEC_TERMS),
                            "terms");
        assert_string_equal(ltrr_index_sec_name(999), "unknown");
        assert_string_equal(ltrr_index_field_name(LTRR_INDEX_FIELD_ALBUM),
                            "album");
}

/* Writes @p buf with byte @p pos flipped and returns the open result. */
static ltrr_index_t *open_flipped(const uint8_t *buf, size_t len, size_t pos,
                                  char *errstr, size_t size)
{
        uint8_t *copy = malloc(len);
        assert_non_null(copy);
        memcpy(copy, buf, len);
        copy[pos] ^= 0x5a;
        spit(path, copy, len);
        free(copy);
        return ltrr_index_open(path, errstr, size);
}

static void test_header_every_byte(void **state)
{
        (void)state;
        char errstr[256];
        size_t len;
        build_small(NULL);
        uint8_t *buf = slurp(&len);
        size_t hdr = LTRR_INDEX_HDR_SIZE + 10 * LTRR_INDEX_SEC_SIZE;
        for (size_t pos = 0; pos < hdr; pos++) {
                errstr[0] = '\0';
                ltrr_index_t *ix = open_flipped(buf, len, pos, errstr,
                                                sizeof(errstr));
                if (ix)
                        fail_msg("flip at header byte %zu accepted", pos);
                assert_true(errstr[0] != '\0');
        }
        /* specific reasons */
        open_flipped(buf, len, 0, errstr, sizeof(errstr));
        assert_non_null(strstr(errstr, "bad magic"));
        open_flipped(buf, len, 8, errstr, sizeof(errstr));
        assert_non_null(strstr(errstr, "format version"));
        open_flipped(buf, len, 12, errstr, sizeof(errstr));
        assert_non_null(strstr(errstr, "analyzer version"));
        open_flipped(buf, len, 40, errstr, sizeof(errstr));
        assert_non_null(strstr(errstr, "header checksum"));
        free(buf);
}

static void test_section_flips(void **state)
{
        (void)state;
        char errstr[256];
        size_t len;
        build_small(NULL);
        uint8_t *buf = slurp(&len);
        size_t hdr = LTRR_INDEX_HDR_SIZE + 10 * LTRR_INDEX_SEC_SIZE;
        ltrr_arm_scratch_t *scr = ltrr_arm_scratch_new();
        srand(42);
        for (int i = 0; i < 300; i++) {
                size_t pos = hdr + (size_t)rand() % (len - hdr);
                ltrr_index_t *ix = open_flipped(buf, len, pos, errstr,
                                                sizeof(errstr));
                if (!ix)
                        continue; /* fast mode caught it */
                /* serving must not crash on it before a full verify */
                ltrr_token_t tok = {"apple", "appl", 5, 4, 0, 0};
                ltrr_arm_query_t q = {&tok, 1, NULL};
                ltrr_arm_cand_t out[8];
                size_t cnt;
                cnt = 0;
                ltrr_arm_run(0, ix, &q, NULL, scr, 8, out, &cnt, errstr,
                             sizeof(errstr));
                for (size_t j = 0; j < cnt; j++)
                        assert_true(out[j].ent < ltrr_index_count(ix));
                if (ltrr_index_verify(ix, errstr, sizeof(errstr)) !=
                    LTRR_ERR_CORRUPT)
                        fail_msg("flip at byte %zu not detected", pos);
                assert_true(strstr(errstr, "checksum mismatch") ||
                            strstr(errstr, "padding byte"));
                ltrr_index_destroy(ix);
        }
        ltrr_arm_scratch_destroy(scr);
        free(buf);
}

/* A posting naming an entity past the end (CRC not checked in fast
 * mode) never comes out as a candidate. */
static void test_bad_doc_id(void **state)
{
        (void)state;
        char errstr[256];
        size_t len;
        build_small(NULL);
        ltrr_index_t *ix = ltrr_index_open(path, errstr, sizeof(errstr));
        assert_non_null(ix);
        const ltrr_index_term_t *t = ltrr_index_term_find(ix, "appl", 4);
        assert_non_null(t);
        size_t off = (size_t)((const uint8_t *)(ix->posts + t->post_off) -
                              (const uint8_t *)ix->base);
        ltrr_index_destroy(ix);
        uint8_t *buf = slurp(&len);
        uint32_t bad = 0xFFFFFF00u;
        memcpy(buf + off, &bad, 4); /* first "apple" posting: entity 0 */
        spit(path, buf, len);
        free(buf);
        ix = ltrr_index_open(path, errstr, sizeof(errstr));
        assert_non_null(ix);
        ltrr_arm_scratch_t *scr = ltrr_arm_scratch_new();
        ltrr_token_t tok = {"apple", "appl", 5, 4, 0, 0};
        ltrr_arm_query_t q = {&tok, 1, NULL};
        ltrr_arm_cand_t out[8];
        size_t cnt = 0;
        assert_int_equal(ltrr_arm_run(0, ix, &q, NULL, scr, 8, out, &cnt,
                                      errstr, sizeof(errstr)),
                         LTRR_OK);
        /* the list is no longer sorted, so results may differ; what
         * matters is that no candidate points past the end */
        assert_true(cnt >= 1);
        for (size_t j = 0; j < cnt; j++)
                assert_true(out[j].ent < NDOCS);
        assert_int_equal(ltrr_index_verify(ix, errstr, sizeof(errstr)),
                         LTRR_ERR_CORRUPT);
        ltrr_arm_scratch_destroy(scr);
        ltrr_index_destroy(ix);
}

static void test_truncated_and_foreign(void **state)
{
        (void)state;
        char errstr[256];
        size_t len;
        build_small(NULL);
        uint8_t *buf = slurp(&len);
        size_t cuts[] = {1, 10, 63, 64, 100, len / 2, len - 1};
        for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
                spit(path, buf, cuts[i]);
                assert_null(ltrr_index_open(path, errstr, sizeof(errstr)));
                if (cuts[i] >= LTRR_INDEX_HDR_SIZE)
                        assert_non_null(strstr(errstr, "header says"));
                else
                        assert_non_null(strstr(errstr, "shorter than"));
        }
        spit(path, buf, 0);
        assert_null(ltrr_index_open(path, errstr, sizeof(errstr)));
        assert_non_null(strstr(errstr, "empty file"));
        static const char foreign[] =
            "{\"this\": \"is a JSON file, not an index\", \"pad\": "
            "\"......................................\"}";
        spit(path, (const uint8_t *)foreign, sizeof(foreign));
        assert_null(ltrr_index_open(path, errstr, sizeof(errstr)));
        assert_non_null(strstr(errstr, "not an ltrr index"));
        free(buf);
}

/* Rewrites the kind of section @p i and fixes the header CRC. */
static void set_kind(uint8_t *buf, uint32_t i, uint32_t kind)
{
        ltrr_index_hdr_t h;
        ltrr_index_sec_rec_t *s = (ltrr_index_sec_rec_t *)(buf +
                                                           LTRR_INDEX_HDR_SIZE);
        memcpy(&h, buf, sizeof(h));
        s[i].kind = kind;
        uint32_t c = ltrr_index_crc32c(0, buf, 60);
        h.header_crc = ltrr_index_crc32c(c, s, h.section_cnt *
                                                   sizeof(*s));
        memcpy(buf, &h, sizeof(h));
}

static void test_missing_and_unknown_sections(void **state)
{
        (void)state;
        char errstr[256];
        size_t len;
        static const char blob[] = "future data";
        ltrr_index_extra_t extra = {99, blob, sizeof(blob)};
        ltrr_index_build_conf_t conf = {.extra = &extra, .extra_cnt = 1};
        build_small(&conf);
        ltrr_index_t *ix = ltrr_index_open(path, errstr, sizeof(errstr));
        assert_non_null(ix); /* unknown kind 99 is skipped */
        assert_int_equal(ltrr_index_section_count(ix), 11);
        uint64_t blen = 0;
        const char *p = ltrr_index_section(ix, 99, &blen);
        assert_non_null(p);
        assert_int_equal(blen, sizeof(blob));
        assert_string_equal(p, blob);
        ltrr_index_section_info_t si;
        assert_int_equal(ltrr_index_section_info(ix, 10, &si), LTRR_OK);
        assert_int_equal(si.known, 0);
        assert_int_equal(ltrr_index_section_info(ix, 11, &si), LTRR_ERR_RANGE);
        assert_int_equal(ltrr_index_verify(ix, errstr, sizeof(errstr)),
                         LTRR_OK);
        ltrr_index_destroy(ix);
        /* turning a required section into an unknown kind: refused */
        uint8_t *buf = slurp(&len);
        set_kind(buf, 2, 98); /* features */
        spit(path, buf, len);
        assert_null(ltrr_index_open(path, errstr, sizeof(errstr)));
        assert_non_null(strstr(errstr, "required section 'features'"));
        free(buf);
        /* an extra section may not use a required kind */
        extra.kind = LTRR_INDEX_SEC_TERMS;
        ltrr_catalog_t *cat = small_catalog();
        assert_int_equal(ltrr_index_build(cat, &conf, path, errstr,
                                          sizeof(errstr)),
                         LTRR_ERR_INVALID_ARG);
        ltrr_catalog_destroy(cat);
}

static void test_stopwords(void **state)
{
        (void)state;
        char errstr[256];
        assert_true(ltrr_index_is_stopword("the", 3));
        assert_true(ltrr_index_is_stopword("with", 4));
        assert_true(ltrr_index_is_stopword("a", 1));
        assert_false(ltrr_index_is_stopword("apple", 5));
        assert_false(ltrr_index_is_stopword("th", 2));
        ltrr_index_build_conf_t conf = {.stopwords = 1};
        build_small(&conf);
        ltrr_index_t *ix = ltrr_index_open(path, errstr, sizeof(errstr));
        assert_non_null(ix);
        assert_int_equal(ltrr_index_stopwords(ix), 1);
        assert_null(ltrr_index_term_find(ix, "a", 1));  /* "a recipe" */
        assert_non_null(ltrr_index_term_find(ix, "recip", 5));
        ltrr_index_destroy(ix);
}

static void test_bad_conf(void **state)
{
        (void)state;
        char errstr[256];
        ltrr_catalog_t *cat = small_catalog();
        ltrr_index_build_conf_t conf = {.lang = "not a language!"};
        assert_int_not_equal(ltrr_index_build(cat, &conf, path, errstr,
                                              sizeof(errstr)),
                             LTRR_OK);
        assert_int_equal(ltrr_index_build(cat, NULL, "/nonexistent/dir/x",
                                          errstr, sizeof(errstr)),
                         LTRR_ERR_IO);
        ltrr_catalog_destroy(cat);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_crc32c),
            cmocka_unit_test(test_round_trip),
            cmocka_unit_test(test_destroy_null_and_args),
            cmocka_unit_test(test_header_every_byte),
            cmocka_unit_test(test_section_flips),
            cmocka_unit_test(test_bad_doc_id),
            cmocka_unit_test(test_truncated_and_foreign),
            cmocka_unit_test(test_missing_and_unknown_sections),
            cmocka_unit_test(test_stopwords),
            cmocka_unit_test(test_bad_conf),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
