/* reshard: imgroups --reshard, the offline move of the groups whose owner
 * changes when a cluster goes from M shards to N (issue 14 item 4,
 * docs/cluster.md "Adding a shard"): M old stores read, N new ones
 * written, every record of a group in exactly its new owner. */
#ifndef IMGROUPS_RESHARD_H
#define IMGROUPS_RESHARD_H

#include <stdio.h>

#include <glib.h>

#include "config.h"

/* GError domain of reshard's refusals and failures; messages name the
 * store. */
#define RESHARD_ERROR (reshard_error_quark())
GQuark reshard_error_quark(void);

/* The most shards a reshard writes (and reads). */
#define RESHARD_SHARDS_MAX 64

/* What a reshard is given: the component's domain (shard_of's domain,
 * [component] jid), the old stores, in shard order (old[k] is shard k's
 * store; their number is the old N), and the new stores (new_paths[k]
 * will be shard k's; their number is the new N). Every string borrowed. */
typedef struct reshard_plan {
    const char *domain;
    const char *const *old_paths;
    guint from;
    const char *const *new_paths;
    guint to;
    size_t map_size; /* [storage] map_size of the new stores (0: default) */
} reshard_plan;

/* Writes the new stores of plan: every old store's imgroups.lock is held
 * throughout (a running instance's store is refused: -EBUSY), each new
 * path must be missing or an empty directory (-EEXIST otherwise) and is
 * built in a sibling "<path>.reshard-tmp", renamed into place only after
 * every new store was written and checked, so that a failure leaves no new
 * store at all. Old stores are opened read only and never written.
 *
 * What moves: every record whose key names a group (groups, directory,
 * avatars, affiliations, owned, archive, archive_gaps, nicks,
 * member_index) goes to shard_of(group, to); every record keyed by a bot
 * account (accounts, secrets, members, outbox) goes with its account's
 * group, and so does the account's worker folder purple/<account>/. A
 * record is taken only from the store that owns its group under the old N
 * (a record of a group elsewhere, such as a configured group every
 * instance created, is left behind and counted). Merged into every new
 * store: noticed (the earliest notice kept), the outbox id and slot marks
 * (the highest), meta records other than the store's own (from old[0]);
 * photos: the images the store's members name, counted again.
 *
 * Checked before the rename: for every database and every group (or
 * account) the records in the new stores are those taken from the old
 * ones, byte for byte (a count and a SHA-256 each), and each is in its
 * owner. What moved is printed to out (groups per shard before and
 * after). Returns 0, or negative with *err set. */
int reshard_run(const reshard_plan *plan, FILE *out, GError **err);

/* The command line's --reshard --to N: paths are cfg's [cluster] shards
 * old stores in shard order, then the N new ones; the domain and the map
 * size are cfg's. Reports on stdout, refusals on stderr. Returns 0,
 * -EINVAL for a bad usage, or negative when refused or failed. */
int reshard_cli(const config *cfg, int to, char *const *paths, int npaths);

#endif
