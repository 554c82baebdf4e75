/*
 * ltrr - API keys: SHA-256 hashes, constant-time lookup, token buckets.
 */
#include "apikey.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct apikey_entry_s {
        char app[LTRR_APIKEY_APP_MAX + 1];   /* app id */
        unsigned char hash[SHA256_DIGEST_LENGTH]; /* SHA-256 of the key */
        double rate;                         /* tokens per second; 0: none */
        double tokens;                       /* current bucket level */
        int64_t last_ms;                     /* last refill, caller clock */
        int started;                         /* last_ms is set */
} apikey_entry_t;

struct ltrr_apikey_s {
        apikey_entry_t *ents; /* cnt entries of LTRR_APIKEY_MAX */
        size_t cnt;           /* entries in use */
};

ltrr_apikey_t *ltrr_apikey_new(char *errstr, size_t errstr_size)
{
        ltrr_apikey_t *ak = calloc(1, sizeof(*ak));

        if (ak)
                ak->ents = calloc(LTRR_APIKEY_MAX, sizeof(*ak->ents));
        if (!ak || !ak->ents) {
                free(ak);
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "no memory");
                return NULL;
        }
        return ak;
}

void ltrr_apikey_destroy(ltrr_apikey_t *ak)
{
        if (!ak)
                return;
        OPENSSL_cleanse(ak->ents, LTRR_APIKEY_MAX * sizeof(*ak->ents));
        free(ak->ents);
        free(ak);
}

size_t ltrr_apikey_cnt(const ltrr_apikey_t *ak)
{
        return ak->cnt;
}

void ltrr_apikey_hash_hex(const char *key, size_t len, char *hex,
                          size_t hex_size)
{
        static const char digits[] = "0123456789abcdef";
        unsigned char md[SHA256_DIGEST_LENGTH];
        size_t i;

        if (hex_size < LTRR_APIKEY_HEX_LEN + 1) {
                if (hex_size)
                        hex[0] = '\0';
                return;
        }
        SHA256((const unsigned char *)key, len, md);
        for (i = 0; i < sizeof(md); i++) {
                hex[2 * i] = digits[md[i] >> 4];
                hex[2 * i + 1] = digits[md[i] & 15];
        }
        hex[LTRR_APIKEY_HEX_LEN] = '\0';
}

static int app_valid(const char *s, size_t len)
{
        size_t i;

        if (len == 0 || len > LTRR_APIKEY_APP_MAX)
                return 0;
        for (i = 0; i < len; i++)
                if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
                        return 0;
        return 1;
}

static int hex_nibble(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        c = (char)tolower((unsigned char)c);
        return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Parses 64 hex digits into @hash; 0 or -1. */
static int hash_parse(const char *s, size_t len, unsigned char *hash)
{
        size_t i;
        int hi, lo;

        if (len != LTRR_APIKEY_HEX_LEN)
                return -1;
        for (i = 0; i < SHA256_DIGEST_LENGTH; i++) {
                if ((hi = hex_nibble(s[2 * i])) < 0 ||
                    (lo = hex_nibble(s[2 * i + 1])) < 0)
                        return -1;
                hash[i] = (unsigned char)(hi << 4 | lo);
        }
        return 0;
}

/* Parses a rate ("100", "2.5"); 0 or -1. */
static int rate_parse(const char *s, size_t len, double *rate)
{
        char buf[32], *end;

        if (len == 0 || len >= sizeof(buf))
                return -1;
        memcpy(buf, s, len);
        buf[len] = '\0';
        *rate = strtod(buf, &end);
        return *end == '\0' && *rate >= 0 && *rate <= 1e9 ? 0 : -1;
}

/*
 * Parses one "app:hex[:rate]" item of @len bytes into @ent.
 * Returns 0 or -1.
 */
static int entry_parse(const char *s, size_t len, apikey_entry_t *ent)
{
        const char *c1 = memchr(s, ':', len), *c2;
        size_t rest;

        memset(ent, 0, sizeof(*ent));
        if (!c1 || !app_valid(s, (size_t)(c1 - s)))
                return -1;
        memcpy(ent->app, s, (size_t)(c1 - s));
        rest = len - (size_t)(c1 + 1 - s);
        c2 = memchr(c1 + 1, ':', rest);
        if (hash_parse(c1 + 1, c2 ? (size_t)(c2 - c1 - 1) : rest, ent->hash))
                return -1;
        if (c2 && rate_parse(c2 + 1, (size_t)(s + len - c2 - 1), &ent->rate))
                return -1;
        return 0;
}

/* Trims spaces around [*s, *s + *len). */
static void trim(const char **s, size_t *len)
{
        while (*len && isspace((unsigned char)**s)) {
                (*s)++;
                (*len)--;
        }
        while (*len && isspace((unsigned char)(*s)[*len - 1]))
                (*len)--;
}

ltrr_err_t ltrr_apikey_load(ltrr_apikey_t *ak, const char *list,
                            char *errstr, size_t errstr_size)
{
        size_t cnt = ak->cnt, item = 0;
        const char *p = list ? list : "";

        while (*p) {
                const char *end = strchr(p, ',');
                size_t len = end ? (size_t)(end - p) : strlen(p);
                const char *s = p;

                item++;
                trim(&s, &len);
                p = end ? end + 1 : p + strlen(p);
                if (len == 0)
                        continue;
                if (cnt == LTRR_APIKEY_MAX)
                        return ltrr_errf(LTRR_ERR_NOSPACE, errstr,
                                         errstr_size,
                                         "more than %d API keys",
                                         LTRR_APIKEY_MAX);
                if (entry_parse(s, len, &ak->ents[cnt]))
                        return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                         "API key item %zu: want "
                                         "app_id:sha256hex[:rate]",
                                         item);
                cnt++;
        }
        ak->cnt = cnt;
        return LTRR_OK;
}

ltrr_err_t ltrr_apikey_add_plain(ltrr_apikey_t *ak, const char *app_id,
                                 const char *key, double rate, char *errstr,
                                 size_t errstr_size)
{
        apikey_entry_t *ent;

        if (!app_id || !app_valid(app_id, strlen(app_id)) || !key ||
            !*key || strlen(key) > LTRR_APIKEY_KEY_MAX || rate < 0)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "invalid app id, key or rate");
        if (ak->cnt == LTRR_APIKEY_MAX)
                return ltrr_errf(LTRR_ERR_NOSPACE, errstr, errstr_size,
                                 "more than %d API keys", LTRR_APIKEY_MAX);
        ent = &ak->ents[ak->cnt];
        memset(ent, 0, sizeof(*ent));
        snprintf(ent->app, sizeof(ent->app), "%s", app_id);
        SHA256((const unsigned char *)key, strlen(key), ent->hash);
        ent->rate = rate;
        ak->cnt++;
        return LTRR_OK;
}

int ltrr_apikey_check(const ltrr_apikey_t *ak, const char *key, size_t len)
{
        unsigned char md[SHA256_DIGEST_LENGTH];
        int found = -1;
        size_t i;

        if (!key || len == 0 || len > LTRR_APIKEY_KEY_MAX)
                return -1;
        SHA256((const unsigned char *)key, len, md);
        /* No early exit: the time taken does not depend on which entry
         * matched, only on the table size. */
        for (i = 0; i < ak->cnt; i++) {
                int eq = CRYPTO_memcmp(md, ak->ents[i].hash, sizeof(md)) == 0;

                if (eq && found < 0)
                        found = (int)i;
        }
        return found;
}

const char *ltrr_apikey_app(const ltrr_apikey_t *ak, int idx)
{
        if (idx < 0 || (size_t)idx >= ak->cnt)
                return NULL;
        return ak->ents[idx].app;
}

ltrr_err_t ltrr_apikey_take(ltrr_apikey_t *ak, int idx, int64_t now_ms)
{
        apikey_entry_t *ent;
        double burst;

        if (idx < 0 || (size_t)idx >= ak->cnt)
                return LTRR_ERR_INVALID_ARG;
        ent = &ak->ents[idx];
        if (ent->rate <= 0)
                return LTRR_OK;
        burst = ent->rate < 1 ? 1 : ent->rate;
        if (!ent->started) {
                ent->started = 1;
                ent->tokens = burst;
                ent->last_ms = now_ms;
        } else if (now_ms > ent->last_ms) {
                ent->tokens += (double)(now_ms - ent->last_ms) * ent->rate /
                               1000.0;
                if (ent->tokens > burst)
                        ent->tokens = burst;
                ent->last_ms = now_ms;
        }
        if (ent->tokens < 1.0)
                return LTRR_ERR_NOSPACE;
        ent->tokens -= 1.0;
        return LTRR_OK;
}
