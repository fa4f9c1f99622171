/* svc_accounts: the admins' accounts table for every shard — this shard's
 * rows, the other shards' over the bus, merged by name (svc_accounts.h). */
#include "svc_accounts.h"

#include <string.h>

#include "form.h"
#include "log.h"
#include "stanza.h"
#include "svc_merge.h"

/* The columns of the table, in order (XEP-0004 §3.4 <reported/>); var is
 * also the attribute of a bus row. */
static const struct {
    const char *var, *label;
} columns[] = {
    {"name", "Name"},   {"protocol", "Protocol"}, {"username", "Username"},
    {"group", "Group"}, {"mode", "Mode"},         {"state", "State"},
    {"last_error", "Last error"},
};
#define N_COLUMNS G_N_ELEMENTS(columns)

static int name_cmp(gconstpointer a, gconstpointer b, gpointer unused)
{
    return strcmp(a, b);
}

/* name -> char ** (N_COLUMNS values, owned; g_strfreev) */
static GTree *rows_new(void)
{
    return g_tree_new_full(name_cmp, NULL, g_free, (GDestroyNotify)g_strfreev);
}

/* A row of ra; ra's state as the admins read it. Owned. */
static char **row_of(const registry_account *ra)
{
    char **v = g_new0(char *, N_COLUMNS + 1);

    v[0] = g_strdup(ra->rec->name);
    v[1] = g_strdup(ra->rec->protocol);
    v[2] = g_strdup(ra->rec->username);
    v[3] = g_strdup(ra->rec->group);
    v[4] = g_strdup(ra->rec->mode);
    v[5] = registry_state_text(ra);
    v[6] = g_strdup(ra->last_error ? ra->last_error : "");
    return v;
}

typedef struct rows_args {
    GTree *rows;
    gboolean elsewhere; /* TRUE: only those; FALSE: only this shard's */
} rows_args;

static void add_row(registry_account *ra, void *ud)
{
    rows_args *a = ud;

    if ((ra->state == REGISTRY_ELSEWHERE) != a->elsewhere ||
        g_tree_lookup(a->rows, ra->rec->name))
        return;
    g_tree_insert(a->rows, g_strdup(ra->rec->name), row_of(ra));
}

/* One shard's <account/> rows into rows (a name already there is kept:
 * every account runs on one shard). Hostile input: at most
 * SVC_ACCOUNTS_MAX rows, each value at most ADHOC_FIELD_MAX bytes. */
static void read_rows(GTree *rows, xmpp_stanza_t *payload)
{
    guint n = 0;

    for (xmpp_stanza_t *c = xmpp_stanza_get_children(payload);
         c && n < SVC_ACCOUNTS_MAX; c = xmpp_stanza_get_next(c)) {
        char **v;
        if (!xmpp_stanza_is_tag(c) ||
            g_strcmp0(xmpp_stanza_get_name(c), "account"))
            continue;
        n++;
        v = g_new0(char *, N_COLUMNS + 1);
        for (size_t i = 0; i < N_COLUMNS; i++) {
            const char *s = xmpp_stanza_get_attribute(c, columns[i].var);
            v[i] = g_strndup(s ? s : "", ADHOC_FIELD_MAX);
        }
        if (!*v[0] || g_tree_lookup(rows, v[0])) {
            g_strfreev(v);
            continue;
        }
        g_tree_insert(rows, g_strdup(v[0]), v);
    }
}

static gboolean add_item(gpointer key, gpointer value, gpointer data)
{
    void **args = data; /* xmpp_ctx_t *, the <x/> */
    xmpp_stanza_t *item = stanza_elem(args[0], "item", NULL);
    char **v = value;

    for (size_t i = 0; i < N_COLUMNS; i++)
        form_field(args[0], item, columns[i].var, NULL, NULL, v[i], FALSE);
    stanza_add(args[1], item);
    return FALSE;
}

/* The table of rows: <reported/> then one <item/> per account, by name.
 * Passwords are not in the registry, so never in the table. */
static xmpp_stanza_t *table(xmpp_ctx_t *ctx, GTree *rows)
{
    xmpp_stanza_t *x = form_new(ctx, "result", "Bot accounts", NULL);
    xmpp_stanza_t *rep = stanza_elem(ctx, "reported", NULL);
    void *args[2] = {ctx, x};

    for (size_t i = 0; i < N_COLUMNS; i++)
        form_field(ctx, rep, columns[i].var, NULL, columns[i].label, NULL,
                   FALSE);
    stanza_add(x, rep);
    g_tree_foreach(rows, add_item, args);
    return x;
}

/* A command waiting for the other shards' rows. */
typedef struct accounts_wait {
    adhoc *ad;
    adhoc_later *later;
    GTree *rows; /* this shard's, then the answers' */
} accounts_wait;

static void accounts_merged(const bus_result *br, void *userdata)
{
    accounts_wait *w = userdata;
    GArray *down = g_array_new(FALSE, FALSE, sizeof(guint));
    rows_args ra = {w->rows, TRUE};
    response rp = {0};
    char *note;

    g_array_append_vals(down, br->down, br->n_down);
    for (guint i = 0; i < br->n_answers; i++) {
        const bus_answer *a = &br->answers[i];
        if (a->err == XERR_NONE && a->payload &&
            stanza_is(a->payload, "accounts", SVC_ACCOUNTS_NS))
            read_rows(w->rows, a->payload);
        else
            g_array_append_val(down, a->shard);
    }
    /* what no shard reported (its shard down): as this one knows it */
    registry_foreach(w->ad->reg, add_row, &ra);
    note = svc_merge_note((guint *)down->data, down->len,
                          bus_shards(w->ad->bus), "states");
    rp.x = table(adhoc_later_ctx(w->later), w->rows);
    adhoc_finish(&rp, note ? "warn" : NULL, note);
    adhoc_resume(w->later, &rp);
    g_array_unref(down);
    g_tree_destroy(w->rows);
    g_free(w);
}

enum xerr svc_accounts_show(request *rq, response *rp)
{
    adhoc *ad = rq->ad;
    GTree *rows = rows_new();
    rows_args own = {rows, FALSE}, away = {rows, TRUE};
    xmpp_stanza_t *ask;
    accounts_wait *w;

    registry_foreach(ad->reg, add_row, &own);
    if (!ad->bus || bus_shards(ad->bus) < 2) {
        registry_foreach(ad->reg, add_row, &away);
        rp->x = table(rq->ctx, rows);
        adhoc_finish(rp, NULL, NULL);
        g_tree_destroy(rows);
        return XERR_NONE;
    }
    w = g_new0(accounts_wait, 1);
    *w = (accounts_wait){ad, adhoc_defer(rq), rows};
    ask = stanza_elem(rq->ctx, "accounts", SVC_ACCOUNTS_NS);
    if (bus_ask_all(ad->bus, "get", ask, 0, accounts_merged, w) < 0) {
        bus_result none = {NULL, 0, NULL, 0};
        log_warning(LOG_SERVICE, "accounts: the bus refused the ask");
        accounts_merged(&none, w);
    }
    xmpp_stanza_release(ask);
    return XERR_NONE;
}

static gboolean add_account_elem(gpointer key, gpointer value, gpointer data)
{
    void **args = data; /* xmpp_ctx_t *, the <accounts/> */
    xmpp_stanza_t *el = stanza_elem(args[0], "account", SVC_ACCOUNTS_NS);
    char **v = value;

    for (size_t i = 0; i < N_COLUMNS; i++)
        xmpp_stanza_set_attribute(el, columns[i].var, v[i]);
    stanza_add(args[1], el);
    return FALSE;
}

/* Another shard asks for the accounts this one runs. */
static enum xerr serve(const iq_req *q, iq_res *res)
{
    adhoc *ad = q->data;
    GTree *rows = rows_new();
    rows_args own = {rows, FALSE};
    void *args[2] = {q->ctx, NULL};

    if (!stanza_is(q->child, "accounts", SVC_ACCOUNTS_NS) ||
        strcmp(q->type, "get")) {
        g_tree_destroy(rows);
        return XERR_BAD_REQUEST;
    }
    registry_foreach(ad->reg, add_row, &own);
    args[1] = res->payload = stanza_elem(q->ctx, "accounts", SVC_ACCOUNTS_NS);
    g_tree_foreach(rows, add_account_elem, args);
    g_tree_destroy(rows);
    return XERR_NONE;
}

int svc_accounts_serve(bus *b, adhoc *ad)
{
    return bus_serve(b, SVC_ACCOUNTS_NS, serve, ad);
}
