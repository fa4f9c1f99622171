/* test_muc_roles: the one rule for an occupant's initial role (XEP-0045
 * §5.1.1, "Initial Role Based on Affiliation"), options_initial_role, as a
 * table: joins, legacy occupants and affiliation changes all ask it. */
#include <glib.h>

#include "options.h"

static const struct {
    gboolean moderated;
    enum affiliation aff;
    enum role want;
} rules[] = {
    {FALSE, AFF_OWNER, ROLE_MODERATOR},    {FALSE, AFF_ADMIN, ROLE_MODERATOR},
    {FALSE, AFF_MEMBER, ROLE_PARTICIPANT}, {FALSE, AFF_NONE, ROLE_PARTICIPANT},
    {TRUE, AFF_OWNER, ROLE_MODERATOR},     {TRUE, AFF_ADMIN, ROLE_MODERATOR},
    {TRUE, AFF_MEMBER, ROLE_PARTICIPANT},  {TRUE, AFF_NONE, ROLE_VISITOR},
};

static void the_initial_role_follows_affiliation_and_moderation(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(rules); i++) {
        group_cfg g = {.moderated = rules[i].moderated};
        enum role got = options_initial_role(&g, rules[i].aff);
        if (got != rules[i].want)
            g_error("moderated=%d %s: %s, not %s", rules[i].moderated,
                    affiliation_name(rules[i].aff), role_name(got),
                    role_name(rules[i].want));
    }
}

static void no_other_option_changes_the_initial_role(void)
{
    /* every option on but moderation: the roles of an open room */
    group_cfg g = {.members_only = TRUE,
                   .whois_anyone = TRUE,
                   .persistent = FALSE,
                   .password = "x",
                   .max_users = 1};

    for (size_t i = 0; i < G_N_ELEMENTS(rules); i++)
        if (!rules[i].moderated)
            g_assert_cmpint(options_initial_role(&g, rules[i].aff), ==,
                            rules[i].want);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/muc_roles/the_initial_role_follows_affiliation_and_"
                    "moderation",
                    the_initial_role_follows_affiliation_and_moderation);
    g_test_add_func("/muc_roles/no_other_option_changes_the_initial_role",
                    no_other_option_changes_the_initial_role);
    return g_test_run();
}
