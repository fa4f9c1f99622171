/* archive: the "archive" database (schema/archive.md): every groupchat
 * message of every group in order, its XEP-0359 stanza-ids, MAM queries,
 * history on join, retention and erasure of one person's messages. */
#ifndef IMGROUPS_ARCHIVE_H
#define IMGROUPS_ARCHIVE_H

#include <errno.h>

#include "store.h"

/* Record version of the messages this build writes, and of the per-group
 * high-water mark (schema/archive.md). */
#define ARCHIVE_RECORD_VERSION 1
#define ARCHIVE_MARK_VERSION   1
/* ... and of the runs of the gap index ("archive_gaps"). */
#define ARCHIVE_GAP_VERSION 1

/* An after/before id that names no message of the group, or a forged one
 * (the right seq with the wrong random part): -ENOENT, negative errno like
 * every other code here, distinct from every LMDB code (and from
 * MDB_NOTFOUND, which archive_get returns for a seq), so that a MAM
 * handler can answer item-not-found (XEP-0313 §6.1 / XEP-0059 §2.5). */
#define ARCHIVE_ITEM_NOT_FOUND (-ENOENT)

/* Page sizes of archive_query_run: max 0 gives the default, more than the
 * cap gives the cap. */
#define ARCHIVE_PAGE_DEFAULT 50
#define ARCHIVE_PAGE_MAX     250

/* Batch size of the deleting jobs when 0 is given, and how many records one
 * of their write transactions examines at most (so that even a job that
 * deletes little keeps each transaction short). */
#define ARCHIVE_BATCH_DEFAULT 256
#define ARCHIVE_SCAN_PER_TXN  4096

/* What archive_history counts for one message when no measure function is
 * given: the characters of nick, body and subject plus this, an estimate of
 * the rest of a serialised groupchat <message/> (from/to/id/type, <delay/>,
 * <stanza-id/>, <occupant-id/>). */
#define ARCHIVE_HISTORY_OVERHEAD 256

/* The longest group localpart the archive keys (store.h; the layout
 * group \0 seq(be64) would allow 502). Every function below that takes a
 * group refuses a longer one with STORE_KEY_TOO_LONG, before touching the
 * transaction. */
#define ARCHIVE_GROUP_MAX STORE_GROUP_MAX

/* A stanza-id: 16 lowercase hex digits of seq, then 8 random ones. */
#define ARCHIVE_ID_LEN 24

/* One message, decoded into owned memory: every string is the message's own
 * (g_free'd by archive_msg_free). */
typedef struct archive_msg {
    guint64 seq;          /* per group, from 1; assigned by archive_append */
    char *stanza_id;      /* XEP-0359 id; assigned by archive_append */
    gint64 time_us;       /* unix microseconds UTC; 0 = now (on append) */
    char *nick;           /* sender's occupant nick ("" for the room itself) */
    char *occupant_id;    /* XEP-0421, may be NULL */
    char *sender_jid;     /* XMPP sender's real bare JID, may be NULL;
                             show only to moderators */
    char *sender_account; /* legacy sender: bot account name, may be NULL */
    char *sender_handle;  /* legacy sender: handle there, may be NULL;
                             show only to moderators */
    char *body;           /* may be NULL when subject is set */
    char *subject;        /* may be NULL */
    char *origin_id;      /* client's XEP-0359 origin-id, may be NULL */
    char *client_id;      /* the id attribute the sender gave, may be NULL */
    /* What the room relays besides body and subject: the message's other
     * children as XML text, in the order sent (never what only the room
     * may set: stanza-id by the room, occupant-id, muc#user, delay; never
     * chat states or processing hints). May be NULL. */
    char *payload;
    char *replace_id;     /* XEP-0308: the id of the message corrected */
    /* A retraction (XEP-0424/0425) as said in the room: the stanza-id of
     * the message it withdraws. The record says nothing else. */
    char *retract_of;
    /* A tombstone: the message was withdrawn at this XEP-0082 time; it has
     * no body, subject, payload or replace_id any more. */
    char *retracted;
    char *retracted_by;   /* a moderator's nick; NULL: its sender */
    char *retract_reason; /* a moderator's reason, may be NULL */
    /* A tombstone: the id of the retraction message that withdrew it
     * (XEP-0424 §4: <retracted id=…/>), may be NULL. */
    char *retract_id;
} archive_msg;

/* Frees m and its strings; NULL is allowed. */
void archive_msg_free(archive_msg *m);

/* Whether m was said by this person: a legacy member (account and handle
 * set) or an XMPP user (account NULL: its real bare JID). The one rule for
 * "their own message" (corrections, retractions, exports). */
gboolean archive_msg_said_by(const archive_msg *m, const char *bare,
                             const char *account, const char *handle);

/* Inside a write transaction: stores m as the next message of group.
 * Assigns m->seq (one past the highest seq the group ever had: the last key
 * of the group's range, or the high-water mark left when the newest
 * messages were deleted, so a seq and a stanza-id are never reused) and
 * m->stanza_id (a fresh one; a previous value is freed). A time_us of 0
 * becomes now; a time earlier than the group's last message is raised to
 * it, so that key order is time order (a clock stepped back). Both are
 * written into m only when 0 is returned; m stays the caller's.
 * Under store_write, use m->seq and m->stanza_id only once store_write
 * returned 0 (a failed transaction assigned nothing).
 * Returns 0, STORE_KEY_TOO_LONG (group longer than ARCHIVE_GROUP_MAX),
 * -EINVAL (group empty or not UTF-8; a string not UTF-8; none of body,
 * subject, payload, retract_of), MDB_CORRUPTED if
 * the group's high-water mark cannot be read, or an LMDB error code
 * (MDB_MAP_FULL: the store is full). */
int archive_append(MDB_txn *txn, const store *s, const char *group,
                   archive_msg *m);

/* Inside a write transaction: overwrites the record of group at m->seq
 * with m, keeping m's stanza_id and time_us (a tombstone replacing a
 * withdrawn message). Returns 0, MDB_NOTFOUND (no such message), -EINVAL
 * (as archive_append, or a tombstone that still has a body, subject,
 * payload or replace_id), or an LMDB error code. */
int archive_replace(MDB_txn *txn, const store *s, const char *group,
                    const archive_msg *m);

/* Reads the message of group with this seq; *out owned by the caller
 * (archive_msg_free). Returns 0, MDB_NOTFOUND, MDB_CORRUPTED (not a
 * message record, or a record version newer than ARCHIVE_RECORD_VERSION),
 * -EINVAL for a bad group, or an LMDB error code. */
int archive_get(MDB_txn *txn, const store *s, const char *group, guint64 seq,
                archive_msg **out);

/* Reads the message of group with this stanza-id; *out owned by the caller.
 * Returns 0, ARCHIVE_ITEM_NOT_FOUND (not an id of ours, no such message, or
 * the stored id differs: forged), MDB_CORRUPTED, -EINVAL, or an LMDB
 * error. */
int archive_get_id(MDB_txn *txn, const store *s, const char *group,
                   const char *stanza_id, archive_msg **out);

/* *seq = the highest seq group ever had (0: none): the seq its next
 * message will follow, kept by the high-water mark when the newest
 * messages were deleted. Returns 0, STORE_KEY_TOO_LONG, -EINVAL,
 * MDB_CORRUPTED (the mark cannot be read) or an LMDB error code. */
int archive_head(MDB_txn *txn, const store *s, const char *group,
                 guint64 *seq);

/* Called once per message by archive_foreach_after; m is borrowed for the
 * call. 0 goes on, a positive value stops the walk (which returns 0), a
 * negative one stops it and is returned. */
typedef int (*archive_fn)(const archive_msg *m, void *userdata);

/* Calls fn for each message of group with a seq greater than after, oldest
 * first; deleted seqs are not there and records that cannot be decoded
 * are skipped. Returns 0, STORE_KEY_TOO_LONG, -EINVAL, fn's negative value
 * or an LMDB error code. Runs in any transaction. */
int archive_foreach_after(MDB_txn *txn, const store *s, const char *group,
                          guint64 after, archive_fn fn, void *userdata);

/* Calls fn for the last messages of group, newest first, examining at
 * most limit records (a bounded look back: a correction's original).
 * Records that cannot be decoded are skipped (and count against limit).
 * Returns as archive_foreach_after. Runs in any transaction. */
int archive_foreach_back(MDB_txn *txn, const store *s, const char *group,
                         guint limit, archive_fn fn, void *userdata);

/* A MAM query (XEP-0313 with XEP-0059 paging). Strings are borrowed for the
 * call. */
typedef struct archive_query {
    gint64 start_us, end_us; /* 0 = unbounded; both inclusive */
    const char *after_id;    /* RSM <after>: strictly after this id */
    const char *before_id;   /* RSM <before>: strictly before this id */
    gboolean before_last;    /* RSM <before/> without id: the last page */
    guint max;               /* page size: 0 = ARCHIVE_PAGE_DEFAULT, capped at
                                ARCHIVE_PAGE_MAX */
} archive_query;

/* Runs q over group's messages. The result set is the messages with
 * start_us <= time <= end_us; a page of it is taken after after_id and
 * before before_id, from its front (paging forward), or from its back when
 * before_id or before_last is given (paging backward).
 * *out (may be NULL: count only) gets a GPtrArray of archive_msg* in
 * chronological order that owns its elements (g_ptr_array_unref).
 * *complete (may be NULL) is TRUE when the page reaches the end of the
 * result set in the direction of paging (XEP-0313 <fin complete='true'/>).
 * *count (may be NULL: not counted) gets the size of the whole result set,
 * ignoring after/before (RSM <count/>); it comes from the seqs that
 * bound the set less the gaps inside them (schema/archive.md, "Counting"):
 * a few lookups, never a walk of the set.
 * Records that cannot be decoded are left out of the page (they are still
 * counted). Returns 0; ARCHIVE_ITEM_NOT_FOUND when after_id or before_id
 * names no message of the group (unknown, forged, deleted); MDB_CORRUPTED
 * when the message it names cannot be read; -EINVAL for a bad group; or an
 * LMDB error. On failure *out is NULL. Runs in any transaction. */
int archive_query_run(MDB_txn *txn, const store *s, const char *group,
                      const archive_query *q, GPtrArray **out,
                      gboolean *complete, guint64 *count);

/* Rebuilds the gap index of every group (schema/archive.md, "Counting")
 * from the messages and high-water marks in the archive, inside a write
 * transaction: the migration from schema version 1, and a repair. Returns 0
 * or an LMDB error code. */
int archive_gaps_rebuild(MDB_txn *txn, const store *s);

/* Measures what one message of the history costs against maxchars, as the
 * caller will serialise it; ARCHIVE_HISTORY_SKIP leaves it out. */
typedef gsize (*archive_measure_fn)(const archive_msg *m, void *userdata);
#define ARCHIVE_HISTORY_SKIP ((gsize)-1)

/* History on join (XEP-0045 §7.2.15) and /history N: the group's last
 * messages the measure does not skip (NULL: those with a body; a
 * subject-only message is left out: the room sends the current subject
 * after the history, §7.2.16), newest first back in
 * time while all these hold: at most maxstanzas messages (-1: no limit),
 * their measures add up to at most maxchars (-1: no limit; 0 gives none),
 * time >= since_us (0: no limit). The history is contiguous: it stops at
 * the first message that does not fit. measure NULL counts the characters
 * of nick, body and subject plus ARCHIVE_HISTORY_OVERHEAD. The walk stops
 * after ARCHIVE_SCAN_PER_TXN skipped messages (a bounded walk).
 * With no limit at all it returns the whole archive of the group: callers
 * cap maxstanzas to the room's history length.
 * *out: a GPtrArray of archive_msg* in chronological order, owning its
 * elements. Records that cannot be decoded are left out. Returns 0, -EINVAL,
 * or an LMDB error (then *out is NULL). Runs in any transaction. */
int archive_history(MDB_txn *txn, const store *s, const char *group,
                    int maxstanzas, int maxchars, gint64 since_us,
                    archive_measure_fn measure, void *userdata,
                    GPtrArray **out);

/* Deleting jobs: retention and erasure. A job runs as a series of short
 * write transactions (store_write), each deleting at most batch messages
 * (0: ARCHIVE_BATCH_DEFAULT) and examining at most ARCHIVE_SCAN_PER_TXN
 * records; it keeps its place between them by key, so other writes may
 * come in between. When a job deletes the newest message of a group it
 * leaves the group's high-water mark, so numbering goes on from there.
 * Records that cannot be decoded are left alone. A job is owned by its
 * creator (archive_job_free); its strings are copied. */
typedef struct archive_job archive_job;

/* Retention: deletes the messages of group (NULL: of every group) whose
 * time is before cutoff_us, from the front of each group's range (key
 * order is time order) to its first message at or after the cutoff.
 * cutoff_us G_MAXINT64 deletes all of them (a destroyed room). */
archive_job *archive_job_sweep(const char *group, gint64 cutoff_us,
                               guint batch);

/* Erasure (/forgetme, the admin erase command): deletes, in every group,
 * the messages whose sender_jid is jid (byte equality: pass it as
 * archived, i.e. as the caller folded it). */
archive_job *archive_job_forget_sender(const char *jid, guint batch);

/* The same for a legacy member: the messages whose sender_account is
 * account and sender_handle is handle. */
archive_job *archive_job_forget_legacy(const char *account, const char *handle,
                                       guint batch);

/* Erasure that keeps the thread (the admin erase command): the messages
 * archive_job_forget_sender (resp. _legacy) would delete become tombstones
 * of nobody instead: seq, stanza-id and time stay, so replies and MAM
 * paging still find their place; nick, occupant-id, the sender fields,
 * body, subject, payload and every id the sender gave are gone. A
 * retraction said by the person becomes such a tombstone too.
 * archive_job_removed counts the messages made tombstones. */
archive_job *archive_job_erase_sender(const char *jid, guint batch);
archive_job *archive_job_erase_legacy(const char *account, const char *handle,
                                      guint batch);

/* Erasure of a moderator: the tombstones of group whose retracted_by is
 * nick (the nick the erased person withdrew others' messages under) keep
 * everything but that nick, which becomes "" (a moderator the room does
 * not name, XEP-0425 §4). archive_job_removed counts the records changed. */
archive_job *archive_job_unname(const char *group, const char *nick,
                                guint batch);

/* Runs one write transaction of job. *done is TRUE once nothing is left to
 * examine (further steps do nothing). For a main-loop caller: one step per
 * idle or timeout callback keeps the loop responsive. Returns 0, or
 * negative with *err set as store_write does (the job stays where it was
 * and may be stepped again). */
int archive_job_step(archive_job *job, store *s, gboolean *done, GError **err);

/* Messages the job has deleted in the steps that committed. */
guint archive_job_removed(const archive_job *job);

/* Frees job; NULL is allowed. */
void archive_job_free(archive_job *job);

/* The jobs above run to the end in one call: they block the caller for
 * the whole run (one sync per batch). *removed (may be NULL) gets the
 * number of messages deleted, also on failure (what committed). Return 0,
 * or negative with *err set as store_write does. */
int archive_sweep(store *s, const char *group, gint64 cutoff_us, guint batch,
                  guint *removed, GError **err);
int archive_forget_sender(store *s, const char *jid, guint batch,
                          guint *removed, GError **err);
int archive_forget_legacy(store *s, const char *account, const char *handle,
                          guint batch, guint *removed, GError **err);

#endif
