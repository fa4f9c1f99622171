/* nick: RFC 8266 nicknames: which code points a nick may hold, the form
 * shown (nick_prepare) and the form compared (nick_key). */
#include "nick.h"

#include <glib.h>
#include <string.h>

#include "bounds.h"

typedef struct range {
    gunichar lo, hi;
} range;

/* Bidi controls (Unicode Bidi_Control): ALM, LRM, RLM, LRE..RLO, LRI..PDI.
 * They reorder what follows them, so "alice" and an RLO'd "ecila" look
 * alike. Sorted. */
static const range bidi_controls[] = {
    {0x061C, 0x061C},
    {0x200E, 0x200F},
    {0x202A, 0x202E},
    {0x2066, 0x2069},
};

/* Default_Ignorable_Code_Point (Unicode DerivedCoreProperties.txt): drawn
 * as nothing, so a nick holding one looks like the nick without it. The
 * PRECIS FreeformClass disallows them (RFC 8264 §9.13,
 * PrecisIgnorableProperties). Sorted, merged where adjacent. */
static const range ignorables[] = {
    {0x00AD, 0x00AD},   /* soft hyphen */
    {0x034F, 0x034F},   /* combining grapheme joiner */
    {0x061C, 0x061C},   /* arabic letter mark */
    {0x115F, 0x1160},   /* hangul choseong/jungseong fillers */
    {0x17B4, 0x17B5},   /* khmer inherent vowels */
    {0x180B, 0x180F},   /* mongolian variation selectors, vowel separator */
    {0x200B, 0x200F},   /* zero width space, ZWNJ, ZWJ, LRM, RLM */
    {0x202A, 0x202E},   /* bidi embeddings and overrides */
    {0x2060, 0x206F},   /* word joiner, invisible operators, bidi isolates */
    {0x3164, 0x3164},   /* hangul filler */
    {0xFE00, 0xFE0F},   /* variation selectors */
    {0xFEFF, 0xFEFF},   /* zero width no-break space (BOM) */
    {0xFFA0, 0xFFA0},   /* halfwidth hangul filler */
    {0xFFF0, 0xFFF8},   /* unassigned specials */
    {0x1BCA0, 0x1BCA3}, /* shorthand format controls */
    {0x1D173, 0x1D17A}, /* musical symbol format controls */
    {0xE0000, 0xE0FFF}, /* tag characters, variation selectors supplement */
};

/* Old Hangul jamo (Hangul_Syllable_Type L, V, T): disallowed by the PRECIS
 * FreeformClass (RFC 8264 §9.9). Sorted. */
static const range old_hangul_jamo[] = {
    {0x1100, 0x11FF},
    {0xA960, 0xA97F},
    {0xD7B0, 0xD7FF},
};

static gboolean in(const range *t, gsize n, gunichar c)
{
    gsize lo = 0, hi = n;

    while (lo < hi) {
        gsize mid = lo + (hi - lo) / 2;
        if (c < t[mid].lo)
            hi = mid;
        else if (c > t[mid].hi)
            lo = mid + 1;
        else
            return TRUE;
    }
    return FALSE;
}

static gboolean is_noncharacter(gunichar c)
{
    return (c >= 0xFDD0 && c <= 0xFDEF) || (c & 0xFFFE) == 0xFFFE;
}

/* Why c may not appear in a nick, or NULL. Checked in this order so the
 * text names the most telling reason (a bidi control is also
 * default-ignorable). */
static const char *refusal(gunichar c)
{
    GUnicodeType t = g_unichar_type(c);

    if (t == G_UNICODE_CONTROL || t == G_UNICODE_LINE_SEPARATOR ||
        t == G_UNICODE_PARAGRAPH_SEPARATOR)
        return "a nick may not contain control characters";
    if (in(bidi_controls, G_N_ELEMENTS(bidi_controls), c))
        return "a nick may not contain bidi controls";
    if (in(ignorables, G_N_ELEMENTS(ignorables), c))
        return "a nick may not contain invisible characters (zero-width, "
               "soft hyphen, fillers, variation selectors, tags)";
    if (in(old_hangul_jamo, G_N_ELEMENTS(old_hangul_jamo), c))
        return "a nick may not contain old Hangul jamo";
    if (t == G_UNICODE_UNASSIGNED || t == G_UNICODE_PRIVATE_USE ||
        t == G_UNICODE_SURROGATE || is_noncharacter(c))
        return "a nick may not contain unassigned or private-use code points";
    if (t == G_UNICODE_FORMAT)
        return "a nick may not contain format characters";
    return NULL;
}

/* RFC 8266 §2.1, additional mapping rule: "Map any instances of non-ASCII
 * space to SPACE (U+0020)", "Remove any instances of the ASCII space
 * character at the beginning or end of a nickname", "Map interior
 * sequences of more than one ASCII space character to a single ASCII space
 * character". width: first map fullwidth and halfwidth forms to their
 * decomposition (what NFKC would do, here for the displayed form). */
static char *map_spaces(const char *s, gboolean width)
{
    GString *out = g_string_sized_new(strlen(s));
    gboolean space = FALSE;

    for (const char *p = s; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p), d[G_UNICHAR_MAX_DECOMPOSITION_LENGTH];
        gsize n = 1;

        d[0] = c;
        if (width && c >= 0xFF01 && c <= 0xFFEF)
            n = g_unichar_fully_decompose(c, TRUE, d, G_N_ELEMENTS(d));
        for (gsize i = 0; i < n; i++) {
            if (g_unichar_type(d[i]) == G_UNICODE_SPACE_SEPARATOR) {
                space = TRUE;
                continue;
            }
            if (space && out->len)
                g_string_append_c(out, ' ');
            space = FALSE;
            g_string_append_unichar(out, d[i]);
        }
    }
    return g_string_free(out, FALSE);
}

static int check(const char *in, const char **why)
{
    /* Bound the work before doing any: what is shown is bounded again
     * after preparation. */
    if (!g_utf8_validate(in, -1, NULL)) {
        *why = "a nick must be UTF-8";
        return -1;
    }
    if (strlen(in) > 4 * BOUND_NICK_BYTES) {
        *why = "the nick is too long";
        return -1;
    }
    for (const char *p = in; *p; p = g_utf8_next_char(p))
        if ((*why = refusal(g_utf8_get_char(p))))
            return -1;
    return 0;
}

int nick_prepare(const char *in, char **out, const char **why)
{
    char *mapped;

    *out = NULL;
    if (check(in, why) < 0)
        return -1;
    mapped = map_spaces(in, TRUE);
    *out = g_utf8_normalize(mapped, -1, G_NORMALIZE_NFC);
    g_free(mapped);
    /* RFC 8266 §2.3: "the entity MUST ensure that the nickname is not zero
     * bytes in length". */
    if (!*out || !**out) {
        *why = "a nick needs a visible character";
        goto fail;
    }
    if (strlen(*out) > BOUND_NICK_BYTES) {
        *why = "the nick is too long";
        goto fail;
    }
    /* The rules hold for the mapped string too: width mapping can make a
     * disallowed code point (U+FFA2 HALFWIDTH HANGUL LETTER SSANGKIYEOK
     * becomes an old Hangul jamo). */
    if (check(*out, why) < 0)
        goto fail;
    return 0;
fail:
    g_free(*out);
    *out = NULL;
    return -1;
}

/* RFC 8266 §2.1, case mapping rule: "Apply the Unicode toLowerCase()
 * operation". Lower case, not case folding: folding would also merge
 * nicks the RFC keeps apart ("ß" and "ss"; final sigma and sigma, §3
 * example 7). Code point by code point (g_unichar_tolower) rather than
 * g_utf8_strdown, which applies the final-sigma context and the locale's
 * Turkic rules: the RFC's example 5 maps a lone "Σ" to "σ", and a key must
 * not depend on the locale. */
static char *lower(const char *s)
{
    GString *out = g_string_sized_new(strlen(s));

    for (const char *p = s; *p; p = g_utf8_next_char(p))
        g_string_append_unichar(out, g_unichar_tolower(g_utf8_get_char(p)));
    return g_string_free(out, FALSE);
}

/* RFC 8266 §2.4, comparison: additional mapping, case mapping, NFKC. */
static char *compare_form(const char *s)
{
    char *mapped = map_spaces(s, FALSE);
    char *low = lower(mapped);
    char *norm = g_utf8_normalize(low, -1, G_NORMALIZE_NFKC);

    g_free(mapped);
    g_free(low);
    return norm;
}

int nick_key(const char *in, char **out, const char **why)
{
    char *prev = NULL, *cur = NULL;

    *out = NULL;
    if (nick_prepare(in, &prev, why) < 0)
        return -1;
    /* RFC 8266 §5: "an implementation SHOULD apply the rules repeatedly
     * until the output string is stable; if the output string does not
     * stabilize after reapplying the rules three (3) additional times,
     * the implementation SHOULD terminate application of the rules and
     * reject the input string as invalid." */
    for (int round = 0; round < 4; round++) {
        cur = compare_form(prev);
        if (cur && strcmp(cur, prev) == 0 && round > 0)
            break;
        g_free(prev);
        prev = cur;
        cur = NULL;
        if (!prev)
            break;
    }
    g_free(prev);
    if (!cur) {
        *why = "the nick does not settle under the RFC 8266 rules";
        return -1;
    }
    if (!*cur || check(cur, why) < 0) {
        if (!*cur)
            *why = "a nick needs a visible character";
        g_free(cur);
        return -1;
    }
    /* NFKC can make the key longer than the nick shown (U+0384 becomes a
     * space and a combining accent): the bound holds for the key too, so
     * that a key is itself a nick with the same key. */
    if (strlen(cur) > BOUND_NICK_BYTES) {
        *why = "the nick is too long";
        g_free(cur);
        return -1;
    }
    *out = cur;
    return 0;
}

char *nick_clean(const char *in, gsize max)
{
    char *valid = g_utf8_make_valid(in, -1);
    GString *kept = g_string_sized_new(strlen(valid));
    char *cut, *out = NULL;
    const char *why = NULL;

    for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        GUnicodeType t = g_unichar_type(c);
        if (t == G_UNICODE_CONTROL || t == G_UNICODE_LINE_SEPARATOR ||
            t == G_UNICODE_PARAGRAPH_SEPARATOR)
            g_string_append_c(kept, ' ');
        else if (!refusal(c))
            g_string_append_unichar(kept, c);
    }
    cut = g_utf8_substring(kept->str, 0, MIN(g_utf8_strlen(kept->str, -1),
                                             (glong)BOUND_NICK_BYTES));
    while (strlen(cut) > MIN(max, (gsize)BOUND_NICK_BYTES))
        *g_utf8_prev_char(cut + strlen(cut)) = '\0';
    if (nick_prepare(cut, &out, &why) < 0)
        out = NULL;
    g_free(cut);
    g_string_free(kept, TRUE);
    g_free(valid);
    return out;
}
