/* nodelay: an LD_PRELOAD shim for one experiment of the benchmark
 * (run.py --nodelay): every TCP socket the process connects gets
 * TCP_NODELAY, to show how much of imgroups' latency is Nagle's algorithm
 * holding back the stanzas it writes one by one. Not used otherwise. */
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    static connect_fn real;
    int one = 1;

    if (!real)
        real = (connect_fn)dlsym(RTLD_NEXT, "connect");
    if (addr->sa_family == AF_INET || addr->sa_family == AF_INET6)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return real(fd, addr, len);
}
