/*
 * ltrr-index - builds, inspects and queries index files.
 *
 *   ltrr-index build (--synthetic N [--seed S] | --jsonl FILE |
 *                     --csv FILE --mapping INI) --output FILE
 *                    [--lang L] [--stopwords] [--ann [--threads N]]
 *                    [--vectors D]
 *   ltrr-index info FILE [--json]
 *   ltrr-index verify FILE
 *   ltrr-index search INDEX "query" [-k N] [--arm NAME] [--json]
 *   ltrr-index beir DIR [--json]
 *
 * Exit status: 0 ok, 1 failure (the reason is logged), 2 usage error.
 */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "arm.h"
#include "arm_state.h"
#include "beir.h"
#include "cli.h"
#include "hnsw.h"
#include "import.h"
#include "index.h"
#include "log.h"
#include "synth.h"
#include "text.h"

/** Largest -k. */
#define SEARCH_K_MAX 1000
/** Import rows reported in detail. */
#define IMPORT_REPORT_MAX 20

/* Parsed command line. */
typedef struct opts_s {
        const char *cmd;        /* subcommand */
        const char *arg[2];     /* positional arguments */
        int nargs;              /* positional arguments given */
        uint64_t synthetic;     /* --synthetic N */
        uint64_t seed;          /* --seed S */
        const char *jsonl;      /* --jsonl FILE */
        const char *csv;        /* --csv FILE */
        const char *mapping;    /* --mapping INI */
        const char *output;     /* --output FILE */
        const char *lang;       /* --lang L */
        const char *arm;        /* --arm NAME */
        long k;                 /* -k N */
        int stopwords;          /* --stopwords */
        int json;               /* --json */
        int ann;                /* --ann: fuzzy/semantic sections */
        uint64_t threads;       /* --threads N: HNSW build (0: CPUs) */
        uint64_t vectors;       /* --vectors D: synthetic dim */
        int32_t ref_days;       /* --ref-date D: synthetic "today" */
        int has_ref;            /* --ref-date given */
} opts_t;

static void usage_to(FILE *fp)
{
        fprintf(fp,
                "usage: ltrr-index build (--synthetic N [--seed S] | "
                "--jsonl FILE | --csv FILE --mapping INI)\n"
                "                        --output FILE [--lang L] "
                "[--stopwords] [--ann] [--vectors D]\n"
                "                        [--threads N] "
                "[--ref-date YYYY-MM-DD]\n"
                "       ltrr-index info FILE [--json]\n"
                "       ltrr-index verify FILE\n"
                "       ltrr-index search INDEX \"query\" [-k N] "
                "[--arm NAME] [--json]\n"
                "       ltrr-index beir DIR [--json]\n"
                "  --seed S       synthetic catalog seed (default 0)\n"
                "  --lang L       analyzer language (default en)\n"
                "  --stopwords    drop English stop words (default off)\n"
                "  --ann          add the fuzzy (and, with vectors, the\n"
                "                 semantic) arm's HNSW sections\n"
                "  --threads N    threads building them (default: online\n"
                "                 CPUs; past 1, the arm sections are\n"
                "                 built meanwhile on one more; the file\n"
                "                 is the same for any N)\n"
                "  --vectors D    synthetic catalog: D-dim dense vectors\n"
                "  --ref-date D   synthetic catalog: the day new releases\n"
                "                 lead up to (default: today, UTC)\n"
                "  -k N           candidates printed by search (default 10)\n"
                "  --arm NAME     search one arm only (default: the union)\n"
                "  --json         machine-readable output\n");
}

static void usage(void)
{
        usage_to(stderr);
}

/* Parses an unsigned decimal; -1 on error. */
static int parse_u64(const char *s, uint64_t *out)
{
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || end == s || *end || *s == '-')
                return -1;
        *out = v;
        return 0;
}

/* Parses one option taking a value at argv[*i]; -1 if unknown or bad. */
static int parse_valued(opts_t *o, const char *name, const char *v)
{
        uint64_t n;
        if (!strcmp(name, "--synthetic"))
                return parse_u64(v, &o->synthetic) || !o->synthetic ? -1 : 0;
        if (!strcmp(name, "--seed"))
                return parse_u64(v, &o->seed);
        if (!strcmp(name, "--ref-date")) {
                ltrr_date_prec_t prec;
                o->has_ref = 1;
                return ltrr_date_parse(v, &o->ref_days, &prec) ||
                               prec != LTRR_DATE_DAY ? -1 : 0;
        }
        if (!strcmp(name, "--threads"))
                return parse_u64(v, &o->threads) || !o->threads ||
                               o->threads > 64 ? -1 : 0;
        if (!strcmp(name, "--vectors"))
                return parse_u64(v, &o->vectors) ||
                               o->vectors > LTRR_CATALOG_DIM_MAX ? -1 : 0;
        if (!strcmp(name, "-k")) {
                if (parse_u64(v, &n) || n == 0 || n > SEARCH_K_MAX)
                        return -1;
                o->k = (long)n;
                return 0;
        }
        const char **dst = !strcmp(name, "--jsonl")     ? &o->jsonl
                           : !strcmp(name, "--csv")     ? &o->csv
                           : !strcmp(name, "--mapping") ? &o->mapping
                           : !strcmp(name, "--output")  ? &o->output
                           : !strcmp(name, "--lang")    ? &o->lang
                           : !strcmp(name, "--arm")     ? &o->arm
                                                        : NULL;
        if (!dst)
                return -1;
        *dst = v;
        return 0;
}

/* Parses argv into @p o (the tool's own arguments, see the header). */
static int parse_args(int argc, char **argv, opts_t *o)
{
        memset(o, 0, sizeof(*o));
        o->k = 10;
        if (argc < 2)
                return -1;
        o->cmd = argv[1];
        for (int i = 2; i < argc; i++) {
                const char *a = argv[i];
                if (!strcmp(a, "--json"))
                        o->json = 1;
                else if (!strcmp(a, "--stopwords"))
                        o->stopwords = 1;
                else if (!strcmp(a, "--ann"))
                        o->ann = 1;
                else if (a[0] == '-' && a[1]) {
                        if (i + 1 >= argc || parse_valued(o, a, argv[i + 1])) {
                                fprintf(stderr, "ltrr-index: bad option %s\n",
                                        a);
                                return -1;
                        }
                        i++;
                } else if (o->nargs < 2)
                        o->arg[o->nargs++] = a;
                else
                        return -1;
        }
        return 0;
}

/* ---- build -------------------------------------------------------------- */

/* Progress on a terminal: one rewritten line on stderr. */
static void progress_tty(void *opaque, const char *phase, uint64_t done,
                         uint64_t total)
{
        (void)opaque;
        fprintf(stderr, "\r%s %llu/%llu (%3.0f%%)%s", phase,
                (unsigned long long)done, (unsigned long long)total,
                total ? 100.0 * (double)done / (double)total : 100.0,
                done == total ? "\n" : "");
}

/* Logs one skipped import row. */
static void import_error(void *opaque, uint64_t line,
                         ltrr_import_skip_t reason, const char *msg)
{
        char lb[32];
        log_warn("index", "row skipped", "file", (const char *)opaque, "line",
                 ltrr_log_i64(lb, sizeof(lb), (long long)line), "reason",
                 ltrr_import_skip_name(reason), "detail", msg);
}

/* Imports a JSONL or CSV file into @p cat. */
static ltrr_err_t load_file(const opts_t *o, ltrr_catalog_t *cat, char *errstr,
                            size_t size)
{
        const char *path = o->jsonl ? o->jsonl : o->csv;
        ltrr_import_opts_t io = {import_error, (void *)path,
                                 IMPORT_REPORT_MAX};
        ltrr_import_stats_t st;
        ltrr_csv_mapping_t *map = NULL;
        ltrr_err_t err;
        FILE *fp = fopen(path, "r");
        if (!fp)
                return ltrr_errf(LTRR_ERR_IO, errstr, size, "cannot open %s: "
                                 "%s", path, strerror(errno));
        if (o->jsonl) {
                err = ltrr_import_jsonl(cat, fp, &io, &st, errstr, size);
        } else if (!(map = ltrr_csv_mapping_new())) {
                err = ltrr_errf(LTRR_ERR_NOMEM, errstr, size, "oom");
        } else if (!(err = ltrr_csv_mapping_load(map, o->mapping, errstr,
                                                 size))) {
                err = ltrr_import_csv(cat, fp, map, &io, &st, errstr, size);
        }
        fclose(fp);
        ltrr_csv_mapping_destroy(map);
        if (!err) {
                char a[32], b[32], c[32];
                log_info("index", "imported", "file", path, "read",
                         ltrr_log_i64(a, sizeof(a), (long long)st.read),
                         "imported", ltrr_log_i64(b, sizeof(b),
                                                  (long long)st.imported),
                         "skipped", ltrr_log_i64(c, sizeof(c),
                                                 (long long)st.skipped));
        }
        return err;
}

/* Fills a new catalog from the source chosen on the command line. */
static ltrr_catalog_t *load_catalog(const opts_t *o, char *errstr,
                                    size_t size)
{
        uint32_t dim = o->synthetic ? (uint32_t)o->vectors : 0;
        ltrr_catalog_t *cat = ltrr_catalog_new(dim, errstr, size);
        if (!cat)
                return NULL;
        ltrr_err_t err;
        if (o->synthetic) {
                /* Today (UTC) unless given: the fresh arm reads the
                 * request day, so new releases must lead up to it. */
                int32_t ref = o->has_ref ? o->ref_days
                                         : (int32_t)(time(NULL) / 86400);
                ltrr_synth_conf_t sc = {o->synthetic, o->seed, ref, dim};
                char day[16];
                int y, m, d;
                ltrr_date_to_ymd(ref, &y, &m, &d);
                snprintf(day, sizeof(day), "%04d-%02d-%02d", y, m, d);
                log_info("index", "synthetic catalog", "ref_date", day);
                err = ltrr_synth_generate(&sc, ltrr_synth_to_catalog, cat,
                                          errstr, size);
        } else {
                err = load_file(o, cat, errstr, size);
        }
        if (err) {
                ltrr_catalog_destroy(cat);
                return NULL;
        }
        return cat;
}

/* Seconds since an arbitrary origin. */
static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Peak resident set of this process in MiB. */
static long peak_rss_mib(void)
{
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        return ru.ru_maxrss / 1024;
}

/* Logs the wall time of build phase @p phase, which began at @p t0. */
static void log_phase(const char *phase, double t0)
{
        char a[32];
        log_info("index", "phase", "phase", phase, "ms",
                 ltrr_log_i64(a, sizeof(a), (long long)((now_s() - t0) * 1e3)));
}

/* Builds the fuzzy section, and the semantic one when the catalog has
 * vectors, into @p ex (2 entries; *cntp set to how many); their memory
 * goes to @p mem, freed by the caller. */
static ltrr_err_t ann_sections(const ltrr_catalog_t *cat,
                               const ltrr_index_build_conf_t *bc,
                               uint32_t threads, ltrr_index_extra_t ex[2],
                               size_t *cntp, void *mem[2], char *errstr,
                               size_t size)
{
        ltrr_ann_section_conf_t ac = {
            .hnsw = {.progress = bc->progress, .threads = threads}};
        size_t len = 0;
        double t0 = now_s();
        ltrr_err_t err = ltrr_fuzzy_section_build(cat, bc->lang, &ac, &mem[0],
                                                  &len, errstr, size);
        if (err)
                return err;
        ex[(*cntp)++] =
            (ltrr_index_extra_t){LTRR_INDEX_SEC_NGRAMS, mem[0], len};
        log_phase("fuzzy section", t0);
        if (ltrr_catalog_dim(cat)) {
                t0 = now_s();
                if ((err = ltrr_semantic_section_build(cat, &ac, &mem[1],
                                                       &len, errstr, size)))
                        return err;
                ex[(*cntp)++] =
                    (ltrr_index_extra_t){LTRR_INDEX_SEC_VECTORS, mem[1], len};
                log_phase("semantic section", t0);
        }
        return LTRR_OK;
}

/* The arm sections (QU, predicted Q2E, prefix, attribute, entattr:
 * arm_state.h), built by arm_job_run() on the calling thread or on one
 * more. They read the catalog only and use an analyzer of their own. */
typedef struct arm_job_s {
        const ltrr_catalog_t *cat;  /* input (read only) */
        const char *lang;           /* analyzer language, or NULL */
        ltrr_arm_sections_t *as;    /* result; NULL on failure */
        char errstr[512];           /* why not */
} arm_job_t;

static void *arm_job_run(void *arg)
{
        arm_job_t *job = arg;
        double t0 = now_s();
        job->as = ltrr_arm_sections_new(job->cat, job->lang, job->errstr,
                                        sizeof(job->errstr));
        if (job->as)
                log_phase("arm sections", t0);
        return NULL;
}

/* Builds every extra section of @p cat into @p ex (the arm sections
 * first, then the ANN ones, whatever thread finishes first), setting
 * bc->extra and bc->extra_cnt. With --ann and --threads other than 1 the
 * arm sections are built on a second thread meanwhile (joined on every
 * path). The caller frees *asp and @p mem. */
static ltrr_err_t extra_sections(const opts_t *o, const ltrr_catalog_t *cat,
                                 ltrr_index_build_conf_t *bc,
                                 ltrr_index_extra_t *ex,
                                 ltrr_arm_sections_t **asp, void *mem[2],
                                 char *errstr, size_t size)
{
        arm_job_t job = {.cat = cat, .lang = o->lang};
        ltrr_index_extra_t ann[2];
        size_t ann_cnt = 0;
        pthread_t th;
        int par = o->ann && o->threads != 1 &&
                  pthread_create(&th, NULL, arm_job_run, &job) == 0;
        if (!par)
                arm_job_run(&job);
        ltrr_err_t err = o->ann ? ann_sections(cat, bc, (uint32_t)o->threads,
                                               ann, &ann_cnt, mem, errstr,
                                               size)
                                : LTRR_OK;
        if (par)
                pthread_join(th, NULL);
        *asp = job.as;
        if (err)
                return err;
        if (!job.as)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, size,
                                 "arm sections: %s", job.errstr);
        size_t n = ltrr_arm_sections_extra_all(job.as, ex,
                                               LTRR_INDEX_EXTRA_MAX);
        if (n + ann_cnt > LTRR_INDEX_EXTRA_MAX)
                return ltrr_errf(LTRR_ERR_NOSPACE, errstr, size,
                                 "no room for the ANN sections");
        memcpy(ex + n, ann, ann_cnt * sizeof(ann[0]));
        bc->extra = ex;
        bc->extra_cnt = n + ann_cnt;
        return LTRR_OK;
}

static int cmd_build(const opts_t *o)
{
        char errstr[512], a[32], b[32], c[32];
        int srcs = (o->synthetic != 0) + (o->jsonl != NULL) + (o->csv != NULL);
        if (srcs != 1 || !o->output || (o->csv && !o->mapping) || o->nargs) {
                usage();
                return 2;
        }
        double t0 = now_s();
        ltrr_catalog_t *cat = load_catalog(o, errstr, sizeof(errstr));
        if (!cat) {
                log_error("index", "catalog failed", "err", errstr);
                return 1;
        }
        log_phase("catalog", t0);
        ltrr_index_build_conf_t bc = {.lang = o->lang,
                                      .stopwords = o->stopwords};
        if (isatty(STDERR_FILENO))
                bc.progress = progress_tty;
        ltrr_index_extra_t extra[LTRR_INDEX_EXTRA_MAX];
        ltrr_arm_sections_t *as = NULL;
        void *ann_mem[2] = {NULL, NULL};
        ltrr_err_t err = extra_sections(o, cat, &bc, extra, &as, ann_mem,
                                        errstr, sizeof(errstr));
        double t1 = now_s();
        if (!err)
                err = ltrr_index_build(cat, &bc, o->output, errstr,
                                       sizeof(errstr));
        if (!err)
                log_phase("index", t1);
        free(ann_mem[0]);
        free(ann_mem[1]);
        ltrr_arm_sections_destroy(as);
        uint32_t n = ltrr_catalog_count(cat);
        ltrr_catalog_destroy(cat);
        if (err) {
                log_error("index", "build failed", "err", errstr);
                return 1;
        }
        log_info("index", "built", "output", o->output, "entities",
                 ltrr_log_i64(a, sizeof(a), n), "ms",
                 ltrr_log_i64(b, sizeof(b), (long long)((now_s() - t0) * 1e3)),
                 "peak_rss_mib", ltrr_log_i64(c, sizeof(c), peak_rss_mib()));
        return 0;
}

/* ---- info / verify ------------------------------------------------------ */

/* Opens argument 0 as an index, logging why not. */
static ltrr_index_t *open_arg(const opts_t *o)
{
        char errstr[512];
        if (o->nargs < 1) {
                usage();
                return NULL;
        }
        ltrr_index_t *ix = ltrr_index_open(o->arg[0], errstr, sizeof(errstr));
        if (!ix)
                log_error("index", "open failed", "path", o->arg[0], "err",
                          errstr);
        return ix;
}

/* Prints the section table and counts, as text or JSON. */
static void print_info(const ltrr_index_t *ix, int verified, int json)
{
        json_t *secs = json_array();
        for (uint32_t i = 0; i < ltrr_index_section_count(ix); i++) {
                ltrr_index_section_info_t si;
                ltrr_index_section_info(ix, i, &si);
                json_array_append_new(
                    secs, json_pack("{s:s,s:i,s:I,s:I,s:o}", "name",
                                    ltrr_index_sec_name(si.kind), "kind",
                                    (int)si.kind, "offset",
                                    (json_int_t)si.offset, "length",
                                    (json_int_t)si.length, "crc32c",
                                    json_sprintf("%08x", si.crc)));
        }
        json_t *root = json_pack(
            "{s:i,s:i,s:I,s:I,s:s,s:b,s:b,s:o}", "format_version",
            LTRR_INDEX_FORMAT_VERSION, "entities", (int)ltrr_index_count(ix),
            "terms", (json_int_t)ltrr_index_terms(ix), "postings",
            (json_int_t)ltrr_index_postings(ix), "lang", ltrr_index_lang(ix),
            "stopwords", ltrr_index_stopwords(ix), "checksums_ok", verified,
            "sections", secs);
        if (json) {
                json_dumpf(root, stdout, JSON_COMPACT);
                putchar('\n');
        } else {
                printf("entities %u\nterms %u\npostings %llu\nsize %llu\n"
                       "lang %s\nchecksums %s\n", ltrr_index_count(ix),
                       ltrr_index_terms(ix),
                       (unsigned long long)ltrr_index_postings(ix),
                       (unsigned long long)ltrr_index_size(ix),
                       ltrr_index_lang(ix), verified ? "ok" : "BAD");
                size_t i;
                json_t *s;
                json_array_foreach(secs, i, s)
                    printf("section %-9s offset %10lld length %10lld "
                           "crc32c %s\n",
                           json_string_value(json_object_get(s, "name")),
                           (long long)json_integer_value(
                               json_object_get(s, "offset")),
                           (long long)json_integer_value(
                               json_object_get(s, "length")),
                           json_string_value(json_object_get(s, "crc32c")));
        }
        json_decref(root);
}

static int cmd_info(const opts_t *o, int verify_only)
{
        char errstr[512];
        ltrr_index_t *ix = open_arg(o);
        if (!ix)
                return o->nargs < 1 ? 2 : 1;
        ltrr_err_t err = ltrr_index_verify(ix, errstr, sizeof(errstr));
        if (err)
                log_error("index", "verify failed", "path", o->arg[0], "err",
                          errstr);
        if (!verify_only)
                print_info(ix, err == LTRR_OK, o->json);
        else if (!err)
                printf("%s: ok (%u entities, %u sections)\n", o->arg[0],
                       ltrr_index_count(ix), ltrr_index_section_count(ix));
        ltrr_index_destroy(ix);
        return err ? 1 : 0;
}

/* ---- search ------------------------------------------------------------- */

/* Everything one search needs, kept off the stack. */
typedef struct search_s {
        ltrr_token_t toks[LTRR_TEXT_TOKENS_MAX];    /* query tokens */
        char arena[LTRR_TEXT_ARENA_SIZE];           /* token strings */
        ltrr_arm_cand_t cands[LTRR_ARM_MAX][SEARCH_K_MAX]; /* per arm */
        ltrr_arm_list_t lists[LTRR_ARM_MAX];        /* union input */
        size_t nlists;                              /* arms that ran */
        ltrr_arm_hit_t hits[LTRR_ARM_MAX * SEARCH_K_MAX]; /* union */
        size_t nhits;                               /* entries in hits */
} search_t;

/* Names of the arms in @p mask joined by '+', into @p buf. */
static const char *arm_names(uint32_t mask, char *buf, size_t size)
{
        size_t len = 0;
        buf[0] = '\0';
        for (unsigned a = 0; a < ltrr_arm_count() && len < size; a++)
                if (mask & (1u << a))
                        len += (size_t)snprintf(buf + len, size - len, "%s%s",
                                                len ? "+" : "",
                                                ltrr_arm_get(a)->name);
        return buf;
}

/* Runs the selected arms (all available ones when @p only < 0). */
static int run_arms(search_t *s, const ltrr_index_t *ix,
                    const ltrr_arm_query_t *q, int only, size_t k)
{
        char errstr[512];
        ltrr_arm_scratch_t *scr = ltrr_arm_scratch_new();
        if (!scr)
                return -1;
        for (unsigned a = 0; a < ltrr_arm_count(); a++) {
                if (only >= 0 && (unsigned)only != a)
                        continue;
                size_t cnt = 0;
                ltrr_err_t err = ltrr_arm_run(a, ix, q, NULL, scr, k,
                                              s->cands[a], &cnt, errstr,
                                              sizeof(errstr));
                if (err == LTRR_ERR_STATE && only < 0)
                        continue; /* unavailable arms sit out the union */
                if (err) {
                        log_error("index", "arm failed", "arm",
                                  ltrr_arm_get(a)->name, "err", errstr);
                        ltrr_arm_scratch_destroy(scr);
                        return -1;
                }
                s->lists[s->nlists++] = (ltrr_arm_list_t){a, s->cands[a], cnt};
        }
        ltrr_arm_scratch_destroy(scr);
        return ltrr_arm_union(s->lists, s->nlists, s->hits,
                              sizeof(s->hits) / sizeof(s->hits[0]), &s->nhits,
                              errstr, sizeof(errstr)) ? -1 : 0;
}

/* Prints one hit as a JSON object or a text line. */
static void print_hit(const ltrr_index_t *ix, const ltrr_arm_hit_t *h,
                      size_t rank, json_t *arr)
{
        ltrr_index_entity_t e;
        char names[256];
        double score = 0;
        if (ltrr_index_entity(ix, h->ent, &e) != LTRR_OK)
                return; /* cannot happen with a verified index */
        for (unsigned a = 0; a < LTRR_ARM_MAX; a++)
                if (h->arms & (1u << a) && h->scores[a] > score)
                        score = h->scores[a];
        arm_names(h->arms, names, sizeof(names));
        if (arr) {
                json_t *sc = json_object();
                for (unsigned a = 0; a < ltrr_arm_count(); a++)
                        if (h->arms & (1u << a))
                                json_object_set_new(sc, ltrr_arm_get(a)->name,
                                                    json_real(h->scores[a]));
                json_array_append_new(
                    arr, json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:f,s:o}", "rank",
                                   (int)rank, "id", e.id, "type",
                                   ltrr_entity_type_name(e.type), "name",
                                   e.name, "artists", e.artists, "arms",
                                   names, "score", score, "scores", sc));
                return;
        }
        printf("%3zu %9.4f %-10s %-14s %-8s %s%s%s\n", rank, score, names,
               e.id, ltrr_entity_type_name(e.type), e.name,
               *e.artists ? " — " : "", e.artists);
}

/* Analyzes the query text with the index's analyzer. */
static int analyze_query(const ltrr_index_t *ix, const char *text,
                         search_t *s, ltrr_tokbuf_t *tb)
{
        char errstr[512];
        ltrr_analyzer_t *an = ltrr_analyzer_new(ltrr_index_lang(ix), errstr,
                                                sizeof(errstr));
        if (!an) {
                log_error("index", "analyzer failed", "err", errstr);
                return -1;
        }
        ltrr_tokbuf_init(tb, s->toks, LTRR_TEXT_TOKENS_MAX, s->arena,
                         sizeof(s->arena));
        ltrr_err_t err = ltrr_analyzer_analyze(an, text, strlen(text), tb,
                                               errstr, sizeof(errstr));
        ltrr_analyzer_destroy(an);
        if (err)
                log_error("index", "analysis failed", "err", errstr);
        return err ? -1 : 0;
}

static int cmd_search(const opts_t *o)
{
        int only = -1, rc = 1;
        ltrr_tokbuf_t tb;
        if (o->nargs != 2) {
                usage();
                return 2;
        }
        if (o->arm && (only = ltrr_arm_find(o->arm)) < 0) {
                log_error("index", "unknown arm", "arm", o->arm);
                return 2;
        }
        search_t *s = calloc(1, sizeof(*s));
        ltrr_index_t *ix = s ? open_arg(o) : NULL;
        if (!ix || analyze_query(ix, o->arg[1], s, &tb))
                goto done;
        ltrr_arm_query_t q = {tb.toks, tb.cnt, NULL};
        if (run_arms(s, ix, &q, only, (size_t)o->k))
                goto done;
        json_t *arr = o->json ? json_array() : NULL;
        for (size_t i = 0; i < s->nhits && i < (size_t)o->k; i++)
                print_hit(ix, &s->hits[i], i + 1, arr);
        if (arr) {
                json_t *root = json_pack("{s:s,s:o}", "query", o->arg[1],
                                         "results", arr);
                json_dumpf(root, stdout, JSON_COMPACT);
                putchar('\n');
                json_decref(root);
        }
        rc = 0;
done:
        ltrr_index_destroy(ix);
        free(s);
        return rc;
}

/* ---- beir --------------------------------------------------------------- */

/* Builds a temporary index of the BEIR corpus and returns it opened. */
static ltrr_index_t *beir_index(const ltrr_beir_t *bd, char *errstr,
                                size_t size)
{
        char path[] = "/tmp/ltrr-beir-XXXXXX";
        int fd = mkstemp(path);
        if (fd < 0) {
                snprintf(errstr, size, "mkstemp: %s", strerror(errno));
                return NULL;
        }
        close(fd);
        ltrr_index_build_conf_t bc = {.lang = "en", .stopwords = 1};
        ltrr_index_t *ix = NULL;
        if (ltrr_index_build(ltrr_beir_catalog(bd), &bc, path, errstr,
                             size) == LTRR_OK)
                ix = ltrr_index_open(path, errstr, size);
        unlink(path); /* the mapping stays valid */
        return ix;
}

static int cmd_beir(const opts_t *o)
{
        char errstr[512];
        ltrr_beir_result_t res;
        if (o->nargs != 1) {
                usage();
                return 2;
        }
        double t0 = now_s();
        ltrr_beir_t *bd = ltrr_beir_load(o->arg[0], errstr, sizeof(errstr));
        ltrr_index_t *ix = bd ? beir_index(bd, errstr, sizeof(errstr)) : NULL;
        double t1 = now_s();
        ltrr_err_t err = ix ? ltrr_beir_eval(bd, ix, NULL, &res, errstr,
                                             sizeof(errstr))
                            : LTRR_ERR_STATE;
        double t2 = now_s();
        if (!err && o->json)
                printf("{\"dataset\":\"%s\",\"docs\":%u,\"queries\":%u,"
                       "\"ndcg@10\":%.4f,\"recall@100\":%.4f,"
                       "\"build_ms\":%.0f,\"search_ms\":%.0f}\n",
                       o->arg[0], res.docs, res.queries, res.ndcg10,
                       res.recall100, (t1 - t0) * 1e3, (t2 - t1) * 1e3);
        else if (!err)
                printf("docs %u\nqueries %u\nndcg@10 %.4f\nrecall@100 %.4f\n",
                       res.docs, res.queries, res.ndcg10, res.recall100);
        else
                log_error("index", "beir failed", "dir", o->arg[0], "err",
                          errstr);
        ltrr_index_destroy(ix);
        ltrr_beir_destroy(bd);
        return err ? 1 : 0;
}

int main(int argc, char **argv)
{
        opts_t o;
        if (ltrr_cli_wants_help(argc, argv)) {
                usage_to(stdout);
                return 0;
        }
        if (parse_args(argc, argv, &o)) {
                usage();
                return 2;
        }
        if (!strcmp(o.cmd, "build"))
                return cmd_build(&o);
        if (!strcmp(o.cmd, "info"))
                return cmd_info(&o, 0);
        if (!strcmp(o.cmd, "verify"))
                return cmd_info(&o, 1);
        if (!strcmp(o.cmd, "search"))
                return cmd_search(&o);
        if (!strcmp(o.cmd, "beir"))
                return cmd_beir(&o);
        usage();
        return 2;
}
