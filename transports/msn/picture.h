/* picture: display pictures over MSNSLP (p2p.h, msnobj.h). A contact's MSN
 * object in ILN/NLN is fetched from them over a switchboard (INVITE with
 * the display picture's EUF-GUID, 200 OK, the data in P2P messages, BYE),
 * checked against its SHA1D and handed to libpurple with
 * purple_buddy_icons_set_for_user(), whose checksum is the SHA1D: the same
 * one again is not fetched. The bot's own picture (set_buddy_icon) gets an
 * MSN object, sent in CHG, and is served to whoever asks for it. Every
 * size is bounded: MSNOBJ_PICTURE_MAX bytes a picture, P2P_SLP_MAX an
 * MSNSLP message, PICTURE_FETCHES fetches at once. */
#ifndef PICTURE_H
#define PICTURE_H

#include "msn.h"

/* Fetches running at once; more wait their turn. */
#define PICTURE_FETCHES 4
/* A fetch not done in this many seconds is given up. */
#define PICTURE_SECONDS 60

/* email's MSN object as ILN/NLN carry it (URL-encoded; may be NULL or
 * "0"): fetched if it is a display picture libpurple does not have. */
void picture_seen(msn_session *s, const char *email, const char *encoded);

/* A P2P message from `from` (the MSG's body after its MIME headers, len
 * bytes; dest: its P2P-Dest header, or NULL). */
void picture_p2p_in(msn_session *s, const char *from, const char *dest,
                    const char *body, gsize len);

/* The bot's picture (len bytes, copied; len 0: none): its MSN object goes
 * in the next CHG (sent at once when online). */
void picture_set_mine(msn_session *s, const guchar *data, gsize len);

/* The bot's MSN object for CHG, URL-encoded, or NULL when it has none.
 * Borrowed from s. */
const char *picture_mine_encoded(msn_session *s);

/* Drops every fetch and the bot's picture (the session closes). */
void picture_free(msn_session *s);

#endif
