/* test_muc_legacy: legacy occupants as the bridge sees them (muc.h, "the
 * legacy bridge's view"; muc/muc_legacy.c): entering, re-entering without
 * a change, and the room's answer to "may this member enter?"
 * (muc_may_enter, the options deciding). The link is down, so what the
 * room sends waits in its queue, where it is counted. */
#include <glib.h>
#include <string.h>

#include "affiliations.h"
#include "groups.h"
#include "muc.h"
#include "muc_int.h"
#include "nicks.h"
#include "testutil.h"

typedef struct fixture {
    testutil_store st;
    config cfg;
    muc *m;
    uplink *up;
} fixture;

static int make_group(MDB_txn *txn, const store *st, void *userdata)
{
    group_cfg g = {.localpart = "g",
                   .name = "",
                   .description = "",
                   .password = "",
                   .allow_pm = "anyone",
                   .is_public = TRUE,
                   .persistent = TRUE};
    int rc = groups_put(txn, st, &g);

    if (rc == 0)
        rc = affiliations_set(txn, st, "g", "banned@legacy.example",
                              AFF_OUTCAST, NULL);
    if (rc == 0)
        rc = affiliations_set(txn, st, "g", "member@legacy.example",
                              AFF_MEMBER, NULL);
    return rc;
}

static void setup(fixture *f, gconstpointer data)
{
    uplink_params p = {.jid = "groups.example.org",
                       .host = "127.0.0.1",
                       .port = 9, /* nothing answers: the link stays down */
                       .secret = "s",
                       .queue_max = 1000};
    gboolean missing = FALSE;
    room *r;

    testutil_store_setup(&f->st, data);
    memset(&f->cfg, 0, sizeof(f->cfg));
    f->cfg.jid = "groups.example.org";
    g_assert_cmpint(muc_new(&f->cfg, f->st.s, &f->m, NULL), ==, 0);
    g_assert_cmpint(store_write(f->st.s, make_group, NULL, NULL), ==, 0);
    g_assert_cmpint(uplink_new(&p, NULL, NULL, NULL, &f->up), ==, 0);
    /* one XMPP occupant, to be told of legacy ones */
    r = muc_room_lookup(f->m, "g", &missing);
    g_assert_nonnull(r);
    room_occ_add(r, "ann", "ann@example.org", "ann@example.org/a", AFF_NONE,
                 ROLE_PARTICIPANT, "1");
}

static void teardown(fixture *f, gconstpointer data)
{
    uplink_free(f->up);
    muc_free(f->m);
    testutil_store_teardown(&f->st, data);
}

static enum xerr enter(fixture *f, const char *bare, const char *show)
{
    const char *why = NULL;

    return muc_legacy_enter(f->m, f->up, "g", bare, 'i', "acct", "h", "bob",
                            show, NULL, &why);
}

static void a_member_entering_again_unchanged_is_not_announced_again(
    fixture *f, gconstpointer d)
{
    guint before;

    g_assert_cmpint(enter(f, "bob@legacy.example", NULL), ==, XERR_NONE);
    before = uplink_queued(f->up);
    g_assert_cmpuint(before, >, 0); /* ann was told */
    g_assert_cmpint(enter(f, "bob@legacy.example", NULL), ==, XERR_NONE);
    g_assert_cmpuint(uplink_queued(f->up), ==, before);
    g_assert_cmpint(enter(f, "bob@legacy.example", "away"), ==, XERR_NONE);
    g_assert_cmpuint(uplink_queued(f->up), >, before);
    before = uplink_queued(f->up);
    g_assert_cmpint(enter(f, "bob@legacy.example", "away"), ==, XERR_NONE);
    g_assert_cmpuint(uplink_queued(f->up), ==, before);
    g_assert_cmpstr(muc_legacy_nick(f->m, "g", "bob@legacy.example"), ==,
                    "bob");
}

/* Who may enter, as the bridge asks before making someone a member. */
static const struct {
    const char *group, *bare;
    gboolean members_only;
    enum xerr want;
} entries[] = {
    {"g", "new@legacy.example", FALSE, XERR_NONE},
    {"g", "banned@legacy.example", FALSE, XERR_FORBIDDEN},
    {"nope", "new@legacy.example", FALSE, XERR_ITEM_NOT_FOUND},
    {"g", "new@legacy.example", TRUE, XERR_REGISTRATION_REQUIRED},
    {"g", "member@legacy.example", TRUE, XERR_NONE},
};

static void the_room_options_decide_who_may_enter(fixture *f, gconstpointer d)
{
    gboolean missing = FALSE;
    room *r = muc_room_lookup(f->m, "g", &missing);

    for (size_t i = 0; i < G_N_ELEMENTS(entries); i++) {
        const char *why = NULL;
        enum xerr e;
        r->cfg->members_only = entries[i].members_only;
        e = muc_may_enter(f->m, entries[i].group, entries[i].bare, &why);
        if (e != entries[i].want)
            g_error("%s in %s (members only %d): %s", entries[i].bare,
                    entries[i].group, entries[i].members_only,
                    xerr_condition(e));
        g_assert_true(e == XERR_NONE || why);
    }
}

static int register_bob(MDB_txn *txn, const store *st, void *userdata)
{
    return nicks_register(txn, st, "g", "bobby@example.org", "Bob", "bob");
}

/* XEP-0045 §7.10: a nick an XMPP user registered is not a legacy
 * member's to take (the bridge names them with a suffix instead). */
static void a_nick_an_xmpp_user_registered_is_not_free_for_legacy_members(
    fixture *f, gconstpointer d)
{
    const char *why = NULL;

    g_assert_true(muc_legacy_nick_free(f->m, "g", "bob", "bob@legacy.example"));
    g_assert_cmpint(store_write(f->st.s, register_bob, NULL, NULL), ==, 0);
    g_assert_false(muc_legacy_nick_free(f->m, "g", "BOB", "bob@legacy.example"));
    g_assert_cmpint(enter(f, "bob@legacy.example", NULL), ==, XERR_CONFLICT);
    g_assert_cmpint(muc_legacy_enter(f->m, f->up, "g", "bob@legacy.example",
                                     'i', "acct", "h", "bob (IRC)", NULL, NULL,
                                     &why),
                    ==, XERR_NONE);
    g_assert_cmpint(
        muc_legacy_rename(f->m, f->up, "g", "bob@legacy.example", "Bob"), ==,
        XERR_CONFLICT);
}

static const char *photo_of(fixture *f, const char *bare)
{
    gboolean missing = FALSE;
    room *r = muc_room_lookup(f->m, "g", &missing);
    occ *o = room_occ_by_legacy(r, bare);

    return o && o->shown.has_vcard ? (o->shown.photo ? o->shown.photo : "")
                                   : NULL;
}

static enum xerr enter_photo(fixture *f, const char *photo)
{
    const char *why = NULL;

    return muc_legacy_enter(f->m, f->up, "g", "bob@legacy.example", 'i', "acct",
                            "h", "bob", NULL, photo, &why);
}

/* XEP-0153 §3.2: the hash in every presence; a new picture is announced,
 * the same one again is not. */
static void
a_member_s_picture_is_in_presence_and_a_new_one_announced(fixture *f,
                                                          gconstpointer d)
{
    static const char h1[] = "0123456789abcdef0123456789abcdef01234567",
                      h2[] = "76543210fedcba9876543210fedcba9876543210";
    guint before;

    g_assert_cmpint(enter_photo(f, NULL), ==, XERR_NONE);
    g_assert_null(photo_of(f, "bob@legacy.example"));
    before = uplink_queued(f->up);
    g_assert_cmpint(enter_photo(f, h1), ==, XERR_NONE);
    g_assert_cmpstr(photo_of(f, "bob@legacy.example"), ==, h1);
    g_assert_cmpuint(uplink_queued(f->up), >, before);
    before = uplink_queued(f->up);
    g_assert_cmpint(enter_photo(f, h1), ==, XERR_NONE);
    g_assert_cmpuint(uplink_queued(f->up), ==, before);
    g_assert_cmpint(enter_photo(f, h2), ==, XERR_NONE);
    g_assert_cmpstr(photo_of(f, "bob@legacy.example"), ==, h2);
    g_assert_cmpuint(uplink_queued(f->up), >, before);
    /* a picture taken away: an empty <photo/> says so */
    g_assert_cmpint(enter_photo(f, NULL), ==, XERR_NONE);
    g_assert_cmpstr(photo_of(f, "bob@legacy.example"), ==, "");
    before = uplink_queued(f->up);
    g_assert_cmpint(enter_photo(f, ""), ==, XERR_NONE);
    g_assert_cmpuint(uplink_queued(f->up), ==, before);
}

static int count_one(const archive_msg *a, void *userdata)
{
    (*(guint *)userdata)++;
    return 0;
}

static guint archived(fixture *f)
{
    MDB_txn *txn;
    guint n = 0;

    g_assert_cmpint(store_read_begin(f->st.s, &txn, NULL), ==, 0);
    g_assert_cmpint(archive_foreach_back(txn, f->st.s, "g", 100, count_one, &n),
                    ==, 0);
    store_read_end(txn);
    return n;
}

/* Issue 13, item 6: a member's typing and buzzes reach the occupants, and
 * nothing of them is archived. */
static void typing_and_buzzes_are_relayed_never_archived(fixture *f,
                                                         gconstpointer d)
{
    const char *why = NULL;
    guint before;

    /* what a groupchat message may be: the defaults' bounds */
    f->cfg.rate = 1;
    f->cfg.burst = 5;
    f->cfg.max_body = 1000;
    g_assert_cmpint(muc_legacy_signal(f->m, f->up, "g", "bob@legacy.example",
                                      "composing", &why),
                    ==, XERR_ITEM_NOT_FOUND);
    g_assert_cmpint(enter(f, "bob@legacy.example", NULL), ==, XERR_NONE);
    before = uplink_queued(f->up);
    g_assert_cmpint(muc_legacy_signal(f->m, f->up, "g", "bob@legacy.example",
                                      "composing", &why),
                    ==, XERR_NONE);
    g_assert_cmpuint(uplink_queued(f->up), >, before);
    before = uplink_queued(f->up);
    g_assert_cmpint(
        muc_legacy_signal(f->m, f->up, "g", "bob@legacy.example", NULL, &why),
        ==, XERR_NONE);
    g_assert_cmpuint(uplink_queued(f->up), >, before);
    g_assert_cmpuint(archived(f), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/muc_legacy/a_member_entering_again_unchanged_is_not_"
               "announced_again",
               fixture, NULL, setup,
               a_member_entering_again_unchanged_is_not_announced_again,
               teardown);
    g_test_add("/muc_legacy/the_room_options_decide_who_may_enter", fixture,
               NULL, setup, the_room_options_decide_who_may_enter, teardown);
    g_test_add("/muc_legacy/a_nick_an_xmpp_user_registered_is_not_free_for_"
               "legacy_members",
               fixture, NULL, setup,
               a_nick_an_xmpp_user_registered_is_not_free_for_legacy_members,
               teardown);
    g_test_add("/muc_legacy/a_member_s_picture_is_in_presence_and_a_new_"
               "one_announced",
               fixture, NULL, setup,
               a_member_s_picture_is_in_presence_and_a_new_one_announced,
               teardown);
    g_test_add("/muc_legacy/typing_and_buzzes_are_relayed_never_archived",
               fixture, NULL, setup,
               typing_and_buzzes_are_relayed_never_archived, teardown);
    return g_test_run();
}
