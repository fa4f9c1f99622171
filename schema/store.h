/* store: the one LMDB environment, its named databases, schema version,
 * the map set once, and the cursor walker. Everything that touches disk
 * goes through here. */
#ifndef IMGROUPS_STORE_H
#define IMGROUPS_STORE_H

#include <stdint.h>

#include <glib.h>
#include <lmdb.h>

/* The schema version this build writes. A store recording a newer one is
 * refused at open; an older one is migrated in the open transaction
 * (schema/README.md, "Versions and migrations"). */
#define STORE_SCHEMA_VERSION 5

/* Version of the meta records this build writes (schema/meta.md). */
#define STORE_META_RECORD_VERSION 1

/* The map is set once, at open ([storage] map_size), and never grows: it is
 * address space, not disk (LMDB allocates nothing for unused map space; the
 * file grows with the data). The default and the most that may be asked
 * for: 1 TiB, where size_t has 64 bits; 1 GiB where it has 32. */
#if SIZE_MAX > 0xffffffffu
#define STORE_MAP_DEFAULT ((size_t)1 << 40)
#define STORE_MAP_MAX     ((size_t)1 << 46) /* 64 TiB */
#else
#define STORE_MAP_DEFAULT ((size_t)1 << 30)
#define STORE_MAP_MAX     ((size_t)1 << 30)
#endif
/* The least a map may be set to ([storage] map_size). */
#define STORE_MAP_MIN ((size_t)1 << 20)

/* Key lengths (schema/README.md, "Keys"). LMDB refuses a key longer than
 * mdb_env_get_maxkeysize(), 511 bytes in every build of LMDB we link
 * (store_open checks). A key is prefix + fields joined by \0; each field a
 * client or a legacy network controls has its own bound here, chosen so
 * that every layout fits whatever the other fields hold (the sums are
 * checked at compile time in store.c). The bounds are checked where the
 * value enters (router, JID validation, the bridge) and again by every
 * schema function that builds a key, which returns STORE_KEY_TOO_LONG
 * before touching the transaction. */
#define STORE_KEY_MAX     511
#define STORE_GROUP_MAX   128 /* room localpart, folded */
#define STORE_ACCOUNT_MAX 64  /* bot account name */
/* A bare JID in an affiliation key: group \0 bare. */
#define STORE_JID_MAX (STORE_KEY_MAX - STORE_GROUP_MAX - 1) /* 382 */
/* A legacy handle or chat name in member, member_index and outbox keys:
 * group \0 account \0 handle is the longest. */
#define STORE_HANDLE_MAX                                                       \
    (STORE_KEY_MAX - STORE_GROUP_MAX - STORE_ACCOUNT_MAX - 2) /* 317 */
/* A folded nick in a nicks key: group \0 nick. */
#define STORE_NICK_MAX (STORE_KEY_MAX - STORE_GROUP_MAX - 1) /* 382 */

/* A key part longer than its bound above. Distinct from every LMDB code and
 * errno value, so that callers can answer with a precise error. */
#define STORE_KEY_TOO_LONG (-31100)

/* Whether s (a C string, may be NULL) fits a key part of at most max bytes:
 * 0, or STORE_KEY_TOO_LONG. NULL fits (the caller checks presence). */
int store_key_part_check(const char *s, size_t max);

/* Named databases; each has a page in schema/<name>.md. */
enum store_db {
    STORE_DB_META,         /* "meta": schema version, created-at */
    STORE_DB_GROUPS,       /* "groups": group localpart -> config */
    STORE_DB_AFFILIATIONS, /* "affiliations": group\0jid -> affiliation */
    STORE_DB_MEMBERS,      /* "members": legacy identity -> membership */
    STORE_DB_ACCOUNTS,     /* "accounts": account name -> settings */
    STORE_DB_ARCHIVE,      /* "archive": group\0seq(be64) -> message */
    STORE_DB_OUTBOX,       /* "outbox": account\0kind target\0id(be64) */
    STORE_DB_NICKS,        /* "nicks": group\0folded nick -> owner */
    STORE_DB_MEMBER_INDEX, /* "member_index": group\0account\0handle */
    STORE_DB_SECRETS,      /* "secrets": account name -> password */
    STORE_DB_ARCHIVE_GAPS, /* "archive_gaps": group\0start(be64) -> end */
    STORE_DB_OWNED,        /* "owned": owner's bare JID\0group -> empty */
    STORE_DB_DIRECTORY,    /* "directory": public group localpart -> empty */
    STORE_DB_AVATARS,      /* "avatars": group localpart -> room avatar */
    STORE_DB_NOTICED,      /* "noticed": bare JID -> first-contact notice */
    STORE_DB_PHOTOS,       /* "photos": SHA-1 hex -> a member's picture */
    STORE_DB_COUNT
};

/* GError domain of every error the store sets. Messages start with
 * "store <path>: " and name the cause; they never hold keys or values. */
#define STORE_ERROR (store_error_quark())
GQuark store_error_quark(void);

enum store_error {
    STORE_ERROR_FAILED,        /* an LMDB or system call failed */
    STORE_ERROR_NOT_DIRECTORY, /* the path exists and is not a directory */
    STORE_ERROR_NOT_WRITABLE,  /* the directory cannot be written */
    STORE_ERROR_NOT_STORE,     /* not an LMDB environment, or not ours */
    STORE_ERROR_NEWER_SCHEMA,  /* written by a newer imgroups */
    STORE_ERROR_CORRUPTED,     /* the meta records cannot be decoded */
    STORE_ERROR_FULL,          /* the store reached its map size */
    STORE_ERROR_IO,            /* commit failed: disk full, I/O error... */
    STORE_ERROR_ABORTED,       /* a store_write callback returned non-zero */
};

typedef struct store store;

/* Opens (creating if missing, with its parents, directory mode 0700; an
 * existing directory open to group or others is chmod'ed to 0700) the
 * environment at path, creates the named databases, records
 * STORE_SCHEMA_VERSION in a new store, migrates an older one, and refuses a
 * store whose recorded version is newer than this build's.
 * map_size is the map in bytes (0: STORE_MAP_DEFAULT), set once: the store
 * never holds more (a store already holding more data than that opens with
 * a map of its data's size). On failure returns negative and sets *err
 * (STORE_ERROR) with a message naming the path and the cause. *out is owned by
 * the caller: store_close() frees it. */
int store_open(const char *path, size_t map_size, store **out, GError **err);

/* Closes the environment and frees s (NULL is allowed). No transaction may
 * be open. */
void store_close(store *s);

/* The handle of a named database; valid while the store is open. */
MDB_dbi store_dbi(const store *s, enum store_db db);

/* The name of a named database ("meta", "groups", ...); static storage. */
const char *store_db_name(enum store_db db);

/* The schema version recorded in the store (after any migration at open,
 * STORE_SCHEMA_VERSION). */
unsigned store_schema_version(const store *s);

/* The map size in bytes, as set at open. */
size_t store_map_size(const store *s);

/* Whether each commit also flushes LMDB's meta page (TRUE, the default) or
 * leaves it to the next commit's flush (FALSE: MDB_NOMETASYNC, [storage]
 * sync = no-meta). FALSE saves one device flush per commit and keeps the
 * store consistent, but a power loss (not a crash of the process) may undo
 * the last commit: messages already acknowledged and sent. Opt-in only.
 * Returns 0 or a negative code. */
int store_set_meta_sync(store *s, gboolean on);
gboolean store_meta_sync(const store *s);

/* Runs fn inside one write transaction and commits it (synced). fn runs
 * exactly once. fn returns 0 to commit. Any other value aborts, nothing is
 * written, and store_write returns it (a positive errno value e is
 * returned as -e) with *err set (STORE_ERROR_ABORTED, naming the LMDB code
 * if it is one). On an LMDB failure returns negative and sets *err naming
 * the cause: STORE_ERROR_IO for a failed commit (disk full, I/O error; the
 * errno text is in the message), STORE_ERROR_FULL when the store reached
 * its map size (MDB_MAP_FULL from fn or from the commit: handled like a
 * full disk). After a failure nothing of the transaction is on disk and
 * the store stays usable. fn must not call store_write (refused:
 * -EDEADLK). */
typedef int (*store_write_fn)(MDB_txn *txn, const store *s, void *userdata);
int store_write(store *s, store_write_fn fn, void *userdata, GError **err);

/* Group commit (DESIGN.md "Data flow"): between store_batch_begin and
 * store_batch_end, every store_write runs in a nested transaction of one
 * outer write transaction, which store_batch_end commits (one sync for the
 * whole batch). A store_write that fails leaves the batch's other writes
 * intact (the map full included). store_read_begin inside a batch (once it has
 * written) returns the batch's own transaction, so reads see the batch's
 * writes, and store_read_end leaves it open. Nothing the batch wrote is durable
 * until store_batch_end returns 0; on failure it is all lost and *err says why.
 */
void store_batch_begin(store *s);
int store_batch_end(store *s, GError **err);

/* A read-only snapshot; one per thread at a time (LMDB ties a read
 * transaction to its thread). Pointers read through it are borrowed until
 * store_read_end(). On failure returns negative and sets *err. */
int store_read_begin(store *s, MDB_txn **txn, GError **err);
void store_read_end(MDB_txn *txn);

/* Serialises v (in normal form; sinks a floating ref) and puts it under key.
 * Returns the mdb_put result as store_rc gives it (0, MDB_MAP_FULL, ...),
 * which the caller
 * returns from its store_write callback. */
int store_put_variant(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
                      GVariant *v);

/* Reads key and returns in *out a GVariant of type t owned by the caller (a
 * full reference, g_variant_unref; a copy, so it outlives the transaction).
 * Returns 0, MDB_NOTFOUND if absent, MDB_CORRUPTED if the bytes are not a
 * normal-form value of type t, or another mdb_get error; *out is NULL unless
 * 0 is returned. */
int store_get_variant(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
                      const GVariantType *t, GVariant **out);

/* The same check and copy for a value already read (e.g. by a cursor):
 * returns 0 with *out owned by the caller, or MDB_CORRUPTED. */
int store_decode_variant(const MDB_val *val, const GVariantType *t,
                         GVariant **out);

/* A 64-bit number as a key part: big-endian, so keys sort as the numbers
 * (GUINT64_TO_BE); 8 bytes at p, which need not be aligned. */
void store_put_be64(void *p, guint64 x);
guint64 store_get_be64(const void *p);

/* rc as every store and schema function returns it: 0, an LMDB code
 * (negative), or an errno value negated (LMDB also fails with those). */
int store_rc(int rc);

/* The one cursor walker. Calls fn for every record of dbi whose key starts
 * with prefix[0..len) (len 0: every record), in key order. key and val are
 * borrowed until fn returns. fn returns 0 to go on, a positive value to
 * stop (store_walk then returns 0), or a negative code to fail (returned
 * as is). fn may write to the transaction, dbi included: the walk goes on
 * from the first key after the one fn was given, whatever fn put or
 * deleted. Returns 0, fn's negative code, or a negative LMDB or errno
 * code (-EINVAL for a prefix longer than STORE_KEY_MAX). */
typedef int (*store_walk_fn)(const MDB_val *key, const MDB_val *val,
                             void *userdata);
int store_walk(MDB_txn *txn, MDB_dbi dbi, const void *prefix, size_t len,
               store_walk_fn fn, void *userdata);

/* The first (last FALSE) or the last (last TRUE) part of a composite key,
 * whose parts are joined by one \0 (schema/README.md, "Keys"): a key
 * without \0 is its own only part. *part borrows key's bytes. */
void store_key_part(const MDB_val *key, gboolean last, MDB_val *part);

/* The string under key in an a{sv} record, owned by the caller; NULL when
 * missing or of another type. */
char *store_dict_string(GVariant *dict, const char *key);

#endif
