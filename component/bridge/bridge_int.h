/* bridge_int: what the bridge's modules share (bridge.c, contacts.c,
 * chat.c, commands.c, delivery.c, naming.c): the bridge, its running bot
 * accounts, and the calls between them. Not for code outside bridge/. */
#ifndef IMGROUPS_BRIDGE_INT_H
#define IMGROUPS_BRIDGE_INT_H

#include "bridge.h"

#include "archive.h"
#include "bucket.h"
#include "legacy.h"
#include "members.h"
#include "ratecount.h"
#include "xerr.h"

/* One running bot account. */
typedef struct bacct {
    bridge *b; /* back to the bridge, for timers */
    char *name;
    char *protocol;
    char *group;
    gboolean chat_mode;
    char *chat; /* chat mode: the legacy chat */
    guint burst;
    double rate;
    gboolean up;          /* signed on (account_up seen) */
    gboolean chat_in;     /* chat mode: the bot is in the chat */
    GHashTable *online;   /* handle -> show (char *: "" available) */
    GHashTable *dirty;    /* target key ("i"handle / "c"chat) -> itself */
    GHashTable *sent;     /* target key -> last handed out (delivery.c) */
    GHashTable *inflight; /* guint64 * id -> flight * */
    GHashTable *in_chat;  /* chat nick -> bare JID of its occupant */
    GHashTable *entered;  /* member occupant's bare JID -> handle */
    bucket pace;          /* burst at once, then rate per second */
    guint rejoin_id;
    struct cues *cues; /* typing and buzzes (cues.c), owned */
    GHashTable *chat_photos; /* chat occupant's bare JID -> SHA-1 shown */
} bacct;

struct bridge {
    const config *cfg;
    store *st;
    muc *m;
    registry *reg;
    legacy *lg;
    uplink *up;
    GHashTable *accts; /* name -> bacct * (owned) */
    guint pump_id;
    GQueue jobs; /* archive_job * erasures waiting to run */
    guint jobs_id;
    gboolean stopping;   /* bridge_shutdown was called */
    ratecount delivered; /* deliveries confirmed (the statistics) */
};

/* A worker event's handler (bridge.c's table by proto type); body is
 * borrowed for the call. */
typedef void (*bridge_event_fn)(bridge *b, bacct *a, GVariant *body);

/* ---- bridge.c: helpers every part uses ---- */

/* The made-up JID of member handle of a (g_free). */
char *bridge_member_jid(bridge *b, const bacct *a, const char *handle);
/* Runs fn in one write transaction; logs and returns FALSE on failure
 * (what names the write in the log line). */
gboolean bridge_write(bridge *b, store_write_fn fn, void *data,
                      const char *what);
/* Writes member m (borrowed). */
gboolean bridge_put_member(bridge *b, const member_rec *m);
/* The member of account with handle (member_rec_free), or NULL. */
member_rec *bridge_member_load(bridge *b, const char *account,
                               const char *handle);
/* TRUE if handle fits a store key (else logged at debug and ignored). */
gboolean bridge_handle_fits(const bacct *a, const char *handle);
/* The legacy handle or chat target key: kind then target (g_free). */
char *bridge_target_key(char kind, const char *target);
/* Calls fn for each running account serving group. */
void bridge_each_of_group(bridge *b, const char *group,
                          void (*fn)(bridge *b, bacct *a, void *data),
                          void *data);
/* Queues an erasure job and runs it in the background. */
void bridge_erase_later(bridge *b, archive_job *job);

#endif
