/* photos: the "photos" database, one "(qa{sv})" record per image keyed by
 * its SHA-1 in hex: the image, its MIME type and how many members show it
 * (photos.h). */
#include <errno.h>
#include <string.h>

#include "photos.h"

#include "members.h"

#define PHOTOS_TYPE G_VARIANT_TYPE("(qa{sv})")

gboolean photos_hash_valid(const char *hash)
{
    return hash && strlen(hash) == AVATARS_HASH_LEN - 1 &&
           strspn(hash, "0123456789abcdef") == AVATARS_HASH_LEN - 1;
}

/* The formats legacy clients send pictures in, by their magic bytes. */
static const struct {
    const char *magic;
    gsize len, at;
    const char *type;
} magics[] = {
    {"\x89PNG\r\n\x1a\n", 8, 0, "image/png"},
    {"\xff\xd8\xff", 3, 0, "image/jpeg"},
    {"GIF8", 4, 0, "image/gif"},
    {"BM", 2, 0, "image/bmp"},
    {"WEBP", 4, 8, "image/webp"},
};

const char *photos_sniff(const guchar *data, gsize len)
{
    for (gsize i = 0; i < G_N_ELEMENTS(magics); i++)
        if (len >= magics[i].at + magics[i].len &&
            !memcmp(data + magics[i].at, magics[i].magic, magics[i].len))
            return magics[i].type;
    return "";
}

static GVariant *record(const char *type, GVariant *photo, guint32 refs)
{
    GVariantBuilder b;

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&b, "{sv}", "type", g_variant_new_string(type));
    g_variant_builder_add(&b, "{sv}", "photo", photo);
    g_variant_builder_add(&b, "{sv}", "refs", g_variant_new_uint32(refs));
    return g_variant_new("(qa{sv})", (guint16)PHOTOS_RECORD_VERSION, &b);
}

/* The record under hash as its dictionary (*dict, caller unrefs): 0,
 * MDB_NOTFOUND, MDB_CORRUPTED (a version this build does not read, or no
 * image), or an LMDB code. */
static int read_dict(MDB_txn *txn, const store *s, const char *hash,
                     GVariant **dict)
{
    GVariant *v = NULL, *photo;
    guint16 version;
    int rc;

    *dict = NULL;
    rc = store_get_variant(txn, store_dbi(s, STORE_DB_PHOTOS), hash,
                           strlen(hash), PHOTOS_TYPE, &v);
    if (rc != 0)
        return rc;
    g_variant_get(v, "(q@a{sv})", &version, dict);
    g_variant_unref(v);
    photo = g_variant_lookup_value(*dict, "photo", G_VARIANT_TYPE_BYTESTRING);
    if (version == 0 || version > PHOTOS_RECORD_VERSION || !photo ||
        g_variant_get_size(photo) == 0) {
        g_clear_pointer(dict, g_variant_unref);
        rc = MDB_CORRUPTED;
    }
    if (photo)
        g_variant_unref(photo);
    return rc;
}

static guint32 refs_of(GVariant *dict)
{
    guint32 n = 0;

    g_variant_lookup(dict, "refs", "u", &n);
    return n;
}

int photos_put(MDB_txn *txn, const store *s, const guchar *data, gsize len,
               char hash_out[AVATARS_HASH_LEN])
{
    GVariant *dict = NULL;
    char *hash;
    int rc;

    if (len == 0 || len > PHOTOS_IMAGE_MAX)
        return -EINVAL;
    hash = g_compute_checksum_for_data(G_CHECKSUM_SHA1, data, len);
    g_strlcpy(hash_out, hash, AVATARS_HASH_LEN);
    rc = read_dict(txn, s, hash, &dict);
    if (rc == 0)
        g_variant_unref(dict); /* the same bytes: kept already */
    else if (rc == MDB_NOTFOUND || rc == MDB_CORRUPTED)
        rc = store_put_variant(
            txn, store_dbi(s, STORE_DB_PHOTOS), hash, strlen(hash),
            record(photos_sniff(data, len),
                   g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, data, len, 1),
                   0));
    g_free(hash);
    return rc;
}

int photos_get(MDB_txn *txn, const store *s, const char *hash,
               avatars_photo **out)
{
    GVariant *dict = NULL, *photo;
    int rc;

    *out = NULL;
    if (!photos_hash_valid(hash))
        return -EINVAL;
    if ((rc = read_dict(txn, s, hash, &dict)) != 0)
        return rc;
    photo = g_variant_lookup_value(dict, "photo", G_VARIANT_TYPE_BYTESTRING);
    *out = g_new0(avatars_photo, 1);
    (*out)->type = store_dict_string(dict, "type");
    if (!(*out)->type)
        (*out)->type = g_strdup("");
    (*out)->data = g_variant_get_data_as_bytes(photo);
    g_strlcpy((*out)->hash, hash, AVATARS_HASH_LEN);
    g_variant_unref(photo);
    g_variant_unref(dict);
    return 0;
}

/* Writes n as the count of hash's record dict (unreffed here); at none
 * the record goes. */
static int set_refs(MDB_txn *txn, const store *s, const char *hash,
                    GVariant *dict, guint32 n)
{
    GVariant *photo;
    char *type;
    int rc;

    if (n == 0) {
        MDB_val k = {strlen(hash), (void *)hash};
        g_variant_unref(dict);
        return store_rc(mdb_del(txn, store_dbi(s, STORE_DB_PHOTOS), &k, NULL));
    }
    photo = g_variant_lookup_value(dict, "photo", G_VARIANT_TYPE_BYTESTRING);
    type = store_dict_string(dict, "type");
    rc = store_put_variant(txn, store_dbi(s, STORE_DB_PHOTOS), hash,
                           strlen(hash), record(type ? type : "", photo, n));
    g_free(type);
    g_variant_unref(photo);
    g_variant_unref(dict);
    return rc;
}

/* Adds delta to hash's count; at none the record goes. */
static int count(MDB_txn *txn, const store *s, const char *hash, int delta)
{
    GVariant *dict = NULL;
    guint32 n;
    int rc;

    if (!photos_hash_valid(hash))
        return 0;
    rc = read_dict(txn, s, hash, &dict);
    if (rc == MDB_NOTFOUND || rc == MDB_CORRUPTED)
        return 0;
    if (rc != 0)
        return rc;
    n = refs_of(dict);
    n = delta < 0 ? (n > 0 ? n - 1 : 0) : n + 1;
    return set_refs(txn, s, hash, dict, n);
}

int photos_ref(MDB_txn *txn, const store *s, const char *hash)
{
    return count(txn, s, hash, 1);
}

int photos_unref(MDB_txn *txn, const store *s, const char *hash)
{
    return count(txn, s, hash, -1);
}

guint32 photos_refs(MDB_txn *txn, const store *s, const char *hash)
{
    GVariant *dict = NULL;
    guint32 n;

    if (!photos_hash_valid(hash) || read_dict(txn, s, hash, &dict) != 0)
        return 0;
    n = refs_of(dict);
    g_variant_unref(dict);
    return n;
}

/* ---- the count made again from the members ---- */

static int named_by(const member_rec *m, void *userdata)
{
    GHashTable *named = userdata;

    if (m->photo && photos_hash_valid(m->photo))
        g_hash_table_insert(
            named, g_strdup(m->photo),
            GUINT_TO_POINTER(
                GPOINTER_TO_UINT(g_hash_table_lookup(named, m->photo)) + 1));
    return 0;
}

typedef struct recount_args {
    MDB_txn *txn;
    const store *s;
    GHashTable *named; /* hash -> members naming it */
} recount_args;

static int recount_one(const MDB_val *key, const MDB_val *val, void *userdata)
{
    recount_args *r = userdata;
    char hash[AVATARS_HASH_LEN];
    GVariant *dict = NULL;
    guint32 n;
    int rc;

    if (key->mv_size != AVATARS_HASH_LEN - 1)
        return 0;
    memcpy(hash, key->mv_data, key->mv_size);
    hash[key->mv_size] = '\0';
    if ((rc = read_dict(r->txn, r->s, hash, &dict)) != 0)
        return rc == MDB_CORRUPTED ? 0 : rc;
    n = GPOINTER_TO_UINT(g_hash_table_lookup(r->named, hash));
    if (n == refs_of(dict)) {
        g_variant_unref(dict);
        return 0;
    }
    return set_refs(r->txn, r->s, hash, dict, n);
}

int photos_recount(MDB_txn *txn, const store *s)
{
    recount_args r = {
        txn, s, g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};
    int rc = members_foreach(txn, s, named_by, r.named);

    if (rc == 0)
        rc = store_walk(txn, store_dbi(s, STORE_DB_PHOTOS), NULL, 0,
                        recount_one, &r);
    g_hash_table_destroy(r.named);
    return rc;
}
