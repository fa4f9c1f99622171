/* Tests for xmltext: stanzas written as text without a libstrophe tree. */
#include <string.h>

#include "xmltext.h"

static void each_special_character_becomes_its_entity(void)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"", ""},
        {"plain text", "plain text"},
        {"a & b", "a &amp; b"},
        {"<b>", "&lt;b&gt;"},
        {"say \"hi\"", "say &quot;hi&quot;"},
        {"it's", "it&apos;s"},
        {"&&", "&amp;&amp;"},
        {"é ✓ &", "é ✓ &amp;"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        GString *b = g_string_new(NULL);
        xmltext_escape(b, cases[i].in);
        g_assert_cmpstr(b->str, ==, cases[i].want);
        g_string_free(b, TRUE);
    }
}

static void a_null_attribute_or_child_is_left_out(void)
{
    GString *b = g_string_new(NULL);

    xmltext_open(b, "message", NULL);
    xmltext_attr(b, "id", NULL);
    xmltext_attr(b, "type", "groupchat");
    xmltext_end(b);
    xmltext_child(b, "subject", NULL, NULL);
    xmltext_child(b, "body", NULL, "1 < 2");
    xmltext_open(b, "stanza-id", "urn:xmpp:sid:0");
    xmltext_attr(b, "by", "r@g.example");
    xmltext_end_empty(b);
    xmltext_close(b, "message");
    g_assert_cmpstr(b->str, ==,
                    "<message type=\"groupchat\"><body>1 &lt; 2</body>"
                    "<stanza-id xmlns=\"urn:xmpp:sid:0\" by=\"r@g.example\"/>"
                    "</message>");
    g_string_free(b, TRUE);
}

static void an_attribute_value_cannot_end_its_quotes(void)
{
    GString *b = g_string_new(NULL);

    xmltext_open(b, "x", NULL);
    xmltext_attr(b, "a", "\"/><evil/>");
    xmltext_end_empty(b);
    g_assert_cmpstr(b->str, ==, "<x a=\"&quot;/&gt;&lt;evil/&gt;\"/>");
    g_string_free(b, TRUE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/xmltext/each_special_character_becomes_its_entity",
                    each_special_character_becomes_its_entity);
    g_test_add_func("/xmltext/a_null_attribute_or_child_is_left_out",
                    a_null_attribute_or_child_is_left_out);
    g_test_add_func("/xmltext/an_attribute_value_cannot_end_its_quotes",
                    an_attribute_value_cannot_end_its_quotes);
    return g_test_run();
}
