/* avatar: a room's avatar (XEP-0054 vcard-temp on the room's bare JID, as
 * Prosody's mod_vcard_muc does it, with XEP-0153 hashes in the room's
 * presence and XEP-0486's muc#roominfo_avatarhash in its disco#info);
 * kept in schema/avatars. */
#ifndef IMGROUPS_AVATAR_H
#define IMGROUPS_AVATAR_H

#include "avatars.h"
#include "muc_int.h"

#define NS_VCARD        "vcard-temp"
#define NS_VCARD_UPDATE "vcard-temp:x:update"

/* iq_fns (iq.h) on a room (q->data a muc_call). get: the vCard with the
 * room's PHOTO, to anyone; item-not-found when it has none (as Prosody).
 * set: an owner's PHOTO (TYPE, BINVAL) becomes the room's avatar, a vCard
 * without one removes it; anyone else gets forbidden. */
enum xerr avatar_get(const iq_req *q, iq_res *res);
enum xerr avatar_set(const iq_req *q, iq_res *res);
/* iq_fn on an occupant JID: the vCard with a legacy occupant's picture
 * (PHOTO: TYPE, BINVAL), item-not-found when it has none;
 * service-unavailable for an XMPP occupant (not relayed). */
enum xerr avatar_occupant_get(const iq_req *q, iq_res *res);

/* The room's avatar hash into out; FALSE (out "") when it has none or the
 * store cannot say. */
gboolean avatar_hash(muc *m, const room *r, char out[AVATARS_HASH_LEN]);

/* XEP-0153 from the room: its presence with the avatar's hash to a session
 * that just joined (full), when the room has an avatar (Prosody's
 * mod_vcard_muc on muc-occupant-session-new). */
void avatar_tell_session(muc *m, uplink *up, const room *r, const char *full);

/* BINVAL text as XEP-0054 carries it (base64; whitespace between the
 * characters, as line breaks, allowed): the decoded bytes (g_free) and their
 * count, or NULL when it is not base64 or decodes to nothing. */
guchar *avatar_decode(const char *text, gsize *len);

#endif
