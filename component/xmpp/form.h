/* form: XEP-0004 data forms (jabber:x:data), the one builder and reader:
 * forms, results and reports to send, and the values of a submitted form
 * read with bounds. Every form the component sends or reads goes through
 * here (ad-hoc commands, the room configuration, disco extensions, MAM). */
#ifndef IMGROUPS_FORM_H
#define IMGROUPS_FORM_H

#include <strophe.h>

#include <glib.h>

#define FORM_NS "jabber:x:data"

/* Values read from one field at most: a list-multi or text-multi with more
 * is cut here (a client's form is bounded where it enters). */
#define FORM_MAX_VALUES 256

/* ---- building ---- */

/* A new <x xmlns='jabber:x:data' type='type'/> (form, submit, cancel or
 * result, XEP-0004 §3.1) with a <title/> and <instructions/> when they are
 * not NULL. The caller owns it. */
xmpp_stanza_t *form_new(xmpp_ctx_t *ctx, const char *type, const char *title,
                        const char *instructions);

/* Adds the hidden FORM_TYPE field (XEP-0068 §3) with value ns. */
void form_add_type(xmpp_ctx_t *ctx, xmpp_stanza_t *x, const char *ns);

/* Adds <field var='var'/> to x (a form, or a <reported/> or <item/> of a
 * result table) and returns it, borrowed: x holds it. var (a fixed field),
 * type, label and value may be NULL (no attribute, no <value/>); required adds
 * <required/>. */
xmpp_stanza_t *form_field(xmpp_ctx_t *ctx, xmpp_stanza_t *x, const char *var,
                          const char *type, const char *label,
                          const char *value, gboolean required);

/* Adds one more <value/> to field f (list-multi, text-multi, jid-multi). */
void form_add_value(xmpp_ctx_t *ctx, xmpp_stanza_t *f, const char *value);

/* Adds <option label='label'><value>value</value></option> to field f;
 * label may be NULL. */
void form_add_option(xmpp_ctx_t *ctx, xmpp_stanza_t *f, const char *label,
                     const char *value);

/* ---- reading ---- */

/* The <x xmlns='jabber:x:data'/> child of parent, or NULL; borrowed. */
xmpp_stanza_t *form_of(xmpp_stanza_t *parent);

/* The first <field/> of form after prev (NULL: the first of all), or NULL;
 * borrowed. form may be NULL. For readers that walk every field. */
xmpp_stanza_t *form_field_next(xmpp_stanza_t *form, xmpp_stanza_t *prev);

/* Whether form's hidden FORM_TYPE is ns. */
gboolean form_is(xmpp_stanza_t *form, const char *ns);

/* Every <value/> of field var in form (may be NULL), at most
 * FORM_MAX_VALUES, each a newly allocated string ("" for an empty value).
 * Always returns an array, empty when the field is absent; the caller
 * unrefs it (it frees its strings). */
GPtrArray *form_values(xmpp_stanza_t *form, const char *var);

/* The first value of var, stripped of surrounding white space unless raw;
 * NULL when the field or its value is absent. Newly allocated (g_free). */
char *form_text(xmpp_stanza_t *form, const char *var, gboolean raw);

/* The first value of var into *out (g_free; NULL when absent), stripped
 * unless raw. Returns 0, or -1 (with *out NULL) when it is not valid UTF-8
 * or longer than max bytes: the caller refuses the submit naming var. */
int form_text_max(xmpp_stanza_t *form, const char *var, gboolean raw, gsize max,
                  char **out);

/* XEP-0004 §3.3: "the allowable values are 0 and 1 or false and true".
 * Sets *out and returns 0, or -1 for anything else. */
int form_bool_parse(const char *v, gboolean *out);

/* Whether the first value of var is a true boolean; absent or not a
 * boolean is false. */
gboolean form_bool(xmpp_stanza_t *form, const char *var);

#endif
