/*
 * pop3load — POP3 load generator for bench/pop3.sh.
 *
 *   pop3load HOST PORT USERFILE SESSIONS CONCURRENCY
 *
 * CONCURRENCY threads each run sessions back to back until SESSIONS sessions have run in
 * total. Thread i logs in as line (i mod lines) of USERFILE ("user password" per line), so
 * concurrent sessions never share a maildrop (POP3 servers lock it). One session is what a
 * download-and-keep client does: USER, PASS, LIST, then RETR of every message one after the
 * other (no pipelining), then QUIT. Every RETR is checked against its LIST size (after
 * dot-unstuffing). Prints one line: sessions, messages, octets, seconds, messages/s.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_USERS 4096
#define MAX_MSGS 100000

struct conn {
    int fd;
    char buf[1 << 16];
    size_t pos, len;
};

static const char *host;
static int port;
static char *users[MAX_USERS], *passwords[MAX_USERS];
static int nusers;
static atomic_long sessions_left, messages_done, octets_done;

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "pop3load: %s: %s\n", what, detail);
    exit(1);
}

/* One line without its CRLF into out (NUL-terminated); returns its length. */
static size_t read_line(struct conn *c, char *out, size_t cap)
{
    size_t n = 0;
    for (;;) {
        while (c->pos < c->len) {
            char ch = c->buf[c->pos++];
            if (ch == '\n') {
                if (n && out[n - 1] == '\r')
                    n--;
                out[n] = '\0';
                return n;
            }
            if (n + 1 < cap)
                out[n++] = ch;
        }
        ssize_t r = recv(c->fd, c->buf, sizeof c->buf, 0);
        if (r <= 0)
            die("recv", r == 0 ? "connection closed" : strerror(errno));
        c->pos = 0;
        c->len = (size_t)r;
    }
}

static void send_all(struct conn *c, const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            die("send", strerror(errno));
        s += w;
        n -= (size_t)w;
    }
}

static void expect_ok(struct conn *c, const char *cmd, char *line, size_t cap)
{
    if (cmd)
        send_all(c, cmd);
    read_line(c, line, cap);
    if (strncmp(line, "+OK", 3) != 0)
        die(cmd ? cmd : "greeting", line);
}

/* Reads a multi-line body; returns its octets after dot-unstuffing (CRLF line ends). */
static long read_multi(struct conn *c)
{
    static _Thread_local char line[1 << 16];
    long octets = 0;
    for (;;) {
        size_t n = read_line(c, line, sizeof line);
        if (n == 1 && line[0] == '.')
            return octets;
        octets += (long)n + 2 - (line[0] == '.' ? 1 : 0);
    }
}

static void session(int user)
{
    static _Thread_local long sizes[MAX_MSGS];
    char line[1024], cmd[600];
    struct conn *c = calloc(1, sizeof *c);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &sa.sin_addr);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("connect", strerror(errno));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    expect_ok(c, NULL, line, sizeof line);
    snprintf(cmd, sizeof cmd, "USER %s\r\n", users[user]);
    expect_ok(c, cmd, line, sizeof line);
    snprintf(cmd, sizeof cmd, "PASS %s\r\n", passwords[user]);
    expect_ok(c, cmd, line, sizeof line);
    expect_ok(c, "LIST\r\n", line, sizeof line);
    int n = 0;
    for (;;) {
        read_line(c, line, sizeof line);
        if (strcmp(line, ".") == 0)
            break;
        long num = 0, size = 0;
        if (sscanf(line, "%ld %ld", &num, &size) != 2 || num != n + 1 || n >= MAX_MSGS)
            die("LIST line", line);
        sizes[n++] = size;
    }
    if (n == 0)
        die("LIST", "empty maildrop");
    long octets = 0;
    for (int i = 1; i <= n; i++) {
        snprintf(cmd, sizeof cmd, "RETR %d\r\n", i);
        expect_ok(c, cmd, line, sizeof line);
        long got = read_multi(c);
        if (got != sizes[i - 1]) {
            snprintf(line, sizeof line, "message %d: %ld octets, LIST said %ld", i, got,
                     sizes[i - 1]);
            die("RETR", line);
        }
        octets += got;
    }
    expect_ok(c, "QUIT\r\n", line, sizeof line);
    close(c->fd);
    free(c);
    atomic_fetch_add(&messages_done, n);
    atomic_fetch_add(&octets_done, octets);
}

static void *worker(void *arg)
{
    int user = (int)(long)arg % nusers;
    while (atomic_fetch_sub(&sessions_left, 1) > 0)
        session(user);
    return NULL;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: pop3load HOST PORT USERFILE SESSIONS CONCURRENCY\n");
        return 2;
    }
    host = argv[1];
    port = atoi(argv[2]);
    long sessions = atol(argv[4]);
    int conc = atoi(argv[5]);
    FILE *f = fopen(argv[3], "r");
    if (!f)
        die(argv[3], strerror(errno));
    char u[512], p[512];
    while (nusers < MAX_USERS && fscanf(f, "%511s %511s", u, p) == 2) {
        users[nusers] = strdup(u);
        passwords[nusers] = strdup(p);
        nusers++;
    }
    fclose(f);
    if (nusers == 0 || sessions <= 0 || conc <= 0)
        die("arguments", "need users, sessions > 0 and concurrency > 0");
    atomic_store(&sessions_left, sessions);
    pthread_t *t = calloc((size_t)conc, sizeof *t);
    double t0 = now();
    for (int i = 0; i < conc; i++)
        pthread_create(&t[i], NULL, worker, (void *)(long)i);
    for (int i = 0; i < conc; i++)
        pthread_join(t[i], NULL);
    double secs = now() - t0;
    long msgs = atomic_load(&messages_done);
    printf("sessions=%ld messages=%ld octets=%ld seconds=%.3f msgs_per_s=%.1f\n", sessions, msgs,
           atomic_load(&octets_done), secs, (double)msgs / secs);
    free(t);
    return 0;
}
