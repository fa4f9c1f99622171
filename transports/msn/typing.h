/* typing: typing notifications received, as libpurple's typing states:
 * TypingUser starts one, which holds TYPING_SECONDS unless repeated (MSN
 * clients repeat it every 5 s while typing) and ends at once when the
 * person's message arrives. In an IM: serv_got_typing() then
 * serv_got_typing_stopped(); in the group chat: the participant's
 * PURPLE_CBFLAGS_TYPING flag. */
#ifndef TYPING_H
#define TYPING_H

#include "msn.h"

/* How long a typing notification holds, in seconds. */
#define TYPING_SECONDS 6

/* who is typing (in the group chat when chat, else to us). */
void typing_got(msn_session *s, const char *who, gboolean chat);

/* who's message came: they stopped typing. */
void typing_done(msn_session *s, const char *who, gboolean chat);

/* Drops every timer, telling nothing (the session closes). */
void typing_free_all(msn_session *s);

#endif
