/* groups: the "groups" database (schema/groups.md): one record per group,
 * keyed by the room localpart, holding its configuration. */
#ifndef IMGROUPS_GROUPS_H
#define IMGROUPS_GROUPS_H

#include "store.h"

/* Record version written by this build. */
#define GROUPS_RECORD_VERSION 1

/* A group's configuration, decoded into owned memory. */
typedef struct group_cfg {
    char *localpart;    /* room localpart, as keyed */
    char *name;         /* human name ("" if none) */
    char *description;  /* "" if none */
    gboolean is_public; /* listed in disco#items */
    gboolean persistent;
    gint64 created;     /* unix seconds */
    char *subject;      /* room subject ("" if none) */
    char *subject_nick; /* who set it ("" if nobody) */
    /* XEP-0045 room options (component/options.c owns their meaning) */
    gboolean members_only;
    gboolean registration; /* members must register a nick and use it */
    char *password; /* "" when none */
    gboolean moderated;
    gboolean whois_anyone;   /* non-anonymous: real JIDs to everyone */
    gboolean change_subject; /* participants may change the subject */
    char *allow_pm;          /* "anyone" | "moderators" | "none" */
    guint32 max_users;       /* 0: no limit */
    gint32 history_len;      /* messages sent on join at most */
    gint32 keep_days;        /* archive retention; -1: the service's */
} group_cfg;

/* Deep copy; free with group_cfg_free. */
group_cfg *group_cfg_copy(const group_cfg *g);

/* Every function below that takes a localpart refuses one longer than
 * STORE_GROUP_MAX bytes with STORE_KEY_TOO_LONG, before touching the
 * transaction. */

/* Inside a write transaction: deletes the group's record. Returns 0,
 * MDB_NOTFOUND, STORE_KEY_TOO_LONG, or a negative LMDB or errno code. */
int groups_delete(MDB_txn *txn, const store *s, const char *localpart);

/* Frees g and its strings; NULL is allowed. */
void group_cfg_free(group_cfg *g);

/* Inside a write transaction: creates the group with default config (public,
 * persistent, name = localpart) unless it exists. *created (may be NULL) says
 * which. Returns 0, or a negative LMDB or errno code (MDB_MAP_FULL: the store
 * reached its map size). */
int groups_ensure(MDB_txn *txn, const store *s, const char *localpart,
                  gboolean *created);

/* Inside a write transaction: writes g (keyed by g->localpart) as a record
 * of version GROUPS_RECORD_VERSION, replacing any record there; g is
 * borrowed. NULL name or description are written as "". Returns 0, -EINVAL
 * if a string is NULL where required or not UTF-8, or a negative LMDB or errno
 * code. */
int groups_put(MDB_txn *txn, const store *s, const group_cfg *g);

/* Reads one group; *out owned by the caller (group_cfg_free). Returns 0,
 * MDB_NOTFOUND, or MDB_CORRUPTED for a record this build cannot decode
 * (not a "(qa{sv})", or a record version newer than GROUPS_RECORD_VERSION).
 * Missing fields decode to defaults: name and description "", public FALSE
 * (a group is listed only if its record says so), persistent TRUE,
 * created 0. */
int groups_get(MDB_txn *txn, const store *s, const char *localpart,
               group_cfg **out);

/* Lists the public groups in localpart (byte) order. *out is a GPtrArray of
 * group_cfg* that owns its elements (free with g_ptr_array_unref). Records
 * this build cannot decode are left out: they are not known to be public.
 * Returns 0 or a negative LMDB or errno code (then *out is NULL). */
int groups_list_public(MDB_txn *txn, const store *s, GPtrArray **out);

/* The same for every group, public or not. */
int groups_list_all(MDB_txn *txn, const store *s, GPtrArray **out);

#endif
