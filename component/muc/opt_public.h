/* opt_public: muc#roomconfig_publicroom: a public room is listed; a hidden one
 * keeps to itself (its subject is not shown to outsiders). */
#ifndef IMGROUPS_OPT_PUBLIC_H
#define IMGROUPS_OPT_PUBLIC_H

#include "options.h"

extern const room_option opt_public;

#endif
