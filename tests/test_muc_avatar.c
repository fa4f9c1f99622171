/* test_muc_avatar: what the room takes as a vCard BINVAL (avatar.c):
 * base64 with line breaks, nothing else. */
#include <string.h>

#include <glib.h>

#include "avatar.h"

static void binval_is_decoded_as_base64_with_whitespace_between(void)
{
    static const struct {
        const char *text;
        const char *want; /* NULL: refused */
    } cases[] = {
        {"YWJj", "abc"},
        {"YWI=", "ab"},
        {"YQ==", "a"},
        {"YW\r\nJj\n", "abc"},       /* wrapped at any column, CRLF too */
        {"  YWJj  YWJj ", "abcabc"}, /* spaces between quads */
        {"", NULL},                  /* nothing */
        {" \n ", NULL},
        {"YWJ", NULL},    /* not a multiple of four */
        {"YQ=", NULL},    /* padding short */
        {"Y===", NULL},   /* three pads */
        {"YQ==YWJj", NULL}, /* data after the padding */
        {"YW*j", NULL},   /* not in the alphabet */
        {"YW-j", NULL},   /* base64url is not base64 */
        {"\xc3\xa9YWJ", NULL},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        gsize len = 99;
        guchar *out = avatar_decode(cases[i].text, &len);
        if (!cases[i].want) {
            g_assert_null(out);
            continue;
        }
        g_assert_nonnull(out);
        g_assert_cmpmem(out, len, cases[i].want, strlen(cases[i].want));
        g_free(out);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/muc_avatar/binval_is_decoded_as_base64_with_whitespace_"
                    "between",
                    binval_is_decoded_as_base64_with_whitespace_between);
    return g_test_run();
}
