/*
 * ltrr - search request parsing: a URL query string or a JSON body into
 * ltrr_search_params_t. Pure and bounded: every field has a fixed
 * buffer, a value that does not fit is refused (q keeps one byte past
 * the limit so the pipeline can say "too long").
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arm.h"
#include "search.h"

/* Longest decoded value of a query-string parameter other than q. */
#define REQ_VALUE_MAX 512

/* Parameters of the query string, in the order of req_names. */
typedef enum {
        REQ_Q = 0,
        REQ_USER,
        REQ_SESSION,
        REQ_LANG,
        REQ_K,
        REQ_POLICY,
        REQ_ARMS,
        REQ_DEBUG,
        REQ__CNT
} req_name_t;

static const char *const req_names[REQ__CNT] = {
    "q", "user", "session", "lang", "k", "policy", "arms", "debug"};

static void params_init(ltrr_search_params_t *p, long k_default)
{
        memset(p, 0, sizeof(*p));
        p->k = k_default;
}

static int hexval(int c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Percent-decodes @p s[0..len) into @p dst of @p size bytes ('+' is a
 * space). Returns the decoded length, which may exceed what was stored
 * (dst holds the first size-1 bytes, NUL-terminated), or -1 for a bad
 * escape. */
static long url_decode(const char *s, size_t len, char *dst, size_t size)
{
        size_t i, n = 0;

        for (i = 0; i < len; i++, n++) {
                int c = (unsigned char)s[i];

                if (c == '%') {
                        int hi, lo;

                        if (len - i < 3)
                                return -1;
                        hi = hexval((unsigned char)s[i + 1]);
                        lo = hexval((unsigned char)s[i + 2]);
                        if (hi < 0 || lo < 0)
                                return -1;
                        c = hi * 16 + lo;
                        i += 2;
                } else if (c == '+') {
                        c = ' ';
                }
                if (n + 1 < size)
                        dst[n] = (char)c;
        }
        if (size)
                dst[n < size ? n : size - 1] = '\0';
        return (long)n;
}

/* Parses an arm list "a,b" into a registry bit mask; -1 if unknown. */
static int arms_parse(const char *s, uint32_t *mask)
{
        char buf[LTRR_SEARCH_ARMS_MAX], *tok, *save = NULL;
        size_t len = strlen(s);
        int id;

        *mask = 0;
        if (len >= sizeof(buf))
                return -1;
        memcpy(buf, s, len + 1);
        for (tok = strtok_r(buf, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save)) {
                if ((id = ltrr_arm_find(tok)) < 0 ||
                    id >= LTRR_BANDIT_MAX_ARMS)
                        return -1;
                *mask |= 1u << id;
        }
        return *mask ? 0 : -1;
}

/* Sets the arm choice from the policy and arms parameters. */
static ltrr_err_t mode_set(ltrr_search_params_t *p, const char *policy,
                           const char *arms, char *errstr, size_t errstr_size)
{
        if (arms && arms_parse(arms, &p->arms))
                return ltrr_errf(LTRR_ERR_UNKNOWN_KEY, errstr, errstr_size,
                                 "arms: unknown or empty arm list");
        if (!policy || !*policy || !strcmp(policy, "default") ||
            !strcmp(policy, "learned"))
                p->mode = arms ? LTRR_SEARCH_MODE_STATIC
                               : LTRR_SEARCH_MODE_LEARNED;
        else if (!strcmp(policy, "static"))
                p->mode = LTRR_SEARCH_MODE_STATIC;
        else if (!strcmp(policy, "uniform"))
                p->mode = LTRR_SEARCH_MODE_UNIFORM;
        else
                return ltrr_errf(LTRR_ERR_UNKNOWN_KEY, errstr, errstr_size,
                                 "policy: unknown policy");
        if (p->mode == LTRR_SEARCH_MODE_STATIC && !arms)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "policy=static needs arms");
        return LTRR_OK;
}

/* Copies a string value; LTRR_ERR_RANGE when it does not fit. */
static ltrr_err_t str_copy(char *dst, size_t size, const char *v, size_t len,
                           const char *name, char *errstr, size_t errstr_size)
{
        if (len >= size)
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "%s too long", name);
        memcpy(dst, v, len);
        dst[len] = '\0';
        return LTRR_OK;
}

/* Parses k: a decimal integer, clamped to LTRR_SEARCH_K_PARSE_MAX. */
static ltrr_err_t k_parse(const char *v, long *k, char *errstr,
                          size_t errstr_size)
{
        char *end;

        errno = 0;
        *k = strtol(v, &end, 10);
        if (!*v || *end || errno)
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "k must be an integer");
        if (*k > LTRR_SEARCH_K_PARSE_MAX)
                *k = LTRR_SEARCH_K_PARSE_MAX;
        return LTRR_OK;
}

/* Stores q; a q past the limit keeps its real length. */
static void q_set(ltrr_search_params_t *p, const char *v, size_t len)
{
        size_t keep = len > LTRR_SEARCH_Q_MAX ? LTRR_SEARCH_Q_MAX + 1 : len;

        p->has_q = 1;
        p->q_len = len;
        memcpy(p->q, v, keep);
        p->q[keep] = '\0';
}

/* One decoded query-string pair: which name and where its value is. */
typedef struct req_pair_s {
        const char *val[REQ__CNT]; /* raw value of each name, or NULL */
        size_t len[REQ__CNT];      /* raw bytes of each value */
} req_pairs_t;

/* Splits @p query into the known names' raw values (first one wins;
 * unknown names are ignored). -1 for a malformed name. */
static int pairs_split(const char *query, req_pairs_t *rp)
{
        const char *s = query;

        memset(rp, 0, sizeof(*rp));
        while (*s) {
                const char *amp = strchr(s, '&'), *eq;
                size_t seg = amp ? (size_t)(amp - s) : strlen(s), nlen;
                char name[16];
                long dl;
                int i;

                eq = memchr(s, '=', seg);
                nlen = eq ? (size_t)(eq - s) : seg;
                dl = nlen < sizeof(name) ? url_decode(s, nlen, name,
                                                      sizeof(name))
                                         : 0;
                if (dl < 0)
                        return -1;
                for (i = 0; dl > 0 && i < REQ__CNT; i++)
                        if (!rp->val[i] && !strcmp(name, req_names[i])) {
                                rp->val[i] = eq ? eq + 1 : s + seg;
                                rp->len[i] = eq ? seg - nlen - 1 : 0;
                                break;
                        }
                s += seg;
                if (*s == '&')
                        s++;
        }
        return 0;
}

/* Decodes the value of parameter @p i into @p buf; NULL when absent,
 * and *bad = 1 for a bad escape. */
static const char *pair_value(const req_pairs_t *rp, req_name_t i, char *buf,
                              size_t size, long *dlen, int *bad)
{
        long n;

        if (!rp->val[i])
                return NULL;
        if ((n = url_decode(rp->val[i], rp->len[i], buf, size)) < 0) {
                *bad = 1;
                return NULL;
        }
        if (dlen)
                *dlen = n;
        return buf;
}

/* The string members (user, session, lang) of a query string. */
static ltrr_err_t query_ids(const req_pairs_t *rp, ltrr_search_params_t *p,
                            char *v, int *bad, char *errstr,
                            size_t errstr_size)
{
        static const req_name_t ids[3] = {REQ_USER, REQ_SESSION, REQ_LANG};
        char *dst[3] = {p->user, p->session, p->lang};
        size_t size[3] = {sizeof(p->user), sizeof(p->session),
                          sizeof(p->lang)};
        ltrr_err_t err;
        long n = 0;
        int i;

        for (i = 0; i < 3; i++) {
                if (!pair_value(rp, ids[i], v, REQ_VALUE_MAX, &n, bad))
                        continue;
                if (n >= REQ_VALUE_MAX ||
                    strlen(v) != (size_t)n)
                        n = REQ_VALUE_MAX; /* too long or a NUL byte */
                if ((err = str_copy(dst[i], size[i], v, (size_t)n,
                                    req_names[ids[i]], errstr, errstr_size)))
                        return err;
                if (ids[i] == REQ_SESSION)
                        p->has_session = 1;
        }
        return LTRR_OK;
}

ltrr_err_t ltrr_search_params_query(const char *query,
                                    ltrr_search_params_t *p, long k_default,
                                    char *errstr, size_t errstr_size)
{
        char v[REQ_VALUE_MAX], arms[LTRR_SEARCH_ARMS_MAX];
        char policy[LTRR_SEARCH_ARMS_MAX];
        const char *pv, *av;
        req_pairs_t rp;
        ltrr_err_t err;
        long n = 0;
        int bad = 0;

        params_init(p, k_default);
        if (pairs_split(query ? query : "", &rp))
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "malformed query string");
        if (pair_value(&rp, REQ_Q, p->q, sizeof(p->q), &n, &bad)) {
                p->has_q = 1;
                p->q_len = (size_t)n;
        }
        if ((err = query_ids(&rp, p, v, &bad, errstr, errstr_size)))
                return err;
        if (pair_value(&rp, REQ_K, v, sizeof(v), NULL, &bad) &&
            (err = k_parse(v, &p->k, errstr, errstr_size)))
                return err;
        p->debug = pair_value(&rp, REQ_DEBUG, v, sizeof(v), NULL, &bad) &&
                   !strcmp(v, "1");
        pv = pair_value(&rp, REQ_POLICY, policy, sizeof(policy), NULL, &bad);
        av = pair_value(&rp, REQ_ARMS, arms, sizeof(arms), &n, &bad);
        if (av && (size_t)n >= sizeof(arms))
                return ltrr_errf(LTRR_ERR_RANGE, errstr, errstr_size,
                                 "arms too long");
        if (bad)
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "malformed query string");
        return mode_set(p, pv, av, errstr, errstr_size);
}

/* Reads optional string member @p name of @p o into @p dst. */
static ltrr_err_t json_str(json_t *o, const char *name, char *dst,
                           size_t size, int *present, char *errstr,
                           size_t errstr_size)
{
        json_t *v = json_object_get(o, name);

        if (!v)
                return LTRR_OK;
        if (!json_is_string(v))
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "%s must be a string", name);
        if (strlen(json_string_value(v)) != json_string_length(v))
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "%s contains a NUL byte", name);
        if (present)
                *present = 1;
        return str_copy(dst, size, json_string_value(v),
                        json_string_length(v), name, errstr, errstr_size);
}

/* The members of a JSON request after q. */
static ltrr_err_t json_rest(json_t *o, ltrr_search_params_t *p, char *errstr,
                            size_t errstr_size)
{
        json_t *k = json_object_get(o, "k"), *d = json_object_get(o, "debug");
        json_t *pol = json_object_get(o, "policy");
        char armbuf[LTRR_SEARCH_ARMS_MAX];
        int has_arms = 0;
        ltrr_err_t err;

        if ((err = json_str(o, "user", p->user, sizeof(p->user), NULL, errstr,
                            errstr_size)) ||
            (err = json_str(o, "session", p->session, sizeof(p->session),
                            &p->has_session, errstr, errstr_size)) ||
            (err = json_str(o, "lang", p->lang, sizeof(p->lang), NULL, errstr,
                            errstr_size)) ||
            (err = json_str(o, "arms", armbuf, sizeof(armbuf), &has_arms,
                            errstr, errstr_size)))
                return err;
        if (k && !json_is_integer(k))
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "k must be an integer");
        if (k)
                p->k = json_integer_value(k) > LTRR_SEARCH_K_PARSE_MAX
                           ? LTRR_SEARCH_K_PARSE_MAX
                       : json_integer_value(k) < 0
                           ? 0
                           : (long)json_integer_value(k);
        p->debug = d && (json_is_true(d) ||
                         (json_is_integer(d) && json_integer_value(d) == 1));
        if (pol && !json_is_string(pol))
                return ltrr_errf(LTRR_ERR_PARSE, errstr, errstr_size,
                                 "policy must be a string");
        return mode_set(p, pol ? json_string_value(pol) : NULL,
                        has_arms ? armbuf : NULL, errstr, errstr_size);
}

ltrr_err_t ltrr_search_params_json(const char *body, size_t len,
                                   ltrr_search_params_t *p, long k_default,
                                   char *errstr, size_t errstr_size)
{
        json_error_t je;
        json_t *o, *q;
        ltrr_err_t err = LTRR_ERR_PARSE;

        params_init(p, k_default);
        o = body ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &je) : NULL;
        if (!o || !json_is_object(o)) {
                ltrr_errf(err, errstr, errstr_size, "malformed JSON body");
                goto done;
        }
        if ((q = json_object_get(o, "q"))) {
                if (!json_is_string(q)) {
                        ltrr_errf(err, errstr, errstr_size,
                                  "q must be a string");
                        goto done;
                }
                if (strlen(json_string_value(q)) != json_string_length(q)) {
                        ltrr_errf(err, errstr, errstr_size,
                                  "q contains a NUL byte");
                        goto done;
                }
                q_set(p, json_string_value(q), json_string_length(q));
        }
        err = json_rest(o, p, errstr, errstr_size);
done:
        json_decref(o);
        return err;
}
