/* mailauth service internals: the process-wide state service.c makes and glue.c uses. */
#ifndef PIGEON_MAILAUTH_SERVICE_SERVICE_INT_H
#define PIGEON_MAILAUTH_SERVICE_SERVICE_INT_H

#include "mailauth/service/service.h"

#include <pthread.h>

struct dkim_signer;
struct psl;

struct signer_entry {
    char domain[254];
    struct dkim_signer *s; /* NULL: the key could not be loaded (logged once) */
};

struct mailauth_glue {
    const struct config_dkim *cfg;
    const char *hostname; /* the authserv-id of our Authentication-Results */
    struct psl *psl;      /* NULL when verification is off */
    pthread_mutex_t mu;   /* guards e/n; a signer, once made, is never freed early */
    struct signer_entry *e;
    size_t n;
};

#endif
