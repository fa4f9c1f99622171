/* test_avatars: the "avatars" database (schema/avatars.c) — a room avatar
 * round-trips with its SHA-1, the hash is read alone, removal, bounds, and
 * records this build cannot decode. */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "avatars.h"
#include "store.h"
#include "testutil.h"

typedef testutil_store fixture;

typedef struct put_args {
    const char *group;
    const char *type;
    const char *data; /* NULL: delete */
    gsize len;
    char hash[AVATARS_HASH_LEN];
    int rc;
} put_args;

static int put_txn(MDB_txn *txn, const store *s, void *userdata)
{
    put_args *a = userdata;

    if (!a->data)
        return a->rc = avatars_delete(txn, s, a->group);
    return a->rc = avatars_put(txn, s, a->group, a->type,
                               (const guchar *)a->data, a->len, a->hash);
}

static int put(fixture *f, put_args *a)
{
    return testutil_store_write(f, put_txn, a, &a->rc);
}

static int get(fixture *f, const char *group, avatars_photo **out)
{
    MDB_txn *txn;
    int rc;

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    rc = avatars_get(txn, f->s, group, out);
    store_read_end(txn);
    return rc;
}

static int hash(fixture *f, const char *group, char out[AVATARS_HASH_LEN])
{
    MDB_txn *txn;
    int rc;

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    rc = avatars_hash(txn, f->s, group, out);
    store_read_end(txn);
    return rc;
}

/* SHA-1 of "abc" (FIPS 180-1, appendix A). */
#define ABC_SHA1 "a9993e364706816aba3e25717850c26c9cd0d89d"

static void an_avatar_round_trips_with_the_sha1_of_its_bytes(fixture *f,
                                                             gconstpointer d)
{
    put_args a = {
        .group = "lobby", .type = "image/png", .data = "abc", .len = 3};
    avatars_photo *p = NULL;
    char h[AVATARS_HASH_LEN];
    gsize len;

    g_assert_cmpint(put(f, &a), ==, 0);
    g_assert_cmpstr(a.hash, ==, ABC_SHA1);
    g_assert_cmpint(get(f, "lobby", &p), ==, 0);
    g_assert_cmpstr(p->type, ==, "image/png");
    g_assert_cmpstr(p->hash, ==, ABC_SHA1);
    g_assert_cmpmem(g_bytes_get_data(p->data, &len), 3, "abc", 3);
    g_assert_cmpuint(len, ==, 3);
    avatars_photo_free(p);
    g_assert_cmpint(hash(f, "lobby", h), ==, 0);
    g_assert_cmpstr(h, ==, ABC_SHA1);
    testutil_store_reopen(f);
    g_assert_cmpint(hash(f, "lobby", h), ==, 0);
    g_assert_cmpstr(h, ==, ABC_SHA1);
}

static void
a_new_avatar_replaces_the_old_and_removal_leaves_none(fixture *f,
                                                      gconstpointer d)
{
    put_args a = {.group = "lobby", .type = "", .data = "abc", .len = 3};
    put_args b = {.group = "lobby", .data = "xyz", .len = 3};
    put_args del = {.group = "lobby"};
    avatars_photo *p = NULL;
    char h[AVATARS_HASH_LEN];

    g_assert_cmpint(put(f, &a), ==, 0);
    g_assert_cmpint(put(f, &b), ==, 0);
    g_assert_cmpint(get(f, "lobby", &p), ==, 0);
    g_assert_cmpstr(p->type, ==, "");
    g_assert_cmpstr(p->hash, ==, b.hash);
    g_assert_cmpstr(p->hash, !=, a.hash);
    avatars_photo_free(p);
    g_assert_cmpint(put(f, &del), ==, 0);
    g_assert_cmpint(get(f, "lobby", &p), ==, MDB_NOTFOUND);
    g_assert_null(p);
    g_assert_cmpint(hash(f, "lobby", h), ==, MDB_NOTFOUND);
    g_assert_cmpstr(h, ==, "");
    /* removing what is not there is no error */
    g_assert_cmpint(put(f, &del), ==, 0);
}

static void empty_images_long_types_and_long_groups_are_refused(fixture *f,
                                                                gconstpointer d)
{
    char *long_type = g_strnfill(AVATARS_TYPE_MAX + 1, 'x');
    char *long_group = g_strnfill(STORE_GROUP_MAX + 1, 'g');
    put_args empty = {.group = "lobby", .type = "image/png", .data = ""};
    put_args typed = {
        .group = "lobby", .type = long_type, .data = "abc", .len = 3};
    put_args grouped = {
        .group = long_group, .type = "image/png", .data = "abc", .len = 3};
    avatars_photo *p = NULL;

    g_assert_cmpint(put(f, &empty), !=, 0);
    g_assert_cmpint(empty.rc, ==, -EINVAL);
    g_assert_cmpint(put(f, &typed), !=, 0);
    g_assert_cmpint(typed.rc, ==, -EINVAL);
    g_assert_cmpint(put(f, &grouped), !=, 0);
    g_assert_cmpint(grouped.rc, ==, STORE_KEY_TOO_LONG);
    g_assert_cmpint(get(f, long_group, &p), ==, STORE_KEY_TOO_LONG);
    g_free(long_type);
    g_free(long_group);
}

static void a_record_this_build_cannot_decode_is_corrupted(fixture *f,
                                                           gconstpointer d)
{
    static const struct {
        const char *group;
        const char *parsed;
    } cases[] = {
        {"newer", "(uint16 2, {'hash': <'" ABC_SHA1 "'>, 'photo': <b'abc'>})"},
        {"nohash", "(uint16 1, {'photo': <b'abc'>})"},
        {"badhash", "(uint16 1, {'hash': <'xyz'>, 'photo': <b'abc'>})"},
        {"nophoto", "(uint16 1, {'hash': <'" ABC_SHA1 "'>})"},
    };
    avatars_photo *p = NULL;
    char h[AVATARS_HASH_LEN];

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        testutil_put_raw(f, STORE_DB_AVATARS, cases[i].group,
                         strlen(cases[i].group), NULL, 0, cases[i].parsed);
        g_assert_cmpint(get(f, cases[i].group, &p), ==, MDB_CORRUPTED);
        g_assert_null(p);
    }
    testutil_put_raw(f, STORE_DB_AVATARS, "junk", 4, "\x01", 1, NULL);
    g_assert_cmpint(get(f, "junk", &p), ==, MDB_CORRUPTED);
    g_assert_cmpint(hash(f, "junk", h), ==, MDB_CORRUPTED);
    g_assert_cmpint(hash(f, "badhash", h), ==, MDB_CORRUPTED);
    g_assert_cmpint(hash(f, "newer", h), ==, MDB_CORRUPTED);
}

#define T(fn)                                                                  \
    {                                                                          \
        "/avatars/" #fn, fn                                                    \
    }

int main(int argc, char **argv)
{
    static const testutil_store_case cases[] = {
        T(an_avatar_round_trips_with_the_sha1_of_its_bytes),
        T(a_new_avatar_replaces_the_old_and_removal_leaves_none),
        T(empty_images_long_types_and_long_groups_are_refused),
        T(a_record_this_build_cannot_decode_is_corrupted),
    };

    g_test_init(&argc, &argv, NULL);
    testutil_store_add(cases, G_N_ELEMENTS(cases));
    return g_test_run();
}
