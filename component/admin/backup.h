/* backup: the store for the people who run imgroups: a consistent backup
 * taken while imgroups runs (the LMDB environment compacted, the workers'
 * purple/ folders, a manifest), its restore over a stopped store, a dump of
 * every database with the secrets masked, and the hold a running core keeps
 * on its store so that a restore cannot run under it. */
#ifndef IMGROUPS_BACKUP_H
#define IMGROUPS_BACKUP_H

#include <stdio.h>

#include <glib.h>

#include "config.h"

/* The manifest in a backup directory, written last: a directory without
 * it is an unfinished backup, and is refused by backup_restore. */
#define BACKUP_MANIFEST "MANIFEST"
/* Its first line; the number is the manifest format. */
#define BACKUP_MAGIC "imgroups-backup 1"
/* The file a running core holds locked, in the store directory. */
#define BACKUP_LOCK_FILE "imgroups.lock"

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

/* Prints every database of the store at store_path to out, from one read
 * snapshot (safe beside a running imgroups): a header per database with
 * its record count, then one line per record, "KEY = VALUE": the key's
 * parts as a tuple of strings (a sequence number as #N), the value as
 * GVariant text decoded with its database's type (schema/README.md), hex
 * when it does not decode. Account passwords and room passwords are shown
 * as '***'. Returns 0, or negative with *err set. */
int backup_dump(const char *store_path, size_t map_size, FILE *out,
                GError **err);

/* The command line's --backup DIR, --restore DIR or --dump (exactly one
 * is given; the others NULL or FALSE) on cfg's store, reporting on stdout
 * and stderr. Returns 0, or negative when it failed or was refused. */
int backup_run(const config *cfg, const char *backup_dir,
               const char *restore_dir, gboolean dump);

#endif
