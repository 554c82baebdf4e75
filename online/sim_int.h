/*
 * ltrr - internals of the user simulator shared by online/sim_*.c.
 */
#ifndef LTRR_SIM_INT_H
#define LTRR_SIM_INT_H

#include "sim.h"

/** Most users in a population (each costs 24 doubles of hourly weights). */
#define LTRR_SIM_USERS_MAX 100000
/** Most distinct ambiguous words tracked (the vocabulary's title cores). */
#define LTRR_SIM_CORES_MAX 32

/* A compressed list per key: entries off[k] .. off[k + 1] of ent. */
typedef struct sim_csr_s {
        uint32_t *off; /* keys + 1 offsets */
        uint32_t *ent; /* entity indexes */
        uint32_t keys; /* number of keys */
} sim_csr_t;

struct ltrr_sim_s {
        const ltrr_catalog_t *cat; /* borrowed */
        ltrr_sim_conf_t conf;      /* copy of the caller's conf */
        ltrr_sim_user_t *users;    /* conf.users entries */
        double *hour_cdf;          /* 24 x users cumulative weights */
        uint32_t *items;           /* tracks and albums (known items) */
        double *items_cdf;         /* cumulative popularity of items */
        uint32_t items_cnt;        /* entries in items */
        uint32_t *artist_ents;     /* artist entities */
        double *artist_cdf;        /* cumulative popularity of artists */
        uint32_t artist_ents_cnt;  /* entries in artist_ents */
        uint32_t *artist_ent_of;   /* artist symbol -> artist entity */
        sim_csr_t by_artist;       /* artist symbol -> entities credited */
        sim_csr_t by_genre;        /* genre symbol -> entities */
        sim_csr_t by_core;         /* core number -> entities named with it */
        uint32_t cores_cnt;        /* cores tracked */
};

/* Frees the arrays of @csr. */
void ltrr_sim_csr_free(sim_csr_t *csr);

/* Builds the catalog lookups of @sim (sim_intents.c). */
ltrr_err_t ltrr_sim_lookups_build(ltrr_sim_t *sim, char *errstr,
                                  size_t errstr_size);

/* Frees what ltrr_sim_lookups_build() allocated. */
void ltrr_sim_lookups_free(ltrr_sim_t *sim);

/* Index of the first cdf entry > u * cdf[n - 1] (binary search). */
uint32_t ltrr_sim_cdf_pick(const double *cdf, uint32_t n, ltrr_rng_t *rng);

/* 1 if @name has a word equal to @word, ASCII case-insensitively. */
int ltrr_sim_has_word(const char *name, const char *word);

#endif /* LTRR_SIM_INT_H */
