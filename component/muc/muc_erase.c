/* muc_erase: an erased person's occupants leave every room; the engine's
 * store for the erasure that follows (muc_erase.h). */
#include "muc_erase.h"

#include "log.h"
#include "muc_int.h"
#include "presence.h"

store *muc_erase_store(muc *m)
{
    return m->st;
}

guint muc_erase_occupant(muc *m, uplink *up, const char *bare,
                         const char *reason)
{
    GHashTableIter it;
    gpointer value;
    guint left = 0;

    g_hash_table_iter_init(&it, m->rooms);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        room *r = value;
        GHashTableIter oi;
        gpointer ov;
        occ *found = NULL;

        g_hash_table_iter_init(&oi, r->by_nick);
        while (!found && g_hash_table_iter_next(&oi, NULL, &ov))
            if (!g_strcmp0(((occ *)ov)->bare, bare))
                found = ov;
        if (!found)
            continue;
        /* muc_remove frees the occupant and changes by_nick, never the
         * rooms table. */
        muc_remove(m, up, r, found, 307, NULL, reason);
        left++;
    }
    if (left)
        log_info(LOG_ROUTER, "an erased person left %u rooms", left);
    return left;
}
