/* http/field — see field.h: head lines and fields, shared by requests and responses. */
#include "http/field.h"

#include <string.h>

/* RFC 9110 §5.6.2 tchar, as a table: looked up for every octet of every field name. */
static const unsigned char tchar[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1,
    ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};

bool http_token_ok(struct slice s)
{
    if (s.len == 0)
        return false;
    for (size_t i = 0; i < s.len; i++)
        if (!tchar[(unsigned char)s.p[i]])
            return false;
    return true;
}

/* field-vchar, SP, HTAB and obs-text; no other CTL, no DEL. */
bool http_field_value_ok(struct slice v)
{
    for (size_t i = 0; i < v.len; i++) {
        unsigned char c = (unsigned char)v.p[i];
        if (c < 0x20 ? c != '\t' : c == 0x7f)
            return false;
    }
    return true;
}

int http_line_next(const char **p, const char *end, struct slice *line_out, const char **why_out)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    if (!nl || nl == *p || nl[-1] != '\r')
        return *why_out = "malformed line ending", -1;
    struct slice line = slice_make(*p, (size_t)(nl - 1 - *p));
    if (memchr(line.p, '\r', line.len) || memchr(line.p, '\0', line.len))
        return *why_out = "bare CR or NUL", -1;
    *line_out = line;
    *p = nl + 1;
    return 0;
}

int http_field_lex(struct slice line, struct http_header *out, const char **why_out)
{
    if (line.p[0] == ' ' || line.p[0] == '\t')
        return *why_out = "obsolete line folding", -1;
    const char *colon = memchr(line.p, ':', line.len);
    if (!colon)
        return *why_out = "header line without a colon", -1;
    out->name = slice_make(line.p, (size_t)(colon - line.p));
    if (!http_token_ok(out->name))
        return *why_out = "bad header name", -1; /* includes "Name :" (RFC 9112 §5.1) */
    struct slice v = slice_make(colon + 1, line.len - out->name.len - 1);
    if (!http_field_value_ok(v))
        return *why_out = "control character in a header", -1;
    out->value = slice_trim(v); /* OWS: SP and HTAB (RFC 9110 §5.6.3) */
    return 0;
}

int http_decimal_parse(struct slice v, uint64_t *out)
{
    if (v.len == 0 || v.len > 19)
        return -1;
    uint64_t n = 0;
    for (size_t i = 0; i < v.len; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return -1;
        n = n * 10 + (uint64_t)(v.p[i] - '0');
    }
    *out = n;
    return 0;
}
