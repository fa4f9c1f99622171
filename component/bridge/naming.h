/* naming: what legacy people are called in a room: the default nick from
 * an alias or a handle, and a unique one when it is taken. */
#ifndef IMGROUPS_NAMING_H
#define IMGROUPS_NAMING_H

#include "bridge_int.h"

/* The network's name for nick suffixes: prpl-irc -> irc (static or
 * borrowed from protocol). */
const char *naming_network(const char *protocol);
/* What a member is called by default: their alias, else their handle
 * without a domain part; control characters become spaces, at most
 * NAMING_NICK_MAX_CHARS characters, cleaned as every nick (nick.h), never
 * empty. Newly allocated. */
#define NAMING_NICK_MAX_CHARS 48
char *naming_base(const char *alias, const char *handle);
/* Is nick free for bare in the group? */
typedef gboolean (*naming_free_fn)(const char *nick, void *userdata);
/* base, or base with a suffix naming the network when taken ("base (irc)",
 * "base (irc 2)" ... "base (irc 99)", then a random one). Newly
 * allocated. */
char *naming_unique(const char *base, const char *network,
                    naming_free_fn is_free, void *userdata);
/* naming_unique against a's group for bare. */
char *naming_unique_in(bridge *b, const bacct *a, const char *base,
                       const char *bare);

#endif
