/* test_affiliations: the affiliations records and the owned index beside
 * them (schema/affiliations.c): what affiliations_count_owned counts after
 * each kind of change, and the migration that builds the index for a store
 * written at schema version 3. */
#include <glib.h>
#include <string.h>

#include "affiliations.h"
#include "testutil.h"

typedef testutil_store fixture;

/* One change: bare gets affiliation a in group. */
typedef struct change {
    const char *group, *bare;
    enum affiliation a;
} change;

typedef struct apply_args {
    const change *changes;
    int rc;
} apply_args;

static int apply_txn(MDB_txn *txn, const store *s, void *userdata)
{
    apply_args *aa = userdata;

    aa->rc = 0;
    for (const change *c = aa->changes; aa->rc == 0 && c->group; c++)
        aa->rc = affiliations_set(txn, s, c->group, c->bare, c->a, NULL);
    return aa->rc;
}

static void apply(fixture *f, const change *changes)
{
    apply_args aa = {changes, 0};

    g_assert_cmpint(testutil_store_write(f, apply_txn, &aa, &aa.rc), ==, 0);
}

static guint owned_by(fixture *f, const char *bare)
{
    MDB_txn *txn = NULL;
    guint n = G_MAXUINT;

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(affiliations_count_owned(txn, f->s, bare, &n), ==, 0);
    store_read_end(txn);
    return n;
}

static enum affiliation affiliation_of(fixture *f, const char *group,
                                       const char *bare)
{
    MDB_txn *txn = NULL;
    enum affiliation a = AFF_OUTCAST;

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(affiliations_get(txn, f->s, group, bare, &a), ==, 0);
    store_read_end(txn);
    return a;
}

#define A    "alice@example.org"
#define B    "bob@example.org"
#define AL   "al@example.org"
#define ALUK "al@example.org.uk"

/* Each case: changes made in one transaction (up to the NULL group), then
 * how many groups bare owns. */
static const struct {
    const char *name, *bare;
    guint owned;
    change changes[4];
} count_cases[] = {
    {"a new owner owns one group", A, 1, {{"g1", A, AFF_OWNER}}},
    {"owning two groups counts two",
     A,
     2,
     {{"g1", A, AFF_OWNER}, {"g2", A, AFF_OWNER}}},
    {"owner set twice counts once",
     A,
     1,
     {{"g1", A, AFF_OWNER}, {"g1", A, AFF_OWNER}}},
    {"an owner made admin owns nothing",
     A,
     0,
     {{"g1", A, AFF_OWNER}, {"g1", A, AFF_ADMIN}}},
    {"an owner made member owns nothing",
     A,
     0,
     {{"g1", A, AFF_OWNER}, {"g1", A, AFF_MEMBER}}},
    {"an owner banned owns nothing",
     A,
     0,
     {{"g1", A, AFF_OWNER}, {"g1", A, AFF_OUTCAST}}},
    {"an owner removed owns nothing",
     A,
     0,
     {{"g1", A, AFF_OWNER}, {"g1", A, AFF_NONE}}},
    {"a member made owner owns one",
     A,
     1,
     {{"g1", A, AFF_MEMBER}, {"g1", A, AFF_OWNER}}},
    {"admin member and outcast own nothing",
     A,
     0,
     {{"g1", A, AFF_ADMIN}, {"g2", A, AFF_MEMBER}, {"g3", A, AFF_OUTCAST}}},
    {"removing a user who had no record owns nothing",
     A,
     0,
     {{"g1", A, AFF_NONE}}},
    {"another user's groups are not counted",
     A,
     1,
     {{"g1", B, AFF_OWNER}, {"g2", A, AFF_OWNER}}},
    {"a JID that is a prefix of another's counts its own only",
     AL,
     1,
     {{"g1", AL, AFF_OWNER}, {"g2", ALUK, AFF_OWNER}, {"g3", ALUK, AFF_OWNER}}},
    {"a JID that extends another's counts its own only",
     ALUK,
     1,
     {{"g1", AL, AFF_OWNER}, {"g2", ALUK, AFF_OWNER}}},
};

static void count_owned_follows_every_change(fixture *f, gconstpointer data)
{
    for (gsize i = 0; i < G_N_ELEMENTS(count_cases); i++) {
        g_test_message("case: %s", count_cases[i].name);
        testutil_store_teardown(f, NULL);
        testutil_store_setup(f, NULL);
        apply(f, count_cases[i].changes);
        g_assert_cmpuint(owned_by(f, count_cases[i].bare), ==,
                         count_cases[i].owned);
    }
}

static void
erasing_every_record_of_a_group_leaves_no_ownership(fixture *f,
                                                    gconstpointer data)
{
    static const change made[] = {
        {"g1", A, AFF_OWNER}, {"g1", B, AFF_OWNER}, {"g2", A, AFF_OWNER}, {0}};
    static const change erased[] = {
        {"g1", A, AFF_NONE}, {"g1", B, AFF_NONE}, {0}};

    apply(f, made);
    apply(f, erased);
    g_assert_cmpuint(owned_by(f, A), ==, 1);
    g_assert_cmpuint(owned_by(f, B), ==, 0);
}

typedef struct failing_args {
    int rc;
} failing_args;

/* Sets an owner, then gives up: nothing of it may stay. */
static int owner_then_abort_txn(MDB_txn *txn, const store *s, void *userdata)
{
    failing_args *fa = userdata;

    fa->rc = affiliations_set(txn, s, "g1", A, AFF_OWNER, NULL);
    return fa->rc == 0 ? -EIO : fa->rc;
}

static void
an_aborted_transaction_leaves_the_index_as_it_was(fixture *f,
                                                  gconstpointer data)
{
    failing_args fa = {0};
    GError *err = NULL;

    g_assert_cmpint(store_write(f->s, owner_then_abort_txn, &fa, &err), <, 0);
    g_clear_error(&err);
    g_assert_cmpint(fa.rc, ==, 0);
    g_assert_cmpuint(owned_by(f, A), ==, 0);
    g_assert_cmpint(affiliation_of(f, "g1", A), ==, AFF_NONE);
}

static int rebuild_txn(MDB_txn *txn, const store *s, void *userdata)
{
    int *rc = userdata;

    *rc = affiliations_owned_rebuild(txn, (store *)s);
    return *rc;
}

static void
the_rebuild_drops_stale_entries_and_keeps_true_ones(fixture *f,
                                                    gconstpointer data)
{
    static const change made[] = {{"g1", A, AFF_OWNER}, {0}};
    static const char stale[] = "zed@example.org\0gone";
    int rc = 0;

    apply(f, made);
    testutil_put_raw(f, STORE_DB_OWNED, stale, sizeof stale - 1, "", 0, NULL);
    g_assert_cmpuint(owned_by(f, "zed@example.org"), ==, 1);
    g_assert_cmpint(testutil_store_write(f, rebuild_txn, &rc, &rc), ==, 0);
    g_assert_cmpuint(owned_by(f, "zed@example.org"), ==, 0);
    g_assert_cmpuint(owned_by(f, A), ==, 1);
}

static void the_rebuild_steps_over_records_it_cannot_read(fixture *f,
                                                          gconstpointer data)
{
    static const char no_sep[] = "nosep";
    static const char no_bare[] = "g9\0";
    static const char broken[] = "g8\0" A;
    static const char boss[] = "g7\0" A;
    static const char owner[] = "g6\0" A;
    int rc = 0;

    testutil_put_raw(f, STORE_DB_AFFILIATIONS, no_sep, sizeof no_sep - 1, NULL,
                     0, "(@q 1, 'owner', @a{sv} {})");
    testutil_put_raw(f, STORE_DB_AFFILIATIONS, no_bare, sizeof no_bare - 1,
                     NULL, 0, "(@q 1, 'owner', @a{sv} {})");
    testutil_put_raw(f, STORE_DB_AFFILIATIONS, broken, sizeof broken - 1, "xx",
                     2, NULL);
    testutil_put_raw(f, STORE_DB_AFFILIATIONS, boss, sizeof boss - 1, NULL, 0,
                     "(@q 1, 'boss', @a{sv} {})");
    testutil_put_raw(f, STORE_DB_AFFILIATIONS, owner, sizeof owner - 1, NULL, 0,
                     "(@q 1, 'owner', @a{sv} {})");
    g_assert_cmpint(testutil_store_write(f, rebuild_txn, &rc, &rc), ==, 0);
    g_assert_cmpuint(owned_by(f, A), ==, 1);
    g_assert_cmpuint(owned_by(f, ""), ==, 0);
}

static void a_version_3_store_counts_what_each_user_owns(fixture *f,
                                                         gconstpointer data)
{
    /* tests/fixtures/store-v3/README.md says what it holds */
    static const struct {
        const char *bare;
        guint owned;
    } owners[] = {
        {"alice@example.org", 2}, {"bob@example.org", 1},
        {"carol@example.org", 0}, {"dave@example.org", 0},
        {"eve@example.org", 0},
    };
    static const change later[] = {{"cafe", A, AFF_MEMBER}, {0}};

    testutil_store_load_fixture(f, "store-v3");
    g_assert_cmpuint(store_schema_version(f->s), ==, STORE_SCHEMA_VERSION);
    for (gsize i = 0; i < G_N_ELEMENTS(owners); i++)
        g_assert_cmpuint(owned_by(f, owners[i].bare), ==, owners[i].owned);
    /* the records themselves are as they were */
    g_assert_cmpint(affiliation_of(f, "cafe", "bob@example.org"), ==,
                    AFF_ADMIN);
    g_assert_cmpint(affiliation_of(f, "attic", "dave@example.org"), ==,
                    AFF_OUTCAST);
    /* and the index follows the changes made after the migration */
    apply(f, later);
    g_assert_cmpuint(owned_by(f, A), ==, 1);
}

int main(int argc, char **argv)
{
    static const testutil_store_case tests[] = {
#define T(name) {"/affiliations/" #name, name}
        T(count_owned_follows_every_change),
        T(erasing_every_record_of_a_group_leaves_no_ownership),
        T(an_aborted_transaction_leaves_the_index_as_it_was),
        T(the_rebuild_drops_stale_entries_and_keeps_true_ones),
        T(the_rebuild_steps_over_records_it_cannot_read),
        T(a_version_3_store_counts_what_each_user_owns),
#undef T
    };

    g_test_init(&argc, &argv, NULL);
    testutil_store_add(tests, G_N_ELEMENTS(tests));
    return g_test_run();
}
