/* photos: the "photos" database (schema/photos.md): legacy members'
 * pictures, one record per image keyed by its SHA-1, shared by every member
 * showing it and dropped when the last one stops (members.c keeps the
 * count). */
#ifndef IMGROUPS_PHOTOS_H
#define IMGROUPS_PHOTOS_H

#include "avatars.h"
#include "store.h"

/* Record version written by this build. */
#define PHOTOS_RECORD_VERSION 1

/* The largest image kept, in bytes (the worker's PROTO_ICON_MAX). */
#define PHOTOS_IMAGE_MAX (256 * 1024)

/* Whether hash is a key of this database: 40 lowercase hex digits. */
gboolean photos_hash_valid(const char *hash);

/* The MIME type of an image, told by its first bytes (PNG, JPEG, GIF, BMP,
 * WebP), or "" (static storage). */
const char *photos_sniff(const guchar *data, gsize len);

/* Inside a write transaction: keeps image data[0..len) under its SHA-1
 * (written into hash_out), with no member counted yet; an image already
 * kept is left as it is. Returns 0, -EINVAL for an empty image or one over
 * PHOTOS_IMAGE_MAX, or a negative LMDB code. */
int photos_put(MDB_txn *txn, const store *s, const guchar *data, gsize len,
               char hash_out[AVATARS_HASH_LEN]);

/* Reads the image kept under hash; *out owned by the caller
 * (avatars_photo_free). Returns 0, MDB_NOTFOUND, -EINVAL (not a hash),
 * MDB_CORRUPTED, or a negative LMDB code. */
int photos_get(MDB_txn *txn, const store *s, const char *hash,
               avatars_photo **out);

/* Inside a write transaction: one more member shows hash (ref), one fewer
 * (unref: at none, the image is deleted). A hash not kept is no error.
 * Returns 0 or a negative LMDB code. members_put and members_delete call
 * them, and the bridge for a chat participant's occupant (pictures.c):
 * nothing else should. */
int photos_ref(MDB_txn *txn, const store *s, const char *hash);
int photos_unref(MDB_txn *txn, const store *s, const char *hash);

/* Inside a write transaction: every image's count made again from the
 * member records naming it, and the images none names deleted. The
 * bridge's chat participants count too while they show an image (their
 * occupants are in memory only): run at start, before any is shown, it
 * drops what a crash or a stop left counted. Linear in members and
 * images. Returns 0 or a negative LMDB code. */
int photos_recount(MDB_txn *txn, const store *s);

/* The number of members counted for hash (0 when not kept); for tests and
 * the dump. */
guint32 photos_refs(MDB_txn *txn, const store *s, const char *hash);

#endif
