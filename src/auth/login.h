/*
 * login — turns what a user typed as a login name into the canonical "local@domain" the store
 * knows: lower-cased, and a bare local part ("bob", as in the textbook's `user bob`) completed
 * with the server's primary domain. Pure; no I/O.
 */
#ifndef PIGEON_AUTH_LOGIN_H
#define PIGEON_AUTH_LOGIN_H

#include <stddef.h>

/* Writes the canonical address into out (NUL-terminated). ERR_PARSE for an empty name, a name
 * with controls/spaces, more than one '@' or an empty side of the '@'; ERR_RANGE if it does
 * not fit. A bare name stays bare when primary_domain is NULL or "". */
int login_canonical(const char *login, const char *primary_domain, char *out, size_t cap);

#endif
