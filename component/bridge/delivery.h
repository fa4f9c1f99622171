/* delivery: the outbox pump: what rooms say and the bot's notices go to
 * legacy targets in order, paced per account, each once. */
#ifndef IMGROUPS_DELIVERY_H
#define IMGROUPS_DELIVERY_H

#include "bridge_int.h"

/* Queues text for a legacy target (durably, in the current turn); nick
 * DELIVERY_NOTICE_NICK for the bot's own words. */
#define DELIVERY_NOTICE_NICK ""
void delivery_queue(bridge *b, bacct *a, char kind, const char *target,
                    const char *nick, const char *body);
/* A bot notice to member handle. */
void delivery_notice(bridge *b, bacct *a, const char *handle,
                     const char *text);
/* Runs the pump soon. */
void delivery_wake(bridge *b);
/* The target has work, or may have (it came back). */
void delivery_mark(bacct *a, char kind, const char *target);
/* Every target of a with entries waiting is marked. */
void delivery_load(bridge *b, bacct *a);
/* What was handed to the worker is forgotten: it goes again, in order. */
void delivery_rewind_all(bacct *a);
void delivery_rewind(bacct *a, char kind, const char *target);
/* A member back from an absence: what waited is counted afresh (a digest
 * past digest_after) unless something is in flight to them. */
void delivery_back(bridge *b, bacct *a, const char *handle);
void delivery_on_delivered(bridge *b, bacct *a, GVariant *body);
void delivery_on_failed(bridge *b, bacct *a, GVariant *body);
/* muc hook, after a message was archived: the group's reachable targets
 * have work. */
void delivery_woken(const char *group, void *userdata);
/* muc hook, inside the transaction that withdraws message seq of group:
 * every target of the group's accounts that had it (outbox_cursor_had, or
 * in flight) and did not say it gets the entry "* nick deleted a message";
 * the others never get it (a tombstone is not delivered). Returns 0 or an
 * LMDB error code. */
int delivery_retracted(MDB_txn *txn, const store *st, const char *group,
                       guint64 seq, const char *nick, void *userdata);
/* Gives the target a cursor at the head of a's group's archive unless it
 * has one (it gets what is said from now on). */
void delivery_start(bridge *b, bacct *a, char kind, const char *target);
/* Whether archive message msg goes to (account, kind, target): it may
 * become a line (render_wants) and was not said by the target itself. */
gboolean delivery_for(const archive_msg *msg, const char *account, char kind,
                      const char *target);
/* The digest of count messages of which lines (char *, oldest first) are
 * the last (g_free). */
char *delivery_digest(guint64 count, GQueue *lines);
/* The account's delivery state: made when the account is, freed with
 * it. */
void delivery_init(bacct *a);
void delivery_clear(bacct *a);

#endif
