/*
 * Unit tests for the BEIR loader and metrics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "beir.h"

static char dir[256];

/* Writes @p text to dir/@p name. */
static void put(const char *name, const char *text)
{
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", dir, name);
        FILE *fp = fopen(p, "w");
        assert_non_null(fp);
        fputs(text, fp);
        fclose(fp);
}

/* Removes dir/@p name. */
static void rm(const char *name)
{
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", dir, name);
        unlink(p);
}

static int setup(void **state)
{
        (void)state;
        char p[512];
        const char *out = getenv("LTRR_TEST_OUT");
        snprintf(dir, sizeof(dir), "%s/test_beir.%d",
                 out && access(out, W_OK) == 0 ? out : "/tmp", (int)getpid());
        mkdir(dir, 0700);
        snprintf(p, sizeof(p), "%s/qrels", dir);
        mkdir(p, 0700);
        put("corpus.jsonl",
            "{\"_id\": \"d1\", \"title\": \"Aspirin and heart attack\", "
            "\"text\": \"Aspirin lowers the risk of a heart attack.\"}\n"
            "{\"_id\": \"d2\", \"title\": \"Vitamin D\", "
            "\"text\": \"Vitamin D and bone density.\"}\n"
            "{\"_id\": \"d3\", \"title\": \"\", "
            "\"text\": \"Coffee late in the day and sleep quality.\"}\n"
            "{\"_id\": \"7\", \"title\": \"Coffee sleep\", "
            "\"text\": \"coffee sleep coffee sleep\"}\n"
            "not json\n");
        put("queries.jsonl",
            "{\"_id\": \"1\", \"text\": \"aspirin heart\"}\n"
            "{\"_id\": \"7\", \"text\": \"coffee and sleep\"}\n"
            "{\"_id\": \"9\", \"text\": \"unjudged\"}\n");
        put("qrels/test.tsv", "query-id\tcorpus-id\tscore\n"
                              "1\td1\t1\n"
                              "7\td3\t2\n"
                              "1\tmissing\t1\n"
                              "5\td1\t1\n");
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        char p[512];
        rm("corpus.jsonl");
        rm("queries.jsonl");
        rm("qrels/test.tsv");
        rm("index.idx");
        snprintf(p, sizeof(p), "%s/qrels", dir);
        rmdir(p);
        rmdir(dir);
        return 0;
}

/*
 * ranked 3, 1, 2 against grades {1: 1, 2: 2, 5: 1}:
 * DCG = 1/log2(3) + 2/log2(4) = 1.630930; ideal 2 + 1/log2(3) + 1/2 =
 * 3.130930; nDCG = 0.520912.
 */
static void test_metrics(void **state)
{
        (void)state;
        const uint32_t ranked[] = {3, 1, 2};
        const ltrr_beir_rel_t rels[] = {{1, 1}, {2, 2}, {5, 1}};
        assert_float_equal(ltrr_beir_ndcg(ranked, 3, rels, 3, 10), 0.520912,
                           1e-5);
        /* cut 1: nothing relevant in the first position */
        assert_float_equal(ltrr_beir_ndcg(ranked, 3, rels, 3, 1), 0.0, 0);
        assert_float_equal(ltrr_beir_recall(ranked, 3, rels, 3, 2),
                           1.0 / 3.0, 1e-6);
        assert_float_equal(ltrr_beir_recall(ranked, 3, rels, 3, 100),
                           2.0 / 3.0, 1e-6);
        /* perfect order */
        const uint32_t ideal[] = {2, 1, 5};
        assert_float_equal(ltrr_beir_ndcg(ideal, 3, rels, 3, 10), 1.0, 1e-6);
        /* no relevant judgment: 0, not a division by zero */
        const ltrr_beir_rel_t none[] = {{1, 0}};
        assert_float_equal(ltrr_beir_ndcg(ranked, 3, none, 1, 10), 0.0, 0);
        assert_float_equal(ltrr_beir_recall(ranked, 3, none, 1, 10), 0.0, 0);
        assert_float_equal(ltrr_beir_ndcg(NULL, 0, rels, 3, 10), 0.0, 0);
}

static void test_load_and_eval(void **state)
{
        (void)state;
        char errstr[256], p[512];
        ltrr_beir_t *bd = ltrr_beir_load(dir, errstr, sizeof(errstr));
        assert_non_null(bd);
        assert_int_equal(ltrr_catalog_count(ltrr_beir_catalog(bd)), 4);
        assert_int_equal(ltrr_beir_queries(bd), 2);
        assert_int_equal(ltrr_beir_skipped(bd), 2);
        snprintf(p, sizeof(p), "%s/index.idx", dir);
        ltrr_index_build_conf_t bc = {.lang = "en", .stopwords = 1};
        assert_int_equal(ltrr_index_build(ltrr_beir_catalog(bd), &bc, p,
                                          errstr, sizeof(errstr)),
                         LTRR_OK);
        ltrr_index_t *ix = ltrr_index_open(p, errstr, sizeof(errstr));
        assert_non_null(ix);
        ltrr_beir_result_t res;
        assert_int_equal(ltrr_beir_eval(bd, ix, NULL, &res, errstr,
                                        sizeof(errstr)),
                         LTRR_OK);
        assert_int_equal(res.queries, 2);
        assert_int_equal(res.docs, 4);
        /* doc "7" matches query "7" best but has the query's id: ignored */
        assert_float_equal(res.ndcg10, 1.0, 1e-6);
        assert_float_equal(res.recall100, 1.0, 1e-6);
        ltrr_index_destroy(ix);
        ltrr_beir_destroy(bd);
}

static void test_errors(void **state)
{
        (void)state;
        char errstr[256] = "";
        ltrr_beir_destroy(NULL);
        assert_null(ltrr_beir_load("/nonexistent/beir", errstr,
                                   sizeof(errstr)));
        assert_non_null(strstr(errstr, "cannot open"));
        assert_null(ltrr_beir_load(NULL, errstr, sizeof(errstr)));
        /* no judgments at all: refused */
        put("qrels/test.tsv", "query-id\tcorpus-id\tscore\n");
        assert_null(ltrr_beir_load(dir, errstr, sizeof(errstr)));
        assert_non_null(strstr(errstr, "no judged queries"));
        ltrr_bm25f_t p;
        ltrr_beir_bm25f(&p);
        assert_float_equal(p.w[LTRR_INDEX_FIELD_NAME], 1.0, 0);
        assert_int_equal(p.prefix, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_metrics),
            cmocka_unit_test_setup_teardown(test_load_and_eval, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
