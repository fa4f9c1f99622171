/* mydata: one person's data on request (issue 12, item 7): the readable
 * export of everything the store holds about them, and its erasure. A
 * person is an XMPP user (their bare JID) or a legacy member (bot account
 * and handle, and the made-up JID the rooms know them by). The ad-hoc
 * commands (adhoc.c: "mydata" for anyone, "data-export" and "data-erase"
 * for the service admins) and the bot's /mydata (bridge/commands.c) are
 * thin callers of what is here. */
#ifndef IMGROUPS_MYDATA_H
#define IMGROUPS_MYDATA_H

#include <strophe.h>

#include "config.h"
#include "muc.h"
#include "store.h"
#include "uplink.h"

/* Messages listed per page of an export. */
#define MYDATA_PAGE 50

/* Characters of one message shown in an export; longer ones are cut
 * (their whole text is in what the room sends through MAM). */
#define MYDATA_TEXT_MAX 2000

typedef struct mydata_person {
    char *bare;    /* folded bare JID; a legacy member's made-up one */
    char *account; /* legacy: the bot account; NULL for an XMPP user */
    char *handle;  /* legacy: their handle there; NULL for an XMPP user */
} mydata_person;

/* An XMPP user; bare is folded by the caller (jid_bare_fold). Owned by
 * the caller (mydata_person_free). */
mydata_person *mydata_person_xmpp(const char *bare);
/* A legacy member of account known as handle, on the component whose JID
 * is component. Owned by the caller. */
mydata_person *mydata_person_legacy(const char *component, const char *account,
                                    const char *handle);
void mydata_person_free(mydata_person *p);

/* The export: *lines (a GPtrArray of char *, owned by the caller) say what
 * st holds about p: affiliations, groups owned, registered nicks, the
 * legacy membership, whether the first-contact notice was given, how many
 * messages they sent, and those messages from the skip-th on, at most
 * MYDATA_PAGE, oldest first. The lines as XML text (escaped, with
 * LINE_OVERHEAD each for their element) stay within max_bytes: a page
 * ends early rather than exceed it. *next: the skip of the next page, 0
 * when this one is the last. Nothing of anyone else is in it: other
 * people's messages are not listed, not even those in their groups.
 * A walk of the affiliations and of the archive of every group (linear in
 * the store). Returns 0 or a negative code (then *lines is NULL). */
#define MYDATA_LINE_OVERHEAD 48
int mydata_export(store *st, const mydata_person *p, guint skip,
                  gsize max_bytes, GPtrArray **lines, guint *next);

/* What an erasure removed. */
typedef struct mydata_erased {
    guint rooms;        /* rooms they were made to leave */
    guint affiliations; /* records, bans included */
    guint nicks;        /* registered nicks */
    guint members;      /* legacy membership records (0 or 1) */
    guint64 queued;     /* outbox entries for them */
    guint messages;     /* archived messages made tombstones */
    guint subjects;     /* group subjects they set, kept without a setter */
} mydata_erased;

/* Erases p: their occupants leave every room (kicked, status 307, with a
 * reason saying why); then in one write transaction their affiliations
 * (the owned index with them), registered nicks, first-contact record and,
 * for a legacy member, the member record with its group index entry and
 * their outbox (entries and cursor); a group subject they set loses its
 * setter (muc_erase_subject_nick; m NULL: not looked at); then every
 * message they sent becomes
 * a tombstone of nobody (archive_job_erase_sender / _legacy), run to the
 * end here: one synced write per ARCHIVE_BATCH_DEFAULT messages. m and up
 * are borrowed for the call. Returns 0, or negative with *err set (what
 * committed stays erased; running it again finishes the job). */
int mydata_erase(store *st, muc *m, uplink *up, const mydata_person *p,
                 mydata_erased *out, GError **err);

/* ---- the ad-hoc commands' stages (XEP-0050), for adhoc.c ----
 * adhoc.c owns sessions, authorisation and the <command/> reply; a stage
 * reads io's inputs and fills its outputs. */
typedef struct mydata_io {
    /* in, borrowed for the call */
    xmpp_ctx_t *ctx;
    uplink *up;
    const config *cfg;
    muc *m;
    const char *bare;    /* the requester, folded */
    xmpp_stanza_t *form; /* the submitted form, or NULL */
    int stage;           /* forms answered so far */
    /* out */
    gboolean done;         /* completed; else executing */
    const char *execute;   /* not done: "next" or "complete" */
    xmpp_stanza_t *x;      /* the form or result (owned), or NULL */
    const char *note_type; /* "info", "error" or NULL */
    char *note;            /* owned */
} mydata_io;

/* "mydata", for anyone: the requester's own export, paged. */
void mydata_cmd_mine(mydata_io *io);
/* "data-export", for service admins: asks for a JID or a legacy account
 * and handle, then that person's export, paged. */
void mydata_cmd_export(mydata_io *io);
/* "data-erase", for service admins: asks for a JID or a legacy account
 * and handle and a confirmation, then erases (mydata_erase). */
void mydata_cmd_erase(mydata_io *io);

#endif
