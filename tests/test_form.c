/* test_form: XEP-0004 forms built and read (component/xmpp/form.c); XML
 * literals in, XML compared structurally out. */
#include <string.h>

#include <glib.h>

#include "form.h"

static xmpp_ctx_t *ctx;

static xmpp_stanza_t *parse(const char *xml)
{
    xmpp_stanza_t *st = xmpp_stanza_new_from_string(ctx, xml);

    g_assert_nonnull(st);
    return st;
}

/* st's attributes other than xmlns. */
static int attribute_count(xmpp_stanza_t *st)
{
    return xmpp_stanza_get_attribute_count(st) -
           (xmpp_stanza_get_attribute(st, "xmlns") ? 1 : 0);
}

/* Same element names and namespaces (inherited ones included: the parser
 * repeats them on children), attributes in any order, text, and children
 * in order. */
static gboolean same_xml(xmpp_stanza_t *a, xmpp_stanza_t *b, const char *nsa,
                         const char *nsb)
{
    const char *attrs[64];
    int n;
    xmpp_stanza_t *ca, *cb;

    if (xmpp_stanza_is_text(a) || xmpp_stanza_is_text(b)) {
        char *ta = xmpp_stanza_get_text(a), *tb = xmpp_stanza_get_text(b);
        gboolean same = xmpp_stanza_is_text(a) && xmpp_stanza_is_text(b) &&
                        !g_strcmp0(ta, tb);
        xmpp_free(ctx, ta);
        xmpp_free(ctx, tb);
        return same;
    }
    if (xmpp_stanza_get_ns(a))
        nsa = xmpp_stanza_get_ns(a);
    if (xmpp_stanza_get_ns(b))
        nsb = xmpp_stanza_get_ns(b);
    if (g_strcmp0(xmpp_stanza_get_name(a), xmpp_stanza_get_name(b)) ||
        g_strcmp0(nsa, nsb) || attribute_count(a) != attribute_count(b))
        return FALSE;
    n = xmpp_stanza_get_attributes(a, attrs, G_N_ELEMENTS(attrs));
    for (int i = 0; i + 1 < n; i += 2)
        if (strcmp(attrs[i], "xmlns") &&
            g_strcmp0(xmpp_stanza_get_attribute(b, attrs[i]), attrs[i + 1]))
            return FALSE;
    for (ca = xmpp_stanza_get_children(a), cb = xmpp_stanza_get_children(b);
         ca && cb; ca = xmpp_stanza_get_next(ca), cb = xmpp_stanza_get_next(cb))
        if (!same_xml(ca, cb, nsa, nsb))
            return FALSE;
    return !ca && !cb;
}

static void assert_xml(xmpp_stanza_t *got, const char *want)
{
    xmpp_stanza_t *w = parse(want);

    if (!same_xml(got, w, NULL, NULL)) {
        char *text = NULL;
        size_t len;
        xmpp_stanza_to_text(got, &text, &len);
        g_test_message("got  %s\nwant %s", text, want);
        xmpp_free(ctx, text);
        g_test_fail();
    }
    xmpp_stanza_release(w);
}

static void a_form_carries_title_instructions_fields_and_options(void)
{
    xmpp_stanza_t *x = form_new(ctx, "form", "Pick", "Choose one.");
    xmpp_stanza_t *f;

    form_add_type(ctx, x, "urn:example:t");
    f = form_field(ctx, x, "mode", "list-single", "Mode", "a", TRUE);
    form_add_option(ctx, f, "Alpha", "a");
    form_add_option(ctx, f, NULL, "b");
    f = form_field(ctx, x, "lines", "text-multi", NULL, NULL, FALSE);
    form_add_value(ctx, f, "one");
    form_add_value(ctx, f, "two");
    assert_xml(x, "<x xmlns='jabber:x:data' type='form'>"
                  "<title>Pick</title><instructions>Choose one.</instructions>"
                  "<field var='FORM_TYPE' type='hidden'>"
                  "<value>urn:example:t</value></field>"
                  "<field var='mode' type='list-single' label='Mode'>"
                  "<required/><value>a</value>"
                  "<option label='Alpha'><value>a</value></option>"
                  "<option><value>b</value></option></field>"
                  "<field var='lines' type='text-multi'>"
                  "<value>one</value><value>two</value></field></x>");
    xmpp_stanza_release(x);
}

static void a_result_without_title_has_no_title_element(void)
{
    xmpp_stanza_t *x = form_new(ctx, "result", NULL, NULL);

    form_field(ctx, x, "n", NULL, NULL, "1", FALSE);
    /* a fixed field has no var (XEP-0004 §3.2) */
    form_field(ctx, x, NULL, "fixed", NULL, "Note", FALSE);
    assert_xml(x, "<x xmlns='jabber:x:data' type='result'>"
                  "<field var='n'><value>1</value></field>"
                  "<field type='fixed'><value>Note</value></field></x>");
    xmpp_stanza_release(x);
}

static const char submitted[] =
    "<command xmlns='http://jabber.org/protocol/commands'>"
    "<x xmlns='jabber:x:data' type='submit'>"
    "<field var='FORM_TYPE'><value>urn:example:t</value></field>"
    "<field var='name'><value>  bot one </value></field>"
    "<field var='empty'><value/></field>"
    "<field var='novalue'/>"
    "<field var='multi'><value>a</value><value>b</value><value>c</value>"
    "</field>"
    "<field var='multi'><value>ignored</value></field>"
    "<field var='yes'><value>true</value></field>"
    "<field var='one'><value>1</value></field>"
    "<field var='maybe'><value>yes</value></field>"
    "</x></command>";

static void values_are_read_from_the_first_field_of_that_name(void)
{
    xmpp_stanza_t *cmd = parse(submitted);
    xmpp_stanza_t *x = form_of(cmd);
    GPtrArray *v;

    g_assert_nonnull(x);
    v = form_values(x, "multi");
    g_assert_cmpuint(v->len, ==, 3);
    g_assert_cmpstr(g_ptr_array_index(v, 0), ==, "a");
    g_assert_cmpstr(g_ptr_array_index(v, 2), ==, "c");
    g_ptr_array_unref(v);
    v = form_values(x, "absent");
    g_assert_cmpuint(v->len, ==, 0);
    g_ptr_array_unref(v);
    v = form_values(NULL, "multi");
    g_assert_cmpuint(v->len, ==, 0);
    g_ptr_array_unref(v);
    xmpp_stanza_release(cmd);
}

static void text_is_stripped_unless_raw_and_absent_is_null(void)
{
    static const struct {
        const char *var;
        gboolean raw;
        const char *want;
    } cases[] = {
        {"name", FALSE, "bot one"}, {"name", TRUE, "  bot one "},
        {"empty", FALSE, ""},       {"novalue", FALSE, NULL},
        {"absent", FALSE, NULL},
    };
    xmpp_stanza_t *cmd = parse(submitted);
    xmpp_stanza_t *x = form_of(cmd);

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *t = form_text(x, cases[i].var, cases[i].raw);
        g_assert_cmpstr(t, ==, cases[i].want);
        g_free(t);
    }
    xmpp_stanza_release(cmd);
}

static void text_over_its_bound_is_refused(void)
{
    xmpp_stanza_t *cmd = parse(submitted);
    xmpp_stanza_t *x = form_of(cmd);
    char *t = (char *)"untouched";

    g_assert_cmpint(form_text_max(x, "name", FALSE, 7, &t), ==, 0);
    g_assert_cmpstr(t, ==, "bot one");
    g_free(t);
    g_assert_cmpint(form_text_max(x, "name", FALSE, 6, &t), <, 0);
    g_assert_null(t);
    g_assert_cmpint(form_text_max(x, "absent", FALSE, 6, &t), ==, 0);
    g_assert_null(t);
    xmpp_stanza_release(cmd);
}

static void booleans_are_zero_one_false_true_only(void)
{
    static const struct {
        const char *text;
        int rc;
        gboolean value;
    } cases[] = {
        {"0", 0, FALSE},   {"1", 0, TRUE}, {"false", 0, FALSE},
        {"true", 0, TRUE}, {"yes", -1, 0}, {"TRUE", -1, 0},
        {"", -1, 0},       {NULL, -1, 0},
    };
    xmpp_stanza_t *cmd = parse(submitted);
    xmpp_stanza_t *x = form_of(cmd);

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        gboolean v = !cases[i].value;
        g_assert_cmpint(form_bool_parse(cases[i].text, &v), ==, cases[i].rc);
        if (!cases[i].rc)
            g_assert_cmpint(v, ==, cases[i].value);
    }
    g_assert_true(form_bool(x, "yes"));
    g_assert_true(form_bool(x, "one"));
    g_assert_false(form_bool(x, "maybe"));
    g_assert_false(form_bool(x, "absent"));
    xmpp_stanza_release(cmd);
}

static void the_form_type_is_recognised(void)
{
    xmpp_stanza_t *cmd = parse(submitted);
    xmpp_stanza_t *x = form_of(cmd);

    g_assert_true(form_is(x, "urn:example:t"));
    g_assert_false(form_is(x, "urn:example:other"));
    g_assert_false(form_is(NULL, "urn:example:t"));
    xmpp_stanza_release(cmd);
}

static void values_past_the_bound_are_not_read(void)
{
    GString *xml = g_string_new("<x xmlns='jabber:x:data'><field var='m'>");
    xmpp_stanza_t *x;
    GPtrArray *v;

    for (int i = 0; i < FORM_MAX_VALUES + 10; i++)
        g_string_append_printf(xml, "<value>%d</value>", i);
    g_string_append(xml, "</field></x>");
    x = parse(xml->str);
    v = form_values(x, "m");
    g_assert_cmpuint(v->len, ==, FORM_MAX_VALUES);
    g_ptr_array_unref(v);
    xmpp_stanza_release(x);
    g_string_free(xml, TRUE);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    xmpp_initialize();
    ctx = xmpp_ctx_new(NULL, NULL);
    g_test_add_func("/form/a_form_carries_title_instructions_fields_and_"
                    "options",
                    a_form_carries_title_instructions_fields_and_options);
    g_test_add_func("/form/a_result_without_title_has_no_title_element",
                    a_result_without_title_has_no_title_element);
    g_test_add_func("/form/values_are_read_from_the_first_field_of_that_name",
                    values_are_read_from_the_first_field_of_that_name);
    g_test_add_func("/form/text_is_stripped_unless_raw_and_absent_is_null",
                    text_is_stripped_unless_raw_and_absent_is_null);
    g_test_add_func("/form/text_over_its_bound_is_refused",
                    text_over_its_bound_is_refused);
    g_test_add_func("/form/booleans_are_zero_one_false_true_only",
                    booleans_are_zero_one_false_true_only);
    g_test_add_func("/form/the_form_type_is_recognised",
                    the_form_type_is_recognised);
    g_test_add_func("/form/values_past_the_bound_are_not_read",
                    values_past_the_bound_are_not_read);
    rc = g_test_run();
    xmpp_ctx_free(ctx);
    xmpp_shutdown();
    return rc;
}
