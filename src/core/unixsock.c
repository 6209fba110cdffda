/* unixsock — DIR/NAME as an AF_UNIX stream socket address, however long DIR is. */
#include "core/unixsock.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Fills sun with DIR/NAME, or with /proc/self/fd/N/NAME when that does not fit (*dirfd
 * then holds N, to be closed after bind/connect). 0, or -1 with errno set. */
static int addr_fill(const char *dir, const char *name, struct sockaddr_un *sun, int *dirfd)
{
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    *dirfd = -1;
    int n = snprintf(sun->sun_path, sizeof sun->sun_path, "%s/%s", dir, name);
    if (n >= 0 && (size_t)n < sizeof sun->sun_path)
        return 0;
    *dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (*dirfd < 0)
        return -1;
    n = snprintf(sun->sun_path, sizeof sun->sun_path, "/proc/self/fd/%d/%s", *dirfd, name);
    if (n < 0 || (size_t)n >= sizeof sun->sun_path) {
        close(*dirfd);
        *dirfd = -1;
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

int unixsock_listen(const char *dir, const char *name, struct str *err)
{
    struct sockaddr_un sun;
    int dirfd;
    if (addr_fill(dir, name, &sun, &dirfd) != 0) {
        str_appendf(err, "%s/%s: %s", dir, name, strerror(errno));
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int rc = fd < 0 ? -1 : 0;
    const char *what = "socket";
    if (rc == 0 && unlink(sun.sun_path) != 0 && errno != ENOENT)
        what = "unlink", rc = -1;
    /* chmod rather than umask: the umask is the whole process's, and other threads run */
    if (rc == 0 && bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0)
        what = "bind", rc = -1;
    if (rc == 0 && chmod(sun.sun_path, 0600) != 0)
        what = "chmod", rc = -1;
    if (rc == 0 && listen(fd, 16) != 0)
        what = "listen", rc = -1;
    if (rc != 0) {
        str_appendf(err, "%s/%s: %s: %s", dir, name, what, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    if (dirfd >= 0)
        close(dirfd);
    return fd;
}

int unixsock_connect(const char *dir, const char *name)
{
    struct sockaddr_un sun;
    int dirfd;
    if (addr_fill(dir, name, &sun, &dirfd) != 0)
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
        int e = errno;
        close(fd);
        fd = -1;
        errno = e;
    }
    if (dirfd >= 0) {
        int e = errno;
        close(dirfd);
        errno = e;
    }
    return fd;
}

void unixsock_remove(const char *dir, const char *name)
{
    struct sockaddr_un sun;
    int dirfd;
    if (addr_fill(dir, name, &sun, &dirfd) != 0)
        return;
    unlink(sun.sun_path);
    if (dirfd >= 0)
        close(dirfd);
}
