/* delivery: what happens to a message after libpurple takes it. It is sent
 * in pieces (text_split), then followed by one confirmer until the network
 * has it, and only then reported delivered to the core and written to the
 * delivery journal (<user dir>/delivered), which a later worker reports
 * again (the core may have died before storing the report).
 *
 * A confirmer is one way of knowing the network took a message: IRC's
 * PING/PONG behind the lines (pingpong.c), the project's plugins' marks
 * (marks.c, transports/imgroups_prpl.h), or, for any other plugin, the next
 * idle turn once the plugin has written it (plain.c). They are tried in
 * that order; the first that starts for the account's plugin and tracks
 * the message owns it. */
#ifndef IMGROUPS_DELIVERY_H
#define IMGROUPS_DELIVERY_H

#include <glib.h>

#include <purple.h>

typedef struct bot bot;

typedef struct delivery_confirmer {
    const char *name;
    /* Hooks into prpl if this way applies to it: returns its state (freed
     * by stop), or NULL when it does not apply. Reports go through
     * delivery_settled() and delivery_failed() on b. */
    void *(*start)(bot *b, PurplePlugin *prpl);
    /* Follows message id, just handed to libpurple for target (the handle
     * of an IM when im, else the chat's conversation name). Returns 0, or
     * a negative value when this way cannot follow it (the next way is
     * asked). */
    int (*track)(void *st, PurpleConnection *gc, guint64 id, const char *target,
                 gboolean im);
    /* The connection is gone, and with it whatever it held: those messages
     * go unreported (the core sends them again when the account is back).
     * May be NULL. */
    void (*on_down)(void *st);
    /* How many messages wait for the network. */
    guint (*pending)(void *st);
    /* Drops everything without reporting (at exit, after libpurple is
     * gone: no libpurple calls) and frees st. */
    void (*stop)(void *st);
} delivery_confirmer;

/* The ways, in the order they are tried. */
#define DELIVERY_WAYS 3

typedef struct delivery_state {
    void *way[DELIVERY_WAYS]; /* each confirmer's state, NULL if not started */
    int journal_fd;           /* -1: not open */
    guint journal_lines;
    GQueue journal_recent; /* guint64 *, the last JOURNAL_KEEP ids */
} delivery_state;

void delivery_init(bot *b);

/* At account_add: every id in the journal of an earlier run reported again,
 * then a new journal started. */
void delivery_replay(bot *b);

/* Starts the confirmers that apply to the account's plugin. */
void delivery_start(bot *b, PurplePlugin *prpl);

/* Sends text to the network in pieces through send_piece(gc, target,
 * piece), then has the message followed (confirm_to: the handle or
 * conversation name the network answers about). what and name are for the
 * log line only. A failed send is reported failed at once. */
typedef int (*delivery_piece_fn)(PurpleConnection *gc, const void *target,
                                 const char *legacy);
void delivery_send(bot *b, PurpleConnection *gc, guint64 id, const char *what,
                   const char *name, const char *text,
                   delivery_piece_fn send_piece, const void *target,
                   const char *confirm_to, gboolean im);

/* The network has message id: journal, then delivered. */
void delivery_settled(bot *b, guint64 id);
/* Message id did not reach the network: failed, with why. */
void delivery_failed(bot *b, guint64 id, const char *why);

/* The connection is gone. */
void delivery_on_down(bot *b);

/* Whether any message waits for the network's confirmation. */
gboolean delivery_unsettled(bot *b);

/* Stops every confirmer (no reports) and closes the journal. */
void delivery_free(bot *b);

#endif
