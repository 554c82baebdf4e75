/*
 * ltrr - bounds check of an Avro binary body against its writer schema,
 * before Avro C reads it.
 *
 * Avro C trusts the lengths and counts in a body: a negative string
 * length makes it ask for a wrapped, huge allocation, a large array count
 * for gigabytes, and a body that ends early leaks what was read so far.
 * Foreign bodies come from Kafka, so every length, count, union branch
 * and enum index is checked here first; Avro C only sees bodies that fit
 * their schema.
 */
#include "avro_int.h"

#include <stdint.h>

/** Deepest schema nesting walked (records in records, arrays...). */
#define CHECK_DEPTH_MAX 32

typedef struct check_s {
        const uint8_t *p;   /* next byte */
        const uint8_t *end; /* one past the last byte */
} check_t;

/* Reads one zig-zag varint long; 0 or -1 (malformed or past the end). */
static int check_long(check_t *c, int64_t *v)
{
        uint64_t u = 0;
        int shift;

        for (shift = 0; shift < 64; shift += 7) {
                if (c->p >= c->end)
                        return -1;
                u |= (uint64_t)(*c->p & 0x7f) << shift;
                if (!(*c->p++ & 0x80)) {
                        *v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
                        return 0;
                }
        }
        return -1;
}

/* Skips @n bytes if there are that many. */
static int check_skip(check_t *c, int64_t n)
{
        if (n < 0 || n > c->end - c->p)
                return -1;
        c->p += n;
        return 0;
}

static int check_value(check_t *c, avro_schema_t s, int depth);

/* Array or map blocks: count, optional byte size, items. */
static int check_blocks(check_t *c, avro_schema_t items, int is_map,
                        int depth)
{
        int64_t cnt, size, i;

        for (;;) {
                if (check_long(c, &cnt))
                        return -1;
                if (cnt == 0)
                        return 0;
                if (cnt < 0) {
                        if (cnt == INT64_MIN || check_long(c, &size) ||
                            size < 0)
                                return -1;
                        cnt = -cnt;
                }
                /* Each item takes at least one byte, except null. */
                if (avro_typeof(items) != AVRO_NULL &&
                    cnt > c->end - c->p)
                        return -1;
                if (cnt > LTRR_AVRO_RECORD_MAX)
                        return -1;
                for (i = 0; i < cnt; i++) {
                        if (is_map && (check_long(c, &size) ||
                                       check_skip(c, size)))
                                return -1;
                        if (check_value(c, items, depth + 1))
                                return -1;
                }
        }
}

static int check_record(check_t *c, avro_schema_t s, int depth)
{
        size_t i, n = avro_schema_record_size(s);

        for (i = 0; i < n; i++)
                if (check_value(c, avro_schema_record_field_get_by_index(
                                       s, (int)i), depth + 1))
                        return -1;
        return 0;
}

/* Walks one value of schema @s. */
static int check_value(check_t *c, avro_schema_t s, int depth)
{
        int64_t v;

        if (depth > CHECK_DEPTH_MAX)
                return -1;
        switch (avro_typeof(s)) {
        case AVRO_NULL:
                return 0;
        case AVRO_BOOLEAN:
                return check_skip(c, 1);
        case AVRO_INT32:
        case AVRO_INT64:
                return check_long(c, &v);
        case AVRO_FLOAT:
                return check_skip(c, 4);
        case AVRO_DOUBLE:
                return check_skip(c, 8);
        case AVRO_STRING:
        case AVRO_BYTES:
                return check_long(c, &v) || check_skip(c, v) ? -1 : 0;
        case AVRO_FIXED:
                return check_skip(c, avro_schema_fixed_size(s));
        case AVRO_ENUM:
                return check_long(c, &v) || v < 0 ||
                       v >= (int64_t)avro_schema_enum_number_of_symbols(s)
                           ? -1 : 0;
        case AVRO_UNION:
                if (check_long(c, &v) || v < 0 ||
                    v >= (int64_t)avro_schema_union_size(s))
                        return -1;
                return check_value(c, avro_schema_union_branch(s, (int)v),
                                   depth + 1);
        case AVRO_ARRAY:
                return check_blocks(c, avro_schema_array_items(s), 0, depth);
        case AVRO_MAP:
                return check_blocks(c, avro_schema_map_values(s), 1, depth);
        case AVRO_RECORD:
                return check_record(c, s, depth);
        case AVRO_LINK:
                return check_value(c, avro_schema_link_target(s), depth + 1);
        default:
                return -1;
        }
}

ltrr_err_t ltrr_avro_body_check(avro_schema_t writer, const uint8_t *body,
                                size_t len, char *errstr, size_t errstr_size)
{
        check_t c = {body, body + len};

        if (check_value(&c, writer, 0) || c.p != c.end)
                return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                 "body does not match its writer schema "
                                 "(byte %zu)", (size_t)(c.p - body));
        return LTRR_OK;
}
