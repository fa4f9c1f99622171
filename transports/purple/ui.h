/* ui: libpurple run headless on the GLib main loop — event loop, core,
 * debug, request, notify, DNS, idle and blist UI ops; prompts answered by a
 * fixed policy, never blocking; and the worker's log output. */
#ifndef IMGROUPS_UI_H
#define IMGROUPS_UI_H

#include <glib.h>

/* The UI id accounts are enabled for. */
#define UI_ID "imgroups"

/* Installs the stderr log writer: one line per event, "imgroups-purple:
 * [account: ]LEVEL domain: message"; debug lines only when debug is set. */
void ui_log_init(gboolean debug);

/* Names the account in every later log line. name is copied; NULL clears. */
void ui_log_set_account(const char *name);

/* Initialises libpurple with its state in user_dir (prefs, accounts, blist;
 * created if missing), protocol plugins also searched in plugin_dir (may be
 * NULL). libpurple's own debug output goes to the "purple" log domain only
 * when debug is set. Returns 0, or -1 (logged). */
int ui_init(const char *user_dir, const char *plugin_dir, gboolean debug);

/* Signs every account off, saves libpurple's state and shuts it down. */
void ui_quit(void);

#endif
