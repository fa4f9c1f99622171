/* ypic: display pictures, the fetch request and the file type (ypic.h). */
#include "ypic.h"

#include <string.h>

#include "ycookie.h"

static gboolean token_ok(const char *s, gboolean allow_empty)
{
    if (!s || (!*s && !allow_empty) || strlen(s) > YPIC_URL_MAX)
        return FALSE;
    for (; *s; s++)
        if ((guchar)*s <= 0x20 || (guchar)*s >= 0x7F)
            return FALSE;
    return TRUE;
}

char *ypic_request(const char *host, int port, const char *path,
                   const char *cookie_y, const char *cookie_t)
{
    GString *req;

    if (!token_ok(host, FALSE) || !token_ok(path, TRUE) || port <= 0 ||
        port > 65535 || strpbrk(host, "/@?#"))
        return NULL;
    req = g_string_new(NULL);
    g_string_append_printf(req,
                           "GET /%s HTTP/1.0\r\n"
                           "Host: %s:%d\r\n"
                           "User-Agent: Mozilla/4.0 (compatible; MSIE 5.5)\r\n",
                           path, host, port);
    if (ycookie_valid(cookie_y) && ycookie_valid(cookie_t))
        g_string_append_printf(req, "Cookie: Y=%s; T=%s\r\n", cookie_y,
                               cookie_t);
    g_string_append(req, "\r\n");
    return g_string_free(req, FALSE);
}

/* First bytes of each type. */
static const struct {
    const char *type;
    const char *magic;
    gsize len;
} magics[] = {
    {"png", "\x89PNG\r\n\x1a\n", 8},
    {"jpeg", "\xff\xd8\xff", 3},
    {"gif", "GIF87a", 6},
    {"gif", "GIF89a", 6},
};

const char *ypic_image_type(const guint8 *data, gsize len)
{
    for (gsize i = 0; i < G_N_ELEMENTS(magics); i++)
        if (len >= magics[i].len &&
            memcmp(data, magics[i].magic, magics[i].len) == 0)
            return magics[i].type;
    return NULL;
}

gboolean ypic_checksum_ok(const char *s)
{
    gsize n;

    if (!s)
        return FALSE;
    if (*s == '-')
        s++;
    n = strspn(s, "0123456789");
    return n > 0 && n <= YPIC_CHECKSUM_MAX && s[n] == '\0';
}
