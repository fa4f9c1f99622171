/* cues: what is not said but shown, between a bot's members and the room.
 * A member's typing becomes XEP-0085 chat states from their occupant,
 * their buzz (MSN nudge, Yahoo buzz, XEP-0224) an attention (one per member
 * per minute), and so do a chat-mode bot's chat participants'; the XMPP
 * occupants' chat states become a contacts-mode bot's typing to the online,
 * unmuted members, paced: one update per account every CUES_PACE_US at
 * most, whatever the number of typists (libpurple 2 cannot type in a chat:
 * chat-mode bots show none). */
#ifndef IMGROUPS_CUES_H
#define IMGROUPS_CUES_H

#include "bridge_int.h"

/* The least time between two typing updates of one bot (µs). */
#define CUES_PACE_US ((gint64)5 * G_USEC_PER_SEC)
/* A typist not heard from for this long has stopped (µs): a client that
 * left or crashed while composing (XEP-0085 §5.2 lets composing lapse to
 * paused after 30 seconds). */
#define CUES_STALE_US ((gint64)30 * G_USEC_PER_SEC)
/* Buzzes: one per member per this many seconds. */
#define CUES_BUZZ_SECONDS 60
/* Handles in one send_typing message. */
#define CUES_BATCH 256

/* ---- the pacing, on its own (times passed in: tests/test_bridge_cues.c) */

/* The group's typing as a bot shows it: the state last sent and when, and
 * who is typing. Zeroed, then cues_pace_init. */
typedef struct cues_pace {
    int sent;        /* CUES_ACTIVE, CUES_PAUSED, CUES_COMPOSING */
    gint64 sent_at;  /* monotonic µs of the last update, 0 never */
    GHashTable *who; /* typist's bare JID -> struct typist (owned) */
} cues_pace;

enum { CUES_ACTIVE, CUES_PAUSED, CUES_COMPOSING };

void cues_pace_init(cues_pace *p);
void cues_pace_clear(cues_pace *p);
/* bare is now in state (an XEP-0085 element name; inactive and gone are
 * active, anything else is ignored) at now. */
void cues_pace_note(cues_pace *p, const char *bare, const char *state,
                    gint64 now);
/* Whether an update is due at now: TRUE with *state (what to send; then
 * call cues_pace_sent), or FALSE with *next: when to ask again (monotonic
 * µs), 0 when nothing will change by itself. A change is due at once, or
 * CUES_PACE_US after the last update; composing is due again every
 * CUES_PACE_US while it lasts. */
gboolean cues_pace_due(cues_pace *p, gint64 now, int *state, gint64 *next);
void cues_pace_sent(cues_pace *p, int state, gint64 now);
/* The state's name in the worker protocol. */
const char *cues_state_name(int state);

/* ---- the bridge's side ---- */

/* One bot's cues (bacct.cues): created with the account, freed with it. */
struct cues *cues_new(bacct *a);
void cues_free(struct cues *c);

/* Worker events: typing (account, handle, state), attention (account,
 * handle). */
void cues_on_typing(bridge *b, bacct *a, GVariant *body);
void cues_on_attention(bridge *b, bacct *a, GVariant *body);
/* The same from a chat-mode bot's chat: chat_typing (account, chat, nick,
 * state), chat_attention (account, chat, nick); a participant who is not
 * an occupant is ignored. */
void cues_on_chat_typing(bridge *b, bacct *a, GVariant *body);
void cues_on_chat_attention(bridge *b, bacct *a, GVariant *body);

/* The muc hook: an XMPP occupant of group is in state. */
void cues_room_typing(const char *group, const char *bare, const char *state,
                      void *userdata);

#endif
