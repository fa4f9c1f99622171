/* test_svc_accounts: a shard answers another's <accounts/> over the bus
 * with the bot accounts it runs, never the ones it only knows from the
 * shared file, and enables or disables one of its own for another shard's
 * admin (component/admin/svc_accounts.c). */
#include <string.h>

#include <glib.h>

#include "adhoc.h"
#include "bus.h"
#include "config.h"
#include "registry.h"
#include "svc_accounts.h"
#include "testutil.h"

static xmpp_ctx_t *ctx;

/* Among 2 shards of groups.localhost, lobby is shard 0's and chan shard
 * 1's (shard_of, as ejabberd routes them); this is shard 1. */
static const char conf[] =
    "[component]\njid = groups.localhost\nhost = 127.0.0.1\nport = 5347\n"
    "secret = s\n[storage]\npath = /tmp/unused\n"
    "[cluster]\nshards = 2\nshard = 1\n"
    "[account:lobbybot]\nprotocol = prpl-irc\nusername = lb@127.0.0.1\n"
    "group = lobby\n"
    "[account:chanbot]\nprotocol = prpl-irc\nusername = cb@127.0.0.1\n"
    "group = chan\nmode = chat\nchat = #chan\n";

typedef struct fixture {
    testutil_store ts;
    config *cfg;
    registry *reg;
    adhoc *ad;
    bus *b;
    GPtrArray *sent; /* copies of what the bus sent */
} fixture;

static void release(gpointer st)
{
    xmpp_stanza_release(st);
}

static int fake_send(xmpp_stanza_t *st, void *userdata)
{
    g_ptr_array_add(((fixture *)userdata)->sent, xmpp_stanza_copy(st));
    return 0;
}

static void setup(fixture *f, gconstpointer d)
{
    GPtrArray *problems = g_ptr_array_new_with_free_func(g_free);
    GError *err = NULL;

    testutil_store_setup(&f->ts, d);
    g_assert_cmpint(config_load_data("t.ini", conf, strlen(conf), &f->cfg,
                                     problems),
                    ==, 0);
    g_ptr_array_unref(problems);
    g_assert_cmpint(registry_new(f->cfg, f->ts.s, &f->reg, &err), ==, 0);
    g_assert_no_error(err);
    registry_start_all(f->reg); /* no hooks: its own stays "starting" */
    f->sent = g_ptr_array_new_with_free_func(release);
    g_assert_cmpint(bus_new_link(f->cfg, ctx, fake_send, f, &f->b), ==, 0);
    f->ad = adhoc_new(f->cfg, f->ts.s, f->reg, NULL);
    g_assert_cmpint(adhoc_set_bus(f->ad, f->b, NULL), ==, 0);
}

static void teardown(fixture *f, gconstpointer d)
{
    bus_free(f->b);
    adhoc_free(f->ad);
    registry_free(f->reg);
    config_free(f->cfg);
    g_ptr_array_unref(f->sent);
    testutil_store_teardown(&f->ts, d);
}

/* Shard 0 asks: an iq of type with body (in SVC_ACCOUNTS_NS); the one
 * reply. */
static xmpp_stanza_t *ask_with(fixture *f, const char *type, const char *body)
{
    char *xml = g_strdup_printf(
        "<iq type='%s' id='q1' from='shard0.groups.localhost' "
        "to='shard1.groups.localhost'>%s</iq>",
        type, body);
    xmpp_stanza_t *st = xmpp_stanza_new_from_string(ctx, xml);

    g_assert_nonnull(st);
    bus_receive(f->b, st);
    xmpp_stanza_release(st);
    g_free(xml);
    g_assert_cmpuint(f->sent->len, ==, 1);
    return g_ptr_array_index(f->sent, 0);
}

static xmpp_stanza_t *ask(fixture *f, const char *type)
{
    return ask_with(f, type,
                    "<accounts xmlns='" SVC_ACCOUNTS_NS "'/>");
}

static void a_shard_answers_with_the_accounts_it_runs_only(fixture *f,
                                                           gconstpointer d)
{
    xmpp_stanza_t *reply = ask(f, "get");
    xmpp_stanza_t *list = xmpp_stanza_get_child_by_name_and_ns(
        reply, "accounts", SVC_ACCOUNTS_NS);
    xmpp_stanza_t *acct;

    g_assert_cmpstr(xmpp_stanza_get_type(reply), ==, "result");
    g_assert_cmpstr(xmpp_stanza_get_to(reply), ==, "shard0.groups.localhost");
    g_assert_nonnull(list);
    acct = xmpp_stanza_get_children(list);
    g_assert_nonnull(acct);
    g_assert_null(xmpp_stanza_get_next(acct)); /* not lobbybot: shard 0's */
    g_assert_cmpstr(xmpp_stanza_get_attribute(acct, "name"), ==, "chanbot");
    g_assert_cmpstr(xmpp_stanza_get_attribute(acct, "group"), ==, "chan");
    g_assert_cmpstr(xmpp_stanza_get_attribute(acct, "mode"), ==, "chat");
    g_assert_cmpstr(xmpp_stanza_get_attribute(acct, "state"), ==, "starting");
    g_assert_cmpstr(xmpp_stanza_get_attribute(acct, "last_error"), ==, "");
    /* no password anywhere */
    g_assert_null(xmpp_stanza_get_attribute(acct, "password"));
}

static void a_set_of_the_list_is_refused(fixture *f, gconstpointer d)
{
    xmpp_stanza_t *reply = ask(f, "set");

    g_assert_cmpstr(xmpp_stanza_get_type(reply), ==, "error");
}

/* Shard 0 asks this one to disable name. */
static xmpp_stanza_t *ask_disable(fixture *f, const char *name)
{
    char *body = g_strdup_printf("<enable xmlns='%s' name='%s' on='0'/>",
                                 SVC_ACCOUNTS_NS, name);
    xmpp_stanza_t *reply = ask_with(f, "set", body);

    g_free(body);
    return reply;
}

static void another_shard_disables_an_account_this_one_runs(fixture *f,
                                                            gconstpointer d)
{
    xmpp_stanza_t *reply = ask_disable(f, "chanbot");

    g_assert_cmpstr(xmpp_stanza_get_type(reply), ==, "result");
    g_assert_cmpint(registry_get(f->reg, "chanbot")->state, ==,
                    REGISTRY_DISABLED);
    g_assert_false(registry_get(f->reg, "chanbot")->rec->enabled);
}

static void an_enable_of_an_account_run_elsewhere_is_refused(fixture *f,
                                                            gconstpointer d)
{
    xmpp_stanza_t *reply = ask_disable(f, "lobbybot");
    xmpp_stanza_t *err = xmpp_stanza_get_child_by_name(reply, "error");
    char *text;

    g_assert_cmpstr(xmpp_stanza_get_type(reply), ==, "error");
    g_assert_nonnull(xmpp_stanza_get_child_by_name(err, "not-acceptable"));
    text = xmpp_stanza_get_text(xmpp_stanza_get_child_by_name(err, "text"));
    g_assert_nonnull(strstr(text, "served by shard 0 of 2"));
    xmpp_free(ctx, text);
    g_assert_cmpint(registry_get(f->reg, "lobbybot")->state, ==,
                    REGISTRY_ELSEWHERE);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    xmpp_initialize();
    ctx = xmpp_ctx_new(NULL, NULL);
#define T(name)                                                                \
    g_test_add("/svc_accounts/" #name, fixture, NULL, setup, name, teardown)
    T(a_shard_answers_with_the_accounts_it_runs_only);
    T(a_set_of_the_list_is_refused);
    T(another_shard_disables_an_account_this_one_runs);
    T(an_enable_of_an_account_run_elsewhere_is_refused);
#undef T
    rc = g_test_run();
    xmpp_ctx_free(ctx);
    xmpp_shutdown();
    return rc;
}
