/* Tests for delivery: how a digest reads over IM, which archive records
 * go to whom (a line itself: test_bridge_render.c). */
#include <string.h>

#include "bridge_int.h"
#include "delivery.h"
#include "outbox.h"
#include "registry.h"
#include "testutil.h"

static void a_digest_counts_everything_and_shows_the_last_lines(void)
{
    GQueue lines = G_QUEUE_INIT;
    char *t;

    g_queue_push_tail(&lines, "<a> 9");
    g_queue_push_tail(&lines, "<b> 10");
    t = delivery_digest(10, &lines);
    g_assert_cmpstr(t, ==,
                    "(10 messages while you were away; the last 2:)\n"
                    "<a> 9\n<b> 10");
    g_free(t);
    g_queue_clear(&lines);
}


static void a_target_gets_lines_with_a_body_said_by_someone_else(void)
{
    static const struct {
        const char *account, *handle, *body;
        char kind;
        const char *target;
        gboolean want;
    } cases[] = {
        /* an XMPP occupant's line goes to every member and chat */
        {NULL, NULL, "hi", 'i', "bob", TRUE},
        {NULL, NULL, "hi", 'c', "#chan", TRUE},
        /* a subject change alone is no line */
        {NULL, NULL, NULL, 'i', "bob", FALSE},
        /* a member's own line is not echoed to them; others get it */
        {"irc", "bob", "hi", 'i', "bob", FALSE},
        {"irc", "bob", "hi", 'i', "carol", TRUE},
        {"msn", "bob", "hi", 'i', "bob", TRUE},
        /* a chat's lines do not go back to that chat */
        {"irc", "someone", "hi", 'c', "#chan", FALSE},
        {"msn", "someone", "hi", 'c', "#chan", TRUE},
    };
    static const archive_msg nobody[] = {
        /* withdrawn: a tombstone; a retraction: told by its own notice */
        {.nick = "a", .retracted = "2026-12-05T23:00:00Z"},
        {.nick = "a", .body = "retracted", .retract_of = "x"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        archive_msg m = {.sender_account = (char *)cases[i].account,
                         .sender_handle = (char *)cases[i].handle,
                         .body = (char *)cases[i].body,
                         .subject = cases[i].body ? NULL : "topic"};
        g_assert_cmpint(
            delivery_for(&m, "irc", cases[i].kind, cases[i].target), ==,
            cases[i].want);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(nobody); i++)
        g_assert_false(delivery_for(&nobody[i], "irc", 'i', "bob"));
    /* a payload alone (a reaction) may be a line */
    g_assert_true(delivery_for(
        &(archive_msg){.nick = "a", .payload = "<reactions/>"}, "irc", 'i',
        "bob"));
}

/* ---- a message withdrawn: who is told ---- */

typedef struct club {
    bridge b;
    bacct a;
    const char *said_by[4]; /* archive seqs 1..3: XMPP (NULL) or a handle */
    guint64 seq;            /* delivery_retracted's argument */
    const char *by;         /* a moderator withdrew it */
    int rc;
} club;

static int club_txn(MDB_txn *txn, const store *st, void *userdata)
{
    club *c = userdata;
    static const struct {
        char kind;
        const char *target;
        guint64 upto; /* confirmed */
    } targets[] = {
        {'i', "bob", 3}, {'i', "carol", 0}, {'i', "dave", 2},
        {'c', "#chan", 2}, {'i', "erin", 0},
    };
    archive_msg first = {.nick = "alice", .body = "before anyone"};
    outbox_msg copy = {.account = "irc", .kind = 'i', .target = "erin",
                       .group = "club", .archive_seq = 2, .nick = "alice",
                       .body = "a copy by schema 2"};
    int rc = archive_append(txn, st, "club", &first);

    g_free(first.stanza_id);
    /* everyone joins after seq 1 */
    for (gsize i = 0; rc == 0 && i < G_N_ELEMENTS(targets); i++)
        rc = outbox_cursor_start(txn, st, "irc", targets[i].kind,
                                 targets[i].target, "club");
    for (int i = 2; rc == 0 && i <= 3; i++) {
        archive_msg m = {.nick = c->said_by[i] ? "bob" : "alice",
                         .body = "words",
                         .sender_account = c->said_by[i] ? "irc" : NULL,
                         .sender_handle = (char *)c->said_by[i]};
        rc = archive_append(txn, st, "club", &m);
        g_free(m.stanza_id);
    }
    for (gsize i = 0; rc == 0 && i < G_N_ELEMENTS(targets); i++)
        if (targets[i].upto)
            rc = outbox_cursor_advance(txn, st, "irc", targets[i].kind,
                                       targets[i].target, targets[i].upto);
    if (rc == 0)
        rc = outbox_add(txn, st, &copy);
    c->rc = rc;
    return rc;
}

static int retract_txn(MDB_txn *txn, const store *st, void *userdata)
{
    club *c = userdata;
    archive_msg *m = NULL;

    if (c->by) {
        /* a moderator's tombstone, as XEP-0425 leaves it */
        c->rc = archive_get(txn, st, "club", c->seq, &m);
        if (c->rc != 0)
            return c->rc;
        g_clear_pointer(&m->body, g_free);
        m->retracted = g_strdup("2026-12-05T23:00:00Z");
        m->retracted_by = g_strdup(c->by);
        c->rc = archive_replace(txn, st, "club", m);
        archive_msg_free(m);
        if (c->rc != 0)
            return c->rc;
    }
    c->rc = delivery_retracted(txn, st, "club", c->seq, "alice", &c->b);
    return c->rc;
}

static int collect(const outbox_msg *m, void *userdata)
{
    g_string_append_printf(userdata, "%c%s:%s|", m->kind, m->target,
                           m->body);
    return 0;
}

/* "kind target:body|" for every entry of the account's targets. */
static char *entries(testutil_store *f)
{
    static const char *const keys[] = {"ibob", "icarol", "idave", "c#chan",
                                       "ierin"};
    GString *got = g_string_new(NULL);
    MDB_txn *txn = NULL;

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    for (gsize i = 0; i < G_N_ELEMENTS(keys); i++)
        g_assert_cmpint(outbox_foreach_target(txn, f->s, "irc", keys[i][0],
                                              keys[i] + 1, 0, collect, got),
                        ==, 0);
    store_read_end(txn);
    return g_string_free(got, FALSE);
}

/* Withdraws c->seq; the account's entries are then want. */
static void retract_and_expect(testutil_store *f, club *c, const char *want)
{
    char *got;

    testutil_store_write(f, retract_txn, c, &c->rc);
    got = entries(f);
    g_assert_cmpstr(got, ==, want);
    g_free(got);
}

static void club_setup(testutil_store *f, club *c)
{
    c->b.st = f->s;
    c->b.accts = g_hash_table_new(g_str_hash, g_str_equal);
    c->a.b = &c->b;
    c->a.name = "irc";
    c->a.group = "club";
    delivery_init(&c->a);
    g_hash_table_insert(c->b.accts, c->a.name, &c->a);
    testutil_store_write(f, club_txn, c, &c->rc);
}

static void club_teardown(club *c)
{
    if (c->b.pump_id)
        g_source_remove(c->b.pump_id);
    delivery_clear(&c->a);
    g_hash_table_destroy(c->b.accts);
}

static void a_withdrawn_message_is_news_only_to_those_who_had_it(
    testutil_store *f, gconstpointer data)
{
    club c = {.said_by = {NULL, NULL, NULL, "bob"}};
    char *got;

    club_setup(f, &c);
    /* carol's copy of seq 2 is in flight (handed out, not confirmed) */
    g_hash_table_insert(c.a.sent, g_strdup("icarol"),
                        g_memdup2(&(guint64[2]){2, 0}, 2 * sizeof(guint64)));
    c.seq = 2;
    testutil_store_write(f, retract_txn, &c, &c.rc);
    got = entries(f);
    /* bob and dave and the chat had it, carol has it in flight; erin
     * never had it: she gets nothing, and the copy schema 2 queued for
     * her is gone */
    g_assert_cmpstr(got, ==,
                    "ibob:* alice deleted a message|"
                    "icarol:* alice deleted a message|"
                    "idave:* alice deleted a message|"
                    "c#chan:* alice deleted a message|");
    g_free(got);
    g_assert_true(g_hash_table_contains(c.a.dirty, "ibob"));
    g_assert_true(g_hash_table_contains(c.a.dirty, "c#chan"));
    g_assert_false(g_hash_table_contains(c.a.dirty, "ierin"));
    g_assert_cmpuint(c.b.pump_id, !=, 0);
    club_teardown(&c);
}

static void nobody_is_told_of_what_came_before_them_or_of_their_own_words(
    testutil_store *f, gconstpointer data)
{
    club c = {.said_by = {NULL, NULL, NULL, "bob"}};

    club_setup(f, &c);
    c.seq = 1; /* said before anyone joined */
    testutil_store_write(f, retract_txn, &c, &c.rc);
    c.seq = 3; /* bob's own; dave, the chat and the others never had it */
    retract_and_expect(f, &c, "ierin:a copy by schema 2|");
    club_teardown(&c);
}

/* A line said in a group wakes the pump only when one of its bot accounts
 * has someone to reach; otherwise it costs the main loop nothing. */
static void a_line_wakes_the_pump_only_when_someone_can_be_reached(void)
{
    bridge b = {.accts = g_hash_table_new(g_str_hash, g_str_equal)};
    bacct a = {.b = &b, .name = "irc", .group = "club", .up = TRUE};

    a.online = g_hash_table_new(g_str_hash, g_str_equal);
    a.dirty = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_hash_table_insert(b.accts, a.name, &a);

    delivery_woken("club", &b); /* nobody online */
    g_assert_cmpuint(b.pump_id, ==, 0);
    g_hash_table_insert(a.online, "bob", "");
    delivery_woken("other", &b); /* another group's line */
    g_assert_cmpuint(b.pump_id, ==, 0);
    delivery_woken("club", &b);
    g_assert_cmpuint(b.pump_id, !=, 0);
    g_assert_true(g_hash_table_contains(a.dirty, "ibob"));

    g_source_remove(b.pump_id);
    g_hash_table_destroy(a.dirty);
    g_hash_table_destroy(a.online);
    g_hash_table_destroy(b.accts);
}

static void a_notice_of_moderation_names_the_moderator(testutil_store *f,
                                                      gconstpointer data)
{
    club c = {.said_by = {NULL, NULL, NULL, "bob"}, .seq = 2, .by = "mod"};

    club_setup(f, &c);
    retract_and_expect(f, &c,
                       "ibob:* mod deleted a message by alice|"
                       "idave:* mod deleted a message by alice|"
                       "c#chan:* mod deleted a message by alice|");
    club_teardown(&c);
}

/* An account that does not run now (stopped, quarantined) is found in the
 * registry: its members who had the line are told once it is back. */
static void the_members_of_an_account_that_does_not_run_are_told_too(
    testutil_store *f, gconstpointer data)
{
    static const char text[] =
        "[component]\njid = groups.localhost\nhost = 127.0.0.1\n"
        "port = 5347\nsecret = s\n[storage]\npath = /tmp/unused\n"
        "[account:irc]\nprotocol = prpl-irc\nusername = b@127.0.0.1\n"
        "group = club\n";
    club c = {.said_by = {NULL, NULL, NULL, "bob"}, .seq = 2};
    GPtrArray *problems = g_ptr_array_new_with_free_func(g_free);
    config *cfg = NULL;
    GError *err = NULL;

    club_setup(f, &c);
    g_hash_table_remove_all(c.b.accts);
    g_assert_cmpint(config_load_data("test.ini", text, strlen(text), &cfg,
                                     problems),
                    ==, 0);
    g_assert_cmpint(registry_new(cfg, f->s, &c.b.reg, &err), ==, 0);
    retract_and_expect(f, &c,
                       "ibob:* alice deleted a message|"
                       "idave:* alice deleted a message|"
                       "c#chan:* alice deleted a message|");
    registry_free(c.b.reg);
    config_free(cfg);
    g_ptr_array_unref(problems);
    club_teardown(&c);
}

int main(int argc, char **argv)
{
    static const testutil_store_case tests[] = {
        {"/delivery/a_withdrawn_message_is_news_only_to_those_who_had_it",
         a_withdrawn_message_is_news_only_to_those_who_had_it},
        {"/delivery/"
         "nobody_is_told_of_what_came_before_them_or_of_their_own_words",
         nobody_is_told_of_what_came_before_them_or_of_their_own_words},
        {"/delivery/a_notice_of_moderation_names_the_moderator",
         a_notice_of_moderation_names_the_moderator},
        {"/delivery/the_members_of_an_account_that_does_not_run_are_told_too",
         the_members_of_an_account_that_does_not_run_are_told_too},
    };

    g_test_init(&argc, &argv, NULL);
    testutil_store_add(tests, G_N_ELEMENTS(tests));
    g_test_add_func(
        "/delivery/a_digest_counts_everything_and_shows_the_last_lines",
        a_digest_counts_everything_and_shows_the_last_lines);
    g_test_add_func(
        "/delivery/a_target_gets_lines_with_a_body_said_by_someone_else",
        a_target_gets_lines_with_a_body_said_by_someone_else);
    g_test_add_func(
        "/delivery/a_line_wakes_the_pump_only_when_someone_can_be_reached",
        a_line_wakes_the_pump_only_when_someone_can_be_reached);
    return g_test_run();
}
