/* test_text: the worker's text conversions and splitting, table-driven. */
#include <string.h>

#include <glib.h>

#include "text.h"

struct conv_case {
    const char *name;
    const char *in;
    const char *want;
};

static const struct conv_case from_legacy_cases[] = {
    {"tags are stripped", "<b>bold</b> and <i>italic</i>", "bold and italic"},
    {"font tags with attributes are stripped",
     "<font color=\"#ff0000\">red</font>", "red"},
    {"br becomes a newline", "one<br>two<BR/>three", "one\ntwo\nthree"},
    {"entities are unescaped", "&lt;b&gt; &amp; &quot;q&quot; &#39;s",
     "<b> & \"q\" 's"},
    {"escaped markup arrives literally", "&lt;b&gt;x&lt;/b&gt; &amp; y",
     "<b>x</b> & y"},
    {"numeric entities are unescaped", "caf&#233;", "caf\xc3\xa9"},
    {"plain UTF-8 passes", "h\xc3\xa9llo \xe2\x82\xac",
     "h\xc3\xa9llo \xe2\x82\xac"},
    {"invalid UTF-8 is repaired",
     "a\xff"
     "b",
     "a\xef\xbf\xbd"
     "b"},
    {"control characters are removed",
     "a\x01"
     "b\x1b[0mc\x7f",
     "ab[0mc"},
    {"tabs and newlines stay", "a\tb\nc", "a\tb\nc"},
    {"CRLF becomes LF", "a\r\nb", "a\nb"},
    {"trailing whitespace is trimmed", "text  \n\t ", "text"},
    {"markup only is empty", "<br><b></b>", ""},
    {"NULL is empty", NULL, ""},
};

static const struct conv_case to_legacy_cases[] = {
    {"plain text passes", "hello", "hello"},
    {"markup is escaped", "<b>x</b>", "&lt;b&gt;x&lt;/b&gt;"},
    {"ampersands are escaped", "a & b", "a &amp; b"},
    {"quotes are escaped", "\"q\" 's", "&quot;q&quot; &#39;s"},
    {"newlines become br", "one\ntwo", "one<br>two"},
    {"CRLF becomes one br", "one\r\ntwo", "one<br>two"},
    {"control characters are removed",
     "a\x02"
     "b",
     "ab"},
    {"invalid UTF-8 is repaired", "a\xc3", "a\xef\xbf\xbd"},
    {"trailing whitespace is trimmed", "hi \n", "hi"},
    {"multibyte text passes", "\xe2\x98\x83 snow", "\xe2\x98\x83 snow"},
};

static void run_from_legacy(gconstpointer data)
{
    const struct conv_case *c = data;
    char *got = text_from_legacy(c->in);

    g_assert_cmpstr(got, ==, c->want);
    g_free(got);
}

static void run_to_legacy(gconstpointer data)
{
    const struct conv_case *c = data;
    char *got = text_to_legacy(c->in);
    char *clean = text_sanitize(c->in);

    g_assert_cmpstr(got, ==, c->want);
    g_assert_cmpuint(strlen(got), ==, text_legacy_size(clean));
    g_free(clean);
    g_free(got);
}

struct split_case {
    const char *name;
    const char *in;
    gsize max;
    const char *want[8]; /* NULL-terminated */
};

static const struct split_case split_cases[] = {
    {"short text is one piece", "hello world", 100, {"hello world", NULL}},
    {"text of exactly the limit is one piece", "abcde", 5, {"abcde", NULL}},
    {"one byte over the limit is cut", "abcdef", 5, {"abcde", "f", NULL}},
    {"cuts at the last whitespace in range",
     "aaa bbb ccc",
     9,
     {"aaa bbb", "ccc", NULL}},
    {"a cut at whitespace drops that one space",
     "aaaa bbbb",
     4,
     {"aaaa", "bbbb", NULL}},
    {"cuts at a newline", "aaa\nbbbbbb", 8, {"aaa", "bbbbbb", NULL}},
    {"no whitespace: cut at the limit",
     "abcdefghij",
     4,
     {"abcd", "efgh", "ij", NULL}},
    {"never inside a UTF-8 character",
     "\xc3\xa9\xc3\xa9\xc3\xa9",
     5,
     {"\xc3\xa9\xc3\xa9", "\xc3\xa9", NULL}},
    {"a 3-byte character at the boundary moves whole",
     "ab\xe2\x82\xac",
     4,
     {"ab", "\xe2\x82\xac", NULL}},
    {"the limit counts the escaped form", "a<b", 4, {"a", "<", "b", NULL}},
    {"an ampersand costs five bytes", "&&", 9, {"&", "&", NULL}},
    {"a newline costs four bytes", "ab\ncd", 6, {"ab", "cd", NULL}},
    {"limit 0 means no splitting", "aaa bbb ccc", 0, {"aaa bbb ccc", NULL}},
    {"empty text gives no pieces", "", 10, {NULL}},
};

static void run_split(gconstpointer data)
{
    const struct split_case *c = data;
    char **got = text_split(c->in, c->max);
    guint n = 0;

    while (c->want[n])
        n++;
    g_assert_cmpuint(g_strv_length(got), ==, n);
    for (guint i = 0; i < n; i++) {
        g_assert_cmpstr(got[i], ==, c->want[i]);
        g_assert_true(g_utf8_validate(got[i], -1, NULL));
        if (c->max)
            g_assert_cmpuint(text_legacy_size(got[i]), <=, c->max);
    }
    g_strfreev(got);
}

static void split_of_long_text_loses_nothing(void)
{
    GString *text = g_string_new(NULL);
    char **pieces, *joined;

    for (int i = 0; i < 300; i++)
        g_string_append_printf(text, "%sw%03d%s", i ? " " : "", i,
                               i % 5 ? "" : "\xc3\xa9&<");
    pieces = text_split(text->str, 400);
    g_assert_cmpuint(g_strv_length(pieces), >=, 4);
    for (char **p = pieces; *p; p++)
        g_assert_cmpuint(text_legacy_size(*p), <=, 400);
    joined = g_strjoinv(" ", pieces);
    g_assert_cmpstr(joined, ==, text->str);
    g_free(joined);
    g_strfreev(pieces);
    g_string_free(text, TRUE);
}

static void limits_come_from_one_table(void)
{
    g_assert_cmpuint(text_limit("prpl-irc"), ==, 400);
    g_assert_cmpuint(text_limit("prpl-jabber"), ==, 0);
    g_assert_cmpuint(text_limit("prpl-unknown"), ==, 2000);
    g_assert_cmpuint(text_limit(NULL), ==, 2000);
}

static char *case_path(const char *group, const char *name)
{
    char *path = g_strdup_printf("/text/%s/%s", group, name);

    g_strdelimit(path, " ", '_');
    return path;
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(from_legacy_cases); i++) {
        char *path = case_path("from_legacy", from_legacy_cases[i].name);

        g_test_add_data_func(path, &from_legacy_cases[i], run_from_legacy);
        g_free(path);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(to_legacy_cases); i++) {
        char *path = case_path("to_legacy", to_legacy_cases[i].name);

        g_test_add_data_func(path, &to_legacy_cases[i], run_to_legacy);
        g_free(path);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(split_cases); i++) {
        char *path = case_path("split", split_cases[i].name);

        g_test_add_data_func(path, &split_cases[i], run_split);
        g_free(path);
    }
    g_test_add_func("/text/split/long_text_loses_nothing",
                    split_of_long_text_loses_nothing);
    g_test_add_func("/text/limits_come_from_one_table",
                    limits_come_from_one_table);
    return g_test_run();
}
