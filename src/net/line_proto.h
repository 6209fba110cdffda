/*
 * line_proto — the proto_ops forwarders shared by the line-protocol services (SMTP, POP3,
 * IMAP). Their engines name their session entry points alike:
 *
 *   PFX_session_start(s)        greeting           PFX_session_tls_started(s, version, cipher)
 *   PFX_session_feed(s, p, n)   bytes in           PFX_session_timeout(s)
 *   PFX_session_busy(s)         result outstanding PFX_session_shutdown(s)
 *   PFX_session_closing(s)      asked to close     PFX_session_writable(s)  (optional)
 *
 * so the glue between such an engine and net/conn.c is written once, here, instead of nine
 * one-line functions per service. A service's conn.c writes
 *
 *   #define POP3_SESSION(eng) (((struct pop3_conn *)(eng))->s)
 *   NET_LINE_FORWARDERS(pop3, POP3_SESSION)
 *   NET_LINE_WRITABLE(pop3, POP3_SESSION)
 *   const struct proto_ops pop3_proto = {.name = "pop3", .create = ..., .refuse = ...,
 *                                        .free = ..., NET_LINE_PROTO_OPS(pop3),
 *                                        .writable = pop3_line_writable};
 *
 * where SESSION(eng) turns the connection's engine pointer (what create() returned) into the
 * session. create, refuse and free stay the service's: they differ (config, reply wording,
 * per-connection state). Macros because C has no other way to call typed functions through
 * one table without undefined casts of function pointers.
 */
#ifndef PIGEON_NET_LINE_PROTO_H
#define PIGEON_NET_LINE_PROTO_H

#include "net/conn.h"

#include <stdbool.h>
#include <stddef.h>

#define NET_LINE_FORWARDERS(pfx, SESSION)                                                          \
    static void pfx##_line_start(void *eng)                                                        \
    {                                                                                              \
        pfx##_session_start(SESSION(eng));                                                         \
    }                                                                                              \
    static size_t pfx##_line_feed(void *eng, const char *p, size_t n)                              \
    {                                                                                              \
        return pfx##_session_feed(SESSION(eng), p, n);                                             \
    }                                                                                              \
    static bool pfx##_line_busy(const void *eng)                                                   \
    {                                                                                              \
        return pfx##_session_busy(SESSION(eng));                                                   \
    }                                                                                              \
    static bool pfx##_line_closing(const void *eng)                                                \
    {                                                                                              \
        return pfx##_session_closing(SESSION(eng));                                                \
    }                                                                                              \
    static void pfx##_line_tls_started(void *eng, const char *version, const char *cipher)         \
    {                                                                                              \
        pfx##_session_tls_started(SESSION(eng), version, cipher);                                  \
    }                                                                                              \
    static void pfx##_line_timeout(void *eng)                                                      \
    {                                                                                              \
        pfx##_session_timeout(SESSION(eng));                                                       \
    }                                                                                              \
    static void pfx##_line_shutdown(void *eng)                                                     \
    {                                                                                              \
        pfx##_session_shutdown(SESSION(eng));                                                      \
    }

/* For an engine that sends large replies in bursts (proto_ops.writable). */
#define NET_LINE_WRITABLE(pfx, SESSION)                                                            \
    static void pfx##_line_writable(void *eng)                                                     \
    {                                                                                              \
        pfx##_session_writable(SESSION(eng));                                                      \
    }

/* The forwarders' part of a struct proto_ops initialiser (designated). */
#define NET_LINE_PROTO_OPS(pfx)                                                                    \
    .start = pfx##_line_start, .feed = pfx##_line_feed, .busy = pfx##_line_busy,                   \
    .closing = pfx##_line_closing, .tls_started = pfx##_line_tls_started,                          \
    .timeout = pfx##_line_timeout, .shutdown = pfx##_line_shutdown

#endif
