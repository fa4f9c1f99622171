/* Tests for transports/msn/msnobj.c: MSN objects read and made. */
#include <string.h>

#include <glib.h>

#include "msnobj.h"

#define SHA1D "2jmj7l5rSw0yVb/vlWAYkK/YBwk="

/* Texts that are refused, each for one reason. */
static const struct {
    const char *why;
    const char *text;
} refused[] = {
    {"empty", ""},
    {"not an msnobj",
     "<img Creator=\"a@b\" Size=\"1\" Type=\"3\" SHA1D=\"" SHA1D "\"/>"},
    {"no Creator", "<msnobj Size=\"1\" Type=\"3\" SHA1D=\"" SHA1D "\"/>"},
    {"no Size", "<msnobj Creator=\"a@b\" Type=\"3\" SHA1D=\"" SHA1D "\"/>"},
    {"a Size that is no number",
     "<msnobj Creator=\"a@b\" Size=\"x\" Type=\"3\" SHA1D=\"" SHA1D "\"/>"},
    {"no SHA1D", "<msnobj Creator=\"a@b\" Size=\"1\" Type=\"3\"/>"},
    {"a SHA1D that is not 20 bytes",
     "<msnobj Creator=\"a@b\" Size=\"1\" Type=\"3\" SHA1D=\"AAAA\"/>"},
    {"an unclosed attribute", "<msnobj Creator=\"a@b Size=\"1\""},
    {"a name inside another", "<msnobj XCreator=\"a@b\" Size=\"1\" Type=\"3\" "
                              "SHA1D=\"" SHA1D "\"/>"},
};

static void msnobj_refuses_malformed_objects(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(refused); i++) {
        msnobj o;

        g_test_message("%s", refused[i].why);
        g_assert_cmpint(msnobj_parse(refused[i].text, &o), ==, -1);
        g_assert_null(o.creator);
    }
}

static void msnobj_reads_what_msn_messenger_sends(void)
{
    msnobj o;

    g_assert_cmpint(
        msnobj_parse("<msnobj Creator=\"bob@example.com\" Size=\"22243\" "
                     "Type=\"3\" Location=\"TFR2C.tmp\" Friendly=\"AAA=\" "
                     "SHA1D=\"" SHA1D "\" SHA1C=\"" SHA1D "\"/>",
                     &o),
        ==, 0);
    g_assert_cmpstr(o.creator, ==, "bob@example.com");
    g_assert_cmpuint(o.size, ==, 22243);
    g_assert_cmpint(o.type, ==, MSNOBJ_TYPE_PICTURE);
    g_assert_cmpstr(o.location, ==, "TFR2C.tmp");
    g_assert_cmpstr(o.sha1d, ==, SHA1D);
    msnobj_clear(&o);
}

static void msnobj_refuses_texts_over_the_limit(void)
{
    GString *t = g_string_new("<msnobj Creator=\"a@b\" Size=\"1\" Type=\"3\" "
                              "SHA1D=\"" SHA1D "\" Friendly=\"");
    msnobj o;

    while (t->len <= MSNOBJ_TEXT_MAX)
        g_string_append_c(t, 'A');
    g_string_append(t, "\"/>");
    g_assert_cmpint(msnobj_parse(t->str, &o), ==, -1);
    g_string_free(t, TRUE);
}

static void msnobj_made_for_a_picture_reads_back_with_its_sha1d(void)
{
    static const guchar png[] = "\x89PNG\r\n\x1a\n not really a picture";
    char *text = msnobj_make("bot@example.com", png, sizeof png - 1, "x.png");
    char *sum = msnobj_sha1_b64(png, sizeof png - 1);
    msnobj o;

    g_assert_cmpint(msnobj_parse(text, &o), ==, 0);
    g_assert_cmpstr(o.creator, ==, "bot@example.com");
    g_assert_cmpuint(o.size, ==, sizeof png - 1);
    g_assert_cmpstr(o.sha1d, ==, sum);
    g_assert_nonnull(strstr(text, " SHA1C=\""));
    msnobj_clear(&o);
    g_free(sum);
    g_free(text);
}

static void msnobj_sha1_of_nothing_is_the_known_digest(void)
{
    char *sum = msnobj_sha1_b64((const guchar *)"", 0);

    /* SHA-1("") = da39a3ee5e6b4b0d3255bfef95601890afd80709 */
    g_assert_cmpstr(sum, ==, SHA1D);
    g_free(sum);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/msnobj/refuses_malformed_objects",
                    msnobj_refuses_malformed_objects);
    g_test_add_func("/msnobj/reads_what_msn_messenger_sends",
                    msnobj_reads_what_msn_messenger_sends);
    g_test_add_func("/msnobj/refuses_texts_over_the_limit",
                    msnobj_refuses_texts_over_the_limit);
    g_test_add_func("/msnobj/made_for_a_picture_reads_back_with_its_sha1d",
                    msnobj_made_for_a_picture_reads_back_with_its_sha1d);
    g_test_add_func("/msnobj/sha1_of_nothing_is_the_known_digest",
                    msnobj_sha1_of_nothing_is_the_known_digest);
    return g_test_run();
}
