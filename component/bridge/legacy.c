/* legacy: spawning and supervising the libpurple workers (legacy.h). */
#include "legacy.h"

#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>

#include "backoff.h"
#include "channel.h"
#include "clock.h"
#include "log.h"
#include "secret.h"

#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS   60000
/* A worker that ran this long before dying starts the backoff afresh:
 * otherwise one crash a day would, after a week, wait a minute. */
#define STABLE_AFTER_US (60 * G_USEC_PER_SEC)
#define KILL_AFTER_S    5

typedef struct worker {
    legacy *lg;
    char *name;
    /* what to run; kept for restarts */
    char *protocol, *username, *password;
    GHashTable *options; /* char * -> char *, owned */
    GSubprocess *proc;
    GCancellable *cancel;   /* the wait on proc */
    channel *ch;            /* our end of the socketpair; NULL when none */
    gboolean stopping;      /* we asked it to go: no restart */
    gboolean restart_after; /* stopping for a new start with new settings */
    gboolean quarantined;
    guint restart_id, kill_id;
    GArray *crashes; /* gint64 monotonic µs of recent crashes */
    backoff restart; /* 1 s doubling to 60 s, stable after 60 s */
} worker;

struct legacy {
    const config *cfg;
    legacy_events ev;
    void *userdata;
    char *worker_path;
    GHashTable *workers; /* name -> worker * (owned) */
};

static void spawn(worker *w);

/* Our end of the socketpair is done with. */
static void hang_up(worker *w)
{
    g_clear_pointer(&w->ch, channel_free);
}

static void worker_free(gpointer data)
{
    worker *w = data;

    hang_up(w);
    if (w->cancel) {
        g_cancellable_cancel(w->cancel);
        g_object_unref(w->cancel);
    }
    if (w->proc) {
        g_subprocess_send_signal(w->proc, SIGTERM);
        g_object_unref(w->proc);
    }
    if (w->restart_id)
        g_source_remove(w->restart_id);
    if (w->kill_id)
        g_source_remove(w->kill_id);
    g_free(w->name);
    g_free(w->protocol);
    g_free(w->username);
    secret_free(w->password);
    if (w->options)
        g_hash_table_unref(w->options);
    g_array_unref(w->crashes);
    g_free(w);
}

/* imgroups-purple in the build tree (transports/purple/ next to
 * component/), where it is installed (IMGROUPS_PKGLIBDIR, meson's
 * worker_dir), or beside the running imgroups. */
static char *find_worker(void)
{
    char *self = g_file_read_link("/proc/self/exe", NULL);
    char *dir = self ? g_path_get_dirname(self) : g_strdup(".");
    char *candidates[] = {
        g_build_filename(dir, "..", "transports", "purple", "imgroups-purple",
                         NULL),
        g_build_filename(IMGROUPS_PKGLIBDIR, "imgroups-purple", NULL),
        g_build_filename(dir, "imgroups-purple", NULL),
    };
    char *found = NULL;

    for (size_t i = 0; i < G_N_ELEMENTS(candidates); i++) {
        if (!found && g_file_test(candidates[i], G_FILE_TEST_IS_EXECUTABLE))
            found = g_strdup(candidates[i]);
        g_free(candidates[i]);
    }
    if (!found)
        found = g_build_filename(IMGROUPS_PKGLIBDIR, "imgroups-purple", NULL);
    g_free(dir);
    g_free(self);
    return found;
}

/* The workers write what the core's [log] legacy lets through. */
static GVariant *log_level_body(void)
{
    return g_variant_new("(u)", (guint32)log_threshold[LOG_LEGACY]);
}

static void send_log_levels(void *data)
{
    legacy *lg = data;
    GHashTableIter it;
    gpointer name;

    g_hash_table_iter_init(&it, lg->workers);
    while (g_hash_table_iter_next(&it, &name, NULL))
        legacy_send(lg, name, PROTO_LOG_LEVEL, log_level_body());
}

legacy *legacy_new(const config *cfg, const legacy_events *events,
                   void *userdata)
{
    legacy *lg = g_new0(legacy, 1);

    lg->cfg = cfg;
    lg->ev = *events;
    lg->userdata = userdata;
    lg->worker_path = cfg->worker ? g_strdup(cfg->worker) : find_worker();
    lg->workers =
        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, worker_free);
    log_watch(send_log_levels, lg);
    return lg;
}

void legacy_free(legacy *lg)
{
    if (!lg)
        return;
    log_unwatch(send_log_levels, lg);
    g_hash_table_destroy(lg->workers);
    g_free(lg->worker_path);
    g_free(lg);
}

const char *legacy_worker_path(const legacy *lg)
{
    return lg->worker_path;
}

/* ---- the channel ---- */

int legacy_send(legacy *lg, const char *account, enum proto_type t,
                GVariant *body)
{
    worker *w = g_hash_table_lookup(lg->workers, account);
    int rc;

    if (!w || !w->ch || !channel_is_open(w->ch) || w->stopping) {
        if (body && g_variant_is_floating(body))
            g_variant_unref(g_variant_ref_sink(body));
        return -1;
    }
    rc = channel_send(w->ch, t, body);
    if (rc < 0) {
        log_for_account(LOG_LEGACY, LOG_ERROR, w->name,
                        "worker %s: cannot send %s: %s", w->name, proto_name(t),
                        g_strerror(-rc));
        return -1;
    }
    return 0;
}

static void on_message(channel *ch, enum proto_type t, GVariant *body,
                       void *data)
{
    worker *w = data;
    guint16 v = 0;

    if (t != PROTO_HELLO) {
        w->lg->ev.message(w->name, t, body, w->lg->userdata);
        return;
    }
    g_variant_get(body, "(q)", &v);
    if (v == PROTO_VERSION)
        return;
    log_error(LOG_LEGACY,
              "worker %s speaks protocol %u, this imgroups %u: %s is from "
              "another build",
              w->name, v, PROTO_VERSION, w->lg->worker_path);
    /* A worker that cannot be understood is not trusted further. */
    channel_close(ch);
    if (w->proc)
        g_subprocess_force_exit(w->proc);
}

static void on_turn(void (*fn)(void *), void *arg, void *data)
{
    worker *w = data;

    w->lg->ev.turn(fn, arg, w->lg->userdata);
}

/* EOF: the worker is exiting, and the wait reports how. A stream that
 * cannot be understood makes the worker one that is not trusted. */
static void on_closed(channel *ch, int status, const char *why, void *data)
{
    worker *w = data;

    if (status == -EPROTO) {
        log_for_account(LOG_LEGACY, LOG_ERROR, w->name,
                        "worker %s: broken message stream: %s", w->name, why);
        if (w->proc)
            g_subprocess_force_exit(w->proc);
        return;
    }
    log_for_account(LOG_LEGACY, LOG_DEBUG, w->name, "worker %s: %s", w->name,
                    why);
}

static const channel_events channel_ev = {
    .message = on_message,
    .turn = on_turn,
    .closed = on_closed,
};

/* ---- life and death ---- */

static gboolean restart_cb(gpointer data)
{
    worker *w = data;

    w->restart_id = 0;
    spawn(w);
    return G_SOURCE_REMOVE;
}

static gboolean kill_cb(gpointer data)
{
    worker *w = data;

    w->kill_id = 0;
    if (w->proc) {
        log_for_account(LOG_LEGACY, LOG_WARNING, w->name,
                        "worker %s did not stop in %d s: killing it", w->name,
                        KILL_AFTER_S);
        g_subprocess_force_exit(w->proc);
    }
    return G_SOURCE_REMOVE;
}

static char *exit_text(GSubprocess *proc)
{
    if (g_subprocess_get_if_signaled(proc))
        return g_strdup_printf("killed by signal %d",
                               g_subprocess_get_term_sig(proc));
    return g_strdup_printf("exited with status %d",
                           g_subprocess_get_exit_status(proc));
}

/* Counts this crash; TRUE when the account has crashed crash_limit times
 * within crash_window seconds. */
static gboolean crash_loop(worker *w)
{
    gint64 now = clock_now();
    gint64 window = (gint64)w->lg->cfg->crash_window * G_USEC_PER_SEC;

    g_array_append_val(w->crashes, now);
    while (w->crashes->len &&
           now - g_array_index(w->crashes, gint64, 0) > window)
        g_array_remove_index(w->crashes, 0);
    return w->crashes->len >= w->lg->cfg->crash_limit;
}

static void on_worker_exit(GObject *source, GAsyncResult *res, gpointer data)
{
    worker *w = data;
    legacy *lg;
    GError *err = NULL;
    char *why;
    gboolean quarantine, signaled;

    if (!g_subprocess_wait_finish(G_SUBPROCESS(source), res, &err)) {
        /* Cancelled: the worker struct is being freed. */
        g_error_free(err);
        return;
    }
    lg = w->lg;
    why = exit_text(w->proc);
    signaled = g_subprocess_get_if_signaled(w->proc);
    g_clear_object(&w->proc);
    g_clear_object(&w->cancel);
    if (w->kill_id) {
        g_source_remove(w->kill_id);
        w->kill_id = 0;
    }
    hang_up(w);
    if (w->stopping) {
        log_for_account(LOG_LEGACY, LOG_INFO, w->name, "worker %s stopped (%s)",
                        w->name, why);
        g_free(why);
        if (w->restart_after) {
            w->stopping = w->restart_after = FALSE;
            spawn(w);
        } else
            g_hash_table_remove(lg->workers, w->name);
        return;
    }
    quarantine = crash_loop(w);
    if (quarantine) {
        char *text = g_strdup_printf(
            "its worker %s %u times in %u s; quarantined until an admin "
            "enables it again",
            signaled ? "crashed" : "died", w->crashes->len,
            lg->cfg->crash_window);
        log_for_account(LOG_LEGACY, LOG_ERROR, w->name,
                        "account %s: worker %s; %s", w->name, why, text);
        w->quarantined = TRUE;
        g_free(why);
        why = text;
    } else {
        guint delay = backoff_next(&w->restart, clock_now(), FALSE);

        log_for_account(LOG_LEGACY, LOG_WARNING, w->name,
                        "account %s: worker %s; restarting in %u ms", w->name,
                        why, delay);
        w->restart_id = g_timeout_add(delay, restart_cb, w);
    }
    lg->ev.lost(w->name, why, quarantine, lg->userdata);
    g_free(why);
}

static GVariant *account_add_body(const worker *w)
{
    GVariantBuilder opts;
    GHashTableIter it;
    gpointer k, v;

    g_variant_builder_init(&opts, G_VARIANT_TYPE("a{ss}"));
    if (w->options) {
        g_hash_table_iter_init(&it, w->options);
        while (g_hash_table_iter_next(&it, &k, &v))
            g_variant_builder_add(&opts, "{ss}", (char *)k, (char *)v);
    }
    return g_variant_new("(ssssa{ss})", w->name, w->protocol, w->username,
                         w->password ? w->password : "", &opts);
}

/* Fails like a crash that cannot be retried: the account is quarantined
 * with why. */
static void cannot_run(worker *w, const char *why)
{
    log_for_account(LOG_LEGACY, LOG_ERROR, w->name, "account %s: %s", w->name,
                    why);
    w->quarantined = TRUE;
    w->lg->ev.lost(w->name, why, TRUE, w->lg->userdata);
}

/* Under AddressSanitizer (the test builds), a worker's exit-time leak
 * check reports what libpurple's protocol plugins keep until exit; they
 * are unloaded by then, so their stacks cannot be suppressed by module.
 * The worker gets the core's ASAN_OPTIONS with leak detection off; every
 * other check stays on. */
static void no_leak_check(GSubprocessLauncher *l)
{
    const char *opts = g_getenv("ASAN_OPTIONS");
    char *more;

    if (!opts)
        return;
    more = g_strconcat(opts, *opts ? ":" : "", "detect_leaks=0", NULL);
    g_subprocess_launcher_setenv(l, "ASAN_OPTIONS", more, TRUE);
    g_free(more);
}

static void spawn(worker *w)
{
    legacy *lg = w->lg;
    int sv[2];
    char *dir, *fdarg;
    GSubprocessLauncher *l;
    GError *err = NULL;
    GPtrArray *argv;

    dir = g_build_filename(lg->cfg->storage_path, "purple", w->name, NULL);
    if (g_mkdir_with_parents(dir, 0700) < 0) {
        char *why =
            g_strdup_printf("cannot create %s: %s", dir, g_strerror(errno));
        cannot_run(w, why);
        g_free(why);
        g_free(dir);
        return;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        char *why = g_strdup_printf("socketpair: %s", g_strerror(errno));
        cannot_run(w, why);
        g_free(why);
        g_free(dir);
        return;
    }
    fdarg = g_strdup_printf("%d", 3);
    argv = g_ptr_array_new();
    g_ptr_array_add(argv, lg->worker_path);
    g_ptr_array_add(argv, "--fd");
    g_ptr_array_add(argv, fdarg);
    g_ptr_array_add(argv, "--user-dir");
    g_ptr_array_add(argv, dir);
    if (lg->cfg->plugin_dir) {
        g_ptr_array_add(argv, "--plugin-dir");
        g_ptr_array_add(argv, lg->cfg->plugin_dir);
    }
    if (log_on(LOG_LEGACY, LOG_DEBUG))
        g_ptr_array_add(argv, "--debug");
    g_ptr_array_add(argv, NULL);

    l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_subprocess_launcher_take_fd(l, sv[1], 3); /* closed in the parent */
    no_leak_check(l);
    w->proc =
        g_subprocess_launcher_spawnv(l, (const char *const *)argv->pdata, &err);
    g_object_unref(l);
    g_ptr_array_unref(argv);
    g_free(fdarg);
    g_free(dir);
    if (!w->proc) {
        char *why =
            g_strdup_printf("cannot run %s: %s", lg->worker_path, err->message);
        g_error_free(err);
        close(sv[0]);
        cannot_run(w, why);
        g_free(why);
        return;
    }
    w->ch = channel_new(sv[0], &channel_ev, w);
    w->cancel = g_cancellable_new();
    backoff_up(&w->restart, clock_now());
    g_subprocess_wait_async(w->proc, w->cancel, on_worker_exit, w);
    log_for_account(LOG_LEGACY, LOG_INFO, w->name,
                    "account %s: worker started (pid %s)", w->name,
                    g_subprocess_get_identifier(w->proc));
    /* The worker reads these after sending its own hello. */
    legacy_send(lg, w->name, PROTO_HELLO,
                g_variant_new("(q)", (guint16)PROTO_VERSION));
    legacy_send(lg, w->name, PROTO_LOG_LEVEL, log_level_body());
    legacy_send(lg, w->name, PROTO_ACCOUNT_ADD, account_add_body(w));
}

static GHashTable *options_copy(GHashTable *src)
{
    GHashTable *h =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    GHashTableIter it;
    gpointer k, v;

    if (src) {
        g_hash_table_iter_init(&it, src);
        while (g_hash_table_iter_next(&it, &k, &v))
            g_hash_table_insert(h, g_strdup(k), g_strdup(v));
    }
    return h;
}

void legacy_start(legacy *lg, const char *name, const char *protocol,
                  const char *username, const char *password,
                  GHashTable *options)
{
    worker *w = g_hash_table_lookup(lg->workers, name);

    if (!w) {
        w = g_new0(worker, 1);
        w->lg = lg;
        w->name = g_strdup(name);
        w->crashes = g_array_new(FALSE, FALSE, sizeof(gint64));
        g_hash_table_insert(lg->workers, w->name, w);
    }
    g_free(w->protocol);
    g_free(w->username);
    secret_free(w->password);
    if (w->options)
        g_hash_table_unref(w->options);
    w->protocol = g_strdup(protocol);
    w->username = g_strdup(username);
    w->password = g_strdup(password ? password : "");
    w->options = options_copy(options);
    w->quarantined = FALSE;
    backoff_init(&w->restart, BACKOFF_FIRST_MS, BACKOFF_MAX_MS,
                 STABLE_AFTER_US);
    g_array_set_size(w->crashes, 0);
    if (w->restart_id) {
        g_source_remove(w->restart_id);
        w->restart_id = 0;
    }
    if (w->proc) {
        /* One worker per user dir: the new one starts when the old one is
         * gone. */
        w->stopping = w->restart_after = TRUE;
        g_subprocess_send_signal(w->proc, SIGTERM);
        if (!w->kill_id)
            w->kill_id = g_timeout_add_seconds(KILL_AFTER_S, kill_cb, w);
        return;
    }
    w->stopping = w->restart_after = FALSE;
    spawn(w);
}

void legacy_stop(legacy *lg, const char *name)
{
    worker *w = g_hash_table_lookup(lg->workers, name);

    if (!w)
        return;
    if (!w->proc) {
        g_hash_table_remove(lg->workers, name);
        return;
    }
    w->stopping = TRUE;
    w->restart_after = FALSE;
    hang_up(w);
    g_subprocess_send_signal(w->proc, SIGTERM);
    if (!w->kill_id)
        w->kill_id = g_timeout_add_seconds(KILL_AFTER_S, kill_cb, w);
}
