/*
 * Fuzz target: the ranker model codecs (online/ranker_codec.c), the
 * binary blob and the text form.
 *
 * The first input byte picks the parser: sel % 4 == 0 reads the rest as
 * a blob; 1 as a blob whose trailing checksum is first made right (so
 * the fuzzer gets past it to the state checks); 2 and 3 as text. A model
 * that loads must survive both round trips unchanged: blob -> model ->
 * blob gives the same bytes, and text -> model -> blob too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ranker.h"

/** Largest input looked at; longer inputs are ignored. */
#define FUZZ_INPUT_MAX (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Rewrites the trailing FNV-1a 64 of a blob of the right size. */
static void fuzz_fix_sum(uint8_t *b, size_t len)
{
        uint64_t h = 0xcbf29ce484222325ULL;
        size_t i;

        if (len != LTRR_RANKER_BLOB_SIZE)
                return;
        for (i = 0; i < len - 8; i++) {
                h ^= b[i];
                h *= 0x100000001b3ULL;
        }
        for (i = 0; i < 8; i++)
                b[len - 8 + i] = (uint8_t)(h >> (8 * i));
}

/* Both round trips of a loaded model. */
static void fuzz_round_trip(const ltrr_ranker_t *rk)
{
        static char text[LTRR_RANKER_TEXT_MAX];
        uint8_t a[LTRR_RANKER_BLOB_SIZE], b[LTRR_RANKER_BLOB_SIZE];
        ltrr_ranker_t *again = NULL;
        char errstr[256];
        ltrr_err_t err;
        size_t alen, blen;

        if (ltrr_ranker_serialize(rk, a, sizeof(a), &alen) != LTRR_OK ||
            alen != LTRR_RANKER_BLOB_SIZE)
                __builtin_trap();
        if (!(again = ltrr_ranker_deserialize(a, alen, &err, errstr,
                                              sizeof(errstr))))
                __builtin_trap(); /* own blob refused */
        if (ltrr_ranker_serialize(again, b, sizeof(b), &blen) != LTRR_OK ||
            memcmp(a, b, sizeof(a)))
                __builtin_trap();
        ltrr_ranker_destroy(again);
        if (ltrr_ranker_to_text(rk, text, sizeof(text)) != LTRR_OK)
                __builtin_trap();
        if (!(again =
                  ltrr_ranker_from_text(text, &err, errstr, sizeof(errstr))))
                __builtin_trap(); /* own text refused */
        if (ltrr_ranker_serialize(again, b, sizeof(b), &blen) != LTRR_OK ||
            memcmp(a, b, sizeof(a)))
                __builtin_trap(); /* text lost information */
        ltrr_ranker_destroy(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        ltrr_ranker_t *rk = NULL;
        char errstr[256];
        ltrr_err_t err = LTRR_OK;
        uint8_t *copy;
        unsigned sel;

        if (size < 1 || size > FUZZ_INPUT_MAX)
                return 0;
        sel = data[0] % 4;
        /* A heap copy, NUL-terminated, so reads past the end are caught. */
        if (!(copy = malloc(size)))
                return 0;
        memcpy(copy, data + 1, size - 1);
        copy[size - 1] = '\0';
        if (sel == 1)
                fuzz_fix_sum(copy, size - 1);
        if (sel <= 1)
                rk = ltrr_ranker_deserialize(copy, size - 1, &err, errstr,
                                             sizeof(errstr));
        else
                rk = ltrr_ranker_from_text((const char *)copy, &err, errstr,
                                           sizeof(errstr));
        if (rk)
                fuzz_round_trip(rk);
        else if (err == LTRR_OK || !memchr(errstr, '\0', sizeof(errstr)))
                __builtin_trap();
        ltrr_ranker_destroy(rk);
        free(copy);
        return 0;
}
