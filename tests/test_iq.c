/* test_iq: the iq convention (component/xmpp/iq.c): dispatch by type,
 * element and namespace; exactly one reply built from a handler's xerr and
 * payload. */
#include <string.h>

#include <glib.h>

#include "iq.h"

static xmpp_ctx_t *ctx;

static xmpp_stanza_t *parse(const char *xml)
{
    xmpp_stanza_t *st = xmpp_stanza_new_from_string(ctx, xml);

    g_assert_nonnull(st);
    return st;
}

/* A request over st as the router builds it. */
static iq_req request_of(xmpp_stanza_t *st, void *data)
{
    xmpp_stanza_t *child = xmpp_stanza_get_children(st);

    while (child && !xmpp_stanza_is_tag(child))
        child = xmpp_stanza_get_next(child);
    return (iq_req){
        .ctx = ctx,
        .st = st,
        .child = child,
        .type = xmpp_stanza_get_type(st),
        .from = xmpp_stanza_get_from(st),
        .data = data,
    };
}

static enum xerr answer_version(const iq_req *q, iq_res *res)
{
    *(const char **)q->data = "version";
    res->payload = xmpp_stanza_new_from_string(
        ctx, "<query xmlns='jabber:iq:version'><name>x</name></query>");
    return XERR_NONE;
}

static enum xerr answer_any_foo(const iq_req *q, iq_res *res)
{
    *(const char **)q->data = "any foo";
    return XERR_NONE;
}

static enum xerr refuse(const iq_req *q, iq_res *res)
{
    *(const char **)q->data = "refuse";
    res->type = "cancel";
    res->app = xmpp_stanza_new_from_string(ctx, "<bad-action xmlns='cmd'/>");
    return iq_fail(res, XERR_BAD_REQUEST, "not that");
}

static const iq_route routes[] = {
    {"get", "query", "jabber:iq:version", answer_version},
    {"set", "query", "jabber:iq:version", refuse},
    {"get", NULL, "urn:foo", answer_any_foo},
};

static void a_request_goes_to_the_row_of_its_type_element_and_namespace(void)
{
    static const struct {
        const char *xml;
        const char *ran; /* NULL: no handler */
        enum xerr e;
    } cases[] = {
        {"<iq type='get'><query xmlns='jabber:iq:version'/></iq>", "version",
         XERR_NONE},
        {"<iq type='set'><query xmlns='jabber:iq:version'/></iq>", "refuse",
         XERR_BAD_REQUEST},
        {"<iq type='get'><other xmlns='jabber:iq:version'/></iq>", NULL,
         XERR_SERVICE_UNAVAILABLE},
        {"<iq type='get'><bar xmlns='urn:foo'/></iq>", "any foo", XERR_NONE},
        {"<iq type='set'><bar xmlns='urn:foo'/></iq>", NULL,
         XERR_SERVICE_UNAVAILABLE},
        {"<iq type='get'><query xmlns='urn:unknown'/></iq>", NULL,
         XERR_SERVICE_UNAVAILABLE},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        xmpp_stanza_t *st = parse(cases[i].xml);
        const char *ran = NULL;
        iq_req q = request_of(st, &ran);
        iq_res res = {0};

        g_assert_cmpint(iq_dispatch(routes, G_N_ELEMENTS(routes), &q, &res), ==,
                        cases[i].e);
        g_assert_cmpstr(ran, ==, cases[i].ran);
        g_assert_cmpint(iq_routed(routes, G_N_ELEMENTS(routes), &q), ==,
                        cases[i].ran != NULL);
        iq_res_clear(&res);
        g_assert_null(res.payload);
        xmpp_stanza_release(st);
    }
}

static const char request_xml[] =
    "<iq type='set' id='q1' from='a@b/c' to='groups.localhost'>"
    "<query xmlns='jabber:iq:version'/></iq>";

static void a_success_is_one_result_carrying_the_payload(void)
{
    xmpp_stanza_t *st = parse(request_xml), *r, *payload;
    const char *ran = NULL;
    iq_req q = request_of(st, &ran);
    iq_res res = {0};
    enum xerr e = answer_version(&q, &res);

    r = iq_reply(&q, e, &res);
    g_assert_nonnull(r);
    g_assert_null(res.payload);
    g_assert_cmpstr(xmpp_stanza_get_name(r), ==, "iq");
    g_assert_cmpstr(xmpp_stanza_get_type(r), ==, "result");
    g_assert_cmpstr(xmpp_stanza_get_id(r), ==, "q1");
    g_assert_cmpstr(xmpp_stanza_get_to(r), ==, "a@b/c");
    g_assert_cmpstr(xmpp_stanza_get_from(r), ==, "groups.localhost");
    payload =
        xmpp_stanza_get_child_by_name_and_ns(r, "query", "jabber:iq:version");
    g_assert_nonnull(payload);
    xmpp_stanza_release(r);
    xmpp_stanza_release(st);
}

static void an_empty_success_is_a_result_without_children(void)
{
    xmpp_stanza_t *st = parse(request_xml), *r;
    iq_req q = request_of(st, NULL);
    iq_res res = {0};

    r = iq_reply(&q, XERR_NONE, &res);
    g_assert_cmpstr(xmpp_stanza_get_type(r), ==, "result");
    g_assert_null(xmpp_stanza_get_children(r));
    xmpp_stanza_release(r);
    xmpp_stanza_release(st);
}

static void a_failure_is_one_error_with_text_type_and_condition(void)
{
    xmpp_stanza_t *st = parse(request_xml), *r, *err;
    const char *ran = NULL;
    iq_req q = request_of(st, &ran);
    iq_res res = {0};
    enum xerr e = refuse(&q, &res);

    r = iq_reply(&q, e, &res);
    g_assert_null(res.text);
    g_assert_null(res.app);
    g_assert_cmpstr(xmpp_stanza_get_type(r), ==, "error");
    g_assert_cmpstr(xmpp_stanza_get_id(r), ==, "q1");
    err = xmpp_stanza_get_child_by_name(r, "error");
    g_assert_cmpstr(xmpp_stanza_get_type(err), ==, "cancel");
    g_assert_nonnull(
        xmpp_stanza_get_child_by_name_and_ns(err, "bad-request", XERR_NS));
    g_assert_nonnull(
        xmpp_stanza_get_child_by_name_and_ns(err, "text", XERR_NS));
    g_assert_nonnull(
        xmpp_stanza_get_child_by_name_and_ns(err, "bad-action", "cmd"));
    xmpp_stanza_release(r);
    xmpp_stanza_release(st);
}

static void a_failure_without_detail_takes_the_conditions_default_type(void)
{
    xmpp_stanza_t *st = parse(request_xml), *r, *err;
    iq_req q = request_of(st, NULL);
    iq_res res = {0};

    r = iq_reply(&q, XERR_SERVICE_UNAVAILABLE, &res);
    err = xmpp_stanza_get_child_by_name(r, "error");
    g_assert_cmpstr(xmpp_stanza_get_type(err), ==, "cancel");
    g_assert_nonnull(xmpp_stanza_get_child_by_name_and_ns(
        err, "service-unavailable", XERR_NS));
    g_assert_null(xmpp_stanza_get_child_by_name(err, "text"));
    xmpp_stanza_release(r);
    xmpp_stanza_release(st);
}

static void a_request_without_a_sender_gets_no_error_and_res_is_freed(void)
{
    xmpp_stanza_t *st = parse("<iq type='get' id='1' to='groups.localhost'>"
                              "<query xmlns='jabber:iq:version'/></iq>");
    const char *ran = NULL;
    iq_req q = request_of(st, &ran);
    iq_res res = {0};
    enum xerr e = refuse(&q, &res);

    g_assert_null(iq_reply(&q, e, &res));
    g_assert_null(res.text);
    g_assert_null(res.app);
    xmpp_stanza_release(st);
}

static void a_deferred_request_is_answered_later_from_its_own_copy(void)
{
    xmpp_stanza_t *st = parse(request_xml), *r;
    jid to = {NULL, "groups.localhost", NULL};
    iq_req q = request_of(st, NULL);
    iq_res res = {0}, later = {0};
    const iq_req *kept;
    iq_later *l;

    q.to = &to;
    l = iq_defer(&q, &res);
    g_assert_true(res.later);
    /* what the router then does: nothing is sent */
    iq_answer(&q, XERR_NONE, &res);
    g_assert_false(res.later);
    xmpp_stanza_release(st);
    kept = iq_later_req(l);
    g_assert_cmpstr(kept->type, ==, "set");
    g_assert_cmpstr(kept->from, ==, "a@b/c");
    g_assert_cmpstr(kept->to->domain, ==, "groups.localhost");
    g_assert_cmpstr(xmpp_stanza_get_name(kept->child), ==, "query");
    r = iq_reply(kept, XERR_NONE, &later);
    g_assert_cmpstr(xmpp_stanza_get_id(r), ==, "q1");
    g_assert_cmpstr(xmpp_stanza_get_to(r), ==, "a@b/c");
    xmpp_stanza_release(r);
    /* without a sender the error has nobody to go to: l is only freed */
    xmpp_stanza_del_attribute(kept->st, "from");
    iq_later_answer(l, XERR_BAD_REQUEST, &later);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    xmpp_initialize();
    ctx = xmpp_ctx_new(NULL, NULL);
    g_test_add_func(
        "/iq/a_request_goes_to_the_row_of_its_type_element_and_namespace",
        a_request_goes_to_the_row_of_its_type_element_and_namespace);
    g_test_add_func("/iq/a_success_is_one_result_carrying_the_payload",
                    a_success_is_one_result_carrying_the_payload);
    g_test_add_func("/iq/an_empty_success_is_a_result_without_children",
                    an_empty_success_is_a_result_without_children);
    g_test_add_func("/iq/a_failure_is_one_error_with_text_type_and_condition",
                    a_failure_is_one_error_with_text_type_and_condition);
    g_test_add_func(
        "/iq/a_failure_without_detail_takes_the_conditions_default_type",
        a_failure_without_detail_takes_the_conditions_default_type);
    g_test_add_func(
        "/iq/a_request_without_a_sender_gets_no_error_and_res_is_freed",
        a_request_without_a_sender_gets_no_error_and_res_is_freed);
    g_test_add_func(
        "/iq/a_deferred_request_is_answered_later_from_its_own_copy",
        a_deferred_request_is_answered_later_from_its_own_copy);
    rc = g_test_run();
    xmpp_ctx_free(ctx);
    xmpp_shutdown();
    return rc;
}
