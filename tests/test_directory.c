/* test_directory: the public groups' list (schema/directory.c) — kept in
 * step by groups_put and groups_delete, counted, paged forward and backward
 * as XEP-0059 asks, and built again from the groups by the schema 5
 * migration. */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "directory.h"
#include "groups.h"
#include "store.h"
#include "testutil.h"

typedef testutil_store fixture;

typedef struct put_args {
    const char *name;
    gboolean is_public;
    int rc;
} put_args;

static int put_txn(MDB_txn *txn, const store *s, void *userdata)
{
    put_args *a = userdata;
    group_cfg g = {
        .localpart = (char *)a->name,
        .name = "",
        .description = "",
        .is_public = a->is_public,
        .persistent = TRUE,
        .allow_pm = "anyone",
        .history_len = 20,
        .keep_days = -1,
    };

    return a->rc = groups_put(txn, s, &g);
}

static void put(fixture *f, const char *name, gboolean is_public)
{
    put_args a = {name, is_public, 0};

    testutil_store_write(f, put_txn, &a, &a.rc);
}

static int delete_txn(MDB_txn *txn, const store *s, void *userdata)
{
    put_args *a = userdata;

    return a->rc = groups_delete(txn, s, a->name);
}

/* 30 public groups p00..p29 with 10 hidden ones h00..h09 among them (the
 * hidden sort before, between and after the public ones). */
static void fill(fixture *f)
{
    static const char *const hidden[] = {"a0",   "a1",   "h00",  "h01", "p05x",
                                         "p10x", "p10y", "p20x", "z0",  "z1"};
    char name[8];

    for (int i = 0; i < 30; i++) {
        g_snprintf(name, sizeof(name), "p%02d", i);
        put(f, name, TRUE);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(hidden); i++)
        put(f, hidden[i], FALSE);
}

static guint count(fixture *f)
{
    MDB_txn *txn;
    guint n = 99;

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(directory_count(txn, f->s, &n), ==, 0);
    store_read_end(txn);
    return n;
}

typedef int (*page_fn)(MDB_txn *txn, const store *s, const char *after,
                       const char *before, guint max, GPtrArray **out);

/* The page as "a b c", or "ERR<rc>", as fn reads it. */
static char *page_by(fixture *f, page_fn fn, const char *after,
                     const char *before, guint max)
{
    GPtrArray *p = NULL;
    MDB_txn *txn;
    GString *out = g_string_new(NULL);
    int rc;

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    rc = fn(txn, f->s, after, before, max, &p);
    store_read_end(txn);
    if (rc != 0) {
        g_assert_null(p);
        g_string_printf(out, "ERR%d", rc);
        return g_string_free(out, FALSE);
    }
    for (guint i = 0; i < p->len; i++)
        g_string_append_printf(out, "%s%s", i ? " " : "",
                               (char *)g_ptr_array_index(p, i));
    g_ptr_array_unref(p);
    return g_string_free(out, FALSE);
}

static char *page(fixture *f, const char *after, const char *before, guint max)
{
    return page_by(f, directory_page, after, before, max);
}

static void check_page(fixture *f, const char *after, const char *before,
                       guint max, const char *want)
{
    char *got = page(f, after, before, max);

    g_assert_cmpstr(got, ==, want);
    g_free(got);
}

static void public_groups_are_listed_and_hidden_ones_never(fixture *f,
                                                           gconstpointer data)
{
    fill(f);
    g_assert_cmpuint(count(f), ==, 30);
    check_page(f, NULL, NULL, 3, "p00 p01 p02");
    check_page(f, "p04", NULL, 3, "p05 p06 p07");
    check_page(f, "p09", NULL, 2, "p10 p11");
}

static void pages_cover_exactly_the_public_groups(fixture *f,
                                                  gconstpointer data)
{
    GString *all = g_string_new(NULL);
    char *after = NULL;

    fill(f);
    for (int pages = 0; pages < 20; pages++) {
        char *p = page(f, after, NULL, 7);
        const char *last;
        if (!*p) {
            g_free(p);
            break;
        }
        g_string_append_printf(all, "%s%s", all->len ? " " : "", p);
        last = strrchr(p, ' ') ? strrchr(p, ' ') + 1 : p;
        g_free(after);
        after = g_strdup(last);
        g_free(p);
    }
    g_assert_cmpstr(all->str, ==,
                    "p00 p01 p02 p03 p04 p05 p06 p07 p08 p09 p10 p11 p12 p13 "
                    "p14 p15 p16 p17 p18 p19 p20 p21 p22 p23 p24 p25 p26 p27 "
                    "p28 p29");
    g_free(after);
    g_string_free(all, TRUE);
}

static void
before_pages_backward_and_an_empty_before_is_the_last_page(fixture *f,
                                                           gconstpointer data)
{
    fill(f);
    check_page(f, NULL, "", 3, "p27 p28 p29");
    check_page(f, NULL, "p27", 3, "p24 p25 p26");
    check_page(f, NULL, "p02", 5, "p00 p01");
    check_page(f, NULL, "p00", 5, "");
}

static void
the_end_of_the_list_and_max_zero_give_empty_pages(fixture *f,
                                                  gconstpointer data)
{
    check_page(f, NULL, NULL, 10, "");
    check_page(f, NULL, "", 10, "");
    fill(f);
    check_page(f, "p29", NULL, 10, "");
    check_page(f, NULL, NULL, 0, "");
}

static void an_unlisted_after_or_before_is_not_found(fixture *f,
                                                     gconstpointer data)
{
    char *want = g_strdup_printf("ERR%d", MDB_NOTFOUND);
    char *big = g_strnfill(STORE_GROUP_MAX + 1, 'p');

    fill(f);
    check_page(f, "h00", NULL, 3, want); /* hidden: not in the list */
    check_page(f, "nosuch", NULL, 3, want);
    check_page(f, NULL, "a0", 3, want);
    check_page(f, big, NULL, 3, want);
    g_free(big);
    g_free(want);
}

static void
hiding_deleting_and_publishing_keep_the_list_in_step(fixture *f,
                                                     gconstpointer data)
{
    put_args del = {"p01", FALSE, 0};

    fill(f);
    put(f, "p00", FALSE); /* hidden now */
    testutil_store_write(f, delete_txn, &del, &del.rc);
    put(f, "h00", TRUE); /* public now */
    g_assert_cmpuint(count(f), ==, 29);
    check_page(f, NULL, NULL, 3, "h00 p02 p03");
}

static void check_near(fixture *f, const char *after, const char *before,
                       guint max, const char *want)
{
    char *got = page_by(f, directory_page_near, after, before, max);

    g_assert_cmpstr(got, ==, want);
    g_free(got);
}

/* Another shard's cursor (issue 14): what sorts after or before it. */
static void a_page_near_an_unlisted_cursor_starts_where_the_cursor_would_sort(
    fixture *f, gconstpointer data)
{
    char *big = g_strnfill(STORE_GROUP_MAX + 1, 'p');
    char *einval = g_strdup_printf("ERR%d", -EINVAL);

    check_near(f, "p05", NULL, 3, "");
    check_near(f, NULL, "p05", 3, "");
    fill(f);
    check_near(f, "p04", NULL, 3, "p05 p06 p07");  /* listed: as before */
    check_near(f, "p05x", NULL, 3, "p06 p07 p08"); /* hidden here */
    check_near(f, "a", NULL, 2, "p00 p01");        /* before the first */
    check_near(f, "q", NULL, 2, "");               /* past the last */
    check_near(f, NULL, "p05x", 3, "p03 p04 p05");
    check_near(f, NULL, "p05", 3, "p02 p03 p04");
    check_near(f, NULL, "q", 2, "p28 p29");
    check_near(f, NULL, "a", 2, "");
    check_near(f, NULL, "", 2, "p28 p29");
    check_near(f, NULL, NULL, 2, "p00 p01");
    check_near(f, big, NULL, 3, einval);
    check_near(f, NULL, big, 3, einval);
    g_free(einval);
    g_free(big);
}

/* Makes the store look like one of schema version 4: no directory. */
static int downgrade_txn(MDB_txn *txn, const store *s, void *userdata)
{
    int rc = mdb_drop(txn, store_dbi(s, STORE_DB_DIRECTORY), 0);

    if (rc == 0)
        rc = store_put_variant(txn, store_dbi(s, STORE_DB_META),
                               "schema_version", strlen("schema_version"),
                               g_variant_new("(qu)", (guint16)1, (guint32)4));
    return rc;
}

static void
a_store_of_schema_version_4_gets_its_directory_when_opened(fixture *f,
                                                           gconstpointer data)
{
    int rc = 0;

    fill(f);
    testutil_store_write(f, downgrade_txn, NULL, &rc);
    g_assert_cmpuint(count(f), ==, 0);
    testutil_store_reopen(f);
    g_assert_cmpuint(store_schema_version(f->s), ==, STORE_SCHEMA_VERSION);
    g_assert_cmpuint(count(f), ==, 30);
    check_page(f, "p28", NULL, 5, "p29");
}

#define T(fn)                                                                  \
    {                                                                          \
        "/directory/" #fn, fn                                                  \
    }

int main(int argc, char **argv)
{
    static const testutil_store_case cases[] = {
        T(public_groups_are_listed_and_hidden_ones_never),
        T(pages_cover_exactly_the_public_groups),
        T(before_pages_backward_and_an_empty_before_is_the_last_page),
        T(the_end_of_the_list_and_max_zero_give_empty_pages),
        T(an_unlisted_after_or_before_is_not_found),
        T(hiding_deleting_and_publishing_keep_the_list_in_step),
        T(a_page_near_an_unlisted_cursor_starts_where_the_cursor_would_sort),
        T(a_store_of_schema_version_4_gets_its_directory_when_opened),
    };

    g_test_init(&argc, &argv, NULL);
    testutil_store_add(cases, G_N_ELEMENTS(cases));
    return g_test_run();
}
