/* pingpong: the confirmer for libpurple's IRC plugin: a "PING
 * :imgroups-ID" queued behind each message's lines, settled by its PONG;
 * lines the server refused (401, 403, 404) make their message fail. */
#ifndef IMGROUPS_PINGPONG_H
#define IMGROUPS_PINGPONG_H

#include "delivery.h"

extern const delivery_confirmer pingpong_confirmer;

#endif
