/* svc_announce: the announcement form, its text bounded where it enters,
 * sent to the rooms' occupants (muc_service.c) and queued for the legacy
 * members (the bridge, through the registry's hook). */
#include "svc_announce.h"

#include <string.h>

#include "form.h"
#include "log.h"
#include "stanza.h"
#include "svc_merge.h"

#define NS_ADMIN "http://jabber.org/protocol/admin"

static xmpp_stanza_t *announce_form(request *rq)
{
    xmpp_stanza_t *x = form_new(
        rq->ctx, "form", "Announce to every member",
        "Sent to everyone in every group now, and to every legacy member "
        "through the group's bot.");

    form_add_type(rq->ctx, x, NS_ADMIN);
    form_field(rq->ctx, x, "announcement", "text-multi", "Announcement", NULL,
               TRUE);
    return x;
}

/* The lines of the announcement joined, or NULL with *why. XEP-0004 §3.3:
 * text-multi is one <value/> per line. */
static char *announcement_text(request *rq, char **why)
{
    GPtrArray *lines = form_values(rq->form, "announcement");
    GString *text = g_string_new(NULL);
    guint max = rq->ad->cfg->max_body;

    for (guint i = 0; i < lines->len; i++)
        g_string_append_printf(text, "%s%s", i ? "\n" : "",
                               (char *)g_ptr_array_index(lines, i));
    g_ptr_array_unref(lines);
    g_strstrip(text->str);
    text->len = strlen(text->str);
    *why = NULL;
    if (!text->len)
        *why = g_strdup("announcement: say something");
    else if (!g_utf8_validate(text->str, -1, NULL))
        *why = g_strdup("announcement: not UTF-8");
    else if (max && g_utf8_strlen(text->str, -1) > max)
        /* the one bound on a message's body ([limits] max_body) */
        *why = g_strdup_printf("announcement: at most %u characters", max);
    if (*why) {
        g_string_free(text, TRUE);
        return NULL;
    }
    return g_string_free(text, FALSE);
}

/* What an announcement reached, on one shard or summed. */
typedef struct reach {
    guint64 people, legacy;
    gboolean unqueued; /* a shard's bridge is not running */
} reach;

/* The announcement on this shard: its groups' occupants and its legacy
 * members (through the registry's hook). */
static void announce_here(adhoc *ad, uplink *up, const char *text, reach *r)
{
    guint legacy = 0;

    r->people += muc_announce(ad->muc, up, text);
    if (registry_announce(ad->reg, text, &legacy) < 0)
        r->unqueued = TRUE;
    r->legacy += legacy;
}

static char *reach_note(const reach *r)
{
    return g_strdup_printf(
        "Sent to %" G_GUINT64_FORMAT " XMPP user%s in the groups; "
        "%s%" G_GUINT64_FORMAT " legacy member%s and chat%s.",
        r->people, r->people == 1 ? "" : "s",
        r->unqueued ? "not queued for the legacy side "
                      "(the bridge is not running): "
                    : "queued for ",
        r->legacy, r->legacy == 1 ? "" : "s", r->legacy == 1 ? "" : "s");
}

/* An announcement waiting for the other shards. */
typedef struct announce_wait {
    adhoc *ad;
    adhoc_later *later;
    reach sum;
} announce_wait;

/* Every shard that answered has sent it; one that did not is named in the
 * note (it may or may not have: ejabberd drops what reaches a shard that
 * is down, docs/cluster.md). */
static void announce_merged(const bus_result *br, void *userdata)
{
    announce_wait *w = userdata;
    GArray *down = g_array_new(FALSE, FALSE, sizeof(guint));
    response rp = {0};
    char *note, *partial;

    g_array_append_vals(down, br->down, br->n_down);
    for (guint i = 0; i < br->n_answers; i++) {
        const bus_answer *a = &br->answers[i];
        svc_merge_figures f;
        if (a->err == XERR_NONE && a->payload &&
            svc_merge_figures_read(a->payload, &f) == 0) {
            w->sum.people += f.occupants;
            w->sum.legacy += f.members;
            w->sum.unqueued |= f.accounts == 0 && f.online == 1;
        } else {
            g_array_append_val(down, a->shard);
        }
    }
    partial = svc_merge_note((guint *)down->data, down->len,
                             bus_shards(w->ad->bus), "the figures");
    note = reach_note(&w->sum);
    if (partial) {
        char *both = g_strdup_printf("%s %s", partial, note);
        g_free(note);
        note = both;
    }
    adhoc_finish(&rp, partial ? "warn" : "info", note);
    adhoc_resume(w->later, &rp);
    g_free(partial);
    g_array_unref(down);
    g_free(w);
}

enum xerr svc_announce_send(request *rq, response *rp)
{
    char *why = NULL, *text;
    xmpp_stanza_t *ask;
    announce_wait *w;
    reach here = {0};

    if (rq->s->stage == 0) {
        adhoc_wait(rq, rp, announce_form(rq), "complete");
        return XERR_NONE;
    }
    if (!(text = announcement_text(rq, &why))) {
        adhoc_again(rq, rp, announce_form(rq), why);
        return XERR_NONE;
    }
    announce_here(rq->ad, rq->q->up, text, &here);
    log_info(LOG_SERVICE,
             "%s announced to %" G_GUINT64_FORMAT
             " XMPP users and %" G_GUINT64_FORMAT " legacy targets here",
             rq->bare, here.people, here.legacy);
    if (!rq->ad->bus || bus_shards(rq->ad->bus) < 2) {
        adhoc_finish(rp, "info", reach_note(&here));
        g_free(text);
        return XERR_NONE;
    }
    /* Issue 14: every shard's occupants and legacy members. */
    w = g_new0(announce_wait, 1);
    *w = (announce_wait){rq->ad, adhoc_defer(rq), here};
    ask = stanza_elem(rq->ctx, "announce", SVC_MERGE_NS_ADMIN);
    stanza_add_text(rq->ctx, ask, "body", text);
    if (bus_ask_all(rq->ad->bus, "set", ask, 0, announce_merged, w) < 0) {
        bus_result none = {NULL, 0, NULL, 0};
        log_warning(LOG_SERVICE, "announce: the bus refused the ask");
        announce_merged(&none, w);
    }
    xmpp_stanza_release(ask);
    g_free(text);
    return XERR_NONE;
}

/* The bus side: another shard's admin announced; this shard sends it to
 * its own occupants and legacy members and says how many (in a figures
 * element: occupants = people, members = legacy targets, online = 1 and
 * accounts = 0 when its bridge is not running). The text is bounded here
 * again ([limits] max_body), the bus being an input like any. */
enum xerr svc_announce_serve(const iq_req *q, iq_res *res)
{
    adhoc *ad = q->data;
    char *text = stanza_child_text(q->child, "body");
    guint max = ad->cfg->max_body;
    svc_merge_figures f = {0};
    reach r = {0};
    enum xerr e = XERR_NONE;

    if (!text || !*text || !g_utf8_validate(text, -1, NULL) ||
        (max && g_utf8_strlen(text, -1) > max)) {
        e = iq_fail(res, XERR_BAD_REQUEST, "not an announcement");
        goto leave;
    }
    if (!ad->up) {
        e = XERR_SERVICE_UNAVAILABLE;
        goto leave;
    }
    announce_here(ad, ad->up, text, &r);
    log_info(LOG_SERVICE,
             "announced from another shard to %" G_GUINT64_FORMAT
             " XMPP users and %" G_GUINT64_FORMAT " legacy targets",
             r.people, r.legacy);
    f.occupants = r.people;
    f.members = r.legacy;
    f.online = r.unqueued;
    f.accounts = r.unqueued ? 0 : 1;
    res->payload = svc_merge_figures_elem(q->ctx, &f);
leave:
    if (text)
        xmpp_free(q->ctx, text);
    return e;
}
