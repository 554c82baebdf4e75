/*
 * ltrr-train-ranker: fits the ranker's weights offline from logged
 * impressions and rewards (framed single-object records, as
 * `kcat -C -f '%R%s'` and `ltrr-avro encode` write them).
 *
 *   ltrr-train-ranker --impressions FILE --rewards FILE --output FILE
 *                     [--index FILE] [--epochs E] [--seed S] [--text]
 *                     [--json] [--schemas DIR] [--max-bad N]
 *   ltrr-train-ranker --verify FILE
 *
 * Prints the join counts, log loss and AUC of the zero model and of the
 * fitted one over the examples, and the propensity table; writes the
 * model blob (or its text form with --text). See docs/TRAIN_RANKER.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "file.h"
#include "log.h"
#include "ranker_train.h"

/* Largest input file read, in bytes; larger files are refused. */
#define TR_FILE_MAX ((size_t)1 << 32)

struct tr_args {
        const char *imps;     /* --impressions */
        const char *rews;     /* --rewards */
        const char *index;    /* --index, may be NULL */
        const char *output;   /* --output */
        const char *verify;   /* --verify */
        const char *schemas;  /* --schemas, NULL: the build's */
        int epochs;           /* --epochs */
        uint64_t seed;        /* --seed */
        size_t max_bad;       /* --max-bad */
        int text;             /* --text */
        int json;             /* --json */
};

/* The products of one run, released together. */
struct tr_run {
        ltrr_index_t *ix;           /* --index, or NULL */
        ltrr_avro_decoder_t *dec;   /* record decoder */
        ltrr_ranker_train_t *rt;    /* examples */
        ltrr_ranker_t *rk;          /* model being fitted */
        ltrr_ranker_fit_stats_t fs; /* fit metrics */
        double loss0, auc0;         /* zero model */
        double loss1, auc1;         /* fitted model */
};

static void usage(FILE *fp)
{
        fprintf(fp,
                "usage: ltrr-train-ranker --impressions FILE --rewards FILE "
                "--output FILE\n"
                "                         [--index FILE] [--epochs E] "
                "[--seed S] [--text] [--json]\n"
                "                         [--schemas DIR] [--max-bad N]\n"
                "       ltrr-train-ranker --verify FILE\n\n"
                "  --impressions FILE  framed Impression records\n"
                "  --rewards FILE      framed Reward records\n"
                "  --index FILE        entity index for entity features\n"
                "  --epochs E          passes over the examples (default 5)\n"
                "  --seed S            shuffle seed (default 1)\n"
                "  --output FILE       where the model is written\n"
                "  --text              write the text form, not the blob\n"
                "  --json              print the summary as JSON\n"
                "  --schemas DIR       schemas/ directory\n"
                "  --max-bad N         undecodable records tolerated (0)\n"
                "  --verify FILE       load a model file and print its "
                "version\n");
}

/* Parses a non-negative integer of at most @max into *out; -1 if bad. */
static int tr_uint(const char *s, unsigned long long max,
                   unsigned long long *out)
{
        char *end;

        errno = 0;
        if (!s || *s < '0' || *s > '9')
                return -1;
        *out = strtoull(s, &end, 10);
        return errno || *end || *out > max ? -1 : 0;
}

/* Applies option @opt with value @val; 1 flag, 2 value used, -1 bad. */
static int tr_opt(struct tr_args *a, const char *opt, const char *val)
{
        unsigned long long u;
        const char **dst = NULL;

        if (!strcmp(opt, "--text"))
                return a->text = 1;
        if (!strcmp(opt, "--json"))
                return a->json = 1;
        if (!strcmp(opt, "--impressions"))
                dst = &a->imps;
        else if (!strcmp(opt, "--rewards"))
                dst = &a->rews;
        else if (!strcmp(opt, "--index"))
                dst = &a->index;
        else if (!strcmp(opt, "--output"))
                dst = &a->output;
        else if (!strcmp(opt, "--verify"))
                dst = &a->verify;
        else if (!strcmp(opt, "--schemas"))
                dst = &a->schemas;
        if (dst) {
                *dst = val;
                return val ? 2 : -1;
        }
        if (!strcmp(opt, "--epochs") && !tr_uint(val, 1000, &u) && u >= 1)
                return a->epochs = (int)u, 2;
        if (!strcmp(opt, "--seed") && !tr_uint(val, UINT64_MAX, &u))
                return a->seed = u, 2;
        if (!strcmp(opt, "--max-bad") && !tr_uint(val, SIZE_MAX, &u))
                return a->max_bad = (size_t)u, 2;
        return -1;
}

static int parse_args(int argc, char **argv, struct tr_args *a)
{
        int i, used;

        memset(a, 0, sizeof(*a));
        a->epochs = 5;
        a->seed = 1;
        for (i = 1; i < argc; i += used) {
                used = tr_opt(a, argv[i], i + 1 < argc ? argv[i + 1] : NULL);
                if (used < 0) {
                        fprintf(stderr, "ltrr-train-ranker: bad option %s\n",
                                argv[i]);
                        return -1;
                }
        }
        if (!a->verify && (!a->imps || !a->rews || !a->output)) {
                fprintf(stderr, "ltrr-train-ranker: --impressions, "
                                "--rewards and --output are required\n");
                return -1;
        }
        return 0;
}

/* Reads the whole file at @path into *buf (caller frees); -1 after
 * logging why. */
static int file_slurp(const char *path, uint8_t **buf, size_t *len)
{
        char errstr[512];

        if (ltrr_file_read_all(path, TR_FILE_MAX, buf, len, errstr,
                               sizeof(errstr)) == LTRR_OK)
                return 0;
        log_error("train_ranker", "cannot read file", "err", errstr);
        return -1;
}

/* Loads a model file: the blob, or else the text form. NULL after
 * logging why. */
static ltrr_ranker_t *model_load(const char *path)
{
        uint8_t *buf = NULL;
        size_t len;
        ltrr_ranker_t *rk;
        ltrr_err_t err;
        char errstr[256], errstr2[256];

        if (file_slurp(path, &buf, &len))
                return NULL;
        rk = ltrr_ranker_deserialize(buf, len, &err, errstr, sizeof(errstr));
        if (!rk && !memchr(buf, '\0', len))
                rk = ltrr_ranker_from_text((const char *)buf, &err, errstr2,
                                           sizeof(errstr2));
        if (!rk)
                log_error("train_ranker", "not a ranker model", "path", path,
                          "blob", errstr, "text",
                          memchr(buf, '\0', len) ? "binary" : errstr2);
        free(buf);
        return rk;
}

static int cmd_verify(const char *path)
{
        ltrr_ranker_t *rk = model_load(path);
        uint64_t counter, hash;

        if (!rk)
                return 1;
        ltrr_ranker_version(rk, &counter, &hash);
        printf("ok layout %d counter %llu hash %016llx\n",
               LTRR_RANKER_LAYOUT_VERSION, (unsigned long long)counter,
               (unsigned long long)hash);
        ltrr_ranker_destroy(rk);
        return 0;
}

/* Reads one framed file into the trainer; -1 after logging why. */
static int read_log(struct tr_run *r, const char *path, size_t max_bad)
{
        uint8_t *buf;
        size_t len;
        char errstr[256];
        ltrr_err_t err;

        if (file_slurp(path, &buf, &len))
                return -1;
        err = ltrr_ranker_train_read(r->rt, r->dec, buf, len, max_bad, errstr,
                                     sizeof(errstr));
        free(buf);
        if (err) {
                log_error("train_ranker", "cannot read records", "path", path,
                          "err", ltrr_err2str(err), "reason", errstr);
                return -1;
        }
        return 0;
}

/* Opens the index and decoder, reads both logs and builds the examples. */
static int load_examples(struct tr_run *r, const struct tr_args *a)
{
        ltrr_ranker_train_conf_t conf;
        char errstr[256];

        if (a->index &&
            !(r->ix = ltrr_index_open(a->index, errstr, sizeof(errstr)))) {
                log_error("train_ranker", "cannot open index", "path",
                          a->index, "err", errstr);
                return -1;
        }
        ltrr_ranker_train_conf_default(&conf);
        conf.index = r->ix;
        if (!(r->dec = ltrr_avro_decoder_new(a->schemas, errstr,
                                             sizeof(errstr))) ||
            !(r->rt = ltrr_ranker_train_new(&conf, errstr, sizeof(errstr)))) {
                log_error("train_ranker", "cannot start", "err", errstr);
                return -1;
        }
        if (read_log(r, a->imps, a->max_bad) ||
            read_log(r, a->rews, a->max_bad))
                return -1;
        if (ltrr_ranker_train_build(r->rt, errstr, sizeof(errstr))) {
                log_error("train_ranker", "cannot build examples", "err",
                          errstr);
                return -1;
        }
        return 0;
}

/* Evaluates the zero model, fits, evaluates again. */
static int fit(struct tr_run *r, const struct tr_args *a)
{
        ltrr_ranker_fit_opts_t opts;
        const ltrr_ranker_example_t *ex;
        size_t n;
        char errstr[256] = "";

        ex = ltrr_ranker_train_examples(r->rt, &n);
        if (!n) {
                log_error("train_ranker",
                          "no example: no impression has a reward");
                return -1;
        }
        if (!(r->rk = ltrr_ranker_new(NULL, errstr, sizeof(errstr))) ||
            ltrr_ranker_train_eval(r->rk, ex, n, &r->loss0, &r->auc0)) {
                log_error("train_ranker", "cannot create model", "err",
                          errstr);
                return -1;
        }
        opts.epochs = a->epochs;
        opts.seed = a->seed;
        opts.pbias = ltrr_ranker_train_pbias(r->rt);
        if (ltrr_ranker_fit(r->rk, ex, n, &opts, &r->fs, errstr,
                            sizeof(errstr)) ||
            ltrr_ranker_train_eval(r->rk, ex, n, &r->loss1, &r->auc1)) {
                log_error("train_ranker", "fit failed", "err", errstr);
                return -1;
        }
        return 0;
}

/* Writes the model to @path (blob, or text); -1 after logging why. */
static int write_model(const ltrr_ranker_t *rk, const char *path, int text)
{
        static char tbuf[LTRR_RANKER_TEXT_MAX];
        uint8_t blob[LTRR_RANKER_BLOB_SIZE];
        const void *data = blob;
        size_t len = 0;
        FILE *fp;
        int ok;

        if (text) {
                if (ltrr_ranker_to_text(rk, tbuf, sizeof(tbuf)))
                        return -1;
                data = tbuf;
                len = strlen(tbuf);
        } else if (ltrr_ranker_serialize(rk, blob, sizeof(blob), &len)) {
                return -1;
        }
        if (!(fp = fopen(path, "wb"))) {
                log_error("train_ranker", "cannot write model", "path", path,
                          "err", strerror(errno));
                return -1;
        }
        ok = fwrite(data, 1, len, fp) == len;
        ok = (fclose(fp) == 0) && ok;
        if (!ok)
                log_error("train_ranker", "cannot write model", "path", path,
                          "err", strerror(errno));
        return ok ? 0 : -1;
}

static void print_props(const ltrr_pbias_table_t *pb, int json)
{
        int p;

        if (!pb) {
                printf(json ? "\"propensity\":null" : "propensity: none\n");
                return;
        }
        printf(json ? "\"propensity\":[" : "propensity:");
        for (p = 0; p < pb->npos; p++)
                printf(json ? "%s%.6g" : "%s%.4f", p && json ? "," : " ",
                       pb->prop[p]);
        printf(json ? "]" : "\n");
}

static void print_summary(const struct tr_run *r, const struct tr_args *a)
{
        ltrr_ranker_train_stats_t st;
        uint64_t counter, hash;

        ltrr_ranker_train_stats(r->rt, &st);
        ltrr_ranker_version(r->rk, &counter, &hash);
        printf(a->json ? "{\"impressions\":%zu,\"rewards\":%zu,"
                         "\"rewarded\":%zu,\"orphan_rewards\":%zu,"
                         "\"dup_rewards\":%zu,\"unmatched_rewards\":%zu,"
                         "\"dup_impressions\":%zu,\"index_misses\":%zu,"
                         "\"bad_records\":%zu,\"examples\":%zu,"
                         "\"positives\":%zu,"
                       : "impressions %zu\nrewards %zu\nrewarded %zu\n"
                         "orphan_rewards %zu\ndup_rewards %zu\n"
                         "unmatched_rewards %zu\ndup_impressions %zu\n"
                         "index_misses %zu\nbad_records %zu\nexamples %zu\n"
                         "positives %zu\n",
               st.impressions, st.rewards, st.rewarded, st.orphan_rewards,
               st.dup_rewards, st.unmatched_rewards, st.dup_impressions,
               st.index_misses, st.bad_records, st.examples, st.positives);
        printf(a->json ? "\"before\":{\"logloss\":%.6f,\"auc\":%.6f},"
                         "\"after\":{\"logloss\":%.6f,\"auc\":%.6f},"
                         "\"epochs\":%d,\"seed\":%llu,\"hash\":\"%016llx\","
                       : "before logloss %.6f auc %.6f\n"
                         "after logloss %.6f auc %.6f\n"
                         "epochs %d\nseed %llu\nhash %016llx\n",
               r->loss0, r->auc0, r->loss1, r->auc1, r->fs.epochs,
               (unsigned long long)a->seed, (unsigned long long)hash);
        print_props(ltrr_ranker_train_pbias(r->rt), a->json);
        if (a->json)
                printf(",\"output\":\"%s\",\"format\":\"%s\"}\n",
                       a->output, a->text ? "text" : "blob");
}

int main(int argc, char **argv)
{
        struct tr_args a;
        struct tr_run r;
        int rc = 1;

        if (ltrr_cli_wants_help(argc, argv)) {
                usage(stdout);
                return 0;
        }
        if (parse_args(argc, argv, &a)) {
                usage(stderr);
                return 2;
        }
        if (a.verify)
                return cmd_verify(a.verify);
        memset(&r, 0, sizeof(r));
        if (load_examples(&r, &a) || fit(&r, &a))
                goto done;
        if (write_model(r.rk, a.output, a.text)) {
                log_error("train_ranker", "cannot write model", "path",
                          a.output);
                goto done;
        }
        print_summary(&r, &a);
        rc = 0;
done:
        ltrr_ranker_destroy(r.rk);
        ltrr_ranker_train_destroy(r.rt);
        ltrr_avro_decoder_destroy(r.dec);
        ltrr_index_destroy(r.ix);
        return rc;
}
