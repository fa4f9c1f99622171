/* secret: zeroing that survives the optimiser, then free; masking of
 * credentials in log lines. */
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

/* Where a credential starts (the text before it) and what ends it. */
static const struct {
    const char *before;
    const char *ends; /* any of these bytes, or the end of the text */
} masked[] = {
    {"from-PP='", "'"},    /* Passport 1.4's Authentication-Info */
    {"TWN S ", " \r\n"},   /* MSN's USR with the ticket */
    {"pwd=", ",'\" \r\n"}, /* Passport 1.4's Authorization */
};

char *secret_mask(const char *text)
{
    GString *out = NULL;
    const char *p = text;

    if (!text)
        return NULL;
    for (;;) {
        const char *first = NULL;
        gsize which = 0;

        for (gsize i = 0; i < G_N_ELEMENTS(masked); i++) {
            const char *at = strstr(p, masked[i].before);

            if (at && (!first || at < first)) {
                first = at;
                which = i;
            }
        }
        if (!first)
            break;
        if (!out)
            out = g_string_new(NULL);
        first += strlen(masked[which].before);
        g_string_append_len(out, p, first - p);
        g_string_append(out, "***");
        p = first + strcspn(first, masked[which].ends);
    }
    if (!out)
        return NULL;
    g_string_append(out, p);
    return g_string_free(out, FALSE);
}
