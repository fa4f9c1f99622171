/* legacy: the libpurple workers — one imgroups-purple process per bot
 * account, spawned over a socketpair, spoken to in the frames of
 * transports/protocol.h, restarted with backoff when it dies and
 * quarantined when it keeps dying. A worker's death costs its account a
 * reconnect, never the XMPP link or a room. */
#ifndef IMGROUPS_LEGACY_H
#define IMGROUPS_LEGACY_H

#include <glib.h>

#include "config.h"
#include "protocol.h"

typedef struct legacy legacy;

typedef struct legacy_events {
    /* Runs fn(data) as one turn of the core (store batch around it; the
     * bridge passes uplink_run_turn). Every message below is delivered
     * inside such a turn, as many as one read brought. */
    void (*turn)(void (*fn)(void *), void *data, void *userdata);
    /* A message from account's worker; body borrowed for the call. */
    void (*message)(const char *account, enum proto_type t, GVariant *body,
                    void *userdata);
    /* account's worker is gone and was not asked to go: why says how
     * ("killed by signal 9"); quarantined: it will not be restarted until
     * started again (too many crashes, or the worker cannot be run). */
    void (*lost)(const char *account, const char *why, gboolean quarantined,
                 void *userdata);
} legacy_events;

/* cfg ([legacy], storage path) is borrowed and outlives the supervisor;
 * events are copied. */
legacy *legacy_new(const config *cfg, const legacy_events *events,
                   void *userdata);
/* Stops every worker (SIGTERM) and frees the supervisor. */
void legacy_free(legacy *lg);

/* Runs a worker for account name with these settings (strings and options
 * copied; the password is kept in memory only, for restarts). A worker
 * already running for name is stopped first and the new one starts once it
 * has exited. Clears a quarantine. */
void legacy_start(legacy *lg, const char *name, const char *protocol,
                  const char *username, const char *password,
                  GHashTable *options);
/* Stops account name's worker (SIGTERM; SIGKILL after 5 s); no restart. */
void legacy_stop(legacy *lg, const char *name);

/* Queues a message for account's worker (body consumed if floating).
 * Returns 0, or -1 when no worker runs for it (the message is dropped). */
int legacy_send(legacy *lg, const char *account, enum proto_type t,
                GVariant *body);

/* The worker program that would be run (for logs and errors). */
const char *legacy_worker_path(const legacy *lg);

#endif
