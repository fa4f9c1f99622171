/* jid: splitting and validating JIDs (RFC 7622) as far as the component
 * needs: parts present, lengths, forbidden characters, valid UTF-8. */
#ifndef IMGROUPS_JID_H
#define IMGROUPS_JID_H

#include <glib.h>

/* A parsed JID; every part owned by the struct, node and resource may be
 * NULL. The domain is lower-cased (domains compare case-insensitively). */
typedef struct jid {
    char *node;
    char *domain;
    char *resource;
} jid;

/* Parses s into *out (cleared first). Returns 0, or -1 for a malformed JID,
 * leaving *out empty. Free with jid_clear(). */
int jid_parse(const char *s, jid *out);
void jid_clear(jid *j);

/* Each part alone: 1..1023 bytes of valid UTF-8 without control characters;
 * a localpart also without any of "&'/:<>@ or spaces; a domain without @ /
 * or spaces and no empty label. */
gboolean jid_node_valid(const char *s);
gboolean jid_domain_valid(const char *s);
gboolean jid_resource_valid(const char *s);

/* The form a localpart is compared and stored in: case-folded and NFKC
 * normalised, so that "Lobby" and "lobby" name one group. Newly allocated
 * (g_free); NULL if s is not valid UTF-8. */
char *jid_node_fold(const char *s);

/* Whether s, folded, takes at most max bytes: the store keys groups by
 * their folded name (schema/store.h STORE_GROUP_MAX). */
gboolean jid_node_fits(const char *s, gsize max);

/* "node@domain" or "domain"; newly allocated (g_free). */
char *jid_bare(const jid *j);

/* The one form a bare JID is compared and stored in (the service admins,
 * affiliations, occupants' real JIDs, ad-hoc requesters): localpart folded
 * (jid_node_fold), domain lower-cased, no resource. jid_bare_folded takes
 * a parsed JID, jid_bare_fold a string. Newly allocated (g_free); NULL
 * when s is not a JID or its localpart not valid UTF-8. */
char *jid_bare_folded(const jid *j);
char *jid_bare_fold(const char *s);

#endif
