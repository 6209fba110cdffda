/*
 * cmd_lookup — `pigeon lookup NAME [TYPE] [@SERVER[:PORT]] [+tcp] [+norec]`: one DNS query
 * built and parsed with the dns/ wire code, sent over UDP (retried over TCP when the reply
 * has TC=1) or TCP, printed like dig. Blocks on the network (at most a few seconds).
 * With +trace [+hints=FILE] [+noqmin] it shows the walk from the root instead
 * (lookup_trace.c).
 */
#include "cli/cli.h"

#include "core/err.h"
#include "core/resolvconf.h"
#include "core/str.h"
#include "dns/arena.h"
#include "dns/name.h"
#include "dns/print.h"
#include "dns/rr.h"
#include "dns/wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LOOKUP_TIMEOUT_MS 2000
#define LOOKUP_TRIES 3

struct lookup {
    const char *name;
    uint16_t qtype;
    bool have_type;
    const char *server; /* host part */
    const char *port;
    bool tcp, norec;
    bool trace, noqmin;  /* +trace: the iterative walk (lookup_trace.c) */
    bool mail;           /* +mail: MX hosts through the stub API (lookup_trace.c) */
    const char *hints;   /* +hints=FILE for +trace */
    uint8_t qname[DNS_NAME_MAXLEN];
    char host_buf[256];
};

/* "1.2.3.4" -> "4.3.2.1.in-addr.arpa.", "::1" -> nibbles under ip6.arpa. */
static bool reverse_name(const char *ip, struct str *out)
{
    uint8_t a[16];
    if (inet_pton(AF_INET, ip, a) == 1) {
        str_appendf(out, "%u.%u.%u.%u.in-addr.arpa.", a[3], a[2], a[1], a[0]);
        return true;
    }
    if (inet_pton(AF_INET6, ip, a) == 1) {
        static const char hex[] = "0123456789abcdef";
        for (int i = 15; i >= 0; i--)
            str_appendf(out, "%c.%c.", hex[a[i] & 15], hex[a[i] >> 4]);
        str_appends(out, "ip6.arpa.");
        return true;
    }
    return false;
}

/* "@host", "@host:port", "@[v6]:port", "@v6" */
static int server_parse(struct lookup *lk, const char *spec)
{
    size_t n = strlen(spec);
    if (n == 0 || n >= sizeof lk->host_buf)
        return cli_fail("bad server '@%s'", spec);
    memcpy(lk->host_buf, spec, n + 1);
    char *h = lk->host_buf;
    char *colon = strrchr(h, ':');
    if (h[0] == '[') {
        char *end = strchr(h, ']');
        if (!end || (end[1] && end[1] != ':'))
            return cli_fail("bad server '@%s'", spec);
        *end = '\0';
        lk->server = h + 1;
        if (end[1] == ':')
            lk->port = end + 2;
    } else if (colon && strchr(h, ':') == colon) {
        *colon = '\0';
        lk->server = h;
        lk->port = colon + 1;
    } else {
        lk->server = h; /* a bare IPv6 address or a host name */
    }
    if (!*lk->server || (lk->port && !*lk->port))
        return cli_fail("bad server '@%s'", spec);
    return 0;
}

static int args_parse(struct lookup *lk, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] == '@') {
            if (server_parse(lk, a + 1) != 0)
                return CLI_FAIL;
        } else if (!strcmp(a, "+tcp") || !strcmp(a, "+vc")) {
            lk->tcp = true;
        } else if (!strcmp(a, "+notcp")) {
            lk->tcp = false;
        } else if (!strcmp(a, "+trace")) {
            lk->trace = true;
        } else if (!strcmp(a, "+mail")) {
            lk->mail = true;
        } else if (!strncmp(a, "+hints=", 7)) {
            lk->hints = a + 7;
        } else if (!strcmp(a, "+noqmin")) {
            lk->noqmin = true;
        } else if (!strcmp(a, "+norec") || !strcmp(a, "+norecurse")) {
            lk->norec = true;
        } else if (!strcmp(a, "+rec") || !strcmp(a, "+recurse")) {
            lk->norec = false;
        } else if (a[0] == '+') {
            return cli_fail("unknown option '%s'", a);
        } else if (!lk->name) {
            lk->name = a;
        } else if (!lk->have_type && dns_type_from_text(a, strlen(a), &lk->qtype) == 0) {
            lk->have_type = true;
        } else {
            return cli_fail("unexpected argument '%s' (not a record type?)", a);
        }
    }
    if (!lk->name)
        return cli_fail("missing NAME");
    return 0;
}

static int qname_make(struct lookup *lk)
{
    struct str rev = STR_INIT;
    const char *text = lk->name;
    if (!lk->have_type && reverse_name(lk->name, &rev)) {
        text = str_cstr(&rev);
        lk->qtype = DNS_TYPE_PTR;
    } else if (!lk->have_type) {
        lk->qtype = DNS_TYPE_A;
    }
    size_t len;
    const char *why = NULL;
    int rc = dns_name_from_text(text, strlen(text), NULL, lk->qname, &len, &why);
    str_clear(&rev);
    if (rc)
        return cli_fail("bad name '%s': %s", lk->name, why);
    return 0;
}

static int sock_timeouts(int fd)
{
    struct timeval tv = {LOOKUP_TIMEOUT_MS / 1000 * LOOKUP_TRIES, 0};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
        return ERR_IO;
    return 0;
}

static int udp_exchange(const struct addrinfo *ai, const uint8_t *q, size_t qlen, uint8_t *resp,
                        size_t cap, size_t *rlen)
{
    int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (fd >= 0)
            close(fd);
        return ERR_IO;
    }
    int rc = ERR_AGAIN;
    for (int t = 0; t < LOOKUP_TRIES && rc == ERR_AGAIN; t++) {
        if (send(fd, q, qlen, 0) != (ssize_t)qlen) {
            rc = ERR_IO;
            break;
        }
        struct pollfd pfd = {fd, POLLIN, 0};
        while (rc == ERR_AGAIN && poll(&pfd, 1, LOOKUP_TIMEOUT_MS) == 1) {
            ssize_t n = recv(fd, resp, cap, 0);
            if (n < 0) {
                rc = ERR_IO;
                break;
            }
            /* only a reply with our id counts (RFC 5452 §9.1 asks for more; enough here) */
            if (n >= DNS_HEADER_LEN && resp[0] == q[0] && resp[1] == q[1]) {
                *rlen = (size_t)n;
                rc = 0;
            }
        }
    }
    close(fd);
    return rc;
}

static int read_full(int fd, uint8_t *p, size_t n)
{
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r <= 0)
            return r == 0 || errno == EAGAIN || errno == EWOULDBLOCK ? ERR_AGAIN : ERR_IO;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* RFC 1035 §4.2.2 / RFC 7766: a two-byte length before each message. */
static int tcp_exchange(const struct addrinfo *ai, const uint8_t *q, size_t qlen, uint8_t *resp,
                        size_t cap, size_t *rlen)
{
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return ERR_IO;
    int rc = sock_timeouts(fd);
    if (rc == 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
        rc = ERR_IO;
    if (rc == 0 && qlen > 512)
        rc = ERR_RANGE;
    if (rc == 0) {
        uint8_t out[2 + 512];
        out[0] = (uint8_t)(qlen >> 8);
        out[1] = (uint8_t)qlen;
        memcpy(out + 2, q, qlen);
        if (write(fd, out, qlen + 2) != (ssize_t)(qlen + 2))
            rc = ERR_IO;
    }
    uint8_t lb[2] = {0, 0};
    if (rc == 0)
        rc = read_full(fd, lb, 2);
    size_t n = (size_t)(lb[0] << 8 | lb[1]);
    if (rc == 0 && n > cap)
        rc = ERR_RANGE;
    if (rc == 0)
        rc = read_full(fd, resp, n);
    close(fd);
    if (rc == 0)
        *rlen = n;
    return rc;
}

static size_t query_build(const struct lookup *lk, uint8_t *out, size_t cap)
{
    uint16_t id = 0;
    if (getrandom(&id, sizeof id, 0) != (ssize_t)sizeof id)
        id = (uint16_t)(time(NULL) ^ getpid());
    struct dns_header h = {.id = id, .rd = !lk->norec, .opcode = DNS_OPCODE_QUERY};
    struct dns_builder b;
    dns_builder_init(&b, out, cap, cap, &h);
    dns_builder_question(&b, lk->qname, lk->qtype, DNS_CLASS_IN);
    dns_builder_opt(&b, DNS_UDP_DEFAULT, 0, 0, false);
    return dns_builder_finish(&b);
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static int reply_print(const struct lookup *lk, const uint8_t *resp, size_t rlen, bool tcp,
                       const char *addr, double ms)
{
    unsigned char mem[8192];
    struct dns_arena arena;
    dns_arena_init(&arena, mem, sizeof mem);
    struct dns_msg m;
    int rc = dns_msg_parse(resp, rlen, &m, &arena);
    struct str out = STR_INIT;
    if (rc == 0) {
        dns_print_msg(&m, &out);
        fputs(str_cstr(&out), stdout);
    }
    printf("\n;; Query time: %.0f msec\n;; SERVER: %s#%s(%s)\n;; MSG SIZE  rcvd: %zu\n\n", ms, addr,
           lk->port ? lk->port : "53", tcp ? "TCP" : "UDP", rlen);
    str_clear(&out);
    dns_arena_clear(&arena);
    if (rc != 0)
        return cli_fail("malformed reply: %s", dns_fault_str(m.fault));
    return CLI_OK;
}

/* One query to server#port, printed like dig. CLI_OK, CLI_FAIL after a message, or
 * ERR_AGAIN when the server did not answer (*no_reply holds why; nothing printed). */
static int lookup_at(struct lookup *lk, const char *server, const char *port, struct str *no_reply)
{
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(server, port, &hints, &ai);
    if (gai != 0)
        return cli_fail("server %s: %s", server, gai_strerror(gai));
    char addr[INET6_ADDRSTRLEN] = "?";
    getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof addr, NULL, 0, NI_NUMERICHOST);
    uint8_t q[512];
    size_t qlen = query_build(lk, q, sizeof q);
    uint8_t *resp = malloc(DNS_MSG_MAX);
    size_t rlen = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bool tcp = lk->tcp;
    int rc = tcp ? tcp_exchange(ai, q, qlen, resp, DNS_MSG_MAX, &rlen)
                 : udp_exchange(ai, q, qlen, resp, DNS_MSG_MAX, &rlen);
    if (rc == 0 && !tcp && (resp[2] & 0x02)) {
        printf(";; Truncated, retrying in TCP mode.\n");
        tcp = true;
        rc = tcp_exchange(ai, q, qlen, resp, DNS_MSG_MAX, &rlen);
    }
    freeaddrinfo(ai);
    if (rc != 0) {
        free(resp);
        str_appendf(no_reply, "no reply from %s#%s: %s", addr, port,
                    rc == ERR_AGAIN ? "timed out" : strerror(errno));
        return ERR_AGAIN;
    }
    lk->port = port;
    rc = reply_print(lk, resp, rlen, tcp, addr, ms_since(&t0));
    free(resp);
    return rc;
}

int cli_lookup(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    struct lookup lk = {0};
    if (args_parse(&lk, argc, argv) != 0 || qname_make(&lk) != 0)
        return CLI_FAIL;
    if (lk.mail)
        return cli_lookup_mail(ctx, lk.name, lk.hints);
    if (lk.trace)
        return cli_lookup_trace(ctx, lk.qname, lk.qtype, lk.hints, !lk.noqmin);
    /* Without @SERVER: the system's resolvers, in resolv.conf order, as dig does. */
    char ns[RESOLVCONF_MAX][64];
    size_t nns = 1;
    if (lk.server)
        snprintf(ns[0], sizeof ns[0], "%s", lk.server);
    else
        nns = resolvconf_nameservers(RESOLVCONF_PATH, ns, RESOLVCONF_MAX);
    const char *port = lk.port ? lk.port : "53";
    struct str why = STR_INIT;
    int rc = ERR_AGAIN;
    for (size_t i = 0; i < nns && rc == ERR_AGAIN; i++) {
        str_reset(&why);
        rc = lookup_at(&lk, ns[i], port, &why);
    }
    if (rc == ERR_AGAIN)
        rc = cli_fail("%s", str_cstr(&why));
    str_clear(&why);
    return rc;
}
