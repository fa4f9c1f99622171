/* shard: which of N imgroups instances owns a bare JID, computed exactly as
 * ejabberd 23.01's domain_balancing (type bare_destination, component_number
 * N) picks the component connection for it (docs/cluster.md). */
#ifndef IMGROUPS_SHARD_H
#define IMGROUPS_SHARD_H

#include <stddef.h>
#include <stdint.h>

/* erlang:phash2({Local, Domain, <<>>}, 2^32): the 32-bit hash Erlang/OTP's
 * make_hash2 gives the tuple of three binaries that ejabberd's
 * jid:remove_resource(jid:tolower(To)) makes of a stanza's "to". local and
 * domain are bytes (no terminator needed); local_len 0 for a domain JID. */
uint32_t shard_hash(const char *local, size_t local_len, const char *domain,
                    size_t domain_len);

/* The shard, 0 .. shards-1, that ejabberd routes bare_jid to: the
 * connection in slot shard_of() + 1 (ejabberd's local_hint). bare_jid is
 * "local@domain" or "domain" as ejabberd prepares it (nodeprep, nameprep:
 * lower case for ASCII); a "/resource" is ignored, as bare_destination
 * ignores it. shards 0 is taken as 1. Pure: the same answer on every
 * instance, for the same shards. */
unsigned shard_of(const char *bare_jid, unsigned shards);

/* The same for a JID given as its parts: node (NULL for the domain JID)
 * and domain, both NUL-terminated and prepared as above. */
unsigned shard_of_parts(const char *node, const char *domain, unsigned shards);

#endif
