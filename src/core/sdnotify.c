#include "core/sdnotify.h"

#include "core/err.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int sdnotify_send(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !*path)
        return 0;
    size_t n = strlen(path);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if ((path[0] != '/' && path[0] != '@') || n >= sizeof sun.sun_path)
        return ERR_PARSE;
    memcpy(sun.sun_path, path, n);
    if (path[0] == '@') /* abstract namespace: a leading NUL, no terminator */
        sun.sun_path[0] = '\0';
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/'));
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return ERR_IO;
    ssize_t w = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sun, len);
    close(fd);
    return w < 0 ? ERR_IO : 1;
}
