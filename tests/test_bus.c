/* test_bus: the shard bus's bookkeeping (component/cluster/bus.c) over a
 * fake link: asks to one or all shards, answers gathered in shard order,
 * timeouts and unreachable shards reported down, requests served only for
 * other shards, and the bound on asks in flight. */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "bus.h"

static xmpp_ctx_t *ctx;

typedef struct fixture {
    config cfg;
    bus *b;
    GPtrArray *sent; /* copies of what the bus sent */
    int send_rc;     /* what the fake link returns for the next send */
    guint calls;     /* done callbacks */
    GString *seen;   /* what the last callback saw: "a1 a2 d0 ..." */
} fixture;

static void release(gpointer st)
{
    xmpp_stanza_release(st);
}

static int fake_send(xmpp_stanza_t *st, void *userdata)
{
    fixture *f = userdata;
    int rc = f->send_rc;

    f->send_rc = 0;
    if (rc == 0)
        g_ptr_array_add(f->sent, xmpp_stanza_copy(st));
    return rc;
}

static void fixture_init(fixture *f, guint shard, guint shards)
{
    memset(f, 0, sizeof(*f));
    f->cfg.jid = (char *)"groups.example.org";
    f->cfg.shard = shard;
    f->cfg.shards = shards;
    f->sent = g_ptr_array_new_with_free_func(release);
    f->seen = g_string_new(NULL);
    g_assert_cmpint(bus_new_link(&f->cfg, ctx, fake_send, f, &f->b), ==, 0);
}

static void fixture_clear(fixture *f)
{
    bus_free(f->b);
    g_ptr_array_unref(f->sent);
    g_string_free(f->seen, TRUE);
}

/* Records the result as "a<shard>[:<element>|!<condition>] ... d<shard>". */
static void on_done(const bus_result *res, void *userdata)
{
    fixture *f = userdata;

    f->calls++;
    g_string_truncate(f->seen, 0);
    for (guint i = 0; i < res->n_answers; i++) {
        const bus_answer *a = &res->answers[i];
        g_string_append_printf(f->seen, "%sa%u", f->seen->len ? " " : "",
                               a->shard);
        if (a->err != XERR_NONE)
            g_string_append_printf(f->seen, "!%s", xerr_condition(a->err));
        else if (a->payload)
            g_string_append_printf(f->seen, ":%s",
                                   xmpp_stanza_get_name(a->payload));
    }
    for (guint i = 0; i < res->n_down; i++)
        g_string_append_printf(f->seen, "%sd%u", f->seen->len ? " " : "",
                               res->down[i]);
}

static void feed(fixture *f, const char *xml)
{
    xmpp_stanza_t *st = xmpp_stanza_new_from_string(ctx, xml);

    g_assert_nonnull(st);
    bus_receive(f->b, st);
    xmpp_stanza_release(st);
}

/* Feeds "<iq type=type from=shard<j>... id=(the id sent to shard j)>body</iq>".
 */
static void reply_from(fixture *f, guint j, const char *type, const char *body)
{
    char to[64];
    char *xml;

    g_snprintf(to, sizeof(to), "shard%u.groups.example.org", j);
    for (guint i = 0; i < f->sent->len; i++) {
        xmpp_stanza_t *st = g_ptr_array_index(f->sent, i);
        if (g_strcmp0(xmpp_stanza_get_to(st), to) != 0)
            continue;
        xml = g_strdup_printf("<iq type='%s' id='%s' from='%s' to='%s'>%s</iq>",
                              type, xmpp_stanza_get_id(st), to,
                              xmpp_stanza_get_from(st), body);
        feed(f, xml);
        g_free(xml);
        return;
    }
    g_assert_not_reached();
}

static xmpp_stanza_t *count_query(void)
{
    return xmpp_stanza_new_from_string(ctx, "<count xmlns='urn:test'/>");
}

static void ask_all(fixture *f, guint timeout_ms)
{
    xmpp_stanza_t *q = count_query();

    g_assert_cmpint(bus_ask_all(f->b, "get", q, timeout_ms, on_done, f), ==, 0);
    xmpp_stanza_release(q);
}

static void wait_for_callback(fixture *f)
{
    while (f->calls == 0)
        g_main_context_iteration(NULL, TRUE);
}

static void one_shard_answers_at_once_with_no_others(void)
{
    fixture f;

    fixture_init(&f, 0, 1);
    ask_all(&f, 0);
    g_assert_cmpuint(f.calls, ==, 1);
    g_assert_cmpstr(f.seen->str, ==, "");
    g_assert_cmpuint(f.sent->len, ==, 0);
    g_assert_cmpuint(bus_pending(f.b), ==, 0);
    fixture_clear(&f);
}

static void ask_all_sends_one_iq_to_every_other_shard(void)
{
    fixture f;
    xmpp_stanza_t *st;

    fixture_init(&f, 1, 3);
    ask_all(&f, 0);
    g_assert_cmpuint(f.sent->len, ==, 2);
    st = g_ptr_array_index(f.sent, 0);
    g_assert_cmpstr(xmpp_stanza_get_to(st), ==, "shard0.groups.example.org");
    g_assert_cmpstr(xmpp_stanza_get_from(st), ==, "shard1.groups.example.org");
    g_assert_cmpstr(xmpp_stanza_get_type(st), ==, "get");
    g_assert_nonnull(xmpp_stanza_get_child_by_ns(st, "urn:test"));
    st = g_ptr_array_index(f.sent, 1);
    g_assert_cmpstr(xmpp_stanza_get_to(st), ==, "shard2.groups.example.org");
    g_assert_cmpuint(f.calls, ==, 0);
    g_assert_cmpuint(bus_pending(f.b), ==, 1);
    fixture_clear(&f);
}

static void answers_are_given_once_in_shard_order(void)
{
    fixture f;

    fixture_init(&f, 0, 3);
    ask_all(&f, 0);
    reply_from(&f, 2, "result", "<two xmlns='urn:test'/>");
    g_assert_cmpuint(f.calls, ==, 0);
    reply_from(&f, 1, "result", "<one xmlns='urn:test'/>");
    g_assert_cmpuint(f.calls, ==, 1);
    g_assert_cmpstr(f.seen->str, ==, "a1:one a2:two");
    /* a repeated answer after the callback changes nothing */
    reply_from(&f, 1, "result", "<one xmlns='urn:test'/>");
    g_assert_cmpuint(f.calls, ==, 1);
    g_assert_cmpuint(bus_pending(f.b), ==, 0);
    fixture_clear(&f);
}

static void a_shard_silent_past_the_timeout_is_reported_down(void)
{
    fixture f;

    fixture_init(&f, 0, 3);
    ask_all(&f, 20);
    reply_from(&f, 1, "result", "");
    g_assert_cmpuint(f.calls, ==, 0);
    wait_for_callback(&f);
    g_assert_cmpuint(f.calls, ==, 1);
    g_assert_cmpstr(f.seen->str, ==, "a1 d2");
    /* its late answer is ignored */
    reply_from(&f, 2, "result", "");
    g_assert_cmpuint(f.calls, ==, 1);
    fixture_clear(&f);
}

static void an_unreachable_shard_is_down_without_waiting(void)
{
    fixture f;

    fixture_init(&f, 0, 3);
    ask_all(&f, 0);
    reply_from(&f, 1, "error",
               "<error type='cancel'><service-unavailable "
               "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>");
    reply_from(&f, 2, "error",
               "<error type='cancel'><item-not-found "
               "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>");
    g_assert_cmpuint(f.calls, ==, 1);
    g_assert_cmpstr(f.seen->str, ==, "a2!item-not-found d1");
    fixture_clear(&f);
}

static void an_answer_from_another_jid_is_ignored(void)
{
    fixture f;
    xmpp_stanza_t *st;
    char *xml;

    fixture_init(&f, 0, 2);
    ask_all(&f, 0);
    st = g_ptr_array_index(f.sent, 0);
    xml = g_strdup_printf("<iq type='result' id='%s' from='mallory@evil' "
                          "to='shard0.groups.example.org'/>",
                          xmpp_stanza_get_id(st));
    feed(&f, xml);
    g_free(xml);
    g_assert_cmpuint(f.calls, ==, 0);
    reply_from(&f, 1, "result", "");
    g_assert_cmpstr(f.seen->str, ==, "a1");
    fixture_clear(&f);
}

static void ask_to_one_shard_asks_only_it(void)
{
    fixture f;
    xmpp_stanza_t *q = count_query();

    fixture_init(&f, 0, 3);
    g_assert_cmpint(bus_ask(f.b, 0, "get", q, 0, on_done, &f), ==, -EINVAL);
    g_assert_cmpint(bus_ask(f.b, 3, "get", q, 0, on_done, &f), ==, -EINVAL);
    g_assert_cmpint(bus_ask(f.b, 2, "chat", q, 0, on_done, &f), ==, -EINVAL);
    g_assert_cmpint(bus_ask(f.b, 2, "set", q, 0, on_done, &f), ==, 0);
    g_assert_cmpuint(f.sent->len, ==, 1);
    reply_from(&f, 2, "result", "");
    g_assert_cmpstr(f.seen->str, ==, "a2");
    xmpp_stanza_release(q);
    fixture_clear(&f);
}

static void a_failed_send_counts_the_shard_down(void)
{
    fixture f;

    fixture_init(&f, 0, 2);
    f.send_rc = -EMSGSIZE;
    ask_all(&f, 0);
    g_assert_cmpuint(f.calls, ==, 1);
    g_assert_cmpstr(f.seen->str, ==, "d1");
    fixture_clear(&f);
}

static void asks_in_flight_are_bounded(void)
{
    fixture f;
    xmpp_stanza_t *q = count_query();

    fixture_init(&f, 0, 2);
    for (guint i = 0; i < BUS_PENDING_MAX; i++)
        g_assert_cmpint(bus_ask_all(f.b, "get", q, 0, on_done, &f), ==, 0);
    g_assert_cmpint(bus_ask_all(f.b, "get", q, 0, on_done, &f), ==, -EAGAIN);
    g_assert_cmpuint(bus_pending(f.b), ==, BUS_PENDING_MAX);
    xmpp_stanza_release(q);
    fixture_clear(&f); /* frees what is pending without calling back */
    g_assert_cmpuint(f.calls, ==, 0);
}

static enum xerr count_handler(const iq_req *q, iq_res *res)
{
    int *n = q->data;

    (*n)++;
    g_assert_cmpstr(q->to->domain, ==, "shard0.groups.example.org");
    res->payload =
        xmpp_stanza_new_from_string(ctx, "<count xmlns='urn:test'>7</count>");
    return XERR_NONE;
}

static const char *last_sent_condition(fixture *f)
{
    xmpp_stanza_t *st = g_ptr_array_index(f->sent, f->sent->len - 1);
    xmpp_stanza_t *error = xmpp_stanza_get_child_by_name(st, "error");
    xmpp_stanza_t *c = error ? xmpp_stanza_get_children(error) : NULL;

    g_assert_cmpstr(xmpp_stanza_get_type(st), ==, "error");
    return c ? xmpp_stanza_get_name(c) : NULL;
}

static void requests_from_other_shards_reach_their_handler(void)
{
    fixture f;
    int n = 0;
    xmpp_stanza_t *st;

    fixture_init(&f, 0, 2);
    g_assert_cmpint(bus_serve(f.b, "urn:test", count_handler, &n), ==, 0);
    feed(&f, "<iq type='get' id='q1' from='shard1.groups.example.org' "
             "to='shard0.groups.example.org'><count xmlns='urn:test'/></iq>");
    g_assert_cmpint(n, ==, 1);
    g_assert_cmpuint(f.sent->len, ==, 1);
    st = g_ptr_array_index(f.sent, 0);
    g_assert_cmpstr(xmpp_stanza_get_type(st), ==, "result");
    g_assert_cmpstr(xmpp_stanza_get_id(st), ==, "q1");
    g_assert_cmpstr(xmpp_stanza_get_to(st), ==, "shard1.groups.example.org");
    g_assert_nonnull(xmpp_stanza_get_child_by_ns(st, "urn:test"));
    fixture_clear(&f);
}

static void requests_from_anyone_else_are_refused(void)
{
    fixture f;
    int n = 0;

    fixture_init(&f, 0, 2);
    bus_serve(f.b, "urn:test", count_handler, &n);
    feed(&f, "<iq type='get' id='q1' from='user@example.org/x' "
             "to='shard0.groups.example.org'><count xmlns='urn:test'/></iq>");
    g_assert_cmpstr(last_sent_condition(&f), ==, "service-unavailable");
    feed(&f, "<iq type='get' id='q2' from='shard0.groups.example.org' "
             "to='shard0.groups.example.org'><count xmlns='urn:test'/></iq>");
    g_assert_cmpstr(last_sent_condition(&f), ==, "service-unavailable");
    feed(&f, "<iq type='get' id='q3' from='shard1.groups.example.org' "
             "to='shard0.groups.example.org'><other xmlns='urn:other'/></iq>");
    g_assert_cmpstr(last_sent_condition(&f), ==, "service-unavailable");
    g_assert_cmpint(n, ==, 0);
    fixture_clear(&f);
}

static void an_answer_too_large_to_send_becomes_resource_constraint(void)
{
    fixture f;
    int n = 0;

    fixture_init(&f, 0, 2);
    bus_serve(f.b, "urn:test", count_handler, &n);
    f.send_rc = -EMSGSIZE;
    feed(&f, "<iq type='get' id='q1' from='shard1.groups.example.org' "
             "to='shard0.groups.example.org'><count xmlns='urn:test'/></iq>");
    g_assert_cmpuint(f.sent->len, ==, 1);
    g_assert_cmpstr(last_sent_condition(&f), ==, "resource-constraint");
    fixture_clear(&f);
}

static void bus_peer_names_the_shard_of_a_bus_jid(void)
{
    fixture f;

    fixture_init(&f, 0, 3);
    g_assert_cmpint(bus_peer(f.b, "shard2.groups.example.org"), ==, 2);
    g_assert_cmpint(bus_peer(f.b, "SHARD1.groups.example.org/r"), ==, 1);
    g_assert_cmpint(bus_peer(f.b, "shard3.groups.example.org"), ==, -1);
    g_assert_cmpint(bus_peer(f.b, "groups.example.org"), ==, -1);
    g_assert_cmpint(bus_peer(f.b, "x@shard1.groups.example.org"), ==, -1);
    g_assert_cmpint(bus_peer(f.b, NULL), ==, -1);
    fixture_clear(&f);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    xmpp_initialize();
    ctx = xmpp_ctx_new(NULL, NULL);
#define T(fn) g_test_add_func("/bus/" #fn, fn)
    T(one_shard_answers_at_once_with_no_others);
    T(ask_all_sends_one_iq_to_every_other_shard);
    T(answers_are_given_once_in_shard_order);
    T(a_shard_silent_past_the_timeout_is_reported_down);
    T(an_unreachable_shard_is_down_without_waiting);
    T(an_answer_from_another_jid_is_ignored);
    T(ask_to_one_shard_asks_only_it);
    T(a_failed_send_counts_the_shard_down);
    T(asks_in_flight_are_bounded);
    T(requests_from_other_shards_reach_their_handler);
    T(requests_from_anyone_else_are_refused);
    T(an_answer_too_large_to_send_becomes_resource_constraint);
    T(bus_peer_names_the_shard_of_a_bus_jid);
#undef T
    rc = g_test_run();
    xmpp_ctx_free(ctx);
    xmpp_shutdown();
    return rc;
}
