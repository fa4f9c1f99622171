/* fuzz_schema: libFuzzer target for the record codecs of schema/ as they
 * read a corrupted database. The input's first byte n (mod 32) takes the
 * next n bytes as a stray key tail; the rest is one value. Inside one
 * write transaction (aborted afterwards, so nothing reaches the disk) the
 * value is put under a well-formed key of every record type (groups,
 * affiliations, accounts and secrets, members and their index, outbox
 * entries and mark, archive messages and mark, registered nicks and their
 * index) and under each database's prefix followed by the stray tail; then
 * every reader and walker of those records runs. Each must return success
 * or a clean error code, and whatever it decodes must hold valid UTF-8
 * where the writers promise it. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "accounts.h"
#include "affiliations.h"
#include "archive.h"
#include "avatars.h"
#include "directory.h"
#include "groups.h"
#include "members.h"
#include "nicks.h"
#include "outbox.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define GROUP   "g"
#define BARE    "u@x"
#define ACCOUNT "a"
#define HANDLE  "h"
#define TARGET  "t"
#define ABORTED 1 /* the callback's answer that rolls everything back */

typedef struct input {
    const uint8_t *tail; /* the stray key tail */
    size_t tail_len;
    const uint8_t *value;
    size_t value_len;
} input;

/* A record and where it goes: a key of a database, then the stray tail if
 * with_tail. */
typedef struct placement {
    enum store_db db;
    const char *key;
    size_t klen;
    gboolean with_tail;
} placement;

#define KEY(s) s, sizeof(s) - 1
static const placement placements[] = {
    {STORE_DB_GROUPS, KEY(GROUP), FALSE},
    {STORE_DB_GROUPS, KEY(GROUP), TRUE},
    {STORE_DB_AFFILIATIONS, KEY(GROUP "\0" BARE), FALSE},
    {STORE_DB_AFFILIATIONS, KEY(GROUP "\0"), TRUE},
    {STORE_DB_ACCOUNTS, KEY(ACCOUNT), FALSE},
    {STORE_DB_ACCOUNTS, KEY(ACCOUNT), TRUE},
    {STORE_DB_SECRETS, KEY(ACCOUNT), FALSE},
    {STORE_DB_MEMBERS, KEY(ACCOUNT "\0" HANDLE), FALSE},
    {STORE_DB_MEMBERS, KEY(ACCOUNT "\0"), TRUE},
    {STORE_DB_OUTBOX, KEY(ACCOUNT "\0i" TARGET "\0\0\0\0\0\0\0\0\1"), FALSE},
    {STORE_DB_OUTBOX, KEY("\0"), FALSE}, /* the id high-water mark */
    {STORE_DB_OUTBOX, KEY(ACCOUNT "\0"), TRUE},
    {STORE_DB_ARCHIVE, KEY(GROUP "\0\0\0\0\0\0\0\0\1"), FALSE},
    {STORE_DB_ARCHIVE, KEY(GROUP "\0"), FALSE}, /* the group's mark */
    {STORE_DB_ARCHIVE, KEY(GROUP "\0"), TRUE},
    {STORE_DB_NICKS, KEY(GROUP "\0nick"), FALSE},
    {STORE_DB_NICKS, KEY("\0" BARE "\0" GROUP), FALSE}, /* its index */
    {STORE_DB_NICKS, KEY(GROUP "\0"), TRUE},
    {STORE_DB_AVATARS, KEY(GROUP), FALSE},
    {STORE_DB_AVATARS, KEY(GROUP), TRUE},
    {STORE_DB_DIRECTORY, KEY(GROUP), TRUE},
};

/* Index entries (empty values) that lead to the members records. */
static const placement index_entries[] = {
    {STORE_DB_MEMBER_INDEX, KEY(GROUP "\0" ACCOUNT "\0" HANDLE), FALSE},
    {STORE_DB_MEMBER_INDEX, KEY(GROUP "\0"), TRUE},
};
#undef KEY

static store *st;
static char *dir;

static void check_text(const char *s)
{
    if (s && !g_utf8_validate(s, -1, NULL))
        abort();
}

/* Each of n strings (NULL allowed) is UTF-8. */
#define CHECK_TEXTS(...)                                                       \
    do {                                                                       \
        const char *const texts_[] = {__VA_ARGS__};                            \
        for (size_t i_ = 0; i_ < G_N_ELEMENTS(texts_); i_++)                   \
            check_text(texts_[i_]);                                            \
    } while (0)

/* rc is success or one of the clean errors. */
static void check_rc(int rc)
{
    if (rc != 0 && rc != MDB_NOTFOUND && rc != MDB_CORRUPTED &&
        rc != ARCHIVE_ITEM_NOT_FOUND) {
        fprintf(stderr, "fuzz_schema: unexpected return %d\n", rc);
        abort();
    }
}

static void put(MDB_txn *txn, const placement *p, const input *in,
                const void *value, size_t value_len)
{
    GByteArray *key = g_byte_array_new();
    MDB_val k, d = {.mv_size = value_len, .mv_data = (void *)value};

    g_byte_array_append(key, (const guint8 *)p->key, (guint)p->klen);
    if (p->with_tail)
        g_byte_array_append(key, in->tail, (guint)in->tail_len);
    k = (MDB_val){.mv_size = key->len, .mv_data = key->data};
    /* A zero-length key is refused by LMDB; the rest always fit. */
    if (key->len > 0 && mdb_put(txn, store_dbi(st, p->db), &k, &d, 0) != 0)
        abort();
    g_byte_array_unref(key);
}

static void check_group(const group_cfg *g)
{
    CHECK_TEXTS(g->name, g->description, g->subject, g->subject_nick,
                g->password, g->allow_pm);
}

static void read_groups(MDB_txn *txn)
{
    group_cfg *g = NULL;
    GPtrArray *all = NULL;
    int rc = groups_get(txn, st, GROUP, &g);

    check_rc(rc);
    if ((rc == 0) != (g != NULL))
        abort();
    if (g)
        check_group(g);
    group_cfg_free(g);
    if (groups_list_all(txn, st, &all) != 0)
        abort();
    for (guint i = 0; i < all->len; i++)
        check_group(g_ptr_array_index(all, i));
    g_ptr_array_unref(all);
}

static int on_affiliation(const char *bare, enum affiliation a,
                          const char *reason, void *userdata)
{
    if (a > AFF_OUTCAST)
        abort();
    check_text(reason);
    return 0;
}

static void read_affiliations(MDB_txn *txn)
{
    enum affiliation a;
    guint owned;

    check_rc(affiliations_get(txn, st, GROUP, BARE, &a));
    if (a > AFF_OUTCAST)
        abort();
    check_rc(affiliations_foreach(txn, st, GROUP, on_affiliation, NULL));
    check_rc(affiliations_count_owned(txn, st, BARE, &owned));
}

static int on_account(const account_rec *a, void *userdata)
{
    GHashTableIter it;
    gpointer k, v;

    CHECK_TEXTS(a->protocol, a->username, a->group, a->mode, a->chat);
    g_hash_table_iter_init(&it, a->options);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        check_text(k);
        check_text(v);
    }
    return 0;
}

static void read_accounts(MDB_txn *txn)
{
    account_rec *a = NULL;
    char *pw = NULL;
    int rc = accounts_get(txn, st, ACCOUNT, &a);

    check_rc(rc);
    if (a) {
        account_rec *copy = account_rec_copy(a);

        on_account(a, NULL);
        on_account(copy, NULL);
        account_rec_free(copy);
    }
    account_rec_free(a);
    rc = accounts_password(txn, st, ACCOUNT, &pw);
    check_rc(rc);
    if ((rc == 0) != (pw != NULL))
        abort();
    check_text(pw);
    g_free(pw);
    check_rc(accounts_foreach(txn, st, on_account, NULL));
}

static int on_member(const member_rec *m, void *userdata)
{
    if (!m->group || !*m->group)
        abort();
    CHECK_TEXTS(m->group, m->nick, m->alias);
    return 0;
}

static void read_members(MDB_txn *txn)
{
    member_rec *m = NULL;
    int rc = members_get(txn, st, ACCOUNT, HANDLE, &m);

    check_rc(rc);
    if (m)
        on_member(m, NULL);
    member_rec_free(m);
    check_rc(members_foreach_account(txn, st, ACCOUNT, on_member, NULL));
    check_rc(members_foreach_group(txn, st, GROUP, on_member, NULL));
}

static int on_outbox(const outbox_msg *m, void *userdata)
{
    CHECK_TEXTS(m->group, m->nick, m->body);
    return 0;
}

static int on_pending(const char *account, char kind, const char *target,
                      guint64 pending, void *userdata)
{
    if (kind != OUTBOX_KIND_IM && kind != OUTBOX_KIND_CHAT)
        abort();
    return 0;
}

static void read_outbox(MDB_txn *txn)
{
    outbox_msg add = {.account = ACCOUNT,
                      .kind = OUTBOX_KIND_IM,
                      .target = TARGET,
                      .group = GROUP,
                      .body = "hi"};
    guint64 count;
    int rc;

    check_rc(outbox_foreach_target(txn, st, ACCOUNT, OUTBOX_KIND_IM, TARGET, 0,
                                   on_outbox, NULL));
    check_rc(
        outbox_count_target(txn, st, ACCOUNT, OUTBOX_KIND_IM, TARGET, &count));
    check_rc(outbox_foreach_pending_target(txn, st, ACCOUNT, on_pending, NULL));
    /* Adding reads the high-water mark. */
    rc = outbox_add(txn, st, &add);
    if (rc != -EOVERFLOW)
        check_rc(rc);
}

static void check_msg(const archive_msg *m)
{
    CHECK_TEXTS(m->stanza_id, m->nick, m->body, m->subject, m->occupant_id,
                m->sender_jid, m->sender_account, m->sender_handle,
                m->origin_id, m->client_id, m->payload, m->replace_id,
                m->retract_of, m->retracted, m->retracted_by,
                m->retract_reason, m->retract_id);
}

static void check_msgs(GPtrArray *msgs)
{
    for (guint i = 0; msgs && i < msgs->len; i++)
        check_msg(g_ptr_array_index(msgs, i));
}

static void read_archive(MDB_txn *txn)
{
    archive_query q = {0};
    archive_msg *m = NULL;
    archive_msg add = {.body = (char *)"hi"};
    GPtrArray *msgs = NULL;
    gboolean complete;
    guint64 count;
    int rc = archive_get(txn, st, GROUP, 1, &m);

    check_rc(rc);
    if (m) {
        archive_msg *by_id = NULL;

        check_msg(m);
        /* The stored id is whatever the record says: looking it up finds
         * this message or nothing. */
        check_rc(archive_get_id(txn, st, GROUP, m->stanza_id, &by_id));
        archive_msg_free(by_id);
    }
    archive_msg_free(m);
    check_rc(archive_query_run(txn, st, GROUP, &q, &msgs, &complete, &count));
    check_msgs(msgs);
    if (msgs)
        g_ptr_array_unref(msgs);
    msgs = NULL;
    q.before_last = TRUE;
    check_rc(archive_query_run(txn, st, GROUP, &q, &msgs, &complete, &count));
    check_msgs(msgs);
    if (msgs)
        g_ptr_array_unref(msgs);
    msgs = NULL;
    check_rc(archive_history(txn, st, GROUP, 20, -1, 0, NULL, NULL, &msgs));
    check_msgs(msgs);
    if (msgs)
        g_ptr_array_unref(msgs);
    /* Appending reads the group's mark and last message; a mark at the
     * last seq leaves no seq to give. */
    rc = archive_append(txn, st, GROUP, &add);
    if (rc != -EOVERFLOW)
        check_rc(rc);
    g_free(add.stanza_id);
}

/* Room avatars (read in place for the hash) and the public list's pages
 * both ways from a listed key. */
static void read_avatars(MDB_txn *txn)
{
    char hash[AVATARS_HASH_LEN];
    avatars_photo *p = NULL;
    GPtrArray *page = NULL;
    guint n;

    check_rc(avatars_get(txn, st, GROUP, &p));
    if (p) {
        CHECK_TEXTS(p->type, p->hash);
        avatars_photo_free(p);
    }
    check_rc(avatars_hash(txn, st, GROUP, hash));
    check_text(hash);
    check_rc(directory_count(txn, st, &n));
    /* from the first, from the listed GROUP..., the last page */
    for (int i = 0; i < 3; i++) {
        check_rc(directory_page(txn, st, i == 1 ? GROUP : NULL,
                                i == 2 ? "" : NULL, 10, &page));
        if (page)
            g_ptr_array_unref(page);
        page = NULL;
    }
    check_rc(avatars_delete(txn, st, GROUP));
}

/* Registered nicks: the readers, then the writers that read first (the
 * transaction is rolled back whatever they write). */
static void read_nicks(MDB_txn *txn)
{
    char *owner = NULL, *nick = NULL, *key = NULL;
    guint n;
    int rc;

    check_rc(nicks_owner(txn, st, GROUP, "nick", &owner));
    check_rc(nicks_of(txn, st, GROUP, BARE, &nick, &key));
    CHECK_TEXTS(owner, nick, key);
    g_free(owner);
    g_free(nick);
    g_free(key);
    check_rc(nicks_count(txn, st, GROUP, 100, &n));
    rc = nicks_register(txn, st, GROUP, "v@x", "Nick", "nick");
    if (rc != NICKS_TAKEN)
        check_rc(rc);
    check_rc(nicks_unregister(txn, st, GROUP, BARE));
    check_rc(nicks_forget(txn, st, BARE, &n));
    check_rc(nicks_drop_group(txn, st, GROUP));
}

static int run(MDB_txn *txn, const store *s, void *userdata)
{
    const input *in = userdata;

    for (size_t i = 0; i < G_N_ELEMENTS(placements); i++)
        put(txn, &placements[i], in, in->value, in->value_len);
    for (size_t i = 0; i < G_N_ELEMENTS(index_entries); i++)
        put(txn, &index_entries[i], in, "", 0);
    read_groups(txn);
    read_affiliations(txn);
    read_accounts(txn);
    read_members(txn);
    read_outbox(txn);
    read_archive(txn);
    read_nicks(txn);
    read_avatars(txn);
    return ABORTED;
}

static void remove_store(void)
{
    static const char *const files[] = {"data.mdb", "lock.mdb"};

    store_close(st);
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
        char *path = g_build_filename(dir, files[i], NULL);

        g_unlink(path);
        g_free(path);
    }
    g_rmdir(dir);
    g_free(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    GError *err = NULL;
    input in;

    if (!st) {
        dir = g_dir_make_tmp("fuzz_schema-XXXXXX", NULL);
        if (!dir || store_open(dir, 0, &st, &err) != 0)
            abort();
        atexit(remove_store);
    }
    if (size == 0)
        return 0;
    in.tail_len = MIN((size_t)(data[0] % 32), size - 1);
    in.tail = data + 1;
    in.value = data + 1 + in.tail_len;
    in.value_len = size - 1 - in.tail_len;
    if (store_write(st, run, &in, &err) == 0)
        abort();
    g_clear_error(&err);
    return 0;
}
