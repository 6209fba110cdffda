/*
 * runner — the outgoing queue scheduler (DESIGN.md §7 "Outbound"). Runs on one event loop.
 *
 * Every scan takes the due queue rows, groups them by recipient domain, and for each domain
 * (within the global and per-domain connection limits) looks up the MX hosts through the DNS
 * stub, connects in preference order, and hands every message for that domain over one SMTP
 * connection (smtp/client.h: PIPELINING, opportunistic or required STARTTLS). Outcomes go
 * back to the store: 2xx removes the row; 4xx and connection failures are retried with
 * exponential back-off until max_age; 5xx and expiry send one DSN to the sender (never for
 * a null sender) through the committer, then remove the rows.
 *
 * Blocking: reads queued message files and does small SQLite writes on the loop thread.
 */
#ifndef PIGEON_QUEUE_RUNNER_H
#define PIGEON_QUEUE_RUNNER_H

#include "smtp/client.h"

#include <openssl/ssl.h>
#include <stdint.h>

struct queue_runner;
struct event_base;
struct dns_stub;
struct committer;

struct queue_tls_policy {
    const char *domain;
    enum smtp_tls_policy policy;
};

struct queue_runner_config {
    const char *data_dir;
    const char *hostname;          /* EHLO name and Reporting-MTA */
    unsigned max_connections;      /* concurrent outbound connections */
    unsigned max_per_domain;       /* concurrent connections to one domain */
    unsigned retry_initial;        /* seconds before the first retry */
    unsigned retry_max;            /* cap of the back-off, seconds */
    unsigned max_age;              /* seconds before a deferred message bounces */
    unsigned scan_interval;        /* seconds between scans of the queue */
    unsigned connect_timeout;      /* seconds */
    unsigned command_timeout;      /* seconds per reply */
    uint16_t remote_port;          /* 25 in production */
    const char *source_address;    /* bind outbound connections here, or NULL */
    enum smtp_tls_policy tls;      /* default policy */
    const struct queue_tls_policy *tls_policies;
    size_t n_tls_policies;
    size_t max_return;             /* DSNs return the whole message up to this size */
    /* Optional: called on the runner's loop after a DSN was stored in local users' mailboxes
     * (so that their IMAP sessions re-sync). */
    void (*local_delivery)(void *arg, const int64_t *users, size_t n);
    void *local_delivery_arg;
};

/* A reload's [delivery] (on the runner's loop): every field but data_dir, hostname and the
 * local_delivery hook is taken for the scans and connections that start from now on; the
 * strings and the policy table are copied (cfg may go away after the call). */
void queue_runner_set_config(struct queue_runner *r, const struct queue_runner_config *cfg);

/* The runner opens its own store handle. Returns NULL (and logs) on failure. */
struct queue_runner *queue_runner_new(struct event_base *base, const struct queue_runner_config *cfg,
                                      SSL_CTX *client_tls, struct dns_stub *stub,
                                      struct committer *committer);
/*
 * For tests (tests/unit/test_queue_runner.c): the runner's clock and the delivery of one
 * domain's job, replaced. now returns unix seconds (NULL: time()); deliver gets each job
 * the scan starts (NULL: queue/delivery.c, MX look-up and SMTP) and must give every item an
 * outcome (queue_job_outcome) and then call queue_job_done, from the loop, never from inside
 * deliver. Set before the first scan runs.
 */
struct domjob;
struct queue_runner_hooks {
    int64_t (*now)(void *arg);
    void (*deliver)(void *arg, struct domjob *j);
    void *arg;
};
void queue_runner_set_hooks(struct queue_runner *r, const struct queue_runner_hooks *h);
/* The job's destination domain (lower case) and its recipients, one per queue row. */
const char *queue_job_domain(const struct domjob *j);
size_t queue_job_count(const struct domjob *j);
const char *queue_job_rcpt(const struct domjob *j, size_t i);
/* The outcome for item i: an SMTP reply code and text (copied); remote host or NULL. */
void queue_job_outcome(struct domjob *j, size_t i, int code, const char *text,
                       const char *remote);
/* Every item has its outcome: the runner applies them (deletes, defers, bounces). */
void queue_job_done(struct domjob *j);

/* Thread-safe: asks for a scan soon (e.g. after a message with remote recipients arrived). */
void queue_runner_kick(struct queue_runner *r);
/* Stops scanning and closes connections (rows in flight stay queued). On the loop thread. */
void queue_runner_free(struct queue_runner *r);

#endif
