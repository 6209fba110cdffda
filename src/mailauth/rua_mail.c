/*
 * rua_mail — the reports carried by one message (see rua.h): its leaf parts of an
 * application/ type or text/xml, transfer-decoded (msg/cte.h), decompressed (zlib for gzip,
 * libarchive for zip), then read as a DMARC or TLS-RPT document.
 */
#include "mailauth/rua.h"

#include "core/err.h"
#include "core/xmalloc.h"
#include "msg/cte.h"
#include "msg/mime.h"

#include <archive.h>
#include <archive_entry.h>
#include <libxml/parser.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

void rua_init(void)
{
    xmlInitParser();
}

const char *rua_kind_name(enum rua_kind k)
{
    return k == RUA_DMARC ? "dmarc" : "tlsrpt";
}

void rua_report_clear(struct rua_report *r)
{
    free(r->org);
    free(r->report_id);
    free(r->domain);
    free(r->json);
    memset(r, 0, sizeof *r);
}

/* RFC 1952 gzip, one member (RFC 7489 §7.2.1.1, RFC 8460 §5.3), at most RUA_MAX_SIZE out. */
static int gunzip(const unsigned char *data, size_t len, struct str *out, const char **err_out)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return *err_out = "zlib could not start", ERR_PARSE;
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)(len > UINT32_MAX ? UINT32_MAX : len);
    int rc = Z_OK;
    unsigned char buf[16384];
    while (rc == Z_OK) {
        z.next_out = buf;
        z.avail_out = sizeof buf;
        rc = inflate(&z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END)
            break;
        str_append(out, (const char *)buf, sizeof buf - z.avail_out);
        if (out->len > RUA_MAX_SIZE) {
            inflateEnd(&z);
            return *err_out = "the report is larger than 8 MiB decompressed", ERR_LIMIT;
        }
        if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0)
            break; /* input ended before the gzip trailer */
    }
    inflateEnd(&z);
    if (rc != Z_STREAM_END)
        return *err_out = "the gzip data is damaged or cut short", ERR_PARSE;
    return 0;
}

/* One zip entry's data into out; *budget (what RUA_MAX_SIZE leaves) shrinks with it. */
static int unzip_entry(struct archive *a, struct str *out, size_t *budget, const char **err_out)
{
    char buf[16384];
    for (;;) {
        la_ssize_t n = archive_read_data(a, buf, sizeof buf);
        if (n == 0)
            return 0;
        if (n < 0)
            return *err_out = "the zip entry is damaged", ERR_PARSE;
        if ((size_t)n > *budget)
            return *err_out = "the report is larger than 8 MiB decompressed", ERR_LIMIT;
        *budget -= (size_t)n;
        str_append(out, buf, (size_t)n);
    }
}

/* Every regular file of a zip archive (Google sends one .xml per .zip). */
static int unzip(const unsigned char *data, size_t len, struct str *docs, size_t max,
                 const char **err_out)
{
    struct archive *a = archive_read_new();
    archive_read_support_format_zip(a);
    int n = 0, rc = 0;
    size_t budget = RUA_MAX_SIZE;
    if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
        archive_read_free(a);
        return *err_out = "not a zip archive", ERR_PARSE;
    }
    struct archive_entry *e;
    while (rc == 0 && (size_t)n < max && archive_read_next_header(a, &e) == ARCHIVE_OK) {
        if (archive_entry_filetype(e) != AE_IFREG)
            continue;
        str_init(&docs[n]);
        rc = unzip_entry(a, &docs[n], &budget, err_out);
        if (rc != 0)
            str_clear(&docs[n]);
        else
            n++;
    }
    if (rc == 0 && n == 0)
        rc = ERR_PARSE, *err_out = "the zip archive holds no file";
    archive_read_free(a);
    if (rc != 0) {
        for (int i = 0; i < n; i++)
            str_clear(&docs[i]);
        return rc;
    }
    return n;
}

int rua_unpack(const unsigned char *data, size_t len, struct str *docs, size_t max,
               const char **err_out)
{
    if (max == 0)
        return 0;
    if (len >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
        str_init(&docs[0]);
        int rc = gunzip(data, len, &docs[0], err_out);
        if (rc != 0)
            str_clear(&docs[0]);
        return rc != 0 ? rc : 1;
    }
    if (len >= 4 && memcmp(data, "PK\3\4", 4) == 0)
        return unzip(data, len, docs, max, err_out);
    if (len > RUA_MAX_SIZE)
        return *err_out = "the report is larger than 8 MiB", ERR_LIMIT;
    str_init(&docs[0]);
    str_append(&docs[0], (const char *)data, len);
    return 1;
}

int rua_parse_document(const char *doc, size_t len, struct rua_report *out, const char **err_out)
{
    memset(out, 0, sizeof *out); /* cleared even when neither parser runs */
    size_t i = 0;
    if (len >= 3 && memcmp(doc, "\xef\xbb\xbf", 3) == 0) /* a UTF-8 byte order mark */
        i = 3;
    while (i < len && doc[i] && strchr(" \t\r\n", doc[i]))
        i++;
    if (i < len && doc[i] == '<')
        return rua_parse_dmarc(doc, len, out, err_out);
    if (i < len && doc[i] == '{')
        return rua_parse_tlsrpt(doc + i, len - i, out, err_out);
    return *err_out = "neither XML nor JSON", ERR_PARSE;
}

/* Parts that may hold a report: application/ (gzip, zip, xml, tlsrpt+gzip, tlsrpt+json,
 * octet-stream, ...) and text/xml; the human-readable text parts are skipped. */
static bool report_part(const struct mime_part *p)
{
    return p->kind == MIME_KIND_BASIC ? mime_part_is(p, "application", NULL)
                                      : mime_part_is(p, "text", "xml");
}

/* The reports of one part appended to out[*n..max). */
static void parse_part(const char *msg, const struct mime_part *p, struct rua_report *out,
                       size_t *n, size_t max, size_t *refused, const char **err_out)
{
    struct str raw = STR_INIT;
    const char *enc = p->encoding ? p->encoding : "";
    cte_decode(cte_from_name(enc, strlen(enc)), msg + p->body_off, p->body_len, &raw);
    struct str docs[RUA_MAX_PER_MSG];
    const char *why = NULL;
    int nd = rua_unpack((const unsigned char *)str_cstr(&raw), raw.len, docs, max - *n, &why);
    str_clear(&raw);
    if (nd < 0) {
        (*refused)++;
        if (!*err_out)
            *err_out = why;
        return;
    }
    for (int i = 0; i < nd; i++) {
        struct rua_report r = {0};
        if (rua_parse_document(str_cstr(&docs[i]), docs[i].len, &r, &why) == 0) {
            out[(*n)++] = r;
        } else {
            rua_report_clear(&r);
            (*refused)++;
            if (!*err_out)
                *err_out = why;
        }
        str_clear(&docs[i]);
    }
}

size_t rua_parse_message(const char *msg, size_t len, struct rua_report *out, size_t max,
                         size_t *refused_out, const char **err_out)
{
    struct mime_limits lim = {.max_depth = 8, .max_parts = 64};
    struct mime_tree *t = mime_parse(msg, len, &lim);
    size_t n = 0, refused = 0;
    *err_out = NULL;
    if (max > RUA_MAX_PER_MSG)
        max = RUA_MAX_PER_MSG;
    /* Depth-first over the tree; an encapsulated message (a forwarded report) is entered. */
    const struct mime_part *p = t->root;
    while (p && n < max) {
        if (p->kind == MIME_KIND_MULTIPART && p->children) {
            p = p->children;
            continue;
        }
        if (p->kind == MIME_KIND_MESSAGE && p->message) {
            p = p->message;
            continue;
        }
        if (report_part(p))
            parse_part(msg, p, out, &n, max, &refused, err_out);
        while (p && !p->next) /* up to the next sibling of an ancestor */
            p = p->parent ? p->parent : p->container;
        if (p)
            p = p->next;
    }
    mime_tree_free(t);
    *refused_out = refused;
    return n;
}
