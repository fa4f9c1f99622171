/* test_muc_register: registered nicks (muc/register.c) as iq_fns and the
 * join rule: the form, a registration and <registered/>, the refusals
 * (conflict, bad nicks and forms, outcasts, members-only outsiders, a full
 * group), <remove/>, the x-roomuser-item node, and register_join_check
 * with and without muc#roomconfig_registration (opt_registration.c). */
#include <glib.h>
#include <string.h>

#include "affiliations.h"
#include "bounds.h"
#include "muc.h"
#include "muc_int.h"
#include "nicks.h"
#include "register.h"
#include "testutil.h"

#define JULIET  "juliet@example.org/balcony"
#define ROSA    "rosaline@example.org/x"
#define ROMEO   "romeo@example.org/y"
#define ROOMJID "r@groups.example.org"

typedef struct fixture {
    testutil_store st;
    config cfg;
    muc *m;
    room *r;
    xmpp_ctx_t *ctx;
} fixture;

static void setup(fixture *f, gconstpointer data)
{
    GError *err = NULL;
    group_cfg *g = g_new0(group_cfg, 1);

    testutil_store_setup(&f->st, data);
    memset(&f->cfg, 0, sizeof(f->cfg));
    f->cfg.jid = "groups.example.org";
    f->cfg.rate = 0.001; /* no refill within a test */
    f->cfg.burst = 5;
    g_assert_cmpint(muc_new(&f->cfg, f->st.s, &f->m, &err), ==, 0);
    g->localpart = g_strdup("r");
    g->name = g_strdup("");
    g->description = g_strdup("");
    g->subject = g_strdup("");
    g->subject_nick = g_strdup("");
    g->password = g_strdup("");
    g->allow_pm = g_strdup("anyone");
    g->is_public = TRUE;
    g->persistent = TRUE;
    f->r = room_new(f->cfg.jid, g);
    f->ctx = xmpp_ctx_new(NULL, NULL);
}

static void teardown(fixture *f, gconstpointer data)
{
    room_free(f->r);
    muc_free(f->m);
    xmpp_ctx_free(f->ctx);
    testutil_store_teardown(&f->st, data);
}

/* Asks fn as from with the iq literal xml; returns the xerr and the
 * payload in *out (NULL: not wanted; else release it). */
static enum xerr ask(fixture *f, iq_fn fn, const char *from, const char *xml,
                     xmpp_stanza_t **out)
{
    xmpp_stanza_t *st = xmpp_stanza_new_from_string(f->ctx, xml);
    jid to = {0};
    muc_call c = {f->m, f->r, room_occ_by_full(f->r, from), NULL, NULL};
    iq_req q = {.ctx = f->ctx,
                .st = st,
                .child = xmpp_stanza_get_children(st),
                .type = xmpp_stanza_get_type(st),
                .from = from,
                .to = &to,
                .data = &c};
    iq_res res = {0};
    enum xerr e = fn(&q, &res);

    if (out)
        *out = res.payload;
    else if (res.payload)
        xmpp_stanza_release(res.payload);
    res.payload = NULL;
    iq_res_clear(&res);
    xmpp_stanza_release(st);
    return e;
}

static const char *const get_xml = "<iq type='get' id='g1' to='" ROOMJID "'>"
                                   "<query xmlns='jabber:iq:register'/></iq>";

static const char *const remove_xml =
    "<iq type='set' id='s2' to='" ROOMJID "'>"
    "<query xmlns='jabber:iq:register'><remove/></query></iq>";

static const char *const item_xml =
    "<iq type='get' id='d1' to='" ROOMJID "'>"
    "<query xmlns='http://jabber.org/protocol/disco#info' "
    "node='x-roomuser-item'/></iq>";

/* The iq set submitting nick (escaped already) in a muc#register form. */
static char *submit_xml(const char *nick)
{
    return g_strdup_printf(
        "<iq type='set' id='s1' to='" ROOMJID "'>"
        "<query xmlns='jabber:iq:register'>"
        "<x xmlns='jabber:x:data' type='submit'>"
        "<field var='FORM_TYPE'>"
        "<value>http://jabber.org/protocol/muc#register</value></field>"
        "<field var='muc#register_roomnick'><value>%s</value></field>"
        "</x></query></iq>",
        nick);
}

static enum xerr submit(fixture *f, const char *from, const char *nick)
{
    char *xml = submit_xml(nick);
    enum xerr e = ask(f, register_set, from, xml, NULL);

    g_free(xml);
    return e;
}

typedef struct aff_args {
    const char *bare;
    enum affiliation a;
    int rc;
} aff_args;

static int aff_txn(MDB_txn *txn, const store *s, void *userdata)
{
    aff_args *a = userdata;

    a->rc = affiliations_set(txn, s, "r", a->bare, a->a, NULL);
    return a->rc;
}

static void set_affiliation(fixture *f, const char *bare, enum affiliation a)
{
    aff_args aa = {bare, a, 0};

    g_assert_cmpint(testutil_store_write(&f->st, aff_txn, &aa, &aa.rc), ==, 0);
}

/* The name of the x-roomuser-item identity from's asking gets, or NULL
 * (g_free). */
static char *reserved_nick(fixture *f, const char *from)
{
    xmpp_stanza_t *q = NULL, *id;
    char *name;

    g_assert_cmpint(ask(f, register_roomuser_item, from, item_xml, &q), ==,
                    XERR_NONE);
    g_assert_cmpstr(xmpp_stanza_get_attribute(q, "node"), ==,
                    "x-roomuser-item");
    id = xmpp_stanza_get_child_by_name(q, "identity");
    name = id ? g_strdup(xmpp_stanza_get_attribute(id, "name")) : NULL;
    if (id) {
        g_assert_cmpstr(xmpp_stanza_get_attribute(id, "category"), ==,
                        "conference");
        g_assert_cmpstr(xmpp_stanza_get_attribute(id, "type"), ==, "text");
    }
    xmpp_stanza_release(q);
    return name;
}

#define assert_reserved(f, from, want)                                         \
    do {                                                                       \
        char *n_ = reserved_nick(f, from);                                     \
        g_assert_cmpstr(n_, ==, want);                                         \
        g_free(n_);                                                            \
    } while (0)

static void an_unregistered_user_gets_the_muc_register_form(fixture *f,
                                                            gconstpointer d)
{
    xmpp_stanza_t *q = NULL, *x, *fl;
    gboolean type = FALSE, nick = FALSE;

    g_assert_cmpint(ask(f, register_get, JULIET, get_xml, &q), ==, XERR_NONE);
    g_assert_cmpstr(xmpp_stanza_get_ns(q), ==, "jabber:iq:register");
    g_assert_null(xmpp_stanza_get_child_by_name(q, "registered"));
    x = xmpp_stanza_get_child_by_name_and_ns(q, "x", "jabber:x:data");
    g_assert_nonnull(x);
    g_assert_cmpstr(xmpp_stanza_get_type(x), ==, "form");
    for (fl = xmpp_stanza_get_children(x); fl; fl = xmpp_stanza_get_next(fl)) {
        const char *var = xmpp_stanza_get_attribute(fl, "var");
        type |= g_strcmp0(var, "FORM_TYPE") == 0;
        nick |= g_strcmp0(var, "muc#register_roomnick") == 0;
    }
    g_assert_true(type);
    g_assert_true(nick);
    xmpp_stanza_release(q);
}

static void a_registered_user_gets_registered_and_their_nick(fixture *f,
                                                             gconstpointer d)
{
    xmpp_stanza_t *q = NULL;
    char *name;

    g_assert_cmpint(submit(f, JULIET, "Juliet"), ==, XERR_NONE);
    g_assert_cmpint(ask(f, register_get, JULIET, get_xml, &q), ==, XERR_NONE);
    g_assert_nonnull(xmpp_stanza_get_child_by_name(q, "registered"));
    name = xmpp_stanza_get_text(xmpp_stanza_get_child_by_name(q, "username"));
    g_assert_cmpstr(name, ==, "Juliet");
    xmpp_free(f->ctx, name);
    xmpp_stanza_release(q);
    assert_reserved(f, JULIET, "Juliet");
    assert_reserved(f, ROSA, NULL);
}

static void a_nick_registered_by_someone_else_is_a_conflict(fixture *f,
                                                            gconstpointer d)
{
    g_assert_cmpint(submit(f, JULIET, "Juliet"), ==, XERR_NONE);
    /* compared by the RFC 8266 key, as a join compares */
    g_assert_cmpint(submit(f, ROSA, "JULIET"), ==, XERR_CONFLICT);
    /* the owner may submit it again, in another case */
    g_assert_cmpint(submit(f, JULIET, "JULIET"), ==, XERR_NONE);
    assert_reserved(f, JULIET, "JULIET");
}

static void a_nick_an_occupant_holds_is_a_conflict(fixture *f, gconstpointer d)
{
    room_occ_add(f->r, "Romeo", "romeo@example.org", ROMEO, AFF_NONE,
                 ROLE_PARTICIPANT, "oid");
    g_assert_cmpint(submit(f, JULIET, "romeo"), ==, XERR_CONFLICT);
    /* but Romeo himself may register it */
    g_assert_cmpint(submit(f, ROMEO, "Romeo"), ==, XERR_NONE);
}

/* Submissions refused before anything is stored. */
static const struct {
    const char *name, *xml;
    enum xerr want;
} bad_submits[] = {
    {"no form",
     "<iq type='set' id='b' to='" ROOMJID "'>"
     "<query xmlns='jabber:iq:register'/></iq>",
     XERR_BAD_REQUEST},
    {"another FORM_TYPE",
     "<iq type='set' id='b' to='" ROOMJID "'>"
     "<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' "
     "type='submit'><field var='FORM_TYPE'><value>urn:other</value></field>"
     "<field var='muc#register_roomnick'><value>J</value></field>"
     "</x></query></iq>",
     XERR_BAD_REQUEST},
    {"no nick field",
     "<iq type='set' id='b' to='" ROOMJID "'>"
     "<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' "
     "type='submit'><field var='FORM_TYPE'>"
     "<value>http://jabber.org/protocol/muc#register</value></field>"
     "</x></query></iq>",
     XERR_BAD_REQUEST},
    {"a nick RFC 8266 refuses (zero width space)",
     "<iq type='set' id='b' to='" ROOMJID "'>"
     "<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' "
     "type='submit'><field var='FORM_TYPE'>"
     "<value>http://jabber.org/protocol/muc#register</value></field>"
     "<field var='muc#register_roomnick'><value>a\xe2\x80\x8b"
     "b</value></field></x></query></iq>",
     XERR_BAD_REQUEST},
    {"a nick of spaces only",
     "<iq type='set' id='b' to='" ROOMJID "'>"
     "<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' "
     "type='submit'><field var='FORM_TYPE'>"
     "<value>http://jabber.org/protocol/muc#register</value></field>"
     "<field var='muc#register_roomnick'><value>   </value></field>"
     "</x></query></iq>",
     XERR_BAD_REQUEST},
};

static void
bad_forms_and_nicks_are_refused_and_nothing_is_stored(fixture *f,
                                                      gconstpointer d)
{
    for (gsize i = 0; i < G_N_ELEMENTS(bad_submits); i++) {
        g_test_message("%s", bad_submits[i].name);
        g_assert_cmpint(ask(f, register_set, JULIET, bad_submits[i].xml, NULL),
                        ==, bad_submits[i].want);
    }
    assert_reserved(f, JULIET, NULL);
}

static void a_nick_over_its_bound_is_refused(fixture *f, gconstpointer d)
{
    char *nick = g_strnfill(BOUND_NICK_BYTES + 1, 'n');

    g_assert_cmpint(submit(f, JULIET, nick), ==, XERR_BAD_REQUEST);
    g_free(nick);
    nick = g_strnfill(BOUND_NICK_BYTES, 'n');
    g_assert_cmpint(submit(f, JULIET, nick), ==, XERR_NONE);
    g_free(nick);
}

static void a_cancelled_form_changes_nothing(fixture *f, gconstpointer d)
{
    static const char *const cancel =
        "<iq type='set' id='c' to='" ROOMJID "'>"
        "<query xmlns='jabber:iq:register'>"
        "<x xmlns='jabber:x:data' type='cancel'/></query></iq>";

    g_assert_cmpint(ask(f, register_set, JULIET, cancel, NULL), ==, XERR_NONE);
    assert_reserved(f, JULIET, NULL);
}

static void an_outcast_may_not_register(fixture *f, gconstpointer d)
{
    set_affiliation(f, "juliet@example.org", AFF_OUTCAST);
    g_assert_cmpint(ask(f, register_get, JULIET, get_xml, NULL), ==,
                    XERR_FORBIDDEN);
    g_assert_cmpint(submit(f, JULIET, "Juliet"), ==, XERR_FORBIDDEN);
}

static void members_only_takes_registrations_from_members_only(fixture *f,
                                                               gconstpointer d)
{
    f->r->cfg->members_only = TRUE;
    g_assert_cmpint(ask(f, register_get, JULIET, get_xml, NULL), ==,
                    XERR_REGISTRATION_REQUIRED);
    g_assert_cmpint(submit(f, JULIET, "Juliet"), ==,
                    XERR_REGISTRATION_REQUIRED);
    set_affiliation(f, "juliet@example.org", AFF_MEMBER);
    g_assert_cmpint(submit(f, JULIET, "Juliet"), ==, XERR_NONE);
}

static void remove_frees_the_nick_for_someone_else(fixture *f, gconstpointer d)
{
    g_assert_cmpint(submit(f, JULIET, "Juliet"), ==, XERR_NONE);
    g_assert_cmpint(ask(f, register_set, JULIET, remove_xml, NULL), ==,
                    XERR_NONE);
    assert_reserved(f, JULIET, NULL);
    g_assert_cmpint(submit(f, ROSA, "Juliet"), ==, XERR_NONE);
    /* removing what one does not have is no error */
    g_assert_cmpint(ask(f, register_set, JULIET, remove_xml, NULL), ==,
                    XERR_NONE);
}

typedef struct fill_args {
    guint n;
    int rc;
} fill_args;

static int fill_txn(MDB_txn *txn, const store *s, void *userdata)
{
    fill_args *fa = userdata;

    fa->rc = 0;
    for (guint i = 0; fa->rc == 0 && i < fa->n; i++) {
        char *bare = g_strdup_printf("u%u@example.org", i);
        char *nick = g_strdup_printf("n%u", i);
        fa->rc = nicks_register(txn, s, "r", bare, nick, nick);
        g_free(nick);
        g_free(bare);
    }
    return fa->rc;
}

static void a_full_group_takes_no_new_nick_but_lets_one_change(fixture *f,
                                                               gconstpointer d)
{
    fill_args fa = {REGISTER_NICKS_MAX, 0};

    g_assert_cmpint(testutil_store_write(&f->st, fill_txn, &fa, &fa.rc), ==, 0);
    g_assert_cmpint(submit(f, JULIET, "Juliet"), ==, XERR_RESOURCE_CONSTRAINT);
    assert_reserved(f, JULIET, NULL);
    /* u0 changes its nick: no new record */
    g_assert_cmpint(submit(f, "u0@example.org/r", "Zero"), ==, XERR_NONE);
    assert_reserved(f, "u0@example.org/r", "Zero");
}

static void each_change_takes_a_token_of_the_askers_bucket(fixture *f,
                                                           gconstpointer d)
{
    for (int i = 0; i < 5; i++)
        g_assert_cmpint(submit(f, JULIET, i % 2 ? "Juliet" : "Jules"), ==,
                        XERR_NONE);
    g_assert_cmpint(submit(f, JULIET, "Julie"), ==, XERR_RESOURCE_CONSTRAINT);
    g_assert_cmpint(ask(f, register_set, JULIET, remove_xml, NULL), ==,
                    XERR_RESOURCE_CONSTRAINT);
    assert_reserved(f, JULIET, "Jules");
    /* someone else has their own */
    g_assert_cmpint(submit(f, ROSA, "Rosaline"), ==, XERR_NONE);
}

/* register_join_check: (members_only, registration option, who, their
 * affiliation, nick asked for) -> the answer. juliet@example.org has
 * registered "Juliet" before each case. */
static const struct {
    const char *name;
    gboolean members_only, registration;
    const char *bare;
    enum affiliation aff;
    const char *nick;
    enum xerr want;
} joins[] = {
    {"someone else asks for a registered nick", FALSE, FALSE,
     "rosaline@example.org", AFF_NONE, "Juliet", XERR_CONFLICT},
    {"or for its case variant", FALSE, FALSE, "rosaline@example.org", AFF_NONE,
     "jULIET", XERR_CONFLICT},
    {"its owner asks for it", FALSE, FALSE, "juliet@example.org", AFF_NONE,
     "juliet", XERR_NONE},
    {"a nick nobody registered", FALSE, FALSE, "rosaline@example.org", AFF_NONE,
     "Rosaline", XERR_NONE},
    {"the owner elsewhere in an open room", FALSE, FALSE, "juliet@example.org",
     AFF_NONE, "Jules", XERR_NONE},
    {"the option without members-only has no say", FALSE, TRUE,
     "juliet@example.org", AFF_MEMBER, "Jules", XERR_NONE},
    {"lockdown: a member not using hers", TRUE, TRUE, "juliet@example.org",
     AFF_MEMBER, "Jules", XERR_NOT_ACCEPTABLE},
    {"lockdown: a member using hers", TRUE, TRUE, "juliet@example.org",
     AFF_MEMBER, "Juliet", XERR_NONE},
    {"lockdown: a member without one", TRUE, TRUE, "romeo@example.org",
     AFF_MEMBER, "Romeo", XERR_NOT_ACCEPTABLE},
    {"lockdown: an admin without one", TRUE, TRUE, "romeo@example.org",
     AFF_ADMIN, "Romeo", XERR_NONE},
    {"lockdown: someone else's is still a conflict", TRUE, TRUE,
     "romeo@example.org", AFF_OWNER, "Juliet", XERR_CONFLICT},
    {"members-only without the option", TRUE, FALSE, "juliet@example.org",
     AFF_MEMBER, "Jules", XERR_NONE},
};

static void the_join_rule_keeps_a_registered_nick_for_its_owner(fixture *f,
                                                                gconstpointer d)
{
    set_affiliation(f, "juliet@example.org", AFF_MEMBER);
    g_assert_cmpint(submit(f, JULIET, "Juliet"), ==, XERR_NONE);
    for (gsize i = 0; i < G_N_ELEMENTS(joins); i++) {
        const char *why = NULL;
        enum xerr e;
        g_test_message("%s", joins[i].name);
        f->r->cfg->members_only = joins[i].members_only;
        f->r->cfg->registration = joins[i].registration;
        set_affiliation(f, joins[i].bare, joins[i].aff);
        e = register_join_check(f->m, f->r, NULL, joins[i].bare, joins[i].nick,
                                &why);
        g_assert_cmpint(e, ==, joins[i].want);
        if (e != XERR_NONE)
            g_assert_nonnull(why);
    }
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*fn)(fixture *f, gconstpointer d);
    } tests[] = {
#define T(name) {"/muc_register/" #name, name}
        T(an_unregistered_user_gets_the_muc_register_form),
        T(a_registered_user_gets_registered_and_their_nick),
        T(a_nick_registered_by_someone_else_is_a_conflict),
        T(a_nick_an_occupant_holds_is_a_conflict),
        T(bad_forms_and_nicks_are_refused_and_nothing_is_stored),
        T(a_nick_over_its_bound_is_refused),
        T(a_cancelled_form_changes_nothing),
        T(an_outcast_may_not_register),
        T(members_only_takes_registrations_from_members_only),
        T(remove_frees_the_nick_for_someone_else),
        T(a_full_group_takes_no_new_nick_but_lets_one_change),
        T(each_change_takes_a_token_of_the_askers_bucket),
        T(the_join_rule_keeps_a_registered_nick_for_its_owner),
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
