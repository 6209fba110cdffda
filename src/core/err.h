/*
 * err — the one error enum of Pigeon.
 *
 * Functions return int: 0 for success, a negative ERR_* code on failure. Text for a human
 * travels separately through a `const char **err_out` parameter. Performs no I/O.
 */
#ifndef PIGEON_CORE_ERR_H
#define PIGEON_CORE_ERR_H

enum err {
    ERR_OK = 0,
    ERR_NOMEM = -1,    /* allocation failed (xmalloc aborts instead; kept for libraries) */
    ERR_IO = -2,       /* a system call failed; errno tells more */
    ERR_PARSE = -3,    /* input is syntactically wrong */
    ERR_RANGE = -4,    /* a number or length is out of its allowed range */
    ERR_NOTFOUND = -5, /* the thing asked for does not exist */
    ERR_EXISTS = -6,   /* the thing to create exists already */
    ERR_AUTH = -7,     /* credentials rejected */
    ERR_LIMIT = -8,    /* a configured limit was hit */
    ERR_BUSY_STATE = -9, /* not allowed in the current state (not ERR_STATE: OpenSSL owns that) */
    ERR_DB = -10,      /* the database refused (after retries) */
    ERR_TLS = -11,     /* TLS setup or handshake failure */
    ERR_CONFIG = -12,  /* configuration is invalid */
    ERR_AGAIN = -13,   /* temporary failure; retry later */
    ERR_LOOP = -14,    /* a mail routing loop (hop count, Delivered-To) */
};

/* Static description of an ERR_* code; never NULL. */
const char *err_str(int code);

#endif
