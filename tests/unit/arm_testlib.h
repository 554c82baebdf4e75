/*
 * Shared set-up of the arm unit tests (test_arm_*.c, test_arms_basic.c):
 * a per-process index path, a catalog of (name, artist) pairs, an
 * index built from a catalog, opened, and unlinked at once, and the two
 * in one call. Include after
 * <cmocka.h>; every function asserts rather than returning errors.
 */
#ifndef LTRR_TESTS_ARM_TESTLIB_H
#define LTRR_TESTS_ARM_TESTLIB_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "catalog.h"
#include "index.h"

/* @p path: "<LTRR_TEST_OUT or /tmp>/<name>.<pid>.idx". */
static inline void armtest_path(char *path, size_t size, const char *name)
{
        const char *dir = getenv("LTRR_TEST_OUT");

        snprintf(path, size, "%s/%s.%d.idx",
                 dir && access(dir, W_OK) == 0 ? dir : "/tmp", name,
                 (int)getpid());
}

/* A catalog of @p n entities "e<i>" named d[i][0] by artist d[i][1]. */
static inline ltrr_catalog_t *armtest_catalog(const char *const (*d)[2],
                                              size_t n)
{
        char errstr[256], id[16];
        ltrr_catalog_t *cat = ltrr_catalog_new(0, errstr, sizeof(errstr));

        assert_non_null(cat);
        for (size_t i = 0; i < n; i++) {
                ltrr_entity_in_t in;
                ltrr_entity_in_init(&in);
                snprintf(id, sizeof(id), "e%zu", i);
                in.id = id;
                in.name = d[i][0];
                in.artists = &d[i][1];
                in.artists_cnt = 1;
                assert_int_equal(ltrr_catalog_add(cat, &in, errstr,
                                                  sizeof(errstr)),
                                 LTRR_OK);
        }
        return cat;
}

/* Builds @p cat into @p path with @p bc (NULL: defaults), opens it and
 * unlinks the file (the mapping stays valid). */
static inline ltrr_index_t *armtest_index(const ltrr_catalog_t *cat,
                                          const ltrr_index_build_conf_t *bc,
                                          const char *path)
{
        char errstr[256];
        ltrr_index_t *ix;

        assert_int_equal(ltrr_index_build(cat, bc, path, errstr,
                                          sizeof(errstr)),
                         LTRR_OK);
        ix = ltrr_index_open(path, errstr, sizeof(errstr));
        assert_non_null(ix);
        unlink(path);
        return ix;
}

/* The index of @p n (name, artist) pairs (armtest_catalog()) built with
 * @p bc into @p path (armtest_index()). */
static inline ltrr_index_t *
armtest_pairs_index(const char *const (*d)[2], size_t n,
                    const ltrr_index_build_conf_t *bc, const char *path)
{
        ltrr_catalog_t *cat = armtest_catalog(d, n);
        ltrr_index_t *ix = armtest_index(cat, bc, path);

        ltrr_catalog_destroy(cat);
        return ix;
}

#endif
