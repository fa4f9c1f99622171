/* directory: the "directory" database, the public groups' localparts as keys
 * with empty values; listing, counting and paging them. */
#include <errno.h>
#include <string.h>

#include "directory.h"
#include "groups.h"

int directory_set(MDB_txn *txn, const store *s, const char *localpart,
                  gboolean listed)
{
    MDB_val k = {strlen(localpart), (void *)localpart}, d = {0, ""};
    MDB_dbi dbi = store_dbi(s, STORE_DB_DIRECTORY);
    int rc;

    if (k.mv_size > STORE_GROUP_MAX)
        return STORE_KEY_TOO_LONG;
    if (k.mv_size == 0)
        return -EINVAL;
    if (listed)
        return store_rc(mdb_put(txn, dbi, &k, &d, 0));
    rc = store_rc(mdb_del(txn, dbi, &k, NULL));
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int directory_count(MDB_txn *txn, const store *s, guint *out)
{
    MDB_stat stat;
    int rc = mdb_stat(txn, store_dbi(s, STORE_DB_DIRECTORY), &stat);

    *out = 0;
    if (rc != 0)
        return store_rc(rc);
    *out = stat.ms_entries > G_MAXUINT ? G_MAXUINT : (guint)stat.ms_entries;
    return 0;
}

/* Puts the cursor on key, which must be listed: 0 or MDB_NOTFOUND. */
static int cursor_on(MDB_cursor *cur, const char *key)
{
    MDB_val k = {strlen(key), (void *)key}, d;

    if (k.mv_size == 0 || k.mv_size > STORE_GROUP_MAX)
        return MDB_NOTFOUND;
    return mdb_cursor_get(cur, &k, &d, MDB_SET_KEY);
}

int directory_page(MDB_txn *txn, const store *s, const char *after,
                   const char *before, guint max, GPtrArray **out)
{
    GPtrArray *page = g_ptr_array_new_with_free_func(g_free);
    MDB_cursor *cur = NULL;
    MDB_cursor_op step = before ? MDB_PREV : MDB_NEXT;
    MDB_val k, d;
    int rc;

    *out = NULL;
    rc = mdb_cursor_open(txn, store_dbi(s, STORE_DB_DIRECTORY), &cur);
    if (rc != 0)
        goto leave;
    /* The record the page starts from; the page itself starts at the one
     * after it (before it, going backward), or at the first (last). */
    if (before && *before)
        rc = cursor_on(cur, before);
    else if (!before && after)
        rc = cursor_on(cur, after);
    else {
        rc = mdb_cursor_get(cur, &k, &d, before ? MDB_LAST : MDB_FIRST);
        if (rc == MDB_NOTFOUND) {
            rc = 0; /* nothing listed: an empty page */
            goto leave;
        }
        step = MDB_GET_CURRENT;
    }
    if (rc != 0)
        goto leave; /* MDB_NOTFOUND: after or before is not listed */
    while (page->len < max) {
        rc = mdb_cursor_get(cur, &k, &d, step);
        if (rc != 0)
            break;
        g_ptr_array_add(page, g_strndup(k.mv_data, k.mv_size));
        step = before ? MDB_PREV : MDB_NEXT;
    }
    if (rc == MDB_NOTFOUND)
        rc = 0; /* the end of the list */
    if (rc == 0 && before) {
        /* Read backward; a page is always in key order. */
        for (guint i = 0; i < page->len / 2; i++) {
            gpointer t = page->pdata[i];
            page->pdata[i] = page->pdata[page->len - 1 - i];
            page->pdata[page->len - 1 - i] = t;
        }
    }
leave:
    if (cur)
        mdb_cursor_close(cur);
    if (rc != 0) {
        g_ptr_array_unref(page);
        return store_rc(rc);
    }
    *out = page;
    return 0;
}

int directory_rebuild(MDB_txn *txn, store *s)
{
    GPtrArray *groups = NULL;
    int rc = store_rc(mdb_drop(txn, store_dbi(s, STORE_DB_DIRECTORY), 0));

    if (rc == 0)
        rc = groups_list_public(txn, s, &groups);
    for (guint i = 0; rc == 0 && i < groups->len; i++) {
        const group_cfg *g = g_ptr_array_index(groups, i);
        rc = directory_set(txn, s, g->localpart, TRUE);
    }
    if (groups)
        g_ptr_array_unref(groups);
    return rc;
}
