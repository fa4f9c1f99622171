/* reload: the configuration keys SIGHUP compares and applies (reload.h). */
#include "reload.h"

#include <stddef.h>
#include <string.h>

/* How a key is held in struct config. */
enum reload_type {
    RT_STR,   /* char * */
    RT_UINT,  /* guint */
    RT_PORT,  /* guint16 */
    RT_SIZE,  /* size_t */
    RT_RATE,  /* double */
    RT_BOOL,  /* gboolean */
    RT_JIDS,  /* char ** (NULL-terminated) */
    RT_ROOMS, /* enum config_room_creation */
    RT_LEVEL, /* enum log_level */
    RT_AREA,  /* enum log_level of one area: shown when set on its own */
};

typedef struct reload_key {
    const char *section;
    const char *key;
    enum reload_type type;
    size_t offset;
    gboolean live;   /* FALSE: needs a restart */
    gboolean secret; /* never shown */
} reload_key;

#define AT(field) offsetof(config, field)
#define LIVE      TRUE
#define RESTART   FALSE

/* Every fixed key. Live ones are read from the running config where they
 * are used; the others were copied at start: the link's parameters and
 * parser limits (uplink_new), the store (store_open), retention's default
 * (retention_start) and the worker program (legacy_new). */
static const reload_key keys[] = {
    {"component", "jid", RT_STR, AT(jid), RESTART, FALSE},
    {"component", "host", RT_STR, AT(host), RESTART, FALSE},
    {"component", "port", RT_PORT, AT(port), RESTART, FALSE},
    {"component", "secret", RT_STR, AT(secret), RESTART, TRUE},
    {"component", "name", RT_STR, AT(name), LIVE, FALSE},
    {"component", "queue_max", RT_UINT, AT(queue_max), RESTART, FALSE},
    {"component", "stanza_limit", RT_UINT, AT(stanza_limit), RESTART, FALSE},
    {"component", "send_buffer", RT_UINT, AT(send_buffer), RESTART, FALSE},
    {"storage", "path", RT_STR, AT(storage_path), RESTART, FALSE},
    {"storage", "map_size", RT_SIZE, AT(map_size), RESTART, FALSE},
    {"storage", "sync", RT_BOOL, AT(meta_sync), RESTART, FALSE},
    {"service", "admins", RT_JIDS, AT(admins), LIVE, FALSE},
    {"service", "room_creation", RT_ROOMS, AT(room_creation), LIVE, FALSE},
    {"limits", "max_body", RT_UINT, AT(max_body), LIVE, FALSE},
    {"limits", "rate", RT_RATE, AT(rate), LIVE, FALSE},
    {"limits", "burst", RT_UINT, AT(burst), LIVE, FALSE},
    {"limits", "max_rooms", RT_UINT, AT(max_rooms), LIVE, FALSE},
    {"limits", "join_rate", RT_RATE, AT(join_rate), LIVE, FALSE},
    {"limits", "join_burst", RT_UINT, AT(join_burst), LIVE, FALSE},
    {"limits", "stanza_size", RT_UINT, AT(stanza_size), RESTART, FALSE},
    {"limits", "stanza_elements", RT_UINT, AT(stanza_elements), RESTART, FALSE},
    {"limits", "stanza_depth", RT_UINT, AT(stanza_depth), RESTART, FALSE},
    {"limits", "attributes", RT_UINT, AT(attributes), RESTART, FALSE},
    {"limits", "attribute_size", RT_UINT, AT(attribute_size), RESTART, FALSE},
    {"limits", "avatar_size", RT_UINT, AT(avatar_size), LIVE, FALSE},
    {"archive", "keep_days", RT_UINT, AT(keep_days), RESTART, FALSE},
    {"legacy", "worker", RT_STR, AT(worker), RESTART, FALSE},
    {"legacy", "plugin_dir", RT_STR, AT(plugin_dir), RESTART, FALSE},
    {"legacy", "digest_after", RT_UINT, AT(digest_after), LIVE, FALSE},
    {"legacy", "crash_limit", RT_UINT, AT(crash_limit), LIVE, FALSE},
    {"legacy", "crash_window", RT_UINT, AT(crash_window), LIVE, FALSE},
    {"log", "level", RT_LEVEL, AT(log_level), LIVE, FALSE},
#define RELOAD_AREA(e, name)                                                   \
    {"log", name, RT_AREA, AT(area_level) + (e) * sizeof(enum log_level),      \
     LIVE,  FALSE},
    LOG_AREAS(RELOAD_AREA)
#undef RELOAD_AREA
};

static const char *const level_names[] = {"error", "warning", "info", "debug"};
static const char *const room_names[] = {
    [CONFIG_ROOMS_ANYONE] = "anyone",
    [CONFIG_ROOMS_ADMINS] = "admins",
};

#define FIELD(cfg, k, type) ((type *)((char *)(cfg) + (k)->offset))

/* The value as text, as the file would say it. Owned. */
static char *value_text(const config *cfg, const reload_key *k)
{
    switch (k->type) {
    case RT_STR: {
        const char *s = *FIELD(cfg, k, char *);
        return g_strdup(s ? s : "");
    }
    case RT_UINT:
        return g_strdup_printf("%u", *FIELD(cfg, k, guint));
    case RT_PORT:
        return g_strdup_printf("%u", *FIELD(cfg, k, guint16));
    case RT_SIZE:
        return g_strdup_printf("%zu", *FIELD(cfg, k, size_t));
    case RT_RATE: {
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        return g_strdup(
            g_ascii_dtostr(buf, sizeof buf, *FIELD(cfg, k, double)));
    }
    case RT_BOOL:
        return g_strdup(*FIELD(cfg, k, gboolean) ? "full" : "no-meta");
    case RT_JIDS: {
        char **v = *FIELD(cfg, k, char **);
        return v ? g_strjoinv(";", v) : g_strdup("");
    }
    case RT_ROOMS:
        return g_strdup(room_names[*FIELD(cfg, k, enum config_room_creation)]);
    case RT_LEVEL:
    case RT_AREA:
        return g_strdup(level_names[*FIELD(cfg, k, enum log_level)]);
    }
    return g_strdup("");
}

/* An area's own key: shown only where it is not just [log] level. */
static gboolean area_own(const config *cfg, const reload_key *k)
{
    return *FIELD(cfg, k, enum log_level) != cfg->log_level;
}

void reload_change_free(reload_change *c)
{
    if (!c)
        return;
    g_free(c->was);
    g_free(c->now);
    g_free(c);
}

guint reload_diff(const config *cur, const config *fresh, GPtrArray *changes)
{
    guint n = 0;

    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
        const reload_key *k = &keys[i];
        char *was = value_text(cur, k), *now = value_text(fresh, k);
        reload_change *c;

        if (!strcmp(was, now) ||
            (k->type == RT_AREA && !area_own(cur, k) && !area_own(fresh, k))) {
            g_free(was);
            g_free(now);
            continue;
        }
        c = g_new0(reload_change, 1);
        c->section = k->section;
        c->key = k->key;
        c->needs_restart = !k->live;
        if (k->secret) {
            g_free(was);
            g_free(now);
            was = g_strdup("(hidden)");
            now = g_strdup("(hidden, changed)");
        }
        c->was = was;
        c->now = now;
        g_ptr_array_add(changes, c);
        n++;
    }
    return n;
}

/* The bytes a key takes in struct config. */
static size_t value_size(enum reload_type t)
{
    static const size_t sizes[] = {
        [RT_STR] = sizeof(char *),
        [RT_UINT] = sizeof(guint),
        [RT_PORT] = sizeof(guint16),
        [RT_SIZE] = sizeof(size_t),
        [RT_RATE] = sizeof(double),
        [RT_BOOL] = sizeof(gboolean),
        [RT_JIDS] = sizeof(char **),
        [RT_ROOMS] = sizeof(enum config_room_creation),
        [RT_LEVEL] = sizeof(enum log_level),
        [RT_AREA] = sizeof(enum log_level),
    };
    return sizes[t];
}

void reload_apply(config *cur, config *fresh)
{
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
        const reload_key *k = &keys[i];
        char tmp[sizeof(double) > sizeof(void *) ? sizeof(double)
                                                 : sizeof(void *)];
        size_t len = value_size(k->type);

        if (!k->live)
            continue;
        /* A swap: pointers change owner, fresh frees what cur had. */
        memcpy(tmp, (char *)cur + k->offset, len);
        memcpy((char *)cur + k->offset, (char *)fresh + k->offset, len);
        memcpy((char *)fresh + k->offset, tmp, len);
    }
}

char *reload_change_text(const reload_change *c)
{
    return g_strdup_printf(
        "[%s] %s: %s -> %s%s", c->section, c->key, c->was, c->now,
        c->needs_restart ? " (needs a restart; left as is)" : "");
}

guint reload_run(config *cur, config *fresh)
{
    GPtrArray *changes =
        g_ptr_array_new_with_free_func((GDestroyNotify)reload_change_free);
    /* Shown if the old or the new level shows info. */
    gboolean shown = log_on(LOG_CONFIG, LOG_INFO) ||
                     fresh->area_level[LOG_CONFIG] >= LOG_INFO;
    guint n = reload_diff(cur, fresh, changes);

    for (guint i = 0; i < changes->len; i++) {
        const reload_change *c = g_ptr_array_index(changes, i);
        char *text = reload_change_text(c);
        if (c->needs_restart)
            log_warning(LOG_CONFIG, "reload: %s", text);
        else if (shown)
            log_write(LOG_CONFIG, LOG_INFO, "reload: %s", text);
        g_free(text);
    }
    if (!n && shown)
        log_write(LOG_CONFIG, LOG_INFO, "reload: no setting changed");
    reload_apply(cur, fresh);
    config_apply_log(cur);
    g_ptr_array_unref(changes);
    return n;
}
