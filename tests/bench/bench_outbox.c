/* bench_outbox: LMDB bytes written per message said in a group with N
 * legacy members (default 1 000): the version-2 fan-out (one outbox entry
 * per member, as it was, measured by running it) beside today's (the
 * message archived once; each member's cursor moves when its delivery is
 * confirmed). Bytes are what reaches mdb_put / mdb_cursor_put (key + value),
 * counted by wrapping them at link time. Prints figures; never fails.
 *
 *     ninja -C build tests/bench/bench_outbox && build/tests/bench/bench_outbox [N] [MESSAGES]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "members.h"
#include "outbox.h"
#include "store.h"

static guint64 put_bytes, put_calls;

int __real_mdb_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data,
                   unsigned int flags);
int __real_mdb_cursor_put(MDB_cursor *cur, MDB_val *key, MDB_val *data,
                          unsigned int flags);

int __wrap_mdb_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data,
                   unsigned int flags)
{
    put_bytes += key->mv_size + data->mv_size;
    put_calls++;
    return __real_mdb_put(txn, dbi, key, data, flags);
}

int __wrap_mdb_cursor_put(MDB_cursor *cur, MDB_val *key, MDB_val *data,
                          unsigned int flags)
{
    put_bytes += key->mv_size + data->mv_size;
    put_calls++;
    return __real_mdb_cursor_put(cur, key, data, flags);
}

#define GROUP   "lobby"
#define ACCOUNT "lobby-msn"
#define BODY    "a line of about the length people say things in a group"

static guint members = 1000;

static int members_txn(MDB_txn *txn, const store *s, void *userdata)
{
    for (guint i = 0; i < members; i++) {
        char handle[64];
        member_rec m = {0};
        int rc;

        g_snprintf(handle, sizeof handle, "member%04u@hotmail.example", i);
        m.account = ACCOUNT;
        m.handle = handle;
        m.group = GROUP;
        m.nick = handle;
        m.welcomed = TRUE;
        rc = members_put(txn, s, &m);
        if (rc == 0)
            rc = outbox_cursor_start(txn, s, ACCOUNT, OUTBOX_KIND_IM, handle,
                                     GROUP);
        if (rc != 0)
            return rc;
    }
    return 0;
}

typedef struct said {
    MDB_txn *txn;
    const store *s;
    const archive_msg *msg;
} said;

/* Version 2's hook: one full copy per member not muted and not the
 * sender. */
static int fan_out_member(const member_rec *m, void *userdata)
{
    said *sd = userdata;
    outbox_msg o = {0};

    o.account = m->account;
    o.kind = OUTBOX_KIND_IM;
    o.target = m->handle;
    o.group = m->group;
    o.archive_seq = sd->msg->seq;
    o.time_us = sd->msg->time_us;
    o.nick = sd->msg->nick;
    o.body = sd->msg->body;
    return outbox_add(sd->txn, sd->s, &o);
}

static int say_txn(MDB_txn *txn, const store *s, void *userdata)
{
    gboolean fan_out = GPOINTER_TO_INT(userdata);
    archive_msg m = {0};
    said sd = {txn, s, &m};
    int rc;

    m.nick = "alice";
    m.body = BODY;
    m.sender_jid = "alice@example.org";
    m.occupant_id = "0123456789abcdef0123456789abcdef";
    rc = archive_append(txn, s, GROUP, &m);
    if (rc == 0 && fan_out)
        rc = members_foreach_group(txn, s, GROUP, fan_out_member, &sd);
    g_free(m.stanza_id);
    return rc;
}

static int confirm_txn(MDB_txn *txn, const store *s, void *userdata)
{
    char handle[64];

    g_snprintf(handle, sizeof handle, "member%04u@hotmail.example",
               GPOINTER_TO_UINT(userdata));
    return outbox_cursor_advance(txn, s, ACCOUNT, OUTBOX_KIND_IM, handle,
                                 G_MAXUINT32);
}

static store *fresh_store(char **dir)
{
    GError *err = NULL;
    store *s = NULL;

    *dir = g_dir_make_tmp("bench-outbox-XXXXXX", &err);
    if (!*dir || store_open(*dir, 0, &s, &err) < 0 ||
        store_write(s, members_txn, NULL, &err) < 0) {
        fprintf(stderr, "bench_outbox: %s\n", err ? err->message : "failed");
        exit(1);
    }
    return s;
}

static void drop_store(store *s, char *dir)
{
    char *cmd = g_strdup_printf("rm -rf '%s'", dir);

    store_close(s);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_outbox: could not remove %s\n", dir);
    g_free(cmd);
    g_free(dir);
}

/* Bytes and puts per message of n messages said. */
static void measure(gboolean fan_out, guint n, double *bytes, double *puts)
{
    char *dir;
    store *s = fresh_store(&dir);
    GError *err = NULL;

    put_bytes = put_calls = 0;
    for (guint i = 0; i < n; i++)
        if (store_write(s, say_txn, GINT_TO_POINTER(fan_out), &err) < 0) {
            fprintf(stderr, "bench_outbox: %s\n", err->message);
            exit(1);
        }
    *bytes = (double)put_bytes / n;
    *puts = (double)put_calls / n;
    drop_store(s, dir);
}

int main(int argc, char **argv)
{
    guint n = argc > 2 ? (guint)atoi(argv[2]) : 20;
    double before_b, before_p, after_b, after_p;
    char *dir;
    store *s;

    if (argc > 1)
        members = (guint)atoi(argv[1]);
    if (members == 0 || n == 0) {
        fprintf(stderr, "usage: bench_outbox [MEMBERS] [MESSAGES]\n");
        return 2;
    }
    measure(TRUE, n, &before_b, &before_p);
    measure(FALSE, n, &after_b, &after_p);
    printf("# bench_outbox: %u legacy members, %u messages, bytes put "
           "(key + value) per message said\n",
           members, n);
    printf("schema 2 fan-out (one entry per member, run here): %10.0f bytes "
           "%7.1f puts\n",
           before_b, before_p);
    printf("schema 3 by reference (archive record only):        %10.0f bytes "
           "%7.1f puts\n",
           after_b, after_p);
    /* a confirmation: one cursor write */
    s = fresh_store(&dir);
    put_bytes = put_calls = 0;
    for (guint i = 0; i < members; i++)
        store_write(s, confirm_txn, GUINT_TO_POINTER(i), NULL);
    printf("schema 3 per confirmation (the cursor):             %10.0f bytes "
           "%7.1f puts\n",
           (double)put_bytes / members, (double)put_calls / members);
    drop_store(s, dir);
    return 0;
}
