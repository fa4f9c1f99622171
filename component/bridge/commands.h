/* commands: the legacy members' /commands, one static table (/help /who
 * /nick /mute /unmute /history /leave /forgetme), parsed and run here. */
#ifndef IMGROUPS_COMMANDS_H
#define IMGROUPS_COMMANDS_H

#include "bridge_int.h"

/* /history without a number. Not muc's history length on join (20): over
 * IM every line is a separate message on the member's phone, so the
 * default asked for is shorter. */
#define COMMANDS_HISTORY_DEFAULT 10
#define COMMANDS_HISTORY_MAX     50

/* The index of the command body ("/name arg...") names, case-insensitive,
 * with *arg its argument stripped (g_free); -1 (and *arg NULL) when it
 * names none. */
int commands_find(const char *body, char **arg);
/* The name of command i, or NULL past the table. */
const char *commands_name(int i);
/* How many lines /history arg asks for: the default when empty, clamped
 * to 1..COMMANDS_HISTORY_MAX. */
int commands_history_count(const char *arg);

/* body starts with '/': runs the command it names and returns TRUE, or
 * FALSE when it names none. */
gboolean commands_run(bridge *b, bacct *a, member_rec *m, const char *body);

#endif
