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

/* A page's last step: the cursor closed, the page (read backward when
 * backward) put in key order into *out when rc is 0, else freed. */
static int page_end(MDB_cursor *cur, int rc, gboolean backward, GPtrArray *page,
                    GPtrArray **out)
{
    if (cur)
        mdb_cursor_close(cur);
    if (rc != 0) {
        g_ptr_array_unref(page);
        return store_rc(rc);
    }
    for (guint i = 0; backward && i < page->len / 2; i++) {
        gpointer t = page->pdata[i];
        page->pdata[i] = page->pdata[page->len - 1 - i];
        page->pdata[page->len - 1 - i] = t;
    }
    *out = page;
    return 0;
}

/* Reads a page from the cursor: step first (MDB_GET_CURRENT to include
 * where it stands), then on in the page's direction, max keys at most;
 * then page_end. */
static int page_read(MDB_cursor *cur, MDB_cursor_op step, guint max,
                     gboolean backward, GPtrArray *page, GPtrArray **out)
{
    MDB_val k, d;
    int rc = 0;

    while (page->len < max) {
        rc = mdb_cursor_get(cur, &k, &d, step);
        if (rc != 0)
            break;
        g_ptr_array_add(page, g_strndup(k.mv_data, k.mv_size));
        step = backward ? MDB_PREV : MDB_NEXT;
    }
    if (rc == MDB_NOTFOUND)
        rc = 0; /* the end of the list */
    return page_end(cur, rc, backward, page, out);
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
    if (rc == 0)
        return page_read(cur, step, max, before != NULL, page, out);
    /* MDB_NOTFOUND: after or before is not listed */
leave:
    return page_end(cur, rc, before != NULL, page, out);
}

/* key compared with s as LMDB's default order compares two keys. */
static int key_cmp(const MDB_val *key, const char *s)
{
    size_t n = strlen(s), m = key->mv_size < n ? key->mv_size : n;
    int c = memcmp(key->mv_data, s, m);

    return c ? c : (key->mv_size > n) - (key->mv_size < n);
}

int directory_page_near(MDB_txn *txn, const store *s, const char *after,
                        const char *before, guint max, GPtrArray **out)
{
    const char *from = before ? before : after;
    GPtrArray *page = g_ptr_array_new_with_free_func(g_free);
    MDB_cursor *cur = NULL;
    MDB_cursor_op step;
    MDB_val k, d;
    int rc;

    *out = NULL;
    if (from && (before ? *before : TRUE) &&
        (!*from || strlen(from) > STORE_GROUP_MAX)) {
        rc = -EINVAL;
        goto leave;
    }
    rc = mdb_cursor_open(txn, store_dbi(s, STORE_DB_DIRECTORY), &cur);
    if (rc != 0)
        goto leave;
    if (!from || !*from) {
        rc = mdb_cursor_get(cur, &k, &d, before ? MDB_LAST : MDB_FIRST);
        step = MDB_GET_CURRENT;
    } else {
        /* The first listed key at or past from: the page starts there
         * going forward (past it, if it is from itself), just before it
         * going backward; none past it: backward, the page ends at the
         * last. */
        k = (MDB_val){strlen(from), (void *)from};
        rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
        if (before) {
            step = rc == 0 ? MDB_PREV : MDB_GET_CURRENT;
            if (rc == MDB_NOTFOUND)
                rc = mdb_cursor_get(cur, &k, &d, MDB_LAST);
        } else {
            step =
                rc == 0 && key_cmp(&k, from) == 0 ? MDB_NEXT : MDB_GET_CURRENT;
        }
    }
    if (rc == 0)
        return page_read(cur, step, max, before != NULL, page, out);
    if (rc == MDB_NOTFOUND)
        rc = 0; /* nothing listed past the cursor: an empty page */
leave:
    return page_end(cur, rc, before != NULL, page, out);
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
