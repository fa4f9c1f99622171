/* room: a group's live state: configuration and occupants. */
#include "room.h"

#include "bounds.h"
#include "bucket.h"
#include "nick.h"

static const char *const role_names[] = {
    [ROLE_MODERATOR] = "moderator",
    [ROLE_PARTICIPANT] = "participant",
    [ROLE_VISITOR] = "visitor",
    [ROLE_NONE] = "none",
};

const char *role_name(enum role r)
{
    return r <= ROLE_NONE ? role_names[r] : "none";
}

static void occ_free(gpointer data)
{
    occ *o = data;

    g_free(o->nick);
    g_free(o->nick_key);
    g_free(o->bare);
    g_ptr_array_unref(o->sessions);
    g_free(o->occupant_id);
    g_free(o->legacy_account);
    g_free(o->legacy_handle);
    occ_shown_clear(&o->shown);
    g_free(o);
}

void occ_shown_clear(occ_shown *s)
{
    g_free(s->show);
    g_free(s->status);
    g_free(s->priority);
    for (size_t i = 0; i < G_N_ELEMENTS(s->caps); i++)
        g_free(s->caps[i]);
    g_free(s->photo);
    *s = (occ_shown){0};
}

static void invitation_free(gpointer data);

room *room_new(const char *component_jid, group_cfg *cfg)
{
    room *r = g_new0(room, 1);

    r->name = g_strdup(cfg->localpart);
    r->jid = g_strconcat(cfg->localpart, "@", component_jid, NULL);
    r->cfg = cfg;
    r->by_nick = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, occ_free);
    return r;
}

void room_free(room *r)
{
    if (!r)
        return;
    if (r->by_full)
        g_hash_table_destroy(r->by_full);
    g_hash_table_destroy(r->by_nick);
    if (r->rates)
        g_hash_table_destroy(r->rates);
    if (r->invites)
        g_hash_table_destroy(r->invites);
    if (r->legacy)
        g_hash_table_destroy(r->legacy);
    group_cfg_free(r->cfg);
    g_free(r->jid);
    g_free(r->name);
    g_free(r);
}

occ *room_occ_by_full(room *r, const char *full)
{
    return r->by_full ? g_hash_table_lookup(r->by_full, full) : NULL;
}

/* The comparison form of nick (RFC 8266); callers have checked nick with
 * nick_prepare, so a refusal here is a nick nobody can hold: it is kept
 * apart from every valid key by a leading control character. */
static char *key_of(const char *nick)
{
    char *key = NULL;
    const char *why = NULL;

    if (nick_key(nick, &key, &why) < 0)
        return g_strconcat("\x01", nick, NULL);
    return key;
}

occ *room_occ_by_nick(room *r, const char *nick)
{
    char *key = key_of(nick);
    occ *o = g_hash_table_lookup(r->by_nick, key);

    g_free(key);
    return o;
}

occ *room_occ_add(room *r, const char *nick, const char *bare, const char *full,
                  enum affiliation aff, enum role role, const char *occupant_id)
{
    occ *o = g_new0(occ, 1);

    o->nick = g_strdup(nick);
    o->nick_key = key_of(nick);
    o->bare = g_strdup(bare);
    o->sessions = g_ptr_array_new_with_free_func(g_free);
    o->aff = aff;
    o->role = role;
    o->occupant_id = g_strdup(occupant_id);
    g_hash_table_insert(r->by_nick, o->nick_key, o);
    if (full)
        room_session_add(r, o, full);
    else {
        if (!r->legacy)
            r->legacy = g_hash_table_new(g_str_hash, g_str_equal);
        g_hash_table_insert(r->legacy, o->bare, o);
    }
    return o;
}

occ *room_occ_by_legacy(room *r, const char *bare)
{
    return r->legacy ? g_hash_table_lookup(r->legacy, bare) : NULL;
}

/* Drops o from the legacy index if it is there. */
static void legacy_forget(room *r, occ *o)
{
    if (r->legacy && g_hash_table_lookup(r->legacy, o->bare) == o)
        g_hash_table_remove(r->legacy, o->bare);
}

/* The sessions table goes when its last session does: one that once held
 * an entry costs about 330 bytes, and most rooms are idle (the memory
 * benchmark's rooms are each joined and left by their creator). */
static void full_forget(room *r, const char *full)
{
    if (r->by_full && g_hash_table_remove(r->by_full, full) &&
        g_hash_table_size(r->by_full) == 0)
        g_clear_pointer(&r->by_full, g_hash_table_destroy);
}

void room_session_add(room *r, occ *o, const char *full)
{
    char *s = g_strdup(full);

    g_ptr_array_add(o->sessions, s);
    if (!r->by_full)
        r->by_full = g_hash_table_new(g_str_hash, g_str_equal);
    g_hash_table_insert(r->by_full, s, o);
}

/* Removes o from by_nick (freeing it). The room's last occupant leaves a
 * fresh table behind: an emptied one keeps its separate values array
 * (about 130 bytes more), and most rooms are idle. No caller removes
 * while iterating by_nick. */
static void nick_forget(room *r, occ *o)
{
    g_hash_table_remove(r->by_nick, o->nick_key);
    if (g_hash_table_size(r->by_nick) == 0) {
        g_hash_table_destroy(r->by_nick);
        r->by_nick =
            g_hash_table_new_full(g_str_hash, g_str_equal, NULL, occ_free);
    }
}

gboolean room_session_remove(room *r, occ *o, const char *full)
{
    for (guint i = 0; i < o->sessions->len; i++) {
        char *s = g_ptr_array_index(o->sessions, i);
        if (g_strcmp0(s, full) != 0)
            continue;
        full_forget(r, s);
        g_ptr_array_remove_index(o->sessions, i);
        break;
    }
    if (o->sessions->len > 0)
        return FALSE;
    legacy_forget(r, o);
    nick_forget(r, o);
    return TRUE;
}

void room_occ_remove(room *r, occ *o)
{
    for (guint i = 0; i < o->sessions->len; i++)
        full_forget(r, g_ptr_array_index(o->sessions, i));
    legacy_forget(r, o);
    nick_forget(r, o);
}

void room_occ_rename(room *r, occ *o, const char *nick)
{
    g_hash_table_steal(r->by_nick, o->nick_key);
    g_free(o->nick);
    g_free(o->nick_key);
    o->nick = g_strdup(nick);
    o->nick_key = key_of(nick);
    g_hash_table_insert(r->by_nick, o->nick_key, o);
}

const char *room_occ_jid(const occ *o)
{
    return o->sessions->len
               ? g_ptr_array_index(o->sessions, o->sessions->len - 1)
               : o->bare;
}

guint room_occupant_count(const room *r)
{
    return g_hash_table_size(r->by_nick);
}

typedef struct invitation {
    gint64 until;
    char *inviter;
} invitation;

static void invitation_free(gpointer data)
{
    invitation *v = data;

    g_free(v->inviter);
    g_free(v);
}

static gboolean lapsed(gpointer key, gpointer value, gpointer now)
{
    (void)key;
    return ((invitation *)value)->until <= *(gint64 *)now;
}

void room_invite_add(room *r, const char *bare, const char *inviter, gint64 now)
{
    invitation *v = g_new(invitation, 1);

    if (!r->invites)
        r->invites = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                           invitation_free);
    if (g_hash_table_size(r->invites) >= BOUND_INVITES_PER_ROOM &&
        !g_hash_table_contains(r->invites, bare)) {
        g_hash_table_foreach_remove(r->invites, lapsed, &now);
        if (g_hash_table_size(r->invites) >= BOUND_INVITES_PER_ROOM) {
            GHashTableIter it;
            gpointer k, val, oldest = NULL;
            gint64 min = G_MAXINT64;
            g_hash_table_iter_init(&it, r->invites);
            while (g_hash_table_iter_next(&it, &k, &val))
                if (((invitation *)val)->until < min) {
                    min = ((invitation *)val)->until;
                    oldest = k;
                }
            g_hash_table_remove(r->invites, oldest);
        }
    }
    v->until = now + (gint64)BOUND_INVITE_TTL_S * G_USEC_PER_SEC;
    v->inviter = g_strdup(inviter);
    g_hash_table_insert(r->invites, g_strdup(bare), v);
}

char *room_invite_take(room *r, const char *bare, gint64 now)
{
    invitation *v = r->invites ? g_hash_table_lookup(r->invites, bare) : NULL;
    char *inviter = v && v->until > now ? g_strdup(v->inviter) : NULL;

    if (v)
        g_hash_table_remove(r->invites, bare);
    return inviter;
}
