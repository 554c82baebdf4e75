/*
 * ltrr - index file reader: map, validate, verify, and read in place.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arm_artents.h"
#include "index_int.h"
#include "spell_words.h"

_Static_assert(sizeof(ltrr_index_hdr_t) == LTRR_INDEX_HDR_SIZE, "header");
_Static_assert(sizeof(ltrr_index_sec_rec_t) == LTRR_INDEX_SEC_SIZE, "sec");
_Static_assert(sizeof(ltrr_index_meta_t) == 80, "meta");
_Static_assert(sizeof(ltrr_index_ent_t) == 24, "entity record");
_Static_assert(sizeof(ltrr_index_feat_t) == 16, "feature record");
_Static_assert(sizeof(ltrr_index_term_t) == 32, "term record");
_Static_assert(sizeof(ltrr_index_blkhdr_t) == 32, "block header");
_Static_assert(sizeof(ltrr_index_block_t) == 16, "block record");
_Static_assert(sizeof(ltrr_index_name_t) == 16, "name record");
_Static_assert(sizeof(ltrr_index_post_t) == 20, "posting record");
_Static_assert(sizeof(ltrr_index_flen_t) == 8, "field length record");

/* ---- CRC-32C ---------------------------------------------------------- */

static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

/* Fills the slice-by-8 tables of the reflected Castagnoli polynomial. */
static void crc_init(void)
{
        for (uint32_t i = 0; i < 256; i++) {
                uint32_t c = i;
                for (int k = 0; k < 8; k++)
                        c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
                crc_table[0][i] = c;
        }
        for (uint32_t i = 0; i < 256; i++)
                for (int t = 1; t < 8; t++)
                        crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^
                                          crc_table[0][crc_table[t - 1][i] &
                                                       0xff];
}

#if defined(__x86_64__)
/* Hardware CRC-32C (SSE4.2), 8 bytes per instruction. */
__attribute__((target("sse4.2"))) static uint32_t
crc_hw(uint32_t c, const uint8_t *p, size_t len)
{
        uint64_t c64 = c;
        while (len >= 8) {
                uint64_t v;
                memcpy(&v, p, 8);
                c64 = __builtin_ia32_crc32di(c64, v);
                p += 8;
                len -= 8;
        }
        c = (uint32_t)c64;
        while (len--)
                c = __builtin_ia32_crc32qi(c, *p++);
        return c;
}
#endif

/* Portable slice-by-8 CRC-32C. */
static uint32_t crc_sw(uint32_t c, const uint8_t *p, size_t len)
{
        pthread_once(&crc_once, crc_init);
        while (len >= 8) {
                uint32_t lo, hi;
                memcpy(&lo, p, 4);
                memcpy(&hi, p + 4, 4);
                lo ^= c;
                c = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
                    crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
                    crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
                    crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
                p += 8;
                len -= 8;
        }
        while (len--)
                c = (c >> 8) ^ crc_table[0][(c ^ *p++) & 0xff];
        return c;
}

uint32_t ltrr_index_crc32c(uint32_t crc, const void *data, size_t len)
{
        uint32_t c = ~crc;
#if defined(__x86_64__)
        if (__builtin_cpu_supports("sse4.2"))
                return ~crc_hw(c, data, len);
#endif
        return ~crc_sw(c, data, len);
}

/* ---- names ------------------------------------------------------------ */

const char *ltrr_index_sec_name(uint32_t kind)
{
        switch (kind) {
        case LTRR_INDEX_SEC_META: return "meta";
        case LTRR_INDEX_SEC_ENTITIES: return "entities";
        case LTRR_INDEX_SEC_STRINGS: return "strings";
        case LTRR_INDEX_SEC_TERMS: return "terms";
        case LTRR_INDEX_SEC_TERMSTR: return "termstr";
        case LTRR_INDEX_SEC_POSTINGS: return "postings";
        case LTRR_INDEX_SEC_FIELDLEN: return "fieldlen";
        case LTRR_INDEX_SEC_FEATURES: return "features";
        case LTRR_INDEX_SEC_BLOCKS: return "blocks";
        case LTRR_INDEX_SEC_NAMES: return "names";
        case LTRR_INDEX_SEC_NGRAMS: return "ngrams";
        case LTRR_INDEX_SEC_VECTORS: return "vectors";
        case LTRR_INDEX_SEC_QU: return "qu";
        case LTRR_INDEX_SEC_Q2E: return "q2e";
        case LTRR_INDEX_SEC_PREFIX: return "prefix";
        case LTRR_INDEX_SEC_ATTRS: return "attrs";
        case LTRR_INDEX_SEC_ENTATTR: return "entattr";
        case LTRR_INDEX_SEC_IMPACT: return "impact";
        case LTRR_INDEX_SEC_PFXIMPACT: return "pfximpact";
        case LTRR_INDEX_SEC_RECENT: return "recent";
        case LTRR_ARM_SEC_ARTENTS: return "artents";
        case LTRR_ARM_SEC_GENENTS: return "genents";
        case LTRR_SPELL_SEC_WORDS: return "words";
        default: return "unknown";
        }
}

const char *ltrr_index_field_name(ltrr_index_field_t f)
{
        static const char *const names[LTRR_INDEX_FIELDS] = {
            "name", "artist", "album", "description"};
        return (unsigned)f < LTRR_INDEX_FIELDS ? names[f] : "unknown";
}

/* ---- open ------------------------------------------------------------- */

/* Checks magic, versions, sizes and the header CRC of the mapping. */
static ltrr_err_t check_header(const uint8_t *base, uint64_t size,
                               char *errstr, size_t errstr_size)
{
        ltrr_index_hdr_t h;
        if (size < LTRR_INDEX_HDR_SIZE)
                return ltrr_errf(LTRR_ERR_TRUNCATED, errstr, errstr_size,
                                 "file is %llu bytes, shorter than the "
                                 "index header", (unsigned long long)size);
        memcpy(&h, base, sizeof(h));
        if (memcmp(h.magic, LTRR_INDEX_MAGIC, 8) != 0)
                return ltrr_errf(LTRR_ERR_SCHEMA, errstr, errstr_size,
                                 "not an ltrr index file (bad magic)");
        if (h.format_version != LTRR_INDEX_FORMAT_VERSION)
                return ltrr_errf(LTRR_ERR_SCHEMA, errstr, errstr_size,
                                 "index format version %u, this build "
                                 "reads %u: rebuild the index",
                                 h.format_version,
                                 LTRR_INDEX_FORMAT_VERSION);
        if (h.analyzer_version != LTRR_INDEX_ANALYZER_VERSION)
                return ltrr_errf(LTRR_ERR_SCHEMA, errstr, errstr_size,
                                 "index analyzer version %u, this build "
                                 "analyzes with %u: rebuild the index",
                                 h.analyzer_version,
                                 LTRR_INDEX_ANALYZER_VERSION);
        if (h.header_size != LTRR_INDEX_HDR_SIZE || h.section_cnt == 0 ||
            h.section_cnt > LTRR_INDEX_SECTIONS_MAX)
                return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                 "bad header (size %u, %u sections)",
                                 h.header_size, h.section_cnt);
        uint64_t tab_end = LTRR_INDEX_HDR_SIZE +
                           (uint64_t)h.section_cnt * LTRR_INDEX_SEC_SIZE;
        if (h.file_size != size || size < tab_end)
                return ltrr_errf(LTRR_ERR_TRUNCATED, errstr, errstr_size,
                                 "file is %llu bytes, header says %llu",
                                 (unsigned long long)size,
                                 (unsigned long long)h.file_size);
        uint32_t c = ltrr_index_crc32c(0, base, 60);
        c = ltrr_index_crc32c(c, base + LTRR_INDEX_HDR_SIZE,
                              tab_end - LTRR_INDEX_HDR_SIZE);
        if (c != h.header_crc)
                return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                 "header checksum mismatch");
        return LTRR_OK;
}

/* Finds section @p kind, checks it is a whole number of @p rec records
 * (rec 0: any length) and stores its address and length. */
static ltrr_err_t find_sec(ltrr_index_t *ix, uint32_t kind, size_t rec,
                           const void **pp, uint64_t *lenp, char *errstr,
                           size_t errstr_size)
{
        uint64_t len = 0;
        const void *p = ltrr_index_section(ix, kind, &len);
        if (!p)
                return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                 "required section '%s' is missing",
                                 ltrr_index_sec_name(kind));
        if (rec && len % rec)
                return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                 "section '%s' length %llu is not a "
                                 "multiple of %zu",
                                 ltrr_index_sec_name(kind),
                                 (unsigned long long)len, rec);
        *pp = p;
        *lenp = len;
        return LTRR_OK;
}

/* Checks that every section lies inside the file and is aligned. */
static ltrr_err_t check_table(ltrr_index_t *ix, char *errstr,
                              size_t errstr_size)
{
        uint64_t tab_end = LTRR_INDEX_HDR_SIZE +
                           (uint64_t)ix->hdr->section_cnt * LTRR_INDEX_SEC_SIZE;
        for (uint32_t i = 0; i < ix->hdr->section_cnt; i++) {
                const ltrr_index_sec_rec_t *s = &ix->secs[i];
                if (s->offset < tab_end || s->offset % 8 ||
                    s->offset > ix->size || s->length > ix->size - s->offset)
                        return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                         "section %u ('%s') lies outside "
                                         "the file", i,
                                         ltrr_index_sec_name(s->kind));
        }
        return LTRR_OK;
}

/* Locates the required sections and checks their sizes agree. */
static ltrr_err_t bind_sections(ltrr_index_t *ix, char *errstr,
                                size_t errstr_size)
{
        const void *p = NULL;
        uint64_t len = 0;
        ltrr_err_t err;
#define BIND(kind, rec, field, lenvar)                                         \
        do {                                                                   \
                err = find_sec(ix, kind, rec, &p, &len, errstr, errstr_size);  \
                if (err)                                                       \
                        return err;                                            \
                ix->field = p;                                                 \
                lenvar = len;                                                  \
        } while (0)
        uint64_t meta_len, ent_len, feat_len, flen_len, term_len, post_len;
        BIND(LTRR_INDEX_SEC_META, 0, meta, meta_len);
        BIND(LTRR_INDEX_SEC_ENTITIES, sizeof(ltrr_index_ent_t), ents, ent_len);
        BIND(LTRR_INDEX_SEC_FEATURES, sizeof(ltrr_index_feat_t), feats,
             feat_len);
        BIND(LTRR_INDEX_SEC_FIELDLEN, sizeof(ltrr_index_flen_t), flens,
             flen_len);
        BIND(LTRR_INDEX_SEC_TERMS, sizeof(ltrr_index_term_t), terms, term_len);
        BIND(LTRR_INDEX_SEC_POSTINGS, sizeof(ltrr_index_post_t), posts,
             post_len);
        BIND(LTRR_INDEX_SEC_STRINGS, 0, strings, ix->strings_len);
        BIND(LTRR_INDEX_SEC_TERMSTR, 0, termstr, ix->termstr_len);
        uint64_t blk_len, names_len;
        BIND(LTRR_INDEX_SEC_BLOCKS, 0, blkhdr, blk_len);
        BIND(LTRR_INDEX_SEC_NAMES, sizeof(ltrr_index_name_t), names,
             names_len);
#undef BIND
        if (blk_len < sizeof(ltrr_index_blkhdr_t) ||
            (blk_len - sizeof(ltrr_index_blkhdr_t)) %
                sizeof(ltrr_index_block_t))
                return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                 "blocks section has %llu bytes",
                                 (unsigned long long)blk_len);
        ix->blocks = (const ltrr_index_block_t *)(ix->blkhdr + 1);
        ix->block_cnt = (blk_len - sizeof(ltrr_index_blkhdr_t)) /
                        sizeof(ltrr_index_block_t);
        if (meta_len != sizeof(ltrr_index_meta_t))
                return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                 "meta section has %llu bytes",
                                 (unsigned long long)meta_len);
        ix->n = ix->meta->entity_cnt;
        ix->term_cnt = ix->meta->term_cnt;
        ix->post_cnt = ix->meta->posting_cnt;
        uint64_t n = ix->n;
        if (n != ix->hdr->entity_cnt || ent_len != n * sizeof(*ix->ents) ||
            feat_len != n * sizeof(*ix->feats) ||
            flen_len != n * sizeof(*ix->flens) ||
            term_len != (uint64_t)ix->term_cnt * sizeof(*ix->terms) ||
            post_len != ix->post_cnt * sizeof(*ix->posts) ||
            names_len != n * sizeof(*ix->names))
                return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                 "section sizes disagree with the counts "
                                 "in the meta section");
        if (ix->strings_len == 0 || ix->strings[ix->strings_len - 1] != '\0')
                return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                 "string pool is not NUL-terminated");
        return LTRR_OK;
}

/* Checks every offset stored in the entity and term tables, so that
 * lookups never leave the mapping even when section CRCs are unchecked. */
static ltrr_err_t check_offsets(ltrr_index_t *ix, char *errstr,
                                size_t errstr_size)
{
        for (uint32_t i = 0; i < ix->n; i++) {
                const ltrr_index_ent_t *e = &ix->ents[i];
                if (e->id >= ix->strings_len || e->name >= ix->strings_len ||
                    e->artists >= ix->strings_len ||
                    e->album >= ix->strings_len ||
                    e->description >= ix->strings_len)
                        return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                         "entity %u has a string offset "
                                         "outside the pool", i);
        }
        for (uint32_t i = 0; i < ix->term_cnt; i++) {
                const ltrr_index_term_t *t = &ix->terms[i];
                uint64_t nb = ((uint64_t)t->df + LTRR_INDEX_BLOCK - 1) /
                              LTRR_INDEX_BLOCK;
                if ((uint64_t)t->str_off + t->str_len > ix->termstr_len ||
                    t->post_off > ix->post_cnt ||
                    t->df > ix->post_cnt - t->post_off ||
                    t->block_off > ix->block_cnt ||
                    nb > ix->block_cnt - t->block_off)
                        return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                         "term %u points outside its "
                                         "sections", i);
        }
        return LTRR_OK;
}

/* Validates a mapping already stored in @p ix (fast mode). */
static ltrr_err_t validate(ltrr_index_t *ix, char *errstr, size_t errstr_size)
{
        ltrr_err_t err = check_header(ix->base, ix->size, errstr, errstr_size);
        if (err)
                return err;
        ix->hdr = (const ltrr_index_hdr_t *)ix->base;
        ix->secs = (const ltrr_index_sec_rec_t *)(ix->base +
                                                  LTRR_INDEX_HDR_SIZE);
        if ((err = check_table(ix, errstr, errstr_size)) ||
            (err = bind_sections(ix, errstr, errstr_size)) ||
            (err = check_offsets(ix, errstr, errstr_size)))
                return err;
        memcpy(ix->lang, ix->meta->lang, LTRR_INDEX_LANG_MAX);
        ix->lang[LTRR_INDEX_LANG_MAX] = '\0';
        return LTRR_OK;
}

ltrr_index_t *ltrr_index_open(const char *path, char *errstr,
                              size_t errstr_size)
{
        ltrr_index_t *ix = NULL;
        struct stat st;
        int fd = -1;
        if (!path) {
                ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                          "no index path");
                goto err;
        }
        if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st)) {
                ltrr_errf(LTRR_ERR_IO, errstr, errstr_size, "%s: %s", path,
                          strerror(errno));
                goto err;
        }
        if (!(ix = calloc(1, sizeof(*ix)))) {
                ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size, "out of memory");
                goto err;
        }
        ix->size = (uint64_t)st.st_size;
        if (ix->size == 0) {
                ltrr_errf(LTRR_ERR_TRUNCATED, errstr, errstr_size,
                          "%s: empty file", path);
                goto err;
        }
        void *m = mmap(NULL, ix->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
                ltrr_errf(LTRR_ERR_IO, errstr, errstr_size, "mmap %s: %s",
                          path, strerror(errno));
                goto err;
        }
        ix->base = m;
        close(fd);
        fd = -1;
        if (validate(ix, errstr, errstr_size))
                goto err;
        return ix;
err:
        if (fd >= 0)
                close(fd);
        ltrr_index_destroy(ix);
        return NULL;
}

/* Checks that the padding from @p from to @p to is zero. */
static ltrr_err_t check_gap(const ltrr_index_t *ix, uint64_t from, uint64_t to,
                            char *errstr, size_t errstr_size)
{
        for (uint64_t i = from; i < to && i < ix->size; i++)
                if (ix->base[i] != 0)
                        return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                         "padding byte at offset %llu is "
                                         "not zero", (unsigned long long)i);
        return LTRR_OK;
}

ltrr_err_t ltrr_index_verify(const ltrr_index_t *ix, char *errstr,
                             size_t errstr_size)
{
        if (!ix)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "no index");
        uint64_t end = LTRR_INDEX_HDR_SIZE +
                       (uint64_t)ix->hdr->section_cnt * LTRR_INDEX_SEC_SIZE;
        for (uint32_t i = 0; i < ix->hdr->section_cnt; i++) {
                const ltrr_index_sec_rec_t *s = &ix->secs[i];
                if (s->offset >= end &&
                    check_gap(ix, end, s->offset, errstr, errstr_size))
                        return LTRR_ERR_CORRUPT;
                if (s->offset + s->length > end)
                        end = s->offset + s->length;
        }
        if (check_gap(ix, end, ix->size, errstr, errstr_size))
                return LTRR_ERR_CORRUPT;
        for (uint32_t i = 0; i < ix->hdr->section_cnt; i++) {
                const ltrr_index_sec_rec_t *s = &ix->secs[i];
                uint32_t c = ltrr_index_crc32c(0, ix->base + s->offset,
                                               s->length);
                if (c != s->crc)
                        return ltrr_errf(LTRR_ERR_CORRUPT, errstr, errstr_size,
                                         "section %u ('%s') checksum "
                                         "mismatch: stored %08x, computed "
                                         "%08x", i,
                                         ltrr_index_sec_name(s->kind), s->crc,
                                         c);
        }
        return LTRR_OK;
}

void ltrr_index_destroy(ltrr_index_t *ix)
{
        if (!ix)
                return;
        if (ix->base)
                munmap((void *)ix->base, ix->size);
        free(ix);
}

/* ---- accessors -------------------------------------------------------- */

uint32_t ltrr_index_count(const ltrr_index_t *ix) { return ix->n; }

uint32_t ltrr_index_terms(const ltrr_index_t *ix) { return ix->term_cnt; }

uint64_t ltrr_index_postings(const ltrr_index_t *ix) { return ix->post_cnt; }

uint64_t ltrr_index_size(const ltrr_index_t *ix) { return ix->size; }

const char *ltrr_index_lang(const ltrr_index_t *ix) { return ix->lang; }

int ltrr_index_stopwords(const ltrr_index_t *ix)
{
        return (ix->meta->flags & LTRR_INDEX_META_STOPWORDS) != 0;
}

double ltrr_index_field_avglen(const ltrr_index_t *ix, ltrr_index_field_t f)
{
        if ((unsigned)f >= LTRR_INDEX_FIELDS)
                return 0.0;
        return ix->meta->avglen[f];
}

ltrr_err_t ltrr_index_entity(const ltrr_index_t *ix, uint32_t idx,
                             ltrr_index_entity_t *out)
{
        if (idx >= ix->n)
                return LTRR_ERR_RANGE;
        const ltrr_index_ent_t *e = &ix->ents[idx];
        const ltrr_index_feat_t *f = &ix->feats[idx];
        out->id = ix->strings + e->id;
        out->name = ix->strings + e->name;
        out->artists = ix->strings + e->artists;
        out->album = ix->strings + e->album;
        out->description = ix->strings + e->description;
        out->type = (ltrr_entity_type_t)f->type;
        out->language[0] = f->lang[0];
        out->language[1] = f->lang[1];
        out->language[2] = '\0';
        out->release_days = f->release_days;
        out->release_prec = (ltrr_date_prec_t)f->release_prec;
        out->duration_ms = f->duration_ms;
        out->popularity = f->popularity;
        return LTRR_OK;
}

int64_t ltrr_index_find(const ltrr_index_t *ix, const char *id)
{
        for (uint32_t i = 0; i < ix->n; i++)
                if (strcmp(ix->strings + ix->ents[i].id, id) == 0)
                        return i;
        return -1;
}

uint32_t ltrr_index_section_count(const ltrr_index_t *ix)
{
        return ix->hdr->section_cnt;
}

ltrr_err_t ltrr_index_section_info(const ltrr_index_t *ix, uint32_t i,
                                   ltrr_index_section_info_t *out)
{
        if (i >= ix->hdr->section_cnt)
                return LTRR_ERR_RANGE;
        const ltrr_index_sec_rec_t *s = &ix->secs[i];
        out->kind = s->kind;
        out->offset = s->offset;
        out->length = s->length;
        out->crc = s->crc;
        out->known = strcmp(ltrr_index_sec_name(s->kind), "unknown") != 0;
        return LTRR_OK;
}

const void *ltrr_index_section(const ltrr_index_t *ix, uint32_t kind,
                               uint64_t *lenp)
{
        for (uint32_t i = 0; i < ix->hdr->section_cnt; i++) {
                if (ix->secs[i].kind != kind)
                        continue;
                if (lenp)
                        *lenp = ix->secs[i].length;
                return ix->base + ix->secs[i].offset;
        }
        return NULL;
}

/* ---- term dictionary -------------------------------------------------- */

/* Compares term record @p t with @p len bytes at @p s, bytewise. */
static int term_cmp(const ltrr_index_t *ix, const ltrr_index_term_t *t,
                    const char *s, size_t len)
{
        size_t m = t->str_len < len ? t->str_len : len;
        int c = memcmp(ix->termstr + t->str_off, s, m);
        if (c)
                return c;
        return t->str_len < len ? -1 : t->str_len > len;
}

uint32_t ltrr_index_term_lower(const ltrr_index_t *ix, const char *term,
                               size_t len)
{
        uint32_t lo = 0, hi = ix->term_cnt;
        while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;
                if (term_cmp(ix, &ix->terms[mid], term, len) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

const ltrr_index_term_t *ltrr_index_term_find(const ltrr_index_t *ix,
                                              const char *term, size_t len)
{
        uint32_t i = ltrr_index_term_lower(ix, term, len);
        if (i < ix->term_cnt && term_cmp(ix, &ix->terms[i], term, len) == 0)
                return &ix->terms[i];
        return NULL;
}

/* ---- name lookup ------------------------------------------------------ */

uint64_t ltrr_index_name_hash(const char *stem, size_t len)
{
        uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a 64 */
        for (size_t i = 0; i < len; i++) {
                h ^= (unsigned char)stem[i];
                h *= 0x100000001b3ull;
        }
        h ^= h >> 33; /* final avalanche so that sums do not cancel */
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 33;
        return h;
}

uint32_t ltrr_index_name_lower(const ltrr_index_t *ix, uint64_t hash)
{
        uint32_t lo = 0, hi = ix->n;
        while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;
                if (ix->names[mid].hash < hash)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}
