/* ui: libpurple run headless on the GLib main loop — event loop, core,
 * debug, request, notify, DNS, idle and blist UI ops; prompts answered by a
 * fixed policy, never blocking; and the worker's log output. */
#ifndef IMGROUPS_UI_H
#define IMGROUPS_UI_H

#include <glib.h>

/* The UI id accounts are enabled for. */
#define UI_ID "imgroups"

/* Installs the log writer: one line per event on stderr, "imgroups-purple:
 * [account: ]LEVEL domain: message", or records with the core's fields in
 * the journal when stderr is its stream; info and above, debug too when
 * debug is set, until ui_log_set_level. */
void ui_log_init(gboolean debug);

/* What the worker writes from now on: 0 error, 1 warning, 2 info, 3 debug
 * (libpurple's debug output included); larger is debug. */
void ui_log_set_level(guint level);

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
