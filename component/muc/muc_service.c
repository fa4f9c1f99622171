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
    GHashTable *people = g_hash_table_new(g_str_hash, g_str_equal);
    GHashTable *sessions = g_hash_table_new(g_str_hash, g_str_equal);
    GHashTableIter it, oit;
    gpointer value, full;
    xmpp_stanza_t *msg;
    uplink_fanout *f;
    guint n;

    /* Everyone in a group now and each of their sessions, once whatever
     * their groups (borrowed from the occupants for the call). */
    g_hash_table_iter_init(&it, m->rooms);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        room *r = value;
        g_hash_table_iter_init(&oit, r->by_nick);
        while (g_hash_table_iter_next(&oit, NULL, &value)) {
            const occ *o = value;
            for (guint i = 0; i < o->sessions->len; i++)
                g_hash_table_add(sessions, g_ptr_array_index(o->sessions, i));
            if (o->sessions->len)
                g_hash_table_add(people, o->bare);
        }
    }
    /* As Prosody's announcement (mod_announce): a headline from the
     * service, not archived. Prosody sends it to each online user's bare
     * JID; the sessions in a group are the ones known here to be online
     * (one may have sent no presence but to the room), so it goes to each
     * of them, once. */
    msg = xmpp_message_new(ctx, "headline", NULL, NULL);
    xmpp_stanza_set_from(msg, m->cfg->jid);
    stanza_add_text(ctx, msg, "body", text);
    f = uplink_fanout_new(up, msg);
    xmpp_stanza_release(msg);
    g_hash_table_iter_init(&it, sessions);
    while (f && g_hash_table_iter_next(&it, &full, NULL))
        uplink_fanout_send(f, full);
    if (f)
        uplink_fanout_free(f);
    n = g_hash_table_size(people);
    g_hash_table_unref(sessions);
    g_hash_table_unref(people);
    return n;
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
