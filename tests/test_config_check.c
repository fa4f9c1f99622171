/* Tests for config_check: what it finds outside the file itself (the
 * worker's plugins and the command line: tests/scenario/test_check_config.py).
 */
#include <string.h>

#include "config_check.h"

/* statfs f_type values: linux/magic.h. */
static const struct {
    unsigned long magic;
    const char *name; /* NULL: a local filesystem */
} filesystems[] = {
    {0x6969, "NFS"},    {0xFF534D42, "CIFS"}, {0xFE534D42, "SMB2"},
    {0x517B, "SMB"},    {0xEF53, NULL},       {0x58465342, NULL},
    {0x01021994, NULL}, {0x9123683E, NULL},
};

static void network_filesystems_are_named_and_local_ones_are_not(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(filesystems); i++)
        g_assert_cmpstr(config_check_network_fs(filesystems[i].magic), ==,
                        filesystems[i].name);
}

static config *load(const char *text)
{
    GPtrArray *problems = g_ptr_array_new_with_free_func(g_free);
    config *cfg = NULL;

    g_assert_cmpint(
        config_load_data("t.ini", text, strlen(text), &cfg, problems), ==, 0);
    g_ptr_array_unref(problems);
    return cfg;
}

/* No accounts: the worker is not asked. A directory nothing can be made in
 * (/proc/self: as root, access(2) would have said yes) is refused. */
static void a_store_in_a_directory_that_cannot_be_written_is_refused(void)
{
    char *text = g_strdup_printf("[component]\njid = g.localhost\nhost = "
                                 "127.0.0.1\nport = 5347\nsecret = s\n"
                                 "[storage]\npath = %s\n",
                                 "/proc/self");
    config *cfg = load(text);
    GPtrArray *problems = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *hints = g_ptr_array_new_with_free_func(g_free);

    g_assert_cmpint(config_check(cfg, problems, hints), ==, -1);
    g_assert_cmpuint(problems->len, ==, 1);
    g_assert_true(g_str_has_prefix(g_ptr_array_index(problems, 0),
                                   "t.ini: [storage] path: '/proc/self' is "
                                   "not writable: "));
    g_ptr_array_unref(problems);
    g_ptr_array_unref(hints);
    config_free(cfg);
    g_free(text);
}

/* Among 2 shards of groups.localhost, lobby is shard 0's, chan shard 1's
 * (as ejabberd's domain_balancing routes them, test_shard.c). */
static void each_account_is_told_the_shard_that_runs_it(void)
{
    static const char text[] =
        "[component]\njid = groups.localhost\nhost = 127.0.0.1\n"
        "port = 5347\nsecret = s\n[storage]\npath = /tmp/unused\n"
        "[cluster]\nshards = 2\nshard = 1\n"
        "[account:lobbybot]\nprotocol = prpl-irc\nusername = l\n"
        "group = Lobby\n"
        "[account:chanbot]\nprotocol = prpl-irc\nusername = c\n"
        "group = chan\n";
    GPtrArray *problems = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
    config *cfg = NULL;

    g_assert_cmpint(config_load_data("t.ini", text, strlen(text), &cfg,
                                     problems),
                    ==, 0);
    config_check_shards(cfg, lines);
    g_assert_cmpuint(lines->len, ==, 2);
    g_assert_cmpstr(g_ptr_array_index(lines, 0), ==,
                    "account lobbybot serves group Lobby@groups.localhost: "
                    "shard 0 of 2 runs it");
    g_assert_cmpstr(g_ptr_array_index(lines, 1), ==,
                    "account chanbot serves group chan@groups.localhost: "
                    "shard 1 of 2 runs it (this instance)");
    config_free(cfg);
    /* one shard: nothing to say */
    cfg = NULL;
    g_ptr_array_set_size(lines, 0);
    g_assert_cmpint(config_load_data("t.ini", text, strlen(text), &cfg,
                                     problems),
                    ==, 0);
    cfg->shards = 1;
    cfg->shard = 0;
    config_check_shards(cfg, lines);
    g_assert_cmpuint(lines->len, ==, 0);
    config_free(cfg);
    g_ptr_array_unref(lines);
    g_ptr_array_unref(problems);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func(
        "/config_check/network_filesystems_are_named_and_local_ones_are_not",
        network_filesystems_are_named_and_local_ones_are_not);
    g_test_add_func("/config_check/"
                    "a_store_in_a_directory_that_cannot_be_written_is_refused",
                    a_store_in_a_directory_that_cannot_be_written_is_refused);
    g_test_add_func("/config_check/each_account_is_told_the_shard_that_runs_it",
                    each_account_is_told_the_shard_that_runs_it);
    return g_test_run();
}
