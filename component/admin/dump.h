/* dump: every database of the store printed for the people who run
 * imgroups (--dump), from one read snapshot beside the running core:
 * records decoded through the schema's types, the secrets masked. */
#ifndef IMGROUPS_DUMP_H
#define IMGROUPS_DUMP_H

#include <stdio.h>

#include <glib.h>

/* Prints every database of the store at store_path to out, from one read
 * snapshot (safe beside a running imgroups): a header per database,
 * "[name] N records" ("[name] absent" in a store of an older schema), then
 * one line per record, "KEY = VALUE": the key's parts as a tuple of
 * strings (a sequence number as #N, bytes that are not UTF-8 as x'hex'),
 * the value as GVariant text decoded with its database's type
 * (schema/README.md), "empty" for an index entry, hex:... when it does not
 * decode. Masked as '***': account passwords, room passwords and the
 * occupant-id salt. map_size is [storage] map_size (0: the default).
 * Returns 0, or negative with *err set (BACKUP_ERROR). */
int dump_store(const char *store_path, size_t map_size, FILE *out,
               GError **err);

#endif
