/* muc_owner: XEP-0045 §10 — the owner's configuration form and room
 * destruction. */
#include <string.h>

#include "form.h"
#include "log.h"
#include "muc_int.h"
#include "presence.h"
#include "options.h"
#include "jid.h"
#include "stanza.h"

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
void muc_owner_notify_status(uplink *up, room *r, int code)
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

/* What a stored configuration does once its submitter has the result:
 * each option's side effect (members-only: 322), then the one status
 * message (XEP-0045 §10.2.1). */
static void after_submit(void *data)
{
    options_change *c = data;

    options_changed(c);
    muc_owner_notify_status(c->up, c->r, options_status(c->was, c->r->cfg));
    group_cfg_free((group_cfg *)c->was);
    g_free(c);
}

static enum xerr submit(const iq_req *q, iq_res *res, xmpp_stanza_t *form)
{
    muc_call *call = q->data;
    room *r = call->r;
    group_cfg *g = group_cfg_copy(r->cfg);
    const char *why = NULL;
    config_args a = {g};
    GError *err = NULL;
    options_change *c;
    enum xerr e = options_submit(g, form, &why);

    if (e != XERR_NONE) {
        group_cfg_free(g);
        return iq_fail(res, e, why);
    }
    /* Stored before anyone is told (nothing acked before it is durable). */
    if (store_write(call->m->st, config_txn, &a, &err) < 0) {
        log_error_about(LOG_STORE, r->name, "configuration: %s",
                        err ? err->message : "?");
        g_clear_error(&err);
        group_cfg_free(g);
        return XERR_INTERNAL_SERVER_ERROR;
    }
    c = g_new0(options_change, 1);
    *c = (options_change){call->m, q->up, r, r->cfg};
    r->cfg = g;
    log_for_group(LOG_ROUTER, LOG_INFO, r->name, "group %s reconfigured",
                  r->name);
    call->after = after_submit;
    call->after_data = c;
    return XERR_NONE;
}

static enum xerr destroy(const iq_req *q, iq_res *res, xmpp_stanza_t *d)
{
    muc_call *c = q->data;
    room *r = c->r;
    xmpp_ctx_t *ctx = q->ctx;
    const char *alt = xmpp_stanza_get_attribute(d, "jid");
    char *reason = stanza_child_text(d, "reason");
    GPtrArray *out = g_ptr_array_new();
    GHashTableIter it;
    gpointer value;
    enum xerr e = XERR_NONE;

    /* XEP-0045 §10.9: every occupant gets unavailable presence with a
     * <destroy/> carrying the reason and the alternate venue. They are
     * built first, and sent once the room is gone from the store; the
     * owner's result comes last. */
    g_hash_table_iter_init(&it, r->by_nick);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        const occ *o = value;
        for (guint i = 0; i < o->sessions->len; i++) {
            const char *to = g_ptr_array_index(o->sessions, i);
            xmpp_stanza_t *p = muc_occ_presence(q->up, r, o, to, TRUE,
                                                "unavailable", NULL, NULL);
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
    if (muc_room_erase(c->m, r) < 0) {
        for (guint i = 0; i < out->len; i++)
            xmpp_stanza_release(g_ptr_array_index(out, i));
        e = XERR_INTERNAL_SERVER_ERROR;
    } else {
        c->r = NULL; /* erased */
        for (guint i = 0; i < out->len; i++)
            stanza_send(q->up, g_ptr_array_index(out, i));
    }
    g_ptr_array_unref(out);
    if (reason)
        xmpp_free(ctx, reason);
    return e;
}

/* XEP-0045 §10.1: only owners configure or destroy the room. */
static enum xerr owner_only(const iq_req *q, iq_res *res)
{
    muc_call *c = q->data;
    char *bare = jid_bare_fold(q->from);
    enum affiliation aff;

    if (!bare)
        return XERR_JID_MALFORMED;
    aff = c->o ? c->o->aff : muc_affiliation(c->m, c->r, bare);
    g_free(bare);
    if (aff != AFF_OWNER)
        return iq_fail(res, XERR_FORBIDDEN,
                       "only owners may configure this group");
    return XERR_NONE;
}

enum xerr muc_owner_get(const iq_req *q, iq_res *res)
{
    muc_call *c = q->data;
    enum xerr e = owner_only(q, res);

    if (e != XERR_NONE)
        return e;
    res->payload = stanza_elem(q->ctx, "query", NS_MUC_OWNER);
    stanza_add(res->payload, options_form(q->ctx, c->r->cfg));
    return XERR_NONE;
}

enum xerr muc_owner_set(const iq_req *q, iq_res *res)
{
    enum xerr e = owner_only(q, res);
    xmpp_stanza_t *form, *d;

    if (e != XERR_NONE)
        return e;
    if ((d = xmpp_stanza_get_child_by_name(q->child, "destroy")))
        return destroy(q, res, d);
    form = form_of(q->child);
    if (!form)
        return iq_fail(res, XERR_BAD_REQUEST,
                       "expected a data form or <destroy/>");
    /* XEP-0045 §10.1.3: a cancelled form changes nothing. */
    if (!g_strcmp0(xmpp_stanza_get_type(form), "cancel"))
        return XERR_NONE;
    if (g_strcmp0(xmpp_stanza_get_type(form), "submit") != 0)
        return iq_fail(res, XERR_BAD_REQUEST, "the form is not a submit");
    return submit(q, res, form);
}
