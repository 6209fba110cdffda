/*
 * cli — the `pigeon` administration tool: shared declarations of its command handlers.
 *
 * main.c parses the command line and dispatches through one table of commands; each cmd_*.c
 * holds the handlers of one command group. A handler returns the process exit status:
 * 0 success, 1 runtime error (already reported as "pigeon: ..." on stderr). Usage errors
 * (exit 2) are detected by main.c before a handler runs.
 *
 * The configuration and the store are opened lazily through struct cli_ctx, so commands that
 * need neither (help) or only the configuration (check-config) never touch the database.
 * Everything the context opens is released by cli_ctx_clear.
 */
#ifndef PIGEON_CLI_CLI_H
#define PIGEON_CLI_CLI_H

#include "conf/config.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Exit statuses of the tool. */
enum cli_exit { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

struct store;
struct str;

struct cli_ctx {
    const char *conf_path; /* borrowed from argv or the environment */
    struct config cfg;
    bool cfg_loaded;
    struct store *st; /* NULL until cli_ctx_store */
    bool keep_root;   /* cli_ctx_store stays root (backup: only reads, writes where root may) */
};

/* Handler of one command: args are the positional arguments after the command name. */
typedef int (*cli_run_fn)(struct cli_ctx *ctx, int argc, char **argv);

/* ---- cmd_config.c: context, messages, shared helpers ---- */

void cli_ctx_init(struct cli_ctx *ctx, const char *conf_path);
void cli_ctx_clear(struct cli_ctx *ctx);
/* Loads the configuration once. 0, or CLI_FAIL after printing the "file:line: reason". */
int cli_ctx_config(struct cli_ctx *ctx);
/* Loads the configuration and opens the store once; *st_out is owned by ctx.
 * 0, or CLI_FAIL after printing why. May block on disk I/O. */
int cli_ctx_store(struct cli_ctx *ctx, struct store **st_out);
/* Prints "pigeon: <message>\n" to stderr; returns CLI_FAIL. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Canonical lower-case "local@domain" of what the user typed (bare local part → primary
 * domain) into out. 0, or CLI_FAIL after printing why. Needs the configuration. */
int cli_address(struct cli_ctx *ctx, const char *arg, char *out, size_t cap);
/* Lower-cased copy of a domain name into out, checked for plausible syntax (letters, digits,
 * '-', '.' in non-empty labels). 0, or CLI_FAIL after printing why. With out == NULL it only
 * checks and prints nothing. */
int cli_domain_name(const char *arg, char *out, size_t cap);

int cli_config_check(struct cli_ctx *ctx, int argc, char **argv);

/* ---- cmd_dhcp.c ---- */
int cli_dhcp_leases(struct cli_ctx *ctx, int argc, char **argv);
int cli_dhcp_pools(struct cli_ctx *ctx, int argc, char **argv);
int cli_dhcp_release(struct cli_ctx *ctx, int argc, char **argv);
int cli_dhcp_reserve(struct cli_ctx *ctx, int argc, char **argv);
int cli_dhcp_unreserve(struct cli_ctx *ctx, int argc, char **argv);

/* ---- cmd_ftp.c ---- */
int cli_ftp_sessions(struct cli_ctx *ctx, int argc, char **argv);

/* ---- cmd_cache.c ---- */
int cli_cache_purge(struct cli_ctx *ctx, int argc, char **argv);
int cli_cache_stats(struct cli_ctx *ctx, int argc, char **argv);

/* ---- cmd_torrent.c ---- */
int cli_torrent_add(struct cli_ctx *ctx, int argc, char **argv);
int cli_torrent_list(struct cli_ctx *ctx, int argc, char **argv);
int cli_torrent_pause(struct cli_ctx *ctx, int argc, char **argv);
int cli_torrent_resume(struct cli_ctx *ctx, int argc, char **argv);
int cli_torrent_remove(struct cli_ctx *ctx, int argc, char **argv);

/* ---- cmd_http.c ---- */
int cli_http_sites(struct cli_ctx *ctx, int argc, char **argv);

/* ---- cmd_dns.c ---- */
/* Sends request (one line, no LF) on the running pigeond's control socket (DATA/pigeond.ctl)
 * and appends its whole answer to answer. 0, or CLI_FAIL after printing why (pigeond not
 * running, no answer). Blocks until pigeond closes the connection. */
int cli_control(struct cli_ctx *ctx, const char *request, struct str *answer);
/* A note of pigeond's answer, for a command that shows notes its own way. */
typedef void (*cli_note_fn)(struct slice text, void *arg);
/* Sends request and shows the answer: each note through note (or as a line on stdout when
 * note is NULL), each error on stderr. CLI_OK only when the answer ends in "ok"; CLI_FAIL
 * when it ends in "failed", or after printing why there was no answer. */
int cli_control_show(struct cli_ctx *ctx, const char *request, cli_note_fn note, void *arg);

/* ---- cmd_dnssec.c ---- */
int cli_dnssec_keygen(struct cli_ctx *ctx, int argc, char **argv);
int cli_dnssec_sign(struct cli_ctx *ctx, int argc, char **argv);
int cli_dnssec_verify(struct cli_ctx *ctx, int argc, char **argv);
int cli_dnssec_ds(struct cli_ctx *ctx, int argc, char **argv);
int cli_dnssec_status(struct cli_ctx *ctx, int argc, char **argv);
int cli_dnssec_rollover(struct cli_ctx *ctx, int argc, char **argv);
/* cmd_dnssec_nta.c */
int cli_dnssec_nta(struct cli_ctx *ctx, int argc, char **argv);

/* ---- cmd_domain.c ---- */
int cli_domain_add(struct cli_ctx *ctx, int argc, char **argv);
int cli_domain_del(struct cli_ctx *ctx, int argc, char **argv);
int cli_domain_list(struct cli_ctx *ctx, int argc, char **argv);
/* cmd_records.c */
int cli_domain_records(struct cli_ctx *ctx, int argc, char **argv);
/* cmd_domain_check.c */
int cli_domain_check(struct cli_ctx *ctx, int argc, char **argv);
/* "@host[:port]" (arg), else [delivery] resolver, else /etc/resolv.conf's first server, as a
 * numeric address into ss. 0, or CLI_FAIL after printing why. */
struct sockaddr_storage;
int cli_resolver_addr(struct cli_ctx *ctx, const char *arg, struct sockaddr_storage *ss,
                      socklen_t *len);
int cli_dmarc_report(struct cli_ctx *ctx, int argc, char **argv);
int cli_tlsrpt_report(struct cli_ctx *ctx, int argc, char **argv);
/* cmd_dkim.c */
int cli_domain_dkim(struct cli_ctx *ctx, int argc, char **argv);

/* ---- cmd_user.c ---- */
int cli_user_add(struct cli_ctx *ctx, int argc, char **argv);
int cli_user_del(struct cli_ctx *ctx, int argc, char **argv);
int cli_user_list(struct cli_ctx *ctx, int argc, char **argv);
int cli_user_passwd(struct cli_ctx *ctx, int argc, char **argv);
int cli_user_usage(struct cli_ctx *ctx, int argc, char **argv);
int cli_quota(struct cli_ctx *ctx, int argc, char **argv);

/* ---- cmd_sieve.c ---- */
int cli_sieve_list(struct cli_ctx *ctx, int argc, char **argv);
int cli_sieve_get(struct cli_ctx *ctx, int argc, char **argv);
int cli_sieve_put(struct cli_ctx *ctx, int argc, char **argv);
int cli_sieve_activate(struct cli_ctx *ctx, int argc, char **argv);
int cli_sieve_delete(struct cli_ctx *ctx, int argc, char **argv);
int cli_sieve_check(struct cli_ctx *ctx, int argc, char **argv);

/* ---- cmd_alias.c ---- */
int cli_alias_add(struct cli_ctx *ctx, int argc, char **argv);
int cli_alias_del(struct cli_ctx *ctx, int argc, char **argv);
int cli_alias_list(struct cli_ctx *ctx, int argc, char **argv);
int cli_forward(struct cli_ctx *ctx, int argc, char **argv);

/* ---- cmd_queue.c ---- */
int cli_queue_list(struct cli_ctx *ctx, int argc, char **argv);
int cli_queue_show(struct cli_ctx *ctx, int argc, char **argv);
int cli_queue_flush(struct cli_ctx *ctx, int argc, char **argv);
int cli_queue_delete(struct cli_ctx *ctx, int argc, char **argv);
int cli_queue_hold(struct cli_ctx *ctx, int argc, char **argv);
int cli_queue_release(struct cli_ctx *ctx, int argc, char **argv);

/* ---- cmd_import.c, cmd_export.c ---- */
int cli_import_maildir(struct cli_ctx *ctx, int argc, char **argv);
int cli_import_mbox(struct cli_ctx *ctx, int argc, char **argv);
int cli_export_maildir(struct cli_ctx *ctx, int argc, char **argv);
int cli_export_mbox(struct cli_ctx *ctx, int argc, char **argv);
/* Reads a whole file into out (reset first). 0, or -1 with errno set. */
int cli_file_read(const char *path, struct str *out);
/* A mailbox name typed by the admin, checked and in stored form ("inbox/x" -> "INBOX/x").
 * 0, or CLI_FAIL after printing why. */
int cli_mailbox_name(const char *arg, struct str *out);

/* ---- cmd_backup.c ---- */
int cli_backup(struct cli_ctx *ctx, int argc, char **argv);
int cli_restore(struct cli_ctx *ctx, int argc, char **argv);

/* ---- cmd_mail.c ---- */
/* Resolves ADDRESS into addr (canonical) and opens the store; fails unless the user exists.
 * 0, or CLI_FAIL after printing why. */
int cli_user_open(struct cli_ctx *ctx, const char *arg, char *addr, size_t cap,
                  struct store **st_out);
int cli_mail_list(struct cli_ctx *ctx, int argc, char **argv);
int cli_mail_cat(struct cli_ctx *ctx, int argc, char **argv);

/* ---- cmd_zone.c ---- */
int cli_zone_check(struct cli_ctx *ctx, int argc, char **argv);

/* ---- cmd_dns.c ---- */
int cli_reload(struct cli_ctx *ctx, int argc, char **argv);
int cli_dns_reload(struct cli_ctx *ctx, int argc, char **argv);

/* ---- cmd_lookup.c ---- */
int cli_lookup(struct cli_ctx *ctx, int argc, char **argv);

/* ---- lookup_trace.c ---- */
/* `lookup +trace`: walks from the root hints (hints_path, else the config's, else built-in)
 * with Pigeon's resolver, printing every step. Returns CLI_OK or CLI_FAIL. Blocks. */
int cli_lookup_trace(struct cli_ctx *ctx, const uint8_t *qname, uint16_t qtype,
                     const char *hints_path, bool qmin);
/* `lookup +mail`: the domain's MX hosts as the mail side's stub API gives them. Blocks. */
int cli_lookup_mail(struct cli_ctx *ctx, const char *domain, const char *hints_path);

/* ---- password_input.c ---- */

/*
 * Reads one password line from stdin and strips the trailing CR/LF. When stdin is a terminal,
 * prompt is written to stderr and echo is turned off while reading. *pw_out is malloc'd;
 * release it with password_input_free (which wipes it). Returns 0, ERR_PARSE for an empty
 * line, a missing line or a NUL byte (with *err_out set to static text), ERR_IO on a read
 * error. Blocks on stdin.
 */
int password_input_read(const char *prompt, char **pw_out, const char **err_out);
/* Wipes and frees a password from password_input_read; NULL is fine. */
void password_input_free(char *pw);
/* true when stdin is a terminal (the caller may ask for the password twice). */
bool password_input_is_tty(void);

#endif
