/*
 * ltrr - JSONL catalog importer, and the row accounting both importers
 * share.
 *
 * One JSON object per line (schema in docs/CATALOG.md). Lines are read
 * into a fixed buffer of LTRR_IMPORT_LINE_MAX bytes; a longer line is
 * consumed to its end, counted and reported, never buffered whole.
 */
#include "import.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Scratch space for one row: list pointers borrowed from the JSON. */
struct jrow {
        const char *lists[5][LTRR_CATALOG_LIST_MAX]; /* see JL_* */
        float *vec;                                  /* dim floats */
        uint32_t dim;                                /* catalog dim */
};

enum { JL_ARTISTS, JL_ARTIST_IDS, JL_GENRES, JL_SUBGENRES, JL_MOODS };

static const char *const skip_names[LTRR_IMPORT_SKIP__CNT] = {
        "syntax", "type", "missing", "value", "duplicate", "too_long"};

const char *ltrr_import_skip_name(ltrr_import_skip_t reason)
{
        if ((unsigned)reason >= LTRR_IMPORT_SKIP__CNT)
                return "unknown";
        return skip_names[reason];
}

void ltrr_import_skip(const ltrr_import_opts_t *opts,
                      ltrr_import_stats_t *stats, uint64_t line,
                      ltrr_import_skip_t reason, const char *fmt, ...)
{
        char msg[512];
        va_list ap;

        stats->skipped++;
        stats->by_reason[reason]++;
        if (!opts || !opts->error_cb ||
            stats->reported >= opts->max_reported)
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        stats->reported++;
        opts->error_cb(opts->opaque, line, reason, msg);
}

ltrr_err_t ltrr_import_add(ltrr_catalog_t *cat, const ltrr_entity_in_t *in,
                           uint64_t line, const ltrr_import_opts_t *opts,
                           ltrr_import_stats_t *stats, char *errstr,
                           size_t errstr_size)
{
        uint64_t dups = ltrr_catalog_duplicates(cat);
        char why[256];
        ltrr_err_t err;

        err = ltrr_catalog_add(cat, in, why, sizeof(why));
        if (err == LTRR_OK) {
                stats->imported++;
                return LTRR_OK;
        }
        if (err == LTRR_ERR_NOMEM || err == LTRR_ERR_NOSPACE)
                return ltrr_errf(err, errstr, errstr_size, "line %llu: %s",
                                 (unsigned long long)line, why);
        ltrr_import_skip(opts, stats, line,
                         ltrr_catalog_duplicates(cat) != dups
                             ? LTRR_IMPORT_SKIP_DUPLICATE
                             : LTRR_IMPORT_SKIP_VALUE,
                         "%s", why);
        return LTRR_OK;
}

/* Reads one line into @buf (size LTRR_IMPORT_LINE_MAX + 2). Returns its
 * length without the newline, -1 at end of input, or -2 if the line was
 * too long (it is consumed). */
static long read_line(FILE *fp, char *buf)
{
        size_t len;
        int c;

        if (!fgets(buf, LTRR_IMPORT_LINE_MAX + 2, fp))
                return -1;
        len = strlen(buf);
        if (len > 0 && buf[len - 1] == '\n') {
                buf[--len] = '\0';
                if (len > 0 && buf[len - 1] == '\r')
                        buf[--len] = '\0';
                return len > LTRR_IMPORT_LINE_MAX ? -2 : (long)len;
        }
        if (len <= LTRR_IMPORT_LINE_MAX)
                return (long)len; /* last line without a newline */
        while ((c = getc(fp)) != EOF && c != '\n')
                ;
        return -2;
}

/* Reads a string-array field into @dst; returns the count or -1 if the
 * value is not an array of non-empty strings within bounds. */
static long json_strs(const json_t *v, const char **dst)
{
        size_t i, n;

        if (!json_is_array(v))
                return json_is_string(v) ? -2 : -1;
        n = json_array_size(v);
        if (n > LTRR_CATALOG_LIST_MAX)
                return -3;
        for (i = 0; i < n; i++) {
                const json_t *e = json_array_get(v, i);

                if (!json_is_string(e))
                        return -1;
                dst[i] = json_string_value(e);
        }
        return (long)n;
}

/* Reads the vector field; returns 0, -1 (type) or -2 (wrong size). */
static int json_vec(const json_t *v, struct jrow *row)
{
        size_t i;

        if (!json_is_array(v))
                return -1;
        if (row->dim == 0 || json_array_size(v) != row->dim)
                return -2;
        for (i = 0; i < row->dim; i++) {
                const json_t *e = json_array_get(v, i);

                if (!json_is_number(e))
                        return -1;
                row->vec[i] = (float)json_number_value(e);
        }
        return 0;
}

/* Fills one scalar field of @in; returns 1 if @key is not scalar-known,
 * 0 on success, -1 for a wrong type, -2 for a bad value. */
static int json_scalar(const char *key, const json_t *v,
                       ltrr_entity_in_t *in)
{
        const char **sp = NULL;

        if (!strcmp(key, "id"))
                sp = &in->id;
        else if (!strcmp(key, "name"))
                sp = &in->name;
        else if (!strcmp(key, "album"))
                sp = &in->album;
        else if (!strcmp(key, "description"))
                sp = &in->description;
        else if (!strcmp(key, "language"))
                sp = &in->language;
        if (sp) {
                if (!json_is_string(v))
                        return -1;
                *sp = json_string_value(v);
                return 0;
        }
        if (!strcmp(key, "type")) {
                int t;

                if (!json_is_string(v))
                        return -1;
                if ((t = ltrr_entity_type_parse(json_string_value(v))) < 0)
                        return -2;
                in->type = (ltrr_entity_type_t)t;
                return 0;
        }
        if (!strcmp(key, "duration_ms")) {
                json_int_t d;

                if (!json_is_integer(v))
                        return -1;
                d = json_integer_value(v);
                if (d < 0 || d >= (json_int_t)LTRR_CATALOG_DURATION_UNKNOWN)
                        return -2;
                in->duration_ms = (uint32_t)d;
                return 0;
        }
        if (!strcmp(key, "popularity")) {
                double p;

                if (!json_is_number(v))
                        return -1;
                p = json_number_value(v);
                if (!isfinite(p) || p < 0)
                        return -2;
                in->popularity = (float)p;
                return 0;
        }
        return 1;
}

/* Reads release_date: "YYYY[-MM[-DD]]" or an integer day number. */
static int json_date(const json_t *v, ltrr_entity_in_t *in)
{
        if (json_is_integer(v)) {
                json_int_t d = json_integer_value(v);

                if (d < INT32_MIN || d > INT32_MAX)
                        return -2;
                in->release_days = (int32_t)d;
                in->release_prec = LTRR_DATE_DAY;
                return 0;
        }
        if (!json_is_string(v))
                return -1;
        if (ltrr_date_parse(json_string_value(v), &in->release_days,
                            &in->release_prec))
                return -2;
        return 0;
}

/* Fills one list field; returns 1 if @key is not a list, else as above. */
static int json_list(const char *key, const json_t *v, ltrr_entity_in_t *in,
                     struct jrow *row, size_t *artist_ids_cnt)
{
        static const char *const names[5] = {"artists", "artist_ids",
                                             "genres", "subgenres", "moods"};
        long n;
        int l;

        for (l = 0; l < 5 && strcmp(key, names[l]); l++)
                ;
        if (l == 5)
                return 1;
        if ((n = json_strs(v, row->lists[l])) < 0)
                return n == -3 ? -2 : -1;
        if (l == JL_ARTISTS) {
                in->artists = row->lists[l];
                in->artists_cnt = (size_t)n;
        } else if (l == JL_ARTIST_IDS) {
                in->artist_ids = row->lists[l];
                *artist_ids_cnt = (size_t)n;
        } else if (l == JL_GENRES) {
                in->genres = row->lists[l];
                in->genres_cnt = (size_t)n;
        } else if (l == JL_SUBGENRES) {
                in->subgenres = row->lists[l];
                in->subgenres_cnt = (size_t)n;
        } else {
                in->moods = row->lists[l];
                in->moods_cnt = (size_t)n;
        }
        return 0;
}

/* Maps one object to @in. Returns -1 and a reason in *why on error. */
static int json_row(const json_t *obj, ltrr_entity_in_t *in,
                    struct jrow *row, ltrr_import_stats_t *stats,
                    ltrr_import_skip_t *why, const char **field)
{
        size_t aids = 0;
        const char *key;
        json_t *v;
        int r, have_type = 0;

        ltrr_entity_in_init(in);
        json_object_foreach((json_t *)obj, key, v) {
                *field = key;
                if (json_is_null(v))
                        continue; /* null means absent */
                if (!strcmp(key, "type"))
                        have_type = 1;
                if ((r = json_scalar(key, v, in)) == 1 &&
                    (r = json_list(key, v, in, row, &aids)) == 1) {
                        if (!strcmp(key, "release_date"))
                                r = json_date(v, in);
                        else if (!strcmp(key, "vector"))
                                r = json_vec(v, row);
                        else
                                r = 0, stats->unknown_fields++;
                        if (r == 0 && !strcmp(key, "vector"))
                                in->vector = row->vec;
                }
                if (r < 0) {
                        *why = r == -1 ? LTRR_IMPORT_SKIP_TYPE
                                       : LTRR_IMPORT_SKIP_VALUE;
                        return -1;
                }
        }
        *why = LTRR_IMPORT_SKIP_MISSING;
        if (!in->id || !*in->id)
                return *field = "id", -1;
        if (!in->name || !*in->name)
                return *field = "name", -1;
        if (!have_type)
                return *field = "type", -1;
        *why = LTRR_IMPORT_SKIP_VALUE;
        *field = "artist_ids";
        return in->artist_ids && aids != in->artists_cnt ? -1 : 0;
}

/* Parses and adds one non-blank line. */
static ltrr_err_t jsonl_line(ltrr_catalog_t *cat, const char *buf,
                             size_t len, uint64_t line, struct jrow *row,
                             const ltrr_import_opts_t *opts,
                             ltrr_import_stats_t *stats, char *errstr,
                             size_t errstr_size)
{
        ltrr_import_skip_t why;
        ltrr_entity_in_t in;
        const char *field = "";
        json_error_t jerr;
        ltrr_err_t err = LTRR_OK;
        json_t *obj;

        obj = json_loadb(buf, len, 0, &jerr);
        if (!obj || !json_is_object(obj)) {
                ltrr_import_skip(opts, stats, line, LTRR_IMPORT_SKIP_SYNTAX,
                                 "%s", obj ? "not a JSON object" : jerr.text);
                goto done;
        }
        if (json_row(obj, &in, row, stats, &why, &field) < 0) {
                ltrr_import_skip(opts, stats, line, why, "field \"%.64s\": %s",
                                 field,
                                 why == LTRR_IMPORT_SKIP_TYPE ? "wrong type"
                                 : why == LTRR_IMPORT_SKIP_MISSING
                                     ? "required field missing"
                                     : "invalid value");
                goto done;
        }
        err = ltrr_import_add(cat, &in, line, opts, stats, errstr,
                              errstr_size);
done:
        json_decref(obj);
        return err;
}

ltrr_err_t ltrr_import_jsonl(ltrr_catalog_t *cat, FILE *fp,
                             const ltrr_import_opts_t *opts,
                             ltrr_import_stats_t *stats, char *errstr,
                             size_t errstr_size)
{
        struct jrow *row = NULL;
        char *buf = NULL;
        uint64_t line = 0;
        ltrr_err_t err = LTRR_OK;
        long len;

        memset(stats, 0, sizeof(*stats));
        buf = malloc(LTRR_IMPORT_LINE_MAX + 2);
        row = calloc(1, sizeof(*row));
        if (!buf || !row)
                goto nomem;
        row->dim = ltrr_catalog_dim(cat);
        if (row->dim && !(row->vec = calloc(row->dim, sizeof(float))))
                goto nomem;
        while (err == LTRR_OK && (len = read_line(fp, buf)) != -1) {
                line++;
                if (len == -2) {
                        stats->read++;
                        ltrr_import_skip(opts, stats, line,
                                         LTRR_IMPORT_SKIP_TOO_LONG,
                                         "line longer than %d bytes",
                                         LTRR_IMPORT_LINE_MAX);
                        continue;
                }
                if (strspn(buf, " \t") == (size_t)len) {
                        stats->blank++;
                        continue;
                }
                stats->read++;
                err = jsonl_line(cat, buf, (size_t)len, line, row, opts,
                                 stats, errstr, errstr_size);
        }
        if (err == LTRR_OK && ferror(fp))
                err = ltrr_errf(LTRR_ERR_IO, errstr, errstr_size,
                                "read error after line %llu",
                                (unsigned long long)line);
        goto done;
nomem:
        err = ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                        "out of memory");
done:
        if (row)
                free(row->vec);
        free(row);
        free(buf);
        return err;
}
