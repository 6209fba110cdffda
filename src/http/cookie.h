/*
 * http/cookie — cookies (RFC 6265) and the server-side login sessions they name, plus HTML
 * form decoding (application/x-www-form-urlencoded) for the login form.
 *
 * A login session is an unguessable id (the caller supplies 16 random octets) mapped to a
 * user, a site and an expiry; the cookie carries only the id. The table is bounded (the
 * oldest session goes when it is full), expired sessions are refused and dropped, ids are
 * compared in constant time. The table locks itself: every worker shares one. No I/O, no
 * clock (times are passed in).
 */
#ifndef PIGEON_HTTP_COOKIE_H
#define PIGEON_HTTP_COOKIE_H

#include "http/request.h"

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define HTTP_SESSION_COOKIE "pigeon_session"
#define HTTP_SESSION_ID_LEN 32 /* hex characters */

/* The value of cookie `name` in the request's Cookie field(s); false when absent. */
bool http_cookie_get(const struct http_request *req, const char *name, struct slice *out);

/* The decoded value of field `name` of a urlencoded form; false when absent or malformed. */
bool http_form_get(const char *body, size_t len, const char *name, struct str *out);

struct http_login_table;

struct http_login_table *http_logins_new(unsigned max_sessions);
void http_logins_free(struct http_login_table *t);
/* Makes a session for user on site until `expires`; writes its id (hex, NUL-terminated) to
 * id_out. rnd: 16 random octets. */
void http_logins_add(struct http_login_table *t, const unsigned char rnd[16], const char *user,
                     const char *site, time_t expires, char id_out[HTTP_SESSION_ID_LEN + 1]);
/* The user of session id on site if it exists and has not expired (copied to user_out). */
bool http_logins_find(struct http_login_table *t, struct slice id, const char *site, time_t now,
                      char *user_out, size_t cap);
/* Ends session id (logout); false when there was none. */
bool http_logins_remove(struct http_login_table *t, struct slice id);
unsigned http_logins_count(struct http_login_table *t);

#endif
