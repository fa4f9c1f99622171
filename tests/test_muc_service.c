/* test_muc_service: what the admin commands ask of the engine
 * (muc/muc_service.c): occupant counts that load no room, a group made on
 * command (names refused, taken, made), and the announcement's reach. The
 * link is down, so what the rooms send waits in its queue, where it is
 * counted. */
#include <glib.h>
#include <string.h>

#include "affiliations.h"
#include "groups.h"
#include "muc.h"
#include "muc_int.h"
#include "testutil.h"

typedef struct fixture {
    testutil_store st;
    config cfg;
    muc *m;
    uplink *up;
} fixture;

static void setup(fixture *f, gconstpointer data)
{
    uplink_params p = {.jid = "groups.example.org",
                       .host = "127.0.0.1",
                       .port = 9, /* nothing answers: the link stays down */
                       .secret = "s",
                       .queue_max = 1000};

    testutil_store_setup(&f->st, data);
    memset(&f->cfg, 0, sizeof(f->cfg));
    f->cfg.jid = "groups.example.org";
    g_assert_cmpint(muc_new(&f->cfg, f->st.s, &f->m, NULL), ==, 0);
    g_assert_cmpint(uplink_new(&p, NULL, NULL, NULL, &f->up), ==, 0);
}

static void teardown(fixture *f, gconstpointer data)
{
    uplink_free(f->up);
    muc_free(f->m);
    testutil_store_teardown(&f->st, data);
}

static void a_group_made_on_command_is_owned_and_unique(fixture *f,
                                                        gconstpointer data)
{
    const char *why = NULL;
    gboolean exists = FALSE;

    g_assert_cmpint(muc_group_new(f->m, "made", "bob@example.org", &why), ==,
                    XERR_NONE);
    g_assert_cmpint(
        muc_group_affiliation(f->m, "made", "bob@example.org", &exists), ==,
        AFF_OWNER);
    g_assert_true(exists);
    g_assert_nonnull(muc_group(f->m, "made"));
    g_assert_cmpint(muc_group_new(f->m, "made", "eve@example.org", &why), ==,
                    XERR_CONFLICT);
    g_assert_cmpstr(why, ==, "that group exists");
}

static void a_name_the_store_cannot_key_is_refused(fixture *f,
                                                   gconstpointer data)
{
    static const char *const bad[] = {"", "a b", "a@b", "a/b"};
    char *longer = g_strnfill(129, 'x');
    const char *why = NULL;

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
        g_assert_cmpint(muc_group_new(f->m, bad[i], "bob@example.org", &why),
                        ==, XERR_JID_MALFORMED);
    g_assert_cmpint(muc_group_new(f->m, longer, "bob@example.org", &why), ==,
                    XERR_JID_MALFORMED);
    g_free(longer);
}

static void counts_see_only_loaded_rooms_and_load_none(fixture *f,
                                                       gconstpointer data)
{
    const char *why = NULL;
    gboolean missing = FALSE;
    guint legacy = 9;
    room *r;

    g_assert_cmpint(muc_group_new(f->m, "one", "bob@example.org", &why), ==,
                    XERR_NONE);
    r = muc_room_lookup(f->m, "one", &missing);
    room_occ_add(r, "ann", "ann@example.org", "ann@example.org/a", AFF_NONE,
                 ROLE_PARTICIPANT, "1");
    room_occ_add(r, "leg", "h@acct.legacy.groups.example.org", NULL, AFF_MEMBER,
                 ROLE_PARTICIPANT, "2");
    g_assert_cmpuint(muc_group_occupants(f->m, "one", &legacy), ==, 2);
    g_assert_cmpuint(legacy, ==, 1);
    /* a group that exists only in the store is not loaded to be counted */
    g_assert_cmpuint(muc_group_occupants(f->m, "nowhere", &legacy), ==, 0);
    g_assert_cmpuint(legacy, ==, 0);
    g_assert_null(g_hash_table_lookup(f->m->rooms, "nowhere"));
    g_assert_cmpuint(muc_occupants_total(f->m, &legacy), ==, 2);
    g_assert_cmpuint(legacy, ==, 1);
}

static void an_announcement_reaches_each_occupant_once(fixture *f,
                                                       gconstpointer data)
{
    const char *why = NULL;
    gboolean missing = FALSE;
    guint before;
    room *a, *b;
    occ *o;

    muc_group_new(f->m, "a", "bob@example.org", &why);
    muc_group_new(f->m, "b", "bob@example.org", &why);
    muc_group_new(f->m, "empty", "bob@example.org", &why);
    a = muc_room_lookup(f->m, "a", &missing);
    b = muc_room_lookup(f->m, "b", &missing);
    o = room_occ_add(a, "ann", "ann@example.org", "ann@example.org/1", AFF_NONE,
                     ROLE_PARTICIPANT, "1");
    room_session_add(a, o, "ann@example.org/2");
    room_occ_add(b, "ann", "ann@example.org", "ann@example.org/1", AFF_NONE,
                 ROLE_PARTICIPANT, "1");
    room_occ_add(b, "bea", "bea@example.org", "bea@example.org/1", AFF_NONE,
                 ROLE_PARTICIPANT, "3");
    /* a legacy occupant has no session: the bridge reaches it */
    room_occ_add(b, "leg", "h@acct.legacy.groups.example.org", NULL, AFF_MEMBER,
                 ROLE_PARTICIPANT, "2");
    before = uplink_queued(f->up);
    /* ann in two rooms with two sessions, and bea: two people, three
     * sessions, each once */
    g_assert_cmpuint(muc_announce(f->m, f->up, "hello all"), ==, 2);
    g_assert_cmpuint(uplink_queued(f->up), ==, before + 3);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/muc_service/a_group_made_on_command_is_owned_and_unique",
               fixture, NULL, setup,
               a_group_made_on_command_is_owned_and_unique, teardown);
    g_test_add("/muc_service/a_name_the_store_cannot_key_is_refused", fixture,
               NULL, setup, a_name_the_store_cannot_key_is_refused, teardown);
    g_test_add("/muc_service/counts_see_only_loaded_rooms_and_load_none",
               fixture, NULL, setup, counts_see_only_loaded_rooms_and_load_none,
               teardown);
    g_test_add("/muc_service/an_announcement_reaches_each_occupant_once",
               fixture, NULL, setup, an_announcement_reaches_each_occupant_once,
               teardown);
    return g_test_run();
}
