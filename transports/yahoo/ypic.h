/* ypic: Yahoo display pictures: the HTTP request that fetches one from
 * the URL a PICTURE packet (0xBE, key 20) gives, and what a fetched file
 * is. Pure: no libpurple, no I/O. */
#ifndef IMGROUPS_YPIC_H
#define IMGROUPS_YPIC_H

#include <glib.h>

/* The most bytes a picture may have; the fetch stops past it. */
#define YPIC_MAX (256 * 1024)
/* A longer URL is not fetched. */
#define YPIC_URL_MAX 1024
/* A longer checksum (key 192, a decimal number) is not one. */
#define YPIC_CHECKSUM_MAX 20

/* The HTTP/1.0 GET of path ("" or "a/b.png": no leading '/', as
 * purple_url_parse() gives it) on host:port, with "Cookie: Y=…; T=…" when
 * cookie_y and cookie_t are both given (ycookie values: the caller only
 * gives them to the server that issued them). NULL when host or path
 * holds a byte that does not belong in a request line (blank, control,
 * non-ASCII). Caller frees. */
char *ypic_request(const char *host, int port, const char *path,
                   const char *cookie_y, const char *cookie_t);

/* The picture type of data by its first bytes: "png", "jpeg", "gif", or
 * NULL for anything else (an error page, another file). */
const char *ypic_image_type(const guint8 *data, gsize len);

/* TRUE when s is a checksum: an optional '-' then 1 to YPIC_CHECKSUM_MAX
 * digits. */
gboolean ypic_checksum_ok(const char *s);

#endif
