/* test_config: reading and validating the INI configuration. */
#include <string.h>

#include <glib.h>

#include "config.h"
#include "store.h"

#define GOOD                                                                   \
    "[component]\njid = groups.localhost\nhost = 127.0.0.1\nport = 5347\n"     \
    "secret = s3cret\n[storage]\npath = /tmp/x\n"

static int load(const char *text, config **cfg, GPtrArray **problems)
{
    *problems = g_ptr_array_new_with_free_func(g_free);
    return config_load_data("test.ini", text, strlen(text), cfg, *problems);
}

static gboolean mentions(GPtrArray *problems, const char *what)
{
    for (guint i = 0; i < problems->len; i++)
        if (strstr(g_ptr_array_index(problems, i), what))
            return TRUE;
    return FALSE;
}

static void a_minimal_config_loads_with_defaults(void)
{
    config *cfg;
    GPtrArray *problems;

    g_assert_cmpint(load(GOOD, &cfg, &problems), ==, 0);
    g_assert_cmpuint(problems->len, ==, 0);
    g_assert_cmpstr(cfg->jid, ==, "groups.localhost");
    g_assert_cmpuint(cfg->port, ==, 5347);
    g_assert_cmpstr(cfg->name, ==, "imgroups");
    g_assert_cmpint(cfg->room_creation, ==, CONFIG_ROOMS_ANYONE);
    g_assert_cmpint(cfg->log_level, ==, LOG_INFO);
    g_assert_cmpuint(cfg->accounts->len, ==, 0);
    g_assert_cmpuint(cfg->max_body, ==, 10000);
    g_assert_cmpuint(cfg->keep_days, ==, 30);
    g_assert_cmpuint(cfg->burst, ==, 10);
    g_assert_cmpuint(cfg->stanza_limit, ==, 262144);
    g_assert_cmpuint(cfg->stanza_size, ==, 65536);
    g_assert_cmpuint(cfg->stanza_depth, ==, 24);
    g_assert_cmpuint(cfg->attributes, ==, 32);
    g_assert_cmpuint(cfg->join_burst, ==, 30);
    config_free(cfg);
    g_ptr_array_unref(problems);
}

static void accounts_and_their_options_are_read(void)
{
    config *cfg;
    GPtrArray *problems;
    const config_account *a;

    g_assert_cmpint(load(GOOD "[service]\nadmins = admin@localhost;b@x;\n"
                              "[account:lobby-irc]\nprotocol = prpl-irc\n"
                              "username = bot@127.0.0.1\npassword =\n"
                              "group = lobby\nmode = chat\nchat = #lobby\n"
                              "option.port = 6667\n",
                         &cfg, &problems),
                    ==, 0);
    g_assert_cmpstr(cfg->admins[0], ==, "admin@localhost");
    g_assert_cmpstr(cfg->admins[1], ==, "b@x");
    g_assert_null(cfg->admins[2]);
    g_assert_cmpuint(cfg->accounts->len, ==, 1);
    a = g_ptr_array_index(cfg->accounts, 0);
    g_assert_cmpstr(a->name, ==, "lobby-irc");
    g_assert_cmpstr(a->group, ==, "lobby");
    g_assert_cmpint(a->mode, ==, CONFIG_MODE_CHAT);
    g_assert_cmpstr(a->chat, ==, "#lobby");
    g_assert_cmpstr(g_hash_table_lookup(a->options, "port"), ==, "6667");
    config_free(cfg);
    g_ptr_array_unref(problems);
}

/* Each bad config must fail and name the key that is wrong. */
static const struct {
    const char *text;
    const char *names;
} bad[] = {
    {"[component]\nhost=h\nport=1\nsecret=s\n[storage]\npath=/p\n",
     "[component] jid"},
    {"[component]\njid=a@b\nhost=h\nport=1\nsecret=s\n[storage]\npath=/p\n",
     "[component] jid"},
    {"[component]\njid=g\nhost=h\nport=abc\nsecret=s\n[storage]\npath=/p\n",
     "[component] port"},
    {"[component]\njid=g\nhost=h\nport=70000\nsecret=s\n[storage]\npath=/p\n",
     "[component] port"},
    {"[component]\njid=g\nhost=h\nport=1\n[storage]\npath=/p\n",
     "[component] secret"},
    {"[component]\njid=g\nhost=h\nport=1\nsecret=s\n", "[storage] path"},
    {GOOD "[service]\nroom_creation = everyone\n", "[service] room_creation"},
    {GOOD "[service]\nadmins = not a jid@@\n", "[service] admins"},
    {GOOD "[log]\nlevel = loud\n", "[log] level"},
    {GOOD "[log]\nlink = chatty\n", "[log] link"},
    {GOOD "[component]\nsecrte = typo\n", "[component] secrte"},
    {GOOD "[nonsense]\n", "[nonsense]"},
    {GOOD "[account:a]\nusername=u\ngroup=g\n", "[account:a] protocol"},
    {GOOD "[account:a]\nprotocol=p\nusername=u\ngroup=g\nmode=party\n",
     "[account:a] mode"},
    {GOOD "[account:a]\nprotocol=p\nusername=u\ngroup=g\nmode=chat\n",
     "[account:a] chat"},
    {GOOD "[account:a]\nprotocol=p\nusername=u\ngroup=bad@group\n",
     "[account:a] group"},
    {GOOD "[account:a]\nprotocol=p\nusername=u\ngroup=g\nport=1\n",
     "[account:a] port"},
    {GOOD "[limits]\nrate = fast\n", "[limits] rate"},
    {GOOD "[limits]\nmax_body = 0\n", "[limits] max_body"},
    {GOOD "[archive]\nkeep_days = -1\n", "[archive] keep_days"},
    {GOOD "[limits]\nstanza_size = 200000\n", "[limits] stanza_size"},
    {GOOD "[limits]\nstanza_depth = 1\n", "[limits] stanza_depth"},
    {GOOD "[component]\nsend_buffer = 10\n", "[component] send_buffer"},
    {GOOD "[limits]\njoin_rate = 0\n", "[limits] join_rate"},
    {GOOD "[storage]\nmap_size = 1Q\n", "[storage] map_size"},
    {GOOD "[storage]\nmap_size = 1000\n", "[storage] map_size"},
    {GOOD "[storage]\nmap_size = 0\n", "[storage] map_size"},
    {GOOD "[storage]\nmap_size = 100000T\n", "[storage] map_size"},
    {GOOD "[storage]\nmap_size = G\n", "[storage] map_size"},
    {GOOD "[storage]\nsync = none\n", "[storage] sync"},
    {GOOD "[cluster]\nshards = 0\n", "[cluster] shards"},
    {GOOD "[cluster]\nshards = 1001\n", "[cluster] shards"},
    {GOOD "[cluster]\nshards = 3\nshard = 3\n", "[cluster] shard:"},
    {GOOD "[cluster]\nshard = 1\n", "[cluster] shard:"},
    {GOOD
     "[account:a]\nprotocol=p\nusername=u\ngroup="
     "ggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
     "ggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg\n",
     "[account:a] group"},
    {GOOD "[account:"
          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]"
          "\nprotocol=p\nusername=u\ngroup=g\n",
     "longer than 64 bytes"},
    {"this is [not ini", "not a valid INI file"},
};

static void bad_configs_are_refused_naming_the_key(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        config *cfg = (config *)1;
        GPtrArray *problems;
        g_test_message("case %zu: expecting '%s'", i, bad[i].names);
        g_assert_cmpint(load(bad[i].text, &cfg, &problems), ==, -1);
        g_assert_null(cfg);
        for (guint k = 0; k < problems->len; k++)
            g_test_message("  %s", (char *)g_ptr_array_index(problems, k));
        g_assert_true(mentions(problems, bad[i].names));
        g_ptr_array_unref(problems);
    }
}

static void every_problem_is_reported_not_just_the_first(void)
{
    config *cfg;
    GPtrArray *problems;

    g_assert_cmpint(load("[component]\nport=0\n", &cfg, &problems), ==, -1);
    g_assert_true(mentions(problems, "[component] jid"));
    g_assert_true(mentions(problems, "[component] host"));
    g_assert_true(mentions(problems, "[component] port"));
    g_assert_true(mentions(problems, "[component] secret"));
    g_assert_true(mentions(problems, "[storage] path"));
    g_ptr_array_unref(problems);
}

static void a_missing_file_is_reported_with_its_path(void)
{
    config *cfg;
    GPtrArray *problems = g_ptr_array_new_with_free_func(g_free);

    g_assert_cmpint(config_load("/nonexistent/imgroups.ini", &cfg, problems),
                    ==, -1);
    g_assert_true(mentions(problems, "/nonexistent/imgroups.ini"));
    g_ptr_array_unref(problems);
}

static void the_secret_never_appears_in_a_problem(void)
{
    config *cfg;
    GPtrArray *problems;

    g_assert_cmpint(load("[component]\njid=a@b\nhost=h\nport=x\n"
                         "secret=hunter2\n",
                         &cfg, &problems),
                    ==, -1);
    g_assert_false(mentions(problems, "hunter2"));
    g_ptr_array_unref(problems);
}

static void admins_are_known_by_their_folded_bare_jid(void)
{
    static const struct {
        const char *bare;
        gboolean admin;
    } cases[] = {
        {"admin@localhost", TRUE},  {"b@x", TRUE},
        {"Admin@localhost", FALSE}, {"admin@x", FALSE},
        {"localhost", FALSE},       {NULL, FALSE},
    };
    config *cfg;
    GPtrArray *problems;

    g_assert_cmpint(
        load(GOOD "[service]\nadmins = Admin@LocalHost;B@X\n", &cfg, &problems),
        ==, 0);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
        g_assert_cmpint(config_is_admin(cfg, cases[i].bare), ==,
                        cases[i].admin);
    config_free(cfg);
    g_ptr_array_unref(problems);
}

/* A config that loads without problems (config_free). */
static config *load_good(const char *text)
{
    config *cfg;
    GPtrArray *problems;

    g_assert_cmpint(load(text, &cfg, &problems), ==, 0);
    g_ptr_array_unref(problems);
    return cfg;
}

static void the_map_size_is_read_with_its_unit_and_defaults_to_the_stores(void)
{
    static const struct {
        const char *text;
        size_t want;
    } cases[] = {
        {GOOD, STORE_MAP_DEFAULT},
        {GOOD "[storage]\nmap_size = 1T\n", (size_t)1 << 40},
        {GOOD "[storage]\nmap_size = 64g\n", (size_t)64 << 30},
        {GOOD "[storage]\nmap_size = 512M\n", (size_t)512 << 20},
        {GOOD "[storage]\nmap_size = 2048K\n", (size_t)2 << 20},
        {GOOD "[storage]\nmap_size = 1048576\n", (size_t)1 << 20},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        config *cfg = load_good(cases[i].text);

        g_assert_cmpuint(cfg->map_size, ==, cases[i].want);
        config_free(cfg);
    }
}

static void one_shard_is_the_default_and_a_shard_is_read_below_shards(void)
{
    config *cfg = load_good(GOOD);

    g_assert_cmpuint(cfg->shards, ==, 1);
    g_assert_cmpuint(cfg->shard, ==, 0);
    config_free(cfg);
    cfg = load_good(GOOD "[cluster]\nshards = 3\nshard = 2\n");
    g_assert_cmpuint(cfg->shards, ==, 3);
    g_assert_cmpuint(cfg->shard, ==, 2);
    config_free(cfg);
}

static void the_meta_page_is_synced_unless_no_meta_is_asked_for(void)
{
    static const struct {
        const char *text;
        gboolean want;
    } cases[] = {
        {GOOD, TRUE},
        {GOOD "[storage]\nsync = full\n", TRUE},
        {GOOD "[storage]\nsync = no-meta\n", FALSE},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        config *cfg = load_good(cases[i].text);

        g_assert_cmpint(cfg->meta_sync, ==, cases[i].want);
        config_free(cfg);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/config/a_minimal_config_loads_with_defaults",
                    a_minimal_config_loads_with_defaults);
    g_test_add_func("/config/accounts_and_their_options_are_read",
                    accounts_and_their_options_are_read);
    g_test_add_func("/config/bad_configs_are_refused_naming_the_key",
                    bad_configs_are_refused_naming_the_key);
    g_test_add_func("/config/every_problem_is_reported_not_just_the_first",
                    every_problem_is_reported_not_just_the_first);
    g_test_add_func("/config/a_missing_file_is_reported_with_its_path",
                    a_missing_file_is_reported_with_its_path);
    g_test_add_func(
        "/config/the_map_size_is_read_with_its_unit_and_defaults_to_the_stores",
        the_map_size_is_read_with_its_unit_and_defaults_to_the_stores);
    g_test_add_func(
        "/config/the_meta_page_is_synced_unless_no_meta_is_asked_for",
        the_meta_page_is_synced_unless_no_meta_is_asked_for);
    g_test_add_func(
        "/config/one_shard_is_the_default_and_a_shard_is_read_below_shards",
        one_shard_is_the_default_and_a_shard_is_read_below_shards);
    g_test_add_func("/config/admins_are_known_by_their_folded_bare_jid",
                    admins_are_known_by_their_folded_bare_jid);
    g_test_add_func("/config/the_secret_never_appears_in_a_problem",
                    the_secret_never_appears_in_a_problem);
    return g_test_run();
}
