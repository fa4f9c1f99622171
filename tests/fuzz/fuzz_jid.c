/* fuzz_jid: libFuzzer target for JID splitting and validation
 * (component/jid.c): the input, as a C string, is parsed as a JID and
 * checked against each part validator and the localpart folding; what
 * parses must obey the validators and survive a round trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "jid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A parsed JID holds only parts its validators accept, and a lower-case
 * domain. */
static void check_parsed(const jid *j)
{
    if (!j->domain || !jid_domain_valid(j->domain))
        abort();
    for (const char *p = j->domain; *p; p++)
        if (g_ascii_isupper(*p))
            abort();
    if (j->node && !jid_node_valid(j->node))
        abort();
    if (j->resource && !jid_resource_valid(j->resource))
        abort();
}

/* Writing a parsed JID back and parsing that gives the same parts. */
static void check_round_trip(const jid *j)
{
    char *bare = jid_bare(j);
    char *full = j->resource ? g_strconcat(bare, "/", j->resource, NULL)
                             : g_strdup(bare);
    jid back;

    if (jid_parse(full, &back) != 0 || g_strcmp0(back.node, j->node) != 0 ||
        g_strcmp0(back.domain, j->domain) != 0 ||
        g_strcmp0(back.resource, j->resource) != 0)
        abort();
    jid_clear(&back);
    g_free(full);
    g_free(bare);
}

/* Folding gives UTF-8 exactly for UTF-8, and folding twice changes
 * nothing more: a stored (folded) localpart names the same group when it
 * is folded again. */
static void check_fold(const char *s)
{
    char *once = jid_node_fold(s);
    char *twice;

    if (!once) {
        if (g_utf8_validate(s, -1, NULL))
            abort();
        return;
    }
    if (!g_utf8_validate(once, -1, NULL))
        abort();
    twice = jid_node_fold(once);
    if (!twice || strcmp(once, twice) != 0)
        abort();
    g_free(twice);
    g_free(once);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = g_strndup((const char *)data, size);
    jid j;

    if (jid_parse(s, &j) == 0) {
        check_parsed(&j);
        check_round_trip(&j);
        jid_clear(&j);
    } else if (j.node || j.domain || j.resource) {
        abort(); /* a failed parse leaves *out empty */
    }
    (void)jid_node_valid(s);
    (void)jid_domain_valid(s);
    (void)jid_resource_valid(s);
    check_fold(s);
    g_free(s);
    return 0;
}
