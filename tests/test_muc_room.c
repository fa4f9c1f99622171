/* test_muc_room: a room's occupants (muc/room.c): nicks compared by their
 * RFC 8266 key, sessions, the legacy occupants' index by bare JID, and
 * pending invitations. */
#include <glib.h>

#include "bounds.h"
#include "room.h"

static room *new_room(void)
{
    group_cfg *g = g_new0(group_cfg, 1);

    g->localpart = g_strdup("r");
    return room_new("groups.example.org", g);
}

static void a_legacy_occupant_is_found_by_its_bare_jid(void)
{
    room *r = new_room();
    occ *o = room_occ_add(r, "ann", "ann@legacy.example", NULL, AFF_NONE,
                          ROLE_PARTICIPANT, "id1");

    g_assert_true(room_occ_by_legacy(r, "ann@legacy.example") == o);
    g_assert_null(room_occ_by_legacy(r, "bob@legacy.example"));
    room_free(r);
}

static void an_xmpp_occupant_is_not_in_the_legacy_index(void)
{
    room *r = new_room();

    g_assert_null(room_occ_by_legacy(r, "ann@example.org"));
    g_assert_null(room_occ_by_full(r, "ann@example.org/phone"));
    room_occ_add(r, "ann", "ann@example.org", "ann@example.org/phone", AFF_NONE,
                 ROLE_PARTICIPANT, "id1");
    g_assert_null(room_occ_by_legacy(r, "ann@example.org"));
    g_assert_nonnull(room_occ_by_full(r, "ann@example.org/phone"));
    room_free(r);
}

static void a_legacy_occupant_keeps_its_index_entry_across_a_rename(void)
{
    room *r = new_room();
    occ *o = room_occ_add(r, "ann", "ann@legacy.example", NULL, AFF_NONE,
                          ROLE_PARTICIPANT, "id1");

    room_occ_rename(r, o, "annie");
    g_assert_true(room_occ_by_legacy(r, "ann@legacy.example") == o);
    g_assert_true(room_occ_by_nick(r, "annie") == o);
    g_assert_null(room_occ_by_nick(r, "ann"));
    room_free(r);
}

static void a_removed_legacy_occupant_leaves_the_index(void)
{
    room *r = new_room();
    occ *o = room_occ_add(r, "ann", "ann@legacy.example", NULL, AFF_NONE,
                          ROLE_PARTICIPANT, "id1");

    room_occ_remove(r, o);
    g_assert_null(room_occ_by_legacy(r, "ann@legacy.example"));
    g_assert_cmpuint(room_occupant_count(r), ==, 0);
    /* the same person enters again: found again */
    o = room_occ_add(r, "ann", "ann@legacy.example", NULL, AFF_NONE,
                     ROLE_PARTICIPANT, "id1");
    g_assert_true(room_occ_by_legacy(r, "ann@legacy.example") == o);
    room_free(r);
}

static void an_invitation_is_taken_once_by_its_invitee_before_it_lapses(void)
{
    room *r = new_room();
    gint64 ttl = (gint64)BOUND_INVITE_TTL_S * G_USEC_PER_SEC;
    char *inviter;

    /* a room nobody invited to has nothing to take */
    g_assert_null(room_invite_take(r, "eve@example.org", 0));
    room_invite_add(r, "eve@example.org", "ann@example.org", 0);
    g_assert_null(room_invite_take(r, "bob@example.org", 1));
    inviter = room_invite_take(r, "eve@example.org", 1);
    g_assert_cmpstr(inviter, ==, "ann@example.org");
    g_free(inviter);
    g_assert_null(room_invite_take(r, "eve@example.org", 2));
    room_invite_add(r, "eve@example.org", "ann@example.org", 0);
    g_assert_null(room_invite_take(r, "eve@example.org", ttl));
    room_free(r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/muc_room/a_legacy_occupant_is_found_by_its_bare_jid",
                    a_legacy_occupant_is_found_by_its_bare_jid);
    g_test_add_func("/muc_room/an_xmpp_occupant_is_not_in_the_legacy_index",
                    an_xmpp_occupant_is_not_in_the_legacy_index);
    g_test_add_func("/muc_room/a_legacy_occupant_keeps_its_index_entry_"
                    "across_a_rename",
                    a_legacy_occupant_keeps_its_index_entry_across_a_rename);
    g_test_add_func("/muc_room/a_removed_legacy_occupant_leaves_the_index",
                    a_removed_legacy_occupant_leaves_the_index);
    g_test_add_func(
        "/muc_room/an_invitation_is_taken_once_by_its_invitee_"
        "before_it_lapses",
        an_invitation_is_taken_once_by_its_invitee_before_it_lapses);
    return g_test_run();
}
