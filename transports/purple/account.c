/* account: the bot's account, its options and its connection (account.h). */
#include "account.h"

#include <string.h>

#include "bot.h"
#include "clock.h"
#include "optval.h"
#include "text.h"
#include "ui.h"

/* Reconnect backoff: 1 s doubling to 5 min, ±25 % jitter, reset once the
 * account has stayed up for a minute; fatal errors start at 5 min. */
#define BACKOFF_MIN_MS (1000u)
#define BACKOFF_MAX_MS (5u * 60u * 1000u)
#define STABLE_US      (60 * G_USEC_PER_SEC)

/* ---- options ----------------------------------------------------------- */

static PurpleAccountOption *find_option(PurplePluginProtocolInfo *info,
                                        const char *key)
{
    for (GList *o = info->protocol_options; o; o = o->next)
        if (strcmp(purple_account_option_get_setting(o->data), key) == 0)
            return o->data;
    return NULL;
}

/* Whether value is one of a list option's choices (their values, not
 * their labels). */
static gboolean is_choice(PurpleAccountOption *o, const char *value)
{
    for (GList *l = purple_account_option_get_list(o); l; l = l->next) {
        const PurpleKeyValuePair *kv = l->data;
        if (kv->value && strcmp(kv->value, value) == 0)
            return TRUE;
    }
    return FALSE;
}

/* Checks every option against the prpl's declared ones and their types.
 * Returns 0, or -1 with *why set (caller g_free()s). Values are never
 * quoted: an option may be a secret. */
static int check_options(bot *b, PurplePluginProtocolInfo *info, GVariant *opts,
                         char **why)
{
    GVariantIter it;
    const char *key, *value;

    g_variant_iter_init(&it, opts);
    while (g_variant_iter_next(&it, "{&s&s}", &key, &value)) {
        PurpleAccountOption *o = find_option(info, key);
        gboolean flag;
        int n;

        if (!o) {
            GString *known = g_string_new(NULL);

            for (GList *l = info->protocol_options; l; l = l->next)
                g_string_append_printf(
                    known, "%s%s", known->len ? ", " : "",
                    purple_account_option_get_setting(l->data));
            *why =
                g_strdup_printf("unknown option '%s' for %s (known: %s)", key,
                                b->protocol, known->len ? known->str : "none");
            g_string_free(known, TRUE);
            return -1;
        }
        switch (purple_account_option_get_type(o)) {
        case PURPLE_PREF_INT:
            if (optval_int(value, &n) < 0) {
                *why = g_strdup_printf("option '%s' for %s must be an integer",
                                       key, b->protocol);
                return -1;
            }
            break;
        case PURPLE_PREF_BOOLEAN:
            if (optval_bool(value, &flag) < 0) {
                *why = g_strdup_printf("option '%s' for %s must be true or "
                                       "false",
                                       key, b->protocol);
                return -1;
            }
            break;
        case PURPLE_PREF_STRING_LIST:
            if (!is_choice(o, value)) {
                *why = g_strdup_printf("option '%s' for %s must be one of the "
                                       "plugin's choices",
                                       key, b->protocol);
                return -1;
            }
            break;
        default:
            break;
        }
    }
    return 0;
}

/* Options whose prpl default would hold messages back inside libpurple:
 * the IRC plugin (2.14) queues what it sends and writes one line every
 * ratelimit-interval seconds after a burst. A message waiting in that
 * queue has been reported delivered, and is lost if the worker dies; the
 * core already paces each account (pace_burst, pace_rate), so the plugin
 * writes at once. An admin's option.* still wins. */
static const struct {
    const char *key, *value;
} unqueued[] = {
    {"ratelimit-interval", "0"},
    {"ratelimit-burst", "1000000"},
};

static const char *unqueued_default(const char *key)
{
    for (gsize i = 0; i < G_N_ELEMENTS(unqueued); i++)
        if (strcmp(unqueued[i].key, key) == 0)
            return unqueued[i].value;
    return NULL;
}

/* Sets the given options, and resets the others to the prpl's defaults
 * (a setting left from an earlier run is not what the core asked for). */
static void apply_options(bot *b, PurplePluginProtocolInfo *info,
                          GVariant *opts)
{
    for (GList *l = info->protocol_options; l; l = l->next) {
        PurpleAccountOption *o = l->data;
        const char *key = purple_account_option_get_setting(o);
        const char *value = NULL;
        gboolean flag = FALSE;
        int n = 0;

        if (!g_variant_lookup(opts, key, "&s", &value))
            value = unqueued_default(key);
        if (!value) {
            purple_account_remove_setting(b->acct, key);
            continue;
        }
        switch (purple_account_option_get_type(o)) {
        case PURPLE_PREF_INT:
            optval_int(value, &n);
            purple_account_set_int(b->acct, key, n);
            break;
        case PURPLE_PREF_BOOLEAN:
            optval_bool(value, &flag);
            purple_account_set_bool(b->acct, key, flag);
            break;
        default:
            purple_account_set_string(b->acct, key, value);
            break;
        }
    }
}

/* ---- connection -------------------------------------------------------- */

static void send_down(bot *b, const char *why)
{
    bot_send(b, PROTO_ACCOUNT_DOWN, g_variant_new("(ss)", b->name, why));
}

static void connect_now(bot *b)
{
    if (!b->acct || b->quitting || !purple_account_is_disconnected(b->acct))
        return;
    /* libpurple drops an unremembered password at every disconnect. */
    purple_account_set_password(b->acct, b->password);
    g_message("connecting");
    purple_account_connect(b->acct);
}

static gboolean on_reconnect(gpointer data)
{
    bot *b = data;

    b->account.reconnect_id = 0;
    connect_now(b);
    return G_SOURCE_REMOVE;
}

static void schedule_reconnect(bot *b, gboolean fatal)
{
    guint delay = backoff_next(&b->account.retry, clock_now(), fatal);

    if (b->account.reconnect_id)
        g_source_remove(b->account.reconnect_id);
    b->account.reconnect_id = g_timeout_add(delay, on_reconnect, b);
    g_message("reconnecting in %.1f s", delay / 1000.0);
}

/* The connection is gone: tell the core, forget what it implied (chats,
 * buddies online, messages awaiting confirmation) and try again later. */
static void went_down(bot *b, const char *why, gboolean fatal)
{
    b->up = FALSE;
    g_message("down: %s", why);
    send_down(b, why);
    chat_on_down(b);
    im_on_down(b);
    delivery_on_down(b);
    schedule_reconnect(b, fatal);
}

static void on_connected(PurpleConnection *gc)
{
    bot *b = bot_of_account(purple_connection_get_account(gc));

    if (!b || b->quitting)
        return;
    b->up = TRUE;
    b->account.reported = FALSE;
    g_message("up");
    bot_send(b, PROTO_ACCOUNT_UP, g_variant_new("(s)", b->name));
    backoff_up(&b->account.retry, clock_now());
    chat_on_up(b);
}

static void on_report_disconnect(PurpleConnection *gc,
                                 PurpleConnectionError reason, const char *text)
{
    bot *b = bot_of_account(purple_connection_get_account(gc));
    char *why;

    if (!b || b->quitting)
        return;
    why = text_sanitize(text);
    b->account.reported = TRUE;
    /* One line: libpurple's texts quote the server's lines. */
    g_strdelimit(why, "\n\t", ' ');
    went_down(b, *why ? why : "disconnected",
              purple_connection_error_is_fatal(reason));
    g_free(why);
}

/* A connection that ended without a reason (none we know of does). */
static void on_disconnected(PurpleConnection *gc)
{
    bot *b = bot_of_account(purple_connection_get_account(gc));

    if (!b || b->quitting)
        return;
    if (!b->account.reported)
        went_down(b, "disconnected", FALSE);
    b->account.reported = FALSE;
}

static void on_connect_progress(PurpleConnection *gc, const char *text,
                                size_t step, size_t step_count)
{
    g_debug("connecting: %s (%zu/%zu)", text ? text : "", step, step_count);
}

static PurpleConnectionUiOps connection_ops = {
    .connect_progress = on_connect_progress,
    .connected = on_connected,
    .disconnected = on_disconnected,
    .report_disconnect_reason = on_report_disconnect,
};

void account_init(bot *b)
{
    backoff_init(&b->account.retry, BACKOFF_MIN_MS, BACKOFF_MAX_MS, STABLE_US);
    purple_connections_set_ui_ops(&connection_ops);
}

void account_shutdown(bot *b)
{
    if (b->account.reconnect_id)
        g_source_remove(b->account.reconnect_id);
    b->account.reconnect_id = 0;
}

/* ---- the account ------------------------------------------------------- */

void account_handle_add(bot *b, GVariant *body)
{
    const char *name, *protocol, *username, *password;
    GVariant *opts = NULL;
    PurplePlugin *prpl;
    PurplePluginProtocolInfo *info;
    PurpleStatusType *avail;
    PurpleAccount *acct;
    char *why = NULL;

    g_variant_get(body, "(&s&s&s&s@a{ss})", &name, &protocol, &username,
                  &password, &opts);
    if (b->name) {
        g_warning("a second account_add (%s): one account per worker, "
                  "ignored",
                  name);
        goto leave;
    }
    b->name = g_strdup(name);
    b->protocol = g_strdup(protocol);
    b->password = *password ? g_strdup(password) : NULL;
    ui_log_set_account(name);
    delivery_replay(b);
    g_message("account %s on %s", username, protocol);
    prpl = purple_find_prpl(protocol);
    if (!prpl) {
        why = g_strdup_printf("no such protocol plugin: %s", protocol);
        goto down;
    }
    info = PURPLE_PLUGIN_PROTOCOL_INFO(prpl);
    if (check_options(b, info, opts, &why) < 0)
        goto down;
    if (!b->password && !(info->options & (OPT_PROTO_NO_PASSWORD |
                                           OPT_PROTO_PASSWORD_OPTIONAL))) {
        why = g_strdup_printf("%s needs a password", protocol);
        goto down;
    }
    acct = purple_accounts_find(username, protocol);
    if (!acct) {
        acct = purple_account_new(username, protocol);
        purple_accounts_add(acct);
    }
    /* One account per worker: any other one left in accounts.xml stays off. */
    for (GList *l = purple_accounts_get_all(); l; l = l->next)
        if (l->data != acct)
            purple_account_set_enabled(l->data, UI_ID, FALSE);
    b->acct = acct;
    b->limit = text_limit(protocol);
    purple_account_set_remember_password(acct, FALSE);
    purple_account_set_password(acct, b->password);
    apply_options(b, info, opts);
    delivery_start(b, prpl);
    /* Enabling an account whose status is online connects it: status
     * first, while disabled, then enable. */
    purple_account_set_enabled(acct, UI_ID, FALSE);
    avail = purple_account_get_status_type_with_primitive(
        acct, PURPLE_STATUS_AVAILABLE);
    if (avail)
        purple_account_set_status(acct, purple_status_type_get_id(avail), TRUE,
                                  NULL);
    purple_account_set_enabled(acct, UI_ID, TRUE);
    connect_now(b);
    goto leave;
down:
    g_message("down: %s", why);
    send_down(b, why);
leave:
    g_free(why);
    if (opts)
        g_variant_unref(opts);
}

void account_handle_remove(bot *b, GVariant *body)
{
    const char *account;

    g_variant_get(body, "(&s)", &account);
    if (g_strcmp0(account, b->name) != 0) {
        g_warning("account_remove for %s, not ours: ignored", account);
        return;
    }
    g_message("removing the account");
    b->quitting = TRUE;
    if (b->acct) {
        purple_account_set_enabled(b->acct, UI_ID, FALSE);
        purple_accounts_delete(b->acct);
        b->acct = NULL;
    }
    b->on_exit(0);
}
