/* loadgen: logs K users into an XMPP server, joins them to R MUC rooms on a
 * given domain, has each send groupchat messages in one or more rounds and
 * reports, per round, deliveries per second, send-to-receive latency and
 * errors. A benchmark tool: it prints figures and asserts nothing. */

#include <glib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strophe.h>
#include <sys/resource.h>
#include <sys/socket.h>

#define NS_MUC       "http://jabber.org/protocol/muc"
#define NS_MUC_USER  "http://jabber.org/protocol/muc#user"
#define NS_MUC_OWNER "http://jabber.org/protocol/muc#owner"
#define NS_DATA      "jabber:x:data"
#define BODY_TAG     "bench"
#define MAX_ROUNDS   8
#define MAX_WAIT_MS  50 /* longest select() when nothing is due */

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
    X(LATE, "late")                                                            \
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
    int sent;         /* own messages sent in this round */
    int settled;      /* of those, echoed back or refused */
    gint64 next_send; /* monotonic µs before which it does not send */
} client;

/* One round: every client sends `messages`, with at most `window` of its
 * own unechoed (0: no limit), at least `interval_ms` apart. */
typedef struct round {
    int messages, window, interval_ms;
    guint64 expected; /* deliveries, less those of refused sends */
    guint64 delivered;
    GArray *lat_us; /* gint64 per delivery */
    gint64 first_send, last_recv, end;
    double cpu_start, cpu_end; /* own CPU seconds */
    gboolean complete;
} round;

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
    char **round_specs;
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
    round rounds[MAX_ROUNDS];
    int nrounds;
    int cur; /* the round being sent, or -1 */
    gboolean stopping;
    guint64 errors[ERR_COUNT];
    gint64 deadline;
};

static gint64 now_us(void)
{
    return g_get_monotonic_time();
}

static double cpu_seconds(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
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

/* XEP-0045 §10.1.2: accept the default configuration (an instant room);
 * Prosody keeps a new room locked until then. */
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

/* Joined: own presence with 110, the subject, and the owner's form
 * accepted if the room asked for one (201). */
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
    for (int i = c->idx + 1; i < b->o.clients && b->cl[i].room == c->room; i++)
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

/* Body: "bench <round> <sent µs> <sender index> <sequence>". */
static void on_bench_body(client *c, const char *from, const char *body)
{
    bench *b = c->b;
    gint64 sent, lat, now = now_us();
    int rn, sender, seq;
    size_t n = strlen(c->room_jid);
    round *r;

    if (sscanf(body, BODY_TAG " %d %" G_GINT64_FORMAT " %d %d", &rn, &sent,
               &sender, &seq) != 4 ||
        sender < 0 || sender >= b->o.clients || rn < 0 || rn >= b->nrounds) {
        count_error(b, ERR_FOREIGN);
        return;
    }
    if (!from || strncmp(from, c->room_jid, n) != 0 ||
        (from[n] != '/' && from[n] != '\0') || b->cl[sender].room != c->room) {
        count_error(b, ERR_WRONG_ROOM);
        return;
    }
    if (rn != b->cur) {
        /* From a round that ended on its deadline. */
        count_error(b, ERR_LATE);
        return;
    }
    r = &b->rounds[rn];
    lat = now - sent;
    g_array_append_val(r->lat_us, lat);
    r->delivered++;
    r->last_recv = now;
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
        if (id && id[0] == 'm' && b->cur >= 0) {
            /* Refused: nobody in the room will get it. */
            c->settled++;
            b->rounds[b->cur].expected -= (guint64)b->room_size[c->room];
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

static void send_message(client *c, round *r, gint64 now)
{
    bench *b = c->b;
    char id[32], body[96];
    xmpp_stanza_t *m;

    g_snprintf(id, sizeof id, "m%d-%d-%d", b->cur, c->idx, c->sent);
    g_snprintf(body, sizeof body, BODY_TAG " %d %" G_GINT64_FORMAT " %d %d",
               b->cur, now, c->idx, c->sent);
    m = xmpp_message_new(b->ctx, "groupchat", c->room_jid, id);
    xmpp_message_set_body(m, body);
    xmpp_send(c->conn, m);
    xmpp_stanza_release(m);
    if (!r->first_send)
        r->first_send = now;
    c->sent++;
    c->next_send = now + (gint64)r->interval_ms * 1000;
}

/* Sends what is due; returns the µs until the next send falls due
 * (MAX_WAIT_MS if none is waiting on the clock). */
static gint64 send_due(bench *b)
{
    round *r = &b->rounds[b->cur];
    gint64 now = now_us(), wait = MAX_WAIT_MS * 1000;

    for (int i = 0; i < b->o.clients; i++) {
        client *c = &b->cl[i];
        if (c->state != C_JOINED)
            continue;
        while (c->sent < r->messages && now >= c->next_send &&
               (r->window == 0 || c->sent - c->settled < r->window)) {
            send_message(c, r, now);
            if (r->interval_ms > 0)
                break;
        }
        if (c->sent < r->messages && c->next_send > now)
            wait = MIN(wait, c->next_send - now);
    }
    return wait;
}

/* --- phases ------------------------------------------------------------- */

typedef gboolean (*done_fn)(bench *b);

/* Runs the loop until done(b) or the deadline; FALSE on the deadline. */
static gboolean run_until(bench *b, done_fn done, gint64 deadline)
{
    while (!done(b)) {
        gint64 wait = 1000;
        if (now_us() >= deadline)
            return FALSE;
        if (b->cur >= 0)
            wait = send_due(b);
        /* Data arriving ends the wait early; only the clock needs it. */
        xmpp_run_once(b->ctx, (unsigned long)MAX(wait / 1000, 1));
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

static gboolean round_done(bench *b)
{
    round *r = &b->rounds[b->cur];

    for (int i = 0; i < b->o.clients; i++)
        if (b->cl[i].state == C_JOINED && b->cl[i].sent < r->messages)
            return FALSE;
    return r->delivered >= r->expected;
}

static gboolean all_down(bench *b)
{
    return b->down >= b->o.clients;
}

/* With --sync: say where we are on stdout and wait for a line on stdin, so
 * the caller can sample the servers between phases. */
static void sync_point(bench *b, const char *what, int n, double secs)
{
    char line[64];

    if (!b->o.sync)
        return;
    printf("%s %d %.3f\n", what, n, secs);
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin))
        return;
}

/* One round. The first message of client i is due i/K of an interval into
 * the round, so paced sends are spread evenly. */
static gboolean run_round(bench *b, int n)
{
    round *r = &b->rounds[n];
    gint64 start = now_us();

    for (int i = 0; i < b->o.clients; i++) {
        client *c = &b->cl[i];
        c->sent = c->settled = 0;
        c->next_send = start + (gint64)r->interval_ms * 1000 * i / b->o.clients;
    }
    for (int k = 0; k < b->o.rooms; k++)
        r->expected += (guint64)b->room_size[k] * (guint64)b->room_size[k] *
                       (guint64)r->messages;
    b->cur = n;
    r->cpu_start = cpu_seconds();
    r->complete = run_until(b, round_done, b->deadline);
    r->end = now_us();
    r->cpu_end = cpu_seconds();
    if (!r->complete)
        count_error(b, ERR_TIMEOUT);
    return r->complete;
}

/* --- report ------------------------------------------------------------- */

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

static void report_round(const round *r)
{
    double elapsed = r->last_recv > r->first_send
                         ? (double)(r->last_recv - r->first_send) / 1e6
                         : 0;

    g_array_sort(r->lat_us, cmp_i64);
    printf("{\"messages\": %d, \"window\": %d, \"interval_ms\": %d, "
           "\"complete\": %s, \"expected\": %" G_GUINT64_FORMAT ", "
           "\"delivered\": %" G_GUINT64_FORMAT ", \"elapsed_s\": %.3f, "
           "\"deliveries_per_s\": %.1f, \"lat_p50_ms\": %.2f, "
           "\"lat_p99_ms\": %.2f, \"lat_max_ms\": %.2f, "
           "\"loadgen_cpu_s\": %.3f}",
           r->messages, r->window, r->interval_ms,
           r->complete ? "true" : "false", r->expected, r->delivered, elapsed,
           elapsed > 0 ? (double)r->delivered / elapsed : 0.0,
           percentile_ms(r->lat_us, 0.5), percentile_ms(r->lat_us, 0.99),
           percentile_ms(r->lat_us, 1.0), r->cpu_end - r->cpu_start);
}

static void report(bench *b, double login_s, double join_s)
{
    guint64 total = 0;

    for (int e = 0; e < ERR_COUNT; e++)
        total += b->errors[e];
    printf("result {\"muc\": \"%s\", \"clients\": %d, \"rooms\": %d, "
           "\"login_s\": %.3f, \"join_s\": %.3f, \"loadgen_cpu_s\": %.3f, "
           "\"errors\": %" G_GUINT64_FORMAT,
           b->o.muc, b->o.clients, b->o.rooms, login_s, join_s, cpu_seconds(),
           total);
    for (int e = 0; e < ERR_COUNT; e++)
        printf(", \"err_%s\": %" G_GUINT64_FORMAT, error_names[e],
               b->errors[e]);
    printf(", \"rounds\": [");
    for (int n = 0; n < b->nrounds; n++) {
        if (n)
            printf(", ");
        report_round(&b->rounds[n]);
    }
    printf("]}\n");
    fflush(stdout);
}

/* --- setup -------------------------------------------------------------- */

static int parse_rounds(bench *b)
{
    static char *fallback[] = {"10:1:0", NULL};
    char **specs = b->o.round_specs ? b->o.round_specs : fallback;

    for (char **s = specs; *s; s++) {
        round *r = &b->rounds[b->nrounds];
        if (b->nrounds == MAX_ROUNDS ||
            sscanf(*s, "%d:%d:%d", &r->messages, &r->window, &r->interval_ms) !=
                3 ||
            r->messages < 0 || r->window < 0 || r->interval_ms < 0) {
            fprintf(stderr,
                    "loadgen: --round wants MESSAGES:WINDOW:INTERVAL_MS "
                    "(at most %d rounds), not '%s'\n",
                    MAX_ROUNDS, *s);
            return -1;
        }
        r->lat_us = g_array_sized_new(FALSE, FALSE, sizeof(gint64), 4096);
        b->nrounds++;
    }
    return 0;
}

static int parse_args(int argc, char **argv, bench *b)
{
    opts *o = &b->o;
    GError *err = NULL;
    GOptionEntry entries[] = {
        {"host", 0, 0, G_OPTION_ARG_STRING, &o->host, "server address", "ADDR"},
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
        {"rooms", 'r', 0, G_OPTION_ARG_INT, &o->rooms, "rooms (K/R each)", "R"},
        {"round", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->round_specs,
         "a round: each client sends M messages, at most W of its own in "
         "flight (0: no limit), I ms apart; repeatable (default 10:1:0)",
         "M:W:I"},
        {"timeout", 't', 0, G_OPTION_ARG_INT, &o->timeout_s,
         "hard limit for the whole run", "S"},
        {"sync", 0, 0, G_OPTION_ARG_NONE, &o->sync,
         "after joining and after each round, print a line and wait for one",
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
               o->timeout_s < 1 || o->port < 1 || o->port > 65535) {
        fprintf(stderr, "loadgen: need 1 <= rooms <= clients, a port and a "
                        "timeout\n");
        rc = -1;
    } else {
        rc = parse_rounds(b);
    }
    g_option_context_free(oc);
    return rc;
}

/* The clients' own sockets send without delay (no Nagle), so whatever
 * latency is measured is the servers'. */
static int sockopt_nodelay(xmpp_conn_t *conn, void *sock)
{
    int one = 1;

    setsockopt(*(int *)sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return 0;
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
        c->room_jid =
            g_strdup_printf("%s%d@%s", o->room_prefix, c->room, o->muc);
        c->nick_jid = g_strdup_printf("%s/c%d", c->room_jid, i);
        b->room_size[c->room]++;
        c->conn = xmpp_conn_new(b->ctx);
        xmpp_conn_set_flags(c->conn, XMPP_CONN_FLAG_DISABLE_TLS |
                                         XMPP_CONN_FLAG_DISABLE_SM);
        xmpp_conn_set_sockopt_callback(c->conn, sockopt_nodelay);
        xmpp_conn_set_jid(c->conn, user);
        xmpp_conn_set_pass(c->conn, o->password);
        g_free(user);
    }
}

static void teardown(bench *b)
{
    opts *o = &b->o;

    for (int i = 0; i < o->clients; i++) {
        xmpp_conn_release(b->cl[i].conn);
        g_free(b->cl[i].room_jid);
        g_free(b->cl[i].nick_jid);
    }
    for (int n = 0; n < b->nrounds; n++)
        g_array_free(b->rounds[n].lat_us, TRUE);
    g_free(b->cl);
    g_free(b->room_size);
    xmpp_ctx_free(b->ctx);
    xmpp_shutdown();
    g_free(o->host);
    g_free(o->domain);
    g_free(o->muc);
    g_free(o->user_prefix);
    g_free(o->password);
    g_free(o->room_prefix);
    g_strfreev(o->round_specs);
}

int main(int argc, char **argv)
{
    bench b = {0};
    opts *o = &b.o;
    gint64 t0, t_login = 0, t_join = 0;
    int rc = 1;

    o->port = 5222;
    o->first_user = 1;
    o->clients = 10;
    o->rooms = 1;
    o->timeout_s = 60;
    b.cur = -1;
    if (parse_args(argc, argv, &b) < 0)
        return 2;
    /* String defaults after parsing: GOption replaces without freeing. */
    o->host = o->host ? o->host : g_strdup("127.0.0.1");
    o->domain = o->domain ? o->domain : g_strdup("localhost");
    o->muc = o->muc ? o->muc : g_strdup("groups.localhost");
    o->user_prefix = o->user_prefix ? o->user_prefix : g_strdup("u");
    o->password = o->password ? o->password : g_strdup("bench");
    o->room_prefix = o->room_prefix ? o->room_prefix : g_strdup("bench");

    xmpp_initialize();
    b.ctx = xmpp_ctx_new(
        NULL, o->verbose ? xmpp_get_default_logger(XMPP_LEVEL_WARN) : NULL);
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
    if (!run_until(&b, all_logged_in, b.deadline))
        count_error(&b, ERR_TIMEOUT);
    t_login = t_join = now_us();
    if (b.connected < o->clients || b.errors[ERR_LOGIN])
        goto stop;

    for (int i = 0; i < o->clients; i++)
        if (b.cl[i].owner)
            send_join(&b.cl[i]);
    if (!run_until(&b, all_joined, b.deadline))
        count_error(&b, ERR_TIMEOUT);
    t_join = now_us();
    if (b.joined < o->clients)
        goto stop;
    sync_point(&b, "joined", 0, (double)(t_join - t0) / 1e6);

    rc = 0;
    for (int n = 0; n < b.nrounds; n++) {
        gboolean ok = run_round(&b, n);
        round *r = &b.rounds[n];
        b.cur = -1;
        sync_point(&b, "round", n, (double)(r->end - r->first_send) / 1e6);
        if (!ok || r->delivered != r->expected) {
            rc = 1;
            break;
        }
    }

stop:
    b.cur = -1;
    b.stopping = TRUE;
    for (int i = 0; i < o->clients; i++)
        if (b.cl[i].state != C_DOWN)
            xmpp_disconnect(b.cl[i].conn);
    run_until(&b, all_down, now_us() + 5 * G_USEC_PER_SEC);
    report(&b, (double)(t_login - t0) / 1e6, (double)(t_join - t_login) / 1e6);
    teardown(&b);
    return rc;
}
