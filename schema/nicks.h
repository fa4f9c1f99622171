/* nicks: the "nicks" database (schema/nicks.md): the nicks registered with
 * each group (XEP-0045 §7.10), keyed by the folded nick, and the index of
 * each bare JID's registrations, kept in step in the same transaction. */
#ifndef IMGROUPS_NICKS_H
#define IMGROUPS_NICKS_H

#include "store.h"

#define NICKS_RECORD_VERSION 1

/* A bare JID in an index key: \0 bare \0 group, one byte longer than the
 * affiliations' group \0 bare (store.h). */
#define NICKS_JID_MAX (STORE_KEY_MAX - STORE_GROUP_MAX - 2) /* 381 */

/* The folded nick is registered by someone else (nicks_register). Distinct
 * from every LMDB code, errno value and STORE_KEY_TOO_LONG. */
#define NICKS_TAKEN (-31101)

/* Every function below refuses a group longer than STORE_GROUP_MAX, a
 * folded nick longer than STORE_NICK_MAX or empty, and a bare JID longer
 * than NICKS_JID_MAX with STORE_KEY_TOO_LONG, before touching the
 * transaction. Nicks are given twice: as displayed (nick) and folded (key:
 * the RFC 8266 comparison form, nick_key); the schema compares keys only
 * and keeps the displayed form for the owner's client. bare is folded by
 * the caller (jid_bare_fold). */

/* Who registered the folded nick key in group: *owner (g_free) the bare
 * JID, NULL when nobody. Returns 0, or a negative LMDB or errno code
 * (MDB_CORRUPTED for a record this build cannot decode). */
int nicks_owner(MDB_txn *txn, const store *s, const char *group,
                const char *key, char **owner);

/* The nick bare registered with group: *nick (g_free) as displayed and
 * *key (g_free; may be NULL: not wanted) folded, both NULL when none. One
 * lookup in the index. Same returns as nicks_owner. */
int nicks_of(MDB_txn *txn, const store *s, const char *group, const char *bare,
             char **nick, char **key);

/* Inside a write transaction: registers nick (folded key) with group for
 * bare, replacing bare's previous registration there. Returns 0,
 * NICKS_TAKEN when another bare JID holds key, or a negative LMDB or errno
 * code. The caller bounds how many a group holds (nicks_count). */
int nicks_register(MDB_txn *txn, const store *s, const char *group,
                   const char *bare, const char *nick, const char *key);

/* Inside a write transaction: drops bare's registration with group (none,
 * or a bare JID too long to have one: 0 too). Returns 0 or a negative LMDB
 * or errno code. */
int nicks_unregister(MDB_txn *txn, const store *s, const char *group,
                     const char *bare);

/* How many nicks group holds, counting no further than max (a bound
 * check walks at most max records). Returns 0 and *count, or a negative
 * code. */
int nicks_count(MDB_txn *txn, const store *s, const char *group, guint max,
                guint *count);

/* Inside a write transaction: drops every registration with group (a
 * destroyed group). Returns 0 or a negative code. */
int nicks_drop_group(MDB_txn *txn, const store *s, const char *group);

/* Inside a write transaction: drops bare's registrations with every group
 * (erasure of a user); a walk of bare's own index entries. Returns 0 and
 * *dropped (may be NULL), or a negative code. */
int nicks_forget(MDB_txn *txn, const store *s, const char *bare,
                 guint *dropped);

/* The nicks bare registered, for export: calls fn for each group with
 * the nick as displayed (both borrowed for the call); a walk of bare's own
 * index entries. fn returns 0 to go on, positive to stop, negative to
 * fail (returned). Returns 0 or a negative code. */
typedef int (*nicks_jid_fn)(const char *group, const char *nick,
                            void *userdata);
int nicks_foreach_jid(MDB_txn *txn, const store *s, const char *bare,
                      nicks_jid_fn fn, void *userdata);

/* The group a key of this database belongs to: the first part of a
 * registration (group \0 nick), the last of an index entry (\0 bare \0
 * group). *group borrows key's bytes. */
void nicks_key_group(const MDB_val *key, MDB_val *group);

#endif
