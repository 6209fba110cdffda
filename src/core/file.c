/*
 * file — whole-file reads.
 */
#include "core/file.h"

#include "core/err.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int file_read_all(const char *path, size_t max, struct str *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? ERR_NOTFOUND : ERR_IO;
    char buf[65536];
    ssize_t n;
    size_t total = 0;
    int rc = 0;
    while ((n = read(fd, buf, sizeof buf)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = ERR_IO;
            break;
        }
        total += (size_t)n;
        if (total > max) {
            rc = ERR_LIMIT;
            break;
        }
        str_append(out, buf, (size_t)n);
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}
