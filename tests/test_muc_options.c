/* test_muc_options: the room options table (muc/options.c and opt_*.c):
 * each option's form field, disco feature and join veto, the submit, and
 * the questions room code asks (admit, hidden, temporary, status). */
#include <glib.h>
#include <string.h>

#include "options.h"
#include "stanza.h"

static xmpp_ctx_t *ctx;

/* The configuration a new room gets (muc.c's create), all options off. */
static group_cfg *plain_cfg(void)
{
    group_cfg *g = g_new0(group_cfg, 1);

    g->localpart = g_strdup("room");
    g->name = g_strdup("");
    g->description = g_strdup("");
    g->password = g_strdup("");
    g->allow_pm = g_strdup("anyone");
    g->is_public = TRUE;
    g->persistent = TRUE;
    g->history_len = 20;
    g->keep_days = -1;
    return g;
}

static xmpp_stanza_t *field_of(xmpp_stanza_t *form, const char *var)
{
    for (xmpp_stanza_t *f = xmpp_stanza_get_children(form); f;
         f = xmpp_stanza_get_next(f))
        if (xmpp_stanza_is_tag(f) &&
            !g_strcmp0(xmpp_stanza_get_attribute(f, "var"), var))
            return f;
    return NULL;
}

static char *value_of(xmpp_stanza_t *f)
{
    xmpp_stanza_t *v = xmpp_stanza_get_child_by_name(f, "value");
    char *t = v ? xmpp_stanza_get_text(v) : NULL;
    char *out = g_strdup(t ? t : "");

    if (t)
        xmpp_free(ctx, t);
    return out;
}

/* Each option's field as the owner's form shows it for a new room. */
static const struct {
    const char *var, *type, *value;
} fields[] = {
    {"muc#roomconfig_roomname", "text-single", ""},
    {"muc#roomconfig_roomdesc", "text-single", ""},
    {"muc#roomconfig_persistentroom", "boolean", "1"},
    {"muc#roomconfig_publicroom", "boolean", "1"},
    {"muc#roomconfig_membersonly", "boolean", "0"},
    {"muc#roomconfig_roomsecret", "text-private", ""},
    {"muc#roomconfig_moderatedroom", "boolean", "0"},
    {"muc#roomconfig_whois", "list-single", "moderators"},
    {"muc#roomconfig_changesubject", "boolean", "0"},
    {"muc#roomconfig_allowpm", "list-single", "anyone"},
    {"muc#roomconfig_maxusers", "text-single", "0"},
    {"muc#maxhistoryfetch", "text-single", "20"},
    {"imgroups#keep_days", "text-single", "-1"},
    {"muc#roomconfig_registration", "boolean", "0"},
};

static void each_option_shows_its_field_in_the_owner_form_in_order(void)
{
    group_cfg *g = plain_cfg();
    xmpp_stanza_t *form = options_form(ctx, g);
    xmpp_stanza_t *f = xmpp_stanza_get_children(form);
    size_t n = 0;

    options_table(&n);
    g_assert_cmpuint(n, ==, G_N_ELEMENTS(fields));
    g_assert_cmpstr(xmpp_stanza_get_type(form), ==, "form");
    for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
        xmpp_stanza_t *fi = field_of(form, fields[i].var);
        char *v;
        g_assert_nonnull(fi);
        g_assert_cmpstr(xmpp_stanza_get_type(fi), ==, fields[i].type);
        g_assert_nonnull(xmpp_stanza_get_attribute(fi, "label"));
        v = value_of(fi);
        g_assert_cmpstr(v, ==, fields[i].value);
        g_free(v);
    }
    /* the form's order is the table's: FORM_TYPE first, then each */
    while (f && g_strcmp0(xmpp_stanza_get_name(f), "field"))
        f = xmpp_stanza_get_next(f);
    g_assert_cmpstr(xmpp_stanza_get_attribute(f, "var"), ==, "FORM_TYPE");
    for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
        f = xmpp_stanza_get_next(f);
        g_assert_cmpstr(xmpp_stanza_get_attribute(f, "var"), ==, fields[i].var);
    }
    xmpp_stanza_release(form);
    group_cfg_free(g);
}

static void set_members_only(group_cfg *g)
{
    g->members_only = TRUE;
}
static void set_password(group_cfg *g)
{
    g_free(g->password);
    g->password = g_strdup("s3cret");
}
static void set_moderated(group_cfg *g)
{
    g->moderated = TRUE;
}
static void set_hidden(group_cfg *g)
{
    g->is_public = FALSE;
}
static void set_temporary(group_cfg *g)
{
    g->persistent = FALSE;
}
static void set_whois_anyone(group_cfg *g)
{
    g->whois_anyone = TRUE;
}
static void set_max_users_2(group_cfg *g)
{
    g->max_users = 2;
}

/* Each option's disco feature, off (a new room) and on. */
static const struct {
    void (*turn_on)(group_cfg *g);
    const char *off, *on;
} features[] = {
    {set_temporary, "muc_persistent", "muc_temporary"},
    {set_hidden, "muc_public", "muc_hidden"},
    {set_members_only, "muc_open", "muc_membersonly"},
    {set_password, "muc_unsecured", "muc_passwordprotected"},
    {set_moderated, "muc_unmoderated", "muc_moderated"},
    {set_whois_anyone, "muc_semianonymous", "muc_nonanonymous"},
};

static gboolean has(GPtrArray *a, const char *s)
{
    for (guint i = 0; i < a->len; i++)
        if (!strcmp(g_ptr_array_index(a, i), s))
            return TRUE;
    return FALSE;
}

static void each_option_shows_its_disco_feature_on_and_off(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(features); i++) {
        group_cfg *g = plain_cfg();
        GPtrArray *off = g_ptr_array_new(), *on = g_ptr_array_new();
        options_features(g, off);
        features[i].turn_on(g);
        options_features(g, on);
        g_assert_true(has(off, features[i].off));
        g_assert_false(has(off, features[i].on));
        g_assert_true(has(on, features[i].on));
        g_assert_false(has(on, features[i].off));
        g_assert_cmpuint(on->len, ==, G_N_ELEMENTS(features));
        g_ptr_array_unref(off);
        g_ptr_array_unref(on);
        group_cfg_free(g);
    }
}

/* Who gets in, and with what error. */
static const struct {
    const char *name;
    void (*turn_on)(group_cfg *g);
    enum affiliation aff;
    const char *password;
    guint occupants;
    enum xerr want;
} joins[] = {
    {"an open room lets anyone in", NULL, AFF_NONE, NULL, 0, XERR_NONE},
    {"members only refuses the unaffiliated", set_members_only, AFF_NONE, NULL,
     0, XERR_REGISTRATION_REQUIRED},
    {"members only lets members in", set_members_only, AFF_MEMBER, NULL, 0,
     XERR_NONE},
    {"members only lets admins in", set_members_only, AFF_ADMIN, NULL, 0,
     XERR_NONE},
    {"a password room refuses no password", set_password, AFF_MEMBER, NULL, 0,
     XERR_NOT_AUTHORIZED},
    {"a password room refuses a wrong one", set_password, AFF_NONE, "nope", 0,
     XERR_NOT_AUTHORIZED},
    {"a password room lets the right one in", set_password, AFF_NONE, "s3cret",
     0, XERR_NONE},
    {"a password room lets its owner in without", set_password, AFF_OWNER, NULL,
     0, XERR_NONE},
    {"a full room refuses a member", set_max_users_2, AFF_MEMBER, NULL, 2,
     XERR_SERVICE_UNAVAILABLE},
    {"a full room lets an admin in", set_max_users_2, AFF_ADMIN, NULL, 2,
     XERR_NONE},
    {"a room with room left lets anyone in", set_max_users_2, AFF_NONE, NULL, 1,
     XERR_NONE},
};

static void each_option_vetoes_the_joins_it_should_and_no_other(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(joins); i++) {
        group_cfg *g = plain_cfg();
        const char *why = NULL;
        options_join j = {g, joins[i].aff, joins[i].password,
                          joins[i].occupants};
        enum xerr e;
        if (joins[i].turn_on)
            joins[i].turn_on(g);
        e = options_join_veto(&j, &why);
        if (e != joins[i].want)
            g_error("%s: got %s", joins[i].name, xerr_condition(e));
        g_assert_true(e == XERR_NONE || why != NULL);
        group_cfg_free(g);
    }
}

static void members_only_admits_members_and_refuses_the_unaffiliated(void)
{
    group_cfg *g = plain_cfg();
    const char *why = NULL;

    g_assert_cmpint(options_admit(g, AFF_NONE, &why), ==, XERR_NONE);
    g->members_only = TRUE;
    g_assert_cmpint(options_admit(g, AFF_NONE, &why), ==,
                    XERR_REGISTRATION_REQUIRED);
    g_assert_cmpstr(why, ==, "this group is for its members only");
    g_assert_cmpint(options_admit(g, AFF_MEMBER, &why), ==, XERR_NONE);
    g_assert_cmpint(options_admit(g, AFF_OWNER, &why), ==, XERR_NONE);
    group_cfg_free(g);
}

/* The yes/no questions room code asks, and which option answers yes. */
static const struct {
    const char *name;
    gboolean (*ask)(const group_cfg *g);
    void (*turn_on)(group_cfg *g);
} questions[] = {
    {"a hidden room keeps to itself", options_hidden, set_hidden},
    {"a members-only room keeps to itself", options_hidden, set_members_only},
    {"a non-persistent room is temporary", options_temporary, set_temporary},
    {"whois anyone makes real JIDs public", options_jids_public,
     set_whois_anyone},
};

static void each_question_is_answered_yes_by_its_option_only(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(questions); i++) {
        group_cfg *g = plain_cfg();
        if (questions[i].ask(g))
            g_error("a new room: %s", questions[i].name);
        questions[i].turn_on(g);
        if (!questions[i].ask(g))
            g_error("not so: %s", questions[i].name);
        group_cfg_free(g);
    }
}

static void a_whois_change_is_announced_as_172_or_173_anything_else_104(void)
{
    group_cfg *was = plain_cfg(), *now = plain_cfg();

    g_assert_cmpint(options_status(was, now), ==, 104);
    now->moderated = TRUE;
    g_assert_cmpint(options_status(was, now), ==, 104);
    now->whois_anyone = TRUE;
    g_assert_cmpint(options_status(was, now), ==, 172);
    g_assert_cmpint(options_status(now, was), ==, 173);
    group_cfg_free(was);
    group_cfg_free(now);
}

/* Who may send private messages (muc#roomconfig_allowpm). */
static const struct {
    const char *allow_pm;
    enum role role;
    gboolean want;
} pms[] = {
    {"anyone", ROLE_VISITOR, TRUE},
    {"anyone", ROLE_PARTICIPANT, TRUE},
    {"moderators", ROLE_PARTICIPANT, FALSE},
    {"moderators", ROLE_MODERATOR, TRUE},
    {"none", ROLE_MODERATOR, FALSE},
};

static void private_messages_follow_allow_pm(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(pms); i++) {
        group_cfg *g = plain_cfg();
        g_free(g->allow_pm);
        g->allow_pm = g_strdup(pms[i].allow_pm);
        if (options_may_pm(g, pms[i].role) != pms[i].want)
            g_error("allow_pm %s, %s: not %d", pms[i].allow_pm,
                    role_name(pms[i].role), pms[i].want);
        group_cfg_free(g);
    }
}

static void only_moderators_change_the_subject_unless_participants_may(void)
{
    group_cfg *g = plain_cfg();

    g_assert_true(options_may_set_subject(g, ROLE_MODERATOR));
    g_assert_false(options_may_set_subject(g, ROLE_PARTICIPANT));
    g->change_subject = TRUE;
    g_assert_true(options_may_set_subject(g, ROLE_PARTICIPANT));
    group_cfg_free(g);
}

static void a_members_only_room_takes_invitations_from_admins_only(void)
{
    group_cfg *g = plain_cfg();
    const char *why = NULL;

    g_assert_cmpint(options_may_invite(g, AFF_NONE, &why), ==, XERR_NONE);
    g_assert_false(options_invite_adds_member(g));
    g->members_only = TRUE;
    g_assert_cmpint(options_may_invite(g, AFF_MEMBER, &why), ==,
                    XERR_FORBIDDEN);
    g_assert_nonnull(why);
    g_assert_cmpint(options_may_invite(g, AFF_ADMIN, &why), ==, XERR_NONE);
    g_assert_true(options_invite_adds_member(g));
    group_cfg_free(g);
}

static void an_invitation_carries_the_password_of_a_password_room(void)
{
    group_cfg *g = plain_cfg();

    g_assert_null(options_invite_password(g));
    set_password(g);
    g_assert_cmpstr(options_invite_password(g), ==, "s3cret");
    group_cfg_free(g);
}

static xmpp_stanza_t *submit_form(const char *var, const char *value)
{
    xmpp_stanza_t *x = stanza_elem(ctx, "x", "jabber:x:data");
    xmpp_stanza_t *f = stanza_elem(ctx, "field", NULL);

    xmpp_stanza_set_type(x, "submit");
    xmpp_stanza_set_attribute(f, "var", var);
    stanza_add_text(ctx, f, "value", value);
    stanza_add(x, f);
    return x;
}

/* What a submitted field does to the configuration. */
static const struct {
    const char *var, *value;
    enum xerr want;
} submits[] = {
    {"muc#roomconfig_membersonly", "true", XERR_NONE},
    {"muc#roomconfig_membersonly", "yes", XERR_NOT_ACCEPTABLE},
    {"muc#roomconfig_whois", "anyone", XERR_NONE},
    {"muc#roomconfig_whois", "everyone", XERR_NOT_ACCEPTABLE},
    {"muc#roomconfig_allowpm", "moderators", XERR_NONE},
    {"muc#roomconfig_maxusers", "-1", XERR_NOT_ACCEPTABLE},
    {"imgroups#keep_days", "-1", XERR_NONE},
    {"imgroups#keep_days", "-2", XERR_NOT_ACCEPTABLE},
    {"muc#roomconfig_roomname", "\xff", XERR_NOT_ACCEPTABLE},
    {"muc#roomconfig_passwordprotectedroom", "1", XERR_NONE},
    {"x-unknown", "whatever", XERR_NONE},
};

static void a_submit_refuses_a_bad_value_naming_its_field(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(submits); i++) {
        group_cfg *g = plain_cfg();
        xmpp_stanza_t *x = submit_form(submits[i].var, submits[i].value);
        const char *why = NULL;
        enum xerr e = options_submit(g, x, &why);
        if (e != submits[i].want)
            g_error("%s=%s: got %s", submits[i].var, submits[i].value,
                    xerr_condition(e));
        if (e != XERR_NONE)
            g_assert_cmpstr(why, ==, submits[i].var);
        xmpp_stanza_release(x);
        group_cfg_free(g);
    }
}

static void a_submit_sets_the_value_and_the_form_shows_it_back(void)
{
    group_cfg *g = plain_cfg();
    xmpp_stanza_t *x = submit_form("muc#roomconfig_whois", "anyone");
    const char *why = NULL;
    xmpp_stanza_t *form;
    char *v;

    g_assert_cmpint(options_submit(g, x, &why), ==, XERR_NONE);
    g_assert_true(g->whois_anyone);
    form = options_form(ctx, g);
    v = value_of(field_of(form, "muc#roomconfig_whois"));
    g_assert_cmpstr(v, ==, "anyone");
    g_free(v);
    xmpp_stanza_release(form);
    xmpp_stanza_release(x);
    x = submit_form("muc#roomconfig_roomsecret", "pw");
    g_assert_cmpint(options_submit(g, x, &why), ==, XERR_NONE);
    g_assert_cmpstr(g->password, ==, "pw");
    form = options_form(ctx, g);
    v = value_of(field_of(form, "muc#roomconfig_roomsecret"));
    g_assert_cmpstr(v, ==, ""); /* a secret is never shown back */
    g_free(v);
    xmpp_stanza_release(form);
    xmpp_stanza_release(x);
    group_cfg_free(g);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    xmpp_initialize();
    ctx = xmpp_ctx_new(NULL, NULL);
    g_test_add_func("/muc_options/each_option_shows_its_field_in_the_owner_"
                    "form_in_order",
                    each_option_shows_its_field_in_the_owner_form_in_order);
    g_test_add_func("/muc_options/each_option_shows_its_disco_feature_on_"
                    "and_off",
                    each_option_shows_its_disco_feature_on_and_off);
    g_test_add_func("/muc_options/each_option_vetoes_the_joins_it_should_"
                    "and_no_other",
                    each_option_vetoes_the_joins_it_should_and_no_other);
    g_test_add_func("/muc_options/members_only_admits_members_and_refuses_the_"
                    "unaffiliated",
                    members_only_admits_members_and_refuses_the_unaffiliated);
    g_test_add_func("/muc_options/each_question_is_answered_yes_by_its_"
                    "option_only",
                    each_question_is_answered_yes_by_its_option_only);
    g_test_add_func(
        "/muc_options/a_whois_change_is_announced_as_172_or_173_anything_"
        "else_104",
        a_whois_change_is_announced_as_172_or_173_anything_else_104);
    g_test_add_func("/muc_options/a_submit_refuses_a_bad_value_naming_its_"
                    "field",
                    a_submit_refuses_a_bad_value_naming_its_field);
    g_test_add_func("/muc_options/a_submit_sets_the_value_and_the_form_"
                    "shows_it_back",
                    a_submit_sets_the_value_and_the_form_shows_it_back);
    g_test_add_func("/muc_options/private_messages_follow_allow_pm",
                    private_messages_follow_allow_pm);
    g_test_add_func("/muc_options/only_moderators_change_the_subject_unless_"
                    "participants_may",
                    only_moderators_change_the_subject_unless_participants_may);
    g_test_add_func(
        "/muc_options/a_members_only_room_takes_invitations_from_admins_only",
        a_members_only_room_takes_invitations_from_admins_only);
    g_test_add_func(
        "/muc_options/an_invitation_carries_the_password_of_a_password_room",
        an_invitation_carries_the_password_of_a_password_room);
    rc = g_test_run();
    xmpp_ctx_free(ctx);
    xmpp_shutdown();
    return rc;
}
