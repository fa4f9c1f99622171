/* registry: the bot accounts the service runs — loading them from the
 * configuration and LMDB, the admin operations, their states, and the
 * hooks that start and stop them (see registry.h for the rules). */
#include "registry.h"

#include <math.h>
#include <string.h>

#include "clock.h"
#include "groups.h"
#include "jid.h"
#include "log.h"
#include "secret.h"
#include "shard.h"

#define NAME_MAX_LEN  64
#define TEXT_MAX_LEN  1024

struct registry {
    store *st;
    char *config_path;    /* named in refusals to change file accounts */
    GTree *accounts;      /* name -> registry_account *, both owned */
    registry_hooks hooks; /* all NULL when none are set */
    void *hook_data;
    /* [cluster] as read at start (a change needs a restart) */
    guint shard, shards;
    char *domain; /* [component] jid */
};

static const char *const state_names[] = {
    [REGISTRY_DISABLED] = "disabled",       [REGISTRY_STARTING] = "starting",
    [REGISTRY_ONLINE] = "online",           [REGISTRY_OFFLINE] = "offline",
    [REGISTRY_QUARANTINED] = "quarantined", [REGISTRY_ELSEWHERE] = "elsewhere",
};

const char *registry_state_name(enum registry_state s)
{
    return (size_t)s < G_N_ELEMENTS(state_names) ? state_names[s] : "unknown";
}

static guint group_shard(const char *domain, guint shards, const char *group)
{
    char *folded = jid_node_fold(group);
    guint k = shard_of_parts(folded ? folded : group, domain, shards);

    g_free(folded);
    return k;
}

guint registry_group_shard(const config *cfg, const char *group)
{
    return group_shard(cfg->jid, cfg->shards, group);
}

char *registry_state_text(const registry_account *ra)
{
    if (ra->state == REGISTRY_ELSEWHERE)
        return g_strdup_printf("elsewhere (shard %u)", ra->shard);
    return g_strdup(registry_state_name(ra->state));
}

static gboolean is_here(const registry *r, const char *group)
{
    return group_shard(r->domain, r->shards, group) == r->shard;
}

/* The reason an admin operation on an account of group (or one that would
 * put it there) is refused on this shard. */
static char *elsewhere_refusal(const registry *r, const char *group)
{
    return g_strdup_printf(
        "group %s is served by shard %u of %u and its bot account runs "
        "there, not on this instance (shard %u); accounts for it are named "
        "in the configuration file every instance reads",
        group, group_shard(r->domain, r->shards, group), r->shards, r->shard);
}

static void account_free(gpointer p)
{
    registry_account *ra = p;

    account_rec_free(ra->rec);
    g_free(ra->last_error);
    g_free(ra);
}

static int name_cmp(gconstpointer a, gconstpointer b, gpointer unused)
{
    return strcmp(a, b);
}

static void set_state(registry_account *ra, enum registry_state s)
{
    if (ra->state != s)
        ra->state_since_us = clock_real();
    ra->state = s;
}

/* Takes rec (owned). Replaces any account of that name. */
static registry_account *put_account(registry *r, account_rec *rec)
{
    registry_account *ra = g_new0(registry_account, 1);

    ra->rec = rec;
    ra->from_config = rec->from_config;
    ra->shard = group_shard(r->domain, r->shards, rec->group);
    ra->state = ra->shard != r->shard ? REGISTRY_ELSEWHERE
                : rec->enabled        ? REGISTRY_OFFLINE
                                      : REGISTRY_DISABLED;
    ra->state_since_us = clock_real();
    g_tree_replace(r->accounts, g_strdup(rec->name), ra);
    return ra;
}

/* ---- starting and stopping ---- */

/* Marks ra starting and calls the start hook with its stored password. */
static void start_account(registry *r, registry_account *ra)
{
    MDB_txn *txn = NULL;
    GError *err = NULL;
    char *password = NULL;
    int rc;

    if (ra->state == REGISTRY_ELSEWHERE)
        return; /* another shard runs it */
    set_state(ra, REGISTRY_STARTING);
    if (!r->hooks.start)
        return;
    if (store_read_begin(r->st, &txn, &err) < 0) {
        log_for_account(LOG_CONFIG, LOG_ERROR, ra->rec->name,
                        "account %s: cannot start: %s", ra->rec->name,
                        err->message);
        g_error_free(err);
        goto failed;
    }
    rc = accounts_password(txn, r->st, ra->rec->name, &password);
    store_read_end(txn);
    if (rc != 0) {
        log_for_account(LOG_CONFIG, LOG_ERROR, ra->rec->name,
                        "account %s: cannot read its password: %s",
                        ra->rec->name, mdb_strerror(rc));
        goto failed;
    }
    r->hooks.start(ra->rec, password, r->hook_data);
    secret_free(password);
    return;
failed:
    set_state(ra, REGISTRY_OFFLINE);
    g_free(ra->last_error);
    ra->last_error = g_strdup("its password cannot be read from the store");
}

static void stop_account(registry *r, const char *name)
{
    if (r->hooks.stop)
        r->hooks.stop(name, r->hook_data);
}

/* ---- the configuration's accounts ---- */

/* An [account:NAME] section as a record; its group folded as every group
 * is keyed (schema/groups.md). */
static account_rec *rec_from_config(const config_account *ca)
{
    account_rec *a = g_new0(account_rec, 1);
    GHashTableIter it;
    gpointer k, v;

    a->name = g_strdup(ca->name);
    a->protocol = g_strdup(ca->protocol);
    a->username = g_strdup(ca->username);
    a->group = jid_node_fold(ca->group);
    if (!a->group)
        a->group = g_strdup(ca->group);
    a->mode = g_strdup(ca->mode == CONFIG_MODE_CHAT ? "chat" : "contacts");
    if (ca->mode == CONFIG_MODE_CHAT && ca->chat && *ca->chat)
        a->chat = g_strdup(ca->chat);
    a->options = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    if (ca->options) {
        g_hash_table_iter_init(&it, ca->options);
        while (g_hash_table_iter_next(&it, &k, &v))
            g_hash_table_insert(a->options, g_strdup(k), g_strdup(v ? v : ""));
    }
    a->enabled = TRUE;
    a->pace_burst = ca->pace_burst ? ca->pace_burst : REGISTRY_PACE_BURST;
    a->pace_rate = ca->pace_rate > 0 ? ca->pace_rate : REGISTRY_PACE_RATE;
    a->from_config = TRUE;
    return a;
}

static gboolean same_options(GHashTable *a, GHashTable *b)
{
    GHashTableIter it;
    gpointer k, v;

    if (g_hash_table_size(a) != g_hash_table_size(b))
        return FALSE;
    g_hash_table_iter_init(&it, a);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (g_strcmp0(v, g_hash_table_lookup(b, k)) != 0)
            return FALSE;
    return TRUE;
}

/* Do a and b run the same way (the enabled flag aside)? */
static gboolean same_settings(const account_rec *a, const account_rec *b)
{
    return !strcmp(a->protocol, b->protocol) &&
           !strcmp(a->username, b->username) && !strcmp(a->group, b->group) &&
           !strcmp(a->mode, b->mode) && !g_strcmp0(a->chat, b->chat) &&
           same_options(a->options, b->options) &&
           a->pace_burst == b->pace_burst && a->pace_rate == b->pace_rate &&
           a->from_config == b->from_config;
}

/* One write transaction that brings LMDB in line with the file: what the
 * sync found is in the out-fields. */
typedef struct sync_args {
    GPtrArray *recs;      /* account_rec * of the file (enabled set here) */
    GPtrArray *passwords; /* char *, same index; "" when none */
    GPtrArray *away;      /* account_rec * of the file another shard runs:
                             never written here */
    /* out */
    GPtrArray *changed; /* char * names written (new or different) */
    GPtrArray *removed; /* char * names whose section is gone */
    GPtrArray *all;     /* account_rec * of every account after the sync */
} sync_args;

static gboolean listed_rec(GPtrArray *recs, const char *name)
{
    for (guint i = 0; i < recs->len; i++) {
        const account_rec *a = g_ptr_array_index(recs, i);
        if (!strcmp(a->name, name))
            return TRUE;
    }
    return FALSE;
}

/* A record of the file's kept in this store while another shard runs the
 * account (a store from before sharding) is not "gone": it stays. */
static gboolean in_file(const sync_args *sa, const char *name)
{
    return listed_rec(sa->recs, name) || listed_rec(sa->away, name);
}

static int collect_gone(const account_rec *a, void *userdata)
{
    sync_args *sa = userdata;

    if (a->from_config && !in_file(sa, a->name))
        g_ptr_array_add(sa->removed, g_strdup(a->name));
    return 0;
}

static int collect_all(const account_rec *a, void *userdata)
{
    g_ptr_array_add(userdata, account_rec_copy(a));
    return 0;
}

static int sync_one(MDB_txn *txn, const store *st, sync_args *sa,
                    account_rec *rec, const char *password)
{
    account_rec *old = NULL;
    char *old_pw = NULL;
    gboolean changed;
    int rc;

    /* A record or secret this build cannot decode is written anew. */
    rc = accounts_get(txn, st, rec->name, &old);
    if (rc != 0 && rc != MDB_NOTFOUND && rc != MDB_CORRUPTED)
        return rc;
    if (old) {
        rc = accounts_password(txn, st, rec->name, &old_pw);
        if (rc != 0 && rc != MDB_CORRUPTED)
            goto leave;
    }
    /* An admin's disable survives: the flag is LMDB's. */
    rec->enabled = old ? old->enabled : TRUE;
    changed = !old || !old_pw || !same_settings(old, rec) ||
              strcmp(old_pw, password) != 0;
    rc = 0;
    if (changed) {
        g_ptr_array_add(sa->changed, g_strdup(rec->name));
        rc = accounts_put(txn, st, rec, password);
    }
    if (rc == 0)
        rc = groups_ensure(txn, st, rec->group, NULL);
leave:
    account_rec_free(old);
    secret_free(old_pw);
    return rc;
}

static int sync_txn(MDB_txn *txn, const store *st, void *userdata)
{
    sync_args *sa = userdata;
    int rc = 0;

    for (guint i = 0; rc == 0 && i < sa->recs->len; i++)
        rc = sync_one(txn, st, sa, g_ptr_array_index(sa->recs, i),
                      g_ptr_array_index(sa->passwords, i));
    if (rc == 0)
        rc = accounts_foreach(txn, st, collect_gone, sa);
    for (guint i = 0; rc == 0 && i < sa->removed->len; i++) {
        rc = accounts_delete(txn, st, g_ptr_array_index(sa->removed, i));
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    if (rc == 0)
        rc = accounts_foreach(txn, st, collect_all, sa->all);
    return rc;
}

/* The file's accounts: this shard's into recs, the others' into away. */
static void sync_init(sync_args *sa, const registry *r, const config *cfg)
{
    sa->recs = g_ptr_array_new_with_free_func((GDestroyNotify)account_rec_free);
    sa->passwords = g_ptr_array_new_with_free_func((GDestroyNotify)secret_free);
    sa->away = g_ptr_array_new_with_free_func((GDestroyNotify)account_rec_free);
    sa->changed = g_ptr_array_new_with_free_func(g_free);
    sa->removed = g_ptr_array_new_with_free_func(g_free);
    sa->all = g_ptr_array_new_with_free_func((GDestroyNotify)account_rec_free);
    for (guint i = 0; cfg->accounts && i < cfg->accounts->len; i++) {
        const config_account *ca = g_ptr_array_index(cfg->accounts, i);
        account_rec *a = rec_from_config(ca);
        if (!is_here(r, a->group)) {
            g_ptr_array_add(sa->away, a);
            continue;
        }
        g_ptr_array_add(sa->recs, a);
        g_ptr_array_add(sa->passwords,
                        g_strdup(ca->password ? ca->password : ""));
    }
}

static void sync_clear(sync_args *sa)
{
    g_ptr_array_unref(sa->recs);
    g_ptr_array_unref(sa->passwords);
    g_ptr_array_unref(sa->away);
    g_ptr_array_unref(sa->changed);
    g_ptr_array_unref(sa->removed);
    g_ptr_array_unref(sa->all);
}

static gboolean name_listed(GPtrArray *names, const char *name)
{
    for (guint i = 0; i < names->len; i++)
        if (!strcmp(g_ptr_array_index(names, i), name))
            return TRUE;
    return FALSE;
}

/* The file's accounts another shard runs, listed as it writes them (a
 * record of the same name in this store is shadowed, not changed). */
static void put_away(registry *r, sync_args *sa)
{
    for (guint i = 0; i < sa->away->len; i++)
        put_account(r, account_rec_copy(g_ptr_array_index(sa->away, i)));
}

int registry_new(const config *cfg, store *st, registry **out, GError **err)
{
    registry *r = g_new0(registry, 1);
    sync_args sa;
    int rc = -1;

    *out = NULL;
    r->st = st;
    r->config_path = g_strdup(cfg->path);
    r->accounts = g_tree_new_full(name_cmp, NULL, g_free, account_free);
    r->shard = cfg->shard;
    r->shards = MAX(cfg->shards, 1);
    r->domain = g_strdup(cfg->jid);
    sync_init(&sa, r, cfg);
    if (store_write(st, sync_txn, &sa, err) < 0)
        goto leave;
    for (guint i = 0; i < sa.removed->len; i++)
        log_info(LOG_CONFIG, "account %s: its section is gone from %s; removed",
                 (char *)g_ptr_array_index(sa.removed, i), cfg->path);
    for (guint i = 0; i < sa.all->len; i++) {
        account_rec *a = g_ptr_array_index(sa.all, i);
        g_ptr_array_index(sa.all, i) = NULL;
        if (put_account(r, a)->state == REGISTRY_ELSEWHERE &&
            !in_file(&sa, a->name)) {
            log_warning(LOG_CONFIG,
                        "account %s serves group %s, which shard %u runs: "
                        "not started here (imgroups --reshard moves it)",
                        a->name, a->group, registry_get(r, a->name)->shard);
            continue;
        }
        /* main.c already names the file's accounts at info */
        log_msg(LOG_CONFIG, a->from_config ? LOG_DEBUG : LOG_INFO,
                "account %s (%s%s) serves group %s%s", a->name, a->protocol,
                a->from_config ? ", from the file" : "", a->group,
                a->enabled ? "" : "; disabled");
    }
    put_away(r, &sa);
    *out = r;
    r = NULL;
    rc = 0;
leave:
    sync_clear(&sa);
    registry_free(r);
    return rc;
}

void registry_set_hooks(registry *r, const registry_hooks *hooks,
                        void *userdata)
{
    if (hooks)
        r->hooks = *hooks;
    else
        memset(&r->hooks, 0, sizeof(r->hooks));
    r->hook_data = userdata;
}

void registry_free(registry *r)
{
    if (!r)
        return;
    g_tree_destroy(r->accounts);
    g_free(r->config_path);
    g_free(r->domain);
    g_free(r);
}

static gboolean start_enabled(gpointer key, gpointer value, gpointer data)
{
    registry_account *ra = value;

    if (ra->rec->enabled)
        start_account(data, ra);
    return FALSE;
}

void registry_start_all(registry *r)
{
    g_tree_foreach(r->accounts, start_enabled, r);
}

static gboolean collect_stale(gpointer key, gpointer value, gpointer data)
{
    registry_account *ra = value;
    void **args = data; /* sync_args *, GPtrArray * of names */

    if (ra->from_config && ra->state == REGISTRY_ELSEWHERE &&
        !in_file(args[0], key))
        g_ptr_array_add(args[1], g_strdup(key));
    return FALSE;
}

/* After a reload's write: the file's accounts another shard runs are
 * listed as the file has them now, one whose group moved there stops
 * here, and one whose section is gone is no longer listed. */
static void reload_away(registry *r, sync_args *sa)
{
    GPtrArray *stale = g_ptr_array_new_with_free_func(g_free);
    void *args[2] = {sa, stale};

    for (guint i = 0; i < sa->away->len; i++) {
        const account_rec *a = g_ptr_array_index(sa->away, i);
        registry_account *ra = registry_get(r, a->name);
        if (ra && ra->state != REGISTRY_ELSEWHERE) {
            log_info(LOG_CONFIG,
                     "account %s: its group %s is now shard %u's; stopped "
                     "here",
                     a->name, a->group,
                     group_shard(r->domain, r->shards, a->group));
            if (ra->rec->enabled)
                stop_account(r, a->name);
        }
    }
    put_away(r, sa);
    g_tree_foreach(r->accounts, collect_stale, args);
    for (guint i = 0; i < stale->len; i++)
        g_tree_remove(r->accounts, g_ptr_array_index(stale, i));
    g_ptr_array_unref(stale);
}

int registry_reload(registry *r, const config *fresh)
{
    GError *err = NULL;
    sync_args sa;
    int rc = -1;

    sync_init(&sa, r, fresh);
    if (store_write(r->st, sync_txn, &sa, &err) < 0) {
        log_error(LOG_CONFIG, "reload: the accounts cannot be saved: %s",
                  err ? err->message : "?");
        g_clear_error(&err);
        goto leave;
    }
    g_free(r->config_path);
    r->config_path = g_strdup(fresh->path);
    for (guint i = 0; i < sa.removed->len; i++) {
        const char *name = g_ptr_array_index(sa.removed, i);
        registry_account *ra = registry_get(r, name);
        log_info(LOG_CONFIG,
                 "account %s: its section is gone; stopped and "
                 "removed",
                 name);
        if (!ra || ra->state != REGISTRY_ELSEWHERE)
            stop_account(r, name);
        g_tree_remove(r->accounts, name);
    }
    /* sa.all holds every account: take the changed ones from it. */
    for (guint i = 0; i < sa.all->len; i++) {
        account_rec *a = g_ptr_array_index(sa.all, i);
        registry_account *ra;
        gboolean known;
        if (!name_listed(sa.changed, a->name))
            continue;
        ra = registry_get(r, a->name);
        known = ra && ra->state != REGISTRY_ELSEWHERE;
        g_ptr_array_index(sa.all, i) = NULL;
        log_info(LOG_CONFIG, "account %s: %s in %s", a->name,
                 known ? "changed" : ra ? "now this shard's" : "new",
                 fresh->path);
        ra = put_account(r, a);
        if (a->enabled)
            start_account(r, ra);
    }
    reload_away(r, &sa);
    rc = 0;
leave:
    sync_clear(&sa);
    return rc;
}

registry_account *registry_get(registry *r, const char *name)
{
    return name ? g_tree_lookup(r->accounts, name) : NULL;
}

typedef struct foreach_args {
    void (*fn)(registry_account *a, void *ud);
    void *ud;
} foreach_args;

static gboolean foreach_one(gpointer key, gpointer value, gpointer data)
{
    foreach_args *fa = data;

    fa->fn(value, fa->ud);
    return FALSE;
}

void registry_foreach(registry *r, void (*fn)(registry_account *a, void *ud),
                      void *ud)
{
    foreach_args fa = {fn, ud};

    g_tree_foreach(r->accounts, foreach_one, &fa);
}

void registry_set_state(registry *r, const char *name, enum registry_state s,
                        const char *error)
{
    registry_account *ra = registry_get(r, name);

    if (!ra || ra->state == REGISTRY_ELSEWHERE ||
        (!ra->rec->enabled && s != REGISTRY_DISABLED))
        return;
    if (ra->state != s)
        log_for_account(LOG_CONFIG, LOG_INFO, name, "account %s: %s%s%s", name,
                        registry_state_name(s), error ? ": " : "",
                        error ? error : "");
    set_state(ra, s);
    if (error) {
        g_free(ra->last_error);
        ra->last_error = g_strdup(error);
    }
}

/* ---- admin operations ---- */

static gboolean valid_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n < 1 || n > NAME_MAX_LEN)
        return FALSE;
    for (size_t i = 0; i < n; i++)
        if (!g_ascii_islower(s[i]) && !g_ascii_isdigit(s[i]) && s[i] != '.' &&
            s[i] != '_' && s[i] != '-')
            return FALSE;
    return TRUE;
}

static gboolean valid_text(const char *s, gboolean required)
{
    if (!s || !*s)
        return !required;
    return strlen(s) <= TEXT_MAX_LEN && g_utf8_validate(s, -1, NULL);
}

int registry_validate(const account_rec *a, gboolean for_add, char **why)
{
    GHashTableIter it;
    gpointer k, v;
    gboolean chat_mode;

    *why = NULL;
    if (for_add && !valid_name(a->name))
        *why = g_strdup("name: 1 to 64 characters, each one of a-z 0-9 . _ -");
    else if (!valid_text(a->protocol, TRUE))
        *why = g_strdup("protocol: required (a libpurple protocol id such as "
                        "prpl-irc)");
    else if (!valid_text(a->username, TRUE))
        *why = g_strdup("username: required (the bot's account on that "
                        "network)");
    else if (!a->group || !*a->group || !jid_node_valid(a->group))
        *why = g_strdup("group: a room name is required (a JID localpart: no "
                        "spaces or any of \"&'/:<>@)");
    else if (!jid_node_fits(a->group, STORE_GROUP_MAX))
        *why = g_strdup_printf("group: the room name is longer than %d bytes",
                               STORE_GROUP_MAX);
    else if (!a->mode ||
             (strcmp(a->mode, "contacts") && strcmp(a->mode, "chat")))
        *why = g_strdup("mode: one of contacts, chat");
    if (*why)
        return -1;
    chat_mode = !strcmp(a->mode, "chat");
    if (chat_mode && !valid_text(a->chat, TRUE))
        *why = g_strdup("chat: required in chat mode (the legacy chat to sit "
                        "in, e.g. #lobby)");
    else if (!chat_mode && a->chat && *a->chat)
        *why = g_strdup("chat: only for mode chat; leave it empty");
    else if (a->pace_burst < 1)
        *why = g_strdup("pace_burst: a whole number of messages, at least 1");
    else if (!(a->pace_rate > 0) || !isfinite(a->pace_rate))
        *why = g_strdup("pace_rate: messages per second, above 0");
    if (*why)
        return -1;
    if (a->options) {
        g_hash_table_iter_init(&it, a->options);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            if (!valid_text(k, TRUE) || !valid_text(v, FALSE)) {
                *why = g_strdup("options: one key=value per line, UTF-8");
                return -1;
            }
        }
    }
    return 0;
}

/* A copy of a ready to be stored: group folded, options never NULL. */
static account_rec *prepare(const account_rec *a)
{
    account_rec *c = account_rec_copy(a);
    char *folded = jid_node_fold(c->group);

    if (folded) {
        g_free(c->group);
        c->group = folded;
    }
    if (c->chat && !*c->chat)
        g_clear_pointer(&c->chat, g_free);
    return c;
}

typedef struct put_args {
    const account_rec *rec;
    const char *password; /* NULL: keep */
    gboolean ensure_group;
} put_args;

static int put_txn(MDB_txn *txn, const store *st, void *userdata)
{
    put_args *pa = userdata;
    int rc = accounts_put(txn, st, pa->rec, pa->password);

    if (rc == 0 && pa->ensure_group)
        rc = groups_ensure(txn, st, pa->rec->group, NULL);
    return rc;
}

static int save(registry *r, const account_rec *rec, const char *password,
                gboolean ensure_group, char **why)
{
    put_args pa = {rec, password, ensure_group};
    GError *err = NULL;

    if (store_write(r->st, put_txn, &pa, &err) < 0) {
        log_error(LOG_STORE, "account %s: %s", rec->name,
                  err ? err->message : "not saved");
        g_clear_error(&err);
        *why = g_strdup("the account could not be saved (see the log)");
        return -1;
    }
    return 0;
}

static char *file_refusal(registry *r, const char *name)
{
    return g_strdup_printf("%s is defined in %s; edit the file and send "
                           "SIGHUP",
                           name, r->config_path);
}

int registry_add(registry *r, const account_rec *a, const char *password,
                 char **why)
{
    account_rec *rec;
    registry_account *ra;

    *why = NULL;
    if (registry_validate(a, TRUE, why) < 0)
        return -1;
    if (registry_get(r, a->name)) {
        *why = g_strdup_printf("an account named %s already exists", a->name);
        return -1;
    }
    rec = prepare(a);
    rec->from_config = FALSE;
    if (!is_here(r, rec->group)) {
        *why = elsewhere_refusal(r, rec->group);
        account_rec_free(rec);
        return -1;
    }
    if (save(r, rec, password ? password : "", TRUE, why) < 0) {
        account_rec_free(rec);
        return -1;
    }
    ra = put_account(r, rec);
    log_info(LOG_CONFIG, "account %s (%s) added; serves group %s%s", rec->name,
             rec->protocol, rec->group, rec->enabled ? "" : "; disabled");
    if (rec->enabled)
        start_account(r, ra);
    return 0;
}

int registry_change(registry *r, const account_rec *a, const char *password,
                    char **why)
{
    registry_account *ra = registry_get(r, a->name);
    account_rec *rec;

    *why = NULL;
    if (!ra) {
        *why = g_strdup_printf("there is no account named %s", a->name);
        return -1;
    }
    if (ra->from_config) {
        *why = file_refusal(r, a->name);
        return -1;
    }
    if (ra->state == REGISTRY_ELSEWHERE) {
        *why = elsewhere_refusal(r, ra->rec->group);
        return -1;
    }
    if (registry_validate(a, FALSE, why) < 0)
        return -1;
    rec = prepare(a);
    rec->from_config = FALSE;
    rec->enabled = ra->rec->enabled;
    if (!is_here(r, rec->group)) {
        *why = elsewhere_refusal(r, rec->group);
        account_rec_free(rec);
        return -1;
    }
    if (save(r, rec, password, TRUE, why) < 0) {
        account_rec_free(rec);
        return -1;
    }
    account_rec_free(ra->rec);
    ra->rec = rec;
    log_info(LOG_CONFIG, "account %s changed%s", rec->name,
             password ? " (with a new password)" : "");
    if (rec->enabled)
        start_account(r, ra);
    return 0;
}

int registry_enable(registry *r, const char *name, gboolean on, char **why)
{
    registry_account *ra = registry_get(r, name);
    account_rec *rec;

    *why = NULL;
    if (!ra) {
        *why = g_strdup_printf("there is no account named %s", name);
        return -1;
    }
    if (ra->state == REGISTRY_ELSEWHERE) {
        *why = elsewhere_refusal(r, ra->rec->group);
        return -1;
    }
    if (on && ra->rec->enabled && ra->state != REGISTRY_QUARANTINED)
        return 0;
    if (!on && !ra->rec->enabled)
        return 0;
    if (ra->rec->enabled != on) {
        rec = account_rec_copy(ra->rec);
        rec->enabled = on;
        if (save(r, rec, NULL, FALSE, why) < 0) {
            account_rec_free(rec);
            return -1;
        }
        account_rec_free(ra->rec);
        ra->rec = rec;
    }
    log_info(LOG_CONFIG, "account %s %s", name, on ? "enabled" : "disabled");
    if (on) {
        start_account(r, ra);
    } else {
        set_state(ra, REGISTRY_DISABLED);
        stop_account(r, name);
    }
    return 0;
}

static int delete_txn(MDB_txn *txn, const store *st, void *userdata)
{
    int rc = accounts_delete(txn, st, userdata);

    return rc == MDB_NOTFOUND ? 0 : rc;
}

int registry_remove(registry *r, const char *name, char **why)
{
    registry_account *ra = registry_get(r, name);
    GError *err = NULL;
    char *key;

    *why = NULL;
    if (!ra) {
        *why = g_strdup_printf("there is no account named %s", name);
        return -1;
    }
    if (ra->from_config) {
        *why = file_refusal(r, name);
        return -1;
    }
    if (ra->state == REGISTRY_ELSEWHERE) {
        *why = elsewhere_refusal(r, ra->rec->group);
        return -1;
    }
    key = g_strdup(name); /* name may be the tree's own key */
    if (store_write(r->st, delete_txn, key, &err) < 0) {
        log_error(LOG_STORE, "account %s: %s", key,
                  err ? err->message : "not removed");
        g_clear_error(&err);
        *why = g_strdup("the account could not be removed (see the log)");
        g_free(key);
        return -1;
    }
    log_info(LOG_CONFIG, "account %s removed", key);
    if (ra->rec->enabled)
        stop_account(r, key);
    g_tree_remove(r->accounts, key);
    g_free(key);
    return 0;
}

int registry_member_add(registry *r, const char *group, const char *account,
                        const char *handle, char **why)
{
    *why = NULL;
    if (!r->hooks.member_add) {
        *why = g_strdup("legacy bridge not running");
        return -1;
    }
    if (r->hooks.member_add(group, account, handle, why, r->hook_data) < 0) {
        if (!*why)
            *why = g_strdup("the legacy member could not be added");
        return -1;
    }
    return 0;
}

int registry_announce(registry *r, const char *text, guint *reached)
{
    *reached = 0;
    return r->hooks.announce ? r->hooks.announce(text, reached, r->hook_data)
                             : -1;
}

guint registry_delivered(registry *r)
{
    return r->hooks.delivered ? r->hooks.delivered(r->hook_data) : 0;
}
