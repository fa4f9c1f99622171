/* catalog: what protocol plugins this worker can load and the account
 * options each declares, printed for the core's --check-config. */
#ifndef IMGROUPS_CATALOG_H
#define IMGROUPS_CATALOG_H

/* Starts libpurple in a temporary user directory (removed afterwards),
 * with plugin_dir searched too (may be NULL), and prints to stdout one
 * tab-separated line per protocol and per option, protocols sorted by id:
 *   protocol ID NAME
 *   option ID SETTING TYPE [CHOICE...]
 * (TYPE: string, int, bool or choice; a choice's values follow it).
 * Returns 0, or -1 (logged) if libpurple could not start. */
int catalog_print(const char *plugin_dir);

#endif
