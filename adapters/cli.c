/*
 * ltrr - loading a program's config from its command line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"

/* Prints @text (owned, freed here) to @fp; out of memory is reported. */
static int cli_print(FILE *fp, char *text, const char *prog)
{
        if (!text) {
                fprintf(stderr, "ltrr-%s: out of memory\n", prog);
                return 1;
        }
        fputs(text, fp);
        free(text);
        return 0;
}

int ltrr_cli_wants_help(int argc, char **argv)
{
        int i;

        for (i = 1; i < argc; i++)
                if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
                        return 1;
        return 0;
}

ltrr_config_t *ltrr_cli_config_load(const char *name, const char *usage,
                                    int argc, char **argv, int *exit_code)
{
        const ltrr_config_program_t *prog = ltrr_config_program_find(name);
        ltrr_config_t *conf = NULL;
        char errstr[512];

        *exit_code = 2;
        if (!prog) {
                fprintf(stderr, "ltrr-%s: no config table\n", name);
                return NULL;
        }
        if (!(conf = ltrr_config_new(prog, errstr, sizeof(errstr))) ||
            ltrr_config_load(conf, argc, argv, NULL, errstr,
                             sizeof(errstr))) {
                fprintf(stderr, "ltrr-%s: %s (try --help)\n", name, errstr);
                goto err;
        }
        switch (ltrr_config_mode(conf)) {
        case LTRR_CONFIG_MODE_HELP:
                if (usage)
                        fputs(usage, stdout);
                *exit_code = cli_print(stdout, ltrr_config_help(prog), name);
                goto err;
        case LTRR_CONFIG_MODE_DUMP:
                *exit_code = cli_print(stdout, ltrr_config_dump(conf), name);
                goto err;
        case LTRR_CONFIG_MODE_RUN:
                break;
        }
        ltrr_log_set_level((ltrr_log_level_t)ltrr_config_common(conf)->log_level);
        *exit_code = 0;
        return conf;
err:
        ltrr_config_destroy(conf);
        return NULL;
}
