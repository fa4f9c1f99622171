/* worker: imgroups-purple's main: options, the hello exchange with the core,
 * signals, and the main loop that libpurple and the core link share. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <stdlib.h>

#include <glib-unix.h>
#include <unistd.h>

#include <glib.h>

#include "bot.h"
#include "catalog.h"
#include "channel.h"
#include "clock.h"
#include "protocol.h"
#include "ui.h"

/* Exit statuses. */
enum {
    EXIT_OK = 0,      /* EOF from the core, SIGTERM/SIGINT, account_remove */
    EXIT_BROKEN = 1,  /* broken stream, I/O error, libpurple failed */
    EXIT_USAGE = 2,   /* bad command line */
    EXIT_VERSION = 3, /* the core speaks another protocol version */
};

static struct {
    GMainLoop *loop;
    channel *ch;
    bot *bot;
    gboolean greeted; /* the core's hello arrived */
    gboolean stopping;
    gint64 closed_at; /* when the core link closed, monotonic µs */
    int status;
} w;

static void stop(int status)
{
    /* Quit again on a second call: a stop that came before the loop ran
     * (during start-up) did not end it. */
    g_main_loop_quit(w.loop);
    if (w.stopping)
        return;
    w.stopping = TRUE;
    w.status = status;
}

static void on_message(channel *ch, enum proto_type t, GVariant *body,
                       void *data)
{
    guint16 version;

    if (w.stopping)
        return;
    if (!w.greeted) {
        if (t != PROTO_HELLO) {
            g_warning("the core sent %s before hello", proto_name(t));
            stop(EXIT_BROKEN);
            return;
        }
        g_variant_get(body, "(q)", &version);
        if (version != PROTO_VERSION) {
            g_warning("the core speaks protocol %u, this worker %u", version,
                      PROTO_VERSION);
            stop(EXIT_VERSION);
            return;
        }
        w.greeted = TRUE;
        return;
    }
    if (t == PROTO_HELLO) {
        g_warning("a second hello: ignored");
        return;
    }
    if (t == PROTO_LOG_LEVEL) {
        guint32 level;
        g_variant_get(body, "(u)", &level);
        ui_log_set_level(level);
        return;
    }
    bot_handle(w.bot, t, body);
}

/* The worker never outlives its core's end of the socket. */
#define SETTLE_MS 3000 /* how long a core-less worker waits for the network */

static gboolean settle_poll(gpointer data)
{
    int status = GPOINTER_TO_INT(data);

    if (bot_unsettled(w.bot) && clock_now() - w.closed_at < SETTLE_MS * 1000)
        return G_SOURCE_CONTINUE;
    stop(status);
    return G_SOURCE_REMOVE;
}

/* The core is gone: what the network has been handed but not yet confirmed
 * is waited for (up to SETTLE_MS), so that its confirmation reaches the
 * delivery journal and the next core does not send it again. */
static void on_closed(channel *ch, int status, const char *why, void *data)
{
    (void)data;
    if (status == -EPROTO)
        g_warning("core link: %s", why);
    else
        g_message("core link: %s", why);
    g_message("core link closed%s", status < 0 ? " (broken)" : "");
    status = status < 0 ? EXIT_BROKEN : EXIT_OK;
    if (!w.bot || !bot_unsettled(w.bot)) {
        stop(status);
        return;
    }
    w.closed_at = clock_now();
    g_timeout_add(50, settle_poll, GINT_TO_POINTER(status));
}

static const channel_events events = {
    .message = on_message,
    .closed = on_closed,
};

/* A prpl may fork helpers of its own (libpurple's stock DNS resolver did;
 * ours is GResolver, threads only) and never wait for them: SA_NOCLDWAIT
 * lets the kernel reap every child, so none lingers as a zombie. The
 * worker itself starts no child it would wait for. */
static void reap_children(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sa.sa_flags = SA_NOCLDWAIT | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGCHLD, &sa, NULL) < 0)
        g_warning("SIGCHLD: %s", g_strerror(errno));
}

static gboolean on_signal(gpointer data)
{
    g_message("signal %d: signing off", GPOINTER_TO_INT(data));
    stop(EXIT_OK);
    return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv)
{
    int fd = -1;
    char *user_dir = NULL, *plugin_dir = NULL;
    gboolean debug = FALSE, list = FALSE;
    GOptionEntry entries[] = {
        {"fd", 0, 0, G_OPTION_ARG_INT, &fd,
         "the worker's end of the socketpair to the core", "N"},
        {"user-dir", 0, 0, G_OPTION_ARG_FILENAME, &user_dir,
         "libpurple's state (accounts, buddy list, prefs)", "DIR"},
        {"plugin-dir", 0, 0, G_OPTION_ARG_FILENAME, &plugin_dir,
         "more protocol plugins", "DIR"},
        {"debug", 0, 0, G_OPTION_ARG_NONE, &debug,
         "debug logging, libpurple's included (may show message texts)", NULL},
        {"list-protocols", 0, 0, G_OPTION_ARG_NONE, &list,
         "print the protocol plugins and their account options, and exit",
         NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    GOptionContext *ctx =
        g_option_context_new("- the libpurple worker of imgroups");
    GError *err = NULL;
    int status = EXIT_USAGE;

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        g_printerr("imgroups-purple: %s\n", err->message);
        g_error_free(err);
        goto leave;
    }
    if (list) { /* for imgroups --check-config (config_check.c) */
        ui_log_init(FALSE);
        status = catalog_print(plugin_dir) < 0 ? EXIT_BROKEN : EXIT_OK;
        /* libpurple's protocol plugins leave allocations behind once
         * unloaded (LeakSanitizer sees them in a module that is gone and
         * cannot name it, nor be told to suppress it); a process that only
         * listed them has nothing of its own left to release. */
        fflush(stdout);
        fflush(stderr);
        _exit(status);
    }
    if (fd < 0 || !user_dir) {
        g_printerr("imgroups-purple: --fd and --user-dir are required\n");
        goto leave;
    }
    /* A closed core socket must show up as EPIPE, not kill us. */
    signal(SIGPIPE, SIG_IGN);
    reap_children();
    ui_log_init(debug);
    w.loop = g_main_loop_new(NULL, FALSE);
    w.ch = channel_new(fd, &events, NULL);
    channel_send(w.ch, PROTO_HELLO, g_variant_new("(q)", PROTO_VERSION));
    if (ui_init(user_dir, plugin_dir, debug) < 0) {
        status = EXIT_BROKEN;
        channel_free(w.ch);
        g_main_loop_unref(w.loop);
        goto leave;
    }
    w.bot = bot_new(w.ch, stop);
    g_unix_signal_add(SIGTERM, on_signal, GINT_TO_POINTER(SIGTERM));
    g_unix_signal_add(SIGINT, on_signal, GINT_TO_POINTER(SIGINT));
    /* A stop during start-up (the core gone, a bad account) quit a loop
     * that was not running yet: g_main_loop_run would then wait forever,
     * deaf even to SIGTERM. */
    if (!w.stopping)
        g_main_loop_run(w.loop);
    bot_shutdown(w.bot);
    ui_quit();
    bot_free(w.bot);
    channel_flush(w.ch, 500);
    channel_free(w.ch);
    g_main_loop_unref(w.loop);
    status = w.status;
    g_message("exiting (%d)", status);
leave:
    g_option_context_free(ctx);
    g_free(user_dir);
    g_free(plugin_dir);
    return status;
}
