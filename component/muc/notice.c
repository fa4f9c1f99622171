/* notice: the first-contact notice, its text and the record that it was
 * given (notice.h). */
#include "notice.h"

#include "log.h"
#include "noticed.h"
#include "stanza.h"

char *notice_text(const room *r, guint service_keep_days, const char *service)
{
    gint32 days =
        r->cfg->keep_days >= 0 ? r->cfg->keep_days : (gint32)service_keep_days;
    GString *t = g_string_new(NULL);

    g_string_append(t, "About your data: this service keeps the groups you are "
                       "affiliated with, the nicks you register, that you were "
                       "shown this notice, and every message you send to a "
                       "group, which its members can read back");
    if (days > 0)
        g_string_append_printf(t, " (this group keeps messages %d days)", days);
    else
        g_string_append(t, " (this group keeps messages until they are "
                           "withdrawn or erased)");
    g_string_append_printf(
        t,
        ". Your address is shown only to the group's moderators, unless "
        "the group is set to show it to everyone. The command \"My data\" "
        "of %s lists everything kept about you; its administrators can "
        "erase it all on request. You get this notice once.",
        service);
    if (r->cfg->description && *r->cfg->description)
        g_string_append_printf(t, "\n\nAbout this group: %s",
                               r->cfg->description);
    return g_string_free(t, FALSE);
}

typedef struct mark_args {
    const char *bare;
    gint64 now;
} mark_args;

static int mark_txn(MDB_txn *txn, const store *st, void *userdata)
{
    const mark_args *a = userdata;

    return noticed_put(txn, st, a->bare, a->now);
}

void notice_first_contact(muc *m, uplink *up, const room *r, const occ *o,
                          const char *full)
{
    mark_args a = {o->bare, g_get_real_time()};
    xmpp_ctx_t *ctx = uplink_ctx(up);
    MDB_txn *txn = NULL;
    GError *err = NULL;
    gint64 when = 0;
    xmpp_stanza_t *msg;
    char *text;
    int rc;

    if (!m->cfg->first_contact_notice || o->legacy_kind)
        return;
    if (store_read_begin(m->st, &txn, &err) < 0) {
        log_warning(LOG_STORE, "first-contact notice: %s", err->message);
        g_error_free(err);
        return;
    }
    rc = noticed_get(txn, m->st, o->bare, &when);
    store_read_end(txn);
    /* A record this build cannot read counts as given. */
    if (rc != 0 || when != 0)
        return;
    if (store_write(m->st, mark_txn, &a, &err) < 0) {
        log_warning(LOG_STORE, "first-contact notice: %s", err->message);
        g_error_free(err);
        return;
    }
    text = notice_text(r, m->cfg->keep_days, m->cfg->jid);
    msg = xmpp_message_new(ctx, "groupchat", full, NULL);
    xmpp_stanza_set_from(msg, r->jid);
    stanza_add_text(ctx, msg, "body", text);
    stanza_send(up, msg);
    g_free(text);
}
