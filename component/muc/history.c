/* history: what a room tells from its archive: the history and subject on
 * join (XEP-0045 §7.2.14, §7.2.15), the archived-message stanza, and MAM
 * (XEP-0313): its form and its queries. */
#include "history.h"
#include "muc_int.h"
#include "presence.h"

#include <string.h>

#include "archive.h"
#include "log.h"
#include "jid.h"
#include "stanza.h"

#define HISTORY_MAX 100 /* at most this many, whatever is asked */
#define NS_DELAY       "urn:xmpp:delay"
#define NS_RSM         "http://jabber.org/protocol/rsm"
#define NS_FORWARD     "urn:xmpp:forward:0"

void history_send_subject(uplink *up, const room *r, const char *to)
{
    xmpp_ctx_t *ctx = uplink_ctx(up);
    xmpp_stanza_t *msg = xmpp_message_new(ctx, "groupchat", to, NULL);
    xmpp_stanza_t *subject = stanza_elem(ctx, "subject", NULL);
    const char *text = r->cfg->subject ? r->cfg->subject : "";
    char *from = *r->cfg->subject_nick
                     ? g_strconcat(r->jid, "/", r->cfg->subject_nick, NULL)
                     : g_strdup(r->jid);

    /* XEP-0045 §7.2.15: the subject is sent last, and an empty <subject/>
     * when there is none, which tells the client the join is complete. */
    xmpp_stanza_set_from(msg, from);
    if (*text) {
        xmpp_stanza_t *t = xmpp_stanza_new(ctx);
        xmpp_stanza_set_text(t, text);
        stanza_add(subject, t);
    }
    stanza_add(msg, subject);
    stanza_send(up, msg);
    g_free(from);
}

void history_request(xmpp_stanza_t *x, history_req *h)
{
    xmpp_stanza_t *hist =
        x ? xmpp_stanza_get_child_by_name(x, "history") : NULL;
    const char *v;

    h->maxstanzas = MUC_HISTORY_DEFAULT;
    h->maxchars = -1;
    h->since_us = 0;
    if (!hist)
        return;
    if ((v = xmpp_stanza_get_attribute(hist, "maxstanzas")))
        h->maxstanzas = (int)MIN(g_ascii_strtoll(v, NULL, 10), G_MAXINT);
    if ((v = xmpp_stanza_get_attribute(hist, "maxchars")))
        h->maxchars = (int)MIN(g_ascii_strtoll(v, NULL, 10), G_MAXINT);
    if ((v = xmpp_stanza_get_attribute(hist, "seconds"))) {
        gint64 s = g_ascii_strtoll(v, NULL, 10);
        h->since_us = g_get_real_time() - s * G_USEC_PER_SEC;
    }
    if ((v = xmpp_stanza_get_attribute(hist, "since"))) {
        GDateTime *dt = g_date_time_new_from_iso8601(v, NULL);
        if (dt) {
            gint64 since = g_date_time_to_unix(dt) * G_USEC_PER_SEC;
            h->since_us = MAX(h->since_us, since);
            g_date_time_unref(dt);
        }
    }
    /* The room decides the most it sends (XEP-0045 §7.2.14: the service
     * may send less than asked). */
    if (h->maxstanzas < 0)
        h->maxstanzas = 0;
    if (h->maxstanzas > HISTORY_MAX)
        h->maxstanzas = HISTORY_MAX;
}

static char *stamp(gint64 time_us)
{
    GDateTime *dt = g_date_time_new_from_unix_utc(time_us / G_USEC_PER_SEC);
    char *s = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");

    g_date_time_unref(dt);
    return s;
}

xmpp_stanza_t *history_message(uplink *up, const room *r,
                                       const archive_msg *a, const char *to,
                                       gboolean to_moderator, gboolean delay)
{
    xmpp_ctx_t *ctx = uplink_ctx(up);
    xmpp_stanza_t *msg = xmpp_message_new(ctx, "groupchat", to, a->origin_id);
    /* nick "": the room itself speaks, from its bare JID. */
    char *from =
        *a->nick ? g_strconcat(r->jid, "/", a->nick, NULL) : g_strdup(r->jid);
    xmpp_stanza_t *sid, *e;

    xmpp_stanza_set_from(msg, from);
    if (a->body)
        stanza_add_text(ctx, msg, "body", a->body);
    if (a->subject)
        stanza_add_text(ctx, msg, "subject", a->subject);
    if (delay) {
        char *ts = stamp(a->time_us);
        e = stanza_elem(ctx, "delay", NS_DELAY);
        xmpp_stanza_set_attribute(e, "stamp", ts);
        xmpp_stanza_set_attribute(e, "from", r->jid);
        stanza_add(msg, e);
        g_free(ts);
    }
    /* XEP-0359 §3.1: the archiving entity stamps the id it stored the
     * message under, with by = its own JID (the room's). */
    sid = stanza_elem(ctx, "stanza-id", NS_SID);
    xmpp_stanza_set_attribute(sid, "id", a->stanza_id);
    xmpp_stanza_set_attribute(sid, "by", r->jid);
    stanza_add(msg, sid);
    if (a->origin_id) {
        e = stanza_elem(ctx, "origin-id", NS_SID);
        xmpp_stanza_set_attribute(e, "id", a->origin_id);
        stanza_add(msg, e);
    }
    if (a->occupant_id) {
        e = stanza_elem(ctx, "occupant-id", NS_OCCUPANT_ID);
        xmpp_stanza_set_attribute(e, "id", a->occupant_id);
        stanza_add(msg, e);
    }
    if (delay && to_moderator && a->sender_jid) {
        /* XEP-0045 §7.2.15: the real JID in history only where the
         * recipient may see real JIDs. */
        e = stanza_elem(ctx, "x", "http://jabber.org/protocol/muc#user");
        xmpp_stanza_t *item = stanza_elem(ctx, "item", NULL);
        xmpp_stanza_set_attribute(item, "jid", a->sender_jid);
        stanza_add(e, item);
        stanza_add(msg, e);
    }
    g_free(from);
    return msg;
}

void history_send(muc *m, uplink *up, const room *r, const occ *o,
                         const char *to, const history_req *h)
{
    MDB_txn *txn = NULL;
    GError *err = NULL;
    GPtrArray *list = NULL;

    if (h->maxstanzas == 0)
        return;
    if (store_read_begin(m->st, &txn, &err) < 0) {
        log_error(LOG_STORE, "history: %s", err->message);
        g_error_free(err);
        return;
    }
    if (archive_history(txn, m->st, r->name, h->maxstanzas, h->maxchars,
                        h->since_us, NULL, NULL, &list) != 0)
        log_error_about(LOG_STORE, r->name, "a group's history cannot be read");
    store_read_end(txn);
    for (guint i = 0; list && i < list->len; i++)
        stanza_send(up, history_message(up, r, g_ptr_array_index(list, i), to,
                                         muc_sees_jids(r, o), TRUE));
    if (list)
        g_ptr_array_unref(list);
}

static gboolean form_has_other_fields(xmpp_stanza_t *form)
{
    static const char *const known[] = {"FORM_TYPE", "start",     "end",
                                        "after-id",  "before-id", NULL};

    for (xmpp_stanza_t *f = form ? xmpp_stanza_get_children(form) : NULL; f;
         f = xmpp_stanza_get_next(f)) {
        const char *v;
        gboolean ok = FALSE;
        if (!xmpp_stanza_is_tag(f) ||
            g_strcmp0(xmpp_stanza_get_name(f), "field") != 0)
            continue;
        v = xmpp_stanza_get_attribute(f, "var");
        for (int i = 0; known[i]; i++)
            ok = ok || g_strcmp0(v, known[i]) == 0;
        if (!ok)
            return TRUE;
    }
    return FALSE;
}

static int parse_stamp(xmpp_ctx_t *ctx, char *text, gint64 *out)
{
    GDateTime *dt;

    *out = 0;
    if (!text)
        return 0;
    dt = g_date_time_new_from_iso8601(text, NULL);
    xmpp_free(ctx, text);
    if (!dt)
        return -1;
    *out = g_date_time_to_unix(dt) * G_USEC_PER_SEC +
           g_date_time_get_microsecond(dt);
    g_date_time_unref(dt);
    return 0;
}

enum xerr history_mam_form(const iq_req *iq, iq_res *res)
{
    static const char *const fields[] = {"start", "end", "after-id",
                                         "before-id", NULL};
    xmpp_ctx_t *ctx = iq->ctx;
    xmpp_stanza_t *q = stanza_elem(ctx, "query", NS_MAM);
    xmpp_stanza_t *form = stanza_elem(ctx, "x", NS_DATA);
    xmpp_stanza_t *f = stanza_elem(ctx, "field", NULL);

    /* XEP-0313 §5.1: the fields the archive can filter on. */
    xmpp_stanza_set_type(form, "form");
    xmpp_stanza_set_attribute(f, "var", "FORM_TYPE");
    xmpp_stanza_set_type(f, "hidden");
    stanza_add_text(ctx, f, "value", NS_MAM);
    stanza_add(form, f);
    for (int i = 0; fields[i]; i++) {
        f = stanza_elem(ctx, "field", NULL);
        xmpp_stanza_set_attribute(f, "var", fields[i]);
        xmpp_stanza_set_type(f, "text-single");
        stanza_add(form, f);
    }
    stanza_add(q, form);
    res->payload = q;
    return XERR_NONE;
}

static gboolean may_read_archive(muc *m, room *r, const char *full)
{
    char *bare;
    enum affiliation a;

    /* Privacy: the archive is for the group, not for passers-by: occupants
     * and affiliated users (members and up) may read it. */
    if (room_occ_by_full(r, full))
        return TRUE;
    if (!(bare = jid_bare_fold(full)))
        return FALSE;
    a = muc_affiliation(m, r, bare);
    g_free(bare);
    return a == AFF_OWNER || a == AFF_ADMIN || a == AFF_MEMBER;
}

enum xerr history_mam_query(const iq_req *iq, iq_res *res)
{
    const muc_call *c = iq->data;
    muc *m = c->m;
    room *r = c->r;
    uplink *up = iq->up;
    xmpp_stanza_t *q = iq->child;
    xmpp_ctx_t *ctx = iq->ctx;
    const char *from = iq->from;
    enum xerr x = XERR_NONE;
    const char *queryid = xmpp_stanza_get_attribute(q, "queryid");
    xmpp_stanza_t *form = xmpp_stanza_get_child_by_name_and_ns(q, "x", NS_DATA);
    xmpp_stanza_t *set = xmpp_stanza_get_child_by_name_and_ns(q, "set", NS_RSM);
    archive_query aq = {0};
    char *after = NULL, *before = NULL, *max = NULL;
    GPtrArray *list = NULL;
    gboolean complete = FALSE, mod;
    guint64 count = 0;
    MDB_txn *txn = NULL;
    GError *err = NULL;
    occ *o = room_occ_by_full(r, from);
    int rc;

    if (!may_read_archive(m, r, from)) {
        return iq_fail(res, XERR_FORBIDDEN,
                       "only members of this group may read its archive");
    }
    mod = o ? muc_sees_jids(r, o) : r->cfg->whois_anyone;
    if (form_has_other_fields(form)) {
        return iq_fail(res, XERR_FEATURE_NOT_IMPLEMENTED,
                       "filters supported: start, end, after-id, before-id");
    }
    if (parse_stamp(ctx, stanza_form_value(form, "start"), &aq.start_us) < 0 ||
        parse_stamp(ctx, stanza_form_value(form, "end"), &aq.end_us) < 0) {
        return iq_fail(res, XERR_BAD_REQUEST,
                       "start/end are not XEP-0082 date-times");
    }
    after = stanza_form_value(form, "after-id");
    before = stanza_form_value(form, "before-id");
    if (set) {
        xmpp_stanza_t *a = xmpp_stanza_get_child_by_name(set, "after");
        xmpp_stanza_t *b = xmpp_stanza_get_child_by_name(set, "before");
        xmpp_stanza_t *mx = xmpp_stanza_get_child_by_name(set, "max");
        if (a && !after)
            after = xmpp_stanza_get_text(a);
        if (b) {
            char *t = xmpp_stanza_get_text(b);
            /* XEP-0059 §2.5: an empty <before/> asks for the last page. */
            if (t && *t && !before)
                before = t;
            else {
                aq.before_last = TRUE;
                if (t)
                    xmpp_free(ctx, t);
            }
        }
        if (mx)
            max = xmpp_stanza_get_text(mx);
    }
    aq.after_id = after;
    aq.before_id = before;
    aq.max = max ? (guint)MIN(g_ascii_strtoull(max, NULL, 10), G_MAXUINT) : 0;
    if (max && aq.max == 0)
        aq.max = 1; /* RSM max 0 asks for the count only; one is harmless */
    if (store_read_begin(m->st, &txn, &err) < 0) {
        log_error(LOG_STORE, "mam: %s", err->message);
        g_error_free(err);
        x = iq_fail(res, XERR_INTERNAL_SERVER_ERROR, NULL);
        goto leave;
    }
    rc = archive_query_run(txn, m->st, r->name, &aq, &list, &complete, &count);
    store_read_end(txn);
    if (rc == ARCHIVE_ITEM_NOT_FOUND) {
        /* XEP-0313 §6.1: an unknown id in after/before is item-not-found. */
        x = iq_fail(res, XERR_ITEM_NOT_FOUND, "no message with that id");
        goto leave;
    }
    if (rc != 0) {
        log_error_about(LOG_STORE, r->name, "mam query failed (%d)", rc);
        x = iq_fail(res, XERR_INTERNAL_SERVER_ERROR, NULL);
        goto leave;
    }
    for (guint i = 0; i < list->len; i++) {
        const archive_msg *a = g_ptr_array_index(list, i);
        xmpp_stanza_t *msg = xmpp_message_new(ctx, NULL, from, NULL);
        xmpp_stanza_t *result = stanza_elem(ctx, "result", NS_MAM);
        xmpp_stanza_t *fwd = stanza_elem(ctx, "forwarded", NS_FORWARD);
        xmpp_stanza_t *inner, *delay;
        char *ts = stamp(a->time_us);

        xmpp_stanza_set_from(msg, r->jid);
        if (queryid)
            xmpp_stanza_set_attribute(result, "queryid", queryid);
        xmpp_stanza_set_id(result, a->stanza_id);
        delay = stanza_elem(ctx, "delay", NS_DELAY);
        xmpp_stanza_set_attribute(delay, "stamp", ts);
        stanza_add(fwd, delay);
        inner = history_message(up, r, a, from, mod, FALSE);
        /* Inside <forwarded/> the message is the one the room sent, in
         * the client namespace. */
        xmpp_stanza_set_ns(inner, "jabber:client");
        stanza_add(fwd, inner);
        stanza_add(result, fwd);
        stanza_add(msg, result);
        stanza_send(up, msg);
        g_free(ts);
    }
    {
        xmpp_stanza_t *fin = stanza_elem(ctx, "fin", NS_MAM);
        xmpp_stanza_t *rsm = stanza_elem(ctx, "set", NS_RSM);
        char n[24];
        if (queryid)
            xmpp_stanza_set_attribute(fin, "queryid", queryid);
        if (complete)
            xmpp_stanza_set_attribute(fin, "complete", "true");
        if (list->len) {
            const archive_msg *first = g_ptr_array_index(list, 0);
            const archive_msg *last = g_ptr_array_index(list, list->len - 1);
            stanza_add_text(ctx, rsm, "first", first->stanza_id);
            stanza_add_text(ctx, rsm, "last", last->stanza_id);
        }
        g_snprintf(n, sizeof(n), "%" G_GUINT64_FORMAT, count);
        stanza_add_text(ctx, rsm, "count", n);
        stanza_add(fin, rsm);
        res->payload = fin;
    }
leave:
    if (list)
        g_ptr_array_unref(list);
    if (after)
        xmpp_free(ctx, after);
    if (before)
        xmpp_free(ctx, before);
    if (max)
        xmpp_free(ctx, max);
    return x;
}
