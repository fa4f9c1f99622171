/* sb: switchboards (see sb.h). */
#include "sb.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "groupchat.h"
#include "ns.h"
#include "picture.h"
#include "secret.h"
#include "typing.h"

/* The headers of every text message this plugin sends. */
#define TEXT_HEADERS                                                           \
    "MIME-Version: 1.0\r\n"                                                    \
    "Content-Type: text/plain; charset=UTF-8\r\n"                              \
    "X-MMS-IM-Format: FN=Arial; EF=; CO=0; CS=0; PF=22\r\n"                    \
    "\r\n"

#define TYPING_HEADERS                                                         \
    "MIME-Version: 1.0\r\n"                                                    \
    "Content-Type: text/x-msmsgscontrol\r\n"                                   \
    "TypingUser: %s\r\n"                                                       \
    "\r\n\r\n"

/* A nudge (shared/protocols/msnp.md): a datacast whose ID is 1. */
#define NUDGE_PAYLOAD                                                          \
    "MIME-Version: 1.0\r\n"                                                    \
    "Content-Type: text/x-msnmsgr-datacast\r\n"                                \
    "\r\n"                                                                     \
    "ID: 1\r\n\r\n"

/* How long a switchboard may take to have the peer in it. */
#define SETUP_SECONDS 60
/* Switchboards reopened for messages a closed one still held. */
#define MAX_RETRIES 2
/* Switchboards open at once, at most, counting those invitations open. */
#define SB_MAX 128

/* How long a group chat switchboard we opened holds what it is to say
 * while the people it first called have not all come in (MSN clients
 * accept invitations at once): whoever comes later misses it. */
#define GATHER_SECONDS 10

/* People a group chat switchboard calls at most (the rest wait for the
 * next one): the server's own limit on participants is of this order. */
#define CHAT_CALLS_MAX 64

enum sb_state {
    SB_WAIT_NS,    /* no XFR allowed yet (before the first CHG) */
    SB_XFR,        /* XFR SB sent */
    SB_CONNECTING, /* connecting to the switchboard */
    SB_AUTH,       /* USR or ANS sent */
    SB_CALLING,    /* CAL sent, waiting for JOI */
    SB_READY       /* the peer is in: messages go out at once */
};

struct sb {
    msn_session *s;
    conn *c;
    enum sb_state state;
    char *peer;          /* normalised address of the one we talk to (chat: who
                            invited us, or "") */
    gboolean chat;       /* the bot's group chat (groupchat.c), not an IM */
    GPtrArray *invite;   /* chat: addresses to CAL once we are in */
    GHashTable *ringing; /* chat: CALs unanswered, trid → address */
    guint gather_h;      /* chat: the first calls still ring (GATHER_SECONDS) */
    guint xfr_trid;
    char *ticket, *sessid; /* RNG's, for ANS */
    gboolean answering;    /* opened by RNG */
    GHashTable *joined;    /* normalised addresses in it, besides us */
    GQueue queue;          /* struct item: waiting for the peer */
    GQueue sent;           /* struct item: sent, waiting for ACK/NAK */
    char *why; /* why something before the next mark failed; NULL: fine */
    guint retries;
    guint setup_h; /* the SETUP_SECONDS timer */
};

static void sb_closed(struct sb *sb, const char *why, gboolean retry);

/* What log lines call sb. */
static const char *label(const struct sb *sb)
{
    return sb->chat ? "the group chat" : sb->peer;
}

/* One thing for the peer, in the order it was given: a message piece, or a
 * delivery mark (imgroups_prpl.h) standing for everything before it. */
struct item {
    gboolean is_mark;
    gboolean p2p;      /* a P2P message: ack mode D, no ACK comes */
    guint64 mark;      /* a mark's id */
    GString *payload;  /* a piece waiting to go out; NULL once sent */
    guint trid;        /* a piece sent with ack mode A: its transaction id */
    gboolean answered; /* ACK or NAK came */
    char *why;         /* NAK: why; else NULL */
};

static void item_free(gpointer data)
{
    struct item *it = data;

    if (it->payload)
        g_string_free(it->payload, TRUE);
    g_free(it->why);
    g_free(it);
}

/* Something before the next mark failed: the first reason stays. */
static void sb_note_failure(struct sb *sb, const char *why)
{
    if (!sb->why)
        sb->why = g_strdup(why);
}

/* Settles the mark it: ok when nothing failed since the last mark. */
static void settle_mark(struct sb *sb, struct item *it)
{
    msn_settle(sb->s, it->mark, sb->why == NULL, sb->why);
    g_free(sb->why);
    sb->why = NULL;
    item_free(it);
}

/* Settles the marks at the head of sent whose pieces are all answered. */
static void settle_sent(struct sb *sb)
{
    struct item *it;

    while ((it = g_queue_peek_head(&sb->sent))) {
        if (!it->is_mark && !it->answered)
            return;
        g_queue_pop_head(&sb->sent);
        if (it->is_mark) {
            settle_mark(sb, it);
            continue;
        }
        if (it->why)
            sb_note_failure(sb, it->why);
        item_free(it);
    }
}

/* Gives up on everything in q: pieces not answered count as lost (why),
 * marks settle in order. */
static void drop_items(struct sb *sb, GQueue *q, const char *why)
{
    struct item *it;

    while ((it = g_queue_pop_head(q))) {
        if (it->is_mark) {
            settle_mark(sb, it);
            continue;
        }
        if (!it->answered || it->why)
            sb_note_failure(sb, it->why ? it->why : why);
        item_free(it);
    }
}

/* ACK (why NULL) or NAK of the piece sent as trid. */
static void answered(struct sb *sb, guint trid, const char *why)
{
    for (GList *l = sb->sent.head; l; l = l->next) {
        struct item *it = l->data;

        if (!it->is_mark && it->trid == trid && !it->answered) {
            it->answered = TRUE;
            it->why = g_strdup(why);
            settle_sent(sb);
            return;
        }
    }
}

static guint pieces_in(GQueue *q)
{
    guint n = 0;

    for (GList *l = q->head; l; l = l->next)
        n += !((struct item *)l->data)->is_mark;
    return n;
}

static void sb_free(struct sb *sb)
{
    if (sb->setup_h)
        purple_timeout_remove(sb->setup_h);
    if (sb->gather_h)
        purple_timeout_remove(sb->gather_h);
    conn_free(sb->c);
    g_hash_table_destroy(sb->joined);
    g_ptr_array_free(sb->invite, TRUE);
    g_hash_table_destroy(sb->ringing);
    /* Marks are settled before: sb_closed(), sb_free_all(). */
    g_queue_clear_full(&sb->queue, item_free);
    g_queue_clear_full(&sb->sent, item_free);
    g_free(sb->why);
    g_free(sb->peer);
    secret_free(sb->ticket);
    g_free(sb->sessid);
    g_free(sb);
}

static gboolean on_setup_timeout(gpointer data)
{
    struct sb *sb = data;

    sb->setup_h = 0;
    sb_closed(sb, "the switchboard did not open in time", TRUE);
    return FALSE;
}

static struct sb *sb_new(msn_session *s, const char *peer, gboolean chat)
{
    struct sb *sb = g_new0(struct sb, 1);

    sb->s = s;
    sb->chat = chat;
    sb->peer = g_strdup(peer ? msn_normalize(peer) : "");
    sb->invite = g_ptr_array_new_with_free_func(g_free);
    sb->ringing =
        g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    sb->joined = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_queue_init(&sb->queue);
    g_queue_init(&sb->sent);
    sb->setup_h =
        purple_timeout_add_seconds(SETUP_SECONDS, on_setup_timeout, sb);
    s->sbs = g_list_prepend(s->sbs, sb);
    return sb;
}

/* Whether what waits may go out: the peer is in (chat: anyone is). */
static gboolean peer_in(const struct sb *sb)
{
    if (sb->state != SB_READY)
        return FALSE;
    return sb->chat ? g_hash_table_size(sb->joined) > 0 && !sb->gather_h
                    : g_hash_table_contains(sb->joined, sb->peer);
}

/* The switchboard for who: one with them in it first, then one on its
 * way; NULL when there is none. */
static struct sb *sb_find(msn_session *s, const char *who)
{
    const char *n = msn_normalize(who);
    struct sb *opening = NULL;

    for (GList *l = s->sbs; l; l = l->next) {
        struct sb *sb = l->data;

        if (sb->chat || strcmp(sb->peer, n) != 0)
            continue;
        if (peer_in(sb))
            return sb;
        if (sb->state != SB_READY && !opening)
            opening = sb;
    }
    return opening;
}

/* Sends what waits, once the peer is in. Pieces go with ack mode A: the
 * server answers each with ACK (or NAK), which is what settles marks. */
static void flush(struct sb *sb)
{
    struct item *it;

    if (!peer_in(sb))
        return;
    while ((it = g_queue_pop_head(&sb->queue))) {
        if (!it->is_mark) {
            it->trid = conn_send_payload(sb->c, "MSG", it->p2p ? "D" : "A",
                                         it->payload->str, it->payload->len);
            it->answered = it->p2p;
            g_string_free(it->payload, TRUE);
            it->payload = NULL;
        }
        g_queue_push_tail(&sb->sent, it);
    }
    settle_sent(sb);
}

static gboolean same_address(gpointer key, gpointer value, gpointer who)
{
    return strcmp(value, who) == 0;
}

/* CAL who (chat): nobody in it or ringing, not past CHAT_CALLS_MAX. */
static void call(struct sb *sb, const char *who)
{
    guint trid;

    if (g_hash_table_contains(sb->joined, who) ||
        g_hash_table_size(sb->ringing) >= CHAT_CALLS_MAX ||
        strcmp(who, sb->s->email) == 0 ||
        g_hash_table_find(sb->ringing, same_address, (gpointer)who))
        return;
    trid = conn_send(sb->c, "CAL", who);
    g_hash_table_insert(sb->ringing, GUINT_TO_POINTER(trid), g_strdup(who));
}

/* The first calls are answered (or given up on): what waits goes. */
static void gathered(struct sb *sb)
{
    if (!sb->gather_h)
        return;
    purple_timeout_remove(sb->gather_h);
    sb->gather_h = 0;
    flush(sb);
}

static gboolean on_gather_timeout(gpointer data)
{
    struct sb *sb = data;

    sb->gather_h = 0;
    flush(sb);
    return FALSE;
}

/* Calls everyone waiting in sb->invite (we are in the switchboard). */
static void call_invited(struct sb *sb)
{
    for (guint i = 0; i < sb->invite->len; i++)
        call(sb, g_ptr_array_index(sb->invite, i));
    g_ptr_array_set_size(sb->invite, 0);
}

static void ready(struct sb *sb)
{
    gboolean was = sb->state == SB_READY;

    sb->state = SB_READY;
    if (sb->setup_h)
        purple_timeout_remove(sb->setup_h);
    sb->setup_h = 0;
    if (sb->chat && !was) {
        call_invited(sb);
        if (!groupchat_on_ready(sb->s, sb)) {
            sb_leave(sb); /* sb is gone */
            return;
        }
    }
    flush(sb);
}

/* Asks the notification server for a switchboard, now or once allowed. */
static void request(struct sb *sb)
{
    sb->xfr_trid = ns_request_sb(sb->s);
    sb->state = sb->xfr_trid ? SB_XFR : SB_WAIT_NS;
}

static void sb_closed(struct sb *sb, const char *why, gboolean retry)
{
    msn_session *s = sb->s;
    guint unanswered = pieces_in(&sb->sent);
    guint left;

    s->sbs = g_list_remove(s->sbs, sb);
    if (sb->chat)
        groupchat_on_closed(s, sb); /* its participants leave the chat */
    /* What went out and was not answered is lost with the switchboard. */
    if (unanswered)
        purple_debug_warning("msn",
                             "switchboard with %s closed (%s) before %u "
                             "piece(s) were acknowledged\n",
                             label(sb), why, unanswered);
    drop_items(sb, &sb->sent, why);
    left = pieces_in(&sb->queue);
    if (left && retry && sb->retries < MAX_RETRIES && !s->failed &&
        s->state == NS_ONLINE) {
        struct sb *again = sb_new(s, sb->peer, sb->chat);

        purple_debug_info("msn",
                          "switchboard with %s closed (%s): %u message(s) "
                          "go in a new one\n",
                          label(sb), why, left);
        again->retries = sb->retries + 1;
        again->queue = sb->queue;
        g_queue_init(&sb->queue);
        again->why = sb->why; /* for the next mark, in the new one */
        sb->why = NULL;
        if (again->chat)
            groupchat_adopt(s, again); /* whom it calls */
        request(again);
    } else if (left) {
        purple_debug_warning("msn",
                             "switchboard with %s closed (%s): %u message(s) "
                             "not delivered\n",
                             label(sb), why, left);
        if (!sb->chat)
            purple_conv_present_error(sb->peer, s->acct,
                                      "The message could not be delivered.");
        drop_items(sb, &sb->queue, why);
    } else {
        purple_debug_info("msn", "switchboard with %s closed (%s)\n", label(sb),
                          why);
        drop_items(sb, &sb->queue, why); /* marks only */
    }
    sb_free(sb);
}

/* ---- what comes in ----------------------------------------------------- */

/* Text said by from: in the group chat, or an IM. */
static void got_text(struct sb *sb, const char *from, const msnp_mime *m)
{
    char *text = g_utf8_make_valid(m->body, (gssize)m->body_len);
    char *html = g_markup_escape_text(text, -1);

    purple_debug_info("msn", "message from %s (%" G_GSIZE_FORMAT " bytes)\n",
                      from, m->body_len);
    typing_done(sb->s, from, sb->chat);
    if (sb->chat)
        groupchat_said(sb->s, from, html);
    else
        serv_got_im(sb->s->gc, from, html, 0, time(NULL));
    g_free(html);
    g_free(text);
}

static void got_control(struct sb *sb, const char *from, const msnp_mime *m)
{
    if (msnp_mime_header(m, "TypingUser"))
        typing_got(sb->s, from, sb->chat);
}

/* A datacast: ID 1 is a nudge; others (winks, voice clips) are not
 * carried. */
static void got_datacast(struct sb *sb, const char *from, const msnp_mime *m)
{
    msnp_mime body;
    const char *id;
    gboolean nudge;

    /* The body is itself header lines: "ID: 1\r\n\r\n". */
    if (msnp_mime_parse(m->body, m->body_len, &body) != 0)
        return;
    id = msnp_mime_header(&body, "ID");
    nudge = id && strcmp(id, "1") == 0;
    msnp_mime_free(&body);
    if (!nudge) {
        purple_debug_misc("msn", "a datacast from %s: ignored\n", from);
        return;
    }
    purple_debug_info("msn", "%s nudged us\n", from);
    if (sb->chat)
        groupchat_nudged(sb->s, from);
    else
        purple_prpl_got_attention(sb->s->gc, from, 0);
}

static void got_p2p(struct sb *sb, const char *from, const msnp_mime *m)
{
    picture_p2p_in(sb->s, from, msnp_mime_header(m, "P2P-Dest"), m->body,
                   m->body_len);
}

/* What each content type of a switchboard MSG becomes. */
static const struct {
    const char *type;
    void (*fn)(struct sb *sb, const char *from, const msnp_mime *m);
} content_types[] = {
    {"text/plain", got_text},
    {"text/x-msmsgscontrol", got_control},
    {"text/x-msnmsgr-datacast", got_datacast},
    {"application/x-msnmsgrp2p", got_p2p},
};

static void incoming(struct sb *sb, const char *from, const msnp_cmd *cmd)
{
    msnp_mime m;
    char type[64];

    if (!cmd->payload || msnp_mime_parse(cmd->payload, cmd->payload_len, &m)) {
        purple_debug_warning("msn",
                             "a message without MIME headers from %s: "
                             "ignored\n",
                             from);
        return;
    }
    msnp_mime_type(&m, type, sizeof type);
    for (gsize i = 0; i < G_N_ELEMENTS(content_types); i++) {
        if (strcmp(type, content_types[i].type) == 0) {
            content_types[i].fn(sb, from, &m);
            msnp_mime_free(&m);
            return;
        }
    }
    purple_debug_misc("msn", "content type %s from %s: ignored\n", type, from);
    msnp_mime_free(&m);
}

static void on_error(struct sb *sb, const msnp_cmd *cmd)
{
    char *why;

    /* A group chat's CAL refused (217 not online, 208 no such user, 215
     * already there…): the others may still come. The switchboard is given
     * up once nobody is in it and no call is left. */
    if (sb->chat && g_hash_table_remove(sb->ringing,
                                        GUINT_TO_POINTER(msnp_cmd_trid(cmd)))) {
        purple_debug_info("msn", "the group chat's call refused (%d)\n",
                          cmd->error);
        if (g_hash_table_size(sb->ringing) > 0)
            return;
        if (g_hash_table_size(sb->joined) > 0) {
            gathered(sb);
            return;
        }
    }
    why = g_strdup_printf("server error %d: %s", cmd->error,
                          msnp_error_text(cmd->error));

    /* 217: the peer is not online; 208: no such user. Retrying cannot
     * help either. */
    sb_closed(sb, why, cmd->error != 217 && cmd->error != 208);
    g_free(why);
}

/* JOI or IRO: who is in (initial: there before us). */
static void joined(struct sb *sb, const char *arg, gboolean initial)
{
    char *who = g_strdup(msn_normalize(arg));

    if (!*who || strcmp(who, sb->s->email) == 0 ||
        g_hash_table_size(sb->joined) >= CHAT_CALLS_MAX) {
        g_free(who);
        return;
    }
    g_hash_table_foreach_remove(sb->ringing, same_address, who);
    if (g_hash_table_add(sb->joined, g_strdup(who)) && sb->chat)
        groupchat_on_join(sb->s, sb, who, initial);
    g_free(who);
    if (sb->chat && !g_hash_table_size(sb->ringing))
        gathered(sb);
}

static void on_cmd(conn *c, const msnp_cmd *cmd, void *owner)
{
    struct sb *sb = owner;
    msn_session *s = sb->s;

    if (cmd->error) {
        on_error(sb, cmd);
    } else if (strcmp(cmd->name, "USR") == 0 && sb->state == SB_AUTH) {
        sb->state = SB_CALLING;
        if (!sb->chat)
            conn_send(sb->c, "CAL", sb->peer);
        else if (!sb->invite->len)
            sb_closed(sb, "nobody to call", FALSE);
        else {
            call_invited(sb);
            sb->gather_h = purple_timeout_add_seconds(GATHER_SECONDS,
                                                      on_gather_timeout, sb);
        }
    } else if (strcmp(cmd->name, "JOI") == 0 && cmd->argc >= 1) {
        joined(sb, cmd->argv[0], FALSE);
        if (sb->state == SB_CALLING || sb->state == SB_READY)
            ready(sb);
    } else if (strcmp(cmd->name, "IRO") == 0 && cmd->argc >= 4) {
        joined(sb, cmd->argv[3], TRUE);
    } else if (strcmp(cmd->name, "ANS") == 0) {
        ready(sb);
    } else if (strcmp(cmd->name, "MSG") == 0 && cmd->argc >= 1) {
        char *from = g_strdup(msn_normalize(cmd->argv[0]));

        incoming(sb, from, cmd);
        g_free(from);
    } else if (strcmp(cmd->name, "BYE") == 0 && cmd->argc >= 1) {
        char *who = g_strdup(msn_normalize(cmd->argv[0]));

        if (g_hash_table_remove(sb->joined, who) && sb->chat)
            groupchat_on_leave(s, sb, who);
        g_free(who);
        if (g_hash_table_size(sb->joined) == 0 && sb->state == SB_READY)
            sb_closed(sb, "everyone left", TRUE);
    } else if (strcmp(cmd->name, "ACK") == 0) {
        answered(sb, (guint)msnp_cmd_trid(cmd), NULL);
    } else if (strcmp(cmd->name, "NAK") == 0) {
        purple_debug_warning("msn",
                             "the switchboard with %s refused a "
                             "message (NAK)\n",
                             label(sb));
        if (!sb->chat)
            purple_conv_present_error(sb->peer, s->acct,
                                      "The message could not be delivered.");
        answered(sb, (guint)msnp_cmd_trid(cmd),
                 "the server refused the message (NAK)");
    } else if (strcmp(cmd->name, "OUT") == 0) {
        sb_closed(sb, "closed by the server", TRUE);
    }
}

static void on_event(conn *c, const char *why, void *owner)
{
    struct sb *sb = owner;
    char *args;

    if (why) {
        sb_closed(sb, why, TRUE);
        return;
    }
    sb->state = SB_AUTH;
    if (sb->answering) {
        args =
            g_strdup_printf("%s %s %s", sb->s->login, sb->ticket, sb->sessid);
        conn_send(sb->c, "ANS", args);
    } else {
        args = g_strdup_printf("%s %s", sb->s->login, sb->ticket);
        conn_send(sb->c, "USR", args);
    }
    secret_free(args); /* it holds the ticket */
}

static void connect_sb(struct sb *sb, const char *host, int port)
{
    sb->state = SB_CONNECTING;
    sb->c = conn_new(sb->s->acct, host, port, on_cmd, on_event, sb);
    if (!sb->c)
        sb_closed(sb, "could not connect to the switchboard", FALSE);
}

/* ---- the API ----------------------------------------------------------- */

/* Queues one payload for sb, sent once someone is in. */
static void queue_payload(struct sb *sb, const char *payload, gsize len)
{
    struct item *it = g_new0(struct item, 1);

    it->payload = g_string_new_len(payload, (gssize)len);
    g_queue_push_tail(&sb->queue, it);
}

/* Queues text in pieces under the payload limit, and sends what may go. */
static void queue_text(struct sb *sb, const char *text)
{
    gsize room = MSNP_SB_PAYLOAD_MAX - strlen(TEXT_HEADERS);
    char **pieces = msnp_split_utf8(text, room);

    for (char **p = pieces; *p; p++) {
        char *payload = g_strconcat(TEXT_HEADERS, *p, NULL);

        queue_payload(sb, payload, strlen(payload));
        g_free(payload);
    }
    purple_debug_info("msn", "message to %s: %u piece(s)\n", label(sb),
                      g_strv_length(pieces));
    g_strfreev(pieces);
    flush(sb);
}

/* The IM switchboard with who, opened when none is on its way; NULL when
 * who is known to be offline or we are not connected. */
static struct sb *im_sb(msn_session *s, const char *who)
{
    struct sb *sb;
    msn_contact *ct;

    if (s->failed || s->state != NS_ONLINE)
        return NULL;
    sb = sb_find(s, who);
    if (!sb) {
        /* The server answers CAL to an offline contact with 217: refuse
         * now, and the sender can keep the message for later. */
        ct = msn_contact_find(s, who);
        if (ct && (ct->lists & MSN_FL) && !*ct->status)
            return NULL;
        sb = sb_new(s, who, FALSE);
        request(sb);
    }
    return sb;
}

int sb_send_im(msn_session *s, const char *who, const char *text)
{
    struct sb *sb = im_sb(s, who);

    if (!sb)
        return -ENOTCONN;
    queue_text(sb, text);
    return 1;
}

gboolean sb_send_nudge(msn_session *s, const char *who)
{
    struct sb *sb = im_sb(s, who);

    if (!sb)
        return FALSE;
    purple_debug_info("msn", "nudge to %s\n", sb->peer);
    queue_payload(sb, NUDGE_PAYLOAD, strlen(NUDGE_PAYLOAD));
    flush(sb);
    return TRUE;
}

gboolean sb_send_p2p(msn_session *s, const char *who, const char *payload,
                     gsize len)
{
    const char *n = msn_normalize(who);
    struct sb *sb = NULL;
    struct item *it;

    /* In the group chat's switchboard if they are there (P2P-Dest picks
     * them out), else in one of our own with them. */
    for (GList *l = s->sbs; l && !sb; l = l->next) {
        struct sb *c = l->data;

        if (c->chat && peer_in(c) && g_hash_table_contains(c->joined, n))
            sb = c;
    }
    if (!sb)
        sb = im_sb(s, who);
    if (!sb || len > MSNP_SB_PAYLOAD_MAX)
        return FALSE;
    it = g_new0(struct item, 1);
    it->p2p = TRUE;
    it->payload = g_string_new_len(payload, (gssize)len);
    g_queue_push_tail(&sb->queue, it);
    flush(sb);
    return TRUE;
}

/* A mark behind what was queued on sb. */
static void push_mark(struct sb *sb, guint64 id)
{
    struct item *it = g_new0(struct item, 1);

    it->is_mark = TRUE;
    it->mark = id;
    g_queue_push_tail(&sb->queue, it);
    flush(sb);
}

/* Nothing on its way: settled at once (from the main loop, never inside
 * this call). */
static void settle_now(msn_session *s, guint64 id)
{
    if (s->failed || s->state != NS_ONLINE)
        msn_settle(s, id, FALSE, "not connected");
    else
        msn_settle(s, id, TRUE, NULL);
}

int sb_mark(msn_session *s, const char *who, guint64 id)
{
    struct sb *sb = sb_find(s, who);

    if (sb)
        push_mark(sb, id);
    else
        settle_now(s, id);
    return 0;
}

void sb_send_typing(msn_session *s, const char *who)
{
    struct sb *sb = sb_find(s, who);
    char *payload;

    if (!sb || !peer_in(sb))
        return;
    payload = g_strdup_printf(TYPING_HEADERS, s->login);
    conn_send_payload(sb->c, "MSG", "U", payload, strlen(payload));
    g_free(payload);
}

/* ---- group chat switchboards (groupchat.c) ------------------------------ */

struct sb *sb_chat_open(msn_session *s)
{
    struct sb *sb;

    if (s->failed || s->state != NS_ONLINE)
        return NULL;
    sb = sb_new(s, NULL, TRUE);
    request(sb);
    return sb;
}

void sb_invite(struct sb *sb, const char *who)
{
    const char *n = msn_normalize(who);

    if (!sb->chat || g_hash_table_contains(sb->joined, n))
        return;
    if (sb->state == SB_CALLING || sb->state == SB_READY) {
        call(sb, n);
        return;
    }
    for (guint i = 0; i < sb->invite->len; i++)
        if (strcmp(g_ptr_array_index(sb->invite, i), n) == 0)
            return;
    if (sb->invite->len < CHAT_CALLS_MAX)
        g_ptr_array_add(sb->invite, g_strdup(n));
}

void sb_chat_say(struct sb *sb, const char *text)
{
    queue_text(sb, text);
}

void sb_chat_mark(struct sb *sb, guint64 id)
{
    push_mark(sb, id);
}

gboolean sb_has(const struct sb *sb, const char *who)
{
    return g_hash_table_contains(sb->joined, msn_normalize(who));
}

gboolean sb_is_chat(const struct sb *sb)
{
    return sb->chat;
}

gboolean sb_is_ready(const struct sb *sb)
{
    return sb->state == SB_READY;
}

GList *sb_members(const struct sb *sb)
{
    return g_hash_table_get_keys(sb->joined);
}

void sb_leave(struct sb *sb)
{
    msn_session *s = sb->s;

    s->sbs = g_list_remove(s->sbs, sb);
    if (sb->chat)
        groupchat_on_closed(s, sb);
    if (sb->c && conn_is_up(sb->c))
        conn_send_raw(sb->c, "OUT\r\n", 5);
    drop_items(sb, &sb->sent, "left the chat");
    drop_items(sb, &sb->queue, "left the chat");
    sb_free(sb);
}

void sb_on_xfr(msn_session *s, guint trid, const char *host, int port,
               const char *ticket)
{
    for (GList *l = s->sbs; l; l = l->next) {
        struct sb *sb = l->data;

        if (sb->state == SB_XFR && sb->xfr_trid == trid) {
            secret_free(sb->ticket);
            sb->ticket = g_strdup(ticket);
            connect_sb(sb, host, port);
            return;
        }
    }
}

gboolean sb_on_xfr_error(msn_session *s, guint trid, int code)
{
    for (GList *l = s->sbs; l; l = l->next) {
        struct sb *sb = l->data;

        if (sb->state == SB_XFR && sb->xfr_trid == trid) {
            char *why = g_strdup_printf("XFR refused: server error %d: %s",
                                        code, msnp_error_text(code));

            sb_closed(sb, why, FALSE);
            g_free(why);
            return TRUE;
        }
    }
    return FALSE;
}

void sb_on_rng(msn_session *s, const char *sessid, const char *host, int port,
               const char *ticket, const char *caller)
{
    struct sb *sb;

    /* Invitations are the server's (its users') to make: past SB_MAX open
     * switchboards, more are not answered. */
    if (g_list_length(s->sbs) >= SB_MAX) {
        purple_debug_warning("msn",
                             "%u switchboards open: an invitation "
                             "is not answered\n",
                             g_list_length(s->sbs));
        return;
    }
    /* In the group chat's time, a contact's invitation is to the chat;
     * anyone else's stays an IM (and is told where the chat is). */
    sb = sb_new(s, caller, groupchat_wants(s, caller));
    purple_debug_info("msn", "%s invites us to a switchboard%s\n", sb->peer,
                      sb->chat ? " (the group chat)" : "");
    sb->answering = TRUE;
    sb->ticket = g_strdup(ticket);
    sb->sessid = g_strdup(sessid);
    connect_sb(sb, host, port);
}

void sb_ns_ready(msn_session *s)
{
    for (GList *l = s->sbs; l; l = l->next) {
        struct sb *sb = l->data;

        if (sb->state == SB_WAIT_NS)
            request(sb);
    }
}

void sb_free_all(msn_session *s)
{
    while (s->sbs) {
        struct sb *sb = s->sbs->data;

        s->sbs = g_list_delete_link(s->sbs, s->sbs);
        if (sb->c && conn_is_up(sb->c))
            conn_send_raw(sb->c, "OUT\r\n", 5);
        drop_items(sb, &sb->sent, "connection lost");
        drop_items(sb, &sb->queue, "connection lost");
        sb_free(sb);
    }
}
