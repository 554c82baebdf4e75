/*
 * ltrr - configuration: --help, --dump-config and docs/CONFIG.md, all
 * rendered from the same tables into allocated strings.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growing string, bounded by LTRR_CONFIG_RENDER_MAX. */
struct sbuf {
        char *buf;  /* NUL-terminated */
        size_t len; /* bytes used, NUL excluded */
        size_t cap; /* bytes allocated */
        bool fail;  /* an append failed: the result is NULL */
};

/* Makes room for @need more bytes plus the NUL. */
static bool sb_reserve(struct sbuf *sb, size_t need)
{
        size_t ncap;
        char *nbuf;

        if (sb->fail)
                return false;
        if (sb->len + need + 1 <= sb->cap)
                return true;
        ncap = sb->cap ? sb->cap : 4096;
        while (ncap < sb->len + need + 1)
                ncap *= 2;
        if (ncap > LTRR_CONFIG_RENDER_MAX || !(nbuf = realloc(sb->buf, ncap))) {
                sb->fail = true;
                return false;
        }
        sb->buf = nbuf;
        sb->cap = ncap;
        return true;
}

static void sb_printf(struct sbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *sb, const char *fmt, ...)
{
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0 || !sb_reserve(sb, (size_t)n)) {
                sb->fail = true;
                return;
        }
        va_start(ap, fmt);
        vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
        va_end(ap);
        sb->len += (size_t)n;
}

/* Returns the string, or NULL (and frees it) if an append failed. */
static char *sb_finish(struct sbuf *sb)
{
        if (sb->fail || !sb_reserve(sb, 0)) {
                free(sb->buf);
                return NULL;
        }
        sb->buf[sb->len] = '\0';
        return sb->buf;
}

/*
 * --help
 */

static const char *help_metavar(const ltrr_config_prop_t *p)
{
        switch (p->type) {
        case LTRR_CONFIG_BOOL:
                return "[=BOOL]";
        case LTRR_CONFIG_DURATION:
                return "=DURATION";
        case LTRR_CONFIG_SIZE:
                return "=SIZE";
        case LTRR_CONFIG_DOUBLE:
                return "=NUM";
        case LTRR_CONFIG_STRING:
                return "=STR";
        case LTRR_CONFIG_ENUM:
                return "=NAME";
        default:
                return "=INT";
        }
}

static void help_row(struct sbuf *sb, const ltrr_config_program_t *prog,
                     const ltrr_config_prop_t *p)
{
        char range[256], env[128], flag[160];

        ltrr_config_prop_range(p, range, sizeof(range));
        ltrr_config_env_name(p->name, env, sizeof(env));
        snprintf(flag, sizeof(flag), "--%s%s", p->name, help_metavar(p));
        sb_printf(sb, "  %-30s %s\n", flag, p->desc);
        sb_printf(sb, "  %-30s default: \"%s\"; range: %s; env: %s\n", "",
                  ltrr_config_prop_default(prog, p), range, env);
}

char *ltrr_config_help(const ltrr_config_program_t *prog)
{
        struct sbuf sb = {NULL, 0, 0, false};
        size_t i, n = ltrr_config_prop_cnt(prog);

        sb_printf(&sb,
                  "Usage: ltrr-%s [--config PATH] [--KEY=VALUE ...] "
                  "[-X PROP=VALUE ...] [--dump-config] [--help]\n\n%s\n\n",
                  prog->name, prog->desc);
        sb_printf(&sb,
                  "Layers, later wins: defaults, the INI file (--config "
                  "PATH or env LTRR_CONFIG; sections [ltrr] and [%s]),\n"
                  "environment LTRR_<KEY>, flags. -X PROP=VALUE, INI "
                  "[kafka] and env LTRR_KAFKA_X_<PROP>\n"
                  "pass librdkafka properties through.\n\n",
                  prog->name);
        sb_printf(&sb, "Common keys:\n");
        for (i = 0; i < n; i++) {
                const ltrr_config_prop_t *p = ltrr_config_prop_at(prog, i);

                if (i > 0 &&
                    ltrr_config_prop_is_common(
                        ltrr_config_prop_at(prog, i - 1)) &&
                    !ltrr_config_prop_is_common(p))
                        sb_printf(&sb, "\nltrr-%s keys:\n", prog->name);
                help_row(&sb, prog, p);
        }
        sb_printf(&sb, "\n  %-30s %s\n  %-30s %s\n  %-30s %s\n  %-30s %s\n",
                  "--config=PATH", "INI file to read", "-X PROP=VALUE",
                  "librdkafka property", "--dump-config",
                  "print the effective config and exit", "--help",
                  "print this help and exit");
        return sb_finish(&sb);
}

/*
 * --dump-config
 */

static bool dump_secret(const char *key)
{
        return strstr(key, "password") || strstr(key, "secret") ||
               strstr(key, "token") || strstr(key, "api.key");
}

static void dump_rows(struct sbuf *sb, const ltrr_config_t *conf, bool common)
{
        const ltrr_config_program_t *prog = ltrr_config_program(conf);
        size_t i, n = ltrr_config_prop_cnt(prog);
        char value[1100];
        const char *where;

        for (i = 0; i < n; i++) {
                const ltrr_config_prop_t *p = ltrr_config_prop_at(prog, i);

                if (ltrr_config_prop_is_common(p) != common)
                        continue;
                ltrr_config_value_str(conf, p->name, value, sizeof(value));
                ltrr_config_source(conf, p->name, &where);
                sb_printf(sb, "%s = %s ; %s\n", p->name,
                          dump_secret(p->name) && *value ? "[redacted]" : value,
                          where);
        }
}

char *ltrr_config_dump(const ltrr_config_t *conf)
{
        const ltrr_config_program_t *prog = ltrr_config_program(conf);
        const ltrr_kvlist_t *kafka = ltrr_config_kafka(conf);
        struct sbuf sb = {NULL, 0, 0, false};
        size_t i;

        sb_printf(&sb, "; effective configuration of ltrr-%s\n", prog->name);
        sb_printf(&sb, "; key = value ; source\n[ltrr]\n");
        dump_rows(&sb, conf, true);
        sb_printf(&sb, "\n[%s]\n", prog->name);
        dump_rows(&sb, conf, false);
        sb_printf(&sb, "\n[kafka]\n");
        for (i = 0; i < kafka->cnt; i++)
                sb_printf(&sb, "%s = %s ; %s\n", kafka->kvs[i].key,
                          dump_secret(kafka->kvs[i].key) ? "[redacted]"
                                                         : kafka->kvs[i].value,
                          ltrr_config_kafka_where(conf, kafka->kvs[i].key));
        return sb_finish(&sb);
}

/*
 * docs/CONFIG.md
 */

static const char doc_intro[] =
    "# Configuration\n"
    "\n"
    "This file is generated by `ltrr-config-doc` from the config tables "
    "in\n`online/config_tables.c`; do not edit it by hand "
    "(`tests/integration/config_doc.sh`\nfails when it is stale).\n"
    "\n"
    "## Layers\n"
    "\n"
    "Each key is set by the last of these layers that names it:\n"
    "\n"
    "1. the default in the tables below;\n"
    "2. one INI file, from `--config PATH` or else the environment "
    "variable\n   `LTRR_CONFIG`;\n"
    "3. the environment: `LTRR_<KEY>`, the key upper-cased with dots "
    "as\n   underscores (`http.port` -> `LTRR_HTTP_PORT`); a program's "
    "own key has\n   the same variable in every program that has the "
    "key (`LTRR_PARTITIONS`);\n"
    "4. command-line flags: `--key=value` or `--key value`; a hyphen "
    "reads as a\n   dot (`--bootstrap-file` is `--bootstrap.file`); a "
    "bool key alone\n   (`--metrics.enabled`) means true.\n"
    "\n"
    "`--dump-config` prints the effective configuration, each value "
    "with its\nsource, and exits; `--help` lists every key with its "
    "default and exits.\n"
    "\n"
    "## One INI file for every program\n"
    "\n"
    "- `[ltrr]` holds common keys; an own key there is an error.\n"
    "- `[<program>]` (`[serve]`, `[broker]`, ...) holds that program's "
    "keys and\n  may override common keys (`http.port`); it wins over "
    "`[ltrr]` wherever\n  it is in the file.\n"
    "- `[kafka]` holds librdkafka properties, passed through "
    "untouched.\n"
    "- Sections of other programs are ignored; any other section is an "
    "error.\n"
    "\n"
    "## librdkafka pass-through\n"
    "\n"
    "librdkafka properties are not checked here; the Kafka adapter "
    "hands them to\n`rd_kafka_conf_set()`, which rejects unknown ones. "
    "Later wins: INI `[kafka]`,\nthen environment "
    "`LTRR_KAFKA_X_<PROP>` (the property upper-cased with dots\nas "
    "underscores: `LTRR_KAFKA_X_LINGER_MS=5` is `linger.ms=5`), then "
    "`-X prop=value`.\n"
    "\n"
    "## Values and errors\n"
    "\n"
    "- bool: `true`/`false`, `yes`/`no`, `on`/`off`, `1`/`0`.\n"
    "- duration: an integer with a unit `ms`, `s`, `m` or `h` (`0` "
    "needs none).\n"
    "- size: bytes, or an integer with a unit `k`, `M` or `G` (powers "
    "of 1024).\n"
    "- string: the range bounds its length in bytes.\n"
    "\n"
    "Errors stop the program, never warn: an unknown key in `[ltrr]`, "
    "the\nprogram's section or a flag, a malformed value or one out of "
    "range. The\nmessage names the key, the value and the source "
    "(`config.ini:12`,\n`env LTRR_HTTP_PORT`, `flag --http.port`). "
    "Unknown `LTRR_*` environment\nvariables are ignored, because the "
    "environment is shared by every program.\nINI lines are limited to "
    "198 characters and the file to 1 MiB.\n";

/* Writes @s with '|' escaped, for a markdown table cell. */
static void doc_cell(struct sbuf *sb, const char *s)
{
        for (; *s; s++)
                sb_printf(sb, "%s", *s == '|' ? "\\|" : (char[2]){*s, 0});
}

static void doc_row(struct sbuf *sb, const ltrr_config_prop_t *p,
                    const char *defval)
{
        char range[256], env[128];

        ltrr_config_prop_range(p, range, sizeof(range));
        ltrr_config_env_name(p->name, env, sizeof(env));
        sb_printf(sb, "| `%s` | %s | %s%s%s | ", p->name,
                  ltrr_config_type2str(p->type), *defval ? "`" : "",
                  *defval ? defval : "(empty)", *defval ? "`" : "");
        doc_cell(sb, range);
        sb_printf(sb, " | `%s` | ", env);
        doc_cell(sb, p->desc);
        sb_printf(sb, " |\n");
}

static const char doc_head[] =
    "| key | type | default | range | env | description |\n"
    "|---|---|---|---|---|---|\n";

/* Own rows of @prog, plus common rows whose default it changes. */
static void doc_program(struct sbuf *sb, const ltrr_config_program_t *prog)
{
        size_t i, n = ltrr_config_prop_cnt(prog);

        sb_printf(sb, "\n## ltrr-%s\n\n%s INI section `[%s]`.\n\n%s",
                  prog->name, prog->desc, prog->name, doc_head);
        for (i = 0; i < n; i++) {
                const ltrr_config_prop_t *p = ltrr_config_prop_at(prog, i);

                const char *defval = ltrr_config_prop_default(prog, p);

                if (!ltrr_config_prop_is_common(p) || strcmp(defval, p->defval))
                        doc_row(sb, p, defval);
        }
}

char *ltrr_config_doc(void)
{
        struct sbuf sb = {NULL, 0, 0, false};
        const ltrr_config_prop_t *p;
        size_t i;

        sb_printf(&sb,
                  "%s\n## Common keys\n\nEvery daemon has these; "
                  "INI section `[ltrr]`. A program's table\nbelow lists a "
                  "common key again when it changes its default.\n\n%s",
                  doc_intro, doc_head);
        for (p = ltrr_config_common_props; p->name; p++)
                doc_row(&sb, p, p->defval);
        for (i = 0; ltrr_config_programs[i]; i++)
                doc_program(&sb, ltrr_config_programs[i]);
        return sb_finish(&sb);
}
