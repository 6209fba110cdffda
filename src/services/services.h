/*
 * services — the registry: every service pigeond can run, in start order. The daemon runs
 * their hooks (host/host.h, struct service_def); the daemon and the `pigeon` tool load the
 * configuration with their sections (services_sections). Adding a service is one line in
 * services.c.
 */
#ifndef PIGEON_SERVICES_SERVICES_H
#define PIGEON_SERVICES_SERVICES_H

#include "conf/config.h"
#include "host/host.h"

/* The registry, NULL-terminated. */
extern const struct service_def *const services_all[];

/* Fills out with every service's config sections, NULL-terminated: the `declared` list of
 * config_load(). */
void services_sections(const struct conf_section *out[HOST_MAX_SERVICES + 1]);

#endif
