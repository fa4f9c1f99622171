/* disco: a room's XEP-0030 answers: disco#info with the muc#roominfo form,
 * disco#items with the occupants. */
#include "disco.h"
#include "avatar.h"
#include "muc_int.h"
#include "options.h"
#include "register.h"
#include "voice.h"
#include "retract.h"

#include <string.h>

#include "form.h"
#include "jid.h"
#include "stanza.h"

/* Whether the asker of a disco query is an outsider of a room that keeps
 * to itself (hidden or members-only): not an occupant, and no affiliation
 * of member or above. */
static gboolean outsider_of_private(const iq_req *q)
{
    const muc_call *c = q->data;
    char *bare;
    enum affiliation a;

    if (c->o || !options_hidden(c->r->cfg))
        return FALSE;
    if (!(bare = jid_bare_fold(q->from)))
        return TRUE;
    a = muc_affiliation(c->m, c->r, bare);
    g_free(bare);
    return a != AFF_OWNER && a != AFF_ADMIN && a != AFF_MEMBER;
}

/* XEP-0045 §6.4. Issue 9, item 7: an outsider of a hidden or members-only
 * room learns no more than Prosody's MUC tells (identity, features,
 * description, occupant count): not the subject, which Prosody's
 * muc#roominfo never carries and which in such a room is the members'
 * business. */
enum xerr disco_info(const iq_req *q, iq_res *res)
{
    static const char *const features[] = {
        NS_MUC, NS_SID, NS_OCCUPANT_ID, NS_PING, NS_DISCO_INFO, NS_MAM,
        NS_REGISTER,
        NS_MUC_REQUEST, /* voice requests (voice.c) */
        NS_VCARD, /* the room's avatar (avatar.c), as mod_vcard_muc */
    };
    const muc_call *c = q->data;
    const room *r = c->r;
    xmpp_ctx_t *ctx = q->ctx;
    xmpp_stanza_t *query, *id, *form;
    GPtrArray *all;
    char count[16], hash[AVATARS_HASH_LEN];

    /* XEP-0045 §7.12: the asker's registered nick (register.c). */
    if (g_strcmp0(xmpp_stanza_get_attribute(q->child, "node"),
                  REGISTER_NODE) == 0)
        return register_roomuser_item(q, res);
    /* A node is someone else's (the ad-hoc commands claim theirs). */
    if (xmpp_stanza_get_attribute(q->child, "node"))
        return XERR_SERVICE_UNAVAILABLE;
    query = stanza_elem(ctx, "query", NS_DISCO_INFO);
    id = stanza_elem(ctx, "identity", NULL);
    xmpp_stanza_set_attribute(id, "category", "conference");
    xmpp_stanza_set_attribute(id, "type", "text");
    xmpp_stanza_set_attribute(id, "name",
                              *r->cfg->name ? r->cfg->name : r->name);
    stanza_add(query, id);
    all = g_ptr_array_new();
    for (size_t i = 0; i < G_N_ELEMENTS(features); i++)
        g_ptr_array_add(all, (gpointer)features[i]);
    options_features(r->cfg, all);
    retract_features(all);
    for (guint i = 0; i < all->len; i++) {
        xmpp_stanza_t *f = stanza_elem(ctx, "feature", NULL);
        xmpp_stanza_set_attribute(f, "var", g_ptr_array_index(all, i));
        stanza_add(query, f);
    }
    g_ptr_array_unref(all);
    /* XEP-0045 §6.4: the muc#roominfo form (XEP-0128). */
    form = form_new(ctx, "result", NULL, NULL);
    form_add_type(ctx, form, "http://jabber.org/protocol/muc#roominfo");
    form_field(ctx, form, "muc#roominfo_description", NULL, NULL,
               r->cfg->description, FALSE);
    g_snprintf(count, sizeof(count), "%u", room_occupant_count(r));
    form_field(ctx, form, "muc#roominfo_occupants", NULL, NULL, count, FALSE);
    if (!outsider_of_private(q))
        form_field(ctx, form, "muc#roominfo_subject", NULL, NULL,
                   r->cfg->subject ? r->cfg->subject : "", FALSE);
    /* The name, as Prosody's MUC puts it in this form (name.lib.lua), for
     * the directories that crawl rooms. */
    form_field(ctx, form, "muc#roomconfig_roomname", NULL, NULL, r->cfg->name,
               FALSE);
    /* XEP-0486 §3: the avatar's hash; and the field Prosody's
     * mod_vcard_muc puts, which clients of Prosody rooms read. */
    if (avatar_hash(c->m, r, hash)) {
        form_field(ctx, form, "muc#roominfo_avatarhash", "text-multi", NULL,
                   hash, FALSE);
        form_field(ctx, form,
                   "{http://modules.prosody.im/mod_vcard_muc}avatar#sha1",
                   "text-single", NULL, hash, FALSE);
    }
    stanza_add(query, form);
    res->payload = query;
    return XERR_NONE;
}

enum xerr disco_items(const iq_req *q, iq_res *res)
{
    const muc_call *c = q->data;
    xmpp_stanza_t *query = stanza_elem(q->ctx, "query", NS_DISCO_ITEMS);
    GHashTableIter it;
    gpointer value;

    /* XEP-0045 §6.5: occupants may be listed. Only to occupants, and only
     * their nicks: outsiders cannot enumerate who is in a group. */
    g_hash_table_iter_init(&it, c->r->by_nick);
    while (c->o && g_hash_table_iter_next(&it, NULL, &value)) {
        const occ *other = value;
        xmpp_stanza_t *item = stanza_elem(q->ctx, "item", NULL);
        char *j = muc_occ_nick_jid(c->r, other);
        xmpp_stanza_set_attribute(item, "jid", j);
        xmpp_stanza_set_attribute(item, "name", other->nick);
        stanza_add(query, item);
        g_free(j);
    }
    res->payload = query;
    return XERR_NONE;
}
