/* reload: what SIGHUP changes. The difference between the running
 * configuration and a freshly read one, key by key, from one table that
 * says of every fixed key whether it changes live or needs a restart (the
 * link's own settings: component JID, server, secret; the store). Secrets
 * are never shown, only that they changed. [account:NAME] sections are the
 * registry's (registry_reload), not diffed here. */
#ifndef IMGROUPS_RELOAD_H
#define IMGROUPS_RELOAD_H

#include <glib.h>

#include "config.h"

/* One changed key. */
typedef struct reload_change {
    const char *section;    /* static: "limits" */
    const char *key;        /* static: "rate" */
    char *was;              /* owned: the old value as text, "(hidden)" */
    char *now;              /* owned: the new one */
    gboolean needs_restart; /* left as is until imgroups restarts */
} reload_change;

void reload_change_free(reload_change *c);

/* Appends a reload_change* (owned by changes: create it with
 * g_ptr_array_new_with_free_func(reload_change_free)) for every fixed key
 * whose value differs between cur and fresh, in the table's order. Both
 * borrowed. Returns how many were appended. */
guint reload_diff(const config *cur, const config *fresh, GPtrArray *changes);

/* Moves every live key's value from fresh into cur (cur's old values go to
 * fresh, freed with it); keys that need a restart keep cur's value. The
 * log thresholds are not touched: config_apply_log(cur) does that. */
void reload_apply(config *cur, config *fresh);

/* SIGHUP with a file that was read without problems: logs every changed
 * key (info; warning for those left as is until a restart, or a line
 * saying nothing changed), applies the live ones to cur (reload_apply),
 * then the log thresholds (config_apply_log: the workers are told). The
 * lines are written if either the old or the new [log] lets them through.
 * Returns how many keys changed. */
guint reload_run(config *cur, config *fresh);

/* "[limits] rate: 2 -> 5" or "... (needs a restart; left as is)". Owned. */
char *reload_change_text(const reload_change *c);

#endif
