/* backup: backups while running, restore over a stopped store, read
 * snapshots from outside the core, and the running core's hold on its
 * store (backup.h). */
#include "backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <lmdb.h>

#include "dump.h"
#include "store.h"

/* The worker's delivery journal (transports/purple/delivery.c): lines of
 * ids, appended while it runs. Its copy keeps whole lines only: a torn
 * last line would read back as another id. */
#define JOURNAL_NAME "delivered"
/* The folder of the workers' libpurple user dirs (bridge/legacy.c). */
#define PURPLE_DIR "purple"
#define DATA_FILE  "data.mdb"
#define LMDB_LOCK  "lock.mdb"
/* Where restore stages the files before they replace the store's. */
#define STAGE_DIR "restore.tmp"
/* Folders below purple/ a backup follows; libpurple's are 3 deep. */
#define DEPTH_MAX 16
/* Named databases an environment may hold: ours and a future build's. */
#define MAXDBS     64
#define COPY_CHUNK (256 * 1024)

GQuark backup_error_quark(void)
{
    return g_quark_from_static_string("imgroups-backup-error-quark");
}

static int fail(GError **err, int rc, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* Sets *err from fmt and returns rc (negative). */
static int fail(GError **err, int rc, const char *fmt, ...)
{
    va_list ap;
    char *why;

    va_start(ap, fmt);
    why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(err, BACKUP_ERROR, 0, why);
    g_free(why);
    return rc < 0 ? rc : -EIO;
}

static const char *rc_text(int rc)
{
    return rc > 0 ? g_strerror(rc) : mdb_strerror(rc);
}

/* Run as root (a restore, a dump of a stopped store), what is created in
 * the store (LMDB's lock.mdb, our lock, restored files) is given to the
 * store's owner, or the service could not open it. */
static void give_to_owner(const char *file, const struct stat *owner)
{
    if (geteuid() == 0 && owner &&
        lchown(file, owner->st_uid, owner->st_gid) != 0)
        g_printerr("imgroups: cannot give %s to uid %u: %s\n", file,
                   (unsigned)owner->st_uid, g_strerror(errno));
}

/* ---- the hold ---------------------------------------------------------- */

struct backup_hold {
    int fd;
};

int backup_hold_take(const char *path, backup_hold **out, GError **err)
{
    char *file = g_build_filename(path, BACKUP_LOCK_FILE, NULL);
    struct stat owner;
    int fd = -1, rc = 0;

    *out = NULL;
    if (g_mkdir_with_parents(path, 0700) != 0) {
        rc = fail(err, -errno, "store %s: cannot create the directory: %s",
                  path, g_strerror(errno));
        goto leave;
    }
    fd = open(file, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = fail(err, -errno, "store %s: cannot open %s: %s", path,
                  BACKUP_LOCK_FILE, g_strerror(errno));
        goto leave;
    }
    if (stat(path, &owner) == 0)
        give_to_owner(file, &owner);
    /* flock, not fcntl: it belongs to this open file, so a restore in the
     * same process (the tests) meets it too, and a worker never inherits
     * it (O_CLOEXEC). */
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        rc = e == EWOULDBLOCK
                 ? fail(err, -EBUSY,
                        "store %s: in use by another imgroups or a restore "
                        "(%s is locked)",
                        path, BACKUP_LOCK_FILE)
                 : fail(err, -e, "store %s: cannot lock %s: %s", path,
                        BACKUP_LOCK_FILE, g_strerror(e));
        goto leave;
    }
    *out = g_new0(backup_hold, 1);
    (*out)->fd = fd;
    fd = -1;
leave:
    if (fd >= 0)
        close(fd);
    g_free(file);
    return rc;
}

void backup_hold_free(backup_hold *h)
{
    if (!h)
        return;
    close(h->fd); /* releases the flock */
    g_free(h);
}

/* Whether a process has the LMDB environment at path open: every one
 * holds a lock on the first byte of lock.mdb while it does (LMDB's
 * mdb_env_excl_lock). 0 with *pid 0 when none, *pid the holder's else. */
static int lmdb_holder(const char *path, pid_t *pid, GError **err)
{
    char *file = g_build_filename(path, LMDB_LOCK, NULL);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 1};
    int fd, rc = 0;

    *pid = 0;
    fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT)
            rc = fail(err, -errno, "store %s: cannot open %s: %s", path,
                      LMDB_LOCK, g_strerror(errno));
        g_free(file);
        return rc;
    }
    if (fcntl(fd, F_GETLK, &fl) != 0)
        rc = fail(err, -errno, "store %s: cannot test the lock of %s: %s", path,
                  LMDB_LOCK, g_strerror(errno));
    else if (fl.l_type != F_UNLCK)
        *pid = fl.l_pid > 0 ? fl.l_pid : 1;
    close(fd);
    g_free(file);
    return rc;
}

/* ---- the environment, read only ---------------------------------------- */

/* Opens the environment at path read only: beside a running imgroups, a
 * reader with a slot in the shared lock file (LMDB allows any number of
 * processes); nolock for a copy nobody else opens. Refuses a directory
 * without data.mdb rather than create a store. */
static int env_open(const char *path, size_t map_size, gboolean nolock,
                    MDB_env **out, GError **err)
{
    char *data = g_build_filename(path, DATA_FILE, NULL);
    char *lock = g_build_filename(path, LMDB_LOCK, NULL);
    struct stat st;
    gboolean had_lock = g_file_test(lock, G_FILE_TEST_EXISTS);
    MDB_env *env = NULL;
    int rc;

    *out = NULL;
    if (stat(data, &st) != 0) {
        rc = fail(err, -errno, "store %s: no store here (%s: %s)", path,
                  DATA_FILE, g_strerror(errno));
        goto leave;
    }
    rc = mdb_env_create(&env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs(env, MAXDBS);
    if (rc == 0)
        rc = mdb_env_set_mapsize(env, map_size ? map_size : STORE_MAP_DEFAULT);
    if (rc == 0)
        rc = mdb_env_open(env, path, MDB_RDONLY | (nolock ? MDB_NOLOCK : 0),
                          0600);
    if (rc != 0) {
        rc = fail(err, store_rc(rc), "store %s: cannot open: %s", path,
                  rc_text(rc));
        goto leave;
    }
    if (!nolock && !had_lock)
        give_to_owner(lock, &st);
    *out = env;
    env = NULL;
leave:
    if (env)
        mdb_env_close(env);
    g_free(data);
    g_free(lock);
    return rc;
}

static int read_begin(MDB_env *env, const char *path, MDB_txn **txn,
                      GError **err)
{
    int rc = mdb_txn_begin(env, NULL, MDB_RDONLY, txn);

    if (rc == MDB_MAP_RESIZED && mdb_env_set_mapsize(env, 0) == 0)
        rc = mdb_txn_begin(env, NULL, MDB_RDONLY, txn);
    if (rc != 0)
        return fail(err, store_rc(rc), "store %s: cannot read: %s", path,
                    rc_text(rc));
    return 0;
}

/* The schema version an environment records (meta, schema/meta.md). */
static int schema_of(MDB_txn *txn, const char *path, unsigned *out,
                     GError **err)
{
    MDB_dbi meta;
    GVariant *v = NULL;
    guint16 record;
    guint32 version;
    const char *key = "schema_version";
    int rc = mdb_dbi_open(txn, store_db_name(STORE_DB_META), 0, &meta);

    if (rc == 0)
        rc = store_get_variant(txn, meta, key, strlen(key),
                               G_VARIANT_TYPE("(qu)"), &v);
    if (rc != 0)
        return fail(err, store_rc(rc),
                    "store %s: no schema version can be read: %s", path,
                    rc_text(rc));
    g_variant_get(v, "(qu)", &record, &version);
    g_variant_unref(v);
    *out = version;
    return 0;
}

int backup_snapshot_open(const char *path, size_t map_size, gboolean nolock,
                         backup_snapshot *out, GError **err)
{
    int rc;

    *out = (backup_snapshot){0};
    rc = env_open(path, map_size, nolock, &out->env, err);
    if (rc == 0)
        rc = read_begin(out->env, path, &out->txn, err);
    if (rc == 0)
        rc = schema_of(out->txn, path, &out->schema, err);
    if (rc != 0)
        backup_snapshot_close(out);
    return rc;
}

void backup_snapshot_close(backup_snapshot *snap)
{
    if (snap->txn)
        mdb_txn_abort(snap->txn);
    if (snap->env)
        mdb_env_close(snap->env);
    *snap = (backup_snapshot){0};
}

/* ---- files ------------------------------------------------------------- */

/* One file of a backup, as its manifest lists it. */
typedef struct entry {
    char *path; /* relative to the backup and to the store */
    guint64 size;
    char *sha256; /* hex */
} entry;

static void entry_free(gpointer p)
{
    entry *e = p;

    g_free(e->path);
    g_free(e->sha256);
    g_free(e);
}

/* Reads src whole: *size and *sha (SHA-256, hex) of its bytes; with a
 * dst, copies them there too (created 0600, exclusive; synced; given to
 * owner when one is given, as root). */
static int pass_file(const char *src, const char *dst, const struct stat *owner,
                     guint64 *size, char **sha, GError **err)
{
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
    guchar *buf = g_malloc(COPY_CHUNK);
    int in = -1, out = -1, rc = 0;
    ssize_t n;

    *size = 0;
    in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in < 0) {
        rc = fail(err, -errno, "%s: %s", src, g_strerror(errno));
        goto leave;
    }
    out = dst ? open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600) : -1;
    if (dst && out < 0) {
        rc = fail(err, -errno, "%s: %s", dst, g_strerror(errno));
        goto leave;
    }
    while ((n = read(in, buf, COPY_CHUNK)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || (dst && write(out, buf, (size_t)n) != n)) {
            rc = fail(err, -errno, "copying %s: %s", src, g_strerror(errno));
            goto leave;
        }
        g_checksum_update(sum, buf, n);
        *size += (guint64)n;
    }
    if (dst && fsync(out) != 0) {
        rc = fail(err, -errno, "%s: %s", dst, g_strerror(errno));
        goto leave;
    }
    if (dst)
        give_to_owner(dst, owner);
    *sha = g_strdup(g_checksum_get_string(sum));
leave:
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    g_free(buf);
    g_checksum_free(sum);
    return rc;
}

/* The journal's copy ends at its last whole line. */
static int trim_to_line(const char *path, GError **err)
{
    char *text = NULL;
    gsize len = 0;
    const char *nl;
    int rc = 0;

    if (!g_file_get_contents(path, &text, &len, NULL))
        return fail(err, -EIO, "%s: cannot be read back", path);
    nl = len ? g_strrstr_len(text, (gssize)len, "\n") : NULL;
    if ((nl ? (gsize)(nl - text + 1) : 0) != len &&
        truncate(path, nl ? (off_t)(nl - text + 1) : 0) != 0)
        rc = fail(err, -errno, "%s: %s", path, g_strerror(errno));
    g_free(text);
    return rc;
}

static int add_entry(GPtrArray *entries, const char *dir, const char *rel,
                     GError **err)
{
    char *path = g_build_filename(dir, rel, NULL);
    entry *e = g_new0(entry, 1);
    int rc = pass_file(path, NULL, NULL, &e->size, &e->sha256, err);

    g_free(path);
    if (rc != 0) {
        entry_free(e);
        return rc;
    }
    e->path = g_strdup(rel);
    g_ptr_array_add(entries, e);
    return 0;
}

/* Copies the folder rel of src into dst, regular files and folders only
 * (a file gone meanwhile, as libpurple's *.save, is skipped), listing each
 * file in entries. */
static int copy_tree(const char *src, const char *dst, const char *rel,
                     guint depth, GPtrArray *entries, GError **err)
{
    char *from = g_build_filename(src, rel, NULL);
    char *to = g_build_filename(dst, rel, NULL);
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    DIR *d = NULL;
    struct dirent *de;
    int rc = 0;

    if (depth > DEPTH_MAX) {
        rc = fail(err, -ELOOP, "%s: folders nested too deep", from);
        goto leave;
    }
    if (g_mkdir_with_parents(to, 0700) != 0) {
        rc = fail(err, -errno, "%s: %s", to, g_strerror(errno));
        goto leave;
    }
    d = opendir(from);
    if (!d) {
        rc = errno == ENOENT
                 ? 0
                 : fail(err, -errno, "%s: %s", from, g_strerror(errno));
        goto leave;
    }
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            g_ptr_array_add(names, g_strdup(de->d_name));
    g_ptr_array_sort(names, (GCompareFunc)g_strcmp0); /* a stable manifest */
    for (guint i = 0; i < names->len && rc == 0; i++) {
        const char *name = *(char **)&names->pdata[i];
        char *sub = g_build_filename(rel, name, NULL);
        char *s = g_build_filename(src, sub, NULL);
        char *t = g_build_filename(dst, sub, NULL);
        struct stat st;
        guint64 size;
        char *sha = NULL;

        if (lstat(s, &st) != 0)
            rc = errno == ENOENT
                     ? 0
                     : fail(err, -errno, "%s: %s", s, g_strerror(errno));
        else if (S_ISDIR(st.st_mode))
            rc = copy_tree(src, dst, sub, depth + 1, entries, err);
        else if (S_ISREG(st.st_mode)) {
            GError *gone = NULL;
            rc = pass_file(s, t, NULL, &size, &sha, &gone);
            if (rc == -ENOENT && !g_file_test(s, G_FILE_TEST_EXISTS)) {
                g_clear_error(&gone);
                rc = 0;
            } else {
                if (gone)
                    g_propagate_error(err, gone);
                if (rc == 0 && !strcmp(name, JOURNAL_NAME))
                    rc = trim_to_line(t, err);
                if (rc == 0)
                    rc = add_entry(entries, dst, sub, err);
            }
            g_free(sha);
        }
        g_free(sub);
        g_free(s);
        g_free(t);
    }
leave:
    if (d)
        closedir(d);
    g_ptr_array_unref(names);
    g_free(from);
    g_free(to);
    return rc;
}

int backup_copy_folder(const char *src, const char *dst, const char *rel,
                       GError **err)
{
    GPtrArray *entries = g_ptr_array_new_with_free_func(entry_free);
    int rc = copy_tree(src, dst, rel, 0, entries, err);

    g_ptr_array_unref(entries);
    return rc;
}

/* ---- the manifest ------------------------------------------------------ */

/* BACKUP_MAGIC, then "key value" lines, then "file SIZE SHA256 PATH" lines
 * (the path last: it may hold spaces). */
static int manifest_write(const char *dir, const char *jid, const char *source,
                          unsigned schema, GPtrArray *entries, GError **err)
{
    GString *s = g_string_new(BACKUP_MAGIC "\n");
    GDateTime *now = g_date_time_new_now_utc();
    char *when = g_date_time_format_iso8601(now);
    char *path = g_build_filename(dir, BACKUP_MANIFEST, NULL);
    GError *e = NULL;
    int rc = 0;

    g_string_append_printf(s, "created %s\n", when);
    g_string_append_printf(s, "imgroups %s\n", IMGROUPS_VERSION);
    g_string_append_printf(s, "jid %s\n", jid ? jid : "");
    g_string_append_printf(s, "source %s\n", source);
    g_string_append_printf(s, "schema %u\n", schema);
    for (guint i = 0; i < entries->len; i++) {
        const entry *en = g_ptr_array_index(entries, i);
        g_string_append_printf(s, "file %" G_GUINT64_FORMAT " %s %s\n",
                               en->size, en->sha256, en->path);
    }
    /* Written last, renamed into place: its presence says the rest is. */
    if (!g_file_set_contents_full(path, s->str, (gssize)s->len,
                                  G_FILE_SET_CONTENTS_CONSISTENT, 0600, &e))
        rc = fail(err, -EIO, "%s: %s", path, e->message);
    g_clear_error(&e);
    g_free(path);
    g_free(when);
    g_date_time_unref(now);
    g_string_free(s, TRUE);
    return rc;
}

typedef struct manifest {
    char *created;
    unsigned schema;
    GPtrArray *entries;
} manifest;

static void manifest_clear(manifest *m)
{
    g_free(m->created);
    if (m->entries)
        g_ptr_array_unref(m->entries);
}

/* A path the manifest may name: data.mdb, or relative below purple/,
 * without empty, "." or ".." parts, so that a restore writes nowhere else. */
static gboolean path_allowed(const char *p)
{
    char **parts;
    gboolean ok = TRUE;

    if (!strcmp(p, DATA_FILE))
        return TRUE;
    if (!g_str_has_prefix(p, PURPLE_DIR "/"))
        return FALSE;
    parts = g_strsplit(p, "/", -1);
    for (char **x = parts; *x && ok; x++)
        ok = **x && strcmp(*x, ".") && strcmp(*x, "..");
    g_strfreev(parts);
    return ok;
}

static gboolean is_sha256(const char *s)
{
    size_t n = 0;

    for (; s[n]; n++)
        if (!g_ascii_isxdigit(s[n]) || g_ascii_isupper(s[n]))
            return FALSE;
    return n == 64;
}

static int manifest_line(manifest *m, const char *line)
{
    guint64 size;
    char **f;
    int rc = 0;

    if (g_str_has_prefix(line, "created "))
        m->created = g_strdup(line + 8);
    else if (g_str_has_prefix(line, "schema ")) {
        guint64 v;
        if (!g_ascii_string_to_unsigned(line + 7, 10, 1, G_MAXUINT32, &v, NULL))
            return -EINVAL;
        m->schema = (unsigned)v;
    } else if (g_str_has_prefix(line, "file ")) {
        f = g_strsplit(line + 5, " ", 3);
        if (g_strv_length(f) != 3 ||
            !g_ascii_string_to_unsigned(f[0], 10, 0, G_MAXUINT64, &size,
                                        NULL) ||
            !is_sha256(f[1]) || !path_allowed(f[2]))
            rc = -EINVAL;
        else {
            entry *e = g_new0(entry, 1);
            e->size = size;
            e->sha256 = g_strdup(f[1]);
            e->path = g_strdup(f[2]);
            g_ptr_array_add(m->entries, e);
        }
        g_strfreev(f);
    }
    return rc; /* other keys are for people */
}

static int manifest_read(const char *dir, manifest *m, GError **err)
{
    char *path = g_build_filename(dir, BACKUP_MANIFEST, NULL);
    char *text = NULL;
    char **lines = NULL;
    gboolean data = FALSE;
    int rc = 0;

    m->entries = g_ptr_array_new_with_free_func(entry_free);
    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        rc = fail(err, -ENOENT, "%s: no %s: not a backup, or an unfinished one",
                  dir, BACKUP_MANIFEST);
        goto leave;
    }
    lines = g_strsplit(text, "\n", -1);
    if (!lines[0] || strcmp(lines[0], BACKUP_MAGIC)) {
        rc = fail(err, -EINVAL, "%s: not an imgroups backup manifest", path);
        goto leave;
    }
    for (char **l = lines + 1; *l && rc == 0; l++)
        if (**l && manifest_line(m, *l) != 0)
            rc = fail(err, -EINVAL, "%s: line %d cannot be read", path,
                      (int)(l - lines) + 1);
    for (guint i = 0; rc == 0 && i < m->entries->len; i++)
        data |= !strcmp(((entry *)m->entries->pdata[i])->path, DATA_FILE);
    if (rc == 0 && (!data || !m->schema))
        rc = fail(err, -EINVAL, "%s: lists no %s or no schema version", path,
                  DATA_FILE);
leave:
    g_strfreev(lines);
    g_free(text);
    g_free(path);
    return rc;
}

/* ---- backup ------------------------------------------------------------ */

static int dir_empty_or_new(const char *dir, GError **err)
{
    GDir *d;
    gboolean empty;

    if (g_mkdir_with_parents(dir, 0700) != 0)
        return fail(err, -errno, "%s: %s", dir, g_strerror(errno));
    d = g_dir_open(dir, 0, NULL);
    if (!d)
        return fail(err, -EACCES, "%s: cannot be read", dir);
    empty = g_dir_read_name(d) == NULL;
    g_dir_close(d);
    if (!empty)
        return fail(err, -EEXIST,
                    "%s: not empty; a backup goes into a new "
                    "or empty directory",
                    dir);
    /* The backup carries the bot passwords: as private as the store. */
    if (chmod(dir, 0700) != 0)
        return fail(err, -errno, "%s: %s", dir, g_strerror(errno));
    return 0;
}

/* The schema version a copy records, read with no lock (nobody else
 * opens it). */
static int copy_schema(const char *dir, unsigned *schema, GError **err)
{
    backup_snapshot snap;
    int rc = backup_snapshot_open(dir, 0, TRUE, &snap, err);

    *schema = snap.schema;
    backup_snapshot_close(&snap);
    return rc;
}

int backup_make(const char *store_path, size_t map_size, const char *jid,
                const char *dir, GError **err)
{
    GPtrArray *entries = g_ptr_array_new_with_free_func(entry_free);
    MDB_env *env = NULL;
    char *data = NULL;
    unsigned schema = 0;
    int rc;

    rc = dir_empty_or_new(dir, err);
    if (rc == 0)
        rc = env_open(store_path, map_size, FALSE, &env, err);
    if (rc != 0)
        goto leave;
    /* One read snapshot, copied page by page without its free pages;
     * writers go on meanwhile (LMDB: "may be used to make a backup of an
     * existing environment"). */
    rc = mdb_env_copy2(env, dir, MDB_CP_COMPACT);
    if (rc != 0) {
        rc = fail(err, store_rc(rc), "store %s: copy into %s failed: %s",
                  store_path, dir, rc_text(rc));
        goto leave;
    }
    mdb_env_close(env);
    env = NULL;
    data = g_build_filename(dir, DATA_FILE, NULL);
    if (chmod(data, 0600) != 0) /* LMDB's is 0666 less the umask */
        rc = fail(err, -errno, "%s: %s", data, g_strerror(errno));
    if (rc == 0)
        rc = add_entry(entries, dir, DATA_FILE, err);
    if (rc == 0)
        rc = copy_schema(dir, &schema, err);
    /* After the snapshot: a journal copied later holds every delivery the
     * snapshot's outbox may still list, which a worker reports again. */
    if (rc == 0)
        rc = copy_tree(store_path, dir, PURPLE_DIR, 0, entries, err);
    if (rc == 0)
        rc = manifest_write(dir, jid, store_path, schema, entries, err);
leave:
    if (env)
        mdb_env_close(env);
    g_free(data);
    g_ptr_array_unref(entries);
    return rc;
}

/* ---- restore ----------------------------------------------------------- */

static int verify_files(const char *dir, const manifest *m, GError **err)
{
    for (guint i = 0; i < m->entries->len; i++) {
        const entry *e = g_ptr_array_index(m->entries, i);
        char *path = g_build_filename(dir, e->path, NULL);
        char *sha = NULL;
        guint64 size;
        int rc = pass_file(path, NULL, NULL, &size, &sha, err);

        if (rc == 0 && (size != e->size || strcmp(sha, e->sha256)))
            rc =
                fail(err, -EINVAL,
                     "%s: does not match the manifest (size or SHA-256)", path);
        g_free(sha);
        g_free(path);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Removes path and what is below it (the stage of an earlier restore). */
static void remove_tree(const char *path)
{
    GDir *d = g_dir_open(path, 0, NULL);
    const char *name;

    if (d) {
        while ((name = g_dir_read_name(d))) {
            char *sub = g_build_filename(path, name, NULL);
            struct stat st;
            if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
                remove_tree(sub);
            else
                unlink(sub);
            g_free(sub);
        }
        g_dir_close(d);
    }
    g_remove(path);
}

void backup_remove_tree(const char *path)
{
    remove_tree(path);
}

/* Copies every file of the manifest into stage, checking each again. */
static int stage_files(const char *dir, const manifest *m, const char *stage,
                       const struct stat *owner, GError **err)
{
    for (guint i = 0; i < m->entries->len; i++) {
        const entry *e = g_ptr_array_index(m->entries, i);
        char *src = g_build_filename(dir, e->path, NULL);
        char *dst = g_build_filename(stage, e->path, NULL);
        char *parent = g_path_get_dirname(dst);
        char *sha = NULL;
        guint64 size;
        int rc = 0;

        if (g_mkdir_with_parents(parent, 0700) != 0)
            rc = fail(err, -errno, "%s: %s", parent, g_strerror(errno));
        for (char *p = g_strdup(parent); rc == 0 && p;) {
            char *up = g_path_get_dirname(p);
            give_to_owner(p, owner);
            g_free(p);
            p = strlen(up) >= strlen(stage) ? up : (g_free(up), NULL);
        }
        if (rc == 0)
            rc = pass_file(src, dst, owner, &size, &sha, err);
        if (rc == 0 && (size != e->size || strcmp(sha, e->sha256)))
            rc = fail(err, -EINVAL, "%s: changed while it was restored", src);
        g_free(sha);
        g_free(parent);
        g_free(dst);
        g_free(src);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int sync_dir(const char *path, GError **err)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

    if (fd < 0 || fsync(fd) != 0)
        rc = fail(err, -errno, "%s: %s", path, g_strerror(errno));
    if (fd >= 0)
        close(fd);
    return rc;
}

static const char *const replaced[] = {DATA_FILE, LMDB_LOCK, PURPLE_DIR};

/* Moves what the store holds of replaced[] into a new pre-restore folder. */
static int move_aside(const char *store_path, char **aside, GError **err)
{
    GDateTime *now = g_date_time_new_now_utc();
    char *stamp = g_date_time_format(now, "pre-restore-%Y%m%dT%H%M%SZ");
    char *to = g_build_filename(store_path, stamp, NULL);
    int rc = 0;

    g_date_time_unref(now);
    g_free(stamp);
    *aside = NULL;
    for (gsize i = 0; i < G_N_ELEMENTS(replaced) && rc == 0; i++) {
        char *from = g_build_filename(store_path, replaced[i], NULL);
        char *dst = g_build_filename(to, replaced[i], NULL);

        if (g_file_test(from, G_FILE_TEST_EXISTS)) {
            if (!*aside && g_mkdir(to, 0700) != 0)
                rc = fail(err, -errno, "%s: %s", to, g_strerror(errno));
            else if (rename(from, dst) != 0)
                rc = fail(err, -errno, "%s: cannot be moved aside: %s", from,
                          g_strerror(errno));
            if (rc == 0 && !*aside)
                *aside = g_strdup(to);
        }
        g_free(from);
        g_free(dst);
    }
    g_free(to);
    return rc;
}

int backup_restore(const char *dir, const char *store_path, char **aside,
                   GError **err)
{
    manifest m = {0};
    backup_hold *hold = NULL;
    char *stage = g_build_filename(store_path, STAGE_DIR, NULL);
    struct stat owner;
    unsigned schema = 0;
    pid_t pid = 0;
    int rc;

    *aside = NULL;
    rc = manifest_read(dir, &m, err);
    if (rc == 0 && m.schema > STORE_SCHEMA_VERSION)
        rc = fail(err, -EINVAL,
                  "%s: schema version %u is newer than this imgroups "
                  "understands (%u)",
                  dir, m.schema, STORE_SCHEMA_VERSION);
    if (rc == 0)
        rc = verify_files(dir, &m, err);
    if (rc == 0)
        rc = copy_schema(dir, &schema, err);
    if (rc == 0 && schema != m.schema)
        rc = fail(err, -EINVAL,
                  "%s: the manifest says schema version %u, %s records %u", dir,
                  m.schema, DATA_FILE, schema);
    /* Never under a running imgroups: its hold, then anyone with the
     * environment open (a dump, a backup, mdb_stat). */
    if (rc == 0)
        rc = backup_hold_take(store_path, &hold, err);
    if (rc == 0)
        rc = lmdb_holder(store_path, &pid, err);
    if (rc == 0 && pid)
        rc = fail(err, -EBUSY,
                  "store %s: process %ld has the store open; stop it first",
                  store_path, (long)pid);
    if (rc == 0 && stat(store_path, &owner) != 0)
        rc = fail(err, -errno, "%s: %s", store_path, g_strerror(errno));
    if (rc != 0)
        goto leave;
    remove_tree(stage);
    rc = stage_files(dir, &m, stage, &owner, err);
    if (rc == 0)
        rc = move_aside(store_path, aside, err);
    for (gsize i = 0; i < G_N_ELEMENTS(replaced) && rc == 0; i++) {
        char *from = g_build_filename(stage, replaced[i], NULL);
        char *to = g_build_filename(store_path, replaced[i], NULL);
        if (g_file_test(from, G_FILE_TEST_EXISTS) && rename(from, to) != 0)
            rc = fail(err, -errno, "%s: %s", to, g_strerror(errno));
        g_free(from);
        g_free(to);
    }
    /* The renames themselves durable before we say it is done. */
    if (rc == 0)
        rc = sync_dir(store_path, err);
leave:
    if (hold)
        remove_tree(stage);
    backup_hold_free(hold);
    manifest_clear(&m);
    g_free(stage);
    return rc;
}

/* ---- the command line -------------------------------------------------- */

int backup_run(const config *cfg, const char *backup_dir,
               const char *restore_dir, gboolean dump)
{
    GError *err = NULL;
    char *aside = NULL;
    int rc;

    if (!!backup_dir + !!restore_dir + !!dump != 1) {
        g_printerr("imgroups: one of --backup, --restore, --dump at a time\n");
        return -EINVAL;
    }
    if (dump)
        rc = dump_store(cfg->storage_path, cfg->map_size, stdout, &err);
    else if (backup_dir)
        rc = backup_make(cfg->storage_path, cfg->map_size, cfg->jid, backup_dir,
                         &err);
    else
        rc = backup_restore(restore_dir, cfg->storage_path, &aside, &err);
    if (rc != 0) {
        g_printerr("imgroups: %s\n", err ? err->message : "failed");
        g_clear_error(&err);
        return rc;
    }
    if (backup_dir)
        printf("backup of %s written to %s\n", cfg->storage_path, backup_dir);
    if (restore_dir)
        printf("%s restored into %s%s%s\n", restore_dir, cfg->storage_path,
               aside ? "; what it held before is in " : "", aside ? aside : "");
    g_free(aside);
    return 0;
}
