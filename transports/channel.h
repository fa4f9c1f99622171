/* channel: one end of the core–worker socketpair, the same at both ends:
 * the socket, frames read and split (transports/protocol.h, bounded by
 * PROTO_FRAME_MAX), a write queue written when the socket is writable with
 * back-pressure, and one report when it closes. GLib only: no XMPP, no
 * libpurple, no logging (the owner logs what it is told). */
#ifndef IMGROUPS_CHANNEL_H
#define IMGROUPS_CHANNEL_H

#include <glib.h>

#include "protocol.h"

/* The most bytes the write queue holds; channel_send refuses more. */
#define CHANNEL_QUEUE_MAX (64 * 1024 * 1024)

typedef struct channel channel;

typedef struct channel_events {
    /* One message. body is borrowed for the call. May call channel_close()
     * (no further message is delivered), never channel_free(). */
    void (*message)(channel *ch, enum proto_type t, GVariant *body, void *data);
    /* Optional: runs fn(arg) once per read, around all the messages that
     * read brought (the core's store turn). NULL: fn(arg) is called. */
    void (*turn)(void (*fn)(void *arg), void *arg, void *data);
    /* The channel closed by itself: status 0 when the peer closed it (EOF,
     * hang-up, EPIPE or ECONNRESET), -EPROTO for a broken stream (a frame
     * over PROTO_FRAME_MAX, malformed, of an unknown type or body), -EIO
     * for another I/O error; why says what happened (borrowed for the
     * call). Called once, after the messages before the close; the channel
     * then sends and receives nothing (its fd is closed). Not called after
     * channel_close(). Never channel_free() from here. */
    void (*closed)(channel *ch, int status, const char *why, void *data);
    /* Optional: the write queue was full enough to wait for the socket
     * and is now empty. */
    void (*drained)(channel *ch, void *data);
} channel_events;

/* Watches fd from the default main context; fd is made non-blocking and
 * owned by the channel (closed when it closes). events are copied; data is
 * passed to every callback. Returns a new channel (caller channel_free()s). */
channel *channel_new(int fd, const channel_events *events, void *data);

/* Queues one message and writes what the socket takes now. body is
 * consumed if floating (else borrowed) and must have t's body type.
 * Returns 0; -EPIPE when the channel is closed; -EINVAL when the message
 * cannot be encoded (wrong body type, over PROTO_FRAME_MAX); -ENOBUFS when
 * the queue holds CHANNEL_QUEUE_MAX bytes already (the peer does not
 * read). Nothing is queued on failure. A write error closes the channel
 * (closed is called from a later turn, not from inside this call). */
int channel_send(channel *ch, enum proto_type t, GVariant *body);

/* Bytes queued and not yet written: what a sender paces itself by. */
gsize channel_queued(const channel *ch);

/* FALSE once closed (by either side). */
gboolean channel_is_open(const channel *ch);

/* Blocks for at most timeout_ms writing what is queued (at exit, after the
 * main loop stopped). Returns 0 when everything was written, else
 * -ETIMEDOUT, or -EPIPE when the channel is closed. */
int channel_flush(channel *ch, int timeout_ms);

/* Closes the channel from this side: fd closed, queue dropped, no closed
 * callback. Safe from the message callback. */
void channel_close(channel *ch);

/* Closes if open, and frees. NULL is fine. */
void channel_free(channel *ch);

#endif
