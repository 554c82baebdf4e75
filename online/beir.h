/*
 * ltrr - BEIR datasets: load corpus, queries and test judgments, and
 * score a retrieval run with nDCG@10 and recall@100 as BEIR reports them
 * (pytrec_eval: linear gain, log2 discount, documents whose id equals
 * the query id are ignored).
 */
#ifndef LTRR_BEIR_H
#define LTRR_BEIR_H

#include <stddef.h>
#include <stdint.h>

#include "arm.h"
#include "catalog.h"
#include "err.h"
#include "index.h"

/** Most judged documents per query that are kept. */
#define LTRR_BEIR_RELS_MAX 1024

/** @brief One judgment: a document (catalog index) and its grade. */
typedef struct ltrr_beir_rel_s {
        uint32_t doc; /**< catalog / index entity */
        int grade;    /**< relevance, > 0 relevant */
} ltrr_beir_rel_t;

/** @brief Scores of one run. */
typedef struct ltrr_beir_result_s {
        double ndcg10;     /**< mean nDCG@10 over judged queries */
        double recall100;  /**< mean recall@100 over judged queries */
        uint32_t queries;  /**< judged queries evaluated */
        uint32_t docs;     /**< documents in the corpus */
} ltrr_beir_result_t;

typedef struct ltrr_beir_s ltrr_beir_t;

/**
 * @brief Loads DIR/corpus.jsonl ({_id, title, text}), DIR/queries.jsonl
 *        ({_id, text}) and DIR/qrels/test.tsv (header, then
 *        query-id TAB corpus-id TAB score).
 *
 * The corpus becomes a catalog: title as the name, text as the
 * description. Judgments naming an unknown document or query are
 * skipped and counted.
 * @returns the dataset, or NULL with the reason in @p errstr.
 */
ltrr_beir_t *ltrr_beir_load(const char *dir, char *errstr,
                            size_t errstr_size);

/** @brief Frees @p bd; NULL is a no-op. */
void ltrr_beir_destroy(ltrr_beir_t *bd);

/** @brief The corpus as a catalog (owned by @p bd). */
const ltrr_catalog_t *ltrr_beir_catalog(const ltrr_beir_t *bd);

/** @brief Number of queries with at least one judgment. */
uint32_t ltrr_beir_queries(const ltrr_beir_t *bd);

/** @brief Judgments skipped because a query or document was unknown. */
uint64_t ltrr_beir_skipped(const ltrr_beir_t *bd);

/** @brief BM25F parameters for a title + text corpus. */
void ltrr_beir_bm25f(ltrr_bm25f_t *p);

/**
 * @brief Runs the lexical arm on every judged query (k = 100) against
 *        @p ix, built from ltrr_beir_catalog(), and scores the run.
 * @param p BM25F parameters, NULL for ltrr_beir_bm25f().
 * @returns LTRR_OK or the first error of the analyzer or arm.
 */
ltrr_err_t ltrr_beir_eval(const ltrr_beir_t *bd, const ltrr_index_t *ix,
                          const ltrr_bm25f_t *p, ltrr_beir_result_t *res,
                          char *errstr, size_t errstr_size);

/**
 * @brief nDCG at @p cut of one ranked list (entity indexes) against
 *        @p rels: sum of grade / log2(rank + 1), divided by the ideal.
 * @returns a value in 0..1; 0 when no judgment is relevant.
 */
double ltrr_beir_ndcg(const uint32_t *ranked, size_t n,
                      const ltrr_beir_rel_t *rels, size_t nrels, size_t cut);

/** @brief Share of relevant judged documents found in the first @p cut
 *         of @p ranked; 0 when none is relevant. */
double ltrr_beir_recall(const uint32_t *ranked, size_t n,
                        const ltrr_beir_rel_t *rels, size_t nrels,
                        size_t cut);

#endif /* LTRR_BEIR_H */
