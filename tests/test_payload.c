/* test_payload: an occupant's groupchat message taken apart
 * (component/muc/payload.c): what is relayed and archived, what is relayed
 * only, what only the room may say; XML literals in, text out. */
#include <string.h>

#include <glib.h>

#include "payload.h"

static xmpp_ctx_t *ctx;

#define MSG_OPEN                                                               \
    "<message xmlns='jabber:component:accept' type='groupchat' "               \
    "from='ann@example.org/a' to='r@groups.example.org' id='m1'>"
#define MSG_CLOSE "</message>"
#define DOMAIN    "groups.example.org"

static const struct {
    const char *what, *in;
    const char *kept, *live, *origin_id, *replace_id;
    gboolean no_store;
} cases[] = {
    {"a plain message has nothing besides its body",
     MSG_OPEN "<body>hi</body>" MSG_CLOSE, "", "", NULL, NULL, FALSE},
    {"the origin-id is taken out, a second one dropped",
     MSG_OPEN "<body>hi</body><origin-id xmlns='urn:xmpp:sid:0' id='o1'/>"
              "<origin-id xmlns='urn:xmpp:sid:0' id='o2'/>" MSG_CLOSE,
     "", "", "o1", NULL, FALSE},
    {"a correction is kept whole and names what it corrects",
     MSG_OPEN "<body>fixed</body>"
              "<replace xmlns='urn:xmpp:message-correct:0' id='m0'/>" MSG_CLOSE,
     "<replace xmlns=\"urn:xmpp:message-correct:0\" id=\"m0\"/>", "", NULL,
     "m0", FALSE},
    {"a reaction is kept with its children and text",
     MSG_OPEN "<reactions xmlns='urn:xmpp:reactions:0' id='sid1'>"
              "<reaction>\xf0\x9f\x91\x8d</reaction></reactions>"
              "<store xmlns='urn:xmpp:hints'/>" MSG_CLOSE,
     "<reactions xmlns=\"urn:xmpp:reactions:0\" id=\"sid1\">"
     "<reaction>\xf0\x9f\x91\x8d</reaction></reactions>",
     "<store xmlns=\"urn:xmpp:hints\"/>", NULL, NULL, FALSE},
    {"a reply and its fallback are kept, attributes in name order",
     MSG_OPEN
     "<body>&gt; hi\nyes</body>"
     "<reply xmlns='urn:xmpp:reply:0' to='r@groups.example.org/bob' "
     "id='sid2'/><fallback xmlns='urn:xmpp:fallback:0' "
     "for='urn:xmpp:reply:0'><body start='0' end='5'/></fallback>" MSG_CLOSE,
     "<reply xmlns=\"urn:xmpp:reply:0\" id=\"sid2\" "
     "to=\"r@groups.example.org/bob\"/>"
     "<fallback xmlns=\"urn:xmpp:fallback:0\" for=\"urn:xmpp:reply:0\">"
     "<body end=\"5\" start=\"0\"/></fallback>",
     "", NULL, NULL, FALSE},
    {"a file link keeps its escaping",
     MSG_OPEN "<body>https://x.example/a?b=1&amp;c=2</body>"
              "<x xmlns='jabber:x:oob'><url>https://x.example/a?b=1&amp;c=2"
              "</url></x>" MSG_CLOSE,
     "<x xmlns=\"jabber:x:oob\"><url>https://x.example/a?b=1&amp;c=2</url>"
     "</x>",
     "", NULL, NULL, FALSE},
    {"a chat state is relayed only",
     MSG_OPEN
     "<composing xmlns='http://jabber.org/protocol/chatstates'/>" MSG_CLOSE,
     "", "<composing xmlns=\"http://jabber.org/protocol/chatstates\"/>", NULL,
     NULL, FALSE},
    {"no-store and no-permanent-store are hints and ask for no archive",
     MSG_OPEN
     "<body>hi</body><no-permanent-store xmlns='urn:xmpp:hints'/>" MSG_CLOSE,
     "", "<no-permanent-store xmlns=\"urn:xmpp:hints\"/>", NULL, NULL, TRUE},
    {"what only the room may say is dropped",
     MSG_OPEN "<body>hi</body>"
              "<stanza-id xmlns='urn:xmpp:sid:0' id='f' "
              "by='r@groups.example.org'/>"
              "<stanza-id xmlns='urn:xmpp:sid:0' id='s' by='ann@example.org'/>"
              "<occupant-id xmlns='urn:xmpp:occupant-id:0' id='forged'/>"
              "<delay xmlns='urn:xmpp:delay' stamp='2001-01-01T00:00:00Z'/>"
              "<x xmlns='http://jabber.org/protocol/muc#user'><item "
              "jid='boss@example.org'/></x>" MSG_CLOSE,
     "<stanza-id xmlns=\"urn:xmpp:sid:0\" by=\"ann@example.org\" id=\"s\"/>",
     "", NULL, NULL, FALSE},
    {"a thread and a second body stay in the message's own namespace",
     MSG_OPEN "<body>hi</body><body>hallo</body>"
              "<thread>t1</thread>" MSG_CLOSE,
     "<body>hallo</body><thread>t1</thread>", "", NULL, NULL, FALSE},
    {"quotes and markup in text and attributes cannot break out",
     MSG_OPEN "<x xmlns='urn:example:a' v='&quot;/&gt;&lt;evil/&gt;'>"
              "&lt;/x&gt;&amp;</x>" MSG_CLOSE,
     "<x xmlns=\"urn:example:a\" v=\"&quot;/&gt;&lt;evil/&gt;\">"
     "&lt;/x&gt;&amp;</x>",
     "", NULL, NULL, FALSE},
};

static void each_child_goes_where_it_belongs(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        xmpp_stanza_t *st = xmpp_stanza_new_from_string(ctx, cases[i].in);
        payload p;

        g_test_message("%s", cases[i].what);
        g_assert_nonnull(st);
        payload_split(st, DOMAIN, &p);
        g_assert_cmpstr(p.kept->str, ==, cases[i].kept);
        g_assert_cmpstr(p.live->str, ==, cases[i].live);
        g_assert_cmpstr(p.origin_id, ==, cases[i].origin_id);
        g_assert_cmpstr(p.replace_id, ==, cases[i].replace_id);
        g_assert_cmpint(p.no_store, ==, cases[i].no_store);
        payload_clear(&p);
        xmpp_stanza_release(st);
    }
}

/* What payload_write gives parses back to the same element. */
static void written_text_parses_back_to_the_same_element(void)
{
    const char *in = "<a xmlns='urn:example:a' k='1 &amp; 2'><b>x &lt; y</b>"
                     "<c xmlns='urn:example:c'><d/></c></a>";
    xmpp_stanza_t *st = xmpp_stanza_new_from_string(ctx, in), *back;
    GString *b = g_string_new(NULL);
    char *t1 = NULL, *t2 = NULL;
    size_t l1, l2;

    payload_write(b, st, NULL);
    g_assert_cmpstr(b->str, ==,
                    "<a xmlns=\"urn:example:a\" k=\"1 &amp; 2\"><b>x &lt; y"
                    "</b><c xmlns=\"urn:example:c\"><d/></c></a>");
    back = xmpp_stanza_new_from_string(ctx, b->str);
    g_assert_nonnull(back);
    g_assert_cmpint(xmpp_stanza_to_text(st, &t1, &l1), ==, 0);
    g_assert_cmpint(xmpp_stanza_to_text(back, &t2, &l2), ==, 0);
    g_assert_cmpstr(t1, ==, t2);
    xmpp_free(ctx, t1);
    xmpp_free(ctx, t2);
    xmpp_stanza_release(back);
    xmpp_stanza_release(st);
    g_string_free(b, TRUE);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    xmpp_initialize();
    ctx = xmpp_ctx_new(NULL, NULL);
    g_test_add_func("/payload/each_child_goes_where_it_belongs",
                    each_child_goes_where_it_belongs);
    g_test_add_func("/payload/written_text_parses_back_to_the_same_element",
                    written_text_parses_back_to_the_same_element);
    rc = g_test_run();
    xmpp_ctx_free(ctx);
    xmpp_shutdown();
    return rc;
}
