/* affiliations: the "affiliations" database (schema/affiliations.md): who is
 * owner, admin, member or outcast of each group. */
#ifndef IMGROUPS_AFFILIATIONS_H
#define IMGROUPS_AFFILIATIONS_H

#include "store.h"

#define AFFILIATIONS_RECORD_VERSION 1

/* XEP-0045 §5.2, highest first; NONE has no record. */
enum affiliation {
    AFF_OWNER,
    AFF_ADMIN,
    AFF_MEMBER,
    AFF_NONE,
    AFF_OUTCAST,
};

/* "owner", "admin", "member", "none", "outcast". */
const char *affiliation_name(enum affiliation a);
/* Returns 0 and *out, or -1 for an unknown name. */
int affiliation_parse(const char *s, enum affiliation *out);

/* Every function below refuses a group longer than STORE_GROUP_MAX bytes or
 * a bare JID longer than STORE_JID_MAX with STORE_KEY_TOO_LONG, before
 * touching the transaction. */

/* The affiliation of bare (already folded by the caller) in group; AFF_NONE
 * when there is no record. Returns 0, or a negative LMDB or errno code
 * (MDB_CORRUPTED for a record this build cannot decode). */
int affiliations_get(MDB_txn *txn, const store *s, const char *group,
                     const char *bare, enum affiliation *out);

/* Inside a write transaction: sets (AFF_NONE: deletes) the record; reason
 * may be NULL. The owned index follows in the same transaction (an entry
 * for AFF_OWNER, none otherwise). Returns 0 or a negative LMDB or errno
 * code. */
int affiliations_set(MDB_txn *txn, const store *s, const char *group,
                     const char *bare, enum affiliation a, const char *reason);

/* Calls fn for each record of group in JID order (reason: the stored
 * one, or NULL). fn returns 0 to go on, a positive value to stop early
 * (then 0 is returned), or a negative code, which is returned. Strings are
 * borrowed for the call. Returns 0 or a negative code (store_walk). */
typedef int (*affiliations_fn)(const char *bare, enum affiliation a,
                               const char *reason, void *userdata);
int affiliations_foreach(MDB_txn *txn, const store *s, const char *group,
                         affiliations_fn fn, void *userdata);

/* How many groups bare owns: a walk of bare's own entries in the owned
 * index (schema/affiliations.md), O(groups bare owns) whatever the size of
 * the database. Returns 0 and *count, or a negative LMDB or errno code. */
int affiliations_count_owned(MDB_txn *txn, const store *s, const char *bare,
                             guint *count);

/* The migration from schema version 3 (store.c's table): empties the owned
 * index and builds it again from the owner records, inside the open write
 * transaction; records that cannot be decoded are stepped over. Returns 0
 * or a negative LMDB or errno code. */
int affiliations_owned_rebuild(MDB_txn *txn, store *s);

/* One person's affiliations, for export and erasure: calls fn for each
 * group in which bare (folded) has a record, in group order; group is
 * borrowed for the call; fn returns as affiliations_fn's. A walk of the
 * whole database (records are keyed by group first). Returns 0,
 * STORE_KEY_TOO_LONG, or a negative code. */
typedef int (*affiliations_jid_fn)(const char *group, enum affiliation a,
                                   void *userdata);
int affiliations_foreach_jid(MDB_txn *txn, const store *s, const char *bare,
                             affiliations_jid_fn fn, void *userdata);

/* Inside a write transaction: deletes every record of bare, bans
 * included, and its owned index entries (erasure of a person). Returns 0
 * and *dropped (may be NULL), or a negative code. */
int affiliations_forget(MDB_txn *txn, const store *s, const char *bare,
                        guint *dropped);

#endif
