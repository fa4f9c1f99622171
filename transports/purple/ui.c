/* ui: libpurple's UI ops for a headless worker on the GLib main loop, the
 * prompt policy, GResolver-backed DNS, and the worker's log writer. */
#include "ui.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>

#include <purple.h>

#include "secret.h"

/* What is written: 0 error, 1 warning, 2 info, 3 debug (the core's
 * [log] legacy, told in PROTO_LOG_LEVEL). */
static guint ui_level = 2;
static gboolean ui_journal; /* stderr is the journal's stream (systemd) */
static char *log_account;

/* ---- logging ----------------------------------------------------------- */

static guint level_rank(GLogLevelFlags level)
{
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
        return 0;
    if (level & G_LOG_LEVEL_WARNING)
        return 1;
    if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
        return 2;
    return 3;
}

/* The journal's PRIORITY of each rank (syslog: err, warning, info, debug). */
static const char *const priorities[] = {"3", "4", "6", "7"};

static const char *level_name(GLogLevelFlags level)
{
    if (level & G_LOG_LEVEL_ERROR)
        return "error";
    if (level & G_LOG_LEVEL_CRITICAL)
        return "critical";
    if (level & G_LOG_LEVEL_WARNING)
        return "warning";
    if (level & G_LOG_LEVEL_MESSAGE)
        return "message";
    if (level & G_LOG_LEVEL_INFO)
        return "info";
    return "debug";
}

static GLogWriterOutput log_writer(GLogLevelFlags level,
                                   const GLogField *fields, gsize n,
                                   gpointer data)
{
    const char *msg = "", *domain = "";
    int len = -1;
    GDateTime *now;
    char *stamp;

    if (level_rank(level) > ui_level)
        return G_LOG_WRITER_HANDLED;
    for (gsize i = 0; i < n; i++) {
        if (strcmp(fields[i].key, "MESSAGE") == 0) {
            msg = fields[i].value;
            len =
                fields[i].length < 0 ? (int)strlen(msg) : (int)fields[i].length;
        } else if (strcmp(fields[i].key, "GLIB_DOMAIN") == 0 &&
                   fields[i].value) {
            domain = fields[i].value;
        }
    }
    if (len < 0)
        len = (int)strlen(msg);
    /* libpurple's debug lines end in a newline of their own. */
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
        len--;
    if (ui_journal) {
        /* The core's fields: its area, the account named. */
        char *text = g_strndup(msg, (gsize)len);
        GLogField f[] = {
            {"MESSAGE", text, -1},
            {"PRIORITY", priorities[level_rank(level)], -1},
            {"SYSLOG_IDENTIFIER", "imgroups-purple", -1},
            {"IMGROUPS_AREA", *domain ? domain : "worker", -1},
            {"ACCOUNT", log_account, -1},
        };
        GLogWriterOutput done = g_log_writer_journald(
            level, f, G_N_ELEMENTS(f) - (log_account ? 0 : 1), NULL);
        g_free(text);
        if (done == G_LOG_WRITER_HANDLED)
            return done;
    }
    /* "TIME imgroups-purple: ACCOUNT: LEVEL: [DOMAIN: ]message", the time
     * as the core writes it (UTC, ms); the worker's own domain goes
     * unnamed. */
    now = g_date_time_new_now_utc();
    stamp = g_date_time_format(now, "%Y-%m-%dT%H:%M:%S");
    fprintf(stderr, "%s.%03dZ imgroups-purple: %s%s%s: %s%s%.*s\n", stamp,
            g_date_time_get_microsecond(now) / 1000,
            log_account ? log_account : "", log_account ? ": " : "",
            level_name(level), strcmp(domain, "worker") ? domain : "",
            strcmp(domain, "worker") ? ": " : "", len, msg);
    g_free(stamp);
    g_date_time_unref(now);
    return G_LOG_WRITER_HANDLED;
}

void ui_log_init(gboolean debug)
{
    ui_level = debug ? 3 : 2;
    ui_journal = g_log_writer_is_journald(fileno(stderr));
    g_log_set_writer_func(log_writer, NULL, NULL);
}

void ui_log_set_level(guint level)
{
    ui_level = MIN(level, 3u);
}

void ui_log_set_account(const char *name)
{
    g_free(log_account);
    log_account = g_strdup(name);
}

/* libpurple's debug output can hold message bodies: it reaches the log only
 * with --debug. */
/* Plugins' debug lines that carry message text (the XMPP plugin dumps
 * every stanza it sends and receives, and some plugins echo raw lines):
 * the log never holds a message body, at any level, so these are cut to
 * their size. Other stanzas (presence, roster, iq) stay readable. */
static gboolean carries_traffic(const char *category, const char *text)
{
    (void)category;
    return strstr(text, "<body") != NULL || strstr(text, "PRIVMSG") != NULL ||
           strstr(text, "<subject") != NULL;
}

static void debug_print(PurpleDebugLevel level, const char *category,
                        const char *text)
{
    /* libpurple's errors are the worker's warnings; the rest is debug. */
    GLogLevelFlags as =
        level >= PURPLE_DEBUG_ERROR ? G_LOG_LEVEL_WARNING : G_LOG_LEVEL_DEBUG;
    char *masked;

    if (carries_traffic(category, text)) {
        g_log("purple", as,
              "%s: (%zu bytes of traffic, not "
              "shown)",
              category ? category : "-", strlen(text));
        return;
    }
    /* libpurple's own HTTP debug prints response headers whole: MSN's
     * Passport ticket among them. */
    masked = secret_mask(text);
    g_log("purple", as, "%s: %s", category ? category : "-",
          masked ? masked : text);
    secret_free(masked);
}

static gboolean debug_is_enabled(PurpleDebugLevel level, const char *category)
{
    (void)category;
    return level >= PURPLE_DEBUG_ERROR ? ui_level >= 1 : ui_level >= 3;
}

static PurpleDebugUiOps debug_ops = {
    .print = debug_print,
    .is_enabled = debug_is_enabled,
};

/* ---- event loop -------------------------------------------------------- */

#define READ_COND  (G_IO_IN | G_IO_PRI | G_IO_HUP | G_IO_ERR | G_IO_NVAL)
#define WRITE_COND (G_IO_OUT | G_IO_HUP | G_IO_ERR | G_IO_NVAL)

struct input {
    PurpleInputFunction fn;
    gpointer data;
    PurpleInputCondition cond;
};

/* A bot's delivery is confirmed by the network's answer (IRC: the PONG
 * behind each line). A server whose Nagle holds that answer until our
 * delayed ACK (40 ms on Linux) widens the window in which a killed worker
 * cannot know a line arrived, and sends it again: so the bots' TCP
 * sockets acknowledge at once and send at once. Other fds refuse these
 * options, which is fine. */
static void quick_ack(int fd)
{
    int one = 1;

    setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
}

static gboolean input_dispatch(GIOChannel *ch, GIOCondition cond, gpointer data)
{
    struct input *in = data;
    PurpleInputCondition pc = 0;

    if ((in->cond & PURPLE_INPUT_READ) && (cond & READ_COND))
        pc |= PURPLE_INPUT_READ;
    if ((in->cond & PURPLE_INPUT_WRITE) && (cond & WRITE_COND))
        pc |= PURPLE_INPUT_WRITE;
    if (pc)
        in->fn(in->data, g_io_channel_unix_get_fd(ch), pc);
    if (pc & PURPLE_INPUT_READ)
        quick_ack(g_io_channel_unix_get_fd(ch));
    return G_SOURCE_CONTINUE;
}

/* g_timeout_add_seconds rounds to the next whole-second tick; a prpl
 * asking for 0 s means "next turn", not "within a second". (The IRC
 * plugin's send queue does not come here: 2.14 drains it from a 1 s timer
 * of its own, whatever ratelimit-interval says; see pingpong.c.) */
static guint timeout_add_seconds(guint seconds, GSourceFunc fn, gpointer data)
{
    return seconds ? g_timeout_add_seconds(seconds, fn, data)
                   : g_timeout_add(0, fn, data);
}

static guint input_add(gint fd, PurpleInputCondition cond,
                       PurpleInputFunction fn, gpointer data)
{
    struct input *in = g_new0(struct input, 1);
    GIOChannel *ch = g_io_channel_unix_new(fd);
    GIOCondition gc = 0;
    guint id;

    in->fn = fn;
    in->data = data;
    in->cond = cond;
    {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        quick_ack(fd);
    }
    if (cond & PURPLE_INPUT_READ)
        gc |= READ_COND;
    if (cond & PURPLE_INPUT_WRITE)
        gc |= WRITE_COND;
    id = g_io_add_watch_full(ch, G_PRIORITY_DEFAULT, gc, input_dispatch, in,
                             g_free);
    g_io_channel_unref(ch);
    return id;
}

static gboolean source_remove(guint id)
{
    return g_source_remove(id);
}

static PurpleEventLoopUiOps loop_ops = {
    .timeout_add = g_timeout_add,
    .timeout_remove = source_remove,
    .input_add = input_add,
    .input_remove = source_remove,
    .timeout_add_seconds = timeout_add_seconds,
};

/* ---- prompts: answered by policy on the next loop turn ------------------ */

/* How a prompt is answered: which callback signature. */
enum answer {
    ANSWER_INT,  /* action, choice: cb(user_data, int) */
    ANSWER_STR,  /* input: cb(user_data, const char *) */
    ANSWER_PTR,  /* fields: cb(user_data, fields) */
    ANSWER_FILE, /* file, folder: cb(user_data, NULL) */
};

struct prompt {
    PurpleRequestType type;
    enum answer how;
    GCallback cb; /* NULL: nothing to call, just close */
    void *user_data;
    int arg_int;
    char *arg_str;
    void *arg_ptr;
    guint idle;
    gboolean running; /* inside cb */
    gboolean closed;  /* libpurple closed it while running */
};

static void prompt_free(struct prompt *p)
{
    if (p->idle)
        g_source_remove(p->idle);
    g_free(p->arg_str);
    g_free(p);
}

static gboolean prompt_answer(gpointer data)
{
    struct prompt *p = data;

    p->idle = 0;
    p->running = TRUE;
    if (p->cb) {
        switch (p->how) {
        case ANSWER_INT:
            ((void (*)(void *, int))p->cb)(p->user_data, p->arg_int);
            break;
        case ANSWER_STR:
            ((void (*)(void *, const char *))p->cb)(p->user_data, p->arg_str);
            break;
        case ANSWER_PTR:
            ((void (*)(void *, void *))p->cb)(p->user_data, p->arg_ptr);
            break;
        case ANSWER_FILE:
            ((void (*)(void *, const char *))p->cb)(p->user_data, NULL);
            break;
        }
    }
    p->running = FALSE;
    if (p->closed)
        prompt_free(p);
    else
        purple_request_close(p->type, p); /* → close_request frees it */
    return G_SOURCE_REMOVE;
}

/* Answering from inside the request call would run libpurple's callback
 * before it has recorded the request: answer on the next loop turn. */
static void *prompt_new(PurpleRequestType type, enum answer how, GCallback cb,
                        void *user_data, const char *title)
{
    struct prompt *p = g_new0(struct prompt, 1);

    g_info("prompt \"%s\" answered by policy", title ? title : "");
    p->type = type;
    p->how = how;
    p->cb = cb;
    p->user_data = user_data;
    p->idle = g_idle_add(prompt_answer, p);
    return p;
}

static void close_request(PurpleRequestType type, void *handle)
{
    struct prompt *p = handle;

    if (p->running)
        p->closed = TRUE;
    else
        prompt_free(p);
}

/* Text input: cancel (no prompt we know of is safe to answer blindly). */
static void *request_input(const char *title, const char *primary,
                           const char *secondary, const char *default_value,
                           gboolean multiline, gboolean masked, gchar *hint,
                           const char *ok_text, GCallback ok_cb,
                           const char *cancel_text, GCallback cancel_cb,
                           PurpleAccount *account, const char *who,
                           PurpleConversation *conv, void *user_data)
{
    struct prompt *p = prompt_new(PURPLE_REQUEST_INPUT, ANSWER_STR, cancel_cb,
                                  user_data, title);

    p->arg_str = g_strdup(default_value);
    return p;
}

static void *request_choice(const char *title, const char *primary,
                            const char *secondary, int default_value,
                            const char *ok_text, GCallback ok_cb,
                            const char *cancel_text, GCallback cancel_cb,
                            PurpleAccount *account, const char *who,
                            PurpleConversation *conv, void *user_data,
                            va_list choices)
{
    struct prompt *p = prompt_new(PURPLE_REQUEST_CHOICE, ANSWER_INT, cancel_cb,
                                  user_data, title);

    p->arg_int = default_value;
    return p;
}

/* Actions: the default one, except that a certificate prompt is rejected
 * (libpurple makes "Accept" the default for unverifiable certificates). */
static void *pick_action(const char *title, int default_action, void *user_data,
                         size_t count, va_list actions)
{
    gboolean cert = title && strstr(title, "Certificate") != NULL;
    GCallback chosen = NULL;
    int index = -1;

    for (size_t i = 0; i < count; i++) {
        const char *label = va_arg(actions, const char *);
        GCallback cb = va_arg(actions, GCallback);

        if (cert ? (label && strcmp(label, "Reject") == 0)
                 : (int)i == default_action) {
            chosen = cb;
            index = (int)i;
        }
    }
    if (cert)
        g_message("certificate prompt \"%s\": rejected", title ? title : "");
    {
        struct prompt *p = prompt_new(PURPLE_REQUEST_ACTION, ANSWER_INT, chosen,
                                      user_data, title);

        p->arg_int = index;
        return p;
    }
}

static void *request_action(const char *title, const char *primary,
                            const char *secondary, int default_action,
                            PurpleAccount *account, const char *who,
                            PurpleConversation *conv, void *user_data,
                            size_t action_count, va_list actions)
{
    return pick_action(title, default_action, user_data, action_count, actions);
}

static void *request_action_with_icon(const char *title, const char *primary,
                                      const char *secondary, int default_action,
                                      PurpleAccount *account, const char *who,
                                      PurpleConversation *conv,
                                      gconstpointer icon_data, gsize icon_size,
                                      void *user_data, size_t action_count,
                                      va_list actions)
{
    return pick_action(title, default_action, user_data, action_count, actions);
}

/* Forms (passwords, registration, ...): cancel. */
static void *request_fields(const char *title, const char *primary,
                            const char *secondary, PurpleRequestFields *fields,
                            const char *ok_text, GCallback ok_cb,
                            const char *cancel_text, GCallback cancel_cb,
                            PurpleAccount *account, const char *who,
                            PurpleConversation *conv, void *user_data)
{
    struct prompt *p = prompt_new(PURPLE_REQUEST_FIELDS, ANSWER_PTR, cancel_cb,
                                  user_data, title);

    p->arg_ptr = fields;
    return p;
}

/* Files and folders (transfers): cancel. */
static void *request_file(const char *title, const char *filename,
                          gboolean savedialog, GCallback ok_cb,
                          GCallback cancel_cb, PurpleAccount *account,
                          const char *who, PurpleConversation *conv,
                          void *user_data)
{
    return prompt_new(PURPLE_REQUEST_FILE, ANSWER_FILE, cancel_cb, user_data,
                      title);
}

static void *request_folder(const char *title, const char *dirname,
                            GCallback ok_cb, GCallback cancel_cb,
                            PurpleAccount *account, const char *who,
                            PurpleConversation *conv, void *user_data)
{
    return prompt_new(PURPLE_REQUEST_FOLDER, ANSWER_FILE, cancel_cb, user_data,
                      title);
}

static PurpleRequestUiOps request_ops = {
    .request_input = request_input,
    .request_choice = request_choice,
    .request_action = request_action,
    .request_fields = request_fields,
    .request_file = request_file,
    .close_request = close_request,
    .request_folder = request_folder,
    .request_action_with_icon = request_action_with_icon,
};

/* ---- notifications: logged (titles only, never texts) ------------------- */

/* Returning NULL makes libpurple treat a notification as closed at once. */
static void *notify_message(PurpleNotifyMsgType type, const char *title,
                            const char *primary, const char *secondary)
{
    g_message("notice: %s", title && *title ? title : "(untitled)");
    g_debug("notice: %s", primary ? primary : "");
    return NULL;
}

static void *notify_email(PurpleConnection *gc, const char *subject,
                          const char *from, const char *to, const char *url)
{
    g_info("notice: 1 new mail");
    return NULL;
}

static void *notify_emails(PurpleConnection *gc, size_t count,
                           gboolean detailed, const char **subjects,
                           const char **froms, const char **tos,
                           const char **urls)
{
    g_info("notice: %zu new mails", count);
    return NULL;
}

static void *notify_formatted(const char *title, const char *primary,
                              const char *secondary, const char *text)
{
    g_info("notice: %s", title && *title ? title : "(untitled)");
    return NULL;
}

static void *notify_searchresults(PurpleConnection *gc, const char *title,
                                  const char *primary, const char *secondary,
                                  PurpleNotifySearchResults *results,
                                  gpointer user_data)
{
    return NULL;
}

static void *notify_userinfo(PurpleConnection *gc, const char *who,
                             PurpleNotifyUserInfo *user_info)
{
    return NULL;
}

static void *notify_uri(const char *uri)
{
    return NULL;
}

static PurpleNotifyUiOps notify_ops = {
    .notify_message = notify_message,
    .notify_email = notify_email,
    .notify_emails = notify_emails,
    .notify_formatted = notify_formatted,
    .notify_searchresults = notify_searchresults,
    .notify_userinfo = notify_userinfo,
    .notify_uri = notify_uri,
};

/* ---- DNS through GResolver, so libpurple never forks a resolver -------- */

static GResolver *resolver;
/* query data (libpurple's) → struct lookup, while libpurple wants it */
static GHashTable *lookups;

struct lookup {
    void *query; /* PurpleDnsQueryData or PurpleSrvTxtQueryData; NULL once
                    libpurple destroyed it */
    GCallback ok, fail;
    GCancellable *cancel;
    unsigned short port;
    int srv_type;
};

static struct lookup *lookup_new(void *query, GCallback ok, GCallback fail)
{
    struct lookup *l = g_new0(struct lookup, 1);

    l->query = query;
    l->ok = ok;
    l->fail = fail;
    l->cancel = g_cancellable_new();
    g_hash_table_insert(lookups, query, l);
    return l;
}

/* The GResolver callback owns the lookup: it always runs, also after a
 * cancel. Returns libpurple's query, or NULL when it is gone. */
static void *lookup_finish(struct lookup *l)
{
    void *query = l->query;

    if (query)
        g_hash_table_remove(lookups, query);
    g_object_unref(l->cancel);
    g_free(l);
    return query;
}

static void lookup_destroy(void *query)
{
    struct lookup *l = g_hash_table_lookup(lookups, query);

    if (!l)
        return;
    g_hash_table_remove(lookups, query);
    l->query = NULL;
    g_cancellable_cancel(l->cancel);
}

static void on_resolved(GObject *src, GAsyncResult *res, gpointer data)
{
    struct lookup *l = data;
    GError *err = NULL;
    GList *addrs = g_resolver_lookup_by_name_finish(resolver, res, &err);
    PurpleDnsQueryResolvedCallback ok = (PurpleDnsQueryResolvedCallback)l->ok;
    PurpleDnsQueryFailedCallback fail = (PurpleDnsQueryFailedCallback)l->fail;
    unsigned short port = l->port;
    PurpleDnsQueryData *query = lookup_finish(l);
    GSList *hosts = NULL;

    if (!query)
        goto leave;
    if (!addrs) {
        fail(query, err ? err->message : "no address");
        goto leave;
    }
    /* libpurple's format: pairs of (address length, struct sockaddr *). */
    for (GList *a = addrs; a; a = a->next) {
        GSocketAddress *sa = g_inet_socket_address_new(a->data, port);
        gssize len = g_socket_address_get_native_size(sa);
        gpointer native = g_malloc0(len);

        if (g_socket_address_to_native(sa, native, len, NULL)) {
            hosts = g_slist_append(hosts, GINT_TO_POINTER((int)len));
            hosts = g_slist_append(hosts, native);
        } else {
            g_free(native);
        }
        g_object_unref(sa);
    }
    if (hosts)
        ok(query, hosts); /* takes the list */
    else
        fail(query, "no usable address");
leave:
    g_resolver_free_addresses(addrs);
    g_clear_error(&err);
}

static gboolean resolve_host(PurpleDnsQueryData *query,
                             PurpleDnsQueryResolvedCallback ok,
                             PurpleDnsQueryFailedCallback fail)
{
    struct lookup *l = lookup_new(query, (GCallback)ok, (GCallback)fail);

    l->port = purple_dnsquery_get_port(query);
    g_resolver_lookup_by_name_async(resolver, purple_dnsquery_get_host(query),
                                    l->cancel, on_resolved, l);
    return TRUE;
}

static void resolve_destroy(PurpleDnsQueryData *query)
{
    lookup_destroy(query);
}

static PurpleDnsQueryUiOps dns_ops = {
    .resolve_host = resolve_host,
    .destroy = resolve_destroy,
};

static void on_records(GObject *src, GAsyncResult *res, gpointer data)
{
    struct lookup *l = data;
    GError *err = NULL;
    GList *recs = g_resolver_lookup_records_finish(resolver, res, &err);
    PurpleSrvTxtQueryResolvedCallback ok =
        (PurpleSrvTxtQueryResolvedCallback)l->ok;
    PurpleSrvTxtQueryFailedCallback fail =
        (PurpleSrvTxtQueryFailedCallback)l->fail;
    int type = l->srv_type;
    PurpleSrvTxtQueryData *query = lookup_finish(l);
    GList *out = NULL;

    if (!query)
        goto leave;
    for (GList *r = recs; r; r = r->next) {
        if (type == PurpleDnsTypeSrv) {
            PurpleSrvResponse *s = g_new0(PurpleSrvResponse, 1);
            guint16 prio, weight, port;
            const char *target;

            g_variant_get(r->data, "(qqq&s)", &prio, &weight, &port, &target);
            g_strlcpy(s->hostname, target, sizeof s->hostname);
            s->port = port;
            s->weight = weight;
            s->pref = prio;
            out = g_list_append(out, s);
        } else {
            PurpleTxtResponse *t = g_new0(PurpleTxtResponse, 1);
            const char **parts = NULL;

            g_variant_get(r->data, "(^a&s)", &parts);
            t->content = g_strjoinv("", (char **)parts);
            g_free(parts);
            out = g_list_append(out, t);
        }
    }
    /* libpurple takes the list, and wants failures for empty answers. */
    if (out)
        ok(query, out);
    else
        fail(query, err ? err->message : "no records");
leave:
    g_list_free_full(recs, (GDestroyNotify)g_variant_unref);
    g_clear_error(&err);
}

static gboolean resolve_records(PurpleSrvTxtQueryData *query,
                                PurpleSrvTxtQueryResolvedCallback ok,
                                PurpleSrvTxtQueryFailedCallback fail)
{
    int type = purple_srv_txt_query_get_type(query);
    struct lookup *l;

    if (type != PurpleDnsTypeSrv && type != PurpleDnsTypeTxt)
        return FALSE;
    l = lookup_new(query, (GCallback)ok, (GCallback)fail);
    l->srv_type = type;
    g_resolver_lookup_records_async(
        resolver, purple_srv_txt_query_get_query(query),
        type == PurpleDnsTypeSrv ? G_RESOLVER_RECORD_SRV
                                 : G_RESOLVER_RECORD_TXT,
        l->cancel, on_records, l);
    return TRUE;
}

static void records_destroy(PurpleSrvTxtQueryData *query)
{
    lookup_destroy(query);
}

static PurpleSrvTxtQueryUiOps srv_ops = {
    .resolve = resolve_records,
    .destroy = records_destroy,
};

/* ---- idle, blist, core ------------------------------------------------- */

/* Never idle: the bot reports no idle time and no auto-away. */
static time_t get_time_idle(void)
{
    return 0;
}

static PurpleIdleUiOps idle_ops = {
    .get_time_idle = get_time_idle,
};

/* Without blist UI ops libpurple saves no buddy list; with the save ops left
 * NULL it fills in its own, which write blist.xml in the user dir. Not
 * const: libpurple writes into it. */
static PurpleBlistUiOps blist_ops;

static GHashTable *ui_info;

static GHashTable *get_ui_info(void)
{
    if (!ui_info) {
        ui_info = g_hash_table_new(g_str_hash, g_str_equal);
        g_hash_table_insert(ui_info, "name", "imgroups");
        g_hash_table_insert(ui_info, "version", IMGROUPS_VERSION);
        g_hash_table_insert(ui_info, "client_type", "bot");
    }
    return ui_info;
}

static void ui_ops_init(void)
{
    purple_request_set_ui_ops(&request_ops);
    purple_notify_set_ui_ops(&notify_ops);
    purple_dnsquery_set_ui_ops(&dns_ops);
    purple_srv_txt_query_set_ui_ops(&srv_ops);
    purple_idle_set_ui_ops(&idle_ops);
    purple_blist_set_ui_ops(&blist_ops);
}

static PurpleCoreUiOps core_ops = {
    .ui_init = ui_ops_init,
    .get_ui_info = get_ui_info,
};

/* The project's own protocol plugins (MSN, Yahoo), without a system-wide
 * install: where `ninja install` puts them (IMGROUPS_PLUGIN_DIR), and in a
 * build tree the directories beside this program's (transports/msn,
 * transports/yahoo). */
static void add_own_plugin_dirs(void)
{
    static const char *const siblings[] = {"msn", "yahoo"};
    char *exe = g_file_read_link("/proc/self/exe", NULL);
    char *dir = exe ? g_path_get_dirname(exe) : NULL;

    if (g_file_test(IMGROUPS_PLUGIN_DIR, G_FILE_TEST_IS_DIR))
        purple_plugins_add_search_path(IMGROUPS_PLUGIN_DIR);
    for (gsize i = 0; dir && i < G_N_ELEMENTS(siblings); i++) {
        char *d = g_build_filename(dir, "..", siblings[i], NULL);

        if (g_file_test(d, G_FILE_TEST_IS_DIR))
            purple_plugins_add_search_path(d);
        g_free(d);
    }
    g_free(dir);
    g_free(exe);
}

int ui_init(const char *user_dir, const char *plugin_dir, gboolean debug)
{
    (void)debug; /* the level is ui_log_init's, then the core's */
    if (g_mkdir_with_parents(user_dir, 0700) < 0) {
        g_warning("cannot create %s: %s", user_dir, g_strerror(errno));
        return -1;
    }
    resolver = g_resolver_get_default();
    lookups = g_hash_table_new(NULL, NULL);
    purple_util_set_user_dir(user_dir);
    purple_debug_set_enabled(FALSE);
    purple_debug_set_ui_ops(&debug_ops);
    purple_core_set_ui_ops(&core_ops);
    purple_eventloop_set_ui_ops(&loop_ops);
    if (plugin_dir)
        purple_plugins_add_search_path(plugin_dir);
    add_own_plugin_dirs();
    if (!purple_core_init(UI_ID)) {
        g_warning("libpurple failed to initialise");
        return -1;
    }
    /* Privacy: no conversation logs, no idle or away reporting, no port
     * mapping on the local network. */
    purple_prefs_set_bool("/purple/logging/log_ims", FALSE);
    purple_prefs_set_bool("/purple/logging/log_chats", FALSE);
    purple_prefs_set_bool("/purple/logging/log_system", FALSE);
    purple_prefs_set_string("/purple/away/idle_reporting", "none");
    purple_prefs_set_bool("/purple/away/away_when_idle", FALSE);
    purple_prefs_set_string("/purple/away/auto_reply", "never");
    purple_prefs_set_bool("/purple/network/map_ports", FALSE);
    purple_set_blist(purple_blist_new());
    purple_blist_load();
    return 0;
}

void ui_quit(void)
{
    purple_core_quit();
    if (lookups) {
        /* Lookups still running see their query gone and free themselves. */
        GList *queries = g_hash_table_get_keys(lookups);

        for (GList *q = queries; q; q = q->next)
            lookup_destroy(q->data);
        g_list_free(queries);
        g_hash_table_destroy(lookups);
        lookups = NULL;
    }
    g_clear_object(&resolver);
    if (ui_info)
        g_hash_table_destroy(ui_info);
    ui_info = NULL;
}
