/* conn: one MSNP connection (see conn.h). */
#include "conn.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK 8192

struct conn {
    PurpleProxyConnectData *connecting;
    int fd;
    guint read_h, write_h;
    PurpleCircBuffer *out;
    msnp_parser *parser;
    guint trid;
    conn_cmd_fn on_cmd;
    conn_event_fn on_event;
    void *owner;
    guint busy;    /* nesting depth of our own callbacks */
    gboolean dead; /* conn_free() came during a callback */
    gboolean failed;
    guint fail_h; /* a deferred failure (a write failed inside a send) */
    char *fail_why;
};

static void really_free(conn *c)
{
    g_free(c->fail_why);
    purple_circ_buffer_destroy(c->out);
    msnp_parser_free(c->parser);
    g_free(c);
}

static void shut(conn *c)
{
    if (c->connecting)
        purple_proxy_connect_cancel(c->connecting);
    c->connecting = NULL;
    if (c->read_h)
        purple_input_remove(c->read_h);
    if (c->write_h)
        purple_input_remove(c->write_h);
    c->read_h = c->write_h = 0;
    if (c->fail_h)
        purple_timeout_remove(c->fail_h);
    c->fail_h = 0;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

void conn_free(conn *c)
{
    if (!c)
        return;
    shut(c);
    if (c->busy) {
        c->dead = TRUE;
        return;
    }
    really_free(c);
}

/* Reports a failure once, then stays quiet. */
static void fail(conn *c, const char *why)
{
    if (c->failed || c->dead)
        return;
    c->failed = TRUE;
    shut(c);
    c->busy++;
    c->on_event(c, why, c->owner);
    c->busy--;
    if (c->dead && !c->busy)
        really_free(c);
}

static void flush(conn *c);

static gboolean on_fail_later(gpointer data)
{
    conn *c = data;
    char *why = c->fail_why;

    c->fail_h = 0;
    c->fail_why = NULL;
    fail(c, why);
    g_free(why);
    return FALSE;
}

/* A write can fail inside the owner's own send call: the owner hears of it
 * from the main loop, never from inside conn_send(). */
static void fail_later(conn *c, const char *why)
{
    if (c->fail_h || c->failed)
        return;
    c->fail_why = g_strdup(why);
    if (c->write_h)
        purple_input_remove(c->write_h);
    c->write_h = 0;
    c->fail_h = purple_timeout_add(0, on_fail_later, c);
}

static void on_writable(gpointer data, gint fd, PurpleInputCondition cond)
{
    flush(data);
}

/* Writes what the kernel takes now; the rest waits for a write watch. */
static void flush(conn *c)
{
    gsize n;

    while (c->fd >= 0 && !c->fail_h &&
           (n = purple_circ_buffer_get_max_read(c->out)) > 0) {
        ssize_t w = write(c->fd, c->out->outptr, n);

        if (w < 0 && (errno == EAGAIN || errno == EINTR))
            break;
        if (w <= 0) {
            char *why = g_strdup_printf("write failed: %s",
                                        g_strerror(w < 0 ? errno : EPIPE));

            fail_later(c, why);
            g_free(why);
            return;
        }
        purple_circ_buffer_mark_read(c->out, (gsize)w);
    }
    if (c->fd < 0 || c->fail_h)
        return;
    if (c->out->bufused > 0 && !c->write_h)
        c->write_h =
            purple_input_add(c->fd, PURPLE_INPUT_WRITE, on_writable, c);
    else if (c->out->bufused == 0 && c->write_h) {
        purple_input_remove(c->write_h);
        c->write_h = 0;
    }
}

static void queue(conn *c, const char *data, gsize len)
{
    purple_circ_buffer_append(c->out, data, len);
    if (c->fd >= 0 && !c->write_h)
        flush(c);
}

void conn_send_raw(conn *c, const char *data, gsize len)
{
    queue(c, data, len);
}

guint conn_send(conn *c, const char *cmd, const char *args)
{
    guint trid = ++c->trid;
    char *line = g_strdup_printf("%s %u%s%s\r\n", cmd, trid, args ? " " : "",
                                 args ? args : "");

    queue(c, line, strlen(line));
    g_free(line);
    return trid;
}

guint conn_send_payload(conn *c, const char *cmd, const char *args,
                        const char *payload, gsize len)
{
    guint trid = ++c->trid;
    char *line = g_strdup_printf("%s %u %s%s%" G_GSIZE_FORMAT "\r\n", cmd, trid,
                                 args ? args : "", args ? " " : "", len);

    queue(c, line, strlen(line));
    queue(c, payload, len);
    g_free(line);
    return trid;
}

static const char *parse_error_text(int r)
{
    return r == MSNP_E_LINE ? "the server sent an overlong line"
                            : "the server sent an invalid payload length";
}

static void on_readable(gpointer data, gint fd, PurpleInputCondition cond)
{
    conn *c = data;
    char buf[READ_CHUNK];
    ssize_t n = read(c->fd, buf, sizeof buf);
    msnp_cmd *cmd;
    int r = 0;

    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        char *why = n == 0
                        ? g_strdup("the server closed the connection")
                        : g_strdup_printf("read failed: %s", g_strerror(errno));

        fail(c, why);
        g_free(why);
        return;
    }
    msnp_parser_feed(c->parser, buf, (gsize)n);
    c->busy++;
    while (!c->dead && !c->failed &&
           (r = msnp_parser_next(c->parser, &cmd)) > 0) {
        c->on_cmd(c, cmd, c->owner);
        msnp_cmd_free(cmd);
    }
    c->busy--;
    if (c->dead) {
        if (!c->busy)
            really_free(c);
        return;
    }
    if (r < 0)
        fail(c, parse_error_text(r));
}

static void on_connected(gpointer data, gint fd, const gchar *error)
{
    conn *c = data;

    c->connecting = NULL;
    if (fd < 0) {
        char *why = g_strdup_printf("could not connect: %s",
                                    error ? error : "unknown error");

        fail(c, why);
        g_free(why);
        return;
    }
    c->fd = fd;
    c->read_h = purple_input_add(fd, PURPLE_INPUT_READ, on_readable, c);
    c->busy++;
    c->on_event(c, NULL, c->owner);
    c->busy--;
    if (c->dead && !c->busy) {
        really_free(c);
        return;
    }
    flush(c);
}

conn *conn_new(PurpleAccount *acct, const char *host, int port,
               conn_cmd_fn on_cmd, conn_event_fn on_event, void *owner)
{
    conn *c = g_new0(conn, 1);

    c->fd = -1;
    c->out = purple_circ_buffer_new(0);
    c->parser = msnp_parser_new();
    c->on_cmd = on_cmd;
    c->on_event = on_event;
    c->owner = owner;
    c->connecting = purple_proxy_connect(c, acct, host, port, on_connected, c);
    if (!c->connecting) {
        really_free(c);
        return NULL;
    }
    return c;
}

gboolean conn_is_up(const conn *c)
{
    return c && c->fd >= 0 && !c->failed && !c->dead;
}
