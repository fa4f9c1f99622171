/* outbox: the "outbox" database (schema/outbox.md): per bot account and
 * legacy target, a delivery cursor into its group's archive (room messages
 * are stored once, in the archive) and the durable queue of the bot's own
 * notices and private messages, in id order, with the id high-water
 * mark. */
#ifndef IMGROUPS_OUTBOX_H
#define IMGROUPS_OUTBOX_H

#include "store.h"

/* Record version of the entries this build writes, and of the id
 * high-water mark (schema/outbox.md). */
#define OUTBOX_RECORD_VERSION 1
#define OUTBOX_MARK_VERSION   1
#define OUTBOX_CURSOR_VERSION 1

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
 * high-water mark cannot be read (rather than risk reusing an id),, or
 * another LMDB error code. */
int outbox_add(MDB_txn *txn, const store *s, outbox_msg *m);

/* Inside a write transaction: deletes entry id of the target. Returns 0
 * (also when there was no such entry), -EINVAL or an LMDB error code. */
int outbox_remove(MDB_txn *txn, const store *s, const char *account, char kind,
                  const char *target, guint64 id);

/* Called once per entry by outbox_foreach_target. m and its strings are
 * borrowed for the call only. fn may write through the transaction (e.g.
 * remove the entry it was given, or add new ones): the walk goes on with
 * the next id. A positive return stops the walk (which returns 0), a
 * negative one stops it and is returned by it. */
typedef int (*outbox_fn)(const outbox_msg *m, void *userdata);

/* Calls fn for each entry of the target with an id greater than after_id,
 * oldest (lowest id) first. Entries whose value cannot be decoded are
 * skipped (they are still counted by outbox_count_target and
 * outbox_foreach_pending_target, and erased by the drop functions).
 * Returns 0, fn's negative value, -EINVAL or an LMDB error code. */
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
 * target. A positive return stops the walk (which returns 0), a negative
 * one stops it and is returned by it. */
typedef int (*outbox_target_fn)(const char *account, char kind,
                                const char *target, guint64 pending,
                                void *userdata);

/* Calls fn for each target of account that has entries, in key order (kind,
 * then target bytes), with how many: one pass over the account's keys,
 * values not read. Returns 0, fn's negative value, -EINVAL or an LMDB error
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

/* ---- delivery cursors: room messages by reference ---- */

/* Delivery ids (the worker protocol's send_im / delivered / failed): an
 * entry's id is below OUTBOX_ROOM_ID_BIT; a room message handed to a target
 * is OUTBOX_ROOM_ID_BIT | slot << OUTBOX_SEQ_BITS | archive seq, so that a
 * report names its target even after the core that sent it died. */
#define OUTBOX_ROOM_ID_BIT (G_GUINT64_CONSTANT(1) << 63)
#define OUTBOX_SEQ_BITS    40
#define OUTBOX_SEQ_MAX     ((G_GUINT64_CONSTANT(1) << OUTBOX_SEQ_BITS) - 1)
#define OUTBOX_SLOT_MAX    ((1u << (63 - OUTBOX_SEQ_BITS)) - 1)

/* One target's place in its group's archive, decoded into owned memory
 * (outbox_cursor_free). Which archive messages it gets: those after seq
 * that outbox_cursor_wants, said by someone else, that can be put in words
 * (component/bridge/render.c: never a tombstone or a retraction). */
typedef struct outbox_cursor {
    char *group;       /* the group whose archive it follows */
    guint32 slot;      /* its number in delivery ids, unique in the store */
    guint64 seq;       /* the last archive seq done with (confirmed) */
    guint64 hold;      /* muted: nothing after this seq goes; 0 none */
    guint64 skip_from; /* seqs in (skip_from, skip_to] were said while */
    guint64 skip_to;   /* it was muted: they never go; 0 0 none */
    guint64 start;     /* the archive head when it started: it never had
                          what came before (0: not known, a cursor older
                          than the field) */
} outbox_cursor;

void outbox_cursor_free(outbox_cursor *c);

/* Whether archive seq is for the target (after its cursor, not held, not
 * skipped). */
gboolean outbox_cursor_wants(const outbox_cursor *c, guint64 seq);
/* Whether archive seq was already done with for the target: after its
 * start, at or before its cursor, neither held nor skipped (a message
 * withdrawn now is news to it only then). */
gboolean outbox_cursor_had(const outbox_cursor *c, guint64 seq);
/* Muting at head (the group's archive head): nothing after it goes. */
void outbox_cursor_mute(outbox_cursor *c, guint64 head);
/* Unmuting at head: what was said while muted is skipped; what waited
 * before the mute still goes. */
void outbox_cursor_unmute(outbox_cursor *c, guint64 head);

/* The delivery id of archive seq for the target in slot, and back: FALSE
 * for an entry's id. */
guint64 outbox_room_id(guint32 slot, guint64 seq);
gboolean outbox_room_id_split(guint64 id, guint32 *slot, guint64 *seq);

/* Reads the cursor of (account, kind, target); *out owned by the caller.
 * Returns 0, MDB_NOTFOUND, MDB_CORRUPTED, -EINVAL, STORE_KEY_TOO_LONG or an
 * LMDB error code (*out NULL unless 0). */
int outbox_cursor_get(MDB_txn *txn, const store *s, const char *account,
                      char kind, const char *target, outbox_cursor **out);

/* Inside a write transaction: writes c (borrowed) as the cursor of
 * (account, kind, target): one put. c->slot must be one outbox_cursor_start
 * gave. Returns 0, -EINVAL or an LMDB error code. */
int outbox_cursor_put(MDB_txn *txn, const store *s, const char *account,
                      char kind, const char *target, const outbox_cursor *c);

/* Inside a write transaction: gives (account, kind, target) a cursor at
 * the head of group's archive (it gets what is said from now on) unless it
 * has one, with a new slot. Returns 0, -EINVAL, STORE_KEY_TOO_LONG,
 * -EOVERFLOW (every slot used), MDB_CORRUPTED or an LMDB error code. */
int outbox_cursor_start(MDB_txn *txn, const store *s, const char *account,
                        char kind, const char *target, const char *group);

/* Inside a write transaction: moves the cursor of the target forward to
 * seq (never back); one put, none when it is already there. Returns 0,
 * MDB_NOTFOUND (no cursor), or as outbox_cursor_get. */
int outbox_cursor_advance(MDB_txn *txn, const store *s, const char *account,
                          char kind, const char *target, guint64 seq);

/* Called once per cursor of an account; strings and c borrowed for the
 * call. 0 goes on, positive stops (the walk returns 0), negative stops and
 * is returned. */
typedef int (*outbox_cursor_fn)(const char *account, char kind,
                                const char *target, const outbox_cursor *c,
                                void *userdata);

/* Calls fn for every cursor of account, in key order; undecodable ones are
 * skipped. Returns 0, fn's negative value, -EINVAL or an LMDB error
 * code. */
int outbox_cursor_foreach(MDB_txn *txn, const store *s, const char *account,
                          outbox_cursor_fn fn, void *userdata);

/* The migration from schema version 2 (store.c's table): every member
 * gets a cursor at its group's archive head. The entries already queued
 * (full copies, as version 2 wrote them) stay and are delivered as they
 * are, so nothing pending is lost or sent twice. Returns 0 or an LMDB
 * error code. */
int outbox_migrate_cursors(MDB_txn *txn, store *s);

/* ---- one store's outbox into another (imgroups --reshard) ---- */

/* Whether key is one of the store-wide records (the id high-water mark,
 * the last slot) rather than an account's cursor or entry. */
gboolean outbox_key_is_mark(const MDB_val *key);

/* Inside a write transaction: the store-wide record key = val of another
 * store merged into this one's: the higher of the two is kept, so that no
 * id or slot of either store is handed out again. A val that cannot be
 * read is MDB_CORRUPTED, nothing written. Returns 0, -EINVAL for a key
 * that is no mark, or a negative LMDB code. */
int outbox_mark_merge(MDB_txn *txn, const store *s, const MDB_val *key,
                      const MDB_val *val);

#endif
