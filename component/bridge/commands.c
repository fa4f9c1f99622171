/* commands: what a legacy member can ask the bot, one static table of
 * /help /who /nick /mute /unmute /history /leave /forgetme (commands.h). */
#include "commands.h"

#include <string.h>

#include "affiliations.h"
#include "archive.h"
#include "contacts.h"
#include "delivery.h"
#include "log.h"
#include "mydata.h"
#include "naming.h"
#include "outbox.h"
#include "render.h"

#define FORGET_BATCH 200

typedef struct cmd_ctx {
    bridge *b;
    bacct *a;
    member_rec *m;
    const char *arg; /* after the command word, stripped; "" if none */
} cmd_ctx;

static void reply(cmd_ctx *c, const char *text)
{
    delivery_notice(c->b, c->a, c->m->handle, text);
}

static void cmd_help(cmd_ctx *c)
{
    reply(c, "Commands: /who (who is here), /nick NEW (change your nick), "
             "/mute and /unmute (stop and resume messages from the group), "
             "/history N (the last N messages), /me TEXT (an action), "
             "/leave (leave the group), /forgetme (leave and erase your "
             "messages and membership), /mydata (what the service keeps "
             "about you; /mydata 2 for the next page). Anything else you "
             "send is said in the group.");
}

static void cmd_who(cmd_ctx *c)
{
    char **nicks = muc_occupant_nicks(c->b->m, c->a->group);
    guint n = nicks ? g_strv_length(nicks) : 0;
    char *list = nicks ? g_strjoinv(", ", nicks) : g_strdup("");
    char *text = g_strdup_printf("In the group (%u): %s", n, list);

    reply(c, text);
    g_free(text);
    g_free(list);
    g_strfreev(nicks);
}

static void cmd_nick(cmd_ctx *c)
{
    char *bare = bridge_member_jid(c->b, c->a, c->m->handle);
    char *nick = naming_base(c->arg, c->m->handle);
    char *text;

    if (!*c->arg) {
        text = g_strdup_printf("Your nick is %s. /nick NEW changes it.",
                               c->m->nick);
    } else if (!muc_legacy_nick_free(c->b->m, c->a->group, nick, bare)) {
        text = g_strdup_printf("The nick %s is taken; pick another.", nick);
    } else {
        enum xerr e =
            muc_legacy_rename(c->b->m, c->b->up, c->a->group, bare, nick);
        if (e == XERR_NONE || e == XERR_ITEM_NOT_FOUND) {
            g_free(c->m->nick);
            c->m->nick = g_strdup(nick);
            bridge_put_member(c->b, c->m);
            text = g_strdup_printf("You are now %s.", nick);
        } else
            text = g_strdup_printf("The nick %s is taken; pick another.", nick);
    }
    reply(c, text);
    g_free(text);
    g_free(nick);
    g_free(bare);
}

/* The member record and the delivery cursor change together: muted, the
 * cursor holds at the archive's head; unmuted, what was said meanwhile is
 * skipped (outbox.h). */
static int mute_txn(MDB_txn *txn, const store *st, void *userdata)
{
    const member_rec *m = userdata;
    outbox_cursor *cur = NULL;
    guint64 head = 0;
    int rc = members_put(txn, st, m);

    if (rc == 0)
        rc = outbox_cursor_start(txn, st, m->account, OUTBOX_KIND_IM,
                                 m->handle, m->group);
    if (rc == 0)
        rc = outbox_cursor_get(txn, st, m->account, OUTBOX_KIND_IM, m->handle,
                               &cur);
    if (rc == 0)
        rc = archive_head(txn, st, m->group, &head);
    if (rc == 0) {
        if (m->muted)
            outbox_cursor_mute(cur, head);
        else
            outbox_cursor_unmute(cur, head);
        rc = outbox_cursor_put(txn, st, m->account, OUTBOX_KIND_IM, m->handle,
                               cur);
    }
    outbox_cursor_free(cur);
    return rc;
}

static void cmd_mute(cmd_ctx *c, gboolean on)
{
    c->m->muted = on;
    if (!bridge_write(c->b, mute_txn, c->m, "member")) {
        reply(c, "Something went wrong; nothing was changed. Try again "
                 "later.");
        return;
    }
    if (!on)
        delivery_back(c->b, c->a, c->m->handle);
    reply(c, on ? "Muted: the group's messages stop until you send /unmute. "
                  "What you send is still said in the group."
                : "Unmuted: the group's messages reach you again.");
}

int commands_history_count(const char *arg)
{
    int n = *arg ? atoi(arg) : COMMANDS_HISTORY_DEFAULT;

    return CLAMP(n, 1, COMMANDS_HISTORY_MAX);
}

static void cmd_history(cmd_ctx *c)
{
    int n = commands_history_count(c->arg);
    MDB_txn *txn = NULL;
    GError *err = NULL;
    GPtrArray *msgs = NULL;
    GString *text;
    guint shown = 0;
    int rc;

    if (store_read_begin(c->b->st, &txn, &err) < 0) {
        log_error(LOG_BRIDGE, "%s", err->message);
        g_error_free(err);
        return;
    }
    rc = archive_history(txn, c->b->st, c->a->group, n, -1, 0, NULL, NULL,
                         &msgs);
    text = g_string_new(NULL);
    for (guint i = 0; rc == 0 && i < msgs->len; i++) {
        const archive_msg *am = g_ptr_array_index(msgs, i);
        GDateTime *t;
        char *hm, *said = NULL;
        rc = render_msg(txn, c->b->st, c->a->group, am, &said);
        if (rc != 0 || !said)
            continue;
        t = g_date_time_new_from_unix_utc(am->time_us / 1000000);
        hm = g_date_time_format(t, "%H:%M");
        g_string_append_printf(text, "\n[%s] %s", hm, said);
        shown++;
        g_free(hm);
        g_free(said);
        g_date_time_unref(t);
    }
    store_read_end(txn);
    if (rc != 0) {
        reply(c, "The history cannot be read right now.");
    } else if (shown == 0) {
        reply(c, "Nothing has been said yet.");
    } else {
        char *head = g_strdup_printf("The last %u messages:", shown);
        g_string_prepend(text, head);
        reply(c, text->str);
        g_free(head);
    }
    g_string_free(text, TRUE);
    if (msgs)
        g_ptr_array_unref(msgs);
}

typedef struct drop_args {
    const bacct *a;
    const char *handle;
    const char *bare;
} drop_args;

static int drop_member_txn(MDB_txn *txn, const store *st, void *userdata)
{
    drop_args *d = userdata;
    guint64 dropped = 0;
    enum affiliation aff = AFF_NONE;
    int rc = members_delete(txn, st, d->a->name, d->handle);

    if (rc == 0)
        rc = outbox_drop_target(txn, st, d->a->name, OUTBOX_KIND_IM, d->handle,
                                &dropped);
    if (rc == 0)
        rc = affiliations_get(txn, st, d->a->group, d->bare, &aff);
    /* A ban stays: leaving is no way around it. */
    if (rc == 0 && aff != AFF_OUTCAST && aff != AFF_NONE)
        rc = affiliations_set(txn, st, d->a->group, d->bare, AFF_NONE, NULL);
    return rc;
}

static void member_drop(cmd_ctx *c, gboolean erase)
{
    char *bare = bridge_member_jid(c->b, c->a, c->m->handle);
    drop_args d = {c->a, c->m->handle, bare};
    char *key = bridge_target_key(OUTBOX_KIND_IM, c->m->handle);

    contacts_exit(c->b, c->a, c->m->handle, erase ? "erased" : "left");
    delivery_rewind(c->a, OUTBOX_KIND_IM, c->m->handle);
    g_hash_table_remove(c->a->dirty, key);
    g_free(key);
    if (!bridge_write(c->b, drop_member_txn, &d, "member")) {
        reply(c,
              "Something went wrong; nothing was changed. Try again later.");
        g_free(bare);
        return;
    }
    legacy_send(c->b->lg, c->a->name, PROTO_BUDDY_REMOVE,
                g_variant_new("(ss)", c->a->name, c->m->handle));
    if (erase) {
        bridge_erase_later(c->b, archive_job_forget_legacy(
                                     c->a->name, c->m->handle, FORGET_BATCH));
        log_info(LOG_BRIDGE, "account %s: a member asked to be forgotten",
                 c->a->name);
    }
    reply(c, erase ? "You have left the group, and your membership and every "
                     "message you sent to it are being erased. Message me "
                     "again to rejoin as someone new."
                   : "You have left the group; its messages stop now. "
                     "Message me again to rejoin.");
    g_free(bare);
}

static void cmd_leave(cmd_ctx *c)
{
    member_drop(c, FALSE);
}

static void cmd_forgetme(cmd_ctx *c)
{
    member_drop(c, TRUE);
}

/* /mydata [PAGE]: the member's export (mydata.h), one page of it, sent
 * in notices of at most MYDATA_CHUNK bytes each. */
#define MYDATA_CHUNK     400
#define MYDATA_PAGES_MAX 1000

static void cmd_mydata(cmd_ctx *c)
{
    mydata_person *p =
        mydata_person_legacy(c->b->cfg->jid, c->a->name, c->m->handle);
    int page = *c->arg ? CLAMP(atoi(c->arg), 1, MYDATA_PAGES_MAX) : 1;
    GPtrArray *lines = NULL;
    GString *chunk = g_string_new(NULL);
    guint next = 0;

    if (mydata_export(c->b->st, p, (guint)(page - 1) * MYDATA_PAGE,
                      c->b->cfg->stanza_limit / 2, &lines, &next) < 0) {
        reply(c, "Your data cannot be read right now; try again later.");
        goto leave;
    }
    for (guint i = 0; i < lines->len; i++) {
        const char *l = g_ptr_array_index(lines, i);
        if (chunk->len && chunk->len + strlen(l) + 1 > MYDATA_CHUNK) {
            reply(c, chunk->str);
            g_string_truncate(chunk, 0);
        }
        g_string_append_printf(chunk, "%s%s", chunk->len ? "\n" : "", l);
    }
    if (next)
        g_string_append_printf(chunk, "\n/mydata %d for the next page.",
                               page + 1);
    reply(c, chunk->str);
    g_ptr_array_unref(lines);
leave:
    g_string_free(chunk, TRUE);
    mydata_person_free(p);
}

static void cmd_mute_on(cmd_ctx *c)
{
    cmd_mute(c, TRUE);
}

static void cmd_mute_off(cmd_ctx *c)
{
    cmd_mute(c, FALSE);
}

static const struct {
    const char *name;
    void (*fn)(cmd_ctx *c);
} commands[] = {
    {"help", cmd_help},    {"who", cmd_who},           {"nick", cmd_nick},
    {"mute", cmd_mute_on}, {"unmute", cmd_mute_off},   {"history", cmd_history},
    {"leave", cmd_leave},  {"forgetme", cmd_forgetme}, {"mydata", cmd_mydata},
};

int commands_find(const char *body, char **arg)
{
    const char *p = body + 1;
    size_t len = strcspn(p, " \t\n");

    *arg = NULL;
    if (body[0] != '/')
        return -1;
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (strlen(commands[i].name) != len ||
            g_ascii_strncasecmp(p, commands[i].name, len) != 0)
            continue;
        *arg = g_strstrip(g_strdup(p + len));
        return (int)i;
    }
    return -1;
}

const char *commands_name(int i)
{
    return i >= 0 && (size_t)i < G_N_ELEMENTS(commands) ? commands[i].name
                                                         : NULL;
}

gboolean commands_run(bridge *b, bacct *a, member_rec *m, const char *body)
{
    char *arg = NULL;
    int i = commands_find(body, &arg);
    cmd_ctx c = {b, a, m, arg};

    if (i < 0)
        return FALSE;
    commands[i].fn(&c);
    g_free(arg);
    return TRUE;
}
