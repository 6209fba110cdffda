/*
 * ftp service, data — where a transfer's data connection comes from.
 *
 * Passive (PASV/EPSV): a listening socket on the address the client reached the control
 * connection at (on a wildcard listener too: getsockname), on a port of [ftp] pasv_ports
 * (or one the kernel picks), announced as pasv_address (behind NAT) or that address. Only a
 * connection from the control connection's own client address is taken; any other is
 * closed and logged (no data-channel theft), and the listener keeps waiting. One connection
 * per PASV; the listener closes once it is taken, or after data_timeout.
 *
 * Active (PORT/EPRT): the engine has already checked the target is the client itself on a
 * port >= 1024 (RFC 2577); the connection is made, non-blocking, when the transfer starts.
 */
#include "ftp/service/service_int.h"

#include "host/host.h"

#include "core/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

static void close_listener(struct ftp_conn *fc)
{
    if (fc->pasv_ev)
        event_free(fc->pasv_ev);
    fc->pasv_ev = NULL;
    if (fc->pasv_fd >= 0)
        close(fc->pasv_fd);
    fc->pasv_fd = -1;
}

void ftp_data_reset(struct ftp_conn *fc)
{
    close_listener(fc);
    if (fc->data_fd >= 0)
        close(fc->data_fd);
    fc->data_fd = -1;
    fc->have_active = false;
}

static struct timeval data_timeout(const struct ftp_conn *fc)
{
    return (struct timeval){(time_t)fc->set->cfg->data_timeout, 0};
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
    struct ftp_conn *fc = arg;
    if (what & EV_TIMEOUT) {
        close_listener(fc);
        if (fc->run)
            return ftp_xfer_fail(fc, FTP_XFER_NOCONN);
        return;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    char from[INET6_ADDRSTRLEN];
    conn_addr_text((const struct sockaddr *)&ss, from, sizeof from);
    if (strcmp(from, fc->peer) != 0) {
        log_warn("ftp " LOG_ID " data connection from %s refused: the session is %s's",
                 LOG_IDV(fc->id), from, fc->peer);
        close(fd);
        return;
    }
    close_listener(fc);
    if (fc->run)
        return ftp_xfer_connected(fc, fd);
    fc->data_fd = fd; /* the client connects before it sends RETR/STOR/LIST */
}

/* Binds fd to host:port (host "" or a wildcard: any address). */
static int bind_to(int fd, int family, const char *host, unsigned port)
{
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
            a->sin6_addr = in6addr_any;
        len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
            a->sin_addr.s_addr = htonl(INADDR_ANY);
        len = sizeof *a;
    }
    return bind(fd, (struct sockaddr *)&ss, len);
}

/* A listening socket on a port of the range, starting at a random one. */
static int listen_in_range(struct ftp_conn *fc, int family, const char *host, unsigned *port_out)
{
    const struct config_ftp *cfg = fc->set->cfg;
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    unsigned span = cfg->pasv_max ? cfg->pasv_max - cfg->pasv_min + 1 : 1;
    unsigned start = 0;
    if (getrandom(&start, sizeof start, GRND_NONBLOCK) != sizeof start)
        start = (unsigned)fc->id;
    bool bound = false;
    for (unsigned i = 0; i < span && !bound; i++) {
        unsigned port = cfg->pasv_max ? cfg->pasv_min + (start + i) % span : 0;
        bound = bind_to(fd, family, host, port) == 0;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (!bound || listen(fd, 1) < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
        log_warn("ftp " LOG_ID " no passive port free: %s", LOG_IDV(fc->id), strerror(errno));
        close(fd);
        return -1;
    }
    *port_out = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                         : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

static bool wildcard(const char *host)
{
    return !host[0] || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0;
}

int ftp_data_passive(struct ftp_conn *fc, bool extended, struct ftp_hostport *out)
{
    ftp_data_reset(fc);
    const struct config_ftp *cfg = fc->set->cfg;
    /* A wildcard listener: bind in the client's family (an IPv4-mapped client is IPv4). */
    const char *host = fc->local;
    int family = strchr(wildcard(host) ? fc->peer : host, ':') ? AF_INET6 : AF_INET;
    if (wildcard(host))
        host = "";
    /* RFC 959 PASV announces an IPv4 address: pasv_address, or the listener's own. */
    const char *announce = cfg->pasv_address ? cfg->pasv_address : host;
    if (!extended && (family != AF_INET || !announce[0]))
        return -1;
    unsigned port;
    fc->pasv_fd = listen_in_range(fc, family, host, &port);
    if (fc->pasv_fd < 0)
        return -1;
    fc->pasv_ev = event_new(fc->w->host.base, fc->pasv_fd, EV_READ | EV_PERSIST, on_accept, fc);
    struct timeval tv = data_timeout(fc);
    event_add(fc->pasv_ev, &tv);
    out->family = family == AF_INET6 ? 6 : 4;
    snprintf(out->addr, sizeof out->addr, "%.47s", extended ? host : announce);
    out->port = (uint16_t)port;
    return 0;
}

void ftp_data_active(struct ftp_conn *fc, const struct ftp_hostport *to)
{
    ftp_data_reset(fc);
    fc->active = *to;
    fc->have_active = true;
}

static void on_connected(evutil_socket_t fd, short what, void *arg)
{
    struct ftp_conn *fc = arg;
    int err = 0;
    socklen_t len = sizeof err;
    if (!(what & EV_TIMEOUT) && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    event_free(fc->pasv_ev);
    fc->pasv_ev = NULL;
    fc->pasv_fd = -1;
    if ((what & EV_TIMEOUT) || err != 0) {
        log_info("ftp " LOG_ID " active connection to %s port %u failed: %s", LOG_IDV(fc->id),
                 fc->active.addr, (unsigned)fc->active.port,
                 (what & EV_TIMEOUT) ? "timeout" : strerror(err));
        close(fd);
        return ftp_xfer_fail(fc, FTP_XFER_NOCONN);
    }
    ftp_xfer_connected(fc, fd);
}

static void connect_active(struct ftp_conn *fc)
{
    struct sockaddr_storage ss = {0};
    socklen_t len;
    int family = fc->active.family == 6 ? AF_INET6 : AF_INET;
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(fc->active.port);
        inet_pton(AF_INET6, fc->active.addr, &a->sin6_addr);
        len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(fc->active.port);
        inet_pton(AF_INET, fc->active.addr, &a->sin_addr);
        len = sizeof *a;
    }
    fc->have_active = false;
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || (!wildcard(fc->local) && bind_to(fd, family, fc->local, 0) < 0) ||
        (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS)) {
        if (fd >= 0)
            close(fd);
        return ftp_xfer_fail(fc, FTP_XFER_NOCONN);
    }
    fc->pasv_fd = fd; /* owned by the connect watcher until on_connected */
    fc->pasv_ev = event_new(fc->w->host.base, fd, EV_WRITE, on_connected, fc);
    struct timeval tv = data_timeout(fc);
    event_add(fc->pasv_ev, &tv);
}

void ftp_data_connect(struct ftp_conn *fc)
{
    if (fc->data_fd >= 0) {
        int fd = fc->data_fd;
        fc->data_fd = -1;
        return ftp_xfer_connected(fc, fd);
    }
    if (fc->have_active)
        return connect_active(fc);
    if (fc->pasv_fd < 0)
        return ftp_xfer_fail(fc, FTP_XFER_NOCONN);
    /* else on_accept continues the transfer */
}
