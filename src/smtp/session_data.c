/*
 * Message content: DATA and BDAT framing around smtp/data.c, the checks at end of content
 * (size, line length), the headers a submission server adds, and the hand-over to the
 * daemon's durable commit.
 */
#include "smtp/session_int.h"

#include "core/err.h"
#include "core/log.h"
#include "msg/header.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void smtp_content_begin(struct smtp_session *s)
{
    /* The id is chosen here, before the Received: field that carries it, and the store keeps
     * the message under it: one id from the 250 reply to `pigeon queue`. */
    unsigned char rnd[16];
    RAND_bytes(rnd, sizeof rnd);
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(s->txn.id + 2 * i, 3, "%02x", rnd[i]);
    str_reset(&s->txn.body);
    /* RFC 7208 §9.1: Received-SPF goes above the Received: field of this hop. */
    str_append(&s->txn.body, s->trace.ptr ? s->trace.ptr : "", s->trace.len);
    smtp_received_header(&s->txn.body, s, time(NULL));
    smtp_data_init(&s->data, &s->txn.body, s->cfg.max_message_size);
}

/* RFC 6409 §8.2-8.3: a submission server may add Message-ID and Date when they are missing. */
static void add_submission_headers(struct smtp_session *s, size_t trace_len)
{
    const char *msg = s->txn.body.ptr + trace_len;
    size_t len = s->txn.body.len - trace_len;
    size_t hdr = msg_header_end(msg, len);
    bool need_id = !msg_header_has(msg, hdr, "Message-ID");
    bool need_date = !msg_header_has(msg, hdr, "Date");
    if (!need_id && !need_date)
        return;
    struct str add = STR_INIT;
    if (need_date) {
        char date[64];
        msg_date_format(time(NULL), date, sizeof date);
        str_appendf(&add, "Date: %s\r\n", date);
    }
    if (need_id) {
        unsigned char rnd[12];
        RAND_bytes(rnd, sizeof rnd);
        str_appends(&add, "Message-ID: <");
        for (size_t i = 0; i < sizeof rnd; i++)
            str_appendf(&add, "%02x", rnd[i]);
        str_appendf(&add, ".%s@%s>\r\n", s->txn.id, s->cfg.hostname);
    }
    /* Insert right after the trace header so that the original header block stays intact. */
    struct str body = STR_INIT;
    str_reserve(&body, s->txn.body.len + add.len);
    str_append(&body, s->txn.body.ptr, trace_len);
    str_append(&body, add.ptr, add.len);
    str_append(&body, msg, len);
    str_clear(&add);
    str_clear(&s->txn.body);
    s->txn.body = body;
}

static size_t trace_length(const struct smtp_session *s)
{
    /* The Received: header is the first thing in the body and ends at the first CRLF that is
     * not followed by folding whitespace. */
    const char *b = s->txn.body.ptr;
    for (size_t i = 0; i + 2 < s->txn.body.len; i++)
        if (b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] != '\t' && b[i + 2] != ' ')
            return i + 2;
    return s->txn.body.len;
}

void smtp_content_end(struct smtp_session *s)
{
    if (s->data.oversize) {
        log_info("smtp " LOG_ID " reject message: over %llu octets", LOG_IDV(s->id),
                 (unsigned long long)s->cfg.max_message_size);
        smtp_txn_finished(s);
        return smtp_reply_error(s, "552 5.3.4 Message size exceeds fixed maximum message size");
    }
    if (s->data.line_too_long) {
        log_info("smtp " LOG_ID " reject message: line over %d octets", LOG_IDV(s->id),
                 SMTP_TEXT_LINE_MAX);
        smtp_txn_finished(s);
        return smtp_reply_error(s, "554 5.6.0 Message line too long (limit %d octets)",
                                SMTP_TEXT_LINE_MAX);
    }
    if (s->data.bare_line_end && s->cfg.reject_bare_line_ends) {
        log_info("smtp " LOG_ID " reject message: bare CR or LF", LOG_IDV(s->id));
        smtp_txn_finished(s);
        return smtp_reply_error(s, "550 5.6.0 Message contains a bare CR or LF (lines must end "
                                   "in CRLF)");
    }
    if (s->cfg.submission)
        add_submission_headers(s, trace_length(s));
    s->txn.auth_user = s->authenticated ? s->auth_user : NULL;
    s->state = SS_READY;
    s->waiting = true;
    s->ops->commit(s->ops_ctx, s, &s->txn);
}

void smtp_session_commit_done(struct smtp_session *s, int rc, const char *queue_id)
{
    s->waiting = false;
    if (rc == 0) {
        log_info("smtp " LOG_ID " accepted id=%s from=<%s> nrcpt=%u size=%zu", LOG_IDV(s->id),
                 queue_id, s->txn.from, s->txn.nrcpt, s->txn.body.len);
        smtp_reply(s, "250 2.0.0 Ok: queued as %s", queue_id);
    } else if (rc == ERR_LOOP) {
        /* RFC 5321 §6.3: too many Received: fields, or a forward back to an address the
         * message was delivered to already (Delivered-To:): refused, so the sender's MTA
         * bounces it instead of the loop going on. */
        log_info("smtp " LOG_ID " refused from=<%s>: mail loop", LOG_IDV(s->id), s->txn.from);
        smtp_reply(s, "554 5.4.6 Error: routing loop detected (too many hops or a forwarding "
                      "loop)");
    } else {
        log_err("smtp " LOG_ID " commit failed for from=<%s>", LOG_IDV(s->id), s->txn.from);
        smtp_reply(s, "451 4.3.0 Error: queue file write error, try again later");
    }
    smtp_txn_finished(s);
}

void smtp_session_commit_refused(struct smtp_session *s, const char *reply)
{
    s->waiting = false;
    log_info("smtp " LOG_ID " refused from=<%s>: %s", LOG_IDV(s->id), s->txn.from, reply);
    smtp_reply(s, "%s", reply);
    smtp_txn_finished(s);
}

const char *smtp_session_helo(const struct smtp_session *s)
{
    return s->helo;
}

void smtp_bdat_discard(struct smtp_session *s, uint64_t size, const char *reply)
{
    if (!s->bdat_active)
        smtp_content_begin(s);
    s->bdat_active = true;
    s->bdat_reject = reply;
    s->data.max_size = 0; /* keep nothing of a refused chunk */
    smtp_data_chunk_begin(&s->data, size);
    s->state = SS_BDAT;
}

void smtp_bdat_begin(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    if (!s->bdat_active) {
        smtp_content_begin(s);
        s->bdat_active = true;
    }
    s->bdat_last = cmd->last;
    smtp_data_chunk_begin(&s->data, cmd->chunk_size);
    s->state = SS_BDAT;
    if (cmd->chunk_size == 0)
        smtp_bdat_chunk_end(s);
}

void smtp_bdat_chunk_end(struct smtp_session *s)
{
    if (s->bdat_reject) {
        const char *reply = s->bdat_reject;
        bool in_txn = s->txn.nrcpt > 0;
        if (in_txn) { /* refused chunk inside a transaction: the transaction is over */
            smtp_txn_finished(s);
        } else {
            smtp_txn_reset(s);
            s->state = s->helo[0] ? SS_READY : SS_CONNECTED;
        }
        return smtp_reply_error(s, "%s", reply);
    }
    if (s->bdat_last)
        return smtp_content_end(s);
    s->state = SS_RCPT;
    smtp_reply(s, "250 2.0.0 %llu octets received", (unsigned long long)s->data.size);
}

/*
 * RFC 4468 §3.2: BURL appends what the URL names to the message, like a BDAT chunk whose
 * octets the server fetches itself; BURL and BDAT mix freely (CHUNKING is always offered
 * here) and LAST on either ends the content. A URL that cannot be fetched fails the
 * command and, as a refused BDAT chunk does, the whole transaction.
 */
void smtp_burl(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    if (!s->cfg.submission || !s->ops->burl_fetch || !s->authenticated)
        return smtp_reply_error(s, "502 5.5.1 BURL not available");
    if (!s->bdat_active) {
        smtp_content_begin(s);
        s->bdat_active = true;
    }
    struct str got = STR_INIT;
    const char *reply = NULL;
    int rc =
        s->ops->burl_fetch(s->ops_ctx, s, cmd->url.p, cmd->url.len, s->auth_user, &got, &reply);
    if (rc != 0) {
        str_clear(&got);
        log_info("smtp " LOG_ID " burl refused from=<%s>: %s", LOG_IDV(s->id), s->txn.from,
                 reply ? reply : "?");
        smtp_txn_finished(s);
        return smtp_reply_error(s, "%s", reply ? reply : "554 5.6.6 IMAP URL resolution failed");
    }
    size_t used = 0;
    smtp_data_chunk_begin(&s->data, got.len);
    smtp_data_chunk_feed(&s->data, got.ptr, got.len, &used);
    str_clear(&got);
    s->bdat_last = cmd->last;
    smtp_bdat_chunk_end(s);
}
