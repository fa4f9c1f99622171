/* form: XEP-0004 data forms built and read in one place. */
#include "form.h"

#include <string.h>

#include "stanza.h"

xmpp_stanza_t *form_new(xmpp_ctx_t *ctx, const char *type, const char *title,
                        const char *instructions)
{
    xmpp_stanza_t *x = stanza_elem(ctx, "x", FORM_NS);

    xmpp_stanza_set_type(x, type);
    if (title)
        stanza_add_text(ctx, x, "title", title);
    if (instructions)
        stanza_add_text(ctx, x, "instructions", instructions);
    return x;
}

void form_add_type(xmpp_ctx_t *ctx, xmpp_stanza_t *x, const char *ns)
{
    /* XEP-0068 §3: FORM_TYPE is a field "of type hidden". */
    form_field(ctx, x, "FORM_TYPE", "hidden", NULL, ns, FALSE);
}

xmpp_stanza_t *form_field(xmpp_ctx_t *ctx, xmpp_stanza_t *x, const char *var,
                          const char *type, const char *label,
                          const char *value, gboolean required)
{
    xmpp_stanza_t *f = stanza_elem(ctx, "field", NULL);

    /* XEP-0004 §3.2: a field of type 'fixed' need not have a var. */
    if (var)
        xmpp_stanza_set_attribute(f, "var", var);
    if (type)
        xmpp_stanza_set_type(f, type);
    if (label)
        xmpp_stanza_set_attribute(f, "label", label);
    if (required)
        stanza_add(f, stanza_elem(ctx, "required", NULL));
    if (value)
        stanza_add_text(ctx, f, "value", value);
    xmpp_stanza_add_child(x, f);
    xmpp_stanza_release(f);
    return f;
}

void form_add_value(xmpp_ctx_t *ctx, xmpp_stanza_t *f, const char *value)
{
    stanza_add_text(ctx, f, "value", value);
}

void form_add_option(xmpp_ctx_t *ctx, xmpp_stanza_t *f, const char *label,
                     const char *value)
{
    xmpp_stanza_t *o = stanza_elem(ctx, "option", NULL);

    if (label)
        xmpp_stanza_set_attribute(o, "label", label);
    stanza_add_text(ctx, o, "value", value);
    stanza_add(f, o);
}

xmpp_stanza_t *form_of(xmpp_stanza_t *parent)
{
    return parent ? xmpp_stanza_get_child_by_name_and_ns(parent, "x", FORM_NS)
                  : NULL;
}

xmpp_stanza_t *form_field_next(xmpp_stanza_t *form, xmpp_stanza_t *prev)
{
    xmpp_stanza_t *f = prev ? xmpp_stanza_get_next(prev)
                     : form ? xmpp_stanza_get_children(form)
                            : NULL;

    while (f && (!xmpp_stanza_is_tag(f) ||
                 g_strcmp0(xmpp_stanza_get_name(f), "field") != 0))
        f = xmpp_stanza_get_next(f);
    return f;
}

/* The first <field var='var'/> of form, or NULL; borrowed. */
static xmpp_stanza_t *field_of(xmpp_stanza_t *form, const char *var)
{
    xmpp_stanza_t *f = NULL;

    while ((f = form_field_next(form, f)))
        if (!g_strcmp0(xmpp_stanza_get_attribute(f, "var"), var))
            return f;
    return NULL;
}

GPtrArray *form_values(xmpp_stanza_t *form, const char *var)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    xmpp_stanza_t *f = field_of(form, var);

    for (xmpp_stanza_t *v = f ? xmpp_stanza_get_children(f) : NULL;
         v && out->len < FORM_MAX_VALUES; v = xmpp_stanza_get_next(v)) {
        char *text;
        if (!xmpp_stanza_is_tag(v) ||
            g_strcmp0(xmpp_stanza_get_name(v), "value"))
            continue;
        text = xmpp_stanza_get_text(v);
        g_ptr_array_add(out, g_strdup(text ? text : ""));
        if (text)
            xmpp_free(xmpp_stanza_get_context(v), text);
    }
    return out;
}

char *form_text(xmpp_stanza_t *form, const char *var, gboolean raw)
{
    GPtrArray *v = form_values(form, var);
    char *s = v->len ? g_strdup(g_ptr_array_index(v, 0)) : NULL;

    g_ptr_array_unref(v);
    if (s && !raw)
        g_strstrip(s);
    return s;
}

int form_text_max(xmpp_stanza_t *form, const char *var, gboolean raw, gsize max,
                  char **out)
{
    char *s = form_text(form, var, raw);

    *out = NULL;
    if (s && (strlen(s) > max || !g_utf8_validate(s, -1, NULL))) {
        g_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

int form_bool_parse(const char *v, gboolean *out)
{
    static const struct {
        const char *text;
        gboolean value;
    } booleans[] = {
        {"0", FALSE}, {"1", TRUE}, {"false", FALSE}, {"true", TRUE}};

    for (size_t i = 0; v && i < G_N_ELEMENTS(booleans); i++)
        if (!strcmp(booleans[i].text, v)) {
            *out = booleans[i].value;
            return 0;
        }
    return -1;
}

gboolean form_is(xmpp_stanza_t *form, const char *ns)
{
    char *t = form_text(form, "FORM_TYPE", FALSE);
    gboolean is = t && !strcmp(t, ns);

    g_free(t);
    return is;
}

gboolean form_bool(xmpp_stanza_t *form, const char *var)
{
    char *v = form_text(form, var, FALSE);
    gboolean on = FALSE;

    if (form_bool_parse(v, &on) < 0)
        on = FALSE;
    g_free(v);
    return on;
}
