/*
 * spf — Sender Policy Framework (RFC 7208): check_host() for the MX role's inbound mail,
 * asynchronous over the DNS stub (dns/resolver/stub.h), and the Received-SPF header.
 *
 * Limits of §4.6.4: at most 10 mechanisms/modifiers that cause DNS look-ups, at most 10 MX
 * or PTR names per mechanism, at most 2 void look-ups; past them the result is permerror.
 * The macro expander (§7) is a pure function (spf_macro_expand) tested on its own.
 */
#ifndef PIGEON_SPF_SPF_H
#define PIGEON_SPF_SPF_H

#include "core/str.h"

#include <stdbool.h>
#include <sys/socket.h>

struct dns_stub;
struct spf_check;

enum spf_result { SPF_NONE, SPF_NEUTRAL, SPF_PASS, SPF_FAIL, SPF_SOFTFAIL, SPF_TEMPERROR,
                  SPF_PERMERROR };

const char *spf_result_name(enum spf_result r);

/* explanation: for fail, the domain's exp= text or a default; NULL otherwise. Valid during
 * the call. */
typedef void (*spf_cb)(void *arg, enum spf_result r, const char *explanation);

/*
 * Starts check_host(ip, domain of sender, sender). sender "" (the null reverse-path) uses
 * "postmaster@<helo>" as §2.4 says. receiver is our hostname (the %{r} macro). cb runs later
 * from the stub's loop, never inside this call, unless the check is cancelled first.
 */
struct spf_check *spf_check_start(struct dns_stub *stub, const struct sockaddr *ip,
                                  const char *sender, const char *helo, const char *receiver,
                                  spf_cb cb, void *arg);
void spf_check_cancel(struct spf_check *c);

/* What macros expand from (§7.3). */
struct spf_macro_ctx {
    const char *sender;     /* %{s} */
    const char *local;      /* %{l} */
    const char *sender_dom; /* %{o} */
    const char *domain;     /* %{d} current domain */
    const struct sockaddr *ip; /* %{i} %{v} */
    const char *helo;       /* %{h} */
    const char *receiver;   /* %{r} */
    const char *ptr;        /* %{p}, "unknown" when not looked up */
};

/* Expands macro-string in[0..len) into out. exp: allow %{c} %{r} %{t} (explanations only).
 * 0, or ERR_PARSE for a syntax error (permerror). */
int spf_macro_expand(const char *in, size_t len, const struct spf_macro_ctx *ctx, bool exp,
                     struct str *out);

/* Appends "Received-SPF: pass (mail.example: domain of a@b designates 1.2.3.4 as permitted
 * sender) client-ip=...; envelope-from=...; helo=...;\r\n" (§9.1). */
void spf_received_header(struct str *out, enum spf_result r, const char *receiver,
                         const char *client_ip, const char *sender, const char *helo);

#endif
