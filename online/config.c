/*
 * ltrr - configuration: values, layers and sources.
 *
 * A config object holds the program struct (allocated with the table's
 * size), one slot per row recording where its value came from, and the
 * librdkafka pass-through list. Every value, defaults included, goes
 * through conf_assign(), so a default that breaks its own bounds is
 * caught when the object is created.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern char **environ;

/* Longest key or environment variable name handled. */
#define CONF_NAME_MAX 128
/* Prefix of environment variables passed through to librdkafka. */
#define CONF_ENV_KAFKA "LTRR_KAFKA_X_"

struct conf_slot {
        ltrr_config_src_t src;             /* kind of source */
        bool specific;                     /* set by [<program>] in the file */
        char where[LTRR_CONFIG_WHERE_MAX]; /* "config.ini:12", "default" */
};

struct ltrr_config_s {
        const ltrr_config_program_t *prog; /* static table */
        void *data;                        /* program struct, prog->size */
        size_t nprops;                     /* rows: common + own */
        struct conf_slot *slots;           /* nprops entries */
        ltrr_kvlist_t kafka;               /* pass-through properties */
        ltrr_kvlist_t kafka_where;         /* property -> source */
        ltrr_config_mode_t mode;           /* from the command line */
        bool loaded;                       /* ltrr_config_load() ran */
};

/* A parsed value before it is stored. */
struct conf_value {
        int64_t i; /* int, int64, bool, enum, duration, size */
        double d;  /* double */
};

struct conf_unit {
        const char *name;
        int64_t mult;
};

/* Largest unit first: formatting picks the first that divides. */
static const struct conf_unit duration_units[] = {
    {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}, {NULL, 0}};
static const struct conf_unit size_units[] = {{"G", 1073741824}, {"M", 1048576},
                                              {"k", 1024},       {"K", 1024},
                                              {"", 1},           {NULL, 0}};

/* Index of row @name in the table of @conf, or -1. */
static long conf_find(const ltrr_config_t *conf, const char *name)
{
        size_t i;

        for (i = 0; i < conf->nprops; i++)
                if (!strcmp(ltrr_config_prop_at(conf->prog, i)->name, name))
                        return (long)i;
        return -1;
}

/*
 * Number formats.
 */

/* Writes @v with the largest unit of @units that divides it. */
static void fmt_scaled(int64_t v, const struct conf_unit *units, char *buf,
                       size_t size)
{
        const struct conf_unit *u;

        for (u = units; u->name; u++)
                if (v != 0 && v % u->mult == 0)
                        break;
        if (v == 0 || !u->name) {
                snprintf(buf, size, "%lld", (long long)v);
                return;
        }
        snprintf(buf, size, "%lld%s", (long long)(v / u->mult), u->name);
}

/* Writes the names of an enum joined by ", ". */
static void fmt_enums(const char *const *names, char *buf, size_t size)
{
        size_t o = 0;
        int i;

        buf[0] = '\0';
        for (i = 0; names && names[i] && o < size; i++) {
                int n = snprintf(buf + o, size - o, "%s%s", i ? ", " : "",
                                 names[i]);
                if (n < 0)
                        return;
                o += (size_t)n;
        }
}

void ltrr_config_prop_range(const ltrr_config_prop_t *prop, char *buf,
                            size_t size)
{
        char lo[32], hi[32];

        switch (prop->type) {
        case LTRR_CONFIG_BOOL:
                snprintf(buf, size, "true, false");
                return;
        case LTRR_CONFIG_ENUM:
                fmt_enums(prop->enums, buf, size);
                return;
        case LTRR_CONFIG_STRING:
                if (prop->max > 0)
                        snprintf(buf, size, "length <= %.0f", prop->max);
                else
                        snprintf(buf, size, "any");
                return;
        case LTRR_CONFIG_DURATION:
        case LTRR_CONFIG_SIZE:
                fmt_scaled((int64_t)prop->min,
                           prop->type == LTRR_CONFIG_SIZE ? size_units
                                                          : duration_units,
                           lo, sizeof(lo));
                fmt_scaled((int64_t)prop->max,
                           prop->type == LTRR_CONFIG_SIZE ? size_units
                                                          : duration_units,
                           hi, sizeof(hi));
                snprintf(buf, size, "%s..%s", lo, hi);
                return;
        default:
                snprintf(buf, size, "%.15g..%.15g", prop->min, prop->max);
                return;
        }
}

/*
 * Parsing: text -> struct conf_value, then bounds.
 */

/* Parses a decimal integer at the start of @s; *end is what follows. */
static bool parse_i64(const char *s, int64_t *out, const char **end)
{
        char *e;
        long long v;

        if (!(isdigit((unsigned char)s[0]) ||
              ((s[0] == '-' || s[0] == '+') && isdigit((unsigned char)s[1]))))
                return false;
        errno = 0;
        v = strtoll(s, &e, 10);
        if (errno == ERANGE)
                return false;
        *out = v;
        *end = e;
        return true;
}

/* Parses "<integer><unit>" with a unit of @units; overflow fails. */
static bool parse_scaled(const char *s, const struct conf_unit *units,
                         bool unit_required, int64_t *out)
{
        const struct conf_unit *u;
        const char *end;
        int64_t v;

        if (!parse_i64(s, &v, &end))
                return false;
        if (*end == '\0' && (v == 0 || !unit_required)) {
                *out = v;
                return true;
        }
        for (u = units; u->name; u++) {
                if (strcmp(end, u->name) != 0)
                        continue;
                if (v > INT64_MAX / u->mult || v < INT64_MIN / u->mult)
                        return false;
                *out = v * u->mult;
                return true;
        }
        return false;
}

static bool parse_bool(const char *s, int64_t *out)
{
        static const char *const yes[] = {"true", "yes", "on", "1", NULL};
        static const char *const no[] = {"false", "no", "off", "0", NULL};
        int i;

        for (i = 0; yes[i]; i++) {
                if (!strcasecmp(s, yes[i])) {
                        *out = 1;
                        return true;
                }
                if (!strcasecmp(s, no[i])) {
                        *out = 0;
                        return true;
                }
        }
        return false;
}

static bool parse_enum(const char *const *names, const char *s, int64_t *out)
{
        int64_t i;

        for (i = 0; names && names[i]; i++) {
                if (!strcmp(names[i], s)) {
                        *out = i;
                        return true;
                }
        }
        return false;
}

static bool parse_double(const char *s, double *out)
{
        char *e;

        if (!*s || isspace((unsigned char)*s))
                return false;
        errno = 0;
        *out = strtod(s, &e);
        return *e == '\0' && errno != ERANGE && isfinite(*out);
}

/* Parses @text for @p's type; false if it is malformed. */
static bool conf_parse(const ltrr_config_prop_t *p, const char *text,
                       struct conf_value *v)
{
        const char *end;

        switch (p->type) {
        case LTRR_CONFIG_INT:
        case LTRR_CONFIG_INT64:
                return parse_i64(text, &v->i, &end) && *end == '\0';
        case LTRR_CONFIG_DOUBLE:
                return parse_double(text, &v->d);
        case LTRR_CONFIG_BOOL:
                return parse_bool(text, &v->i);
        case LTRR_CONFIG_ENUM:
                return parse_enum(p->enums, text, &v->i);
        case LTRR_CONFIG_DURATION:
                return parse_scaled(text, duration_units, true, &v->i);
        case LTRR_CONFIG_SIZE:
                return parse_scaled(text, size_units, false, &v->i);
        case LTRR_CONFIG_STRING:
                return true;
        }
        return false;
}

/* True if @v (from @text) is within the bounds of @p. */
static bool conf_in_range(const ltrr_config_prop_t *p, const char *text,
                          const struct conf_value *v)
{
        switch (p->type) {
        case LTRR_CONFIG_STRING:
                return p->max <= 0 || (double)strlen(text) <= p->max;
        case LTRR_CONFIG_BOOL:
        case LTRR_CONFIG_ENUM:
                return true;
        case LTRR_CONFIG_DOUBLE:
                return v->d >= p->min && v->d <= p->max;
        default:
                return (double)v->i >= p->min && (double)v->i <= p->max;
        }
}

/* Explains what a valid value of @p looks like, for error messages. */
static void conf_expect(const ltrr_config_prop_t *p, char *buf, size_t size)
{
        char range[256];

        ltrr_config_prop_range(p, range, sizeof(range));
        switch (p->type) {
        case LTRR_CONFIG_DURATION:
                snprintf(buf, size,
                         "a duration with a unit ms, s, m or h "
                         "in %s",
                         range);
                return;
        case LTRR_CONFIG_SIZE:
                snprintf(buf, size,
                         "a size in bytes, or with a unit k, M "
                         "or G, in %s",
                         range);
                return;
        case LTRR_CONFIG_ENUM:
        case LTRR_CONFIG_BOOL:
                snprintf(buf, size, "one of: %s", range);
                return;
        default:
                snprintf(buf, size, "%s %s in %s",
                         p->type == LTRR_CONFIG_INT ? "an" : "a",
                         ltrr_config_type2str(p->type), range);
                return;
        }
}

/* Writes @v into the field of @p; strings are copied. */
static ltrr_err_t conf_store(ltrr_config_t *conf, const ltrr_config_prop_t *p,
                             const char *text, const struct conf_value *v)
{
        char *field = (char *)conf->data + p->offset;
        char *s;

        switch (p->type) {
        case LTRR_CONFIG_INT:
        case LTRR_CONFIG_ENUM:
                *(int *)(void *)field = (int)v->i;
                break;
        case LTRR_CONFIG_BOOL:
                *(bool *)(void *)field = v->i != 0;
                break;
        case LTRR_CONFIG_DOUBLE:
                *(double *)(void *)field = v->d;
                break;
        case LTRR_CONFIG_STRING:
                if (!(s = strdup(text)))
                        return LTRR_ERR_NOMEM;
                free(*(char **)(void *)field);
                *(char **)(void *)field = s;
                break;
        default:
                *(int64_t *)(void *)field = v->i;
                break;
        }
        return LTRR_OK;
}

/*
 * Sets row @idx from @text, recording @src and @where. On error the value
 * is unchanged and errstr names the key, the value and @where.
 */
static ltrr_err_t conf_assign(ltrr_config_t *conf, size_t idx, const char *text,
                              ltrr_config_src_t src, const char *where,
                              char *errstr, size_t size)
{
        const ltrr_config_prop_t *p = ltrr_config_prop_at(conf->prog, idx);
        struct conf_value v = {0, 0};
        struct conf_slot *slot = &conf->slots[idx];
        char expect[320];

        bool malformed = !conf_parse(p, text, &v);

        if (malformed || !conf_in_range(p, text, &v)) {
                conf_expect(p, expect, sizeof(expect));
                return ltrr_errf(malformed ? LTRR_ERR_PARSE : LTRR_ERR_RANGE,
                                 errstr, size,
                                 "%s: %s value '%s' (%s): expected %s", p->name,
                                 malformed ? "invalid" : "out of range", text,
                                 where, expect);
        }
        if (conf_store(conf, p, text, &v) != LTRR_OK)
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, size,
                                 "%s: out of memory (%s)", p->name, where);
        slot->src = src;
        snprintf(slot->where, sizeof(slot->where), "%s", where);
        return LTRR_OK;
}

/* Sets a pass-through property and remembers its source. */
static ltrr_err_t conf_kafka_put(ltrr_config_t *conf, const char *key,
                                 const char *value, const char *where,
                                 char *errstr, size_t size)
{
        ltrr_err_t err;

        if (!*key)
                return ltrr_errf(LTRR_ERR_PARSE, errstr, size,
                                 "empty librdkafka property name (%s)", where);
        if ((err = ltrr_kvlist_set(&conf->kafka, key, value)) != LTRR_OK ||
            (err = ltrr_kvlist_set(&conf->kafka_where, key, where)) != LTRR_OK)
                return ltrr_errf(err, errstr, size,
                                 "librdkafka property '%s' (%s): %s", key,
                                 where, ltrr_err2str(err));
        return LTRR_OK;
}

/*
 * Object lifecycle.
 */

/* Checks @prog's table: unique names, enum names, override targets. */
static ltrr_err_t conf_check_table(const ltrr_config_t *conf, char *errstr,
                                   size_t size)
{
        const ltrr_config_default_t *d;
        size_t i;

        for (i = 0; i < conf->nprops; i++) {
                const ltrr_config_prop_t *p =
                    ltrr_config_prop_at(conf->prog, i);

                if (conf_find(conf, p->name) != (long)i)
                        return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, size,
                                         "config table '%s': key '%s' "
                                         "defined twice",
                                         conf->prog->name, p->name);
                if (p->type == LTRR_CONFIG_ENUM && !p->enums)
                        return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, size,
                                         "config table '%s': enum '%s' has "
                                         "no names",
                                         conf->prog->name, p->name);
        }
        for (d = conf->prog->defaults; d && d->name; d++) {
                long idx = conf_find(conf, d->name);

                if (idx < 0 || !ltrr_config_prop_is_common(ltrr_config_prop_at(
                                   conf->prog, (size_t)idx)))
                        return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, size,
                                         "config table '%s': default for "
                                         "unknown common key '%s'",
                                         conf->prog->name, d->name);
        }
        return LTRR_OK;
}

ltrr_config_t *ltrr_config_new(const ltrr_config_program_t *prog, char *errstr,
                               size_t errstr_size)
{
        ltrr_config_t *conf;
        size_t i;

        if (!prog) {
                ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                          "no program table");
                return NULL;
        }
        if (!(conf = calloc(1, sizeof(*conf))))
                goto nomem;
        conf->prog = prog;
        conf->nprops = ltrr_config_prop_cnt(prog);
        ltrr_kvlist_init(&conf->kafka);
        ltrr_kvlist_init(&conf->kafka_where);
        if (!(conf->data = calloc(1, prog->size)) ||
            !(conf->slots = calloc(conf->nprops, sizeof(*conf->slots))))
                goto nomem;
        if (conf_check_table(conf, errstr, errstr_size) != LTRR_OK)
                goto err;
        for (i = 0; i < conf->nprops; i++) {
                const ltrr_config_prop_t *p = ltrr_config_prop_at(prog, i);

                if (conf_assign(conf, i, ltrr_config_prop_default(prog, p),
                                LTRR_CONFIG_SRC_DEFAULT, "default", errstr,
                                errstr_size) != LTRR_OK)
                        goto err;
        }
        return conf;

nomem:
        ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "out of memory");
err:
        ltrr_config_destroy(conf);
        return NULL;
}

void ltrr_config_destroy(ltrr_config_t *conf)
{
        size_t i;

        if (!conf)
                return;
        for (i = 0; conf->data && i < conf->nprops; i++) {
                const ltrr_config_prop_t *p =
                    ltrr_config_prop_at(conf->prog, i);

                if (p->type == LTRR_CONFIG_STRING)
                        free(
                            *(char **)(void *)((char *)conf->data + p->offset));
        }
        ltrr_kvlist_clear(&conf->kafka);
        ltrr_kvlist_clear(&conf->kafka_where);
        free(conf->slots);
        free(conf->data);
        free(conf);
}

/*
 * Layer 2: the INI file.
 */

struct ini_ctx {
        ltrr_config_t *conf;
        const char *path; /* as given */
        const char *data; /* whole file */
        size_t len, pos;  /* bytes, read position */
        int line;         /* line last handed to inih */
        int errline;      /* line of the first error */
        ltrr_err_t err;   /* first error */
        char *errstr;
        size_t errstr_size;
};

/* fgets-like reader over the file in memory; counts lines. */
static char *conf_ini_read(char *str, int num, void *stream)
{
        struct ini_ctx *ctx = stream;
        const char *nl;
        size_t n;

        if (ctx->pos >= ctx->len || ctx->err)
                return NULL;
        nl = memchr(ctx->data + ctx->pos, '\n', ctx->len - ctx->pos);
        n = nl ? (size_t)(nl - (ctx->data + ctx->pos)) + 1
               : ctx->len - ctx->pos;
        ctx->line++;
        if (num < 2 || n > (size_t)num - 1) {
                ctx->err =
                    ltrr_errf(LTRR_ERR_PARSE, ctx->errstr, ctx->errstr_size,
                              "%s:%d: line longer than %d characters",
                              ctx->path, ctx->line, num - 2);
                ctx->errline = ctx->line;
                return NULL;
        }
        memcpy(str, ctx->data + ctx->pos, n);
        str[n] = '\0';
        ctx->pos += n;
        return str;
}

/* Applies one key of a program section or [ltrr]. */
static ltrr_err_t ini_apply(struct ini_ctx *ctx, const char *section,
                            const char *name, const char *value,
                            const char *where)
{
        ltrr_config_t *conf = ctx->conf;
        bool specific = strcmp(section, "ltrr") != 0;
        long idx = conf_find(conf, name);

        if (idx < 0 ||
            (!specific && !ltrr_config_prop_is_common(
                              ltrr_config_prop_at(conf->prog, (size_t)idx))))
                return ltrr_errf(
                    LTRR_ERR_UNKNOWN_KEY, ctx->errstr, ctx->errstr_size,
                    "unknown key '%s' in [%s] (%s)", name, section, where);
        /* [<program>] beats [ltrr] wherever they are in the file. */
        if (!specific && conf->slots[idx].specific)
                return LTRR_OK;
        conf->slots[idx].specific = specific;
        return conf_assign(conf, (size_t)idx, value, LTRR_CONFIG_SRC_FILE,
                           where, ctx->errstr, ctx->errstr_size);
}

static int conf_ini_handle(void *user, const char *section, const char *name,
                           const char *value)
{
        struct ini_ctx *ctx = user;
        char where[LTRR_CONFIG_WHERE_MAX];
        ltrr_err_t err;

        if (ctx->err)
                return 1; /* only the first error is reported */
        snprintf(where, sizeof(where), "%s:%d", ctx->path, ctx->line);
        if (!strcmp(section, "kafka"))
                err = conf_kafka_put(ctx->conf, name, value, where, ctx->errstr,
                                     ctx->errstr_size);
        else if (!strcmp(section, "ltrr") ||
                 !strcmp(section, ctx->conf->prog->name))
                err = ini_apply(ctx, section, name, value, where);
        else if (ltrr_config_program_find(section))
                err = LTRR_OK; /* another program's section */
        else
                err = ltrr_errf(LTRR_ERR_UNKNOWN_KEY, ctx->errstr,
                                ctx->errstr_size,
                                *section ? "unknown section [%s] (%s)"
                                         : "key outside a section%s (%s)",
                                section, where);
        if (err == LTRR_OK)
                return 1;
        ctx->err = err;
        ctx->errline = ctx->line;
        return 0;
}

/* Reads all of @path (at most LTRR_CONFIG_FILE_MAX bytes) into *out. */
static ltrr_err_t conf_read_file(const char *path, const char *why, char **out,
                                 size_t *len, char *errstr, size_t size)
{
        FILE *fp = fopen(path, "rb");
        ltrr_err_t err = LTRR_OK;
        char *buf = NULL;

        if (!fp)
                return ltrr_errf(LTRR_ERR_IO, errstr, size,
                                 "config file '%s' (%s): %s", path, why,
                                 strerror(errno));
        if (!(buf = malloc(LTRR_CONFIG_FILE_MAX + 1))) {
                err = ltrr_errf(LTRR_ERR_NOMEM, errstr, size, "out of memory");
                goto done;
        }
        *len = fread(buf, 1, LTRR_CONFIG_FILE_MAX + 1, fp);
        if (ferror(fp))
                err = ltrr_errf(LTRR_ERR_IO, errstr, size,
                                "config file '%s' (%s): read error", path, why);
        else if (*len > LTRR_CONFIG_FILE_MAX)
                err = ltrr_errf(LTRR_ERR_RANGE, errstr, size,
                                "config file '%s' (%s): larger than %d bytes",
                                path, why, LTRR_CONFIG_FILE_MAX);
done:
        fclose(fp);
        if (err != LTRR_OK) {
                free(buf);
                return err;
        }
        *out = buf;
        return LTRR_OK;
}

static ltrr_err_t conf_load_ini(ltrr_config_t *conf, const char *path,
                                const char *why, char *errstr, size_t size)
{
        struct ini_ctx ctx;
        char *data = NULL;
        size_t len = 0;
        ltrr_err_t err;
        int rc;

        if ((err = conf_read_file(path, why, &data, &len, errstr, size)))
                return err;
        memset(&ctx, 0, sizeof(ctx));
        ctx.conf = conf;
        ctx.path = path;
        ctx.data = data;
        ctx.len = len;
        ctx.errstr = errstr;
        ctx.errstr_size = size;
        rc = ini_parse_stream(conf_ini_read, &ctx, conf_ini_handle, &ctx);
        free(data);
        /* inih reports the first bad line: a syntax error may precede. */
        if (rc > 0 && (!ctx.err || rc < ctx.errline))
                return ltrr_errf(LTRR_ERR_PARSE, errstr, size,
                                 "%s:%d: syntax error (expected [section] "
                                 "or key = value)",
                                 path, rc);
        if (ctx.err)
                return ctx.err;
        if (rc < 0)
                return ltrr_errf(LTRR_ERR_NOMEM, errstr, size,
                                 "%s: out of memory", path);
        return LTRR_OK;
}

/*
 * Layer 3: the environment.
 */

/* Value of @name in @envp, or NULL. */
static const char *env_get(char *const *envp, const char *name)
{
        size_t n = strlen(name);

        for (; *envp; envp++)
                if (!strncmp(*envp, name, n) && (*envp)[n] == '=')
                        return *envp + n + 1;
        return NULL;
}

/* LTRR_KAFKA_X_QUEUE_BUFFERING_MAX_MS=5 -> queue.buffering.max.ms=5 */
static ltrr_err_t env_kafka(ltrr_config_t *conf, const char *entry,
                            char *errstr, size_t size)
{
        const char *name = entry + strlen(CONF_ENV_KAFKA);
        const char *eq = strchr(entry, '=');
        char prop[CONF_NAME_MAX], where[LTRR_CONFIG_WHERE_MAX];
        size_t i, n = (size_t)(eq - name);

        if (n >= sizeof(prop))
                return ltrr_errf(LTRR_ERR_PARSE, errstr, size,
                                 "env %.*s: name too long", (int)(eq - entry),
                                 entry);
        for (i = 0; i < n; i++)
                prop[i] = name[i] == '_'
                              ? '.'
                              : (char)tolower((unsigned char)name[i]);
        prop[n] = '\0';
        snprintf(where, sizeof(where), "env %.*s", (int)(eq - entry), entry);
        return conf_kafka_put(conf, prop, eq + 1, where, errstr, size);
}

static ltrr_err_t conf_load_env(ltrr_config_t *conf, char *const *envp,
                                char *errstr, size_t size)
{
        char name[CONF_NAME_MAX], where[LTRR_CONFIG_WHERE_MAX];
        ltrr_err_t err;
        const char *v;
        size_t i;

        for (i = 0; i < conf->nprops; i++) {
                ltrr_config_env_name(ltrr_config_prop_at(conf->prog, i)->name,
                                     name, sizeof(name));
                if (!(v = env_get(envp, name)))
                        continue;
                snprintf(where, sizeof(where), "env %s", name);
                if ((err = conf_assign(conf, i, v, LTRR_CONFIG_SRC_ENV, where,
                                       errstr, size)) != LTRR_OK)
                        return err;
        }
        for (; *envp; envp++) {
                if (strncmp(*envp, CONF_ENV_KAFKA, strlen(CONF_ENV_KAFKA)) ||
                    !strchr(*envp, '='))
                        continue;
                if ((err = env_kafka(conf, *envp, errstr, size)) != LTRR_OK)
                        return err;
        }
        return LTRR_OK;
}

/*
 * Layer 4: command-line flags. The arguments are walked twice with the
 * same rules: first for --help, --config and --dump-config (before any
 * file is read), then to apply keys and -X on top of the other layers.
 */

struct walk {
        ltrr_config_t *conf;
        int argc;
        char *const *argv;
        int i;                   /* current argument */
        bool apply;              /* second pass */
        const char *config_path; /* --config, last wins */
        char *errstr;
        size_t errstr_size;
};

/* Value of the current flag: after '=' or the next argument. */
static ltrr_err_t walk_value(struct walk *w, const char *eq, const char *flag,
                             const char **value)
{
        if (eq) {
                *value = eq + 1;
                return LTRR_OK;
        }
        if (w->i + 1 >= w->argc)
                return ltrr_errf(LTRR_ERR_PARSE, w->errstr, w->errstr_size,
                                 "flag %s needs a value", flag);
        *value = w->argv[++w->i];
        return LTRR_OK;
}

/* -X prop=value or -Xprop=value. */
static ltrr_err_t walk_x(struct walk *w, const char *arg)
{
        const char *kv = arg + 2, *eq;
        char key[CONF_NAME_MAX];
        ltrr_err_t err;

        if (!*kv && (err = walk_value(w, NULL, "-X", &kv)) != LTRR_OK)
                return err;
        if (!(eq = strchr(kv, '=')) || eq == kv ||
            (size_t)(eq - kv) >= sizeof(key))
                return ltrr_errf(LTRR_ERR_PARSE, w->errstr, w->errstr_size,
                                 "flag -X '%s': expected prop=value", kv);
        if (!w->apply)
                return LTRR_OK;
        memcpy(key, kv, (size_t)(eq - kv));
        key[eq - kv] = '\0';
        return conf_kafka_put(w->conf, key, eq + 1, "flag -X", w->errstr,
                              w->errstr_size);
}

/* --key=value, --key value, --bool-key, --config PATH. */
static ltrr_err_t walk_long(struct walk *w, const char *arg)
{
        const char *body = arg + 2, *eq = strchr(body, '='), *value = NULL;
        char name[CONF_NAME_MAX], flag[LTRR_CONFIG_WHERE_MAX];
        char where[LTRR_CONFIG_WHERE_MAX + 8];
        size_t i, n = eq ? (size_t)(eq - body) : strlen(body);
        ltrr_err_t err;
        long idx;

        snprintf(flag, sizeof(flag), "--%.*s", (int)n, body);
        if (n >= sizeof(name))
                return ltrr_errf(LTRR_ERR_UNKNOWN_KEY, w->errstr,
                                 w->errstr_size, "unknown flag %s", flag);
        for (i = 0; i < n; i++)
                name[i] = body[i] == '-' ? '.' : body[i];
        name[n] = '\0';
        if (!strcmp(name, "config")) {
                if ((err = walk_value(w, eq, flag, &value)) == LTRR_OK)
                        w->config_path = value;
                return err;
        }
        if ((idx = conf_find(w->conf, name)) < 0)
                return ltrr_errf(LTRR_ERR_UNKNOWN_KEY, w->errstr,
                                 w->errstr_size, "unknown flag %s", flag);
        if (!eq && ltrr_config_prop_at(w->conf->prog, (size_t)idx)->type ==
                       LTRR_CONFIG_BOOL)
                value = "true";
        else if ((err = walk_value(w, eq, flag, &value)) != LTRR_OK)
                return err;
        if (!w->apply)
                return LTRR_OK;
        snprintf(where, sizeof(where), "flag %s", flag);
        return conf_assign(w->conf, (size_t)idx, value, LTRR_CONFIG_SRC_FLAG,
                           where, w->errstr, w->errstr_size);
}

static ltrr_err_t walk_args(struct walk *w)
{
        ltrr_err_t err;

        for (w->i = 1; w->i < w->argc; w->i++) {
                const char *arg = w->argv[w->i];

                err = LTRR_OK;
                if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
                        w->conf->mode = LTRR_CONFIG_MODE_HELP;
                        return LTRR_OK;
                }
                if (!strcmp(arg, "--dump-config"))
                        w->conf->mode = LTRR_CONFIG_MODE_DUMP;
                else if (!strncmp(arg, "-X", 2))
                        err = walk_x(w, arg);
                else if (!strncmp(arg, "--", 2) && arg[2])
                        err = walk_long(w, arg);
                else
                        err =
                            ltrr_errf(LTRR_ERR_PARSE, w->errstr, w->errstr_size,
                                      "unexpected argument '%s'", arg);
                if (err != LTRR_OK)
                        return err;
        }
        return LTRR_OK;
}

ltrr_err_t ltrr_config_load(ltrr_config_t *conf, int argc, char *const *argv,
                            char *const *envp, char *errstr, size_t errstr_size)
{
        struct walk w = {conf, argc, argv, 0, false, NULL, errstr, errstr_size};
        const char *path, *why = "flag --config";
        ltrr_err_t err;

        if (conf->loaded)
                return ltrr_errf(LTRR_ERR_STATE, errstr, errstr_size,
                                 "config already loaded");
        conf->loaded = true;
        if (!envp)
                envp = environ;
        if ((err = walk_args(&w)) != LTRR_OK ||
            conf->mode == LTRR_CONFIG_MODE_HELP)
                return err;
        if (!(path = w.config_path)) {
                path = env_get(envp, "LTRR_CONFIG");
                why = "env LTRR_CONFIG";
        }
        if (path && *path &&
            (err = conf_load_ini(conf, path, why, errstr, errstr_size)))
                return err;
        if ((err = conf_load_env(conf, envp, errstr, errstr_size)))
                return err;
        w.apply = true;
        return walk_args(&w);
}

ltrr_err_t ltrr_config_set(ltrr_config_t *conf, const char *name,
                           const char *value, char *errstr, size_t errstr_size)
{
        long idx = conf_find(conf, name);

        if (idx < 0)
                return ltrr_errf(LTRR_ERR_UNKNOWN_KEY, errstr, errstr_size,
                                 "unknown key '%s'", name);
        return conf_assign(conf, (size_t)idx, value, LTRR_CONFIG_SRC_API, "api",
                           errstr, errstr_size);
}

/*
 * Accessors.
 */

ltrr_config_mode_t ltrr_config_mode(const ltrr_config_t *conf)
{
        return conf->mode;
}

const ltrr_config_program_t *ltrr_config_program(const ltrr_config_t *conf)
{
        return conf->prog;
}

const void *ltrr_config_struct(const ltrr_config_t *conf)
{
        return conf->data;
}

const ltrr_config_common_t *ltrr_config_common(const ltrr_config_t *conf)
{
        return conf->data;
}

const ltrr_kvlist_t *ltrr_config_kafka(const ltrr_config_t *conf)
{
        return &conf->kafka;
}

const char *ltrr_config_kafka_where(const ltrr_config_t *conf, const char *prop)
{
        return ltrr_kvlist_get(&conf->kafka_where, prop);
}

ltrr_err_t ltrr_config_value_str(const ltrr_config_t *conf, const char *name,
                                 char *buf, size_t size)
{
        long idx = conf_find(conf, name);
        const ltrr_config_prop_t *p;
        const char *field;

        if (idx < 0)
                return LTRR_ERR_UNKNOWN_KEY;
        p = ltrr_config_prop_at(conf->prog, (size_t)idx);
        field = (const char *)conf->data + p->offset;
        switch (p->type) {
        case LTRR_CONFIG_INT:
                snprintf(buf, size, "%d", *(const int *)(const void *)field);
                break;
        case LTRR_CONFIG_ENUM:
                snprintf(buf, size, "%s",
                         p->enums[*(const int *)(const void *)field]);
                break;
        case LTRR_CONFIG_BOOL:
                snprintf(buf, size, "%s",
                         *(const bool *)(const void *)field ? "true" : "false");
                break;
        case LTRR_CONFIG_DOUBLE:
                snprintf(buf, size, "%.17g",
                         *(const double *)(const void *)field);
                break;
        case LTRR_CONFIG_STRING:
                snprintf(buf, size, "%s", *(char *const *)(const void *)field);
                break;
        case LTRR_CONFIG_INT64:
                snprintf(buf, size, "%lld",
                         (long long)*(const int64_t *)(const void *)field);
                break;
        default:
                fmt_scaled(*(const int64_t *)(const void *)field,
                           p->type == LTRR_CONFIG_SIZE ? size_units
                                                       : duration_units,
                           buf, size);
                break;
        }
        return LTRR_OK;
}

ltrr_config_src_t ltrr_config_source(const ltrr_config_t *conf,
                                     const char *name, const char **where)
{
        long idx = conf_find(conf, name);

        if (idx < 0) {
                if (where)
                        *where = "unknown";
                return LTRR_CONFIG_SRC_DEFAULT;
        }
        if (where)
                *where = conf->slots[idx].where;
        return conf->slots[idx].src;
}
