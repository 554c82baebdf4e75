/*
 * Fuzz target: the Avro single-object decoder (online/avro_decoder.c,
 * avro_decode.c, avro_resolve.c) and the schema canonical form
 * (avro_fingerprint.c).
 *
 * The decoder knows the current schemas and, registered as foreign
 * writers, the version-2 schemas of tests/data/schemas-v2, so records of
 * every type go through both the hand-written decoder and Avro C
 * resolution. The first input byte picks how the rest is used:
 *
 *   sel % 8 == 0      the rest is a whole record, header included
 *   sel % 8 == 1..3   the rest is a body; the header of the current schema
 *                     of type Impression, Action or Reward is put before it
 *   sel % 8 == 4..6   the same with the version-2 (foreign) schema
 *   sel % 8 == 7      the rest is a schema text for the canonical form
 *
 * so the fuzzer need not guess 8-byte fingerprints. A record that decodes
 * from the current schema must encode again, and decoding that encoding
 * and encoding it once more must give the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro_codec.h"

/** Largest input looked at; longer inputs are ignored. */
#define FUZZ_INPUT_MAX (64 * 1024)
/** Room for a re-encoded record; a bigger one skips the round trip. */
#define FUZZ_ENCODE_MAX (1024 * 1024)
/** Version-2 schemas, registered as foreign writers. */
#define FUZZ_V2_DIR LTRR_SCHEMA_DIR "/../tests/data/schemas-v2"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ltrr_avro_decoder_t *fuzz_dec;            /* this input's decoder */
static ltrr_avro_decoder_t *fuzz_cur;            /* shared, no writers */
static char *fuzz_v2_json[LTRR_AVRO__TYPE_CNT];  /* v2 schema texts */
static size_t fuzz_v2_len[LTRR_AVRO__TYPE_CNT];  /* their lengths */
static uint64_t fuzz_v2_fp[LTRR_AVRO__TYPE_CNT]; /* their fingerprints */

/* Reads the v2 schema of @type once and keeps it with its fingerprint.
 * Any failure is fatal: without it the target would fuzz less than it
 * claims. */
static void fuzz_read_v2(ltrr_avro_type_t type)
{
        char path[512], errstr[256];
        char *json = malloc(LTRR_AVRO_SCHEMA_MAX);
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s.avsc", FUZZ_V2_DIR,
                 ltrr_avro_type_name(type));
        if (!json || !(f = fopen(path, "rb"))) {
                fprintf(stderr, "fuzz_avro_decode: cannot read %s\n", path);
                abort();
        }
        fuzz_v2_len[type] = fread(json, 1, LTRR_AVRO_SCHEMA_MAX, f);
        fclose(f);
        fuzz_v2_json[type] = json;
        if (ltrr_avro_fingerprint(json, fuzz_v2_len[type], &fuzz_v2_fp[type],
                                  errstr, sizeof(errstr)) != LTRR_OK) {
                fprintf(stderr, "fuzz_avro_decode: %s: %s\n", path, errstr);
                abort();
        }
}

/*
 * A decoder with the v2 writers registered, made for each input that may
 * reach Avro C: it keeps per-writer values whose buffers the leak checker
 * cannot trace while the decoder lives, so a decoder kept across inputs
 * would be reported as a leak. Creating one per input also keeps every
 * run independent. Inputs of the current schemas only use the
 * hand-written decoder and share one decoder (fuzz_cur), for speed.
 */
static ltrr_avro_decoder_t *fuzz_decoder_new(void)
{
        ltrr_avro_decoder_t *dec;
        char errstr[256];
        int t;

        if (!fuzz_v2_json[0])
                for (t = 0; t < LTRR_AVRO__TYPE_CNT; t++)
                        fuzz_read_v2((ltrr_avro_type_t)t);
        if (!(dec = ltrr_avro_decoder_new(NULL, errstr, sizeof(errstr)))) {
                fprintf(stderr, "fuzz_avro_decode: %s\n", errstr);
                abort();
        }
        for (t = 0; t < LTRR_AVRO__TYPE_CNT; t++)
                if (ltrr_avro_decoder_add_writer(dec, fuzz_v2_json[t],
                                                 fuzz_v2_len[t], errstr,
                                                 sizeof(errstr)) != LTRR_OK) {
                        fprintf(stderr, "fuzz_avro_decode: %s\n", errstr);
                        abort();
                }
        return dec;
}

/* Length of @s, trapping on NULL: a required string must be set. */
static size_t req(const char *s)
{
        if (!s)
                __builtin_trap();
        return strlen(s);
}

/* Length of an optional string. */
static size_t opt(const char *s)
{
        return s ? strlen(s) : 0;
}

/* Reads every byte of a context so the sanitizers see a bad pointer. */
static size_t touch_context(const ltrr_context_t *c)
{
        size_t i, n = req(c->query_type) + req(c->user_segment);
        float sum = 0;

        for (i = 0; i < c->feature_cnt; i++)
                sum += c->features[i];
        return n + (sum != sum);
}

static size_t touch_impression(const ltrr_impression_t *imp)
{
        size_t i, j,
            n = req(imp->node_id) + req(imp->user_id) + opt(imp->session_id) +
                req(imp->query_raw) + req(imp->query_norm) + req(imp->lang) +
                req(imp->policy) + req(imp->model_version);

        n += touch_context(&imp->context);
        if (imp->arm_cnt > LTRR_AVRO_ARRAY_MAX ||
            imp->result_cnt > LTRR_AVRO_ARRAY_MAX)
                __builtin_trap();
        for (i = 0; i < imp->arm_cnt; i++) {
                n += req(imp->arms[i].arm);
                for (j = 0; j < imp->arms[i].candidate_cnt; j++)
                        n += req(imp->arms[i].candidates[j].entity_id);
        }
        for (i = 0; i < imp->result_cnt; i++)
                n += req(imp->results[i].entity_id);
        return n;
}

static size_t touch_action(const ltrr_action_t *act)
{
        if ((unsigned)act->type >= LTRR_ACTION__CNT)
                __builtin_trap();
        return req(act->node_id) + req(act->user_id) + req(act->entity_id) +
               opt(act->idempotency_key) + opt(act->app_id);
}

static size_t touch_reward(const ltrr_reward_t *rew)
{
        size_t i, n = req(rew->node_id) + req(rew->impression_ref.topic) +
                      req(rew->user_id) + req(rew->query_norm) +
                      opt(rew->engaged_entity) + req(rew->policy) +
                      req(rew->model_version);

        if ((unsigned)rew->outcome >= LTRR_OUTCOME__CNT)
                __builtin_trap();
        if (rew->has_action_ref)
                n += req(rew->action_ref.topic);
        for (i = 0; i < rew->arm_reward_cnt; i++)
                n += req(rew->arm_rewards[i].arm);
        return n + touch_context(&rew->context);
}

/* Encodes @rec into @buf; LTRR_OK or the encoder's error. */
static ltrr_err_t fuzz_encode(const ltrr_avro_record_t *rec, uint8_t *buf,
                              size_t *len)
{
        char errstr[256];

        switch (rec->type) {
        case LTRR_AVRO_IMPRESSION:
                return ltrr_avro_encode_impression(&rec->u.imp, buf,
                                                   FUZZ_ENCODE_MAX, len, errstr,
                                                   sizeof(errstr));
        case LTRR_AVRO_ACTION:
                return ltrr_avro_encode_action(&rec->u.act, buf,
                                               FUZZ_ENCODE_MAX, len, errstr,
                                               sizeof(errstr));
        default:
                return ltrr_avro_encode_reward(&rec->u.rew, buf,
                                               FUZZ_ENCODE_MAX, len, errstr,
                                               sizeof(errstr));
        }
}

/* Round trip of a record decoded from the current schema: encode, decode,
 * encode again; both encodings must be equal. */
static void fuzz_round_trip(const ltrr_avro_record_t *rec)
{
        static uint8_t a[FUZZ_ENCODE_MAX], b[FUZZ_ENCODE_MAX];
        ltrr_avro_record_t again;
        char errstr[256];
        size_t alen = 0, blen = 0;
        ltrr_err_t err = fuzz_encode(rec, a, &alen);

        if (err == LTRR_ERR_NOSPACE)
                return;
        if (err != LTRR_OK)
                __builtin_trap(); /* decoded but cannot be encoded */
        if (ltrr_avro_decode(fuzz_dec, a, alen, &again, errstr,
                             sizeof(errstr)) != LTRR_OK ||
            again.type != rec->type || again.resolved)
                __builtin_trap(); /* own encoding refused */
        if (fuzz_encode(&again, b, &blen) != LTRR_OK || blen != alen ||
            memcmp(a, b, alen))
                __builtin_trap(); /* encoding not stable */
}

/* Decodes one record and checks what came out. */
static void fuzz_record(const uint8_t *buf, size_t len)
{
        ltrr_avro_record_t rec;
        char errstr[256];
        size_t n = 0;

        if (ltrr_avro_decode(fuzz_dec, buf, len, &rec, errstr,
                             sizeof(errstr)) != LTRR_OK) {
                if (!memchr(errstr, '\0', sizeof(errstr)))
                        __builtin_trap();
                return;
        }
        if (rec.type == LTRR_AVRO_IMPRESSION)
                n = touch_impression(&rec.u.imp);
        else if (rec.type == LTRR_AVRO_ACTION)
                n = touch_action(&rec.u.act);
        else if (rec.type == LTRR_AVRO_REWARD)
                n = touch_reward(&rec.u.rew);
        else
                __builtin_trap();
        if (n > LTRR_AVRO_ARENA_MAX)
                __builtin_trap();
        if (!rec.resolved)
                fuzz_round_trip(&rec);
}

/* The canonical form of an arbitrary schema text. */
static void fuzz_schema(const uint8_t *data, size_t size)
{
        static char out[LTRR_AVRO_SCHEMA_MAX];
        char errstr[256];
        size_t len = 0;
        uint64_t fp;

        if (ltrr_avro_canonical_form((const char *)data, size, out, sizeof(out),
                                     &len, errstr, sizeof(errstr)) != LTRR_OK)
                return;
        if (len >= sizeof(out) || strlen(out) != len)
                __builtin_trap();
        /* The canonical form is a fixed point. */
        if (ltrr_avro_fingerprint(out, len, &fp, errstr, sizeof(errstr)) !=
                LTRR_OK ||
            fp != ltrr_avro_crc64(out, len))
                __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static uint8_t buf[LTRR_AVRO_HEADER_LEN + FUZZ_INPUT_MAX];
        char errstr[256];
        unsigned sel;
        uint64_t fp;
        int i;

        if (size < 1 || size > FUZZ_INPUT_MAX)
                return 0;
        sel = data[0] % 8;
        data++;
        size--;
        if (sel == 7) {
                fuzz_schema(data, size);
                return 0;
        }
        if (sel >= 1 && sel <= 3) {
                if (!fuzz_cur && !(fuzz_cur = ltrr_avro_decoder_new(
                                       NULL, errstr, sizeof(errstr)))) {
                        fprintf(stderr, "fuzz_avro_decode: %s\n", errstr);
                        abort();
                }
                fuzz_dec = fuzz_cur;
        } else {
                fuzz_dec = fuzz_decoder_new();
        }
        if (sel == 0) {
                fuzz_record(data, size);
                goto done;
        }
        fp = sel <= 3 ? ltrr_avro_type_fingerprint((ltrr_avro_type_t)(sel - 1))
                      : fuzz_v2_fp[sel - 4];
        buf[0] = 0xC3;
        buf[1] = 0x01;
        for (i = 0; i < 8; i++)
                buf[2 + i] = (uint8_t)(fp >> (8 * i));
        memcpy(buf + LTRR_AVRO_HEADER_LEN, data, size);
        fuzz_record(buf, LTRR_AVRO_HEADER_LEN + size);
done:
        if (fuzz_dec != fuzz_cur)
                ltrr_avro_decoder_destroy(fuzz_dec);
        fuzz_dec = NULL;
        return 0;
}
