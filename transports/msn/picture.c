/* picture: display pictures over MSNSLP (picture.h). */
#include "picture.h"

#include <string.h>

#include "msnobj.h"
#include "ns.h"
#include "p2p.h"
#include "sb.h"

#define P2P_HEADERS                                                            \
    "MIME-Version: 1.0\r\n"                                                    \
    "Content-Type: application/x-msnmsgrp2p\r\n"                               \
    "P2P-Dest: %s\r\n"                                                         \
    "\r\n"

#define SESSION_BODY_TYPE "application/x-msnmsgr-sessionreqbody"

/* Our picture goes to one peer at most once in this many seconds. */
#define SERVE_SECONDS 60
#define SERVE_PEERS   1024

/* One fetch of a contact's picture. */
struct fetch {
    msn_session *s;
    char *peer;      /* normalised */
    char *sha1d;     /* what the data must hash to */
    guint64 size;    /* the MSN object's Size */
    guint32 session; /* the MSNSLP SessionID we asked for */
    char *call_id, *branch;
    GByteArray *data; /* what arrived; sized at the first data message */
    guint64 got;      /* bytes of data taken */
    guint timer;
};

/* A fetch waiting its turn: the contact's latest MSN object text. */
struct wanted {
    char *peer;
    char *text;
};

/* An MSNSLP message arriving in several P2P messages. */
struct partial {
    GByteArray *bytes;
    guint64 total;
};

struct picture {
    GRand *rand;
    guint32 next_id;     /* P2P message ids */
    GList *fetches;      /* struct fetch, running */
    GQueue waiting;      /* struct wanted */
    GHashTable *partial; /* "peer id" → struct partial */
    guchar *mine;        /* the bot's picture, or NULL */
    gsize mine_len;
    char *mine_sha1d;
    char *mine_encoded; /* its MSN object, URL-encoded */
    GHashTable *served; /* peer → when we last sent them our picture (µs) */
};

static struct picture *state(msn_session *s)
{
    if (!s->pic) {
        s->pic = g_new0(struct picture, 1);
        s->pic->rand = g_rand_new();
        s->pic->next_id = g_rand_int_range(s->pic->rand, 1000, 1 << 30);
        g_queue_init(&s->pic->waiting);
        s->pic->served =
            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        s->pic->partial =
            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    }
    return s->pic;
}

/* ---- sending ----------------------------------------------------------- */

/* One P2P message to peer: header h (its length set here), data, footer. */
static gboolean send_p2p(msn_session *s, const char *peer, p2p_header *h,
                         const guchar *data, gsize len, guint32 footer)
{
    GByteArray *msg = g_byte_array_new();
    char *head = g_strdup_printf(P2P_HEADERS, peer);
    gboolean ok;

    g_byte_array_append(msg, (const guchar *)head, strlen(head));
    h->length = (guint32)len;
    p2p_build(msg, h, data, footer);
    ok = sb_send_p2p(s, peer, (const char *)msg->data, msg->len);
    g_byte_array_free(msg, TRUE);
    g_free(head);
    return ok;
}

/* A whole message of len bytes in session, cut in P2P_CHUNK_MAX pieces
 * under one id. */
static gboolean send_message(msn_session *s, const char *peer, guint32 session,
                             guint32 flags, const guchar *data, gsize len,
                             guint32 footer)
{
    p2p_header h = {.session = session,
                    .id = state(s)->next_id++,
                    .total = len,
                    .flags = flags};

    for (gsize off = 0; off < len; off += P2P_CHUNK_MAX) {
        h.offset = off;
        if (!send_p2p(s, peer, &h, data + off, MIN(P2P_CHUNK_MAX, len - off),
                      footer))
            return FALSE;
    }
    return TRUE;
}

static gboolean send_slp(msn_session *s, const char *peer, const char *start,
                         const char *branch, int cseq, const char *call_id,
                         const char *body)
{
    gsize len;
    char *text = p2p_slp_build(start, peer, s->email, branch, cseq, call_id,
                               SESSION_BODY_TYPE, body, &len);
    gboolean ok =
        send_message(s, peer, 0, 0, (const guchar *)text, len, P2P_APP_SLP);

    g_free(text);
    return ok;
}

static void send_ack(msn_session *s, const char *peer, const p2p_header *got)
{
    p2p_header ack;

    p2p_ack_of(got, state(s)->next_id++, &ack);
    send_p2p(s, peer, &ack, NULL, 0, 0);
}

/* ---- fetching ---------------------------------------------------------- */

static void fetch_free(struct fetch *f)
{
    if (f->timer)
        purple_timeout_remove(f->timer);
    if (f->data)
        g_byte_array_free(f->data, TRUE);
    g_free(f->peer);
    g_free(f->sha1d);
    g_free(f->call_id);
    g_free(f->branch);
    g_free(f);
}

static void start_next(msn_session *s);

/* Ends f (why NULL: done), then starts what waits. */
static void fetch_end(struct fetch *f, const char *why)
{
    msn_session *s = f->s;

    if (why)
        purple_debug_info("msn", "the picture of %s: not fetched (%s)\n",
                          f->peer, why);
    s->pic->fetches = g_list_remove(s->pic->fetches, f);
    fetch_free(f);
    start_next(s);
}

static gboolean on_fetch_timeout(gpointer data)
{
    struct fetch *f = data;

    f->timer = 0;
    fetch_end(f, "no answer in time");
    return FALSE;
}

static struct fetch *fetch_by_peer(msn_session *s, const char *peer)
{
    for (GList *l = s->pic ? s->pic->fetches : NULL; l; l = l->next)
        if (strcmp(((struct fetch *)l->data)->peer, peer) == 0)
            return l->data;
    return NULL;
}

/* Asks peer for the picture of MSN object text o. */
static void fetch_start(msn_session *s, const char *peer, const msnobj *o,
                        const char *text)
{
    struct picture *p = state(s);
    struct fetch *f = g_new0(struct fetch, 1);
    char *context, *body;

    f->s = s;
    f->peer = g_strdup(peer);
    f->sha1d = g_strdup(o->sha1d);
    f->size = o->size;
    f->session = (guint32)g_rand_int_range(p->rand, 1, G_MAXINT32);
    f->call_id = p2p_guid(p->rand);
    f->branch = p2p_guid(p->rand);
    p->fetches = g_list_prepend(p->fetches, f);
    f->timer = purple_timeout_add_seconds(PICTURE_SECONDS, on_fetch_timeout, f);
    /* The Context is the MSN object with its NUL, in base64. */
    context = g_base64_encode((const guchar *)text, strlen(text) + 1);
    body =
        g_strdup_printf("EUF-GUID: %s\r\nSessionID: %u\r\nAppID: %d\r\n"
                        "Context: %s\r\n\r\n",
                        P2P_EUF_PICTURE, f->session, P2P_APP_PICTURE, context);
    purple_debug_info(
        "msn", "fetching the picture of %s (%" G_GUINT64_FORMAT " bytes)\n",
        peer, o->size);
    {
        char *start = g_strdup_printf("INVITE MSNMSGR:%s MSNSLP/1.0", peer);

        if (!send_slp(s, peer, start, f->branch, 0, f->call_id, body))
            fetch_end(f, "no switchboard");
        g_free(start);
    }
    g_free(body);
    g_free(context);
}

/* Starts the waiting fetches there is room for. */
static void start_next(msn_session *s)
{
    struct wanted *w;

    while (g_list_length(s->pic->fetches) < PICTURE_FETCHES &&
           (w = g_queue_pop_head(&s->pic->waiting))) {
        msnobj o;

        if (!fetch_by_peer(s, w->peer) && msnobj_parse(w->text, &o) == 0) {
            fetch_start(s, w->peer, &o, w->text);
            msnobj_clear(&o);
        }
        g_free(w->peer);
        g_free(w->text);
        g_free(w);
    }
}

void picture_seen(msn_session *s, const char *email, const char *encoded)
{
    PurpleBuddy *buddy;
    const char *have;
    char *text, *peer;
    msnobj o;
    struct wanted *w;

    if (!encoded || strlen(encoded) > 3 * MSNOBJ_TEXT_MAX)
        return;
    text = msnp_url_decode(encoded);
    peer = g_strdup(msn_normalize(email));
    buddy = purple_find_buddy(s->acct, peer);
    if (!buddy || msnobj_parse(text, &o) != 0)
        goto leave;
    have = purple_buddy_icons_get_checksum_for_user(buddy);
    if (o.type != MSNOBJ_TYPE_PICTURE || g_strcmp0(have, o.sha1d) == 0 ||
        strcmp(peer, s->email) == 0) {
        msnobj_clear(&o);
        goto leave;
    }
    if (o.size == 0 || o.size > MSNOBJ_PICTURE_MAX) {
        purple_debug_info("msn",
                          "the picture of %s is %" G_GUINT64_FORMAT
                          " bytes: not fetched\n",
                          peer, o.size);
        msnobj_clear(&o);
        goto leave;
    }
    msnobj_clear(&o);
    /* Only the latest object of each contact waits. */
    for (GList *l = state(s)->waiting.head; l; l = l->next) {
        w = l->data;
        if (strcmp(w->peer, peer) == 0) {
            g_free(w->text);
            w->text = text;
            text = NULL;
            goto leave;
        }
    }
    w = g_new0(struct wanted, 1);
    w->peer = peer;
    w->text = text;
    peer = text = NULL;
    g_queue_push_tail(&s->pic->waiting, w);
    start_next(s);
leave:
    g_free(peer);
    g_free(text);
}

static void fetch_data(struct fetch *f, const p2p_header *h, const guchar *data)
{
    msn_session *s = f->s;
    char *sum;

    if (h->total == 4 && h->length == 4 && !(h->flags & P2P_FLAG_DATA)) {
        send_ack(s, f->peer, h); /* the data preparation message */
        return;
    }
    if (h->total != f->size || h->total > MSNOBJ_PICTURE_MAX) {
        send_ack(s, f->peer, h);
        fetch_end(f, "not the size its MSN object says");
        return;
    }
    if (!f->data) {
        f->data = g_byte_array_sized_new((guint)h->total);
        g_byte_array_set_size(f->data, (guint)h->total);
    }
    memcpy(f->data->data + h->offset, data, h->length);
    f->got += h->length;
    if (h->offset + h->length < h->total)
        return;
    send_ack(s, f->peer, h);
    sum = msnobj_sha1_b64(f->data->data, f->data->len);
    if (f->got != h->total || strcmp(sum, f->sha1d) != 0) {
        g_free(sum);
        fetch_end(f, "the data does not match its SHA1D");
        return;
    }
    g_free(sum);
    purple_debug_info("msn", "the picture of %s: %u bytes\n", f->peer,
                      f->data->len);
    /* libpurple takes the data (g_free). */
    purple_buddy_icons_set_for_user(s->acct, f->peer,
                                    g_memdup2(f->data->data, f->data->len),
                                    f->data->len, f->sha1d);
    {
        char *start = g_strdup_printf("BYE MSNMSGR:%s MSNSLP/1.0", f->peer);

        send_slp(s, f->peer, start, f->branch, 0, f->call_id, "\r\n");
        g_free(start);
    }
    fetch_end(f, NULL);
}

/* ---- serving ----------------------------------------------------------- */

/* The branch of a Via header ("MSNSLP/1.0/TLP ;branch={…}"), or "". */
static char *branch_of(const p2p_slp *slp)
{
    const char *via = g_hash_table_lookup(slp->heads, "via");
    const char *b = via ? strstr(via, "branch=") : NULL;

    return g_strdup(b ? b + strlen("branch=") : "");
}

/* Whether peer may have our picture now: once per SERVE_SECONDS each (a
 * client keeps it by its SHA1D; an INVITE is small, the picture is not).
 * The table is emptied past SERVE_PEERS entries. */
static gboolean may_serve(struct picture *p, const char *peer)
{
    gint64 now = g_get_monotonic_time();
    gint64 *last = g_hash_table_lookup(p->served, peer);

    if (last && now - *last < SERVE_SECONDS * G_USEC_PER_SEC)
        return FALSE;
    if (g_hash_table_size(p->served) >= SERVE_PEERS)
        g_hash_table_remove_all(p->served);
    last = g_new(gint64, 1);
    *last = now;
    g_hash_table_replace(p->served, g_strdup(peer), last);
    return TRUE;
}

static void serve(msn_session *s, const char *peer, const p2p_slp *slp)
{
    struct picture *p = state(s);
    const char *call_id = g_hash_table_lookup(slp->heads, "call-id");
    const char *euf = g_hash_table_lookup(slp->body, "euf-guid");
    const char *sid = g_hash_table_lookup(slp->body, "sessionid");
    const char *ctx = g_hash_table_lookup(slp->body, "context");
    char *branch = branch_of(slp), *text = NULL, *body;
    guint64 session = 0;
    gsize len = 0;
    msnobj o = {0};
    gboolean ours = FALSE;
    static const guchar prep[4] = {0};

    if (ctx && strlen(ctx) <= 4 * MSNOBJ_TEXT_MAX) {
        text = (char *)g_base64_decode(ctx, &len);
        text = g_realloc(text, len + 1);
        text[len] = '\0';
        ours = msnobj_parse(text, &o) == 0 && p->mine &&
               strcmp(o.sha1d, p->mine_sha1d) == 0;
        msnobj_clear(&o);
    }
    if (!call_id || !euf || g_ascii_strcasecmp(euf, P2P_EUF_PICTURE) != 0 ||
        !sid ||
        !g_ascii_string_to_unsigned(sid, 10, 1, G_MAXUINT32, &session, NULL) ||
        !ours || !may_serve(p, peer)) {
        char *start = g_strdup_printf("MSNSLP/1.0 603 Decline");

        purple_debug_info("msn", "%s asked for something we do not serve\n",
                          peer);
        body = g_strdup_printf("SessionID: %" G_GUINT64_FORMAT "\r\n\r\n",
                               session);
        send_slp(s, peer, start, branch, 1, call_id ? call_id : "{0}", body);
        g_free(body);
        g_free(start);
        goto leave;
    }
    purple_debug_info("msn", "serving our picture to %s\n", peer);
    body = g_strdup_printf("SessionID: %" G_GUINT64_FORMAT "\r\n\r\n", session);
    send_slp(s, peer, "MSNSLP/1.0 200 OK", branch, 1, call_id, body);
    g_free(body);
    /* The data preparation message, then the data. */
    send_message(s, peer, (guint32)session, 0, prep, sizeof prep,
                 P2P_APP_PICTURE);
    send_message(s, peer, (guint32)session, P2P_FLAG_DATA, p->mine, p->mine_len,
                 P2P_APP_PICTURE);
leave:
    g_free(text);
    g_free(branch);
}

/* ---- receiving --------------------------------------------------------- */

static void partial_free(gpointer data)
{
    struct partial *part = data;

    g_byte_array_free(part->bytes, TRUE);
    g_free(part);
}

static void partials_drop(struct picture *p)
{
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, p->partial);
    while (g_hash_table_iter_next(&it, NULL, &value))
        partial_free(value);
    g_hash_table_remove_all(p->partial);
}

static struct fetch *fetch_by_call(msn_session *s, const char *peer,
                                   const char *call_id)
{
    for (GList *l = s->pic ? s->pic->fetches : NULL; l; l = l->next) {
        struct fetch *f = l->data;

        if (call_id && strcmp(f->peer, peer) == 0 &&
            g_ascii_strcasecmp(f->call_id, call_id) == 0)
            return f;
    }
    return NULL;
}

/* A whole MSNSLP message from peer. */
static void slp_in(msn_session *s, const char *peer, const guchar *text,
                   gsize len)
{
    p2p_slp slp;
    char kind[16];
    struct fetch *f;

    if (p2p_slp_parse((const char *)text, len, &slp) != 0)
        return;
    p2p_slp_kind(&slp, kind, sizeof kind);
    f = fetch_by_call(s, peer, g_hash_table_lookup(slp.heads, "call-id"));
    if (strcmp(kind, "INVITE") == 0)
        serve(s, peer, &slp);
    else if (strcmp(kind, "200") == 0 && f)
        purple_debug_misc("msn", "%s accepted the picture's session\n", peer);
    else if (f && strcmp(kind, "BYE") != 0 && strcmp(kind, "ACK") != 0)
        fetch_end(f, slp.start); /* 603 Decline, 500… */
    p2p_slp_free(&slp);
}

void picture_p2p_in(msn_session *s, const char *from, const char *dest,
                    const char *body, gsize len)
{
    struct picture *p = state(s);
    p2p_header h;
    const guchar *data;
    guint32 footer;
    char *key;
    struct partial *part;

    /* In a multi-party switchboard, everyone gets everyone's P2P. */
    if (dest && strcmp(msn_normalize(dest), s->email) != 0)
        return;
    if (p2p_parse((const guchar *)body, len, &h, &data, &footer) != 0) {
        purple_debug_warning("msn", "a malformed P2P message from %s\n", from);
        return;
    }
    if (h.flags & P2P_FLAG_ACK)
        return;
    if (h.session != 0) {
        for (GList *l = p->fetches; l; l = l->next) {
            struct fetch *f = l->data;

            if (f->session == h.session && strcmp(f->peer, from) == 0) {
                fetch_data(f, &h, data);
                return;
            }
        }
        return; /* a session we do not have: the end of one we served */
    }
    if (h.total > P2P_SLP_MAX)
        return;
    if (h.offset == 0 && h.length == h.total) {
        send_ack(s, from, &h);
        slp_in(s, from, data, h.length);
        return;
    }
    /* An MSNSLP message in pieces: kept by sender and id until whole;
     * at most PICTURE_FETCHES of them at once. */
    key = g_strdup_printf("%s %u", from, h.id);
    part = g_hash_table_lookup(p->partial, key);
    if (!part) {
        if (h.offset != 0) {
            g_free(key);
            return;
        }
        if (g_hash_table_size(p->partial) >= PICTURE_FETCHES)
            partials_drop(p); /* the oldest never ended: start afresh */
        part = g_new0(struct partial, 1);
        part->bytes = g_byte_array_new();
        part->total = h.total;
        g_hash_table_insert(p->partial, g_strdup(key), part);
    }
    if (h.total == part->total && h.offset == part->bytes->len)
        g_byte_array_append(part->bytes, data, h.length);
    if (part->bytes->len == part->total) {
        send_ack(s, from, &h);
        slp_in(s, from, part->bytes->data, part->bytes->len);
        g_hash_table_remove(p->partial, key);
        g_byte_array_free(part->bytes, TRUE);
        g_free(part);
    }
    g_free(key);
}

/* ---- the bot's own picture --------------------------------------------- */

void picture_set_mine(msn_session *s, const guchar *data, gsize len)
{
    struct picture *p = state(s);
    char *text;

    g_free(p->mine);
    g_free(p->mine_sha1d);
    g_free(p->mine_encoded);
    p->mine = NULL;
    p->mine_sha1d = p->mine_encoded = NULL;
    p->mine_len = 0;
    if (data && len && len <= MSNOBJ_PICTURE_MAX) {
        p->mine = g_memdup2(data, len);
        p->mine_len = len;
        p->mine_sha1d = msnobj_sha1_b64(data, len);
        text = msnobj_make(s->email, data, len, "imgroups.png");
        p->mine_encoded = msnp_url_encode(text, FALSE);
        g_free(text);
    }
    purple_debug_info("msn", "our picture: %" G_GSIZE_FORMAT " bytes\n",
                      p->mine_len);
    ns_set_status(s, s->status); /* a CHG with the new MSN object */
}

const char *picture_mine_encoded(msn_session *s)
{
    return s->pic ? s->pic->mine_encoded : NULL;
}

void picture_free(msn_session *s)
{
    struct picture *p = s->pic;
    struct wanted *w;

    if (!p)
        return;
    g_list_free_full(p->fetches, (GDestroyNotify)fetch_free);
    while ((w = g_queue_pop_head(&p->waiting))) {
        g_free(w->peer);
        g_free(w->text);
        g_free(w);
    }
    partials_drop(p);
    g_hash_table_destroy(p->partial);
    g_hash_table_destroy(p->served);
    g_rand_free(p->rand);
    g_free(p->mine);
    g_free(p->mine_sha1d);
    g_free(p->mine_encoded);
    g_free(p);
    s->pic = NULL;
}
