/* voice: XEP-0045 §7.13 voice requests: the moderators' form and the
 * approval that gives a visitor voice. */
#include "voice.h"

#include <string.h>

#include "clock.h"
#include "form.h"
#include "log.h"
#include "muc_int.h"
#include "presence.h"
#include "stanza.h"

gboolean voice_is_request(xmpp_stanza_t *st)
{
    xmpp_stanza_t *x = form_of(st);

    return x && g_strcmp0(xmpp_stanza_get_type(x), "submit") == 0 &&
           form_is(x, NS_MUC_REQUEST);
}

/* §7.13: "the service MUST then send a message to the room moderator(s)
 * containing a data form" with the requester's JID and nick, the role
 * asked for and whether to allow it. One text for every moderator. */
static void ask_moderators(uplink *up, room *r, occ *o, const char *full)
{
    xmpp_ctx_t *ctx = uplink_ctx(up);
    xmpp_stanza_t *msg = xmpp_message_new(ctx, "normal", NULL, NULL);
    xmpp_stanza_t *x =
        form_new(ctx, "form", "Voice request", "Grant this visitor voice?");
    xmpp_stanza_t *f;
    uplink_fanout *out;
    GHashTableIter it;
    gpointer value;

    xmpp_stanza_set_from(msg, r->jid);
    form_add_type(ctx, x, NS_MUC_REQUEST);
    f = form_field(ctx, x, "muc#role", "list-single", "Requested role",
                   "participant", FALSE);
    form_add_option(ctx, f, NULL, "participant");
    form_field(ctx, x, "muc#jid", "jid-single", "User ID", full, FALSE);
    form_field(ctx, x, "muc#roomnick", "text-single", "Room nickname", o->nick,
               FALSE);
    form_field(ctx, x, "muc#request_allow", "boolean",
               "Grant voice to this person?", "false", FALSE);
    stanza_add(msg, x);
    out = muc_fanout_of(up, msg);
    g_hash_table_iter_init(&it, r->by_nick);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        const occ *to = value;
        if (to->role == ROLE_MODERATOR)
            muc_fanout_to(out, to);
    }
    uplink_fanout_free(out);
}

/* The occupant a moderator's answer names: by the real JID the request
 * carried, else by nick. */
static occ *named(room *r, xmpp_stanza_t *x)
{
    char *jid = form_text(x, "muc#jid", FALSE);
    char *nick = jid ? NULL : form_text(x, "muc#roomnick", FALSE);
    occ *o = jid    ? room_occ_by_full(r, jid)
             : nick ? room_occ_by_nick(r, nick)
                    : NULL;

    g_free(jid);
    g_free(nick);
    return o;
}

void voice_request(muc *m, uplink *up, room *r, occ *o, xmpp_stanza_t *st)
{
    static const int self[] = {110, 0}, none[] = {0};
    xmpp_stanza_t *x = form_of(st);
    gint64 now = clock_now();
    occ *v;

    if (o->role == ROLE_MODERATOR) {
        /* §7.13: "If the moderator approves the voice request, the service
         * shall grant voice to the occupant and send a presence update as
         * described in the Granting Voice to a Visitor use case" (§8.3:
         * the new role to every occupant). */
        if (!form_bool(x, "muc#request_allow") || !(v = named(r, x)) ||
            v->role != ROLE_VISITOR)
            return;
        v->role = ROLE_PARTICIPANT;
        muc_broadcast_presence(up, r, v, NULL, NULL, self, none);
        log_debug(LOG_ROUTER, "room %s: a moderator granted voice", r->name);
        return;
    }
    /* Only a visitor has something to ask; once a minute at most. */
    if (o->role != ROLE_VISITOR ||
        (o->voice_asked && now - o->voice_asked < VOICE_REQUEST_INTERVAL_US))
        return;
    o->voice_asked = now;
    ask_moderators(up, r, o, xmpp_stanza_get_from(st));
}
