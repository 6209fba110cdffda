/*
 * bench/dhcp_rcvbuf.c — an LD_PRELOAD shim for bench/dhcp.sh: every UDP socket perfdhcp opens
 * gets an 8 MiB receive buffer (SO_RCVBUFFORCE; the bench runs as root).
 *
 * Why: perfdhcp reads its replies with the kernel's default buffer (net.core.rmem_default,
 * about 200 KB: a few hundred DHCP replies), and that setting cannot be raised inside the
 * bench's network namespace without changing it for the whole machine. A server that sends
 * its ACKs in groups (Pigeon ACKs a group of leases once their COMMIT's fsync has returned,
 * and on a disk shared with other work that can take a few hundred milliseconds) overflows
 * it, and perfdhcp counts the replies its own socket dropped as the server's losses. The
 * bench says how many replies each run lost that way (the client namespace's
 * UdpRcvbufErrors), with and without this shim (CLIENT_RCVBUF=0).
 *
 * Built by bench/dhcp.sh: cc -O2 -shared -fPIC -o dhcp_rcvbuf.so bench/dhcp_rcvbuf.c -ldl
 */
#include <dlfcn.h>
#include <sys/socket.h>

int socket(int domain, int type, int protocol)
{
    static int (*real_socket)(int, int, int);
    if (!real_socket)
        real_socket = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");
    int fd = real_socket(domain, type, protocol);
    if (fd >= 0 && (type & 0xf) == SOCK_DGRAM) {
        int size = 8 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
    }
    return fd;
}
