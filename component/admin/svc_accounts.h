/* svc_accounts: the admins' `accounts` listing for the whole service
 * (issue 14): this shard's bot accounts and, over the shard bus, every
 * other shard's own, each with its state there. A shard that does not
 * answer in time has its bots (known from the shared file) shown as
 * "elsewhere (shard K)" and is named in the note. */
#ifndef IMGROUPS_SVC_ACCOUNTS_H
#define IMGROUPS_SVC_ACCOUNTS_H

#include "adhoc_int.h"
#include "bus.h"

/* The bus namespace of the request <accounts/> (get) and of its answer,
 * one <account/> per account the answering shard runs. */
#define SVC_ACCOUNTS_NS "urn:imgroups:shard-accounts:0"

/* Rows one shard's answer may carry; more are not read. */
#define SVC_ACCOUNTS_MAX 1000

/* The accounts command's one stage: the table at once with one shard (or
 * no bus), else deferred until the other shards answered or timed out. */
enum xerr svc_accounts_show(request *rq, response *rp);

/* account-enable / account-disable's last stage for names (borrowed, each
 * an account of the registry): this shard's accounts enabled here, another
 * shard's (elsewhere) asked of that shard over the bus (<enable/>), the
 * stage answered when all are done: "Enabled: a, b." or an error note
 * with what failed and why ("its shard did not answer"). */
enum xerr svc_accounts_enable(request *rq, response *rp, GPtrArray *names,
                              gboolean on);

/* Serves the other shards' <accounts/> and <enable/> requests on b for ad (borrowed,
 * must outlive b). Returns 0 or negative (bus_serve). */
int svc_accounts_serve(bus *b, adhoc *ad);

#endif
