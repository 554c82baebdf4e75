/*
 * ltrr - Avro Parsing Canonical Form and the CRC-64-AVRO fingerprint.
 *
 * The canonical form follows the Avro specification's rules: primitive
 * schemas in their simple form, full names, only the attributes type, name,
 * fields, symbols, items, values and size, in that order, no whitespace.
 * Logical types are stripped ({"type":"long","logicalType":...} is "long")
 * and a named type used again is written as its full name.
 */
#include "avro_codec.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** Deepest nesting of schemas accepted. */
#define CF_DEPTH_MAX 64
/** Most named types in one schema. */
#define CF_NAMES_MAX 256
/** Longest full name. */
#define CF_NAME_MAX 512

#define CRC64_EMPTY 0xc15d213aa4d7a795ULL

static uint64_t crc64_table[256];
static bool crc64_ready;

/* Fills the table of the Rabin polynomial; idempotent, so a race between
 * two first callers only computes the same values twice. */
static void crc64_init(void)
{
        int i, j;

        for (i = 0; i < 256; i++) {
                uint64_t fp = (uint64_t)i;

                for (j = 0; j < 8; j++)
                        fp = (fp >> 1) ^ (CRC64_EMPTY & -(fp & 1));
                crc64_table[i] = fp;
        }
        crc64_ready = true;
}

uint64_t ltrr_avro_crc64(const void *data, size_t len)
{
        const uint8_t *p = data;
        uint64_t fp = CRC64_EMPTY;
        size_t i;

        if (!crc64_ready)
                crc64_init();
        for (i = 0; i < len; i++)
                fp = (fp >> 8) ^ crc64_table[(fp ^ p[i]) & 0xff];
        return fp;
}

/* State of one canonical-form run: a bounded output that keeps counting
 * past its end, and the full names defined so far. */
typedef struct cf_s {
        char *out;
        size_t size;
        size_t pos;
        char names[CF_NAMES_MAX][CF_NAME_MAX];
        int name_cnt;
        char *errstr;
        size_t errstr_size;
} cf_t;

static void cf_put(cf_t *cf, const char *s)
{
        size_t n = strlen(s);

        if (cf->pos + n < cf->size)
                memcpy(cf->out + cf->pos, s, n);
        cf->pos += n;
}

static void cf_quoted(cf_t *cf, const char *s)
{
        cf_put(cf, "\"");
        cf_put(cf, s);
        cf_put(cf, "\"");
}

static bool cf_is_primitive(const char *s)
{
        static const char *const prims[] = {"null",  "boolean", "int",
                                            "long",  "float",   "double",
                                            "bytes", "string"};
        size_t i;

        for (i = 0; i < sizeof(prims) / sizeof(prims[0]); i++)
                if (!strcmp(s, prims[i]))
                        return true;
        return false;
}

/* A name, or a dotted full name when dots are allowed: segments of
 * [A-Za-z_][A-Za-z0-9_]*. Such text needs no JSON escaping. */
static bool cf_valid_name(const char *s, bool dots)
{
        bool start = true;

        if (!*s)
                return false;
        for (; *s; s++) {
                char c = *s;
                bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                             c == '_';

                if (c == '.' && dots && !start) {
                        start = true;
                        continue;
                }
                if (!alpha && !(!start && c >= '0' && c <= '9'))
                        return false;
                start = false;
        }
        return !start;
}

static bool cf_defined(const cf_t *cf, const char *full)
{
        int i;

        for (i = 0; i < cf->name_cnt; i++)
                if (!strcmp(cf->names[i], full))
                        return true;
        return false;
}

/* Builds the full name of @name in namespace @ns into @full. */
static ltrr_err_t cf_fullname(cf_t *cf, const char *name, const char *ns,
                              char *full)
{
        int n;

        if (strchr(name, '.') || !ns || !*ns)
                n = snprintf(full, CF_NAME_MAX, "%s", name);
        else
                n = snprintf(full, CF_NAME_MAX, "%s.%s", ns, name);
        if (n < 0 || n >= CF_NAME_MAX || !cf_valid_name(full, true))
                return ltrr_errf(LTRR_ERR_SCHEMA, cf->errstr, cf->errstr_size,
                                 "invalid type name \"%.64s\"", name);
        return LTRR_OK;
}

static ltrr_err_t cf_schema(cf_t *cf, json_t *s, const char *ns, int depth);

/* A type given by name: a primitive or a named type defined earlier. */
static ltrr_err_t cf_reference(cf_t *cf, const char *name, const char *ns)
{
        char full[CF_NAME_MAX];
        ltrr_err_t err;

        if (cf_is_primitive(name)) {
                cf_quoted(cf, name);
                return LTRR_OK;
        }
        if ((err = cf_fullname(cf, name, ns, full)))
                return err;
        if (!cf_defined(cf, full))
                return ltrr_errf(LTRR_ERR_SCHEMA, cf->errstr, cf->errstr_size,
                                 "unknown type \"%s\"", full);
        cf_quoted(cf, full);
        return LTRR_OK;
}

static ltrr_err_t cf_fields(cf_t *cf, json_t *fields, const char *ns,
                            int depth)
{
        size_t i;
        json_t *f;
        ltrr_err_t err;

        if (!json_is_array(fields))
                return ltrr_errf(LTRR_ERR_SCHEMA, cf->errstr, cf->errstr_size,
                                 "record without a fields array");
        cf_put(cf, ",\"fields\":[");
        json_array_foreach(fields, i, f) {
                const char *fname = json_string_value(json_object_get(f, "name"));

                if (!fname || !cf_valid_name(fname, false))
                        return ltrr_errf(LTRR_ERR_SCHEMA, cf->errstr,
                                         cf->errstr_size,
                                         "field %zu has no valid name", i);
                cf_put(cf, i ? ",{\"name\":" : "{\"name\":");
                cf_quoted(cf, fname);
                cf_put(cf, ",\"type\":");
                if ((err = cf_schema(cf, json_object_get(f, "type"), ns,
                                     depth + 1)))
                        return err;
                cf_put(cf, "}");
        }
        cf_put(cf, "]");
        return LTRR_OK;
}

static ltrr_err_t cf_symbols(cf_t *cf, json_t *symbols)
{
        size_t i;
        json_t *sym;

        if (!json_is_array(symbols))
                return ltrr_errf(LTRR_ERR_SCHEMA, cf->errstr, cf->errstr_size,
                                 "enum without a symbols array");
        cf_put(cf, ",\"symbols\":[");
        json_array_foreach(symbols, i, sym) {
                const char *v = json_string_value(sym);

                if (!v || !cf_valid_name(v, false))
                        return ltrr_errf(LTRR_ERR_SCHEMA, cf->errstr,
                                         cf->errstr_size,
                                         "enum symbol %zu is not a name", i);
                if (i)
                        cf_put(cf, ",");
                cf_quoted(cf, v);
        }
        cf_put(cf, "]");
        return LTRR_OK;
}

/* record, error, enum or fixed: defines the name, then writes the body. */
static ltrr_err_t cf_named(cf_t *cf, json_t *s, const char *type,
                           const char *ns, int depth)
{
        const char *name = json_string_value(json_object_get(s, "name"));
        const char *sns = json_string_value(json_object_get(s, "namespace"));
        char full[CF_NAME_MAX], newns[CF_NAME_MAX];
        char *dot;
        json_t *size;
        ltrr_err_t err;

        if (!name)
                return ltrr_errf(LTRR_ERR_SCHEMA, cf->errstr, cf->errstr_size,
                                 "%s without a name", type);
        if ((err = cf_fullname(cf, name, sns ? sns : ns, full)))
                return err;
        if (cf_defined(cf, full) || cf_is_primitive(full))
                return ltrr_errf(LTRR_ERR_SCHEMA, cf->errstr, cf->errstr_size,
                                 "type \"%s\" defined twice", full);
        if (cf->name_cnt == CF_NAMES_MAX)
                return ltrr_errf(LTRR_ERR_RANGE, cf->errstr, cf->errstr_size,
                                 "more than %d named types", CF_NAMES_MAX);
        memcpy(cf->names[cf->name_cnt++], full, sizeof(full));
        memcpy(newns, full, sizeof(full));
        dot = strrchr(newns, '.');
        *(dot ? dot : newns) = '\0';

        cf_put(cf, "{\"name\":");
        cf_quoted(cf, full);
        cf_put(cf, ",\"type\":");
        cf_quoted(cf, !strcmp(type, "error") ? "error" : type);
        if (!strcmp(type, "enum"))
                err = cf_symbols(cf, json_object_get(s, "symbols"));
        else if (!strcmp(type, "fixed")) {
                char num[32];

                size = json_object_get(s, "size");
                if (!json_is_integer(size) || json_integer_value(size) < 0)
                        return ltrr_errf(LTRR_ERR_SCHEMA, cf->errstr,
                                         cf->errstr_size,
                                         "fixed \"%s\" without a size", full);
                snprintf(num, sizeof(num), ",\"size\":%" JSON_INTEGER_FORMAT,
                         json_integer_value(size));
                cf_put(cf, num);
        } else
                err = cf_fields(cf, json_object_get(s, "fields"), newns, depth);
        cf_put(cf, "}");
        return err;
}

/* array or map: one child schema under items or values. */
static ltrr_err_t cf_container(cf_t *cf, json_t *s, const char *type,
                               const char *ns, int depth)
{
        const char *key = !strcmp(type, "array") ? "items" : "values";
        ltrr_err_t err;

        cf_put(cf, "{\"type\":");
        cf_quoted(cf, type);
        cf_put(cf, ",\"");
        cf_put(cf, key);
        cf_put(cf, "\":");
        if ((err = cf_schema(cf, json_object_get(s, key), ns, depth + 1)))
                return err;
        cf_put(cf, "}");
        return LTRR_OK;
}

static ltrr_err_t cf_object(cf_t *cf, json_t *s, const char *ns, int depth)
{
        const char *type = json_string_value(json_object_get(s, "type"));

        if (!type)
                return ltrr_errf(LTRR_ERR_SCHEMA, cf->errstr, cf->errstr_size,
                                 "schema object without a type name");
        if (!strcmp(type, "record") || !strcmp(type, "error") ||
            !strcmp(type, "enum") || !strcmp(type, "fixed"))
                return cf_named(cf, s, type, ns, depth);
        if (!strcmp(type, "array") || !strcmp(type, "map"))
                return cf_container(cf, s, type, ns, depth);
        return cf_reference(cf, type, ns);
}

/* Writes the canonical form of schema @s, in enclosing namespace @ns. */
static ltrr_err_t cf_schema(cf_t *cf, json_t *s, const char *ns, int depth)
{
        size_t i;
        json_t *branch;
        ltrr_err_t err;

        if (depth > CF_DEPTH_MAX)
                return ltrr_errf(LTRR_ERR_RANGE, cf->errstr, cf->errstr_size,
                                 "schema nested deeper than %d", CF_DEPTH_MAX);
        if (json_is_string(s))
                return cf_reference(cf, json_string_value(s), ns);
        if (json_is_object(s))
                return cf_object(cf, s, ns, depth);
        if (!json_is_array(s))
                return ltrr_errf(LTRR_ERR_SCHEMA, cf->errstr, cf->errstr_size,
                                 "a schema must be a string, object or array");
        cf_put(cf, "[");
        json_array_foreach(s, i, branch) {
                if (i)
                        cf_put(cf, ",");
                if ((err = cf_schema(cf, branch, ns, depth + 1)))
                        return err;
        }
        cf_put(cf, "]");
        return LTRR_OK;
}

ltrr_err_t ltrr_avro_canonical_form(const char *json, size_t json_len,
                                    char *out, size_t out_size,
                                    size_t *out_len, char *errstr,
                                    size_t errstr_size)
{
        json_error_t jerr;
        json_t *root;
        cf_t *cf;
        ltrr_err_t err;

        if (!json || json_len > LTRR_AVRO_SCHEMA_MAX)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "schema text missing or over %d bytes",
                                 LTRR_AVRO_SCHEMA_MAX);
        root = json_loadb(json, json_len, JSON_DECODE_ANY, &jerr);
        if (!root)
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "schema is not JSON: line %d: %s", jerr.line,
                                 jerr.text);
        if (!(cf = calloc(1, sizeof(*cf)))) {
                json_decref(root);
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "out of memory");
        }
        cf->out = out;
        cf->size = out ? out_size : 0;
        cf->errstr = errstr;
        cf->errstr_size = errstr_size;
        err = cf_schema(cf, root, "", 0);
        if (out_len)
                *out_len = cf->pos;
        if (!err && cf->pos >= cf->size)
                err = ltrr_errf(LTRR_ERR_NOSPACE, errstr, errstr_size,
                                "canonical form needs %zu bytes", cf->pos + 1);
        if (!err)
                out[cf->pos] = '\0';
        free(cf);
        json_decref(root);
        return err;
}

ltrr_err_t ltrr_avro_fingerprint(const char *json, size_t json_len,
                                 uint64_t *fp, char *errstr,
                                 size_t errstr_size)
{
        char *buf;
        size_t len = 0;
        ltrr_err_t err;

        if (!(buf = malloc(LTRR_AVRO_SCHEMA_MAX)))
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "out of memory");
        err = ltrr_avro_canonical_form(json, json_len, buf,
                                       LTRR_AVRO_SCHEMA_MAX, &len, errstr,
                                       errstr_size);
        if (!err)
                *fp = ltrr_avro_crc64(buf, len);
        free(buf);
        return err;
}
