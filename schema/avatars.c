/* avatars: the "avatars" database, one "(qa{sv})" record per group keyed by
 * its room localpart: the room avatar's image, MIME type and SHA-1. */
#include <errno.h>
#include <string.h>

#include "avatars.h"

#define AVATARS_TYPE G_VARIANT_TYPE("(qa{sv})")

void avatars_photo_free(avatars_photo *p)
{
    if (!p)
        return;
    g_free(p->type);
    if (p->data)
        g_bytes_unref(p->data);
    g_free(p);
}

static MDB_val key_of(const char *localpart)
{
    return (MDB_val){strlen(localpart), (void *)localpart};
}

int avatars_put(MDB_txn *txn, const store *s, const char *localpart,
                const char *type, const guchar *data, gsize len,
                char hash_out[AVATARS_HASH_LEN])
{
    MDB_val k = key_of(localpart);
    GVariantBuilder b;
    char *hash;

    if (k.mv_size > STORE_GROUP_MAX)
        return STORE_KEY_TOO_LONG;
    if (!type)
        type = "";
    if (k.mv_size == 0 || len == 0 || strlen(type) > AVATARS_TYPE_MAX ||
        !g_utf8_validate(type, -1, NULL))
        return -EINVAL;
    hash = g_compute_checksum_for_data(G_CHECKSUM_SHA1, data, len);
    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&b, "{sv}", "type", g_variant_new_string(type));
    g_variant_builder_add(
        &b, "{sv}", "photo",
        g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, data, len, 1));
    g_variant_builder_add(&b, "{sv}", "hash", g_variant_new_string(hash));
    if (hash_out)
        g_strlcpy(hash_out, hash, AVATARS_HASH_LEN);
    g_free(hash);
    return store_put_variant(
        txn, store_dbi(s, STORE_DB_AVATARS), k.mv_data, k.mv_size,
        g_variant_new("(qa{sv})", (guint16)AVATARS_RECORD_VERSION, &b));
}

/* The hash of a record's dictionary into out: 0 or MDB_CORRUPTED. */
static int hash_of(GVariant *dict, char out[AVATARS_HASH_LEN])
{
    char *h = store_dict_string(dict, "hash");
    int rc = MDB_CORRUPTED;

    if (h && strlen(h) == AVATARS_HASH_LEN - 1 &&
        strspn(h, "0123456789abcdef") == AVATARS_HASH_LEN - 1) {
        memcpy(out, h, AVATARS_HASH_LEN);
        rc = 0;
    }
    g_free(h);
    return rc;
}

/* The record's dictionary, or NULL when its version is not one this build
 * reads. */
static GVariant *dict_of(GVariant *v)
{
    GVariant *dict = NULL;
    guint16 version;

    g_variant_get(v, "(q@a{sv})", &version, &dict);
    if (version == 0 || version > AVATARS_RECORD_VERSION) {
        g_variant_unref(dict);
        return NULL;
    }
    return dict;
}

int avatars_get(MDB_txn *txn, const store *s, const char *localpart,
                avatars_photo **out)
{
    MDB_val k = key_of(localpart);
    GVariant *v = NULL, *dict = NULL, *photo = NULL;
    avatars_photo *p = NULL;
    int rc;

    *out = NULL;
    if (k.mv_size > STORE_GROUP_MAX)
        return STORE_KEY_TOO_LONG;
    rc = store_get_variant(txn, store_dbi(s, STORE_DB_AVATARS), k.mv_data,
                           k.mv_size, AVATARS_TYPE, &v);
    if (rc != 0)
        return rc;
    rc = MDB_CORRUPTED;
    if (!(dict = dict_of(v)))
        goto leave;
    photo = g_variant_lookup_value(dict, "photo", G_VARIANT_TYPE_BYTESTRING);
    if (!photo || g_variant_get_size(photo) == 0)
        goto leave;
    p = g_new0(avatars_photo, 1);
    if (hash_of(dict, p->hash) != 0)
        goto leave;
    p->type = store_dict_string(dict, "type");
    if (!p->type)
        p->type = g_strdup("");
    p->data = g_variant_get_data_as_bytes(photo);
    *out = p;
    p = NULL;
    rc = 0;
leave:
    avatars_photo_free(p);
    if (photo)
        g_variant_unref(photo);
    if (dict)
        g_variant_unref(dict);
    g_variant_unref(v);
    return rc;
}

int avatars_hash(MDB_txn *txn, const store *s, const char *localpart,
                 char out[AVATARS_HASH_LEN])
{
    MDB_val k = key_of(localpart);
    GVariant *v = NULL, *dict;
    int rc;

    *out = '\0';
    if (k.mv_size > STORE_GROUP_MAX)
        return STORE_KEY_TOO_LONG;
    /* Checked and copied like every record: GVariant may not read bytes
     * in place from the map (they need not be aligned for the type, and
     * GLib asserts on a misaligned child). */
    rc = store_get_variant(txn, store_dbi(s, STORE_DB_AVATARS), k.mv_data,
                           k.mv_size, AVATARS_TYPE, &v);
    if (rc != 0)
        return rc;
    dict = dict_of(v);
    rc = dict ? hash_of(dict, out) : MDB_CORRUPTED;
    if (dict)
        g_variant_unref(dict);
    g_variant_unref(v);
    return rc;
}

int avatars_delete(MDB_txn *txn, const store *s, const char *localpart)
{
    MDB_val k = key_of(localpart);
    int rc;

    if (k.mv_size > STORE_GROUP_MAX)
        return STORE_KEY_TOO_LONG;
    rc = store_rc(mdb_del(txn, store_dbi(s, STORE_DB_AVATARS), &k, NULL));
    return rc == MDB_NOTFOUND ? 0 : rc;
}
