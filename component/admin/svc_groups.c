/* svc_groups: list, create, configure and destroy any group, for the
 * service admins. */
#include "svc_groups.h"

#include <errno.h>
#include <string.h>

#include "bridge.h"
#include "clock.h"
#include "form.h"
#include "log.h"
#include "members.h"
#include "outbox.h"
#include "shard.h"
#include "stanza.h"
#include "svc_merge.h"

#define NS_MUC_OWNER "http://jabber.org/protocol/muc#owner"

/* Messages looked at to count a group's last 24 hours: past it the figure
 * reads "10000+" (a listing's page stays bounded work). */
#define DAY_COUNT_MAX 10000

/* ---- the listing ---- */

static const char *const list_vars[] = {
    "group", "name", "listed", "occupants", "members", "messages_24h", "outbox",
};
static const char *const list_labels[] = {
    "Group",
    "Name",
    "Listed",
    "Occupants now",
    "Members per network",
    "Messages in the last 24 hours",
    "Waiting for legacy members",
};

typedef struct day_args {
    gint64 cutoff_us;
    guint n;
} day_args;

static int count_day(const archive_msg *m, void *ud)
{
    day_args *d = ud;

    if (m->time_us < d->cutoff_us)
        return 1;
    d->n++;
    return 0;
}

typedef struct network_args {
    registry *reg;
    const char *component;
    GHashTable *counts; /* protocol -> guint (GUINT_TO_POINTER) */
} network_args;

static void count_in(GHashTable *counts, const char *key)
{
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(counts, key));

    g_hash_table_replace(counts, g_strdup(key), GUINT_TO_POINTER(n + 1));
}

static int count_member(const member_rec *m, void *ud)
{
    network_args *na = ud;
    registry_account *ra = registry_get(na->reg, m->account);

    count_in(na->counts, ra ? ra->rec->protocol : "?");
    return 0;
}

static int count_affiliated(const char *bare, enum affiliation a,
                            const char *reason, void *ud)
{
    network_args *na = ud;

    /* a legacy member's made-up JID is counted by its network below */
    if ((a == AFF_MEMBER || a == AFF_ADMIN || a == AFF_OWNER) &&
        !bridge_is_legacy_jid(na->component, bare))
        count_in(na->counts, "xmpp");
    return 0;
}

static int compare_keys(gconstpointer a, gconstpointer b, gpointer unused)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "xmpp 3, prpl-irc 2": the group's members (affiliated JIDs, legacy
 * members by their account's protocol), networks in name order. */
static char *members_per_network(adhoc *ad, MDB_txn *txn, const char *group)
{
    network_args na = {
        ad->reg, ad->cfg->jid,
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};
    GString *out = g_string_new(NULL);
    guint n = 0;
    gpointer *keys;

    affiliations_foreach(txn, ad->st, group, count_affiliated, &na);
    members_foreach_group(txn, ad->st, group, count_member, &na);
    keys = g_hash_table_get_keys_as_array(na.counts, &n);
    g_qsort_with_data(keys, n, sizeof(*keys), compare_keys, NULL);
    for (guint i = 0; i < n; i++)
        g_string_append_printf(
            out, "%s%s %u", i ? ", " : "", (char *)keys[i],
            GPOINTER_TO_UINT(g_hash_table_lookup(na.counts, keys[i])));
    g_free(keys);
    g_hash_table_unref(na.counts);
    return g_string_free(out, FALSE);
}

typedef struct lag_args {
    MDB_txn *txn;
    const store *st;
    const char *group; /* NULL: every group */
    GHashTable *heads; /* group -> guint64 * its archive head */
    guint64 n;
} lag_args;

static int add_lag(const char *account, char kind, const char *target,
                   const outbox_cursor *c, void *ud)
{
    lag_args *l = ud;
    guint64 *head;

    if (l->group && strcmp(c->group, l->group))
        return 0;
    if (!(head = g_hash_table_lookup(l->heads, c->group))) {
        head = g_new0(guint64, 1);
        archive_head(l->txn, l->st, c->group, head);
        g_hash_table_insert(l->heads, g_strdup(c->group), head);
    }
    if (*head > c->seq)
        l->n += *head - c->seq;
    return 0;
}

static void lag_of(registry_account *ra, void *ud)
{
    lag_args *l = ud;

    if (!l->group || !g_strcmp0(ra->rec->group, l->group))
        outbox_cursor_foreach(l->txn, l->st, ra->rec->name, add_lag, l);
}

guint64 svc_groups_lag(adhoc *ad, MDB_txn *txn, const char *group)
{
    lag_args l = {
        txn, ad->st, group,
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free), 0};

    registry_foreach(ad->reg, lag_of, &l);
    g_hash_table_unref(l.heads);
    return l.n;
}

static int add_pending(const char *account, char kind, const char *target,
                       guint64 pending, void *ud)
{
    *(guint64 *)ud += pending;
    return 0;
}

typedef struct pending_args {
    MDB_txn *txn;
    const store *st;
    const char *group;
    guint64 n;
} pending_args;

static void pending_of(registry_account *ra, void *ud)
{
    pending_args *p = ud;

    if (!g_strcmp0(ra->rec->group, p->group))
        outbox_foreach_pending_target(p->txn, p->st, ra->rec->name, add_pending,
                                      &p->n);
}

/* What waits for the group's legacy targets: the notices queued for its
 * accounts and the room messages past each cursor (svc_groups_lag). */
static guint64 outbox_depth(adhoc *ad, MDB_txn *txn, const char *group)
{
    pending_args p = {txn, ad->st, group, 0};

    registry_foreach(ad->reg, pending_of, &p);
    return p.n + svc_groups_lag(ad, txn, group);
}

/* The texts of a row's columns: values[i] for list_vars[i], borrowed from g
 * and t until either goes. */
typedef struct row_texts {
    char occ[48], day[24], depth[24];
    char *members; /* owned (g_free) */
} row_texts;

static void row_values(adhoc *ad, MDB_txn *txn, const group_cfg *g,
                       gint64 now_real, row_texts *t, const char **values)
{
    day_args day = {now_real - (gint64)24 * 3600 * G_USEC_PER_SEC, 0};
    guint legacy = 0,
          occupants = muc_group_occupants(ad->muc, g->localpart, &legacy);

    t->members = members_per_network(ad, txn, g->localpart);
    archive_foreach_back(txn, ad->st, g->localpart, DAY_COUNT_MAX, count_day,
                         &day);
    g_snprintf(t->occ, sizeof(t->occ), "%u (%u legacy)", occupants, legacy);
    g_snprintf(t->day, sizeof(t->day), "%u%s", day.n,
               day.n >= DAY_COUNT_MAX ? "+" : "");
    g_snprintf(t->depth, sizeof(t->depth), "%" G_GUINT64_FORMAT,
               outbox_depth(ad, txn, g->localpart));
    values[0] = g->localpart;
    values[1] = g->name;
    values[2] = g->is_public ? "public" : "hidden";
    values[3] = t->occ;
    values[4] = t->members;
    values[5] = t->day;
    values[6] = t->depth;
}

static gsize list_row(request *rq, xmpp_stanza_t *x, MDB_txn *txn,
                      const group_cfg *g, gint64 now_real)
{
    const char *values[G_N_ELEMENTS(list_vars)];
    row_texts t;
    gsize size;

    row_values(rq->ad, txn, g, now_real, &t, values);
    size = adhoc_row(rq->ctx, x, list_vars, values, G_N_ELEMENTS(list_vars));
    g_free(t.members);
    return size;
}

/* groups: every group, hidden ones too, a page (adhoc_page_full) in name
 * order; "next" shows the next page (the session keeps the last name
 * shown). */
/* This shard's rows of the listing after `after` (NULL: from the first):
 * a page as adhoc_page_full bounds one, with the count of its groups and
 * whether more follow. Returns 0 with *out (caller owns), or negative. */
static int local_rows(adhoc *ad, const char *after, svc_merge_page **out)
{
    MDB_txn *txn = NULL;
    GError *err = NULL;
    GPtrArray *all = NULL;
    gint64 now_real = clock_real();
    gsize used = 0;
    guint i = 0;

    *out = NULL;
    if (store_read_begin(ad->st, &txn, &err) < 0) {
        log_error(LOG_STORE, "%s", err->message);
        g_error_free(err);
        return -EIO;
    }
    if (groups_list_all(txn, ad->st, &all) != 0) {
        store_read_end(txn);
        return -EIO;
    }
    *out = svc_merge_page_new(all->len);
    while (after && i < all->len &&
           strcmp(((group_cfg *)g_ptr_array_index(all, i))->localpart, after) <=
               0)
        i++;
    for (; i < all->len && !adhoc_page_full(ad, (*out)->rows->len, used); i++) {
        const char *values[G_N_ELEMENTS(list_vars)];
        row_texts t;
        row_values(ad, txn, g_ptr_array_index(all, i), now_real, &t, values);
        for (gsize v = 0; v < G_N_ELEMENTS(values); v++)
            used += stanza_escaped_len(values[v]) + sizeof("<v></v>");
        svc_merge_page_add(*out, values[0], values + 1,
                           G_N_ELEMENTS(values) - 1);
        g_free(t.members);
    }
    (*out)->more = i < all->len;
    store_read_end(txn);
    g_ptr_array_unref(all);
    return 0;
}

/* A listing waiting for the other shards' rows. */
typedef struct list_wait {
    adhoc *ad;
    adhoc_later *later;
    char *sid;
    svc_merge_page *mine;
} list_wait;

/* Every shard's rows after the session's cursor merged by name: a page,
 * the cursor moved to its last row; a shard that did not answer named in
 * the note (its groups are missing from the page). */
static void list_merged(const bus_result *br, void *userdata)
{
    list_wait *w = userdata;
    adhoc *ad = w->ad;
    guint n = bus_shards(ad->bus);
    svc_merge_page **pages = g_new0(svc_merge_page *, n), *m;
    GArray *down = g_array_new(FALSE, FALSE, sizeof(guint));
    session *s = g_hash_table_lookup(ad->sessions, w->sid);
    xmpp_ctx_t *ctx = adhoc_later_ctx(w->later);
    request rq = {.ad = ad, .ctx = ctx, .s = s};
    response rp = {0};
    gboolean more = FALSE;
    guint shown = 0;
    gsize used = 0;
    xmpp_stanza_t *x;
    char *partial, *note;

    pages[bus_shard(ad->bus)] = w->mine;
    g_array_append_vals(down, br->down, br->n_down);
    for (guint i = 0; i < br->n_answers; i++) {
        const bus_answer *a = &br->answers[i];
        if (a->err != XERR_NONE || !a->payload ||
            svc_merge_page_read(a->payload, ADHOC_PAGE_ROWS, &pages[a->shard]) <
                0)
            g_array_append_val(down, a->shard);
    }
    m = svc_merge_pages(pages, n, FALSE, ADHOC_PAGE_ROWS, &more);
    x = adhoc_table(ctx, "Groups", list_vars, list_labels,
                    G_N_ELEMENTS(list_vars));
    for (; shown < m->rows->len && !adhoc_page_full(ad, shown, used); shown++) {
        const svc_merge_row *r = g_ptr_array_index(m->rows, shown);
        const char *values[G_N_ELEMENTS(list_vars)] = {r->key};
        for (gsize v = 1; v < G_N_ELEMENTS(values); v++)
            values[v] = r->values[v - 1] ? r->values[v - 1] : "";
        used += adhoc_row(ctx, x, list_vars, values, G_N_ELEMENTS(values));
        if (s) {
            g_free(s->cursor);
            s->cursor = g_strdup(r->key);
        }
    }
    more = more || shown < m->rows->len;
    partial = svc_merge_note((guint *)down->data, down->len, n, "the list");
    note = g_strdup_printf(
        "%s%s%u group%s in all%s", partial ? partial : "", partial ? " " : "",
        m->count, m->count == 1 ? "" : "s", more ? "; next for more." : ".");
    if (more && s) {
        adhoc_page(&rq, &rp, x, note);
        if (partial)
            rp.note_type = "warn";
    } else {
        rp.x = x;
        adhoc_finish(&rp, partial ? "warn" : "info", note);
    }
    adhoc_resume(w->later, &rp);
    svc_merge_page_free(m);
    for (guint i = 0; i < n; i++)
        svc_merge_page_free(pages[i]);
    g_free(pages);
    g_array_unref(down);
    g_free(partial);
    g_free(w->sid);
    g_free(w);
}

/* groups with other shards (issue 14): this shard's rows and theirs. */
static enum xerr list_all_shards(request *rq)
{
    list_wait *w = g_new0(list_wait, 1);
    svc_merge_ask a = {"all", rq->s->cursor, NULL, ADHOC_PAGE_ROWS};
    xmpp_stanza_t *ask;

    if (local_rows(rq->ad, rq->s->cursor, &w->mine) < 0) {
        g_free(w);
        return XERR_INTERNAL_SERVER_ERROR;
    }
    w->ad = rq->ad;
    w->sid = g_strdup(rq->s->id);
    w->later = adhoc_defer(rq);
    ask = svc_merge_ask_elem(rq->ctx, &a);
    if (bus_ask_all(rq->ad->bus, "get", ask, 0, list_merged, w) < 0) {
        bus_result none = {NULL, 0, NULL, 0};
        list_merged(&none, w);
    }
    xmpp_stanza_release(ask);
    return XERR_NONE;
}

enum xerr svc_groups_serve_page(const iq_req *q, iq_res *res)
{
    svc_merge_ask a;
    svc_merge_page *p = NULL;

    if (svc_merge_ask_read(q->child, ADHOC_PAGE_ROWS, &a) < 0 ||
        strcmp(a.list, "all") || a.before) {
        svc_merge_ask_clear(&a);
        return iq_fail(res, XERR_BAD_REQUEST, "not a listing request");
    }
    if (local_rows(q->data, a.after, &p) < 0) {
        svc_merge_ask_clear(&a);
        return XERR_INTERNAL_SERVER_ERROR;
    }
    svc_merge_ask_clear(&a);
    res->payload = svc_merge_page_elem(q->ctx, p);
    svc_merge_page_free(p);
    return XERR_NONE;
}

enum xerr svc_groups_list(request *rq, response *rp)
{
    adhoc *ad = rq->ad;
    MDB_txn *txn = NULL;
    GError *err = NULL;
    GPtrArray *all = NULL;
    xmpp_stanza_t *x;
    guint first = 0, shown = 0;
    gsize used = 0;
    gint64 now_real = clock_real();

    if (rq->s->stage == 0)
        g_clear_pointer(&rq->s->cursor, g_free);
    if (ad->bus && bus_shards(ad->bus) > 1)
        return list_all_shards(rq);
    if (store_read_begin(ad->st, &txn, &err) < 0) {
        log_error(LOG_STORE, "%s", err->message);
        g_error_free(err);
        return XERR_INTERNAL_SERVER_ERROR;
    }
    if (groups_list_all(txn, ad->st, &all) != 0) {
        store_read_end(txn);
        return XERR_INTERNAL_SERVER_ERROR;
    }
    while (rq->s->cursor && first < all->len &&
           strcmp(((group_cfg *)g_ptr_array_index(all, first))->localpart,
                  rq->s->cursor) <= 0)
        first++;
    x = adhoc_table(rq->ctx, "Groups", list_vars, list_labels,
                    G_N_ELEMENTS(list_vars));
    for (guint i = first; i < all->len && !adhoc_page_full(rq->ad, shown, used);
         i++) {
        const group_cfg *g = g_ptr_array_index(all, i);
        used += list_row(rq, x, txn, g, now_real);
        g_free(rq->s->cursor);
        rq->s->cursor = g_strdup(g->localpart);
        shown++;
    }
    store_read_end(txn);
    if (first + shown < all->len)
        adhoc_page(rq, rp, x,
                   g_strdup_printf("Groups %u to %u of %u; next for more.",
                                   first + 1, first + shown, all->len));
    else {
        rp->x = x;
        adhoc_finish(
            rp, "info",
            g_strdup_printf("%u group%s.", all->len, all->len == 1 ? "" : "s"));
    }
    g_ptr_array_unref(all);
    return XERR_NONE;
}

/* ---- create ---- */

static xmpp_stanza_t *create_form(request *rq)
{
    xmpp_stanza_t *x =
        form_new(rq->ctx, "form", "Create a group",
                 "The group's name (its JID's localpart) and its first "
                 "owner (you, if empty).");

    form_field(rq->ctx, x, "group", "text-single", "Group name", NULL, TRUE);
    form_field(rq->ctx, x, "owner", "jid-single", "Owner", NULL, FALSE);
    return x;
}

/* ---- another shard's group (issue 14) ---- */

/* The shard that owns group, or -1 when this one does (or it is alone). */
static int other_owner(adhoc *ad, const char *group)
{
    guint n = ad->bus ? bus_shards(ad->bus) : 1, k;

    if (n < 2)
        return -1;
    k = shard_of_parts(group, ad->cfg->jid, n);
    return k == bus_shard(ad->bus) ? -1 : (int)k;
}

/* A group command waiting for the shard that owns the group. */
typedef struct group_wait {
    adhoc_later *later;
    char *what; /* "Group x@y created" and the like, said on success */
} group_wait;

/* The owner's answer: its <done/> text, or its error; no answer in time
 * is said as such (ejabberd drops what reaches a shard that is down, so
 * nothing was done there unless the answer alone was lost). */
static void group_done(const bus_result *br, void *userdata)
{
    group_wait *w = userdata;
    response rp = {0};

    if (br->n_down)
        adhoc_finish(&rp, "error",
                     g_strdup_printf("Shard %u, which serves the group, did "
                                     "not answer: try again.",
                                     br->down[0]));
    else if (br->n_answers && br->answers[0].err == XERR_NONE)
        adhoc_finish(&rp, "info", g_strdup_printf("%s.", w->what));
    else
        adhoc_finish(&rp, "error",
                     g_strdup_printf("Not done by shard %u: %s.",
                                     br->n_answers ? br->answers[0].shard : 0,
                                     br->n_answers && br->answers[0].text
                                         ? br->answers[0].text
                                         : "refused"));
    adhoc_resume(w->later, &rp);
    g_free(w->what);
    g_free(w);
}

/* Asks shard k to run op on group (el, taken); the stage is answered when
 * it has (group_done). what: the success's text (taken). */
static void forward(request *rq, response *rp, int k, xmpp_stanza_t *el,
                    char *what)
{
    group_wait *w = g_new0(group_wait, 1);

    w->what = what;
    w->later = adhoc_defer(rq);
    xmpp_stanza_set_attribute(el, "by", rq->q->from);
    if (bus_ask(rq->ad->bus, (guint)k, "set", el, 0, group_done, w) < 0) {
        bus_result busy = {NULL, 0, (guint[]){(guint)k}, 1};
        group_done(&busy, w);
    }
    xmpp_stanza_release(el);
    (void)rp;
}

static xmpp_stanza_t *group_op(request *rq, const char *op, const char *group)
{
    xmpp_stanza_t *el = stanza_elem(rq->ctx, "group", SVC_MERGE_NS_ADMIN);

    xmpp_stanza_set_attribute(el, "op", op);
    xmpp_stanza_set_attribute(el, "name", group);
    return el;
}

enum xerr svc_groups_create(request *rq, response *rp)
{
    char *name = NULL, *owner_in = NULL, *owner = NULL, *folded = NULL;
    const char *why = NULL;
    enum xerr e;
    int k;

    if (rq->s->stage == 0) {
        adhoc_wait(rq, rp, create_form(rq), "complete");
        return XERR_NONE;
    }
    if (form_text_max(rq->form, "group", FALSE, ADHOC_FIELD_MAX, &name) < 0 ||
        !name || !*name || !(folded = jid_node_fold(name))) {
        adhoc_again(rq, rp, create_form(rq),
                    g_strdup("group: a name is required"));
        goto leave;
    }
    if (form_text_max(rq->form, "owner", FALSE, ADHOC_FIELD_MAX, &owner_in) <
        0) {
        adhoc_again(rq, rp, create_form(rq),
                    g_strdup("owner: at most 1024 bytes of UTF-8"));
        goto leave;
    }
    owner =
        owner_in && *owner_in ? jid_bare_fold(owner_in) : g_strdup(rq->bare);
    if (!owner) {
        adhoc_again(rq, rp, create_form(rq),
                    g_strdup("owner: not a valid JID"));
        goto leave;
    }
    if ((k = other_owner(rq->ad, folded)) >= 0) {
        /* issue 14: made by the shard that owns its JID, never here */
        xmpp_stanza_t *el = group_op(rq, "create", folded);
        xmpp_stanza_set_attribute(el, "owner", owner);
        forward(rq, rp, k, el,
                g_strdup_printf("Group %s@%s created on shard %d, owned by %s",
                                folded, rq->ad->cfg->jid, k, owner));
        goto leave;
    }
    e = muc_group_new(rq->ad->muc, folded, owner, &why);
    if (e == XERR_INTERNAL_SERVER_ERROR)
        adhoc_finish(rp, "error", g_strdup_printf("Not created: %s.", why));
    else if (e != XERR_NONE)
        adhoc_again(rq, rp, create_form(rq), g_strdup_printf("group: %s", why));
    else {
        log_info(LOG_SERVICE, "%s created group %s", rq->bare, folded);
        adhoc_finish(rp, "info",
                     g_strdup_printf("Group %s@%s created, owned by %s.",
                                     folded, rq->ad->cfg->jid, owner));
    }
leave:
    g_free(name);
    g_free(folded);
    g_free(owner_in);
    g_free(owner);
    return XERR_NONE;
}

/* ---- through the owner's protocol ---- */

enum xerr svc_groups_owner_iq(request *rq, const char *group, const char *type,
                              xmpp_stanza_t *query, xmpp_stanza_t **payload,
                              char **text)
{
    xmpp_ctx_t *ctx = rq->ctx;
    xmpp_stanza_t *iq = xmpp_iq_new(ctx, type, "adhoc");
    char *to = g_strconcat(group, "@", rq->ad->cfg->jid, NULL);
    jid j = {(char *)group, rq->ad->cfg->jid, NULL};
    iq_req sub;
    iq_res res = {0};
    enum xerr e;

    *payload = NULL;
    *text = NULL;
    xmpp_stanza_set_from(iq, rq->q->from);
    xmpp_stanza_set_to(iq, to);
    stanza_add(iq, query);
    sub =
        (iq_req){ctx, rq->q->up, iq, query, type, rq->q->from, &j, rq->ad->muc};
    e = muc_iq(&sub, &res);
    if (e == XERR_NONE) {
        *payload = res.payload;
        res.payload = NULL;
        /* what muc_owner.c sends once its requester has the result (the
         * 104 to the occupants) follows the command's result */
        if (res.after && !rq->after) {
            rq->after = res.after;
            rq->after_data = res.after_data;
        } else if (res.after) {
            res.after(res.after_data);
        }
        res.after = NULL;
    } else {
        *text = res.text;
        res.text = NULL;
        if (res.after)
            res.after(res.after_data);
        res.after = NULL;
    }
    iq_res_clear(&res);
    xmpp_stanza_release(iq);
    g_free(to);
    return e;
}

/* ---- configure ---- */

static xmpp_stanza_t *pick_group_form(request *rq, const char *title,
                                      gboolean with_reason)
{
    xmpp_stanza_t *x =
        form_new(rq->ctx, "form", title, "The group's name or its JID.");

    form_field(rq->ctx, x, "group", "text-single", "Group", NULL, TRUE);
    if (with_reason)
        form_field(rq->ctx, x, "reason", "text-single",
                   "Reason (shown to the occupants)", NULL, FALSE);
    return x;
}

/* The room's configuration form as muc#owner gives it, or NULL with *why. */
static xmpp_stanza_t *room_form(request *rq, const char *group, char **why)
{
    xmpp_stanza_t *payload = NULL, *x = NULL;
    char *text = NULL;
    enum xerr e = svc_groups_owner_iq(
        rq, group, "get", stanza_elem(rq->ctx, "query", NS_MUC_OWNER), &payload,
        &text);

    if (e == XERR_NONE && payload && (x = form_of(payload)))
        x = xmpp_stanza_copy(x);
    else
        *why = g_strdup_printf("The group's form cannot be read%s%s.",
                               text ? ": " : "", text ? text : "");
    if (payload)
        xmpp_stanza_release(payload);
    g_free(text);
    return x;
}

/* group-configure: the group (stage 1), its muc#owner form (stage 2),
 * stored through muc_owner.c as if its owner had submitted it. */
enum xerr svc_groups_configure(request *rq, response *rp)
{
    char *why = NULL, *group, *text = NULL;
    xmpp_stanza_t *x, *query, *payload = NULL;
    enum xerr e;

    if (rq->s->stage == 0) {
        adhoc_wait(rq, rp, pick_group_form(rq, "Configure a group", FALSE),
                   "next");
        return XERR_NONE;
    }
    if (rq->s->stage == 1) {
        if (!(group = adhoc_group_field(rq, "group", &why))) {
            adhoc_again(rq, rp, pick_group_form(rq, "Configure a group", FALSE),
                        why);
            return XERR_NONE;
        }
        if (other_owner(rq->ad, group) >= 0)
            /* its form is the other shard's; the admins own every group
             * (muc.c), so its own muc#owner form is theirs to submit */
            adhoc_finish(
                rp, "error",
                g_strdup_printf("Group %s is served by shard %d: configure it "
                                "at %s@%s (its room configuration), where the "
                                "service admins are owners.",
                                group, other_owner(rq->ad, group), group,
                                rq->ad->cfg->jid));
        else if (!(x = room_form(rq, group, &why)))
            adhoc_finish(rp, "error", why);
        else {
            g_free(rq->s->target);
            rq->s->target = group;
            group = NULL;
            adhoc_wait(rq, rp, x, "complete");
        }
        g_free(group);
        return XERR_NONE;
    }
    if (!rq->form) {
        adhoc_finish(rp, "error", g_strdup("No form was submitted."));
        return XERR_NONE;
    }
    query = stanza_elem(rq->ctx, "query", NS_MUC_OWNER);
    x = xmpp_stanza_copy(rq->form);
    /* XEP-0050 §3.5.1: any submitted form is a submit. */
    xmpp_stanza_set_type(x, "submit");
    stanza_add(query, x);
    e = svc_groups_owner_iq(rq, rq->s->target, "set", query, &payload, &text);
    if (payload)
        xmpp_stanza_release(payload);
    if (e == XERR_NONE) {
        log_info(LOG_SERVICE, "%s configured group %s", rq->bare,
                 rq->s->target);
        adhoc_finish(rp, "info",
                     g_strdup_printf("Group %s configured.", rq->s->target));
    } else if ((x = room_form(rq, rq->s->target, &why))) {
        /* the form again, as it is stored, with what was refused */
        adhoc_again(rq, rp, x,
                    g_strdup(text ? text : "The configuration was refused."));
    } else {
        adhoc_finish(rp, "error", why);
    }
    g_free(text);
    return XERR_NONE;
}

/* ---- destroy ---- */

/* group-destroy: the group and a reason; XEP-0045 §10.9 through
 * muc_owner.c (every occupant told, the store's records gone). */
enum xerr svc_groups_destroy(request *rq, response *rp)
{
    char *why = NULL, *group, *reason = NULL, *text = NULL;
    xmpp_stanza_t *query, *d, *payload = NULL;
    const char *title = "Destroy a group";
    enum xerr e;
    int k;

    if (rq->s->stage == 0) {
        adhoc_wait(rq, rp, pick_group_form(rq, title, TRUE), "complete");
        return XERR_NONE;
    }
    if (!(group = adhoc_group_field(rq, "group", &why))) {
        adhoc_again(rq, rp, pick_group_form(rq, title, TRUE), why);
        return XERR_NONE;
    }
    if (form_text_max(rq->form, "reason", FALSE, ADHOC_FIELD_MAX, &reason) <
        0) {
        adhoc_again(rq, rp, pick_group_form(rq, title, TRUE),
                    g_strdup("reason: at most 1024 bytes of UTF-8"));
        g_free(group);
        return XERR_NONE;
    }
    if ((k = other_owner(rq->ad, group)) >= 0) {
        xmpp_stanza_t *el = group_op(rq, "destroy", group);
        if (reason && *reason)
            xmpp_stanza_set_attribute(el, "reason", reason);
        forward(rq, rp, k, el,
                g_strdup_printf("Group %s destroyed (shard %d)", group, k));
        g_free(reason);
        g_free(group);
        return XERR_NONE;
    }
    query = stanza_elem(rq->ctx, "query", NS_MUC_OWNER);
    d = stanza_elem(rq->ctx, "destroy", NULL);
    if (reason && *reason)
        stanza_add_text(rq->ctx, d, "reason", reason);
    stanza_add(query, d);
    e = svc_groups_owner_iq(rq, group, "set", query, &payload, &text);
    if (payload)
        xmpp_stanza_release(payload);
    if (e == XERR_NONE) {
        log_info(LOG_SERVICE, "%s destroyed group %s", rq->bare, group);
        adhoc_finish(rp, "info", g_strdup_printf("Group %s destroyed.", group));
    } else {
        adhoc_finish(rp, "error",
                     g_strdup_printf("Group %s not destroyed%s%s.", group,
                                     text ? ": " : "", text ? text : ""));
    }
    g_free(text);
    g_free(reason);
    g_free(group);
    return XERR_NONE;
}

/* ---- the bus side: a group command another shard forwarded ---- */

static enum xerr serve_create(request *rq, xmpp_stanza_t *el, const char *group,
                              iq_res *res)
{
    const char *owner = xmpp_stanza_get_attribute(el, "owner");
    const char *why = NULL;
    char *folded = owner ? jid_bare_fold(owner) : NULL;
    enum xerr e;

    if (!folded || strlen(owner) > ADHOC_FIELD_MAX)
        e = iq_fail(res, XERR_BAD_REQUEST, "owner: not a valid JID");
    else if ((e = muc_group_new(rq->ad->muc, group, folded, &why)) != XERR_NONE)
        iq_fail(res, e, why);
    g_free(folded);
    return e;
}

static enum xerr serve_destroy(request *rq, xmpp_stanza_t *el,
                               const char *group, iq_res *res)
{
    const char *reason = xmpp_stanza_get_attribute(el, "reason");
    xmpp_stanza_t *query = stanza_elem(rq->ctx, "query", NS_MUC_OWNER);
    xmpp_stanza_t *d = stanza_elem(rq->ctx, "destroy", NULL), *payload = NULL;
    char *text = NULL;
    enum xerr e;

    if (reason && strlen(reason) <= ADHOC_FIELD_MAX && *reason)
        stanza_add_text(rq->ctx, d, "reason", reason);
    stanza_add(query, d);
    e = svc_groups_owner_iq(rq, group, "set", query, &payload, &text);
    if (payload)
        xmpp_stanza_release(payload);
    if (e != XERR_NONE)
        iq_fail(res, e, text);
    g_free(text);
    return e;
}

static const struct {
    const char *op;
    enum xerr (*fn)(request *rq, xmpp_stanza_t *el, const char *group,
                    iq_res *res);
} group_ops[] = {
    {"create", serve_create},
    {"destroy", serve_destroy},
};

enum xerr svc_groups_serve(const iq_req *q, iq_res *res)
{
    adhoc *ad = q->data;
    const char *op = xmpp_stanza_get_attribute(q->child, "op");
    const char *name = xmpp_stanza_get_attribute(q->child, "name");
    const char *by = xmpp_stanza_get_attribute(q->child, "by");
    char *group =
        name && strlen(name) <= ADHOC_FIELD_MAX ? jid_node_fold(name) : NULL;
    char *bare = by && strlen(by) <= 3071 ? jid_bare_fold(by) : NULL;
    enum xerr e = XERR_BAD_REQUEST;
    iq_req sub = *q;
    request rq;

    if (!group || !bare || !op || !ad->up || other_owner(ad, group) >= 0) {
        e = iq_fail(res, XERR_BAD_REQUEST, "not a group command for here");
        goto leave;
    }
    /* what a room sees: the admin who ran the command, on the main link */
    sub.from = by;
    sub.up = ad->up;
    rq = (request){.ad = ad, .ctx = q->ctx, .q = &sub, .bare = bare};
    e = iq_fail(res, XERR_BAD_REQUEST, "no such group command");
    for (gsize i = 0; i < G_N_ELEMENTS(group_ops); i++)
        if (!strcmp(group_ops[i].op, op)) {
            g_clear_pointer(&res->text, g_free);
            e = group_ops[i].fn(&rq, q->child, group, res);
            if (e == XERR_NONE)
                log_info(LOG_SERVICE,
                         "%s: %s group %s (asked by another "
                         "shard)",
                         rq.bare, op, group);
        }
    if (rq.after)
        rq.after(rq.after_data);
leave:
    g_free(group);
    g_free(bare);
    return e;
}
