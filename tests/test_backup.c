/* test_backup: the store's backup and restore (component/admin/backup.c)
 * — a backup restored into a new store dumps the same, the old store is
 * moved aside, and a restore refuses a damaged backup, a held store and a
 * store another process has open. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "backup.h"
#include "dump.h"
#include "store.h"
#include "testutil.h"

typedef testutil_store fixture;

/* A group with its owner, a bot's password, a message; then the store is
 * closed (LMDB: one process opens an environment once). */
static void fill(fixture *f)
{
    static const char msg[] = "lobby\0\0\0\0\0\0\0\0\1";

    testutil_put_raw(f, STORE_DB_GROUPS, "lobby", 5, NULL, 0,
                     "(uint16 1, {'name': <'Lobby'>})");
    testutil_put_raw(f, STORE_DB_OWNED, "alice@example.org\0lobby", 23, "", 0,
                     NULL);
    testutil_put_raw(f, STORE_DB_SECRETS, "irc", 3, NULL, 0,
                     "(uint16 1, 'pw')");
    testutil_put_raw(f, STORE_DB_ARCHIVE, msg, sizeof msg - 1, NULL, 0,
                     "(uint16 1, 'id1', int64 7, 'alice', @ms 'hello', "
                     "@a{sv} {})");
    store_close(f->s);
    f->s = NULL;
}

/* The dump of the store at path, from its second line (the first names
 * the path). */
static char *dump_of(const char *path)
{
    char *text = NULL, *body;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    g_assert_cmpint(dump_store(path, 0, out, NULL), ==, 0);
    fclose(out);
    body = g_strdup(strchr(text, '\n') + 1);
    free(text);
    return body;
}

static void put_file(const char *dir, const char *rel, const char *text)
{
    char *path = g_build_filename(dir, rel, NULL);
    char *parent = g_path_get_dirname(path);

    g_assert_cmpint(g_mkdir_with_parents(parent, 0700), ==, 0);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    g_free(parent);
    g_free(path);
}

static char *read_file(const char *dir, const char *rel)
{
    char *path = g_build_filename(dir, rel, NULL);
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        text = NULL;
    g_free(path);
    return text;
}

static char *sub(fixture *f, const char *name)
{
    return g_build_filename(f->dir, name, NULL);
}

/* Backs the fixture's store up into f->dir/backup; returns that path. */
static char *backup(fixture *f)
{
    char *dir = sub(f, "backup");
    GError *err = NULL;

    g_assert_cmpint(backup_make(f->dir, 0, "groups.example", dir, &err), ==, 0);
    g_assert_no_error(err);
    return dir;
}

static int restore(const char *dir, const char *store_path, GError **err)
{
    char *aside = NULL;
    int rc = backup_restore(dir, store_path, &aside, err);

    g_free(aside);
    return rc;
}

static void
a_backup_restored_into_a_new_store_dumps_the_same(fixture *f,
                                                  gconstpointer data)
{
    char *dir, *fresh = sub(f, "fresh"), *before, *after, *journal, *cert;
    GError *err = NULL;

    fill(f);
    put_file(f->dir, "purple/irc/delivered", "11\n12\n1"); /* torn line */
    put_file(f->dir, "purple/irc/certificates/x509/tls_peers/h", "PEM");
    dir = backup(f);
    g_assert_cmpint(restore(dir, fresh, &err), ==, 0);
    g_assert_no_error(err);
    before = dump_of(f->dir);
    after = dump_of(fresh);
    g_assert_cmpstr(before, ==, after);
    journal = read_file(fresh, "purple/irc/delivered");
    g_assert_cmpstr(journal, ==, "11\n12\n");
    cert = read_file(fresh, "purple/irc/certificates/x509/tls_peers/h");
    g_assert_cmpstr(cert, ==, "PEM");
    g_free(cert);
    g_free(journal);
    g_free(before);
    g_free(after);
    g_free(dir);
    g_free(fresh);
}

static void a_restore_moves_what_the_store_held_aside(fixture *f,
                                                      gconstpointer data)
{
    char *dir, *aside = NULL, *old, *kept;
    GError *err = NULL;

    fill(f);
    dir = backup(f);
    put_file(f->dir, "purple/irc/delivered", "99\n");
    g_assert_cmpint(backup_restore(dir, f->dir, &aside, &err), ==, 0);
    g_assert_no_error(err);
    g_assert_nonnull(aside);
    old = g_build_filename(aside, "purple", NULL);
    kept = read_file(old, "irc/delivered");
    g_assert_cmpstr(kept, ==, "99\n");
    g_assert_null(read_file(f->dir, "purple/irc/delivered"));
    g_assert_true(g_file_test(aside, G_FILE_TEST_IS_DIR));
    g_free(kept);
    g_free(old);
    g_free(aside);
    g_free(dir);
}

/* Each damage makes the restore refuse, and the target stays empty. */
static void
restore_refuses_a_backup_that_does_not_match_its_manifest(fixture *f,
                                                          gconstpointer data)
{
    static const struct {
        const char *what;
        const char *file;
        const char *text; /* NULL: removed */
    } cases[] = {
        {"a file changed", "purple/irc/delivered", "13\n"},
        {"a file missing", "purple/irc/delivered", NULL},
        {"no manifest", BACKUP_MANIFEST, NULL},
        {"a manifest naming a path outside the store", BACKUP_MANIFEST,
         BACKUP_MAGIC
         "\nschema 5\nfile 0 e3b0c44298fc1c149afbf4c8996fb92427ae41e4"
         "649b934ca495991b7852b855 ../../etc/x\n"},
        {"a manifest without data.mdb", BACKUP_MANIFEST,
         BACKUP_MAGIC "\nschema 5\n"},
        {"a manifest of another format", BACKUP_MANIFEST,
         "imgroups-backup 2\n"},
    };

    fill(f);
    put_file(f->dir, "purple/irc/delivered", "11\n12\n");
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *dir = g_strdup_printf("%s/b%zu", f->dir, i);
        char *target = g_strdup_printf("%s/t%zu", f->dir, i);
        char *path = g_build_filename(dir, cases[i].file, NULL);
        char *data_file = g_build_filename(target, "data.mdb", NULL);
        GError *err = NULL;

        g_test_message("%s", cases[i].what);
        g_assert_cmpint(backup_make(f->dir, 0, "g", dir, NULL), ==, 0);
        if (cases[i].text)
            put_file(dir, cases[i].file, cases[i].text);
        else
            g_assert_cmpint(g_unlink(path), ==, 0);
        g_assert_cmpint(restore(dir, target, &err), <, 0);
        g_assert_nonnull(err);
        g_clear_error(&err);
        g_assert_false(g_file_test(data_file, G_FILE_TEST_EXISTS));
        g_free(data_file);
        g_free(path);
        g_free(target);
        g_free(dir);
    }
}

static void restore_refuses_a_store_a_running_imgroups_holds(fixture *f,
                                                             gconstpointer data)
{
    char *dir, *target = sub(f, "target");
    backup_hold *hold = NULL, *second = NULL;
    GError *err = NULL;

    fill(f);
    dir = backup(f);
    g_assert_cmpint(backup_hold_take(target, &hold, NULL), ==, 0);
    g_assert_cmpint(backup_hold_take(target, &second, &err), ==, -EBUSY);
    g_assert_null(second);
    g_clear_error(&err);
    g_assert_cmpint(restore(dir, target, &err), ==, -EBUSY);
    g_assert_nonnull(strstr(err->message, "in use"));
    g_clear_error(&err);
    backup_hold_free(hold);
    g_assert_cmpint(restore(dir, target, NULL), ==, 0);
    g_free(target);
    g_free(dir);
}

/* A child process opens the store (as a dump or mdb_stat would) and
 * waits; the restore must see LMDB's lock. */
static void restore_refuses_a_store_another_process_has_open(fixture *f,
                                                             gconstpointer data)
{
    char *dir, *errtext;
    int ready[2], go[2];
    pid_t pid;
    char c;
    GError *err = NULL;

    fill(f);
    dir = backup(f);
    g_assert_cmpint(pipe(ready), ==, 0);
    g_assert_cmpint(pipe(go), ==, 0);
    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        store *s = NULL;
        int ok = store_open(f->dir, 0, &s, NULL) == 0;
        if (write(ready[1], ok ? "y" : "n", 1) != 1 || read(go[0], &c, 1) < 0)
            ok = 0;
        store_close(s);
        _exit(ok ? 0 : 1);
    }
    g_assert_cmpint(read(ready[0], &c, 1), ==, 1);
    g_assert_cmpint(c, ==, 'y');
    g_assert_cmpint(restore(dir, f->dir, &err), ==, -EBUSY);
    errtext = g_strdup_printf("process %ld", (long)pid);
    g_assert_nonnull(strstr(err->message, errtext));
    g_clear_error(&err);
    g_assert_cmpint(write(go[1], "x", 1), ==, 1);
    g_assert_cmpint(waitpid(pid, NULL, 0), ==, pid);
    g_assert_cmpint(restore(dir, f->dir, NULL), ==, 0);
    for (int i = 0; i < 2; i++) {
        close(ready[i]);
        close(go[i]);
    }
    g_free(errtext);
    g_free(dir);
}

static void backup_refuses_a_directory_that_is_not_empty(fixture *f,
                                                         gconstpointer data)
{
    char *dir = sub(f, "full"), *other = sub(f, "b");
    GError *err = NULL;

    fill(f);
    put_file(dir, "something", "x");
    g_assert_cmpint(backup_make(f->dir, 0, "g", dir, &err), ==, -EEXIST);
    g_clear_error(&err);
    /* and a directory without a store is not made one */
    g_assert_cmpint(backup_make(dir, 0, "g", other, &err), <, 0);
    g_assert_nonnull(strstr(err->message, "no store"));
    g_assert_null(read_file(dir, "data.mdb"));
    g_clear_error(&err);
    g_free(other);
    g_free(dir);
}

#define T(fn)                                                                  \
    {                                                                          \
        "/backup/" #fn, fn                                                     \
    }

int main(int argc, char **argv)
{
    static const testutil_store_case cases[] = {
        T(a_backup_restored_into_a_new_store_dumps_the_same),
        T(a_restore_moves_what_the_store_held_aside),
        T(restore_refuses_a_backup_that_does_not_match_its_manifest),
        T(restore_refuses_a_store_a_running_imgroups_holds),
        T(restore_refuses_a_store_another_process_has_open),
        T(backup_refuses_a_directory_that_is_not_empty),
    };

    g_test_init(&argc, &argv, NULL);
    testutil_store_add(cases, G_N_ELEMENTS(cases));
    return g_test_run();
}
