/* groupchat: chat mode on MSN. The bot's one group chat is a multi-party
 * switchboard (sb.c) whose participants are the chat's users: the bot
 * calls every contact who is online and allowed (on FL and AL, not BL)
 * into it, and calls anyone who comes online later; a contact's own
 * invitation (RNG) is answered as part of the chat, and its people are
 * called into the chat's switchboard, after which the bot leaves theirs.
 * The switchboard closes when everyone leaves or the server idles it; the
 * next room message or contact coming online opens a new one. The chat's
 * name (the account's `chat =`) only names the conversation.
 *
 * The prpl's chat operations (chat_info, chat_info_defaults,
 * get_chat_name, join_chat, chat_leave, chat_send) are here; msn.c lists
 * them. */
#ifndef GROUPCHAT_H
#define GROUPCHAT_H

#include "msn.h"

struct sb;

/* Longest chat name, in bytes. */
#define GROUPCHAT_NAME_MAX 64

/* ---- prpl operations ---- */
GList *groupchat_info(PurpleConnection *gc);
GHashTable *groupchat_info_defaults(PurpleConnection *gc, const char *name);
char *groupchat_get_name(GHashTable *comps);
void groupchat_join(PurpleConnection *gc, GHashTable *comps);
void groupchat_leave(PurpleConnection *gc, int id);
int groupchat_send(PurpleConnection *gc, int id, const char *message,
                   PurpleMessageFlags flags);

/* A delivery mark for the chat named who: TRUE when who is the chat (the
 * mark is taken), FALSE when it is not (an IM's). */
gboolean groupchat_mark(msn_session *s, const char *who, guint64 id);

/* who came online (libpurple's buddy-signed-on): called in if allowed. */
void groupchat_on_online(msn_session *s, const char *who);

/* Whether caller's invitation is to the group chat (one is joined and
 * caller is an allowed contact). */
gboolean groupchat_wants(msn_session *s, const char *caller);

/* ---- from sb.c, for chat switchboards ---- */
/* sb is open for messages: the chat's if it has none, else its people are
 * called into the chat's. FALSE when there is no chat any more: the caller
 * leaves sb. */
gboolean groupchat_on_ready(msn_session *s, struct sb *sb);
/* A new chat switchboard for what a closed one held: it calls everyone. */
void groupchat_adopt(msn_session *s, struct sb *sb);
/* who came in (initial: was there before us) or left. */
void groupchat_on_join(msn_session *s, struct sb *sb, const char *who,
                       gboolean initial);
void groupchat_on_leave(msn_session *s, struct sb *sb, const char *who);
/* sb is closing: everyone in it leaves. */
void groupchat_on_closed(msn_session *s, struct sb *sb);
/* who said html (escaped text) in the chat; is typing or stopped; nudged. */
void groupchat_said(msn_session *s, const char *who, const char *html);
void groupchat_typing(msn_session *s, const char *who, gboolean typing);
void groupchat_nudged(msn_session *s, const char *who);

/* Forgets the chat without a word (the session closes; its switchboards
 * are freed by sb_free_all()). */
void groupchat_free(msn_session *s);

#endif
