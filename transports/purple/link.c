/* link: framed messages over the socketpair, with a non-blocking output
 * queue. */
#include "link.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include <glib-unix.h>

struct link_conn {
    int fd;
    guint in_id;
    guint out_id;
    proto_reader *reader;
    GQueue out;     /* GBytes, whole frames */
    gsize out_done; /* bytes of the head frame already written */
    gboolean closed;
    link_message_fn on_message;
    link_closed_fn on_closed;
    void *data;
};

static void link_close(link_conn *l, int status)
{
    if (l->closed)
        return;
    l->closed = TRUE;
    if (l->in_id)
        g_source_remove(l->in_id);
    if (l->out_id)
        g_source_remove(l->out_id);
    l->in_id = l->out_id = 0;
    l->on_closed(status, l->data);
}

/* Writes queued frames until done or the socket is full. Returns 1 when
 * output remains, 0 when the queue is empty, -1 after closing the link. */
static int link_write(link_conn *l)
{
    while (!g_queue_is_empty(&l->out)) {
        GBytes *frame = g_queue_peek_head(&l->out);
        gsize size;
        const guint8 *data = g_bytes_get_data(frame, &size);
        ssize_t n = write(l->fd, data + l->out_done, size - l->out_done);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 1;
            g_message("core link: write: %s", g_strerror(errno));
            link_close(l, errno == EPIPE || errno == ECONNRESET ? 0 : -1);
            return -1;
        }
        l->out_done += (gsize)n;
        if (l->out_done == size) {
            g_bytes_unref(g_queue_pop_head(&l->out));
            l->out_done = 0;
        }
    }
    return 0;
}

static gboolean on_writable(int fd, GIOCondition cond, gpointer data)
{
    link_conn *l = data;
    int r = link_write(l);

    if (r < 0)
        return G_SOURCE_REMOVE; /* link_close removed the id already */
    if (r == 0) {
        l->out_id = 0;
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static gboolean on_readable(int fd, GIOCondition cond, gpointer data)
{
    link_conn *l = data;
    guint8 buf[65536];
    int status = 1; /* 1: still open */

    for (;;) {
        ssize_t n = read(l->fd, buf, sizeof buf);

        if (n > 0) {
            proto_reader_feed(l->reader, buf, (gsize)n);
            continue;
        }
        if (n == 0) {
            status = 0;
        } else if (errno == EINTR) {
            continue;
        } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
            g_message("core link: read: %s", g_strerror(errno));
            status = errno == ECONNRESET ? 0 : -1;
        }
        break;
    }
    /* Frames that arrived before an EOF still count. */
    while (!l->closed) {
        enum proto_type t;
        GVariant *body = NULL;
        GError *err = NULL;
        int r = proto_reader_next(l->reader, &t, &body, &err);

        if (r == 0)
            break;
        if (r < 0) {
            g_warning("core link: %s", err->message);
            g_error_free(err);
            status = -1;
            break;
        }
        l->on_message(t, body, l->data);
        g_variant_unref(body);
    }
    if (l->closed)
        return G_SOURCE_REMOVE;
    if (status <= 0) {
        if (status == 0)
            g_message("core link: closed by the core");
        l->in_id = 0;
        link_close(l, status);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

link_conn *link_new(int fd, link_message_fn on_message,
                    link_closed_fn on_closed, void *data)
{
    link_conn *l = g_new0(link_conn, 1);

    g_unix_set_fd_nonblocking(fd, TRUE, NULL);
    l->fd = fd;
    l->reader = proto_reader_new();
    g_queue_init(&l->out);
    l->on_message = on_message;
    l->on_closed = on_closed;
    l->data = data;
    l->in_id = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, l);
    return l;
}

int link_send(link_conn *l, enum proto_type t, GVariant *body)
{
    GError *err = NULL;
    GBytes *frame;

    if (l->closed) {
        g_variant_unref(g_variant_ref_sink(body));
        return -1;
    }
    frame = proto_encode(t, body, &err);
    if (!frame) {
        g_warning("core link: %s", err->message);
        g_error_free(err);
        return -1;
    }
    g_queue_push_tail(&l->out, frame);
    if (l->out_id)
        return 0;
    if (link_write(l) < 0)
        return -1;
    if (!g_queue_is_empty(&l->out))
        l->out_id = g_unix_fd_add(l->fd, G_IO_OUT, on_writable, l);
    return 0;
}

int link_drain(link_conn *l, int timeout_ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    while (!l->closed && !g_queue_is_empty(&l->out)) {
        struct pollfd pfd = {.fd = l->fd, .events = POLLOUT};
        gint64 left = (end - g_get_monotonic_time()) / 1000;

        if (left <= 0)
            return -1;
        if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
            return -1;
        if (link_write(l) < 0)
            return -1;
    }
    return g_queue_is_empty(&l->out) ? 0 : -1;
}

void link_free(link_conn *l)
{
    if (!l)
        return;
    if (l->in_id)
        g_source_remove(l->in_id);
    if (l->out_id)
        g_source_remove(l->out_id);
    g_queue_clear_full(&l->out, (GDestroyNotify)g_bytes_unref);
    proto_reader_free(l->reader);
    close(l->fd);
    g_free(l);
}
