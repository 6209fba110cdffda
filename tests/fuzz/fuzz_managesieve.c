/*
 * libFuzzer target for the ManageSieve engine (src/managesieve/): the input is fed to a
 * session (TLS already up, so AUTHENTICATE is allowed) in pieces cut at the input's own
 * bytes, with a fake password check (any PLAIN response logs in) and a fake store that keeps
 * one script; so the command parser, literals, SASL continuations, every verb and the Sieve
 * checks of PUTSCRIPT/CHECKSCRIPT are reached. Checks: no crash, no leak, no over-read.
 */
#include "core/err.h"
#include "core/str.h"
#include "managesieve/session.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct fake {
    size_t out;
    struct str script;
    bool have;
};

static void w(void *io, const char *p, size_t n)
{
    ((struct fake *)io)->out += n;
    if (n && !p)
        abort();
}

static void tls(void *io)
{
}

static const struct managesieve_io io = {w, tls};

static void auth(void *ctx, struct managesieve_session *s, const char *u, const char *p)
{
    managesieve_session_auth_done(s, true, u);
}

static void req(void *ctx, struct managesieve_session *s, const struct managesieve_req *r)
{
    struct fake *f = ctx;
    struct managesieve_script_info info = {"one", true};
    struct managesieve_result res = {0};
    if (r->op == MANAGESIEVE_PUT) {
        str_reset(&f->script);
        str_append(&f->script, r->text, r->len);
        f->have = true;
    } else if (r->op == MANAGESIEVE_GET) {
        res.rc = f->have ? 0 : ERR_NOTFOUND;
        res.text = str_cstr(&f->script);
        res.len = f->script.len;
    } else if (r->op == MANAGESIEVE_LIST) {
        res.scripts = &info;
        res.n = f->have;
    } else if (r->op == MANAGESIEVE_DELETE) {
        res.rc = ERR_BUSY_STATE;
    }
    managesieve_session_request_done(s, &res);
}

static const struct managesieve_session_ops ops = {auth, req};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fake f = {0};
    struct managesieve_server_config cfg = {true, false, 50, 4096, 8, 4};
    struct managesieve_peer peer = {"192.0.2.1", true};
    struct managesieve_session *s = managesieve_session_new(&cfg, &io, &f, &ops, &f, &peer, 1);
    managesieve_session_start(s);
    size_t i = 0;
    while (i < size && !managesieve_session_closing(s)) {
        size_t n = 1 + data[i] % 64; /* piece sizes from the input itself */
        if (n > size - i)
            n = size - i;
        char *piece = malloc(n);
        memcpy(piece, data + i, n);
        size_t used = managesieve_session_feed(s, piece, n);
        free(piece);
        if (used > n)
            abort();
        if (used == 0)
            break;
        i += used;
    }
    managesieve_session_free(s);
    str_clear(&f.script);
    return 0;
}
