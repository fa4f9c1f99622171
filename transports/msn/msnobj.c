/* msnobj: MSN objects (msnobj.h). */
#include "msnobj.h"

#include <string.h>

void msnobj_clear(msnobj *o)
{
    g_free(o->creator);
    g_free(o->location);
    g_free(o->sha1d);
    memset(o, 0, sizeof *o);
}

/* The value of attribute name="…" (or '…') in the element text, as
 * written; NULL when absent. */
static char *attribute(const char *text, const char *name)
{
    gsize n = strlen(name);

    for (const char *p = text; (p = strstr(p, name)); p += n) {
        const char *v, *end;

        /* a whole attribute name: after a space, before = and a quote */
        if (p == text || (p[-1] != ' ' && p[-1] != '\t' && p[-1] != '\n'))
            continue;
        v = p + n;
        if (*v != '=' || (v[1] != '"' && v[1] != '\''))
            continue;
        end = strchr(v + 2, v[1]);
        if (!end)
            return NULL;
        return g_strndup(v + 2, (gsize)(end - v - 2));
    }
    return NULL;
}

static gboolean is_sha1_b64(const char *s)
{
    gsize len;
    guchar *raw;

    if (!s || strlen(s) != 28 || s[27] != '=')
        return FALSE;
    for (const char *p = s; *p; p++)
        if (!g_ascii_isalnum(*p) && *p != '+' && *p != '/' && *p != '=')
            return FALSE;
    raw = g_base64_decode(s, &len);
    g_free(raw);
    return len == 20;
}

int msnobj_parse(const char *text, msnobj *out)
{
    char *size = NULL, *type = NULL;
    guint64 n, t;

    memset(out, 0, sizeof *out);
    if (!text || strlen(text) > MSNOBJ_TEXT_MAX ||
        !g_str_has_prefix(text, "<msnobj "))
        return -1;
    out->creator = attribute(text, "Creator");
    out->location = attribute(text, "Location");
    out->sha1d = attribute(text, "SHA1D");
    size = attribute(text, "Size");
    type = attribute(text, "Type");
    if (!out->creator || !*out->creator || !size || !type ||
        !g_ascii_string_to_unsigned(size, 10, 0, G_MAXUINT32, &n, NULL) ||
        !g_ascii_string_to_unsigned(type, 10, 0, 100, &t, NULL) ||
        !is_sha1_b64(out->sha1d)) {
        g_free(size);
        g_free(type);
        msnobj_clear(out);
        return -1;
    }
    out->size = n;
    out->type = (int)t;
    g_free(size);
    g_free(type);
    return 0;
}

char *msnobj_sha1_b64(const guchar *data, gsize len)
{
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA1);
    guint8 digest[20];
    gsize dlen = sizeof digest;

    g_checksum_update(sum, data, (gssize)len);
    g_checksum_get_digest(sum, digest, &dlen);
    g_checksum_free(sum);
    return g_base64_encode(digest, dlen);
}

char *msnobj_make(const char *creator, const guchar *data, gsize len,
                  const char *location)
{
    char *sha1d = msnobj_sha1_b64(data, len);
    /* SHA1C: the SHA-1 of the fields' names and values run together, in
     * this order (what MSN Messenger computes). */
    char *fields =
        g_strdup_printf("Creator%sSize%" G_GSIZE_FORMAT "Type%d"
                        "Location%sFriendlyAAA=SHA1D%s",
                        creator, len, MSNOBJ_TYPE_PICTURE, location, sha1d);
    char *sha1c = msnobj_sha1_b64((const guchar *)fields, strlen(fields));
    char *text = g_strdup_printf(
        "<msnobj Creator=\"%s\" Size=\"%" G_GSIZE_FORMAT "\" Type=\"%d\" "
        "Location=\"%s\" Friendly=\"AAA=\" SHA1D=\"%s\" SHA1C=\"%s\"/>",
        creator, len, MSNOBJ_TYPE_PICTURE, location, sha1d, sha1c);

    g_free(fields);
    g_free(sha1c);
    g_free(sha1d);
    return text;
}
