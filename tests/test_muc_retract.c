/* test_muc_retract: withdrawing messages (muc/retract.c): what a
 * retraction leaves in the archive (a tombstone, the retraction as its own
 * record), who may withdraw what, the bridge told in the same transaction,
 * the requests recognised, and the tombstone as history and MAM write it. */
#include <glib.h>
#include <string.h>

#include "archive.h"
#include "muc.h"
#include "muc_int.h"
#include "retract.h"
#include "room.h"
#include "testutil.h"

#define GROUP    "g"
#define ROOM_JID "g@groups.example.org"

static occ ann = {
    .nick = "ann", .bare = "ann@example.org", .occupant_id = "oid-ann"};
static occ bob = {
    .nick = "bob", .bare = "bob@example.org", .occupant_id = "oid-bob"};
static occ irc = {.nick = "zed",
                  .bare = "zed@legacy.example",
                  .legacy_kind = 'i',
                  .legacy_account = "acct",
                  .legacy_handle = "zed"};

/* What the bridge's hook saw. */
typedef struct told {
    guint calls;
    guint64 seq;
    char *nick;
} told;

static int on_retracted(MDB_txn *txn, const store *st, const char *group,
                        guint64 seq, const char *nick, void *userdata)
{
    told *t = userdata;
    archive_msg *a = NULL;

    /* Inside the transaction, the record is a tombstone already. */
    g_assert_cmpint(archive_get(txn, st, group, seq, &a), ==, 0);
    g_assert_nonnull(a->retracted);
    archive_msg_free(a);
    t->calls++;
    t->seq = seq;
    g_free(t->nick);
    t->nick = g_strdup(nick);
    return 0;
}

typedef struct said_args {
    archive_msg *m;
    int rc;
} said_args;

static int said_txn(MDB_txn *txn, const store *st, void *userdata)
{
    said_args *a = userdata;

    return a->rc = archive_append(txn, st, GROUP, a->m);
}

/* o says body (with a payload and an origin-id); its stanza-id (g_free). */
static char *say(testutil_store *f, const occ *o, const char *body,
                 const char *origin_id)
{
    archive_msg m = {.nick = o->nick,
                     .occupant_id = o->occupant_id,
                     .sender_jid = o->bare,
                     .sender_account = o->legacy_account,
                     .sender_handle = o->legacy_handle,
                     .body = (char *)body,
                     .payload = "<x xmlns=\"urn:example\">more</x>",
                     .origin_id = (char *)origin_id,
                     .client_id = "c-1"};
    said_args a = {&m, 0};

    testutil_store_write(f, said_txn, &a, &a.rc);
    return m.stanza_id;
}

static archive_msg *get(testutil_store *f, guint64 seq)
{
    MDB_txn *txn = NULL;
    archive_msg *a = NULL;

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(archive_get(txn, f->s, GROUP, seq, &a), ==, 0);
    store_read_end(txn);
    return a;
}

static guint64 head(testutil_store *f)
{
    MDB_txn *txn = NULL;
    guint64 seq = 0;

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(archive_head(txn, f->s, GROUP, &seq), ==, 0);
    store_read_end(txn);
    return seq;
}

static muc_bridge_hooks hooks = {.retracted = on_retracted};

/* A retraction by sender (NULL: by moderator "mod") of id; job->e. */
static enum xerr withdraw(testutil_store *f, retract_job *j, const occ *sender,
                          const char *id, told *t)
{
    GError *err = NULL;

    retract_job_clear(j);
    *j = (retract_job){.room_jid = ROOM_JID,
                       .group = GROUP,
                       .id = id,
                       .sender = sender,
                       .mod_nick = sender ? NULL : "mod",
                       .mod_oid = sender ? NULL : "oid-mod",
                       .reason = sender ? NULL : "spam & eggs",
                       .fallback = sender ? "/me retracted a message" : NULL,
                       .msg_id = "r-1",
                       .now_us = G_GINT64_CONSTANT(1764979200) * G_USEC_PER_SEC,
                       .hooks = &hooks,
                       .hooks_data = t};
    g_assert_cmpint(store_write(f->s, retract_txn, j, &err), ==, 0);
    g_assert_no_error(err);
    return j->e;
}

static void a_sender_withdraws_its_own_message_and_only_a_tombstone_remains(
    testutil_store *f, gconstpointer data)
{
    char *sid = say(f, &ann, "the secret", "o-1");
    retract_job j = {0};
    told t = {0};
    archive_msg *a;
    char *want;

    g_assert_cmpint(withdraw(f, &j, &ann, sid, &t), ==, XERR_NONE);
    a = get(f, 1);
    g_assert_null(a->body);
    g_assert_null(a->payload);
    g_assert_cmpstr(a->retracted, ==, "2025-12-06T00:00:00Z");
    g_assert_null(a->retracted_by);
    g_assert_cmpstr(a->retract_id, ==, "r-1");
    g_assert_cmpstr(a->stanza_id, ==, sid);
    g_assert_cmpstr(a->nick, ==, "ann");
    g_assert_cmpstr(a->occupant_id, ==, "oid-ann");
    archive_msg_free(a);
    /* the retraction is a record of its own, after it */
    a = get(f, 2);
    g_assert_cmpstr(a->retract_of, ==, sid);
    g_assert_cmpstr(a->stanza_id, ==, j.said.stanza_id);
    g_assert_null(a->body);
    g_assert_cmpstr(a->nick, ==, "ann");
    g_assert_cmpstr(a->sender_jid, ==, "ann@example.org");
    g_assert_cmpstr(a->client_id, ==, "r-1");
    want = g_strdup_printf(
        "<retract xmlns=\"urn:xmpp:message-retract:1\" id=\"%s\"/>"
        "<apply-to xmlns=\"urn:xmpp:fasten:0\" id=\"%s\">"
        "<retract xmlns=\"urn:xmpp:message-retract:0\"/></apply-to>"
        "<fallback xmlns=\"urn:xmpp:fallback:0\" "
        "for=\"urn:xmpp:message-retract:1\"/>"
        "<body>/me retracted a message</body>",
        sid, sid);
    g_assert_cmpstr(a->payload, ==, want);
    archive_msg_free(a);
    g_assert_cmpuint(t.calls, ==, 1);
    g_assert_cmpuint(t.seq, ==, 1);
    g_assert_cmpstr(t.nick, ==, "ann");
    retract_job_clear(&j);
    g_free(want);
    g_free(t.nick);
    g_free(sid);
}

static void
someone_elses_message_is_forbidden_and_nothing_is_written(testutil_store *f,
                                                          gconstpointer data)
{
    char *sid = say(f, &ann, "mine", NULL);
    retract_job j = {0};
    told t = {0};
    archive_msg *a;

    g_assert_cmpint(withdraw(f, &j, &bob, sid, &t), ==, XERR_FORBIDDEN);
    g_assert_cmpuint(head(f), ==, 1);
    a = get(f, 1);
    g_assert_cmpstr(a->body, ==, "mine");
    g_assert_null(a->retracted);
    archive_msg_free(a);
    g_assert_cmpuint(t.calls, ==, 0);
    /* nor by a legacy member */
    g_assert_cmpint(withdraw(f, &j, &irc, sid, &t), ==, XERR_FORBIDDEN);
    retract_job_clear(&j);
    g_free(sid);
}

static void an_unknown_or_forged_id_is_item_not_found(testutil_store *f,
                                                      gconstpointer data)
{
    char *sid = say(f, &ann, "mine", NULL);
    char *forged = g_strdup(sid);
    retract_job j = {0};
    told t = {0};

    forged[20] = forged[20] == '0' ? '1' : '0';
    g_assert_cmpint(withdraw(f, &j, &ann, "nope", &t), ==, XERR_ITEM_NOT_FOUND);
    g_assert_cmpint(withdraw(f, &j, NULL, forged, &t), ==, XERR_ITEM_NOT_FOUND);
    g_assert_cmpuint(head(f), ==, 1);
    retract_job_clear(&j);
    g_free(forged);
    g_free(sid);
}

static void
a_sender_may_name_its_recent_message_by_its_own_origin_id(testutil_store *f,
                                                          gconstpointer data)
{
    char *sid = say(f, &ann, "oops", "o-7");
    retract_job j = {0};
    told t = {0};
    archive_msg *a;

    /* not someone else naming it so */
    g_assert_cmpint(withdraw(f, &j, &bob, "o-7", &t), ==, XERR_ITEM_NOT_FOUND);
    g_assert_cmpint(withdraw(f, &j, &ann, "o-7", &t), ==, XERR_NONE);
    a = get(f, 2);
    g_assert_cmpstr(a->retract_of, ==, sid);
    archive_msg_free(a);
    /* a moderator names messages by the room's stanza-id only */
    g_free(sid);
    sid = say(f, &bob, "again", "o-8");
    g_assert_cmpint(withdraw(f, &j, NULL, "o-8", &t), ==, XERR_ITEM_NOT_FOUND);
    retract_job_clear(&j);
    g_free(t.nick);
    g_free(sid);
}

static void
a_moderator_withdraws_anyones_message_with_a_reason(testutil_store *f,
                                                    gconstpointer data)
{
    char *sid = say(f, &irc, "spam from irc", NULL);
    retract_job j = {0};
    told t = {0};
    archive_msg *a;
    char *want;

    g_assert_cmpint(withdraw(f, &j, NULL, sid, &t), ==, XERR_NONE);
    a = get(f, 1);
    g_assert_null(a->body);
    g_assert_cmpstr(a->retracted_by, ==, "mod");
    g_assert_cmpstr(a->retract_reason, ==, "spam & eggs");
    g_assert_cmpstr(a->sender_account, ==, "acct");
    archive_msg_free(a);
    a = get(f, 2);
    g_assert_cmpstr(a->nick, ==, ""); /* the room speaks */
    g_assert_null(a->sender_jid);
    want = g_strdup_printf(
        "<retract xmlns=\"urn:xmpp:message-retract:1\" id=\"%s\">"
        "<moderated xmlns=\"urn:xmpp:message-moderate:1\" by=\"" ROOM_JID
        "/mod\"><occupant-id xmlns=\"urn:xmpp:occupant-id:0\" "
        "id=\"oid-mod\"/></moderated><reason>spam &amp; eggs</reason>"
        "</retract>"
        "<apply-to xmlns=\"urn:xmpp:fasten:0\" id=\"%s\">"
        "<moderated xmlns=\"urn:xmpp:message-moderate:0\" by=\"" ROOM_JID
        "/mod\"><retract xmlns=\"urn:xmpp:message-retract:0\"/>"
        "<reason>spam &amp; eggs</reason></moderated></apply-to>",
        sid, sid);
    g_assert_cmpstr(a->payload, ==, want);
    archive_msg_free(a);
    g_assert_cmpstr(t.nick, ==, "zed");
    retract_job_clear(&j);
    g_free(want);
    g_free(t.nick);
    g_free(sid);
}

static void what_is_not_a_message_said_cannot_be_withdrawn(testutil_store *f,
                                                           gconstpointer data)
{
    char *sid = say(f, &ann, "once", NULL);
    retract_job j = {0};
    told t = {0};
    char *rsid;

    g_assert_cmpint(withdraw(f, &j, &ann, sid, &t), ==, XERR_NONE);
    rsid = g_strdup(j.said.stanza_id);
    retract_job_clear(&j);
    /* a tombstone, again */
    g_assert_cmpint(withdraw(f, &j, NULL, sid, &t), ==, XERR_ITEM_NOT_FOUND);
    g_assert_cmpstr(j.why, ==, "that message was withdrawn");
    /* the retraction itself */
    g_assert_cmpint(withdraw(f, &j, &ann, rsid, &t), ==, XERR_ITEM_NOT_FOUND);
    g_assert_cmpuint(head(f), ==, 2);
    g_assert_cmpuint(t.calls, ==, 1);
    retract_job_clear(&j);
    g_free(t.nick);
    g_free(rsid);
    g_free(sid);
}

/* The "same sender" rule, as a table. */
static void the_same_sender_is_the_same_bare_jid_or_legacy_member(void)
{
    static const struct {
        const occ *o;
        archive_msg a;
        gboolean same;
    } cases[] = {
        {&ann, {.sender_jid = "ann@example.org"}, TRUE},
        {&ann, {.sender_jid = "bob@example.org"}, FALSE},
        {&ann, {.sender_jid = NULL}, FALSE},
        /* a legacy record that happens to carry the JID is not ann's */
        {&ann,
         {.sender_jid = "ann@example.org",
          .sender_account = "acct",
          .sender_handle = "ann"},
         FALSE},
        {&irc,
         {.sender_jid = "zed@legacy.example",
          .sender_account = "acct",
          .sender_handle = "zed"},
         TRUE},
        {&irc, {.sender_account = "other", .sender_handle = "zed"}, FALSE},
        {&irc, {.sender_account = "acct", .sender_handle = "zoe"}, FALSE},
        {&irc, {.sender_jid = "zed@legacy.example"}, FALSE},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
        g_assert_cmpint(muc_said_by(cases[i].o, &cases[i].a), ==,
                        cases[i].same);
}

static void retractions_are_recognised_in_both_versions(void)
{
    static const struct {
        const char *xml;
        gboolean is;
    } cases[] = {
        {"<message type='groupchat'><retract "
         "xmlns='urn:xmpp:message-retract:1' id='x'/></message>",
         TRUE},
        {"<message type='groupchat'><apply-to xmlns='urn:xmpp:fasten:0' "
         "id='x'><retract xmlns='urn:xmpp:message-retract:0'/></apply-to>"
         "</message>",
         TRUE},
        {"<message type='groupchat'><apply-to xmlns='urn:xmpp:fasten:0' "
         "id='x'><other xmlns='urn:example'/></apply-to></message>",
         FALSE},
        {"<message type='groupchat'><retract xmlns='urn:example' "
         "id='x'/><body>hi</body></message>",
         FALSE},
        {"<message type='groupchat'><body>hi</body></message>", FALSE},
    };
    xmpp_ctx_t *ctx = xmpp_ctx_new(NULL, NULL);

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        xmpp_stanza_t *st = xmpp_stanza_new_from_string(ctx, cases[i].xml);
        g_assert_nonnull(st);
        g_assert_cmpint(retract_is_retraction(st), ==, cases[i].is);
        xmpp_stanza_release(st);
    }
    xmpp_ctx_free(ctx);
}

static void a_tombstone_is_written_in_the_current_and_previous_forms(void)
{
    group_cfg *g = g_new0(group_cfg, 1);
    room *r;
    archive_msg self = {.retracted = "2025-12-06T00:00:00Z",
                        .retract_id = "r-1"};
    archive_msg mod = {.retracted = "2025-12-06T00:00:00Z",
                       .retract_id = "r-2",
                       .retracted_by = "mod",
                       .retract_reason = "spam"};
    archive_msg said = {.body = "not withdrawn"};
    GString *b = g_string_new("");

    g->localpart = g_strdup("g");
    r = room_new("groups.example.org", g);
    retract_tombstone_text(b, r, &self);
    g_assert_cmpstr(b->str, ==,
                    "<retracted xmlns=\"urn:xmpp:message-retract:1\" "
                    "id=\"r-1\" stamp=\"2025-12-06T00:00:00Z\"/>"
                    "<retracted xmlns=\"urn:xmpp:message-retract:0\" "
                    "stamp=\"2025-12-06T00:00:00Z\"/>");
    g_string_truncate(b, 0);
    retract_tombstone_text(b, r, &mod);
    g_assert_cmpstr(
        b->str, ==,
        "<retracted xmlns=\"urn:xmpp:message-retract:1\" id=\"r-2\" "
        "stamp=\"2025-12-06T00:00:00Z\"><moderated "
        "xmlns=\"urn:xmpp:message-moderate:1\" by=\"" ROOM_JID "/mod\">"
        "</moderated><reason>spam</reason></retracted>"
        "<moderated xmlns=\"urn:xmpp:message-moderate:0\" by=\"" ROOM_JID
        "/mod\"><retracted xmlns=\"urn:xmpp:message-retract:0\" "
        "stamp=\"2025-12-06T00:00:00Z\"/><reason>spam</reason></moderated>");
    g_string_truncate(b, 0);
    /* a moderator who was not in the room is not named */
    mod.retracted_by = "";
    retract_tombstone_text(b, r, &mod);
    g_assert_null(strstr(b->str, "by="));
    g_string_truncate(b, 0);
    retract_tombstone_text(b, r, &said);
    g_assert_cmpstr(b->str, ==, "");
    g_string_free(b, TRUE);
    room_free(r);
}

static void a_room_advertises_both_versions_and_tombstones(void)
{
    GPtrArray *all = g_ptr_array_new();
    static const char *const want[] = {
        "urn:xmpp:message-retract:1", "urn:xmpp:message-retract:1#tombstone",
        "urn:xmpp:message-moderate:1", "urn:xmpp:message-retract:0",
        "urn:xmpp:message-moderate:0"};

    retract_features(all);
    for (gsize i = 0; i < G_N_ELEMENTS(want); i++) {
        gboolean found = FALSE;
        for (guint k = 0; k < all->len; k++)
            found = found || !strcmp(g_ptr_array_index(all, k), want[i]);
        g_assert_true(found);
    }
    g_ptr_array_unref(all);
}

int main(int argc, char **argv)
{
    static const testutil_store_case cases[] = {
        {"/muc_retract/a_sender_withdraws_its_own_message_and_only_a_"
         "tombstone_remains",
         a_sender_withdraws_its_own_message_and_only_a_tombstone_remains},
        {"/muc_retract/someone_elses_message_is_forbidden_and_nothing_is_"
         "written",
         someone_elses_message_is_forbidden_and_nothing_is_written},
        {"/muc_retract/an_unknown_or_forged_id_is_item_not_found",
         an_unknown_or_forged_id_is_item_not_found},
        {"/muc_retract/a_sender_may_name_its_recent_message_by_its_own_"
         "origin_id",
         a_sender_may_name_its_recent_message_by_its_own_origin_id},
        {"/muc_retract/a_moderator_withdraws_anyones_message_with_a_reason",
         a_moderator_withdraws_anyones_message_with_a_reason},
        {"/muc_retract/what_is_not_a_message_said_cannot_be_withdrawn",
         what_is_not_a_message_said_cannot_be_withdrawn},
    };

    g_test_init(&argc, &argv, NULL);
    xmpp_initialize();
    testutil_store_add(cases, G_N_ELEMENTS(cases));
    g_test_add_func("/muc_retract/the_same_sender_is_the_same_bare_jid_or_"
                    "legacy_member",
                    the_same_sender_is_the_same_bare_jid_or_legacy_member);
    g_test_add_func("/muc_retract/retractions_are_recognised_in_both_versions",
                    retractions_are_recognised_in_both_versions);
    g_test_add_func("/muc_retract/a_tombstone_is_written_in_the_current_and_"
                    "previous_forms",
                    a_tombstone_is_written_in_the_current_and_previous_forms);
    g_test_add_func("/muc_retract/a_room_advertises_both_versions_and_"
                    "tombstones",
                    a_room_advertises_both_versions_and_tombstones);
    return g_test_run();
}
