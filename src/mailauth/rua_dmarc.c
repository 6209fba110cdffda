/*
 * rua_dmarc — a received DMARC aggregate report (RFC 7489 Appendix C; the DMARCbis namespace
 * "urn:ietf:params:xml:ns:dmarc-2.0" and none are read alike: elements are matched by local
 * name) read with libxml2 into the normalised JSON of rua.h:
 *
 *   {"org", "email", "report_id", "begin", "end",
 *    "policy": {"domain", "adkim", "aspf", "p", "sp", "pct", "np", "fo"},
 *    "records": [{"source_ip", "count", "disposition", "dkim", "spf", "reasons": [..],
 *                 "header_from", "envelope_from", "envelope_to",
 *                 "auth_dkim": [{"domain", "selector", "result"}],
 *                 "auth_spf": [{"domain", "scope", "result"}]}]}
 *
 * A document with a DTD is refused (reports have none, and an internal subset is how entity
 * expansion bombs come); the network is never used (XML_PARSE_NONET).
 */
#include "mailauth/rua.h"

#include "core/err.h"
#include "core/xmalloc.h"

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

/* The first element child of n named name (local name, any namespace), or NULL. */
static xmlNode *child(const xmlNode *n, const char *name)
{
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
            return c;
    return NULL;
}

/* The next element sibling after c with the same name. */
static xmlNode *next_same(const xmlNode *c)
{
    for (xmlNode *s = c->next; s; s = s->next)
        if (s->type == XML_ELEMENT_NODE &&
            strcmp((const char *)s->name, (const char *)c->name) == 0)
            return s;
    return NULL;
}

/* The trimmed text of element n (cut to RUA_MAX_FIELD octets) into buf; "" when absent. */
static const char *text_of(const xmlNode *n, char *buf)
{
    buf[0] = '\0';
    xmlChar *t = n ? xmlNodeGetContent(n) : NULL;
    if (!t)
        return buf;
    const char *s = (const char *)t;
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    size_t len = strlen(s);
    while (len && strchr(" \t\r\n", s[len - 1]))
        len--;
    if (len >= RUA_MAX_FIELD)
        len = RUA_MAX_FIELD - 1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    xmlFree(t);
    return buf;
}

/* A JSON string of valid UTF-8 (a cut in the middle of a character, or invalid octets,
 * become "?" for the rest). */
static json_t *jstr(const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    size_t ok = 0, len = strlen(s);
    while (ok < len && !(s[ok] & 0x80))
        ok++;
    char *cut = xmalloc(ok + 2);
    memcpy(cut, s, ok);
    memcpy(cut + ok, "?", 2);
    j = json_string(cut);
    free(cut);
    return j;
}

/* obj[key] = the text of n's child name, when that child exists. */
static void put_text(json_t *obj, const char *key, const xmlNode *n, const char *name)
{
    char buf[RUA_MAX_FIELD];
    const xmlNode *c = child(n, name);
    if (c)
        json_object_set_new(obj, key, jstr(text_of(c, buf)));
}

/* A non-negative decimal integer element; false when absent or not one. */
static bool int_of(const xmlNode *n, long long *out)
{
    char buf[RUA_MAX_FIELD];
    const char *s = text_of(n, buf);
    char *end;
    if (!*s || *s == '-')
        return false;
    *out = strtoll(s, &end, 10);
    return *end == '\0' && *out >= 0;
}

static json_t *auth_list(const xmlNode *auth, const char *name, const char *k2)
{
    json_t *arr = json_array();
    for (xmlNode *c = child(auth, name); c && json_array_size(arr) < 64; c = next_same(c)) {
        json_t *o = json_object();
        put_text(o, "domain", c, "domain");
        put_text(o, k2, c, k2);
        put_text(o, "result", c, "result");
        json_array_append_new(arr, o);
    }
    return arr;
}

/* One <record>; NULL when its row lacks a source_ip or a count. */
static json_t *record_json(const xmlNode *rec)
{
    const xmlNode *row = child(rec, "row"), *pe = child(row, "policy_evaluated");
    const xmlNode *ids = child(rec, "identifiers"), *auth = child(rec, "auth_results");
    long long count;
    if (!child(row, "source_ip") || !int_of(child(row, "count"), &count))
        return NULL;
    json_t *o = json_object(), *reasons = json_array();
    put_text(o, "source_ip", row, "source_ip");
    json_object_set_new(o, "count", json_integer(count));
    put_text(o, "disposition", pe, "disposition");
    put_text(o, "dkim", pe, "dkim");
    put_text(o, "spf", pe, "spf");
    char type[RUA_MAX_FIELD], comment[RUA_MAX_FIELD];
    for (xmlNode *r = child(pe, "reason"); r && json_array_size(reasons) < 16; r = next_same(r)) {
        text_of(child(r, "type"), type);
        text_of(child(r, "comment"), comment);
        json_t *jr = json_object();
        json_object_set_new(jr, "type", jstr(type));
        if (comment[0])
            json_object_set_new(jr, "comment", jstr(comment));
        json_array_append_new(reasons, jr);
    }
    json_object_set_new(o, "reasons", reasons);
    put_text(o, "header_from", ids, "header_from");
    put_text(o, "envelope_from", ids, "envelope_from");
    put_text(o, "envelope_to", ids, "envelope_to");
    json_object_set_new(o, "auth_dkim", auth_list(auth, "dkim", "selector"));
    json_object_set_new(o, "auth_spf", auth_list(auth, "spf", "scope"));
    return o;
}

static json_t *policy_json(const xmlNode *pp)
{
    static const char *const keys[] = {"domain", "adkim", "aspf", "p", "sp", "pct", "np", "fo"};
    json_t *o = json_object();
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        put_text(o, keys[i], pp, keys[i]);
    return o;
}

/* The metadata every report must have (Appendix C: org_name, report_id, date_range, the
 * published policy's domain) into out and root. */
static int metadata(const xmlNode *fb, json_t *root, struct rua_report *out, const char **err_out)
{
    const xmlNode *md = child(fb, "report_metadata"), *dr = child(md, "date_range");
    const xmlNode *pp = child(fb, "policy_published");
    char org[RUA_MAX_FIELD], id[RUA_MAX_FIELD], dom[RUA_MAX_FIELD];
    long long begin, end;
    if (!md || !pp)
        return *err_out = "no report_metadata or policy_published", ERR_PARSE;
    if (!*text_of(child(md, "org_name"), org) || !*text_of(child(md, "report_id"), id))
        return *err_out = "no org_name or report_id", ERR_PARSE;
    if (!int_of(child(dr, "begin"), &begin) || !int_of(child(dr, "end"), &end))
        return *err_out = "no date_range begin and end", ERR_PARSE;
    if (!*text_of(child(pp, "domain"), dom))
        return *err_out = "policy_published has no domain", ERR_PARSE;
    out->org = xstrdup(org), out->report_id = xstrdup(id), out->domain = xstrdup(dom);
    out->begin = begin, out->end = end;
    json_object_set_new(root, "org", jstr(org));
    put_text(root, "email", md, "email");
    json_object_set_new(root, "report_id", jstr(id));
    json_object_set_new(root, "begin", json_integer(begin));
    json_object_set_new(root, "end", json_integer(end));
    json_object_set_new(root, "policy", policy_json(pp));
    return 0;
}

static int read_feedback(const xmlNode *fb, struct rua_report *out, const char **err_out)
{
    json_t *root = json_object(), *records = json_array();
    int rc = metadata(fb, root, out, err_out);
    for (xmlNode *r = child(fb, "record"); rc == 0 && r; r = next_same(r)) {
        if (json_array_size(records) >= RUA_MAX_RECORDS) {
            rc = ERR_LIMIT, *err_out = "more than 100000 records";
            break;
        }
        json_t *o = record_json(r);
        if (!o)
            rc = ERR_PARSE, *err_out = "a record without source_ip or count";
        else
            json_array_append_new(records, o);
    }
    json_object_set_new(root, "records", records);
    if (rc == 0) {
        out->json = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!out->json)
            rc = ERR_PARSE, *err_out = "the report could not be written as JSON";
    }
    json_decref(root);
    return rc;
}

int rua_parse_dmarc(const char *xml, size_t len, struct rua_report *out, const char **err_out)
{
    memset(out, 0, sizeof *out);
    out->kind = RUA_DMARC;
    if (len > RUA_MAX_SIZE)
        return *err_out = "the report is larger than 8 MiB", ERR_LIMIT;
    xmlDoc *doc = xmlReadMemory(xml, (int)len, "report.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc)
        return *err_out = "not well-formed XML", ERR_PARSE;
    int rc;
    const xmlNode *fb = xmlDocGetRootElement(doc);
    if (doc->intSubset || doc->extSubset)
        rc = ERR_PARSE, *err_out = "a report with a DTD";
    else if (!fb || strcmp((const char *)fb->name, "feedback") != 0)
        rc = ERR_PARSE, *err_out = "the root element is not <feedback>";
    else
        rc = read_feedback(fb, out, err_out);
    xmlFreeDoc(doc);
    return rc;
}
