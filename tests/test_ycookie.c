/* test_ycookie: the Y and T cookies of LIST's key 59, read out of the
 * server's text and written back (transports/yahoo/ycookie.c). */
#include <string.h>

#include <glib.h>

#include "ycookie.h"

struct parse_case {
    const char *name, *pair;
    char which; /* 0: refused */
    const char *value;
};

static const struct parse_case parse_cases[] = {
    /* As shared/protocols/transcripts/ymsg10.log shows them. */
    {"a_y_cookie_is_read_up_to_its_first_semicolon",
     "Y\tv=1&n=&l=0b824&p=&r=&lg=&intl=&np=; expires=Thu, 26 Nov 2026 "
     "05:39:20 GMT; path=/; domain=yahooloopback.log1p.xyz",
     'Y', "v=1&n=&l=0b824&p=&r=&lg=&intl=&np="},
    {"a_t_cookie_is_read_up_to_its_first_semicolon",
     "T\tz=2d59eb68235f7fb0d79a&a=&sk=2d59eb68235f7fb0d79a&ks=2d59&kt=&ku="
     "&d=2d59eb68235f7fb0d79a; expires=Thu, 26 Nov 2026 05:39:20 GMT",
     'T',
     "z=2d59eb68235f7fb0d79a&a=&sk=2d59eb68235f7fb0d79a&ks=2d59&kt=&ku="
     "&d=2d59eb68235f7fb0d79a"},
    {"a_cookie_without_attributes_is_read_whole", "Y\tv=1&n=x", 'Y', "v=1&n=x"},
    {"blanks_before_the_semicolon_are_dropped", "T\tz=1  ; path=/", 'T', "z=1"},
    {"the_c_cookie_is_not_kept", "C\tmg=1", 0, NULL},
    {"a_pair_without_a_tab_is_refused", "Y v=1", 0, NULL},
    {"an_empty_value_is_refused", "Y\t; path=/", 0, NULL},
    {"an_empty_pair_is_refused", "", 0, NULL},
    {"a_line_break_in_a_value_is_refused", "Y\tv=1\r\nX-Evil: 1", 0, NULL},
    {"a_blank_inside_a_value_is_refused", "Y\tv=1 n=2", 0, NULL},
    {"a_quote_in_a_value_is_refused", "T\tz=\"1\"", 0, NULL},
    {"a_lower_case_letter_is_not_a_cookie", "y\tv=1", 0, NULL},
};

static void run_parse(gconstpointer data)
{
    const struct parse_case *c = data;
    char which = 0;
    char *value = (char *)"unset";
    int rc = ycookie_parse(c->pair, &which, &value);

    if (!c->which) {
        g_assert_cmpint(rc, <, 0);
        g_assert_null(value);
        return;
    }
    g_assert_cmpint(rc, ==, 0);
    g_assert_cmpint(which, ==, c->which);
    g_assert_cmpstr(value, ==, c->value);
    g_assert_true(ycookie_valid(value));
    g_free(value);
}

static void a_value_over_the_limit_is_refused(void)
{
    GString *pair = g_string_new("Y\t");
    char which = 0, *value = NULL;

    for (int i = 0; i < YCOOKIE_MAX + 1; i++)
        g_string_append_c(pair, 'a');
    g_assert_cmpint(ycookie_parse(pair->str, &which, &value), <, 0);
    g_assert_null(value);
    g_string_truncate(pair, pair->len - 1);
    g_assert_cmpint(ycookie_parse(pair->str, &which, &value), ==, 0);
    g_assert_cmpuint(strlen(value), ==, YCOOKIE_MAX);
    g_free(value);
    g_string_free(pair, TRUE);
}

static void a_value_read_is_written_back_as_the_server_wrote_it(void)
{
    char which = 0, *value = NULL, *pair;

    g_assert_cmpint(ycookie_parse("T\tz=1&a=; path=/", &which, &value), ==, 0);
    pair = ycookie_pair(which, value);
    g_assert_cmpstr(pair, ==, "T\tz=1&a=");
    g_free(pair);
    g_free(value);
}

static void a_stored_value_is_checked_again(void)
{
    g_assert_true(ycookie_valid("v=1&n=x"));
    g_assert_false(ycookie_valid(NULL));
    g_assert_false(ycookie_valid(""));
    g_assert_false(ycookie_valid("v=1\nx"));
    g_assert_false(ycookie_valid("v=1;x"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(parse_cases); i++) {
        char *path = g_strdup_printf("/ycookie/%s", parse_cases[i].name);

        g_test_add_data_func(path, &parse_cases[i], run_parse);
        g_free(path);
    }
    g_test_add_func("/ycookie/a_value_over_the_limit_is_refused",
                    a_value_over_the_limit_is_refused);
    g_test_add_func("/ycookie/a_value_read_is_written_back_as_the_server_"
                    "wrote_it",
                    a_value_read_is_written_back_as_the_server_wrote_it);
    g_test_add_func("/ycookie/a_stored_value_is_checked_again",
                    a_stored_value_is_checked_again);
    return g_test_run();
}
