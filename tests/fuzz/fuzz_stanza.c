/* fuzz_stanza: libFuzzer target for what the server sends on the link:
 * bytes -> the bounded stream parser (component/stream.c) -> the router
 * (component/router.c) over a fresh store in a temp dir, with an uplink
 * that never connects (its output is dropped).
 *
 * The first byte steers: bits 0-5 the size of the reads (1 to 64 bytes),
 * bit 6 suspends the parser after every stanza (back-pressure) and resumes
 * it, bit 7 leaves out the stream header the target otherwise puts first.
 * The bytes are parsed twice: whole, and in reads of that size. Both give
 * the same stanzas, refusals and end (unless one hit the bound on a single
 * token or stanza, which depends on where reads end: then one is a prefix
 * of the other); every stanza handed on is within the limits; a broken
 * stream names its condition and stays broken. The second pass hands each
 * stanza to the router. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "config.h"
#include "log.h"
#include "router.h"
#include "store.h"
#include "stream.h"
#include "uplink.h"
#include "xmltext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADER                                                                 \
    "<?xml version='1.0'?><stream:stream xmlns:stream="                        \
    "'http://etherx.jabber.org/streams' xmlns='jabber:component:accept' "      \
    "from='groups.localhost' id='fuzz'>"

/* Small, so that inputs of a few KiB reach every limit. */
static const stream_limits limits = {
    .stanza_size = 2048,
    .elements = 24,
    .depth = 6,
    .attributes = 8,
    .attribute_size = 256,
};

typedef struct pass {
    stream_parser *p;
    GPtrArray *events; /* "open ID", "stanza TEXT", "refused WHY TEXT", ... */
    gboolean suspend;
    router *r; /* NULL: parse only */
} pass;

/* One uplink for the whole run: it starts a connection that the fuzzer
 * never lets proceed (no main loop runs), so it stays down. */
static uplink *up;
static char *dir;

static char *text_of(xmpp_stanza_t *st)
{
    char *buf = NULL, *out;
    size_t len = 0;

    if (xmpp_stanza_to_text(st, &buf, &len) != 0)
        abort();
    out = g_strndup(buf, len);
    xmpp_free(xmpp_stanza_get_context(st), buf);
    return out;
}

/* Depth, element count, attributes and their sizes of a stanza handed on
 * are within the limits. */
static void check_tree(xmpp_stanza_t *st, guint level, guint *elements)
{
    const char *attrs[2 * 64];
    guint counted = 0;
    int n;

    if (!xmpp_stanza_is_tag(st))
        return;
    if (level > limits.depth || ++*elements > limits.elements ||
        xmpp_stanza_get_attribute_count(st) > (int)G_N_ELEMENTS(attrs) / 2)
        abort();
    n = xmpp_stanza_get_attributes(st, attrs, G_N_ELEMENTS(attrs));
    for (int i = 0; i < n; i += 2) {
        /* libstrophe keeps the namespace as an attribute; the limit is on
         * what the element carried. */
        if (strcmp(attrs[i], "xmlns") != 0)
            counted++;
        if (xmltext_escaped_len(attrs[i + 1], strlen(attrs[i + 1])) >
            limits.attribute_size)
            abort();
    }
    if (counted > limits.attributes)
        abort();
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(st); c;
         c = xmpp_stanza_get_next(c))
        check_tree(c, level + 1, elements);
}

static void on_open(void *ud, const char *id)
{
    g_ptr_array_add(((pass *)ud)->events, g_strconcat("open ", id, NULL));
}

static void on_stanza(void *ud, xmpp_stanza_t *st)
{
    pass *ps = ud;
    char *text = text_of(st);
    guint elements = 0;

    check_tree(st, 1, &elements);
    g_ptr_array_add(ps->events, g_strconcat("stanza ", text, NULL));
    g_free(text);
    if (ps->r)
        router_on_stanza(up, st, ps->r);
    if (ps->suspend)
        stream_parser_suspend(ps->p);
}

static void on_refused(void *ud, xmpp_stanza_t *stub, const char *why)
{
    char *text = text_of(stub);
    guint elements = 0;

    /* The stub is a name and four attributes, no children. */
    check_tree(stub, 1, &elements);
    if (elements != 1 || !why)
        abort();
    g_ptr_array_add(((pass *)ud)->events,
                    g_strconcat("refused ", why, " ", text, NULL));
    g_free(text);
}

static void on_close(void *ud)
{
    g_ptr_array_add(((pass *)ud)->events, g_strdup("close"));
}

static const stream_cbs cbs = {on_open, on_stanza, on_refused, on_close};

/* The parser's answer is 0 with no condition, or -1 with one and a
 * reason. */
static int checked(const stream_parser *p, int rc)
{
    if (rc == 0 ? stream_parser_condition(p) != NULL
                : rc != -1 || !stream_parser_condition(p) ||
                      !stream_parser_reason(p))
        abort();
    return rc;
}

/* Feeds data in reads of step bytes (0: at once); resumes after each
 * suspension. Returns the last answer. */
static int feed(pass *ps, const uint8_t *data, size_t size, size_t step)
{
    int rc = 0;

    for (size_t off = 0; off < size && rc == 0;) {
        size_t n = step ? MIN(step, size - off) : size;

        rc = checked(ps->p,
                     stream_parser_feed(ps->p, (const char *)data + off, n));
        off += n;
        while (rc == 0 && stream_parser_suspended(ps->p))
            rc = checked(ps->p, stream_parser_resume(ps->p));
    }
    if (rc == -1) {
        /* Broken stays broken. */
        if (stream_parser_feed(ps->p, "<a/>", 4) != -1)
            abort();
        g_ptr_array_add(
            ps->events,
            g_strconcat("broken ", stream_parser_condition(ps->p), NULL));
    }
    return rc;
}

static void run_pass(pass *ps, gboolean header, const uint8_t *data,
                     size_t size, size_t step)
{
    ps->events = g_ptr_array_new_with_free_func(g_free);
    ps->p = stream_parser_new(uplink_ctx(up), &limits, &cbs, ps);
    if (!header || feed(ps, (const uint8_t *)HEADER, strlen(HEADER), 0) == 0)
        feed(ps, data, size, step);
    stream_parser_free(ps->p);
}

/* a's events are b's first ones. */
static gboolean is_prefix(GPtrArray *a, GPtrArray *b)
{
    if (a->len > b->len)
        return FALSE;
    for (guint i = 0; i < a->len; i++)
        if (strcmp(g_ptr_array_index(a, i), g_ptr_array_index(b, i)) != 0)
            return FALSE;
    return TRUE;
}

static gboolean hit_token_bound(GPtrArray *events)
{
    return events->len > 0 && strcmp(g_ptr_array_index(events, events->len - 1),
                                     "broken policy-violation") == 0;
}

static void compare(GPtrArray *whole, GPtrArray *pieces)
{
    if (hit_token_bound(whole) || hit_token_bound(pieces)) {
        /* Without its last event ("broken ..."), the one that stopped is
         * a prefix of the other. */
        GPtrArray *a = hit_token_bound(whole) ? whole : pieces;
        GPtrArray *b = a == whole ? pieces : whole;

        g_ptr_array_set_size(a, a->len - 1);
        if (!is_prefix(a, b))
            abort();
    } else if (whole->len != pieces->len || !is_prefix(whole, pieces)) {
        for (guint i = 0; i < MAX(whole->len, pieces->len); i++)
            fprintf(stderr, "%u: whole %s\n   pieces %s\n", i,
                    i < whole->len ? (char *)whole->pdata[i] : "-",
                    i < pieces->len ? (char *)pieces->pdata[i] : "-");
        abort();
    }
}

static void remove_store(void)
{
    static const char *const files[] = {"data.mdb", "lock.mdb"};

    for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
        char *path = g_build_filename(dir, files[i], NULL);

        g_unlink(path);
        g_free(path);
    }
}

static void cleanup(void)
{
    uplink_free(up);
    remove_store();
    g_rmdir(dir);
    g_free(dir);
}

static void setup(void)
{
    const uplink_params params = {
        .jid = "groups.localhost",
        .host = "127.0.0.1",
        .port = 1,
        .secret = "fuzz",
    };
    /* tmpfs where there is one: the store syncs every write. */
    char *tmpl = g_build_filename(g_file_test("/dev/shm", G_FILE_TEST_IS_DIR)
                                      ? "/dev/shm"
                                      : g_get_tmp_dir(),
                                  "fuzz_stanza-XXXXXX", NULL);

    dir = g_mkdtemp(tmpl);
    if (!dir || uplink_new(&params, NULL, NULL, NULL, &up) != 0)
        abort();
    /* Quiet: every stanza would log a line. */
    for (int a = 0; a < LOG_AREA_COUNT; a++)
        log_threshold[a] = LOG_ERROR;
    atexit(cleanup);
}

/* A fresh store and router for each input, so that a crash replays from
 * its input alone. */
static router *router_open(store **st, config **cfg)
{
    char *text = g_strdup_printf("[component]\njid = groups.localhost\n"
                                 "host = 127.0.0.1\nport = 1\nsecret = fuzz\n"
                                 "[storage]\npath = %s\n"
                                 "[service]\nadmins = admin@localhost;\n",
                                 dir);
    GPtrArray *problems = g_ptr_array_new_with_free_func(g_free);
    GError *err = NULL;
    router *r = NULL;

    if (config_load_data("fuzz.ini", text, strlen(text), cfg, problems) != 0 ||
        store_open(dir, 0, st, &err) != 0 ||
        router_new(*cfg, *st, &r, &err) != 0)
        abort();
    g_ptr_array_unref(problems);
    g_free(text);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pass whole = {0}, pieces = {0};
    gboolean header;
    store *st = NULL;
    config *cfg = NULL;

    if (!up)
        setup();
    if (size == 0)
        return 0;
    header = !(data[0] & 0x80);
    run_pass(&whole, header, data + 1, size - 1, 0);
    pieces.suspend = (data[0] & 0x40) != 0;
    pieces.r = router_open(&st, &cfg);
    run_pass(&pieces, header, data + 1, size - 1, (data[0] & 0x3f) + 1);
    router_free(pieces.r);
    store_close(st);
    config_free(cfg);
    remove_store();
    compare(whole.events, pieces.events);
    g_ptr_array_unref(whole.events);
    g_ptr_array_unref(pieces.events);
    return 0;
}
