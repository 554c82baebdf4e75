/*
 * ltrr - error code table.
 */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>

struct err_desc {
        ltrr_err_t code;
        const char *name;
        const char *desc;
};

static const struct err_desc err_descs[] = {
        {LTRR_OK, "LTRR_OK", "success"},
        {LTRR_ERR_INVALID_ARG, "LTRR_ERR_INVALID_ARG", "invalid argument"},
        {LTRR_ERR_NOMEM, "LTRR_ERR_NOMEM", "out of memory"},
        {LTRR_ERR_IO, "LTRR_ERR_IO", "I/O error"},
        {LTRR_ERR_PARSE, "LTRR_ERR_PARSE", "malformed input"},
        {LTRR_ERR_RANGE, "LTRR_ERR_RANGE", "value out of range"},
        {LTRR_ERR_UNKNOWN_KEY, "LTRR_ERR_UNKNOWN_KEY", "unknown name"},
        {LTRR_ERR_NOSPACE, "LTRR_ERR_NOSPACE", "buffer or queue full"},
        {LTRR_ERR_TRUNCATED, "LTRR_ERR_TRUNCATED", "input truncated"},
        {LTRR_ERR_CORRUPT, "LTRR_ERR_CORRUPT", "integrity check failed"},
        {LTRR_ERR_SCHEMA, "LTRR_ERR_SCHEMA", "unknown or incompatible schema"},
        {LTRR_ERR_TRANSPORT, "LTRR_ERR_TRANSPORT", "transport failure"},
        {LTRR_ERR_TIMEOUT, "LTRR_ERR_TIMEOUT", "timed out"},
        {LTRR_ERR_STATE, "LTRR_ERR_STATE", "invalid state for this call"},
};

static const struct err_desc *err_find(ltrr_err_t err)
{
        size_t i;

        for (i = 0; i < sizeof(err_descs) / sizeof(err_descs[0]); i++)
                if (err_descs[i].code == err)
                        return &err_descs[i];
        return NULL;
}

const char *ltrr_err2str(ltrr_err_t err)
{
        const struct err_desc *d = err_find(err);

        return d ? d->desc : "unknown error";
}

const char *ltrr_err2name(ltrr_err_t err)
{
        const struct err_desc *d = err_find(err);

        return d ? d->name : "LTRR_ERR_UNKNOWN";
}

ltrr_err_t ltrr_errf(ltrr_err_t err, char *errstr, size_t errstr_size,
                     const char *fmt, ...)
{
        va_list ap;

        if (!errstr || errstr_size == 0)
                return err;
        va_start(ap, fmt);
        vsnprintf(errstr, errstr_size, fmt, ap);
        va_end(ap);
        return err;
}
