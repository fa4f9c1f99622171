/* text: markup ↔ plain text conversion and splitting for the worker. */
#include "text.h"

#include <string.h>

#include <util.h>

/* Split limits by protocol id, in bytes of the sent (escaped) form. IRC:
 * the plugin cuts PRIVMSGs at 512 - len(target) - 64 bytes itself, mid-word;
 * 400 keeps our whitespace cuts ahead of its own. XMPP has no practical
 * limit. MSN: a switchboard MSG payload, MIME headers (about 130 bytes)
 * included, must stay within 1664 bytes or the server closes the
 * switchboard; the plugin splits too, but mid-word. Yahoo: clients cut
 * messages near 800 characters. */
static const struct {
    const char *protocol_id;
    gsize max_bytes;
} limits[] = {
    {"prpl-irc", 400},
    {"prpl-jabber", 0},
    {"prpl-imgroups-msn", 1400},
    {"prpl-imgroups-yahoo", 800},
};

#define LIMIT_DEFAULT 2000

gsize text_limit(const char *protocol_id)
{
    for (gsize i = 0; i < G_N_ELEMENTS(limits); i++)
        if (protocol_id && strcmp(limits[i].protocol_id, protocol_id) == 0)
            return limits[i].max_bytes;
    return LIMIT_DEFAULT;
}

char *text_sanitize(const char *text)
{
    char *valid = g_utf8_make_valid(text ? text : "", -1);
    GString *out = g_string_sized_new(strlen(valid));

    for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);

        if (c == '\r') {
            /* "\r\n" is one line break; a lone "\r" is one too. */
            if (p[1] != '\n')
                g_string_append_c(out, '\n');
            continue;
        }
        if (c != '\n' && c != '\t' && g_unichar_iscntrl(c))
            continue;
        g_string_append_unichar(out, c);
    }
    g_free(valid);
    g_strchomp(out->str);
    out->len = strlen(out->str);
    return g_string_free(out, FALSE);
}

/* Raw line breaks and tabs in markup are meant literally by the prpls that
 * send them (libpurple's own UIs show them), but purple_markup_strip_html
 * reads them as HTML whitespace: make them markup first. */
static char *protect_whitespace(const char *markup)
{
    GString *out = g_string_sized_new(strlen(markup) + 16);

    for (const char *p = markup; *p; p++) {
        if (*p == '\r' && p[1] == '\n')
            continue;
        if (*p == '\n' || *p == '\r')
            g_string_append(out, "<br>");
        else if (*p == '\t')
            g_string_append(out, "&#9;");
        else
            g_string_append_c(out, *p);
    }
    return g_string_free(out, FALSE);
}

char *text_from_legacy(const char *markup)
{
    char *valid = g_utf8_make_valid(markup ? markup : "", -1);
    char *html = protect_whitespace(valid);
    char *stripped = purple_markup_strip_html(html);
    char *plain = text_sanitize(stripped);

    g_free(stripped);
    g_free(html);
    g_free(valid);
    return plain;
}

/* What one character of plain text becomes in the sent form, or NULL when
 * it is sent as itself. */
static const char *escape_of(gunichar c)
{
    switch (c) {
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '&':
        return "&amp;";
    case '\'':
        return "&#39;";
    case '"':
        return "&quot;";
    case '\n':
        return "<br>";
    default:
        return NULL;
    }
}

static gsize char_cost(const char *p)
{
    const char *esc = escape_of(g_utf8_get_char(p));

    return esc ? strlen(esc) : (gsize)(g_utf8_next_char(p) - p);
}

gsize text_legacy_size(const char *plain)
{
    gsize n = 0;

    for (const char *p = plain; *p; p = g_utf8_next_char(p))
        n += char_cost(p);
    return n;
}

char *text_to_legacy(const char *plain)
{
    char *clean = text_sanitize(plain);
    GString *out = g_string_sized_new(strlen(clean) + 16);

    for (const char *p = clean; *p; p = g_utf8_next_char(p)) {
        const char *esc = escape_of(g_utf8_get_char(p));

        if (esc)
            g_string_append(out, esc);
        else
            g_string_append_len(out, p, g_utf8_next_char(p) - p);
    }
    g_free(clean);
    return g_string_free(out, FALSE);
}

char **text_split(const char *plain, gsize max_bytes)
{
    GPtrArray *pieces = g_ptr_array_new();
    const char *p = plain ? plain : "";

    while (*p) {
        const char *q = p, *space = NULL;
        gsize size = 0;

        while (*q) {
            gsize cost = char_cost(q);

            if (max_bytes && size + cost > max_bytes)
                break;
            if (g_unichar_isspace(g_utf8_get_char(q)))
                space = q;
            size += cost;
            q = g_utf8_next_char(q);
        }
        if (!*q) {
            g_ptr_array_add(pieces, g_strdup(p));
            break;
        }
        if (q > p && g_unichar_isspace(g_utf8_get_char(q))) {
            /* The first character past the limit is a space: cut there. */
            g_ptr_array_add(pieces, g_strndup(p, q - p));
            p = g_utf8_next_char(q);
        } else if (space && space > p) {
            g_ptr_array_add(pieces, g_strndup(p, space - p));
            p = g_utf8_next_char(space);
        } else if (q > p) {
            g_ptr_array_add(pieces, g_strndup(p, q - p));
            p = q;
        } else {
            /* One character over the limit alone (a limit under 6 bytes):
             * send it whole rather than never progress. */
            q = g_utf8_next_char(p);
            g_ptr_array_add(pieces, g_strndup(p, q - p));
            p = q;
        }
    }
    g_ptr_array_add(pieces, NULL);
    return (char **)g_ptr_array_free(pieces, FALSE);
}
