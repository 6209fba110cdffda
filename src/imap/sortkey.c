/* sortkey — see sortkey.h. */
#include "imap/sortkey.h"

#include "msg/date.h"
#include "msg/mime.h"

#include <string.h>
#include <strings.h>

/* ---- criteria ---- */

bool imap_sort_criteria_parse(const struct imap_arg *list, struct imap_sort_crit *out,
                              size_t *n_out, unsigned *want, const char **err_out)
{
    static const struct {
        const char *word;
        enum imap_sort_key key;
        unsigned want;
    } keys[] = {
        {"ARRIVAL", IMAP_SORT_ARRIVAL, 0},
        {"CC", IMAP_SORT_CC, IMAP_WANT_CC},
        {"DATE", IMAP_SORT_DATE, IMAP_WANT_DATE},
        {"FROM", IMAP_SORT_FROM, IMAP_WANT_FROM},
        {"SIZE", IMAP_SORT_SIZE, 0},
        {"SUBJECT", IMAP_SORT_SUBJECT, IMAP_WANT_SUBJECT},
        {"TO", IMAP_SORT_TO, IMAP_WANT_TO},
        {"DISPLAYFROM", IMAP_SORT_DISPLAYFROM, IMAP_WANT_DISPLAYFROM},
        {"DISPLAYTO", IMAP_SORT_DISPLAYTO, IMAP_WANT_DISPLAYTO},
    };
    *n_out = 0;
    *want = 0;
    if (list->type != IMAP_ARG_LIST || list->count == 0) {
        *err_out = "Sort criteria must be a non-empty list";
        return false;
    }
    bool reverse = false;
    for (size_t i = 0; i < list->count; i++) {
        const struct imap_arg *a = &list->list[i];
        if (imap_arg_atom_eq(a, "REVERSE") && !reverse) {
            reverse = true;
            continue;
        }
        size_t k = 0;
        while (k < sizeof keys / sizeof keys[0] && !imap_arg_atom_eq(a, keys[k].word))
            k++;
        if (k == sizeof keys / sizeof keys[0]) {
            *err_out = "Unknown sort criterion";
            return false;
        }
        if (*n_out == IMAP_SORT_MAX_KEYS) {
            *err_out = "Too many sort criteria";
            return false;
        }
        out[(*n_out)++] = (struct imap_sort_crit){keys[k].key, reverse};
        *want |= keys[k].want;
        reverse = false;
    }
    if (reverse || *n_out == 0) {
        *err_out = "REVERSE needs a sort key after it";
        return false;
    }
    return true;
}

/* ---- case mapping ---- */

static void casemap(const char *s, size_t n, struct str *out)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        str_appendc(out, c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c);
    }
}

/* ---- base subject (RFC 5256 §2.1) ---- */

struct subj {
    const char *p; /* working copy */
    size_t lo, hi;
    bool reply;
};

static bool is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

/* subj-blob = "[" *BLOBCHAR "]" *WSP at b->p + i; returns its length (0: none). */
static size_t blob_len(const struct subj *b, size_t i)
{
    if (i >= b->hi || b->p[i] != '[')
        return 0;
    size_t k = i + 1;
    while (k < b->hi && b->p[k] != '[' && b->p[k] != ']')
        k++;
    if (k >= b->hi || b->p[k] != ']')
        return 0;
    k++;
    while (k < b->hi && is_wsp(b->p[k]))
        k++;
    return k - i;
}

/* subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":" at i; its length (0: none). */
static size_t refwd_len(const struct subj *b, size_t i)
{
    size_t k = i, left = b->hi - i;
    if (left >= 2 && strncasecmp(b->p + k, "re", 2) == 0)
        k += 2;
    else if (left >= 3 && strncasecmp(b->p + k, "fwd", 3) == 0)
        k += 3;
    else if (left >= 2 && strncasecmp(b->p + k, "fw", 2) == 0)
        k += 2;
    else
        return 0;
    while (k < b->hi && is_wsp(b->p[k]))
        k++;
    k += blob_len(b, k);
    if (k >= b->hi || b->p[k] != ':')
        return 0;
    return k + 1 - i;
}

/* subj-leader = (*subj-blob subj-refwd) / WSP: steps (3). */
static bool strip_leader(struct subj *b)
{
    if (b->lo < b->hi && is_wsp(b->p[b->lo])) {
        b->lo++;
        return true;
    }
    size_t k = b->lo, n;
    while ((n = blob_len(b, k)) > 0)
        k += n;
    if ((n = refwd_len(b, k)) == 0)
        return false;
    b->lo = k + n;
    b->reply = true;
    return true;
}

/* Step (4): a leading subj-blob, when something is left after it. */
static bool strip_blob(struct subj *b)
{
    size_t n = blob_len(b, b->lo);
    if (n == 0 || b->lo + n >= b->hi)
        return false;
    b->lo += n;
    return true;
}

/* Step (2): trailing "(fwd)" and blanks. */
static void strip_trailer(struct subj *b)
{
    for (;;) {
        if (b->hi > b->lo && is_wsp(b->p[b->hi - 1])) {
            b->hi--;
        } else if (b->hi - b->lo >= 5 && strncasecmp(b->p + b->hi - 5, "(fwd)", 5) == 0) {
            b->hi -= 5;
            b->reply = true;
        } else {
            return;
        }
    }
}

void imap_base_subject(const char *s, size_t n, struct str *out, bool *reply)
{
    /* Step (1): blanks and line breaks as single spaces. */
    struct str w = STR_INIT;
    for (size_t i = 0; i < n; i++) {
        char c = s[i] == '\t' || s[i] == '\r' || s[i] == '\n' ? ' ' : s[i];
        if (c == ' ' && w.len && w.ptr[w.len - 1] == ' ')
            continue;
        str_appendc(&w, c);
    }
    struct subj b = {str_cstr(&w), 0, w.len, false};
    for (;;) {
        strip_trailer(&b);
        bool more = true;
        while (more) {
            more = false;
            while (strip_leader(&b))
                more = true;
            if (strip_blob(&b))
                more = true;
        }
        /* Step (6): "[fwd:" subject "]". */
        if (b.hi - b.lo >= 6 && strncasecmp(b.p + b.lo, "[fwd:", 5) == 0 && b.p[b.hi - 1] == ']') {
            b.lo += 5;
            b.hi--;
            b.reply = true;
            continue;
        }
        break;
    }
    casemap(b.p + b.lo, b.hi - b.lo, out);
    *reply = b.reply;
    str_clear(&w);
}

/* ---- addresses ---- */

void imap_sort_address(const char *value, size_t n, bool display, struct str *out)
{
    struct str name = STR_INIT, mailbox = STR_INIT, host = STR_INIT;
    bool group = false;
    if (mime_address_first(value, n, &name, &mailbox, &host, &group)) {
        if (!display || group) /* a group stands as its name (RFC 5256 §3, RFC 5957 §2) */
            casemap(mailbox.ptr, mailbox.len, out);
        else if (name.len)
            casemap(name.ptr, name.len, out);
        else {
            casemap(mailbox.ptr, mailbox.len, out);
            str_appendc(out, '@');
            casemap(host.ptr, host.len, out);
        }
    }
    str_clear(&name);
    str_clear(&mailbox);
    str_clear(&host);
}

/* ---- dates and ids ---- */

int64_t imap_sent_date(const char *value, size_t n, int64_t internal_date)
{
    struct msg_date d;
    if (!value || msg_date_parse_rfc5322(value, n, &d) != 0)
        return internal_date;
    return msg_date_to_unix(&d);
}

size_t imap_msgids(const char *value, size_t n, struct msg_arena *a, const char **out, size_t max)
{
    size_t count = 0;
    for (size_t i = 0; i < n && max; i++) {
        if (value[i] != '<')
            continue;
        size_t k = i + 1;
        while (k < n && value[k] != '>' && value[k] != '<' && !is_wsp(value[k]) && value[k] != '\n')
            k++;
        if (k >= n || value[k] != '>' || k == i + 1)
            continue;       /* not a complete id: skipped */
        if (count == max) { /* keep the last max ids: the nearest ancestors */
            memmove(out, out + 1, (max - 1) * sizeof *out);
            count--;
        }
        out[count++] = msg_arena_strndup(a, value + i + 1, k - i - 1);
        i = k;
    }
    return count;
}

/* ---- comparison ---- */

static int cmp_i64(int64_t a, int64_t b)
{
    return a < b ? -1 : a > b;
}

static int cmp_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

static int cmp_key(const struct imap_sort_item *a, const struct imap_sort_item *b,
                   enum imap_sort_key k)
{
    switch (k) {
    case IMAP_SORT_ARRIVAL:
        return cmp_i64(a->arrival, b->arrival);
    case IMAP_SORT_CC:
        return cmp_str(a->cc, b->cc);
    case IMAP_SORT_DATE:
        return cmp_i64(a->sent, b->sent);
    case IMAP_SORT_FROM:
        return cmp_str(a->from, b->from);
    case IMAP_SORT_SIZE:
        return a->size < b->size ? -1 : a->size > b->size;
    case IMAP_SORT_SUBJECT:
        return cmp_str(a->subject, b->subject);
    case IMAP_SORT_TO:
        return cmp_str(a->to, b->to);
    case IMAP_SORT_DISPLAYFROM:
        return cmp_str(a->dfrom, b->dfrom);
    case IMAP_SORT_DISPLAYTO:
        return cmp_str(a->dto, b->dto);
    }
    return 0;
}

int imap_sort_cmp(const struct imap_sort_item *a, const struct imap_sort_item *b,
                  const struct imap_sort_crit *crit, size_t ncrit)
{
    for (size_t i = 0; i < ncrit; i++) {
        int c = cmp_key(a, b, crit[i].key);
        if (c)
            return crit[i].reverse ? -c : c;
    }
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}
