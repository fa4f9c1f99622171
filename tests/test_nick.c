/* test_nick: RFC 8266 nicks, table-driven: what is shown, what clashes,
 * what is refused (the look-alikes of issue 9, item 8). */
#include <glib.h>
#include <string.h>

#include "bounds.h"
#include "nick.h"

/* A nick and the nick it must clash with (same key), and how it is
 * shown. */
static const struct {
    const char *what, *in, *shown, *clashes_with;
} lookalikes[] = {
    {"two interior spaces", "Big  Boss", "Big Boss", "Big Boss"},
    {"a no-break space", "Big\xc2\xa0" "Boss", "Big Boss", "Big Boss"},
    {"an ideographic space", "Big\xe3\x80\x80" "Boss", "Big Boss", "Big Boss"},
    {"spaces at the ends", "  Big Boss ", "Big Boss", "Big Boss"},
    {"another case", "BIG boss", "BIG boss", "Big Boss"},
    {"fullwidth letters", "\xef\xbc\xa2\xef\xbd\x89\xef\xbd\x87", "Big",
     "big"},
    {"a ligature (NFKC)", "\xef\xac\x81sh", "\xef\xac\x81sh", "fish"},
    {"a roman numeral (RFC 8266 example 10)", "Richard \xe2\x85\xa3",
     "Richard \xe2\x85\xa3", "richard iv"},
    {"decomposed e-acute", "cafe\xcc\x81", "caf\xc3\xa9", "caf\xc3\xa9"},
    {"capital sigma (example 5)", "\xce\xa3", "\xce\xa3", "\xcf\x83"},
};

/* Must not clash: RFC 8266 keeps these apart. */
static const struct {
    const char *what, *a, *b;
} distinct[] = {
    {"final sigma and sigma (example 7)", "\xcf\x82", "\xcf\x83"},
    {"sharp s and ss (toLowerCase, not case folding)", "stra\xc3\x9f" "e",
     "strasse"},
    {"one space and none", "Big Boss", "BigBoss"},
};

/* Refused, with a word the reason must contain. */
static const struct {
    const char *what, *in, *reason;
} refused[] = {
    {"Big Boss + U+3164 hangul filler", "Big Boss\xe3\x85\xa4", "invisible"},
    {"U+3164 alone", "\xe3\x85\xa4", "invisible"},
    {"U+115F hangul choseong filler", "a\xe1\x85\x9f", "invisible"},
    {"U+1160 hangul jungseong filler", "a\xe1\x85\xa0", "invisible"},
    {"U+FFA0 halfwidth hangul filler", "a\xef\xbe\xa0", "invisible"},
    {"U+FFA2 halfwidth jamo: old jamo once width-mapped", "a\xef\xbe\xa2", "Hangul"},
    {"U+200B zero width space", "Big\xe2\x80\x8b" "Boss", "invisible"},
    {"U+200C zero width non-joiner", "Big\xe2\x80\x8c" "Boss", "invisible"},
    {"U+200D zero width joiner", "Big\xe2\x80\x8d" "Boss", "invisible"},
    {"U+2060 word joiner", "Big\xe2\x81\xa0" "Boss", "invisible"},
    {"U+00AD soft hyphen", "Big\xc2\xad" "Boss", "invisible"},
    {"U+034F combining grapheme joiner", "Big\xcd\x8f", "invisible"},
    {"U+180E mongolian vowel separator", "Big\xe1\xa0\x8e", "invisible"},
    {"U+202E right-to-left override", "\xe2\x80\xae" "ssoB", "bidi"},
    {"U+200F right-to-left mark", "Boss\xe2\x80\x8f", "bidi"},
    {"U+2066 left-to-right isolate", "\xe2\x81\xa6" "Boss", "bidi"},
    {"U+061C arabic letter mark", "Boss\xd8\x9c", "bidi"},
    {"U+FE0F variation selector 16", "Boss\xef\xb8\x8f", "invisible"},
    {"U+E0100 variation selector 17", "Boss\xf3\xa0\x84\x80", "invisible"},
    {"U+FEFF BOM", "\xef\xbb\xbf" "Boss", "invisible"},
    {"U+E0041 tag latin capital A", "Boss\xf3\xa0\x81\x81", "invisible"},
    {"U+E007F cancel tag", "Boss\xf3\xa0\x81\xbf", "invisible"},
    {"a tab", "Big\tBoss", "control"},
    {"a newline", "Big\nBoss", "control"},
    {"U+0085 next line", "Big\xc2\x85", "control"},
    {"U+2028 line separator", "Big\xe2\x80\xa8" "Boss", "control"},
    {"an unassigned code point U+0378", "a\xcd\xb8", "unassigned"},
    {"a private-use code point U+E000", "a\xee\x80\x80", "private-use"},
    {"a noncharacter U+FDD0", "a\xef\xb7\x90", "unassigned"},
    {"U+0600 arabic number sign (format)", "a\xd8\x80", "format"},
    {"invalid UTF-8", "a\xff", "UTF-8"},
    {"nothing", "", "visible"},
    {"only spaces", "   ", "visible"},
    {"only no-break spaces", "\xc2\xa0\xc2\xa0", "visible"},
};

static void lookalikes_are_shown_mapped_and_clash_with_the_original(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(lookalikes); i++) {
        char *shown = NULL, *k1 = NULL, *k2 = NULL;
        const char *why = NULL;

        g_test_message("case %zu: %s", i, lookalikes[i].what);
        g_assert_cmpint(nick_prepare(lookalikes[i].in, &shown, &why), ==, 0);
        g_assert_cmpstr(shown, ==, lookalikes[i].shown);
        g_assert_cmpint(nick_key(lookalikes[i].in, &k1, &why), ==, 0);
        g_assert_cmpint(nick_key(lookalikes[i].clashes_with, &k2, &why), ==,
                        0);
        g_assert_cmpstr(k1, ==, k2);
        g_free(shown);
        g_free(k1);
        g_free(k2);
    }
}

static void nicks_rfc8266_keeps_apart_do_not_clash(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(distinct); i++) {
        char *k1 = NULL, *k2 = NULL;
        const char *why = NULL;

        g_test_message("case %zu: %s", i, distinct[i].what);
        g_assert_cmpint(nick_key(distinct[i].a, &k1, &why), ==, 0);
        g_assert_cmpint(nick_key(distinct[i].b, &k2, &why), ==, 0);
        g_assert_cmpstr(k1, !=, k2);
        g_free(k1);
        g_free(k2);
    }
}

static void invisible_control_bidi_and_unassigned_code_points_are_refused(
    void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(refused); i++) {
        char *out = (char *)"untouched";
        const char *why = NULL;

        g_test_message("case %zu: %s", i, refused[i].what);
        g_assert_cmpint(nick_prepare(refused[i].in, &out, &why), ==, -1);
        g_assert_null(out);
        g_assert_nonnull(why);
        g_assert_nonnull(strstr(why, refused[i].reason));
        out = (char *)"untouched";
        why = NULL;
        g_assert_cmpint(nick_key(refused[i].in, &out, &why), ==, -1);
        g_assert_null(out);
        g_assert_nonnull(strstr(why, refused[i].reason));
    }
}

static void a_nick_over_the_byte_bound_is_refused_and_one_at_it_is_kept(void)
{
    char *at = g_strnfill(BOUND_NICK_BYTES, 'x');
    char *over = g_strnfill(BOUND_NICK_BYTES + 1, 'x');
    char *huge = g_strnfill(1 << 20, ' ');
    char *out = NULL;
    const char *why = NULL;

    g_assert_cmpint(nick_prepare(at, &out, &why), ==, 0);
    g_assert_cmpstr(out, ==, at);
    g_free(out);
    g_assert_cmpint(nick_prepare(over, &out, &why), ==, -1);
    g_assert_nonnull(strstr(why, "too long"));
    /* A megabyte of spaces is refused before any mapping is done. */
    g_assert_cmpint(nick_key(huge, &out, &why), ==, -1);
    g_assert_nonnull(strstr(why, "too long"));
    g_free(at);
    g_free(over);
    g_free(huge);
}

static void ordinary_nicks_are_kept_as_they_are(void)
{
    static const char *const ok[] = {
        "alice", "Big Boss", "\xe2\x99\x9a", "\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd",
        "\xe5\xbc\xa0\xe4\xbc\x9f", "O'Brien", "a.b-c_d",
        "\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4", /* precomposed hangul */
    };

    for (size_t i = 0; i < G_N_ELEMENTS(ok); i++) {
        char *out = NULL;
        const char *why = NULL;
        g_test_message("case %zu", i);
        g_assert_cmpint(nick_prepare(ok[i], &out, &why), ==, 0);
        g_assert_cmpstr(out, ==, ok[i]);
        g_free(out);
    }
}

static void a_foreign_name_is_cleaned_into_a_nick(void)
{
    static const struct {
        const char *in, *out; /* out NULL: nothing left */
    } cases[] = {
        {"Big\xe2\x80\x8b" "Boss", "BigBoss"},
        {"Big\tBoss\n", "Big Boss"},
        {"\xe2\x80\xae" "ssoB\xe3\x85\xa4", "ssoB"},
        {"\xe2\x80\x8b\xc2\xad", NULL},
        {"\xe5\xbc\xa0\xe5\xbc\xa0\xe5\xbc\xa0\xe5\xbc\xa0", "\xe5\xbc\xa0\xe5\xbc\xa0\xe5\xbc\xa0"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *out = nick_clean(cases[i].in, 10);
        g_test_message("case %zu", i);
        g_assert_cmpstr(out, ==, cases[i].out);
        g_free(out);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/nick/lookalikes_are_shown_mapped_and_clash_with_the_"
                    "original",
                    lookalikes_are_shown_mapped_and_clash_with_the_original);
    g_test_add_func("/nick/nicks_rfc8266_keeps_apart_do_not_clash",
                    nicks_rfc8266_keeps_apart_do_not_clash);
    g_test_add_func(
        "/nick/invisible_control_bidi_and_unassigned_code_points_are_refused",
        invisible_control_bidi_and_unassigned_code_points_are_refused);
    g_test_add_func(
        "/nick/a_nick_over_the_byte_bound_is_refused_and_one_at_it_is_kept",
        a_nick_over_the_byte_bound_is_refused_and_one_at_it_is_kept);
    g_test_add_func("/nick/ordinary_nicks_are_kept_as_they_are",
                    ordinary_nicks_are_kept_as_they_are);
    g_test_add_func("/nick/a_foreign_name_is_cleaned_into_a_nick",
                    a_foreign_name_is_cleaned_into_a_nick);
    return g_test_run();
}
