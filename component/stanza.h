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

/* The first <value/> of the data-form field var in form (may be NULL), or
 * NULL; free with xmpp_free. */
char *stanza_form_value(xmpp_stanza_t *form, const char *var);

#endif
