/*
 * ltrr-bench-bstats: in-memory update throughput of the bandit statistics
 * (ltrr_bstats_observe: decayed counts, sums, LinUCB A and b) for
 * d = 8, 16 and 32, next to a reference loop in the same run: a plain
 * rank-1 update of the packed upper triangle of a d x d matrix and of a
 * d-vector, the arithmetic floor of one LinUCB update.
 *
 *   ltrr-bench-bstats [N]     N rewards per dimension (default 2000000)
 *
 * One line per dimension: rewards/s of observe, of the reference, and
 * their ratio. Single thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bandit.h"
#include "bstats.h"
#include "rng.h"

#define N_ARMS 8
#define N_BUDGETS 4
#define N_X 64 /* distinct context vectors cycled through */

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void space_init(ltrr_bandit_space_t *sp, size_t dim)
{
        static const char *const names[N_ARMS] = {
                "lexical", "popular", "structured", "fuzzy",
                "semantic", "memory", "personal", "fresh"};
        size_t a;

        memset(sp, 0, sizeof(*sp));
        sp->n_arms = N_ARMS;
        for (a = 0; a < N_ARMS; a++)
                strcpy(sp->arm_names[a], names[a]);
        sp->n_budgets = N_BUDGETS;
        sp->budgets[0] = 10;
        sp->budgets[1] = 25;
        sp->budgets[2] = 50;
        sp->budgets[3] = 100;
        sp->total_budget = 200;
        sp->dim = dim;
        sp->feature_version = 1;
}

/* Rewards/s of ltrr_bstats_observe with decay on (one exp2 per reward,
 * as a learner pays); -1 on error. */
static double bench_observe(size_t dim, const float *xs, long n)
{
        ltrr_bandit_space_t sp;
        ltrr_bstats_t *st;
        ltrr_bstats_obs_t o;
        double t0, dt;
        long i;

        space_init(&sp, dim);
        if (!(st = ltrr_bstats_new(&sp, 86400.0, 0.0, NULL, 0)))
                return -1.0;
        t0 = now_s();
        for (i = 0; i < n; i++) {
                o.arm = (size_t)i % N_ARMS;
                o.budget_idx = (size_t)(i >> 3) % N_BUDGETS;
                o.reward = (i % 7) < 2 ? 1.0 : 0.0;
                o.x = xs + (size_t)(i % N_X) * dim;
                o.t = (double)i * 1e-3;
                if (ltrr_bstats_observe(st, &o, NULL, 0) != LTRR_OK) {
                        ltrr_bstats_destroy(st);
                        return -1.0;
                }
        }
        dt = now_s() - t0;
        /* keeps the work observable */
        if (ltrr_bstats_version(st) != (uint64_t)n)
                dt = -1.0;
        ltrr_bstats_destroy(st);
        return dt > 0.0 ? n / dt : -1.0;
}

/* Rewards/s of the reference: A += w x x^T (upper triangle), b += w r x
 * into one of N_ARMS * N_BUDGETS cells, nothing else. */
static double bench_reference(size_t dim, const float *xs, long n,
                              double *sink)
{
        size_t tri = dim * (dim + 1) / 2, cells = N_ARMS * N_BUDGETS;
        double *m = calloc(cells * (tri + dim), sizeof(double));
        double t0, dt, w = 1.0, r, xi, *a, *b;
        const float *x;
        size_t i, j, c;
        long k;

        if (!m)
                return -1.0;
        t0 = now_s();
        for (k = 0; k < n; k++) {
                c = (size_t)k % cells;
                x = xs + (size_t)(k % N_X) * dim;
                r = (k % 7) < 2 ? 1.0 : 0.0;
                b = m + c * (tri + dim);
                a = b + dim;
                for (i = 0; i < dim; i++) {
                        xi = x[i];
                        b[i] += (r * xi) * w;
                        for (j = i; j < dim; j++)
                                *a++ += (xi * (double)x[j]) * w;
                }
        }
        dt = now_s() - t0;
        *sink += m[cells * (tri + dim) - 1];
        free(m);
        return dt > 0.0 ? n / dt : -1.0;
}

int main(int argc, char **argv)
{
        static const size_t dims[] = {8, 16, 32};
        float xs[N_X * LTRR_BANDIT_MAX_DIM];
        long n = argc > 1 ? atol(argv[1]) : 2000000;
        double obs, ref, sink = 0.0;
        ltrr_rng_t rng;
        size_t k;

        if (argc > 1 && (!strcmp(argv[1], "--help") ||
                         !strcmp(argv[1], "-h"))) {
                printf("usage: ltrr-bench-bstats [N]  (N rewards per "
                       "dimension, default 2000000)\n");
                return 0;
        }
        if (n <= 0) {
                fprintf(stderr, "usage: ltrr-bench-bstats [N]\n");
                return 2;
        }
        ltrr_rng_seed(&rng, 7);
        for (k = 0; k < sizeof(xs) / sizeof(xs[0]); k++)
                xs[k] = (float)ltrr_rng_uniform(&rng);
        printf("%-4s %16s %16s %8s\n", "dim", "observe/s", "reference/s",
               "ratio");
        for (k = 0; k < sizeof(dims) / sizeof(dims[0]); k++) {
                obs = bench_observe(dims[k], xs, n);
                ref = bench_reference(dims[k], xs, n, &sink);
                if (obs < 0.0 || ref < 0.0) {
                        fprintf(stderr, "ltrr-bench-bstats: d=%zu failed\n",
                                dims[k]);
                        return 1;
                }
                printf("%-4zu %16.0f %16.0f %8.2f\n", dims[k], obs, ref,
                       obs / ref);
        }
        return sink == 12345.678 ? 3 : 0; /* sink keeps the loop alive */
}
