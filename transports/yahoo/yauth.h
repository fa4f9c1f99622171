/* yauth: the pre-YMSG16 login response (keys 6 and 96 of AUTHRESP), with
 * the Y64 encoding and md5crypt it is made of. Pure: GLib's MD5 only. */
#ifndef IMGROUPS_YAUTH_H
#define IMGROUPS_YAUTH_H

#include <glib.h>

/* Y64 of an MD5 digest: 24 characters and a NUL. */
#define YAUTH_RESPONSE_SIZE 25
/* A challenge is Y64 of 16 bytes; the scheme reads its first 16
 * characters. */
#define YAUTH_CHALLENGE_MIN 16

/* Base64 with '.', '_' for '+', '/' and '-' for '=' padding. out must
 * hold 4 * ((len + 2) / 3) + 1 bytes; it is NUL-terminated. */
void yauth_y64_encode(const guint8 *in, gsize len, char *out);

/* md5crypt ("$1$"): salt is "$1$xxxxxxxx" or "xxxxxxxx" (up to 8
 * characters, a '$' ends it). Returns "$1$salt$hash"; caller frees. */
char *yauth_md5crypt(const char *password, const char *salt);

/* The login response to challenge (key 94) for id and password into r6
 * (key 6) and r96 (key 96). Returns 0, or -1 when the challenge is shorter
 * than YAUTH_CHALLENGE_MIN (r6 and r96 untouched). */
int yauth_response(const char *id, const char *password, const char *challenge,
                   char r6[YAUTH_RESPONSE_SIZE], char r96[YAUTH_RESPONSE_SIZE]);

#endif
