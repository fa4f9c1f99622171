/* Tests for reload: the table of keys SIGHUP compares, what it applies and
 * what it leaves for a restart; secrets never shown. */
#include <string.h>

#include <glib.h>

#include "reload.h"

#define BASE                                                                   \
    "[component]\njid = groups.localhost\nhost = 127.0.0.1\nport = 5347\n"     \
    "secret = s3cret\n[storage]\npath = /tmp/x\n"

static config *load(const char *text)
{
    GPtrArray *problems = g_ptr_array_new_with_free_func(g_free);
    config *cfg = NULL;

    g_assert_cmpint(
        config_load_data("test.ini", text, strlen(text), &cfg, problems), ==,
        0);
    g_ptr_array_unref(problems);
    return cfg;
}

/* The changes between two files, one "TEXT" line each, joined by '\n'. */
static char *diff(const char *before, const char *after)
{
    config *a = load(before), *b = load(after);
    GPtrArray *changes =
        g_ptr_array_new_with_free_func((GDestroyNotify)reload_change_free);
    GString *out = g_string_new(NULL);

    reload_diff(a, b, changes);
    for (guint i = 0; i < changes->len; i++) {
        char *t = reload_change_text(g_ptr_array_index(changes, i));
        g_string_append_printf(out, "%s%s", i ? "\n" : "", t);
        g_free(t);
    }
    g_ptr_array_unref(changes);
    config_free(a);
    config_free(b);
    return g_string_free(out, FALSE);
}

static void each_changed_key_is_one_line_in_file_order(void)
{
    static const struct {
        const char *after, *want;
    } cases[] = {
        {BASE, ""},
        {BASE "[limits]\nrate = 5\n", "[limits] rate: 2 -> 5"},
        {BASE "[limits]\nmax_body = 20\nburst = 3\n",
         "[limits] max_body: 10000 -> 20\n[limits] burst: 10 -> 3"},
        {BASE "[service]\nadmins = a@x;b@x\nroom_creation = admins\n",
         "[service] admins:  -> a@x;b@x\n"
         "[service] room_creation: anyone -> admins"},
        {BASE "[log]\nlevel = warning\n", "[log] level: info -> warning"},
        /* an area on its own is shown; following the level, it is not */
        {BASE "[log]\nlevel = warning\nlink = debug\n",
         "[log] level: info -> warning\n[log] link: info -> debug"},
        {BASE "[legacy]\ndigest_after = 5\n", "[legacy] digest_after: 20 -> 5"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *got = diff(BASE, cases[i].after);
        g_assert_cmpstr(got, ==, cases[i].want);
        g_free(got);
    }
}

static void what_the_link_or_the_store_need_is_left_for_a_restart(void)
{
    static const struct {
        const char *after, *want;
    } cases[] = {
        {"[component]\njid = other.localhost\nhost = 127.0.0.1\nport = 5347\n"
         "secret = s3cret\n[storage]\npath = /tmp/x\n",
         "[component] jid: groups.localhost -> other.localhost (needs a "
         "restart; left as is)"},
        {"[component]\njid = groups.localhost\nhost = ::1\nport = 5348\n"
         "secret = s3cret\n[storage]\npath = /tmp/y\n",
         "[component] host: 127.0.0.1 -> ::1 (needs a restart; left as is)\n"
         "[component] port: 5347 -> 5348 (needs a restart; left as is)\n"
         "[storage] path: /tmp/x -> /tmp/y (needs a restart; left as is)"},
        {BASE "[limits]\nstanza_depth = 10\n",
         "[limits] stanza_depth: 24 -> 10 (needs a restart; left as is)"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *got = diff(BASE, cases[i].after);
        g_assert_cmpstr(got, ==, cases[i].want);
        g_free(got);
    }
}

static void a_changed_secret_is_reported_but_never_shown(void)
{
    char *got = diff(BASE, "[component]\njid = groups.localhost\nhost = "
                           "127.0.0.1\nport = 5347\nsecret = n3w-s3cret\n"
                           "[storage]\npath = /tmp/x\n");

    g_assert_cmpstr(got, ==,
                    "[component] secret: (hidden) -> (hidden, changed) "
                    "(needs a restart; left as is)");
    g_assert_null(strstr(got, "s3cret"));
    g_free(got);
}

static void apply_takes_the_live_keys_and_keeps_the_others(void)
{
    config *cur = load(BASE);
    config *fresh = load(
        "[component]\njid = groups.localhost\nhost = 127.0.0.1\nport = 9999\n"
        "secret = other\nname = Groups\n[storage]\npath = /tmp/y\n"
        "[service]\nadmins = boss@x\nroom_creation = admins\n"
        "[limits]\nrate = 0.5\nmax_rooms = 1\nstanza_depth = 10\n"
        "[log]\nlevel = warning\nlegacy = debug\n");

    reload_apply(cur, fresh);
    config_free(fresh); /* what cur had goes with it */
    g_assert_cmpstr(cur->name, ==, "Groups");
    g_assert_true(config_is_admin(cur, "boss@x"));
    g_assert_cmpint(cur->room_creation, ==, CONFIG_ROOMS_ADMINS);
    g_assert_cmpfloat(cur->rate, ==, 0.5);
    g_assert_cmpuint(cur->max_rooms, ==, 1);
    g_assert_cmpint(cur->log_level, ==, LOG_WARNING);
    g_assert_cmpint(cur->area_level[LOG_LEGACY], ==, LOG_DEBUG);
    g_assert_cmpint(cur->area_level[LOG_LINK], ==, LOG_WARNING);
    /* the link and the store are as they were */
    g_assert_cmpuint(cur->port, ==, 5347);
    g_assert_cmpstr(cur->secret, ==, "s3cret");
    g_assert_cmpstr(cur->storage_path, ==, "/tmp/x");
    g_assert_cmpuint(cur->stanza_depth, ==, 24);
    config_free(cur);
}

static void a_run_sets_the_log_levels_and_counts_the_changes(void)
{
    config *cur = load(BASE);
    config *fresh = load(BASE "[log]\nlevel = error\n[limits]\nburst = 2\n");

    log_set_level(LOG_INFO);
    g_assert_cmpuint(reload_run(cur, fresh), ==, 2);
    g_assert_false(log_on(LOG_LEGACY, LOG_WARNING));
    g_assert_cmpuint(cur->burst, ==, 2);
    config_free(fresh);
    fresh = load(BASE "[log]\nlevel = error\n[limits]\nburst = 2\n");
    g_assert_cmpuint(reload_run(cur, fresh), ==, 0);
    config_free(fresh);
    config_free(cur);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/reload/each_changed_key_is_one_line_in_file_order",
                    each_changed_key_is_one_line_in_file_order);
    g_test_add_func(
        "/reload/what_the_link_or_the_store_need_is_left_for_a_restart",
        what_the_link_or_the_store_need_is_left_for_a_restart);
    g_test_add_func("/reload/a_changed_secret_is_reported_but_never_shown",
                    a_changed_secret_is_reported_but_never_shown);
    g_test_add_func("/reload/apply_takes_the_live_keys_and_keeps_the_others",
                    apply_takes_the_live_keys_and_keeps_the_others);
    g_test_add_func("/reload/a_run_sets_the_log_levels_and_counts_the_changes",
                    a_run_sets_the_log_levels_and_counts_the_changes);
    return g_test_run();
}
