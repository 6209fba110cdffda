/*
 * smtp service, quota_warn — a warning to a user whose mailbox has just filled past one of
 * [smtp] quota_warnings (percentages of the user's own octet or message limit): one message
 * per delivery that crosses a percentage, in the user's INBOX, from the mail system, so the
 * user learns before mail is deferred with 452 4.2.2. The domain's limits are the
 * administrator's and are not warned about.
 */
#include "smtp/service/service_int.h"

#include "core/log.h"
#include "core/xmalloc.h"
#include "host/host.h"
#include "msg/header.h"
#include "sieve/service/delivery.h"
#include "store/quota.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The highest percentage crossed by going from before to now of limit (0: none). */
static unsigned crossed(const struct config_smtp *cfg, int64_t before, int64_t now,
                        int64_t limit)
{
    unsigned hit = 0;
    for (unsigned i = 0; limit > 0 && i < cfg->n_quota_warnings; i++) {
        int64_t t = cfg->quota_warnings[i];
        if (before * 100 < t * limit && now * 100 >= t * limit)
            hit = (unsigned)t;
    }
    return hit;
}

static void warning_text(const char *address, unsigned pct, const struct store_quota *q,
                         struct str *out)
{
    char date[64];
    msg_date_format(time(NULL), date, sizeof date);
    const char *at = strrchr(address, '@');
    str_appendf(out,
                "From: Mail Delivery System <MAILER-DAEMON@%s>\r\nTo: <%s>\r\n"
                "Subject: Your mailbox is %u%% full\r\nDate: %s\r\n"
                "Auto-Submitted: auto-generated (quota warning)\r\nMIME-Version: 1.0\r\n"
                "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
                "Your mailbox %s has reached %u%% of its limit.\r\n\r\n",
                at ? at + 1 : "localhost", address, pct, date, address, pct);
    if (q->limit_bytes)
        str_appendf(out, "Storage: %lld of %lld KiB used.\r\n", (long long)(q->used_bytes / 1024),
                    (long long)(q->limit_bytes / 1024));
    if (q->limit_messages)
        str_appendf(out, "Messages: %lld of %lld.\r\n", (long long)q->used_messages,
                    (long long)q->limit_messages);
    str_appends(out, "\r\nWhen the limit is reached, new mail is refused until you delete some "
                     "messages.\r\n");
}

void smtp_quota_warn(struct worker *w, const struct config_smtp *cfg, const int64_t *users,
                     size_t n, int64_t size, struct sieve_plan *plan)
{
    for (size_t i = 0; i < n && cfg->n_quota_warnings; i++) {
        bool dup = false;
        for (size_t k = 0; k < i; k++)
            dup |= users[k] == users[i];
        struct store_quota q;
        if (dup || store_quota_get(w->store, users[i], &q) != 0)
            continue;
        unsigned b = crossed(cfg, q.used_bytes - size, q.used_bytes, q.limit_bytes);
        unsigned m = crossed(cfg, q.used_messages - 1, q.used_messages, q.limit_messages);
        unsigned pct = b > m ? b : m;
        char *address = NULL;
        if (!pct || store_user_address(w->store, users[i], &address) != 0)
            continue;
        struct sieve_reply *r = xcalloc(1, sizeof *r);
        r->rcpt = address;
        r->local_user = users[i];
        warning_text(address, pct, &q, &r->text);
        plan->replies = xrealloc(plan->replies, (plan->n_replies + 1) * sizeof *plan->replies);
        plan->replies[plan->n_replies++] = r;
        log_info("quota: %s is %u%% full; warned", address, pct);
    }
}
