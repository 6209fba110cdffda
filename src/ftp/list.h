/*
 * list — how the FTP engine shows files: LIST lines in the `ls -l` shape every client parses,
 * NLST names, RFC 3659 MLSx fact lines and the MDTM/modify time. Pure formatting: the caller
 * gives the file's facts and, for LIST, the current time (the engine has no clock).
 */
#ifndef PIGEON_FTP_LIST_H
#define PIGEON_FTP_LIST_H

#include "core/str.h"

#include <stdbool.h>
#include <stdint.h>

/* What the glue knows of one file (from fstatat). */
struct ftp_stat {
    bool is_dir;
    bool is_file;     /* a regular file (else: a device, socket ...) */
    uint64_t size;
    int64_t mtime;    /* seconds since the epoch, UTC */
    unsigned mode;    /* permission bits */
    unsigned nlink;
    uint64_t dev, ino; /* MLSx "unique" */
};

enum ftp_list_fmt {
    FTP_LIST_LONG,  /* LIST: ls -l lines */
    FTP_LIST_NAMES, /* NLST: names only */
    FTP_LIST_MLSX,  /* MLSD and MLST: facts */
};

/* MLSx facts a client may select with OPTS MLST (RFC 3659 §7.9). */
enum {
    FACT_TYPE = 1,
    FACT_SIZE = 2,
    FACT_MODIFY = 4,
    FACT_PERM = 8,
    FACT_UNIQUE = 16,
    FACT_ALL = 31
};

/* What an MLSx line's "type" fact says (RFC 3659 §7.5.1). */
enum ftp_mlsx_type { FTP_MLSX_ENTRY, FTP_MLSX_CDIR, FTP_MLSX_PDIR };

/* "YYYYMMDDHHMMSS" of t in UTC (RFC 3659 §2.3) into out[15]. */
void ftp_time_val(int64_t t, char out[15]);

/*
 * Appends one line (CRLF-terminated) for name in format fmt. now: the current time (LIST
 * shows the year instead of the time for files older than six months, as ls does).
 * read_only: the session may not change anything (MLSx perm fact); facts: the FACT_* bits
 * an MLSx line shows.
 */
void ftp_list_append(struct str *out, enum ftp_list_fmt fmt, const struct ftp_stat *st,
                     const char *name, enum ftp_mlsx_type type, bool read_only, int64_t now,
                     unsigned facts);

/* The MLSx facts of st, "type=file;size=3;...; " (with the final space), for MLST/MLSD. */
void ftp_mlsx_facts(struct str *out, const struct ftp_stat *st, enum ftp_mlsx_type type,
                    bool read_only, unsigned facts);

#endif
