/*
 * ltrr - librdkafka configuration shared by the producer and consumer
 * wrappers, and librdkafka's own log lines routed to logfmt.
 */
#include "kafka.h"

#include <stdio.h>

#include "log.h"

ltrr_err_t ltrr_kafka_conf_set(rd_kafka_conf_t *conf, const char *key,
                               const char *value, char *errstr,
                               size_t errstr_size)
{
        char rderr[256];

        if (rd_kafka_conf_set(conf, key, value, rderr, sizeof(rderr)) !=
            RD_KAFKA_CONF_OK)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "kafka property %s: %s", key, rderr);
        return LTRR_OK;
}

/* librdkafka log line -> logfmt at the matching level (syslog numbers). */
static void conf_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                        const char *buf)
{
        ltrr_log_level_t lvl = level <= 3   ? LTRR_LOG_ERROR
                               : level <= 4 ? LTRR_LOG_WARN
                               : level <= 6 ? LTRR_LOG_INFO
                                            : LTRR_LOG_DEBUG;

        ltrr_log_write(lvl, "kafka", buf, "client", rd_kafka_name(rk),
                       "facility", fac, (char *)NULL);
}

/*
 * Applies @props, then the options' bootstrap and client id. On error
 * NULL is returned with the reason in errstr and nothing is leaked.
 */
rd_kafka_conf_t *ltrr_kafka_conf_new(const ltrr_kvlist_t *props,
                                     const ltrr_kafka_opts_t *opts,
                                     char *errstr, size_t errstr_size)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        size_t i;

        rd_kafka_conf_set_log_cb(conf, conf_log_cb);
        if (ltrr_kafka_conf_set(conf, "client.id", "ltrr", errstr,
                                errstr_size))
                goto err;
        for (i = 0; props && i < props->cnt; i++)
                if (ltrr_kafka_conf_set(conf, props->kvs[i].key,
                                        props->kvs[i].value, errstr,
                                        errstr_size))
                        goto err;
        if (opts && opts->bootstrap &&
            ltrr_kafka_conf_set(conf, "bootstrap.servers", opts->bootstrap,
                                errstr, errstr_size))
                goto err;
        if (opts && opts->client_id &&
            ltrr_kafka_conf_set(conf, "client.id", opts->client_id, errstr,
                                errstr_size))
                goto err;
        return conf;
err:
        rd_kafka_conf_destroy(conf);
        return NULL;
}
