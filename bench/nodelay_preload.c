/*
 * nodelay_preload.c -- LD_PRELOAD shim for the benchmark's TCP_NODELAY
 * experiment: every TCP socket that accept(2)/accept4(2) returns in the
 * process gets TCP_NODELAY, as if the module set it on RTMP connections.
 *
 *     cc -O2 -shared -fPIC -o build/bench-nodelay.so bench/nodelay_preload.c -ldl
 *     LD_PRELOAD=build/bench-nodelay.so nginx ...
 *
 * nginx's workers are forked from the master, so they keep the shim.
 *
 * With BENCH_QUICKACK=1 in nginx's environment, every recv(2) on a TCP
 * socket also re-arms TCP_QUICKACK (the kernel clears it by itself), so
 * the server ACKs at once: a client that does not set TCP_NODELAY (ffmpeg)
 * then does not wait on its own Nagle + the server's delayed ACK.
 *
 * With BENCH_BACKLOG=N, every listen(2) asks for a queue of N instead
 * (what compliance_listen_backlog does with the module): the storm
 * section gives plain nginx-rtmp the same queue as the module.  With
 * BENCH_NODELAY=0 accepted sockets are left alone.
 */

#define _GNU_SOURCE

#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>


static int  quickack = -1;
static int  backlog = -1;
static int  nodelay_on = 1;


static void
nodelay(int fd)
{
    int              one = 1, type = 0;
    socklen_t        len = sizeof(type);
    struct sockaddr_storage  ss;
    socklen_t        sl = sizeof(ss);

    if (fd < 0 || !nodelay_on
        || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0
        || type != SOCK_STREAM
        || getsockname(fd, (struct sockaddr *) &ss, &sl) != 0
        || (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
    {
        return;
    }

    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}


int
accept4(int s, struct sockaddr *addr, socklen_t *len, int flags)
{
    static int (*real)(int, struct sockaddr *, socklen_t *, int);
    int fd;

    if (real == NULL) {
        real = (int (*)(int, struct sockaddr *, socklen_t *, int))
               dlsym(RTLD_NEXT, "accept4");
    }

    fd = real(s, addr, len, flags);
    nodelay(fd);
    return fd;
}


int
accept(int s, struct sockaddr *addr, socklen_t *len)
{
    static int (*real)(int, struct sockaddr *, socklen_t *);
    int fd;

    if (real == NULL) {
        real = (int (*)(int, struct sockaddr *, socklen_t *))
               dlsym(RTLD_NEXT, "accept");
    }

    fd = real(s, addr, len);
    nodelay(fd);
    return fd;
}


/* at load time: nginx workers get a cleaned environment */

__attribute__((constructor)) static void
init(void)
{
    const char *v = getenv("BENCH_QUICKACK");

    quickack = v && v[0] == '1';

    v = getenv("BENCH_BACKLOG");
    backlog = v ? atoi(v) : -1;

    v = getenv("BENCH_NODELAY");
    nodelay_on = !(v && v[0] == '0');
}


int
listen(int s, int n)
{
    static int (*real)(int, int);

    if (real == NULL) {
        real = (int (*)(int, int)) dlsym(RTLD_NEXT, "listen");
    }

    return real(s, backlog > 0 ? backlog : n);
}


ssize_t
recv(int s, void *buf, size_t len, int flags)
{
    static ssize_t (*real)(int, void *, size_t, int);
    ssize_t n;
    int     one = 1;

    if (real == NULL) {
        real = (ssize_t (*)(int, void *, size_t, int))
               dlsym(RTLD_NEXT, "recv");
    }

    n = real(s, buf, len, flags);

    if (quickack && n > 0) {
        /* fails harmlessly (ENOTSUP/EOPNOTSUPP) on anything but TCP */
        (void) setsockopt(s, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
    }

    return n;
}
