/* stanza: small builders over libstrophe's stanza API, shared by every
 * handler that answers or fans out. */
#ifndef IMGROUPS_STANZA_H
#define IMGROUPS_STANZA_H

#include <strophe.h>

#include "uplink.h"

/* A new element <name xmlns=ns/> (ns may be NULL); caller owns it. */
xmpp_stanza_t *stanza_elem(xmpp_ctx_t *ctx, const char *name, const char *ns);

/* Appends child to parent and drops the caller's reference to child. */
void stanza_add(xmpp_stanza_t *parent, xmpp_stanza_t *child);

/* Appends <name>text</name>. */
void stanza_add_text(xmpp_ctx_t *ctx, xmpp_stanza_t *parent, const char *name,
                     const char *text);

/* Sends st on the link and releases it (the caller's reference). */
void stanza_send(uplink *up, xmpp_stanza_t *st);

/* Is c the element <name xmlns=ns>? */
int stanza_is(xmpp_stanza_t *c, const char *name, const char *ns);

/* The text of st's first <name/> child, or NULL; free with xmpp_free. */
char *stanza_child_text(xmpp_stanza_t *st, const char *name);

/* Whether child c of a client's stanza is something only the room may say
 * and must not be relayed (XEP-0359 §3, XEP-0421 §4, XEP-0203, XEP-0045
 * §7.5): a <stanza-id/> whose 'by' is at domain (a room of this service),
 * a <delay/>, an <occupant-id/>, a muc#user <x/> (items, statuses, real
 * JIDs). Every path that relays a client's children asks this. */
int stanza_forged(xmpp_stanza_t *c, const char *domain);

/* Copies to dst every element child of src that stanza_forged() lets
 * through. */
void stanza_copy_relayable(xmpp_stanza_t *dst, xmpp_stanza_t *src,
                           const char *domain);

/* Bytes s takes once escaped (xmltext_escaped_len; NULL is 0). */
gsize stanza_escaped_len(const char *s);

/* The text of el's <reason/> cut to BOUND_REASON_BYTES at a character
 * boundary (bounds.h: a reason is cut, not refused), or NULL if it has
 * none; g_free. */
char *stanza_reason(xmpp_ctx_t *ctx, xmpp_stanza_t *el);

/* s cut to at most max bytes at a character boundary (s must be UTF-8);
 * newly allocated (g_free). */
char *stanza_utf8_cut(const char *s, gsize max);

#endif
