/* contacts: contacts mode. Legacy members talk to the bot one to one: their
 * IMs are said in the room, their presence makes them occupants, buddy
 * requests are answered by the group's rules, and moderators' removals and
 * private messages reach them as notices (bridge_int.h). */
#include "contacts.h"

#include <string.h>

#include "affiliations.h"
#include "clock.h"
#include "commands.h"
#include "delivery.h"
#include "log.h"
#include "naming.h"
#include "outbox.h"

/* How finely seen_us follows a member's lines: a line rewrites the member
 * record at most once per this. */
#define CONTACTS_SEEN_GRAIN_US ((gint64)G_USEC_PER_SEC * 3600)

static const char *show_of(const char *status)
{
    static const char *const shows[] = {"away", "dnd"};

    for (size_t i = 0; i < G_N_ELEMENTS(shows); i++)
        if (!strcmp(status, shows[i]))
            return shows[i];
    return NULL;
}

/* Enters member m (or updates its presence); a nick that someone took
 * meanwhile is replaced by a unique one and kept. Returns the error and
 * *why when the room refuses. */
static enum xerr member_enter(bridge *b, bacct *a, member_rec *m,
                              const char **why)
{
    const char *status = g_hash_table_lookup(a->online, m->handle);
    char *bare = bridge_member_jid(b, a, m->handle);
    enum xerr e;

    e = muc_legacy_enter(b->m, b->up, a->group, bare, 'i', a->name, m->handle,
                         m->nick, status ? show_of(status) : NULL, m->photo,
                         why);
    if (e == XERR_CONFLICT) {
        char *base = naming_base(m->alias, m->handle);
        char *nick = naming_unique_in(b, a, base, bare);
        g_free(base);
        g_free(m->nick);
        m->nick = nick;
        bridge_put_member(b, m);
        e = muc_legacy_enter(b->m, b->up, a->group, bare, 'i', a->name,
                             m->handle, m->nick,
                             status ? show_of(status) : NULL, m->photo, why);
    }
    if (e == XERR_NONE)
        g_hash_table_replace(a->entered, bare, g_strdup(m->handle));
    else
        g_free(bare);
    return e;
}

void contacts_enter(bridge *b, bacct *a, member_rec *m)
{
    const char *why = NULL;

    if (g_hash_table_contains(a->online, m->handle))
        member_enter(b, a, m, &why);
}

void contacts_exit(bridge *b, bacct *a, const char *handle, const char *status)
{
    char *bare = bridge_member_jid(b, a, handle);

    muc_legacy_exit(b->m, b->up, a->group, bare, status);
    g_hash_table_remove(a->entered, bare);
    g_free(bare);
}

void contacts_exit_all(bridge *b, bacct *a, const char *why)
{
    GHashTableIter it;
    gpointer k, v;

    g_hash_table_iter_init(&it, a->online);
    while (g_hash_table_iter_next(&it, &k, NULL))
        contacts_exit(b, a, k, why);
    g_hash_table_iter_init(&it, a->in_chat);
    while (g_hash_table_iter_next(&it, NULL, &v))
        muc_legacy_exit(b->m, b->up, a->group, v, why);
    g_hash_table_remove_all(a->online);
    g_hash_table_remove_all(a->in_chat);
    g_hash_table_remove_all(a->entered);
    a->chat_in = FALSE;
}

static void welcome(bridge *b, bacct *a, const member_rec *m)
{
    const group_cfg *g = muc_group(b->m, a->group);
    gint32 days =
        g && g->keep_days >= 0 ? g->keep_days : (gint32)b->cfg->keep_days;
    char *kept = days > 0
                     ? g_strdup_printf("kept in its archive for %d days", days)
                     : g_strdup("kept in its archive");
    char *text = g_strdup_printf(
        "Welcome to the group %s@%s. Everything you send me is said in the "
        "group as \"%s\" and %s; what the group says reaches you from me. "
        "Members see your nick, never your address. Send /help for "
        "commands, /leave to stop, /forgetme to leave and erase what the "
        "group keeps about you.",
        a->group, b->cfg->jid, m->nick, kept);

    delivery_notice(b, a, m->handle, text);
    g_free(text);
    g_free(kept);
}

/* A member is written with its delivery cursor at the archive's head: it
 * gets what is said from now on. */
static int member_new_txn(MDB_txn *txn, const store *st, void *userdata)
{
    const member_rec *m = userdata;
    int rc = members_put(txn, st, m);

    if (rc == 0)
        rc = outbox_cursor_start(txn, st, m->account, OUTBOX_KIND_IM,
                                 m->handle, m->group);
    return rc;
}

/* A new member of a's group, or NULL (told why) when the group refuses. */
static member_rec *member_join(bridge *b, bacct *a, const char *handle,
                               const char *alias)
{
    char *bare = bridge_member_jid(b, a, handle);
    const char *why = NULL;
    member_rec *m = NULL;
    char *base;

    /* The room's options decide who may be in the group (members-only is
     * one of them); the bridge only words the refusal for the network. */
    switch (muc_may_enter(b->m, a->group, bare, &why)) {
    case XERR_NONE:
        break;
    case XERR_ITEM_NOT_FOUND:
        delivery_notice(b, a, handle, "This group does not exist any more.");
        goto leave;
    case XERR_FORBIDDEN:
        delivery_notice(b, a, handle, "You are banned from this group.");
        goto leave;
    default: {
        char *text = g_strdup_printf(
            "This group is for members only. Ask one of its owners to add "
            "you: they need your %s handle, %s.",
            naming_network(a->protocol), handle);
        delivery_notice(b, a, handle, text);
        g_free(text);
        goto leave;
    }
    }
    m = g_new0(member_rec, 1);
    m->account = g_strdup(a->name);
    m->handle = g_strdup(handle);
    m->group = g_strdup(a->group);
    m->alias = alias && *alias ? g_strdup(alias) : NULL;
    base = naming_base(alias, handle);
    m->nick = naming_unique_in(b, a, base, bare);
    g_free(base);
    m->since_us = m->seen_us = clock_real();
    if (!bridge_write(b, member_new_txn, m, "member")) {
        member_rec_free(m);
        m = NULL;
        goto leave;
    }
    legacy_send(b->lg, a->name, PROTO_BUDDY_ADD,
                g_variant_new("(ss)", a->name, handle));
    log_info(LOG_BRIDGE, "account %s: a new member joined %s", a->name,
             a->group);
leave:
    g_free(bare);
    return m;
}

void contacts_on_im(bridge *b, bacct *a, GVariant *body)
{
    const char *handle, *alias, *text;
    member_rec *m;
    const char *why = NULL;
    enum xerr e = XERR_NONE;
    char *bare;
    gint64 now;

    g_variant_get(body, "(&s&s&s&s)", NULL, &handle, &alias, &text);
    if (!*handle || !*text || !bridge_handle_fits(a, handle))
        return;
    /* Whoever writes to the bot is online and can be answered. */
    if (!g_hash_table_contains(a->online, handle))
        g_hash_table_insert(a->online, g_strdup(handle), g_strdup(""));
    if (a->chat_mode) {
        char *t = g_strdup_printf("I relay the chat %s; talk to the group "
                                  "there.",
                                  a->chat);
        delivery_notice(b, a, handle, t);
        g_free(t);
        return;
    }
    m = bridge_member_load(b, a->name, handle);
    if (!m && !(m = member_join(b, a, handle, alias)))
        return;
    now = clock_real();
    if (!m->welcomed || now - m->seen_us >= CONTACTS_SEEN_GRAIN_US) {
        /* Issue 10, item 6: the record is written when something changed,
         * not for every line (seen_us to within CONTACTS_SEEN_GRAIN_US). */
        if (!m->welcomed) {
            /* DESIGN, Privacy: told once, on first contact. */
            welcome(b, a, m);
            m->welcomed = TRUE;
        }
        m->seen_us = now;
        bridge_put_member(b, m);
    }
    if (text[0] == '/' && text[1] != '/' && !g_str_has_prefix(text, "/me ")) {
        if (!commands_run(b, a, m, text))
            delivery_notice(b, a, handle,
                            "Unknown command; /help lists them. To "
                            "say a line starting with /, start it "
                            "with //.");
        goto leave;
    }
    if (text[0] == '/' && text[1] == '/')
        text++;
    bare = bridge_member_jid(b, a, handle);
    /* Already in the room as this nick: their presence has not changed
     * (that comes with buddy presence), so it is not broadcast again. */
    if (g_strcmp0(muc_legacy_nick(b->m, a->group, bare), m->nick) != 0)
        e = member_enter(b, a, m, &why);
    if (e == XERR_NONE)
        e = muc_legacy_say(b->m, b->up, a->group, bare, text, NULL, &why);
    g_free(bare);
    if (e != XERR_NONE) {
        char *t = g_strdup_printf("Not said in the group: %s.",
                                  why ? why : xerr_condition(e));
        delivery_notice(b, a, handle, t);
        g_free(t);
    }
leave:
    member_rec_free(m);
}

void contacts_on_presence(bridge *b, bacct *a, GVariant *body)
{
    const char *handle, *alias, *status;
    member_rec *m;
    const char *why = NULL, *before;
    gboolean was, same;
    char *bare;

    g_variant_get(body, "(&s&s&s&s)", NULL, &handle, &alias, &status);
    if (!bridge_handle_fits(a, handle))
        return;
    before = g_hash_table_lookup(a->online, handle);
    was = before != NULL;
    same = was && !g_strcmp0(show_of(before), show_of(status));
    if (!strcmp(status, "offline"))
        g_hash_table_remove(a->online, handle);
    else
        g_hash_table_replace(a->online, g_strdup(handle), g_strdup(status));
    m = bridge_member_load(b, a->name, handle);
    if (!m)
        return;
    bare = bridge_member_jid(b, a, handle);
    if (!strcmp(status, "offline"))
        contacts_exit(b, a, handle, NULL);
    else {
        /* Issue 10, item 6: a presence that changes nothing for the room
         * (same show, already in as this nick) is not broadcast again. */
        if (!same ||
            g_strcmp0(muc_legacy_nick(b->m, a->group, bare), m->nick) != 0)
            member_enter(b, a, m, &why);
        if (!was)
            delivery_back(b, a, handle);
    }
    g_free(bare);
    member_rec_free(m);
}

void contacts_on_auth_request(bridge *b, bacct *a, GVariant *body)
{
    const char *handle;
    char *bare;
    const char *why = NULL;
    gboolean accept;

    g_variant_get(body, "(&s&s&s)", NULL, &handle, NULL);
    bare = bridge_member_jid(b, a, handle);
    /* Whom the room admits, its options decide: open groups anyone not
     * banned, members-only groups their members. */
    accept = bridge_handle_fits(a, handle) &&
             muc_may_enter(b->m, a->group, bare, &why) == XERR_NONE;
    log_info(LOG_BRIDGE, "account %s: %s a buddy request", a->name,
             accept ? "accepting" : "refusing");
    legacy_send(b->lg, a->name, PROTO_AUTH_ANSWER,
                g_variant_new("(ssb)", a->name, handle, accept));
    g_free(bare);
}

static int buddy_add_each(const member_rec *m, void *userdata)
{
    bridge *b = ((void **)userdata)[0];
    bacct *a = ((void **)userdata)[1];

    legacy_send(b->lg, a->name, PROTO_BUDDY_ADD,
                g_variant_new("(ss)", a->name, m->handle));
    return 0;
}

void contacts_buddies(bridge *b, bacct *a)
{
    void *pair[2] = {b, a};
    MDB_txn *txn = NULL;
    GError *err = NULL;

    if (store_read_begin(b->st, &txn, &err) < 0) {
        log_error(LOG_BRIDGE, "%s", err->message);
        g_error_free(err);
        return;
    }
    members_foreach_account(txn, b->st, a->name, buddy_add_each, pair);
    store_read_end(txn);
}

typedef struct add_args {
    member_rec *m;
    const char *bare;
} add_args;

static int member_add_txn(MDB_txn *txn, const store *st, void *userdata)
{
    add_args *ad = userdata;
    enum affiliation aff = AFF_NONE;
    int rc = member_new_txn(txn, st, ad->m);

    if (rc == 0)
        rc = affiliations_get(txn, st, ad->m->group, ad->bare, &aff);
    if (rc == 0 && aff == AFF_NONE)
        rc =
            affiliations_set(txn, st, ad->m->group, ad->bare, AFF_MEMBER, NULL);
    return rc;
}

int contacts_add(bridge *b, const char *group, const char *account,
                 const char *handle, char **why)
{
    bacct *a = g_hash_table_lookup(b->accts, account);
    member_rec *m;
    char *bare, *base;
    add_args ad;

    if (!a || strcmp(a->group, group) != 0 || a->chat_mode) {
        *why = g_strdup_printf("no running contacts-mode account %s serves "
                               "this group",
                               account);
        return -1;
    }
    if (!*handle) {
        *why = g_strdup("the handle is empty");
        return -1;
    }
    bare = bridge_member_jid(b, a, handle);
    m = bridge_member_load(b, account, handle);
    if (!m) {
        m = g_new0(member_rec, 1);
        m->account = g_strdup(account);
        m->handle = g_strdup(handle);
        m->group = g_strdup(group);
        base = naming_base(NULL, handle);
        m->nick = naming_unique_in(b, a, base, bare);
        g_free(base);
        m->since_us = clock_real();
    }
    ad.m = m;
    ad.bare = bare;
    if (!bridge_write(b, member_add_txn, &ad, "member")) {
        *why = g_strdup("the store refused the change");
        member_rec_free(m);
        g_free(bare);
        return -1;
    }
    legacy_send(b->lg, account, PROTO_BUDDY_ADD,
                g_variant_new("(ss)", account, handle));
    member_rec_free(m);
    g_free(bare);
    return 0;
}

/* ---- room events (muc hooks) ---- */

/* The account of group whose member or participant bare is, or NULL. */
static bacct *owner_of(bridge *b, const char *group, const char *bare)
{
    GHashTableIter it;
    gpointer v;

    g_hash_table_iter_init(&it, b->accts);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        bacct *a = v;
        char *suffix = g_strdup_printf("@%s.legacy.%s", a->name, b->cfg->jid);
        char *lower = g_ascii_strdown(suffix, -1);
        gboolean match =
            strcmp(a->group, group) == 0 && g_str_has_suffix(bare, lower);
        g_free(suffix);
        g_free(lower);
        if (match)
            return a;
    }
    return NULL;
}

typedef struct find_args {
    bridge *b;
    bacct *a;
    const char *bare;
    char *handle;
} find_args;

static int find_member(const member_rec *m, void *userdata)
{
    find_args *f = userdata;
    char *jid;

    if (strcmp(m->account, f->a->name) != 0)
        return 0;
    jid = bridge_member_jid(f->b, f->a, m->handle);
    if (!strcmp(jid, f->bare))
        f->handle = g_strdup(m->handle);
    g_free(jid);
    return f->handle ? 1 : 0;
}

/* The handle of the member of a whose bare JID is bare (g_free), or NULL:
 * found at once for a member in the room (issue 10, item 6), by a walk of
 * the group's members otherwise. */
static char *handle_of(bridge *b, bacct *a, const char *bare)
{
    find_args f = {b, a, bare, NULL};
    MDB_txn *txn = NULL;
    GError *err = NULL;
    const char *in = g_hash_table_lookup(a->entered, bare);

    if (in)
        return g_strdup(in);
    if (store_read_begin(b->st, &txn, &err) < 0) {
        g_error_free(err);
        return NULL;
    }
    members_foreach_group(txn, b->st, a->group, find_member, &f);
    store_read_end(txn);
    return f.handle;
}

void contacts_removed(const char *group, const char *bare, int code,
                      const char *reason, void *userdata)
{
    static const struct {
        int code;
        const char *what, *after;
    } whys[] = {
        {301, "You have been banned from the group", ""},
        {307, "A moderator removed you from the group",
         " Message me to come back."},
    };
    bridge *b = userdata;
    bacct *a = owner_of(b, group, bare);
    const char *what = "You are no longer a member of the group", *after = "";
    char *handle, *text;

    if (!a)
        return;
    handle = handle_of(b, a, bare);
    if (!handle) {
        /* a chat participant: it stays out until it speaks again */
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, a->in_chat);
        while (g_hash_table_iter_next(&it, NULL, &v))
            if (!strcmp(v, bare))
                g_hash_table_iter_remove(&it);
        return;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(whys); i++)
        if (whys[i].code == code) {
            what = whys[i].what;
            after = whys[i].after;
        }
    text = g_strdup_printf("%s%s%s.%s", what, reason ? ": " : "",
                           reason ? reason : "", after);
    delivery_notice(b, a, handle, text);
    g_free(text);
    g_free(handle);
}

enum xerr contacts_private(const char *group, const char *bare,
                           const char *from_nick, const char *body,
                           void *userdata)
{
    bridge *b = userdata;
    bacct *a = owner_of(b, group, bare);
    char *handle = a ? handle_of(b, a, bare) : NULL;
    char *nick;

    if (!handle)
        return XERR_ITEM_NOT_FOUND;
    nick = g_strdup_printf("%s (privately)", from_nick);
    delivery_queue(b, a, OUTBOX_KIND_IM, handle, nick, body);
    g_free(nick);
    g_free(handle);
    return XERR_NONE;
}
