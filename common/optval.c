/* optval: the spellings of a plugin option's int and boolean values. */
#include "optval.h"

/* Accepted spellings of booleans, case-insensitive. */
static const struct {
    const char *word;
    gboolean value;
} bool_words[] = {
    {"true", TRUE},   {"yes", TRUE}, {"1", TRUE},
    {"false", FALSE}, {"no", FALSE}, {"0", FALSE},
};

int optval_bool(const char *s, gboolean *out)
{
    for (gsize i = 0; s && i < G_N_ELEMENTS(bool_words); i++) {
        if (g_ascii_strcasecmp(s, bool_words[i].word) == 0) {
            *out = bool_words[i].value;
            return 0;
        }
    }
    return -1;
}

int optval_int(const char *s, int *out)
{
    gint64 n;

    if (!s || !g_ascii_string_to_signed(s, 10, G_MININT, G_MAXINT, &n, NULL))
        return -1;
    *out = (int)n;
    return 0;
}
