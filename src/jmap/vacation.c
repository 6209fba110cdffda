/*
 * jmap/vacation — VacationResponse/get and /set (RFC 8621 §8) on the user's Sieve scripts,
 * so that JMAP, ManageSieve and delivery see one vacation setting.
 *
 * The vacation is the Sieve script "jmap-vacation": its first line holds the JMAP object as
 * JSON (a comment), then the script that does it — the vacation action (RFC 5230; :mime with
 * multipart/alternative when there is an HTML body), inside currentdate tests (RFC 5260) for
 * fromDate/toDate — and an include (RFC 6609) of the script that was active before, so the
 * user's own filters keep running while away. isEnabled is "jmap-vacation is the active
 * script": enabling activates it; disabling gives the active mark back to the script it
 * includes (or to none). A script activated over ManageSieve meanwhile simply makes
 * isEnabled false. Dates are compared in UTC as ISO 8601 text, which orders like time.
 */
#include "jmap/jmap_int.h"

#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VAC_SCRIPT "jmap-vacation"
#define VAC_MARK "# pigeon-jmap-vacation: "
#define VAC_ID "singleton"
#define VAC_BOUNDARY "=_pigeon_vacation"

static const char *const props[] = {"fromDate", "toDate", "subject", "textBody", "htmlBody"};

struct vac {
    char *text;     /* the script, NULL when there is none */
    char *active;   /* the active script's name, NULL when none */
    json_t *obj;    /* the JMAP object (without isEnabled), nulls by default */
    char *include;  /* the script it runs after the vacation, NULL: none */
};

static void vac_clear(struct vac *v)
{
    free(v->text);
    free(v->active);
    free(v->include);
    json_decref(v->obj);
}

static int vac_load(struct jmap_ctx *c, struct vac *v)
{
    *v = (struct vac){0};
    const struct jmap_ops *ops = c->env->ops;
    if (!ops->sieve_read || ops->sieve_read(ops->ctx, VAC_SCRIPT, &v->text, &v->active) != 0)
        return -1;
    v->obj = json_object();
    for (size_t i = 0; i < sizeof props / sizeof props[0]; i++)
        json_object_set_new(v->obj, props[i], json_null());
    size_t ml = strlen(VAC_MARK);
    if (v->text && strncmp(v->text, VAC_MARK, ml) == 0) {
        const char *nl = strchr(v->text + ml, '\n');
        size_t n = nl ? (size_t)(nl - v->text - ml) : strlen(v->text + ml);
        json_t *saved = json_loadb(v->text + ml, n, 0, NULL);
        for (size_t i = 0; i < sizeof props / sizeof props[0]; i++) {
            json_t *x = json_object_get(saved, props[i]);
            if (json_is_string(x))
                json_object_set(v->obj, props[i], x);
        }
        const char *inc = json_string_value(json_object_get(saved, "include"));
        if (inc && strcmp(inc, VAC_SCRIPT) != 0)
            v->include = strdup(inc);
        json_decref(saved);
    }
    return 0;
}

static bool vac_enabled(const struct vac *v)
{
    return v->text && v->active && strcmp(v->active, VAC_SCRIPT) == 0;
}

static json_t *vac_state(const struct vac *v)
{
    uint32_t h = 2166136261u;
    const char *parts[] = {v->text ? v->text : "", "\x01", v->active ? v->active : ""};
    for (size_t i = 0; i < 3; i++)
        for (const char *p = parts[i]; *p; p++)
            h = (h ^ (unsigned char)*p) * 16777619u;
    char s[16];
    snprintf(s, sizeof s, "v%08x", h);
    return json_string(s);
}

static json_t *vac_json(const struct vac *v)
{
    json_t *o = json_deep_copy(v->obj);
    json_object_set_new(o, "id", json_string(VAC_ID));
    json_object_set_new(o, "isEnabled", json_boolean(vac_enabled(v)));
    return o;
}

json_t *jmap_vacation_get(struct jmap_ctx *c, json_t *args)
{
    if (!jmap_account_ok(c, args))
        return NULL;
    struct vac v;
    if (vac_load(c, &v) != 0) {
        vac_clear(&v);
        return jmap_method_error(c, "serverFail", "the Sieve scripts could not be read");
    }
    json_t *ids = json_object_get(args, "ids");
    json_t *list = json_array(), *nf = json_array();
    if (ids && !json_is_null(ids) && !json_is_array(ids)) {
        vac_clear(&v);
        json_decref(list);
        json_decref(nf);
        return jmap_method_error(c, "invalidArguments", "ids");
    }
    size_t i;
    json_t *id;
    if (json_is_array(ids)) {
        json_array_foreach(ids, i, id)
            if (json_is_string(id) && strcmp(json_string_value(id), VAC_ID) == 0)
                json_array_append_new(list, vac_json(&v));
            else
                json_array_append(nf, id);
    } else {
        json_array_append_new(list, vac_json(&v));
    }
    json_t *r = json_pack("{s:s, s:o, s:o, s:o}", "accountId", c->env->account_id, "state",
                          vac_state(&v), "list", list, "notFound", nf);
    vac_clear(&v);
    return r;
}

/* A UTCDate (RFC 8620 §1.4): "YYYY-MM-DDTHH:MM:SS[.frac]Z". */
static bool utc_date(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    size_t i = 0;
    for (; shape[i]; i++)
        if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != shape[i])
            return false;
    if (s[i] == '.')
        for (i++; s[i] >= '0' && s[i] <= '9'; i++)
            ;
    return s[i] == 'Z' && s[i + 1] == '\0';
}

/* Applies an update's properties to obj and *enabled; the bad property's name, or NULL. */
static const char *vac_patch(json_t *obj, json_t *patch, bool *enabled)
{
    const char *k;
    json_t *x;
    json_object_foreach(patch, k, x) {
        if (strcmp(k, "id") == 0) {
            if (!json_is_string(x) || strcmp(json_string_value(x), VAC_ID) != 0)
                return k;
        } else if (strcmp(k, "isEnabled") == 0) {
            if (!json_is_boolean(x))
                return k;
            *enabled = json_is_true(x);
        } else if (json_object_get(obj, k)) {
            if (!json_is_null(x) && !json_is_string(x))
                return k;
            if ((strcmp(k, "fromDate") == 0 || strcmp(k, "toDate") == 0) && json_is_string(x) &&
                !utc_date(json_string_value(x)))
                return k;
            json_object_set(obj, k, x);
        } else {
            return k;
        }
    }
    return NULL;
}

/* A Sieve quoted string (RFC 5228 §2.4.2): backslash and double quote escaped. */
static void sieve_quote(struct str *out, const char *s)
{
    str_append(out, "\"", 1);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            str_append(out, "\\", 1);
        str_append(out, s, 1);
    }
    str_append(out, "\"", 1);
}

static const char *prop(json_t *obj, const char *name)
{
    return json_string_value(json_object_get(obj, name));
}

/* The vacation action's reason: the text, or a multipart/alternative entity with HTML. */
static void reason(json_t *obj, struct str *out, bool *mime)
{
    const char *text = prop(obj, "textBody"), *html = prop(obj, "htmlBody");
    *mime = html != NULL;
    if (!html) {
        str_appends(out, text ? text : "");
        return;
    }
    str_appends(out, "Content-Type: multipart/alternative; boundary=\"" VAC_BOUNDARY "\"\r\n\r\n");
    if (text) {
        str_appends(out, "--" VAC_BOUNDARY "\r\nContent-Type: text/plain; charset=utf-8\r\n"
                         "Content-Transfer-Encoding: 8bit\r\n\r\n");
        str_appends(out, text);
        str_appends(out, "\r\n");
    }
    str_appends(out, "--" VAC_BOUNDARY "\r\nContent-Type: text/html; charset=utf-8\r\n"
                     "Content-Transfer-Encoding: 8bit\r\n\r\n");
    str_appends(out, html);
    str_appends(out, "\r\n--" VAC_BOUNDARY "--\r\n");
}

/* "2026-12-07T10:00:00Z" -> the 19 octets currentdate's iso8601 form starts with. */
static void date_test(struct str *out, const char *rel, const char *date)
{
    str_appendf(out, "currentdate :zone \"+0000\" :value \"%s\" \"iso8601\" \"%.19s\"", rel, date);
}

void jmap_vacation_script(json_t *obj, const char *include, struct str *out)
{
    json_t *saved = json_deep_copy(obj);
    if (include)
        json_object_set_new(saved, "include", json_string(include));
    char *line = json_dumps(saved, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    json_decref(saved);
    str_appendf(out, VAC_MARK "%s\n# Written by JMAP (VacationResponse/set): change it there.\n"
                              "require [\"vacation\", \"date\", \"relational\"%s];\n",
                line, include ? ", \"include\"" : "");
    free(line);
    const char *from = prop(obj, "fromDate"), *to = prop(obj, "toDate");
    if (from || to) {
        str_appends(out, "if allof (");
        if (from)
            date_test(out, "ge", from);
        if (to) {
            str_appends(out, from ? ",\n           " : "");
            date_test(out, "lt", to);
        }
        str_appends(out, ") {\n    ");
    }
    str_appends(out, "vacation ");
    if (prop(obj, "subject")) {
        str_appends(out, ":subject ");
        sieve_quote(out, prop(obj, "subject"));
        str_appends(out, " ");
    }
    struct str why = STR_INIT;
    bool mime;
    reason(obj, &why, &mime);
    if (mime)
        str_appends(out, ":mime ");
    sieve_quote(out, str_cstr(&why));
    str_clear(&why);
    str_appends(out, ";\n");
    if (from || to)
        str_appends(out, "}\n");
    if (include) {
        str_appends(out, "include :personal ");
        sieve_quote(out, include);
        str_appends(out, ";\n");
    }
}

/* One update of the singleton: the script written and the active mark moved. */
static json_t *vac_update(struct jmap_ctx *c, struct vac *v, json_t *patch)
{
    bool enabled = vac_enabled(v);
    json_t *obj = json_deep_copy(v->obj);
    const char *bad = json_is_object(patch) ? vac_patch(obj, patch, &enabled) : "";
    if (bad) {
        json_decref(obj);
        json_t *e = jmap_set_error("invalidProperties", NULL);
        json_object_set_new(e, "properties", json_pack("[s]", bad));
        return e;
    }
    /* The script to run after the vacation: the one active now, unless it is this one. */
    const char *inc = v->include;
    if (v->active && strcmp(v->active, VAC_SCRIPT) != 0)
        inc = v->active;
    const char *activate = NULL; /* unchanged */
    if (enabled)
        activate = VAC_SCRIPT;
    else if (vac_enabled(v))
        activate = inc ? inc : "";
    struct str script = STR_INIT;
    jmap_vacation_script(obj, inc, &script);
    const struct jmap_ops *ops = c->env->ops;
    int rc = ops->sieve_write(ops->ctx, VAC_SCRIPT, str_cstr(&script), activate);
    str_clear(&script);
    json_decref(obj);
    if (rc != 0)
        return jmap_set_error(rc == ERR_PARSE ? "invalidProperties" : "serverFail",
                              rc == ERR_PARSE ? "the vacation text makes no valid Sieve script"
                                              : "the Sieve script could not be written");
    return NULL;
}

static void refuse_all(json_t *args, const char *key, json_t *into, const char *type)
{
    json_t *v = json_object_get(args, key);
    size_t i;
    json_t *x;
    const char *k;
    if (json_is_object(v))
        json_object_foreach(v, k, x)
            json_object_set_new(into, k, jmap_set_error(type, "VacationResponse is a singleton"));
    else if (json_is_array(v))
        json_array_foreach(v, i, x)
            if (json_is_string(x))
                json_object_set_new(into, json_string_value(x),
                                    jmap_set_error(type, "VacationResponse is a singleton"));
}

json_t *jmap_vacation_set(struct jmap_ctx *c, json_t *args)
{
    if (!jmap_account_ok(c, args))
        return NULL;
    struct vac v;
    if (vac_load(c, &v) != 0 || !c->env->ops->sieve_write) {
        vac_clear(&v);
        return jmap_method_error(c, "serverFail", "the Sieve scripts could not be read");
    }
    json_t *old = vac_state(&v);
    const char *if_in = json_string_value(json_object_get(args, "ifInState"));
    if (if_in && strcmp(if_in, json_string_value(old)) != 0) {
        json_decref(old);
        vac_clear(&v);
        return jmap_method_error(c, "stateMismatch", NULL);
    }
    json_t *updated = json_object(), *not_updated = json_object();
    json_t *not_created = json_object(), *not_destroyed = json_object();
    refuse_all(args, "create", not_created, "singleton");
    refuse_all(args, "destroy", not_destroyed, "singleton");
    const char *id;
    json_t *patch;
    json_object_foreach(json_object_get(args, "update"), id, patch) {
        if (strcmp(id, VAC_ID) != 0) {
            json_object_set_new(not_updated, id, jmap_set_error("notFound", NULL));
            continue;
        }
        json_t *err = vac_update(c, &v, patch);
        if (err) {
            json_object_set_new(not_updated, id, err);
            continue;
        }
        json_object_set_new(updated, id, json_null());
        vac_clear(&v);
        vac_load(c, &v); /* the state after the write */
    }
    json_t *r = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "accountId",
                          c->env->account_id, "oldState", old, "newState", vac_state(&v),
                          "updated", updated, "notUpdated", not_updated, "notCreated",
                          not_created, "notDestroyed", not_destroyed);
    vac_clear(&v);
    return r;
}
