/* render: what a legacy member reads for a room's archive record, in words:
 * a line, an action, a correction, a reaction, a reply, a file, and the
 * notice of a deleted message. The one place a record becomes text. */
#ifndef IMGROUPS_RENDER_H
#define IMGROUPS_RENDER_H

#include "archive.h"

/* Bounds on what a line adds to its nick and body (both bounded where they
 * entered): the words quoted from the message answered or reacted to, in
 * characters; reactions shown and the bytes of each (a longer one is left
 * out, never cut); the bytes of a file's URL (a longer one is left out);
 * how deep the payload is read. */
#define RENDER_QUOTE_CHARS    40
#define RENDER_REACTIONS_MAX  8
#define RENDER_REACTION_BYTES 64
#define RENDER_URL_BYTES      2048
#define RENDER_DEPTH_MAX      16

/* Whether m may become a line at all, without reading its payload: it has
 * a body or a payload, and is neither a tombstone (withdrawn: it is never
 * delivered) nor a retraction (its notice is queued by the bridge when the
 * message is withdrawn, delivery_retracted). */
gboolean render_wants(const archive_msg *m);

/* The line for m (borrowed), *out owned by the caller (g_free), or NULL
 * when m says nothing a legacy member can read (render_wants is FALSE, an
 * emptied reaction, a payload with nothing known). A reaction or a reply
 * quotes the first words of the message it names, looked up by stanza-id
 * in group's archive through txn (any transaction; txn NULL: nothing is
 * looked up, nothing quoted); one that is gone or withdrawn is not quoted.
 * Never shows a JID: the reply's 'to' is not read, the nick the archive
 * kept is shown. Returns 0, or an LMDB error code of the lookup (then *out
 * is NULL). */
int render_msg(MDB_txn *txn, const store *st, const char *group,
               const archive_msg *m, char **out);

/* "<nick> body", "* nick action" for "/me action", or the bare body of a
 * notice (nick ""), g_free. */
char *render_line(const char *nick, const char *body);

/* The notice of a withdrawn message said by nick (g_free): "* nick deleted
 * a message", or when a moderator withdrew it (XEP-0425; by: the
 * moderator's nick, NULL or nick itself: its sender) "* by deleted a
 * message by nick". */
char *render_deleted(const char *nick, const char *by);

#endif
