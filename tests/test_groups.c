/* test_groups: the "groups" database — ensure, put, get, the public
 * listing, and records this build cannot decode. */
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "affiliations.h"
#include "groups.h"
#include "store.h"
#include "testutil.h"

/* A store in a temp dir (testutil.c). */
typedef testutil_store fixture;

/* store_write callbacks */

typedef struct ensure_call {
    const char *localpart;
    gboolean created;
    int rc;
} ensure_call;

static int ensure_txn(MDB_txn *txn, const store *s, void *userdata)
{
    ensure_call *c = userdata;

    c->rc = groups_ensure(txn, s, c->localpart, &c->created);
    return c->rc;
}

static gboolean ensure(fixture *f, const char *localpart)
{
    ensure_call c = {.localpart = localpart};
    GError *err = NULL;

    g_assert_cmpint(store_write(f->s, ensure_txn, &c, &err), ==, 0);
    g_assert_no_error(err);
    return c.created;
}

static int put_txn(MDB_txn *txn, const store *s, void *userdata)
{
    return groups_put(txn, s, userdata);
}

static void put(fixture *f, const group_cfg *g)
{
    GError *err = NULL;

    g_assert_cmpint(store_write(f->s, put_txn, (void *)g, &err), ==, 0);
    g_assert_no_error(err);
}

/* Puts bytes (or, bytes NULL, a GVariant in text form) under key in
 * "groups", bypassing groups_put. */
static void put_raw(fixture *f, const char *key, const char *bytes, size_t len,
                    const char *parsed)
{
    testutil_put_raw(f, STORE_DB_GROUPS, key, strlen(key), bytes, len, parsed);
}

static int get(fixture *f, const char *localpart, group_cfg **out)
{
    MDB_txn *txn;
    GError *err = NULL;
    int rc;

    g_assert_cmpint(store_read_begin(f->s, &txn, &err), ==, 0);
    g_assert_no_error(err);
    rc = groups_get(txn, f->s, localpart, out);
    store_read_end(txn);
    return rc;
}

static group_cfg *get_ok(fixture *f, const char *localpart)
{
    group_cfg *g = NULL;

    g_assert_cmpint(get(f, localpart, &g), ==, 0);
    g_assert_nonnull(g);
    return g;
}

/* The public listing as "a,b,c". */
static char *list_public(fixture *f)
{
    GPtrArray *list = NULL;
    GString *out = g_string_new(NULL);
    MDB_txn *txn;

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(groups_list_public(txn, f->s, &list), ==, 0);
    store_read_end(txn);
    g_assert_nonnull(list);
    for (guint i = 0; i < list->len; i++) {
        const group_cfg *g = g_ptr_array_index(list, i);
        g_assert_true(g->is_public);
        g_string_append_printf(out, "%s%s", i ? "," : "", g->localpart);
    }
    g_ptr_array_unref(list);
    return g_string_free(out, FALSE);
}

static void
ensure_creates_a_public_persistent_group_named_after_it(fixture *f,
                                                        gconstpointer data)
{
    group_cfg *g;

    g_assert_true(ensure(f, "lobby"));
    g = get_ok(f, "lobby");
    g_assert_cmpstr(g->localpart, ==, "lobby");
    g_assert_cmpstr(g->name, ==, "lobby");
    g_assert_cmpstr(g->description, ==, "");
    g_assert_true(g->is_public);
    g_assert_true(g->persistent);
    g_assert_cmpint(g->created, >, 0);
    group_cfg_free(g);
}

static void
ensure_is_idempotent_and_keeps_the_existing_record(fixture *f,
                                                   gconstpointer data)
{
    group_cfg changed = {.localpart = "lobby",
                         .name = "The Lobby",
                         .description = "say hi",
                         .is_public = FALSE,
                         .persistent = FALSE,
                         .created = 12345};
    group_cfg *g;

    g_assert_true(ensure(f, "lobby"));
    g_assert_false(ensure(f, "lobby"));
    put(f, &changed);
    g_assert_false(ensure(f, "lobby"));
    testutil_store_reopen(f);
    g_assert_false(ensure(f, "lobby"));
    g = get_ok(f, "lobby");
    g_assert_cmpstr(g->name, ==, "The Lobby");
    g_assert_cmpstr(g->description, ==, "say hi");
    g_assert_false(g->is_public);
    g_assert_false(g->persistent);
    g_assert_cmpint(g->created, ==, 12345);
    group_cfg_free(g);
}

static void ensure_refuses_an_empty_or_invalid_localpart(fixture *f,
                                                         gconstpointer data)
{
    static const char *const bad[] = {"", "\xff\xfe"};

    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        ensure_call c = {.localpart = bad[i]};
        GError *err = NULL;

        g_assert_cmpint(store_write(f->s, ensure_txn, &c, &err), <, 0);
        g_assert_cmpint(c.rc, ==, -EINVAL);
        g_assert_false(c.created);
        g_assert_error(err, STORE_ERROR, STORE_ERROR_ABORTED);
        g_error_free(err);
    }
}

static void put_then_get_round_trips_every_field(fixture *f, gconstpointer data)
{
    group_cfg in = {.localpart = "café",
                    .name = "Café ☕",
                    .description = "line one\nline two",
                    .is_public = TRUE,
                    .persistent = FALSE,
                    .created = G_GINT64_CONSTANT(-1)};
    group_cfg *g;

    put(f, &in);
    testutil_store_reopen(f);
    g = get_ok(f, "café");
    g_assert_cmpstr(g->localpart, ==, in.localpart);
    g_assert_cmpstr(g->name, ==, in.name);
    g_assert_cmpstr(g->description, ==, in.description);
    g_assert_true(g->is_public);
    g_assert_false(g->persistent);
    g_assert_cmpint(g->created, ==, -1);
    group_cfg_free(g);
}

static void get_of_an_unknown_group_is_not_found(fixture *f, gconstpointer data)
{
    group_cfg *g = (group_cfg *)f;

    ensure(f, "known");
    g_assert_cmpint(get(f, "unknown", &g), ==, MDB_NOTFOUND);
    g_assert_null(g);
    g = (group_cfg *)f;
    g_assert_cmpint(get(f, "know", &g), ==, MDB_NOTFOUND);
    g_assert_null(g);
}

static void list_public_is_in_localpart_order_and_leaves_out_hidden_groups(
    fixture *f, gconstpointer data)
{
    group_cfg hidden = {.localpart = "beta",
                        .name = "",
                        .description = "",
                        .is_public = FALSE,
                        .persistent = TRUE};
    char *got;

    got = list_public(f);
    g_assert_cmpstr(got, ==, "");
    g_free(got);

    ensure(f, "zeta");
    ensure(f, "alpha");
    put(f, &hidden);
    ensure(f, "mid");
    ensure(f, "alpha2");
    /* Hidden by hand, in the record's own format. */
    put_raw(f, "gamma", NULL, 0, "(@q 1, {'public': <false>})");

    got = list_public(f);
    g_assert_cmpstr(got, ==, "alpha,alpha2,mid,zeta");
    g_free(got);
}

static void missing_fields_decode_to_defaults(fixture *f, gconstpointer data)
{
    group_cfg *g;

    put_raw(f, "sparse", NULL, 0, "(@q 1, @a{sv} {'name': <'N'>})");
    g = get_ok(f, "sparse");
    g_assert_cmpstr(g->localpart, ==, "sparse");
    g_assert_cmpstr(g->name, ==, "N");
    g_assert_cmpstr(g->description, ==, "");
    g_assert_false(g->is_public);
    g_assert_true(g->persistent);
    g_assert_cmpint(g->created, ==, 0);
    group_cfg_free(g);

    /* A field of the wrong type counts as missing; unknown ones are
     * ignored. */
    put_raw(f, "odd", NULL, 0,
            "(@q 1, {'public': <'yes'>, "
            "'name': <@u 5>, 'extra': <1>})");
    g = get_ok(f, "odd");
    g_assert_cmpstr(g->name, ==, "");
    g_assert_false(g->is_public);
    group_cfg_free(g);
}

static void
a_corrupt_record_is_reported_as_corrupted_not_a_crash(fixture *f,
                                                      gconstpointer data)
{
    static const struct {
        const char *key;
        const char *bytes; /* raw bytes when non-NULL ... */
        size_t len;
        const char *parsed; /* ... else a GVariant in text form */
    } bad[] = {
        {"empty", "", 0, NULL},
        {"garbage", "\x01\x00\xff\xff\xff\xff\xff\x07", 8, NULL},
        {"truncated", "\x01", 1, NULL},
        {"wrongtype", NULL, 0, "(@q 1, 'a string')"},
        {"newer", NULL, 0, "(@q 2, @a{sv} {'public': <true>})"},
        {"versionzero", NULL, 0, "(@q 0, @a{sv} {'public': <true>})"},
    };
    char *got;

    ensure(f, "good");
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        group_cfg *g = (group_cfg *)f;

        put_raw(f, bad[i].key, bad[i].bytes, bad[i].len, bad[i].parsed);
        g_test_message("record %s", bad[i].key);
        g_assert_cmpint(get(f, bad[i].key, &g), ==, MDB_CORRUPTED);
        g_assert_null(g);
    }
    /* The listing leaves them out and still lists the good one. */
    got = list_public(f);
    g_assert_cmpstr(got, ==, "good");
    g_free(got);
    /* ensure does not overwrite what it cannot read. */
    g_assert_false(ensure(f, "newer"));
    g_assert_cmpint(get(f, "newer", &(group_cfg *){NULL}), ==, MDB_CORRUPTED);
}

/* Key bounds (store.h): a call with a part one byte over its bound is
 * STORE_KEY_TOO_LONG and writes nothing; at the bound it works, also when
 * the parts together make a key of exactly LMDB's 511 bytes. */

typedef struct key_call {
    int (*fn)(MDB_txn *txn, const store *s, const char *group,
              const char *bare);
    const char *group, *bare;
    int rc;
} key_call;

static int call_groups_put(MDB_txn *txn, const store *s, const char *group,
                           const char *bare)
{
    group_cfg g = {.localpart = (char *)group, .allow_pm = "anyone"};

    (void)bare;
    return groups_put(txn, s, &g);
}

static int call_groups_ensure(MDB_txn *txn, const store *s, const char *group,
                              const char *bare)
{
    (void)bare;
    return groups_ensure(txn, s, group, NULL);
}

/* Not found is what a lookup of a group never written says. */
static int found_or_not(int rc)
{
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int call_groups_get(MDB_txn *txn, const store *s, const char *group,
                           const char *bare)
{
    group_cfg *g = NULL;
    int rc = found_or_not(groups_get(txn, s, group, &g));

    (void)bare;
    group_cfg_free(g);
    return rc;
}

static int call_groups_delete(MDB_txn *txn, const store *s, const char *group,
                              const char *bare)
{
    (void)bare;
    return found_or_not(groups_delete(txn, s, group));
}

static int call_aff_set(MDB_txn *txn, const store *s, const char *group,
                        const char *bare)
{
    return affiliations_set(txn, s, group, bare, AFF_MEMBER, "r");
}

static int call_aff_get(MDB_txn *txn, const store *s, const char *group,
                        const char *bare)
{
    enum affiliation a;

    return affiliations_get(txn, s, group, bare, &a);
}

static int count_one(const char *bare, enum affiliation a, const char *reason,
                     void *userdata)
{
    (void)bare, (void)a, (void)reason;
    (*(guint *)userdata)++;
    return 0;
}

static int call_aff_foreach(MDB_txn *txn, const store *s, const char *group,
                            const char *bare)
{
    guint n = 0;

    (void)bare;
    return affiliations_foreach(txn, s, group, count_one, &n);
}

static int call_aff_count_owned(MDB_txn *txn, const store *s, const char *group,
                                const char *bare)
{
    guint n = 0;

    (void)group;
    return affiliations_count_owned(txn, s, bare, &n);
}

static int key_txn(MDB_txn *txn, const store *s, void *userdata)
{
    key_call *c = userdata;

    c->rc = c->fn(txn, s, c->group, c->bare);
    return c->rc;
}

static void
a_group_or_jid_longer_than_its_key_bound_is_refused_and_the_longest_fit(
    fixture *f, gconstpointer data)
{
    char *group = g_strnfill(STORE_GROUP_MAX, 'g');
    char *group_over = g_strnfill(STORE_GROUP_MAX + 1, 'g');
    char *bare = g_strnfill(STORE_JID_MAX, 'j');
    char *bare_over = g_strnfill(STORE_JID_MAX + 1, 'j');
    const struct {
        const char *what;
        int (*fn)(MDB_txn *, const store *, const char *, const char *);
        const char *group, *bare;
        int want;
    } cases[] = {
        {"groups_put over", call_groups_put, group_over, NULL,
         STORE_KEY_TOO_LONG},
        {"groups_ensure over", call_groups_ensure, group_over, NULL,
         STORE_KEY_TOO_LONG},
        {"groups_get over", call_groups_get, group_over, NULL,
         STORE_KEY_TOO_LONG},
        {"groups_delete over", call_groups_delete, group_over, NULL,
         STORE_KEY_TOO_LONG},
        {"affiliations_set group over", call_aff_set, group_over, bare,
         STORE_KEY_TOO_LONG},
        {"affiliations_set jid over", call_aff_set, group, bare_over,
         STORE_KEY_TOO_LONG},
        {"affiliations_get group over", call_aff_get, group_over, "a@b",
         STORE_KEY_TOO_LONG},
        {"affiliations_get jid over", call_aff_get, "g", bare_over,
         STORE_KEY_TOO_LONG},
        {"affiliations_foreach over", call_aff_foreach, group_over, NULL,
         STORE_KEY_TOO_LONG},
        {"affiliations_count_owned over", call_aff_count_owned, NULL, bare_over,
         STORE_KEY_TOO_LONG},
        /* At the bounds: group \0 bare is exactly 511 bytes. */
        {"groups_put at the bound", call_groups_put, group, NULL, 0},
        {"groups_get at the bound", call_groups_get, group, NULL, 0},
        {"affiliations_set at the bounds", call_aff_set, group, bare, 0},
        {"affiliations_get at the bounds", call_aff_get, group, bare, 0},
        {"affiliations_foreach at the bound", call_aff_foreach, group, NULL, 0},
        {"affiliations_count_owned at the bound", call_aff_count_owned, NULL,
         bare, 0},
    };
    enum affiliation a = AFF_NONE;
    MDB_txn *txn = NULL;
    GPtrArray *all = NULL;

    g_assert_cmpint(STORE_GROUP_MAX + 1 + STORE_JID_MAX, ==, STORE_KEY_MAX);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        key_call c = {cases[i].fn, cases[i].group, cases[i].bare, -1};
        GError *err = NULL;
        int rc = store_write(f->s, key_txn, &c, &err);

        g_test_message("%s", cases[i].what);
        g_assert_cmpint(c.rc, ==, cases[i].want);
        if (cases[i].want == 0) {
            g_assert_cmpint(rc, ==, 0);
        } else {
            g_assert_cmpint(rc, ==, STORE_KEY_TOO_LONG);
            g_assert_error(err, STORE_ERROR, STORE_ERROR_ABORTED);
            g_assert_nonnull(strstr(err->message, "longer than its bound"));
            g_clear_error(&err);
        }
    }
    /* Only what fits was written: one group, one affiliation. */
    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(groups_list_all(txn, f->s, &all), ==, 0);
    g_assert_cmpuint(all->len, ==, 1);
    g_assert_cmpstr(((group_cfg *)all->pdata[0])->localpart, ==, group);
    g_assert_cmpint(affiliations_get(txn, f->s, group, bare, &a), ==, 0);
    g_assert_cmpint(a, ==, AFF_MEMBER);
    store_read_end(txn);
    g_ptr_array_unref(all);
    g_free(group);
    g_free(group_over);
    g_free(bare);
    g_free(bare_over);
}

int main(int argc, char **argv)
{
    static const testutil_store_case tests[] = {
#define T(name) {"/groups/" #name, name}
        T(ensure_creates_a_public_persistent_group_named_after_it),
        T(ensure_is_idempotent_and_keeps_the_existing_record),
        T(ensure_refuses_an_empty_or_invalid_localpart),
        T(put_then_get_round_trips_every_field),
        T(get_of_an_unknown_group_is_not_found),
        T(list_public_is_in_localpart_order_and_leaves_out_hidden_groups),
        T(missing_fields_decode_to_defaults),
        T(a_corrupt_record_is_reported_as_corrupted_not_a_crash),
        T(a_group_or_jid_longer_than_its_key_bound_is_refused_and_the_longest_fit),
#undef T
    };

    g_test_init(&argc, &argv, NULL);
    testutil_store_add(tests, G_N_ELEMENTS(tests));
    return g_test_run();
}
