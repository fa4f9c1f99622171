/* bench_create: the time to create N groups one after another, each by its
 * own user, as the MUC engine does it on a join that creates a room: the
 * groups-per-user check ([limits] max_rooms, muc_may_create) and then the
 * creation's write (muc_room_create). Each N (default 1 000, 5 000 and
 * 10 000; or the numbers given) starts from an empty store under $TMPDIR
 * (/dev/shm when unset, so that the figures are CPU and not the disk's
 * syncs). Prints figures; never fails.
 *
 *     ninja -C build tests/bench/bench_create && build/tests/bench/bench_create
 * [N...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muc_int.h"

static gint64 now_us(void)
{
    return g_get_monotonic_time();
}

static void run(guint n)
{
    config cfg = {0};
    GError *err = NULL;
    store *st = NULL;
    muc *m = NULL;
    gint64 t0, check_us = 0, create_us = 0;
    char *cmd, *dir = g_dir_make_tmp("bench-create-XXXXXX", &err);

    cfg.jid = "groups.example.org";
    cfg.room_creation = CONFIG_ROOMS_ANYONE;
    cfg.max_rooms = 10;
    if (!dir || store_open(dir, 0, &st, &err) < 0 ||
        muc_new(&cfg, st, &m, &err) < 0) {
        fprintf(stderr, "bench_create: %s\n", err ? err->message : "failed");
        exit(1);
    }
    for (guint i = 0; i < n; i++) {
        char owner[64], name[32];
        const char *why = NULL;

        g_snprintf(owner, sizeof owner, "user%05u@example.org", i);
        g_snprintf(name, sizeof name, "room%05u", i);
        t0 = now_us();
        if (!muc_may_create(m, owner, &why)) {
            fprintf(stderr, "bench_create: %s refused: %s\n", owner, why);
            exit(1);
        }
        check_us += now_us() - t0;
        t0 = now_us();
        if (!muc_room_create(m, name, owner)) {
            fprintf(stderr, "bench_create: %s not created\n", name);
            exit(1);
        }
        create_us += now_us() - t0;
    }
    printf("%6u groups: %8.3f s in all, %8.3f s checking the limit "
           "(%7.1f us per group), %8.3f s writing\n",
           n, (check_us + create_us) / 1e6, check_us / 1e6,
           (double)check_us / n, create_us / 1e6);
    muc_free(m);
    store_close(st);
    cmd = g_strdup_printf("rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_create: cannot remove %s\n", dir);
    g_free(cmd);
    g_free(dir);
}

int main(int argc, char **argv)
{
    static const guint sizes[] = {1000, 5000, 10000};

    if (!g_getenv("TMPDIR"))
        g_setenv("TMPDIR", "/dev/shm", TRUE);
    if (argc > 1)
        for (int i = 1; i < argc; i++)
            run((guint)strtoul(argv[i], NULL, 10));
    else
        for (gsize i = 0; i < G_N_ELEMENTS(sizes); i++)
            run(sizes[i]);
    return 0;
}
