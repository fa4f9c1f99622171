/* secret: zeroing that survives the optimiser, then free. */
#include <string.h>

#include <glib.h>

#include "secret.h"

void secret_wipe(void *p, size_t n)
{
    if (p && n)
        explicit_bzero(p, n);
}

void secret_free(char *s)
{
    if (!s)
        return;
    secret_wipe(s, strlen(s));
    g_free(s);
}
