/* conn: one MSNP connection, to a notification server or a switchboard:
 * connecting, the write queue, reading and parsing, and the owner's
 * callbacks. */
#ifndef CONN_H
#define CONN_H

#include <purple.h>

#include "msnp.h"

typedef struct conn conn;

/* A command from the server; cmd is borrowed for the call. The callback may
 * free the connection (conn_free()): the rest of what was read is then
 * dropped. */
typedef void (*conn_cmd_fn)(conn *c, const msnp_cmd *cmd, void *owner);

/* The connection is up (why NULL), or it failed or closed (why says how,
 * for people): after a failure the owner frees it. */
typedef void (*conn_event_fn)(conn *c, const char *why, void *owner);

/* Starts connecting to host:port through the account's proxy settings.
 * Returns NULL (and calls nothing) when the connection cannot even be
 * started. The caller owns the result; conn_free() it. */
conn *conn_new(PurpleAccount *acct, const char *host, int port,
               conn_cmd_fn on_cmd, conn_event_fn on_event, void *owner);

/* Closes the socket and frees c (deferred when called from c's own
 * callback). */
void conn_free(conn *c);

/* Sends "CMD trid args\r\n" with the next transaction id, and returns that
 * id. args may be NULL. */
guint conn_send(conn *c, const char *cmd, const char *args);

/* Sends "CMD trid args len\r\n" then len bytes of payload; returns the
 * transaction id. */
guint conn_send_payload(conn *c, const char *cmd, const char *args,
                        const char *payload, gsize len);

/* Sends bytes as they are (PNG has no transaction id). */
void conn_send_raw(conn *c, const char *data, gsize len);

/* Whether the socket is connected (not still connecting, not failed). */
gboolean conn_is_up(const conn *c);

#endif
