/* test_xerr: the stanza error table and error replies. */
#include <string.h>

#include <glib.h>

#include "xerr.h"

static void every_condition_has_its_rfc6120_default_type(void)
{
    static const struct {
        enum xerr e;
        const char *cond, *type;
    } want[] = {
        {XERR_BAD_REQUEST, "bad-request", "modify"},
        {XERR_FORBIDDEN, "forbidden", "auth"},
        {XERR_ITEM_NOT_FOUND, "item-not-found", "cancel"},
        {XERR_JID_MALFORMED, "jid-malformed", "modify"},
        {XERR_NOT_ACCEPTABLE, "not-acceptable", "modify"},
        {XERR_REGISTRATION_REQUIRED, "registration-required", "auth"},
        {XERR_RESOURCE_CONSTRAINT, "resource-constraint", "wait"},
        {XERR_SERVICE_UNAVAILABLE, "service-unavailable", "cancel"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
        g_assert_cmpstr(xerr_condition(want[i].e), ==, want[i].cond);
        g_assert_cmpstr(xerr_type(want[i].e), ==, want[i].type);
    }
    for (int e = XERR_NONE + 1; e < XERR_COUNT; e++)
        g_assert_cmpuint(strlen(xerr_condition((enum xerr)e)), >, 0);
}

static xmpp_stanza_t *parse(xmpp_ctx_t *ctx, const char *xml)
{
    xmpp_stanza_t *st = xmpp_stanza_new_from_string(ctx, xml);

    g_assert_nonnull(st);
    return st;
}

static void an_error_reply_swaps_addresses_and_keeps_the_id(void)
{
    xmpp_ctx_t *ctx = xmpp_ctx_new(NULL, NULL);
    xmpp_stanza_t *st = parse(ctx, "<iq type='get' id='q1' from='a@b/c' "
                                   "to='groups.localhost'><x xmlns='y'/></iq>");
    xmpp_stanza_t *r = xerr_reply(ctx, st, XERR_SERVICE_UNAVAILABLE, "why");
    xmpp_stanza_t *err, *cond, *text;

    g_assert_nonnull(r);
    g_assert_cmpstr(xmpp_stanza_get_name(r), ==, "iq");
    g_assert_cmpstr(xmpp_stanza_get_type(r), ==, "error");
    g_assert_cmpstr(xmpp_stanza_get_id(r), ==, "q1");
    g_assert_cmpstr(xmpp_stanza_get_to(r), ==, "a@b/c");
    g_assert_cmpstr(xmpp_stanza_get_from(r), ==, "groups.localhost");
    err = xmpp_stanza_get_child_by_name(r, "error");
    g_assert_cmpstr(xmpp_stanza_get_type(err), ==, "cancel");
    cond = xmpp_stanza_get_child_by_name_and_ns(err, "service-unavailable",
                                                XERR_NS);
    g_assert_nonnull(cond);
    text = xmpp_stanza_get_child_by_name_and_ns(err, "text", XERR_NS);
    g_assert_nonnull(text);
    xmpp_stanza_release(r);
    xmpp_stanza_release(st);
    xmpp_ctx_free(ctx);
}

static void an_error_is_never_answered_with_an_error(void)
{
    xmpp_ctx_t *ctx = xmpp_ctx_new(NULL, NULL);
    xmpp_stanza_t *st = parse(ctx, "<message type='error' from='a@b' "
                                   "to='groups.localhost'/>");
    xmpp_stanza_t *nofrom = parse(ctx, "<iq type='get' id='1' "
                                       "to='groups.localhost'/>");

    g_assert_null(xerr_reply(ctx, st, XERR_BAD_REQUEST, NULL));
    g_assert_null(xerr_reply(ctx, nofrom, XERR_BAD_REQUEST, NULL));
    xmpp_stanza_release(st);
    xmpp_stanza_release(nofrom);
    xmpp_ctx_free(ctx);
}

static void an_error_reply_echoes_no_attribute_the_sender_made_up(void)
{
    xmpp_ctx_t *ctx = xmpp_ctx_new(NULL, NULL);
    xmpp_stanza_t *st = parse(ctx, "<message type='groupchat' id='m1' "
                                   "from='a@b/c' to='r@groups.localhost' "
                                   "junk='x' xml:lang='de'><body>hi</body>"
                                   "</message>");
    xmpp_stanza_t *r = xerr_reply(ctx, st, XERR_NOT_ACCEPTABLE, "no");
    xmpp_stanza_t *text;

    g_assert_nonnull(r);
    g_assert_cmpstr(xmpp_stanza_get_name(r), ==, "message");
    g_assert_cmpstr(xmpp_stanza_get_type(r), ==, "error");
    g_assert_cmpstr(xmpp_stanza_get_id(r), ==, "m1");
    g_assert_cmpstr(xmpp_stanza_get_from(r), ==, "r@groups.localhost");
    g_assert_cmpstr(xmpp_stanza_get_to(r), ==, "a@b/c");
    g_assert_null(xmpp_stanza_get_attribute(r, "junk"));
    g_assert_null(xmpp_stanza_get_attribute(r, "xml:lang"));
    g_assert_cmpint(xmpp_stanza_get_attribute_count(r), ==, 4);
    /* the body is not sent back */
    g_assert_null(xmpp_stanza_get_child_by_name(r, "body"));
    text = xmpp_stanza_get_child_by_name(
        xmpp_stanza_get_child_by_name(r, "error"), "text");
    g_assert_cmpstr(xmpp_stanza_get_attribute(text, "xml:lang"), ==, "en");
    xmpp_stanza_release(r);
    xmpp_stanza_release(st);
    xmpp_ctx_free(ctx);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    xmpp_initialize();
    g_test_add_func("/xerr/every_condition_has_its_rfc6120_default_type",
                    every_condition_has_its_rfc6120_default_type);
    g_test_add_func("/xerr/an_error_reply_swaps_addresses_and_keeps_the_id",
                    an_error_reply_swaps_addresses_and_keeps_the_id);
    g_test_add_func("/xerr/an_error_is_never_answered_with_an_error",
                    an_error_is_never_answered_with_an_error);
    g_test_add_func(
        "/xerr/an_error_reply_echoes_no_attribute_the_sender_made_up",
        an_error_reply_echoes_no_attribute_the_sender_made_up);
    return g_test_run();
}
