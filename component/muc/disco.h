/* disco: a room's XEP-0030 answers. */
#ifndef IMGROUPS_DISCO_H
#define IMGROUPS_DISCO_H

#include "muc_int.h"

/* iq_fns (iq.h) on a room (q->data a muc_call). disco#info: identity,
 * features, the muc#roominfo form (XEP-0045 §6.4); disco#items: the
 * occupants' nicks, to occupants only (XEP-0045 §6.5). */
enum xerr disco_info(const iq_req *q, iq_res *res);
enum xerr disco_items(const iq_req *q, iq_res *res);

#endif
