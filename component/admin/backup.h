/* backup: the store for the people who run imgroups: a consistent backup
 * taken while imgroups runs (the LMDB environment compacted, the workers'
 * purple/ folders, a manifest), its restore over a stopped store, read
 * snapshots from outside the core (for dump.c), and the hold a running
 * core keeps on its store so that a restore cannot run under it. */
#ifndef IMGROUPS_BACKUP_H
#define IMGROUPS_BACKUP_H

#include <stdio.h>

#include <glib.h>
#include <lmdb.h>

#include "config.h"

/* GError domain of backup's and dump's errors; messages name the path. */
#define BACKUP_ERROR (backup_error_quark())
GQuark backup_error_quark(void);

/* The manifest in a backup directory, written last: a directory without
 * it is an unfinished backup, and is refused by backup_restore. */
#define BACKUP_MANIFEST "MANIFEST"
/* Its first line; the number is the manifest format. */
#define BACKUP_MAGIC "imgroups-backup 1"
/* The file a running core holds locked, in the store directory. */
#define BACKUP_LOCK_FILE "imgroups.lock"

/* A read snapshot of a store opened from outside the core: a second
 * process beside a running imgroups, as LMDB allows (its reader slot in
 * the shared lock.mdb; lock.mdb created if missing, given to the store's
 * owner when run as root), or with nolock a copy nobody else opens. A
 * directory without data.mdb is refused, never made a store. env and txn
 * are owned until backup_snapshot_close; schema is the version meta
 * records. */
typedef struct backup_snapshot {
    MDB_env *env;
    MDB_txn *txn;
    unsigned schema;
} backup_snapshot;

/* Opens the snapshot (map_size: [storage] map_size, 0 the default).
 * Returns 0, or negative with *err set and *out zeroed. */
int backup_snapshot_open(const char *path, size_t map_size, gboolean nolock,
                         backup_snapshot *out, GError **err);
/* Ends the read transaction and closes the environment; zeroes snap. */
void backup_snapshot_close(backup_snapshot *snap);

/* The running core's hold on its store directory. */
typedef struct backup_hold backup_hold;

/* Takes the hold on the store at path (the directory is created, mode
 * 0700, if missing): an exclusive flock on path/BACKUP_LOCK_FILE, kept
 * until backup_hold_free. Refused with -EBUSY while another imgroups or a
 * restore holds it; other failures are an errno value negated. *err says
 * why. *out is owned by the caller. */
int backup_hold_take(const char *path, backup_hold **out, GError **err);
/* Releases the hold and frees h (NULL is allowed). */
void backup_hold_free(backup_hold *h);

/* Writes a backup of the store at store_path into dir (created mode 0700;
 * an existing dir must be empty): data.mdb, a compacted copy of one read
 * snapshot of the environment, taken beside a running imgroups as LMDB
 * allows (a reader in the shared lock file); then the purple/ folders;
 * then BACKUP_MANIFEST (what, when, schema version, SHA-256 of each file).
 * jid names the service in the manifest. map_size is [storage] map_size
 * (0: the default). Returns 0, or negative with *err set. */
int backup_make(const char *store_path, size_t map_size, const char *jid,
                const char *dir, GError **err);

/* Puts the backup in dir in place of the store at store_path. Refused,
 * with nothing changed, when the manifest is missing or does not match the
 * files (size, SHA-256, the schema version recorded in the copy), when the
 * backup's schema is newer than this build's, when a running imgroups holds
 * the store (backup_hold_take) or any process has its LMDB environment open
 * (a lock on lock.mdb). What the store held before is moved, not deleted,
 * into store_path/pre-restore-<UTC time>/; its path is put in *aside (owned
 * by the caller; NULL when there was nothing). Returns 0, or negative with
 * *err set. */
int backup_restore(const char *dir, const char *store_path, char **aside,
                   GError **err);

/* The command line's --backup DIR, --restore DIR or --dump (exactly one
 * is given; the others NULL or FALSE) on cfg's store, reporting on stdout
 * and stderr. Returns 0, or negative when it failed or was refused. */
int backup_run(const config *cfg, const char *backup_dir,
               const char *restore_dir, gboolean dump);

/* Copies the folder rel below src into dst (made as needed, mode 0700),
 * regular files and folders only, as a backup copies purple/ (a missing
 * folder copies nothing). Returns 0, or negative with *err set. */
int backup_copy_folder(const char *src, const char *dst, const char *rel,
                       GError **err);

/* Removes path and everything below it (nothing when it is missing). */
void backup_remove_tree(const char *path);

#endif
