/* utf8 — see utf8.h. */
#include "msg/utf8.h"

#include <string.h>

int32_t utf8_next(const char *s, size_t n, size_t *i)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t k = *i;
    unsigned c = p[k];
    if (c < 0x80) {
        *i = k + 1;
        return (int32_t)c;
    }
    unsigned need;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1, cp = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2, cp = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3, cp = c & 0x07, min = 0x10000;
    } else {
        *i = k + 1;
        return -1;
    }
    if (n - k - 1 < need) {
        *i = k + 1;
        return -1;
    }
    for (unsigned j = 1; j <= need; j++) {
        unsigned cc = p[k + j];
        if ((cc & 0xC0) != 0x80) {
            *i = k + 1;
            return -1;
        }
        cp = cp << 6 | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        *i = k + 1;
        return -1;
    }
    *i = k + 1 + need;
    return (int32_t)cp;
}

bool utf8_valid(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n)
        if (utf8_next(s, n, &i) < 0)
            return false;
    return true;
}

void utf8_append(struct str *out, uint32_t cp)
{
    char b[4];
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        cp = 0xFFFD;
    if (cp < 0x80) {
        b[0] = (char)cp;
        str_append(out, b, 1);
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | cp >> 6);
        b[1] = (char)(0x80 | (cp & 0x3F));
        str_append(out, b, 2);
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | cp >> 12);
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        str_append(out, b, 3);
    } else {
        b[0] = (char)(0xF0 | cp >> 18);
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        str_append(out, b, 4);
    }
}

/* Latin Extended-A: upper case at even code points in some runs, odd ones in others. */
static uint32_t fold_latin_ext_a(uint32_t cp)
{
    if (cp == 0x130)
        return 'i';
    if (cp == 0x178)
        return 0xFF;
    if ((cp >= 0x100 && cp <= 0x12F) || (cp >= 0x132 && cp <= 0x137) ||
        (cp >= 0x14A && cp <= 0x177))
        return cp | 1;
    if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E))
        return (cp & 1) ? cp + 1 : cp;
    if (cp == 0x17F)
        return 's';
    return cp;
}

static uint32_t fold_greek(uint32_t cp)
{
    if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2)
        return cp + 0x20;
    if (cp == 0x3C2)
        return 0x3C3; /* final sigma */
    if (cp == 0x386)
        return 0x3AC;
    if (cp >= 0x388 && cp <= 0x38A)
        return cp + 0x25;
    if (cp == 0x38C)
        return 0x3CC;
    if (cp == 0x38E || cp == 0x38F)
        return cp + 0x3F;
    return cp;
}

static uint32_t fold_cyrillic(uint32_t cp)
{
    if (cp >= 0x410 && cp <= 0x42F)
        return cp + 0x20;
    if (cp >= 0x400 && cp <= 0x40F)
        return cp + 0x50;
    if ((cp >= 0x460 && cp <= 0x481) || (cp >= 0x48A && cp <= 0x4BF))
        return cp | 1;
    return cp;
}

uint32_t utf8_fold_cp(uint32_t cp)
{
    if (cp < 0x80)
        return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
    if (cp < 0x100) {
        if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)
            return cp + 0x20;
        return cp == 0xB5 ? 0x3BC : cp;
    }
    if (cp < 0x180)
        return fold_latin_ext_a(cp);
    if (cp >= 0x370 && cp < 0x400)
        return fold_greek(cp);
    if (cp >= 0x400 && cp < 0x530)
        return fold_cyrillic(cp);
    return cp;
}

void utf8_fold(const char *s, size_t n, struct str *out)
{
    str_reserve(out, n);
    str_append(out, "", 0); /* keeps the string terminated even if nothing follows */
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            /* Fast path for the common ASCII run. */
            str_appendc(out, (char)((c >= 'A' && c <= 'Z') ? c + 32 : c));
            i++;
            continue;
        }
        size_t start = i;
        int32_t cp = utf8_next(s, n, &i);
        if (cp < 0)
            str_append(out, s + start, 1);
        else
            utf8_append(out, utf8_fold_cp((uint32_t)cp));
    }
}

bool utf8_contains_folded(const char *hay, size_t hn, const char *needle, size_t nn)
{
    if (nn == 0)
        return true;
    struct str f = STR_INIT;
    utf8_fold(hay, hn, &f);
    bool found = f.len >= nn && memmem(f.ptr, f.len, needle, nn) != NULL;
    str_clear(&f);
    return found;
}
