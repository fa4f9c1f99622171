/* cues: typing and buzzes between a bot's members (or chat participants)
 * and the room, and the pacing of the bot's typing (cues.h). */
#include "cues.h"

#include <string.h>

#include "clock.h"
#include "log.h"

/* ---- the pacing ---- */

typedef struct typist {
    int state;
    gint64 at; /* monotonic µs it was heard */
} typist;

/* XEP-0085 §2's states as the bot shows them: inactive and gone are not
 * typing. */
static const struct {
    const char *name;
    int state;
} states[] = {
    {"active", CUES_ACTIVE},       {"inactive", CUES_ACTIVE},
    {"gone", CUES_ACTIVE},         {"paused", CUES_PAUSED},
    {"composing", CUES_COMPOSING},
};

static int state_of(const char *name)
{
    for (gsize i = 0; i < G_N_ELEMENTS(states); i++)
        if (!g_strcmp0(states[i].name, name))
            return states[i].state;
    return -1;
}

const char *cues_state_name(int state)
{
    for (gsize i = 0; i < G_N_ELEMENTS(states); i++)
        if (states[i].state == state)
            return states[i].name;
    return "active";
}

void cues_pace_init(cues_pace *p)
{
    memset(p, 0, sizeof(*p));
    p->sent = CUES_ACTIVE;
    p->who = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

void cues_pace_clear(cues_pace *p)
{
    g_clear_pointer(&p->who, g_hash_table_destroy);
}

void cues_pace_note(cues_pace *p, const char *bare, const char *state,
                    gint64 now)
{
    int s = state_of(state);
    typist *t;

    if (s < 0)
        return;
    if (s == CUES_ACTIVE) {
        g_hash_table_remove(p->who, bare);
        return;
    }
    /* At most one entry per occupant of the room: bounded by the room. */
    t = g_hash_table_lookup(p->who, bare);
    if (!t) {
        t = g_new0(typist, 1);
        g_hash_table_insert(p->who, g_strdup(bare), t);
    }
    t->state = s;
    t->at = now;
}

/* The group's state at now (the busiest typist's), stale typists dropped;
 * *lapse: when the next one goes stale, 0 none. */
static int group_state(cues_pace *p, gint64 now, gint64 *lapse)
{
    GHashTableIter it;
    gpointer v;
    int s = CUES_ACTIVE;

    *lapse = 0;
    g_hash_table_iter_init(&it, p->who);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        typist *t = v;
        if (now - t->at >= CUES_STALE_US) {
            g_hash_table_iter_remove(&it);
            continue;
        }
        s = MAX(s, t->state);
        if (!*lapse || t->at + CUES_STALE_US < *lapse)
            *lapse = t->at + CUES_STALE_US;
    }
    return s;
}

gboolean cues_pace_due(cues_pace *p, gint64 now, int *state, gint64 *next)
{
    gint64 lapse;
    int want = group_state(p, now, &lapse);

    *next = 0;
    if (want == p->sent && want != CUES_COMPOSING) {
        *next = lapse;
        return FALSE;
    }
    /* Composing is said again each pace while it lasts: MSN and Yahoo
     * clients stop showing it a few seconds after the last one (the
     * worker sends the repeat only where the prpl asks for it). */
    if (p->sent_at && now < p->sent_at + CUES_PACE_US) {
        *next = p->sent_at + CUES_PACE_US;
        return FALSE;
    }
    *state = want;
    return TRUE;
}

void cues_pace_sent(cues_pace *p, int state, gint64 now)
{
    p->sent = state;
    p->sent_at = now;
}

/* ---- one bot's cues ---- */

struct cues {
    bacct *a;
    cues_pace pace;
    guint timer;
    GHashTable *buzz; /* handle -> bucket: CUES_BUZZ_SECONDS apart */
};

struct cues *cues_new(bacct *a)
{
    struct cues *c = g_new0(struct cues, 1);

    c->a = a;
    cues_pace_init(&c->pace);
    c->buzz = bucket_table_new();
    return c;
}

void cues_free(struct cues *c)
{
    if (!c)
        return;
    if (c->timer)
        g_source_remove(c->timer);
    cues_pace_clear(&c->pace);
    g_hash_table_destroy(c->buzz);
    g_free(c);
}

/* ---- legacy to room ---- */

/* The bare JID of a's member handle when they are in the room as an
 * occupant (g_free), else NULL. */
static char *in_room(bridge *b, bacct *a, const char *handle)
{
    char *bare;

    if (a->chat_mode || !*handle || !bridge_handle_fits(a, handle))
        return NULL;
    bare = bridge_member_jid(b, a, handle);
    if (g_hash_table_contains(a->entered, bare))
        return bare;
    g_free(bare);
    return NULL;
}

/* The occupant of a's chat participant nick (chat mode), or NULL;
 * borrowed from a->in_chat. */
static const char *in_chat(bacct *a, const char *nick)
{
    return a->chat_mode && *nick ? g_hash_table_lookup(a->in_chat, nick) : NULL;
}

/* bare's occupant shows state (a worker's typing state; anything else is
 * ignored). */
static void show_typing(bridge *b, bacct *a, const char *bare,
                        const char *state)
{
    const char *why = NULL;
    int s = state_of(state);

    if (s >= 0 && bare)
        muc_legacy_signal(b->m, b->up, a->group, bare, cues_state_name(s),
                          &why);
}

/* who's buzz (a member's handle, a chat participant's nick), from bare's
 * occupant. */
static void buzz(bridge *b, bacct *a, const char *who, const char *bare)
{
    const char *why = NULL;
    const double rate = 1.0 / CUES_BUZZ_SECONDS;
    gint64 now = clock_now();
    bucket *k;

    if (!bare)
        return;
    /* Issue 13, item 6: never more than one per member per minute. The
     * table is swept of full buckets past its size: bounded by the
     * members who buzzed within a minute. */
    k = bucket_table_get(a->cues->buzz, who, rate, 1, 1024, now);
    if (bucket_take(k, rate, 1, now))
        muc_legacy_signal(b->m, b->up, a->group, bare, NULL, &why);
    else
        log_debug(LOG_BRIDGE,
                  "account %s: a second buzz within a minute "
                  "dropped",
                  a->name);
}

void cues_on_typing(bridge *b, bacct *a, GVariant *body)
{
    const char *handle, *state;
    char *bare;

    g_variant_get(body, "(&s&s&s)", NULL, &handle, &state);
    bare = in_room(b, a, handle);
    show_typing(b, a, bare, state);
    g_free(bare);
}

void cues_on_attention(bridge *b, bacct *a, GVariant *body)
{
    const char *handle;
    char *bare;

    g_variant_get(body, "(&s&s)", NULL, &handle);
    bare = in_room(b, a, handle);
    buzz(b, a, handle, bare);
    g_free(bare);
}

void cues_on_chat_typing(bridge *b, bacct *a, GVariant *body)
{
    const char *nick, *state;

    g_variant_get(body, "(&s&s&s&s)", NULL, NULL, &nick, &state);
    show_typing(b, a, in_chat(a, nick), state);
}

void cues_on_chat_attention(bridge *b, bacct *a, GVariant *body)
{
    const char *nick;

    g_variant_get(body, "(&s&s&s)", NULL, NULL, &nick);
    buzz(b, a, nick, in_chat(a, nick));
}

/* ---- room to legacy ---- */

typedef struct send_args {
    bridge *b;
    bacct *a;
    const char *state;
    GPtrArray *to; /* handles (borrowed from a->online) */
} send_args;

static void flush(send_args *s)
{
    if (!s->to->len)
        return;
    legacy_send(
        s->b->lg, s->a->name, PROTO_SEND_TYPING,
        g_variant_new("(s@ass)", s->a->name,
                      g_variant_new_strv((const char *const *)s->to->pdata,
                                         (gssize)s->to->len),
                      s->state));
    g_ptr_array_set_size(s->to, 0);
}

/* state to every member of a who is online and not muted, in batches of
 * CUES_BATCH handles. */
static void send_state(bridge *b, bacct *a, int state)
{
    send_args s = {b, a, cues_state_name(state), g_ptr_array_new()};
    MDB_txn *txn = NULL;
    GError *err = NULL;
    GHashTableIter it;
    gpointer handle;

    if (store_read_begin(b->st, &txn, &err) < 0) {
        log_error(LOG_BRIDGE, "%s", err->message);
        g_error_free(err);
        g_ptr_array_free(s.to, TRUE);
        return;
    }
    g_hash_table_iter_init(&it, a->online);
    while (g_hash_table_iter_next(&it, &handle, NULL)) {
        member_rec *m = NULL;
        if (members_get(txn, b->st, a->name, handle, &m) == 0 && !m->muted) {
            g_ptr_array_add(s.to, handle);
            if (s.to->len == CUES_BATCH)
                flush(&s);
        }
        member_rec_free(m);
    }
    store_read_end(txn);
    flush(&s);
    g_ptr_array_free(s.to, TRUE);
}

static void arm(bridge *b, bacct *a);

static gboolean pace_cb(gpointer data)
{
    bacct *a = data;

    a->cues->timer = 0;
    arm(a->b, a);
    return G_SOURCE_REMOVE;
}

/* Sends what is due now, and sets the one timer for what comes next. */
static void arm(bridge *b, bacct *a)
{
    struct cues *c = a->cues;
    gint64 now = clock_now(), next = 0;
    int state;

    if (cues_pace_due(&c->pace, now, &state, &next)) {
        cues_pace_sent(&c->pace, state, now);
        if (a->up)
            send_state(b, a, state);
        cues_pace_due(&c->pace, now, &state, &next);
    }
    if (c->timer) {
        g_source_remove(c->timer);
        c->timer = 0;
    }
    if (next)
        c->timer =
            g_timeout_add((guint)MAX((next - now + 999) / 1000, 1), pace_cb, a);
}

static void note_typing(bridge *b, bacct *a, void *data)
{
    const char *const *bs = data; /* bare, state */

    if (a->chat_mode || !a->cues)
        return;
    cues_pace_note(&a->cues->pace, bs[0], bs[1], clock_now());
    arm(b, a);
}

void cues_room_typing(const char *group, const char *bare, const char *state,
                      void *userdata)
{
    const char *bs[] = {bare, state};

    bridge_each_of_group(userdata, group, note_typing, bs);
}
