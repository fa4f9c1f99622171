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
    /* The vCard that shows it must fit [component] stanza_limit: a member's
     * picture is bounded as the room's avatar is ([limits] avatar_size,
     * bytes of base64); a bigger one is not shown, as if they had none. */
    if (ia.len && (ia.len + 2) / 3 * 4 > b->cfg->avatar_size) {
        log_debug(LOG_BRIDGE,
                  "account %s: a member's picture of %zu bytes "
                  "is over [limits] avatar_size",
                  a->name, ia.len);
        ia.len = 0;
    }
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
