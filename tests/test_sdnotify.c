/* Tests for sdnotify: what reaches a NOTIFY_SOCKET bound here, as systemd
 * would bind it, and the watchdog's pings from the main loop. */
#include "sdnotify.h"

#include <errno.h>
#include <glib-unix.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "testutil.h"

typedef struct fixture {
    char *dir;
    int fd; /* the bound datagram socket */
} fixture;

static void setup(fixture *f, gconstpointer data)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};

    f->dir = g_dir_make_tmp("imgroups-sdnotify-XXXXXX", NULL);
    g_assert_nonnull(f->dir);
    g_snprintf(sa.sun_path, sizeof sa.sun_path, "%s/notify", f->dir);
    f->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(f->fd, >=, 0);
    g_assert_cmpint(bind(f->fd, (struct sockaddr *)&sa, sizeof sa), ==, 0);
    g_setenv("NOTIFY_SOCKET", sa.sun_path, TRUE);
    g_unsetenv("WATCHDOG_USEC");
    g_unsetenv("WATCHDOG_PID");
}

static void teardown(fixture *f, gconstpointer data)
{
    g_unsetenv("NOTIFY_SOCKET");
    g_unsetenv("WATCHDOG_USEC");
    g_unsetenv("WATCHDOG_PID");
    close(f->fd);
    testutil_rm_rf(f->dir);
    g_free(f->dir);
}

/* The next datagram, or NULL when none is waiting. The caller frees. */
static char *next_datagram(fixture *f)
{
    char buf[4096];
    ssize_t n = recv(f->fd, buf, sizeof buf, MSG_DONTWAIT);

    if (n < 0) {
        g_assert_cmpint(errno, ==, EAGAIN);
        return NULL;
    }
    return g_strndup(buf, (gsize)n);
}

/* Without libsystemd at build time every call is a no-op. */
static gboolean skipped(void)
{
#ifdef IMGROUPS_SYSTEMD
    return FALSE;
#else
    g_test_skip("built without libsystemd");
    return TRUE;
#endif
}

static void nothing_is_sent_without_NOTIFY_SOCKET(fixture *f,
                                                  gconstpointer data)
{
    guint wd = 1;

    g_unsetenv("NOTIFY_SOCKET");
    g_setenv("WATCHDOG_USEC", "1000000", TRUE);
    g_assert_cmpint(sdnotify_ready("x"), ==, 0);
    g_assert_cmpint(sdnotify_status("y"), ==, 0);
    g_assert_cmpint(sdnotify_stopping(), ==, 0);
    g_assert_cmpint(sdnotify_watchdog_start(&wd), ==, 0);
    if (wd)
        g_source_remove(wd); /* a watchdog without a socket is harmless */
    g_assert_null(next_datagram(f));
}

static void ready_says_READY_and_its_status_in_one_datagram(fixture *f,
                                                            gconstpointer data)
{
    char *got;

    if (skipped())
        return;
    g_assert_cmpint(
        sdnotify_ready("store open; connecting to %s:%u", "127.0.0.1", 5347u),
        ==, 0);
    got = next_datagram(f);
    g_assert_cmpstr(got, ==,
                    "READY=1\nSTATUS=store open; connecting to 127.0.0.1:5347");
    g_free(got);
    g_assert_null(next_datagram(f));
}

static void a_status_is_one_line_of_at_most_1_KiB(fixture *f,
                                                  gconstpointer data)
{
    char *long_text = g_strnfill(2000, 'a');
    char *got;

    if (skipped()) {
        g_free(long_text);
        return;
    }
    /* a newline would start an assignment of its own */
    g_assert_cmpint(sdnotify_status("link down\nREADY=1"), ==, 0);
    got = next_datagram(f);
    g_assert_cmpstr(got, ==, "STATUS=link down READY=1");
    g_free(got);
    g_assert_cmpint(sdnotify_status("%s", long_text), ==, 0);
    got = next_datagram(f);
    g_assert_cmpuint(strlen(got), ==, strlen("STATUS=") + 1024);
    g_free(got);
    g_free(long_text);
}

static void stopping_says_STOPPING(fixture *f, gconstpointer data)
{
    char *got;

    if (skipped())
        return;
    g_assert_cmpint(sdnotify_stopping(), ==, 0);
    got = next_datagram(f);
    g_assert_cmpstr(got, ==, "STOPPING=1\nSTATUS=stopping");
    g_free(got);
}

typedef struct pings {
    fixture *f;
    int count;
    GMainLoop *loop;
} pings;

static gboolean on_datagram(gint fd, GIOCondition cond, gpointer userdata)
{
    pings *p = userdata;
    char *got;

    while ((got = next_datagram(p->f))) {
        g_assert_cmpstr(got, ==, "WATCHDOG=1");
        g_free(got);
        if (++p->count == 3)
            g_main_loop_quit(p->loop);
    }
    return G_SOURCE_CONTINUE;
}

static gboolean on_too_late(gpointer userdata)
{
    g_assert_not_reached();
    return G_SOURCE_REMOVE;
}

static void the_watchdog_pings_from_the_main_loop(fixture *f,
                                                  gconstpointer data)
{
    pings p = {f, 0, g_main_loop_new(NULL, FALSE)};
    guint wd = 0, watch, guard;

    if (skipped()) {
        g_main_loop_unref(p.loop);
        return;
    }
    /* 20 ms asked for: a ping now, then every 10 ms */
    g_setenv("WATCHDOG_USEC", "20000", TRUE);
    g_assert_cmpint(sdnotify_watchdog_start(&wd), ==, 0);
    g_assert_cmpuint(wd, !=, 0);
    watch = g_unix_fd_add(f->fd, G_IO_IN, on_datagram, &p);
    guard = g_timeout_add_seconds(10, on_too_late, NULL);
    g_main_loop_run(p.loop);
    g_assert_cmpint(p.count, ==, 3);
    g_source_remove(guard);
    g_source_remove(watch);
    g_source_remove(wd);
    g_main_loop_unref(p.loop);
}

static void no_watchdog_when_it_watches_another_process(fixture *f,
                                                        gconstpointer data)
{
    guint wd = 1;

    if (skipped())
        return;
    g_setenv("WATCHDOG_USEC", "20000", TRUE);
    g_setenv("WATCHDOG_PID", "1", TRUE);
    g_assert_cmpint(sdnotify_watchdog_start(&wd), ==, 0);
    g_assert_cmpuint(wd, ==, 0);
    g_assert_null(next_datagram(f));
}

static void a_bad_WATCHDOG_USEC_is_an_error_and_no_watchdog(fixture *f,
                                                            gconstpointer data)
{
    guint wd = 1;

    if (skipped())
        return;
    g_setenv("WATCHDOG_USEC", "soon", TRUE);
    g_assert_cmpint(sdnotify_watchdog_start(&wd), <, 0);
    g_assert_cmpuint(wd, ==, 0);
    g_assert_null(next_datagram(f));
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*fn)(fixture *, gconstpointer);
    } cases[] = {
        {"nothing_is_sent_without_NOTIFY_SOCKET",
         nothing_is_sent_without_NOTIFY_SOCKET},
        {"ready_says_READY_and_its_status_in_one_datagram",
         ready_says_READY_and_its_status_in_one_datagram},
        {"a_status_is_one_line_of_at_most_1_KiB",
         a_status_is_one_line_of_at_most_1_KiB},
        {"stopping_says_STOPPING", stopping_says_STOPPING},
        {"the_watchdog_pings_from_the_main_loop",
         the_watchdog_pings_from_the_main_loop},
        {"no_watchdog_when_it_watches_another_process",
         no_watchdog_when_it_watches_another_process},
        {"a_bad_WATCHDOG_USEC_is_an_error_and_no_watchdog",
         a_bad_WATCHDOG_USEC_is_an_error_and_no_watchdog},
    };

    g_test_init(&argc, &argv, NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *path = g_strconcat("/sdnotify/", cases[i].name, NULL);

        g_test_add(path, fixture, NULL, setup, cases[i].fn, teardown);
        g_free(path);
    }
    return g_test_run();
}
