/*
 * resolvconf — the "nameserver" lines of resolv.conf(5), as the system's stub resolver reads
 * them: at most RESOLVCONF_MAX addresses in file order; none (or no file) means 127.0.0.1, as
 * glibc does. Used by `pigeon lookup` without @server and by the mail side's DNS when
 * [delivery] resolver is unset. Reads one file; no other I/O.
 */
#ifndef PIGEON_CORE_RESOLVCONF_H
#define PIGEON_CORE_RESOLVCONF_H

#include <stddef.h>

#define RESOLVCONF_MAX 3 /* MAXNS of resolv.h */
#define RESOLVCONF_PATH "/etc/resolv.conf"

/* Fills out[0..n) with numeric addresses (scope ids kept: "fe80::1%eth0"); returns n >= 1. */
size_t resolvconf_nameservers(const char *path, char out[][64], size_t max);

#endif
