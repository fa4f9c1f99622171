/* uplink: the XEP-0114 component link on libstrophe, under the GLib loop. */
#include "uplink.h"

#include <errno.h>
#include <stdio.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "log.h"

#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS   30000
/* A link that stayed up this long resets the backoff; one that drops sooner
 * keeps doubling, so a server that accepts and drops at once is not
 * hammered every second. */
#define STABLE_AFTER_US (10 * G_USEC_PER_SEC)
/* libstrophe runs its own timers (connect timeout, handshake timeout, the
 * wait for the server's </stream:stream>) only inside xmpp_run_once(); while
 * one of those can be pending, drive it at this period. */
#define TICK_MS 250

enum uplink_state {
    UPLINK_DOWN,       /* waiting for the retry timer */
    UPLINK_CONNECTING, /* TCP connect, stream open, handshake */
    UPLINK_UP,
    UPLINK_CLOSING, /* </stream:stream> sent, waiting for the server's */
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

typedef struct fd_source {
    GSource base;
    gpointer tag;
    uplink *up;
} fd_source;

struct uplink {
    char *jid;
    char *host;
    guint16 port;
    char *secret;
    guint queue_max;
    uplink_stanza_fn on_stanza;
    uplink_turn_fn on_turn;
    void *turn_data;
    uplink_state_fn on_state;
    void *userdata;

    xmpp_ctx_t *ctx;
    xmpp_conn_t *conn;
    enum uplink_state state;
    GSource *fd_src; /* watch on the current socket, NULL when none */
    int fd;
    guint tick_id;
    guint retry_id;
    guint attempt;        /* failures since the last stable link */
    int sock_error;       /* errno of the last failed TCP connect, 0 if none */
    gboolean parse_error; /* the server sent XML that does not parse */
    gboolean cut_pending; /* shut the socket after the next turn */
    const char *down_reason; /* why the link closed itself, or NULL */
    gint64 up_since;
    enum uplink_fail last_fail;

    GQueue pending; /* char * (g_free), serialised stanzas waiting */
    guint dropped;  /* stanzas dropped from a full queue since last up */

    void (*stop_done)(void *);
    void *stop_userdata;
    guint stop_timeout_id;
};

/* libstrophe's sockopt callback carries no userdata; one uplink exists per
 * process, so it is found here. */
static uplink *the_uplink;

static void pump(uplink *up);
static void start_connect(uplink *up);

/* ---- libstrophe logging, routed into the "xmpp" area ---- */

static void strophe_log(void *userdata, xmpp_log_level_t level,
                        const char *area, const char *msg)
{
    enum log_level lvl = LOG_DEBUG;

    /* SENT:/RECV: lines carry whole stanzas, message bodies included:
     * the privacy promise keeps them out of every log, at every level. */
    if (strncmp(msg, "SENT:", 5) == 0 || strncmp(msg, "RECV:", 5) == 0 ||
        strncmp(msg, "Q_", 2) == 0 || strncmp(msg, "SM_Q_", 5) == 0)
        return;
    /* libstrophe calls every refused connect an error; the link logs its
     * own one-line summary of each failure, so its complaints are shown
     * only while the link is up (a parse error says why it dropped). */
    /* The connection handler is given no errno for a failed TCP connect;
     * libstrophe says it only here. */
    if (the_uplink && sscanf(msg, "connection failed, error %d",
                             &the_uplink->sock_error) == 1)
        lvl = LOG_DEBUG;
    /* On malformed XML libstrophe 0.12 sends <invalid-xml/> and then keeps
     * the dead stream open; the link closes it after this turn. */
    if (the_uplink && strncmp(msg, "parse error", 11) == 0)
        the_uplink->parse_error = TRUE;
    if ((level == XMPP_LEVEL_ERROR || level == XMPP_LEVEL_WARN) && the_uplink &&
        the_uplink->state == UPLINK_UP)
        lvl = LOG_WARNING;
    log_msg(LOG_XMPP, lvl, "%s: %s", area, msg);
}

static const xmpp_log_t strophe_logger = {strophe_log, NULL};

/* ---- the socket watch ---- */

static gboolean fd_dispatch(GSource *src, GSourceFunc cb, gpointer data)
{
    pump(((fd_source *)src)->up);
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
    up->fd = -1;
}

static void watch_fd(uplink *up, int fd)
{
    fd_source *fs;

    watch_drop(up);
    up->fd_src = g_source_new(&fd_funcs, sizeof(fd_source));
    fs = (fd_source *)up->fd_src;
    fs->up = up;
    fs->tag = g_source_add_unix_fd(up->fd_src, fd,
                                   G_IO_IN | G_IO_OUT | G_IO_ERR | G_IO_HUP);
    g_source_set_name(up->fd_src, "uplink socket");
    g_source_attach(up->fd_src, NULL);
    up->fd = fd;
}

static gboolean fd_writable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};

    return poll(&p, 1, 0) == 1 && (p.revents & POLLOUT);
}

/* Watch for writability only while there may be output: during connect and
 * close, while libstrophe holds queued stanzas, or when the socket is full
 * (libstrophe writes until EAGAIN, so a writable socket right after
 * xmpp_run_once means nothing is left half-written). */
static void watch_update(uplink *up)
{
    GIOCondition cond = G_IO_IN | G_IO_ERR | G_IO_HUP;

    if (!up->fd_src)
        return;
    if (up->state != UPLINK_UP || xmpp_conn_send_queue_len(up->conn) > 0 ||
        !fd_writable(up->fd))
        cond |= G_IO_OUT;
    g_source_modify_unix_fd(up->fd_src, ((fd_source *)up->fd_src)->tag, cond);
}

static int sockopt_cb(xmpp_conn_t *conn, void *sock)
{
    uplink *up = the_uplink;
    int fd = *(int *)sock;

    int one = 1;

    if (up && up->conn == conn)
        watch_fd(up, fd);
    /* A turn's replies are written together once its batch is committed;
     * Nagle's algorithm would only hold back the last of them. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    /* TCP keepalive: a server that vanished without a FIN is noticed. */
    return xmpp_sockopt_cb_keepalive(conn, sock);
}

static gboolean tick_cb(gpointer data)
{
    uplink *up = data;

    pump(up);
    return G_SOURCE_CONTINUE;
}

static void tick_set(uplink *up, gboolean on)
{
    if (on && !up->tick_id)
        up->tick_id = g_timeout_add(TICK_MS, tick_cb, up);
    else if (!on && up->tick_id) {
        g_source_remove(up->tick_id);
        up->tick_id = 0;
    }
}

/* Withdraws the n stanzas queued last: output of a turn whose writes did not
 * become durable (DESIGN: nothing is acked before it is durable). */
static void withdraw(uplink *up, int n)
{
    char *text;

    for (; n > 0; n--) {
        text = xmpp_conn_send_queue_drop_element(up->conn, XMPP_QUEUE_YOUNGEST);
        if (!text)
            break;
        xmpp_free(up->ctx, text);
    }
}

static void pump(uplink *up)
{
    /* libstrophe writes what is queued at the start of xmpp_run_once and
     * queues replies while it reads: committing the turn's batch right
     * after it means no stanza leaves before what it reports is durable. */
    int before = xmpp_conn_send_queue_len(up->conn);

    if (up->on_turn)
        up->on_turn(TRUE, up->turn_data);
    xmpp_run_once(up->ctx, 0);
    if (up->on_turn && !up->on_turn(FALSE, up->turn_data)) {
        int n = xmpp_conn_send_queue_len(up->conn) - before;
        log_error(LOG_LINK, "withdrawing %d stanzas whose writes failed",
                  MAX(n, 0));
        withdraw(up, n);
    }
    if (up->cut_pending && up->fd >= 0) {
        /* The turn after a parse error has written <invalid-xml/> and
         * </stream:stream>; cut the socket now, so that nothing libstrophe
         * makes of the rest of the broken input goes out after them. */
        shutdown(up->fd, SHUT_RDWR);
        up->cut_pending = FALSE;
    }
    if (up->parse_error && up->state == UPLINK_UP && !up->down_reason) {
        /* RFC 6120 §4.9.3.25: after <invalid-xml/> the stream is closed.
         * The disconnect is then handled like any loss: log, back off,
         * redial. */
        up->down_reason = "the server sent malformed XML";
        xmpp_disconnect(up->conn);
        up->cut_pending = TRUE;
        tick_set(up, TRUE);
    }
    up->parse_error = FALSE;
    watch_update(up);
}

/* ---- the queue kept while the link is down ---- */

static void pending_push(uplink *up, char *text)
{
    if (up->queue_max == 0) {
        g_free(text);
        up->dropped++;
        return;
    }
    while (up->pending.length >= up->queue_max) {
        g_free(g_queue_pop_head(&up->pending));
        if (up->dropped++ == 0)
            log_warning(LOG_LINK,
                        "the queue of stanzas waiting for the link is full "
                        "(%u); dropping the oldest",
                        up->queue_max);
    }
    g_queue_push_tail(&up->pending, text);
}

/* Takes back from libstrophe what it had queued but not written when the
 * link dropped; those are older than anything queued here since. */
static void pending_reclaim(uplink *up)
{
    GQueue back = G_QUEUE_INIT;
    char *text;

    while ((text = xmpp_conn_send_queue_drop_element(up->conn,
                                                     XMPP_QUEUE_OLDEST))) {
        g_queue_push_tail(&back, g_strdup(text));
        xmpp_free(up->ctx, text);
    }
    if (back.length)
        log_info(LOG_LINK, "kept %u unsent stanzas to resend after reconnect",
                 back.length);
    while ((text = g_queue_pop_tail(&back)))
        g_queue_push_head(&up->pending, text);
    while (up->pending.length > up->queue_max) {
        g_free(g_queue_pop_head(&up->pending));
        up->dropped++;
    }
}

static void pending_flush(uplink *up)
{
    char *text;
    guint n = up->pending.length;

    while ((text = g_queue_pop_head(&up->pending))) {
        xmpp_send_raw(up->conn, text, strlen(text));
        g_free(text);
    }
    if (n)
        log_info(LOG_LINK, "sent %u stanzas queued while the link was down", n);
    if (up->dropped)
        log_warning(LOG_LINK,
                    "%u stanzas were dropped while the link was down "
                    "(queue_max = %u)",
                    up->dropped, up->queue_max);
    up->dropped = 0;
}

/* ---- connect, fail, retry ---- */

static guint backoff_ms(guint attempt)
{
    guint64 base = BACKOFF_FIRST_MS;
    double jitter;

    for (guint i = 0; i < attempt && base < BACKOFF_MAX_MS; i++)
        base *= 2;
    if (base > BACKOFF_MAX_MS)
        base = BACKOFF_MAX_MS;
    /* ±25 %, so that many components restarting together spread out. */
    jitter = g_random_double_range(0.75, 1.25);
    return (guint)MIN((double)BACKOFF_MAX_MS, (double)base * jitter);
}

static gboolean retry_cb(gpointer data)
{
    uplink *up = data;

    up->retry_id = 0;
    start_connect(up);
    return G_SOURCE_REMOVE;
}

static void schedule_retry(uplink *up, enum uplink_fail kind, const char *what)
{
    guint ms = backoff_ms(up->attempt++);
    enum log_level lvl = kind == up->last_fail ? LOG_DEBUG : LOG_WARNING;
    const char *retry = kind == FAIL_LOST ? "reconnecting" : "retrying";

    /* Each change of state is logged once; repeats of the same failure go
     * to debug, so a long outage is one line, not one per attempt. */
    log_msg(LOG_LINK, lvl, "%s; %s in %.1f s", what, retry, ms / 1000.0);
    up->last_fail = kind;
    up->state = UPLINK_DOWN;
    up->retry_id = g_timeout_add(ms, retry_cb, up);
}

static const char *stream_error_name(const xmpp_stream_error_t *se)
{
    xmpp_stanza_t *child;

    if (!se || !se->stanza)
        return NULL;
    for (child = xmpp_stanza_get_children(se->stanza); child;
         child = xmpp_stanza_get_next(child)) {
        const char *name = xmpp_stanza_get_name(child);
        if (name && strcmp(name, "text") != 0)
            return name;
    }
    return NULL;
}

static void on_down(uplink *up, int error, xmpp_stream_error_t *se)
{
    enum uplink_state was = up->state;
    const char *cond = stream_error_name(se);
    char *what;
    enum uplink_fail kind;

    watch_drop(up);
    tick_set(up, FALSE);
    pending_reclaim(up);

    if (was == UPLINK_CLOSING || was == UPLINK_STOPPED) {
        up->state = UPLINK_STOPPED;
        log_info(LOG_LINK, "closed the link to %s:%u", up->host, up->port);
        if (up->stop_done) {
            void (*done)(void *) = up->stop_done;
            up->stop_done = NULL;
            done(up->stop_userdata);
        }
        return;
    }
    if (was == UPLINK_UP) {
        if (g_get_monotonic_time() - up->up_since >= STABLE_AFTER_US)
            up->attempt = 0;
        kind = FAIL_LOST;
        what =
            g_strdup_printf("disconnected from %s:%u (%s)", up->host, up->port,
                            cond    ? cond
                            : error ? g_strerror(error)
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
            up->port, up->jid, cond, se && se->text ? ": " : "",
            se && se->text ? se->text : "");
    } else {
        if (!error)
            error = up->sock_error;
        kind = FAIL_UNREACHABLE;
        what = g_strdup_printf("cannot reach %s:%u (%s)", up->host, up->port,
                               error ? g_strerror(error)
                                     : "closed during the handshake");
    }
    schedule_retry(up, kind, what);
    g_free(what);
}

static void conn_handler(xmpp_conn_t *conn, xmpp_conn_event_t event, int error,
                         xmpp_stream_error_t *se, void *userdata)
{
    uplink *up = userdata;

    switch (event) {
    case XMPP_CONN_CONNECT:
        up->state = UPLINK_UP;
        up->up_since = g_get_monotonic_time();
        up->last_fail = FAIL_NONE;
        tick_set(up, FALSE);
        log_info(LOG_LINK, "connected to %s:%u as %s", up->host, up->port,
                 up->jid);
        pending_flush(up);
        if (up->on_state)
            up->on_state(up, TRUE, up->userdata);
        break;
    case XMPP_CONN_DISCONNECT:
    case XMPP_CONN_FAIL:
        on_down(up, error, se);
        break;
    default:
        break;
    }
}

static int stanza_handler(xmpp_conn_t *conn, xmpp_stanza_t *st, void *userdata)
{
    uplink *up = userdata;

    if (up->on_stanza)
        up->on_stanza(up, st, up->userdata);
    return 1; /* keep the handler */
}

static void start_connect(uplink *up)
{
    int rc;

    up->state = UPLINK_CONNECTING;
    up->sock_error = 0;
    up->down_reason = NULL;
    up->cut_pending = FALSE;
    log_debug(LOG_LINK, "connecting to %s:%u", up->host, up->port);
    rc = xmpp_connect_component(up->conn, up->host, up->port, conn_handler, up);
    if (rc < 0) {
        char *what = g_strdup_printf("cannot reach %s:%u (no socket: "
                                     "libstrophe error %d)",
                                     up->host, up->port, rc);
        watch_drop(up);
        schedule_retry(up, FAIL_UNREACHABLE, what);
        g_free(what);
        return;
    }
    tick_set(up, TRUE);
    watch_update(up);
}

/* The probe connection below needs a handler for libstrophe to call; it has
 * nothing to do. */
static void probe_handler(xmpp_conn_t *conn, xmpp_conn_event_t event, int error,
                          xmpp_stream_error_t *se, void *userdata)
{
}

/* libstrophe 0.12.2 (Debian 12) reads conn->sm_state on every received
 * stanza and every write, but only xmpp_connect_client() allocates it: a
 * component connection crashes on the first stanza without it. A throw-away
 * client connection allocates one; it is moved to the component connection,
 * which keeps it across reconnects. tests/test_uplink.c fails if this is
 * removed (it exchanges stanzas over a component link). */
static int sm_state_workaround(uplink *up)
{
    xmpp_conn_t *probe = xmpp_conn_new(up->ctx);
    xmpp_sm_state_t *sm = NULL;
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof(sa);
    int hold = -1, rc = -1;

    /* A port bound but never listened on refuses at once, so the probe
     * never reaches anything and fails within a few loop turns. */
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    hold = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (hold < 0 || bind(hold, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        getsockname(hold, (struct sockaddr *)&sa, &len) < 0)
        goto leave;
    xmpp_conn_set_jid(probe, "probe@localhost");
    xmpp_conn_set_flags(probe, XMPP_CONN_FLAG_DISABLE_TLS);
    if (xmpp_connect_client(probe, "127.0.0.1", ntohs(sa.sin_port),
                            probe_handler, NULL) == 0) {
        /* Bounded: a refused loopback connect completes at once. */
        for (int i = 0; i < 200 && !xmpp_conn_is_disconnected(probe); i++)
            xmpp_run_once(up->ctx, 10);
    }
    if (!xmpp_conn_is_disconnected(probe))
        goto leave;
    sm = xmpp_conn_get_sm_state(probe);
    if (sm && xmpp_conn_set_sm_state(up->conn, sm) == 0)
        rc = 0;
    else if (sm)
        xmpp_free_sm_state(sm);
leave:
    if (hold >= 0)
        close(hold);
    xmpp_conn_release(probe);
    return rc;
}

int uplink_new(const uplink_params *params, uplink_stanza_fn on_stanza,
               uplink_state_fn on_state, void *userdata, uplink **out)
{
    uplink *up = g_new0(uplink, 1);

    *out = NULL;
    xmpp_initialize();
    up->jid = g_strdup(params->jid);
    up->host = g_strdup(params->host);
    up->port = params->port;
    up->secret = g_strdup(params->secret);
    up->queue_max = params->queue_max;
    up->on_stanza = on_stanza;
    up->on_turn = params->on_turn;
    up->turn_data = params->turn_data;
    up->on_state = on_state;
    up->userdata = userdata;
    up->fd = -1;
    g_queue_init(&up->pending);
    up->ctx = xmpp_ctx_new(NULL, &strophe_logger);
    up->conn = xmpp_conn_new(up->ctx);
    if (sm_state_workaround(up) < 0) {
        log_error(LOG_LINK, "cannot prepare the libstrophe connection "
                            "(stream-management state workaround failed)");
        uplink_free(up);
        return -1;
    }
    xmpp_conn_set_jid(up->conn, up->jid);
    xmpp_conn_set_pass(up->conn, up->secret);
    xmpp_conn_set_sockopt_callback(up->conn, sockopt_cb);
    xmpp_handler_add(up->conn, stanza_handler, NULL, NULL, NULL, up);
    the_uplink = up;
    start_connect(up);
    *out = up;
    return 0;
}

void uplink_send(uplink *up, xmpp_stanza_t *st)
{
    if (up->state == UPLINK_UP) {
        xmpp_send(up->conn, st);
        watch_update(up);
        return;
    }
    if (up->state == UPLINK_STOPPED)
        return;
    {
        char *buf = NULL;
        size_t len = 0;
        if (xmpp_stanza_to_text(st, &buf, &len) == 0) {
            pending_push(up, g_strndup(buf, len));
            xmpp_free(up->ctx, buf);
        }
    }
}

void uplink_run_turn(uplink *up, void (*fn)(void *), void *userdata)
{
    gboolean live = up->state == UPLINK_UP;
    int before = live ? xmpp_conn_send_queue_len(up->conn) : 0;
    guint queued = up->pending.length;

    if (up->on_turn)
        up->on_turn(TRUE, up->turn_data);
    fn(userdata);
    if (!up->on_turn || up->on_turn(FALSE, up->turn_data))
        return;
    if (live && up->state == UPLINK_UP) {
        int n = xmpp_conn_send_queue_len(up->conn) - before;
        log_error(LOG_LINK, "withdrawing %d stanzas whose writes failed",
                  MAX(n, 0));
        withdraw(up, n);
    }
    /* What went to the down-queue meanwhile goes too. */
    while (up->pending.length > queued)
        g_free(g_queue_pop_tail(&up->pending));
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
    return up->pending.length;
}

static gboolean stop_timeout_cb(gpointer data)
{
    uplink *up = data;

    up->stop_timeout_id = 0;
    if (up->state != UPLINK_STOPPED) {
        log_warning(LOG_LINK, "the server did not close the stream in time; "
                              "closing the socket");
        up->state = UPLINK_STOPPED;
        watch_drop(up);
        tick_set(up, FALSE);
        if (up->stop_done) {
            void (*done)(void *) = up->stop_done;
            up->stop_done = NULL;
            done(up->stop_userdata);
        }
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
        /* Queues </stream:stream> behind any output still queued. */
        xmpp_disconnect(up->conn);
        tick_set(up, TRUE);
        watch_update(up);
        up->stop_timeout_id = g_timeout_add_seconds(5, stop_timeout_cb, up);
        return;
    }
    up->state = UPLINK_STOPPED;
    watch_drop(up);
    tick_set(up, FALSE);
    if (up->pending.length)
        log_warning(LOG_LINK,
                    "stopping with %u stanzas that never reached the server",
                    up->pending.length);
    up->stop_done = NULL;
    if (done)
        done(userdata);
}

void uplink_free(uplink *up)
{
    if (!up)
        return;
    if (the_uplink == up)
        the_uplink = NULL;
    if (up->retry_id)
        g_source_remove(up->retry_id);
    if (up->stop_timeout_id)
        g_source_remove(up->stop_timeout_id);
    tick_set(up, FALSE);
    watch_drop(up);
    if (up->conn) {
        /* Releasing a connected conn closes its socket; its disconnect
         * callback must find nothing to do. */
        up->state = UPLINK_STOPPED;
        up->stop_done = NULL;
        xmpp_conn_release(up->conn);
    }
    if (up->ctx)
        xmpp_ctx_free(up->ctx);
    g_queue_clear_full(&up->pending, g_free);
    g_free(up->jid);
    g_free(up->host);
    if (up->secret)
        memset(up->secret, 0, strlen(up->secret));
    g_free(up->secret);
    g_free(up);
    xmpp_shutdown();
}
