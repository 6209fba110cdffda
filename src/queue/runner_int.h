/*
 * runner_int — private to src/queue: the runner (runner.c: scans, limits, outcomes, bounces)
 * and one delivery job per destination domain (delivery.c: MX, addresses, connection, SMTP).
 */
#ifndef PIGEON_QUEUE_RUNNER_INT_H
#define PIGEON_QUEUE_RUNNER_INT_H

#include "dns/resolver/stub.h"
#include "mailauth/tlsrpt.h"
#include "queue/dane.h"
#include "queue/runner.h"
#include "queue/sts.h"

#include <stdbool.h>
#include <sys/socket.h>

struct store;
struct bufferevent;
struct event;
struct loop_post;

struct qitem {
    int64_t id;
    char *msg_id, *sender, *rcpt, *path;
    int attempts;
    int64_t arrived;
    int code;          /* 0: no outcome yet */
    char *text;        /* the reply or our reason */
    char *remote;      /* host that gave the outcome, or NULL */
    bool removed;      /* delivered and its row already deleted */
    bool expired;      /* still 4xx after max_age: bounced with status 4.4.7 */
    unsigned flags;    /* enum store_queue_flag of its row */
};

struct domjob {
    struct queue_runner *r;
    struct domjob *next;
    char domain[256];
    enum smtp_tls_policy tls;
    /* RFC 8689: a job carries messages of one kind only. requiretls: tagged REQUIRETLS with
     * a non-empty reverse-path (§4.2.1: an authenticated MX, verified TLS, REQUIRETLS
     * offered, else 5.7.30); tls_optional: "TLS-Required: No" (§4.2.2: MTA-STS and DANE not
     * enforced). */
    bool requiretls, tls_optional;
    struct qitem *items;
    size_t n;
    /* the message on the wire: items[g_start, g_end) share one msg_id */
    size_t g_start, g_end;
    char *body;
    size_t body_len;
    const char **rcpts;
    struct smtp_client_msg msg;
    /* destinations */
    struct dns_stub_mx *mx;
    size_t nmx, mx_i;
    struct sockaddr_storage *addrs;
    size_t naddr, addr_i;
    char host[256];
    char addr_text[64];
    /* the connection */
    struct bufferevent *bev;
    struct smtp_client *client;
    bool client_closed;
    bool tls_pending;
    bool want_tls;
    char error[600];   /* why the last destination failed */
    /* MTA-STS (RFC 8461): the domain's policy, when it has one */
    bool sts_on;
    struct mtasts_policy sts;
    /* DANE (RFC 7672, queue/dane.h): for the current host, when the MX answer validated */
    bool mx_secure;
    enum dane_state dane;
    struct dane_tlsa tlsa[DANE_MAX];
    size_t ntlsa;
    /* TLS-RPT (RFC 8460): this connection's outcome was written; STARTTLS was tried */
    bool tlsrpt_noted;
    bool tls_tried, must_tls;
    bool tls_unverified; /* the last handshake failed on the certificate (or TLSA) check */
};

/* Queue rows whose DSN is being committed: not to be picked up again meanwhile. */
struct bounce_ref {
    struct bounce_ref *next;
    const int64_t *ids;
    size_t n;
};

struct queue_runner {
    struct event_base *base;
    struct queue_runner_config cfg;
    SSL_CTX *tls;
    struct sts *sts;                  /* MTA-STS policies and the verifying TLS context */
    SSL_CTX *dane_tls;                /* DANE-enabled client context (NULL: DANE off) */
    struct dns_stub *stub;
    struct committer *committer;
    struct store *store;
    struct event *scan_ev;
    struct event *kick_ev;
    struct loop_post *post;           /* committer results come back here */
    struct domjob *jobs;
    unsigned njobs;
    unsigned pending_bounces;
    struct bounce_ref *bouncing;
    bool stopping;
    struct queue_runner_hooks hooks; /* all NULL in production */
    /* after queue_runner_set_config: the copies cfg's strings and policies point into */
    char *own_source;
    struct queue_tls_policy *own_policies;
};

/* delivery.c */
void domjob_start(struct domjob *j);
void domjob_free(struct domjob *j);

/* tlsrpt_note.c: the outcome of the current connection (or MX host) for TLS-RPT. */
void queue_tlsrpt_note(struct domjob *j, enum tlsrpt_result result);
/* tlsrpt_note.c: the domain's MTA-STS policy could not be had (result is one of the
 * sts-policy-fetch-error, sts-policy-invalid, sts-webpki-invalid of RFC 8460 §4.3.2.2):
 * one failed session under the domain's "sts" policy, before any MX is tried. */
void queue_tlsrpt_note_policy(struct domjob *j, enum tlsrpt_result result);
/* tlsrpt_note.c: an MX host the domain's MTA-STS policy does not name, skipped (RFC 8461
 * §4.1 under enforce): one failed session under the "sts" policy, naming the host. */
void queue_tlsrpt_note_mx(struct domjob *j, const char *mx_host, enum tlsrpt_result result);

/* runner.c: deletes the rows of delivered items at once, so a crash after the remote 250
 * never sends them again. */
void runner_items_delivered(struct queue_runner *r, struct qitem *items, size_t n);
/* runner.c: a job has an outcome (or a final error) for every item. */
void runner_job_finished(struct queue_runner *r, struct domjob *j);

#endif
