/* Tests for naming: a legacy person's default nick and a unique one. */
#include <string.h>

#include "naming.h"

static const struct {
    const char *alias, *handle, *want;
} bases[] = {
    {"Bob Smith", "bob@example.org", "Bob Smith"},
    {NULL, "bob@example.org", "bob"},
    {"", "carol", "carol"},
    {"tab\there", "x", "tab here"},
    {NULL, "@weird", "@weird"},
};

static void a_nick_comes_from_the_alias_else_the_handle_without_its_domain(
    void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(bases); i++) {
        char *n = naming_base(bases[i].alias, bases[i].handle);
        g_assert_cmpstr(n, ==, bases[i].want);
        g_free(n);
    }
}

static void a_long_alias_is_cut_to_the_nick_length(void)
{
    char *alias = g_strnfill(200, 'x');
    char *n = naming_base(alias, "h");

    g_assert_cmpint(g_utf8_strlen(n, -1), ==, NAMING_NICK_MAX_CHARS);
    g_free(n);
    g_free(alias);
}

static gboolean taken_in(const char *nick, void *userdata)
{
    return !g_strv_contains(userdata, nick);
}

static void a_taken_nick_gets_the_network_then_a_number(void)
{
    const char *none[] = {NULL};
    const char *one[] = {"bob", NULL};
    const char *two[] = {"bob", "bob (irc)", NULL};
    char *n;

    n = naming_unique("bob", "irc", taken_in, none);
    g_assert_cmpstr(n, ==, "bob");
    g_free(n);
    n = naming_unique("bob", "irc", taken_in, one);
    g_assert_cmpstr(n, ==, "bob (irc)");
    g_free(n);
    n = naming_unique("bob", "irc", taken_in, two);
    g_assert_cmpstr(n, ==, "bob (irc 2)");
    g_free(n);
}

static void the_network_is_named_by_its_plugin(void)
{
    static const struct {
        const char *prpl, *name;
    } nets[] = {
        {"prpl-irc", "irc"},
        {"prpl-jabber", "xmpp"},
        {"prpl-imgroups-msn", "msn"},
        {"prpl-imgroups-yahoo", "yahoo"},
        {"odd", "odd"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(nets); i++)
        g_assert_cmpstr(naming_network(nets[i].prpl), ==, nets[i].name);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func(
        "/naming/a_nick_comes_from_the_alias_else_the_handle_without_its_domain",
        a_nick_comes_from_the_alias_else_the_handle_without_its_domain);
    g_test_add_func("/naming/a_long_alias_is_cut_to_the_nick_length",
                    a_long_alias_is_cut_to_the_nick_length);
    g_test_add_func("/naming/a_taken_nick_gets_the_network_then_a_number",
                    a_taken_nick_gets_the_network_then_a_number);
    g_test_add_func("/naming/the_network_is_named_by_its_plugin",
                    the_network_is_named_by_its_plugin);
    return g_test_run();
}
