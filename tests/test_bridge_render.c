/* Tests for render: what a legacy member reads for each kind of archive
 * record, looked up against a real archive. */
#include <string.h>

#include "render.h"
#include "testutil.h"

#define GROUP      "lobby"
#define CAKE       "We should bake a cake for the party on Saturday evening"
#define CAKE_QUOTE "We should bake a cake for the party on…"

static void a_line_reads_as_nick_then_body_and_an_action_as_a_star(void)
{
    static const struct {
        const char *nick, *body, *want;
    } cases[] = {
        {"alice", "hi", "<alice> hi"},
        {"alice", "/me waves", "* alice waves"},
        {"", "Welcome", "Welcome"},
        {"", "/me stays", "/me stays"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *t = render_line(cases[i].nick, cases[i].body);
        g_assert_cmpstr(t, ==, cases[i].want);
        g_free(t);
    }
}

static void a_deleted_message_reads_as_a_star_line_naming_its_moderator(void)
{
    static const struct {
        const char *nick, *by, *want;
    } cases[] = {
        {"anna", NULL, "* anna deleted a message"},
        {"anna", "anna", "* anna deleted a message"},
        {"anna", "", "* anna deleted a message"},
        {"anna", "mod", "* mod deleted a message by anna"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *t = render_deleted(cases[i].nick, cases[i].by);
        g_assert_cmpstr(t, ==, cases[i].want);
        g_free(t);
    }
}

/* The archive the cases look up: anna's message (its stanza-id is put in
 * place of $ID), a withdrawn one ($GONE), a reply of anna's whose own
 * fallback must not be quoted ($REPLY). */
typedef struct seed {
    archive_msg cake, gone, reply;
    int rc;
} seed;

static int seed_txn(MDB_txn *txn, const store *st, void *userdata)
{
    seed *s = userdata;

    s->rc = archive_append(txn, st, GROUP, &s->cake);
    if (s->rc == 0)
        s->rc = archive_append(txn, st, GROUP, &s->gone);
    if (s->rc == 0) {
        archive_msg t = s->gone;
        t.body = NULL;
        t.retracted = "2026-12-05T23:00:00Z";
        s->rc = archive_replace(txn, st, GROUP, &t);
    }
    if (s->rc == 0)
        s->rc = archive_append(txn, st, GROUP, &s->reply);
    return s->rc;
}

static void seed_clear(seed *s)
{
    g_free(s->cake.stanza_id);
    g_free(s->gone.stanza_id);
    g_free(s->reply.stanza_id);
}

static char *with_ids(const char *text, const seed *s)
{
    char **a, *t, *u;

    if (!text)
        return NULL;
    a = g_strsplit(text, "$ID", -1);
    t = g_strjoinv(s->cake.stanza_id, a);
    g_strfreev(a);
    a = g_strsplit(t, "$GONE", -1);
    u = g_strjoinv(s->gone.stanza_id, a);
    g_strfreev(a);
    g_free(t);
    a = g_strsplit(u, "$REPLY", -1);
    t = g_strjoinv(s->reply.stanza_id, a);
    g_strfreev(a);
    g_free(u);
    return t;
}

#define REACT(inner)                                                           \
    "<reactions xmlns='urn:xmpp:reactions:0' id='$ID'>" inner "</reactions>"
#define R(e) "<reaction>" e "</reaction>"
#define REPLY(id)                                                              \
    "<reply xmlns='urn:xmpp:reply:0' to='lobby@groups.localhost/anna' id='" id \
    "'/>"
#define FALLBACK(ns, s, e)                                                     \
    "<fallback xmlns='" ns "' for='urn:xmpp:reply:0'><body start='" s          \
    "' end='" e "'/></fallback>"
#define FB     "urn:xmpp:fallback:0"
#define FB0    "urn:xmpp:feature-fallback:0"
#define OOB(u) "<x xmlns='jabber:x:oob'><url>" u "</url></x>"
#define SFS(u)                                                                 \
    "<file-sharing xmlns='urn:xmpp:sfs:0' disposition='inline'><file "         \
    "xmlns='urn:xmpp:file:metadata:0'><name>cake.jpg</name></"                 \
    "file><sources><url-data xmlns='http://jabber.org/protocol/url-data' "     \
    "target='" u "'/></sources></file-sharing>"
#define DEEP                                                                   \
    "<a xmlns='x'><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a>" REACT(  \
        R("👍")) "</a></a></a></a></a></a></a></a></a></a></a></a></a></a></"   \
                "a></a></a></a>"

static void each_kind_of_record_reads_as_its_words(testutil_store *f,
                                                   gconstpointer data)
{
    static const struct {
        const char *what, *body, *payload, *replace_id, *retracted, *retract_of,
            *want;
    } cases[] = {
        {"a plain line", "hi", NULL, NULL, NULL, NULL, "<bob> hi"},
        {"an action", "/me waves", NULL, NULL, NULL, NULL, "* bob waves"},
        {"a correction", "hi all", NULL, "m1", NULL, NULL,
         "<bob> (correction) hi all"},
        {"a corrected action", "/me waves twice", NULL, "m1", NULL, NULL,
         "* bob (correction) waves twice"},
        {"a reaction", NULL, REACT(R("👍")), NULL, NULL, NULL,
         "* bob reacted 👍 to \"" CAKE_QUOTE "\""},
        {"two reactions", NULL, REACT(R("👍") R("🎂")), NULL, NULL, NULL,
         "* bob reacted 👍 🎂 to \"" CAKE_QUOTE "\""},
        {"a reaction with its fallback body", "👍",
         REACT(R("👍")) "<fallback xmlns='urn:xmpp:fallback:0' "
                       "for='urn:xmpp:reactions:0'/>",
         NULL, NULL, NULL, "* bob reacted 👍 to \"" CAKE_QUOTE "\""},
        {"a reaction to what is gone", NULL,
         "<reactions xmlns='urn:xmpp:reactions:0' id='nosuchid'>" R(
             "👍") "</reactions>",
         NULL, NULL, NULL, "* bob reacted 👍"},
        {"a reaction to a withdrawn message", NULL,
         "<reactions xmlns='urn:xmpp:reactions:0' id='$GONE'>" R(
             "👍") "</reactions>",
         NULL, NULL, NULL, "* bob reacted 👍"},
        {"a duplicate reaction is shown once", NULL,
         REACT(R("👍") R("👍") R("🎂")), NULL, NULL, NULL,
         "* bob reacted 👍 🎂 to \"" CAKE_QUOTE "\""},
        {"only the first reactions element is read", NULL,
         REACT(R("👍")) "<reactions xmlns='urn:xmpp:reactions:0' "
                       "id='nosuchid'>" R("🎂") "</reactions>",
         NULL, NULL, NULL, "* bob reacted 👍 to \"" CAKE_QUOTE "\""},
        {"a reaction withdrawn (the empty set)", NULL, REACT(""), NULL, NULL,
         NULL, NULL},
        {"nine reactions: eight shown", NULL,
         REACT(R("1") R("2") R("3") R("4") R("5") R("6") R("7") R("8") R("9")),
         NULL, NULL, NULL,
         "* bob reacted 1 2 3 4 5 6 7 8 to \"" CAKE_QUOTE "\""},
        {"an overlong reaction is left out", NULL,
         REACT(R("👍") R("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                        "xxxxxxxxxxxxxxxxxxxxxxx")),
         NULL, NULL, NULL, "* bob reacted 👍 to \"" CAKE_QUOTE "\""},
        {"a reaction cannot break the line", NULL, REACT(R("a\nb\u202ec")),
         NULL, NULL, NULL, "* bob reacted a b c to \"" CAKE_QUOTE "\""},
        {"a reply drops its fallback and quotes the original",
         "> We should bake a cake\nGreat idea!",
         REPLY("$ID") FALLBACK(FB, "0", "24"), NULL, NULL, NULL,
         "<bob> (replying to anna: \"" CAKE_QUOTE "\") Great idea!"},
        {"a reply with the older fallback namespace",
         "> We should bake a cake\nGreat idea!",
         REPLY("$ID") FALLBACK(FB0, "0", "24"), NULL, NULL, NULL,
         "<bob> (replying to anna: \"" CAKE_QUOTE "\") Great idea!"},
        {"a fallback range counts characters, not bytes", "> é🎂\nyes",
         REPLY("$ID") FALLBACK(FB, "0", "5"), NULL, NULL, NULL,
         "<bob> (replying to anna: \"" CAKE_QUOTE "\") yes"},
        {"a fallback range past the body leaves the body whole",
         "> quoted\nyes", REPLY("$ID") FALLBACK(FB, "0", "999"), NULL, NULL,
         NULL, "<bob> (replying to anna: \"" CAKE_QUOTE "\") > quoted\nyes"},
        {"a reply to what is gone quotes nothing", "> old words\nyes",
         REPLY("nosuchid") FALLBACK(FB, "0", "12"), NULL, NULL, NULL,
         "<bob> yes"},
        {"a reply to a withdrawn message quotes nothing", "> old words\nyes",
         REPLY("$GONE") FALLBACK(FB, "0", "12"), NULL, NULL, NULL, "<bob> yes"},
        {"a reply to a reply quotes its words, not its fallback", "me too",
         REPLY("$REPLY"), NULL, NULL, NULL,
         "<bob> (replying to anna: \"yes indeed\") me too"},
        {"a corrected reply", "> We should bake a cake\nGreat idea!!",
         REPLY("$ID") FALLBACK(FB, "0", "24"), "m2", NULL, NULL,
         "<bob> (correction) (replying to anna: \"" CAKE_QUOTE
         "\") Great idea!!"},
        {"a file whose body is its URL", "https://up.example/cake.jpg",
         OOB("https://up.example/cake.jpg"), NULL, NULL, NULL,
         "<bob> https://up.example/cake.jpg"},
        {"a file without a body", NULL, OOB("https://up.example/cake.jpg"),
         NULL, NULL, NULL, "<bob> https://up.example/cake.jpg"},
        {"a file with words", "the cake", OOB("https://up.example/cake.jpg"),
         NULL, NULL, NULL, "<bob> the cake https://up.example/cake.jpg"},
        {"a file whose URL is in the words already",
         "see https://up.example/cake.jpg !",
         OOB("https://up.example/cake.jpg"), NULL, NULL, NULL,
         "<bob> see https://up.example/cake.jpg !"},
        {"a stateless file share", NULL, SFS("https://up.example/c.jpg"), NULL,
         NULL, NULL, "<bob> https://up.example/c.jpg"},
        {"a URL cannot break the line", NULL, OOB("https://a/b\n&lt;x&gt;"),
         NULL, NULL, NULL, "<bob> https://a/b <x>"},
        {"a tombstone is not shown", NULL, NULL, NULL, "2026-12-05T23:00:00Z",
         NULL, NULL},
        {"a retraction is not shown", "This message was retracted",
         "<retract xmlns='urn:xmpp:message-retract:1' id='$ID'/>", NULL, NULL,
         "$ID", NULL},
        {"a payload with nothing known and no body", NULL,
         "<thing xmlns='urn:example'/>", NULL, NULL, NULL, NULL},
        {"a payload that does not parse shows the body", "hi",
         "<reactions xmlns='urn:xmpp:reactions:0' id='$ID'>", NULL, NULL, NULL,
         "<bob> hi"},
        {"a payload nested too deep shows the body", "hi", DEEP, NULL, NULL,
         NULL, "<bob> hi"},
        {"a reaction nested inside something else is not one", "hi",
         "<a xmlns='x'>" REACT(R("👍")) "</a>", NULL, NULL, NULL, "<bob> hi"},
    };
    seed s = {
        .cake = {.nick = "anna", .body = CAKE},
        .gone = {.nick = "anna", .body = "secret words"},
        /* anna's own reply, with its fallback ("> x\n") */
        .reply = {.nick = "anna",
                  .body = "> x\nyes indeed",
                  .payload = REPLY("elsewhere") FALLBACK(FB, "0", "4")},
    };
    MDB_txn *txn = NULL;

    testutil_store_write(f, seed_txn, &s, &s.rc);
    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *payload = with_ids(cases[i].payload, &s);
        char *retract_of = with_ids(cases[i].retract_of, &s);
        archive_msg m = {.seq = 99,
                         .nick = "bob",
                         .body = (char *)cases[i].body,
                         .payload = payload,
                         .replace_id = (char *)cases[i].replace_id,
                         .retracted = (char *)cases[i].retracted,
                         .retract_of = retract_of};
        char *got = NULL;

        g_test_message("%s", cases[i].what);
        g_assert_cmpint(render_msg(txn, f->s, GROUP, &m, &got), ==, 0);
        g_assert_cmpstr(got, ==, cases[i].want);
        g_assert_cmpint(render_wants(&m), ==,
                        !cases[i].retracted && !cases[i].retract_of);
        g_free(got);
        g_free(payload);
        g_free(retract_of);
    }
    store_read_end(txn);
    seed_clear(&s);
}

static void without_a_transaction_nothing_is_quoted(void)
{
    archive_msg m = {.nick = "bob",
                     .payload = "<reactions xmlns='urn:xmpp:reactions:0' "
                                "id='x'><reaction>👍</reaction></reactions>"};
    char *got = NULL;

    g_assert_cmpint(render_msg(NULL, NULL, GROUP, &m, &got), ==, 0);
    g_assert_cmpstr(got, ==, "* bob reacted 👍");
    g_free(got);
}

/* The quote is cut after a whole word, or inside one long word, and never
 * spans lines. */
static void a_quote_is_the_first_words_on_one_line(testutil_store *f,
                                                   gconstpointer data)
{
    static const struct {
        const char *body, *want;
    } cases[] = {
        {"short", "short"},
        {"  two\n\nlines  ", "two lines"},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…"},
        {"exactly forty characters in this line ok",
         "exactly forty characters in this line ok"},
        {"exactly forty characters in this line ok and more",
         "exactly forty characters in this line ok…"},
        {CAKE, CAKE_QUOTE},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        seed s = {.cake = {.nick = "anna", .body = (char *)cases[i].body},
                  .gone = {.nick = "anna", .body = "x"},
                  .reply = {.nick = "anna", .body = "y"}};
        MDB_txn *txn = NULL;
        char *payload, *got = NULL, *want;
        archive_msg m = {.nick = "bob"};

        testutil_store_write(f, seed_txn, &s, &s.rc);
        payload = with_ids(REACT(R("👍")), &s);
        m.payload = payload;
        g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
        g_assert_cmpint(render_msg(txn, f->s, GROUP, &m, &got), ==, 0);
        store_read_end(txn);
        want = g_strdup_printf("* bob reacted 👍 to \"%s\"", cases[i].want);
        g_assert_cmpstr(got, ==, want);
        g_free(want);
        g_free(got);
        g_free(payload);
        seed_clear(&s);
    }
}

int main(int argc, char **argv)
{
    static const testutil_store_case tests[] = {
        {"/render/each_kind_of_record_reads_as_its_words",
         each_kind_of_record_reads_as_its_words},
        {"/render/a_quote_is_the_first_words_on_one_line",
         a_quote_is_the_first_words_on_one_line},
    };

    g_test_init(&argc, &argv, NULL);
    g_test_add_func(
        "/render/a_line_reads_as_nick_then_body_and_an_action_as_a_star",
        a_line_reads_as_nick_then_body_and_an_action_as_a_star);
    g_test_add_func(
        "/render/a_deleted_message_reads_as_a_star_line_naming_its_moderator",
        a_deleted_message_reads_as_a_star_line_naming_its_moderator);
    g_test_add_func("/render/without_a_transaction_nothing_is_quoted",
                    without_a_transaction_nothing_is_quoted);
    testutil_store_add(tests, G_N_ELEMENTS(tests));
    return g_test_run();
}
