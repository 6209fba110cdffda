/* jmap/ws — see ws.h: RFC 6455 framing for the server side of JMAP over WebSocket. */
#include "jmap/ws.h"

#include "msg/base64.h"
#include "msg/utf8.h"

#include <openssl/sha.h>
#include <string.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

void jmap_ws_reader_init(struct jmap_ws_reader *r, uint64_t max_msg)
{
    *r = (struct jmap_ws_reader){.max_msg = max_msg};
}

void jmap_ws_reader_clear(struct jmap_ws_reader *r)
{
    str_clear(&r->in);
    str_clear(&r->msg);
    str_clear(&r->ctl);
}

void jmap_ws_feed(struct jmap_ws_reader *r, const char *p, size_t n)
{
    if (r->pos && r->pos == r->in.len) {
        str_reset(&r->in); /* everything parsed: start the buffer over */
        r->pos = 0;
    } else if (r->pos > 65536) {
        memmove(r->in.ptr, r->in.ptr + r->pos, r->in.len - r->pos);
        r->in.len -= r->pos;
        r->pos = 0;
    }
    str_append(&r->in, p, n);
}

struct head {
    bool fin;
    int op;
    uint64_t len;
    unsigned char mask[4];
    size_t size; /* octets of the header */
};

/* Parses a frame header at p[0..n): 1 done, 0 more needed, < 0 -(close code). */
static int head_parse(const unsigned char *p, size_t n, struct head *h)
{
    if (n < 2)
        return 0;
    h->fin = p[0] & 0x80;
    h->op = p[0] & 0x0f;
    if (p[0] & 0x70)
        return -JMAP_WS_PROTOCOL_ERROR; /* §5.2: no extension was negotiated */
    if (!(p[1] & 0x80))
        return -JMAP_WS_PROTOCOL_ERROR; /* §5.1: a client's frames are masked */
    uint64_t len = p[1] & 0x7f;
    size_t at = 2;
    if (len == 126) {
        if (n < 4)
            return 0;
        len = (uint64_t)p[2] << 8 | p[3];
        at = 4;
    } else if (len == 127) {
        if (n < 10)
            return 0;
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | p[2 + i];
        if (len >> 63)
            return -JMAP_WS_PROTOCOL_ERROR;
        at = 10;
    }
    if (n < at + 4)
        return 0;
    memcpy(h->mask, p + at, 4);
    h->len = len;
    h->size = at + 4;
    return 1;
}

static int check(const struct jmap_ws_reader *r, const struct head *h)
{
    if (h->op & 0x8) { /* control frames: §5.5 */
        if (h->op != JMAP_WS_CLOSE && h->op != JMAP_WS_PING && h->op != JMAP_WS_PONG)
            return -JMAP_WS_PROTOCOL_ERROR;
        if (!h->fin || h->len > 125)
            return -JMAP_WS_PROTOCOL_ERROR;
        return 0;
    }
    if (h->op != JMAP_WS_CONT && h->op != JMAP_WS_TEXT && h->op != JMAP_WS_BINARY)
        return -JMAP_WS_PROTOCOL_ERROR;
    if ((h->op == JMAP_WS_CONT) != (r->msg_op != 0))
        return -JMAP_WS_PROTOCOL_ERROR; /* §5.4: a continuation only inside a message */
    if (h->len > r->max_msg || r->msg.len + h->len > r->max_msg)
        return -JMAP_WS_TOO_BIG;
    return 0;
}

/* A code a Close frame may carry (§7.4): the defined ones but 1005, 1006 and 1015, which
 * "MUST NOT be set as a status code in a Close control frame by an endpoint" (§7.4.1), the
 * IANA-registered 1012-1014, and 3000-4999 (§7.4.2). */
static bool close_code_ok(unsigned code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

static int control(struct jmap_ws_reader *r, const struct head *h, struct jmap_ws_event *ev)
{
    ev->op = (enum jmap_ws_op)h->op;
    ev->data = r->ctl.ptr ? r->ctl.ptr : "";
    ev->len = r->ctl.len;
    if (h->op == JMAP_WS_CLOSE) {
        if (r->ctl.len == 1)
            return -JMAP_WS_PROTOCOL_ERROR;
        ev->close_code = 1005; /* §7.1.5: no status code was present */
        if (r->ctl.len >= 2) {
            const unsigned char *c = (const unsigned char *)r->ctl.ptr;
            ev->close_code = (unsigned)c[0] << 8 | c[1];
            ev->data += 2;
            ev->len -= 2;
            if (!close_code_ok(ev->close_code))
                return -JMAP_WS_PROTOCOL_ERROR; /* the glue would echo it */
            if (!utf8_valid(ev->data, ev->len))
                return -JMAP_WS_INVALID_DATA; /* §5.5.1: the reason is UTF-8 (§8.1) */
        }
    }
    return 1;
}

int jmap_ws_next(struct jmap_ws_reader *r, struct jmap_ws_event *ev)
{
    if (r->msg_ready) { /* the message handed out last time is done with */
        str_reset(&r->msg);
        r->msg_ready = false;
    }
    for (;;) {
        const unsigned char *p = (const unsigned char *)r->in.ptr + r->pos;
        size_t n = r->in.len - r->pos;
        struct head h;
        int rc = r->in.ptr ? head_parse(p, n, &h) : 0;
        if (rc <= 0)
            return rc;
        if ((rc = check(r, &h)) < 0)
            return rc;
        if (n - h.size < h.len)
            return 0;
        bool ctl = h.op & 0x8;
        struct str *dst = ctl ? &r->ctl : &r->msg;
        if (ctl)
            str_reset(dst);
        size_t base = dst->len;
        str_append(dst, (const char *)p + h.size, (size_t)h.len);
        for (size_t i = 0; i < h.len; i++)
            dst->ptr[base + i] ^= (char)h.mask[i & 3];
        r->pos += h.size + (size_t)h.len;
        if (ctl)
            return control(r, &h, ev);
        if (h.op != JMAP_WS_CONT)
            r->msg_op = h.op;
        if (!h.fin)
            continue;
        ev->op = (enum jmap_ws_op)r->msg_op;
        ev->data = r->msg.ptr ? r->msg.ptr : "";
        ev->len = r->msg.len;
        r->msg_op = 0;
        if (ev->op == JMAP_WS_TEXT && !utf8_valid(ev->data, ev->len))
            return -JMAP_WS_INVALID_DATA; /* §8.1 */
        r->msg_ready = true;
        return 1;
    }
}

void jmap_ws_frame(struct str *out, enum jmap_ws_op op, const char *p, size_t n)
{
    unsigned char h[10];
    size_t hl = 2;
    h[0] = (unsigned char)(0x80 | op);
    if (n < 126) {
        h[1] = (unsigned char)n;
    } else if (n < 65536) {
        h[1] = 126;
        h[2] = (unsigned char)(n >> 8);
        h[3] = (unsigned char)n;
        hl = 4;
    } else {
        h[1] = 127;
        for (int i = 0; i < 8; i++)
            h[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
        hl = 10;
    }
    str_append(out, (const char *)h, hl);
    if (n)
        str_append(out, p, n);
}

void jmap_ws_close_frame(struct str *out, unsigned code, const char *reason)
{
    char payload[125];
    size_t rl = strlen(reason);
    if (rl > sizeof payload - 2)
        rl = sizeof payload - 2;
    payload[0] = (char)(code >> 8);
    payload[1] = (char)code;
    memcpy(payload + 2, reason, rl);
    jmap_ws_frame(out, JMAP_WS_CLOSE, payload, rl + 2);
}

bool jmap_ws_accept(const char *key, size_t len, char out[29])
{
    unsigned char raw[64];
    size_t rawn = 0;
    if (len != 24 || base64_decode(key, len, raw, &rawn) != 0 || rawn != 16)
        return false;
    char buf[24 + sizeof WS_GUID];
    memcpy(buf, key, 24);
    memcpy(buf + 24, WS_GUID, sizeof WS_GUID - 1);
    unsigned char md[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)buf, 24 + sizeof WS_GUID - 1, md);
    size_t k = base64_encode(md, sizeof md, out);
    out[k] = '\0';
    return k == 28;
}
