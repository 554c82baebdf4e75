/*
 * ltrr - Avro single-object codecs for the Kafka records.
 *
 * Every record on ltrr.impressions, ltrr.actions and ltrr.rewards is an
 * Avro single-object encoding:
 *
 *   C3 01 | CRC-64-AVRO fingerprint of the writer schema's Parsing
 *           Canonical Form, 8 bytes little-endian | Avro binary body
 *
 * The current schemas (the .avsc files of schemas/) are encoded and decoded
 * by hand-written code, with no allocation per record. Records written with
 * another version of a schema (older or newer) are resolved to the current
 * one with Avro C once their writer schema has been registered with the
 * decoder. docs/decisions/0003-avro-codec.md says why.
 */
#ifndef LTRR_AVRO_CODEC_H
#define LTRR_AVRO_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "records.h"

/** Bytes before the body: magic C3 01 and the 8-byte fingerprint. */
#define LTRR_AVRO_HEADER_LEN 10
/** Longest string accepted by the encoder and decoder, in bytes. */
#define LTRR_AVRO_STRING_MAX (64 * 1024)
/** Most entries in any one array (features, arms, candidates, results). */
#define LTRR_AVRO_ARRAY_MAX 4096
/** Longest single-object record the decoder accepts, header included. */
#define LTRR_AVRO_RECORD_MAX (8 * 1024 * 1024)
/** Most memory one decoded record may take in the decoder's arena. */
#define LTRR_AVRO_ARENA_MAX (32 * 1024 * 1024)
/** Most foreign writer schemas a decoder knows. */
#define LTRR_AVRO_WRITERS_MAX 64
/** Longest schema text (JSON) accepted, in bytes. */
#define LTRR_AVRO_SCHEMA_MAX (256 * 1024)

/** The record types, one per schema file. */
typedef enum {
        LTRR_AVRO_IMPRESSION = 0, /**< schemas/Impression.avsc */
        LTRR_AVRO_ACTION = 1,     /**< schemas/Action.avsc */
        LTRR_AVRO_REWARD = 2,     /**< schemas/Reward.avsc */
        LTRR_AVRO__TYPE_CNT = 3   /**< number of types */
} ltrr_avro_type_t;

/**
 * @brief Returns the record name of @p type ("Impression", "Action",
 *        "Reward"), or NULL for a value out of range.
 */
const char *ltrr_avro_type_name(ltrr_avro_type_t type);

/**
 * @brief Parses a record name ("Impression" or "ltrr.Impression").
 * @returns the type, or -1 when the name is not known.
 */
int ltrr_avro_type_parse(const char *name);

/**
 * @brief Fingerprint of the current schema of @p type, the one the
 *        hand-written codec encodes (0 for a type out of range).
 */
uint64_t ltrr_avro_type_fingerprint(ltrr_avro_type_t type);

/**
 * @brief CRC-64-AVRO of @p len bytes at @p data (the Avro spec's
 *        Rabin fingerprint, empty value 0xc15d213aa4d7a795).
 */
uint64_t ltrr_avro_crc64(const void *data, size_t len);

/**
 * @brief Writes the Parsing Canonical Form of the schema @p json (a JSON
 *        text of @p json_len bytes) into @p out, NUL-terminated.
 *
 * @param out_len receives the form's length without the NUL, also when
 *        LTRR_ERR_NOSPACE says @p out_size was too small.
 * @returns LTRR_OK, LTRR_ERR_PARSE (not JSON), LTRR_ERR_SCHEMA (not a valid
 *          schema), LTRR_ERR_NOSPACE or LTRR_ERR_RANGE (nesting too deep).
 */
ltrr_err_t ltrr_avro_canonical_form(const char *json, size_t json_len,
                                    char *out, size_t out_size,
                                    size_t *out_len, char *errstr,
                                    size_t errstr_size);

/**
 * @brief CRC-64-AVRO of the Parsing Canonical Form of the schema @p json.
 * @returns LTRR_OK or an error of ltrr_avro_canonical_form().
 */
ltrr_err_t ltrr_avro_fingerprint(const char *json, size_t json_len,
                                 uint64_t *fp, char *errstr,
                                 size_t errstr_size);

/**
 * @brief Encodes @p imp as a single-object record into @p buf.
 *
 * @param len receives the record's length; with LTRR_ERR_NOSPACE, the size
 *        @p buf needs.
 * @returns LTRR_OK, LTRR_ERR_NOSPACE, LTRR_ERR_INVALID_ARG (a required
 *          string is NULL, an enum is out of range) or LTRR_ERR_RANGE (a
 *          string or array exceeds its maximum).
 * @remark Reads @p imp only; allocates nothing. Thread-safe.
 */
ltrr_err_t ltrr_avro_encode_impression(const ltrr_impression_t *imp,
                                       uint8_t *buf, size_t size,
                                       size_t *len, char *errstr,
                                       size_t errstr_size);

/**
 * @brief Encodes @p imp with the optional `ranker` field of its results:
 *        @p rankers has imp->result_cnt entries, entry i for results[i]
 *        (present false: null); NULL: every one null, as
 *        ltrr_avro_encode_impression() writes.
 * @returns as ltrr_avro_encode_impression().
 */
ltrr_err_t ltrr_avro_encode_impression_ranked(
    const ltrr_impression_t *imp, const ltrr_ranker_input_t *rankers,
    uint8_t *buf, size_t size, size_t *len, char *errstr, size_t errstr_size);

/** @brief Encodes an Action; as ltrr_avro_encode_impression(). */
ltrr_err_t ltrr_avro_encode_action(const ltrr_action_t *act, uint8_t *buf,
                                   size_t size, size_t *len, char *errstr,
                                   size_t errstr_size);

/** @brief Encodes a Reward; as ltrr_avro_encode_impression(). */
ltrr_err_t ltrr_avro_encode_reward(const ltrr_reward_t *rew, uint8_t *buf,
                                   size_t size, size_t *len, char *errstr,
                                   size_t errstr_size);

/** A decoded record: its type selects the member of u. */
typedef struct ltrr_avro_record_s {
        ltrr_avro_type_t type;    /**< which member of u is set */
        uint64_t fingerprint;     /**< writer schema fingerprint */
        int resolved;             /**< 1 when written with another schema */
        const ltrr_ranker_input_t *rankers; /**< Impression: result_cnt
                                      entries, the `ranker` field of each
                                      result; NULL when every one is null
                                      (and for other types) */
        union {
                ltrr_impression_t imp; /**< LTRR_AVRO_IMPRESSION */
                ltrr_action_t act;     /**< LTRR_AVRO_ACTION */
                ltrr_reward_t rew;     /**< LTRR_AVRO_REWARD */
        } u;                      /**< the record */
} ltrr_avro_record_t;

/** A decoder: the current schemas, known writer schemas and an arena. */
typedef struct ltrr_avro_decoder_s ltrr_avro_decoder_t;

/**
 * @brief Creates a decoder, reading the current schemas from
 *        @p schema_dir (NULL: the build's schemas/ directory).
 *
 * Each schema file must have the fingerprint the codec was written for
 * (ltrr_avro_type_fingerprint()); otherwise the codec and schemas/ have
 * drifted apart and NULL is returned with the reason in @p errstr.
 * @remark One decoder per thread: decoding is not thread-safe.
 */
ltrr_avro_decoder_t *ltrr_avro_decoder_new(const char *schema_dir,
                                           char *errstr,
                                           size_t errstr_size);

/** @brief Frees @p dec and its arena; NULL is a no-op. */
void ltrr_avro_decoder_destroy(ltrr_avro_decoder_t *dec);

/**
 * @brief Registers another version of one of the record schemas (an older
 *        or newer writer), found by its record name, so that records
 *        written with it are resolved to the current schema.
 *
 * Registering the current schema, or one already known, is a no-op.
 * Fields are matched by name when a record is decoded; a writer that does
 * not resolve (a reader field missing from the writer that is not a
 * null-first union, incompatible types) fails per record with
 * LTRR_ERR_SCHEMA. Register only schemas of trusted producers: Avro C
 * reads their bodies (see docs/decisions/0003-avro-codec.md).
 * @returns LTRR_OK, LTRR_ERR_PARSE, LTRR_ERR_SCHEMA (not an Impression,
 *          Action or Reward record), LTRR_ERR_NOSPACE (more than
 *          LTRR_AVRO_WRITERS_MAX) or LTRR_ERR_NOMEM.
 */
ltrr_err_t ltrr_avro_decoder_add_writer(ltrr_avro_decoder_t *dec,
                                        const char *json, size_t json_len,
                                        char *errstr, size_t errstr_size);

/** @brief Reads the file @p path and registers it (see _add_writer()). */
ltrr_err_t ltrr_avro_decoder_add_writer_file(ltrr_avro_decoder_t *dec,
                                             const char *path, char *errstr,
                                             size_t errstr_size);

/**
 * @brief Decodes one single-object record of @p len bytes into @p rec.
 *
 * @returns LTRR_OK; LTRR_ERR_TRUNCATED (input ends early), LTRR_ERR_PARSE
 *          (bad magic), LTRR_ERR_SCHEMA (unknown fingerprint, or a
 *          foreign writer that does not resolve),
 *          LTRR_ERR_CORRUPT (malformed body or trailing bytes),
 *          LTRR_ERR_RANGE (a length, count, enum or value out of bounds,
 *          or a string with a NUL byte), LTRR_ERR_NOMEM.
 * @remark Strings and arrays of @p rec point into the decoder's arena and
 *         stay valid until the next decode or destroy. @p buf may be freed
 *         as soon as the call returns. On error @p rec is undefined.
 */
ltrr_err_t ltrr_avro_decode(ltrr_avro_decoder_t *dec, const uint8_t *buf,
                            size_t len, ltrr_avro_record_t *rec,
                            char *errstr, size_t errstr_size);

/**
 * @brief Resolves an Avro binary body written with @p writer_json into the
 *        binary form of @p reader_json (Avro schema resolution).
 *
 * For tools and tests: it parses both schemas on each call.
 * @param out_len receives the body length; with LTRR_ERR_NOSPACE, unknown.
 * @returns LTRR_OK, LTRR_ERR_SCHEMA (unparsable or incompatible schemas),
 *          LTRR_ERR_CORRUPT (body does not match the writer schema) or
 *          LTRR_ERR_NOSPACE.
 */
ltrr_err_t ltrr_avro_resolve_body(const char *reader_json,
                                  const char *writer_json,
                                  const uint8_t *in, size_t in_len,
                                  uint8_t *out, size_t out_size,
                                  size_t *out_len, char *errstr,
                                  size_t errstr_size);

/**
 * @brief Steps through a buffer of framed records: each is a 4-byte
 *        big-endian length followed by that many bytes (the framing of
 *        `ltrr-avro` and of `kcat -f '%R%s'`).
 *
 * Call while *@p off < @p len; on LTRR_OK, *@p rec / *@p rec_len are the
 * next record (pointing into @p data) and *@p off has moved past it.
 * @param max  longest record accepted
 * @returns LTRR_OK, LTRR_ERR_TRUNCATED (a header or record cut short) or
 *          LTRR_ERR_RANGE (a record longer than @p max); the errstr names
 *          the byte offset of the frame.
 */
ltrr_err_t ltrr_avro_frame_next(const uint8_t *data, size_t len, size_t *off,
                                size_t max, const uint8_t **rec,
                                size_t *rec_len, char *errstr,
                                size_t errstr_size);

#endif /* LTRR_AVRO_CODEC_H */
