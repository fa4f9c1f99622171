/* bus: the shard bus (issue 14 item 2, docs/cluster.md). With [cluster]
 * shards = N > 1 each instance K also connects as its own component
 * "shard<K>.<domain>" (a second XEP-0114 link, same host, port and secret
 * as the main one), and the instances ask each other over it with plain
 * iq get/set, so the cluster itself carries the traffic. ejabberd must list
 * every shard<K>.<domain> as a host of the component listener with
 * global_routes: false (docs/cluster.md, "Traps"); no domain_balancing for
 * them: each is one connection.
 *
 * Serving: a handler per namespace of the iq's child (bus_serve). A request
 * from another shard's bus JID is dispatched to it, and its result (a
 * payload or an xerr, iq.h's convention) is sent back as the one reply;
 * from anyone else, or for a namespace nobody serves, the reply is
 * service-unavailable (RFC 6120 §8.4).
 *
 * Asking: bus_ask_all / bus_ask send an iq to other shards' bus JIDs and
 * call back once with who answered (shard index + payload) and who did not
 * in time (down): a partial answer the caller marks as such.
 *
 * Bounds: at most BUS_PENDING_MAX asks in flight (more: -EAGAIN); an
 * answer is at most the link's stanza limit ([limits] max_stanza: larger
 * ones never arrive, the shard counts as down; a served reply that would be
 * larger is replaced by resource-constraint); timeout_ms is clamped to
 * 1 .. BUS_TIMEOUT_MAX_MS, 0 meaning BUS_TIMEOUT_MS. */
#ifndef IMGROUPS_BUS_H
#define IMGROUPS_BUS_H

#include <glib.h>
#include <strophe.h>

#include "config.h"
#include "iq.h"
#include "xerr.h"

#define BUS_TIMEOUT_MS     3000
#define BUS_TIMEOUT_MAX_MS 30000
#define BUS_PENDING_MAX    64

typedef struct bus bus;

/* One shard's answer. payload and text are borrowed until the callback
 * returns (copy what you keep). */
typedef struct bus_answer {
    guint shard;            /* 0-based, never this instance's own */
    enum xerr err;          /* XERR_NONE: a result */
    xmpp_stanza_t *payload; /* the result's child element, or NULL */
    const char *text;       /* an error's <text/>, or NULL */
} bus_answer;

/* What one ask gathered, both lists in increasing shard order. n_answers +
 * n_down is the number of shards asked. A shard is down when it did not
 * answer before the timeout, when the answer was forbidden (what ejabberd
 * 23.01 says for a bus JID with no connection), service-unavailable,
 * remote-server-not-found, remote-server-timeout or recipient-unavailable
 * (no connection for its bus JID, or a shard that serves no such
 * namespace), or when this instance's bus link itself is down (then every
 * shard asked is down, at once). */
typedef struct bus_result {
    const bus_answer *answers;
    guint n_answers;
    const guint *down;
    guint n_down;
} bus_result;

/* Called exactly once per successful ask; res is borrowed for the call.
 * Synchronously, before bus_ask_all returns, when nobody is to be asked
 * (shards = 1) or the bus link is down; otherwise later, from the main
 * loop, as soon as every shard asked has answered or at the timeout. */
typedef void (*bus_done_fn)(const bus_result *res, void *userdata);

/* What the bus sends when it has no link of its own (tests): st is
 * borrowed for the call. Returns 0 or negative (counted as not sent). */
typedef int (*bus_send_fn)(xmpp_stanza_t *st, void *userdata);

/* Creates the bus for cfg (borrowed, must outlive the bus). With
 * cfg->shards > 1 it connects as shard<cfg->shard>.<cfg->jid> from the
 * default main context (reconnecting with backoff); with 1 it connects
 * nothing. ctx is the libstrophe context stanzas are built in (borrowed,
 * must outlive the bus). Caller owns *out (bus_free). Returns 0 or
 * negative. */
int bus_new(const config *cfg, xmpp_ctx_t *ctx, bus **out);

/* The same without a connection: what the bus would write goes to
 * send(st, send_data); what it would read is fed with bus_receive. The
 * bus counts as connected. For tests. */
int bus_new_link(const config *cfg, xmpp_ctx_t *ctx, bus_send_fn send,
                 void *send_data, bus **out);

/* Handles one stanza as if it came from the bus link (tests; the real link
 * calls it too). st is borrowed for the call. */
void bus_receive(bus *b, xmpp_stanza_t *st);

/* Cancels what is pending (their callbacks are not called), closes the
 * link. NULL is fine. */
void bus_free(bus *b);

/* Serve iq requests whose child is in namespace ns (copied) with fn: fn
 * gets an iq_req whose from is the asking shard's bus JID (bus_peer says
 * which shard), whose to is this instance's bus JID (no node), whose up is
 * the bus link (NULL in tests) and whose data is data (borrowed, must
 * outlive the bus). A later bus_serve for the same ns replaces the first.
 * Returns 0, or -EINVAL (ns NULL or empty). */
int bus_serve(bus *b, const char *ns, iq_fn fn, void *data);

/* Asks every other shard: an iq of type ("get" or "set") carrying a copy
 * of payload (borrowed for the call) to each one's bus JID, then done once
 * (see bus_done_fn). Returns 0; -EINVAL for a bad type or NULL payload;
 * -EAGAIN when BUS_PENDING_MAX asks are in flight; done is not called on a
 * negative return. */
int bus_ask_all(bus *b, const char *type, xmpp_stanza_t *payload,
                guint timeout_ms, bus_done_fn done, void *userdata);

/* The same for one shard (not this one: -EINVAL, as is shard >= shards). */
int bus_ask(bus *b, guint shard, const char *type, xmpp_stanza_t *payload,
            guint timeout_ms, bus_done_fn done, void *userdata);

/* Which shard a JID (full or bare) is the bus JID of: 0 .. shards-1, or
 * -1 when it is none of them. */
int bus_peer(const bus *b, const char *jid);

/* This instance's index and the number of shards (from the config). */
guint bus_shard(const bus *b);
guint bus_shards(const bus *b);

/* Whether this instance's bus link is up (always TRUE for shards = 1 and
 * for bus_new_link). */
gboolean bus_connected(const bus *b);

/* Asks in flight (tests, statistics). */
guint bus_pending(const bus *b);

#endif
