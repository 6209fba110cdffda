/* pidfile — DATA/pigeond.pid. See pidfile.h. */
#include "host/pidfile.h"

#include "core/log.h"
#include "store/store.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void pidfile_path(const char *data_dir, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", data_dir, PIDFILE_NAME);
}

int pidfile_write(const char *data_dir)
{
    char path[4200], text[32];
    pidfile_path(data_dir, path, sizeof path);
    int n = snprintf(text, sizeof text, "%ld\n", (long)getpid());
    if (store_durable_write(path, text, (size_t)n) != 0) {
        log_warn("cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

pid_t pidfile_read(const char *data_dir)
{
    char path[4200];
    pidfile_path(data_dir, path, sizeof path);
    FILE *f = fopen(path, "r");
    long pid = -1;
    if (!f)
        return -1;
    if (fscanf(f, "%ld", &pid) != 1 || pid <= 1)
        pid = -1;
    fclose(f);
    if (pid > 1 && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
        pid = -1; /* a stale file from a daemon that was killed */
    return (pid_t)pid;
}

void pidfile_remove(const char *data_dir)
{
    char path[4200];
    pidfile_path(data_dir, path, sizeof path);
    if (pidfile_read(data_dir) == getpid())
        unlink(path);
}
