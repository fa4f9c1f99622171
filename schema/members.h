/* members: the "members" database and its "member_index" (schema/members.md):
 * legacy members, keyed by bot account and legacy handle, and the group index
 * that lists one group's members. */
#ifndef IMGROUPS_MEMBERS_H
#define IMGROUPS_MEMBERS_H

#include "store.h"

/* Record version written by this build. */
#define MEMBERS_RECORD_VERSION 1

/* A legacy member, decoded into owned memory (member_rec_free). */
typedef struct member_rec {
    char *account;     /* bot account name (key part) */
    char *handle;      /* normalised legacy handle (key part) */
    char *group;       /* group localpart the account serves */
    char *nick;        /* nick in the room; NULL until chosen */
    char *alias;       /* legacy alias last seen, or NULL */
    gboolean muted;    /* /mute: no deliveries while TRUE */
    gboolean welcomed; /* told the privacy notice once */
    gint64 since_us;   /* when they became a member (real time, µs) */
    gint64 seen_us;    /* last message or presence from them, 0 never;
                          the bridge keeps it to within an hour */
    char *photo;       /* SHA-1 of their picture in schema/photos, or NULL
                          (members_put keeps the picture's count) */
} member_rec;

/* Frees m and its strings; NULL is allowed. */
void member_rec_free(member_rec *m);

/* Argument checks shared by every function below: account and handle must
 * be non-NULL and non-empty (as C strings they hold no NUL); group must be
 * non-empty UTF-8, nick and alias UTF-8 or NULL. A bad argument returns
 * -EINVAL and touches nothing. An account longer than STORE_ACCOUNT_MAX, a
 * handle longer than STORE_HANDLE_MAX or a group longer than
 * STORE_GROUP_MAX bytes (store.h: so that every key fits LMDB's 511)
 * returns STORE_KEY_TOO_LONG, also before anything is written. */

/* Inside a write transaction: writes m (borrowed) as a record of version
 * MEMBERS_RECORD_VERSION under (m->account, m->handle), replacing any
 * record there, and keeps the group index in step: when the record it
 * replaces names another group, that group's index entry is deleted. Returns
 * 0, -EINVAL, or an LMDB error code (after any LMDB error the caller must
 * abort). */
int members_put(MDB_txn *txn, const store *s, const member_rec *m);

/* Reads one member; *out is owned by the caller (member_rec_free) and
 * outlives the transaction. Returns 0, MDB_NOTFOUND, MDB_CORRUPTED for a
 * record this build cannot decode (not a normal-form "(qa{sv})", record
 * version 0 or newer than MEMBERS_RECORD_VERSION, or no "group" string), or
 * another LMDB code, or -EINVAL; *out is NULL unless 0 is returned. */
int members_get(MDB_txn *txn, const store *s, const char *account,
                const char *handle, member_rec **out);

/* Inside a write transaction: deletes the member and its group index entry.
 * Returns 0 (also when there was no such member), -EINVAL, or an LMDB error
 * code. A record that cannot be decoded is deleted too (its index entry, if
 * any, is then left behind and ignored by members_foreach_group). */
int members_delete(MDB_txn *txn, const store *s, const char *account,
                   const char *handle);

/* Called once per member by the walks below. m and its strings are borrowed
 * for the call only. fn may write through the transaction (e.g. delete or
 * move the member it was given): the walk goes on from the next key. A
 * positive return stops the walk (which returns 0), a negative one stops
 * it and is returned by it. */
typedef int (*members_fn)(const member_rec *m, void *userdata);

/* Calls fn for every member of group, through the group index, in
 * (account, handle) byte order. Only members whose record names group are
 * given: a stale index entry or a record that cannot be decoded is skipped.
 * Returns 0, fn's negative value, -EINVAL, or an LMDB error code. */
int members_foreach_group(MDB_txn *txn, const store *s, const char *group,
                          members_fn fn, void *userdata);

/* Calls fn for every member known to account, in handle byte order;
 * records that cannot be decoded are skipped. Returns as
 * members_foreach_group. */
int members_foreach_account(MDB_txn *txn, const store *s, const char *account,
                            members_fn fn, void *userdata);

/* Calls fn for every member of every account, in key order; records that
 * cannot be decoded are skipped (the outbox migration). Returns as
 * members_foreach_group. */
int members_foreach(MDB_txn *txn, const store *s, members_fn fn,
                    void *userdata);

#endif
