/* Tests for stream: the link's bounded XML stream parser. */
#include <string.h>

#include "stream.h"
#include "xmltext.h"

#define HEADER                                                                 \
    "<?xml version='1.0'?><stream:stream xmlns:stream="                        \
    "'http://etherx.jabber.org/streams' xmlns='jabber:component:accept' "      \
    "from='groups.localhost' id='abc123'>"

typedef struct seen {
    char *id;
    GPtrArray *stanzas; /* serialised */
    GPtrArray *refused; /* "why|serialised stub" */
    int closed;
    gboolean suspend_each;
    stream_parser *p;
} seen;

static const stream_limits limits = {
    .stanza_size = 4096,
    .elements = 16,
    .depth = 6,
    .attributes = 8,
    .attribute_size = 256,
};

static char *text_of(xmpp_stanza_t *st)
{
    char *buf = NULL, *out;
    size_t len = 0;

    g_assert_cmpint(xmpp_stanza_to_text(st, &buf, &len), ==, 0);
    out = g_strndup(buf, len);
    xmpp_free(xmpp_stanza_get_context(st), buf);
    return out;
}

static void on_open(void *ud, const char *id)
{
    g_free(((seen *)ud)->id);
    ((seen *)ud)->id = g_strdup(id);
}

static void on_stanza(void *ud, xmpp_stanza_t *st)
{
    seen *s = ud;

    g_ptr_array_add(s->stanzas, text_of(st));
    if (s->suspend_each)
        stream_parser_suspend(s->p);
}

static void on_refused(void *ud, xmpp_stanza_t *stub, const char *why)
{
    char *t = text_of(stub);

    g_ptr_array_add(((seen *)ud)->refused, g_strconcat(why, "|", t, NULL));
    g_free(t);
}

static void on_close(void *ud)
{
    ((seen *)ud)->closed++;
}

static const stream_cbs cbs = {on_open, on_stanza, on_refused, on_close};

typedef struct fixture {
    xmpp_ctx_t *ctx;
    seen s;
} fixture;

static void setup(fixture *f, gconstpointer data)
{
    f->ctx = xmpp_ctx_new(NULL, NULL);
    f->s.stanzas = g_ptr_array_new_with_free_func(g_free);
    f->s.refused = g_ptr_array_new_with_free_func(g_free);
    f->s.p = stream_parser_new(f->ctx, &limits, &cbs, &f->s);
}

static void teardown(fixture *f, gconstpointer data)
{
    stream_parser_free(f->s.p);
    g_ptr_array_unref(f->s.stanzas);
    g_ptr_array_unref(f->s.refused);
    g_free(f->s.id);
    xmpp_ctx_free(f->ctx);
}

static int feed(fixture *f, const char *text)
{
    return stream_parser_feed(f->s.p, text, strlen(text));
}

static void a_stanza_is_built_with_its_namespaces_attributes_and_text(
    fixture *f, gconstpointer data)
{
    const char *st;

    g_assert_cmpint(feed(f, HEADER), ==, 0);
    g_assert_cmpstr(f->s.id, ==, "abc123");
    /* fed one byte at a time: the parser keeps partial tokens */
    st = "<message from='a@b/c' to='r@groups.localhost' type='groupchat' "
         "xml:lang='en'><body>x &amp; &lt;y&gt; \"q\"</body>"
         "<x xmlns='urn:ex'><i a='1'/></x></message>";
    for (const char *c = st; *c; c++)
        g_assert_cmpint(stream_parser_feed(f->s.p, c, 1), ==, 0);
    g_assert_cmpuint(f->s.stanzas->len, ==, 1);
    st = g_ptr_array_index(f->s.stanzas, 0);
    g_assert_nonnull(strstr(st, "xml:lang=\"en\""));
    g_assert_nonnull(strstr(st, "xmlns=\"jabber:component:accept\""));
    g_assert_nonnull(strstr(st, "x &amp; &lt;y&gt;"));
    g_assert_nonnull(strstr(st, "<x xmlns=\"urn:ex\"><i a=\"1\""));
    g_assert_cmpint(feed(f, " \n<iq type='get' id='1'/></stream:stream>"), ==,
                    0);
    g_assert_cmpuint(f->s.stanzas->len, ==, 2);
    g_assert_cmpint(f->s.closed, ==, 1);
    g_assert_null(stream_parser_condition(f->s.p));
}

/* Stanzas over a limit are skipped and reported with a stub; the stream
 * goes on. */
static const struct {
    const char *name;
    const char *why;
} over[] = {
    {"deep", "elements nested too deep"},
    {"elements", "too many elements"},
    {"attributes", "too many attributes"},
    {"attribute", "an attribute value is too long"},
    {"namespace", "a namespace is too long"},
    {"text", "too large"},
    {"quotes", "too large"},
};

static char *over_limit(const char *name)
{
    GString *s = g_string_new(
        "<message from='a@b/c' to='r@groups.localhost' id='m1'>");

    if (strcmp(name, "deep") == 0) {
        for (int i = 0; i < 100000; i++)
            g_string_append(s, "<a>");
        for (int i = 0; i < 100000; i++)
            g_string_append(s, "</a>");
    } else if (strcmp(name, "elements") == 0) {
        for (int i = 0; i < 17; i++)
            g_string_append(s, "<a/>");
    } else if (strcmp(name, "attributes") == 0) {
        g_string_append(s, "<a");
        for (int i = 0; i < 9; i++)
            g_string_append_printf(s, " a%d='v'", i);
        g_string_append(s, "/>");
    } else if (strcmp(name, "attribute") == 0) {
        g_string_append(s, "<a v='");
        for (int i = 0; i < 50; i++)
            g_string_append(s, "&quot;"); /* 50 bytes raw, 300 escaped */
        g_string_append(s, "'/>");
    } else if (strcmp(name, "namespace") == 0) {
        g_string_append(s, "<a xmlns='urn:");
        for (int i = 0; i < 70; i++)
            g_string_append(s, "&gt;"); /* 74 bytes raw, 284 escaped */
        g_string_append(s, "'/>");
    } else if (strcmp(name, "text") == 0) {
        g_string_append(s, "<body>");
        for (int i = 0; i < 5000; i++)
            g_string_append_c(s, 'x');
        g_string_append(s, "</body>");
    } else {
        /* 700 quotes: 700 bytes as sent raw, 4200 once escaped */
        g_string_append(s, "<body>");
        for (int i = 0; i < 700; i++)
            g_string_append_c(s, '"');
        g_string_append(s, "</body>");
    }
    g_string_append(s, "</message>");
    return g_string_free(s, FALSE);
}

static void a_stanza_over_a_limit_is_skipped_and_its_sender_can_be_told(
    fixture *f, gconstpointer data)
{
    for (gsize i = 0; i < G_N_ELEMENTS(over); i++) {
        char *st = over_limit(over[i].name);
        const char *r;

        g_ptr_array_set_size(f->s.refused, 0);
        g_ptr_array_set_size(f->s.stanzas, 0);
        if (i == 0)
            g_assert_cmpint(feed(f, HEADER), ==, 0);
        g_assert_cmpint(feed(f, st), ==, 0);
        g_assert_cmpint(feed(f, "<presence from='a@b/c'/>"), ==, 0);
        g_test_message("%s", over[i].name);
        g_assert_cmpuint(f->s.refused->len, ==, 1);
        r = g_ptr_array_index(f->s.refused, 0);
        g_assert_true(g_str_has_prefix(r, over[i].why));
        g_assert_nonnull(strstr(r, "id=\"m1\""));
        g_assert_nonnull(strstr(r, "from=\"a@b/c\""));
        g_assert_null(strstr(r, "<a")); /* nothing of the content */
        /* the stanza after it is parsed as usual */
        g_assert_cmpuint(f->s.stanzas->len, ==, 1);
        g_free(st);
    }
    g_assert_null(stream_parser_condition(f->s.p));
}

/* A stanza whose own namespace is over the bound is refused, and its stub
 * goes without that namespace (found by fuzz_stanza). */
static void a_stanza_with_a_long_namespace_is_refused_without_it(
    fixture *f, gconstpointer data)
{
    GString *s = g_string_new("<message xmlns='urn:");
    const char *r;

    for (int i = 0; i < 70; i++)
        g_string_append(s, "&gt;"); /* 284 bytes escaped */
    g_string_append(s, "' from='a@b/c' id='m1'><body>x</body></message>");
    g_assert_cmpint(feed(f, HEADER), ==, 0);
    g_assert_cmpint(feed(f, s->str), ==, 0);
    g_assert_cmpuint(f->s.refused->len, ==, 1);
    r = g_ptr_array_index(f->s.refused, 0);
    g_assert_true(g_str_has_prefix(r, "a namespace is too long"));
    g_assert_nonnull(strstr(r, "id=\"m1\""));
    g_assert_null(strstr(r, "urn:"));
    g_assert_null(stream_parser_condition(f->s.p));
    g_string_free(s, TRUE);
}

/* What a conforming server never sends breaks the stream, with the
 * condition RFC 6120 §4.9.3 names. */
static const struct {
    const char *input;
    const char *cond;
} bad[] = {
    {"<!-- hi -->", "restricted-xml"},
    {"<?pi x?>", "restricted-xml"},
    {"<message><!-- c --></message>", "restricted-xml"},
    {"<message>&foo;</message>", "not-well-formed"},
    {"<message>\xff\xfe</message>", "not-well-formed"},
    {"<message><a></b></message>", "not-well-formed"},
};

static void restricted_or_broken_xml_breaks_the_stream(fixture *f,
                                                       gconstpointer data)
{
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        stream_parser *p = stream_parser_new(f->ctx, &limits, &cbs, &f->s);

        g_assert_cmpint(stream_parser_feed(p, HEADER, strlen(HEADER)), ==, 0);
        g_assert_cmpint(
            stream_parser_feed(p, bad[i].input, strlen(bad[i].input)), ==, -1);
        g_assert_cmpstr(stream_parser_condition(p), ==, bad[i].cond);
        g_assert_nonnull(stream_parser_reason(p));
        /* and stays broken */
        g_assert_cmpint(stream_parser_feed(p, "<a/>", 4), ==, -1);
        stream_parser_free(p);
    }
}

static void a_dtd_with_entities_is_refused_before_any_expansion(
    fixture *f, gconstpointer data)
{
    const char *lol = "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol "
                      "'lol'><!ENTITY lol2 '&lol;&lol;&lol;&lol;'>]>"
                      "<stream:stream xmlns:stream="
                      "'http://etherx.jabber.org/streams'>&lol2;";

    g_assert_cmpint(feed(f, lol), ==, -1);
    g_assert_cmpstr(stream_parser_condition(f->s.p), ==, "restricted-xml");
    g_assert_null(f->s.id);
}

static void a_huge_token_breaks_the_stream_before_it_is_held_whole(
    fixture *f, gconstpointer data)
{
    /* a start tag with a million attributes: expat must hold a whole tag,
     * so a tag over 8 times the stanza limit ends the stream */
    GString *s = g_string_new("<message");
    int rc = 0;

    g_assert_cmpint(feed(f, HEADER), ==, 0);
    g_assert_cmpint(feed(f, s->str), ==, 0);
    for (int i = 0; i < 1000000 && rc == 0; i++) {
        char a[32];
        int n = g_snprintf(a, sizeof(a), " a%d='1'", i);
        rc = stream_parser_feed(f->s.p, a, (gsize)n);
    }
    g_assert_cmpint(rc, ==, -1);
    g_assert_cmpstr(stream_parser_condition(f->s.p), ==, "policy-violation");
    g_string_free(s, TRUE);
}

static void a_million_entities_in_a_text_cost_linear_time(fixture *f,
                                                          gconstpointer data)
{
    GString *s = g_string_new("<message id='big'><body>");
    gint64 t0;

    for (int i = 0; i < 1000000; i++)
        g_string_append(s, "&lt;");
    g_string_append(s, "</body></message><message id='next'/>");
    g_assert_cmpint(feed(f, HEADER), ==, 0);
    t0 = g_get_monotonic_time();
    g_assert_cmpint(feed(f, s->str), ==, 0);
    /* a figure, not an assertion: the suite asserts no timing */
    g_test_message("1 M entities: %.1f ms",
                   (g_get_monotonic_time() - t0) / 1000.0);
    g_assert_cmpuint(f->s.refused->len, ==, 1);
    g_assert_cmpuint(f->s.stanzas->len, ==, 1);
    g_string_free(s, TRUE);
}

static void a_suspended_parser_keeps_the_rest_until_resumed(fixture *f,
                                                            gconstpointer data)
{
    GString *s = g_string_new(HEADER);

    for (int i = 0; i < 5; i++)
        g_string_append_printf(s, "<iq id='%d'/>", i);
    f->s.suspend_each = TRUE;
    g_assert_cmpint(feed(f, s->str), ==, 0);
    g_assert_cmpuint(f->s.stanzas->len, ==, 1);
    g_assert_true(stream_parser_suspended(f->s.p));
    /* more input while suspended is held, not parsed */
    g_assert_cmpint(feed(f, "<iq id='5'/>"), ==, 0);
    g_assert_cmpuint(f->s.stanzas->len, ==, 1);
    for (int i = 2; i <= 6; i++) {
        g_assert_cmpint(stream_parser_resume(f->s.p), ==, 0);
        g_assert_cmpuint(f->s.stanzas->len, ==, (guint)i);
    }
    f->s.suspend_each = FALSE;
    g_assert_cmpint(stream_parser_resume(f->s.p), ==, 0);
    g_assert_false(stream_parser_suspended(f->s.p));
    g_assert_cmpuint(f->s.stanzas->len, ==, 6);
    g_assert_nonnull(strstr(g_ptr_array_index(f->s.stanzas, 5), "id=\"5\""));
    g_string_free(s, TRUE);
}

static void escaped_length_counts_entities(void)
{
    g_assert_cmpuint(xmltext_escaped_len("a\"b", 3), ==, 8);
    g_assert_cmpuint(xmltext_escaped_len("&<>'", 4), ==, 5 + 4 + 4 + 6);
    g_assert_cmpuint(xmltext_escaped_len("", 0), ==, 0);
}

#define ADD(name)                                                              \
    g_test_add("/stream/" #name, fixture, NULL, setup, name, teardown)

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ADD(a_stanza_is_built_with_its_namespaces_attributes_and_text);
    ADD(a_stanza_over_a_limit_is_skipped_and_its_sender_can_be_told);
    ADD(a_stanza_with_a_long_namespace_is_refused_without_it);
    ADD(restricted_or_broken_xml_breaks_the_stream);
    ADD(a_dtd_with_entities_is_refused_before_any_expansion);
    ADD(a_huge_token_breaks_the_stream_before_it_is_held_whole);
    ADD(a_million_entities_in_a_text_cost_linear_time);
    ADD(a_suspended_parser_keeps_the_rest_until_resumed);
    g_test_add_func("/stream/escaped_length_counts_entities",
                    escaped_length_counts_entities);
    return g_test_run();
}
