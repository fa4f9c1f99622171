/* options: the room options table (XEP-0045 §10.2, muc#roomconfig) and the
 * questions room code asks of it; each option lives in its own opt_*.c. */
#include "options.h"

#include <stddef.h>
#include <string.h>

#include "bounds.h"
#include "form.h"
#include "opt_allow_pm.h"
#include "opt_change_subject.h"
#include "opt_description.h"
#include "opt_history.h"
#include "opt_keep_days.h"
#include "opt_max_users.h"
#include "opt_members_only.h"
#include "opt_moderated.h"
#include "opt_name.h"
#include "opt_password.h"
#include "opt_persistent.h"
#include "opt_public.h"
#include "opt_registration.h"
#include "opt_whois.h"

#define FORM_ROOMCONFIG "http://jabber.org/protocol/muc#roomconfig"

/* The order of the form, and the order in which options are asked. */
static const room_option *const table[] = {
    &opt_name,           &opt_description, &opt_persistent, &opt_public,
    &opt_members_only,   &opt_password,    &opt_moderated,  &opt_whois,
    &opt_change_subject, &opt_allow_pm,    &opt_max_users,  &opt_history,
    &opt_keep_days,      &opt_registration,
};

const room_option *const *options_table(size_t *n)
{
    *n = G_N_ELEMENTS(table);
    return table;
}

/* ---- the field's value, by kind ---- */

static gboolean *bool_at(const group_cfg *g, const room_option *o)
{
    return (gboolean *)((char *)g + o->offset);
}

static char **str_at(const group_cfg *g, const room_option *o)
{
    return (char **)((char *)g + o->offset);
}

static char *value_text(const group_cfg *g, const room_option *o)
{
    switch (o->kind) {
    case OPTION_BOOL:
        return g_strdup(*bool_at(g, o) ? "1" : "0");
    case OPTION_TEXT:
        return g_strdup(*str_at(g, o) ? *str_at(g, o) : "");
    case OPTION_SECRET:
        return g_strdup(""); /* never shown back */
    case OPTION_CHOICE:
        return g_strdup(*str_at(g, o) ? *str_at(g, o) : o->choices[0]);
    case OPTION_WHOIS:
        return g_strdup(o->choices[*bool_at(g, o) ? 1 : 0]);
    case OPTION_UINT:
        return g_strdup_printf("%u", *(guint32 *)((char *)g + o->offset));
    case OPTION_INT:
        return g_strdup_printf("%d", *(gint32 *)((char *)g + o->offset));
    }
    return g_strdup("");
}

static const char *field_type(const room_option *o)
{
    switch (o->kind) {
    case OPTION_BOOL:
        return "boolean";
    case OPTION_SECRET:
        return "text-private";
    case OPTION_CHOICE:
    case OPTION_WHOIS:
        return "list-single";
    default:
        return "text-single";
    }
}

static int set_text(group_cfg *g, const room_option *o, const char *v)
{
    /* Kept and shown in disco#info and on every invitation: bounded where
     * it enters (bounds.h); the submit is refused with the field's name. */
    if (!g_utf8_validate(v, -1, NULL) ||
        strlen(v) > (o->kind == OPTION_SECRET ? BOUND_PASSWORD_BYTES
                                              : BOUND_FORM_BYTES))
        return -1;
    g_free(*str_at(g, o));
    *str_at(g, o) = g_strdup(v);
    return 0;
}

static int set_choice(group_cfg *g, const room_option *o, const char *v)
{
    for (int c = 0; o->choices[c]; c++) {
        if (strcmp(o->choices[c], v) != 0)
            continue;
        if (o->kind == OPTION_WHOIS) {
            *bool_at(g, o) = c == 1;
        } else {
            g_free(*str_at(g, o));
            *str_at(g, o) = g_strdup(v);
        }
        return 0;
    }
    return -1;
}

static int set_value(group_cfg *g, const room_option *o, const char *v)
{
    guint64 n;
    gint64 x;

    switch (o->kind) {
    case OPTION_BOOL:
        return form_bool_parse(v, bool_at(g, o));
    case OPTION_TEXT:
    case OPTION_SECRET:
        return set_text(g, o, v);
    case OPTION_CHOICE:
    case OPTION_WHOIS:
        return set_choice(g, o, v);
    case OPTION_UINT:
        if (!g_ascii_string_to_unsigned(v, 10, 0, G_MAXINT32, &n, NULL))
            return -1;
        *(guint32 *)((char *)g + o->offset) = (guint32)n;
        return 0;
    case OPTION_INT:
        if (!g_ascii_string_to_signed(v, 10, -1, 100000, &x, NULL))
            return -1;
        *(gint32 *)((char *)g + o->offset) = (gint32)x;
        return 0;
    }
    return -1;
}

/* ---- the form ---- */

xmpp_stanza_t *options_form(xmpp_ctx_t *ctx, const group_cfg *g)
{
    xmpp_stanza_t *form = form_new(ctx, "form", "Group configuration", NULL);

    form_add_type(ctx, form, FORM_ROOMCONFIG);
    for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
        const room_option *o = table[i];
        char *v = value_text(g, o);
        xmpp_stanza_t *f =
            form_field(ctx, form, o->var, field_type(o), o->label, v, FALSE);
        for (int c = 0; o->choices && o->choices[c]; c++)
            form_add_option(ctx, f, o->choices[c], o->choices[c]);
        g_free(v);
    }
    return form;
}

static const room_option *by_var(const char *var)
{
    for (size_t i = 0; i < G_N_ELEMENTS(table); i++)
        if (!strcmp(table[i]->var, var))
            return table[i];
    return NULL;
}

enum xerr options_submit(group_cfg *g, xmpp_stanza_t *form, const char **why)
{
    for (xmpp_stanza_t *f = form_field_next(form, NULL); f;
         f = form_field_next(form, f)) {
        const char *var = xmpp_stanza_get_attribute(f, "var");
        xmpp_stanza_t *value;
        char *text;
        const room_option *o;
        int rc;

        /* XEP-0004: fields the form did not offer are ignored (FORM_TYPE,
         * muc#roomconfig_passwordprotectedroom: the secret alone decides
         * whether a room is protected). */
        if (!var || !(o = by_var(var)))
            continue;
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
    return XERR_NONE;
}

/* ---- the questions ---- */

void options_features(const group_cfg *g, GPtrArray *out)
{
    for (size_t i = 0; i < G_N_ELEMENTS(table); i++)
        if (table[i]->feature)
            g_ptr_array_add(out, (gpointer)table[i]->feature(g));
}

enum xerr options_admit(const group_cfg *g, enum affiliation aff,
                        const char **why)
{
    for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
        enum xerr e =
            table[i]->admit ? table[i]->admit(g, aff, why) : XERR_NONE;
        if (e != XERR_NONE)
            return e;
    }
    return XERR_NONE;
}

enum xerr options_join_veto(const options_join *j, const char **why)
{
    enum xerr e = options_admit(j->g, j->aff, why);

    for (size_t i = 0; e == XERR_NONE && i < G_N_ELEMENTS(table); i++)
        if (table[i]->veto)
            e = table[i]->veto(j, why);
    return e;
}

enum role options_initial_role(const group_cfg *g, enum affiliation aff)
{
    /* XEP-0045 §5.1.1: owners and admins enter as moderators, members and
     * unaffiliated users as participants; an option may lower that. */
    enum role role = aff == AFF_OWNER || aff == AFF_ADMIN ? ROLE_MODERATOR
                                                          : ROLE_PARTICIPANT;

    for (size_t i = 0; i < G_N_ELEMENTS(table); i++)
        if (table[i]->role)
            role = table[i]->role(g, aff, role);
    return role;
}

gboolean options_hidden(const group_cfg *g)
{
    for (size_t i = 0; i < G_N_ELEMENTS(table); i++)
        if (table[i]->hides && table[i]->hides(g))
            return TRUE;
    return FALSE;
}

gboolean options_jids_public(const group_cfg *g)
{
    for (size_t i = 0; i < G_N_ELEMENTS(table); i++)
        if (table[i]->jids_public && table[i]->jids_public(g))
            return TRUE;
    return FALSE;
}

gboolean options_temporary(const group_cfg *g)
{
    for (size_t i = 0; i < G_N_ELEMENTS(table); i++)
        if (table[i]->temporary && table[i]->temporary(g))
            return TRUE;
    return FALSE;
}

int options_history_max(const group_cfg *g)
{
    for (size_t i = 0; i < G_N_ELEMENTS(table); i++)
        if (table[i]->history_max)
            return MAX(table[i]->history_max(g), 0);
    return 0;
}

int options_status(const group_cfg *was, const group_cfg *now)
{
    for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
        int code = table[i]->status ? table[i]->status(was, now) : 0;
        if (code)
            return code;
    }
    /* XEP-0045 §10.2.1: 104, "a non-privacy-related room configuration
     * change has occurred". */
    return 104;
}

void options_changed(const options_change *c)
{
    for (size_t i = 0; i < G_N_ELEMENTS(table); i++)
        if (table[i]->changed)
            table[i]->changed(c);
}

gboolean options_may_pm(const group_cfg *g, enum role role)
{
    for (size_t i = 0; i < G_N_ELEMENTS(table); i++)
        if (table[i]->may_pm && !table[i]->may_pm(g, role))
            return FALSE;
    return TRUE;
}

gboolean options_may_set_subject(const group_cfg *g, enum role role)
{
    if (role == ROLE_MODERATOR)
        return TRUE;
    for (size_t i = 0; i < G_N_ELEMENTS(table); i++)
        if (table[i]->may_set_subject && table[i]->may_set_subject(g, role))
            return TRUE;
    return FALSE;
}

enum xerr options_may_invite(const group_cfg *g, enum affiliation aff,
                             const char **why)
{
    for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
        enum xerr e = table[i]->may_invite ? table[i]->may_invite(g, aff, why)
                                           : XERR_NONE;
        if (e != XERR_NONE)
            return e;
    }
    return XERR_NONE;
}

gboolean options_invite_adds_member(const group_cfg *g)
{
    for (size_t i = 0; i < G_N_ELEMENTS(table); i++)
        if (table[i]->invite_adds_member && table[i]->invite_adds_member(g))
            return TRUE;
    return FALSE;
}

const char *options_invite_password(const group_cfg *g)
{
    for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
        const char *pw =
            table[i]->invite_password ? table[i]->invite_password(g) : NULL;
        if (pw)
            return pw;
    }
    return NULL;
}
