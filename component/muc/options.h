/* options: the XEP-0045 room options, one small entry each in one ordered
 * table: its muc#roomconfig form field, its disco features and its join
 * veto. Room code never names an option. */
#ifndef IMGROUPS_OPTIONS_H
#define IMGROUPS_OPTIONS_H

#include <glib.h>
#include <strophe.h>

#include "affiliations.h"
#include "groups.h"
#include "xerr.h"

/* What a join veto may look at; all borrowed. */
typedef struct options_join {
    const group_cfg *g;
    enum affiliation aff;
    const char *password; /* offered in the join, NULL if none */
    guint occupants;      /* in the room now */
} options_join;

/* The features of the room's configuration (static strings), appended to
 * out. */
void options_features(const group_cfg *g, GPtrArray *out);

/* The muc#roomconfig form (type 'form') with the current values; caller
 * owns it. */
xmpp_stanza_t *options_form(xmpp_ctx_t *ctx, const group_cfg *g);

/* Applies a submitted form to g (a copy the caller then stores). Fields
 * left out keep their value. Returns XERR_NONE, or XERR_BAD_REQUEST /
 * XERR_NOT_ACCEPTABLE with *why (static text) naming the field. */
enum xerr options_submit(group_cfg *g, xmpp_stanza_t *form, const char **why);

/* The first option that refuses this join, as an error and a text; or
 * XERR_NONE. */
enum xerr options_join_veto(const options_join *j, const char **why);

#endif
