/* ns: the notification server connection (see ns.h). */
#include "ns.h"

#include <string.h>

#include "passport.h"
#include "picture.h"
#include "sb.h"
#include "secret.h"

#define PING_SECONDS  50
#define MAX_REDIRECTS 3
#define BUDDY_GROUP   "MSN"

/* The capabilities number of CHG. From MSNP8 it must be present, or the
 * server ignores the CHG; 0x10000000 (MSNC1) says P2P display pictures
 * work (picture.c), and no other optional feature (ink, webcam). */
#define CLIENT_CAPS "268435456"

/* What CVR says this client is: MSN Messenger 7.5, the client MSNP12 came
 * with (the server answers with its recommended versions). */
#define CVR_ARGS "0x0409 winnt 5.1 i386 MSNMSGR 7.5.0324 msmsgs"

static void ns_fail_login(msn_session *s, int code)
{
    char *why;
    PurpleConnectionError reason;

    switch (msnp_error_kind(code)) {
    case MSNP_ERROR_AUTH:
        reason = PURPLE_CONNECTION_ERROR_AUTHENTICATION_FAILED;
        break;
    case MSNP_ERROR_NETWORK:
        reason = PURPLE_CONNECTION_ERROR_NETWORK_ERROR;
        break;
    default:
        reason = PURPLE_CONNECTION_ERROR_OTHER_ERROR;
        break;
    }
    why =
        g_strdup_printf("MSN server error %d: %s", code, msnp_error_text(code));
    msn_session_fail(s, reason, why);
    g_free(why);
}

/* ---- presence ---------------------------------------------------------- */

static const struct {
    const char *code;
    const char *status_id;
} presence_map[] = {
    {"NLN", MSN_STATUS_AVAILABLE}, {"BSY", MSN_STATUS_BUSY},
    {"AWY", MSN_STATUS_AWAY},      {"BRB", MSN_STATUS_AWAY},
    {"LUN", MSN_STATUS_AWAY},      {"IDL", MSN_STATUS_AWAY},
    {"PHN", MSN_STATUS_AWAY},      {"HDN", MSN_STATUS_OFFLINE},
};

static const char *status_id_of(const char *code)
{
    for (gsize i = 0; i < G_N_ELEMENTS(presence_map); i++)
        if (strcmp(presence_map[i].code, code) == 0)
            return presence_map[i].status_id;
    return MSN_STATUS_AVAILABLE; /* a status newer than this plugin */
}

static void set_name(msn_session *s, msn_contact *ct, const char *encoded)
{
    char *name;

    if (!encoded || !*encoded)
        return;
    name = msnp_url_decode(encoded);
    g_free(ct->name);
    ct->name = name;
    if (purple_find_buddy(s->acct, ct->email))
        serv_got_alias(s->gc, ct->email, name);
}

static void presence(msn_session *s, const char *code, const char *email,
                     const char *name)
{
    msn_contact *ct;

    if (!email || !*email)
        return;
    ct = msn_contact_get(s, email);
    set_name(s, ct, name);
    g_strlcpy(ct->status, code && strcmp(code, "HDN") != 0 ? code : "",
              sizeof ct->status);
    purple_prpl_got_user_status(
        s->acct, ct->email,
        *ct->status ? status_id_of(ct->status) : MSN_STATUS_OFFLINE, NULL);
}

/* ---- authorization ----------------------------------------------------- */

/* An authorization request libpurple holds for us. Owned by the session
 * (s->auths) until answered or until the session closes: libpurple drops
 * an unanswered request with the connection without calling back, so the
 * session frees what it gave. */
struct auth_req {
    msn_session *s;
    char *email;
};

static void auth_req_free(struct auth_req *a)
{
    a->s->auths = g_list_remove(a->s->auths, a);
    g_free(a->email);
    g_free(a);
}

static void add_to_list(msn_session *s, const char *email, const char *list)
{
    char *args;

    if (s->version >= 10) {
        args = g_strdup_printf("%s N=%s%s%s", list, email,
                               strcmp(list, "FL") == 0 ? " F=" : "",
                               strcmp(list, "FL") == 0 ? email : "");
        conn_send(s->ns, "ADC", args);
    } else {
        args = g_strdup_printf("%s %s %s%s", list, email, email,
                               strcmp(list, "FL") == 0 ? " 0" : "");
        conn_send(s->ns, "ADD", args);
    }
    g_free(args);
}

/* Takes email off a list (REM): MSNP10+ name FL entries by their uuid. */
static void remove_from_list(msn_session *s, msn_contact *ct, const char *list)
{
    char *args = g_strdup_printf(
        "%s %s", list,
        s->version >= 10 && strcmp(list, "FL") == 0 && ct->uuid ? ct->uuid
                                                                : ct->email);

    conn_send(s->ns, "REM", args);
    g_free(args);
}

/* Someone the bot talks to (a member, an accepted request): off BL (REM
 * before ADC, or the server answers 219, "on the opposite list"), then on
 * AL and FL. */
static void allow_contact(msn_session *s, msn_contact *ct)
{
    if (ct->lists & MSN_BL)
        remove_from_list(s, ct, "BL");
    if (!(ct->lists & MSN_AL))
        add_to_list(s, ct->email, "AL");
    if (!(ct->lists & MSN_FL))
        add_to_list(s, ct->email, "FL");
}

/* A refusal changes no list: the requester stays on RL alone, so they can
 * still write to the bot (BLP AL) and be told to ask an owner; putting
 * them on BL would make their messages fail with 217. */
static void auth_answer(struct auth_req *a, gboolean accept)
{
    msn_session *s = a->s;
    msn_contact *ct;

    if (!s->failed && s->state == NS_ONLINE) {
        ct = msn_contact_get(s, a->email);
        ct->asked = FALSE;
        purple_debug_info("msn", "authorization of %s: %s\n", ct->email,
                          accept ? "allowed" : "not given (lists unchanged)");
        if (accept)
            allow_contact(s, ct);
    }
    auth_req_free(a);
}

static void on_auth_accept(void *data)
{
    auth_answer(data, TRUE);
}

static void on_auth_deny(void *data)
{
    auth_answer(data, FALSE);
}

/* Someone has us on their FL and we have not said yes or no. */
static void ask_authorization(msn_session *s, msn_contact *ct)
{
    struct auth_req *a;

    if (ct->asked || (ct->lists & (MSN_AL | MSN_BL)))
        return;
    ct->asked = TRUE;
    a = g_new0(struct auth_req, 1);
    a->s = s;
    a->email = g_strdup(ct->email);
    s->auths = g_list_prepend(s->auths, a);
    purple_debug_info("msn", "%s added us: asking\n", ct->email);
    purple_account_request_authorization(
        s->acct, ct->email, NULL, ct->name, NULL,
        purple_find_buddy(s->acct, ct->email) != NULL, on_auth_accept,
        on_auth_deny, a);
}

/* ---- the contact list -------------------------------------------------- */

static void ensure_buddy(msn_session *s, msn_contact *ct)
{
    PurpleBuddy *b = purple_find_buddy(s->acct, ct->email);
    PurpleGroup *g;

    if (!b) {
        g = purple_find_group(BUDDY_GROUP);
        if (!g) {
            g = purple_group_new(BUDDY_GROUP);
            purple_blist_add_group(g, NULL);
        }
        b = purple_buddy_new(s->acct, ct->email, NULL);
        purple_blist_add_buddy(b, NULL, g, NULL);
    }
    if (ct->name)
        serv_got_alias(s->gc, ct->email, ct->name);
}

static void send_chg(msn_session *s)
{
    const char *obj = picture_mine_encoded(s);
    char *args = g_strdup_printf("%s " CLIENT_CAPS "%s%s", s->status,
                                 obj ? " " : "", obj ? obj : "");

    conn_send(s->ns, "CHG", args);
    g_free(args);
}

/* The whole list is here: mirror it into the buddy list, put local buddies
 * the server lacks on FL, ask about pending adds, then go online. */
static void roster_done(msn_session *s)
{
    GHashTableIter it;
    gpointer value;
    GSList *buddies;

    if (s->state != NS_SYN)
        return;
    g_hash_table_iter_init(&it, s->contacts);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        msn_contact *ct = value;

        if (ct->lists & MSN_FL)
            ensure_buddy(s, ct);
    }
    buddies = purple_find_buddies(s->acct, NULL);
    for (GSList *l = buddies; l; l = l->next) {
        msn_contact *ct = msn_contact_get(s, purple_buddy_get_name(l->data));

        allow_contact(s, ct);
    }
    g_slist_free(buddies);
    s->state = NS_CHG;
    purple_connection_update_progress(s->gc, "Setting status", 3, 4);
    send_chg(s);
}

/* Someone added us and was not answered: on RL, or (adds made while we
 * were offline, as a real server lists them: "LST N=frank@example.com
 * F=frank@example.com 16 1") on PL alone. */
static gboolean unanswered(const msn_contact *ct)
{
    return (ct->lists & (MSN_RL | MSN_PL)) && !(ct->lists & (MSN_AL | MSN_BL));
}

/* After the first CHG: the roster's adds nobody answered. */
static void ask_pending(msn_session *s)
{
    GHashTableIter it;
    gpointer value;
    GPtrArray *ask = g_ptr_array_new();

    g_hash_table_iter_init(&it, s->contacts);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        msn_contact *ct = value;

        if (unanswered(ct))
            g_ptr_array_add(ask, ct);
    }
    for (guint i = 0; i < ask->len; i++)
        ask_authorization(s, g_ptr_array_index(ask, i));
    g_ptr_array_free(ask, TRUE);
}

static guint list_bit(const char *name)
{
    static const struct {
        const char *name;
        guint bit;
    } lists[] = {
        {"FL", MSN_FL}, {"AL", MSN_AL}, {"BL", MSN_BL},
        {"RL", MSN_RL}, {"PL", MSN_PL},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(lists); i++)
        if (strcmp(lists[i].name, name) == 0)
            return lists[i].bit;
    return 0;
}

static msn_contact *contact_by_uuid(msn_session *s, const char *uuid)
{
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, s->contacts);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        msn_contact *ct = value;

        if (ct->uuid && strcmp(ct->uuid, uuid) == 0)
            return ct;
    }
    return NULL;
}

/* ---- handlers ---------------------------------------------------------- */

typedef void (*ns_handler)(msn_session *s, const msnp_cmd *cmd);

static void on_ver(msn_session *s, const msnp_cmd *cmd)
{
    char *args;

    for (guint i = 1; i < cmd->argc; i++) {
        guint64 v;

        if (g_str_has_prefix(cmd->argv[i], "MSNP") &&
            g_ascii_string_to_unsigned(cmd->argv[i] + 4, 10, 8, 12, &v, NULL)) {
            s->version = (int)v;
            break;
        }
    }
    if (!s->version) {
        msn_session_fail(s, PURPLE_CONNECTION_ERROR_OTHER_ERROR,
                         "the MSN server speaks none of MSNP8 to MSNP12");
        return;
    }
    purple_debug_info("msn", "the server chose MSNP%d\n", s->version);
    s->state = NS_CVR;
    args = g_strdup_printf(CVR_ARGS " %s", s->login);
    conn_send(s->ns, "CVR", args);
    g_free(args);
}

static void on_cvr(msn_session *s, const msnp_cmd *cmd)
{
    char *args;

    if (s->state != NS_CVR)
        return;
    s->state = NS_USR_I;
    args = g_strdup_printf("TWN I %s", s->login);
    conn_send(s->ns, "USR", args);
    g_free(args);
}

static void on_usr(msn_session *s, const msnp_cmd *cmd)
{
    if (cmd->argc >= 4 && strcmp(cmd->argv[1], "TWN") == 0 &&
        strcmp(cmd->argv[2], "S") == 0 && s->state == NS_USR_I) {
        g_free(s->twn_challenge);
        s->twn_challenge = g_strdup(cmd->argv[3]);
        s->state = NS_PASSPORT;
        purple_connection_update_progress(s->gc, "Passport login", 1, 4);
        passport_login(s);
        return;
    }
    if (cmd->argc >= 2 && strcmp(cmd->argv[1], "OK") == 0 &&
        s->state == NS_USR_S) {
        s->state = NS_SYN;
        purple_connection_set_display_name(s->gc, s->email);
        purple_connection_update_progress(s->gc, "Contact list", 2, 4);
        conn_send(s->ns, "SYN", s->version >= 10 ? "0 0" : "0");
    }
}

static void on_conn_cmd(conn *c, const msnp_cmd *cmd, void *owner);
static void on_conn_event(conn *c, const char *why, void *owner);

static gboolean split_host(const char *hostport, char **host, int *port)
{
    const char *colon = strrchr(hostport, ':');
    guint64 p;

    if (!colon || colon == hostport ||
        !g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &p, NULL))
        return FALSE;
    *host = g_strndup(hostport, (gsize)(colon - hostport));
    *port = (int)p;
    return TRUE;
}

static void on_xfr(msn_session *s, const msnp_cmd *cmd)
{
    char *host = NULL;
    int port;

    if (cmd->argc < 3 || !split_host(cmd->argv[2], &host, &port)) {
        purple_debug_warning("msn", "XFR without an address: ignored\n");
        return;
    }
    if (strcmp(cmd->argv[1], "NS") == 0) {
        if (s->state >= NS_SYN || ++s->redirects > MAX_REDIRECTS) {
            msn_session_fail(s, PURPLE_CONNECTION_ERROR_NETWORK_ERROR,
                             "the MSN server redirected us too often");
        } else {
            purple_debug_info("msn", "redirected to %s:%d\n", host, port);
            conn_free(s->ns);
            s->version = 0;
            s->state = NS_CONNECTING;
            s->ns =
                conn_new(s->acct, host, port, on_conn_cmd, on_conn_event, s);
            if (!s->ns)
                msn_session_fail(s, PURPLE_CONNECTION_ERROR_NETWORK_ERROR,
                                 "could not connect to the MSN server");
        }
    } else if (strcmp(cmd->argv[1], "SB") == 0 && cmd->argc >= 5) {
        sb_on_xfr(s, (guint)msnp_cmd_trid(cmd), host, port, cmd->argv[4]);
    }
    g_free(host);
}

static guint count_arg(const msnp_cmd *cmd, guint i)
{
    guint64 n = 0;

    if (i < cmd->argc)
        g_ascii_string_to_unsigned(cmd->argv[i], 10, 0, G_MAXUINT32, &n, NULL);
    return (guint)n;
}

static void on_syn(msn_session *s, const msnp_cmd *cmd)
{
    /* MSNP10+: SYN t ts ts contacts groups; MSNP8–9: SYN t ver contacts
     * groups. Without the counts the list is unchanged: nothing follows. */
    guint idx = s->version >= 10 ? 3 : 2;

    if (s->state != NS_SYN)
        return;
    s->syn_contacts = cmd->argc > idx ? count_arg(cmd, idx) : 0;
    if (s->syn_contacts == 0)
        roster_done(s);
}

static void on_lst(msn_session *s, const msnp_cmd *cmd)
{
    const char *email = NULL, *name = NULL, *uuid = NULL;
    gboolean have_lists = FALSE;
    guint lists = 0, positional = 0;
    msn_contact *ct;

    for (guint i = 0; i < cmd->argc; i++) {
        const char *a = cmd->argv[i], *v;
        guint64 n;

        if ((v = msnp_arg_value(a, 'N'))) {
            email = v;
        } else if ((v = msnp_arg_value(a, 'F'))) {
            name = v;
        } else if ((v = msnp_arg_value(a, 'C'))) {
            uuid = v;
        } else if (!email && positional == 0) {
            email = a; /* MSNP8–9: email name lists groups */
            positional++;
        } else if (!name && positional == 1) {
            name = a;
            positional++;
        } else if (!have_lists &&
                   g_ascii_string_to_unsigned(a, 10, 0, 255, &n, NULL)) {
            lists = (guint)n;
            have_lists = TRUE;
        }
    }
    if (email && *email) {
        ct = msn_contact_get(s, email);
        ct->lists = lists;
        if (uuid && *uuid) {
            g_free(ct->uuid);
            ct->uuid = g_strdup(uuid);
        }
        if (name && *name) {
            g_free(ct->name);
            ct->name = msnp_url_decode(name);
        }
    }
    if (s->state == NS_SYN && s->syn_contacts > 0 && --s->syn_contacts == 0)
        roster_done(s);
}

static gboolean on_ping(gpointer data);

static void on_chg(msn_session *s, const msnp_cmd *cmd)
{
    if (s->state != NS_CHG)
        return;
    s->state = NS_ONLINE;
    if (!s->ping_h)
        s->ping_h = purple_timeout_add_seconds(PING_SECONDS, on_ping, s);
    purple_connection_set_state(s->gc, PURPLE_CONNECTED);
    ask_pending(s);
    sb_ns_ready(s);
}

static void on_iln(msn_session *s, const msnp_cmd *cmd)
{
    if (cmd->argc >= 3)
        presence(s, cmd->argv[1], cmd->argv[2],
                 cmd->argc >= 4 ? cmd->argv[3] : NULL);
    if (cmd->argc >= 6) /* ILN trid status email name caps msnobj */
        picture_seen(s, cmd->argv[2], cmd->argv[5]);
}

static void on_nln(msn_session *s, const msnp_cmd *cmd)
{
    if (cmd->argc >= 2)
        presence(s, cmd->argv[0], cmd->argv[1],
                 cmd->argc >= 3 ? cmd->argv[2] : NULL);
    if (cmd->argc >= 5) /* NLN status email name caps msnobj */
        picture_seen(s, cmd->argv[1], cmd->argv[4]);
}

static void on_fln(msn_session *s, const msnp_cmd *cmd)
{
    if (cmd->argc >= 1)
        presence(s, "", cmd->argv[0], NULL);
}

/* The list change, from our ADC/ADD or pushed by the server (trid 0). */
static void list_added(msn_session *s, guint bit, const char *email,
                       const char *name, const char *uuid, gboolean pushed)
{
    msn_contact *ct;

    if (!email) {
        ct = uuid ? contact_by_uuid(s, uuid) : NULL;
        if (!ct)
            return; /* a group assignment of someone we do not know */
    } else {
        ct = msn_contact_get(s, email);
    }
    ct->lists |= bit;
    if (uuid && *uuid && bit == MSN_FL) {
        g_free(ct->uuid);
        ct->uuid = g_strdup(uuid);
    }
    if (name && *name && !ct->name)
        ct->name = msnp_url_decode(name);
    if ((bit == MSN_RL || bit == MSN_PL) && pushed && s->state == NS_ONLINE)
        ask_authorization(s, ct);
}

static void on_adc(msn_session *s, const msnp_cmd *cmd)
{
    const char *email = NULL, *name = NULL, *uuid = NULL;

    if (cmd->argc < 3)
        return;
    for (guint i = 2; i < cmd->argc; i++) {
        const char *v;

        if ((v = msnp_arg_value(cmd->argv[i], 'N')))
            email = v;
        else if ((v = msnp_arg_value(cmd->argv[i], 'F')))
            name = v;
        else if ((v = msnp_arg_value(cmd->argv[i], 'C')))
            uuid = v;
    }
    list_added(s, list_bit(cmd->argv[1]), email, name, uuid,
               msnp_cmd_trid(cmd) == 0);
}

/* MSNP8–9: ADD trid list version email name [group] */
static void on_add(msn_session *s, const msnp_cmd *cmd)
{
    if (cmd->argc < 5)
        return;
    list_added(s, list_bit(cmd->argv[1]), cmd->argv[3], cmd->argv[4], NULL,
               msnp_cmd_trid(cmd) == 0);
}

static void on_rem(msn_session *s, const msnp_cmd *cmd)
{
    msn_contact *ct;
    guint bit;
    /* REM trid list id [group]: MSNP8–9 put a list version before id. */
    guint idx = s->version >= 10 ? 2 : 3;

    if (cmd->argc <= idx)
        return;
    bit = list_bit(cmd->argv[1]);
    if (bit == MSN_FL && cmd->argc > idx + 1)
        return; /* out of a group only */
    ct = msn_contact_find(s, cmd->argv[idx]);
    if (!ct)
        ct = contact_by_uuid(s, cmd->argv[idx]);
    if (ct)
        ct->lists &= ~bit;
}

static void on_rng(msn_session *s, const msnp_cmd *cmd)
{
    char *host = NULL;
    int port;

    /* RNG sessid host:port CKI ticket email name */
    if (cmd->argc < 5 || !split_host(cmd->argv[1], &host, &port))
        return;
    sb_on_rng(s, cmd->argv[0], host, port, cmd->argv[3], cmd->argv[4]);
    g_free(host);
}

static void on_chl(msn_session *s, const msnp_cmd *cmd)
{
    char answer[33];
    char *args;

    if (cmd->argc < 2)
        return;
    msnp_qry_answer(s->version, cmd->argv[1], answer);
    args = g_strdup_printf("%s", msnp_qry_product(s->version));
    conn_send_payload(s->ns, "QRY", args, answer, 32);
    g_free(args);
}

/* BLP (in the list download, or the answer to ours): what happens to
 * people on neither AL nor BL. A bot must hear strangers (to tell them to
 * ask an owner), so BL ("only AL may write") is changed to AL. */
static void on_blp(msn_session *s, const msnp_cmd *cmd)
{
    if (cmd->argc < 1 || strcmp(cmd->argv[cmd->argc - 1], "BL") != 0 ||
        s->state < NS_SYN)
        return;
    purple_debug_info("msn", "privacy was BLP BL: asking for BLP AL\n");
    conn_send(s->ns, "BLP", "AL");
}

static void on_qng(msn_session *s, const msnp_cmd *cmd)
{
    s->pong_due = FALSE;
}

static const struct {
    const char *name;
    PurpleConnectionError reason;
    const char *why;
} out_reasons[] = {
    {"OTH", PURPLE_CONNECTION_ERROR_NAME_IN_USE,
     "signed in to MSN from another location"},
    {"SSD", PURPLE_CONNECTION_ERROR_NETWORK_ERROR,
     "the MSN server is shutting down"},
};

static void on_out(msn_session *s, const msnp_cmd *cmd)
{
    for (gsize i = 0; i < G_N_ELEMENTS(out_reasons); i++) {
        if (cmd->argc >= 1 && strcmp(cmd->argv[0], out_reasons[i].name) == 0) {
            msn_session_fail(s, out_reasons[i].reason, out_reasons[i].why);
            return;
        }
    }
    msn_session_fail(s, PURPLE_CONNECTION_ERROR_NETWORK_ERROR,
                     "the MSN server signed us out");
}

static void on_error(msn_session *s, const msnp_cmd *cmd)
{
    gint64 trid = msnp_cmd_trid(cmd);

    if (s->state < NS_ONLINE) {
        ns_fail_login(s, cmd->error);
        return;
    }
    if (trid > 0 && sb_on_xfr_error(s, (guint)trid, cmd->error))
        return;
    purple_debug_warning("msn", "server error %d (%s) for transaction %d\n",
                         cmd->error, msnp_error_text(cmd->error), (int)trid);
}

static const struct {
    const char *name;
    ns_handler fn;
} handlers[] = {
    {"VER", on_ver}, {"CVR", on_cvr}, {"USR", on_usr}, {"XFR", on_xfr},
    {"SYN", on_syn}, {"LST", on_lst}, {"CHG", on_chg}, {"ILN", on_iln},
    {"NLN", on_nln}, {"FLN", on_fln}, {"ADC", on_adc}, {"ADD", on_add},
    {"REM", on_rem}, {"RNG", on_rng}, {"CHL", on_chl}, {"QNG", on_qng},
    {"OUT", on_out}, {"BLP", on_blp},
};

static void on_conn_cmd(conn *c, const msnp_cmd *cmd, void *owner)
{
    msn_session *s = owner;

    if (s->failed || c != s->ns)
        return;
    if (cmd->error) {
        on_error(s, cmd);
        return;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(handlers); i++) {
        if (strcmp(handlers[i].name, cmd->name) == 0) {
            handlers[i].fn(s, cmd);
            return;
        }
    }
    /* GTC, PRP, LSG, SBS, MSG from Hotmail, UBX, GCF, NOT…: nothing
     * this plugin needs. */
}

static void on_conn_event(conn *c, const char *why, void *owner)
{
    msn_session *s = owner;
    char *text;

    if (c != s->ns)
        return;
    if (!why) {
        conn_send(s->ns, "VER", "MSNP12 MSNP11 MSNP10 MSNP9 MSNP8 CVR0");
        return;
    }
    text = g_strdup_printf("%s: %s",
                           s->state == NS_CONNECTING
                               ? "could not reach the MSN server"
                               : "lost the connection to the MSN server",
                           why);
    msn_session_fail(s, PURPLE_CONNECTION_ERROR_NETWORK_ERROR, text);
    g_free(text);
}

void ns_start(msn_session *s, const char *host, int port)
{
    purple_connection_update_progress(s->gc, "Connecting", 0, 4);
    s->ns = conn_new(s->acct, host, port, on_conn_cmd, on_conn_event, s);
    if (!s->ns)
        msn_session_fail(s, PURPLE_CONNECTION_ERROR_NETWORK_ERROR,
                         "could not connect to the MSN server");
}

void ns_ticket(msn_session *s, const char *ticket)
{
    char *args;

    if (s->state != NS_PASSPORT || !s->ns)
        return;
    s->state = NS_USR_S;
    args = g_strdup_printf("TWN S %s", ticket);
    conn_send(s->ns, "USR", args);
    secret_free(args);
}

static gboolean on_ping(gpointer data)
{
    msn_session *s = data;

    if (s->failed || !s->ns)
        return TRUE;
    if (s->pong_due) {
        s->ping_h = 0;
        msn_session_fail(s, PURPLE_CONNECTION_ERROR_NETWORK_ERROR,
                         "the MSN server stopped answering keep-alives");
        return FALSE;
    }
    s->pong_due = TRUE;
    conn_send_raw(s->ns, "PNG\r\n", 5);
    return TRUE;
}

void ns_set_status(msn_session *s, const char *code)
{
    s->status = code;
    if (s->state == NS_ONLINE && !s->failed)
        send_chg(s);
}

void ns_add_contact(msn_session *s, const char *email)
{
    msn_contact *ct;

    if (!s->ns || s->failed || s->state < NS_CHG)
        return; /* put on FL when the roster is done */
    ct = msn_contact_get(s, email);
    allow_contact(s, ct);
    if (*ct->status)
        purple_prpl_got_user_status(s->acct, ct->email,
                                    status_id_of(ct->status), NULL);
}

void ns_remove_contact(msn_session *s, const char *email)
{
    msn_contact *ct = msn_contact_find(s, email);

    if (!ct || !s->ns || s->failed || s->state < NS_CHG)
        return;
    if (ct->lists & MSN_FL)
        remove_from_list(s, ct, "FL");
    if (ct->lists & MSN_AL)
        remove_from_list(s, ct, "AL");
}

guint ns_request_sb(msn_session *s)
{
    if (!s->ns || s->failed || s->state != NS_ONLINE)
        return 0;
    return conn_send(s->ns, "XFR", "SB");
}

void ns_close(msn_session *s)
{
    while (s->auths)
        auth_req_free(s->auths->data);
    if (s->ping_h)
        purple_timeout_remove(s->ping_h);
    s->ping_h = 0;
    if (s->ns && !s->failed && s->state == NS_ONLINE)
        conn_send_raw(s->ns, "OUT\r\n", 5);
    conn_free(s->ns);
    s->ns = NULL;
}
