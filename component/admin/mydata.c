/* mydata: one person's data, exported as readable lines or erased from
 * every database; the ad-hoc command stages that ask for it (mydata.h). */
#include "mydata.h"

#include <string.h>

#include "affiliations.h"
#include "archive.h"
#include "bridge.h"
#include "form.h"
#include "groups.h"
#include "jid.h"
#include "log.h"
#include "members.h"
#include "muc_erase.h"
#include "nicks.h"
#include "noticed.h"
#include "outbox.h"
#include "stanza.h"
#include "xmltext.h"

#define FIELD_MAX 1024

/* What the room's envelope, the <command/> and the form around the lines
 * take at most, below [component] stanza_limit. */
#define ENVELOPE_BYTES 4096

mydata_person *mydata_person_xmpp(const char *bare)
{
    mydata_person *p = g_new0(mydata_person, 1);

    p->bare = g_strdup(bare);
    return p;
}

mydata_person *mydata_person_legacy(const char *component, const char *account,
                                    const char *handle)
{
    mydata_person *p = g_new0(mydata_person, 1);

    p->bare = bridge_legacy_jid(component, account, 'i', handle);
    p->account = g_strdup(account);
    p->handle = g_strdup(handle);
    return p;
}

void mydata_person_free(mydata_person *p)
{
    if (!p)
        return;
    g_free(p->bare);
    g_free(p->account);
    g_free(p->handle);
    g_free(p);
}

/* ---- the export ---- */

typedef struct doc {
    GPtrArray *lines;
    gsize bytes, max;
    gboolean full; /* a line did not fit: the page ends */
} doc;

/* Adds a line if it fits (as escaped XML text plus its element). */
static gboolean doc_add(doc *d, char *line)
{
    gsize cost = xmltext_escaped_len(line, strlen(line)) + MYDATA_LINE_OVERHEAD;

    if (d->full || d->bytes + cost > d->max) {
        d->full = TRUE;
        g_free(line);
        return FALSE;
    }
    d->bytes += cost;
    g_ptr_array_add(d->lines, line);
    return TRUE;
}

static char *time_text(gint64 us)
{
    GDateTime *t = g_date_time_new_from_unix_utc(us / G_USEC_PER_SEC);
    char *s =
        t ? g_date_time_format(t, "%Y-%m-%d %H:%M:%S UTC") : g_strdup("?");

    if (t)
        g_date_time_unref(t);
    return s;
}

static int aff_line(const char *group, enum affiliation a, void *userdata)
{
    doc_add(userdata, g_strdup_printf("  %s: %s", group, affiliation_name(a)));
    return 0;
}

static int nick_line(const char *group, const char *nick, void *userdata)
{
    doc_add(userdata, g_strdup_printf("  %s: %s", group, nick));
    return 0;
}

typedef struct msg_walk {
    doc *d;
    guint skip, seen, shown;
    gboolean cut; /* the page is over: count only */
} msg_walk;

/* Theirs: said by this legacy member, or by this XMPP user (the rule of
 * muc_said_by). */
static gboolean theirs(const mydata_person *p, const archive_msg *a)
{
    return archive_msg_said_by(a, p->bare, p->account, p->handle);
}

/* Called for each message of p's, with its group; borrowed for the call;
 * returns as archive_fn. */
typedef int (*theirs_fn)(const char *group, const archive_msg *a,
                         void *userdata);

typedef struct theirs_walk {
    const mydata_person *p;
    const char *group;
    theirs_fn fn;
    void *userdata;
} theirs_walk;

static int theirs_one(const archive_msg *a, void *userdata)
{
    theirs_walk *w = userdata;

    return theirs(w->p, a) ? w->fn(w->group, a, w->userdata) : 0;
}

/* Every message p sent, group by group, oldest first: a walk of the whole
 * archive (messages are keyed by group and time, not by sender). */
static int foreach_theirs(MDB_txn *txn, store *st, const mydata_person *p,
                          theirs_fn fn, void *userdata)
{
    theirs_walk w = {p, NULL, fn, userdata};
    GPtrArray *groups = NULL;
    int rc = groups_list_all(txn, st, &groups);

    for (guint i = 0; rc == 0 && i < groups->len; i++) {
        w.group = ((const group_cfg *)g_ptr_array_index(groups, i))->localpart;
        rc = archive_foreach_after(txn, st, w.group, 0, theirs_one, &w);
    }
    if (groups)
        g_ptr_array_unref(groups);
    return rc;
}

static char *msg_line(const char *group, const archive_msg *a)
{
    char *when = time_text(a->time_us);
    const char *what = a->retracted    ? "(withdrawn)"
                       : a->retract_of ? "(withdrew a message)"
                       : a->body       ? a->body
                       : a->subject    ? a->subject
                                       : "(no text)";
    /* g_utf8_substring reads up to its end position: never past the text. */
    char *text = g_utf8_substring(
        what, 0, MIN(g_utf8_strlen(what, -1), (glong)MYDATA_TEXT_MAX));
    char *line = g_strdup_printf("  [%s] %s, as %s%s: %s", when, group, a->nick,
                                 a->subject ? " (subject)" : "", text);

    g_free(text);
    g_free(when);
    return line;
}

static int msg_one(const char *group, const archive_msg *a, void *userdata)
{
    msg_walk *w = userdata;

    w->seen++;
    if (w->seen <= w->skip || w->cut)
        return 0;
    if (w->shown >= MYDATA_PAGE || !doc_add(w->d, msg_line(group, a))) {
        w->cut = TRUE;
        return 0;
    }
    w->shown++;
    return 0;
}

int mydata_export(store *st, const mydata_person *p, guint skip,
                  gsize max_bytes, GPtrArray **lines, guint *next)
{
    doc d = {g_ptr_array_new_with_free_func(g_free), 0, max_bytes, FALSE};
    msg_walk w = {.d = &d, .skip = skip};
    member_rec *mem = NULL;
    MDB_txn *txn = NULL;
    GError *err = NULL;
    gint64 noticed = 0;
    char *now = time_text(g_get_real_time());
    int rc;

    *lines = NULL;
    *next = 0;
    rc = store_read_begin(st, &txn, &err);
    if (rc < 0) {
        log_error(LOG_STORE, "export: %s", err->message);
        g_error_free(err);
        goto leave;
    }
    if (p->account)
        doc_add(&d, g_strdup_printf("What this service holds about %s on %s, "
                                    "known in its groups as %s, as of %s.",
                                    p->handle, p->account, p->bare, now));
    else
        doc_add(&d,
                g_strdup_printf("What this service holds about %s, as of %s.",
                                p->bare, now));
    if (p->account) {
        rc = members_get(txn, st, p->account, p->handle, &mem);
        if (rc == 0) {
            char *since = time_text(mem->since_us);
            char *seen =
                mem->seen_us ? time_text(mem->seen_us) : g_strdup("never");
            doc_add(&d,
                    g_strdup_printf(
                        "Membership: group %s through %s; nick %s; alias "
                        "%s; member since %s; last seen %s (to within an "
                        "hour); muted: %s; privacy notice given: %s; "
                        "display picture: %s.",
                        mem->group, mem->account,
                        mem->nick ? mem->nick : "(none yet)",
                        mem->alias ? mem->alias : "(none)", since, seen,
                        mem->muted ? "yes" : "no", mem->welcomed ? "yes" : "no",
                        mem->photo ? "kept, shown in the group" : "none kept"));
            g_free(since);
            g_free(seen);
        } else if (rc == MDB_NOTFOUND) {
            doc_add(&d, g_strdup("Membership: none."));
        } else {
            goto leave;
        }
    } else {
        rc = noticed_get(txn, st, p->bare, &noticed);
        if (rc != 0 && rc != MDB_CORRUPTED)
            goto leave;
        if (noticed) {
            char *when = time_text(noticed);
            doc_add(&d, g_strdup_printf("First-contact notice: given on %s.",
                                        when));
            g_free(when);
        } else {
            doc_add(&d, g_strdup("First-contact notice: not given yet."));
        }
    }
    doc_add(&d, g_strdup("Affiliations (owner, admin, member, outcast) with "
                         "groups:"));
    rc = affiliations_foreach_jid(txn, st, p->bare, aff_line, &d);
    if (rc != 0)
        goto leave;
    doc_add(&d, g_strdup("Registered nicks:"));
    rc = nicks_foreach_jid(txn, st, p->bare, nick_line, &d);
    if (rc != 0)
        goto leave;
    doc_add(&d, g_strdup("Messages sent (oldest first):"));
    rc = foreach_theirs(txn, st, p, msg_one, &w);
    if (rc != 0)
        goto leave;
    /* The count goes last: the walk above is the one that counts. */
    if (w.seen > w.skip + w.shown)
        *next = w.skip + w.shown;
    d.full = FALSE;
    d.max += ENVELOPE_BYTES / 4; /* the summary always fits */
    doc_add(&d, g_strdup_printf(
                    "%u messages in the archive; shown here: %u to %u.%s",
                    w.seen, w.shown ? w.skip + 1 : 0, w.skip + w.shown,
                    *next ? " More on the next page." : ""));
    *lines = d.lines;
    d.lines = NULL;
leave:
    if (txn)
        store_read_end(txn);
    member_rec_free(mem);
    if (d.lines)
        g_ptr_array_unref(d.lines);
    g_free(now);
    return rc;
}

/* ---- erasure ---- */

/* One of p's messages: its nick into the set of its group. */
static int nick_one(const char *group, const archive_msg *a, void *userdata)
{
    GHashTable *by_group = userdata;
    GHashTable *set;

    if (!a->nick || !*a->nick)
        return 0;
    if (!(set = g_hash_table_lookup(by_group, group))) {
        set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_hash_table_insert(by_group, g_strdup(group), set);
    }
    g_hash_table_add(set, g_strdup(a->nick));
    return 0;
}

/* The nicks p spoke under, by group (group -> set), from the archive:
 * what other records of the groups may still name them by. */
static int spoken_nicks(store *st, const mydata_person *p, GHashTable **out)
{
    GHashTable *by_group = g_hash_table_new_full(
        g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_hash_table_unref);
    MDB_txn *txn = NULL;
    int rc = store_read_begin(st, &txn, NULL);

    if (rc == 0) {
        rc = foreach_theirs(txn, st, p, nick_one, by_group);
        store_read_end(txn);
    }
    if (rc != 0)
        g_clear_pointer(&by_group, g_hash_table_unref);
    *out = by_group;
    return rc;
}

typedef struct erase_args {
    const mydata_person *p;
    mydata_erased *out;
} erase_args;

static int erase_txn(MDB_txn *txn, const store *st, void *userdata)
{
    erase_args *ea = userdata;
    const mydata_person *p = ea->p;
    member_rec *mem = NULL;
    int rc = affiliations_forget(txn, st, p->bare, &ea->out->affiliations);

    if (rc == 0)
        rc = nicks_forget(txn, st, p->bare, &ea->out->nicks);
    if (rc == 0)
        rc = noticed_forget(txn, st, p->bare);
    if (rc == 0 && p->account) {
        int got = members_get(txn, st, p->account, p->handle, &mem);
        if (got == 0 || got == MDB_CORRUPTED)
            ea->out->members = 1;
        member_rec_free(mem);
        rc = members_delete(txn, st, p->account, p->handle);
        if (rc == 0)
            rc = outbox_drop_target(txn, st, p->account, OUTBOX_KIND_IM,
                                    p->handle, &ea->out->queued);
    }
    return rc;
}

int mydata_erase(store *st, muc *m, uplink *up, const mydata_person *p,
                 mydata_erased *out, GError **err)
{
    erase_args ea = {p, out};
    GHashTable *nicks = NULL;
    archive_job *job;
    gboolean done = FALSE;
    int rc;

    memset(out, 0, sizeof(*out));
    /* First: a legacy occupant's removal queues a notice for them, which
     * the transaction below then drops with their outbox. */
    if (m && up)
        out->rooms = muc_erase_occupant(m, up, p->bare,
                                        "Their data was erased on request.");
    rc = store_write(st, erase_txn, &ea, err);
    if (rc < 0)
        return rc;
    /* The nicks they spoke under, read before the tombstones take them
     * away: a subject they set keeps one as its setter, and a message they
     * withdrew as a moderator too. */
    if (spoken_nicks(st, p, &nicks) < 0)
        nicks = NULL;
    if (m && nicks) {
        rc = muc_erase_subject_nick(m, nicks, &out->subjects, err);
        if (rc < 0) {
            g_hash_table_unref(nicks);
            return rc;
        }
    }
    job = p->account ? archive_job_erase_legacy(p->account, p->handle, 0)
                     : archive_job_erase_sender(p->bare, 0);
    while (rc == 0 && !done)
        rc = archive_job_step(job, st, &done, err);
    out->messages = archive_job_removed(job);
    archive_job_free(job);
    /* The messages of others they withdrew as a moderator name them. */
    if (rc == 0 && nicks) {
        GHashTableIter it, ni;
        gpointer group, set, nick;

        g_hash_table_iter_init(&it, nicks);
        while (rc == 0 && g_hash_table_iter_next(&it, &group, &set)) {
            g_hash_table_iter_init(&ni, set);
            while (rc == 0 && g_hash_table_iter_next(&ni, &nick, NULL)) {
                job = archive_job_unname(group, nick, 0);
                for (done = FALSE; rc == 0 && !done;)
                    rc = archive_job_step(job, st, &done, err);
                archive_job_free(job);
            }
        }
    }
    if (nicks)
        g_hash_table_unref(nicks);
    log_info(LOG_SERVICE,
             "erased a person: %u rooms left, %u affiliations, %u nicks, %u "
             "member records, %" G_GUINT64_FORMAT
             " queued, %u messages made tombstones",
             out->rooms, out->affiliations, out->nicks, out->members,
             out->queued, out->messages);
    return rc;
}

/* ---- the ad-hoc stages ---- */

/* Room for the lines in a reply: the service's stanza limit less the
 * envelope. */
static gsize page_bytes(const config *cfg)
{
    return cfg->stanza_limit > 2 * ENVELOPE_BYTES
               ? cfg->stanza_limit - ENVELOPE_BYTES
               : ENVELOPE_BYTES;
}

/* Who an admin asked about: a JID, or a legacy account and handle. NULL
 * with *why (g_free) when the form does not say. */
static mydata_person *person_from_form(const mydata_io *io, char **why)
{
    char *jid = NULL, *account = NULL, *handle = NULL, *bare = NULL;
    mydata_person *p = NULL;

    *why = NULL;
    if (form_text_max(io->form, "jid", FALSE, FIELD_MAX, &jid) < 0 ||
        form_text_max(io->form, "account", FALSE, STORE_ACCOUNT_MAX, &account) <
            0 ||
        form_text_max(io->form, "handle", FALSE, STORE_HANDLE_MAX, &handle) <
            0) {
        *why = g_strdup("jid, account and handle: UTF-8 within their bounds");
    } else if (jid && *jid) {
        if (!(bare = jid_bare_fold(jid)) ||
            store_key_part_check(bare, STORE_JID_MAX) != 0)
            *why = g_strdup("jid: not a valid JID");
        else
            p = mydata_person_xmpp(bare);
    } else if (account && *account && handle && *handle) {
        p = mydata_person_legacy(io->cfg->jid, account, handle);
    } else {
        *why = g_strdup("Give a JID, or a bot account and a legacy handle.");
    }
    g_free(jid);
    g_free(account);
    g_free(handle);
    g_free(bare);
    return p;
}

static xmpp_stanza_t *ask_form(const mydata_io *io, const char *title,
                               gboolean confirm)
{
    xmpp_stanza_t *x = form_new(
        io->ctx, "form", title,
        "An XMPP user by JID, or a legacy member by bot account and handle.");

    form_field(io->ctx, x, "jid", "jid-single", "JID", NULL, FALSE);
    form_field(io->ctx, x, "account", "text-single", "Bot account", NULL,
               FALSE);
    form_field(io->ctx, x, "handle", "text-single", "Legacy handle", NULL,
               FALSE);
    if (confirm)
        form_field(io->ctx, x, "confirm", "boolean",
                   "Erase everything about them: it cannot be undone", "0",
                   TRUE);
    return x;
}

/* A <field type='fixed'/> (XEP-0004 §3.3: "intended for data description
 * ... rather than data gathering"; no var) holding line. */
static void add_fixed(xmpp_ctx_t *ctx, xmpp_stanza_t *x, const char *line)
{
    xmpp_stanza_t *f = stanza_elem(ctx, "field", NULL);

    xmpp_stanza_set_type(f, "fixed");
    stanza_add_text(ctx, f, "value", line);
    stanza_add(x, f);
}

/* One page of p's export as a form: each line a fixed field (XEP-0004
 * §3.3, shown as text); when more follows, a form whose hidden fields say
 * who and from where, and "next" brings the following page. */
static void export_page(mydata_io *io, const mydata_person *p, guint skip)
{
    GPtrArray *lines = NULL;
    guint next = 0;
    xmpp_stanza_t *x;
    char from[16];

    if (mydata_export(muc_erase_store(io->m), p, skip, page_bytes(io->cfg),
                      &lines, &next) < 0) {
        io->done = TRUE;
        io->note_type = "error";
        io->note = g_strdup("The store cannot be read right now; try later.");
        return;
    }
    x = form_new(io->ctx, next ? "form" : "result", "Data held", NULL);
    for (guint i = 0; i < lines->len; i++)
        add_fixed(io->ctx, x, g_ptr_array_index(lines, i));
    if (next) {
        g_snprintf(from, sizeof(from), "%u", next);
        form_field(io->ctx, x, "skip", "hidden", NULL, from, FALSE);
        if (p->account) {
            form_field(io->ctx, x, "account", "hidden", NULL, p->account,
                       FALSE);
            form_field(io->ctx, x, "handle", "hidden", NULL, p->handle, FALSE);
        } else {
            form_field(io->ctx, x, "jid", "hidden", NULL, p->bare, FALSE);
        }
        io->execute = "next";
    }
    io->done = next == 0;
    io->x = x;
    io->note_type = "info";
    io->note = g_strdup(next ? "One page of the export; next brings more."
                             : "The whole export.");
    g_ptr_array_unref(lines);
}

static guint skip_of(const mydata_io *io)
{
    char *s = form_text(io->form, "skip", FALSE);
    guint64 n = 0;

    if (!s || !g_ascii_string_to_unsigned(s, 10, 0, G_MAXUINT, &n, NULL))
        n = 0;
    g_free(s);
    return (guint)n;
}

void mydata_cmd_mine(mydata_io *io)
{
    mydata_person *p = mydata_person_xmpp(io->bare);

    /* Only the skip is read from a submitted page: whom is always the
     * requester. */
    export_page(io, p, io->stage ? skip_of(io) : 0);
    mydata_person_free(p);
}

void mydata_cmd_export(mydata_io *io)
{
    mydata_person *p;
    char *why = NULL;

    if (io->stage == 0) {
        io->x = ask_form(io, "Export one person's data", FALSE);
        io->execute = "next";
        return;
    }
    if (!(p = person_from_form(io, &why))) {
        io->x = ask_form(io, "Export one person's data", FALSE);
        io->execute = "next";
        io->note_type = "error";
        io->note = why;
        return;
    }
    export_page(io, p, skip_of(io));
    mydata_person_free(p);
}

void mydata_cmd_erase(mydata_io *io)
{
    mydata_person *p;
    mydata_erased e;
    GError *err = NULL;
    char *why = NULL;

    if (io->stage == 0) {
        io->x = ask_form(io, "Erase one person's data", TRUE);
        io->execute = "complete";
        return;
    }
    if (!(p = person_from_form(io, &why)) || !form_bool(io->form, "confirm")) {
        io->x = ask_form(io, "Erase one person's data", TRUE);
        io->execute = "complete";
        io->note_type = "error";
        io->note = why ? why : g_strdup("confirm: tick it to erase");
        mydata_person_free(p);
        return;
    }
    io->done = TRUE;
    if (mydata_erase(muc_erase_store(io->m), io->m, io->up, p, &e, &err) < 0) {
        log_error(LOG_SERVICE, "erasure: %s", err->message);
        io->note_type = "error";
        io->note = g_strdup("The erasure stopped on a store error; what was "
                            "done stays done. Run it again to finish.");
        g_error_free(err);
    } else {
        io->note_type = "info";
        io->note = g_strdup_printf(
            "Erased: left %u rooms; %u affiliations, %u registered nicks, %u "
            "legacy memberships, %" G_GUINT64_FORMAT
            " queued deliveries removed; %u messages are now tombstones "
            "without content or sender.",
            e.rooms, e.affiliations, e.nicks, e.members, e.queued, e.messages);
    }
    mydata_person_free(p);
}
