/* sdnotify: readiness, status, stopping and watchdog pings to systemd. */
#include "sdnotify.h"

#include <stdarg.h>

#ifdef IMGROUPS_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

/* What one STATUS= may say: a line of the link's state, never a stanza. */
enum { STATUS_MAX = 1024 };

/* One notification; 0 when sent or when nobody listens (sd_notify returns
 * 0 without NOTIFY_SOCKET), else sd_notify's negative errno. */
static int notify(const char *state)
{
#ifdef IMGROUPS_SYSTEMD
    /* unset_environment = 0: STATUS, STOPPING and the watchdog come later
     * through the same socket. The workers inherit NOTIFY_SOCKET, but
     * systemd hears only the main process (NotifyAccess=main). */
    int rc = sd_notify(0, state);

    return rc < 0 ? rc : 0;
#else
    (void)state;
    return 0;
#endif
}

/* prefix, then "STATUS=" and text as one line of valid UTF-8 of at most
 * STATUS_MAX bytes (a newline in it would start another assignment).
 * The caller frees. */
static char *status_state(const char *prefix, const char *text)
{
    char *cut = g_strndup(text, STATUS_MAX);
    char *line = g_utf8_make_valid(cut, -1);
    char *state;

    g_strdelimit(line, "\r\n", ' ');
    state = g_strconcat(prefix, "STATUS=", line, NULL);
    g_free(line);
    g_free(cut);
    return state;
}

static int notify_status(const char *prefix, const char *fmt, va_list ap)
{
    char *text = g_strdup_vprintf(fmt, ap);
    char *state = status_state(prefix, text);
    int rc = notify(state);

    g_free(state);
    g_free(text);
    return rc;
}

int sdnotify_ready(const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = notify_status("READY=1\n", fmt, ap);
    va_end(ap);
    return rc;
}

int sdnotify_status(const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = notify_status("", fmt, ap);
    va_end(ap);
    return rc;
}

int sdnotify_stopping(void)
{
    return notify("STOPPING=1\nSTATUS=stopping");
}

#ifdef IMGROUPS_SYSTEMD
static gboolean on_watchdog(gpointer userdata)
{
    (void)userdata;
    notify("WATCHDOG=1");
    return G_SOURCE_CONTINUE;
}
#endif

int sdnotify_watchdog_start(guint *out)
{
    *out = 0;
#ifdef IMGROUPS_SYSTEMD
    uint64_t usec = 0;
    /* > 0: WATCHDOG_USEC is set and WATCHDOG_PID is unset or ours. */
    int rc = sd_watchdog_enabled(0, &usec);
    guint64 ms;

    if (rc <= 0)
        return rc;
    /* sd_watchdog_enabled(3): "It is recommended that a daemon sends a
     * keep-alive notification message to the service manager every half
     * of the time returned here." */
    ms = MAX(usec / 2000, 1);
    notify("WATCHDOG=1");
    *out = g_timeout_add((guint)MIN(ms, G_MAXUINT), on_watchdog, NULL);
#endif
    return 0;
}
