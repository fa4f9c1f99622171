/* test_photos: the "photos" database (schema/photos.c) and its count kept
 * by members_put and members_delete — a member's picture is kept once
 * whoever shows it, and dropped with the last member showing it. */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "members.h"
#include "photos.h"
#include "store.h"
#include "testutil.h"

typedef testutil_store fixture;

static const char png[] = "\x89PNG\r\n\x1a\n a picture";
static const char gif[] = "GIF89a another";

typedef struct step {
    const char *handle;
    const char *image; /* put, and the member shows it; NULL: none */
    gsize len;
    gboolean remove; /* the member is deleted */
    char hash[AVATARS_HASH_LEN];
    int rc;
} step;

static int step_txn(MDB_txn *txn, const store *s, void *userdata)
{
    step *a = userdata;
    member_rec m = {.account = "acct",
                    .handle = (char *)a->handle,
                    .group = "lobby",
                    .nick = (char *)a->handle};

    if (a->remove)
        return a->rc = members_delete(txn, s, "acct", a->handle);
    if (a->image && (a->rc = photos_put(txn, s, (const guchar *)a->image,
                                        a->len, a->hash)) != 0)
        return a->rc;
    m.photo = a->image ? a->hash : NULL;
    return a->rc = members_put(txn, s, &m);
}

static void run(fixture *f, step *a)
{
    g_assert_cmpint(testutil_store_write(f, step_txn, a, &a->rc), ==, 0);
}

static guint32 refs(fixture *f, const char *hash)
{
    MDB_txn *txn;
    guint32 n;

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    n = photos_refs(txn, f->s, hash);
    store_read_end(txn);
    return n;
}

static int get(fixture *f, const char *hash, avatars_photo **out)
{
    MDB_txn *txn;
    int rc;

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    rc = photos_get(txn, f->s, hash, out);
    store_read_end(txn);
    return rc;
}

static void
a_picture_round_trips_under_its_sha1_with_its_type(fixture *f,
                                                   gconstpointer data)
{
    step a = {"alice", png, sizeof(png) - 1, FALSE, "", 0};
    char *want = g_compute_checksum_for_data(
        G_CHECKSUM_SHA1, (const guchar *)png, sizeof(png) - 1);
    avatars_photo *p = NULL;
    gsize len;

    run(f, &a);
    g_assert_cmpstr(a.hash, ==, want);
    testutil_store_reopen(f);
    g_assert_cmpint(get(f, want, &p), ==, 0);
    g_assert_cmpstr(p->type, ==, "image/png");
    g_assert_cmpmem(g_bytes_get_data(p->data, &len), len, png, sizeof(png) - 1);
    g_assert_cmpstr(p->hash, ==, want);
    avatars_photo_free(p);
    g_free(want);
}

static void
two_members_share_one_image_dropped_with_the_last(fixture *f,
                                                  gconstpointer data)
{
    step alice = {"alice", png, sizeof(png) - 1, FALSE, "", 0};
    step bob = {"bob", png, sizeof(png) - 1, FALSE, "", 0};
    step bob_gone = {"bob", NULL, 0, TRUE, "", 0};
    step alice_again = {"alice", png, sizeof(png) - 1, FALSE, "", 0};
    step alice_new = {"alice", gif, sizeof(gif) - 1, FALSE, "", 0};
    avatars_photo *p = NULL;

    run(f, &alice);
    run(f, &bob);
    g_assert_cmpuint(refs(f, alice.hash), ==, 2);
    /* the same picture written again counts once */
    run(f, &alice_again);
    g_assert_cmpuint(refs(f, alice.hash), ==, 2);
    run(f, &bob_gone);
    g_assert_cmpuint(refs(f, alice.hash), ==, 1);
    /* alice's new picture: the old one has nobody left and goes */
    run(f, &alice_new);
    g_assert_cmpuint(refs(f, alice_new.hash), ==, 1);
    g_assert_cmpint(get(f, alice.hash, &p), ==, MDB_NOTFOUND);
    g_assert_null(p);
    g_assert_cmpint(get(f, alice_new.hash, &p), ==, 0);
    g_assert_cmpstr(p->type, ==, "image/gif");
    avatars_photo_free(p);
}

static void a_member_without_a_picture_any_more_lets_it_go(fixture *f,
                                                           gconstpointer data)
{
    step alice = {"alice", png, sizeof(png) - 1, FALSE, "", 0};
    step none = {"alice", NULL, 0, FALSE, "", 0};
    avatars_photo *p = NULL;

    run(f, &alice);
    run(f, &none);
    g_assert_cmpint(get(f, alice.hash, &p), ==, MDB_NOTFOUND);
}

static int put_only_txn(MDB_txn *txn, const store *s, void *userdata)
{
    step *a = userdata;

    return a->rc =
               photos_put(txn, s, (const guchar *)a->image, a->len, a->hash);
}

static void
empty_and_oversized_images_and_bad_hashes_are_refused(fixture *f,
                                                      gconstpointer data)
{
    guchar *big = g_malloc0(PHOTOS_IMAGE_MAX + 1);
    step empty = {"x", "", 0, FALSE, "", 0};
    step over = {"x", (const char *)big, PHOTOS_IMAGE_MAX + 1, FALSE, "", 0};
    avatars_photo *p = NULL;

    g_assert_cmpint(testutil_store_write(f, put_only_txn, &empty, &empty.rc),
                    ==, -EINVAL);
    g_assert_cmpint(testutil_store_write(f, put_only_txn, &over, &over.rc), ==,
                    -EINVAL);
    g_assert_cmpint(get(f, "../../etc/passwd", &p), ==, -EINVAL);
    g_assert_cmpint(get(f, "0123456789ABCDEF0123456789ABCDEF01234567", &p), ==,
                    -EINVAL);
    g_assert_false(photos_hash_valid(NULL));
    g_free(big);
}

static void the_type_is_told_by_the_first_bytes(fixture *f, gconstpointer data)
{
    static const struct {
        const char *bytes;
        gsize len;
        const char *type;
    } cases[] = {
        {"\x89PNG\r\n\x1a\nxx", 10, "image/png"},
        {"\xff\xd8\xff\xe0", 4, "image/jpeg"},
        {"GIF87a", 6, "image/gif"},
        {"BMxxxx", 6, "image/bmp"},
        {"RIFF\0\0\0\0WEBPVP8 ", 16, "image/webp"},
        {"RIFF", 4, ""},
        {"hello", 5, ""},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
        g_assert_cmpstr(
            photos_sniff((const guchar *)cases[i].bytes, cases[i].len), ==,
            cases[i].type);
}

static void
a_record_this_build_cannot_decode_is_not_found_for_counting(fixture *f,
                                                            gconstpointer data)
{
    static const char key[] = "0123456789abcdef0123456789abcdef01234567";
    avatars_photo *p = NULL;

    testutil_put_raw(f, STORE_DB_PHOTOS, key, strlen(key), NULL, 0,
                     "(uint16 9, {'photo': <b'x'>})");
    g_assert_cmpint(get(f, key, &p), ==, MDB_CORRUPTED);
    g_assert_cmpuint(refs(f, key), ==, 0);
}

/* A chat participant's count (pictures.c) and a crash: what the members
 * name stays, counted once each, and an image nobody names goes. */
static int stray_txn(MDB_txn *txn, const store *s, void *userdata)
{
    step *a = userdata;
    int rc = photos_put(txn, s, (const guchar *)a->image, a->len, a->hash);

    if (rc == 0)
        rc = photos_ref(txn, s, a->hash);
    if (rc == 0)
        rc = photos_ref(txn, s, a->hash);
    return rc;
}

static int recount_txn(MDB_txn *txn, const store *s, void *userdata)
{
    return photos_recount(txn, s);
}

static void
a_recount_keeps_what_members_name_and_drops_the_rest(fixture *f,
                                                     gconstpointer data)
{
    step alice = {"alice", png, sizeof(png) - 1, FALSE, "", 0};
    step shown = {"dave", png, sizeof(png) - 1, FALSE, "", 0};
    step stray = {"erin", gif, sizeof(gif) - 1, FALSE, "", 0};
    avatars_photo *p = NULL;
    int rc = 0;

    run(f, &alice);
    /* two chat participants showing each image when the core stopped */
    g_assert_cmpint(testutil_store_write(f, stray_txn, &shown, &rc), ==, 0);
    g_assert_cmpint(testutil_store_write(f, stray_txn, &stray, &rc), ==, 0);
    g_assert_cmpuint(refs(f, alice.hash), ==, 3);
    g_assert_cmpuint(refs(f, stray.hash), ==, 2);
    g_assert_cmpint(testutil_store_write(f, recount_txn, NULL, &rc), ==, 0);
    g_assert_cmpuint(refs(f, alice.hash), ==, 1);
    g_assert_cmpint(get(f, stray.hash, &p), ==, MDB_NOTFOUND);
    g_assert_cmpint(get(f, alice.hash, &p), ==, 0);
    avatars_photo_free(p);
}

#define T(fn)                                                                  \
    {                                                                          \
        "/photos/" #fn, fn                                                     \
    }

int main(int argc, char **argv)
{
    static const testutil_store_case cases[] = {
        T(a_picture_round_trips_under_its_sha1_with_its_type),
        T(two_members_share_one_image_dropped_with_the_last),
        T(a_member_without_a_picture_any_more_lets_it_go),
        T(empty_and_oversized_images_and_bad_hashes_are_refused),
        T(the_type_is_told_by_the_first_bytes),
        T(a_record_this_build_cannot_decode_is_not_found_for_counting),
        T(a_recount_keeps_what_members_name_and_drops_the_rest),
    };

    g_test_init(&argc, &argv, NULL);
    testutil_store_add(cases, G_N_ELEMENTS(cases));
    return g_test_run();
}
