/*
 * jmap/flags — IMAP flags as JMAP keywords and back (RFC 8621 §4.1.1): \Seen is $seen,
 * \Flagged $flagged, \Answered $answered, \Draft $draft; other keywords are shared as they
 * are, lower case in JMAP. \Deleted has no keyword: it is kept as it was when keywords are set.
 */
#include "jmap/jmap_int.h"

#include <ctype.h>
#include <strings.h>
#include <string.h>

static const struct {
    const char *imap, *kw;
} sys[] = {{"\\Answered", "$answered"},
           {"\\Flagged", "$flagged"},
           {"\\Deleted", NULL},
           {"\\Seen", "$seen"},
           {"\\Draft", "$draft"}};
#define NSYS (sizeof sys / sizeof sys[0])

/* Calls fn for each space-separated word of flags. */
static void each_word(const char *flags, void (*fn)(void *arg, const char *w, size_t n), void *arg)
{
    const char *p = flags;
    while (p && *p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (n)
            fn(arg, p, n);
        p += n;
    }
}

static void add_kw(void *arg, const char *w, size_t n)
{
    json_t *kw = arg;
    char buf[256];
    if (n >= sizeof buf)
        return;
    for (size_t i = 0; i < NSYS; i++)
        if (strlen(sys[i].imap) == n && strncasecmp(sys[i].imap, w, n) == 0) {
            if (sys[i].kw)
                json_object_set_new(kw, sys[i].kw, json_true());
            return;
        }
    if (w[0] == '\\')
        return; /* \Recent and unknown system flags are no keywords */
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)tolower((unsigned char)w[i]);
    buf[n] = '\0';
    json_object_set_new(kw, buf, json_true());
}

json_t *jmap_keywords_from_flags(const char *flags)
{
    json_t *kw = json_object();
    each_word(flags, add_kw, kw);
    return kw;
}

struct has {
    const char *flag;
    bool found;
};

static void has_word(void *arg, const char *w, size_t n)
{
    struct has *h = arg;
    if (strlen(h->flag) == n && strncasecmp(h->flag, w, n) == 0)
        h->found = true;
}

bool jmap_flags_has(const char *flags, const char *flag)
{
    struct has h = {flag, false};
    each_word(flags, has_word, &h);
    return h.found;
}

static bool keyword_valid(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > 255)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)k[i];
        if (ch < 0x21 || ch > 0x7e || strchr("(){]%*\"\\", ch))
            return false;
    }
    return true;
}

int jmap_flags_from_keywords(json_t *kw, struct str *out)
{
    if (!json_is_object(kw))
        return -1;
    const char *k;
    json_t *v;
    json_object_foreach(kw, k, v)
        if (!json_is_true(v) || !keyword_valid(k))
            return -1;
    for (size_t i = 0; i < NSYS; i++) {
        if (!sys[i].kw)
            continue;
        json_object_foreach(kw, k, v)
            if (strcasecmp(k, sys[i].kw) == 0) {
                str_appendf(out, "%s%s", out->len ? " " : "", sys[i].imap);
                break;
            }
    }
    json_object_foreach(kw, k, v) {
        bool system = false;
        for (size_t i = 0; i < NSYS; i++)
            system |= sys[i].kw && strcasecmp(k, sys[i].kw) == 0;
        if (!system)
            str_appendf(out, "%s%s", out->len ? " " : "", k);
    }
    return 0;
}
