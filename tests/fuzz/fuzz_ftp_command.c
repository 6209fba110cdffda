/*
 * libFuzzer target for the FTP command line parsers (ftp/cmd.h) and the virtual path
 * resolution (ftp/path.h): any line is parsed, its argument tried as PORT, EPRT, REST, MFMT and as
 * a path against a working directory. Nothing may crash, read out of bounds, or produce a
 * path that is not absolute and free of "." and ".." components.
 */
#include "ftp/cmd.h"
#include "ftp/path.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_path(const char *p)
{
    if (p[0] != '/')
        abort();
    for (const char *c = p; *c; c++) {
        if (c[0] != '/')
            continue;
        if ((c[1] == '.' && (c[2] == '/' || c[2] == '\0')) ||
            (c[1] == '.' && c[2] == '.' && (c[3] == '/' || c[3] == '\0')) ||
            (c[1] == '/') || (c[1] == '\0' && c != p))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size ? size : 1);
    memcpy(line, data, size);
    size_t n = ftp_telnet_strip(line, size);
    if (n > size)
        abort();
    struct ftp_cmd cmd;
    if (ftp_cmd_parse(line, n, &cmd) == 0) {
        struct ftp_hostport hp;
        uint64_t off;
        char text[64], out[FTP_PATH_MAX];
        if (ftp_parse_port(cmd.arg, &hp) == 0 && ftp_format_pasv(&hp, text, sizeof text) < 0)
            abort();
        if (ftp_parse_eprt(cmd.arg, &hp) == 0 && hp.family != 4 && hp.family != 6)
            abort();
        (void)ftp_parse_offset(cmd.arg, &off);
        int64_t when;
        struct slice name;
        if (ftp_parse_mfmt(cmd.arg, &when, &name) == 0 &&
            (name.len == 0 || name.p < cmd.arg.p || name.p + name.len != cmd.arg.p + cmd.arg.len))
            abort();
        if (ftp_path_resolve("/a/b", cmd.arg, out, sizeof out) == 0)
            check_path(out);
    }
    free(line);
    return 0;
}
