/* service: iq handlers of the component's own JID, one table. */
#include "service.h"

#include <string.h>

#include "log.h"

#define NS_DISCO_INFO  "http://jabber.org/protocol/disco#info"
#define NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"
#define NS_VERSION     "jabber:iq:version"
#define NS_PING        "urn:xmpp:ping"

typedef enum xerr (*service_fn)(const service_env *env, xmpp_stanza_t *iq,
                                xmpp_stanza_t *child, xmpp_stanza_t **payload);

static xmpp_stanza_t *elem(xmpp_ctx_t *ctx, const char *name, const char *ns)
{
    xmpp_stanza_t *e = xmpp_stanza_new(ctx);

    xmpp_stanza_set_name(e, name);
    if (ns)
        xmpp_stanza_set_ns(e, ns);
    return e;
}

static void add(xmpp_stanza_t *parent, xmpp_stanza_t *child)
{
    xmpp_stanza_add_child(parent, child);
    xmpp_stanza_release(child);
}

static void add_text_child(xmpp_ctx_t *ctx, xmpp_stanza_t *parent,
                           const char *name, const char *text)
{
    xmpp_stanza_t *e = elem(ctx, name, NULL);
    xmpp_stanza_t *t = xmpp_stanza_new(ctx);

    xmpp_stanza_set_text(t, text);
    add(e, t);
    add(parent, e);
}

static enum xerr disco_info(const service_env *env, xmpp_stanza_t *iq,
                            xmpp_stanza_t *child, xmpp_stanza_t **payload)
{
    xmpp_stanza_t *q, *id;

    /* XEP-0030 §3.1: a node the entity does not know → item-not-found. */
    if (xmpp_stanza_get_attribute(child, "node"))
        return XERR_ITEM_NOT_FOUND;
    q = elem(env->ctx, "query", NS_DISCO_INFO);
    /* XEP-0045 §6.1: a MUC service is identity conference/text. */
    id = elem(env->ctx, "identity", NULL);
    xmpp_stanza_set_attribute(id, "category", "conference");
    xmpp_stanza_set_attribute(id, "type", "text");
    xmpp_stanza_set_attribute(id, "name", env->cfg->name);
    add(q, id);
    for (int i = 0; service_features[i]; i++) {
        xmpp_stanza_t *f = elem(env->ctx, "feature", NULL);
        xmpp_stanza_set_attribute(f, "var", service_features[i]);
        add(q, f);
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
    q = elem(env->ctx, "query", NS_DISCO_ITEMS);
    /* Only public groups: hidden ones never appear (the groups.im promise:
     * members can find public groups; private ones stay private). */
    for (guint i = 0; i < groups->len; i++) {
        const group_cfg *g = g_ptr_array_index(groups, i);
        xmpp_stanza_t *item = elem(env->ctx, "item", NULL);
        char *jid = g_strconcat(g->localpart, "@", env->cfg->jid, NULL);
        xmpp_stanza_set_attribute(item, "jid", jid);
        xmpp_stanza_set_attribute(item, "name",
                                  *g->name ? g->name : g->localpart);
        add(q, item);
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
    xmpp_stanza_t *q = elem(env->ctx, "query", NS_VERSION);

    /* XEP-0092 §3: <os/> is optional; it is left out, since it tells
     * strangers more about the host than they need. */
    add_text_child(env->ctx, q, "name", "imgroups");
    add_text_child(env->ctx, q, "version", IMGROUPS_VERSION);
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

const char *const service_features[] = {
    NS_DISCO_INFO, NS_DISCO_ITEMS, NS_VERSION, NS_PING, NULL,
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
