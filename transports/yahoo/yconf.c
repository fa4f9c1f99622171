/* yconf: conference packets from the server, read (yconf.h). */
#include "yconf.h"

#include <string.h>

/* Status values of a CONFINVITE that is not an invitation to us: 2 and 11
 * tell the inviter about the invitations it sent (libpurple's yahoochat.c
 * drops them too). */
#define ST_INVITE_ECHO  2u
#define ST_INVITE_OTHER 11u

/* Per service: the key naming who did it, the key listing members, the
 * key of the text (0: none). */
static const struct {
    guint16 service;
    int from_key, members_key, text_key;
} conf_keys[] = {
    {YMSG_CONFINVITE, 50, 53, 58}, {YMSG_CONFADDINVITE, 50, 53, 58},
    {YMSG_CONFLOGON, 53, 0, 0},    {YMSG_CONFDECLINE, 54, 0, 14},
    {YMSG_CONFLOGOFF, 56, 0, 0},   {YMSG_CONFMSG, 3, 0, 14},
};

static gboolean text_ok(const char *s, gsize max)
{
    gsize len = s ? strnlen(s, max + 1) : 0;

    if (len == 0 || len > max || !g_utf8_validate(s, (gssize)len, NULL))
        return FALSE;
    for (gsize i = 0; i < len; i++)
        if ((guchar)s[i] < 0x20 || s[i] == 0x7F)
            return FALSE;
    return TRUE;
}

gboolean yconf_room_ok(const char *s)
{
    return text_ok(s, YCONF_ROOM_MAX);
}

static gboolean listed(GPtrArray *a, const char *id)
{
    for (guint i = 0; i < a->len; i++)
        if (g_ascii_strcasecmp(g_ptr_array_index(a, i), id) == 0)
            return TRUE;
    return FALSE;
}

int yconf_read(const ymsg_pkt *pkt, yconf_msg *msg)
{
    gsize k;

    memset(msg, 0, sizeof *msg);
    for (k = 0; k < G_N_ELEMENTS(conf_keys); k++)
        if (conf_keys[k].service == pkt->service)
            break;
    if (k == G_N_ELEMENTS(conf_keys))
        return -1;
    if ((pkt->service == YMSG_CONFINVITE ||
         pkt->service == YMSG_CONFADDINVITE) &&
        (pkt->status == ST_INVITE_ECHO || pkt->status == ST_INVITE_OTHER))
        return -1;
    msg->service = pkt->service;
    msg->room = ymsg_pkt_get(pkt, 57);
    msg->from = ymsg_pkt_get(pkt, conf_keys[k].from_key);
    if (conf_keys[k].text_key)
        msg->text = ymsg_pkt_get(pkt, conf_keys[k].text_key);
    if (!yconf_room_ok(msg->room) || !text_ok(msg->from, YCONF_ID_MAX)) {
        memset(msg, 0, sizeof *msg);
        return -1;
    }
    msg->members = g_ptr_array_new();
    for (guint i = 0; conf_keys[k].members_key && i < pkt->pairs->len; i++) {
        const ymsg_pair *p = ymsg_pkt_pair(pkt, i);

        if (msg->members->len >= YCONF_MEMBERS_MAX)
            break;
        if (p->key != conf_keys[k].members_key ||
            !text_ok(p->value, YCONF_ID_MAX) ||
            g_ascii_strcasecmp(p->value, msg->from) == 0 ||
            listed(msg->members, p->value))
            continue;
        g_ptr_array_add(msg->members, p->value);
    }
    return 0;
}

void yconf_msg_clear(yconf_msg *msg)
{
    if (msg->members)
        g_ptr_array_unref(msg->members);
    memset(msg, 0, sizeof *msg);
}
