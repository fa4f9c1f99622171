/* noticed: the "noticed" database (schema/noticed.md): the XMPP users who
 * were given the first-contact notice (what the service keeps), so that
 * each gets it once, whichever group they join first. */
#ifndef IMGROUPS_NOTICED_H
#define IMGROUPS_NOTICED_H

#include "store.h"

#define NOTICED_RECORD_VERSION 1

/* Every function below refuses a bare JID longer than STORE_JID_MAX with
 * STORE_KEY_TOO_LONG and an empty or NULL one with -EINVAL, before touching
 * the transaction. bare is folded by the caller (jid_bare_fold). */

/* When bare was given the notice (unix µs) into *when, 0 when never.
 * Returns 0, MDB_CORRUPTED (a record this build cannot decode: treated by
 * callers as given), or a negative LMDB or errno code. */
int noticed_get(MDB_txn *txn, const store *s, const char *bare, gint64 *when);

/* Inside a write transaction: bare was given the notice at when (unix
 * µs). Returns 0 or a negative code. */
int noticed_put(MDB_txn *txn, const store *s, const char *bare, gint64 when);

/* Inside a write transaction: forgets bare (erasure); none is 0 too.
 * Returns 0 or a negative code. */
int noticed_forget(MDB_txn *txn, const store *s, const char *bare);

/* Inside a write transaction: the record key = val of another store
 * merged into this one (imgroups --reshard): written unless this store
 * already says bare was given the notice at that time or earlier. A val
 * that cannot be read is MDB_CORRUPTED, nothing written. Returns 0 or a
 * negative code. */
int noticed_merge(MDB_txn *txn, const store *s, const MDB_val *key,
                  const MDB_val *val);

#endif
