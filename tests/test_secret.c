/* Tests for secret: credentials masked in log lines. */
#include <string.h>

#include <glib.h>

#include "secret.h"

static const struct {
    const char *line;
    const char *want; /* NULL: nothing to mask */
} lines[] = {
    /* libpurple's util debug prints the Passport answer's headers */
    {"Response headers: 'HTTP/1.1 200 OK\r\nAuthentication-Info: "
     "Passport1.4 da-status=success,from-PP='t=53*1hAu8ADuD3TEwdXoOMi08sD*"
     "2!cEBbTdLjiA&p=5eKBBC!yhq'\r\n\r\n'",
     "Response headers: 'HTTP/1.1 200 OK\r\nAuthentication-Info: "
     "Passport1.4 da-status=success,from-PP='***'\r\n\r\n'"},
    {"USR 4 TWN S 23ecad032b909c9a416d", "USR 4 TWN S ***"},
    {"Authorization: Passport1.4 OrgVerb=GET,sign-in=bot%40x,pwd=s3cr%2Ct,"
     "ct=1",
     "Authorization: Passport1.4 OrgVerb=GET,sign-in=bot%40x,pwd=***,ct=1"},
    {"two: from-PP='a' and from-PP='b'", "two: from-PP='***' and "
                                         "from-PP='***'"},
    {"an unended from-PP='abc", "an unended from-PP='***"},
    {"nothing secret here", NULL},
    {"", NULL},
};

static void a_log_line_keeps_no_credential(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(lines); i++) {
        char *got = secret_mask(lines[i].line);

        g_assert_cmpstr(got, ==, lines[i].want);
        secret_free(got);
    }
    g_assert_null(secret_mask(NULL));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/secret/a_log_line_keeps_no_credential",
                    a_log_line_keeps_no_credential);
    return g_test_run();
}
