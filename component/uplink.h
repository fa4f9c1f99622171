/* uplink: the XEP-0114 component connection to the XMPP server, on
 * libstrophe, driven from the GLib main loop: connect, handshake, reconnect
 * with backoff, and a bounded queue for what is sent while the link is down.
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
 * link is down. Output leaves on the next main-loop turn. */
void uplink_send(uplink *up, xmpp_stanza_t *st);

/* Runs fn(userdata) as a turn of its own, between the on_turn calls, like
 * the handling of received stanzas: for work that does not come from the
 * link (the legacy worker's messages, timers) but writes to the store and
 * sends stanzas. If the turn's writes fail, what fn sent is withdrawn. */
void uplink_run_turn(uplink *up, void (*fn)(void *), void *userdata);

/* The libstrophe context, for building stanzas; lives as long as up. */
xmpp_ctx_t *uplink_ctx(uplink *up);

gboolean uplink_connected(const uplink *up);

/* Stanzas waiting for the link; for tests and shutdown reports. */
guint uplink_queued(const uplink *up);

/* Closes the stream gracefully (queued output first, then
 * </stream:stream>), stops reconnecting, and calls done(userdata) once the
 * link is closed (at most a few seconds later). */
void uplink_stop(uplink *up, void (*done)(void *), void *userdata);

void uplink_free(uplink *up);

#endif
