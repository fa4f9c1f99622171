/* xmltext: stanzas as text, without a libstrophe tree (xmltext.h). */
#include "xmltext.h"

#include <string.h>

const char *xmltext_entity(char c)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&apos;";
    default:
        return NULL;
    }
}

gsize xmltext_escaped_len(const char *s, gsize len)
{
    gsize n = len;

    for (gsize i = 0; i < len; i++) {
        const char *e = xmltext_entity(s[i]);
        if (e)
            n += strlen(e) - 1;
    }
    return n;
}

void xmltext_escape(GString *b, const char *s)
{
    const char *run = s;

    /* Copy runs that need nothing in one append: most text is plain. */
    for (; *s; s++) {
        const char *e = xmltext_entity(*s);
        if (!e)
            continue;
        g_string_append_len(b, run, s - run);
        g_string_append(b, e);
        run = s + 1;
    }
    g_string_append_len(b, run, s - run);
}

void xmltext_open(GString *b, const char *name, const char *ns)
{
    g_string_append_c(b, '<');
    g_string_append(b, name);
    xmltext_attr(b, "xmlns", ns);
}

void xmltext_attr(GString *b, const char *name, const char *value)
{
    if (!value)
        return;
    g_string_append_c(b, ' ');
    g_string_append(b, name);
    g_string_append(b, "=\"");
    xmltext_escape(b, value);
    g_string_append_c(b, '"');
}

void xmltext_end(GString *b)
{
    g_string_append_c(b, '>');
}

void xmltext_end_empty(GString *b)
{
    g_string_append(b, "/>");
}

void xmltext_close(GString *b, const char *name)
{
    g_string_append(b, "</");
    g_string_append(b, name);
    g_string_append_c(b, '>');
}

void xmltext_child(GString *b, const char *name, const char *ns,
                   const char *text)
{
    if (!text)
        return;
    xmltext_open(b, name, ns);
    xmltext_end(b);
    xmltext_escape(b, text);
    xmltext_close(b, name);
}
