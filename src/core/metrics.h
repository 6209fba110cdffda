/*
 * metrics — named process-wide counters for the Prometheus text format (served by the HTTP
 * service's [metrics] listener). A counter is a static struct in the module that counts; the
 * first bump links it into the registry, so an idle subsystem simply does not appear.
 * Bumping is one relaxed atomic add: safe from any thread, never blocks.
 *
 *     static struct metric smtp_accepted = METRIC("pigeon_smtp_messages_accepted_total",
 *                                                 "Messages accepted by SMTP");
 *     metric_inc(&smtp_accepted);
 *
 * A name may carry labels ("pigeon_http_responses_total{code=\"2xx\"}"); HELP and TYPE are
 * written once per base name. The registry is the one process-wide list: counters describe the
 * process, not a session. No I/O.
 */
#ifndef PIGEON_CORE_METRICS_H
#define PIGEON_CORE_METRICS_H

#include "core/str.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct metric {
    const char *name;
    const char *help;
    bool gauge;
    atomic_uint_fast64_t value;
    atomic_bool linked;
    struct metric *_Atomic next;
};

#define METRIC(name, help) {(name), (help), false, 0, false, NULL}
#define METRIC_GAUGE(name, help) {(name), (help), true, 0, false, NULL}

void metric_add(struct metric *m, uint64_t n);
static inline void metric_inc(struct metric *m)
{
    metric_add(m, 1);
}
/* Gauges: set to a value / move by delta. */
void metric_set(struct metric *m, uint64_t v);
void metric_sub(struct metric *m, uint64_t n);

/* Appends every registered metric in the Prometheus text exposition format (version 0.0.4),
 * sorted by name so that a metric's samples stay together. */
void metrics_render(struct str *out);

#endif
