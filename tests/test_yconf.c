/* test_yconf: conference packets from the server, read
 * (transports/yahoo/yconf.c). */
#include <string.h>

#include <glib.h>

#include "yconf.h"
#include "ymsg.h"

/* A packet from "key=value" strings, NULL-terminated. */
static ymsg_pkt *packet(guint16 service, guint32 status, const char *const *kv)
{
    ymsg_pkt *pkt = ymsg_pkt_new(service, status, 0);

    for (; *kv; kv++) {
        const char *eq = strchr(*kv, '=');

        ymsg_pkt_add(pkt, atoi(*kv), eq + 1);
    }
    return pkt;
}

struct read_case {
    const char *name;
    guint16 service;
    guint32 status;
    const char *kv[8];
    int rc;
    const char *from, *text, *members; /* members joined by ',' */
};

static const struct read_case read_cases[] = {
    {"an_invitation_names_the_inviter_and_the_members",
     YMSG_CONFINVITE,
     1,
     {"1=bot", "57=lobby", "50=carol", "52=bot", "53=dave", "58=join us",
      "13=0", NULL},
     0,
     "carol",
     "join us",
     "dave"},
    {"an_added_invitation_reads_as_an_invitation",
     YMSG_CONFADDINVITE,
     1,
     {"1=bot", "57=lobby", "50=carol", "53=dave", "53=erin", NULL},
     0,
     "carol",
     NULL,
     "dave,erin"},
    {"an_invitation_about_someone_else_is_not_ours",
     YMSG_CONFINVITE,
     11,
     {"57=lobby", "50=carol", NULL},
     -1,
     NULL,
     NULL,
     NULL},
    {"a_logon_names_who_joined",
     YMSG_CONFLOGON,
     1,
     {"1=bot", "57=lobby", "53=dave", NULL},
     0,
     "dave",
     NULL,
     ""},
    {"a_logoff_names_who_left",
     YMSG_CONFLOGOFF,
     1,
     {"1=bot", "57=lobby", "56=dave", NULL},
     0,
     "dave",
     NULL,
     ""},
    {"a_decline_names_who_declined",
     YMSG_CONFDECLINE,
     1,
     {"1=bot", "57=lobby", "54=dave", "14=no thanks", NULL},
     0,
     "dave",
     "no thanks",
     ""},
    {"a_message_names_its_speaker_and_text",
     YMSG_CONFMSG,
     1,
     {"1=bot", "57=lobby", "3=dave", "14=hello all", "97=1", NULL},
     0,
     "dave",
     "hello all",
     ""},
    {"a_packet_without_a_room_is_refused",
     YMSG_CONFMSG,
     1,
     {"3=dave", "14=hi", NULL},
     -1,
     NULL,
     NULL,
     NULL},
    {"a_packet_without_a_sender_is_refused",
     YMSG_CONFMSG,
     1,
     {"57=lobby", "14=hi", NULL},
     -1,
     NULL,
     NULL,
     NULL},
    {"a_room_with_a_line_break_is_refused",
     YMSG_CONFLOGON,
     1,
     {"57=lob\nby", "53=dave", NULL},
     -1,
     NULL,
     NULL,
     NULL},
    {"another_service_is_not_a_conference_packet",
     YMSG_MESSAGE,
     1,
     {"57=lobby", "4=dave", NULL},
     -1,
     NULL,
     NULL,
     NULL},
    {"the_inviter_and_repeats_are_not_listed_twice",
     YMSG_CONFINVITE,
     1,
     {"57=lobby", "50=carol", "53=carol", "53=dave", "53=DAVE", "53=", NULL},
     0,
     "carol",
     NULL,
     "dave"},
};

static void run_read(gconstpointer data)
{
    const struct read_case *c = data;
    ymsg_pkt *pkt = packet(c->service, c->status, c->kv);
    yconf_msg msg;
    int rc = yconf_read(pkt, &msg);

    g_assert_cmpint(rc, ==, c->rc);
    if (rc == 0) {
        GString *m = g_string_new(NULL);

        g_assert_cmpstr(msg.room, ==, "lobby");
        g_assert_cmpstr(msg.from, ==, c->from);
        g_assert_cmpstr(msg.text, ==, c->text);
        for (guint i = 0; i < msg.members->len; i++)
            g_string_append_printf(m, "%s%s", i ? "," : "",
                                   (char *)g_ptr_array_index(msg.members, i));
        g_assert_cmpstr(m->str, ==, c->members);
        g_string_free(m, TRUE);
    } else {
        g_assert_null(msg.members);
    }
    yconf_msg_clear(&msg);
    ymsg_pkt_free(pkt);
}

static void a_room_over_the_limit_is_refused(void)
{
    char room[YCONF_ROOM_MAX + 2];

    memset(room, 'r', sizeof room - 1);
    room[sizeof room - 1] = '\0';
    g_assert_false(yconf_room_ok(room));
    room[YCONF_ROOM_MAX] = '\0';
    g_assert_true(yconf_room_ok(room));
    g_assert_false(yconf_room_ok(""));
    g_assert_false(yconf_room_ok("\xff\xfe"));
}

static void members_past_the_limit_are_ignored(void)
{
    ymsg_pkt *pkt = ymsg_pkt_new(YMSG_CONFINVITE, 1, 0);
    yconf_msg msg;

    ymsg_pkt_add(pkt, 57, "lobby");
    ymsg_pkt_add(pkt, 50, "carol");
    for (int i = 0; i < YCONF_MEMBERS_MAX * 3; i++) {
        char id[16];

        g_snprintf(id, sizeof id, "m%d", i);
        ymsg_pkt_add(pkt, 53, id);
    }
    g_assert_cmpint(yconf_read(pkt, &msg), ==, 0);
    g_assert_cmpuint(msg.members->len, ==, YCONF_MEMBERS_MAX);
    yconf_msg_clear(&msg);
    ymsg_pkt_free(pkt);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(read_cases); i++) {
        char *path = g_strdup_printf("/yconf/%s", read_cases[i].name);

        g_test_add_data_func(path, &read_cases[i], run_read);
        g_free(path);
    }
    g_test_add_func("/yconf/a_room_over_the_limit_is_refused",
                    a_room_over_the_limit_is_refused);
    g_test_add_func("/yconf/members_past_the_limit_are_ignored",
                    members_past_the_limit_are_ignored);
    return g_test_run();
}
