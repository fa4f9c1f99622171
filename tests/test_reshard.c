/* test_reshard: imgroups --reshard (component/admin/reshard.c) — 30 groups
 * with archives, members, nicks and avatars in 2 stores move to 3: each
 * group in exactly its new owner, its records byte for byte, its archive
 * whole; a running store and a target that is not empty are refused. */
#include <errno.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "accounts.h"
#include "affiliations.h"
#include "archive.h"
#include "avatars.h"
#include "backup.h"
#include "groups.h"
#include "members.h"
#include "nicks.h"
#include "noticed.h"
#include "outbox.h"
#include "photos.h"
#include "reshard.h"
#include "shard.h"
#include "store.h"
#include "testutil.h"

#define DOMAIN "groups.localhost"
#define GROUPS 30
#define FROM   2
#define TO     3

static const char png[] = "\x89PNG\r\n\x1a\n a picture";

typedef struct fixture {
    char *dir;
    char *old[FROM], *new[TO];
} fixture;

static void group_name(char *buf, gsize len, int i)
{
    g_snprintf(buf, len, "room%02d", i);
}

/* Group i, in the store given: its record, owner, i + 1 messages, a
 * registered nick, an avatar; every third has a bot account with a member
 * showing a picture, a delivery cursor and a worker folder. */
typedef struct seed {
    int i;
    const char *path;
} seed;

static int seed_txn(MDB_txn *txn, const store *s, void *userdata)
{
    seed *d = userdata;
    char g[16], acct[16], hash[AVATARS_HASH_LEN];
    int rc;

    group_name(g, sizeof g, d->i);
    g_snprintf(acct, sizeof acct, "bot%02d", d->i);
    rc = groups_ensure(txn, s, g, NULL);
    if (rc == 0)
        rc = affiliations_set(txn, s, g, "alice@localhost", AFF_OWNER, NULL);
    for (int m = 0; m <= d->i && rc == 0; m++) {
        archive_msg msg = {
            .nick = "alice", .body = "hello", .sender_jid = "alice@localhost"};
        rc = archive_append(txn, s, g, &msg);
        g_free(msg.stanza_id);
    }
    if (rc == 0)
        rc = nicks_register(txn, s, g, "alice@localhost", "Alice", "alice");
    if (rc == 0)
        rc = avatars_put(txn, s, g, "image/png", (const guchar *)png,
                         sizeof png - 1, NULL);
    if (rc == 0) {
        gint64 when = 0;
        rc = noticed_get(txn, s, "alice@localhost", &when);
        if (rc == 0 && !when) /* the first group of each store */
            rc = noticed_put(txn, s, "alice@localhost", 1000 + d->i);
    }
    if (rc == 0 && d->i % 3 == 0) {
        account_rec a = {.name = acct,
                         .protocol = "prpl-irc",
                         .username = acct,
                         .group = g,
                         .mode = "contacts",
                         .enabled = TRUE};
        member_rec m = {
            .account = acct, .handle = "bob", .group = g, .nick = "bob"};
        a.options = g_hash_table_new(g_str_hash, g_str_equal);
        rc = accounts_put(txn, s, &a, "secret");
        g_hash_table_unref(a.options);
        if (rc == 0)
            rc = photos_put(txn, s, (const guchar *)png, sizeof png - 1, hash);
        m.photo = hash;
        if (rc == 0)
            rc = members_put(txn, s, &m);
        if (rc == 0)
            rc = outbox_cursor_start(txn, s, acct, OUTBOX_KIND_IM, "bob", g);
    }
    return rc;
}

/* A configured group that every instance created: in the store that
 * does not own it, left behind. */
static int stray_txn(MDB_txn *txn, const store *s, void *userdata)
{
    return groups_ensure(txn, s, userdata, NULL);
}

static void setup(fixture *f, gconstpointer data)
{
    store *st[FROM];
    GError *err = NULL;

    (void)data;
    f->dir = g_dir_make_tmp("test_reshard-XXXXXX", NULL);
    g_assert_nonnull(f->dir);
    for (int k = 0; k < FROM; k++) {
        f->old[k] = g_strdup_printf("%s/old%d", f->dir, k);
        g_assert_cmpint(store_open(f->old[k], 0, &st[k], &err), ==, 0);
    }
    for (int t = 0; t < TO; t++)
        f->new[t] = g_strdup_printf("%s/new%d", f->dir, t);
    for (int i = 0; i < GROUPS; i++) {
        char g[16];
        unsigned o;
        seed d = {i, NULL};

        group_name(g, sizeof g, i);
        o = shard_of_parts(g, DOMAIN, FROM);
        d.path = f->old[o];
        g_assert_cmpint(store_write(st[o], seed_txn, &d, &err), ==, 0);
        if (i == 1)
            g_assert_cmpint(store_write(st[1 - o], stray_txn, g, &err), ==, 0);
        if (i % 3 == 0) {
            char *folder = g_strdup_printf("%s/purple/bot%02d", f->old[o], i);
            char *file = g_build_filename(folder, "accounts.xml", NULL);
            g_assert_cmpint(g_mkdir_with_parents(folder, 0700), ==, 0);
            g_assert_true(g_file_set_contents(file, g, -1, NULL));
            g_free(file);
            g_free(folder);
        }
    }
    for (int k = 0; k < FROM; k++)
        store_close(st[k]);
}

static void teardown(fixture *f, gconstpointer data)
{
    (void)data;
    testutil_rm_rf(f->dir);
    g_free(f->dir);
    for (int k = 0; k < FROM; k++)
        g_free(f->old[k]);
    for (int t = 0; t < TO; t++)
        g_free(f->new[t]);
}

static int run(fixture *f, GError **err)
{
    reshard_plan plan = {.domain = DOMAIN,
                         .old_paths = (const char *const *)f->old,
                         .from = FROM,
                         .new_paths = (const char *const *)f->new,
                         .to = TO};
    FILE *out = fopen("/dev/null", "w");
    int rc = reshard_run(&plan, out, err);

    fclose(out);
    return rc;
}

/* The records under prefix of db in the environment at path, as one
 * string of hex (keys and values), read with no lock. */
static char *records(const char *path, enum store_db db, const char *prefix,
                     size_t len)
{
    backup_snapshot snap;
    GError *err = NULL;
    GString *s = g_string_new(NULL);
    MDB_dbi dbi;
    MDB_cursor *cur;
    MDB_val k = {len, (void *)prefix}, v;
    int rc;

    g_assert_cmpint(backup_snapshot_open(path, 0, TRUE, &snap, &err), ==, 0);
    g_assert_cmpint(mdb_dbi_open(snap.txn, store_db_name(db), 0, &dbi), ==, 0);
    g_assert_cmpint(mdb_cursor_open(snap.txn, dbi, &cur), ==, 0);
    for (rc = mdb_cursor_get(cur, &k, &v, len ? MDB_SET_RANGE : MDB_FIRST);
         rc == 0 && k.mv_size >= len && !memcmp(k.mv_data, prefix, len);
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        for (size_t i = 0; i < k.mv_size; i++)
            g_string_append_printf(s, "%02x", ((guchar *)k.mv_data)[i]);
        g_string_append_c(s, '=');
        for (size_t i = 0; i < v.mv_size; i++)
            g_string_append_printf(s, "%02x", ((guchar *)v.mv_data)[i]);
        g_string_append_c(s, ';');
    }
    mdb_cursor_close(cur);
    backup_snapshot_close(&snap);
    return g_string_free(s, FALSE);
}

static void
each_group_is_in_exactly_its_new_owner_byte_for_byte(fixture *f,
                                                     gconstpointer data)
{
    static const enum store_db by_group[] = {
        STORE_DB_GROUPS,      STORE_DB_AFFILIATIONS, STORE_DB_ARCHIVE,
        STORE_DB_NICKS,       STORE_DB_AVATARS,      STORE_DB_DIRECTORY,
        STORE_DB_MEMBER_INDEX};
    GError *err = NULL;

    (void)data;
    g_assert_cmpint(run(f, &err), ==, 0);
    g_assert_no_error(err);
    for (int i = 0; i < GROUPS; i++) {
        char g[16], prefix[17];
        unsigned o, n;

        group_name(g, sizeof g, i);
        o = shard_of_parts(g, DOMAIN, FROM);
        n = shard_of_parts(g, DOMAIN, TO);
        memcpy(prefix, g, strlen(g) + 1); /* group \0 */
        for (gsize d = 0; d < G_N_ELEMENTS(by_group); d++) {
            gboolean whole = by_group[d] == STORE_DB_GROUPS ||
                             by_group[d] == STORE_DB_AVATARS ||
                             by_group[d] == STORE_DB_DIRECTORY;
            size_t len = strlen(g) + (whole ? 0 : 1);
            char *before = records(f->old[o], by_group[d], prefix, len);
            for (int t = 0; t < TO; t++) {
                char *after = records(f->new[t], by_group[d], prefix, len);
                if (t == (int)n)
                    g_assert_cmpstr(after, ==, before);
                else
                    g_assert_cmpstr(after, ==, "");
                g_free(after);
            }
            g_free(before);
        }
    }
}

/* The archive read back through the schema: i + 1 messages each, the
 * stanza-ids kept. */
typedef struct counted {
    guint n;
    GPtrArray *ids;
} counted;

static int count_msg(const archive_msg *m, void *userdata)
{
    counted *c = userdata;

    c->n++;
    g_ptr_array_add(c->ids, g_strdup(m->stanza_id));
    return 0;
}

static void archive_of(const char *path, const char *g, counted *c)
{
    store *s;
    MDB_txn *txn;
    GError *err = NULL;

    c->n = 0;
    c->ids = g_ptr_array_new_with_free_func(g_free);
    g_assert_cmpint(store_open(path, 0, &s, &err), ==, 0);
    g_assert_cmpint(store_read_begin(s, &txn, &err), ==, 0);
    g_assert_cmpint(archive_foreach_after(txn, s, g, 0, count_msg, c), ==, 0);
    store_read_end(txn);
    store_close(s);
}

static void every_archive_keeps_its_messages_and_stanza_ids(fixture *f,
                                                            gconstpointer data)
{
    GError *err = NULL;

    (void)data;
    g_assert_cmpint(run(f, &err), ==, 0);
    for (int i = 0; i < GROUPS; i++) {
        char g[16];
        counted a, b;

        group_name(g, sizeof g, i);
        archive_of(f->old[shard_of_parts(g, DOMAIN, FROM)], g, &a);
        archive_of(f->new[shard_of_parts(g, DOMAIN, TO)], g, &b);
        g_assert_cmpuint(a.n, ==, (guint)i + 1);
        g_assert_cmpuint(b.n, ==, a.n);
        for (guint m = 0; m < a.n; m++)
            g_assert_cmpstr(a.ids->pdata[m], ==, b.ids->pdata[m]);
        g_ptr_array_unref(a.ids);
        g_ptr_array_unref(b.ids);
    }
}

static void
bots_move_with_their_group_members_photos_and_folders(fixture *f,
                                                      gconstpointer data)
{
    GError *err = NULL;

    (void)data;
    g_assert_cmpint(run(f, &err), ==, 0);
    for (int i = 0; i < GROUPS; i += 3) {
        char g[16], acct[16];
        unsigned n;

        group_name(g, sizeof g, i);
        g_snprintf(acct, sizeof acct, "bot%02d", i);
        n = shard_of_parts(g, DOMAIN, TO);
        for (int t = 0; t < TO; t++) {
            store *s;
            MDB_txn *txn;
            account_rec *a = NULL;
            member_rec *m = NULL;
            outbox_cursor *c = NULL;
            char *pw = NULL;
            char *file =
                g_strdup_printf("%s/purple/%s/accounts.xml", f->new[t], acct);

            g_assert_cmpint(store_open(f->new[t], 0, &s, &err), ==, 0);
            g_assert_cmpint(store_read_begin(s, &txn, &err), ==, 0);
            if (t == (int)n) {
                g_assert_cmpint(accounts_get(txn, s, acct, &a), ==, 0);
                g_assert_cmpstr(a->group, ==, g);
                g_assert_cmpint(accounts_password(txn, s, acct, &pw), ==, 0);
                g_assert_cmpstr(pw, ==, "secret");
                g_assert_cmpint(members_get(txn, s, acct, "bob", &m), ==, 0);
                g_assert_nonnull(m->photo);
                g_assert_cmpuint(photos_refs(txn, s, m->photo), >=, 1);
                g_assert_cmpint(
                    outbox_cursor_get(txn, s, acct, OUTBOX_KIND_IM, "bob", &c),
                    ==, 0);
                g_assert_true(g_file_test(file, G_FILE_TEST_IS_REGULAR));
            } else {
                g_assert_cmpint(accounts_get(txn, s, acct, &a), ==,
                                MDB_NOTFOUND);
                g_assert_cmpint(members_get(txn, s, acct, "bob", &m), ==,
                                MDB_NOTFOUND);
                g_assert_false(g_file_test(file, G_FILE_TEST_EXISTS));
            }
            account_rec_free(a);
            member_rec_free(m);
            outbox_cursor_free(c);
            g_free(pw);
            g_free(file);
            store_read_end(txn);
            store_close(s);
        }
    }
}

static void every_new_store_has_who_was_noticed(fixture *f, gconstpointer data)
{
    GError *err = NULL;

    (void)data;
    g_assert_cmpint(run(f, &err), ==, 0);
    for (int t = 0; t < TO; t++) {
        store *s;
        MDB_txn *txn;
        gint64 when = 0;

        g_assert_cmpint(store_open(f->new[t], 0, &s, &err), ==, 0);
        g_assert_cmpint(store_read_begin(s, &txn, &err), ==, 0);
        g_assert_cmpint(noticed_get(txn, s, "alice@localhost", &when), ==, 0);
        g_assert_cmpint(when, ==, 1000); /* the earliest of either store */
        store_read_end(txn);
        store_close(s);
    }
}

static void
a_running_store_is_refused_and_nothing_is_written(fixture *f,
                                                  gconstpointer data)
{
    backup_hold *hold = NULL;
    GError *err = NULL;

    (void)data;
    g_assert_cmpint(backup_hold_take(f->old[1], &hold, &err), ==, 0);
    g_assert_cmpint(run(f, &err), ==, -EBUSY);
    g_assert_nonnull(strstr(err->message, "in use by another imgroups"));
    g_clear_error(&err);
    backup_hold_free(hold);
    for (int t = 0; t < TO; t++) {
        char *tmp = g_strconcat(f->new[t], ".reshard-tmp", NULL);
        g_assert_false(g_file_test(f->new[t], G_FILE_TEST_EXISTS));
        g_assert_false(g_file_test(tmp, G_FILE_TEST_EXISTS));
        g_free(tmp);
    }
    /* and once it stopped, the same command runs */
    g_assert_cmpint(run(f, &err), ==, 0);
}

static void a_target_that_is_not_empty_is_refused(fixture *f,
                                                  gconstpointer data)
{
    char *file = g_build_filename(f->new[2], "something", NULL);
    GError *err = NULL;

    (void)data;
    g_assert_cmpint(g_mkdir_with_parents(f->new[2], 0700), ==, 0);
    g_assert_true(g_file_set_contents(file, "x", 1, NULL));
    g_assert_cmpint(run(f, &err), ==, -EEXIST);
    g_assert_nonnull(strstr(err->message, "not empty"));
    g_clear_error(&err);
    g_assert_false(g_file_test(f->new[0], G_FILE_TEST_EXISTS));
    g_free(file);
}

static void a_store_named_twice_is_refused(fixture *f, gconstpointer data)
{
    GError *err = NULL;

    (void)data;
    g_free(f->new[1]);
    f->new[1] = g_strdup(f->old[0]);
    g_assert_cmpint(run(f, &err), ==, -EINVAL);
    g_clear_error(&err);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*fn)(fixture *, gconstpointer);
    } cases[] = {
        {"/reshard/each_group_is_in_exactly_its_new_owner_byte_for_byte",
         each_group_is_in_exactly_its_new_owner_byte_for_byte},
        {"/reshard/every_archive_keeps_its_messages_and_stanza_ids",
         every_archive_keeps_its_messages_and_stanza_ids},
        {"/reshard/bots_move_with_their_group_members_photos_and_folders",
         bots_move_with_their_group_members_photos_and_folders},
        {"/reshard/every_new_store_has_who_was_noticed",
         every_new_store_has_who_was_noticed},
        {"/reshard/a_running_store_is_refused_and_nothing_is_written",
         a_running_store_is_refused_and_nothing_is_written},
        {"/reshard/a_target_that_is_not_empty_is_refused",
         a_target_that_is_not_empty_is_refused},
        {"/reshard/a_store_named_twice_is_refused",
         a_store_named_twice_is_refused},
    };

    g_test_init(&argc, &argv, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
        g_test_add(cases[i].name, fixture, NULL, setup, cases[i].fn, teardown);
    return g_test_run();
}
