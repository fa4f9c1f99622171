/* ycookie: the Y and T cookies a YMSG server hands out in LIST (key 59),
 * read out of the server's text and written back the way clients send
 * them. Pure: no libpurple, no I/O. The values are session credentials:
 * callers never log them. */
#ifndef IMGROUPS_YCOOKIE_H
#define IMGROUPS_YCOOKIE_H

#include <glib.h>

/* The longest cookie value kept; a longer one is refused (a real Y or T
 * cookie is under 200 bytes). */
#define YCOOKIE_MAX 1024

/* The key-59 pair the login response and LIST carry. */
#define YCOOKIE_KEY 59

/* Reads one key-59 value, "Y\tv=1&n=…; expires=…; path=/; domain=…": the
 * letter before the tab ('Y' or 'T') in *which and the text after the tab
 * up to the first ';' (trailing blanks dropped) in *value (caller frees).
 * Returns 0, or -1 for another cookie (C, …), no tab, an empty or longer
 * than YCOOKIE_MAX value, or a byte outside RFC 6265's cookie-octet (the
 * value goes into a Cookie header as it is); nothing is allocated then. */
int ycookie_parse(const char *pair, char *which, char **value);

/* The key-59 value a client sends back: "Y\t<value>". Caller frees. */
char *ycookie_pair(char which, const char *value);

/* TRUE when value is one ycookie_parse() would give (a stored value read
 * back from a file is checked again). */
gboolean ycookie_valid(const char *value);

#endif
