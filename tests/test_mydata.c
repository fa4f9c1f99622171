/* test_mydata: one person's data (component/admin/mydata.c) — the export
 * holds their records and messages and nothing of anyone else's, pages its
 * messages and stays within its bound; the erasure leaves no record of any
 * database naming them, their messages tombstones of nobody; and the
 * schema functions under them (affiliations_forget, nicks_foreach_jid,
 * archive_job_erase_*, noticed). */
#include <string.h>

#include <glib.h>

#include "affiliations.h"
#include "archive.h"
#include "groups.h"
#include "members.h"
#include "mydata.h"
#include "nicks.h"
#include "noticed.h"
#include "outbox.h"
#include "store.h"
#include "testutil.h"

typedef testutil_store fixture;

#define ALICE "alice@example.org"
#define BOB   "bob@example.org"

typedef struct fill_args {
    int rc;
    guint extra; /* more messages from alice */
} fill_args;

static int say(MDB_txn *txn, const store *s, const char *group,
               const char *nick, const char *bare, const char *account,
               const char *handle, const char *body)
{
    archive_msg m = {
        .nick = (char *)nick,
        .occupant_id = "occ-id",
        .sender_jid = (char *)bare,
        .sender_account = (char *)account,
        .sender_handle = (char *)handle,
        .body = (char *)body,
        .origin_id = "origin-1",
    };
    int rc = archive_append(txn, s, group, &m);

    g_free(m.stanza_id);
    return rc;
}

/* Two groups; alice owns lobby, is a member of attic with a registered
 * nick, was given the notice, and said things in both; bob likewise
 * elsewhere; zed is a legacy member of lobby through irc1. */
static int fill_txn(MDB_txn *txn, const store *s, void *userdata)
{
    fill_args *a = userdata;
    static const char *const groups[] = {"attic", "lobby"};
    member_rec zed = {.account = "irc1",
                      .handle = "zed",
                      .group = "lobby",
                      .nick = "zedz",
                      .since_us = 1};
    int rc = 0;

    for (guint i = 0; rc == 0 && i < G_N_ELEMENTS(groups); i++) {
        gboolean created;
        rc = groups_ensure(txn, s, groups[i], &created);
    }
    if (rc == 0)
        rc = affiliations_set(txn, s, "lobby", ALICE, AFF_OWNER, NULL);
    if (rc == 0)
        rc = affiliations_set(txn, s, "attic", ALICE, AFF_MEMBER, "friend");
    if (rc == 0)
        rc = affiliations_set(txn, s, "attic", BOB, AFF_OWNER, NULL);
    if (rc == 0)
        rc = nicks_register(txn, s, "attic", ALICE, "Alicia", "alicia");
    if (rc == 0)
        rc = nicks_register(txn, s, "attic", BOB, "Bobby", "bobby");
    if (rc == 0)
        rc = noticed_put(txn, s, ALICE, 1000000);
    if (rc == 0)
        rc = noticed_put(txn, s, BOB, 1000000);
    if (rc == 0)
        rc = members_put(txn, s, &zed);
    if (rc == 0)
        rc = outbox_add(txn, s,
                        &(outbox_msg){.account = "irc1",
                                      .kind = OUTBOX_KIND_IM,
                                      .target = "zed",
                                      .group = "lobby",
                                      .body = "hi zed"});
    if (rc == 0)
        rc = say(txn, s, "lobby", "Alicia", ALICE, NULL, NULL,
                 "aardvark-secret one");
    if (rc == 0)
        rc = say(txn, s, "attic", "Bobby", BOB, NULL, NULL, "bob's words");
    if (rc == 0)
        rc = say(txn, s, "attic", "Alicia", ALICE, NULL, NULL,
                 "aardvark-secret two");
    if (rc == 0)
        rc = say(txn, s, "lobby", "zedz", "zed@irc1.legacy.groups.example",
                 "irc1", "zed", "zebra-words");
    if (rc == 0) {
        /* bob's message that alice, moderating, withdrew */
        archive_msg t = {.nick = "Bobby",
                         .sender_jid = BOB,
                         .retracted = "2026-12-06T00:00:00Z",
                         .retracted_by = "Alicia"};
        rc = archive_append(txn, s, "attic", &t);
        g_free(t.stanza_id);
    }
    for (guint i = 0; rc == 0 && i < a->extra; i++)
        rc = say(txn, s, "lobby", "Alicia", ALICE, NULL, NULL, "more");
    return a->rc = rc;
}

static void fill(fixture *f, guint extra)
{
    fill_args a = {0, extra};

    testutil_store_write(f, fill_txn, &a, &a.rc);
}

static char *export_all(fixture *f, const mydata_person *p, guint *next)
{
    GPtrArray *lines = NULL;
    char *text;

    g_assert_cmpint(mydata_export(f->s, p, 0, 1 << 20, &lines, next), ==, 0);
    g_ptr_array_add(lines, NULL);
    text = g_strjoinv("\n", (char **)lines->pdata);
    g_ptr_array_unref(lines);
    return text;
}

static void
export_holds_that_persons_data_and_nothing_of_anyone_elses(fixture *f,
                                                           gconstpointer data)
{
    mydata_person *p = mydata_person_xmpp(ALICE);
    guint next = 1;
    char *text;

    fill(f, 0);
    text = export_all(f, p, &next);
    g_assert_cmpuint(next, ==, 0);
    g_assert_nonnull(strstr(text, "lobby: owner"));
    g_assert_nonnull(strstr(text, "attic: member"));
    g_assert_nonnull(strstr(text, "attic: Alicia"));
    g_assert_nonnull(strstr(text, "aardvark-secret one"));
    g_assert_nonnull(strstr(text, "aardvark-secret two"));
    g_assert_nonnull(strstr(text, "notice: given"));
    g_assert_nonnull(strstr(text, "2 messages"));
    g_assert_null(strstr(text, "bob"));
    g_assert_null(strstr(text, "Bobby"));
    g_assert_null(strstr(text, "zed"));
    g_free(text);
    mydata_person_free(p);
}

static void export_of_a_legacy_member_holds_their_membership_and_messages(
    fixture *f, gconstpointer data)
{
    mydata_person *p = mydata_person_legacy("groups.example", "irc1", "zed");
    guint next = 1;
    char *text;

    fill(f, 0);
    text = export_all(f, p, &next);
    g_assert_nonnull(strstr(text, "group lobby through irc1"));
    g_assert_nonnull(strstr(text, "nick zedz"));
    g_assert_nonnull(strstr(text, "zebra-words"));
    g_assert_nonnull(strstr(text, "1 messages"));
    g_assert_null(strstr(text, "aardvark"));
    g_assert_null(strstr(text, ALICE));
    g_free(text);
    mydata_person_free(p);
}

static void
export_pages_the_messages_and_stays_within_its_bound(fixture *f,
                                                     gconstpointer data)
{
    mydata_person *p = mydata_person_xmpp(ALICE);
    GPtrArray *lines = NULL;
    guint next = 0, total = 0, shown;
    gsize bytes = 0;

    fill(f, MYDATA_PAGE + 10);
    g_assert_cmpint(mydata_export(f->s, p, 0, 1 << 20, &lines, &next), ==, 0);
    g_assert_cmpuint(next, ==, MYDATA_PAGE);
    g_ptr_array_unref(lines);
    g_assert_cmpint(mydata_export(f->s, p, next, 1 << 20, &lines, &next), ==,
                    0);
    g_assert_cmpuint(next, ==, 0);
    g_ptr_array_unref(lines);
    /* A small bound: fewer messages, the page ends within it (the summary
     * line has its own room). */
    g_assert_cmpint(mydata_export(f->s, p, 0, 2048, &lines, &next), ==, 0);
    for (guint i = 0; i + 1 < lines->len; i++) {
        const char *l = g_ptr_array_index(lines, i);
        bytes += strlen(l) + MYDATA_LINE_OVERHEAD;
        total += strstr(l, "] ") != NULL;
    }
    shown = total;
    g_assert_cmpuint(bytes, <=, 2048);
    g_assert_cmpuint(shown, <, MYDATA_PAGE);
    g_assert_cmpuint(next, ==, shown);
    g_ptr_array_unref(lines);
    mydata_person_free(p);
}

/* Whether any key or value of any database holds needle. */
static gboolean store_holds(fixture *f, const char *needle)
{
    MDB_txn *txn = NULL;
    gboolean found = FALSE;
    size_t n = strlen(needle);

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    for (int i = 0; i < STORE_DB_COUNT && !found; i++) {
        MDB_cursor *cur;
        MDB_val k, d;
        int rc;

        g_assert_cmpint(mdb_cursor_open(txn, store_dbi(f->s, i), &cur), ==, 0);
        for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0 && !found;
             rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT))
            found = memmem(k.mv_data, k.mv_size, needle, n) ||
                    memmem(d.mv_data, d.mv_size, needle, n);
        mdb_cursor_close(cur);
    }
    store_read_end(txn);
    return found;
}

static void erasure_leaves_no_record_naming_the_person(fixture *f,
                                                       gconstpointer data)
{
    mydata_person *p = mydata_person_xmpp(ALICE);
    mydata_erased e;
    GError *err = NULL;
    static const char *const gone[] = {ALICE, "Alicia", "alicia",
                                       "aardvark-secret"};

    fill(f, 0);
    for (size_t i = 0; i < G_N_ELEMENTS(gone); i++)
        g_assert_true(store_holds(f, gone[i]));
    g_assert_cmpint(mydata_erase(f->s, NULL, NULL, p, &e, &err), ==, 0);
    g_assert_no_error(err);
    g_assert_cmpuint(e.affiliations, ==, 2);
    g_assert_cmpuint(e.nicks, ==, 1);
    g_assert_cmpuint(e.messages, ==, 2);
    for (size_t i = 0; i < G_N_ELEMENTS(gone); i++)
        g_assert_false(store_holds(f, gone[i]));
    /* Everyone else's stays. */
    g_assert_true(store_holds(f, BOB));
    g_assert_true(store_holds(f, "Bobby"));
    g_assert_true(store_holds(f, "bob's words"));
    g_assert_true(store_holds(f, "zebra-words"));
    mydata_person_free(p);
}

static int first_of(const archive_msg *m, void *userdata)
{
    archive_msg **out = userdata;

    g_assert_null(*out);
    *out = g_new0(archive_msg, 1);
    (*out)->seq = m->seq;
    (*out)->stanza_id = g_strdup(m->stanza_id);
    (*out)->nick = g_strdup(m->nick);
    (*out)->retracted = g_strdup(m->retracted);
    (*out)->sender_jid = g_strdup(m->sender_jid);
    (*out)->body = g_strdup(m->body);
    (*out)->occupant_id = g_strdup(m->occupant_id);
    (*out)->origin_id = g_strdup(m->origin_id);
    return 1;
}

static archive_msg *first_message(fixture *f, const char *group)
{
    MDB_txn *txn = NULL;
    archive_msg *m = NULL;

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(archive_foreach_after(txn, f->s, group, 0, first_of, &m),
                    ==, 0);
    store_read_end(txn);
    g_assert_nonnull(m);
    return m;
}

static void
erased_messages_are_tombstones_of_nobody_in_their_place(fixture *f,
                                                        gconstpointer data)
{
    mydata_person *p = mydata_person_xmpp(ALICE);
    archive_msg *before, *after;
    mydata_erased e;

    fill(f, 0);
    before = first_message(f, "lobby");
    g_assert_cmpint(mydata_erase(f->s, NULL, NULL, p, &e, NULL), ==, 0);
    after = first_message(f, "lobby");
    g_assert_cmpuint(after->seq, ==, before->seq);
    g_assert_cmpstr(after->stanza_id, ==, before->stanza_id);
    g_assert_nonnull(after->retracted);
    g_assert_cmpstr(after->nick, ==, "");
    g_assert_null(after->sender_jid);
    g_assert_null(after->body);
    g_assert_null(after->occupant_id);
    g_assert_null(after->origin_id);
    archive_msg_free(before);
    archive_msg_free(after);
    mydata_person_free(p);
}

static void
erasure_of_a_legacy_member_drops_membership_and_outbox(fixture *f,
                                                       gconstpointer data)
{
    mydata_person *p = mydata_person_legacy("groups.example", "irc1", "zed");
    mydata_erased e;

    fill(f, 0);
    g_assert_true(store_holds(f, "zed"));
    g_assert_cmpint(mydata_erase(f->s, NULL, NULL, p, &e, NULL), ==, 0);
    g_assert_cmpuint(e.members, ==, 1);
    g_assert_cmpuint(e.queued, >=, 1);
    g_assert_cmpuint(e.messages, ==, 1);
    g_assert_false(store_holds(f, "zed"));
    g_assert_false(store_holds(f, "zebra-words"));
    g_assert_true(store_holds(f, "aardvark-secret"));
    mydata_person_free(p);
}

typedef struct notice_args {
    const char *bare;
    gint64 when;
    int rc;
} notice_args;

static int forget_notice_txn(MDB_txn *txn, const store *s, void *userdata)
{
    notice_args *a = userdata;

    return a->rc = noticed_forget(txn, s, a->bare);
}

static void noticed_remembers_until_forgotten(fixture *f, gconstpointer data)
{
    notice_args a = {ALICE, 0, 0};
    MDB_txn *txn = NULL;
    gint64 when = 0;

    fill(f, 0);
    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(noticed_get(txn, f->s, ALICE, &when), ==, 0);
    g_assert_cmpint(when, ==, 1000000);
    g_assert_cmpint(noticed_get(txn, f->s, "nobody@example.org", &when), ==, 0);
    g_assert_cmpint(when, ==, 0);
    g_assert_cmpint(noticed_get(txn, f->s, "", &when), ==, -EINVAL);
    store_read_end(txn);
    testutil_store_write(f, forget_notice_txn, &a, &a.rc);
    /* Forgetting twice is no error. */
    testutil_store_write(f, forget_notice_txn, &a, &a.rc);
    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(noticed_get(txn, f->s, ALICE, &when), ==, 0);
    g_assert_cmpint(when, ==, 0);
    store_read_end(txn);
}

int main(int argc, char **argv)
{
    static const testutil_store_case cases[] = {
        {"/mydata/export_holds_that_persons_data_and_nothing_of_anyone_elses",
         export_holds_that_persons_data_and_nothing_of_anyone_elses},
        {"/mydata/export_of_a_legacy_member_holds_their_membership_and_"
         "messages",
         export_of_a_legacy_member_holds_their_membership_and_messages},
        {"/mydata/export_pages_the_messages_and_stays_within_its_bound",
         export_pages_the_messages_and_stays_within_its_bound},
        {"/mydata/erasure_leaves_no_record_naming_the_person",
         erasure_leaves_no_record_naming_the_person},
        {"/mydata/erased_messages_are_tombstones_of_nobody_in_their_place",
         erased_messages_are_tombstones_of_nobody_in_their_place},
        {"/mydata/erasure_of_a_legacy_member_drops_membership_and_outbox",
         erasure_of_a_legacy_member_drops_membership_and_outbox},
        {"/mydata/noticed_remembers_until_forgotten",
         noticed_remembers_until_forgotten},
    };

    g_test_init(&argc, &argv, NULL);
    testutil_store_add(cases, G_N_ELEMENTS(cases));
    return g_test_run();
}
