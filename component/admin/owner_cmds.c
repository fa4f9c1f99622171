/* owner_cmds: members (XMPP affiliations and legacy members, paged),
 * retention (imgroups#keep_days through muc_owner.c), invite (message.c's
 * mediated invitation). */
#include "owner_cmds.h"

#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "form.h"
#include "log.h"
#include "members.h"
#include "stanza.h"
#include "svc_groups.h"

#define NS_MUC_OWNER      "http://jabber.org/protocol/muc#owner"
#define NS_MUC_ROOMCONFIG "http://jabber.org/protocol/muc#roomconfig"

/* ---- members ---- */

static const char *const member_vars[] = {"who", "network", "affiliation",
                                          "nick"};
static const char *const member_labels[] = {"JID or handle", "Network",
                                            "Affiliation", "Nick"};

typedef struct member_row {
    char *who, *network, *affiliation, *nick;
} member_row;

static void member_row_free(gpointer p)
{
    member_row *m = p;

    g_free(m->who);
    g_free(m->network);
    g_free(m->affiliation);
    g_free(m->nick);
    g_free(m);
}

typedef struct rows_args {
    registry *reg;
    const char *component;
    GPtrArray *rows; /* member_row * */
} rows_args;

static int add_affiliated(const char *bare, enum affiliation a,
                          const char *reason, void *ud)
{
    rows_args *ra = ud;
    member_row *m;

    /* a legacy member's made-up JID: listed by its handle below */
    if ((a != AFF_MEMBER && a != AFF_ADMIN && a != AFF_OWNER) ||
        bridge_is_legacy_jid(ra->component, bare))
        return 0;
    m = g_new0(member_row, 1);
    m->who = g_strdup(bare);
    m->network = g_strdup("xmpp");
    m->affiliation = g_strdup(affiliation_name(a));
    m->nick = g_strdup("");
    g_ptr_array_add(ra->rows, m);
    return 0;
}

static int add_legacy(const member_rec *mr, void *ud)
{
    rows_args *ra = ud;
    registry_account *acct = registry_get(ra->reg, mr->account);
    member_row *m = g_new0(member_row, 1);

    m->who = g_strdup(mr->handle);
    m->network = g_strdup_printf("%s (bot %s)",
                                 acct ? acct->rec->protocol : "?", mr->account);
    m->affiliation = g_strdup("legacy member");
    m->nick = g_strdup(mr->nick ? mr->nick : "");
    g_ptr_array_add(ra->rows, m);
    return 0;
}

/* members: the group's XMPP members (member, admin, owner) and its legacy
 * members with their network, a page at a time (adhoc_page_full); the owner is
 * a moderator and may see real JIDs (XEP-0045 §9, the member list). */
enum xerr owner_cmds_members(request *rq, response *rp)
{
    adhoc *ad = rq->ad;
    rows_args ra = {ad->reg, ad->cfg->jid,
                    g_ptr_array_new_with_free_func(member_row_free)};
    MDB_txn *txn = NULL;
    GError *err = NULL;
    guint first = 0, shown = 0;
    gsize used = 0;
    xmpp_stanza_t *x;
    char *title;

    if (rq->s->stage > 0 && rq->s->cursor)
        first = (guint)strtoul(rq->s->cursor, NULL, 10);
    if (store_read_begin(ad->st, &txn, &err) < 0) {
        log_error(LOG_STORE, "%s", err->message);
        g_error_free(err);
        g_ptr_array_unref(ra.rows);
        return XERR_INTERNAL_SERVER_ERROR;
    }
    affiliations_foreach(txn, ad->st, rq->room, add_affiliated, &ra);
    members_foreach_group(txn, ad->st, rq->room, add_legacy, &ra);
    store_read_end(txn);
    title = g_strdup_printf("Members of %s", rq->room);
    x = adhoc_table(rq->ctx, title, member_vars, member_labels,
                    G_N_ELEMENTS(member_vars));
    g_free(title);
    for (guint i = first; i < ra.rows->len && !adhoc_page_full(ad, shown, used);
         i++) {
        const member_row *m = g_ptr_array_index(ra.rows, i);
        const char *values[] = {m->who, m->network, m->affiliation, m->nick};
        used +=
            adhoc_row(rq->ctx, x, member_vars, values, G_N_ELEMENTS(values));
        shown++;
    }
    if (first + shown < ra.rows->len) {
        g_free(rq->s->cursor);
        rq->s->cursor = g_strdup_printf("%u", first + shown);
        adhoc_page(rq, rp, x,
                   g_strdup_printf("Members %u to %u of %u; next for more.",
                                   first + 1, first + shown, ra.rows->len));
    } else {
        rp->x = x;
        adhoc_finish(rp, "info",
                     g_strdup_printf("%u member%s.", ra.rows->len,
                                     ra.rows->len == 1 ? "" : "s"));
    }
    g_ptr_array_unref(ra.rows);
    return XERR_NONE;
}

/* ---- retention ---- */

static xmpp_stanza_t *retention_form(request *rq)
{
    const group_cfg *g = muc_group(rq->ad->muc, rq->room);
    xmpp_stanza_t *x =
        form_new(rq->ctx, "form", "Retention",
                 "How many days the group's archive keeps messages: -1 the "
                 "service's default, 0 forever.");
    char days[16];

    g_snprintf(days, sizeof(days), "%d", g ? g->keep_days : -1);
    form_field(rq->ctx, x, "keep_days", "text-single", "Days", days, TRUE);
    return x;
}

/* retention: imgroups#keep_days, submitted as the room's configuration
 * (opt_keep_days.c decides what is valid; muc_owner.c stores it). */
enum xerr owner_cmds_retention(request *rq, response *rp)
{
    char *days = NULL, *text = NULL;
    xmpp_stanza_t *query, *x, *payload = NULL;
    enum xerr e;

    if (rq->s->stage == 0) {
        adhoc_wait(rq, rp, retention_form(rq), "complete");
        return XERR_NONE;
    }
    if (form_text_max(rq->form, "keep_days", FALSE, 16, &days) < 0 || !days ||
        !*days) {
        adhoc_again(rq, rp, retention_form(rq),
                    g_strdup("keep_days: a whole number of days"));
        g_free(days);
        return XERR_NONE;
    }
    query = stanza_elem(rq->ctx, "query", NS_MUC_OWNER);
    x = form_new(rq->ctx, "submit", NULL, NULL);
    form_add_type(rq->ctx, x, NS_MUC_ROOMCONFIG);
    form_field(rq->ctx, x, "imgroups#keep_days", NULL, NULL, days, FALSE);
    stanza_add(query, x);
    e = svc_groups_owner_iq(rq, rq->room, "set", query, &payload, &text);
    if (payload)
        xmpp_stanza_release(payload);
    if (e == XERR_NONE) {
        log_info(LOG_SERVICE, "%s set the retention of %s", rq->bare, rq->room);
        adhoc_finish(
            rp, "info",
            g_strdup_printf("Retention of %s set to %s.", rq->room, days));
    } else {
        adhoc_again(rq, rp, retention_form(rq),
                    g_strdup("keep_days: a whole number of days, -1 or more"));
    }
    g_free(text);
    g_free(days);
    return XERR_NONE;
}

/* ---- invite ---- */

static xmpp_stanza_t *invite_form(request *rq)
{
    xmpp_stanza_t *x = form_new(rq->ctx, "form", "Invite",
                                "The room sends them an invitation from you "
                                "(XEP-0045 §7.8.2).");

    form_field(rq->ctx, x, "jid", "jid-single", "Their JID", NULL, TRUE);
    form_field(rq->ctx, x, "reason", "text-single", "Reason", NULL, FALSE);
    return x;
}

enum xerr owner_cmds_invite(request *rq, response *rp)
{
    char *to = NULL, *reason = NULL, *bare = NULL;
    const char *why = NULL;
    enum xerr e;

    if (rq->s->stage == 0) {
        adhoc_wait(rq, rp, invite_form(rq), "complete");
        return XERR_NONE;
    }
    if (form_text_max(rq->form, "jid", FALSE, ADHOC_FIELD_MAX, &to) < 0 ||
        !to || !(bare = jid_bare_fold(to))) {
        adhoc_again(rq, rp, invite_form(rq), g_strdup("jid: a valid JID"));
        goto leave;
    }
    if (form_text_max(rq->form, "reason", FALSE, ADHOC_FIELD_MAX, &reason) <
        0) {
        adhoc_again(rq, rp, invite_form(rq),
                    g_strdup("reason: at most 1024 bytes of UTF-8"));
        goto leave;
    }
    e = muc_group_invite(rq->ad->muc, rq->q->up, rq->room, rq->bare, to,
                         reason && *reason ? reason : NULL, &why);
    if (e == XERR_NONE)
        adhoc_finish(rp, "info", g_strdup_printf("%s invited.", bare));
    else
        adhoc_finish(
            rp, "error",
            g_strdup_printf("Not invited: %s.", why ? why : xerr_condition(e)));
leave:
    g_free(to);
    g_free(bare);
    g_free(reason);
    return XERR_NONE;
}
