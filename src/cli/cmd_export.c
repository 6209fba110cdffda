/* cmd_export — `pigeon export maildir USER DEST [MAILBOX]` and `pigeon export mbox USER FILE
 * [MAILBOX]`: a user's mail in the formats Dovecot, mutt and other servers read, keeping
 * flags, internal dates and folders (the inverse of cmd_import.c). Maildir: every mailbox (or
 * MAILBOX and its children) as Maildir++ (INBOX at the top, "A/B" as ".A.B" in modified
 * UTF-7), files named "<date>.P<uid>.pigeon:2,<flags>" with LF line ends and the internal
 * date as mtime, keywords in each folder's dovecot-keywords. mbox: one mailbox (default
 * INBOX) in one file. DEST must not exist. Reads the store; blocks on disk I/O. */
#include "cli/cli.h"

#include "core/err.h"
#include "core/str.h"
#include "core/xmalloc.h"
#include "imap/mutf7.h"
#include "msg/mailfile.h"
#include "store/imap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define ADDR_CAP 512

/* One message of a mailbox, copied out of the store's callback. */
struct xmsg {
    int64_t uid, date;
    char *path, *flags;
};

struct xlist {
    struct xmsg *v;
    size_t n, cap;
};

static void xlist_add(void *vctx, const struct store_msg_info *m)
{
    struct xlist *l = vctx;
    if (l->n == l->cap)
        l->v = xrealloc(l->v, (l->cap = l->cap ? 2 * l->cap : 64) * sizeof *l->v);
    l->v[l->n++] = (struct xmsg){m->uid, m->internal_date, xstrdup(m->blob_path),
                                 xstrdup(m->flags ? m->flags : "")};
}

static void xlist_free(struct xlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].path), free(l->v[i].flags);
    free(l->v);
    *l = (struct xlist){0};
}

/* Writes data to a new file path (0600), fsynced. */
static int file_write(const char *path, const char *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    for (size_t off = 0; off < n;) {
        ssize_t w = write(fd, data + off, n - off);
        if (w < 0 && errno != EINTR) {
            close(fd);
            return -1;
        }
        off += w > 0 ? (size_t)w : 0;
    }
    int rc = fsync(fd);
    return close(fd) != 0 ? -1 : rc;
}

/* The stored message (CRLF) with LF line ends, as Maildir and mbox files keep them. */
static void crlf_to_lf(const struct str *in, struct str *out)
{
    str_reset(out);
    for (size_t i = 0; i < in->len; i++)
        if (!(in->ptr[i] == '\r' && i + 1 < in->len && in->ptr[i + 1] == '\n'))
            str_append(out, in->ptr + i, 1);
}

/* ---- Maildir ---- */

struct names {
    char **v;
    size_t n;
};

static void name_add(void *vctx, const struct store_imap_name *n)
{
    struct names *ns = vctx;
    if (!n->exists)
        return;
    ns->v = xrealloc(ns->v, (ns->n + 1) * sizeof *ns->v);
    ns->v[ns->n++] = xstrdup(n->name);
}

/* DEST for INBOX (or the chosen top), DEST/.A.B for A/B below it. */
static int folder_dir(const char *dest, const char *top, const char *name, struct str *out)
{
    str_appends(out, dest);
    size_t tl = strlen(top);
    const char *rel = !strcmp(top, "INBOX") && strcmp(name, "INBOX") != 0 ? name
                      : !strcmp(name, top)                                 ? ""
                                                                           : name + tl + 1;
    if (!*rel)
        return 0;
    if (strchr(rel, '.'))
        return ERR_PARSE; /* Maildir++ keeps levels apart with '.' */
    struct str enc = STR_INIT;
    int rc = imap_utf8_to_mutf7(rel, strlen(rel), &enc);
    for (size_t i = 0; i < enc.len; i++)
        if (enc.ptr[i] == '/')
            enc.ptr[i] = '.';
    if (rc == 0)
        str_appendf(out, "/.%s", enc.ptr);
    str_clear(&enc);
    return rc;
}

static int maildir_make(const char *dir, bool folder)
{
    struct str p = STR_INIT;
    int rc = mkdir(dir, 0700) == 0 || (errno == EEXIST && !folder) ? 0 : -1;
    static const char *const subs[] = {"cur", "new", "tmp"};
    for (size_t i = 0; rc == 0 && i < 3; i++) {
        str_reset(&p);
        str_appendf(&p, "%s/%s", dir, subs[i]);
        rc = mkdir(str_cstr(&p), 0700);
    }
    if (rc == 0 && folder) { /* Maildir++ marks a folder so */
        str_reset(&p);
        str_appendf(&p, "%s/maildirfolder", dir);
        rc = file_write(str_cstr(&p), "", 0);
    }
    str_clear(&p);
    return rc;
}

static int keywords_write(const char *dir, const struct mailfile_keywords *kw)
{
    struct str text = STR_INIT, p = STR_INIT;
    for (int i = 0; i < MAILFILE_KEYWORDS; i++)
        if (kw->name[i])
            str_appendf(&text, "%d %s\n", i, kw->name[i]);
    str_appendf(&p, "%s/dovecot-keywords", dir);
    int rc = text.len ? file_write(str_cstr(&p), text.ptr, text.len) : 0;
    str_clear(&text), str_clear(&p);
    return rc;
}

static int maildir_mailbox(struct store *st, const char *user, const char *name, const char *dir,
                           long long *count)
{
    struct xlist l = {0};
    int rc = store_mailbox_messages(st, user, name, xlist_add, &l);
    if (rc < 0)
        return cli_fail("cannot read mailbox %s: %s", name, err_str(rc));
    struct mailfile_keywords kw = {0};
    struct str data = STR_INIT, lf = STR_INIT, letters = STR_INIT, path = STR_INIT;
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        const struct xmsg *m = &l.v[i];
        if (cli_file_read(m->path, &data) != 0) {
            rc = cli_fail("cannot read %s: %s", m->path, strerror(errno));
            break;
        }
        crlf_to_lf(&data, &lf);
        str_reset(&letters);
        mailfile_maildir_flags_format(m->flags, &kw, &letters);
        str_reset(&path);
        str_appendf(&path, "%s/cur/%lld.P%lld.pigeon,S=%zu:2,%s", dir, (long long)m->date,
                    (long long)m->uid, lf.len, str_cstr(&letters));
        struct timeval tv[2] = {{(time_t)m->date, 0}, {(time_t)m->date, 0}};
        if (file_write(str_cstr(&path), lf.ptr ? lf.ptr : "", lf.len) != 0 ||
            utimes(str_cstr(&path), tv) != 0)
            rc = cli_fail("cannot write %s: %s", str_cstr(&path), strerror(errno));
        else
            (*count)++;
    }
    if (rc == 0 && keywords_write(dir, &kw) != 0)
        rc = cli_fail("cannot write %s/dovecot-keywords: %s", dir, strerror(errno));
    for (int i = 0; i < MAILFILE_KEYWORDS; i++)
        free(kw.name[i]);
    str_clear(&data), str_clear(&lf), str_clear(&letters), str_clear(&path);
    xlist_free(&l);
    return rc;
}

int cli_export_maildir(struct cli_ctx *ctx, int argc, char **argv)
{
    char addr[ADDR_CAP];
    struct store *st;
    struct str top = STR_INIT, dir = STR_INIT;
    int rc = cli_mailbox_name(argc > 2 ? argv[2] : "INBOX", &top);
    if (rc == 0)
        rc = cli_user_open(ctx, argv[0], addr, sizeof addr, &st);
    const char *dest = argv[1];
    if (rc == 0 && mkdir(dest, 0700) != 0)
        rc = cli_fail("cannot create %s: %s", dest, strerror(errno));
    struct names ns = {0};
    if (rc == 0 && (rc = store_imap_list(st, addr, name_add, &ns)) < 0)
        rc = cli_fail("cannot list mailboxes of %s: %s", addr, err_str(rc));
    long long count = 0, boxes = 0;
    size_t tl = top.len;
    for (size_t i = 0; rc == 0 && i < ns.n; i++) {
        const char *name = ns.v[i];
        bool inside = !strcmp(top.ptr, "INBOX") ||
                      (!strncmp(name, top.ptr, tl) && (!name[tl] || name[tl] == '/'));
        if (!inside)
            continue;
        str_reset(&dir);
        if (folder_dir(dest, top.ptr, name, &dir) != 0) {
            rc = cli_fail("mailbox %s cannot be a Maildir++ folder (a '.' in its name)", name);
            break;
        }
        if (maildir_make(str_cstr(&dir), strcmp(str_cstr(&dir), dest) != 0) != 0) {
            rc = cli_fail("cannot create %s: %s", str_cstr(&dir), strerror(errno));
            break;
        }
        rc = maildir_mailbox(st, addr, name, str_cstr(&dir), &count);
        boxes++;
    }
    for (size_t i = 0; i < ns.n; i++)
        free(ns.v[i]);
    free(ns.v);
    if (rc == 0)
        printf("exported %lld messages in %lld mailboxes of %s to %s\n", count, boxes, addr,
               dest);
    str_clear(&top), str_clear(&dir);
    return rc;
}

/* ---- mbox ---- */

/* The reverse-path of a stored message ("Return-Path: <a@b>" at its top), for "From ". */
static void return_path(const struct str *data, char *out, size_t cap)
{
    out[0] = '\0';
    if (data->len > 14 && !strncasecmp(data->ptr, "Return-Path:", 12)) {
        const char *lt = memchr(data->ptr, '<', data->len);
        const char *gt = lt ? memchr(lt, '>', data->len - (size_t)(lt - data->ptr)) : NULL;
        if (gt && (size_t)(gt - lt - 1) < cap && !memchr(lt, ' ', (size_t)(gt - lt)))
            snprintf(out, cap, "%.*s", (int)(gt - lt - 1), lt + 1);
    }
}

int cli_export_mbox(struct cli_ctx *ctx, int argc, char **argv)
{
    char addr[ADDR_CAP];
    struct store *st;
    struct str box = STR_INIT;
    int rc = cli_mailbox_name(argc > 2 ? argv[2] : "INBOX", &box);
    if (rc == 0)
        rc = cli_user_open(ctx, argv[0], addr, sizeof addr, &st);
    struct xlist l = {0};
    if (rc == 0 && (rc = store_mailbox_messages(st, addr, box.ptr, xlist_add, &l)) < 0)
        rc = cli_fail("cannot read mailbox %s of %s: %s", box.ptr, addr, err_str(rc));
    struct str data = STR_INIT, out = STR_INIT;
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        if (cli_file_read(l.v[i].path, &data) != 0) {
            rc = cli_fail("cannot read %s: %s", l.v[i].path, strerror(errno));
            break;
        }
        char sender[256];
        return_path(&data, sender, sizeof sender);
        mailfile_mbox_append(&out, sender, l.v[i].date, l.v[i].flags, data.ptr, data.len);
    }
    if (rc == 0 && file_write(argv[1], out.ptr ? out.ptr : "", out.len) != 0)
        rc = cli_fail("cannot write %s: %s", argv[1], strerror(errno));
    if (rc == 0)
        printf("exported %zu messages of %s %s to %s\n", l.n, addr, box.ptr, argv[1]);
    xlist_free(&l);
    str_clear(&data), str_clear(&out), str_clear(&box);
    return rc;
}
