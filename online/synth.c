/*
 * ltrr - deterministic synthetic catalog generator.
 *
 * Entities come in groups: an artist followed by its albums and their
 * tracks, a podcast followed by its episodes, or a single playlist. An
 * artist's name, language and genre are a pure function of (seed, artist
 * number), so a track can credit an earlier artist as a featured guest
 * without the generator remembering anything: memory is constant in n.
 */
#include "rng.h"
#include "synth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- vocabulary ------------------------------------------------------ */

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const char *const en_words[] = {
        "Midnight", "City", "Lights", "Golden", "River", "Wild", "Blue",
        "Fever", "Ocean", "Electric", "Paradise", "Shadow", "Gravity",
        "Highway", "Sunset", "Diamond", "Thunder", "Silver", "Echo", "Young",
        "Forever", "Broken", "Angel", "Crazy", "Sweet", "Lonely", "Moon"};
static const char *const en_first[] = {
        "Taylor", "Ed", "Billie", "Olivia", "Harry", "Ariana", "Drake",
        "Justin", "Dua", "Miley", "Lana", "Kendrick", "Adele", "Bruno"};
static const char *const en_last[] = {
        "Swift", "Sheeran", "Eilish", "Rodrigo", "Styles", "Grande", "Mars",
        "Bieber", "Lipa", "Cyrus", "Del Rey", "Lamar", "Brown", "Carter"};
static const char *const es_words[] = {
        "Corazón", "Noche", "Canción", "Mañana", "Bailar", "Fuego", "Cielo",
        "Amor", "Vida", "Sueño", "Pasión", "Ilusión", "Despacito", "Sol"};
static const char *const es_first[] = {"José", "María", "Ángel", "Sofía",
                                       "Raúl", "Inés", "Martín", "Lucía"};
static const char *const es_last[] = {"Núñez", "Pérez", "Gómez", "Martínez",
                                      "Ibáñez", "Muñoz", "Sánchez", "Díaz"};
static const char *const fr_words[] = {
        "Été", "Cœur", "Rêve", "Château", "Fenêtre", "Lumière", "Éternité",
        "Mélodie", "Amour", "Soleil", "Nuit", "Voilà", "Déjà", "Ça"};
static const char *const fr_first[] = {"Zoé", "Hélène", "François", "Léa",
                                       "Jérôme", "Chloé", "Benoît", "Noël"};
static const char *const fr_last[] = {"Lefèvre", "Dubois", "Bérénger",
                                      "Gauthier", "Fontaine", "Mercier"};
static const char *const de_words[] = {
        "Größe", "Über", "Müde", "Frühling", "Straße", "Träume", "Herz",
        "Nacht", "Liebe", "Schön", "Glück", "Märchen", "Sonne", "Weiß"};
static const char *const de_first[] = {"Jürgen", "Björn", "Käthe", "Sönke",
                                       "Lukas", "Anna", "Günter", "Jörg"};
static const char *const de_last[] = {"Müller", "Schäfer", "Köhler",
                                      "Weiß", "Groß", "Krüger", "Bauer"};
static const char *const pt_words[] = {
        "Coração", "Saudade", "Ação", "Canção", "Mãe", "Alegria", "Paixão",
        "Verão", "Irmão", "Lua", "Mar", "Ilusão", "Noite", "Céu"};
static const char *const pt_first[] = {"João", "Conceição", "Tomé", "Inês",
                                       "Sebastião", "Luísa", "Antônio"};
static const char *const pt_last[] = {"Gonçalves", "Magalhães", "Simões",
                                      "Araújo", "Brandão", "Conceição"};
static const char *const sv_words[] = {
        "Kärlek", "Sjö", "Vår", "Hjärta", "Ängel", "Drömmar", "Midsommar",
        "Sommar", "Natt", "Ljus", "Vän", "Sång", "Skål", "Himmel"};
static const char *const sv_first[] = {"Björn", "Åsa", "Göran", "Märta",
                                       "Linnéa", "Örjan", "Agnetha"};
static const char *const sv_last[] = {"Åberg", "Lindström", "Söderberg",
                                      "Ängström", "Nyström", "Ek"};
static const char *const ja_words[] = {
        "愛", "夜", "桜", "東京", "夢", "空", "恋", "花火", "雨", "青春",
        "君", "光", "星", "風"};
static const char *const ja_first[] = {"陽菜", "蓮", "結衣", "翔",
                                       "美咲", "悠真", "葵"};
static const char *const ja_last[] = {"佐藤", "鈴木", "高橋", "田中",
                                      "渡辺", "伊藤", "山本"};

/* Syllables for invented family names: a capitalised head, then tails. */
static const char *const heads[] = {"Kal", "Mor", "Vel", "Dan", "Sor",
                                    "Bri", "Tam", "Lin", "Ros", "Fer",
                                    "Ald", "Mar", "Hol", "Qui", "Zan",
                                    "Ber", "Cas", "Nor", "Pel", "Wes"};
static const char *const tails[] = {"o", "ez", "ström", "ião", "ère",
                                    "ler", "ton", "ić", "ski", "ña",
                                    "berg", "ard", "ino", "ün", "elli",
                                    "sen", "ás", "ay", "ow", "ée"};
static const char *const ja_parts[] = {"山", "田", "中", "川", "木", "村",
                                       "井", "藤", "本", "小", "高", "松",
                                       "野", "原", "森", "島"};

#define LANG(c, w, sp, p)                                                     \
        {c, w, sp, p##_words, NELEMS(p##_words), p##_first,                  \
         NELEMS(p##_first), p##_last, NELEMS(p##_last)}

static const ltrr_synth_lang_t langs[] = {
        LANG("en", 50, 1, en), LANG("es", 14, 1, es), LANG("pt", 8, 1, pt),
        LANG("fr", 7, 1, fr),  LANG("de", 7, 1, de),  LANG("sv", 5, 1, sv),
        LANG("ja", 9, 0, ja)};

static const char *const g_pop[] = {"dance pop", "electropop", "indie pop",
                                    "k-pop"};
static const char *const g_rock[] = {"classic rock", "hard rock",
                                     "indie rock", "punk"};
static const char *const g_hiphop[] = {"trap", "gangster rap",
                                       "southern hip hop"};
static const char *const g_edm[] = {"house", "techno", "trance", "dubstep"};
static const char *const g_latin[] = {"reggaeton", "salsa", "latin pop",
                                      "bachata"};
static const char *const g_rnb[] = {"neo soul", "urban contemporary"};
static const char *const g_jazz[] = {"bebop", "smooth jazz", "bossa nova"};
static const char *const g_classical[] = {"baroque", "romantic", "opera"};
static const char *const g_country[] = {"country pop", "bluegrass"};
static const char *const g_folk[] = {"indie folk", "chanson", "schlager"};

#define GENRE(n, a) {n, a, NELEMS(a)}

static const ltrr_synth_genre_t genres[] = {
        GENRE("pop", g_pop),         GENRE("rock", g_rock),
        GENRE("hip hop", g_hiphop),  GENRE("edm", g_edm),
        GENRE("latin", g_latin),     GENRE("r&b", g_rnb),
        GENRE("jazz", g_jazz),       GENRE("classical", g_classical),
        GENRE("country", g_country), GENRE("folk", g_folk)};

static const char *const moods[] = {
        "happy", "sad", "energetic", "chill", "romantic", "angry",
        "melancholic", "uplifting", "dark", "relaxing"};

static const char *const cores[] = {"Love", "Dream", "Dance", "Fire",
                                    "Heart", "Night", "Star", "Summer",
                                    "Rain", "Home"};
static const char *const core_plurals[] = {"Lovers", "Dreamers", "Dancers",
                                           "Fires", "Hearts", "Nights",
                                           "Stars", "Summers", "Rains",
                                           "Homes"};
/* "%s" is the core; "*" alone means the core's plural. */
static const char *const patterns[] = {
        "%s", "%s Story", "%s Me", "*", "My %s", "%s Song", "%s Again",
        "%s (Remix)", "%s - Live", "%s Tonight", "%s", "%s"};

static const char *const topics[] = {
        "comedy", "news", "true crime", "technology", "sports", "history",
        "health", "business", "science", "music"};

static const ltrr_synth_vocab_t vocab = {
        langs,    NELEMS(langs),    genres,   NELEMS(genres),
        moods,    NELEMS(moods),    cores,    core_plurals,
        NELEMS(cores), patterns,    NELEMS(patterns), topics,
        NELEMS(topics)};

const ltrr_synth_vocab_t *ltrr_synth_vocab(void)
{
        return &vocab;
}

/* ---- PRNG: the library's xoshiro256** (rng.h) ------------------------ */

/* Uniform in [0, n); the modulo bias (< 2^-40 here) is irrelevant. */
static uint32_t below(ltrr_rng_t *r, uint32_t n)
{
        return (uint32_t)(ltrr_rng_next(r) % n);
}

/* ---- generator state --------------------------------------------------- */

/* Name, language and genre of one artist: a function of (seed, number). */
struct artist {
        char name[128];           /* display name */
        char id[24];              /* entity id */
        const ltrr_synth_lang_t *lang; /* language */
        uint32_t genre;           /* index into genres */
        uint32_t sub;             /* index into its subgenres */
        uint64_t pop;             /* popularity in 1e-4 units */
};

struct gen {
        ltrr_rng_t r;             /* main stream */
        const ltrr_synth_conf_t *conf; /* what to generate */
        ltrr_synth_cb *cb;        /* consumer */
        void *opaque;             /* for cb */
        uint64_t emitted;         /* entities generated so far */
        uint64_t per_type[LTRR_ENTITY__CNT]; /* counters for ids */
        ltrr_entity_in_t in;      /* entity being built */
        char id[32];              /* in.id */
        char name[256];           /* in.name */
        char album[256];          /* in.album */
        char desc[512];           /* in.description */
        const char *artists[2];   /* in.artists */
        const char *artist_ids[2]; /* in.artist_ids */
        const char *genres[1];    /* in.genres */
        const char *subgenres[1]; /* in.subgenres */
        const char *moods[2];     /* in.moods */
        float *vec;               /* in.vector, conf->dim floats */
        struct artist feat;       /* featured artist of the current track */
};

static const char type_prefix[LTRR_ENTITY__CNT][3] = {"tr", "ar", "al",
                                                      "pc", "ep", "pl"};

/* Zipf popularity (s = 1, offset 8) of the @rank-th item, 1e-4 units. */
static uint64_t zipf_pop(uint64_t rank)
{
        return 1000000ull * 8 / (8 + rank);
}

/* Picks a language by weight. */
static const ltrr_synth_lang_t *pick_lang(ltrr_rng_t *r)
{
        uint32_t x = below(r, 100), acc = 0;
        size_t i;

        for (i = 0; i < NELEMS(langs) - 1; i++) {
                acc += langs[i].weight;
                if (x < acc)
                        break;
        }
        return &langs[i];
}

static const char *pick(ltrr_rng_t *r, const char *const *v, size_t n)
{
        return v[below(r, (uint32_t)n)];
}

/* A family name: 20% from the language's list, else invented from
 * syllables (about 10^5 per language, so names rarely collide). */
static const char *family_name(ltrr_rng_t *r, const ltrr_synth_lang_t *lang,
                               char *buf, size_t size)
{
        if (below(r, 100) < 20)
                return pick(r, lang->last, lang->last_cnt);
        if (!lang->spaced)
                snprintf(buf, size, "%s%s%s", pick(r, ja_parts, NELEMS(ja_parts)),
                         pick(r, ja_parts, NELEMS(ja_parts)),
                         below(r, 2) ? pick(r, ja_parts, NELEMS(ja_parts)) : "");
        else
                snprintf(buf, size, "%s%s%s", pick(r, heads, NELEMS(heads)),
                         below(r, 2) ? pick(r, tails, NELEMS(tails)) : "",
                         pick(r, tails, NELEMS(tails)));
        return buf;
}

/* Fills @a with artist number @num. */
static void artist_make(const struct gen *g, uint64_t num, struct artist *a)
{
        uint64_t x = g->conf->seed ^ (num * 0xD1B54A32D192ED03ull);
        char fam[64];
        const char *sp;
        ltrr_rng_t r;

        ltrr_rng_seed(&r, x);
        a->lang = pick_lang(&r);
        a->genre = below(&r, NELEMS(genres));
        a->sub = below(&r, (uint32_t)genres[a->genre].subgenres_cnt);
        a->pop = zipf_pop(num);
        sp = a->lang->spaced ? " " : "";
        if (below(&r, 100) < 70)
                snprintf(a->name, sizeof(a->name), "%s%s%s",
                         pick(&r, a->lang->first, a->lang->first_cnt), sp,
                         family_name(&r, a->lang, fam, sizeof(fam)));
        else
                snprintf(a->name, sizeof(a->name), "%s%s%s",
                         a->lang->spaced ? "The " : "",
                         pick(&r, a->lang->words, a->lang->words_cnt),
                         a->lang->spaced ? "s" : "");
        snprintf(a->id, sizeof(a->id), "ar%llu", (unsigned long long)num);
}

/* Writes a title into @buf: a near-duplicate core or language words. */
static void make_title(struct gen *g, const ltrr_synth_lang_t *lang,
                       char *buf, size_t size)
{
        uint32_t c = below(&g->r, NELEMS(cores)), n, i;
        const char *pat = patterns[below(&g->r, NELEMS(patterns))];
        size_t len = 0;

        if (lang->code[0] == 'e' || below(&g->r, 100) < 20) {
                if (below(&g->r, 100) < 55) {
                        if (!strcmp(pat, "*"))
                                snprintf(buf, size, "%s", core_plurals[c]);
                        else
                                snprintf(buf, size, pat, cores[c]);
                        return;
                }
        }
        n = 1 + below(&g->r, 3);
        buf[0] = '\0';
        for (i = 0; i < n && len < size; i++)
                len += (size_t)snprintf(buf + len, size - len, "%s%s",
                                        i && lang->spaced ? " " : "",
                                        pick(&g->r, lang->words,
                                             lang->words_cnt));
}

/* A release date: 5% (or @recent_pct) within four weeks of ref_days. */
static void make_date(struct gen *g, uint32_t span_days, uint32_t recent_pct,
                      int32_t *days, ltrr_date_prec_t *prec)
{
        uint32_t p = below(&g->r, 100);
        int y, m, d;

        if (below(&g->r, 100) < recent_pct)
                *days = g->conf->ref_days - (int32_t)below(&g->r, 28);
        else
                *days = g->conf->ref_days - (int32_t)below(&g->r, span_days);
        *prec = LTRR_DATE_DAY;
        if (recent_pct >= 10 || p < 85)
                return;
        ltrr_date_to_ymd(*days, &y, &m, &d);
        *prec = p < 95 ? LTRR_DATE_YEAR : LTRR_DATE_MONTH;
        *days = ltrr_date_from_ymd(y, *prec == LTRR_DATE_YEAR ? 1 : m, 1);
}

/* Fills the vector around the centroid of genre @genre. */
static void make_vec(struct gen *g, uint32_t genre)
{
        uint64_t h = g->conf->seed ^ (genre * 0x9E3779B97F4A7C15ull);
        uint32_t j;

        for (j = 0; j < g->conf->dim; j++) {
                int32_t c = (int32_t)(ltrr_rng_splitmix64(&h) % 2001) - 1000;
                int32_t noise = (int32_t)below(&g->r, 401) - 200;

                g->vec[j] = (float)(c + noise) / 1000.0f;
        }
        g->in.vector = g->vec;
}

/* Starts a new entity of @type: clears fields and assigns its id. */
static void ent_begin(struct gen *g, ltrr_entity_type_t type)
{
        ltrr_entity_in_init(&g->in);
        g->in.type = type;
        snprintf(g->id, sizeof(g->id), "%s%llu", type_prefix[type],
                 (unsigned long long)g->per_type[type]++);
        g->in.id = g->id;
        g->in.name = g->name;
}

/* Hands the current entity to the callback. */
static ltrr_err_t ent_emit(struct gen *g)
{
        g->emitted++;
        return g->cb(g->opaque, &g->in);
}

#define DONE(g) ((g)->emitted >= (g)->conf->n)

/* Sets genre, subgenre, language and artist of @a on the entity. */
static void ent_artist(struct gen *g, const struct artist *a)
{
        g->genres[0] = genres[a->genre].name;
        g->subgenres[0] = genres[a->genre].subgenres[a->sub];
        g->in.genres = g->genres;
        g->in.genres_cnt = 1;
        g->in.subgenres = g->subgenres;
        g->in.subgenres_cnt = 1;
        g->in.language = a->lang->code;
        g->artists[0] = a->name;
        g->artist_ids[0] = a->id;
        g->in.artists = g->artists;
        g->in.artist_ids = g->artist_ids;
        g->in.artists_cnt = 1;
        if (g->conf->dim)
                make_vec(g, a->genre);
}

/* One track of album @alb by @a, sharing the album's date. */
static ltrr_err_t emit_track(struct gen *g, const struct artist *a,
                             uint64_t alb_pop, int32_t days,
                             ltrr_date_prec_t prec)
{
        uint64_t own = g->per_type[LTRR_ENTITY_ARTIST];

        ent_begin(g, LTRR_ENTITY_TRACK);
        make_title(g, a->lang, g->name, sizeof(g->name));
        ent_artist(g, a);
        g->in.album = g->album;
        if (own > 1 && below(&g->r, 100) < 10) {
                artist_make(g, below(&g->r, (uint32_t)(own - 1)), &g->feat);
                g->artists[1] = g->feat.name;
                g->artist_ids[1] = g->feat.id;
                g->in.artists_cnt = 2;
        }
        g->moods[0] = pick(&g->r, moods, NELEMS(moods));
        g->moods[1] = pick(&g->r, moods, NELEMS(moods));
        g->in.moods = g->moods;
        g->in.moods_cnt = g->moods[0] == g->moods[1] ? 1 : 2;
        g->in.release_days = days;
        g->in.release_prec = prec;
        g->in.duration_ms = 90000 + below(&g->r, 330000);
        g->in.popularity =
            (float)(alb_pop * (40 + below(&g->r, 61)) / 100) / 10000.0f;
        return ent_emit(g);
}

/* One album of @a with its tracks. */
static ltrr_err_t emit_album(struct gen *g, const struct artist *a)
{
        uint32_t kind = below(&g->r, 100), tracks, i;
        uint64_t pop = a->pop * (60 + below(&g->r, 41)) / 100;
        ltrr_date_prec_t prec;
        int32_t days;
        ltrr_err_t err;

        tracks = kind < 30 ? 1 + below(&g->r, 2)
                 : kind < 50 ? 4 + below(&g->r, 3)
                             : 8 + below(&g->r, 7);
        make_date(g, 365 * 60, 5, &days, &prec);
        ent_begin(g, LTRR_ENTITY_ALBUM);
        make_title(g, a->lang, g->album, sizeof(g->album));
        memcpy(g->name, g->album, sizeof(g->name));
        ent_artist(g, a);
        g->in.release_days = days;
        g->in.release_prec = prec;
        g->in.popularity = (float)pop / 10000.0f;
        if ((err = ent_emit(g)))
                return err;
        for (i = 0; i < tracks && !DONE(g); i++)
                if ((err = emit_track(g, a, pop, days, prec)))
                        return err;
        return LTRR_OK;
}

/* An artist, then its albums; famous artists have more of them. */
static ltrr_err_t emit_artist_group(struct gen *g)
{
        struct artist a;
        uint32_t albums, i;
        ltrr_err_t err;

        artist_make(g, g->per_type[LTRR_ENTITY_ARTIST], &a);
        albums = 1 + below(&g->r, 3) +
                 (a.pop >= 100000 ? below(&g->r, 10) : 0);
        ent_begin(g, LTRR_ENTITY_ARTIST);
        memcpy(g->name, a.name, sizeof(a.name));
        ent_artist(g, &a);
        g->in.artist_ids = NULL;
        g->in.popularity = (float)a.pop / 10000.0f;
        if ((err = ent_emit(g)))
                return err;
        for (i = 0; i < albums && !DONE(g); i++)
                if ((err = emit_album(g, &a)))
                        return err;
        return LTRR_OK;
}

/* A podcast with a description, then its episodes. */
static ltrr_err_t emit_podcast_group(struct gen *g)
{
        const ltrr_synth_lang_t *lang = pick_lang(&g->r);
        const char *topic = pick(&g->r, topics, NELEMS(topics));
        const char *topic2 = pick(&g->r, topics, NELEMS(topics));
        uint32_t eps = 5 + below(&g->r, 36), i;
        uint64_t pop = zipf_pop(g->per_type[LTRR_ENTITY_PODCAST] * 4);
        char host[128], show[256], title[128];
        ltrr_err_t err;

        snprintf(host, sizeof(host), "%s %s",
                 pick(&g->r, lang->first, lang->first_cnt),
                 pick(&g->r, lang->last, lang->last_cnt));
        snprintf(show, sizeof(show), "%s %s",
                 pick(&g->r, lang->words, lang->words_cnt),
                 below(&g->r, 2) ? "Podcast" : "Talk");
        ent_begin(g, LTRR_ENTITY_PODCAST);
        memcpy(g->name, show, sizeof(show));
        snprintf(g->desc, sizeof(g->desc),
                 "A weekly show about %s and %s, hosted by %s.", topic,
                 topic2, host);
        g->in.description = g->desc;
        g->genres[0] = topic;
        g->in.genres = g->genres;
        g->in.genres_cnt = 1;
        g->in.language = lang->code;
        g->in.popularity = (float)pop / 10000.0f;
        if ((err = ent_emit(g)))
                return err;
        for (i = 0; i < eps && !DONE(g); i++) {
                ent_begin(g, LTRR_ENTITY_EPISODE);
                make_title(g, lang, title, sizeof(title));
                snprintf(g->name, sizeof(g->name), "Episode %u: %s", i + 1,
                         title);
                snprintf(g->desc, sizeof(g->desc),
                         "%s talks %s in episode %u of %s.", host, topic,
                         i + 1, show);
                g->in.description = g->desc;
                g->in.genres = g->genres;
                g->in.genres_cnt = 1;
                g->in.language = lang->code;
                make_date(g, 730, 10, &g->in.release_days,
                          &g->in.release_prec);
                g->in.duration_ms = 900000 + below(&g->r, 6300000);
                g->in.popularity = (float)(pop * (20 + below(&g->r, 81)) /
                                           100) / 10000.0f;
                if ((err = ent_emit(g)))
                        return err;
        }
        return LTRR_OK;
}

/* A playlist named after a mood, genre or decade, with a description. */
static ltrr_err_t emit_playlist(struct gen *g)
{
        const ltrr_synth_genre_t *ge = &genres[below(&g->r, NELEMS(genres))];
        const char *mood = pick(&g->r, moods, NELEMS(moods));
        uint32_t form = below(&g->r, 3);
        int y, m, d;

        ltrr_date_to_ymd(g->conf->ref_days, &y, &m, &d);
        ent_begin(g, LTRR_ENTITY_PLAYLIST);
        if (form == 0)
                snprintf(g->name, sizeof(g->name), "%c%s %s", mood[0] - 32,
                         mood + 1, ge->name);
        else if (form == 1)
                snprintf(g->name, sizeof(g->name), "%s Hits %d", ge->name,
                         y - (int)below(&g->r, 10));
        else
                snprintf(g->name, sizeof(g->name), "Best of the %ds %s",
                         1960 + 10 * (int)below(&g->r, 6), ge->name);
        snprintf(g->desc, sizeof(g->desc),
                 "The best %s tracks for %s moments.", ge->name, mood);
        g->in.description = g->desc;
        g->genres[0] = ge->name;
        g->in.genres = g->genres;
        g->in.genres_cnt = 1;
        g->moods[0] = mood;
        g->in.moods = g->moods;
        g->in.moods_cnt = 1;
        g->in.popularity = (float)zipf_pop(g->per_type[LTRR_ENTITY_PLAYLIST])
                           / 10000.0f;
        return ent_emit(g);
}

ltrr_err_t ltrr_synth_generate(const ltrr_synth_conf_t *conf,
                               ltrr_synth_cb *cb, void *opaque, char *errstr,
                               size_t errstr_size)
{
        struct gen *g;
        ltrr_err_t err = LTRR_OK;
        uint32_t x;

        if (!conf || !cb || conf->n == 0 || conf->dim > LTRR_CATALOG_DIM_MAX)
                return ltrr_errf(LTRR_ERR_INVALID_ARG, errstr, errstr_size,
                                 "synth: need n > 0, a callback and dim "
                                 "<= %d", LTRR_CATALOG_DIM_MAX);
        g = calloc(1, sizeof(*g));
        if (!g || (conf->dim && !(g->vec = calloc(conf->dim, sizeof(float))))) {
                err = ltrr_errf(LTRR_ERR_NOMEM, errstr, errstr_size,
                                "synth: out of memory");
                goto done;
        }
        ltrr_rng_seed(&g->r, conf->seed);
        g->conf = conf;
        g->cb = cb;
        g->opaque = opaque;
        while (!err && !DONE(g)) {
                x = below(&g->r, 100);
                err = x < 58   ? emit_artist_group(g)
                      : x < 62 ? emit_podcast_group(g)
                               : emit_playlist(g);
        }
        if (err)
                ltrr_errf(err, errstr, errstr_size,
                          "synth: consumer stopped at entity %llu: %s",
                          (unsigned long long)g->emitted, ltrr_err2str(err));
done:
        if (g)
                free(g->vec);
        free(g);
        return err;
}

ltrr_err_t ltrr_synth_to_catalog(void *opaque, const ltrr_entity_in_t *in)
{
        return ltrr_catalog_add(opaque, in, NULL, 0);
}
