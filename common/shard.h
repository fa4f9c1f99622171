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

/* The node of a probe JID for shard among shards on domain: the first
 * "shard-probe-<i>" (i = 0, 1, ...) whose shard_of_parts is shard, written
 * to buf (len bytes, NUL-terminated). ejabberd routes what an instance
 * sends to that JID back to whichever connection holds the shard's slot
 * (docs/cluster.md, "Which connection holds which slot"). Returns 0, or -1
 * if shard is not below shards, buf is too small, or no name was found
 * among the first 64 * shards (a chance of about e^-64). */
int shard_probe_node(unsigned shard, unsigned shards, const char *domain,
                     char *buf, size_t len);

#endif
