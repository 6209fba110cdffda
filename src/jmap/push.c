/* jmap/push — see push.h: event source parameters, StateChange objects, event framing. */
#include "jmap/push.h"

#include "jmap/jmap_int.h"
#include "jmap/url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VALUE_MAX 256

unsigned jmap_push_type(const char *name, size_t n)
{
    static const struct {
        const char *name;
        unsigned bit;
    } types[] = {{"Mailbox", JMAP_PUSH_MAILBOX},
                 {"Email", JMAP_PUSH_EMAIL},
                 {"Thread", JMAP_PUSH_THREAD},
                 {"EmailDelivery", JMAP_PUSH_DELIVERY}};
    if (n == 1 && name[0] == '*')
        return JMAP_PUSH_ALL;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strlen(types[i].name) == n && memcmp(types[i].name, name, n) == 0)
            return types[i].bit;
    return 0;
}

int jmap_push_params_parse(const char *query, size_t len, struct jmap_push_params *out,
                           const char **why)
{
    *out = (struct jmap_push_params){.types = JMAP_PUSH_ALL};
    char v[3][VALUE_MAX];
    int has[3];
    static const char *const names[3] = {"types", "closeafter", "ping"};
    for (int i = 0; i < 3; i++)
        if ((has[i] = jmap_url_param(query, len, names[i], v[i], sizeof v[i])) < 0) {
            *why = "A query value is not percent-encoded right, or too long.";
            return -1;
        }
    if (has[0]) {
        out->types = 0;
        for (char *p = v[0]; *p;) {
            size_t n = strcspn(p, ",");
            out->types |= jmap_push_type(p, n);
            p += n + (p[n] == ',');
        }
    }
    if (has[1]) {
        if (strcmp(v[1], "state") != 0 && strcmp(v[1], "no") != 0) {
            *why = "closeafter must be \"state\" or \"no\".";
            return -1;
        }
        out->close_after = strcmp(v[1], "state") == 0;
    }
    if (has[2]) {
        char *end;
        unsigned long n = strtoul(v[2], &end, 10);
        if (v[2][0] < '0' || v[2][0] > '9' || *end || n > 1000000) {
            *why = "ping must be a number of seconds.";
            return -1;
        }
        if (n && n < JMAP_PUSH_PING_MIN)
            n = JMAP_PUSH_PING_MIN;
        out->ping = n > JMAP_PUSH_PING_MAX ? JMAP_PUSH_PING_MAX : (unsigned)n;
    }
    return 0;
}

/* Whether a mailbox's next uid went up between the two states (a message arrived). */
static bool delivered(const char *old_state, const char *new_state)
{
    struct jmap_state a, b;
    if (jmap_state_parse(new_state, &b) != 0)
        return false;
    bool moved = false;
    if (jmap_state_parse(old_state, &a) != 0) {
        moved = true; /* no usable old state: say so rather than miss a delivery */
        a = (struct jmap_state){0};
    }
    for (size_t i = 0; i < b.n && !moved; i++) {
        const struct jmap_state_ent *e = jmap_state_find(&a, b.ent[i].id);
        moved = e ? b.ent[i].uidnext > e->uidnext : b.ent[i].uidnext > 1;
    }
    jmap_state_clear(&a);
    jmap_state_clear(&b);
    return moved;
}

bool jmap_push_state_change(const char *account_id, unsigned types, const char *old_state,
                            const char *new_state, const char *push_state, struct str *out)
{
    if (strcmp(old_state, new_state) == 0)
        return false;
    json_t *acct = json_object();
    if (types & JMAP_PUSH_MAILBOX)
        json_object_set_new(acct, "Mailbox", json_string(new_state));
    if (types & JMAP_PUSH_EMAIL)
        json_object_set_new(acct, "Email", json_string(new_state));
    if (types & JMAP_PUSH_THREAD)
        json_object_set_new(acct, "Thread", json_string(new_state));
    if ((types & JMAP_PUSH_DELIVERY) && delivered(old_state, new_state))
        json_object_set_new(acct, "EmailDelivery", json_string(new_state));
    if (json_object_size(acct) == 0) {
        json_decref(acct);
        return false;
    }
    json_t *o = json_pack("{s:s, s:{s:o}}", "@type", "StateChange", "changed", account_id, acct);
    if (push_state)
        json_object_set_new(o, "pushState", json_string(push_state));
    char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    str_appends(out, text);
    free(text);
    json_decref(o);
    return true;
}

void jmap_push_sse_event(struct str *out, const char *name, const char *data)
{
    str_appendf(out, "event: %s\ndata: %s\n\n", name, data);
}

void jmap_push_sse_ping(struct str *out, unsigned interval)
{
    str_appendf(out, "event: ping\ndata: {\"interval\":%u}\n\n", interval);
}
