/* test_jmap — the JMAP engine over an in-memory account (tests/fakes/fake_jmap.c): the
 * envelope and its errors, result references, limits, state strings and /changes after
 * changes made outside JMAP, keywords, header forms, message building and submission. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fakes/fake_jmap.h"
#include "jmap/jmap.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct t {
    struct fake_jmap f;
    struct jmap_ops ops;
    struct jmap_limits lim;
    struct jmap_env env;
};

static int setup(void **state)
{
    struct t *t = calloc(1, sizeof *t);
    fake_jmap_init(&t->f, &t->ops);
    jmap_limits_default(&t->lim);
    t->lim.max_calls_in_request = 5;
    t->lim.max_objects_in_get = 10;
    t->env = (struct jmap_env){.ops = &t->ops, .lim = &t->lim, .user = "alice@example.org",
                               .account_id = "u1", .user_name = "Alice", .now = 1764000000,
                               .random = "0123456789abcdef"};
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct t *t = *state;
    fake_jmap_free(&t->f);
    free(t);
    return 0;
}

/* Runs a request; returns the parsed response (caller decrefs) and the status. */
static json_t *run(struct t *t, const char *req, int *status)
{
    struct str out = STR_INIT;
    *status = jmap_api_process(&t->env, req, strlen(req), &out);
    json_t *j = json_loads(out.ptr ? out.ptr : "", 0, NULL);
    str_clear(&out);
    assert_non_null(j);
    return j;
}

/* The arguments of response i of a 200 answer. */
static json_t *resp(json_t *r, size_t i, const char *name)
{
    json_t *inv = json_array_get(json_object_get(r, "methodResponses"), i);
    assert_non_null(inv);
    assert_string_equal(json_string_value(json_array_get(inv, 0)), name);
    return json_array_get(inv, 1);
}

#define USING "\"using\":[\"urn:ietf:params:jmap:core\",\"urn:ietf:params:jmap:mail\"," \
              "\"urn:ietf:params:jmap:submission\",\"urn:ietf:params:jmap:vacationresponse\"]"

static void test_envelope_errors(void **state)
{
    struct t *t = *state;
    int st;
    const char *cases[][2] = {
        {"not json", "urn:ietf:params:jmap:error:notJSON"},
        {"{\"using\":[]}", "urn:ietf:params:jmap:error:notRequest"},
        {"{\"using\":[],\"methodCalls\":[[\"a\",{}]]}", "urn:ietf:params:jmap:error:notRequest"},
        {"{\"using\":[\"x\"],\"methodCalls\":[]}", "urn:ietf:params:jmap:error:unknownCapability"},
        {"{\"using\":[],\"methodCalls\":[[\"a\",{},\"1\"],[\"a\",{},\"2\"],[\"a\",{},\"3\"],"
         "[\"a\",{},\"4\"],[\"a\",{},\"5\"],[\"a\",{},\"6\"]]}",
         "urn:ietf:params:jmap:error:limit"},
        {"{\"a\":1,\"a\":2}", "urn:ietf:params:jmap:error:notJSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *r = run(t, cases[i][0], &st);
        assert_int_equal(st, 400);
        assert_string_equal(json_string_value(json_object_get(r, "type")), cases[i][1]);
        json_decref(r);
    }
}

static void test_echo_and_references(void **state)
{
    struct t *t = *state;
    int st;
    json_t *r = run(t,
                    "{" USING ",\"methodCalls\":["
                    "[\"Mailbox/query\",{\"accountId\":\"u1\",\"filter\":{\"role\":\"sent\"}},\"q\"],"
                    "[\"Mailbox/get\",{\"accountId\":\"u1\",\"#ids\":{\"resultOf\":\"q\","
                    "\"name\":\"Mailbox/query\",\"path\":\"/ids\"},\"properties\":[\"name\"]},\"g\"],"
                    "[\"Core/echo\",{\"#n\":{\"resultOf\":\"g\",\"name\":\"Mailbox/get\","
                    "\"path\":\"/list/*/name\"}},\"e\"],"
                    "[\"Core/echo\",{\"#n\":{\"resultOf\":\"zz\",\"name\":\"Core/echo\","
                    "\"path\":\"\"}},\"f\"],"
                    "[\"Mailbox/get\",{\"accountId\":\"u2\"},\"h\"]]}",
                    &st);
    assert_int_equal(st, 200);
    json_t *echo = resp(r, 2, "Core/echo");
    assert_string_equal(json_string_value(json_array_get(json_object_get(echo, "n"), 0)), "Sent");
    assert_string_equal(json_string_value(json_object_get(resp(r, 3, "error"), "type")),
                        "invalidResultReference");
    assert_string_equal(json_string_value(json_object_get(resp(r, 4, "error"), "type")),
                        "accountNotFound");
    json_decref(r);
}

static json_t *call1(struct t *t, const char *name, const char *args)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "{" USING ",\"methodCalls\":[[\"%s\",%s,\"c\"]]}", name, args);
    int st;
    json_t *r = run(t, buf, &st);
    assert_int_equal(st, 200);
    json_t *a = json_incref(json_array_get(json_array_get(json_object_get(r, "methodResponses"), 0), 1));
    json_decref(r);
    return a;
}

static char *state_now(struct t *t)
{
    json_t *g = call1(t, "Email/get", "{\"accountId\":\"u1\",\"ids\":[]}");
    char *s = strdup(json_string_value(json_object_get(g, "state")));
    json_decref(g);
    return s;
}

static const char *msg1 = "From: Bob <bob@example.org>\r\nTo: alice@example.org\r\n"
                          "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nMessage-ID: <1@x>\r\n"
                          "Date: Mon, 01 Dec 2025 08:00:00 -0500\r\n\r\nHello there.\r\n";

static void test_changes_track_outside_writers(void **state)
{
    struct t *t = *state;
    int64_t u1 = fake_jmap_deliver(&t->f, 1, msg1, "");
    int64_t u2 = fake_jmap_deliver(&t->f, 1, msg1, "\\Seen");
    char *s0 = state_now(t);
    char args[512];
    snprintf(args, sizeof args, "{\"accountId\":\"u1\",\"sinceState\":\"%s\"}", s0);
    json_t *c = call1(t, "Email/changes", args);
    assert_int_equal(json_array_size(json_object_get(c, "created")), 0);
    json_decref(c);
    fake_jmap_set_flags(&t->f, 1, u1, "\\Flagged");     /* IMAP STORE */
    fake_jmap_expunge(&t->f, 1, u2);                    /* POP3 DELE */
    int64_t u3 = fake_jmap_deliver(&t->f, 1, msg1, ""); /* SMTP */
    int64_t u4 = fake_jmap_deliver(&t->f, 1, msg1, ""); /* delivered, then expunged */
    fake_jmap_expunge(&t->f, 1, u4);
    c = call1(t, "Email/changes", args);
    char id[32];
    snprintf(id, sizeof id, "e1-%lld", (long long)u1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(c, "updated"), 0)), id);
    snprintf(id, sizeof id, "e1-%lld", (long long)u2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(c, "destroyed"), 0)), id);
    snprintf(id, sizeof id, "e1-%lld", (long long)u3);
    assert_string_equal(json_string_value(json_array_get(json_object_get(c, "created"), 0)), id);
    assert_int_equal(json_array_size(json_object_get(c, "created")), 1);
    assert_int_equal(json_array_size(json_object_get(c, "destroyed")), 1);
    json_decref(c);
    /* a deleted mailbox makes the changes incalculable, never wrong */
    json_t *m = call1(t, "Mailbox/set", "{\"accountId\":\"u1\",\"destroy\":[\"m4\"]}");
    json_decref(m);
    c = call1(t, "Email/changes", args);
    assert_string_equal(json_string_value(json_object_get(c, "type")), "cannotCalculateChanges");
    json_decref(c);
    free(s0);
}

static void test_get_headers_and_keywords(void **state)
{
    struct t *t = *state;
    int64_t u = fake_jmap_deliver(&t->f, 1, msg1, "\\Seen $Forwarded \\Deleted");
    char args[512];
    snprintf(args, sizeof args,
             "{\"accountId\":\"u1\",\"ids\":[\"e1-%lld\"],\"properties\":[\"subject\",\"from\","
             "\"keywords\",\"sentAt\",\"header:Subject:asRaw\",\"preview\",\"messageId\"]}",
             (long long)u);
    json_t *g = call1(t, "Email/get", args);
    json_t *e = json_array_get(json_object_get(g, "list"), 0);
    assert_string_equal(json_string_value(json_object_get(e, "subject")), "Grüße");
    assert_string_equal(json_string_value(json_object_get(e, "header:Subject:asRaw")),
                        " =?utf-8?q?Gr=C3=BC=C3=9Fe?=");
    assert_string_equal(json_string_value(json_object_get(e, "sentAt")), "2025-12-01T08:00:00-05:00");
    assert_string_equal(json_string_value(json_object_get(e, "preview")), "Hello there.");
    json_t *kw = json_object_get(e, "keywords");
    assert_int_equal(json_object_size(kw), 2); /* \Deleted has no keyword */
    assert_true(json_is_true(json_object_get(kw, "$seen")));
    assert_true(json_is_true(json_object_get(kw, "$forwarded")));
    json_t *from = json_array_get(json_object_get(e, "from"), 0);
    assert_string_equal(json_string_value(json_object_get(from, "email")), "bob@example.org");
    json_decref(g);
    /* setting keywords keeps \Deleted (not a keyword) and writes canonical flags */
    snprintf(args, sizeof args,
             "{\"accountId\":\"u1\",\"update\":{\"e1-%lld\":{\"keywords\":{\"$flagged\":true,"
             "\"Work\":true}}}}",
             (long long)u);
    json_t *s = call1(t, "Email/set", args);
    assert_int_equal(json_object_size(json_object_get(s, "updated")), 1);
    json_decref(s);
    const char *flags = NULL;
    for (size_t i = 0; i < t->f.nrows; i++)
        if (t->f.rows[i].exists && t->f.rows[i].uid == u && t->f.rows[i].mailbox_id == 1)
            flags = t->f.rows[i].flags;
    assert_non_null(flags);
    assert_non_null(strstr(flags, "\\Deleted"));
    assert_non_null(strstr(flags, "\\Flagged"));
    assert_non_null(strstr(flags, "Work"));
    assert_null(strstr(flags, "\\Seen"));
    /* an invalid keyword is refused */
    snprintf(args, sizeof args,
             "{\"accountId\":\"u1\",\"update\":{\"e1-%lld\":{\"keywords/a(b\":true}}}",
             (long long)u);
    s = call1(t, "Email/set", args);
    assert_int_equal(json_object_size(json_object_get(s, "notUpdated")), 1);
    json_decref(s);
}

static void test_create_and_submit(void **state)
{
    struct t *t = *state;
    json_t *r = call1(t, "Email/set",
                      "{\"accountId\":\"u1\",\"create\":{\"a\":{\"mailboxIds\":{\"m3\":true},"
                      "\"from\":[{\"name\":\"Alice A.\",\"email\":\"alice@example.org\"}],"
                      "\"to\":[{\"email\":\"bob@example.org\"}],"
                      "\"bcc\":[{\"email\":\"carol@example.net\"}],\"subject\":\"Ça va?\","
                      "\"textBody\":[{\"partId\":\"1\",\"type\":\"text/plain\"}],"
                      "\"bodyValues\":{\"1\":{\"value\":\"Bien.\\n\"}}}}}");
    const char *id = json_string_value(json_object_get(json_object_get(json_object_get(r, "created"), "a"), "id"));
    assert_non_null(id);
    char args[512];
    snprintf(args, sizeof args,
             "{\"accountId\":\"u1\",\"ids\":[\"%s\"],\"properties\":[\"subject\",\"from\","
             "\"bcc\",\"textBody\",\"bodyValues\"],\"fetchTextBodyValues\":true}",
             id);
    json_t *g = call1(t, "Email/get", args);
    json_t *e = json_array_get(json_object_get(g, "list"), 0);
    assert_string_equal(json_string_value(json_object_get(e, "subject")), "Ça va?");
    json_t *from = json_array_get(json_object_get(e, "from"), 0);
    assert_string_equal(json_string_value(json_object_get(from, "name")), "Alice A.");
    json_decref(g);
    snprintf(args, sizeof args,
             "{\"accountId\":\"u1\",\"create\":{\"s\":{\"identityId\":\"i1\",\"emailId\":\"%s\"}}}",
             id);
    json_t *s = call1(t, "EmailSubmission/set", args);
    assert_non_null(json_object_get(json_object_get(s, "created"), "s"));
    assert_int_equal(t->f.submissions, 1);
    assert_string_equal(t->f.last_rcpts, "bob@example.org,carol@example.net");
    char sid[64], st1[64];
    snprintf(sid, sizeof sid, "%s", json_string_value(json_object_get(
        json_object_get(json_object_get(s, "created"), "s"), "id")));
    snprintf(st1, sizeof st1, "%s", json_string_value(json_object_get(s, "newState")));
    assert_string_not_equal(st1, json_string_value(json_object_get(s, "oldState")));
    json_decref(s);
    /* EmailSubmission/get reads it back: the envelope derived from To and Bcc */
    snprintf(args, sizeof args, "{\"accountId\":\"u1\",\"ids\":[\"%s\",\"sX\"]}", sid);
    s = call1(t, "EmailSubmission/get", args);
    json_t *sub = json_array_get(json_object_get(s, "list"), 0);
    assert_string_equal(json_string_value(json_object_get(sub, "emailId")), id);
    assert_string_equal(json_string_value(json_object_get(sub, "undoStatus")), "final");
    assert_string_equal(json_string_value(json_object_get(s, "state")), st1);
    json_t *env = json_object_get(sub, "envelope");
    assert_string_equal(json_string_value(json_object_get(json_object_get(env, "mailFrom"),
                                                          "email")), "alice@example.org");
    assert_int_equal(json_array_size(json_object_get(env, "rcptTo")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(s, "notFound"), 0)),
                        "sX");
    json_decref(s);
    /* destroyed: gone from /get, and the state moved on */
    snprintf(args, sizeof args, "{\"accountId\":\"u1\",\"destroy\":[\"%s\"]}", sid);
    s = call1(t, "EmailSubmission/set", args);
    assert_string_equal(json_string_value(json_array_get(json_object_get(s, "destroyed"), 0)), sid);
    json_decref(s);
    s = call1(t, "EmailSubmission/get", "{\"accountId\":\"u1\",\"ids\":null}");
    assert_int_equal(json_array_size(json_object_get(s, "list")), 0);
    assert_string_not_equal(json_string_value(json_object_get(s, "state")), st1);
    json_decref(s);
    /* an envelope with an unknown local recipient: invalidRecipients names it, nothing sent */
    snprintf(args, sizeof args,
             "{\"accountId\":\"u1\",\"create\":{\"s\":{\"identityId\":\"i1\",\"emailId\":\"%s\","
             "\"envelope\":{\"mailFrom\":{\"email\":\"alice@example.org\"},\"rcptTo\":["
             "{\"email\":\"bob@example.org\"},{\"email\":\"nobody@example.org\"}]}}}}",
             id);
    s = call1(t, "EmailSubmission/set", args);
    json_t *err = json_object_get(json_object_get(s, "notCreated"), "s");
    assert_string_equal(json_string_value(json_object_get(err, "type")), "invalidRecipients");
    json_t *bad = json_object_get(err, "invalidRecipients");
    assert_int_equal(json_array_size(bad), 1);
    assert_string_equal(json_string_value(json_array_get(bad, 0)), "nobody@example.org");
    assert_int_equal(t->f.submissions, 1);
    json_decref(s);
    json_decref(r);
    /* a malformed address is refused before anything is stored */
    r = call1(t, "Email/set",
              "{\"accountId\":\"u1\",\"create\":{\"b\":{\"mailboxIds\":{\"m3\":true},"
              "\"from\":[{\"email\":\"no at sign\"}]}}}");
    assert_non_null(json_object_get(json_object_get(r, "notCreated"), "b"));
    json_decref(r);
}

static void test_limits_in_methods(void **state)
{
    struct t *t = *state;
    json_t *g = call1(t, "Email/get",
                      "{\"accountId\":\"u1\",\"ids\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\","
                      "\"h\",\"i\",\"j\",\"k\"]}");
    assert_string_equal(json_string_value(json_object_get(g, "type")), "requestTooLarge");
    json_decref(g);
    g = call1(t, "Email/query", "{\"accountId\":\"u1\",\"filter\":{\"nope\":1}}");
    assert_string_equal(json_string_value(json_object_get(g, "type")), "unsupportedFilter");
    json_decref(g);
}

/* Email/set create with a bodyStructure (RFC 8621 §4.6): nested multiparts, text parts
 * from bodyValues and an attachment from a blob, read back with Email/get. */
static void test_create_body_structure(void **state)
{
    struct t *t = *state;
    char blob[33], args[2048];
    assert_int_equal(t->ops.blob_put(t->ops.ctx, "%PDF-1.4 x", 10, blob), 0);
    snprintf(args, sizeof args,
             "{\"accountId\":\"u1\",\"create\":{\"a\":{\"mailboxIds\":{\"m3\":true},"
             "\"from\":[{\"email\":\"alice@example.org\"}],\"subject\":\"structured\","
             "\"bodyStructure\":{\"type\":\"multipart/mixed\",\"subParts\":["
             "{\"type\":\"multipart/alternative\",\"subParts\":["
             "{\"partId\":\"t\",\"type\":\"text/plain\"},{\"partId\":\"h\",\"type\":\"text/html\"}]},"
             "{\"blobId\":\"b%s\",\"type\":\"application/pdf\",\"name\":\"plan.pdf\"}]},"
             "\"bodyValues\":{\"t\":{\"value\":\"plain words\"},\"h\":{\"value\":\"<p>html</p>\"}}}}}",
             blob);
    json_t *r = call1(t, "Email/set", args);
    const char *id = json_string_value(
        json_object_get(json_object_get(json_object_get(r, "created"), "a"), "id"));
    assert_non_null(id);
    snprintf(args, sizeof args,
             "{\"accountId\":\"u1\",\"ids\":[\"%s\"],\"properties\":[\"bodyStructure\","
             "\"textBody\",\"htmlBody\",\"attachments\",\"bodyValues\"],"
             "\"fetchAllBodyValues\":true}",
             id);
    json_t *g = call1(t, "Email/get", args);
    json_t *e = json_array_get(json_object_get(g, "list"), 0);
    json_t *bs = json_object_get(e, "bodyStructure");
    assert_string_equal(json_string_value(json_object_get(bs, "type")), "multipart/mixed");
    json_t *alt = json_array_get(json_object_get(bs, "subParts"), 0);
    assert_string_equal(json_string_value(json_object_get(alt, "type")), "multipart/alternative");
    json_t *att = json_array_get(json_object_get(e, "attachments"), 0);
    assert_string_equal(json_string_value(json_object_get(att, "name")), "plan.pdf");
    assert_string_equal(json_string_value(json_object_get(att, "type")), "application/pdf");
    const char *tp = json_string_value(
        json_object_get(json_array_get(json_object_get(e, "textBody"), 0), "partId"));
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(e, "bodyValues"), tp), "value")),
                        "plain words");
    json_decref(g);
    json_decref(r);
    /* bodyStructure with textBody, a missing value, a multipart without parts: refused */
    const char *bad[] = {
        "\"bodyStructure\":{\"partId\":\"t\"},\"textBody\":[{\"partId\":\"t\"}],"
        "\"bodyValues\":{\"t\":{\"value\":\"x\"}}",
        "\"bodyStructure\":{\"partId\":\"nope\"}",
        "\"bodyStructure\":{\"type\":\"multipart/mixed\",\"subParts\":[]}",
        "\"bodyStructure\":{\"type\":\"text/plain\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(args, sizeof args,
                 "{\"accountId\":\"u1\",\"create\":{\"b\":{\"mailboxIds\":{\"m3\":true},%s}}}",
                 bad[i]);
        r = call1(t, "Email/set", args);
        assert_non_null(json_object_get(json_object_get(r, "notCreated"), "b"));
        json_decref(r);
    }
}

/* Identity/set (RFC 8621 §6.3): another identity for the account's address is created,
 * updated and destroyed; another address is forbiddenFrom; i1 cannot be destroyed but can
 * get a signature; the state moves with each change. */
static void test_identity_set(void **state)
{
    struct t *t = *state;
    json_t *g = call1(t, "Identity/get", "{\"accountId\":\"u1\"}");
    assert_int_equal(json_array_size(json_object_get(g, "list")), 1);
    char *s0 = strdup(json_string_value(json_object_get(g, "state")));
    json_decref(g);
    json_t *r = call1(t, "Identity/set",
                      "{\"accountId\":\"u1\",\"create\":{\"w\":{\"email\":\"Alice@example.org\","
                      "\"name\":\"Alice at work\",\"textSignature\":\"-- \\nA.\","
                      "\"replyTo\":[{\"email\":\"desk@example.org\"}]},"
                      "\"x\":{\"email\":\"mallory@example.org\"},\"y\":{\"name\":\"no email\"}},"
                      "\"update\":{\"i1\":{\"htmlSignature\":\"<b>A</b>\"}},"
                      "\"destroy\":[\"i1\"]}");
    const char *wid = json_string_value(
        json_object_get(json_object_get(json_object_get(r, "created"), "w"), "id"));
    assert_non_null(wid);
    char *work = strdup(wid);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(r, "notCreated"), "x"), "type")),
                        "forbiddenFrom");
    assert_non_null(json_object_get(json_object_get(r, "notCreated"), "y"));
    assert_non_null(json_object_get(json_object_get(r, "updated"), "i1"));
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(r, "notDestroyed"), "i1"), "type")),
                        "forbidden");
    assert_string_equal(json_string_value(json_object_get(r, "oldState")), s0);
    assert_string_not_equal(json_string_value(json_object_get(r, "newState")), s0);
    json_decref(r);
    g = call1(t, "Identity/get", "{\"accountId\":\"u1\",\"ids\":null}");
    json_t *list = json_object_get(g, "list");
    assert_int_equal(json_array_size(list), 2);
    json_t *i1 = json_array_get(list, 0), *w = json_array_get(list, 1);
    assert_string_equal(json_string_value(json_object_get(i1, "htmlSignature")), "<b>A</b>");
    assert_true(json_is_false(json_object_get(i1, "mayDelete")));
    assert_string_equal(json_string_value(json_object_get(w, "name")), "Alice at work");
    assert_string_equal(json_string_value(json_object_get(w, "email")), "alice@example.org");
    assert_true(json_is_true(json_object_get(w, "mayDelete")));
    json_decref(g);
    char args[512];
    snprintf(args, sizeof args,
             "{\"accountId\":\"u1\",\"update\":{\"%s\":{\"email\":\"x@example.org\"}},"
             "\"destroy\":[\"%s\",\"i999\"]}",
             work, work);
    r = call1(t, "Identity/set", args);
    assert_non_null(json_object_get(json_object_get(r, "notUpdated"), work));
    assert_int_equal(json_array_size(json_object_get(r, "destroyed")), 1);
    assert_non_null(json_object_get(json_object_get(r, "notDestroyed"), "i999"));
    json_decref(r);
    free(work);
    free(s0);
}

/* VacationResponse (RFC 8621 §8) as a Sieve script: written active with the user's own
 * script included, read back, disabled (the mark goes back), and a script activated from
 * outside (ManageSieve) turns isEnabled off. */
static void test_vacation_response(void **state)
{
    struct t *t = *state;
    fake_jmap_sieve_put(&t->f, "mine", "require \"fileinto\";\nfileinto \"Lists\";\n", true);
    json_t *g = call1(t, "VacationResponse/get", "{\"accountId\":\"u1\",\"ids\":null}");
    json_t *v = json_array_get(json_object_get(g, "list"), 0);
    assert_string_equal(json_string_value(json_object_get(v, "id")), "singleton");
    assert_true(json_is_false(json_object_get(v, "isEnabled")));
    assert_true(json_is_null(json_object_get(v, "subject")));
    json_decref(g);
    json_t *s = call1(t, "VacationResponse/set",
                      "{\"accountId\":\"u1\",\"update\":{\"singleton\":{\"isEnabled\":true,"
                      "\"subject\":\"Away \\\"now\\\"\",\"textBody\":\"Back on Monday.\","
                      "\"fromDate\":\"2026-01-01T00:00:00Z\",\"toDate\":\"2026-02-01T00:00:00Z\"}},"
                      "\"create\":{\"x\":{}},\"destroy\":[\"singleton\"]}");
    assert_true(json_object_get(json_object_get(s, "updated"), "singleton") != NULL);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(s, "notCreated"), "x"), "type")),
                        "singleton");
    assert_non_null(json_object_get(json_object_get(s, "notDestroyed"), "singleton"));
    assert_string_not_equal(json_string_value(json_object_get(s, "oldState")),
                            json_string_value(json_object_get(s, "newState")));
    json_decref(s);
    assert_string_equal(t->f.active, "jmap-vacation");
    const char *text = fake_jmap_sieve_text(&t->f, "jmap-vacation");
    assert_non_null(strstr(text, "vacation :subject \"Away \\\"now\\\"\" \"Back on Monday.\";"));
    assert_non_null(strstr(text, ":value \"ge\" \"iso8601\" \"2026-01-01T00:00:00\""));
    assert_non_null(strstr(text, "include :personal \"mine\";"));
    g = call1(t, "VacationResponse/get", "{\"accountId\":\"u1\"}");
    v = json_array_get(json_object_get(g, "list"), 0);
    assert_true(json_is_true(json_object_get(v, "isEnabled")));
    assert_string_equal(json_string_value(json_object_get(v, "subject")), "Away \"now\"");
    assert_string_equal(json_string_value(json_object_get(v, "toDate")), "2026-02-01T00:00:00Z");
    json_decref(g);
    /* bad values are refused, nothing written */
    s = call1(t, "VacationResponse/set", "{\"accountId\":\"u1\",\"update\":{\"singleton\":"
                                          "{\"fromDate\":\"yesterday\"},\"other\":{}}}");
    assert_non_null(json_object_get(json_object_get(s, "notUpdated"), "singleton"));
    assert_non_null(json_object_get(json_object_get(s, "notUpdated"), "other"));
    json_decref(s);
    /* disabled: "mine" is active again */
    s = call1(t, "VacationResponse/set", "{\"accountId\":\"u1\",\"update\":{\"singleton\":"
                                          "{\"isEnabled\":false}}}");
    json_decref(s);
    assert_string_equal(t->f.active, "mine");
    /* enabled again, then another script activated from outside */
    s = call1(t, "VacationResponse/set", "{\"accountId\":\"u1\",\"update\":{\"singleton\":"
                                          "{\"isEnabled\":true,\"htmlBody\":\"<p>Away</p>\"}}}");
    json_decref(s);
    assert_non_null(strstr(fake_jmap_sieve_text(&t->f, "jmap-vacation"), ":mime"));
    fake_jmap_sieve_put(&t->f, "other", "keep;\n", true);
    g = call1(t, "VacationResponse/get", "{\"accountId\":\"u1\"}");
    v = json_array_get(json_object_get(g, "list"), 0);
    assert_true(json_is_false(json_object_get(v, "isEnabled")));
    json_decref(g);
}

static const char *th_a = "Subject: Plans\r\nMessage-ID: <a@x>\r\n\r\nA\r\n";
static const char *th_b = "Subject: Re: Plans\r\nMessage-ID: <b@x>\r\nIn-Reply-To: <a@x>\r\n"
                          "References: <a@x>\r\n\r\nB\r\n";
static const char *th_c = "Subject: Other plans\r\nMessage-ID: <c@x>\r\nIn-Reply-To: <a@x>\r\n"
                          "\r\nC\r\n"; /* quotes A's id under a new subject: a new thread */
static const char *th_d = "Subject: RE: [list] Plans\r\nMessage-ID: <d@x>\r\n"
                          "References: <zz@x> <b@x>\r\n\r\nD\r\n";

/* The string member name of o, copied (the object may go before it is compared). */
static const char *sget(json_t *o, const char *name, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", json_string_value(json_object_get(o, name)) ?: "");
    return buf;
}

static const char *thread_of(struct t *t, int64_t uid, char *buf, size_t cap)
{
    char args[128];
    snprintf(args, sizeof args, "{\"accountId\":\"u1\",\"ids\":[\"e1-%lld\"],"
                                "\"properties\":[\"threadId\"]}", (long long)uid);
    json_t *g = call1(t, "Email/get", args);
    sget(json_array_get(json_object_get(g, "list"), 0), "threadId", buf, cap);
    json_decref(g);
    return buf;
}

/* The ids of a JSON array joined by spaces. */
static const char *ids_text(json_t *a, char *buf, size_t cap)
{
    size_t i, k = 0;
    json_t *v;
    buf[0] = '\0';
    json_array_foreach(a, i, v) {
        const char *s = json_is_object(v) ? json_string_value(json_object_get(v, "id"))
                                          : json_string_value(v);
        k += (size_t)snprintf(buf + k, cap - k, "%s%s", k ? " " : "", s ? s : "?");
        if (k >= cap)
            break;
    }
    return buf;
}

static void test_threads(void **state)
{
    struct t *t = *state;
    int64_t a = fake_jmap_deliver(&t->f, 1, th_a, "");
    int64_t b = fake_jmap_deliver(&t->f, 1, th_b, "");
    int64_t cc = fake_jmap_deliver(&t->f, 1, th_c, "");
    char ta[32], tb[32], tc[32], buf[256], args[1024];
    thread_of(t, a, ta, sizeof ta);
    assert_string_equal(thread_of(t, b, tb, sizeof tb), ta);
    assert_string_not_equal(thread_of(t, cc, tc, sizeof tc), ta);
    /* Thread/get: the conversation oldest first; an Email id is no Thread id */
    snprintf(args, sizeof args, "{\"accountId\":\"u1\",\"ids\":[\"%s\",\"e1-1\"]}", ta);
    json_t *g = call1(t, "Thread/get", args);
    json_t *l0 = json_array_get(json_object_get(g, "list"), 0);
    snprintf(args, sizeof args, "e1-%lld e1-%lld", (long long)a, (long long)b);
    assert_string_equal(ids_text(json_object_get(l0, "emailIds"), buf, sizeof buf), args);
    assert_string_equal(ids_text(json_object_get(g, "notFound"), buf, sizeof buf), "e1-1");
    json_decref(g);
    /* collapseThreads: the newest of each conversation */
    const char *q = "{\"accountId\":\"u1\",\"collapseThreads\":true,\"calculateTotal\":true,"
                    "\"sort\":[{\"property\":\"receivedAt\",\"isAscending\":false}]}";
    g = call1(t, "Email/query", q);
    snprintf(args, sizeof args, "e1-%lld e1-%lld", (long long)cc, (long long)b);
    assert_string_equal(ids_text(json_object_get(g, "ids"), buf, sizeof buf), args);
    assert_int_equal(json_integer_value(json_object_get(g, "total")), 2);
    assert_true(json_is_true(json_object_get(g, "canCalculateChanges")));
    char s0[512];
    sget(g, "queryState", s0, sizeof s0);
    json_decref(g);
    /* Mailbox counts of threads */
    g = call1(t, "Mailbox/get", "{\"accountId\":\"u1\",\"ids\":[\"m1\"]}");
    json_t *m1 = json_array_get(json_object_get(g, "list"), 0);
    assert_int_equal(json_integer_value(json_object_get(m1, "totalEmails")), 3);
    assert_int_equal(json_integer_value(json_object_get(m1, "totalThreads")), 2);
    assert_int_equal(json_integer_value(json_object_get(m1, "unreadThreads")), 2);
    json_decref(g);
    /* D joins through B's id; Thread/changes: A's thread updated, nothing created */
    int64_t d = fake_jmap_deliver(&t->f, 1, th_d, "");
    char td[32];
    assert_string_equal(thread_of(t, d, td, sizeof td), ta);
    snprintf(args, sizeof args, "{\"accountId\":\"u1\",\"sinceState\":\"%s\"}", s0);
    g = call1(t, "Thread/changes", args);
    assert_string_equal(ids_text(json_object_get(g, "updated"), buf, sizeof buf), ta);
    assert_int_equal(json_array_size(json_object_get(g, "created")), 0);
    json_decref(g);
    /* queryChanges: applying removed then added to the old [C, B] gives the new [D, C] */
    snprintf(args, sizeof args, "{\"accountId\":\"u1\",\"collapseThreads\":true,"
             "\"sort\":[{\"property\":\"receivedAt\",\"isAscending\":false}],"
             "\"sinceQueryState\":\"%s\",\"calculateTotal\":true}", s0);
    g = call1(t, "Email/queryChanges", args);
    char want[64];
    snprintf(want, sizeof want, "e1-%lld e1-%lld", (long long)a, (long long)b);
    assert_string_equal(ids_text(json_object_get(g, "removed"), buf, sizeof buf), want);
    json_t *added = json_object_get(g, "added");
    assert_int_equal(json_array_size(added), 1);
    snprintf(want, sizeof want, "e1-%lld", (long long)d);
    assert_string_equal(json_string_value(json_object_get(json_array_get(added, 0), "id")), want);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(added, 0), "index")), 0);
    assert_int_equal(json_integer_value(json_object_get(g, "total")), 2);
    json_decref(g);
    /* too many changes for maxChanges; a state of no server */
    snprintf(args, sizeof args, "{\"accountId\":\"u1\",\"sinceQueryState\":\"%s\","
             "\"collapseThreads\":true,\"maxChanges\":1}", s0);
    g = call1(t, "Email/queryChanges", args);
    assert_string_equal(sget(g, "type", buf, sizeof buf), "tooManyChanges");
    json_decref(g);
    g = call1(t, "Email/queryChanges", "{\"accountId\":\"u1\",\"sinceQueryState\":\"x\"}");
    assert_string_equal(sget(g, "type", buf, sizeof buf), "cannotCalculateChanges");
    json_decref(g);
    /* thread keyword conditions see the whole conversation */
    fake_jmap_set_flags(&t->f, 1, a, "\\Seen");
    g = call1(t, "Email/query", "{\"accountId\":\"u1\",\"filter\":"
                                "{\"someInThreadHaveKeyword\":\"$seen\"}}");
    assert_int_equal(json_array_size(json_object_get(g, "ids")), 3);
    json_decref(g);
    g = call1(t, "Email/query", "{\"accountId\":\"u1\",\"filter\":"
                                "{\"allInThreadHaveKeyword\":\"$seen\"}}");
    assert_int_equal(json_array_size(json_object_get(g, "ids")), 0);
    json_decref(g);
    /* the last Email of C's thread goes: the thread is destroyed */
    char s1[512];
    g = call1(t, "Email/get", "{\"accountId\":\"u1\",\"ids\":[]}");
    sget(g, "state", s1, sizeof s1);
    json_decref(g);
    fake_jmap_expunge(&t->f, 1, cc);
    snprintf(args, sizeof args, "{\"accountId\":\"u1\",\"sinceState\":\"%s\"}", s1);
    g = call1(t, "Thread/changes", args);
    assert_string_equal(ids_text(json_object_get(g, "destroyed"), buf, sizeof buf), tc);
    assert_int_equal(json_array_size(json_object_get(g, "updated")), 0);
    json_decref(g);
}

static void test_mailbox_query_changes(void **state)
{
    struct t *t = *state;
    char s0[512], args[1024], buf[256];
    json_t *g = call1(t, "Mailbox/query", "{\"accountId\":\"u1\"}");
    sget(g, "queryState", s0, sizeof s0);
    assert_true(json_is_true(json_object_get(g, "canCalculateChanges")));
    json_decref(g);
    fake_jmap_deliver(&t->f, 1, th_a, ""); /* counts only: the results did not change */
    snprintf(args, sizeof args, "{\"accountId\":\"u1\",\"sinceQueryState\":\"%s\"}", s0);
    g = call1(t, "Mailbox/queryChanges", args);
    assert_int_equal(json_array_size(json_object_get(g, "removed")), 0);
    assert_int_equal(json_array_size(json_object_get(g, "added")), 0);
    json_decref(g);
    json_decref(call1(t, "Mailbox/set", "{\"accountId\":\"u1\",\"create\":{\"k\":{\"name\":"
                                        "\"Archive\"}}}"));
    g = call1(t, "Mailbox/queryChanges", args);
    assert_int_equal(json_array_size(json_object_get(g, "removed")), 4);
    assert_int_equal(json_array_size(json_object_get(g, "added")), 5);
    assert_string_equal(ids_text(json_object_get(g, "removed"), buf, sizeof buf), "m1 m2 m3 m4");
    json_decref(g);
}

/* The "type" of a method error answer, or "" (a copy: the object may go first). */
static const char *err_type(json_t *r, char *buf, size_t cap)
{
    return sget(r, "type", buf, cap);
}

/* Identity/changes (RFC 8621 §6.2): exact over creates, updates and destroys, cut by
 * maxChanges at exact intermediate states, and no state it cannot compare. */
static void test_identity_changes(void **state)
{
    struct t *t = *state;
    char s0[64], s1[64], s2[64], args[4096], buf[512], w1[64], w2[64];
    json_t *g = call1(t, "Identity/get", "{\"accountId\":\"u1\"}");
    sget(g, "state", s0, sizeof s0);
    json_decref(g);
    json_t *r = call1(t, "Identity/set",
                      "{\"accountId\":\"u1\",\"create\":{\"a\":{\"email\":\"alice@example.org\","
                      "\"name\":\"A\"},\"b\":{\"email\":\"alice@example.org\",\"name\":\"B\"}},"
                      "\"update\":{\"i1\":{\"name\":\"Alice L.\"}}}");
    sget(json_object_get(json_object_get(r, "created"), "a"), "id", w1, sizeof w1);
    sget(json_object_get(json_object_get(r, "created"), "b"), "id", w2, sizeof w2);
    sget(r, "newState", s1, sizeof s1);
    json_decref(r);
    snprintf(args, sizeof args, "{\"accountId\":\"u1\",\"sinceState\":\"%s\"}", s0);
    g = call1(t, "Identity/changes", args);
    assert_int_equal(json_array_size(json_object_get(g, "created")), 2);
    assert_string_equal(ids_text(json_object_get(g, "updated"), buf, sizeof buf), "i1");
    assert_int_equal(json_array_size(json_object_get(g, "destroyed")), 0);
    assert_string_equal(sget(g, "newState", buf, sizeof buf), s1);
    assert_true(json_is_false(json_object_get(g, "hasMoreChanges")));
    json_decref(g);
    /* one change at a time: three steps, each state exact, the last one the state now */
    char at[64];
    snprintf(at, sizeof at, "%s", s0);
    size_t told = 0, steps = 0;
    for (bool more = true; more && steps < 10; steps++) {
        snprintf(args, sizeof args, "{\"accountId\":\"u1\",\"sinceState\":\"%s\","
                                    "\"maxChanges\":1}", at);
        g = call1(t, "Identity/changes", args);
        told += json_array_size(json_object_get(g, "created")) +
                json_array_size(json_object_get(g, "updated"));
        more = json_is_true(json_object_get(g, "hasMoreChanges"));
        sget(g, "newState", at, sizeof at);
        json_decref(g);
    }
    assert_int_equal(told, 3);
    assert_string_equal(at, s1);
    /* w1 destroyed: named by changes since s1; since s0 it was created and destroyed */
    snprintf(args, sizeof args, "{\"accountId\":\"u1\",\"destroy\":[\"%s\"]}", w1);
    r = call1(t, "Identity/set", args);
    sget(r, "newState", s2, sizeof s2);
    json_decref(r);
    snprintf(args, sizeof args, "{\"accountId\":\"u1\",\"sinceState\":\"%s\"}", s1);
    g = call1(t, "Identity/changes", args);
    assert_string_equal(ids_text(json_object_get(g, "destroyed"), buf, sizeof buf), w1);
    assert_int_equal(json_array_size(json_object_get(g, "created")), 0);
    json_decref(g);
    snprintf(args, sizeof args, "{\"accountId\":\"u1\",\"sinceState\":\"%s\"}", s0);
    g = call1(t, "Identity/changes", args);
    assert_string_equal(ids_text(json_object_get(g, "created"), buf, sizeof buf), w2);
    assert_int_equal(json_array_size(json_object_get(g, "destroyed")), 0);
    json_decref(g);
    snprintf(args, sizeof args, "{\"accountId\":\"u1\",\"update\":{\"%s\":{\"name\":\"x\"}}}", w1);
    r = call1(t, "Identity/set", args);
    assert_non_null(json_object_get(json_object_get(r, "notUpdated"), w1));
    json_decref(r);
    g = call1(t, "Identity/get", "{\"accountId\":\"u1\"}");
    assert_int_equal(json_array_size(json_object_get(g, "list")), 2);
    assert_string_equal(sget(g, "state", buf, sizeof buf), s2);
    json_decref(g);
    static const char *const bad[] = {"d1a2b3c4d", "99999", "-1", "01", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(args, sizeof args, "{\"accountId\":\"u1\",\"sinceState\":\"%s\"}", bad[i]);
        g = call1(t, "Identity/changes", args);
        assert_string_equal(err_type(g, buf, sizeof buf), "cannotCalculateChanges");
        json_decref(g);
    }
    /* 70 identities made and destroyed: only 64 tombstones are kept, so s0 is too old */
    for (int round = 0; round < 7; round++) {
        size_t k = (size_t)snprintf(args, sizeof args, "{\"accountId\":\"u1\",\"create\":{");
        for (int i = 0; i < 10; i++)
            k += (size_t)snprintf(args + k, sizeof args - k, "%s\"n%d\":{\"email\":"
                                  "\"alice@example.org\"}", i ? "," : "", i);
        k += (size_t)snprintf(args + k, sizeof args - k, "},\"destroy\":[");
        for (int i = 0; i < 10; i++)
            k += (size_t)snprintf(args + k, sizeof args - k, "%s\"#n%d\"", i ? "," : "", i);
        snprintf(args + k, sizeof args - k, "]}");
        t->env.random[15] = (char)('a' + round); /* new ids each round */
        r = call1(t, "Identity/set", args);
        assert_int_equal(json_array_size(json_object_get(r, "destroyed")), 10);
        json_decref(r);
    }
    snprintf(args, sizeof args, "{\"accountId\":\"u1\",\"sinceState\":\"%s\"}", s0);
    g = call1(t, "Identity/changes", args);
    assert_string_equal(err_type(g, buf, sizeof buf), "cannotCalculateChanges");
    json_decref(g);
}

static const char *sub_msg1 = "From: alice@example.org\r\nTo: bob@example.org\r\n"
                              "Subject: one\r\nMessage-ID: <s1@x>\r\n\r\nOne.\r\n";
static const char *sub_msg2 = "From: alice@example.org\r\nTo: bob@example.org\r\n"
                              "Subject: two\r\nMessage-ID: <s2@x>\r\n\r\nTwo.\r\n";

/* Submits Email email_id; the new submission's id into out. */
static void submit(struct t *t, const char *email_id, char *out, size_t cap)
{
    char args[256];
    snprintf(args, sizeof args, "{\"accountId\":\"u1\",\"create\":{\"s\":{\"identityId\":\"i1\","
                                "\"emailId\":\"%s\"}}}", email_id);
    json_t *r = call1(t, "EmailSubmission/set", args);
    sget(json_object_get(json_object_get(r, "created"), "s"), "id", out, cap);
    assert_true(out[0] != '\0');
    json_decref(r);
}

/* EmailSubmission/changes, /query and /queryChanges (RFC 8621 §7.2-7.4). */
static void test_submission_changes_query(void **state)
{
    struct t *t = *state;
    char e1[32], e2[32], a[64], b[64], c[64], d[64], s1[64], q1[64], args[512], buf[512];
    snprintf(e1, sizeof e1, "e3-%lld", (long long)fake_jmap_deliver(&t->f, 3, sub_msg1, ""));
    snprintf(e2, sizeof e2, "e3-%lld", (long long)fake_jmap_deliver(&t->f, 3, sub_msg2, ""));
    json_t *g = call1(t, "EmailSubmission/get", "{\"accountId\":\"u1\",\"ids\":null}");
    assert_string_equal(sget(g, "state", buf, sizeof buf), "0");
    json_decref(g);
    submit(t, e1, a, sizeof a);
    submit(t, e2, b, sizeof b);
    submit(t, e1, c, sizeof c);
    g = call1(t, "EmailSubmission/changes", "{\"accountId\":\"u1\",\"sinceState\":\"0\"}");
    snprintf(buf, sizeof buf, "%s %s %s", a, b, c);
    char got[512];
    assert_string_equal(ids_text(json_object_get(g, "created"), got, sizeof got), buf);
    sget(g, "newState", s1, sizeof s1);
    json_decref(g);
    g = call1(t, "EmailSubmission/changes",
              "{\"accountId\":\"u1\",\"sinceState\":\"0\",\"maxChanges\":2}");
    assert_int_equal(json_array_size(json_object_get(g, "created")), 2);
    assert_true(json_is_true(json_object_get(g, "hasMoreChanges")));
    snprintf(args, sizeof args, "{\"accountId\":\"u1\",\"sinceState\":\"%s\"}",
             sget(g, "newState", buf, sizeof buf));
    json_decref(g);
    g = call1(t, "EmailSubmission/changes", args);
    assert_string_equal(ids_text(json_object_get(g, "created"), buf, sizeof buf), c);
    assert_string_equal(sget(g, "newState", buf, sizeof buf), s1);
    assert_true(json_is_false(json_object_get(g, "hasMoreChanges")));
    json_decref(g);
    /* query: by email, sorted by emailId descending (ties in creation order), paged */
    g = call1(t, "EmailSubmission/query", "{\"accountId\":\"u1\",\"sort\":[{\"property\":"
                                          "\"emailId\",\"isAscending\":false}],"
                                          "\"calculateTotal\":true}");
    snprintf(buf, sizeof buf, "%s %s %s", b, a, c);
    assert_string_equal(ids_text(json_object_get(g, "ids"), got, sizeof got), buf);
    assert_int_equal(json_integer_value(json_object_get(g, "total")), 3);
    json_decref(g);
    snprintf(args, sizeof args, "{\"accountId\":\"u1\",\"filter\":{\"emailIds\":[\"%s\"]}}", e1);
    g = call1(t, "EmailSubmission/query", args);
    snprintf(buf, sizeof buf, "%s %s", a, c);
    assert_string_equal(ids_text(json_object_get(g, "ids"), got, sizeof got), buf);
    sget(g, "queryState", q1, sizeof q1);
    json_decref(g);
    snprintf(args, sizeof args, "{\"accountId\":\"u1\",\"anchor\":\"%s\",\"anchorOffset\":-1,"
                                "\"limit\":1}", c);
    g = call1(t, "EmailSubmission/query", args);
    assert_string_equal(ids_text(json_object_get(g, "ids"), got, sizeof got), b);
    json_decref(g);
    g = call1(t, "EmailSubmission/query",
              "{\"accountId\":\"u1\",\"filter\":{\"operator\":\"OR\",\"conditions\":[{"
              "\"before\":\"2000-01-01T00:00:00Z\"},{\"undoStatus\":\"pending\"}]}}");
    assert_int_equal(json_array_size(json_object_get(g, "ids")), 0);
    json_decref(g);
    g = call1(t, "EmailSubmission/query",
              "{\"accountId\":\"u1\",\"filter\":{\"after\":\"2000-01-01T00:00:00Z\","
              "\"undoStatus\":\"final\"}}");
    assert_int_equal(json_array_size(json_object_get(g, "ids")), 3);
    json_decref(g);
    g = call1(t, "EmailSubmission/query", "{\"accountId\":\"u1\",\"filter\":{\"x\":1}}");
    assert_string_equal(err_type(g, buf, sizeof buf), "unsupportedFilter");
    json_decref(g);
    g = call1(t, "EmailSubmission/query", "{\"accountId\":\"u1\",\"sort\":[{\"property\":"
                                          "\"size\"}]}");
    assert_string_equal(err_type(g, buf, sizeof buf), "unsupportedSort");
    json_decref(g);
    /* a destroyed, d submitted: changes and queryChanges say so */
    snprintf(args, sizeof args, "{\"accountId\":\"u1\",\"destroy\":[\"%s\"]}", a);
    json_decref(call1(t, "EmailSubmission/set", args));
    submit(t, e1, d, sizeof d);
    snprintf(args, sizeof args, "{\"accountId\":\"u1\",\"sinceState\":\"%s\"}", s1);
    g = call1(t, "EmailSubmission/changes", args);
    assert_string_equal(ids_text(json_object_get(g, "destroyed"), buf, sizeof buf), a);
    assert_string_equal(ids_text(json_object_get(g, "created"), buf, sizeof buf), d);
    json_decref(g);
    snprintf(args, sizeof args, "{\"accountId\":\"u1\",\"filter\":{\"emailIds\":[\"%s\"]},"
                                "\"sinceQueryState\":\"%s\",\"calculateTotal\":true}", e1, q1);
    g = call1(t, "EmailSubmission/queryChanges", args);
    snprintf(buf, sizeof buf, "%s %s", a, d);
    assert_string_equal(ids_text(json_object_get(g, "removed"), got, sizeof got), buf);
    json_t *added = json_object_get(g, "added");
    assert_int_equal(json_array_size(added), 1);
    assert_string_equal(sget(json_array_get(added, 0), "id", buf, sizeof buf), d);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(added, 0), "index")), 1);
    assert_int_equal(json_integer_value(json_object_get(g, "total")), 2);
    json_decref(g);
    static const char *const bad[] = {"1.0", "99999", "x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(args, sizeof args, "{\"accountId\":\"u1\",\"sinceState\":\"%s\"}", bad[i]);
        g = call1(t, "EmailSubmission/changes", args);
        assert_string_equal(err_type(g, buf, sizeof buf), "cannotCalculateChanges");
        json_decref(g);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_envelope_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_echo_and_references, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_track_outside_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_headers_and_keywords, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_and_submit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits_in_methods, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vacation_response, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_body_structure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identity_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mailbox_query_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identity_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_submission_changes_query, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
