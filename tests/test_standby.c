/* test_standby: who holds standby connections for dead shards
 * (component/cluster/standby.c): the lowest live instance, one per dead
 * shard, none for a shard back within its grace; and the beat every
 * instance answers over the bus. */
#include <string.h>

#include <glib.h>

#include "bus.h"
#include "probe.h"
#include "standby.h"

static xmpp_ctx_t *ctx;

static bus_result result(const guint *answered, guint n_answered,
                         const guint *down, guint n_down, bus_answer *buf)
{
    for (guint i = 0; i < n_answered; i++)
        buf[i] = (bus_answer){.shard = answered[i]};
    return (bus_result){.answers = buf,
                        .n_answers = n_answered,
                        .down = down,
                        .n_down = n_down};
}

static void the_lowest_live_shard_holds_one_per_dead_shard(void)
{
    const guint down[] = {1, 3};
    const guint up[] = {2};
    bus_answer buf[4];
    gint64 grace[4] = {0};
    bus_result res = result(up, 1, down, 2, buf);

    g_assert_cmpuint(standby_wanted(0, 4, &res, grace, 100), ==, 2);
}

static void a_shard_with_a_live_lower_one_holds_none(void)
{
    const guint down[] = {1};
    const guint up[] = {0, 3};
    bus_answer buf[4];
    gint64 grace[4] = {0};
    bus_result res = result(up, 2, down, 1, buf);

    g_assert_cmpuint(standby_wanted(2, 4, &res, grace, 100), ==, 0);
}

static void a_shard_whose_lower_ones_are_all_dead_takes_over(void)
{
    const guint down[] = {0, 1};
    const guint up[] = {3};
    bus_answer buf[4];
    gint64 grace[4] = {0};
    bus_result res = result(up, 1, down, 2, buf);

    g_assert_cmpuint(standby_wanted(2, 4, &res, grace, 100), ==, 2);
}

static void a_shard_back_within_its_grace_counts_as_live(void)
{
    const guint down[] = {1, 2};
    bus_answer buf[4];
    gint64 grace[4] = {0, 200, 0, 0};
    bus_result res = result(NULL, 0, down, 2, buf);

    g_assert_cmpuint(standby_wanted(0, 4, &res, grace, 100), ==, 1);
    g_assert_cmpuint(standby_wanted(0, 4, &res, grace, 200), ==, 2);
}

static void nothing_dead_means_no_standby(void)
{
    const guint up[] = {1};
    bus_answer buf[2];
    gint64 grace[2] = {0};
    bus_result res = result(up, 1, NULL, 0, buf);

    g_assert_cmpuint(standby_wanted(0, 2, &res, grace, 100), ==, 0);
}

static int keep_sent(xmpp_stanza_t *st, void *userdata)
{
    GPtrArray *sent = userdata;

    g_ptr_array_add(sent, xmpp_stanza_copy(st));
    return 0;
}

static void another_shards_beat_is_answered_with_a_result(void)
{
    config cfg;
    GPtrArray *sent = g_ptr_array_new();
    bus *b;
    probe *p;
    standby *s;
    uplink_params params = {.jid = "groups.example.org"};
    xmpp_stanza_t *iq, *reply;

    memset(&cfg, 0, sizeof(cfg));
    cfg.jid = (char *)"groups.example.org";
    cfg.shard = 0;
    cfg.shards = 2;
    g_assert_cmpint(bus_new_link(&cfg, ctx, keep_sent, sent, &b), ==, 0);
    g_assert_cmpint(probe_new(&cfg, b, &p), ==, 0);
    g_assert_cmpint(standby_new(&params, ctx, &cfg, b, p, &s), ==, 0);
    iq = xmpp_stanza_new_from_string(
        ctx,
        "<iq type='get' id='b1' from='shard1.groups.example.org' "
        "to='shard0.groups.example.org'><beat xmlns='" STANDBY_NS "'/></iq>");
    bus_receive(b, iq);
    xmpp_stanza_release(iq);
    g_assert_cmpuint(sent->len, ==, 1);
    reply = g_ptr_array_index(sent, 0);
    g_assert_cmpstr(xmpp_stanza_get_type(reply), ==, "result");
    g_assert_cmpstr(xmpp_stanza_get_id(reply), ==, "b1");
    g_assert_cmpuint(standby_count(s), ==, 0);
    xmpp_stanza_release(reply);
    standby_free(s);
    probe_free(p);
    bus_free(b);
    g_ptr_array_free(sent, TRUE);
}

static void one_shard_needs_no_standby(void)
{
    config cfg;
    probe *p;
    standby *s;
    uplink_params params = {.jid = "groups.example.org"};

    memset(&cfg, 0, sizeof(cfg));
    cfg.jid = (char *)"groups.example.org";
    cfg.shards = 1;
    g_assert_cmpint(probe_new(&cfg, NULL, &p), ==, 0);
    g_assert_cmpint(standby_new(&params, ctx, &cfg, NULL, p, &s), ==, 0);
    g_assert_cmpuint(standby_count(s), ==, 0);
    standby_free(s);
    probe_free(p);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    xmpp_initialize();
    ctx = xmpp_ctx_new(NULL, NULL);
    g_test_add_func("/standby/the_lowest_live_shard_holds_one_per_dead_shard",
                    the_lowest_live_shard_holds_one_per_dead_shard);
    g_test_add_func("/standby/a_shard_with_a_live_lower_one_holds_none",
                    a_shard_with_a_live_lower_one_holds_none);
    g_test_add_func("/standby/a_shard_whose_lower_ones_are_all_dead_takes_over",
                    a_shard_whose_lower_ones_are_all_dead_takes_over);
    g_test_add_func("/standby/a_shard_back_within_its_grace_counts_as_live",
                    a_shard_back_within_its_grace_counts_as_live);
    g_test_add_func("/standby/nothing_dead_means_no_standby",
                    nothing_dead_means_no_standby);
    g_test_add_func("/standby/another_shards_beat_is_answered_with_a_result",
                    another_shards_beat_is_answered_with_a_result);
    g_test_add_func("/standby/one_shard_needs_no_standby",
                    one_shard_needs_no_standby);
    rc = g_test_run();
    xmpp_ctx_free(ctx);
    xmpp_shutdown();
    return rc;
}
