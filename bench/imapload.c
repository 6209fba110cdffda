/*
 * imapload — IMAP load generator for bench/imap.sh.
 *
 *   imapload HOST PORT USERFILE CONCURRENCY SECONDS         (the mix)
 *   imapload HOST PORT USERFILE CONNECTIONS SECONDS idle    (idle clients)
 *
 * Mix: CONCURRENCY threads, thread i logged in as line (i mod lines) of USERFILE ("user
 * password"), each running this fixed round of 14 commands, one at a time, until SECONDS
 * have passed:
 *   SELECT INBOX; UID FETCH 1:* (FLAGS); 4 x UID FETCH <random> (BODY.PEEK[]);
 *   FETCH <random 20> (ENVELOPE); UID SEARCH UNSEEN; UID SEARCH SUBJECT "<random word>";
 *   UID STORE <random> +FLAGS (\Seen), or -FLAGS every other round;
 *   APPEND INBOX (a 2 KB message); UID STORE <appended> +FLAGS (\Deleted); UID EXPUNGE
 *   <appended> (so INBOX keeps its size); NOOP.
 * Every reply must be a tagged OK; literals are read by their announced sizes. Prints one
 * line: rounds, commands, octets read, seconds, commands/s.
 *
 * Idle: opens CONNECTIONS connections (users round-robin), each LOGIN + SELECT INBOX, then
 * prints "ready" and holds them open SECONDS seconds (the script measures memory meanwhile).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_USERS 4096

struct conn {
    int fd;
    unsigned tag;
    char buf[1 << 16];
    size_t pos, len;
    long octets;
    unsigned rnd;
};

static const char *host;
static int port;
static char *users[MAX_USERS], *passwords[MAX_USERS];
static int nusers;
static double deadline;
static atomic_long rounds_done, commands_done, octets_done;

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "imapload: %s: %s\n", what, detail);
    exit(1);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fill(struct conn *c)
{
    ssize_t r = recv(c->fd, c->buf, sizeof c->buf, 0);
    if (r <= 0)
        die("recv", r == 0 ? "connection closed" : strerror(errno));
    c->pos = 0;
    c->len = (size_t)r;
    c->octets += r;
}

/* One line without CRLF into out (truncated to cap); returns its full length. */
static size_t read_line(struct conn *c, char *out, size_t cap)
{
    size_t n = 0;
    for (;;) {
        while (c->pos < c->len) {
            char ch = c->buf[c->pos++];
            if (ch == '\n') {
                size_t k = n < cap ? n : cap - 1;
                if (k && out[k - 1] == '\r')
                    k--, n--;
                out[k] = '\0';
                return n;
            }
            if (n + 1 < cap)
                out[n] = ch;
            n++;
        }
        fill(c);
    }
}

static void skip(struct conn *c, long n)
{
    while (n > 0) {
        if (c->pos == c->len)
            fill(c);
        size_t take = c->len - c->pos < (size_t)n ? c->len - c->pos : (size_t)n;
        c->pos += take;
        n -= (long)take;
    }
}

static void send_all(struct conn *c, const char *s, size_t n)
{
    while (n) {
        ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            die("send", strerror(errno));
        s += w;
        n -= (size_t)w;
    }
}

/* Reads until the tagged reply of tag; dies unless it is OK. *appenduid (optional) gets the
 * uid of its "[APPENDUID v n]". */
static void until_tagged(struct conn *c, const char *tag, const char *what, long *appenduid)
{
    static _Thread_local char line[1 << 16];
    size_t tl = strlen(tag);
    for (;;) {
        size_t n = read_line(c, line, sizeof line);
        size_t k = n < sizeof line ? n : sizeof line - 1;
        /* A line ending in {n} announces a literal, after which the line goes on. */
        while (k > 2 && line[k - 1] == '}') {
            char *open = strrchr(line, '{');
            if (!open)
                break;
            skip(c, atol(open + 1));
            n = read_line(c, line, sizeof line);
            k = n < sizeof line ? n : sizeof line - 1;
        }
        if (strncmp(line, tag, tl) == 0 && line[tl] == ' ') {
            if (strncmp(line + tl + 1, "OK", 2) != 0)
                die(what, line);
            char *a = strstr(line, "[APPENDUID ");
            if (a && appenduid)
                sscanf(a, "[APPENDUID %*u %ld]", appenduid);
            return;
        }
    }
}

/* Time spent waiting for each kind of command (keyed by its format), printed at the end, so a
 * slow run shows which command the time went to. */
#define KINDS 16
static struct {
    const char *what;
    _Atomic long ns, count;
} kinds[KINDS];
static pthread_mutex_t kinds_lock = PTHREAD_MUTEX_INITIALIZER;

static long mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void account(const char *what, long started)
{
    long d = mono_ns() - started;
    pthread_mutex_lock(&kinds_lock);
    int i = 0;
    while (i < KINDS && kinds[i].what && kinds[i].what != what)
        i++;
    if (i < KINDS && !kinds[i].what)
        kinds[i].what = what;
    pthread_mutex_unlock(&kinds_lock);
    if (i < KINDS) {
        atomic_fetch_add(&kinds[i].ns, d);
        atomic_fetch_add(&kinds[i].count, 1);
    }
}

static void print_kinds(void)
{
    for (int i = 0; i < KINDS && kinds[i].what; i++)
        fprintf(stderr, "latency %-32s %8ld commands  %8.3f ms mean\n", kinds[i].what,
                (long)kinds[i].count, kinds[i].count ? kinds[i].ns / 1e6 / kinds[i].count : 0.0);
}

static void command(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void command(struct conn *c, const char *fmt, ...)
{
    long started = mono_ns();
    char tag[16], cmd[1024];
    snprintf(tag, sizeof tag, "a%u", ++c->tag);
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(cmd, sizeof cmd, "%s ", tag);
    n += vsnprintf(cmd + n, sizeof cmd - (size_t)n, fmt, ap);
    va_end(ap);
    n += snprintf(cmd + n, sizeof cmd - (size_t)n, "\r\n");
    send_all(c, cmd, (size_t)n);
    until_tagged(c, tag, cmd, NULL);
    account(fmt, started);
}

static struct conn *open_session(int user)
{
    struct conn *c = calloc(1, sizeof *c);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &sa.sin_addr);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("connect", strerror(errno));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->rnd = (unsigned)user * 2654435761u + 1;
    char line[4096];
    read_line(c, line, sizeof line);
    if (strncmp(line, "* OK", 4) != 0)
        die("greeting", line);
    command(c, "LOGIN \"%s\" \"%s\"", users[user], passwords[user]);
    return c;
}

static unsigned rnd(struct conn *c, unsigned n)
{
    c->rnd = c->rnd * 1103515245u + 12345u;
    return (c->rnd >> 8) % n;
}

/* Largest uid in INBOX as SELECT reported it (UIDNEXT - 1) and the message count. */
static void select_inbox(struct conn *c, long *exists, long *uidnext)
{
    char tag[16], line[4096];
    long started = mono_ns();
    snprintf(tag, sizeof tag, "a%u", ++c->tag);
    char cmd[64];
    int n = snprintf(cmd, sizeof cmd, "%s SELECT INBOX\r\n", tag);
    send_all(c, cmd, (size_t)n);
    for (;;) {
        read_line(c, line, sizeof line);
        long v;
        if (sscanf(line, "* %ld", &v) == 1 && strstr(line, " EXISTS"))
            *exists = v;
        else if (sscanf(line, "* OK [UIDNEXT %ld]", &v) == 1)
            *uidnext = v;
        else if (strncmp(line, tag, strlen(tag)) == 0) {
            if (!strstr(line, " OK"))
                die("SELECT", line);
            account("SELECT INBOX", started);
            return;
        }
    }
}

static const char *const words[] = {"pigeon", "ketchup", "message", "fox", "dog", "pickles"};

static void one_round(struct conn *c, long round)
{
    long exists = 0, uidnext = 0;
    select_inbox(c, &exists, &uidnext);
    if (exists < 20 || uidnext < 2)
        die("SELECT", "INBOX has too few messages");
    command(c, "UID FETCH 1:* (FLAGS)");
    for (int i = 0; i < 4; i++)
        command(c, "UID FETCH %u (BODY.PEEK[])", 1 + rnd(c, (unsigned)uidnext - 1));
    unsigned first = 1 + rnd(c, (unsigned)exists - 19);
    command(c, "FETCH %u:%u (ENVELOPE)", first, first + 19);
    command(c, "UID SEARCH UNSEEN");
    command(c, "UID SEARCH SUBJECT \"%s\"", words[rnd(c, 6)]);
    command(c, "UID STORE %u %cFLAGS (\\Seen)", 1 + rnd(c, (unsigned)uidnext - 1),
            round % 2 ? '-' : '+');
    static const char body[] = "From: load@bench.test\r\nTo: bench@bench.test\r\n"
                               "Subject: appended by imapload\r\n\r\n";
    char msg[2048 + 256];
    int len = snprintf(msg, sizeof msg, "%s", body);
    while (len < 2048)
        len += snprintf(msg + len, sizeof msg - (size_t)len,
                        "the quick brown fox jumps over the lazy pigeon %5d\r\n", len);
    char tag[16], head[128];
    long started = mono_ns();
    snprintf(tag, sizeof tag, "a%u", ++c->tag);
    int hn = snprintf(head, sizeof head, "%s APPEND INBOX {%d+}\r\n", tag, len);
    send_all(c, head, (size_t)hn);
    send_all(c, msg, (size_t)len);
    send_all(c, "\r\n", 2);
    long uid = 0;
    until_tagged(c, tag, "APPEND", &uid);
    account("APPEND", started);
    if (uid <= 0)
        die("APPEND", "no APPENDUID");
    command(c, "UID STORE %ld +FLAGS.SILENT (\\Deleted)", uid);
    command(c, "UID EXPUNGE %ld", uid);
    command(c, "NOOP");
    atomic_fetch_add(&commands_done, 14);
}

static void *mix_worker(void *arg)
{
    struct conn *c = open_session((int)(long)arg % nusers);
    long r = 0;
    while (now() < deadline) {
        one_round(c, r++);
        atomic_fetch_add(&rounds_done, 1);
    }
    command(c, "LOGOUT");
    atomic_fetch_add(&octets_done, c->octets);
    close(c->fd);
    free(c);
    return NULL;
}

static int run_idle(int conns, int secs)
{
    struct conn **cs = calloc((size_t)conns, sizeof *cs);
    for (int i = 0; i < conns; i++) {
        cs[i] = open_session(i % nusers);
        long e = 0, u = 0;
        select_inbox(cs[i], &e, &u);
    }
    printf("ready %d\n", conns);
    fflush(stdout);
    sleep((unsigned)secs);
    for (int i = 0; i < conns; i++) {
        close(cs[i]->fd);
        free(cs[i]);
    }
    free(cs);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 6 && !(argc == 7 && strcmp(argv[6], "idle") == 0)) {
        fprintf(stderr, "usage: imapload HOST PORT USERFILE CONCURRENCY SECONDS [idle]\n");
        return 2;
    }
    host = argv[1];
    port = atoi(argv[2]);
    int conc = atoi(argv[4]);
    int secs = atoi(argv[5]);
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
    if (nusers == 0 || conc <= 0 || secs <= 0)
        die("arguments", "need users, concurrency > 0 and seconds > 0");
    if (argc == 7)
        return run_idle(conc, secs);
    pthread_t *t = calloc((size_t)conc, sizeof *t);
    double t0 = now();
    deadline = t0 + secs;
    for (int i = 0; i < conc; i++)
        pthread_create(&t[i], NULL, mix_worker, (void *)(long)i);
    for (int i = 0; i < conc; i++)
        pthread_join(t[i], NULL);
    double elapsed = now() - t0;
    long cmds = atomic_load(&commands_done);
    printf("rounds=%ld commands=%ld octets=%ld seconds=%.3f commands_per_s=%.1f\n",
           atomic_load(&rounds_done), cmds, atomic_load(&octets_done), elapsed,
           (double)cmds / elapsed);
    print_kinds();
    free(t);
    return 0;
}
