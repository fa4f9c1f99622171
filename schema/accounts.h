/* accounts: the "accounts" database (schema/accounts.md), one record per
 * legacy bot account, and the "secrets" database that holds their
 * passwords apart, so that listing accounts never reads a password. */
#ifndef IMGROUPS_ACCOUNTS_H
#define IMGROUPS_ACCOUNTS_H

#include "store.h"

#define ACCOUNTS_RECORD_VERSION 1
#define SECRETS_RECORD_VERSION  1

/* One bot account. Every string and the options table are owned by the
 * struct (account_rec_free). */
typedef struct account_rec {
    char *name, *protocol, *username, *group;
    char *mode;          /* "contacts" | "chat" */
    char *chat;          /* NULL unless chat mode */
    GHashTable *options; /* char* -> char*, owned */
    gboolean enabled;
    guint pace_burst;     /* messages the bot may send at once */
    double pace_rate;     /* then this many per second */
    gboolean from_config; /* written from an [account:NAME] section (the
                             registry's mark: such a record goes when its
                             section goes) */
} account_rec;

/* Frees a and everything it holds; NULL is allowed. */
void account_rec_free(account_rec *a);

/* Deep copy (options included); free with account_rec_free. */
account_rec *account_rec_copy(const account_rec *a);

/* Every function below refuses an account name longer than
 * STORE_ACCOUNT_MAX bytes (and accounts_put a group longer than
 * STORE_GROUP_MAX) with STORE_KEY_TOO_LONG, before touching the
 * transaction (store.h). */

/* Inside a write transaction: writes a (keyed by a->name; borrowed) as a
 * record of version ACCOUNTS_RECORD_VERSION, replacing any record there.
 * password: written to "secrets" ("" is a stored empty password); NULL
 * leaves the stored one as it is. Returns 0, -EINVAL (missing name,
 * protocol, username, group or mode, or a string that is not UTF-8), or an
 * LMDB error code (MDB_MAP_FULL: the store reached its map size).
 * The password is never part of an error. */
int accounts_put(MDB_txn *txn, const store *s, const account_rec *a,
                 const char *password);

/* Reads one account; *out owned by the caller (account_rec_free). Returns
 * 0, MDB_NOTFOUND, or MDB_CORRUPTED for a record this build cannot decode
 * (not a normal-form "(qa{sv})", a version of 0 or newer than
 * ACCOUNTS_RECORD_VERSION, or protocol, username, group or mode missing).
 * Other missing fields decode to defaults (schema/accounts.md). */
int accounts_get(MDB_txn *txn, const store *s, const char *name,
                 account_rec **out);

/* The stored password of name: *out owned by the caller (g_free; wipe it
 * first), "" when none is stored. Returns 0, MDB_CORRUPTED for a secret
 * this build cannot decode, or another negative code. */
int accounts_password(MDB_txn *txn, const store *s, const char *name,
                      char **out);

/* Inside a write transaction: deletes the record and its secret. Returns 0,
 * MDB_NOTFOUND when there was no record, or a negative LMDB or errno code. */
int accounts_delete(MDB_txn *txn, const store *s, const char *name);

/* Calls fn for each account in name (byte) order; a is borrowed for the
 * call. fn returns 0 to go on, a positive value to stop (then 0 is
 * returned) or a negative code, which is returned. Records this build
 * cannot decode are skipped (accounts_get on their name says
 * MDB_CORRUPTED). Returns 0 or a negative code (store_walk). */
typedef int (*accounts_fn)(const account_rec *a, void *userdata);
int accounts_foreach(MDB_txn *txn, const store *s, accounts_fn fn,
                     void *userdata);

#endif
