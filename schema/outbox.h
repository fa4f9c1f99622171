/* outbox: the "outbox" database (schema/outbox.md): the durable queue of
 * deliveries from rooms to legacy targets, per bot account and target, in
 * id order, with the id high-water mark. */
#ifndef IMGROUPS_OUTBOX_H
#define IMGROUPS_OUTBOX_H

#include "store.h"

/* Record version of the entries this build writes, and of the id
 * high-water mark (schema/outbox.md). */
#define OUTBOX_RECORD_VERSION 1
#define OUTBOX_MARK_VERSION   1

/* Target kinds. */
#define OUTBOX_KIND_IM   'i' /* a legacy member: target is the handle */
#define OUTBOX_KIND_CHAT 'c' /* a legacy chat: target is the chat name */

/* One queued delivery, decoded into owned memory (outbox_msg_free). */
typedef struct outbox_msg {
    guint64 id;          /* assigned by outbox_add: unique, increasing across
                            the whole outbox, never reused even after
                            deletion or restart */
    char *account;       /* bot account name (key part) */
    char kind;           /* OUTBOX_KIND_IM or OUTBOX_KIND_CHAT (key part) */
    char *target;        /* handle or chat name (key part) */
    char *group;         /* the room it came from */
    guint64 archive_seq; /* archive seq of the room message, 0 for notices */
    gint64 time_us;      /* when it was said (unix µs) */
    char *nick;          /* who said it in the room, "" for bot notices */
    char *body;          /* plain text */
    gboolean action;     /* /me */
} outbox_msg;

/* Frees m and its strings; NULL is allowed. */
void outbox_msg_free(outbox_msg *m);

/* Argument checks shared by every function below: account and target must
 * be non-NULL and non-empty (as C strings they hold no NUL) and kind one of
 * OUTBOX_KIND_*; a bad argument returns -EINVAL and touches nothing. An
 * account longer than STORE_ACCOUNT_MAX or a target longer than
 * STORE_HANDLE_MAX bytes (store.h) returns STORE_KEY_TOO_LONG, also before
 * anything is written. */

/* Inside a write transaction: queues m (borrowed) for (m->account, m->kind,
 * m->target) under the next id, records that id as the high-water mark, and
 * on success sets m->id (the caller's m->id is ignored). group must be
 * non-empty UTF-8, body UTF-8, nick UTF-8 or NULL (stored as ""). Returns 0,
 * -EINVAL, -EOVERFLOW when every id has been used, MDB_CORRUPTED when the
 * high-water mark cannot be read (rather than risk reusing an id), or
 * another LMDB error code (MDB_MAP_FULL lets store_write grow the map and
 * retry). */
int outbox_add(MDB_txn *txn, const store *s, outbox_msg *m);

/* Inside a write transaction: deletes entry id of the target. Returns 0
 * (also when there was no such entry), -EINVAL or an LMDB error code. */
int outbox_remove(MDB_txn *txn, const store *s, const char *account, char kind,
                  const char *target, guint64 id);

/* Called once per entry by outbox_foreach_target. m and its strings are
 * borrowed for the call only. fn may write through the transaction (e.g.
 * remove the entry it was given, or add new ones): the walk goes on with
 * the next id. A non-zero return stops the walk and is returned by it. */
typedef int (*outbox_fn)(const outbox_msg *m, void *userdata);

/* Calls fn for each entry of the target with an id greater than after_id,
 * oldest (lowest id) first. Entries whose value cannot be decoded are
 * skipped (they are still counted by outbox_count_target and
 * outbox_foreach_pending_target, and erased by the drop functions).
 * Returns 0, fn's non-zero value, -EINVAL or an LMDB error code. */
int outbox_foreach_target(MDB_txn *txn, const store *s, const char *account,
                          char kind, const char *target, guint64 after_id,
                          outbox_fn fn, void *userdata);

/* *count = the number of the target's entries (a walk over its keys, values
 * not read). Returns 0, -EINVAL or an LMDB error code (*count is then 0). */
int outbox_count_target(MDB_txn *txn, const store *s, const char *account,
                        char kind, const char *target, guint64 *count);

/* Called once per target with entries by outbox_foreach_pending_target;
 * account and target are borrowed for the call only. fn may write through
 * the transaction (e.g. drop the target): the walk goes on with the next
 * target. A non-zero return stops the walk and is returned by it. */
typedef int (*outbox_target_fn)(const char *account, char kind,
                                const char *target, guint64 pending,
                                void *userdata);

/* Calls fn for each target of account that has entries, in key order (kind,
 * then target bytes), with how many: one pass over the account's keys,
 * values not read. Returns 0, fn's non-zero value, -EINVAL or an LMDB error
 * code. */
int outbox_foreach_pending_target(MDB_txn *txn, const store *s,
                                  const char *account, outbox_target_fn fn,
                                  void *userdata);

/* Inside a write transaction: erases every entry of the target (forgetme,
 * leave), or of every target of account. *dropped (may be NULL) gets how
 * many keys were deleted. The high-water mark stays: ids are not reused.
 * Returns 0, -EINVAL or an LMDB error code (then the caller must abort; the
 * count is of what this transaction deleted so far). */
int outbox_drop_target(MDB_txn *txn, const store *s, const char *account,
                       char kind, const char *target, guint64 *dropped);
int outbox_drop_account(MDB_txn *txn, const store *s, const char *account,
                        guint64 *dropped);

#endif
