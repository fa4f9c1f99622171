/* uplink: the XEP-0114 component connection to the XMPP server, driven
 * from the GLib main loop: connect, handshake, reconnect with backoff, a
 * bounded queue for what is sent while the link is down, and bounds on
 * both directions. The socket is the link's own (GIO); what the server sends
 * is parsed by stream.c into bounded libstrophe stanzas; what the component
 * sends is serialised with libstrophe and never exceeds stanza_limit.
 *
 * Back-pressure: while more than send_buffer bytes wait for the server,
 * the link stops parsing (after the stanza at hand) and reading; it goes on
 * once half of that is written. So a server that stops reading costs
 * imgroups at most send_buffer bytes plus one stanza's fan-out.
 *
 * What survives a disconnect: every stanza handed to uplink_send() while the
 * link is down, or handed to libstrophe but not yet written when the link
 * dropped, is kept in memory (at most queue_max stanzas, oldest dropped
 * first with a warning) and sent, in order, right after the next handshake.
 * A stanza already written to the socket when the server died may be lost
 * with the server: XEP-0114 has no acknowledgements. What must not be lost
 * (room messages, legacy deliveries) is durable in the store, not here. */
#ifndef IMGROUPS_UPLINK_H
#define IMGROUPS_UPLINK_H

#include <glib.h>
#include <strophe.h>

#include "stream.h"

typedef struct uplink uplink;

/* Called around each turn of stanza handling: begin = TRUE before the
 * received stanzas are handled, FALSE after. Returning FALSE at the end
 * withdraws every stanza the turn produced (they never leave): the batch
 * they depend on could not be made durable. */
typedef gboolean (*uplink_turn_fn)(gboolean begin, void *userdata);

typedef struct uplink_params {
    const char *jid;  /* the component's domain */
    const char *host; /* where the server's component port is */
    guint16 port;
    const char *secret;     /* never logged */
    guint queue_max;        /* stanzas held while down (0: none held) */
    uplink_turn_fn on_turn; /* may be NULL */
    void *turn_data;        /* on_turn's userdata */
    guint stanza_limit;     /* bytes; 0: 262144. Larger ones are refused */
    guint send_buffer;      /* bytes; 0: 4 MiB. Past it, reading pauses */
    stream_limits limits;   /* what one received stanza may hold; zeros:
                             * the [limits] defaults */
} uplink_params;

/* Called for every stanza received; st is borrowed for the call only. */
typedef void (*uplink_stanza_fn)(uplink *up, xmpp_stanza_t *st, void *userdata);
/* Called when the link comes up (connected = TRUE) or goes down. */
typedef void (*uplink_state_fn)(uplink *up, gboolean connected, void *userdata);

/* Creates the link (copies params) and starts connecting from the default
 * GLib main context. The caller owns *out (uplink_free). */
int uplink_new(const uplink_params *params, uplink_stanza_fn on_stanza,
               uplink_state_fn on_state, void *userdata, uplink **out);

/* Sends st (borrowed: the caller still releases it), or queues it while the
 * link is down. Output leaves on the next main-loop turn. Returns 0, or
 * -EMSGSIZE when st serialises to more than stanza_limit bytes: it is not
 * sent (the server would close the link for it) and that is logged once per
 * element name; -EIO if it cannot be serialised. */
int uplink_send(uplink *up, xmpp_stanza_t *st);

/* Serialise once, send to many: the text of st is made once, and each
 * uplink_fanout_send() queues it with only the 'to' attribute changed (the
 * text is shared, not copied, by every queued copy). */
typedef struct uplink_fanout uplink_fanout;

/* st is borrowed for the call; NULL if it cannot be serialised. */
uplink_fanout *uplink_fanout_new(uplink *up, xmpp_stanza_t *st);
/* The same from text already serialised (copied): len bytes, a stanza
 * whose 'to' value (double-quoted, empty) belongs at offset at; name is
 * its element, for the log. Never NULL. */
uplink_fanout *uplink_fanout_text(uplink *up, const char *name,
                                  const char *text, gsize len, gsize at);
/* Same returns as uplink_send. */
int uplink_fanout_send(uplink_fanout *f, const char *to);
void uplink_fanout_free(uplink_fanout *f);

/* Bytes waiting to be written to the server (for back-pressure of work
 * that does not come from the link, and for tests). */
gsize uplink_backlog(const uplink *up);

/* Runs fn(userdata) as a turn of its own, between the on_turn calls, like
 * the handling of received stanzas: for work that does not come from the
 * link (the legacy worker's messages, timers) but writes to the store and
 * sends stanzas. If the turn's writes fail, what fn sent is withdrawn. */
void uplink_run_turn(uplink *up, void (*fn)(void *), void *userdata);

/* The libstrophe context, for building stanzas; lives as long as up. The
 * link itself makes no libstrophe connection. */
xmpp_ctx_t *uplink_ctx(uplink *up);

gboolean uplink_connected(const uplink *up);

/* Stanzas waiting for the link; for tests and shutdown reports. */
guint uplink_queued(const uplink *up);

/* Closes the stream gracefully (queued output first, then
 * </stream:stream>), stops reconnecting, and calls done(userdata) once the
 * link is closed (at most a few seconds later). */
void uplink_stop(uplink *up, void (*done)(void *), void *userdata);

/* Closes the stream of a link that is up (what is queued first, then
 * </stream:stream>) and reconnects delay_ms after it is closed (the
 * caller's schedule, instead of the link's backoff); why (a constant
 * string) is what the log says. Otherwise nothing. For the slot probe
 * (cluster/probe.c): a connection on the wrong slot lets go. */
void uplink_reconnect(uplink *up, const char *why, guint delay_ms);

void uplink_free(uplink *up);

#endif
