/*
 * handler/login — the cookie login of a site (RFC 6265), the session mechanism the webmail
 * will use: GET /login shows a form; POST /login (username, password) checks a Pigeon user's
 * password and sets a session cookie (HttpOnly, SameSite=Lax, Path=/, Max-Age, Secure under
 * TLS) naming a server-side session that expires; POST /logout ends it; GET /whoami shows who
 * is logged in, or refuses a missing, forged or stale session with 403.
 *
 * Passwords travel in clear over plain HTTP: they are accepted there only as the site's
 * plaintext_auth allows (by default from loopback only), as IMAP does.
 */
#include "http/cookie.h"
#include "http/handler.h"
#include "http/site.h"

#include <stdio.h>
#include <string.h>

#define USER_MAX 256

static const char form_page[] =
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Log in</title></head>\n"
    "<body><h1>Log in</h1>\n<form method=\"post\" action=\"/login\">\n"
    "<p><label>User <input name=\"username\" autocomplete=\"username\"></label></p>\n"
    "<p><label>Password <input name=\"password\" type=\"password\" "
    "autocomplete=\"current-password\"></label></p>\n"
    "<p><button type=\"submit\">Log in</button></p>\n</form></body></html>\n";

static void page(struct http_exchange *x, int status, const char *html, size_t n)
{
    struct http_response r;
    http_response_init(&r, status);
    http_response_header(&r, "Content-Type", "text/html; charset=utf-8");
    http_response_header(&r, "Cache-Control", "no-store");
    http_response_body(&r, html, n);
    http_exchange_respond(x, &r);
}

static void see_other(struct http_response *r, const char *where)
{
    r->status = 303;
    http_response_header(r, "Location", "%s", where);
    http_response_header(r, "Cache-Control", "no-store");
}

bool http_plaintext_ok(const struct http_exchange *x)
{
    return x->tls || x->site->plaintext_auth == 2 || (x->site->plaintext_auth == 1 && x->loopback);
}

static void login_done(struct http_exchange *x, bool ok, const char *user)
{
    if (!ok)
        return http_exchange_error(x, 403, "Login failed: wrong user name or password.");
    unsigned char rnd[16];
    x->host->random(rnd, sizeof rnd);
    char id[HTTP_SESSION_ID_LEN + 1];
    http_logins_add(x->host->logins, rnd, user, x->site->name, x->now + x->site->session_ttl, id);
    struct http_response r;
    http_response_init(&r, 303);
    http_response_header(&r, "Set-Cookie", "%s=%s; Path=/; Max-Age=%u; HttpOnly; SameSite=Lax%s",
                         HTTP_SESSION_COOKIE, id, x->site->session_ttl, x->tls ? "; Secure" : "");
    see_other(&r, "/whoami");
    http_exchange_respond(x, &r);
}

static void login_post(struct http_exchange *x)
{
    if (!http_plaintext_ok(x))
        return http_exchange_error(x, 403, "Log in over HTTPS: passwords are not accepted in "
                                           "clear text from this address.");
    struct str user = STR_INIT, pass = STR_INIT;
    const struct http_request *q = x->req;
    if (!http_form_get(q->body, q->body_len, "username", &user) ||
        !http_form_get(q->body, q->body_len, "password", &pass) || user.len == 0 ||
        user.len >= USER_MAX || pass.len == 0) {
        str_clear(&user);
        str_clear(&pass);
        return http_exchange_error(x, 400, "The form needs a user name and a password.");
    }
    x->host->auth(x, str_cstr(&user), str_cstr(&pass), login_done);
    str_clear(&user);
    explicit_bzero(pass.ptr, pass.len);
    str_clear(&pass);
}

static void logout(struct http_exchange *x)
{
    struct slice id;
    if (http_cookie_get(x->req, HTTP_SESSION_COOKIE, &id))
        http_logins_remove(x->host->logins, id);
    struct http_response r;
    http_response_init(&r, 303);
    http_response_header(&r, "Set-Cookie", "%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax%s",
                         HTTP_SESSION_COOKIE, x->tls ? "; Secure" : "");
    see_other(&r, "/login");
    http_exchange_respond(x, &r);
}

/* The logged-in user of this request, or false. */
bool http_login_user(const struct http_exchange *x, char *user, size_t cap)
{
    struct slice id;
    return x->site->login && http_cookie_get(x->req, HTTP_SESSION_COOKIE, &id) &&
           http_logins_find(x->host->logins, id, x->site->name, x->now, user, cap);
}

static void whoami(struct http_exchange *x)
{
    char user[USER_MAX];
    if (!http_login_user(x, user, sizeof user))
        return http_exchange_error(x, 403, "You are not logged in (or your session has "
                                           "expired): log in at /login.");
    struct str html = STR_INIT;
    str_appends(&html, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Logged in"
                       "</title></head>\n<body><p>Logged in as <strong>");
    http_html_escape(&html, user, strlen(user));
    str_appends(&html, "</strong>.</p>\n<form method=\"post\" action=\"/logout\">"
                       "<button type=\"submit\">Log out</button></form></body></html>\n");
    page(x, 200, html.ptr, html.len);
    str_clear(&html);
}

static void not_allowed(struct http_exchange *x, const char *allow)
{
    struct http_response r;
    http_response_init(&r, 405);
    http_response_error(&r, 405, "This method is not allowed here.");
    http_response_header(&r, "Allow", "%s", allow);
    http_exchange_respond(x, &r);
}

bool http_login_handle(struct http_exchange *x)
{
    if (!x->site->login)
        return false;
    const struct http_request *q = x->req;
    bool get = q->method == HTTP_GET || q->method == HTTP_HEAD;
    if (slice_eq(q->path, "/login")) {
        if (get)
            page(x, 200, form_page, sizeof form_page - 1);
        else if (q->method == HTTP_POST)
            login_post(x);
        else
            not_allowed(x, "GET, HEAD, POST");
    } else if (slice_eq(q->path, "/logout")) {
        if (q->method == HTTP_POST)
            logout(x);
        else
            not_allowed(x, "POST");
    } else if (slice_eq(q->path, "/whoami")) {
        if (get)
            whoami(x);
        else
            not_allowed(x, "GET, HEAD");
    } else {
        return false;
    }
    return true;
}
