/* svc_groups: the service admins' commands on groups (XEP-0050 on the
 * component JID): list every group, hidden ones too, with its figures;
 * create, configure (the owner's form, muc_owner.c) and destroy any
 * group. Steps of adhoc.c's command table. */
#ifndef IMGROUPS_SVC_GROUPS_H
#define IMGROUPS_SVC_GROUPS_H

#include "adhoc_int.h"

enum xerr svc_groups_list(request *rq, response *rp);
enum xerr svc_groups_create(request *rq, response *rp);
enum xerr svc_groups_configure(request *rq, response *rp);
enum xerr svc_groups_destroy(request *rq, response *rp);

/* The bus side (issue 14): another shard's admin created or destroyed a
 * group this shard owns (<group xmlns=SVC_MERGE_NS_ADMIN op='create|
 * destroy' name='' by='admin JID' [owner=''] [reason='']/>), done here as
 * if the admin had run the command here. q->data is the adhoc. */
enum xerr svc_groups_serve(const iq_req *q, iq_res *res);

/* The bus side of the listing: this shard's rows after a cursor
 * (<page list='all' xmlns=SVC_MERGE_NS_ADMIN/>). q->data is the adhoc. */
enum xerr svc_groups_serve_page(const iq_req *q, iq_res *res);

/* The room messages waiting past the delivery cursors of group's legacy
 * targets (group NULL: of every group), an upper bound: some of them are
 * not for that target (its own, or nothing to say in words). Read in
 * txn. */
guint64 svc_groups_lag(adhoc *ad, MDB_txn *txn, const char *group);

/* The requester's muc#owner iq of type ("get" or "set") with query (taken)
 * to group, through the MUC engine as if the requester had sent it (the
 * one rule for who may configure: muc_owner.c). XERR_NONE with *payload
 * (owned, may be NULL), what must follow the reply left in rq->after;
 * else the error with *text (g_free, may be NULL). */
enum xerr svc_groups_owner_iq(request *rq, const char *group, const char *type,
                              xmpp_stanza_t *query, xmpp_stanza_t **payload,
                              char **text);

#endif
