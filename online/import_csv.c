/*
 * ltrr - CSV catalog importer with a column mapping.
 *
 * The reader is an RFC 4180 state machine fed one byte at a time from the
 * stdio buffer; a record's fields are stored NUL-terminated in one fixed
 * buffer, so memory is bounded by LTRR_IMPORT_LINE_MAX whatever the input.
 */
#include "import.h"

#include <ini.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Catalog fields a column can map to. */
enum {
        CF_ID, CF_TYPE, CF_NAME, CF_ARTISTS, CF_ARTIST_IDS, CF_ALBUM,
        CF_GENRES, CF_SUBGENRES, CF_MOODS, CF_LANGUAGE, CF_RELEASE_DATE,
        CF_DURATION_MS, CF_POPULARITY, CF_DESCRIPTION, CF__CNT
};

static const char *const field_names[CF__CNT] = {
        "id", "type", "name", "artists", "artist_ids", "album", "genres",
        "subgenres", "moods", "language", "release_date", "duration_ms",
        "popularity", "description"};

/* Fields that hold lists and so may have a separator. */
#define CF_IS_LIST(f)                                                        \
        ((f) == CF_ARTISTS || (f) == CF_ARTIST_IDS || (f) == CF_GENRES ||    \
         (f) == CF_SUBGENRES || (f) == CF_MOODS)

struct ltrr_csv_mapping_s {
        char *col[CF__CNT];       /* column name per field, NULL = unmapped */
        char *sep[CF__CNT];       /* list separator, NULL = one value */
        char *null_str;           /* value meaning "absent", NULL = none */
        char language[3];         /* default language, "" = none */
        char delim;               /* field delimiter */
        ltrr_entity_type_t type;  /* type when no type column */
};

/* Streaming record reader state. */
struct csvr {
        FILE *fp;                 /* input */
        char *buf;                /* fields, NUL-terminated, back to back */
        size_t len;               /* bytes used in buf */
        size_t offs[LTRR_IMPORT_CSV_COLS_MAX]; /* field starts */
        size_t nf;                /* fields in the record */
        uint64_t line;            /* physical line of the next byte, 1-based */
        int pend[3];              /* pushed-back bytes (BOM check) */
        int npend;                /* entries in pend */
        int bad;                  /* -1 or the skip reason of the record */
        const char *why;          /* message when bad */
};

#define CSV_BUF_SIZE (LTRR_IMPORT_LINE_MAX + LTRR_IMPORT_CSV_COLS_MAX + 1)

ltrr_csv_mapping_t *ltrr_csv_mapping_new(void)
{
        ltrr_csv_mapping_t *map = calloc(1, sizeof(*map));

        if (!map)
                return NULL;
        map->delim = ',';
        map->type = LTRR_ENTITY_TRACK;
        return map;
}

void ltrr_csv_mapping_destroy(ltrr_csv_mapping_t *map)
{
        int f;

        if (!map)
                return;
        for (f = 0; f < CF__CNT; f++) {
                free(map->col[f]);
                free(map->sep[f]);
        }
        free(map->null_str);
        free(map);
}

/* Replaces the string *dst with a copy of @v. */
static ltrr_err_t set_str(char **dst, const char *v, char *errstr,
                          size_t errstr_size)
{
        char *s = strdup(v);

        if (!s)
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "out of memory");
        free(*dst);
        *dst = s;
        return LTRR_OK;
}

/* Sets a key of the [csv] section. */
static ltrr_err_t mapping_set_csv(ltrr_csv_mapping_t *map, const char *key,
                                  const char *value, char *errstr,
                                  size_t errstr_size)
{
        int t;

        if (!strcmp(key, "delimiter")) {
                if (!strcmp(value, "\\t") || !strcmp(value, "tab"))
                        value = "\t";
                if (strlen(value) != 1 || *value == '"' || *value == '\n')
                        return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr,
                                         errstr_size,
                                         "delimiter must be one byte");
                map->delim = *value;
                return LTRR_OK;
        }
        if (!strcmp(key, "null"))
                return set_str(&map->null_str, value, errstr, errstr_size);
        if (!strcmp(key, "type")) {
                if ((t = ltrr_entity_type_parse(value)) < 0)
                        return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr,
                                         errstr_size, "unknown type \"%s\"",
                                         value);
                map->type = (ltrr_entity_type_t)t;
                return LTRR_OK;
        }
        if (!strcmp(key, "language")) {
                if (strlen(value) > 2)
                        return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr,
                                         errstr_size,
                                         "language must be ISO 639-1");
                strcpy(map->language, value);
                return LTRR_OK;
        }
        return ltrr_errf(LTRR_ERR_UNKNOWN_KEY, errstr, errstr_size,
                         "unknown key [csv] %s", key);
}

ltrr_err_t ltrr_csv_mapping_set(ltrr_csv_mapping_t *map, const char *section,
                                const char *key, const char *value,
                                char *errstr, size_t errstr_size)
{
        int f;

        if (!strcmp(section, "csv"))
                return mapping_set_csv(map, key, value, errstr, errstr_size);
        for (f = 0; f < CF__CNT && strcmp(key, field_names[f]); f++)
                ;
        if (f == CF__CNT || (strcmp(section, "columns") &&
                             (strcmp(section, "separators") || !CF_IS_LIST(f))))
                return ltrr_errf(LTRR_ERR_UNKNOWN_KEY, errstr, errstr_size,
                                 "unknown key [%s] %s", section, key);
        if (!*value)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "[%s] %s is empty", section, key);
        if (!strcmp(section, "columns"))
                return set_str(&map->col[f], value, errstr, errstr_size);
        return set_str(&map->sep[f], value, errstr, errstr_size);
}

/* State handed through inih to mapping_ini(). */
struct ini_ctx {
        ltrr_csv_mapping_t *map;
        char err[256];            /* first error */
};

static int mapping_ini(void *user, const char *section, const char *name,
                       const char *value)
{
        struct ini_ctx *ctx = user;

        return ltrr_csv_mapping_set(ctx->map, section, name, value, ctx->err,
                                    sizeof(ctx->err)) == LTRR_OK;
}

ltrr_err_t ltrr_csv_mapping_load(ltrr_csv_mapping_t *map, const char *path,
                                 char *errstr, size_t errstr_size)
{
        struct ini_ctx ctx = {map, "syntax error"};
        int r = ini_parse(path, mapping_ini, &ctx);

        if (r == -1)
                return ltrr_errf(LTRR_ERR_IO, errstr, errstr_size,
                                 "%s: cannot open", path);
        if (r == -2)
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                 "%s: out of memory", path);
        if (r > 0)
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "%s:%d: %s", path, r, ctx.err);
        return LTRR_OK;
}

/* Next input byte, after any pushed-back ones. */
static int csv_getc(struct csvr *r)
{
        if (r->npend > 0) {
                int c = r->pend[0];

                memmove(r->pend, r->pend + 1, sizeof(int) * 2);
                r->npend--;
                return c;
        }
        return getc_unlocked(r->fp);
}

/* Skips a UTF-8 byte order mark at the start of input. */
static void csv_skip_bom(struct csvr *r)
{
        static const int bom[3] = {0xEF, 0xBB, 0xBF};
        int i;

        for (i = 0; i < 3; i++) {
                r->pend[i] = getc_unlocked(r->fp);
                r->npend = i + 1;
                if (r->pend[i] != bom[i])
                        return;
        }
        r->npend = 0;
}

/* Marks the current record bad (first reason wins). */
static void csv_bad(struct csvr *r, ltrr_import_skip_t reason,
                    const char *why)
{
        if (r->bad < 0) {
                r->bad = (int)reason;
                r->why = why;
        }
}

static void csv_put(struct csvr *r, int c)
{
        if (r->len >= LTRR_IMPORT_LINE_MAX) {
                csv_bad(r, LTRR_IMPORT_SKIP_TOO_LONG,
                        "record longer than the line limit");
                return;
        }
        r->buf[r->len++] = (char)c;
}

static void csv_end_field(struct csvr *r, size_t *start)
{
        if (r->nf >= LTRR_IMPORT_CSV_COLS_MAX) {
                csv_bad(r, LTRR_IMPORT_SKIP_SYNTAX, "too many columns");
                r->len = *start;
                return;
        }
        r->buf[r->len++] = '\0';
        r->offs[r->nf++] = *start;
        *start = r->len;
}

/* Reads one record. Returns 0, or -1 at end of input. */
static int csv_record(struct csvr *r, char delim)
{
        enum { START, PLAIN, QUOTED, QUOTE } st = START;
        size_t start = 0;
        int c;

        r->len = r->nf = 0;
        r->bad = -1;
        if ((c = csv_getc(r)) == EOF)
                return -1;
        for (;; c = csv_getc(r)) {
                if (c == EOF) {
                        if (st == QUOTED)
                                csv_bad(r, LTRR_IMPORT_SKIP_SYNTAX,
                                        "unterminated quoted field");
                        break;
                }
                if (c == '\n')
                        r->line++;
                if (st == QUOTED) {
                        if (c == '"')
                                st = QUOTE;
                        else
                                csv_put(r, c);
                        continue;
                }
                if (c == '\r') {
                        int n = csv_getc(r);

                        if (n == '\n') {
                                r->line++;
                                break;
                        }
                        r->pend[r->npend++] = n;
                        csv_put(r, c);
                        st = PLAIN;
                        continue;
                }
                if (c == '\n')
                        break;
                if (c == delim) {
                        csv_end_field(r, &start);
                        st = START;
                } else if (c == '"' && st == START) {
                        st = QUOTED;
                } else if (c == '"' && st == QUOTE) {
                        csv_put(r, c);
                        st = QUOTED;
                } else {
                        if (st == QUOTE)
                                csv_bad(r, LTRR_IMPORT_SKIP_SYNTAX,
                                        "text after a closing quote");
                        csv_put(r, c);
                        st = PLAIN;
                }
        }
        csv_end_field(r, &start);
        return 0;
}

/* Value of field @f in the current record, or NULL if unmapped/absent. */
static char *csv_value(struct csvr *r, const ltrr_csv_mapping_t *map,
                       const int *cols, int f)
{
        char *v;

        if (cols[f] < 0 || (size_t)cols[f] >= r->nf)
                return NULL;
        v = r->buf + r->offs[cols[f]];
        if (!*v || (map->null_str && !strcmp(v, map->null_str)))
                return NULL;
        return v;
}

/* Trims ASCII blanks around @s in place. */
static char *trim(char *s)
{
        char *e;

        while (*s == ' ' || *s == '\t')
                s++;
        e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
                *--e = '\0';
        return s;
}

/* Splits @v in place on @sep into @out; returns the count or -1 if more
 * than LTRR_CATALOG_LIST_MAX. Empty items are dropped. */
static long split_list(char *v, const char *sep, const char **out)
{
        size_t n = 0, sl = sep ? strlen(sep) : 0;
        char *p = v, *q;

        if (!v)
                return 0;
        for (;;) {
                q = sl ? strstr(p, sep) : NULL;
                if (q)
                        *q = '\0';
                p = trim(p);
                if (*p) {
                        if (n >= LTRR_CATALOG_LIST_MAX)
                                return -1;
                        out[n++] = p;
                }
                if (!q)
                        return (long)n;
                p = q + sl;
        }
}

/* Lists parsed from one record. */
struct crow {
        const char *lists[CF__CNT][LTRR_CATALOG_LIST_MAX]; /* by field */
};

/* Parses the scalar numeric and date fields. Returns a message or NULL. */
static const char *csv_scalars(struct csvr *r, const ltrr_csv_mapping_t *map,
                               const int *cols, ltrr_entity_in_t *in)
{
        char *v, *end;

        if ((v = csv_value(r, map, cols, CF_DURATION_MS))) {
                unsigned long long d = strtoull(v, &end, 10);

                if (*end || *v == '-' || d >= LTRR_CATALOG_DURATION_UNKNOWN)
                        return "duration_ms is not a valid integer";
                in->duration_ms = (uint32_t)d;
        }
        if ((v = csv_value(r, map, cols, CF_POPULARITY))) {
                double p = strtod(v, &end);

                if (*end || !isfinite(p) || p < 0)
                        return "popularity is not a number >= 0";
                in->popularity = (float)p;
        }
        if ((v = csv_value(r, map, cols, CF_RELEASE_DATE)) &&
            ltrr_date_parse(v, &in->release_days, &in->release_prec))
                return "release_date is not YYYY, YYYY-MM or YYYY-MM-DD";
        if ((v = csv_value(r, map, cols, CF_TYPE))) {
                int t = ltrr_entity_type_parse(trim(v));

                if (t < 0)
                        return "type is not a known entity type";
                in->type = (ltrr_entity_type_t)t;
        }
        return NULL;
}

/* Maps the current record to @in. Returns a message or NULL. */
static const char *csv_row(struct csvr *r, const ltrr_csv_mapping_t *map,
                           const int *cols, struct crow *row,
                           ltrr_entity_in_t *in)
{
        long n[CF__CNT] = {0};
        const char *msg;
        int f;

        ltrr_entity_in_init(in);
        in->type = map->type;
        in->language = map->language;
        in->id = csv_value(r, map, cols, CF_ID);
        in->name = csv_value(r, map, cols, CF_NAME);
        in->album = csv_value(r, map, cols, CF_ALBUM);
        in->description = csv_value(r, map, cols, CF_DESCRIPTION);
        if (csv_value(r, map, cols, CF_LANGUAGE))
                in->language = trim(csv_value(r, map, cols, CF_LANGUAGE));
        if ((msg = csv_scalars(r, map, cols, in)))
                return msg;
        for (f = 0; f < CF__CNT; f++) {
                if (!CF_IS_LIST(f))
                        continue;
                n[f] = split_list(csv_value(r, map, cols, f), map->sep[f],
                                  row->lists[f]);
                if (n[f] < 0)
                        return "list has too many items";
        }
        in->artists = row->lists[CF_ARTISTS];
        in->artists_cnt = (size_t)n[CF_ARTISTS];
        in->artist_ids = n[CF_ARTIST_IDS] ? row->lists[CF_ARTIST_IDS] : NULL;
        in->genres = row->lists[CF_GENRES];
        in->genres_cnt = (size_t)n[CF_GENRES];
        in->subgenres = row->lists[CF_SUBGENRES];
        in->subgenres_cnt = (size_t)n[CF_SUBGENRES];
        in->moods = row->lists[CF_MOODS];
        in->moods_cnt = (size_t)n[CF_MOODS];
        if (in->artist_ids && n[CF_ARTIST_IDS] != n[CF_ARTISTS])
                return "artist_ids and artists differ in length";
        return NULL;
}

/* Resolves mapped column names against the header record. */
static ltrr_err_t csv_header(struct csvr *r, const ltrr_csv_mapping_t *map,
                             int *cols, char *errstr, size_t errstr_size)
{
        size_t i;
        int f;

        if (!map->col[CF_ID] || !map->col[CF_NAME])
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "mapping must name the id and name columns");
        if (csv_record(r, map->delim) < 0 || r->bad >= 0)
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "missing or malformed header row");
        for (f = 0; f < CF__CNT; f++) {
                cols[f] = -1;
                if (!map->col[f])
                        continue;
                for (i = 0; i < r->nf; i++)
                        if (!strcmp(trim(r->buf + r->offs[i]), map->col[f]))
                                cols[f] = (int)i;
                if (cols[f] < 0)
                        return ltrr_errf(LTRR_ERR_UNKNOWN_KEY, errstr,
                                         errstr_size,
                                         "column \"%s\" (%s) not in header",
                                         map->col[f], field_names[f]);
        }
        return LTRR_OK;
}

/* Checks and imports the record just read, which started on @line. */
static ltrr_err_t csv_one(ltrr_catalog_t *cat, struct csvr *r,
                          const ltrr_csv_mapping_t *map, const int *cols,
                          size_t ncols, uint64_t line, struct crow *row,
                          const ltrr_import_opts_t *opts,
                          ltrr_import_stats_t *st, char *errstr,
                          size_t errstr_size)
{
        ltrr_entity_in_t in;
        const char *msg;

        st->read++;
        if (r->bad >= 0) {
                ltrr_import_skip(opts, st, line, (ltrr_import_skip_t)r->bad,
                                 "%s", r->why);
                return LTRR_OK;
        }
        if (r->nf != ncols) {
                ltrr_import_skip(opts, st, line,
                                 r->nf < ncols ? LTRR_IMPORT_SKIP_MISSING
                                               : LTRR_IMPORT_SKIP_SYNTAX,
                                 "%zu columns, header has %zu", r->nf,
                                 ncols);
                return LTRR_OK;
        }
        if ((msg = csv_row(r, map, cols, row, &in))) {
                ltrr_import_skip(opts, st, line, LTRR_IMPORT_SKIP_VALUE, "%s",
                                 msg);
                return LTRR_OK;
        }
        if (!in.id || !in.name) {
                ltrr_import_skip(opts, st, line, LTRR_IMPORT_SKIP_MISSING,
                                 "%s is empty", in.id ? "name" : "id");
                return LTRR_OK;
        }
        return ltrr_import_add(cat, &in, line, opts, st, errstr,
                               errstr_size);
}

ltrr_err_t ltrr_import_csv(ltrr_catalog_t *cat, FILE *fp,
                           const ltrr_csv_mapping_t *map,
                           const ltrr_import_opts_t *opts,
                           ltrr_import_stats_t *st, char *errstr,
                           size_t errstr_size)
{
        struct csvr *r = calloc(1, sizeof(*r));
        struct crow *row = malloc(sizeof(*row));
        int cols[CF__CNT];
        size_t ncols;
        uint64_t line;
        ltrr_err_t err;

        memset(st, 0, sizeof(*st));
        if (!r || !row || !(r->buf = malloc(CSV_BUF_SIZE))) {
                err = ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                "out of memory");
                goto done;
        }
        r->fp = fp;
        r->line = 1;
        csv_skip_bom(r);
        if ((err = csv_header(r, map, cols, errstr, errstr_size)))
                goto done;
        ncols = r->nf;
        for (line = r->line; err == LTRR_OK && csv_record(r, map->delim) == 0;
             line = r->line) {
                if (r->nf == 1 && r->buf[0] == '\0' && r->bad < 0) {
                        st->blank++;
                        continue;
                }
                err = csv_one(cat, r, map, cols, ncols, line, row, opts, st,
                              errstr, errstr_size);
        }
        if (err == LTRR_OK && ferror(fp))
                err = ltrr_errf(LTRR_ERR_IO, errstr, errstr_size,
                                "read error near line %llu",
                                (unsigned long long)r->line);
done:
        if (r)
                free(r->buf);
        free(r);
        free(row);
        return err;
}
