/* avatar: the room's vcard-temp PHOTO (get, an owner's set), its hash in
 * presence from the room and in disco#info. */
#include "avatar.h"

#include <errno.h>
#include <string.h>

#include "jid.h"
#include "log.h"
#include "photos.h"
#include "stanza.h"

/* ---- reading ---- */

gboolean avatar_hash(muc *m, const room *r, char out[AVATARS_HASH_LEN])
{
    MDB_txn *txn = NULL;
    GError *err = NULL;
    int rc;

    *out = '\0';
    if (store_read_begin(m->st, &txn, &err) < 0) {
        g_error_free(err);
        return FALSE;
    }
    rc = avatars_hash(txn, m->st, r->name, out);
    store_read_end(txn);
    if (rc != 0 && rc != MDB_NOTFOUND)
        log_error_about(LOG_STORE, r->name, "a room avatar cannot be read (%s)",
                        mdb_strerror(rc));
    if (rc != 0)
        *out = '\0';
    return rc == 0;
}

guchar *avatar_decode(const char *text, gsize *len)
{
    GString *b64 = g_string_sized_new(strlen(text));
    guchar *out = NULL;
    guint pad = 0;

    *len = 0;
    for (const char *p = text; *p; p++) {
        if (g_ascii_isspace(*p))
            continue;
        if (*p == '=') {
            if (++pad > 2)
                goto leave;
        } else if (pad || !(g_ascii_isalnum(*p) || *p == '+' || *p == '/')) {
            goto leave; /* not base64, or a character after the padding */
        }
        g_string_append_c(b64, *p);
    }
    if (b64->len == 0 || b64->len % 4)
        goto leave;
    out = g_base64_decode(b64->str, len);
    if (*len == 0) {
        g_free(out);
        out = NULL;
    }
leave:
    g_string_free(b64, TRUE);
    return out;
}

/* <vCard xmlns='vcard-temp'><PHOTO><TYPE/><BINVAL/></PHOTO></vCard> of p. */
static xmpp_stanza_t *vcard_of(xmpp_ctx_t *ctx, const avatars_photo *p)
{
    xmpp_stanza_t *vcard = stanza_elem(ctx, "vCard", NS_VCARD);
    xmpp_stanza_t *photo = stanza_elem(ctx, "PHOTO", NULL);
    gsize len = 0;
    const guchar *data = g_bytes_get_data(p->data, &len);
    char *b64 = g_base64_encode(data, len);

    if (*p->type)
        stanza_add_text(ctx, photo, "TYPE", p->type);
    stanza_add_text(ctx, photo, "BINVAL", b64);
    stanza_add(vcard, photo);
    g_free(b64);
    return vcard;
}

enum xerr avatar_get(const iq_req *q, iq_res *res)
{
    const muc_call *c = q->data;
    avatars_photo *p = NULL;
    MDB_txn *txn = NULL;
    GError *err = NULL;
    int rc;

    if (store_read_begin(c->m->st, &txn, &err) < 0) {
        log_error(LOG_STORE, "%s", err->message);
        g_error_free(err);
        return XERR_INTERNAL_SERVER_ERROR;
    }
    rc = avatars_get(txn, c->m->st, c->r->name, &p);
    store_read_end(txn);
    /* As Prosody's mod_vcard_muc: a room without one answers
     * item-not-found. */
    if (rc == MDB_NOTFOUND)
        return iq_fail(res, XERR_ITEM_NOT_FOUND, "this group has no avatar");
    if (rc != 0) {
        log_error_about(LOG_STORE, c->r->name,
                        "a room avatar cannot be read (%s)", mdb_strerror(rc));
        return XERR_INTERNAL_SERVER_ERROR;
    }
    res->payload = vcard_of(q->ctx, p);
    avatars_photo_free(p);
    return XERR_NONE;
}

/* XEP-0054 §3.3 asks a user's vCard of their bare JID; in a room the
 * occupant JID stands for it (Gajim, Conversations and Dino ask
 * room@service/nick for an occupant's XEP-0153 hash). A legacy occupant's
 * picture is the room's to give (schema/photos); an XMPP occupant's is
 * their own server's, not relayed. */
enum xerr avatar_occupant_get(const iq_req *q, iq_res *res)
{
    const muc_call *c = q->data;
    occ *o = room_occ_by_nick(c->r, q->to->resource);
    avatars_photo *p = NULL;
    MDB_txn *txn = NULL;
    GError *err = NULL;
    int rc;

    if (!o)
        return iq_fail(res, XERR_ITEM_NOT_FOUND, "no such occupant");
    if (!o->legacy_kind)
        return XERR_SERVICE_UNAVAILABLE;
    if (!o->shown.photo || !*o->shown.photo)
        return iq_fail(res, XERR_ITEM_NOT_FOUND, "no picture");
    if (store_read_begin(c->m->st, &txn, &err) < 0) {
        log_error(LOG_STORE, "%s", err->message);
        g_error_free(err);
        return XERR_INTERNAL_SERVER_ERROR;
    }
    rc = photos_get(txn, c->m->st, o->shown.photo, &p);
    store_read_end(txn);
    if (rc != 0) {
        if (rc != MDB_NOTFOUND && rc != -EINVAL)
            log_error_about(LOG_STORE, c->r->name,
                            "a member's picture cannot be read (%s)",
                            mdb_strerror(rc));
        return iq_fail(res, XERR_ITEM_NOT_FOUND, "no picture");
    }
    res->payload = vcard_of(q->ctx, p);
    avatars_photo_free(p);
    return XERR_NONE;
}

/* ---- the owner's set ---- */

/* Whether t is a MIME type as a vCard's TYPE carries it: a short token
 * with a '/' (RFC 6838 restricted names), so what is kept and re-sent is
 * bounded and plain. */
static gboolean plain_type(const char *t)
{
    gsize n = strlen(t);

    return n <= AVATARS_TYPE_MAX && strchr(t, '/') &&
           strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789!#$&-^_.+/") == n;
}

typedef struct set_args {
    const char *group;
    const char *type; /* NULL: remove */
    const guchar *data;
    gsize len;
    char hash[AVATARS_HASH_LEN];
} set_args;

static int set_txn(MDB_txn *txn, const store *st, void *userdata)
{
    set_args *a = userdata;

    if (!a->data)
        return avatars_delete(txn, st, a->group);
    return avatars_put(txn, st, a->group, a->type, a->data, a->len, a->hash);
}

/* What follows the owner's result: every occupant gets the room's
 * presence with the new hash (empty <photo/>: no avatar, XEP-0153 §3.1),
 * then the configuration-change status 104, as Prosody's mod_vcard_muc
 * sends them. */
typedef struct announce {
    uplink *up;
    room *r;
    char hash[AVATARS_HASH_LEN];
} announce;

static xmpp_stanza_t *room_presence(xmpp_ctx_t *ctx, const room *r,
                                    const char *hash)
{
    xmpp_stanza_t *p = xmpp_presence_new(ctx);
    xmpp_stanza_t *x = stanza_elem(ctx, "x", NS_VCARD_UPDATE);

    xmpp_stanza_set_from(p, r->jid);
    if (*hash)
        stanza_add_text(ctx, x, "photo", hash);
    else
        stanza_add(x, stanza_elem(ctx, "photo", NULL));
    stanza_add(p, x);
    return p;
}

static void announce_change(void *data)
{
    announce *a = data;
    uplink_fanout *f =
        muc_fanout_of(a->up, room_presence(uplink_ctx(a->up), a->r, a->hash));
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, a->r->by_nick);
    while (g_hash_table_iter_next(&it, NULL, &value))
        muc_fanout_to(f, value);
    uplink_fanout_free(f);
    muc_owner_notify_status(a->up, a->r, 104);
    g_free(a);
}

/* Reads the PHOTO of the set into a; XERR_NONE, or the refusal with *why. */
static enum xerr read_photo(const iq_req *q, set_args *a, guchar **data,
                            char **type, const char **why)
{
    const muc_call *c = q->data;
    xmpp_stanza_t *photo = xmpp_stanza_get_child_by_name(q->child, "PHOTO");
    xmpp_stanza_t *binval =
        photo ? xmpp_stanza_get_child_by_name(photo, "BINVAL") : NULL;
    char *text = binval ? xmpp_stanza_get_text(binval) : NULL;
    enum xerr e = XERR_NONE;

    *data = NULL;
    *type = NULL;
    if (photo && !binval && xmpp_stanza_get_child_by_name(photo, "EXTVAL")) {
        *why = "a photo by URI (EXTVAL) is not kept; send the image (BINVAL)";
        e = XERR_NOT_ACCEPTABLE;
        goto leave;
    }
    if (!text || !*g_strstrip(text))
        goto leave; /* no image: the avatar goes */
    /* Bound on input ([limits] avatar_size), before decoding. */
    if (strlen(text) > c->m->cfg->avatar_size) {
        *why = "the avatar is larger than this service allows";
        e = XERR_POLICY_VIOLATION;
        goto leave;
    }
    if (!(*data = avatar_decode(text, &a->len))) {
        *why = "BINVAL is not base64";
        e = XERR_BAD_REQUEST;
        goto leave;
    }
    *type = stanza_child_text(photo, "TYPE");
    if (*type && !plain_type(g_strstrip(*type))) {
        *why = "TYPE is not a MIME type";
        e = XERR_BAD_REQUEST;
        goto leave;
    }
    a->data = *data;
    a->type = *type;
leave:
    if (text)
        xmpp_free(q->ctx, text);
    return e;
}

enum xerr avatar_set(const iq_req *q, iq_res *res)
{
    muc_call *c = q->data;
    set_args a = {c->r->name, NULL, NULL, 0, ""};
    char *bare = jid_bare_fold(q->from);
    const char *why = NULL;
    guchar *data = NULL;
    char *type = NULL;
    GError *err = NULL;
    announce *an;
    enum xerr e;

    /* As Prosody's mod_vcard_muc: only an owner sets the room's vCard. */
    if (!bare || muc_affiliation(c->m, c->r, bare) != AFF_OWNER) {
        e = iq_fail(res, XERR_FORBIDDEN,
                    "only an owner may set the group's avatar");
        goto leave;
    }
    if ((e = read_photo(q, &a, &data, &type, &why)) != XERR_NONE) {
        e = iq_fail(res, e, why);
        goto leave;
    }
    e = XERR_INTERNAL_SERVER_ERROR;
    if (store_write(c->m->st, set_txn, &a, &err) < 0) {
        log_error_about(LOG_STORE, c->r->name, "a room avatar: %s",
                        err ? err->message : "?");
        g_clear_error(&err);
        goto leave;
    }
    /* The bots of the group show it as their picture (the bridge). */
    if (c->m->bridge.avatar)
        c->m->bridge.avatar(c->r->name, c->m->bridge_data);
    an = g_new0(announce, 1);
    an->up = q->up;
    an->r = c->r;
    g_strlcpy(an->hash, a.data ? a.hash : "", sizeof(an->hash));
    c->after = announce_change;
    c->after_data = an;
    res->payload = stanza_elem(q->ctx, "vCard", NS_VCARD);
    e = XERR_NONE;
leave:
    g_free(data);
    if (type)
        xmpp_free(q->ctx, type);
    g_free(bare);
    return e;
}

void avatar_tell_session(muc *m, uplink *up, const room *r, const char *full)
{
    char hash[AVATARS_HASH_LEN];
    xmpp_stanza_t *p;

    if (!avatar_hash(m, r, hash))
        return;
    p = room_presence(uplink_ctx(up), r, hash);
    xmpp_stanza_set_to(p, full);
    stanza_send(up, p);
}
