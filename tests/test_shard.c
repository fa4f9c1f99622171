/* Tests for shard: erlang:phash2 of a bare JID tuple, bit for bit, and the
 * shard ejabberd's domain_balancing (bare_destination) would pick. */
#include <string.h>

#include <glib.h>

#include "shard.h"

/* Computed on this machine with Erlang/OTP 25 (Debian 12, the runtime of
 * its ejabberd 23.01):
 *   erl -noshell -eval 'T = {<<"room">>, <<"groups.localhost">>, <<>>},
 *     io:format("~p ~p ~p ~p~n", [erlang:phash2(T, 4294967296),
 *     erlang:phash2(T, 2), erlang:phash2(T, 3), erlang:phash2(T, 5)]),
 *     halt().'
 * with T = {Local, Domain, <<>>} (jid:remove_resource(jid:tolower(To))),
 * Local <<>> for a domain JID. The lengths straddle block_hash's 12-byte
 * blocks (11, 12, 13, 24 bytes of local part). */
static const struct {
    const char *jid;
    guint32 hash;
    unsigned of2, of3, of5;
} vectors[] = {
    {"room@groups.localhost", 2605430458u, 0, 1, 3},
    {"groups.localhost", 728814589u, 1, 1, 4},
    {"a@b", 943753370u, 0, 2, 0},
    {"abcdefghijk@groups.localhost", 1657286648u, 0, 2, 3},
    {"abcdefghijkl@groups.localhost", 2184347996u, 0, 2, 1},
    {"abcdefghijklm@groups.localhost", 1163864041u, 1, 1, 1},
    {"abcdefghijklmnopqrstuvwx@groups.localhost", 2644368247u, 1, 1, 2},
    {"caf\xc3\xa9@groups.localhost", 654594161u, 1, 2, 1},
    {"\xe4\xb8\xad\xe6\x96\x87@groups.example.org", 3221336164u, 0, 1, 4},
    {"lobby@groups.example.org", 452234913u, 1, 0, 3},
};

static void the_hash_is_erlangs_phash2_of_the_bare_jid_tuple(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(vectors); i++) {
        const char *jid = vectors[i].jid, *at = strchr(jid, '@');
        guint32 h =
            at ? shard_hash(jid, (size_t)(at - jid), at + 1, strlen(at + 1))
               : shard_hash("", 0, jid, strlen(jid));

        g_test_message("%s", jid);
        g_assert_cmpuint(h, ==, vectors[i].hash);
    }
}

static void the_shard_is_the_hash_rem_the_number_of_shards(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(vectors); i++) {
        g_test_message("%s", vectors[i].jid);
        g_assert_cmpuint(shard_of(vectors[i].jid, 2), ==, vectors[i].of2);
        g_assert_cmpuint(shard_of(vectors[i].jid, 3), ==, vectors[i].of3);
        g_assert_cmpuint(shard_of(vectors[i].jid, 5), ==, vectors[i].of5);
    }
}

static void a_resource_does_not_change_the_shard(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(vectors); i++) {
        char *full = g_strconcat(vectors[i].jid, "/nick@with/slash", NULL);

        g_assert_cmpuint(shard_of(full, 3), ==, vectors[i].of3);
        g_assert_cmpuint(shard_of(full, 5), ==, vectors[i].of5);
        g_free(full);
    }
}

static void the_parts_give_the_same_shard_as_the_jid(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(vectors); i++) {
        char **parts = g_strsplit(vectors[i].jid, "@", 2);
        gboolean bare = parts[1] == NULL;

        g_assert_cmpuint(shard_of_parts(bare ? NULL : parts[0],
                                        bare ? parts[0] : parts[1], 5),
                         ==, vectors[i].of5);
        g_strfreev(parts);
    }
}

/* The first "shard-probe-<i>" of each of 3 shards of groups.localhost, as
 * erl found them here: F = fun(K) -> hd([I || I <- lists:seq(0, 500),
 * erlang:phash2({list_to_binary("shard-probe-" ++ integer_to_list(I)),
 * <<"groups.localhost">>, <<>>}, 3) == K]) end, [F(K) || K <- [0, 1, 2]]
 * gives [1, 3, 0]. */
static void a_probe_name_is_the_first_that_hashes_to_the_shard(void)
{
    static const char *const first[] = {"shard-probe-1", "shard-probe-3",
                                        "shard-probe-0"};
    char buf[32];

    for (unsigned k = 0; k < G_N_ELEMENTS(first); k++) {
        g_assert_cmpint(
            shard_probe_node(k, 3, "groups.localhost", buf, sizeof buf), ==, 0);
        g_assert_cmpstr(buf, ==, first[k]);
    }
    g_assert_cmpint(shard_probe_node(0, 1, "d", buf, sizeof buf), ==, 0);
    g_assert_cmpstr(buf, ==, "shard-probe-0");
    g_assert_cmpint(shard_probe_node(3, 3, "d", buf, sizeof buf), ==, -1);
    g_assert_cmpint(shard_probe_node(0, 3, "d", buf, 5), ==, -1);
}

static void one_shard_or_none_owns_everything(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(vectors); i++) {
        g_assert_cmpuint(shard_of(vectors[i].jid, 1), ==, 0);
        g_assert_cmpuint(shard_of(vectors[i].jid, 0), ==, 0);
    }
}

/* A room's hash depends on its local part and on the domain alike: the
 * same room name on another component domain may land elsewhere, and an
 * empty local part is not the domain JID's hash by accident. */
static void the_domain_and_an_empty_local_part_count(void)
{
    g_assert_cmpuint(shard_hash("room", 4, "groups.localhost", 16), !=,
                     shard_hash("room", 4, "groups.example.org", 18));
    g_assert_cmpuint(shard_hash("", 0, "groups.localhost", 16), ==, 728814589u);
    g_assert_cmpuint(shard_of("@groups.localhost", 2), ==,
                     shard_of("groups.localhost", 2));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/shard/the_hash_is_erlangs_phash2_of_the_bare_jid_tuple",
                    the_hash_is_erlangs_phash2_of_the_bare_jid_tuple);
    g_test_add_func("/shard/the_shard_is_the_hash_rem_the_number_of_shards",
                    the_shard_is_the_hash_rem_the_number_of_shards);
    g_test_add_func("/shard/a_resource_does_not_change_the_shard",
                    a_resource_does_not_change_the_shard);
    g_test_add_func("/shard/the_parts_give_the_same_shard_as_the_jid",
                    the_parts_give_the_same_shard_as_the_jid);
    g_test_add_func("/shard/a_probe_name_is_the_first_that_hashes_to_the_shard",
                    a_probe_name_is_the_first_that_hashes_to_the_shard);
    g_test_add_func("/shard/one_shard_or_none_owns_everything",
                    one_shard_or_none_owns_everything);
    g_test_add_func("/shard/the_domain_and_an_empty_local_part_count",
                    the_domain_and_an_empty_local_part_count);
    return g_test_run();
}
