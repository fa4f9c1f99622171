/* disco: a room's XEP-0030 answers: disco#info with the muc#roominfo form,
 * disco#items with the occupants. */
#include "disco.h"
#include "muc_int.h"
#include "options.h"

#include <string.h>

#include "jid.h"
#include "stanza.h"

/* Whether the asker of a disco query on r is an outsider of a room that
 * keeps to itself (hidden or members-only): not an occupant, and no
 * affiliation of member or above. */
static gboolean outsider_of_private(muc *m, room *r, xmpp_stanza_t *st,
                                    const occ *o)
{
    char *bare;
    enum affiliation a;

    if (o || !options_hidden(r->cfg))
        return FALSE;
    if (!(bare = jid_bare_fold(xmpp_stanza_get_from(st))))
        return TRUE;
    a = muc_affiliation(m, r, bare);
    g_free(bare);
    return a != AFF_OWNER && a != AFF_ADMIN && a != AFF_MEMBER;
}

/* XEP-0045 §6.4. Issue 9, item 7: an outsider of a hidden or members-only
 * room learns no more than Prosody's MUC tells (identity, features,
 * description, occupant count): not the subject, which Prosody's
 * muc#roominfo never carries and which in such a room is the members'
 * business. */
void disco_info(muc *m, uplink *up, room *r, xmpp_stanza_t *st,
                            const occ *o)
{
    gboolean outsider = outsider_of_private(m, r, st, o);
    static const char *const features[] = {
        NS_MUC, NS_SID, NS_OCCUPANT_ID, NS_PING, NS_DISCO_INFO, NS_MAM, NULL,
    };
    xmpp_ctx_t *ctx = uplink_ctx(up);
    xmpp_stanza_t *res = xmpp_iq_new(ctx, "result", xmpp_stanza_get_id(st));
    xmpp_stanza_t *q = stanza_elem(ctx, "query", NS_DISCO_INFO);
    xmpp_stanza_t *id = stanza_elem(ctx, "identity", NULL);
    xmpp_stanza_t *form, *field;
    char count[16];

    xmpp_stanza_set_to(res, xmpp_stanza_get_from(st));
    xmpp_stanza_set_from(res, r->jid);
    xmpp_stanza_set_attribute(id, "category", "conference");
    xmpp_stanza_set_attribute(id, "type", "text");
    xmpp_stanza_set_attribute(id, "name",
                              *r->cfg->name ? r->cfg->name : r->name);
    stanza_add(q, id);
    {
        GPtrArray *all = g_ptr_array_new();
        for (int i = 0; features[i]; i++)
            g_ptr_array_add(all, (gpointer)features[i]);
        options_features(r->cfg, all);
        for (guint i = 0; i < all->len; i++) {
            xmpp_stanza_t *f = stanza_elem(ctx, "feature", NULL);
            xmpp_stanza_set_attribute(f, "var", g_ptr_array_index(all, i));
            stanza_add(q, f);
        }
        g_ptr_array_unref(all);
    }
    /* XEP-0045 §6.4: the muc#roominfo form. */
    form = stanza_elem(ctx, "x", NS_DATA);
    xmpp_stanza_set_type(form, "result");
    field = stanza_elem(ctx, "field", NULL);
    xmpp_stanza_set_attribute(field, "var", "FORM_TYPE");
    xmpp_stanza_set_type(field, "hidden");
    stanza_add_text(ctx, field, "value",
                    "http://jabber.org/protocol/muc#roominfo");
    stanza_add(form, field);
    field = stanza_elem(ctx, "field", NULL);
    xmpp_stanza_set_attribute(field, "var", "muc#roominfo_description");
    stanza_add_text(ctx, field, "value", r->cfg->description);
    stanza_add(form, field);
    field = stanza_elem(ctx, "field", NULL);
    xmpp_stanza_set_attribute(field, "var", "muc#roominfo_occupants");
    g_snprintf(count, sizeof(count), "%u", room_occupant_count(r));
    stanza_add_text(ctx, field, "value", count);
    stanza_add(form, field);
    if (!outsider) {
        field = stanza_elem(ctx, "field", NULL);
        xmpp_stanza_set_attribute(field, "var", "muc#roominfo_subject");
        stanza_add_text(ctx, field, "value",
                        r->cfg->subject ? r->cfg->subject : "");
        stanza_add(form, field);
    }
    stanza_add(q, form);
    stanza_add(res, q);
    stanza_send(up, res);
}

void disco_items(uplink *up, room *r, xmpp_stanza_t *st, const occ *o)
{
    /* XEP-0045 §6.5: occupants may be listed. Only to occupants, and
     * only their nicks: outsiders cannot enumerate who is in a
     * group. */
    xmpp_stanza_t *q = stanza_elem(uplink_ctx(up), "query", NS_DISCO_ITEMS);
    if (o) {
        GHashTableIter it;
        gpointer value;
        g_hash_table_iter_init(&it, r->by_nick);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
            const occ *other = value;
            xmpp_stanza_t *item = stanza_elem(uplink_ctx(up), "item", NULL);
            char *j = g_strconcat(r->jid, "/", other->nick, NULL);
            xmpp_stanza_set_attribute(item, "jid", j);
            xmpp_stanza_set_attribute(item, "name", other->nick);
            stanza_add(q, item);
            g_free(j);
        }
    }
    muc_result(up, st, q);
}
