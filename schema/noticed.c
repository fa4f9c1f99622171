/* noticed: "(qx)" records keyed by bare JID: when the first-contact notice
 * was given. */
#include "noticed.h"

#include <errno.h>
#include <string.h>

#define NOTICED_TYPE G_VARIANT_TYPE("(qx)")

static int check(const char *bare)
{
    if (!bare || !*bare)
        return -EINVAL;
    return store_key_part_check(bare, STORE_JID_MAX);
}

int noticed_get(MDB_txn *txn, const store *s, const char *bare, gint64 *when)
{
    GVariant *v = NULL;
    guint16 version;
    int rc = check(bare);

    *when = 0;
    if (rc != 0)
        return rc;
    rc = store_get_variant(txn, store_dbi(s, STORE_DB_NOTICED), bare,
                           strlen(bare), NOTICED_TYPE, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    g_variant_get(v, "(qx)", &version, when);
    g_variant_unref(v);
    if (version == 0 || version > NOTICED_RECORD_VERSION) {
        *when = 0;
        return MDB_CORRUPTED;
    }
    return 0;
}

int noticed_put(MDB_txn *txn, const store *s, const char *bare, gint64 when)
{
    int rc = check(bare);

    if (rc != 0)
        return rc;
    return store_put_variant(
        txn, store_dbi(s, STORE_DB_NOTICED), bare, strlen(bare),
        g_variant_new("(qx)", (guint16)NOTICED_RECORD_VERSION, when));
}

int noticed_forget(MDB_txn *txn, const store *s, const char *bare)
{
    MDB_val k;
    int rc = check(bare);

    if (rc != 0)
        return rc;
    k = (MDB_val){strlen(bare), (void *)bare};
    rc = store_rc(mdb_del(txn, store_dbi(s, STORE_DB_NOTICED), &k, NULL));
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The time a record holds, or MDB_CORRUPTED. */
static int when_of(const MDB_val *val, gint64 *when)
{
    GVariant *v = NULL;
    guint16 version;
    int rc = store_decode_variant(val, NOTICED_TYPE, &v);

    if (rc != 0)
        return rc;
    g_variant_get(v, "(qx)", &version, when);
    g_variant_unref(v);
    return version == 0 || version > NOTICED_RECORD_VERSION ? MDB_CORRUPTED
                                                            : 0;
}

int noticed_merge(MDB_txn *txn, const store *s, const MDB_val *key,
                  const MDB_val *val)
{
    MDB_dbi dbi = store_dbi(s, STORE_DB_NOTICED);
    MDB_val k = *key, here;
    gint64 theirs, ours;
    int rc = when_of(val, &theirs);

    if (rc != 0)
        return rc;
    if (key->mv_size == 0 || key->mv_size > STORE_JID_MAX)
        return STORE_KEY_TOO_LONG;
    rc = mdb_get(txn, dbi, &k, &here);
    if (rc == 0 && when_of(&here, &ours) == 0 && ours <= theirs)
        return 0;
    if (rc != 0 && rc != MDB_NOTFOUND)
        return store_rc(rc);
    here = *val;
    return store_rc(mdb_put(txn, dbi, &k, &here, 0));
}
