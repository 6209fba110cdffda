/*
 * libFuzzer target for the IMAP URLs of CATENATE and URLAUTH (imap/url.h): the input is one
 * URL. Checks: the parser never reads past it (ASan); a URL it accepts names a valid
 * stored-form mailbox (re-checked with imap/mailbox_name.h), a uid of 1..2^32-1, a PARTIAL
 * count >= 1, URLAUTH parts only in the imap:// form with an owner, a token only with a
 * mechanism; its
 * section, when there is one, then goes to imap_section_parse as CATENATE gives it, and the
 * URL is resolved against a small MIME message (imap_url_content, as URLFETCH and BURL cut
 * it: what it gives lies within the message) and its token checked (imap/urlauth.h). The
 * commands around it (CATENATE, METADATA, CONTEXT, NOTIFY) are fuzzed whole by
 * fuzz_imap_session.
 */
#include "core/err.h"
#include "imap/fetch_att.h"
#include "imap/mailbox_name.h"
#include "imap/url.h"
#include "imap/urlauth.h"
#include "msg/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size ? size : 1); /* exactly size bytes: ASan sees any over-read */
    memcpy(copy, data, size);
    struct imap_url u;
    const char *err = NULL;
    imap_url_init(&u);
    if (imap_url_parse(copy, size, &u, &err) == 0) {
        if (u.uid == 0 || !u.mailbox.len || (u.partial && u.count == 0))
            abort();
        if (imap_mailbox_name_check(u.mailbox.ptr, u.mailbox.len, &err) != 0)
            abort();
        /* URLAUTH (RFC 4467): only in the imap:// form, with an owner; the rump lies within
         * the input; a token is at least 32 hex digits after a mechanism */
        if (u.access != IMAP_URL_ACCESS_NONE && (!u.absolute || u.rump_len > size))
            abort();
        if (u.absolute && (!u.owner.len || !strchr(u.owner.ptr, '@')))
            abort();
        if ((u.mech.len != 0) != (u.token.len != 0) || (u.token.len && u.token.len < 32))
            abort();
        if (u.section.len) {
            struct msg_arena a;
            struct mime_section sec;
            msg_arena_init(&a, 256);
            imap_section_parse(u.section.ptr, u.section.len, &a, &sec, NULL, &err);
            msg_arena_clear(&a);
        }
        static const char msg[] = "Subject: s\r\nContent-Type: multipart/mixed; boundary=b\r\n"
                                  "\r\n--b\r\nContent-Type: text/plain\r\n\r\none\r\n"
                                  "--b\r\nContent-Type: message/rfc822\r\n\r\n"
                                  "Subject: in\r\n\r\ntwo\r\n--b--\r\n";
        struct str got = STR_INIT;
        if (imap_url_content(&u, msg, sizeof msg - 1, &got) && got.len > sizeof msg - 1)
            abort();
        str_clear(&got);
        static const unsigned char key[IMAP_URLAUTH_KEY_LEN] = {1, 2, 3};
        if (u.access != IMAP_URL_ACCESS_NONE)
            (void)imap_urlauth_token_ok(&u, copy, key);
    } else if (!err) {
        abort();
    }
    imap_url_clear(&u);
    free(copy);
    return 0;
}
