/*
 * ltrr - the Avro decoder: single-object header, known schemas, and
 * resolution of foreign writer schemas with Avro C.
 *
 * Records of the current schemas go straight to the hand-written decoder.
 * A record of a registered foreign writer schema is first read by Avro C
 * into a value of its writer schema, resolved into a value of the current
 * schema (avro_resolve.c), written out again as a current-schema body, and
 * then decoded as usual; the Avro C values and the scratch buffer are kept
 * for the next record.
 */
#include "avro_int.h"

#include <avro.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A foreign writer schema, its value and a value of the current schema. */
typedef struct writer_s {
        uint64_t fp;                    /* writer fingerprint */
        ltrr_avro_type_t type;          /* record it resolves to */
        avro_schema_t schema;           /* writer schema */
        avro_value_iface_t *src_iface;  /* generic class of the writer */
        avro_value_t src;               /* record as written */
        avro_value_iface_t *dest_iface; /* generic class of the reader */
        avro_value_t dest;              /* record resolved to current */
} writer_t;

struct ltrr_avro_decoder_s {
        ltrr_avro_arena_t arena;                      /* decoded records */
        avro_schema_t current[LTRR_AVRO__TYPE_CNT];   /* current schemas */
        writer_t writers[LTRR_AVRO_WRITERS_MAX];      /* foreign writers */
        int writer_cnt;                               /* entries in use */
        avro_reader_t reader;                         /* reused reader */
        avro_writer_t writer;                         /* reused writer */
        uint8_t *scratch;                             /* resolved body */
        size_t scratch_size;                          /* its size */
};

/* Reads a whole schema file into a NUL-terminated malloc'ed buffer. */
static ltrr_err_t read_schema_file(const char *path, char **textp,
                                   size_t *lenp, char *errstr,
                                   size_t errstr_size)
{
        FILE *fp = fopen(path, "rb");
        char *text = NULL;
        size_t len;
        ltrr_err_t err = LTRR_OK;

        if (!fp)
                return ltrr_errf(LTRR_ERR_IO, errstr, errstr_size,
                                 "%s: cannot open", path);
        if (!(text = malloc(LTRR_AVRO_SCHEMA_MAX + 1))) {
                err = ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                "out of memory");
                goto done;
        }
        len = fread(text, 1, LTRR_AVRO_SCHEMA_MAX + 1, fp);
        if (ferror(fp) || len > LTRR_AVRO_SCHEMA_MAX) {
                err = ltrr_errf(LTRR_ERR_IO, errstr, errstr_size,
                                "%s: read error or over %d bytes", path,
                                LTRR_AVRO_SCHEMA_MAX);
                goto done;
        }
        text[len] = '\0';
        *textp = text;
        *lenp = len;
        text = NULL;
done:
        free(text);
        fclose(fp);
        return err;
}

/* Parses @json with Avro C, copying its error into errstr at once. */
static ltrr_err_t parse_schema(const char *json, size_t len,
                               avro_schema_t *schema, char *errstr,
                               size_t errstr_size)
{
        if (avro_schema_from_json_length(json, len, schema))
                return ltrr_errf(LTRR_ERR_SCHEMA, errstr, errstr_size,
                                 "Avro C cannot parse schema: %s",
                                 avro_strerror());
        return LTRR_OK;
}

/* Loads schema_dir/<Type>.avsc, checks its fingerprint, parses it. */
static ltrr_err_t load_current(ltrr_avro_decoder_t *dec, const char *dir,
                               ltrr_avro_type_t type, char *errstr,
                               size_t errstr_size)
{
        char path[4096];
        char *text = NULL;
        size_t len = 0;
        uint64_t fp = 0;
        ltrr_err_t err;

        if ((size_t)snprintf(path, sizeof(path), "%s/%s.avsc", dir,
                             ltrr_avro_type_name(type)) >= sizeof(path))
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "schema directory path too long");
        if ((err = read_schema_file(path, &text, &len, errstr, errstr_size)))
                goto done;
        if ((err = ltrr_avro_fingerprint(text, len, &fp, errstr, errstr_size)))
                goto done;
        if (fp != ltrr_avro_type_fingerprint(type)) {
                err = ltrr_errf(LTRR_ERR_SCHEMA, errstr, errstr_size,
                                "%s: fingerprint %016" PRIx64 " is not the "
                                "codec's %016" PRIx64 "; schema and codec "
                                "differ", path, fp,
                                ltrr_avro_type_fingerprint(type));
                goto done;
        }
        err = parse_schema(text, len, &dec->current[type], errstr,
                           errstr_size);
done:
        free(text);
        return err;
}

ltrr_avro_decoder_t *ltrr_avro_decoder_new(const char *schema_dir,
                                           char *errstr,
                                           size_t errstr_size)
{
        ltrr_avro_decoder_t *dec;
        int t;

        if (!(dec = calloc(1, sizeof(*dec)))) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "out of memory");
                return NULL;
        }
        for (t = 0; t < LTRR_AVRO__TYPE_CNT; t++)
                if (load_current(dec, schema_dir ? schema_dir : LTRR_SCHEMA_DIR,
                                 (ltrr_avro_type_t)t, errstr, errstr_size))
                        goto err;
        dec->reader = avro_reader_memory("", 0);
        dec->writer = avro_writer_memory("", 0);
        if (!dec->reader || !dec->writer) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "out of memory");
                goto err;
        }
        return dec;
err:
        ltrr_avro_decoder_destroy(dec);
        return NULL;
}

static void writer_clear(writer_t *w)
{
        if (w->src_iface) {
                avro_value_decref(&w->src);
                avro_value_iface_decref(w->src_iface);
        }
        if (w->dest_iface) {
                avro_value_decref(&w->dest);
                avro_value_iface_decref(w->dest_iface);
        }
        if (w->schema)
                avro_schema_decref(w->schema);
        memset(w, 0, sizeof(*w));
}

void ltrr_avro_decoder_destroy(ltrr_avro_decoder_t *dec)
{
        int i;

        if (!dec)
                return;
        for (i = 0; i < dec->writer_cnt; i++)
                writer_clear(&dec->writers[i]);
        for (i = 0; i < LTRR_AVRO__TYPE_CNT; i++)
                if (dec->current[i])
                        avro_schema_decref(dec->current[i]);
        if (dec->reader)
                avro_reader_free(dec->reader);
        if (dec->writer)
                avro_writer_free(dec->writer);
        free(dec->scratch);
        ltrr_avro_arena_free(&dec->arena);
        free(dec);
}

/* Creates a generic value of @schema; on failure *iface stays NULL. */
static ltrr_err_t value_new(avro_schema_t schema, avro_value_iface_t **iface,
                            avro_value_t *value, char *errstr,
                            size_t errstr_size)
{
        avro_value_iface_t *cls = avro_generic_class_from_schema(schema);

        if (!cls || avro_generic_value_new(cls, value)) {
                if (cls)
                        avro_value_iface_decref(cls);
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "Avro C value: %s", avro_strerror());
        }
        *iface = cls;
        return LTRR_OK;
}

/* Creates the writer's and the current schema's values. */
static ltrr_err_t writer_build(ltrr_avro_decoder_t *dec, writer_t *w,
                               char *errstr, size_t errstr_size)
{
        ltrr_err_t err;

        if ((err = value_new(w->schema, &w->src_iface, &w->src, errstr,
                             errstr_size)))
                return err;
        return value_new(dec->current[w->type], &w->dest_iface, &w->dest,
                         errstr, errstr_size);
}

static bool writer_known(const ltrr_avro_decoder_t *dec, uint64_t fp)
{
        int i;

        for (i = 0; i < LTRR_AVRO__TYPE_CNT; i++)
                if (ltrr_avro_type_fingerprint((ltrr_avro_type_t)i) == fp)
                        return true;
        for (i = 0; i < dec->writer_cnt; i++)
                if (dec->writers[i].fp == fp)
                        return true;
        return false;
}

ltrr_err_t ltrr_avro_decoder_add_writer(ltrr_avro_decoder_t *dec,
                                        const char *json, size_t json_len,
                                        char *errstr, size_t errstr_size)
{
        writer_t w = {0};
        ltrr_err_t err;
        int type;

        if ((err = ltrr_avro_fingerprint(json, json_len, &w.fp, errstr,
                                         errstr_size)))
                return err;
        if (writer_known(dec, w.fp))
                return LTRR_OK;
        if (dec->writer_cnt == LTRR_AVRO_WRITERS_MAX)
                return ltrr_errf(LTRR_ERR_NOSPACE, errstr, errstr_size,
                                 "more than %d writer schemas",
                                 LTRR_AVRO_WRITERS_MAX);
        if ((err = parse_schema(json, json_len, &w.schema, errstr,
                                errstr_size)))
                return err;
        type = is_avro_record(w.schema) ?
                ltrr_avro_type_parse(avro_schema_name(w.schema)) : -1;
        if (type < 0) {
                err = ltrr_errf(LTRR_ERR_SCHEMA, errstr, errstr_size,
                                "schema is not an Impression, Action or "
                                "Reward record");
                goto err;
        }
        w.type = (ltrr_avro_type_t)type;
        if ((err = writer_build(dec, &w, errstr, errstr_size)))
                goto err;
        dec->writers[dec->writer_cnt++] = w;
        return LTRR_OK;
err:
        writer_clear(&w);
        return err;
}

ltrr_err_t ltrr_avro_decoder_add_writer_file(ltrr_avro_decoder_t *dec,
                                             const char *path, char *errstr,
                                             size_t errstr_size)
{
        char *text = NULL;
        size_t len = 0;
        ltrr_err_t err;

        if ((err = read_schema_file(path, &text, &len, errstr, errstr_size)))
                return err;
        err = ltrr_avro_decoder_add_writer(dec, text, len, errstr,
                                           errstr_size);
        free(text);
        return err;
}

/* True when @reader has no byte left. avro_reader_is_eof() only works on
 * file readers, so this tries to read one more byte. */
static bool reader_at_end(avro_reader_t reader)
{
        char extra;

        return avro_read(reader, &extra, 1) != 0;
}

/* Reads @len body bytes of writer @w, writes them as a current-schema body
 * into the scratch buffer (grown as needed, up to LTRR_AVRO_RECORD_MAX). */
static ltrr_err_t resolve(ltrr_avro_decoder_t *dec, writer_t *w,
                          const uint8_t *body, size_t len, size_t *outlen,
                          char *errstr, size_t errstr_size)
{
        size_t need = 0;
        uint8_t *grown;

        ltrr_err_t err;

        if ((err = ltrr_avro_body_check(w->schema, body, len, errstr,
                                        errstr_size)))
                return err;
        avro_value_reset(&w->src);
        avro_value_reset(&w->dest);
        avro_reader_memory_set_source(dec->reader, (const char *)body,
                                      (int64_t)len);
        if (avro_value_read(dec->reader, &w->src) ||
            !reader_at_end(dec->reader))
                return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                 "body does not match its writer schema: %s",
                                 avro_strerror());
        if ((err = ltrr_avro_value_resolve(&w->src, &w->dest, errstr,
                                           errstr_size)))
                return err;
        if (avro_value_sizeof(&w->dest, &need) || need > LTRR_AVRO_RECORD_MAX)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "resolved record too large");
        if (need > dec->scratch_size) {
                if (!(grown = realloc(dec->scratch, need)))
                        return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                         "out of memory");
                dec->scratch = grown;
                dec->scratch_size = need;
        }
        avro_writer_memory_set_dest(dec->writer, (const char *)dec->scratch,
                                    (int64_t)dec->scratch_size);
        if (avro_value_write(dec->writer, &w->dest))
                return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                 "cannot write resolved record: %s",
                                 avro_strerror());
        *outlen = (size_t)avro_writer_tell(dec->writer);
        return LTRR_OK;
}

static uint64_t read_fp(const uint8_t *p)
{
        uint64_t fp = 0;
        int i;

        for (i = 0; i < 8; i++)
                fp |= (uint64_t)p[i] << (8 * i);
        return fp;
}

ltrr_err_t ltrr_avro_decode(ltrr_avro_decoder_t *dec, const uint8_t *buf,
                            size_t len, ltrr_avro_record_t *rec,
                            char *errstr, size_t errstr_size)
{
        const uint8_t *body;
        size_t body_len;
        ltrr_err_t err;
        int i;

        if (!dec || !rec || (!buf && len))
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "decoder, buffer or record is NULL");
        if ((len >= 1 && buf[0] != 0xc3) || (len >= 2 && buf[1] != 0x01))
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "not Avro single-object encoding "
                                 "(magic is not C3 01)");
        if (len < LTRR_AVRO_HEADER_LEN)
                return ltrr_errf(LTRR_ERR_TRUNCATED, errstr, errstr_size,
                                 "record of %zu bytes is shorter than the "
                                 "%d-byte header", len, LTRR_AVRO_HEADER_LEN);
        if (len > LTRR_AVRO_RECORD_MAX)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "record of %zu bytes over LTRR_AVRO_RECORD_MAX",
                                 len);
        rec->fingerprint = read_fp(buf + 2);
        rec->resolved = 0;
        body = buf + LTRR_AVRO_HEADER_LEN;
        body_len = len - LTRR_AVRO_HEADER_LEN;
        for (i = 0; i < LTRR_AVRO__TYPE_CNT; i++)
                if (ltrr_avro_type_fingerprint((ltrr_avro_type_t)i) ==
                    rec->fingerprint)
                        return ltrr_avro_body_decode(&dec->arena,
                                                     (ltrr_avro_type_t)i, body,
                                                     body_len, rec, errstr,
                                                     errstr_size);
        for (i = 0; i < dec->writer_cnt; i++) {
                writer_t *w = &dec->writers[i];

                if (w->fp != rec->fingerprint)
                        continue;
                if ((err = resolve(dec, w, body, body_len, &body_len, errstr,
                                   errstr_size)))
                        return err;
                rec->resolved = 1;
                return ltrr_avro_body_decode(&dec->arena, w->type,
                                             dec->scratch, body_len, rec,
                                             errstr, errstr_size);
        }
        return ltrr_errf(LTRR_ERR_SCHEMA, errstr, errstr_size,
                         "unknown schema fingerprint %016" PRIx64,
                         rec->fingerprint);
}

/* Avro C objects of one ltrr_avro_resolve_body() call. */
typedef struct oneshot_s {
        avro_schema_t reader, writer;
        avro_value_iface_t *src_iface, *dest_iface;
        avro_value_t src, dest;
        avro_reader_t in;
        avro_writer_t out;
} oneshot_t;

static void oneshot_clear(oneshot_t *o)
{
        if (o->src_iface) {
                avro_value_decref(&o->src);
                avro_value_iface_decref(o->src_iface);
        }
        if (o->dest_iface) {
                avro_value_decref(&o->dest);
                avro_value_iface_decref(o->dest_iface);
        }
        if (o->reader)
                avro_schema_decref(o->reader);
        if (o->writer)
                avro_schema_decref(o->writer);
        if (o->in)
                avro_reader_free(o->in);
        if (o->out)
                avro_writer_free(o->out);
}

ltrr_err_t ltrr_avro_resolve_body(const char *reader_json,
                                  const char *writer_json,
                                  const uint8_t *in, size_t in_len,
                                  uint8_t *out, size_t out_size,
                                  size_t *out_len, char *errstr,
                                  size_t errstr_size)
{
        oneshot_t o = {0};
        ltrr_err_t err;

        if ((err = parse_schema(reader_json, strlen(reader_json), &o.reader,
                                errstr, errstr_size)) ||
            (err = parse_schema(writer_json, strlen(writer_json), &o.writer,
                                errstr, errstr_size)) ||
            (err = value_new(o.writer, &o.src_iface, &o.src, errstr,
                             errstr_size)) ||
            (err = value_new(o.reader, &o.dest_iface, &o.dest, errstr,
                             errstr_size)))
                goto done;
        o.in = avro_reader_memory((const char *)in, (int64_t)in_len);
        o.out = avro_writer_memory((const char *)out, (int64_t)out_size);
        if (!o.in || !o.out) {
                err = ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                "out of memory");
                goto done;
        }
        if (avro_value_read(o.in, &o.src) || !reader_at_end(o.in)) {
                err = ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                "body does not match the writer schema: %s",
                                avro_strerror());
                goto done;
        }
        if ((err = ltrr_avro_value_resolve(&o.src, &o.dest, errstr,
                                           errstr_size)))
                goto done;
        if (avro_value_write(o.out, &o.dest)) {
                err = ltrr_errf(LTRR_ERR_NOSPACE, errstr, errstr_size,
                                "resolved body does not fit in %zu bytes",
                                out_size);
                goto done;
        }
        *out_len = (size_t)avro_writer_tell(o.out);
done:
        oneshot_clear(&o);
        return err;
}
