/* config_check: what --check-config checks beyond the file itself: the
 * accounts' protocols and option.* against the plugins the worker can load,
 * the storage path, and hints for the XMPP server's side of the link. */
#ifndef IMGROUPS_CONFIG_CHECK_H
#define IMGROUPS_CONFIG_CHECK_H

#include <glib.h>

#include "config.h"

/* Checks cfg (already loaded by config_load). Appends each problem (owned
 * strings, "FILE: [section] key: what is wrong") to problems and each hint
 * for the server side (owned strings, one line each) to hints. Runs the
 * worker (`imgroups-purple --list-protocols`) when cfg has accounts,
 * creates and removes a temporary entry in the storage path (or in the
 * nearest existing directory above it), and opens (and closes) a TCP
 * connection to the server's component port. Blocking: for the command
 * line only. Returns 0 if no problem was found, else -1. */
int config_check(const config *cfg, GPtrArray *problems, GPtrArray *hints);

/* With [cluster] shards > 1, which shard runs each account (the one that
 * owns its group, registry_group_shard): one owned line per account,
 * "account NAME serves group G@JID: shard K of N runs it" and " (this
 * instance)" for cfg's own shard, appended to lines. Nothing with one
 * shard. config_check adds them to its hints. */
void config_check_shards(const config *cfg, GPtrArray *lines);

/* The name of a network filesystem LMDB cannot lock on, from statfs's
 * f_type (NFS, SMB, CIFS, SMB2…); NULL for any other. */
const char *config_check_network_fs(unsigned long f_type);

#endif
