/* pingpong: the confirmer for libpurple's IRC plugin: one "PING
 * :imgroups-N" queued behind the lines of each burst of messages (what
 * the plugin writes in one go), whose PONG settles them all; lines the
 * server refused (401, 403, 404) make exactly their messages fail. */
#ifndef IMGROUPS_PINGPONG_H
#define IMGROUPS_PINGPONG_H

#include "delivery.h"

extern const delivery_confirmer pingpong_confirmer;

#endif
