/*
 * ltrr - reading whole files for the command-line tools.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"

ltrr_err_t ltrr_file_read_all(const char *path, size_t max, uint8_t **buf,
                              size_t *len, char *errstr, size_t errstr_size)
{
        FILE *fp = fopen(path, "rb");
        ltrr_err_t err = LTRR_OK;
        long size = -1;

        *buf = NULL;
        if (!fp)
                return ltrr_errf(LTRR_ERR_IO, errstr, errstr_size,
                                 "%s: %s", path, strerror(errno));
        if (fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) < 0 ||
            fseek(fp, 0, SEEK_SET) != 0) {
                err = ltrr_errf(LTRR_ERR_IO, errstr, errstr_size, "%s: %s",
                                path, strerror(errno));
                goto done;
        }
        if ((size_t)size > max) {
                err = ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                "%s: %ld bytes, more than %zu", path, size,
                                max);
                goto done;
        }
        if (!(*buf = malloc((size_t)size + 1))) {
                err = ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                "%s: out of memory", path);
                goto done;
        }
        if (fread(*buf, 1, (size_t)size, fp) != (size_t)size) {
                err = ltrr_errf(LTRR_ERR_IO, errstr, errstr_size,
                                "%s: short read", path);
                free(*buf);
                *buf = NULL;
                goto done;
        }
        (*buf)[size] = '\0';
        *len = (size_t)size;
done:
        fclose(fp);
        return err;
}
