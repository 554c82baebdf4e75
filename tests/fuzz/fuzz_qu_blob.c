/*
 * Fuzz target: the query-understanding dictionary loader
 * (online/qu_dict.c, ltrr_qu_dict_load()) and the lookups and tagger run
 * over whatever it accepts.
 *
 * The first input byte is a selector; the rest is copied into 8-byte
 * aligned memory, as the loader requires. When sel is odd the header's
 * length and checksum words are first made right, so the fuzzer gets
 * past them to the offset and id checks. A blob that loads must be safe
 * to use: every entry is read, its phrase looked up, its tokens found and
 * matched fuzzily, and the entry names are tagged as a query.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qu.h"
#include "qu_int.h"
#include "text.h"

/** Largest input looked at; longer inputs are ignored. */
#define FUZZ_INPUT_MAX (256 * 1024)
/** Entries whose phrase is looked up and tagged. */
#define FUZZ_ENTRIES_MAX 64
/** Bytes of token text kept for the tagger query. */
#define FUZZ_QUERY_BYTES 1024

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ltrr_qu_scratch_t *fuzz_sc; /* tagger scratch, made once */

/* Makes the length and checksum words of a blob's header right. */
static void fuzz_fix_header(uint8_t *b, size_t len)
{
        uint32_t v;

        if (len < QU_HDR_BYTES || len > UINT32_MAX)
                return;
        v = (uint32_t)len;
        memcpy(b + 4 * H_LEN, &v, 4);
        v = ltrr_text_hash32(b + QU_HDR_BYTES, len - QU_HDR_BYTES);
        memcpy(b + 4 * H_SUM, &v, 4);
}

/* Query tokens made of the entry names' bytes, split at spaces. */
struct fuzz_query {
        char text[FUZZ_QUERY_BYTES];                 /* NUL-separated tokens */
        size_t used;                                 /* bytes of text used */
        ltrr_token_t toks[LTRR_QU_QUERY_TOKENS_MAX]; /* the tokens */
        size_t ntoks;                                /* entries in toks */
};

/* Appends the words of @name to @q while there is room. */
static void fuzz_query_add(struct fuzz_query *q, const char *name, size_t len)
{
        size_t i = 0, start;

        while (i < len && q->ntoks < LTRR_QU_QUERY_TOKENS_MAX) {
                while (i < len && name[i] == ' ')
                        i++;
                start = i;
                while (i < len && name[i] != ' ' && name[i] != '\0')
                        i++;
                if (i == start || q->used + (i - start) + 1 > sizeof(q->text))
                        return;
                memcpy(q->text + q->used, name + start, i - start);
                q->text[q->used + (i - start)] = '\0';
                q->toks[q->ntoks].norm = q->toks[q->ntoks].stem =
                    q->text + q->used;
                q->toks[q->ntoks].norm_len = q->toks[q->ntoks].stem_len =
                    (uint16_t)(i - start);
                q->toks[q->ntoks].pos = (uint16_t)q->ntoks;
                q->toks[q->ntoks].flags = 0;
                q->ntoks++;
                q->used += i - start + 1;
                i++;
        }
}

/* Reads entry @id and looks up its phrase and tokens. */
static void fuzz_entry(const ltrr_qu_dict_t *d, uint32_t id,
                       struct fuzz_query *q)
{
        ltrr_qu_alt_t alts[LTRR_QU_ALTS_MAX];
        ltrr_qu_entry_t e;
        uint32_t i, first, cnt;
        uint64_t key = 0;
        unsigned flags;

        if (ltrr_qu_dict_entry(d, id, &e) != LTRR_OK)
                __builtin_trap();
        if ((unsigned)e.kind >= LTRR_QU__CNT || e.toks_cnt == 0 ||
            e.toks_cnt > LTRR_QU_PHRASE_TOKENS_MAX)
                __builtin_trap();
        for (i = 0; i < e.toks_cnt; i++)
                key = ltrr_qu_key_step(key, e.toks[i]);
        flags = ltrr_qu_dict_phrase(d, key, &first, &cnt);
        (void)flags;
        if (e.name_len)
                ltrr_qu_dict_fuzzy(d, e.name, e.name_len, alts,
                                   LTRR_QU_ALTS_MAX);
        ltrr_qu_dict_token(d, e.name, e.name_len);
        fuzz_query_add(q, e.name, e.name_len);
}

/* Uses a loaded dictionary every way a reader can. */
static void fuzz_use(const ltrr_qu_dict_t *d)
{
        static struct fuzz_query q;
        ltrr_qu_span_t spans[LTRR_QU_QUERY_TOKENS_MAX];
        ltrr_qu_intent_t intent;
        ltrr_qu_stats_t st;
        size_t cnt = 0, i;
        uint32_t id;

        ltrr_qu_dict_stats(d, &st);
        memset(&q, 0, sizeof(q));
        for (id = 0; id < st.entries && id < FUZZ_ENTRIES_MAX; id++)
                fuzz_entry(d, id, &q);
        if (ltrr_qu_dict_entry(d, st.entries, &(ltrr_qu_entry_t){0}) !=
            LTRR_ERR_RANGE)
                __builtin_trap();
        if (ltrr_qu_tag(d, fuzz_sc, q.toks, q.ntoks, spans,
                        LTRR_QU_QUERY_TOKENS_MAX, &cnt, &intent) < 0 &&
            cnt != LTRR_QU_QUERY_TOKENS_MAX)
                __builtin_trap();
        for (i = 0; i < cnt; i++)
                if (spans[i].len == 0 ||
                    spans[i].start + spans[i].len > q.ntoks ||
                    (unsigned)spans[i].kind >= LTRR_QU__CNT)
                        __builtin_trap();
        if ((unsigned)intent >= LTRR_QU_INTENT__CNT)
                __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        ltrr_qu_dict_t *d = NULL;
        char errstr[256];
        uint8_t *blob;

        if (size < 1 || size > FUZZ_INPUT_MAX)
                return 0;
        if (!fuzz_sc &&
            !(fuzz_sc = ltrr_qu_scratch_new(errstr, sizeof(errstr))))
                __builtin_trap();
        /* malloc memory is 8-byte aligned; exact size so ASan sees any
         * read past the end. */
        if (!(blob = malloc(size - 1 ? size - 1 : 1)))
                return 0;
        memcpy(blob, data + 1, size - 1);
        if (data[0] & 1)
                fuzz_fix_header(blob, size - 1);
        if ((d = ltrr_qu_dict_load(blob, size - 1, errstr, sizeof(errstr))))
                fuzz_use(d);
        else if (!memchr(errstr, '\0', sizeof(errstr)))
                __builtin_trap();
        ltrr_qu_dict_destroy(d);
        free(blob);
        return 0;
}
