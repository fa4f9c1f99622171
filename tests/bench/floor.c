/* floor: the system-call floor of one paced message on this machine, with
 * no work at all between the calls: poll, recv, an LMDB-shaped commit (four
 * page pwrites and the meta page's, each followed by fdatasync with "sync",
 * without with "nosync", none with "nostore"), one send of ten deliveries'
 * worth of bytes; a child process plays the server, one message every
 * 10 ms. Prints the CPU per message from /proc/self/schedstat (ns).
 *
 *     cc -O2 -o /tmp/floor tests/bench/floor.c
 *     /tmp/floor FILE sync|nosync|nostore      (FILE: on the store's disk)
 */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long cpu_ns(void)
{
    long long ns = 0;
    FILE *f = fopen("/proc/self/schedstat", "r");

    if (!f || fscanf(f, "%lld", &ns) != 1)
        ns = 0;
    if (f)
        fclose(f);
    return ns;
}

int main(int argc, char **argv)
{
    int sync = argc > 2 && strcmp(argv[2], "sync") == 0, nostore = argc > 2 && strcmp(argv[2], "nostore") == 0;
    int sv[2], out[2], fd = open(argv[1], O_RDWR | O_CREAT, 0600);
    char page[4096], msg[300], fan[3000], buf[4096];
    long long t0, t1;
    int n = 1000;

    memset(page, 'x', sizeof page); memset(msg, 'm', sizeof msg); memset(fan, 'f', sizeof fan);
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    socketpair(AF_UNIX, SOCK_STREAM, 0, out);
    if (fork() == 0) { /* the "server": one message every 10 ms, drains the fan-out */
        for (int i = 0; i < n; i++) {
            struct timespec ts = {0, 10000000};
            nanosleep(&ts, NULL);
            write(sv[1], msg, sizeof msg);
            read(out[1], buf, sizeof buf);
        }
        _exit(0);
    }
    t0 = cpu_ns();
    for (int i = 0; i < n; i++) {
        struct pollfd p = {sv[0], POLLIN, 0};
        poll(&p, 1, -1);
        recv(sv[0], buf, sizeof buf, 0);
        if (!nostore) for (int k = 0; k < 4; k++)
            pwrite(fd, page, sizeof page, (off_t)((i * 4 + k) % 256) * 4096);
        if (sync) fdatasync(fd);
        if (!nostore) pwrite(fd, page, 64, 0);
        if (sync) fdatasync(fd);
        send(out[0], fan, sizeof fan, 0);
    }
    t1 = cpu_ns();
    printf("%s: %.1f us of CPU per message (system calls only, no work)\n",
           nostore ? "no store" : sync ? "synced" : "unsynced",
           (t1 - t0) / 1000.0 / n);
    return 0;
}
