/*
 * ltrr - internals shared by the Avro codec files (not installed).
 */
#ifndef LTRR_AVRO_INT_H
#define LTRR_AVRO_INT_H

#include <avro.h>

#include "avro_codec.h"

/** Blocks one arena may hold; sizes double, so this is never reached
 *  before LTRR_AVRO_ARENA_MAX. */
#define LTRR_AVRO_ARENA_BLKS 32

/* A bump allocator of kept blocks, rewound before each decode: once warm
 * it allocates nothing. */
typedef struct ltrr_avro_arena_s {
        struct {
                uint8_t *mem;   /* block memory */
                size_t size;    /* its size */
        } blks[LTRR_AVRO_ARENA_BLKS];
        int cnt;                /* blocks allocated */
        int cur;                /* block in use */
        size_t used;            /* bytes used in the current block */
        size_t charged;         /* bytes handed out since the rewind */
} ltrr_avro_arena_t;

/* Rewinds the arena: everything handed out before is invalid. */
void ltrr_avro_arena_rewind(ltrr_avro_arena_t *ar);

/* Frees every block. */
void ltrr_avro_arena_free(ltrr_avro_arena_t *ar);

/* Decodes the Avro binary body of @len bytes of the current schema of
 * @type into @rec, allocating from @ar (rewound first). Every byte must be
 * consumed. Returns LTRR_OK or the error of ltrr_avro_decode(). */
ltrr_err_t ltrr_avro_body_decode(ltrr_avro_arena_t *ar, ltrr_avro_type_t type,
                                 const uint8_t *body, size_t len,
                                 ltrr_avro_record_t *rec, char *errstr,
                                 size_t errstr_size);

/* Copies the value @src of a writer schema into @dst, a value of the
 * reader schema, by Avro's resolution rules (see avro_resolve.c). @dst
 * must have been reset. Returns LTRR_OK or LTRR_ERR_SCHEMA. */
ltrr_err_t ltrr_avro_value_resolve(avro_value_t *src, avro_value_t *dst,
                                   char *errstr, size_t errstr_size);

/* Checks that the body of @len bytes is one value of schema @writer:
 * every length, count, union branch and enum index in range, nothing
 * left over. Run before Avro C reads a foreign body. Returns LTRR_OK or
 * LTRR_ERR_CORRUPT. */
ltrr_err_t ltrr_avro_body_check(avro_schema_t writer, const uint8_t *body,
                                size_t len, char *errstr, size_t errstr_size);

#endif /* LTRR_AVRO_INT_H */
