/*
 * ltrr - BEIR loader and the two metrics BEIR reports for retrieval.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beir.h"
#include "index_int.h"

/** Run depth: recall@100 needs the first 100 results. */
#define BEIR_DEPTH 100
/** Longest query text analyzed, in bytes. */
#define BEIR_QUERY_MAX 4096

/* One query and its judgments. */
typedef struct beir_query_s {
        char *id;              /* query id */
        char *text;            /* query text */
        ltrr_beir_rel_t *rels; /* judgments */
        size_t nrels;          /* entries in rels */
        size_t cap;            /* allocated rels */
} beir_query_t;

struct ltrr_beir_s {
        ltrr_catalog_t *cat;   /* the corpus */
        beir_query_t *qs;      /* queries in file order */
        size_t nq;             /* entries in qs */
        size_t cap;            /* allocated qs */
        uint64_t skipped;      /* judgments not matched */
};

/* Cuts @p s to at most @p max bytes at a UTF-8 boundary, in place. */
static void utf8_cut(char *s, size_t max)
{
        size_t len = strlen(s);
        if (len <= max)
                return;
        while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
                max--;
        s[max] = '\0';
}

/* Returns string member @p key of @p obj, or NULL. */
static const char *jstr(json_t *obj, const char *key)
{
        json_t *v = json_object_get(obj, key);
        return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Adds one corpus line to the catalog. Bad lines are skipped. */
static ltrr_err_t corpus_line(ltrr_beir_t *bd, const char *line, char *errstr,
                              size_t errstr_size)
{
        json_t *o = json_loads(line, 0, NULL);
        ltrr_err_t err = LTRR_OK;
        const char *id = o ? jstr(o, "_id") : NULL;
        if (!id)
                goto done;
        char *title = strdup(jstr(o, "title") ? jstr(o, "title") : "");
        char *text = strdup(jstr(o, "text") ? jstr(o, "text") : "");
        if (!title || !text) {
                err = ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "oom");
        } else {
                utf8_cut(title, LTRR_CATALOG_STR_MAX);
                utf8_cut(text, LTRR_CATALOG_STR_MAX);
                ltrr_entity_in_t in;
                ltrr_entity_in_init(&in);
                in.id = id;
                in.name = *title ? title : "-"; /* "-" yields no token */
                in.description = text;
                err = ltrr_catalog_add(bd->cat, &in, errstr, errstr_size);
                if (err == LTRR_ERR_INVALID_ARG || err == LTRR_ERR_RANGE)
                        err = LTRR_OK; /* a bad document is skipped */
        }
        free(title);
        free(text);
done:
        json_decref(o);
        return err;
}

/* Appends one query line. Bad lines are skipped. */
static ltrr_err_t query_line(ltrr_beir_t *bd, const char *line, char *errstr,
                             size_t errstr_size)
{
        json_t *o = json_loads(line, 0, NULL);
        ltrr_err_t err = LTRR_OK;
        const char *id = o ? jstr(o, "_id") : NULL;
        const char *text = o ? jstr(o, "text") : NULL;
        if (!id || !text)
                goto done;
        if (bd->nq == bd->cap) {
                size_t cap = bd->cap ? bd->cap * 2 : 256;
                beir_query_t *q = realloc(bd->qs, cap * sizeof(*q));
                if (!q) {
                        err = ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                        "oom");
                        goto done;
                }
                bd->qs = q;
                bd->cap = cap;
        }
        beir_query_t *q = &bd->qs[bd->nq];
        memset(q, 0, sizeof(*q));
        q->id = strdup(id);
        q->text = strdup(text);
        if (!q->id || !q->text) {
                free(q->id);
                free(q->text);
                err = ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "oom");
                goto done;
        }
        bd->nq++;
done:
        json_decref(o);
        return err;
}

/* Adds one "qid TAB docid TAB grade" line; unknown ids are counted. */
static ltrr_err_t qrel_line(ltrr_beir_t *bd, char *line, char *errstr,
                            size_t errstr_size)
{
        char *save = NULL, *qid = strtok_r(line, "\t\r\n", &save);
        char *did = strtok_r(NULL, "\t\r\n", &save);
        char *grade = strtok_r(NULL, "\t\r\n", &save);
        if (!qid || !did || !grade)
                return LTRR_OK;
        int64_t doc = ltrr_catalog_find(bd->cat, did);
        beir_query_t *q = NULL;
        for (size_t i = 0; i < bd->nq && !q; i++)
                if (strcmp(bd->qs[i].id, qid) == 0)
                        q = &bd->qs[i];
        if (doc < 0 || !q || q->nrels == LTRR_BEIR_RELS_MAX) {
                bd->skipped++;
                return LTRR_OK;
        }
        if (q->nrels == q->cap) {
                size_t cap = q->cap ? q->cap * 2 : 4;
                ltrr_beir_rel_t *r = realloc(q->rels, cap * sizeof(*r));
                if (!r)
                        return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                         "oom");
                q->rels = r;
                q->cap = cap;
        }
        q->rels[q->nrels].doc = (uint32_t)doc;
        q->rels[q->nrels].grade = atoi(grade);
        q->nrels++;
        return LTRR_OK;
}

typedef ltrr_err_t(line_fn)(ltrr_beir_t *bd, char *line, char *errstr,
                            size_t errstr_size);

/* Feeds every line of DIR/NAME to @p fn; @p skip_first skips a header. */
static ltrr_err_t read_lines(ltrr_beir_t *bd, const char *dir,
                             const char *name, int skip_first, line_fn *fn,
                             char *errstr, size_t errstr_size)
{
        char path[4096];
        char *line = NULL;
        size_t cap = 0;
        ltrr_err_t err = LTRR_OK;
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *fp = fopen(path, "r");
        if (!fp)
                return ltrr_errf(LTRR_ERR_IO, errstr, errstr_size,
                                 "cannot open %s", path);
        for (uint64_t n = 0; !err && getline(&line, &cap, fp) >= 0; n++)
                if (n > 0 || !skip_first)
                        err = fn(bd, line, errstr, errstr_size);
        if (!err && ferror(fp))
                err = ltrr_errf(LTRR_ERR_IO, errstr, errstr_size,
                                "read error on %s", path);
        free(line);
        fclose(fp);
        return err;
}

/* Adapters from the const-line callbacks to line_fn. */
static ltrr_err_t corpus_fn(ltrr_beir_t *bd, char *line, char *e, size_t n)
{
        return corpus_line(bd, line, e, n);
}

static ltrr_err_t query_fn(ltrr_beir_t *bd, char *line, char *e, size_t n)
{
        return query_line(bd, line, e, n);
}

ltrr_beir_t *ltrr_beir_load(const char *dir, char *errstr,
                            size_t errstr_size)
{
        ltrr_beir_t *bd = calloc(1, sizeof(*bd));
        if (!bd || !dir) {
                ltrr_errf(bd ? LTRR_ERR_INVALID_ARG : LTRR_ERR_NOMEM, errstr,
                          errstr_size, bd ? "no directory" : "oom");
                goto err;
        }
        if (!(bd->cat = ltrr_catalog_new(0, errstr, errstr_size)))
                goto err;
        if (read_lines(bd, dir, "corpus.jsonl", 0, corpus_fn, errstr,
                       errstr_size) ||
            read_lines(bd, dir, "queries.jsonl", 0, query_fn, errstr,
                       errstr_size) ||
            read_lines(bd, dir, "qrels/test.tsv", 1, qrel_line, errstr,
                       errstr_size))
                goto err;
        if (ltrr_catalog_count(bd->cat) == 0 || ltrr_beir_queries(bd) == 0) {
                ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                          "%s: no documents or no judged queries", dir);
                goto err;
        }
        return bd;
err:
        ltrr_beir_destroy(bd);
        return NULL;
}

void ltrr_beir_destroy(ltrr_beir_t *bd)
{
        if (!bd)
                return;
        for (size_t i = 0; i < bd->nq; i++) {
                free(bd->qs[i].id);
                free(bd->qs[i].text);
                free(bd->qs[i].rels);
        }
        free(bd->qs);
        ltrr_catalog_destroy(bd->cat);
        free(bd);
}

const ltrr_catalog_t *ltrr_beir_catalog(const ltrr_beir_t *bd)
{
        return bd->cat;
}

uint32_t ltrr_beir_queries(const ltrr_beir_t *bd)
{
        uint32_t n = 0;
        for (size_t i = 0; i < bd->nq; i++)
                n += bd->qs[i].nrels > 0;
        return n;
}

uint64_t ltrr_beir_skipped(const ltrr_beir_t *bd) { return bd->skipped; }

void ltrr_beir_bm25f(ltrr_bm25f_t *p)
{
        ltrr_bm25f_defaults(p);
        p->k1 = 1.2f;
        for (int f = 0; f < LTRR_INDEX_FIELDS; f++) {
                p->w[f] = 1.0f;
                p->b[f] = 0.75f;
        }
        p->prefix = 0;
}

/* ---- metrics ------------------------------------------------------------ */

/* Grade of @p doc in @p rels, 0 if unjudged. */
static int grade_of(uint32_t doc, const ltrr_beir_rel_t *rels, size_t nrels)
{
        for (size_t i = 0; i < nrels; i++)
                if (rels[i].doc == doc)
                        return rels[i].grade;
        return 0;
}

/* Sorts grades descending (for the ideal DCG). */
static int grade_desc(const void *a, const void *b)
{
        int x = *(const int *)a, y = *(const int *)b;
        return (y > x) - (y < x);
}

double ltrr_beir_ndcg(const uint32_t *ranked, size_t n,
                      const ltrr_beir_rel_t *rels, size_t nrels, size_t cut)
{
        int grades[LTRR_BEIR_RELS_MAX];
        double dcg = 0.0, idcg = 0.0;
        size_t m = nrels < LTRR_BEIR_RELS_MAX ? nrels : LTRR_BEIR_RELS_MAX;
        for (size_t i = 0; i < n && i < cut; i++) {
                int g = grade_of(ranked[i], rels, nrels);
                if (g > 0)
                        dcg += g / log2((double)i + 2.0);
        }
        for (size_t i = 0; i < m; i++)
                grades[i] = rels[i].grade;
        qsort(grades, m, sizeof(int), grade_desc);
        for (size_t i = 0; i < m && i < cut && grades[i] > 0; i++)
                idcg += grades[i] / log2((double)i + 2.0);
        return idcg > 0 ? dcg / idcg : 0.0;
}

double ltrr_beir_recall(const uint32_t *ranked, size_t n,
                        const ltrr_beir_rel_t *rels, size_t nrels, size_t cut)
{
        size_t rel = 0, found = 0;
        for (size_t i = 0; i < nrels; i++)
                rel += rels[i].grade > 0;
        for (size_t i = 0; i < n && i < cut; i++)
                found += grade_of(ranked[i], rels, nrels) > 0;
        return rel ? (double)found / (double)rel : 0.0;
}

/* ---- evaluation --------------------------------------------------------- */

/* Resources of one evaluation run. */
typedef struct beir_run_s {
        ltrr_analyzer_t *an;                   /* query analyzer */
        ltrr_arm_scratch_t *scr;               /* arm scratch */
        ltrr_token_t toks[LTRR_TEXT_TOKENS_MAX]; /* query tokens */
        char arena[LTRR_TEXT_ARENA_SIZE];      /* token strings */
        ltrr_arm_cand_t cands[BEIR_DEPTH + 1]; /* arm output */
        uint32_t ranked[BEIR_DEPTH];           /* entities, best first */
} beir_run_t;

/* Retrieves for query @p q into run->ranked; returns the count or -1. */
static int beir_query(beir_run_t *run, const ltrr_index_t *ix,
                      const beir_query_t *q, const ltrr_arm_ctx_t *ctx,
                      char *errstr, size_t errstr_size)
{
        ltrr_tokbuf_t tb;
        size_t cnt = 0, len = strlen(q->text);
        ltrr_tokbuf_init(&tb, run->toks, LTRR_TEXT_TOKENS_MAX, run->arena,
                         sizeof(run->arena));
        if (ltrr_analyzer_analyze(run->an, q->text,
                                  len < BEIR_QUERY_MAX ? len : BEIR_QUERY_MAX,
                                  &tb, errstr, errstr_size))
                return -1;
        ltrr_arm_query_t aq = {tb.toks, tb.cnt, NULL};
        int id = ltrr_arm_find("lexical");
        if (ltrr_arm_run((unsigned)id, ix, &aq, ctx, run->scr, BEIR_DEPTH + 1,
                         run->cands, &cnt, errstr, errstr_size))
                return -1;
        int n = 0;
        for (size_t i = 0; i < cnt && n < BEIR_DEPTH; i++) {
                ltrr_index_entity_t e;
                if (ltrr_index_entity(ix, run->cands[i].ent, &e) == LTRR_OK &&
                    strcmp(e.id, q->id) == 0)
                        continue; /* BEIR ignores identical ids */
                run->ranked[n++] = run->cands[i].ent;
        }
        return n;
}

ltrr_err_t ltrr_beir_eval(const ltrr_beir_t *bd, const ltrr_index_t *ix,
                          const ltrr_bm25f_t *p, ltrr_beir_result_t *res,
                          char *errstr, size_t errstr_size)
{
        ltrr_bm25f_t def;
        ltrr_arm_ctx_t ctx;
        ltrr_err_t err = LTRR_OK;
        memset(res, 0, sizeof(*res));
        memset(&ctx, 0, sizeof(ctx));
        if (!p) {
                ltrr_beir_bm25f(&def);
                p = &def;
        }
        ctx.bm25f = p;
        beir_run_t *run = calloc(1, sizeof(*run));
        if (!run || !(run->scr = ltrr_arm_scratch_new()) ||
            !(run->an = ltrr_analyzer_new(ltrr_index_lang(ix), errstr,
                                          errstr_size))) {
                err = ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                "cannot set up the run");
                goto done;
        }
        for (size_t i = 0; i < bd->nq; i++) {
                const beir_query_t *q = &bd->qs[i];
                if (!q->nrels)
                        continue;
                int n = beir_query(run, ix, q, &ctx, errstr, errstr_size);
                if (n < 0) {
                        err = LTRR_ERR_STATE;
                        goto done;
                }
                res->ndcg10 += ltrr_beir_ndcg(run->ranked, (size_t)n, q->rels,
                                              q->nrels, 10);
                res->recall100 += ltrr_beir_recall(run->ranked, (size_t)n,
                                                   q->rels, q->nrels, 100);
                res->queries++;
        }
        if (res->queries) {
                res->ndcg10 /= res->queries;
                res->recall100 /= res->queries;
        }
        res->docs = ltrr_index_count(ix);
done:
        if (run) {
                ltrr_analyzer_destroy(run->an);
                ltrr_arm_scratch_destroy(run->scr);
        }
        free(run);
        return err;
}
