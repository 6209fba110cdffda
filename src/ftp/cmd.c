/* cmd — see cmd.h. */
#include "ftp/cmd.h"

#include "core/err.h"
#include "msg/date.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define IAC 0xff
#define TELNET_WILL 0xfb
#define TELNET_DONT 0xfe
#define TELNET_CMD_MIN 0xf0

enum arg_rule { ARG_OPTIONAL, ARG_REQUIRED };

static const struct {
    const char *name;
    enum arg_rule arg;
} verbs[FTP_VERB_COUNT] = {
    [FTP_USER] = {"USER", ARG_REQUIRED}, [FTP_PASS] = {"PASS", ARG_OPTIONAL},
    [FTP_ACCT] = {"ACCT", ARG_REQUIRED}, [FTP_QUIT] = {"QUIT", ARG_OPTIONAL},
    [FTP_NOOP] = {"NOOP", ARG_OPTIONAL}, [FTP_SYST] = {"SYST", ARG_OPTIONAL},
    [FTP_FEAT] = {"FEAT", ARG_OPTIONAL}, [FTP_OPTS] = {"OPTS", ARG_REQUIRED},
    [FTP_HELP] = {"HELP", ARG_OPTIONAL}, [FTP_PWD] = {"PWD", ARG_OPTIONAL},
    [FTP_CWD] = {"CWD", ARG_REQUIRED},   [FTP_CDUP] = {"CDUP", ARG_OPTIONAL},
    [FTP_TYPE] = {"TYPE", ARG_REQUIRED}, [FTP_MODE] = {"MODE", ARG_REQUIRED},
    [FTP_STRU] = {"STRU", ARG_REQUIRED}, [FTP_PASV] = {"PASV", ARG_OPTIONAL},
    [FTP_EPSV] = {"EPSV", ARG_OPTIONAL}, [FTP_PORT] = {"PORT", ARG_REQUIRED},
    [FTP_EPRT] = {"EPRT", ARG_REQUIRED}, [FTP_LIST] = {"LIST", ARG_OPTIONAL},
    [FTP_NLST] = {"NLST", ARG_OPTIONAL}, [FTP_MLSD] = {"MLSD", ARG_OPTIONAL},
    [FTP_MLST] = {"MLST", ARG_OPTIONAL}, [FTP_RETR] = {"RETR", ARG_REQUIRED},
    [FTP_STOR] = {"STOR", ARG_REQUIRED}, [FTP_STOU] = {"STOU", ARG_OPTIONAL},
    [FTP_APPE] = {"APPE", ARG_REQUIRED}, [FTP_REST] = {"REST", ARG_REQUIRED},
    [FTP_SIZE] = {"SIZE", ARG_REQUIRED}, [FTP_MDTM] = {"MDTM", ARG_REQUIRED},
    [FTP_DELE] = {"DELE", ARG_REQUIRED}, [FTP_MKD] = {"MKD", ARG_REQUIRED},
    [FTP_RMD] = {"RMD", ARG_REQUIRED},   [FTP_RNFR] = {"RNFR", ARG_REQUIRED},
    [FTP_RNTO] = {"RNTO", ARG_REQUIRED}, [FTP_ABOR] = {"ABOR", ARG_OPTIONAL},
    [FTP_STAT] = {"STAT", ARG_OPTIONAL}, [FTP_AUTH] = {"AUTH", ARG_REQUIRED},
    [FTP_PBSZ] = {"PBSZ", ARG_REQUIRED}, [FTP_PROT] = {"PROT", ARG_REQUIRED},
    [FTP_CCC] = {"CCC", ARG_OPTIONAL},   [FTP_ALLO] = {"ALLO", ARG_REQUIRED},
    [FTP_SITE] = {"SITE", ARG_REQUIRED}, [FTP_SMNT] = {"SMNT", ARG_REQUIRED},
    [FTP_REIN] = {"REIN", ARG_OPTIONAL}, [FTP_MFMT] = {"MFMT", ARG_REQUIRED},
};

size_t ftp_telnet_strip(char *p, size_t n)
{
    size_t w = 0;
    for (size_t r = 0; r < n; r++) {
        unsigned char c = (unsigned char)p[r];
        if (c != IAC) {
            p[w++] = (char)c;
            continue;
        }
        if (r + 1 == n)
            break; /* a lone IAC at the end */
        unsigned char next = (unsigned char)p[r + 1];
        if (next == IAC) {
            p[w++] = (char)IAC;
            r++;
        } else if (next >= TELNET_WILL && next <= TELNET_DONT) {
            r += r + 2 < n ? 2 : 1; /* option negotiation: IAC verb option */
        } else if (next >= TELNET_CMD_MIN) {
            r++; /* IP, DM, AYT ...: no meaning for the command itself */
        }
        /* else: IAC before an ordinary octet (its DM went out of band); drop the IAC */
    }
    return w;
}

const char *ftp_verb_name(enum ftp_verb verb)
{
    return verb > FTP_UNKNOWN && verb < FTP_VERB_COUNT ? verbs[verb].name : "";
}

/* RFC 775's experimental forms of the directory commands, which RFC 1123 §4.1.3.1 says every
 * server SHOULD take as the standard ones (Windows' ftp.exe sends XPWD, XMKD and XRMD). */
static const struct {
    const char *name;
    enum ftp_verb verb;
} x_forms[] = {
    {"XCWD", FTP_CWD}, {"XCUP", FTP_CDUP}, {"XPWD", FTP_PWD}, {"XMKD", FTP_MKD}, {"XRMD", FTP_RMD},
};

static enum ftp_verb verb_lookup(const char *p, size_t n)
{
    for (int v = FTP_UNKNOWN + 1; v < FTP_VERB_COUNT; v++)
        if (strlen(verbs[v].name) == n && strncasecmp(verbs[v].name, p, n) == 0)
            return (enum ftp_verb)v;
    for (size_t i = 0; i < sizeof x_forms / sizeof x_forms[0]; i++)
        if (n == 4 && strncasecmp(x_forms[i].name, p, n) == 0)
            return x_forms[i].verb;
    return FTP_UNKNOWN;
}

int ftp_cmd_parse(const char *line, size_t len, struct ftp_cmd *cmd)
{
    *cmd = (struct ftp_cmd){.arg = slice_make(line + len, 0)}; /* empty, never NULL */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c == '\0' || c == '\r' || c == '\n') {
            cmd->reply = "500 Syntax error, command unrecognized.";
            return ERR_PARSE;
        }
    }
    size_t v = 0;
    while (v < len && line[v] != ' ')
        v++;
    cmd->verb = verb_lookup(line, v);
    if (cmd->verb == FTP_UNKNOWN) {
        cmd->reply = "500 Syntax error, command unrecognized.";
        return ERR_PARSE;
    }
    if (v < len) {
        cmd->arg = slice_make(line + v + 1, len - v - 1);
        cmd->has_arg = cmd->arg.len > 0;
    }
    if (verbs[cmd->verb].arg == ARG_REQUIRED && !cmd->has_arg) {
        cmd->reply = "501 Syntax error in parameters or arguments.";
        return ERR_PARSE;
    }
    return 0;
}

/* A decimal number of at most max, digits only. */
static int parse_num(const char *p, size_t n, unsigned long long max, unsigned long long *out)
{
    if (n == 0 || n > 20)
        return ERR_PARSE;
    unsigned long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return ERR_PARSE;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (max - d) / 10)
            return ERR_PARSE;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int ftp_parse_port(struct slice arg, struct ftp_hostport *out)
{
    unsigned long long f[6];
    size_t start = 0, k = 0;
    struct slice a = slice_trim(arg);
    for (size_t i = 0; i <= a.len; i++) {
        if (i < a.len && a.p[i] != ',')
            continue;
        if (k == 6 || parse_num(a.p + start, i - start, 255, &f[k]) < 0)
            return ERR_PARSE;
        k++;
        start = i + 1;
    }
    if (k != 6)
        return ERR_PARSE;
    out->family = 4;
    snprintf(out->addr, sizeof out->addr, "%llu.%llu.%llu.%llu", f[0], f[1], f[2], f[3]);
    out->port = (uint16_t)(f[4] * 256 + f[5]);
    return 0;
}

int ftp_parse_eprt(struct slice arg, struct ftp_hostport *out)
{
    struct slice a = slice_trim(arg);
    /* RFC 2428 §2: the delimiter is the first octet, one of ASCII 33-126. */
    if (a.len < 7 || (unsigned char)a.p[0] < 33 || (unsigned char)a.p[0] > 126 ||
        a.p[a.len - 1] != a.p[0])
        return ERR_PARSE;
    char d = a.p[0];
    const char *f[4];
    size_t k = 0;
    for (size_t i = 0; i < a.len; i++)
        if (a.p[i] == d) {
            if (k == 4)
                return ERR_PARSE;
            f[k++] = a.p + i;
        }
    if (k != 4)
        return ERR_PARSE;
    unsigned long long proto, port;
    if (parse_num(f[0] + 1, (size_t)(f[1] - f[0] - 1), 255, &proto) < 0)
        return ERR_PARSE;
    size_t alen = (size_t)(f[2] - f[1] - 1);
    if (parse_num(f[2] + 1, (size_t)(f[3] - f[2] - 1), 65535, &port) < 0 || port == 0 ||
        alen == 0 || alen >= sizeof out->addr)
        return ERR_PARSE;
    if (proto != 1 && proto != 2)
        return 1;
    char text[sizeof out->addr];
    memcpy(text, f[1] + 1, alen);
    text[alen] = '\0';
    unsigned char bin[16];
    int af = proto == 1 ? AF_INET : AF_INET6;
    if (inet_pton(af, text, bin) != 1)
        return ERR_PARSE;
    out->family = proto == 1 ? 4 : 6;
    inet_ntop(af, bin, out->addr, sizeof out->addr); /* one spelling, for comparisons */
    out->port = (uint16_t)port;
    return 0;
}

int ftp_parse_offset(struct slice arg, uint64_t *out)
{
    unsigned long long v;
    struct slice a = slice_trim(arg);
    if (parse_num(a.p, a.len, (unsigned long long)INT64_MAX, &v) < 0)
        return ERR_PARSE;
    *out = v;
    return 0;
}

int ftp_format_pasv(const struct ftp_hostport *hp, char *out, size_t cap)
{
    unsigned char b[4];
    if (hp->family != 4 || inet_pton(AF_INET, hp->addr, b) != 1)
        return ERR_PARSE;
    snprintf(out, cap, "(%u,%u,%u,%u,%u,%u)", b[0], b[1], b[2], b[3], hp->port >> 8,
             hp->port & 0xff);
    return 0;
}

/* n decimal digits at p, within [lo, hi]: the value, or -1. */
static int digits(const char *p, int n, int lo, int hi)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v >= lo && v <= hi ? v : -1;
}

int ftp_parse_mfmt(struct slice arg, int64_t *when, struct slice *path)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *p = arg.p;
    size_t n = arg.len, i = 14;
    if (n < 16)
        return ERR_PARSE;
    int y = digits(p, 4, 1, 9999), mo = digits(p + 4, 2, 1, 12), d = digits(p + 6, 2, 1, 31);
    int h = digits(p + 8, 2, 0, 23), mi = digits(p + 10, 2, 0, 59), s = digits(p + 12, 2, 0, 60);
    if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0 || d > mdays[mo - 1])
        return ERR_PARSE;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return ERR_PARSE;
    if (p[i] == '.') /* milliseconds: 1-3 digits, ignored */
        for (i++; i < n && i <= 17 && p[i] >= '0' && p[i] <= '9'; i++)
            ;
    if (i + 1 >= n || p[i] != ' ' || p[i - 1] == '.')
        return ERR_PARSE;
    *when = msg_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + (s == 60 ? 59 : s);
    *path = slice_make(p + i + 1, n - i - 1);
    return 0;
}
