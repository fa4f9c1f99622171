/* test_muc_avatar: the room's vCard (avatar.c) as iq_fns: who may set
 * it, what a BINVAL may be (base64 with line breaks, within [limits]
 * avatar_size), the get, the removal. */
#include <string.h>

#include <glib.h>

#include "affiliations.h"
#include "avatar.h"
#include "photos.h"
#include "testutil.h"

typedef struct fixture {
    testutil_store st;
    config cfg;
    muc *m;
    room *r;
    xmpp_ctx_t *ctx;
} fixture;

static int make_owner(MDB_txn *txn, const store *st, void *userdata)
{
    return affiliations_set(txn, st, "r", "own@example.org", AFF_OWNER, NULL);
}

static void setup(fixture *f, gconstpointer data)
{
    group_cfg g = {.localpart = "r",
                   .name = "",
                   .description = "",
                   .subject = "",
                   .subject_nick = "",
                   .password = "",
                   .allow_pm = "anyone",
                   .is_public = TRUE};

    testutil_store_setup(&f->st, data);
    memset(&f->cfg, 0, sizeof(f->cfg));
    f->cfg.jid = "groups.example.org";
    f->cfg.avatar_size = 64;
    g_assert_cmpint(muc_new(&f->cfg, f->st.s, &f->m, NULL), ==, 0);
    g_assert_cmpint(store_write(f->st.s, make_owner, NULL, NULL), ==, 0);
    f->r = room_new(f->cfg.jid, group_cfg_copy(&g));
    f->ctx = xmpp_ctx_new(NULL, NULL);
}

static void teardown(fixture *f, gconstpointer data)
{
    room_free(f->r);
    muc_free(f->m);
    xmpp_ctx_free(f->ctx);
    testutil_store_teardown(&f->st, data);
}

/* Asks fn as from with <vCard xmlns='vcard-temp'>inner</vCard>; returns the
 * xerr, the payload serialised in *out (g_free; NULL if none). What the
 * handler left for after its reply (the announcement) is dropped. */
static enum xerr ask_nick(fixture *f, iq_fn fn, const char *type,
                          const char *from, const char *nick, const char *inner,
                          char **out)
{
    char *xml = g_strdup_printf("<iq type='%s' id='v'><vCard xmlns='" NS_VCARD
                                "'>%s</vCard></iq>",
                                type, inner);
    xmpp_stanza_t *st = xmpp_stanza_new_from_string(f->ctx, xml);
    jid to = {.resource = (char *)nick};
    muc_call c = {f->m, f->r, NULL, NULL, NULL};
    iq_req q = {.ctx = f->ctx,
                .st = st,
                .child = xmpp_stanza_get_children(st),
                .type = type,
                .from = from,
                .to = &to,
                .data = &c};
    iq_res res = {0};
    enum xerr e = fn(&q, &res);
    size_t len;

    *out = NULL;
    if (res.payload) {
        char *buf;
        xmpp_stanza_to_text(res.payload, &buf, &len);
        *out = g_strdup(buf);
        xmpp_free(f->ctx, buf);
    }
    iq_res_clear(&res);
    g_free(c.after_data);
    xmpp_stanza_release(st);
    g_free(xml);
    return e;
}

/* To the room's bare JID. */
static enum xerr ask(fixture *f, iq_fn fn, const char *type, const char *from,
                     const char *inner, char **out)
{
    return ask_nick(f, fn, type, from, NULL, inner, out);
}

#define PHOTO(type, b64)                                                       \
    "<PHOTO><TYPE>" type "</TYPE><BINVAL>" b64 "</BINVAL></PHOTO>"
#define OWNER "own@example.org/x"
#define GUEST "eve@example.org/x"
#define ABC_VCARD                                                              \
    "<vCard xmlns=\"vcard-temp\"><PHOTO><TYPE>image/png</TYPE>"                \
    "<BINVAL>YWJj</BINVAL></PHOTO></vCard>"

static void only_an_owner_sets_and_anyone_gets_it_back(fixture *f,
                                                       gconstpointer d)
{
    char *out = NULL;

    g_assert_cmpint(ask(f, avatar_get, "get", GUEST, "", &out), ==,
                    XERR_ITEM_NOT_FOUND);
    g_assert_cmpint(
        ask(f, avatar_set, "set", GUEST, PHOTO("image/png", "YWJj"), &out), ==,
        XERR_FORBIDDEN);
    g_assert_cmpint(ask(f, avatar_get, "get", GUEST, "", &out), ==,
                    XERR_ITEM_NOT_FOUND);
    g_assert_cmpint(
        ask(f, avatar_set, "set", OWNER, PHOTO("image/png", "YW\nJj"), &out),
        ==, XERR_NONE);
    g_assert_cmpstr(out, ==, "<vCard xmlns=\"vcard-temp\"/>");
    g_free(out);
    g_assert_cmpint(ask(f, avatar_get, "get", GUEST, "", &out), ==, XERR_NONE);
    g_assert_cmpstr(out, ==, ABC_VCARD);
    g_free(out);
}

static void bad_photos_are_refused_and_leave_the_avatar(fixture *f,
                                                        gconstpointer d)
{
    static const struct {
        const char *inner;
        enum xerr want;
    } cases[] = {
        /* 68 characters of base64: over avatar_size (64) */
        {PHOTO("image/png",
               "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
               "AAAAAAAAAAAAAAAA"),
         XERR_POLICY_VIOLATION},
        {PHOTO("image/png", "not*base64"), XERR_BAD_REQUEST},
        {PHOTO("image/png", "YWJ"), XERR_BAD_REQUEST},
        {PHOTO("png", "YWJj"), XERR_BAD_REQUEST},
        {PHOTO("image/png; x=\"y\"", "YWJj"), XERR_BAD_REQUEST},
        {"<PHOTO><EXTVAL>http://example.org/a.png</EXTVAL></PHOTO>",
         XERR_NOT_ACCEPTABLE},
    };
    char *out = NULL;

    g_assert_cmpint(
        ask(f, avatar_set, "set", OWNER, PHOTO("image/png", "YWJj"), &out), ==,
        XERR_NONE);
    g_free(out);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_assert_cmpint(ask(f, avatar_set, "set", OWNER, cases[i].inner, &out),
                        ==, cases[i].want);
        g_assert_null(out);
    }
    g_assert_cmpint(ask(f, avatar_get, "get", GUEST, "", &out), ==, XERR_NONE);
    g_assert_cmpstr(out, ==, ABC_VCARD);
    g_free(out);
}

static void a_vcard_without_an_image_removes_it(fixture *f, gconstpointer d)
{
    static const char *const empties[] = {
        "", "<PHOTO/>",
        "<PHOTO><TYPE>image/png</TYPE><BINVAL> \n</BINVAL>"
        "</PHOTO>",
        "<FN>just a name</FN>"};
    char hash[AVATARS_HASH_LEN];
    char *out = NULL;

    for (gsize i = 0; i < G_N_ELEMENTS(empties); i++) {
        g_assert_cmpint(
            ask(f, avatar_set, "set", OWNER, PHOTO("image/png", "YWJj"), &out),
            ==, XERR_NONE);
        g_free(out);
        g_assert_true(avatar_hash(f->m, f->r, hash));
        g_assert_cmpint(ask(f, avatar_set, "set", OWNER, empties[i], &out), ==,
                        XERR_NONE);
        g_free(out);
        g_assert_false(avatar_hash(f->m, f->r, hash));
        g_assert_cmpstr(hash, ==, "");
        g_assert_cmpint(ask(f, avatar_get, "get", GUEST, "", &out), ==,
                        XERR_ITEM_NOT_FOUND);
    }
}

static void binval_is_decoded_as_base64_with_whitespace_between(void)
{
    static const struct {
        const char *text;
        const char *want; /* NULL: refused */
    } cases[] = {
        {"YWJj", "abc"},
        {"YWI=", "ab"},
        {"YQ==", "a"},
        {"YW\r\nJj\n", "abc"},       /* wrapped at any column, CRLF too */
        {"  YWJj  YWJj ", "abcabc"}, /* spaces between quads */
        {"", NULL},                  /* nothing */
        {" \n ", NULL},
        {"YWJ", NULL},      /* not a multiple of four */
        {"YQ=", NULL},      /* padding short */
        {"Y===", NULL},     /* three pads */
        {"YQ==YWJj", NULL}, /* data after the padding */
        {"YW*j", NULL},     /* not in the alphabet */
        {"YW-j", NULL},     /* base64url is not base64 */
        {"\xc3\xa9YWJ", NULL},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        gsize len = 99;
        guchar *out = avatar_decode(cases[i].text, &len);
        if (!cases[i].want) {
            g_assert_null(out);
            continue;
        }
        g_assert_nonnull(out);
        g_assert_cmpmem(out, len, cases[i].want, strlen(cases[i].want));
        g_free(out);
    }
}

static int keep_abc(MDB_txn *txn, const store *st, void *userdata)
{
    return photos_put(txn, st, (const guchar *)"\x89PNG\r\n\x1a\nabc", 11,
                      userdata);
}

/* Issue 13, item 7: a legacy occupant's picture (schema/photos) is the
 * vCard on its occupant JID, as XEP-0054 answers for a user; an XMPP
 * occupant's is not the room's to give. */
static void a_legacy_occupant_s_vcard_is_its_picture(fixture *f,
                                                     gconstpointer d)
{
    char hash[AVATARS_HASH_LEN];
    char *out = NULL;
    occ *bob, *ann;

    g_assert_cmpint(store_write(f->st.s, keep_abc, hash, NULL), ==, 0);
    bob = room_occ_add(f->r, "bob", "bob@legacy.example", NULL, AFF_NONE,
                       ROLE_PARTICIPANT, "2");
    bob->legacy_kind = 'i';
    ann = room_occ_add(f->r, "ann", "ann@example.org", "ann@example.org/a",
                       AFF_NONE, ROLE_PARTICIPANT, "1");
    g_assert_cmpint(
        ask_nick(f, avatar_occupant_get, "get", GUEST, "bob", "", &out), ==,
        XERR_ITEM_NOT_FOUND);
    bob->shown.has_vcard = TRUE;
    bob->shown.photo = g_strdup(hash);
    g_assert_cmpint(
        ask_nick(f, avatar_occupant_get, "get", GUEST, "bob", "", &out), ==,
        XERR_NONE);
    g_assert_cmpstr(out, ==,
                    "<vCard xmlns=\"vcard-temp\"><PHOTO><TYPE>image/png"
                    "</TYPE><BINVAL>iVBORw0KGgphYmM=</BINVAL></PHOTO>"
                    "</vCard>");
    g_free(out);
    g_assert_cmpint(
        ask_nick(f, avatar_occupant_get, "get", GUEST, "ann", "", &out), ==,
        XERR_SERVICE_UNAVAILABLE);
    g_assert_cmpint(
        ask_nick(f, avatar_occupant_get, "get", GUEST, "nobody", "", &out), ==,
        XERR_ITEM_NOT_FOUND);
    (void)ann;
}

#define T(fn) g_test_add("/muc_avatar/" #fn, fixture, NULL, setup, fn, teardown)

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    xmpp_initialize();
    g_test_add_func("/muc_avatar/binval_is_decoded_as_base64_with_whitespace_"
                    "between",
                    binval_is_decoded_as_base64_with_whitespace_between);
    T(only_an_owner_sets_and_anyone_gets_it_back);
    T(bad_photos_are_refused_and_leave_the_avatar);
    T(a_vcard_without_an_image_removes_it);
    T(a_legacy_occupant_s_vcard_is_its_picture);
    rc = g_test_run();
    xmpp_shutdown();
    return rc;
}
