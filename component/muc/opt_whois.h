/* opt_whois: muc#roomconfig_whois: who sees real JIDs (moderators: a
 * semi-anonymous room; anyone: non-anonymous). */
#ifndef IMGROUPS_OPT_WHOIS_H
#define IMGROUPS_OPT_WHOIS_H

#include "options.h"

extern const room_option opt_whois;

#endif
