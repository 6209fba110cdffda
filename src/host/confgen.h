/*
 * confgen — the configuration a reload puts in force, one generation at a time.
 *
 * pigeond starts with d->cfg, which lives until exit. A reload that reads a valid file makes
 * a generation: the new struct config and a copy of the process's listeners whose svc_cfg
 * and limits point into it (each service's reload hook re-lists its sections with
 * host_relisten, as its open() listed them with host_listen_tcp). The generation is then
 * posted to every worker, which between two events switches to it: host_config(w) returns
 * it, new connections are accepted with its listeners, and each service's reload_worker hook
 * runs. Connections already open keep what they copied at their start.
 *
 * A generation is reference counted: the main thread holds the newest, each worker the one
 * it runs with; the last release frees it, on whichever thread that is. Code on a worker
 * reads host_config(w) within one event and keeps no pointer into it afterwards (a session
 * copies the values it needs when it starts).
 */
#ifndef PIGEON_HOST_CONFGEN_H
#define PIGEON_HOST_CONFGEN_H

#include "host/host.h"

/* The configuration worker w runs with now: its last reload's, else d->cfg. On w's thread. */
const struct config *host_config(const struct worker *w);
/* The same for the main thread: the newest. */
const struct config *host_config_main(const struct daemon *d);

/*
 * In a reload hook (main thread): the listeners `name` bound at start take svc_cfg and svc's
 * limits for the connections they accept from now on. svc_cfg must lie in the configuration
 * the hook was given. Addresses added or removed are not bound or closed (that needs a
 * restart, and the reload's report says so): every socket of the name takes the new values.
 */
void host_relisten(struct daemon *d, const char *name, const void *svc_cfg,
                   const struct conf_service *svc);
/* host_relisten for each declared section names[i] (NULL-terminated) of next, whose
 * listeners were bound under the section's own name (as SMTP, POP3 and IMAP do). */
void host_relisten_sections(struct daemon *d, const struct config *next,
                            const char *const *names);

/*
 * For what a service keeps beyond one event (a site set with open directories, a session's
 * settings): a reference to the generation a reload hook was given (main thread, inside the
 * hook), or to the one worker w runs with (host_confgen_hold_worker). NULL stands for the
 * start configuration d->cfg, which lives until exit. host_confgen_drop(NULL) does nothing;
 * the last drop frees the generation, on any thread.
 */
struct host_confgen *host_confgen_hold(struct daemon *d);
struct host_confgen *host_confgen_hold_worker(const struct worker *w);
void host_confgen_drop(struct host_confgen *g);

/* ---- for the reload itself (host/reload.c) ---- */

/* Starts a generation holding cfg (moved into it: freed with the generation), and returns
 * where the configuration now is; host_relisten calls write into it until
 * host_confgen_publish. */
const struct config *host_confgen_begin(struct daemon *d, struct config *cfg);
/* Makes the generation begun the newest and posts it to every worker. */
void host_confgen_publish(struct daemon *d);
/* At exit, after the workers' loops ran what was posted to them: drops every reference. */
void host_confgen_release_all(struct daemon *d);

#endif
