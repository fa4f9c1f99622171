/* loadgen: logs K users into an XMPP server, joins them to R MUC rooms on a
 * given domain, has each send M groupchat messages and reports deliveries
 * per second, send-to-receive latency and errors. A benchmark tool: it
 * prints figures and asserts nothing. */

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strophe.h>
#include <sys/resource.h>

#define NS_MUC       "http://jabber.org/protocol/muc"
#define NS_MUC_USER  "http://jabber.org/protocol/muc#user"
#define NS_MUC_OWNER "http://jabber.org/protocol/muc#owner"
#define NS_DATA      "jabber:x:data"
#define BODY_TAG     "bench"

/* What can go wrong, counted by kind and printed by name. */
#define BENCH_ERRORS(X)                                                        \
    X(LOGIN, "login")                                                          \
    X(DISCONNECT, "disconnect")                                                \
    X(JOIN, "join")                                                            \
    X(FORM, "owner_form")                                                      \
    X(MESSAGE, "message_error")                                                \
    X(PRESENCE, "presence_error")                                              \
    X(IQ, "iq_error")                                                          \
    X(FOREIGN, "foreign_body")                                                 \
    X(WRONG_ROOM, "wrong_room")                                                \
    X(TIMEOUT, "timeout")

enum bench_error {
#define AS_ENUM(e, name) ERR_##e,
    BENCH_ERRORS(AS_ENUM)
#undef AS_ENUM
        ERR_COUNT
};

static const char *const error_names[] = {
#define AS_NAME(e, name) name,
    BENCH_ERRORS(AS_NAME)
#undef AS_NAME
};

enum cstate {
    C_CONNECTING,
    C_ONLINE,
    C_JOINING,
    C_JOINED,
    C_FAILED,
    C_DOWN,
};

typedef struct bench bench;

typedef struct client {
    bench *b;
    int idx;        /* 0 .. clients-1; also its nick c<idx> */
    int room;       /* index of its room */
    gboolean owner; /* first of its room: creates it, others wait */
    xmpp_conn_t *conn;
    char *room_jid; /* room@muc */
    char *nick_jid; /* room@muc/c<idx> */
    enum cstate state;
    gboolean self_seen, subject_seen, form_needed, form_done;
    int sent;          /* own messages sent */
    int settled;       /* own messages echoed back or refused */
    gint64 next_send;  /* monotonic µs before which it does not send */
    guint64 received;  /* bench messages received, from anyone */
} client;

typedef struct opts {
    char *host;
    int port;
    char *domain;
    char *muc;
    char *user_prefix;
    int first_user;
    char *password;
    char *room_prefix;
    int clients;
    int rooms;
    int messages;
    int window;
    int interval_ms;
    int timeout_s;
    gboolean sync;
    gboolean verbose;
} opts;

struct bench {
    opts o;
    xmpp_ctx_t *ctx;
    client *cl;
    int *room_size;
    int connected, joined, down;
    gboolean sending, stopping;
    GArray *lat_us;    /* one gint64 per delivery */
    guint64 delivered;
    guint64 expected;  /* deliveries still expected, less refused sends */
    guint64 errors[ERR_COUNT];
    gint64 first_send, last_recv;
    gint64 deadline;
    double cpu_send, cpu_sent; /* own CPU seconds around the message phase */
};

static gint64 now_us(void)
{
    return g_get_monotonic_time();
}

static void count_error(bench *b, enum bench_error e)
{
    b->errors[e]++;
    if (b->o.verbose)
        fprintf(stderr, "loadgen: error %s\n", error_names[e]);
}

/* --- joining ------------------------------------------------------------ */

static void send_join(client *c)
{
    xmpp_ctx_t *ctx = c->b->ctx;
    xmpp_stanza_t *p = xmpp_presence_new(ctx);
    xmpp_stanza_t *x = xmpp_stanza_new(ctx);
    xmpp_stanza_t *h = xmpp_stanza_new(ctx);

    xmpp_stanza_set_to(p, c->nick_jid);
    xmpp_stanza_set_name(x, "x");
    xmpp_stanza_set_ns(x, NS_MUC);
    /* No history: every client joins before anyone speaks anyway. */
    xmpp_stanza_set_name(h, "history");
    xmpp_stanza_set_attribute(h, "maxstanzas", "0");
    xmpp_stanza_add_child_ex(x, h, 0);
    xmpp_stanza_add_child_ex(p, x, 0);
    c->state = C_JOINING;
    xmpp_send(c->conn, p);
    xmpp_stanza_release(p);
}

/* XEP-0045 §10.1.2: accept the default configuration (an instant room). */
static void send_instant_form(client *c)
{
    xmpp_ctx_t *ctx = c->b->ctx;
    xmpp_stanza_t *iq = xmpp_iq_new(ctx, "set", "cfg");
    xmpp_stanza_t *q = xmpp_stanza_new(ctx);
    xmpp_stanza_t *x = xmpp_stanza_new(ctx);

    xmpp_stanza_set_to(iq, c->room_jid);
    xmpp_stanza_set_name(q, "query");
    xmpp_stanza_set_ns(q, NS_MUC_OWNER);
    xmpp_stanza_set_name(x, "x");
    xmpp_stanza_set_ns(x, NS_DATA);
    xmpp_stanza_set_type(x, "submit");
    xmpp_stanza_add_child_ex(q, x, 0);
    xmpp_stanza_add_child_ex(iq, q, 0);
    xmpp_send(c->conn, iq);
    xmpp_stanza_release(iq);
}

static void check_joined(client *c)
{
    bench *b = c->b;

    if (c->state != C_JOINING || !c->self_seen || !c->subject_seen ||
        (c->form_needed && !c->form_done))
        return;
    c->state = C_JOINED;
    b->joined++;
    if (!c->owner)
        return;
    /* The room exists (and is unlocked): the others may come in. */
    for (int i = c->idx + 1; i < b->o.clients && b->cl[i].room == c->room;
         i++)
        if (b->cl[i].state == C_ONLINE)
            send_join(&b->cl[i]);
}

static void join_failed(client *c, enum bench_error e)
{
    if (c->state == C_JOINING || c->state == C_ONLINE)
        c->state = C_FAILED;
    count_error(c->b, e);
}

/* --- stanza handlers ---------------------------------------------------- */

static gboolean has_status(xmpp_stanza_t *x, const char *code)
{
    for (xmpp_stanza_t *s = xmpp_stanza_get_children(x); s;
         s = xmpp_stanza_get_next(s)) {
        const char *name = xmpp_stanza_get_name(s);
        const char *v = xmpp_stanza_get_attribute(s, "code");
        if (name && strcmp(name, "status") == 0 && v && strcmp(v, code) == 0)
            return TRUE;
    }
    return FALSE;
}

static int on_presence(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    client *c = ud;
    const char *type = xmpp_stanza_get_type(st);
    const char *from = xmpp_stanza_get_from(st);
    xmpp_stanza_t *x;

    if (type && strcmp(type, "error") == 0) {
        if (from && strcmp(from, c->nick_jid) == 0 && c->state == C_JOINING)
            join_failed(c, ERR_JOIN);
        else
            count_error(c->b, ERR_PRESENCE);
        return 1;
    }
    if (type || !from || strcmp(from, c->nick_jid) != 0)
        return 1;
    x = xmpp_stanza_get_child_by_name_and_ns(st, "x", NS_MUC_USER);
    if (!x || !has_status(x, "110"))
        return 1;
    c->self_seen = TRUE;
    if (has_status(x, "201") && !c->form_needed) {
        c->form_needed = TRUE;
        send_instant_form(c);
    }
    check_joined(c);
    return 1;
}

static int on_iq(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    client *c = ud;
    const char *type = xmpp_stanza_get_type(st);
    const char *id = xmpp_stanza_get_id(st);
    gboolean ours = id && strcmp(id, "cfg") == 0;

    if (type && strcmp(type, "error") == 0) {
        if (ours)
            join_failed(c, ERR_FORM);
        else
            count_error(c->b, ERR_IQ);
    } else if (type && strcmp(type, "result") == 0 && ours) {
        c->form_done = TRUE;
        check_joined(c);
    }
    return 1;
}

/* Body: "bench <sent µs> <sender index> <sequence>". */
static void on_bench_body(client *c, const char *from, const char *body)
{
    bench *b = c->b;
    gint64 sent, lat, now = now_us();
    int sender, seq;
    size_t n = strlen(c->room_jid);

    if (sscanf(body, BODY_TAG " %" G_GINT64_FORMAT " %d %d", &sent, &sender,
               &seq) != 3 ||
        sender < 0 || sender >= b->o.clients) {
        count_error(b, ERR_FOREIGN);
        return;
    }
    if (!from || strncmp(from, c->room_jid, n) != 0 ||
        (from[n] != '/' && from[n] != '\0') ||
        b->cl[sender].room != c->room) {
        count_error(b, ERR_WRONG_ROOM);
        return;
    }
    lat = now - sent;
    g_array_append_val(b->lat_us, lat);
    b->delivered++;
    b->last_recv = now;
    c->received++;
    if (sender == c->idx)
        c->settled++;
}

static int on_message(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    client *c = ud;
    bench *b = c->b;
    const char *type = xmpp_stanza_get_type(st);
    const char *id = xmpp_stanza_get_id(st);
    char *body;

    if (type && strcmp(type, "error") == 0) {
        count_error(b, ERR_MESSAGE);
        if (id && id[0] == 'm' && b->sending) {
            /* Refused: nobody in the room will get it. */
            c->settled++;
            b->expected -= (guint64)b->room_size[c->room];
        }
        return 1;
    }
    if (!type || strcmp(type, "groupchat") != 0)
        return 1;
    body = xmpp_message_get_body(st);
    if (!body) {
        if (xmpp_stanza_get_child_by_name(st, "subject")) {
            c->subject_seen = TRUE;
            check_joined(c);
        }
        return 1;
    }
    if (strncmp(body, BODY_TAG " ", strlen(BODY_TAG) + 1) == 0)
        on_bench_body(c, xmpp_stanza_get_from(st), body);
    xmpp_free(b->ctx, body);
    return 1;
}

static void on_conn(xmpp_conn_t *conn, xmpp_conn_event_t ev, int error,
                    xmpp_stream_error_t *stream_error, void *ud)
{
    client *c = ud;
    bench *b = c->b;

    if (ev == XMPP_CONN_CONNECT) {
        c->state = C_ONLINE;
        b->connected++;
        xmpp_handler_add(conn, on_presence, NULL, "presence", NULL, c);
        xmpp_handler_add(conn, on_message, NULL, "message", NULL, c);
        xmpp_handler_add(conn, on_iq, NULL, "iq", NULL, c);
        return;
    }
    if (ev != XMPP_CONN_DISCONNECT && ev != XMPP_CONN_FAIL)
        return;
    if (c->state == C_CONNECTING)
        count_error(b, ERR_LOGIN);
    else if (!b->stopping)
        count_error(b, ERR_DISCONNECT);
    if (c->state != C_DOWN) {
        c->state = C_DOWN;
        b->down++;
    }
}

/* --- sending ------------------------------------------------------------ */

static void send_message(client *c, gint64 now)
{
    bench *b = c->b;
    char id[32], body[96];
    xmpp_stanza_t *m;

    g_snprintf(id, sizeof id, "m%d-%d", c->idx, c->sent);
    g_snprintf(body, sizeof body, BODY_TAG " %" G_GINT64_FORMAT " %d %d",
               now_us(), c->idx, c->sent);
    m = xmpp_message_new(b->ctx, "groupchat", c->room_jid, id);
    xmpp_message_set_body(m, body);
    xmpp_send(c->conn, m);
    xmpp_stanza_release(m);
    c->sent++;
    c->next_send = now + (gint64)b->o.interval_ms * 1000;
}

static void send_due(bench *b)
{
    gint64 now = now_us();

    for (int i = 0; i < b->o.clients; i++) {
        client *c = &b->cl[i];
        if (c->state != C_JOINED)
            continue;
        while (c->sent < b->o.messages && now >= c->next_send &&
               (b->o.window == 0 || c->sent - c->settled < b->o.window)) {
            send_message(c, now);
            if (b->o.interval_ms > 0)
                break;
        }
    }
}

/* --- phases ------------------------------------------------------------- */

typedef gboolean (*done_fn)(bench *b);

/* Runs the loop until done(b) or the deadline; FALSE on the deadline. */
static gboolean run_until(bench *b, done_fn done, gint64 deadline,
                          gboolean sending)
{
    while (!done(b)) {
        if (now_us() >= deadline)
            return FALSE;
        if (sending)
            send_due(b);
        xmpp_run_once(b->ctx, 1);
    }
    return TRUE;
}

static gboolean all_logged_in(bench *b)
{
    return b->connected + b->down >= b->o.clients;
}

static gboolean all_joined(bench *b)
{
    int settled = 0;
    for (int i = 0; i < b->o.clients; i++)
        settled += b->cl[i].state == C_JOINED || b->cl[i].state == C_FAILED ||
                   b->cl[i].state == C_DOWN;
    return settled >= b->o.clients;
}

static gboolean all_delivered(bench *b)
{
    for (int i = 0; i < b->o.clients; i++)
        if (b->cl[i].state == C_JOINED && b->cl[i].sent < b->o.messages)
            return FALSE;
    return b->delivered >= b->expected;
}

static gboolean all_down(bench *b)
{
    return b->down >= b->o.clients;
}

/* With --sync: say where we are on stdout and wait for a line on stdin, so
 * the caller can sample the servers between phases. */
static void sync_point(bench *b, const char *what, double secs)
{
    char line[64];

    if (!b->o.sync)
        return;
    printf("%s %.3f\n", what, secs);
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin))
        return;
}

static int cmp_i64(const void *a, const void *b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
    return x < y ? -1 : x > y;
}

static double percentile_ms(GArray *a, double p)
{
    size_t i;

    if (a->len == 0)
        return -1;
    i = (size_t)(p * (double)(a->len - 1) + 0.5);
    return (double)g_array_index(a, gint64, i) / 1000.0;
}

static double cpu_seconds(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void report(bench *b, double login_s, double join_s, double msg_s,
                   gboolean complete)
{
    guint64 total_errors = 0;
    double elapsed = b->last_recv > b->first_send
                         ? (double)(b->last_recv - b->first_send) / 1e6
                         : 0;

    g_array_sort(b->lat_us, cmp_i64);
    for (int e = 0; e < ERR_COUNT; e++)
        total_errors += b->errors[e];
    printf("result {\"muc\": \"%s\", \"clients\": %d, \"rooms\": %d, "
           "\"messages\": %d, \"window\": %d, \"interval_ms\": %d, "
           "\"complete\": %s, \"expected\": %" G_GUINT64_FORMAT ", "
           "\"delivered\": %" G_GUINT64_FORMAT ", \"elapsed_s\": %.3f, "
           "\"deliveries_per_s\": %.1f, \"lat_p50_ms\": %.2f, "
           "\"lat_p99_ms\": %.2f, \"lat_max_ms\": %.2f, \"login_s\": %.3f, "
           "\"join_s\": %.3f, \"send_phase_s\": %.3f, "
           "\"loadgen_cpu_s\": %.3f, \"loadgen_send_cpu_s\": %.3f, "
           "\"errors\": %" G_GUINT64_FORMAT,
           b->o.muc, b->o.clients, b->o.rooms, b->o.messages, b->o.window,
           b->o.interval_ms, complete ? "true" : "false", b->expected,
           b->delivered, elapsed,
           elapsed > 0 ? (double)b->delivered / elapsed : 0.0,
           percentile_ms(b->lat_us, 0.5), percentile_ms(b->lat_us, 0.99),
           percentile_ms(b->lat_us, 1.0), login_s, join_s, msg_s,
           cpu_seconds(), b->cpu_sent - b->cpu_send, total_errors);
    for (int e = 0; e < ERR_COUNT; e++)
        printf(", \"err_%s\": %" G_GUINT64_FORMAT, error_names[e],
               b->errors[e]);
    printf("}\n");
    fflush(stdout);
}

/* --- setup -------------------------------------------------------------- */

static int parse_args(int argc, char **argv, opts *o)
{
    GError *err = NULL;
    GOptionEntry entries[] = {
        {"host", 0, 0, G_OPTION_ARG_STRING, &o->host, "server address",
         "ADDR"},
        {"port", 0, 0, G_OPTION_ARG_INT, &o->port, "c2s port", "PORT"},
        {"domain", 0, 0, G_OPTION_ARG_STRING, &o->domain, "users' domain",
         "DOMAIN"},
        {"muc", 0, 0, G_OPTION_ARG_STRING, &o->muc, "MUC service domain",
         "DOMAIN"},
        {"user-prefix", 0, 0, G_OPTION_ARG_STRING, &o->user_prefix,
         "users are PREFIX<n>", "PREFIX"},
        {"first-user", 0, 0, G_OPTION_ARG_INT, &o->first_user,
         "n of the first user", "N"},
        {"password", 0, 0, G_OPTION_ARG_STRING, &o->password,
         "every user's password", "PW"},
        {"room-prefix", 0, 0, G_OPTION_ARG_STRING, &o->room_prefix,
         "rooms are PREFIX<r>", "PREFIX"},
        {"clients", 'k', 0, G_OPTION_ARG_INT, &o->clients, "users", "K"},
        {"rooms", 'r', 0, G_OPTION_ARG_INT, &o->rooms, "rooms (K/R each)",
         "R"},
        {"messages", 'm', 0, G_OPTION_ARG_INT, &o->messages,
         "messages each client sends", "M"},
        {"window", 'w', 0, G_OPTION_ARG_INT, &o->window,
         "own messages in flight per client (0: unlimited)", "W"},
        {"interval-ms", 'i', 0, G_OPTION_ARG_INT, &o->interval_ms,
         "pause between one client's messages", "MS"},
        {"timeout", 't', 0, G_OPTION_ARG_INT, &o->timeout_s,
         "hard limit for the whole run", "S"},
        {"sync", 0, 0, G_OPTION_ARG_NONE, &o->sync,
         "after joining and after delivery, print a line and wait for one",
         NULL},
        {"verbose", 'v', 0, G_OPTION_ARG_NONE, &o->verbose,
         "libstrophe warnings and each error on stderr", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    GOptionContext *oc = g_option_context_new("- MUC load generator");
    int rc = 0;

    g_option_context_add_main_entries(oc, entries, NULL);
    if (!g_option_context_parse(oc, &argc, &argv, &err)) {
        fprintf(stderr, "loadgen: %s\n", err->message);
        g_error_free(err);
        rc = -1;
    } else if (o->clients < 1 || o->rooms < 1 || o->rooms > o->clients ||
               o->messages < 0 || o->window < 0 || o->interval_ms < 0 ||
               o->timeout_s < 1 || o->port < 1 || o->port > 65535) {
        fprintf(stderr, "loadgen: need 1 <= rooms <= clients, messages >= "
                        "0, a port and a timeout\n");
        rc = -1;
    }
    g_option_context_free(oc);
    return rc;
}

static void setup_clients(bench *b)
{
    opts *o = &b->o;

    b->cl = g_new0(client, o->clients);
    b->room_size = g_new0(int, o->rooms);
    for (int i = 0; i < o->clients; i++) {
        client *c = &b->cl[i];
        char *user = g_strdup_printf("%s%d@%s", o->user_prefix,
                                     o->first_user + i, o->domain);
        /* Contiguous blocks: clients [r*K/R, (r+1)*K/R) share room r. */
        c->b = b;
        c->idx = i;
        c->room = (int)((gint64)i * o->rooms / o->clients);
        c->owner = i == 0 || b->cl[i - 1].room != c->room;
        c->room_jid = g_strdup_printf("%s%d@%s", o->room_prefix, c->room,
                                      o->muc);
        c->nick_jid = g_strdup_printf("%s/c%d", c->room_jid, i);
        b->room_size[c->room]++;
        c->conn = xmpp_conn_new(b->ctx);
        xmpp_conn_set_flags(c->conn, XMPP_CONN_FLAG_DISABLE_TLS |
                                         XMPP_CONN_FLAG_DISABLE_SM);
        xmpp_conn_set_jid(c->conn, user);
        xmpp_conn_set_pass(c->conn, o->password);
        g_free(user);
    }
    for (int r = 0; r < o->rooms; r++)
        b->expected += (guint64)b->room_size[r] * (guint64)b->room_size[r] *
                       (guint64)o->messages;
}

int main(int argc, char **argv)
{
    bench b = {0};
    opts *o = &b.o;
    gint64 t0, t_login = 0, t_join = 0, t_end = 0;
    gboolean complete = FALSE;
    int rc = 1;

    o->host = g_strdup("127.0.0.1");
    o->port = 5222;
    o->domain = g_strdup("localhost");
    o->muc = g_strdup("groups.localhost");
    o->user_prefix = g_strdup("u");
    o->first_user = 1;
    o->password = g_strdup("bench");
    o->room_prefix = g_strdup("bench");
    o->clients = 10;
    o->rooms = 1;
    o->messages = 10;
    o->window = 1;
    o->timeout_s = 60;
    if (parse_args(argc, argv, o) < 0)
        return 2;

    xmpp_initialize();
    b.ctx = xmpp_ctx_new(NULL, o->verbose
                                   ? xmpp_get_default_logger(XMPP_LEVEL_WARN)
                                   : NULL);
    b.lat_us = g_array_sized_new(FALSE, FALSE, sizeof(gint64), 1024);
    setup_clients(&b);
    t0 = now_us();
    b.deadline = t0 + (gint64)o->timeout_s * G_USEC_PER_SEC;

    for (int i = 0; i < o->clients; i++)
        if (xmpp_connect_client(b.cl[i].conn, o->host, (unsigned short)o->port,
                                on_conn, &b.cl[i]) != XMPP_EOK) {
            count_error(&b, ERR_LOGIN);
            b.cl[i].state = C_DOWN;
            b.down++;
        }
    if (!run_until(&b, all_logged_in, b.deadline, FALSE))
        count_error(&b, ERR_TIMEOUT);
    t_login = now_us();
    if (b.connected < o->clients || b.errors[ERR_LOGIN])
        goto stop;

    for (int i = 0; i < o->clients; i++)
        if (b.cl[i].owner)
            send_join(&b.cl[i]);
    if (!run_until(&b, all_joined, b.deadline, FALSE))
        count_error(&b, ERR_TIMEOUT);
    t_join = now_us();
    if (b.joined < o->clients)
        goto stop;
    sync_point(&b, "joined", (double)(t_join - t0) / 1e6);

    b.sending = TRUE;
    b.cpu_send = cpu_seconds();
    b.first_send = now_us();
    complete = run_until(&b, all_delivered, b.deadline, TRUE);
    if (!complete)
        count_error(&b, ERR_TIMEOUT);
    b.sending = FALSE;
    t_end = now_us();
    b.cpu_sent = cpu_seconds();
    sync_point(&b, "delivered", (double)(t_end - b.first_send) / 1e6);
    rc = complete && b.delivered == b.expected ? 0 : 1;

stop:
    if (!b.first_send)
        t_join = t_end = now_us();
    b.stopping = TRUE;
    for (int i = 0; i < o->clients; i++)
        if (b.cl[i].state != C_DOWN)
            xmpp_disconnect(b.cl[i].conn);
    run_until(&b, all_down, now_us() + 5 * G_USEC_PER_SEC, FALSE);
    report(&b, (double)(t_login - t0) / 1e6,
           (double)(t_join - t_login) / 1e6,
           b.first_send ? (double)(t_end - b.first_send) / 1e6 : 0, complete);

    for (int i = 0; i < o->clients; i++) {
        xmpp_conn_release(b.cl[i].conn);
        g_free(b.cl[i].room_jid);
        g_free(b.cl[i].nick_jid);
    }
    g_free(b.cl);
    g_free(b.room_size);
    g_array_free(b.lat_us, TRUE);
    xmpp_ctx_free(b.ctx);
    xmpp_shutdown();
    g_free(o->host);
    g_free(o->domain);
    g_free(o->muc);
    g_free(o->user_prefix);
    g_free(o->password);
    g_free(o->room_prefix);
    return rc;
}
