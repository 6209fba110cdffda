/* cache/store internals shared by store.c (index, budgets) and store_file.c (file format). */
#ifndef PIGEON_CACHE_STORE_INT_H
#define PIGEON_CACHE_STORE_INT_H

#include "cache/sketch.h"
#include "cache/store.h"

#include <pthread.h>

#define CACHE_BUCKETS 4096
#define CACHE_MAGIC "PGC1"

struct cache_store {
    pthread_mutex_t lock;
    int dirfd; /* the store's directory */
    struct cache_budget b;
    struct cache_obj *buckets[CACHE_BUCKETS];
    struct cache_obj *lru_head, *lru_tail; /* most recent first */
    struct cache_stats st;
    uint64_t tmp_seq;
    struct cache_sketch *sketch; /* LFU: look-ups per key; NULL for LRU */
};

/* The object file name for (key, vary): "objects/xx/<16 hex>". */
void cache_obj_path(const char *key, const char *vary, char out[80]);
/* A new object (refs 0, not indexed) holding copies of the keys and fields. */
struct cache_obj *cache_obj_make(const char *key, const char *vary, int status, struct slice fields,
                                 time_t request_time, time_t response_time);
void cache_obj_free(struct cache_obj *o);

/* The first line of o's file (body length in fixed width). Returns its length, or -1. */
int cache_file_head_line(const struct cache_obj *o, char *line, size_t cap);
/* Writes the header of an object file to fd. Returns its length, or -1. */
long cache_file_write_head(int fd, const struct cache_obj *o);
/* Reads an object file's header (fd at offset 0) into a new object; NULL if malformed. */
struct cache_obj *cache_file_read_head(int fd, uint64_t file_len);

/* Indexes o (under the lock), replacing an object at the same path; counts its bytes. */
void cache_index_insert(struct cache_store *s, struct cache_obj *o);
/* Evicts least recently used objects until both budgets hold (under the lock). */
void cache_index_evict(struct cache_store *s);
/* Loads every object file under objects/ (at open, before any other thread). */
void cache_store_scan(struct cache_store *s);

#endif
