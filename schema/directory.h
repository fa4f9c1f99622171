/* directory: the "directory" database (schema/directory.md): the localparts
 * of the public groups, in key order, kept in step with the groups records
 * by groups_put and groups_delete, so that the service's disco#items pages
 * through what it lists (XEP-0059) without reading a hidden group, and
 * counts it without a walk. */
#ifndef IMGROUPS_DIRECTORY_H
#define IMGROUPS_DIRECTORY_H

#include "store.h"

/* Inside a write transaction: lists localpart (listed TRUE) or takes it
 * off the list (FALSE; not listed is no error). Returns 0,
 * STORE_KEY_TOO_LONG, or a negative LMDB or errno code. */
int directory_set(MDB_txn *txn, const store *s, const char *localpart,
                  gboolean listed);

/* How many groups are listed, read from LMDB's count of the database (no
 * walk). Returns 0 or a negative LMDB code. */
int directory_count(MDB_txn *txn, const store *s, guint *out);

/* One page of the listed localparts, in key order, as XEP-0059 asks for
 * it: at most max of them (max 0: none), the first ones after `after`
 * (NULL: from the first listed); or, when before is not NULL, the last
 * ones before `before` ("": the last page of the list). *out is a
 * GPtrArray of owned strings (g_ptr_array_unref). The cost is the page:
 * the cursor starts at the key and reads max records. Returns 0;
 * MDB_NOTFOUND when after or before (not "") is not listed (XEP-0059 §2.5:
 * item-not-found); or a negative LMDB or errno code. *out is NULL unless 0
 * is returned. */
int directory_page(MDB_txn *txn, const store *s, const char *after,
                   const char *before, guint max, GPtrArray **out);

/* directory_page for a cursor another shard may own (issue 14, the service
 * as one): after and before need not be listed. The page holds the listed
 * localparts that sort after `after` (before `before`; "": the last page),
 * at most max, in key order. Returns 0; -EINVAL when after or before (not
 * "") is longer than STORE_GROUP_MAX bytes or empty; or a negative LMDB or
 * errno code. *out is NULL unless 0 is returned. */
int directory_page_near(MDB_txn *txn, const store *s, const char *after,
                        const char *before, guint max, GPtrArray **out);

/* Inside a write transaction: the list built again from the groups
 * records (the migration from schema 4, which had none). Returns 0 or a
 * negative LMDB or errno code. */
int directory_rebuild(MDB_txn *txn, store *s);

#endif
