/* test_muc_presence: what of a client's presence a room keeps and shows
 * (muc/presence.c, muc_keep_presence: show, status, priority, caps, the
 * photo hash, the first of each, each bounded) and who sees real JIDs
 * (muc_sees_jids). */
#include <glib.h>
#include <string.h>

#include "bounds.h"
#include "presence.h"

static xmpp_ctx_t *ctx;

static char *text_of(xmpp_stanza_t *st)
{
    char *buf = NULL, *out;
    size_t len = 0;

    g_assert_cmpint(xmpp_stanza_to_text(st, &buf, &len), ==, 0);
    out = g_strndup(buf, len);
    xmpp_free(ctx, buf);
    return out;
}

/* What o's kept presence shows, as a <presence/>'s text. */
static char *shown_text(const occ *o)
{
    xmpp_stanza_t *p = xmpp_presence_new(ctx);
    char *out;

    muc_add_shown(ctx, p, o);
    out = text_of(p);
    xmpp_stanza_release(p);
    return out;
}

static char *kept(const char *xml)
{
    xmpp_stanza_t *st = xmpp_stanza_new_from_string(ctx, xml);
    occ o = {0};
    char *out;

    g_assert_nonnull(st);
    muc_keep_presence(&o, st);
    out = shown_text(&o);
    occ_shown_clear(&o.shown);
    xmpp_stanza_release(st);
    return out;
}

static const struct {
    const char *name, *in, *want;
} cases[] = {
    {"show and status are kept",
     "<presence><show>away</show><status>out</status></presence>",
     "<presence><show>away</show><status>out</status></presence>"},
    {"the muc element and its password stay behind",
     "<presence><x xmlns='http://jabber.org/protocol/muc'><password>pw"
     "</password></x><priority>5</priority></presence>",
     "<presence><priority>5</priority></presence>"},
    {"only the first status is kept",
     "<presence><status>one</status><status>two</status></presence>",
     "<presence><status>one</status></presence>"},
    {"other payloads stay behind",
     "<presence><nick xmlns='http://jabber.org/protocol/nick'>n</nick>"
     "<delay xmlns='urn:xmpp:delay' stamp='2020-01-01T00:00:00Z'/>"
     "</presence>",
     "<presence/>"},
    {"the photo hash is kept",
     "<presence><x xmlns='vcard-temp:x:update'><photo>abc</photo>"
     "<other/></x></presence>",
     "<presence><x xmlns=\"vcard-temp:x:update\"><photo>abc</photo></x>"
     "</presence>"},
};

static void a_room_keeps_only_what_it_shows_of_a_presence(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *got = kept(cases[i].in);
        if (strcmp(got, cases[i].want) != 0)
            g_error("%s: got %s", cases[i].name, got);
        g_free(got);
    }
}

static void caps_keep_their_four_attributes_and_no_other(void)
{
    xmpp_stanza_t *st = xmpp_stanza_new_from_string(
        ctx, "<presence><c xmlns='http://jabber.org/protocol/caps' "
             "hash='sha-1' node='n' ver='v' ext='e' extra='x'/></presence>");
    xmpp_stanza_t *p = xmpp_presence_new(ctx);
    occ o = {0};
    xmpp_stanza_t *c;

    muc_keep_presence(&o, st);
    muc_add_shown(ctx, p, &o);
    c = xmpp_stanza_get_child_by_name(p, "c");
    g_assert_nonnull(c);
    g_assert_cmpstr(xmpp_stanza_get_attribute(c, "hash"), ==, "sha-1");
    g_assert_cmpstr(xmpp_stanza_get_attribute(c, "node"), ==, "n");
    g_assert_cmpstr(xmpp_stanza_get_attribute(c, "ver"), ==, "v");
    g_assert_cmpstr(xmpp_stanza_get_attribute(c, "ext"), ==, "e");
    g_assert_null(xmpp_stanza_get_attribute(c, "extra"));
    occ_shown_clear(&o.shown);
    xmpp_stanza_release(p);
    xmpp_stanza_release(st);
}

static void a_long_status_is_cut_to_its_bound(void)
{
    char *status = g_strnfill(BOUND_STATUS_BYTES + 100, 'a');
    char *xml = g_strdup_printf("<presence><status>%s</status></presence>",
                                status);
    char *got = kept(xml);
    char *want = g_strdup_printf("<presence><status>%.*s</status></presence>",
                                 (int)BOUND_STATUS_BYTES, status);

    g_assert_cmpstr(got, ==, want);
    g_free(want);
    g_free(got);
    g_free(xml);
    g_free(status);
}

static void a_new_presence_replaces_the_kept_one(void)
{
    xmpp_stanza_t *a = xmpp_stanza_new_from_string(
        ctx, "<presence><show>away</show></presence>");
    xmpp_stanza_t *b = xmpp_stanza_new_from_string(ctx, "<presence/>");
    occ o = {0};
    char *got;

    muc_keep_presence(&o, a);
    muc_keep_presence(&o, b);
    got = shown_text(&o);
    g_assert_cmpstr(got, ==, "<presence/>");
    g_free(got);
    occ_shown_clear(&o.shown);
    xmpp_stanza_release(a);
    xmpp_stanza_release(b);
}

/* XEP-0045 §5.1.2, §10.2: who sees real JIDs. */
static const struct {
    gboolean whois_anyone;
    enum role viewer;
    gboolean sees;
} sights[] = {
    {FALSE, ROLE_MODERATOR, TRUE},
    {FALSE, ROLE_PARTICIPANT, FALSE},
    {FALSE, ROLE_VISITOR, FALSE},
    {TRUE, ROLE_PARTICIPANT, TRUE},
    {TRUE, ROLE_VISITOR, TRUE},
};

static void moderators_see_real_jids_and_everyone_in_a_non_anonymous_room(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(sights); i++) {
        group_cfg g = {.whois_anyone = sights[i].whois_anyone};
        room r = {.cfg = &g};
        occ viewer = {.role = sights[i].viewer};
        if (muc_sees_jids(&r, &viewer) != sights[i].sees)
            g_error("whois_anyone=%d %s: not %d", sights[i].whois_anyone,
                    role_name(sights[i].viewer), sights[i].sees);
    }
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    xmpp_initialize();
    ctx = xmpp_ctx_new(NULL, NULL);
    g_test_add_func("/muc_presence/a_room_keeps_only_what_it_shows_of_a_"
                    "presence",
                    a_room_keeps_only_what_it_shows_of_a_presence);
    g_test_add_func("/muc_presence/caps_keep_their_four_attributes_and_no_"
                    "other",
                    caps_keep_their_four_attributes_and_no_other);
    g_test_add_func("/muc_presence/a_long_status_is_cut_to_its_bound",
                    a_long_status_is_cut_to_its_bound);
    g_test_add_func("/muc_presence/a_new_presence_replaces_the_kept_one",
                    a_new_presence_replaces_the_kept_one);
    g_test_add_func(
        "/muc_presence/moderators_see_real_jids_and_everyone_in_a_non_"
        "anonymous_room",
        moderators_see_real_jids_and_everyone_in_a_non_anonymous_room);
    rc = g_test_run();
    xmpp_ctx_free(ctx);
    xmpp_shutdown();
    return rc;
}
