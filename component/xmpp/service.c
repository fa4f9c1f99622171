/* service: iq handlers of the component's own JID, one table. */
#include "service.h"

#include <string.h>

#include "bounds.h"
#include "directory.h"
#include "log.h"
#include "stanza.h"

#define NS_DISCO_INFO  "http://jabber.org/protocol/disco#info"
#define NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"
#define NS_VERSION     "jabber:iq:version"
#define NS_PING        "urn:xmpp:ping"
#define NS_COMMANDS    "http://jabber.org/protocol/commands"
#define NS_RSM         "http://jabber.org/protocol/rsm"
#define NS_MUC         "http://jabber.org/protocol/muc"

/* Items in one page of the service's disco#items, at most (XEP-0059):
 * what a client gets without asking for a page, and the most it gets when
 * it asks for more. */
#define SERVICE_PAGE_MAX 100

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

/* What a disco#items request asks of the list (XEP-0059 §2). */
typedef struct rsm_req {
    guint max;      /* items at most */
    char *after;    /* NULL: from the first */
    char *before;   /* NULL: going forward; "": the last page */
    gboolean asked; /* the request carried a <set/> */
} rsm_req;

static void rsm_req_clear(rsm_req *r)
{
    g_free(r->after);
    g_free(r->before);
}

/* The text of set's <name/> as an owned string (g_free), "" for an empty
 * element, NULL when there is none. */
static char *rsm_text(xmpp_ctx_t *ctx, xmpp_stanza_t *set, const char *name)
{
    xmpp_stanza_t *c = xmpp_stanza_get_child_by_name(set, name);
    char *t, *out;

    if (!c)
        return NULL;
    t = xmpp_stanza_get_text(c);
    out = g_strdup(t ? t : "");
    if (t)
        xmpp_free(ctx, t);
    return out;
}

/* Reads the request's <set/> into r. XEP-0059 §2.1: max is what the
 * requester wants "at most"; more than SERVICE_PAGE_MAX gets
 * SERVICE_PAGE_MAX (the responding entity may return fewer), and no max
 * gets SERVICE_PAGE_MAX too. */
static enum xerr rsm_read(const iq_req *q, rsm_req *r, const char **why)
{
    xmpp_stanza_t *set =
        xmpp_stanza_get_child_by_name_and_ns(q->child, "set", NS_RSM);
    char *max;
    guint64 n = SERVICE_PAGE_MAX;

    *r = (rsm_req){SERVICE_PAGE_MAX, NULL, NULL, set != NULL};
    if (!set)
        return XERR_NONE;
    /* XEP-0059 §2.5: a page out of sequence (by <index/>) is not offered. */
    if (xmpp_stanza_get_child_by_name(set, "index")) {
        *why = "this list is paged by after and before, not by index";
        return XERR_FEATURE_NOT_IMPLEMENTED;
    }
    if ((max = rsm_text(q->ctx, set, "max"))) {
        gboolean ok =
            g_ascii_string_to_unsigned(max, 10, 0, G_MAXUINT32, &n, NULL);
        g_free(max);
        if (!ok) {
            *why = "max is not a number";
            return XERR_BAD_REQUEST;
        }
    }
    r->max = n > SERVICE_PAGE_MAX ? SERVICE_PAGE_MAX : (guint)n;
    r->after = rsm_text(q->ctx, set, "after");
    r->before = rsm_text(q->ctx, set, "before");
    return XERR_NONE;
}

/* The <set/> of the answer (XEP-0059 §2.1): the first and last item's
 * UID (the room localpart) and how many there are in all. */
static xmpp_stanza_t *rsm_answer(xmpp_ctx_t *ctx, const char *first,
                                 const char *last, guint count)
{
    xmpp_stanza_t *set = stanza_elem(ctx, "set", NS_RSM);
    char n[16];

    if (first) {
        stanza_add_text(ctx, set, "first", first);
        stanza_add_text(ctx, set, "last", last);
    }
    g_snprintf(n, sizeof(n), "%u", count);
    stanza_add_text(ctx, set, "count", n);
    return set;
}

/* The <item/> for the group localpart, or NULL when its record is gone or
 * cannot be read (it is then left out of the page). */
static xmpp_stanza_t *group_item(const iq_req *q, MDB_txn *txn,
                                 const char *localpart)
{
    const service_env *env = q->data;
    group_cfg *g = NULL;
    xmpp_stanza_t *item;
    char *jid;

    if (groups_get(txn, env->st, localpart, &g) != 0)
        return NULL;
    item = stanza_elem(q->ctx, "item", NULL);
    jid = g_strconcat(g->localpart, "@", env->cfg->jid, NULL);
    xmpp_stanza_set_attribute(item, "jid", jid);
    xmpp_stanza_set_attribute(item, "name", *g->name ? g->name : g->localpart);
    g_free(jid);
    group_cfg_free(g);
    return item;
}

static void item_release(gpointer item)
{
    xmpp_stanza_release(item);
}

/* What item takes in the answer, escaped, with its markup. */
static gsize item_size(xmpp_stanza_t *item)
{
    return stanza_escaped_len(xmpp_stanza_get_attribute(item, "jid")) +
           stanza_escaped_len(xmpp_stanza_get_attribute(item, "name")) +
           sizeof("<item jid=\"\" name=\"\"/>");
}

/* XEP-0045 §6.2 with XEP-0059: the public groups, a page at a time. The
 * page is read from the directory (schema/directory.md), which holds only
 * the public groups: a page costs its own items, and hidden groups are
 * never read, let alone listed. */
static enum xerr disco_items(const iq_req *q, iq_res *res)
{
    const service_env *env = q->data;
    enum xerr rc = XERR_INTERNAL_SERVER_ERROR;
    GPtrArray *page = NULL, *items = NULL, *uids = NULL;
    const char *why = NULL;
    MDB_txn *txn = NULL;
    GError *err = NULL;
    xmpp_stanza_t *query;
    rsm_req r;
    guint count = 0, kept = 0, skip;
    gsize budget;
    int src;

    if (xmpp_stanza_get_attribute(q->child, "node"))
        return XERR_ITEM_NOT_FOUND;
    if ((rc = rsm_read(q, &r, &why)) != XERR_NONE) {
        rsm_req_clear(&r);
        return iq_fail(res, rc, why);
    }
    rc = XERR_INTERNAL_SERVER_ERROR;
    if (store_read_begin(env->st, &txn, &err) < 0) {
        log_error(LOG_SERVICE, "disco#items: %s", err->message);
        g_error_free(err);
        goto leave;
    }
    src = directory_count(txn, env->st, &count);
    if (src == 0)
        src = directory_page(txn, env->st, r.after, r.before, r.max, &page);
    if (src == MDB_NOTFOUND) {
        /* XEP-0059 §2.5: "If the item specified by the requesting entity
         * via the UID in the <after/> or <before/> element does not exist,
         * the responding entity SHOULD return an error stanza with
         * item-not-found". */
        rc = iq_fail(res, XERR_ITEM_NOT_FOUND, "no such group in the list");
        goto leave;
    }
    if (src != 0) {
        log_error(LOG_SERVICE, "disco#items: cannot list the groups (%s)",
                  mdb_strerror(src));
        goto leave;
    }
    items = g_ptr_array_new_with_free_func(item_release);
    uids = g_ptr_array_new();
    for (guint i = 0; i < page->len; i++) {
        xmpp_stanza_t *item = group_item(q, txn, g_ptr_array_index(page, i));
        if (!item)
            continue;
        g_ptr_array_add(items, item);
        g_ptr_array_add(uids, g_ptr_array_index(page, i));
    }
    /* The answer fits [component] stanza_limit whatever the names hold: a
     * page that would not is cut to what fits (XEP-0059 §2.1: fewer items
     * than max is a page), at its end going forward, at its start going
     * backward, so that paging on from first or last loses nothing. */
    budget = env->cfg->stanza_limit - BOUND_ENVELOPE_BYTES;
    for (guint i = 0; i < items->len; i++) {
        guint at = r.before ? items->len - 1 - i : i;
        gsize n = item_size(g_ptr_array_index(items, at));
        if (n > budget)
            break;
        budget -= n;
        kept++;
    }
    skip = items->len - kept;
    if (r.before) {
        g_ptr_array_remove_range(items, 0, skip);
        g_ptr_array_remove_range(uids, 0, skip);
    } else {
        g_ptr_array_set_size(items, kept);
        g_ptr_array_set_size(uids, kept);
    }
    query = stanza_elem(q->ctx, "query", NS_DISCO_ITEMS);
    for (guint i = 0; i < items->len; i++)
        stanza_add(query, xmpp_stanza_clone(g_ptr_array_index(items, i)));
    /* The <set/> when it was asked for, or when the list did not fit one
     * page (XEP-0059 §1: the responding entity may say on its own that a
     * result set is limited). */
    if (r.asked || count > items->len) {
        const char *first = NULL, *last = NULL;
        if (uids->len) {
            first = g_ptr_array_index(uids, 0);
            last = g_ptr_array_index(uids, uids->len - 1);
        }
        stanza_add(query, rsm_answer(q->ctx, first, last, count));
    }
    res->payload = query;
    rc = XERR_NONE;
leave:
    if (uids)
        g_ptr_array_unref(uids);
    if (items)
        g_ptr_array_unref(items);
    if (page)
        g_ptr_array_unref(page);
    if (txn)
        store_read_end(txn);
    rsm_req_clear(&r);
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
 * table is looked at; the MUC protocol, which the rooms speak (muc.c):
 * XEP-0045 §6.1, "the service MUST return its identity and the features
 * it supports", and clients (Profanity, Gajim, Conversations) pick the
 * group chat service by that feature; and XEP-0059 result sets, which
 * disco#items pages with. */
const char *const service_features[] = {
    NS_DISCO_INFO, NS_DISCO_ITEMS, NS_VERSION, NS_PING,
    NS_COMMANDS,   NS_MUC,         NS_RSM,     NULL,
};

enum xerr service_iq(const iq_req *q, iq_res *res)
{
    return iq_dispatch(routes, G_N_ELEMENTS(routes), q, res);
}
