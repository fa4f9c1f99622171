/* muc_erase: an erased person's occupants leave every room; the engine's
 * store for the erasure that follows (muc_erase.h). */
#include "muc_erase.h"

#include "log.h"
#include "muc_int.h"
#include "presence.h"

typedef struct unset_args {
    const room *r;
} unset_args;

static int unset_txn(MDB_txn *txn, const store *st, void *userdata)
{
    const unset_args *a = userdata;
    group_cfg g = *a->r->cfg;

    g.subject_nick = "";
    return groups_put(txn, st, &g);
}

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

int muc_erase_subject_nick(muc *m, GHashTable *nicks, guint *changed,
                           GError **err)
{
    GHashTableIter it;
    gpointer key, value;

    *changed = 0;
    g_hash_table_iter_init(&it, nicks);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        gboolean missing = FALSE;
        room *r = muc_room_lookup(m, key, &missing);
        unset_args a = {r};

        if (!r || !*r->cfg->subject_nick ||
            !g_hash_table_contains(value, r->cfg->subject_nick))
            continue;
        if (store_write(m->st, unset_txn, &a, err) < 0)
            return -1;
        g_free(r->cfg->subject_nick);
        r->cfg->subject_nick = g_strdup("");
        (*changed)++;
    }
    return 0;
}
