/* opt_password: muc#roomconfig_roomsecret: a password-protected room lets in
 * only who gives the password (owners need none). */
#ifndef IMGROUPS_OPT_PASSWORD_H
#define IMGROUPS_OPT_PASSWORD_H

#include "options.h"

extern const room_option opt_password;

#endif
