/*
 * jmap/push — the pure half of JMAP push (RFC 8620 §7): what an event source asks for
 * (types, closeafter, ping from its URL), the StateChange object sent when the account's
 * state moves, and the text/event-stream framing (WHATWG HTML §9.2) of state and ping
 * events. The WebSocket binding (RFC 8887) sends the same StateChange objects.
 *
 * Pigeon has one state string for Mailbox, Email and Thread (jmap.h): when it moves, all
 * three changed. EmailDelivery (RFC 8621 §1.5) is reported only when a mailbox's next uid
 * went up (a message arrived: delivery, APPEND, a copy), not for flag changes or expunges.
 *
 * Performs no I/O; no clock. Strings returned are the caller's (struct str).
 */
#ifndef PIGEON_JMAP_PUSH_H
#define PIGEON_JMAP_PUSH_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>

enum {
    JMAP_PUSH_MAILBOX = 1u << 0,
    JMAP_PUSH_EMAIL = 1u << 1,
    JMAP_PUSH_THREAD = 1u << 2,
    JMAP_PUSH_DELIVERY = 1u << 3,
    JMAP_PUSH_ALL = 0xfu,
};

#define JMAP_PUSH_PING_MIN 1    /* seconds; RFC 8620 §7.3 lets the server bound ping */
#define JMAP_PUSH_PING_MAX 300  /* "This MUST NOT be more than 5 minutes" */

struct jmap_push_params {
    unsigned types;       /* JMAP_PUSH_* bits */
    bool close_after;     /* closeafter=state: the response ends after one state event */
    unsigned ping;        /* seconds between pings; 0: none */
};

/*
 * Parses an event source URL's query (RFC 8620 §7.3: types, closeafter, ping; each required
 * by the template, but a missing one takes its default: every type, no, no ping). Unknown
 * type names are ignored (they name data Pigeon does not push). A ping outside
 * [JMAP_PUSH_PING_MIN, JMAP_PUSH_PING_MAX] is moved into it. 0, or -1 with *why set.
 */
int jmap_push_params_parse(const char *query, size_t len, struct jmap_push_params *out,
                           const char **why);

/*
 * Appends the StateChange object (RFC 8620 §7.1) for account_id when the state moved from
 * old_state to new_state, restricted to types: {"@type":"StateChange","changed":{...}},
 * with "pushState" (RFC 8887 §4.3.5) when push_state is not NULL. Returns false (nothing
 * appended) when nothing of types changed.
 */
bool jmap_push_state_change(const char *account_id, unsigned types, const char *old_state,
                            const char *new_state, const char *push_state, struct str *out);
/* The JMAP_PUSH_* bit of a type name ("*": all), 0 for a type Pigeon does not push. */
unsigned jmap_push_type(const char *name, size_t n);

/* Appends one event of the event stream: "event: NAME\ndata: DATA\n\n" (data holds no
 * newline: JSON as jansson writes it compactly). */
void jmap_push_sse_event(struct str *out, const char *name, const char *data);
/* Appends the ping event (RFC 8620 §7.3: data {"interval": seconds}). */
void jmap_push_sse_ping(struct str *out, unsigned interval);

#endif
