/*
 * Fuzz target: the config loader (online/config.c): INI file, environment
 * and command-line flags, then the dump of the effective config.
 *
 * Input layout, split at the first two NUL bytes:
 *
 *   sel | INI file body \0 environment \0 flags
 *
 * The first byte picks the program table. The environment and the flags
 * are one entry per line. The INI body goes to a memory file, passed as
 * the last `--config` so that no input can point the loader at another
 * file. The loader must succeed or fail with a terminated reason; on
 * success every key must print and the dump must render.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

/** Largest input looked at; longer inputs are ignored. */
#define FUZZ_INPUT_MAX (64 * 1024)
/** Most environment entries and flags taken from one input. */
#define FUZZ_LIST_MAX 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_fd = -1; /* memory file holding the INI body */

/* Replaces the memory file's content with @len bytes of @p. */
static int fuzz_file_set(const uint8_t *p, size_t len)
{
        if (fuzz_fd < 0 && (fuzz_fd = memfd_create("fuzz_config", 0)) < 0) {
                perror("fuzz_config_ini: memfd_create");
                abort();
        }
        if (ftruncate(fuzz_fd, 0) ||
            (len && pwrite(fuzz_fd, p, len, 0) != (ssize_t)len))
                return -1;
        return 0;
}

/* Splits @s (NUL-terminated) at newlines into @out, at most @cap entries
 * plus a NULL; returns the count. Empty lines are dropped. */
static int fuzz_split(char *s, char **out, int cap)
{
        int n = 0;
        char *nl;

        while (s && *s && n < cap) {
                if ((nl = strchr(s, '\n')))
                        *nl++ = '\0';
                if (*s)
                        out[n++] = s;
                s = nl;
        }
        out[n] = NULL;
        return n;
}

/* Counts the programs of ltrr_config_programs[]. */
static size_t fuzz_prog_cnt(void)
{
        size_t n = 0;

        while (ltrr_config_programs[n])
                n++;
        return n;
}

/* On success, every key has a value text and the dump renders. */
static void fuzz_check(const ltrr_config_t *conf)
{
        const ltrr_config_program_t *prog = ltrr_config_program(conf);
        const ltrr_config_prop_t *prop;
        char val[4096];
        const char *where;
        char *dump;
        size_t i;

        for (i = 0; (prop = ltrr_config_prop_at(prog, i)); i++) {
                if (ltrr_config_value_str(conf, prop->name, val, sizeof(val)) !=
                    LTRR_OK)
                        __builtin_trap();
                ltrr_config_source(conf, prop->name, &where);
                if (!where || !memchr(val, '\0', sizeof(val)))
                        __builtin_trap();
        }
        if (!(dump = ltrr_config_dump(conf)))
                __builtin_trap();
        free(dump);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *env[FUZZ_LIST_MAX + 1], *argv[FUZZ_LIST_MAX + 4];
        char path[64], errstr[512], *text = NULL, *envs, *flags;
        const uint8_t *ini, *end;
        ltrr_config_t *conf = NULL;
        size_t ini_len;
        int argc;

        if (size < 1 || size > FUZZ_INPUT_MAX)
                return 0;
        ini = data + 1;
        end = memchr(ini, '\0', size - 1);
        ini_len = end ? (size_t)(end - ini) : size - 1;
        if (fuzz_file_set(ini, ini_len))
                return 0;
        /* The rest, NUL-terminated: environment, then flags. */
        if (!(text = calloc(1, size + 1)))
                return 0;
        if (end)
                memcpy(text, end + 1, (size_t)(data + size - end - 1));
        envs = text;
        flags = memchr(text, '\0', size);
        flags = flags && flags < text + size ? flags + 1 : NULL;
        fuzz_split(envs, env, FUZZ_LIST_MAX);
        argv[0] = (char *)"ltrr-fuzz";
        argc = 1 + fuzz_split(flags, argv + 1, FUZZ_LIST_MAX);
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fuzz_fd);
        argv[argc++] = (char *)"--config";
        argv[argc++] = path;
        argv[argc] = NULL;
        conf = ltrr_config_new(ltrr_config_programs[data[0] % fuzz_prog_cnt()],
                               errstr, sizeof(errstr));
        if (!conf)
                __builtin_trap(); /* the static tables are valid */
        if (ltrr_config_load(conf, argc, argv, env, errstr, sizeof(errstr)) ==
            LTRR_OK)
                fuzz_check(conf);
        else if (!memchr(errstr, '\0', sizeof(errstr)))
                __builtin_trap();
        ltrr_config_destroy(conf);
        free(text);
        return 0;
}
