/* mailauth service internals: the process-wide state service.c makes and glue.c uses. */
#ifndef PIGEON_MAILAUTH_SERVICE_SERVICE_INT_H
#define PIGEON_MAILAUTH_SERVICE_SERVICE_INT_H

#include "mailauth/service/service.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

struct dkim_signer;
struct host_confgen;
struct psl;

struct signer_entry {
    char domain[254];
    char selector[64];
    struct dkim_signer *s; /* NULL: the key could not be loaded (logged) */
    int64_t retry_at;      /* with s NULL: when to try loading it again */
};

struct worker;
struct event;
struct config_mail_dns;

/* The publisher (publish.c), on worker 0. */
struct mailauth_pub {
    struct mailauth_glue *g;
    struct worker *w;
    struct daemon *d;
    const struct config_mail_dns *dns;
    struct event *ev;
    atomic_int pending; /* edits queued with the name server */
    bool preparing;     /* keyprep.c is making keys ahead of the next round */
};

struct config_dmarc_report;
struct mailauth_daily;

struct mailauth_glue {
    /* [dkim] as the last reload left it: read on any thread (an atomic load), replaced by
     * mailauth_reload; the generations it pointed into are kept until close */
    const struct config_dkim *_Atomic cfg;
    struct host_confgen **gens;
    size_t ngens;
    /* [arc] and [dmarc_report] as the last reload left them (in gens, like cfg) */
    const struct config_arc *_Atomic arc;
    const struct config_dmarc_report *_Atomic drep;
    const char *data_dir;
    bool tlsrpt_send; /* [dmarc_report] tlsrpt_send */
    const char *hostname; /* the authserv-id of our Authentication-Results */
    struct psl *psl;      /* NULL when verification is off */
    pthread_mutex_t mu;   /* guards e/n; a signer, once made, is never freed early */
    struct signer_entry *e;
    size_t n;
    struct dkim_signer **old; /* replaced signers: another thread may still sign with one */
    size_t nold;
    struct mailauth_pub *pub; /* NULL until worker 0 attaches */
    struct mailauth_daily *daily; /* worker 0's DMARC report sender, NULL when off */
    struct mailauth_keyprep *keyprep;
};

struct loop_post;

/* keyprep.c: the keys the workers will load, made ahead on a thread of its own. _run makes
 * the active selector's key of every local domain (when [dkim] sign or publish) and of the
 * [dmarc_report] email's domain (when reports are mailed) where it is missing, then runs
 * done(arg) on lp's loop. _stop (after the workers stopped) ends the thread: jobs still
 * queued make nothing and only post their done; _closing tells it from then on. */
struct mailauth_keyprep *mailauth_keyprep_new(struct daemon *d, struct mailauth_glue *g);
void mailauth_keyprep_run(struct mailauth_keyprep *kp, bool publish, struct loop_post *lp,
                          void (*done)(void *arg), void *arg);
void mailauth_keyprep_stop(struct mailauth_keyprep *kp);
bool mailauth_keyprep_closing(const struct mailauth_keyprep *kp);
void mailauth_keyprep_free(struct mailauth_keyprep *kp);

/* publish.c: made for worker 0 (its loop and store handle); _stop drops the timer (the
 * worker's loop is going), the state itself is freed with the glue. */
struct mailauth_pub *mailauth_pub_new(struct mailauth_glue *g, struct worker *w);
void mailauth_pub_stop(struct mailauth_pub *pub);

/* reports_daily.c: yesterday's DMARC and TLS-RPT reports mailed from worker 0 (NULL when
 * both are off); _stop drops the timer, the state is freed with the glue. */
struct mailauth_daily *mailauth_daily_new(struct mailauth_glue *g, struct worker *w);
void mailauth_daily_stop(struct mailauth_daily *dl);

/* glue.c: the signer of domain (loaded or made on first use; never freed before the glue),
 * or NULL. May block on small file I/O the first time. */
struct dkim_signer *mailauth_glue_signer(struct mailauth_glue *g, const char *domain);

/* glue.c: signing of domain follows selector from now on (a rotation switched). */
void mailauth_glue_follow(struct mailauth_glue *g, const char *domain, const char *selector);

#endif
