/* msn: the libpurple protocol plugin prpl-imgroups-msn (MSNP12): plugin
 * registration, account options, status types, and the prpl entry points
 * over the session (ns.c, sb.c, passport.c). */
#include "msn.h"

#include <errno.h>
#include <string.h>

#include "imgroups_prpl.h"
#include "groupchat.h"
#include "msnobj.h"
#include "ns.h"
#include "passport.h"
#include "picture.h"
#include "sb.h"
#include "typing.h"

#define PLUGIN_VERSION "0.1.0"

/* The plugin, for emitting its signal; set while loaded. */
static PurplePlugin *msn_plugin;

/* ---- the session ------------------------------------------------------- */

msn_session *msn_session_of(PurpleConnection *gc)
{
    return purple_connection_get_protocol_data(gc);
}

void msn_session_fail(msn_session *s, PurpleConnectionError reason,
                      const char *why)
{
    if (s->failed)
        return;
    s->failed = TRUE;
    purple_debug_warning("msn", "giving up the connection: %s\n", why);
    purple_connection_error_reason(s->gc, reason, why);
}

const char *msn_normalize(const char *email)
{
    static char buf[256];
    char *low = g_ascii_strdown(email ? email : "", -1);

    g_strlcpy(buf, g_strstrip(low), sizeof buf);
    g_free(low);
    return buf;
}

/* ---- delivery marks (imgroups_prpl.h) ---------------------------------- */

struct settled {
    guint64 id;
    gboolean ok;
    char *why;
};

/* Tells every settled mark, in order. */
static void tell_settled(msn_session *s)
{
    struct settled *d;

    while ((d = g_queue_pop_head(&s->settled))) {
        imgroups_delivery del = {.id = d->id, .ok = d->ok, .why = d->why};

        purple_debug_info("msn", "delivery mark %" G_GUINT64_FORMAT ": %s\n",
                          d->id, d->ok ? "confirmed" : d->why);
        if (msn_plugin)
            purple_signal_emit(msn_plugin, IMGROUPS_PRPL_DELIVERY_SIGNAL, s->gc,
                               &del);
        g_free(d->why);
        g_free(d);
    }
}

static gboolean on_settle(gpointer data)
{
    msn_session *s = data;

    s->settle_h = 0;
    tell_settled(s);
    return FALSE;
}

void msn_settle(msn_session *s, guint64 id, gboolean ok, const char *why)
{
    struct settled *d = g_new0(struct settled, 1);

    d->id = id;
    d->ok = ok;
    d->why = ok ? NULL : g_strdup(why ? why : "not delivered");
    g_queue_push_tail(&s->settled, d);
    if (!s->settle_h)
        s->settle_h = purple_timeout_add(0, on_settle, s);
}

G_MODULE_EXPORT gboolean imgroups_prpl_mark(PurpleConnection *gc,
                                            const char *who, guint64 id);

/* Exported for the worker (IMGROUPS_PRPL_MARK_SYMBOL): a mark behind the
 * message just given for who. Refused for a connection that is not this
 * plugin's or has no session. */
gboolean imgroups_prpl_mark(PurpleConnection *gc, const char *who, guint64 id)
{
    PurpleAccount *acct = gc ? purple_connection_get_account(gc) : NULL;
    msn_session *s;

    if (!acct || !who ||
        g_strcmp0(purple_account_get_protocol_id(acct), MSN_PRPL_ID) != 0)
        return FALSE;
    s = msn_session_of(gc);
    if (!s)
        return FALSE;
    if (!groupchat_mark(s, who, id))
        sb_mark(s, who, id);
    return TRUE;
}

static void contact_free(gpointer data)
{
    msn_contact *ct = data;

    g_free(ct->email);
    g_free(ct->name);
    g_free(ct->uuid);
    g_free(ct);
}

msn_contact *msn_contact_find(msn_session *s, const char *email)
{
    return g_hash_table_lookup(s->contacts, msn_normalize(email));
}

msn_contact *msn_contact_get(msn_session *s, const char *email)
{
    msn_contact *ct = msn_contact_find(s, email);

    if (!ct) {
        ct = g_new0(msn_contact, 1);
        ct->email = g_strdup(msn_normalize(email));
        g_hash_table_insert(s->contacts, ct->email, ct);
    }
    return ct;
}

/* ---- statuses ---------------------------------------------------------- */

static const struct {
    const char *id;
    PurpleStatusPrimitive prim;
    const char *name;
    const char *code; /* what CHG says for it */
} statuses[] = {
    {MSN_STATUS_AVAILABLE, PURPLE_STATUS_AVAILABLE, "Available", "NLN"},
    {MSN_STATUS_AWAY, PURPLE_STATUS_AWAY, "Away", "AWY"},
    {MSN_STATUS_BUSY, PURPLE_STATUS_UNAVAILABLE, "Busy", "BSY"},
    {MSN_STATUS_OFFLINE, PURPLE_STATUS_OFFLINE, "Offline", NULL},
};

static const char *code_of(PurpleStatus *status)
{
    const char *id = status ? purple_status_get_id(status) : NULL;

    for (gsize i = 0; id && i < G_N_ELEMENTS(statuses); i++)
        if (strcmp(statuses[i].id, id) == 0 && statuses[i].code)
            return statuses[i].code;
    return "NLN";
}

static GList *msn_status_types(PurpleAccount *acct)
{
    GList *types = NULL;

    for (gsize i = 0; i < G_N_ELEMENTS(statuses); i++)
        types = g_list_append(types, purple_status_type_new_full(
                                         statuses[i].prim, statuses[i].id,
                                         statuses[i].name, TRUE, TRUE, FALSE));
    return types;
}

static const char *msn_list_icon(PurpleAccount *acct, PurpleBuddy *b)
{
    return "msn";
}

static const char *msn_normalize_cb(const PurpleAccount *acct, const char *who)
{
    return msn_normalize(who);
}

/* ---- connecting -------------------------------------------------------- */

/* A contact of s came online: the group chat calls them in. */
static void on_signed_on(PurpleBuddy *buddy, gpointer data)
{
    msn_session *s = data;

    if (purple_buddy_get_account(buddy) == s->acct && !s->failed &&
        s->state == NS_ONLINE)
        groupchat_on_online(s, purple_buddy_get_name(buddy));
}

static void msn_login(PurpleAccount *acct)
{
    PurpleConnection *gc = purple_account_get_connection(acct);
    msn_session *s = g_new0(msn_session, 1);
    const char *host =
        purple_account_get_string(acct, MSN_OPT_SERVER, MSN_DEFAULT_HOST);
    int port = purple_account_get_int(acct, MSN_OPT_PORT, MSN_DEFAULT_PORT);

    s->gc = gc;
    s->acct = acct;
    s->email = g_strdup(msn_normalize(purple_account_get_username(acct)));
    s->login = g_strstrip(g_strdup(purple_account_get_username(acct)));
    s->contacts =
        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, contact_free);
    s->status = code_of(purple_account_get_active_status(acct));
    g_queue_init(&s->settled);
    purple_connection_set_protocol_data(gc, s);
    /* Connected here: the buddy list's signals do not exist yet when the
     * plugin is loaded. */
    purple_signal_connect(purple_blist_get_handle(), "buddy-signed-on", s,
                          PURPLE_CALLBACK(on_signed_on), s);
    if (!strchr(s->email, '@')) {
        msn_session_fail(s, PURPLE_CONNECTION_ERROR_INVALID_USERNAME,
                         "an MSN account name is an e-mail address");
        return;
    }
    purple_debug_info("msn", "connecting to %s:%d as %s\n", host, port,
                      s->email);
    ns_start(s, host, port);
}

static void msn_close(PurpleConnection *gc)
{
    msn_session *s = msn_session_of(gc);

    if (!s)
        return;
    purple_signals_disconnect_by_handle(s);
    passport_cancel(s);
    typing_free_all(s);
    groupchat_free(s);
    picture_free(s);
    sb_free_all(s); /* settles every open mark: connection lost */
    ns_close(s);
    if (s->settle_h)
        purple_timeout_remove(s->settle_h);
    s->settle_h = 0;
    tell_settled(s);
    g_hash_table_destroy(s->contacts);
    g_free(s->twn_challenge);
    g_free(s->email);
    g_free(s->login);
    purple_connection_set_protocol_data(gc, NULL);
    g_free(s);
}

/* ---- prpl operations --------------------------------------------------- */

static int msn_send_im(PurpleConnection *gc, const char *who,
                       const char *message, PurpleMessageFlags flags)
{
    msn_session *s = msn_session_of(gc);
    char *text;
    int r;

    if (!s)
        return -ENOTCONN;
    /* libpurple hands over markup; MSN carries plain text. */
    text = purple_markup_strip_html(message);
    if (!*text) {
        g_free(text);
        return 0;
    }
    r = sb_send_im(s, who, text);
    g_free(text);
    return r;
}

static unsigned int msn_send_typing(PurpleConnection *gc, const char *who,
                                    PurpleTypingState state)
{
    msn_session *s = msn_session_of(gc);

    if (!s || state != PURPLE_TYPING)
        return 0;
    sb_send_typing(s, who);
    return 5; /* repeated every 5 s while typing */
}

static gboolean msn_send_attention(PurpleConnection *gc, const char *who,
                                   guint type)
{
    msn_session *s = msn_session_of(gc);

    return s && sb_send_nudge(s, who);
}

static GList *msn_attention_types(PurpleAccount *acct)
{
    static GList *types;

    if (!types)
        types = g_list_append(
            NULL, purple_attention_type_new(
                      "Nudge", "Nudge", "%s has nudged you!", "Nudging %s..."));
    return types;
}

/* The bot's picture (libpurple's account icon): its MSN object in CHG. */
static void msn_set_buddy_icon(PurpleConnection *gc, PurpleStoredImage *img)
{
    msn_session *s = msn_session_of(gc);

    if (!s)
        return;
    if (img)
        picture_set_mine(s, purple_imgstore_get_data(img),
                         purple_imgstore_get_size(img));
    else
        picture_set_mine(s, NULL, 0);
}

static void msn_set_status(PurpleAccount *acct, PurpleStatus *status)
{
    PurpleConnection *gc = purple_account_get_connection(acct);
    msn_session *s = gc ? msn_session_of(gc) : NULL;

    if (!s || !purple_status_is_active(status))
        return;
    ns_set_status(s, code_of(status));
}

static void msn_add_buddy(PurpleConnection *gc, PurpleBuddy *b,
                          PurpleGroup *group)
{
    msn_session *s = msn_session_of(gc);
    const char *who = purple_buddy_get_name(b);

    if (!s || !who || !strchr(who, '@'))
        return;
    ns_add_contact(s, who);
}

static void msn_remove_buddy(PurpleConnection *gc, PurpleBuddy *b,
                             PurpleGroup *group)
{
    msn_session *s = msn_session_of(gc);

    if (s)
        ns_remove_contact(s, purple_buddy_get_name(b));
}

/* ---- registration ------------------------------------------------------ */

static PurplePluginProtocolInfo prpl_info = {
    /* MSN Messenger shows 96×96 pictures; any format it can read. */
    .icon_spec = {"png,gif,jpeg", 0, 0, 96, 96, MSNOBJ_PICTURE_MAX,
                  PURPLE_ICON_SCALE_SEND},
    .list_icon = msn_list_icon,
    .status_types = msn_status_types,
    .login = msn_login,
    .close = msn_close,
    .send_im = msn_send_im,
    .send_typing = msn_send_typing,
    .set_status = msn_set_status,
    .add_buddy = msn_add_buddy,
    .remove_buddy = msn_remove_buddy,
    .normalize = msn_normalize_cb,
    .chat_info = groupchat_info,
    .chat_info_defaults = groupchat_info_defaults,
    .get_chat_name = groupchat_get_name,
    .join_chat = groupchat_join,
    .chat_leave = groupchat_leave,
    .chat_send = groupchat_send,
    .set_buddy_icon = msn_set_buddy_icon,
    .send_attention = msn_send_attention,
    .get_attention_types = msn_attention_types,
    .struct_size = sizeof(PurplePluginProtocolInfo),
};

static gboolean msn_load(PurplePlugin *plugin)
{
    msn_plugin = plugin;
    imgroups_prpl_signal_register(plugin);
    return TRUE;
}

static gboolean msn_unload(PurplePlugin *plugin)
{
    imgroups_prpl_signal_unregister(plugin);
    msn_plugin = NULL;
    return TRUE;
}

static PurplePluginInfo plugin_info = {
    .magic = PURPLE_PLUGIN_MAGIC,
    .major_version = PURPLE_MAJOR_VERSION,
    .minor_version = PURPLE_MINOR_VERSION,
    .type = PURPLE_PLUGIN_PROTOCOL,
    .priority = PURPLE_PRIORITY_DEFAULT,
    .id = MSN_PRPL_ID,
    .name = "MSN (imgroups)",
    .version = PLUGIN_VERSION,
    .summary = "MSN Messenger (MSNP12) for revival servers",
    .description = "MSNP8-12 with Passport 1.4 login, written for imgroups: "
                   "contact list, presence, switchboard messages, typing, "
                   "nudges, group chats (multi-party switchboards), display "
                   "pictures (MSNSLP).",
    .author = "imgroups",
    .homepage = "",
    .load = msn_load,
    .unload = msn_unload,
    .extra_info = &prpl_info,
};

static void init_plugin(PurplePlugin *plugin)
{
    prpl_info.protocol_options =
        g_list_append(prpl_info.protocol_options,
                      purple_account_option_string_new("Server", MSN_OPT_SERVER,
                                                       MSN_DEFAULT_HOST));
    prpl_info.protocol_options = g_list_append(
        prpl_info.protocol_options,
        purple_account_option_int_new("Port", MSN_OPT_PORT, MSN_DEFAULT_PORT));
    prpl_info.protocol_options = g_list_append(
        prpl_info.protocol_options,
        purple_account_option_string_new("Passport nexus URL", MSN_OPT_NEXUS,
                                         MSN_DEFAULT_NEXUS));
}

PURPLE_INIT_PLUGIN(imgroups_msn, init_plugin, plugin_info)
