/*
 * ltrr-config-doc: prints docs/CONFIG.md, rendered from the config tables
 * of every program, to stdout.
 *
 *   ltrr-config-doc > docs/CONFIG.md
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "config.h"
#include "log.h"

int main(int argc, char **argv)
{
        char *doc;
        int rc = 0;

        if (argc > 1) {
                int help = ltrr_cli_wants_help(argc, argv);

                fprintf(help ? stdout : stderr,
                        "usage: ltrr-config-doc > docs/CONFIG.md\n"
                        "Prints the configuration reference of every "
                        "program (markdown). No options.\n");
                return help ? 0 : 2;
        }
        if (!(doc = ltrr_config_doc())) {
                log_error("config-doc", "render failed", "err",
                          ltrr_err2str(LTRR_ERR_NOMEM));
                return 1;
        }
        if (fputs(doc, stdout) == EOF || fflush(stdout) == EOF) {
                log_error("config-doc", "write failed");
                rc = 1;
        }
        free(doc);
        return rc;
}
