/* service: iq handlers of the component's own JID, one table. */
#include "service.h"

#include <string.h>

#include "log.h"
#include "stanza.h"

#define NS_DISCO_INFO  "http://jabber.org/protocol/disco#info"
#define NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"
#define NS_VERSION     "jabber:iq:version"
#define NS_PING        "urn:xmpp:ping"
#define NS_COMMANDS    "http://jabber.org/protocol/commands"

static enum xerr disco_info(const iq_req *q, iq_res *res)
{
    const service_env *env = q->data;
    xmpp_stanza_t *info, *id;

    /* XEP-0030 §3.1: a node the entity does not know → item-not-found. */
    if (xmpp_stanza_get_attribute(q->child, "node"))
        return XERR_ITEM_NOT_FOUND;
    info = stanza_elem(q->ctx, "query", NS_DISCO_INFO);
    /* XEP-0045 §6.1: a MUC service is identity conference/text. */
    id = stanza_elem(q->ctx, "identity", NULL);
    xmpp_stanza_set_attribute(id, "category", "conference");
    xmpp_stanza_set_attribute(id, "type", "text");
    xmpp_stanza_set_attribute(id, "name", env->cfg->name);
    stanza_add(info, id);
    for (int i = 0; service_features[i]; i++) {
        xmpp_stanza_t *f = stanza_elem(q->ctx, "feature", NULL);
        xmpp_stanza_set_attribute(f, "var", service_features[i]);
        stanza_add(info, f);
    }
    res->payload = info;
    return XERR_NONE;
}

static enum xerr disco_items(const iq_req *q, iq_res *res)
{
    const service_env *env = q->data;
    enum xerr rc = XERR_INTERNAL_SERVER_ERROR;
    GPtrArray *groups = NULL;
    MDB_txn *txn = NULL;
    GError *err = NULL;
    xmpp_stanza_t *items;

    if (xmpp_stanza_get_attribute(q->child, "node"))
        return XERR_ITEM_NOT_FOUND;
    if (store_read_begin(env->st, &txn, &err) < 0) {
        log_error(LOG_SERVICE, "disco#items: %s", err->message);
        g_error_free(err);
        goto leave;
    }
    if (groups_list_public(txn, env->st, &groups) != 0) {
        log_error(LOG_SERVICE, "disco#items: cannot list the groups");
        goto leave;
    }
    items = stanza_elem(q->ctx, "query", NS_DISCO_ITEMS);
    /* Only public groups: hidden ones never appear (the groups.im promise:
     * members can find public groups; private ones stay private). */
    for (guint i = 0; i < groups->len; i++) {
        const group_cfg *g = g_ptr_array_index(groups, i);
        xmpp_stanza_t *item = stanza_elem(q->ctx, "item", NULL);
        char *jid = g_strconcat(g->localpart, "@", env->cfg->jid, NULL);
        xmpp_stanza_set_attribute(item, "jid", jid);
        xmpp_stanza_set_attribute(item, "name",
                                  *g->name ? g->name : g->localpart);
        stanza_add(items, item);
        g_free(jid);
    }
    res->payload = items;
    rc = XERR_NONE;
leave:
    if (groups)
        g_ptr_array_unref(groups);
    if (txn)
        store_read_end(txn);
    return rc;
}

static enum xerr version(const iq_req *q, iq_res *res)
{
    xmpp_stanza_t *v = stanza_elem(q->ctx, "query", NS_VERSION);

    /* XEP-0092 §3: <os/> is optional; it is left out, since it tells
     * strangers more about the host than they need. */
    stanza_add_text(q->ctx, v, "name", "imgroups");
    stanza_add_text(q->ctx, v, "version", IMGROUPS_VERSION);
    res->payload = v;
    return XERR_NONE;
}

static enum xerr ping(const iq_req *q, iq_res *res)
{
    /* XEP-0199 §4.1: the pong is an empty IQ result. */
    return XERR_NONE;
}

static const iq_route routes[] = {
    {"get", "query", NS_DISCO_INFO, disco_info},
    {"get", "query", NS_DISCO_ITEMS, disco_items},
    {"get", "query", NS_VERSION, version},
    {"get", "ping", NS_PING, ping},
};

/* Plus XEP-0050 commands, which the router hands to adhoc.c before this
 * table is looked at. */
const char *const service_features[] = {
    NS_DISCO_INFO, NS_DISCO_ITEMS, NS_VERSION, NS_PING, NS_COMMANDS, NULL,
};

enum xerr service_iq(const iq_req *q, iq_res *res)
{
    return iq_dispatch(routes, G_N_ELEMENTS(routes), q, res);
}
