/* jmap/image — see image.h: the remote-image proxy's rules. */
#include "jmap/image.h"

#include <string.h>
#include <strings.h>

/* RFC 6890 special-purpose ranges and the private ones (RFC 1918, 4193, 6598), IPv4-mapped
 * addresses included by net/acl.h; NAT64 and 6to4 prefixes can embed any IPv4 address. */
const char jmap_image_nonpublic[] =
    "0.0.0.0/8 10.0.0.0/8 100.64.0.0/10 127.0.0.0/8 169.254.0.0/16 172.16.0.0/12 "
    "192.0.0.0/24 192.0.2.0/24 192.88.99.0/24 192.168.0.0/16 198.18.0.0/15 198.51.100.0/24 "
    "203.0.113.0/24 224.0.0.0/4 240.0.0.0/4 ::/128 ::1/128 64:ff9b::/96 64:ff9b:1::/48 "
    "100::/64 2001::/23 2001:db8::/32 2002::/16 fc00::/7 fe80::/10 fec0::/10 ff00::/8";

bool jmap_image_url_ok(const char *url)
{
    size_t n = strlen(url);
    if (n > JMAP_IMAGE_URL_MAX)
        return false;
    size_t scheme = strncasecmp(url, "http://", 7) == 0    ? 7
                    : strncasecmp(url, "https://", 8) == 0 ? 8
                                                           : 0;
    if (!scheme || n == scheme || url[scheme] == '/')
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f || url[i] == '\\')
            return false;
    return true;
}

const char *jmap_image_type(const char *content_type, const unsigned char *d, size_t n)
{
    static const struct {
        const char *type;
        size_t off, len;
        const char *magic;
    } kinds[] = {
        {"image/png", 0, 8, "\x89PNG\r\n\x1a\n"},
        {"image/jpeg", 0, 3, "\xff\xd8\xff"},
        {"image/gif", 0, 4, "GIF8"},
        {"image/webp", 8, 4, "WEBP"},
        {"image/avif", 4, 8, "ftypavif"},
    };
    if (!content_type)
        return NULL;
    size_t tl = strcspn(content_type, "; \t");
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strlen(kinds[i].type) != tl || strncasecmp(content_type, kinds[i].type, tl) != 0)
            continue;
        if (n < kinds[i].off + kinds[i].len ||
            memcmp(d + kinds[i].off, kinds[i].magic, kinds[i].len) != 0)
            return NULL;
        if (i == 3 && memcmp(d, "RIFF", 4) != 0)
            return NULL;
        return kinds[i].type;
    }
    return NULL;
}
