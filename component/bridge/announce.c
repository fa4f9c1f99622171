/* announce: an announcement queued for every legacy target in one write;
 * the delivery rate read for the statistics. */
#include "announce.h"

#include <string.h>

#include "clock.h"
#include "delivery.h"
#include "outbox.h"

/* One target of the announcement. */
typedef struct target {
    char *account;
    char kind;
    char *name;
} target;

static void target_free(gpointer p)
{
    target *t = p;

    g_free(t->account);
    g_free(t->name);
    g_free(t);
}

typedef struct account_ref {
    char *name, *group, *chat; /* chat: NULL in contacts mode */
} account_ref;

static void account_ref_free(gpointer p)
{
    account_ref *a = p;

    g_free(a->name);
    g_free(a->group);
    g_free(a->chat);
    g_free(a);
}

static void collect_enabled(registry_account *ra, void *ud)
{
    account_ref *a;

    /* another shard's account: its members are in that shard's store */
    if (ra->state == REGISTRY_DISABLED || ra->state == REGISTRY_ELSEWHERE)
        return;
    a = g_new0(account_ref, 1);
    a->name = g_strdup(ra->rec->name);
    a->group = g_strdup(ra->rec->group);
    if (!g_strcmp0(ra->rec->mode, "chat"))
        a->chat = g_strdup(ra->rec->chat ? ra->rec->chat : "");
    g_ptr_array_add(ud, a);
}

typedef struct announce_args {
    const char *text;
    GPtrArray *accounts; /* account_ref * */
    GPtrArray *targets;  /* target *, what was queued */
    MDB_txn *txn;
    const store *st;
    const account_ref *a; /* the account being walked */
} announce_args;

static int queue_one(announce_args *aa, char kind, const char *name)
{
    outbox_msg msg = {0};
    target *t;
    int rc;

    msg.account = aa->a->name;
    msg.kind = kind;
    msg.target = (char *)name;
    msg.group = aa->a->group;
    msg.time_us = clock_real();
    msg.nick = DELIVERY_NOTICE_NICK;
    msg.body = (char *)aa->text;
    rc = outbox_add(aa->txn, aa->st, &msg);
    if (rc != 0)
        return rc;
    t = g_new0(target, 1);
    t->account = g_strdup(aa->a->name);
    t->kind = kind;
    t->name = g_strdup(name);
    g_ptr_array_add(aa->targets, t);
    return 0;
}

static int queue_member(const member_rec *m, void *userdata)
{
    int rc = queue_one(userdata, OUTBOX_KIND_IM, m->handle);

    return rc > 0 ? -rc : rc;
}

static int announce_txn(MDB_txn *txn, const store *st, void *userdata)
{
    announce_args *aa = userdata;
    int rc = 0;

    g_ptr_array_set_size(aa->targets, 0);
    aa->txn = txn;
    aa->st = st;
    for (guint i = 0; rc == 0 && i < aa->accounts->len; i++) {
        aa->a = g_ptr_array_index(aa->accounts, i);
        if (aa->a->chat)
            rc =
                *aa->a->chat ? queue_one(aa, OUTBOX_KIND_CHAT, aa->a->chat) : 0;
        else
            rc =
                members_foreach_account(txn, st, aa->a->name, queue_member, aa);
    }
    return rc;
}

int announce_all(const char *text, guint *reached, void *userdata)
{
    bridge *b = userdata;
    announce_args aa = {text,
                        g_ptr_array_new_with_free_func(account_ref_free),
                        g_ptr_array_new_with_free_func(target_free),
                        NULL,
                        NULL,
                        NULL};
    int rc = -1;

    *reached = 0;
    registry_foreach(b->reg, collect_enabled, aa.accounts);
    if (!bridge_write(b, announce_txn, &aa, "announcement"))
        goto leave;
    for (guint i = 0; i < aa.targets->len; i++) {
        const target *t = g_ptr_array_index(aa.targets, i);
        bacct *a = g_hash_table_lookup(b->accts, t->account);
        if (a)
            delivery_mark(a, t->kind, t->name);
    }
    delivery_wake(b);
    *reached = aa.targets->len;
    rc = 0;
leave:
    g_ptr_array_unref(aa.targets);
    g_ptr_array_unref(aa.accounts);
    return rc;
}

guint announce_delivered(void *userdata)
{
    bridge *b = userdata;

    return ratecount_minute(&b->delivered, clock_now());
}
