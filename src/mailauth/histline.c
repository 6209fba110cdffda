/* histline — fields of the report history lines (see histline.h). */
#include "mailauth/histline.h"

#include "core/err.h"

#include <stdlib.h>
#include <string.h>

void histline_field(struct str *out, const char *v)
{
    str_appendc(out, '\t');
    for (const char *p = v; *p; p++)
        str_appendc(out, (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p);
}

void histline_end(struct str *out)
{
    str_appends(out, "\t.\n");
}

int histline_take(const char *line, size_t len, size_t *pos, char *out, size_t cap)
{
    if (*pos > len)
        return ERR_PARSE;
    size_t e = *pos;
    while (e < len && line[e] != '\t')
        e++;
    if (e - *pos >= cap)
        return ERR_PARSE;
    memcpy(out, line + *pos, e - *pos);
    out[e - *pos] = '\0';
    *pos = e + 1;
    return 0;
}

int histline_take_num(const char *line, size_t len, size_t *pos, long long max, long long *v)
{
    char tmp[24], *end;
    if (histline_take(line, len, pos, tmp, sizeof tmp) || !tmp[0] || tmp[0] == '-' ||
        tmp[0] == '+' || tmp[0] == ' ')
        return ERR_PARSE;
    *v = strtoll(tmp, &end, 10);
    return *end || *v < 0 || *v > max ? ERR_PARSE : 0;
}

int histline_take_end(const char *line, size_t len, size_t *pos)
{
    char end[2];
    if (histline_take(line, len, pos, end, sizeof end) || strcmp(end, ".") != 0)
        return ERR_PARSE;
    return *pos == len + 1 ? 0 : ERR_PARSE;
}
