/* sdnotify: what imgroups tells systemd (sd_notify(3)) when it runs as a
 * Type=notify service: READY=1 once the store is open and the main loop
 * runs, STATUS= with the link's state, STOPPING=1 on a stop signal, and
 * WATCHDOG=1 from a GLib timeout at half the interval systemd asks for
 * (WatchdogSec=). Built without libsystemd, or run without NOTIFY_SOCKET
 * (a terminal, the tests), every call does nothing and returns 0. */
#ifndef IMGROUPS_SDNOTIFY_H
#define IMGROUPS_SDNOTIFY_H

#include <glib.h>

/* READY=1 with STATUS=, printf-style: one line (newlines become spaces) of
 * at most 1 KiB. Returns 0 (also when nobody listens), or a negative
 * errno. */
int sdnotify_ready(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* STATUS= alone, as above. Returns as above. */
int sdnotify_status(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* STOPPING=1 and STATUS=stopping. Returns as above. */
int sdnotify_stopping(void);

/* When systemd watches this process (WATCHDOG_USEC set, and WATCHDOG_PID
 * unset or ours), sends WATCHDOG=1 now and then every half interval from
 * the default GLib main context, so a stuck loop stops the pings. *out is
 * the timeout's source id (g_source_remove to stop), 0 when there is no
 * watchdog. Returns 0 or a negative errno (a bad WATCHDOG_USEC). */
int sdnotify_watchdog_start(guint *out);

#endif
