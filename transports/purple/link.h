/* link: the worker's end of the core–worker socketpair: frames in, frames out
 * through a queue written when the socket is writable, never blocking the
 * main loop. */
#ifndef IMGROUPS_LINK_H
#define IMGROUPS_LINK_H

#include <glib.h>

#include "protocol.h"

typedef struct link_conn link_conn;

/* One message from the core. body is borrowed for the call. */
typedef void (*link_message_fn)(enum proto_type t, GVariant *body, void *data);
/* The link is gone: status 0 for the core's orderly close (EOF, or EPIPE on
 * a write), -1 for a broken stream or an I/O error. Called once; the link
 * sends and receives nothing afterwards. */
typedef void (*link_closed_fn)(int status, void *data);

/* Watches fd (made non-blocking; the link owns it and closes it in
 * link_free) from the default main context. data is passed to both
 * callbacks. Returns a new link (caller link_free()s). */
link_conn *link_new(int fd, link_message_fn on_message,
                    link_closed_fn on_closed, void *data);

/* Queues one message. body is consumed if floating (else borrowed) and must
 * have t's body type. Returns 0, or -1 when the link is closed or the
 * message cannot be encoded (logged). */
int link_send(link_conn *l, enum proto_type t, GVariant *body);

/* Tries for at most timeout_ms to write what is queued (at exit, after the
 * main loop stopped). Returns 0 when all was written, else -1. */
int link_drain(link_conn *l, int timeout_ms);

void link_free(link_conn *l);

#endif
