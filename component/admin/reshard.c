/* reshard: the offline move of groups between the stores of a cluster
 * whose number of shards changes (reshard.h, docs/cluster.md). */
#include "reshard.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "backup.h"
#include "config.h"
#include "nicks.h"
#include "noticed.h"
#include "outbox.h"
#include "photos.h"
#include "shard.h"
#include "store.h"

/* Where a new store is built before it is renamed into place. */
#define TMP_SUFFIX ".reshard-tmp"
/* The folder of the workers' libpurple user dirs (bridge/legacy.c). */
#define PURPLE_DIR "purple"
/* The meta records every store makes for itself (schema/meta.md). */
static const char *const own_meta[] = {"schema_version", "created"};

GQuark reshard_error_quark(void)
{
    return g_quark_from_static_string("imgroups-reshard-error-quark");
}

static int refuse(GError **err, int rc, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

/* Sets *err from fmt (unless already set) and returns rc (negative). */
static int refuse(GError **err, int rc, const char *fmt, ...)
{
    va_list ap;

    if (err && !*err) {
        va_start(ap, fmt);
        *err = g_error_new_valist(RESHARD_ERROR, 0, fmt, ap);
        va_end(ap);
    }
    return rc < 0 ? rc : -EIO;
}

/* ---- which group a record belongs to ----------------------------------- */

/* The key part a record is routed by; 1: a store-wide record (merged). */
typedef int (*route_fn)(const MDB_val *key, MDB_val *part);

static int whole_key(const MDB_val *key, MDB_val *part)
{
    *part = *key;
    return 0;
}

static int first_part(const MDB_val *key, MDB_val *part)
{
    store_key_part(key, FALSE, part);
    return 0;
}

static int last_part(const MDB_val *key, MDB_val *part)
{
    store_key_part(key, TRUE, part);
    return 0;
}

static int nicks_part(const MDB_val *key, MDB_val *part)
{
    nicks_key_group(key, part);
    return 0;
}

static int outbox_part(const MDB_val *key, MDB_val *part)
{
    if (outbox_key_is_mark(key))
        return 1;
    store_key_part(key, FALSE, part);
    return 0;
}

/* Every database whose records belong to one group, with the key part
 * that names it (schema/README.md's table and each database's page). The
 * ones keyed by a bot account go with the account's group. meta, noticed
 * and photos belong to no group: merged (fill_txn). */
static const struct route {
    enum store_db db;
    route_fn part;
    gboolean by_account;
} routes[] = {
    {STORE_DB_GROUPS, whole_key, FALSE},        /* group */
    {STORE_DB_DIRECTORY, whole_key, FALSE},     /* group */
    {STORE_DB_AVATARS, whole_key, FALSE},       /* group */
    {STORE_DB_AFFILIATIONS, first_part, FALSE}, /* group \0 jid */
    {STORE_DB_OWNED, last_part, FALSE},         /* jid \0 group */
    {STORE_DB_ARCHIVE, first_part, FALSE},      /* group \0 [seq] */
    {STORE_DB_ARCHIVE_GAPS, first_part, FALSE}, /* group \0 start */
    {STORE_DB_NICKS, nicks_part, FALSE}, /* group \0 nick; \0 jid \0 group */
    {STORE_DB_MEMBER_INDEX, first_part, FALSE}, /* group \0 account \0 handle */
    {STORE_DB_ACCOUNTS, whole_key, TRUE},       /* account */
    {STORE_DB_SECRETS, whole_key, TRUE},        /* account */
    {STORE_DB_MEMBERS, first_part, TRUE},       /* account \0 handle */
    {STORE_DB_OUTBOX, outbox_part, TRUE},       /* account \0 ...; marks */
};

/* The string under name in a "(qa{sv})" record (accounts, members and
 * outbox records all carry their "group"), owned; NULL when none. */
static char *record_string(const MDB_val *val, const char *name)
{
    GVariant *v = NULL, *dict;
    char *s;

    if (store_decode_variant(val, G_VARIANT_TYPE("(qa{sv})"), &v) != 0)
        return NULL;
    dict = g_variant_get_child_value(v, 1);
    s = store_dict_string(dict, name);
    g_variant_unref(dict);
    g_variant_unref(v);
    return s;
}

/* One store as the move sees it: a transaction, its databases (has[db]
 * FALSE: absent, read as empty) and each account's group. */
typedef struct side {
    MDB_txn *txn;
    MDB_dbi dbi[STORE_DB_COUNT];
    gboolean has[STORE_DB_COUNT];
    GHashTable *accts; /* account name -> group, both owned */
} side;

static int accts_one(const MDB_val *k, const MDB_val *v, void *userdata)
{
    char *group = record_string(v, "group");

    if (group && *group)
        g_hash_table_replace(userdata, g_strndup(k->mv_data, k->mv_size),
                             group);
    else
        g_free(group);
    return 0;
}

static int side_accounts(side *sd)
{
    sd->accts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    if (!sd->has[STORE_DB_ACCOUNTS])
        return 0;
    return store_walk(sd->txn, sd->dbi[STORE_DB_ACCOUNTS], NULL, 0, accts_one,
                      sd->accts);
}

static void side_clear(side *sd)
{
    if (sd->accts)
        g_hash_table_unref(sd->accts);
    sd->accts = NULL;
}

/* The group the record belongs to (owned), or NULL when it cannot be
 * told (an account-keyed record of an account whose record is gone and
 * whose value names no group). */
static char *record_group(const struct route *r, const side *sd,
                          const MDB_val *part, const MDB_val *val)
{
    char *name = g_strndup(part->mv_data, part->mv_size);
    const char *g;
    char *group;

    if (!r->by_account)
        group = name;
    else if ((g = g_hash_table_lookup(sd->accts, name))) {
        group = g_strdup(g);
        g_free(name);
    } else {
        /* An account removed from the file leaves its members and outbox,
         * which name their group themselves. */
        group = record_string(val, "group");
        g_free(name);
    }
    if (group && (!*group || strlen(group) > STORE_GROUP_MAX))
        g_clear_pointer(&group, g_free);
    return group;
}

/* ---- the stores -------------------------------------------------------- */

typedef struct old_store {
    const char *path;
    backup_hold *hold;
    backup_snapshot snap;
    side sd;
    guint groups, own_groups; /* groups records; those it owns */
    guint64 left;             /* records not taken: another's group */
} old_store;

typedef struct new_store {
    const char *path;
    char *tmp;
    backup_hold *hold;
    store *s;
    side sd;
    GHashTable *accounts; /* name -> 1 + the old shard it came from */
    GHashTable *photos;   /* hashes its members name (set) */
    guint64 moved[STORE_DB_COUNT];
    guint came; /* groups that were another shard's */
} new_store;

typedef struct reshard {
    const reshard_plan *plan;
    old_store *old;
    new_store *new;
    GHashTable *tally; /* "db:part" -> tally of the records taken */
} reshard;

/* ---- walking every routed record ---------------------------------------- */

typedef struct walk walk;
/* Called for each record with its group and its owners under the old and
 * the new number of shards; key and val borrowed. */
typedef int (*record_fn)(walk *w, const MDB_val *key, const MDB_val *val,
                         const MDB_val *part, guint was, guint will);

struct walk {
    reshard *rs;
    const struct route *r;
    const side *sd;
    guint self;     /* the old shard read, or G_MAXUINT for a new store */
    record_fn fn;   /* records of a group */
    record_fn mark; /* store-wide records (may be NULL) */
    void *data;
    guint64 left;
};

static int walk_one(const MDB_val *key, const MDB_val *val, void *userdata)
{
    walk *w = userdata;
    const reshard_plan *p = w->rs->plan;
    MDB_val part;
    char *group;
    guint was, will;
    int rc;

    if (w->r->part(key, &part) > 0)
        return w->mark ? w->mark(w, key, val, NULL, 0, 0) : 0;
    group = record_group(w->r, w->sd, &part, val);
    if (!group) {
        w->left++;
        return 0;
    }
    was = shard_of_parts(group, p->domain, p->from);
    will = shard_of_parts(group, p->domain, p->to);
    g_free(group);
    /* An old store gives only what it owns: a record of another's group
     * (a configured group every instance made) is not the group's. */
    if (w->self != G_MAXUINT && was != w->self) {
        w->left++;
        return 0;
    }
    rc = w->fn(w, key, val, &part, was, will);
    return rc;
}

/* Runs fn (and mark) over every routed record of sd. */
static int walk_side(reshard *rs, const side *sd, guint self, record_fn fn,
                     record_fn mark, void *data, guint64 *left)
{
    int rc = 0;

    for (gsize i = 0; i < G_N_ELEMENTS(routes) && rc == 0; i++) {
        walk w = {rs, &routes[i], sd, self, fn, mark, data, 0};
        if (!sd->has[routes[i].db])
            continue;
        rc = store_walk(sd->txn, sd->dbi[routes[i].db], NULL, 0, walk_one, &w);
        if (left)
            *left += w.left;
    }
    return rc;
}

/* ---- the check: a count and a SHA-256 per database and group ---------- */

typedef struct tally {
    guint64 n;
    GChecksum *sum;
} tally;

static void tally_free(gpointer p)
{
    tally *t = p;

    g_checksum_free(t->sum);
    g_free(t);
}

static GHashTable *tally_new(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, tally_free);
}

static int tally_one(walk *w, const MDB_val *key, const MDB_val *val,
                     const MDB_val *part, guint was, guint will)
{
    GHashTable *table = w->data;
    char *name = g_strdup_printf("%s:%.*s", store_db_name(w->r->db),
                                 (int)part->mv_size, (char *)part->mv_data);
    tally *t = g_hash_table_lookup(table, name);
    guint64 len[2] = {GUINT64_TO_LE(key->mv_size), GUINT64_TO_LE(val->mv_size)};

    (void)was;
    (void)will;
    if (!t) {
        t = g_new0(tally, 1);
        t->sum = g_checksum_new(G_CHECKSUM_SHA256);
        g_hash_table_insert(table, name, t);
    } else
        g_free(name);
    t->n++;
    g_checksum_update(t->sum, (const guchar *)&len[0], sizeof len[0]);
    g_checksum_update(t->sum, key->mv_data, key->mv_size);
    g_checksum_update(t->sum, (const guchar *)&len[1], sizeof len[1]);
    g_checksum_update(t->sum, val->mv_data, val->mv_size);
    return 0;
}

/* A new store holds only what its shard owns. */
static int owned_here(walk *w, const MDB_val *key, const MDB_val *val,
                      const MDB_val *part, guint was, guint will)
{
    guint t = GPOINTER_TO_UINT(w->data);

    (void)key;
    (void)val;
    (void)part;
    (void)was;
    return will == t ? 0 : -EPROTO;
}

/* ---- filling a new store ------------------------------------------------ */

typedef struct fill {
    reshard *rs;
    guint t; /* the new shard */
    MDB_txn *txn;
    const store *s;
    guint from; /* the old shard being read */
} fill;

static int fill_put(walk *w, const MDB_val *key, const MDB_val *val,
                    const MDB_val *part, guint was, guint will)
{
    fill *f = w->data;
    new_store *ns = &f->rs->new[f->t];
    MDB_val k = *key, v = *val;
    int rc;

    if (will != f->t)
        return 0;
    rc = store_rc(mdb_put(f->txn, store_dbi(f->s, w->r->db), &k, &v, 0));
    if (rc != 0)
        return rc;
    ns->moved[w->r->db]++;
    if (w->r->db == STORE_DB_GROUPS && was != will)
        ns->came++;
    if (w->r->db == STORE_DB_ACCOUNTS)
        g_hash_table_replace(ns->accounts,
                             g_strndup(part->mv_data, part->mv_size),
                             GUINT_TO_POINTER(f->from + 1));
    if (w->r->db == STORE_DB_MEMBERS) {
        char *photo = record_string(val, "photo");
        if (photo && photos_hash_valid(photo))
            g_hash_table_add(ns->photos, photo);
        else
            g_free(photo);
    }
    return 0;
}

static int fill_mark(walk *w, const MDB_val *key, const MDB_val *val,
                     const MDB_val *part, guint was, guint will)
{
    fill *f = w->data;

    (void)part;
    (void)was;
    (void)will;
    return outbox_mark_merge(f->txn, f->s, key, val);
}

static int noticed_one(const MDB_val *key, const MDB_val *val, void *userdata)
{
    fill *f = userdata;
    int rc = noticed_merge(f->txn, f->s, key, val);

    return rc == MDB_CORRUPTED ? 0 : rc; /* unreadable: not carried */
}

static gboolean is_own_meta(const MDB_val *key)
{
    for (gsize i = 0; i < G_N_ELEMENTS(own_meta); i++)
        if (key->mv_size == strlen(own_meta[i]) &&
            !memcmp(key->mv_data, own_meta[i], key->mv_size))
            return TRUE;
    return FALSE;
}

static int meta_one(const MDB_val *key, const MDB_val *val, void *userdata)
{
    fill *f = userdata;
    MDB_val k = *key, v = *val;

    if (is_own_meta(key))
        return 0;
    return store_rc(mdb_put(f->txn, store_dbi(f->s, STORE_DB_META), &k, &v, 0));
}

/* The images the new store's members name, from whichever old store has
 * them (an image is its hash), then counted as photos.md says. */
static int fill_photos(fill *f)
{
    new_store *ns = &f->rs->new[f->t];
    GHashTableIter it;
    gpointer hash;
    int rc = 0;

    g_hash_table_iter_init(&it, ns->photos);
    while (rc == 0 && g_hash_table_iter_next(&it, &hash, NULL)) {
        MDB_val k = {strlen(hash), hash}, v;
        for (guint o = 0; o < f->rs->plan->from; o++) {
            const side *sd = &f->rs->old[o].sd;
            if (!sd->has[STORE_DB_PHOTOS] ||
                mdb_get(sd->txn, sd->dbi[STORE_DB_PHOTOS], &k, &v) != 0)
                continue;
            rc = store_rc(
                mdb_put(f->txn, store_dbi(f->s, STORE_DB_PHOTOS), &k, &v, 0));
            break;
        }
    }
    return rc ? rc : photos_recount(f->txn, f->s);
}

static int fill_txn(MDB_txn *txn, const store *s, void *userdata)
{
    fill *f = userdata;
    reshard *rs = f->rs;
    int rc = 0;

    f->txn = txn;
    f->s = s;
    for (guint o = 0; o < rs->plan->from && rc == 0; o++) {
        old_store *os = &rs->old[o];
        f->from = o;
        rc = walk_side(rs, &os->sd, o, fill_put, fill_mark, f, NULL);
        if (rc == 0 && os->sd.has[STORE_DB_NOTICED])
            rc = store_walk(os->sd.txn, os->sd.dbi[STORE_DB_NOTICED], NULL, 0,
                            noticed_one, f);
    }
    if (rc == 0 && rs->old[0].sd.has[STORE_DB_META])
        rc = store_walk(rs->old[0].sd.txn, rs->old[0].sd.dbi[STORE_DB_META],
                        NULL, 0, meta_one, f);
    if (rc == 0)
        rc = fill_photos(f);
    return rc;
}

/* ---- opening and closing ------------------------------------------------ */

static int old_open(reshard *rs, guint k, GError **err)
{
    old_store *os = &rs->old[k];
    char *data = g_build_filename(os->path, "data.mdb", NULL);
    gboolean there = g_file_test(data, G_FILE_TEST_IS_REGULAR);
    int rc;

    g_free(data);
    if (!there)
        return refuse(err, -ENOENT, "store %s: no store here (no data.mdb)",
                      os->path);
    /* The lock a running instance holds: refused while one runs, and no
     * instance starts on it while the move reads it. */
    rc = backup_hold_take(os->path, &os->hold, err);
    if (rc == 0)
        rc = backup_snapshot_open(os->path, 0, FALSE, &os->snap, err);
    if (rc != 0)
        return rc;
    if (os->snap.schema != STORE_SCHEMA_VERSION)
        return refuse(err, -EINVAL,
                      "store %s: schema version %u, this imgroups writes %u: "
                      "start the same imgroups on it once first",
                      os->path, os->snap.schema, STORE_SCHEMA_VERSION);
    os->sd.txn = os->snap.txn;
    for (int db = 0; db < STORE_DB_COUNT; db++) {
        rc = mdb_dbi_open(os->sd.txn, store_db_name(db), 0, &os->sd.dbi[db]);
        if (rc == MDB_NOTFOUND)
            continue;
        if (rc != 0)
            return refuse(err, store_rc(rc), "store %s: %s: %s", os->path,
                          store_db_name(db), mdb_strerror(rc));
        os->sd.has[db] = TRUE;
    }
    return side_accounts(&os->sd);
}

/* A new store's path: missing or an empty directory; its temp sibling
 * must not be there (an earlier run's, to be looked at and removed). */
static int new_check(new_store *ns, GError **err)
{
    GDir *d;
    gboolean empty;

    if (g_file_test(ns->tmp, G_FILE_TEST_EXISTS))
        return refuse(err, -EEXIST,
                      "%s is there (an earlier --reshard that stopped "
                      "midway?): remove it first",
                      ns->tmp);
    if (!g_file_test(ns->path, G_FILE_TEST_EXISTS))
        return 0;
    d = g_dir_open(ns->path, 0, NULL);
    if (!d)
        return refuse(err, -ENOTDIR, "%s: not a directory", ns->path);
    empty = g_dir_read_name(d) == NULL;
    g_dir_close(d);
    if (!empty)
        return refuse(err, -EEXIST,
                      "%s: not empty; a new store goes into a new or empty "
                      "directory",
                      ns->path);
    return 0;
}

static int new_write(reshard *rs, guint t, GError **err)
{
    new_store *ns = &rs->new[t];
    fill f = {rs, t, NULL, NULL, 0};
    int rc;

    if (g_mkdir_with_parents(ns->tmp, 0700) != 0)
        return refuse(err, -errno, "%s: %s", ns->tmp, g_strerror(errno));
    rc = backup_hold_take(ns->tmp, &ns->hold, err);
    if (rc == 0)
        rc = store_open(ns->tmp, rs->plan->map_size, &ns->s, err);
    if (rc == 0)
        rc = store_write(ns->s, fill_txn, &f, err);
    return rc;
}

/* The worker folders of the accounts the new store took. */
static int new_purple(reshard *rs, guint t, GError **err)
{
    new_store *ns = &rs->new[t];
    GHashTableIter it;
    gpointer name, from;
    int rc = 0;

    g_hash_table_iter_init(&it, ns->accounts);
    while (rc == 0 && g_hash_table_iter_next(&it, &name, &from)) {
        char *rel;
        /* Account names are [a-z0-9._-]: "." and ".." are no folders. */
        if (!strcmp(name, ".") || !strcmp(name, "..") || strchr(name, '/'))
            continue;
        rel = g_build_filename(PURPLE_DIR, (char *)name, NULL);
        rc = backup_copy_folder(rs->old[GPOINTER_TO_UINT(from) - 1].path,
                                ns->tmp, rel, err);
        g_free(rel);
    }
    return rc;
}

/* Every new store holds its own groups only, and the records of each
 * group are those taken from the old stores, byte for byte. */
static int check_all(reshard *rs, GError **err)
{
    GHashTable *after = tally_new();
    GHashTableIter it;
    gpointer name, value;
    int rc = 0;

    for (guint t = 0; t < rs->plan->to && rc == 0; t++) {
        new_store *ns = &rs->new[t];
        rc = store_read_begin(ns->s, &ns->sd.txn, err);
        for (int db = 0; db < STORE_DB_COUNT && rc == 0; db++) {
            ns->sd.dbi[db] = store_dbi(ns->s, db);
            ns->sd.has[db] = TRUE;
        }
        if (rc == 0)
            rc = side_accounts(&ns->sd);
        if (rc == 0 && walk_side(rs, &ns->sd, G_MAXUINT, owned_here, NULL,
                                 GUINT_TO_POINTER(t), NULL) != 0)
            rc = refuse(err, -EPROTO,
                        "check failed: %s holds a record of a group another "
                        "shard owns",
                        ns->path);
        if (rc == 0)
            rc =
                walk_side(rs, &ns->sd, G_MAXUINT, tally_one, NULL, after, NULL);
        store_read_end(ns->sd.txn);
        ns->sd.txn = NULL;
    }
    if (rc == 0 && g_hash_table_size(after) != g_hash_table_size(rs->tally))
        rc = refuse(err, -EPROTO,
                    "check failed: %u groups and accounts in the old stores' "
                    "databases, %u in the new",
                    g_hash_table_size(rs->tally), g_hash_table_size(after));
    g_hash_table_iter_init(&it, rs->tally);
    while (rc == 0 && g_hash_table_iter_next(&it, &name, &value)) {
        const tally *a = value, *b = g_hash_table_lookup(after, name);
        if (!b || a->n != b->n ||
            strcmp(g_checksum_get_string(a->sum),
                   g_checksum_get_string(b->sum)))
            rc = refuse(err, -EPROTO,
                        "check failed: %s: %" G_GUINT64_FORMAT
                        " records before, %" G_GUINT64_FORMAT
                        " after, or not the same bytes",
                        (char *)name, a->n, b ? b->n : 0);
    }
    g_hash_table_unref(after);
    return rc;
}

static guint64 old_count(const old_store *os, enum store_db db)
{
    MDB_stat st;

    if (!os->sd.has[db] || mdb_stat(os->sd.txn, os->sd.dbi[db], &st) != 0)
        return 0;
    return st.ms_entries;
}

static int count_groups(walk *w, const MDB_val *key, const MDB_val *val,
                        const MDB_val *part, guint was, guint will)
{
    (void)key;
    (void)val;
    (void)part;
    (void)was;
    (void)will;
    if (w->r->db == STORE_DB_GROUPS)
        ((old_store *)w->data)->own_groups++;
    return 0;
}

static void report(const reshard *rs, FILE *out)
{
    const reshard_plan *p = rs->plan;
    guint moved = 0, groups = 0;

    fprintf(out, "reshard %s: %u shards -> %u\n", p->domain, p->from, p->to);
    for (guint k = 0; k < p->from; k++) {
        const old_store *os = &rs->old[k];
        fprintf(
            out,
            "  before: shard %u  %s  %u groups (%u its own), %" G_GUINT64_FORMAT
            " archive records, %" G_GUINT64_FORMAT " accounts\n",
            k, os->path, os->groups, os->own_groups,
            old_count(os, STORE_DB_ARCHIVE), old_count(os, STORE_DB_ACCOUNTS));
    }
    for (guint t = 0; t < p->to; t++) {
        const new_store *ns = &rs->new[t];
        fprintf(out,
                "  after:  shard %u  %s  %" G_GUINT64_FORMAT
                " groups (%u from another shard), %" G_GUINT64_FORMAT
                " archive records, %" G_GUINT64_FORMAT
                " accounts, %" G_GUINT64_FORMAT " members\n",
                t, ns->path, ns->moved[STORE_DB_GROUPS], ns->came,
                ns->moved[STORE_DB_ARCHIVE], ns->moved[STORE_DB_ACCOUNTS],
                ns->moved[STORE_DB_MEMBERS]);
        moved += ns->came;
        groups += (guint)ns->moved[STORE_DB_GROUPS];
    }
    for (guint k = 0; k < p->from; k++)
        if (rs->old[k].left)
            fprintf(out,
                    "  left in %s: %" G_GUINT64_FORMAT
                    " records of groups it does not own (not moved)\n",
                    rs->old[k].path, rs->old[k].left);
    fprintf(out,
            "moved %u of %u groups; checked: each group in its owner only, "
            "its records byte for byte as before\n",
            moved, groups);
}

/* Whether the stores' other meta records (the occupant-id salt) agree:
 * the new stores take old[0]'s. */
static void warn_meta(const reshard *rs, FILE *out)
{
    for (guint k = 1; k < rs->plan->from; k++) {
        const side *a = &rs->old[0].sd, *b = &rs->old[k].sd;
        MDB_cursor *cur = NULL;
        MDB_val key, va, vb;
        gboolean same = TRUE;

        if (!a->has[STORE_DB_META] || !b->has[STORE_DB_META] ||
            mdb_cursor_open(a->txn, a->dbi[STORE_DB_META], &cur) != 0)
            continue;
        for (int rc = mdb_cursor_get(cur, &key, &va, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &key, &va, MDB_NEXT)) {
            MDB_val k2 = key;
            if (is_own_meta(&key))
                continue;
            if (mdb_get(b->txn, b->dbi[STORE_DB_META], &k2, &vb) != 0 ||
                vb.mv_size != va.mv_size ||
                memcmp(vb.mv_data, va.mv_data, va.mv_size))
                same = FALSE;
        }
        mdb_cursor_close(cur);
        if (!same)
            fprintf(out,
                    "warning: %s has another occupant-id salt than %s: the "
                    "new stores take %s's, so the occupant ids (XEP-0421) of "
                    "its groups change\n",
                    rs->old[k].path, rs->old[0].path, rs->old[0].path);
    }
}

static void cleanup(reshard *rs, gboolean keep_tmp)
{
    for (guint t = 0; rs->new &&t < rs->plan->to; t++) {
        new_store *ns = &rs->new[t];
        store_close(ns->s);
        side_clear(&ns->sd);
        if (!keep_tmp && ns->hold)
            backup_remove_tree(ns->tmp);
        backup_hold_free(ns->hold);
        g_free(ns->tmp);
        if (ns->accounts)
            g_hash_table_unref(ns->accounts);
        if (ns->photos)
            g_hash_table_unref(ns->photos);
    }
    for (guint k = 0; rs->old && k < rs->plan->from; k++) {
        old_store *os = &rs->old[k];
        side_clear(&os->sd);
        backup_snapshot_close(&os->snap);
        backup_hold_free(os->hold);
    }
    if (rs->tally)
        g_hash_table_unref(rs->tally);
    g_free(rs->old);
    g_free(rs->new);
}

static int plan_check(const reshard_plan *p, GError **err)
{
    GHashTable *seen;
    int rc = 0;

    if (!p->domain || !*p->domain)
        return refuse(err, -EINVAL, "no domain to compute the shards with");
    if (p->from < 1 || p->to < 1 || p->from > RESHARD_SHARDS_MAX ||
        p->to > RESHARD_SHARDS_MAX)
        return refuse(err, -EINVAL, "shards go from 1 to %d",
                      RESHARD_SHARDS_MAX);
    seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < p->from + p->to && rc == 0; i++) {
        const char *path =
            i < p->from ? p->old_paths[i] : p->new_paths[i - p->from];
        char *canon = g_canonicalize_filename(path, NULL);
        if (!g_hash_table_add(seen, canon))
            rc = refuse(err, -EINVAL, "%s is named twice", path);
    }
    g_hash_table_unref(seen);
    return rc;
}

int reshard_run(const reshard_plan *plan, FILE *out, GError **err)
{
    reshard rs = {plan, NULL, NULL, NULL};
    gboolean renaming = FALSE;
    guint t;
    int rc = plan_check(plan, err);

    if (rc != 0)
        return rc;
    rs.old = g_new0(old_store, plan->from);
    rs.new = g_new0(new_store, plan->to);
    rs.tally = tally_new();
    for (t = 0; t < plan->to && rc == 0; t++) {
        char *canon = g_canonicalize_filename(plan->new_paths[t], NULL);
        rs.new[t].path = plan->new_paths[t];
        rs.new[t].tmp = g_strconcat(canon, TMP_SUFFIX, NULL);
        rs.new[t].accounts =
            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        rs.new[t].photos =
            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_free(canon);
        rc = new_check(&rs.new[t], err);
    }
    for (guint k = 0; k < plan->from && rc == 0; k++) {
        old_store *os = &rs.old[k];
        os->path = plan->old_paths[k];
        rc = old_open(&rs, k, err);
        if (rc == 0)
            os->groups = (guint)old_count(os, STORE_DB_GROUPS);
        if (rc == 0)
            rc = walk_side(&rs, &os->sd, k, tally_one, NULL, rs.tally,
                           &os->left);
        if (rc == 0)
            rc = walk_side(&rs, &os->sd, k, count_groups, NULL, os, NULL);
        if (rc != 0 && err && !*err)
            refuse(err, rc, "store %s: cannot be read: %s", os->path,
                   mdb_strerror(rc));
    }
    if (rc == 0)
        warn_meta(&rs, out);
    for (t = 0; t < plan->to && rc == 0; t++) {
        rc = new_write(&rs, t, err);
        if (rc == 0)
            rc = new_purple(&rs, t, err);
    }
    if (rc == 0)
        rc = check_all(&rs, err);
    renaming = rc == 0;
    for (t = 0; t < plan->to && rc == 0; t++) {
        store_close(rs.new[t].s);
        rs.new[t].s = NULL;
        /* rename(2) puts a directory over an empty one. */
        if (rename(rs.new[t].tmp, plan->new_paths[t]) != 0)
            rc = refuse(err, -errno, "%s: cannot be renamed to %s: %s",
                        rs.new[t].tmp, plan->new_paths[t], g_strerror(errno));
    }
    if (rc == 0)
        report(&rs, out);
    /* A rename that failed midway leaves the rest in their temp folders,
     * whole and checked: the message names the first. */
    cleanup(&rs, renaming && rc != 0);
    return rc;
}

/* ---- the command line -------------------------------------------------- */

int reshard_cli(const config *cfg, int to, char *const *paths, int npaths)
{
    reshard_plan plan = {0};
    GError *err = NULL;
    int rc;

    if (to < 1 || to > RESHARD_SHARDS_MAX || npaths != (int)cfg->shards + to) {
        g_printerr("imgroups: --reshard --to N OLD... NEW...: the %u old "
                   "stores ([cluster] shards of %s), in shard order, then N "
                   "new ones (N from 1 to %d); %d paths given\n",
                   cfg->shards, cfg->path, RESHARD_SHARDS_MAX, npaths);
        return -EINVAL;
    }
    plan.domain = cfg->jid;
    plan.old_paths = (const char *const *)paths;
    plan.from = cfg->shards;
    plan.new_paths = (const char *const *)paths + cfg->shards;
    plan.to = (guint)to;
    plan.map_size = cfg->map_size;
    rc = reshard_run(&plan, stdout, &err);
    if (rc != 0) {
        g_printerr("imgroups: --reshard: %s; nothing was written\n",
                   err ? err->message : "failed");
        g_clear_error(&err);
    }
    return rc;
}
