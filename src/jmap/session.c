/*
 * jmap/session — the session resource (RFC 8620 §2) and the default limits.
 */
#include "jmap/jmap_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jmap_limits_default(struct jmap_limits *lim)
{
    *lim = (struct jmap_limits){
        .max_size_upload = 50u << 20,
        .max_concurrent_upload = 4,
        .max_size_request = 10u << 20,
        .max_concurrent_requests = 8,
        .max_calls_in_request = 32,
        .max_objects_in_get = 1000,
        .max_objects_in_set = 500,
    };
}

void jmap_session_write(const struct jmap_limits *lim, const char *user, const char *account_id,
                        const char *base, struct str *out)
{
    json_t *core = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:[s,s,s]}", "maxSizeUpload",
        (json_int_t)lim->max_size_upload, "maxConcurrentUpload",
        (json_int_t)lim->max_concurrent_upload, "maxSizeRequest",
        (json_int_t)lim->max_size_request, "maxConcurrentRequests",
        (json_int_t)lim->max_concurrent_requests, "maxCallsInRequest",
        (json_int_t)lim->max_calls_in_request, "maxObjectsInGet",
        (json_int_t)lim->max_objects_in_get, "maxObjectsInSet", (json_int_t)lim->max_objects_in_set,
        "collationAlgorithms", "i;ascii-numeric", "i;ascii-casemap", "i;octet");
    json_t *mail = json_pack("{s:n, s:I, s:I, s:I, s:[s,s,s], s:b}", "maxMailboxesPerEmail",
                             "maxMailboxDepth", (json_int_t)16, "maxSizeMailboxName",
                             (json_int_t)255, "maxSizeAttachmentsPerEmail",
                             (json_int_t)lim->max_size_upload, "emailQuerySortOptions",
                             "receivedAt", "size", "id", "mayCreateTopLevelMailbox", 1);
    json_t *submission =
        json_pack("{s:I, s:{}}", "maxDelayedSend", (json_int_t)0, "submissionExtensions");
    json_t *ws = json_pack("{s:b}", "supportsPush", 1); /* its url is added with the others */
    json_t *caps = json_pack("{s:o, s:o, s:o, s:o, s:o}", JMAP_CAP_CORE, core, JMAP_CAP_MAIL,
                             json_object(), JMAP_CAP_SUBMISSION, json_object(),
                             JMAP_CAP_VACATION, json_object(), JMAP_CAP_WEBSOCKET, ws);
    json_t *account = json_pack("{s:s, s:b, s:b, s:{s:o, s:o, s:o}}", "name", user, "isPersonal",
                                1, "isReadOnly", 0, "accountCapabilities", JMAP_CAP_MAIL, mail,
                                JMAP_CAP_SUBMISSION, submission, JMAP_CAP_VACATION,
                                json_object());
    json_t *s = json_pack("{s:o, s:{s:o}, s:{s:s, s:s, s:s}, s:s}", "capabilities", caps,
                          "accounts", account_id, account, "primaryAccounts", JMAP_CAP_MAIL,
                          account_id, JMAP_CAP_SUBMISSION, account_id, JMAP_CAP_VACATION,
                          account_id, "username", user);
    /* The session's state: a hash of everything but the URLs (RFC 8620 §2 "state"). */
    char *fixed = json_dumps(s, JSON_COMPACT | JSON_SORT_KEYS);
    uint32_t h = 2166136261u;
    for (const char *p = fixed; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    free(fixed);
    char state[16];
    snprintf(state, sizeof state, "%08x", h);
    struct str url = STR_INIT;
    str_appendf(&url, "%s/jmap/api/", base);
    json_object_set_new(s, "apiUrl", json_string(str_cstr(&url)));
    str_reset(&url);
    str_appendf(&url, "%s/jmap/download/{accountId}/{blobId}/{name}?accept={type}", base);
    json_object_set_new(s, "downloadUrl", json_string(str_cstr(&url)));
    str_reset(&url);
    str_appendf(&url, "%s/jmap/upload/{accountId}/", base);
    json_object_set_new(s, "uploadUrl", json_string(str_cstr(&url)));
    str_reset(&url);
    str_appendf(&url, "%s/jmap/eventsource/?types={types}&closeafter={closeafter}&ping={ping}",
                base);
    json_object_set_new(s, "eventSourceUrl", json_string(str_cstr(&url)));
    /* RFC 8887 §4.1: ws(s) on the same host as base ("http(s)://...") */
    str_reset(&url);
    str_appendf(&url, "ws%s/jmap/ws/", base + (strncmp(base, "http", 4) == 0 ? 4 : 0));
    json_object_set_new(ws, "url", json_string(str_cstr(&url)));
    str_clear(&url);
    json_object_set_new(s, "state", json_string(state));
    char *text = json_dumps(s, JSON_COMPACT | JSON_SORT_KEYS);
    str_appends(out, text);
    free(text);
    json_decref(s);
}
