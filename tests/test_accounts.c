/* test_accounts: the "accounts" and "secrets" databases — round trip,
 * passwords kept apart, deletion, listing order, undecodable records. */
#include <string.h>

#include <glib.h>

#include "accounts.h"
#include "store.h"
#include "testutil.h"

typedef testutil_store fixture;

static account_rec *make(const char *name, const char *group)
{
    account_rec *a = g_new0(account_rec, 1);

    a->name = g_strdup(name);
    a->protocol = g_strdup("prpl-irc");
    a->username = g_strdup("bot@127.0.0.1");
    a->group = g_strdup(group);
    a->mode = g_strdup("chat");
    a->chat = g_strdup("#lobby");
    a->options = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_hash_table_insert(a->options, g_strdup("port"), g_strdup("6667"));
    g_hash_table_insert(a->options, g_strdup("ssl"), g_strdup("false"));
    a->enabled = TRUE;
    a->pace_burst = 7;
    a->pace_rate = 0.5;
    return a;
}

typedef struct put_call {
    const account_rec *a;
    const char *password;
} put_call;

static int put_txn(MDB_txn *txn, const store *s, void *userdata)
{
    put_call *c = userdata;

    return accounts_put(txn, s, c->a, c->password);
}

static void put(fixture *f, const account_rec *a, const char *password)
{
    put_call c = {a, password};
    GError *err = NULL;

    g_assert_cmpint(store_write(f->s, put_txn, &c, &err), ==, 0);
    g_assert_no_error(err);
}

static int delete_txn(MDB_txn *txn, const store *s, void *userdata)
{
    return accounts_delete(txn, s, userdata);
}

static int get(fixture *f, const char *name, account_rec **out)
{
    MDB_txn *txn;
    int rc;

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    rc = accounts_get(txn, f->s, name, out);
    store_read_end(txn);
    return rc;
}

static char *password(fixture *f, const char *name)
{
    MDB_txn *txn;
    char *pw = NULL;

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(accounts_password(txn, f->s, name, &pw), ==, 0);
    store_read_end(txn);
    g_assert_nonnull(pw);
    return pw;
}

static void an_account_reads_back_as_written(fixture *f, gconstpointer d)
{
    account_rec *a = make("lobby-irc", "lobby"), *b = NULL;

    a->from_config = TRUE;
    put(f, a, "hunter2");
    testutil_store_reopen(f);
    g_assert_cmpint(get(f, "lobby-irc", &b), ==, 0);
    g_assert_cmpstr(b->name, ==, "lobby-irc");
    g_assert_cmpstr(b->protocol, ==, "prpl-irc");
    g_assert_cmpstr(b->username, ==, "bot@127.0.0.1");
    g_assert_cmpstr(b->group, ==, "lobby");
    g_assert_cmpstr(b->mode, ==, "chat");
    g_assert_cmpstr(b->chat, ==, "#lobby");
    g_assert_cmpuint(g_hash_table_size(b->options), ==, 2);
    g_assert_cmpstr(g_hash_table_lookup(b->options, "port"), ==, "6667");
    g_assert_cmpstr(g_hash_table_lookup(b->options, "ssl"), ==, "false");
    g_assert_true(b->enabled);
    g_assert_true(b->from_config);
    g_assert_cmpuint(b->pace_burst, ==, 7);
    g_assert_cmpfloat(b->pace_rate, ==, 0.5);
    account_rec_free(a);
    account_rec_free(b);
}

static void a_contacts_account_has_no_chat(fixture *f, gconstpointer d)
{
    account_rec *a = make("c", "lobby"), *b = NULL;

    g_free(a->mode);
    a->mode = g_strdup("contacts");
    g_clear_pointer(&a->chat, g_free);
    a->enabled = FALSE;
    put(f, a, NULL);
    g_assert_cmpint(get(f, "c", &b), ==, 0);
    g_assert_cmpstr(b->mode, ==, "contacts");
    g_assert_null(b->chat);
    g_assert_false(b->enabled);
    account_rec_free(a);
    account_rec_free(b);
}

static void a_copy_is_deep(fixture *f, gconstpointer d)
{
    account_rec *a = make("x", "lobby");
    account_rec *c = account_rec_copy(a);

    account_rec_free(a);
    g_assert_cmpstr(c->name, ==, "x");
    g_assert_cmpstr(g_hash_table_lookup(c->options, "port"), ==, "6667");
    account_rec_free(c);
}

static void the_password_is_kept_when_none_is_given(fixture *f, gconstpointer d)
{
    account_rec *a = make("k", "lobby");
    char *pw;

    pw = password(f, "k");
    g_assert_cmpstr(pw, ==, "");
    g_free(pw);
    put(f, a, "first");
    g_free(a->username);
    a->username = g_strdup("other");
    put(f, a, NULL);
    pw = password(f, "k");
    g_assert_cmpstr(pw, ==, "first");
    g_free(pw);
    put(f, a, "");
    pw = password(f, "k");
    g_assert_cmpstr(pw, ==, "");
    g_free(pw);
    account_rec_free(a);
}

static void deleting_removes_the_record_and_its_secret(fixture *f,
                                                       gconstpointer d)
{
    account_rec *a = make("gone", "lobby"), *b = NULL;
    char *pw;

    put(f, a, "secret");
    g_assert_cmpint(store_write(f->s, delete_txn, "gone", NULL), ==, 0);
    g_assert_cmpint(get(f, "gone", &b), ==, MDB_NOTFOUND);
    g_assert_null(b);
    pw = password(f, "gone");
    g_assert_cmpstr(pw, ==, "");
    g_free(pw);
    /* a second delete finds nothing */
    g_assert_cmpint(store_write(f->s, delete_txn, "gone", NULL), ==,
                    MDB_NOTFOUND);
    account_rec_free(a);
}

static int collect(const account_rec *a, void *userdata)
{
    GString *out = userdata;

    g_string_append_printf(out, "%s%s:%s", out->len ? "," : "", a->name,
                           a->group);
    return 0;
}

static int stop_at_b(const account_rec *a, void *userdata)
{
    (*(int *)userdata)++;
    return strcmp(a->name, "b") == 0 ? 42 : 0;
}

static int fail_at_b(const account_rec *a, void *userdata)
{
    (*(int *)userdata)++;
    return strcmp(a->name, "b") == 0 ? -42 : 0;
}

typedef struct raw_value {
    enum store_db db;
    const char *key;
    GVariant *v;
} raw_value;

static int raw_txn(MDB_txn *txn, const store *s, void *userdata)
{
    raw_value *r = userdata;

    return store_put_variant(txn, store_dbi(s, r->db), r->key, strlen(r->key),
                             g_variant_ref(r->v));
}

static void put_raw(fixture *f, enum store_db db, const char *key, GVariant *v)
{
    raw_value r = {db, key, g_variant_ref_sink(v)};

    g_assert_cmpint(store_write(f->s, raw_txn, &r, NULL), ==, 0);
    g_variant_unref(r.v);
}

static void foreach_goes_in_name_order_and_stops_when_told(fixture *f,
                                                           gconstpointer d)
{
    const char *names[] = {"c", "a", "b", "a.b"};
    GString *out = g_string_new(NULL);
    MDB_txn *txn;
    int calls = 0;

    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        account_rec *a = make(names[i], "g");
        put(f, a, "pw");
        account_rec_free(a);
    }
    /* an undecodable record is skipped */
    put_raw(f, STORE_DB_ACCOUNTS, "bb", g_variant_new("(qs)", 1, "x"));
    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(accounts_foreach(txn, f->s, collect, out), ==, 0);
    g_assert_cmpstr(out->str, ==, "a:g,a.b:g,b:g,c:g");
    /* a positive value stops the walk, and is not an error */
    g_assert_cmpint(accounts_foreach(txn, f->s, stop_at_b, &calls), ==, 0);
    g_assert_cmpint(calls, ==, 3);
    calls = 0;
    g_assert_cmpint(accounts_foreach(txn, f->s, fail_at_b, &calls), ==, -42);
    g_assert_cmpint(calls, ==, 3);
    store_read_end(txn);
    g_string_free(out, TRUE);
}

static void an_undecodable_record_is_corrupted(fixture *f, gconstpointer d)
{
    GVariantBuilder b;
    account_rec *a = NULL;
    MDB_txn *txn;
    char *pw = NULL;

    /* not a (qa{sv}) */
    put_raw(f, STORE_DB_ACCOUNTS, "bad", g_variant_new("(qs)", 1, "x"));
    g_assert_cmpint(get(f, "bad", &a), ==, MDB_CORRUPTED);
    g_assert_null(a);
    /* a newer record version */
    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    put_raw(f, STORE_DB_ACCOUNTS, "newer",
            g_variant_new("(qa{sv})", ACCOUNTS_RECORD_VERSION + 1, &b));
    g_assert_cmpint(get(f, "newer", &a), ==, MDB_CORRUPTED);
    /* protocol missing */
    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&b, "{sv}", "username", g_variant_new_string("u"));
    put_raw(f, STORE_DB_ACCOUNTS, "partial",
            g_variant_new("(qa{sv})", ACCOUNTS_RECORD_VERSION, &b));
    g_assert_cmpint(get(f, "partial", &a), ==, MDB_CORRUPTED);
    /* a secret that is not a (qs) */
    put_raw(f, STORE_DB_SECRETS, "bad", g_variant_new("(qu)", 1, 5));
    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(accounts_password(txn, f->s, "bad", &pw), ==,
                    MDB_CORRUPTED);
    store_read_end(txn);
    g_assert_null(pw);
}

static void missing_fields_take_their_defaults(fixture *f, gconstpointer d)
{
    GVariantBuilder b;
    account_rec *a = NULL;

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&b, "{sv}", "protocol", g_variant_new_string("p"));
    g_variant_builder_add(&b, "{sv}", "username", g_variant_new_string("u"));
    g_variant_builder_add(&b, "{sv}", "group", g_variant_new_string("g"));
    g_variant_builder_add(&b, "{sv}", "mode", g_variant_new_string("contacts"));
    g_variant_builder_add(&b, "{sv}", "enabled", g_variant_new_string("yes"));
    g_variant_builder_add(&b, "{sv}", "future", g_variant_new_int32(1));
    put_raw(f, STORE_DB_ACCOUNTS, "old",
            g_variant_new("(qa{sv})", ACCOUNTS_RECORD_VERSION, &b));
    g_assert_cmpint(get(f, "old", &a), ==, 0);
    g_assert_true(a->enabled); /* wrong type counts as missing */
    g_assert_false(a->from_config);
    g_assert_null(a->chat);
    g_assert_cmpuint(g_hash_table_size(a->options), ==, 0);
    g_assert_cmpuint(a->pace_burst, ==, 5);
    g_assert_cmpfloat(a->pace_rate, ==, 1.0);
    account_rec_free(a);
}

static void a_record_without_its_required_fields_is_refused(fixture *f,
                                                            gconstpointer d)
{
    account_rec *a = make("r", "g");
    put_call c = {a, NULL};
    GError *err = NULL;

    g_clear_pointer(&a->protocol, g_free);
    g_assert_cmpint(store_write(f->s, put_txn, &c, &err), <, 0);
    g_assert_error(err, STORE_ERROR, STORE_ERROR_ABORTED);
    g_clear_error(&err);
    a->protocol = g_strdup("p");
    c.password = "\xff";
    g_assert_cmpint(store_write(f->s, put_txn, &c, &err), <, 0);
    /* the error names no password */
    g_assert_null(strstr(err->message, "\xff"));
    g_clear_error(&err);
    account_rec_free(a);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define T(name)                                                                \
    g_test_add("/accounts/" #name, fixture, NULL, testutil_store_setup, name,  \
               testutil_store_teardown)
    T(an_account_reads_back_as_written);
    T(a_contacts_account_has_no_chat);
    T(a_copy_is_deep);
    T(the_password_is_kept_when_none_is_given);
    T(deleting_removes_the_record_and_its_secret);
    T(foreach_goes_in_name_order_and_stops_when_told);
    T(an_undecodable_record_is_corrupted);
    T(missing_fields_take_their_defaults);
    T(a_record_without_its_required_fields_is_refused);
#undef T
    return g_test_run();
}
