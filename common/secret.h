/* secret: the one way the tree drops a password or a shared secret. */
#ifndef IMGROUPS_SECRET_H
#define IMGROUPS_SECRET_H

#include <stddef.h>

/* Zeroes s (with explicit_bzero, which the compiler may not remove) and
 * g_free()s it. NULL is fine. */
void secret_free(char *s);

/* Zeroes n bytes at p the same way, without freeing. */
void secret_wipe(void *p, size_t n);

/* A copy of text (a log line) with every credential value a protocol
 * carries in the clear replaced by "***": MSN Passport's ticket
 * (Authentication-Info's from-PP='...', USR's TWN S argument) and its
 * password field (pwd=...). NULL when text holds none (the caller logs
 * text as it is); else the caller secret_free()s the copy. */
char *secret_mask(const char *text);

#endif
