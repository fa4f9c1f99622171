/* outq: the component link's output queue (outq.h). */
#include "outq.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "log.h"
#include "xmltext.h"

/* At most this many pieces per sendmsg() (Linux's UIO_MAXIOV): a turn's
 * fan-out leaves in one or a few calls, not one per stanza. */
#define OUTQ_IOV 1024

struct outq_text {
    guint refs;
    gsize len; /* bytes of text */
    gsize at;  /* where the recipient goes */
    char text[];
};

/* One queued write: a whole stanza or framing (whole), or a fanned-out
 * copy (shared, with its escaped recipient inline). The queue's link is
 * part of the item: one allocation per copy. */
typedef struct item {
    GList link;
    GBytes *whole;
    outq_text *shared;
    gsize len; /* all parts */
    gsize off; /* written so far */
    gboolean frame;
    gsize to_len;
    char to[]; /* the escaped recipient of a copy */
} item;

struct outq {
    GQueue items;  /* item *, oldest first */
    gsize bytes;   /* unwritten bytes */
    guint stanzas; /* items that are stanzas */
    guint dropped; /* stanzas dropped since outq_take_dropped */
    guint queue_max;
    gboolean live;
};

outq_text *outq_text_new(const char *text, gsize len, gsize at)
{
    outq_text *t = g_malloc(sizeof(outq_text) + len);

    t->refs = 1;
    t->len = len;
    t->at = MIN(at, len);
    memcpy(t->text, text, len);
    return t;
}

outq_text *outq_text_ref(outq_text *t)
{
    t->refs++;
    return t;
}

void outq_text_unref(outq_text *t)
{
    if (t && --t->refs == 0)
        g_free(t);
}

gsize outq_text_len(const outq_text *t)
{
    return t->len;
}

static void item_free(item *it)
{
    if (it->whole)
        g_bytes_unref(it->whole);
    outq_text_unref(it->shared);
    g_free(it);
}

static item *item_new_whole(GBytes *whole, gboolean frame)
{
    item *it = g_new0(item, 1);

    it->link.data = it;
    it->whole = whole;
    it->len = g_bytes_get_size(whole);
    it->frame = frame;
    return it;
}

static item *item_new_copy(outq_text *t, const char *to)
{
    gsize to_len = xmltext_escaped_len(to, strlen(to));
    item *it = g_malloc(sizeof(item) + to_len + 1);
    char *w = it->to;

    memset(it, 0, sizeof(item));
    it->link.data = it;
    it->shared = outq_text_ref(t);
    for (const char *c = to; *c; c++) {
        const char *e = xmltext_entity(*c);
        if (e) {
            gsize n = strlen(e);
            memcpy(w, e, n);
            w += n;
        } else
            *w++ = *c;
    }
    *w = '\0';
    it->to_len = to_len;
    it->len = t->len + to_len;
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
    while (q->items.head) {
        item *it = q->items.head->data;
        g_queue_unlink(&q->items, &it->link);
        item_free(it);
    }
    g_free(q);
}

void outq_set_live(outq *q, gboolean live)
{
    q->live = live;
}

void outq_push_frame(outq *q, const char *text)
{
    item *it = item_new_whole(g_bytes_new(text, strlen(text)), TRUE);
    GList *l = q->items.head;

    if (!q->live)
        while (l && ((item *)l->data)->frame)
            l = l->next;
    else
        l = NULL;
    if (l)
        g_queue_insert_before_link(&q->items, l, &it->link);
    else
        g_queue_push_tail_link(&q->items, &it->link);
    q->bytes += it->len;
}

/* Removes it (in the queue at l) and accounts for it. */
static void drop(outq *q, GList *l)
{
    item *it = l->data;

    g_queue_unlink(&q->items, l);
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

static void push(outq *q, item *it)
{
    if (!q->live) {
        if (q->queue_max == 0) {
            item_free(it);
            q->dropped++;
            return;
        }
        while (q->stanzas >= q->queue_max)
            drop_oldest_stanza(q);
    }
    g_queue_push_tail_link(&q->items, &it->link);
    q->bytes += it->len;
    q->stanzas++;
}

void outq_push_stanza(outq *q, GBytes *text)
{
    push(q, item_new_whole(text, FALSE));
}

void outq_push_copy(outq *q, outq_text *t, const char *to)
{
    push(q, item_new_copy(t, to));
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
        if (it->whole) {
            parts[np] = g_bytes_get_data(it->whole, &lens[np]);
            np++;
        } else {
            parts[0] = it->shared->text;
            lens[0] = it->shared->at;
            parts[1] = it->to;
            lens[1] = it->to_len;
            parts[2] = it->shared->text + it->shared->at;
            lens[2] = it->shared->len - it->shared->at;
            np = 3;
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
    struct iovec iov[OUTQ_IOV];
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
