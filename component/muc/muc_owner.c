/* muc_owner: XEP-0045 §10 — the owner's configuration form and room
 * destruction. */
#include <string.h>

#include "archive.h"
#include "log.h"
#include "muc_int.h"
#include "presence.h"
#include "options.h"
#include "jid.h"
#include "stanza.h"

#define NS_DATA "jabber:x:data"

typedef struct config_args {
    const group_cfg *g;
} config_args;

static int config_txn(MDB_txn *txn, const store *st, void *userdata)
{
    config_args *a = userdata;

    return groups_put(txn, st, a->g);
}

/* A message from the room to every occupant carrying status codes
 * (XEP-0045 §10.2.1: 104 configuration changed, 172/173 anonymity). */
static void notify_status(uplink *up, room *r, int code)
{
    xmpp_ctx_t *ctx = uplink_ctx(up);
    xmpp_stanza_t *msg = xmpp_message_new(ctx, "groupchat", NULL, NULL);
    xmpp_stanza_t *x = stanza_elem(ctx, "x", NS_MUC_USER);
    xmpp_stanza_t *status = stanza_elem(ctx, "status", NULL);
    uplink_fanout *f;
    GHashTableIter it;
    gpointer value;
    char c[8];

    g_snprintf(c, sizeof(c), "%d", code);
    xmpp_stanza_set_from(msg, r->jid);
    xmpp_stanza_set_attribute(status, "code", c);
    stanza_add(x, status);
    stanza_add(msg, x);
    /* the same for every occupant: serialised once */
    f = uplink_fanout_new(up, msg);
    xmpp_stanza_release(msg);
    if (!f)
        return;
    g_hash_table_iter_init(&it, r->by_nick);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        const occ *o = value;
        for (guint i = 0; i < o->sessions->len; i++)
            uplink_fanout_send(f, g_ptr_array_index(o->sessions, i));
    }
    uplink_fanout_free(f);
}

static void submit(muc *m, uplink *up, room *r, xmpp_stanza_t *st,
                   xmpp_stanza_t *form)
{
    group_cfg *g = group_cfg_copy(r->cfg);
    const char *why = NULL;
    config_args a = {g};
    GError *err = NULL;
    group_cfg *was;
    options_change c = {m, up, r, NULL};
    enum xerr e = options_submit(g, form, &why);

    if (e != XERR_NONE) {
        muc_reply_error(up, st, e, why);
        group_cfg_free(g);
        return;
    }
    /* Stored before anyone is told (nothing acked before it is durable). */
    if (store_write(m->st, config_txn, &a, &err) < 0) {
        log_error_about(LOG_STORE, r->name, "configuration: %s",
                        err ? err->message : "?");
        g_clear_error(&err);
        muc_reply_error(up, st, XERR_INTERNAL_SERVER_ERROR, NULL);
        group_cfg_free(g);
        return;
    }
    was = r->cfg;
    r->cfg = g;
    c.was = was;
    muc_result(up, st, NULL);
    log_info(LOG_ROUTER, "group %s reconfigured", r->name);
    /* Each option's side effect (members-only: 322), then the one status
     * message (XEP-0045 §10.2.1). */
    options_changed(&c);
    notify_status(up, r, options_status(was, g));
    group_cfg_free(was);
}

static void destroy(muc *m, uplink *up, room *r, xmpp_stanza_t *st,
                    xmpp_stanza_t *d)
{
    xmpp_ctx_t *ctx = uplink_ctx(up);
    const char *alt = xmpp_stanza_get_attribute(d, "jid");
    char *reason = stanza_child_text(d, "reason");
    GPtrArray *out = g_ptr_array_new();
    GHashTableIter it;
    gpointer value;

    /* XEP-0045 §10.9: every occupant gets unavailable presence with a
     * <destroy/> carrying the reason and the alternate venue. They are
     * built first, and sent once the room is gone from the store. */
    g_hash_table_iter_init(&it, r->by_nick);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        const occ *o = value;
        for (guint i = 0; i < o->sessions->len; i++) {
            const char *to = g_ptr_array_index(o->sessions, i);
            xmpp_stanza_t *p =
                muc_occ_presence(up, r, o, to, TRUE, "unavailable", NULL, NULL);
            xmpp_stanza_t *x =
                xmpp_stanza_get_child_by_name_and_ns(p, "x", NS_MUC_USER);
            xmpp_stanza_t *de = stanza_elem(ctx, "destroy", NULL);
            if (alt)
                xmpp_stanza_set_attribute(de, "jid", alt);
            if (reason)
                stanza_add_text(ctx, de, "reason", reason);
            stanza_add(x, de);
            g_ptr_array_add(out, p);
        }
    }
    if (muc_room_erase(m, r) < 0) {
        for (guint i = 0; i < out->len; i++)
            xmpp_stanza_release(g_ptr_array_index(out, i));
        muc_reply_error(up, st, XERR_INTERNAL_SERVER_ERROR, NULL);
    } else {
        for (guint i = 0; i < out->len; i++)
            stanza_send(up, g_ptr_array_index(out, i));
        muc_result(up, st, NULL);
    }
    g_ptr_array_unref(out);
    if (reason)
        xmpp_free(ctx, reason);
}

void muc_owner_iq(muc *m, uplink *up, room *r, xmpp_stanza_t *st,
                  xmpp_stanza_t *child)
{
    const char *type = xmpp_stanza_get_type(st);
    occ *o = room_occ_by_full(r, xmpp_stanza_get_from(st));
    enum affiliation aff;
    xmpp_stanza_t *form, *d;
    char *bare;

    if (!(bare = jid_bare_fold(xmpp_stanza_get_from(st))))
        return;
    aff = o ? o->aff : muc_affiliation(m, r, bare);
    g_free(bare);
    /* XEP-0045 §10.1: only owners configure or destroy the room. */
    if (aff != AFF_OWNER) {
        muc_reply_error(up, st, XERR_FORBIDDEN,
                        "only owners may configure this group");
        return;
    }
    if (!strcmp(type, "get")) {
        xmpp_stanza_t *q = stanza_elem(uplink_ctx(up), "query", NS_MUC_OWNER);
        stanza_add(q, options_form(uplink_ctx(up), r->cfg));
        muc_result(up, st, q);
        return;
    }
    if ((d = xmpp_stanza_get_child_by_name(child, "destroy"))) {
        destroy(m, up, r, st, d);
        return;
    }
    form = xmpp_stanza_get_child_by_name_and_ns(child, "x", NS_DATA);
    if (!form) {
        muc_reply_error(up, st, XERR_BAD_REQUEST,
                        "expected a data form or <destroy/>");
        return;
    }
    /* XEP-0045 §10.1.3: a cancelled form changes nothing. */
    if (!g_strcmp0(xmpp_stanza_get_type(form), "cancel")) {
        muc_result(up, st, NULL);
        return;
    }
    if (g_strcmp0(xmpp_stanza_get_type(form), "submit") != 0) {
        muc_reply_error(up, st, XERR_BAD_REQUEST, "the form is not a submit");
        return;
    }
    submit(m, up, r, st, form);
}
