/* contacts: contacts mode: legacy members one to one with the bot (IMs,
 * presence, buddy requests, moderators' removals and private messages). */
#ifndef IMGROUPS_CONTACTS_H
#define IMGROUPS_CONTACTS_H

#include "bridge_int.h"

void contacts_on_im(bridge *b, bacct *a, GVariant *body);
void contacts_on_presence(bridge *b, bacct *a, GVariant *body);
void contacts_on_auth_request(bridge *b, bacct *a, GVariant *body);
/* Member m (borrowed) is shown in the room as the record says (nick,
 * picture) when online on their network. */
void contacts_enter(bridge *b, bacct *a, member_rec *m);
/* m leaves the room (status: shown text or NULL). */
void contacts_exit(bridge *b, bacct *a, const char *handle,
                   const char *status);
/* Every occupant that a brought in leaves (the bot went away). */
void contacts_exit_all(bridge *b, bacct *a, const char *why);
/* Asks the worker for every member's presence again. */
void contacts_buddies(bridge *b, bacct *a);
/* The registry's member-add (an admin adds handle to group). */
int contacts_add(bridge *b, const char *group, const char *account,
                 const char *handle, char **why);
/* muc hooks: a legacy occupant removed by a moderator, a private message
 * to one. */
void contacts_removed(const char *group, const char *bare, int code,
                      const char *reason, void *userdata);
enum xerr contacts_private(const char *group, const char *bare,
                           const char *from_nick, const char *body,
                           void *userdata);

#endif
