/*
 * bench/lib/openat2_shim.c — for bench/http_callgrind.sh FILE=1 only: valgrind 3.19 (Debian
 * 12) does not know openat2 (syscall 437) and fails it with ENOSYS, so under callgrind every
 * file request would be a 403. LD_PRELOADed into pigeond, this syscall() turns openat2 into
 * openat with the same flags. RESOLVE_BENEATH and RESOLVE_NO_MAGICLINKS are NOT enforced:
 * never use it outside that bench (its document tree holds one file).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <sys/syscall.h>

long syscall(long nr, ...)
{
    va_list ap;
    va_start(ap, nr);
    long a[6];
    for (int i = 0; i < 6; i++)
        a[i] = va_arg(ap, long);
    va_end(ap);
    if (nr == SYS_openat2) {
        const struct open_how *how = (const struct open_how *)a[2];
        return openat((int)a[0], (const char *)a[1], (int)how->flags, (int)how->mode);
    }
    static long (*next)(long, ...);
    if (!next)
        next = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
    return next(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
