/* history: what a room tells from its archive: the history and subject on
 * join (XEP-0045 §7.2.14, §7.2.15), the archived-message stanza, and MAM
 * (XEP-0313): its form and its queries. */
#include "history.h"
#include "muc_int.h"
#include "form.h"
#include "options.h"
#include "presence.h"
#include "retract.h"

#include <string.h>

#include "archive.h"
#include "bounds.h"
#include "clock.h"
#include "log.h"
#include "jid.h"
#include "stanza.h"
#include "xmltext.h"

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
        h->since_us = clock_real() - s * G_USEC_PER_SEC;
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

void history_text(GString *b, const room *r, const archive_msg *a,
                  const char *live, const char *to, gsize *to_at,
                  const char *id, const char *ns, gboolean real_jid,
                  gboolean delay)
{
    xmltext_open(b, "message", ns);
    xmltext_attr(b, "type", "groupchat");
    if (to)
        xmltext_attr(b, "to", to);
    else {
        g_string_append(b, " to=\"");
        *to_at = b->len;
        g_string_append_c(b, '"');
    }
    xmltext_attr(b, "id", id ? id : a->origin_id);
    /* nick "": the room itself speaks, from its bare JID. */
    g_string_append(b, " from=\"");
    xmltext_escape(b, r->jid);
    if (*a->nick) {
        g_string_append_c(b, '/');
        xmltext_escape(b, a->nick);
    }
    g_string_append_c(b, '"');
    xmltext_end(b);
    xmltext_child(b, "body", NULL, a->body);
    xmltext_child(b, "subject", NULL, a->subject);
    /* Issue 11, item 2: every other child the sender put in, as relayed
     * live; then what was for the live copy only (chat states, hints). */
    if (a->payload)
        g_string_append(b, a->payload);
    if (live)
        g_string_append(b, live);
    /* A withdrawn message: what stands for it (XEP-0424 §4). */
    retract_tombstone_text(b, r, a);
    if (delay) {
        char *ts = stamp(a->time_us);
        xmltext_open(b, "delay", NS_DELAY);
        xmltext_attr(b, "stamp", ts);
        xmltext_attr(b, "from", r->jid);
        xmltext_end_empty(b);
        g_free(ts);
    }
    /* XEP-0359 §3.1: the archiving entity stamps the id it stored the
     * message under, with by = its own JID (the room's). A message the room
     * did not archive (chat states, no-store) has none. */
    if (a->stanza_id) {
        xmltext_open(b, "stanza-id", NS_SID);
        xmltext_attr(b, "id", a->stanza_id);
        xmltext_attr(b, "by", r->jid);
        xmltext_end_empty(b);
    }
    if (a->origin_id) {
        xmltext_open(b, "origin-id", NS_SID);
        xmltext_attr(b, "id", a->origin_id);
        xmltext_end_empty(b);
    }
    if (a->occupant_id) {
        xmltext_open(b, "occupant-id", NS_OCCUPANT_ID);
        xmltext_attr(b, "id", a->occupant_id);
        xmltext_end_empty(b);
    }
    if (delay && real_jid && a->sender_jid) {
        /* XEP-0045 §7.2.15: the real JID in history only where the
         * recipient may see real JIDs. */
        xmltext_open(b, "x", NS_MUC_USER);
        xmltext_end(b);
        xmltext_open(b, "item", NULL);
        xmltext_attr(b, "jid", a->sender_jid);
        xmltext_end_empty(b);
        xmltext_close(b, "x");
    }
    xmltext_close(b, "message");
}

/* Sends the text in b to one recipient, through the fan-out path. */
static void send_text(uplink *up, const GString *b, gsize to_at,
                      const char *to)
{
    uplink_fanout *f = uplink_fanout_text(up, "message", b->str, b->len,
                                          to_at);

    uplink_fanout_send(f, to);
    uplink_fanout_free(f);
}

/* What history on join replays: what was said with a body or a payload
 * (a reaction, a file: Prosody's history keeps a body-less message the
 * sender marked historic), not a subject change (the subject comes last,
 * XEP-0045 §7.2.16), a withdrawn message or a retraction of one. Measured
 * as archive_history's default, with the payload's bytes. */
static gsize historic(const archive_msg *a, void *userdata)
{
    gsize n = ARCHIVE_HISTORY_OVERHEAD;

    (void)userdata;
    if ((!a->body && !a->payload) || a->retracted || a->retract_of)
        return ARCHIVE_HISTORY_SKIP;
    n += (gsize)g_utf8_strlen(a->nick, -1);
    if (a->body)
        n += (gsize)g_utf8_strlen(a->body, -1);
    if (a->payload)
        n += strlen(a->payload);
    return n;
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
                        h->since_us, historic, NULL, &list) != 0)
        log_error_about(LOG_STORE, r->name, "a group's history cannot be read");
    store_read_end(txn);
    for (guint i = 0; list && i < list->len; i++) {
        GString *b = g_string_sized_new(512);
        gsize at = 0;
        history_text(b, r, g_ptr_array_index(list, i), NULL, NULL, &at, NULL,
                     NULL, muc_sees_jids(r, o), TRUE);
        send_text(up, b, at, to);
        g_string_free(b, TRUE);
    }
    if (list)
        g_ptr_array_unref(list);
}

/* The text of st as a GLib string (g_free), or NULL. */
static char *text_of(xmpp_ctx_t *ctx, xmpp_stanza_t *st)
{
    char *t = xmpp_stanza_get_text(st), *out;

    if (!t)
        return NULL;
    out = g_strdup(t);
    xmpp_free(ctx, t);
    return out;
}

static gboolean mam_other_fields(xmpp_stanza_t *form)
{
    static const char *const known[] = {"FORM_TYPE", "start",     "end",
                                        "after-id",  "before-id", NULL};

    for (xmpp_stanza_t *f = form_field_next(form, NULL); f;
         f = form_field_next(form, f)) {
        const char *v = xmpp_stanza_get_attribute(f, "var");
        gboolean ok = FALSE;

        for (int i = 0; known[i]; i++)
            ok = ok || g_strcmp0(v, known[i]) == 0;
        if (!ok)
            return TRUE;
    }
    return FALSE;
}

/* The form's date-time field var (XEP-0082) into *out (0 when absent). */
static int parse_stamp(xmpp_stanza_t *form, const char *var, gint64 *out)
{
    char *text = form_text(form, var, FALSE);
    GDateTime *dt;

    *out = 0;
    if (!text)
        return 0;
    dt = g_date_time_new_from_iso8601(text, NULL);
    g_free(text);
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
    xmpp_stanza_t *form = form_new(ctx, "form", NULL, NULL);

    /* XEP-0313 §5.1: the fields the archive can filter on. */
    form_add_type(ctx, form, NS_MAM);
    for (int i = 0; fields[i]; i++)
        form_field(ctx, form, fields[i], "text-single", NULL, NULL, FALSE);
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
    /* Sent back on every result: bounded like any id a client gives, so
     * that a result stays within stanza_limit (message.c sizes what is
     * said against it). */
    if (queryid && strlen(queryid) > BOUND_ID_BYTES)
        return iq_fail(res, XERR_POLICY_VIOLATION,
                       "the queryid is too long for this service");
    mod = o ? muc_sees_jids(r, o) : options_jids_public(r->cfg);
    if (mam_other_fields(form)) {
        return iq_fail(res, XERR_FEATURE_NOT_IMPLEMENTED,
                       "filters supported: start, end, after-id, before-id");
    }
    if (parse_stamp(form, "start", &aq.start_us) < 0 ||
        parse_stamp(form, "end", &aq.end_us) < 0) {
        return iq_fail(res, XERR_BAD_REQUEST,
                       "start/end are not XEP-0082 date-times");
    }
    after = form_text(form, "after-id", FALSE);
    before = form_text(form, "before-id", FALSE);
    if (set) {
        xmpp_stanza_t *a = xmpp_stanza_get_child_by_name(set, "after");
        xmpp_stanza_t *b = xmpp_stanza_get_child_by_name(set, "before");
        xmpp_stanza_t *mx = xmpp_stanza_get_child_by_name(set, "max");
        if (a && !after)
            after = text_of(ctx, a);
        if (b) {
            char *t = text_of(ctx, b);
            /* XEP-0059 §2.5: an empty <before/> asks for the last page. */
            if (t && *t && !before)
                before = t;
            else {
                aq.before_last = TRUE;
                g_free(t);
            }
        }
        if (mx)
            max = text_of(ctx, mx);
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
        GString *b = g_string_sized_new(768);
        char *ts = stamp(a->time_us);
        gsize at = 0;

        /* XEP-0313 §4.2: each result a message from the archive (the
         * room) to the querier, the archived message forwarded inside. */
        g_string_append(b, "<message to=\"");
        at = b->len;
        g_string_append_c(b, '"');
        xmltext_attr(b, "from", r->jid);
        xmltext_end(b);
        xmltext_open(b, "result", NS_MAM);
        xmltext_attr(b, "queryid", queryid);
        xmltext_attr(b, "id", a->stanza_id);
        xmltext_end(b);
        xmltext_open(b, "forwarded", NS_FORWARD);
        xmltext_end(b);
        xmltext_open(b, "delay", NS_DELAY);
        xmltext_attr(b, "stamp", ts);
        xmltext_end_empty(b);
        /* Inside <forwarded/> the message is the one the room sent, in
         * the client namespace. */
        history_text(b, r, a, NULL, from, NULL, NULL, "jabber:client", mod,
                     FALSE);
        xmltext_close(b, "forwarded");
        xmltext_close(b, "result");
        xmltext_close(b, "message");
        send_text(up, b, at, from);
        g_string_free(b, TRUE);
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
    g_free(after);
    g_free(before);
    g_free(max);
    return x;
}
