/* outq: the component link's output queue (outq.h). */
#include "outq.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "log.h"

/* One queued write: a whole stanza (head), a fanned-out one (head, the
 * escaped 'to', tail), or framing. */
typedef struct item {
    GBytes *head;
    char *to;
    GBytes *tail;
    gsize len; /* all parts */
    gsize off; /* written so far */
    gboolean frame;
} item;

struct outq {
    GQueue items;  /* item *, oldest first */
    gsize bytes;   /* unwritten bytes */
    guint stanzas; /* items that are stanzas */
    guint dropped; /* stanzas dropped since outq_take_dropped */
    guint queue_max;
    gboolean live;
};

static void item_free(item *it)
{
    g_bytes_unref(it->head);
    if (it->tail)
        g_bytes_unref(it->tail);
    g_free(it->to);
    g_free(it);
}

static item *item_new(GBytes *head, char *to, GBytes *tail, gboolean frame)
{
    item *it = g_new0(item, 1);

    it->head = head;
    it->to = to;
    it->tail = tail;
    it->len = g_bytes_get_size(head) + (to ? strlen(to) : 0) +
              (tail ? g_bytes_get_size(tail) : 0);
    it->frame = frame;
    return it;
}

outq *outq_new(guint queue_max)
{
    outq *q = g_new0(outq, 1);

    g_queue_init(&q->items);
    q->queue_max = queue_max;
    return q;
}

void outq_free(outq *q)
{
    if (!q)
        return;
    g_queue_clear_full(&q->items, (GDestroyNotify)item_free);
    g_free(q);
}

void outq_set_live(outq *q, gboolean live)
{
    q->live = live;
}

void outq_push_frame(outq *q, const char *text)
{
    item *it = item_new(g_bytes_new(text, strlen(text)), NULL, NULL, TRUE);
    guint at = 0;

    if (q->live)
        g_queue_push_tail(&q->items, it);
    else {
        for (GList *l = q->items.head; l && ((item *)l->data)->frame;
             l = l->next)
            at++;
        g_queue_push_nth(&q->items, it, (gint)at);
    }
    q->bytes += it->len;
}

/* Removes it (in the queue at l) and accounts for it. */
static void drop(outq *q, GList *l)
{
    item *it = l->data;

    g_queue_delete_link(&q->items, l);
    q->bytes -= it->len - it->off;
    if (!it->frame)
        q->stanzas--;
    item_free(it);
}

static void drop_oldest_stanza(outq *q)
{
    for (GList *l = q->items.head; l; l = l->next)
        if (!((item *)l->data)->frame) {
            drop(q, l);
            if (q->dropped++ == 0)
                log_warning(LOG_LINK,
                            "the queue of stanzas waiting for the link is "
                            "full (%u); dropping the oldest",
                            q->queue_max);
            return;
        }
}

void outq_push_stanza(outq *q, GBytes *head, char *to, GBytes *tail)
{
    item *it = item_new(head, to, tail, FALSE);

    if (!q->live) {
        if (q->queue_max == 0) {
            item_free(it);
            q->dropped++;
            return;
        }
        while (q->stanzas >= q->queue_max)
            drop_oldest_stanza(q);
    }
    g_queue_push_tail(&q->items, it);
    q->bytes += it->len;
    q->stanzas++;
}

gboolean outq_writable(const outq *q)
{
    const item *it = g_queue_peek_head((GQueue *)&q->items);

    return it && (it->frame || q->live);
}

/* Fills iov from the first unwritten byte on; at most max entries. */
static int gather(outq *q, struct iovec *iov, int max)
{
    int n = 0;

    for (GList *l = q->items.head; l && n <= max - 3; l = l->next) {
        item *it = l->data;
        gsize skip = it->off;
        const void *parts[3];
        gsize lens[3];
        int np = 0;

        if (!it->frame && !q->live)
            break;
        parts[np] = g_bytes_get_data(it->head, &lens[np]);
        np++;
        if (it->to) {
            parts[np] = it->to;
            lens[np++] = strlen(it->to);
        }
        if (it->tail) {
            parts[np] = g_bytes_get_data(it->tail, &lens[np]);
            np++;
        }
        for (int i = 0; i < np; i++) {
            if (skip >= lens[i]) {
                skip -= lens[i];
                continue;
            }
            iov[n].iov_base = (char *)parts[i] + skip;
            iov[n].iov_len = lens[i] - skip;
            skip = 0;
            n++;
        }
    }
    return n;
}

int outq_write(outq *q, int fd)
{
    struct iovec iov[64];
    struct msghdr msg = {0};

    while (fd >= 0 && outq_writable(q)) {
        ssize_t w;
        gsize left;

        msg.msg_iov = iov;
        msg.msg_iovlen = (size_t)gather(q, iov, G_N_ELEMENTS(iov));
        w = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
                       ? 0
                       : -1;
        left = (gsize)w;
        while (left) {
            item *it = g_queue_peek_head(&q->items);
            gsize rest = it->len - it->off;
            if (left < rest) {
                it->off += left;
                q->bytes -= left;
                break;
            }
            left -= rest;
            drop(q, q->items.head);
        }
    }
    return 0;
}

guint outq_withdraw_after(outq *q, guint keep)
{
    guint n = 0;

    while (q->items.length > keep) {
        drop(q, q->items.tail);
        n++;
    }
    return n;
}

guint outq_reset(outq *q)
{
    GList *l = q->items.head;

    while (l) {
        GList *next = l->next;
        item *it = l->data;
        if (it->frame)
            drop(q, l);
        else {
            q->bytes += it->off; /* all of it goes again */
            it->off = 0;
        }
        l = next;
    }
    while (q->stanzas > q->queue_max) {
        drop(q, q->items.head);
        q->dropped++;
    }
    return q->stanzas;
}

guint outq_length(const outq *q)
{
    return q->items.length;
}

guint outq_stanzas(const outq *q)
{
    return q->stanzas;
}

gsize outq_bytes(const outq *q)
{
    return q->bytes;
}

guint outq_take_dropped(outq *q)
{
    guint n = q->dropped;

    q->dropped = 0;
    return n;
}

guint outq_queue_max(const outq *q)
{
    return q->queue_max;
}
