/*
 * pigeon — the administration tool of the Pigeon mail server.
 *
 *   pigeon [-c FILE] COMMAND [ARGS...]
 *
 * Parses global options, finds the command in one table and runs its handler (cmd_*.c).
 * Exit status: 0 success, 1 runtime error ("pigeon: ..." on stderr), 2 usage error.
 */
#include "cli/cli.h"

#include "core/log.h"
#include "core/str.h"
#include "core/version.h"
#include "core/xmalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONF_DEFAULT "/etc/pigeon/pigeon.conf"

struct cli_cmd {
    const char *group; /* "user"; for a command without subcommands, the command itself */
    const char *name;  /* "add"; NULL for a command without subcommands */
    int min_args, max_args;
    const char *args;    /* synopsis of the arguments */
    const char *summary; /* one line for the command lists */
    const char *details; /* NULL, or more text for the command's own --help */
    cli_run_fn run;
};

/* Options that a command's handler reads itself: they reach it among the arguments, with
 * their value ("--lifetime 1h" or "--lifetime=1h"). */
static const struct {
    const char *group, *name, *opt;
} handler_opts[] = {
    {"dnssec", "nta", "--lifetime"},
    {"dmarc", "report", "--domain"}, {"dmarc", "report", "--date"}, {"dmarc", "report", "--send"},
    {"tlsrpt", "report", "--domain"}, {"tlsrpt", "report", "--date"},
    {"tlsrpt", "report", "--send"}, {"dmarc", "report", "--received"},
    {"tlsrpt", "report", "--received"},
    {"torrent", "add", "--dir"},
};

static const char address_note[] =
    "ADDRESS is local@domain, or a bare local part in the primary domain; it is lower-cased.";
static const char password_note[] =
    "ADDRESS is local@domain, or a bare local part in the primary domain; it is lower-cased.\n"
    "The password is one line read from stdin (CR/LF stripped; empty is refused). On a\n"
    "terminal it is asked for twice, without echo.";

static const char sieve_note[] =
    "Sieve (RFC 5228) filters a user's mail at delivery: the one active script runs for every\n"
    "message to the user. Extensions: fileinto reject ereject envelope imap4flags vacation\n"
    "copy body variables relational subaddress include regex date. A script that fails keeps\n"
    "the message in INBOX (logged). ManageSieve clients (sieve-connect) edit the same scripts.";

static const char alias_note[] =
    "ADDRESS is local@domain in a local domain (a bare local part: the primary domain), or\n"
    "@domain for the domain's catch-all (mail to addresses that match nothing else). A TARGET\n"
    "is a local user, another alias, or a remote address; an alias may have many. Mail is\n"
    "routed: aliases of the address, else its user, else (bob+tag) bob's, else the RFC 2142\n"
    "roles (postmaster, abuse, hostmaster, webmaster, security) to [server] postmaster, else\n"
    "the catch-all.";

static const char queue_note[] =
    "ID is a QUEUE ID as `pigeon queue list` prints it; the command applies to every recipient\n"
    "of that message, or only to RECIPIENT (written as listed, with or without <>).";

static const char import_note[] =
    "MAILBOX defaults to INBOX; Maildir++ folders (.A.B) become MAILBOX's children A/B (at the\n"
    "top level when MAILBOX is INBOX). Flags are kept (Maildir letters and Dovecot's\n"
    "dovecot-keywords; mbox Status:, X-Status:, X-Keywords:), and internal dates (a Maildir\n"
    "file's mtime; the date of an mbox \"From \" line). pigeond may be running.";
static const char export_note[] =
    "DEST must not exist. Maildir: every mailbox (or MAILBOX and its children), INBOX at the\n"
    "top, flags in the file names, keywords in dovecot-keywords, internal dates as mtimes.\n"
    "mbox: one mailbox (default INBOX), flags in Status:/X-Status:/X-Keywords:.";

static const char reload_note[] =
    "pigeond checks its configuration file (a broken one reloads nothing), then re-reads the\n"
    "TLS certificates, every primary zone file (with its journal) and reopens its log file;\n"
    "other changed settings take effect at the next start. The outcome comes back over\n"
    "DATA/pigeond.ctl: each zone's serial on stdout, each failure (file:line) on stderr;\n"
    "exit 1 when anything failed. A zone file that fails to load keeps its previous version\n"
    "serving.";

static const struct cli_cmd cli_cmds[] = {
    {"domain", "add", 1, 1, "NAME", "create a local domain", NULL, cli_domain_add},
    {"domain", "del", 1, 1, "NAME", "delete a local domain that has no users", NULL,
     cli_domain_del},
    {"domain", "list", 0, 0, "", "list the local domains", NULL, cli_domain_list},
    {"domain", "records", 1, 1, "DOMAIN",
     "print the DNS records the domain needs (MX, SPF, DKIM, DMARC, TLSA, SRV)",
     "The DKIM key ([dkim] key_dir) and the TLS certificate are made when missing, as pigeond\n"
     "makes them. Zone master-file syntax; publish them in the domain's zone.",
     cli_domain_records},
    {"domain", "check", 1, 2, "DOMAIN [@SERVER[:PORT]]",
     "check the published mail records of the domain (MX ... TLSA, SRV)",
     "Asks SERVER, else [delivery] resolver, else /etc/resolv.conf, for every record\n"
     "`pigeon domain records` prints. Exit status 1 when one is missing or not this server's;\n"
     "a missing MTA-STS, TLS-RPT, TLSA or SRV record is reported as \"missing\" only.",
     cli_domain_check},
    {"domain", "dkim", 2, 2, "rotate|status DOMAIN",
     "start a DKIM key rotation, or show the domain's selectors",
     "rotate makes a key under a new selector (SELECTOR-YYYYMMDDhhmmss); pigeond publishes\n"
     "it, signs with it [dkim] switch_after seconds later, and withdraws the old selector's\n"
     "record [dkim] retire_after seconds after that.",
     cli_domain_dkim},
    {"dmarc", "report", 0, 5, "[--domain D] [--date YYYY-MM-DD] [--send | --received]",
     "print (or mail) the DMARC aggregate reports of one day, or show those received",
     "The reports are built from DATA/dmarc/DATE (default: yesterday, UTC), one per policy\n"
     "domain, in the DMARCbis XML format. --send mails each (gzipped, DKIM-signed) to the\n"
     "domain's rua= addresses that pass the RFC 7489 7.1 check, through the outgoing queue\n"
     "([dmarc_report] email is the sender); without it the XML goes to stdout.\n"
     "--received shows the reports others sent to our rua= addresses (newest first; with\n"
     "--date, those covering that day): per source IP the message count, disposition, DKIM\n"
     "and SPF results, and the authentication results.",
     cli_dmarc_report},
    {"tlsrpt", "report", 0, 5, "[--domain D] [--date YYYY-MM-DD] [--send | --received]",
     "print (or mail) the SMTP TLS reports (RFC 8460) of one day, or show those received",
     "The reports are built from DATA/tlsrpt/DATE (default: yesterday, UTC): the outcome of\n"
     "every outbound TLS attempt, one JSON report per recipient domain. --send mails each\n"
     "(application/tlsrpt+gzip, DKIM-signed) to the mailto: addresses of the domain's\n"
     "_smtp._tls record; domains without one get none. --received shows the reports others\n"
     "sent to our TLS-RPT rua= addresses: per policy the successful and failed sessions and\n"
     "each failure type.",
     cli_tlsrpt_report},
    {"user", "add", 1, 1, "ADDRESS", "create a user (password from stdin)", password_note,
     cli_user_add},
    {"user", "del", 1, 1, "ADDRESS", "delete a user, its mailboxes and messages", address_note,
     cli_user_del},
    {"user", "list", 0, 1, "[DOMAIN]", "list the users (of one domain)", NULL, cli_user_list},
    {"user", "usage", 0, 1, "[DOMAIN]", "list the users (of one domain) with their usage",
     "One line per user: ADDRESS, octets used/limit, messages used/limit (\"-\": no limit of\n"
     "the user's own; see pigeon quota), tab-separated.",
     cli_user_usage},
    {"user", "passwd", 1, 1, "ADDRESS", "set a user's password (from stdin)", password_note,
     cli_user_passwd},
    {"quota", NULL, 1, 3, "ADDRESS|@DOMAIN [BYTES [MESSAGES]]",
     "show a user's usage, or set the limits of a user or a domain",
     "BYTES is a number of octets, or with K, M or G (powers of 1024); 0 means no limit. Over\n"
     "a limit (the user's or its domain's) SMTP answers RCPT with 452 4.2.2 and IMAP APPEND\n"
     "with NO [OVERQUOTA]; IMAP clients read the limits with GETQUOTAROOT (RFC 9208).",
     cli_quota},
    {"alias", "add", 2, 64, "ADDRESS TARGET...", "make ADDRESS deliver to the TARGETs",
     alias_note, cli_alias_add},
    {"alias", "del", 1, 2, "ADDRESS [TARGET]", "remove one target (or all) of an alias",
     alias_note, cli_alias_del},
    {"alias", "list", 0, 1, "[ADDRESS]", "list aliases: ADDRESS <tab> TARGET", alias_note,
     cli_alias_list},
    {"forward", NULL, 1, 64, "ADDRESS [TARGET... [+keep] | off]",
     "show, set or stop a user's forwarding",
     "With TARGETs, mail to the user ADDRESS goes to them instead of the user's INBOX (+keep:\n"
     "as well); `off` stops forwarding; without arguments the forwarding is shown. Copies\n"
     "forwarded to remote domains get an SRS envelope sender so SPF passes at the next hop.",
     cli_forward},
    {"sieve", "list", 1, 1, "ADDRESS", "list a user's Sieve scripts: NAME <tab> SIZE [active]",
     sieve_note, cli_sieve_list},
    {"sieve", "get", 2, 2, "ADDRESS NAME", "print a script", sieve_note, cli_sieve_get},
    {"sieve", "put", 2, 3, "ADDRESS NAME [FILE]", "check and store a script (FILE or stdin)",
     sieve_note, cli_sieve_put},
    {"sieve", "activate", 1, 2, "ADDRESS [NAME]",
     "make NAME the script run at delivery (no NAME: none)", sieve_note, cli_sieve_activate},
    {"sieve", "delete", 2, 2, "ADDRESS NAME", "delete a script that is not active", sieve_note,
     cli_sieve_delete},
    {"sieve", "check", 1, 1, "FILE", "check a script (- for stdin), errors with line numbers",
     sieve_note, cli_sieve_check},
    {"queue", "list", 0, 0, "", "list the outgoing queue, one line per recipient",
     "Columns: QUEUE ID (as in the SMTP 250 reply, the Received: field and the log), ARRIVED\n"
     "(UTC), STATE (queued or held), TRIES, SENDER, RECIPIENT, LAST ERROR.",
     cli_queue_list},
    {"queue", "show", 1, 2, "ID [RECIPIENT]", "show a message's entries and its headers",
     queue_note, cli_queue_show},
    {"queue", "flush", 0, 2, "[ID [RECIPIENT]]", "make entries due now (all when no ID)",
     queue_note, cli_queue_flush},
    {"queue", "delete", 1, 2, "ID [RECIPIENT]", "remove entries without a bounce", queue_note,
     cli_queue_delete},
    {"queue", "hold", 0, 2, "[ID [RECIPIENT]]", "stop delivery attempts (all when no ID)",
     queue_note, cli_queue_hold},
    {"queue", "release", 0, 2, "[ID [RECIPIENT]]", "resume held entries, due now", queue_note,
     cli_queue_release},
    {"mail", "list", 1, 2, "ADDRESS [MAILBOX]", "list a mailbox (default INBOX)",
     "One line per message: uid, size, internal date (unix time), blob path; tab-separated.",
     cli_mail_list},
    {"mail", "cat", 2, 3, "ADDRESS UID [MAILBOX]", "write a stored message to stdout",
     "MAILBOX defaults to INBOX. The raw stored bytes are written unchanged.", cli_mail_cat},
    {"import", "maildir", 2, 3, "SOURCE USER [MAILBOX]",
     "import a Maildir (and its Maildir++ folders) into USER's mailboxes", import_note,
     cli_import_maildir},
    {"import", "mbox", 2, 3, "FILE USER [MAILBOX]", "import an mbox file into USER's MAILBOX",
     import_note, cli_import_mbox},
    {"export", "maildir", 2, 3, "USER DEST [MAILBOX]",
     "write USER's mailboxes as a Maildir++ tree in DEST", export_note, cli_export_maildir},
    {"export", "mbox", 2, 3, "USER FILE [MAILBOX]", "write one of USER's mailboxes as an mbox",
     export_note, cli_export_mbox},
    {"backup", NULL, 1, 1, "DIR", "copy the store into DIR while pigeond runs",
     "DIR must not exist or be empty. The database is copied as one consistent snapshot\n"
     "(SQLite's online backup), then every message file it references; the generated TLS\n"
     "certificate, the zones' journals and the DNSSEC keys too. Restore it with\n"
     "`pigeon restore DIR`.",
     cli_backup},
    {"restore", NULL, 1, 1, "DIR", "restore a backup into the (empty) data directory",
     "The configured data_dir must not exist or be empty: move the old one aside first, with\n"
     "pigeond stopped. The backup is checked (SQLite integrity check, every file present)\n"
     "before anything is written; the database is written last.",
     cli_restore},
    {"check-config", NULL, 0, 0, "", "load the configuration and report the first error", NULL,
     cli_config_check},
    {"zone", "check", 2, 2, "ORIGIN FILE", "check a DNS zone master file",
     "Prints FILE:LINE: reason and exits 1 when the zone is invalid, else \"ok: N records\".",
     cli_zone_check},
    {"dnssec", "keygen", 2, 4, "KEYDIR ORIGIN [ALG] [csk|ksk|zsk]",
     "make a DNSSEC key for a zone (PEM, mode 0600)",
     "ALG is ECDSAP256SHA256 (default), ED25519, RSASHA256, ... ; the role defaults to csk.",
     cli_dnssec_keygen},
    {"dnssec", "sign", 3, 8, "ORIGIN FILE KEYDIR [+nsec3] [+alg=ALG] [+validity=DAYS] [+now=T]",
     "sign a zone file; the signed zone goes to stdout",
     "Uses the keys of ORIGIN in KEYDIR, or makes one CSK there when it has none. NSEC by\n"
     "default; +nsec3 uses NSEC3 with RFC 9276 parameters (0 iterations, no salt).\n"
     "Signatures are valid from one hour ago for DAYS days (default 14).",
     cli_dnssec_sign},
    {"dnssec", "verify", 2, 3, "ORIGIN FILE [+now=T]",
     "check every signature and the NSEC/NSEC3 chain of a signed zone file",
     "Prints one line per problem and \"ok: ...\" or \"bogus: N problems\" (exit 1).",
     cli_dnssec_verify},
    {"dnssec", "ds", 1, 2, "ZONE | ORIGIN KEYDIR",
     "print the DS records (SHA-256) of a zone's keys for its parent",
     "ZONE: a [zone] of the configuration with dnssec = on (keys in DATA/dnssec).", cli_dnssec_ds},
    {"dnssec", "status", 1, 1, "ZONE", "list a signed zone's keys: role, state and since when",
     NULL, cli_dnssec_status},
    {"dnssec", "rollover", 1, 2, "ZONE [zsk|ksk|csk]", "start a key rollover of a signed zone",
     "A new key is published at once (pre-publication; a KSK or CSK also in CDS, which a parent\n"
     "zone in the same pigeond turns into its DS). Once the zone's longest TTL has passed, the\n"
     "running pigeond signs with the new key and retires the old one of that role; after one\n"
     "more such TTL the old key is removed. Default: csk.",
     cli_dnssec_rollover},
    {"dnssec", "nta", 1, 4, "add NAME [--lifetime DURATION] | remove NAME | list",
     "negative trust anchors of the running resolver (RFC 7646)",
     "add: the validating resolver treats NAME and the names below it as insecure (no AD,\n"
     "never SERVFAIL for a broken chain of trust) for DURATION (default 1h; 1s to 7d, a number\n"
     "with s, m, h, d or w), then validates them again; adding it again renews it. remove:\n"
     "validated again at once. list: NAME <tab> seconds left (\"permanent\" for the\n"
     "configuration's negative_trust_anchors). pigeond keeps them across restarts\n"
     "(DATA/resolver.nta).",
     cli_dnssec_nta},
    {"http", "sites", 0, 0, "", "list the Web server's sites, their roots and listeners", NULL,
     cli_http_sites},
    {"cache", "purge", 1, 1, "URL|PREFIX*", "remove a URL (or every URL under a prefix) from the "
     "proxy cache",
     "Asks the running pigeond's [proxy] (PURGE from loopback); every variant of the URL goes.",
     cli_cache_purge},
    {"cache", "stats", 0, 0, "", "print the proxy cache's objects, bytes, hits and misses", NULL,
     cli_cache_stats},
    {"ftp", "sessions", 0, 0, "", "list the running FTP sessions: client, user, directory, "
     "transfer", "Asks the running pigeond over its control socket.", cli_ftp_sessions},
    {"dhcp", "leases", 0, 0, "", "list the DHCP leases: address, state, until, client, name",
     NULL, cli_dhcp_leases},
    {"dhcp", "pools", 0, 0, "", "how full each DHCP subnet is: addresses, bound, quarantined",
     "Counted from the configuration and the lease database, as the daemon's\n"
     "pigeon_dhcp_pool_* gauges are; \"alarm\" marks a subnet at [dhcp] pool_alarm.",
     cli_dhcp_pools},
    {"dhcp", "release", 1, 1, "ADDRESS", "end a DHCP lease now (its DNS name goes too)",
     "The running pigeond releases it within a second, as if its client had sent RELEASE.",
     cli_dhcp_release},
    {"dhcp", "reserve", 2, 2, "MAC|id:HEX ADDRESS", "give a client a fixed DHCP address",
     "Kept in the lease database beside the [dhcp-subnet] reserve lines; the running pigeond\n"
     "takes it within a second. The address must lie in a configured subnet.",
     cli_dhcp_reserve},
    {"dhcp", "unreserve", 1, 1, "MAC|id:HEX", "remove a reservation made with dhcp reserve",
     NULL, cli_dhcp_unreserve},
    {"torrent", "add", 1, 3, "FILE|MAGNET [--dir D]",
     "give a .torrent or a magnet link to the running peer service",
     "Downloads into D (default [torrent] dir), then seeds; pigeond picks it up within a second.\n"
     "A magnet link (magnet:?xt=urn:btih:...) first fetches the info dictionary from the peers\n"
     "its trackers name (BEP 9), checks it against the info-hash, then downloads as a .torrent.",
     cli_torrent_add},
    {"torrent", "list", 0, 0, "", "print each torrent: hash, state, progress, rates, peers", NULL,
     cli_torrent_list},
    {"torrent", "pause", 1, 1, "HASH", "stop a torrent's transfers (kept, resumable)", NULL,
     cli_torrent_pause},
    {"torrent", "resume", 1, 1, "HASH", "resume a paused torrent (re-checks its files)", NULL,
     cli_torrent_resume},
    {"torrent", "remove", 1, 1, "HASH", "forget a torrent (its downloaded files stay)", NULL,
     cli_torrent_remove},
    {"reload", NULL, 0, 0, "", "make the running pigeond reload and wait for the outcome",
     reload_note, cli_reload},
    {"dns", "reload", 0, 0, "", "the same reload, for a configuration with a name server",
     reload_note, cli_dns_reload},
    {"lookup", NULL, 1, 8, "NAME [TYPE] [@SERVER[:PORT]] [+tcp] [+norec] [+trace]",
     "query a DNS server and print the reply like dig",
     "TYPE defaults to A (PTR when NAME is an IP address). Without @SERVER the nameservers\n"
     "of /etc/resolv.conf are asked in turn, as dig does. PORT defaults to 53; write\n"
     "[ADDR]:PORT for IPv6. UDP is used and retried over TCP when the\n"
     "reply is truncated; +tcp uses TCP only, +norec clears the RD bit.\n"
     "+trace walks from the root servers like dig +trace, with Pigeon's own resolver:\n"
     "+hints=FILE names the root hints (default: [resolver] root_hints, else built-in),\n"
     "+noqmin asks each server the full name (no QNAME minimisation).\n"
     "+mail lists NAME's MX hosts as outbound delivery sees them (same resolver).",
     cli_lookup},
};

#define CLI_NCMDS (sizeof cli_cmds / sizeof cli_cmds[0])

/* "user add ADDRESS" */
static void cmd_synopsis(const struct cli_cmd *c, struct str *out)
{
    str_appends(out, c->group);
    if (c->name)
        str_appendf(out, " %s", c->name);
    if (c->args[0])
        str_appendf(out, " %s", c->args);
}

/* Lists the commands of one group, or all when group is NULL. */
static void cmds_print(FILE *f, const char *group)
{
    fputs("\ncommands:\n", f);
    for (size_t i = 0; i < CLI_NCMDS; i++) {
        const struct cli_cmd *c = &cli_cmds[i];
        if (group && strcmp(group, c->group) != 0)
            continue;
        struct str syn = STR_INIT;
        cmd_synopsis(c, &syn);
        fprintf(f, "  %-32s %s\n", str_cstr(&syn), c->summary);
        str_clear(&syn);
    }
}

static void usage_top(FILE *f)
{
    fputs("usage: pigeon [-c FILE] COMMAND [ARGS...]\n\n"
          "Administers a Pigeon mail server: domains, users, the queue and mailboxes.\n",
          f);
    cmds_print(f, NULL);
    fputs("\noptions:\n"
          "  -c, --config FILE  configuration file (default: $PIGEON_CONF,\n"
          "                     else " CONF_DEFAULT ")\n"
          "  -h, --help         this help; `pigeon COMMAND --help` for one command\n"
          "  -V, --version      print the version\n",
          f);
}

static void usage_group(FILE *f, const char *group)
{
    fprintf(f, "usage: pigeon [-c FILE] %s COMMAND [ARGS...]\n", group);
    cmds_print(f, group);
}

static void usage_cmd(FILE *f, const struct cli_cmd *c)
{
    struct str syn = STR_INIT;
    cmd_synopsis(c, &syn);
    /* The summary is written for the lists; as a sentence it starts with a capital. */
    fprintf(f, "usage: pigeon [-c FILE] %s\n\n%c%s.\n", str_cstr(&syn),
            toupper((unsigned char)c->summary[0]), c->summary + 1);
    if (c->details)
        fprintf(f, "\n%s\n", c->details);
    str_clear(&syn);
}

/* Prints "pigeon: msg[: what]" on stderr; the caller then prints the fitting usage. */
static int usage_fail(const char *msg, const char *what)
{
    fprintf(stderr, "pigeon: %s%s%s\n", msg, what ? ": " : "", what ? what : "");
    return CLI_USAGE;
}

static int usage_top_fail(const char *msg, const char *what)
{
    usage_fail(msg, what);
    usage_top(stderr);
    return CLI_USAGE;
}

static int usage_cmd_fail(const struct cli_cmd *c, const char *msg, const char *what)
{
    usage_fail(msg, what);
    usage_cmd(stderr, c);
    return CLI_USAGE;
}

static bool is_help(const char *a)
{
    return !strcmp(a, "-h") || !strcmp(a, "--help");
}

/* Parses the options before the command; sets *conf_out and *next_out (index of the command
 * word). Returns -1 to go on, or the exit status when done (help) or on a usage error. */
static int global_opts_parse(int argc, char **argv, const char **conf_out, int *next_out)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--")) {
            i++;
            break;
        }
        if (is_help(o)) {
            usage_top(stdout);
            return CLI_OK;
        }
        if (!strcmp(o, "-V") || !strcmp(o, "--version")) {
            printf("pigeon %s\n", PIGEON_VERSION);
            return CLI_OK;
        }
        if (!strcmp(o, "-c") || !strcmp(o, "--config"))
            *conf_out = i + 1 < argc ? argv[++i] : "";
        else if (!strncmp(o, "--config=", 9))
            *conf_out = o + 9;
        else if (!strncmp(o, "-c", 2))
            *conf_out = o + 2;
        else
            return usage_top_fail("unknown option", o);
        if (!**conf_out)
            return usage_top_fail("option needs a FILE", o);
    }
    if (i >= argc)
        return usage_top_fail("missing command", NULL);
    *next_out = i;
    return -1;
}

/* Finds the command named by words[0] (and words[1]); *nwords_out gets how many words name
 * it. Returns -1 with *cmd_out set, or the exit status (group help, usage error). */
static int cmd_find(int n, char **words, const struct cli_cmd **cmd_out, int *nwords_out)
{
    bool group_known = false;
    for (size_t i = 0; i < CLI_NCMDS; i++) {
        const struct cli_cmd *c = &cli_cmds[i];
        if (strcmp(c->group, words[0]) != 0)
            continue;
        group_known = true;
        if (!c->name || (n > 1 && !strcmp(c->name, words[1]))) {
            *cmd_out = c;
            *nwords_out = c->name ? 2 : 1;
            return -1;
        }
    }
    if (!group_known)
        return usage_top_fail("unknown command", words[0]);
    if (n > 1 && is_help(words[1])) {
        usage_group(stdout, words[0]);
        return CLI_OK;
    }
    if (n < 2)
        fprintf(stderr, "pigeon: missing %s command\n", words[0]);
    else
        fprintf(stderr, "pigeon: unknown %s command: %s\n", words[0], words[1]);
    usage_group(stderr, words[0]);
    return CLI_USAGE;
}

/* True when a is the option c's handler reads itself (--name or --name=value). */
static bool handler_opt(const struct cli_cmd *c, const char *a)
{
    for (size_t i = 0; i < sizeof handler_opts / sizeof handler_opts[0]; i++) {
        size_t l = strlen(handler_opts[i].opt);
        if (!strcmp(c->group, handler_opts[i].group) && c->name &&
            !strcmp(c->name, handler_opts[i].name) && !strncmp(a, handler_opts[i].opt, l) &&
            (a[l] == '\0' || a[l] == '='))
            return true;
    }
    return false;
}

/* Collects the positional arguments into pos (room for n), handling --help and "--".
 * Returns -1 with *npos_out set, or the exit status (help, usage error). */
static int cmd_args_collect(const struct cli_cmd *c, int n, char **args, char **pos, int *npos_out)
{
    bool opts = true;
    int npos = 0;
    for (int i = 0; i < n; i++) {
        const char *a = args[i];
        if (opts && !strcmp(a, "--")) {
            opts = false;
        } else if (opts && is_help(a)) {
            usage_cmd(stdout, c);
            return CLI_OK;
        } else if (opts && a[0] == '-' && a[1] && !handler_opt(c, a)) {
            return usage_cmd_fail(c, "unknown option", a);
        } else {
            pos[npos++] = args[i];
        }
    }
    if (npos < c->min_args)
        return usage_cmd_fail(c, "missing argument", NULL);
    if (npos > c->max_args)
        return usage_cmd_fail(c, "too many arguments", pos[c->max_args]);
    *npos_out = npos;
    return -1;
}

static int cmd_run(const struct cli_cmd *c, const char *conf_path, int argc, char **argv)
{
    struct cli_ctx ctx;
    cli_ctx_init(&ctx, conf_path);
    int rc = c->run(&ctx, argc, argv);
    cli_ctx_clear(&ctx);
    if (fflush(stdout) != 0 || ferror(stdout))
        rc = cli_fail("cannot write to stdout: %s", strerror(errno));
    return rc;
}

int main(int argc, char **argv)
{
    const char *conf = NULL;
    int next = 0;
    int rc = global_opts_parse(argc, argv, &conf, &next);
    if (rc >= 0)
        return rc;
    const struct cli_cmd *c = NULL;
    int used = 0;
    rc = cmd_find(argc - next, argv + next, &c, &used);
    if (rc >= 0)
        return rc;
    if (!conf)
        conf = getenv("PIGEON_CONF");
    if (!conf || !*conf)
        conf = CONF_DEFAULT;
    /* The store logs through core/log; an admin tool shows only warnings and errors. */
    log_set_level(LOG_WARN);
    int rest = argc - next - used;
    char **pos = xcalloc((size_t)rest + 1, sizeof *pos);
    int npos = 0;
    rc = cmd_args_collect(c, rest, argv + next + used, pos, &npos);
    if (rc < 0)
        rc = cmd_run(c, conf, npos, pos);
    free(pos);
    return rc;
}
