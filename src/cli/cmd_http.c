/* cmd_http — `pigeon http sites`: the Web server's sites as the configuration defines them. */
#include "cli/cli.h"

#include "http/service/config.h"

#include <stdio.h>

static void print_listen(const char *kind, const struct conf_service *svc)
{
    for (unsigned i = 0; i < svc->n_listen; i++)
        printf("  %-9s %s\n", kind, svc->listen[i].text);
}

/* One block per site: its names, root and features; then the service's listeners (shared by
 * every site: the Host field chooses among them). */
int cli_http_sites(struct cli_ctx *ctx, int argc, char **argv)
{
    int rc = cli_ctx_config(ctx);
    if (rc)
        return rc;
    struct http_config *const *sec = config_section(&ctx->cfg, "http");
    const struct http_config *hc = sec ? *sec : NULL;
    if (!hc || hc->nsites == 0) {
        printf("no [http NAME] sites configured\n");
        return CLI_OK;
    }
    const struct http_site *def = http_site_select(hc->sites, hc->nsites, slice_make("", 0));
    for (unsigned i = 0; i < hc->nsites; i++) {
        const struct http_site *s = hc->sites[i];
        printf("%s%s\n  %s  %s\n", s->name, s == def ? " (default)" : "",
               s->root ? "root    " : "proxy_to", s->root ? s->root : s->proxy_to);
        printf("  names    ");
        for (unsigned j = 0; j < s->nnames; j++)
            printf(" %s", s->names[j]);
        printf("%s\n", s->nnames ? "" : " (any)");
        if (s->upload)
            printf("  upload    %s (max %llu octets)\n", s->upload,
                   (unsigned long long)s->max_upload);
        if (s->login)
            printf("  login     /login /whoami /logout (sessions %u s)\n", s->session_ttl);
        if (s->redirect)
            printf("  redirect  %s\n", s->redirect);
        if (s->autoindex)
            printf("  autoindex yes\n");
    }
    printf("listeners\n");
    print_listen("http", &hc->plain);
    print_listen("https", &hc->tls);
    print_listen("metrics", &hc->metrics);
    return CLI_OK;
}
