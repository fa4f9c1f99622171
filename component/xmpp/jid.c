/* jid: splitting and validating JIDs (RFC 7622). */
#include "jid.h"

#include <string.h>

#define JID_PART_MAX 1023 /* RFC 7622 §3.2–3.4: each part 1..1023 octets */

static gboolean part_ok(const char *s, const char *forbidden)
{
    size_t len;

    if (!s)
        return FALSE;
    len = strlen(s);
    if (len == 0 || len > JID_PART_MAX || !g_utf8_validate(s, len, NULL))
        return FALSE;
    for (const char *p = s; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if (g_unichar_iscntrl(c) ||
            (forbidden && c < 128 && strchr(forbidden, (int)c)))
            return FALSE;
    }
    return TRUE;
}

gboolean jid_node_valid(const char *s)
{
    /* RFC 7622 §3.3.1: these are disallowed in a localpart. */
    return part_ok(s, "\"&'/:<>@ ");
}

gboolean jid_domain_valid(const char *s)
{
    if (!part_ok(s, "@/ \"&'<>\\"))
        return FALSE;
    /* No empty label ("a..b", ".a"); a single trailing dot is stripped by
     * RFC 7622 §3.2 but we refuse it rather than guess. */
    if (s[0] == '.' || strstr(s, "..") || s[strlen(s) - 1] == '.')
        return FALSE;
    return TRUE;
}

gboolean jid_resource_valid(const char *s)
{
    return part_ok(s, NULL);
}

void jid_clear(jid *j)
{
    g_clear_pointer(&j->node, g_free);
    g_clear_pointer(&j->domain, g_free);
    g_clear_pointer(&j->resource, g_free);
}

int jid_parse(const char *s, jid *out)
{
    const char *slash, *at, *dom;
    char *domain = NULL;

    memset(out, 0, sizeof(*out));
    if (!s)
        return -1;
    /* The resource is everything after the first '/', and may contain '@'
     * and '/' (RFC 7622 §3.1). */
    slash = strchr(s, '/');
    at = memchr(s, '@', slash ? (size_t)(slash - s) : strlen(s));
    dom = at ? at + 1 : s;
    domain = slash ? g_strndup(dom, (gsize)(slash - dom)) : g_strdup(dom);
    if (!jid_domain_valid(domain))
        goto fail;
    out->domain = g_ascii_strdown(domain, -1);
    g_free(domain);
    domain = NULL;
    if (at) {
        out->node = g_strndup(s, (gsize)(at - s));
        if (!jid_node_valid(out->node))
            goto fail;
    }
    if (slash) {
        out->resource = g_strdup(slash + 1);
        if (!jid_resource_valid(out->resource))
            goto fail;
    }
    return 0;
fail:
    g_free(domain);
    jid_clear(out);
    return -1;
}

char *jid_bare(const jid *j)
{
    return j->node ? g_strconcat(j->node, "@", j->domain, NULL)
                   : g_strdup(j->domain);
}

char *jid_bare_folded(const jid *j)
{
    char *node, *out;

    if (!j->node)
        return g_strdup(j->domain);
    node = jid_node_fold(j->node);
    out = node ? g_strconcat(node, "@", j->domain, NULL) : NULL;
    g_free(node);
    return out;
}

char *jid_bare_fold(const char *s)
{
    char *out;
    jid j;

    if (!s || jid_parse(s, &j) < 0)
        return NULL;
    out = jid_bare_folded(&j);
    jid_clear(&j);
    return out;
}

static gboolean ascii_only(const char *s)
{
    for (; *s; s++)
        if ((guchar)*s >= 0x80)
            return FALSE;
    return TRUE;
}

char *jid_node_fold(const char *s)
{
    char *folded, *decomposed, *again, *norm;

    if (!s || !g_utf8_validate(s, -1, NULL))
        return NULL;
    /* ASCII is its own NFKD and NFKC, and folds to its lower case: the
     * common case without four allocations and Unicode tables. */
    if (ascii_only(s))
        return g_ascii_strdown(s, -1);
    /* Unicode's compatibility caseless match (D146): fold, decompose, fold
     * again, compose. One fold before NFKC is not enough: NFKC turns
     * U+03D2 (ϒ) into U+03A5 (Υ), which folds on to U+03C5 (υ), so the
     * result must be folded after normalising to be its own fold. */
    folded = g_utf8_casefold(s, -1);
    decomposed = g_utf8_normalize(folded, -1, G_NORMALIZE_NFKD);
    again = g_utf8_casefold(decomposed, -1);
    norm = g_utf8_normalize(again, -1, G_NORMALIZE_NFKC);
    g_free(again);
    g_free(decomposed);
    g_free(folded);
    return norm;
}

gboolean jid_node_fits(const char *s, gsize max)
{
    char *folded = jid_node_fold(s);
    gboolean fits = folded && strlen(folded) <= max;

    g_free(folded);
    return fits;
}
