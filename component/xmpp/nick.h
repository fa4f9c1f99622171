/* nick: occupant nicknames per RFC 8266 (the PRECIS Nickname profile): the
 * form shown and the form compared. Room code compares nicks only through
 * nick_key. */
#ifndef IMGROUPS_NICK_H
#define IMGROUPS_NICK_H

#include <glib.h>

/* The nick as displayed: fullwidth and halfwidth forms mapped to their
 * decomposition, every space (Unicode Zs) mapped to U+0020, spaces at the
 * ends removed and interior runs collapsed to one (RFC 8266 §2.1, the
 * additional mapping rule), then NFC. Refused (returns -1, *why a static
 * text naming the reason, *out NULL): invalid UTF-8, control characters,
 * bidi controls, default-ignorable code points (zero-width characters,
 * soft hyphen, fillers, variation selectors, BOM, tag characters...),
 * unassigned, private-use and noncharacter code points, old Hangul jamo,
 * nothing left after preparation, more than BOUND_NICK_BYTES. On success
 * returns 0 and *out (g_free). */
int nick_prepare(const char *in, char **out, const char **why);

/* The comparison form (RFC 8266 §2.4): nick_prepare's checks, then the
 * additional mapping rule, toLowerCase and NFKC, repeated until stable
 * (refused if it does not settle after three more rounds, as §5 advises).
 * Two nicks clash when their keys are equal. Same contract as
 * nick_prepare. */
int nick_key(const char *in, char **out, const char **why);

/* For names that come from elsewhere (a legacy network's alias): in with
 * the code points nick_prepare refuses dropped (control characters become
 * spaces), cut to max bytes at a character boundary, then prepared.
 * Newly allocated (g_free); NULL if nothing is left. */
char *nick_clean(const char *in, gsize max);

#endif
