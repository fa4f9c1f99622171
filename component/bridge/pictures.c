/* pictures: members' pictures as occupants' avatars, the room's avatar as
 * the bot's (pictures.h). */
#include "pictures.h"

#include <string.h>

#include "avatars.h"
#include "contacts.h"
#include "log.h"
#include "photos.h"

typedef struct icon_args {
    member_rec *m;
    const guchar *data;
    gsize len;
} icon_args;

/* The image kept (if new) and the member's record naming it, in one
 * transaction: members_put counts the new picture and lets go of the old
 * one, dropped when no member shows it any more. */
static int icon_txn(MDB_txn *txn, const store *st, void *userdata)
{
    icon_args *ia = userdata;
    char hash[AVATARS_HASH_LEN];
    int rc = 0;

    g_clear_pointer(&ia->m->photo, g_free);
    if (ia->len) {
        if ((rc = photos_put(txn, st, ia->data, ia->len, hash)) != 0)
            return rc;
        ia->m->photo = g_strdup(hash);
    }
    return members_put(txn, st, ia->m);
}

/* The length of a picture of len bytes as shown: the vCard that shows it
 * must fit [component] stanza_limit, so a member's picture is bounded as
 * the room's avatar is ([limits] avatar_size, bytes of base64); a bigger
 * one is not shown (0), as if they had none. */
static gsize shown_len(bridge *b, bacct *a, gsize len)
{
    if (len && (len + 2) / 3 * 4 > b->cfg->avatar_size) {
        log_debug(LOG_BRIDGE,
                  "account %s: a member's picture of %zu bytes "
                  "is over [limits] avatar_size",
                  a->name, len);
        return 0;
    }
    return len;
}

void pictures_on_icon(bridge *b, bacct *a, GVariant *body)
{
    const char *handle;
    GVariant *image;
    icon_args ia = {NULL, NULL, 0};
    char *hash = NULL;

    g_variant_get(body, "(&s&s&s@ay)", NULL, &handle, NULL, &image);
    ia.data = g_variant_get_fixed_array(image, &ia.len, 1);
    if (a->chat_mode || !*handle || !bridge_handle_fits(a, handle) ||
        ia.len > PHOTOS_IMAGE_MAX)
        goto leave;
    if (!(ia.m = bridge_member_load(b, a->name, handle)))
        goto leave; /* a stranger's picture is not kept */
    ia.len = shown_len(b, a, ia.len);
    if (ia.len)
        hash = g_compute_checksum_for_data(G_CHECKSUM_SHA1, ia.data, ia.len);
    if (!g_strcmp0(hash, ia.m->photo))
        goto leave; /* the same picture again */
    if (!bridge_write(b, icon_txn, &ia, "member picture"))
        goto leave;
    log_debug(LOG_BRIDGE, "account %s: a member's picture (%zu bytes)", a->name,
              ia.len);
    /* In the room: their presence again, with the new hash. */
    contacts_enter(b, a, ia.m);
leave:
    g_free(hash);
    member_rec_free(ia.m);
    g_variant_unref(image);
}

void pictures_set_icon(bridge *b, bacct *a, void *removal)
{
    avatars_photo *p = NULL;
    MDB_txn *txn = NULL;
    GError *err = NULL;
    gconstpointer data = NULL;
    gsize len = 0;
    int rc;

    if (store_read_begin(b->st, &txn, &err) < 0) {
        log_error(LOG_BRIDGE, "%s", err->message);
        g_error_free(err);
        return;
    }
    rc = avatars_get(txn, b->st, a->group, &p);
    store_read_end(txn);
    if (rc != 0 && rc != MDB_NOTFOUND)
        log_warning(LOG_BRIDGE,
                    "account %s: the group's avatar cannot be "
                    "read (%s)",
                    a->name, mdb_strerror(rc));
    if (p)
        data = g_bytes_get_data(p->data, &len);
    /* No avatar: said only when one was removed, so that a bot's own
     * picture is not cleared (nor republished) at every sign-on. */
    if (a->up && len <= PROTO_ICON_MAX && (len || removal))
        legacy_send(
            b->lg, a->name, PROTO_SET_ICON,
            g_variant_new("(s@ay)", a->name,
                          g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE,
                                                    data ? data : "", len, 1)));
    avatars_photo_free(p);
}

void pictures_room_avatar(const char *group, void *userdata)
{
    static int removal;

    bridge_each_of_group(userdata, group, pictures_set_icon, &removal);
}

/* ---- chat participants ---- */

/* A chat participant's picture: the new one kept and counted, the old one
 * let go (photos.h: the count is made again at start, so what a crash
 * leaves counted goes then). */
typedef struct chat_icon_args {
    const guchar *data;
    gsize len;
    const char *old;             /* the hash shown until now, or NULL */
    char hash[AVATARS_HASH_LEN]; /* the new one, "" for none */
} chat_icon_args;

static int chat_icon_txn(MDB_txn *txn, const store *st, void *userdata)
{
    chat_icon_args *ca = userdata;
    int rc = 0;

    ca->hash[0] = '\0';
    if (ca->len && ((rc = photos_put(txn, st, ca->data, ca->len, ca->hash)) ||
                    (rc = photos_ref(txn, st, ca->hash))))
        return rc;
    return ca->old ? photos_unref(txn, st, ca->old) : 0;
}

void pictures_on_chat_icon(bridge *b, bacct *a, GVariant *body)
{
    const char *nick, *bare, *room_nick, *why = NULL;
    GVariant *image;
    chat_icon_args ca = {NULL, 0, NULL, ""};
    char *hash = NULL;

    g_variant_get(body, "(&s&s&s&s@ay)", NULL, NULL, &nick, NULL, &image);
    ca.data = g_variant_get_fixed_array(image, &ca.len, 1);
    bare = a->chat_mode && *nick ? g_hash_table_lookup(a->in_chat, nick) : NULL;
    if (!bare || ca.len > PHOTOS_IMAGE_MAX)
        goto leave;
    ca.len = shown_len(b, a, ca.len);
    if (ca.len)
        hash = g_compute_checksum_for_data(G_CHECKSUM_SHA1, ca.data, ca.len);
    ca.old = g_hash_table_lookup(a->chat_photos, bare);
    if (!g_strcmp0(hash, ca.old))
        goto leave; /* the same picture again */
    if (!bridge_write(b, chat_icon_txn, &ca, "chat participant picture"))
        goto leave;
    if (*ca.hash)
        g_hash_table_insert(a->chat_photos, g_strdup(bare), g_strdup(ca.hash));
    else
        g_hash_table_remove(a->chat_photos, bare);
    log_debug(LOG_BRIDGE,
              "account %s: a chat participant's picture (%zu "
              "bytes)",
              a->name, ca.len);
    /* Their presence again, with the new hash. */
    room_nick = muc_legacy_nick(b->m, a->group, bare);
    if (room_nick &&
        muc_legacy_enter(b->m, b->up, a->group, bare, 'c', a->name, nick,
                         room_nick, NULL, ca.hash, &why) != XERR_NONE)
        log_debug(LOG_BRIDGE,
                  "account %s: a chat participant's picture "
                  "not shown: %s",
                  a->name, why);
leave:
    g_free(hash);
    g_variant_unref(image);
}

static int unref_txn(MDB_txn *txn, const store *st, void *userdata)
{
    GPtrArray *hashes = userdata;
    int rc = 0;

    for (guint i = 0; i < hashes->len && rc == 0; i++)
        rc = photos_unref(txn, st, g_ptr_array_index(hashes, i));
    return rc;
}

void pictures_chat_gone(bridge *b, bacct *a, const char *bare)
{
    GPtrArray *hashes = g_ptr_array_new_with_free_func(g_free);
    GHashTableIter it;
    gpointer k, v;

    g_hash_table_iter_init(&it, a->chat_photos);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (!bare || !strcmp(k, bare)) {
            g_ptr_array_add(hashes, g_strdup(v));
            g_hash_table_iter_remove(&it);
        }
    if (hashes->len)
        bridge_write(b, unref_txn, hashes, "chat participant pictures");
    g_ptr_array_free(hashes, TRUE);
}

static int recount_txn(MDB_txn *txn, const store *st, void *userdata)
{
    return photos_recount(txn, st);
}

void pictures_start(bridge *b)
{
    bridge_write(b, recount_txn, NULL, "picture counts");
}
