/* channel: framed messages over the core–worker socketpair (channel.h). */
#include "channel.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>

/* One read per wakeup: what the reader holds is bounded by a frame plus
 * this. */
#define READ_CHUNK 65536

struct channel {
    int fd; /* -1 once closed */
    guint in_id, out_id, closed_id;
    proto_reader *reader;
    GQueue out;      /* GBytes, whole frames */
    gsize out_done;  /* bytes of the head frame already written */
    gsize queued;    /* bytes in out not yet written */
    gboolean waited; /* the queue waited for the socket since it was empty */
    channel_events ev;
    void *data;
    /* a close of our own making, reported from an idle */
    int status;
    char *why;
};

static void stop(channel *ch)
{
    if (ch->in_id)
        g_source_remove(ch->in_id);
    if (ch->out_id)
        g_source_remove(ch->out_id);
    ch->in_id = ch->out_id = 0;
    if (ch->fd >= 0)
        close(ch->fd);
    ch->fd = -1;
    g_queue_clear_full(&ch->out, (GDestroyNotify)g_bytes_unref);
    ch->out_done = ch->queued = 0;
}

/* Closes, and reports status and why to the owner. */
static void shut(channel *ch, int status, const char *why)
{
    if (ch->fd < 0)
        return;
    stop(ch);
    ch->ev.closed(ch, status, why, ch->data);
}

static gboolean report_closed(gpointer data)
{
    channel *ch = data;

    ch->closed_id = 0;
    ch->ev.closed(ch, ch->status, ch->why, ch->data);
    return G_SOURCE_REMOVE;
}

/* Closes now and reports from the next turn: for failures found inside
 * channel_send, whose caller does not expect its owner called back. */
static void shut_later(channel *ch, int status, const char *why)
{
    if (ch->fd < 0)
        return;
    stop(ch);
    ch->status = status;
    ch->why = g_strdup(why);
    ch->closed_id = g_idle_add(report_closed, ch);
}

/* The peer's close shows as these; anything else is an error. */
static int close_status(int err)
{
    return err == EPIPE || err == ECONNRESET ? 0 : -EIO;
}

/* Writes queued frames until done or the socket is full. Returns 1 when
 * output remains, 0 when the queue is empty, or a negative errno. */
static int write_some(channel *ch)
{
    while (!g_queue_is_empty(&ch->out)) {
        GBytes *frame = g_queue_peek_head(&ch->out);
        gsize size;
        const guint8 *p = g_bytes_get_data(frame, &size);
        ssize_t n =
            send(ch->fd, p + ch->out_done, size - ch->out_done, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 1;
            return -errno;
        }
        ch->out_done += (gsize)n;
        ch->queued -= (gsize)n;
        if (ch->out_done == size) {
            g_bytes_unref(g_queue_pop_head(&ch->out));
            ch->out_done = 0;
        }
    }
    return 0;
}

static void write_failed(channel *ch, int rc, gboolean later)
{
    char *why = g_strdup_printf("write: %s", g_strerror(-rc));

    if (later)
        shut_later(ch, close_status(-rc), why);
    else
        shut(ch, close_status(-rc), why);
    g_free(why);
}

static gboolean on_writable(int fd, GIOCondition cond, gpointer data)
{
    channel *ch = data;
    int rc = write_some(ch);

    if (rc > 0)
        return G_SOURCE_CONTINUE;
    ch->out_id = 0;
    if (rc < 0) {
        write_failed(ch, rc, FALSE);
        return G_SOURCE_REMOVE;
    }
    if (ch->waited) {
        ch->waited = FALSE;
        if (ch->ev.drained)
            ch->ev.drained(ch, ch->data);
    }
    return G_SOURCE_REMOVE;
}

typedef struct dispatch_args {
    channel *ch;
    char *broken; /* why the stream cannot be trusted, or NULL */
} dispatch_args;

static void dispatch(void *arg)
{
    dispatch_args *a = arg;
    channel *ch = a->ch;

    while (ch->fd >= 0) {
        enum proto_type t;
        GVariant *body = NULL;
        GError *err = NULL;
        int r = proto_reader_next(ch->reader, &t, &body, &err);

        if (r == 0)
            return;
        if (r < 0) {
            a->broken = g_strdup(err->message);
            g_error_free(err);
            return;
        }
        ch->ev.message(ch, t, body, ch->data);
        g_variant_unref(body);
    }
}

static gboolean on_readable(int fd, GIOCondition cond, gpointer data)
{
    channel *ch = data;
    guint8 buf[READ_CHUNK];
    dispatch_args a = {ch, NULL};
    ssize_t n;

    do
        n = read(ch->fd, buf, sizeof buf);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return G_SOURCE_CONTINUE;
    if (n < 0) {
        int err = errno;
        char *why = g_strdup_printf("read: %s", g_strerror(err));

        shut(ch, close_status(err), why);
        g_free(why);
        return G_SOURCE_REMOVE;
    }
    if (n == 0) {
        shut(ch, 0, "closed by the peer");
        return G_SOURCE_REMOVE;
    }
    proto_reader_feed(ch->reader, buf, (gsize)n);
    if (ch->ev.turn)
        ch->ev.turn(dispatch, &a, ch->data);
    else
        dispatch(&a);
    if (a.broken) {
        shut(ch, -EPROTO, a.broken);
        g_free(a.broken);
    }
    /* Closed (by the stream or by a callback): stop() removed this
     * source already. */
    return ch->fd < 0 ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

channel *channel_new(int fd, const channel_events *events, void *data)
{
    channel *ch = g_new0(channel, 1);

    g_unix_set_fd_nonblocking(fd, TRUE, NULL);
    ch->fd = fd;
    ch->reader = proto_reader_new();
    g_queue_init(&ch->out);
    ch->ev = *events;
    ch->data = data;
    ch->in_id =
        g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, ch);
    return ch;
}

int channel_send(channel *ch, enum proto_type t, GVariant *body)
{
    GBytes *frame;
    int rc;

    if (ch->fd < 0) {
        g_variant_unref(g_variant_ref_sink(body));
        return -EPIPE;
    }
    if (ch->queued >= CHANNEL_QUEUE_MAX) {
        g_variant_unref(g_variant_ref_sink(body));
        return -ENOBUFS;
    }
    frame = proto_encode(t, body, NULL);
    if (!frame)
        return -EINVAL;
    ch->queued += g_bytes_get_size(frame);
    g_queue_push_tail(&ch->out, frame);
    if (ch->out_id)
        return 0;
    rc = write_some(ch);
    if (rc < 0) {
        write_failed(ch, rc, TRUE);
        return 0; /* queued; lost with the channel, as anything queued */
    }
    if (rc > 0) {
        ch->waited = TRUE;
        ch->out_id = g_unix_fd_add(ch->fd, G_IO_OUT, on_writable, ch);
    }
    return 0;
}

gsize channel_queued(const channel *ch)
{
    return ch->queued;
}

gboolean channel_is_open(const channel *ch)
{
    return ch->fd >= 0;
}

int channel_flush(channel *ch, int timeout_ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    while (ch->fd >= 0 && !g_queue_is_empty(&ch->out)) {
        struct pollfd pfd = {.fd = ch->fd, .events = POLLOUT};
        gint64 left = (end - g_get_monotonic_time()) / 1000;
        int rc;

        if (left <= 0)
            return -ETIMEDOUT;
        if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
            return -errno;
        rc = write_some(ch);
        if (rc < 0) {
            stop(ch);
            return -EPIPE;
        }
    }
    return ch->fd < 0 ? -EPIPE : 0;
}

void channel_close(channel *ch)
{
    stop(ch);
}

void channel_free(channel *ch)
{
    if (!ch)
        return;
    stop(ch);
    if (ch->closed_id)
        g_source_remove(ch->closed_id);
    g_free(ch->why);
    proto_reader_free(ch->reader);
    g_free(ch);
}
