/* test_muc_voice: voice requests (muc/voice.c, XEP-0045 §7.13): a
 * visitor's request goes to each moderator session once a minute at most;
 * nobody else's does; a moderator's approval gives voice, a refusal or an
 * approval for someone who has it already does nothing. */
#include <glib.h>
#include <string.h>

#include "clock.h"
#include "muc.h"
#include "muc_int.h"
#include "testutil.h"
#include "voice.h"

#define ROOM "r@groups.example.org"

typedef struct fixture {
    testutil_store st;
    config cfg;
    muc *m;
    uplink *up;
    room *r;
    occ *mod, *vis, *par;
    xmpp_ctx_t *ctx;
} fixture;

static void setup(fixture *f, gconstpointer data)
{
    uplink_params p = {.jid = "groups.example.org",
                       .host = "127.0.0.1",
                       .port = 9, /* nothing answers: the link stays down */
                       .secret = "s",
                       .queue_max = 1000};
    group_cfg *g = g_new0(group_cfg, 1);

    testutil_store_setup(&f->st, data);
    memset(&f->cfg, 0, sizeof(f->cfg));
    f->cfg.jid = "groups.example.org";
    g_assert_cmpint(muc_new(&f->cfg, f->st.s, &f->m, NULL), ==, 0);
    g_assert_cmpint(uplink_new(&p, NULL, NULL, NULL, &f->up), ==, 0);
    g->localpart = g_strdup("r");
    g->name = g_strdup("");
    g->description = g_strdup("");
    g->subject = g_strdup("");
    g->subject_nick = g_strdup("");
    g->password = g_strdup("");
    g->allow_pm = g_strdup("anyone");
    g->moderated = TRUE;
    f->r = room_new(f->cfg.jid, g);
    /* a moderator with two sessions, a visitor, a participant */
    f->mod = room_occ_add(f->r, "mod", "mod@example.org", "mod@example.org/a",
                          AFF_OWNER, ROLE_MODERATOR, "1");
    room_session_add(f->r, f->mod, "mod@example.org/b");
    f->vis = room_occ_add(f->r, "vis", "vis@example.org", "vis@example.org/v",
                          AFF_NONE, ROLE_VISITOR, "2");
    f->par = room_occ_add(f->r, "par", "par@example.org", "par@example.org/p",
                          AFF_NONE, ROLE_PARTICIPANT, "3");
    f->ctx = uplink_ctx(f->up);
}

static void teardown(fixture *f, gconstpointer data)
{
    room_free(f->r);
    uplink_free(f->up);
    muc_free(f->m);
    testutil_store_teardown(&f->st, data);
}

/* A message from from to the room carrying a muc#request form with the
 * fields given as "var=value" strings (NULL-ended), handled as o's;
 * returns how many stanzas the room sent for it. */
static guint send_form(fixture *f, occ *o, const char *from,
                       const char *const *fields)
{
    GString *xml = g_string_new(NULL);
    xmpp_stanza_t *st;
    guint before = uplink_queued(f->up);

    g_string_append_printf(
        xml,
        "<message from='%s' to='" ROOM "'>"
        "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'>"
        "<value>" NS_MUC_REQUEST "</value></field>",
        from);
    for (const char *const *p = fields; *p; p++) {
        char **kv = g_strsplit(*p, "=", 2);
        g_string_append_printf(xml, "<field var='%s'><value>%s</value></field>",
                               kv[0], kv[1]);
        g_strfreev(kv);
    }
    g_string_append(xml, "</x></message>");
    st = xmpp_stanza_new_from_string(f->ctx, xml->str);
    g_string_free(xml, TRUE);
    g_assert_true(voice_is_request(st));
    voice_request(f->m, f->up, f->r, o, st);
    xmpp_stanza_release(st);
    return uplink_queued(f->up) - before;
}

static const char *const ask[] = {"muc#role=participant", NULL};

static void
a_visitors_request_reaches_each_moderator_session_once_a_minute(fixture *f,
                                                                gconstpointer d)
{
    /* one message to each of the moderator's two sessions */
    g_assert_cmpuint(send_form(f, f->vis, "vis@example.org/v", ask), ==, 2);
    g_assert_cmpuint(send_form(f, f->vis, "vis@example.org/v", ask), ==, 0);
    /* the clock also runs on its own: half the interval leaves room */
    clock_advance(VOICE_REQUEST_INTERVAL_US / 2);
    g_assert_cmpuint(send_form(f, f->vis, "vis@example.org/v", ask), ==, 0);
    clock_advance(VOICE_REQUEST_INTERVAL_US / 2);
    g_assert_cmpuint(send_form(f, f->vis, "vis@example.org/v", ask), ==, 2);
}

static void only_a_visitor_has_something_to_ask(fixture *f, gconstpointer d)
{
    g_assert_cmpuint(send_form(f, f->par, "par@example.org/p", ask), ==, 0);
    g_assert_cmpint(f->par->role, ==, ROLE_PARTICIPANT);
}

static void
a_moderators_approval_gives_voice_and_tells_everyone(fixture *f,
                                                     gconstpointer d)
{
    static const char *const allow[] = {"muc#jid=vis@example.org/v",
                                        "muc#roomnick=vis",
                                        "muc#request_allow=true", NULL};

    /* every session of every occupant hears the new role: 2 + 1 + 1 */
    g_assert_cmpuint(send_form(f, f->mod, "mod@example.org/a", allow), ==, 4);
    g_assert_cmpint(f->vis->role, ==, ROLE_PARTICIPANT);
    /* she has it now: nothing more to do */
    g_assert_cmpuint(send_form(f, f->mod, "mod@example.org/a", allow), ==, 0);
}

/* Answers that change nothing. */
static const struct {
    const char *name;
    gboolean from_moderator;
    const char *fields[4];
} inert[] = {
    {"a refusal",
     TRUE,
     {"muc#jid=vis@example.org/v", "muc#request_allow=false", NULL}},
    {"an approval naming nobody in the room",
     TRUE,
     {"muc#jid=nobody@example.org/x", "muc#request_allow=1", NULL}},
    {"an approval from the visitor herself",
     FALSE,
     {"muc#jid=vis@example.org/v", "muc#request_allow=true", NULL}},
};

static void answers_that_grant_nothing_change_nothing(fixture *f,
                                                      gconstpointer d)
{
    for (gsize i = 0; i < G_N_ELEMENTS(inert); i++) {
        occ *o = inert[i].from_moderator ? f->mod : f->vis;
        const char *from =
            inert[i].from_moderator ? "mod@example.org/a" : "vis@example.org/v";
        guint sent = send_form(f, o, from, inert[i].fields);
        g_test_message("%s", inert[i].name);
        g_assert_cmpint(f->vis->role, ==, ROLE_VISITOR);
        /* the visitor's own "approval" is a request at most */
        g_assert_cmpuint(sent, ==, inert[i].from_moderator ? 0 : 2);
    }
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*fn)(fixture *f, gconstpointer d);
    } tests[] = {
#define T(name) {"/muc_voice/" #name, name}
        T(a_visitors_request_reaches_each_moderator_session_once_a_minute),
        T(only_a_visitor_has_something_to_ask),
        T(a_moderators_approval_gives_voice_and_tells_everyone),
        T(answers_that_grant_nothing_change_nothing),
#undef T
    };
    int rc;

    g_test_init(&argc, &argv, NULL);
    xmpp_initialize();
    for (gsize i = 0; i < G_N_ELEMENTS(tests); i++)
        g_test_add(tests[i].name, fixture, NULL, setup, tests[i].fn, teardown);
    rc = g_test_run();
    xmpp_shutdown();
    return rc;
}
