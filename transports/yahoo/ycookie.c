/* ycookie: the Y and T cookies of LIST's key 59, read and written back. */
#include "ycookie.h"

#include <string.h>

/* RFC 6265 §4.1.1: cookie-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B /
 * %x5D-7E (no controls, blank, '"', ',', ';' or '\'). */
static gboolean is_cookie_octet(guchar c)
{
    return c >= 0x21 && c <= 0x7E && c != '"' && c != ',' && c != ';' &&
           c != '\\';
}

static gboolean valid_len(const char *value, gsize len)
{
    if (len == 0 || len > YCOOKIE_MAX)
        return FALSE;
    for (gsize i = 0; i < len; i++)
        if (!is_cookie_octet((guchar)value[i]))
            return FALSE;
    return TRUE;
}

gboolean ycookie_valid(const char *value)
{
    return value && valid_len(value, strnlen(value, YCOOKIE_MAX + 1));
}

int ycookie_parse(const char *pair, char *which, char **value)
{
    const char *start, *end;

    *value = NULL;
    if (!pair || (pair[0] != 'Y' && pair[0] != 'T') || pair[1] != '\t')
        return -1;
    start = pair + 2;
    end = start + strcspn(start, ";");
    while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (!valid_len(start, (gsize)(end - start)))
        return -1;
    *which = pair[0];
    *value = g_strndup(start, (gsize)(end - start));
    return 0;
}

char *ycookie_pair(char which, const char *value)
{
    return g_strdup_printf("%c\t%s", which, value);
}
