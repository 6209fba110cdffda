/*
 * control — pigeond's control channel: a local socket DATA/pigeond.ctl (mode 0600, the
 * daemon's user) on the main thread's loop, through which `pigeon reload` asks for a reload
 * and waits for its outcome, and services take requests of their own (`pigeon dnssec nta`).
 *
 * The line protocol (pure, both sides) is host/control_proto.h; this file is its socket.
 */
#ifndef PIGEON_HOST_CONTROL_H
#define PIGEON_HOST_CONTROL_H

#include "core/reload_report.h"

struct event_base;
struct loop_post;
struct control;

/* Runs one reload on the main thread; report is where its parts report (see
 * core/reload_report.h), NULL for a plain SIGHUP. The function holds no reference past its
 * return unless it took one. */
typedef void (*control_reload_fn)(void *ctx, struct reload_report *report);

/* Runs one service request (control_proto.h: CONTROL_SERVICE) on the main thread: line is
 * the request (NUL-terminated, no LF); appends "note"/"error" lines to answer and returns
 * how many things failed, or -1 when no service takes the request. */
struct str;
typedef int (*control_service_fn)(void *ctx, const char *line, struct str *answer);

/* Listens on data_dir/pigeond.ctl on base (the main thread's loop; post is that loop's).
 * NULL after logging why (pigeond runs on; only the answers are lost, SIGHUP still works). */
struct control *control_open(struct event_base *base, struct loop_post *post,
                             const char *data_dir, control_reload_fn reload,
                             control_service_fn service, void *ctx);
/* Closes the socket and every client; call after post's queue ran (loop_post_free). */
void control_free(struct control *c);

#endif
