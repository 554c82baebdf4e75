/*
 * ltrr - Avro schema resolution by field name, over Avro C generic values.
 *
 * Avro C 1.11 cannot resolve a writer that lacks a field of the reader,
 * even one with a default (avro_resolved_writer_new() refuses it), which
 * is the common case of reading old records after a field was added. So a
 * record is read with its own writer schema and copied here into a value
 * of the reader schema: fields are matched by name, writer-only fields are
 * dropped, reader-only fields must be a union whose first branch is null
 * (the schema evolution rule of docs/SCHEMAS.md) and are set to null, enum
 * symbols are matched by name (an unknown symbol becomes "unknown" when the
 * reader has it), and the spec's promotions (int to long, float, double;
 * long to float, double; float to double; string to bytes) are applied.
 */
#include "avro_int.h"

#include <string.h>

/** Deepest nesting copied. */
#define RESOLVE_DEPTH_MAX 32

static ltrr_err_t rv_fail(char *errstr, size_t errstr_size, const char *why,
                          const char *what)
{
        return ltrr_errf(LTRR_ERR_SCHEMA, errstr, errstr_size,
                         "cannot resolve writer to reader: %s%s%s", why,
                         what ? ": " : "", what ? what : "");
}

static ltrr_err_t rv_copy(avro_value_t *src, avro_value_t *dst, int depth,
                          char *errstr, size_t errstr_size);

/* Primitives, with the spec's promotions. */
static ltrr_err_t rv_scalar(avro_value_t *src, avro_value_t *dst,
                            char *errstr, size_t errstr_size)
{
        avro_type_t st = avro_value_get_type(src), dt = avro_value_get_type(dst);
        int32_t i32 = 0;
        int64_t i64 = 0;
        float f = 0;
        double d = 0;
        const void *p = NULL;
        size_t n = 0;
        int b = 0;

        if (st == AVRO_INT32 && !avro_value_get_int(src, &i32))
                i64 = i32, d = i32, f = (float)i32;
        else if (st == AVRO_INT64 && !avro_value_get_long(src, &i64))
                d = (double)i64, f = (float)i64;
        else if (st == AVRO_FLOAT && !avro_value_get_float(src, &f))
                d = f;
        else if (st == AVRO_DOUBLE)
                avro_value_get_double(src, &d);
        if ((st == AVRO_STRING && !avro_value_get_string(src, (const char **)&p, &n)) ||
            (st == AVRO_BYTES && !avro_value_get_bytes(src, &p, &n)))
                n -= (st == AVRO_STRING && n > 0); /* drop the NUL */
        if (dt == AVRO_NULL && st == AVRO_NULL)
                return avro_value_set_null(dst) ? LTRR_ERR_SCHEMA : LTRR_OK;
        if (dt == AVRO_BOOLEAN && st == AVRO_BOOLEAN &&
            !avro_value_get_boolean(src, &b))
                return avro_value_set_boolean(dst, b) ? LTRR_ERR_SCHEMA : LTRR_OK;
        if (dt == AVRO_INT32 && st == AVRO_INT32)
                return avro_value_set_int(dst, i32) ? LTRR_ERR_SCHEMA : LTRR_OK;
        if (dt == AVRO_INT64 && (st == AVRO_INT32 || st == AVRO_INT64))
                return avro_value_set_long(dst, i64) ? LTRR_ERR_SCHEMA : LTRR_OK;
        if (dt == AVRO_FLOAT && (st == AVRO_INT32 || st == AVRO_INT64 ||
                                 st == AVRO_FLOAT))
                return avro_value_set_float(dst, f) ? LTRR_ERR_SCHEMA : LTRR_OK;
        if (dt == AVRO_DOUBLE && (st == AVRO_INT32 || st == AVRO_INT64 ||
                                  st == AVRO_FLOAT || st == AVRO_DOUBLE))
                return avro_value_set_double(dst, d) ? LTRR_ERR_SCHEMA : LTRR_OK;
        /* Avro C strings carry their NUL, so a string copies with it; bytes
         * carry none and do not become strings here. */
        if (dt == AVRO_STRING && st == AVRO_STRING && p)
                return avro_value_set_string_len(dst, p, n + 1) ?
                        LTRR_ERR_SCHEMA : LTRR_OK;
        if (dt == AVRO_BYTES && (st == AVRO_STRING || st == AVRO_BYTES))
                return avro_value_set_bytes(dst, (void *)(p ? p : ""), n) ?
                        LTRR_ERR_SCHEMA : LTRR_OK;
        return rv_fail(errstr, errstr_size, "incompatible types", NULL);
}

static ltrr_err_t rv_enum(avro_value_t *src, avro_value_t *dst, char *errstr,
                          size_t errstr_size)
{
        avro_schema_t ss = avro_value_get_schema(src);
        avro_schema_t ds = avro_value_get_schema(dst);
        const char *sym;
        int idx = 0, out;

        if (avro_value_get_type(src) != AVRO_ENUM ||
            avro_value_get_enum(src, &idx) ||
            !(sym = avro_schema_enum_get(ss, idx)))
                return rv_fail(errstr, errstr_size, "enum expected", NULL);
        out = avro_schema_enum_get_by_name(ds, sym);
        if (out < 0)
                out = avro_schema_enum_get_by_name(ds, "unknown");
        if (out < 0)
                return rv_fail(errstr, errstr_size, "enum symbol unknown to reader",
                               sym);
        return avro_value_set_enum(dst, out) ? LTRR_ERR_SCHEMA : LTRR_OK;
}

/* A named type used a second time is a link in Avro C: follow it. */
static avro_schema_t rv_deref(avro_schema_t s)
{
        while (s && is_avro_link(s))
                s = avro_schema_link_target(s);
        return s;
}

/* Index of the branch of union schema @us that takes a @s value: the same
 * named type, or the same primitive; -1 if none. */
static int rv_branch_for(avro_schema_t us, avro_schema_t s)
{
        size_t i, cnt = avro_schema_union_size(us);

        s = rv_deref(s);
        for (i = 0; i < cnt; i++) {
                avro_schema_t b = rv_deref(avro_schema_union_branch(us, (int)i));

                if (avro_typeof(b) == avro_typeof(s) &&
                    !strcmp(avro_schema_type_name(b), avro_schema_type_name(s)))
                        return (int)i;
        }
        return -1;
}

static ltrr_err_t rv_union(avro_value_t *src, avro_value_t *dst, int depth,
                           char *errstr, size_t errstr_size)
{
        avro_value_t sb, db;
        int disc = -1;

        if (avro_value_get_type(src) == AVRO_UNION) {
                if (avro_value_get_current_branch(src, &sb))
                        return rv_fail(errstr, errstr_size, "empty union", NULL);
        } else
                sb = *src;
        if (avro_value_get_type(dst) != AVRO_UNION)
                return rv_copy(&sb, dst, depth + 1, errstr, errstr_size);
        disc = rv_branch_for(avro_value_get_schema(dst),
                             avro_value_get_schema(&sb));
        if (disc < 0 || avro_value_set_branch(dst, disc, &db))
                return rv_fail(errstr, errstr_size, "no matching union branch",
                               avro_schema_type_name(avro_value_get_schema(&sb)));
        return rv_copy(&sb, &db, depth + 1, errstr, errstr_size);
}

/* A reader field the writer lacks: null, by the evolution rule. */
static ltrr_err_t rv_default(avro_value_t *dst, const char *name,
                             char *errstr, size_t errstr_size)
{
        avro_schema_t ds = avro_value_get_schema(dst);
        avro_value_t db;

        if (avro_value_get_type(dst) != AVRO_UNION ||
            !is_avro_null(avro_schema_union_branch(ds, 0)) ||
            avro_value_set_branch(dst, 0, &db) || avro_value_set_null(&db))
                return rv_fail(errstr, errstr_size,
                               "reader field missing in writer is not a "
                               "null-first union", name);
        return LTRR_OK;
}

static ltrr_err_t rv_record(avro_value_t *src, avro_value_t *dst, int depth,
                            char *errstr, size_t errstr_size)
{
        avro_schema_t ds = avro_value_get_schema(dst);
        size_t i, cnt = 0;
        ltrr_err_t err;

        if (avro_value_get_type(src) != AVRO_RECORD ||
            strcmp(avro_schema_name(ds),
                   avro_schema_name(avro_value_get_schema(src))))
                return rv_fail(errstr, errstr_size, "record names differ",
                               avro_schema_name(ds));
        avro_value_get_size(dst, &cnt);
        for (i = 0; i < cnt; i++) {
                const char *name = avro_schema_record_field_name(ds, (int)i);
                avro_value_t sf, df;

                if (avro_value_get_by_index(dst, i, &df, NULL))
                        return rv_fail(errstr, errstr_size, "field", name);
                if (avro_value_get_by_name(src, name, &sf, NULL))
                        err = rv_default(&df, name, errstr, errstr_size);
                else
                        err = rv_copy(&sf, &df, depth + 1, errstr, errstr_size);
                if (err)
                        return err;
        }
        return LTRR_OK;
}

static ltrr_err_t rv_array(avro_value_t *src, avro_value_t *dst, int depth,
                           char *errstr, size_t errstr_size)
{
        size_t i, cnt = 0;
        ltrr_err_t err;

        if (avro_value_get_type(src) != AVRO_ARRAY)
                return rv_fail(errstr, errstr_size, "array expected", NULL);
        avro_value_get_size(src, &cnt);
        for (i = 0; i < cnt; i++) {
                avro_value_t se, de;

                if (avro_value_get_by_index(src, i, &se, NULL) ||
                    avro_value_append(dst, &de, NULL))
                        return rv_fail(errstr, errstr_size, "array item", NULL);
                if ((err = rv_copy(&se, &de, depth + 1, errstr, errstr_size)))
                        return err;
        }
        return LTRR_OK;
}

static ltrr_err_t rv_fixed(avro_value_t *src, avro_value_t *dst,
                           char *errstr, size_t errstr_size)
{
        const void *p = NULL;
        size_t n = 0;

        if (avro_value_get_type(src) != AVRO_FIXED ||
            avro_value_get_fixed(src, &p, &n) ||
            avro_value_set_fixed(dst, (void *)p, n))
                return rv_fail(errstr, errstr_size, "fixed of another size",
                               NULL);
        return LTRR_OK;
}

static ltrr_err_t rv_copy(avro_value_t *src, avro_value_t *dst, int depth,
                          char *errstr, size_t errstr_size)
{
        if (depth > RESOLVE_DEPTH_MAX)
                return rv_fail(errstr, errstr_size, "nesting too deep", NULL);
        if (avro_value_get_type(src) == AVRO_UNION ||
            avro_value_get_type(dst) == AVRO_UNION)
                return rv_union(src, dst, depth, errstr, errstr_size);
        switch (avro_value_get_type(dst)) {
        case AVRO_RECORD:
                return rv_record(src, dst, depth, errstr, errstr_size);
        case AVRO_ARRAY:
                return rv_array(src, dst, depth, errstr, errstr_size);
        case AVRO_ENUM:
                return rv_enum(src, dst, errstr, errstr_size);
        case AVRO_FIXED:
                return rv_fixed(src, dst, errstr, errstr_size);
        case AVRO_MAP:
                return rv_fail(errstr, errstr_size, "maps are not supported",
                               NULL);
        default:
                return rv_scalar(src, dst, errstr, errstr_size);
        }
}

ltrr_err_t ltrr_avro_value_resolve(avro_value_t *src, avro_value_t *dst,
                                   char *errstr, size_t errstr_size)
{
        return rv_copy(src, dst, 0, errstr, errstr_size);
}
