/*
 * ltrr-ope: off-policy evaluation of a target policy on logged bandit
 * feedback. Reads an Open Bandit Dataset log, builds the target policy's
 * action distribution (uniform random, or Bernoulli Thompson sampling from
 * its Beta prior), and prints IPS, SNIPS, DM, DR and Switch-DR with
 * bootstrap intervals as a table or as JSON. The rewards command does
 * the same for ltrr's own arm selection, from framed Reward records (as
 * `kcat -C -t ltrr.rewards -f '%R%s'` writes them; see ope_rewards.h).
 *
 *   ltrr-ope obd LOGS.csv --target uniform|bts [--prior PRIOR.tsv] [--json]
 *            [--bootstrap B] [--seed S] [--truth CTR] [--tau T]
 *            [--folds K] [--smoothing S] [--sims N] [--max-bad N]
 *   ltrr-ope rewards FILE --target logged|uniform|arm:NAME [--json]
 *            [--bootstrap B] [--seed S] [--tau T] [--max-bad N]
 *            [--schemas DIR]
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "file.h"
#include "log.h"
#include "obd.h"
#include "ope.h"
#include "ope_rewards.h"

/* Largest rewards file read, in bytes; larger files are refused. */
#define REWARDS_FILE_MAX ((size_t)1 << 32)

enum ope_target { TARGET_NONE, TARGET_UNIFORM, TARGET_BTS };

struct ope_args {
        const char *log_path;     /* LOGS.csv */
        enum ope_target target;   /* --target */
        const char *prior_path;   /* --prior, needed for bts */
        int json;                 /* --json */
        double truth;             /* --truth, NAN when not given */
        uint32_t sims;            /* --sims: Thompson draws */
        uint64_t max_bad;         /* --max-bad */
        ltrr_ope_conf_t conf;     /* --bootstrap, --seed, --tau */
        ltrr_obd_model_conf_t mc; /* --folds, --smoothing */
};

static void usage(FILE *fp)
{
        fprintf(fp,
                "usage: ltrr-ope obd LOGS.csv --target uniform|bts "
                "[--prior PRIOR.tsv] [--json]\n"
                "         [--bootstrap B] [--seed S] [--truth CTR] [--tau T]"
                " [--folds K]\n"
                "         [--smoothing S] [--sims N] [--max-bad N]\n"
                "  --target      policy to evaluate: uniform, or bts (needs "
                "--prior)\n"
                "  --bootstrap   bootstrap resamples (default 1000)\n"
                "  --seed        bootstrap seed (default 20261124)\n"
                "  --tau         Switch-DR weight threshold (default 100)\n"
                "  --folds       reward-model cross-fitting folds (default 5)\n"
                "  --smoothing   reward-model shrinkage, pseudo-impressions "
                "(default 10)\n"
                "  --sims        Thompson draws for the bts target "
                "(default 100000)\n"
                "  --max-bad     bad rows tolerated (default 0)\n"
                "  --truth       known CTR: adds the relative error\n"
                "  --json        one JSON object per estimator\n"
                "usage: ltrr-ope rewards FILE --target logged|uniform|"
                "arm:NAME [--json]\n"
                "         [--bootstrap B] [--seed S] [--tau T] [--max-bad N]"
                " [--schemas DIR]\n"
                "  FILE          framed Reward records (kcat -f '%%R%%s')\n"
                "  --target      logged: the logging policy; uniform: random"
                " arms, same\n"
                "                expected count; arm:NAME: that arm alone\n"
                "  --schemas     schemas/ directory (default: the build's)\n");
}

/* Parses a number in [lo, hi]; returns 0 on success. */
static int parse_num(const char *s, double lo, double hi, double *out)
{
        char *end;

        errno = 0;
        *out = strtod(s, &end);
        return (errno || end == s || *end || !(*out >= lo && *out <= hi))
                       ? -1 : 0;
}

/* Parses a whole number in [lo, hi]; returns 0 on success. */
static int parse_count(const char *s, double lo, double hi, double *out)
{
        return (parse_num(s, lo, hi, out) || *out != floor(*out)) ? -1 : 0;
}

/* Applies option @o with value @val (unused by flags). Returns 1 for a
 * flag, 2 for an option that took @val, -1 when unknown or invalid. */
static int parse_opt(struct ope_args *a, const char *o, const char *val)
{
        double v;

        if (!strcmp(o, "--json"))
                return a->json = 1;
        if (!strcmp(o, "--target")) {
                a->target = !strcmp(val, "uniform") ? TARGET_UNIFORM
                            : !strcmp(val, "bts")   ? TARGET_BTS
                                                    : TARGET_NONE;
                return a->target == TARGET_NONE ? -1 : 2;
        }
        if (!strcmp(o, "--prior"))
                return (a->prior_path = val), 2;
        if (!strcmp(o, "--truth"))
                return parse_num(val, 1e-300, 1e300, &a->truth) ? -1 : 2;
        if (!strcmp(o, "--tau"))
                return parse_num(val, 1e-300, 1e300, &a->conf.switch_tau)
                       ? -1 : 2;
        if (!strcmp(o, "--smoothing"))
                return parse_num(val, 0, 1e12, &a->mc.smoothing) ? -1 : 2;
        if (!strcmp(o, "--bootstrap") &&
            !parse_count(val, 0, LTRR_OPE_BOOTSTRAP_MAX, &v))
                return (a->conf.bootstrap = (uint32_t)v), 2;
        if (!strcmp(o, "--seed") && !parse_count(val, 0, 1.8e19, &v))
                return (a->conf.seed = (uint64_t)v), 2;
        if (!strcmp(o, "--folds") &&
            !parse_count(val, 1, LTRR_OBD_FOLDS_MAX, &v))
                return (a->mc.folds = (uint32_t)v), 2;
        if (!strcmp(o, "--sims") && !parse_count(val, 1, 1e8, &v))
                return (a->sims = (uint32_t)v), 2;
        if (!strcmp(o, "--max-bad") && !parse_count(val, 0, 1e15, &v))
                return (a->max_bad = (uint64_t)v), 2;
        return -1;
}

/* Fills @a from the command line; returns 0, or -1 after printing why. */
static int parse_args(int argc, char **argv, struct ope_args *a)
{
        int i, used;

        memset(a, 0, sizeof(*a));
        a->truth = NAN;
        a->sims = LTRR_OBD_SIMS_DEFAULT;
        ltrr_ope_conf_init(&a->conf);
        ltrr_obd_model_conf_init(&a->mc);
        if (argc < 3 || strcmp(argv[1], "obd"))
                return -1;
        a->log_path = argv[2];
        for (i = 3; i < argc; i += used) {
                const char *val = i + 1 < argc ? argv[i + 1] : NULL;

                used = parse_opt(a, argv[i], val ? val : "");
                if (used < 0 || (used == 2 && !val)) {
                        fprintf(stderr, "ltrr-ope: bad option %s %s\n",
                                argv[i], val ? val : "");
                        return -1;
                }
        }
        if (a->target == TARGET_NONE ||
            (a->target == TARGET_BTS && !a->prior_path)) {
                fprintf(stderr, "ltrr-ope: --target uniform, or --target bts"
                                " with --prior, is required\n");
                return -1;
        }
        return 0;
}

/* Reads the log at @path; NULL after logging why. */
static ltrr_obd_log_t *load_log(const struct ope_args *a)
{
        char errstr[256], n[32], line[32];
        ltrr_obd_stats_t st;
        ltrr_obd_log_t *log = NULL;
        FILE *fp = fopen(a->log_path, "r");

        if (!fp) {
                log_error("ope", "cannot open log", "path", a->log_path,
                          "err", strerror(errno));
                return NULL;
        }
        if (!(log = ltrr_obd_log_new(errstr, sizeof(errstr))) ||
            ltrr_obd_log_read(log, fp, a->max_bad, &st, errstr,
                              sizeof(errstr))) {
                log_error("ope", "cannot read log", "path", a->log_path,
                          "err", errstr);
                ltrr_obd_log_destroy(log);
                log = NULL;
        } else if (st.bad) {
                log_warn("ope", "bad rows skipped", "path", a->log_path,
                         "count", ltrr_log_i64(n, sizeof(n), (long long)st.bad),
                         "first_line",
                         ltrr_log_i64(line, sizeof(line),
                                      (long long)st.first_bad_line),
                         "first", st.first_bad);
        }
        fclose(fp);
        return log;
}

/* Builds the target distribution for @log; NULL after logging why. */
static ltrr_obd_dist_t *load_target(const struct ope_args *a,
                                    const ltrr_obd_log_t *log)
{
        char errstr[256];
        ltrr_obd_prior_t *prior = NULL;
        ltrr_obd_dist_t *d;
        FILE *fp;

        d = ltrr_obd_dist_new(ltrr_obd_log_items(log),
                              ltrr_obd_log_positions(log), errstr,
                              sizeof(errstr));
        if (!d || a->target == TARGET_UNIFORM)
                goto done;
        if (!(fp = fopen(a->prior_path, "r"))) {
                snprintf(errstr, sizeof(errstr), "%s", strerror(errno));
                goto fail;
        }
        prior = ltrr_obd_prior_new(fp, errstr, sizeof(errstr));
        fclose(fp);
        if (!prior || ltrr_obd_dist_bts(d, prior, a->sims,
                                        LTRR_OBD_SIM_SEED_DEFAULT, errstr,
                                        sizeof(errstr)))
                goto fail;
        goto done;
fail:
        ltrr_obd_dist_destroy(d);
        d = NULL;
done:
        if (!d)
                log_error("ope", "cannot build target policy", "err", errstr);
        ltrr_obd_prior_destroy(prior);
        return d;
}

static void print_table(const struct ope_args *a, const ltrr_obd_log_t *log,
                        const ltrr_ope_report_t *rep)
{
        int e;

        printf("target=%s rows=%zu items=%zu positions=%zu log_ctr=%.6g "
               "bootstrap=%u\n",
               a->target == TARGET_BTS ? "bts" : "uniform", rep->n,
               ltrr_obd_log_items(log), ltrr_obd_log_positions(log),
               ltrr_obd_log_ctr(log), a->conf.bootstrap);
        printf("%-10s %12s %12s %12s %10s\n", "estimator", "value",
               "ci_low", "ci_high", "rel_error");
        for (e = 0; e < LTRR_OPE__CNT; e++) {
                const ltrr_ope_estimate_t *x = &rep->est[e];

                printf("%-10s %12.6g %12.6g %12.6g", ltrr_ope_est_name(e),
                       x->value, x->ci_low, x->ci_high);
                if (isnan(a->truth))
                        printf(" %10s\n", "-");
                else
                        printf(" %10.4f\n",
                               fabs(x->value - a->truth) / a->truth);
        }
        printf("ess=%.1f max_weight=%.6g mean_weight=%.6g switched=%zu "
               "tau=%g\n", rep->ess, rep->max_weight, rep->mean_weight,
               rep->n_switched, a->conf.switch_tau);
}

static void print_json(const struct ope_args *a, const ltrr_obd_log_t *log,
                       const ltrr_ope_report_t *rep)
{
        int e;

        printf("{\"target\":\"%s\",\"rows\":%zu,\"items\":%zu,"
               "\"log_ctr\":%.9g,\"bootstrap\":%u,\"ess\":%.9g,"
               "\"max_weight\":%.9g,\"mean_weight\":%.9g,\"n_switched\":%zu",
               a->target == TARGET_BTS ? "bts" : "uniform", rep->n,
               ltrr_obd_log_items(log), ltrr_obd_log_ctr(log),
               a->conf.bootstrap, rep->ess, rep->max_weight, rep->mean_weight,
               rep->n_switched);
        if (!isnan(a->truth))
                printf(",\"truth\":%.9g", a->truth);
        for (e = 0; e < LTRR_OPE__CNT; e++) {
                const ltrr_ope_estimate_t *x = &rep->est[e];

                printf(",\"%s\":{\"value\":%.9g,\"ci\":[%.9g,%.9g]",
                       ltrr_ope_est_name(e), x->value, x->ci_low, x->ci_high);
                if (!isnan(a->truth))
                        printf(",\"relative_error\":%.9g",
                               fabs(x->value - a->truth) / a->truth);
                printf("}");
        }
        printf("}\n");
}

struct rw_args {
        const char *path;       /* FILE */
        const char *schemas;    /* --schemas, NULL for the build's */
        ltrr_ope_target_t target; /* --target */
        int has_target;         /* --target given */
        int json;               /* --json */
        uint64_t max_bad;       /* --max-bad */
        ltrr_ope_conf_t conf;   /* --bootstrap, --seed, --tau */
};

/* Applies one rewards option; returns as parse_opt(). */
static int rw_opt(struct rw_args *a, const char *o, const char *val)
{
        double v;
        char errstr[128];

        if (!strcmp(o, "--json"))
                return a->json = 1;
        if (!strcmp(o, "--target")) {
                a->has_target = 1;
                if (ltrr_ope_target_parse(val, &a->target, errstr,
                                          sizeof(errstr)) == LTRR_OK)
                        return 2;
                fprintf(stderr, "ltrr-ope: %s\n", errstr);
                return -1;
        }
        if (!strcmp(o, "--schemas"))
                return (a->schemas = val), 2;
        if (!strcmp(o, "--tau"))
                return parse_num(val, 1e-300, 1e300, &a->conf.switch_tau)
                       ? -1 : 2;
        if (!strcmp(o, "--bootstrap") &&
            !parse_count(val, 0, LTRR_OPE_BOOTSTRAP_MAX, &v))
                return (a->conf.bootstrap = (uint32_t)v), 2;
        if (!strcmp(o, "--seed") && !parse_count(val, 0, 1.8e19, &v))
                return (a->conf.seed = (uint64_t)v), 2;
        if (!strcmp(o, "--max-bad") && !parse_count(val, 0, 1e15, &v))
                return (a->max_bad = (uint64_t)v), 2;
        return -1;
}

/* Fills @a for `rewards`; returns 0, or -1 after printing why. */
static int rw_parse(int argc, char **argv, struct rw_args *a)
{
        int i, used;

        memset(a, 0, sizeof(*a));
        ltrr_ope_conf_init(&a->conf);
        if (argc < 3)
                return -1;
        a->path = argv[2];
        for (i = 3; i < argc; i += used) {
                const char *val = i + 1 < argc ? argv[i + 1] : NULL;

                used = rw_opt(a, argv[i], val ? val : "");
                if (used < 0 || (used == 2 && !val)) {
                        fprintf(stderr, "ltrr-ope: bad option %s %s\n",
                                argv[i], val ? val : "");
                        return -1;
                }
        }
        if (!a->has_target) {
                fprintf(stderr, "ltrr-ope: --target is required\n");
                return -1;
        }
        return 0;
}

/* Reads the whole file at @path into *buf (caller frees); -1 after
 * logging why. */
static int file_slurp(const char *path, uint8_t **buf, size_t *len)
{
        char errstr[512];

        if (ltrr_file_read_all(path, REWARDS_FILE_MAX, buf, len, errstr,
                               sizeof(errstr)) == LTRR_OK)
                return 0;
        log_error("ope", "cannot read file", "err", errstr);
        return -1;
}

static void rw_print_est(const ltrr_ope_estimate_t *x, const char *name,
                         int json)
{
        if (json)
                printf("\"%s\":{\"value\":%.9g,\"ci\":[%.9g,%.9g]}", name,
                       x->value, x->ci_low, x->ci_high);
        else
                printf("  %-10s %12.6g %12.6g %12.6g\n", name, x->value,
                       x->ci_low, x->ci_high);
}

/* The total: IPS, DM and DR (SNIPS and Switch-DR are per arm only). */
static void rw_print_total(const ltrr_ope_rewards_report_t *rep, int json)
{
        static const ltrr_ope_est_t tot[] = {LTRR_OPE_IPS, LTRR_OPE_DM,
                                             LTRR_OPE_DR};
        size_t k;

        printf(json ? "\"total\":{\"on_policy\":%.9g" :
                      "total (on_policy %.6g)\n", rep->on_policy);
        for (k = 0; k < 3; k++) {
                if (json)
                        printf(",");
                rw_print_est(&rep->total.est[tot[k]],
                             ltrr_ope_est_name(tot[k]), json);
        }
        printf(json ? "}" : "");
}

static void rw_print(const struct rw_args *a, const ltrr_ope_rewards_t *rw,
                     const ltrr_ope_rewards_stats_t *st,
                     const ltrr_ope_rewards_report_t *rep)
{
        const char *name;
        size_t i;
        int e;

        printf(a->json ? "{\"impressions\":%zu,\"records\":%zu,"
                         "\"skipped\":%zu,\"bad\":%zu,\"gaps\":%zu,"
                         "\"bootstrap\":%u,"
                       : "impressions=%zu records=%zu skipped=%zu bad=%zu "
                         "gaps=%zu bootstrap=%u\n",
               rep->n, st->records, st->skipped, st->bad, rep->gaps,
               a->conf.bootstrap);
        rw_print_total(rep, a->json);
        printf(a->json ? ",\"arms\":{" : "");
        for (i = 0; i < rep->n_arms; i++) {
                name = ltrr_ope_rewards_arm_name(rw, i);
                printf(a->json ? "%s\"%s\":{\"on_policy\":%.9g"
                               : "%sarm %s (on_policy %.6g)\n",
                       a->json && i ? "," : "", name, rep->on_policy_arm[i]);
                for (e = 0; e < LTRR_OPE__CNT; e++) {
                        if (a->json)
                                printf(",");
                        rw_print_est(&rep->arm[i].est[e],
                                     ltrr_ope_est_name(e), a->json);
                }
                printf(a->json ? "}" : "");
        }
        printf(a->json ? "}}\n" : "");
}

/* `ltrr-ope rewards`: returns the exit code. */
static int cmd_rewards(int argc, char **argv)
{
        struct rw_args a;
        ltrr_avro_decoder_t *dec = NULL;
        ltrr_ope_rewards_t *rw = NULL;
        ltrr_ope_rewards_stats_t st;
        ltrr_ope_rewards_report_t rep;
        uint8_t *buf = NULL;
        size_t len = 0;
        char errstr[256] = "";
        int rc = 1;

        if (rw_parse(argc, argv, &a)) {
                usage(stderr);
                return 2;
        }
        if (file_slurp(a.path, &buf, &len))
                goto done;
        if (!(dec = ltrr_avro_decoder_new(a.schemas, errstr, sizeof(errstr))) ||
            !(rw = ltrr_ope_rewards_new(len / 8 + 1 < LTRR_OPE_ROWS_MAX
                                                ? len / 8 + 1
                                                : LTRR_OPE_ROWS_MAX,
                                        errstr, sizeof(errstr))) ||
            ltrr_ope_rewards_read(rw, dec, buf, len, a.max_bad, &st, errstr,
                                  sizeof(errstr)) ||
            ltrr_ope_rewards_evaluate(rw, &a.target, &a.conf, &rep, errstr,
                                      sizeof(errstr))) {
                log_error("ope", "rewards evaluation failed", "path", a.path,
                          "err", errstr);
                goto done;
        }
        rw_print(&a, rw, &st, &rep);
        rc = fflush(stdout) ? 1 : 0;
done:
        ltrr_ope_rewards_destroy(rw);
        ltrr_avro_decoder_destroy(dec);
        free(buf);
        return rc;
}

int main(int argc, char **argv)
{
        struct ope_args a;
        ltrr_obd_log_t *log = NULL;
        ltrr_obd_dist_t *d = NULL;
        ltrr_ope_t *ope = NULL;
        ltrr_ope_report_t rep;
        char errstr[256];
        int rc = 1;

        if (ltrr_cli_wants_help(argc, argv)) {
                usage(stdout);
                return 0;
        }
        if (argc >= 2 && !strcmp(argv[1], "rewards"))
                return cmd_rewards(argc, argv);
        if (parse_args(argc, argv, &a)) {
                usage(stderr);
                return 2;
        }
        if (!(log = load_log(&a)) || !(d = load_target(&a, log)))
                goto done;
        if (!(ope = ltrr_ope_new(ltrr_obd_log_count(log), errstr,
                                 sizeof(errstr))) ||
            ltrr_obd_fill(log, d, &a.mc, ope, errstr, sizeof(errstr)) ||
            ltrr_ope_evaluate(ope, &a.conf, &rep, errstr, sizeof(errstr))) {
                log_error("ope", "evaluation failed", "err", errstr);
                goto done;
        }
        if (a.json)
                print_json(&a, log, &rep);
        else
                print_table(&a, log, &rep);
        rc = fflush(stdout) ? 1 : 0;
done:
        ltrr_ope_destroy(ope);
        ltrr_obd_dist_destroy(d);
        ltrr_obd_log_destroy(log);
        return rc;
}
