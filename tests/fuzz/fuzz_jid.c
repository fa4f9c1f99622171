/* fuzz_jid: libFuzzer target for JID splitting and validation
 * (component/jid.c) and nicks (component/nick.c, RFC 8266): the input, as
 * a C string, is parsed as a JID and checked against each part validator
 * and the localpart folding; what parses must obey the validators and
 * survive a round trip. As a nick, what is accepted is bounded, trimmed,
 * its own preparation, and has a key that is its own key and the key of
 * the nick as shown. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "bounds.h"
#include "jid.h"
#include "nick.h"

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

/* Either 0 and a string, or -1, no string and a reason. */
static char *nick_checked(int (*fn)(const char *, char **, const char **),
                          const char *s)
{
    char *out = (char *)"unset";
    const char *why = NULL;
    int rc = fn(s, &out, &why);

    if (rc == 0 ? !out || !g_utf8_validate(out, -1, NULL)
                : rc != -1 || out || !why)
        abort();
    return out;
}

static void check_nick(const char *s)
{
    char *shown = nick_checked(nick_prepare, s);
    char *key = nick_checked(nick_key, s);
    char *again;

    /* nick_key makes nick_prepare's checks first. */
    if (!shown) {
        if (key)
            abort();
        return;
    }
    /* RFC 8266 §2.1: nothing left is refused; the ends are trimmed and
     * interior runs of spaces are one space. */
    if (!*shown || strlen(shown) > BOUND_NICK_BYTES || shown[0] == ' ' ||
        shown[strlen(shown) - 1] == ' ' || strstr(shown, "  "))
        abort();
    again = nick_checked(nick_prepare, shown);
    if (!again || strcmp(again, shown) != 0)
        abort();
    g_free(again);
    /* A key is stable, and the nick as shown has the same key: a
     * look-alike of a present nick is caught whichever form is compared. */
    if (key) {
        again = nick_checked(nick_key, key);
        if (!again || strcmp(again, key) != 0)
            abort();
        g_free(again);
        again = nick_checked(nick_key, shown);
        if (!again || strcmp(again, key) != 0)
            abort();
        g_free(again);
    }
    g_free(key);
    g_free(shown);
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
    check_nick(s);
    g_free(s);
    return 0;
}
