/* zonefile — RFC 1035 §5 master file reader. See zonefile.h. */
#include "dns/zonefile.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "dns/name.h"
#include "dns/rr.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ZF_MAX_FILE (256u << 20) /* refuse zone files over 256 MiB */

/* State shared by a file and the files it includes. */
struct zf_shared {
    unsigned flags;
    dns_zonefile_fn fn;
    void *ctx;
    struct str *err;
    bool have_default_ttl, have_last_ttl;
    uint32_t default_ttl, last_ttl;
    unsigned depth;
    struct dns_token *tok;
    size_t ntok, captok;
    uint8_t *rdata; /* 65535 bytes */
};

/* One file being read. */
struct zf_file {
    struct zf_shared *sh;
    const char *name;
    const char *text;
    size_t len, pos;
    unsigned line;       /* current line */
    unsigned entry_line; /* where the current entry started */
    int paren_line;      /* line of an open parenthesis, 0 when none */
    uint8_t origin[DNS_NAME_MAXLEN];
    uint8_t owner[DNS_NAME_MAXLEN];
    bool have_owner;
};

static int zf_fail(struct zf_file *f, unsigned line, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int zf_fail(struct zf_file *f, unsigned line, int code, const char *fmt, ...)
{
    if (f->sh->err) {
        str_appendf(f->sh->err, "%s:%u: ", f->name, line);
        va_list ap;
        va_start(ap, fmt);
        str_vappendf(f->sh->err, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* ---- tokenizer ---- */

static void tok_push(struct zf_shared *sh, const char *p, size_t len, bool quoted)
{
    if (sh->ntok == sh->captok) {
        sh->captok = sh->captok ? sh->captok * 2 : 32;
        sh->tok = xrealloc(sh->tok, sh->captok * sizeof *sh->tok);
    }
    sh->tok[sh->ntok].p = p;
    sh->tok[sh->ntok].len = len;
    sh->tok[sh->ntok].quoted = quoted;
    sh->ntok++;
}

static bool is_delim(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ';' || c == '(' || c == ')' ||
           c == '"';
}

/* A quoted string starting after its opening quote. */
static int tok_quoted(struct zf_file *f)
{
    size_t start = f->pos;
    while (f->pos < f->len) {
        char c = f->text[f->pos];
        if (c == '\\' && f->pos + 1 < f->len && f->text[f->pos + 1] != '\n') {
            f->pos += 2;
            continue;
        }
        if (c == '\n')
            break;
        if (c == '"') {
            tok_push(f->sh, f->text + start, f->pos - start, true);
            f->pos++;
            return 0;
        }
        f->pos++;
    }
    return zf_fail(f, f->line, ERR_PARSE, "unbalanced quotes");
}

static void tok_plain(struct zf_file *f)
{
    size_t start = f->pos;
    while (f->pos < f->len) {
        char c = f->text[f->pos];
        if (c == '\\' && f->pos + 1 < f->len && f->text[f->pos + 1] != '\n') {
            f->pos += 2;
            continue;
        }
        if (is_delim(c))
            break;
        f->pos++;
    }
    tok_push(f->sh, f->text + start, f->pos - start, false);
}

/* Handles a newline at f->pos; returns true when it ends the entry. */
static bool tok_newline(struct zf_file *f)
{
    f->pos++;
    f->line++;
    return f->paren_line == 0;
}

/*
 * Reads the next entry (one logical line) into sh->tok. *leading_ws_out is true when the
 * entry starts with blank space (owner omitted). Returns 1 with an entry, 0 at the end of the
 * file, or an error code.
 */
static int zf_entry(struct zf_file *f, bool *leading_ws_out)
{
    struct zf_shared *sh = f->sh;
    for (;;) {
        sh->ntok = 0;
        if (f->pos >= f->len)
            return 0;
        f->entry_line = f->line;
        *leading_ws_out = f->text[f->pos] == ' ' || f->text[f->pos] == '\t';
        bool done = false;
        while (!done) {
            if (f->pos >= f->len) {
                if (f->paren_line)
                    return zf_fail(f, (unsigned)f->paren_line, ERR_PARSE, "unbalanced parentheses");
                break;
            }
            char c = f->text[f->pos];
            if (c == ' ' || c == '\t' || c == '\r') {
                f->pos++;
            } else if (c == ';') {
                while (f->pos < f->len && f->text[f->pos] != '\n')
                    f->pos++;
            } else if (c == '\n') {
                done = tok_newline(f);
            } else if (c == '(') {
                if (f->paren_line)
                    return zf_fail(f, f->line, ERR_PARSE, "nested parentheses");
                f->paren_line = (int)f->line;
                f->pos++;
            } else if (c == ')') {
                if (!f->paren_line)
                    return zf_fail(f, f->line, ERR_PARSE, "unbalanced parentheses");
                f->paren_line = 0;
                f->pos++;
            } else if (c == '"') {
                f->pos++;
                int rc = tok_quoted(f);
                if (rc)
                    return rc;
            } else {
                tok_plain(f);
            }
        }
        if (sh->ntok > 0)
            return 1;
    }
}

/* ---- directives ---- */

static int zf_file_run(struct zf_file *f);

static bool tok_is(const struct dns_token *t, const char *s)
{
    return !t->quoted && t->len == strlen(s) && strncasecmp(t->p, s, t->len) == 0;
}

static int zf_name(struct zf_file *f, const struct dns_token *t, const uint8_t *origin,
                   uint8_t *out)
{
    size_t n;
    const char *why = NULL;
    if (tok_is(t, "@")) {
        dns_name_copy(out, origin);
        return 0;
    }
    int rc = dns_name_from_text(t->p, t->len, origin, out, &n, &why);
    if (rc)
        return zf_fail(f, f->entry_line, rc, "bad name '%.*s': %s", (int)t->len, t->p, why);
    return 0;
}

/* Reads the whole file at path; *text_out is malloc'd. */
static int file_slurp(const char *path, char **text_out, size_t *len_out, int *errno_out)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        *errno_out = errno;
        return ERR_IO;
    }
    struct str s = STR_INIT;
    char buf[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(buf, 1, sizeof buf, fp)) > 0) {
        str_append(&s, buf, n);
        if (s.len > ZF_MAX_FILE) {
            rc = ERR_LIMIT;
            *errno_out = EFBIG;
            break;
        }
    }
    if (rc == 0 && ferror(fp)) {
        rc = ERR_IO;
        *errno_out = errno;
    }
    fclose(fp);
    if (rc) {
        str_clear(&s);
        return rc;
    }
    *len_out = s.len;
    *text_out = str_steal(&s);
    return 0;
}

/* The included path: absolute, or relative to the directory of the including file. */
static char *include_path(const char *parent, const struct dns_token *t)
{
    struct str p = STR_INIT;
    if (t->len == 0 || t->p[0] != '/') {
        const char *slash = strrchr(parent, '/');
        if (slash)
            str_append(&p, parent, (size_t)(slash - parent) + 1);
    }
    for (size_t i = 0; i < t->len; i++) {
        if (t->p[i] == '\\' && i + 1 < t->len)
            i++;
        str_appendc(&p, t->p[i]);
    }
    return str_steal(&p);
}

static int zf_include(struct zf_file *f)
{
    struct zf_shared *sh = f->sh;
    if (sh->flags & DNS_ZF_NO_INCLUDE)
        return zf_fail(f, f->entry_line, ERR_PARSE, "$INCLUDE is not allowed here");
    if (sh->ntok < 2 || sh->ntok > 3)
        return zf_fail(f, f->entry_line, ERR_PARSE, "$INCLUDE needs a file name [origin]");
    if (sh->depth >= DNS_ZF_MAX_DEPTH)
        return zf_fail(f, f->entry_line, ERR_LIMIT, "$INCLUDE nested more than %d deep",
                       DNS_ZF_MAX_DEPTH);
    struct zf_file in = {.sh = sh, .line = 1};
    dns_name_copy(in.origin, f->origin);
    if (sh->ntok == 3) {
        int rc = zf_name(f, &sh->tok[2], f->origin, in.origin);
        if (rc)
            return rc;
    }
    char *path = include_path(f->name, &sh->tok[1]);
    char *text = NULL;
    size_t len = 0;
    int eno = 0;
    int rc = file_slurp(path, &text, &len, &eno);
    if (rc) {
        rc = zf_fail(f, f->entry_line, rc, "$INCLUDE %s: %s", path, strerror(eno));
        free(path);
        return rc;
    }
    in.name = path;
    in.text = text;
    in.len = len;
    sh->depth++;
    rc = zf_file_run(&in);
    sh->depth--;
    free(text);
    free(path);
    return rc;
}

static int zf_directive(struct zf_file *f)
{
    struct zf_shared *sh = f->sh;
    const struct dns_token *t = sh->tok;
    if (tok_is(t, "$ORIGIN")) {
        if (sh->ntok != 2)
            return zf_fail(f, f->entry_line, ERR_PARSE, "$ORIGIN needs one name");
        uint8_t o[DNS_NAME_MAXLEN];
        int rc = zf_name(f, &t[1], f->origin, o);
        if (rc == 0)
            dns_name_copy(f->origin, o);
        return rc;
    }
    if (tok_is(t, "$TTL")) {
        uint32_t ttl;
        if (sh->ntok != 2 || dns_ttl_from_text(t[1].p, t[1].len, &ttl) != 0)
            return zf_fail(f, f->entry_line, ERR_PARSE, "bad $TTL");
        sh->default_ttl = ttl > 0x7fffffffu ? 0 : ttl; /* RFC 2181 §8 */
        sh->have_default_ttl = true;
        return 0;
    }
    if (tok_is(t, "$INCLUDE"))
        return zf_include(f);
    return zf_fail(f, f->entry_line, ERR_PARSE, "unknown directive '%.*s'", (int)t->len, t->p);
}

/* ---- records ---- */

struct zf_head {
    bool have_ttl, have_class;
    uint32_t ttl;
    uint16_t rclass, type;
};

/* Parses [TTL] [class] type, in either order; *next_out is the first rdata token. */
static int zf_head(struct zf_file *f, size_t first, struct zf_head *h, size_t *next_out)
{
    struct zf_shared *sh = f->sh;
    size_t i = first;
    for (; i < sh->ntok; i++) {
        const struct dns_token *t = &sh->tok[i];
        uint32_t ttl;
        uint16_t v;
        if (!t->quoted && !h->have_ttl && t->len && t->p[0] >= '0' && t->p[0] <= '9') {
            int rc = dns_ttl_from_text(t->p, t->len, &ttl);
            if (rc)
                return zf_fail(f, f->entry_line, rc, "bad TTL '%.*s'", (int)t->len, t->p);
            h->have_ttl = true;
            h->ttl = ttl > 0x7fffffffu ? 0 : ttl; /* RFC 2181 §8 */
        } else if (!t->quoted && !h->have_class && dns_class_from_text(t->p, t->len, &v) == 0 &&
                   !(v == DNS_CLASS_ANY && i + 1 == sh->ntok)) {
            h->have_class = true;
            h->rclass = v;
        } else if (!t->quoted && dns_type_from_text(t->p, t->len, &v) == 0) {
            h->type = v;
            *next_out = i + 1;
            return 0;
        } else {
            return zf_fail(f, f->entry_line, ERR_PARSE, "unknown RR type '%.*s'", (int)t->len,
                           t->p);
        }
    }
    return zf_fail(f, f->entry_line, ERR_PARSE, "missing RR type");
}

/* Picks the record's TTL by the rules in zonefile.h. */
static int zf_ttl(struct zf_file *f, struct zf_head *h, const uint8_t *rdata, size_t rdlen)
{
    struct zf_shared *sh = f->sh;
    if (h->have_ttl) {
        sh->last_ttl = h->ttl;
        sh->have_last_ttl = true;
        return 0;
    }
    if (sh->have_default_ttl)
        h->ttl = sh->default_ttl;
    else if (sh->have_last_ttl)
        h->ttl = sh->last_ttl;
    else if (h->type == DNS_TYPE_SOA && rdlen >= 20)
        h->ttl = dns_soa_minimum(rdata, rdlen);
    else if (sh->flags & DNS_ZF_TTL_OPTIONAL)
        h->ttl = 0;
    else
        return zf_fail(f, f->entry_line, ERR_PARSE, "no TTL specified");
    if (!sh->have_default_ttl) {
        sh->last_ttl = h->ttl;
        sh->have_last_ttl = true;
    }
    return 0;
}

static int zf_record(struct zf_file *f, bool leading_ws)
{
    struct zf_shared *sh = f->sh;
    size_t first = 0;
    if (!leading_ws) {
        int rc = zf_name(f, &sh->tok[0], f->origin, f->owner);
        if (rc)
            return rc;
        f->have_owner = true;
        first = 1;
    } else if (!f->have_owner) {
        return zf_fail(f, f->entry_line, ERR_PARSE, "no current owner name");
    }
    struct zf_head h = {.rclass = DNS_CLASS_IN};
    size_t next = 0;
    int rc = zf_head(f, first, &h, &next);
    if (rc)
        return rc;
    if (h.rclass != DNS_CLASS_IN)
        return zf_fail(f, f->entry_line, ERR_PARSE, "class is not IN");
    const struct dns_type_desc *d = dns_type_desc(h.type);
    if (d && (d->flags & (DNS_TF_META | DNS_TF_QTYPE)))
        return zf_fail(f, f->entry_line, ERR_PARSE, "meta type %s in a zone file", d->name);
    size_t rdlen = 0;
    const char *why = "bad rdata";
    rc = dns_rdata_from_text(h.type, sh->tok + next, sh->ntok - next, f->origin, sh->rdata, 65535,
                             &rdlen, &why);
    if (rc)
        return zf_fail(f, f->entry_line, rc, "%s", why);
    rc = zf_ttl(f, &h, sh->rdata, rdlen);
    if (rc)
        return rc;
    struct dns_zonefile_rr rr = {f->owner,  h.type,          h.rclass, h.ttl,
                                 sh->rdata, (uint16_t)rdlen, f->name,  f->entry_line};
    why = "record refused";
    rc = sh->fn(sh->ctx, &rr, &why);
    if (rc)
        return zf_fail(f, f->entry_line, rc, "%s", why);
    return 0;
}

static int zf_file_run(struct zf_file *f)
{
    for (;;) {
        bool ws = false;
        int rc = zf_entry(f, &ws);
        if (rc <= 0)
            return rc;
        const struct dns_token *t = &f->sh->tok[0];
        if (!ws && !t->quoted && t->len && t->p[0] == '$')
            rc = zf_directive(f);
        else
            rc = zf_record(f, ws);
        if (rc)
            return rc;
    }
}

int dns_zonefile_parse(const char *text, size_t len, const char *fname, const uint8_t *origin,
                       unsigned flags, dns_zonefile_fn fn, void *ctx, struct str *err_out)
{
    struct zf_shared sh = {.flags = flags, .fn = fn, .ctx = ctx, .err = err_out};
    sh.rdata = xmalloc(65535);
    struct zf_file f = {.sh = &sh, .name = fname, .text = text, .len = len, .line = 1};
    dns_name_copy(f.origin, origin);
    int rc = zf_file_run(&f);
    free(sh.tok);
    free(sh.rdata);
    return rc;
}

int dns_zonefile_read(const char *path, const uint8_t *origin, unsigned flags, dns_zonefile_fn fn,
                      void *ctx, struct str *err_out)
{
    char *text = NULL;
    size_t len = 0;
    int eno = 0;
    int rc = file_slurp(path, &text, &len, &eno);
    if (rc) {
        if (err_out)
            str_appendf(err_out, "%s: cannot read: %s", path, strerror(eno));
        return rc;
    }
    rc = dns_zonefile_parse(text, len, path, origin, flags, fn, ctx, err_out);
    free(text);
    return rc;
}
