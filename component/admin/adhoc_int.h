/* adhoc_int: what the ad-hoc command modules (adhoc.c and the modules of
 * component/admin/ whose steps its command table names) share and nothing
 * else sees: the session, the request and the response of one stage. */
#ifndef IMGROUPS_ADHOC_INT_H
#define IMGROUPS_ADHOC_INT_H

#include "adhoc.h"

/* Rows of one page of a listing at most (adhoc_page_full); a longer list
 * goes on with "next". */
#define ADHOC_PAGE_ROWS 50
/* A field a requester types is at most this many bytes. */
#define ADHOC_FIELD_MAX 1024

struct adhoc {
    const config *cfg;
    store *st;
    registry *reg;
    muc *muc;             /* who owns a room (muc_group_affiliation) */
    bus *bus;             /* the shard bus (adhoc_set_bus), or NULL */
    uplink *up;           /* the main link, for what a bus request sends */
    GHashTable *sessions; /* sessionid -> session *, both owned */
    gint64 started_us;    /* monotonic, when the service started */
};

struct command;

typedef struct session {
    char *id;
    const struct command *cmd;
    char *requester; /* the full JID that started it */
    char *room;      /* folded localpart; NULL on the component */
    int stage;       /* forms sent so far */
    char *account;   /* account-change: the account picked at stage 1 */
    char *target;    /* a group picked at stage 1 (configure, destroy) */
    char *cursor;    /* a listing: the last key of the page shown */
    /* what the last stage allows (its <actions/>) */
    const char *execute; /* "next" or "complete" */
    gboolean allow_next, allow_complete;
    gint64 expires_us; /* monotonic */
} session;

/* One command request in flight; everything borrowed for the call. */
typedef struct request {
    adhoc *ad;
    xmpp_ctx_t *ctx;
    const iq_req *q; /* the iq (its uplink, its full from) */
    iq_res *res;     /* its answer (adhoc_defer) */
    session *s;
    xmpp_stanza_t *form; /* the submitted <x xmlns='jabber:x:data'/> or NULL */
    const char *room;    /* folded localpart, NULL on the component */
    const char *bare;    /* the requester, folded */
    /* What must follow the command's reply (a muc#owner change's status
     * message, XEP-0045 §10.2.1), run once after it; NULL if nothing. */
    void (*after)(void *data);
    void *after_data;
} request;

/* What a stage answers. */
typedef struct response {
    gboolean done;         /* status completed (else executing) */
    xmpp_stanza_t *x;      /* the form or result (owned), or NULL */
    const char *note_type; /* "info" | "error" | NULL for no note */
    char *note;            /* owned */
} response;

/* One stage of a command: fills rp and returns XERR_NONE, or an error
 * (the session ends). */
typedef enum xerr (*adhoc_step_fn)(request *rq, response *rp);

/* The stage answers form x (taken) and waits; dflt is what "execute"
 * means next ("next" or "complete"). */
void adhoc_wait(request *rq, response *rp, xmpp_stanza_t *x, const char *dflt);
/* A listing's page x (taken) with more to come: "next" shows the next
 * page, "complete" ends; note (taken, may be NULL) says where it is. */
void adhoc_page(request *rq, response *rp, xmpp_stanza_t *x, char *note);
/* The same stage again, x (taken) with what is wrong (why, taken). */
void adhoc_again(request *rq, response *rp, xmpp_stanza_t *x, char *why);
/* The command is done: a note of type ("info" or "error") with text (taken,
 * may be NULL). XEP-0050 §3.6: a failed completion carries a note of type
 * error. */
void adhoc_finish(response *rp, const char *type, char *note);

/* A stage answered later (a service command waiting for the other shards,
 * issue 14): the step calls adhoc_defer and returns XERR_NONE leaving rp
 * empty; the session stays. The returned handle is the step's until it
 * calls adhoc_resume exactly once. */
typedef struct adhoc_later adhoc_later;
adhoc_later *adhoc_defer(request *rq);
/* The deferred stage's reply, rp as a step would have filled it (what it
 * owns is taken); a session gone meanwhile gets session-expired. Frees l. */
void adhoc_resume(adhoc_later *l, response *rp);
/* The context the deferred stage's reply is built in. */
xmpp_ctx_t *adhoc_later_ctx(const adhoc_later *l);

/* A result table: <x type='result'/> with title and the <reported/>
 * columns (vars[i] labelled labels[i]); borrowed strings. */
xmpp_stanza_t *adhoc_table(xmpp_ctx_t *ctx, const char *title,
                           const char *const *vars, const char *const *labels,
                           size_t n);
/* One <item/> of such a table: values[i] for vars[i]. Returns about how
 * many bytes it adds to the stanza sent (escaped). */
gsize adhoc_row(xmpp_ctx_t *ctx, xmpp_stanza_t *x, const char *const *vars,
                const char *const *values, size_t n);
/* Whether a page of rows rows taking used bytes (adhoc_row's sums) is full:
 * ADHOC_PAGE_ROWS rows, or half of [component] stanza_limit. */
gboolean adhoc_page_full(const adhoc *ad, guint rows, gsize used);

/* The group named in field var of the form, folded, when it exists (g_free);
 * NULL with *why (g_free) when not. */
char *adhoc_group_field(request *rq, const char *var, char **why);

#endif
