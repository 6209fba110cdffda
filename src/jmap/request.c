/*
 * jmap/request — the API request (RFC 8620 §3.3-3.7): the envelope, request-level errors as
 * problem details (§3.6.1), result references (§3.7), the method table and method errors
 * (§3.6.2). See jmap.h.
 */
#include "jmap/jmap_int.h"

#include "core/err.h"

#include <stdlib.h>
#include <string.h>

static const struct jmap_method methods[] = {
    {"Core/echo", JMAP_CAP_CORE, jmap_core_echo},
    {"Mailbox/get", JMAP_CAP_MAIL, jmap_mailbox_get},
    {"Mailbox/changes", JMAP_CAP_MAIL, jmap_mailbox_changes},
    {"Mailbox/query", JMAP_CAP_MAIL, jmap_mailbox_query},
    {"Mailbox/queryChanges", JMAP_CAP_MAIL, jmap_mailbox_query_changes},
    {"Mailbox/set", JMAP_CAP_MAIL, jmap_mailbox_set},
    {"Thread/get", JMAP_CAP_MAIL, jmap_thread_get},
    {"Thread/changes", JMAP_CAP_MAIL, jmap_thread_changes},
    {"Email/get", JMAP_CAP_MAIL, jmap_email_get},
    {"Email/changes", JMAP_CAP_MAIL, jmap_email_changes},
    {"Email/query", JMAP_CAP_MAIL, jmap_email_query},
    {"Email/queryChanges", JMAP_CAP_MAIL, jmap_email_query_changes},
    {"Email/set", JMAP_CAP_MAIL, jmap_email_set},
    {"Email/import", JMAP_CAP_MAIL, jmap_email_import},
    {"Email/parse", JMAP_CAP_MAIL, jmap_email_parse},
    {"SearchSnippet/get", JMAP_CAP_MAIL, jmap_snippet_get},
    {"Identity/get", JMAP_CAP_SUBMISSION, jmap_identity_get},
    {"Identity/changes", JMAP_CAP_SUBMISSION, jmap_identity_changes},
    {"Identity/set", JMAP_CAP_SUBMISSION, jmap_identity_set},
    {"EmailSubmission/get", JMAP_CAP_SUBMISSION, jmap_submission_get},
    {"EmailSubmission/changes", JMAP_CAP_SUBMISSION, jmap_submission_changes},
    {"EmailSubmission/query", JMAP_CAP_SUBMISSION, jmap_submission_query},
    {"EmailSubmission/queryChanges", JMAP_CAP_SUBMISSION, jmap_submission_query_changes},
    {"EmailSubmission/set", JMAP_CAP_SUBMISSION, jmap_submission_set},
    {"VacationResponse/get", JMAP_CAP_VACATION, jmap_vacation_get},
    {"VacationResponse/set", JMAP_CAP_VACATION, jmap_vacation_set},
};

static const char *const capabilities[] = {JMAP_CAP_CORE, JMAP_CAP_MAIL, JMAP_CAP_SUBMISSION,
                                           JMAP_CAP_VACATION, JMAP_CAP_WEBSOCKET};

/* ---- helpers the methods share ---- */

json_t *jmap_method_error(struct jmap_ctx *c, const char *type, const char *desc)
{
    json_decref(c->err);
    c->err = json_pack("{s:s}", "type", type);
    if (desc)
        json_object_set_new(c->err, "description", json_string(desc));
    return NULL;
}

json_t *jmap_set_error(const char *type, const char *desc)
{
    json_t *e = json_pack("{s:s}", "type", type);
    if (desc)
        json_object_set_new(e, "description", json_string(desc));
    return e;
}

bool jmap_account_ok(struct jmap_ctx *c, json_t *args)
{
    const char *acc = jmap_str_arg(args, "accountId");
    if (!acc) {
        jmap_method_error(c, "invalidArguments", "accountId is required");
        return false;
    }
    if (strcmp(acc, c->env->account_id) != 0) {
        jmap_method_error(c, "accountNotFound", NULL);
        return false;
    }
    return true;
}

const char *jmap_resolve_id(struct jmap_ctx *c, const char *id)
{
    if (!id || id[0] != '#')
        return id;
    return json_string_value(json_object_get(c->created_ids, id + 1));
}

const char *jmap_str_arg(json_t *args, const char *name)
{
    return json_string_value(json_object_get(args, name));
}

json_t *jmap_core_echo(struct jmap_ctx *c, json_t *args)
{
    return json_incref(args);
}

/* ---- request-level errors (RFC 8620 §3.6.1, RFC 7807 problem details) ---- */

static int problem(struct str *out, const char *type, const char *detail, const char *limit)
{
    json_t *p = json_pack("{s:s, s:i, s:s}", "type", type, "status", 400, "detail", detail);
    if (limit)
        json_object_set_new(p, "limit", json_string(limit));
    char *text = json_dumps(p, JSON_COMPACT);
    str_appends(out, text);
    free(text);
    json_decref(p);
    return 400;
}

/* ---- result references (RFC 8620 §3.7) ---- */

/* Appends what JSON Pointer path (with "*" mapping over arrays) selects in v to out (an
 * array when a "*" was crossed; else sets *single). 0, or -1 when the path does not
 * resolve. */
static int pointer_eval(json_t *v, const char *path, json_t **out, bool *mapped)
{
    if (*path == '\0') {
        *out = json_incref(v);
        return 0;
    }
    if (*path != '/')
        return -1;
    path++;
    const char *end = strchr(path, '/');
    size_t n = end ? (size_t)(end - path) : strlen(path);
    const char *rest = path + n;
    if (n == 1 && path[0] == '*') {
        if (!json_is_array(v))
            return -1;
        json_t *acc = json_array();
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) {
            json_t *r = NULL;
            bool inner = false;
            if (pointer_eval(item, rest, &r, &inner) < 0) {
                json_decref(acc);
                return -1;
            }
            if (json_is_array(r))
                json_array_extend(acc, r); /* the results are flattened (§3.7) */
            else
                json_array_append(acc, r);
            json_decref(r);
        }
        *mapped = true;
        *out = acc;
        return 0;
    }
    /* Unescape ~1 and ~0 (RFC 6901 §4). */
    char key[256];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k + 1 >= sizeof key)
            return -1;
        if (path[i] == '~' && i + 1 < n && (path[i + 1] == '0' || path[i + 1] == '1')) {
            key[k++] = path[i + 1] == '0' ? '~' : '/';
            i++;
        } else {
            key[k++] = path[i];
        }
    }
    key[k] = '\0';
    json_t *next = NULL;
    if (json_is_object(v)) {
        next = json_object_get(v, key);
    } else if (json_is_array(v)) {
        char *e;
        unsigned long idx = strtoul(key, &e, 10);
        if (k == 0 || *e || (k > 1 && key[0] == '0'))
            return -1;
        next = json_array_get(v, idx);
    }
    if (!next)
        return -1;
    return pointer_eval(next, rest, out, mapped);
}

/* Replaces every "#name": ResultReference of args by "name": value. 0, or -1 with the
 * method error set. */
static int resolve_refs(struct jmap_ctx *c, json_t *args, json_t *responses)
{
    json_t *refs = json_array();
    const char *k0;
    json_t *v0;
    json_object_foreach(args, k0, v0)
        if (k0[0] == '#')
            json_array_append_new(refs, json_string(k0));
    size_t ri;
    json_t *rk;
    int rc = 0;
    json_array_foreach(refs, ri, rk) {
        const char *key = json_string_value(rk);
        json_t *val = json_object_get(args, key);
        if (json_object_get(args, key + 1)) {
            jmap_method_error(c, "invalidArguments", "an argument is given both plain and as a "
                                                     "result reference");
            rc = -1;
            break;
        }
        const char *of = jmap_str_arg(val, "resultOf");
        const char *name = jmap_str_arg(val, "name");
        const char *path = jmap_str_arg(val, "path");
        if (!of || !name || !path) {
            jmap_method_error(c, "invalidResultReference", "resultOf, name and path are needed");
            rc = -1;
            break;
        }
        json_t *found = NULL;
        size_t i;
        json_t *r;
        json_array_foreach(responses, i, r) {
            if (strcmp(json_string_value(json_array_get(r, 2)), of) == 0 &&
                strcmp(json_string_value(json_array_get(r, 0)), name) == 0)
                found = json_array_get(r, 1);
        }
        json_t *value = NULL;
        bool mapped = false;
        if (!found || pointer_eval(found, path, &value, &mapped) < 0) {
            jmap_method_error(c, "invalidResultReference", "the reference does not resolve");
            rc = -1;
            break;
        }
        json_object_set_new(args, key + 1, value);
        json_object_del(args, key);
    }
    json_decref(refs);
    return rc;
}

/* ---- the envelope ---- */

static bool using_has(json_t *using, const char *cap)
{
    size_t i;
    json_t *u;
    json_array_foreach(using, i, u)
        if (strcmp(json_string_value(u), cap) == 0)
            return true;
    return false;
}

static const struct jmap_method *method_find(const char *name)
{
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(methods[i].name, name) == 0)
            return &methods[i];
    return NULL;
}

/* Checks the Request object's shape (§3.3); NULL when fine, else the problem detail. */
static const char *request_shape(json_t *req)
{
    json_t *using = json_object_get(req, "using");
    json_t *calls = json_object_get(req, "methodCalls");
    json_t *created = json_object_get(req, "createdIds");
    if (!json_is_object(req) || !json_is_array(using) || !json_is_array(calls))
        return "a Request needs \"using\" and \"methodCalls\" arrays";
    if (created && !json_is_object(created))
        return "createdIds must be an object";
    size_t i;
    json_t *v;
    json_array_foreach(using, i, v)
        if (!json_is_string(v))
            return "\"using\" holds strings only";
    json_array_foreach(calls, i, v) {
        if (!json_is_array(v) || json_array_size(v) != 3 ||
            !json_is_string(json_array_get(v, 0)) || !json_is_object(json_array_get(v, 1)) ||
            !json_is_string(json_array_get(v, 2)))
            return "each method call is [name, arguments, call id]";
    }
    return NULL;
}

static void run_call(struct jmap_ctx *c, json_t *using, json_t *call, json_t *responses)
{
    const char *name = json_string_value(json_array_get(call, 0));
    json_t *args = json_deep_copy(json_array_get(call, 1));
    c->call_id = json_string_value(json_array_get(call, 2));
    const struct jmap_method *m = method_find(name);
    json_t *result = NULL;
    json_decref(c->err);
    c->err = NULL;
    if (!m)
        jmap_method_error(c, "unknownMethod", NULL);
    else if (!using_has(using, m->capability))
        jmap_method_error(c, "unknownMethod", "its capability is not in \"using\"");
    else if (resolve_refs(c, args, responses) == 0)
        result = m->fn(c, args);
    json_decref(args);
    if (result) {
        json_array_append_new(responses, json_pack("[s,o,s]", name, result, c->call_id));
    } else {
        if (!c->err)
            jmap_method_error(c, "serverFail", NULL);
        json_array_append_new(responses, json_pack("[s,O,s]", "error", c->err, c->call_id));
    }
    size_t i;
    json_t *x;
    json_array_foreach(c->extra, i, x)
        json_array_append(responses, x);
    json_array_clear(c->extra);
}

/* The session resource's state (the same text jmap_session_write puts in "state"). */
static char *session_state(const struct jmap_limits *lim, const char *user, const char *account)
{
    struct str s = STR_INIT;
    jmap_session_write(lim, user, account, "", &s);
    json_t *j = json_loadb(s.ptr, s.len, 0, NULL);
    char *state = strdup(json_string_value(json_object_get(j, "state")) ?: "");
    json_decref(j);
    str_clear(&s);
    return state;
}

int jmap_api_process(struct jmap_env *env, const char *body, size_t len, struct str *out)
{
    if (len > env->lim->max_size_request)
        return problem(out, "urn:ietf:params:jmap:error:limit", "The request is too large.",
                       "maxSizeRequest");
    json_error_t jerr;
    json_t *req = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!req)
        return problem(out, "urn:ietf:params:jmap:error:notJSON", "The body is not JSON.", NULL);
    const char *bad = request_shape(req);
    if (bad) {
        json_decref(req);
        return problem(out, "urn:ietf:params:jmap:error:notRequest", bad, NULL);
    }
    json_t *using = json_object_get(req, "using");
    json_t *calls = json_object_get(req, "methodCalls");
    size_t i;
    json_t *v;
    json_array_foreach(using, i, v) {
        bool known = false;
        for (size_t k = 0; k < sizeof capabilities / sizeof capabilities[0]; k++)
            known |= strcmp(json_string_value(v), capabilities[k]) == 0;
        if (!known) {
            json_decref(req);
            return problem(out, "urn:ietf:params:jmap:error:unknownCapability",
                           "The request uses a capability this server does not support.", NULL);
        }
    }
    if (json_array_size(calls) > env->lim->max_calls_in_request) {
        json_decref(req);
        return problem(out, "urn:ietf:params:jmap:error:limit", "Too many method calls.",
                       "maxCallsInRequest");
    }
    struct jmap_ctx c = {.env = env, .extra = json_array()};
    json_t *created = json_object_get(req, "createdIds");
    c.created_ids = created ? json_deep_copy(created) : json_object();
    json_t *responses = json_array();
    json_array_foreach(calls, i, v)
        run_call(&c, using, v, responses);
    json_t *resp = json_pack("{s:o}", "methodResponses", responses);
    if (created)
        json_object_set(resp, "createdIds", c.created_ids);
    char *state = session_state(env->lim, env->user, env->account_id);
    json_object_set_new(resp, "sessionState", json_string(state));
    free(state);
    char *text = json_dumps(resp, JSON_COMPACT);
    str_appends(out, text);
    free(text);
    json_decref(resp);
    json_decref(req);
    json_decref(c.created_ids);
    json_decref(c.extra);
    json_decref(c.err);
    jmap_snap_clear(&c.snap);
    return 200;
}

static int filter_eval(json_t *f, int (*cond)(void *arg, json_t *condition), void *arg,
                       unsigned depth)
{
    if (!f || json_is_null(f))
        return 1;
    if (!json_is_object(f) || depth > 16)
        return -1;
    const char *op = jmap_str_arg(f, "operator");
    if (!op)
        return cond(arg, f);
    json_t *conds = json_object_get(f, "conditions");
    bool and_ = strcmp(op, "AND") == 0, or_ = strcmp(op, "OR") == 0, not_ = strcmp(op, "NOT") == 0;
    if (!json_is_array(conds) || (!and_ && !or_ && !not_))
        return -1;
    size_t i;
    json_t *x;
    bool any = false, all = true;
    json_array_foreach(conds, i, x) {
        int m = filter_eval(x, cond, arg, depth + 1);
        if (m < 0)
            return -1;
        any |= m == 1;
        all &= m == 1;
    }
    return and_ ? all : or_ ? any : !any;
}

int jmap_filter_eval(json_t *f, int (*cond)(void *arg, json_t *condition), void *arg)
{
    return filter_eval(f, cond, arg, 0);
}
