/* text: the worker's text conversions between libpurple's HTML-ish markup and
 * the plain UTF-8 text of the core–worker protocol, and message splitting.
 * Depends on GLib and libpurple's util.h (markup stripping) only: no
 * libpurple core state is needed. */
#ifndef IMGROUPS_TEXT_H
#define IMGROUPS_TEXT_H

#include <glib.h>

/* Sanitises plain text: invalid UTF-8 repaired, "\r\n" and a lone "\r" made
 * "\n", control characters other than "\n" and "\t" removed, trailing
 * whitespace trimmed. text may be NULL (→ ""). Returns a new string (caller
 * g_free()s). */
char *text_sanitize(const char *text);

/* libpurple markup as received (IMs, chat messages) to plain text: tags
 * stripped, <br> as "\n", entities unescaped, then text_sanitize(). markup may
 * be NULL. Returns a new string (caller g_free()s). */
char *text_from_legacy(const char *markup);

/* Plain text to what libpurple's send functions expect: text_sanitize(),
 * then every '<', '>', '&', '\'' and '"' escaped (so markup typed by a user
 * arrives literally) and "\n" as "<br>", which libpurple's IRC and XMPP
 * plugins turn back into line breaks (IRC: one PRIVMSG per line). Returns a
 * new string (caller g_free()s). */
char *text_to_legacy(const char *plain);

/* The byte length text_to_legacy() gives plain (already sanitised). */
gsize text_legacy_size(const char *plain);

/* Cuts sanitised plain text into pieces whose text_to_legacy() form is at
 * most max_bytes bytes each: at the last whitespace in range when there is
 * one (that whitespace character is dropped), else at the last UTF-8
 * character boundary in range; never inside a character. max_bytes 0 means
 * no limit. "" gives no pieces. Returns a NULL-terminated array (caller
 * g_strfreev()s). */
char **text_split(const char *plain, gsize max_bytes);

/* The split limit for a libpurple protocol id, in bytes of the sent form:
 * from one static table, 0 for no splitting, a default for ids it does not
 * name. */
gsize text_limit(const char *protocol_id);

#endif
