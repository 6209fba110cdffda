/*
 * control — pigeond's control channel: a local socket DATA/pigeond.ctl (mode 0600, the
 * daemon's user) on the main thread's loop, through which `pigeon reload` asks for a reload
 * and waits for its outcome.
 *
 * Protocol (one request per connection, lines end in LF):
 *   client: "reload"
 *   daemon: zero or more "note TEXT" / "error TEXT" lines (a zone's new serial, a zone that
 *           did not load and why, a configuration error as file:line), then "ok" when nothing
 *           failed or "failed N" (N failures), then closes.
 * Anything else gets "error unknown request" and "failed 1". Only root and the daemon's user
 * can connect, so no authentication beyond the file mode.
 */
#ifndef PIGEON_DAEMON_CONTROL_H
#define PIGEON_DAEMON_CONTROL_H

#include "core/reload_report.h"

struct event_base;
struct loop_post;
struct control;

/* Runs one reload on the main thread; report is where its parts report (see
 * core/reload_report.h), NULL for a plain SIGHUP. The function holds no reference past its
 * return unless it took one. */
typedef void (*control_reload_fn)(void *ctx, struct reload_report *report);

/* Listens on data_dir/pigeond.ctl on base (the main thread's loop; post is that loop's).
 * NULL after logging why (pigeond runs on; only the answers are lost, SIGHUP still works). */
struct control *control_open(struct event_base *base, struct loop_post *post,
                             const char *data_dir, control_reload_fn reload, void *ctx);
/* Closes the socket and every client; call after post's queue ran (loop_post_free). */
void control_free(struct control *c);

#endif
