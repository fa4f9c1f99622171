/* opt_registration: muc#roomconfig_registration: in a members-only room,
 * members must register a nick with the room (XEP-0045 §7.10) and use
 * it. */
#ifndef IMGROUPS_OPT_REGISTRATION_H
#define IMGROUPS_OPT_REGISTRATION_H

#include "options.h"

extern const room_option opt_registration;

/* Whether the rule is in force in g (the option set in a members-only
 * room): then a join needs opt_registration_check. */
gboolean opt_registration_applies(const group_cfg *g);

/* The rule for one join or nick change by a user with affiliation aff:
 * registered says whether they registered a nick with the room, own
 * whether the nick asked for is that one. XERR_NONE, or
 * XERR_NOT_ACCEPTABLE with *why (static text). */
enum xerr opt_registration_check(const group_cfg *g, enum affiliation aff,
                                 gboolean registered, gboolean own,
                                 const char **why);

#endif
