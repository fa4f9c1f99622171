/* avatars: the "avatars" database (schema/avatars.md): one room avatar per
 * group (XEP-0054 vcard-temp PHOTO on the room JID, as Prosody's
 * mod_vcard_muc keeps it), keyed by the room localpart, with its SHA-1. */
#ifndef IMGROUPS_AVATARS_H
#define IMGROUPS_AVATARS_H

#include "store.h"

/* Record version written by this build. */
#define AVATARS_RECORD_VERSION 1

/* The hash as text: 40 hex digits and the terminator. */
#define AVATARS_HASH_LEN 41

/* The most a TYPE (MIME type) may hold, in bytes. */
#define AVATARS_TYPE_MAX 64

/* A room's avatar, decoded into owned memory (avatars_photo_free). */
typedef struct avatars_photo {
    char *type;                  /* MIME type, "" when the owner gave none */
    GBytes *data;                /* the image, decoded */
    char hash[AVATARS_HASH_LEN]; /* SHA-1 of data, lowercase hex */
} avatars_photo;

void avatars_photo_free(avatars_photo *p);

/* Inside a write transaction: the group's avatar is data[0..len) of MIME
 * type type (borrowed; "" or NULL for none), replacing any. hash_out (may be
 * NULL) receives its SHA-1. Returns 0, -EINVAL for an empty image or a type
 * over AVATARS_TYPE_MAX or not UTF-8, STORE_KEY_TOO_LONG, or a negative
 * LMDB or errno code. */
int avatars_put(MDB_txn *txn, const store *s, const char *localpart,
                const char *type, const guchar *data, gsize len,
                char hash_out[AVATARS_HASH_LEN]);

/* Reads the group's avatar; *out owned by the caller. Returns 0,
 * MDB_NOTFOUND (no avatar), MDB_CORRUPTED for a record this build cannot
 * decode, STORE_KEY_TOO_LONG, or a negative LMDB code. */
int avatars_get(MDB_txn *txn, const store *s, const char *localpart,
                avatars_photo **out);

/* Only the hash of the group's avatar (the image is not copied): the
 * answer to every join and disco#info. Same returns as avatars_get. */
int avatars_hash(MDB_txn *txn, const store *s, const char *localpart,
                 char out[AVATARS_HASH_LEN]);

/* Inside a write transaction: the group has no avatar any more (none is no
 * error). Returns 0, STORE_KEY_TOO_LONG, or a negative LMDB code. */
int avatars_delete(MDB_txn *txn, const store *s, const char *localpart);

#endif
