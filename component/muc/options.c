/* options: the room options table (XEP-0045 §10.2, muc#roomconfig). */
#include "options.h"

#include <stddef.h>
#include <string.h>

#include "bounds.h"
#include "stanza.h"

#define NS_DATA         "jabber:x:data"
#define FORM_ROOMCONFIG "http://jabber.org/protocol/muc#roomconfig"

enum kind {
    KIND_BOOL,   /* gboolean field */
    KIND_TEXT,   /* char * field */
    KIND_SECRET, /* char * field, never shown back */
    KIND_CHOICE, /* char * field, one of choices */
    KIND_UINT,   /* guint32 / gint32 field, >= 0 */
    KIND_INT,    /* gint32 field, >= -1 */
};

typedef struct option {
    const char *var;
    const char *label;
    enum kind kind;
    size_t offset;   /* of the field in group_cfg */
    const char *on;  /* disco feature when set (bool) */
    const char *off; /* disco feature when not set (bool) */
    const char *const *choices;
    enum xerr (*veto)(const options_join *j, const char **why);
} option;

/* ---- join vetoes, one per option that has one ---- */

static enum xerr veto_members_only(const options_join *j, const char **why)
{
    /* XEP-0045 §7.2.6: a non-member joining a members-only room gets
     * registration-required. */
    if (j->g->members_only && j->aff != AFF_OWNER && j->aff != AFF_ADMIN &&
        j->aff != AFF_MEMBER) {
        *why = "this group is for its members only";
        return XERR_REGISTRATION_REQUIRED;
    }
    return XERR_NONE;
}

static enum xerr veto_password(const options_join *j, const char **why)
{
    /* XEP-0045 §7.2.5: a missing or wrong password gets not-authorized. */
    if (j->g->password && *j->g->password && j->aff != AFF_OWNER &&
        g_strcmp0(j->password, j->g->password) != 0) {
        *why = "a password is required to join this group";
        return XERR_NOT_AUTHORIZED;
    }
    return XERR_NONE;
}

static enum xerr veto_max_users(const options_join *j, const char **why)
{
    /* XEP-0045 §7.2.10: a full room gets service-unavailable; owners and
     * admins still get in. */
    if (j->g->max_users && j->occupants >= j->g->max_users &&
        j->aff != AFF_OWNER && j->aff != AFF_ADMIN) {
        *why = "this group is full";
        return XERR_SERVICE_UNAVAILABLE;
    }
    return XERR_NONE;
}

static const char *const pm_choices[] = {"anyone", "moderators", "none", NULL};
static const char *const whois_choices[] = {"moderators", "anyone", NULL};

#define F(field) offsetof(group_cfg, field)

/* The order of the form. */
static const option table[] = {
    {"muc#roomconfig_roomname", "Name", KIND_TEXT, F(name), NULL, NULL, NULL,
     NULL},
    {"muc#roomconfig_roomdesc", "Description", KIND_TEXT, F(description), NULL,
     NULL, NULL, NULL},
    {"muc#roomconfig_persistentroom", "Keep the group when it is empty",
     KIND_BOOL, F(persistent), "muc_persistent", "muc_temporary", NULL, NULL},
    {"muc#roomconfig_publicroom", "List the group publicly", KIND_BOOL,
     F(is_public), "muc_public", "muc_hidden", NULL, NULL},
    {"muc#roomconfig_membersonly", "Members only", KIND_BOOL, F(members_only),
     "muc_membersonly", "muc_open", NULL, veto_members_only},
    {"muc#roomconfig_roomsecret", "Password", KIND_SECRET, F(password), NULL,
     NULL, NULL, veto_password},
    {"muc#roomconfig_moderatedroom", "Moderated", KIND_BOOL, F(moderated),
     "muc_moderated", "muc_unmoderated", NULL, NULL},
    {"muc#roomconfig_whois", "Who may see real addresses", KIND_CHOICE,
     F(whois_anyone), NULL, NULL, whois_choices, NULL},
    {"muc#roomconfig_changesubject", "Participants may change the subject",
     KIND_BOOL, F(change_subject), NULL, NULL, NULL, NULL},
    {"muc#roomconfig_allowpm", "Who may send private messages", KIND_CHOICE,
     F(allow_pm), NULL, NULL, pm_choices, NULL},
    {"muc#roomconfig_maxusers", "Most occupants (0: no limit)", KIND_UINT,
     F(max_users), NULL, NULL, NULL, veto_max_users},
    {"muc#maxhistoryfetch", "Most messages of history on join", KIND_UINT,
     F(history_len), NULL, NULL, NULL, NULL},
    {"imgroups#keep_days",
     "Days messages are kept (-1: the service's default, 0: forever)", KIND_INT,
     F(keep_days), NULL, NULL, NULL, NULL},
};

static gboolean *bool_at(const group_cfg *g, const option *o)
{
    return (gboolean *)((char *)g + o->offset);
}

static char **str_at(const group_cfg *g, const option *o)
{
    return (char **)((char *)g + o->offset);
}

/* whois is stored as a boolean; every other choice as its text. */
static gboolean is_whois(const option *o)
{
    return o->choices == whois_choices;
}

void options_features(const group_cfg *g, GPtrArray *out)
{
    for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
        const option *o = &table[i];
        if (o->kind == KIND_BOOL && o->on)
            g_ptr_array_add(out, (gpointer)(*bool_at(g, o) ? o->on : o->off));
    }
    g_ptr_array_add(out, (gpointer)(g->password && *g->password
                                        ? "muc_passwordprotected"
                                        : "muc_unsecured"));
    g_ptr_array_add(out, (gpointer)(g->whois_anyone ? "muc_nonanonymous"
                                                    : "muc_semianonymous"));
}

static char *value_text(const group_cfg *g, const option *o)
{
    switch (o->kind) {
    case KIND_BOOL:
        return g_strdup(*bool_at(g, o) ? "1" : "0");
    case KIND_TEXT:
        return g_strdup(*str_at(g, o) ? *str_at(g, o) : "");
    case KIND_SECRET:
        return g_strdup(""); /* never shown back */
    case KIND_CHOICE:
        if (is_whois(o))
            return g_strdup(*bool_at(g, o) ? "anyone" : "moderators");
        return g_strdup(*str_at(g, o) ? *str_at(g, o) : o->choices[0]);
    case KIND_UINT:
        return g_strdup_printf("%u", *(guint32 *)((char *)g + o->offset));
    case KIND_INT:
        return g_strdup_printf("%d", *(gint32 *)((char *)g + o->offset));
    }
    return g_strdup("");
}

static const char *field_type(const option *o)
{
    switch (o->kind) {
    case KIND_BOOL:
        return "boolean";
    case KIND_SECRET:
        return "text-private";
    case KIND_CHOICE:
        return "list-single";
    default:
        return "text-single";
    }
}

xmpp_stanza_t *options_form(xmpp_ctx_t *ctx, const group_cfg *g)
{
    xmpp_stanza_t *form = stanza_elem(ctx, "x", NS_DATA);
    xmpp_stanza_t *f = stanza_elem(ctx, "field", NULL);

    xmpp_stanza_set_type(form, "form");
    stanza_add_text(ctx, form, "title", "Group configuration");
    xmpp_stanza_set_attribute(f, "var", "FORM_TYPE");
    xmpp_stanza_set_type(f, "hidden");
    stanza_add_text(ctx, f, "value", FORM_ROOMCONFIG);
    stanza_add(form, f);
    for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
        const option *o = &table[i];
        char *v = value_text(g, o);
        f = stanza_elem(ctx, "field", NULL);
        xmpp_stanza_set_attribute(f, "var", o->var);
        xmpp_stanza_set_type(f, field_type(o));
        xmpp_stanza_set_attribute(f, "label", o->label);
        stanza_add_text(ctx, f, "value", v);
        for (int c = 0; o->choices && o->choices[c]; c++) {
            xmpp_stanza_t *opt = stanza_elem(ctx, "option", NULL);
            xmpp_stanza_set_attribute(opt, "label", o->choices[c]);
            stanza_add_text(ctx, opt, "value", o->choices[c]);
            stanza_add(f, opt);
        }
        stanza_add(form, f);
        g_free(v);
    }
    return form;
}

static int set_value(group_cfg *g, const option *o, const char *v)
{
    guint64 n;

    switch (o->kind) {
    case KIND_BOOL:
        /* XEP-0004 §3.3: boolean is 0/1/false/true. */
        if (!strcmp(v, "1") || !strcmp(v, "true"))
            *bool_at(g, o) = TRUE;
        else if (!strcmp(v, "0") || !strcmp(v, "false"))
            *bool_at(g, o) = FALSE;
        else
            return -1;
        return 0;
    case KIND_TEXT:
    case KIND_SECRET:
        /* Kept and shown in disco#info and on every invitation: bounded
         * where it enters (bounds.h); the submit is refused with the
         * field's name. */
        if (!g_utf8_validate(v, -1, NULL) ||
            strlen(v) > (o->kind == KIND_SECRET ? BOUND_PASSWORD_BYTES
                                                : BOUND_FORM_BYTES))
            return -1;
        g_free(*str_at(g, o));
        *str_at(g, o) = g_strdup(v);
        return 0;
    case KIND_CHOICE:
        for (int c = 0; o->choices[c]; c++) {
            if (strcmp(o->choices[c], v) != 0)
                continue;
            if (is_whois(o)) {
                *bool_at(g, o) = strcmp(v, "anyone") == 0;
            } else {
                g_free(*str_at(g, o));
                *str_at(g, o) = g_strdup(v);
            }
            return 0;
        }
        return -1;
    case KIND_UINT:
        if (!g_ascii_string_to_unsigned(v, 10, 0, G_MAXINT32, &n, NULL))
            return -1;
        *(guint32 *)((char *)g + o->offset) = (guint32)n;
        return 0;
    case KIND_INT: {
        gint64 x;
        if (!g_ascii_string_to_signed(v, 10, -1, 100000, &x, NULL))
            return -1;
        *(gint32 *)((char *)g + o->offset) = (gint32)x;
        return 0;
    }
    }
    return -1;
}

enum xerr options_submit(group_cfg *g, xmpp_stanza_t *form, const char **why)
{
    for (xmpp_stanza_t *f = xmpp_stanza_get_children(form); f;
         f = xmpp_stanza_get_next(f)) {
        const char *var;
        xmpp_stanza_t *value;
        char *text;
        const option *o = NULL;
        int rc;

        if (!xmpp_stanza_is_tag(f) ||
            g_strcmp0(xmpp_stanza_get_name(f), "field") != 0)
            continue;
        var = xmpp_stanza_get_attribute(f, "var");
        if (!var || !strcmp(var, "FORM_TYPE") ||
            !strcmp(var, "muc#roomconfig_passwordprotectedroom"))
            continue;
        for (size_t i = 0; i < G_N_ELEMENTS(table); i++)
            if (!strcmp(table[i].var, var))
                o = &table[i];
        if (!o)
            continue; /* XEP-0004: fields the form did not offer are
                         ignored */
        value = xmpp_stanza_get_child_by_name(f, "value");
        text = value ? xmpp_stanza_get_text(value) : NULL;
        rc = set_value(g, o, text ? text : "");
        if (text)
            xmpp_free(xmpp_stanza_get_context(f), text);
        if (rc < 0) {
            *why = o->var;
            return XERR_NOT_ACCEPTABLE;
        }
    }
    /* A room marked password-protected with an empty secret is not
     * protected at all; the secret field alone decides. */
    return XERR_NONE;
}

enum xerr options_join_veto(const options_join *j, const char **why)
{
    for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
        enum xerr e;
        if (!table[i].veto)
            continue;
        e = table[i].veto(j, why);
        if (e != XERR_NONE)
            return e;
    }
    return XERR_NONE;
}
