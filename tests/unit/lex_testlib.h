/*
 * Shared fixture of the lexical-pass unit tests (test_arm_lex_*.c): an
 * index, an English analyzer, arm scratch, the analyzed query and two
 * answer buffers (one never cut, one cut at k), with the teardown, the
 * query analysis and a filter they all use. Include after <cmocka.h>;
 * every function asserts rather than returning errors.
 */
#ifndef LTRR_TESTS_LEX_TESTLIB_H
#define LTRR_TESTS_LEX_TESTLIB_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arm.h"
#include "arm_state.h"
#include "index.h"
#include "text.h"

/* Per-test state. */
typedef struct lextest_fx_s {
        ltrr_index_t *ix;                    /* the test's index */
        ltrr_analyzer_t *an;                 /* English analyzer */
        ltrr_arm_scratch_t *scr;             /* scratch */
        ltrr_token_t toks[64];               /* query tokens */
        char arena[LTRR_TEXT_ARENA_SIZE];    /* token strings */
        ltrr_arm_query_t q;                  /* the analyzed query */
        ltrr_arm_cand_t ref[LTRR_ARM_K_MAX]; /* never cut */
        size_t nref;                         /* entries in ref */
        ltrr_arm_cand_t out[LTRR_ARM_K_MAX]; /* cut at k */
        size_t cnt;                          /* entries in out */
} lextest_fx_t;

/* Next value of the tests' generator @p x (a 64-bit LCG's high bits). */
static inline uint64_t lextest_rnd(uint64_t *x)
{
        *x = *x * 6364136223846793005ull + 1442695040888963407ull;
        return *x >> 33;
}

/* Two-letter word @p w of a test vocabulary starting at letter @p first:
 * first + 'a', ..., first + 'z', first + 1 + 'a', ... */
static inline void lextest_word(char *buf, size_t size, char first,
                                unsigned w)
{
        snprintf(buf, size, "%c%c", first + (char)(w / 26),
                 'a' + (char)(w % 26));
}

/* Sets *@p state to a fixture over index @p ix (taken over), with an
 * English analyzer and arm scratch; 0, or -1 without memory. */
static inline int lextest_setup(void **state, ltrr_index_t *ix)
{
        char errstr[256];
        lextest_fx_t *fx = calloc(1, sizeof(*fx));

        if (!fx) {
                ltrr_index_destroy(ix);
                return -1;
        }
        fx->ix = ix;
        fx->an = ltrr_analyzer_new("en", errstr, sizeof(errstr));
        fx->scr = ltrr_arm_scratch_new();
        *state = fx;
        return fx->ix && fx->an && fx->scr ? 0 : -1;
}

/* Frees the fixture *@p state. */
static inline int lextest_teardown(void **state)
{
        lextest_fx_t *fx = *state;

        ltrr_index_destroy(fx->ix);
        ltrr_analyzer_destroy(fx->an);
        ltrr_arm_scratch_destroy(fx->scr);
        free(fx);
        return 0;
}

/* Analyzes @p text into fx->q. */
static inline void lextest_analyze(lextest_fx_t *fx, const char *text)
{
        char errstr[256];
        ltrr_tokbuf_t tb;

        ltrr_tokbuf_init(&tb, fx->toks, 64, fx->arena, sizeof(fx->arena));
        assert_int_equal(ltrr_analyzer_analyze(fx->an, text, strlen(text),
                                               &tb, errstr, sizeof(errstr)),
                         LTRR_OK);
        fx->q = (ltrr_arm_query_t){tb.toks, tb.cnt, NULL};
}

/* Filter: entities not divisible by 3. */
static inline int lextest_keep_two_thirds(const void *opaque,
                                          const ltrr_index_t *ix,
                                          uint32_t ent)
{
        (void)opaque;
        (void)ix;
        return ent % 3 != 0;
}

#endif /* LTRR_TESTS_LEX_TESTLIB_H */
