/* test_nicks: registered nicks (schema/nicks.c): who holds a nick, the nick
 * of a JID through the index, and the index kept in step through
 * re-registration, removal, a destroyed group and a forgotten user. */
#include <glib.h>
#include <string.h>

#include "nicks.h"
#include "testutil.h"

typedef testutil_store fixture;

/* One step: bare registers nick (folded key) in group; nick NULL:
 * unregisters. want: what nicks_register returns. */
typedef struct step {
    const char *group, *bare, *nick, *key;
    int want;
} step;

typedef struct apply_args {
    const step *steps;
    int rc;
} apply_args;

static int apply_txn(MDB_txn *txn, const store *s, void *userdata)
{
    apply_args *aa = userdata;

    aa->rc = 0;
    for (const step *p = aa->steps; p->group; p++) {
        int rc =
            p->nick ? nicks_register(txn, s, p->group, p->bare, p->nick, p->key)
                    : nicks_unregister(txn, s, p->group, p->bare);
        g_assert_cmpint(rc, ==, p->want);
    }
    return 0;
}

static void apply(fixture *f, const step *steps)
{
    apply_args aa = {steps, 0};

    g_assert_cmpint(testutil_store_write(f, apply_txn, &aa, &aa.rc), ==, 0);
}

/* The owner of key in group, or NULL (g_free). */
static char *owner_of(fixture *f, const char *group, const char *key)
{
    MDB_txn *txn = NULL;
    char *owner = NULL;

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(nicks_owner(txn, f->s, group, key, &owner), ==, 0);
    store_read_end(txn);
    return owner;
}

/* bare's nick in group as displayed, or NULL (g_free); its key must be
 * want_key. */
static char *nick_of(fixture *f, const char *group, const char *bare,
                     const char *want_key)
{
    MDB_txn *txn = NULL;
    char *nick = NULL, *key = NULL;

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(nicks_of(txn, f->s, group, bare, &nick, &key), ==, 0);
    store_read_end(txn);
    g_assert_cmpstr(key, ==, want_key);
    g_free(key);
    return nick;
}

static guint count_in(fixture *f, const char *group, guint max)
{
    MDB_txn *txn = NULL;
    guint n = G_MAXUINT;

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(nicks_count(txn, f->s, group, max, &n), ==, 0);
    store_read_end(txn);
    return n;
}

#define assert_owner(f, group, key, want)                                      \
    do {                                                                       \
        char *o_ = owner_of(f, group, key);                                    \
        g_assert_cmpstr(o_, ==, want);                                         \
        g_free(o_);                                                            \
    } while (0)

#define assert_nick(f, group, bare, want, want_key)                            \
    do {                                                                       \
        char *n_ = nick_of(f, group, bare, want_key);                          \
        g_assert_cmpstr(n_, ==, want);                                         \
        g_free(n_);                                                            \
    } while (0)

static void a_registered_nick_is_found_by_key_and_by_owner(fixture *f,
                                                           gconstpointer d)
{
    static const step steps[] = {
        {"cafe", "juliet@x", "Juliet", "juliet", 0},
        {NULL},
    };

    apply(f, steps);
    assert_owner(f, "cafe", "juliet", "juliet@x");
    assert_nick(f, "cafe", "juliet@x", "Juliet", "juliet");
    /* another group, another user: nothing */
    assert_owner(f, "attic", "juliet", NULL);
    assert_nick(f, "cafe", "romeo@x", NULL, NULL);
    assert_nick(f, "attic", "juliet@x", NULL, NULL);
}

static void another_user_cannot_register_a_taken_nick(fixture *f,
                                                      gconstpointer d)
{
    static const step steps[] = {
        {"cafe", "juliet@x", "Juliet", "juliet", 0},
        {"cafe", "rosaline@x", "JULIET", "juliet", NICKS_TAKEN},
        /* the same nick in another group is free */
        {"attic", "rosaline@x", "JULIET", "juliet", 0},
        {NULL},
    };

    apply(f, steps);
    assert_owner(f, "cafe", "juliet", "juliet@x");
    assert_nick(f, "cafe", "rosaline@x", NULL, NULL);
    assert_owner(f, "attic", "juliet", "rosaline@x");
}

static void registering_again_replaces_the_old_nick(fixture *f, gconstpointer d)
{
    static const step steps[] = {
        {"cafe", "juliet@x", "Juliet", "juliet", 0},
        {"cafe", "juliet@x", "Jules", "jules", 0},
        /* the old one is free for someone else now */
        {"cafe", "rosaline@x", "Juliet", "juliet", 0},
        /* and the same key again only updates how it is shown */
        {"cafe", "juliet@x", "JULES", "jules", 0},
        {NULL},
    };

    apply(f, steps);
    assert_nick(f, "cafe", "juliet@x", "JULES", "jules");
    assert_owner(f, "cafe", "jules", "juliet@x");
    assert_owner(f, "cafe", "juliet", "rosaline@x");
    g_assert_cmpuint(count_in(f, "cafe", 100), ==, 2);
}

static void unregistering_frees_the_nick(fixture *f, gconstpointer d)
{
    static const step steps[] = {
        {"cafe", "juliet@x", "Juliet", "juliet", 0},
        {"cafe", "juliet@x", NULL, NULL, 0},
        /* twice is no error */
        {"cafe", "juliet@x", NULL, NULL, 0},
        {NULL},
    };

    apply(f, steps);
    assert_owner(f, "cafe", "juliet", NULL);
    assert_nick(f, "cafe", "juliet@x", NULL, NULL);
    g_assert_cmpuint(count_in(f, "cafe", 100), ==, 0);
}

static void registrations_survive_a_restart(fixture *f, gconstpointer d)
{
    static const step steps[] = {
        {"cafe", "juliet@x", "Juliet", "juliet", 0},
        {NULL},
    };

    apply(f, steps);
    testutil_store_reopen(f);
    assert_owner(f, "cafe", "juliet", "juliet@x");
    assert_nick(f, "cafe", "juliet@x", "Juliet", "juliet");
}

static void count_stops_at_its_bound(fixture *f, gconstpointer d)
{
    static const step steps[] = {
        {"cafe", "a@x", "a", "a", 0},  {"cafe", "b@x", "b", "b", 0},
        {"cafe", "c@x", "c", "c", 0},  {"attic", "d@x", "d", "d", 0},
        {"cafe2", "e@x", "e", "e", 0}, {NULL},
    };

    apply(f, steps);
    /* neither the index entries nor a group whose name starts alike count */
    g_assert_cmpuint(count_in(f, "cafe", 100), ==, 3);
    g_assert_cmpuint(count_in(f, "cafe", 2), ==, 2);
    g_assert_cmpuint(count_in(f, "attic", 100), ==, 1);
    g_assert_cmpuint(count_in(f, "nowhere", 100), ==, 0);
}

typedef struct drop_args {
    const char *group, *bare;
    guint dropped;
    int rc;
} drop_args;

static int drop_txn(MDB_txn *txn, const store *s, void *userdata)
{
    drop_args *da = userdata;

    da->rc = da->group ? nicks_drop_group(txn, s, da->group)
                       : nicks_forget(txn, s, da->bare, &da->dropped);
    return da->rc;
}

static void a_destroyed_group_drops_its_registrations(fixture *f,
                                                      gconstpointer d)
{
    static const step steps[] = {
        {"cafe", "juliet@x", "Juliet", "juliet", 0},
        {"cafe", "romeo@x", "Romeo", "romeo", 0},
        {"attic", "juliet@x", "Jules", "jules", 0},
        {NULL},
    };
    drop_args da = {"cafe", NULL, 0, 0};

    apply(f, steps);
    g_assert_cmpint(testutil_store_write(f, drop_txn, &da, &da.rc), ==, 0);
    assert_owner(f, "cafe", "juliet", NULL);
    assert_nick(f, "cafe", "juliet@x", NULL, NULL);
    assert_nick(f, "cafe", "romeo@x", NULL, NULL);
    /* the other group keeps its own */
    assert_nick(f, "attic", "juliet@x", "Jules", "jules");
    /* forgetting juliet now finds only the one left */
    da.group = NULL;
    da.bare = "juliet@x";
    g_assert_cmpint(testutil_store_write(f, drop_txn, &da, &da.rc), ==, 0);
    g_assert_cmpuint(da.dropped, ==, 1);
}

static void forgetting_a_user_drops_theirs_in_every_group(fixture *f,
                                                          gconstpointer d)
{
    static const step steps[] = {
        {"cafe", "juliet@x", "Juliet", "juliet", 0},
        {"attic", "juliet@x", "Jules", "jules", 0},
        {"cafe", "romeo@x", "Romeo", "romeo", 0},
        /* a JID that starts like juliet's keeps its own */
        {"attic", "juliet@xy", "Juliet", "juliet", 0},
        {NULL},
    };
    drop_args da = {NULL, "juliet@x", 0, 0};

    apply(f, steps);
    g_assert_cmpint(testutil_store_write(f, drop_txn, &da, &da.rc), ==, 0);
    g_assert_cmpuint(da.dropped, ==, 2);
    assert_owner(f, "cafe", "juliet", NULL);
    assert_owner(f, "attic", "jules", NULL);
    assert_nick(f, "cafe", "juliet@x", NULL, NULL);
    assert_owner(f, "cafe", "romeo", "romeo@x");
    assert_owner(f, "attic", "juliet", "juliet@xy");
}

typedef struct bound_case {
    gsize group, key, bare;
    int want;
} bound_case;

static int bounds_txn(MDB_txn *txn, const store *s, void *userdata)
{
    static const bound_case cases[] = {
        {STORE_GROUP_MAX, STORE_NICK_MAX, NICKS_JID_MAX, 0},
        {STORE_GROUP_MAX + 1, 4, 4, STORE_KEY_TOO_LONG},
        {4, STORE_NICK_MAX + 1, 4, STORE_KEY_TOO_LONG},
        {4, 4, NICKS_JID_MAX + 1, STORE_KEY_TOO_LONG},
        {4, 0, 4, STORE_KEY_TOO_LONG}, /* an empty nick */
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *g = g_strnfill(cases[i].group, 'g');
        char *k = g_strnfill(cases[i].key, 'k');
        char *b = g_strnfill(cases[i].bare, 'b');
        g_assert_cmpint(nicks_register(txn, s, g, b, "nick", k), ==,
                        cases[i].want);
        g_free(g);
        g_free(k);
        g_free(b);
    }
    /* nothing to drop for a JID too long to have registered */
    {
        char *b = g_strnfill(NICKS_JID_MAX + 1, 'b');
        g_assert_cmpint(nicks_unregister(txn, s, "g", b), ==, 0);
        g_free(b);
    }
    *(int *)userdata = 0;
    return 0;
}

static void
keys_over_their_bounds_are_refused_and_the_longest_fit(fixture *f,
                                                       gconstpointer d)
{
    int rc = 0;

    g_assert_cmpint(testutil_store_write(f, bounds_txn, &rc, &rc), ==, 0);
}

static void
a_record_from_a_newer_build_is_corrupted_to_this_one(fixture *f,
                                                     gconstpointer d)
{
    static const char key[] = "cafe\0juliet";
    MDB_txn *txn = NULL;
    char *owner = NULL;

    testutil_put_raw(f, STORE_DB_NICKS, key, sizeof key - 1, NULL, 0,
                     "(uint16 2, 'juliet@x', 'Juliet', @a{sv} {})");
    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(nicks_owner(txn, f->s, "cafe", "juliet", &owner), ==,
                    MDB_CORRUPTED);
    g_assert_null(owner);
    store_read_end(txn);
}

int main(int argc, char **argv)
{
    static const testutil_store_case tests[] = {
#define T(name) {"/nicks/" #name, name}
        T(a_registered_nick_is_found_by_key_and_by_owner),
        T(another_user_cannot_register_a_taken_nick),
        T(registering_again_replaces_the_old_nick),
        T(unregistering_frees_the_nick),
        T(registrations_survive_a_restart),
        T(count_stops_at_its_bound),
        T(a_destroyed_group_drops_its_registrations),
        T(forgetting_a_user_drops_theirs_in_every_group),
        T(keys_over_their_bounds_are_refused_and_the_longest_fit),
        T(a_record_from_a_newer_build_is_corrupted_to_this_one),
#undef T
    };

    g_test_init(&argc, &argv, NULL);
    testutil_store_add(tests, G_N_ELEMENTS(tests));
    return g_test_run();
}
