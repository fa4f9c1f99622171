/* registry: the legacy bot accounts the service runs — those of the
 * [account:NAME] sections and those admins added by command — their
 * records in LMDB, their state, and the hooks that start and stop them.
 *
 * Rules:
 * - An account from an [account:NAME] section is written into LMDB at start
 *   and on SIGHUP: the file wins for its settings and its password, but its
 *   enabled flag is kept from LMDB, so an admin's disable survives
 *   restarts. When its section goes from the file, it goes from LMDB too.
 * - Admins may only enable or disable such an account; changing or removing
 *   it is refused ("defined in FILE; edit the file and send SIGHUP").
 * - Accounts added by command live only in LMDB.
 * - Every operation is one store_write; hooks run only after it succeeded
 *   (inside a group-commit batch, that write is durable once the batch
 *   commits; a failed batch commit leaves the registry ahead of LMDB until
 *   the next start).
 * - A password is never logged, never kept by the registry (it is read from
 *   LMDB when an account starts and wiped after the call) and never returned
 *   by any function but accounts_password.
 *
 * States: an enabled account is "offline" until registry_start_all (or an
 * add, a change, an enable) makes it "starting"; the legacy side then
 * reports "online", "offline" or "quarantined" through registry_set_state.
 * With no hooks set (no legacy bridge), accounts stay "starting".
 *
 * Shards ([cluster] shards > 1, docs/cluster.md): an account runs on the
 * shard that owns its group (registry_group_shard). Every instance reads the
 * same file; each writes, creates the group of, and starts only the
 * accounts of its own shard. The others are known but "elsewhere": listed,
 * never written into this store, never started, and every admin operation
 * on them (or an add or change that would put one there) is refused with a
 * reason naming the shard that runs it. A record in this store whose group
 * another shard owns (a store from before sharding, not moved by
 * imgroups --reshard) is kept as it is, elsewhere too. */
#ifndef IMGROUPS_REGISTRY_H
#define IMGROUPS_REGISTRY_H

#include <glib.h>

#include "accounts.h"
#include "config.h"
#include "store.h"

/* Defaults of an account that does not say (schema/accounts.md). */
#define REGISTRY_PACE_BURST 5
#define REGISTRY_PACE_RATE  1.0

enum registry_state {
    REGISTRY_DISABLED,
    REGISTRY_STARTING,
    REGISTRY_ONLINE,
    REGISTRY_OFFLINE,
    REGISTRY_QUARANTINED,
    REGISTRY_ELSEWHERE, /* its group is another shard's: it runs there */
};

/* "disabled", "starting", "online", "offline", "quarantined", "elsewhere";
 * static. */
const char *registry_state_name(enum registry_state s);

typedef struct registry_account {
    account_rec *rec;     /* owned */
    gboolean from_config; /* defined by an [account:NAME] section */
    enum registry_state state;
    char *last_error;      /* NULL or the last reason it went down */
    gint64 state_since_us; /* real time */
    guint shard;           /* the shard that owns its group (0 unsharded) */
} registry_account;

/* The shard that runs an account serving group (as configured or typed:
 * folded here as rooms are, jid_node_fold): the one that owns the room
 * group@[component] jid among [cluster] shards. 0 with one shard. */
guint registry_group_shard(const config *cfg, const char *group);

/* What the admins' listing says of ra's state: its state's name, or
 * "elsewhere (shard K)". Caller g_frees. */
char *registry_state_text(const registry_account *ra);

typedef struct registry_hooks {
    /* Run this account (new, changed, enabled, reloaded with changes, or
     * un-quarantined by an enable). a and password are borrowed for the
     * call. The implementation stops any running worker of that name
     * first. */
    void (*start)(const account_rec *a, const char *password, void *userdata);
    /* Stop it (disabled or removed). name borrowed for the call. */
    void (*stop)(const char *name, void *userdata);
    /* An owner adds a legacy member (group, account, handle; borrowed).
     * Returns 0, or -1 with *why set to a g_strdup'ed reason (the caller
     * g_frees it) for the command's error note. */
    int (*member_add)(const char *group, const char *account,
                      const char *handle, char **why, void *userdata);
    /* A service admin's announcement (text borrowed): queued as a bot
     * notice for every legacy member and bridged chat of every enabled
     * account, delivered paced. Returns 0 with *reached (how many
     * targets), or -1. */
    int (*announce)(const char *text, guint *reached, void *userdata);
    /* Deliveries the workers confirmed in the last minute. */
    guint (*delivered)(void *userdata);
} registry_hooks;

typedef struct registry registry;

/* Loads the accounts: writes those of cfg's [account:NAME] sections into
 * st (creating their groups if missing), drops the records of sections
 * that are gone, then reads every account of st. Starts nothing. cfg is
 * borrowed for the call (the registry keeps copies); st is borrowed and
 * must outlive the registry. Caller owns *out (registry_free). Returns 0,
 * or -1 with *err set when the store cannot be written or read. */
int registry_new(const config *cfg, store *st, registry **out, GError **err);

/* Sets (hooks NULL: clears) the hooks; *hooks is copied, userdata
 * borrowed until registry_free or the next call. */
void registry_set_hooks(registry *r, const registry_hooks *hooks,
                        void *userdata);

/* Frees r (NULL is allowed); stops nothing. */
void registry_free(registry *r);

/* Calls start for every enabled account of this shard (state
 * "starting"). */
void registry_start_all(registry *r);

/* SIGHUP: fresh is a newly read configuration (borrowed for the call).
 * Accounts added to the file are written and started, changed ones
 * (settings or password) written and restarted, removed ones deleted and
 * stopped; unchanged ones are left alone. Returns 0, or -1 (logged) when
 * the store refused: then nothing changed. */
int registry_reload(registry *r, const config *fresh);

/* The account named name, or NULL; borrowed until the next call that
 * changes the registry. */
registry_account *registry_get(registry *r, const char *name);

/* Calls fn for every account in name (byte) order; fn must not change the
 * registry. */
void registry_foreach(registry *r, void (*fn)(registry_account *a, void *ud),
                      void *ud);

/* The legacy side reports a state; error (borrowed) NULL keeps last_error.
 * Ignored for an unknown name, and for a disabled account unless s is
 * REGISTRY_DISABLED (a worker being stopped may still report "offline"). */
void registry_set_state(registry *r, const char *name, enum registry_state s,
                        const char *error);

/* Admin operations (adhoc.c). Each returns 0, or -1 with *why set to a
 * reason for the admin (g_free). a and password borrowed for the call.
 * registry_add: a new account (a->enabled is honoured, a->from_config
 * ignored); registry_change: an existing one that is not from the file
 * (password NULL keeps the stored one; enabled is kept); a->group is folded
 * and the group created if missing. Validation: name [a-z0-9._-]{1,64}
 * (add), protocol and username non-empty, group a valid room localpart,
 * mode contacts|chat, chat given iff mode is chat, pace_burst >= 1,
 * pace_rate > 0. */
int registry_add(registry *r, const account_rec *a, const char *password,
                 char **why);
int registry_change(registry *r, const account_rec *a, const char *password,
                    char **why);
/* Enables (on: starts it; also restarts a quarantined one) or disables
 * (stops it) any account, from the file or not. Enabling an enabled
 * account that is not quarantined changes nothing. */
int registry_enable(registry *r, const char *name, gboolean on, char **why);
/* Removes an account that is not from the file: record, password, state;
 * stops it. */
int registry_remove(registry *r, const char *name, char **why);

/* Checks a without writing anything (what add and change check; for_add
 * also checks the name). Returns 0, or -1 with *why (g_free). */
int registry_validate(const account_rec *a, gboolean for_add, char **why);

/* An owner's "add a legacy member" through the member_add hook. Returns 0,
 * or -1 with *why (g_free): "legacy bridge not running" when no hook is
 * set. Strings borrowed for the call. */
int registry_member_add(registry *r, const char *group, const char *account,
                        const char *handle, char **why);

/* Through the announce and delivered hooks (adhoc.c's statistics and
 * announcement): -1 and 0 when no bridge runs. */
int registry_announce(registry *r, const char *text, guint *reached);
guint registry_delivered(registry *r);

#endif
