/* irc_reply: what pingpong.c needs from one line an IRC server sent: the
 * PONG to one of the worker's PINGs, or a refusal of a line (401 no such
 * nick, 403 no such channel, 404 cannot send to channel, RFC 2812 5.2)
 * naming its target. GLib only, no libpurple. */
#ifndef IMGROUPS_IRC_REPLY_H
#define IMGROUPS_IRC_REPLY_H

#include <glib.h>

typedef enum irc_reply_kind {
    IRC_REPLY_OTHER,   /* nothing the worker waits for */
    IRC_REPLY_PONG,    /* id: the number after token */
    IRC_REPLY_REFUSED, /* target, why (may be NULL) */
} irc_reply_kind;

typedef struct irc_reply {
    guint64 id;
    char *target;
    char *why;
} irc_reply;

/* Reads line (":prefix COMMAND params... :trailing", without CRLF). A PONG
 * counts when its text starts with token. Returns the kind, with out
 * filled (strings new: irc_reply_clear() frees them); out is zeroed for
 * IRC_REPLY_OTHER. */
irc_reply_kind irc_reply_parse(const char *line, const char *token,
                               irc_reply *out);

void irc_reply_clear(irc_reply *r);

#endif
