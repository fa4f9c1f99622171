/* irc_reply: reading the server lines the delivery confirmation waits for
 * (irc_reply.h). */
#include "irc_reply.h"

#include <string.h>

/* The numerics that refuse a line to a target, RFC 2812 5.2. */
static const char *const refusals[] = {
    "401", /* ERR_NOSUCHNICK */
    "403", /* ERR_NOSUCHCHANNEL */
    "404", /* ERR_CANNOTSENDTOCHAN */
};

static gboolean is_refusal(const char *command)
{
    for (gsize i = 0; i < G_N_ELEMENTS(refusals); i++)
        if (strcmp(command, refusals[i]) == 0)
            return TRUE;
    return FALSE;
}

irc_reply_kind irc_reply_parse(const char *line, const char *token,
                               irc_reply *out)
{
    char **words, *trailing = NULL, *head;
    const char *colon;
    irc_reply_kind kind = IRC_REPLY_OTHER;
    guint n;

    memset(out, 0, sizeof *out);
    if (!line)
        return kind;
    if (*line == ':') {
        line = strchr(line, ' ');
        if (!line)
            return kind;
        line++;
    }
    colon = strstr(line, " :");
    head = colon ? g_strndup(line, (gsize)(colon - line)) : g_strdup(line);
    if (colon)
        trailing = g_strstrip(g_strdup(colon + 2));
    words = g_strsplit(g_strstrip(head), " ", -1);
    g_free(head);
    n = g_strv_length(words);
    if (n >= 1 && strcmp(words[0], "PONG") == 0) {
        const char *tok = trailing ? trailing : n >= 3 ? words[2] : "";

        if (g_str_has_prefix(tok, token)) {
            out->id = g_ascii_strtoull(tok + strlen(token), NULL, 10);
            kind = IRC_REPLY_PONG;
        }
    } else if (n >= 3 && is_refusal(words[0])) {
        out->target = g_strdup(words[2]);
        out->why = g_steal_pointer(&trailing);
        kind = IRC_REPLY_REFUSED;
    }
    g_strfreev(words);
    g_free(trailing);
    return kind;
}

void irc_reply_clear(irc_reply *r)
{
    g_free(r->target);
    g_free(r->why);
    memset(r, 0, sizeof *r);
}
