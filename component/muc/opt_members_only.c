/* opt_members_only: muc#roomconfig_membersonly: only members (and admins and
 * owners) may be in the room; switching it on sends the others out with
 * status 322; the bridge asks it whether a legacy member may enter. */
#include "opt_members_only.h"

#include <stddef.h>

#include "presence.h"

static const char *feature(const group_cfg *g)
{
    return g->members_only ? "muc_membersonly" : "muc_open";
}

static enum xerr admit(const group_cfg *g, enum affiliation aff,
                       const char **why)
{
    /* XEP-0045 §7.2.6: "If the room is members-only but the user is not on
     * the member list, the service MUST deny access to the room and inform
     * the user that they are not allowed to enter the room; this is done by
     * returning a presence stanza of type "error" specifying a
     * <registration-required/> error condition." */
    if (g->members_only && aff != AFF_OWNER && aff != AFF_ADMIN &&
        aff != AFF_MEMBER) {
        *why = "this group is for its members only";
        return XERR_REGISTRATION_REQUIRED;
    }
    return XERR_NONE;
}

static gboolean hides(const group_cfg *g)
{
    return g->members_only;
}

/* XEP-0045 §10.2: "If as a result of a change in the room configuration
 * the room type is changed to members-only but there are non-members in
 * the room, the service MUST remove any non-members from the room and
 * include a status code of 322 in the presence unavailable stanzas sent to
 * those users as well as any remaining occupants." */
static void changed(const options_change *c)
{
    GPtrArray *out;
    GHashTableIter it;
    gpointer value;
    const char *why = NULL;

    if (!c->r->cfg->members_only || c->was->members_only)
        return;
    out = g_ptr_array_new();
    g_hash_table_iter_init(&it, c->r->by_nick);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        occ *o = value;
        if (admit(c->r->cfg, o->aff, &why) != XERR_NONE)
            g_ptr_array_add(out, o);
    }
    for (guint i = 0; i < out->len; i++)
        muc_remove(c->m, c->up, c->r, g_ptr_array_index(out, i), 322, NULL,
                   NULL);
    g_ptr_array_unref(out);
}

/* In a members-only room only owners and admins invite (XEP-0045 §9.3
 * lets them make members), and their invitation makes the invitee a
 * member, so that it can be used. */
static enum xerr may_invite(const group_cfg *g, enum affiliation aff,
                            const char **why)
{
    if (g->members_only && aff != AFF_OWNER && aff != AFF_ADMIN) {
        *why = "only owners and admins invite to this group";
        return XERR_FORBIDDEN;
    }
    return XERR_NONE;
}

static gboolean invite_adds_member(const group_cfg *g)
{
    return g->members_only;
}

const room_option opt_members_only = {
    .var = "muc#roomconfig_membersonly",
    .label = "Members only",
    .kind = OPTION_BOOL,
    .offset = offsetof(group_cfg, members_only),
    .feature = feature,
    .admit = admit,
    .hides = hides,
    .changed = changed,
    .may_invite = may_invite,
    .invite_adds_member = invite_adds_member,
};
