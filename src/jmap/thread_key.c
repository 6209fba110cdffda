/*
 * jmap/thread_key — what decides a message's conversation (RFC 8621 §3 leaves threading to
 * the server). Pigeon threads as Fastmail (Cyrus conversations) and Gmail do: a message joins
 * a thread when it shares a message id with it — its own Message-ID, one of In-Reply-To or
 * References — and has the same base subject (RFC 5256 §2.1: "Re:", "Fwd:", "[list]" and
 * "(fwd)" taken off), so an unrelated reply that only quotes an old id with a new subject
 * starts a conversation of its own. This file reads those fields out of the message's header;
 * the store keeps the ids and subjects of each thread (store/jmap_threads.c).
 */
#include "jmap/email_int.h"

#include "core/xmalloc.h"
#include "msg/header.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void add_id(struct jmap_thread_key *k, const char *id)
{
    if (!id || !id[0] || strlen(id) > 250 || k->n >= JMAP_THREAD_IDS)
        return;
    for (size_t i = 0; i < k->n; i++)
        if (strcmp(k->ids[i], id) == 0)
            return;
    k->ids[k->n++] = xstrdup(id);
}

/* The last field named name: its message ids as a JSON array (or null). */
static json_t *ids_of(const char *hdr, size_t len, const char *name)
{
    return jmap_hdr_lookup(hdr, len, name, JMAP_HDR_MSGIDS, false);
}

static bool starts_ci(const char *s, const char *p)
{
    return strncasecmp(s, p, strlen(p)) == 0;
}

/* Length of a leading reply/forward marker ("Re:", "Fwd[2]:", "AW :"), 0 when none. */
static size_t marker_len(const char *s)
{
    static const char *const words[] = {"re", "fwd", "fw", "aw", "sv", "antw", "wg", "vs",
                                        "tr", "rif", "ref", NULL};
    for (const char *const *w = words; *w; w++) {
        size_t n = strlen(*w);
        if (strncasecmp(s, *w, n) != 0 || isalnum((unsigned char)s[n]))
            continue;
        const char *p = s + n;
        while (*p == ' ')
            p++;
        if (*p == '[') { /* "Re[2]:" */
            const char *close = strchr(p, ']');
            if (!close)
                continue;
            p = close + 1;
        }
        while (*p == ' ')
            p++;
        if (*p == ':')
            return (size_t)(p + 1 - s);
    }
    return 0;
}

/* Takes leading markers and list tags off s (in place); true when something went. */
static bool strip_leading(char *s)
{
    bool any = false;
    for (;;) {
        size_t sp = strspn(s, " ");
        size_t m = marker_len(s + sp);
        if (!m && s[sp] == '[') {
            const char *close = strchr(s + sp, ']');
            /* a "[tag]" goes only when text is left after it (RFC 5256 §2.1 (5)) */
            if (close && close[1 + strspn(close + 1, " ")] != '\0')
                m = (size_t)(close + 1 - (s + sp));
        }
        if (!m) {
            memmove(s, s + sp, strlen(s + sp) + 1);
            return any;
        }
        memmove(s, s + sp + m, strlen(s + sp + m) + 1);
        any = true;
    }
}

static void trim_end(char *s)
{
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ')
        s[--n] = '\0';
}

/* Takes "(fwd)" trailers off (RFC 5256 §2.1 (2)); true when one went. */
static bool strip_trailer(char *s)
{
    bool any = false;
    trim_end(s);
    size_t n = strlen(s);
    while (n >= 5 && strcasecmp(s + n - 5, "(fwd)") == 0) {
        s[n - 5] = '\0';
        trim_end(s);
        n = strlen(s);
        any = true;
    }
    return any;
}

void jmap_base_subject(const char *subject, char *out, size_t cap)
{
    /* whitespace runs become one space (RFC 5256 §2.1 (1)) */
    size_t n = 0, len = strlen(subject);
    char *s = xmalloc(len + 1);
    for (const char *p = subject; *p; p++) {
        bool ws = *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n';
        if (ws && (n == 0 || s[n - 1] == ' '))
            continue;
        s[n++] = ws ? ' ' : *p;
    }
    s[n] = '\0';
    for (bool again = true; again;) {
        again = strip_trailer(s);
        again |= strip_leading(s);
        size_t l = strlen(s);
        if (starts_ci(s, "[fwd:") && l > 5 && s[l - 1] == ']') { /* (6) */
            s[l - 1] = '\0';
            memmove(s, s + 5, l - 5);
            again = true;
        }
    }
    trim_end(s);
    size_t k = 0;
    for (const char *p = s; *p && k + 1 < cap; p++)
        out[k++] = (char)tolower((unsigned char)*p);
    while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
        k--; /* a cut never ends inside a UTF-8 sequence (s[k]: the first octet left out) */
    out[k] = '\0';
    free(s);
}

void jmap_thread_key_make(const char *msg, size_t len, struct jmap_thread_key *k)
{
    *k = (struct jmap_thread_key){0};
    size_t hlen = msg_header_end(msg, len);
    json_t *own = ids_of(msg, hlen, "Message-ID");
    json_t *irt = ids_of(msg, hlen, "In-Reply-To");
    json_t *refs = ids_of(msg, hlen, "References");
    add_id(k, json_string_value(json_array_get(own, 0)));
    add_id(k, json_string_value(json_array_get(irt, 0)));
    /* the nearest ancestors first, then the conversation's root */
    for (size_t i = json_array_size(refs); i > 0 && k->n + 1 < JMAP_THREAD_IDS; i--)
        add_id(k, json_string_value(json_array_get(refs, i - 1)));
    add_id(k, json_string_value(json_array_get(refs, 0)));
    json_decref(own);
    json_decref(irt);
    json_decref(refs);
    json_t *subj = jmap_hdr_lookup(msg, hlen, "Subject", JMAP_HDR_TEXT, false);
    jmap_base_subject(json_is_string(subj) ? json_string_value(subj) : "", k->subject,
                      sizeof k->subject);
    json_decref(subj);
}

void jmap_thread_key_clear(struct jmap_thread_key *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->ids[i]);
    *k = (struct jmap_thread_key){0};
}
