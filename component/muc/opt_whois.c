/* opt_whois: muc#roomconfig_whois: who sees real JIDs (moderators: a
 * semi-anonymous room; anyone: non-anonymous). */
#include "opt_whois.h"

#include <stddef.h>

static const char *const choices[] = {"moderators", "anyone", NULL};

static const char *feature(const group_cfg *g)
{
    return g->whois_anyone ? "muc_nonanonymous" : "muc_semianonymous";
}

static gboolean jids_public(const group_cfg *g)
{
    return g->whois_anyone;
}

/* XEP-0045 §10.2.1: 172 "the room is now non-anonymous", 173 "now
 * semi-anonymous". */
static int status(const group_cfg *was, const group_cfg *now)
{
    if (was->whois_anyone == now->whois_anyone)
        return 0;
    return now->whois_anyone ? 172 : 173;
}

const room_option opt_whois = {
    .var = "muc#roomconfig_whois",
    .label = "Who may see real addresses",
    .kind = OPTION_WHOIS,
    .offset = offsetof(group_cfg, whois_anyone),
    .choices = choices,
    .feature = feature,
    .jids_public = jids_public,
    .status = status,
};
