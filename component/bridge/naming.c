/* naming: what legacy people are called in a room: the default nick from an
 * alias or a handle, and a unique one when it is taken (bridge_int.h). */
#include "naming.h"

#include <string.h>

#include "bounds.h"
#include "nick.h"

const char *naming_network(const char *protocol)
{
    static const struct {
        const char *prpl, *name;
    } names[] = {
        {"prpl-jabber", "xmpp"},
        {"prpl-imgroups-msn", "msn"},
        {"prpl-imgroups-yahoo", "yahoo"},
    };
    const char *dash;

    for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
        if (!strcmp(protocol, names[i].prpl))
            return names[i].name;
    dash = strrchr(protocol, '-');
    return dash && dash[1] ? dash + 1 : protocol;
}

char *naming_base(const char *alias, const char *handle)
{
    const char *src = alias && *alias ? alias : handle;
    char *s, *at;
    GString *out = g_string_new(NULL);

    s = g_utf8_make_valid(src, -1);
    /* a handle like bob@example.org stays private */
    if (!(alias && *alias) && (at = strchr(s, '@')) && at != s)
        *at = '\0';
    for (const char *p = s;
         *p && g_utf8_strlen(out->str, -1) < NAMING_NICK_MAX_CHARS;
         p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        g_string_append_unichar(out, g_unichar_iscntrl(c) ? ' ' : c);
    }
    g_free(s);
    /* RFC 8266 as for every nick (nick.h); room left for a suffix. */
    s = nick_clean(out->str, BOUND_NICK_BYTES - 32);
    g_string_free(out, TRUE);
    return s ? s : g_strdup("guest");
}

char *naming_unique(const char *base, const char *network,
                    naming_free_fn is_free, void *userdata)
{
    if (is_free(base, userdata))
        return g_strdup(base);
    for (int i = 1; i < 100; i++) {
        char *n = i == 1 ? g_strdup_printf("%s (%s)", base, network)
                         : g_strdup_printf("%s (%s %d)", base, network, i);
        if (is_free(n, userdata))
            return n;
        g_free(n);
    }
    return g_strdup_printf("%s (%s %08x)", base, network, g_random_int());
}

typedef struct in_group {
    bridge *b;
    const bacct *a;
    const char *bare;
} in_group;

static gboolean free_in_group(const char *nick, void *userdata)
{
    in_group *g = userdata;

    return muc_legacy_nick_free(g->b->m, g->a->group, nick, g->bare);
}

char *naming_unique_in(bridge *b, const bacct *a, const char *base,
                       const char *bare)
{
    in_group g = {b, a, bare};

    return naming_unique(base, naming_network(a->protocol), free_in_group, &g);
}
