/* chat: chat mode: the bot in one legacy chat whose participants are
 * occupants; lines and topic both ways. */
#ifndef IMGROUPS_CHAT_H
#define IMGROUPS_CHAT_H

#include "bridge_int.h"

void chat_join(bridge *b, bacct *a);
void chat_on_joined(bridge *b, bacct *a, GVariant *body);
void chat_on_left(bridge *b, bacct *a, GVariant *body);
void chat_on_user_joined(bridge *b, bacct *a, GVariant *body);
void chat_on_user_left(bridge *b, bacct *a, GVariant *body);
void chat_on_user_renamed(bridge *b, bacct *a, GVariant *body);
void chat_on_received(bridge *b, bacct *a, GVariant *body);
void chat_on_topic(bridge *b, bacct *a, GVariant *body);
/* muc hook: an occupant changed the subject. */
void chat_subject(const char *group, const char *nick, const char *subject,
                  void *userdata);

#endif
