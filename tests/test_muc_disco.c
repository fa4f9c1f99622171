/* test_muc_disco: a room's disco#info and disco#items (muc/disco.c) as
 * iq_fns: identity, features from the options, the muc#roominfo form, and
 * what an outsider of a hidden room is not told. */
#include <glib.h>
#include <string.h>

#include "affiliations.h"
#include "avatars.h"
#include "disco.h"
#include "muc.h"
#include "muc_int.h"
#include "testutil.h"

#define INFO "http://jabber.org/protocol/disco#info"
#define ITEMS "http://jabber.org/protocol/disco#items"

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
    g_assert_cmpint(muc_new(&f->cfg, f->st.s, &f->m, &err), ==, 0);
    g->localpart = g_strdup("r");
    g->name = g_strdup("");
    g->description = g_strdup("about r");
    g->subject = g_strdup("today's topic");
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

/* Asks fn as from with the request xml (an <iq/> literal); returns the
 * xerr, the payload in *out (release it). */
static enum xerr ask(fixture *f, iq_fn fn, const char *from, const char *xml,
                     xmpp_stanza_t **out)
{
    xmpp_stanza_t *st = xmpp_stanza_new_from_string(f->ctx, xml);
    jid to = {0};
    muc_call c = {f->m, f->r, room_occ_by_full(f->r, from), NULL, NULL};
    iq_req q = {.ctx = f->ctx,
                .st = st,
                .child = xmpp_stanza_get_children(st),
                .type = "get",
                .from = from,
                .to = &to,
                .data = &c};
    iq_res res = {0};
    enum xerr e = fn(&q, &res);

    *out = res.payload;
    res.payload = NULL;
    iq_res_clear(&res);
    g_assert_null(c.after);
    xmpp_stanza_release(st);
    return e;
}

static gboolean has_feature(xmpp_stanza_t *q, const char *var)
{
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(q); c;
         c = xmpp_stanza_get_next(c))
        if (!g_strcmp0(xmpp_stanza_get_name(c), "feature") &&
            !g_strcmp0(xmpp_stanza_get_attribute(c, "var"), var))
            return TRUE;
    return FALSE;
}

static gboolean has_field(xmpp_stanza_t *q, const char *var)
{
    xmpp_stanza_t *x = xmpp_stanza_get_child_by_name_and_ns(q, "x",
                                                            "jabber:x:data");

    for (xmpp_stanza_t *c = x ? xmpp_stanza_get_children(x) : NULL; c;
         c = xmpp_stanza_get_next(c))
        if (!g_strcmp0(xmpp_stanza_get_attribute(c, "var"), var))
            return TRUE;
    return FALSE;
}

static const char *const info_get =
    "<iq type='get' id='i1' to='r@groups.example.org'>"
    "<query xmlns='" INFO "'/></iq>";

static void a_public_room_shows_identity_features_and_roominfo(fixture *f,
                                                                gconstpointer d)
{
    xmpp_stanza_t *q = NULL, *id;

    g_assert_cmpint(ask(f, disco_info, "eve@example.org/x", info_get, &q), ==,
                    XERR_NONE);
    id = xmpp_stanza_get_child_by_name(q, "identity");
    g_assert_cmpstr(xmpp_stanza_get_attribute(id, "category"), ==,
                    "conference");
    g_assert_cmpstr(xmpp_stanza_get_attribute(id, "name"), ==, "r");
    g_assert_true(has_feature(q, "http://jabber.org/protocol/muc"));
    g_assert_true(has_feature(q, "urn:xmpp:mam:2"));
    g_assert_true(has_feature(q, "muc_public"));
    g_assert_true(has_feature(q, "muc_open"));
    g_assert_true(has_field(q, "FORM_TYPE"));
    g_assert_true(has_field(q, "muc#roominfo_description"));
    g_assert_true(has_field(q, "muc#roominfo_occupants"));
    g_assert_true(has_field(q, "muc#roominfo_subject"));
    xmpp_stanza_release(q);
}

static const char *field_value(xmpp_stanza_t *q, const char *var)
{
    xmpp_stanza_t *x = xmpp_stanza_get_child_by_name_and_ns(q, "x",
                                                            "jabber:x:data");

    for (xmpp_stanza_t *c = x ? xmpp_stanza_get_children(x) : NULL; c;
         c = xmpp_stanza_get_next(c))
        if (!g_strcmp0(xmpp_stanza_get_attribute(c, "var"), var)) {
            xmpp_stanza_t *v = xmpp_stanza_get_child_by_name(c, "value");
            xmpp_stanza_t *t = v ? xmpp_stanza_get_children(v) : NULL;
            return t ? xmpp_stanza_get_text_ptr(t) : "";
        }
    return NULL;
}

static int set_avatar(MDB_txn *txn, const store *st, void *userdata)
{
    return avatars_put(txn, st, "r", "image/png", (const guchar *)"abc", 3,
                       NULL);
}

static void the_avatar_hash_is_in_roominfo_once_there_is_one(fixture *f,
                                                             gconstpointer d)
{
    static const char *const prosody =
        "{http://modules.prosody.im/mod_vcard_muc}avatar#sha1";
    xmpp_stanza_t *q = NULL;

    g_assert_cmpint(ask(f, disco_info, "eve@example.org/x", info_get, &q), ==,
                    XERR_NONE);
    g_assert_true(has_feature(q, "vcard-temp"));
    g_assert_false(has_field(q, "muc#roominfo_avatarhash"));
    g_assert_false(has_field(q, prosody));
    g_assert_cmpstr(field_value(q, "muc#roomconfig_roomname"), ==, "");
    xmpp_stanza_release(q);
    g_assert_cmpint(store_write(f->st.s, set_avatar, NULL, NULL), ==, 0);
    g_assert_cmpint(ask(f, disco_info, "eve@example.org/x", info_get, &q), ==,
                    XERR_NONE);
    /* SHA-1 of "abc" (FIPS 180-1) */
    g_assert_cmpstr(field_value(q, "muc#roominfo_avatarhash"), ==,
                    "a9993e364706816aba3e25717850c26c9cd0d89d");
    g_assert_cmpstr(field_value(q, prosody), ==,
                    "a9993e364706816aba3e25717850c26c9cd0d89d");
    xmpp_stanza_release(q);
}

static int make_member(MDB_txn *txn, const store *st, void *userdata)
{
    return affiliations_set(txn, st, "r", userdata, AFF_MEMBER, NULL);
}

static void a_hidden_room_keeps_its_subject_from_outsiders_only(
    fixture *f, gconstpointer d)
{
    xmpp_stanza_t *q = NULL;

    f->r->cfg->is_public = FALSE;
    g_assert_cmpint(ask(f, disco_info, "eve@example.org/x", info_get, &q), ==,
                    XERR_NONE);
    g_assert_true(has_feature(q, "muc_hidden"));
    g_assert_true(has_field(q, "muc#roominfo_occupants"));
    g_assert_false(has_field(q, "muc#roominfo_subject"));
    xmpp_stanza_release(q);
    g_assert_cmpint(store_write(f->st.s, make_member, "eve@example.org", NULL),
                    ==, 0);
    g_assert_cmpint(ask(f, disco_info, "eve@example.org/x", info_get, &q), ==,
                    XERR_NONE);
    g_assert_true(has_field(q, "muc#roominfo_subject"));
    xmpp_stanza_release(q);
}

static void a_disco_node_is_not_the_rooms_to_answer(fixture *f,
                                                     gconstpointer d)
{
    xmpp_stanza_t *q = NULL;

    g_assert_cmpint(ask(f, disco_info, "eve@example.org/x",
                        "<iq type='get' id='i2'><query xmlns='" INFO
                        "' node='x'/></iq>",
                        &q),
                    ==, XERR_SERVICE_UNAVAILABLE);
    g_assert_null(q);
}

static guint items(xmpp_stanza_t *q)
{
    guint n = 0;

    for (xmpp_stanza_t *c = xmpp_stanza_get_children(q); c;
         c = xmpp_stanza_get_next(c))
        n += !g_strcmp0(xmpp_stanza_get_name(c), "item");
    return n;
}

static void only_occupants_see_who_is_in_the_room(fixture *f, gconstpointer d)
{
    static const char *const get =
        "<iq type='get' id='i3'><query xmlns='" ITEMS "'/></iq>";
    xmpp_stanza_t *q = NULL;

    room_occ_add(f->r, "ann", "ann@example.org", "ann@example.org/a",
                 AFF_NONE, ROLE_PARTICIPANT, "1");
    room_occ_add(f->r, "bob", "bob@example.org", "bob@example.org/b",
                 AFF_NONE, ROLE_PARTICIPANT, "2");
    g_assert_cmpint(ask(f, disco_items, "ann@example.org/a", get, &q), ==,
                    XERR_NONE);
    g_assert_cmpuint(items(q), ==, 2);
    xmpp_stanza_release(q);
    g_assert_cmpint(ask(f, disco_items, "eve@example.org/x", get, &q), ==,
                    XERR_NONE);
    g_assert_cmpuint(items(q), ==, 0);
    xmpp_stanza_release(q);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    xmpp_initialize();
    g_test_add("/muc_disco/a_public_room_shows_identity_features_and_roominfo",
               fixture, NULL, setup,
               a_public_room_shows_identity_features_and_roominfo, teardown);
    g_test_add("/muc_disco/a_hidden_room_keeps_its_subject_from_outsiders_only",
               fixture, NULL, setup,
               a_hidden_room_keeps_its_subject_from_outsiders_only, teardown);
    g_test_add("/muc_disco/the_avatar_hash_is_in_roominfo_once_there_is_one",
               fixture, NULL, setup,
               the_avatar_hash_is_in_roominfo_once_there_is_one, teardown);
    g_test_add("/muc_disco/a_disco_node_is_not_the_rooms_to_answer", fixture,
               NULL, setup, a_disco_node_is_not_the_rooms_to_answer, teardown);
    g_test_add("/muc_disco/only_occupants_see_who_is_in_the_room", fixture,
               NULL, setup, only_occupants_see_who_is_in_the_room, teardown);
    rc = g_test_run();
    xmpp_shutdown();
    return rc;
}
