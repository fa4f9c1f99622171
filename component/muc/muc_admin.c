/* muc_admin: the muc#admin namespace (XEP-0045 §8 moderator and §9 admin
 * use cases, and the owner/admin lists of §10.3–§10.8): role changes by
 * nick, affiliation changes by bare JID, the role and affiliation lists,
 * and removing an occupant (kick, ban, loss of membership). */
#include "muc_int.h"
#include "presence.h"

#include <string.h>

#include "affiliations.h"
#include "bounds.h"
#include "jid.h"
#include "log.h"
#include "options.h"
#include "stanza.h"

/* Affiliations rank in enum order: AFF_OWNER (0) is highest, AFF_OUTCAST
 * lowest; a smaller value outranks a larger one. */
#define OUTRANKS(a, b) ((a) < (b))

/* The request being handled; everything borrowed for its duration. */
typedef struct admin_req {
    muc *m;
    uplink *up;
    room *r;
    xmpp_stanza_t *st;
    xmpp_stanza_t *query;
    occ *actor;                 /* the requester as an occupant, or NULL */
    char *actor_bare;           /* folded bare JID of the requester (owned) */
    enum affiliation actor_aff; /* the requester's affiliation */
    iq_res *res;                /* the answer's payload and text */
    muc_call *call;             /* for what is told after the answer */
} admin_req;

/* One validated <item/> of a set. */
typedef struct change {
    gboolean is_role;
    occ *o;               /* role change: the occupant (borrowed) */
    enum role role;       /* role change: the new role */
    char *bare;           /* affiliation change: folded bare JID (owned) */
    enum affiliation aff; /* affiliation change: the new affiliation */
    enum affiliation old; /* affiliation change: the one it replaces */
    char *reason;         /* NULL if none (owned) */
} change;

/* What happens to one occupant once a set is stored. */
typedef struct outcome {
    occ *o;             /* borrowed; freed by the removal when code != 0 */
    int code;           /* 0: updated presence; else removed with this status */
    const char *reason; /* borrowed from the change */
    gboolean self_told; /* the removed occupant was told already */
} outcome;

static void change_free(gpointer data)
{
    change *c = data;

    g_free(c->bare);
    g_free(c->reason);
    g_free(c);
}

/* ---- small helpers ---- */

static gboolean occ_is(const occ *o, const char *bare)
{
    char *b = jid_bare_fold(o->bare);
    gboolean same = b && strcmp(b, bare) == 0;

    g_free(b);
    return same;
}

static int parse_role(const char *s, enum role *out)
{
    for (enum role i = ROLE_MODERATOR; i <= ROLE_NONE; i++) {
        if (s && strcmp(s, role_name(i)) == 0) {
            *out = i;
            return 0;
        }
    }
    return -1;
}

static gboolean is_item(xmpp_stanza_t *c)
{
    return xmpp_stanza_is_tag(c) &&
           g_strcmp0(xmpp_stanza_get_name(c), "item") == 0;
}

/* The first occupant whose real bare JID is bare (folded), or NULL. */
static occ *occ_by_bare(room *r, const char *bare)
{
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, r->by_nick);
    while (g_hash_table_iter_next(&it, NULL, &value))
        if (occ_is(value, bare))
            return value;
    return NULL;
}

/* ---- set: validation ---- */

/* A role change by a moderator (XEP-0045 §8.2–§8.5, §9.6–§9.8). */
static enum xerr check_role(const admin_req *q, const change *c,
                            const char **why)
{
    const occ *t = c->o;

    /* §8: "any of the following administrative requests MUST be denied if
     * the <user@host> of the 'from' address of the request does not match
     * the bare JID portion of one of the moderators; in this case, the
     * service MUST return a <forbidden/> error." */
    if (!q->actor || q->actor->role != ROLE_MODERATOR) {
        *why = "only moderators change roles";
        return XERR_FORBIDDEN;
    }
    /* §8.2: "A user cannot be kicked by a moderator with a lower
     * affiliation. [...] the service MUST deny the request and return a
     * <not-allowed/> error to the sender". */
    if (OUTRANKS(t->aff, q->actor_aff)) {
        *why = "that occupant's affiliation is above yours";
        return XERR_NOT_ALLOWED;
    }
    if (c->role == ROLE_NONE)
        return XERR_NONE;
    /* §9: granting and revoking moderator status are admin use cases:
     * "MUST be denied if the <user@host> of the 'from' address of the
     * request does not match the bare JID of one of the room admins; in
     * this case, the service MUST return a <forbidden/> error." */
    if ((c->role == ROLE_MODERATOR || t->role == ROLE_MODERATOR) &&
        q->actor_aff != AFF_OWNER && q->actor_aff != AFF_ADMIN) {
        *why = "only admins and owners grant or revoke moderator status";
        return XERR_FORBIDDEN;
    }
    /* §9.7: "an admin MUST NOT be allowed to revoke moderator privileges
     * from a user whose affiliation is "owner" or "admin""; §8.4: "a
     * service MUST NOT allow the voice privileges of an admin or owner to
     * be removed by anyone." */
    if ((t->aff == AFF_OWNER || t->aff == AFF_ADMIN) &&
        c->role != ROLE_MODERATOR) {
        *why = "owners and admins stay moderators";
        return XERR_NOT_ALLOWED;
    }
    /* §8.4: "A moderator MUST NOT be able to revoke voice from a user
     * whose affiliation is at or above the moderator's level." */
    if (c->role == ROLE_VISITOR && !OUTRANKS(q->actor_aff, t->aff)) {
        *why = "that occupant's affiliation is not below yours";
        return XERR_NOT_ALLOWED;
    }
    return XERR_NONE;
}

/* An affiliation change by an admin or owner (XEP-0045 §9.1–§9.5,
 * §10.3–§10.8). */
static enum xerr check_aff(const admin_req *q, const change *c,
                           const char **why)
{
    gboolean to_high = c->aff == AFF_OWNER || c->aff == AFF_ADMIN;
    gboolean from_high = c->old == AFF_OWNER || c->old == AFF_ADMIN;

    /* §9: "MUST be denied if the <user@host> of the 'from' address of the
     * request does not match the bare JID of one of the room admins; in
     * this case, the service MUST return a <forbidden/> error." */
    if (q->actor_aff != AFF_OWNER && q->actor_aff != AFF_ADMIN) {
        *why = "only admins and owners change affiliations";
        return XERR_FORBIDDEN;
    }
    /* §10.5, §10.8: "Only owners shall be allowed to modify the owner
     * list. If a non-owner attempts to view or modify the owner list, the
     * service MUST deny the request and return a <forbidden/> error". */
    if (to_high && q->actor_aff != AFF_OWNER) {
        *why = "only owners grant owner or admin status";
        return XERR_FORBIDDEN;
    }
    /* §9.1: "a user cannot be banned by an admin with a lower affiliation.
     * Therefore, if an admin attempts to ban an owner, the service MUST
     * deny the request and return a <not-allowed/> error"; admins change
     * only members and unaffiliated users (§5.2.2). */
    if (from_high && q->actor_aff != AFF_OWNER) {
        *why = "only owners change an owner's or admin's affiliation";
        return XERR_NOT_ALLOWED;
    }
    /* §9.1: "If an admin or owner attempts to ban himself, the service
     * MUST deny the request and return a <conflict/> error". */
    if (c->aff == AFF_OUTCAST && q->actor_bare &&
        strcmp(c->bare, q->actor_bare) == 0) {
        *why = "you cannot ban yourself";
        return XERR_CONFLICT;
    }
    return XERR_NONE;
}

/* Parses one <item/> of a set into c and checks the requester may make
 * that change. */
static enum xerr parse_item(const admin_req *q, xmpp_stanza_t *item, change *c,
                            const char **why)
{
    const char *nick = xmpp_stanza_get_attribute(item, "nick");
    const char *jid = xmpp_stanza_get_attribute(item, "jid");
    const char *role = xmpp_stanza_get_attribute(item, "role");
    const char *aff = xmpp_stanza_get_attribute(item, "affiliation");

    /* "A MUC client MUST send only the 'affiliation' attribute or the
     * 'role' attribute in the <item/> element [...]; if a moderator, admin,
     * or owner attempts to modify both the affiliation and role of the
     * same item, the service MUST return a <bad-request/> error". */
    if ((role != NULL) == (aff != NULL)) {
        *why = "an item changes either a role or an affiliation";
        return XERR_BAD_REQUEST;
    }
    /* kept (the outcast list) and re-sent: cut, as bounds.h says */
    c->reason = stanza_reason(uplink_ctx(q->up), item);
    if (role) {
        c->is_role = TRUE;
        if (parse_role(role, &c->role) < 0) {
            *why = "unknown role";
            return XERR_BAD_REQUEST;
        }
        if (nick)
            c->o = room_occ_by_nick(q->r, nick);
        else if (jid) {
            char *bare = jid_bare_fold(jid);
            if (!bare) {
                *why = "that JID is malformed";
                return XERR_JID_MALFORMED;
            }
            c->o = room_occ_by_full(q->r, jid);
            if (!c->o)
                c->o = occ_by_bare(q->r, bare);
            g_free(bare);
        } else {
            *why = "a role is changed by nick";
            return XERR_BAD_REQUEST;
        }
        if (!c->o) {
            /* §8.2 and §8.3 act on occupants; an absent nick is no item. */
            *why = "no such occupant";
            return XERR_ITEM_NOT_FOUND;
        }
        return check_role(q, c, why);
    }
    if (affiliation_parse(aff, &c->aff) < 0) {
        *why = "unknown affiliation";
        return XERR_BAD_REQUEST;
    }
    if (jid) {
        c->bare = jid_bare_fold(jid);
        if (!c->bare) {
            *why = "that JID is malformed";
            return XERR_JID_MALFORMED;
        }
    } else if (nick) {
        /* §9.3: "normally based on nick if the user is in the room, or on
         * bare JID if not". */
        occ *o = room_occ_by_nick(q->r, nick);
        if (!o) {
            *why = "no such occupant";
            return XERR_ITEM_NOT_FOUND;
        }
        c->bare = jid_bare_fold(o->bare);
        if (!c->bare)
            return XERR_INTERNAL_SERVER_ERROR;
    } else {
        *why = "an affiliation is changed by jid";
        return XERR_BAD_REQUEST;
    }
    c->old = muc_affiliation(q->m, q->r, c->bare);
    return check_aff(q, c, why);
}

/* Two items about the same user, or a role and an affiliation change for
 * the same occupant, have no single meaning: refused. */
static gboolean clashes(GPtrArray *changes, const change *c)
{
    for (guint i = 0; i < changes->len; i++) {
        const change *d = g_ptr_array_index(changes, i);
        if (c->is_role && d->is_role && c->o == d->o)
            return TRUE;
        if (!c->is_role && !d->is_role && strcmp(c->bare, d->bare) == 0)
            return TRUE;
        if (c->is_role != d->is_role &&
            occ_is(c->is_role ? c->o : d->o, c->is_role ? d->bare : c->bare))
            return TRUE;
    }
    return FALSE;
}

static int count_owner(const char *bare, enum affiliation a, const char *reason,
                       void *userdata)
{
    guint *n = userdata;

    (void)bare;
    if (a == AFF_OWNER)
        (*n)++;
    return 0;
}

/* §10.4: "A service MUST NOT allow an owner to revoke his or her own
 * ownership privileges if there are no other owners; if an owner attempts
 * to do this, the service MUST return a <conflict/> error"; and "Every
 * room MUST have at least one owner" (§10), whoever asks. */
static enum xerr check_owners_left(const admin_req *q, GPtrArray *changes,
                                   const char **why)
{
    MDB_txn *txn = NULL;
    GError *err = NULL;
    guint owners = 0, lost = 0, gained = 0;
    int rc;

    for (guint i = 0; i < changes->len; i++) {
        const change *c = g_ptr_array_index(changes, i);
        if (c->is_role)
            continue;
        lost += c->old == AFF_OWNER && c->aff != AFF_OWNER;
        gained += c->old != AFF_OWNER && c->aff == AFF_OWNER;
    }
    if (lost == 0)
        return XERR_NONE;
    if (store_read_begin(q->m->st, &txn, &err) < 0) {
        log_error_about(LOG_STORE, q->r->name, "owners: %s", err->message);
        g_error_free(err);
        return XERR_INTERNAL_SERVER_ERROR;
    }
    rc = affiliations_foreach(txn, q->m->st, q->r->name, count_owner, &owners);
    store_read_end(txn);
    if (rc != 0) {
        log_error_about(LOG_STORE, q->r->name, "owners cannot be read (%d)",
                        rc);
        return XERR_INTERNAL_SERVER_ERROR;
    }
    if (owners + gained <= lost) {
        *why = "the group would have no owner left";
        return XERR_CONFLICT;
    }
    return XERR_NONE;
}

/* ---- set: storing and announcing ---- */

typedef struct store_args {
    const char *group;
    GPtrArray *changes;
} store_args;

static int store_txn(MDB_txn *txn, const store *st, void *userdata)
{
    store_args *a = userdata;

    for (guint i = 0; i < a->changes->len; i++) {
        const change *c = g_ptr_array_index(a->changes, i);
        int rc;
        if (c->is_role)
            continue;
        rc = affiliations_set(txn, st, a->group, c->bare, c->aff,
                              c->aff == AFF_OUTCAST ? c->reason : NULL);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Applies the stored changes to the occupants in memory and lists what
 * each of them is to be told, in item order. */
static GArray *apply_in_memory(room *r, GPtrArray *changes)
{
    GArray *out = g_array_new(FALSE, TRUE, sizeof(outcome));
    const char *why = NULL;

    for (guint i = 0; i < changes->len; i++) {
        const change *c = g_ptr_array_index(changes, i);
        GHashTableIter it;
        gpointer value;

        if (c->is_role) {
            outcome oc = {c->o, c->role == ROLE_NONE ? 307 : 0, c->reason,
                          FALSE};
            if (c->role == c->o->role)
                continue;
            if (c->role != ROLE_NONE)
                c->o->role = c->role;
            g_array_append_val(out, oc);
            continue;
        }
        if (c->aff == c->old && c->aff != AFF_OUTCAST)
            continue;
        g_hash_table_iter_init(&it, r->by_nick);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
            occ *o = value;
            outcome oc = {o, 0, c->reason, FALSE};
            if (!occ_is(o, c->bare))
                continue;
            o->aff = c->aff;
            if (c->aff == AFF_OUTCAST)
                oc.code = 301;
            else if (options_admit(r->cfg, c->aff, &why) != XERR_NONE)
                /* §9.4: "If the room is members-only, the service MUST
                 * remove the user from the room, including a status code
                 * of 321". */
                oc.code = 321;
            else
                o->role = options_initial_role(r->cfg, c->aff);
            g_array_append_val(out, oc);
        }
    }
    return out;
}

/* What a stored set still has to tell once the requester has its result;
 * owns what it holds. */
typedef struct announcement {
    muc *m;
    uplink *up;
    room *r;
    GArray *outcomes;   /* of outcome */
    GPtrArray *changes; /* the reasons the outcomes borrow */
    char *actor_nick;
} announcement;

/* §8.2: the kicked occupant is told first, then "After removing the
 * kicked occupant(s), the service MUST then inform the moderator of
 * success", and "After informing the moderator, the service MUST then
 * inform all of the remaining occupants". Every other change is
 * acknowledged first, then announced (§8.3, §9.1, §9.3). This is the
 * part before the result. */
static void announce_kicked(announcement *a)
{
    for (guint i = 0; i < a->outcomes->len; i++) {
        outcome *oc = &g_array_index(a->outcomes, outcome, i);
        if (oc->code != 307)
            continue;
        muc_remove_tell_self(a->m, a->up, a->r, oc->o, oc->code, a->actor_nick,
                             oc->reason);
        oc->self_told = TRUE;
    }
}

/* The part after the result (muc_call.after); frees a. */
static void announce_rest(void *data)
{
    static const int self[] = {110, 0}, none[] = {0};
    announcement *a = data;

    for (guint i = 0; i < a->outcomes->len; i++) {
        outcome *oc = &g_array_index(a->outcomes, outcome, i);
        if (oc->code == 0) {
            /* §8.3, §9.3: "send updated presence from this individual to
             * all occupants". */
            muc_broadcast_presence(a->up, a->r, oc->o, NULL, NULL, self, none);
            continue;
        }
        if (!oc->self_told)
            muc_remove_tell_self(a->m, a->up, a->r, oc->o, oc->code,
                                 a->actor_nick, oc->reason);
        muc_remove_tell_others(a->up, a->r, oc->o, oc->code, a->actor_nick,
                               oc->reason);
    }
    g_array_unref(a->outcomes);
    g_ptr_array_unref(a->changes);
    g_free(a->actor_nick);
    g_free(a);
}

static enum xerr admin_set(admin_req *q)
{
    enum xerr e = XERR_INTERNAL_SERVER_ERROR;
    const char *why = NULL;
    GPtrArray *changes = g_ptr_array_new_with_free_func(change_free);
    gboolean affs = FALSE;
    announcement *a;
    char *actor_nick = q->actor ? g_strdup(q->actor->nick) : NULL;

    /* Every item is checked before anything changes: a set is applied
     * whole or not at all. */
    for (xmpp_stanza_t *item = xmpp_stanza_get_children(q->query); item;
         item = xmpp_stanza_get_next(item)) {
        change *c;
        if (!is_item(item))
            continue;
        c = g_new0(change, 1);
        e = parse_item(q, item, c, &why);
        if (e == XERR_NONE && clashes(changes, c)) {
            why = "two items for the same user";
            e = XERR_BAD_REQUEST;
        }
        if (e != XERR_NONE) {
            change_free(c);
            goto leave;
        }
        affs = affs || !c->is_role;
        g_ptr_array_add(changes, c);
    }
    if (changes->len == 0) {
        why = "no item to change";
        e = XERR_BAD_REQUEST;
        goto leave;
    }
    e = check_owners_left(q, changes, &why);
    if (e != XERR_NONE)
        goto leave;
    if (affs) {
        /* Stored before anyone is told: nothing is announced that is not
         * durable. */
        store_args a = {q->r->name, changes};
        GError *err = NULL;
        if (store_write(q->m->st, store_txn, &a, &err) < 0) {
            log_error_about(LOG_STORE, q->r->name, "affiliations: %s",
                            err ? err->message : "?");
            g_clear_error(&err);
            e = XERR_INTERNAL_SERVER_ERROR;
            goto leave;
        }
    }
    log_info(LOG_ROUTER, "group %s: %u role/affiliation changes applied",
             q->r->name, changes->len);
    a = g_new0(announcement, 1);
    *a = (announcement){
        q->m, q->up, q->r, apply_in_memory(q->r, changes), changes, actor_nick};
    announce_kicked(a);
    q->call->after = announce_rest;
    q->call->after_data = a;
    return XERR_NONE;
leave:
    g_ptr_array_unref(changes);
    g_free(actor_nick);
    return iq_fail(q->res, e, why);
}

/* ---- get: the lists ---- */

typedef struct list_args {
    xmpp_ctx_t *ctx;
    xmpp_stanza_t *query;
    enum affiliation aff;
    gsize bytes, max; /* escaped size so far, and the most it may be */
} list_args;

static int list_aff(const char *bare, enum affiliation a, const char *reason,
                    void *userdata)
{
    list_args *l = userdata;
    xmpp_stanza_t *item;

    if (a != l->aff)
        return 0;
    /* Whatever the stored strings, the reply stays under stanza_limit:
     * past it the requester gets resource-constraint, not a reply the
     * server would close the link for. */
    l->bytes += 64 + stanza_escaped_len(bare) + stanza_escaped_len(reason);
    if (l->bytes > l->max)
        return 1; /* stop: get_aff_list sees bytes > max */
    /* §9.2, §9.5: "each item MUST include the 'affiliation' and 'jid'
     * attributes". */
    item = stanza_elem(l->ctx, "item", NULL);
    xmpp_stanza_set_attribute(item, "affiliation", affiliation_name(a));
    xmpp_stanza_set_attribute(item, "jid", bare);
    if (reason && *reason)
        stanza_add_text(l->ctx, item, "reason", reason);
    stanza_add(l->query, item);
    return 0;
}

static enum xerr get_aff_list(admin_req *q, enum affiliation a,
                              xmpp_stanza_t *res, const char **why)
{
    list_args l = {uplink_ctx(q->up), res, a, 0,
                   q->m->cfg->stanza_limit > BOUND_ENVELOPE_BYTES
                       ? q->m->cfg->stanza_limit - BOUND_ENVELOPE_BYTES
                       : 0};
    MDB_txn *txn = NULL;
    GError *err = NULL;
    int rc;

    if (a == AFF_NONE) {
        *why = "there is no list of unaffiliated users";
        return XERR_BAD_REQUEST;
    }
    /* §10.5, §10.8: "If the <user@host> of the 'from' address does not
     * match the bare JID of a room owner, the service MUST return a
     * <forbidden/> error to the sender." */
    if ((a == AFF_OWNER || a == AFF_ADMIN) && q->actor_aff != AFF_OWNER) {
        *why = "only owners see the owner and admin lists";
        return XERR_FORBIDDEN;
    }
    /* §9: the ban and member lists are for admins (and owners). */
    if (q->actor_aff != AFF_OWNER && q->actor_aff != AFF_ADMIN) {
        *why = "only admins and owners see this list";
        return XERR_FORBIDDEN;
    }
    if (store_read_begin(q->m->st, &txn, &err) < 0) {
        log_error_about(LOG_STORE, q->r->name, "affiliations: %s",
                        err->message);
        g_error_free(err);
        return XERR_INTERNAL_SERVER_ERROR;
    }
    rc = affiliations_foreach(txn, q->m->st, q->r->name, list_aff, &l);
    store_read_end(txn);
    if (rc == 0 && l.bytes > l.max) {
        *why = "the list is too long to send in one stanza";
        return XERR_RESOURCE_CONSTRAINT;
    }
    if (rc != 0) {
        log_error_about(LOG_STORE, q->r->name,
                        "affiliations cannot be read (%d)", rc);
        return XERR_INTERNAL_SERVER_ERROR;
    }
    return XERR_NONE;
}

static gint by_nick(gconstpointer a, gconstpointer b)
{
    const occ *x = *(const occ *const *)a, *y = *(const occ *const *)b;

    return strcmp(x->nick_key, y->nick_key);
}

static enum xerr get_role_list(admin_req *q, enum role role, xmpp_stanza_t *res,
                               const char **why)
{
    xmpp_ctx_t *ctx = uplink_ctx(q->up);
    GPtrArray *list;
    GHashTableIter it;
    gpointer value;
    gsize bytes;

    if (role == ROLE_NONE) {
        *why = "there is no list of occupants without a role";
        return XERR_BAD_REQUEST;
    }
    /* §8.5, §9.8: the voice and moderator lists are for moderators. */
    if (!q->actor || q->actor->role != ROLE_MODERATOR) {
        *why = "only moderators see this list";
        return XERR_FORBIDDEN;
    }
    list = g_ptr_array_new();
    bytes = 0;
    g_hash_table_iter_init(&it, q->r->by_nick);
    while (g_hash_table_iter_next(&it, NULL, &value))
        if (((occ *)value)->role == role)
            g_ptr_array_add(list, value);
    g_ptr_array_sort(list, by_nick);
    for (guint i = 0; i < list->len; i++) {
        const occ *o = g_ptr_array_index(list, i);
        xmpp_stanza_t *item = stanza_elem(ctx, "item", NULL);
        /* §8.5: "each item MUST include the 'nick' and 'role' attributes
         * and SHOULD include the 'affiliation' and 'jid' attributes";
         * §9.8: "each item MUST include the 'jid', 'nick', and 'role'
         * attributes". */
        xmpp_stanza_set_attribute(item, "affiliation",
                                  affiliation_name(o->aff));
        xmpp_stanza_set_attribute(item, "jid", room_occ_jid(o));
        xmpp_stanza_set_attribute(item, "nick", o->nick);
        xmpp_stanza_set_attribute(item, "role", role_name(o->role));
        stanza_add(res, item);
        bytes += 96 + stanza_escaped_len(room_occ_jid(o)) +
                 stanza_escaped_len(o->nick);
    }
    g_ptr_array_unref(list);
    if (bytes + BOUND_ENVELOPE_BYTES > q->m->cfg->stanza_limit) {
        *why = "the list is too long to send in one stanza";
        return XERR_RESOURCE_CONSTRAINT;
    }
    return XERR_NONE;
}

static enum xerr admin_get(admin_req *q)
{
    enum xerr e = XERR_INTERNAL_SERVER_ERROR;
    const char *why = NULL, *role, *aff;
    xmpp_stanza_t *item = NULL;
    xmpp_stanza_t *res = stanza_elem(uplink_ctx(q->up), "query", NS_MUC_ADMIN);
    enum affiliation a = AFF_NONE;
    enum role ro = ROLE_NONE;
    int n = 0;

    for (xmpp_stanza_t *c = xmpp_stanza_get_children(q->query); c;
         c = xmpp_stanza_get_next(c))
        if (is_item(c) && n++ == 0)
            item = c;
    if (n != 1) {
        why = "a list is asked for with one item";
        e = XERR_BAD_REQUEST;
        goto leave;
    }
    role = xmpp_stanza_get_attribute(item, "role");
    aff = xmpp_stanza_get_attribute(item, "affiliation");
    if ((role != NULL) == (aff != NULL)) {
        why = "a list is of one role or one affiliation";
        e = XERR_BAD_REQUEST;
    } else if (aff && affiliation_parse(aff, &a) < 0) {
        why = "unknown affiliation";
        e = XERR_BAD_REQUEST;
    } else if (role && parse_role(role, &ro) < 0) {
        why = "unknown role";
        e = XERR_BAD_REQUEST;
    } else if (aff)
        e = get_aff_list(q, a, res, &why);
    else
        e = get_role_list(q, ro, res, &why);
    if (e != XERR_NONE)
        goto leave;
    q->res->payload = res;
    return XERR_NONE;
leave:
    xmpp_stanza_release(res);
    return iq_fail(q->res, e, why);
}

/* ---- entry ---- */

/* Runs fn on the request iq: the requester as an occupant, its folded
 * bare JID and its affiliation looked up first. */
static enum xerr with_request(const iq_req *iq, iq_res *res,
                              enum xerr (*fn)(admin_req *q))
{
    muc_call *c = iq->data;
    admin_req q = {c->m, iq->up, c->r, iq->st, iq->child, c->o, NULL,
                   AFF_NONE, res, c};
    enum xerr e;

    q.actor_bare = jid_bare_fold(iq->from);
    /* The occupant's affiliation is kept in step with the store; someone
     * outside the room is looked up (§9: admins need not be present). */
    if (q.actor)
        q.actor_aff = q.actor->aff;
    else if (q.actor_bare)
        q.actor_aff = muc_affiliation(c->m, c->r, q.actor_bare);
    e = fn(&q);
    g_free(q.actor_bare);
    return e;
}

enum xerr muc_admin_get(const iq_req *iq, iq_res *res)
{
    return with_request(iq, res, admin_get);
}

enum xerr muc_admin_set(const iq_req *iq, iq_res *res)
{
    return with_request(iq, res, admin_set);
}
