/* test_archive: the "archive" database — appending and stanza-ids, MAM
 * paging and time filters, history on join, retention, erasure, and
 * records this build cannot decode. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "archive.h"
#include "store.h"
#include "testutil.h"

/* A store in a temp dir (testutil.c). */
typedef testutil_store fixture;

/* Appending */

typedef struct append_call {
    const char *group;
    archive_msg *msgs; /* n of them, appended in order in one transaction */
    guint n;
    int rc;
} append_call;

static int append_txn(MDB_txn *txn, const store *s, void *userdata)
{
    append_call *c = userdata;

    for (guint i = 0; i < c->n; i++) {
        c->rc = archive_append(txn, s, c->group, &c->msgs[i]);
        if (c->rc != 0)
            return c->rc;
    }
    return 0;
}

/* Appends m to group; m gets its seq, id and time. */
static void append(fixture *f, const char *group, archive_msg *m)
{
    append_call c = {.group = group, .msgs = m, .n = 1};
    GError *err = NULL;

    g_assert_cmpint(store_write(f->s, append_txn, &c, &err), ==, 0);
    g_assert_no_error(err);
    g_assert_cmpint(c.rc, ==, 0);
}

/* Appends one message from nick at time_us; returns its seq. */
static guint64 say(fixture *f, const char *group, const char *nick,
                   const char *body, gint64 time_us, const char *sender_jid)
{
    archive_msg m = {.nick = (char *)nick,
                     .body = (char *)body,
                     .time_us = time_us,
                     .sender_jid = (char *)sender_jid};

    append(f, group, &m);
    g_free(m.stanza_id);
    return m.seq;
}

/* Appends n messages "msg <i>" at times t0, t0 + step, ... in one
 * transaction. */
static void fill(fixture *f, const char *group, guint n, gint64 t0, gint64 step)
{
    archive_msg *msgs = g_new0(archive_msg, n);
    append_call c = {.group = group, .msgs = msgs, .n = n};
    GError *err = NULL;

    for (guint i = 0; i < n; i++) {
        msgs[i].nick = "filler";
        msgs[i].body = g_strdup_printf("msg %u", i);
        msgs[i].time_us = t0 + (gint64)i * step;
    }
    g_assert_cmpint(store_write(f->s, append_txn, &c, &err), ==, 0);
    g_assert_no_error(err);
    for (guint i = 0; i < n; i++) {
        g_free(msgs[i].body);
        g_free(msgs[i].stanza_id);
    }
    g_free(msgs);
}

/* Reading */

static archive_msg *get_seq(fixture *f, const char *group, guint64 seq,
                            int expect)
{
    archive_msg *m = (archive_msg *)f;
    MDB_txn *txn;

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(archive_get(txn, f->s, group, seq, &m), ==, expect);
    store_read_end(txn);
    if (expect != 0)
        g_assert_null(m);
    return m;
}

static int get_id(fixture *f, const char *group, const char *id,
                  archive_msg **out)
{
    MDB_txn *txn;
    int rc;

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    rc = archive_get_id(txn, f->s, group, id, out);
    store_read_end(txn);
    return rc;
}

static int query(fixture *f, const char *group, const archive_query *q,
                 GPtrArray **out, gboolean *complete, guint64 *count)
{
    MDB_txn *txn;
    int rc;

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    rc = archive_query_run(txn, f->s, group, q, out, complete, count);
    store_read_end(txn);
    return rc;
}

static GPtrArray *query_ok(fixture *f, const char *group,
                           const archive_query *q, gboolean *complete)
{
    GPtrArray *page = NULL;

    g_assert_cmpint(query(f, group, q, &page, complete, NULL), ==, 0);
    g_assert_nonnull(page);
    return page;
}

static GPtrArray *history(fixture *f, const char *group, int maxstanzas,
                          int maxchars, gint64 since_us,
                          archive_measure_fn measure)
{
    GPtrArray *list = NULL;
    MDB_txn *txn;

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(archive_history(txn, f->s, group, maxstanzas, maxchars,
                                    since_us, measure, NULL, &list),
                    ==, 0);
    store_read_end(txn);
    g_assert_nonnull(list);
    return list;
}

static const archive_msg *at(GPtrArray *list, guint i)
{
    return g_ptr_array_index(list, i);
}

/* The seqs of a list as "1,2,3"; runs of 4 or more as "1-50". Checks that
 * they increase. */
static char *seqs(GPtrArray *list)
{
    GString *out = g_string_new(NULL);

    for (guint i = 0; i < list->len;) {
        guint j = i;

        while (j + 1 < list->len &&
               at(list, j + 1)->seq == at(list, j)->seq + 1)
            j++;
        if (i > 0)
            g_assert_cmpuint(at(list, i)->seq, >, at(list, i - 1)->seq);
        if (out->len)
            g_string_append_c(out, ',');
        if (j - i >= 3) {
            g_string_append_printf(out,
                                   "%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT,
                                   at(list, i)->seq, at(list, j)->seq);
            i = j + 1;
        } else {
            g_string_append_printf(out, "%" G_GUINT64_FORMAT, at(list, i)->seq);
            i++;
        }
    }
    return g_string_free(out, FALSE);
}

/* The seqs of a page, then freeing it. */
static char *take_seqs(GPtrArray *list)
{
    char *s = seqs(list);

    g_ptr_array_unref(list);
    return s;
}

#define assert_seqs(list, expected)                                            \
    do {                                                                       \
        char *got_ = take_seqs(list);                                          \
        g_assert_cmpstr(got_, ==, (expected));                                 \
        g_free(got_);                                                          \
    } while (0)

/* Raw records */

static size_t msg_key(unsigned char *buf, const char *group, guint64 seq)
{
    size_t glen = strlen(group);

    memcpy(buf, group, glen);
    buf[glen] = 0;
    for (int i = 0; i < 8; i++)
        buf[glen + 1 + i] = (unsigned char)(seq >> (56 - 8 * i));
    return glen + 9;
}

/* Puts bytes (or, parsed non-NULL, a GVariant in text form) as the message
 * seq of group, bypassing archive_append. */
static void put_raw_msg(fixture *f, const char *group, guint64 seq,
                        const char *bytes, size_t len, const char *parsed)
{
    unsigned char key[512];
    size_t klen = msg_key(key, group, seq);

    testutil_put_raw(f, STORE_DB_ARCHIVE, key, klen, parsed ? NULL : bytes, len,
                     parsed);
}

/* Tests: appending */

static void
append_assigns_seqs_one_two_three_and_distinct_stanza_ids(fixture *f,
                                                          gconstpointer data)
{
    archive_msg m[3] = {
        {.nick = "alice", .body = "one"},
        {.nick = "bob", .body = "two"},
        {.nick = "alice", .body = "three"},
    };

    for (guint i = 0; i < 3; i++) {
        append(f, "lobby", &m[i]);
        g_assert_cmpuint(m[i].seq, ==, i + 1);
        g_assert_nonnull(m[i].stanza_id);
    }
    g_assert_cmpstr(m[0].stanza_id, !=, m[1].stanza_id);
    g_assert_cmpstr(m[1].stanza_id, !=, m[2].stanza_id);
    g_assert_cmpstr(m[0].stanza_id, !=, m[2].stanza_id);
    for (guint i = 0; i < 3; i++) {
        archive_msg *got = get_seq(f, "lobby", i + 1, 0);

        g_assert_cmpstr(got->stanza_id, ==, m[i].stanza_id);
        g_assert_cmpstr(got->body, ==, m[i].body);
        archive_msg_free(got);
        g_free(m[i].stanza_id);
    }
}

static void a_stanza_id_is_sixteen_hex_digits_of_seq_then_eight_random_ones(
    fixture *f, gconstpointer data)
{
    archive_msg m = {.nick = "alice", .body = "hi", .stanza_id = g_strdup("x")};

    fill(f, "lobby", 41, 1000, 1);
    append(f, "lobby", &m); /* the old stanza_id is freed and replaced */
    g_assert_cmpuint(m.seq, ==, 42);
    g_assert_cmpuint(strlen(m.stanza_id), ==, ARCHIVE_ID_LEN);
    g_assert_true(g_str_has_prefix(m.stanza_id, "000000000000002a"));
    for (const char *p = m.stanza_id; *p; p++)
        g_assert_true(g_ascii_isdigit(*p) || (*p >= 'a' && *p <= 'f'));
    g_free(m.stanza_id);
}

static void
reopening_the_store_keeps_the_messages_and_numbering_goes_on(fixture *f,
                                                             gconstpointer data)
{
    archive_msg m = {.nick = "alice", .body = "before"};
    archive_msg *got = NULL;
    char *id;

    append(f, "lobby", &m);
    say(f, "lobby", "bob", "also before", 0, NULL);
    id = m.stanza_id;
    testutil_store_reopen(f);
    g_assert_cmpint(get_id(f, "lobby", id, &got), ==, 0);
    g_assert_cmpuint(got->seq, ==, 1);
    g_assert_cmpstr(got->body, ==, "before");
    archive_msg_free(got);
    g_assert_cmpuint(say(f, "lobby", "carol", "after", 0, NULL), ==, 3);
    g_free(id);
}

/* The record on disk is exactly what GLib makes of (qsxsmsa{sv}) from the
 * same fields, built by its format string: the schema's bytes, whichever
 * way the encoder builds them. */
static void a_record_is_the_bytes_of_its_schema_type(fixture *f,
                                                     gconstpointer data)
{
    static const archive_msg cases[] = {
        {.nick = "alice", .body = "hi"},
        {.nick = "", .subject = "topic", .occupant_id = "o1"},
        {.nick = "bob", .body = "yo", .occupant_id = "o2", .sender_jid = "b@x",
         .sender_account = "irc", .sender_handle = "bob", .origin_id = "id"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        archive_msg m = cases[i];
        GVariantBuilder b;
        GVariant *want;
        MDB_txn *txn;
        MDB_val k, d;
        guchar key[14];

        m.time_us = 1000 + (gint64)i;
        append(f, "lobby", &m);
        g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
#define ADD(fld)                                                               \
    if (m.fld)                                                                 \
        g_variant_builder_add(&b, "{sv}", #fld, g_variant_new_string(m.fld));
        ADD(subject)
        ADD(occupant_id)
        ADD(sender_jid)
        ADD(sender_account)
        ADD(sender_handle)
        ADD(origin_id)
#undef ADD
        want = g_variant_ref_sink(g_variant_new(
            "(qsxsmsa{sv})", (guint16)ARCHIVE_RECORD_VERSION, m.stanza_id,
            m.time_us, m.nick, m.body, &b));
        memcpy(key, "lobby", 6); /* with its \0 */
        store_put_be64(key + 6, m.seq);
        k = (MDB_val){.mv_size = sizeof(key), .mv_data = key};
        g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
        g_assert_cmpint(
            mdb_get(txn, store_dbi(f->s, STORE_DB_ARCHIVE), &k, &d), ==, 0);
        g_assert_cmpmem(d.mv_data, d.mv_size, g_variant_get_data(want),
                        g_variant_get_size(want));
        store_read_end(txn);
        g_variant_unref(want);
        g_free(m.stanza_id);
    }
}

static void
every_field_round_trips_and_absent_ones_stay_null(fixture *f,
                                                  gconstpointer data)
{
    archive_msg full = {.time_us = G_GINT64_CONSTANT(1700000000123456),
                        .nick = "Zoë ☕",
                        .occupant_id = "occ-1",
                        .sender_jid = "zoe@example.org",
                        .sender_account = "lobby-irc",
                        .sender_handle = "zoe!~z@host",
                        .body = "line one\nline two <&>",
                        .subject = "new topic",
                        .origin_id = "origin-7"};
    archive_msg bare = {.nick = NULL, .subject = "just a subject"};
    archive_msg *got;

    append(f, "café", &full);
    append(f, "café", &bare);
    testutil_store_reopen(f);
    g_assert_cmpint(get_id(f, "café", full.stanza_id, &got), ==, 0);
    g_assert_cmpuint(got->seq, ==, 1);
    g_assert_cmpstr(got->stanza_id, ==, full.stanza_id);
    g_assert_cmpint(got->time_us, ==, full.time_us);
    g_assert_cmpstr(got->nick, ==, full.nick);
    g_assert_cmpstr(got->occupant_id, ==, full.occupant_id);
    g_assert_cmpstr(got->sender_jid, ==, full.sender_jid);
    g_assert_cmpstr(got->sender_account, ==, full.sender_account);
    g_assert_cmpstr(got->sender_handle, ==, full.sender_handle);
    g_assert_cmpstr(got->body, ==, full.body);
    g_assert_cmpstr(got->subject, ==, full.subject);
    g_assert_cmpstr(got->origin_id, ==, full.origin_id);
    archive_msg_free(got);

    got = get_seq(f, "café", 2, 0);
    g_assert_cmpstr(got->stanza_id, ==, bare.stanza_id);
    g_assert_cmpstr(got->nick, ==, "");
    g_assert_null(got->body);
    g_assert_cmpstr(got->subject, ==, "just a subject");
    g_assert_null(got->occupant_id);
    g_assert_null(got->sender_jid);
    g_assert_null(got->sender_account);
    g_assert_null(got->sender_handle);
    g_assert_null(got->origin_id);
    archive_msg_free(got);
    g_free(full.stanza_id);
    g_free(bare.stanza_id);

    get_seq(f, "café", 3, MDB_NOTFOUND);
    get_seq(f, "caf", 1, MDB_NOTFOUND);
}

static int replace_txn(MDB_txn *txn, const store *s, void *data)
{
    return archive_replace(txn, s, "lobby", data);
}

/* archive_replace of m in group "lobby", in a transaction of its own. */
static int replace(fixture *f, archive_msg *m)
{
    return store_write(f->s, replace_txn, m, NULL);
}

/* The whole message (payload, correction, client id) is kept; a tombstone
 * replaces a message in place and keeps nothing of what was said. */
static void a_whole_message_round_trips_and_a_tombstone_replaces_it(
    fixture *f, gconstpointer data)
{
    archive_msg said = {.nick = "ann",
                        .body = "fixed",
                        .client_id = "c-2",
                        .replace_id = "c-1",
                        .sender_jid = "ann@example.org",
                        .payload = "<x xmlns=\"jabber:x:oob\"><url>u</url></x>"};
    archive_msg reaction = {.nick = "bob",
                            .payload = "<reactions xmlns=\"urn:xmpp:reactions:"
                                       "0\" id=\"s\"><reaction>+</reaction>"
                                       "</reactions>"};
    archive_msg nothing = {.nick = "bob"};
    archive_msg tomb, *got;
    append_call c = {.group = "lobby", .msgs = &nothing, .n = 1};
    GError *err = NULL;

    append(f, "lobby", &said);
    append(f, "lobby", &reaction);
    /* a message with nothing said in it is refused */
    g_assert_cmpint(store_write(f->s, append_txn, &c, &err), ==, -EINVAL);
    g_clear_error(&err);

    got = get_seq(f, "lobby", 1, 0);
    g_assert_cmpstr(got->payload, ==, said.payload);
    g_assert_cmpstr(got->replace_id, ==, "c-1");
    g_assert_cmpstr(got->client_id, ==, "c-2");
    g_assert_null(got->retracted);
    archive_msg_free(got);
    got = get_seq(f, "lobby", 2, 0);
    g_assert_null(got->body);
    g_assert_cmpstr(got->payload, ==, reaction.payload);
    archive_msg_free(got);

    tomb = (archive_msg){.seq = 1,
                         .stanza_id = said.stanza_id,
                         .time_us = said.time_us,
                         .nick = "ann",
                         .sender_jid = "ann@example.org",
                         .retracted = "2026-12-05T10:00:00Z",
                         .retracted_by = "mod",
                         .retract_reason = "spam",
                         .retract_id = "r1"};
    /* a tombstone with something said left in it is refused */
    tomb.body = "still here";
    g_assert_cmpint(replace(f, &tomb), ==, -EINVAL);
    tomb.body = NULL;
    tomb.seq = 9;
    g_assert_cmpint(replace(f, &tomb), ==, MDB_NOTFOUND);
    tomb.seq = 1;
    g_assert_cmpint(replace(f, &tomb), ==, 0);

    g_assert_cmpint(get_id(f, "lobby", said.stanza_id, &got), ==, 0);
    g_assert_cmpint(got->time_us, ==, said.time_us);
    g_assert_null(got->body);
    g_assert_null(got->payload);
    g_assert_null(got->replace_id);
    g_assert_cmpstr(got->retracted, ==, "2026-12-05T10:00:00Z");
    g_assert_cmpstr(got->retracted_by, ==, "mod");
    g_assert_cmpstr(got->retract_reason, ==, "spam");
    g_assert_cmpstr(got->retract_id, ==, "r1");
    g_assert_cmpstr(got->sender_jid, ==, "ann@example.org");
    archive_msg_free(got);
    g_free(said.stanza_id);
    g_free(reaction.stanza_id);
}

static void a_time_of_zero_is_now_and_an_earlier_time_is_raised_to_the_last(
    fixture *f, gconstpointer data)
{
    archive_msg now = {.nick = "a", .body = "now"};
    archive_msg late = {.nick = "a", .body = "late", .time_us = 5000};
    archive_msg early = {.nick = "a", .body = "early", .time_us = 4000};
    gint64 before = g_get_real_time(), after;

    append(f, "clock", &now);
    after = g_get_real_time();
    g_assert_cmpint(now.time_us, >=, before);
    g_assert_cmpint(now.time_us, <=, after);

    append(f, "stepped", &late);
    append(f, "stepped", &early); /* the clock stepped back */
    g_assert_cmpint(early.time_us, ==, 5000);
    archive_msg *got = get_seq(f, "stepped", 2, 0);
    g_assert_cmpint(got->time_us, ==, 5000);
    archive_msg_free(got);
    g_free(now.stanza_id);
    g_free(late.stanza_id);
    g_free(early.stanza_id);
}

static void append_refuses_what_it_cannot_key_or_store(fixture *f,
                                                       gconstpointer data)
{
    char *long_group = g_strnfill(ARCHIVE_GROUP_MAX + 1, 'g');
    char *longest = g_strnfill(ARCHIVE_GROUP_MAX, 'g');
    const struct {
        const char *group;
        archive_msg m;
    } bad[] = {
        {"", {.nick = "a", .body = "x"}},
        {long_group, {.nick = "a", .body = "x"}},
        {"\xff\xfe", {.nick = "a", .body = "x"}},
        {"lobby", {.nick = "a"}}, /* neither body nor subject */
        {"lobby", {.nick = "a", .body = "\xc3"}},
        {"lobby", {.nick = "\xc3", .body = "x"}},
        {"lobby", {.nick = "a", .body = "x", .sender_jid = "\xff"}},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        archive_msg m = bad[i].m;
        append_call c = {.group = bad[i].group, .msgs = &m, .n = 1};
        GError *err = NULL;

        g_test_message("case %" G_GSIZE_FORMAT, i);
        g_assert_cmpint(store_write(f->s, append_txn, &c, &err), <, 0);
        g_assert_cmpint(
            c.rc, ==, bad[i].group == long_group ? STORE_KEY_TOO_LONG : -EINVAL);
        g_assert_error(err, STORE_ERROR, STORE_ERROR_ABORTED);
        g_assert_null(m.stanza_id);
        g_assert_cmpuint(m.seq, ==, 0);
        g_error_free(err);
    }
    get_seq(f, "lobby", 1, MDB_NOTFOUND);
    /* The longest group it can key works. */
    g_assert_cmpuint(say(f, longest, "a", "x", 0, NULL), ==, 1);
    g_assert_cmpuint(say(f, longest, "a", "y", 0, NULL), ==, 2);
    g_free(long_group);
    g_free(longest);
}

/* Tests: MAM */

static void
paging_forward_with_after_id_gives_50_50_20_complete_only_on_the_last(
    fixture *f, gconstpointer data)
{
    static const char *const want[] = {"1-50", "51-100", "101-120"};
    archive_query q = {0};
    char *after = NULL;

    fill(f, "lobby", 120, 1000, 10);
    for (gsize i = 0; i < G_N_ELEMENTS(want); i++) {
        gboolean complete = !(i == 2);
        guint64 count = 0;
        GPtrArray *page = NULL;

        q.after_id = after;
        g_assert_cmpint(query(f, "lobby", &q, &page, &complete, &count), ==, 0);
        g_assert_cmpuint(count, ==, 120);
        g_assert_cmpint(complete, ==, i == 2);
        g_free(after);
        after = g_strdup(at(page, page->len - 1)->stanza_id);
        assert_seqs(page, want[i]);
    }
    /* After the last message: an empty page, complete. */
    {
        gboolean complete = FALSE;

        q.after_id = after;
        assert_seqs(query_ok(f, "lobby", &q, &complete), "");
        g_assert_true(complete);
    }
    g_free(after);
}

static void before_last_gives_the_last_page_and_before_id_pages_backwards(
    fixture *f, gconstpointer data)
{
    static const char *const want[] = {"71-120", "21-70", "1-20"};
    archive_query q = {.before_last = TRUE};
    char *before = NULL;

    fill(f, "lobby", 120, 1000, 10);
    for (gsize i = 0; i < G_N_ELEMENTS(want); i++) {
        gboolean complete = !(i == 2);
        GPtrArray *page;

        q.before_id = before;
        page = query_ok(f, "lobby", &q, &complete);
        g_assert_cmpint(complete, ==, i == 2);
        g_free(before);
        before = g_strdup(at(page, 0)->stanza_id);
        assert_seqs(page, want[i]);
    }
    /* before_id alone pages backwards too. */
    {
        gboolean complete = TRUE;
        archive_query q2 = {.max = 5};
        GPtrArray *all =
            query_ok(f, "lobby", &(archive_query){.max = 100}, NULL);

        q2.before_id = at(all, 60)->stanza_id; /* seq 61 */
        assert_seqs(query_ok(f, "lobby", &q2, &complete), "56-60");
        g_assert_false(complete);
        /* Between an after and a before id. */
        q2.after_id = at(all, 57)->stanza_id; /* seq 58 */
        assert_seqs(query_ok(f, "lobby", &q2, &complete), "59,60");
        g_assert_true(complete);
        g_ptr_array_unref(all);
    }
    g_free(before);
}

static void start_and_end_filter_by_time_inclusively(fixture *f,
                                                     gconstpointer data)
{
    static const struct {
        gint64 start, end;
        const char *want;
        guint64 count;
    } cases[] = {
        {0, 0, "1-20", 20},    {5000, 9000, "5-9", 5},    {5000, 0, "5-20", 16},
        {0, 3000, "1,2,3", 3}, {5500, 8500, "6,7,8", 3},  {1, 1000, "1", 1},
        {20000, 0, "20", 1},   {20001, 0, "", 0},         {0, 999, "", 0},
        {9000, 5000, "", 0},   {-5, 1000000, "1-20", 20},
    };

    fill(f, "lobby", 20, 1000, 1000); /* seq i at 1000 * i */
    fill(f, "other", 5, 1, 1);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        archive_query q = {.start_us = cases[i].start, .end_us = cases[i].end};
        gboolean complete = FALSE;
        guint64 count = 99;
        GPtrArray *page = NULL;

        g_test_message("start %" G_GINT64_FORMAT " end %" G_GINT64_FORMAT,
                       cases[i].start, cases[i].end);
        g_assert_cmpint(query(f, "lobby", &q, &page, &complete, &count), ==, 0);
        g_assert_true(complete);
        g_assert_cmpuint(count, ==, cases[i].count);
        assert_seqs(page, cases[i].want);
    }
    /* Filters and paging together. */
    {
        archive_query q = {.start_us = 5000, .end_us = 15000, .max = 4};
        gboolean complete = TRUE;
        GPtrArray *page = query_ok(f, "lobby", &q, &complete);

        g_assert_false(complete);
        q.after_id = at(page, 3)->stanza_id;
        assert_seqs(query_ok(f, "lobby", &q, &complete), "9-12");
        g_assert_false(complete);
        assert_seqs(page, "5-8");
        q.after_id = NULL;
        q.before_last = TRUE;
        assert_seqs(query_ok(f, "lobby", &q, &complete), "12-15");
        g_assert_false(complete);
    }
}

/* Equal times, holes in the seqs, and every start/end pair against a scan
 * of the known times. */
static void time_filters_agree_with_a_linear_scan(fixture *f,
                                                  gconstpointer data)
{
    static const gint64 times[] = {10, 10, 10, 20, 20, 30, 40, 40,
                                   40, 40, 50, 60, 60, 70, 80};
    guint seed = g_test_rand_int();
    GRand *rand = g_rand_new_with_seed(seed);
    gboolean gone[G_N_ELEMENTS(times)] = {FALSE};
    guint removed;

    g_test_message("seed %u", seed);
    for (gsize i = 0; i < G_N_ELEMENTS(times); i++) {
        gboolean drop = g_rand_int_range(rand, 0, 3) == 0;

        say(f, "lobby", "n", "x", times[i], drop ? "drop@x" : "keep@x");
        gone[i] = drop;
    }
    g_assert_cmpint(archive_forget_sender(f->s, "drop@x", 2, &removed, NULL),
                    ==, 0);
    for (gint64 start = 0; start <= 90; start += 5) {
        for (gint64 end = 0; end <= 90; end += 5) {
            archive_query q = {.start_us = start, .end_us = end, .max = 250};
            GString *want = g_string_new(NULL);
            GPtrArray *page;
            char *got;

            for (gsize i = 0; i < G_N_ELEMENTS(times); i++) {
                if (gone[i] || (start && times[i] < start) ||
                    (end && times[i] > end))
                    continue;
                g_string_append_printf(want, "%s%" G_GSIZE_FORMAT,
                                       want->len ? "," : "", i + 1);
            }
            page = query_ok(f, "lobby", &q, NULL);
            got = g_strdup("");
            for (guint i = 0; i < page->len; i++) {
                char *next = g_strdup_printf("%s%s%" G_GUINT64_FORMAT, got,
                                             i ? "," : "", at(page, i)->seq);
                g_free(got);
                got = next;
            }
            if (g_strcmp0(got, want->str) != 0)
                g_test_message("start %" G_GINT64_FORMAT
                               " end %" G_GINT64_FORMAT,
                               start, end);
            g_assert_cmpstr(got, ==, want->str);
            g_free(got);
            g_ptr_array_unref(page);
            g_string_free(want, TRUE);
        }
    }
    g_rand_free(rand);
}

static void unknown_forged_or_deleted_ids_are_item_not_found(fixture *f,
                                                             gconstpointer data)
{
    GPtrArray *all, *other;
    char *forged, *upper, *missing, *deleted;
    guint removed;

    fill(f, "lobby", 10, 1000, 1);
    say(f, "lobby", "eve", "bye", 2000, "eve@x");
    fill(f, "other", 3, 1000, 1);
    all = query_ok(f, "lobby", &(archive_query){0}, NULL);
    other = query_ok(f, "other", &(archive_query){0}, NULL);
    deleted = g_strdup(at(all, 10)->stanza_id);
    g_assert_cmpint(archive_forget_sender(f->s, "eve@x", 0, &removed, NULL), ==,
                    0);
    g_assert_cmpuint(removed, ==, 1);
    forged = g_strdup(at(all, 4)->stanza_id);
    forged[ARCHIVE_ID_LEN - 1] = forged[ARCHIVE_ID_LEN - 1] == '0' ? '1' : '0';
    upper = g_ascii_strup(at(all, 4)->stanza_id, -1);
    missing = g_strdup_printf("%016x%s", 99, at(all, 4)->stanza_id + 16);
    {
        const char *const bad[] = {
            "", "nonsense", forged, missing, deleted,
            "000000000000000000000000",
            "0000000000000005abcdef0", /* 23 digits */
            "0000000000000005abcdef012",
            /* upper case: equal only if the random part has no letter */
            strcmp(upper, at(all, 4)->stanza_id) == 0
                ? "0000000000000005ABCDEF00"
                : upper,
            at(other, 1)->stanza_id, /* another group's */
        };

        for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
            archive_query after = {.after_id = bad[i]};
            archive_query before = {.before_id = bad[i]};
            GPtrArray *page = (GPtrArray *)f;
            archive_msg *m = (archive_msg *)f;
            guint64 count = 7;

            g_test_message("id '%s'", bad[i]);
            g_assert_cmpint(query(f, "lobby", &after, &page, NULL, &count), ==,
                            ARCHIVE_ITEM_NOT_FOUND);
            g_assert_null(page);
            g_assert_cmpuint(count, ==, 0);
            g_assert_cmpint(query(f, "lobby", &before, &page, NULL, NULL), ==,
                            ARCHIVE_ITEM_NOT_FOUND);
            g_assert_null(page);
            g_assert_cmpint(get_id(f, "lobby", bad[i], &m), ==,
                            ARCHIVE_ITEM_NOT_FOUND);
            g_assert_null(m);
        }
    }
    /* The genuine id still works, and an empty group knows no id. */
    assert_seqs(query_ok(f, "lobby",
                         &(archive_query){.after_id = at(all, 4)->stanza_id},
                         NULL),
                "6-10");
    g_assert_cmpint(query(f, "empty",
                          &(archive_query){.after_id = at(all, 4)->stanza_id},
                          &(GPtrArray *){NULL}, NULL, NULL),
                    ==, ARCHIVE_ITEM_NOT_FOUND);
    g_ptr_array_unref(all);
    g_ptr_array_unref(other);
    g_free(forged);
    g_free(upper);
    g_free(missing);
    g_free(deleted);
}

static void max_defaults_to_50_and_is_capped_at_250(fixture *f,
                                                    gconstpointer data)
{
    static const struct {
        guint max;
        const char *want;
    } cases[] = {
        {0, "1-50"},    {1, "1"},       {249, "1-249"},
        {250, "1-250"}, {251, "1-250"}, {100000, "1-250"},
    };

    fill(f, "lobby", 300, 1, 1);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        gboolean complete = TRUE;

        g_test_message("max %u", cases[i].max);
        assert_seqs(query_ok(f, "lobby", &(archive_query){.max = cases[i].max},
                             &complete),
                    cases[i].want);
        g_assert_false(complete);
    }
}

static void
count_alone_needs_no_page_and_an_empty_group_is_complete(fixture *f,
                                                         gconstpointer data)
{
    guint64 count = 0;
    gboolean complete = FALSE;

    fill(f, "lobby", 70, 1, 1);
    g_assert_cmpint(
        query(f, "lobby", &(archive_query){.start_us = 11}, NULL, NULL, &count),
        ==, 0);
    g_assert_cmpuint(count, ==, 60);
    assert_seqs(query_ok(f, "nobody", &(archive_query){0}, &complete), "");
    g_assert_true(complete);
    complete = FALSE;
    assert_seqs(
        query_ok(f, "nobody", &(archive_query){.before_last = TRUE}, &complete),
        "");
    g_assert_true(complete);
}

/* Tests: history */

static gsize body_length(const archive_msg *m, void *userdata)
{
    return m->body ? strlen(m->body) : ARCHIVE_HISTORY_SKIP;
}

static void
history_is_limited_by_maxstanzas_maxchars_and_since(fixture *f,
                                                    gconstpointer data)
{
    archive_msg subject = {.nick = "mod", .subject = "topic", .time_us = 50};
    static const struct {
        int maxstanzas, maxchars;
        gint64 since;
        gboolean measured;
        const char *want;
    } cases[] = {
        {-1, -1, 0, TRUE, "1-5,7-10"}, /* 6 sets only the subject */
        {3, -1, 0, TRUE, "8,9,10"},
        {0, -1, 0, TRUE, ""},
        {-1, 0, 0, TRUE, ""},
        {-1, 10, 0, TRUE, "10"}, /* bodies are 10 characters */
        {-1, 29, 0, TRUE, "9,10"},
        {-1, 30, 0, TRUE, "8,9,10"},
        {5, 1000, 0, TRUE, "5,7-10"},
        {-1, -1, 70, TRUE, "7-10"},
        {-1, -1, 71, TRUE, "8,9,10"},
        {2, -1, 30, TRUE, "9,10"},
        {-1, -1, 101, TRUE, ""},
        /* Default measure: nick + body + overhead each. */
        {-1, 2 * (ARCHIVE_HISTORY_OVERHEAD + 11), 0, FALSE, "9,10"},
        {-1, 2 * (ARCHIVE_HISTORY_OVERHEAD + 11) - 1, 0, FALSE, "10"},
    };

    for (int i = 1; i <= 10; i++) {
        char body[16];

        if (i == 6) {
            append(f, "lobby", &subject);
            g_free(subject.stanza_id);
            continue;
        }
        g_snprintf(body, sizeof body, "body %05d", i);
        say(f, "lobby", "n", body, 10 * i, NULL);
    }
    say(f, "lobbyist", "n", "not lobby", 200, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_test_message("case %" G_GSIZE_FORMAT, i);
        assert_seqs(history(f, "lobby", cases[i].maxstanzas, cases[i].maxchars,
                            cases[i].since,
                            cases[i].measured ? body_length : NULL),
                    cases[i].want);
    }
    assert_seqs(history(f, "empty", -1, -1, 0, NULL), "");
}

/* A measure that keeps only bodies starting with "keep". */
static gsize kept_only(const archive_msg *m, void *userdata)
{
    return m->body && g_str_has_prefix(m->body, "keep") ? strlen(m->body)
                                                        : ARCHIVE_HISTORY_SKIP;
}

static void
history_leaves_out_what_the_measure_skips_and_stops_after_a_long_run_of_them(
    fixture *f, gconstpointer data)
{
    archive_msg reaction = {.nick = "ann", .payload = "<reactions/>"};

    say(f, "lobby", "n", "keep 1", 10, NULL);
    fill(f, "lobby", ARCHIVE_SCAN_PER_TXN - 1, 20, 0);
    say(f, "lobby", "n", "keep 2", 30, NULL);
    append(f, "lobby", &reaction);
    g_free(reaction.stanza_id);
    say(f, "lobby", "n", "keep 3", 40, NULL);
    /* The reaction (no body) is skipped by the default measure. */
    assert_seqs(history(f, "lobby", 2, -1, 0, NULL), "4097,4099");
    /* 4095 skipped between keep 1 and keep 2, plus the reaction: the
     * walk gives up before keep 1. */
    assert_seqs(history(f, "lobby", -1, -1, 0, kept_only), "4097,4099");
    /* With fewer skipped it reaches it. */
    say(f, "small", "n", "keep 1", 10, NULL);
    fill(f, "small", 10, 20, 0);
    say(f, "small", "n", "keep 2", 30, NULL);
    assert_seqs(history(f, "small", -1, -1, 0, kept_only), "1,12");
}

typedef struct back_walk {
    GString *seen;
    guint stop_at;
} back_walk;

static int back_seen(const archive_msg *m, void *userdata)
{
    back_walk *w = userdata;

    g_string_append_printf(w->seen, "%s%" G_GUINT64_FORMAT,
                           w->seen->len ? "," : "", m->seq);
    return m->seq == w->stop_at ? 1 : 0;
}

static void
looking_back_gives_the_newest_first_and_at_most_the_limit(fixture *f,
                                                          gconstpointer data)
{
    static const struct {
        guint limit, stop_at;
        const char *group, *want;
    } cases[] = {
        {3, 0, "lobby", "10,9,8"},
        {0, 0, "lobby", ""},
        {100, 0, "lobby", "10,9,8,7,6,5,4,3,2,1"},
        {100, 8, "lobby", "10,9,8"},
        {5, 0, "lobby2", "2,1"},
        {5, 0, "nobody", ""},
    };

    fill(f, "lobby", 10, 100, 1);
    fill(f, "lobby2", 2, 100, 1);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        back_walk w = {g_string_new(NULL), cases[i].stop_at};
        MDB_txn *txn;

        g_test_message("case %" G_GSIZE_FORMAT, i);
        g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
        g_assert_cmpint(archive_foreach_back(txn, f->s, cases[i].group,
                                             cases[i].limit, back_seen, &w),
                        ==, 0);
        store_read_end(txn);
        g_assert_cmpstr(w.seen->str, ==, cases[i].want);
        g_string_free(w.seen, TRUE);
    }
}

/* Tests: groups */

static void groups_a_and_ab_are_separate(fixture *f, gconstpointer data)
{
    guint64 count = 0;
    guint removed;

    fill(f, "a", 3, 100, 1);
    fill(f, "ab", 5, 100, 1);
    fill(f, "a0", 2, 100, 1);
    /* The end of "a"'s range is found below "ab"'s keys. */
    g_assert_cmpuint(say(f, "a", "n", "x", 200, NULL), ==, 4);
    g_assert_cmpuint(say(f, "ab", "n", "x", 200, NULL), ==, 6);
    assert_seqs(query_ok(f, "a", &(archive_query){0}, NULL), "1-4");
    assert_seqs(query_ok(f, "a", &(archive_query){.before_last = TRUE}, NULL),
                "1-4");
    assert_seqs(query_ok(f, "ab", &(archive_query){0}, NULL), "1-6");
    assert_seqs(history(f, "a", -1, -1, 0, NULL), "1-4");
    get_seq(f, "a", 5, MDB_NOTFOUND);
    g_assert_cmpint(archive_sweep(f->s, "a", G_MAXINT64, 2, &removed, NULL), ==,
                    0);
    g_assert_cmpuint(removed, ==, 4);
    assert_seqs(query_ok(f, "a", &(archive_query){0}, NULL), "");
    assert_seqs(query_ok(f, "ab", &(archive_query){0}, NULL), "1-6");
    assert_seqs(query_ok(f, "a0", &(archive_query){0}, NULL), "1,2");

    /* The high-water mark of a 9-byte group, "xyzxyzxyz\0", is as long as a
     * message key of "x" and sorts right after its range. */
    fill(f, "x", 3, 100, 1);
    fill(f, "xyzxyzxyz", 2, 100, 1);
    g_assert_cmpint(
        archive_sweep(f->s, "xyzxyzxyz", G_MAXINT64, 0, &removed, NULL), ==, 0);
    g_assert_cmpuint(removed, ==, 2);
    g_assert_cmpint(query(f, "x", &(archive_query){0}, NULL, NULL, &count), ==,
                    0);
    g_assert_cmpuint(count, ==, 3);
    assert_seqs(query_ok(f, "x", &(archive_query){0}, NULL), "1,2,3");
    g_assert_cmpuint(say(f, "x", "n", "x", 200, NULL), ==, 4);
    g_assert_cmpuint(say(f, "xyzxyzxyz", "n", "x", 200, NULL), ==, 3);
}

/* Tests: retention and erasure */

static void
sweep_removes_only_old_messages_over_several_batches(fixture *f,
                                                     gconstpointer data)
{
    archive_job *job = archive_job_sweep("lobby", 1000000, 7);
    gboolean done = FALSE;
    guint steps = 0, before = 0;
    GError *err = NULL;
    guint64 count = 0;

    fill(f, "lobby", 100, 1000, 1000);   /* old: up to 100000 */
    fill(f, "lobby", 10, 1000000, 1000); /* at and after the cutoff */
    fill(f, "lobbyist", 5, 1000, 1);     /* another group, old */
    while (!done) {
        g_assert_cmpint(archive_job_step(job, f->s, &done, &err), ==, 0);
        g_assert_no_error(err);
        g_assert_cmpuint(archive_job_removed(job) - before, <=, 7);
        before = archive_job_removed(job);
        steps++;
        g_assert_cmpuint(steps, <, 100);
    }
    g_assert_cmpuint(archive_job_removed(job), ==, 100);
    g_assert_cmpuint(steps, >=, 15); /* 100 / 7, rounded up */
    g_assert_cmpint(archive_job_step(job, f->s, &done, &err), ==, 0);
    g_assert_true(done);
    archive_job_free(job);
    g_assert_cmpint(query(f, "lobby", &(archive_query){0}, NULL, NULL, &count),
                    ==, 0);
    g_assert_cmpuint(count, ==, 10);
    assert_seqs(query_ok(f, "lobby", &(archive_query){0}, NULL), "101-110");
    assert_seqs(query_ok(f, "lobbyist", &(archive_query){0}, NULL), "1-5");
}

static void
sweep_of_every_group_keeps_each_groups_newer_messages(fixture *f,
                                                      gconstpointer data)
{
    guint removed = 99;
    GError *err = NULL;

    fill(f, "x", 20, 100, 100); /* 100 .. 2000 */
    fill(f, "y", 5, 5000, 1);   /* all new */
    fill(f, "z", 8, 10, 10);    /* all old */
    fill(f, "z", 2, 1500, 1);   /* new */
    g_assert_cmpint(archive_sweep(f->s, NULL, 1000, 3, &removed, &err), ==, 0);
    g_assert_no_error(err);
    g_assert_cmpuint(removed, ==, 9 + 8);
    assert_seqs(query_ok(f, "x", &(archive_query){0}, NULL), "10-20");
    assert_seqs(query_ok(f, "y", &(archive_query){0}, NULL), "1-5");
    assert_seqs(query_ok(f, "z", &(archive_query){0}, NULL), "9,10");
    /* Nothing left to sweep. */
    g_assert_cmpint(archive_sweep(f->s, NULL, 1000, 3, &removed, &err), ==, 0);
    g_assert_cmpuint(removed, ==, 0);
    g_assert_cmpint(archive_sweep(f->s, "nobody", 1000, 3, &removed, &err), ==,
                    0);
    g_assert_cmpuint(removed, ==, 0);
}

static void
numbering_goes_on_after_the_newest_messages_are_deleted(fixture *f,
                                                        gconstpointer data)
{
    archive_msg m = {.nick = "n", .body = "again"};
    guint removed;

    fill(f, "lobby", 5, 100, 1);
    g_assert_cmpint(archive_sweep(f->s, "lobby", G_MAXINT64, 2, &removed, NULL),
                    ==, 0);
    g_assert_cmpuint(removed, ==, 5);
    append(f, "lobby", &m);
    g_assert_cmpuint(m.seq, ==, 6);
    g_assert_true(g_str_has_prefix(m.stanza_id, "0000000000000006"));
    g_free(m.stanza_id);

    /* The newest message erased. */
    say(f, "lobby", "eve", "secret", 0, "eve@x");
    g_assert_cmpint(archive_forget_sender(f->s, "eve@x", 1, &removed, NULL), ==,
                    0);
    g_assert_cmpuint(removed, ==, 1);
    testutil_store_reopen(f);
    g_assert_cmpuint(say(f, "lobby", "n", "next", 0, NULL), ==, 8);
    assert_seqs(query_ok(f, "lobby", &(archive_query){0}, NULL), "6,8");
    assert_seqs(history(f, "lobby", -1, -1, 0, NULL), "6,8");
}

static void forget_sender_removes_only_that_senders_messages(fixture *f,
                                                             gconstpointer data)
{
    archive_msg legacy = {.nick = "bob",
                          .body = "from irc",
                          .sender_account = "lobby-irc",
                          .sender_handle = "bob"};
    archive_msg other_handle = {.nick = "bob2",
                                .body = "from irc too",
                                .sender_account = "lobby-irc",
                                .sender_handle = "bob2"};
    guint removed = 0;
    GError *err = NULL;

    for (int i = 0; i < 6; i++) {
        say(f, "lobby", "eve", "eve says", 0, "eve@example.org");
        say(f, "lobby", "al", "al says", 0, "al@example.org");
        say(f, "other", "eve", "eve elsewhere", 0, "eve@example.org");
    }
    say(f, "lobby", "eve2", "similar jid", 0, "eve@example.org.evil");
    say(f, "lobby", "anon", "no jid", 0, NULL);
    append(f, "lobby", &legacy);
    append(f, "lobby", &other_handle);
    g_free(legacy.stanza_id);
    g_free(other_handle.stanza_id);

    g_assert_cmpint(
        archive_forget_sender(f->s, "eve@example.org", 4, &removed, &err), ==,
        0);
    g_assert_no_error(err);
    g_assert_cmpuint(removed, ==, 12);
    assert_seqs(query_ok(f, "lobby", &(archive_query){0}, NULL),
                "2,4,6,8,10,12-16");
    assert_seqs(query_ok(f, "other", &(archive_query){0}, NULL), "");

    g_assert_cmpint(
        archive_forget_legacy(f->s, "lobby-irc", "bob", 0, &removed, &err), ==,
        0);
    g_assert_cmpuint(removed, ==, 1);
    assert_seqs(query_ok(f, "lobby", &(archive_query){0}, NULL),
                "2,4,6,8,10,12,13,14,16");
    /* A JID is not a legacy handle and the other way round. */
    g_assert_cmpint(archive_forget_sender(f->s, "bob2", 0, &removed, &err), ==,
                    0);
    g_assert_cmpuint(removed, ==, 0);
    g_assert_cmpint(archive_forget_sender(f->s, "nobody@x", 0, &removed, &err),
                    ==, 0);
    g_assert_cmpuint(removed, ==, 0);
}

/* A tiny map fills: the append that does not fit fails as a full store,
 * runs once, and takes no seq, id or count; what was acknowledged is what
 * is stored, and numbering goes on from it once there is room. */
static void
a_full_map_refuses_an_append_and_takes_no_seq_id_or_count(fixture *f,
                                                          gconstpointer data)
{
    size_t tiny = 32 * (size_t)sysconf(_SC_PAGESIZE);
    GHashTable *ids =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    char *body = g_strnfill(1000, 'b');
    archive_query q = {.max = ARCHIVE_PAGE_MAX};
    gboolean complete = FALSE;
    GError *err = NULL;
    guint stored = 0;
    int rc = 0;

    store_close(f->s);
    g_assert_cmpint(store_open(f->dir, tiny, &f->s, &err), ==, 0);
    g_assert_no_error(err);
    for (guint t = 0; t < 60 && rc == 0; t++) {
        archive_msg msgs[10] = {{0}};
        append_call c = {.group = "lobby", .msgs = msgs, .n = 10};

        for (guint i = 0; i < 10; i++)
            msgs[i] = (archive_msg){.nick = "n", .body = body, .time_us = 1};
        rc = store_write(f->s, append_txn, &c, &err);
        for (guint i = 0; i < 10; i++) {
            if (rc == 0) {
                g_assert_cmpuint(msgs[i].seq, ==, t * 10 + i + 1);
                g_assert_true(g_hash_table_add(ids, msgs[i].stanza_id));
            } else {
                g_free(msgs[i].stanza_id);
            }
        }
        if (rc == 0)
            stored += 10;
    }
    g_assert_cmpint(rc, ==, MDB_MAP_FULL);
    g_assert_error(err, STORE_ERROR, STORE_ERROR_FULL);
    g_clear_error(&err);
    g_assert_cmpuint(stored, >, 0);
    /* Reopened with room: what callers were told is what was stored. */
    store_close(f->s);
    g_assert_cmpint(store_open(f->dir, 0, &f->s, &err), ==, 0);
    while (!complete) {
        GPtrArray *page = query_ok(f, "lobby", &q, &complete);

        for (guint i = 0; i < page->len; i++)
            g_assert_true(g_hash_table_remove(ids, at(page, i)->stanza_id));
        g_free((char *)q.after_id);
        q.after_id =
            page->len ? g_strdup(at(page, page->len - 1)->stanza_id) : NULL;
        g_ptr_array_unref(page);
    }
    g_free((char *)q.after_id);
    g_assert_cmpuint(g_hash_table_size(ids), ==, 0);
    g_assert_cmpuint(say(f, "lobby", "n", "x", 0, NULL), ==, stored + 1);
    g_hash_table_unref(ids);
    g_free(body);
}

/* Tests: records this build cannot decode */

static void missing_or_odd_dictionary_fields_decode_to_null(fixture *f,
                                                            gconstpointer data)
{
    archive_msg *m;

    put_raw_msg(f, "lobby", 1, NULL, 0,
                "(@q 1, '000000000000000100000000', @x 42, 'n', @ms 'hi', "
                "@a{sv} {'subject': <@u 5>, 'sender_jid': <'a@b'>, "
                "'later_field': <1>})");
    m = get_seq(f, "lobby", 1, 0);
    g_assert_cmpint(m->time_us, ==, 42);
    g_assert_cmpstr(m->body, ==, "hi");
    g_assert_null(m->subject);
    g_assert_cmpstr(m->sender_jid, ==, "a@b");
    archive_msg_free(m);
    g_assert_cmpuint(say(f, "lobby", "n", "next", 0, NULL), ==, 2);
}

static void
a_corrupt_record_is_reported_and_skipped_not_a_crash(fixture *f,
                                                     gconstpointer data)
{
    static const struct {
        const char *bytes; /* raw bytes when non-NULL ... */
        size_t len;
        const char *parsed; /* ... else a GVariant in text form */
    } bad[] = {
        {"", 0, NULL},
        {"\x01\x00\xff\xff\xff\xff\xff\x07", 8, NULL},
        {NULL, 0, "(@q 1, 'a string')"},
        {NULL, 0,
         "(@q 2, '000000000000000400000000', @x 4000, 'n', @ms 'hi', "
         "@a{sv} {})"},
        {NULL, 0,
         "(@q 0, '000000000000000500000000', @x 5000, 'n', @ms 'hi', "
         "@a{sv} {})"},
    };
    unsigned char mark[16];
    char *id3;
    GPtrArray *all;
    guint removed;
    archive_msg *m = (archive_msg *)f;

    fill(f, "lobby", 10, 1000, 1000);
    all = query_ok(f, "lobby", &(archive_query){0}, NULL);
    id3 = g_strdup(at(all, 2)->stanza_id);
    g_ptr_array_unref(all);
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++)
        put_raw_msg(f, "lobby", 3 + i, bad[i].bytes, bad[i].len, bad[i].parsed);
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_test_message("record %" G_GSIZE_FORMAT, i);
        get_seq(f, "lobby", 3 + i, MDB_CORRUPTED);
    }
    g_assert_cmpint(get_id(f, "lobby", id3, &m), ==, MDB_CORRUPTED);
    g_assert_null(m);
    g_assert_cmpint(query(f, "lobby", &(archive_query){.after_id = id3},
                          &(GPtrArray *){NULL}, NULL, NULL),
                    ==, MDB_CORRUPTED);
    /* Queries and history leave them out; time filters step over them. */
    assert_seqs(query_ok(f, "lobby", &(archive_query){0}, NULL), "1,2,8,9,10");
    assert_seqs(query_ok(f, "lobby",
                         &(archive_query){.before_last = TRUE, .max = 4}, NULL),
                "2,8,9,10");
    assert_seqs(query_ok(f, "lobby",
                         &(archive_query){.start_us = 2000, .end_us = 9000},
                         NULL),
                "2,8,9");
    assert_seqs(history(f, "lobby", -1, -1, 0, NULL), "1,2,8,9,10");
    /* Appending goes on; retention and erasure leave them alone. */
    g_assert_cmpuint(say(f, "lobby", "n", "x", 20000, "x@y"), ==, 11);
    g_assert_cmpint(archive_forget_sender(f->s, "x@y", 0, &removed, NULL), ==,
                    0);
    g_assert_cmpuint(removed, ==, 1);
    g_assert_cmpint(archive_sweep(f->s, NULL, 9500, 2, &removed, NULL), ==, 0);
    g_assert_cmpuint(removed, ==, 4);
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++)
        get_seq(f, "lobby", 3 + i, MDB_CORRUPTED);
    assert_seqs(query_ok(f, "lobby", &(archive_query){0}, NULL), "10");

    /* A high-water mark it cannot read stops appending to that group only. */
    memcpy(mark, "lobby", 6);
    testutil_put_raw(f, STORE_DB_ARCHIVE, mark, 6, "junk", 4, NULL);
    {
        archive_msg n = {.nick = "n", .body = "x"};
        append_call c = {.group = "lobby", .msgs = &n, .n = 1};

        g_assert_cmpint(store_write(f->s, append_txn, &c, NULL), <, 0);
        g_assert_cmpint(c.rc, ==, MDB_CORRUPTED);
        g_assert_null(n.stanza_id);
    }
    g_assert_cmpuint(say(f, "lobbyist", "n", "x", 0, NULL), ==, 1);
    g_free(id3);
}

/* Tests: counting from the gap index */

/* The messages of group with start <= time <= end (0: unbounded), read one
 * seq at a time up to top: what <count/> must say. */
static guint64 walk_count(fixture *f, const char *group, guint64 top,
                          gint64 start, gint64 end)
{
    guint64 n = 0;
    MDB_txn *txn;

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    for (guint64 seq = 1; seq <= top; seq++) {
        archive_msg *m = NULL;

        if (archive_get(txn, f->s, group, seq, &m) != 0)
            continue;
        if ((!start || m->time_us >= start) && (!end || m->time_us <= end))
            n++;
        archive_msg_free(m);
    }
    store_read_end(txn);
    return n;
}

/* <count/> agrees with walk_count for the whole set and 40 random time
 * ranges (GTest's seed, printed with --verbose, repeats them). */
static void assert_counts(fixture *f, const char *group, guint64 top,
                          gint64 t_max)
{
    for (int i = 0; i < 41; i++) {
        gint64 a = i ? g_test_rand_int_range(0, (gint32)t_max) : 0;
        gint64 b = i ? g_test_rand_int_range(0, (gint32)t_max) : 0;
        archive_query q = {.start_us = MIN(a, b), .end_us = MAX(a, b)};
        guint64 count = G_MAXUINT64;

        if (i % 4 == 1)
            q.start_us = 0;
        if (i % 4 == 2)
            q.end_us = 0;
        g_assert_cmpint(query(f, group, &q, NULL, NULL, &count), ==, 0);
        if (count != walk_count(f, group, top, q.start_us, q.end_us))
            g_test_message("start %" G_GINT64_FORMAT " end %" G_GINT64_FORMAT,
                           q.start_us, q.end_us);
        g_assert_cmpuint(count, ==,
                         walk_count(f, group, top, q.start_us, q.end_us));
    }
}

/* 300 messages of "lobby" from senders s0..s4 in turn, at 1000, 1010, ...;
 * neighbours "lobb" and "lobby2" around it. */
static void fill_senders(fixture *f, guint n, guint first, const char *only)
{
    for (guint i = first; i < first + n; i++) {
        char *jid = g_strdup_printf("s%u", i % 5);

        say(f, "lobby", "n", "x", 1000 + (gint64)i * 10, only ? only : jid);
        g_free(jid);
    }
}

static guint gap_runs(fixture *f)
{
    MDB_txn *txn;
    MDB_stat st;

    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    g_assert_cmpint(mdb_stat(txn, store_dbi(f->s, STORE_DB_ARCHIVE_GAPS), &st),
                    ==, 0);
    store_read_end(txn);
    return (guint)st.ms_entries;
}

static void the_count_matches_a_walk_after_erasures_sweeps_and_new_messages(
    fixture *f, gconstpointer data)
{
    const gint64 t_max = 1000 + 340 * 10;
    guint removed = 0;

    fill(f, "lobb", 10, 1000, 10);
    fill_senders(f, 300, 0, NULL);
    fill(f, "lobby2", 20, 1000, 10);
    assert_counts(f, "lobby", 300, t_max);
    g_assert_cmpuint(gap_runs(f), ==, 0);
    /* Every fifth message gone: 60 one-seq gaps (s1 said the 2nd, 7th...). */
    g_assert_cmpint(archive_forget_sender(f->s, "s1", 0, &removed, NULL), ==,
                    0);
    g_assert_cmpuint(removed, ==, 60);
    g_assert_cmpuint(gap_runs(f), ==, 60);
    assert_counts(f, "lobby", 300, t_max);
    /* Retention from the front drops the gaps below the new first. */
    g_assert_cmpint(
        archive_sweep(f->s, "lobby", 1000 + 100 * 10, 0, &removed, NULL), ==,
        0);
    g_assert_cmpuint(gap_runs(f), ==, 40);
    assert_counts(f, "lobby", 300, t_max);
    /* s4 said the newest: its seqs go, the last becomes a gap before what
     * comes next. s2 and s3 next to each other: runs join. */
    g_assert_cmpint(archive_forget_sender(f->s, "s4", 0, &removed, NULL), ==,
                    0);
    fill_senders(f, 20, 300, "s1");
    assert_counts(f, "lobby", 320, t_max);
    g_assert_cmpint(archive_forget_sender(f->s, "s2", 0, &removed, NULL), ==,
                    0);
    g_assert_cmpint(archive_forget_sender(f->s, "s3", 0, &removed, NULL), ==,
                    0);
    assert_counts(f, "lobby", 320, t_max);
    /* s0 and s2..s4 gone in 100..299: one run between each s0 pair. */
    g_assert_cmpint(archive_forget_sender(f->s, "s0", 0, &removed, NULL), ==,
                    0);
    assert_counts(f, "lobby", 320, t_max);
    g_assert_cmpuint(gap_runs(f), ==, 0); /* only s1's 20 new ones, in a row */
    /* Everything deleted: no gap left; numbering and counting go on. */
    g_assert_cmpint(archive_sweep(f->s, "lobby", G_MAXINT64, 0, &removed, NULL),
                    ==, 0);
    g_assert_cmpuint(gap_runs(f), ==, 0);
    assert_counts(f, "lobby", 320, t_max);
    fill_senders(f, 5, 330, NULL);
    assert_counts(f, "lobby", 330, t_max);
    assert_counts(f, "lobby2", 20, t_max);
    assert_counts(f, "lobb", 10, t_max);
}

static void the_high_water_mark_never_goes_down_when_older_messages_go_later(
    fixture *f, gconstpointer data)
{
    guint removed = 0;

    g_assert_cmpuint(say(f, "m", "n", "x", 100, "a"), ==, 1);
    g_assert_cmpuint(say(f, "m", "n", "x", 100, "b"), ==, 2);
    g_assert_cmpint(archive_forget_sender(f->s, "b", 0, &removed, NULL), ==, 0);
    g_assert_cmpint(archive_forget_sender(f->s, "a", 0, &removed, NULL), ==, 0);
    /* 2 was handed out: never again. */
    g_assert_cmpuint(say(f, "m", "n", "x", 100, "c"), ==, 3);
}

static int list_seq(const archive_msg *m, void *userdata)
{
    g_string_append_printf(userdata, "%" G_GUINT64_FORMAT " ", m->seq);
    return m->seq == 7 ? 1 : 0; /* a positive value stops the walk */
}

static void a_walk_after_a_seq_skips_what_retention_deleted_and_the_head_stays(
    fixture *f, gconstpointer data)
{
    GString *seen = g_string_new(NULL);
    guint removed = 0;
    guint64 head = 0;
    MDB_txn *txn = NULL;

    for (int i = 1; i <= 6; i++)
        say(f, "w", "n", "x", i * 100, i == 2 || i == 3 ? "gone" : "kept");
    say(f, "v", "n", "x", 100, "kept");
    g_assert_cmpint(archive_forget_sender(f->s, "gone", 0, &removed, NULL), ==,
                    0);
    g_assert_cmpint(archive_forget_sender(f->s, "kept", 0, &removed, NULL), ==,
                    0);
    say(f, "w", "n", "x", 700, "a");
    say(f, "w", "n", "x", 800, "a");
    g_assert_cmpint(store_read_begin(f->s, &txn, NULL), ==, 0);
    /* a cursor at 1, behind deleted 2..6: it goes on with 7 */
    g_assert_cmpint(archive_foreach_after(txn, f->s, "w", 1, list_seq, seen),
                    ==, 0);
    g_assert_cmpint(archive_head(txn, f->s, "w", &head), ==, 0);
    g_assert_cmpuint(head, ==, 8);
    g_assert_cmpint(archive_head(txn, f->s, "v", &head), ==, 0);
    g_assert_cmpuint(head, ==, 1); /* every message gone, the mark stays */
    g_assert_cmpint(archive_head(txn, f->s, "none", &head), ==, 0);
    g_assert_cmpuint(head, ==, 0);
    g_assert_cmpint(archive_head(txn, f->s, "", &head), ==, -EINVAL);
    store_read_end(txn);
    g_assert_cmpstr(seen->str, ==, "7 ");
    g_string_free(seen, TRUE);
}

/* Makes the store look like one of schema version 1: no gap index. */
static int downgrade_txn(MDB_txn *txn, const store *s, void *userdata)
{
    int rc = mdb_drop(txn, store_dbi(s, STORE_DB_ARCHIVE_GAPS), 0);

    (void)userdata;
    if (rc == 0)
        rc = store_put_variant(txn, store_dbi(s, STORE_DB_META),
                               "schema_version", strlen("schema_version"),
                               g_variant_new("(qu)", (guint16)1, (guint32)1));
    return rc;
}

static void
a_store_of_schema_version_1_gets_its_gap_index_when_opened(fixture *f,
                                                           gconstpointer data)
{
    const gint64 t_max = 1000 + 340 * 10;
    guint64 count = 0;
    guint removed = 0;

    fill_senders(f, 300, 0, NULL);
    fill(f, "lobby2", 20, 1000, 10);
    g_assert_cmpint(archive_forget_sender(f->s, "s1", 0, &removed, NULL), ==,
                    0);
    g_assert_cmpint(archive_forget_sender(f->s, "s4", 0, &removed, NULL), ==,
                    0);
    g_assert_cmpint(archive_forget_sender(f->s, "s3", 0, &removed, NULL), ==,
                    0);
    g_assert_cmpint(store_write(f->s, downgrade_txn, NULL, NULL), ==, 0);
    /* Without its index the count is wrong: the index is what counts. */
    g_assert_cmpint(query(f, "lobby", &(archive_query){0}, NULL, NULL, &count),
                    ==, 0);
    g_assert_cmpuint(count, ==, 298); /* seqs 1 to 298, as if dense */
    g_assert_cmpuint(walk_count(f, "lobby", 300, 0, 0), ==, 120);
    testutil_store_reopen(f);
    g_assert_cmpuint(store_schema_version(f->s), ==, STORE_SCHEMA_VERSION);
    /* s1's seqs alone, s3's and s4's together (the last of them past the
     * last message, up to the high-water mark). */
    g_assert_cmpuint(gap_runs(f), ==, 120);
    assert_counts(f, "lobby", 300, t_max);
    /* The newest (s4's, seq 300) was deleted: the next is 301. */
    g_assert_cmpuint(say(f, "lobby", "n", "x", 5000, "s0"), ==, 301);
    assert_counts(f, "lobby", 301, 6000);
    assert_counts(f, "lobby2", 20, t_max);
}

int main(int argc, char **argv)
{
    static const testutil_store_case tests[] = {
#define T(name) {"/archive/" #name, name}
        T(append_assigns_seqs_one_two_three_and_distinct_stanza_ids),
        T(a_stanza_id_is_sixteen_hex_digits_of_seq_then_eight_random_ones),
        T(reopening_the_store_keeps_the_messages_and_numbering_goes_on),
        T(every_field_round_trips_and_absent_ones_stay_null),
        T(a_whole_message_round_trips_and_a_tombstone_replaces_it),
        T(a_record_is_the_bytes_of_its_schema_type),
        T(a_time_of_zero_is_now_and_an_earlier_time_is_raised_to_the_last),
        T(append_refuses_what_it_cannot_key_or_store),
        T(paging_forward_with_after_id_gives_50_50_20_complete_only_on_the_last),
        T(before_last_gives_the_last_page_and_before_id_pages_backwards),
        T(start_and_end_filter_by_time_inclusively),
        T(time_filters_agree_with_a_linear_scan),
        T(unknown_forged_or_deleted_ids_are_item_not_found),
        T(max_defaults_to_50_and_is_capped_at_250),
        T(count_alone_needs_no_page_and_an_empty_group_is_complete),
        T(history_leaves_out_what_the_measure_skips_and_stops_after_a_long_run_of_them),
        T(looking_back_gives_the_newest_first_and_at_most_the_limit),
        T(history_is_limited_by_maxstanzas_maxchars_and_since),
        T(groups_a_and_ab_are_separate),
        T(sweep_removes_only_old_messages_over_several_batches),
        T(sweep_of_every_group_keeps_each_groups_newer_messages),
        T(numbering_goes_on_after_the_newest_messages_are_deleted),
        T(forget_sender_removes_only_that_senders_messages),
        T(a_full_map_refuses_an_append_and_takes_no_seq_id_or_count),
        T(missing_or_odd_dictionary_fields_decode_to_null),
        T(a_corrupt_record_is_reported_and_skipped_not_a_crash),
        T(the_count_matches_a_walk_after_erasures_sweeps_and_new_messages),
        T(a_store_of_schema_version_1_gets_its_gap_index_when_opened),
        T(the_high_water_mark_never_goes_down_when_older_messages_go_later),
        T(a_walk_after_a_seq_skips_what_retention_deleted_and_the_head_stays),
#undef T
    };

    g_test_init(&argc, &argv, NULL);
    testutil_store_add(tests, G_N_ELEMENTS(tests));
    return g_test_run();
}
