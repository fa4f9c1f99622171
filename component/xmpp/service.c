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

typedef enum xerr (*service_fn)(const service_env *env, xmpp_stanza_t *iq,
                                xmpp_stanza_t *child, xmpp_stanza_t **payload);

static enum xerr disco_info(const service_env *env, xmpp_stanza_t *iq,
                            xmpp_stanza_t *child, xmpp_stanza_t **payload)
{
    xmpp_stanza_t *q, *id;

    /* XEP-0030 §3.1: a node the entity does not know → item-not-found. */
    if (xmpp_stanza_get_attribute(child, "node"))
        return XERR_ITEM_NOT_FOUND;
    q = stanza_elem(env->ctx, "query", NS_DISCO_INFO);
    /* XEP-0045 §6.1: a MUC service is identity conference/text. */
    id = stanza_elem(env->ctx, "identity", NULL);
    xmpp_stanza_set_attribute(id, "category", "conference");
    xmpp_stanza_set_attribute(id, "type", "text");
    xmpp_stanza_set_attribute(id, "name", env->cfg->name);
    stanza_add(q, id);
    for (int i = 0; service_features[i]; i++) {
        xmpp_stanza_t *f = stanza_elem(env->ctx, "feature", NULL);
        xmpp_stanza_set_attribute(f, "var", service_features[i]);
        stanza_add(q, f);
    }
    *payload = q;
    return XERR_NONE;
}

static enum xerr disco_items(const service_env *env, xmpp_stanza_t *iq,
                             xmpp_stanza_t *child, xmpp_stanza_t **payload)
{
    enum xerr rc = XERR_INTERNAL_SERVER_ERROR;
    GPtrArray *groups = NULL;
    MDB_txn *txn = NULL;
    GError *err = NULL;
    xmpp_stanza_t *q = NULL;

    if (xmpp_stanza_get_attribute(child, "node"))
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
    q = stanza_elem(env->ctx, "query", NS_DISCO_ITEMS);
    /* Only public groups: hidden ones never appear (the groups.im promise:
     * members can find public groups; private ones stay private). */
    for (guint i = 0; i < groups->len; i++) {
        const group_cfg *g = g_ptr_array_index(groups, i);
        xmpp_stanza_t *item = stanza_elem(env->ctx, "item", NULL);
        char *jid = g_strconcat(g->localpart, "@", env->cfg->jid, NULL);
        xmpp_stanza_set_attribute(item, "jid", jid);
        xmpp_stanza_set_attribute(item, "name",
                                  *g->name ? g->name : g->localpart);
        stanza_add(q, item);
        g_free(jid);
    }
    *payload = q;
    rc = XERR_NONE;
leave:
    if (groups)
        g_ptr_array_unref(groups);
    if (txn)
        store_read_end(txn);
    return rc;
}

static enum xerr version(const service_env *env, xmpp_stanza_t *iq,
                         xmpp_stanza_t *child, xmpp_stanza_t **payload)
{
    xmpp_stanza_t *q = stanza_elem(env->ctx, "query", NS_VERSION);

    /* XEP-0092 §3: <os/> is optional; it is left out, since it tells
     * strangers more about the host than they need. */
    stanza_add_text(env->ctx, q, "name", "imgroups");
    stanza_add_text(env->ctx, q, "version", IMGROUPS_VERSION);
    *payload = q;
    return XERR_NONE;
}

static enum xerr ping(const service_env *env, xmpp_stanza_t *iq,
                      xmpp_stanza_t *child, xmpp_stanza_t **payload)
{
    /* XEP-0199 §4.1: the pong is an empty IQ result. */
    *payload = NULL;
    return XERR_NONE;
}

static const struct {
    const char *type;
    const char *name;
    const char *ns;
    service_fn fn;
} handlers[] = {
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

enum xerr service_iq(const service_env *env, xmpp_stanza_t *iq,
                     xmpp_stanza_t *child, xmpp_stanza_t **payload)
{
    const char *type = xmpp_stanza_get_type(iq);
    const char *name = xmpp_stanza_get_name(child);
    const char *ns = xmpp_stanza_get_ns(child);

    *payload = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(handlers); i++) {
        if (strcmp(handlers[i].type, type) == 0 &&
            strcmp(handlers[i].name, name) == 0 && ns &&
            strcmp(handlers[i].ns, ns) == 0)
            return handlers[i].fn(env, iq, child, payload);
    }
    return XERR_SERVICE_UNAVAILABLE;
}
