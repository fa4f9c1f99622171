/* config_check: the checks of --check-config that look outside the file
 * (config_check.h). */
#include "config_check.h"

#include <errno.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "legacy.h"
#include "optval.h"
#include "registry.h"

/* Prosody's default component port (mod_component's default_port). */
#define PROSODY_COMPONENT_PORT 5347
/* How long the server's component port is given to accept. */
#define PROBE_TIMEOUT_S 3
/* A shared secret shorter than this is easy to guess from anywhere that
 * reaches the component port. */
#define SECRET_MIN 16
/* What the worker may print: a few hundred protocols' options at most. */
#define CATALOG_MAX (1024 * 1024)

/* ---- the storage path ------------------------------------------------- */

/* Filesystems whose locks LMDB's lock file cannot rely on (LMDB's
 * documentation: "do not use LMDB databases on remote filesystems"). Magic
 * numbers from linux/magic.h and statfs(2). */
static const struct {
    unsigned long magic;
    const char *name;
} network_fs[] = {
    {0x6969, "NFS"},      {0x517B, "SMB"},     {0xFF534D42, "CIFS"},
    {0xFE534D42, "SMB2"}, {0x5346414F, "AFS"}, {0x73757245, "Coda"},
    {0x01021997, "9P"},
};

const char *config_check_network_fs(unsigned long f_type)
{
    for (gsize i = 0; i < G_N_ELEMENTS(network_fs); i++)
        if (network_fs[i].magic == (f_type & 0xFFFFFFFFUL))
            return network_fs[i].name;
    return NULL;
}

/* Proves dir writable by making and removing an entry in it: access(2)
 * says yes to root on a read-only or pseudo filesystem. Returns 0, or
 * -errno. */
static int try_write(const char *dir)
{
    char *tmpl = g_build_filename(dir, ".imgroups-check-XXXXXX", NULL);
    int rc = 0;

    if (!g_mkdtemp_full(tmpl, 0700))
        rc = -errno;
    else
        g_rmdir(tmpl);
    g_free(tmpl);
    return rc;
}

static void check_storage(const config *cfg, GPtrArray *problems,
                          GPtrArray *hints)
{
    const char *path = cfg->storage_path;
    char *dir = g_strdup(path);
    gboolean exists = g_file_test(path, G_FILE_TEST_EXISTS);
    struct statfs fs;
    const char *net;
    int rc;

    if (!g_path_is_absolute(path))
        g_ptr_array_add(
            hints, g_strdup_printf("[storage] path '%s' is relative: to the "
                                   "directory imgroups is started in (/ "
                                   "under systemd)",
                                   path));
    /* The nearest existing directory: where the store would be created. */
    while (!g_file_test(dir, G_FILE_TEST_EXISTS)) {
        char *up = g_path_get_dirname(dir);
        gboolean top = strcmp(up, dir) == 0;
        g_free(dir);
        dir = up;
        if (top)
            break;
    }
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        config_problem(problems, cfg->path, "storage", "path",
                       exists ? "'%s' is not a directory"
                              : "'%s' cannot be created: %s is not a "
                                "directory",
                       path, dir);
        goto leave;
    }
    rc = try_write(dir);
    if (rc < 0) {
        if (exists)
            config_problem(problems, cfg->path, "storage", "path",
                           "'%s' is not writable: %s", path, g_strerror(-rc));
        else
            config_problem(problems, cfg->path, "storage", "path",
                           "'%s' cannot be created: cannot write in %s: %s",
                           path, dir, g_strerror(-rc));
        goto leave;
    }
    if (statfs(dir, &fs) == 0 &&
        (net = config_check_network_fs((unsigned long)fs.f_type)))
        config_problem(problems, cfg->path, "storage", "path",
                       "'%s' is on a network filesystem (%s), where LMDB's "
                       "locks do not work: use a local disk",
                       path, net);
leave:
    g_free(dir);
}

/* ---- protocols and their options --------------------------------------- */

/* protocol id -> (option setting -> "TYPE[\tCHOICE...]"), as the worker
 * listed them. */
typedef GHashTable catalog;

/* Runs the worker's --list-protocols and reads its lines (catalog.h in
 * transports/purple). Returns 0 with *out, or -1 with a problem added. */
static int catalog_read(const config *cfg, catalog **out, GPtrArray *problems)
{
    static const legacy_events none = {0};
    legacy *lg = legacy_new(cfg, &none, NULL); /* finds the worker */
    const char *argv[] = {legacy_worker_path(lg), "--list-protocols", NULL,
                          NULL, NULL};
    char *text = NULL, *errors = NULL;
    GError *err = NULL;
    int status = 0, rc = -1;
    char **lines = NULL;

    if (cfg->plugin_dir) {
        argv[2] = "--plugin-dir";
        argv[3] = cfg->plugin_dir;
    }
    *out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                 (GDestroyNotify)g_hash_table_unref);
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                      &text, &errors, &status, &err)) {
        config_problem(problems, cfg->path, "legacy", "worker",
                       "cannot run %s: %s", argv[0], err->message);
        g_error_free(err);
        goto leave;
    }
    if (!g_spawn_check_wait_status(status, NULL) ||
        strlen(text) > CATALOG_MAX) {
        config_problem(problems, cfg->path, "legacy", "worker",
                       "%s --list-protocols failed: is it imgroups-purple "
                       "from this version?",
                       argv[0]);
        goto leave;
    }
    lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        char **f = g_strsplit(*l, "\t", 4); /* f[3]: the type, choices */
        guint n = g_strv_length(f);
        GHashTable *opts;

        if (n >= 2 && !strcmp(f[0], "protocol") &&
            !g_hash_table_contains(*out, f[1]))
            g_hash_table_insert(
                *out, g_strdup(f[1]),
                g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free));
        else if (n >= 4 && !strcmp(f[0], "option") &&
                 (opts = g_hash_table_lookup(*out, f[1])))
            g_hash_table_insert(opts, g_strdup(f[2]), g_strdup(f[3]));
        g_strfreev(f);
    }
    rc = 0;
leave:
    g_strfreev(lines);
    g_free(text);
    g_free(errors);
    legacy_free(lg);
    if (rc < 0)
        g_clear_pointer(out, g_hash_table_unref);
    return rc;
}

/* "a, b, c" of a table's keys, sorted; g_free() it. */
static char *keys_joined(GHashTable *t)
{
    GList *keys = g_list_sort(g_hash_table_get_keys(t), (GCompareFunc)strcmp);
    GString *s = g_string_new(NULL);

    for (GList *k = keys; k; k = k->next)
        g_string_append_printf(s, "%s%s", s->len ? ", " : "",
                               (const char *)k->data);
    g_list_free(keys);
    if (!s->len)
        g_string_append(s, "none");
    return g_string_free(s, FALSE);
}

static gboolean is_int(const char *v)
{
    int n;
    return optval_int(v, &n) == 0;
}

static gboolean is_bool(const char *v)
{
    gboolean b;
    return optval_bool(v, &b) == 0;
}

/* The option types the worker checks a value against (account.c); a
 * string takes any text, a choice is checked in check_option. */
static const struct {
    const char *type;
    gboolean (*valid)(const char *value);
    const char *what;
} typed[] = {
    {"int", is_int, "an integer"},
    {"bool", is_bool, "true or false (yes/no, 1/0)"},
};

/* Values are never quoted: an option may be a secret. */
static void check_option(const config *cfg, const config_account *a,
                         GHashTable *opts, const char *key, const char *value,
                         GPtrArray *problems)
{
    char *section = g_strdup_printf("account:%s", a->name);
    char *field = g_strdup_printf("option.%s", key);
    const char *listed = g_hash_table_lookup(opts, key);
    char **type = listed ? g_strsplit(listed, "\t", -1) : NULL;

    if (!type) {
        char *known = keys_joined(opts);
        config_problem(problems, cfg->path, section, field,
                       "%s has no option '%s' (its options: %s)", a->protocol,
                       key, known);
        g_free(known);
    }
    for (gsize i = 0; type && i < G_N_ELEMENTS(typed); i++)
        if (!strcmp(type[0], typed[i].type) &&
            !typed[i].valid(value ? value : ""))
            config_problem(problems, cfg->path, section, field,
                           "must be %s (%s's %s is of type %s)", typed[i].what,
                           a->protocol, key, type[0]);
    /* A choice's values (the worker refuses others too, account.c). */
    if (type && !strcmp(type[0], "choice") &&
        !g_strv_contains((const char *const *)type + 1, value ? value : "")) {
        char *choices = g_strjoinv(", ", type + 1);
        config_problem(problems, cfg->path, section, field,
                       "must be one of: %s (%s's %s is a choice)", choices,
                       a->protocol, key);
        g_free(choices);
    }
    g_strfreev(type);
    g_free(field);
    g_free(section);
}

static void check_accounts(const config *cfg, GPtrArray *problems)
{
    catalog *cat = NULL;

    if (!cfg->accounts->len || catalog_read(cfg, &cat, problems) < 0)
        return;
    for (guint i = 0; i < cfg->accounts->len; i++) {
        const config_account *a = g_ptr_array_index(cfg->accounts, i);
        GHashTable *opts = g_hash_table_lookup(cat, a->protocol);
        GList *keys;

        if (!opts) {
            char *section = g_strdup_printf("account:%s", a->name);
            char *known = keys_joined(cat);
            config_problem(problems, cfg->path, section, "protocol",
                           "'%s' is not a protocol plugin %s can load "
                           "(known: %s)",
                           a->protocol, "imgroups-purple", known);
            g_free(known);
            g_free(section);
            continue;
        }
        keys = g_list_sort(g_hash_table_get_keys(a->options),
                           (GCompareFunc)strcmp);
        for (GList *k = keys; k; k = k->next)
            check_option(cfg, a, opts, k->data,
                         g_hash_table_lookup(a->options, k->data), problems);
        g_list_free(keys);
    }
    g_hash_table_unref(cat);
}

/* ---- the server's side of the link (prosodyctl check's kind of hint) --- */

static gboolean is_loopback(const char *host)
{
    static const char *const loopback[] = {"127.0.0.1", "::1", "localhost"};

    for (gsize i = 0; i < G_N_ELEMENTS(loopback); i++)
        if (!g_ascii_strcasecmp(host, loopback[i]))
            return TRUE;
    return g_str_has_prefix(host, "127.");
}

/* As prosodyctl check does, try the server: nothing accepting where
 * imgroups would connect is what a misplaced component_ports looks like.
 * A hint, not a problem: the server may be down while the file is fine. */
static void hint_reach(const config *cfg, GPtrArray *hints)
{
    GSocketClient *client = g_socket_client_new();
    GSocketConnection *conn;
    GError *err = NULL;

    g_socket_client_set_timeout(client, PROBE_TIMEOUT_S);
    conn = g_socket_client_connect_to_host(client, cfg->host, cfg->port, NULL,
                                           &err);
    if (conn) {
        g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
        g_object_unref(conn);
    } else {
        g_ptr_array_add(hints,
                        g_strdup_printf("[component] host, port: nothing "
                                        "accepts a connection at %s:%u now "
                                        "(%s): is the XMPP server running, "
                                        "with its component port there?",
                                        cfg->host, cfg->port, err->message));
        g_error_free(err);
    }
    g_object_unref(client);
}

static void hint_server(const config *cfg, GPtrArray *hints)
{
    hint_reach(cfg, hints);
    if (cfg->port != PROSODY_COMPONENT_PORT)
        g_ptr_array_add(
            hints,
            g_strdup_printf("[component] port %u: in Prosody, "
                            "component_ports = { %u } goes in the global "
                            "section, before any VirtualHost or Component "
                            "line (after a Component line it belongs to that "
                            "component and is ignored); ejabberd needs a "
                            "listen entry with port: %u and module: "
                            "ejabberd_service",
                            cfg->port, cfg->port, cfg->port));
    if (!is_loopback(cfg->host))
        g_ptr_array_add(
            hints,
            g_strdup_printf("[component] host %s: Prosody listens for "
                            "components on 127.0.0.1 and ::1 only unless "
                            "component_interfaces (global section) names "
                            "this address; the component stream is not "
                            "encrypted, keep it on a trusted network",
                            cfg->host));
    g_ptr_array_add(
        hints,
        g_strdup_printf("[component] secret: must equal Prosody's "
                        "component_secret under Component \"%s\" (ejabberd: "
                        "password under the listener's hosts: \"%s\")",
                        cfg->jid, cfg->jid));
    if (strlen(cfg->secret) < SECRET_MIN || !strcmp(cfg->secret, "changeme"))
        g_ptr_array_add(hints,
                        g_strdup_printf("[component] secret: shorter than %d "
                                        "characters or an example's: anyone "
                                        "who reaches the component port could "
                                        "guess it (try: openssl rand -base64 "
                                        "24)",
                                        SECRET_MIN));
}

/* ---- shards (docs/cluster.md) ---------------------------------------- */

void config_check_shards(const config *cfg, GPtrArray *lines)
{
    if (cfg->shards < 2)
        return;
    for (guint i = 0; i < cfg->accounts->len; i++) {
        const config_account *a = g_ptr_array_index(cfg->accounts, i);
        guint k = registry_group_shard(cfg, a->group);
        g_ptr_array_add(lines,
                        g_strdup_printf("account %s serves group %s@%s: "
                                        "shard %u of %u runs it%s",
                                        a->name, a->group, cfg->jid, k,
                                        cfg->shards,
                                        k == cfg->shard ? " (this instance)"
                                                        : ""));
    }
}

int config_check(const config *cfg, GPtrArray *problems, GPtrArray *hints)
{
    guint before = problems->len;

    check_storage(cfg, problems, hints);
    check_accounts(cfg, problems);
    config_check_shards(cfg, hints);
    hint_server(cfg, hints);
    return problems->len == before ? 0 : -1;
}
