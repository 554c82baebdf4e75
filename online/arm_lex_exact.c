/*
 * ltrr - the lexical pass's exact name matches: entities whose name is
 * exactly the query's tokens (the last one possibly as a prefix), found
 * through the NAMES section (moved out of arm_lexical.c).
 */
#include "arm_lex_int.h"


/* Scores entity @p doc against every term; sets c->exact. Cursors only
 * move forward: call with ascending entities after rewind_all(). */
static void eval_full(lex_query_t *lq, uint32_t doc, lex_top_t *c)
{
        uint32_t nametf = 0;
        memset(c, 0, sizeof(*c));
        c->ent = doc;
        for (size_t i = 0; i < lq->cnt; i++)
                add_term(lq, &lq->terms[i], doc, c, &nametf);
        c->exact = c->namemask == lq->all && nametf == lq->qn &&
                   c->namelen == lq->qn;
}

/* Offers every entity filed under name hash @p h that really is an
 * exact match (hashes may collide) to the heap @p ex. */
static void exact_lookup(lex_query_t *lq, uint64_t h, lex_top_t *ex,
                         size_t *nep, size_t k)
{
        const ltrr_index_t *ix = lq->ix;
        rewind_all(lq);
        for (uint32_t i = ltrr_index_name_lower(ix, h);
             i < ix->n && ix->names[i].hash == h; i++) {
                lex_top_t c;
                uint32_t doc = ix->names[i].doc;
                if (doc >= ix->n)
                        continue; /* corrupt record */
                if (lq->keep && !lq->keep(lq->keep_opaque, ix, doc))
                        continue; /* asked first: cheaper than scoring */
                eval_full(lq, doc, &c);
                if (!c.exact)
                        continue;
                if (*nep == k && c.score == ex[0].score &&
                    tie_loses(lq, &ex[0], doc))
                        continue; /* a tie that cannot win: no FEATURES
                                   * read (entities come in order) */
                heap_offer(ix, ex, nep, k, &c);
        }
}

/* Records of the NAMES section under hash @p h. */
static uint64_t names_count(const ltrr_index_t *ix, uint64_t h)
{
        uint32_t a = ltrr_index_name_lower(ix, h);
        uint32_t b = h == UINT64_MAX ? ix->n : ltrr_index_name_lower(ix, h + 1);
        return b > a ? b - a : 0;
}

/* The query's name hash without its prefix terms (*basep) and the query
 * slots no exact term covers (*missingp). */
static void exact_base(const lex_query_t *lq, uint64_t *basep,
                       uint32_t *missingp)
{
        uint64_t base = 0;
        uint32_t covered = 0;
        for (size_t i = 0; i < lq->cnt; i++) {
                const lex_term_t *lt = &lq->terms[i];
                if (lt->prefix)
                        continue;
                uint64_t th = ltrr_index_name_hash(
                    lq->ix->termstr + lt->t->str_off, lt->t->str_len);
                base += th * (uint64_t)__builtin_popcount(lt->slots);
                covered |= lt->slots;
        }
        *basep = base;
        *missingp = lq->all & ~covered;
}

/* How many exact name matches ltrr_arm_lex_exact_pass() could find at
 * most: the NAMES records under the hashes it looks up. */
uint64_t ltrr_arm_lex_exact_bound(const lex_query_t *lq)
{
        uint64_t base, cnt = 0;
        uint32_t missing;
        exact_base(lq, &base, &missing);
        if (lq->qn == 0 || lq->qn > 32)
                return 0;
        if (!missing)
                return names_count(lq->ix, base);
        if (__builtin_popcount(missing) != 1)
                return 0;
        for (size_t i = 0; i < lq->cnt; i++) {
                const lex_term_t *lt = &lq->terms[i];
                if (lt->prefix && (lt->slots & missing))
                        cnt += names_count(lq->ix, base + ltrr_index_name_hash(
                                lq->ix->termstr + lt->t->str_off,
                                lt->t->str_len));
        }
        return cnt;
}

/* Finds the entities whose name is exactly the query's tokens through
 * the NAMES section: the query's token hash sum, with each expansion of
 * a prefix token in turn. */
void ltrr_arm_lex_exact_pass(lex_query_t *lq, lex_top_t *ex, size_t *nep,
                             size_t k)
{
        uint64_t base;
        uint32_t missing;
        exact_base(lq, &base, &missing);
        if (lq->qn == 0 || lq->qn > 32)
                return;
        if (!missing) {
                exact_lookup(lq, base, ex, nep, k);
        } else if (__builtin_popcount(missing) == 1) {
                for (size_t i = 0; i < lq->cnt; i++) {
                        const lex_term_t *lt = &lq->terms[i];
                        if (lt->prefix && (lt->slots & missing))
                                exact_lookup(lq, base + ltrr_index_name_hash(
                                        lq->ix->termstr + lt->t->str_off,
                                        lt->t->str_len), ex, nep, k);
                }
        }
        rewind_all(lq);
}
