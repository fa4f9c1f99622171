/* test_outbox: the "outbox" database — ids and their high-water mark, the
 * walks per target and per account, counts, removal and dropping, bad
 * arguments and values this build cannot decode. */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include <glib/gstdio.h>

#include "archive.h"
#include "outbox.h"
#include "store.h"
#include "testutil.h"

/* A store in a temp dir (testutil.c). */
typedef testutil_store fixture;

/* Writing: one store_write per helper; each returns what the outbox_ call
 * returned (store_write's own result is checked to agree). */

typedef struct write_call {
    outbox_msg *m;
    const char *account;
    char kind;
    const char *target;
    guint64 id;
    guint64 dropped;
    int rc;
} write_call;

static int add_txn(MDB_txn *txn, const store *s, void *userdata)
{
    write_call *c = userdata;

    c->rc = outbox_add(txn, s, c->m);
    return c->rc;
}

static int remove_txn(MDB_txn *txn, const store *s, void *userdata)
{
    write_call *c = userdata;

    c->rc = outbox_remove(txn, s, c->account, c->kind, c->target, c->id);
    return c->rc;
}

static int drop_target_txn(MDB_txn *txn, const store *s, void *userdata)
{
    write_call *c = userdata;

    c->rc =
        outbox_drop_target(txn, s, c->account, c->kind, c->target, &c->dropped);
    return c->rc;
}

static int drop_account_txn(MDB_txn *txn, const store *s, void *userdata)
{
    write_call *c = userdata;

    c->rc = outbox_drop_account(txn, s, c->account, &c->dropped);
    return c->rc;
}

static int add_msg(fixture *f, outbox_msg *m)
{
    write_call c = {.m = m};

    return testutil_store_write(f, add_txn, &c, &c.rc);
}

/* Queues "body" from group "g" to the target; returns its id. */
static guint64 add(fixture *f, const char *account, char kind,
                   const char *target)
{
    outbox_msg m = {.account = (char *)account,
                    .kind = kind,
                    .target = (char *)target,
                    .group = "g",
                    .nick = "n",
                    .body = "body"};

    g_assert_cmpint(add_msg(f, &m), ==, 0);
    g_assert_cmpuint(m.id, >, 0);
    return m.id;
}

static int remove_entry(fixture *f, const char *account, char kind,
                        const char *target, guint64 id)
{
    write_call c = {
        .account = account, .kind = kind, .target = target, .id = id};

    return testutil_store_write(f, remove_txn, &c, &c.rc);
}

static guint64 drop_target(fixture *f, const char *account, char kind,
                           const char *target)
{
    write_call c = {.account = account, .kind = kind, .target = target};

    g_assert_cmpint(testutil_store_write(f, drop_target_txn, &c, &c.rc), ==, 0);
    return c.dropped;
}

static guint64 drop_account(fixture *f, const char *account)
{
    write_call c = {.account = account};

    g_assert_cmpint(testutil_store_write(f, drop_account_txn, &c, &c.rc), ==,
                    0);
    return c.dropped;
}

/* account\0 kind target\0 id(be64); *len gets its length. */
static char *entry_key(const char *account, char kind, const char *target,
                       guint64 id, size_t *len)
{
    size_t alen = strlen(account), tlen = strlen(target);
    char *k = g_malloc(alen + tlen + 11);

    memcpy(k, account, alen + 1);
    k[alen + 1] = kind;
    memcpy(k + alen + 2, target, tlen + 1);
    for (int i = 7; i >= 0; i--, id >>= 8)
        k[alen + tlen + 3 + i] = (char)(id & 0xff);
    *len = alen + tlen + 11;
    return k;
}

/* Reading */

typedef struct walk {
    GString *out;    /* ids seen, "1,2,3" */
    GPtrArray *msgs; /* copies, when set */
    int stop_after;  /* when > 0, return 9 after that many */
    int seen;
    gboolean remove;   /* remove each entry seen, inside the walk */
    gboolean add_more; /* add an entry to the same target when at id 1 */
    MDB_txn *txn;
    const store *s;
} walk;

static outbox_msg *msg_copy(const outbox_msg *m)
{
    outbox_msg *c = g_new(outbox_msg, 1);

    *c = *m;
    c->account = g_strdup(m->account);
    c->target = g_strdup(m->target);
    c->group = g_strdup(m->group);
    c->nick = g_strdup(m->nick);
    c->body = g_strdup(m->body);
    return c;
}

static void msg_free_ptr(gpointer m)
{
    outbox_msg_free(m);
}

static int collect(const outbox_msg *m, void *userdata)
{
    walk *w = userdata;

    g_string_append_printf(w->out, "%s%" G_GUINT64_FORMAT,
                           w->out->len ? "," : "", m->id);
    if (w->msgs)
        g_ptr_array_add(w->msgs, msg_copy(m));
    if (w->remove)
        g_assert_cmpint(
            outbox_remove(w->txn, w->s, m->account, m->kind, m->target, m->id),
            ==, 0);
    if (w->add_more && m->id == 1) {
        outbox_msg more = *m;
        g_assert_cmpint(outbox_add(w->txn, w->s, &more), ==, 0);
    }
    if (w->stop_after > 0 && ++w->seen == w->stop_after)
        return 9;
    return 0;
}

/* The ids of the target's entries after after_id, "1,2,3". */
static char *ids(fixture *f, const char *account, char kind, const char *target,
                 guint64 after_id)
{
    walk w = {.out = g_string_new(NULL)};
    MDB_txn *txn;

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(outbox_foreach_target(txn, f->s, account, kind, target,
                                          after_id, collect, &w),
                    ==, 0);
    store_read_end(txn);
    return g_string_free(w.out, FALSE);
}

#define ASSERT_IDS(f, account, kind, target, after, want)                      \
    do {                                                                       \
        char *got_ = ids(f, account, kind, target, after);                     \
        g_assert_cmpstr(got_, ==, want);                                       \
        g_free(got_);                                                          \
    } while (0)

static guint64 count(fixture *f, const char *account, char kind,
                     const char *target)
{
    guint64 n = 12345;
    MDB_txn *txn;

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(outbox_count_target(txn, f->s, account, kind, target, &n),
                    ==, 0);
    store_read_end(txn);
    return n;
}

typedef struct pending_walk {
    GString *out; /* "i:bob=2,c:bob=1" */
    gboolean drop;
    int stop_after;
    MDB_txn *txn;
    const store *s;
} pending_walk;

static int collect_pending(const char *account, char kind, const char *target,
                           guint64 pending, void *userdata)
{
    pending_walk *w = userdata;

    g_string_append_printf(w->out, "%s%c:%s=%" G_GUINT64_FORMAT,
                           w->out->len ? "," : "", kind, target, pending);
    if (w->drop) {
        guint64 dropped = 0;

        g_assert_cmpint(
            outbox_drop_target(w->txn, w->s, account, kind, target, &dropped),
            ==, 0);
        g_assert_cmpuint(dropped, ==, pending);
    }
    if (w->stop_after > 0 && --w->stop_after == 0)
        return 9;
    return 0;
}

static char *pending(fixture *f, const char *account)
{
    pending_walk w = {.out = g_string_new(NULL)};
    MDB_txn *txn;

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(
        outbox_foreach_pending_target(txn, f->s, account, collect_pending, &w),
        ==, 0);
    store_read_end(txn);
    return g_string_free(w.out, FALSE);
}

#define ASSERT_PENDING(f, account, want)                                       \
    do {                                                                       \
        char *got_ = pending(f, account);                                      \
        g_assert_cmpstr(got_, ==, want);                                       \
        g_free(got_);                                                          \
    } while (0)

/* Tests */

static void add_then_foreach_round_trips_every_field(fixture *f,
                                                     gconstpointer data)
{
    static const outbox_msg cases[] = {
        {0, "irc", 'i', "alice", "lobby", 42,
         G_GINT64_CONSTANT(1700000000123456), "bob", "hello there", FALSE},
        {0, "irc", 'i', "alice", "lobby", 0, 0, "", "Welcome notice", FALSE},
        {0, "irc", 'c', "#chan", "café", G_MAXUINT64, G_MININT64, "Zoë ☕",
         "waves ✋", TRUE},
        {0, "x\x01", 'c', "\xff odd \x7f", "g", 1, G_MAXINT64, "n", "", FALSE},
    };
    outbox_msg null_nick = {.account = "irc",
                            .kind = 'i',
                            .target = "carol",
                            .group = "lobby",
                            .body = "b"};
    GPtrArray *got = g_ptr_array_new_with_free_func(msg_free_ptr);

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        outbox_msg m = cases[i];

        g_assert_cmpint(add_msg(f, &m), ==, 0);
        g_assert_cmpuint(m.id, ==, i + 1);
    }
    g_assert_cmpint(add_msg(f, &null_nick), ==, 0);
    testutil_store_reopen(f);
    /* Case i has id i + 1: the first entry of its target after id i. */
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        walk w = {.out = g_string_new(NULL), .msgs = got, .stop_after = 1};
        MDB_txn *txn;

        g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
        g_assert_cmpint(outbox_foreach_target(txn, f->s, cases[i].account,
                                              cases[i].kind, cases[i].target, i,
                                              collect, &w),
                        ==, 0);
        store_read_end(txn);
        g_string_free(w.out, TRUE);
    }
    g_assert_cmpuint(got->len, ==, G_N_ELEMENTS(cases));
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        const outbox_msg *want = &cases[i];
        const outbox_msg *m = g_ptr_array_index(got, i);

        g_test_message("case %" G_GSIZE_FORMAT, i);
        g_assert_cmpuint(m->id, ==, i + 1);
        g_assert_cmpstr(m->account, ==, want->account);
        g_assert_cmpint(m->kind, ==, want->kind);
        g_assert_cmpstr(m->target, ==, want->target);
        g_assert_cmpstr(m->group, ==, want->group);
        g_assert_cmpuint(m->archive_seq, ==, want->archive_seq);
        g_assert_cmpint(m->time_us, ==, want->time_us);
        g_assert_cmpstr(m->nick, ==, want->nick);
        g_assert_cmpstr(m->body, ==, want->body);
        g_assert_cmpint(m->action, ==, want->action);
    }
    g_ptr_array_set_size(got, 0);
    {
        walk w = {.out = g_string_new(NULL), .msgs = got};
        MDB_txn *txn;
        const outbox_msg *m;

        g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
        g_assert_cmpint(outbox_foreach_target(txn, f->s, "irc", 'i', "carol", 0,
                                              collect, &w),
                        ==, 0);
        store_read_end(txn);
        g_string_free(w.out, TRUE);
        g_assert_cmpuint(got->len, ==, 1);
        m = g_ptr_array_index(got, 0);
        g_assert_cmpstr(m->nick, ==, ""); /* NULL is stored as "" */
        g_assert_cmpuint(m->archive_seq, ==, 0);
        g_assert_false(m->action);
    }
    g_ptr_array_unref(got);
}

static void
ids_increase_and_are_never_reused_after_delete_and_reopen(fixture *f,
                                                          gconstpointer data)
{
    g_assert_cmpuint(add(f, "a", 'i', "bob"), ==, 1);
    g_assert_cmpuint(add(f, "b", 'c', "room"), ==, 2);
    g_assert_cmpuint(add(f, "a", 'i', "bob"), ==, 3);
    /* The newest is gone: its id is not handed out again. */
    g_assert_cmpint(remove_entry(f, "a", 'i', "bob", 3), ==, 0);
    g_assert_cmpuint(add(f, "a", 'i', "carol"), ==, 4);
    /* Everything is gone. */
    g_assert_cmpuint(drop_account(f, "a"), ==, 2);
    g_assert_cmpuint(drop_account(f, "b"), ==, 1);
    g_assert_cmpuint(add(f, "a", 'i', "bob"), ==, 5);
    g_assert_cmpint(remove_entry(f, "a", 'i', "bob", 5), ==, 0);
    /* And after a restart. */
    testutil_store_reopen(f);
    g_assert_cmpuint(add(f, "a", 'i', "bob"), ==, 6);
    g_assert_cmpuint(add(f, "z", 'c', "bob"), ==, 7);
    ASSERT_IDS(f, "a", 'i', "bob", 0, "6");
}

static void a_failed_transaction_does_not_advance_the_ids(fixture *f,
                                                          gconstpointer data)
{
    outbox_msg bad = {.account = "a", .kind = 'i', .target = "bob"};

    g_assert_cmpuint(add(f, "a", 'i', "bob"), ==, 1);
    g_assert_cmpint(add_msg(f, &bad), ==, -EINVAL); /* no group, no body */
    g_assert_cmpuint(bad.id, ==, 0);
    g_assert_cmpuint(add(f, "a", 'i', "bob"), ==, 2);
}

static void
foreach_target_is_oldest_first_and_starts_after_after_id(fixture *f,
                                                         gconstpointer data)
{
    static const struct {
        guint64 after;
        const char *want;
    } cases[] = {
        {0, "1,3,4,6,260"},
        {1, "3,4,6,260"},
        {2, "3,4,6,260"}, /* another target's id */
        {5, "6,260"},     /* a removed entry's id */
        {6, "260"},
        {256, "260"}, /* ids past one byte: be64 order is numeric order */
        {259, "260"},
        {260, ""},
        {G_MAXUINT64 - 1, ""},
        {G_MAXUINT64, ""},
    };

    for (guint64 i = 1; i <= 260; i++) {
        gboolean mine =
            i == 1 || i == 3 || i == 4 || i == 5 || i == 6 || i == 260;
        g_assert_cmpuint(add(f, "acct", 'i', mine ? "bob" : "other"), ==, i);
    }
    g_assert_cmpint(remove_entry(f, "acct", 'i', "bob", 5), ==, 0);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_test_message("after %" G_GUINT64_FORMAT, cases[i].after);
        ASSERT_IDS(f, "acct", 'i', "bob", cases[i].after, cases[i].want);
    }
    g_assert_cmpuint(count(f, "acct", 'i', "bob"), ==, 5);
    g_assert_cmpuint(count(f, "acct", 'i', "other"), ==, 254);
}

/* Targets and accounts whose names share prefixes, and one name under both
 * kinds. */
static const struct {
    const char *account;
    char kind;
    const char *target;
} crowd[] = {
    {"x", 'i', "bob"},   {"x", 'i', "bobby"},   {"x", 'c', "bob"},
    {"x", 'i', "bo"},    {"xy", 'i', "bob"},    {"x", 'i', "bob"},
    {"x", 'c', "bobby"}, {"x", 'i', "bob\x01"}, {"x", 'i', "bob by"},
    {"x", 'i', "bób"},   {"x y", 'i', "bob"},   {"y", 'c', "x"},
};

static void add_crowd(fixture *f)
{
    for (gsize i = 0; i < G_N_ELEMENTS(crowd); i++)
        g_assert_cmpuint(
            add(f, crowd[i].account, crowd[i].kind, crowd[i].target), ==,
            i + 1);
}

static void targets_with_prefix_sharing_names_do_not_mix(fixture *f,
                                                         gconstpointer data)
{
    static const struct {
        const char *account;
        char kind;
        const char *target;
        const char *ids;
        guint64 count;
    } cases[] = {
        {"x", 'i', "bob", "1,6", 2},   {"x", 'i', "bobby", "2", 1},
        {"x", 'c', "bob", "3", 1},     {"x", 'i', "bo", "4", 1},
        {"xy", 'i', "bob", "5", 1},    {"x", 'c', "bobby", "7", 1},
        {"x", 'i', "bob\x01", "8", 1}, {"x", 'i', "bob by", "9", 1},
        {"x", 'i', "bób", "10", 1},    {"x y", 'i', "bob", "11", 1},
        {"y", 'c', "x", "12", 1},      {"x", 'i', "b", "", 0},
        {"x", 'c', "bo", "", 0},       {"y", 'i', "x", "", 0},
        {"x", 'i', "bobb", "", 0},     {"xy", 'c', "bob", "", 0},
    };

    add_crowd(f);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_test_message("case %" G_GSIZE_FORMAT, i);
        ASSERT_IDS(f, cases[i].account, cases[i].kind, cases[i].target, 0,
                   cases[i].ids);
        g_assert_cmpuint(
            count(f, cases[i].account, cases[i].kind, cases[i].target), ==,
            cases[i].count);
    }
}

static void
foreach_pending_target_gives_each_target_once_with_its_count(fixture *f,
                                                             gconstpointer data)
{
    ASSERT_PENDING(f, "x", "");
    add_crowd(f);
    /* Key order: kind ('c' < 'i'), then target bytes. */
    ASSERT_PENDING(f, "x",
                   "c:bob=1,c:bobby=1,i:bo=1,i:bob=2,i:bob\x01=1,"
                   "i:bob by=1,i:bobby=1,i:bób=1");
    ASSERT_PENDING(f, "xy", "i:bob=1");
    ASSERT_PENDING(f, "x y", "i:bob=1");
    ASSERT_PENDING(f, "y", "c:x=1");
    ASSERT_PENDING(f, "z", "");
    ASSERT_PENDING(f, "xyz", "");
}

static void remove_of_an_absent_entry_is_0(fixture *f, gconstpointer data)
{
    g_assert_cmpint(remove_entry(f, "x", 'i', "bob", 1), ==, 0);
    add_crowd(f);
    g_assert_cmpint(remove_entry(f, "x", 'i', "bob", 2), ==, 0); /* bobby's */
    g_assert_cmpint(remove_entry(f, "x", 'c', "bob", 1), ==, 0);
    g_assert_cmpint(remove_entry(f, "x", 'i', "bob", 99), ==, 0);
    ASSERT_IDS(f, "x", 'i', "bob", 0, "1,6");
    ASSERT_IDS(f, "x", 'i', "bobby", 0, "2");
    g_assert_cmpint(remove_entry(f, "x", 'i', "bob", 1), ==, 0);
    g_assert_cmpint(remove_entry(f, "x", 'i', "bob", 1), ==, 0);
    ASSERT_IDS(f, "x", 'i', "bob", 0, "6");
}

static void drop_target_erases_that_target_only(fixture *f, gconstpointer data)
{
    add_crowd(f);
    g_assert_cmpuint(drop_target(f, "x", 'i', "bob"), ==, 2);
    g_assert_cmpuint(drop_target(f, "x", 'i', "bob"), ==, 0);
    g_assert_cmpuint(drop_target(f, "x", 'i', "nobody"), ==, 0);
    ASSERT_PENDING(f, "x",
                   "c:bob=1,c:bobby=1,i:bo=1,i:bob\x01=1,i:bob by=1,"
                   "i:bobby=1,i:bób=1");
    ASSERT_PENDING(f, "xy", "i:bob=1");
    g_assert_cmpuint(drop_target(f, "x", 'c', "bob"), ==, 1);
    ASSERT_PENDING(f, "x",
                   "c:bobby=1,i:bo=1,i:bob\x01=1,i:bob by=1,i:bobby=1,"
                   "i:bób=1");
    g_assert_cmpuint(add(f, "x", 'i', "bob"), ==, 13);
}

static void drop_account_erases_that_account_only(fixture *f,
                                                  gconstpointer data)
{
    add_crowd(f);
    g_assert_cmpuint(drop_account(f, "x"), ==, 9);
    g_assert_cmpuint(drop_account(f, "x"), ==, 0);
    ASSERT_PENDING(f, "x", "");
    ASSERT_PENDING(f, "xy", "i:bob=1");
    ASSERT_PENDING(f, "x y", "i:bob=1");
    ASSERT_PENDING(f, "y", "c:x=1");
    g_assert_cmpuint(drop_account(f, "nobody"), ==, 0);
    g_assert_cmpuint(add(f, "x", 'i', "bob"), ==, 13);
}

static void walks_stop_at_a_positive_return_and_give_0(fixture *f,
                                                          gconstpointer data)
{
    walk w = {.out = g_string_new(NULL), .stop_after = 2};
    pending_walk p = {.out = g_string_new(NULL), .stop_after = 2};
    MDB_txn *txn;

    add_crowd(f);
    for (int i = 0; i < 4; i++)
        add(f, "x", 'i', "bob");
    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(
        outbox_foreach_target(txn, f->s, "x", 'i', "bob", 0, collect, &w), ==,
        0);
    g_assert_cmpstr(w.out->str, ==, "1,6");
    g_assert_cmpint(
        outbox_foreach_pending_target(txn, f->s, "x", collect_pending, &p), ==,
        0);
    g_assert_cmpstr(p.out->str, ==, "c:bob=1,c:bobby=1");
    store_read_end(txn);
    g_string_free(w.out, TRUE);
    g_string_free(p.out, TRUE);
}

static int remove_walk_txn(MDB_txn *txn, const store *s, void *userdata)
{
    walk *w = userdata;

    w->txn = txn;
    w->s = s;
    return outbox_foreach_target(txn, s, "x", 'i', "bob", 0, collect, w);
}

static int drop_walk_txn(MDB_txn *txn, const store *s, void *userdata)
{
    pending_walk *w = userdata;

    w->txn = txn;
    w->s = s;
    return outbox_foreach_pending_target(txn, s, "x", collect_pending, w);
}

static void walks_go_on_when_fn_removes_what_it_was_given(fixture *f,
                                                          gconstpointer data)
{
    walk w = {.out = g_string_new(NULL), .remove = TRUE, .add_more = TRUE};
    pending_walk p = {.out = g_string_new(NULL), .drop = TRUE};

    add_crowd(f);
    /* Removing each entry as it is given, and adding one (id 13) to the
     * same target while at id 1: the walk sees it too. */
    g_assert_cmpint(store_write(f->s, remove_walk_txn, &w, NULL), ==, 0);
    g_assert_cmpstr(w.out->str, ==, "1,6,13");
    g_assert_cmpuint(count(f, "x", 'i', "bob"), ==, 0);
    g_assert_cmpuint(count(f, "x", 'i', "bobby"), ==, 1);
    g_assert_cmpint(store_write(f->s, drop_walk_txn, &p, NULL), ==, 0);
    g_assert_cmpstr(p.out->str, ==,
                    "c:bob=1,c:bobby=1,i:bo=1,i:bob\x01=1,i:bob by=1,"
                    "i:bobby=1,i:bób=1");
    ASSERT_PENDING(f, "x", "");
    ASSERT_PENDING(f, "xy", "i:bob=1");
    g_string_free(w.out, TRUE);
    g_string_free(p.out, TRUE);
}

static void bad_arguments_are_refused_with_einval(fixture *f,
                                                  gconstpointer data)
{
    static const outbox_msg bad[] = {
        {.account = NULL, .kind = 'i', .target = "t", .group = "g", .body = ""},
        {.account = "", .kind = 'i', .target = "t", .group = "g", .body = ""},
        {.account = "a", .kind = 'x', .target = "t", .group = "g", .body = ""},
        {.account = "a", .kind = 0, .target = "t", .group = "g", .body = ""},
        {.account = "a", .kind = 'i', .target = NULL, .group = "g", .body = ""},
        {.account = "a", .kind = 'i', .target = "", .group = "g", .body = ""},
        {.account = "a", .kind = 'c', .target = "t", .group = NULL, .body = ""},
        {.account = "a", .kind = 'c', .target = "t", .group = "", .body = ""},
        {.account = "a",
         .kind = 'c',
         .target = "t",
         .group = "\xff",
         .body = ""},
        {.account = "a",
         .kind = 'c',
         .target = "t",
         .group = "g",
         .body = NULL},
        {.account = "a",
         .kind = 'c',
         .target = "t",
         .group = "g",
         .body = "\xc3("},
        {.account = "a",
         .kind = 'c',
         .target = "t",
         .group = "g",
         .nick = "\x80",
         .body = "b"},
    };
    write_call c = {.account = "a", .kind = 'I', .target = "t"};
    guint64 n = 99;
    MDB_txn *txn;

    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        outbox_msg m = bad[i];

        g_test_message("case %" G_GSIZE_FORMAT, i);
        g_assert_cmpint(add_msg(f, &m), ==, -EINVAL);
    }
    g_assert_cmpint(testutil_store_write(f, remove_txn, &c, &c.rc), ==,
                    -EINVAL);
    g_assert_cmpint(testutil_store_write(f, drop_target_txn, &c, &c.rc), ==,
                    -EINVAL);
    c.account = "";
    g_assert_cmpint(testutil_store_write(f, drop_account_txn, &c, &c.rc), ==,
                    -EINVAL);
    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(
        outbox_foreach_target(txn, f->s, "a", 'i', "", 0, collect, NULL), ==,
        -EINVAL);
    g_assert_cmpint(outbox_count_target(txn, f->s, "", 'i', "t", &n), ==,
                    -EINVAL);
    g_assert_cmpuint(n, ==, 0);
    g_assert_cmpint(
        outbox_foreach_pending_target(txn, f->s, NULL, collect_pending, NULL),
        ==, -EINVAL);
    store_read_end(txn);
    /* Nothing was written and no id was used. */
    g_assert_cmpuint(add(f, "a", 'i', "t"), ==, 1);
}

static void a_key_longer_than_lmdb_allows_is_refused(fixture *f,
                                                     gconstpointer data)
{
    char *target = g_strnfill(STORE_HANDLE_MAX + 1, 't'); /* over its bound */
    outbox_msg m = {.account = "a",
                    .kind = 'i',
                    .target = target,
                    .group = "g",
                    .body = "b"};

    g_assert_cmpint(add_msg(f, &m), ==, STORE_KEY_TOO_LONG);
    target[STORE_HANDLE_MAX] = '\0';
    g_assert_cmpint(add_msg(f, &m), ==, 0);
    g_assert_cmpuint(m.id, ==, 1);
    g_assert_cmpuint(count(f, "a", 'i', target), ==, 1);
    g_free(target);
}

static void
a_corrupted_entry_is_skipped_but_counted_and_dropped(fixture *f,
                                                     gconstpointer data)
{
    static const struct {
        guint64 id;
        const char *bytes; /* raw bytes when non-NULL ... */
        size_t len;
        const char *parsed; /* ... else a GVariant in text form */
    } bad[] = {
        {100, "", 0, NULL},
        {101, "\x01\x00\xff\xff\xff\xff\xff\x07", 8, NULL},
        {102, NULL, 0, "(@q 1, 'a string')"},
        {103, NULL, 0, "(@q 2, @a{sv} {'group': <'g'>, 'body': <'b'>})"},
        {104, NULL, 0, "(@q 0, @a{sv} {'group': <'g'>, 'body': <'b'>})"},
        {105, NULL, 0, "(@q 1, @a{sv} {'body': <'b'>})"},
        {106, NULL, 0, "(@q 1, @a{sv} {'group': <'g'>})"},
        {107, NULL, 0, "(@q 1, @a{sv} {'group': <'g'>, 'body': <@u 1>})"},
    };
    GPtrArray *got = g_ptr_array_new_with_free_func(msg_free_ptr);
    walk w = {.out = g_string_new(NULL), .msgs = got};
    const outbox_msg *m;
    MDB_txn *txn;

    add(f, "a", 'i', "bob");
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        size_t klen;
        char *key = entry_key("a", 'i', "bob", bad[i].id, &klen);

        testutil_put_raw(f, STORE_DB_OUTBOX, key, klen, bad[i].bytes,
                         bad[i].len, bad[i].parsed);
        g_free(key);
    }
    /* A sparse but readable one: missing fields take their defaults. */
    {
        size_t klen;
        char *key = entry_key("a", 'i', "bob", 108, &klen);
        testutil_put_raw(f, STORE_DB_OUTBOX, key, klen, NULL, 0,
                         "(@q 1, @a{sv} {'group': <'g'>, 'body': <'b'>, "
                         "'time': <'no'>, 'extra': <1>})");
        g_free(key);
    }
    /* Keys under the account that are not entries. */
    testutil_put_raw(f, STORE_DB_OUTBOX, "a\0ibob\0\0\0", 9, "", 0, NULL);
    testutil_put_raw(f, STORE_DB_OUTBOX, "a\0zzz\0\0\0\0\0\0\0\0\1", 14, "", 0,
                     NULL);
    testutil_put_raw(f, STORE_DB_OUTBOX, "a\0i\0\0\0\0\0\0\0\0\1", 12, "", 0,
                     NULL);

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(
        outbox_foreach_target(txn, f->s, "a", 'i', "bob", 0, collect, &w), ==,
        0);
    store_read_end(txn);
    g_assert_cmpstr(w.out->str, ==, "1,108");
    m = g_ptr_array_index(got, 1);
    g_assert_cmpstr(m->nick, ==, "");
    g_assert_cmpint(m->time_us, ==, 0);
    g_assert_cmpuint(m->archive_seq, ==, 0);
    g_assert_cmpuint(count(f, "a", 'i', "bob"), ==, 10);
    ASSERT_PENDING(f, "a", "i:bob=10");
    /* Ids go on from the mark, not from the largest key. */
    g_assert_cmpuint(add(f, "a", 'c', "room"), ==, 2);
    g_assert_cmpuint(drop_target(f, "a", 'i', "bob"), ==, 11);
    ASSERT_PENDING(f, "a", "c:room=1");
    g_assert_cmpuint(drop_account(f, "a"), ==, 3);
    g_string_free(w.out, TRUE);
    g_ptr_array_unref(got);
}

static void
a_corrupted_mark_gives_mdb_corrupted_and_writes_nothing(fixture *f,
                                                        gconstpointer data)
{
    static const struct {
        const char *bytes;
        size_t len;
        const char *parsed;
        int rc;
    } marks[] = {
        {"\x01", 1, NULL, MDB_CORRUPTED},
        {NULL, 0, "(@q 1, 'x')", MDB_CORRUPTED},
        {NULL, 0, "(@q 2, @t 5)", MDB_CORRUPTED},
        {NULL, 0, "(@q 0, @t 5)", MDB_CORRUPTED},
        {NULL, 0, "(@q 1, @t 18446744073709551615)", -EOVERFLOW},
    };

    add(f, "a", 'i', "bob");
    for (gsize i = 0; i < G_N_ELEMENTS(marks); i++) {
        outbox_msg m = {.account = "a",
                        .kind = 'i',
                        .target = "bob",
                        .group = "g",
                        .body = "b"};

        testutil_put_raw(f, STORE_DB_OUTBOX, "", 1, marks[i].bytes,
                         marks[i].len, marks[i].parsed);
        g_test_message("mark %" G_GSIZE_FORMAT, i);
        g_assert_cmpint(add_msg(f, &m), ==, marks[i].rc);
        g_assert_cmpuint(m.id, ==, 0);
        g_assert_cmpuint(count(f, "a", 'i', "bob"), ==, 1);
    }
    /* The mark is not an entry of any account. */
    ASSERT_PENDING(f, "a", "i:bob=1");
    testutil_put_raw(f, STORE_DB_OUTBOX, "", 1, NULL, 0, "(@q 1, @t 41)");
    g_assert_cmpuint(add(f, "a", 'i', "bob"), ==, 42);
}


/* ---- delivery cursors ---- */

typedef struct cursor_call {
    const char *account, *target, *group;
    char kind;
    guint64 seq;
    int rc;
} cursor_call;

static int start_txn(MDB_txn *txn, const store *s, void *userdata)
{
    cursor_call *c = userdata;

    c->rc = outbox_cursor_start(txn, s, c->account, c->kind, c->target,
                                c->group);
    return c->rc;
}

static int advance_txn(MDB_txn *txn, const store *s, void *userdata)
{
    cursor_call *c = userdata;

    c->rc = outbox_cursor_advance(txn, s, c->account, c->kind, c->target,
                                  c->seq);
    return c->rc;
}

static int say_txn(MDB_txn *txn, const store *s, void *userdata)
{
    archive_msg m = {0};
    int rc;

    m.nick = "alice";
    m.body = "hi";
    rc = archive_append(txn, s, userdata, &m);
    g_free(m.stanza_id);
    return rc;
}

static void say(fixture *f, const char *group)
{
    g_assert_cmpint(store_write(f->s, say_txn, (void *)group, NULL), ==, 0);
}

static void start(fixture *f, const char *account, char kind,
                  const char *target, const char *group)
{
    cursor_call c = {account, target, group, kind, 0, 0};

    g_assert_cmpint(store_write(f->s, start_txn, &c, NULL), ==, 0);
}

static outbox_cursor *cursor(fixture *f, const char *account, char kind,
                             const char *target)
{
    MDB_txn *txn = NULL;
    outbox_cursor *c = NULL;
    int rc;

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    rc = outbox_cursor_get(txn, f->s, account, kind, target, &c);
    store_read_end(txn);
    g_assert_true(rc == 0 || rc == MDB_NOTFOUND);
    return c;
}

static void a_cursor_starts_at_the_archive_head_once_with_its_own_slot(
    fixture *f, gconstpointer data)
{
    outbox_cursor *bob, *carol;

    say(f, "lobby");
    say(f, "lobby");
    start(f, "a", 'i', "bob", "lobby");
    say(f, "lobby");
    start(f, "a", 'i', "bob", "lobby"); /* has one: unchanged */
    start(f, "a", 'c', "#chan", "lobby");
    bob = cursor(f, "a", 'i', "bob");
    carol = cursor(f, "a", 'c', "#chan");
    g_assert_cmpstr(bob->group, ==, "lobby");
    g_assert_cmpuint(bob->seq, ==, 2);
    g_assert_cmpuint(carol->seq, ==, 3);
    /* what came before it started, it never had */
    g_assert_cmpuint(bob->start, ==, 2);
    g_assert_cmpuint(carol->start, ==, 3);
    g_assert_cmpuint(bob->slot, !=, 0);
    g_assert_cmpuint(bob->slot, !=, carol->slot);
    g_assert_null(cursor(f, "a", 'i', "carol"));
    outbox_cursor_free(bob);
    outbox_cursor_free(carol);
}

static void a_cursor_moves_forward_only_and_needs_to_exist(fixture *f,
                                                           gconstpointer data)
{
    cursor_call c = {"a", "bob", "lobby", 'i', 5, 0};
    outbox_cursor *got;

    start(f, "a", 'i', "bob", "lobby");
    g_assert_cmpint(store_write(f->s, advance_txn, &c, NULL), ==, 0);
    c.seq = 3;
    g_assert_cmpint(store_write(f->s, advance_txn, &c, NULL), ==, 0);
    got = cursor(f, "a", 'i', "bob");
    g_assert_cmpuint(got->seq, ==, 5);
    outbox_cursor_free(got);
    c.target = "nobody";
    g_assert_cmpint(store_write(f->s, advance_txn, &c, NULL), <, 0);
    g_assert_cmpint(c.rc, ==, MDB_NOTFOUND);
}

static void muting_holds_and_unmuting_skips_what_was_said_meanwhile(
    fixture *f, gconstpointer data)
{
    /* cursor at 2, muted at 5 (3..5 still go), unmuted at 9 (6..9 never) */
    static const struct {
        guint64 seq;
        gboolean muted, unmuted;
    } cases[] = {
        {2, FALSE, FALSE}, {3, TRUE, TRUE},  {5, TRUE, TRUE},
        {6, FALSE, FALSE}, {9, FALSE, FALSE}, {10, FALSE, TRUE},
    };
    outbox_cursor c = {NULL, 1, 2, 0, 0, 0, 0};

    outbox_cursor_mute(&c, 5);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
        g_assert_cmpint(outbox_cursor_wants(&c, cases[i].seq), ==,
                        cases[i].muted);
    outbox_cursor_unmute(&c, 9);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
        g_assert_cmpint(outbox_cursor_wants(&c, cases[i].seq), ==,
                        cases[i].unmuted);
    /* caught up when muted: simply on from the unmute */
    c = (outbox_cursor){NULL, 1, 5, 0, 0, 0, 0};
    outbox_cursor_mute(&c, 5);
    outbox_cursor_unmute(&c, 9);
    g_assert_cmpuint(c.seq, ==, 9);
    g_assert_false(outbox_cursor_wants(&c, 7));
    g_assert_true(outbox_cursor_wants(&c, 10));
}

static void a_cursor_had_what_it_passed_since_it_started_and_was_not_muted(
    fixture *f, gconstpointer data)
{
    /* started at 2, muted at 5, unmuted at 9 while caught up (6..9 never
     * went), then confirmed up to 11 */
    static const struct {
        guint64 seq;
        gboolean had;
    } cases[] = {
        {1, FALSE}, {2, FALSE}, {3, TRUE},   {5, TRUE},   {6, FALSE},
        {9, FALSE}, {10, TRUE}, {11, TRUE}, {12, FALSE},
    };
    outbox_cursor c = {.slot = 1, .seq = 5, .start = 2};

    outbox_cursor_mute(&c, 5);
    g_assert_false(outbox_cursor_had(&c, 6));
    outbox_cursor_unmute(&c, 9);
    c.seq = 11;
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
        g_assert_cmpint(outbox_cursor_had(&c, cases[i].seq), ==,
                        cases[i].had);
    /* a cursor from before the field: everything up to it */
    c = (outbox_cursor){.slot = 1, .seq = 4};
    g_assert_true(outbox_cursor_had(&c, 1));
    g_assert_false(outbox_cursor_had(&c, 5));
}

static void a_room_delivery_id_names_its_slot_and_seq(fixture *f,
                                                      gconstpointer data)
{
    guint32 slot;
    guint64 seq;
    guint64 id = outbox_room_id(7, 123456);

    g_assert_true(outbox_room_id_split(id, &slot, &seq));
    g_assert_cmpuint(slot, ==, 7);
    g_assert_cmpuint(seq, ==, 123456);
    g_assert_true(outbox_room_id_split(outbox_room_id(OUTBOX_SLOT_MAX, 1),
                                       &slot, &seq));
    g_assert_cmpuint(slot, ==, OUTBOX_SLOT_MAX);
    /* an entry's id is no room delivery */
    g_assert_false(outbox_room_id_split(42, &slot, &seq));
}

static int count_cursor(const char *account, char kind, const char *target,
                        const outbox_cursor *c, void *userdata)
{
    g_string_append_printf(userdata, "%c:%s ", kind, target);
    return 0;
}

static void cursors_are_walked_apart_from_entries_and_dropped_with_them(
    fixture *f, gconstpointer data)
{
    GString *seen = g_string_new(NULL);
    MDB_txn *txn = NULL;
    write_call w = {0};

    start(f, "a", 'i', "bob", "lobby");
    start(f, "a", 'c', "#chan", "lobby");
    start(f, "ab", 'i', "bob", "lobby");
    add(f, "a", 'i', "bob");
    add(f, "a", 'i', "bob");
    g_assert_cmpuint(count(f, "a", 'i', "bob"), ==, 2);
    ASSERT_PENDING(f, "a", "i:bob=2");
    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(outbox_cursor_foreach(txn, f->s, "a", count_cursor, seen),
                    ==, 0);
    store_read_end(txn);
    g_assert_cmpstr(seen->str, ==, "c:#chan i:bob ");
    w.account = "a";
    w.kind = 'i';
    w.target = "bob";
    g_assert_cmpint(store_write(f->s, drop_target_txn, &w, NULL), ==, 0);
    g_assert_null(cursor(f, "a", 'i', "bob"));
    g_string_free(seen, TRUE);
}


static int list_entry(const outbox_msg *m, void *userdata)
{
    g_string_append_printf(userdata, "%" G_GUINT64_FORMAT ":%s|%s ",
                           m->archive_seq, m->nick, m->body);
    return 0;
}

static char *entries_of(fixture *f, const char *account, char kind,
                        const char *target)
{
    GString *s = g_string_new(NULL);
    MDB_txn *txn = NULL;

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(
        outbox_foreach_target(txn, f->s, account, kind, target, 0, list_entry,
                              s),
        ==, 0);
    store_read_end(txn);
    return g_string_free(s, FALSE);
}

static void a_version_2_store_keeps_every_pending_delivery(fixture *f,
                                                           gconstpointer data)
{
    char *got;
    outbox_cursor *c;

    /* tests/fixtures/store-v2/README.md says what it holds */
    testutil_store_load_fixture(f, "store-v2");
    g_assert_cmpuint(store_schema_version(f->s), ==, STORE_SCHEMA_VERSION);
    got = entries_of(f, "lobby-irc", 'i', "bob");
    g_assert_cmpstr(got, ==,
                    "1:alice|line 1 2:alice|line 2 3:alice|line 3 "
                    "4:alice|line 4 0:|Welcome to the group ");
    g_free(got);
    got = entries_of(f, "lobby-irc", 'i', "carol");
    g_assert_cmpstr(got, ==, "3:alice|line 3 4:alice|line 4 ");
    g_free(got);
    got = entries_of(f, "chat-irc", 'c', "#chan");
    g_assert_cmpstr(got, ==, "4:alice|line 4 ");
    g_free(got);
    /* what was queued stays queued; the cursors start after it */
    for (int i = 0; i < 3; i++) {
        static const char *const who[] = {"bob", "carol", "dave"};
        c = cursor(f, "lobby-irc", 'i', who[i]);
        g_assert_nonnull(c);
        g_assert_cmpuint(c->seq, ==, 4);
        g_assert_true(outbox_cursor_wants(c, 5) == (i != 2)); /* dave muted */
        outbox_cursor_free(c);
    }
}

int main(int argc, char **argv)
{
    static const testutil_store_case tests[] = {
#define T(name) {"/outbox/" #name, name}
        T(add_then_foreach_round_trips_every_field),
        T(ids_increase_and_are_never_reused_after_delete_and_reopen),
        T(a_failed_transaction_does_not_advance_the_ids),
        T(foreach_target_is_oldest_first_and_starts_after_after_id),
        T(targets_with_prefix_sharing_names_do_not_mix),
        T(foreach_pending_target_gives_each_target_once_with_its_count),
        T(remove_of_an_absent_entry_is_0),
        T(drop_target_erases_that_target_only),
        T(drop_account_erases_that_account_only),
        T(walks_stop_at_a_positive_return_and_give_0),
        T(walks_go_on_when_fn_removes_what_it_was_given),
        T(bad_arguments_are_refused_with_einval),
        T(a_key_longer_than_lmdb_allows_is_refused),
        T(a_corrupted_entry_is_skipped_but_counted_and_dropped),
        T(a_corrupted_mark_gives_mdb_corrupted_and_writes_nothing),
        T(a_cursor_starts_at_the_archive_head_once_with_its_own_slot),
        T(a_cursor_moves_forward_only_and_needs_to_exist),
        T(muting_holds_and_unmuting_skips_what_was_said_meanwhile),
        T(a_cursor_had_what_it_passed_since_it_started_and_was_not_muted),
        T(a_room_delivery_id_names_its_slot_and_seq),
        T(cursors_are_walked_apart_from_entries_and_dropped_with_them),
        T(a_version_2_store_keeps_every_pending_delivery),
#undef T
    };

    g_test_init(&argc, &argv, NULL);
    testutil_store_add(tests, G_N_ELEMENTS(tests));
    return g_test_run();
}
