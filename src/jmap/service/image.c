/*
 * jmap service — the webmail's remote-image proxy: GET /jmap/image?url=... (authenticated as
 * the rest of JMAP; a cookie session must send its CSRF token even on this GET, so another
 * site cannot make a logged-in browser fetch through Pigeon). The image is fetched here, on
 * the service's own two threads (libcurl, blocking), so the sender sees Pigeon's address and
 * nothing of the reader: no cookie, no Referer, no client headers. Only http and https; at
 * most three redirects; every address connected to (redirects and DNS answers included) is
 * checked when the socket is opened, and one that is not public (loopback, private, link-
 * local..., jmap/image.h) is refused unless [jmap] image_proxy_allow names it; the answer
 * must be a raster image by its type and first octets, and no larger than
 * image_proxy_max_size. The proxy's own environment (http_proxy...) is ignored.
 */
#include "jmap/service/service_int.h"

#include "core/log.h"
#include "core/loop_post.h"
#include "core/pool.h"
#include "core/xmalloc.h"
#include "host/host.h"
#include "http/handler.h"
#include "jmap/image.h"
#include "jmap/url.h"
#include "net/acl.h"
#include "net/conn.h"

#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define IMAGE_THREADS 2
#define IMAGE_BUSY_MAX 32       /* fetches queued or running at once */
#define IMAGE_TIMEOUT_S 15
#define IMAGE_REDIRECTS 3

struct image_job {
    struct http_exchange *x;
    struct conn *conn;
    struct jmap_service *svc;
    char url[JMAP_IMAGE_URL_MAX + 1];
    int status;
    char why[160];
    const char *type;
    struct str body;
    bool refused, too_big;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    struct image_job *j = arg;
    size_t len = size * n;
    if (j->body.len + len > j->svc->cfg->image_proxy_max_size) {
        j->too_big = true;
        return 0; /* libcurl stops with CURLE_WRITE_ERROR */
    }
    str_append(&j->body, p, len);
    return len;
}

/* Every connection libcurl opens comes here first: the address is checked, not the name. */
static curl_socket_t on_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct image_job *j = arg;
    (void)purpose;
    bool ip = a->family == AF_INET || a->family == AF_INET6;
    if (!ip || (net_acl_match(&j->svc->image_nonpublic, &a->addr) &&
                !net_acl_match(&j->svc->image_allow, &a->addr))) {
        j->refused = true;
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static void fetch(struct image_job *j)
{
    CURL *h = curl_easy_init();
    if (!h) {
        j->status = 500;
        return;
    }
    struct curl_slist *hdr = curl_slist_append(NULL, "Accept: image/avif,image/webp,image/png,"
                                                     "image/jpeg,image/gif");
    curl_easy_setopt(h, CURLOPT_URL, j->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)IMAGE_REDIRECTS);
    curl_easy_setopt(h, CURLOPT_PROXY, ""); /* never a proxy from the environment */
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)IMAGE_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
                     (curl_off_t)j->svc->cfg->image_proxy_max_size);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "Pigeon image proxy");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, j);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, on_socket);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, j);
    CURLcode rc = curl_easy_perform(h);
    long code = 0;
    char *ctype = NULL;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype);
    if (j->refused) {
        j->status = 403;
        snprintf(j->why, sizeof j->why, "The image's address is not a public one.");
    } else if (j->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
        j->status = 413;
        snprintf(j->why, sizeof j->why, "The image is larger than this server fetches.");
    } else if (rc != CURLE_OK) {
        j->status = 502;
        snprintf(j->why, sizeof j->why, "The image could not be fetched: %s.",
                 curl_easy_strerror(rc));
    } else if (code != 200) {
        j->status = 502;
        snprintf(j->why, sizeof j->why, "The image's server answered %ld.", code);
    } else if (!(j->type = jmap_image_type(ctype, (const unsigned char *)j->body.ptr,
                                           j->body.len))) {
        j->status = 415;
        snprintf(j->why, sizeof j->why, "That is not an image (PNG, JPEG, GIF, WebP, AVIF).");
    } else {
        j->status = 200;
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
}

static void image_done(void *vj)
{
    struct image_job *j = vj;
    struct conn *c = j->conn;
    pthread_mutex_lock(&j->svc->lock);
    j->svc->images_busy--;
    pthread_mutex_unlock(&j->svc->lock);
    if (j->status == 200) {
        struct http_response r;
        http_response_init(&r, 200);
        http_response_header(&r, "Content-Type", "%s", j->type);
        http_response_header(&r, "Cache-Control", "private, max-age=3600");
        http_response_header(&r, "X-Content-Type-Options", "nosniff");
        http_response_header(&r, "Content-Security-Policy", "default-src 'none'; sandbox");
        http_response_body(&r, j->body.ptr ? j->body.ptr : "", j->body.len);
        http_exchange_respond(j->x, &r);
    } else {
        http_exchange_error(j->x, j->status, j->why[0] ? j->why : "The proxy failed.");
    }
    str_clear(&j->body);
    free(j);
    conn_resume(c);
}

static void image_run(void *tctx, void *vj)
{
    (void)tctx;
    struct image_job *j = vj;
    fetch(j);
    loop_post_send(conn_worker(j->conn)->host.post, image_done, j);
}

void jmap_image_start(struct jmap_service *svc, struct http_exchange *x)
{
    const struct http_request *q = x->req;
    struct image_job *j = xcalloc(1, sizeof *j);
    if (jmap_url_param(q->query.p, q->query.len, "url", j->url, sizeof j->url) <= 0 ||
        !jmap_image_url_ok(j->url)) {
        free(j);
        return http_exchange_error(x, 400, "url must be an http: or https: URL.");
    }
    bool over;
    pthread_mutex_lock(&svc->lock);
    over = svc->images_busy >= IMAGE_BUSY_MAX;
    if (!over)
        svc->images_busy++;
    pthread_mutex_unlock(&svc->lock);
    if (over) {
        free(j);
        return http_exchange_error(x, 503, "Too many images are being fetched; try again.");
    }
    j->x = x;
    j->conn = x->conn;
    j->svc = svc;
    pool_submit(svc->image_pool, image_run, j);
}

int jmap_image_open(struct jmap_service *svc)
{
    const struct jmap_config *cfg = svc->cfg;
    char bad[128] = "";
    if (net_acl_parse(jmap_image_nonpublic, &svc->image_nonpublic, NULL, NULL, bad,
                      sizeof bad) != 0 ||
        net_acl_parse(cfg->image_proxy_allow, &svc->image_allow, NULL, NULL, bad,
                      sizeof bad) != 0) {
        log_err("jmap: image_proxy_allow: %s is not an address prefix", bad);
        return -1;
    }
    if (!cfg->image_proxy)
        return 0;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_err("jmap: libcurl would not start: the image proxy is off");
        return -1;
    }
    svc->image_pool = pool_new(IMAGE_THREADS, NULL, NULL, NULL);
    return 0;
}

void jmap_image_close(struct jmap_service *svc)
{
    if (svc->image_pool) {
        pool_free(svc->image_pool);
        curl_global_cleanup();
    }
    net_acl_clear(&svc->image_nonpublic);
    net_acl_clear(&svc->image_allow);
}
