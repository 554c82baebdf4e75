/*
 * ltrr - logfmt logging on stderr.
 *
 * One line per event, written with a single write(2) so lines from
 * several threads never interleave:
 *
 *   ts=2026-11-24T10:00:00.123Z level=info component=serve msg="listening" port=8080
 *
 * Values are strings given as key, value pairs ending in NULL; the macros
 * add the NULL. Values of keys that look like secrets (password, secret,
 * token, api_key, sasl.*) are written as "[redacted]".
 */
#ifndef LTRR_LOG_H
#define LTRR_LOG_H

#include <stdio.h>

typedef enum {
        LTRR_LOG_DEBUG = 0,
        LTRR_LOG_INFO = 1,
        LTRR_LOG_WARN = 2,
        LTRR_LOG_ERROR = 3
} ltrr_log_level_t;

/** Longest line written; longer lines end with truncated=true. */
#define LTRR_LOG_LINE_MAX 4096

/** @brief Sets the minimum level written (default info). Not thread-safe:
 *  call before starting threads. */
void ltrr_log_set_level(ltrr_log_level_t level);

/** @brief Parses "debug", "info", "warn" or "error"; -1 if unknown. */
int ltrr_log_level_parse(const char *name);

/** @brief Sends lines to @p fd instead of stderr (tests). */
void ltrr_log_set_fd(int fd);

/** @brief Writes one line: key/value string pairs, terminated by NULL. */
void ltrr_log_write(ltrr_log_level_t level, const char *component,
                    const char *msg, ...);

/** @brief Formats @p v as a decimal string in a caller buffer. */
const char *ltrr_log_i64(char *buf, size_t size, long long v);

#define log_debug(...) ltrr_log_write(LTRR_LOG_DEBUG, __VA_ARGS__, (char *)NULL)
#define log_info(...)  ltrr_log_write(LTRR_LOG_INFO, __VA_ARGS__, (char *)NULL)
#define log_warn(...)  ltrr_log_write(LTRR_LOG_WARN, __VA_ARGS__, (char *)NULL)
#define log_error(...) ltrr_log_write(LTRR_LOG_ERROR, __VA_ARGS__, (char *)NULL)

#endif /* LTRR_LOG_H */
