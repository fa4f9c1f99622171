/* yahoo: the libpurple protocol plugin prpl-imgroups-yahoo, speaking YMSG10
 * to Yahoo Messenger revival servers: connection and login, the buddy list,
 * presence both ways, IMs, typing, buzzes, conferences (libpurple chats),
 * buddies' display pictures and keep-alive pings. The wire format, the
 * login algorithm, the cookies, the conference packets and the picture
 * fetch live in ymsg.c, yauth.c, ycookie.c, yconf.c and ypic.c. */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>
#include <purple.h>

#include "imgroups_prpl.h"
#include "secret.h"
#include "yconf.h"
#include "ycookie.h"
#include "ypic.h"
#include "yauth.h"
#include "ymsg.h"

#define PLUGIN_ID  "prpl-imgroups-yahoo"
#define DEBUG_AREA "yahoo"
#define OPT_SERVER "server"
#define OPT_PORT   "port"
#define DEF_SERVER "scs.msg.yahoo.com"
#define DEF_PORT   5050
#define DEF_GROUP  "Buddies"
/* The Y and T cookies of the last LIST, kept as account settings: the
 * worker's libpurple saves them in accounts.xml in its --user-dir (within
 * 5 s of a change) with the account, so a restarted worker replays
 * them. */
#define SET_COOKIE_Y "ymsg-cookie-y"
#define SET_COOKIE_T "ymsg-cookie-t"
/* What a YM 5.5 client says it is; revival servers check only the key. */
#define CLIENT_VERSION "5, 5, 0, 1246"

/* Ping every PINGCONF seconds (60 unless told); a server silent for
 * PING_MISSES intervals is gone. */
#define PING_DEFAULT_S  60
#define PING_MIN_S      5
#define PING_MAX_S      3600
#define PING_MISSES     3
#define LOGIN_TIMEOUT_S 30
#define TYPING_REPEAT_S 5
#define READ_SIZE       8192

/* Our status ids, as libpurple and the bridge see them. */
#define ST_AVAILABLE "available"
#define ST_AWAY      "away"
#define ST_BUSY      "busy"
#define ST_INVISIBLE "invisible"
#define ST_OFFLINE   "offline"

/* Yahoo's status codes (key 10). */
enum {
    YS_AVAILABLE = 0,
    YS_BRB = 1,
    YS_BUSY = 2,
    YS_ONPHONE = 6,
    YS_INVISIBLE = 12,
    YS_CUSTOM = 99,
    YS_IDLE = 999,
    YS_OFFLINE = 0x5A55AA55,
};

/* Key 47 on a custom status: what the custom text means. */
enum { AWAY_NONE = 0, AWAY_BUSY = 1, AWAY_AWAY = 2 };

/* A conference we are in: a libpurple chat of id on our connection. Who
 * is in it is the chat's user list. */
struct yconf {
    char *room;
    int id;
    GHashTable *invited; /* normalised id → 1: asked in once this session */
};

/* A buddy's picture being fetched. */
struct yfetch {
    struct yconn *y;
    char *who, *checksum;
    PurpleUtilFetchUrlData *req;
};

/* Pictures fetched at once; a checksum seen meanwhile asks again later. */
#define FETCHES_MAX 8

/* An "add" request waiting for the UI's answer. */
struct yreq {
    struct yconn *y;
    char *who;
};

/* One connection: the protocol data of a PurpleConnection. */
struct yconn {
    PurpleConnection *gc;
    PurpleProxyConnectData *connecting;
    int fd;
    guint read_id, write_id;
    PurpleCircBuffer *out;
    ymsg_reader *in;
    guint32 session;
    guint login_id, ping_id;
    guint ping_s;
    gint64 last_recv_us;
    gboolean logged_in;
    gboolean failed;       /* an error was reported: the connection is going */
    gboolean sent_cookies; /* the login response carried Y and T */
    GHashTable *server_list; /* normalised id → 1: buddies the server has */
    GList *confs;            /* struct yconf */
    int next_conf_id;
    /* The login's buddy presence is in (our own LOGON, or PINGCONF that
     * follows it): conferences are opened from then on, inviting who is
     * online. */
    gboolean buddies_known;
    GList *fetches; /* struct yfetch */
    GList *reqs;    /* struct yreq */
    /* Delivery marks (imgroups_prpl.h): YMSG has no acks, so a mark is
     * confirmed once every byte queued before it went into the socket. */
    guint64 queued;  /* bytes ever put in out */
    guint64 written; /* bytes ever taken by the socket */
    GQueue marks;    /* struct ymark, by upto */
    GQueue settled;  /* struct ysettled, not yet told */
    guint settle_id; /* the idle that tells them */
};

/* A mark waiting for the socket to take its first upto bytes. */
struct ymark {
    guint64 id;
    guint64 upto;
};

struct ysettled {
    guint64 id;
    gboolean ok;
    char *why; /* NULL when ok */
};

static void conf_buddy_online(struct yconn *y, const char *who);
static void conf_buddy_gone(struct yconn *y, const char *who);
static void conf_open_all(struct yconn *y);
static void picture_seen(struct yconn *y, const char *who,
                         const char *checksum);

/* The plugin, for emitting its signal; set while loaded. */
static PurplePlugin *yahoo_plugin;

/* ---- helpers ----------------------------------------------------------- */

static const char *yahoo_normalize(const PurpleAccount *acct, const char *who)
{
    static char buf[256];
    char *low = g_ascii_strdown(who ? who : "", -1);

    g_strlcpy(buf, g_strstrip(low), sizeof buf);
    g_free(low);
    return buf;
}

static const char *me(struct yconn *y)
{
    return purple_account_get_username(purple_connection_get_account(y->gc));
}

static gboolean is_me(struct yconn *y, const char *who)
{
    return who && g_ascii_strcasecmp(who, me(y)) == 0;
}

/* Reports the connection lost or refused; it is closed by libpurple
 * later, and nothing more is read or sent on it. */
static void G_GNUC_PRINTF(3, 4)
    fail(struct yconn *y, PurpleConnectionError reason, const char *fmt, ...)
{
    va_list ap;
    char *text;

    if (y->failed)
        return;
    y->failed = TRUE;
    va_start(ap, fmt);
    text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    purple_debug_warning(DEBUG_AREA, "%s\n", text);
    purple_connection_error_reason(y->gc, reason, text);
    g_free(text);
}

/* ---- delivery marks ---------------------------------------------------- */

/* Tells every settled mark, in order. */
static void tell_settled(struct yconn *y)
{
    struct ysettled *d;

    while ((d = g_queue_pop_head(&y->settled))) {
        imgroups_delivery del = {.id = d->id, .ok = d->ok, .why = d->why};

        purple_debug_info(DEBUG_AREA,
                          "delivery mark %" G_GUINT64_FORMAT ": %s\n", d->id,
                          d->ok ? "written" : d->why);
        if (yahoo_plugin)
            purple_signal_emit(yahoo_plugin, IMGROUPS_PRPL_DELIVERY_SIGNAL,
                               y->gc, &del);
        g_free(d->why);
        g_free(d);
    }
}

static gboolean on_settle(gpointer data)
{
    struct yconn *y = data;

    y->settle_id = 0;
    tell_settled(y);
    return FALSE;
}

/* Queues the signal for mark id; told from the main loop, never inside the
 * caller. */
static void settle(struct yconn *y, guint64 id, gboolean ok, const char *why)
{
    struct ysettled *d = g_new0(struct ysettled, 1);

    d->id = id;
    d->ok = ok;
    d->why = ok ? NULL : g_strdup(why);
    g_queue_push_tail(&y->settled, d);
    if (!y->settle_id)
        y->settle_id = purple_timeout_add(0, on_settle, y);
}

/* Settles the marks whose bytes the socket has all taken. */
static void settle_written(struct yconn *y)
{
    struct ymark *m;

    while ((m = g_queue_peek_head(&y->marks)) && m->upto <= y->written) {
        g_queue_pop_head(&y->marks);
        settle(y, m->id, TRUE, NULL);
        g_free(m);
    }
}

/* Settles every open mark as failed (why). */
static void settle_lost(struct yconn *y, const char *why)
{
    struct ymark *m;

    while ((m = g_queue_pop_head(&y->marks))) {
        settle(y, m->id, FALSE, why);
        g_free(m);
    }
}

/* ---- writing ----------------------------------------------------------- */

static void on_writable(gpointer data, gint fd, PurpleInputCondition cond);

/* Writes what the buffer holds, as far as the socket takes it. */
static void flush(struct yconn *y)
{
    gsize n;

    while (!y->failed && (n = purple_circ_buffer_get_max_read(y->out)) > 0) {
        ssize_t w = send(y->fd, y->out->outptr, n, MSG_NOSIGNAL);

        if (w < 0 &&
            (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            break;
        }
        if (w < 0) {
            fail(y, PURPLE_CONNECTION_ERROR_NETWORK_ERROR,
                 "Lost connection with the server: %s", g_strerror(errno));
            return;
        }
        purple_circ_buffer_mark_read(y->out, (gsize)w);
        y->written += (guint64)w;
    }
    settle_written(y);
    if (purple_circ_buffer_get_max_read(y->out) > 0 && !y->write_id)
        y->write_id =
            purple_input_add(y->fd, PURPLE_INPUT_WRITE, on_writable, y);
    else if (purple_circ_buffer_get_max_read(y->out) == 0 && y->write_id) {
        purple_input_remove(y->write_id);
        y->write_id = 0;
    }
}

static void on_writable(gpointer data, gint fd, PurpleInputCondition cond)
{
    flush(data);
}

/* Sends pkt and frees it. Returns 0, or a negative errno: -ENOTCONN when
 * the connection is not there, -EMSGSIZE when pkt does not fit a packet. */
static int send_pkt(struct yconn *y, ymsg_pkt *pkt)
{
    GByteArray *bytes;
    int rc = 0;

    if (y->fd < 0 || y->failed) {
        ymsg_pkt_free(pkt);
        return -ENOTCONN;
    }
    pkt->session = y->session;
    bytes = g_byte_array_new();
    if (ymsg_encode(pkt, bytes) < 0) {
        purple_debug_warning(DEBUG_AREA, "a %s packet too big to send\n",
                             ymsg_service_name(pkt->service));
        rc = -EMSGSIZE;
    } else {
        purple_debug_misc(DEBUG_AREA, "sending %s (%u pairs)\n",
                          ymsg_service_name(pkt->service), pkt->pairs->len);
        purple_circ_buffer_append(y->out, bytes->data, bytes->len);
        y->queued += bytes->len;
        flush(y);
        if (y->failed)
            rc = -ECONNRESET;
    }
    g_byte_array_unref(bytes);
    ymsg_pkt_free(pkt);
    return rc;
}

/* ---- presence ---------------------------------------------------------- */

/* A Yahoo status code (key 10) with no custom text, and our status. */
static const struct {
    gint64 code;
    const char *id;
} codes[] = {
    {YS_AVAILABLE, ST_AVAILABLE}, {YS_BUSY, ST_BUSY},
    {YS_ONPHONE, ST_BUSY},        {YS_INVISIBLE, ST_OFFLINE},
    {YS_OFFLINE, ST_OFFLINE},
};

/* Custom statuses (code 99) by key 47. */
static const struct {
    gint64 away;
    const char *id;
} custom_codes[] = {
    {AWAY_NONE, ST_AVAILABLE},
    {AWAY_BUSY, ST_BUSY},
    {AWAY_AWAY, ST_AWAY},
};

static const char *status_id(gint64 code, gint64 away)
{
    if (code == YS_CUSTOM) {
        for (gsize i = 0; i < G_N_ELEMENTS(custom_codes); i++)
            if (custom_codes[i].away == away)
                return custom_codes[i].id;
        return ST_AWAY;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(codes); i++)
        if (codes[i].code == code)
            return codes[i].id;
    /* Be right back, not at home, stepped out, idle…: away. */
    return ST_AWAY;
}

/* One buddy's record in a presence packet: key 7 and what follows it. */
struct brec {
    const char *who, *msg, *picture; /* picture: its checksum (key 192) */
    gint64 code, away, online;
};

static void brec_apply(struct yconn *y, const struct brec *r, gboolean logoff)
{
    PurpleAccount *acct = purple_connection_get_account(y->gc);
    PurpleBuddy *b;
    gboolean was_online;
    const char *id;

    if (!r->who || !*r->who || is_me(y, r->who))
        return;
    id = logoff || r->online == 0 ? ST_OFFLINE : status_id(r->code, r->away);
    b = purple_find_buddy(acct, r->who);
    was_online = b && PURPLE_BUDDY_IS_ONLINE(b);
    purple_debug_info(DEBUG_AREA, "%s is %s\n", r->who, id);
    if (r->msg && *r->msg && strcmp(id, ST_OFFLINE) != 0) {
        char *msg = ymsg_text_to_utf8(r->msg);

        purple_prpl_got_user_status(acct, r->who, id, "message", msg, NULL);
        g_free(msg);
    } else {
        purple_prpl_got_user_status(acct, r->who, id, NULL);
    }
    /* Nobody offline is in a conference; a buddy coming online is asked
     * into ours. */
    if (strcmp(id, ST_OFFLINE) == 0)
        conf_buddy_gone(y, r->who);
    else if (!was_online)
        conf_buddy_online(y, r->who);
    if (r->picture && strcmp(id, ST_OFFLINE) != 0)
        picture_seen(y, r->who, r->picture);
}

/* The buddies' records in pkt: each starts at a key 7. */
static void buddy_records(struct yconn *y, const ymsg_pkt *pkt, gboolean logoff)
{
    struct brec r = {0};

    for (guint i = 0; i < pkt->pairs->len; i++) {
        const ymsg_pair *p = ymsg_pkt_pair(pkt, i);
        gint64 n = g_ascii_strtoll(p->value, NULL, 10);

        switch (p->key) {
        case 7:
            brec_apply(y, &r, logoff);
            r = (struct brec){.who = p->value, .online = -1};
            break;
        case 10:
            r.code = n;
            break;
        case 19:
            r.msg = p->value;
            break;
        case 192:
            r.picture = p->value;
            break;
        case 47:
            r.away = n;
            break;
        case 13:
            r.online = n;
            break;
        default:
            break;
        }
    }
    brec_apply(y, &r, logoff);
}

/* Our own status to the server. */
static void send_status(struct yconn *y, PurpleStatus *status)
{
    PurpleStatusPrimitive prim =
        purple_status_type_get_primitive(purple_status_get_type(status));
    const char *attr = purple_status_get_attr_string(status, "message");
    char *msg = attr && *attr ? purple_markup_strip_html(attr) : NULL;
    ymsg_pkt *pkt;

    if (prim == PURPLE_STATUS_AVAILABLE && !msg) {
        pkt = ymsg_pkt_new(YMSG_ISBACK, YS_AVAILABLE, 0);
        ymsg_pkt_add_int(pkt, 10, YS_AVAILABLE);
    } else if (prim == PURPLE_STATUS_INVISIBLE) {
        pkt = ymsg_pkt_new(YMSG_ISAWAY, YS_INVISIBLE, 0);
        ymsg_pkt_add_int(pkt, 10, YS_INVISIBLE);
    } else if (prim == PURPLE_STATUS_UNAVAILABLE && !msg) {
        pkt = ymsg_pkt_new(YMSG_ISAWAY, YS_BUSY, 0);
        ymsg_pkt_add_int(pkt, 10, YS_BUSY);
    } else {
        gint64 away = prim == PURPLE_STATUS_AVAILABLE     ? AWAY_NONE
                      : prim == PURPLE_STATUS_UNAVAILABLE ? AWAY_BUSY
                                                          : AWAY_AWAY;

        pkt = ymsg_pkt_new(YMSG_ISAWAY, YS_CUSTOM, 0);
        ymsg_pkt_add_int(pkt, 10, YS_CUSTOM);
        ymsg_pkt_add(pkt, 19, msg ? msg : "Away");
        ymsg_pkt_add_int(pkt, 47, away);
    }
    send_pkt(y, pkt);
    g_free(msg);
}

/* ---- keep-alive -------------------------------------------------------- */

static gboolean on_ping(gpointer data)
{
    struct yconn *y = data;
    gint64 silent_s =
        (g_get_monotonic_time() - y->last_recv_us) / G_USEC_PER_SEC;
    ymsg_pkt *pkt;

    if (silent_s >= (gint64)y->ping_s * PING_MISSES) {
        y->ping_id = 0;
        fail(y, PURPLE_CONNECTION_ERROR_NETWORK_ERROR,
             "No answer from the server for %" G_GINT64_FORMAT " s", silent_s);
        return FALSE;
    }
    pkt = ymsg_pkt_new(YMSG_PING, 0, 0);
    ymsg_pkt_add(pkt, 0, me(y));
    send_pkt(y, pkt);
    return TRUE;
}

static void ping_start(struct yconn *y)
{
    if (y->ping_id)
        purple_timeout_remove(y->ping_id);
    y->ping_id = purple_timeout_add_seconds(y->ping_s, on_ping, y);
}

/* ---- cookies ----------------------------------------------------------- */

/* The settings a cookie letter is kept under. */
static const struct {
    char which;
    const char *setting;
} cookie_settings[] = {
    {'Y', SET_COOKIE_Y},
    {'T', SET_COOKIE_T},
};

/* The stored cookie of a letter, or NULL (none, or not one we would have
 * stored: the file may have been edited). Borrowed from the account. */
static const char *stored_cookie(PurpleAccount *acct, gsize i)
{
    const char *v =
        purple_account_get_string(acct, cookie_settings[i].setting, NULL);

    return ycookie_valid(v) ? v : NULL;
}

/* Adds the stored Y and T cookies to pkt as two key-59 pairs, as real
 * clients send them back (a cookie-less second login of an id can be
 * left without an answer by the server). Both or none; returns TRUE if
 * added. */
static gboolean add_cookies(struct yconn *y, ymsg_pkt *pkt)
{
    PurpleAccount *acct = purple_connection_get_account(y->gc);

    for (gsize i = 0; i < G_N_ELEMENTS(cookie_settings); i++)
        if (!stored_cookie(acct, i))
            return FALSE;
    for (gsize i = 0; i < G_N_ELEMENTS(cookie_settings); i++) {
        char *pair =
            ycookie_pair(cookie_settings[i].which, stored_cookie(acct, i));

        ymsg_pkt_add(pkt, YCOOKIE_KEY, pair);
        secret_wipe(pair, strlen(pair));
        g_free(pair);
    }
    /* The values are session credentials: never in the log. */
    purple_debug_info(DEBUG_AREA, "sending the Y and T cookies\n");
    return TRUE;
}

/* Keeps the Y and T cookies of a LIST packet. */
static void keep_cookies(struct yconn *y, const ymsg_pkt *pkt)
{
    PurpleAccount *acct = purple_connection_get_account(y->gc);
    int kept = 0;

    for (guint i = 0; i < pkt->pairs->len; i++) {
        const ymsg_pair *p = ymsg_pkt_pair(pkt, i);
        char which, *value;

        if (p->key != YCOOKIE_KEY || ycookie_parse(p->value, &which, &value))
            continue;
        for (gsize j = 0; j < G_N_ELEMENTS(cookie_settings); j++) {
            if (cookie_settings[j].which != which)
                continue;
            if (g_strcmp0(purple_account_get_string(
                              acct, cookie_settings[j].setting, NULL),
                          value) != 0)
                purple_account_set_string(acct, cookie_settings[j].setting,
                                          value);
            kept++;
        }
        secret_wipe(value, strlen(value));
        g_free(value);
    }
    if (kept)
        purple_debug_info(DEBUG_AREA, "kept %d of the Y/T cookies\n", kept);
}

/* Forgets the stored cookies: the server did not take them. */
static void drop_cookies(struct yconn *y)
{
    PurpleAccount *acct = purple_connection_get_account(y->gc);

    for (gsize i = 0; i < G_N_ELEMENTS(cookie_settings); i++)
        purple_account_remove_setting(acct, cookie_settings[i].setting);
}

/* ---- login ------------------------------------------------------------- */

static void logged_in(struct yconn *y)
{
    PurpleAccount *acct = purple_connection_get_account(y->gc);
    PurpleStatus *status = purple_account_get_active_status(acct);

    if (y->logged_in)
        return;
    y->logged_in = TRUE;
    if (y->login_id)
        purple_timeout_remove(y->login_id);
    y->login_id = 0;
    purple_connection_set_state(y->gc, PURPLE_CONNECTED);
    ping_start(y);
    /* The server puts us online as available; say otherwise if we are
     * not. */
    if (status && !purple_status_is_available(status))
        send_status(y, status);
}

static gboolean on_login_timeout(gpointer data)
{
    struct yconn *y = data;

    y->login_id = 0;
    /* Cookies the server does not take would lock the next logins out
     * too: the next one goes without them. */
    if (y->sent_cookies) {
        purple_debug_warning(DEBUG_AREA, "no answer to a login with cookies: "
                                         "the next login goes without them\n");
        drop_cookies(y);
    }
    fail(y, PURPLE_CONNECTION_ERROR_NETWORK_ERROR,
         "The server did not complete the login within %d s", LOGIN_TIMEOUT_S);
    return FALSE;
}

static void on_verify(struct yconn *y, const ymsg_pkt *pkt)
{
    ymsg_pkt *auth = ymsg_pkt_new(YMSG_AUTH, 0, 0);

    purple_connection_update_progress(y->gc, "Requesting the challenge", 2, 4);
    ymsg_pkt_add(auth, 1, me(y));
    send_pkt(y, auth);
}

static void on_auth(struct yconn *y, const ymsg_pkt *pkt)
{
    const char *chal = ymsg_pkt_get(pkt, 94);
    const char *password = purple_connection_get_password(y->gc);
    char r6[YAUTH_RESPONSE_SIZE], r96[YAUTH_RESPONSE_SIZE];
    ymsg_pkt *resp;

    if (!chal ||
        yauth_response(me(y), password ? password : "", chal, r6, r96) < 0) {
        fail(y, PURPLE_CONNECTION_ERROR_NETWORK_ERROR,
             "The server sent no usable login challenge");
        return;
    }
    purple_connection_update_progress(y->gc, "Authenticating", 3, 4);
    resp = ymsg_pkt_new(YMSG_AUTHRESP, 0, 0);
    ymsg_pkt_add(resp, 0, me(y));
    ymsg_pkt_add(resp, 6, r6);
    ymsg_pkt_add(resp, 96, r96);
    ymsg_pkt_add(resp, 2, me(y));
    ymsg_pkt_add(resp, 1, me(y));
    ymsg_pkt_add(resp, 135, CLIENT_VERSION);
    y->sent_cookies = add_cookies(y, resp);
    send_pkt(y, resp);
    secret_wipe(r6, sizeof r6);
    secret_wipe(r96, sizeof r96);
}

/* Login refusals (AUTHRESP key 66). */
static const struct {
    gint64 code;
    PurpleConnectionError reason;
    const char *text;
} refusals[] = {
    {3, PURPLE_CONNECTION_ERROR_AUTHENTICATION_FAILED,
     "Login refused: the server does not know this Yahoo ID (error 3)"},
    {13, PURPLE_CONNECTION_ERROR_AUTHENTICATION_FAILED,
     "Login refused: incorrect password (error 13)"},
    {14, PURPLE_CONNECTION_ERROR_AUTHENTICATION_FAILED,
     "Login refused: the account is locked (error 14)"},
};

static void on_authresp(struct yconn *y, const ymsg_pkt *pkt)
{
    gint64 code = ymsg_pkt_get_int(pkt, 66, -1);

    if (pkt->status != YMSG_ST_FAILED && code <= 0)
        return;
    for (gsize i = 0; i < G_N_ELEMENTS(refusals); i++) {
        if (refusals[i].code == code) {
            fail(y, refusals[i].reason, "%s", refusals[i].text);
            return;
        }
    }
    fail(y, PURPLE_CONNECTION_ERROR_AUTHENTICATION_FAILED,
         "Login refused by the server (error %" G_GINT64_FORMAT ")", code);
}

/* ---- the buddy list ---------------------------------------------------- */

static PurpleGroup *group_named(const char *name)
{
    PurpleGroup *g = purple_find_group(name);

    if (!g) {
        g = purple_group_new(name);
        purple_blist_add_group(g, NULL);
    }
    return g;
}

/* Key 87: "Group:id1,id2\n" lines. */
static void list_groups(struct yconn *y, const char *text)
{
    PurpleAccount *acct = purple_connection_get_account(y->gc);
    char **lines = g_strsplit(text, "\n", -1);

    for (char **l = lines; *l; l++) {
        char *colon = strchr(*l, ':');
        char **ids;

        if (!colon)
            continue;
        *colon = '\0';
        ids = g_strsplit(colon + 1, ",", -1);
        for (char **id = ids; *id; id++) {
            const char *who = g_strstrip(*id);

            if (!*who)
                continue;
            g_hash_table_replace(y->server_list,
                                 g_strdup(yahoo_normalize(acct, who)),
                                 GINT_TO_POINTER(1));
            if (!purple_find_buddy(acct, who)) {
                PurpleBuddy *b = purple_buddy_new(acct, who, NULL);

                purple_blist_add_buddy(
                    b, NULL, group_named(*l[0] ? *l : DEF_GROUP), NULL);
            }
        }
        g_strfreev(ids);
    }
    g_strfreev(lines);
}

static void send_friendadd(struct yconn *y, const char *who, const char *group)
{
    ymsg_pkt *pkt = ymsg_pkt_new(YMSG_FRIENDADD, 0, 0);

    ymsg_pkt_add(pkt, 1, me(y));
    ymsg_pkt_add(pkt, 7, who);
    ymsg_pkt_add(pkt, 65, group ? group : DEF_GROUP);
    send_pkt(y, pkt);
    g_hash_table_replace(
        y->server_list,
        g_strdup(yahoo_normalize(purple_connection_get_account(y->gc), who)),
        GINT_TO_POINTER(1));
}

/* Buddies we have that the server lost (a server restarted from an old
 * state): put on its list again. */
static void list_sync(struct yconn *y)
{
    PurpleAccount *acct = purple_connection_get_account(y->gc);
    GSList *buddies = purple_find_buddies(acct, NULL);

    for (GSList *l = buddies; l; l = l->next) {
        PurpleBuddy *b = l->data;
        const char *who = purple_buddy_get_name(b);

        if (!g_hash_table_contains(y->server_list, yahoo_normalize(acct, who)))
            send_friendadd(y, who,
                           purple_group_get_name(purple_buddy_get_group(b)));
    }
    g_slist_free(buddies);
}

static void on_list(struct yconn *y, const ymsg_pkt *pkt)
{
    keep_cookies(y, pkt);
    for (guint i = 0; i < pkt->pairs->len; i++)
        if (ymsg_pkt_pair(pkt, i)->key == 87)
            list_groups(y, ymsg_pkt_pair(pkt, i)->value);
    if (pkt->status == YMSG_ST_MORE)
        return;
    if (!y->logged_in) {
        list_sync(y);
        logged_in(y);
    }
}

static void on_friendadd(struct yconn *y, const ymsg_pkt *pkt)
{
    const char *who = ymsg_pkt_get(pkt, 7);
    gint64 code = ymsg_pkt_get_int(pkt, 66, 0);

    if (code == 0 || code == 2)
        return;
    purple_debug_warning(DEBUG_AREA, "the server refused to add %s (%d)\n",
                         who ? who : "?", (int)code);
    if (who)
        g_hash_table_remove(
            y->server_list,
            yahoo_normalize(purple_connection_get_account(y->gc), who));
}

/* ---- somebody added us ------------------------------------------------- */

static void req_free(struct yreq *r)
{
    g_free(r->who);
    g_free(r);
}

static void req_done(struct yreq *r)
{
    r->y->reqs = g_list_remove(r->y->reqs, r);
    req_free(r);
}

/* YMSG10 asks nobody's consent to add them: accepting sends nothing. */
static void on_req_accept(void *data)
{
    struct yreq *r = data;

    purple_debug_info(DEBUG_AREA, "%s may keep us as a buddy\n", r->who);
    req_done(r);
}

static void on_req_deny(void *data)
{
    struct yreq *r = data;
    ymsg_pkt *pkt = ymsg_pkt_new(YMSG_REJECTCONTACT, 0, 0);

    purple_debug_info(DEBUG_AREA, "refusing %s\n", r->who);
    ymsg_pkt_add(pkt, 1, me(r->y));
    ymsg_pkt_add(pkt, 7, r->who);
    ymsg_pkt_add(pkt, 14, "");
    send_pkt(r->y, pkt);
    req_done(r);
}

static void on_newcontact(struct yconn *y, const ymsg_pkt *pkt)
{
    PurpleAccount *acct = purple_connection_get_account(y->gc);
    const char *adder = ymsg_pkt_get(pkt, 3);
    const char *msg = ymsg_pkt_get(pkt, 14);
    struct yreq *r;
    char *text;

    if (!adder || (pkt->status != YMSG_ST_ADDED && ymsg_pkt_get(pkt, 7))) {
        /* A buddy's status, as after we added them. */
        buddy_records(y, pkt, FALSE);
        return;
    }
    if (is_me(y, adder))
        return;
    r = g_new0(struct yreq, 1);
    r->y = y;
    r->who = g_strdup(adder);
    y->reqs = g_list_prepend(y->reqs, r);
    text = msg ? ymsg_text_to_utf8(msg) : NULL;
    purple_debug_info(DEBUG_AREA, "%s added us\n", adder);
    purple_account_request_authorization(acct, adder, NULL, NULL, text,
                                         purple_find_buddy(acct, adder) != NULL,
                                         on_req_accept, on_req_deny, r);
    g_free(text);
}

/* ---- presence pushes --------------------------------------------------- */

static void on_logon(struct yconn *y, const ymsg_pkt *pkt)
{
    /* Our own LOGON ends the login where no LIST came first. */
    if (!y->logged_in && !ymsg_pkt_get(pkt, 7))
        logged_in(y);
    buddy_records(y, pkt, FALSE);
    if (y->logged_in && is_me(y, ymsg_pkt_get(pkt, 1)))
        conf_open_all(y);
}

static void on_logoff(struct yconn *y, const ymsg_pkt *pkt)
{
    if (!ymsg_pkt_get(pkt, 7)) {
        if (pkt->status == YMSG_ST_FAILED)
            fail(y, PURPLE_CONNECTION_ERROR_NAME_IN_USE,
                 "Signed on from another location");
        return;
    }
    buddy_records(y, pkt, TRUE);
}

static void on_status(struct yconn *y, const ymsg_pkt *pkt)
{
    buddy_records(y, pkt, FALSE);
}

/* ---- messages ---------------------------------------------------------- */

/* "<ding>" alone is a buzz, not text. */
#define BUZZ "<ding>"
/* The one attention type: Yahoo's buzz. */
#define ATTENTION_BUZZ 0

/* A message body as libpurple wants it: UTF-8, Yahoo's codes dropped,
 * escaped HTML; NULL when nothing is left. Caller frees. */
static char *text_in(const char *raw)
{
    char *utf8 = ymsg_text_to_utf8(raw);
    char *plain = ymsg_text_strip(utf8);
    char *escaped, *html = NULL;

    if (*plain) {
        escaped = purple_markup_escape_text(plain, -1);
        html = purple_strdup_withhtml(escaped);
        g_free(escaped);
    }
    g_free(plain);
    g_free(utf8);
    return html;
}

static void got_message(struct yconn *y, const char *from, const char *text,
                        time_t when)
{
    char *html;

    if (!from || !text)
        return;
    if (strcmp(text, BUZZ) == 0) {
        purple_debug_info(DEBUG_AREA, "a buzz from %s\n", from);
        purple_prpl_got_attention(y->gc, from, ATTENTION_BUZZ);
        return;
    }
    html = text_in(text);
    purple_debug_info(DEBUG_AREA, "IM from %s (%zu bytes)\n", from,
                      strlen(text));
    if (html)
        serv_got_im(y->gc, from, html, 0, when ? when : time(NULL));
    g_free(html);
}

/* One packet may hold several messages (offline ones at login): each
 * starts at a key 31 or at a second key 4. */
static void on_message(struct yconn *y, const ymsg_pkt *pkt)
{
    const char *from = NULL, *text = NULL;
    time_t when = 0;

    if (pkt->status == YMSG_ST_FAILED) {
        purple_debug_warning(DEBUG_AREA, "the server could not deliver a "
                                         "message\n");
        return;
    }
    for (guint i = 0; i < pkt->pairs->len; i++) {
        const ymsg_pair *p = ymsg_pkt_pair(pkt, i);

        if ((p->key == 31 || p->key == 4) && from) {
            got_message(y, from, text, when);
            from = text = NULL;
            when = 0;
        }
        if (p->key == 4)
            from = p->value;
        else if (p->key == 14)
            text = p->value;
        else if (p->key == 15)
            when = (time_t)g_ascii_strtoll(p->value, NULL, 10);
    }
    got_message(y, from, text, when);
}

static void on_notify(struct yconn *y, const ymsg_pkt *pkt)
{
    const char *what = ymsg_pkt_get(pkt, 49);
    const char *from = ymsg_pkt_get(pkt, 4);

    if (!from || g_strcmp0(what, "TYPING") != 0)
        return;
    if (ymsg_pkt_get_int(pkt, 13, 0) == 1)
        serv_got_typing(y->gc, from, 0, PURPLE_TYPING);
    else
        serv_got_typing_stopped(y->gc, from);
}

static void on_pingconf(struct yconn *y, const ymsg_pkt *pkt)
{
    gint64 s = ymsg_pkt_get_int(pkt, 143, PING_DEFAULT_S);

    y->ping_s = (guint)CLAMP(s, PING_MIN_S, PING_MAX_S);
    purple_debug_info(DEBUG_AREA, "pinging every %u s\n", y->ping_s);
    if (y->logged_in) {
        ping_start(y);
        conf_open_all(y);
    }
}

static void on_ignored(struct yconn *y, const ymsg_pkt *pkt)
{
}

/* ---- buddies' pictures ------------------------------------------------- */

/* Key 13 of a PICTURE packet. */
enum { PIC_REQUEST = 1, PIC_INFO = 2 };
/* Key 206 of a PICTURE_UPDATE: what the buddy shows now. */
enum { PIC_NONE = 0, PIC_AVATAR = 1, PIC_ICON = 2 };

static void fetch_free(struct yfetch *f)
{
    g_free(f->who);
    g_free(f->checksum);
    g_free(f);
}

static struct yfetch *fetch_of(struct yconn *y, const char *who)
{
    for (GList *l = y->fetches; l; l = l->next)
        if (g_ascii_strcasecmp(((struct yfetch *)l->data)->who, who) == 0)
            return l->data;
    return NULL;
}

/* TRUE when who is a buddy whose picture is the one of checksum. */
static gboolean picture_current(struct yconn *y, const char *who,
                                const char *checksum)
{
    PurpleBuddy *b =
        purple_find_buddy(purple_connection_get_account(y->gc), who);

    return b && g_strcmp0(purple_buddy_icons_get_checksum_for_user(b),
                          checksum) == 0;
}

/* Asks who for their picture's URL (0xBE, 13 = 1). */
static void picture_ask(struct yconn *y, const char *who)
{
    ymsg_pkt *pkt = ymsg_pkt_new(YMSG_PICTURE, 0, 0);

    ymsg_pkt_add(pkt, 4, me(y));
    ymsg_pkt_add(pkt, 5, who);
    ymsg_pkt_add_int(pkt, 13, PIC_REQUEST);
    send_pkt(y, pkt);
}

/* A buddy's picture has checksum: asked for unless it is the one we
 * have or are fetching. */
static void picture_seen(struct yconn *y, const char *who, const char *checksum)
{
    struct yfetch *f = fetch_of(y, who);

    if (!ypic_checksum_ok(checksum) || is_me(y, who) ||
        !purple_find_buddy(purple_connection_get_account(y->gc), who) ||
        picture_current(y, who, checksum) ||
        (f && g_strcmp0(f->checksum, checksum) == 0))
        return;
    purple_debug_info(DEBUG_AREA, "%s has a new picture: asking for it\n", who);
    picture_ask(y, who);
}

static void on_fetched(PurpleUtilFetchUrlData *req, gpointer data,
                       const gchar *bytes, gsize len, const gchar *error)
{
    struct yfetch *f = data;
    struct yconn *y = f->y;
    const char *type =
        bytes ? ypic_image_type((const guint8 *)bytes, len) : NULL;

    y->fetches = g_list_remove(y->fetches, f);
    if (error || !type || len > YPIC_MAX) {
        purple_debug_info(DEBUG_AREA, "picture of %s not taken: %s\n", f->who,
                          error ? error : "not a PNG, JPEG or GIF");
    } else {
        purple_debug_info(DEBUG_AREA, "picture of %s: %zu bytes of %s\n",
                          f->who, len, type);
        /* libpurple takes the copy. */
        purple_buddy_icons_set_for_user(purple_connection_get_account(y->gc),
                                        f->who, g_memdup2(bytes, len), len,
                                        f->checksum);
    }
    fetch_free(f);
}

/* Fetches who's picture from url; the Y and T cookies go along only to
 * the server that gave them. */
static void picture_fetch(struct yconn *y, const char *who, const char *url,
                          const char *checksum)
{
    PurpleAccount *acct = purple_connection_get_account(y->gc);
    const char *server =
        purple_account_get_string(acct, OPT_SERVER, DEF_SERVER);
    char *host = NULL, *path = NULL, *user = NULL, *pass = NULL, *request;
    gboolean ours;
    struct yfetch *f;
    int port = 0;

    if (fetch_of(y, who) || g_list_length(y->fetches) >= FETCHES_MAX ||
        strlen(url) > YPIC_URL_MAX ||
        g_ascii_strncasecmp(url, "http://", 7) != 0 ||
        !purple_url_parse(url, &host, &port, &path, &user, &pass)) {
        purple_debug_info(DEBUG_AREA, "picture of %s not fetched\n", who);
        goto leave;
    }
    ours = g_ascii_strcasecmp(host, server) == 0;
    request = ypic_request(host, port, path ? path : "",
                           ours ? stored_cookie(acct, 0) : NULL,
                           ours ? stored_cookie(acct, 1) : NULL);
    if (!request) {
        purple_debug_info(DEBUG_AREA, "picture of %s: not a usable URL\n", who);
        goto leave;
    }
    f = g_new0(struct yfetch, 1);
    f->y = y;
    f->who = g_strdup(who);
    f->checksum = g_strdup(checksum);
    f->req = purple_util_fetch_url_request_len_with_account(
        acct, url, TRUE, NULL, FALSE, request, FALSE, YPIC_MAX, on_fetched, f);
    secret_wipe(request, strlen(request));
    g_free(request);
    if (!f->req) {
        fetch_free(f);
        goto leave;
    }
    y->fetches = g_list_prepend(y->fetches, f);
leave:
    g_free(host);
    g_free(path);
    g_free(user);
    g_free(pass);
}

/* 0xBE: a buddy's picture info (13 = 2: URL and checksum), or a buddy
 * asking for ours (13 = 1: we show none). */
static void on_picture(struct yconn *y, const ymsg_pkt *pkt)
{
    const char *who = ymsg_pkt_get(pkt, 4);
    const char *url = ymsg_pkt_get(pkt, 20);
    const char *checksum = ymsg_pkt_get(pkt, 192);

    if (!who)
        who = ymsg_pkt_get(pkt, 1);
    if (!who || is_me(y, who) || ymsg_pkt_get_int(pkt, 13, 0) != PIC_INFO ||
        !url || !ypic_checksum_ok(checksum) ||
        !purple_find_buddy(purple_connection_get_account(y->gc), who) ||
        picture_current(y, who, checksum))
        return;
    picture_fetch(y, who, url, checksum);
}

/* 0xBD: a buddy's picture changed to the one of key 192. */
static void on_picture_checksum(struct yconn *y, const ymsg_pkt *pkt)
{
    const char *who = ymsg_pkt_get(pkt, 4);
    const char *checksum = ymsg_pkt_get(pkt, 192);

    if (who && checksum)
        picture_seen(y, who, checksum);
}

/* 0xC1: what a buddy shows now: a picture (asked for) or none. */
static void on_picture_update(struct yconn *y, const ymsg_pkt *pkt)
{
    PurpleAccount *acct = purple_connection_get_account(y->gc);
    const char *who = ymsg_pkt_get(pkt, 4);
    gint64 shows = ymsg_pkt_get_int(pkt, 206, -1);

    if (!who || is_me(y, who) || !purple_find_buddy(acct, who))
        return;
    if (shows == PIC_ICON) {
        picture_ask(y, who);
    } else if (shows == PIC_NONE || shows == PIC_AVATAR) {
        purple_debug_info(DEBUG_AREA, "%s shows no picture\n", who);
        purple_buddy_icons_set_for_user(acct, who, NULL, 0, NULL);
    }
}

/* ---- conferences ------------------------------------------------------- */

/* What the bot says when it turns down an invitation to a conference that
 * is not its group's. */
#define DECLINE_TEXT                                                           \
    "I am a group's bot: I only sit in my group's own conference."

static void conf_free(struct yconf *c)
{
    g_free(c->room);
    g_hash_table_destroy(c->invited);
    g_free(c);
}

static struct yconf *conf_by_room(struct yconn *y, const char *room)
{
    for (GList *l = y->confs; l; l = l->next) {
        struct yconf *c = l->data;

        if (purple_utf8_strcasecmp(c->room, room) == 0)
            return c;
    }
    return NULL;
}

static struct yconf *conf_by_id(struct yconn *y, int id)
{
    for (GList *l = y->confs; l; l = l->next)
        if (((struct yconf *)l->data)->id == id)
            return l->data;
    return NULL;
}

/* The chat of c, NULL if libpurple has none open. */
static PurpleConvChat *conf_chat(struct yconn *y, struct yconf *c)
{
    PurpleConversation *conv = purple_find_chat(y->gc, c->id);

    return conv ? PURPLE_CONV_CHAT(conv) : NULL;
}

/* Adds a key-key pair for everyone in c but us (the members a client
 * lists in each conference packet). */
static void add_members(struct yconn *y, struct yconf *c, ymsg_pkt *pkt,
                        int key)
{
    PurpleConvChat *chat = conf_chat(y, c);

    for (GList *u = chat ? purple_conv_chat_get_users(chat) : NULL; u;
         u = u->next) {
        const char *name = purple_conv_chat_cb_get_name(u->data);

        if (!is_me(y, name))
            ymsg_pkt_add(pkt, key, name);
    }
}

/* who joined c, unless already there or c is full. */
static void conf_add_user(struct yconn *y, struct yconf *c, const char *who)
{
    PurpleConvChat *chat = conf_chat(y, c);

    if (!chat || is_me(y, who) || purple_conv_chat_find_user(chat, who))
        return;
    if (g_list_length(purple_conv_chat_get_users(chat)) >= YCONF_MEMBERS_MAX) {
        purple_debug_warning(DEBUG_AREA,
                             "conference %s is full: %s left "
                             "out\n",
                             c->room, who);
        return;
    }
    purple_conv_chat_add_user(chat, who, NULL, PURPLE_CBFLAGS_NONE, TRUE);
}

static void conf_remove_user(struct yconn *y, struct yconf *c, const char *who,
                             const char *why)
{
    PurpleConvChat *chat = conf_chat(y, c);

    if (chat && purple_conv_chat_find_user(chat, who))
        purple_conv_chat_remove_user(chat, who, why);
}

/* Asks who into c (0x1C ADDINVITE), once per session of theirs. */
static void conf_ask_in(struct yconn *y, struct yconf *c, const char *who)
{
    PurpleAccount *acct = purple_connection_get_account(y->gc);
    PurpleConvChat *chat = conf_chat(y, c);
    ymsg_pkt *pkt;

    if (!chat || purple_conv_chat_find_user(chat, who) ||
        g_hash_table_contains(c->invited, yahoo_normalize(acct, who)))
        return;
    g_hash_table_add(c->invited, g_strdup(yahoo_normalize(acct, who)));
    pkt = ymsg_pkt_new(YMSG_CONFADDINVITE, 0, 0);
    ymsg_pkt_add(pkt, 1, me(y));
    ymsg_pkt_add(pkt, 51, who);
    ymsg_pkt_add(pkt, 57, c->room);
    ymsg_pkt_add(pkt, 58, "");
    ymsg_pkt_add(pkt, 13, "0");
    add_members(y, c, pkt, 52);
    add_members(y, c, pkt, 53);
    purple_debug_info(DEBUG_AREA, "asking %s into conference %s\n", who,
                      c->room);
    send_pkt(y, pkt);
}

static void conf_buddy_online(struct yconn *y, const char *who)
{
    if (!y->buddies_known)
        return; /* conf_open_all() invites who is online then */
    for (GList *l = y->confs; l; l = l->next)
        conf_ask_in(y, l->data, who);
}

static void conf_buddy_gone(struct yconn *y, const char *who)
{
    PurpleAccount *acct = purple_connection_get_account(y->gc);

    for (GList *l = y->confs; l; l = l->next) {
        struct yconf *c = l->data;

        conf_remove_user(y, c, who, "offline");
        /* Asked in again at their next session. */
        g_hash_table_remove(c->invited, yahoo_normalize(acct, who));
    }
}

/* Opens a conference of room: the creator's 0x18 CONFINVITE to every
 * buddy online. */
static void conf_open(struct yconn *y, struct yconf *c)
{
    PurpleAccount *acct = purple_connection_get_account(y->gc);
    GSList *buddies = purple_find_buddies(acct, NULL);
    ymsg_pkt *pkt = ymsg_pkt_new(YMSG_CONFINVITE, 0, 0);
    guint n = 0;

    ymsg_pkt_add(pkt, 1, me(y));
    ymsg_pkt_add(pkt, 50, me(y));
    ymsg_pkt_add(pkt, 57, c->room);
    ymsg_pkt_add(pkt, 58, "");
    ymsg_pkt_add_int(pkt, 97, 1);
    for (GSList *l = buddies; l && n < YCONF_MEMBERS_MAX; l = l->next) {
        const char *who = purple_buddy_get_name(l->data);

        if (!PURPLE_BUDDY_IS_ONLINE((PurpleBuddy *)l->data) ||
            g_hash_table_contains(c->invited, yahoo_normalize(acct, who)))
            continue;
        g_hash_table_add(c->invited, g_strdup(yahoo_normalize(acct, who)));
        ymsg_pkt_add(pkt, 52, who);
        n++;
    }
    g_slist_free(buddies);
    ymsg_pkt_add(pkt, 13, "0");
    purple_debug_info(DEBUG_AREA, "opening conference %s, %u asked in\n",
                      c->room, n);
    /* With nobody online there is nobody to invite: buddies are asked in
     * as they come online. */
    if (n)
        send_pkt(y, pkt);
    else
        ymsg_pkt_free(pkt);
}

static void conf_open_all(struct yconn *y)
{
    if (y->buddies_known)
        return;
    y->buddies_known = TRUE;
    for (GList *l = y->confs; l; l = l->next)
        conf_open(y, l->data);
}

/* Invited to a conference: ours (its room is one we are in) is joined
 * (0x19 CONFLOGON, naming everyone in it), any other declined (0x1A). */
static void conf_invited(struct yconn *y, const yconf_msg *m)
{
    struct yconf *c = conf_by_room(y, m->room);
    ymsg_pkt *pkt;

    if (!c) {
        purple_debug_info(DEBUG_AREA,
                          "declining %s's invitation to another "
                          "conference\n",
                          m->from);
        pkt = ymsg_pkt_new(YMSG_CONFDECLINE, 0, 0);
        ymsg_pkt_add(pkt, 1, me(y));
        ymsg_pkt_add(pkt, 3, m->from);
        for (guint i = 0; i < m->members->len; i++)
            if (!is_me(y, g_ptr_array_index(m->members, i)))
                ymsg_pkt_add(pkt, 3, g_ptr_array_index(m->members, i));
        ymsg_pkt_add(pkt, 57, m->room);
        ymsg_pkt_add(pkt, 14, DECLINE_TEXT);
        send_pkt(y, pkt);
        return;
    }
    purple_debug_info(DEBUG_AREA, "%s asked us into conference %s: joining\n",
                      m->from, c->room);
    conf_add_user(y, c, m->from);
    for (guint i = 0; i < m->members->len; i++)
        conf_add_user(y, c, g_ptr_array_index(m->members, i));
    pkt = ymsg_pkt_new(YMSG_CONFLOGON, 0, 0);
    ymsg_pkt_add(pkt, 1, me(y));
    ymsg_pkt_add(pkt, 3, me(y));
    ymsg_pkt_add(pkt, 57, c->room);
    add_members(y, c, pkt, 3);
    send_pkt(y, pkt);
}

static void conf_logon(struct yconn *y, const yconf_msg *m)
{
    struct yconf *c = conf_by_room(y, m->room);

    if (c)
        conf_add_user(y, c, m->from);
}

static void conf_logoff(struct yconn *y, const yconf_msg *m)
{
    struct yconf *c = conf_by_room(y, m->room);

    if (c)
        conf_remove_user(y, c, m->from, NULL);
}

static void conf_decline(struct yconn *y, const yconf_msg *m)
{
    purple_debug_info(DEBUG_AREA, "%s declined conference %s\n", m->from,
                      m->room);
}

static void conf_message(struct yconn *y, const yconf_msg *m)
{
    struct yconf *c = conf_by_room(y, m->room);
    char *html;

    if (!c || !m->text || is_me(y, m->from))
        return;
    /* Whoever speaks in it is in it. */
    conf_add_user(y, c, m->from);
    if (strcmp(m->text, BUZZ) == 0) {
        purple_debug_info(DEBUG_AREA, "a buzz from %s in %s\n", m->from,
                          c->room);
        purple_prpl_got_attention_in_chat(y->gc, c->id, m->from,
                                          ATTENTION_BUZZ);
        return;
    }
    html = text_in(m->text);
    purple_debug_info(DEBUG_AREA, "conference message from %s (%zu bytes)\n",
                      m->from, strlen(m->text));
    if (html)
        serv_got_chat_in(y->gc, c->id, m->from, 0, html, time(NULL));
    g_free(html);
}

static const struct {
    guint16 service;
    void (*fn)(struct yconn *y, const yconf_msg *m);
} conf_handlers[] = {
    {YMSG_CONFINVITE, conf_invited},  {YMSG_CONFADDINVITE, conf_invited},
    {YMSG_CONFLOGON, conf_logon},     {YMSG_CONFLOGOFF, conf_logoff},
    {YMSG_CONFDECLINE, conf_decline}, {YMSG_CONFMSG, conf_message},
};

static void on_conf(struct yconn *y, const ymsg_pkt *pkt)
{
    yconf_msg m;

    if (yconf_read(pkt, &m) < 0) {
        purple_debug_misc(DEBUG_AREA, "a %s packet not for us: skipped\n",
                          ymsg_service_name(pkt->service));
        return;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(conf_handlers); i++)
        if (conf_handlers[i].service == m.service)
            conf_handlers[i].fn(y, &m);
    yconf_msg_clear(&m);
}

/* ---- reading ----------------------------------------------------------- */

static const struct {
    guint16 service;
    void (*fn)(struct yconn *y, const ymsg_pkt *pkt);
} handlers[] = {
    {YMSG_VERIFY, on_verify},
    {YMSG_AUTH, on_auth},
    {YMSG_AUTHRESP, on_authresp},
    {YMSG_LIST, on_list},
    {YMSG_LOGON, on_logon},
    {YMSG_LOGOFF, on_logoff},
    {YMSG_ISAWAY, on_status},
    {YMSG_ISBACK, on_status},
    {YMSG_MESSAGE, on_message},
    {YMSG_NEWCONTACT, on_newcontact},
    {YMSG_FRIENDADD, on_friendadd},
    {YMSG_FRIENDREMOVE, on_ignored},
    {YMSG_NOTIFY, on_notify},
    {YMSG_PINGCONF, on_pingconf},
    {YMSG_PING, on_ignored},
    {YMSG_CONFINVITE, on_conf},
    {YMSG_CONFADDINVITE, on_conf},
    {YMSG_CONFLOGON, on_conf},
    {YMSG_CONFLOGOFF, on_conf},
    {YMSG_CONFDECLINE, on_conf},
    {YMSG_CONFMSG, on_conf},
    {YMSG_PICTURE, on_picture},
    {YMSG_PICTURE_CHECKSUM, on_picture_checksum},
    {YMSG_PICTURE_UPDATE, on_picture_update},
};

static void dispatch(struct yconn *y, const ymsg_pkt *pkt)
{
    if (pkt->session && !y->session)
        y->session = pkt->session;
    for (gsize i = 0; i < G_N_ELEMENTS(handlers); i++) {
        if (handlers[i].service == pkt->service) {
            purple_debug_misc(DEBUG_AREA, "received %s st=%u (%u pairs)\n",
                              ymsg_service_name(pkt->service), pkt->status,
                              pkt->pairs->len);
            handlers[i].fn(y, pkt);
            return;
        }
    }
    purple_debug_misc(DEBUG_AREA, "skipped service 0x%x\n", pkt->service);
}

static void on_readable(gpointer data, gint fd, PurpleInputCondition cond)
{
    struct yconn *y = data;
    guint8 buf[READ_SIZE];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    ymsg_pkt *pkt;
    int rc;

    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        if (n == 0)
            fail(y, PURPLE_CONNECTION_ERROR_NETWORK_ERROR,
                 "Server closed the connection");
        else
            fail(y, PURPLE_CONNECTION_ERROR_NETWORK_ERROR,
                 "Lost connection with the server: %s", g_strerror(errno));
        purple_input_remove(y->read_id);
        y->read_id = 0;
        return;
    }
    y->last_recv_us = g_get_monotonic_time();
    ymsg_reader_feed(y->in, buf, (gsize)n);
    while (!y->failed && (rc = ymsg_reader_next(y->in, &pkt)) != YMSG_AGAIN) {
        if (rc == YMSG_EPAYLOAD) {
            purple_debug_warning(DEBUG_AREA, "skipped a malformed packet\n");
            continue;
        }
        if (rc < 0) {
            fail(y, PURPLE_CONNECTION_ERROR_NETWORK_ERROR,
                 "The server sent data that is not YMSG");
            break;
        }
        dispatch(y, pkt);
        ymsg_pkt_free(pkt);
    }
}

/* ---- connection -------------------------------------------------------- */

static void on_connected(gpointer data, gint fd, const char *error)
{
    struct yconn *y = data;
    PurpleAccount *acct = purple_connection_get_account(y->gc);

    y->connecting = NULL;
    if (fd < 0) {
        fail(y, PURPLE_CONNECTION_ERROR_NETWORK_ERROR,
             "Could not connect to %s:%d: %s",
             purple_account_get_string(acct, OPT_SERVER, DEF_SERVER),
             purple_account_get_int(acct, OPT_PORT, DEF_PORT),
             error ? error : "unknown error");
        return;
    }
    y->fd = fd;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    y->last_recv_us = g_get_monotonic_time();
    y->read_id = purple_input_add(fd, PURPLE_INPUT_READ, on_readable, y);
    purple_connection_update_progress(y->gc, "Verifying", 1, 4);
    /* Without VERIFY first the server sends no challenge. */
    send_pkt(y, ymsg_pkt_new(YMSG_VERIFY, 0, 0));
}

static void yahoo_login(PurpleAccount *acct)
{
    PurpleConnection *gc = purple_account_get_connection(acct);
    struct yconn *y = g_new0(struct yconn, 1);
    const char *host = purple_account_get_string(acct, OPT_SERVER, DEF_SERVER);
    int port = purple_account_get_int(acct, OPT_PORT, DEF_PORT);

    y->gc = gc;
    y->fd = -1;
    y->out = purple_circ_buffer_new(0);
    y->in = ymsg_reader_new();
    y->ping_s = PING_DEFAULT_S;
    y->server_list =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    y->next_conf_id = 1;
    g_queue_init(&y->marks);
    g_queue_init(&y->settled);
    purple_connection_set_protocol_data(gc, y);
    gc->flags |= PURPLE_CONNECTION_NO_BGCOLOR | PURPLE_CONNECTION_NO_FONTSIZE |
                 PURPLE_CONNECTION_NO_URLDESC | PURPLE_CONNECTION_NO_IMAGES;
    purple_connection_update_progress(gc, "Connecting", 0, 4);
    y->login_id =
        purple_timeout_add_seconds(LOGIN_TIMEOUT_S, on_login_timeout, y);
    y->connecting = purple_proxy_connect(gc, acct, host, port, on_connected, y);
    if (!y->connecting)
        fail(y, PURPLE_CONNECTION_ERROR_NETWORK_ERROR,
             "Could not connect to %s:%d", host, port);
}

static void yahoo_close(PurpleConnection *gc)
{
    struct yconn *y = purple_connection_get_protocol_data(gc);

    if (!y)
        return;
    /* Requests still open die with the connection; their data with them. */
    purple_account_request_close_with_account(
        purple_connection_get_account(gc));
    g_list_free_full(y->reqs, (GDestroyNotify)req_free);
    if (y->connecting)
        purple_proxy_connect_cancel(y->connecting);
    if (y->read_id)
        purple_input_remove(y->read_id);
    if (y->write_id)
        purple_input_remove(y->write_id);
    if (y->login_id)
        purple_timeout_remove(y->login_id);
    if (y->ping_id)
        purple_timeout_remove(y->ping_id);
    /* Logging off is closing the socket: servers ignore a client LOGOFF. */
    if (y->fd >= 0)
        close(y->fd);
    /* What the socket had not taken is lost with it. */
    settle_lost(y, "connection lost");
    if (y->settle_id)
        purple_timeout_remove(y->settle_id);
    y->settle_id = 0;
    tell_settled(y);
    purple_circ_buffer_destroy(y->out);
    ymsg_reader_free(y->in);
    g_hash_table_destroy(y->server_list);
    g_list_free_full(y->confs, (GDestroyNotify)conf_free);
    /* A cancelled fetch calls nobody back. */
    for (GList *l = y->fetches; l; l = l->next) {
        purple_util_fetch_url_cancel(((struct yfetch *)l->data)->req);
        fetch_free(l->data);
    }
    g_list_free(y->fetches);
    g_free(y);
    purple_connection_set_protocol_data(gc, NULL);
}

/* ---- what libpurple asks of us ----------------------------------------- */

static struct yconn *live(PurpleConnection *gc)
{
    struct yconn *y = gc ? purple_connection_get_protocol_data(gc) : NULL;

    return y && y->logged_in && !y->failed ? y : NULL;
}

static int yahoo_send_im(PurpleConnection *gc, const char *who,
                         const char *message, PurpleMessageFlags flags)
{
    struct yconn *y = live(gc);
    char *plain;
    ymsg_pkt *pkt;
    int rc;

    if (!y)
        return -ENOTCONN;
    plain = purple_markup_strip_html(message);
    pkt = ymsg_pkt_new(YMSG_MESSAGE, YMSG_ST_MESSAGE, 0);
    ymsg_pkt_add(pkt, 1, me(y));
    ymsg_pkt_add(pkt, 5, who);
    ymsg_pkt_add(pkt, 14, plain);
    ymsg_pkt_add_int(pkt, 97, 1);
    ymsg_pkt_add(pkt, 63, ";0");
    ymsg_pkt_add_int(pkt, 64, 0);
    purple_debug_info(DEBUG_AREA, "IM to %s (%zu bytes)\n", who, strlen(plain));
    g_free(plain);
    rc = send_pkt(y, pkt);
    return rc < 0 ? rc : 1;
}

G_MODULE_EXPORT gboolean imgroups_prpl_mark(PurpleConnection *gc,
                                            const char *who, guint64 id);

/* Exported for the worker (IMGROUPS_PRPL_MARK_SYMBOL): a mark behind what
 * was just sent. Refused for a connection that is not this plugin's or
 * has no protocol data. */
gboolean imgroups_prpl_mark(PurpleConnection *gc, const char *who, guint64 id)
{
    PurpleAccount *acct = gc ? purple_connection_get_account(gc) : NULL;
    struct yconn *y;
    struct ymark *m;

    if (!acct || !who ||
        g_strcmp0(purple_account_get_protocol_id(acct), PLUGIN_ID) != 0)
        return FALSE;
    y = purple_connection_get_protocol_data(gc);
    if (!y)
        return FALSE;
    if (y->failed) {
        settle(y, id, FALSE, "connection lost");
        return TRUE;
    }
    m = g_new0(struct ymark, 1);
    m->id = id;
    m->upto = y->queued;
    g_queue_push_tail(&y->marks, m);
    settle_written(y);
    return TRUE;
}

static unsigned int yahoo_send_typing(PurpleConnection *gc, const char *who,
                                      PurpleTypingState state)
{
    struct yconn *y = live(gc);
    ymsg_pkt *pkt;

    if (!y)
        return 0;
    pkt = ymsg_pkt_new(YMSG_NOTIFY, 0, 0);
    ymsg_pkt_add(pkt, 4, me(y));
    ymsg_pkt_add(pkt, 5, who);
    ymsg_pkt_add(pkt, 14, " ");
    ymsg_pkt_add_int(pkt, 13, state == PURPLE_TYPING ? 1 : 0);
    ymsg_pkt_add(pkt, 49, "TYPING");
    send_pkt(y, pkt);
    /* Yahoo clients let a typing notice lapse after a few seconds: asked
     * again while it lasts (serv_send_typing's timeout). */
    return state == PURPLE_TYPING ? TYPING_REPEAT_S : 0;
}

/* Buzzes a buddy: "<ding>" as a message, what Yahoo clients send. */
static gboolean yahoo_send_attention(PurpleConnection *gc, const char *who,
                                     guint type)
{
    struct yconn *y = live(gc);
    ymsg_pkt *pkt;

    if (!y || type != ATTENTION_BUZZ)
        return FALSE;
    pkt = ymsg_pkt_new(YMSG_MESSAGE, YMSG_ST_MESSAGE, 0);
    ymsg_pkt_add(pkt, 1, me(y));
    ymsg_pkt_add(pkt, 5, who);
    ymsg_pkt_add(pkt, 14, BUZZ);
    ymsg_pkt_add_int(pkt, 97, 1);
    purple_debug_info(DEBUG_AREA, "buzzing %s\n", who);
    return send_pkt(y, pkt) == 0;
}

static GList *yahoo_attention_types(PurpleAccount *acct)
{
    return g_list_append(NULL, purple_attention_type_new("Buzz", "Buzz",
                                                         "%s has buzzed you!",
                                                         "Buzzing %s..."));
}

/* ---- conferences, as libpurple chats ----------------------------------- */

static GList *yahoo_chat_info(PurpleConnection *gc)
{
    struct proto_chat_entry *pce = g_new0(struct proto_chat_entry, 1);

    pce->label = "_Room:";
    pce->identifier = "room";
    pce->required = TRUE;
    return g_list_append(NULL, pce);
}

static GHashTable *yahoo_chat_info_defaults(PurpleConnection *gc,
                                            const char *name)
{
    GHashTable *comps =
        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);

    if (name)
        g_hash_table_insert(comps, "room", g_strdup(name));
    return comps;
}

static char *yahoo_get_chat_name(GHashTable *comps)
{
    return g_strdup(g_hash_table_lookup(comps, "room"));
}

/* Joining a conference is opening it: whoever else names the same room
 * and invites us is joined in it (conf_invited). */
static void yahoo_join_chat(PurpleConnection *gc, GHashTable *comps)
{
    struct yconn *y = live(gc);
    const char *room = g_hash_table_lookup(comps, "room");
    PurpleConversation *conv;
    struct yconf *c;

    if (!y || !yconf_room_ok(room)) {
        purple_debug_warning(DEBUG_AREA, "cannot open a conference %s\n",
                             y ? "with that name" : "while offline");
        purple_serv_got_join_chat_failed(gc, comps);
        return;
    }
    if (conf_by_room(y, room))
        return;
    c = g_new0(struct yconf, 1);
    c->room = g_strdup(room);
    c->id = y->next_conf_id++;
    c->invited = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    y->confs = g_list_prepend(y->confs, c);
    conv = serv_got_joined_chat(gc, c->id, room);
    /* A conversation left at a disconnect comes back with its old users. */
    if (conv)
        purple_conv_chat_clear_users(PURPLE_CONV_CHAT(conv));
    if (y->buddies_known)
        conf_open(y, c);
}

static void yahoo_chat_leave(PurpleConnection *gc, int id)
{
    struct yconn *y = live(gc);
    struct yconf *c = y ? conf_by_id(y, id) : NULL;
    ymsg_pkt *pkt;

    if (!c)
        return;
    pkt = ymsg_pkt_new(YMSG_CONFLOGOFF, 0, 0);
    ymsg_pkt_add(pkt, 1, me(y));
    add_members(y, c, pkt, 3);
    ymsg_pkt_add(pkt, 57, c->room);
    send_pkt(y, pkt);
    purple_debug_info(DEBUG_AREA, "left conference %s\n", c->room);
    y->confs = g_list_remove(y->confs, c);
    conf_free(c);
    serv_got_chat_left(gc, id);
}

static int yahoo_chat_send(PurpleConnection *gc, int id, const char *message,
                           PurpleMessageFlags flags)
{
    struct yconn *y = live(gc);
    struct yconf *c = y ? conf_by_id(y, id) : NULL;
    char *plain;
    ymsg_pkt *pkt;

    if (!y)
        return -ENOTCONN;
    if (!c)
        return -ENOENT;
    plain = purple_markup_strip_html(message);
    pkt = ymsg_pkt_new(YMSG_CONFMSG, 0, 0);
    ymsg_pkt_add(pkt, 1, me(y));
    add_members(y, c, pkt, 53);
    ymsg_pkt_add(pkt, 57, c->room);
    ymsg_pkt_add(pkt, 14, plain);
    ymsg_pkt_add_int(pkt, 97, 1);
    purple_debug_info(DEBUG_AREA, "conference message to %s (%zu bytes)\n",
                      c->room, strlen(plain));
    g_free(plain);
    return send_pkt(y, pkt);
}

static void yahoo_set_status(PurpleAccount *acct, PurpleStatus *status)
{
    struct yconn *y = live(purple_account_get_connection(acct));

    if (y && purple_status_is_active(status))
        send_status(y, status);
}

static void yahoo_add_buddy(PurpleConnection *gc, PurpleBuddy *b,
                            PurpleGroup *g)
{
    struct yconn *y = live(gc);

    if (!y)
        return; /* list_sync sends it at the next login */
    send_friendadd(y, purple_buddy_get_name(b),
                   g ? purple_group_get_name(g) : NULL);
}

static void yahoo_remove_buddy(PurpleConnection *gc, PurpleBuddy *b,
                               PurpleGroup *g)
{
    struct yconn *y = live(gc);
    ymsg_pkt *pkt;

    if (!y)
        return;
    pkt = ymsg_pkt_new(YMSG_FRIENDREMOVE, 0, 0);
    ymsg_pkt_add(pkt, 1, me(y));
    ymsg_pkt_add(pkt, 7, purple_buddy_get_name(b));
    ymsg_pkt_add(pkt, 65, g ? purple_group_get_name(g) : DEF_GROUP);
    send_pkt(y, pkt);
    g_hash_table_remove(y->server_list,
                        yahoo_normalize(purple_connection_get_account(gc),
                                        purple_buddy_get_name(b)));
}

static const char *yahoo_list_icon(PurpleAccount *acct, PurpleBuddy *b)
{
    return "yahoo";
}

static gboolean yahoo_offline_message(const PurpleBuddy *b)
{
    return TRUE;
}

/* Ours, each with an optional text (key 19). */
static const struct {
    PurpleStatusPrimitive prim;
    const char *id, *name;
} status_table[] = {
    {PURPLE_STATUS_AVAILABLE, ST_AVAILABLE, "Available"},
    {PURPLE_STATUS_AWAY, ST_AWAY, "Away"},
    {PURPLE_STATUS_UNAVAILABLE, ST_BUSY, "Busy"},
    {PURPLE_STATUS_INVISIBLE, ST_INVISIBLE, "Invisible"},
};

static GList *yahoo_status_types(PurpleAccount *acct)
{
    GList *types = NULL;

    for (gsize i = 0; i < G_N_ELEMENTS(status_table); i++)
        types = g_list_append(
            types, purple_status_type_new_with_attrs(
                       status_table[i].prim, status_table[i].id,
                       status_table[i].name, TRUE, TRUE, FALSE, "message",
                       "Message", purple_value_new(PURPLE_TYPE_STRING), NULL));
    types = g_list_append(
        types, purple_status_type_new_full(PURPLE_STATUS_OFFLINE, ST_OFFLINE,
                                           "Offline", TRUE, TRUE, FALSE));
    return types;
}

/* ---- the plugin -------------------------------------------------------- */

static PurplePluginProtocolInfo prpl_info = {
    .options = 0,
    /* Buddies' pictures come in (fetched); the bot shows none. */
    .icon_spec = {"png,gif,jpeg", 0, 0, 96, 96, YPIC_MAX,
                  PURPLE_ICON_SCALE_DISPLAY},
    .list_icon = yahoo_list_icon,
    .status_types = yahoo_status_types,
    .login = yahoo_login,
    .close = yahoo_close,
    .send_im = yahoo_send_im,
    .send_typing = yahoo_send_typing,
    .send_attention = yahoo_send_attention,
    .get_attention_types = yahoo_attention_types,
    .chat_info = yahoo_chat_info,
    .chat_info_defaults = yahoo_chat_info_defaults,
    .get_chat_name = yahoo_get_chat_name,
    .join_chat = yahoo_join_chat,
    .chat_leave = yahoo_chat_leave,
    .chat_send = yahoo_chat_send,
    .set_status = yahoo_set_status,
    .add_buddy = yahoo_add_buddy,
    .remove_buddy = yahoo_remove_buddy,
    .normalize = yahoo_normalize,
    .offline_message = yahoo_offline_message,
    .struct_size = sizeof(PurplePluginProtocolInfo),
};

static gboolean yahoo_load(PurplePlugin *plugin)
{
    yahoo_plugin = plugin;
    imgroups_prpl_signal_register(plugin);
    return TRUE;
}

static gboolean yahoo_unload(PurplePlugin *plugin)
{
    imgroups_prpl_signal_unregister(plugin);
    yahoo_plugin = NULL;
    return TRUE;
}

static PurplePluginInfo info = {
    .magic = PURPLE_PLUGIN_MAGIC,
    .major_version = PURPLE_MAJOR_VERSION,
    .minor_version = PURPLE_MINOR_VERSION,
    .type = PURPLE_PLUGIN_PROTOCOL,
    .priority = PURPLE_PRIORITY_DEFAULT,
    .id = PLUGIN_ID,
    .name = "Yahoo (imgroups)",
    .version = IMGROUPS_VERSION,
    .summary = "Yahoo Messenger (YMSG10) for revival servers",
    .description = "imgroups' own Yahoo Messenger protocol plugin: YMSG10 "
                   "login, buddies, presence, messages, typing, buzzes "
                   "and conferences.",
    .author = "imgroups",
    .homepage = "https://groups.im/",
    .load = yahoo_load,
    .unload = yahoo_unload,
    .extra_info = &prpl_info,
};

static void init_plugin(PurplePlugin *plugin)
{
    prpl_info.protocol_options = g_list_append(
        prpl_info.protocol_options,
        purple_account_option_string_new("Server", OPT_SERVER, DEF_SERVER));
    prpl_info.protocol_options = g_list_append(
        prpl_info.protocol_options,
        purple_account_option_int_new("Port", OPT_PORT, DEF_PORT));
}

PURPLE_INIT_PLUGIN(imgroups_yahoo, init_plugin, info)
