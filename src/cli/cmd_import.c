/* cmd_import — `pigeon import maildir|mbox SOURCE USER [MAILBOX]`: messages from another
 * server or client into a user's mailboxes, keeping flags (Maildir letters and Dovecot's
 * keywords; mbox Status:/X-Status:/X-Keywords:), internal dates (a Maildir file's mtime, the
 * date of an mbox "From " line) and folders (Maildir++ ".A.B" directories, names in
 * modified UTF-7, become A/B). Each message is written durably (store_imap_append_*); rows
 * are committed in batches of IMPORT_BATCH. Blocks on disk I/O; pigeond may run meanwhile
 * (IMAP clients see the new messages at their next poll). */
#include "cli/cli.h"

#include "core/err.h"
#include "core/str.h"
#include "core/xmalloc.h"
#include "imap/mailbox_name.h"
#include "imap/mutf7.h"
#include "msg/mailfile.h"
#include "store/imap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define ADDR_CAP 512
#define IMPORT_BATCH 100

int cli_mailbox_name(const char *arg, struct str *out)
{
    const char *why = NULL;
    str_appends(out, arg);
    imap_mailbox_name_normalize(out);
    if (imap_mailbox_name_check(out->ptr, out->len, &why) < 0)
        return cli_fail("bad mailbox name %s: %s", arg, why);
    return 0;
}

struct importer {
    struct store *st;
    const char *user;
    size_t in_batch;
    long long messages, mailboxes;
};

static int batch_flush(struct importer *im)
{
    if (im->in_batch == 0)
        return 0;
    im->in_batch = 0;
    return store_imap_batch_end(im->st, true);
}

/* The mailbox exists afterwards (created with its parents when missing). */
static int mailbox_ensure(struct importer *im, const char *name)
{
    int rc = batch_flush(im);
    if (rc == 0)
        rc = store_imap_create(im->st, im->user, name);
    if (rc == ERR_EXISTS)
        rc = 0;
    else if (rc == 0)
        im->mailboxes++;
    if (rc < 0)
        return cli_fail("cannot create mailbox %s: %s (%s)", name, err_str(rc),
                        store_errmsg(im->st));
    return 0;
}

/* One message: the file durably first, its row in the open batch. */
static int message_add(struct importer *im, const char *mailbox, const char *data, size_t len,
                       const char *flags, int64_t date)
{
    char blob[33];
    int rc = store_imap_append_blob(im->st, data, len, blob);
    if (rc == 0 && im->in_batch == 0)
        rc = store_imap_batch_begin(im->st);
    if (rc == 0) {
        int64_t mb, uv, uid;
        im->in_batch++;
        rc = store_imap_append_rows(im->st, im->user, mailbox, blob, len, flags, date, &mb, &uv,
                                    &uid);
    }
    if (rc == 0 && im->in_batch >= IMPORT_BATCH)
        rc = batch_flush(im);
    if (rc < 0)
        return cli_fail("cannot store a message in %s: %s (%s)", mailbox, err_str(rc),
                        store_errmsg(im->st));
    im->messages++;
    return 0;
}

static int importer_open(struct cli_ctx *ctx, const char *user_arg, char *addr,
                         struct importer *im)
{
    *im = (struct importer){0};
    if (cli_user_open(ctx, user_arg, addr, ADDR_CAP, &im->st) != 0)
        return CLI_FAIL;
    im->user = addr;
    return 0;
}

static int importer_done(struct importer *im, const char *what)
{
    int rc = batch_flush(im);
    if (rc < 0)
        return cli_fail("cannot commit: %s (%s)", err_str(rc), store_errmsg(im->st));
    printf("imported %lld messages from %s for %s (%lld new mailboxes)\n", im->messages, what,
           im->user, im->mailboxes);
    return CLI_OK;
}

int cli_file_read(const char *path, struct str *out)
{
    str_reset(out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        str_append(out, buf, (size_t)n);
    int err = errno;
    close(fd);
    errno = err;
    return n < 0 ? -1 : 0;
}

/* ---- Maildir ---- */

/* dovecot-keywords: "N name" lines, N the letter index. */
static void keywords_read(const char *dir, struct mailfile_keywords *kw)
{
    struct str p = STR_INIT;
    str_appendf(&p, "%s/dovecot-keywords", dir);
    FILE *f = fopen(str_cstr(&p), "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        char name[256];
        int idx;
        if (sscanf(line, "%d %255s", &idx, name) == 2 && idx >= 0 && idx < MAILFILE_KEYWORDS &&
            !kw->name[idx])
            kw->name[idx] = xstrdup(name);
    }
    if (f)
        fclose(f);
    str_clear(&p);
}

static void keywords_clear(struct mailfile_keywords *kw)
{
    for (int i = 0; i < MAILFILE_KEYWORDS; i++)
        free(kw->name[i]);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The file names of dir (not starting with '.'), sorted: Maildir names start with the time
 * of delivery, so this is arrival order. */
static char **names_list(const char *dir, size_t *n_out)
{
    *n_out = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **v = NULL;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (*n_out == cap) {
            cap = cap ? 2 * cap : 64;
            v = xrealloc(v, cap * sizeof *v);
        }
        v[(*n_out)++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (*n_out)
        qsort(v, *n_out, sizeof *v, name_cmp);
    return v;
}

static void names_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Imports cur/ and new/ of one maildir folder into mailbox. */
static int maildir_folder(struct importer *im, const char *dir, const char *mailbox)
{
    if (mailbox_ensure(im, mailbox) != 0)
        return CLI_FAIL;
    struct mailfile_keywords kw = {0};
    keywords_read(dir, &kw);
    struct str path = STR_INIT, data = STR_INIT, crlf = STR_INIT, flags = STR_INIT;
    int rc = 0;
    static const char *const subs[] = {"cur", "new"};
    for (size_t s = 0; rc == 0 && s < 2; s++) {
        str_reset(&path);
        str_appendf(&path, "%s/%s", dir, subs[s]);
        size_t n;
        char **names = names_list(str_cstr(&path), &n);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            str_reset(&path);
            str_appendf(&path, "%s/%s/%s", dir, subs[s], names[i]);
            struct stat sb;
            if (stat(str_cstr(&path), &sb) != 0 || !S_ISREG(sb.st_mode))
                continue;
            if (cli_file_read(str_cstr(&path), &data) != 0) {
                rc = cli_fail("cannot read %s: %s", str_cstr(&path), strerror(errno));
                break;
            }
            const char *info = strstr(names[i], ":2,");
            str_reset(&flags);
            mailfile_maildir_flags_parse(info ? info + 3 : "", &kw, &flags);
            str_reset(&crlf);
            mailfile_crlf(data.ptr ? data.ptr : "", data.len, &crlf);
            rc = message_add(im, mailbox, crlf.ptr ? crlf.ptr : "", crlf.len, str_cstr(&flags),
                             (int64_t)sb.st_mtime);
        }
        names_free(names, n);
    }
    keywords_clear(&kw);
    str_clear(&path), str_clear(&data), str_clear(&crlf), str_clear(&flags);
    return rc;
}

/* ".Work.Projects" (modified UTF-7, '.' between levels) -> "Work/Projects" under base. */
static int folder_name(const char *dirname, const char *base, struct str *out)
{
    struct str utf8 = STR_INIT;
    int rc = imap_mutf7_to_utf8(dirname + 1, strlen(dirname + 1), &utf8);
    if (rc == 0) {
        for (size_t i = 0; i < utf8.len; i++)
            if (utf8.ptr[i] == '.')
                utf8.ptr[i] = IMAP_MAILBOX_DELIM;
        if (strcmp(base, "INBOX") != 0) /* top-level folders go under another target */
            str_appendf(out, "%s/", base);
        str_append(out, utf8.ptr, utf8.len);
        imap_mailbox_name_normalize(out);
        const char *why;
        rc = imap_mailbox_name_check(out->ptr, out->len, &why);
    }
    str_clear(&utf8);
    return rc;
}

int cli_import_maildir(struct cli_ctx *ctx, int argc, char **argv)
{
    char addr[ADDR_CAP];
    struct importer im = {0};
    struct str base = STR_INIT, sub = STR_INIT, name = STR_INIT;
    const char *src = argv[0];
    int rc = cli_mailbox_name(argc > 2 ? argv[2] : "INBOX", &base);
    if (rc == 0)
        rc = importer_open(ctx, argv[1], addr, &im);
    str_appendf(&sub, "%s/cur", src);
    if (rc == 0 && access(str_cstr(&sub), R_OK) != 0)
        rc = cli_fail("%s is not a Maildir (no readable cur/)", src);
    if (rc == 0)
        rc = maildir_folder(&im, src, str_cstr(&base));
    size_t n = 0;
    char **names = NULL;
    if (rc == 0) { /* Maildir++ folders: hidden directories ".Name" */
        DIR *d = opendir(src);
        struct dirent *e;
        size_t cap = 0;
        while (d && (e = readdir(d))) {
            if (e->d_name[0] != '.' || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            if (n == cap)
                names = xrealloc(names, (cap = cap ? 2 * cap : 16) * sizeof *names);
            names[n++] = xstrdup(e->d_name);
        }
        if (d)
            closedir(d);
        if (n)
            qsort(names, n, sizeof *names, name_cmp); /* parents before children */
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        str_reset(&sub);
        str_appendf(&sub, "%s/%s/cur", src, names[i]);
        if (access(str_cstr(&sub), R_OK) != 0)
            continue; /* not a folder */
        str_reset(&name);
        if (folder_name(names[i], str_cstr(&base), &name) != 0) {
            rc = cli_fail("cannot use folder %s: not a valid mailbox name", names[i]);
            break;
        }
        str_reset(&sub);
        str_appendf(&sub, "%s/%s", src, names[i]);
        rc = maildir_folder(&im, str_cstr(&sub), str_cstr(&name));
    }
    names_free(names, n);
    if (rc == 0)
        rc = importer_done(&im, src);
    else if (im.st && im.in_batch)
        store_imap_batch_end(im.st, false);
    str_clear(&base), str_clear(&sub), str_clear(&name);
    return rc;
}

/* ---- mbox ---- */

int cli_import_mbox(struct cli_ctx *ctx, int argc, char **argv)
{
    char addr[ADDR_CAP];
    struct importer im = {0};
    struct str box = STR_INIT;
    int rc = cli_mailbox_name(argc > 2 ? argv[2] : "INBOX", &box);
    if (rc == 0)
        rc = importer_open(ctx, argv[1], addr, &im);
    int fd = rc == 0 ? open(argv[0], O_RDONLY | O_CLOEXEC) : -1;
    struct stat sb;
    if (rc == 0 && (fd < 0 || fstat(fd, &sb) != 0))
        rc = cli_fail("cannot read %s: %s", argv[0], strerror(errno));
    const char *buf = NULL;
    size_t len = rc == 0 ? (size_t)sb.st_size : 0;
    if (rc == 0 && len > 0) {
        buf = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (buf == MAP_FAILED)
            rc = cli_fail("cannot map %s: %s", argv[0], strerror(errno)), buf = NULL;
    }
    if (rc == 0)
        rc = mailbox_ensure(&im, str_cstr(&box));
    struct mailfile_mbox_msg m = {0, STR_INIT, STR_INIT};
    size_t pos = 0;
    int got;
    while (rc == 0 && buf && (got = mailfile_mbox_next(buf, len, &pos, &m)) != 0) {
        if (got < 0) {
            rc = cli_fail("%s is not an mbox file (no \"From \" line at byte %zu)", argv[0], pos);
            break;
        }
        rc = message_add(&im, str_cstr(&box), m.data.ptr ? m.data.ptr : "", m.data.len,
                         str_cstr(&m.flags), m.date);
    }
    str_clear(&m.data), str_clear(&m.flags);
    if (buf)
        munmap((void *)buf, len);
    if (fd >= 0)
        close(fd);
    if (rc == 0)
        rc = importer_done(&im, argv[0]);
    else if (im.st && im.in_batch)
        store_imap_batch_end(im.st, false);
    str_clear(&box);
    return rc;
}
