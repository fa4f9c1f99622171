/* retract: withdrawing a message said in a room, by its sender (XEP-0424)
 * or by a moderator (XEP-0425): the checks, the retraction archived as a
 * record of its own, the message replaced by its tombstone, the legacy
 * side told, the occupants told; and the tombstone as history and MAM
 * show it. */
#include "retract.h"
#include "options.h"

#include <string.h>

#include "archive.h"
#include "bounds.h"
#include "clock.h"
#include "jid.h"
#include "log.h"
#include "stanza.h"
#include "xmltext.h"

/* ---- what a stanza asks ---- */

/* The element of st that asks for a withdrawal, and the id it names:
 * XEP-0424 (0.4+) <retract id/> first, else the 0.3 form inside
 * XEP-0422's <apply-to id/>. *v0 says which. NULL when st asks none. */
static xmpp_stanza_t *retract_request(xmpp_stanza_t *st, const char **id,
                                      gboolean *v0)
{
    xmpp_stanza_t *c =
        xmpp_stanza_get_child_by_name_and_ns(st, "retract", NS_RETRACT);

    *v0 = FALSE;
    if (c) {
        *id = xmpp_stanza_get_attribute(c, "id");
        return c;
    }
    c = xmpp_stanza_get_child_by_name_and_ns(st, "apply-to", NS_FASTEN);
    if (c && xmpp_stanza_get_child_by_name_and_ns(c, "retract", NS_RETRACT_0)) {
        *id = xmpp_stanza_get_attribute(c, "id");
        *v0 = TRUE;
        return c;
    }
    return NULL;
}

gboolean retract_is_retraction(xmpp_stanza_t *st)
{
    const char *id;
    gboolean v0;

    return retract_request(st, &id, &v0) != NULL;
}

void retract_features(GPtrArray *all)
{
    /* XEP-0424 §2: a service that archives retractions "MUST also
     * advertise the 'urn:xmpp:message-retract:1' feature"; §4: "A service
     * which supports tombstones MUST advertise the
     * 'urn:xmpp:message-retract:1#tombstone' feature". XEP-0425 §2: a
     * groupchat that supports moderated retraction "MUST specify the
     * 'urn:xmpp:message-moderate:1' feature". The :0 namespaces are those
     * clients of the previous versions still look for. */
    static const char *const features[] = {
        NS_RETRACT,   NS_RETRACT "#tombstone",   NS_MODERATE,
        NS_RETRACT_0, NS_RETRACT_0 "#tombstone", NS_MODERATE_0,
    };

    for (size_t i = 0; i < G_N_ELEMENTS(features); i++)
        g_ptr_array_add(all, (gpointer)features[i]);
}

/* ---- the records ---- */

/* XEP-0082 date-time of t (unix microseconds), to the second (g_free). */
static char *xep82(gint64 t)
{
    GDateTime *dt = g_date_time_new_from_unix_utc(t / G_USEC_PER_SEC);
    char *s = g_date_time_format_iso8601(dt);

    g_date_time_unref(dt);
    return s;
}

/* Appends <moderated xmlns=ns by="room/nick">, open; nick "": a
 * moderator who was not in the room, whom 'by' does not name (XEP-0425
 * §4: "There might however be cases where it's preferable to not specify
 * which JID was responsible"; never a real JID). */
static void moderated_open(GString *b, const char *ns, const char *room_jid,
                           const char *nick)
{
    char *by = *nick ? g_strconcat(room_jid, "/", nick, NULL) : NULL;

    xmltext_open(b, "moderated", ns);
    xmltext_attr(b, "by", by);
    xmltext_end(b);
    g_free(by);
}

/* The retraction as the room relays and archives it (the children of its
 * <message/>): XEP-0424's <retract id/> naming the room's stanza-id of the
 * message (§"Using the correct ID"), and the same in the fasten form for
 * older clients. A moderator's (XEP-0425 §3.1) carries <moderated by/>
 * with the moderator's occupant-id and the reason inside <retract/>; the
 * sender's own carries its fallback body (§3: "It's RECOMMENDED that you
 * include a XEP-0428 tag with fallback text in the <body/>"). */
static char *retraction_payload(const retract_job *j, const archive_msg *t)
{
    GString *b = g_string_sized_new(512);
    const char *v0_id = j->v0_id ? j->v0_id : t->stanza_id;

    xmltext_open(b, "retract", NS_RETRACT);
    xmltext_attr(b, "id", t->stanza_id);
    if (j->sender) {
        xmltext_end_empty(b);
        xmltext_open(b, "apply-to", NS_FASTEN);
        xmltext_attr(b, "id", v0_id);
        xmltext_end(b);
        xmltext_open(b, "retract", NS_RETRACT_0);
        xmltext_end_empty(b);
        xmltext_close(b, "apply-to");
        if (j->fallback) {
            xmltext_open(b, "fallback", NS_FALLBACK);
            xmltext_attr(b, "for", NS_RETRACT);
            xmltext_end_empty(b);
            xmltext_child(b, "body", NULL, j->fallback);
        }
        return g_string_free(b, FALSE);
    }
    xmltext_end(b);
    moderated_open(b, NS_MODERATE, j->room_jid, j->mod_nick);
    if (j->mod_oid) {
        xmltext_open(b, "occupant-id", NS_OCCUPANT_ID);
        xmltext_attr(b, "id", j->mod_oid);
        xmltext_end_empty(b);
    }
    xmltext_close(b, "moderated");
    xmltext_child(b, "reason", NULL, j->reason);
    xmltext_close(b, "retract");
    /* XEP-0425 0.2: <apply-to><moderated by><retract/><reason/>. */
    xmltext_open(b, "apply-to", NS_FASTEN);
    xmltext_attr(b, "id", v0_id);
    xmltext_end(b);
    moderated_open(b, NS_MODERATE_0, j->room_jid, j->mod_nick);
    xmltext_open(b, "retract", NS_RETRACT_0);
    xmltext_end_empty(b);
    xmltext_child(b, "reason", NULL, j->reason);
    xmltext_close(b, "moderated");
    xmltext_close(b, "apply-to");
    return g_string_free(b, FALSE);
}

void retract_tombstone_text(GString *b, const room *r, const archive_msg *a)
{
    if (!a->retracted)
        return;
    /* XEP-0424 §4: "the original contents ... get replaced with a
     * <retracted/> element which MUST include an 'id' attribute that's
     * set to the value of the retraction's <message/> element's 'id'
     * attribute"; XEP-0425 §4: "a <retracted/> element which in turn
     * contains a <moderated/> element". */
    xmltext_open(b, "retracted", NS_RETRACT);
    xmltext_attr(b, "id", a->retract_id);
    xmltext_attr(b, "stamp", a->retracted);
    if (!a->retracted_by && !a->retract_reason) {
        xmltext_end_empty(b);
    } else {
        xmltext_end(b);
        if (a->retracted_by) {
            moderated_open(b, NS_MODERATE, r->jid, a->retracted_by);
            xmltext_close(b, "moderated");
        }
        xmltext_child(b, "reason", NULL, a->retract_reason);
        xmltext_close(b, "retracted");
    }
    /* The previous versions' tombstones (XEP-0424 0.3 §4, XEP-0425 0.2
     * §4), which Prosody's MUC still writes. */
    if (a->retracted_by) {
        moderated_open(b, NS_MODERATE_0, r->jid, a->retracted_by);
        xmltext_open(b, "retracted", NS_RETRACT_0);
        xmltext_attr(b, "stamp", a->retracted);
        xmltext_end_empty(b);
        xmltext_child(b, "reason", NULL, a->retract_reason);
        xmltext_close(b, "moderated");
    } else {
        xmltext_open(b, "retracted", NS_RETRACT_0);
        xmltext_attr(b, "stamp", a->retracted);
        xmltext_end_empty(b);
    }
}

/* The message a sender names by its own id (origin-id or id attribute),
 * among the group's last RETRACT_SCAN records: the newest of its own. */
typedef struct own_find {
    const occ *o;
    const char *id;
    guint64 seq;
} own_find;

static int own_match(const archive_msg *a, void *userdata)
{
    own_find *f = userdata;

    if ((!g_strcmp0(a->origin_id, f->id) || !g_strcmp0(a->client_id, f->id)) &&
        muc_said_by(f->o, a)) {
        f->seq = a->seq;
        return 1;
    }
    return 0;
}

/* The target of j into *out (owned by the caller); returns 0,
 * ARCHIVE_ITEM_NOT_FOUND or an LMDB error. XEP-0424 §"Using the correct
 * ID": "For messages of type 'groupchat', the ID assigned to the stanza
 * by the group chat itself must be used"; a client that gives its own
 * origin-id instead (older clients did) is understood for its own
 * recent messages only. */
static int find_target(MDB_txn *txn, const store *st, const retract_job *j,
                       archive_msg **out)
{
    own_find f = {j->sender, j->id, 0};
    int rc = archive_get_id(txn, st, j->group, j->id, out);

    if (rc != ARCHIVE_ITEM_NOT_FOUND || !j->sender)
        return rc;
    rc = archive_foreach_back(txn, st, j->group, RETRACT_SCAN, own_match, &f);
    if (rc != 0)
        return rc;
    if (!f.seq)
        return ARCHIVE_ITEM_NOT_FOUND;
    return archive_get(txn, st, j->group, f.seq, out);
}

static enum xerr refuse(retract_job *j, enum xerr e, const char *why)
{
    j->e = e;
    j->why = why;
    return e;
}

int retract_txn(MDB_txn *txn, const store *st, void *userdata)
{
    retract_job *j = userdata;
    archive_msg *t = NULL, tomb = {0};
    char *stamp = NULL;
    int rc = find_target(txn, st, j, &t);

    j->e = XERR_NONE;
    if (rc == ARCHIVE_ITEM_NOT_FOUND || rc == MDB_NOTFOUND) {
        refuse(j, XERR_ITEM_NOT_FOUND, "no message with that id");
        rc = 0;
        goto leave;
    }
    if (rc != 0)
        goto leave;
    /* XEP-0424 §5: a retraction "MUST only be processed when both the
     * original message and the retraction request are received from the
     * same" sender; anyone else's needs a moderator (XEP-0425). */
    if (j->sender && !muc_said_by(j->sender, t)) {
        refuse(j, XERR_FORBIDDEN,
               "only its sender or a moderator may "
               "withdraw a message");
        goto leave;
    }
    /* Only what was said: not a subject change, a retraction or a
     * tombstone (XEP-0424 §5: not "a message with non-messaging
     * payloads"). */
    if (t->retracted || t->retract_of || (!t->body && !t->payload)) {
        refuse(j, XERR_ITEM_NOT_FOUND,
               t->retracted ? "that message was withdrawn"
                            : "no message with that id");
        goto leave;
    }
    /* XEP-0424 §5: "The archiving service therefore MUST store the
     * retraction message, regardless of whether the original message is
     * deleted or replaced with a tombstone." */
    j->said.time_us = j->now_us;
    j->said.nick = g_strdup(j->sender ? j->sender->nick : "");
    if (j->sender) {
        j->said.occupant_id = g_strdup(j->sender->occupant_id);
        j->said.sender_jid = g_strdup(j->sender->bare);
        j->said.sender_account = g_strdup(j->sender->legacy_account);
        j->said.sender_handle = g_strdup(j->sender->legacy_handle);
    }
    j->said.origin_id = g_strdup(j->origin_id);
    j->said.client_id = g_strdup(j->msg_id);
    j->said.retract_of = g_strdup(t->stanza_id);
    j->said.payload = retraction_payload(j, t);
    rc = archive_append(txn, st, j->group, &j->said);
    if (rc != 0)
        goto leave;
    /* The tombstone: who said it when, and nothing of what was said. */
    stamp = xep82(j->now_us);
    tomb = (archive_msg){
        .seq = t->seq,
        .stanza_id = t->stanza_id,
        .time_us = t->time_us,
        .nick = t->nick,
        .occupant_id = t->occupant_id,
        .sender_jid = t->sender_jid,
        .sender_account = t->sender_account,
        .sender_handle = t->sender_handle,
        .origin_id = t->origin_id,
        .client_id = t->client_id,
        .retracted = stamp,
        .retracted_by = j->sender ? NULL : (char *)j->mod_nick,
        .retract_reason = j->sender ? NULL : (char *)j->reason,
        .retract_id = (char *)j->msg_id,
    };
    rc = archive_replace(txn, st, j->group, &tomb);
    if (rc == 0 && j->hooks && j->hooks->retracted)
        rc = j->hooks->retracted(txn, st, j->group, t->seq, t->nick,
                                 j->hooks_data);
    if (rc == 0)
        j->target_seq = t->seq;
leave:
    g_free(stamp);
    archive_msg_free(t);
    return rc;
}

void retract_job_clear(retract_job *j)
{
    g_free(j->said.stanza_id);
    g_free(j->said.nick);
    g_free(j->said.occupant_id);
    g_free(j->said.sender_jid);
    g_free(j->said.sender_account);
    g_free(j->said.sender_handle);
    g_free(j->said.origin_id);
    g_free(j->said.client_id);
    g_free(j->said.retract_of);
    g_free(j->said.payload);
    memset(&j->said, 0, sizeof(j->said));
}

/* ---- in the room ---- */

/* Runs j in one write transaction; on success tells every occupant (the
 * retraction as archived, written once) and wakes the bridge, whose
 * notices the hook queued. Returns j->e, or the store's failure. */
static enum xerr run(muc *m, uplink *up, room *r, retract_job *j)
{
    GError *err = NULL;

    j->room_jid = r->jid;
    j->group = r->name;
    j->now_us = clock_real();
    j->hooks = &m->bridge;
    j->hooks_data = m->bridge_data;
    if (store_write(m->st, retract_txn, j, &err) < 0) {
        log_error_about(LOG_STORE, r->name, "retraction: %s",
                        err ? err->message : "?");
        g_clear_error(&err);
        return refuse(j, XERR_INTERNAL_SERVER_ERROR, NULL);
    }
    if (j->e != XERR_NONE)
        return j->e;
    log_debug(LOG_ROUTER, "room %s: message %" G_GUINT64_FORMAT " withdrawn",
              r->name, j->target_seq);
    muc_fanout_said(up, r, &j->said, NULL, j->msg_id);
    if (m->bridge.wake)
        m->bridge.wake(r->name, m->bridge_data);
    return XERR_NONE;
}

/* An id a client names a message by: present and bounded like any id it
 * gives (bounds.h). */
static gboolean id_ok(const char *id)
{
    return id && *id && strlen(id) <= BOUND_ID_BYTES;
}

void retract_groupchat(muc *m, uplink *up, room *r, occ *o, xmpp_stanza_t *st)
{
    xmpp_ctx_t *ctx = uplink_ctx(up);
    xmpp_stanza_t *origin =
        xmpp_stanza_get_child_by_name_and_ns(st, "origin-id", NS_SID);
    const char *msg_id = xmpp_stanza_get_id(st);
    retract_job j = {.sender = o};
    char *body = NULL, *fallback = NULL;
    gboolean v0 = FALSE;

    retract_request(st, &j.id, &v0);
    j.v0_id = v0 ? j.id : NULL;
    j.origin_id = origin ? xmpp_stanza_get_attribute(origin, "id") : NULL;
    if (o->role == ROLE_VISITOR) {
        /* A retraction is something said, like any groupchat message. */
        refuse(&j, XERR_FORBIDDEN, "visitors may not speak here");
        goto leave;
    }
    /* Something said, like any groupchat message: the same bucket (a
     * retraction looks back through the sender's last messages). */
    if (!muc_rate_allows(m, r, o)) {
        refuse(&j, XERR_RESOURCE_CONSTRAINT,
               "you are sending too fast; wait a moment");
        goto leave;
    }
    if (!id_ok(j.id)) {
        refuse(&j, XERR_BAD_REQUEST,
               "a retraction names a message by an id "
               "of at most 128 bytes");
        goto leave;
    }
    if ((msg_id && strlen(msg_id) > BOUND_ID_BYTES) ||
        (j.origin_id && strlen(j.origin_id) > BOUND_ID_BYTES)) {
        refuse(&j, XERR_POLICY_VIOLATION,
               "the id is too long for this "
               "service");
        goto leave;
    }
    body = stanza_child_text(st, "body");
    if (body && *body)
        fallback = stanza_utf8_cut(body, BOUND_REASON_BYTES);
    j.fallback = fallback;
    j.msg_id = msg_id;
    run(m, up, r, &j);
leave:
    if (j.e != XERR_NONE)
        muc_reply_error(up, st, j.e, j.why);
    retract_job_clear(&j);
    if (body)
        xmpp_free(ctx, body);
    g_free(fallback);
}

/* The asker's role: as an occupant, else the one its affiliation would
 * give it on joining (as Prosody's mod_muc_moderation decides). */
static enum role asker_role(const muc_call *c, const char *from, char **bare)
{
    if (c->o) {
        *bare = g_strdup(c->o->bare);
        return c->o->role;
    }
    if (!(*bare = jid_bare_fold(from)))
        return ROLE_NONE;
    return options_initial_role(c->r->cfg, muc_affiliation(c->m, c->r, *bare));
}

enum xerr retract_moderate(const iq_req *q, iq_res *res)
{
    const muc_call *c = q->data;
    xmpp_stanza_t *mod = q->child, *ask;
    gboolean v0 = !strcmp(xmpp_stanza_get_name(q->child), "apply-to");
    retract_job j = {0};
    char *bare = NULL, *reason = NULL, *oid = NULL, *msg_id = NULL;
    enum role role = asker_role(c, q->from, &bare);
    enum xerr e;

    j.id = xmpp_stanza_get_attribute(q->child, "id");
    if (v0)
        mod = xmpp_stanza_get_child_by_name_and_ns(q->child, "moderate",
                                                   NS_MODERATE_0);
    ask = mod ? xmpp_stanza_get_child_by_name_and_ns(
                    mod, "retract", v0 ? NS_RETRACT_0 : NS_RETRACT)
              : NULL;
    if (!ask) {
        /* Another kind of fastening or moderation than a retraction. */
        e = iq_fail(res, XERR_FEATURE_NOT_IMPLEMENTED,
                    "a moderator may only retract messages here");
        goto leave;
    }
    /* XEP-0425 §3.2: "Only moderators are allowed to moderate other
     * participants' messages". */
    if (role != ROLE_MODERATOR) {
        e = iq_fail(res, XERR_FORBIDDEN,
                    "only moderators may retract others' messages");
        goto leave;
    }
    if (!id_ok(j.id)) {
        e = iq_fail(res, XERR_BAD_REQUEST, "name the message by its stanza-id");
        goto leave;
    }
    reason = stanza_reason(q->ctx, mod);
    oid = muc_occupant_id(c->m, c->r, bare);
    msg_id = g_uuid_string_random();
    j.v0_id = v0 ? j.id : NULL;
    j.mod_nick = c->o ? c->o->nick : "";
    j.mod_oid = oid;
    j.reason = reason;
    j.msg_id = msg_id;
    e = run(c->m, q->up, c->r, &j);
    if (e != XERR_NONE)
        e = iq_fail(res, e, j.why);
leave:
    retract_job_clear(&j);
    g_free(bare);
    g_free(reason);
    g_free(oid);
    g_free(msg_id);
    return e;
}
