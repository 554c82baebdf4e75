/*
 * ltrr - ordered string key/value list.
 */
#include "kvlist.h"

#include <stdlib.h>
#include <string.h>

void ltrr_kvlist_init(ltrr_kvlist_t *kvl)
{
        memset(kvl, 0, sizeof(*kvl));
}

void ltrr_kvlist_clear(ltrr_kvlist_t *kvl)
{
        size_t i;

        if (!kvl)
                return;
        for (i = 0; i < kvl->cnt; i++) {
                free(kvl->kvs[i].key);
                free(kvl->kvs[i].value);
        }
        free(kvl->kvs);
        ltrr_kvlist_init(kvl);
}

static ltrr_kv_t *kvlist_find(const ltrr_kvlist_t *kvl, const char *key)
{
        size_t i;

        for (i = 0; i < kvl->cnt; i++)
                if (!strcmp(kvl->kvs[i].key, key))
                        return &kvl->kvs[i];
        return NULL;
}

/* Makes room for one more entry. On error the list is unchanged. */
static ltrr_err_t kvlist_grow(ltrr_kvlist_t *kvl)
{
        size_t nsize;
        ltrr_kv_t *nkvs;

        if (kvl->cnt < kvl->size)
                return LTRR_OK;
        if (kvl->cnt >= LTRR_KVLIST_MAX)
                return LTRR_ERR_NOSPACE;
        nsize = kvl->size ? kvl->size * 2 : 8;
        if (nsize > LTRR_KVLIST_MAX)
                nsize = LTRR_KVLIST_MAX;
        nkvs = realloc(kvl->kvs, nsize * sizeof(*nkvs));
        if (!nkvs)
                return LTRR_ERR_NOMEM;
        kvl->kvs = nkvs;
        kvl->size = nsize;
        return LTRR_OK;
}

ltrr_err_t ltrr_kvlist_set(ltrr_kvlist_t *kvl, const char *key,
                           const char *value)
{
        ltrr_kv_t *kv = kvlist_find(kvl, key);
        char *v = strdup(value);
        char *k = NULL;
        ltrr_err_t err;

        if (!v)
                return LTRR_ERR_NOMEM;
        if (kv) {
                free(kv->value);
                kv->value = v;
                return LTRR_OK;
        }
        if ((err = kvlist_grow(kvl)) != LTRR_OK || !(k = strdup(key))) {
                free(v);
                return err != LTRR_OK ? err : LTRR_ERR_NOMEM;
        }
        kvl->kvs[kvl->cnt].key = k;
        kvl->kvs[kvl->cnt].value = v;
        kvl->cnt++;
        return LTRR_OK;
}

const char *ltrr_kvlist_get(const ltrr_kvlist_t *kvl, const char *key)
{
        const ltrr_kv_t *kv = kvlist_find(kvl, key);

        return kv ? kv->value : NULL;
}

ltrr_err_t ltrr_kvlist_copy(ltrr_kvlist_t *dst, const ltrr_kvlist_t *src)
{
        size_t i;
        ltrr_err_t err;

        for (i = 0; i < src->cnt; i++)
                if ((err = ltrr_kvlist_set(dst, src->kvs[i].key,
                                           src->kvs[i].value)) != LTRR_OK)
                        return err;
        return LTRR_OK;
}
