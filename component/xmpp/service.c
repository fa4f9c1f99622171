/* service: iq handlers of the component's own JID, one table. */
#include "service.h"

#include <errno.h>
#include <string.h>

#include "bounds.h"
#include "directory.h"
#include "log.h"
#include "shard.h"
#include "stanza.h"
#include "svc_merge.h"

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

/* This shard's page of the public groups for a (rows: localpart, [name]),
 * read in one transaction, with the count of its list. strict: the cursor
 * must be listed here (this shard owns its group), else MDB_NOTFOUND. A
 * group whose record is gone or unreadable is left out. Returns 0 with
 * *out (caller owns), MDB_NOTFOUND, or negative. */
static int local_page(const service_env *env, const svc_merge_ask *a,
                      gboolean strict, svc_merge_page **out)
{
    GPtrArray *keys = NULL;
    MDB_txn *txn = NULL;
    GError *err = NULL;
    guint count = 0;
    int rc;

    *out = NULL;
    if (store_read_begin(env->st, &txn, &err) < 0) {
        log_error(LOG_SERVICE, "disco#items: %s", err->message);
        g_error_free(err);
        return -EIO;
    }
    rc = directory_count(txn, env->st, &count);
    if (rc == 0)
        rc = (strict ? directory_page : directory_page_near)(
            txn, env->st, a->after, a->before, a->max, &keys);
    if (rc == 0) {
        *out = svc_merge_page_new(count);
        for (guint i = 0; i < keys->len; i++) {
            const char *key = g_ptr_array_index(keys, i);
            group_cfg *g = NULL;
            const char *name;
            if (groups_get(txn, env->st, key, &g) != 0)
                continue;
            name = *g->name ? g->name : g->localpart;
            svc_merge_page_add(*out, key, &name, 1);
            group_cfg_free(g);
        }
        g_ptr_array_unref(keys);
    }
    store_read_end(txn);
    if (rc != 0 && rc != MDB_NOTFOUND)
        log_error(LOG_SERVICE, "disco#items: cannot list the groups (%s)",
                  mdb_strerror(rc));
    return rc;
}

/* What row takes in the answer, escaped, with its markup. */
static gsize item_size(const service_env *env, const svc_merge_row *row)
{
    return stanza_escaped_len(row->key) + strlen(env->cfg->jid) + 1 +
           stanza_escaped_len(row->values[0] ? row->values[0] : "") +
           sizeof("<item jid=\"\" name=\"\"/>");
}

/* The disco#items answer of page (the merged one, or this shard's). The
 * answer fits [component] stanza_limit whatever the names hold: a page
 * that would not is cut to what fits (XEP-0059 §2.1: fewer items than max
 * is a page), at its end going forward, at its start going backward, so
 * that paging on from first or last loses nothing. */
static xmpp_stanza_t *items_query(xmpp_ctx_t *ctx, const service_env *env,
                                  const svc_merge_page *page, const rsm_req *r)
{
    xmpp_stanza_t *query = stanza_elem(ctx, "query", NS_DISCO_ITEMS);
    gsize budget = env->cfg->stanza_limit - BOUND_ENVELOPE_BYTES;
    guint kept = 0, from, len = page->rows->len;

    for (guint i = 0; i < len; i++) {
        guint at = r->before ? len - 1 - i : i;
        gsize n = item_size(env, g_ptr_array_index(page->rows, at));
        if (n > budget)
            break;
        budget -= n;
        kept++;
    }
    from = r->before ? len - kept : 0;
    for (guint i = from; i < from + kept; i++) {
        const svc_merge_row *row = g_ptr_array_index(page->rows, i);
        xmpp_stanza_t *item = stanza_elem(ctx, "item", NULL);
        char *jid = g_strconcat(row->key, "@", env->cfg->jid, NULL);
        xmpp_stanza_set_attribute(item, "jid", jid);
        xmpp_stanza_set_attribute(item, "name",
                                  row->values[0] ? row->values[0] : row->key);
        g_free(jid);
        stanza_add(query, item);
    }
    /* The <set/> when it was asked for, or when the list did not fit one
     * page (XEP-0059 §1: the responding entity may say on its own that a
     * result set is limited). */
    if (r->asked || page->count > kept) {
        const svc_merge_row *first =
            kept ? g_ptr_array_index(page->rows, from) : NULL;
        const svc_merge_row *last =
            kept ? g_ptr_array_index(page->rows, from + kept - 1) : NULL;
        stanza_add(query, rsm_answer(ctx, first ? first->key : NULL,
                                     last ? last->key : NULL, page->count));
    }
    return query;
}

/* XEP-0059 §2.5: "If the item specified by the requesting entity via the
 * UID in the <after/> or <before/> element does not exist, the responding
 * entity SHOULD return an error stanza with item-not-found". */
#define NOT_LISTED "no such group in the list"

/* A disco#items waiting for the other shards' pages. */
typedef struct items_wait {
    const service_env *env;
    iq_later *later;
    svc_merge_page *mine;
    rsm_req r;
} items_wait;

/* The other shards' pages merged with this one's and the one reply sent.
 * A shard that did not answer (or answered what cannot be read) is left
 * out: disco#items has no place to say so (XEP-0030 §4), so the groups
 * of the shards that answered are listed, their count summed, and the
 * gap logged; a client retrying later sees the whole list. */
static void items_merged(const bus_result *br, void *userdata)
{
    items_wait *w = userdata;
    const iq_req *q = iq_later_req(w->later);
    guint n = bus_shards(w->env->bus), mine = bus_shard(w->env->bus);
    svc_merge_page **pages = g_new0(svc_merge_page *, n), *merged;
    GArray *down = g_array_new(FALSE, FALSE, sizeof(guint));
    iq_res res = {0};
    enum xerr e = XERR_NONE;
    char *note;

    pages[mine] = w->mine;
    g_array_append_vals(down, br->down, br->n_down);
    for (guint i = 0; i < br->n_answers; i++) {
        const bus_answer *a = &br->answers[i];
        if (a->err == XERR_ITEM_NOT_FOUND)
            e = XERR_ITEM_NOT_FOUND; /* the cursor's owner: not listed */
        else if (a->err != XERR_NONE || !a->payload ||
                 svc_merge_page_read(a->payload, w->r.max, &pages[a->shard]) <
                     0)
            g_array_append_val(down, a->shard);
    }
    if ((note = svc_merge_note((guint *)down->data, down->len, n, "the list")))
        log_warning(LOG_SERVICE, "disco#items: %s", note);
    if (e == XERR_NONE) {
        merged = svc_merge_pages(pages, n, w->r.before != NULL, w->r.max, NULL);
        res.payload = items_query(q->ctx, w->env, merged, &w->r);
        svc_merge_page_free(merged);
    } else {
        iq_fail(&res, e, NOT_LISTED);
    }
    iq_later_answer(w->later, e, &res);
    for (guint i = 0; i < n; i++)
        svc_merge_page_free(pages[i]);
    g_free(pages);
    g_array_unref(down);
    g_free(note);
    rsm_req_clear(&w->r);
    g_free(w);
}

/* Whether this instance answers for the cursor (after, or before but the
 * last page) itself: it owns its group, or there are no other shards. */
static gboolean owns_cursor(const service_env *env, const rsm_req *r)
{
    const char *cursor = r->before ? r->before : r->after;

    return !env->bus || bus_shards(env->bus) < 2 || !cursor || !*cursor ||
           shard_of_parts(cursor, env->cfg->jid, bus_shards(env->bus)) ==
               bus_shard(env->bus);
}

/* XEP-0045 §6.2 with XEP-0059: the public groups, a page at a time, of
 * every shard (issue 14: the instance owning the service JID asks the
 * others over the bus and merges their pages by name, so after and before
 * page the whole list). A shard's page is read from its directory
 * (schema/directory.md), which holds only the public groups: a page costs
 * its own items, and hidden groups are never read, let alone listed. */
static enum xerr disco_items(const iq_req *q, iq_res *res)
{
    const service_env *env = q->data;
    svc_merge_page *page = NULL;
    const char *why = NULL;
    xmpp_stanza_t *ask;
    items_wait *w;
    rsm_req r;
    enum xerr e;
    int rc;

    if (xmpp_stanza_get_attribute(q->child, "node"))
        return XERR_ITEM_NOT_FOUND;
    if ((e = rsm_read(q, &r, &why)) != XERR_NONE) {
        rsm_req_clear(&r);
        return iq_fail(res, e, why);
    }
    rc = local_page(env, &(svc_merge_ask){"public", r.after, r.before, r.max},
                    owns_cursor(env, &r), &page);
    if (rc != 0) {
        rsm_req_clear(&r);
        if (rc == MDB_NOTFOUND || rc == -EINVAL)
            return iq_fail(res, XERR_ITEM_NOT_FOUND, NOT_LISTED);
        return XERR_INTERNAL_SERVER_ERROR;
    }
    if (!env->bus || bus_shards(env->bus) < 2) {
        res->payload = items_query(q->ctx, env, page, &r);
        svc_merge_page_free(page);
        rsm_req_clear(&r);
        return XERR_NONE;
    }
    w = g_new0(items_wait, 1);
    *w = (items_wait){env, NULL, page, r};
    ask = svc_merge_ask_elem(
        q->ctx, &(svc_merge_ask){"public", r.after, r.before, r.max});
    w->later = iq_defer(q, res);
    rc = bus_ask_all(env->bus, "get", ask, 0, items_merged, w);
    xmpp_stanza_release(ask);
    if (rc < 0) {
        /* too many asks in flight: this shard's page alone, not a wait */
        bus_result none = {NULL, 0, NULL, 0};
        log_warning(LOG_SERVICE, "disco#items: the bus refused (%d)", rc);
        items_merged(&none, w);
    }
    return XERR_NONE;
}

/* The bus side: another shard's page request, answered from this shard's
 * directory. The cursor's owner says whether it is listed. */
static enum xerr serve_page(const iq_req *q, iq_res *res)
{
    const service_env *env = q->data;
    svc_merge_page *page = NULL;
    svc_merge_ask a;
    int rc;

    if (svc_merge_ask_read(q->child, SERVICE_PAGE_MAX, &a) < 0 ||
        strcmp(a.list, "public"))
        return iq_fail(res, XERR_BAD_REQUEST, "not a page request");
    rc = local_page(
        env, &a, owns_cursor(env, &(rsm_req){a.max, a.after, a.before, FALSE}),
        &page);
    svc_merge_ask_clear(&a);
    if (rc == MDB_NOTFOUND || rc == -EINVAL)
        return iq_fail(res, XERR_ITEM_NOT_FOUND, NOT_LISTED);
    if (rc != 0)
        return XERR_INTERNAL_SERVER_ERROR;
    res->payload = svc_merge_page_elem(q->ctx, page);
    svc_merge_page_free(page);
    return XERR_NONE;
}

static const iq_route bus_routes[] = {
    {"get", "page", SVC_MERGE_NS, serve_page},
};

static enum xerr serve_bus(const iq_req *q, iq_res *res)
{
    return iq_dispatch(bus_routes, G_N_ELEMENTS(bus_routes), q, res);
}

int service_serve_bus(service_env *env)
{
    return env->bus ? bus_serve(env->bus, SVC_MERGE_NS, serve_bus, env) : 0;
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
