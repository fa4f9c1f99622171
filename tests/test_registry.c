/* test_registry: the accounts the service runs — the file's accounts in
 * LMDB, admin operations and their refusals, passwords kept, SIGHUP
 * reloads, and the hooks each of them calls. */
#include <string.h>

#include <glib.h>

#include "accounts.h"
#include "config.h"
#include "groups.h"
#include "registry.h"
#include "store.h"
#include "testutil.h"

#define BASE                                                                   \
    "[component]\njid = groups.localhost\nhost = 127.0.0.1\nport = 5347\n"     \
    "secret = s\n[storage]\npath = /tmp/unused\n"
#define FILEBOT                                                                \
    "[account:filebot]\nprotocol = prpl-irc\nusername = fb@127.0.0.1\n"        \
    "password = filepw\ngroup = Lobby\noption.port = 6667\n"                   \
    "pace_rate = 0.5\n"

typedef struct fixture {
    testutil_store ts;
    GString *calls; /* "start name pw;" "stop name;" in order */
} fixture;

static void setup(fixture *f, gconstpointer d)
{
    testutil_store_setup(&f->ts, d);
    f->calls = g_string_new(NULL);
}

static void teardown(fixture *f, gconstpointer d)
{
    g_string_free(f->calls, TRUE);
    testutil_store_teardown(&f->ts, d);
}

static void on_start(const account_rec *a, const char *password, void *ud)
{
    g_string_append_printf(((fixture *)ud)->calls, "start %s %s;", a->name,
                           password);
}

static void on_stop(const char *name, void *ud)
{
    g_string_append_printf(((fixture *)ud)->calls, "stop %s;", name);
}

static int on_member_add(const char *group, const char *account,
                         const char *handle, char **why, void *ud)
{
    g_string_append_printf(((fixture *)ud)->calls, "member %s %s %s;", group,
                           account, handle);
    return 0;
}

static const registry_hooks hooks = {on_start, on_stop, on_member_add, NULL,
                                     NULL};

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

/* A registry over f's store for the configuration text, hooks set. */
static registry *open_registry(fixture *f, const char *text)
{
    config *cfg = load(text);
    registry *r = NULL;
    GError *err = NULL;

    g_assert_cmpint(registry_new(cfg, f->ts.s, &r, &err), ==, 0);
    g_assert_no_error(err);
    registry_set_hooks(r, &hooks, f);
    config_free(cfg);
    return r;
}

static char *stored_password(fixture *f, const char *name)
{
    MDB_txn *txn;
    char *pw = NULL;

    g_assert_cmpint(store_read_begin(f->ts.s, &txn, NULL), ==, 0);
    g_assert_cmpint(accounts_password(txn, f->ts.s, name, &pw), ==, 0);
    store_read_end(txn);
    return pw;
}

static gboolean stored(fixture *f, const char *name)
{
    MDB_txn *txn;
    account_rec *a = NULL;
    int rc;

    g_assert_cmpint(store_read_begin(f->ts.s, &txn, NULL), ==, 0);
    rc = accounts_get(txn, f->ts.s, name, &a);
    store_read_end(txn);
    account_rec_free(a);
    return rc == 0;
}

static account_rec *make(const char *name)
{
    account_rec *a = g_new0(account_rec, 1);

    a->name = g_strdup(name);
    a->protocol = g_strdup("prpl-jabber");
    a->username = g_strdup("bot@example.org");
    a->group = g_strdup("Team");
    a->mode = g_strdup("contacts");
    a->options = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    a->enabled = TRUE;
    a->pace_burst = 5;
    a->pace_rate = 1.0;
    return a;
}

static void the_files_account_is_stored_and_started(fixture *f, gconstpointer d)
{
    registry *r = open_registry(f, BASE FILEBOT);
    registry_account *ra = registry_get(r, "filebot");
    char *pw;

    g_assert_nonnull(ra);
    g_assert_true(ra->from_config);
    g_assert_cmpstr(ra->rec->group, ==, "lobby"); /* folded */
    g_assert_cmpstr(ra->rec->mode, ==, "contacts");
    g_assert_cmpuint(ra->rec->pace_burst, ==, REGISTRY_PACE_BURST);
    g_assert_cmpfloat(ra->rec->pace_rate, ==, 0.5);
    g_assert_cmpstr(g_hash_table_lookup(ra->rec->options, "port"), ==, "6667");
    g_assert_cmpint(ra->state, ==, REGISTRY_OFFLINE);
    g_assert_true(stored(f, "filebot"));
    pw = stored_password(f, "filebot");
    g_assert_cmpstr(pw, ==, "filepw");
    g_free(pw);
    registry_start_all(r);
    g_assert_cmpstr(f->calls->str, ==, "start filebot filepw;");
    g_assert_cmpint(ra->state, ==, REGISTRY_STARTING);
    g_assert_cmpstr(registry_state_name(ra->state), ==, "starting");
    registry_free(r);
}

static void an_admins_disable_survives_a_restart(fixture *f, gconstpointer d)
{
    registry *r = open_registry(f, BASE FILEBOT);
    char *why = NULL;

    g_assert_cmpint(registry_enable(r, "filebot", FALSE, &why), ==, 0);
    g_assert_null(why);
    g_assert_cmpstr(f->calls->str, ==, "stop filebot;");
    registry_free(r);
    testutil_store_reopen(&f->ts);
    g_string_truncate(f->calls, 0);
    r = open_registry(f, BASE FILEBOT);
    g_assert_false(registry_get(r, "filebot")->rec->enabled);
    g_assert_cmpint(registry_get(r, "filebot")->state, ==, REGISTRY_DISABLED);
    registry_start_all(r);
    g_assert_cmpstr(f->calls->str, ==, "");
    registry_free(r);
}

static void the_files_account_cannot_be_changed_or_removed(fixture *f,
                                                           gconstpointer d)
{
    registry *r = open_registry(f, BASE FILEBOT);
    account_rec *a = account_rec_copy(registry_get(r, "filebot")->rec);
    char *why = NULL;

    g_assert_cmpint(registry_change(r, a, NULL, &why), ==, -1);
    g_assert_cmpstr(why, ==,
                    "filebot is defined in test.ini; edit the file and send "
                    "SIGHUP");
    g_clear_pointer(&why, g_free);
    g_assert_cmpint(registry_remove(r, "filebot", &why), ==, -1);
    g_assert_nonnull(strstr(why, "edit the file"));
    g_clear_pointer(&why, g_free);
    g_assert_true(stored(f, "filebot"));
    g_assert_cmpstr(f->calls->str, ==, "");
    account_rec_free(a);
    registry_free(r);
}

static const struct {
    const char *what;
    const char *field;
    const char *value;
    const char *why_starts;
} bad_adds[] = {
    {"an upper-case name", "name", "Bot", "name"},
    {"an empty name", "name", "", "name"},
    {"a name with a space", "name", "a b", "name"},
    {"no protocol", "protocol", "", "protocol"},
    {"no username", "username", NULL, "username"},
    {"a group with an @", "group", "a@b", "group"},
    {"an unknown mode", "mode", "party", "mode"},
    {"chat mode without a chat", "mode", "chat", "chat"},
    {"a chat in contacts mode", "chat", "#x", "chat"},
};

static void set_field(account_rec *a, const char *field, const char *value)
{
    char **slot = !strcmp(field, "name")       ? &a->name
                  : !strcmp(field, "protocol") ? &a->protocol
                  : !strcmp(field, "username") ? &a->username
                  : !strcmp(field, "group")    ? &a->group
                  : !strcmp(field, "mode")     ? &a->mode
                                               : &a->chat;
    g_free(*slot);
    *slot = g_strdup(value);
}

static void adds_with_a_bad_field_are_refused(fixture *f, gconstpointer d)
{
    registry *r = open_registry(f, BASE);

    for (size_t i = 0; i < G_N_ELEMENTS(bad_adds); i++) {
        account_rec *a = make("bot");
        char *why = NULL;
        g_test_message("%s", bad_adds[i].what);
        set_field(a, bad_adds[i].field, bad_adds[i].value);
        g_assert_cmpint(registry_add(r, a, "pw", &why), ==, -1);
        g_assert_true(g_str_has_prefix(why, bad_adds[i].why_starts));
        g_free(why);
        account_rec_free(a);
    }
    {
        account_rec *a = make("bot");
        char *why = NULL;
        a->pace_burst = 0;
        g_assert_cmpint(registry_add(r, a, "pw", &why), ==, -1);
        g_assert_true(g_str_has_prefix(why, "pace_burst"));
        g_clear_pointer(&why, g_free);
        a->pace_burst = 1;
        a->pace_rate = 0;
        g_assert_cmpint(registry_add(r, a, "pw", &why), ==, -1);
        g_assert_true(g_str_has_prefix(why, "pace_rate"));
        g_free(why);
        account_rec_free(a);
    }
    g_assert_false(stored(f, "bot"));
    g_assert_cmpstr(f->calls->str, ==, "");
    registry_free(r);
}

static void an_added_account_is_stored_started_and_survives(fixture *f,
                                                            gconstpointer d)
{
    registry *r = open_registry(f, BASE);
    account_rec *a = make("team.bot");
    char *why = NULL, *pw;

    g_assert_cmpint(registry_add(r, a, "sesame", &why), ==, 0);
    g_assert_null(why);
    g_assert_cmpstr(f->calls->str, ==, "start team.bot sesame;");
    g_assert_cmpstr(registry_get(r, "team.bot")->rec->group, ==, "team");
    g_assert_false(registry_get(r, "team.bot")->from_config);
    g_assert_cmpint(registry_add(r, a, "x", &why), ==, -1);
    g_assert_cmpstr(why, ==, "an account named team.bot already exists");
    g_free(why);
    registry_free(r);
    testutil_store_reopen(&f->ts);
    r = open_registry(f, BASE);
    g_assert_nonnull(registry_get(r, "team.bot"));
    pw = stored_password(f, "team.bot");
    g_assert_cmpstr(pw, ==, "sesame");
    g_free(pw);
    account_rec_free(a);
    registry_free(r);
}

static void a_change_without_password_keeps_it(fixture *f, gconstpointer d)
{
    registry *r = open_registry(f, BASE);
    account_rec *a = make("bot");
    char *why = NULL, *pw;

    g_assert_cmpint(registry_add(r, a, "first", &why), ==, 0);
    g_string_truncate(f->calls, 0);
    set_field(a, "username", "other@example.org");
    g_assert_cmpint(registry_change(r, a, NULL, &why), ==, 0);
    g_assert_cmpstr(registry_get(r, "bot")->rec->username, ==,
                    "other@example.org");
    pw = stored_password(f, "bot");
    g_assert_cmpstr(pw, ==, "first");
    g_free(pw);
    /* a change restarts the account with the kept password */
    g_assert_cmpstr(f->calls->str, ==, "start bot first;");
    g_assert_cmpint(registry_change(r, a, "second", &why), ==, 0);
    pw = stored_password(f, "bot");
    g_assert_cmpstr(pw, ==, "second");
    g_free(pw);
    set_field(a, "name", "nobody");
    g_assert_cmpint(registry_change(r, a, NULL, &why), ==, -1);
    g_assert_cmpstr(why, ==, "there is no account named nobody");
    g_free(why);
    account_rec_free(a);
    registry_free(r);
}

static void enable_and_disable_call_the_hooks_once(fixture *f, gconstpointer d)
{
    registry *r = open_registry(f, BASE);
    account_rec *a = make("bot");
    char *why = NULL;

    a->enabled = FALSE;
    g_assert_cmpint(registry_add(r, a, "pw", &why), ==, 0);
    g_assert_cmpint(registry_get(r, "bot")->state, ==, REGISTRY_DISABLED);
    g_assert_cmpstr(f->calls->str, ==, "");
    /* a worker's late report does not wake a disabled account */
    registry_set_state(r, "bot", REGISTRY_OFFLINE, "gone");
    g_assert_cmpint(registry_get(r, "bot")->state, ==, REGISTRY_DISABLED);
    g_assert_cmpint(registry_enable(r, "bot", TRUE, &why), ==, 0);
    g_assert_cmpint(registry_enable(r, "bot", TRUE, &why), ==, 0);
    g_assert_cmpstr(f->calls->str, ==, "start bot pw;");
    registry_set_state(r, "bot", REGISTRY_QUARANTINED, "crashed 5 times");
    g_assert_cmpstr(registry_get(r, "bot")->last_error, ==, "crashed 5 times");
    /* enabling a quarantined account runs it again */
    g_assert_cmpint(registry_enable(r, "bot", TRUE, &why), ==, 0);
    g_assert_cmpstr(f->calls->str, ==, "start bot pw;start bot pw;");
    g_assert_cmpint(registry_enable(r, "bot", FALSE, &why), ==, 0);
    g_assert_cmpint(registry_enable(r, "bot", FALSE, &why), ==, 0);
    g_assert_cmpstr(f->calls->str, ==, "start bot pw;start bot pw;stop bot;");
    g_assert_cmpint(registry_enable(r, "nobody", TRUE, &why), ==, -1);
    g_free(why);
    account_rec_free(a);
    registry_free(r);
}

static void removing_deletes_the_record_and_the_password(fixture *f,
                                                         gconstpointer d)
{
    registry *r = open_registry(f, BASE);
    account_rec *a = make("bot");
    char *why = NULL, *pw;

    g_assert_cmpint(registry_add(r, a, "pw", &why), ==, 0);
    g_assert_cmpint(registry_remove(r, "bot", &why), ==, 0);
    g_assert_null(registry_get(r, "bot"));
    g_assert_false(stored(f, "bot"));
    pw = stored_password(f, "bot");
    g_assert_cmpstr(pw, ==, "");
    g_free(pw);
    g_assert_cmpstr(f->calls->str, ==, "start bot pw;stop bot;");
    account_rec_free(a);
    registry_free(r);
}

static void
a_reload_starts_restarts_and_stops_only_what_changed(fixture *f,
                                                     gconstpointer d)
{
    registry *r = open_registry(f, BASE FILEBOT
                                "[account:same]\nprotocol = p\nusername = u\n"
                                "group = g\n"
                                "[account:gone]\nprotocol = p\nusername = u\n"
                                "group = g\n");
    config *fresh;

    registry_start_all(r);
    g_string_truncate(f->calls, 0);
    fresh = load(BASE "[account:filebot]\nprotocol = prpl-irc\n"
                      "username = fb@127.0.0.1\npassword = newpw\n"
                      "group = Lobby\noption.port = 6667\n"
                      "pace_rate = 0.5\n"
                      "[account:same]\nprotocol = p\nusername = u\n"
                      "group = g\n"
                      "[account:new]\nprotocol = p\nusername = u\n"
                      "group = g\n");
    g_assert_cmpint(registry_reload(r, fresh), ==, 0);
    config_free(fresh);
    g_assert_cmpstr(f->calls->str, ==,
                    "stop gone;start filebot newpw;start new ;");
    g_assert_null(registry_get(r, "gone"));
    g_assert_false(stored(f, "gone"));
    g_assert_nonnull(registry_get(r, "new"));
    g_assert_true(registry_get(r, "new")->from_config);
    registry_free(r);
    /* a restart without a section drops its account too */
    testutil_store_reopen(&f->ts);
    r = open_registry(f, BASE);
    g_assert_null(registry_get(r, "filebot"));
    g_assert_false(stored(f, "filebot"));
    registry_free(r);
}

static void member_add_goes_through_the_hook(fixture *f, gconstpointer d)
{
    registry *r = open_registry(f, BASE);
    char *why = NULL;

    g_assert_cmpint(registry_member_add(r, "g", "bot", "carol", &why), ==, 0);
    g_assert_cmpstr(f->calls->str, ==, "member g bot carol;");
    registry_set_hooks(r, NULL, NULL);
    g_assert_cmpint(registry_member_add(r, "g", "bot", "carol", &why), ==, -1);
    g_assert_cmpstr(why, ==, "legacy bridge not running");
    g_free(why);
    registry_free(r);
}

/* ---- shards: every instance reads the same file (docs/cluster.md) ---- */

/* Among 2 shards of groups.localhost, lobby is shard 0's and chan shard
 * 1's (shard_of, as ejabberd routes them). */
#define CLUSTER(k) "[cluster]\nshards = 2\nshard = " #k "\n"
#define TWO_BOTS                                                               \
    "[account:lobbybot]\nprotocol = prpl-irc\nusername = lb@127.0.0.1\n"      \
    "password = lobbypw\ngroup = Lobby\n"                                      \
    "[account:chanbot]\nprotocol = prpl-irc\nusername = cb@127.0.0.1\n"       \
    "password = chanpw\ngroup = chan\nmode = chat\nchat = #chan\n"

static gboolean group_stored(testutil_store *ts, const char *group)
{
    MDB_txn *txn;
    group_cfg *g = NULL;
    int rc;

    g_assert_cmpint(store_read_begin(ts->s, &txn, NULL), ==, 0);
    rc = groups_get(txn, ts->s, group, &g);
    store_read_end(txn);
    group_cfg_free(g);
    return rc == 0;
}

static void each_shard_starts_only_the_accounts_of_its_own_groups(
    fixture *f, gconstpointer d)
{
    testutil_store other;
    registry *r = open_registry(f, BASE CLUSTER(0) TWO_BOTS), *r1;
    registry_account *away;
    config *cfg;
    GError *err = NULL;
    char *text;

    registry_start_all(r);
    g_assert_cmpstr(f->calls->str, ==, "start lobbybot lobbypw;");
    away = registry_get(r, "chanbot");
    g_assert_nonnull(away); /* known, listed */
    g_assert_cmpint(away->state, ==, REGISTRY_ELSEWHERE);
    g_assert_cmpuint(away->shard, ==, 1);
    text = registry_state_text(away);
    g_assert_cmpstr(text, ==, "elsewhere (shard 1)");
    g_free(text);
    g_assert_cmpuint(registry_get(r, "lobbybot")->shard, ==, 0);
    /* neither its record, its password nor its group is in shard 0's store */
    g_assert_false(stored(f, "chanbot"));
    g_assert_false(group_stored(&f->ts, "chan"));
    g_assert_true(group_stored(&f->ts, "lobby"));
    /* a late report from the legacy side changes nothing */
    registry_set_state(r, "chanbot", REGISTRY_ONLINE, "x");
    g_assert_cmpint(away->state, ==, REGISTRY_ELSEWHERE);
    registry_free(r);

    /* shard 1, on its own store, with the same file: the other way round */
    testutil_store_setup(&other, NULL);
    cfg = load(BASE CLUSTER(1) TWO_BOTS);
    g_assert_cmpint(registry_new(cfg, other.s, &r1, &err), ==, 0);
    g_assert_no_error(err);
    g_assert_cmpuint(registry_group_shard(cfg, "Lobby"), ==, 0);
    g_assert_cmpuint(registry_group_shard(cfg, "chan"), ==, 1);
    config_free(cfg);
    g_string_truncate(f->calls, 0);
    registry_set_hooks(r1, &hooks, f);
    registry_start_all(r1);
    g_assert_cmpstr(f->calls->str, ==, "start chanbot chanpw;");
    g_assert_cmpint(registry_get(r1, "lobbybot")->state, ==,
                    REGISTRY_ELSEWHERE);
    g_assert_true(group_stored(&other, "chan"));
    g_assert_false(group_stored(&other, "lobby"));
    registry_free(r1);
    testutil_store_teardown(&other, NULL);
}

static void another_shards_account_is_refused_naming_that_shard(
    fixture *f, gconstpointer d)
{
    registry *r = open_registry(f, BASE CLUSTER(0) TWO_BOTS);
    account_rec *a = make("newbot");
    char *why = NULL;

    registry_start_all(r);
    g_string_truncate(f->calls, 0);
    /* an add for a group of shard 1 */
    set_field(a, "group", "Chan");
    g_assert_cmpint(registry_add(r, a, "pw", &why), ==, -1);
    g_assert_cmpstr(why, ==,
                    "group chan is served by shard 1 of 2 and its bot account "
                    "runs there, not on this instance (shard 0); accounts for "
                    "it are named in the configuration file every instance "
                    "reads");
    g_clear_pointer(&why, g_free);
    g_assert_null(registry_get(r, "newbot"));
    g_assert_false(stored(f, "newbot"));
    /* a change that would move an account of this shard there */
    set_field(a, "group", "team");
    g_assert_cmpint(registry_add(r, a, "pw", &why), ==, 0);
    g_string_truncate(f->calls, 0);
    set_field(a, "group", "chan");
    g_assert_cmpint(registry_change(r, a, NULL, &why), ==, -1);
    g_assert_nonnull(strstr(why, "served by shard 1 of 2"));
    g_clear_pointer(&why, g_free);
    g_assert_cmpstr(registry_get(r, "newbot")->rec->group, ==, "team");
    /* enable, disable: shard 1 keeps chanbot's flag */
    g_assert_cmpint(registry_enable(r, "chanbot", FALSE, &why), ==, -1);
    g_assert_nonnull(strstr(why, "served by shard 1 of 2"));
    g_clear_pointer(&why, g_free);
    g_assert_cmpint(registry_enable(r, "chanbot", TRUE, &why), ==, -1);
    g_clear_pointer(&why, g_free);
    /* remove: it is the file's */
    g_assert_cmpint(registry_remove(r, "chanbot", &why), ==, -1);
    g_assert_nonnull(strstr(why, "edit the file"));
    g_clear_pointer(&why, g_free);
    g_assert_cmpstr(f->calls->str, ==, "");
    account_rec_free(a);
    registry_free(r);
}

static void a_reload_that_moves_a_group_to_another_shard_stops_its_bot(
    fixture *f, gconstpointer d)
{
    registry *r = open_registry(f, BASE CLUSTER(0) TWO_BOTS);
    config *fresh;

    registry_start_all(r);
    g_string_truncate(f->calls, 0);
    /* lobbybot now serves alpha (shard 1); chanbot serves team (shard 0) */
    fresh = load(BASE CLUSTER(0)
                 "[account:lobbybot]\nprotocol = prpl-irc\n"
                 "username = lb@127.0.0.1\npassword = lobbypw\n"
                 "group = alpha\n"
                 "[account:chanbot]\nprotocol = prpl-irc\n"
                 "username = cb@127.0.0.1\npassword = chanpw\n"
                 "group = team\nmode = chat\nchat = #chan\n");
    g_assert_cmpint(registry_reload(r, fresh), ==, 0);
    config_free(fresh);
    g_assert_cmpstr(f->calls->str, ==, "start chanbot chanpw;stop lobbybot;");
    g_assert_cmpint(registry_get(r, "lobbybot")->state, ==,
                    REGISTRY_ELSEWHERE);
    g_assert_cmpstr(registry_get(r, "lobbybot")->rec->group, ==, "alpha");
    g_assert_cmpint(registry_get(r, "chanbot")->state, ==, REGISTRY_STARTING);
    g_assert_false(group_stored(&f->ts, "alpha"));
    /* a section of another shard's gone from the file: no longer listed */
    g_string_truncate(f->calls, 0);
    fresh = load(BASE CLUSTER(0)
                 "[account:chanbot]\nprotocol = prpl-irc\n"
                 "username = cb@127.0.0.1\npassword = chanpw\n"
                 "group = team\nmode = chat\nchat = #chan\n");
    g_assert_cmpint(registry_reload(r, fresh), ==, 0);
    config_free(fresh);
    g_assert_null(registry_get(r, "lobbybot"));
    g_assert_cmpstr(f->calls->str, ==, "");
    registry_free(r);
}

static void a_stored_account_of_another_shards_group_is_kept_not_started(
    fixture *f, gconstpointer d)
{
    registry *r = open_registry(f, BASE);
    account_rec *a = make("oldbot");
    char *why = NULL;

    /* added before the service was sharded */
    set_field(a, "group", "chan");
    g_assert_cmpint(registry_add(r, a, "pw", &why), ==, 0);
    registry_free(r);
    g_string_truncate(f->calls, 0);
    r = open_registry(f, BASE CLUSTER(0));
    registry_start_all(r);
    g_assert_cmpstr(f->calls->str, ==, "");
    g_assert_cmpint(registry_get(r, "oldbot")->state, ==, REGISTRY_ELSEWHERE);
    g_assert_true(stored(f, "oldbot"));
    g_assert_cmpint(registry_remove(r, "oldbot", &why), ==, -1);
    g_assert_nonnull(strstr(why, "served by shard 1 of 2"));
    g_free(why);
    g_assert_true(stored(f, "oldbot"));
    account_rec_free(a);
    registry_free(r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define T(name)                                                                \
    g_test_add("/registry/" #name, fixture, NULL, setup, name, teardown)
    T(the_files_account_is_stored_and_started);
    T(an_admins_disable_survives_a_restart);
    T(the_files_account_cannot_be_changed_or_removed);
    T(adds_with_a_bad_field_are_refused);
    T(an_added_account_is_stored_started_and_survives);
    T(a_change_without_password_keeps_it);
    T(enable_and_disable_call_the_hooks_once);
    T(removing_deletes_the_record_and_the_password);
    T(a_reload_starts_restarts_and_stops_only_what_changed);
    T(member_add_goes_through_the_hook);
    T(each_shard_starts_only_the_accounts_of_its_own_groups);
    T(another_shards_account_is_refused_naming_that_shard);
    T(a_reload_that_moves_a_group_to_another_shard_stops_its_bot);
    T(a_stored_account_of_another_shards_group_is_kept_not_started);
#undef T
    return g_test_run();
}
