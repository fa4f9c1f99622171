/* secret: the one way the tree drops a password or a shared secret. */
#ifndef IMGROUPS_SECRET_H
#define IMGROUPS_SECRET_H

#include <stddef.h>

/* Zeroes s (with explicit_bzero, which the compiler may not remove) and
 * g_free()s it. NULL is fine. */
void secret_free(char *s);

/* Zeroes n bytes at p the same way, without freeing. */
void secret_wipe(void *p, size_t n);

#endif
