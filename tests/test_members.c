/* test_members: the "members" database and its group index — put, get,
 * delete, the walks by group and by account, bad arguments and records this
 * build cannot decode. */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "members.h"
#include "store.h"
#include "testutil.h"

/* A store in a temp dir (testutil.c). */
typedef testutil_store fixture;

/* Writing: each helper runs one store_write and returns what the members_
 * call returned (store_write's own result is checked to agree). */

typedef struct write_call {
    const member_rec *m;
    const char *account;
    const char *handle;
    int rc;
} write_call;

static int put_txn(MDB_txn *txn, const store *s, void *userdata)
{
    write_call *c = userdata;

    c->rc = members_put(txn, s, c->m);
    return c->rc;
}

static int delete_txn(MDB_txn *txn, const store *s, void *userdata)
{
    write_call *c = userdata;

    c->rc = members_delete(txn, s, c->account, c->handle);
    return c->rc;
}

static int put(fixture *f, const member_rec *m)
{
    write_call c = {.m = m};

    return testutil_store_write(f, put_txn, &c, &c.rc);
}

static void put_ok(fixture *f, const char *account, const char *handle,
                   const char *group)
{
    member_rec m = {.account = (char *)account,
                    .handle = (char *)handle,
                    .group = (char *)group};

    g_assert_cmpint(put(f, &m), ==, 0);
}

static int delete (fixture *f, const char *account, const char *handle)
{
    write_call c = {.account = account, .handle = handle};

    return testutil_store_write(f, delete_txn, &c, &c.rc);
}

/* Reading */

static int get(fixture *f, const char *account, const char *handle,
               member_rec **out)
{
    MDB_txn *txn;
    GError *err = NULL;
    int rc;

    g_assert_cmpint(store_read_begin(f->s, &txn, &err), ==, 0);
    g_assert_no_error(err);
    rc = members_get(txn, f->s, account, handle, out);
    store_read_end(txn);
    return rc;
}

static member_rec *get_ok(fixture *f, const char *account, const char *handle)
{
    member_rec *m = NULL;

    g_assert_cmpint(get(f, account, handle, &m), ==, 0);
    g_assert_nonnull(m);
    return m;
}

/* What a walk saw: "account|handle" per member. */
typedef struct seen {
    GPtrArray *names;
    const char *want_group; /* when set, every member must be of it */
    int stop_after;         /* when > 0, return 7 after that many */
    store *s;               /* when set, delete each member seen ... */
    gboolean delete_each;   /* ... (inside the walk's write transaction) */
    MDB_txn *txn;
} seen;

static int collect(const member_rec *m, void *userdata)
{
    seen *w = userdata;

    if (w->want_group)
        g_assert_cmpstr(m->group, ==, w->want_group);
    g_ptr_array_add(w->names, g_strdup_printf("%s|%s", m->account, m->handle));
    if (w->delete_each)
        g_assert_cmpint(members_delete(w->txn, w->s, m->account, m->handle), ==,
                        0);
    if (w->stop_after > 0 && (int)w->names->len == w->stop_after)
        return 7;
    return 0;
}

/* Runs a walk (by group when group is set, else by account) in a read
 * snapshot and compares what it saw with want (NULL-terminated). */
static void assert_walk(fixture *f, const char *group, const char *account,
                        const char *const *want)
{
    seen w = {.names = g_ptr_array_new_with_free_func(g_free),
              .want_group = group};
    MDB_txn *txn;
    gsize n = 0;

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    if (group)
        g_assert_cmpint(members_foreach_group(txn, f->s, group, collect, &w),
                        ==, 0);
    else
        g_assert_cmpint(
            members_foreach_account(txn, f->s, account, collect, &w), ==, 0);
    store_read_end(txn);
    while (want[n])
        n++;
    for (guint i = 0; i < w.names->len && i < n; i++)
        g_assert_cmpstr(g_ptr_array_index(w.names, i), ==, want[i]);
    g_assert_cmpuint(w.names->len, ==, n);
    g_ptr_array_unref(w.names);
}

#define WALK_GROUP(f, group, ...)                                              \
    assert_walk(f, group, NULL, (const char *const[]){__VA_ARGS__, NULL})
#define WALK_ACCOUNT(f, account, ...)                                          \
    assert_walk(f, NULL, account, (const char *const[]){__VA_ARGS__, NULL})

/* Every key of "member_index", NULs shown as '/', joined by ",". */
static char *index_keys(fixture *f)
{
    GString *out = g_string_new(NULL);
    MDB_cursor *cur;
    MDB_txn *txn;
    MDB_val k, d;
    int rc;

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(
        mdb_cursor_open(txn, store_dbi(f->s, STORE_DB_MEMBER_INDEX), &cur), ==,
        0);
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        g_assert_cmpuint(d.mv_size, ==, 0);
        if (out->len)
            g_string_append_c(out, ',');
        for (size_t i = 0; i < k.mv_size; i++) {
            char c = ((const char *)k.mv_data)[i];
            g_string_append_c(out, c ? c : '/');
        }
    }
    g_assert_cmpint(rc, ==, MDB_NOTFOUND);
    mdb_cursor_close(cur);
    store_read_end(txn);
    return g_string_free(out, FALSE);
}

#define ASSERT_INDEX(f, want)                                                  \
    do {                                                                       \
        char *got_ = index_keys(f);                                            \
        g_assert_cmpstr(got_, ==, want);                                       \
        g_free(got_);                                                          \
    } while (0)

/* Tests */

static void put_then_get_round_trips_every_field(fixture *f, gconstpointer data)
{
    static const member_rec cases[] = {
        {"irc-bot", "alice", "lobby", "Alice", "Alice A.", TRUE, TRUE,
         G_GINT64_CONSTANT(1700000000123456), G_GINT64_CONSTANT(1700000999),
         "0123456789abcdef0123456789abcdef01234567"},
        {"irc-bot", "bob", "lobby", NULL, NULL, FALSE, FALSE, 0, 0, NULL},
        {"x", "\x01\x7f\xff odd bytes", "café", "Zoë ☕", "", FALSE, TRUE,
         G_MININT64, G_MAXINT64, NULL},
        {"ü-account", "名前@example", "g", "", "alias only", TRUE, FALSE, -1, 1,
         NULL},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
        g_assert_cmpint(put(f, &cases[i]), ==, 0);
    testutil_store_reopen(f);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        const member_rec *want = &cases[i];
        member_rec *m = get_ok(f, want->account, want->handle);

        g_test_message("case %" G_GSIZE_FORMAT, i);
        g_assert_cmpstr(m->account, ==, want->account);
        g_assert_cmpstr(m->handle, ==, want->handle);
        g_assert_cmpstr(m->group, ==, want->group);
        g_assert_cmpstr(m->nick, ==, want->nick);
        g_assert_cmpstr(m->alias, ==, want->alias);
        g_assert_cmpint(m->muted, ==, want->muted);
        g_assert_cmpint(m->welcomed, ==, want->welcomed);
        g_assert_cmpint(m->since_us, ==, want->since_us);
        g_assert_cmpint(m->seen_us, ==, want->seen_us);
        g_assert_cmpstr(m->photo, ==, want->photo);
        member_rec_free(m);
    }
}

static void put_replaces_the_whole_record(fixture *f, gconstpointer data)
{
    member_rec first = {.account = "acct",
                        .handle = "alice",
                        .group = "lobby",
                        .nick = "alice",
                        .alias = "Alice",
                        .muted = TRUE,
                        .welcomed = TRUE,
                        .since_us = 10,
                        .seen_us = 20};
    member_rec second = {.account = "acct",
                         .handle = "alice",
                         .group = "lobby",
                         .nick = "ally",
                         .since_us = 10};
    member_rec *m;

    g_assert_cmpint(put(f, &first), ==, 0);
    g_assert_cmpint(put(f, &second), ==, 0);
    m = get_ok(f, "acct", "alice");
    g_assert_cmpstr(m->nick, ==, "ally");
    g_assert_null(m->alias);
    g_assert_false(m->muted);
    g_assert_false(m->welcomed);
    g_assert_cmpint(m->since_us, ==, 10);
    g_assert_cmpint(m->seen_us, ==, 0);
    member_rec_free(m);
    WALK_GROUP(f, "lobby", "acct|alice");
}

static void get_of_an_unknown_member_is_not_found(fixture *f,
                                                  gconstpointer data)
{
    static const struct {
        const char *account, *handle;
    } absent[] = {
        {"acct", "alic"},   {"acct", "alicea"}, {"acc", "alice"},
        {"acctx", "alice"}, {"other", "alice"},
    };

    put_ok(f, "acct", "alice", "lobby");
    for (gsize i = 0; i < G_N_ELEMENTS(absent); i++) {
        member_rec *m = (member_rec *)f;

        g_assert_cmpint(get(f, absent[i].account, absent[i].handle, &m), ==,
                        MDB_NOTFOUND);
        g_assert_null(m);
    }
}

static void delete_of_an_absent_member_is_0(fixture *f, gconstpointer data)
{
    g_assert_cmpint(delete (f, "acct", "nobody"), ==, 0);
    put_ok(f, "acct", "alice", "lobby");
    g_assert_cmpint(delete (f, "acct", "alic"), ==, 0);
    g_assert_cmpint(delete (f, "acct", "alice"), ==, 0);
    g_assert_cmpint(delete (f, "acct", "alice"), ==, 0);
    g_assert_cmpint(get(f, "acct", "alice", &(member_rec *){NULL}), ==,
                    MDB_NOTFOUND);
}

static void group_index_follows_a_group_change_and_a_delete(fixture *f,
                                                            gconstpointer data)
{
    put_ok(f, "acct", "alice", "red");
    put_ok(f, "acct", "bob", "red");
    WALK_GROUP(f, "red", "acct|alice", "acct|bob");
    WALK_GROUP(f, "blue", NULL);
    ASSERT_INDEX(f, "red/acct/alice,red/acct/bob");

    put_ok(f, "acct", "alice", "blue");
    WALK_GROUP(f, "red", "acct|bob");
    WALK_GROUP(f, "blue", "acct|alice");
    ASSERT_INDEX(f, "blue/acct/alice,red/acct/bob");

    /* Back again: the entry moves back, no duplicate. */
    put_ok(f, "acct", "alice", "red");
    put_ok(f, "acct", "alice", "red");
    WALK_GROUP(f, "red", "acct|alice", "acct|bob");
    WALK_GROUP(f, "blue", NULL);
    ASSERT_INDEX(f, "red/acct/alice,red/acct/bob");

    g_assert_cmpint(delete (f, "acct", "alice"), ==, 0);
    WALK_GROUP(f, "red", "acct|bob");
    ASSERT_INDEX(f, "red/acct/bob");
    testutil_store_reopen(f);
    WALK_GROUP(f, "red", "acct|bob");
    g_assert_cmpint(delete (f, "acct", "bob"), ==, 0);
    WALK_GROUP(f, "red", NULL);
    WALK_ACCOUNT(f, "acct", NULL);
    ASSERT_INDEX(f, "");
}

/* Prefix edge cases: group "a" vs "ab", account "x" vs "xy", handles that
 * extend one another, odd bytes and UTF-8. */
static const struct {
    const char *account, *handle, *group;
} crowd[] = {
    {"xy", "h", "a"},        {"x", "h", "a"},    {"x", "hh", "a"},
    {"x", "h", "ab"},        {"x", "\x01", "a"}, {"x", "\xff\xfe", "a"},
    {"x", "é", "a"},         {"x", "H", "a"},    {"x", "h h", "a b"},
    {"x", "zz", "b"},        {"xy", "hh", "ab"}, {"y", "h", "a"},
    {"x\xc3\xa9", "h", "a"}, {"x y", "h", "a"},  {"x", "h\x7f", "a"},
};

static void put_crowd(fixture *f)
{
    for (gsize i = 0; i < G_N_ELEMENTS(crowd); i++)
        put_ok(f, crowd[i].account, crowd[i].handle, crowd[i].group);
}

static void
foreach_group_yields_only_that_group_in_account_handle_order(fixture *f,
                                                             gconstpointer d)
{
    put_crowd(f);
    /* (x, h) was put in "a", then in "ab": it moved. */
    WALK_GROUP(f, "a", "x|\x01", "x|H", "x|hh", "x|h\x7f", "x|é", "x|\xff\xfe",
               "x y|h", "xy|h", "xé|h", "y|h");
    WALK_GROUP(f, "ab", "x|h", "xy|hh");
    WALK_GROUP(f, "a b", "x|h h");
    WALK_GROUP(f, "b", "x|zz");
    WALK_GROUP(f, "c", NULL);
    WALK_GROUP(f, "x", NULL);
}

static void
foreach_account_yields_only_that_account_in_handle_order(fixture *f,
                                                         gconstpointer d)
{
    put_crowd(f);
    WALK_ACCOUNT(f, "x", "x|\x01", "x|H", "x|h", "x|h h", "x|hh", "x|h\x7f",
                 "x|zz", "x|é", "x|\xff\xfe");
    WALK_ACCOUNT(f, "xy", "xy|h", "xy|hh");
    WALK_ACCOUNT(f, "x y", "x y|h");
    WALK_ACCOUNT(f, "z", NULL);
}

static void foreach_yields_every_member_of_every_account_in_key_order(
    fixture *f, gconstpointer d)
{
    seen w = {.names = g_ptr_array_new_with_free_func(g_free)};
    MDB_txn *txn;
    GString *all = g_string_new(NULL);

    put_crowd(f);
    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(members_foreach(txn, f->s, collect, &w), ==, 0);
    store_read_end(txn);
    for (guint i = 0; i < w.names->len; i++)
        g_string_append_printf(all, "%s ", (char *)w.names->pdata[i]);
    g_assert_cmpstr(all->str, ==,
                    "x|\x01 x|H x|h x|h h x|hh x|h\x7f x|zz x|\xc3\xa9 "
                    "x|\xff\xfe x y|h xy|h xy|hh x\xc3\xa9|h y|h ");
    g_string_free(all, TRUE);
    g_ptr_array_unref(w.names);
}

static void a_walk_stops_at_a_positive_return_and_gives_0(fixture *f,
                                                             gconstpointer d)
{
    seen w = {.names = g_ptr_array_new_with_free_func(g_free), .stop_after = 2};
    MDB_txn *txn;

    put_crowd(f);
    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(members_foreach_group(txn, f->s, "a", collect, &w), ==, 0);
    g_assert_cmpuint(w.names->len, ==, 2);
    g_ptr_array_set_size(w.names, 0);
    g_assert_cmpint(members_foreach_account(txn, f->s, "x", collect, &w), ==,
                    0);
    g_assert_cmpuint(w.names->len, ==, 2);
    store_read_end(txn);
    g_ptr_array_unref(w.names);
}

static int delete_walk_txn(MDB_txn *txn, const store *s, void *userdata)
{
    seen *w = userdata;

    w->txn = txn;
    w->s = (store *)s;
    if (w->want_group)
        return members_foreach_group(txn, s, w->want_group, collect, w);
    return members_foreach_account(txn, s, "x", collect, w);
}

static void
a_walk_goes_on_when_fn_deletes_the_member_it_was_given(fixture *f,
                                                       gconstpointer d)
{
    seen w = {.names = g_ptr_array_new_with_free_func(g_free),
              .want_group = "a",
              .delete_each = TRUE};

    put_crowd(f);
    g_assert_cmpint(store_write(f->s, delete_walk_txn, &w, NULL), ==, 0);
    g_assert_cmpuint(w.names->len, ==, 10);
    WALK_GROUP(f, "a", NULL);
    WALK_GROUP(f, "ab", "x|h", "xy|hh");
    g_ptr_array_set_size(w.names, 0);
    w.want_group = NULL;
    g_assert_cmpint(store_write(f->s, delete_walk_txn, &w, NULL), ==, 0);
    g_assert_cmpuint(w.names->len, ==, 3);
    WALK_ACCOUNT(f, "x", NULL);
    WALK_GROUP(f, "ab", "xy|hh");
    g_ptr_array_unref(w.names);
}

static void empty_or_missing_strings_are_refused_with_einval(fixture *f,
                                                             gconstpointer d)
{
    static const member_rec bad[] = {
        {.account = NULL, .handle = "h", .group = "g"},
        {.account = "", .handle = "h", .group = "g"},
        {.account = "a", .handle = NULL, .group = "g"},
        {.account = "a", .handle = "", .group = "g"},
        {.account = "a", .handle = "h", .group = NULL},
        {.account = "a", .handle = "h", .group = ""},
        {.account = "a", .handle = "h", .group = "\xff"},
        {.account = "a", .handle = "h", .group = "g", .nick = "\xc3"},
        {.account = "a", .handle = "h", .group = "g", .alias = "\x80"},
    };
    MDB_txn *txn;
    member_rec *m = (member_rec *)f;

    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_test_message("case %" G_GSIZE_FORMAT, i);
        g_assert_cmpint(put(f, &bad[i]), ==, -EINVAL);
    }
    g_assert_cmpint(delete (f, "", "h"), ==, -EINVAL);
    g_assert_cmpint(delete (f, "a", NULL), ==, -EINVAL);
    g_assert_cmpint(get(f, "a", "", &m), ==, -EINVAL);
    g_assert_null(m);
    g_assert_cmpint(get(f, NULL, "h", &m), ==, -EINVAL);
    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(members_foreach_group(txn, f->s, "", collect, NULL), ==,
                    -EINVAL);
    g_assert_cmpint(members_foreach_account(txn, f->s, NULL, collect, NULL), ==,
                    -EINVAL);
    store_read_end(txn);
    WALK_ACCOUNT(f, "a", NULL);
}

static void
a_key_part_over_its_bound_is_refused_before_anything_is_written(fixture *f,
                                                                gconstpointer d)
{
    /* At the bounds the index key group\0account\0handle is exactly 511
     * bytes, LMDB's limit. */
    char *group = g_strnfill(STORE_GROUP_MAX, 'g');
    char *account = g_strnfill(STORE_ACCOUNT_MAX, 'a');
    char *handle = g_strnfill(STORE_HANDLE_MAX, 'h');
    char *group_over = g_strnfill(STORE_GROUP_MAX + 1, 'g');
    char *account_over = g_strnfill(STORE_ACCOUNT_MAX + 1, 'a');
    char *handle_over = g_strnfill(STORE_HANDLE_MAX + 1, 'h');
    const member_rec over[] = {
        {.account = account, .handle = handle, .group = group_over},
        {.account = account_over, .handle = handle, .group = group},
        {.account = account, .handle = handle_over, .group = group},
    };
    member_rec m = {.account = account, .handle = handle, .group = group};

    g_assert_cmpint(STORE_GROUP_MAX + STORE_ACCOUNT_MAX + STORE_HANDLE_MAX + 2,
                    ==, STORE_KEY_MAX);
    for (gsize i = 0; i < G_N_ELEMENTS(over); i++) {
        g_test_message("case %" G_GSIZE_FORMAT, i);
        g_assert_cmpint(put(f, &over[i]), ==, STORE_KEY_TOO_LONG);
    }
    WALK_ACCOUNT(f, account, NULL);
    g_assert_cmpint(get(f, account, handle_over, &(member_rec *){NULL}), ==,
                    STORE_KEY_TOO_LONG);
    g_assert_cmpint(get(f, account_over, handle, &(member_rec *){NULL}), ==,
                    STORE_KEY_TOO_LONG);
    g_assert_cmpint(delete (f, account, handle_over), ==, STORE_KEY_TOO_LONG);
    g_assert_cmpint(put(f, &m), ==, 0);
    member_rec_free(get_ok(f, account, handle));
    g_assert_cmpint(delete (f, account, handle), ==, 0);
    g_free(group);
    g_free(account);
    g_free(handle);
    g_free(group_over);
    g_free(account_over);
    g_free(handle_over);
}

static void
a_corrupted_record_is_reported_as_corrupted_not_a_crash(fixture *f,
                                                        gconstpointer data)
{
    static const struct {
        const char *handle;
        const char *bytes; /* raw bytes when non-NULL ... */
        size_t len;
        const char *parsed; /* ... else a GVariant in text form */
    } bad[] = {
        {"empty", "", 0, NULL},
        {"garbage", "\x01\x00\xff\xff\xff\xff\xff\x07", 8, NULL},
        {"truncated", "\x01", 1, NULL},
        {"wrongtype", NULL, 0, "(@q 1, 'a string')"},
        {"newer", NULL, 0, "(@q 2, @a{sv} {'group': <'a'>})"},
        {"versionzero", NULL, 0, "(@q 0, @a{sv} {'group': <'a'>})"},
        {"nogroup", NULL, 0, "(@q 1, @a{sv} {'nick': <'n'>})"},
        {"groupnotastring", NULL, 0, "(@q 1, @a{sv} {'group': <@u 1>})"},
    };

    put_ok(f, "acct", "good", "a");
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        /* a_acct_handle, made a\0acct\0handle: the index key, and
         * from byte 2 on the record's key. */
        char *ikey = g_strconcat("a_acct_", bad[i].handle, NULL);
        size_t ilen = strlen(ikey);
        member_rec *m = (member_rec *)f;

        ikey[1] = ikey[6] = '\0';
        testutil_put_raw(f, STORE_DB_MEMBERS, ikey + 2, ilen - 2, bad[i].bytes,
                         bad[i].len, bad[i].parsed);
        /* An index entry for it, as if members_put had written it. */
        testutil_put_raw(f, STORE_DB_MEMBER_INDEX, ikey, ilen, "", 0, NULL);
        g_free(ikey);
        g_test_message("record %s", bad[i].handle);
        g_assert_cmpint(get(f, "acct", bad[i].handle, &m), ==, MDB_CORRUPTED);
        g_assert_null(m);
    }
    /* The walks leave them out and still give the good one. */
    WALK_GROUP(f, "a", "acct|good");
    WALK_ACCOUNT(f, "acct", "acct|good");
    /* A record with a readable group, even a newer one, takes its index
     * entry with it when replaced or deleted; the others can be deleted
     * and replaced all the same. */
    put_ok(f, "acct", "newer", "b");
    put_ok(f, "acct", "garbage", "a");
    g_assert_cmpint(delete (f, "acct", "empty"), ==, 0);
    g_assert_cmpint(delete (f, "acct", "nogroup"), ==, 0);
    WALK_GROUP(f, "a", "acct|garbage", "acct|good");
    WALK_GROUP(f, "b", "acct|newer");
    /* Deleting a record whose group cannot be read leaves its index entry
     * (empty, nogroup): harmless, the walk checks the record. */
    ASSERT_INDEX(f, "a/acct/empty,a/acct/garbage,a/acct/good,"
                    "a/acct/groupnotastring,a/acct/nogroup,a/acct/truncated,"
                    "a/acct/versionzero,a/acct/wrongtype,b/acct/newer");
}

static void a_stale_index_entry_is_not_given_as_a_member(fixture *f,
                                                         gconstpointer data)
{
    put_ok(f, "acct", "alice", "b");
    /* a\0acct\0alice: alice's record says "b". a\0acct\0ghost: no record.
     * a\0acct: not an index key at all. */
    testutil_put_raw(f, STORE_DB_MEMBER_INDEX, "a\0acct\0alice", 12, "", 0,
                     NULL);
    testutil_put_raw(f, STORE_DB_MEMBER_INDEX, "a\0acct\0ghost", 12, "", 0,
                     NULL);
    testutil_put_raw(f, STORE_DB_MEMBER_INDEX, "a\0acct", 6, "", 0, NULL);
    testutil_put_raw(f, STORE_DB_MEMBER_INDEX, "a\0acct\0", 7, "", 0, NULL);
    put_ok(f, "acct", "bob", "a");
    WALK_GROUP(f, "a", "acct|bob");
    WALK_GROUP(f, "b", "acct|alice");
}

static void
a_store_without_the_member_index_opens_and_creates_it(fixture *f,
                                                      gconstpointer data)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;

    put_ok(f, "acct", "alice", "a");
    store_close(f->s);
    f->s = NULL;
    /* What a store written before "member_index" existed looks like. */
    g_assert_cmpint(mdb_env_create(&env), ==, 0);
    g_assert_cmpint(mdb_env_set_maxdbs(env, 32), ==, 0);
    g_assert_cmpint(mdb_env_open(env, f->dir, 0, 0600), ==, 0);
    g_assert_cmpint(mdb_txn_begin(env, NULL, 0, &txn), ==, 0);
    g_assert_cmpint(mdb_dbi_open(txn, "member_index", 0, &dbi), ==, 0);
    g_assert_cmpint(mdb_drop(txn, dbi, 1), ==, 0);
    g_assert_cmpint(mdb_txn_commit(txn), ==, 0);
    g_assert_cmpint(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), ==, 0);
    g_assert_cmpint(mdb_dbi_open(txn, "member_index", 0, &dbi), ==,
                    MDB_NOTFOUND);
    mdb_txn_abort(txn);
    mdb_env_close(env);

    testutil_store_reopen(f);
    member_rec_free(get_ok(f, "acct", "alice"));
    WALK_GROUP(f, "a", NULL); /* the index starts empty */
    put_ok(f, "acct", "alice", "a");
    put_ok(f, "acct", "bob", "a");
    WALK_GROUP(f, "a", "acct|alice", "acct|bob");
}

int main(int argc, char **argv)
{
    static const testutil_store_case tests[] = {
#define T(name) {"/members/" #name, name}
        T(put_then_get_round_trips_every_field),
        T(put_replaces_the_whole_record),
        T(get_of_an_unknown_member_is_not_found),
        T(delete_of_an_absent_member_is_0),
        T(group_index_follows_a_group_change_and_a_delete),
        T(foreach_group_yields_only_that_group_in_account_handle_order),
        T(foreach_account_yields_only_that_account_in_handle_order),
        T(foreach_yields_every_member_of_every_account_in_key_order),
        T(a_walk_stops_at_a_positive_return_and_gives_0),
        T(a_walk_goes_on_when_fn_deletes_the_member_it_was_given),
        T(empty_or_missing_strings_are_refused_with_einval),
        T(a_key_part_over_its_bound_is_refused_before_anything_is_written),
        T(a_corrupted_record_is_reported_as_corrupted_not_a_crash),
        T(a_stale_index_entry_is_not_given_as_a_member),
        T(a_store_without_the_member_index_opens_and_creates_it),
#undef T
    };

    g_test_init(&argc, &argv, NULL);
    testutil_store_add(tests, G_N_ELEMENTS(tests));
    return g_test_run();
}
