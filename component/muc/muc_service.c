/* muc_service: what the service admins' commands ask of the engine —
 * occupant counts without loading a room, a group made on command, and an
 * announcement to every occupant of every group. */
#include <string.h>

#include "jid.h"
#include "log.h"
#include "muc_int.h"
#include "stanza.h"

guint muc_group_occupants(muc *m, const char *group, guint *legacy)
{
    room *r = g_hash_table_lookup(m->rooms, group);

    /* A room that is not loaded has nobody in it: it is not loaded just to
     * be counted. */
    *legacy = r && r->legacy ? g_hash_table_size(r->legacy) : 0;
    return r ? room_occupant_count(r) : 0;
}

guint muc_occupants_total(muc *m, guint *legacy)
{
    GHashTableIter it;
    gpointer value;
    guint n = 0, l = 0;

    g_hash_table_iter_init(&it, m->rooms);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        room *r = value;
        n += room_occupant_count(r);
        l += r->legacy ? g_hash_table_size(r->legacy) : 0;
    }
    *legacy = l;
    return n;
}

enum xerr muc_group_new(muc *m, const char *name, const char *owner,
                        const char **why)
{
    gboolean missing = FALSE;
    char *full, *folded;
    gboolean fits;

    *why = NULL;
    /* The room JID must be a JID the store can key (router.c checks the
     * same of every stanza's 'to'). */
    full = g_strconcat(name, "@", m->cfg->jid, NULL);
    folded = jid_bare_fold(full);
    fits = jid_node_valid(name) && strlen(name) <= ARCHIVE_GROUP_MAX &&
           folded != NULL;
    g_free(folded);
    g_free(full);
    if (!fits) {
        *why = "not a valid group name";
        return XERR_JID_MALFORMED;
    }
    if (muc_room_lookup(m, name, &missing) || !missing) {
        *why = missing ? "the store cannot be read" : "that group exists";
        return missing ? XERR_INTERNAL_SERVER_ERROR : XERR_CONFLICT;
    }
    if (!muc_room_create(m, name, owner)) {
        *why = "the store refused";
        return XERR_INTERNAL_SERVER_ERROR;
    }
    return XERR_NONE;
}

guint muc_announce(muc *m, uplink *up, const char *text)
{
    xmpp_ctx_t *ctx = uplink_ctx(up);
    GHashTableIter it, oit;
    gpointer value;
    guint sent = 0;

    g_hash_table_iter_init(&it, m->rooms);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        room *r = value;
        xmpp_stanza_t *msg;
        uplink_fanout *f;
        if (!r->by_full)
            continue; /* no XMPP session in this room */
        /* From the room's bare JID, the room's own words (as its status
         * messages are): shown in the group's window; not archived: like
         * Prosody's announcement, it is for whoever is there now. */
        msg = xmpp_message_new(ctx, "groupchat", NULL, NULL);
        xmpp_stanza_set_from(msg, r->jid);
        stanza_add_text(ctx, msg, "body", text);
        f = uplink_fanout_new(up, msg);
        xmpp_stanza_release(msg);
        if (!f)
            continue;
        g_hash_table_iter_init(&oit, r->by_nick);
        while (g_hash_table_iter_next(&oit, NULL, &value)) {
            const occ *o = value;
            muc_fanout_to(f, o);
            sent += o->sessions->len;
        }
        uplink_fanout_free(f);
    }
    return sent;
}

enum xerr muc_group_invite(muc *m, uplink *up, const char *group,
                           const char *inviter, const char *to,
                           const char *reason, const char **why)
{
    gboolean missing = FALSE;
    room *r = muc_room_lookup(m, group, &missing);

    *why = NULL;
    if (!r) {
        *why = missing ? "no such group" : "the store cannot be read";
        return missing ? XERR_ITEM_NOT_FOUND : XERR_INTERNAL_SERVER_ERROR;
    }
    return muc_invite(m, up, r, inviter, muc_affiliation(m, r, inviter), to,
                      reason, NULL, why);
}
