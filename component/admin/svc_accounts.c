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
static enum xerr serve_list(const iq_req *q, iq_res *res)
{
    adhoc *ad = q->data;
    GTree *rows = rows_new();
    rows_args own = {rows, FALSE};
    void *args[2] = {q->ctx, NULL};

    registry_foreach(ad->reg, add_row, &own);
    args[1] = res->payload = stanza_elem(q->ctx, "accounts", SVC_ACCOUNTS_NS);
    g_tree_foreach(rows, add_account_elem, args);
    g_tree_destroy(rows);
    return XERR_NONE;
}

/* Another shard's admin enables or disables an account this one runs:
 * <enable name='' on='1|0'/>. The registry refuses what is not this
 * shard's. */
static enum xerr serve_enable(const iq_req *q, iq_res *res)
{
    adhoc *ad = q->data;
    const char *name = xmpp_stanza_get_attribute(q->child, "name");
    const char *on = xmpp_stanza_get_attribute(q->child, "on");
    char *why = NULL;
    enum xerr e;

    if (!name || !on || (strcmp(on, "1") && strcmp(on, "0")))
        return iq_fail(res, XERR_BAD_REQUEST, "name and on (1 or 0)");
    if (registry_enable(ad->reg, name, !strcmp(on, "1"), &why) == 0)
        return XERR_NONE;
    e = iq_fail(res, XERR_NOT_ACCEPTABLE, why);
    g_free(why);
    return e;
}

static const iq_route routes[] = {
    {"get", "accounts", SVC_ACCOUNTS_NS, serve_list},
    {"set", "enable", SVC_ACCOUNTS_NS, serve_enable},
};

static enum xerr serve(const iq_req *q, iq_res *res)
{
    return iq_dispatch(routes, G_N_ELEMENTS(routes), q, res);
}

int svc_accounts_serve(bus *b, adhoc *ad)
{
    return bus_serve(b, SVC_ACCOUNTS_NS, serve, ad);
}

/* ---- enable and disable on the shard that runs the account ---- */

/* A stage waiting for the other shards' enables. */
typedef struct enable_wait {
    adhoc_later *later;
    gboolean on;
    guint pending; /* asks not answered yet */
    GString *done; /* "a, b" */
    GString *why;  /* "c: reason; d: reason" */
} enable_wait;

static void enable_note(GString *done, GString *why, gboolean on,
                        response *rp)
{
    const char *verb = on ? "Enabled" : "Disabled";

    if (why->len)
        /* XEP-0050 §3.6: "If a command completes but fails, the responder
         * MUST include at least one <note type='error'/>". */
        adhoc_finish(rp, "error",
                     g_strdup_printf("%s: %s; %s", verb,
                                     done->len ? done->str : "none",
                                     why->str));
    else
        adhoc_finish(rp, "info", g_strdup_printf("%s: %s.", verb, done->str));
}

static void enable_answered(const bus_result *br, void *userdata)
{
    void **args = userdata; /* enable_wait *, the account's name (owned) */
    enable_wait *w = args[0];
    char *name = args[1];
    response rp = {0};

    if (br->n_answers && br->answers[0].err == XERR_NONE) {
        g_string_append_printf(w->done, "%s%s", w->done->len ? ", " : "",
                               name);
    } else {
        const char *text = br->n_answers ? br->answers[0].text : NULL;
        g_string_append_printf(w->why, "%s%s: %s", w->why->len ? "; " : "",
                               name,
                               br->n_answers ? (text ? text : "refused")
                                             : "its shard did not answer");
    }
    g_free(name);
    g_free(args);
    if (--w->pending)
        return;
    enable_note(w->done, w->why, w->on, &rp);
    adhoc_resume(w->later, &rp);
    g_string_free(w->done, TRUE);
    g_string_free(w->why, TRUE);
    g_free(w);
}

enum xerr svc_accounts_enable(request *rq, response *rp, GPtrArray *names,
                              gboolean on)
{
    adhoc *ad = rq->ad;
    enable_wait *w = g_new0(enable_wait, 1);
    gboolean asked = FALSE;

    w->on = on;
    w->done = g_string_new(NULL);
    w->why = g_string_new(NULL);
    for (guint i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        registry_account *ra = registry_get(ad->reg, name);
        char *why = NULL;
        xmpp_stanza_t *el;
        void **args;
        log_info(LOG_SERVICE, "%s %s %s", rq->bare,
                 on ? "enables" : "disables", name);
        if (ra && ra->state == REGISTRY_ELSEWHERE && ad->bus &&
            bus_shards(ad->bus) > 1) {
            if (!asked)
                w->later = adhoc_defer(rq);
            asked = TRUE;
            el = stanza_elem(rq->ctx, "enable", SVC_ACCOUNTS_NS);
            xmpp_stanza_set_attribute(el, "name", name);
            xmpp_stanza_set_attribute(el, "on", on ? "1" : "0");
            args = g_new0(void *, 2);
            args[0] = w;
            args[1] = g_strdup(name);
            w->pending++;
            if (bus_ask(ad->bus, ra->shard, "set", el, 0, enable_answered,
                        args) < 0) {
                bus_result none = {NULL, 0, NULL, 0};
                w->pending++; /* not the last: the loop goes on */
                enable_answered(&none, args);
                w->pending--;
            }
            xmpp_stanza_release(el);
        } else if (registry_enable(ad->reg, name, on, &why) == 0) {
            g_string_append_printf(w->done, "%s%s", w->done->len ? ", " : "",
                                   name);
        } else {
            g_string_append_printf(w->why, "%s%s", w->why->len ? "; " : "",
                                   why);
            g_free(why);
        }
    }
    if (asked && w->pending)
        return XERR_NONE; /* the last answer finishes it */
    if (asked) { /* every ask failed at once */
        response later = {0};
        enable_note(w->done, w->why, on, &later);
        adhoc_resume(w->later, &later);
    } else {
        enable_note(w->done, w->why, on, rp);
    }
    g_string_free(w->done, TRUE);
    g_string_free(w->why, TRUE);
    g_free(w);
    return XERR_NONE;
}
