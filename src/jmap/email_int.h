/*
 * email_int — what the Email files of the engine share: header forms (email_headers.c) and
 * the body structure (email_body.c).
 */
#ifndef PIGEON_JMAP_EMAIL_INT_H
#define PIGEON_JMAP_EMAIL_INT_H

#include "jmap/jmap_int.h"

#include "core/str.h"

enum jmap_hdr_form {
    JMAP_HDR_RAW,
    JMAP_HDR_TEXT,
    JMAP_HDR_ADDRESSES,
    JMAP_HDR_GROUPED,
    JMAP_HDR_MSGIDS,
    JMAP_HDR_DATE,
    JMAP_HDR_URLS,
};

/* A raw field value (after the colon, folds kept) in one form; never NULL. */
json_t *jmap_hdr_form(enum jmap_hdr_form form, struct slice raw);
json_t *jmap_hdr_text(struct slice raw);
json_t *jmap_hdr_addresses(struct slice raw);
json_t *jmap_hdr_grouped(struct slice raw);
json_t *jmap_hdr_msgids(struct slice raw);
json_t *jmap_hdr_date(struct slice raw);
/* "header:Name[:asForm][:all]" -> name, form, all. 0, or -1 when it is not such a name. */
int jmap_hdr_prop_parse(const char *prop, char *name, size_t cap, enum jmap_hdr_form *form,
                        bool *all);
/* The last field named name in hdr (null when absent), or every one (all). */
json_t *jmap_hdr_lookup(const char *hdr, size_t len, const char *name, enum jmap_hdr_form form,
                        bool all);
/* [{name, value}] of every field, raw. */
json_t *jmap_hdr_all(const char *hdr, size_t len);
/* RFC 3339 date-time of t in the zone tz_min minutes east of UTC ("Z" for 0). */
void jmap_date_format(int64_t t, int tz_min, char out[64]);
/* A UTCDate ("2024-01-02T03:04:05Z") as unix seconds, or dflt when s is not one. */
int64_t jmap_utc_parse(const char *s, int64_t dflt);

#endif
