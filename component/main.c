/* main: the imgroups process — options, config, store, link, signals. */
#include <errno.h>
#include <glib.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "backup.h"
#include "bridge.h"
#include "bus.h"
#include "config.h"
#include "config_check.h"
#include "groups.h"
#include "jid.h"
#include "log.h"
#include "probe.h"
#include "standby.h"
#include "registry.h"
#include "reload.h"
#include "reshard.h"
#include "retention.h"
#include "router.h"
#include "sdnotify.h"
#include "store.h"
#include "uplink.h"

/* Exit codes: 0 clean stop, 1 could not start (store, link setup),
 * 2 bad usage or configuration. */
enum { EXIT_CANNOT_START = 1, EXIT_BAD_CONFIG = 2 };

typedef struct app {
    GMainLoop *loop;
    config *cfg;
    store *st;
    router *r;
    registry *reg;
    bridge *br;
    uplink *up;
    bus *bus;     /* the shard bus ([cluster] shards > 1: a link of its own) */
    probe *probe; /* proves the main link's slot before rooms are served */
    standby *standby; /* answers for dead shards' slots */
    retention *rt;
    backup_hold *hold; /* the store's lock a restore must not break */
    gboolean stopping;
    guint watchdog; /* the WATCHDOG=1 timeout; 0: not watched */
} app;

/* The map a full store is measured against ([storage] map_size). */
static void log_store_opened(const char *path, const store *st)
{
    char *map = g_format_size_full(store_map_size(st), G_FORMAT_SIZE_IEC_UNITS);

    log_info(LOG_STORE, "store %s open, schema version %u, map %s", path,
             store_schema_version(st), map);
    g_free(map);
}

static int ensure_groups_txn(MDB_txn *txn, const store *st, void *userdata)
{
    const config *cfg = userdata;

    for (guint i = 0; i < cfg->accounts->len; i++) {
        const config_account *a = g_ptr_array_index(cfg->accounts, i);
        gboolean created = FALSE;
        char *name;
        int rc;

        if (registry_group_shard(cfg, a->group) != cfg->shard)
            continue; /* another shard's group: made there, never here */
        name = jid_node_fold(a->group); /* as rooms are looked up */
        rc = name ? groups_ensure(txn, st, name, &created) : -EINVAL;
        g_free(name);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Every [account:NAME] names its group; the group is created if missing,
 * by the shard that owns it ([cluster], docs/cluster.md). */
static int ensure_groups(app *a, const config *cfg)
{
    GError *err = NULL;

    if (store_write(a->st, ensure_groups_txn, (void *)cfg, &err) < 0) {
        log_error(LOG_STORE, "cannot create the configured groups: %s",
                  err ? err->message : "unknown error");
        g_clear_error(&err);
        return -1;
    }
    for (guint i = 0; i < cfg->accounts->len; i++) {
        const config_account *acct = g_ptr_array_index(cfg->accounts, i);
        guint k = registry_group_shard(cfg, acct->group);
        if (cfg->shards > 1)
            log_info(LOG_MAIN,
                     "account %s (%s) serves group %s@%s: shard %u of %u "
                     "runs it%s",
                     acct->name, acct->protocol, acct->group, cfg->jid, k,
                     cfg->shards,
                     k == cfg->shard ? " (this one)" : ", not this one");
        else
            log_info(LOG_MAIN, "account %s (%s) serves group %s@%s",
                     acct->name, acct->protocol, acct->group, cfg->jid);
    }
    return 0;
}

/* Group commit: the stanzas one turn of the link handles share one write
 * transaction of the store, committed before any of their replies leaves. */
static gboolean on_turn(gboolean begin, void *userdata)
{
    app *a = userdata;
    GError *err = NULL;

    if (begin) {
        store_batch_begin(a->st);
        return TRUE;
    }
    if (store_batch_end(a->st, &err) < 0) {
        log_error(LOG_STORE, "%s", err ? err->message : "commit failed");
        g_clear_error(&err);
        return FALSE;
    }
    return TRUE;
}

static void print_problems(GPtrArray *problems)
{
    for (guint i = 0; i < problems->len; i++)
        fprintf(stderr, "%s\n", (char *)g_ptr_array_index(problems, i));
}

static void print_config_keys(void)
{
    GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);

    config_keys(keys);
    for (guint i = 0; i < keys->len; i++)
        printf("%s\n", (char *)g_ptr_array_index(keys, i));
    g_ptr_array_unref(keys);
}

static void stopped(void *userdata)
{
    app *a = userdata;

    g_main_loop_quit(a->loop);
}

static gboolean on_stop_signal(gpointer userdata)
{
    app *a = userdata;

    if (a->stopping) {
        log_warning(LOG_MAIN, "second stop signal: leaving at once");
        g_main_loop_quit(a->loop);
        return G_SOURCE_CONTINUE;
    }
    a->stopping = TRUE;
    log_info(LOG_MAIN, "stopping");
    sdnotify_stopping();
    bridge_shutdown(a->br);
    router_shutdown(a->r, a->up);
    uplink_stop(a->up, stopped, a);
    return G_SOURCE_CONTINUE;
}

/* systemctl status shows the link's state; a link that comes up proves
 * its slot first (cluster/probe.h). */
static void on_link_state(uplink *up, gboolean connected, void *userdata)
{
    probe *p = router_probe(userdata);

    if (p)
        probe_link_state(p, up, connected);
    sdnotify_status(connected ? "link up" : "link down, reconnecting");
}

static gboolean on_hup(gpointer userdata)
{
    app *a = userdata;
    GPtrArray *problems = g_ptr_array_new_with_free_func(g_free);
    config *fresh = NULL;

    /* SIGHUP re-reads the file: what can change without dropping the link
     * changes (reload.c), and the accounts; a bad file changes nothing. */
    if (config_load(a->cfg->path, &fresh, problems) < 0) {
        for (guint i = 0; i < problems->len; i++)
            log_error(LOG_CONFIG, "reload refused: %s",
                      (char *)g_ptr_array_index(problems, i));
    } else {
        reload_run(a->cfg, fresh);
        log_info(LOG_CONFIG, "reloaded %s: %u accounts", a->cfg->path,
                 fresh->accounts->len);
        if (ensure_groups(a, fresh) == 0) {
            g_ptr_array_unref(a->cfg->accounts);
            a->cfg->accounts = g_ptr_array_ref(fresh->accounts);
        }
        /* added, changed and removed accounts start, restart and stop */
        registry_reload(a->reg, fresh);
        config_free(fresh);
    }
    g_ptr_array_unref(problems);
    return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv)
{
    char *config_path = NULL;
    gboolean config_keys = FALSE;
    gboolean check_only = FALSE, show_version = FALSE, dump = FALSE;
    char *backup_dir = NULL, *restore_dir = NULL;
    gboolean reshard = FALSE;
    gint reshard_to = 0;
    GOptionEntry entries[] = {
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
         "Configuration file (INI; default " IMGROUPS_CONFIG_FILE ")", "FILE"},
        {"check-config", 0, 0, G_OPTION_ARG_NONE, &check_only,
         "Validate the configuration and exit (2 if it has problems)", NULL},
        {"backup", 0, 0, G_OPTION_ARG_FILENAME, &backup_dir,
         "Copy the store into DIR (new or empty), also while imgroups runs",
         "DIR"},
        {"restore", 0, 0, G_OPTION_ARG_FILENAME, &restore_dir,
         "Put the backup in DIR in place of the store (imgroups stopped)",
         "DIR"},
        {"dump", 0, 0, G_OPTION_ARG_NONE, &dump,
         "Print every record of the store, passwords masked", NULL},
        {"reshard", 0, 0, G_OPTION_ARG_NONE, &reshard,
         "Move the groups from the stores OLD... of [cluster] shards "
         "instances into N new stores NEW... (every instance stopped)",
         NULL},
        {"to", 0, 0, G_OPTION_ARG_INT, &reshard_to,
         "With --reshard: the new number of shards", "N"},
        {"version", 'V', 0, G_OPTION_ARG_NONE, &show_version,
         "Print the version and exit", NULL},
        {"config-keys", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE,
         &config_keys,
         "Print the keys the configuration may hold (for tests/doc)", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    GOptionContext *octx;
    GError *err = NULL;
    GPtrArray *problems = NULL;
    app a = {0};
    uplink_params params;
    int rc = EXIT_BAD_CONFIG;

    log_route_glib();
    octx = g_option_context_new("- group chats on XMPP and legacy IM networks");
    g_option_context_set_summary(
        octx, "imgroups is an XMPP external component (XEP-0114): every "
              "group is a MUC room,\nbridged to legacy networks through "
              "libpurple bots.");
    g_option_context_add_main_entries(octx, entries, NULL);
    if (!g_option_context_parse(octx, &argc, &argv, &err)) {
        fprintf(stderr, "imgroups: %s (try --help)\n", err->message);
        g_error_free(err);
        goto leave;
    }
    if (argc > 1 && !reshard) {
        fprintf(stderr,
                "imgroups: unexpected argument '%s' (the file goes "
                "after --config; try --help)\n",
                argv[1]);
        goto leave;
    }
    if (show_version) {
        printf("imgroups %s\n", IMGROUPS_VERSION);
        rc = 0;
        goto leave;
    }
    if (config_keys) {
        print_config_keys();
        rc = 0;
        goto leave;
    }
    if (!config_path) {
        /* Without -c: the installed file (Debian: /etc/imgroups/). */
        if (!g_file_test(IMGROUPS_CONFIG_FILE, G_FILE_TEST_EXISTS)) {
            fprintf(stderr,
                    "imgroups: no --config FILE given and no "
                    "%s (try --help)\n",
                    IMGROUPS_CONFIG_FILE);
            goto leave;
        }
        config_path = g_strdup(IMGROUPS_CONFIG_FILE);
    }
    problems = g_ptr_array_new_with_free_func(g_free);
    if (config_load(config_path, &a.cfg, problems) < 0) {
        print_problems(problems);
        goto leave;
    }
    if (check_only) {
        GPtrArray *hints = g_ptr_array_new_with_free_func(g_free);
        if (config_check(a.cfg, problems, hints) < 0)
            print_problems(problems);
        else
            printf("%s: configuration OK\n", config_path);
        for (guint i = 0; i < hints->len; i++)
            printf("hint: %s\n", (char *)g_ptr_array_index(hints, i));
        g_ptr_array_unref(hints);
        rc = problems->len ? EXIT_BAD_CONFIG : 0;
        goto leave;
    }
    if (backup_dir || restore_dir || dump) {
        rc = backup_run(a.cfg, backup_dir, restore_dir, dump) == 0
                 ? 0
                 : EXIT_CANNOT_START;
        goto leave;
    }
    if (reshard) {
        int r = reshard_cli(a.cfg, reshard_to, argv + 1, argc - 1);
        rc = r == 0 ? 0 : r == -EINVAL ? EXIT_BAD_CONFIG : EXIT_CANNOT_START;
        goto leave;
    }
    config_apply_log(a.cfg);
    rc = EXIT_CANNOT_START;

    /* A peer closing a socket must be an error return, not a death. */
    signal(SIGPIPE, SIG_IGN);
    log_info(LOG_MAIN, "imgroups %s starting as %s", IMGROUPS_VERSION,
             a.cfg->jid);
    if (backup_hold_take(a.cfg->storage_path, &a.hold, &err) < 0) {
        log_error(LOG_STORE, "%s", err->message);
        g_clear_error(&err);
        goto leave;
    }
    if (store_open(a.cfg->storage_path, a.cfg->map_size, &a.st, &err) < 0) {
        log_error(LOG_STORE, "%s", err ? err->message : "cannot open");
        g_clear_error(&err);
        goto leave;
    }
    log_store_opened(a.cfg->storage_path, a.st);
    if (!a.cfg->meta_sync) {
        if (store_set_meta_sync(a.st, FALSE) < 0) {
            log_error(LOG_STORE, "[storage] sync = no-meta: cannot be set");
            goto leave;
        }
        log_warning(LOG_STORE, "[storage] sync = no-meta: one flush per "
                               "commit; a power loss may undo the last commit");
    }
    if (ensure_groups(&a, a.cfg) < 0)
        goto leave;
    if (router_new(a.cfg, a.st, &a.r, &err) < 0) {
        log_error(LOG_STORE, "%s", err ? err->message : "cannot start");
        g_clear_error(&err);
        goto leave;
    }
    /* The accounts: the file's written into the store, the store's read. */
    if (registry_new(a.cfg, a.st, &a.reg, &err) < 0) {
        log_error(LOG_STORE, "%s", err ? err->message : "cannot load accounts");
        g_clear_error(&err);
        goto leave;
    }
    router_set_registry(a.r, a.reg);
    /* The legacy side: the bridge runs the accounts once the link exists. */
    a.br = bridge_new(a.cfg, a.st, router_muc(a.r), a.reg);
    params = (uplink_params){
        .jid = a.cfg->jid,
        .host = a.cfg->host,
        .port = a.cfg->port,
        .secret = a.cfg->secret,
        .queue_max = a.cfg->queue_max,
        .on_turn = on_turn,
        .turn_data = &a,
        .stanza_limit = a.cfg->stanza_limit,
        .send_buffer = a.cfg->send_buffer,
        .limits =
            {
                .stanza_size = a.cfg->stanza_size,
                .elements = a.cfg->stanza_elements,
                .depth = a.cfg->stanza_depth,
                .attributes = a.cfg->attributes,
                .attribute_size = a.cfg->attribute_size,
            },
    };
    if (uplink_new(&params, router_on_stanza, on_link_state, a.r, &a.up) < 0)
        goto leave;
    /* [cluster] shards > 1: the bus to the other instances, and the probe
     * that must prove this link's slot before any room is served. */
    if (bus_new(a.cfg, uplink_ctx(a.up), &a.bus) < 0 ||
        probe_new(a.cfg, a.bus, &a.probe) < 0) {
        log_error(LOG_MAIN, "cannot set up the shard bus");
        goto leave;
    }
    router_set_probe(a.r, a.probe);
    /* The lowest live instance answers for dead shards' slots. */
    if (standby_new(&params, uplink_ctx(a.up), a.cfg, a.bus, a.probe,
                    &a.standby) < 0) {
        log_error(LOG_MAIN, "cannot set up the standby connections");
        goto leave;
    }
    /* The service JID answers for every shard (service.c, the service
     * commands): no-op with one shard. */
    if (router_set_bus(a.r, a.bus, a.up) < 0) {
        log_error(LOG_MAIN, "cannot serve the shard bus");
        goto leave;
    }
    bridge_start(a.br, a.up);
    a.rt = retention_start(a.st, a.cfg->keep_days);
    a.loop = g_main_loop_new(NULL, FALSE);
    g_unix_signal_add(SIGTERM, on_stop_signal, &a);
    g_unix_signal_add(SIGINT, on_stop_signal, &a);
    g_unix_signal_add(SIGHUP, on_hup, &a);
    /* Ready: the store is open and every source is in place, the loop
     * runs next; the link's state follows in STATUS= (on_link_state). */
    sdnotify_ready("store open; connecting to %s:%u as %s", a.cfg->host,
                   (unsigned)a.cfg->port, a.cfg->jid);
    if (sdnotify_watchdog_start(&a.watchdog) < 0)
        log_warning(LOG_MAIN, "WATCHDOG_USEC is not a number: no watchdog");
    g_main_loop_run(a.loop);
    log_info(LOG_MAIN, "stopped");
    rc = 0;
leave:
    if (a.watchdog)
        g_source_remove(a.watchdog);
    retention_stop(a.rt);
    bridge_free(a.br); /* its workers get SIGTERM */
    router_free(a.r);  /* occupants hold stanzas of the link's context */
    standby_free(a.standby);
    probe_free(a.probe);
    bus_free(a.bus);
    if (a.up)
        uplink_free(a.up);
    registry_free(a.reg);
    if (a.st)
        store_close(a.st);
    backup_hold_free(a.hold);
    config_free(a.cfg);
    if (a.loop)
        g_main_loop_unref(a.loop);
    if (problems)
        g_ptr_array_unref(problems);
    g_option_context_free(octx);
    g_free(config_path);
    g_free(backup_dir);
    g_free(restore_dir);
    return rc;
}
