/* payload: the parts of an occupant's groupchat message: what the room
 * relays and archives, what it relays only (chat states, hints), and what
 * only the room may say (dropped). */
#ifndef IMGROUPS_PAYLOAD_H
#define IMGROUPS_PAYLOAD_H

#include <glib.h>
#include <strophe.h>

#define NS_CHATSTATES "http://jabber.org/protocol/chatstates"
#define NS_HINTS      "urn:xmpp:hints"
#define NS_CORRECT    "urn:xmpp:message-correct:0"

/* One groupchat message taken apart. Strings are borrowed from the stanza
 * (valid while it lives); kept and live are owned (payload_clear). */
typedef struct payload {
    const char *origin_id;  /* the first XEP-0359 <origin-id/>'s id */
    const char *replace_id; /* XEP-0308 <replace id/>: a correction of it */
    /* The children the room relays and archives, as XML text in the order
     * sent: everything but the first <body/>, the first <subject/>, the
     * first <origin-id/>, chat states, hints and what only the room may
     * say (stanza_forged). Empty when there is nothing. */
    GString *kept;
    /* Relayed to the occupants but never archived: XEP-0085 chat states
     * and XEP-0334 processing hints. */
    GString *live;
    /* XEP-0334 <no-store/> or <no-permanent-store/>: relayed, not
     * archived. */
    gboolean no_store;
} payload;

/* Takes apart the children of st (a groupchat message from a client of
 * the service at domain) into *out, which the caller clears with
 * payload_clear. Linear in the size of st. */
void payload_split(xmpp_stanza_t *st, const char *domain, payload *out);

/* Frees what payload_split allocated in p (not p). */
void payload_clear(payload *p);

/* Appends element el and everything inside it to b as XML text, escaped
 * by xmltext; xmlns is written where it differs from parent_ns (the
 * namespace el's parent is in, NULL: none), so a child written inside a
 * jabber:client <message/> inherits it. Attributes are written in
 * libstrophe's order. */
void payload_write(GString *b, xmpp_stanza_t *el, const char *parent_ns);

#endif
