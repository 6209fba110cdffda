#include "core/resolvconf.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static int numeric(const char *a)
{
    unsigned char buf[16];
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%s", a);
    char *scope = strchr(tmp, '%'); /* a link-local IPv6 address names its interface */
    if (scope)
        *scope = '\0';
    return inet_pton(AF_INET, tmp, buf) == 1 || inet_pton(AF_INET6, tmp, buf) == 1;
}

size_t resolvconf_nameservers(const char *path, char out[][64], size_t max)
{
    size_t n = 0;
    FILE *f = fopen(path, "r");
    char line[512];
    while (f && n < max && fgets(line, sizeof line, f)) {
        char addr[64];
        /* "nameserver ADDR" with any blanks; comments start with # or ; */
        if (sscanf(line, " nameserver %63s", addr) == 1 && numeric(addr))
            snprintf(out[n++], 64, "%s", addr);
    }
    if (f)
        fclose(f);
    if (n == 0 && max > 0)
        snprintf(out[n++], 64, "127.0.0.1");
    return n;
}
