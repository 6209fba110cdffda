/*
 * snapshot — the keys of a configuration file as written, so that a reload can say which
 * keys changed since the running configuration was read, and which of those it applies.
 *
 * A snapshot holds, per (section, key), every value written for it, joined in file order
 * (a repeated key such as listen is one entry). It is compared as text: a key written with
 * its default value differs from a key left out. Reads the file through core/ini; no other
 * I/O. Values are kept only to compare: callers never print them (they may be secrets).
 */
#ifndef PIGEON_CONF_SNAPSHOT_H
#define PIGEON_CONF_SNAPSHOT_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>

struct config;
struct conf_snapshot;

/* Built while the file is read (config_load feeds every key line it parses): new, add each
 * key line in file order, seal once at the end. */
struct conf_snapshot *conf_snapshot_new(void);
void conf_snapshot_add(struct conf_snapshot *s, const char *section, const char *key,
                       const char *value);
void conf_snapshot_seal(struct conf_snapshot *s);
/* From a text in memory (name is used in messages): 0 and *out, or < 0 with
 * "name:line: reason". */
int conf_snapshot_parse(const char *name, const char *text, size_t len,
                        struct conf_snapshot **out, struct str *err);
void conf_snapshot_free(struct conf_snapshot *s); /* NULL: nothing */

/* fn(arg, section, key) once for each key whose values differ between a and b, or that only
 * one of them has; sorted by section, then key. */
typedef void (*conf_diff_fn)(void *arg, const char *section, const char *key);
void conf_snapshot_diff(const struct conf_snapshot *a, const struct conf_snapshot *b,
                        conf_diff_fn fn, void *arg);

/* Whether a reload applies a change of `key` in `section` ("zone example.org" for an
 * argument section) under cfg's declarations: the built-in sections' table here, a declared
 * section's reload_keys. Everything else needs a restart. */
bool conf_key_reloads(const struct config *cfg, const char *section, const char *key);

/* Why a change of `key` in `section` that a reload does not apply needs a restart: the
 * section's own restart_why, the built-in sections' reasons here, or the general ones (a
 * listen address; "read once when the service starts"). A static string, never NULL. */
const char *conf_key_restart_why(const struct config *cfg, const char *section, const char *key);

#endif
