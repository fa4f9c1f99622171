/* test_muc_message: groupchat messages as the room archives them
 * (muc/message.c): the whole message kept, chat states and no-store
 * relayed only, corrections from their sender only, the size bound. The
 * link is down, so what the room sends waits in its queue, where it is
 * counted; what it keeps is read back from the archive. */
#include <glib.h>
#include <string.h>

#include "archive.h"
#include "groups.h"
#include "jid.h"
#include "muc.h"
#include "muc_int.h"
#include "testutil.h"

#define ROOM "g@groups.example.org"

typedef struct fixture {
    testutil_store st;
    config cfg;
    muc *m;
    uplink *up;
} fixture;

static int make_group(MDB_txn *txn, const store *st, void *userdata)
{
    group_cfg g = {.localpart = "g",
                   .name = "",
                   .description = "",
                   .password = "",
                   .allow_pm = "anyone",
                   .is_public = TRUE,
                   .persistent = TRUE};

    return groups_put(txn, st, &g);
}

static void setup(fixture *f, gconstpointer data)
{
    uplink_params p = {.jid = "groups.example.org",
                       .host = "127.0.0.1",
                       .port = 9, /* nothing answers: the link stays down */
                       .secret = "s",
                       .queue_max = 1000};
    gboolean missing = FALSE;
    room *r;

    testutil_store_setup(&f->st, data);
    memset(&f->cfg, 0, sizeof(f->cfg));
    f->cfg.jid = "groups.example.org";
    f->cfg.max_body = 10000;
    f->cfg.rate = 100;
    f->cfg.burst = 100;
    f->cfg.stanza_limit = 262144;
    f->cfg.attribute_size = 4096;
    g_assert_cmpint(muc_new(&f->cfg, f->st.s, &f->m, NULL), ==, 0);
    g_assert_cmpint(store_write(f->st.s, make_group, NULL, NULL), ==, 0);
    g_assert_cmpint(uplink_new(&p, NULL, NULL, NULL, &f->up), ==, 0);
    r = muc_room_lookup(f->m, "g", &missing);
    g_assert_nonnull(r);
    room_occ_add(r, "ann", "ann@example.org", "ann@example.org/a", AFF_NONE,
                 ROLE_PARTICIPANT, "1");
    room_occ_add(r, "bob", "bob@example.org", "bob@example.org/b", AFF_NONE,
                 ROLE_PARTICIPANT, "2");
}

static void teardown(fixture *f, gconstpointer data)
{
    uplink_free(f->up);
    muc_free(f->m);
    testutil_store_teardown(&f->st, data);
}

/* The room gets xml (a message whose 'to' is ROOM) from from. */
static void send(fixture *f, const char *from, const char *xml)
{
    char *full = g_strdup_printf(
        "<message xmlns='jabber:component:accept' type='groupchat' "
        "from='%s' to='" ROOM "'%s",
        from, xml);
    xmpp_stanza_t *st = xmpp_stanza_new_from_string(uplink_ctx(f->up), full);
    jid to;

    g_assert_nonnull(st);
    g_assert_cmpint(jid_parse(ROOM, &to), ==, 0);
    muc_message(f->m, f->up, st, &to);
    jid_clear(&to);
    xmpp_stanza_release(st);
    g_free(full);
}

static int collect(const archive_msg *m, void *userdata)
{
    archive_msg *copy = g_new0(archive_msg, 1);

    copy->seq = m->seq;
    copy->nick = g_strdup(m->nick);
    copy->body = g_strdup(m->body);
    copy->payload = g_strdup(m->payload);
    copy->client_id = g_strdup(m->client_id);
    copy->replace_id = g_strdup(m->replace_id);
    g_ptr_array_add(userdata, copy);
    return 0;
}

/* The group's archive, oldest first. */
static GPtrArray *archived(fixture *f)
{
    GPtrArray *list =
        g_ptr_array_new_with_free_func((GDestroyNotify)archive_msg_free);
    MDB_txn *txn;

    g_assert_cmpint(store_read_begin(f->st.s, &txn, NULL), ==, 0);
    g_assert_cmpint(archive_foreach_after(txn, f->st.s, "g", 0, collect, list),
                    ==, 0);
    store_read_end(txn);
    return list;
}

static const archive_msg *at(GPtrArray *l, guint i)
{
    return g_ptr_array_index(l, i);
}

static void a_reaction_is_archived_whole_and_chat_states_and_no_store_are_not(
    fixture *f, gconstpointer data)
{
    GPtrArray *l;
    guint before = uplink_queued(f->up);

    send(f, "ann@example.org/a",
         " id='r1'><reactions xmlns='urn:xmpp:reactions:0' id='s1'>"
         "<reaction>+1</reaction></reactions>"
         "<store xmlns='urn:xmpp:hints'/>"
         "<active xmlns='http://jabber.org/protocol/chatstates'/>"
         "<occupant-id xmlns='urn:xmpp:occupant-id:0' id='forged'/>"
         "</message>");
    send(f, "ann@example.org/a",
         "><composing xmlns='http://jabber.org/protocol/chatstates'/>"
         "</message>");
    send(f, "ann@example.org/a",
         " id='n1'><body>secret</body>"
         "<no-store xmlns='urn:xmpp:hints'/></message>");
    /* each of the three reached both occupants */
    g_assert_cmpuint(uplink_queued(f->up), ==, before + 6);
    l = archived(f);
    g_assert_cmpuint(l->len, ==, 1);
    g_assert_null(at(l, 0)->body);
    g_assert_cmpstr(at(l, 0)->client_id, ==, "r1");
    g_assert_cmpstr(at(l, 0)->payload, ==,
                    "<reactions xmlns=\"urn:xmpp:reactions:0\" id=\"s1\">"
                    "<reaction>+1</reaction></reactions>");
    g_ptr_array_unref(l);
}

static void a_correction_is_kept_from_its_sender_and_refused_from_another(
    fixture *f, gconstpointer data)
{
    GPtrArray *l;
    guint before;

    send(f, "ann@example.org/a", " id='a1'><body>helo</body></message>");
    before = uplink_queued(f->up);
    /* bob corrects ann's message: only an error, to bob */
    send(f, "bob@example.org/b",
         " id='b1'><body>bob was here</body>"
         "<replace xmlns='urn:xmpp:message-correct:0' id='a1'/></message>");
    g_assert_cmpuint(uplink_queued(f->up), ==, before + 1);
    /* ann corrects her own, found by its origin-id as well */
    send(f, "ann@example.org/a",
         " id='a2'><body>hello</body>"
         "<replace xmlns='urn:xmpp:message-correct:0' id='a1'/></message>");
    send(f, "ann@example.org/a",
         " id='a3'><body>hello!</body>"
         "<origin-id xmlns='urn:xmpp:sid:0' id='o3'/></message>");
    send(f, "ann@example.org/a",
         " id='a4'><body>hello!!</body>"
         "<replace xmlns='urn:xmpp:message-correct:0' id='o3'/></message>");
    /* an id nobody used is relayed and kept, as Prosody does */
    send(f, "bob@example.org/b",
         " id='b2'><body>old</body>"
         "<replace xmlns='urn:xmpp:message-correct:0' id='gone'/></message>");
    l = archived(f);
    g_assert_cmpuint(l->len, ==, 5);
    g_assert_cmpstr(at(l, 1)->body, ==, "hello");
    g_assert_cmpstr(at(l, 1)->replace_id, ==, "a1");
    g_assert_cmpstr(at(l, 1)->payload, ==,
                    "<replace xmlns=\"urn:xmpp:message-correct:0\" "
                    "id=\"a1\"/>");
    g_assert_cmpstr(at(l, 3)->replace_id, ==, "o3");
    g_assert_cmpstr(at(l, 4)->replace_id, ==, "gone");
    g_ptr_array_unref(l);
}

static void a_message_whose_copies_could_pass_the_server_limit_is_refused(
    fixture *f, gconstpointer data)
{
    char *big = g_strnfill(9000, 'a');
    char *xml = g_strdup_printf(" id='x1'><body>%s</body></message>", big);
    GPtrArray *l;

    /* 9 000 bytes said, two recipient JIDs and a queryid at their bounds
     * in a MAM result: over 16 KiB */
    f->cfg.stanza_limit = 16384;
    send(f, "ann@example.org/a", xml);
    l = archived(f);
    g_assert_cmpuint(l->len, ==, 0);
    g_ptr_array_unref(l);
    f->cfg.stanza_limit = 262144;
    send(f, "ann@example.org/a", xml);
    l = archived(f);
    g_assert_cmpuint(l->len, ==, 1);
    g_ptr_array_unref(l);
    g_free(xml);
    g_free(big);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    xmpp_initialize();
#define T(name)                                                                \
    g_test_add("/muc_message/" #name, fixture, NULL, setup, name, teardown)
    T(a_reaction_is_archived_whole_and_chat_states_and_no_store_are_not);
    T(a_correction_is_kept_from_its_sender_and_refused_from_another);
    T(a_message_whose_copies_could_pass_the_server_limit_is_refused);
#undef T
    return g_test_run();
}
