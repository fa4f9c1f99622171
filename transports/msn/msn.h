/* msn: the plugin's session, one per PurpleConnection: what the
 * notification server (ns.c), the Passport login (passport.c) and the
 * switchboards (sb.c) share. The prpl's entry points are in msn.c. */
#ifndef MSN_H
#define MSN_H

#include <purple.h>

#include "conn.h"
#include "msnp.h"

#define MSN_PRPL_ID "prpl-imgroups-msn"

/* Account option keys (and their defaults, Microsoft's historical
 * service: any revival server is set per account). */
#define MSN_OPT_SERVER    "server"
#define MSN_OPT_PORT      "port"
#define MSN_OPT_NEXUS     "nexus"
#define MSN_DEFAULT_HOST  "messenger.hotmail.com"
#define MSN_DEFAULT_PORT  1863
#define MSN_DEFAULT_NEXUS "https://nexus.passport.com/rdr/pprdr.asp"

/* Status ids of the plugin's status types. */
#define MSN_STATUS_AVAILABLE "available"
#define MSN_STATUS_AWAY      "away"
#define MSN_STATUS_BUSY      "busy"
#define MSN_STATUS_OFFLINE   "offline"

/* The contact lists, as LST's bit mask. */
enum msn_list {
    MSN_FL = 1, /* forward: whom we watch */
    MSN_AL = 2, /* allow: who may see us */
    MSN_BL = 4, /* block */
    MSN_RL = 8, /* reverse: who has us on their FL */
    MSN_PL = 16 /* pending: added us while we were offline (a real
                 * server's MSNP12 list download marks them so, not RL) */
};

typedef struct msn_contact {
    char *email; /* normalised (lower case) */
    char *name;  /* friendly name, decoded; may be NULL */
    char *uuid;  /* C= of LST/ADC, MSNP10+; NULL before the server gives one */
    guint lists; /* enum msn_list bits */
    gboolean asked; /* an authorization request is open for them */
    char status[4]; /* the last presence code seen (NLN, AWY…), "" offline */
} msn_contact;

enum ns_state {
    NS_CONNECTING, /* socket, then VER */
    NS_CVR,
    NS_USR_I,
    NS_PASSPORT, /* the HTTP login is running */
    NS_USR_S,
    NS_SYN, /* the contact list is arriving */
    NS_CHG, /* the first CHG is out */
    NS_ONLINE
};

typedef struct msn_session {
    PurpleConnection *gc;
    PurpleAccount *acct;
    char *email; /* the account's name, normalised: for comparisons */
    char *login; /* the account's name as configured: what USR, CVR and
                  * Passport send (a real server compares it with the
                  * address as registered and answers 911 to another case) */
    conn *ns;
    enum ns_state state;
    int version;     /* the MSNP version the server chose: 8–12 */
    guint redirects; /* XFR NS followed during this login */
    PurpleUtilFetchUrlData *http; /* the Passport request running */
    char *twn_challenge;          /* USR TWN S's argument */
    GHashTable *contacts;         /* email → msn_contact */
    guint syn_contacts;           /* LSTs still to come */
    GList *sbs;                   /* struct sb, see sb.h */
    guint ping_h;                 /* the keep-alive timer */
    gboolean pong_due;            /* a PNG is unanswered */
    gboolean failed;              /* the connection was given up */
    const char *status;           /* the NLN/AWY/BSY code in force (static) */
    GQueue settled;               /* delivery marks settled, not yet told */
    guint settle_h;               /* the idle that tells them */
    struct groupchat *chat;       /* chat mode (groupchat.c); NULL if none */
    GHashTable *typing;           /* typing.c's timers; NULL if none */
    struct picture *pic;          /* picture.c's state; NULL if none */
    GList *auths; /* authorization requests open (ns.c), owned */
} msn_session;

/* The session of gc, or NULL once closed. */
msn_session *msn_session_of(PurpleConnection *gc);

/* Gives the connection up: reason and a message for people (never a
 * password or a message text). Further server input is ignored. */
void msn_session_fail(msn_session *s, PurpleConnectionError reason,
                      const char *why);

/* A delivery mark settled: the imgroups-delivery signal is emitted from
 * the main loop (or when the session closes), never inside this call. why
 * (copied) says what failed when !ok. */
void msn_settle(msn_session *s, guint64 id, gboolean ok, const char *why);

/* The contact for email, created (on no list) if missing. Owned by s. */
msn_contact *msn_contact_get(msn_session *s, const char *email);

/* The contact for email, or NULL. */
msn_contact *msn_contact_find(msn_session *s, const char *email);

/* Normalised form of an MSN address: lower case. Borrowed from a static
 * buffer, valid until the next call. */
const char *msn_normalize(const char *email);

#endif
