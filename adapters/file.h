/*
 * ltrr - reading whole files for the command-line tools.
 */
#ifndef LTRR_FILE_H
#define LTRR_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/**
 * @brief Reads the whole file at @p path into a new buffer.
 *
 * The buffer holds *@p len bytes plus a NUL one past the end, so text
 * files can be parsed as strings; the caller frees it.
 * @param max  largest file accepted
 * @returns LTRR_OK, LTRR_ERR_IO (cannot open or read; the errstr names the
 *          path and the reason), LTRR_ERR_RANGE (larger than @p max) or
 *          LTRR_ERR_NOMEM. On error *@p buf is NULL.
 */
ltrr_err_t ltrr_file_read_all(const char *path, size_t max, uint8_t **buf,
                              size_t *len, char *errstr, size_t errstr_size);

#endif /* LTRR_FILE_H */
