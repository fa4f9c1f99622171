/* test_dump: the store printed for people (component/admin/dump.c) —
 * every database with its records decoded and the secrets masked, keys
 * split into their parts with sequence numbers as numbers, hex for what
 * does not decode. */
#include <string.h>

#include <glib.h>

#include "dump.h"
#include "store.h"
#include "testutil.h"

typedef testutil_store fixture;

#define PASSWORD "hunter2-not-shown"

/* A few records in several databases, a secret among them; then the store
 * is closed (LMDB: one process opens an environment once). */
static void fill(fixture *f)
{
    static const char seq42[] = "lobby\0\0\0\0\0\0\0\0\x2a";

    testutil_put_raw(f, STORE_DB_GROUPS, "lobby", 5, NULL, 0,
                     "(uint16 1, {'name': <'Lobby'>, 'password': "
                     "<'roompw-not-shown'>})");
    testutil_put_raw(f, STORE_DB_AFFILIATIONS, "lobby\0alice@example.org", 23,
                     NULL, 0, "(uint16 1, 'owner', @a{sv} {})");
    testutil_put_raw(f, STORE_DB_SECRETS, "irc", 3, NULL, 0,
                     "(uint16 1, '" PASSWORD "')");
    testutil_put_raw(f, STORE_DB_ARCHIVE, seq42, sizeof seq42 - 1, NULL, 0,
                     "(uint16 1, 'id42', int64 7, 'alice', @ms 'hello', "
                     "@a{sv} {})");
    testutil_put_raw(f, STORE_DB_ARCHIVE, "lobby\0", 6, NULL, 0,
                     "(uint16 1, uint64 42)");
    testutil_put_raw(f, STORE_DB_OWNED, "alice@example.org\0lobby", 23, "", 0,
                     NULL);
    testutil_put_raw(f, STORE_DB_MEMBERS, "irc\0bob", 7, "\x07\x07", 2, NULL);
    store_close(f->s);
    f->s = NULL;
}

/* The dump of the store at path, without its first line (which names
 * the path). */
static char *dump_of(const char *path)
{
    char *text = NULL, *body;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    GError *err = NULL;

    g_assert_cmpint(dump_store(path, 0, out, &err), ==, 0);
    g_assert_no_error(err);
    fclose(out);
    g_assert_true(g_str_has_prefix(text, "# imgroups store "));
    body = g_strdup(strchr(text, '\n') + 1);
    free(text);
    return body;
}

static void
dump_shows_every_database_with_the_secrets_masked(fixture *f,
                                                  gconstpointer data)
{
    char *text;

    fill(f);
    text = dump_of(f->dir);
    for (int db = 0; db < STORE_DB_COUNT; db++) {
        char *head = g_strdup_printf("[%s] ", store_db_name(db));
        g_assert_nonnull(strstr(text, head));
        g_free(head);
    }
    g_assert_null(strstr(text, PASSWORD));
    g_assert_null(strstr(text, "roompw-not-shown"));
    g_assert_nonnull(strstr(text, "('irc') = (1, '***')"));
    g_assert_nonnull(strstr(text, "'password': <'***'>"));
    g_assert_nonnull(strstr(text, "('lobby', 'alice@example.org') = "
                                  "(1, 'owner', {})"));
    g_assert_nonnull(strstr(text, "('lobby', #42) = (1, 'id42', 7, 'alice', "
                                  "'hello', {})"));
    g_assert_nonnull(strstr(text, "('lobby', '') = (1, 42)"));
    g_assert_nonnull(strstr(text, "('alice@example.org', 'lobby') = empty"));
    /* a record that does not decode is shown, in hex */
    g_assert_nonnull(strstr(text, "('irc', 'bob') = hex:0707"));
    g_free(text);
}

#define K(s) s, sizeof s - 1

/* One well-formed record of each database (meta has its own already): a
 * database added to store.h without a sample here, or without its type
 * in the dump, fails this test. */
static const struct {
    enum store_db db;
    const char *key;
    size_t klen;
    const char *parsed; /* NULL: an empty value */
} samples[] = {
    {STORE_DB_GROUPS, K("lobby"), "(uint16 1, {'name': <'L'>})"},
    {STORE_DB_AFFILIATIONS, K("lobby\0a@b"), "(uint16 1, 'owner', @a{sv} {})"},
    {STORE_DB_MEMBERS, K("irc\0bob"), "(uint16 1, @a{sv} {})"},
    {STORE_DB_ACCOUNTS, K("irc"), "(uint16 1, @a{sv} {})"},
    {STORE_DB_ARCHIVE, K("lobby\0\0\0\0\0\0\0\0\1"),
     "(uint16 1, 'id', int64 7, 'a', @ms 'x', @a{sv} {})"},
    {STORE_DB_ARCHIVE, K("lobby\0"), "(uint16 1, uint64 1)"},
    {STORE_DB_OUTBOX, K("irc\0ibob\0\0\0\0\0\0\0\0\3"),
     "(uint16 1, {'group': <'lobby'>})"},
    {STORE_DB_OUTBOX, K("irc\0ibob\0"), "(uint16 1, {'seq': <uint64 1>})"},
    {STORE_DB_OUTBOX, K("\0"), "(uint16 1, uint64 3)"},
    {STORE_DB_OUTBOX, K("\0s"), "(uint16 1, uint32 2)"},
    {STORE_DB_NICKS, K("lobby\0al"), "(uint16 1, 'a@b', 'Al', @a{sv} {})"},
    {STORE_DB_MEMBER_INDEX, K("lobby\0irc\0bob"), NULL},
    {STORE_DB_SECRETS, K("irc"), "(uint16 1, 'pw')"},
    {STORE_DB_ARCHIVE_GAPS, K("lobby\0\0\0\0\0\0\0\0\2"),
     "(uint16 1, uint64 9)"},
    {STORE_DB_OWNED, K("a@b\0lobby"), NULL},
    {STORE_DB_DIRECTORY, K("lobby"), NULL},
    {STORE_DB_AVATARS, K("lobby"), "(uint16 1, @a{sv} {})"},
    {STORE_DB_NOTICED, K("a@b"), "(uint16 1, int64 5)"},
    {STORE_DB_PHOTOS, K("0123456789abcdef0123456789abcdef01234567"),
     "(uint16 1, {'refs': <uint32 1>})"},
};

static void
every_database_s_records_are_decoded_not_shown_in_hex(fixture *f,
                                                      gconstpointer data)
{
    gboolean sampled[STORE_DB_COUNT] = {[STORE_DB_META] = TRUE};
    char *text;

    for (gsize i = 0; i < G_N_ELEMENTS(samples); i++) {
        testutil_put_raw(f, samples[i].db, samples[i].key, samples[i].klen,
                         samples[i].parsed ? NULL : "", 0, samples[i].parsed);
        sampled[samples[i].db] = TRUE;
    }
    for (int db = 0; db < STORE_DB_COUNT; db++)
        if (!sampled[db])
            g_error("no sample record of %s", store_db_name(db));
    store_close(f->s);
    f->s = NULL;
    text = dump_of(f->dir);
    g_assert_null(strstr(text, "hex:"));
    g_assert_nonnull(strstr(text, "('irc', 'ibob', #3) = "));
    g_assert_nonnull(strstr(text, "('', 's') = (1, 2)"));
    g_assert_nonnull(strstr(text, "('lobby', #2) = (1, 9)"));
    g_free(text);
}

#define T(fn)                                                                  \
    {                                                                          \
        "/dump/" #fn, fn                                                       \
    }

int main(int argc, char **argv)
{
    static const testutil_store_case cases[] = {
        T(dump_shows_every_database_with_the_secrets_masked),
        T(every_database_s_records_are_decoded_not_shown_in_hex),
    };

    g_test_init(&argc, &argv, NULL);
    testutil_store_add(cases, G_N_ELEMENTS(cases));
    return g_test_run();
}
