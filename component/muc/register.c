/* register: registered nicks (XEP-0045 §7.10, §7.12): the form, its
 * submission and removal, the x-roomuser-item node, and the join rule. */
#include "register.h"

#include <string.h>

#include "bounds.h"
#include "form.h"
#include "jid.h"
#include "log.h"
#include "muc_int.h"
#include "nick.h"
#include "nicks.h"
#include "opt_registration.h"
#include "options.h"
#include "stanza.h"

/* Who may register with r, as Prosody's MUC decides (register.lib.lua):
 * not an outcast; in a members-only room, only members and above (the
 * others could not use the nick). In an open room anyone may (Prosody's
 * allow_unaffiliated_register), without becoming a member. */
static enum xerr may_register(const muc_call *c, const char *bare,
                              const char **why)
{
    enum affiliation aff = c->o ? c->o->aff : muc_affiliation(c->m, c->r, bare);

    if (aff == AFF_OUTCAST) {
        *why = "you are banned from this group";
        return XERR_FORBIDDEN;
    }
    return options_admit(c->r->cfg, aff, why);
}

/* The asker's bare JID (folded, g_free) if it may register with the room;
 * NULL with the error otherwise. */
static char *asker(const iq_req *q, iq_res *res, enum xerr *e)
{
    const char *why = NULL;
    char *bare = jid_bare_fold(q->from);

    *e = XERR_NONE;
    if (!bare) {
        *e = XERR_JID_MALFORMED;
        return NULL;
    }
    if (strlen(bare) > NICKS_JID_MAX)
        *e = iq_fail(res, XERR_NOT_ACCEPTABLE, "your address is too long");
    else if ((*e = may_register(q->data, bare, &why)) != XERR_NONE)
        iq_fail(res, *e, why);
    if (*e != XERR_NONE)
        g_clear_pointer(&bare, g_free);
    return bare;
}

/* bare's registered nick in group as displayed (g_free; *key too when not
 * NULL), NULL when none. Returns 0 or -1 (logged) on a store error. */
static int registered(muc *m, const char *group, const char *bare, char **nick,
                      char **key)
{
    MDB_txn *txn = NULL;
    GError *err = NULL;
    int rc;

    *nick = NULL;
    if (store_read_begin(m->st, &txn, &err) < 0) {
        log_error_about(LOG_STORE, group, "registered nicks: %s",
                        err ? err->message : "?");
        g_clear_error(&err);
        return -1;
    }
    rc = nicks_of(txn, m->st, group, bare, nick, key);
    store_read_end(txn);
    if (rc != 0) {
        log_error_about(LOG_STORE, group, "registered nick: %s",
                        mdb_strerror(rc));
        return -1;
    }
    return 0;
}

enum xerr register_get(const iq_req *q, iq_res *res)
{
    muc_call *c = q->data;
    xmpp_ctx_t *ctx = q->ctx;
    xmpp_stanza_t *query, *form;
    char *nick = NULL;
    enum xerr e;
    char *bare = asker(q, res, &e);

    if (!bare)
        return e;
    if (registered(c->m, c->r->name, bare, &nick, NULL) < 0) {
        g_free(bare);
        return XERR_INTERNAL_SERVER_ERROR;
    }
    g_free(bare);
    query = stanza_elem(ctx, "query", NS_REGISTER);
    if (nick) {
        /* XEP-0045 §7.10: "If the user is already registered, the room
         * SHOULD return ... an empty <registered/> element" (with the nick,
         * as XEP-0077 §3.1 and Prosody give it). */
        stanza_add(query, stanza_elem(ctx, "registered", NULL));
        stanza_add_text(ctx, query, "username", nick);
        g_free(nick);
    } else {
        form = form_new(ctx, "form", "Register a nick with this group",
                        "Nobody else may use the nick you register here.");
        form_add_type(ctx, form, FORM_REGISTER);
        form_field(ctx, form, "muc#register_roomnick", "text-single",
                   "Nickname", NULL, TRUE);
        stanza_add(query, form);
    }
    res->payload = query;
    return XERR_NONE;
}

typedef struct reg_args {
    const char *group, *bare, *nick, *key; /* nick NULL: remove */
    gboolean full;                         /* out: the group holds its most */
} reg_args;

static int reg_txn(MDB_txn *txn, const store *st, void *userdata)
{
    reg_args *a = userdata;
    char *had = NULL;
    guint n = 0;
    int rc;

    if (!a->nick)
        return nicks_unregister(txn, st, a->group, a->bare);
    /* A user changing their nick does not add one. */
    rc = nicks_of(txn, st, a->group, a->bare, &had, NULL);
    if (rc == 0 && !had)
        rc = nicks_count(txn, st, a->group, REGISTER_NICKS_MAX, &n);
    g_free(had);
    if (rc == 0 && n >= REGISTER_NICKS_MAX) {
        a->full = TRUE;
        return 1; /* nothing to write */
    }
    return rc ? rc
              : nicks_register(txn, st, a->group, a->bare, a->nick, a->key);
}

/* Stores a (a registration, or its removal) and says how it went. */
static enum xerr reg_store(muc_call *c, iq_res *res, reg_args *a)
{
    GError *err = NULL;
    occ asker = {.bare = (char *)a->bare};
    int rc;

    /* Each one is a synced write: it takes a token of the asker's bucket
     * in the room ([limits] rate, burst), like anything said there. */
    if (!muc_rate_allows(c->m, c->r, c->o ? c->o : &asker))
        return iq_fail(res, XERR_RESOURCE_CONSTRAINT,
                       "you are changing your registration too fast");
    rc = store_write(c->m->st, reg_txn, a, &err);
    if (rc == 0)
        return XERR_NONE;
    g_clear_error(&err);
    if (a->full)
        return iq_fail(res, XERR_RESOURCE_CONSTRAINT,
                       "this group holds as many registered nicks as it may");
    if (rc == NICKS_TAKEN)
        /* XEP-0045 §7.10: "If the desired room nickname is already
         * reserved for that room, the room MUST return a <conflict/>
         * error to the user". */
        return iq_fail(res, XERR_CONFLICT, "that nick is registered");
    log_error_about(LOG_STORE, c->r->name, "registering a nick: %s",
                    rc < 0 ? mdb_strerror(rc) : "?");
    return XERR_INTERNAL_SERVER_ERROR;
}

/* The submitted nick, prepared (g_free) with its key; NULL with the error
 * otherwise. */
static char *submitted_nick(xmpp_stanza_t *form, iq_res *res, char **key,
                            enum xerr *e)
{
    const char *why = NULL;
    char *raw = NULL, *nick = NULL;

    *key = NULL;
    *e = XERR_NONE;
    /* Bounded where it enters: a nick is at most BOUND_NICK_BYTES once
     * prepared, and preparation never more than quadruples it. */
    if (form_text_max(form, "muc#register_roomnick", TRUE, 4 * BOUND_NICK_BYTES,
                      &raw) < 0 ||
        !raw)
        *e = iq_fail(res, XERR_BAD_REQUEST, "a nick is required");
    /* The same RFC 8266 rule as a join (presence.c); bad-request as
     * Prosody answers a nick it refuses here. */
    else if (nick_prepare(raw, &nick, &why) < 0 ||
             nick_key(nick, key, &why) < 0)
        *e = iq_fail(res, XERR_BAD_REQUEST, why);
    g_free(raw);
    if (*e != XERR_NONE)
        g_clear_pointer(&nick, g_free);
    return nick;
}

enum xerr register_set(const iq_req *q, iq_res *res)
{
    muc_call *c = q->data;
    xmpp_stanza_t *form = form_of(q->child);
    const char *type = form ? xmpp_stanza_get_type(form) : NULL;
    char *nick = NULL, *key = NULL;
    const occ *holder;
    reg_args a = {c->r->name, NULL, NULL, NULL, FALSE};
    enum xerr e;
    char *bare = asker(q, res, &e);

    if (!bare)
        return e;
    a.bare = bare;
    if (xmpp_stanza_get_child_by_name(q->child, "remove")) {
        /* XEP-0077 §3.2, as Prosody: the registration goes; having none
         * is no error. */
        e = reg_store(c, res, &a);
        goto leave;
    }
    if (form && g_strcmp0(type, "cancel") == 0) {
        e = XERR_NONE; /* XEP-0004 §3.1: the user gave up */
        goto leave;
    }
    if (!form || !form_is(form, FORM_REGISTER)) {
        e = iq_fail(res, XERR_BAD_REQUEST, "a muc#register form is needed");
        goto leave;
    }
    if (!(nick = submitted_nick(form, res, &key, &e)))
        goto leave;
    /* Someone else in the room under that nick now: theirs until they
     * leave (Prosody answers conflict too). */
    holder = room_occ_by_nick(c->r, nick);
    if (holder && strcmp(holder->bare, bare) != 0) {
        e = iq_fail(res, XERR_CONFLICT, "that nick is in use");
        goto leave;
    }
    a.nick = nick;
    a.key = key;
    if ((e = reg_store(c, res, &a)) == XERR_NONE)
        log_info(LOG_ROUTER, "group %s: a nick registered", c->r->name);
leave:
    g_free(key);
    g_free(nick);
    g_free(bare);
    return e;
}

enum xerr register_roomuser_item(const iq_req *q, iq_res *res)
{
    muc_call *c = q->data;
    xmpp_ctx_t *ctx = q->ctx;
    xmpp_stanza_t *query, *id;
    char *bare = jid_bare_fold(q->from), *nick = NULL;

    if (!bare)
        return XERR_JID_MALFORMED;
    if (strlen(bare) <= NICKS_JID_MAX &&
        registered(c->m, c->r->name, bare, &nick, NULL) < 0) {
        g_free(bare);
        return XERR_INTERNAL_SERVER_ERROR;
    }
    g_free(bare);
    query = stanza_elem(ctx, "query", NS_DISCO_INFO);
    xmpp_stanza_set_attribute(query, "node", REGISTER_NODE);
    /* XEP-0045 §7.12: the reserved nick is the name of a conference/text
     * identity; a user without one gets the node empty (as Prosody). */
    if (nick) {
        id = stanza_elem(ctx, "identity", NULL);
        xmpp_stanza_set_attribute(id, "category", "conference");
        xmpp_stanza_set_attribute(id, "type", "text");
        xmpp_stanza_set_attribute(id, "name", nick);
        stanza_add(query, id);
        g_free(nick);
    }
    res->payload = query;
    return XERR_NONE;
}

/* Who registered nick (prepared) with r, in *owner, and when mine is not
 * NULL bare's own registration there, in *mine (g_free both; NULL: none).
 * One read of the store. Returns 0; -2 when nick has no comparison form
 * (RFC 8266 §5: it does not settle); -1 (logged) when the store fails. */
static int lookup(muc *m, const room *r, const char *nick, const char *bare,
                  char **owner, char **mine)
{
    MDB_txn *txn = NULL;
    GError *err = NULL;
    const char *why = NULL;
    char *key = NULL;
    int rc;

    *owner = NULL;
    if (mine)
        *mine = NULL;
    if (nick_key(nick, &key, &why) < 0)
        return -2;
    if (store_read_begin(m->st, &txn, &err) < 0) {
        log_error_about(LOG_STORE, r->name, "registered nicks: %s",
                        err ? err->message : "?");
        g_clear_error(&err);
        g_free(key);
        return -1;
    }
    rc = nicks_owner(txn, m->st, r->name, key, owner);
    if (rc == 0 && mine && strlen(bare) <= NICKS_JID_MAX)
        rc = nicks_of(txn, m->st, r->name, bare, mine, NULL);
    store_read_end(txn);
    g_free(key);
    if (rc != 0) {
        log_error_about(LOG_STORE, r->name, "registered nicks: %s",
                        mdb_strerror(rc));
        g_clear_pointer(owner, g_free);
        return -1;
    }
    return 0;
}

enum xerr register_join_check(muc *m, const room *r, const occ *o,
                              const char *bare, const char *nick,
                              const char **why)
{
    char *owner = NULL, *mine = NULL;
    gboolean lockdown = opt_registration_applies(r->cfg);
    enum xerr e = XERR_NONE;

    switch (lookup(m, r, nick, bare, &owner, lockdown ? &mine : NULL)) {
    case -2:
        *why = "that nick cannot be compared with others (RFC 8266)";
        return XERR_NOT_ACCEPTABLE;
    case -1:
        *why = NULL;
        return XERR_INTERNAL_SERVER_ERROR;
    }
    if (owner && strcmp(owner, bare) != 0) {
        /* XEP-0045 §7.10: a registered nick is reserved; Prosody answers
         * conflict, as for a nick in use (§7.2.9). */
        *why = "that nick is registered by someone else";
        e = XERR_CONFLICT;
    } else if (lockdown) {
        enum affiliation aff = o ? o->aff : muc_affiliation(m, r, bare);
        e = opt_registration_check(r->cfg, aff, mine != NULL, owner != NULL,
                                   why);
    }
    g_free(mine);
    g_free(owner);
    return e;
}

gboolean register_taken(muc *m, const room *r, const char *bare,
                        const char *nick)
{
    char *owner = NULL;
    gboolean taken;

    if (lookup(m, r, nick, NULL, &owner, NULL) < 0)
        return TRUE;
    taken = owner && g_strcmp0(owner, bare) != 0;
    g_free(owner);
    return taken;
}
