/*
 * cache/store — the proxy cache's objects: an index in memory, one file per object on disk
 * (a short header, the primary key, the Vary secondary key, the stored response head, then
 * the body), small bodies also kept in memory. Byte budgets for memory and for disk, both
 * enforced by eviction (least recently used, or LFU: see enum cache_policy). Stored objects survive
 * a restart: opening the store rescans the object files (a file whose length disagrees with its
 * header, e.g. cut short by a crash, is removed).
 *
 * Files are written under DIR/tmp/ and renamed into DIR/objects/xx/ when complete (no fsync:
 * a cache may lose objects in a power cut, never serve a torn one). An object's file name is
 * a hash of its keys, so a newer response replaces the older one with that rename.
 *
 * Thread-safe: every worker shares one store (one mutex around the index; file writing and
 * reading happen outside it). Objects handed out are referenced until cache_obj_unref; their
 * fields never change (a 304 makes a new object that replaces the old one in the index).
 * Disk I/O is done by the caller's thread (small reads and writes of the worker).
 */
#ifndef PIGEON_CACHE_STORE_H
#define PIGEON_CACHE_STORE_H

#include "core/str.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct cache_store;
struct cache_writer;

/* What goes when the disk budget is full. LRU: the least recently used object. LFU: a
 * frequency sketch of every look-up (cache/sketch.h) decides — a new object is admitted only
 * if it was asked for more often than the object it would push out, which is the least
 * often asked for of the few least recently used (TinyLFU admission, sampled LFU eviction):
 * one-off requests then never push out popular objects. */
enum cache_policy { CACHE_LRU, CACHE_LFU };

struct cache_budget {
    uint64_t mem_bytes;      /* bodies kept in memory, all together */
    uint64_t disk_bytes;     /* object files, all together */
    uint64_t max_object;     /* a larger body is not stored */
    uint64_t mem_max_object; /* a larger body is served from its file only */
    enum cache_policy policy;
};

struct cache_obj {
    /* Read-only once handed out: */
    char *key;  /* primary key: the absolute URL */
    char *vary; /* secondary key (cache_vary_key), "" without Vary */
    int status;
    struct slice fields; /* the stored head: "Name: value\r\n" lines */
    time_t request_time, response_time;
    uint64_t body_len;
    uint64_t body_off; /* where the body starts in the file */
    /* The store's (under its lock): */
    char *blob;    /* key, vary, fields in one allocation */
    char *mem;     /* the body in memory, or NULL */
    char path[80]; /* objects/xx/<hash> under the store's directory */
    ino_t ino;
    uint64_t file_len;
    uint64_t hits;
    unsigned refs;
    bool dead; /* out of the index; freed at its last unref */
    struct cache_obj *lru_prev, *lru_next, *hnext;
};

struct cache_stats {
    uint64_t objects, mem_bytes, disk_bytes;
    uint64_t hits, misses, stored, evicted, purged;
    uint64_t refused; /* LFU: new objects not admitted (asked for less than the victim) */
};

/*
 * Opens (creating) the store in dir and loads what an earlier run left there. Returns NULL
 * with *err_out (static text) when dir cannot be used.
 */
struct cache_store *cache_store_open(const char *dir, const struct cache_budget *b,
                                     const char **err_out);
void cache_store_close(struct cache_store *s);

/*
 * The object stored for (key, vary). Referenced: give it back with cache_obj_unref. match is
 * called for each variant of key (under the store's lock: it must not call the store) and
 * returns true for the one that fits the request. Counts a hit or a miss.
 */
struct cache_obj *cache_store_lookup(struct cache_store *s, const char *key,
                                     bool (*match)(const struct cache_obj *o, void *arg),
                                     void *arg);
/* Whether key has any variant stored (no hit counted, no reference). */
bool cache_store_has(struct cache_store *s, const char *key);
void cache_obj_unref(struct cache_store *s, struct cache_obj *o);

/*
 * The body: *mem_out set (and the store's reference kept by o) when in memory; else opens
 * the object's file: returns the descriptor (the caller closes it) positioned nowhere, the
 * body at o->body_off. Returns -1 when the file is gone (purged or replaced meanwhile).
 */
int cache_obj_body(struct cache_store *s, struct cache_obj *o, const char **mem_out);

/* ---- writing ---- */

/* Starts an object; the body follows with cache_writer_write. NULL when the file cannot be
 * made. */
struct cache_writer *cache_writer_new(struct cache_store *s, const char *key, const char *vary,
                                      int status, struct slice fields, time_t request_time,
                                      time_t response_time);
/* Appends body bytes. A body that grows past max_object can no longer be stored, but is
 * still written to the temporary file, for the readers that follow it (a spool), up to
 * cache_store_spool_limit octets. Returns 0, or -1 once the body cannot be written on (past
 * the spool limit, a disk error): the writer then ignores further input and commit stores
 * nothing. */
int cache_writer_write(struct cache_writer *w, const void *p, size_t n);
/* The longest body a writer takes at all (the larger of the disk budget and max_object): a
 * response known to be longer is better not written. */
uint64_t cache_store_spool_limit(const struct cache_store *s);
/* A new read-only descriptor of the object's file while it is being written (readers of a
 * collapsed fetch follow it as it grows; it stays readable after the commit's rename or an
 * abort's unlink): the caller closes it. The body starts at *body_off_out. -1 on failure. */
int cache_writer_reader(struct cache_writer *w, uint64_t *body_off_out);
/* Body octets written so far. */
uint64_t cache_writer_body_len(const struct cache_writer *w);
/* Finishes: renames the file into place, indexes it (replacing the older variant), evicts
 * to the budgets. Returns the new object referenced (unref it), or NULL when nothing was
 * stored. Frees w. */
struct cache_obj *cache_writer_commit(struct cache_writer *w);
/* Drops the temporary file. Frees w. */
void cache_writer_abort(struct cache_writer *w);

/*
 * Replaces o's head after a 304 (fields, times), keeping its body: a new file with the new
 * head and the old body is renamed over the old one. Returns the new object referenced, or
 * NULL (then o stays). o keeps its own reference.
 */
struct cache_obj *cache_store_refresh(struct cache_store *s, struct cache_obj *o,
                                      struct slice fields, time_t request_time,
                                      time_t response_time);

/* Removes every variant of key (prefix false) or of every key starting with it. Returns how
 * many objects went. */
unsigned cache_store_purge(struct cache_store *s, const char *key, bool prefix);

void cache_store_stats(struct cache_store *s, struct cache_stats *out);

#endif
