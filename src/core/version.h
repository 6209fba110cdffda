/*
 * version — the release number printed by `pigeond --version` and `pigeon --version`, and
 * used by `make install` / the Debian package. One place, so the two programs never disagree.
 */
#ifndef PIGEON_CORE_VERSION_H
#define PIGEON_CORE_VERSION_H

#define PIGEON_VERSION "0.9.0"

#endif
