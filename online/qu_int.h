/*
 * ltrr - query understanding dictionary internals, shared by qu_dict.c
 * (load, validation and lookups) and qu_build.c (build from a catalog).
 *
 * Blob layout (host byte order; the magic tells a foreign one apart),
 * every section 8-byte aligned, all offsets relative to the blob:
 *
 *   header    16 x u32: magic, version, total length, FNV-1a checksum of
 *             the bytes after the header, then the counts below
 *   tok_off   (ntok + 1) x u32  token i is pool[tok_off[i] .. tok_off[i+1])
 *   tok_info  ntok x u32        code points (bits 0-7), largest weight of
 *                               an entry holding it (bits 8-15, x 255)
 *   vbkt      (nvbkt + 1) x u32 token hash buckets (CSR offsets into vids)
 *   vids      ntok x u32        token ids grouped by bucket
 *   dbkt      (ndbkt + 1) x u32 deletion-key buckets (CSR into dpair)
 *   dpair     ndel x 2 u32      FNV-1a of one deletion variant, and the
 *                               token id it came from (one cache line)
 *   ents      nent x 8 u32      entries (struct qu_ent)
 *   enttok    nenttok x u32     token ids of every entry's phrase
 *   phr       nphr x 16 bytes   open-addressing table of phrase keys
 *   pool      npool bytes       token strings, then display names
 */
#ifndef LTRR_QU_INT_H
#define LTRR_QU_INT_H

#include <stddef.h>
#include <stdint.h>

#include "qu.h"

#define QU_MAGIC 0x4451544cu /* "LTQD" read as little-endian u32 */
#define QU_VERSION 1u
#define QU_HDR_WORDS 16
#define QU_HDR_BYTES (QU_HDR_WORDS * 4)
/* Deletion variants of one token: 1 + 64 + 64 * 63 / 2 at two edits. */
#define QU_DELS_PER_TOK 2100

enum { H_MAGIC, H_VERSION, H_LEN, H_SUM, H_NTOK, H_NPOOL, H_NVBKT, H_NDBKT,
       H_NDEL, H_NENT, H_NENTTOK, H_NPHR, H_SKIPPED };

enum { S_TOKOFF, S_TOKINFO, S_VBKT, S_VIDS, S_DBKT, S_DPAIR, S_ENTS,
       S_ENTTOK, S_PHR, S_POOL, S__CNT };

/* One dictionary entry as stored in the blob. */
struct qu_ent {
        uint32_t tok_off;    /* first token in enttok */
        uint32_t cnt_kind;   /* token count | kind << 16 */
        uint32_t value;      /* see ltrr_qu_kind_t */
        float weight;        /* 0..1 */
        uint32_t name_off;   /* display name in pool */
        uint32_t name_len;   /* bytes of the name */
        uint32_t freq;       /* entities carrying the symbol, 0 built-in */
        uint32_t title_df;   /* titles holding the phrase, see QU.md */
};

/* One slot of the phrase table; key 0 marks an empty slot. */
struct qu_phr {
        uint64_t key;        /* ltrr_qu_key_step() chain of token ids */
        uint32_t first;      /* first entry with this phrase */
        uint32_t cnt_flags;  /* entry count | LTRR_QU_PHRASE_* << 16 */
};

struct ltrr_qu_dict_s {
        void *owned;              /* blob allocated by build, else NULL */
        const uint8_t *blob;      /* the blob */
        size_t len;               /* bytes in blob */
        uint32_t h[QU_HDR_WORDS]; /* copy of the header */
        const uint32_t *tok_off;  /* see the layout above */
        const uint32_t *tok_info;
        const uint32_t *vbkt;
        const uint32_t *vids;
        const uint32_t *dbkt;
        const uint32_t *dpair;
        const struct qu_ent *ents;
        const uint32_t *enttok;
        const struct qu_phr *phr;
        const char *pool;
};

/* Byte offsets of each section, and the total, for the counts in @h. */
void ltrr_qu_layout(const uint32_t *h, uint64_t *off, uint64_t *total);

/* Points the section pointers of @d at its blob (sizes already checked). */
void ltrr_qu_attach(ltrr_qu_dict_t *d);

/* Number of code points in @s (bytes that are not continuation bytes). */
size_t ltrr_qu_cps_count(const char *s, size_t len);

/* Writes to @out the hashes of every variant of @s with 0..@k code points
 * deleted (k <= 2), repeats kept. Returns the count (at most @cap). */
size_t ltrr_qu_deletes(const char *s, size_t len, unsigned k, uint32_t *out,
                       size_t cap);

/* Slot of @key in the phrase table @phr of @nphr slots, or NULL. */
const struct qu_phr *ltrr_qu_phr_find(const struct qu_phr *phr,
                                      uint32_t nphr, uint64_t key);

#endif /* LTRR_QU_INT_H */
