/* bridge: the running bot accounts and the worker events, dispatched by
 * type to contacts mode, chat mode and delivery; the registry's and the
 * engine's hooks; erasure jobs (bridge.h). */
#include "bridge_int.h"

#include <string.h>

#include "announce.h"
#include "archive.h"
#include "chat.h"
#include "contacts.h"
#include "cues.h"
#include "delivery.h"
#include "jid.h"
#include "log.h"
#include "naming.h"
#include "pictures.h"
#include "stanza.h"

/* ---- helpers every part uses ---- */

char *bridge_legacy_jid(const char *component, const char *account, char kind,
                        const char *handle)
{
    /* XEP-0106 §3.3: these characters are escaped as \hh in a localpart. */
    static const char escaped[] = " \"&'/:<>@\\";
    GString *node = g_string_new(NULL);
    char *folded, *domain, *out;

    if (kind == 'c')
        g_string_append(node, "chat\\20");
    for (const char *p = handle; *p; p++) {
        if (strchr(escaped, *p) || (guchar)*p < 0x20)
            g_string_append_printf(node, "\\%02x", (guchar)*p);
        else
            g_string_append_c(node, *p);
    }
    folded = jid_node_fold(node->str);
    domain = g_ascii_strdown(account, -1);
    out = g_strdup_printf("%s@%s.legacy.%s", folded ? folded : node->str,
                          domain, component);
    g_free(domain);
    g_free(folded);
    g_string_free(node, TRUE);
    return out;
}

gboolean bridge_is_legacy_jid(const char *component, const char *bare)
{
    const char *at = bare ? strchr(bare, '@') : NULL;
    const char *dot = at ? strstr(at + 1, ".legacy.") : NULL;

    return dot && dot > at + 1 && !strcmp(dot + 8, component);
}

char *bridge_member_jid(bridge *b, const bacct *a, const char *handle)
{
    return bridge_legacy_jid(b->cfg->jid, a->name, 'i', handle);
}

char *bridge_target_key(char kind, const char *target)
{
    return g_strdup_printf("%c%s", kind, target);
}

gboolean bridge_write(bridge *b, store_write_fn fn, void *data,
                      const char *what)
{
    GError *err = NULL;

    if (store_write(b->st, fn, data, &err) == 0)
        return TRUE;
    log_error(LOG_BRIDGE, "%s: %s", what, err ? err->message : "failed");
    g_clear_error(&err);
    return FALSE;
}

static int put_member_txn(MDB_txn *txn, const store *st, void *userdata)
{
    return members_put(txn, st, userdata);
}

gboolean bridge_put_member(bridge *b, const member_rec *m)
{
    return bridge_write(b, put_member_txn, (void *)m, "member");
}

member_rec *bridge_member_load(bridge *b, const char *account,
                               const char *handle)
{
    MDB_txn *txn = NULL;
    GError *err = NULL;
    member_rec *m = NULL;
    int rc;

    if (store_read_begin(b->st, &txn, &err) < 0) {
        log_error(LOG_BRIDGE, "%s", err->message);
        g_error_free(err);
        return NULL;
    }
    rc = members_get(txn, b->st, account, handle, &m);
    store_read_end(txn);
    if (rc != 0 && rc != MDB_NOTFOUND)
        log_error(LOG_BRIDGE, "member of %s cannot be read: %s", account,
                  mdb_strerror(rc));
    return rc == 0 ? m : NULL;
}

/* A legacy handle is part of the members' and outbox keys: one over
 * STORE_HANDLE_MAX cannot be kept, so it is not made a member, an occupant
 * or a buddy (issue 9, item 11: bounded where it enters). */
gboolean bridge_handle_fits(const bacct *a, const char *handle)
{
    if (strlen(handle) <= STORE_HANDLE_MAX)
        return TRUE;
    log_debug(LOG_BRIDGE, "account %s: ignoring a legacy handle of %zu bytes "
                          "(over %d)",
              a->name, strlen(handle), STORE_HANDLE_MAX);
    return FALSE;
}

void bridge_each_of_group(bridge *b, const char *group,
                          void (*fn)(bridge *b, bacct *a, void *data),
                          void *data)
{
    GHashTableIter it;
    gpointer v;

    g_hash_table_iter_init(&it, b->accts);
    while (g_hash_table_iter_next(&it, NULL, &v))
        if (!strcmp(((bacct *)v)->group, group))
            fn(b, v, data);
}

/* ---- erasure jobs ---- */

static gboolean jobs_cb(gpointer data)
{
    bridge *b = data;
    archive_job *job = g_queue_peek_head(&b->jobs);
    GError *err = NULL;
    gboolean done = FALSE;

    if (!job) {
        b->jobs_id = 0;
        return G_SOURCE_REMOVE;
    }
    if (archive_job_step(job, b->st, &done, &err) < 0) {
        log_error(LOG_BRIDGE, "erasure: %s; retrying", err->message);
        g_error_free(err);
        return G_SOURCE_CONTINUE;
    }
    if (done) {
        log_info(LOG_BRIDGE, "erasure done: %u messages deleted",
                 archive_job_removed(job));
        archive_job_free(g_queue_pop_head(&b->jobs));
    }
    return G_SOURCE_CONTINUE;
}

void bridge_erase_later(bridge *b, archive_job *job)
{
    g_queue_push_tail(&b->jobs, job);
    if (!b->jobs_id)
        b->jobs_id = g_idle_add(jobs_cb, b);
}

/* ---- account state ---- */

static void bacct_free(gpointer data)
{
    bacct *a = data;

    if (a->rejoin_id)
        g_source_remove(a->rejoin_id);
    g_free(a->name);
    g_free(a->protocol);
    g_free(a->group);
    g_free(a->chat);
    g_hash_table_unref(a->online);
    g_hash_table_unref(a->in_chat);
    g_hash_table_unref(a->chat_photos);
    g_hash_table_unref(a->entered);
    cues_free(a->cues);
    delivery_clear(a);
    g_free(a);
}

static void on_account_up(bridge *b, bacct *a, GVariant *body)
{
    a->up = TRUE;
    registry_set_state(b->reg, a->name, REGISTRY_ONLINE, NULL);
    log_for_account(LOG_BRIDGE, LOG_INFO, a->name, "account %s is online",
                    a->name);
    /* Presence of every member is asked for again (IRC polls buddies). */
    contacts_buddies(b, a);
    chat_join(b, a);
    pictures_set_icon(b, a, NULL);
    delivery_load(b, a);
    delivery_wake(b);
}

static void went_down(bridge *b, bacct *a)
{
    a->up = FALSE;
    contacts_exit_all(b, a, "the group's bot lost its connection");
    delivery_rewind_all(a);
}

static void on_account_down(bridge *b, bacct *a, GVariant *body)
{
    const char *why;

    g_variant_get(body, "(&s&s)", NULL, &why);
    /* a bot with a bad password retries: one line, then a count */
    log_for_account(LOG_BRIDGE, LOG_WARNING, a->name,
                    "account %s is offline: %s", a->name, why);
    registry_set_state(b->reg, a->name, REGISTRY_OFFLINE, why);
    went_down(b, a);
}

/* ---- events from legacy.c ---- */

/* Worker events by type (transports/protocol.h). */
static const struct {
    enum proto_type t;
    bridge_event_fn fn;
} handlers[] = {
    {PROTO_ACCOUNT_UP, on_account_up},
    {PROTO_ACCOUNT_DOWN, on_account_down},
    {PROTO_IM_RECEIVED, contacts_on_im},
    {PROTO_BUDDY_PRESENCE, contacts_on_presence},
    {PROTO_AUTH_REQUEST, contacts_on_auth_request},
    {PROTO_DELIVERED, delivery_on_delivered},
    {PROTO_FAILED, delivery_on_failed},
    {PROTO_CHAT_JOINED, chat_on_joined},
    {PROTO_CHAT_LEFT, chat_on_left},
    {PROTO_CHAT_USER_JOINED, chat_on_user_joined},
    {PROTO_CHAT_USER_LEFT, chat_on_user_left},
    {PROTO_CHAT_USER_RENAMED, chat_on_user_renamed},
    {PROTO_CHAT_RECEIVED, chat_on_received},
    {PROTO_CHAT_TOPIC, chat_on_topic},
    {PROTO_TYPING, cues_on_typing},
    {PROTO_ATTENTION, cues_on_attention},
    {PROTO_BUDDY_ICON, pictures_on_icon},
    {PROTO_CHAT_TYPING, cues_on_chat_typing},
    {PROTO_CHAT_ATTENTION, cues_on_chat_attention},
    {PROTO_CHAT_USER_ICON, pictures_on_chat_icon},
};

static void ev_turn(void (*fn)(void *), void *data, void *userdata)
{
    bridge *b = userdata;

    if (b->up)
        uplink_run_turn(b->up, fn, data);
}

static void ev_message(const char *account, enum proto_type t, GVariant *body,
                       void *userdata)
{
    bridge *b = userdata;
    bacct *a = g_hash_table_lookup(b->accts, account);
    GVariant *first;

    if (!a || (b->stopping && t != PROTO_DELIVERED && t != PROTO_FAILED))
        return;
    /* Every message after hello names its account first. */
    first = g_variant_n_children(body) > 0 ? g_variant_get_child_value(body, 0)
                                           : NULL;
    if (first && g_variant_is_of_type(first, G_VARIANT_TYPE_STRING) &&
        strcmp(g_variant_get_string(first, NULL), account) != 0) {
        log_warning(LOG_BRIDGE,
                    "worker of %s spoke for another account: ignored", account);
        g_variant_unref(first);
        return;
    }
    if (first)
        g_variant_unref(first);
    for (size_t i = 0; i < G_N_ELEMENTS(handlers); i++)
        if (handlers[i].t == t) {
            handlers[i].fn(b, a, body);
            return;
        }
    log_debug(LOG_BRIDGE, "worker of %s: %s ignored", account, proto_name(t));
}

typedef struct lost_args {
    bridge *b;
    char *account;
    char *why;
    gboolean quarantined;
} lost_args;

static void tell_admins(bridge *b, const char *text)
{
    xmpp_ctx_t *ctx = uplink_ctx(b->up);

    for (char **adm = b->cfg->admins; adm && *adm; adm++) {
        xmpp_stanza_t *msg = xmpp_message_new(ctx, "normal", *adm, NULL);
        xmpp_stanza_set_from(msg, b->cfg->jid);
        stanza_add_text(ctx, msg, "body", text);
        stanza_send(b->up, msg);
    }
}

static void lost_turn(void *data)
{
    lost_args *l = data;
    bacct *a = g_hash_table_lookup(l->b->accts, l->account);

    if (!a)
        return;
    registry_set_state(l->b->reg, a->name,
                       l->quarantined ? REGISTRY_QUARANTINED : REGISTRY_OFFLINE,
                       l->why);
    went_down(l->b, a);
    if (l->quarantined) {
        char *text = g_strdup_printf(
            "imgroups: the bot account %s (group %s) is quarantined: %s. "
            "Run the account-enable command to try it again.",
            a->name, a->group, l->why);
        tell_admins(l->b, text);
        g_free(text);
    }
}

static void ev_lost(const char *account, const char *why, gboolean quarantined,
                    void *userdata)
{
    bridge *b = userdata;
    lost_args l = {b, (char *)account, (char *)why, quarantined};

    if (b->up && !b->stopping)
        uplink_run_turn(b->up, lost_turn, &l);
}

/* ---- registry hooks ---- */

static void reg_start(const account_rec *rec, const char *password,
                      void *userdata)
{
    bridge *b = userdata;
    bacct *a = g_hash_table_lookup(b->accts, rec->name);

    if (!a) {
        a = g_new0(bacct, 1);
        a->b = b;
        a->name = g_strdup(rec->name);
        a->online =
            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        a->in_chat =
            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        a->chat_photos =
            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        a->entered =
            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        delivery_init(a);
        a->cues = cues_new(a);
        g_hash_table_insert(b->accts, a->name, a);
    } else {
        /* restarted with new settings: everything it had is gone */
        a->up = FALSE;
        delivery_rewind_all(a);
    }
    g_free(a->protocol);
    g_free(a->group);
    g_free(a->chat);
    a->protocol = g_strdup(rec->protocol);
    a->group = g_strdup(rec->group);
    a->chat_mode = !g_strcmp0(rec->mode, "chat");
    a->chat = g_strdup(rec->chat);
    a->burst = MAX(rec->pace_burst, 1);
    a->rate = rec->pace_rate > 0 ? rec->pace_rate : 1.0;
    a->pace.at = 0;
    if (a->chat_mode && a->chat)
        delivery_start(b, a, 'c', a->chat);
    registry_set_state(b->reg, a->name, REGISTRY_STARTING, NULL);
    legacy_start(b->lg, rec->name, rec->protocol, rec->username, password,
                 rec->options);
}

static void stop_turn(void *data)
{
    void **args = data;

    contacts_exit_all(args[0], args[1], "the group's bot was stopped");
}

static void reg_stop(const char *name, void *userdata)
{
    bridge *b = userdata;
    bacct *a = g_hash_table_lookup(b->accts, name);
    void *args[2] = {b, a};

    legacy_stop(b->lg, name);
    if (!a)
        return;
    if (b->up)
        uplink_run_turn(b->up, stop_turn, args);
    g_hash_table_remove(b->accts, name);
}

static int reg_member_add(const char *group, const char *account,
                          const char *handle, char **why, void *userdata)
{
    return contacts_add(userdata, group, account, handle, why);
}

/* ---- life ---- */

bridge *bridge_new(const config *cfg, store *st, muc *m, registry *reg)
{
    bridge *b = g_new0(bridge, 1);
    static const legacy_events ev = {ev_turn, ev_message, ev_lost};
    muc_bridge_hooks mh = {.retracted = delivery_retracted,
                           .wake = delivery_woken,
                           .subject = chat_subject,
                           .removed = contacts_removed,
                           .private_msg = contacts_private,
                           .typing = cues_room_typing,
                           .avatar = pictures_room_avatar};
    registry_hooks rh = {reg_start, reg_stop, reg_member_add, announce_all,
                         announce_delivered};

    b->cfg = cfg;
    b->st = st;
    b->m = m;
    b->reg = reg;
    b->accts = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, bacct_free);
    g_queue_init(&b->jobs);
    b->lg = legacy_new(cfg, &ev, b);
    muc_set_bridge(m, &mh, b);
    registry_set_hooks(reg, &rh, b);
    pictures_start(b);
    return b;
}

void bridge_start(bridge *b, uplink *up)
{
    b->up = up;
    registry_start_all(b->reg);
}

void bridge_shutdown(bridge *b)
{
    if (b)
        b->stopping = TRUE;
}

void bridge_free(bridge *b)
{
    if (!b)
        return;
    legacy_free(b->lg);
    if (b->pump_id)
        g_source_remove(b->pump_id);
    if (b->jobs_id)
        g_source_remove(b->jobs_id);
    g_queue_clear_full(&b->jobs, (GDestroyNotify)archive_job_free);
    g_hash_table_destroy(b->accts);
    g_free(b);
}
