/* adhoc: XEP-0050 ad-hoc commands — the admins' account commands on the
 * component JID, the owners' member command on room JIDs, their sessions
 * and their XEP-0004 forms. */
#include "adhoc_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "affiliations.h"
#include "clock.h"
#include "form.h"
#include "groups.h"
#include "log.h"
#include "mydata.h"
#include "owner_cmds.h"
#include "secret.h"
#include "shard.h"
#include "stanza.h"
#include "svc_accounts.h"
#include "svc_announce.h"
#include "svc_groups.h"
#include "svc_merge.h"
#include "svc_stats.h"
#include "xerr.h"

#define NS_DISCO_INFO  "http://jabber.org/protocol/disco#info"
#define NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"

/* Sessions kept at once, all requesters together; past it a new one is
 * refused with resource-constraint. */
#define ADHOC_MAX_SESSIONS 256

#define FIELD_MAX_LEN ADHOC_FIELD_MAX

enum scope {
    SCOPE_SERVICE, /* the component JID: service admins */
    SCOPE_ROOM,    /* a room JID: the room's owners */
    SCOPE_USER,    /* the component JID: anyone (their own data) */
};

typedef enum xerr (*step_fn)(request *rq, response *rp);

typedef struct command {
    const char *node;
    const char *name;
    enum scope scope;
    step_fn step;
} command;

/* ---- sessions ---- */

static void session_free(gpointer p)
{
    session *s = p;

    g_free(s->id);
    g_free(s->requester);
    g_free(s->room);
    g_free(s->account);
    g_free(s->target);
    g_free(s->cursor);
    g_free(s);
}

static void sweep_sessions(adhoc *ad, gint64 now)
{
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, ad->sessions);
    while (g_hash_table_iter_next(&it, NULL, &value))
        if (((session *)value)->expires_us <= now)
            g_hash_table_iter_remove(&it);
}

/* A new session (owned by ad), or NULL when too many are open. */
static session *session_new(adhoc *ad, const command *cmd, const char *from,
                            const char *room)
{
    gint64 now = clock_now();
    char *uuid;
    session *s;

    sweep_sessions(ad, now);
    if (g_hash_table_size(ad->sessions) >= ADHOC_MAX_SESSIONS)
        return NULL;
    s = g_new0(session, 1);
    uuid = g_uuid_string_random();
    /* XEP-0050 §3.3: "It is the responder's responsibility to ensure that
     * each 'sessionid' value is unique." */
    s->id = g_strconcat(cmd->node, ":", uuid, NULL);
    g_free(uuid);
    s->cmd = cmd;
    s->requester = g_strdup(from);
    s->room = g_strdup(room);
    s->expires_us = now + ADHOC_SESSION_TTL_US;
    g_hash_table_insert(ad->sessions, s->id, s);
    return s;
}

/* ---- who may run what ---- */

/* ---- replies ---- */

/* An error answer; type overrides the condition's default type (XEP-0050
 * gives its own), specific is a condition of NS_COMMANDS (both may be
 * NULL). */
static enum xerr fail(const iq_req *q, iq_res *res, enum xerr e,
                      const char *type, const char *specific, const char *text)
{
    res->type = type;
    if (specific)
        res->app = stanza_elem(q->ctx, specific, NS_COMMANDS);
    return iq_fail(res, e, text);
}

/* ---- the accounts as form material ---- */

static void collect_name(registry_account *ra, void *ud)
{
    g_ptr_array_add(ud, ra->rec->name);
}

/* Names of every account, in order; borrowed from the registry. */
static GPtrArray *account_names(adhoc *ad)
{
    GPtrArray *names = g_ptr_array_new();

    registry_foreach(ad->reg, collect_name, names);
    return names;
}

static gboolean no_accounts(adhoc *ad)
{
    GPtrArray *names = account_names(ad);
    gboolean none = names->len == 0;

    g_ptr_array_unref(names);
    return none;
}

static void add_account_options(request *rq, xmpp_stanza_t *f)
{
    GPtrArray *names = account_names(rq->ad);

    for (guint i = 0; i < names->len; i++) {
        registry_account *ra =
            registry_get(rq->ad->reg, g_ptr_array_index(names, i));
        char *state = registry_state_text(ra);
        char *label = g_strdup_printf("%s (%s, %s)", ra->rec->name,
                                      ra->rec->group, state);
        form_add_option(rq->ctx, f, label, ra->rec->name);
        g_free(label);
        g_free(state);
    }
    g_ptr_array_unref(names);
}

static int compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The add/change form, filled from a (NULL: defaults). The password field
 * is always empty: a password is never sent back. */
static xmpp_stanza_t *account_form(request *rq, const char *title,
                                   const account_rec *a, gboolean with_name)
{
    xmpp_ctx_t *ctx = rq->ctx;
    xmpp_stanza_t *x, *f;
    char burst[16], rate[G_ASCII_DTOSTR_BUF_SIZE];

    x = form_new(ctx, "form", title,
                 with_name ? "A legacy bot account and the group it serves."
                           : "Leave the password empty to keep it.");
    if (with_name)
        form_field(ctx, x, "name", "text-single",
                   "Account name (a-z 0-9 . _ -)", a ? a->name : NULL, TRUE);
    form_field(ctx, x, "protocol", "text-single",
               "libpurple protocol (e.g. prpl-irc)", a ? a->protocol : NULL,
               TRUE);
    form_field(ctx, x, "username", "text-single", "Username on that network",
               a ? a->username : NULL, TRUE);
    form_field(ctx, x, "password", "text-private", "Password", NULL, FALSE);
    form_field(ctx, x, "group", "text-single", "Group (room name)",
               a ? a->group : NULL, TRUE);
    f = form_field(ctx, x, "mode", "list-single", "Mode",
                   a && a->mode ? a->mode : "contacts", TRUE);
    form_add_option(ctx, f, "Contacts: legacy users add the bot", "contacts");
    form_add_option(ctx, f, "Chat: the bot sits in a legacy chat", "chat");
    form_field(ctx, x, "chat", "text-single", "Legacy chat (chat mode)",
               a ? a->chat : NULL, FALSE);
    f = form_field(ctx, x, "options", "text-multi",
                   "libpurple settings, one key=value per line", NULL, FALSE);
    if (a && a->options) {
        guint n = 0;
        gpointer *keys = g_hash_table_get_keys_as_array(a->options, &n);
        qsort(keys, n, sizeof(*keys), compare_strings);
        for (guint i = 0; i < n; i++) {
            char *line = g_strdup_printf(
                "%s=%s", (char *)keys[i],
                (char *)g_hash_table_lookup(a->options, keys[i]));
            form_add_value(ctx, f, line);
            g_free(line);
        }
        g_free(keys);
    }
    g_snprintf(burst, sizeof(burst), "%u",
               a ? a->pace_burst : REGISTRY_PACE_BURST);
    g_ascii_dtostr(rate, sizeof(rate), a ? a->pace_rate : REGISTRY_PACE_RATE);
    form_field(ctx, x, "pace_burst", "text-single",
               "Messages the bot may send at once", burst, FALSE);
    form_field(ctx, x, "pace_rate", "text-single", "Then messages per second",
               rate, FALSE);
    return x;
}

static void set_why(char **why, const char *text)
{
    if (!*why)
        *why = g_strdup(text);
}

/* Reads the add/change form into a record (always returned, owned, filled
 * with what could be read so the form can be shown again) and the password
 * (g_free after wiping; NULL when the field is empty or absent). Sets *why
 * (g_free) for what cannot be read; the registry checks the rest. */
static account_rec *account_from_form(xmpp_stanza_t *form, const char *name,
                                      char **password, char **why)
{
    account_rec *a = g_new0(account_rec, 1);
    GPtrArray *lines = form_values(form, "options");
    char *burst = form_text(form, "pace_burst", FALSE);
    char *rate = form_text(form, "pace_rate", FALSE);
    guint64 n;

    *why = NULL;
    a->name = name ? g_strdup(name) : form_text(form, "name", FALSE);
    a->protocol = form_text(form, "protocol", FALSE);
    a->username = form_text(form, "username", FALSE);
    a->group = form_text(form, "group", FALSE);
    a->mode = form_text(form, "mode", FALSE);
    a->chat = form_text(form, "chat", FALSE);
    if (a->chat && !*a->chat)
        g_clear_pointer(&a->chat, g_free);
    a->enabled = TRUE;
    a->options = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    /* XEP-0004 §3.3: text-multi data "SHOULD NOT contain any newlines";
     * each line is its own <value/>. A client that sends one value with
     * newlines is read the same way. */
    for (guint i = 0; i < lines->len; i++) {
        char **split = g_strsplit(g_ptr_array_index(lines, i), "\n", -1);
        for (char **l = split; *l; l++) {
            char *eq;
            g_strstrip(*l);
            if (!**l)
                continue;
            eq = strchr(*l, '=');
            if (!eq || eq == *l) {
                set_why(why, "options: one key=value per line");
                continue;
            }
            *eq = '\0';
            g_strstrip(*l);
            g_hash_table_insert(a->options, g_strdup(*l),
                                g_strstrip(g_strdup(eq + 1)));
        }
        g_strfreev(split);
    }
    a->pace_burst = REGISTRY_PACE_BURST;
    if (burst && *burst) {
        if (g_ascii_string_to_unsigned(burst, 10, 1, 100000, &n, NULL))
            a->pace_burst = (guint)n;
        else
            set_why(why, "pace_burst: a whole number of messages from 1 to "
                         "100000");
    }
    a->pace_rate = REGISTRY_PACE_RATE;
    if (rate && *rate) {
        char *end = NULL;
        double r = g_ascii_strtod(rate, &end);
        if (end && !*end && r > 0 && r <= 100000 && isfinite(r))
            a->pace_rate = r;
        else
            set_why(why, "pace_rate: messages per second, above 0");
    }
    *password = form_text(form, "password", TRUE);
    if (*password && !**password)
        g_clear_pointer(password, g_free);
    if (*password && (strlen(*password) > FIELD_MAX_LEN ||
                      !g_utf8_validate(*password, -1, NULL)))
        set_why(why, "password: at most 1024 characters of UTF-8");
    g_ptr_array_unref(lines);
    g_free(burst);
    g_free(rate);
    return a;
}

/* ---- stage helpers ---- */

void adhoc_wait(request *rq, response *rp, xmpp_stanza_t *x, const char *dflt)
{
    rp->done = FALSE;
    rp->x = x;
    rq->s->stage++;
    rq->s->execute = dflt;
    rq->s->allow_next = !strcmp(dflt, "next");
    rq->s->allow_complete = !strcmp(dflt, "complete");
}

void adhoc_page(request *rq, response *rp, xmpp_stanza_t *x, char *note)
{
    adhoc_wait(rq, rp, x, "next");
    rq->s->allow_complete = TRUE;
    rp->note_type = note ? "info" : NULL;
    rp->note = note;
}

void adhoc_again(request *rq, response *rp, xmpp_stanza_t *x, char *why)
{
    rp->done = FALSE;
    rp->x = x;
    rp->note_type = "error";
    rp->note = why;
}

void adhoc_finish(response *rp, const char *type, char *note)
{
    rp->done = TRUE;
    rp->note_type = type;
    rp->note = note;
}

xmpp_stanza_t *adhoc_table(xmpp_ctx_t *ctx, const char *title,
                           const char *const *vars, const char *const *labels,
                           size_t n)
{
    xmpp_stanza_t *x = form_new(ctx, "result", title, NULL);
    xmpp_stanza_t *rep = stanza_elem(ctx, "reported", NULL);

    /* XEP-0004 §3.4: a table is a <reported/> of the columns, then one
     * <item/> per row. */
    for (size_t i = 0; i < n; i++)
        form_field(ctx, rep, vars[i], "text-single", labels[i], NULL, FALSE);
    stanza_add(x, rep);
    return x;
}

gsize adhoc_row(xmpp_ctx_t *ctx, xmpp_stanza_t *x, const char *const *vars,
                const char *const *values, size_t n)
{
    xmpp_stanza_t *item = stanza_elem(ctx, "item", NULL);
    gsize size = sizeof("<item></item>");

    for (size_t i = 0; i < n; i++) {
        const char *v = values[i] ? values[i] : "";
        form_field(ctx, item, vars[i], NULL, NULL, v, FALSE);
        /* <field var=''><value></value></field> around both */
        size += 40 + stanza_escaped_len(vars[i]) + stanza_escaped_len(v);
    }
    stanza_add(x, item);
    return size;
}

gboolean adhoc_page_full(const adhoc *ad, guint rows, gsize used)
{
    /* Our output never exceeds [component] stanza_limit: the rows take at
     * most half of it (one row past it at most), the rest is the iq, the
     * command, the note and the table's head. */
    return rows >= ADHOC_PAGE_ROWS || used >= ad->cfg->stanza_limit / 2;
}

char *adhoc_group_field(request *rq, const char *var, char **why)
{
    char *text = form_text(rq->form, var, FALSE);
    char *full = NULL, *name = NULL;
    gboolean exists = FALSE;

    *why = NULL;
    if (text && *text && strlen(text) <= FIELD_MAX_LEN &&
        g_utf8_validate(text, -1, NULL)) {
        /* a localpart or a room JID of this service */
        full = strchr(text, '@')
                   ? g_strdup(text)
                   : g_strconcat(text, "@", rq->ad->cfg->jid, NULL);
        name = jid_bare_fold(full);
        if (name) {
            char *at = strchr(name, '@');
            if (!at || g_ascii_strcasecmp(at + 1, rq->ad->cfg->jid))
                g_clear_pointer(&name, g_free);
            else
                *at = '\0';
        }
    }
    if (name && rq->ad->bus && bus_shards(rq->ad->bus) > 1 &&
        shard_of_parts(name, rq->ad->cfg->jid, bus_shards(rq->ad->bus)) !=
            bus_shard(rq->ad->bus))
        exists = TRUE; /* another shard's (issue 14): it says if it exists */
    else if (name)
        muc_group_affiliation(rq->ad->muc, name, "", &exists);
    if (!exists) {
        *why = g_strdup_printf("%s: no such group here", var);
        g_clear_pointer(&name, g_free);
    }
    g_free(full);
    g_free(text);
    return name;
}

/* ---- the admin commands ---- */

static enum xerr cmd_add(request *rq, response *rp)
{
    account_rec *a;
    char *password = NULL, *why = NULL;

    if (rq->s->stage == 0) {
        adhoc_wait(rq, rp, account_form(rq, "Add a bot account", NULL, TRUE),
                   "complete");
        return XERR_NONE;
    }
    a = account_from_form(rq->form, NULL, &password, &why);
    if (why || registry_add(rq->ad->reg, a, password, &why) < 0) {
        adhoc_again(rq, rp, account_form(rq, "Add a bot account", a, TRUE),
                    why);
    } else {
        log_info(LOG_SERVICE, "%s added the account %s", rq->bare, a->name);
        adhoc_finish(
            rp, "info",
            g_strdup_printf("Account %s added; it serves %s@%s.", a->name,
                            registry_get(rq->ad->reg, a->name)->rec->group,
                            rq->ad->cfg->jid));
    }
    secret_free(password);
    account_rec_free(a);
    return XERR_NONE;
}

static xmpp_stanza_t *pick_form(request *rq, const char *title,
                                const char *type, const char *label)
{
    xmpp_stanza_t *x = form_new(rq->ctx, "form", title, NULL);
    xmpp_stanza_t *f =
        form_field(rq->ctx, x, "account", type, label, NULL, TRUE);

    add_account_options(rq, f);
    return x;
}

static char *change_title(const char *name)
{
    return g_strdup_printf("Change bot account %s", name);
}

static enum xerr cmd_change(request *rq, response *rp)
{
    registry_account *ra;
    account_rec *a;
    char *password = NULL, *why = NULL, *title, *pick;

    if (rq->s->stage == 0) {
        if (no_accounts(rq->ad)) {
            adhoc_finish(rp, "info", g_strdup("There are no bot accounts."));
            return XERR_NONE;
        }
        adhoc_wait(
            rq, rp,
            pick_form(rq, "Change a bot account", "list-single", "Account"),
            "next");
        return XERR_NONE;
    }
    if (rq->s->stage == 1) {
        pick = form_text(rq->form, "account", FALSE);
        ra = registry_get(rq->ad->reg, pick);
        if (!ra)
            why = g_strdup("account: pick one of the accounts listed");
        else if (ra->from_config)
            /* refused before anything is written: the refusal's text */
            registry_change(rq->ad->reg, ra->rec, NULL, &why);
        if (why) {
            adhoc_again(
                rq, rp,
                pick_form(rq, "Change a bot account", "list-single", "Account"),
                why);
        } else {
            rq->s->account = g_strdup(ra->rec->name);
            title = change_title(ra->rec->name);
            adhoc_wait(rq, rp, account_form(rq, title, ra->rec, FALSE),
                       "complete");
            g_free(title);
        }
        g_free(pick);
        return XERR_NONE;
    }
    a = account_from_form(rq->form, rq->s->account, &password, &why);
    title = change_title(rq->s->account);
    if (why || registry_change(rq->ad->reg, a, password, &why) < 0) {
        adhoc_again(rq, rp, account_form(rq, title, a, FALSE), why);
    } else {
        log_info(LOG_SERVICE, "%s changed the account %s", rq->bare, a->name);
        adhoc_finish(
            rp, "info",
            g_strdup_printf("Account %s changed%s.", a->name,
                            password ? ", with its new password" : ""));
    }
    g_free(title);
    secret_free(password);
    account_rec_free(a);
    return XERR_NONE;
}

static enum xerr enable_or_disable(request *rq, response *rp, gboolean on)
{
    const char *title = on ? "Enable bot accounts" : "Disable bot accounts";
    GPtrArray *picked;
    GString *done;
    char *why = NULL;

    if (rq->s->stage == 0) {
        if (no_accounts(rq->ad)) {
            adhoc_finish(rp, "info", g_strdup("There are no bot accounts."));
            return XERR_NONE;
        }
        adhoc_wait(rq, rp, pick_form(rq, title, "list-multi", "Accounts"),
                   "complete");
        return XERR_NONE;
    }
    picked = form_values(rq->form, "account");
    /* XEP-0004 §3.3 list-multi: the submitter "MUST NOT insert new
     * options"; anything not listed is refused before anything changes. */
    if (!picked->len)
        why = g_strdup("account: pick at least one account");
    for (guint i = 0; !why && i < picked->len; i++)
        if (!registry_get(rq->ad->reg, g_ptr_array_index(picked, i)))
            why = g_strdup_printf("account: there is no account named %s",
                                  (char *)g_ptr_array_index(picked, i));
    if (!why && rq->ad->bus && bus_shards(rq->ad->bus) > 1) {
        /* each on the shard that runs it (issue 14) */
        enum xerr e = svc_accounts_enable(rq, rp, picked, on);
        g_ptr_array_unref(picked);
        return e;
    }
    done = g_string_new(NULL);
    for (guint i = 0; !why && i < picked->len; i++) {
        const char *name = g_ptr_array_index(picked, i);
        if (registry_enable(rq->ad->reg, name, on, &why) == 0)
            g_string_append_printf(done, "%s%s", done->len ? ", " : "", name);
    }
    if (why && !done->len) {
        adhoc_again(rq, rp, pick_form(rq, title, "list-multi", "Accounts"),
                    why);
    } else if (why) {
        /* XEP-0050 §3.6: "If a command completes but fails, the responder
         * MUST include at least one <note type='error'/>". */
        adhoc_finish(rp, "error",
                     g_strdup_printf("%s: %s; %s", on ? "Enabled" : "Disabled",
                                     done->str, why));
        g_free(why);
    } else {
        log_info(LOG_SERVICE, "%s %s %s", rq->bare, on ? "enabled" : "disabled",
                 done->str);
        adhoc_finish(
            rp, "info",
            g_strdup_printf("%s: %s.", on ? "Enabled" : "Disabled", done->str));
    }
    g_string_free(done, TRUE);
    g_ptr_array_unref(picked);
    return XERR_NONE;
}

static enum xerr cmd_enable(request *rq, response *rp)
{
    return enable_or_disable(rq, rp, TRUE);
}

static enum xerr cmd_disable(request *rq, response *rp)
{
    return enable_or_disable(rq, rp, FALSE);
}

static xmpp_stanza_t *remove_form(request *rq)
{
    xmpp_stanza_t *x =
        pick_form(rq, "Remove a bot account", "list-single", "Account");

    form_field(rq->ctx, x, "confirm", "boolean",
               "Yes, remove it and its password", "0", TRUE);
    return x;
}

static enum xerr cmd_remove(request *rq, response *rp)
{
    char *pick, *why = NULL;

    if (rq->s->stage == 0) {
        if (no_accounts(rq->ad)) {
            adhoc_finish(rp, "info", g_strdup("There are no bot accounts."));
            return XERR_NONE;
        }
        adhoc_wait(rq, rp, remove_form(rq), "complete");
        return XERR_NONE;
    }
    pick = form_text(rq->form, "account", FALSE);
    if (!registry_get(rq->ad->reg, pick))
        why = g_strdup("account: pick one of the accounts listed");
    else if (!form_bool(rq->form, "confirm"))
        why = g_strdup("confirm: tick it to remove the account");
    if (why || registry_remove(rq->ad->reg, pick, &why) < 0) {
        adhoc_again(rq, rp, remove_form(rq), why);
    } else {
        log_info(LOG_SERVICE, "%s removed the account %s", rq->bare, pick);
        adhoc_finish(rp, "info", g_strdup_printf("Account %s removed.", pick));
    }
    g_free(pick);
    return XERR_NONE;
}

/* ---- the owner commands ---- */

typedef struct serving_args {
    const char *group;
    GPtrArray *names; /* borrowed from the registry */
} serving_args;

static void collect_serving(registry_account *ra, void *ud)
{
    serving_args *sa = ud;

    /* Only a contacts-mode bot has members of its own; in chat mode the
     * legacy chat decides who is in. */
    if (!strcmp(ra->rec->group, sa->group) &&
        !strcmp(ra->rec->mode, "contacts") && ra->rec->enabled &&
        ra->state != REGISTRY_ELSEWHERE)
        g_ptr_array_add(sa->names, ra->rec->name);
}

static xmpp_stanza_t *member_form(request *rq, GPtrArray *names)
{
    xmpp_stanza_t *x =
        form_new(rq->ctx, "form", "Add a legacy member",
                 "The legacy user becomes a member of this group, reached "
                 "through the bot account.");
    xmpp_stanza_t *f =
        form_field(rq->ctx, x, "account", "list-single", "Bot account",
                   g_ptr_array_index(names, 0), TRUE);

    for (guint i = 0; i < names->len; i++)
        form_add_option(rq->ctx, f, NULL, g_ptr_array_index(names, i));
    form_field(rq->ctx, x, "handle", "text-single",
               "Their handle on that network", NULL, TRUE);
    return x;
}

static enum xerr cmd_member_add(request *rq, response *rp)
{
    serving_args sa = {rq->room, g_ptr_array_new()};
    char *account = NULL, *handle = NULL, *why = NULL;
    gboolean listed = FALSE;

    registry_foreach(rq->ad->reg, collect_serving, &sa);
    if (!sa.names->len) {
        adhoc_finish(
            rp, "error",
            g_strdup(
                "No enabled contacts-mode bot account serves this group."));
        goto leave;
    }
    if (rq->s->stage == 0) {
        adhoc_wait(rq, rp, member_form(rq, sa.names), "complete");
        goto leave;
    }
    account = form_text(rq->form, "account", FALSE);
    handle = form_text(rq->form, "handle", FALSE);
    for (guint i = 0; account && i < sa.names->len; i++)
        listed = listed || !strcmp(account, g_ptr_array_index(sa.names, i));
    if (!listed)
        why = g_strdup("account: pick one of the accounts listed");
    else if (!handle || !*handle || strlen(handle) > FIELD_MAX_LEN ||
             !g_utf8_validate(handle, -1, NULL))
        why = g_strdup("handle: required (their name on that network)");
    if (why) {
        adhoc_again(rq, rp, member_form(rq, sa.names), why);
    } else if (registry_member_add(rq->ad->reg, rq->room, account, handle,
                                   &why) < 0) {
        /* XEP-0050 §3.6: a failed completion carries a note of type
         * error. */
        adhoc_finish(rp, "error", why);
    } else {
        log_info(LOG_SERVICE, "%s added a legacy member to %s through %s",
                 rq->bare, rq->room, account);
        adhoc_finish(rp, "info",
                     g_strdup_printf("%s added through %s.", handle, account));
    }
leave:
    g_free(account);
    g_free(handle);
    g_ptr_array_unref(sa.names);
    return XERR_NONE;
}

/* The person's-data commands (mydata.h): each stage through mydata_io. */
static enum xerr run_mydata(request *rq, response *rp,
                            void (*stage)(mydata_io *io))
{
    mydata_io io = {
        .ctx = rq->ctx,
        .up = rq->q->up,
        .cfg = rq->ad->cfg,
        .m = rq->ad->muc,
        .bare = rq->bare,
        .form = rq->form,
        .stage = rq->s->stage,
    };

    stage(&io);
    if (io.done) {
        adhoc_finish(rp, io.note_type, io.note);
    } else {
        adhoc_wait(rq, rp, io.x, io.execute);
        rp->note_type = io.note_type;
        rp->note = io.note;
    }
    rp->x = io.x;
    return XERR_NONE;
}

static enum xerr cmd_mydata(request *rq, response *rp)
{
    return run_mydata(rq, rp, mydata_cmd_mine);
}

static enum xerr cmd_data_export(request *rq, response *rp)
{
    return run_mydata(rq, rp, mydata_cmd_export);
}

static enum xerr cmd_data_erase(request *rq, response *rp)
{
    return run_mydata(rq, rp, mydata_cmd_erase);
}

/* Dispatch table: node, disco name, who, stages. */
static const command commands[] = {
    {"accounts", "List bot accounts", SCOPE_SERVICE, svc_accounts_show},
    {"account-add", "Add a bot account", SCOPE_SERVICE, cmd_add},
    {"account-change", "Change a bot account", SCOPE_SERVICE, cmd_change},
    {"account-enable", "Enable bot accounts", SCOPE_SERVICE, cmd_enable},
    {"account-disable", "Disable bot accounts", SCOPE_SERVICE, cmd_disable},
    {"account-remove", "Remove a bot account", SCOPE_SERVICE, cmd_remove},
    {"groups", "List all groups", SCOPE_SERVICE, svc_groups_list},
    {"stats", "Service statistics", SCOPE_SERVICE, svc_stats_show},
    {SVC_ANNOUNCE_NODE, "Announce to every member", SCOPE_SERVICE,
     svc_announce_send},
    {"group-create", "Create a group", SCOPE_SERVICE, svc_groups_create},
    {"group-configure", "Configure a group", SCOPE_SERVICE,
     svc_groups_configure},
    {"group-destroy", "Destroy a group", SCOPE_SERVICE, svc_groups_destroy},
    {"member-add", "Add a legacy member", SCOPE_ROOM, cmd_member_add},
    {"members", "List members", SCOPE_ROOM, owner_cmds_members},
    {"retention", "Set how long messages are kept", SCOPE_ROOM,
     owner_cmds_retention},
    {"invite", "Invite someone", SCOPE_ROOM, owner_cmds_invite},
    {"mydata", "My data: what this service holds about me", SCOPE_USER,
     cmd_mydata},
    {"data-export", "Export the data of one person", SCOPE_SERVICE,
     cmd_data_export},
    {"data-erase", "Erase the data of one person", SCOPE_SERVICE,
     cmd_data_erase},
};

static const command *find_command(const char *node, enum scope scope)
{
    for (size_t i = 0; node && i < G_N_ELEMENTS(commands); i++)
        if ((commands[i].scope == scope ||
             (commands[i].scope == SCOPE_USER && scope == SCOPE_SERVICE)) &&
            !strcmp(commands[i].node, node))
            return &commands[i];
    return NULL;
}

/* ---- discovery ---- */

static const char *node_of(xmpp_stanza_t *child)
{
    return xmpp_stanza_get_attribute(child, "node");
}

gboolean adhoc_claims(const iq_req *q)
{
    const char *type = q->type;
    xmpp_stanza_t *child = q->child;
    const char *node = node_of(child);
    gboolean to_room = q->to->node != NULL;

    if (stanza_is(child, "command", NS_COMMANDS))
        return TRUE;
    if (g_strcmp0(type, "get") || !node)
        return FALSE;
    if (stanza_is(child, "query", NS_DISCO_ITEMS))
        return !strcmp(node, NS_COMMANDS);
    if (stanza_is(child, "query", NS_DISCO_INFO))
        return !strcmp(node, NS_COMMANDS) ||
               find_command(node, to_room ? SCOPE_ROOM : SCOPE_SERVICE);
    return FALSE;
}

/* May the requester run commands of this scope here? On the component:
 * the service admins. On a room: its owners, the service admins among them
 * (the MUC engine's one rule: muc_affiliation). XERR_ITEM_NOT_FOUND when
 * there is no such group. */
static enum xerr authorize(adhoc *ad, enum scope scope, const char *room,
                           const char *bare, gboolean *allowed)
{
    gboolean exists = FALSE;

    *allowed = scope == SCOPE_USER;
    if (scope == SCOPE_USER)
        return XERR_NONE;
    if (scope == SCOPE_SERVICE) {
        *allowed = config_is_admin(ad->cfg, bare);
        return XERR_NONE;
    }
    *allowed = muc_group_affiliation(ad->muc, room, bare ? bare : "",
                                     &exists) == AFF_OWNER;
    return exists ? XERR_NONE : XERR_ITEM_NOT_FOUND;
}

static enum xerr disco_items(const iq_req *q, iq_res *res, const char *room,
                             gboolean allowed)
{
    xmpp_ctx_t *ctx = q->ctx;
    xmpp_stanza_t *list = stanza_elem(ctx, "query", NS_DISCO_ITEMS);
    enum scope scope = room ? SCOPE_ROOM : SCOPE_SERVICE;

    xmpp_stanza_set_attribute(list, "node", NS_COMMANDS);
    /* XEP-0050 §2.2: "The responder is not required to send the same list
     * of commands to all requesters": those who may not run them get an
     * empty list. §5: "Responders MUST report their own command nodes
     * only" — every item names this JID. */
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        xmpp_stanza_t *item;
        /* Everyone's own-data command is listed to everyone. */
        if (commands[i].scope == SCOPE_USER ? scope != SCOPE_SERVICE
                                            : !allowed ||
                                                  commands[i].scope != scope)
            continue;
        item = stanza_elem(ctx, "item", NULL);
        xmpp_stanza_set_attribute(item, "jid", xmpp_stanza_get_to(q->st));
        xmpp_stanza_set_attribute(item, "node", commands[i].node);
        xmpp_stanza_set_attribute(item, "name", commands[i].name);
        stanza_add(list, item);
    }
    res->payload = list;
    return XERR_NONE;
}

static enum xerr disco_info(const iq_req *q, iq_res *res, const char *node,
                            const command *cmd, gboolean allowed)
{
    xmpp_ctx_t *ctx = q->ctx;
    xmpp_stanza_t *info, *id, *f;

    if (cmd && !allowed) {
        /* XEP-0050 §2.2: "If the command is not available to the
         * requester, the responder SHOULD respond with a 403 "Forbidden"
         * error." */
        return fail(q, res, XERR_FORBIDDEN, "cancel", NULL, NULL);
    }
    info = stanza_elem(ctx, "query", NS_DISCO_INFO);
    xmpp_stanza_set_attribute(info, "node", node);
    id = stanza_elem(ctx, "identity", NULL);
    xmpp_stanza_set_attribute(id, "category", "automation");
    /* XEP-0050 §2.2: the commands node is "command-list"; for a command
     * node "A responder MUST at least provide <identity
     * category='automation' type='command-node'/> and <feature
     * var='http://jabber.org/protocol/commands'/>, and SHOULD include
     * <feature var='jabber:x:data'/>." */
    xmpp_stanza_set_attribute(id, "type",
                              cmd ? "command-node" : "command-list");
    xmpp_stanza_set_attribute(id, "name", cmd ? cmd->name : "Commands");
    stanza_add(info, id);
    if (cmd) {
        f = stanza_elem(ctx, "feature", NULL);
        xmpp_stanza_set_attribute(f, "var", NS_COMMANDS);
        stanza_add(info, f);
        f = stanza_elem(ctx, "feature", NULL);
        xmpp_stanza_set_attribute(f, "var", FORM_NS);
        stanza_add(info, f);
    }
    res->payload = info;
    return XERR_NONE;
}

/* ---- execution ---- */

static const char *const actions[] = {"execute", "cancel", "prev", "next",
                                      "complete"};

static gboolean known_action(const char *a)
{
    for (size_t i = 0; i < G_N_ELEMENTS(actions); i++)
        if (!strcmp(actions[i], a))
            return TRUE;
    return FALSE;
}

static xmpp_stanza_t *command_elem(xmpp_ctx_t *ctx, const session *s,
                                   const char *status)
{
    xmpp_stanza_t *c = stanza_elem(ctx, "command", NS_COMMANDS);

    xmpp_stanza_set_attribute(c, "node", s->cmd->node);
    xmpp_stanza_set_attribute(c, "sessionid", s->id);
    xmpp_stanza_set_attribute(c, "status", status);
    return c;
}

static enum xerr respond(adhoc *ad, const iq_req *q, iq_res *res, session *s,
                         response *rp)
{
    xmpp_ctx_t *ctx = q->ctx;
    xmpp_stanza_t *c =
        command_elem(ctx, s, rp->done ? "completed" : "executing");

    if (!rp->done) {
        /* XEP-0050 §3.4: "The result for each stage (other than the last)
         * of a command's execution SHOULD include an <actions/> element";
         * §4.2: its "execute" attribute "MUST equal one of the "action"
         * attribute values for <command/>". */
        xmpp_stanza_t *acts = stanza_elem(ctx, "actions", NULL);
        xmpp_stanza_set_attribute(acts, "execute", s->execute);
        if (s->allow_next)
            stanza_add(acts, stanza_elem(ctx, "next", NULL));
        if (s->allow_complete)
            stanza_add(acts, stanza_elem(ctx, "complete", NULL));
        stanza_add(c, acts);
    }
    if (rp->note_type) {
        xmpp_stanza_t *note = stanza_elem(ctx, "note", NULL);
        xmpp_stanza_t *text = xmpp_stanza_new(ctx);
        xmpp_stanza_set_type(note, rp->note_type);
        xmpp_stanza_set_text(text, rp->note ? rp->note : "");
        stanza_add(note, text);
        stanza_add(c, note);
    }
    if (rp->x) {
        stanza_add(c, rp->x);
        rp->x = NULL;
    }
    res->payload = c;
    /* XEP-0050 §3.3: "A session ends when the responder sends a <command
     * status='completed'/>". */
    if (rp->done)
        g_hash_table_remove(ad->sessions, s->id);
    return XERR_NONE;
}

static enum xerr execute(adhoc *ad, const iq_req *q, iq_res *res,
                         const char *room)
{
    xmpp_stanza_t *child = q->child;
    const char *node = node_of(child);
    const char *sid = xmpp_stanza_get_attribute(child, "sessionid");
    const char *action = xmpp_stanza_get_attribute(child, "action");
    const char *from = q->from;
    enum scope scope = room ? SCOPE_ROOM : SCOPE_SERVICE;
    const command *cmd;
    char *bare = jid_bare_fold(from);
    gboolean allowed = FALSE;
    response rp = {0};
    request rq = {0};
    session *s;
    enum xerr e = XERR_INTERNAL_SERVER_ERROR;

    /* XEP-0050 §4.1: a "status" from the requester: "the responder MUST
     * ignore it" (it is never read here). */
    /* XEP-0050 §4.1: commands are executed with an iq set; "The "node"
     * attribute uniquely identifies the command. This attribute MUST be
     * present." */
    if (g_strcmp0(q->type, "set")) {
        e = fail(q, res, XERR_BAD_REQUEST, NULL, NULL,
                 "commands are executed with an iq of type set");
        goto leave;
    }
    if (!node || !bare) {
        e = fail(q, res, XERR_BAD_REQUEST, NULL, NULL,
                 node ? "the sender is not a valid JID"
                      : "a command needs a node");
        goto leave;
    }
    /* XEP-0050 §4.4: an unknown node is item-not-found (cancel). */
    if (!(cmd = find_command(node, scope))) {
        e = fail(q, res, XERR_ITEM_NOT_FOUND, "cancel", NULL,
                 "no such command here");
        goto leave;
    }
    e = authorize(ad, cmd->scope, room, bare, &allowed);
    if (e != XERR_NONE) {
        e = fail(q, res, e, NULL, NULL,
                 e == XERR_ITEM_NOT_FOUND ? "no such group" : NULL);
        goto leave;
    }
    /* XEP-0050 §4.4: "The requesting JID is not allowed to execute the
     * command": forbidden, of type cancel. */
    if (!allowed) {
        e = fail(q, res, XERR_FORBIDDEN, "cancel", NULL,
                 room ? "only the group's owners may run this command"
                      : "only the service admins may run this command");
        goto leave;
    }
    /* XEP-0050 §4.4: malformed-action, "The responding JID does not
     * understand the specified action." */
    if (action && !known_action(action)) {
        e = fail(q, res, XERR_BAD_REQUEST, NULL, "malformed-action",
                 "unknown action");
        goto leave;
    }
    if (!sid) {
        /* §2.4.1: "The requester MAY include the "action='execute'",
         * although this is implied." Any other action needs a session. */
        if (action && strcmp(action, "execute")) {
            e = fail(q, res, XERR_BAD_REQUEST, NULL, "bad-action",
                     "no session to continue");
            goto leave;
        }
        if (!(s = session_new(ad, cmd, from, room))) {
            e = fail(q, res, XERR_RESOURCE_CONSTRAINT, NULL, NULL,
                     "too many command sessions open; try later");
            goto leave;
        }
    } else {
        s = g_hash_table_lookup(ad->sessions, sid);
        /* §3.3: a session "SHOULD be valid only between one
         * requester/responder pair". */
        if (!s || s->cmd != cmd || strcmp(s->requester, from) ||
            g_strcmp0(s->room, room)) {
            e = fail(q, res, XERR_BAD_REQUEST, NULL, "bad-sessionid",
                     "no such session");
            goto leave;
        }
        if (s->expires_us <= clock_now()) {
            g_hash_table_remove(ad->sessions, sid);
            e = fail(q, res, XERR_NOT_ALLOWED, "cancel", "session-expired",
                     "the session expired; start again");
            goto leave;
        }
        if (action && !strcmp(action, "cancel")) {
            /* §2.4.3: "The responder MUST reply with the success of the
             * command" (status canceled); the session ends. */
            res->payload = command_elem(q->ctx, s, "canceled");
            g_hash_table_remove(ad->sessions, sid);
            e = XERR_NONE;
            goto leave;
        }
        if (!action || !strcmp(action, "execute"))
            action = s->execute;
        if ((!strcmp(action, "next") && !s->allow_next) ||
            (!strcmp(action, "complete") && !s->allow_complete) ||
            !strcmp(action, "prev")) {
            e = fail(q, res, XERR_BAD_REQUEST, NULL, "bad-action",
                     "that action is not offered at this stage");
            goto leave;
        }
        s->expires_us = clock_now() + ADHOC_SESSION_TTL_US;
    }
    rq = (request){
        .ad = ad,
        .ctx = q->ctx,
        .q = q,
        .res = res,
        .s = s,
        /* §3.5.1: "Responders SHOULD consider any <x type='cancel'/> to be
         * <x type='submit'/>"; the type is not looked at. */
        .form = form_of(child),
        .room = room,
        .bare = bare,
    };
    e = cmd->step(&rq, &rp);
    if (e == XERR_NONE && res->later) {
        /* the stage is answered later (adhoc_resume) */
    } else if (e != XERR_NONE) {
        if (rp.x)
            xmpp_stanza_release(rp.x);
        g_hash_table_remove(ad->sessions, s->id);
    } else {
        e = respond(ad, q, res, s, &rp);
    }
    res->after = rq.after;
    res->after_data = rq.after_data;
    g_free(rp.note);
leave:
    g_free(bare);
    return e;
}

enum xerr adhoc_iq(const iq_req *q, iq_res *res)
{
    adhoc *ad = q->data;
    const char *room = q->to->node;
    enum scope scope = room ? SCOPE_ROOM : SCOPE_SERVICE;
    const char *node = node_of(q->child);
    char *bare;
    gboolean allowed = FALSE;
    enum xerr e;

    if (stanza_is(q->child, "command", NS_COMMANDS))
        return execute(ad, q, res, room);
    bare = jid_bare_fold(q->from);
    e = authorize(ad, scope, room, bare, &allowed);
    g_free(bare);
    if (e != XERR_NONE)
        return fail(q, res, e, NULL, NULL,
                    e == XERR_ITEM_NOT_FOUND ? "no such group" : NULL);
    if (stanza_is(q->child, "query", NS_DISCO_ITEMS))
        return disco_items(q, res, room, allowed);
    return disco_info(
        q, res, node,
        strcmp(node, NS_COMMANDS) ? find_command(node, scope) : NULL,
        allowed || (find_command(node, scope) &&
                    find_command(node, scope)->scope == SCOPE_USER));
}

struct adhoc_later {
    adhoc *ad;
    iq_later *later;
    char *sid;
};

adhoc_later *adhoc_defer(request *rq)
{
    adhoc_later *l = g_new0(adhoc_later, 1);

    l->ad = rq->ad;
    l->sid = g_strdup(rq->s->id);
    l->later = iq_defer(rq->q, rq->res);
    return l;
}

void adhoc_resume(adhoc_later *l, response *rp)
{
    session *s = g_hash_table_lookup(l->ad->sessions, l->sid);
    iq_res res = {0};
    enum xerr e;

    if (s) {
        e = respond(l->ad, iq_later_req(l->later), &res, s, rp);
    } else {
        if (rp->x)
            xmpp_stanza_release(rp->x);
        e = fail(iq_later_req(l->later), &res, XERR_NOT_ALLOWED, "cancel",
                 "session-expired", "the session expired; start again");
    }
    rp->x = NULL;
    g_clear_pointer(&rp->note, g_free);
    iq_later_answer(l->later, e, &res);
    g_free(l->sid);
    g_free(l);
}

xmpp_ctx_t *adhoc_later_ctx(const adhoc_later *l)
{
    return iq_later_req(l->later)->ctx;
}

/* The other shards' requests for this shard's part of a service command. */
static const iq_route bus_routes[] = {
    {"get", "figures", SVC_MERGE_NS_ADMIN, svc_stats_serve},
    {"set", "announce", SVC_MERGE_NS_ADMIN, svc_announce_serve},
    {"set", "group", SVC_MERGE_NS_ADMIN, svc_groups_serve},
    {"get", "page", SVC_MERGE_NS_ADMIN, svc_groups_serve_page},
};

static enum xerr serve_bus(const iq_req *q, iq_res *res)
{
    return iq_dispatch(bus_routes, G_N_ELEMENTS(bus_routes), q, res);
}

int adhoc_set_bus(adhoc *ad, bus *b, uplink *up)
{
    ad->bus = b;
    ad->up = up;
    if (b && svc_accounts_serve(b, ad) < 0)
        return -1;
    return b ? bus_serve(b, SVC_MERGE_NS_ADMIN, serve_bus, ad) : 0;
}

adhoc *adhoc_new(const config *cfg, store *st, registry *reg, muc *m)
{
    adhoc *ad = g_new0(adhoc, 1);

    ad->cfg = cfg;
    ad->st = st;
    ad->started_us = clock_now();
    ad->reg = reg;
    ad->muc = m;
    ad->sessions =
        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, session_free);
    return ad;
}

void adhoc_free(adhoc *ad)
{
    if (!ad)
        return;
    g_hash_table_destroy(ad->sessions);
    g_free(ad);
}
