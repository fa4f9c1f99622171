/* uplink: the XEP-0114 component link on its own socket, under the GLib
 * loop: stream.c parses what comes in, libstrophe serialises what goes out. */
#include "uplink.h"

#include <errno.h>
#include <malloc.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>
#include <gio/gio.h>

#include "backoff.h"
#include "clock.h"
#include "log.h"
#include "outq.h"
#include "secret.h"
#include "xerr.h"
#include "xmltext.h"

#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS   30000
/* A link that stayed up this long resets the backoff; one that drops sooner
 * keeps doubling, so a server that accepts and drops at once is not
 * hammered every second. */
#define STABLE_AFTER_US (10 * G_USEC_PER_SEC)
#define CONNECT_TIMEOUT_S   10 /* TCP connect */
#define HANDSHAKE_TIMEOUT_S 10 /* stream header and <handshake/> */
#define READ_CHUNK          65536
#define STANZA_LIMIT_DEFAULT (256 * 1024)
#define SEND_BUFFER_DEFAULT  (4 * 1024 * 1024)

#define NS_COMPONENT "jabber:component:accept"
#define NS_STREAMS "http://etherx.jabber.org/streams"
#define NS_STREAM_ERRORS "urn:ietf:params:xml:ns:xmpp-streams"

enum uplink_state {
    UPLINK_DOWN,       /* waiting for the retry timer */
    UPLINK_CONNECTING, /* TCP connect */
    UPLINK_HANDSHAKE,  /* stream open, handshake */
    UPLINK_UP,
    UPLINK_CLOSING, /* </stream:stream> queued, waiting for the server's */
    UPLINK_STOPPED,
};

/* The failures told apart in the log; repeats of one are logged once. */
enum uplink_fail {
    FAIL_NONE,
    FAIL_UNREACHABLE,
    FAIL_REFUSED_SECRET,
    FAIL_STREAM_ERROR,
    FAIL_LOST,
};

struct uplink_fanout {
    uplink *up;
    outq_text *text;
    const char *name; /* for the log; interned */
};

typedef struct fd_source {
    GSource base;
    gpointer tag;
    uplink *up;
} fd_source;

/* The connect in flight; outlives an uplink freed meanwhile. */
typedef struct connect_op {
    uplink *up; /* NULL once the uplink is gone */
} connect_op;

struct uplink {
    char *jid;
    char *host;
    guint16 port;
    char *secret;
    gsize stanza_limit;
    gsize send_buffer;
    stream_limits limits;
    uplink_stanza_fn on_stanza;
    uplink_turn_fn on_turn;
    void *turn_data;
    uplink_state_fn on_state;
    void *userdata;

    xmpp_ctx_t *ctx;
    enum uplink_state state;
    GSocketClient *client;
    GCancellable *cancel;     /* the connect in flight */
    connect_op *op;           /* its callback's data */
    GSocketConnection *conn;  /* NULL while down */
    int fd;
    GSource *fd_src;
    GIOCondition watching; /* what fd_src waits for now */
    gboolean dispatching;  /* in dispatch(): it updates the watch at its end */
    stream_parser *parser;
    guint timeout_id; /* handshake or close timeout */
    guint retry_id;
    backoff retry;        /* the reconnect schedule */
    enum uplink_fail last_fail;
    char *stream_error;   /* condition the server sent, if any */
    char *stream_text;
    const char *cut_reason; /* set: close once the output is written */
    guint reconnect_ms; /* set: the next retry's delay (uplink_reconnect) */
    char *cut_detail;

    outq *out;       /* what waits to be written */
    gboolean paused; /* reading paused for back-pressure */
    gboolean trim;   /* return the heap to the system once drained */
    guint resume_id; /* idle source resuming a suspended parser */
    GHashTable *too_big; /* element names already logged as too large */

    void (*stop_done)(void *);
    void *stop_userdata;
};

static void start_connect(uplink *up);
static void link_down(uplink *up, int error);

/* ---- output ---- */

static void watch_update(uplink *up);

static void push_frame(uplink *up, const char *text)
{
    outq_push_frame(up->out, text);
    watch_update(up);
}

/* ---- the socket watch ---- */

static void dispatch(uplink *up, GIOCondition cond);

static gboolean fd_dispatch(GSource *src, GSourceFunc cb, gpointer data)
{
    fd_source *fs = (fd_source *)src;

    dispatch(fs->up, g_source_query_unix_fd(src, fs->tag));
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs fd_funcs = {NULL, NULL, fd_dispatch, NULL, NULL, NULL};

static void watch_drop(uplink *up)
{
    if (up->fd_src) {
        g_source_destroy(up->fd_src);
        g_source_unref(up->fd_src);
        up->fd_src = NULL;
    }
}

static void watch_fd(uplink *up, int fd)
{
    fd_source *fs;

    watch_drop(up);
    up->fd_src = g_source_new(&fd_funcs, sizeof(fd_source));
    fs = (fd_source *)up->fd_src;
    fs->up = up;
    up->watching = G_IO_IN | G_IO_ERR;
    fs->tag = g_source_add_unix_fd(up->fd_src, fd, up->watching);
    g_source_set_name(up->fd_src, "uplink socket");
    /* GLib blocks a source that may not recurse while it runs: it takes
     * its fd out of the poll set and puts it back, waking its own loop
     * twice per dispatch (an eventfd write each, then an extra poll).
     * Nothing here runs a nested loop, so recursion is harmless. */
    g_source_set_can_recurse(up->fd_src, TRUE);
    g_source_attach(up->fd_src, NULL);
}

/* Reads while not paused; watches writability only while output waits. */
static void watch_update(uplink *up)
{
    GIOCondition cond = G_IO_ERR | G_IO_HUP;

    if (!up->fd_src || up->dispatching)
        return;
    if (!up->paused)
        cond |= G_IO_IN;
    if (outq_writable(up->out))
        cond |= G_IO_OUT;
    /* GLib wakes its loop (a write to an eventfd) at every change: only
     * real changes, not one per stanza queued. */
    if (cond == up->watching)
        return;
    up->watching = cond;
    g_source_modify_unix_fd(up->fd_src, ((fd_source *)up->fd_src)->tag, cond);
}

/* ---- the stream ---- */

static void send_handshake(uplink *up, const char *id)
{
    /* XEP-0114 §3: the handshake is the hex SHA-1 of the stream id
     * concatenated with the shared secret. */
    char *both = g_strconcat(id, up->secret, NULL);
    char *hex = g_compute_checksum_for_string(G_CHECKSUM_SHA1, both, -1);
    char *text = g_strdup_printf("<handshake>%s</handshake>", hex);

    push_frame(up, text);
    secret_free(both);
    secret_free(hex);
    secret_free(text);
}

/* Closes the stream with an error of ours (RFC 6120 §4.9): the error and
 * </stream:stream> go after what is queued, then the socket is shut. */
static void stream_fail(uplink *up, const char *cond, const char *why)
{
    char *text;

    if (up->cut_reason)
        return;
    text = g_strdup_printf("<stream:error><%s xmlns='%s'/></stream:error>"
                           "</stream:stream>",
                           cond, NS_STREAM_ERRORS);
    push_frame(up, text);
    g_free(text);
    up->cut_reason = "the server broke the stream";
    g_free(up->cut_detail);
    up->cut_detail = g_strdup_printf("%s: %s", cond, why);
}

static void on_open(void *userdata, const char *id)
{
    uplink *up = userdata;

    if (up->state != UPLINK_HANDSHAKE)
        return;
    if (!id || !*id) {
        stream_fail(up, "invalid-id", "no stream id to hash");
        return;
    }
    send_handshake(up, id);
}

static void remember_stream_error(uplink *up, xmpp_stanza_t *st)
{
    g_clear_pointer(&up->stream_error, g_free);
    g_clear_pointer(&up->stream_text, g_free);
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(st); c;
         c = xmpp_stanza_get_next(c)) {
        const char *name = xmpp_stanza_get_name(c);
        if (!name)
            continue;
        if (strcmp(name, "text") == 0) {
            char *t = xmpp_stanza_get_text(c);
            /* shown in the log: bounded, and only the server writes it */
            up->stream_text = t ? g_utf8_make_valid(t, MIN(strlen(t), 200))
                                : NULL;
            if (t)
                xmpp_free(up->ctx, t);
        } else if (!up->stream_error) {
            up->stream_error = g_strndup(name, 64);
        }
    }
}

static void went_up(uplink *up)
{
    guint dropped;

    up->state = UPLINK_UP;
    backoff_up(&up->retry, clock_now());
    up->last_fail = FAIL_NONE;
    if (up->timeout_id) {
        g_source_remove(up->timeout_id);
        up->timeout_id = 0;
    }
    outq_set_live(up->out, TRUE);
    log_info(LOG_LINK, "connected to %s:%u as %s", up->host, up->port,
             up->jid);
    if (outq_stanzas(up->out))
        log_info(LOG_LINK, "sending %u stanzas queued while the link was down",
                 outq_stanzas(up->out));
    dropped = outq_take_dropped(up->out);
    if (dropped)
        log_warning(LOG_LINK,
                    "%u stanzas were dropped while the link was down "
                    "(queue_max = %u)",
                    dropped, outq_queue_max(up->out));
    if (up->on_state)
        up->on_state(up, TRUE, up->userdata);
}

static void on_stanza(void *userdata, xmpp_stanza_t *st)
{
    uplink *up = userdata;
    const char *name = xmpp_stanza_get_name(st);
    const char *ns = xmpp_stanza_get_ns(st);

    if (ns && strcmp(ns, NS_STREAMS) == 0) {
        if (name && strcmp(name, "error") == 0)
            remember_stream_error(up, st);
        return;
    }
    if (up->state == UPLINK_HANDSHAKE) {
        if (name && strcmp(name, "handshake") == 0)
            went_up(up);
        return;
    }
    if (up->state != UPLINK_UP || up->cut_reason)
        return;
    if (up->on_stanza)
        up->on_stanza(up, st, up->userdata);
    /* Back-pressure: the rest of what was read waits in the parser. */
    if (outq_bytes(up->out) > up->send_buffer)
        stream_parser_suspend(up->parser);
}

static void on_refused(void *userdata, xmpp_stanza_t *stub, const char *why)
{
    uplink *up = userdata;
    const char *type = xmpp_stanza_get_type(stub);
    char *text;
    xmpp_stanza_t *err;

    if (up->state != UPLINK_UP || up->cut_reason)
        return;
    log_debug(LOG_LINK, "refused a %s stanza: %s",
             g_strcmp0(xmpp_stanza_get_name(stub), "message") == 0    ? "message"
             : g_strcmp0(xmpp_stanza_get_name(stub), "presence") == 0 ? "presence"
             : g_strcmp0(xmpp_stanza_get_name(stub), "iq") == 0       ? "iq"
                                                                     : "other",
             why);
    /* An iq result has nobody waiting for an answer; xerr_reply leaves
     * errors unanswered (RFC 6120 §8.3.1). */
    if (g_strcmp0(type, "result") == 0)
        return;
    text = g_strdup_printf("the stanza was refused: %s (limits: %zu bytes, "
                           "%u elements, %u levels, %u attributes)",
                           why, up->limits.stanza_size, up->limits.elements,
                           up->limits.depth, up->limits.attributes);
    err = xerr_reply(up->ctx, stub, XERR_POLICY_VIOLATION, text);
    g_free(text);
    if (err) {
        uplink_send(up, err);
        xmpp_stanza_release(err);
    }
}

static void on_close(void *userdata)
{
    uplink *up = userdata;

    /* RFC 6120 §4.4: the entity that receives the closing tag answers
     * with its own, then the TCP connection is closed. */
    if (up->state == UPLINK_CLOSING) {
        up->cut_reason = "closed";
        return;
    }
    if (!up->cut_reason) {
        push_frame(up, "</stream:stream>");
        up->cut_reason = "the server closed the stream";
    }
}

static const stream_cbs stream_callbacks = {on_open, on_stanza, on_refused,
                                            on_close};

/* ---- reading, one turn ---- */

/* Runs fn(data) between the on_turn calls; withdraws what the turn queued
 * if its writes could not be made durable. */
static void run_turn(uplink *up, void (*fn)(void *), void *data)
{
    guint before = outq_length(up->out);

    if (up->on_turn)
        up->on_turn(TRUE, up->turn_data);
    fn(data);
    if (!up->on_turn || up->on_turn(FALSE, up->turn_data))
        return;
    log_error(LOG_LINK, "withdrawing %u stanzas whose writes failed",
              outq_withdraw_after(up->out, before));
}

typedef struct read_turn {
    uplink *up;
    int error;   /* errno of a failed read */
    gboolean eof;
    gboolean resume;
} read_turn;

static void parse_result(uplink *up, int rc)
{
    if (rc < 0 && !up->cut_reason)
        stream_fail(up, stream_parser_condition(up->parser),
                    stream_parser_reason(up->parser));
}

static void read_turn_fn(void *data)
{
    read_turn *rt = data;
    uplink *up = rt->up;
    char buf[READ_CHUNK];
    ssize_t n;

    if (rt->resume) {
        parse_result(up, stream_parser_resume(up->parser));
        return;
    }
    n = recv(up->fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0) {
        rt->eof = TRUE;
        return;
    }
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            rt->error = errno;
        return;
    }
    parse_result(up, stream_parser_feed(up->parser, buf, (gsize)n));
}

static void update_pause(uplink *up)
{
    gboolean was = up->paused;

    if (outq_bytes(up->out) > up->send_buffer)
        up->paused = TRUE;
    else if (outq_bytes(up->out) <= up->send_buffer / 2 &&
             !stream_parser_suspended(up->parser))
        up->paused = FALSE;
    if (up->paused != was)
        log_debug(LOG_LINK, "%s reading: %zu bytes wait for the server",
                  up->paused ? "paused" : "resumed", outq_bytes(up->out));
    /* After a burst the queue's memory is free but glibc keeps it in its
     * heap; give it back to the system once the backlog is written. */
    if (was && !up->paused)
        up->trim = TRUE;
    if (up->trim && outq_bytes(up->out) == 0) {
        up->trim = FALSE;
        malloc_trim(0);
    }
}

static gboolean resume_cb(gpointer data)
{
    uplink *up = data;

    up->resume_id = 0;
    dispatch(up, 0);
    return G_SOURCE_REMOVE;
}

static void dispatch_turns(uplink *up, GIOCondition cond);

/* One socket event: its turns, then the writes they queued, then the watch
 * set once. Changing the watch wakes GLib's loop (an eventfd write, and a
 * poll that returns at once); a turn that queued output and wrote it did
 * that twice for nothing. */
static void dispatch(uplink *up, GIOCondition cond)
{
    up->dispatching = TRUE;
    dispatch_turns(up, cond);
    up->dispatching = FALSE;
    watch_update(up);
}

static void dispatch_turns(uplink *up, GIOCondition cond)
{
    read_turn rt = {.up = up};

    if ((cond & G_IO_OUT) && outq_write(up->out, up->fd) < 0) {
        link_down(up, errno);
        return;
    }
    /* A suspended parser goes on once the output has drained. */
    if (up->parser && stream_parser_suspended(up->parser) &&
        outq_bytes(up->out) <= up->send_buffer / 2) {
        rt.resume = TRUE;
        run_turn(up, read_turn_fn, &rt);
        rt.resume = FALSE;
    }
    if (!up->paused && !up->cut_reason && up->parser &&
        !stream_parser_suspended(up->parser) &&
        (cond & (G_IO_IN | G_IO_HUP | G_IO_ERR)))
        run_turn(up, read_turn_fn, &rt);
    if (up->fd >= 0 && outq_write(up->out, up->fd) < 0 && !rt.error)
        rt.error = errno ? errno : EPIPE;
    if (rt.eof || rt.error) {
        link_down(up, rt.error);
        return;
    }
    if (up->cut_reason && !outq_writable(up->out)) {
        link_down(up, 0);
        return;
    }
    update_pause(up);
    /* A suspended parser whose output is already written waits for no
     * socket event: go on from an idle turn. */
    if (up->parser && stream_parser_suspended(up->parser) &&
        outq_bytes(up->out) <= up->send_buffer / 2 && !up->resume_id)
        up->resume_id = g_idle_add(resume_cb, up);
}

/* ---- connect, fail, retry ---- */

static gboolean retry_cb(gpointer data)
{
    uplink *up = data;

    up->retry_id = 0;
    start_connect(up);
    return G_SOURCE_REMOVE;
}

static void schedule_retry(uplink *up, enum uplink_fail kind, const char *what)
{
    /* A link that was up for STABLE_AFTER_US starts again from 1 s. */
    guint ms = up->reconnect_ms ? up->reconnect_ms
                                : backoff_next(&up->retry, clock_now(), FALSE);
    enum log_level lvl = kind == up->last_fail ? LOG_DEBUG : LOG_WARNING;
    const char *retry = kind == FAIL_LOST ? "reconnecting" : "retrying";

    /* Each change of state is logged once; repeats of the same failure go
     * to debug, so a long outage is one line, not one per attempt. */
    log_msg(LOG_LINK, lvl, "%s; %s in %.1f s", what, retry, ms / 1000.0);
    up->last_fail = kind;
    up->reconnect_ms = 0;
    up->state = UPLINK_DOWN;
    up->retry_id = g_timeout_add(ms, retry_cb, up);
}

static void close_socket(uplink *up)
{
    watch_drop(up);
    if (up->resume_id) {
        g_source_remove(up->resume_id);
        up->resume_id = 0;
    }
    if (up->timeout_id) {
        g_source_remove(up->timeout_id);
        up->timeout_id = 0;
    }
    if (up->conn) {
        g_io_stream_close(G_IO_STREAM(up->conn), NULL, NULL);
        g_clear_object(&up->conn);
    }
    up->fd = -1;
    stream_parser_free(up->parser);
    up->parser = NULL;
    up->paused = FALSE;
}

static void stopped(uplink *up)
{
    up->state = UPLINK_STOPPED;
    if (up->stop_done) {
        void (*done)(void *) = up->stop_done;
        up->stop_done = NULL;
        done(up->stop_userdata);
    }
}

/* The socket is gone (error: its errno, or 0): log why, back off, redial. */
static void link_down(uplink *up, int error)
{
    enum uplink_state was = up->state;
    char *what;
    enum uplink_fail kind;
    const char *cond = up->stream_error;
    guint kept;

    close_socket(up);
    outq_set_live(up->out, FALSE);
    kept = outq_reset(up->out);
    if (kept)
        log_info(LOG_LINK, "kept %u unsent stanzas to resend after reconnect",
                 kept);
    if (was == UPLINK_CLOSING || was == UPLINK_STOPPED) {
        log_info(LOG_LINK, "closed the link to %s:%u", up->host, up->port);
        stopped(up);
        goto leave;
    }
    if (was == UPLINK_UP) {
        kind = FAIL_LOST;
        what = g_strdup_printf("disconnected from %s:%u (%s)", up->host,
                               up->port,
                               cond            ? cond
                               : up->cut_detail ? up->cut_detail
                               : error         ? g_strerror(error)
                               : up->cut_reason ? up->cut_reason
                                               : "stream closed");
        if (up->on_state)
            up->on_state(up, FALSE, up->userdata);
    } else if (cond && strcmp(cond, "not-authorized") == 0) {
        kind = FAIL_REFUSED_SECRET;
        what = g_strdup_printf("the server refused the secret for %s", up->jid);
    } else if (cond) {
        kind = FAIL_STREAM_ERROR;
        what = g_strdup_printf(
            "the server at %s:%u refused the link for %s (%s%s%s)", up->host,
            up->port, up->jid, cond, up->stream_text ? ": " : "",
            up->stream_text ? up->stream_text : "");
    } else {
        kind = FAIL_UNREACHABLE;
        what = g_strdup_printf("cannot reach %s:%u (%s)", up->host, up->port,
                               error            ? g_strerror(error)
                               : up->cut_detail ? up->cut_detail
                                                : "closed during the handshake");
    }
    schedule_retry(up, kind, what);
    g_free(what);
leave:
    g_clear_pointer(&up->stream_error, g_free);
    g_clear_pointer(&up->stream_text, g_free);
    g_clear_pointer(&up->cut_detail, g_free);
    up->cut_reason = NULL;
}

static gboolean handshake_timeout_cb(gpointer data)
{
    uplink *up = data;

    up->timeout_id = 0;
    if (up->state == UPLINK_HANDSHAKE) {
        up->cut_detail = g_strdup("no handshake within 10 s");
        link_down(up, 0);
    }
    return G_SOURCE_REMOVE;
}

static void connected_cb(GObject *src, GAsyncResult *res, gpointer data)
{
    connect_op *op = data;
    uplink *up = op->up;
    GError *err = NULL;
    GSocketConnection *conn =
        g_socket_client_connect_finish(G_SOCKET_CLIENT(src), res, &err);
    GSocket *sock;
    int one = 1, keepidle = 60, keepintvl = 20, keepcnt = 3;
    char *header;

    g_free(op);
    if (!up) {
        if (conn)
            g_object_unref(conn);
        g_clear_error(&err);
        return;
    }
    up->op = NULL;
    if (!conn) {
        gboolean cancelled = g_error_matches(err, G_IO_ERROR,
                                             G_IO_ERROR_CANCELLED);
        if (!cancelled) {
            char *what = g_strdup_printf("cannot reach %s:%u (%s)", up->host,
                                         up->port, err->message);
            g_clear_object(&up->cancel);
            schedule_retry(up, FAIL_UNREACHABLE, what);
            g_free(what);
        }
        g_error_free(err);
        return;
    }
    g_clear_object(&up->cancel);
    if (up->state != UPLINK_CONNECTING) { /* stopped meanwhile */
        g_object_unref(conn);
        return;
    }
    up->conn = conn;
    sock = g_socket_connection_get_socket(conn);
    up->fd = g_socket_get_fd(sock);
    /* A turn's replies are written together once its batch is committed;
     * Nagle's algorithm would only hold back the last of them. TCP
     * keepalive: a server that vanished without a FIN is noticed. */
    setsockopt(up->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    g_socket_set_keepalive(sock, TRUE);
    /* Linux waits two hours before the first probe by default: a minute
     * idle, then a probe every 20 s, dead after 3 unanswered. */
    setsockopt(up->fd, IPPROTO_TCP, TCP_KEEPIDLE, &keepidle, sizeof(keepidle));
    setsockopt(up->fd, IPPROTO_TCP, TCP_KEEPINTVL, &keepintvl,
               sizeof(keepintvl));
    setsockopt(up->fd, IPPROTO_TCP, TCP_KEEPCNT, &keepcnt, sizeof(keepcnt));
    up->parser = stream_parser_new(up->ctx, &up->limits, &stream_callbacks, up);
    up->state = UPLINK_HANDSHAKE;
    watch_fd(up, up->fd);
    /* XEP-0114 §3: the component opens the stream to its own domain. */
    header = g_strdup_printf("<?xml version='1.0'?><stream:stream xmlns='%s' "
                             "xmlns:stream='%s' to='%s'>",
                             NS_COMPONENT, NS_STREAMS, up->jid);
    push_frame(up, header);
    g_free(header);
    up->timeout_id = g_timeout_add_seconds(HANDSHAKE_TIMEOUT_S,
                                           handshake_timeout_cb, up);
}

static void start_connect(uplink *up)
{
    up->state = UPLINK_CONNECTING;
    log_debug(LOG_LINK, "connecting to %s:%u", up->host, up->port);
    up->cancel = g_cancellable_new();
    up->op = g_new0(connect_op, 1);
    up->op->up = up;
    g_socket_client_connect_to_host_async(up->client, up->host, up->port,
                                          up->cancel, connected_cb, up->op);
}

int uplink_new(const uplink_params *params, uplink_stanza_fn on_stanza,
               uplink_state_fn on_state, void *userdata, uplink **out)
{
    uplink *up = g_new0(uplink, 1);
    const stream_limits dflt = {
        .stanza_size = 65536,
        .elements = 256,
        .depth = 24,
        .attributes = 32,
        .attribute_size = 4096,
    };

    xmpp_initialize();
    up->jid = g_strdup(params->jid);
    up->host = g_strdup(params->host);
    up->port = params->port;
    up->secret = g_strdup(params->secret);
    up->out = outq_new(params->queue_max);
    up->stanza_limit =
        params->stanza_limit ? params->stanza_limit : STANZA_LIMIT_DEFAULT;
    up->send_buffer =
        params->send_buffer ? params->send_buffer : SEND_BUFFER_DEFAULT;
    up->limits = params->limits.stanza_size ? params->limits : dflt;
    up->on_stanza = on_stanza;
    up->on_turn = params->on_turn;
    up->turn_data = params->turn_data;
    up->on_state = on_state;
    up->userdata = userdata;
    up->fd = -1;
    backoff_init(&up->retry, BACKOFF_FIRST_MS, BACKOFF_MAX_MS,
                 STABLE_AFTER_US);
    up->too_big = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    /* Stanzas are built and serialised with libstrophe; it makes no
     * connection (its parser is unbounded: see stream.h). */
    up->ctx = xmpp_ctx_new(NULL, NULL);
    up->client = g_socket_client_new();
    g_socket_client_set_timeout(up->client, CONNECT_TIMEOUT_S);
    start_connect(up);
    *out = up;
    return 0;
}

/* ---- sending ---- */

/* The size check every stanza passes: nothing over the server's limit
 * leaves (Prosody closes the whole link for one). */
static int too_big(uplink *up, const char *name, gsize len)
{
    if (len <= up->stanza_limit)
        return 0;
    if (!g_hash_table_contains(up->too_big, name ? name : "")) {
        g_hash_table_add(up->too_big, g_strdup(name ? name : ""));
        log_warning(LOG_LINK,
                    "not sending a %s stanza of %zu bytes: over stanza_limit "
                    "(%zu); logged once per kind",
                    name ? name : "?", len, up->stanza_limit);
    }
    return -EMSGSIZE;
}

static GBytes *serialise(uplink *up, xmpp_stanza_t *st)
{
    char *buf = NULL;
    size_t len = 0;
    GBytes *b;

    if (xmpp_stanza_to_text(st, &buf, &len) != 0)
        return NULL;
    b = g_bytes_new(buf, len);
    xmpp_free(up->ctx, buf);
    return b;
}

int uplink_send(uplink *up, xmpp_stanza_t *st)
{
    GBytes *b;
    int rc;

    if (up->state == UPLINK_STOPPED)
        return 0;
    b = serialise(up, st);
    if (!b)
        return -EIO;
    rc = too_big(up, xmpp_stanza_get_name(st), g_bytes_get_size(b));
    if (rc < 0) {
        g_bytes_unref(b);
        return rc;
    }
    outq_push_stanza(up->out, b);
    watch_update(up);
    return 0;
}

/* Marks where 'to' goes in the serialised text; no JID contains it. */
#define TO_MARK "\x01imgroups-to\x01"

uplink_fanout *uplink_fanout_text(uplink *up, const char *name,
                                  const char *text, gsize len, gsize at)
{
    uplink_fanout *f = g_new0(uplink_fanout, 1);

    f->up = up;
    f->text = outq_text_new(text, len, at);
    f->name = g_intern_string(name ? name : "");
    return f;
}

uplink_fanout *uplink_fanout_new(uplink *up, xmpp_stanza_t *st)
{
    uplink_fanout *f = NULL;
    GBytes *b;
    const char *text, *at;
    gsize len;
    char *old = g_strdup(xmpp_stanza_get_to(st));

    xmpp_stanza_set_to(st, TO_MARK);
    b = serialise(up, st);
    if (old)
        xmpp_stanza_set_to(st, old);
    else
        xmpp_stanza_del_attribute(st, "to");
    g_free(old);
    if (!b)
        return NULL;
    text = g_bytes_get_data(b, &len);
    at = g_strstr_len(text, (gssize)len, TO_MARK);
    if (at) {
        /* the text without the mark: the recipient goes where it was */
        GString *t = g_string_new_len(text, at - text);
        gsize pos = t->len;
        g_string_append_len(t, at + strlen(TO_MARK),
                            (gssize)(len - pos - strlen(TO_MARK)));
        f = uplink_fanout_text(up, xmpp_stanza_get_name(st), t->str, t->len,
                               pos);
        g_string_free(t, TRUE);
    }
    g_bytes_unref(b);
    return f;
}

int uplink_fanout_send(uplink_fanout *f, const char *to)
{
    uplink *up = f->up;
    int rc;

    if (up->state == UPLINK_STOPPED)
        return 0;
    rc = too_big(up, f->name,
                 outq_text_len(f->text) + xmltext_escaped_len(to, strlen(to)));
    if (rc < 0)
        return rc;
    outq_push_copy(up->out, f->text, to);
    watch_update(up);
    return 0;
}

void uplink_fanout_free(uplink_fanout *f)
{
    if (!f)
        return;
    outq_text_unref(f->text);
    g_free(f);
}

void uplink_run_turn(uplink *up, void (*fn)(void *), void *userdata)
{
    run_turn(up, fn, userdata);
}

xmpp_ctx_t *uplink_ctx(uplink *up)
{
    return up->ctx;
}

gboolean uplink_connected(const uplink *up)
{
    return up->state == UPLINK_UP;
}

guint uplink_queued(const uplink *up)
{
    return outq_stanzas(up->out);
}

gsize uplink_backlog(const uplink *up)
{
    return outq_bytes(up->out);
}

static gboolean stop_timeout_cb(gpointer data)
{
    uplink *up = data;

    up->timeout_id = 0;
    if (up->state == UPLINK_CLOSING) {
        log_warning(LOG_LINK, "the server did not close the stream in time; "
                              "closing the socket");
        close_socket(up);
        stopped(up);
    }
    return G_SOURCE_REMOVE;
}

void uplink_stop(uplink *up, void (*done)(void *), void *userdata)
{
    up->stop_done = done;
    up->stop_userdata = userdata;
    if (up->retry_id) {
        g_source_remove(up->retry_id);
        up->retry_id = 0;
    }
    if (up->state == UPLINK_UP) {
        up->state = UPLINK_CLOSING;
        /* </stream:stream> behind any output still queued. */
        push_frame(up, "</stream:stream>");
        if (up->timeout_id)
            g_source_remove(up->timeout_id);
        up->timeout_id = g_timeout_add_seconds(5, stop_timeout_cb, up);
        return;
    }
    if (up->op)
        up->op->up = NULL;
    up->op = NULL;
    if (up->cancel)
        g_cancellable_cancel(up->cancel);
    g_clear_object(&up->cancel);
    close_socket(up);
    if (outq_stanzas(up->out))
        log_warning(LOG_LINK,
                    "stopping with %u stanzas that never reached the server",
                    outq_stanzas(up->out));
    up->state = UPLINK_STOPPED;
    up->stop_done = NULL;
    if (done)
        done(userdata);
}

void uplink_reconnect(uplink *up, const char *why, guint delay_ms)
{
    if (up->state != UPLINK_UP || up->cut_reason)
        return;
    push_frame(up, "</stream:stream>");
    up->cut_reason = why;
    up->reconnect_ms = MAX(delay_ms, 1);
}

void uplink_free(uplink *up)
{
    if (!up)
        return;
    if (up->retry_id)
        g_source_remove(up->retry_id);
    if (up->op)
        up->op->up = NULL;
    if (up->cancel) {
        g_cancellable_cancel(up->cancel);
        g_clear_object(&up->cancel);
    }
    up->state = UPLINK_STOPPED;
    up->stop_done = NULL;
    close_socket(up);
    outq_free(up->out);
    g_hash_table_destroy(up->too_big);
    g_clear_object(&up->client);
    if (up->ctx)
        xmpp_ctx_free(up->ctx);
    g_free(up->jid);
    g_free(up->host);
    secret_free(up->secret);
    g_free(up->stream_error);
    g_free(up->stream_text);
    g_free(up->cut_detail);
    g_free(up);
    xmpp_shutdown();
}
