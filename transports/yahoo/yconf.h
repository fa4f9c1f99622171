/* yconf: YMSG conferences (multi-user chats) as the server sends them:
 * which packet says who did what in which room. Pure: no libpurple, no
 * I/O. The plugin builds what it sends itself (yahoo.c). */
#ifndef IMGROUPS_YCONF_H
#define IMGROUPS_YCONF_H

#include <glib.h>

#include "ymsg.h"

/* A room name longer than this (bytes) is refused where it enters. */
#define YCONF_ROOM_MAX 128
/* Ids kept from one packet's member list; more are ignored. */
#define YCONF_MEMBERS_MAX 100
/* A Yahoo id longer than this (bytes) is not one. */
#define YCONF_ID_MAX 96

/* One conference packet from the server, read. Every pointer is borrowed
 * from the packet and lives as long as it does. */
typedef struct {
    guint16 service;    /* YMSG_CONF* */
    const char *room;   /* key 57 */
    const char *from;   /* who invited, joined, declined, left or spoke */
    const char *text;   /* the invitation's or the message's text, or NULL */
    GPtrArray *members; /* const char *: ids listed as in the room */
} yconf_msg;

/* Reads pkt, a server packet of a conference service. Returns 0 with *msg
 * filled (clear it with yconf_msg_clear()), or -1 when pkt is not one
 * (another service, an invitation about someone else: status 2 or 11)
 * or is malformed: no room, an empty or too long room or id, an id or a
 * room that is not UTF-8. Members that are not ids are skipped, the
 * sender and repeats too; at most YCONF_MEMBERS_MAX are kept. */
int yconf_read(const ymsg_pkt *pkt, yconf_msg *msg);
void yconf_msg_clear(yconf_msg *msg);

/* TRUE when s is a usable room name (non-empty, UTF-8, no control
 * character, at most YCONF_ROOM_MAX bytes). */
gboolean yconf_room_ok(const char *s);

#endif
