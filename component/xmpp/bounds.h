/* bounds: the most imgroups keeps or re-sends of each string a client
 * gives it, in bytes of UTF-8 before escaping. Checked where the string
 * enters (STYLE: bound on input, not on output); a stanza carrying more is
 * refused with a text naming the field, except reasons, which are cut at a
 * character boundary (a reason is commentary on an action the sender did
 * mean to take, so the action still happens).
 *
 * Escaping multiplies at most by six ('"' -> "&quot;"), so the largest
 * stanza built from these stays far below [component] stanza_limit; lists
 * that gather many stored strings (the outcast list with reasons) are
 * measured as they are built instead. */
#ifndef IMGROUPS_BOUNDS_H
#define IMGROUPS_BOUNDS_H

#define BOUND_NICK_BYTES     128  /* a nick after RFC 8266 preparation */
#define BOUND_STATUS_BYTES   1024 /* presence <status/> */
#define BOUND_ID_BYTES       128  /* origin-id, kept and reused as an id */
#define BOUND_REASON_BYTES   1024 /* kick, ban, role, invite, decline */
#define BOUND_SUBJECT_BYTES  4096 /* a room subject */
#define BOUND_FORM_BYTES     1024 /* a text field of the room config form */
#define BOUND_PASSWORD_BYTES 256  /* a room password, set or offered */
#define BOUND_CAPS_BYTES     256  /* each attribute of XEP-0115 <c/> */
#define BOUND_PHOTO_BYTES    128  /* vcard-temp:x:update <photo/> hash */

/* Pending invitations (XEP-0045 §7.8.2) remembered per room so that only
 * an invitee's decline is relayed: at most this many, each for this
 * long. */
#define BOUND_INVITES_PER_ROOM 256
#define BOUND_INVITE_TTL_S     (24 * 3600)

/* Rate buckets kept per room for users who left (so leave and rejoin
 * does not refill them): at most this many; a full bucket is dropped
 * first. */
#define BOUND_BUCKETS_PER_ROOM 4096
/* The same for the join buckets of the whole service. */
#define BOUND_JOIN_BUCKETS 65536

/* What a reply carries besides its items (envelope, namespaces, error
 * text), reserved when a list is sized against stanza_limit. */
#define BOUND_ENVELOPE_BYTES 1024

#endif
