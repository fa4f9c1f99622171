/* msnobj: MSN objects (MSNP9+), the XML element that names a display
 * picture in ILN/NLN/CHG (URL-encoded there) and in an MSNSLP INVITE's
 * Context (base64 there):
 *   <msnobj Creator="bob@example.com" Size="1234" Type="3"
 *    Location="TFR2C.tmp" Friendly="AAA=" SHA1D="base64 SHA-1 of the data"
 *    SHA1C="base64 SHA-1 of the fields"/>
 * Pure: text in, values out; no libpurple. */
#ifndef MSNOBJ_H
#define MSNOBJ_H

#include <glib.h>

/* The longest MSN object text taken, in bytes. */
#define MSNOBJ_TEXT_MAX 2048
/* The largest picture fetched or served, in bytes. */
#define MSNOBJ_PICTURE_MAX (256 * 1024)
/* Type 3: a display picture. */
#define MSNOBJ_TYPE_PICTURE 3

typedef struct msnobj {
    char *creator;  /* as sent */
    guint64 size;   /* bytes of the data */
    int type;       /* MSNOBJ_TYPE_PICTURE for a display picture */
    char *location; /* may be NULL */
    char *sha1d;    /* base64 SHA-1 of the data (28 characters) */
} msnobj;

/* Parses text (the element, not encoded): 0, or -1 when it is too long,
 * is not one msnobj element, or lacks Creator, Size, Type or a SHA1D of
 * 28 base64 characters. out is then cleared; free with msnobj_clear(). */
int msnobj_parse(const char *text, msnobj *out);
void msnobj_clear(msnobj *o);

/* The element for a display picture of len bytes (data) by creator, with
 * its SHA1D and SHA1C. Caller g_free()s. */
char *msnobj_make(const char *creator, const guchar *data, gsize len,
                  const char *location);

/* The base64 SHA-1 of len bytes (as SHA1D). Caller g_free()s. */
char *msnobj_sha1_b64(const guchar *data, gsize len);

#endif
