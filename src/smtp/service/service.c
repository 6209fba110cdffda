/* smtp service — see service.h: [smtp] and [submission], declared here, and their listeners. */
#include "smtp/service/service.h"

#include "smtp/service/service_int.h"

#include "host/confgen.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define SMTP(f) offsetof(struct config_smtp, f)

static const char *const spf_modes[] = {"off", "mark", "reject", NULL};

/* "80, 95": up to SMTP_QUOTA_WARNINGS_MAX percentages (1..100, ascending); "none": off. */
static int parse_quota_warnings(const char *value, void *sec, void *field, const char **why)
{
    struct config_smtp *s = sec;
    s->n_quota_warnings = 0;
    if (strcmp(value, "none") == 0)
        return 0;
    const char *p = value;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 100 || s->n_quota_warnings == SMTP_QUOTA_WARNINGS_MAX ||
            (s->n_quota_warnings && v <= s->quota_warnings[s->n_quota_warnings - 1])) {
            *why = "quota_warnings must be up to 4 ascending percentages (1-100), or none";
            return -1;
        }
        s->quota_warnings[s->n_quota_warnings++] = (unsigned char)v;
        p = end;
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
    }
    return 0;
}

static const struct conf_key smtp_keys[] = {
    {.name = "max_message_size", .type = CONF_SIZE, .offset = SMTP(max_message_size),
     .min = 1024, .max = 1ull << 40},
    {.name = "max_recipients", .type = CONF_UINT, .offset = SMTP(max_recipients), .min = 1,
     .max = 100000},
    {.name = "starttls", .type = CONF_BOOL, .offset = SMTP(starttls)},
    {.name = "auth", .type = CONF_BOOL, .offset = SMTP(auth)},
    {.name = "spf", .type = CONF_ENUM, .offset = SMTP(spf), .names = spf_modes,
     .why = "spf must be off, mark or reject"},
    {.name = "reject_bare_line_ends", .type = CONF_BOOL, .offset = SMTP(reject_bare_line_ends)},
    {.name = "quota_warnings", .type = CONF_CUSTOM, .offset = SMTP(quota_warnings),
     .parse = parse_quota_warnings},
    {.name = NULL},
};

static void role_defaults(struct config_smtp *s, bool submission)
{
    /* RFC 5321 §4.5.3.2.7: server timeout 5 minutes */
    conf_service_defaults(&s->svc, 300);
    s->submission = submission;
    s->max_message_size = 25u * 1024 * 1024;
    s->max_recipients = 100;
    s->starttls = true;
    s->auth = submission;
    /* The MX role checks SPF and refuses a fail (RFC 7208 §8.4); submission is authenticated. */
    s->spf = submission ? CONFIG_SPF_OFF : CONFIG_SPF_REJECT;
    s->quota_warnings[0] = 90; /* one warning when a mailbox is 90% full */
    s->n_quota_warnings = 1;
}

static void mx_defaults(void *sec)
{
    role_defaults(sec, false);
}

static void submission_defaults(void *sec)
{
    role_defaults(sec, true);
}

/* A reload applies every key but listen to the sessions that start after it. */
static const char *const smtp_reload_keys[] = {
    CONF_SERVICE_RELOAD_KEYS, "max_message_size", "max_recipients", "starttls", "auth", "spf",
    "reject_bare_line_ends", "quota_warnings", NULL,
};

#define SMTP_SECTION(sec_name, defaults_fn)                                                     \
    {.name = (sec_name), .size = sizeof(struct config_smtp),                                    \
     .service_offset = offsetof(struct config_smtp, svc), .keys = smtp_keys,                   \
     .defaults = (defaults_fn), .reload_keys = smtp_reload_keys}

static const struct conf_section smtp_sections[] = {
    SMTP_SECTION("smtp", mx_defaults),
    SMTP_SECTION("submission", submission_defaults),
    SMTP_SECTION("submissions", submission_defaults), /* RFC 8314: TLS from the first byte */
    {.name = NULL},
};

static int smtp_open(struct daemon *d, void **state_out)
{
    const struct config_smtp *mx = config_section(&d->cfg, "smtp");
    const struct config_smtp *sub = config_section(&d->cfg, "submission");
    const struct config_smtp *subs = config_section(&d->cfg, "submissions");
    if (host_listen_tcp(d, "smtp", &smtp_proto, mx, &mx->svc, false) < 0 ||
        host_listen_tcp_login(d, "submission", &smtp_proto, sub, &sub->svc, false) < 0 ||
        host_listen_tcp_login(d, "submissions", &smtp_proto, subs, &subs->svc, true) < 0)
        return -1;
    return 0;
}

static void smtp_reload(struct daemon *d, void *state, const struct config *next)
{
    static const char *const roles[] = {"smtp", "submission", "submissions", NULL};
    host_relisten_sections(d, next, roles);
}

const struct service_def smtp_service = {
    .name = "smtp",
    .sections = smtp_sections,
    .open = smtp_open,
    .reload = smtp_reload,
};
