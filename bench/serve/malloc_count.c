/*
 * bench/serve - an LD_PRELOAD allocation counter for the serve bench.
 *
 * Counts malloc, calloc, realloc and posix_memalign/aligned_alloc calls
 * of the whole process (all threads) and rewrites the totals to the file
 * named by LTRR_MALLOC_COUNT every 100 ms, as one fixed-width line (so a
 * reader never sees it half written):
 *   allocs=N reallocs=N frees=N
 * The bench reads it before and after a wrk run and divides by the
 * requests served. Built by bench/serve/run.sh with the system cc:
 *   cc -O2 -shared -fPIC -o malloc_count.so malloc_count.c -lpthread
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t m);
void *__libc_realloc(void *p, size_t n);
void *__libc_memalign(size_t a, size_t n);
void __libc_free(void *p);

static atomic_ulong n_alloc, n_realloc, n_free;

void *malloc(size_t n)
{
        atomic_fetch_add_explicit(&n_alloc, 1, memory_order_relaxed);
        return __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
        atomic_fetch_add_explicit(&n_alloc, 1, memory_order_relaxed);
        return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
        atomic_fetch_add_explicit(p ? &n_realloc : &n_alloc, 1,
                                  memory_order_relaxed);
        return __libc_realloc(p, n);
}

int posix_memalign(void **out, size_t a, size_t n)
{
        void *p;

        atomic_fetch_add_explicit(&n_alloc, 1, memory_order_relaxed);
        p = __libc_memalign(a, n);
        if (!p)
                return 12; /* ENOMEM */
        *out = p;
        return 0;
}

void *aligned_alloc(size_t a, size_t n)
{
        atomic_fetch_add_explicit(&n_alloc, 1, memory_order_relaxed);
        return __libc_memalign(a, n);
}

void free(void *p)
{
        if (p)
                atomic_fetch_add_explicit(&n_free, 1, memory_order_relaxed);
        __libc_free(p);
}

/* Rewrites the totals every 100 ms until the process exits. */
static void *writer(void *arg)
{
        const char *path = arg;
        struct timespec ts = {0, 100 * 1000 * 1000};
        char line[128];
        int fd, len;

        for (;;) {
                len = snprintf(line, sizeof(line),
                               "allocs=%-20lu reallocs=%-20lu frees=%-20lu\n",
                               atomic_load(&n_alloc), atomic_load(&n_realloc),
                               atomic_load(&n_free));
                fd = open(path, O_WRONLY | O_CREAT, 0644);
                if (fd >= 0) {
                        if (write(fd, line, (size_t)len) < 0)
                                len = 0;
                        close(fd);
                }
                nanosleep(&ts, NULL);
        }
        return NULL;
}

__attribute__((constructor)) static void start(void)
{
        const char *path = getenv("LTRR_MALLOC_COUNT");
        pthread_t th;

        if (path && pthread_create(&th, NULL, writer, (void *)path) == 0)
                pthread_detach(th);
}
