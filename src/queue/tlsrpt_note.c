/*
 * tlsrpt_note — the outcome of each outbound TLS attempt written to DATA/tlsrpt/DAY
 * (queue/history.h, mailauth/tlsrpt.h's line) for the daily TLS-RPT reports (RFC 8460): the
 * policy the session was under (DANE's TLSA records, the MTA-STS policy, or none), the MX
 * host, both addresses and the result.
 */
#include "queue/runner_int.h"

#include "core/xmalloc.h"
#include "queue/history.h"

#include <arpa/inet.h>
#include <event2/bufferevent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* The local address of the job's connection, as text, or "". */
static void local_addr(const struct domjob *j, char *out, size_t cap)
{
    out[0] = '\0';
    evutil_socket_t fd = j->bev ? bufferevent_getfd(j->bev) : -1;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out, (socklen_t)cap);
    else if (ss.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, out, (socklen_t)cap);
}

/* §4.3.1: a TLSA policy's strings are its records in presentation form. */
static void tlsa_strings(const struct domjob *j, struct tlsrpt_rec *r)
{
    for (size_t i = 0; i < j->ntlsa && r->nstrings < TLSRPT_MAX_STRINGS; i++) {
        const struct dane_tlsa *t = &j->tlsa[i];
        char *s = r->strings[r->nstrings++];
        size_t cap = sizeof r->strings[0];
        int n = snprintf(s, cap, "%u %u %u ", t->usage, t->selector, t->mtype);
        for (size_t k = 0; k < t->len && (size_t)n + 3 < cap; k++)
            n += snprintf(s + n, cap - (size_t)n, "%02x", t->data[k]);
    }
}

static void write_rec(const struct domjob *j, const struct tlsrpt_rec *r)
{
    struct str line = STR_INIT;
    tlsrpt_rec_format(r, &line);
    history_append(j->r->cfg.data_dir, "tlsrpt", r->time, line.ptr, line.len);
    str_clear(&line);
}

void queue_tlsrpt_note(struct domjob *j, enum tlsrpt_result result)
{
    struct tlsrpt_rec *r = xcalloc(1, sizeof *r);
    r->time = (int64_t)time(NULL);
    r->result = result;
    snprintf(r->domain, sizeof r->domain, "%s", j->domain);
    snprintf(r->mx_host, sizeof r->mx_host, "%s", j->host);
    snprintf(r->receiving_ip, sizeof r->receiving_ip, "%s", j->addr_text);
    local_addr(j, r->sending_ip, sizeof r->sending_ip);
    if (j->dane != DANE_NONE || result == TLSRPT_DNSSEC_INVALID) {
        r->type = TLSRPT_TLSA;
        tlsa_strings(j, r);
    } else if (j->sts_on && j->sts.mode != MTASTS_NONE) {
        r->type = TLSRPT_STS;
        tlsrpt_sts_strings(&j->sts, r);
    }
    write_rec(j, r);
    free(r);
    j->tlsrpt_noted = true;
}

void queue_tlsrpt_note_policy(struct domjob *j, enum tlsrpt_result result)
{
    struct tlsrpt_rec *r = xcalloc(1, sizeof *r);
    r->time = (int64_t)time(NULL);
    r->result = result;
    r->type = TLSRPT_STS; /* no policy-string: none was had */
    snprintf(r->domain, sizeof r->domain, "%s", j->domain);
    write_rec(j, r);
    free(r);
}

void queue_tlsrpt_note_mx(struct domjob *j, const char *mx_host, enum tlsrpt_result result)
{
    struct tlsrpt_rec *r = xcalloc(1, sizeof *r);
    r->time = (int64_t)time(NULL);
    r->result = result;
    r->type = TLSRPT_STS;
    tlsrpt_sts_strings(&j->sts, r);
    snprintf(r->domain, sizeof r->domain, "%s", j->domain);
    snprintf(r->mx_host, sizeof r->mx_host, "%s", mx_host);
    write_rec(j, r);
    free(r);
}
