/* config: reading and validating the INI configuration. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jid.h"
#include "secret.h"
#include "store.h"

#define ACCOUNT_PREFIX    "account:"
#define OPTION_PREFIX     "option."
#define QUEUE_MAX_DEFAULT 10000

typedef struct parse {
    GKeyFile *kf;
    const char *path;
    GPtrArray *problems;
    config *cfg;
} parse;

static void problem_add(GPtrArray *problems, const char *path,
                        const char *group, const char *key, const char *fmt,
                        va_list ap)
{
    char *what = g_strdup_vprintf(fmt, ap);

    g_ptr_array_add(
        problems,
        key ? g_strdup_printf("%s: [%s] %s: %s", path, group, key, what)
            : g_strdup_printf("%s: [%s]: %s", path, group, what));
    g_free(what);
}

void config_problem(GPtrArray *problems, const char *path, const char *group,
                    const char *key, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    problem_add(problems, path, group, key, fmt, ap);
    va_end(ap);
}

static void problem(parse *p, const char *group, const char *key,
                    const char *fmt, ...) G_GNUC_PRINTF(4, 5);

static void problem(parse *p, const char *group, const char *key,
                    const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    problem_add(p->problems, p->path, group, key, fmt, ap);
    va_end(ap);
}

/* A string value, stripped; NULL if absent. Reports a missing required key. */
static char *get_string(parse *p, const char *group, const char *key,
                        gboolean required)
{
    char *v = g_key_file_get_string(p->kf, group, key, NULL);

    if (v)
        g_strstrip(v);
    if (required && (!v || !*v)) {
        problem(p, group, key, "missing (required)");
        g_clear_pointer(&v, g_free);
    }
    return v;
}

static int get_uint(parse *p, const char *group, const char *key, guint64 min,
                    guint64 max, guint64 dflt, gboolean required, guint64 *out)
{
    char *v = get_string(p, group, key, required);
    guint64 n;
    GError *err = NULL;

    *out = dflt;
    if (!v)
        return required ? -1 : 0;
    if (!g_ascii_string_to_unsigned(v, 10, min, max, &n, &err)) {
        problem(p, group, key,
                "'%s' is not a number from %" G_GUINT64_FORMAT
                " to %" G_GUINT64_FORMAT,
                v, min, max);
        g_error_free(err);
        g_free(v);
        return -1;
    }
    g_free(v);
    *out = n;
    return 0;
}

/* [storage] map_size: a number of bytes, or of KiB, MiB, GiB or TiB with
 * the suffix K, M, G or T ("1T"), from STORE_MAP_MIN to STORE_MAP_MAX;
 * absent: STORE_MAP_DEFAULT. */
static void parse_map_size(parse *p)
{
    static const struct {
        char suffix;
        unsigned shift;
    } units[] = {{'K', 10}, {'M', 20}, {'G', 30}, {'T', 40}};
    char *v = get_string(p, "storage", "map_size", FALSE);
    unsigned shift = 0;
    guint64 n = 0;
    size_t len;

    p->cfg->map_size = STORE_MAP_DEFAULT;
    if (!v)
        return;
    len = strlen(v);
    for (size_t i = 0; len && i < G_N_ELEMENTS(units); i++)
        if (g_ascii_toupper(v[len - 1]) == units[i].suffix) {
            shift = units[i].shift;
            v[--len] = '\0';
        }
    if (!g_ascii_string_to_unsigned(v, 10, 1, STORE_MAP_MAX >> shift, &n,
                                    NULL) ||
        (n << shift) < STORE_MAP_MIN) {
        char *max = g_format_size_full(STORE_MAP_MAX, G_FORMAT_SIZE_IEC_UNITS);
        problem(p, "storage", "map_size",
                "not a size from 1 MiB to %s (a number of bytes, or with K, "
                "M, G or T)",
                max);
        g_free(max);
    } else
        p->cfg->map_size = (size_t)(n << shift);
    g_free(v);
}

/* [storage] sync: "full" (the default: every commit flushes LMDB's data
 * pages, then its meta page) or "no-meta" (MDB_NOMETASYNC: one flush per
 * commit; a power loss may undo the last commit, see store.h). */
static void parse_sync(parse *p)
{
    static const struct {
        const char *name;
        gboolean meta_sync;
    } modes[] = {{"full", TRUE}, {"no-meta", FALSE}};
    char *v = get_string(p, "storage", "sync", FALSE);

    p->cfg->meta_sync = TRUE;
    for (size_t i = 0; v && i < G_N_ELEMENTS(modes); i++)
        if (!strcmp(v, modes[i].name)) {
            p->cfg->meta_sync = modes[i].meta_sync;
            g_clear_pointer(&v, g_free);
        }
    if (v)
        problem(p, "storage", "sync", "'%s' is not full or no-meta", v);
    g_free(v);
}

/* Known keys per fixed group; anything else is reported, so that a typo
 * ("secrte") is caught instead of silently ignored. */
static const struct {
    const char *group;
    const char *const keys[12];
} known[] = {
    {"component",
     {"jid", "host", "port", "secret", "name", "queue_max", "stanza_limit",
      "send_buffer"}},
    {"storage", {"path", "map_size", "sync"}},
    {"service", {"admins", "room_creation", "first_contact_notice"}},
    {"log", {"level"}}, /* plus one key per area name */
    {"limits",
     {"max_body", "rate", "burst", "max_rooms", "join_rate", "join_burst",
      "stanza_size", "stanza_elements", "stanza_depth", "attributes",
      "attribute_size", "avatar_size"}},
    {"archive", {"keep_days"}},
    {"legacy",
     {"worker", "plugin_dir", "digest_after", "crash_limit", "crash_window"}},
    {"cluster", {"shard", "shards", "bus_host", "bus_port"}},
};

static const char *const account_keys[] = {
    "protocol", "username", "password",   "group",
    "mode",     "chat",     "pace_burst", "pace_rate",
};

void config_keys(GPtrArray *out)
{
    for (size_t i = 0; i < G_N_ELEMENTS(known); i++)
        for (size_t k = 0; k < G_N_ELEMENTS(known[i].keys); k++)
            if (known[i].keys[k])
                g_ptr_array_add(out, g_strdup_printf("%s %s", known[i].group,
                                                     known[i].keys[k]));
    for (int a = 0; a < LOG_AREA_COUNT; a++)
        g_ptr_array_add(
            out, g_strdup_printf("log %s", log_area_name((enum log_area)a)));
    for (size_t i = 0; i < G_N_ELEMENTS(account_keys); i++)
        g_ptr_array_add(
            out, g_strdup_printf(ACCOUNT_PREFIX "NAME %s", account_keys[i]));
    g_ptr_array_add(out, g_strdup(ACCOUNT_PREFIX "NAME " OPTION_PREFIX "KEY"));
}

static gboolean key_known(const char *group, const char *key)
{
    enum log_area area;

    for (size_t i = 0; i < G_N_ELEMENTS(known); i++) {
        if (strcmp(known[i].group, group) != 0)
            continue;
        for (size_t k = 0; k < G_N_ELEMENTS(known[i].keys); k++)
            if (known[i].keys[k] && strcmp(known[i].keys[k], key) == 0)
                return TRUE;
        return strcmp(group, "log") == 0 && log_area_parse(key, &area) == 0;
    }
    return FALSE;
}

static void check_unknown(parse *p)
{
    char **groups = g_key_file_get_groups(p->kf, NULL);

    for (char **g = groups; *g; g++) {
        char **keys;
        gboolean fixed = FALSE;

        if (g_str_has_prefix(*g, ACCOUNT_PREFIX))
            continue;
        for (size_t i = 0; i < G_N_ELEMENTS(known); i++)
            fixed = fixed || strcmp(known[i].group, *g) == 0;
        if (!fixed) {
            problem(p, *g, NULL, "unknown section");
            continue;
        }
        keys = g_key_file_get_keys(p->kf, *g, NULL, NULL);
        for (char **k = keys; k && *k; k++)
            if (!key_known(*g, *k))
                problem(p, *g, *k, "unknown key");
        g_strfreev(keys);
    }
    g_strfreev(groups);
}

static void parse_component(parse *p)
{
    config *cfg = p->cfg;
    guint64 n;
    jid j;

    cfg->jid = get_string(p, "component", "jid", TRUE);
    if (cfg->jid) {
        if (jid_parse(cfg->jid, &j) < 0 || j.node || j.resource)
            problem(p, "component", "jid",
                    "'%s' is not a domain JID (like groups.example.org)",
                    cfg->jid);
        else {
            g_free(cfg->jid);
            cfg->jid = g_strdup(j.domain);
        }
        jid_clear(&j);
    }
    cfg->host = get_string(p, "component", "host", TRUE);
    if (get_uint(p, "component", "port", 1, 65535, 0, TRUE, &n) == 0)
        cfg->port = (guint16)n;
    cfg->secret = get_string(p, "component", "secret", TRUE);
    cfg->name = get_string(p, "component", "name", FALSE);
    if (!cfg->name || !*cfg->name) {
        g_free(cfg->name);
        cfg->name = g_strdup("imgroups");
    }
    if (get_uint(p, "component", "queue_max", 0, 10000000, QUEUE_MAX_DEFAULT,
                 FALSE, &n) == 0)
        cfg->queue_max = (guint)n;
    /* Prosody closes a component stream that carries a stanza over its
     * component_stanza_size_limit (512 KiB): imgroups never sends one over
     * this, whatever a client sent. */
    if (get_uint(p, "component", "stanza_limit", 16384, 16777216, 262144, FALSE,
                 &n) == 0)
        cfg->stanza_limit = (guint)n;
    if (get_uint(p, "component", "send_buffer", 65536, 1073741824, 4194304,
                 FALSE, &n) == 0)
        cfg->send_buffer = (guint)n;
}

static void parse_service(parse *p)
{
    config *cfg = p->cfg;
    char *rc;
    gsize n = 0;
    char **admins;

    admins = g_key_file_get_string_list(p->kf, "service", "admins", &n, NULL);
    cfg->admins = g_new0(char *, n + 1);
    for (gsize i = 0, o = 0; admins && i < n; i++) {
        jid j;
        g_strstrip(admins[i]);
        if (!*admins[i])
            continue;
        if (jid_parse(admins[i], &j) < 0 || !j.node || j.resource)
            problem(p, "service", "admins",
                    "'%s' is not a bare JID (like admin@example.org)",
                    admins[i]);
        else
            /* folded like every real JID the rooms compare */
            cfg->admins[o++] = jid_bare_folded(&j);
        jid_clear(&j);
    }
    g_strfreev(admins);

    rc = get_string(p, "service", "room_creation", FALSE);
    if (!rc || strcmp(rc, "anyone") == 0)
        cfg->room_creation = CONFIG_ROOMS_ANYONE;
    else if (strcmp(rc, "admins") == 0)
        cfg->room_creation = CONFIG_ROOMS_ADMINS;
    else
        problem(p, "service", "room_creation",
                "'%s' is not one of: anyone, admins", rc);
    g_free(rc);
    rc = get_string(p, "service", "first_contact_notice", FALSE);
    cfg->first_contact_notice = !rc || strcmp(rc, "no") != 0;
    if (rc && strcmp(rc, "yes") != 0 && strcmp(rc, "no") != 0)
        problem(p, "service", "first_contact_notice",
                "'%s' is not one of: yes, no", rc);
    g_free(rc);
}

/* A rate in messages per second, above 0. */
static double get_rate(parse *p, const char *group, const char *key,
                       double fallback)
{
    char *v = get_string(p, group, key, FALSE);
    double r = fallback;

    if (v) {
        char *end = NULL;
        r = g_ascii_strtod(v, &end);
        if (!end || *end || !(r > 0) || r > 100000) {
            problem(p, group, key,
                    "'%s' is not a number of messages per second above 0", v);
            r = fallback;
        }
        g_free(v);
    }
    return r;
}

static void parse_limits(parse *p)
{
    config *cfg = p->cfg;
    guint64 n;

    if (get_uint(p, "limits", "max_body", 1, 1000000, 10000, FALSE, &n) == 0)
        cfg->max_body = (guint)n;
    if (get_uint(p, "limits", "burst", 1, 100000, 10, FALSE, &n) == 0)
        cfg->burst = (guint)n;
    if (get_uint(p, "limits", "max_rooms", 0, 1000000, 20, FALSE, &n) == 0)
        cfg->max_rooms = (guint)n;
    if (get_uint(p, "archive", "keep_days", 0, 100000, 30, FALSE, &n) == 0)
        cfg->keep_days = (guint)n;
    cfg->rate = get_rate(p, "limits", "rate", 2.0);
    if (get_uint(p, "limits", "join_burst", 1, 100000, 30, FALSE, &n) == 0)
        cfg->join_burst = (guint)n;
    cfg->join_rate = get_rate(p, "limits", "join_rate", 1.0);
    /* What one received stanza may hold, checked while it is parsed. */
    if (get_uint(p, "limits", "stanza_size", 4096, 8388608, 65536, FALSE, &n) ==
        0)
        cfg->stanza_size = (guint)n;
    if (get_uint(p, "limits", "stanza_elements", 8, 100000, 256, FALSE, &n) ==
        0)
        cfg->stanza_elements = (guint)n;
    if (get_uint(p, "limits", "stanza_depth", 4, 1000, 24, FALSE, &n) == 0)
        cfg->stanza_depth = (guint)n;
    if (get_uint(p, "limits", "attributes", 4, 10000, 32, FALSE, &n) == 0)
        cfg->attributes = (guint)n;
    if (get_uint(p, "limits", "attribute_size", 256, 1048576, 4096, FALSE,
                 &n) == 0)
        cfg->attribute_size = (guint)n;
    if (get_uint(p, "limits", "avatar_size", 1024, 8388608, 49152, FALSE,
                 &n) == 0)
        cfg->avatar_size = (guint)n;
}

static void parse_legacy(parse *p)
{
    config *cfg = p->cfg;
    guint64 n;

    cfg->worker = get_string(p, "legacy", "worker", FALSE);
    cfg->plugin_dir = get_string(p, "legacy", "plugin_dir", FALSE);
    if (get_uint(p, "legacy", "digest_after", 0, 1000000, 20, FALSE, &n) == 0)
        cfg->digest_after = (guint)n;
    if (get_uint(p, "legacy", "crash_limit", 1, 1000, 3, FALSE, &n) == 0)
        cfg->crash_limit = (guint)n;
    if (get_uint(p, "legacy", "crash_window", 1, 86400, 300, FALSE, &n) == 0)
        cfg->crash_window = (guint)n;
}

/* shards is ejabberd's domain_balancing component_number (2 to 1000 there;
 * 1 here: no sharding), shard this instance's slot less one. */
static void parse_cluster(parse *p)
{
    config *cfg = p->cfg;
    guint64 n;

    cfg->shards = 1;
    if (get_uint(p, "cluster", "shards", 1, 1000, 1, FALSE, &n) == 0)
        cfg->shards = (guint)n;
    if (get_uint(p, "cluster", "shard", 0, 999, 0, FALSE, &n) == 0) {
        cfg->shard = (guint)n;
        if (cfg->shard >= cfg->shards)
            problem(p, "cluster", "shard",
                    "%u is not below [cluster] shards (%u): shards are "
                    "numbered from 0",
                    cfg->shard, cfg->shards);
    }
    /* The shard bus (cluster/bus.h): by default the same component port
     * as the main link, as shard<K>.<jid>. */
    cfg->bus_host = get_string(p, "cluster", "bus_host", FALSE);
    if (!cfg->bus_host)
        cfg->bus_host = g_strdup(cfg->host);
    cfg->bus_port = cfg->port;
    if (get_uint(p, "cluster", "bus_port", 1, 65535, 0, FALSE, &n) == 0 &&
        n)
        cfg->bus_port = (guint16)n;
}

static void parse_log(parse *p)
{
    config *cfg = p->cfg;
    char *v = get_string(p, "log", "level", FALSE);

    cfg->log_level = LOG_INFO;
    if (v && log_level_parse(v, &cfg->log_level) < 0)
        problem(p, "log", "level",
                "'%s' is not one of: error, warning, info, debug", v);
    g_free(v);
    for (int a = 0; a < LOG_AREA_COUNT; a++) {
        const char *key = log_area_name((enum log_area)a);
        cfg->area_level[a] = cfg->log_level;
        v = get_string(p, "log", key, FALSE);
        if (v && log_level_parse(v, &cfg->area_level[a]) < 0)
            problem(p, "log", key,
                    "'%s' is not one of: error, warning, info, debug", v);
        g_free(v);
    }
}

static void account_free(config_account *a)
{
    if (!a)
        return;
    g_free(a->name);
    g_free(a->protocol);
    g_free(a->username);
    secret_free(a->password);
    g_free(a->group);
    g_free(a->chat);
    if (a->options)
        g_hash_table_unref(a->options);
    g_free(a);
}

static void parse_account(parse *p, const char *group)
{
    config_account *a = g_new0(config_account, 1);
    char **keys;
    char *mode;
    guint64 n;

    a->name = g_strdup(group + strlen(ACCOUNT_PREFIX));
    if (!*a->name || !jid_node_valid(a->name))
        problem(p, group, NULL,
                "the account name must be non-empty, without spaces or any "
                "of \"&'/:<>@");
    else if (strlen(a->name) > STORE_ACCOUNT_MAX)
        problem(p, group, NULL, "the account name is longer than %d bytes",
                STORE_ACCOUNT_MAX);
    a->options = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    a->protocol = get_string(p, group, "protocol", TRUE);
    a->username = get_string(p, group, "username", TRUE);
    a->password = g_key_file_get_string(p->kf, group, "password", NULL);
    a->group = get_string(p, group, "group", TRUE);
    if (a->group && !jid_node_valid(a->group))
        problem(p, group, "group",
                "'%s' is not a valid room name (a JID localpart: no spaces "
                "or any of \"&'/:<>@)",
                a->group);
    else if (a->group && !jid_node_fits(a->group, STORE_GROUP_MAX))
        problem(p, group, "group", "the room name is longer than %d bytes",
                STORE_GROUP_MAX);
    mode = get_string(p, group, "mode", FALSE);
    if (!mode || strcmp(mode, "contacts") == 0)
        a->mode = CONFIG_MODE_CONTACTS;
    else if (strcmp(mode, "chat") == 0)
        a->mode = CONFIG_MODE_CHAT;
    else
        problem(p, group, "mode", "'%s' is not one of: contacts, chat", mode);
    g_free(mode);
    a->chat = get_string(p, group, "chat", FALSE);
    if (get_uint(p, group, "pace_burst", 1, 100000, 5, FALSE, &n) == 0)
        a->pace_burst = (guint)n;
    a->pace_rate = get_rate(p, group, "pace_rate", 1.0);
    if (a->mode == CONFIG_MODE_CHAT && (!a->chat || !*a->chat))
        problem(p, group, "chat",
                "missing: mode = chat needs the legacy chat to sit in");

    keys = g_key_file_get_keys(p->kf, group, NULL, NULL);
    for (char **k = keys; k && *k; k++) {
        gboolean fixed = FALSE;
        for (size_t i = 0; i < G_N_ELEMENTS(account_keys); i++)
            fixed = fixed || strcmp(account_keys[i], *k) == 0;
        if (fixed)
            continue;
        if (g_str_has_prefix(*k, OPTION_PREFIX) && (*k)[strlen(OPTION_PREFIX)])
            g_hash_table_insert(a->options,
                                g_strdup(*k + strlen(OPTION_PREFIX)),
                                get_string(p, group, *k, FALSE));
        else
            problem(p, group, *k,
                    "unknown key (libpurple settings go in option.NAME)");
    }
    g_strfreev(keys);
    g_ptr_array_add(p->cfg->accounts, a);
}

static void parse_accounts(parse *p)
{
    char **groups = g_key_file_get_groups(p->kf, NULL);

    for (char **g = groups; *g; g++)
        if (g_str_has_prefix(*g, ACCOUNT_PREFIX))
            parse_account(p, *g);
    g_strfreev(groups);
}

static int validate(parse *p)
{
    config *cfg = p->cfg;
    guint before = p->problems->len;

    cfg->accounts =
        g_ptr_array_new_with_free_func((GDestroyNotify)account_free);
    check_unknown(p);
    parse_component(p);
    cfg->storage_path = get_string(p, "storage", "path", TRUE);
    parse_map_size(p);
    parse_sync(p);
    parse_service(p);
    parse_log(p);
    parse_limits(p);
    /* A history or archive reply wraps a kept stanza (delay, stanza-id,
     * MAM's result): half the output bound leaves room for that. */
    if (cfg->stanza_size && cfg->stanza_limit &&
        cfg->stanza_size > cfg->stanza_limit / 2)
        problem(p, "limits", "stanza_size",
                "%u is over half of [component] stanza_limit (%u): what "
                "imgroups re-sends of a stanza could not fit",
                cfg->stanza_size, cfg->stanza_limit);
    parse_legacy(p);
    parse_cluster(p);
    parse_accounts(p);
    return p->problems->len == before ? 0 : -1;
}

int config_load_data(const char *path, const char *data, gsize len,
                     config **out, GPtrArray *problems)
{
    parse p = {.path = path, .problems = problems};
    GError *err = NULL;
    int rc = -1;

    *out = NULL;
    p.kf = g_key_file_new();
    /* GKeyFile's ';' list separator is what DESIGN.md documents. */
    if (!g_key_file_load_from_data(p.kf, data, len, G_KEY_FILE_NONE, &err)) {
        g_ptr_array_add(problems,
                        g_strdup_printf("%s: not a valid INI file: %s", path,
                                        err->message));
        g_error_free(err);
        goto leave;
    }
    p.cfg = g_new0(config, 1);
    p.cfg->path = g_strdup(path);
    rc = validate(&p);
    if (rc < 0) {
        config_free(p.cfg);
        goto leave;
    }
    *out = p.cfg;
leave:
    g_key_file_free(p.kf);
    return rc;
}

int config_load(const char *path, config **out, GPtrArray *problems)
{
    char *data = NULL;
    gsize len = 0;
    GError *err = NULL;
    int rc;

    *out = NULL;
    if (!g_file_get_contents(path, &data, &len, &err)) {
        g_ptr_array_add(problems, g_strdup_printf("%s: cannot read: %s", path,
                                                  err->message));
        g_error_free(err);
        return -1;
    }
    rc = config_load_data(path, data, len, out, problems);
    g_free(data);
    return rc;
}

gboolean config_is_admin(const config *cfg, const char *bare)
{
    for (char **a = cfg->admins; bare && a && *a; a++)
        if (!strcmp(*a, bare))
            return TRUE;
    return FALSE;
}

void config_free(config *cfg)
{
    if (!cfg)
        return;
    g_free(cfg->path);
    g_free(cfg->jid);
    g_free(cfg->host);
    g_free(cfg->bus_host);
    secret_free(cfg->secret);
    g_free(cfg->name);
    g_free(cfg->storage_path);
    g_free(cfg->worker);
    g_free(cfg->plugin_dir);
    g_strfreev(cfg->admins);
    if (cfg->accounts)
        g_ptr_array_unref(cfg->accounts);
    g_free(cfg);
}

void config_apply_log(const config *cfg)
{
    log_set_levels(cfg->area_level);
}
