/* register: registered nicks (XEP-0045 §7.10, §7.12): the registration
 * form and its submission (jabber:iq:register to the room), the
 * x-roomuser-item disco node, and the join rule that keeps a registered
 * nick for its owner. Stored in the nicks database (schema/nicks.md). */
#ifndef IMGROUPS_REGISTER_H
#define IMGROUPS_REGISTER_H

#include "iq.h"
#include "muc.h"
#include "room.h"
#include "xerr.h"

#define NS_REGISTER   "jabber:iq:register"
#define FORM_REGISTER "http://jabber.org/protocol/muc#register"
/* XEP-0045 §7.12: the disco node that tells a user their reserved nick. */
#define REGISTER_NODE "x-roomuser-item"
/* Registrations one group holds at most (one per user): a client cannot
 * grow a group's records without bound. */
#define REGISTER_NICKS_MAX 4096

/* iq get jabber:iq:register to the room (a room iq_fn, q->data a
 * muc_call): the form, or <registered/> with the asker's nick. */
enum xerr register_get(const iq_req *q, iq_res *res);

/* iq set jabber:iq:register to the room: the submitted form registers
 * (or changes) the asker's nick; <remove/> drops it. */
enum xerr register_set(const iq_req *q, iq_res *res);

/* disco#info to the room with node x-roomuser-item (XEP-0045 §7.12): the
 * identity carrying the asker's registered nick, or none. */
enum xerr register_roomuser_item(const iq_req *q, iq_res *res);

/* Whether bare (folded) may join r, or change nick, as nick (prepared,
 * nick_prepare); o is bare's occupant in r, or NULL for a join. Returns
 * XERR_NONE; XERR_CONFLICT when someone else registered nick (XEP-0045
 * §7.10); or what the room's registration option says (a reserved nick
 * that must be used: XERR_NOT_ACCEPTABLE), with *why (static text). One
 * read of the store. */
enum xerr register_join_check(muc *m, const room *r, const occ *o,
                              const char *bare, const char *nick,
                              const char **why);

/* Whether nick (prepared) is registered with r by anyone but bare: the
 * legacy side's rule (muc_legacy.c: a legacy member holds no
 * registration and takes another nick). A store error counts as taken. */
gboolean register_taken(muc *m, const room *r, const char *bare,
                        const char *nick);

#endif
