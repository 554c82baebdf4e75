/*
 * ltrr - the command-line edge of a program: loads its config through the
 * config system, prints --help and --dump-config, reports bad settings.
 */
#ifndef LTRR_CLI_H
#define LTRR_CLI_H

#include "config.h"

/**
 * @brief Loads the config of program @p name (a row of the config
 * registry) from the INI file, the environment and @p argv, and applies
 * its log level.
 *
 * @p usage is printed before the option list on --help (may be NULL).
 *
 * @returns the config to run with (free with ltrr_config_destroy()), or
 *          NULL when the program should exit with *exit_code: 0 after
 *          --help or --dump-config, 2 after a bad setting (the reason,
 *          naming key, value and source, is already on stderr).
 */
ltrr_config_t *ltrr_cli_config_load(const char *name, const char *usage,
                                    int argc, char **argv, int *exit_code);

/**
 * @brief Returns 1 if @p argv asks for help (`--help` or `-h` anywhere),
 * for tools that parse their own arguments.
 */
int ltrr_cli_wants_help(int argc, char **argv);

#endif /* LTRR_CLI_H */
