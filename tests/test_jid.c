/* test_jid: JID splitting and validation, table-driven. */
#include <glib.h>

#include "jid.h"

static const struct {
    const char *in;
    const char *node, *domain, *resource; /* domain NULL: malformed */
} cases[] = {
    {"groups.localhost", NULL, "groups.localhost", NULL},
    {"Groups.LocalHost", NULL, "groups.localhost", NULL},
    {"room@groups.localhost", "room", "groups.localhost", NULL},
    {"room@groups.localhost/nick", "room", "groups.localhost", "nick"},
    {"room@groups.localhost/a/b@c", "room", "groups.localhost", "a/b@c"},
    {"groups.localhost/res", NULL, "groups.localhost", "res"},
    {"caf\xc3\xa9@example.org", "caf\xc3\xa9", "example.org", NULL},
    {"", NULL, NULL, NULL},
    {"@groups.localhost", NULL, NULL, NULL},
    {"room@", NULL, NULL, NULL},
    {"a@@groups.localhost", NULL, NULL, NULL},
    {"room@groups.localhost/", NULL, NULL, NULL},
    {"bad room@groups.localhost", NULL, NULL, NULL},
    {"a\"b@groups.localhost", NULL, NULL, NULL},
    {"room@groups..localhost", NULL, NULL, NULL},
    {"room@.localhost", NULL, NULL, NULL},
    {"\xff@groups.localhost", NULL, NULL, NULL},
    {"room@groups.localhost/\x01", NULL, NULL, NULL},
};

static void jids_parse_as_rfc7622_says(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        jid j;
        int rc = jid_parse(cases[i].in, &j);
        char *shown = g_strescape(cases[i].in, NULL);

        /* Escaped: a case of invalid UTF-8 must not break the TAP output. */
        g_test_message("case %zu: '%s'", i, shown);
        g_free(shown);
        if (!cases[i].domain) {
            g_assert_cmpint(rc, ==, -1);
            g_assert_null(j.domain);
            continue;
        }
        g_assert_cmpint(rc, ==, 0);
        g_assert_cmpstr(j.node, ==, cases[i].node);
        g_assert_cmpstr(j.domain, ==, cases[i].domain);
        g_assert_cmpstr(j.resource, ==, cases[i].resource);
        jid_clear(&j);
    }
}

static void a_part_longer_than_1023_bytes_is_refused(void)
{
    char *node = g_strnfill(1024, 'a');
    char *s = g_strconcat(node, "@groups.localhost", NULL);
    jid j;

    g_assert_cmpint(jid_parse(s, &j), ==, -1);
    node[1023] = '\0';
    g_free(s);
    s = g_strconcat(node, "@groups.localhost", NULL);
    g_assert_cmpint(jid_parse(s, &j), ==, 0);
    jid_clear(&j);
    g_free(s);
    g_free(node);
}

static void bare_jid_drops_the_resource(void)
{
    jid j;
    char *bare;

    g_assert_cmpint(jid_parse("Room@Groups.Localhost/x", &j), ==, 0);
    bare = jid_bare(&j);
    g_assert_cmpstr(bare, ==, "Room@groups.localhost");
    g_free(bare);
    jid_clear(&j);
}

static void localparts_fold_case_and_width(void)
{
    char *a = jid_node_fold("Lobby");
    char *b = jid_node_fold("\xef\xbc\xac\xef\xbd\x8f\xef\xbd\x82"
                            "by"); /* fullwidth */

    g_assert_cmpstr(a, ==, "lobby");
    g_assert_cmpstr(b, ==, "lobby");
    g_assert_null(jid_node_fold("\xff"));
    g_free(a);
    g_free(b);
}

/* The Unicode rule (fold, NFKD, fold, NFKC) written out with GLib, as the
 * oracle for jid_node_fold's ASCII shortcut. */
static char *unicode_fold(const char *s)
{
    char *f = g_utf8_casefold(s, -1);
    char *d = g_utf8_normalize(f, -1, G_NORMALIZE_NFKD);
    char *g = g_utf8_casefold(d, -1);
    char *n = g_utf8_normalize(g, -1, G_NORMALIZE_NFKC);

    g_free(f);
    g_free(d);
    g_free(g);
    return n;
}

static void every_ascii_character_folds_as_the_unicode_rule_says(void)
{
    for (int c = 1; c < 0x80; c++) {
        char s[4] = {'x', (char)c, 'Y', '\0'};
        char *got = jid_node_fold(s);
        char *want = unicode_fold(s);

        g_assert_cmpstr(got, ==, want);
        g_free(got);
        g_free(want);
    }
}

static void
a_bare_jid_folds_its_localpart_and_domain_and_drops_the_resource(void)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"Admin@Example.ORG/Phone", "admin@example.org"},
        {"admin@example.org", "admin@example.org"},
        {"\xef\xbc\xa1"
         "dmin@x",
         "admin@x"}, /* fullwidth A */
        {"Groups.Localhost", "groups.localhost"},
        {"groups.localhost/res", "groups.localhost"},
        {"not a jid@@", NULL},
        {"", NULL},
        {NULL, NULL},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *got = jid_bare_fold(cases[i].in);
        g_assert_cmpstr(got, ==, cases[i].want);
        g_free(got);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/jid/jids_parse_as_rfc7622_says",
                    jids_parse_as_rfc7622_says);
    g_test_add_func("/jid/a_part_longer_than_1023_bytes_is_refused",
                    a_part_longer_than_1023_bytes_is_refused);
    g_test_add_func("/jid/bare_jid_drops_the_resource",
                    bare_jid_drops_the_resource);
    g_test_add_func("/jid/localparts_fold_case_and_width",
                    localparts_fold_case_and_width);
    g_test_add_func("/jid/every_ascii_character_folds_as_the_unicode_rule_says",
                    every_ascii_character_folds_as_the_unicode_rule_says);
    g_test_add_func(
        "/jid/a_bare_jid_folds_its_localpart_and_domain_and_drops_"
        "the_resource",
        a_bare_jid_folds_its_localpart_and_domain_and_drops_the_resource);
    return g_test_run();
}
