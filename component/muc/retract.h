/* retract: withdrawing what was said in a room: a sender's own message
 * (XEP-0424 Message Retraction) and anyone's by a moderator (XEP-0425
 * Moderated Message Retraction), the current namespaces and the previous
 * ones clients still send; the archive keeps a tombstone. */
#ifndef IMGROUPS_RETRACT_H
#define IMGROUPS_RETRACT_H

#include "muc_int.h"

#define NS_RETRACT    "urn:xmpp:message-retract:1"
#define NS_RETRACT_0  "urn:xmpp:message-retract:0"
#define NS_MODERATE   "urn:xmpp:message-moderate:1"
#define NS_MODERATE_0 "urn:xmpp:message-moderate:0"
#define NS_FASTEN     "urn:xmpp:fasten:0"
#define NS_FALLBACK   "urn:xmpp:fallback:0"

/* How far back a retraction that names its message by the sender's own id
 * (origin-id or id attribute, not the room's stanza-id) is looked for. */
#define RETRACT_SCAN 200

/* Whether st (a groupchat message) asks to withdraw a message: a
 * <retract xmlns='urn:xmpp:message-retract:1' id=…/>, or the older
 * <apply-to xmlns='urn:xmpp:fasten:0' id=…><retract
 * xmlns='urn:xmpp:message-retract:0'/></apply-to>. */
gboolean retract_is_retraction(xmpp_stanza_t *st);

/* XEP-0424 in a room: o withdraws its own message. Checked, archived (the
 * retraction as a record of its own, the message as its tombstone, the
 * bridge told, all in one transaction), then fanned out to every
 * occupant; an error goes back to the sender. st is borrowed. */
void retract_groupchat(muc *m, uplink *up, room *r, occ *o, xmpp_stanza_t *st);

/* XEP-0425: the iq_fn (iq.h, q->data a muc_call) of <moderate
 * xmlns='urn:xmpp:message-moderate:1'/> and of the older <apply-to
 * xmlns='urn:xmpp:fasten:0'><moderate
 * xmlns='urn:xmpp:message-moderate:0'/></apply-to> sent to a room. */
enum xerr retract_moderate(const iq_req *q, iq_res *res);

/* Appends to all (of const char *, static) the disco features of a room
 * that withdraws messages: both versions of each XEP and the tombstone. */
void retract_features(GPtrArray *all);

/* Writes, into a stored message being written as text (history_text),
 * what stands for a tombstone (a->retracted set): XEP-0424's
 * <retracted id stamp/>, with XEP-0425's <moderated by/> and <reason/>
 * when a moderator withdrew it, then the same in the previous
 * namespaces. Nothing for a message that is not a tombstone. */
void retract_tombstone_text(GString *b, const room *r, const archive_msg *a);

/* One withdrawal as retract_txn does it (exposed for tests). */
typedef struct retract_job {
    /* in, borrowed */
    const char *room_jid;
    const char *group;
    const char *id;        /* the id the request names */
    const occ *sender;     /* XEP-0424: who withdraws its own; NULL: XEP-0425 */
    const char *mod_nick;  /* XEP-0425: the moderator's nick */
    const char *mod_oid;   /* XEP-0425: the moderator's occupant-id or NULL */
    const char *reason;    /* XEP-0425: why, bounded; may be NULL */
    const char *fallback;  /* XEP-0424: the body for older clients, or NULL */
    const char *v0_id;     /* the id an older (fasten) request used, or NULL */
    const char *msg_id;    /* the id attribute of the retraction message */
    const char *origin_id; /* its XEP-0359 origin-id, or NULL */
    gint64 now_us;         /* wall clock, unix microseconds */
    const muc_bridge_hooks *hooks; /* may be NULL */
    void *hooks_data;
    /* out: e XERR_NONE with said the retraction record appended (its
     * strings owned by the job: retract_job_clear), or the refusal and why */
    enum xerr e;
    const char *why;
    archive_msg said;
    guint64 target_seq;
} retract_job;

/* A store_write_fn: runs job (userdata) inside txn. A refusal writes
 * nothing and returns 0 with job->e set; an LMDB error is returned. */
int retract_txn(MDB_txn *txn, const store *st, void *userdata);

/* Frees what retract_txn left in job->said. */
void retract_job_clear(retract_job *job);

#endif
