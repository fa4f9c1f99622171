/* svc_announce: the announcement form, its text bounded where it enters,
 * sent to the rooms' occupants (muc_service.c) and queued for the legacy
 * members (the bridge, through the registry's hook). */
#include "svc_announce.h"

#include <string.h>

#include "form.h"
#include "log.h"

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

enum xerr svc_announce_send(request *rq, response *rp)
{
    char *why = NULL, *text;
    guint people, legacy = 0;
    int rc;

    if (rq->s->stage == 0) {
        adhoc_wait(rq, rp, announce_form(rq), "complete");
        return XERR_NONE;
    }
    if (!(text = announcement_text(rq, &why))) {
        adhoc_again(rq, rp, announce_form(rq), why);
        return XERR_NONE;
    }
    people = muc_announce(rq->ad->muc, rq->q->up, text);
    rc = registry_announce(rq->ad->reg, text, &legacy);
    log_info(LOG_SERVICE, "%s announced to %u XMPP users and %u legacy targets",
             rq->bare, people, legacy);
    adhoc_finish(rp, "info",
                 g_strdup_printf("Sent to %u XMPP user%s in the groups; "
                                 "%s%u legacy member%s and chat%s.",
                                 people, people == 1 ? "" : "s",
                                 rc < 0 ? "not queued for the legacy side "
                                          "(the bridge is not running): "
                                        : "queued for ",
                                 legacy, legacy == 1 ? "" : "s",
                                 legacy == 1 ? "" : "s"));
    g_free(text);
    return XERR_NONE;
}
