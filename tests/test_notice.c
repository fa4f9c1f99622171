/* test_notice: the first-contact notice's text (component/muc/notice.c) —
 * what is kept, for how long in this group, where to ask for it, and the
 * group's own description. */
#include <string.h>

#include <glib.h>

#include "groups.h"
#include "notice.h"
#include "room.h"

static room *make_room(gint32 keep_days, const char *description)
{
    group_cfg g = {
        .localpart = "lobby",
        .name = "",
        .description = (char *)description,
        .subject = "",
        .subject_nick = "",
        .password = "",
        .allow_pm = "anyone",
        .keep_days = keep_days,
        .history_len = 20,
    };

    return room_new("groups.example", group_cfg_copy(&g));
}

static void notice_names_the_groups_retention_and_where_to_ask(void)
{
    static const struct {
        gint32 room_days;
        guint service_days;
        const char *want;
    } cases[] = {
        {-1, 30, "keeps messages 30 days"},
        {7, 30, "keeps messages 7 days"},
        {0, 30, "until they are withdrawn or erased"},
        {-1, 0, "until they are withdrawn or erased"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        room *r = make_room(cases[i].room_days, "");
        char *t = notice_text(r, cases[i].service_days, "groups.example");

        g_assert_nonnull(strstr(t, cases[i].want));
        g_assert_nonnull(strstr(t, "\"My data\" of groups.example"));
        g_assert_null(strstr(t, "About this group"));
        g_free(t);
        room_free(r);
    }
}

static void notice_ends_with_the_groups_description(void)
{
    room *r = make_room(-1, "Knitting, mostly.");
    char *t = notice_text(r, 30, "groups.example");

    g_assert_true(g_str_has_suffix(t, "\n\nAbout this group: Knitting, "
                                      "mostly."));
    g_free(t);
    room_free(r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/notice/names_the_groups_retention_and_where_to_ask",
                    notice_names_the_groups_retention_and_where_to_ask);
    g_test_add_func("/notice/ends_with_the_groups_description",
                    notice_ends_with_the_groups_description);
    return g_test_run();
}
