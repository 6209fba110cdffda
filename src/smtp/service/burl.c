/*
 * smtp service, BURL — the submission server's side of RFC 4468: the content a URL names,
 * taken from this server's own IMAP store. Only URLs of the form
 *
 *     imap://owner@host/mailbox[;UIDVALIDITY=v]/;UID=u[/;SECTION=s][/;PARTIAL=a.b]
 *            [;EXPIRE=t];URLAUTH=submit+user:INTERNAL:token
 *
 * are fetched, where user is the one authenticated on this SMTP session (RFC 4467 §3: a
 * "submit+" URL is for a submission server acting for that user; its owner made it with
 * GENURLAUTH). The token is checked against the owner's mailbox key (store/imap_urlauth.h,
 * imap/urlauth.h), then EXPIRE and UIDVALIDITY; the message file is read and the section cut
 * as URLFETCH does (imap/url.h). Every failure is X.6.6 "message content not available"
 * (RFC 4468 §6), 4xx when the store itself failed. Small blocking reads on the worker, as
 * IMAP's reads are.
 */
#include "smtp/service/service_int.h"

#include "core/err.h"
#include "core/log.h"
#include "host/host.h"
#include "imap/url.h"
#include "imap/urlauth.h"
#include "store/imap.h"
#include "store/imap_urlauth.h"

#include <fcntl.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

_Static_assert(IMAP_URLAUTH_KEY_LEN == STORE_URLAUTH_KEY_LEN, "URLAUTH keys are passed through");

#define R_BADURL "554 5.6.6 IMAP URL resolution failed"

/* Appends what u names of the message file blob to out; false when it names nothing. */
static bool cut_file(const char *data_dir, const char *blob, const struct imap_url *u,
                     struct str *out)
{
    struct str path = STR_INIT;
    store_imap_blob_path(data_dir, blob, &path);
    int fd = open(str_cstr(&path), O_RDONLY | O_CLOEXEC);
    str_clear(&path);
    struct stat sb;
    bool ok = false;
    if (fd >= 0 && fstat(fd, &sb) == 0) {
        if (sb.st_size == 0) {
            ok = imap_url_content(u, "", 0, out);
        } else {
            void *m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
            if (m != MAP_FAILED) {
                ok = imap_url_content(u, m, (size_t)sb.st_size, out);
                munmap(m, (size_t)sb.st_size);
            }
        }
    }
    if (fd >= 0)
        close(fd);
    return ok;
}

/* The checks of RFC 4467 for a submission server acting for user; the reply when refused. */
static const char *check_url(struct store *st, const struct imap_url *u, const char *raw,
                             const char *user, char blob_out[40])
{
    if (!u->absolute || u->access == IMAP_URL_ACCESS_NONE || !u->mech.len)
        return "554 5.6.6 BURL takes URLAUTH-authorized imap:// URLs";
    if (u->access != IMAP_URL_ACCESS_SUBMIT || strcasecmp(str_cstr(&u->access_user), user) != 0)
        return "554 5.6.6 The URL is not authorized for submission by you (submit+user)";
    if (u->expire && u->expire <= (int64_t)time(NULL))
        return "554 5.6.6 The URL has expired";
    unsigned char key[STORE_URLAUTH_KEY_LEN];
    int rc = store_imap_urlauth_key(st, str_cstr(&u->owner), str_cstr(&u->mailbox), false, key);
    if (rc == ERR_NOTFOUND || (rc == 0 && !imap_urlauth_token_ok(u, raw, key)))
        return R_BADURL;
    if (rc != 0)
        return "454 4.6.6 Temporary failure reading the URL's mailbox";
    int64_t uidv = 0;
    rc = store_imap_locate(st, str_cstr(&u->owner), str_cstr(&u->mailbox), u->uid, &uidv, blob_out);
    if (rc == ERR_NOTFOUND || rc == ERR_PARSE ||
        (rc == 0 && u->uidvalidity && (int64_t)u->uidvalidity != uidv))
        return R_BADURL;
    if (rc != 0)
        return "454 4.6.6 Temporary failure reading the URL's message";
    return NULL;
}

int smtp_burl_fetch(void *vc, struct smtp_session *s, const char *url, size_t n, const char *user,
                    struct str *out, const char **reply_out)
{
    struct worker *w = conn_worker(vc);
    struct imap_url u;
    imap_url_init(&u);
    const char *err = NULL;
    char blob[40] = "";
    if (n > IMAP_URL_MAX || imap_url_parse(url, n, &u, &err) != 0)
        *reply_out = "554 5.6.6 Not an IMAP URL of this server";
    else
        *reply_out = check_url(w->store, &u, url, user, blob);
    if (!*reply_out && !cut_file(w->d->cfg.data_dir, blob, &u, out))
        *reply_out = R_BADURL;
    imap_url_clear(&u);
    if (*reply_out) {
        log_info("smtp " LOG_ID " burl: %s", LOG_IDV(smtp_session_id(s)), *reply_out);
        return **reply_out == '4' ? ERR_AGAIN : ERR_NOTFOUND;
    }
    return 0;
}
